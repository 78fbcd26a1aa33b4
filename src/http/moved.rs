//! `308 Permanent Redirect` from a resource's old slug to its current one, on the read
//! routes of articles, sections, tags, authors, regions and collections.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};

use super::state::AppState;
use crate::auth::Actor;
use crate::db::DbConn;
use crate::domain::{Key, old_slugs};
use crate::error::{AppError, AppResult};

/// The current slug of the resource an old slug named, if the caller may see it.
pub type Renamed = fn(&mut DbConn, &str, Option<Actor>) -> AppResult<Option<String>>;

/// Looks up an old slug of `kind` whose resource is read by `slug_of`.
pub fn renamed(
    conn: &mut DbConn,
    kind: &str,
    old: &str,
    slug_of: fn(&mut DbConn, i32) -> AppResult<Option<String>>,
) -> AppResult<Option<String>> {
    match old_slugs::target(conn, kind, old)? {
        Some(id) => slug_of(conn, id),
        None => Ok(None),
    }
}

/// `result` as is, unless it is a 404 for a slug that was renamed: then a 308 to the
/// same route under the current slug, with the query kept.
pub async fn or_moved(
    state: &AppState,
    req: &HttpRequest,
    key: &Key,
    viewer: Option<Actor>,
    current: Renamed,
    result: AppResult<HttpResponse>,
) -> AppResult<HttpResponse> {
    let Err(AppError::NotFound(_)) = &result else {
        return result;
    };
    let current = move |conn: &mut DbConn, old: &str| current(conn, old, viewer);
    match moved_to(state, req, key, current).await? {
        Some(res) => Ok(res),
        None => result,
    }
}

/// The 308 for a slug key that `current` finds renamed, if it does.
async fn moved_to(
    state: &AppState,
    req: &HttpRequest,
    key: &Key,
    current: impl FnOnce(&mut DbConn, &str) -> AppResult<Option<String>> + Send + 'static,
) -> AppResult<Option<HttpResponse>> {
    let Key::Slug(old) = key else {
        return Ok(None);
    };
    let slug = old.clone();
    let Some(new) = state.db.read(move |conn| current(conn, &slug)).await? else {
        return Ok(None);
    };
    // `/api/v1/<things>/<slug>[/...]`: the slug is the fifth segment.
    let path: Vec<&str> = req
        .path()
        .split('/')
        .enumerate()
        .map(|(i, segment)| {
            if i == 4 && segment == old {
                new.as_str()
            } else {
                segment
            }
        })
        .collect();
    let mut location = path.join("/");
    if !req.query_string().is_empty() {
        location.push('?');
        location.push_str(req.query_string());
    }
    Ok(Some(
        HttpResponse::PermanentRedirect()
            .insert_header((header::LOCATION, location))
            .finish(),
    ))
}

/// What a single read of a named resource loads: the resource in a language, and when
/// it last changed.
pub type LoadNamed<T> =
    fn(&mut DbConn, &Key, Option<&str>) -> AppResult<(T, crate::domain::time::Timestamp)>;

/// `GET /<things>/{id_or_slug}` of a section, tag, region or author: the resource in the
/// language asked (`locale` or `Accept-Language`, base values otherwise), labelled with
/// `Content-Language`; or a 308 from one of its old slugs.
pub async fn read_named<T: serde::Serialize + Send + 'static>(
    state: &AppState,
    req: &HttpRequest,
    key: Key,
    locale: super::extract::Locale,
    kind: &'static str,
    load: LoadNamed<T>,
    slug_of: fn(&mut DbConn, i32) -> AppResult<Option<String>>,
) -> AppResult<HttpResponse> {
    crate::domain::localized::only_locale(req.query_string())?;
    let (k, lang) = (key.clone(), locale.0.clone());
    let result = state
        .db
        .read(move |conn| load(conn, &k, lang.as_deref()))
        .await
        .map(|(item, updated_at)| {
            let base = state.config.languages.first().map(String::as_str);
            locale.label(super::conditional::object(&item, updated_at), base)
        });
    let Err(AppError::NotFound(_)) = &result else {
        return result;
    };
    let current = move |conn: &mut DbConn, old: &str| renamed(conn, kind, old, slug_of);
    match moved_to(state, req, &key, current).await? {
        Some(res) => Ok(res),
        None => result,
    }
}
