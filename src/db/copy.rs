//! `newsdesk copy --to postgres://…`: moves a SQLite newsroom into an empty PostgreSQL
//! database, ids and all, so links, tokens and cursors keep working.
//!
//! Rows travel as JSON: SQLite writes each row of a table as a JSON object
//! (`json_object`), a batch of them goes over as one array, and PostgreSQL turns it
//! back into rows of the same table (`json_populate_recordset`), converting each value
//! to its column's type. The tables go in an order that satisfies every foreign key,
//! in one transaction: a failed copy leaves the target as it was. The search index is
//! not copied (the two backends keep different ones) but rebuilt from the articles.

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text};

use super::DbConn;
use crate::error::{AppError, AppResult};

/// Every table with content, parents before children.
const TABLES: &[&str] = &[
    "settings",
    "users",
    "media",
    "authors",
    "sections",
    "regions",
    "tags",
    "articles",
    "article_counts",
    "sitemap_blocks",
    "article_tags",
    "article_regions",
    "article_authors",
    "breaking_items",
    "idempotency_keys",
    "article_views",
    "collections",
    "collection_articles",
    "breaking_events",
    "old_slugs",
    "article_revisions",
    "article_corrections",
    "preview_links",
    "audit_log",
    "api_tokens",
    "sessions",
    "webhooks",
    "webhook_events",
    "webhook_deliveries",
];

/// Tables whose `id` the database generates: their sequences continue after the copy.
const WITH_IDS: &[&str] = &[
    "article_counts",
    "users",
    "media",
    "authors",
    "sections",
    "regions",
    "tags",
    "articles",
    "breaking_items",
    "collections",
    "breaking_events",
    "article_corrections",
    "preview_links",
    "audit_log",
    "api_tokens",
    "sessions",
    "webhooks",
    "webhook_events",
    "webhook_deliveries",
];

/// Rows per statement.
const BATCH: i64 = 500;

/// What a copy moved.
#[derive(Debug, Clone, Copy)]
pub struct Copied {
    pub rows: u64,
    pub articles: u64,
}

#[derive(QueryableByName)]
struct TypedColumn {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    kind: String,
}

/// The link tables have no rowid (migration 26): they are read in the order of their
/// primary key, the story's id and the other side's.
const LINKS: &[(&str, &str)] = &[
    ("article_tags", "tag_id"),
    ("article_regions", "region_id"),
    ("article_authors", "author_id"),
];

#[derive(QueryableByName)]
struct JsonRow {
    /// The rowid, or a link's story id.
    #[diesel(sql_type = BigInt)]
    key: i64,
    /// A link's other id (0 for a table with rowids).
    #[diesel(sql_type = BigInt)]
    other: i64,
    #[diesel(sql_type = Text)]
    row: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct ArticleText {
    #[diesel(sql_type = Integer)]
    id: i32,
    #[diesel(sql_type = Text)]
    title: String,
    #[diesel(sql_type = Nullable<Text>)]
    summary: Option<String>,
    #[diesel(sql_type = Text)]
    body: String,
}

/// Copies every table of `source` into the PostgreSQL database at `url` (migrated
/// first), which must hold no content yet.
pub fn sqlite_to_postgres(source: &mut SqliteConnection, url: &str) -> AppResult<Copied> {
    use diesel_migrations::MigrationHarness;
    source
        .run_pending_migrations(super::MIGRATIONS)
        .map_err(|e| AppError::internal(format!("cannot migrate the source: {e}")))?;
    super::postgres::migrate_url(url).map_err(AppError::Unavailable)?;
    let mut pg = super::postgres::connect_plain(url).map_err(AppError::Unavailable)?;
    let held: i64 = ["users", "articles", "tags", "sections", "authors", "media"]
        .iter()
        .map(|t| count(&mut pg, t))
        .sum::<AppResult<i64>>()?;
    if held > 0 {
        return Err(AppError::bad_request(format!(
            "the target already holds content ({held} rows of users, articles, tags, \
             sections, authors and media); copy into a new, empty database"
        )));
    }
    let mut target = DbConn::Postgres(pg);
    let copied = target.transaction::<_, AppError, _>(|conn| {
        let DbConn::Postgres(target) = conn else {
            return Err(AppError::internal("the copy's target is PostgreSQL"));
        };
        // The generated signing secret and heartbeat come from the source, and so do
        // the counts and block times (the empty database's migration counted its nothing).
        target.batch_execute("DELETE FROM settings")?;
        target.batch_execute("DELETE FROM article_counts")?;
        target.batch_execute("DELETE FROM sitemap_blocks")?;
        let mut rows = 0u64;
        for table in TABLES {
            rows += copy_table(source, target, table)?;
        }
        for table in WITH_IDS {
            target.batch_execute(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
                 GREATEST((SELECT MAX(id) FROM {table}), 1))"
            ))?;
        }
        let version: i64 = diesel::sql_query("SELECT version AS n FROM content_state WHERE id = 1")
            .get_result::<Count>(source)?
            .n;
        diesel::sql_query("UPDATE content_state SET version = $1 WHERE id = 1")
            .bind::<BigInt, _>(version + 1)
            .execute(target)?;
        let articles = reindex(source, conn)?;
        Ok(Copied { rows, articles })
    })?;
    // Statistics and the visibility map for the copied rows (see
    // `Db::settle_after_bulk_load`).
    if let DbConn::Postgres(pg) = &mut target {
        super::postgres::vacuum_analyze(pg)?;
    }
    Ok(copied)
}

fn count(conn: &mut PgConnection, table: &str) -> AppResult<i64> {
    Ok(
        diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
            .get_result::<Count>(conn)?
            .n,
    )
}

/// Copies one table in batches, in rowid order (a link table in its key's order).
fn copy_table(
    source: &mut SqliteConnection,
    target: &mut PgConnection,
    table: &str,
) -> AppResult<u64> {
    let columns: Vec<(String, String)> = diesel::sql_query(format!(
        "SELECT name, type AS kind FROM pragma_table_info('{table}')"
    ))
    .load::<TypedColumn>(source)?
    .into_iter()
    .map(|c| (c.name, c.kind))
    .collect();
    // JSON holds no bytes: a BLOB travels as PostgreSQL's hex form of `bytea`.
    let object = columns
        .iter()
        .map(|(c, kind)| match kind.eq_ignore_ascii_case("BLOB") {
            true => {
                format!("'{c}', CASE WHEN \"{c}\" IS NULL THEN NULL ELSE '\\x' || hex(\"{c}\") END")
            }
            false => format!("'{c}', \"{c}\""),
        })
        .collect::<Vec<_>>()
        .join(", ");
    let columns: Vec<String> = columns.into_iter().map(|(c, _)| c).collect();
    let listed = columns
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let link = LINKS
        .iter()
        .find(|(t, _)| *t == table)
        .map(|(_, other)| other);
    let read = match link {
        None => format!(
            "SELECT rowid AS key, 0 AS other, json_object({object}) AS row FROM {table} \
             WHERE rowid > ?1 ORDER BY rowid LIMIT ?2"
        ),
        Some(other) => format!(
            "SELECT article_id AS key, {other} AS other, json_object({object}) AS row \
             FROM {table} WHERE (article_id, {other}) > (?1, ?2) \
             ORDER BY article_id, {other} LIMIT ?3"
        ),
    };
    let write = format!(
        "INSERT INTO {table} ({listed}) SELECT {listed} \
         FROM json_populate_recordset(NULL::{table}, CAST($1 AS json))"
    );
    let mut after = (i64::MIN, i64::MIN);
    let mut copied = 0u64;
    loop {
        let batch: Vec<JsonRow> = match link {
            None => diesel::sql_query(&read)
                .bind::<BigInt, _>(after.0)
                .bind::<BigInt, _>(BATCH)
                .load(source)?,
            Some(_) => diesel::sql_query(&read)
                .bind::<BigInt, _>(after.0)
                .bind::<BigInt, _>(after.1)
                .bind::<BigInt, _>(BATCH)
                .load(source)?,
        };
        let Some(last) = batch.last() else {
            return Ok(copied);
        };
        after = (last.key, last.other);
        let array = format!(
            "[{}]",
            batch
                .iter()
                .map(|r| r.row.as_str())
                .collect::<Vec<_>>()
                .join(",")
        );
        diesel::sql_query(&write)
            .bind::<Text, _>(array)
            .execute(target)?;
        copied += batch.len() as u64;
    }
}

/// Rebuilds the PostgreSQL search index from the copied articles.
fn reindex(source: &mut SqliteConnection, target: &mut DbConn) -> AppResult<u64> {
    let mut after = i32::MIN;
    let mut done = 0u64;
    loop {
        let batch: Vec<ArticleText> = diesel::sql_query(
            "SELECT id, title, summary, body FROM articles WHERE id > ? ORDER BY id LIMIT ?",
        )
        .bind::<Integer, _>(after)
        .bind::<BigInt, _>(BATCH)
        .load(source)?;
        let Some(last) = batch.last() else {
            return Ok(done);
        };
        after = last.id;
        for a in &batch {
            crate::domain::articles::write::reindex(
                target,
                a.id,
                &a.title,
                a.summary.as_deref(),
                &a.body,
            )?;
        }
        done += batch.len() as u64;
    }
}
