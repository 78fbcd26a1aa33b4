//! UPDATE statements kept prepared.
//!
//! Diesel never keeps an `UPDATE` in its statement cache: a changeset of optional
//! fields writes different SQL from one call to the next, so `UpdateStatement` marks
//! itself unsafe to cache, and every update is parsed and planned again (on SQLite by
//! the writer thread itself). On the create path that was a tenth of the server's CPU:
//! the maintained counts move by an `UPDATE` per key, about eight per story.
//!
//! [`update`] writes the same statement from its parts (the table, a changeset, a
//! condition), none of which forbids caching, and is cached under its SQL text and the
//! types of its binds, never under its Rust type. So a statement whose text varies is
//! kept once per text, which is correct whatever it is, and cheap when its text is
//! fixed: use it there (every distinct text stays in the cache while the connection
//! lives).

use diesel::backend::Backend;
use diesel::query_builder::{AsChangeset, AstPass, QueryFragment, QueryId};
use diesel::query_source::Table;
use diesel::{AppearsOnTable, QueryResult, RunQueryDsl};

/// `UPDATE table SET … WHERE …`, kept prepared (see the module).
#[derive(Debug, Clone)]
pub struct KeptUpdate<F, V, W> {
    from: F,
    set: V,
    filter: W,
}

/// `UPDATE table SET set WHERE filter`, kept prepared (see the module).
pub fn update<T, V, W>(table: T, set: V, filter: W) -> KeptUpdate<T::FromClause, V::Changeset, W>
where
    T: Table,
    V: AsChangeset<Target = T>,
    W: AppearsOnTable<T>,
{
    KeptUpdate {
        from: table.from_clause(),
        set: set.as_changeset(),
        filter,
    }
}

impl<F, V, W> QueryId for KeptUpdate<F, V, W> {
    type QueryId = ();
    // Never keyed by type: the cache key is the SQL text and the bind types.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<F, V, W, DB> QueryFragment<DB> for KeptUpdate<F, V, W>
where
    DB: Backend,
    F: QueryFragment<DB>,
    V: QueryFragment<DB>,
    W: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("UPDATE ");
        self.from.walk_ast(out.reborrow())?;
        out.push_sql(" SET ");
        self.set.walk_ast(out.reborrow())?;
        out.push_sql(" WHERE ");
        self.filter.walk_ast(out.reborrow())?;
        Ok(())
    }
}

impl<F, V, W, Conn> RunQueryDsl<Conn> for KeptUpdate<F, V, W> {}

/// Counts the statements a connection keeps prepared, for tests of statements that
/// should be.
#[cfg(test)]
pub(crate) struct Cached(pub std::sync::Arc<std::sync::atomic::AtomicUsize>);

#[cfg(test)]
impl diesel::connection::Instrumentation for Cached {
    fn on_connection_event(&mut self, event: diesel::connection::InstrumentationEvent<'_>) {
        if let diesel::connection::InstrumentationEvent::CacheQuery { .. } = event {
            self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;

    use super::Cached;

    diesel::table! {
        tallies (id) {
            id -> Integer,
            n -> BigInt,
        }
    }

    fn connection() -> (SqliteConnection, Arc<AtomicUsize>) {
        let mut conn = SqliteConnection::establish(":memory:").unwrap();
        conn.batch_execute(
            "CREATE TABLE tallies (id INTEGER PRIMARY KEY, n BIGINT NOT NULL);
             INSERT INTO tallies (id, n) VALUES (1, 0), (2, 100);",
        )
        .unwrap();
        let cached = Arc::new(AtomicUsize::new(0));
        conn.set_instrumentation(Cached(cached.clone()));
        (conn, cached)
    }

    fn tallies(conn: &mut SqliteConnection) -> Vec<(i32, i64)> {
        tallies::table.order(tallies::id).load(conn).unwrap()
    }

    #[test]
    fn a_kept_update_is_prepared_once_and_changes_what_an_update_would() {
        let (mut conn, cached) = connection();
        for delta in 1..=3_i64 {
            let n = super::update(
                tallies::table,
                tallies::n.eq(tallies::n + delta),
                tallies::id.eq(1),
            )
            .execute(&mut conn)
            .unwrap();
            assert_eq!(n, 1);
        }
        assert_eq!(
            cached.load(Ordering::Relaxed),
            1,
            "one statement kept for three runs"
        );
        assert_eq!(tallies(&mut conn), [(1, 6), (2, 100)]);
        // A condition that matches nothing changes nothing.
        let n = super::update(tallies::table, tallies::n.eq(0), tallies::id.eq(9))
            .execute(&mut conn)
            .unwrap();
        assert_eq!(n, 0);
        assert_eq!(tallies(&mut conn), [(1, 6), (2, 100)]);
    }

    #[test]
    fn diesel_prepares_its_own_update_every_time() {
        // Why `update` exists: should Diesel start keeping updates, this fails and the
        // module can go.
        let (mut conn, cached) = connection();
        for _ in 0..3 {
            diesel::update(tallies::table.find(2))
                .set(tallies::n.eq(tallies::n + 1))
                .execute(&mut conn)
                .unwrap();
        }
        assert_eq!(cached.load(Ordering::Relaxed), 0);
        assert_eq!(tallies(&mut conn), [(1, 0), (2, 103)]);
    }
}
