//! Request extractors: the authenticated staff member (with the role a route needs,
//! visible in the handler's signature), the object a path names, and strict JSON bodies.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use super::state::AppState;
use crate::auth::scopes::{Scope, Scopes};
use crate::auth::{Actor, Role};
use crate::domain::{Key, api_tokens, sessions, users};
use crate::error::AppError;

/// The smallest role a route accepts.
pub trait MinRole {
    /// The role.
    const ROLE: Role;
}

/// Any staff member: writers, editors and admins.
#[derive(Debug)]
pub struct Writer;
/// Editors and admins.
#[derive(Debug)]
pub struct Editor;
/// Admins only.
#[derive(Debug)]
pub struct Admin;

impl MinRole for Writer {
    const ROLE: Role = Role::Writer;
}
impl MinRole for Editor {
    const ROLE: Role = Role::Editor;
}
impl MinRole for Admin {
    const ROLE: Role = Role::Admin;
}

/// A signed-in staff member whose role is at least `R`: `Staff<Editor>` in a handler's
/// arguments means the route answers 401 without a valid token and 403 below editor.
#[derive(Debug)]
pub struct Staff<R: MinRole = Writer> {
    pub actor: Actor,
    _role: PhantomData<R>,
}

/// The staff member if the request carries a token, or nobody. A token that is sent
/// but not valid is still a 401: a reader never silently loses their identity.
#[derive(Debug, Clone, Copy)]
pub struct MaybeStaff(pub Option<Actor>);

fn state(req: &HttpRequest) -> Result<web::Data<AppState>, AppError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| AppError::internal("application state is missing"))
}

/// The bearer token of a request: `None` when there is no `Authorization` header.
fn bearer(req: &HttpRequest) -> Result<Option<String>, AppError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| AppError::Unauthorized("the Authorization header is not valid".into()))?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or_else(|| AppError::Unauthorized("expected Authorization: Bearer <token>".into()))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(AppError::Unauthorized(
            "expected Authorization: Bearer <token>".into(),
        ));
    }
    Ok(Some(token.trim().to_owned()))
}

/// Checks a request's token: an API token (`nd_…`) by its hash, an access token by its
/// signature; either way against the account's current state.
async fn authenticate(req: &HttpRequest) -> Result<Option<Actor>, AppError> {
    let Some(token) = bearer(req)? else {
        return Ok(None);
    };
    let state = state(req)?;
    Ok(Some(actor_for_token(&state, &token).await?))
}

/// The account behind a bearer token. An API token must exist, be unexpired and belong
/// to an enabled account; its scopes are cut to the account's current role. An access
/// token's signature and expiry are checked, then the account's state (not disabled,
/// deleted, or with a changed password) and its session (not ended).
pub async fn actor_for_token(state: &AppState, token: &str) -> Result<Actor, AppError> {
    if token.starts_with(api_tokens::PREFIX) {
        let token = token.to_owned();
        let (actor, due) = state
            .db
            .read(move |conn| api_tokens::authenticate(conn, &token))
            .await?;
        if due && let Some(id) = actor.api_token {
            state.token_uses.record(id);
        }
        return Ok(actor);
    }
    let claims = state.tokens.verify(token)?;
    let user_id = claims
        .user_id()
        .ok_or_else(|| AppError::Unauthorized("the token is not valid".into()))?;
    let version = claims.ver;
    let session = claims.sid;
    state
        .db
        .read(move |conn| {
            let actor = users::actor_for_token(conn, user_id, version)?;
            if let Some(sid) = session
                && !sessions::is_open(conn, sid, user_id)?
            {
                return Err(AppError::Unauthorized(
                    "the session has ended; sign in again".into(),
                ));
            }
            Ok(actor)
        })
        .await
}

/// The scopes the matched route needs, from its OpenAPI operation.
fn route_scopes(req: &HttpRequest) -> Scopes {
    let Some(pattern) = super::middleware::route_of(req) else {
        return Scopes::NONE;
    };
    crate::openapi::scopes::required(req.method(), &pattern)
}

impl<R: MinRole> FromRequest for Staff<R> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let actor = authenticate(&req).await?.ok_or_else(|| {
                AppError::Unauthorized("this request needs a bearer token".into())
            })?;
            if !actor.role.includes(R::ROLE) {
                return Err(AppError::Forbidden(format!(
                    "this needs the {} role or higher",
                    R::ROLE.as_str()
                )));
            }
            let missing = actor.scopes.missing(route_scopes(&req));
            if !missing.is_empty() {
                return Err(AppError::InsufficientScope(missing));
            }
            Ok(Staff {
                actor,
                _role: PhantomData,
            })
        })
    }
}

impl FromRequest for MaybeStaff {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            // A token without `content:read` reads as an anonymous reader.
            let actor = authenticate(&req)
                .await?
                .filter(|a| a.scopes.has(Scope::ContentRead));
            Ok(MaybeStaff(actor))
        })
    }
}

/// The object that a route's one path segment (`{id_or_slug}`) names.
impl FromRequest for Key {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let segment = web::Path::<String>::from_request(req, payload).into_inner();
        std::future::ready(segment.map(|s| Key::parse(&s)))
    }
}

/// A JSON request body read strictly: `application/json` (or any `+json` type such as
/// `application/merge-patch+json`), at most `MAX_BODY_BYTES`, a JSON object.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

/// Room for the parts, headers and boundaries of an upload besides its file.
pub const MULTIPART_OVERHEAD: u64 = 256 * 1024;

/// True when the body is `multipart/form-data`.
pub fn is_multipart(headers: &header::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|e| e.trim().eq_ignore_ascii_case("multipart/form-data"))
}

/// The largest body a request may send: an upload's file and parts, or `MAX_BODY_BYTES`.
pub fn body_limit(headers: &header::HeaderMap, config: &crate::config::Config) -> usize {
    if is_multipart(headers) {
        usize::try_from(config.media_max_bytes + MULTIPART_OVERHEAD).unwrap_or(usize::MAX)
    } else {
        config.max_body_bytes
    }
}

pub(crate) fn is_json(req: &HttpRequest) -> bool {
    let Some(value) = req.headers().get(header::CONTENT_TYPE) else {
        return false;
    };
    let Ok(value) = value.to_str() else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Longest wait for the next piece of a request body.
pub const BODY_IDLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);
/// Longest time a whole request body may take to arrive (2 MiB at 20 KB/s).
pub const BODY_TOTAL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// Reads a whole body, refusing it as soon as it passes `limit` bytes, and with 408 when
/// it stalls for [`BODY_IDLE_TIMEOUT`] or takes longer than [`BODY_TOTAL_TIMEOUT`]: a
/// client trickling bytes cannot hold a worker and a connection for ever.
pub async fn read_body(
    headers: &header::HeaderMap,
    payload: &mut Payload,
    limit: usize,
) -> Result<web::BytesMut, AppError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(AppError::PayloadTooLarge { limit });
    }
    let mut body = web::BytesMut::with_capacity(declared.unwrap_or(0).min(limit));
    let deadline = tokio::time::Instant::now() + BODY_TOTAL_TIMEOUT;
    loop {
        let wait = (tokio::time::Instant::now() + BODY_IDLE_TIMEOUT).min(deadline);
        let chunk = match tokio::time::timeout_at(wait, payload.next()).await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(_) => {
                return Err(AppError::RequestTimeout(
                    "the request body arrived too slowly".into(),
                ));
            }
        };
        let chunk = chunk.map_err(|e| AppError::bad_request(format!("cannot read body: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(AppError::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Parses a JSON body into `T`, telling syntax errors (400) from a body that is not an
/// object of the expected shape.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(AppError::bad_param(
            "body",
            "the request body is empty; send a JSON object",
        ));
    }
    match serde_json::from_slice::<T>(bytes) {
        Ok(v) => Ok(v),
        Err(e) if e.is_data() => Err(AppError::bad_param(
            "body",
            "the request body must be a JSON object",
        )),
        Err(e) => Err(AppError::bad_param(
            "body",
            format!("the request body is not valid JSON: {e}"),
        )),
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            if !is_json(&req) {
                return Err(AppError::UnsupportedMediaType(
                    "send the body as application/json".into(),
                ));
            }
            let limit = state(&req)?.config.max_body_bytes;
            let body = read_body(req.headers(), &mut payload, limit).await?;
            parse_json(&body).map(JsonBody)
        })
    }
}

/// A JSON body that may be left out: an empty body reads as `T::default()`; anything
/// else is read as [`JsonBody`] reads it.
#[derive(Debug)]
pub struct OptionalJsonBody<T>(pub T);

impl<T: DeserializeOwned + Default + 'static> FromRequest for OptionalJsonBody<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let limit = state(&req)?.config.max_body_bytes;
            let body = read_body(req.headers(), &mut payload, limit).await?;
            if body.iter().all(u8::is_ascii_whitespace) {
                return Ok(OptionalJsonBody(T::default()));
            }
            if !is_json(&req) {
                return Err(AppError::UnsupportedMediaType(
                    "send the body as application/json".into(),
                ));
            }
            parse_json(&body).map(OptionalJsonBody)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_syntax_errors_and_shape_errors_are_told_apart() {
        #[derive(Debug, serde::Deserialize)]
        struct Body {
            #[allow(dead_code)]
            name: Option<String>,
        }
        let err = parse_json::<Body>(b"{\"name\": ").unwrap_err();
        assert!(err.to_string().contains("not valid JSON"));
        let err = parse_json::<Body>(b"[1, 2]").unwrap_err();
        assert!(err.to_string().contains("must be a JSON object"));
        let err = parse_json::<Body>(b"  ").unwrap_err();
        assert!(err.to_string().contains("empty"));
    }

    #[test]
    fn deep_nesting_is_a_400_not_a_crash() {
        let deep = "[".repeat(100_000);
        let err = parse_json::<serde_json::Value>(deep.as_bytes()).unwrap_err();
        assert_eq!(err.status(), 400);
    }
}

/// The language a read of a localized resource asks for: `locale=` (400 when it is not
/// a configured language), else `Accept-Language`, else none (base values).
#[derive(Debug, Clone, Default)]
pub struct Locale(pub Option<String>);

impl Locale {
    /// The language asked for, if any.
    pub fn lang(&self) -> Option<&str> {
        self.0.as_deref()
    }

    /// Marks a response as in `self`'s language, or in `otherwise` (the base language
    /// of what it shows, when that is one language) when none was asked for.
    pub fn label(
        &self,
        mut res: actix_web::HttpResponse,
        otherwise: Option<&str>,
    ) -> actix_web::HttpResponse {
        if let Some(lang) = self.lang().or(otherwise)
            && let Ok(value) = header::HeaderValue::from_str(lang)
        {
            res.headers_mut().insert(header::CONTENT_LANGUAGE, value);
        }
        res
    }
}

impl FromRequest for Locale {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(locale_of(req).map(Locale))
    }
}

/// Reads `locale=` and `Accept-Language` of a request against the configured languages.
pub fn locale_of(req: &HttpRequest) -> Result<Option<String>, AppError> {
    let state = state(req)?;
    let locale = form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(name, _)| name == "locale")
        .map(|(_, value)| value.into_owned());
    let accept = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    crate::domain::localized::requested(locale.as_deref(), accept, &state.config.languages)
}
