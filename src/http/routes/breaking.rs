//! `/breaking`: the BREAKING ticker. Anyone reads the live items; editors write.

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::ConnectionType;
use actix_web::http::header::{self, HeaderValue};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, ResponseError, delete, get, patch, post, web};
use tokio::sync::broadcast::error::RecvError;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::db::DbConn;
use crate::domain::audit::{self, Action};
use crate::domain::breaking::{
    self, BreakingCreate, BreakingItem, BreakingParams, BreakingPatch, BreakingQuery,
};
use crate::domain::breaking_events::{self, Event, EventKind, Opening};
use crate::domain::paging::{ListResponse, PageParams};
use crate::domain::params::LangParams;
use crate::error::{AppError, AppResult};
use crate::http::cache::Uncacheable;
use crate::http::client::client_address;
use crate::http::conditional::object;
use crate::http::created;
use crate::http::extract::{Editor, JsonBody, MaybeStaff, Staff};
use crate::http::precondition::{AuditBy, IfMatch, Target};
use crate::http::state::AppState;
use crate::live::{Refused, Subscription};

/// Registers the routes of this module.
pub fn routes(cfg: &mut ServiceConfig) {
    // `stream` before `{id}`.
    cfg.service(list_breaking)
        .service(create_breaking)
        .service(stream_breaking)
        .service(get_breaking)
        .service(update_breaking)
        .service(delete_breaking);
}

fn item_id(segment: &str) -> AppResult<i32> {
    segment
        .parse::<i32>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| AppError::not_found("breaking item"))
}

/// The items live now (published, not expired), highest priority first, then newest.
/// Staff may ask `status=all` for every item.
#[utoipa::path(
    tag = "Breaking",
    params(PageParams, BreakingParams),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "A page of breaking items", body = ListResponse<BreakingItem>),
    )
)]
#[get("/breaking")]
pub async fn list_breaking(
    state: web::Data<AppState>,
    staff: MaybeStaff,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let query = BreakingQuery::parse(
        req.query_string(),
        &state.cursors,
        &state.config.languages,
        staff.0.is_some(),
    )?;
    let codec = state.cursors.clone();
    let page = state
        .db
        .read(move |conn| breaking::list(conn, &query, &codec))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Posts a breaking item; it is live from `published_at` (default now) until
/// `expires_at`.
#[utoipa::path(
    tag = "Breaking",
    security(("bearer" = ["breaking:write", "role:editor"])),
    request_body = BreakingCreate,
    responses(
        (status = 201, description = "The new item", body = BreakingItem,
            headers(("Location" = String, description = "URL of the new item"))),
    )
)]
#[post("/breaking")]
pub async fn create_breaking(
    state: web::Data<AppState>,
    who: Staff<Editor>,
    JsonBody(body): JsonBody<BreakingCreate>,
) -> AppResult<HttpResponse> {
    let languages = state.config.languages.clone();
    let item = state
        .db
        .write_content(move |conn| {
            let written = breaking::create(conn, body, &languages)?;
            audit::logged(conn, who.actor, Action::Create, written)
        })
        .await?;
    Ok(created(format!("/api/v1/breaking/{}", item.id), &item))
}

/// Reads an item: readers see live items only; staff see any.
#[utoipa::path(
    tag = "Breaking",
    params(("id" = i32, Path, description = "The id")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The item", body = BreakingItem),
    )
)]
#[get("/breaking/{id}", guard = "not_the_stream")]
pub async fn get_breaking(
    state: web::Data<AppState>,
    staff: MaybeStaff,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let id = item_id(&path)?;
    let is_staff = staff.0.is_some();
    let item = state
        .db
        .read(move |conn| breaking::get_for(conn, id, is_staff))
        .await?;
    Ok(object(&item, item.updated_at))
}

/// Changes an item; `null` clears `article`, `url` or `expires_at`.
#[utoipa::path(
    tag = "Breaking",
    security(("bearer" = ["breaking:write", "role:editor"])),
    params(("id" = i32, Path, description = "The id")),
    request_body(content = BreakingPatch, content_type = "application/json"),
    responses(
        (status = 200, description = "The changed item", body = BreakingItem),
    )
)]
#[patch("/breaking/{id}", guard = "not_the_stream")]
pub async fn update_breaking(
    state: web::Data<AppState>,
    who: Staff<Editor>,
    path: web::Path<String>,
    if_match: IfMatch,
    JsonBody(body): JsonBody<BreakingPatch>,
) -> AppResult<HttpResponse> {
    let id = item_id(&path)?;
    let languages = state.config.languages.clone();
    let current = |conn: &mut DbConn, id: &i32| breaking::get(conn, *id);
    let change = move |conn: &mut DbConn, id: &i32| breaking::update(conn, *id, body, &languages);
    Target::new(id, if_match)
        .update(&state.db, AuditBy::Actor(who.actor), current, change)
        .await
}

/// Deletes an item.
#[utoipa::path(
    tag = "Breaking",
    security(("bearer" = ["breaking:write", "role:editor"])),
    params(("id" = i32, Path, description = "The id")),
    responses(
        (status = 204, description = "Deleted"),
    )
)]
#[delete("/breaking/{id}", guard = "not_the_stream")]
pub async fn delete_breaking(
    state: web::Data<AppState>,
    who: Staff<Editor>,
    path: web::Path<String>,
    if_match: IfMatch,
) -> AppResult<HttpResponse> {
    let id = item_id(&path)?;
    let current = |conn: &mut DbConn, id: &i32| breaking::get(conn, *id);
    let remove = |conn: &mut DbConn, id: &i32| breaking::delete(conn, *id);
    Target::new(id, if_match)
        .delete(&state.db, AuditBy::Actor(who.actor), current, remove)
        .await
}

/// How often an idle stream sends a comment, so proxies keep it open.
const HEARTBEAT: Duration = Duration::from_secs(15);
/// What a client waits before reconnecting after the stream drops (milliseconds).
const RETRY_MS: u32 = 3_000;
/// What a client refused for its address's share waits: streams free as readers leave.
const ADDRESS_FULL_RETRY_SECONDS: u64 = 5;

/// The live ticker as Server-Sent Events. First exactly one `snapshot` event whose data
/// is the JSON array of the live items (as `GET /breaking` orders them); then
/// `created`, `updated` and `expired` events whose data is the item, and `deleted`
/// events whose data is `{"id": …}`, as they happen (expiry and scheduled go-live at
/// their time). Every event but a resumed snapshot has an `id:`; reconnecting with
/// `Last-Event-ID` (browsers do it by themselves) gives the snapshot without an id,
/// then every event missed since that id, then live ones: apply events by item id and
/// nothing is missed or doubled. Replayed events carry each item's current state (an
/// edited item's old text and a deleted item's text are never replayed). A client more
/// than 100 events or 10 minutes behind, or with an id that is not one of ours, gets
/// the snapshot with a fresh id and no replay. A comment line comes every 15 s when
/// idle. Streams are capped per client address (`STREAMS_PER_ADDRESS`; beyond it, 429)
/// and per instance (`STREAM_MAX_CONNECTIONS`; beyond it, 503), both with
/// `Retry-After` and `Connection: close`.
#[utoipa::path(
    tag = "Breaking",
    params(
        LangParams,
        ("Last-Event-ID" = Option<String>, Header, description = "The id of the last event received, to resume after it"),
    ),
    responses(
        (status = 200, description = "An endless `text/event-stream`", body = String, content_type = "text/event-stream"),
        (status = 429, response = crate::http::responses::RateLimited),
        (status = 503, response = crate::http::responses::Unavailable),
    )
)]
#[get("/breaking/stream")]
pub async fn stream_breaking(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let lang = LangParams::parse(req.query_string(), &state.config.languages)?;
    // An id that is not a number is treated as absent: the client gets a snapshot.
    let resume = req
        .headers()
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i32>().ok())
        .filter(|id| *id >= 0);
    let address = client_address(&req, &state.config.trusted_proxies);
    let subscription = match state.hub.subscribe(&address) {
        Ok(subscription) => subscription,
        Err(refused) => return Ok(refusal(refused)),
    };
    let wanted = lang.clone();
    let opening = state
        .db
        .read(move |conn| breaking_events::opening(conn, wanted.as_deref(), resume))
        .await?;
    let mut res = HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/event-stream"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(event_stream(subscription, opening, lang));
    res.extensions_mut().insert(Uncacheable);
    Ok(res)
}

/// The answer to a stream that may not open. The connection is closed after it: a
/// client that retries in a loop must not hold a connection open between tries, and
/// the refused slot is the very resource that was short.
fn refusal(refused: Refused) -> HttpResponse {
    let error = match refused {
        Refused::AddressFull => AppError::RateLimited {
            retry_after_seconds: ADDRESS_FULL_RETRY_SECONDS,
        },
        Refused::Full => {
            AppError::Unavailable("too many open breaking streams; retry shortly".into())
        }
    };
    let mut res = error.error_response();
    // The flag is what closes an HTTP/1.1 connection (the server writes the header from
    // it and drops a hand-set one); the header is for in-process readers.
    res.head_mut().set_connection_type(ConnectionType::Close);
    res.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    res
}

/// One SSE event in wire form; `id` is left out when `None`.
fn frame(id: Option<i32>, kind: EventKind, data: &str) -> Bytes {
    let mut out = String::with_capacity(data.len() + 48);
    if let Some(id) = id {
        out.push_str(&format!("id: {id}\n"));
    }
    out.push_str(&format!("event: {kind}\ndata: {data}\n\n"));
    Bytes::from(out)
}

struct StreamState {
    pending: std::collections::VecDeque<Bytes>,
    subscription: Subscription,
    lang: Option<String>,
    /// Events up to this id are already in what was sent.
    sent_up_to: i32,
    heartbeat: tokio::time::Interval,
}

fn event_stream(
    subscription: Subscription,
    opening: Opening,
    lang: Option<String>,
) -> impl futures_util::Stream<Item = Result<Bytes, actix_web::Error>> {
    let mut pending = std::collections::VecDeque::new();
    pending.push_back(Bytes::from(format!("retry: {RETRY_MS}\n\n")));
    let snapshot = serde_json::to_string(&opening.items).unwrap_or_else(|_| "[]".into());
    match opening.missed {
        Some(missed) => {
            pending.push_back(frame(None, EventKind::Snapshot, &snapshot));
            for event in missed {
                pending.push_back(frame(Some(event.id), event.kind, &event.payload));
            }
        }
        None => pending.push_back(frame(Some(opening.latest), EventKind::Snapshot, &snapshot)),
    }
    let start = tokio::time::Instant::now() + HEARTBEAT;
    let state = StreamState {
        pending,
        subscription,
        lang,
        sent_up_to: opening.latest,
        heartbeat: tokio::time::interval_at(start, HEARTBEAT),
    };
    futures_util::stream::unfold(state, |mut s| async move {
        if let Some(chunk) = s.pending.pop_front() {
            return Some((Ok(chunk), s));
        }
        if *s.subscription.closed.borrow() {
            return None;
        }
        loop {
            tokio::select! {
                received = s.subscription.events.recv() => match received {
                    Ok(event) => {
                        if let Some(chunk) = live_frame(&mut s, &event) {
                            return Some((Ok(chunk), s));
                        }
                    }
                    // Fell too far behind: end the stream; the client reconnects with
                    // its Last-Event-ID and resumes from the log.
                    Err(RecvError::Lagged(_)) | Err(RecvError::Closed) => return None,
                },
                _ = s.heartbeat.tick() => {
                    return Some((Ok(Bytes::from_static(b": keep-alive\n\n")), s));
                }
                _ = s.subscription.closed.changed() => return None,
            }
        }
    })
}

/// The frame of a live event for this stream, if it wants it.
fn live_frame(s: &mut StreamState, event: &Arc<Event>) -> Option<Bytes> {
    if event.id <= s.sent_up_to {
        return None;
    }
    s.sent_up_to = event.id;
    if s.lang.as_ref().is_some_and(|l| *l != event.language) {
        return None;
    }
    Some(frame(Some(event.id), event.kind, &event.payload))
}

/// `/breaking/stream` is the stream's path, never an item's: a PATCH or DELETE of it
/// gets 405 with `Allow` like any method a path does not have, not an item route's
/// answer about its body or its id.
fn not_the_stream(ctx: &actix_web::guard::GuardContext<'_>) -> bool {
    !ctx.head().uri.path().ends_with("/breaking/stream")
}
