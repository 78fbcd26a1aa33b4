//! `/articles`: the stories. Readers see what is published and due; staff see more
//! (writers never other people's drafts). Writers create drafts and edit their own;
//! editors publish, edit and delete anything.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::db::{Scope, run_blocking};
use crate::domain::Key;
use crate::domain::articles::list::ArticleQuery;
use crate::domain::articles::write::{ArticleCreate, ArticlePatch};
use crate::domain::articles::{self, Article};
use crate::domain::paging::ListResponse;
use crate::error::AppResult;
use crate::http::cache::ListDependencies;
use crate::http::conditional::object;
use crate::http::extract::{Editor, JsonBody, MaybeStaff, Staff};
use crate::http::precondition::IfMatch;
use crate::http::state::AppState;
use crate::http::{created, params};

/// Registers the routes of this module.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_articles)
        .service(create_article)
        .service(get_article)
        .service(update_article)
        .service(delete_article);
}

/// Lists articles, newest first. Items carry everything but `body` and `body_html`.
/// Readers see published articles whose time has come; with a token, `status`
/// widens the list. A filter value that names nothing gives an empty list.
#[utoipa::path(
    tag = "Articles",
    params(params::PageParams, params::ArticleFilters),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "A page of articles", body = ListResponse<Article>),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
    )
)]
#[get("/articles")]
pub async fn list_articles(
    state: web::Data<AppState>,
    staff: MaybeStaff,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let query = ArticleQuery::parse(
        req.query_string(),
        &state.cursors,
        &state.config.languages,
        staff.0.is_some(),
    )?;
    let codec = state.cursors.clone();
    let viewer = staff.0;
    let totals = state.cache.clone();
    let (page, dependencies) = state
        .db
        .read(move |conn| {
            articles::list::list_with_dependencies(
                conn,
                &query,
                viewer,
                &codec,
                Some(totals.as_ref()),
            )
        })
        .await?;
    let mut res = HttpResponse::Ok().json(page);
    res.extensions_mut().insert(ListDependencies(dependencies));
    Ok(res)
}

/// Creates an article. Writers may only create drafts (`status: published` is a 403).
#[utoipa::path(
    tag = "Articles",
    security(("bearer" = ["writer"])),
    request_body = ArticleCreate,
    responses(
        (status = 201, description = "The new article", body = Article,
            headers(("Location" = String, description = "URL of the new article"))),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 409, response = crate::openapi::Conflict),
        (status = 413, response = crate::openapi::PayloadTooLarge),
        (status = 415, response = crate::openapi::UnsupportedMediaType),
        (status = 422, response = crate::openapi::ValidationFailed),
    )
)]
#[post("/articles")]
pub async fn create_article(
    state: web::Data<AppState>,
    staff: Staff,
    JsonBody(body): JsonBody<ArticleCreate>,
) -> AppResult<HttpResponse> {
    let languages = state.config.languages.clone();
    let actor = staff.actor;
    let (body, ahead) = run_blocking(move || {
        let ahead = articles::write::prerender(&body.body);
        Ok((body, ahead))
    })
    .await?;
    let article = state
        .db
        .write_content_with(
            |article: &Article| Scope::ArticleCreated(article.facts()),
            move |conn| articles::write::create(conn, actor, body, &languages, ahead),
        )
        .await?;
    Ok(created(
        format!("/api/v1/articles/{}", article.slug),
        &article,
    ))
}

/// Reads an article by id or slug, with `body` and `body_html`. A draft or scheduled
/// article is a 404 for readers.
#[utoipa::path(
    tag = "Articles",
    params(("id_or_slug" = String, Path, description = "The id (`42`) or the slug")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The article", body = Article),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[get("/articles/{id_or_slug}")]
pub async fn get_article(
    state: web::Data<AppState>,
    staff: MaybeStaff,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let key = Key::parse(&path);
    let viewer = staff.0;
    let article = state
        .db
        .read(move |conn| articles::get(conn, &key, viewer))
        .await?;
    Ok(object(&article, article.updated_at))
}

/// Changes an article: send only the fields to change. Writers may change only their
/// own drafts and cannot publish (403); editors change anything.
#[utoipa::path(
    tag = "Articles",
    security(("bearer" = ["writer"])),
    params(("id_or_slug" = String, Path, description = "The id (`42`) or the slug")),
    request_body(content = ArticlePatch, content_type = "application/json"),
    responses(
        (status = 200, description = "The changed article", body = Article),
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
#[patch("/articles/{id_or_slug}")]
pub async fn update_article(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    if_match: IfMatch,
    JsonBody(body): JsonBody<ArticlePatch>,
) -> AppResult<HttpResponse> {
    let key = Key::parse(&path);
    let languages = state.config.languages.clone();
    let actor = staff.actor;
    let (body, ahead) = run_blocking(move || {
        let ahead = articles::write::prerender(&body.body);
        Ok((body, ahead))
    })
    .await?;
    let article = state
        .db
        .write_content(Scope::All, move |conn| {
            if if_match.is_set() {
                if_match.check(&articles::get(conn, &key, Some(actor))?)?;
            }
            articles::write::update(conn, actor, &key, body, &languages, ahead)
        })
        .await?;
    Ok(HttpResponse::Ok().json(article))
}

/// Deletes an article with its tag, region and byline links.
#[utoipa::path(
    tag = "Articles",
    security(("bearer" = ["editor"])),
    params(("id_or_slug" = String, Path, description = "The id (`42`) or the slug")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, response = crate::openapi::NotFound),
    )
)]
#[delete("/articles/{id_or_slug}")]
pub async fn delete_article(
    state: web::Data<AppState>,
    editor: Staff<Editor>,
    path: web::Path<String>,
    if_match: IfMatch,
) -> AppResult<HttpResponse> {
    let key = Key::parse(&path);
    let actor = editor.actor;
    state
        .db
        .write_content(Scope::All, move |conn| {
            if if_match.is_set() {
                if_match.check(&articles::get(conn, &key, Some(actor))?)?;
            }
            articles::write::delete(conn, actor, &key)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
