//! API tokens: `POST/GET /api/v1/tokens`, `DELETE /api/v1/tokens/{id}`.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::domain::api_tokens::{self, ApiToken, CreatedToken, TokenCreate};
use crate::domain::paging::Listing;
use crate::domain::params::Params;
use crate::error::{AppError, AppResult};
use crate::http::extract::{JsonBody, Staff};
use crate::http::state::AppState;

/// Registers the routes of this module.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(create_token)
        .service(list_tokens)
        .service(revoke_token);
}

/// Makes an API token for scripts and services. The token (`nd_…`) is in the response
/// this once; only its hash is kept. It acts as its owner, within its `scopes` and the
/// owner's current role (a writer's token never publishes), until `expires_at` or
/// until revoked; disabling the owner stops it at once. Any staff member, for
/// themselves; admins also for someone else (`user_id`, which needs `users:admin`). A
/// token made with an API token holds at most that token's scopes.
#[utoipa::path(
    tag = "Auth",
    security(("bearer" = ["role:writer"])),
    request_body = TokenCreate,
    responses(
        (status = 201, description = "The token, shown once", body = CreatedToken),
    )
)]
#[post("/tokens")]
pub async fn create_token(
    state: web::Data<AppState>,
    staff: Staff,
    JsonBody(body): JsonBody<TokenCreate>,
) -> AppResult<HttpResponse> {
    let actor = staff.actor;
    let created = state
        .db
        .write_content(move |conn| api_tokens::create(conn, actor, body))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(created))
}

/// The query of `GET /tokens`.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TokenQuery {
    /// Whose tokens (admins; default: the caller's).
    #[param(minimum = 1)]
    pub user_id: Option<i32>,
}

/// API tokens, newest first, without their secrets: the caller's own, or (admins with
/// `users:admin`) those of `user_id`.
#[utoipa::path(
    tag = "Auth",
    params(TokenQuery),
    security(("bearer" = ["role:writer"])),
    responses(
        (status = 200, description = "The tokens", body = Listing<ApiToken>),
    )
)]
#[get("/tokens")]
pub async fn list_tokens(
    state: web::Data<AppState>,
    staff: Staff,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let mut params = Params::parse(req.query_string())?;
    let TokenQuery { user_id: user } = params.read()?;
    params.finish()?;
    let actor = staff.actor;
    let list = state
        .db
        .read(move |conn| api_tokens::list(conn, actor, user))
        .await?;
    Ok(HttpResponse::Ok().json(Listing::of(list)))
}

/// The path of one token.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TokenPath {
    /// The token's id.
    pub id: String,
}

/// Revokes an API token: it stops working at once, on every instance. Your own; admins
/// (with `users:admin`) anyone's.
#[utoipa::path(
    tag = "Auth",
    params(TokenPath),
    security(("bearer" = ["role:writer"])),
    responses(
        (status = 204, description = "Revoked"),
    )
)]
#[delete("/tokens/{id}")]
pub async fn revoke_token(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<TokenPath>,
) -> AppResult<HttpResponse> {
    let id: i32 = path
        .id
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| AppError::not_found("token"))?;
    let actor = staff.actor;
    state
        .db
        .write_content(move |conn| api_tokens::revoke(conn, actor, id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
