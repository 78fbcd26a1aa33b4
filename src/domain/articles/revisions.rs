//! Revisions: every change to an article's stored fields keeps a copy of its editable
//! fields, with who made it. The create is revision 1.
//!
//! Stored compactly: the fields but the body as JSON, and the body (deflated) only in
//! the revisions that changed it, so ten title fixes of a long story cost ten small rows
//! and no body at all. A create stores no body either: while no revision has stored
//! one, every revision's body is the article's own. The first edit that changes the
//! body stores the old one in revision 1 before its own, and from then on a revision's
//! body is the newest one stored at or before it.

use std::io::Read;

use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Article, ArticleStatus, StoredStatus};
use crate::auth::Actor;
use crate::db::DbConn;
use crate::domain::input::Input;
use crate::domain::time::Timestamp;
use crate::error::{AppError, AppResult};
use crate::schema::{article_revisions, media, users};

/// An article's editable fields, as a revision keeps them (relations by slug).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RevisionFields {
    pub slug: String,
    pub language: String,
    pub title: String,
    pub summary: Option<String>,
    /// The Markdown body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Section slug.
    pub section: Option<String>,
    /// Region slugs.
    pub regions: Vec<String>,
    /// Tag slugs.
    pub tags: Vec<String>,
    /// Author slugs, in byline order.
    pub authors: Vec<String>,
    pub source: Option<String>,
    pub hero_media_id: Option<i32>,
    pub featured: bool,
    /// `draft` or `published` (as stored: a scheduled or expired article is published).
    pub status: StoredStatus,
    pub published_at: Option<Timestamp>,
    pub unpublish_at: Option<Timestamp>,
}

impl RevisionFields {
    /// The editable fields of `a` (read with its body).
    pub fn of(a: &Article) -> Self {
        let slugs = |refs: &[crate::domain::Ref]| refs.iter().map(|r| r.slug.clone()).collect();
        Self {
            slug: a.slug.clone(),
            language: a.language.clone(),
            title: a.title.clone(),
            summary: a.summary.clone(),
            body: a.body.clone(),
            section: a.section.as_ref().map(|s| s.slug.clone()),
            regions: slugs(&a.regions),
            tags: slugs(&a.tags),
            authors: a.authors.iter().map(|b| b.slug.clone()).collect(),
            source: a.source.clone(),
            hero_media_id: a.hero_media.as_ref().map(|m| m.id),
            featured: a.featured,
            status: match a.status {
                ArticleStatus::Draft => StoredStatus::Draft,
                _ => StoredStatus::Published,
            },
            published_at: a.published_at,
            unpublish_at: a.unpublish_at,
        }
    }

    /// The fields as a JSON object, `body` included.
    fn to_map(&self) -> serde_json::Map<String, serde_json::Value> {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(m)) => m,
            _ => serde_json::Map::new(),
        }
    }

    /// The PATCH that makes an article carry exactly these fields.
    pub fn as_patch(&self) -> super::write::ArticlePatch {
        fn opt<T>(v: Option<T>) -> Input<T> {
            v.map_or(Input::Null, Input::Value)
        }
        super::write::ArticlePatch {
            slug: Input::Value(self.slug.clone()),
            language: Input::Value(self.language.clone()),
            title: Input::Value(self.title.clone()),
            summary: opt(self.summary.clone()),
            body: Input::Value(self.body.clone().unwrap_or_default()),
            section: opt(self.section.clone()),
            regions: Input::Value(self.regions.clone()),
            tags: Input::Value(self.tags.clone()),
            authors: Input::Value(self.authors.clone()),
            source: opt(self.source.clone()),
            hero_media_id: opt(self.hero_media_id),
            featured: Input::Value(self.featured),
            status: Input::Value(self.status.as_str().to_owned()),
            published_at: opt(self.published_at),
            unpublish_at: opt(self.unpublish_at),
            ..Default::default()
        }
    }
}

/// The names of the editable fields, in the order a diff lists them.
const FIELD_ORDER: &[&str] = &[
    "slug",
    "language",
    "title",
    "summary",
    "body",
    "section",
    "regions",
    "tags",
    "authors",
    "source",
    "hero_media_id",
    "featured",
    "status",
    "published_at",
    "unpublish_at",
];

/// One changed field.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldChange {
    #[schema(example = "title")]
    pub field: String,
    /// The value in the revision before (`null` for revision 1, or a cleared field):
    /// a string, number, boolean, list of slugs or `null`, as the field is.
    pub before: serde_json::Value,
    /// The value in this revision, of the same kind.
    pub after: serde_json::Value,
    /// For `body`: the change as a unified diff by line.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(
        example = "@@ -1,2 +1,2 @@\n Talks resumed in Cairo.\n-Both sides\n+Both delegations\n"
    )]
    pub patch: Option<String>,
}

/// What changed between two sets of fields, field by field (`before` is `None` for the
/// first revision).
pub fn diff(before: Option<&RevisionFields>, after: &RevisionFields) -> Vec<FieldChange> {
    let old = before.map(RevisionFields::to_map).unwrap_or_default();
    let new = after.to_map();
    let mut changes = Vec::new();
    for field in FIELD_ORDER {
        let b = old.get(*field).cloned().unwrap_or(serde_json::Value::Null);
        let a = new.get(*field).cloned().unwrap_or(serde_json::Value::Null);
        if b == a {
            continue;
        }
        let patch = match (*field, &b, &a) {
            ("body", _, _) => {
                let (x, y) = (b.as_str().unwrap_or(""), a.as_str().unwrap_or(""));
                Some(
                    similar::TextDiff::from_lines(x, y)
                        .unified_diff()
                        .context_radius(2)
                        .missing_newline_hint(false)
                        .to_string(),
                )
            }
            _ => None,
        };
        changes.push(FieldChange {
            field: (*field).to_owned(),
            before: b,
            after: a,
            patch,
        });
    }
    changes
}

/// The summary of a revision made by an edit: the fields it changed.
pub fn changed_summary(changes: &[FieldChange]) -> String {
    let names: Vec<&str> = changes.iter().map(|c| c.field.as_str()).collect();
    format!("changed {}", names.join(", "))
}

thread_local! {
    /// A compressor per writing thread, reused: making one allocates and clears a few
    /// hundred kilobytes of state, more than compressing a story costs.
    static COMPRESSOR: std::cell::RefCell<flate2::Compress> =
        std::cell::RefCell::new(flate2::Compress::new(flate2::Compression::default(), false));
}

fn deflate(text: &str) -> AppResult<Vec<u8>> {
    COMPRESSOR.with(|c| {
        let mut c = c.borrow_mut();
        c.reset();
        // Raw deflate never grows text by more than a few bytes per 16 KB block.
        let mut out = Vec::with_capacity(text.len() + text.len() / 100 + 64);
        loop {
            let status = c
                .compress_vec(text.as_bytes(), &mut out, flate2::FlushCompress::Finish)
                .map_err(AppError::internal)?;
            match status {
                flate2::Status::StreamEnd => return Ok(out),
                _ => out.reserve(out.capacity().max(64)),
            }
        }
    })
}

fn inflate(bytes: &[u8]) -> AppResult<String> {
    let mut text = String::new();
    flate2::read::DeflateDecoder::new(bytes)
        .read_to_string(&mut text)
        .map_err(AppError::internal)?;
    Ok(text)
}

/// The newest revision's number (0 when there is none).
pub fn latest_number(conn: &mut DbConn, article: i32) -> AppResult<i32> {
    Ok(article_revisions::table
        .filter(article_revisions::article_id.eq(article))
        .select(diesel::dsl::max(article_revisions::number))
        .get_result::<Option<i32>>(conn)?
        .unwrap_or(0))
}

/// One revision as it is written.
pub struct NewRevision<'a> {
    pub number: i32,
    /// The author's id and name.
    pub by: (Option<i32>, Option<String>),
    pub at: chrono::NaiveDateTime,
    pub summary: &'a str,
    pub fields: &'a RevisionFields,
    /// Whether the body differs from the revision before (only then is it stored).
    pub body_changed: bool,
    /// The fields of the revision before, when there is one: only what changed from
    /// them is stored (but every [`SNAPSHOT_EVERY`]th revision stores them all).
    pub previous: Option<&'a RevisionFields>,
}

/// Every this many revisions, one keeps all its fields, so reading a revision replays
/// at most this many changes.
pub const SNAPSHOT_EVERY: i32 = 16;

/// The JSON a revision keeps of its fields (the body apart): all of them, or
/// `{"delta": {...}}` with those that differ from `previous`.
fn fields_json(
    fields: &RevisionFields,
    previous: Option<&RevisionFields>,
    number: i32,
) -> AppResult<String> {
    let mut now = fields.to_map();
    now.remove("body");
    let delta = match previous {
        Some(p) if number % SNAPSHOT_EVERY != 1 => {
            let before = p.to_map();
            let changed: serde_json::Map<String, serde_json::Value> = now
                .into_iter()
                .filter(|(k, v)| before.get(k) != Some(v))
                .collect();
            serde_json::json!({ "delta": changed })
        }
        _ => serde_json::Value::Object(now),
    };
    serde_json::to_string(&delta).map_err(AppError::internal)
}

/// Stores a revision of `article` (inside the caller's write transaction); the bulk
/// seed writes synthetic histories with it.
pub fn store(conn: &mut DbConn, article: i32, r: NewRevision<'_>) -> AppResult<()> {
    store_many(conn, vec![(article, r)])
}

/// [`store`] for several revisions (of one article or many) at once.
pub fn store_many(conn: &mut DbConn, revisions: Vec<(i32, NewRevision<'_>)>) -> AppResult<()> {
    let mut rows = Vec::with_capacity(revisions.len());
    for (article, r) in revisions {
        let body = r.fields.body.as_deref().unwrap_or_default();
        let stored_body = match r.body_changed {
            true => Some(deflate(body)?),
            false => None,
        };
        let json = fields_json(r.fields, r.previous, r.number)?;
        rows.push((
            article_revisions::article_id.eq(article),
            article_revisions::number.eq(r.number),
            article_revisions::created_at.eq(r.at),
            article_revisions::author_id.eq(r.by.0),
            article_revisions::author_name.eq(r.by.1),
            article_revisions::summary.eq(r.summary),
            article_revisions::fields.eq(json),
            article_revisions::body.eq(stored_body),
        ));
    }
    crate::insert_rows!(conn, article_revisions, rows);
    Ok(())
}

fn name_of(conn: &mut DbConn, user: Option<i32>) -> AppResult<Option<String>> {
    match user {
        Some(id) => Ok(users::table
            .find(id)
            .select(users::name)
            .get_result::<String>(conn)
            .optional()?),
        None => Ok(None),
    }
}

/// A new article's revision 1, of `fields` as `actor` (named `name`) created it, now,
/// with nothing to compare it with.
pub fn first<'a>(
    actor: Actor,
    name: Option<String>,
    fields: &'a RevisionFields,
) -> NewRevision<'a> {
    NewRevision {
        number: 1,
        by: (Some(actor.id), name),
        at: Timestamp::now().0,
        summary: "created",
        fields,
        // The article holds it until the body first changes.
        body_changed: false,
        previous: None,
    }
}

/// Records a new revision of `after` by `actor`, after an edit from `before`
/// (`None` for a create). An article written before revisions existed first gets
/// its state before the edit as revision 1. Returns the changes, empty when no
/// editable field changed (and then no revision is stored).
pub fn record(
    conn: &mut DbConn,
    id: i32,
    by: (Actor, Option<String>),
    before: Option<(&RevisionFields, Option<i32>, chrono::NaiveDateTime)>,
    after: &RevisionFields,
    summary: Option<&str>,
) -> AppResult<Vec<FieldChange>> {
    let (actor, name) = by;
    if before.is_none() {
        let mut first = first(actor, name, after);
        if let Some(summary) = summary {
            first.summary = summary;
        }
        store(conn, id, first)?;
        return Ok(Vec::new());
    }
    let mut number = latest_number(conn, id)?;
    let changes = diff(before.map(|b| b.0), after);
    if before.is_some() && changes.is_empty() {
        return Ok(changes);
    }
    if let Some((old, creator, at)) = before
        && number == 0
    {
        let by = (creator, name_of(conn, creator)?);
        let first = NewRevision {
            number: 1,
            by,
            at,
            summary: "as it was",
            fields: old,
            body_changed: true,
            previous: None,
        };
        store(conn, id, first)?;
        number = 1;
    }
    let body_changed = changes.iter().any(|c| c.field == "body");
    if body_changed && let Some((old, _, _)) = before {
        keep_first_body(conn, id, old)?;
    }
    let summary = match summary {
        Some(s) => s.to_owned(),
        None if before.is_none() => "created".to_owned(),
        None => changed_summary(&changes),
    };
    let by = (Some(actor.id), name);
    // What the revision before holds (names renamed since stay as it recorded them).
    let previous = replay(conn, id, number)?;
    let revision = NewRevision {
        number: number + 1,
        by,
        at: Timestamp::now().0,
        summary: &summary,
        fields: after,
        body_changed,
        previous: previous.as_ref(),
    };
    store(conn, id, revision)?;
    Ok(changes)
}

/// The fields (but the body) of revision `number`: the newest full copy at or before it,
/// with the changes of the revisions after it applied in order.
fn replay(conn: &mut DbConn, article: i32, number: i32) -> AppResult<Option<RevisionFields>> {
    let rows: Vec<(i32, String)> = article_revisions::table
        .filter(article_revisions::article_id.eq(article))
        .filter(article_revisions::number.le(number))
        .filter(article_revisions::number.gt(number - SNAPSHOT_EVERY))
        .order(article_revisions::number.desc())
        .select((article_revisions::number, article_revisions::fields))
        .load(conn)?;
    let mut deltas = Vec::new();
    let mut base = None;
    for (_, json) in rows {
        let value: serde_json::Value = serde_json::from_str(&json).map_err(AppError::internal)?;
        match value {
            serde_json::Value::Object(mut m) => match m.remove("delta") {
                Some(serde_json::Value::Object(d)) => deltas.push(d),
                Some(_) => return Err(AppError::internal("a revision's change is not an object")),
                None => {
                    base = Some(m);
                    break;
                }
            },
            _ => return Err(AppError::internal("a revision's fields are not an object")),
        }
    }
    let Some(mut fields) = base else {
        return Ok(None);
    };
    for delta in deltas.into_iter().rev() {
        fields.extend(delta);
    }
    serde_json::from_value(serde_json::Value::Object(fields))
        .map(Some)
        .map_err(AppError::internal)
}

/// Before the body first changes: stores the body all revisions so far share (`old`'s)
/// in revision 1, which has none while the article holds it.
fn keep_first_body(conn: &mut DbConn, id: i32, old: &RevisionFields) -> AppResult<()> {
    let stored: i64 = article_revisions::table
        .filter(article_revisions::article_id.eq(id))
        .filter(article_revisions::body.is_not_null())
        .count()
        .get_result(conn)?;
    if stored > 0 {
        return Ok(());
    }
    let body = deflate(old.body.as_deref().unwrap_or(""))?;
    diesel::update(
        article_revisions::table
            .filter(article_revisions::article_id.eq(id))
            .filter(article_revisions::number.eq(1)),
    )
    .set(article_revisions::body.eq(Some(body)))
    .execute(conn)?;
    Ok(())
}

/// Who made a revision.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RevisionAuthor {
    /// The account's id (`null` when it is unknown).
    #[schema(example = 4)]
    pub id: Option<i32>,
    #[schema(example = "Amira Saleh")]
    pub name: Option<String>,
}

/// A revision in the list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RevisionSummary {
    #[schema(example = 3)]
    pub number: i32,
    pub created_at: Timestamp,
    pub author: RevisionAuthor,
    #[schema(example = "changed title, body")]
    pub summary: String,
}

/// One revision: its stored fields and what changed from the revision before.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Revision {
    #[schema(example = 3)]
    pub number: i32,
    pub created_at: Timestamp,
    pub author: RevisionAuthor,
    pub summary: String,
    pub fields: RevisionFields,
    pub diff: Vec<FieldChange>,
}

type Row = (
    i32,
    chrono::NaiveDateTime,
    Option<i32>,
    Option<String>,
    String,
    String,
);

fn row_columns() -> (
    article_revisions::number,
    article_revisions::created_at,
    article_revisions::author_id,
    article_revisions::author_name,
    article_revisions::summary,
    article_revisions::fields,
) {
    (
        article_revisions::number,
        article_revisions::created_at,
        article_revisions::author_id,
        article_revisions::author_name,
        article_revisions::summary,
        article_revisions::fields,
    )
}

/// The revisions of an article, newest first.
pub fn list(conn: &mut DbConn, article: i32) -> AppResult<Vec<RevisionSummary>> {
    let rows: Vec<Row> = article_revisions::table
        .filter(article_revisions::article_id.eq(article))
        .order(article_revisions::number.desc())
        .select(row_columns())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(number, at, id, name, summary, _)| RevisionSummary {
            number,
            created_at: at.into(),
            author: RevisionAuthor { id, name },
            summary,
        })
        .collect())
}

/// The fields of revision `number`, body included: the body of the newest revision at
/// or before it that stored one, or the article's own while none has.
pub fn fields_of(
    conn: &mut DbConn,
    article: i32,
    number: i32,
) -> AppResult<Option<(Row, RevisionFields)>> {
    let row: Option<Row> = article_revisions::table
        .filter(article_revisions::article_id.eq(article))
        .filter(article_revisions::number.eq(number))
        .select(row_columns())
        .first(conn)
        .optional()?;
    let Some(row) = row else {
        return Ok(None);
    };
    let Some(mut fields) = replay(conn, article, number)? else {
        return Ok(None);
    };
    let body: Option<Vec<u8>> = article_revisions::table
        .filter(article_revisions::article_id.eq(article))
        .filter(article_revisions::number.le(number))
        .filter(article_revisions::body.is_not_null())
        .order(article_revisions::number.desc())
        .select(article_revisions::body)
        .first::<Option<Vec<u8>>>(conn)
        .optional()?
        .flatten();
    fields.body = Some(match body {
        Some(b) => inflate(&b)?,
        None => crate::schema::articles::table
            .find(article)
            .select(crate::schema::articles::body)
            .first::<String>(conn)?,
    });
    Ok(Some((row, fields)))
}

/// Revision `number` with its diff against the one before (404 when there is none).
pub fn get(conn: &mut DbConn, article: i32, number: i32) -> AppResult<Revision> {
    let Some((row, fields)) = fields_of(conn, article, number)? else {
        return Err(AppError::not_found("revision"));
    };
    let before = match number {
        n if n > 1 => fields_of(conn, article, n - 1)?.map(|(_, f)| f),
        _ => None,
    };
    let (number, at, id, name, summary, _) = row;
    Ok(Revision {
        number,
        created_at: at.into(),
        author: RevisionAuthor { id, name },
        summary,
        diff: diff(before.as_ref(), &fields),
        fields,
    })
}

/// 409 when something revision `fields` names is gone (a tag, a section, an author, a
/// region or the hero image), naming each.
pub fn check_restorable(conn: &mut DbConn, fields: &RevisionFields) -> AppResult<()> {
    let mut missing: Vec<String> = Vec::new();
    let mut absent = |kind: &str, wanted: &[String], found: Vec<(String, i32)>| {
        for slug in wanted {
            if !found.iter().any(|(s, _)| s == slug) {
                missing.push(format!("{kind} {slug}"));
            }
        }
    };
    let section: Vec<String> = fields.section.iter().cloned().collect();
    absent(
        "section",
        &section,
        crate::domain::sections::ids_by_slug(conn, &section)?,
    );
    absent(
        "tag",
        &fields.tags,
        crate::domain::tags::ids_by_slug(conn, &fields.tags)?,
    );
    absent(
        "author",
        &fields.authors,
        crate::domain::authors::ids_by_slug(conn, &fields.authors)?,
    );
    absent(
        "region",
        &fields.regions,
        crate::domain::regions::ids_by_slug(conn, &fields.regions)?,
    );
    if let Some(m) = fields.hero_media_id {
        let found = media::table
            .find(m)
            .select(media::id)
            .first::<i32>(conn)
            .optional()?;
        if found.is_none() {
            missing.push(format!("hero media {m}"));
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(AppError::Conflict {
            code: "revision_refers_to_deleted",
            detail: format!(
                "this revision names what no longer exists: {}",
                missing.join(", ")
            ),
        })
    }
}
