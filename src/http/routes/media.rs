//! `/media`: images, video, audio and embeds with captions and credits. Anyone reads
//! what something public uses (staff read everything); writers create; editors change
//! and delete.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::db::DbConn;
use crate::domain::localized::LocaleParams;
use crate::domain::media::{self, Media, MediaCreate, MediaParams, MediaPatch, MediaQuery};
use crate::domain::paging::{ListResponse, PageParams};
use crate::error::{AppError, AppResult};
use crate::http::conditional::object;
use crate::http::created;
use crate::http::extract::{Editor, JsonBody, Locale, MaybeStaff, Staff};
use crate::http::precondition::{IfMatch, Target};
use crate::http::state::AppState;

/// Registers the routes of this module.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_media)
        .service(create_media)
        .service(get_media)
        .service(update_media)
        .service(delete_media);
}

/// A media id from the path; anything else names nothing.
pub fn media_id(segment: &str) -> AppResult<i32> {
    segment
        .parse::<i32>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| AppError::not_found("media"))
}

/// Lists media, newest first; `q` searches captions, credits and alt texts. Readers see
/// the items something public uses (a live article's hero image, an author's avatar, a
/// collection's hero image); staff see every item.
#[utoipa::path(
    tag = "Media",
    params(PageParams, MediaParams, LocaleParams),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "A page of media", body = ListResponse<Media>),
    )
)]
#[get("/media")]
pub async fn list_media(
    state: web::Data<AppState>,
    staff: MaybeStaff,
    req: HttpRequest,
    locale: Locale,
) -> AppResult<HttpResponse> {
    let query = MediaQuery::parse(req.query_string(), &state.cursors, &state.config.languages)?;
    let codec = state.cursors.clone();
    let viewer = staff.0;
    let lang = locale.0.clone();
    let page = state
        .db
        .read(move |conn| media::list(conn, &query, &codec, viewer, lang.as_deref()))
        .await?;
    // Without a locale each item is in its own language: no one language to name.
    Ok(locale.label(HttpResponse::Ok().json(page), None))
}

/// Registers a media item (the file itself lives at `url`, e.g. on a CDN).
#[utoipa::path(
    tag = "Media",
    security(("bearer" = ["writer"])),
    request_body = MediaCreate,
    responses(
        (status = 201, description = "The new media item", body = Media,
            headers(("Location" = String, description = "URL of the new media item"))),
    )
)]
#[post("/media")]
pub async fn create_media(
    state: web::Data<AppState>,
    _staff: Staff,
    JsonBody(body): JsonBody<MediaCreate>,
) -> AppResult<HttpResponse> {
    let languages = state.config.languages.clone();
    let item = state
        .db
        .write_content(move |conn| media::create(conn, body, &languages))
        .await?;
    Ok(created(format!("/api/v1/media/{}", item.id), &item))
}

/// Reads a media item. For readers, an item nothing public uses (say, the image of a
/// story not yet published) is a 404; staff read every item.
#[utoipa::path(
    tag = "Media",
    params(("id" = i32, Path, description = "The id"), LocaleParams),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The media item", body = Media),
    )
)]
#[get("/media/{id}")]
pub async fn get_media(
    state: web::Data<AppState>,
    staff: MaybeStaff,
    path: web::Path<String>,
    locale: Locale,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    crate::domain::localized::only_locale(req.query_string())?;
    let id = media_id(&path)?;
    let viewer = staff.0;
    let item = state
        .db
        .read(move |conn| media::get_for(conn, id, viewer))
        .await?
        .localize(locale.lang());
    let own = item.language.clone();
    Ok(locale.label(object(&item, item.updated_at), Some(&own)))
}

/// Changes a media item; `null` clears an optional field.
#[utoipa::path(
    tag = "Media",
    security(("bearer" = ["editor"])),
    params(("id" = i32, Path, description = "The id")),
    request_body(content = MediaPatch, content_type = "application/json"),
    responses(
        (status = 200, description = "The changed media item", body = Media),
    )
)]
#[patch("/media/{id}")]
pub async fn update_media(
    state: web::Data<AppState>,
    _editor: Staff<Editor>,
    path: web::Path<String>,
    if_match: IfMatch,
    locale: Locale,
    JsonBody(body): JsonBody<MediaPatch>,
) -> AppResult<HttpResponse> {
    let id = media_id(&path)?;
    let languages = state.config.languages.clone();
    // If-Match is compared with the representation in this request's language.
    let current =
        move |conn: &mut DbConn, id: &i32| Ok(media::get(conn, *id)?.localize(locale.lang()));
    let change = move |conn: &mut DbConn, id: &i32| media::update(conn, *id, body, &languages);
    Target::new(id, if_match)
        .update(&state.db, current, change)
        .await
}

/// Deletes a media item. One used as a hero image or an avatar is `409 in_use`.
#[utoipa::path(
    tag = "Media",
    security(("bearer" = ["editor"])),
    params(("id" = i32, Path, description = "The id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 409, response = crate::http::responses::Conflict),
    )
)]
#[delete("/media/{id}")]
pub async fn delete_media(
    state: web::Data<AppState>,
    _editor: Staff<Editor>,
    path: web::Path<String>,
    if_match: IfMatch,
    locale: Locale,
) -> AppResult<HttpResponse> {
    let id = media_id(&path)?;
    // If-Match is compared with the representation in this request's language.
    let current =
        move |conn: &mut DbConn, id: &i32| Ok(media::get(conn, *id)?.localize(locale.lang()));
    let remove = |conn: &mut DbConn, id: &i32| media::delete(conn, *id);
    Target::new(id, if_match)
        .delete(&state.db, current, remove)
        .await
}
