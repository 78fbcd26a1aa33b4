//! Storage: connection pools, embedded migrations, and the way work reaches the database.
//!
//! All queries live with their resource (`domain::*`) and take a `&mut DbConn`. This
//! module decides where that work runs: never on an async executor thread, reads on a
//! pool of reader connections, writes on the single writer connection inside an
//! immediate transaction, so SQLite's one-writer rule is kept in Rust instead of in
//! retries. On PostgreSQL a pool of connections serves both, and writes take one row
//! lock first, so the same rule holds across instances. What is specific to a backend is
//! in [`sqlite`] and [`postgres`], and [`dialect`] puts their differing statements side
//! by side.

pub mod columns;
pub mod copy;
pub mod dialect;
pub mod file;
pub mod freshness;
pub mod fts_rank;
pub mod id_set;
pub mod kept;
pub mod postgres;
pub mod readers;
pub mod sqlite;
pub mod wal_file;
pub mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use diesel::Connection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::config::Database;
use crate::error::{AppError, AppResult};
use crate::workers::Workers;

/// The connection every query function takes: one arm per backend. Queries are written
/// once in Diesel's DSL over the types both backends share; the few statements that
/// differ by dialect match on the arm (see [`dialect`]).
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    /// A PostgreSQL connection (`DATABASE_URL=postgres://…`).
    Postgres(diesel::PgConnection),
    /// A SQLite connection (a file path).
    Sqlite(diesel::SqliteConnection),
}

/// The backend of [`DbConn`], for boxed queries.
pub type DbBackend = MultiBackend;

/// Runs one Diesel statement on whichever connection `conn` holds: for the statements
/// the derived backend cannot carry (multi-row inserts, `UNION ALL`, `RETURNING` a whole
/// row). The statement is written once and type-checked against both backends.
#[macro_export]
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConn::Sqlite($c) => $body,
            $crate::db::DbConn::Postgres($c) => $body,
        }
    };
}

/// Inserts the rows of `rows` (a `Vec` of value tuples) into `table`, inside the
/// caller's transaction. On PostgreSQL several in statements of up to 500 rows, each one
/// round trip; one alone, and every row on SQLite, in a one-row statement the connection
/// keeps prepared (a multi-row `INSERT` is parsed again for every length; SQLite has no
/// round trips to save).
#[macro_export]
macro_rules! insert_rows {
    ($conn:expr, $table:ident, $rows:expr) => {{
        let rows = $rows;
        match &mut *$conn {
            $crate::db::DbConn::Postgres(c) if rows.len() > 1 => {
                for chunk in rows.chunks(500) {
                    diesel::insert_into($table::table)
                        .values(chunk)
                        .execute(c)?;
                }
            }
            conn => {
                for row in rows {
                    $crate::on_backend!(&mut *conn, |c| diesel::insert_into($table::table)
                        .values(row)
                        .execute(c)?);
                }
            }
        }
    }};
}

/// The SQLite migrations compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");
/// The PostgreSQL migrations compiled into the binary: the same tables, in the other
/// dialect.
pub const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations_pg");

/// How many reader connections (and reader threads) a process keeps: enough to keep
/// two cores busy while one read waits on the disk.
const READERS: usize = 4;
/// Page cache of each reader connection.
const READER_CACHE_KIB: u32 = 1024;

/// Something went wrong opening the database.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot open database {path}: {reason} (check DATABASE_URL)")]
    Open { path: String, reason: String },
    #[error("cannot apply migrations to {path}: {reason}")]
    Migrate { path: String, reason: String },
}

pub use freshness::{ArticleFacts, ContentChange, Scope, Written};

/// Hook run after every committed content write, before the write's response is sent,
/// and for every content write another instance reports (PostgreSQL).
pub type AfterCommit = Arc<dyn Fn(ContentChange) + Send + Sync>;

/// Handle to the database: cheap to clone, shared by every worker.
#[derive(Clone)]
pub struct Db {
    backend: Backend,
    after_commit: Arc<OnceLock<AfterCommit>>,
}

/// What each backend keeps.
#[derive(Clone)]
enum Backend {
    /// Reader threads, one writer thread with group commit, and a checkpointer.
    Sqlite {
        readers: readers::ReadPool,
        writes: writer::WriteQueue,
        path: PathBuf,
        /// WAL frames not yet copied into the database file (kept by the checkpointer).
        checkpoint_backlog: Arc<std::sync::atomic::AtomicI64>,
        /// The file as opened, to notice it being moved or removed.
        file: file::DbFile,
    },
    /// A pool of connections, used by reader threads and writer threads.
    Postgres {
        pool: readers::ReadPool,
        writes: readers::ReadPool,
        shown: String,
        instance: Arc<str>,
        /// For work that needs a connection of its own, outside any transaction.
        url: crate::config::Secret,
    },
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("database", &self.describe())
            .finish()
    }
}

impl Db {
    /// Opens the database named by `database` and applies pending migrations; the
    /// threads that serve it are owned by `workers`.
    pub fn open(
        database: &Database,
        pool_size: usize,
        workers: &Workers,
    ) -> Result<Self, OpenError> {
        let after_commit = Arc::new(OnceLock::new());
        let backend = match database {
            Database::Sqlite(path) => Self::open_sqlite(path, &after_commit, workers)?,
            Database::Postgres(url) => {
                let shown = database.to_string();
                let (pool, writes, instance) =
                    postgres::open(url.expose(), &shown, pool_size, &after_commit, workers)?;
                Backend::Postgres {
                    pool,
                    writes,
                    shown,
                    instance,
                    url: url.clone(),
                }
            }
        };
        Ok(Self {
            backend,
            after_commit,
        })
    }

    /// Opens (creating if needed) a SQLite database file.
    pub fn open_file(path: &Path, workers: &Workers) -> Result<Self, OpenError> {
        Self::open(&Database::Sqlite(path.to_owned()), 2, workers)
    }

    fn open_sqlite(
        path: &Path,
        after_commit: &Arc<OnceLock<AfterCommit>>,
        workers: &Workers,
    ) -> Result<Backend, OpenError> {
        let open_err = |reason: String| OpenError::Open {
            path: path.display().to_string(),
            reason,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| open_err(e.to_string()))?;
        }
        if let Some(reason) = file::missing_beside_its_wal(path) {
            return Err(open_err(reason));
        }
        let url = path.to_string_lossy().into_owned();
        let connect = || -> Result<diesel::SqliteConnection, OpenError> {
            let mut conn = sqlite::establish(&url).map_err(|e| open_err(e.to_string()))?;
            sqlite::ConnectionSetup::apply(&mut conn).map_err(|e| open_err(e.to_string()))?;
            Ok(conn)
        };
        let mut conn = connect()?;
        conn.run_pending_migrations(MIGRATIONS)
            .map_err(|e| OpenError::Migrate {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
        sqlite::optimize(&mut conn).map_err(|e| open_err(e.to_string()))?;
        sqlite::fts_settle(&mut conn).map_err(|e| open_err(e.to_string()))?;
        sqlite::search_totals_settle(&mut conn).map_err(|e| open_err(e.to_string()))?;
        sqlite::manual_checkpoints(&mut conn).map_err(|e| open_err(e.to_string()))?;
        let mut checkpointer = connect()?;
        sqlite::ConnectionSetup::cache_kib(&mut checkpointer, 256)
            .map_err(|e| open_err(e.to_string()))?;
        let checkpoint_backlog = Arc::new(std::sync::atomic::AtomicI64::new(0));
        let wal_restart = sqlite::WalRestart::default();
        sqlite::start_checkpointer(
            checkpointer,
            workers,
            checkpoint_backlog.clone(),
            wal_restart.clone(),
        )
        .map_err(|e| open_err(e.to_string()))?;
        let reader_connections = (0..READERS)
            .map(|_| {
                let mut reader = connect()?;
                sqlite::ConnectionSetup::cache_kib(&mut reader, READER_CACHE_KIB)
                    .map_err(|e| open_err(e.to_string()))?;
                Ok(DbConn::Sqlite(reader))
            })
            .collect::<Result<Vec<_>, OpenError>>()?;
        let readers = readers::ReadPool::start(reader_connections, workers)
            .map_err(|e| open_err(e.to_string()))?;
        let file = file::DbFile::opened(path);
        let writes = writer::WriteQueue::start(
            DbConn::Sqlite(conn),
            after_commit.clone(),
            file.clone(),
            wal_restart,
            workers,
        )
        .map_err(|e| open_err(e.to_string()))?;
        Ok(Backend::Sqlite {
            readers,
            writes,
            path: path.to_owned(),
            checkpoint_backlog,
            file,
        })
    }

    /// Registers the hook that runs after each committed content write (caches).
    pub fn with_after_commit(self, hook: AfterCommit) -> Self {
        let _ = self.after_commit.set(hook);
        self
    }

    /// The database for people: the SQLite file, or the PostgreSQL URL without its
    /// password.
    pub fn describe(&self) -> String {
        match &self.backend {
            Backend::Sqlite { path, .. } => path.display().to_string(),
            Backend::Postgres { shown, .. } => shown.clone(),
        }
    }

    /// The database file, on SQLite.
    pub fn path(&self) -> Option<&Path> {
        match &self.backend {
            Backend::Sqlite { path, .. } => Some(path),
            Backend::Postgres { .. } => None,
        }
    }

    /// On SQLite, a writing connection of its own for bulk work (the seed, an import),
    /// with a page cache of `cache_kib` KiB. Bulk work writes in plain transactions on
    /// it ([`sqlite::write_transaction`], bumping the freshness counter in each), not
    /// through the writer: there every job runs inside a savepoint, and for a batch of
    /// thousands of rows SQLite's copies of every page the savepoint changes (and the
    /// search index's flush at each savepoint) took most of the time. SQLite's lock
    /// still puts these transactions in turn with the server's. `None` on PostgreSQL.
    pub fn bulk_writer(&self, cache_kib: u32) -> AppResult<Option<DbConn>> {
        let Some(path) = self.path() else {
            return Ok(None);
        };
        let mut conn = sqlite::establish(&path.to_string_lossy())
            .map_err(|e| AppError::internal(format!("cannot open the database: {e}")))?;
        sqlite::ConnectionSetup::apply(&mut conn)?;
        sqlite::ConnectionSetup::cache_kib(&mut conn, cache_kib)?;
        Ok(Some(DbConn::Sqlite(conn)))
    }

    /// Brings the planner's statistics up to date after a bulk load (a seed; an import
    /// on PostgreSQL). On PostgreSQL also a `VACUUM`, which marks the loaded pages all-visible:
    /// until then (or until autovacuum gets to them, which may take a while) index-only
    /// scans over the newest rows read the table too, and the first reads of each page
    /// write its hint bits (measured at 1,000,000 articles: a child sitemap of the newest
    /// fifth of the archive, read cold, took 11–13 ms at the median before, 8.4–8.6 ms
    /// after, like the rest).
    pub fn settle_after_bulk_load(&self) -> AppResult<()> {
        match &self.backend {
            Backend::Sqlite { .. } => self.write_blocking(dialect::analyze),
            Backend::Postgres { url, .. } => {
                let mut conn =
                    postgres::connect_plain(url.expose()).map_err(AppError::Unavailable)?;
                postgres::vacuum_analyze(&mut conn)
            }
        }
    }

    /// True on PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        matches!(self.backend, Backend::Postgres { .. })
    }

    /// `None` while the path still names the opened database file; otherwise why writes
    /// are refused. Always `None` on PostgreSQL, whose files are the server's.
    pub fn moved(&self) -> Option<String> {
        match &self.backend {
            Backend::Sqlite { file, .. } => file.moved(),
            Backend::Postgres { .. } => None,
        }
    }

    /// WAL frames (pages) committed but not yet copied into the database file (SQLite).
    pub fn checkpoint_backlog(&self) -> i64 {
        match &self.backend {
            Backend::Sqlite {
                checkpoint_backlog, ..
            } => checkpoint_backlog.load(std::sync::atomic::Ordering::Relaxed),
            Backend::Postgres { .. } => 0,
        }
    }

    fn readers(&self) -> &readers::ReadPool {
        match &self.backend {
            Backend::Sqlite { readers, .. } => readers,
            Backend::Postgres { pool, .. } => pool,
        }
    }

    /// Runs read-only work on a reader thread's connection, off the async executor.
    pub async fn read<T, F>(&self, work: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> AppResult<T> + Send + 'static,
    {
        self.readers().run(work).await
    }

    /// [`Db::read`] for callers on a blocking thread (the CLI, the cache poller).
    pub fn read_blocking<T, F>(&self, work: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> AppResult<T> + Send + 'static,
    {
        self.readers().run_blocking(work)
    }

    /// Runs work in a write transaction. On SQLite it runs on the writer thread (see
    /// [`writer`]), whose transaction holds the write lock from its first statement
    /// (`BEGIN IMMEDIATE`); on PostgreSQL on a pooled connection, whose transaction
    /// first takes the row lock every write takes (see [`postgres::write`]). Either
    /// way a check and the write that depends on it cannot be interleaved with another
    /// write, and the answer comes after the commit.
    pub async fn write<T, F>(&self, work: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> AppResult<T> + Send + 'static,
    {
        self.write_scoped(Box::new(|_| None), work).await
    }

    /// [`Db::write`] for callers on a blocking thread (the CLI, tests).
    pub fn write_blocking<T, F>(&self, work: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> AppResult<T> + Send + 'static,
    {
        self.write_scoped_blocking(Box::new(|_| None), work)
    }

    /// A domain write: like [`Db::write`], and the change the write declares
    /// ([`Written`]) bumps the freshness counter in the same transaction and reaches
    /// every cache before the answer (see [`freshness`]).
    pub async fn write_content<T, F>(&self, work: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> AppResult<Written<T>> + Send + 'static,
    {
        let written = self
            .write_scoped(Box::new(|w: &Written<T>| w.changed.clone()), work)
            .await?;
        Ok(written.value)
    }

    /// [`Db::write_content`] for a write that may run more than once: on SQLite, a group
    /// of such writes runs without a savepoint for each, and runs again, each in its
    /// own, if one of them fails (see `writer::Mode::Bare`). `work` must give the same
    /// result each time from the same database state, and touch nothing outside it; it
    /// must not read the maintained counts, which such a group writes after its last
    /// write (`counts::hold`).
    pub async fn write_content_again<T, F>(&self, work: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: Fn(&mut DbConn) -> AppResult<Written<T>> + Send + 'static,
    {
        let written = match &self.backend {
            Backend::Sqlite { writes, .. } => {
                writes
                    .run_again(Box::new(|w: &Written<T>| w.changed.clone()), work)
                    .await?
            }
            Backend::Postgres { .. } => {
                self.write_scoped(Box::new(|w: &Written<T>| w.changed.clone()), work)
                    .await?
            }
        };
        Ok(written.value)
    }

    /// [`Db::write_content`] for callers on a blocking thread.
    pub fn write_content_blocking<T, F>(&self, work: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> AppResult<Written<T>> + Send + 'static,
    {
        let written =
            self.write_scoped_blocking(Box::new(|w: &Written<T>| w.changed.clone()), work)?;
        Ok(written.value)
    }

    async fn write_scoped<T, F>(&self, scope: writer::ScopeOf<T>, work: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> AppResult<T> + Send + 'static,
    {
        match &self.backend {
            Backend::Sqlite { writes, .. } => writes.run(scope, work).await,
            Backend::Postgres {
                writes, instance, ..
            } => {
                let job =
                    postgres::write_job(instance.clone(), self.after_commit.clone(), scope, work);
                writes.run(job).await
            }
        }
    }

    fn write_scoped_blocking<T, F>(&self, scope: writer::ScopeOf<T>, work: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> AppResult<T> + Send + 'static,
    {
        match &self.backend {
            Backend::Sqlite { writes, .. } => writes.run_blocking(scope, work),
            Backend::Postgres {
                writes, instance, ..
            } => {
                let job =
                    postgres::write_job(instance.clone(), self.after_commit.clone(), scope, work);
                writes.run_blocking(job)
            }
        }
    }
}

/// Jobs waiting for a database thread and running on one, for `/metrics`.
#[derive(Debug, Default)]
pub struct Load {
    queued: std::sync::atomic::AtomicUsize,
    running: std::sync::atomic::AtomicUsize,
}

/// Marks a job running until dropped.
pub struct Running<'a>(&'a Load);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0
            .running
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

impl Load {
    fn queue(&self) {
        self.queued
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    fn unqueue(&self) {
        self.queued
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }

    fn start(&self) -> Running<'_> {
        self.unqueue();
        self.running
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Running(self)
    }

    /// Marks a job that already ran once running again.
    fn again(&self) -> Running<'_> {
        self.running
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Running(self)
    }

    fn now(&self) -> (usize, usize) {
        (
            self.queued.load(std::sync::atomic::Ordering::Relaxed),
            self.running.load(std::sync::atomic::Ordering::Relaxed),
        )
    }
}

impl Db {
    /// What the database threads are doing: (reads waiting, reads running, writes
    /// waiting, writes running).
    pub fn load(&self) -> (usize, usize, usize, usize) {
        let (rq, rr) = self.readers().load();
        let (wq, wr) = match &self.backend {
            Backend::Sqlite { writes, .. } => writes.load(),
            Backend::Postgres { writes, .. } => writes.load(),
        };
        (rq, rr, wq, wr)
    }
}

/// Runs blocking work on the runtime's blocking pool and waits for it.
pub async fn run_blocking<T, F>(work: F) -> AppResult<T>
where
    T: Send + 'static,
    F: FnOnce() -> AppResult<T> + Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| AppError::internal(format!("blocking task failed: {e}")))?
}
