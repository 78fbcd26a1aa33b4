//! Sign-in sessions and their refresh tokens.
//!
//! A password sign-in starts a session; its access token names the session (`sid`) and
//! stops working when the session ends. A refresh token is
//! `ndr_<session>.<generation>.<signature>`: HMAC-SHA256 under the server secret of
//! the session, its generation and the session's random nonce, so nothing secret is
//! stored and a spent token can be told from a forged one. Each refresh moves the
//! generation on; the token of the generation before, presented again within
//! [`GRACE`], gets the same new pair (a response lost on a mobile network is not a
//! theft); presented later, it ends the session.

use base64::Engine;
use diesel::prelude::*;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::db::DbConn;
use crate::domain::time::Timestamp;
use crate::error::AppResult;
use crate::schema::{sessions, users};

/// What every refresh token starts with.
pub const PREFIX: &str = "ndr_";

/// How long a spent refresh token still gets the pair it was exchanged for.
pub const GRACE: chrono::Duration = chrono::Duration::seconds(30);

/// A session's state, as a refresh needs it.
#[derive(Debug, Clone, Queryable)]
struct SessionRow {
    user_id: i32,
    nonce: String,
    token_version: i32,
    generation: i32,
    rotated_at: chrono::NaiveDateTime,
    ended_at: Option<chrono::NaiveDateTime>,
}

/// A pair to hand out: the session, its generation and when that generation began
/// (the access token's `iat`, so the same pair can be made again).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pair {
    pub session: i32,
    pub user_id: i32,
    pub token_version: i32,
    pub generation: i32,
    pub issued_at: i64,
}

/// What a refresh came to.
#[derive(Debug)]
pub enum Refreshed {
    /// A new pair (or, within the grace, the pair already handed out), and the nonce
    /// that signs its refresh token.
    Pair(Pair, String),
    /// A spent refresh token came back: the session is now ended.
    Reused,
    /// The token does not name a live session (unknown, ended, expired, or its
    /// account changed).
    Invalid(&'static str),
}

fn signature(secret: &[u8], session: i32, generation: i32, nonce: &str) -> Vec<u8> {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(format!("newsdesk refresh {session} {generation} {nonce}").as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// The refresh token of a session's generation.
pub fn refresh_token(secret: &[u8], pair: &Pair, nonce: &str) -> String {
    let sig = signature(secret, pair.session, pair.generation, nonce);
    format!(
        "{PREFIX}{}.{}.{}",
        pair.session,
        pair.generation,
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sig)
    )
}

/// Splits a refresh token into session, generation and signature.
fn parse(token: &str) -> Option<(i32, i32, Vec<u8>)> {
    let rest = token.strip_prefix(PREFIX)?;
    let mut parts = rest.splitn(3, '.');
    let session = parts.next()?.parse().ok()?;
    let generation = parts.next()?.parse().ok()?;
    let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(parts.next()?)
        .ok()?;
    Some((session, generation, sig))
}

/// Starts a session for a user who just signed in: its first pair.
pub fn start(conn: &mut DbConn, user_id: i32, token_version: i32) -> AppResult<(Pair, String)> {
    let now = Timestamp::now();
    let nonce = crate::auth::secrets::random_token("");
    let id: i32 = diesel::insert_into(sessions::table)
        .values((
            sessions::user_id.eq(user_id),
            sessions::nonce.eq(&nonce),
            sessions::token_version.eq(token_version),
            sessions::generation.eq(1),
            sessions::rotated_at.eq(now.0),
            sessions::created_at.eq(now.0),
        ))
        .returning(sessions::id)
        .get_result(conn)?;
    // Sessions long over go as new ones start.
    let stale = now.0 - chrono::Duration::days(400);
    diesel::delete(
        sessions::table
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::rotated_at.lt(stale)),
    )
    .execute(conn)?;
    Ok((
        Pair {
            session: id,
            user_id,
            token_version,
            generation: 1,
            issued_at: now.unix(),
        },
        nonce,
    ))
}

fn load(conn: &mut DbConn, id: i32) -> AppResult<Option<SessionRow>> {
    Ok(crate::on_backend!(conn, |c| sessions::table
        .find(id)
        .select((
            sessions::user_id,
            sessions::nonce,
            sessions::token_version,
            sessions::generation,
            sessions::rotated_at,
            sessions::ended_at,
        ))
        .get_result::<SessionRow>(c)
        .optional()?))
}

/// Ends a session (logout, or a spent token reused). Ending one already ended is a
/// no-op.
pub fn end(conn: &mut DbConn, id: i32) -> AppResult<bool> {
    let n = diesel::update(
        sessions::table
            .find(id)
            .filter(sessions::ended_at.is_null()),
    )
    .set(sessions::ended_at.eq(Timestamp::now().0))
    .execute(conn)?;
    Ok(n > 0)
}

/// The session a refresh token names, if its signature is right (for logout).
pub fn session_of(secret: &[u8], conn: &mut DbConn, token: &str) -> AppResult<Option<i32>> {
    let Some((id, generation, sig)) = parse(token) else {
        return Ok(None);
    };
    let Some(row) = load(conn, id)? else {
        return Ok(None);
    };
    let good = signature(secret, id, generation, &row.nonce);
    Ok(constant_eq(&good, &sig).then_some(id))
}

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Exchanges a refresh token for the next pair (inside a write transaction).
pub fn refresh(
    conn: &mut DbConn,
    secret: &[u8],
    token: &str,
    ttl: chrono::Duration,
) -> AppResult<Refreshed> {
    let Some((id, generation, sig)) = parse(token) else {
        return Ok(Refreshed::Invalid("the refresh token is not valid"));
    };
    let Some(row) = load(conn, id)? else {
        return Ok(Refreshed::Invalid("the refresh token is not valid"));
    };
    if !constant_eq(&signature(secret, id, generation, &row.nonce), &sig) {
        return Ok(Refreshed::Invalid("the refresh token is not valid"));
    }
    if row.ended_at.is_some() {
        return Ok(Refreshed::Invalid("the session has ended; sign in again"));
    }
    let account: Option<(bool, i32)> = crate::on_backend!(conn, |c| users::table
        .find(row.user_id)
        .select((users::disabled, users::token_version))
        .get_result(c)
        .optional()?);
    if account.is_none_or(|(disabled, version)| disabled || version != row.token_version) {
        end(conn, id)?;
        return Ok(Refreshed::Invalid(
            "the account changed since this session began; sign in again",
        ));
    }
    let now = Timestamp::now();
    let pair = |generation: i32, at: chrono::NaiveDateTime| Pair {
        session: id,
        user_id: row.user_id,
        token_version: row.token_version,
        generation,
        issued_at: Timestamp(at).unix(),
    };
    if generation == row.generation {
        if now.0 - row.rotated_at > ttl {
            end(conn, id)?;
            return Ok(Refreshed::Invalid(
                "the refresh token has expired; sign in again",
            ));
        }
        // Only one exchange of a generation wins, whichever instance makes it.
        let moved = diesel::update(
            sessions::table
                .find(id)
                .filter(sessions::generation.eq(generation))
                .filter(sessions::ended_at.is_null()),
        )
        .set((
            sessions::generation.eq(generation + 1),
            sessions::rotated_at.eq(now.0),
        ))
        .execute(conn)?;
        if moved == 1 {
            return Ok(Refreshed::Pair(pair(generation + 1, now.0), row.nonce));
        }
        // Another exchange of this generation just won: this is the grace case.
        let Some(row) = load(conn, id)? else {
            return Ok(Refreshed::Invalid("the session has ended; sign in again"));
        };
        return Ok(Refreshed::Pair(
            pair(row.generation, row.rotated_at),
            row.nonce,
        ));
    }
    if generation == row.generation - 1 && now.0 - row.rotated_at <= GRACE {
        return Ok(Refreshed::Pair(
            pair(row.generation, row.rotated_at),
            row.nonce,
        ));
    }
    end(conn, id)?;
    Ok(Refreshed::Reused)
}

/// Whether an access token's session is still open.
pub fn is_open(conn: &mut DbConn, id: i32, user_id: i32) -> AppResult<bool> {
    let ended: Option<Option<chrono::NaiveDateTime>> =
        crate::on_backend!(conn, |c| sessions::table
            .find(id)
            .filter(sessions::user_id.eq(user_id))
            .select(sessions::ended_at)
            .get_result(c)
            .optional()?);
    Ok(matches!(ended, Some(None)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_tokens_parse_and_sign() {
        let pair = Pair {
            session: 12,
            user_id: 3,
            token_version: 0,
            generation: 4,
            issued_at: 0,
        };
        let token = refresh_token(b"secret", &pair, "nonce");
        let (s, g, sig) = parse(&token).unwrap();
        assert_eq!((s, g), (12, 4));
        assert!(constant_eq(&sig, &signature(b"secret", 12, 4, "nonce")));
        assert!(!constant_eq(&sig, &signature(b"secret", 12, 5, "nonce")));
        assert!(!constant_eq(&sig, &signature(b"other", 12, 4, "nonce")));
        assert!(parse("ndr_x.1.AAAA").is_none());
        assert!(parse("nd_12.1.AAAA").is_none());
    }
}
