//! `/sections`: the site menu, a tree. Anyone reads; editors write.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::db::DbConn;
use crate::domain::Key;
use crate::domain::paging::{ListResponse, PageParams};
use crate::domain::sections::{self, Section, SectionCreate, SectionPatch, SectionQuery};
use crate::error::AppResult;
use crate::http::conditional::object;
use crate::http::created;
use crate::http::extract::{Editor, JsonBody, Staff};
use crate::http::precondition::Target;
use crate::http::state::AppState;

/// Registers the routes of this module.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_sections)
        .service(create_section)
        .service(get_section)
        .service(update_section)
        .service(delete_section);
}

/// Lists sections flat: the top-level sections by `position`, then the children of
/// each parent (parents in id order) by `position`.
#[utoipa::path(
    tag = "Sections",
    params(PageParams),
    responses(
        (status = 200, description = "A page of sections", body = ListResponse<Section>),
    )
)]
#[get("/sections")]
pub async fn list_sections(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let query = SectionQuery::parse(req.query_string(), &state.cursors)?;
    let codec = state.cursors.clone();
    let page = state
        .db
        .read(move |conn| sections::list(conn, &query, &codec))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Creates a section, optionally under a `parent` (its slug).
///
/// A new child changes what a parent's section filter covers, so this retires every
/// cached page.
#[utoipa::path(
    tag = "Sections",
    security(("bearer" = ["editor"])),
    request_body = SectionCreate,
    responses(
        (status = 201, description = "The new section", body = Section,
            headers(("Location" = String, description = "URL of the new section"))),
    )
)]
#[post("/sections")]
pub async fn create_section(
    state: web::Data<AppState>,
    _editor: Staff<Editor>,
    JsonBody(body): JsonBody<SectionCreate>,
) -> AppResult<HttpResponse> {
    let section = state
        .db
        .write_content(move |conn| sections::create(conn, body))
        .await?;
    Ok(created(
        format!("/api/v1/sections/{}", section.slug),
        &section,
    ))
}

/// Reads a section by id or slug.
#[utoipa::path(
    tag = "Sections",
    params(Key),
    responses(
        (status = 200, description = "The section", body = Section),
    )
)]
#[get("/sections/{id_or_slug}")]
pub async fn get_section(state: web::Data<AppState>, key: Key) -> AppResult<HttpResponse> {
    let (section, updated_at) = state
        .db
        .read(move |conn| sections::get_dated(conn, &key))
        .await?;
    Ok(object(&section, updated_at))
}

/// Changes a section. A `parent` that would make it its own ancestor is a 422;
/// `parent: null` moves it to the top of the menu.
#[utoipa::path(
    tag = "Sections",
    security(("bearer" = ["editor"])),
    params(Key),
    request_body(content = SectionPatch, content_type = "application/json"),
    responses(
        (status = 200, description = "The changed section", body = Section),
        (status = 409, response = crate::http::responses::Conflict),
    )
)]
#[patch("/sections/{id_or_slug}")]
pub async fn update_section(
    state: web::Data<AppState>,
    _editor: Staff<Editor>,
    target: Target,
    JsonBody(body): JsonBody<SectionPatch>,
) -> AppResult<HttpResponse> {
    let change = move |conn: &mut DbConn, key: &Key| sections::update(conn, key, body);
    target.update(&state.db, sections::get, change).await
}

/// Deletes a section. One that articles use or that has child sections is
/// `409 in_use`, and nothing changes.
#[utoipa::path(
    tag = "Sections",
    security(("bearer" = ["editor"])),
    params(Key),
    responses(
        (status = 204, description = "Deleted"),
        (status = 409, response = crate::http::responses::Conflict),
    )
)]
#[delete("/sections/{id_or_slug}")]
pub async fn delete_section(
    state: web::Data<AppState>,
    _editor: Staff<Editor>,
    target: Target,
) -> AppResult<HttpResponse> {
    target
        .delete(&state.db, sections::get, sections::delete)
        .await
}
