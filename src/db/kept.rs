//! UPDATE statements and written-out SQL kept prepared.
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
//!
//! Diesel never keeps written-out SQL (`sql_query`) prepared either: every call is
//! parsed and planned again. [`sql`] keeps it, under its text and the types of its
//! binds, for statements whose text is one of a few fixed ones and whose best plan
//! does not depend on the values bound (on PostgreSQL a kept statement may be given
//! one plan for every value).

use diesel::backend::Backend;
use diesel::query_builder::{AsChangeset, AstPass, Query, QueryFragment, QueryId};
use diesel::query_source::Table;
use diesel::serialize::ToSql;
use diesel::sql_types::{HasSqlType, Untyped};
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

/// Written-out SQL whose `?` placeholders take the values bound in order, kept
/// prepared unless told otherwise (see the module). Diesel writes each placeholder as
/// the backend spells it (`?`, or `$1`, `$2`, …), so the text must hold no other `?`.
pub struct KeptSql<'a, DB: Backend> {
    pieces: Vec<&'a str>,
    binds: Vec<Box<dyn QueryFragment<DB> + Send + 'a>>,
    keep: bool,
}

/// `text`, kept prepared; bind its values with [`KeptSql::bind`].
pub fn sql<DB: Backend>(text: &str) -> KeptSql<'_, DB> {
    KeptSql {
        pieces: text.split('?').collect(),
        binds: Vec::new(),
        keep: true,
    }
}

impl<'a, DB: Backend> KeptSql<'a, DB> {
    /// Binds the next placeholder to `value`, as SQL type `ST`.
    pub fn bind<ST, V>(mut self, value: V) -> Self
    where
        DB: HasSqlType<ST>,
        ST: 'a,
        V: ToSql<ST, DB> + Send + 'a,
    {
        self.binds.push(Box::new(Bound {
            value,
            sql_type: std::marker::PhantomData::<fn() -> ST>,
        }));
        self
    }

    /// Whether the connection keeps the statement prepared (`false`: planned again at
    /// every call, for a statement whose best plan depends on the values).
    pub fn kept(mut self, keep: bool) -> Self {
        self.keep = keep;
        self
    }
}

/// One bound value of a [`KeptSql`].
struct Bound<ST, V> {
    value: V,
    sql_type: std::marker::PhantomData<fn() -> ST>,
}

impl<ST, V, DB> QueryFragment<DB> for Bound<ST, V>
where
    DB: Backend + HasSqlType<ST>,
    V: ToSql<ST, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_bind_param::<ST, V>(&self.value)
    }
}

impl<DB: Backend> QueryId for KeptSql<'_, DB> {
    type QueryId = ();
    // Never keyed by type: the cache key is the SQL text and the bind types.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<DB: Backend> Query for KeptSql<'_, DB> {
    type SqlType = Untyped;
}

impl<DB: Backend> QueryFragment<DB> for KeptSql<'_, DB> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        if self.pieces.len() != self.binds.len() + 1 {
            return Err(diesel::result::Error::QueryBuilderError(
                format!(
                    "{} values bound to a statement of {} placeholders",
                    self.binds.len(),
                    self.pieces.len() - 1
                )
                .into(),
            ));
        }
        if !self.keep {
            out.unsafe_to_cache_prepared();
        }
        let mut binds = self.binds.iter();
        for (i, piece) in self.pieces.iter().enumerate() {
            if i > 0
                && let Some(bind) = binds.next()
            {
                bind.walk_ast(out.reborrow())?;
            }
            out.push_sql(piece);
        }
        Ok(())
    }
}

impl<DB: Backend, Conn> RunQueryDsl<Conn> for KeptSql<'_, DB> {}

/// A written-out SQL expression of type `ST` (a column worked out by the database, an
/// aggregate): Diesel's `dsl::sql` literal, except that a statement it is in is kept
/// prepared, under its text. Only for texts that are one of a few fixed ones, never
/// made from input.
#[derive(Debug, Clone, Copy)]
pub struct Expr<ST> {
    text: &'static str,
    sql_type: std::marker::PhantomData<fn() -> ST>,
}

/// `text` as an expression of type `ST`, kept prepared (see [`Expr`]).
pub fn expr<ST>(text: &'static str) -> Expr<ST> {
    Expr {
        text,
        sql_type: std::marker::PhantomData,
    }
}

impl<ST> QueryId for Expr<ST> {
    type QueryId = ();
    // Never keyed by type: the cache key is the SQL text and the bind types.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<ST> diesel::Expression for Expr<ST>
where
    ST: diesel::sql_types::SqlType + diesel::expression::TypedExpressionType,
{
    type SqlType = ST;
}

impl<ST, QS> AppearsOnTable<QS> for Expr<ST> where Self: diesel::Expression {}

impl<ST, QS> diesel::SelectableExpression<QS> for Expr<ST> where Self: diesel::Expression {}

// As Diesel's literal: neither an aggregate nor a column to group by, so it may stand
// beside either.
impl<ST, GroupBy> diesel::expression::ValidGrouping<GroupBy> for Expr<ST> {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}

impl<ST, DB: Backend> QueryFragment<DB> for Expr<ST> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql(self.text);
        Ok(())
    }
}

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

    #[derive(QueryableByName, Debug, PartialEq)]
    struct Tally {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        id: i32,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }

    #[test]
    fn kept_sql_is_prepared_once_and_binds_its_values_in_order() {
        use diesel::sql_types::{BigInt, Integer};
        let (mut conn, cached) = connection();
        let text = "UPDATE tallies SET n = n + ? WHERE id = ? RETURNING id, n";
        for delta in [5_i64, 7] {
            let rows: Vec<Tally> = super::sql(text)
                .bind::<BigInt, _>(delta)
                .bind::<Integer, _>(2)
                .load(&mut conn)
                .unwrap();
            assert_eq!(rows.len(), 1);
        }
        let rows: Vec<Tally> = super::sql("SELECT id, n FROM tallies WHERE n > ? ORDER BY id")
            .bind::<BigInt, _>(-1)
            .load(&mut conn)
            .unwrap();
        assert_eq!(rows, [Tally { id: 1, n: 0 }, Tally { id: 2, n: 112 }]);
        assert_eq!(
            cached.load(Ordering::Relaxed),
            2,
            "two texts, two statements"
        );
    }

    #[test]
    fn kept_sql_told_not_to_keep_is_prepared_every_time() {
        let (mut conn, cached) = connection();
        for _ in 0..2 {
            super::sql("UPDATE tallies SET n = n + 1 WHERE id = ?")
                .bind::<diesel::sql_types::Integer, _>(1)
                .kept(false)
                .execute(&mut conn)
                .unwrap();
        }
        assert_eq!(cached.load(Ordering::Relaxed), 0);
        assert_eq!(tallies(&mut conn), [(1, 2), (2, 100)]);
    }

    #[test]
    fn kept_sql_with_a_value_missing_or_too_many_is_refused_before_it_runs() {
        let (mut conn, _) = connection();
        for (text, values) in [
            ("UPDATE tallies SET n = ? WHERE id = ?", 1),
            ("UPDATE tallies SET n = 1", 1),
            ("UPDATE tallies SET n = ?", 2),
        ] {
            let mut query = super::sql(text);
            for _ in 0..values {
                query = query.bind::<diesel::sql_types::BigInt, _>(9_i64);
            }
            let refused = query.execute(&mut conn);
            assert!(
                matches!(refused, Err(diesel::result::Error::QueryBuilderError(_))),
                "{text} with {values} values: {refused:?}"
            );
        }
        assert_eq!(tallies(&mut conn), [(1, 0), (2, 100)]);
    }
}
