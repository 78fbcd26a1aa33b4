//! `Idempotency-Key` on POST: a client that lost the answer to a create may send the
//! same request again with the same key and get the first answer back (status, body,
//! `Location`) without creating anything. The same key with a different body is a 422;
//! a retry while the first attempt is still running is a 409 with `Retry-After`.
//! Keys are per user (from the bearer token, checked against the account as it is now)
//! and kept for 24 hours in the database, at most
//! [`MAX_KEYS_PER_USER`](crate::domain::idempotency::MAX_KEYS_PER_USER) per user (a
//! 429 beyond that).

use actix_web::body::{self, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpResponse, ResponseError, web};
use sha2::{Digest, Sha256};

use super::conditional::body_error;
use super::extract::{actor_for_token, read_body};
use super::state::AppState;
use crate::domain::idempotency::{self, Claim, StoredResponse};
use crate::error::AppError;

/// The request header.
pub const HEADER: &str = "idempotency-key";
/// Set on a replayed response.
pub const REPLAYED: &str = "idempotent-replayed";
/// Longest accepted key.
const MAX_KEY_LEN: usize = 255;

/// Creates whose answer carries a secret shown once (an API token, a webhook's signing
/// secret, a session's tokens): their answers are never stored for a replay, so the
/// key is not read there.
pub const NOT_REPLAYED: &[&str] = &[
    "/api/v1/tokens",
    "/api/v1/webhooks",
    "/api/v1/auth/token",
    "/api/v1/auth/refresh",
];

fn problem(req: ServiceRequest, error: AppError) -> ServiceResponse<BoxBody> {
    req.into_response(error.error_response())
}

/// The user behind the request's bearer token, checked in full (signature, expiry, and
/// the account as it is now): a disabled user's old token stores nothing.
async fn token_user(req: &ServiceRequest, state: &AppState) -> Option<i32> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    actor_for_token(state, token.trim())
        .await
        .ok()
        .map(|actor| actor.id)
}

/// What makes two requests "the same": method, path with query, and body.
pub fn fingerprint(method: &str, uri: &str, body: &[u8]) -> String {
    let mut hash = Sha256::new();
    hash.update(method);
    hash.update(b" ");
    hash.update(uri);
    hash.update(b"\n");
    hash.update(body);
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn replay(stored: StoredResponse) -> HttpResponse {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut res = HttpResponse::build(status);
    if let Some(ct) = &stored.content_type {
        res.insert_header((header::CONTENT_TYPE, ct.as_str()));
    }
    if let Some(location) = &stored.location {
        res.insert_header((header::LOCATION, location.as_str()));
    }
    res.insert_header((REPLAYED, "true"));
    res.body(stored.body)
}

/// The middleware; see the module documentation.
pub async fn idempotency(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let key = match req.headers().get(HEADER) {
        Some(value) if req.method() == Method::POST && !NOT_REPLAYED.contains(&req.path()) => {
            value.to_str().ok().map(str::to_owned)
        }
        _ => return Ok(next.call(req).await?.map_into_boxed_body()),
    };
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let Some(user_id) = token_user(&req, &state).await else {
        // No valid token: the handler answers 401 (before any complaint about the key);
        // there is nobody to key by.
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let Some(key) = key.filter(|k| {
        !k.is_empty() && k.len() <= MAX_KEY_LEN && k.bytes().all(|b| b.is_ascii_graphic())
    }) else {
        return Ok(problem(
            req,
            AppError::bad_param(
                "Idempotency-Key",
                "Idempotency-Key must be 1 to 255 visible ASCII characters",
            ),
        ));
    };
    let mut payload = req.take_payload();
    let limit = super::extract::body_limit(req.headers(), &state.config);
    let body = match read_body(req.headers(), &mut payload, limit).await {
        Ok(b) => b.freeze(),
        Err(e) => return Ok(problem(req, e)),
    };
    let print = fingerprint(req.method().as_str(), &req.uri().to_string(), &body);
    req.set_payload(Payload::from(body));

    let claim_key = key.clone();
    let claim = state
        .db
        .write(move |conn| idempotency::claim(conn, user_id, &claim_key, &print))
        .await;
    match claim {
        Err(e) => Ok(problem(req, e)),
        Ok(Claim::Replay(stored)) => Ok(req.into_response(replay(stored))),
        Ok(Claim::InProgress) => {
            let mut res = AppError::Conflict {
                code: "idempotency_in_progress",
                detail: "a request with this Idempotency-Key is still being handled".into(),
            }
            .error_response();
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            Ok(req.into_response(res))
        }
        Ok(Claim::Full) => Ok(problem(
            req,
            AppError::RateLimited {
                retry_after_seconds: 3600,
            },
        )),
        Ok(Claim::Mismatch) => Ok(problem(
            req,
            AppError::invalid(
                "Idempotency-Key",
                "was already used for a different request; use a new key",
            ),
        )),
        Ok(Claim::Fresh) => {
            let res = next.call(req).await?;
            let status = res.status();
            if status.is_server_error() {
                let release_key = key.clone();
                let _ = state
                    .db
                    .write(move |conn| idempotency::release(conn, user_id, &release_key))
                    .await;
                return Ok(res.map_into_boxed_body());
            }
            let (http_req, response) = res.into_parts();
            let (head, body) = response.into_parts();
            let bytes = body::to_bytes(body).await.map_err(body_error)?;
            let header_text = |name: header::HeaderName| {
                head.headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            let stored = StoredResponse {
                status: status.as_u16(),
                content_type: header_text(header::CONTENT_TYPE),
                location: header_text(header::LOCATION),
                body: String::from_utf8_lossy(&bytes).into_owned(),
            };
            state
                .db
                .write(move |conn| idempotency::complete(conn, user_id, &key, &stored))
                .await
                .map_err(actix_web::Error::from)?;
            Ok(ServiceResponse::new(
                http_req,
                head.set_body(bytes).map_into_boxed_body(),
            ))
        }
    }
}
