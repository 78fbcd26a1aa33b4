//! `/collections`: coverage hubs, an ordered list of articles with pinned ones first.
//! Anyone reads (readers are never told of a draft or a scheduled story, even by
//! slug); editors write.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::db::DbConn;
use crate::domain::Key;
use crate::domain::audit::{self, Action};
use crate::domain::collections::{
    self, Collection, CollectionCreate, CollectionPatch, CollectionQuery, CursorParams,
};
use crate::domain::localized::LocaleParams;
use crate::domain::paging::{ListResponse, PageParams};
use crate::domain::params::LangParams;
use crate::error::AppResult;
use crate::http::conditional::{etag_of, object};
use crate::http::created;
use crate::http::extract::Locale;
use crate::http::extract::{Editor, JsonBody, MaybeStaff, Staff};
use crate::http::moved::{Renamed, or_moved, renamed};
use crate::http::precondition::{AuditBy, IfMatch, Target};
use crate::http::state::AppState;

/// Registers the routes of this module.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_collections)
        .service(create_collection)
        .service(get_collection)
        .service(update_collection)
        .service(delete_collection);
}

/// Lists collections by name, without their articles. `pinned` names only the articles
/// the caller may see (readers: published ones whose time has come).
#[utoipa::path(
    tag = "Collections",
    params(PageParams, LangParams, LocaleParams),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "A page of collections", body = ListResponse<Collection>),
    )
)]
#[get("/collections")]
pub async fn list_collections(
    state: web::Data<AppState>,
    staff: MaybeStaff,
    req: HttpRequest,
    locale: Locale,
) -> AppResult<HttpResponse> {
    let query =
        CollectionQuery::parse(req.query_string(), &state.cursors, &state.config.languages)?;
    let codec = state.cursors.clone();
    let viewer = staff.0;
    let lang = locale.0.clone();
    let page = state
        .db
        .read(move |conn| collections::list(conn, &query, &codec, viewer, lang.as_deref()))
        .await?;
    // Without a locale each collection is in its own language.
    Ok(locale.label(HttpResponse::Ok().json(page), None))
}

/// Creates a collection from an ordered list of article slugs; `pinned` ones come
/// first.
#[utoipa::path(
    tag = "Collections",
    security(("bearer" = ["content:write", "role:editor"])),
    request_body = CollectionCreate,
    responses(
        (status = 201, description = "The new collection (without its articles)", body = Collection,
            headers(("Location" = String, description = "URL of the new collection"))),
    )
)]
#[post("/collections")]
pub async fn create_collection(
    state: web::Data<AppState>,
    editor: Staff<Editor>,
    JsonBody(body): JsonBody<CollectionCreate>,
) -> AppResult<HttpResponse> {
    let languages = state.config.languages.clone();
    let actor = editor.actor;
    let collection = state
        .db
        .write_content(move |conn| {
            let written = collections::create(conn, actor, body, &languages)?;
            audit::logged(conn, actor, Action::Create, written)
        })
        .await?;
    Ok(created(
        format!("/api/v1/collections/{}", collection.slug),
        &collection,
    ))
}

/// Reads a collection with a page of the articles the caller may see (readers:
/// published ones whose time has come; staff: what they may read): pinned ones first,
/// then the collection's order. Follow `next_cursor` (as `cursor`) for more. The
/// articles are each named in their own language; `locale` (or `Accept-Language`)
/// chooses the language of the collection's own name, description and hero caption.
/// A slug the collection had before answers 308 with the current path.
#[utoipa::path(
    tag = "Collections",
    params(Key, CursorParams, LocaleParams),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The collection", body = Collection),
        (status = 308, response = crate::http::responses::Moved),
    )
)]
#[get("/collections/{id_or_slug}")]
pub async fn get_collection(
    state: web::Data<AppState>,
    staff: MaybeStaff,
    key: Key,
    req: HttpRequest,
    locale: Locale,
) -> AppResult<HttpResponse> {
    let page = collections::article_page(req.query_string(), &state.cursors)?;
    let codec = state.cursors.clone();
    let viewer = staff.0;
    let site = state.site.clone();
    let (k, lang) = (key.clone(), locale.0.clone());
    let result = state
        .db
        .read(move |conn| collections::get(conn, &k, &page, &codec, viewer, &site, lang.as_deref()))
        .await
        .map(|collection| {
            let own = collection.language.clone();
            locale.label(object(&collection, collection.updated_at), Some(&own))
        });
    let current: Renamed =
        |conn, old, _| renamed(conn, collections::KIND, old, collections::slug_of);
    or_moved(&state, &req, &key, viewer, current, result).await
}

/// Changes a collection; `articles` replaces the whole list, `pinned` the pinned
/// subset. `If-Match` takes the ETag of the collection's first page.
#[utoipa::path(
    tag = "Collections",
    security(("bearer" = ["content:write", "role:editor"])),
    params(Key),
    request_body(content = CollectionPatch, content_type = "application/json"),
    responses(
        (status = 200, description = "The changed collection (without its articles)", body = Collection),
        (status = 409, response = crate::http::responses::Conflict),
    )
)]
#[patch("/collections/{id_or_slug}")]
pub async fn update_collection(
    state: web::Data<AppState>,
    editor: Staff<Editor>,
    key: Key,
    if_match: IfMatch,
    locale: Locale,
    JsonBody(body): JsonBody<CollectionPatch>,
) -> AppResult<HttpResponse> {
    let languages = state.config.languages.clone();
    let codec = state.cursors.clone();
    let site = state.site.clone();
    let actor = editor.actor;
    let (collection, etag) = state
        .db
        .write_content(move |conn| {
            // The body is validated before the condition: a bad body is a 4xx of its
            // own whatever the ETag; a stale ETag then undoes the change (412).
            let collection = if_match.guard(
                conn,
                |conn| {
                    let first = crate::domain::paging::PageRequest::default();
                    collections::get(
                        conn,
                        &key,
                        &first,
                        &codec,
                        Some(actor),
                        &site,
                        locale.lang(),
                    )
                },
                |conn| collections::update(conn, actor, &key, body, &languages),
            )?;
            // The answer's ETag is the collection's new one as GET gives it (with its
            // first page), which the next If-Match is compared with; the body leaves
            // the articles out.
            collection.and_then(|collection| {
                audit::wrote(conn, actor, Action::Update, &collection)?;
                let first = crate::domain::paging::PageRequest::default();
                let now = collections::get(
                    conn,
                    &Key::Id(collection.id),
                    &first,
                    &codec,
                    Some(actor),
                    &site,
                    locale.lang(),
                )?;
                Ok((collection, etag_of(&crate::domain::to_json(&now)?)))
            })
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::ETAG, etag))
        .json(collection))
}

/// Deletes a collection; its articles stay.
#[utoipa::path(
    tag = "Collections",
    security(("bearer" = ["content:write", "role:editor"])),
    params(Key),
    responses(
        (status = 204, description = "Deleted"),
    )
)]
#[delete("/collections/{id_or_slug}")]
pub async fn delete_collection(
    state: web::Data<AppState>,
    editor: Staff<Editor>,
    target: Target,
    locale: Locale,
) -> AppResult<HttpResponse> {
    let codec = state.cursors.clone();
    let site = state.site.clone();
    let actor = editor.actor;
    let current = move |conn: &mut DbConn, key: &Key| {
        let first = crate::domain::paging::PageRequest::default();
        collections::get(conn, key, &first, &codec, Some(actor), &site, locale.lang())
    };
    target
        .delete(
            &state.db,
            AuditBy::Actor(actor),
            current,
            collections::delete,
        )
        .await
}
