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
//!
//! The log never outlives what readers may see. Every write of an item rewrites the
//! item's earlier events in the same transaction ([`forget_earlier`]): while the item is
//! live they carry its current state; once it is gone (deleted, withdrawn, moved to
//! another language, expired and then changed) they carry no text at all. A replay
//! therefore never serves a deleted item's text or an edited item's old text. Replays
//! are short ([`REPLAY_MAX_EVENTS`], [`REPLAY_MAX_AGE_MINUTES`]): a client further
//! behind gets a fresh snapshot, which says the same in fewer bytes.

use diesel::prelude::*;
use serde::Serialize;

use super::breaking_items::{BreakingItem, BreakingRow, get, live_items};
use super::time::Timestamp;
use crate::db::DbConn;
use crate::error::{AppError, AppResult};
use crate::schema::{breaking_events, breaking_items};

crate::closed_set! {
    /// The `event:` of a breaking stream's events; all but `snapshot` are stored in the
    /// event log.
    #[stored_as_text]
    pub enum EventKind {
        /// The live items, as a stream opens (never stored).
        Snapshot = "snapshot",
        /// An item became visible to readers.
        Created = "created",
        /// A live item changed.
        Updated = "updated",
        /// A live item was deleted or withdrawn (unpublished, moved to the future, or
        /// moved to another language).
        Deleted = "deleted",
        /// A live item reached its `expires_at`.
        Expired = "expired",
    }
}

/// Most events a resuming stream is sent: a client further behind gets a fresh snapshot.
pub const REPLAY_MAX_EVENTS: i64 = 100;
/// How far back, in minutes, a resuming stream is sent events: a client further behind
/// gets a fresh snapshot.
pub const REPLAY_MAX_AGE_MINUTES: i64 = 10;
/// How long events are kept, in minutes: longer than a replay reaches, so that the
/// oldest event still held tells whether a client missed pruned ones.
pub const RETENTION_MINUTES: i64 = 60;

/// One event as stored and as sent.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = breaking_events)]
pub struct Event {
    pub id: i32,
    pub kind: EventKind,
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
    kind: EventKind,
    item_id: i32,
    language: &str,
    payload: String,
    due_at: Option<chrono::NaiveDateTime>,
) -> AppResult<bool> {
    // A due event is written once however many instances find it due: the writes of
    // all instances are serialised, so a look before the insert is enough (the unique
    // index stays as the guarantee).
    if let Some(due) = due_at {
        let seen = breaking_events::table
            .filter(breaking_events::kind.eq(kind))
            .filter(breaking_events::item_id.eq(item_id))
            .filter(breaking_events::due_at.eq(due))
            .select(breaking_events::id)
            .first::<i32>(conn)
            .optional()?;
        if seen.is_some() {
            return Ok(false);
        }
    }
    let inserted = diesel::insert_into(breaking_events::table)
        .values((
            breaking_events::kind.eq(kind),
            breaking_events::item_id.eq(item_id),
            breaking_events::language.eq(language),
            breaking_events::payload.eq(payload),
            breaking_events::due_at.eq(due_at),
            breaking_events::created_at.eq(Timestamp::now().0),
        ))
        .execute(conn)?;
    Ok(inserted > 0)
}

fn item_json(conn: &mut DbConn, id: i32) -> AppResult<String> {
    let item: BreakingItem = get(conn, id)?;
    serde_json::to_string(&item).map_err(AppError::internal)
}

fn gone_json(id: i32) -> AppResult<String> {
    serde_json::to_string(&Gone { id }).map_err(AppError::internal)
}

/// Records what a write did to readers' view of an item, in the write's transaction,
/// and rewrites the item's earlier events to match (see [`forget_earlier`]).
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
    // The events this write finds, which it rewrites once it has added its own.
    let earlier = match before {
        Some(_) => latest_id(conn)?,
        None => 0,
    };
    match (was, is) {
        (None, None) => {}
        (None, Some(now)) => {
            let json = item_json(conn, now.id)?;
            insert(conn, EventKind::Created, now.id, &now.language, json, None)?;
        }
        (Some(then), None) => match after {
            Some(row) if row.expires_at.is_some_and(|e| e <= at) => {
                let json = item_json(conn, row.id)?;
                insert(conn, EventKind::Expired, row.id, &then.language, json, None)?;
            }
            _ => {
                insert(
                    conn,
                    EventKind::Deleted,
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
                EventKind::Deleted,
                then.id,
                &then.language,
                gone_json(then.id)?,
                None,
            )?;
            let json = item_json(conn, now.id)?;
            insert(conn, EventKind::Created, now.id, &now.language, json, None)?;
        }
        (Some(_), Some(now)) => {
            let json = item_json(conn, now.id)?;
            insert(conn, EventKind::Updated, now.id, &now.language, json, None)?;
        }
    }
    if let Some(then) = before {
        forget_earlier(conn, then.id, is, earlier)?;
    }
    Ok(())
}

/// The kinds whose payload is the item, text included.
const WITH_TEXT: [EventKind; 3] = [EventKind::Created, EventKind::Updated, EventKind::Expired];

/// Rewrites what the log says about item `id` in its events up to `upto` (the ones
/// before this write), so that no replay serves text the item no longer has. `live` is
/// the item when readers see it now: its events in its language then carry its current
/// state. Every other event of the item stops carrying text: `created` and `updated`
/// ones are dropped, `expired` ones become `deleted` (a client that had the item still
/// learns that it went).
fn forget_earlier(
    conn: &mut DbConn,
    id: i32,
    live: Option<&BreakingRow>,
    upto: i32,
) -> AppResult<()> {
    let earlier: Vec<(i32, EventKind, String)> = breaking_events::table
        .filter(breaking_events::item_id.eq(id))
        .filter(breaking_events::id.le(upto))
        .filter(breaking_events::kind.eq_any(WITH_TEXT))
        .select((
            breaking_events::id,
            breaking_events::kind,
            breaking_events::language,
        ))
        .load(conn)?;
    let (mut current, mut dropped, mut ended) = (Vec::new(), Vec::new(), Vec::new());
    for (event, kind, language) in earlier {
        if live.is_some_and(|row| row.language == language) {
            current.push(event);
        } else if kind == EventKind::Expired {
            ended.push(event);
        } else {
            dropped.push(event);
        }
    }
    if let Some(row) = live.filter(|_| !current.is_empty()) {
        let json = item_json(conn, row.id)?;
        diesel::update(breaking_events::table.filter(breaking_events::id.eq_any(current)))
            .set(breaking_events::payload.eq(json))
            .execute(conn)?;
    }
    if !dropped.is_empty() {
        diesel::delete(breaking_events::table.filter(breaking_events::id.eq_any(dropped)))
            .execute(conn)?;
    }
    if !ended.is_empty() {
        diesel::update(breaking_events::table.filter(breaking_events::id.eq_any(ended)))
            .set((
                breaking_events::kind.eq(EventKind::Deleted),
                breaking_events::payload.eq(gone_json(id)?),
            ))
            .execute(conn)?;
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
) -> AppResult<Vec<(chrono::NaiveDateTime, EventKind, BreakingRow)>> {
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
    let mut all: Vec<(chrono::NaiveDateTime, EventKind, BreakingRow)> = going_live
        .into_iter()
        .map(|r| (r.published_at, EventKind::Created, r))
        .chain(
            expiring
                .into_iter()
                .filter_map(|r| r.expires_at.map(|e| (e, EventKind::Expired, r))),
        )
        .collect();
    // Go-live before expiry when both fall in the window.
    all.sort_by_key(|(at, kind, r)| (*at, *kind == EventKind::Expired, r.id));
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
/// the client is close enough behind (see [`replay`]; `None` otherwise: the client gets
/// a fresh snapshot only).
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
        let items = live_items(conn, lang)?;
        let missed = match resume_from {
            Some(last) if last <= latest => replay(conn, lang, last, latest)?,
            _ => None,
        };
        Ok(Opening {
            latest,
            items,
            missed,
        })
    })
}

/// The events after `last` up to `latest` (of one language), when a client at `last`
/// may be sent them: the log still reaches back to `last`, and at most
/// [`REPLAY_MAX_EVENTS`] events, none older than [`REPLAY_MAX_AGE_MINUTES`], came after
/// it (of any language: that is how far behind the client is). `None`: the client is
/// further behind and gets a fresh snapshot instead.
fn replay(
    conn: &mut DbConn,
    lang: Option<&str>,
    last: i32,
    latest: i32,
) -> AppResult<Option<Vec<Event>>> {
    if last == latest {
        return Ok(Some(Vec::new()));
    }
    let oldest: Option<i32> = breaking_events::table
        .select(diesel::dsl::min(breaking_events::id))
        .get_result(conn)?;
    // The log keeps every event after `oldest - 1` (bar the ones forgotten on purpose):
    // a client that saw that one, or a later one, misses nothing pruned.
    if oldest.is_none_or(|o| last < o - 1) {
        return Ok(None);
    }
    let missed = || {
        breaking_events::table
            .filter(breaking_events::id.gt(last))
            .filter(breaking_events::id.le(latest))
            .into_boxed()
    };
    let (count, first_at): (i64, Option<chrono::NaiveDateTime>) = missed()
        .select((
            diesel::dsl::count_star(),
            diesel::dsl::min(breaking_events::created_at),
        ))
        .get_result(conn)?;
    let cutoff = Timestamp::now().0 - chrono::Duration::minutes(REPLAY_MAX_AGE_MINUTES);
    if count > REPLAY_MAX_EVENTS || first_at.is_some_and(|at| at < cutoff) {
        return Ok(None);
    }
    let mut events = missed()
        .order(breaking_events::id.asc())
        .select(Event::as_select());
    if let Some(lang) = lang {
        events = events.filter(breaking_events::language.eq(lang.to_owned()));
    }
    Ok(Some(events.load(conn)?))
}

/// Drops events older than the retention, always keeping the newest one (so that a
/// resuming client can tell an empty log from a pruned one).
pub fn prune(conn: &mut DbConn) -> AppResult<usize> {
    let cutoff = Timestamp::now().0 - chrono::Duration::minutes(RETENTION_MINUTES);
    let latest = latest_id(conn)?;
    Ok(diesel::delete(
        breaking_events::table
            .filter(breaking_events::created_at.lt(cutoff))
            .filter(breaking_events::id.lt(latest)),
    )
    .execute(conn)?)
}
