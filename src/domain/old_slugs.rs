//! Slugs resources had before: a read by an old slug answers `308 Permanent Redirect` to
//! the current one, so a renamed story's links keep working. A new resource (or a
//! rename) taking a freed slug ends its redirect.

use diesel::prelude::*;

use super::time::Timestamp;
use crate::db::DbConn;
use crate::error::AppResult;
use crate::schema::old_slugs;

/// Forgets the old slugs of `kind` that are now `slugs`, taken by new resources.
pub fn free(conn: &mut DbConn, kind: &str, slugs: &[&str]) -> AppResult<()> {
    match conn {
        // One statement for them all (one round trip).
        DbConn::Postgres(c) if slugs.len() > 1 => {
            diesel::delete(
                old_slugs::table
                    .filter(old_slugs::kind.eq(kind))
                    .filter(old_slugs::slug.eq_any(slugs)),
            )
            .execute(c)?;
        }
        // A kept statement per slug.
        _ => {
            for slug in slugs {
                crate::on_backend!(&mut *conn, |c| diesel::delete(
                    old_slugs::table
                        .filter(old_slugs::kind.eq(kind))
                        .filter(old_slugs::slug.eq(slug)),
                )
                .execute(c)?);
            }
        }
    }
    Ok(())
}

/// Records that `id` of `kind` now holds `slug`, formerly `old` (when it changed).
pub fn take(
    conn: &mut DbConn,
    kind: &str,
    slug: &str,
    id: i32,
    old: Option<&str>,
) -> AppResult<()> {
    free(conn, kind, &[slug])?;
    if let Some(old) = old.filter(|o| *o != slug) {
        diesel::delete(
            old_slugs::table
                .filter(old_slugs::kind.eq(kind))
                .filter(old_slugs::slug.eq(old)),
        )
        .execute(conn)?;
        diesel::insert_into(old_slugs::table)
            .values((
                old_slugs::kind.eq(kind),
                old_slugs::slug.eq(old),
                old_slugs::target_id.eq(id),
                old_slugs::created_at.eq(Timestamp::now().0),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Ends the redirects to a deleted resource.
pub fn forget(conn: &mut DbConn, kind: &str, id: i32) -> AppResult<()> {
    diesel::delete(
        old_slugs::table
            .filter(old_slugs::kind.eq(kind))
            .filter(old_slugs::target_id.eq(id)),
    )
    .execute(conn)?;
    Ok(())
}

/// The resource `slug` used to name, if it was renamed.
pub fn target(conn: &mut DbConn, kind: &str, slug: &str) -> AppResult<Option<i32>> {
    Ok(old_slugs::table
        .filter(old_slugs::kind.eq(kind))
        .filter(old_slugs::slug.eq(slug))
        .select(old_slugs::target_id)
        .get_result(conn)
        .optional()?)
}
