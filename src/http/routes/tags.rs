//! `/tags`: topics. Anyone reads; writers create; editors change and delete.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::db::Scope;
use crate::domain::Key;
use crate::domain::paging::ListResponse;
use crate::domain::tags::{self, Tag, TagCreate, TagPatch, TagQuery};
use crate::error::AppResult;
use crate::http::conditional::object;
use crate::http::extract::{Editor, JsonBody, Staff};
use crate::http::precondition::IfMatch;
use crate::http::state::AppState;
use crate::http::{created, params};

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
    params(params::PageParams, params::NameSort),
    responses(
        (status = 200, description = "A page of tags", body = ListResponse<Tag>),
        (status = 400, response = crate::openapi::BadRequest),
    )
)]
#[get("/tags")]
pub async fn list_tags(state: web::Data<AppState>, req: HttpRequest) -> AppResult<HttpResponse> {
    let query = TagQuery::parse(req.query_string(), &state.cursors)?;
    let codec = state.cursors.clone();
    let page = state
        .db
        .read(move |conn| tags::list(conn, &query, &codec))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Creates a tag; `slug` is made from `name` when left out.
#[utoipa::path(
    tag = "Tags",
    security(("bearer" = ["writer"])),
    request_body = TagCreate,
    responses(
        (status = 201, description = "The new tag", body = Tag,
            headers(("Location" = String, description = "URL of the new tag"))),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 409, response = crate::openapi::Conflict),
        (status = 413, response = crate::openapi::PayloadTooLarge),
        (status = 415, response = crate::openapi::UnsupportedMediaType),
        (status = 422, response = crate::openapi::ValidationFailed),
    )
)]
#[post("/tags")]
pub async fn create_tag(
    state: web::Data<AppState>,
    _staff: Staff,
    JsonBody(body): JsonBody<TagCreate>,
) -> AppResult<HttpResponse> {
    let tag = state
        .db
        .write_content(Scope::Created, move |conn| tags::create(conn, body))
        .await?;
    Ok(created(format!("/api/v1/tags/{}", tag.slug), &tag))
}

/// Reads a tag by id or slug.
#[utoipa::path(
    tag = "Tags",
    params(("id_or_slug" = String, Path, description = "The id (`42`) or the slug")),
    responses(
        (status = 200, description = "The tag", body = Tag),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[get("/tags/{id_or_slug}")]
pub async fn get_tag(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let key = Key::parse(&path);
    let tag = state.db.read(move |conn| tags::get(conn, &key)).await?;
    Ok(object(&tag, tag.updated_at))
}

/// Changes a tag; `description: null` clears it.
#[utoipa::path(
    tag = "Tags",
    security(("bearer" = ["editor"])),
    params(("id_or_slug" = String, Path, description = "The id (`42`) or the slug")),
    request_body(content = TagPatch, content_type = "application/json"),
    responses(
        (status = 200, description = "The changed tag", body = Tag),
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
#[patch("/tags/{id_or_slug}")]
pub async fn update_tag(
    state: web::Data<AppState>,
    _editor: Staff<Editor>,
    path: web::Path<String>,
    if_match: IfMatch,
    JsonBody(body): JsonBody<TagPatch>,
) -> AppResult<HttpResponse> {
    let key = Key::parse(&path);
    let tag = state
        .db
        .write_content(Scope::All, move |conn| {
            // The body is validated before the condition: a bad body is a 4xx of its
            // own whatever the ETag; a stale ETag then undoes the change (412).
            if_match.guard(
                conn,
                |conn| tags::get(conn, &key),
                |conn| tags::update(conn, &key, body),
            )
        })
        .await?;
    Ok(HttpResponse::Ok().json(tag))
}

/// Deletes a tag and detaches it from its articles (the articles stay).
#[utoipa::path(
    tag = "Tags",
    security(("bearer" = ["editor"])),
    params(("id_or_slug" = String, Path, description = "The id (`42`) or the slug")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[delete("/tags/{id_or_slug}")]
pub async fn delete_tag(
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
                if_match.check(&tags::get(conn, &key)?)?;
            }
            tags::delete(conn, &key)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
