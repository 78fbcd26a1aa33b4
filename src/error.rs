//! The one error type of newsdesk and its problem+json shape (RFC 9457).
//!
//! Every failure a client can meet is a variant here with one status and one stable
//! `code`. The HTTP layer renders it (see `http::problem`); nothing below the HTTP
//! layer knows about actix.

use serde::Serialize;
use utoipa::ToSchema;

/// One bad field of a request, as listed in a 422 (or the parameter of a 400).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The field, in JSON-pointer-like dotted form (`tags[1]`, `links.x`).
    #[schema(example = "title")]
    pub field: String,
    /// What is wrong with it, for people.
    #[schema(example = "must not be empty")]
    pub message: String,
}

impl FieldError {
    /// A field error from its name and message.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Everything that can go wrong in a request.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400 `bad_request`: malformed JSON, a bad query parameter or value.
    #[error("{detail}")]
    BadRequest {
        detail: String,
        field: Option<String>,
    },
    /// 401 `unauthorized`: no token, a bad token, or wrong credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// 403 `forbidden`: authenticated, but the role does not allow it.
    #[error("{0}")]
    Forbidden(String),
    /// 403 `insufficient_scope`: the API token lacks these scopes.
    #[error("this needs the {} scope, which the token does not hold", scope_words(.0))]
    InsufficientScope(Vec<crate::auth::scopes::Scope>),
    /// 404 `not_found`.
    #[error("{0}")]
    NotFound(String),
    /// 405 `method_not_allowed`.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 409 `slug_taken`: another resource of the kind already has this slug.
    #[error("slug {slug:?} is already taken")]
    SlugTaken { slug: String },
    /// 409 `slug_taken`, `email_taken` or `conflict`: the database refused a value that
    /// another row already has (a race the handler's own check could not see).
    #[error("{field} is already taken")]
    Duplicate { field: String },
    /// 409 `in_use`: deleting something that articles still reference.
    #[error("{0}")]
    InUse(String),
    /// 409 with a specific code (`last_admin`, `translation_exists`, `email_taken`, ...).
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },
    /// 412 `precondition_failed`: `If-Match` did not match the current representation.
    #[error("the resource has changed since the given ETag")]
    PreconditionFailed,
    /// 408 `request_timeout`: the request body came too slowly.
    #[error("{0}")]
    RequestTimeout(String),
    /// 413 `payload_too_large`.
    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// 416 `range_not_satisfiable`: a `Range` outside a file of `size` bytes.
    #[error("the range is outside the file ({size} bytes)")]
    RangeNotSatisfiable { size: u64 },
    /// 415 `unsupported_media_type`.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 422 `validation_failed`, with every bad field.
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// 429 `rate_limited`.
    #[error("too many requests; retry after {retry_after_seconds} s")]
    RateLimited { retry_after_seconds: u64 },
    /// 503 `unavailable`: the database or a capacity limit.
    #[error("{0}")]
    Unavailable(String),
    /// 500 `internal_error`: logged in full, answered with a generic body.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Scopes for a message: `content:write` or `content:read, media:write`.
pub fn scope_words(scopes: &[crate::auth::scopes::Scope]) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The `application/problem+json` body of every error response.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem; stable for each `code`.
    #[serde(rename = "type")]
    #[schema(example = "urn:newsdesk:problem:validation_failed")]
    pub type_uri: String,
    /// A short summary of the kind of problem.
    #[schema(example = "Validation failed")]
    pub title: String,
    /// The HTTP status code.
    #[schema(example = 422)]
    pub status: u16,
    /// What went wrong in this request, for people.
    #[schema(example = "1 field is invalid")]
    pub detail: String,
    /// A stable snake_case code for programs.
    #[schema(example = "validation_failed")]
    pub code: String,
    /// The bad fields (422) or the bad parameter (400).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
}

impl AppError {
    /// A 400 about one named parameter or body field.
    pub fn bad_param(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::BadRequest {
            detail: detail.into(),
            field: Some(field.into()),
        }
    }

    /// A 400 not tied to a single parameter.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::BadRequest {
            detail: detail.into(),
            field: None,
        }
    }

    /// A 404 for a kind of resource.
    pub fn not_found(what: &str) -> Self {
        Self::NotFound(format!("{what} not found"))
    }

    /// A 422 about a single field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    /// A 500 whose cause is logged but never shown.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::Internal(cause.to_string())
    }

    /// The HTTP status code.
    pub fn status(&self) -> u16 {
        match self {
            Self::BadRequest { .. } => 400,
            Self::Unauthorized(_) => 401,
            Self::Forbidden(_) | Self::InsufficientScope(_) => 403,
            Self::NotFound(_) => 404,
            Self::MethodNotAllowed => 405,
            Self::SlugTaken { .. }
            | Self::Duplicate { .. }
            | Self::InUse(_)
            | Self::Conflict { .. } => 409,
            Self::RequestTimeout(_) => 408,
            Self::PreconditionFailed => 412,
            Self::PayloadTooLarge { .. } => 413,
            Self::UnsupportedMediaType(_) => 415,
            Self::RangeNotSatisfiable { .. } => 416,
            Self::Validation(_) => 422,
            Self::RateLimited { .. } => 429,
            Self::Unavailable(_) => 503,
            Self::Internal(_) => 500,
        }
    }

    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { .. } => "bad_request",
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::InsufficientScope(_) => "insufficient_scope",
            Self::NotFound(_) => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::SlugTaken { .. } => "slug_taken",
            Self::Duplicate { field } if field == "slug" => "slug_taken",
            Self::Duplicate { field } if field == "email" => "email_taken",
            Self::Duplicate { .. } => "conflict",
            Self::InUse(_) => "in_use",
            Self::Conflict { code, .. } => code,
            Self::RequestTimeout(_) => "request_timeout",
            Self::PreconditionFailed => "precondition_failed",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::RangeNotSatisfiable { .. } => "range_not_satisfiable",
            Self::Validation(_) => "validation_failed",
            Self::RateLimited { .. } => "rate_limited",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal_error",
        }
    }

    fn title(&self) -> &'static str {
        match self {
            Self::BadRequest { .. } => "Bad request",
            Self::Unauthorized(_) => "Unauthorized",
            Self::Forbidden(_) => "Forbidden",
            Self::InsufficientScope(_) => "Insufficient scope",
            Self::NotFound(_) => "Not found",
            Self::MethodNotAllowed => "Method not allowed",
            Self::SlugTaken { .. } => "Slug taken",
            Self::Duplicate { .. } => "Conflict",
            Self::InUse(_) => "In use",
            Self::Conflict { .. } => "Conflict",
            Self::RequestTimeout(_) => "Request timeout",
            Self::PreconditionFailed => "Precondition failed",
            Self::PayloadTooLarge { .. } => "Payload too large",
            Self::UnsupportedMediaType(_) => "Unsupported media type",
            Self::RangeNotSatisfiable { .. } => "Range not satisfiable",
            Self::Validation(_) => "Validation failed",
            Self::RateLimited { .. } => "Too many requests",
            Self::Unavailable(_) => "Service unavailable",
            Self::Internal(_) => "Internal server error",
        }
    }

    /// The problem+json body; internal causes are replaced by a generic sentence.
    pub fn to_problem(&self) -> Problem {
        let detail = match self {
            Self::Internal(_) => "the server failed to handle this request".to_owned(),
            Self::Validation(errors) if errors.len() == 1 => "1 field is invalid".to_owned(),
            Self::Validation(errors) => format!("{} fields are invalid", errors.len()),
            other => other.to_string(),
        };
        let errors = match self {
            Self::Validation(errors) => Some(errors.clone()),
            Self::BadRequest {
                field: Some(field),
                detail,
            } => Some(vec![FieldError::new(field.clone(), detail.clone())]),
            Self::SlugTaken { .. } => Some(vec![FieldError::new("slug", "is already taken")]),
            Self::Duplicate { field } => {
                Some(vec![FieldError::new(field.clone(), "is already taken")])
            }
            _ => None,
        };
        Problem {
            type_uri: format!("urn:newsdesk:problem:{}", self.code()),
            title: self.title().to_owned(),
            status: self.status(),
            detail,
            code: self.code().to_owned(),
            errors,
        }
    }
}

/// Database errors keep their meaning: a unique violation is a 409 naming the field, a
/// foreign-key violation a 409, a busy or locked database, a full disk or a storage
/// failure a 503 with `Retry-After` (they clear, or an operator clears them); anything
/// else is a logged 500.
impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match &e {
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => Self::Duplicate {
                field: unique_column(info.message(), info.details())
                    .unwrap_or_else(|| "value".to_owned()),
            },
            Error::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => Self::Conflict {
                code: "conflict",
                detail: "the change refers to something that no longer exists, or is still \
                         used by something else; reload and retry"
                    .into(),
            },
            // PostgreSQL cannot store U+0000 (SQLite can); no text newsdesk keeps may
            // hold it, so a request that carries one is at fault, wherever it is.
            Error::DatabaseError(_, info)
                if info
                    .message()
                    .contains("invalid byte sequence for encoding") =>
            {
                Self::bad_request("text must not contain the character U+0000")
            }
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _)
            | Error::DatabaseError(DatabaseErrorKind::UnableToSendCommand, _)
            | Error::BrokenTransactionManager => {
                tracing::warn!(error = %e, "database connection lost");
                Self::Unavailable("the database connection was lost; retry shortly".to_owned())
            }
            Error::DatabaseError(_, info) => match storage_trouble(info.message()) {
                Some(reason) => {
                    tracing::warn!(error = %e, "database unavailable");
                    Self::Unavailable(reason.to_owned())
                }
                None => Self::internal(format!("database: {e}")),
            },
            _ => Self::internal(format!("database: {e}")),
        }
    }
}

/// The column a unique violation names: SQLite says `UNIQUE constraint failed:
/// tags.slug`, PostgreSQL's detail `Key (slug)=(gaza) already exists.`
fn unique_column(message: &str, details: Option<&str>) -> Option<String> {
    if let Some(columns) = message.split("constraint failed: ").nth(1) {
        let first = columns.split(',').next()?.trim();
        return first.rsplit('.').next().map(str::to_owned);
    }
    let detail = details?;
    let start = detail.find("Key (")? + 5;
    let end = detail[start..].find(')')? + start;
    detail[start..end]
        .split(',')
        .next()
        .map(|c| c.trim().to_owned())
}

/// A database failure that is not the request's fault and may clear: the reason to
/// show (no paths, no internals).
fn storage_trouble(message: &str) -> Option<&'static str> {
    let m = message.to_ascii_lowercase();
    if m.contains("database is locked")
        || m.contains("table is locked")
        || m.contains("busy")
        || m.contains("deadlock detected")
        || m.contains("could not serialize access")
    {
        Some("the database is busy; retry shortly")
    } else if m.contains("terminating connection")
        || m.contains("server closed the connection")
        || m.contains("connection to server")
        || m.contains("no connection to the server")
        || m.contains("the database system is")
    {
        Some("the database connection was lost; retry shortly")
    } else if m.contains("statement timeout") {
        Some("the database took too long; retry shortly")
    } else if m.contains("canceling statement") {
        // An operator's `pg_cancel_backend`, a lock timeout, a replica's conflict.
        Some("the database cancelled the statement; retry shortly")
    } else if m.contains("disk is full") || m.contains("no space left on device") {
        Some("the database disk is full; writes resume when space is freed")
    } else if m.contains("readonly database") || m.contains("read-only") {
        Some("the database is read-only; writes are refused")
    } else if m.contains("disk i/o error") || m.contains("unable to open database file") {
        Some("the database storage is failing; retry shortly")
    } else {
        None
    }
}

/// The result type of everything that can fail with an [`AppError`].
pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_do_not_leak_their_cause() {
        let problem = AppError::internal("disk I/O error at /secret/path").to_problem();
        assert_eq!(problem.status, 500);
        assert!(!problem.detail.contains("secret"));
    }

    #[test]
    fn validation_lists_every_field() {
        let problem = AppError::Validation(vec![
            FieldError::new("title", "must not be empty"),
            FieldError::new("tags[1]", "no such tag"),
        ])
        .to_problem();
        assert_eq!(problem.code, "validation_failed");
        assert_eq!(problem.errors.unwrap().len(), 2);
    }

    #[test]
    fn unique_violations_name_their_column_on_both_backends() {
        assert_eq!(
            unique_column("UNIQUE constraint failed: tags.slug", None).as_deref(),
            Some("slug")
        );
        assert_eq!(
            unique_column(
                "duplicate key value violates unique constraint \"users_email_key\"",
                Some("Key (email)=(a@b.c) already exists.")
            )
            .as_deref(),
            Some("email")
        );
        let e = AppError::Duplicate {
            field: "slug".into(),
        };
        assert_eq!((e.status(), e.code()), (409, "slug_taken"));
    }

    #[test]
    fn storage_trouble_is_a_503_that_names_no_internals() {
        assert!(storage_trouble("database is locked").is_some());
        assert!(storage_trouble("database or disk is full").is_some());
        assert!(storage_trouble("canceling statement due to user request").is_some());
        assert!(storage_trouble("no such column: x").is_none());
    }

    #[test]
    fn bad_param_names_the_parameter() {
        let problem = AppError::bad_param("per_page", "must be between 1 and 100").to_problem();
        assert_eq!(problem.status, 400);
        assert_eq!(problem.errors.unwrap()[0].field, "per_page");
    }
}
