//! `/sections`: the site menu, a tree. Anyone reads; editors write.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::db::DbConn;
use crate::domain::Key;
use crate::domain::audit::{self, Action};
use crate::domain::localized::LocaleParams;
use crate::domain::paging::PageParams;
use crate::domain::sections::{
    self, Section, SectionCreate, SectionList, SectionParams, SectionPatch, SectionQuery,
};
use crate::error::AppResult;
use crate::http::created;
use crate::http::extract::{Editor, JsonBody, Locale, Staff};
use crate::http::moved::read_named;
use crate::http::precondition::{AuditBy, Target};
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
/// each parent (parents in id order) by `position`. With `tree=true`, the whole menu
/// nested instead: each section with its `children`, in position order.
#[utoipa::path(
    tag = "Sections",
    params(PageParams, SectionParams, LocaleParams),
    responses(
        (status = 200, description = "A page of sections, or with `tree=true` the menu nested", body = SectionList),
    )
)]
#[get("/sections")]
pub async fn list_sections(
    state: web::Data<AppState>,
    req: HttpRequest,
    locale: Locale,
) -> AppResult<HttpResponse> {
    let query = SectionQuery::parse(req.query_string(), &state.cursors)?;
    let codec = state.cursors.clone();
    let lang = locale.0.clone();
    let page = state
        .db
        .read(move |conn| sections::list_or_tree(conn, &query, &codec, lang.as_deref()))
        .await?;
    let base = state.config.languages.first().map(String::as_str);
    Ok(locale.label(HttpResponse::Ok().json(page), base))
}

/// Creates a section, optionally under a `parent` (its slug).
///
/// A new child changes what a parent's section filter covers, so this retires every
/// cached page.
#[utoipa::path(
    tag = "Sections",
    security(("bearer" = ["content:write", "role:editor"])),
    request_body = SectionCreate,
    responses(
        (status = 201, description = "The new section", body = Section,
            headers(("Location" = String, description = "URL of the new section"))),
    )
)]
#[post("/sections")]
pub async fn create_section(
    state: web::Data<AppState>,
    who: Staff<Editor>,
    JsonBody(body): JsonBody<SectionCreate>,
) -> AppResult<HttpResponse> {
    let languages = state.config.languages.clone();
    let section = state
        .db
        .write_content(move |conn| {
            let written = sections::create(conn, body, &languages)?;
            audit::logged(conn, who.actor, Action::Create, written)
        })
        .await?;
    Ok(created(
        format!("/api/v1/sections/{}", section.slug),
        &section,
    ))
}

/// Reads a section by id or slug. A slug the section had before answers 308 with the
/// current path.
#[utoipa::path(
    tag = "Sections",
    params(Key, LocaleParams),
    responses(
        (status = 200, description = "The section", body = Section),
        (status = 308, response = crate::http::responses::Moved),
    )
)]
#[get("/sections/{id_or_slug}")]
pub async fn get_section(
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
        sections::KIND,
        sections::get_dated,
        sections::slug_of,
    )
    .await
}

/// Changes a section. A `parent` that would make it its own ancestor is a 422;
/// `parent: null` moves it to the top of the menu.
#[utoipa::path(
    tag = "Sections",
    security(("bearer" = ["content:write", "role:editor"])),
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
    who: Staff<Editor>,
    target: Target,
    locale: Locale,
    JsonBody(body): JsonBody<SectionPatch>,
) -> AppResult<HttpResponse> {
    let languages = state.config.languages.clone();
    let change = move |conn: &mut DbConn, key: &Key| sections::update(conn, key, body, &languages);
    // If-Match is compared with the representation in this request's language.
    let current = move |conn: &mut DbConn, key: &Key| sections::get_in(conn, key, locale.lang());
    target
        .update(&state.db, AuditBy::Actor(who.actor), current, change)
        .await
}

/// Deletes a section. One that articles use or that has child sections is
/// `409 in_use`, and nothing changes.
#[utoipa::path(
    tag = "Sections",
    security(("bearer" = ["content:write", "role:editor"])),
    params(Key),
    responses(
        (status = 204, description = "Deleted"),
        (status = 409, response = crate::http::responses::Conflict),
    )
)]
#[delete("/sections/{id_or_slug}")]
pub async fn delete_section(
    state: web::Data<AppState>,
    who: Staff<Editor>,
    target: Target,
    locale: Locale,
) -> AppResult<HttpResponse> {
    let current = move |conn: &mut DbConn, key: &Key| sections::get_in(conn, key, locale.lang());
    target
        .delete(
            &state.db,
            AuditBy::Actor(who.actor),
            current,
            sections::delete,
        )
        .await
}
