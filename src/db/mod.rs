//! Storage: connection pools, embedded migrations, and the way work reaches the database.
//!
//! All queries live with their resource (`domain::*`) and take a `&mut DbConn`. This
//! module decides where that work runs: never on an async executor thread, reads on a
//! pool of reader connections, writes on the single writer connection inside an
//! immediate transaction, so SQLite's one-writer rule is kept in Rust instead of in
//! retries. Everything specific to SQLite is in [`sqlite`].

pub mod columns;
pub mod file;
pub mod freshness;
pub mod readers;
pub mod sqlite;
pub mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use diesel::Connection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::{AppError, AppResult};
use crate::workers::Workers;

/// The connection type every query function takes. One line to change for a second backend.
pub type DbConn = diesel::SqliteConnection;

/// The backend of [`DbConn`], for boxed queries.
pub type DbBackend = diesel::sqlite::Sqlite;

/// The migrations compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// How many reader connections (and reader threads) a process keeps: enough to keep
/// two cores busy while one read waits on the disk.
const READERS: usize = 4;
/// Page cache of each reader connection.
const READER_CACHE_KIB: u32 = 1024;

/// Something went wrong opening the database.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot open database {path}: {reason}")]
    Open { path: PathBuf, reason: String },
    #[error("cannot apply migrations to {path}: {reason}")]
    Migrate { path: PathBuf, reason: String },
}

pub use freshness::{ArticleFacts, ContentChange, Scope, Written};

/// Hook run after every committed content write, before the write's response is sent.
pub type AfterCommit = Arc<dyn Fn(ContentChange) + Send + Sync>;

/// Handle to the database: cheap to clone, shared by every worker.
#[derive(Clone)]
pub struct Db {
    readers: readers::ReadPool,
    writes: writer::WriteQueue,
    path: PathBuf,
    after_commit: Arc<OnceLock<AfterCommit>>,
    /// WAL frames not yet copied into the database file (kept by the checkpointer).
    checkpoint_backlog: Arc<std::sync::atomic::AtomicI64>,
    /// The file as opened, to notice it being moved or removed.
    file: file::DbFile,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("path", &self.path).finish()
    }
}

impl Db {
    /// Opens (creating if needed) the database file and applies pending migrations; the
    /// reader, writer and checkpointer threads are owned by `workers`.
    pub fn open(path: &Path, workers: &Workers) -> Result<Self, OpenError> {
        let open_err = |reason: String| OpenError::Open {
            path: path.to_owned(),
            reason,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| open_err(e.to_string()))?;
        }
        if let Some(reason) = file::missing_beside_its_wal(path) {
            return Err(open_err(reason));
        }
        let url = path.to_string_lossy().into_owned();
        let mut conn = DbConn::establish(&url).map_err(|e| open_err(e.to_string()))?;
        sqlite::ConnectionSetup::apply(&mut conn).map_err(|e| open_err(e.to_string()))?;
        conn.run_pending_migrations(MIGRATIONS)
            .map_err(|e| OpenError::Migrate {
                path: path.to_owned(),
                reason: e.to_string(),
            })?;
        sqlite::optimize(&mut conn).map_err(|e| open_err(e.to_string()))?;
        sqlite::manual_checkpoints(&mut conn).map_err(|e| open_err(e.to_string()))?;
        let mut checkpointer = DbConn::establish(&url).map_err(|e| open_err(e.to_string()))?;
        sqlite::ConnectionSetup::apply(&mut checkpointer).map_err(|e| open_err(e.to_string()))?;
        sqlite::ConnectionSetup::cache_kib(&mut checkpointer, 256)
            .map_err(|e| open_err(e.to_string()))?;
        let checkpoint_backlog = Arc::new(std::sync::atomic::AtomicI64::new(0));
        sqlite::start_checkpointer(checkpointer, workers, checkpoint_backlog.clone())
            .map_err(|e| open_err(e.to_string()))?;
        let reader_connections = (0..READERS)
            .map(|_| {
                let mut reader = DbConn::establish(&url).map_err(|e| open_err(e.to_string()))?;
                sqlite::ConnectionSetup::apply(&mut reader).map_err(|e| open_err(e.to_string()))?;
                sqlite::ConnectionSetup::cache_kib(&mut reader, READER_CACHE_KIB)
                    .map_err(|e| open_err(e.to_string()))?;
                Ok(reader)
            })
            .collect::<Result<Vec<_>, OpenError>>()?;
        let readers = readers::ReadPool::start(reader_connections, workers)
            .map_err(|e| open_err(e.to_string()))?;
        let after_commit = Arc::new(OnceLock::new());
        let file = file::DbFile::opened(path);
        let writes = writer::WriteQueue::start(conn, after_commit.clone(), file.clone(), workers)
            .map_err(|e| open_err(e.to_string()))?;
        Ok(Self {
            readers,
            writes,
            path: path.to_owned(),
            after_commit,
            checkpoint_backlog,
            file,
        })
    }

    /// Registers the hook that runs after each committed content write (caches).
    pub fn with_after_commit(self, hook: AfterCommit) -> Self {
        let _ = self.after_commit.set(hook);
        self
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `None` while the path still names the opened database file; otherwise why writes
    /// are refused.
    pub fn moved(&self) -> Option<String> {
        self.file.moved()
    }

    /// WAL frames (pages) committed but not yet copied into the database file.
    pub fn checkpoint_backlog(&self) -> i64 {
        self.checkpoint_backlog
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Runs read-only work on a reader thread's connection, off the async executor.
    pub async fn read<T, F>(&self, work: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> AppResult<T> + Send + 'static,
    {
        self.readers.run(work).await
    }

    /// Runs work in a write transaction on the writer thread (see [`writer`]). The
    /// transaction holds SQLite's write lock from its first statement (`BEGIN
    /// IMMEDIATE`), so a check and the write that depends on it cannot be interleaved
    /// with another write. The answer comes after the commit.
    pub async fn write<T, F>(&self, work: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> AppResult<T> + Send + 'static,
    {
        self.writes.run(Box::new(|_| None), work).await
    }

    /// [`Db::write`] for callers on a blocking thread (the CLI, tests).
    pub fn write_blocking<T, F>(&self, work: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> AppResult<T> + Send + 'static,
    {
        self.writes.run_blocking(Box::new(|_| None), work)
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
            .writes
            .run(Box::new(|w: &Written<T>| w.changed.clone()), work)
            .await?;
        Ok(written.value)
    }

    /// [`Db::write_content`] for callers on a blocking thread.
    pub fn write_content_blocking<T, F>(&self, work: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> AppResult<Written<T>> + Send + 'static,
    {
        let written = self
            .writes
            .run_blocking(Box::new(|w: &Written<T>| w.changed.clone()), work)?;
        Ok(written.value)
    }

    /// [`Db::read`] for callers on a blocking thread (the CLI, the cache poller).
    pub fn read_blocking<T, F>(&self, work: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> AppResult<T> + Send + 'static,
    {
        self.readers.run_blocking(work)
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
