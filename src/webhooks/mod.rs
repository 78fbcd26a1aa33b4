//! Webhooks: endpoints that hear of changes, following the Standard Webhooks scheme.
//!
//! A change that has subscribers writes its event into an outbox (`webhook_events`,
//! one row per event with the body every endpoint receives, and `webhook_deliveries`,
//! one row per endpoint) in the change's own transaction: a rolled-back write sends
//! nothing, and a crash after the commit loses nothing. The worker in [`deliver`] sends
//! what is due, signs it, retries failures with growing delays, and disables an
//! endpoint that fails for a day. [`lifecycle`] turns article changes, and the moments
//! time makes an article live or expired, into events. [`address`] decides which
//! targets may be reached.

pub mod address;
pub mod deliver;
pub mod lifecycle;
pub mod sign;

use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Actor;
use crate::db::{DbBackend, DbConn, Written};
use crate::domain::audit::{self, Action};
use crate::domain::input::{Checker, Input, TextRule, UnknownFields};
use crate::domain::paging::{self, CursorCodec, KeyValue, ListResponse, PageRequest};
use crate::domain::params::Params;
use crate::domain::time::Timestamp;
use crate::error::{AppError, AppResult};
use crate::schema::{webhook_deliveries, webhook_events, webhooks};
use crate::vocab::ClosedSet;

crate::closed_set! {
    /// What a webhook hears of.
    pub enum EventType {
        /// An article went live: published now, or a scheduled one at its time.
        ArticlePublished = "article.published",
        /// A live article changed.
        ArticleUpdated = "article.updated",
        /// A live article went back to draft, or its `unpublish_at` passed.
        ArticleUnpublished = "article.unpublished",
        /// An article went to the trash.
        ArticleDeleted = "article.deleted",
        /// A breaking item was made.
        BreakingCreated = "breaking.created",
        /// A breaking item changed.
        BreakingUpdated = "breaking.updated",
        /// A breaking item was deleted.
        BreakingDeleted = "breaking.deleted",
        /// A media item was made (by URL or upload).
        MediaCreated = "media.created",
        /// Every event.
        All = "*",
    }
}

/// Wakes this instance's delivery worker (after a commit that may have queued events).
static WAKE: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// Tells the delivery worker that deliveries may be waiting.
pub fn wake() {
    WAKE.notify_one();
}

/// A webhook as the API shows it (never its secret).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Webhook {
    #[schema(example = 1)]
    pub id: i32,
    #[schema(example = "https://hooks.example.com/newsdesk")]
    pub url: String,
    pub events: Vec<EventType>,
    #[schema(example = "rebuild the static site")]
    pub description: Option<String>,
    /// False once disabled (by hand, or after a day of failures).
    pub active: bool,
    /// Why it was disabled automatically; `null` while active.
    pub disabled_reason: Option<String>,
    /// Since when every delivery has failed; `null` while it succeeds.
    pub failing_since: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A webhook just registered: the webhook and, this once, its signing secret.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreatedWebhook {
    /// Verifies `webhook-signature` (Standard Webhooks: `whsec_` and the base64 key).
    /// Shown once.
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    pub secret: String,
    #[serde(flatten)]
    pub webhook: Webhook,
}

/// Body of `POST /api/v1/webhooks`.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct WebhookCreate {
    /// Where deliveries go: `http` or `https`, not a private or loopback address
    /// unless `WEBHOOK_ALLOW_PRIVATE` is set, never link-local or cloud metadata.
    #[serde(default)]
    #[schema(value_type = String, example = "https://hooks.example.com/newsdesk")]
    pub url: Input<String>,
    /// The events to send (at least one; `*` for all).
    #[serde(default)]
    #[schema(value_type = Vec<EventType>, min_items = 1)]
    pub events: Input<Vec<String>>,
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 500)]
    pub description: Input<Option<String>>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub unknown: UnknownFields,
}

/// Body of `PATCH /api/v1/webhooks/{id}`: any of these.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct WebhookPatch {
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub url: Input<String>,
    #[serde(default)]
    #[schema(value_type = Option<Vec<EventType>>, min_items = 1)]
    pub events: Input<Vec<String>>,
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 500)]
    pub description: Input<String>,
    /// `true` enables again (and clears `disabled_reason`), `false` pauses deliveries.
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    pub active: Input<bool>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub unknown: UnknownFields,
}

crate::closed_set! {
    /// Where a delivery stands.
    pub enum DeliveryState {
        /// Waiting for its first attempt or a retry.
        Pending = "pending",
        /// An attempt got a 2xx.
        Succeeded = "succeeded",
        /// Every retry failed over the retry period.
        Failed = "failed",
    }
}

/// One attempt of a delivery.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Attempt {
    pub at: Timestamp,
    /// The HTTP status the endpoint answered; `null` when there was no answer.
    pub status: Option<u16>,
    /// How long the attempt took.
    pub duration_ms: u64,
    /// What went wrong, when it did (a timeout, a refused connection, a redirect).
    pub error: Option<String>,
}

/// One event's delivery to one endpoint, with its attempts.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Delivery {
    #[schema(example = 17)]
    pub id: i32,
    /// The event's `webhook-id`: the same on every attempt, so receivers drop repeats.
    #[schema(example = "msg_2QfQ1x6Vb2Nn6Jc9dJ5bTA")]
    pub event_id: String,
    pub event_type: EventType,
    pub state: DeliveryState,
    /// Attempts made so far.
    pub attempts: i32,
    /// When the next attempt is due (pending deliveries).
    pub next_attempt_at: Option<Timestamp>,
    /// The last attempt's HTTP status.
    pub response_status: Option<i32>,
    /// The last attempt's duration.
    pub duration_ms: Option<i32>,
    /// The last attempt's error.
    pub error: Option<String>,
    /// Every attempt, oldest first.
    pub attempt_log: Vec<Attempt>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

const DESCRIPTION: TextRule = TextRule::line(0, 500);

type WebhookRow = (
    i32,
    String,
    String,
    Option<String>,
    bool,
    Option<String>,
    Option<chrono::NaiveDateTime>,
    chrono::NaiveDateTime,
    chrono::NaiveDateTime,
);

/// The columns of a [`WebhookRow`].
const WEBHOOK_COLUMNS: (
    webhooks::id,
    webhooks::url,
    webhooks::events,
    webhooks::description,
    webhooks::active,
    webhooks::disabled_reason,
    webhooks::failing_since,
    webhooks::created_at,
    webhooks::updated_at,
) = (
    webhooks::id,
    webhooks::url,
    webhooks::events,
    webhooks::description,
    webhooks::active,
    webhooks::disabled_reason,
    webhooks::failing_since,
    webhooks::created_at,
    webhooks::updated_at,
);

fn load_webhook(conn: &mut DbConn, id: i32) -> AppResult<Webhook> {
    let row: Option<WebhookRow> = crate::on_backend!(conn, |c| webhooks::table
        .find(id)
        .select(WEBHOOK_COLUMNS)
        .get_result(c)
        .optional()?);
    row.map(to_webhook)
        .ok_or_else(|| AppError::not_found("webhook"))
}

fn to_webhook(r: WebhookRow) -> Webhook {
    Webhook {
        id: r.0,
        url: r.1,
        events: parse_events(&r.2),
        description: r.3,
        active: r.4,
        disabled_reason: r.5,
        failing_since: r.6.map(Into::into),
        created_at: r.7.into(),
        updated_at: r.8.into(),
    }
}

fn parse_events(stored: &str) -> Vec<EventType> {
    serde_json::from_str::<Vec<String>>(stored)
        .unwrap_or_default()
        .iter()
        .filter_map(|w| EventType::parse(w))
        .collect()
}

fn check_events(c: &mut Checker, words: &[String]) -> Vec<EventType> {
    if words.is_empty() {
        c.fail("events", "must name at least one event");
    }
    let mut events = Vec::new();
    for (i, w) in words.iter().enumerate() {
        match EventType::parse(w) {
            Some(e) if !events.contains(&e) => events.push(e),
            Some(_) => {}
            None => c.fail(
                format!("events[{i}]"),
                format!("must be one of {}", EventType::words()),
            ),
        }
    }
    events
}

fn stored_events(events: &[EventType]) -> String {
    serde_json::to_string(&events.iter().map(|e| e.as_str()).collect::<Vec<_>>())
        .unwrap_or_else(|_| "[]".into())
}

fn check_description(c: &mut Checker, d: &Option<String>) {
    if let Some(d) = d {
        c.text("description", d, DESCRIPTION);
    }
}

/// Registers a webhook (admins; the route checks the role and the target's address
/// first, with [`address::parse_target`] and a bounded resolution of its name, which a
/// write transaction must not wait for).
pub fn create(
    conn: &mut DbConn,
    actor: Actor,
    body: WebhookCreate,
    url: String,
) -> AppResult<Written<CreatedWebhook>> {
    let mut c = Checker::new();
    c.extra_fields(
        &body.unknown,
        &[
            "id",
            "secret",
            "active",
            "disabled_reason",
            "failing_since",
            "created_at",
            "updated_at",
        ],
    );
    let words = c.required("events", body.events).unwrap_or_default();
    let events = check_events(&mut c, &words);
    let description = c.optional("description", body.description).flatten();
    check_description(&mut c, &description);
    c.finish()?;
    let secret = sign::new_secret();
    let now = Timestamp::now().0;
    let id: i32 = diesel::insert_into(webhooks::table)
        .values((
            webhooks::url.eq(&url),
            webhooks::events.eq(stored_events(&events)),
            webhooks::description.eq(&description),
            webhooks::secret.eq(&secret),
            webhooks::active.eq(true),
            webhooks::created_by.eq(Some(actor.id)),
            webhooks::created_at.eq(now),
            webhooks::updated_at.eq(now),
        ))
        .returning(webhooks::id)
        .get_result(conn)?;
    audit::record(
        conn,
        Some(actor),
        Action::Create,
        "webhook",
        Some(id),
        &format!("registered webhook {id} to {url}"),
    )?;
    let webhook = load_webhook(conn, id)?;
    Ok(Written::unseen(CreatedWebhook { secret, webhook }))
}

/// Every webhook, by id.
pub fn list(conn: &mut DbConn) -> AppResult<Vec<Webhook>> {
    let rows: Vec<WebhookRow> = crate::on_backend!(conn, |c| webhooks::table
        .order(webhooks::id.asc())
        .select(WEBHOOK_COLUMNS)
        .load(c)?);
    Ok(rows.into_iter().map(to_webhook).collect())
}

/// One webhook.
pub fn get(conn: &mut DbConn, id: i32) -> AppResult<Webhook> {
    load_webhook(conn, id)
}

/// Changes a webhook; `url`, when given, was checked by the route.
pub fn update(
    conn: &mut DbConn,
    actor: Actor,
    id: i32,
    body: WebhookPatch,
    url: Option<String>,
) -> AppResult<Written<Webhook>> {
    load_webhook(conn, id)?;
    let mut c = Checker::new();
    c.extra_fields(
        &body.unknown,
        &[
            "id",
            "secret",
            "disabled_reason",
            "failing_since",
            "created_at",
            "updated_at",
        ],
    );
    let events = c
        .patch("events", body.events)
        .into_option()
        .map(|words| check_events(&mut c, &words));
    let description = c
        .patch_nullable("description", body.description)
        .into_option();
    if let Some(d) = &description {
        check_description(&mut c, d);
    }
    let active = c.patch("active", body.active).into_option();
    c.finish()?;
    let now = Timestamp::now().0;
    #[derive(AsChangeset)]
    #[diesel(table_name = webhooks)]
    struct Changes {
        url: Option<String>,
        events: Option<String>,
        description: Option<Option<String>>,
        active: Option<bool>,
        disabled_reason: Option<Option<String>>,
        failing_since: Option<Option<chrono::NaiveDateTime>>,
        updated_at: chrono::NaiveDateTime,
    }
    let enabling = active == Some(true);
    let changes = Changes {
        url,
        events: events.as_deref().map(stored_events),
        description,
        active,
        disabled_reason: enabling.then_some(None),
        failing_since: enabling.then_some(None),
        updated_at: now,
    };
    diesel::update(webhooks::table.find(id))
        .set(&changes)
        .execute(conn)?;
    audit::record(
        conn,
        Some(actor),
        Action::Update,
        "webhook",
        Some(id),
        &format!("changed webhook {id}"),
    )?;
    Ok(Written::unseen(load_webhook(conn, id)?))
}

/// Deletes a webhook and its deliveries.
pub fn delete(conn: &mut DbConn, actor: Actor, id: i32) -> AppResult<Written<()>> {
    let hook = load_webhook(conn, id)?;
    diesel::delete(webhook_deliveries::table.filter(webhook_deliveries::webhook_id.eq(id)))
        .execute(conn)?;
    diesel::delete(webhooks::table.find(id)).execute(conn)?;
    audit::record(
        conn,
        Some(actor),
        Action::Delete,
        "webhook",
        Some(id),
        &format!("deleted webhook {id} to {}", hook.url),
    )?;
    Ok(Written::unseen(()))
}

/// Queues `event` with `data` for every active webhook that hears of it, in the
/// caller's transaction. Nothing is written when none does.
pub fn emit(conn: &mut DbConn, event: EventType, data: serde_json::Value) -> AppResult<()> {
    let hooks = active(conn)?;
    emit_among(conn, &hooks, event, data)
}

/// The active webhooks: each one's id and the events it hears of, as stored.
pub type Hooks = Vec<(i32, String)>;

/// The active webhooks, for [`emit_among`].
pub fn active(conn: &mut DbConn) -> AppResult<Hooks> {
    Ok(crate::on_backend!(conn, |c| webhooks::table
        .filter(webhooks::active.eq(true))
        .select((webhooks::id, webhooks::events))
        .load(c)?))
}

/// [`emit`] to `hooks`, the active webhooks as read earlier in the same transaction (a
/// bulk write emitting many events reads them once).
pub fn emit_among(
    conn: &mut DbConn,
    hooks: &[(i32, String)],
    event: EventType,
    data: serde_json::Value,
) -> AppResult<()> {
    let targets: Vec<i32> = hooks
        .iter()
        .filter(|(_, events)| {
            parse_events(events)
                .iter()
                .any(|e| *e == event || *e == EventType::All)
        })
        .map(|(id, _)| *id)
        .collect();
    if targets.is_empty() {
        return Ok(());
    }
    let now = Timestamp::now();
    let body = serde_json::json!({
        "type": event.as_str(),
        "timestamp": now.to_rfc3339(),
        "data": data,
    });
    let msg_id = crate::auth::secrets::random_token("msg_");
    let event_id: i32 = diesel::insert_into(webhook_events::table)
        .values((
            webhook_events::msg_id.eq(&msg_id[..26]),
            webhook_events::event_type.eq(event.as_str()),
            webhook_events::body.eq(body.to_string()),
            webhook_events::created_at.eq(now.0),
        ))
        .returning(webhook_events::id)
        .get_result(conn)?;
    let rows: Vec<_> = targets
        .iter()
        .map(|hook| {
            (
                webhook_deliveries::webhook_id.eq(*hook),
                webhook_deliveries::event_id.eq(event_id),
                webhook_deliveries::state.eq(DeliveryState::Pending.as_str()),
                webhook_deliveries::attempts.eq(0),
                webhook_deliveries::next_attempt_at.eq(Some(now.0)),
                webhook_deliveries::created_at.eq(now.0),
                webhook_deliveries::updated_at.eq(now.0),
            )
        })
        .collect();
    crate::on_backend!(conn, |c| diesel::insert_into(webhook_deliveries::table)
        .values(&rows)
        .execute(c)?);
    Ok(())
}

/// The query of `GET /webhooks/{id}/deliveries` (with page parameters).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryParams {
    /// Only deliveries in this state.
    #[param(inline)]
    pub state: Option<DeliveryState>,
}

/// A parsed deliveries request.
#[derive(Debug)]
pub struct DeliveryQuery {
    pub params: DeliveryParams,
    pub page: PageRequest,
}

const SORT: &str = "-id";

impl DeliveryQuery {
    /// Reads the query string.
    pub fn parse(query: &str, codec: &CursorCodec) -> AppResult<Self> {
        let mut params = Params::parse(query)?;
        let filters: DeliveryParams = params.read()?;
        let page = PageRequest::from_params(&mut params, codec, SORT)?;
        params.finish()?;
        Ok(Self {
            params: filters,
            page,
        })
    }
}

type DeliveryRow = (
    i32,
    String,
    String,
    String,
    i32,
    Option<chrono::NaiveDateTime>,
    Option<i32>,
    Option<i32>,
    Option<String>,
    String,
    chrono::NaiveDateTime,
    chrono::NaiveDateTime,
);

fn to_delivery(r: DeliveryRow) -> Delivery {
    Delivery {
        id: r.0,
        event_id: r.1,
        event_type: EventType::parse(&r.2).unwrap_or(EventType::All),
        state: DeliveryState::parse(&r.3).unwrap_or(DeliveryState::Pending),
        attempts: r.4,
        next_attempt_at: r.5.filter(|_| r.3 == "pending").map(Into::into),
        response_status: r.6,
        duration_ms: r.7,
        error: r.8,
        attempt_log: serde_json::from_str(&r.9).unwrap_or_default(),
        created_at: r.10.into(),
        updated_at: r.11.into(),
    }
}

/// A webhook's deliveries, newest first.
pub fn deliveries(
    conn: &mut DbConn,
    webhook: i32,
    q: &DeliveryQuery,
    codec: &CursorCodec,
) -> AppResult<ListResponse<Delivery>> {
    load_webhook(conn, webhook)?;
    let filtered = || {
        let mut query = webhook_deliveries::table
            .inner_join(webhook_events::table)
            .filter(webhook_deliveries::webhook_id.eq(webhook))
            .into_boxed::<DbBackend>();
        if let Some(state) = q.params.state {
            query = query.filter(webhook_deliveries::state.eq(state.as_str()));
        }
        query
    };
    let mut query = filtered().select((
        webhook_deliveries::id,
        webhook_events::msg_id,
        webhook_events::event_type,
        webhook_deliveries::state,
        webhook_deliveries::attempts,
        webhook_deliveries::next_attempt_at,
        webhook_deliveries::last_status,
        webhook_deliveries::last_duration_ms,
        webhook_deliveries::last_error,
        webhook_deliveries::attempt_log,
        webhook_deliveries::created_at,
        webhook_deliveries::updated_at,
    ));
    if let Some(after) = q.page.after() {
        query = query.filter(webhook_deliveries::id.lt(after.last_id()?));
    }
    let rows: Vec<DeliveryRow> = query
        .order(webhook_deliveries::id.desc())
        .limit(q.page.fetch_limit())
        .offset(q.page.offset())
        .load(conn)?;
    let total = match q.page.after() {
        None => Some(filtered().count().get_result::<i64>(conn)?),
        Some(_) => None,
    };
    Ok(paging::finish_page(
        rows,
        &q.page,
        SORT,
        codec,
        total,
        |r| vec![KeyValue::Int(i64::from(r.0))],
        to_delivery,
    ))
}

/// Queues a delivery for another attempt now (whatever its state), with the same
/// `webhook-id`.
pub fn retry(
    conn: &mut DbConn,
    actor: Actor,
    webhook: i32,
    delivery: i32,
) -> AppResult<Written<()>> {
    load_webhook(conn, webhook)?;
    let now = Timestamp::now().0;
    let n = diesel::update(
        webhook_deliveries::table
            .find(delivery)
            .filter(webhook_deliveries::webhook_id.eq(webhook)),
    )
    .set((
        webhook_deliveries::state.eq(DeliveryState::Pending.as_str()),
        webhook_deliveries::next_attempt_at.eq(Some(now)),
        webhook_deliveries::updated_at.eq(now),
    ))
    .execute(conn)?;
    if n == 0 {
        return Err(AppError::not_found("delivery"));
    }
    audit::record(
        conn,
        Some(actor),
        Action::Update,
        "webhook",
        Some(webhook),
        &format!("asked webhook {webhook} to retry delivery {delivery}"),
    )?;
    Ok(Written::unseen(()))
}
