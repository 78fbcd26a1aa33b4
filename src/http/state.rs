//! What every request handler shares: configuration, database, keys.

use std::sync::Arc;

use super::cache::RepresentationCache;
use super::throttle::Throttles;
use crate::auth::token::TokenKeys;
use crate::config::Config;
use crate::db::{Db, OpenError};
use crate::domain::paging::CursorCodec;
use crate::domain::settings;
use crate::domain::views::{self, ViewCounter};
use crate::error::{AppError, AppResult};
use crate::live::Hub;
use crate::workers::{Stage, Workers};

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
    /// Where public links point (`PUBLIC_BASE_URL`, `ARTICLE_URL_TEMPLATE`).
    pub site: Arc<crate::domain::feeds::Site>,
    /// The live breaking stream.
    pub hub: Hub,
    /// View beacons not yet written.
    pub views: Arc<ViewCounter>,
    /// API token uses not yet written to `last_used_at`.
    pub token_uses: Arc<crate::domain::api_tokens::TokenUses>,
    /// The background workers (see [`crate::workers`]).
    pub workers: Workers,
    /// Where uploaded files are kept.
    pub files: crate::files::Files,
    /// Image processing, a few at a time.
    pub processor: crate::domain::media::upload::Processor,
    /// Set when a stop was asked: `/readyz` answers 503 and every response closes its
    /// connection, so clients move to another instance before this one goes.
    stopping: Arc<std::sync::atomic::AtomicBool>,
    /// Stops the workers when the last clone of the state is dropped.
    _stop_on_drop: Arc<StopOnDrop>,
}

/// Stops every worker, in order, when dropped.
#[derive(Debug)]
struct StopOnDrop(Workers);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.stop_all();
    }
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
        let workers = Workers::new();
        // From here on, a failed start stops what it started.
        let stop_on_drop = Arc::new(StopOnDrop(workers.clone()));
        let cache = Arc::new(RepresentationCache::new(config.cache_bytes));
        let hook_cache = cache.clone();
        let open_files = crate::limits::open_files();
        let stream_cap = crate::limits::stream_cap(config.stream_max_connections, open_files);
        if stream_cap < config.stream_max_connections {
            tracing::warn!(
                configured = config.stream_max_connections,
                open_files,
                stream_cap,
                "STREAM_MAX_CONNECTIONS is more than the open-file limit leaves room for; \
                 streams are capped lower"
            );
        }
        let hub = Hub::new(stream_cap, config.streams_per_address);
        let waker = hub.waker();
        let db = Db::open(&config.database, config.database_pool_size, &workers)?
            .with_after_commit(Arc::new(move |change| {
                hook_cache.apply(change);
                waker.wake();
                // The write may have queued webhook deliveries.
                crate::webhooks::wake();
            }));
        cache.refresh(&db)?;
        crate::http::cache::poll(cache.clone(), db.clone(), &workers)
            .map_err(|e| StartupError::Prepare(format!("cannot start the cache poller: {e}")))?;
        hub.start(&db, &workers, config.trash_retention)
            .map_err(|e| StartupError::Prepare(format!("cannot start the breaking stream: {e}")))?;
        let views = Arc::new(ViewCounter::default());
        let token_uses = Arc::new(crate::domain::api_tokens::TokenUses::default());
        flush_views_periodically(views.clone(), token_uses.clone(), db.clone(), &workers)
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
        let (base, template) = (
            config.public_base_url.clone(),
            config.article_url_template.clone(),
        );
        if db.write_content_blocking(move |conn| {
            crate::domain::feeds::note_addresses(conn, &base, &template)
        })? {
            tracing::info!(
                "PUBLIC_BASE_URL or ARTICLE_URL_TEMPLATE changed since the last start: every \
                 child sitemap is marked as changed now"
            );
        }
        let files = crate::files::Files::open(&config.media_store, &config.media_public_url)
            .map_err(|e| StartupError::Prepare(format!("cannot open the media store: {e}")))?;
        sweep_files_periodically(files.clone(), db.clone(), &workers)
            .map_err(|e| StartupError::Prepare(format!("cannot start the file sweeper: {e}")))?;
        crate::webhooks::deliver::start(db.clone(), config.webhooks.clone(), &workers)
            .map_err(|e| StartupError::Prepare(format!("cannot start the webhook worker: {e}")))?;
        crate::openapi::scopes::prepare();
        let tokens = TokenKeys::new(secret.as_bytes(), config.token_ttl_seconds)?;
        let cursors = CursorCodec::new(secret.as_bytes());
        let throttles = Arc::new(Throttles::new(&config));
        Ok(Self {
            site: Arc::new(crate::domain::feeds::Site::of(&config)),
            config: Arc::new(config),
            db,
            tokens,
            cursors,
            throttles,
            cache,
            hub,
            views,
            token_uses,
            workers,
            files,
            processor: Default::default(),
            stopping: Arc::new(std::sync::atomic::AtomicBool::new(false)),
            _stop_on_drop: stop_on_drop,
        })
    }

    /// Starts draining: readiness fails and connections close after their response.
    pub fn begin_stop(&self) {
        self.stopping
            .store(true, std::sync::atomic::Ordering::Release);
    }

    /// True once [`AppState::begin_stop`] was called.
    pub fn is_stopping(&self) -> bool {
        self.stopping.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Stops the background work in order: producers, then the last view counts are
    /// written, then the writer commits what is queued, a last checkpoint empties the
    /// WAL, and the readers end. Called once the HTTP server has stopped.
    pub fn shutdown(&self) {
        self.hub.close();
        self.workers.stop_all();
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

/// Flushes the counter every [`VIEWS_FLUSH_EVERY`], and a last time when stopped.
/// How often stored files no media item names are looked for.
pub const FILE_SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(600);

/// Removes unreferenced files (see [`crate::files`]) every [`FILE_SWEEP_EVERY`].
fn sweep_files_periodically(
    files: crate::files::Files,
    db: Db,
    workers: &Workers,
) -> std::io::Result<()> {
    workers.spawn("file-sweeper", Stage::Producers, move |ctx| {
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(r) => r,
            Err(e) => {
                ctx.health.failed(format!("cannot start: {e}"));
                return;
            }
        };
        ctx.health.ok();
        while ctx.sleep(FILE_SWEEP_EVERY) {
            let swept = runtime.block_on(crate::domain::media::upload::sweep(
                &files,
                &db,
                crate::files::SWEEP_GRACE,
            ));
            match swept {
                Ok(n) => {
                    if n > 0 {
                        tracing::info!(files = n, "removed stored files no media item uses");
                    }
                    ctx.health.ok();
                }
                Err(e) => {
                    ctx.health.failed("cannot sweep the media store");
                    tracing::warn!(error = %e, "cannot sweep the media store; will retry");
                }
            }
        }
    })
}

/// Also writes the API tokens' `last_used_at` recorded since the last round.
fn flush_views_periodically(
    counter: Arc<ViewCounter>,
    token_uses: Arc<crate::domain::api_tokens::TokenUses>,
    db: Db,
    workers: &Workers,
) -> std::io::Result<()> {
    workers.spawn("view-counter", Stage::Flush, move |ctx| {
        ctx.health.ok();
        loop {
            let running = ctx.sleep(VIEWS_FLUSH_EVERY);
            let used = token_uses.take();
            if !used.is_empty()
                && let Err(e) =
                    db.write_blocking(move |conn| crate::domain::api_tokens::touch(conn, &used))
            {
                tracing::warn!(error = %e, "cannot write API tokens' last use");
            }
            match flush(&counter, &db) {
                Ok(()) => ctx.health.ok(),
                Err(e) => {
                    ctx.health.failed("cannot write view counts");
                    tracing::warn!(error = %e, "cannot write view counts; will retry");
                }
            }
            if !running {
                return;
            }
        }
    })
}
