//! What every request handler shares: configuration, database, keys.

use std::sync::Arc;

use super::cache::{CAPACITY_BYTES, RepresentationCache};
use super::throttle::Throttles;
use crate::auth::token::TokenKeys;
use crate::config::Config;
use crate::db::{Db, OpenError};
use crate::domain::paging::CursorCodec;
use crate::domain::settings;
use crate::error::AppError;

/// Shared state of a running server, cloned cheaply into every worker.
#[derive(Clone, Debug)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub tokens: TokenKeys,
    pub cursors: CursorCodec,
    pub throttles: Arc<Throttles>,
    pub cache: Arc<RepresentationCache>,
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
        let db = Db::open(&config.database_path)?
            .with_after_commit(Arc::new(move |change| hook_cache.apply(change)));
        cache.refresh(&db)?;
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
        Ok(Self {
            config: Arc::new(config),
            db,
            tokens,
            cursors,
            throttles: Arc::new(Throttles::default()),
            cache,
        })
    }
}
