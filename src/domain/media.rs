//! Media: images, video, audio and embeds with captions and credits. Readers see a media
//! item only while something public uses it (the hero image of a live article, an
//! author's avatar, a collection's hero image), so an image made for an unpublished
//! story does not give the story away; staff see every item.

use std::collections::HashMap;

use diesel::prelude::*;
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use super::input::{Checker, Input, TextRule, UnknownFields};
use super::paging::{self, CursorCodec, KeyValue, ListResponse, PageRequest};
use super::params::{self, Params};
use super::time::Timestamp;
use crate::auth::Actor;
use crate::db::{DbBackend, DbConn, Scope, Written};
use crate::error::{AppError, AppResult};
use crate::schema::{articles, authors, collections, media};

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
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
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
    Ok(diesel::select(diesel::dsl::exists(media::table.find(id))).get_result(conn)?)
}

/// Loads media by id in one query, for embedding in other views.
pub fn by_ids(conn: &mut DbConn, ids: &[i32]) -> AppResult<HashMap<i32, Media>> {
    let rows: Vec<MediaRow> = match ids {
        [] => return Ok(HashMap::new()),
        [id] => media::table
            .find(id)
            .select(MediaRow::as_select())
            .load(conn)?,
        _ => media::table
            .filter(media::id.eq_any(ids))
            .select(MediaRow::as_select())
            .load(conn)?,
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

crate::closed_set! {
    /// Orders by creation time.
    pub enum MediaSort {
        CreatedAtDesc = "-created_at",
        CreatedAt = "created_at",
    }
}

const CAPTION: TextRule = TextRule::block(1_000);
const CREDIT: TextRule = TextRule::line(1, 200);
const ALT_TEXT: TextRule = TextRule::line(1, 500);
const MAX_PIXELS_SIDE: i32 = 100_000;
const MAX_DURATION_SECONDS: i32 = 7 * 24 * 3600;
const READ_ONLY: &[&str] = &["id", "created_at", "updated_at"];

/// Body of `POST /media`.
#[derive(Debug, Default, serde::Deserialize, ToSchema)]
pub struct MediaCreate {
    #[serde(default)]
    #[schema(value_type = MediaKind, required = true)]
    pub kind: Input<MediaKind>,
    #[serde(default)]
    #[schema(value_type = String, required = true, example = "https://cdn.example.com/2024/05/harbour.jpg")]
    pub url: Input<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "image/jpeg")]
    pub mime_type: Input<String>,
    #[serde(default)]
    #[schema(value_type = Option<i32>, minimum = 0)]
    pub width: Input<i32>,
    #[serde(default)]
    #[schema(value_type = Option<i32>, minimum = 0)]
    pub height: Input<i32>,
    #[serde(default)]
    #[schema(value_type = Option<i32>, minimum = 0)]
    pub duration_seconds: Input<i32>,
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "Fishing boats return to the harbour at dawn.")]
    pub caption: Input<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "AP")]
    pub credit: Input<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub alt_text: Input<String>,
    /// Defaults to the first configured language.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "en")]
    pub language: Input<String>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub unknown: UnknownFields,
}

/// Body of `PATCH /media/{id}`; `null` clears an optional field.
#[derive(Debug, Default, serde::Deserialize, ToSchema)]
pub struct MediaPatch {
    #[serde(default)]
    #[schema(value_type = MediaKind)]
    pub kind: Input<MediaKind>,
    #[serde(default)]
    #[schema(value_type = String)]
    pub url: Input<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub mime_type: Input<String>,
    #[serde(default)]
    #[schema(value_type = Option<i32>, minimum = 0)]
    pub width: Input<i32>,
    #[serde(default)]
    #[schema(value_type = Option<i32>, minimum = 0)]
    pub height: Input<i32>,
    #[serde(default)]
    #[schema(value_type = Option<i32>, minimum = 0)]
    pub duration_seconds: Input<i32>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub caption: Input<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub credit: Input<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub alt_text: Input<String>,
    #[serde(default)]
    #[schema(value_type = String)]
    pub language: Input<String>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub unknown: UnknownFields,
}

fn check_mime(c: &mut Checker, mime: &str) {
    let ok = mime.len() <= 100
        && mime.split_once('/').is_some_and(|(t, s)| {
            !t.is_empty()
                && !s.is_empty()
                && t.bytes().all(|b| b.is_ascii_lowercase())
                && s.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'+' | b'-')
                })
        });
    if !ok {
        c.fail("mime_type", "must be a media type such as image/jpeg");
    }
}

fn check_size(c: &mut Checker, field: &str, value: Option<i32>, max: i32) {
    if let Some(v) = value
        && !(0..=max).contains(&v)
    {
        c.fail(field, format!("must be between 0 and {max}"));
    }
}

/// The optional text fields of a media item, checked the same way on create and patch.
fn check_texts(
    c: &mut Checker,
    caption: Option<&str>,
    credit: Option<&str>,
    alt_text: Option<&str>,
) {
    c.text_opt("caption", caption, CAPTION);
    c.text_opt("credit", credit, CREDIT);
    c.text_opt("alt_text", alt_text, ALT_TEXT);
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

/// Creates a media item.
pub fn create(
    conn: &mut DbConn,
    body: MediaCreate,
    languages: &[String],
) -> AppResult<Written<Media>> {
    let mut c = Checker::new();
    c.extra_fields(&body.unknown, READ_ONLY);
    let kind = c.required("kind", body.kind);
    let url = c.required("url", body.url);
    let mime_type = c.optional("mime_type", body.mime_type);
    let width = c.optional("width", body.width);
    let height = c.optional("height", body.height);
    let duration = c.optional("duration_seconds", body.duration_seconds);
    let caption = c.optional("caption", body.caption);
    let credit = c.optional("credit", body.credit);
    let alt_text = c.optional("alt_text", body.alt_text);
    let language = c
        .optional("language", body.language)
        .unwrap_or_else(|| languages[0].clone());
    let url = url.and_then(|u| c.url("url", &u));
    if let Some(m) = &mime_type {
        check_mime(&mut c, m);
    }
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
    c.finish()?;
    let now = Timestamp::now().0;
    let id: i32 = diesel::insert_into(media::table)
        .values((
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
            media::created_at.eq(now),
            media::updated_at.eq(now),
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
    updated_at: chrono::NaiveDateTime,
}

/// Applies a PATCH.
pub fn update(
    conn: &mut DbConn,
    id: i32,
    body: MediaPatch,
    languages: &[String],
) -> AppResult<Written<Media>> {
    get(conn, id)?;
    let mut c = Checker::new();
    c.extra_fields(&body.unknown, READ_ONLY);
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
        updated_at: Timestamp::now().0,
    };
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

/// The query parameters of `GET /media` (with [`PageParams`](super::paging::PageParams)).
#[derive(Debug, Default, serde::Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MediaParams {
    /// Only this kind.
    #[param(inline)]
    pub kind: Option<MediaKind>,
    /// Words in the caption, credit or alt text (at most 200 characters).
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// Only this language (one of `LANGUAGES`).
    pub lang: Option<String>,
    /// `-created_at` (default, newest first) or `created_at`.
    #[param(inline)]
    pub sort: Option<MediaSort>,
}

/// A parsed `GET /media` request.
#[derive(Debug, Clone)]
pub struct MediaQuery {
    pub kind: Option<MediaKind>,
    pub q: Option<String>,
    pub lang: Option<String>,
    pub sort: MediaSort,
    pub page: PageRequest,
}

impl MediaQuery {
    /// Reads the query string of `GET /media`.
    pub fn parse(query: &str, codec: &CursorCodec, languages: &[String]) -> AppResult<Self> {
        let mut params = Params::parse(query)?;
        let MediaParams {
            kind,
            q,
            lang,
            sort,
        } = params.read()?;
        let lang = params::language("lang", lang, languages)?;
        let sort = sort.unwrap_or(MediaSort::CreatedAtDesc);
        let page = PageRequest::from_params(&mut params, codec, sort.as_str())?;
        params.finish()?;
        Ok(Self {
            kind,
            q,
            lang,
            sort,
            page,
        })
    }
}

/// `%text%` for LIKE, with the wildcards of `text` itself escaped by `\`.
pub fn like_pattern(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// Lists the media `viewer` may see, newest first by default; `q` searches caption,
/// credit and alt text.
pub fn list(
    conn: &mut DbConn,
    q: &MediaQuery,
    codec: &CursorCodec,
    viewer: Option<Actor>,
) -> AppResult<ListResponse<Media>> {
    let now = Timestamp::now().0;
    let filtered = || {
        let mut query = media::table.into_boxed::<DbBackend>();
        if viewer.is_none() {
            query = query.filter(in_public_use(now));
        }
        if let Some(kind) = q.kind {
            query = query.filter(media::kind.eq(kind));
        }
        if let Some(lang) = &q.lang {
            query = query.filter(media::language.eq(lang.clone()));
        }
        if let Some(text) = &q.q {
            let pattern = like_pattern(text);
            query = query.filter(
                media::caption
                    .like(pattern.clone())
                    .escape('\\')
                    .or(media::credit.like(pattern.clone()).escape('\\'))
                    .or(media::alt_text.like(pattern).escape('\\')),
            );
        }
        query
    };
    let mut query = filtered().select(MediaRow::as_select());
    if let Some(after) = q.page.after() {
        let (k, last) = (after.time(0)?, after.last_id()?);
        query = match q.sort {
            MediaSort::CreatedAtDesc => {
                keyset_after!(query, media::created_at, media::id, k, last, desc)
            }
            MediaSort::CreatedAt => {
                keyset_after!(query, media::created_at, media::id, k, last, asc)
            }
        };
    }
    query = match q.sort {
        MediaSort::CreatedAtDesc => query.order((media::created_at.desc(), media::id.desc())),
        MediaSort::CreatedAt => query.order((media::created_at.asc(), media::id.asc())),
    };
    let rows: Vec<MediaRow> = query
        .limit(q.page.fetch_limit())
        .offset(q.page.offset())
        .load(conn)?;
    let total = match q.page.after() {
        None => Some(filtered().count().get_result::<i64>(conn)?),
        Some(_) => None,
    };
    Ok(paging::finish_page(
        rows,
        &q.page,
        q.sort.as_str(),
        codec,
        total,
        |r| {
            vec![
                KeyValue::Int(Timestamp::from(r.created_at).unix()),
                KeyValue::Int(i64::from(r.id)),
            ]
        },
        Media::from,
    ))
}
