//! The log behind the live breaking stream: what happened to live items, in order.
//!
//! A write that changes what readers see (an item going live, changing, leaving) adds
//! its event in the same transaction, so an event exists exactly when its change was
//! committed. Changes that come with time (an item scheduled for later going live, an
//! item expiring) are recorded when they fall due by [`record_due`], which any number of
//! instances may run at once: the unique `(kind, item_id, due_at)` index keeps one. The
//! log lives in the database, so every instance serves the same events with the same
//! ids, and a client that reconnects with `Last-Event-ID` to any instance resumes
//! where it left off.

use diesel::prelude::*;
use serde::Serialize;

use super::breaking::{self, BreakingItem, BreakingRow};
use super::time::Timestamp;
use crate::db::DbConn;
use crate::error::{AppError, AppResult};
use crate::schema::{breaking_events, breaking_items};

/// An item became visible to readers.
pub const CREATED: &str = "created";
/// A live item changed.
pub const UPDATED: &str = "updated";
/// A live item was deleted or withdrawn (unpublished, moved to the future, or moved to
/// another language).
pub const DELETED: &str = "deleted";
/// A live item reached its `expires_at`.
pub const EXPIRED: &str = "expired";

/// How long events are kept for clients to resume from.
pub const RETENTION_HOURS: i64 = 24 * 7;

/// One event as stored and as sent.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = breaking_events)]
pub struct Event {
    pub id: i32,
    pub kind: String,
    pub item_id: i32,
    pub language: String,
    /// The event's data: the item as JSON, or `{"id": …}` for `deleted`.
    pub payload: String,
}

#[derive(Serialize)]
struct Gone {
    id: i32,
}

/// True when readers see the item at `at`.
pub fn is_live(row: &BreakingRow, at: chrono::NaiveDateTime) -> bool {
    row.published_at <= at && row.expires_at.is_none_or(|e| e > at)
}

fn insert(
    conn: &mut DbConn,
    kind: &str,
    item_id: i32,
    language: &str,
    payload: String,
    due_at: Option<chrono::NaiveDateTime>,
) -> AppResult<bool> {
    let inserted = diesel::insert_into(breaking_events::table)
        .values((
            breaking_events::kind.eq(kind),
            breaking_events::item_id.eq(item_id),
            breaking_events::language.eq(language),
            breaking_events::payload.eq(payload),
            breaking_events::due_at.eq(due_at),
            breaking_events::created_at.eq(Timestamp::now().0),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    Ok(inserted > 0)
}

fn item_json(conn: &mut DbConn, id: i32) -> AppResult<String> {
    let item: BreakingItem = breaking::get(conn, id)?;
    serde_json::to_string(&item).map_err(AppError::internal)
}

fn gone_json(id: i32) -> AppResult<String> {
    serde_json::to_string(&Gone { id }).map_err(AppError::internal)
}

/// Records what a write did to readers' view of an item, in the write's transaction.
/// `before` and `after` are the row around the write (`None`: did not exist); `at` is
/// the write's time (the row's new `updated_at`).
pub fn record_write(
    conn: &mut DbConn,
    before: Option<&BreakingRow>,
    after: Option<&BreakingRow>,
    at: chrono::NaiveDateTime,
) -> AppResult<()> {
    let was = before.filter(|r| is_live(r, at));
    let is = after.filter(|r| is_live(r, at));
    match (was, is) {
        (None, None) => {}
        (None, Some(now)) => {
            let json = item_json(conn, now.id)?;
            insert(conn, CREATED, now.id, &now.language, json, None)?;
        }
        (Some(then), None) => match after {
            Some(row) if row.expires_at.is_some_and(|e| e <= at) => {
                let json = item_json(conn, row.id)?;
                insert(conn, EXPIRED, row.id, &then.language, json, None)?;
            }
            _ => {
                insert(
                    conn,
                    DELETED,
                    then.id,
                    &then.language,
                    gone_json(then.id)?,
                    None,
                )?;
            }
        },
        (Some(then), Some(now)) if then.language != now.language => {
            insert(
                conn,
                DELETED,
                then.id,
                &then.language,
                gone_json(then.id)?,
                None,
            )?;
            let json = item_json(conn, now.id)?;
            insert(conn, CREATED, now.id, &now.language, json, None)?;
        }
        (Some(_), Some(now)) => {
            let json = item_json(conn, now.id)?;
            insert(conn, UPDATED, now.id, &now.language, json, None)?;
        }
    }
    Ok(())
}

/// Items whose go-live or expiry falls in `(from, to]` and was still ahead when they
/// were last written (earlier ones were recorded by the write itself), as
/// `(due time, kind, row)` in time order.
fn due(
    conn: &mut DbConn,
    from: chrono::NaiveDateTime,
    to: chrono::NaiveDateTime,
) -> AppResult<Vec<(chrono::NaiveDateTime, &'static str, BreakingRow)>> {
    let going_live: Vec<BreakingRow> = breaking_items::table
        .filter(breaking_items::published_at.gt(from))
        .filter(breaking_items::published_at.le(to))
        .filter(breaking_items::published_at.gt(breaking_items::updated_at))
        .select(BreakingRow::as_select())
        .load(conn)?;
    let expiring: Vec<BreakingRow> = breaking_items::table
        .filter(breaking_items::expires_at.gt(from))
        .filter(breaking_items::expires_at.le(to))
        .filter(breaking_items::expires_at.gt(breaking_items::updated_at.nullable()))
        .select(BreakingRow::as_select())
        .load(conn)?;
    let mut all: Vec<(chrono::NaiveDateTime, &'static str, BreakingRow)> = going_live
        .into_iter()
        .map(|r| (r.published_at, CREATED, r))
        .chain(
            expiring
                .into_iter()
                .filter_map(|r| r.expires_at.map(|e| (e, EXPIRED, r))),
        )
        .collect();
    // Go-live before expiry when both fall in the window.
    all.sort_by_key(|(at, kind, r)| (*at, *kind == EXPIRED, r.id));
    Ok(all)
}

/// True when something falls due in `(from, to]` (a read, to spare the writer).
pub fn any_due(
    conn: &mut DbConn,
    from: chrono::NaiveDateTime,
    to: chrono::NaiveDateTime,
) -> AppResult<bool> {
    Ok(!due(conn, from, to)?.is_empty())
}

/// Records the go-live and expiry events that fell due in `(from, to]`, once across
/// instances. Returns how many this call recorded.
pub fn record_due(
    conn: &mut DbConn,
    from: chrono::NaiveDateTime,
    to: chrono::NaiveDateTime,
) -> AppResult<usize> {
    let mut recorded = 0;
    for (at, kind, row) in due(conn, from, to)? {
        let json = item_json(conn, row.id)?;
        if insert(conn, kind, row.id, &row.language, json, Some(at))? {
            recorded += 1;
        }
    }
    Ok(recorded)
}

/// The newest event id (0 when the log is empty).
pub fn latest_id(conn: &mut DbConn) -> AppResult<i32> {
    Ok(breaking_events::table
        .select(diesel::dsl::max(breaking_events::id))
        .get_result::<Option<i32>>(conn)?
        .unwrap_or(0))
}

/// The time of the newest event, if any: where the due-event scan resumes after a
/// restart.
pub fn latest_time(conn: &mut DbConn) -> AppResult<Option<chrono::NaiveDateTime>> {
    Ok(breaking_events::table
        .select(diesel::dsl::max(breaking_events::created_at))
        .get_result(conn)?)
}

/// Up to `limit` events after `id`, oldest first.
pub fn after(conn: &mut DbConn, id: i32, limit: i64) -> AppResult<Vec<Event>> {
    Ok(breaking_events::table
        .filter(breaking_events::id.gt(id))
        .order(breaking_events::id.asc())
        .limit(limit)
        .select(Event::as_select())
        .load(conn)?)
}

/// What a new stream starts with: the live items now and the id of the newest event
/// they reflect. With `resume_from` (a `Last-Event-ID`), also the events after it, when
/// the log still holds them all (`None` otherwise: the client gets the snapshot only).
#[derive(Debug)]
pub struct Opening {
    pub latest: i32,
    pub items: Vec<BreakingItem>,
    pub missed: Option<Vec<Event>>,
}

/// Reads a stream's opening in one read transaction, so that the snapshot and the
/// event id agree.
pub fn opening(
    conn: &mut DbConn,
    lang: Option<&str>,
    resume_from: Option<i32>,
) -> AppResult<Opening> {
    conn.transaction(|conn| {
        let latest = latest_id(conn)?;
        let items = breaking::live_items(conn, lang)?;
        let missed = match resume_from {
            Some(last) if last <= latest => {
                let oldest: Option<i32> = breaking_events::table
                    .select(diesel::dsl::min(breaking_events::id))
                    .get_result(conn)?;
                // The log keeps every event after `oldest - 1`: a client that saw that
                // one (or a later one) misses nothing the log no longer holds.
                if oldest.is_some_and(|o| last >= o - 1) {
                    let mut events = breaking_events::table
                        .filter(breaking_events::id.gt(last))
                        .filter(breaking_events::id.le(latest))
                        .order(breaking_events::id.asc())
                        .select(Event::as_select())
                        .into_boxed();
                    if let Some(lang) = lang {
                        events = events.filter(breaking_events::language.eq(lang.to_owned()));
                    }
                    Some(events.load(conn)?)
                } else if oldest.is_none() && last == 0 {
                    Some(Vec::new())
                } else {
                    None
                }
            }
            _ => None,
        };
        Ok(Opening {
            latest,
            items,
            missed,
        })
    })
}

/// Drops events older than the retention, always keeping the newest one (so that a
/// resuming client can tell an empty log from a pruned one).
pub fn prune(conn: &mut DbConn) -> AppResult<usize> {
    let cutoff = Timestamp::now().0 - chrono::Duration::hours(RETENTION_HOURS);
    let latest = latest_id(conn)?;
    Ok(diesel::delete(
        breaking_events::table
            .filter(breaking_events::created_at.lt(cutoff))
            .filter(breaking_events::id.lt(latest)),
    )
    .execute(conn)?)
}
