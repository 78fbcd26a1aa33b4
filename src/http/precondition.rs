//! `If-Match` on PATCH and DELETE: lost-update protection for editors.
//!
//! The handler checks the condition inside its write transaction, against the current
//! representation rendered exactly as a GET renders it, so two editors racing with the
//! same ETag cannot both win: the second finds the representation changed and gets 412.
//! [`Target`] is that write for every PATCH and DELETE of one object.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use serde::Serialize;

use super::conditional::etag_of;
use crate::auth::Actor;
use crate::db::{Db, DbConn, Written};
use crate::domain::audit::{self, Action, Audited};
use crate::domain::{Key, to_json};
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

/// Who a PATCH or DELETE is logged for in the audit log.
#[derive(Debug, Clone, Copy)]
pub enum AuditBy {
    /// The route's caller: one entry naming the object, in the change's transaction.
    Actor(Actor),
    /// The change records its own entry (an article's edit knows whether it publishes).
    TheChange,
}

/// The object a PATCH or DELETE changes: the key its path names and the `If-Match`
/// condition the change is made under. Its methods are the only conditional write a
/// handler needs, so no route can forget the condition.
#[derive(Debug)]
pub struct Target<K = Key> {
    key: K,
    if_match: IfMatch,
}

impl FromRequest for Target {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let key = Key::from_request(req, payload).into_inner();
        let if_match = IfMatch::from_request(req, payload).into_inner();
        ready(match (key, if_match) {
            (Ok(key), Ok(if_match)) => Ok(Target { key, if_match }),
            (Err(e), _) => Err(e),
            (_, Err(e)) => Err(e.into()),
        })
    }
}

impl<K: Send + 'static> Target<K> {
    /// The target of a route whose path names its object otherwise (by id).
    pub fn new(key: K, if_match: IfMatch) -> Self {
        Self { key, if_match }
    }

    /// A `PATCH`: `change` applied to the object under the condition, compared with
    /// `current` (the object as its GET renders it); the change declares what it
    /// changed for caches ([`Written`]). Answers 200 with the changed object.
    pub async fn update<C, T>(
        self,
        db: &Db,
        by: AuditBy,
        current: impl FnOnce(&mut DbConn, &K) -> AppResult<C> + Send + 'static,
        change: impl FnOnce(&mut DbConn, &K) -> AppResult<Written<T>> + Send + 'static,
    ) -> AppResult<HttpResponse>
    where
        C: Serialize,
        T: Serialize + Audited + Send + 'static,
    {
        let Self { key, if_match } = self;
        let changed = db
            .write_content(move |conn| {
                // The body is validated before the condition: a bad body is a 4xx of its
                // own whatever the ETag; a stale ETag then undoes the change (412).
                let written =
                    if_match.guard(conn, |conn| current(conn, &key), |conn| change(conn, &key))?;
                match by {
                    AuditBy::Actor(actor) => written.and_then(|item| {
                        audit::wrote(conn, actor, Action::Update, &item)?;
                        Ok(item)
                    }),
                    AuditBy::TheChange => Ok(written),
                }
            })
            .await?;
        Ok(HttpResponse::Ok().json(changed))
    }

    /// A `DELETE`: `remove` of the object when the condition, if any, names `current`
    /// (the object as its GET renders it). Answers 204.
    pub async fn delete<C, R>(
        self,
        db: &Db,
        by: AuditBy,
        current: impl FnOnce(&mut DbConn, &K) -> AppResult<C> + Send + 'static,
        remove: impl FnOnce(&mut DbConn, &K) -> AppResult<Written<R>> + Send + 'static,
    ) -> AppResult<HttpResponse>
    where
        C: Serialize + Audited,
        R: Send + 'static,
    {
        let Self { key, if_match } = self;
        db.write_content(move |conn| {
            match by {
                // The entry names what is deleted, so it is read first.
                AuditBy::Actor(actor) => {
                    let was = current(conn, &key)?;
                    if_match.check(&was)?;
                    let removed = remove(conn, &key)?;
                    audit::wrote(conn, actor, Action::Delete, &was)?;
                    Ok(removed)
                }
                AuditBy::TheChange => {
                    // Without a condition there is nothing to render the current object for.
                    if if_match.is_set() {
                        if_match.check(&current(conn, &key)?)?;
                    }
                    remove(conn, &key)
                }
            }
        })
        .await?;
        Ok(HttpResponse::NoContent().finish())
    }
}
