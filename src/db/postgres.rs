//! The PostgreSQL corner of the storage layer: the connection pool, migrations under a
//! lock, the write transaction every instance shares, the notifications that carry one
//! instance's writes to the others, and the tsvector search index.
//!
//! Several instances may serve one database. What SQLite gets from its single writer
//! thread, PostgreSQL gets from one row lock that every write transaction takes first
//! (`content_state`, `FOR UPDATE`): a check and the write that depends on it are never
//! interleaved with another write, on any instance, and the freshness counter and the
//! breaking-event ids grow in commit order. Each content write also sends a
//! notification (`pg_notify`, delivered at commit) with what it changed; every instance
//! listens, so its caches and its breaking stream learn of other instances' writes
//! within milliseconds. The database counter, read every quarter second, remains the
//! fallback when a notification is missed.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::r2d2::R2D2Connection;
use diesel::sql_types::{BigInt, Integer, Text};
use diesel_migrations::MigrationHarness;
use serde::{Deserialize, Serialize};

use super::freshness::{self, ContentChange, Scope};
use super::readers::ReadPool;
use super::sqlite::{FtsOrder, FtsVisibility};
use super::writer::ScopeOf;
use super::{AfterCommit, DbConn, OpenError, PG_MIGRATIONS};
use crate::error::{AppError, AppResult};
use crate::workers::{Stage, Workers};

/// The notification channel of content writes.
const CHANNEL: &str = "newsdesk_content";
/// Longest notification payload PostgreSQL takes is 8,000 bytes; a change that would
/// not fit is sent as "everything changed".
const MAX_PAYLOAD: usize = 7_900;
/// How often the listener looks for notifications (reading the socket costs no
/// round trip).
const LISTEN_EVERY: Duration = Duration::from_millis(10);
/// How long a request waits for a new connection before a 503 (threads never wait
/// for each other's connections: there are no more threads than connections).
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(2);
/// Key of the advisory lock held while migrations run, so instances starting together
/// apply them once.
const MIGRATION_LOCK: i64 = 0x6e65_7773_6465_736b; // "newsdesk"
/// A statement running longer than this is cancelled (a stuck query must not hold the
/// write lock for ever).
const STATEMENT_TIMEOUT_MS: u32 = 30_000;

/// Makes pool connections: PostgreSQL only, whatever the URL looks like (the derived
/// `establish` would fall back to opening a SQLite file named like the URL).
#[derive(Debug)]
pub struct Manager {
    url: String,
}

fn connect(url: &str) -> Result<PgConnection, diesel::ConnectionError> {
    let mut conn = PgConnection::establish(url)?;
    conn.batch_execute(&format!(
        "SET application_name = 'newsdesk'; SET statement_timeout = {STATEMENT_TIMEOUT_MS};"
    ))
    .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
    Ok(conn)
}

impl diesel::r2d2::ManageConnection for Manager {
    type Connection = DbConn;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConn, Self::Error> {
        connect(&self.url)
            .map(DbConn::Postgres)
            .map_err(diesel::r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), Self::Error> {
        conn.ping().map_err(diesel::r2d2::Error::QueryError)
    }

    /// Also true when the server went away (restarted, or the connection was cut):
    /// reading the socket for notifications, which costs no round trip, fails then, and
    /// the pool replaces the connection instead of handing it out again.
    fn has_broken(&self, conn: &mut DbConn) -> bool {
        if conn.is_broken() {
            return true;
        }
        match conn {
            DbConn::Postgres(pg) => matches!(pg.notifications_iter().next(), Some(Err(_))),
            DbConn::Sqlite(_) => false,
        }
    }
}

/// Connects, applies the migrations, and starts the pool, the threads that use it and
/// the listener. Returns the threads for reads, those for writes, and this instance's
/// id (which its own notifications carry).
///
/// Reads and writes take connections from one pool of `pool_size`, through threads of
/// their own (a quarter of the pool, at least one, for writes): writes wait for one
/// row lock anyway, and with queues of their own they never wait behind a burst of
/// reads, nor reads behind writes waiting for the lock.
pub fn open(
    url: &str,
    shown: &str,
    pool_size: usize,
    after_commit: &Arc<OnceLock<AfterCommit>>,
    workers: &Workers,
) -> Result<(ReadPool, ReadPool, Arc<str>), OpenError> {
    let open_err = |reason: String| OpenError::Open {
        path: shown.to_owned(),
        reason: reason.trim().replace('\n', " "),
    };
    let mut conn = connect(url).map_err(|e| open_err(e.to_string()))?;
    migrate(&mut conn).map_err(|reason| OpenError::Migrate {
        path: shown.to_owned(),
        reason,
    })?;
    drop(conn);
    let size = u32::try_from(pool_size).unwrap_or(u32::MAX);
    let pool = diesel::r2d2::Pool::builder()
        .max_size(size)
        .min_idle(Some(size.min(2)))
        .connection_timeout(CONNECTION_TIMEOUT)
        .test_on_check_out(false)
        // A failed connection attempt reaches the caller as a 503 and `/healthz`; the
        // pool's own log line for each attempt would flood the log during an outage.
        .error_handler(Box::new(diesel::r2d2::NopErrorHandler))
        .build(Manager {
            url: url.to_owned(),
        })
        .map_err(|e| open_err(e.to_string()))?;
    let writers = (pool_size / 4).max(1);
    let readers = ReadPool::start_pooled(pool.clone(), pool_size - writers, "db-conn", workers)
        .map_err(|e| open_err(e.to_string()))?;
    let writes = ReadPool::start_pooled(pool, writers, "db-write", workers)
        .map_err(|e| open_err(e.to_string()))?;
    let instance: Arc<str> = Arc::from(instance_id());
    listen(
        url.to_owned(),
        instance.clone(),
        after_commit.clone(),
        workers,
    )
    .map_err(|e| open_err(e.to_string()))?;
    Ok((readers, writes, instance))
}

fn instance_id() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 8];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Applies pending migrations while holding an advisory lock.
fn migrate(conn: &mut PgConnection) -> Result<(), String> {
    diesel::sql_query("SELECT pg_advisory_lock($1)")
        .bind::<BigInt, _>(MIGRATION_LOCK)
        .execute(conn)
        .map_err(|e| e.to_string())?;
    let outcome = conn
        .run_pending_migrations(PG_MIGRATIONS)
        .map(|_| ())
        .map_err(|e| e.to_string());
    let _ = diesel::sql_query("SELECT pg_advisory_unlock($1)")
        .bind::<BigInt, _>(MIGRATION_LOCK)
        .execute(conn);
    outcome
}

/// Applies pending migrations on a connection of its own (`newsdesk migrate`).
pub fn migrate_url(url: &str) -> Result<(), String> {
    let mut conn = connect_plain(url)?;
    migrate(&mut conn)
}

/// The schema version the database is at, and whether migrations are pending
/// (`newsdesk check`).
pub fn schema_state(conn: &mut PgConnection) -> Result<(String, usize), String> {
    let applied = conn.applied_migrations().map_err(|e| e.to_string())?;
    let pending = conn
        .pending_migrations(PG_MIGRATIONS)
        .map_err(|e| e.to_string())?;
    let latest = applied
        .iter()
        .map(ToString::to_string)
        .max()
        .unwrap_or_else(|| "none".to_owned());
    Ok((latest, pending.len()))
}

/// Opens a plain connection (for one-off commands).
pub fn connect_plain(url: &str) -> Result<PgConnection, String> {
    connect(url).map_err(|e| e.to_string().trim().replace('\n', " "))
}

/// What a notification carries: the writing instance and its change.
#[derive(Serialize, Deserialize)]
struct Notice {
    /// The instance that wrote (its own notifications are skipped: it applied the
    /// change before answering).
    from: String,
    change: ContentChange,
}

/// Opens a write transaction and takes the lock every write takes first (see the module
/// documentation), in one round trip: the lock is waited for there, and each round trip
/// less before it is a little less time the writes queued behind it wait.
fn begin_locked(conn: &mut PgConnection) -> AppResult<()> {
    const BEGIN_LOCKED: &str = "BEGIN; SELECT version FROM content_state WHERE id = 1 FOR UPDATE";
    if let Err(e) =
        diesel::connection::AnsiTransactionManager::begin_transaction_sql(conn, BEGIN_LOCKED)
    {
        // The `BEGIN` may have run and the lock failed (a timeout, a cancel), leaving
        // the server's transaction open and aborted for the connection's next user.
        // A broken connection fails this too, and the pool drops it.
        let _ = conn.batch_execute("ROLLBACK");
        return Err(e.into());
    }
    Ok(())
}

fn notify(conn: &mut PgConnection, instance: &str, change: &ContentChange) -> AppResult<()> {
    let mut notice = Notice {
        from: instance.to_owned(),
        change: change.clone(),
    };
    let mut payload = serde_json::to_string(&notice).map_err(AppError::internal)?;
    if payload.len() > MAX_PAYLOAD {
        notice.change.scopes = vec![Scope::All];
        payload = serde_json::to_string(&notice).map_err(AppError::internal)?;
    }
    // Kept prepared: it runs at every content write.
    super::kept::sql("SELECT pg_notify(?, ?)")
        .bind::<Text, _>(CHANNEL)
        .bind::<Text, _>(payload)
        .execute(conn)?;
    Ok(())
}

/// The work of one write on a pooled connection: a transaction that takes the write
/// lock, runs `work`, and for a content write bumps the freshness counter and notifies
/// the other instances; after the commit this instance's caches learn of the change
/// before the answer goes out.
pub fn write_job<T, F>(
    instance: Arc<str>,
    after_commit: Arc<OnceLock<AfterCommit>>,
    scope_of: ScopeOf<T>,
    work: F,
) -> impl FnOnce(&mut DbConn) -> AppResult<T> + Send + 'static
where
    T: Send + 'static,
    F: FnOnce(&mut DbConn) -> AppResult<T> + Send + 'static,
{
    move |conn: &mut DbConn| {
        let DbConn::Postgres(pg) = conn else {
            return Err(AppError::internal("a PostgreSQL write on another backend"));
        };
        begin_locked(pg)?;
        let ran = (|| {
            let value = work(conn)?;
            let Some(scope) = scope_of(&value) else {
                return Ok((value, None));
            };
            let (version, horizon) =
                freshness::bump_and_horizon(conn, chrono::Utc::now().naive_utc())?;
            let change = ContentChange {
                scopes: vec![scope],
                version,
                horizon,
            };
            let DbConn::Postgres(pg) = conn else {
                return Err(AppError::internal("a PostgreSQL write on another backend"));
            };
            notify(pg, &instance, &change)?;
            Ok((value, Some(change)))
        })();
        // Ended as `Connection::transaction` ends one: committed, or rolled back with
        // the work's own error reported.
        use diesel::connection::TransactionManager;
        type Manager = <DbConn as diesel::Connection>::TransactionManager;
        let (value, change) = match ran {
            Ok(done) => {
                Manager::commit_transaction(conn)?;
                done
            }
            Err(e) => {
                return match Manager::rollback_transaction(conn) {
                    Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(e),
                    Err(rollback) => Err(rollback.into()),
                };
            }
        };
        if let (Some(change), Some(hook)) = (change, after_commit.get()) {
            hook(change);
        }
        Ok(value)
    }
}

/// Listens for other instances' content writes on a connection of its own and hands
/// each change to the after-commit hook (caches, the breaking stream). After the
/// connection broke, it reconnects and treats everything as changed, since
/// notifications sent meanwhile are lost.
fn listen(
    url: String,
    instance: Arc<str>,
    after_commit: Arc<OnceLock<AfterCommit>>,
    workers: &Workers,
) -> std::io::Result<()> {
    workers.spawn("db-listen", Stage::Producers, move |ctx| {
        let mut conn: Option<DbConn> = None;
        let mut retry = Duration::from_millis(100);
        while ctx.sleep(LISTEN_EVERY) {
            let listener = match conn.as_mut() {
                Some(c) => c,
                None => match subscribe(&url) {
                    Ok((c, change)) => {
                        retry = Duration::from_millis(100);
                        ctx.health.ok();
                        if let Some(hook) = after_commit.get() {
                            hook(change);
                        }
                        conn.insert(c)
                    }
                    Err(e) => {
                        ctx.health.failed("cannot listen for other instances' writes");
                        tracing::warn!(error = %e, "cannot listen for other instances' writes; retrying");
                        ctx.sleep(retry);
                        retry = (retry * 2).min(Duration::from_secs(1));
                        continue;
                    }
                },
            };
            let DbConn::Postgres(listener) = listener else {
                return;
            };
            let mut broken = false;
            let mut changes = Vec::new();
            for notification in listener.notifications_iter() {
                match notification {
                    Ok(n) => match serde_json::from_str::<Notice>(&n.payload) {
                        Ok(notice) if *notice.from != *instance => changes.push(notice.change),
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, "an unreadable content notification"),
                    },
                    Err(e) => {
                        tracing::warn!(error = %e, "the notification connection broke");
                        broken = true;
                        break;
                    }
                }
            }
            if let Some(hook) = after_commit.get() {
                for change in changes {
                    hook(change);
                }
            }
            if broken || listener.is_broken() {
                conn = None;
            }
        }
    })
}

/// A new listening connection, and the change to apply for what may have been missed
/// before it listened: everything, at the database's current version.
fn subscribe(url: &str) -> AppResult<(DbConn, ContentChange)> {
    let mut conn = connect(url).map_err(|e| AppError::Unavailable(e.to_string()))?;
    conn.batch_execute(&format!("LISTEN {CHANNEL}"))?;
    let mut conn = DbConn::Postgres(conn);
    let version = freshness::version(&mut conn)?;
    let horizon = freshness::horizon(&mut conn, chrono::Utc::now().naive_utc())?;
    Ok((
        conn,
        ContentChange {
            scopes: vec![Scope::All],
            version,
            horizon,
        },
    ))
}

// ---- Full-text search (tsvector) ------------------------------------------------

/// Most positions PostgreSQL keeps per word of a document.
const MAX_POSITIONS: usize = 256;
/// Highest word position PostgreSQL stores.
const MAX_POSITION: usize = 16_383;
/// A document's index entry stays under PostgreSQL's 1 MB limit for a tsvector.
const MAX_DOCUMENT_BYTES: usize = 900_000;
/// Longest word indexed, in bytes (PostgreSQL refuses words over 2 KB).
const MAX_WORD_BYTES: usize = 1_000;

/// The tsvector of an article's normalised title (weight A), summary (B) and body (D):
/// the words are split here, exactly as queries are ([`crate::domain::search::terms`]),
/// so both backends find the same articles whatever PostgreSQL's locale.
pub fn document(title: &str, summary: &str, body: &str) -> String {
    use std::collections::BTreeMap;
    let mut words: BTreeMap<&str, Vec<(usize, char)>> = BTreeMap::new();
    let mut position = 0usize;
    for (text, weight) in [(title, 'A'), (summary, 'B'), (body, 'D')] {
        for word in text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty() && w.len() <= MAX_WORD_BYTES)
        {
            position = (position + 1).min(MAX_POSITION);
            let positions = words.entry(word).or_default();
            if positions.len() < MAX_POSITIONS {
                positions.push((position, weight));
            }
        }
    }
    let mut out = String::new();
    for (word, positions) in words {
        if out.len() + word.len() + 16 > MAX_DOCUMENT_BYTES {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push('\'');
        out.push_str(word);
        out.push_str("':");
        let mut last = 0;
        let mut first = true;
        for (p, w) in positions {
            if p == last {
                continue;
            }
            last = p;
            if !first {
                out.push(',');
            }
            first = false;
            out.push_str(&p.to_string());
            out.push(w);
        }
    }
    out
}

/// Indexes an article's normalised text under its id, replacing what was there.
pub fn fts_put(
    conn: &mut PgConnection,
    id: i32,
    title: &str,
    summary: &str,
    body: &str,
) -> AppResult<()> {
    super::kept::sql(
        "INSERT INTO article_search (article_id, document) VALUES (?, CAST(? AS tsvector)) \
         ON CONFLICT (article_id) DO UPDATE SET document = EXCLUDED.document",
    )
    .bind::<Integer, _>(id)
    .bind::<Text, _>(document(title, summary, body))
    .execute(conn)?;
    Ok(())
}

/// Entries per statement of [`fts_insert_many`].
const FTS_ROWS_PER_STATEMENT: usize = 5_000;

/// Adds many articles to the index (bulk work: a seed, an import): their ids and
/// documents go to the server as two arrays per statement, unnested there, instead of
/// one statement and round trip per article.
pub fn fts_insert_many(
    conn: &mut PgConnection,
    entries: &[super::dialect::FtsEntry<'_>],
) -> AppResult<()> {
    use diesel::sql_types::Array;
    for chunk in entries.chunks(FTS_ROWS_PER_STATEMENT) {
        let ids: Vec<i32> = chunk.iter().map(|e| e.0).collect();
        let documents: Vec<String> = chunk
            .iter()
            .map(|(_, title, summary, body)| document(title, summary, body))
            .collect();
        diesel::sql_query(
            "INSERT INTO article_search (article_id, document) \
             SELECT id, CAST(doc AS tsvector) FROM unnest($1, $2) AS e (id, doc) \
             ON CONFLICT (article_id) DO UPDATE SET document = EXCLUDED.document",
        )
        .bind::<Array<Integer>, _>(ids)
        .bind::<Array<Text>, _>(documents)
        .execute(conn)?;
    }
    Ok(())
}

/// Removes an article from the index.
pub fn fts_remove(conn: &mut PgConnection, id: i32) -> AppResult<()> {
    diesel::sql_query("DELETE FROM article_search WHERE article_id = $1")
        .bind::<Integer, _>(id)
        .execute(conn)?;
    Ok(())
}

/// The SQL of a search, as [`super::sqlite::fts_sql`] gives it for SQLite, with the
/// same parameters in the same order: `ts_rank` with the title weighted ten times and
/// the summary five times the body. A part of the ids ([`FtsPart`]) gives the newest
/// matches within it, each with its score, up to its `LIMIT`, whatever `order`; its
/// bound is the parameter after the `LIMIT`.
pub fn fts_sql(visible: FtsVisibility, order: FtsOrder, part: FtsPart) -> String {
    let visibility = match visible {
        FtsVisibility::Public(_) => {
            " AND s.article_id NOT IN (SELECT id FROM articles WHERE status = $2 \
             OR (status = $3 AND published_at > $4) OR (status = $5 AND published_at IS NULL) \
             UNION ALL SELECT id FROM articles WHERE unpublish_at <= $6 \
             UNION ALL SELECT id FROM articles WHERE deleted_at IS NOT NULL)"
        }
        FtsVisibility::Writer(_) => {
            " AND s.article_id NOT IN (SELECT id FROM articles WHERE status = $2 \
             EXCEPT SELECT id FROM articles WHERE created_by = $3 AND status = $4 \
             UNION ALL SELECT id FROM articles WHERE deleted_at IS NOT NULL)"
        }
        FtsVisibility::All => {
            " AND s.article_id NOT IN (SELECT id FROM articles WHERE deleted_at IS NOT NULL)"
        }
    };
    let next = match visible {
        FtsVisibility::Public(_) => 7,
        FtsVisibility::Writer(_) => 5,
        FtsVisibility::All => 2,
    };
    let bound = match part {
        FtsPart::Whole => String::new(),
        FtsPart::Above => format!(" AND s.article_id > ${}", next + 1),
        FtsPart::AtOrBelow => format!(" AND s.article_id <= ${}", next + 1),
    };
    let matches = format!(
        "SELECT s.article_id AS id, \
         CAST(ts_rank('{{0.1, 0.0, 0.5, 1.0}}', s.document, q.q) AS float8) AS score \
         FROM article_search s, (SELECT CAST($1 AS tsquery) AS q) q \
         WHERE s.document @@ q.q{bound}{visibility}"
    );
    match (order, part) {
        (_, FtsPart::Above | FtsPart::AtOrBelow) | (FtsOrder::Newest, FtsPart::Whole) => {
            format!("{matches} ORDER BY s.article_id DESC LIMIT ${next}")
        }
        (FtsOrder::Relevance { .. }, FtsPart::Whole) => format!(
            "SELECT id, score FROM ({matches} ORDER BY s.article_id DESC LIMIT ${next}) m \
             ORDER BY score DESC, id DESC LIMIT ${}",
            next + 1
        ),
        (FtsOrder::Oldest, FtsPart::Whole) => {
            format!("{matches} ORDER BY s.article_id ASC LIMIT ${next}")
        }
    }
}

/// Which ids a search statement on PostgreSQL looks among: all, or those above or at
/// and below a floor (see [`FTS_RECENT_ROWS`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FtsPart {
    Whole,
    Above,
    AtOrBelow,
}

/// How many of the newest search documents a ranked or newest-first search on
/// PostgreSQL tries first ([`super::dialect::fts_match`]). PostgreSQL chooses between
/// walking the documents from the newest, testing each until enough match, and
/// reading every match its word index gives, by its estimate of the matches; for two
/// words that often go together (`grain & deal:*`) it expected 5,326 matches and found
/// 33,123, each read and ranked: about 200 ms at 100,000 full-length stories, where the
/// walk took 18. Among the newest rows only, it walks. The newest matches there are
/// newer than any other, so the search then asks for what it still needs below them
/// only, and the answer is the same as one statement over all.
pub const FTS_RECENT_ROWS: i32 = 50_000;

/// The id above which the newest [`FTS_RECENT_ROWS`] search documents lie (about: ids
/// deleted below the newest count as rows), or `None` when the index holds no more.
pub fn fts_floor(conn: &mut PgConnection) -> AppResult<Option<i32>> {
    #[derive(QueryableByName)]
    struct Newest {
        #[diesel(sql_type = diesel::sql_types::Nullable<Integer>)]
        id: Option<i32>,
    }
    let newest: Newest =
        super::kept::sql("SELECT max(article_id) AS id FROM article_search").get_result(conn)?;
    Ok(newest
        .id
        .map(|newest| newest - FTS_RECENT_ROWS)
        .filter(|floor| *floor > 0))
}

/// Refreshes the planner's statistics after a bulk load.
pub fn analyze(conn: &mut PgConnection) -> AppResult<()> {
    conn.batch_execute("ANALYZE")?;
    Ok(())
}

/// `VACUUM (ANALYZE)` of the database, on a connection of its own (`VACUUM` cannot run
/// inside a transaction), with no statement timeout: it reads every page written since
/// the last one (about 2.4 s after loading 1,000,000 articles here).
pub fn vacuum_analyze(conn: &mut PgConnection) -> AppResult<()> {
    // Two messages: statements sent together run as one transaction.
    conn.batch_execute("SET statement_timeout = 0")?;
    conn.batch_execute("VACUUM (ANALYZE)")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_weigh_fields_and_keep_positions() {
        let doc = document("gaza talks", "cairo", "talks in cairo");
        assert_eq!(doc, "'cairo':3B,6D 'gaza':1A 'in':5D 'talks':2A,4D");
    }
}
