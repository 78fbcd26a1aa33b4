//! Media: images, video, audio and embeds with captions and credits. Readers see a media
//! item only while something public uses it (the hero image of a live article, an
//! author's avatar, a collection's hero image), so an image made for an unpublished
//! story does not give the story away; staff see every item.

mod form;
mod list;
pub mod picture;
pub mod upload;

use std::collections::HashMap;

use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::input::{Checker, Input};
use super::localized::{Localized, LocalizedMedia};
use super::time::Timestamp;
use crate::auth::Actor;
use crate::db::id_set::IdSet;
use crate::db::{DbBackend, DbConn, Scope, Written};
use crate::error::{AppError, AppResult};
use crate::schema::{articles, authors, collections, media};

use form::{
    LOCALIZED, MAX_DURATION_SECONDS, MAX_PIXELS_SIDE, READ_ONLY, check_mime, check_size,
    check_texts,
};
pub use form::{MediaCreate, MediaPatch};
pub use list::{MediaParams, MediaQuery, MediaSort, like_pattern, list};

/// A media row as stored.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = media)]
pub struct MediaRow {
    pub id: i32,
    pub kind: MediaKind,
    pub url: String,
    pub mime_type: Option<String>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub duration_seconds: Option<i32>,
    pub caption: Option<String>,
    pub credit: Option<String>,
    pub alt_text: Option<String>,
    pub language: String,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
    pub localized: String,
    pub bytes: Option<i64>,
    pub sha256: Option<String>,
    pub focal_x: Option<f64>,
    pub focal_y: Option<f64>,
    pub dominant_color: Option<String>,
    pub placeholder: Option<String>,
    pub renditions: String,
}

/// Where the eye goes in an image, as fractions of its width and height from the top
/// left; frontends crop around it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize, ToSchema)]
pub struct FocalPoint {
    /// 0 (left edge) to 1 (right edge).
    #[schema(example = 0.5, minimum = 0, maximum = 1)]
    pub x: f64,
    /// 0 (top edge) to 1 (bottom edge).
    #[schema(example = 0.35, minimum = 0, maximum = 1)]
    pub y: f64,
}

crate::closed_set! {
    /// The format of a rendition.
    pub enum RenditionFormat {
        Webp = "webp",
        Jpeg = "jpeg",
    }
}

/// A resized copy of an uploaded image, for `srcset`.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, ToSchema)]
pub struct Rendition {
    #[schema(example = 640)]
    pub width: u32,
    #[schema(example = 427)]
    pub height: u32,
    pub format: RenditionFormat,
    #[schema(
        example = "https://news.example.com/files/3a6eb0790f39ac87c94f3856b2dd2c5d110e6811602261a9a923d3bb23adc8b7/640.webp"
    )]
    pub url: String,
}

/// A media item as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Media {
    #[schema(example = 12)]
    pub id: i32,
    /// What the item is.
    pub kind: MediaKind,
    /// Absolute http(s) URL of the file or embed.
    #[schema(example = "https://cdn.example.com/2024/05/harbour.jpg")]
    pub url: String,
    #[schema(example = "image/jpeg")]
    pub mime_type: Option<String>,
    #[schema(example = 1600)]
    pub width: Option<i32>,
    #[schema(example = 900)]
    pub height: Option<i32>,
    pub duration_seconds: Option<i32>,
    #[schema(example = "Fishing boats return to the harbour at dawn.")]
    pub caption: Option<String>,
    #[schema(example = "AP")]
    pub credit: Option<String>,
    #[schema(example = "Boats in a harbour")]
    pub alt_text: Option<String>,
    #[schema(example = "en")]
    pub language: String,
    /// `caption`, `alt_text` and `credit` in the other configured languages.
    #[schema(value_type = HashMap<String, LocalizedMedia>)]
    pub localized: Localized,
    /// Size of the stored file (uploads only; `null` for external media).
    #[schema(example = 482133)]
    pub bytes: Option<i64>,
    /// SHA-256 of the stored file, in hex (uploads only). The file's address is made
    /// of it, so the same bytes are stored once.
    #[schema(example = "3a6eb0790f39ac87c94f3856b2dd2c5d110e6811602261a9a923d3bb23adc8b7")]
    pub sha256: Option<String>,
    pub focal_point: Option<FocalPoint>,
    /// The image's most common colour, `#rrggbb` (uploads only), for a background
    /// while it loads.
    #[schema(example = "#3b5e7a")]
    pub dominant_color: Option<String>,
    /// A BlurHash of the image (uploads only), for a blurred placeholder.
    #[schema(example = "LEHV6nWB2yk8pyo0adR*.7kCMdnj")]
    pub placeholder: Option<String>,
    /// Resized copies in WebP and JPEG at the configured widths, never wider than the
    /// original, narrowest first (uploads only; empty for external media).
    pub renditions: Vec<Rendition>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Media {
    /// Puts `caption`, `alt_text` and `credit` in `lang` where the item has them, field
    /// by field; the item's own language (or `None`) keeps its base values.
    pub fn localize(mut self, lang: Option<&str>) -> Self {
        let Some(lang) = lang.filter(|l| *l != self.language && !self.localized.is_empty()) else {
            return self;
        };
        let l = Some(lang);
        self.caption = self.localized.pick_opt(l, "caption", self.caption.take());
        self.alt_text = self.localized.pick_opt(l, "alt_text", self.alt_text.take());
        self.credit = self.localized.pick_opt(l, "credit", self.credit.take());
        self
    }
}

impl From<MediaRow> for Media {
    fn from(r: MediaRow) -> Self {
        Self {
            id: r.id,
            kind: r.kind,
            url: r.url,
            mime_type: r.mime_type,
            width: r.width,
            height: r.height,
            duration_seconds: r.duration_seconds,
            caption: r.caption,
            credit: r.credit,
            alt_text: r.alt_text,
            language: r.language,
            localized: Localized::parse(&r.localized),
            bytes: r.bytes,
            sha256: r.sha256,
            focal_point: r.focal_x.zip(r.focal_y).map(|(x, y)| FocalPoint { x, y }),
            dominant_color: r.dominant_color,
            placeholder: r.placeholder,
            renditions: serde_json::from_str(&r.renditions).unwrap_or_default(),
            created_at: r.created_at.into(),
            updated_at: r.updated_at.into(),
        }
    }
}

/// Media readers may see at `now`: what a live article, an author or a collection uses.
fn in_public_use(
    now: chrono::NaiveDateTime,
) -> Box<dyn BoxableExpression<media::table, DbBackend, SqlType = diesel::sql_types::Bool>> {
    use diesel::dsl::exists;
    Box::new(
        exists(
            articles::table
                .filter(articles::hero_media_id.eq(media::id.nullable()))
                .filter(super::articles::visible_to_readers(now)),
        )
        .or(exists(
            authors::table.filter(authors::avatar_media_id.eq(media::id.nullable())),
        ))
        .or(exists(
            collections::table.filter(collections::hero_media_id.eq(media::id.nullable())),
        )),
    )
}

/// True when a media item with this id exists.
pub fn exists(conn: &mut DbConn, id: i32) -> AppResult<bool> {
    Ok(crate::on_backend!(conn, |c| diesel::select(
        diesel::dsl::exists(media::table.find(id))
    )
    .get_result(c)?))
}

/// Loads media by id in one query, for embedding in other views.
pub fn by_ids(conn: &mut DbConn, ids: &[i32]) -> AppResult<HashMap<i32, Media>> {
    let rows: Vec<MediaRow> = match ids {
        [] => return Ok(HashMap::new()),
        // On an uncached article read: on the backend's own connection (`on_backend!`).
        [id] => crate::on_backend!(conn, |c| media::table
            .find(id)
            .select(MediaRow::as_select())
            .load(c)?),
        _ => crate::on_backend!(conn, |c| media::table
            .filter(media::id.id_in(ids))
            .select(MediaRow::as_select())
            .load(c)?),
    };
    Ok(rows.into_iter().map(|r| (r.id, Media::from(r))).collect())
}

crate::closed_set! {
    /// What a media item is.
    #[stored_as_text]
    pub enum MediaKind {
        Image = "image",
        Video = "video",
        Audio = "audio",
        Embed = "embed",
    }
}

/// Reads one media item as `viewer` may see it: a reader gets 404 (never 403) for an
/// item nothing public uses.
pub fn get_for(conn: &mut DbConn, id: i32, viewer: Option<Actor>) -> AppResult<Media> {
    let mut query = media::table
        .find(id)
        .select(MediaRow::as_select())
        .into_boxed();
    if viewer.is_none() {
        query = query.filter(in_public_use(Timestamp::now().0));
    }
    query
        .get_result(conn)
        .optional()?
        .map(Media::from)
        .ok_or_else(|| AppError::not_found("media"))
}

/// Reads one media item, whoever uses it (for staff and writes).
pub fn get(conn: &mut DbConn, id: i32) -> AppResult<Media> {
    media::table
        .find(id)
        .select(MediaRow::as_select())
        .get_result(conn)
        .optional()?
        .map(Media::from)
        .ok_or_else(|| AppError::not_found("media"))
}

/// What an upload adds to a media item: the stored file and what was read from it.
#[derive(Debug, Clone)]
pub struct Uploaded {
    pub url: String,
    pub mime_type: String,
    pub width: i32,
    pub height: i32,
    pub bytes: i64,
    pub sha256: String,
    pub dominant_color: String,
    pub placeholder: String,
    pub renditions: Vec<Rendition>,
}

/// Creates a media item from a JSON body (the file lives at `url`).
pub fn create(
    conn: &mut DbConn,
    body: MediaCreate,
    languages: &[String],
) -> AppResult<Written<Media>> {
    insert(conn, body, languages, None)
}

/// Checks a create body without the database: the errors `insert` would give, so an
/// upload's text parts are refused before its file is processed.
pub fn check_create(body: &MediaCreate, languages: &[String]) -> AppResult<()> {
    let mut c = Checker::new();
    c.extra_fields(&body.unknown, READ_ONLY);
    check_focal(&mut c, body.focal_point.clone());
    let language = match &body.language {
        Input::Value(l) => {
            c.language("language", l, languages);
            l.clone()
        }
        _ => languages[0].clone(),
    };
    check_texts(
        &mut c,
        body.caption.value().map(String::as_str),
        body.credit.value().map(String::as_str),
        body.alt_text.value().map(String::as_str),
    );
    let names = Localized::check_create(&mut c, body.localized.clone(), LOCALIZED, languages);
    names.check_base(&mut c, &language);
    c.finish()
}

fn check_focal(c: &mut Checker, input: Input<FocalPoint>) -> Option<FocalPoint> {
    let point = c.optional("focal_point", input)?;
    let inside = |v: f64| (0.0..=1.0).contains(&v);
    if inside(point.x) && inside(point.y) {
        Some(point)
    } else {
        c.fail("focal_point", "x and y must each be between 0 and 1");
        None
    }
}

/// Creates a media item: from a JSON body, or for an uploaded file.
pub fn insert(
    conn: &mut DbConn,
    body: MediaCreate,
    languages: &[String],
    uploaded: Option<Uploaded>,
) -> AppResult<Written<Media>> {
    let mut c = Checker::new();
    c.extra_fields(&body.unknown, READ_ONLY);
    let (kind, url, mime_type, width, height) = match &uploaded {
        None => {
            let kind = c.required("kind", body.kind);
            let url = c.required("url", body.url).and_then(|u| c.url("url", &u));
            let mime_type = c.optional("mime_type", body.mime_type);
            if let Some(m) = &mime_type {
                check_mime(&mut c, m);
            }
            let width = c.optional("width", body.width);
            let height = c.optional("height", body.height);
            (kind, url, mime_type, width, height)
        }
        Some(file) => (
            Some(MediaKind::Image),
            Some(file.url.clone()),
            Some(file.mime_type.clone()),
            Some(file.width),
            Some(file.height),
        ),
    };
    let duration = c.optional("duration_seconds", body.duration_seconds);
    let caption = c.optional("caption", body.caption);
    let credit = c.optional("credit", body.credit);
    let alt_text = c.optional("alt_text", body.alt_text);
    let focal = check_focal(&mut c, body.focal_point);
    let language = c
        .optional("language", body.language)
        .unwrap_or_else(|| languages[0].clone());
    check_size(&mut c, "width", width, MAX_PIXELS_SIDE);
    check_size(&mut c, "height", height, MAX_PIXELS_SIDE);
    check_size(&mut c, "duration_seconds", duration, MAX_DURATION_SECONDS);
    check_texts(
        &mut c,
        caption.as_deref(),
        credit.as_deref(),
        alt_text.as_deref(),
    );
    c.language("language", &language, languages);
    let names = Localized::check_create(&mut c, body.localized, LOCALIZED, languages);
    names.check_base(&mut c, &language);
    c.finish()?;
    let now = Timestamp::now().0;
    let file = uploaded.as_ref();
    let renditions = file.map_or_else(
        || "[]".to_owned(),
        |f| serde_json::to_string(&f.renditions).unwrap_or_else(|_| "[]".into()),
    );
    let id: i32 = diesel::insert_into(media::table)
        .values((
            (
                media::kind.eq(kind.unwrap_or(MediaKind::Image)),
                media::url.eq(url.unwrap_or_default()),
                media::mime_type.eq(mime_type),
                media::width.eq(width),
                media::height.eq(height),
                media::duration_seconds.eq(duration),
                media::caption.eq(caption),
                media::credit.eq(credit),
                media::alt_text.eq(alt_text),
                media::language.eq(language),
                media::localized.eq(names.to_stored()),
                media::created_at.eq(now),
                media::updated_at.eq(now),
            ),
            (
                media::bytes.eq(file.map(|f| f.bytes)),
                media::sha256.eq(file.map(|f| f.sha256.clone())),
                media::focal_x.eq(focal.map(|p| p.x)),
                media::focal_y.eq(focal.map(|p| p.y)),
                media::dominant_color.eq(file.map(|f| f.dominant_color.clone())),
                media::placeholder.eq(file.map(|f| f.placeholder.clone())),
                media::renditions.eq(renditions),
            ),
        ))
        .returning(media::id)
        .get_result(conn)?;
    Ok(Written::content(get(conn, id)?, Scope::Created))
}

#[derive(Debug, AsChangeset)]
#[diesel(table_name = media)]
struct MediaChanges {
    kind: Option<String>,
    url: Option<String>,
    mime_type: Option<Option<String>>,
    width: Option<Option<i32>>,
    height: Option<Option<i32>>,
    duration_seconds: Option<Option<i32>>,
    caption: Option<Option<String>>,
    credit: Option<Option<String>>,
    alt_text: Option<Option<String>>,
    language: Option<String>,
    localized: Option<String>,
    focal_x: Option<Option<f64>>,
    focal_y: Option<Option<f64>>,
    updated_at: chrono::NaiveDateTime,
}

/// Applies a PATCH.
pub fn update(
    conn: &mut DbConn,
    id: i32,
    body: MediaPatch,
    languages: &[String],
) -> AppResult<Written<Media>> {
    let current = get(conn, id)?;
    let mut c = Checker::new();
    c.extra_fields(&body.unknown, READ_ONLY);
    let names = Localized::check_patch(
        &mut c,
        body.localized,
        &current.localized,
        LOCALIZED,
        languages,
    );
    let mut changes = MediaChanges {
        kind: c
            .patch("kind", body.kind)
            .into_option()
            .map(|k| k.as_str().to_owned()),
        url: c.patch("url", body.url).into_option(),
        mime_type: c.patch_nullable("mime_type", body.mime_type).into_option(),
        width: c.patch_nullable("width", body.width).into_option(),
        height: c.patch_nullable("height", body.height).into_option(),
        duration_seconds: c
            .patch_nullable("duration_seconds", body.duration_seconds)
            .into_option(),
        caption: c.patch_nullable("caption", body.caption).into_option(),
        credit: c.patch_nullable("credit", body.credit).into_option(),
        alt_text: c.patch_nullable("alt_text", body.alt_text).into_option(),
        language: c.patch("language", body.language).into_option(),
        localized: None,
        focal_x: None,
        focal_y: None,
        updated_at: Timestamp::now().0,
    };
    match body.focal_point {
        Input::Absent => {}
        Input::Null => (changes.focal_x, changes.focal_y) = (Some(None), Some(None)),
        other => {
            if let Some(p) = check_focal(&mut c, other) {
                (changes.focal_x, changes.focal_y) = (Some(Some(p.x)), Some(Some(p.y)));
            }
        }
    }
    // An uploaded file's own facts are not for editing.
    if current.sha256.is_some() {
        for (field, given) in [
            ("url", changes.url.is_some()),
            ("mime_type", changes.mime_type.is_some()),
            ("width", changes.width.is_some()),
            ("height", changes.height.is_some()),
            ("kind", changes.kind.is_some()),
        ] {
            if given {
                c.fail(field, "is set by the uploaded file and cannot be changed");
            }
        }
    }
    if let Some(u) = changes.url.take() {
        changes.url = c.url("url", &u);
    }
    if let Some(Some(m)) = &changes.mime_type {
        check_mime(&mut c, m);
    }
    check_size(&mut c, "width", changes.width.flatten(), MAX_PIXELS_SIDE);
    check_size(&mut c, "height", changes.height.flatten(), MAX_PIXELS_SIDE);
    check_size(
        &mut c,
        "duration_seconds",
        changes.duration_seconds.flatten(),
        MAX_DURATION_SECONDS,
    );
    check_texts(
        &mut c,
        changes.caption.clone().flatten().as_deref(),
        changes.credit.clone().flatten().as_deref(),
        changes.alt_text.clone().flatten().as_deref(),
    );
    if let Some(l) = &changes.language {
        c.language("language", l, languages);
    }
    // The base language after the change must not be a localized one.
    let base = changes.language.as_deref().unwrap_or(&current.language);
    names
        .as_ref()
        .unwrap_or(&current.localized)
        .check_base(&mut c, base);
    changes.localized = names.map(|n| n.to_stored());
    c.finish()?;
    diesel::update(media::table.find(id))
        .set(&changes)
        .execute(conn)?;
    Ok(Written::content(get(conn, id)?, Scope::All))
}

/// Deletes a media item; one used as an article's hero or an author's avatar is
/// `409 in_use` and nothing changes.
pub fn delete(conn: &mut DbConn, id: i32) -> AppResult<Written<()>> {
    get(conn, id)?;
    let heroes: i64 = articles::table
        .filter(articles::hero_media_id.eq(id))
        .count()
        .get_result(conn)?;
    let avatars: i64 = authors::table
        .filter(authors::avatar_media_id.eq(id))
        .count()
        .get_result(conn)?;
    let hubs: i64 = collections::table
        .filter(collections::hero_media_id.eq(id))
        .count()
        .get_result(conn)?;
    if heroes + avatars + hubs > 0 {
        return Err(AppError::InUse(format!(
            "used by {heroes} article(s) as hero media, {avatars} author(s) as avatar \
             and {hubs} collection(s) as hero media"
        )));
    }
    diesel::delete(media::table.find(id)).execute(conn)?;
    Ok(Written::content((), Scope::All))
}
