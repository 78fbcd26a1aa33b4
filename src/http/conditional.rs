//! Validators and caching headers for every response, in one place.
//!
//! Every successful GET gets a strong `ETag` computed from the bytes of its body, so it
//! changes exactly when the representation does; `If-None-Match` (a list, or `*`) and
//! `If-Modified-Since` answer `304 Not Modified` with the same validators and no body.
//! Public reads are `public, max-age=…, stale-while-revalidate=…`; anything answered to a
//! request with a token, every write and every error is `private, no-store`.

use actix_web::body::{self, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::cache::{Entry, FILL_WAIT, Fill, Kind, ListDependencies, Uncacheable};
use super::state::AppState;
use crate::domain::time::Timestamp;
use std::sync::atomic::AtomicU64;

/// How many `max-age`s a cache may serve a stale copy while it revalidates.
const STALE_WHILE_REVALIDATE_FACTOR: u32 = 5;
/// `Vary` of every read (the CORS layer adds `Origin` and the preflight headers).
const VARY: &str = "Accept-Encoding, Authorization";
/// `Vary` of reads of localized resources, which follow `Accept-Language`.
const VARY_LOCALIZED: &str = "Accept-Encoding, Authorization, Accept-Language";

/// Collections whose reads take `locale` or `Accept-Language`.
const LOCALIZED_PATHS: &[&str] = &[
    "/api/v1/sections",
    "/api/v1/tags",
    "/api/v1/regions",
    "/api/v1/collections",
    "/api/v1/authors",
    "/api/v1/media",
];

/// True for the reads of sections, tags, regions, collections, authors and media.
pub fn is_localized(path: &str) -> bool {
    LOCALIZED_PATHS.iter().any(|p| {
        path.strip_prefix(p)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

fn vary_of(path: &str) -> &'static str {
    if is_localized(path) {
        VARY_LOCALIZED
    } else {
        VARY
    }
}
/// `Cache-Control` of private or uncacheable responses.
pub const NO_STORE: &str = "private, no-store";

/// The strong entity tag of a representation: a 128-bit hash of its bytes.
pub fn etag_of(bytes: &[u8]) -> String {
    let hash = xxhash_rust::xxh3::xxh3_128(bytes);
    format!("\"{}\"", URL_SAFE_NO_PAD.encode(hash.to_be_bytes()))
}

/// The opaque tags listed in an `If-None-Match` or `If-Match` value; `*` is kept as is.
/// Weak tags (`W/"…"`) are listed without their prefix.
pub fn parse_tags(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| t.strip_prefix("W/").unwrap_or(t).to_owned())
        .collect()
}

/// True when `tags` (from `If-None-Match`) names `etag`, or is `*`.
pub fn none_match_hits(tags: &[String], etag: &str) -> bool {
    tags.iter().any(|t| t == "*" || t == etag)
}

/// `Cache-Control` of a public read.
pub fn public_cache_control(max_age: u32) -> String {
    format!(
        "public, max-age={max_age}, stale-while-revalidate={}",
        max_age.saturating_mul(STALE_WHILE_REVALIDATE_FACTOR)
    )
}

/// A `200 OK` JSON response for one object, with its `Last-Modified`.
pub fn object<T: serde::Serialize>(view: &T, updated_at: Timestamp) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::LAST_MODIFIED, updated_at.to_http_date()))
        .json(view)
}

fn parse_http_date(value: &HeaderValue) -> Option<std::time::SystemTime> {
    value
        .to_str()
        .ok()
        .and_then(|v| chrono::DateTime::parse_from_rfc2822(v).ok())
        .map(std::time::SystemTime::from)
}

/// The request's conditions, read before it is handled.
struct Conditions {
    none_match: Option<Vec<String>>,
    modified_since: Option<std::time::SystemTime>,
}

impl Conditions {
    fn of(req: &ServiceRequest) -> Self {
        Self {
            none_match: req
                .headers()
                .get(header::IF_NONE_MATCH)
                .and_then(|v| v.to_str().ok())
                .map(parse_tags),
            modified_since: req
                .headers()
                .get(header::IF_MODIFIED_SINCE)
                .and_then(parse_http_date),
        }
    }

    /// RFC 9110: `If-None-Match` decides when present; `If-Modified-Since` otherwise.
    fn not_modified(&self, etag: &str, headers: &HeaderMap) -> bool {
        if let Some(tags) = &self.none_match {
            return none_match_hits(tags, etag);
        }
        match (
            self.modified_since,
            headers.get(header::LAST_MODIFIED).and_then(parse_http_date),
        ) {
            (Some(since), Some(modified)) => modified <= since,
            _ => false,
        }
    }
}

fn set(headers: &mut HeaderMap, name: header::HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.insert(name, v);
    }
}

/// Whether a response carries a representation whose bytes we hash: a 200 or a 201,
/// not a stream.
fn is_representation(res: &ServiceResponse<impl MessageBody>) -> bool {
    matches!(res.status(), StatusCode::OK | StatusCode::CREATED)
        && !res
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"))
        && !matches!(res.response().body().size(), body::BodySize::Stream)
}

/// A response body that failed to read (it never does for in-memory bodies).
pub fn body_error<E: Into<Box<dyn std::error::Error>>>(e: E) -> Error {
    let e: Box<dyn std::error::Error> = e.into();
    actix_web::error::ErrorInternalServerError(format!("cannot read response body: {e}"))
}

/// A response from a cached entry (or a 304 for it).
fn from_cache(
    req: ServiceRequest,
    entry: &Entry,
    conditions: &Conditions,
    max_age: u32,
) -> ServiceResponse<BoxBody> {
    let mut res = HttpResponse::Ok();
    res.insert_header((header::ETAG, entry.etag.clone()))
        .insert_header((header::CACHE_CONTROL, public_cache_control(max_age)))
        .insert_header((header::VARY, vary_of(req.path())));
    if let Some(lm) = &entry.last_modified {
        res.insert_header((header::LAST_MODIFIED, lm.clone()));
    }
    if let Some(cl) = &entry.content_language {
        res.insert_header((header::CONTENT_LANGUAGE, cl.clone()));
    }
    let mut res = res.finish();
    let etag = entry.etag.to_str().unwrap_or_default();
    if conditions.not_modified(etag, res.headers()) {
        *res.status_mut() = StatusCode::NOT_MODIFIED;
        return req.into_response(res);
    }
    res.headers_mut()
        .insert(header::CONTENT_TYPE, entry.content_type.clone());
    req.into_response(res.set_body(BoxBody::new(entry.body.clone())))
}

/// The middleware; see the module documentation.
pub async fn conditional(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    // HEAD is answered as GET; the HTTP layer leaves the body out.
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    // Uploaded files carry their own validators and are never held in the cache.
    if req.path().starts_with("/files/") {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let is_read = req.method() == Method::GET;
    let private = req.headers().contains_key(header::AUTHORIZATION);
    let conditions = Conditions::of(&req);
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let max_age = state
        .as_ref()
        .map(|s| s.config.cache_max_age_seconds)
        .unwrap_or(0);
    let cache = state
        .filter(|_| is_read && !private)
        .map(|s| s.cache.clone());
    let key = cache.as_ref().map(|_| {
        let mut key = match req.query_string() {
            "" => req.path().to_owned(),
            q => format!("{}?{q}", req.path()),
        };
        // A localized read also depends on the language `Accept-Language` chooses
        // (`locale=` is in the query already, and wins).
        if is_localized(req.path())
            && let Ok(Some(lang)) = super::extract::locale_of(req.request())
        {
            key.push('\u{0}');
            key.push_str(&lang);
        }
        key
    });
    let stamp = cache.as_ref().map(|c| c.stamp());
    let mut _leading = None;
    if let (Some(cache), Some(key), Some(arrived)) = (&cache, &key, stamp) {
        if let Some(entry) = cache.get_at(key, arrived) {
            cache.count_hit();
            return Ok(from_cache(req, &entry, &conditions, max_age));
        }
        match cache.begin_fill(key) {
            Fill::Lead(guard) => _leading = Some(guard),
            Fill::Wait(done) => {
                let _ = tokio::time::timeout(FILL_WAIT, done).await;
                if let Some(entry) = cache.get_at(key, arrived) {
                    cache.count_hit();
                    return Ok(from_cache(req, &entry, &conditions, max_age));
                }
            }
        }
        cache.count_miss();
    }
    let kind = Kind::of(req.path());
    let res = next.call(req).await?;

    if !is_representation(&res) {
        let mut res = res.map_into_boxed_body();
        if !res.headers().contains_key(header::CACHE_CONTROL) {
            set(res.headers_mut(), header::CACHE_CONTROL, NO_STORE);
        }
        return Ok(res);
    }
    let uncacheable = res.response().extensions().get::<Uncacheable>().is_some();
    let kind = match res.response().extensions().get::<ListDependencies>() {
        Some(ListDependencies(deps)) => Kind::ArticleList(deps.clone()),
        None => kind,
    };
    let (http_req, response) = res.into_parts();
    let (mut head, body) = response.into_parts();
    let bytes = body::to_bytes(body).await.map_err(body_error)?;
    let etag = head
        .headers()
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_else(|| etag_of(&bytes));
    let cache_control = if private || !is_read {
        NO_STORE.to_owned()
    } else {
        public_cache_control(max_age)
    };
    let headers = head.headers_mut();
    set(headers, header::ETAG, &etag);
    if !headers.contains_key(header::CACHE_CONTROL) {
        set(headers, header::CACHE_CONTROL, &cache_control);
    }
    if is_read {
        set(headers, header::VARY, vary_of(http_req.path()));
    }
    if let (Some(cache), Some(key), Some(stamp)) = (&cache, key, stamp)
        && head.status() == StatusCode::OK
        && !uncacheable
        && let (Some(etag), Some(content_type)) = (
            head.headers().get(header::ETAG),
            head.headers().get(header::CONTENT_TYPE),
        )
    {
        cache.put(
            key,
            Entry {
                stamp,
                checked: AtomicU64::new(stamp.articles()),
                kind,
                etag: etag.clone(),
                last_modified: head.headers().get(header::LAST_MODIFIED).cloned(),
                content_language: head.headers().get(header::CONTENT_LANGUAGE).cloned(),
                content_type: content_type.clone(),
                body: bytes.clone(),
            },
        );
    }
    if is_read && conditions.not_modified(&etag, head.headers()) {
        let mut not_modified = HttpResponse::NotModified().finish();
        for name in [
            header::ETAG,
            header::CACHE_CONTROL,
            header::VARY,
            header::LAST_MODIFIED,
            header::CONTENT_LANGUAGE,
        ] {
            if let Some(v) = head.headers().get(&name) {
                not_modified.headers_mut().insert(name, v.clone());
            }
        }
        return Ok(ServiceResponse::new(http_req, not_modified));
    }
    let response = head.set_body(bytes).map_into_boxed_body();
    Ok(ServiceResponse::new(http_req, response))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_are_strong_and_follow_the_bytes() {
        let a = etag_of(b"{\"id\":1}");
        assert!(a.starts_with('"') && a.ends_with('"') && !a.starts_with("W/"));
        assert_eq!(a, etag_of(b"{\"id\":1}"));
        assert_ne!(a, etag_of(b"{\"id\":2}"));
    }

    #[test]
    fn if_none_match_lists_and_stars() {
        let tags = parse_tags("\"a\", W/\"b\" ,\"c\"");
        assert_eq!(tags, ["\"a\"", "\"b\"", "\"c\""]);
        assert!(none_match_hits(&tags, "\"b\""));
        assert!(!none_match_hits(&tags, "\"d\""));
        assert!(none_match_hits(&parse_tags("*"), "\"d\""));
    }

    #[test]
    fn public_cache_control_allows_stale_while_revalidating() {
        assert_eq!(
            public_cache_control(60),
            "public, max-age=60, stale-while-revalidate=300"
        );
    }
}
