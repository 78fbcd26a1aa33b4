//! The SQLite-only corner of the storage layer: connection pragmas, immediate
//! transactions, online backup, the integrity check and the FTS5 search index. Its
//! PostgreSQL counterparts are in [`super::postgres`]; [`super::dialect`] chooses.

use std::path::Path;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text};

use crate::error::{AppError, AppResult};
use diesel::SqliteConnection;
use libsqlite3_sys as ffi;

/// The WAL is cut back to this size (256 MiB) when it starts over, so one burst of
/// writes does not keep its disk space for ever (after a second without writes the
/// checkpointer empties it anyway). Under a stream of creates the WAL file reaches
/// about 200 MB between two restarts; cut back to 64 MiB at each, SQLite dropped the
/// rest of the file's pages and the kernel allocated them again frame by frame: with
/// 256 MiB, creates use a tenth less CPU (`bench/RESULTS.md`).
const JOURNAL_SIZE_LIMIT: i64 = 256 * 1024 * 1024;

/// How long a connection waits for another process's write lock before failing.
const BUSY_TIMEOUT_MS: u32 = 5_000;

/// Opens a SQLite connection set up by [`on_open`] (stable plans, newsdesk's own SQL
/// functions); [`ConnectionSetup::apply`] then sets its pragmas.
pub fn establish(url: &str) -> diesel::ConnectionResult<SqliteConnection> {
    super::wal_file::install();
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        // SAFETY: `on_open` has the signature SQLite expects of an extension's entry
        // point, and lives as long as the process.
        let rc = unsafe { ffi::sqlite3_auto_extension(Some(on_open)) };
        if rc != ffi::SQLITE_OK {
            tracing::error!(rc, "could not set up new SQLite connections");
        }
    });
    SqliteConnection::establish(url)
}

/// Applies newsdesk's pragmas to every new connection.
///
/// `synchronous = NORMAL` in WAL mode: a committed transaction survives a crash of the
/// process (the WAL is written before the commit returns), and the database is never
/// corrupted; on power loss or an OS crash the last transactions before the failure may
/// be rolled back. `foreign_keys` is off by default in SQLite and must be set per
/// connection.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionSetup;

impl ConnectionSetup {
    /// Applies the pragmas to a connection.
    pub fn apply(conn: &mut SqliteConnection) -> diesel::QueryResult<()> {
        conn.batch_execute(&format!(
            "PRAGMA busy_timeout = {BUSY_TIMEOUT_MS};
             PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             PRAGMA foreign_keys = ON;
             PRAGMA temp_store = MEMORY;
             PRAGMA journal_size_limit = {JOURNAL_SIZE_LIMIT};
             CREATE VIRTUAL TABLE IF NOT EXISTS temp.articles_fts_terms
                 USING fts5vocab(main, articles_fts, instance);"
        ))
    }

    /// Sets a connection's page cache to `kib` KiB. Readers keep a small one: the
    /// operating system caches the file too, and hot responses live in newsdesk's own
    /// representation cache.
    pub fn cache_kib(conn: &mut SqliteConnection, kib: u32) -> diesel::QueryResult<()> {
        conn.batch_execute(&format!("PRAGMA cache_size = -{kib};"))
    }
}

/// Run by SQLite on every connection this process opens (an automatic extension:
/// Diesel gives no access to a connection's `sqlite3` handle), before any statement.
///
/// It turns on the query planner stability guarantee (QPSG): a statement keeps the plan
/// it was prepared with whatever values are bound to it. Without it, SQLite plans
/// `LIMIT ?` with the value bound at the time and marks the statement to be prepared
/// again whenever that parameter is bound anew, which Diesel does on every execution:
/// every list page, every `first()` and every statement with a `LIMIT` was parsed and
/// planned again each time it ran, from the statement cache or not (found in a profile
/// of creates: the readers' `sqlite3Reprepare`). Nothing newsdesk asks depends on a
/// bound value for its plan: the partial indexes are matched by conditions written
/// into the SQL text, and the per-value samples are dropped ([`analyze`]).
/// Then it registers the search ranking ([`super::fts_rank`]).
unsafe extern "C" fn on_open(
    db: *mut ffi::sqlite3,
    _error: *mut *mut std::ffi::c_char,
    _api: *const ffi::sqlite3_api_routines,
) -> std::ffi::c_int {
    // SAFETY: `db` is the connection being opened, used by nothing else meanwhile;
    // `sqlite3_db_config` with this option takes an int and an int pointer (null: the
    // old value is not wanted).
    unsafe {
        ffi::sqlite3_db_config(
            db,
            ffi::SQLITE_DBCONFIG_ENABLE_QPSG,
            1 as std::ffi::c_int,
            std::ptr::null_mut::<std::ffi::c_int>(),
        );
        super::fts_rank::register(db);
    }
    ffi::SQLITE_OK
}

/// Runs `work` in a `BEGIN IMMEDIATE` transaction: the write lock is taken up front.
/// The transaction is opened on the SQLite connection inside the enum, whose
/// transaction state the enum shares, so transactions `work` opens nest as savepoints.
pub fn write_transaction<T, F>(conn: &mut super::DbConn, work: F) -> AppResult<T>
where
    F: FnOnce(&mut super::DbConn) -> AppResult<T>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    type Manager = <super::DbConn as Connection>::TransactionManager;
    let super::DbConn::Sqlite(inner) = conn else {
        return Err(AppError::internal("an immediate transaction needs SQLite"));
    };
    AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?;
    match work(conn) {
        Ok(value) => {
            if let Err(e) = Manager::commit_transaction(conn) {
                let _ = Manager::rollback_transaction(conn);
                return Err(e.into());
            }
            Ok(value)
        }
        Err(e) => {
            Manager::rollback_transaction(conn)?;
            Err(e)
        }
    }
}

/// How often the checkpointer copies committed pages from the WAL into the database.
pub const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// Turns off SQLite's automatic checkpoints on the writer connection: they would run
/// inside a commit (on the thread that serves every write), and in WAL mode with
/// `synchronous = NORMAL` a checkpoint is where the fsyncs happen.
pub fn manual_checkpoints(conn: &mut SqliteConnection) -> AppResult<()> {
    conn.batch_execute("PRAGMA wal_autocheckpoint = 0;")?;
    Ok(())
}

#[derive(QueryableByName)]
struct CheckpointRow {
    #[diesel(sql_type = Integer)]
    log: i32,
    #[diesel(sql_type = Integer)]
    checkpointed: i32,
}

/// What a checkpoint did: frames in the WAL, and how many of them are now in the
/// database file (the rest is the backlog).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CheckpointOutcome {
    pub wal_frames: i64,
    pub copied_frames: i64,
}

impl CheckpointOutcome {
    /// Frames still only in the WAL.
    pub fn backlog(&self) -> i64 {
        (self.wal_frames - self.copied_frames).max(0)
    }
}

fn run_checkpoint(conn: &mut SqliteConnection, mode: &str) -> AppResult<CheckpointOutcome> {
    let row: CheckpointRow =
        diesel::sql_query(format!("PRAGMA wal_checkpoint({mode})")).get_result(conn)?;
    Ok(CheckpointOutcome {
        wal_frames: i64::from(row.log.max(0)),
        copied_frames: i64::from(row.checkpointed.max(0)),
    })
}

/// Copies what it can from the WAL into the database without waiting for readers or
/// blocking the writer (`PASSIVE`), on the checkpointer's own connection.
pub fn checkpoint(conn: &mut SqliteConnection) -> AppResult<CheckpointOutcome> {
    run_checkpoint(conn, "PASSIVE")
}

/// Copies the whole WAL into the database and empties it, waiting for readers if it
/// must (`TRUNCATE`), on a connection outside any transaction: for bulk loads, whose
/// stream of large commits leaves a passive checkpoint no moment to catch up (a
/// 1,000,000-article seed grew the WAL to 22 GB), for an idle server, and at shutdown.
pub fn checkpoint_fully(conn: &mut SqliteConnection) -> AppResult<()> {
    run_checkpoint(conn, "TRUNCATE")?;
    Ok(())
}

/// WAL frames (about 16 MiB of pages) beyond which the checkpointer asks the writer to
/// let the WAL start over (see [`WalRestart`]).
const RESTART_FRAMES: i64 = 4_096;

/// The checkpointer's request to the writer: copy the WAL's last frames into the
/// database between two groups, so that the next write starts the WAL over from its
/// first frame.
///
/// SQLite starts the WAL over only when a write begins after every frame was copied.
/// Under a steady stream of writes the checkpointer never sees that moment: while it
/// copies, the writer adds frames. The WAL then grew without end (2.5 GB after ten
/// seconds of creates), every frame going to a new page of the file, which the kernel
/// must allocate and zero. The writer, which alone adds frames, copies the few written
/// since the checkpointer's pass, on its own connection, outside any transaction.
#[derive(Debug, Clone, Default)]
pub struct WalRestart(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl WalRestart {
    fn ask(&self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether a restart was asked for since the last call (and forgets the request).
    pub fn take(&self) -> bool {
        self.0.swap(false, std::sync::atomic::Ordering::Relaxed)
    }
}

/// The longest pause between checkpoints after the disk was found full.
const CHECKPOINT_BACKOFF_MAX: std::time::Duration = std::time::Duration::from_secs(60);
/// Rounds with nothing new in the WAL after which it is emptied (truncated to zero
/// bytes), giving its disk space back: a second of quiet. Readers are faster with the
/// WAL empty: after a burst of creates, uncached article reads made about four times as
/// many page reads from the operating system while the copied WAL was kept (10 s of
/// quiet before, measured on 100,000 articles: 14,000 reads a second against 18,200
/// once it was emptied). Emptying it costs a checkpoint that waits for readers to reach
/// the newest snapshot, at most once per pause in the writes.
const IDLE_ROUNDS_BEFORE_TRUNCATE: u32 = 2;

/// True for SQLite's "database or disk is full".
pub fn is_disk_full(e: &AppError) -> bool {
    matches!(e, AppError::Unavailable(reason) | AppError::Internal(reason)
        if reason.contains("disk is full"))
}

/// Keeps the WAL short from a worker of its own (see [`manual_checkpoints`]).
///
/// After a checkpoint fails because the disk is full, the next ones wait longer and
/// longer (up to a minute): copying the WAL into the database grows the database file,
/// and retrying at once would take every byte freed on the disk before a write could
/// use it. Writes need no new space while the WAL has room to be reused, so they
/// resume as soon as a few pages are free; the checkpoint catches up later. When the
/// WAL has been fully copied and nothing new came for a while, it is truncated to zero
/// bytes. At shutdown, a last full checkpoint leaves the WAL empty. `backlog` is kept
/// at the number of WAL frames not yet copied, for `/healthz`. When the WAL has grown
/// past [`RESTART_FRAMES`] because writes kept coming while it copied, the worker
/// asks the writer, through `restart`, to start it over (see [`WalRestart`]).
pub fn start_checkpointer(
    mut conn: SqliteConnection,
    workers: &crate::workers::Workers,
    backlog: std::sync::Arc<std::sync::atomic::AtomicI64>,
    restart: WalRestart,
) -> std::io::Result<()> {
    use std::sync::atomic::Ordering;
    workers.spawn(
        "db-checkpoint",
        crate::workers::Stage::Storage,
        move |ctx| {
            let mut wait = CHECKPOINT_EVERY;
            let mut last = CheckpointOutcome::default();
            let mut idle_rounds = 0u32;
            ctx.health.ok();
            while ctx.sleep(wait) {
                match checkpoint(&mut conn) {
                    Ok(outcome) => {
                        wait = CHECKPOINT_EVERY;
                        backlog.store(outcome.backlog(), Ordering::Relaxed);
                        ctx.health.ok();
                        if outcome.wal_frames > 0 && outcome == last && outcome.backlog() == 0 {
                            idle_rounds += 1;
                        } else {
                            idle_rounds = 0;
                        }
                        last = outcome;
                        if outcome.wal_frames > RESTART_FRAMES {
                            restart.ask();
                        }
                        if idle_rounds >= IDLE_ROUNDS_BEFORE_TRUNCATE {
                            idle_rounds = 0;
                            if checkpoint_fully(&mut conn).is_ok() {
                                last = CheckpointOutcome::default();
                            }
                        }
                    }
                    Err(e) if is_disk_full(&e) => {
                        wait = (wait * 2)
                            .clamp(std::time::Duration::from_secs(1), CHECKPOINT_BACKOFF_MAX);
                        ctx.health.failed(format!(
                            "the disk is full: checkpoints wait {} s between tries",
                            wait.as_secs()
                        ));
                        tracing::warn!(error = %e, wait_seconds = wait.as_secs(),
                        "checkpoint: the disk is full; backing off");
                    }
                    Err(e) => {
                        ctx.health.failed("the last checkpoint failed");
                        tracing::warn!(error = %e, "checkpoint failed; will retry");
                    }
                }
            }
            if let Err(e) = checkpoint_fully(&mut conn) {
                tracing::warn!(error = %e, "the last checkpoint at shutdown failed");
            }
        },
    )
}

/// Copies the live database into a new file, consistently, while others keep writing.
pub fn backup_into(conn: &mut SqliteConnection, target: &Path) -> AppResult<()> {
    if target.exists() {
        return Err(AppError::bad_request(format!(
            "{} already exists; choose a new file",
            target.display()
        )));
    }
    let target = target
        .to_str()
        .ok_or_else(|| AppError::bad_request("the backup path must be valid UTF-8"))?;
    diesel::sql_query("VACUUM INTO ?")
        .bind::<Text, _>(target)
        .execute(conn)?;
    Ok(())
}

#[derive(QueryableByName)]
struct IntegrityRow {
    #[diesel(sql_type = Text)]
    integrity_check: String,
}

/// `PRAGMA integrity_check`: `"ok"` for a sound database file.
pub fn integrity_check(conn: &mut SqliteConnection) -> AppResult<String> {
    let rows: Vec<IntegrityRow> = diesel::sql_query("PRAGMA integrity_check").load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| r.integrity_check)
        .collect::<Vec<_>>()
        .join("; "))
}

/// Refreshes the query planner's statistics where they are missing or stale (SQLite
/// decides which: tables never analysed, or whose size changed many times over, so on
/// most starts this does nothing). Without statistics, SQLite may count a tag's
/// articles by visiting every article instead of the tag's index entries.
///
/// The analysis reads whole indexes: a sampled one (`analysis_limit`) judged `status`
/// to pick out about a thousand rows of a 100,000-article archive, so a search's "these
/// thousand ids, if published" walked the publication index of the whole archive
/// instead of fetching the thousand rows (found by profiling the search benchmark).
pub fn optimize(conn: &mut SqliteConnection) -> AppResult<()> {
    conn.batch_execute("PRAGMA analysis_limit = 0; PRAGMA optimize = 0x10002;")?;
    without_samples(conn)
}

/// Analyses every table and index afresh: after a bulk load, when every statistic is
/// out of date.
pub fn analyze(conn: &mut SqliteConnection) -> AppResult<()> {
    conn.batch_execute("PRAGMA analysis_limit = 0; ANALYZE;")?;
    without_samples(conn)
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Drops the per-value samples (`sqlite_stat4`) a full analysis also writes, keeping
/// the per-index averages (`sqlite_stat1`). With samples, SQLite prepares a statement
/// again whenever a parameter it samples gets a new value, so every article read by a
/// new slug parsed its SQL anew: twice the CPU per uncached article read (measured,
/// 100,000 articles: 94 µs with averages only, 216 µs with samples).
fn without_samples(conn: &mut SqliteConnection) -> AppResult<()> {
    let present = diesel::sql_query(
        "SELECT COUNT(*) AS n FROM sqlite_schema WHERE type = 'table' AND name = 'sqlite_stat4'",
    )
    .get_result::<Count>(conn)?
    .n;
    if present > 0 {
        conn.batch_execute("DELETE FROM sqlite_stat4; ANALYZE sqlite_schema;")?;
    }
    Ok(())
}

// ---- Full-text search (FTS5) ----------------------------------------------------

/// Indexes an article's normalised text under its id, replacing what was there.
pub fn fts_put(
    conn: &mut SqliteConnection,
    id: i32,
    title: &str,
    summary: &str,
    body: &str,
) -> AppResult<()> {
    fts_remove(conn, id)?;
    fts_insert(conn, id, title, summary, body)
}

/// An entry of FTS5's table of row lengths.
#[derive(QueryableByName)]
struct RowSize {
    #[diesel(sql_type = diesel::sql_types::Binary)]
    sz: Vec<u8>,
}

/// The number of `sizes` and the tokens they sum to.
fn summed(sizes: &[RowSize]) -> AppResult<(i64, i64)> {
    let mut tokens = 0_i64;
    for size in sizes {
        tokens += super::fts_rank::row_tokens(&size.sz).ok_or_else(|| {
            crate::error::AppError::internal("a row length in the search index is cut short")
        })?;
    }
    Ok((sizes.len() as i64, tokens))
}

/// The rows of the index among `ids` (a JSON array of ids) and their tokens, from
/// FTS5's table of row lengths.
fn indexed_sizes(conn: &mut SqliteConnection, ids: &str) -> AppResult<(i64, i64)> {
    let sizes: Vec<RowSize> = super::kept::sql(
        "SELECT sz FROM articles_fts_docsize WHERE id IN (SELECT value FROM json_each(?))",
    )
    .bind::<Text, _>(ids)
    .load(conn)?;
    summed(&sizes)
}

/// [`indexed_sizes`] of one row (`(0, 0)` when the index does not hold it): a look-up
/// by the row's key, where the set read from JSON took a temporary table of its values
/// to look it up, about 3% of a create's time on the writer.
fn indexed_size_of(conn: &mut SqliteConnection, id: i32) -> AppResult<(i64, i64)> {
    let sizes: Vec<RowSize> = super::kept::sql("SELECT sz FROM articles_fts_docsize WHERE id = ?")
        .bind::<Integer, _>(id)
        .load(conn)?;
    summed(&sizes)
}

/// Moves the index's totals (`search_totals`, read by the ranking: see
/// [`super::fts_rank`]) by `rows` and `tokens`, in the writer's transaction.
fn move_totals(conn: &mut SqliteConnection, rows: i64, tokens: i64) -> AppResult<()> {
    if rows == 0 && tokens == 0 {
        return Ok(());
    }
    super::kept::sql("UPDATE search_totals SET rows = rows + ?, tokens = tokens + ? WHERE id = 1")
        .bind::<diesel::sql_types::BigInt, _>(rows)
        .bind::<diesel::sql_types::BigInt, _>(tokens)
        .execute(conn)?;
    Ok(())
}

/// Counts the index's rows and tokens afresh into `search_totals` (a database opened
/// for the first time by a release that keeps them, or `newsdesk recount`): a read of
/// FTS5's table of row lengths (0.2 s with the migration, at a million stories here).
pub fn recount_search_totals(conn: &mut SqliteConnection) -> AppResult<()> {
    let sizes: Vec<RowSize> =
        diesel::sql_query("SELECT sz FROM articles_fts_docsize").load(conn)?;
    let (rows, tokens) = summed(&sizes)?;
    conn.batch_execute("DELETE FROM search_totals")?;
    diesel::sql_query("INSERT INTO search_totals (id, rows, tokens) VALUES (1, ?, ?)")
        .bind::<diesel::sql_types::BigInt, _>(rows)
        .bind::<diesel::sql_types::BigInt, _>(tokens)
        .execute(conn)?;
    Ok(())
}

/// Fills `search_totals` when it is empty (the first open after the migration that
/// made it).
pub fn search_totals_settle(conn: &mut SqliteConnection) -> AppResult<()> {
    let kept: Count =
        diesel::sql_query("SELECT count(*) AS n FROM search_totals").get_result(conn)?;
    if kept.n == 0 {
        conn.immediate_transaction(|conn| {
            let again: Count =
                diesel::sql_query("SELECT count(*) AS n FROM search_totals").get_result(conn)?;
            if again.n == 0 {
                recount_search_totals(conn)?;
            }
            Ok::<_, crate::error::AppError>(())
        })?;
    }
    Ok(())
}

/// Adds an article that is not in the index yet.
pub fn fts_insert(
    conn: &mut SqliteConnection,
    id: i32,
    title: &str,
    summary: &str,
    body: &str,
) -> AppResult<()> {
    // Through Diesel's DSL rather than raw SQL, which Diesel prepares again at every
    // call: every create and edit writes here.
    diesel::insert_into(search_index::articles_fts::table)
        .values((
            search_index::articles_fts::rowid.eq(id),
            search_index::articles_fts::title.eq(title),
            search_index::articles_fts::summary.eq(summary),
            search_index::articles_fts::body.eq(body),
        ))
        .execute(conn)?;
    let (rows, tokens) = indexed_size_of(conn, id)?;
    move_totals(conn, rows, tokens)
}

/// The FTS5 table's writable columns, for the statement Diesel keeps prepared. Not in
/// `schema.rs`: the table exists on SQLite only, and nothing reads it through Diesel.
mod search_index {
    diesel::table! {
        articles_fts (rowid) {
            rowid -> Integer,
            title -> Text,
            summary -> Text,
            body -> Text,
        }
    }
}

diesel::define_sql_function! {
    /// SQLite's `last_insert_rowid()`.
    fn last_insert_rowid() -> diesel::sql_types::BigInt;
}

/// The id the last `INSERT` on `conn` gave its row. SQLite runs an `INSERT ... RETURNING`
/// as if the table had a trigger, and such a statement, which may fail half-way, first
/// copies every page it changes into a statement journal; a plain `INSERT` of one row
/// into a table without triggers does not, and this costs one step of a kept statement.
pub fn last_id(conn: &mut SqliteConnection) -> QueryResult<i32> {
    let id: i64 = diesel::select(last_insert_rowid()).get_result(conn)?;
    i32::try_from(id).map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))
}

/// Readies the search index for bulk work (a seed, an import) on `conn`. FTS5's default
/// merges a little of its segments at each write, with four at a level as its aim; over
/// a large load that re-read and deleted the same data again and again (deleting a
/// merged segment's pages was most of a seed's time). During bulk work, segments are
/// merged only when sixteen pile up at a level, and each statement writes one segment
/// rather than one per megabyte of text. [`fts_bulk_end`] restores the defaults; a
/// server that starts after bulk work was cut short restores them too
/// ([`fts_settle`]).
pub fn fts_bulk_begin(conn: &mut SqliteConnection) -> AppResult<()> {
    conn.batch_execute(
        "INSERT INTO articles_fts (articles_fts, rank) VALUES ('automerge', 0);
         INSERT INTO articles_fts (articles_fts, rank) VALUES ('hashsize', 67108864);",
    )?;
    Ok(())
}

/// Runs bulk `work` on `conn` between [`fts_bulk_begin`] and [`fts_bulk_end`] (which
/// runs even when the work fails).
pub fn bulk_search_index<T>(
    conn: &mut super::DbConn,
    work: impl FnOnce(&mut super::DbConn) -> AppResult<T>,
) -> AppResult<T> {
    let super::DbConn::Sqlite(c) = conn else {
        return work(conn);
    };
    fts_bulk_begin(c)?;
    let outcome = work(conn);
    if let super::DbConn::Sqlite(c) = conn {
        fts_bulk_end(c)?;
    }
    outcome
}

/// Ends bulk work on the search index: FTS5's merge settings back to their defaults
/// (the segments left are merged a little at each later write, as usual; forcing one
/// merge of all of them took longer than the load it followed).
pub fn fts_bulk_end(conn: &mut SqliteConnection) -> AppResult<()> {
    fts_defaults(conn)
}

fn fts_defaults(conn: &mut SqliteConnection) -> AppResult<()> {
    conn.batch_execute(
        "INSERT INTO articles_fts (articles_fts, rank) VALUES ('automerge', 4);
         INSERT INTO articles_fts (articles_fts, rank) VALUES ('crisismerge', 16);
         INSERT INTO articles_fts (articles_fts, rank) VALUES ('hashsize', 1048576);",
    )?;
    Ok(())
}

/// At start: if bulk work was cut short (its settings are still in the index), FTS5's
/// merge settings go back to their defaults, and its segments are merged from then on
/// a little at each write, as usual.
pub fn fts_settle(conn: &mut SqliteConnection) -> AppResult<()> {
    let left: Count = diesel::sql_query(
        "SELECT count(*) AS n FROM articles_fts_config WHERE k = 'automerge' AND v = 0",
    )
    .get_result(conn)?;
    if left.n > 0 {
        tracing::warn!(
            "bulk work on the search index was cut short: its merge settings are restored"
        );
        fts_defaults(conn)?;
    }
    Ok(())
}

/// Text per statement of [`fts_insert_many`] at most: far below SQLite's limit on a
/// bound string (1,000,000,000 bytes), whatever the entries hold.
const FTS_BYTES_PER_STATEMENT: usize = 64 << 20;

/// Adds many articles that are not in the index yet, in as few statements as their text
/// allows (one for a seed's batch): FTS5 writes what it holds in memory to a new segment
/// at the end of every statement inside a transaction (its savepoint), so a statement
/// per few thousand rows left a large load with hundreds of small segments to merge.
/// The entries go in as one JSON array bound to the statement, read back row by row
/// with `json_each`.
pub fn fts_insert_many(
    conn: &mut SqliteConnection,
    entries: &[super::dialect::FtsEntry<'_>],
) -> AppResult<()> {
    fts_insert_within(conn, entries, FTS_BYTES_PER_STATEMENT)
}

/// [`fts_insert_many`] with at most `max_bytes` of text per statement (or one entry).
fn fts_insert_within(
    conn: &mut SqliteConnection,
    entries: &[super::dialect::FtsEntry<'_>],
    max_bytes: usize,
) -> AppResult<()> {
    let mut rest = entries;
    while !rest.is_empty() {
        let mut bytes = 0;
        let take = rest
            .iter()
            .take_while(|(_, title, summary, body)| {
                bytes += title.len() + summary.len() + body.len();
                bytes <= max_bytes
            })
            .count()
            .max(1);
        let (chunk, later) = rest.split_at(take);
        rest = later;
        let json = serde_json::to_string(chunk)
            .map_err(|e| crate::error::AppError::internal(format!("search entries: {e}")))?;
        diesel::sql_query(
            "INSERT INTO articles_fts (rowid, title, summary, body) \
             SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each(?)",
        )
        .bind::<Text, _>(json)
        .execute(conn)?;
        let ids: Vec<i32> = chunk.iter().map(|entry| entry.0).collect();
        let ids = serde_json::to_string(&ids)
            .map_err(|e| crate::error::AppError::internal(format!("search entries: {e}")))?;
        let (rows, tokens) = indexed_sizes(conn, &ids)?;
        move_totals(conn, rows, tokens)?;
    }
    Ok(())
}

/// Removes an article from the index.
pub fn fts_remove(conn: &mut SqliteConnection, id: i32) -> AppResult<()> {
    let (rows, tokens) = indexed_size_of(conn, id)?;
    if rows == 0 {
        return Ok(());
    }
    diesel::sql_query("DELETE FROM articles_fts WHERE rowid = ?")
        .bind::<Integer, _>(id)
        .execute(conn)?;
    move_totals(conn, -rows, -tokens)
}

/// Completions of a prefix searched as words ([`completions`]) at most: each becomes a
/// phrase of an `OR`, which FTS5 reads lazily, newest first.
pub const MAX_COMPLETIONS: usize = 16;

/// The words of the search index that start with `prefix`, when there are at most
/// `max`: a search for the prefix then finds exactly what a search for any of those
/// words finds. FTS5 reads a word's entries as a query needs them, newest first, but
/// gathers every entry of every word of a prefix before it returns the first match: at
/// 1,000,000 articles, 18 ms for a prefix of one word found in a third of them, about
/// 30 ms for a prefix of two common words, against microseconds for the words. Asking
/// the index's word list (`articles_fts_terms`, an fts5vocab table every connection
/// declares) for the first word from the prefix and then for each next one costs about
/// ten microseconds a word.
///
/// `None` when more than `max` words start with the prefix, or when the prefix or a
/// word holds letters that FTS5's tokenizer might fold differently from
/// [`crate::domain::search::normalize`] (the word list holds the tokenizer's forms):
/// only ASCII letters and digits and Arabic letters and digits are compared. An empty
/// list when no word starts with it.
pub fn completions(
    conn: &mut SqliteConnection,
    prefix: &str,
    max: usize,
) -> AppResult<Option<Vec<String>>> {
    if prefix.is_empty() || !prefix.chars().all(comparable) {
        return Ok(None);
    }
    if !KEPT_WORDS.with(|kept| kept.borrow().is_some()) {
        return walk_completions(conn, prefix, max);
    }
    let version = content_version(conn)?;
    let hit = KEPT_WORDS.with(|kept| {
        kept.borrow()
            .as_ref()
            .filter(|kept| kept.version == version)
            .and_then(|kept| kept.words.get(prefix))
            .filter(|(kept_max, _)| *kept_max == max)
            .map(|(_, words)| words.clone())
    });
    if let Some(words) = hit {
        return Ok(words);
    }
    let words = walk_completions(conn, prefix, max)?;
    // Kept only when no write came between the two reads of the version: then the
    // word list read was the one of that version.
    if content_version(conn)? == version {
        KEPT_WORDS.with(|kept| {
            if let Some(kept) = kept.borrow_mut().as_mut() {
                if kept.version != version || kept.words.len() >= KEPT_PREFIXES {
                    kept.words.clear();
                    kept.version = version;
                }
                kept.words.insert(prefix.to_owned(), (max, words.clone()));
            }
        });
    }
    Ok(words)
}

/// Letters [`completions`] compares: ASCII letters and digits, Arabic letters and
/// digits.
fn comparable(c: char) -> bool {
    c.is_ascii_lowercase()
        || c.is_ascii_digit()
        || ('\u{0620}'..='\u{064A}').contains(&c)
        || ('\u{0660}'..='\u{0669}').contains(&c)
        || ('\u{0671}'..='\u{06D3}').contains(&c)
}

/// Prefixes whose completions a reader thread keeps at most; all are dropped when full,
/// and whenever the content version moves on.
const KEPT_PREFIXES: usize = 4_096;

/// A reader's completions, valid for one content version: prefix → (the `max` asked
/// for, the answer).
#[derive(Default)]
struct KeptWords {
    version: i64,
    words: std::collections::HashMap<String, (usize, Option<Vec<String>>)>,
}

thread_local! {
    /// Set on threads that own one connection for their whole life ([`keep_completions`]).
    static KEPT_WORDS: std::cell::RefCell<Option<KeptWords>> =
        const { std::cell::RefCell::new(None) };
}

/// Lets [`completions`] keep its answers on this thread, for the content version they
/// were read at: for a reader thread that owns one connection for its whole life
/// (answers kept per thread are then kept per connection, so per database). At a
/// million articles the word list's look-ups were a tenth of a search's CPU, asked
/// again for every page of the same words; the version (`content_state`, bumped by
/// every content write in its own transaction, as the ranking's kept counts use it)
/// says when the list may have changed.
pub fn keep_completions() {
    KEPT_WORDS.with(|kept| *kept.borrow_mut() = Some(KeptWords::default()));
}

/// The content version as this connection sees it now.
fn content_version(conn: &mut SqliteConnection) -> AppResult<i64> {
    use crate::schema::content_state;
    Ok(content_state::table
        .find(1)
        .select(content_state::version)
        .get_result::<i64>(conn)
        .optional()?
        .unwrap_or(0))
}

/// [`completions`], read from the index's word list.
fn walk_completions(
    conn: &mut SqliteConnection,
    prefix: &str,
    max: usize,
) -> AppResult<Option<Vec<String>>> {
    // Declared to Diesel so that the look-up is kept prepared (raw SQL never is).
    diesel::table! {
        temp.articles_fts_terms (term) {
            term -> Text,
        }
    }
    let first_from = |conn: &mut SqliteConnection, from: &str| -> AppResult<Option<String>> {
        let word: Option<String> = articles_fts_terms::table
            .filter(articles_fts_terms::term.ge(from))
            .select(articles_fts_terms::term)
            .limit(1)
            .get_result(conn)
            .optional()?;
        Ok(word.filter(|t| t.starts_with(prefix)))
    };
    let mut words: Vec<String> = Vec::new();
    let mut from = prefix.to_owned();
    while let Some(word) = first_from(conn, &from)? {
        if words.len() == max || !word.chars().all(comparable) {
            return Ok(None);
        }
        // U+0001 is a separator to the tokenizer, never part of a word: the first word
        // after `word` in the list's order is at or after `word` followed by it.
        from = format!("{word}\u{1}");
        words.push(word);
    }
    Ok(Some(words))
}

/// The one word of the search index that starts with `prefix`, when exactly one does
/// (see [`completions`]).
pub fn only_completion(conn: &mut SqliteConnection, prefix: &str) -> AppResult<Option<String>> {
    Ok(completions(conn, prefix, 1)?
        .filter(|words| words.len() == 1)
        .and_then(|mut words| words.pop()))
}

/// Which matches of a search to keep when there are more than asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FtsOrder {
    /// The most relevant of the newest `window` matches (ids are given in order of
    /// writing): BM25 needs every ranked row's column sizes, so ranking every match of a
    /// common word would cost time in proportion to the archive.
    Relevance { window: i64 },
    /// The most recently written (highest ids), for searches sorted newest first.
    Newest,
    /// The first written (lowest ids), for searches sorted oldest first.
    Oldest,
}

/// Which articles a search may see: matches outside it are never ranked, counted or
/// returned, so nothing about them reaches the caller, not even through the relative
/// ranks of what it can see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FtsVisibility {
    /// Anonymous readers: published articles whose `published_at` has come by this time.
    Public(chrono::NaiveDateTime),
    /// A writer: every published or scheduled article, and their own drafts.
    Writer(i32),
    /// Editors and admins: everything.
    All,
}

/// The SQL of a search (see [`super::dialect::fts_match`], which binds and runs it):
/// `(article id, relevance)` of FTS5 matches, BM25 weighing the title ten times and the
/// summary five times the body. Parameters: the MATCH expression, the visibility's
/// values, the window (relevance order only) and the limit.
/// The ranking function's `hidden_key` (see [`super::fts_rank`]): how many published
/// stories are scheduled for later and how many stories are past their `unpublish_at`,
/// as of the time bound (twice after a published story's status). Within one content
/// version the stories readers cannot see change only as those two counts do, so the
/// function reads them again only then. Both counts read a short range of an index.
const HIDDEN_KEY: &str = "(SELECT count(*) FROM articles WHERE status = ? AND published_at > ?) \
     || ':' || (SELECT count(*) FROM articles WHERE unpublish_at <= ?)";

pub fn fts_sql(visible: FtsVisibility, order: FtsOrder) -> String {
    // The hidden articles are few (drafts and scheduled stories) and found through
    // `articles_published_idx`; SQLite builds their set once per query, so each match
    // costs a look-up in a small set instead of a row of `articles` (a correlated
    // EXISTS per match cost 60% more CPU per search on the benchmark corpus).
    // Embargoed and trashed articles are fewer still, each found through its partial
    // index (`articles_unpublish_idx`, `articles_trash_idx`). A published story without
    // a publication time (only ever written by hand) is hidden as lists hide it: an
    // anonymous search keeps what this statement returns without checking again. Each kind is its own arm
    // of the compound, each arm one index range: written as one `status = ? OR (status
    // = ? AND …)`, or as drafts `AND (created_by IS NULL OR created_by != ?)`, SQLite,
    // told by its statistics that nearly every article has the same status, scanned a
    // whole index instead (125 ms per anonymous search at 1,000,000 articles).
    let visibility = match visible {
        FtsVisibility::Public(_) => {
            " AND rowid NOT IN (SELECT id FROM articles WHERE status = ? \
             UNION ALL SELECT id FROM articles WHERE status = ? AND published_at > ? \
             UNION ALL SELECT id FROM articles WHERE status = ? AND published_at IS NULL \
             UNION ALL SELECT id FROM articles WHERE unpublish_at <= ? \
             UNION ALL SELECT id FROM articles WHERE deleted_at IS NOT NULL)"
        }
        FtsVisibility::Writer(_) => {
            " AND rowid NOT IN (SELECT id FROM articles WHERE status = ? \
             EXCEPT SELECT id FROM articles WHERE created_by = ? AND status = ? \
             UNION ALL SELECT id FROM articles WHERE deleted_at IS NOT NULL)"
        }
        FtsVisibility::All => {
            " AND rowid NOT IN (SELECT id FROM articles WHERE deleted_at IS NOT NULL)"
        }
    };
    // BM25 as FTS5's `bm25()` computes it, with each phrase's article count kept
    // between searches (`fts_rank`), over what readers can see only (the index's
    // totals, less the rows readers cannot see, which the function reads as of the time
    // bound last), whoever searches. The expression is bound twice, for the ranking
    // (which names the phrases by it) and for the match.
    let matches = format!(
        "SELECT rowid AS id, {rank}(articles_fts, \
         (SELECT version FROM content_state WHERE id = 1), ?, \
         (SELECT rows FROM search_totals WHERE id = 1), \
         (SELECT tokens FROM search_totals WHERE id = 1), \
         NULL, {HIDDEN_KEY}, ?, 10.0, 5.0, 1.0) AS score \
         FROM articles_fts WHERE articles_fts MATCH ?{visibility}",
        rank = super::fts_rank::FUNCTION
    );
    // Ranked by relevance, the statement returns the whole window, and the caller keeps
    // the best ([`best_first`]): SQLite's `ORDER BY score DESC LIMIT ?` kept them in a
    // temporary B-tree, an insert and often a delete for each ranked row (13% of a
    // distinct search's CPU at a million articles).
    match order {
        FtsOrder::Relevance { .. } | FtsOrder::Newest => {
            format!("{matches} ORDER BY rowid DESC LIMIT ?")
        }
        FtsOrder::Oldest => format!("{matches} ORDER BY rowid ASC LIMIT ?"),
    }
}

/// The `limit` best of ranked `hits`, best first; of equal scores the newer (higher
/// id) first, as PostgreSQL's `ORDER BY score DESC, id DESC` keeps them.
pub fn best_first(mut hits: Vec<(i32, f64)>, limit: usize) -> Vec<(i32, f64)> {
    let order = |a: &(i32, f64), b: &(i32, f64)| b.1.total_cmp(&a.1).then(b.0.cmp(&a.0));
    if hits.len() > limit {
        hits.select_nth_unstable_by(limit, order);
        hits.truncate(limit);
    }
    hits.sort_unstable_by(order);
    hits
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel_migrations::MigrationHarness;

    /// Runs `sql` on a raw connection, panicking on failure.
    unsafe fn exec(db: *mut ffi::sqlite3, sql: &std::ffi::CStr) {
        let rc = unsafe {
            ffi::sqlite3_exec(
                db,
                sql.as_ptr(),
                None,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        };
        assert_eq!(rc, ffi::SQLITE_OK, "{sql:?}");
    }

    #[test]
    fn a_kept_statement_with_a_bound_limit_is_not_prepared_again_at_each_run() {
        // Any connection opened after the first `establish` gets `on_open`, this raw
        // one too (Diesel would hide the statement's counters).
        drop(establish(":memory:").unwrap());
        // SAFETY: a private in-memory connection and one statement, each closed here.
        unsafe {
            let mut db = std::ptr::null_mut();
            assert_eq!(
                ffi::sqlite3_open(c":memory:".as_ptr(), &mut db),
                ffi::SQLITE_OK
            );
            exec(
                db,
                c"CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER NOT NULL);
                  CREATE INDEX t_v ON t (v);
                  WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50)
                  INSERT INTO t (v) SELECT i FROM n;
                  ANALYZE;",
            );
            let mut stmt = std::ptr::null_mut();
            let sql = c"SELECT id FROM t WHERE v > ? ORDER BY v LIMIT ?";
            let rc = ffi::sqlite3_prepare_v2(db, sql.as_ptr(), -1, &mut stmt, std::ptr::null_mut());
            assert_eq!(rc, ffi::SQLITE_OK);
            for n in 1..=5 {
                ffi::sqlite3_bind_int(stmt, 1, 40);
                ffi::sqlite3_bind_int(stmt, 2, n);
                let mut rows = 0;
                while ffi::sqlite3_step(stmt) == ffi::SQLITE_ROW {
                    assert_eq!(ffi::sqlite3_column_int(stmt, 0), 41 + rows);
                    rows += 1;
                }
                assert_eq!(rows, n, "LIMIT {n}");
                ffi::sqlite3_reset(stmt);
            }
            // Without the stability guarantee SQLite prepares it again at every run
            // after the first: 4.
            let again = ffi::sqlite3_stmt_status(stmt, ffi::SQLITE_STMTSTATUS_REPREPARE, 0);
            ffi::sqlite3_finalize(stmt);
            ffi::sqlite3_close(db);
            assert_eq!(again, 0);
        }
    }

    /// The bundled SQLite is compiled as `.cargo/config.toml` asks: no locks around a
    /// connection, no counted allocations, a page cache per connection. A build that
    /// lost the settings (the file moved, `LIBSQLITE3_FLAGS` overridden) still works,
    /// with every reader and the writer meeting at global mutexes again.
    #[test]
    fn sqlite_is_built_for_one_connection_per_thread() {
        let mut conn = establish(":memory:").unwrap();
        #[derive(QueryableByName)]
        struct CompileOption {
            #[diesel(sql_type = Text)]
            compile_options: String,
        }
        let options: Vec<String> = diesel::sql_query("PRAGMA compile_options")
            .load::<CompileOption>(&mut conn)
            .unwrap()
            .into_iter()
            .map(|o| o.compile_options)
            .collect();
        assert!(options.iter().any(|o| o == "THREADSAFE=2"), "{options:?}");
        assert!(
            options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"),
            "{options:?}"
        );
        assert!(
            !options.iter().any(|o| o == "ENABLE_MEMORY_MANAGEMENT"),
            "{options:?}"
        );
        // SAFETY: reads a constant of the library.
        assert_eq!(unsafe { ffi::sqlite3_threadsafe() }, 2);
    }

    #[test]
    fn bulk_search_entries_split_by_text_all_go_in() {
        let mut conn = establish(":memory:").unwrap();
        conn.run_pending_migrations(crate::db::MIGRATIONS).unwrap();
        let bodies: Vec<String> = (0..7).map(|i| format!("harbour story {i}")).collect();
        let mut entries: Vec<super::super::dialect::FtsEntry<'_>> = bodies
            .iter()
            .enumerate()
            .map(|(i, b)| (i as i32 + 1, "title", "", b.as_str()))
            .collect();
        // One entry larger than a statement's share still goes in, alone.
        let long = "harbour ".repeat(40);
        entries.push((8, "long", "", &long));
        fts_insert_within(&mut conn, &entries, 40).unwrap();
        #[derive(QueryableByName)]
        struct Hit {
            #[diesel(sql_type = Integer)]
            rowid: i32,
        }
        let hits: Vec<Hit> = diesel::sql_query(
            "SELECT rowid FROM articles_fts WHERE articles_fts MATCH 'harbour' ORDER BY rowid",
        )
        .load(&mut conn)
        .unwrap();
        assert_eq!(
            hits.iter().map(|h| h.rowid).collect::<Vec<_>>(),
            (1..=8).collect::<Vec<_>>()
        );
        let hits: Vec<Hit> = diesel::sql_query(
            "SELECT rowid FROM articles_fts WHERE articles_fts MATCH '\"story 4\"'",
        )
        .load(&mut conn)
        .unwrap();
        assert_eq!(hits.iter().map(|h| h.rowid).collect::<Vec<_>>(), [5]);
    }

    #[test]
    fn the_kept_totals_follow_each_entry_in_and_out() {
        let mut conn = establish(":memory:").unwrap();
        conn.run_pending_migrations(crate::db::MIGRATIONS).unwrap();
        #[derive(QueryableByName, Debug, PartialEq)]
        struct Totals {
            #[diesel(sql_type = BigInt)]
            rows: i64,
            #[diesel(sql_type = BigInt)]
            tokens: i64,
        }
        let kept = |conn: &mut SqliteConnection| -> Totals {
            diesel::sql_query("SELECT rows, tokens FROM search_totals WHERE id = 1")
                .get_result(conn)
                .unwrap()
        };
        search_totals_settle(&mut conn).unwrap();
        let start = kept(&mut conn);
        fts_insert(&mut conn, 7, "harbour rules", "", "water budget water").unwrap();
        fts_insert(&mut conn, 9, "grain", "a deal", "").unwrap();
        let both = kept(&mut conn);
        assert_eq!((both.rows, both.tokens), (start.rows + 2, start.tokens + 8));
        fts_remove(&mut conn, 7).unwrap();
        // Removing what the index does not hold moves nothing.
        fts_remove(&mut conn, 7).unwrap();
        fts_remove(&mut conn, 12).unwrap();
        let one = kept(&mut conn);
        assert_eq!((one.rows, one.tokens), (start.rows + 1, start.tokens + 3));
        recount_search_totals(&mut conn).unwrap();
        assert_eq!(kept(&mut conn), one, "as counted afresh");
    }

    #[derive(QueryableByName)]
    struct Ranked {
        #[diesel(sql_type = Integer)]
        id: i32,
        #[diesel(sql_type = diesel::sql_types::Double)]
        score: f64,
    }

    /// `(article id, BM25 score)` of every match of an FTS5 expression, by id.
    fn ranked(conn: &mut SqliteConnection, expression: &str) -> Vec<(i32, f64)> {
        let rows: Vec<Ranked> = diesel::sql_query(
            "SELECT rowid AS id, bm25(articles_fts, 10.0, 5.0, 1.0) AS score \
             FROM articles_fts WHERE articles_fts MATCH ? ORDER BY rowid",
        )
        .bind::<Text, _>(expression)
        .load(conn)
        .unwrap();
        rows.into_iter().map(|r| (r.id, r.score)).collect()
    }

    /// `(id, score)` of every match of `search` as the server ranks it.
    fn ranked_as_served(
        conn: &mut SqliteConnection,
        search: &crate::domain::search::Fts5Search,
    ) -> Vec<(i32, f64)> {
        let rows: Vec<Ranked> = diesel::sql_query(format!(
            "SELECT rowid AS id, {}(articles_fts, \
             (SELECT version FROM content_state WHERE id = 1), ?, NULL, NULL, NULL, NULL, \
             NULL, 10.0, 5.0, 1.0) AS score \
             FROM articles_fts WHERE articles_fts MATCH ? ORDER BY rowid",
            crate::db::fts_rank::FUNCTION
        ))
        .bind::<Text, _>(&search.names)
        .bind::<Text, _>(&search.expression)
        .load(conn)
        .unwrap();
        rows.into_iter().map(|r| (r.id, r.score)).collect()
    }

    #[test]
    fn the_best_kept_in_rust_are_those_sqlite_and_postgresql_order_by_keeps() {
        #[derive(QueryableByName)]
        struct Hit {
            #[diesel(sql_type = Integer)]
            id: i32,
            #[diesel(sql_type = diesel::sql_types::Double)]
            score: f64,
        }
        let mut conn = establish(":memory:").unwrap();
        // 600 hits, many of equal score (as stories of like length and words have), in
        // the order a ranked window returns them: newest first.
        conn.batch_execute(
            "CREATE TABLE hits (id INTEGER PRIMARY KEY, score REAL NOT NULL);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 600)
             INSERT INTO hits SELECT i, ((i * 7919) % 13) / 4.0 FROM n;",
        )
        .unwrap();
        let window: Vec<(i32, f64)> =
            diesel::sql_query("SELECT id, score FROM hits ORDER BY id DESC")
                .load::<Hit>(&mut conn)
                .unwrap()
                .into_iter()
                .map(|h| (h.id, h.score))
                .collect();
        for limit in [0, 1, 45, 46, 47, 300, 599, 600, 1_000] {
            let sql =
                format!("SELECT id, score FROM hits ORDER BY score DESC, id DESC LIMIT {limit}");
            let expected: Vec<(i32, f64)> = diesel::sql_query(sql)
                .load::<Hit>(&mut conn)
                .unwrap()
                .into_iter()
                .map(|h| (h.id, h.score))
                .collect();
            assert_eq!(best_first(window.clone(), limit), expected, "limit {limit}");
        }
    }

    #[test]
    fn a_prefix_with_one_word_in_the_index_is_that_word() {
        let mut conn = establish(":memory:").unwrap();
        conn.run_pending_migrations(crate::db::MIGRATIONS).unwrap();
        ConnectionSetup::apply(&mut conn).unwrap();
        let texts = [
            "ceasefire talks",
            "talk show",
            "harbour fees",
            "harbours ceasefire",
            "ضريبه المناخ",
            "cafe con leche",
            "abcжd",
        ];
        let entries: Vec<super::super::dialect::FtsEntry<'_>> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| (i as i32 + 1, *t, "", "ceasefire"))
            .collect();
        fts_insert_within(&mut conn, &entries, 1 << 20).unwrap();
        let only = |conn: &mut SqliteConnection, p: &str| only_completion(conn, p).unwrap();
        assert_eq!(only(&mut conn, "ceasef").as_deref(), Some("ceasefire"));
        assert_eq!(only(&mut conn, "ceasefire").as_deref(), Some("ceasefire"));
        assert_eq!(only(&mut conn, "harbours").as_deref(), Some("harbours"));
        assert_eq!(only(&mut conn, "المنا").as_deref(), Some("المناخ"));
        assert_eq!(only(&mut conn, "talk"), None, "talk and talks");
        assert_eq!(only(&mut conn, "harb"), None, "harbour and harbours");
        assert_eq!(only(&mut conn, "zebra"), None, "no word");
        assert_eq!(only(&mut conn, "ca\u{f1}"), None, "not compared");
        assert_eq!(only(&mut conn, "abc"), None, "a word not compared");
        assert_eq!(only(&mut conn, ""), None);

        // The whole word finds the same articles with the same BM25 scores.
        let by_prefix = ranked(&mut conn, "\"harbours\" \"ceasef\"*");
        assert_eq!(by_prefix.len(), 1);
        assert_eq!(by_prefix, ranked(&mut conn, "\"harbours\" \"ceasefire\""));
        let by_prefix = ranked(&mut conn, "\"ceasef\"*");
        assert_eq!(by_prefix.len(), 7);
        assert_eq!(by_prefix, ranked(&mut conn, "\"ceasefire\""));
    }

    #[test]
    fn every_completed_prefix_ranks_as_the_prefix_did() {
        let mut conn = establish(":memory:").unwrap();
        conn.run_pending_migrations(crate::db::MIGRATIONS).unwrap();
        ConnectionSetup::apply(&mut conn).unwrap();
        let vocabulary = [
            "pension",
            "pensions",
            "pensiones",
            "climate",
            "climatico",
            "rules",
            "ruled",
            "water",
            "budget",
            "harbour",
            "المناخ",
            "المياه",
            "الميزانيه",
            "2026",
            "20",
        ];
        // Titles of one to three words and bodies of three to eight, drawn by a fixed
        // linear congruential sequence.
        let mut state: u64 = 7;
        let mut draw = |n: usize| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as usize % n
        };
        let mut texts: Vec<(String, String)> = Vec::new();
        for _ in 0..300 {
            let (title_len, body_len) = (1 + draw(3), 3 + draw(6));
            let mut field = Vec::new();
            for len in [title_len, body_len] {
                let words: Vec<&str> = (0..len)
                    .map(|_| vocabulary[draw(vocabulary.len())])
                    .collect();
                field.push(words.join(" "));
            }
            texts.push((field[0].clone(), field[1].clone()));
        }
        let entries: Vec<super::super::dialect::FtsEntry<'_>> = texts
            .iter()
            .enumerate()
            .map(|(i, (t, b))| (i as i32 + 1, t.as_str(), "", b.as_str()))
            .collect();
        fts_insert_within(&mut conn, &entries, 1 << 20).unwrap();
        // Deleted entries stay in the index's segments until merged.
        for id in (1..=300).step_by(7) {
            fts_remove(&mut conn, id).unwrap();
        }
        let mut completed = 0;
        let mut grouped = 0;
        for word in vocabulary {
            for end in 1..=word.chars().count() {
                let prefix: String = word.chars().take(end).collect();
                if let Some(whole) = only_completion(&mut conn, &prefix).unwrap() {
                    completed += 1;
                    for before in ["", "\"water\" "] {
                        let by_prefix = ranked(&mut conn, &format!("{before}\"{prefix}\"*"));
                        assert!(!by_prefix.is_empty(), "{before}{prefix}");
                        assert_eq!(
                            by_prefix,
                            ranked(&mut conn, &format!("{before}\"{whole}\"")),
                            "{before}{prefix} -> {whole}"
                        );
                    }
                }
                // As the server searches: the prefix's words (one, or an `OR` of
                // several) ranked by `newsdesk_bm25`, against the prefix ranked by
                // FTS5's `bm25()`, to the bit.
                let Some(words) = completions(&mut conn, &prefix, MAX_COMPLETIONS).unwrap() else {
                    continue;
                };
                if words.len() > 1 {
                    grouped += 1;
                }
                for before in ["", "water "] {
                    let terms = crate::domain::search::terms(&format!("{before}{prefix}"));
                    let Some(search) = crate::domain::search::Fts5Search::completed(&terms, &words)
                    else {
                        assert!(words.is_empty());
                        continue;
                    };
                    let by_prefix = ranked(
                        &mut conn,
                        &crate::domain::search::Fts5Search::prefixed(&terms)
                            .unwrap()
                            .expression,
                    );
                    assert!(!by_prefix.is_empty(), "{before}{prefix}");
                    let ours: Vec<(i32, u64)> = ranked_as_served(&mut conn, &search)
                        .into_iter()
                        .map(|(id, score)| (id, (-score).to_bits()))
                        .collect();
                    let theirs: Vec<(i32, u64)> = by_prefix
                        .into_iter()
                        .map(|(id, score)| (id, score.to_bits()))
                        .collect();
                    assert_eq!(ours, theirs, "{before}{prefix} -> {search:?}");
                }
            }
        }
        assert!(
            grouped > 5,
            "only {grouped} prefixes had several completions"
        );
        assert!(
            completed > 20,
            "only {completed} prefixes had one completion"
        );
    }

    /// The search statement is prepared once per connection, whatever the words: they
    /// are bound, never written into its text.
    #[test]
    fn a_search_statement_is_prepared_once_for_any_words() {
        use std::sync::{Arc, Mutex};
        struct Kept(Arc<Mutex<Vec<String>>>);
        impl diesel::connection::Instrumentation for Kept {
            fn on_connection_event(&mut self, event: diesel::connection::InstrumentationEvent<'_>) {
                if let diesel::connection::InstrumentationEvent::CacheQuery { sql, .. } = event {
                    self.0.lock().unwrap().push(sql.to_owned());
                }
            }
        }
        let mut conn = establish(":memory:").unwrap();
        conn.run_pending_migrations(crate::db::MIGRATIONS).unwrap();
        ConnectionSetup::apply(&mut conn).unwrap();
        let entries: Vec<super::super::dialect::FtsEntry<'_>> = vec![
            (1, "Harbour fees rise", "", "ferry"),
            (2, "Ferry strike ends", "", "harbour"),
        ];
        fts_insert_within(&mut conn, &entries, 1 << 20).unwrap();
        let kept = Arc::new(Mutex::new(Vec::new()));
        conn.set_instrumentation(Kept(kept.clone()));
        let mut conn = crate::db::DbConn::Sqlite(conn);
        let now = chrono::Utc::now().naive_utc();
        let mut search = |words: &[&str], order: FtsOrder| {
            let terms: Vec<String> = words.iter().map(|w| w.to_string()).collect();
            let hits = super::super::dialect::fts_match(
                &mut conn,
                &terms,
                FtsVisibility::Public(now),
                order,
                10,
            )
            .unwrap();
            let mut ids: Vec<i32> = hits.into_iter().map(|(id, _)| id).collect();
            ids.sort_unstable();
            ids
        };
        let relevance = FtsOrder::Relevance { window: 100 };
        assert_eq!(search(&["harbour"], relevance), [1, 2]);
        assert_eq!(search(&["strike"], relevance), [2]);
        assert_eq!(search(&["fees", "rise"], relevance), [1]);
        assert_eq!(search(&["ferry"], FtsOrder::Newest), [1, 2]);
        assert_eq!(search(&["ends"], FtsOrder::Newest), [2]);
        assert_eq!(search(&["harbour"], FtsOrder::Oldest), [1, 2]);
        assert_eq!(search(&["rise"], FtsOrder::Oldest), [1]);
        let searches: Vec<String> = kept
            .lock()
            .unwrap()
            .iter()
            .filter(|sql| sql.contains("MATCH"))
            .cloned()
            .collect();
        // Newest first, which a ranked window also is, and oldest first.
        assert_eq!(searches.len(), 2, "{searches:#?}");
    }

    #[test]
    fn ranks_count_a_scheduled_story_once_its_time_comes_without_a_write() {
        // Within one content version the stories readers cannot see change only as time
        // passes, and the ranking function keeps them until its `hidden_key` changes. A
        // story scheduled between two searches on one connection must weigh in the
        // second as it does for a connection that kept nothing.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ranks.db");
        let path = path.to_str().unwrap();
        let mut conn = establish(path).unwrap();
        conn.run_pending_migrations(crate::db::MIGRATIONS).unwrap();
        ConnectionSetup::apply(&mut conn).unwrap();
        let t0 = chrono::NaiveDate::from_ymd_opt(2030, 1, 1)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap();
        let hour = chrono::Duration::hours(1);
        for (id, when) in [(1, t0 - hour), (2, t0 - hour), (3, t0 + hour)] {
            diesel::sql_query(
                "INSERT INTO articles (id, slug, language, title, status, published_at, \
                 created_at, updated_at) VALUES (?, ?, 'en', ?, 'published', ?, ?, ?)",
            )
            .bind::<Integer, _>(id)
            .bind::<Text, _>(format!("story-{id}"))
            .bind::<Text, _>(format!("Story {id}"))
            .bind::<diesel::sql_types::Timestamp, _>(when)
            .bind::<diesel::sql_types::Timestamp, _>(t0 - hour)
            .bind::<diesel::sql_types::Timestamp, _>(t0 - hour)
            .execute(&mut conn)
            .unwrap();
        }
        let entries: Vec<super::super::dialect::FtsEntry<'_>> = vec![
            (1, "Harbour fees rise", "", "the ferry and the harbour"),
            (2, "Ferry strike ends", "", "harbour wall, harbour gate"),
            (
                3,
                "Harbour harbour plan",
                "",
                "harbour harbour harbour harbour",
            ),
        ];
        fts_insert_within(&mut conn, &entries, 1 << 20).unwrap();
        let search = |conn: &mut crate::db::DbConn, now| {
            super::super::dialect::fts_match(
                conn,
                &["harbour".to_owned()],
                FtsVisibility::Public(now),
                FtsOrder::Relevance { window: 100 },
                10,
            )
            .unwrap()
            .into_iter()
            .map(|(id, score)| (id, score.to_bits()))
            .collect::<Vec<_>>()
        };
        let mut kept = crate::db::DbConn::Sqlite(conn);
        let before = search(&mut kept, t0);
        let ids = |hits: &[(i32, u64)]| {
            let mut ids: Vec<i32> = hits.iter().map(|(id, _)| *id).collect();
            ids.sort_unstable();
            ids
        };
        assert_eq!(ids(&before), [1, 2]);
        let later = t0 + hour * 2;
        let after = search(&mut kept, later);
        let mut fresh = establish(path).unwrap();
        ConnectionSetup::apply(&mut fresh).unwrap();
        let expected = search(&mut crate::db::DbConn::Sqlite(fresh), later);
        assert_eq!(ids(&expected), [1, 2, 3]);
        assert_eq!(after, expected, "ranks from the kept hidden rows");
        // The story that came due moved the others' ranks: kept rows would show.
        let score_of = |hits: &[(i32, u64)], id: i32| hits.iter().find(|h| h.0 == id).map(|h| h.1);
        assert_ne!(score_of(&before, 1), score_of(&after, 1));
    }
}
