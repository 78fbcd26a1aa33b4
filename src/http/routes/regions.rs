//! `/regions`: topics. Anyone reads; writers create; editors change and delete.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::db::DbConn;
use crate::domain::Key;
use crate::domain::audit::{self, Action};
use crate::domain::localized::LocaleParams;
use crate::domain::paging::{ListResponse, PageParams};
use crate::domain::regions::{self, Region, RegionCreate, RegionPatch, RegionQuery};
use crate::error::AppResult;
use crate::http::created;
use crate::http::extract::{Editor, JsonBody, Locale, Staff};
use crate::http::moved::read_named;
use crate::http::precondition::{AuditBy, Target};
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
    params(PageParams, LocaleParams),
    responses(
        (status = 200, description = "A page of regions", body = ListResponse<Region>),
    )
)]
#[get("/regions")]
pub async fn list_regions(
    state: web::Data<AppState>,
    req: HttpRequest,
    locale: Locale,
) -> AppResult<HttpResponse> {
    let query = RegionQuery::parse(req.query_string(), &state.cursors)?;
    let codec = state.cursors.clone();
    let lang = locale.0.clone();
    let page = state
        .db
        .read(move |conn| regions::list(conn, &query, &codec, lang.as_deref()))
        .await?;
    let base = state.config.languages.first().map(String::as_str);
    Ok(locale.label(HttpResponse::Ok().json(page), base))
}

/// Creates a region; `slug` is made from `name` when left out.
#[utoipa::path(
    tag = "Regions",
    security(("bearer" = ["content:write", "role:editor"])),
    request_body = RegionCreate,
    responses(
        (status = 201, description = "The new region", body = Region,
            headers(("Location" = String, description = "URL of the new region"))),
    )
)]
#[post("/regions")]
pub async fn create_region(
    state: web::Data<AppState>,
    who: Staff<Editor>,
    JsonBody(body): JsonBody<RegionCreate>,
) -> AppResult<HttpResponse> {
    let languages = state.config.languages.clone();
    let region = state
        .db
        .write_content(move |conn| {
            let written = regions::create(conn, body, &languages)?;
            audit::logged(conn, who.actor, Action::Create, written)
        })
        .await?;
    Ok(created(format!("/api/v1/regions/{}", region.slug), &region))
}

/// Reads a region by id or slug. A slug the region had before answers 308 with the
/// current path.
#[utoipa::path(
    tag = "Regions",
    params(Key, LocaleParams),
    responses(
        (status = 200, description = "The region", body = Region),
        (status = 308, response = crate::http::responses::Moved),
    )
)]
#[get("/regions/{id_or_slug}")]
pub async fn get_region(
    state: web::Data<AppState>,
    req: HttpRequest,
    key: Key,
    locale: Locale,
) -> AppResult<HttpResponse> {
    read_named(
        &state,
        &req,
        key,
        locale,
        regions::KIND,
        regions::get_dated,
        regions::slug_of,
    )
    .await
}

/// Renames a region or changes its slug.
#[utoipa::path(
    tag = "Regions",
    security(("bearer" = ["content:write", "role:editor"])),
    params(Key),
    request_body(content = RegionPatch, content_type = "application/json"),
    responses(
        (status = 200, description = "The changed region", body = Region),
        (status = 409, response = crate::http::responses::Conflict),
    )
)]
#[patch("/regions/{id_or_slug}")]
pub async fn update_region(
    state: web::Data<AppState>,
    who: Staff<Editor>,
    target: Target,
    locale: Locale,
    JsonBody(body): JsonBody<RegionPatch>,
) -> AppResult<HttpResponse> {
    let languages = state.config.languages.clone();
    let change = move |conn: &mut DbConn, key: &Key| regions::update(conn, key, body, &languages);
    // If-Match is compared with the representation in this request's language.
    let current = move |conn: &mut DbConn, key: &Key| regions::get_in(conn, key, locale.lang());
    target
        .update(&state.db, AuditBy::Actor(who.actor), current, change)
        .await
}

/// Deletes a region. A region that articles use is `409 in_use`.
#[utoipa::path(
    tag = "Regions",
    security(("bearer" = ["content:write", "role:editor"])),
    params(Key),
    responses(
        (status = 204, description = "Deleted"),
        (status = 409, response = crate::http::responses::Conflict),
    )
)]
#[delete("/regions/{id_or_slug}")]
pub async fn delete_region(
    state: web::Data<AppState>,
    who: Staff<Editor>,
    target: Target,
    locale: Locale,
) -> AppResult<HttpResponse> {
    let current = move |conn: &mut DbConn, key: &Key| regions::get_in(conn, key, locale.lang());
    target
        .delete(
            &state.db,
            AuditBy::Actor(who.actor),
            current,
            regions::delete,
        )
        .await
}
