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
use crate::db::DbConn;
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
        // demands strong comparison, and anything that is not one of our tags matches
        // nothing (412). An empty header states no condition.
        let tags: Vec<String> = req
            .headers()
            .get_all(header::IF_MATCH)
            .flat_map(|v| {
                String::from_utf8_lossy(v.as_bytes())
                    .split(',')
                    .map(|t| t.trim().to_owned())
                    .collect::<Vec<_>>()
            })
            .filter(|t| !t.is_empty())
            .collect();
        ready(Ok(IfMatch(Some(tags).filter(|t| !t.is_empty()))))
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

    /// Makes a change under the condition: the change runs first (so a malformed body
    /// is answered as such, whatever the tag), then the condition is checked against
    /// the representation as it was before; on a mismatch the error (412) makes the
    /// write job roll the change back.
    pub fn guard<T, C: Serialize>(
        &self,
        conn: &mut DbConn,
        current: impl FnOnce(&mut DbConn) -> AppResult<C>,
        change: impl FnOnce(&mut DbConn) -> AppResult<T>,
    ) -> AppResult<T> {
        let before = match self.is_set() {
            true => Some(etag_of(&to_json(&current(conn)?)?)),
            false => None,
        };
        let changed = change(conn)?;
        match (&self.0, before) {
            (Some(tags), Some(etag)) if !tags.iter().any(|t| t == "*" || *t == etag) => {
                Err(AppError::PreconditionFailed)
            }
            _ => Ok(changed),
        }
    }

    /// True when the request carries a condition (the current state must be read).
    pub fn is_set(&self) -> bool {
        self.0.is_some()
    }
}
