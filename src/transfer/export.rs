//! `newsdesk export`: the whole newsroom as NDJSON (see [`super`] for the format),
//! written as it is read, in one read transaction (a consistent snapshot).

use std::collections::HashMap;
use std::io::Write;

use base64::Engine;
use diesel::prelude::*;
use indicatif::ProgressBar;
use serde_json::{Map, Value, json};

use crate::db::DbConn;
use crate::domain::time::Timestamp;
use crate::error::{AppError, AppResult};
use crate::files::{FileName, Files};
use crate::schema::{
    article_authors, article_corrections, article_regions, article_revisions, article_tags,
    articles, authors, breaking_items, collection_articles, collections, media, old_slugs, regions,
    sections, tags, users,
};

/// What to put in beyond the content.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExportOptions {
    /// Uploaded images' files, base64 in their media records.
    pub with_files: bool,
    /// Users' password hashes (so they sign in with the same passwords).
    pub with_credentials: bool,
}

/// Records written, by kind.
#[derive(Debug, Default)]
pub struct ExportSummary {
    pub counts: Vec<(&'static str, u64)>,
}

impl ExportSummary {
    fn add(&mut self, kind: &'static str) {
        match self.counts.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, n)) => *n += 1,
            None => self.counts.push((kind, 1)),
        }
    }

    /// Every record but the header.
    pub fn total(&self) -> u64 {
        self.counts.iter().map(|(_, n)| n).sum()
    }
}

/// Articles read per query.
const PAGE: i64 = 1_000;

struct Out<'a> {
    out: &'a mut dyn Write,
    summary: ExportSummary,
    bar: &'a ProgressBar,
}

impl Out<'_> {
    fn line(&mut self, kind: &'static str, record: Value) -> AppResult<()> {
        serde_json::to_writer(&mut *self.out, &record)
            .map_err(|e| AppError::Internal(format!("cannot write the export: {e}")))?;
        self.out
            .write_all(b"\n")
            .map_err(|e| AppError::Internal(format!("cannot write the export: {e}")))?;
        self.summary.add(kind);
        if kind == "article" {
            self.bar.inc(1);
        }
        Ok(())
    }
}

fn ts(t: chrono::NaiveDateTime) -> Value {
    json!(Timestamp(t).to_rfc3339())
}

fn opt_ts(t: Option<chrono::NaiveDateTime>) -> Value {
    t.map_or(Value::Null, ts)
}

fn localized(text: &str) -> Value {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(m)) if !m.is_empty() => Value::Object(m),
        _ => Value::Null,
    }
}

/// Writes the header and every record to `out`. `files` is needed with `with_files`.
pub fn export(
    conn: &mut DbConn,
    out: &mut dyn Write,
    options: ExportOptions,
    files: Option<&Files>,
    bar: &ProgressBar,
) -> AppResult<ExportSummary> {
    let total_articles: i64 = articles::table.count().get_result(conn)?;
    bar.set_length(total_articles as u64);
    let mut o = Out {
        out,
        summary: ExportSummary::default(),
        bar,
    };
    let header = json!({
        "type": super::FORMAT,
        "version": super::VERSION,
        "export_id": crate::auth::secrets::random_token(""),
        "exported_at": Timestamp::now().to_rfc3339(),
        "generator": format!("newsdesk {}", env!("CARGO_PKG_VERSION")),
        "with_files": options.with_files,
        "with_credentials": options.with_credentials,
    });
    serde_json::to_writer(&mut *o.out, &header)
        .map_err(|e| AppError::Internal(format!("cannot write the export: {e}")))?;
    o.out
        .write_all(b"\n")
        .map_err(|e| AppError::Internal(format!("cannot write the export: {e}")))?;

    let emails = users_(conn, &mut o, options)?;
    media_(conn, &mut o, options, files)?;
    let author_slugs = authors_(conn, &mut o)?;
    let region_slugs = simple(conn, &mut o, "region")?;
    let tag_slugs = simple(conn, &mut o, "tag")?;
    let section_slugs = sections_(conn, &mut o)?;
    let slugs = Names {
        emails,
        authors: author_slugs,
        regions: region_slugs,
        tags: tag_slugs,
        sections: section_slugs,
    };
    articles_(conn, &mut o, &slugs)?;
    collections_(conn, &mut o)?;
    breaking_(conn, &mut o)?;
    o.out
        .flush()
        .map_err(|e| AppError::Internal(format!("cannot write the export: {e}")))?;
    Ok(o.summary)
}

struct Names {
    emails: HashMap<i32, String>,
    authors: HashMap<i32, String>,
    regions: HashMap<i32, String>,
    tags: HashMap<i32, String>,
    sections: HashMap<i32, String>,
}

fn users_(
    conn: &mut DbConn,
    o: &mut Out<'_>,
    options: ExportOptions,
) -> AppResult<HashMap<i32, String>> {
    type Row = (
        i32,
        String,
        String,
        String,
        String,
        bool,
        chrono::NaiveDateTime,
        chrono::NaiveDateTime,
    );
    let rows: Vec<Row> = users::table
        .order(users::id)
        .select((
            users::id,
            users::email,
            users::name,
            users::role,
            users::password_hash,
            users::disabled,
            users::created_at,
            users::updated_at,
        ))
        .load(conn)?;
    let mut emails = HashMap::new();
    for (id, email, name, role, hash, disabled, created, updated) in rows {
        let mut record = json!({
            "type": "user",
            "data": {"email": email, "name": name, "role": role, "disabled": disabled},
            "created_at": ts(created),
            "updated_at": ts(updated),
        });
        if options.with_credentials {
            record["password_hash"] = json!(hash);
        }
        o.line("user", record)?;
        emails.insert(id, email);
    }
    Ok(emails)
}

fn media_(
    conn: &mut DbConn,
    o: &mut Out<'_>,
    options: ExportOptions,
    files: Option<&Files>,
) -> AppResult<()> {
    let runtime = if options.with_files {
        Some(
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| AppError::Internal(format!("cannot start: {e}")))?,
        )
    } else {
        None
    };
    let ids: Vec<i32> = media::table.order(media::id).select(media::id).load(conn)?;
    for chunk in ids.chunks(PAGE as usize) {
        let rows: Vec<crate::domain::media::MediaRow> = media::table
            .filter(media::id.eq_any(chunk))
            .order(media::id)
            .select(crate::domain::media::MediaRow::as_select())
            .load(conn)?;
        for m in rows {
            let mut data = Map::new();
            data.insert("kind".into(), json!(m.kind));
            data.insert("url".into(), json!(m.url));
            for (k, v) in [
                ("mime_type", json!(m.mime_type)),
                ("width", json!(m.width)),
                ("height", json!(m.height)),
                ("duration_seconds", json!(m.duration_seconds)),
                ("caption", json!(m.caption)),
                ("credit", json!(m.credit)),
                ("alt_text", json!(m.alt_text)),
                ("localized", localized(&m.localized)),
            ] {
                if !v.is_null() {
                    data.insert(k.into(), v);
                }
            }
            data.insert("language".into(), json!(m.language));
            if let (Some(x), Some(y)) = (m.focal_x, m.focal_y) {
                data.insert("focal_point".into(), json!({"x": x, "y": y}));
            }
            let mut record = json!({
                "type": "media",
                "key": m.id.to_string(),
                "data": Value::Object(data),
                "created_at": ts(m.created_at),
                "updated_at": ts(m.updated_at),
            });
            if let Some(sha) = &m.sha256 {
                record["stored"] = json!({
                    "sha256": sha,
                    "bytes": m.bytes,
                    "dominant_color": m.dominant_color,
                    "placeholder": m.placeholder,
                    "renditions": serde_json::from_str::<Value>(&m.renditions).unwrap_or(Value::Null),
                });
                if let (Some(rt), Some(files)) = (&runtime, files) {
                    let ext = m
                        .mime_type
                        .as_deref()
                        .and_then(crate::files::ext_of)
                        .unwrap_or("bin");
                    let name = FileName::original(sha, ext);
                    let fetched = rt.block_on(files.get(&name, None)).map_err(|e| {
                        AppError::Internal(format!("media {}: cannot read its file: {e}", m.id))
                    })?;
                    record["file"] =
                        json!(base64::engine::general_purpose::STANDARD.encode(&fetched.bytes));
                }
            }
            o.line("media", record)?;
        }
    }
    Ok(())
}

fn authors_(conn: &mut DbConn, o: &mut Out<'_>) -> AppResult<HashMap<i32, String>> {
    type Row = (
        i32,
        String,
        String,
        Option<String>,
        Option<i32>,
        String,
        String,
        chrono::NaiveDateTime,
        chrono::NaiveDateTime,
    );
    let rows: Vec<Row> = authors::table
        .order(authors::id)
        .select((
            authors::id,
            authors::slug,
            authors::name,
            authors::bio,
            authors::avatar_media_id,
            authors::links,
            authors::localized,
            authors::created_at,
            authors::updated_at,
        ))
        .load(conn)?;
    let mut slugs = HashMap::new();
    for (id, slug, name, bio, avatar, links, loc, created, updated) in rows {
        let mut data = json!({"slug": slug, "name": name});
        if bio.is_some() {
            data["bio"] = json!(bio);
        }
        if let Some(a) = avatar {
            data["avatar_media_id"] = json!(a.to_string());
        }
        if let Ok(Value::Object(l)) = serde_json::from_str::<Value>(&links)
            && !l.is_empty()
        {
            data["links"] = Value::Object(l);
        }
        let loc = localized(&loc);
        if !loc.is_null() {
            data["localized"] = loc;
        }
        let old = old_slugs_of(conn, "author", id)?;
        o.line(
            "author",
            json!({"type": "author", "data": data, "created_at": ts(created),
                   "updated_at": ts(updated), "old_slugs": old}),
        )?;
        slugs.insert(id, slug);
    }
    Ok(slugs)
}

fn old_slugs_of(conn: &mut DbConn, kind: &str, id: i32) -> AppResult<Vec<String>> {
    Ok(old_slugs::table
        .filter(old_slugs::kind.eq(kind))
        .filter(old_slugs::target_id.eq(id))
        .order(old_slugs::created_at)
        .select(old_slugs::slug)
        .load(conn)?)
}

/// Regions and tags: slug, name, (description), localized.
fn simple(
    conn: &mut DbConn,
    o: &mut Out<'_>,
    kind: &'static str,
) -> AppResult<HashMap<i32, String>> {
    type Row = (
        i32,
        String,
        String,
        Option<String>,
        String,
        chrono::NaiveDateTime,
        chrono::NaiveDateTime,
    );
    let rows: Vec<Row> = if kind == "tag" {
        tags::table
            .order(tags::id)
            .select((
                tags::id,
                tags::slug,
                tags::name,
                tags::description,
                tags::localized,
                tags::created_at,
                tags::updated_at,
            ))
            .load(conn)?
    } else {
        regions::table
            .order(regions::id)
            .select((
                regions::id,
                regions::slug,
                regions::name,
                None::<String>.into_sql::<diesel::sql_types::Nullable<diesel::sql_types::Text>>(),
                regions::localized,
                regions::created_at,
                regions::updated_at,
            ))
            .load(conn)?
    };
    let mut slugs = HashMap::new();
    for (id, slug, name, description, loc, created, updated) in rows {
        let mut data = json!({"slug": slug, "name": name});
        if description.is_some() {
            data["description"] = json!(description);
        }
        let loc = localized(&loc);
        if !loc.is_null() {
            data["localized"] = loc;
        }
        let old = old_slugs_of(conn, kind, id)?;
        o.line(
            kind,
            json!({"type": kind, "data": data, "created_at": ts(created),
                   "updated_at": ts(updated), "old_slugs": old}),
        )?;
        slugs.insert(id, slug);
    }
    Ok(slugs)
}

fn sections_(conn: &mut DbConn, o: &mut Out<'_>) -> AppResult<HashMap<i32, String>> {
    type Row = (
        i32,
        String,
        String,
        Option<i32>,
        i32,
        Option<String>,
        String,
        chrono::NaiveDateTime,
        chrono::NaiveDateTime,
    );
    let rows: Vec<Row> = sections::table
        .order(sections::id)
        .select((
            sections::id,
            sections::slug,
            sections::name,
            sections::parent_id,
            sections::position,
            sections::description,
            sections::localized,
            sections::created_at,
            sections::updated_at,
        ))
        .load(conn)?;
    let slugs: HashMap<i32, String> = rows.iter().map(|r| (r.0, r.1.clone())).collect();
    // Parents first: by depth, then by id.
    let parents: HashMap<i32, Option<i32>> = rows.iter().map(|r| (r.0, r.3)).collect();
    let depth = |mut id: i32| {
        let mut d = 0;
        while let Some(Some(p)) = parents.get(&id) {
            d += 1;
            id = *p;
            if d > 64 {
                break;
            }
        }
        d
    };
    let mut ordered: Vec<&Row> = rows.iter().collect();
    ordered.sort_by_key(|r| (depth(r.0), r.0));
    for (id, slug, name, parent, position, description, loc, created, updated) in ordered {
        let mut data = json!({"slug": slug, "name": name, "position": position});
        if let Some(p) = parent.and_then(|p| slugs.get(&p)) {
            data["parent"] = json!(p);
        }
        if description.is_some() {
            data["description"] = json!(description);
        }
        let loc = localized(loc);
        if !loc.is_null() {
            data["localized"] = loc;
        }
        let old = old_slugs_of(conn, "section", *id)?;
        o.line(
            "section",
            json!({"type": "section", "data": data, "created_at": ts(*created),
                   "updated_at": ts(*updated), "old_slugs": old}),
        )?;
    }
    Ok(slugs)
}

type ArticleRow = (
    (
        i32,
        String,
        String,
        String,
        Option<String>,
        Option<i32>,
        Option<String>,
        Option<i32>,
        bool,
        String,
    ),
    (
        Option<chrono::NaiveDateTime>,
        Option<i32>,
        chrono::NaiveDateTime,
        chrono::NaiveDateTime,
        String,
        Option<i32>,
        Option<chrono::NaiveDateTime>,
        Option<chrono::NaiveDateTime>,
    ),
);

fn relation(conn: &mut DbConn, kind: &str, ids: &[i32]) -> AppResult<HashMap<i32, Vec<i32>>> {
    let rows: Vec<(i32, i32, i32)> = match kind {
        "tag" => article_tags::table
            .filter(article_tags::article_id.eq_any(ids))
            .select((
                article_tags::article_id,
                article_tags::tag_id,
                article_tags::position,
            ))
            .load(conn)?,
        "author" => article_authors::table
            .filter(article_authors::article_id.eq_any(ids))
            .select((
                article_authors::article_id,
                article_authors::author_id,
                article_authors::position,
            ))
            .load(conn)?,
        _ => article_regions::table
            .filter(article_regions::article_id.eq_any(ids))
            .select((
                article_regions::article_id,
                article_regions::region_id,
                article_regions::position,
            ))
            .load(conn)?,
    };
    let mut sorted = rows;
    sorted.sort_by_key(|(a, _, p)| (*a, *p));
    let mut out: HashMap<i32, Vec<i32>> = HashMap::new();
    for (a, x, _) in sorted {
        out.entry(a).or_default().push(x);
    }
    Ok(out)
}

fn articles_(conn: &mut DbConn, o: &mut Out<'_>, names: &Names) -> AppResult<()> {
    // The first edition of each translation group, which the others name.
    let firsts: Vec<(Option<i32>, Option<i32>)> = articles::table
        .filter(articles::translation_group.is_not_null())
        .group_by(articles::translation_group)
        .select((articles::translation_group, diesel::dsl::min(articles::id)))
        .load(conn)?;
    let first_of: HashMap<i32, i32> = firsts
        .into_iter()
        .filter_map(|(g, a)| Some((g?, a?)))
        .collect();
    let mut slug_of: HashMap<i32, String> = HashMap::new();
    let mut after = 0;
    loop {
        let rows: Vec<ArticleRow> = articles::table
            .filter(articles::id.gt(after))
            .order(articles::id)
            .limit(PAGE)
            .select((
                (
                    articles::id,
                    articles::slug,
                    articles::language,
                    articles::title,
                    articles::summary,
                    articles::section_id,
                    articles::source,
                    articles::hero_media_id,
                    articles::featured,
                    articles::status,
                ),
                (
                    articles::published_at,
                    articles::created_by,
                    articles::created_at,
                    articles::updated_at,
                    articles::body,
                    articles::translation_group,
                    articles::unpublish_at,
                    articles::deleted_at,
                ),
            ))
            .load(conn)?;
        let Some(last) = rows.last() else { break };
        after = last.0.0;
        let ids: Vec<i32> = rows.iter().map(|r| r.0.0).collect();
        let tags_of = relation(conn, "tag", &ids)?;
        let authors_of = relation(conn, "author", &ids)?;
        let regions_of = relation(conn, "region", &ids)?;
        let corrections: Vec<(i32, String, chrono::NaiveDateTime)> = article_corrections::table
            .filter(article_corrections::article_id.eq_any(&ids))
            .order(article_corrections::id)
            .select((
                article_corrections::article_id,
                article_corrections::text,
                article_corrections::created_at,
            ))
            .load(conn)?;
        let olds: Vec<(i32, String)> = old_slugs::table
            .filter(old_slugs::kind.eq("article"))
            .filter(old_slugs::target_id.eq_any(&ids))
            .order(old_slugs::created_at)
            .select((old_slugs::target_id, old_slugs::slug))
            .load(conn)?;
        type Rev = (
            i32,
            i32,
            chrono::NaiveDateTime,
            Option<i32>,
            Option<String>,
            String,
            String,
            Option<Vec<u8>>,
        );
        let revisions: Vec<Rev> = article_revisions::table
            .filter(article_revisions::article_id.eq_any(&ids))
            .order((article_revisions::article_id, article_revisions::number))
            .select((
                article_revisions::article_id,
                article_revisions::number,
                article_revisions::created_at,
                article_revisions::author_id,
                article_revisions::author_name,
                article_revisions::summary,
                article_revisions::fields,
                article_revisions::body,
            ))
            .load(conn)?;
        let mut corrections_of: HashMap<i32, Vec<(String, chrono::NaiveDateTime)>> = HashMap::new();
        for (a, text, at) in corrections {
            corrections_of.entry(a).or_default().push((text, at));
        }
        let mut olds_of: HashMap<i32, Vec<String>> = HashMap::new();
        for (a, slug) in olds {
            olds_of.entry(a).or_default().push(slug);
        }
        let mut revisions_of: HashMap<i32, Vec<Rev>> = HashMap::new();
        for r in revisions {
            revisions_of.entry(r.0).or_default().push(r);
        }
        let slugs_in = |map: &HashMap<i32, String>, ids: Option<&Vec<i32>>| -> Vec<String> {
            ids.into_iter()
                .flatten()
                .filter_map(|i| map.get(i).cloned())
                .collect()
        };
        for (
            (id, slug, language, title, summary, section, source, hero, featured, status),
            (published, created_by, created, updated, body, group, unpublish, deleted),
        ) in rows
        {
            let mut data = json!({
                "slug": slug, "language": language, "title": title, "body": body,
                "featured": featured, "status": status,
                "tags": slugs_in(&names.tags, tags_of.get(&id)),
                "authors": slugs_in(&names.authors, authors_of.get(&id)),
                "regions": slugs_in(&names.regions, regions_of.get(&id)),
            });
            for (k, v) in [
                ("summary", json!(summary)),
                ("source", json!(source)),
                ("published_at", opt_ts(published)),
                ("unpublish_at", opt_ts(unpublish)),
                (
                    "section",
                    json!(section.and_then(|s| names.sections.get(&s))),
                ),
                ("hero_media_id", json!(hero.map(|h| h.to_string()))),
                (
                    "translation_of",
                    json!(
                        group
                            .and_then(|g| first_of.get(&g))
                            .filter(|first| **first != id)
                            .and_then(|first| slug_of.get(first))
                    ),
                ),
            ] {
                if !v.is_null() {
                    data[k] = v;
                }
            }
            let old = olds_of.remove(&id).unwrap_or_default();
            let mut record = json!({
                "type": "article", "data": data,
                "created_at": ts(created), "updated_at": ts(updated),
                "created_by": created_by.and_then(|u| names.emails.get(&u)),
                "old_slugs": old,
            });
            if let Some(d) = deleted {
                record["deleted_at"] = ts(d);
            }
            o.line("article", record)?;
            for (text, at) in corrections_of.remove(&id).unwrap_or_default() {
                o.line(
                    "correction",
                    json!({"type": "correction", "article": slug, "data": {"text": text},
                           "created_at": ts(at)}),
                )?;
            }
            for (_, number, at, author, author_name, summary, fields, body) in
                revisions_of.remove(&id).unwrap_or_default()
            {
                o.line(
                    "revision",
                    json!({
                        "type": "revision", "article": slug, "number": number,
                        "created_at": ts(at),
                        "author": author.and_then(|a| names.emails.get(&a)),
                        "author_name": author_name, "summary": summary,
                        "fields": serde_json::from_str::<Value>(&fields).unwrap_or(Value::Null),
                        "body": body.as_ref().map(|b| base64::engine::general_purpose::STANDARD.encode(b)),
                    }),
                )?;
            }
            slug_of.insert(id, slug);
        }
    }
    Ok(())
}

fn collections_(conn: &mut DbConn, o: &mut Out<'_>) -> AppResult<()> {
    type Row = (
        i32,
        String,
        String,
        Option<String>,
        String,
        Option<i32>,
        String,
        chrono::NaiveDateTime,
        chrono::NaiveDateTime,
    );
    let rows: Vec<Row> = collections::table
        .order(collections::id)
        .select((
            collections::id,
            collections::slug,
            collections::name,
            collections::description,
            collections::language,
            collections::hero_media_id,
            collections::localized,
            collections::created_at,
            collections::updated_at,
        ))
        .load(conn)?;
    for (id, slug, name, description, language, hero, loc, created, updated) in rows {
        let places: Vec<(String, bool)> = collection_articles::table
            .inner_join(articles::table)
            .filter(collection_articles::collection_id.eq(id))
            .order(collection_articles::position)
            .select((articles::slug, collection_articles::pinned))
            .load(conn)?;
        let mut data = json!({
            "slug": slug, "name": name, "language": language,
            "articles": places.iter().map(|p| &p.0).collect::<Vec<_>>(),
            "pinned": places.iter().filter(|p| p.1).map(|p| &p.0).collect::<Vec<_>>(),
        });
        if description.is_some() {
            data["description"] = json!(description);
        }
        if let Some(h) = hero {
            data["hero_media_id"] = json!(h.to_string());
        }
        let loc = localized(&loc);
        if !loc.is_null() {
            data["localized"] = loc;
        }
        let old = old_slugs_of(conn, "collection", id)?;
        o.line(
            "collection",
            json!({"type": "collection", "data": data, "created_at": ts(created),
                   "updated_at": ts(updated), "old_slugs": old}),
        )?;
    }
    Ok(())
}

fn breaking_(conn: &mut DbConn, o: &mut Out<'_>) -> AppResult<()> {
    type Row = (
        String,
        String,
        Option<String>,
        Option<String>,
        i32,
        chrono::NaiveDateTime,
        Option<chrono::NaiveDateTime>,
        chrono::NaiveDateTime,
        chrono::NaiveDateTime,
    );
    let rows: Vec<Row> = breaking_items::table
        .left_join(articles::table)
        .order(breaking_items::id)
        .select((
            breaking_items::text,
            breaking_items::language,
            articles::slug.nullable(),
            breaking_items::url,
            breaking_items::priority,
            breaking_items::published_at,
            breaking_items::expires_at,
            breaking_items::created_at,
            breaking_items::updated_at,
        ))
        .load(conn)?;
    for (text, language, article, url, priority, published, expires, created, updated) in rows {
        let mut data = json!({
            "text": text, "language": language, "priority": priority,
            "published_at": ts(published),
        });
        if article.is_some() {
            data["article"] = json!(article);
        } else if url.is_some() {
            data["url"] = json!(url);
        }
        if expires.is_some() {
            data["expires_at"] = opt_ts(expires);
        }
        o.line(
            "breaking",
            json!({"type": "breaking", "data": data, "created_at": ts(created),
                   "updated_at": ts(updated)}),
        )?;
    }
    Ok(())
}
