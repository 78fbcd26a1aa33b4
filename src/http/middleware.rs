//! The envelope every request passes through: request ids, the access log line,
//! security headers, and problem+json for any error that reached here without one.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};

use super::problem;
use crate::domain::params::MAX_QUERY_BYTES;
use crate::error::AppError;
use actix_web::ResponseError;

/// The `X-Request-Id` header.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the request being handled, for handlers and logs.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";
const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                        img-src 'self' data:; connect-src 'self'; font-src 'self'; \
                        frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// A client's request id is kept if it is short and plain; otherwise a new one is made.
fn request_id_of(req: &ServiceRequest) -> String {
    req.headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        })
        .map(str::to_owned)
        .unwrap_or_else(new_request_id)
}

fn new_request_id() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 12];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The route templates of paths seen lately. Asking actix for a request's template
/// matches the path against every route again (a few microseconds, as much as a
/// cached read costs in all); the same paths come again and again, so the answer is
/// kept, for a bounded number of paths.
static ROUTES: std::sync::LazyLock<quick_cache::sync::Cache<String, Option<std::sync::Arc<str>>>> =
    std::sync::LazyLock::new(|| quick_cache::sync::Cache::new(8192));

/// The route template that `req` matched (`/api/v1/articles/{id_or_slug}`), if any.
pub(crate) fn route_of(req: &actix_web::HttpRequest) -> Option<std::sync::Arc<str>> {
    let path = req.path();
    if let Some(known) = ROUTES.get(path) {
        return known;
    }
    let template: Option<std::sync::Arc<str>> = req.match_pattern().map(Into::into);
    ROUTES.insert(path.to_owned(), template.clone());
    template
}

/// Wraps every request; see the module documentation.
pub async fn envelope(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let started = Instant::now();
    let id = request_id_of(&req);
    if req.query_string().len() > MAX_QUERY_BYTES {
        let too_long = AppError::bad_request(format!(
            "the query string is longer than {MAX_QUERY_BYTES} bytes"
        ));
        let mut res = req.into_response(too_long.error_response());
        if let Ok(value) = HeaderValue::from_str(&id) {
            res.headers_mut().insert(REQUEST_ID, value);
        }
        return Ok(res);
    }
    req.extensions_mut().insert(RequestId(id.clone()));
    let method = req.method().clone();
    // Only the path is logged: a query string may carry things that must not be logged.
    let path = req.path().to_owned();
    // The request must not be cloned before routing (actix needs sole ownership to
    // match it), so an error that escapes the inner layers is logged and left to actix.
    let mut res = match next.call(req).await {
        Ok(res) => problem::ensure_problem(res),
        Err(e) => {
            tracing::warn!(request_id = %id, %method, %path, error = %e, "request failed in middleware");
            return Err(e);
        }
    };
    let stopping = res
        .request()
        .app_data::<actix_web::web::Data<crate::http::state::AppState>>()
        .is_some_and(|state| state.is_stopping());
    if stopping {
        // The instance is about to stop: answer, then close, so the client's next
        // request opens a connection elsewhere instead of meeting a closed one.
        res.response_mut()
            .head_mut()
            .set_connection_type(actix_web::http::ConnectionType::Close);
    }
    let headers = res.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&id) {
        headers.insert(REQUEST_ID, value);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    let csp = if path == "/docs" || path.starts_with("/docs/") {
        DOCS_CSP
    } else {
        API_CSP
    };
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
    let status = res.status().as_u16();
    let elapsed = started.elapsed().as_secs_f64();
    crate::metrics::request(
        route_of(res.request()).as_deref(),
        method.as_str(),
        status,
        elapsed,
    );
    let elapsed_ms = elapsed * 1000.0;
    if status >= 500 {
        tracing::error!(request_id = %id, %method, %path, status, elapsed_ms, "request");
    } else {
        tracing::info!(request_id = %id, %method, %path, status, elapsed_ms, "request");
    }
    Ok(res)
}
