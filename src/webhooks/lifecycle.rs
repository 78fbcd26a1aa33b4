//! An article's life as webhooks hear of it.
//!
//! Each article row keeps `announced`: 0 while readers cannot see it (a draft, a
//! scheduled story, the trash), 1 once its going live was announced, 2 once its
//! `unpublish_at` passed. A write compares that with what readers see after it and
//! announces the difference in its own transaction: going live is
//! `article.published`, an edit of a live story `article.updated`, leaving readers
//! `article.unpublished`, the trash `article.deleted`. What time alone changes (a
//! scheduled story's moment, an embargo's end) the scheduler announces through
//! [`announce_due`], at its time, once, whichever instance gets there first (the
//! announcement and its mark are one write).

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::Bool;

use super::EventType;
use crate::db::DbConn;
use crate::db::kept;
use crate::domain::counts;
use crate::domain::time::Timestamp;
use crate::error::AppResult;
use crate::schema::articles;

const NOT_LIVE: i32 = 0;
const LIVE: i32 = 1;
const EXPIRED: i32 = 2;

/// What a write did to an article.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Created, edited, published, taken down, restored.
    Saved,
    /// Moved to the trash.
    Trashed,
    /// Nothing written: its time came (a scheduled story's moment, an embargo's end),
    /// and the scheduler announces it.
    Due,
}

type Facts = (
    i32,
    String,
    String,
    String,
    String,
    Option<chrono::NaiveDateTime>,
    Option<chrono::NaiveDateTime>,
    Option<chrono::NaiveDateTime>,
    chrono::NaiveDateTime,
    i32,
    Option<i32>,
    bool,
    Option<i32>,
);

fn facts(conn: &mut DbConn, id: i32) -> AppResult<Option<Facts>> {
    Ok(crate::on_backend!(conn, |c| articles::table
        .find(id)
        .select((
            articles::id,
            articles::slug,
            articles::language,
            articles::title,
            articles::status,
            articles::published_at,
            articles::unpublish_at,
            articles::deleted_at,
            articles::updated_at,
            articles::announced,
            articles::section_id,
            articles::featured,
            articles::translation_group,
        ))
        .get_result::<Facts>(c)
        .optional()?))
}

/// Where an article stands for readers at `now`.
fn standing(f: &Facts, now: chrono::NaiveDateTime) -> i32 {
    let (_, _, _, _, status, published_at, unpublish_at, deleted_at, _, _, _, _, _) = f;
    if deleted_at.is_some() {
        NOT_LIVE
    } else {
        standing_of(status, *published_at, *unpublish_at, now)
    }
}

/// Where an article not in the trash stands for readers at `now`, from its stored
/// status and times.
fn standing_of(
    status: &str,
    published_at: Option<chrono::NaiveDateTime>,
    unpublish_at: Option<chrono::NaiveDateTime>,
    now: chrono::NaiveDateTime,
) -> i32 {
    if status != "published" || published_at.is_none_or(|p| p > now) {
        NOT_LIVE
    } else if unpublish_at.is_some_and(|u| u <= now) {
        EXPIRED
    } else {
        LIVE
    }
}

/// A new article as its create stored it, for [`article_created`].
#[derive(Debug, Clone)]
pub struct Created {
    pub id: i32,
    pub slug: String,
    pub language: String,
    pub title: String,
    /// As stored: `draft` or `published`.
    pub status: &'static str,
    pub published_at: Option<chrono::NaiveDateTime>,
    pub unpublish_at: Option<chrono::NaiveDateTime>,
    /// When it was stored: where it stands for readers is decided at this time.
    pub at: chrono::NaiveDateTime,
    /// As stored: `at`, or an imported story's own.
    pub updated_at: chrono::NaiveDateTime,
    pub section_id: Option<i32>,
    pub featured: bool,
    /// The group of editions it joined, if any.
    pub translation_group: Option<i32>,
}

impl Created {
    /// The `announced` mark to store the article with: where it stands for readers at
    /// its creation, so that nothing is left to move once it is stored.
    pub fn announced(&self) -> i32 {
        standing_of(self.status, self.published_at, self.unpublish_at, self.at)
    }

    /// Whether it is live at its creation (and so announced to webhooks).
    pub fn is_live(&self) -> bool {
        self.announced() == LIVE
    }
}

/// Announces article `a`, just stored with `announced` = [`Created::announced`], inside
/// its create's transaction: a live one counts towards its keys (`links`: its tag,
/// author and region keys, as the create wrote them), at once or into `tally` for the
/// bulk writer to write, and is `article.published` to `hooks` (the active webhooks,
/// [`super::active`]). What [`article_written`] does for any write, without reading back
/// what the create holds.
pub fn article_created(
    conn: &mut DbConn,
    a: &Created,
    links: Vec<counts::Key>,
    tally: Option<&mut counts::Tally>,
    hooks: &[(i32, String)],
) -> AppResult<()> {
    if !a.is_live() {
        return Ok(());
    }
    let keys = counts::keys_with(
        links,
        a.id,
        a.section_id,
        &a.language,
        a.featured,
        a.published_at,
    );
    match tally {
        Some(tally) => {
            tally.add(keys, 1);
            tally.touch(a.id, a.at);
        }
        None => {
            counts::add(conn, &keys, 1)?;
            counts::touch_blocks(conn, &[(counts::block_of(a.id), unix(a.at))])?;
        }
    }
    // Its other editions' entries now name it.
    if let Some(group) = a.translation_group {
        touch_editions(conn, group, a.id, a.at)?;
    }
    let f: Facts = (
        a.id,
        a.slug.clone(),
        a.language.clone(),
        a.title.clone(),
        a.status.to_owned(),
        a.published_at,
        a.unpublish_at,
        None,
        a.updated_at,
        LIVE,
        a.section_id,
        a.featured,
        a.translation_group,
    );
    super::emit_among(conn, hooks, EventType::ArticlePublished, data(&f, LIVE))
}

fn data(f: &Facts, standing: i32) -> serde_json::Value {
    let (id, slug, language, title, status, published_at, unpublish_at, _, updated_at, _, _, _, _) =
        f;
    let status = match standing {
        LIVE => "published",
        EXPIRED => "expired",
        _ if status == "published" => "scheduled",
        _ => "draft",
    };
    serde_json::json!({
        "id": id,
        "slug": slug,
        "language": language,
        "title": title,
        "status": status,
        "published_at": published_at.map(|t| Timestamp(t).to_rfc3339()),
        "unpublish_at": unpublish_at.map(|t| Timestamp(t).to_rfc3339()),
        "updated_at": Timestamp(*updated_at).to_rfc3339(),
    })
}

/// Announces what a write did to article `id` (inside the write's transaction), one
/// that did not change its section or links.
pub fn article_written(conn: &mut DbConn, id: i32, change: Change) -> AppResult<()> {
    article_changed(conn, id, change, None, None)
}

/// Announces what a write did to article `id` (inside the write's transaction), and
/// moves the maintained counts with it: `before` are the keys the article counted
/// towards before the write (`None`: the write left them as they were), `left` the
/// group of editions the write took it out of, if any.
pub fn article_changed(
    conn: &mut DbConn,
    id: i32,
    change: Change,
    before: Option<&[counts::Key]>,
    left: Option<i32>,
) -> AppResult<()> {
    let Some(f) = facts(conn, id)? else {
        return Ok(());
    };
    let now = Timestamp::now().0;
    let was = f.9;
    let is = standing(&f, now);
    let event = match (change, was == LIVE, is == LIVE) {
        (Change::Trashed, _, _) => Some(EventType::ArticleDeleted),
        (Change::Saved | Change::Due, false, true) => Some(EventType::ArticlePublished),
        (Change::Saved | Change::Due, true, true) => Some(EventType::ArticleUpdated),
        (Change::Saved | Change::Due, true, false) => Some(EventType::ArticleUnpublished),
        (Change::Saved | Change::Due, false, false) => None,
    };
    if was != is {
        crate::on_backend!(conn, |c| kept::update(
            articles::table,
            articles::announced.eq(is),
            articles::id.eq(id)
        )
        .execute(c)?);
    }
    if was == LIVE || is == LIVE {
        let now_keys = counts::keys_of(conn, id, f.10, &f.2, f.11, f.5)?;
        let old_keys = before.unwrap_or(&now_keys);
        match (was == LIVE, is == LIVE) {
            (true, true) if old_keys != now_keys.as_slice() => {
                counts::add(conn, old_keys, -1)?;
                counts::add(conn, &now_keys, 1)?;
            }
            (true, false) => counts::add(conn, old_keys, -1)?,
            (false, true) => counts::add(conn, &now_keys, 1)?,
            _ => {}
        }
        // What the child sitemap of its block lists changed: when the write was made,
        // or for the scheduler, at the moment the story went live or expired (what a
        // read of the index gave it before the scheduler got there).
        let at = match (change, is) {
            (Change::Due, LIVE) => f.5.unwrap_or(now).min(now),
            (Change::Due, EXPIRED) => f.6.unwrap_or(now).min(now),
            _ => now,
        };
        counts::touch_blocks(conn, &[(counts::block_of(id), unix(at))])?;
        if let Some(group) = f.12 {
            touch_editions(conn, group, id, at)?;
        }
    }
    // The editions it left named it while it was live.
    if let Some(group) = left.filter(|_| was == LIVE) {
        touch_editions(conn, group, id, now)?;
    }
    if let Some(event) = event {
        super::emit(conn, event, data(&f, is))?;
    }
    Ok(())
}

fn unix(at: chrono::NaiveDateTime) -> i64 {
    at.and_utc().timestamp()
}

/// Raises the change time of the blocks holding the live editions of `group` other
/// than `id` to `at`: their entries in the child sitemaps name each edition
/// (`xhtml:link rel="alternate"`), so a change to one of them changes theirs.
fn touch_editions(
    conn: &mut DbConn,
    group: i32,
    id: i32,
    at: chrono::NaiveDateTime,
) -> AppResult<()> {
    let editions: Vec<i32> = crate::on_backend!(conn, |c| articles::table
        .filter(articles::translation_group.eq(group))
        .filter(articles::announced.eq(LIVE))
        .filter(articles::id.ne(id))
        .select(articles::id)
        .load(c)?);
    let mut blocks: Vec<(i32, i64)> = editions
        .into_iter()
        .map(|e| (counts::block_of(e), unix(at)))
        .collect();
    blocks.sort_unstable();
    blocks.dedup();
    counts::touch_blocks(conn, &blocks)
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    id: i32,
}

/// Scheduled stories that went live and live ones whose embargo ended, up to `limit`
/// of each: the scheduler's question, answered from two small partial indexes.
fn due(conn: &mut DbConn, now: chrono::NaiveDateTime, limit: i64) -> AppResult<Vec<i32>> {
    let mut ids: Vec<i32> = match conn {
        // Told to use the partial index: SQLite's planner would otherwise walk the index
        // of every published article by date, twice a second.
        DbConn::Sqlite(c) => crate::db::kept::sql(
            "SELECT id FROM articles INDEXED BY articles_unannounced_idx \
             WHERE announced = 0 AND status = 'published' AND published_at <= ? \
             AND deleted_at IS NULL LIMIT ?",
        )
        .bind::<diesel::sql_types::Timestamp, _>(now)
        .bind::<diesel::sql_types::BigInt, _>(limit)
        .load::<Id>(c)?
        .into_iter()
        .map(|r| r.id)
        .collect(),
        DbConn::Postgres(c) => articles::table
            .filter(sql::<Bool>("announced = 0 AND status = 'published'"))
            .filter(articles::published_at.le(now))
            .filter(articles::deleted_at.is_null())
            .select(articles::id)
            .limit(limit)
            .load(c)?,
    };
    let expired: Vec<i32> = crate::on_backend!(conn, |c| articles::table
        .filter(sql::<Bool>("announced = 1 AND unpublish_at IS NOT NULL"))
        .filter(articles::unpublish_at.le(now))
        .select(articles::id)
        .limit(limit)
        .load(c)?);
    ids.extend(expired);
    Ok(ids)
}

/// Whether time has changed what readers see of any article since it was announced.
pub fn anything_due(conn: &mut DbConn) -> AppResult<bool> {
    Ok(!due(conn, Timestamp::now().0, 1)?.is_empty())
}

/// Announces what time changed: `article.published` for scheduled stories whose moment
/// came, `article.unpublished` for those whose `unpublish_at` passed (inside a write).
pub fn announce_due(conn: &mut DbConn) -> AppResult<usize> {
    let now = Timestamp::now().0;
    let ids = due(conn, now, 200)?;
    for id in &ids {
        article_written(conn, *id, Change::Due)?;
    }
    Ok(ids.len())
}
