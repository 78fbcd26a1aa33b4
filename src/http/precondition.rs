//! `If-Match` on PATCH and DELETE: lost-update protection for editors.
//!
//! The handler checks the condition inside its write transaction, against the current
//! representation rendered exactly as a GET renders it, so two editors racing with the
//! same ETag cannot both win: the second finds the representation changed and gets 412.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest};
use serde::Serialize;

use super::conditional::etag_of;
use crate::domain::to_json;
use crate::error::{AppError, AppResult};

/// The `If-Match` header of a request, if it had one.
#[derive(Debug, Clone, Default)]
pub struct IfMatch(pub Option<Vec<String>>);

impl FromRequest for IfMatch {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // Kept as sent: a weak tag (W/"...") never equals a strong one, as If-Match
        // demands strong comparison.
        let tags = req.headers().get(header::IF_MATCH).map(|v| {
            v.to_str().map(|s| {
                s.split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
        });
        ready(match tags {
            None => Ok(IfMatch(None)),
            Some(Ok(tags)) if !tags.is_empty() => Ok(IfMatch(Some(tags))),
            Some(_) => Err(AppError::bad_param(
                "If-Match",
                "If-Match must be a list of entity tags or *",
            )),
        })
    }
}

impl IfMatch {
    /// Passes when there is no condition, or when it names the current representation
    /// (or is `*`); otherwise `412 precondition_failed`. Weak tags never match.
    pub fn check<T: Serialize>(&self, current: &T) -> AppResult<()> {
        let Some(tags) = &self.0 else {
            return Ok(());
        };
        let etag = etag_of(&to_json(current)?);
        if tags.iter().any(|t| t == "*" || *t == etag) {
            Ok(())
        } else {
            Err(AppError::PreconditionFailed)
        }
    }

    /// True when the request carries a condition (the current state must be read).
    pub fn is_set(&self) -> bool {
        self.0.is_some()
    }
}
