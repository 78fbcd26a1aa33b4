//! Reading a WordPress export (WXR: RSS 2.0 with the `wp:` elements, from Tools →
//! Export) into import records (see [`super`]):
//!
//! - `wp:author` → an author (byline), slug from the login, name from the display name;
//! - `wp:category` → a section, its parent kept (`wp:category_parent`);
//! - `wp:tag` → a tag;
//! - items of type `attachment` → media (image by URL, title as caption, the
//!   `_wp_attachment_image_alt` meta as alt text), keyed by post id;
//! - items of type `post` → articles: WordPress slug kept, `content:encoded` as the
//!   body (HTML, which Markdown keeps as HTML blocks; rendered and sanitized on import),
//!   `excerpt:encoded` as the summary, the first category as section, the post tags,
//!   `dc:creator` as byline, `_thumbnail_id` as hero image; `publish` stays published at
//!   its `post_date_gmt`, `future` stays scheduled, drafts, pending and private posts
//!   become drafts.
//!
//! Pages, menus, comments and other post types are left out (counted in the error of
//! nothing to import only when there is nothing else).

use std::collections::{HashMap, HashSet};

use quick_xml::events::{BytesStart, Event};
use serde_json::{Map, Value, json};

/// An element of the document: its name as written (`wp:post_id`), attributes, text
/// (CDATA included) and children.
#[derive(Debug, Default)]
struct Node {
    name: String,
    attrs: Vec<(String, String)>,
    text: String,
    children: Vec<Node>,
}

impl Node {
    fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The trimmed text of a child; `None` when missing or blank.
    fn text_of(&self, name: &str) -> Option<String> {
        self.child(name)
            .map(|c| c.text.trim().to_owned())
            .filter(|t| !t.is_empty())
    }

    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn open(e: &BytesStart) -> Result<Node, String> {
    let name = e.name().as_ref().to_owned();
    let mut attrs = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|e| format!("not well-formed XML: {e}"))?;
        let value = a
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| format!("not well-formed XML: {e}"))?;
        attrs.push((a.key.as_ref().to_owned(), value.into_owned()));
    }
    Ok(Node {
        name,
        attrs,
        ..Node::default()
    })
}

/// Parses the whole document into a tree.
fn parse(bytes: &[u8]) -> Result<Node, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8: {e}"))?;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut stack: Vec<Node> = vec![Node::default()];
    loop {
        let event = reader.read_event().map_err(|e| {
            format!(
                "not well-formed XML at byte {}: {e}",
                reader.buffer_position()
            )
        })?;
        match event {
            Event::Start(e) => stack.push(open(&e)?),
            Event::Empty(e) => {
                let node = open(&e)?;
                if let Some(parent) = stack.last_mut() {
                    parent.children.push(node);
                }
            }
            Event::End(_) => {
                let node = stack
                    .pop()
                    .ok_or("not well-formed XML: an end without a start")?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => return Err("not well-formed XML: an end without a start".into()),
                }
            }
            Event::Text(t) => {
                let raw = t.xml10_content();
                let text = quick_xml::escape::unescape(&raw)
                    .map_err(|e| format!("not well-formed XML: {e}"))?;
                if let Some(node) = stack.last_mut() {
                    node.text.push_str(&text);
                }
            }
            Event::GeneralRef(r) => {
                let entity = format!("&{};", r.into_inner());
                let text = quick_xml::escape::unescape(&entity)
                    .map_err(|e| format!("not well-formed XML: {e}"))?;
                if let Some(node) = stack.last_mut() {
                    node.text.push_str(&text);
                }
            }
            Event::CData(c) => {
                if let Some(node) = stack.last_mut() {
                    node.text.push_str(&c.into_inner());
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if stack.len() != 1 {
        return Err("not well-formed XML: an element is not closed".into());
    }
    stack.pop().ok_or_else(|| "empty document".into())
}

/// `2024-03-01 09:30:00` (UTC, as `*_gmt` fields are) → RFC 3339; the all-zero date
/// WordPress writes for never-published drafts → none.
pub(super) fn gmt(value: Option<String>) -> Option<String> {
    let value = value?;
    let t = chrono::NaiveDateTime::parse_from_str(&value, "%Y-%m-%d %H:%M:%S").ok()?;
    Some(t.and_utc().format("%Y-%m-%dT%H:%M:%SZ").to_string())
}

/// A WordPress slug as a newsdesk slug: percent-decoded (WordPress stores non-Latin
/// slugs percent-encoded), then made a slug like any name.
fn slug(value: &str) -> String {
    let decoded: String = percent_decode(value);
    if crate::domain::slug::is_valid(&decoded) {
        decoded
    } else {
        crate::domain::slug::slugify(&decoded, "item")
    }
}

fn percent_decode(s: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The records of a WXR file, in import order.
pub fn records(bytes: &[u8], languages: &[String]) -> Result<Vec<Value>, String> {
    let root = parse(bytes)?;
    let channel = root
        .child("rss")
        .and_then(|rss| rss.child("channel"))
        .ok_or("not a WordPress export: no <rss><channel>")?;
    if channel.child("wp:wxr_version").is_none() {
        return Err("not a WordPress export: no <wp:wxr_version>".into());
    }
    // The site's language (`en-US`) when it is configured, else the first configured.
    let base = languages.first().cloned().unwrap_or_else(|| "en".into());
    let language = channel
        .text_of("language")
        .map(|l| {
            l.split(['-', '_'])
                .next()
                .unwrap_or_default()
                .to_lowercase()
        })
        .filter(|l| languages.contains(l))
        .unwrap_or(base);

    let mut out = Vec::new();
    // Bylines.
    let mut authors: HashMap<String, String> = HashMap::new();
    for a in channel.all("wp:author") {
        let Some(login) = a.text_of("wp:author_login") else {
            continue;
        };
        let name = a
            .text_of("wp:author_display_name")
            .unwrap_or_else(|| login.clone());
        let s = slug(&login);
        out.push(json!({"type": "author", "data": {"slug": s, "name": name}}));
        authors.insert(login, s);
    }
    // Sections, parents first; tags.
    let mut sections: Vec<(String, String, Option<String>, Option<String>)> = Vec::new();
    for c in channel.all("wp:category") {
        let Some(nicename) = c.text_of("wp:category_nicename") else {
            continue;
        };
        let name = c.text_of("wp:cat_name").unwrap_or_else(|| nicename.clone());
        sections.push((
            slug(&nicename),
            name,
            c.text_of("wp:category_parent").map(|p| slug(&p)),
            c.text_of("wp:category_description"),
        ));
    }
    let mut tags: Vec<(String, String, Option<String>)> = channel
        .all("wp:tag")
        .filter_map(|t| {
            let s = t.text_of("wp:tag_slug")?;
            let name = t.text_of("wp:tag_name").unwrap_or_else(|| s.clone());
            Some((slug(&s), name, t.text_of("wp:tag_description")))
        })
        .collect();
    // Terms used by posts but not listed (partial exports).
    let items: Vec<&Node> = channel.all("item").collect();
    let mut known_sections: HashSet<String> = sections.iter().map(|s| s.0.clone()).collect();
    let mut known_tags: HashSet<String> = tags.iter().map(|t| t.0.clone()).collect();
    for item in &items {
        for c in item.all("category") {
            let (Some(domain), Some(nicename)) = (c.attr("domain"), c.attr("nicename")) else {
                continue;
            };
            let s = slug(nicename);
            let name = c.text.trim().to_owned();
            if domain == "category" && known_sections.insert(s.clone()) {
                sections.push((s, name, None, None));
            } else if domain == "post_tag" && known_tags.insert(s.clone()) {
                tags.push((s, name, None));
            }
        }
    }
    let mut placed: HashSet<String> = HashSet::new();
    let mut remaining = sections;
    while !remaining.is_empty() {
        let before = remaining.len();
        let mut next = Vec::new();
        for (s, name, parent, description) in remaining {
            let ready = parent
                .as_ref()
                .is_none_or(|p| placed.contains(p) || !known_sections.contains(p));
            if ready {
                let mut data = json!({"slug": s, "name": name});
                if let Some(p) = parent.filter(|p| placed.contains(p)) {
                    data["parent"] = json!(p);
                }
                if let Some(d) = description {
                    data["description"] = json!(d);
                }
                out.push(json!({"type": "section", "data": data}));
                placed.insert(s);
            } else {
                next.push((s, name, parent, description));
            }
        }
        if next.len() == before {
            // A cycle of parents: the rest go in at the top.
            for (s, name, _, _) in next {
                out.push(json!({"type": "section", "data": {"slug": s, "name": name}}));
            }
            break;
        }
        remaining = next;
    }
    for (s, name, description) in tags {
        let mut data = json!({"slug": s, "name": name});
        if let Some(d) = description {
            data["description"] = json!(d);
        }
        out.push(json!({"type": "tag", "data": data}));
    }
    // Images.
    let meta = |item: &Node, key: &str| {
        item.all("wp:postmeta")
            .find(|m| m.text_of("wp:meta_key").as_deref() == Some(key))
            .and_then(|m| m.text_of("wp:meta_value"))
    };
    let mut images: HashSet<String> = HashSet::new();
    for item in items
        .iter()
        .filter(|i| i.text_of("wp:post_type").as_deref() == Some("attachment"))
    {
        let (Some(id), Some(url)) = (
            item.text_of("wp:post_id"),
            item.text_of("wp:attachment_url")
                .or_else(|| item.text_of("guid")),
        ) else {
            continue;
        };
        let mut data = Map::new();
        data.insert("kind".into(), json!("image"));
        data.insert("url".into(), json!(url));
        data.insert("language".into(), json!(language));
        let caption = item
            .text_of("excerpt:encoded")
            .or_else(|| item.text_of("title"));
        if let Some(c) = caption {
            data.insert("caption".into(), json!(c));
        }
        if let Some(alt) = meta(item, "_wp_attachment_image_alt") {
            data.insert("alt_text".into(), json!(alt));
        }
        if let Some(mime) = item.text_of("wp:post_mime_type") {
            data.insert("mime_type".into(), json!(mime));
        }
        let mut record = json!({"type": "media", "key": id, "data": Value::Object(data)});
        if let Some(t) = gmt(item.text_of("wp:post_date_gmt")) {
            record["created_at"] = json!(t);
        }
        out.push(record);
        images.insert(id);
    }
    // Posts.
    for item in items
        .iter()
        .filter(|i| i.text_of("wp:post_type").as_deref() == Some("post"))
    {
        let title = item.text_of("title").unwrap_or_else(|| "(untitled)".into());
        let status = item.text_of("wp:status").unwrap_or_default();
        let published = gmt(item.text_of("wp:post_date_gmt"));
        let mut data = Map::new();
        data.insert("title".into(), json!(title));
        data.insert("language".into(), json!(language));
        if let Some(s) = item.text_of("wp:post_name") {
            data.insert("slug".into(), json!(slug(&s)));
        }
        data.insert(
            "body".into(),
            json!(
                item.child("content:encoded")
                    .map(|c| c.text.trim())
                    .unwrap_or_default()
            ),
        );
        if let Some(e) = item.text_of("excerpt:encoded") {
            data.insert("summary".into(), json!(e));
        }
        match status.as_str() {
            "publish" | "future" => {
                data.insert("status".into(), json!("published"));
                if let Some(p) = &published {
                    data.insert("published_at".into(), json!(p));
                }
            }
            _ => {
                data.insert("status".into(), json!("draft"));
            }
        }
        let mut section = None;
        let mut post_tags = Vec::new();
        for c in item.all("category") {
            match (c.attr("domain"), c.attr("nicename")) {
                (Some("category"), Some(n)) if section.is_none() => section = Some(slug(n)),
                (Some("post_tag"), Some(n)) => post_tags.push(slug(n)),
                _ => {}
            }
        }
        if let Some(s) = section {
            data.insert("section".into(), json!(s));
        }
        data.insert("tags".into(), json!(post_tags));
        if let Some(a) = item.text_of("dc:creator").and_then(|c| authors.get(&c)) {
            data.insert("authors".into(), json!([a]));
        }
        if let Some(thumb) = meta(item, "_thumbnail_id").filter(|t| images.contains(t)) {
            data.insert("hero_media_id".into(), json!(thumb));
        }
        let mut record = json!({"type": "article", "data": Value::Object(data)});
        if let Some(t) = published.clone() {
            record["created_at"] = json!(t);
        }
        if let Some(t) = gmt(item.text_of("wp:post_modified_gmt")) {
            record["updated_at"] = json!(t);
        }
        out.push(record);
    }
    if out.is_empty() {
        return Err("the WordPress export holds no authors, terms, images or posts".into());
    }
    Ok(out)
}
