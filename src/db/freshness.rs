//! Content freshness: a counter every content write bumps in its own transaction, and
//! the next moment the public view changes with no write at all (a scheduled article
//! falls due, a breaking item goes live or expires). Caches compare against both, so
//! nothing cached outlives a write or a scheduled change — across processes too, since
//! the counter lives in the database.

use diesel::prelude::*;
use diesel::sql_types::{Nullable, Timestamp};

use super::DbConn;
use crate::error::AppResult;
use crate::schema::content_state;

/// What a content write may have changed, for caches.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Scope {
    /// An article was created: the lists it belongs to (and counts) may change; no
    /// other representation does.
    ArticleCreated(ArticleFacts),
    /// Something other than an article was created or changed without being embedded
    /// anywhere (a new tag, author or media item; a breaking item): lists and counts
    /// other than article lists may change.
    Created,
    /// Anything, including what other representations embed (an edit, a rename, a delete).
    All,
}

/// What a domain write made, together with what it changed for caches. Only the
/// database layer can open it ([`crate::db::Db::write_content`]), so a write's result
/// cannot reach its caller without its change reaching every cache: no handler picks a
/// scope, and none can forget to.
#[must_use = "a write's result is opened by Db::write_content, which applies its change"]
#[derive(Debug)]
pub struct Written<T> {
    pub(super) value: T,
    /// `None`: nothing any cached page shows changed (staff accounts, settings).
    pub(super) changed: Option<Scope>,
}

impl<T> Written<T> {
    /// A write of published content that changed `scope`.
    pub fn content(value: T, scope: Scope) -> Self {
        Self {
            value,
            changed: Some(scope),
        }
    }

    /// A write that changes nothing a cached page shows (staff accounts, settings).
    pub fn unseen(value: T) -> Self {
        Self {
            value,
            changed: None,
        }
    }

    /// The same change, with the value made into another.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Written<U> {
        Written {
            value: f(self.value),
            changed: self.changed,
        }
    }

    /// Uses the value to decide what comes next, keeping the change (for a write made of
    /// steps inside one transaction).
    pub fn and_then<U>(self, f: impl FnOnce(T) -> AppResult<U>) -> AppResult<Written<U>> {
        Ok(Written {
            value: f(self.value)?,
            changed: self.changed,
        })
    }

    /// The value of a write made as one step of a larger write that itself declares
    /// [`Scope::All`] (the demo seed): that larger write's change covers this one's.
    pub fn within_a_write_of_everything(self) -> T {
        self.value
    }

    /// What the write changed, for the database layer's tests.
    pub fn scope(&self) -> Option<&Scope> {
        self.changed.as_ref()
    }
}

/// What a list needs to know about a new article to tell whether it belongs in it.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct ArticleFacts {
    /// Readers can see it now (published and due); otherwise no public list changes.
    pub public: bool,
    pub language: String,
    pub section_id: Option<i32>,
    pub tag_ids: Vec<i32>,
    pub author_ids: Vec<i32>,
    pub region_ids: Vec<i32>,
    pub featured: bool,
    pub published_at: Option<chrono::NaiveDateTime>,
}

/// The outcome of a committed group of content writes.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ContentChange {
    /// One scope per write of the group.
    pub scopes: Vec<Scope>,
    /// The counter after this write.
    pub version: i64,
    /// The next time the public view changes by itself, if any.
    pub horizon: Option<chrono::NaiveDateTime>,
}

/// Bumps the counter (inside the caller's write transaction) and returns the new value.
pub fn bump(conn: &mut DbConn) -> AppResult<i64> {
    #[derive(QueryableByName)]
    struct Version {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        version: i64,
    }
    // Kept prepared: it runs at every commit, and Diesel prepares its own `UPDATE`
    // again each time (see `db::kept`).
    const BUMP: &str =
        "UPDATE content_state SET version = version + 1 WHERE id = 1 RETURNING version";
    let bumped: Version = crate::on_backend!(conn, |c| super::kept::sql(BUMP).get_result(c)?);
    Ok(bumped.version)
}

/// The counter as it is now.
pub fn version(conn: &mut DbConn) -> AppResult<i64> {
    Ok(content_state::table
        .find(1)
        .select(content_state::version)
        .get_result(conn)?)
}

/// The columns of the horizon's four earliest times, after `SELECT` (four `?` for
/// `now`); see [`horizon`].
macro_rules! horizon_columns {
    () => {
        "(SELECT published_at FROM articles WHERE status = 'published' \
          AND published_at > ? ORDER BY published_at LIMIT 1) AS article, \
         (SELECT unpublish_at FROM articles WHERE unpublish_at > ? \
          AND status = 'published' ORDER BY unpublish_at LIMIT 1) AS expiry_of_article, \
         (SELECT published_at FROM breaking_items WHERE published_at > ? \
          ORDER BY published_at LIMIT 1) AS live, \
         (SELECT expires_at FROM breaking_items WHERE expires_at > ? \
          ORDER BY expires_at LIMIT 1) AS expiry"
    };
}

/// The four earliest times [`horizon`] reads.
#[derive(QueryableByName)]
struct Horizon {
    #[diesel(sql_type = Nullable<Timestamp>)]
    article: Option<chrono::NaiveDateTime>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    expiry_of_article: Option<chrono::NaiveDateTime>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    live: Option<chrono::NaiveDateTime>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    expiry: Option<chrono::NaiveDateTime>,
}

impl Horizon {
    /// The earliest of the four.
    fn earliest(self) -> Option<chrono::NaiveDateTime> {
        [self.article, self.expiry_of_article, self.live, self.expiry]
            .into_iter()
            .flatten()
            .min()
    }
}

/// The earliest moment after `now` at which an article falls due or expires
/// (`unpublish_at`), or a breaking item goes live or expires.
pub fn horizon(
    conn: &mut DbConn,
    now: chrono::NaiveDateTime,
) -> AppResult<Option<chrono::NaiveDateTime>> {
    // Read at every commit, in one statement: on PostgreSQL each statement more was a
    // round trip more while the write lock is held (four of a create's).
    //
    // Each earliest time as `ORDER BY … LIMIT 1`, not `min()`: PostgreSQL's plan for
    // every value walked every published story's index entry for `min()` of the
    // expiry, where the first entry above `now` in `articles_unpublish_idx` is the
    // answer.
    //
    // Written out, with the status and the limits as literals, and kept prepared: a
    // plan made once serves every value of `now` here. Built by Diesel, the limits
    // and the status were bound values, and PostgreSQL's plan for any limit assumed
    // a tenth of the table would be read (cost 819 against 16 for a plan made for
    // `LIMIT 1`), so it never kept a plan and planned the statement again at every
    // write, under the write lock (bench/RESULTS.md, "Which statements PostgreSQL
    // plans again").
    let row: Horizon = crate::on_backend!(conn, |c| {
        super::kept::sql(concat!("SELECT ", horizon_columns!()))
            .bind::<Timestamp, _>(now)
            .bind::<Timestamp, _>(now)
            .bind::<Timestamp, _>(now)
            .bind::<Timestamp, _>(now)
            .get_result::<Horizon>(c)?
    });
    Ok(row.earliest())
}

/// Bumps the counter and reads the horizon at `now` (inside the caller's write
/// transaction), as [`bump`] and [`horizon`] do. On PostgreSQL in one statement: every
/// content write does both while it holds the write lock, and a round trip fewer there
/// is a little less time other instances' and requests' writes wait.
pub fn bump_and_horizon(
    conn: &mut DbConn,
    now: chrono::NaiveDateTime,
) -> AppResult<(i64, Option<chrono::NaiveDateTime>)> {
    #[derive(QueryableByName)]
    struct Bumped {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        version: i64,
        #[diesel(embed)]
        horizon: Horizon,
    }
    match conn {
        DbConn::Postgres(c) => {
            let row: Bumped = super::kept::sql(concat!(
                "WITH bumped AS (UPDATE content_state SET version = version + 1 \
                 WHERE id = 1 RETURNING version) SELECT bumped.version, ",
                horizon_columns!(),
                " FROM bumped"
            ))
            .bind::<Timestamp, _>(now)
            .bind::<Timestamp, _>(now)
            .bind::<Timestamp, _>(now)
            .bind::<Timestamp, _>(now)
            .get_result(c)?;
            Ok((row.version, row.horizon.earliest()))
        }
        DbConn::Sqlite(_) => Ok((bump(conn)?, horizon(conn, now)?)),
    }
}
