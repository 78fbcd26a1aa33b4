//! Values the server keeps for itself in the database.

use base64::Engine;
use diesel::prelude::*;
use rand::RngCore;

use crate::db::DbConn;
use crate::error::AppResult;
use crate::schema::settings;

const JWT_SECRET_KEY: &str = "jwt_secret";
const HEARTBEAT_KEY: &str = "health_heartbeat";

/// Reads a setting.
pub fn get(conn: &mut DbConn, key: &str) -> AppResult<Option<String>> {
    Ok(settings::table
        .find(key)
        .select(settings::value)
        .get_result(conn)
        .optional()?)
}

/// The signing secret kept in the database, created on first use. The flag is true
/// when it was created by this call.
pub fn stored_jwt_secret(conn: &mut DbConn) -> AppResult<(String, bool)> {
    if let Some(secret) = get(conn, JWT_SECRET_KEY)? {
        return Ok((secret, false));
    }
    let mut bytes = [0u8; 48];
    rand::rng().fill_bytes(&mut bytes);
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    diesel::insert_into(settings::table)
        .values((
            settings::key.eq(JWT_SECRET_KEY),
            settings::value.eq(&secret),
        ))
        .execute(conn)?;
    Ok((secret, true))
}

/// Stores a setting (inside the caller's write), in place of what it held.
pub fn set(conn: &mut DbConn, key: &str, value: &str) -> AppResult<()> {
    let updated = diesel::update(settings::table.find(key))
        .set(settings::value.eq(value))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(settings::table)
            .values((settings::key.eq(key), settings::value.eq(value)))
            .execute(conn)?;
    }
    Ok(())
}

/// A small real write (the time, in one settings row), for `/healthz` to learn whether
/// writes work again after one failed.
pub fn heartbeat(conn: &mut DbConn) -> AppResult<()> {
    set(conn, HEARTBEAT_KEY, &chrono::Utc::now().to_rfc3339())
}
