//! Storage: connection pools, embedded migrations, and the way work reaches the database.
//!
//! All queries live with their resource (`domain::*`) and take a `&mut DbConn`. This
//! module decides where that work runs: never on an async executor thread, reads on a
//! pool of reader connections, writes on the single writer connection inside an
//! immediate transaction, so SQLite's one-writer rule is kept in Rust instead of in
//! retries. Everything specific to SQLite is in [`sqlite`].

pub mod sqlite;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use diesel::r2d2::{ConnectionManager, Pool};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::{AppError, AppResult};

/// The connection type every query function takes. One line to change for a second backend.
pub type DbConn = diesel::SqliteConnection;

/// The backend of [`DbConn`], for boxed queries.
pub type DbBackend = diesel::sqlite::Sqlite;

/// A pool of [`DbConn`].
pub type DbPool = Pool<ConnectionManager<DbConn>>;

/// The migrations compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// How many reader connections a server keeps.
const READER_POOL_SIZE: u32 = 8;

/// Something went wrong opening the database.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot open database {path}: {reason}")]
    Open { path: PathBuf, reason: String },
    #[error("cannot apply migrations to {path}: {reason}")]
    Migrate { path: PathBuf, reason: String },
}

/// Hook run after every committed write, before the write's response is sent.
pub type AfterCommit = Arc<dyn Fn() + Send + Sync>;

/// Handle to the database: cheap to clone, shared by every worker.
#[derive(Clone)]
pub struct Db {
    readers: DbPool,
    writer: DbPool,
    path: PathBuf,
    after_commit: Option<AfterCommit>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("path", &self.path).finish()
    }
}

impl Db {
    /// Opens (creating if needed) the database file and applies pending migrations.
    pub fn open(path: &Path) -> Result<Self, OpenError> {
        let open_err = |reason: String| OpenError::Open {
            path: path.to_owned(),
            reason,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| open_err(e.to_string()))?;
        }
        let url = path.to_string_lossy().into_owned();
        let writer = build_pool(&url, 1).map_err(open_err)?;
        {
            let mut conn = writer.get().map_err(|e| open_err(e.to_string()))?;
            conn.run_pending_migrations(MIGRATIONS)
                .map_err(|e| OpenError::Migrate {
                    path: path.to_owned(),
                    reason: e.to_string(),
                })?;
        }
        let readers = build_pool(&url, READER_POOL_SIZE).map_err(open_err)?;
        Ok(Self {
            readers,
            writer,
            path: path.to_owned(),
            after_commit: None,
        })
    }

    /// Registers the hook that runs after each committed write (cache invalidation).
    pub fn with_after_commit(mut self, hook: AfterCommit) -> Self {
        self.after_commit = Some(hook);
        self
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs read-only work on a reader connection, off the async executor.
    pub async fn read<T, F>(&self, work: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> AppResult<T> + Send + 'static,
    {
        let pool = self.readers.clone();
        run_blocking(move || {
            let mut conn = pool.get()?;
            work(&mut conn)
        })
        .await
    }

    /// Runs work in one write transaction on the writer connection, off the executor.
    ///
    /// The transaction starts with `BEGIN IMMEDIATE`, so it holds SQLite's write lock
    /// from its first statement: a check and the write that depends on it cannot be
    /// interleaved with another writer's.
    pub async fn write<T, F>(&self, work: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> AppResult<T> + Send + 'static,
    {
        let db = self.clone();
        run_blocking(move || db.write_blocking(work)).await
    }

    /// [`Db::write`] for callers that are already on a blocking thread (the CLI).
    pub fn write_blocking<T, F>(&self, work: F) -> AppResult<T>
    where
        F: FnOnce(&mut DbConn) -> AppResult<T>,
    {
        let mut conn = self.writer.get()?;
        let result = sqlite::write_transaction(&mut conn, work);
        if result.is_ok()
            && let Some(hook) = &self.after_commit
        {
            hook();
        }
        result
    }

    /// [`Db::read`] for callers that are already on a blocking thread (the CLI).
    pub fn read_blocking<T, F>(&self, work: F) -> AppResult<T>
    where
        F: FnOnce(&mut DbConn) -> AppResult<T>,
    {
        let mut conn = self.readers.get()?;
        work(&mut conn)
    }
}

fn build_pool(url: &str, size: u32) -> Result<DbPool, String> {
    Pool::builder()
        .max_size(size)
        .min_idle(Some(1))
        .connection_timeout(Duration::from_secs(10))
        .connection_customizer(Box::new(sqlite::ConnectionSetup))
        .build(ConnectionManager::<DbConn>::new(url))
        .map_err(|e| e.to_string())
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
