//! `/tags`: topics. Anyone reads; writers create; editors change and delete.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::db::DbConn;
use crate::domain::Key;
use crate::domain::audit::{self, Action};
use crate::domain::localized::LocaleParams;
use crate::domain::paging::{ListResponse, PageParams};
use crate::domain::tags::{self, Tag, TagCreate, TagParams, TagPatch, TagQuery};
use crate::error::AppResult;
use crate::http::created;
use crate::http::extract::{Editor, JsonBody, Locale, Staff};
use crate::http::moved::read_named;
use crate::http::precondition::{AuditBy, Target};
use crate::http::state::AppState;

/// Registers the routes of this module.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_tags)
        .service(create_tag)
        .service(get_tag)
        .service(update_tag)
        .service(delete_tag);
}

/// Lists tags by name, each with its count of published articles.
#[utoipa::path(
    tag = "Tags",
    params(PageParams, TagParams, LocaleParams),
    responses(
        (status = 200, description = "A page of tags", body = ListResponse<Tag>),
    )
)]
#[get("/tags")]
pub async fn list_tags(
    state: web::Data<AppState>,
    req: HttpRequest,
    locale: Locale,
) -> AppResult<HttpResponse> {
    let query = TagQuery::parse(req.query_string(), &state.cursors)?;
    let codec = state.cursors.clone();
    let lang = locale.0.clone();
    let page = state
        .db
        .read(move |conn| tags::list(conn, &query, &codec, lang.as_deref()))
        .await?;
    Ok(locale.label(
        HttpResponse::Ok().json(page),
        state.config.languages.first().map(String::as_str),
    ))
}

/// Creates a tag; `slug` is made from `name` when left out.
#[utoipa::path(
    tag = "Tags",
    security(("bearer" = ["content:write", "role:writer"])),
    request_body = TagCreate,
    responses(
        (status = 201, description = "The new tag", body = Tag,
            headers(("Location" = String, description = "URL of the new tag"))),
    )
)]
#[post("/tags")]
pub async fn create_tag(
    state: web::Data<AppState>,
    who: Staff,
    JsonBody(body): JsonBody<TagCreate>,
) -> AppResult<HttpResponse> {
    let languages = state.config.languages.clone();
    let tag = state
        .db
        .write_content(move |conn| {
            let written = tags::create(conn, body, &languages)?;
            audit::logged(conn, who.actor, Action::Create, written)
        })
        .await?;
    Ok(created(format!("/api/v1/tags/{}", tag.slug), &tag))
}

/// Reads a tag by id or slug. A slug the tag had before answers 308 with the
/// current path.
#[utoipa::path(
    tag = "Tags",
    params(Key, LocaleParams),
    responses(
        (status = 200, description = "The tag", body = Tag),
        (status = 308, response = crate::http::responses::Moved),
    )
)]
#[get("/tags/{id_or_slug}")]
pub async fn get_tag(
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
        tags::KIND,
        tags::get_dated,
        tags::slug_of,
    )
    .await
}

/// Changes a tag; `description: null` clears it.
#[utoipa::path(
    tag = "Tags",
    security(("bearer" = ["content:write", "role:editor"])),
    params(Key),
    request_body(content = TagPatch, content_type = "application/json"),
    responses(
        (status = 200, description = "The changed tag", body = Tag),
        (status = 409, response = crate::http::responses::Conflict),
    )
)]
#[patch("/tags/{id_or_slug}")]
pub async fn update_tag(
    state: web::Data<AppState>,
    who: Staff<Editor>,
    target: Target,
    locale: Locale,
    JsonBody(body): JsonBody<TagPatch>,
) -> AppResult<HttpResponse> {
    let languages = state.config.languages.clone();
    let change = move |conn: &mut DbConn, key: &Key| tags::update(conn, key, body, &languages);
    // If-Match is compared with the representation in this request's language.
    let current = move |conn: &mut DbConn, key: &Key| tags::get_in(conn, key, locale.lang());
    target
        .update(&state.db, AuditBy::Actor(who.actor), current, change)
        .await
}

/// Deletes a tag and detaches it from its articles (the articles stay).
#[utoipa::path(
    tag = "Tags",
    security(("bearer" = ["content:write", "role:editor"])),
    params(Key),
    responses(
        (status = 204, description = "Deleted"),
    )
)]
#[delete("/tags/{id_or_slug}")]
pub async fn delete_tag(
    state: web::Data<AppState>,
    who: Staff<Editor>,
    target: Target,
    locale: Locale,
) -> AppResult<HttpResponse> {
    let current = move |conn: &mut DbConn, key: &Key| tags::get_in(conn, key, locale.lang());
    target
        .delete(&state.db, AuditBy::Actor(who.actor), current, tags::delete)
        .await
}
