//! What every request handler shares: configuration, database, keys.

use std::sync::Arc;

use super::cache::{CAPACITY_BYTES, RepresentationCache};
use super::throttle::Throttles;
use crate::auth::token::TokenKeys;
use crate::config::Config;
use crate::db::{Db, OpenError};
use crate::domain::paging::CursorCodec;
use crate::domain::settings;
use crate::domain::views::{self, ViewCounter};
use crate::error::{AppError, AppResult};
use crate::live::Hub;

/// How often counted views are written.
pub const VIEWS_FLUSH_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// Shared state of a running server, cloned cheaply into every worker.
#[derive(Clone, Debug)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub tokens: TokenKeys,
    pub cursors: CursorCodec,
    pub throttles: Arc<Throttles>,
    pub cache: Arc<RepresentationCache>,
    /// The live breaking stream.
    pub hub: Hub,
    /// View beacons not yet written.
    pub views: Arc<ViewCounter>,
}

/// Start-up failed: the message is one line for the terminal.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Database(#[from] OpenError),
    #[error("cannot prepare the server: {0}")]
    Prepare(String),
}

impl From<AppError> for StartupError {
    fn from(e: AppError) -> Self {
        StartupError::Prepare(match e {
            AppError::Internal(cause) => cause,
            other => other.to_string(),
        })
    }
}

impl AppState {
    /// Opens the database (applying migrations) and loads or creates the signing secret.
    pub fn open(config: Config) -> Result<Self, StartupError> {
        let cache = Arc::new(RepresentationCache::new(CAPACITY_BYTES));
        let hook_cache = cache.clone();
        let hub = Hub::new(config.stream_max_connections, config.streams_per_address);
        let waker = hub.waker();
        let db = Db::open(&config.database_path)?.with_after_commit(Arc::new(move |change| {
            hook_cache.apply(change);
            waker.wake();
        }));
        cache.refresh(&db)?;
        hub.start(&db)
            .map_err(|e| StartupError::Prepare(format!("cannot start the breaking stream: {e}")))?;
        let views = Arc::new(ViewCounter::default());
        flush_views_periodically(Arc::downgrade(&views), db.clone())
            .map_err(|e| StartupError::Prepare(format!("cannot start the view counter: {e}")))?;
        let secret = match &config.jwt_secret {
            Some(secret) => secret.expose().to_owned(),
            None => {
                let (secret, created) = db.write_blocking(settings::stored_jwt_secret)?;
                if created {
                    tracing::warn!(
                        "JWT_SECRET is not set: generated a signing secret and stored it in the \
                         database so tokens survive restarts; set JWT_SECRET to manage it yourself"
                    );
                }
                secret
            }
        };
        let tokens = TokenKeys::new(secret.as_bytes(), config.token_ttl_seconds)?;
        let cursors = CursorCodec::new(secret.as_bytes());
        let throttles = Arc::new(Throttles::new(&config));
        Ok(Self {
            config: Arc::new(config),
            db,
            tokens,
            cursors,
            throttles,
            cache,
            hub,
            views,
        })
    }

    /// Writes the view beacons counted so far (also done every second, and at a
    /// graceful stop).
    pub fn flush_views(&self) -> AppResult<()> {
        flush(&self.views, &self.db)
    }
}

fn flush(counter: &ViewCounter, db: &Db) -> AppResult<()> {
    let counts = counter.take();
    if counts.is_empty() {
        return Ok(());
    }
    let kept = counts.clone();
    match db.write_blocking(move |conn| views::store(conn, &counts)) {
        Ok(()) => Ok(()),
        Err(e) => {
            counter.restore(kept);
            Err(e)
        }
    }
}

/// Flushes the counter every [`VIEWS_FLUSH_EVERY`] until it is dropped.
fn flush_views_periodically(counter: std::sync::Weak<ViewCounter>, db: Db) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("view-counter".into())
        .spawn(move || {
            loop {
                std::thread::sleep(VIEWS_FLUSH_EVERY);
                let Some(counter) = counter.upgrade() else {
                    return;
                };
                if let Err(e) = flush(&counter, &db) {
                    tracing::warn!(error = %e, "cannot write view counts; will retry");
                }
            }
        })
        .map(|_| ())
}
