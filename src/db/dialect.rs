//! The statements that differ by backend, one function each with one arm per backend,
//! side by side. Everything else is Diesel's DSL over the types both backends share.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Integer, Text, Timestamp};

use super::DbConn;
use super::columns::StoredStatus;
use super::postgres;
use super::sqlite::{self, FtsOrder, FtsVisibility};
use crate::domain::search;
use crate::error::AppResult;

/// Indexes an article's normalised title, summary and body text under its id,
/// replacing what was there: an FTS5 row on SQLite, a weighted tsvector on PostgreSQL.
pub fn fts_put(
    conn: &mut DbConn,
    id: i32,
    title: &str,
    summary: &str,
    body: &str,
) -> AppResult<()> {
    match conn {
        DbConn::Sqlite(c) => sqlite::fts_put(c, id, title, summary, body),
        DbConn::Postgres(c) => postgres::fts_put(c, id, title, summary, body),
    }
}

/// Puts a new article in the search index: one whose id was never indexed (ids are
/// never reused), so no earlier entry is looked for. On SQLite that spares the FTS5
/// delete that [`fts_put`] does first, the larger part of indexing a create.
pub fn fts_insert(
    conn: &mut DbConn,
    id: i32,
    title: &str,
    summary: &str,
    body: &str,
) -> AppResult<()> {
    match conn {
        DbConn::Sqlite(c) => sqlite::fts_insert(c, id, title, summary, body),
        DbConn::Postgres(c) => postgres::fts_put(c, id, title, summary, body),
    }
}

/// What the search index holds of one article: its id and its normalised title,
/// summary and body text.
pub type FtsEntry<'a> = (i32, &'a str, &'a str, &'a str);

/// [`fts_insert`] for many new articles at once (bulk work). On SQLite they go in as
/// one statement: FTS5 writes what it holds in memory to a new segment at every
/// statement inside a transaction, and one segment per article left it merging
/// segments most of a seed's time. On PostgreSQL, a statement per 5,000 articles
/// instead of a round trip each.
pub fn fts_insert_many(conn: &mut DbConn, entries: &[FtsEntry<'_>]) -> AppResult<()> {
    match conn {
        DbConn::Sqlite(c) => sqlite::fts_insert_many(c, entries),
        DbConn::Postgres(c) => postgres::fts_insert_many(c, entries),
    }
}

/// Removes an article from the search index.
pub fn fts_remove(conn: &mut DbConn, id: i32) -> AppResult<()> {
    match conn {
        DbConn::Sqlite(c) => sqlite::fts_remove(c, id),
        DbConn::Postgres(c) => postgres::fts_remove(c, id),
    }
}

#[derive(QueryableByName)]
struct FtsHit {
    #[diesel(sql_type = Integer)]
    id: i32,
    #[diesel(sql_type = Double)]
    score: f64,
}

/// What one search statement is given, bound in this order by [`load_matches`].
#[derive(Clone, Copy)]
struct FtsBinds<'a> {
    /// The ranking function's names of the phrases (SQLite).
    names: Option<&'a str>,
    expression: &'a str,
    visible: FtsVisibility,
    order: FtsOrder,
    /// The statement's own `LIMIT`, unless the best are kept here.
    limit: Option<i64>,
    /// The id the matches lie above (PostgreSQL's newest documents first).
    floor: Option<i32>,
}

/// `limit` matches of the search terms with their relevance, `(article id,
/// relevance)`, among the articles `visible` allows: every term must appear, the last
/// may be the start of a word. SQLite ranks by BM25, PostgreSQL by `ts_rank`; both
/// weigh a title match above a summary match above a body match. Each backend writes
/// its SQL; the parameters are the same and bound here once.
pub fn fts_match(
    conn: &mut DbConn,
    terms: &[String],
    visible: FtsVisibility,
    order: FtsOrder,
    limit: i64,
) -> AppResult<Vec<(i32, f64)>> {
    // On SQLite the ranking function also gets the phrases' names (see `fts_rank`).
    let (expression, names) = match conn {
        DbConn::Sqlite(c) => {
            let words = match terms.last() {
                Some(last) => sqlite::completions(c, last, sqlite::MAX_COMPLETIONS)?,
                None => None,
            };
            let search = match words.as_deref() {
                Some(words) if !words.is_empty() => search::Fts5Search::completed(terms, words),
                _ => search::Fts5Search::prefixed(terms),
            };
            let Some(search) = search else {
                return Ok(Vec::new());
            };
            (Some(search.expression), Some(search.names))
        }
        DbConn::Postgres(_) => (search::tsquery(terms), None),
    };
    let Some(expression) = expression else {
        return Ok(Vec::new());
    };
    // On SQLite a ranked window comes back whole, and its best are kept here.
    let best_kept_here = matches!(
        (&*conn, order),
        (DbConn::Sqlite(_), FtsOrder::Relevance { .. })
    );
    let binds = FtsBinds {
        names: names.as_deref(),
        expression: &expression,
        visible,
        order,
        limit: (!best_kept_here).then_some(limit),
        floor: None,
    };
    // On PostgreSQL, a search ranked or newest first looks among the newest documents
    // first (see `postgres::FTS_RECENT_ROWS`), then below them for what it still needs.
    let floor = match (&mut *conn, order) {
        (DbConn::Postgres(_), FtsOrder::Oldest) | (DbConn::Sqlite(_), _) => None,
        (DbConn::Postgres(c), _) => postgres::fts_floor(c)?,
    };
    if let Some(floor) = floor {
        let needed = match order {
            FtsOrder::Relevance { window } => window,
            FtsOrder::Newest | FtsOrder::Oldest => limit,
        };
        let mut part = FtsBinds {
            order: FtsOrder::Newest,
            limit: Some(needed),
            floor: Some(floor),
            ..binds
        };
        let newest = postgres::fts_sql(visible, FtsOrder::Newest, postgres::FtsPart::Above);
        let mut hits: Vec<FtsHit> = load_matches(conn, newest, &part)?;
        let found = i64::try_from(hits.len()).unwrap_or(i64::MAX);
        if found < needed {
            part.limit = Some(needed - found);
            let older = postgres::fts_sql(visible, FtsOrder::Newest, postgres::FtsPart::AtOrBelow);
            hits.extend(load_matches::<FtsHit>(conn, older, &part)?);
        }
        let hits = hits.into_iter().map(|h| (h.id, h.score)).collect();
        return Ok(match order {
            FtsOrder::Relevance { .. } => {
                sqlite::best_first(hits, usize::try_from(limit).unwrap_or(0))
            }
            FtsOrder::Newest | FtsOrder::Oldest => hits,
        });
    }
    let sql = match conn {
        DbConn::Sqlite(_) => sqlite::fts_sql(visible, order),
        DbConn::Postgres(_) => postgres::fts_sql(visible, order, postgres::FtsPart::Whole),
    };
    let hits: Vec<FtsHit> = load_matches(conn, sql, &binds)?;
    let hits = hits.into_iter().map(|h| (h.id, h.score)).collect();
    Ok(match best_kept_here {
        true => sqlite::best_first(hits, usize::try_from(limit).unwrap_or(0)),
        false => hits,
    })
}

/// Runs a search statement of either backend with `binds`.
fn load_matches<T>(conn: &mut DbConn, sql: String, binds: &FtsBinds<'_>) -> AppResult<Vec<T>>
where
    T: QueryableByName<diesel::sqlite::Sqlite> + QueryableByName<diesel::pg::Pg> + 'static,
{
    // The same values in the same order on either backend.
    macro_rules! bound {
        ($query:expr) => {{
            let mut query = $query;
            // SQLite's ranking: the phrases' names, then what readers cannot see as of
            // now (`sqlite::fts_sql`).
            if let Some(names) = binds.names {
                let now = match binds.visible {
                    FtsVisibility::Public(now) => now,
                    FtsVisibility::Writer(_) | FtsVisibility::All => {
                        crate::domain::time::Timestamp::now().0
                    }
                };
                query = query
                    .bind::<Text, _>(names)
                    .bind::<Text, _>(StoredStatus::Published)
                    .bind::<Timestamp, _>(now)
                    .bind::<Timestamp, _>(now)
                    .bind::<Timestamp, _>(now);
            }
            query = query.bind::<Text, _>(binds.expression);
            query = match binds.visible {
                FtsVisibility::Public(now) => query
                    .bind::<Text, _>(StoredStatus::Draft)
                    .bind::<Text, _>(StoredStatus::Published)
                    .bind::<Timestamp, _>(now)
                    .bind::<Text, _>(StoredStatus::Published)
                    .bind::<Timestamp, _>(now),
                FtsVisibility::Writer(id) => query
                    .bind::<Text, _>(StoredStatus::Draft)
                    .bind::<Integer, _>(id)
                    .bind::<Text, _>(StoredStatus::Draft),
                FtsVisibility::All => query,
            };
            if let FtsOrder::Relevance { window } = binds.order {
                query = query.bind::<BigInt, _>(window);
            }
            if let Some(limit) = binds.limit {
                query = query.bind::<BigInt, _>(limit);
            }
            if let Some(floor) = binds.floor {
                query = query.bind::<Integer, _>(floor);
            }
            query
        }};
    }
    Ok(match conn {
        // One of a few fixed texts whose plan does not depend on the words, kept
        // prepared: parsing and planning it again was 3% of a distinct search's CPU.
        DbConn::Sqlite(c) => bound!(super::kept::sql(&sql)).load::<T>(c)?,
        // Planned for its words at each call: PostgreSQL may give a kept statement one
        // plan for every word, and how common a word is decides the best one.
        DbConn::Postgres(c) => bound!(diesel::sql_query(sql).into_boxed()).load::<T>(c)?,
    })
}

/// A timestamp column as whole seconds since the Unix epoch, worked out by the
/// database. SQLite stores timestamps as text, and decoding them in Rust (a chrono
/// parse per value) cost more than reading the rows of a sitemap block. The statement
/// stays kept prepared ([`super::kept::expr`]).
pub fn unix_seconds<ST>(conn: &DbConn, column: UnixColumn) -> super::kept::Expr<ST> {
    let text = match (conn, column) {
        (DbConn::Sqlite(_), UnixColumn::PublishedAt) => "unixepoch(published_at)",
        (DbConn::Sqlite(_), UnixColumn::UpdatedAt) => "unixepoch(updated_at)",
        (DbConn::Postgres(_), UnixColumn::PublishedAt) => {
            "CAST(floor(extract(epoch FROM published_at)) AS BIGINT)"
        }
        (DbConn::Postgres(_), UnixColumn::UpdatedAt) => {
            "CAST(floor(extract(epoch FROM updated_at)) AS BIGINT)"
        }
    };
    super::kept::expr(text)
}

/// The timestamp columns [`unix_seconds`] reads (of the query's table).
#[derive(Debug, Clone, Copy)]
pub enum UnixColumn {
    PublishedAt,
    UpdatedAt,
}

/// Refreshes the query planner's statistics after a bulk load.
pub fn analyze(conn: &mut DbConn) -> AppResult<()> {
    match conn {
        DbConn::Sqlite(c) => sqlite::analyze(c),
        DbConn::Postgres(c) => postgres::analyze(c),
    }
}

/// A cheap statement that proves the database answers (`/healthz`).
pub fn ping(conn: &mut DbConn) -> AppResult<()> {
    use diesel::connection::SimpleConnection;
    conn.batch_execute("SELECT 1")?;
    Ok(())
}
