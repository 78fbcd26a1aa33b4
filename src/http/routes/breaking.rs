//! `/breaking`: the BREAKING ticker. Anyone reads the live items; editors write.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::db::Scope;
use crate::domain::breaking::{self, BreakingCreate, BreakingItem, BreakingPatch, BreakingQuery};
use crate::domain::paging::ListResponse;
use crate::error::{AppError, AppResult};
use crate::http::conditional::object;
use crate::http::extract::{Editor, JsonBody, MaybeStaff, Staff};
use crate::http::precondition::IfMatch;
use crate::http::state::AppState;
use crate::http::{created, params};

/// Registers the routes of this module.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_breaking)
        .service(create_breaking)
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
    params(params::PageParams, params::BreakingFilters),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "A page of breaking items", body = ListResponse<BreakingItem>),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
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
    security(("bearer" = ["editor"])),
    request_body = BreakingCreate,
    responses(
        (status = 201, description = "The new item", body = BreakingItem,
            headers(("Location" = String, description = "URL of the new item"))),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 413, response = crate::openapi::PayloadTooLarge),
        (status = 415, response = crate::openapi::UnsupportedMediaType),
        (status = 422, response = crate::openapi::ValidationFailed),
    )
)]
#[post("/breaking")]
pub async fn create_breaking(
    state: web::Data<AppState>,
    _editor: Staff<Editor>,
    JsonBody(body): JsonBody<BreakingCreate>,
) -> AppResult<HttpResponse> {
    let languages = state.config.languages.clone();
    let item = state
        .db
        .write_content(Scope::Created, move |conn| {
            breaking::create(conn, body, &languages)
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
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[get("/breaking/{id}")]
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
    security(("bearer" = ["editor"])),
    params(("id" = i32, Path, description = "The id")),
    request_body(content = BreakingPatch, content_type = "application/json"),
    responses(
        (status = 200, description = "The changed item", body = BreakingItem),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, response = crate::openapi::NotFound),
        (status = 413, response = crate::openapi::PayloadTooLarge),
        (status = 415, response = crate::openapi::UnsupportedMediaType),
        (status = 422, response = crate::openapi::ValidationFailed),
    )
)]
#[patch("/breaking/{id}")]
pub async fn update_breaking(
    state: web::Data<AppState>,
    _editor: Staff<Editor>,
    path: web::Path<String>,
    if_match: IfMatch,
    JsonBody(body): JsonBody<BreakingPatch>,
) -> AppResult<HttpResponse> {
    let id = item_id(&path)?;
    let languages = state.config.languages.clone();
    let item = state
        .db
        .write_content(Scope::Created, move |conn| {
            if if_match.is_set() {
                if_match.check(&breaking::get(conn, id)?)?;
            }
            breaking::update(conn, id, body, &languages)
        })
        .await?;
    Ok(HttpResponse::Ok().json(item))
}

/// Deletes an item.
#[utoipa::path(
    tag = "Breaking",
    security(("bearer" = ["editor"])),
    params(("id" = i32, Path, description = "The id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[delete("/breaking/{id}")]
pub async fn delete_breaking(
    state: web::Data<AppState>,
    _editor: Staff<Editor>,
    path: web::Path<String>,
    if_match: IfMatch,
) -> AppResult<HttpResponse> {
    let id = item_id(&path)?;
    state
        .db
        .write_content(Scope::Created, move |conn| {
            if if_match.is_set() {
                if_match.check(&breaking::get(conn, id)?)?;
            }
            breaking::delete(conn, id)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
