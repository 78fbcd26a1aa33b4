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
    let (Err(AppError::NotFound(_)), Key::Slug(old)) = (&result, key) else {
        return result;
    };
    let old = old.clone();
    let found = state
        .db
        .read(move |conn| current(conn, &old, viewer))
        .await?;
    let (Some(new), Key::Slug(old)) = (found, key) else {
        return result;
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
    Ok(HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, location))
        .finish())
}
