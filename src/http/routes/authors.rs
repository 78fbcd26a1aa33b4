//! `/authors`: bylines. Anyone reads; writers create; editors change and delete.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::db::Scope;
use crate::domain::Key;
use crate::domain::authors::{self, Author, AuthorCreate, AuthorPatch, AuthorQuery};
use crate::domain::paging::ListResponse;
use crate::error::AppResult;
use crate::http::conditional::object;
use crate::http::extract::{Editor, JsonBody, Staff};
use crate::http::precondition::IfMatch;
use crate::http::state::AppState;
use crate::http::{created, params};

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
    params(params::PageParams, params::AuthorSort),
    responses(
        (status = 200, description = "A page of authors", body = ListResponse<Author>),
        (status = 400, response = crate::openapi::BadRequest),
    )
)]
#[get("/authors")]
pub async fn list_authors(state: web::Data<AppState>, req: HttpRequest) -> AppResult<HttpResponse> {
    let query = AuthorQuery::parse(req.query_string(), &state.cursors)?;
    let codec = state.cursors.clone();
    let page = state
        .db
        .read(move |conn| authors::list(conn, &query, &codec))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Creates an author; `slug` is made from `name` when left out.
#[utoipa::path(
    tag = "Authors",
    security(("bearer" = ["writer"])),
    request_body = AuthorCreate,
    responses(
        (status = 201, description = "The new author", body = Author,
            headers(("Location" = String, description = "URL of the new author"))),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 409, response = crate::openapi::Conflict),
        (status = 413, response = crate::openapi::PayloadTooLarge),
        (status = 415, response = crate::openapi::UnsupportedMediaType),
        (status = 422, response = crate::openapi::ValidationFailed),
    )
)]
#[post("/authors")]
pub async fn create_author(
    state: web::Data<AppState>,
    _staff: Staff,
    JsonBody(body): JsonBody<AuthorCreate>,
) -> AppResult<HttpResponse> {
    let author = state
        .db
        .write_content(Scope::Created, move |conn| authors::create(conn, body))
        .await?;
    Ok(created(format!("/api/v1/authors/{}", author.slug), &author))
}

/// Reads an author by id or slug.
#[utoipa::path(
    tag = "Authors",
    params(("id_or_slug" = String, Path, description = "The id (`42`) or the slug")),
    responses(
        (status = 200, description = "The author", body = Author),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[get("/authors/{id_or_slug}")]
pub async fn get_author(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let key = Key::parse(&path);
    let author = state.db.read(move |conn| authors::get(conn, &key)).await?;
    Ok(object(&author, author.updated_at))
}

/// Changes an author: send only the fields to change; `null` clears `bio`,
/// `avatar_media_id` or `links`.
#[utoipa::path(
    tag = "Authors",
    security(("bearer" = ["editor"])),
    params(("id_or_slug" = String, Path, description = "The id (`42`) or the slug")),
    request_body(content = AuthorPatch, content_type = "application/json"),
    responses(
        (status = 200, description = "The changed author", body = Author),
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
#[patch("/authors/{id_or_slug}")]
pub async fn update_author(
    state: web::Data<AppState>,
    _editor: Staff<Editor>,
    path: web::Path<String>,
    if_match: IfMatch,
    JsonBody(body): JsonBody<AuthorPatch>,
) -> AppResult<HttpResponse> {
    let key = Key::parse(&path);
    let author = state
        .db
        .write_content(Scope::All, move |conn| {
            // The body is validated before the condition: a bad body is a 4xx of its
            // own whatever the ETag; a stale ETag then undoes the change (412).
            if_match.guard(
                conn,
                |conn| authors::get(conn, &key),
                |conn| authors::update(conn, &key, body),
            )
        })
        .await?;
    Ok(HttpResponse::Ok().json(author))
}

/// Deletes an author. An author on any article's byline is `409 in_use`.
#[utoipa::path(
    tag = "Authors",
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
#[delete("/authors/{id_or_slug}")]
pub async fn delete_author(
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
                if_match.check(&authors::get(conn, &key)?)?;
            }
            authors::delete(conn, &key)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
