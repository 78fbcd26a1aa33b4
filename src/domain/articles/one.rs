//! The statement of an uncached single read on PostgreSQL: an article's row with
//! everything its view embeds — its section and hero image by join, whether it has
//! corrections, and its tags, bylines and regions as one JSON array — so that a read
//! beyond the cache is one statement where it was three (the row, the linked rows, the
//! media), each a round trip.

use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::Text;

/// The tags, bylines and regions of the article of the outer query's row, as a JSON
/// array of `[kind, position, id, slug, name, localized, avatar]` (kind as
/// `super::TAG`, `AUTHOR`, `REGION`); `[]` when it has none. Its statement is kept
/// prepared under this type, like any of Diesel's.
#[derive(Debug, Clone, Copy, QueryId)]
pub struct LinkedJson;

/// The union the JSON is made of (`CAST(NULL AS INTEGER)` gives the branches with no
/// avatar the column's type).
const LINKED: &str = concat!(
    "COALESCE((SELECT json_agg(json_build_array(l.k, l.p, l.i, l.s, l.n, l.z, l.m))::text FROM (",
    "SELECT 0 AS k, t.position AS p, g.id AS i, g.slug AS s, g.name AS n, ",
    "g.localized AS z, CAST(NULL AS INTEGER) AS m ",
    "FROM article_tags t INNER JOIN tags g ON g.id = t.tag_id ",
    "WHERE t.article_id = \"articles\".\"id\" ",
    "UNION ALL SELECT 1, b.position, u.id, u.slug, u.name, u.localized, u.avatar_media_id ",
    "FROM article_authors b INNER JOIN authors u ON u.id = b.author_id ",
    "WHERE b.article_id = \"articles\".\"id\" ",
    "UNION ALL SELECT 2, r.position, g.id, g.slug, g.name, g.localized, CAST(NULL AS INTEGER) ",
    "FROM article_regions r INNER JOIN regions g ON g.id = r.region_id ",
    "WHERE r.article_id = \"articles\".\"id\") l), '[]')"
);

impl Expression for LinkedJson {
    type SqlType = Text;
}

impl<QS> AppearsOnTable<QS> for LinkedJson {}

impl<QS> SelectableExpression<QS> for LinkedJson {}

impl ValidGrouping<()> for LinkedJson {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}

impl QueryFragment<Pg> for LinkedJson {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> diesel::QueryResult<()> {
        out.push_sql(LINKED);
        Ok(())
    }
}

/// One element of [`LinkedJson`]'s array.
pub type LinkedItem = (i32, i32, i32, String, String, String, Option<i32>);

/// Reads [`LinkedJson`]'s array.
pub fn parse(json: &str) -> serde_json::Result<Vec<LinkedItem>> {
    serde_json::from_str(json)
}
