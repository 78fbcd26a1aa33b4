//! Webhooks: registration, management, deliveries and retries. Admins only.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::domain::paging::{ListResponse, Listing, PageParams};
use crate::domain::params::Params;
use crate::error::{AppError, AppResult};
use crate::http::extract::{Admin, JsonBody, Staff};
use crate::http::precondition::{AuditBy, IfMatch, Target};
use crate::http::state::AppState;
use crate::webhooks::{
    self, CreatedWebhook, Delivery, DeliveryParams, DeliveryQuery, Webhook, WebhookCreate,
    WebhookPatch, address,
};

/// Registers the routes of this module.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(create_webhook)
        .service(list_webhooks)
        .service(get_webhook)
        .service(update_webhook)
        .service(delete_webhook)
        .service(list_deliveries)
        .service(retry_delivery);
}

fn webhook_id(segment: &str) -> AppResult<i32> {
    segment
        .parse::<i32>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| AppError::not_found("webhook"))
}

/// How long a registration waits for a target's name to resolve; a name that does not
/// resolve by then is accepted (each delivery resolves it again, under the same rules).
const RESOLVE_WITHIN: std::time::Duration = std::time::Duration::from_secs(2);

/// Checks a target URL: its form and literal address, then the addresses its name
/// resolves to (waiting at most [`RESOLVE_WITHIN`]).
async fn checked_url(state: &AppState, url: String) -> AppResult<String> {
    let allow = state.config.webhooks.allow_private;
    let (parsed, name) =
        address::parse_target(&url, allow).map_err(|m| AppError::invalid("url", m))?;
    if let Some(name) = name {
        let port = parsed.port_or_known_default().unwrap_or(443);
        let lookup = tokio::net::lookup_host((name.as_str(), port));
        if let Ok(Ok(found)) = tokio::time::timeout(RESOLVE_WITHIN, lookup).await {
            let addresses: Vec<std::net::IpAddr> = found.map(|a| a.ip()).collect();
            address::check_resolved(&addresses, allow).map_err(|m| AppError::invalid("url", m))?;
        }
    }
    Ok(parsed.to_string())
}

/// Registers a webhook. The response carries its signing `secret` this once.
/// Deliveries are `POST`s of `{"type", "timestamp", "data"}` with the Standard Webhooks
/// headers `webhook-id` (the same on every attempt of an event: drop repeats),
/// `webhook-timestamp` and `webhook-signature` (`v1,` and the base64 HMAC-SHA256 of
/// `<id>.<timestamp>.<body>` under the base64 key after `whsec_`). A delivery without
/// a 2xx within 10 s is retried with growing delays (the first within 10 s) for at
/// least a day; redirects are not followed; an endpoint failing for a day is disabled
/// with the reason. Events: `article.published` (also when a scheduled story's time
/// comes), `article.updated`, `article.unpublished`, `article.deleted`,
/// `breaking.created`, `breaking.updated`, `breaking.deleted`, `media.created`, or `*`.
#[utoipa::path(
    tag = "Webhooks",
    security(("bearer" = ["webhooks:admin", "role:admin"])),
    request_body = WebhookCreate,
    responses(
        (status = 201, description = "The webhook, with its secret shown once", body = CreatedWebhook),
    )
)]
#[post("/webhooks")]
pub async fn create_webhook(
    state: web::Data<AppState>,
    admin: Staff<Admin>,
    JsonBody(body): JsonBody<WebhookCreate>,
) -> AppResult<HttpResponse> {
    let url = match body.url.value() {
        Some(url) => checked_url(&state, url.clone()).await?,
        None => return Err(AppError::invalid("url", "is required")),
    };
    let actor = admin.actor;
    let created = state
        .db
        .write_content(move |conn| webhooks::create(conn, actor, body, url))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .insert_header((
            actix_web::http::header::LOCATION,
            format!("/api/v1/webhooks/{}", created.webhook.id),
        ))
        .json(created))
}

/// Every webhook, by id (never their secrets).
#[utoipa::path(
    tag = "Webhooks",
    security(("bearer" = ["webhooks:admin", "role:admin"])),
    responses(
        (status = 200, description = "The webhooks", body = Listing<Webhook>),
    )
)]
#[get("/webhooks")]
pub async fn list_webhooks(
    state: web::Data<AppState>,
    _admin: Staff<Admin>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    Params::parse(req.query_string())?.finish()?;
    let list = state.db.read(webhooks::list).await?;
    Ok(HttpResponse::Ok().json(Listing::of(list)))
}

/// One webhook.
#[utoipa::path(
    tag = "Webhooks",
    params(("id" = i32, Path, description = "The webhook's id")),
    security(("bearer" = ["webhooks:admin", "role:admin"])),
    responses(
        (status = 200, description = "The webhook", body = Webhook),
    )
)]
#[get("/webhooks/{id}")]
pub async fn get_webhook(
    state: web::Data<AppState>,
    _admin: Staff<Admin>,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let id = webhook_id(&path)?;
    let hook = state.db.read(move |conn| webhooks::get(conn, id)).await?;
    Ok(HttpResponse::Ok().json(hook))
}

/// Changes a webhook: `url`, `events`, `description`, or `active` (`true` enables a
/// disabled one again and clears its `disabled_reason`; deliveries it missed while
/// disabled are not made).
#[utoipa::path(
    tag = "Webhooks",
    params(("id" = i32, Path, description = "The webhook's id")),
    security(("bearer" = ["webhooks:admin", "role:admin"])),
    request_body(content = WebhookPatch, content_type = "application/json"),
    responses(
        (status = 200, description = "The changed webhook", body = Webhook),
    )
)]
#[patch("/webhooks/{id}")]
pub async fn update_webhook(
    state: web::Data<AppState>,
    admin: Staff<Admin>,
    path: web::Path<String>,
    if_match: IfMatch,
    JsonBody(body): JsonBody<WebhookPatch>,
) -> AppResult<HttpResponse> {
    let id = webhook_id(&path)?;
    let url = match body.url.value() {
        Some(url) => Some(checked_url(&state, url.clone()).await?),
        None if body.url.is_present() => {
            return Err(AppError::invalid("url", "must not be null"));
        }
        None => None,
    };
    let actor = admin.actor;
    let answer = Target::new(id, if_match)
        .update(
            &state.db,
            AuditBy::TheChange,
            |conn, id| webhooks::get(conn, *id),
            move |conn, id| webhooks::update(conn, actor, *id, body, url),
        )
        .await?;
    webhooks::wake();
    Ok(answer)
}

/// Deletes a webhook and its delivery log.
#[utoipa::path(
    tag = "Webhooks",
    params(("id" = i32, Path, description = "The webhook's id")),
    security(("bearer" = ["webhooks:admin", "role:admin"])),
    responses(
        (status = 204, description = "Deleted"),
    )
)]
#[delete("/webhooks/{id}")]
pub async fn delete_webhook(
    state: web::Data<AppState>,
    admin: Staff<Admin>,
    path: web::Path<String>,
    if_match: IfMatch,
) -> AppResult<HttpResponse> {
    let id = webhook_id(&path)?;
    let actor = admin.actor;
    Target::new(id, if_match)
        .delete(
            &state.db,
            AuditBy::TheChange,
            |conn, id| webhooks::get(conn, *id),
            move |conn, id| webhooks::delete(conn, actor, *id),
        )
        .await
}

/// A webhook's deliveries, newest first: state, attempts (each with its time, HTTP
/// status, duration and error), the next attempt's time.
#[utoipa::path(
    tag = "Webhooks",
    params(("id" = i32, Path, description = "The webhook's id"), DeliveryParams, PageParams),
    security(("bearer" = ["webhooks:admin", "role:admin"])),
    responses(
        (status = 200, description = "The deliveries", body = ListResponse<Delivery>),
    )
)]
#[get("/webhooks/{id}/deliveries")]
pub async fn list_deliveries(
    state: web::Data<AppState>,
    _admin: Staff<Admin>,
    path: web::Path<String>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let id = webhook_id(&path)?;
    let q = DeliveryQuery::parse(req.query_string(), &state.cursors)?;
    let codec = state.cursors.clone();
    let page = state
        .db
        .read(move |conn| webhooks::deliveries(conn, id, &q, &codec))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// The path of one delivery.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct DeliveryPath {
    /// The webhook's id.
    pub id: String,
    /// The delivery's id.
    pub delivery: String,
}

/// Makes another attempt of a delivery now, whatever its state, with the same
/// `webhook-id`. Answered 202 at once; the attempt shows in the deliveries.
#[utoipa::path(
    tag = "Webhooks",
    params(DeliveryPath),
    security(("bearer" = ["webhooks:admin", "role:admin"])),
    responses(
        (status = 202, description = "Queued"),
    )
)]
#[post("/webhooks/{id}/deliveries/{delivery}/retry")]
pub async fn retry_delivery(
    state: web::Data<AppState>,
    admin: Staff<Admin>,
    path: web::Path<DeliveryPath>,
) -> AppResult<HttpResponse> {
    let id = webhook_id(&path.id)?;
    let delivery = path
        .delivery
        .parse::<i32>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| AppError::not_found("delivery"))?;
    let actor = admin.actor;
    state
        .db
        .write_content(move |conn| webhooks::retry(conn, actor, id, delivery))
        .await?;
    webhooks::wake();
    Ok(HttpResponse::Accepted().finish())
}
