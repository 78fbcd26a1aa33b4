//! `/regions`: topics. Anyone reads; writers create; editors change and delete.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::db::DbConn;
use crate::domain::paging::{ListResponse, PageParams};
use crate::domain::regions::{self, RegionCreate, RegionPatch, RegionQuery};
use crate::domain::{Key, Ref};
use crate::error::AppResult;
use crate::http::conditional::object;
use crate::http::created;
use crate::http::extract::{Editor, JsonBody, Staff};
use crate::http::precondition::Target;
use crate::http::state::AppState;

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
    params(PageParams),
    responses(
        (status = 200, description = "A page of regions", body = ListResponse<Ref>),
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
        .write_content(move |conn| regions::create(conn, body))
        .await?;
    Ok(created(format!("/api/v1/regions/{}", region.slug), &region))
}

/// Reads a region by id or slug.
#[utoipa::path(
    tag = "Regions",
    params(Key),
    responses(
        (status = 200, description = "The region", body = Ref),
    )
)]
#[get("/regions/{id_or_slug}")]
pub async fn get_region(state: web::Data<AppState>, key: Key) -> AppResult<HttpResponse> {
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
    params(Key),
    request_body(content = RegionPatch, content_type = "application/json"),
    responses(
        (status = 200, description = "The changed region", body = Ref),
        (status = 409, response = crate::http::responses::Conflict),
    )
)]
#[patch("/regions/{id_or_slug}")]
pub async fn update_region(
    state: web::Data<AppState>,
    _editor: Staff<Editor>,
    target: Target,
    JsonBody(body): JsonBody<RegionPatch>,
) -> AppResult<HttpResponse> {
    let change = move |conn: &mut DbConn, key: &Key| regions::update(conn, key, body);
    target.update(&state.db, regions::get, change).await
}

/// Deletes a region. A region that articles use is `409 in_use`.
#[utoipa::path(
    tag = "Regions",
    security(("bearer" = ["editor"])),
    params(Key),
    responses(
        (status = 204, description = "Deleted"),
        (status = 409, response = crate::http::responses::Conflict),
    )
)]
#[delete("/regions/{id_or_slug}")]
pub async fn delete_region(
    state: web::Data<AppState>,
    _editor: Staff<Editor>,
    target: Target,
) -> AppResult<HttpResponse> {
    target
        .delete(&state.db, regions::get, regions::delete)
        .await
}
