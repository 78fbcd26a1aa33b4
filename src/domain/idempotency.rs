//! Stored answers to POSTs that carried an `Idempotency-Key`: a retry of the same request
//! by the same user within 24 hours gets the first answer again, and nothing is created
//! twice. The keys live in the database, so replays survive restarts and are shared by
//! every instance.

use diesel::prelude::*;

use super::time::Timestamp;
use crate::db::DbConn;
use crate::error::AppResult;
use crate::schema::idempotency_keys;

/// How long a key is remembered.
pub const KEEP_SECONDS: i64 = 24 * 3600;
/// A claim older than this without an answer is taken to be abandoned (the process
/// handling it stopped), and a retry may run.
pub const ABANDONED_SECONDS: i64 = 60;

/// Most keys one user may hold at once (within [`KEEP_SECONDS`]): each holds a whole
/// response, so the store stays bounded whatever a script sends.
pub const MAX_KEYS_PER_USER: i64 = 1_000;

/// A response as stored for replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub content_type: Option<String>,
    pub location: Option<String>,
    pub body: String,
}

/// What to do with a request that carries a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// First time: handle it, then [`complete`] or [`release`].
    Fresh,
    /// Seen and answered: replay this.
    Replay(StoredResponse),
    /// Seen, and the first request is still being handled.
    InProgress,
    /// The key was used for a different request.
    Mismatch,
    /// A new key, but the user already holds [`MAX_KEYS_PER_USER`] keys.
    Full,
}

/// Looks the key up, forgetting expired keys first; claims it when it is new.
pub fn claim(conn: &mut DbConn, user_id: i32, key: &str, fingerprint: &str) -> AppResult<Claim> {
    let now = Timestamp::now();
    if let Some(cutoff) = Timestamp::from_unix(now.unix() - KEEP_SECONDS) {
        diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(cutoff.0)))
            .execute(conn)?;
    }
    type Row = (
        String,
        Option<i32>,
        Option<String>,
        Option<String>,
        Option<String>,
        chrono::NaiveDateTime,
    );
    let found: Option<Row> = idempotency_keys::table
        .find((user_id, key))
        .select((
            idempotency_keys::fingerprint,
            idempotency_keys::status,
            idempotency_keys::content_type,
            idempotency_keys::location,
            idempotency_keys::body,
            idempotency_keys::created_at,
        ))
        .get_result(conn)
        .optional()?;
    Ok(match found {
        None if held(conn, user_id)? >= MAX_KEYS_PER_USER => Claim::Full,
        None => {
            diesel::insert_into(idempotency_keys::table)
                .values((
                    idempotency_keys::user_id.eq(user_id),
                    idempotency_keys::key.eq(key),
                    idempotency_keys::fingerprint.eq(fingerprint),
                    idempotency_keys::created_at.eq(now.0),
                ))
                .execute(conn)?;
            Claim::Fresh
        }
        Some((stored, ..)) if stored != fingerprint => Claim::Mismatch,
        Some((_, None, _, _, _, claimed))
            if now.unix() - Timestamp::from(claimed).unix() > ABANDONED_SECONDS =>
        {
            diesel::update(idempotency_keys::table.find((user_id, key)))
                .set(idempotency_keys::created_at.eq(now.0))
                .execute(conn)?;
            Claim::Fresh
        }
        Some((_, None, ..)) => Claim::InProgress,
        Some((_, Some(status), content_type, location, body, _)) => Claim::Replay(StoredResponse {
            status: u16::try_from(status).unwrap_or(500),
            content_type,
            location,
            body: body.unwrap_or_default(),
        }),
    })
}

/// How many keys `user_id` holds.
fn held(conn: &mut DbConn, user_id: i32) -> AppResult<i64> {
    Ok(idempotency_keys::table
        .filter(idempotency_keys::user_id.eq(user_id))
        .count()
        .get_result(conn)?)
}

/// Stores the answer to a claimed key.
pub fn complete(
    conn: &mut DbConn,
    user_id: i32,
    key: &str,
    response: &StoredResponse,
) -> AppResult<()> {
    diesel::update(idempotency_keys::table.find((user_id, key)))
        .set((
            idempotency_keys::status.eq(Some(i32::from(response.status))),
            idempotency_keys::content_type.eq(&response.content_type),
            idempotency_keys::location.eq(&response.location),
            idempotency_keys::body.eq(Some(&response.body)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Forgets a claimed key whose request failed on the server, so a retry may run.
pub fn release(conn: &mut DbConn, user_id: i32, key: &str) -> AppResult<()> {
    diesel::delete(idempotency_keys::table.find((user_id, key))).execute(conn)?;
    Ok(())
}
