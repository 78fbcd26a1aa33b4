//! `column IN (ids)` as one statement whatever the number of ids.
//!
//! Diesel writes `eq_any` as one bind parameter per value on SQLite and marks the query
//! unsafe to keep prepared (its text changes with the number of values), so every page
//! that loads its stories' tags or a search's thousand matches by id was parsed and
//! planned again, and its SQL text written out again, on every read. [`IdSet::id_in`]
//! binds the ids as one value instead: on SQLite a JSON array read by `json_each`, on
//! PostgreSQL an array (what Diesel's `eq_any` binds there too). Its text is the same for
//! any number of ids, so the connection keeps the statement prepared.

use diesel::QueryResult;
use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Array, Bool, Integer, Text};
use diesel::sqlite::Sqlite;

use super::DbBackend;

/// `column IN (ids)`, kept prepared (see the module).
#[derive(Debug, Clone)]
pub struct IdIn<C> {
    column: C,
    ids: Vec<i32>,
    /// The ids as a JSON array, for SQLite.
    json: String,
}

/// SQL types of ids: integers, nullable or not.
pub trait IdType {}

impl IdType for Integer {}

impl IdType for diesel::sql_types::Nullable<Integer> {}

/// `.id_in(ids)` on an integer column.
pub trait IdSet: Expression + Sized
where
    Self::SqlType: IdType,
{
    /// This column is one of `ids` (none when `ids` is empty).
    fn id_in(self, ids: &[i32]) -> IdIn<Self> {
        use std::fmt::Write;
        let mut json = String::with_capacity(ids.len() * 8 + 2);
        json.push('[');
        for (i, id) in ids.iter().enumerate() {
            let comma = if i > 0 { "," } else { "" };
            // Writing to a `String` cannot fail.
            let _ = write!(json, "{comma}{id}");
        }
        json.push(']');
        IdIn {
            column: self,
            ids: ids.to_vec(),
            json,
        }
    }
}

impl<C> IdSet for C
where
    C: Expression,
    C::SqlType: IdType,
{
}

impl<C: Expression> Expression for IdIn<C> {
    type SqlType = Bool;
}

impl<C, QS> AppearsOnTable<QS> for IdIn<C> where C: AppearsOnTable<QS> {}

impl<C, QS> SelectableExpression<QS> for IdIn<C> where C: SelectableExpression<QS> {}

impl<C, GB> ValidGrouping<GB> for IdIn<C>
where
    C: ValidGrouping<GB>,
{
    type IsAggregate = C::IsAggregate;
}

impl<C> QueryId for IdIn<C> {
    type QueryId = ();
    // Keyed by its SQL text, which does not depend on the ids.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<C: QueryFragment<Sqlite>> QueryFragment<Sqlite> for IdIn<C> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        self.column.walk_ast(out.reborrow())?;
        out.push_sql(" IN (SELECT value FROM json_each(");
        out.push_bind_param::<Text, _>(&self.json)?;
        out.push_sql("))");
        Ok(())
    }
}

impl<C: QueryFragment<Pg>> QueryFragment<Pg> for IdIn<C> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.column.walk_ast(out.reborrow())?;
        out.push_sql(" = ANY(");
        out.push_bind_param::<Array<Integer>, _>(&self.ids)?;
        out.push_sql(")");
        Ok(())
    }
}

impl<C> QueryFragment<DbBackend> for IdIn<C>
where
    C: QueryFragment<Sqlite> + QueryFragment<Pg>,
{
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, DbBackend>) -> QueryResult<()> {
        <DbBackend>::walk_variant_ast(self, pass)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;

    use super::IdSet;
    use crate::db::kept::Cached;
    use crate::db::{DbBackend, DbConn};

    diesel::table! {
        stories (id) {
            id -> Integer,
            lang -> Text,
        }
    }

    fn connection() -> (SqliteConnection, Arc<AtomicUsize>) {
        let mut conn = SqliteConnection::establish(":memory:").unwrap();
        conn.batch_execute(
            "CREATE TABLE stories (id INTEGER PRIMARY KEY, lang TEXT NOT NULL);
             INSERT INTO stories (id, lang) VALUES
                 (1, 'en'), (2, 'ar'), (3, 'es'), (5, 'en'), (8, 'ar'), (13, 'en');",
        )
        .unwrap();
        let kept = Arc::new(AtomicUsize::new(0));
        conn.set_instrumentation(Cached(kept.clone()));
        (conn, kept)
    }

    /// The sets each test asks for: empty, one id, several (one missing, one twice),
    /// and thousands (a search keeps up to a thousand matches).
    fn sets() -> Vec<Vec<i32>> {
        vec![
            vec![],
            vec![8],
            vec![13, 2, 4, 2, 1],
            (1..=20_000).rev().collect(),
        ]
    }

    #[test]
    fn a_set_of_ids_finds_what_eq_any_finds_in_one_kept_statement() {
        let (mut conn, kept) = connection();
        let ours: Vec<Vec<i32>> = sets()
            .iter()
            .map(|ids| {
                stories::table
                    .filter(stories::id.id_in(ids))
                    .select(stories::id)
                    .order(stories::id)
                    .load(&mut conn)
                    .unwrap()
            })
            .collect();
        assert_eq!(
            kept.load(Ordering::Relaxed),
            1,
            "one statement kept for every number of ids"
        );
        for (ids, ours) in sets().iter().zip(ours) {
            let diesels: Vec<i32> = stories::table
                .filter(stories::id.eq_any(ids))
                .select(stories::id)
                .order(stories::id)
                .load(&mut conn)
                .unwrap();
            assert_eq!(ours, diesels, "ids {:?}…", &ids[..ids.len().min(5)]);
        }
    }

    #[test]
    fn a_set_of_ids_goes_with_other_conditions_in_a_boxed_query_on_either_backend() {
        let (conn, kept) = connection();
        let mut conn = DbConn::Sqlite(conn);
        for ids in sets() {
            let ours: Vec<i32> = stories::table
                .filter(stories::id.id_in(&ids))
                .filter(stories::lang.eq("en"))
                .into_boxed::<DbBackend>()
                .select(stories::id)
                .order(stories::id.desc())
                .load(&mut conn)
                .unwrap();
            let want: Vec<i32> = [13, 5, 1].into_iter().filter(|i| ids.contains(i)).collect();
            assert_eq!(ours, want);
        }
        assert_eq!(kept.load(Ordering::Relaxed), 1);
    }
}
