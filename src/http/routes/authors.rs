//! `/authors`: bylines. Anyone reads; writers create; editors change and delete.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::db::DbConn;
use crate::domain::Key;
use crate::domain::audit::{self, Action};
use crate::domain::authors::{self, Author, AuthorCreate, AuthorParams, AuthorPatch, AuthorQuery};
use crate::domain::localized::LocaleParams;
use crate::domain::paging::{ListResponse, PageParams};
use crate::error::AppResult;
use crate::http::created;
use crate::http::extract::{Editor, JsonBody, Locale, Staff};
use crate::http::moved::read_named;
use crate::http::precondition::{AuditBy, Target};
use crate::http::state::AppState;

/// Registers the routes of this module.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_authors)
        .service(create_author)
        .service(get_author)
        .service(update_author)
        .service(delete_author);
}

/// Lists authors.
#[utoipa::path(
    tag = "Authors",
    params(PageParams, AuthorParams, LocaleParams),
    responses(
        (status = 200, description = "A page of authors", body = ListResponse<Author>),
    )
)]
#[get("/authors")]
pub async fn list_authors(
    state: web::Data<AppState>,
    req: HttpRequest,
    locale: Locale,
) -> AppResult<HttpResponse> {
    let query = AuthorQuery::parse(req.query_string(), &state.cursors)?;
    let codec = state.cursors.clone();
    let lang = locale.0.clone();
    let page = state
        .db
        .read(move |conn| authors::list(conn, &query, &codec, lang.as_deref()))
        .await?;
    let base = state.config.languages.first().map(String::as_str);
    Ok(locale.label(HttpResponse::Ok().json(page), base))
}

/// Creates an author; `slug` is made from `name` when left out.
#[utoipa::path(
    tag = "Authors",
    security(("bearer" = ["content:write", "role:writer"])),
    request_body = AuthorCreate,
    responses(
        (status = 201, description = "The new author", body = Author,
            headers(("Location" = String, description = "URL of the new author"))),
    )
)]
#[post("/authors")]
pub async fn create_author(
    state: web::Data<AppState>,
    who: Staff,
    JsonBody(body): JsonBody<AuthorCreate>,
) -> AppResult<HttpResponse> {
    let languages = state.config.languages.clone();
    let author = state
        .db
        .write_content(move |conn| {
            let written = authors::create(conn, body, &languages)?;
            audit::logged(conn, who.actor, Action::Create, written)
        })
        .await?;
    Ok(created(format!("/api/v1/authors/{}", author.slug), &author))
}

/// Reads an author by id or slug. A slug the author had before answers 308 with the
/// current path.
#[utoipa::path(
    tag = "Authors",
    params(Key, LocaleParams),
    responses(
        (status = 200, description = "The author", body = Author),
        (status = 308, response = crate::http::responses::Moved),
    )
)]
#[get("/authors/{id_or_slug}")]
pub async fn get_author(
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
        authors::KIND,
        authors::get_dated,
        authors::slug_of,
    )
    .await
}

/// Changes an author: send only the fields to change; `null` clears `bio`,
/// `avatar_media_id` or `links`.
#[utoipa::path(
    tag = "Authors",
    security(("bearer" = ["content:write", "role:editor"])),
    params(Key),
    request_body(content = AuthorPatch, content_type = "application/json"),
    responses(
        (status = 200, description = "The changed author", body = Author),
        (status = 409, response = crate::http::responses::Conflict),
    )
)]
#[patch("/authors/{id_or_slug}")]
pub async fn update_author(
    state: web::Data<AppState>,
    who: Staff<Editor>,
    target: Target,
    locale: Locale,
    JsonBody(body): JsonBody<AuthorPatch>,
) -> AppResult<HttpResponse> {
    let languages = state.config.languages.clone();
    let change = move |conn: &mut DbConn, key: &Key| authors::update(conn, key, body, &languages);
    // If-Match is compared with the representation in this request's language.
    let current = move |conn: &mut DbConn, key: &Key| authors::get_in(conn, key, locale.lang());
    target
        .update(&state.db, AuditBy::Actor(who.actor), current, change)
        .await
}

/// Deletes an author. An author on any article's byline is `409 in_use`.
#[utoipa::path(
    tag = "Authors",
    security(("bearer" = ["content:write", "role:editor"])),
    params(Key),
    responses(
        (status = 204, description = "Deleted"),
        (status = 409, response = crate::http::responses::Conflict),
    )
)]
#[delete("/authors/{id_or_slug}")]
pub async fn delete_author(
    state: web::Data<AppState>,
    who: Staff<Editor>,
    target: Target,
    locale: Locale,
) -> AppResult<HttpResponse> {
    let current = move |conn: &mut DbConn, key: &Key| authors::get_in(conn, key, locale.lang());
    target
        .delete(
            &state.db,
            AuditBy::Actor(who.actor),
            current,
            authors::delete,
        )
        .await
}
