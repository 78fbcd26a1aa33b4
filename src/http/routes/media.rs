//! `/media`: images, video, audio and embeds with captions and credits. Anyone reads
//! what something public uses (staff read everything); writers create; editors change
//! and delete.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::db::DbConn;
use crate::domain::audit::{self, Action};
use crate::domain::localized::LocaleParams;
use crate::domain::media::upload::Rules;
use crate::domain::media::{self, Media, MediaCreate, MediaParams, MediaPatch, MediaQuery};
use crate::domain::paging::{ListResponse, PageParams};
use crate::error::FieldError;
use crate::error::{AppError, AppResult};
use crate::http::conditional::object;
use crate::http::created;
use crate::http::extract::{
    Editor, JsonBody, Locale, MaybeStaff, Staff, is_json, is_multipart, parse_json, read_body,
};
use crate::http::precondition::{AuditBy, IfMatch, Target};
use crate::http::state::AppState;
use crate::http::upload::read_form;

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

/// An upload as `multipart/form-data` (documentation only: the handler reads the parts
/// as they stream in).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct MediaUpload {
    /// The image: JPEG, PNG, WebP or GIF, recognised by its bytes.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    #[schema(example = "Fishing boats return to the harbour at dawn.")]
    caption: Option<String>,
    #[schema(example = "AP")]
    credit: Option<String>,
    alt_text: Option<String>,
    /// Defaults to the first configured language.
    #[schema(example = "en")]
    language: Option<String>,
    /// `"x,y"`, each from 0 to 1 (where the eye goes; frontends crop around it).
    #[schema(example = "0.5,0.35")]
    focal_point: Option<String>,
    /// `caption`, `alt_text` and `credit` in other languages, as a JSON object.
    #[schema(example = "{\"ar\": {\"caption\": \"قوارب الصيد\"}}")]
    localized: Option<String>,
}

/// Creates a media item: an upload (`multipart/form-data`, with a `file` part) or an
/// external file registered by URL (`application/json`).
///
/// An upload's type is read from its bytes (JPEG, PNG, WebP, GIF; anything else 415,
/// whatever its name says); more than `MEDIA_MAX_BYTES` (20 MiB by default) is 413
/// (size is checked before type), more than `MEDIA_MAX_PIXELS` (50 megapixels, read
/// from the header before decoding) is 422 on `file`. The stored image has no metadata
/// (EXIF, GPS, XMP, IPTC) and is upright (EXIF orientation applied); the answer carries
/// its `url`, `width`, `height`, `bytes`, `sha256`, `dominant_color`, `placeholder`
/// (BlurHash) and `renditions` (WebP and JPEG at the configured widths, never wider
/// than the original). The same bytes uploaded twice are one stored file and two media
/// items. Writers, editors and admins may upload.
#[utoipa::path(
    tag = "Media",
    security(("bearer" = ["media:write", "role:writer"])),
    request_body(content(
        (MediaCreate = "application/json"),
        (MediaUpload = "multipart/form-data"),
    )),
    responses(
        (status = 201, description = "The new media item", body = Media,
            headers(("Location" = String, description = "URL of the new media item"))),
    )
)]
#[post("/media")]
pub async fn create_media(
    state: web::Data<AppState>,
    who: Staff,
    req: HttpRequest,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    let languages = state.config.languages.clone();
    if is_multipart(req.headers()) {
        return upload(state, who.actor, req, payload).await;
    }
    if !is_json(&req) {
        return Err(AppError::UnsupportedMediaType(
            "send application/json (a file by URL) or multipart/form-data (an upload)".into(),
        ));
    }
    let limit = state.config.max_body_bytes;
    let bytes = read_body(req.headers(), &mut payload.into_inner(), limit).await?;
    let body: MediaCreate = parse_json(&bytes)?;
    let item = state
        .db
        .write_content(move |conn| {
            let written = media::create(conn, body, &languages)?;
            audit::logged(conn, who.actor, Action::Create, written)
        })
        .await?;
    Ok(created(format!("/api/v1/media/{}", item.id), &item))
}

async fn upload(
    state: web::Data<AppState>,
    actor: crate::auth::Actor,
    req: HttpRequest,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    let config = &state.config;
    let form = read_form(&req, payload, config.media_max_bytes).await?;
    let Some(file) = form.file else {
        return Err(AppError::Validation(vec![FieldError::new(
            "file",
            "is required: send the image as a part named file",
        )]));
    };
    // The parts are checked before the image is worked on.
    media::check_create(&form.body, &config.languages)?;
    let rules = Rules {
        max_pixels: config.media_max_pixels,
        widths: config.media_widths.clone(),
    };
    let uploaded = state.processor.store(&state.files, file, &rules).await?;
    let languages = config.languages.clone();
    let body = form.body;
    let item = state
        .db
        .write_content(move |conn| {
            let written = media::insert(conn, body, &languages, Some(uploaded))?;
            audit::logged(conn, actor, Action::Create, written)
        })
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
    security(("bearer" = ["media:write", "role:editor"])),
    params(("id" = i32, Path, description = "The id")),
    request_body(content = MediaPatch, content_type = "application/json"),
    responses(
        (status = 200, description = "The changed media item", body = Media),
    )
)]
#[patch("/media/{id}")]
pub async fn update_media(
    state: web::Data<AppState>,
    who: Staff<Editor>,
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
        .update(&state.db, AuditBy::Actor(who.actor), current, change)
        .await
}

/// Deletes a media item. One used as a hero image or an avatar is `409 in_use`.
#[utoipa::path(
    tag = "Media",
    security(("bearer" = ["media:write", "role:editor"])),
    params(("id" = i32, Path, description = "The id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 409, response = crate::http::responses::Conflict),
    )
)]
#[delete("/media/{id}")]
pub async fn delete_media(
    state: web::Data<AppState>,
    who: Staff<Editor>,
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
        .delete(&state.db, AuditBy::Actor(who.actor), current, remove)
        .await
}
