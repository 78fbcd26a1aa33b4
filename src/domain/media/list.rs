//! `GET /media`: its query parameters, sorts, and the page of items `viewer` may see.

use diesel::prelude::*;
use utoipa::IntoParams;

use super::{Media, MediaKind, MediaRow, in_public_use};
use crate::auth::Actor;
use crate::db::{DbBackend, DbConn};
use crate::domain::paging::{self, CursorCodec, KeyValue, ListResponse, PageRequest};
use crate::domain::params::{self, Params};
use crate::domain::time::Timestamp;
use crate::error::AppResult;
use crate::schema::media;

crate::closed_set! {
    /// Orders by creation time.
    pub enum MediaSort {
        CreatedAtDesc = "-created_at",
        CreatedAt = "created_at",
    }
}

/// The query parameters of `GET /media` (with [`PageParams`](crate::domain::paging::PageParams)).
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
        let _: crate::domain::localized::LocaleParams = params.read()?;
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

diesel::define_sql_function! {
    /// SQL `lower` of a nullable text.
    fn lower(x: diesel::sql_types::Nullable<diesel::sql_types::Text>) -> diesel::sql_types::Nullable<diesel::sql_types::Text>;
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
    locale: Option<&str>,
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
            // ASCII letters match either case, as SQLite's LIKE has it; `lower` folds
            // only ASCII on both backends (PostgreSQL's columns are `COLLATE "C"`).
            let pattern = like_pattern(text).to_ascii_lowercase();
            query = query.filter(
                lower(media::caption)
                    .like(pattern.clone())
                    .escape('\\')
                    .or(lower(media::credit).like(pattern.clone()).escape('\\'))
                    .or(lower(media::alt_text).like(pattern).escape('\\')),
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
        |r| Media::from(r).localize(locale),
    ))
}
