//! `/regions`: topics. Anyone reads; writers create; editors change and delete.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::db::Scope;
use crate::domain::paging::ListResponse;
use crate::domain::regions::{self, RegionCreate, RegionPatch, RegionQuery};
use crate::domain::{Key, Ref};
use crate::error::AppResult;
use crate::http::conditional::object;
use crate::http::extract::{Editor, JsonBody, Staff};
use crate::http::precondition::IfMatch;
use crate::http::state::AppState;
use crate::http::{created, params};

/// Registers the routes of this module.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_regions)
        .service(create_region)
        .service(get_region)
        .service(update_region)
        .service(delete_region);
}

/// Lists regions by name.
#[utoipa::path(
    tag = "Regions",
    params(params::PageParams),
    responses(
        (status = 200, description = "A page of regions", body = ListResponse<Ref>),
        (status = 400, response = crate::openapi::BadRequest),
    )
)]
#[get("/regions")]
pub async fn list_regions(state: web::Data<AppState>, req: HttpRequest) -> AppResult<HttpResponse> {
    let query = RegionQuery::parse(req.query_string(), &state.cursors)?;
    let codec = state.cursors.clone();
    let page = state
        .db
        .read(move |conn| regions::list(conn, &query, &codec))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Creates a region; `slug` is made from `name` when left out.
#[utoipa::path(
    tag = "Regions",
    security(("bearer" = ["editor"])),
    request_body = RegionCreate,
    responses(
        (status = 201, description = "The new region", body = Ref,
            headers(("Location" = String, description = "URL of the new region"))),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 409, response = crate::openapi::Conflict),
        (status = 413, response = crate::openapi::PayloadTooLarge),
        (status = 415, response = crate::openapi::UnsupportedMediaType),
        (status = 422, response = crate::openapi::ValidationFailed),
    )
)]
#[post("/regions")]
pub async fn create_region(
    state: web::Data<AppState>,
    _editor: Staff<Editor>,
    JsonBody(body): JsonBody<RegionCreate>,
) -> AppResult<HttpResponse> {
    let region = state
        .db
        .write_content(Scope::Created, move |conn| regions::create(conn, body))
        .await?;
    Ok(created(format!("/api/v1/regions/{}", region.slug), &region))
}

/// Reads a region by id or slug.
#[utoipa::path(
    tag = "Regions",
    params(("id_or_slug" = String, Path, description = "The id (`42`) or the slug")),
    responses(
        (status = 200, description = "The region", body = Ref),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[get("/regions/{id_or_slug}")]
pub async fn get_region(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let key = Key::parse(&path);
    let (region, updated_at) = state
        .db
        .read(move |conn| regions::get_dated(conn, &key))
        .await?;
    Ok(object(&region, updated_at))
}

/// Renames a region or changes its slug.
#[utoipa::path(
    tag = "Regions",
    security(("bearer" = ["editor"])),
    params(("id_or_slug" = String, Path, description = "The id (`42`) or the slug")),
    request_body(content = RegionPatch, content_type = "application/json"),
    responses(
        (status = 200, description = "The changed region", body = Ref),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 413, response = crate::openapi::PayloadTooLarge),
        (status = 415, response = crate::openapi::UnsupportedMediaType),
        (status = 422, response = crate::openapi::ValidationFailed),
    )
)]
#[patch("/regions/{id_or_slug}")]
pub async fn update_region(
    state: web::Data<AppState>,
    _editor: Staff<Editor>,
    path: web::Path<String>,
    if_match: IfMatch,
    JsonBody(body): JsonBody<RegionPatch>,
) -> AppResult<HttpResponse> {
    let key = Key::parse(&path);
    let region = state
        .db
        .write_content(Scope::All, move |conn| {
            // The body is validated before the condition: a bad body is a 4xx of its
            // own whatever the ETag; a stale ETag then undoes the change (412).
            if_match.guard(
                conn,
                |conn| regions::get(conn, &key),
                |conn| regions::update(conn, &key, body),
            )
        })
        .await?;
    Ok(HttpResponse::Ok().json(region))
}

/// Deletes a region. A region that articles use is `409 in_use`.
#[utoipa::path(
    tag = "Regions",
    security(("bearer" = ["editor"])),
    params(("id_or_slug" = String, Path, description = "The id (`42`) or the slug")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
    )
)]
#[delete("/regions/{id_or_slug}")]
pub async fn delete_region(
    state: web::Data<AppState>,
    _editor: Staff<Editor>,
    path: web::Path<String>,
    if_match: IfMatch,
) -> AppResult<HttpResponse> {
    let key = Key::parse(&path);
    state
        .db
        .write_content(Scope::All, move |conn| {
            if if_match.is_set() {
                if_match.check(&regions::get(conn, &key)?)?;
            }
            regions::delete(conn, &key)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
