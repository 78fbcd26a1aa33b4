//! Rendering errors as `application/problem+json`, including the errors actix raises
//! itself (unknown routes, wrong methods, payload failures).

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};

use crate::error::AppError;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse<BoxBody> {
        if let AppError::Internal(cause) = self {
            tracing::error!(cause = %cause, "request failed");
        }
        let problem = self.to_problem();
        let mut response = HttpResponse::build(self.status_code());
        response.content_type(PROBLEM_JSON);
        match self {
            AppError::Unauthorized(_) => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            AppError::InsufficientScope(scopes) => {
                // RFC 6750 §3: the error and the scopes the request needs.
                let words: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
                response.insert_header((
                    header::WWW_AUTHENTICATE,
                    format!(
                        "Bearer error=\"insufficient_scope\", scope=\"{}\"",
                        words.join(" ")
                    ),
                ));
            }
            AppError::RateLimited {
                retry_after_seconds,
            } => {
                response.insert_header((header::RETRY_AFTER, retry_after_seconds.to_string()));
            }
            AppError::RangeNotSatisfiable { size } => {
                response.insert_header((header::CONTENT_RANGE, format!("bytes */{size}")));
            }
            AppError::Unavailable(_) => {
                // A busy database or a full stream cap clears within seconds.
                response.insert_header((header::RETRY_AFTER, "5"));
            }
            AppError::RequestTimeout(_) => {
                // The rest of a slow body may still be on its way: the connection
                // cannot carry another request. (actix writes `Connection` from this
                // flag, not from a header set by hand.)
                response.force_close();
                response.insert_header((header::CONNECTION, "close"));
            }
            _ => {}
        }
        response.body(serde_json::to_vec(&problem).unwrap_or_default())
    }
}

/// The problem that stands for a bare error status produced outside the handlers.
pub fn for_status(status: StatusCode) -> AppError {
    match status.as_u16() {
        400 => AppError::bad_request("the request is malformed"),
        401 => AppError::Unauthorized("authentication required".into()),
        403 => AppError::Forbidden("forbidden".into()),
        404 => AppError::NotFound("no such resource".into()),
        405 => AppError::MethodNotAllowed,
        413 => AppError::PayloadTooLarge { limit: 0 },
        415 => AppError::UnsupportedMediaType("unsupported media type".into()),
        s if s >= 500 => AppError::internal(format!("status {s} without a problem body")),
        _ => AppError::bad_request(
            status
                .canonical_reason()
                .unwrap_or("the request could not be handled")
                .to_owned(),
        ),
    }
}

/// Marks an error response whose body is its own documented shape (the 503 of
/// `/healthz` and `/readyz`), which [`ensure_problem`] must leave alone.
#[derive(Debug, Clone, Copy)]
pub struct OwnErrorBody;

/// Gives every error response that is not already problem+json a problem body, keeping
/// the status and any `Allow` header.
pub fn ensure_problem<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> ServiceResponse<BoxBody> {
    let status = res.status();
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    let own_body = res.response().extensions().get::<OwnErrorBody>().is_some();
    if !(status.is_client_error() || status.is_server_error()) || is_problem || own_body {
        return res.map_into_boxed_body();
    }
    let allow: Option<HeaderValue> = res.headers().get(header::ALLOW).cloned();
    let (req, _) = res.into_parts();
    let mut response = for_status(status).error_response();
    *response.status_mut() = status;
    if let Some(allow) = allow {
        response.headers_mut().insert(header::ALLOW, allow);
    }
    ServiceResponse::new(req, response)
}
