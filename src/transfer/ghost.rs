//! Reading a Ghost export (the JSON file from Settings → Advanced → Import/Export, Ghost
//! 4 and 5, with or without the outer `db` array) into import records (see [`super`]):
//!
//! - users → authors (bylines): slug, name, bio;
//! - public tags → tags (internal `#` tags are Ghost's own and left out);
//! - posts → articles: slug kept, `html` as the body (rendered and sanitized on
//!   import), `custom_excerpt` as the summary, tags and authors in their order,
//!   `featured`; `published` stays published at its time, `scheduled` stays scheduled,
//!   drafts stay drafts; the feature image becomes a media item with its caption (as
//!   text) and alt text, and the article's hero image.
//!
//! Pages, members, newsletters and settings are left out.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

/// Text without its HTML tags (a Ghost image caption is HTML).
fn plain(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .trim()
        .to_owned()
}

fn text(v: &Value) -> Option<String> {
    v.as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// A Ghost time (`2024-03-01T09:30:00.000Z`) in RFC 3339 with whole seconds.
fn time(v: &Value) -> Option<String> {
    let t = chrono::DateTime::parse_from_rfc3339(v.as_str()?).ok()?;
    Some(
        t.with_timezone(&chrono::Utc)
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string(),
    )
}

fn id(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Ghost's join tables (`posts_tags`, `posts_authors`): post id → the other ids in
/// `sort_order`.
fn joined(data: &Value, table: &str, other: &str) -> HashMap<String, Vec<String>> {
    let mut rows: Vec<(String, i64, String)> = data[table]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| {
            Some((
                id(&r["post_id"])?,
                r["sort_order"].as_i64().unwrap_or(0),
                id(&r[other])?,
            ))
        })
        .collect();
    rows.sort();
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for (post, _, x) in rows {
        out.entry(post).or_default().push(x);
    }
    out
}

/// The records of a Ghost export, in import order.
pub fn records(bytes: &[u8], languages: &[String]) -> Result<Vec<Value>, String> {
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
    let data = match (&doc["db"][0]["data"], &doc["data"]) {
        (Value::Object(_), _) => &doc["db"][0]["data"],
        (_, Value::Object(_)) => &doc["data"],
        _ => return Err("not a Ghost export: no db[0].data".into()),
    };
    if !data["posts"].is_array() {
        return Err("not a Ghost export: no posts".into());
    }
    let language = languages.first().cloned().unwrap_or_else(|| "en".into());
    let mut out = Vec::new();
    let mut author_slug: HashMap<String, String> = HashMap::new();
    for u in data["users"].as_array().into_iter().flatten() {
        let (Some(uid), Some(slug), Some(name)) =
            (id(&u["id"]), text(&u["slug"]), text(&u["name"]))
        else {
            continue;
        };
        let mut d = json!({"slug": slug, "name": name});
        if let Some(bio) = text(&u["bio"]) {
            d["bio"] = json!(bio);
        }
        let mut record = json!({"type": "author", "data": d});
        if let Some(t) = time(&u["created_at"]) {
            record["created_at"] = json!(t);
        }
        out.push(record);
        author_slug.insert(uid, slug);
    }
    let mut tag_slug: HashMap<String, String> = HashMap::new();
    for t in data["tags"].as_array().into_iter().flatten() {
        let (Some(tid), Some(slug), Some(name)) =
            (id(&t["id"]), text(&t["slug"]), text(&t["name"]))
        else {
            continue;
        };
        if name.starts_with('#') || t["visibility"] == "internal" {
            continue;
        }
        let mut d = json!({"slug": slug, "name": name});
        if let Some(desc) = text(&t["description"]) {
            d["description"] = json!(desc);
        }
        let mut record = json!({"type": "tag", "data": d});
        if let Some(t) = time(&t["created_at"]) {
            record["created_at"] = json!(t);
        }
        out.push(record);
        tag_slug.insert(tid, slug);
    }
    let tags_of = joined(data, "posts_tags", "tag_id");
    let authors_of = joined(data, "posts_authors", "author_id");
    let meta: HashMap<String, &Value> = data["posts_meta"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| Some((id(&m["post_id"])?, m)))
        .collect();
    for p in data["posts"].as_array().into_iter().flatten() {
        if p["type"].as_str().unwrap_or("post") != "post" {
            continue;
        }
        let Some(pid) = id(&p["id"]) else { continue };
        let title = text(&p["title"]).unwrap_or_else(|| "(untitled)".into());
        let mut d = Map::new();
        d.insert("title".into(), json!(title));
        d.insert("language".into(), json!(language));
        if let Some(s) = text(&p["slug"]) {
            d.insert("slug".into(), json!(s));
        }
        d.insert("body".into(), json!(p["html"].as_str().unwrap_or_default()));
        if let Some(e) = text(&p["custom_excerpt"]) {
            d.insert("summary".into(), json!(e));
        }
        d.insert(
            "featured".into(),
            json!(p["featured"] == json!(true) || p["featured"] == json!(1)),
        );
        let status = p["status"].as_str().unwrap_or("draft");
        let published = time(&p["published_at"]);
        if status == "published" || status == "scheduled" {
            d.insert("status".into(), json!("published"));
            if let Some(t) = &published {
                d.insert("published_at".into(), json!(t));
            }
        } else {
            d.insert("status".into(), json!("draft"));
        }
        let tags: Vec<&String> = tags_of
            .get(&pid)
            .into_iter()
            .flatten()
            .filter_map(|t| tag_slug.get(t))
            .collect();
        d.insert("tags".into(), json!(tags));
        let authors: Vec<&String> = authors_of
            .get(&pid)
            .into_iter()
            .flatten()
            .filter_map(|a| author_slug.get(a))
            .collect();
        let authors = if authors.is_empty() {
            // Ghost 1–2 exports name one author on the post.
            id(&p["author_id"])
                .and_then(|a| author_slug.get(&a))
                .into_iter()
                .collect()
        } else {
            authors
        };
        d.insert("authors".into(), json!(authors));
        if let Some(url) = text(&p["feature_image"]) {
            let m = meta.get(&pid).copied().unwrap_or(&Value::Null);
            let caption = text(&m["feature_image_caption"])
                .or_else(|| text(&p["feature_image_caption"]))
                .map(|c| plain(&c))
                .filter(|c| !c.is_empty());
            let alt = text(&m["feature_image_alt"]).or_else(|| text(&p["feature_image_alt"]));
            let key = format!("ghost-feature-image-{pid}");
            let mut md = json!({"kind": "image", "url": url, "language": language});
            if let Some(c) = caption {
                md["caption"] = json!(c);
            }
            if let Some(a) = alt {
                md["alt_text"] = json!(a);
            }
            let mut record = json!({"type": "media", "key": key, "data": md});
            if let Some(t) = time(&p["created_at"]) {
                record["created_at"] = json!(t);
            }
            out.push(record);
            d.insert("hero_media_id".into(), json!(key));
        }
        let mut record = json!({"type": "article", "data": Value::Object(d)});
        if let Some(t) = time(&p["created_at"]) {
            record["created_at"] = json!(t);
        }
        if let Some(t) = time(&p["updated_at"]) {
            record["updated_at"] = json!(t);
        }
        out.push(record);
    }
    if out.is_empty() {
        return Err("the Ghost export holds no users, tags or posts".into());
    }
    Ok(out)
}
