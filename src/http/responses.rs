//! The problem responses that routes cite in their `#[utoipa::path]` blocks, and that
//! `crate::openapi` adds to every operation by its shape. They live under `http`, beside
//! the routes, so the routes never reach up into the module that collects them.

use utoipa::ToResponse;

use crate::error::Problem;

/// Malformed JSON, a bad query parameter or value (named in `errors`).
#[derive(ToResponse)]
#[response(
    description = "Malformed request: bad JSON, or a bad query parameter named in `errors`",
    content_type = "application/problem+json"
)]
pub struct BadRequest(#[allow(dead_code)] Problem);

/// No token, a bad or expired token, or wrong credentials.
#[derive(ToResponse)]
#[response(
    description = "Missing, invalid or expired bearer token (`WWW-Authenticate: Bearer`)",
    content_type = "application/problem+json",
    headers(("WWW-Authenticate" = String, description = "Always `Bearer`"))
)]
pub struct Unauthorized(#[allow(dead_code)] Problem);

/// The caller's role does not allow this.
#[derive(ToResponse)]
#[response(
    description = "The caller's role does not allow this",
    content_type = "application/problem+json"
)]
pub struct Forbidden(#[allow(dead_code)] Problem);

/// Nothing at this id or slug (or not visible to the caller).
#[derive(ToResponse)]
#[response(
    description = "No such resource, or not visible to the caller",
    content_type = "application/problem+json"
)]
pub struct NotFound(#[allow(dead_code)] Problem);

/// A slug or email already taken, or a delete of something still in use.
#[derive(ToResponse)]
#[response(
    description = "Conflict: `slug_taken`, `email_taken`, `in_use` (with the count in `detail`), `last_admin`",
    content_type = "application/problem+json"
)]
pub struct Conflict(#[allow(dead_code)] Problem);

/// The body is larger than `MAX_BODY_BYTES`.
#[derive(ToResponse)]
#[response(
    description = "The body is larger than the server accepts",
    content_type = "application/problem+json"
)]
pub struct PayloadTooLarge(#[allow(dead_code)] Problem);

/// The body is not JSON.
#[derive(ToResponse)]
#[response(
    description = "The body is not `application/json`",
    content_type = "application/problem+json"
)]
pub struct UnsupportedMediaType(#[allow(dead_code)] Problem);

/// One or more fields are invalid; each is listed in `errors`.
#[derive(ToResponse)]
#[response(
    description = "Validation failed: every bad field is listed in `errors`",
    content_type = "application/problem+json",
    example = json!({
        "type": "urn:newsdesk:problem:validation_failed",
        "title": "Validation failed",
        "status": 422,
        "detail": "2 fields are invalid",
        "code": "validation_failed",
        "errors": [
            {"field": "name", "message": "must not be empty"},
            {"field": "colour", "message": "is not a known field"}
        ]
    })
)]
pub struct ValidationFailed(#[allow(dead_code)] Problem);

/// Too many attempts.
#[derive(ToResponse)]
#[response(
    description = "Too many requests; retry after the given number of seconds",
    content_type = "application/problem+json",
    headers(("Retry-After" = u64, description = "Seconds to wait before retrying"))
)]
pub struct RateLimited(#[allow(dead_code)] Problem);

/// The `If-Match` condition failed.
#[derive(ToResponse)]
#[response(
    description = "`If-Match` names a representation that is no longer current; nothing changed",
    content_type = "application/problem+json"
)]
pub struct PreconditionFailed(#[allow(dead_code)] Problem);

/// The cached copy is still current.
#[derive(ToResponse)]
#[response(
    description = "Not modified: the representation named by `If-None-Match` (or older than `If-Modified-Since`) is current. No body; the same validators.",
    headers(
        ("ETag" = String, description = "The current entity tag"),
        ("Cache-Control" = String, description = "As on a 200")
    )
)]
pub struct NotModified;

/// The database does not answer.
#[derive(ToResponse)]
#[response(
    description = "The service cannot answer right now",
    content_type = "application/problem+json"
)]
pub struct Unavailable(#[allow(dead_code)] Problem);

/// Any 5XX: an internal failure or a database that cannot answer.
#[derive(ToResponse)]
#[response(
    description = "The server could not answer: an internal error (500, logged; no details are sent) or a database that is unavailable or busy (503)",
    content_type = "application/problem+json"
)]
pub struct ServerError(#[allow(dead_code)] Problem);

/// The slug was the resource's before a rename.
#[derive(ToResponse)]
#[response(
    description = "The slug is an old one: `Location` is the same route under the current slug, query kept",
    headers(("Location" = String, description = "The current path"))
)]
pub struct Moved;
