//! `/tags`: topics. Anyone reads; writers create; editors change and delete.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::db::DbConn;
use crate::domain::Key;
use crate::domain::paging::{ListResponse, PageParams};
use crate::domain::tags::{self, Tag, TagCreate, TagParams, TagPatch, TagQuery};
use crate::error::AppResult;
use crate::http::conditional::object;
use crate::http::created;
use crate::http::extract::{Editor, JsonBody, Staff};
use crate::http::precondition::Target;
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
    params(PageParams, TagParams),
    responses(
        (status = 200, description = "A page of tags", body = ListResponse<Tag>),
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
        .write_content(move |conn| tags::create(conn, body))
        .await?;
    Ok(created(format!("/api/v1/tags/{}", tag.slug), &tag))
}

/// Reads a tag by id or slug.
#[utoipa::path(
    tag = "Tags",
    params(Key),
    responses(
        (status = 200, description = "The tag", body = Tag),
    )
)]
#[get("/tags/{id_or_slug}")]
pub async fn get_tag(state: web::Data<AppState>, key: Key) -> AppResult<HttpResponse> {
    let tag = state.db.read(move |conn| tags::get(conn, &key)).await?;
    Ok(object(&tag, tag.updated_at))
}

/// Changes a tag; `description: null` clears it.
#[utoipa::path(
    tag = "Tags",
    security(("bearer" = ["editor"])),
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
    _editor: Staff<Editor>,
    target: Target,
    JsonBody(body): JsonBody<TagPatch>,
) -> AppResult<HttpResponse> {
    let change = move |conn: &mut DbConn, key: &Key| tags::update(conn, key, body);
    target.update(&state.db, tags::get, change).await
}

/// Deletes a tag and detaches it from its articles (the articles stay).
#[utoipa::path(
    tag = "Tags",
    security(("bearer" = ["editor"])),
    params(Key),
    responses(
        (status = 204, description = "Deleted"),
    )
)]
#[delete("/tags/{id_or_slug}")]
pub async fn delete_tag(
    state: web::Data<AppState>,
    _editor: Staff<Editor>,
    target: Target,
) -> AppResult<HttpResponse> {
    target.delete(&state.db, tags::get, tags::delete).await
}
