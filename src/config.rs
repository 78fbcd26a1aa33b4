//! Settings: raw strings gathered from flags, the environment and `.env`, checked once.
//!
//! The command line layer (clap) collects every setting as an optional string, already
//! ordered by precedence (flag, then environment, then `.env`). This module turns those
//! strings into a typed [`Config`] or fails with one line that names the bad setting.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Default SQLite database file, relative to the working directory.
pub const DEFAULT_DATABASE_URL: &str = "newsdesk.db";
/// Default listen address.
pub const DEFAULT_BIND_ADDR: &str = "127.0.0.1:8080";
/// Default lifetime of an access token.
pub const DEFAULT_TOKEN_TTL_SECONDS: u64 = 3600;
/// Default `max-age` of public responses.
pub const DEFAULT_CACHE_MAX_AGE_SECONDS: u32 = 60;
/// Default content languages; the first is the default of every `language` field.
pub const DEFAULT_LANGUAGES: &str = "en,ar,es";
/// Default request body limit (2 MiB).
pub const DEFAULT_MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
/// Default base URL used for absolute links in feeds and sitemaps.
/// Memory for the representation cache, in MB.
pub const DEFAULT_CACHE_SIZE_MB: u64 = 32;
pub const DEFAULT_PUBLIC_BASE_URL: &str = "http://127.0.0.1:8080";
/// Default template of an article's public URL.
pub const DEFAULT_ARTICLE_URL_TEMPLATE: &str = "{base}/{lang}/{section}/{slug}";
/// Default publication name in feeds and the news sitemap.
pub const DEFAULT_PUBLICATION_NAME: &str = "newsdesk";
/// Default cap on open breaking-news streams per instance.
pub const DEFAULT_STREAM_MAX_CONNECTIONS: u64 = 5_000;
/// Default cap on open breaking-news streams per client address.
pub const DEFAULT_STREAMS_PER_ADDRESS: u64 = 100;
/// Shortest accepted `JWT_SECRET`, in bytes.
pub const MIN_JWT_SECRET_BYTES: usize = 32;
/// Default sign-in failures per account and client address in one window.
pub const DEFAULT_SIGNIN_ACCOUNT_FAILURES: u64 = 5;
/// Default sign-in failures per client address in one window.
pub const DEFAULT_SIGNIN_ADDRESS_FAILURES: u64 = 20;
/// Default sign-in window (15 minutes).
pub const DEFAULT_SIGNIN_WINDOW_SECONDS: u64 = 900;
/// Default uncached anonymous searches per second per address, after the burst.
pub const DEFAULT_SEARCH_RATE: u64 = 1;
/// Default burst of uncached anonymous searches per address.
pub const DEFAULT_SEARCH_BURST: u64 = 30;
/// Default number of PostgreSQL connections per instance.
pub const DEFAULT_DATABASE_POOL_SIZE: u64 = 8;
/// Default largest upload (20 MiB).
pub const DEFAULT_MEDIA_MAX_BYTES: u64 = 20 * 1024 * 1024;
/// Default most pixels of an uploaded image (50 megapixels).
pub const DEFAULT_MEDIA_MAX_PIXELS: u64 = 50_000_000;
/// Default days a trashed article is kept before it is removed for good.
pub const DEFAULT_TRASH_RETENTION_DAYS: u64 = 30;
/// How long a refresh token stays usable unless `REFRESH_TOKEN_TTL` says: 30 days.
pub const DEFAULT_REFRESH_TOKEN_TTL_SECONDS: u64 = 30 * 86_400;

/// How webhooks are delivered (`WEBHOOK_*`).
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Private and loopback targets are allowed (`WEBHOOK_ALLOW_PRIVATE`).
    pub allow_private: bool,
    /// The wait before a failed delivery's first retry (`WEBHOOK_FIRST_RETRY_MS`).
    pub first_retry: std::time::Duration,
    /// How long an endpoint may fail before it is disabled, and how long a delivery is
    /// retried (`WEBHOOK_DISABLE_AFTER`).
    pub disable_after: chrono::Duration,
}
/// Default rendition widths.
pub const DEFAULT_MEDIA_WIDTHS: &str = "320,640,1024,1600,2400";

/// Every setting as the command line layer found it, before any checking.
#[derive(Debug, Clone, Default)]
pub struct RawSettings {
    pub database_url: Option<String>,
    pub database_pool_size: Option<String>,
    pub bind_addr: Option<String>,
    pub jwt_secret: Option<String>,
    pub token_ttl_seconds: Option<String>,
    pub admin_email: Option<String>,
    pub admin_password: Option<String>,
    pub cors_allowed_origins: Option<String>,
    pub cache_max_age_seconds: Option<String>,
    pub cache_size_mb: Option<String>,
    pub languages: Option<String>,
    pub max_body_bytes: Option<String>,
    pub public_base_url: Option<String>,
    pub article_url_template: Option<String>,
    /// The retired `TRUST_PROXY_HEADERS`: set at all, it stops start-up with a pointer
    /// to `TRUSTED_PROXIES`.
    pub trust_proxy_headers: Option<String>,
    pub trusted_proxies: Option<String>,
    pub signin_account_failures: Option<String>,
    pub signin_address_failures: Option<String>,
    pub signin_window_seconds: Option<String>,
    pub search_rate: Option<String>,
    pub search_burst: Option<String>,
    pub publication_name: Option<String>,
    pub stream_max_connections: Option<String>,
    pub streams_per_address: Option<String>,
    pub media_dir: Option<String>,
    pub media_store_url: Option<String>,
    pub media_public_url: Option<String>,
    pub media_max_bytes: Option<String>,
    pub media_max_pixels: Option<String>,
    pub media_widths: Option<String>,
    pub trash_retention_days: Option<String>,
    pub refresh_token_ttl: Option<String>,
    pub webhook_allow_private: Option<String>,
    pub webhook_first_retry_ms: Option<String>,
    pub webhook_disable_after: Option<String>,
    pub metrics_token: Option<String>,
    /// The `AWS_*` settings of an S3 store (`AWS_ACCESS_KEY_ID`, `AWS_ENDPOINT`...), as
    /// `(lower-case name, value)`.
    pub aws: Vec<(String, String)>,
}

/// A setting that could not be used, named as the user wrote it.
#[derive(Debug, thiserror::Error)]
#[error("invalid {name}: {reason}")]
pub struct ConfigError {
    pub name: &'static str,
    pub reason: String,
}

impl ConfigError {
    fn new(name: &'static str, reason: impl Into<String>) -> Self {
        Self {
            name,
            reason: reason.into(),
        }
    }
}

/// The checked configuration of a newsdesk process.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the content lives: a SQLite file, or a PostgreSQL database.
    pub database: Database,
    /// PostgreSQL connections this instance keeps (unused on SQLite).
    pub database_pool_size: usize,
    pub bind_addr: SocketAddr,
    /// `None` means: use (or create) the secret stored in the database.
    pub jwt_secret: Option<Secret>,
    pub token_ttl_seconds: u64,
    pub admin: Option<AdminSeed>,
    /// Origins allowed to write from a browser; reads are open to any origin.
    pub cors_allowed_origins: Vec<String>,
    pub cache_max_age_seconds: u32,
    /// Bytes of responses the representation cache may hold (`CACHE_SIZE_MB`).
    pub cache_bytes: u64,
    pub languages: Vec<String>,
    pub max_body_bytes: usize,
    pub public_base_url: String,
    pub article_url_template: String,
    /// Proxies whose `X-Forwarded-For`/`Forwarded` headers are believed.
    pub trusted_proxies: TrustedProxies,
    /// Sign-in failures allowed per account and client address in one window.
    pub signin_account_failures: u32,
    /// Sign-in failures allowed per client address in one window.
    pub signin_address_failures: u32,
    /// The sign-in window: failures are forgotten steadily over this time.
    pub signin_window: std::time::Duration,
    /// Uncached anonymous searches per second per client address, after the burst.
    pub search_rate: u32,
    /// Uncached anonymous searches a client address may make at once.
    pub search_burst: u32,
    /// The publication's name, as feeds and the news sitemap give it.
    pub publication_name: String,
    /// Most breaking-news streams open at once; more get 503.
    pub stream_max_connections: usize,
    /// Most breaking-news streams one client address may hold open; more get 429.
    pub streams_per_address: usize,
    /// Where uploaded files are kept (`MEDIA_DIR` or `MEDIA_STORE_URL`).
    pub media_store: crate::files::StoreConfig,
    /// Base of uploaded files' public addresses: `MEDIA_PUBLIC_URL`, else
    /// `PUBLIC_BASE_URL/files`.
    pub media_public_url: String,
    /// Largest accepted upload, in bytes.
    pub media_max_bytes: u64,
    /// Most pixels an uploaded image may have (read from its header).
    pub media_max_pixels: u64,
    /// Widths of the renditions made of every uploaded image, ascending.
    pub media_widths: Vec<u32>,
    /// How long a trashed article is kept (`TRASH_RETENTION_DAYS`).
    pub trash_retention: chrono::Duration,
    /// How long a refresh token stays usable (`REFRESH_TOKEN_TTL`, seconds).
    pub refresh_token_ttl: chrono::Duration,
    /// How webhooks are delivered.
    pub webhooks: WebhookSettings,
    /// What `GET /metrics` requires (`METRICS_TOKEN`); `None`: it is open.
    pub metrics_token: Option<Secret>,
}

/// Credentials of the first admin, from `ADMIN_EMAIL` and `ADMIN_PASSWORD`.
#[derive(Clone)]
pub struct AdminSeed {
    pub email: String,
    pub password: Secret,
}

impl std::fmt::Debug for AdminSeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminSeed")
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

/// A string that never shows itself in `Debug` output or logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself; call only where it is used, never to log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl Config {
    /// Checks every raw setting, applying defaults to the unset ones.
    pub fn from_raw(raw: RawSettings) -> Result<Self, ConfigError> {
        let database = parse_database_url(raw.database_url.as_deref())?;
        let database_pool_size = parse_number(
            "DATABASE_POOL_SIZE",
            raw.database_pool_size,
            DEFAULT_DATABASE_POOL_SIZE,
            2,
            500,
        )? as usize;
        let bind_addr = non_empty(raw.bind_addr)
            .unwrap_or_else(|| DEFAULT_BIND_ADDR.to_owned())
            .parse::<SocketAddr>()
            .map_err(|_| {
                ConfigError::new("BIND_ADDR", "expected an address such as 127.0.0.1:8080")
            })?;
        let jwt_secret = match non_empty(raw.jwt_secret) {
            Some(s) if s.len() < MIN_JWT_SECRET_BYTES => {
                return Err(ConfigError::new(
                    "JWT_SECRET",
                    format!("must be at least {MIN_JWT_SECRET_BYTES} bytes long"),
                ));
            }
            other => other.map(Secret::new),
        };
        let token_ttl_seconds = parse_number(
            "TOKEN_TTL_SECONDS",
            raw.token_ttl_seconds,
            DEFAULT_TOKEN_TTL_SECONDS,
            60,
            30 * 24 * 3600,
        )?;
        let admin = parse_admin(raw.admin_email, raw.admin_password)?;
        let cors_allowed_origins = parse_origins(raw.cors_allowed_origins)?;
        let cache_max_age_seconds = parse_number(
            "CACHE_MAX_AGE_SECONDS",
            raw.cache_max_age_seconds,
            u64::from(DEFAULT_CACHE_MAX_AGE_SECONDS),
            0,
            31_536_000,
        )? as u32;
        let cache_bytes = parse_number(
            "CACHE_SIZE_MB",
            raw.cache_size_mb,
            DEFAULT_CACHE_SIZE_MB,
            1,
            65_536,
        )? * 1024
            * 1024;
        let languages = parse_languages(raw.languages)?;
        let max_body_bytes = parse_number(
            "MAX_BODY_BYTES",
            raw.max_body_bytes,
            DEFAULT_MAX_BODY_BYTES as u64,
            1024,
            64 * 1024 * 1024,
        )? as usize;
        let public_base_url = parse_base_url(raw.public_base_url, bind_addr)?;
        let article_url_template = parse_url_template(raw.article_url_template)?;
        if non_empty(raw.trust_proxy_headers).is_some() {
            return Err(ConfigError::new(
                "TRUST_PROXY_HEADERS",
                "this setting was replaced by TRUSTED_PROXIES: list the addresses (CIDRs) of \
                 your proxies there, and remove TRUST_PROXY_HEADERS",
            ));
        }
        let trusted_proxies = TrustedProxies::parse(raw.trusted_proxies.as_deref().unwrap_or(""))
            .map_err(|reason| ConfigError::new("TRUSTED_PROXIES", reason))?;
        let signin_account_failures = parse_number(
            "SIGNIN_ACCOUNT_FAILURES",
            raw.signin_account_failures,
            DEFAULT_SIGNIN_ACCOUNT_FAILURES,
            1,
            10_000,
        )? as u32;
        let signin_address_failures = parse_number(
            "SIGNIN_ADDRESS_FAILURES",
            raw.signin_address_failures,
            DEFAULT_SIGNIN_ADDRESS_FAILURES,
            1,
            100_000,
        )? as u32;
        let signin_window = std::time::Duration::from_secs(parse_number(
            "SIGNIN_WINDOW_SECONDS",
            raw.signin_window_seconds,
            DEFAULT_SIGNIN_WINDOW_SECONDS,
            1,
            86_400,
        )?);
        let search_rate = parse_number(
            "SEARCH_RATE",
            raw.search_rate,
            DEFAULT_SEARCH_RATE,
            1,
            100_000,
        )? as u32;
        let search_burst = parse_number(
            "SEARCH_BURST",
            raw.search_burst,
            DEFAULT_SEARCH_BURST,
            1,
            100_000,
        )? as u32;
        let publication_name = parse_publication_name(raw.publication_name)?;
        let stream_max_connections = parse_number(
            "STREAM_MAX_CONNECTIONS",
            raw.stream_max_connections,
            DEFAULT_STREAM_MAX_CONNECTIONS,
            1,
            1_000_000,
        )? as usize;
        let streams_per_address = parse_number(
            "STREAMS_PER_ADDRESS",
            raw.streams_per_address,
            DEFAULT_STREAMS_PER_ADDRESS,
            1,
            1_000_000,
        )? as usize;
        let media_store =
            parse_media_store(raw.media_dir, raw.media_store_url, raw.aws, &database)?;
        let media_public_url = match non_empty(raw.media_public_url) {
            Some(v) => match url::Url::parse(&v) {
                Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
                    v.trim_end_matches('/').to_owned()
                }
                _ => {
                    return Err(ConfigError::new(
                        "MEDIA_PUBLIC_URL",
                        "expected an absolute http or https URL",
                    ));
                }
            },
            None => format!("{public_base_url}/files"),
        };
        let media_max_bytes = parse_number(
            "MEDIA_MAX_BYTES",
            raw.media_max_bytes,
            DEFAULT_MEDIA_MAX_BYTES,
            1024,
            1024 * 1024 * 1024,
        )?;
        let media_max_pixels = parse_number(
            "MEDIA_MAX_PIXELS",
            raw.media_max_pixels,
            DEFAULT_MEDIA_MAX_PIXELS,
            1,
            1_000_000_000,
        )?;
        let media_widths = parse_widths(raw.media_widths)?;
        let trash_days = parse_number(
            "TRASH_RETENTION_DAYS",
            raw.trash_retention_days,
            DEFAULT_TRASH_RETENTION_DAYS,
            0,
            36_500,
        )?;
        let trash_retention = chrono::Duration::days(i64::try_from(trash_days).unwrap_or(36_500));
        let refresh_secs = parse_number(
            "REFRESH_TOKEN_TTL",
            raw.refresh_token_ttl,
            DEFAULT_REFRESH_TOKEN_TTL_SECONDS,
            60,
            10 * 365 * 86_400,
        )?;
        let refresh_token_ttl = chrono::Duration::seconds(refresh_secs as i64);
        let webhooks = WebhookSettings {
            allow_private: parse_bool("WEBHOOK_ALLOW_PRIVATE", raw.webhook_allow_private)?,
            first_retry: std::time::Duration::from_millis(parse_number(
                "WEBHOOK_FIRST_RETRY_MS",
                raw.webhook_first_retry_ms,
                5_000,
                10,
                10_000,
            )?),
            disable_after: chrono::Duration::seconds(parse_number(
                "WEBHOOK_DISABLE_AFTER",
                raw.webhook_disable_after,
                86_400,
                1,
                30 * 86_400,
            )? as i64),
        };
        let metrics_token = non_empty(raw.metrics_token).map(Secret::new);
        Ok(Self {
            database,
            database_pool_size,
            bind_addr,
            jwt_secret,
            token_ttl_seconds,
            admin,
            cors_allowed_origins,
            cache_max_age_seconds,
            cache_bytes,
            languages,
            max_body_bytes,
            public_base_url,
            article_url_template,
            trusted_proxies,
            signin_account_failures,
            signin_address_failures,
            signin_window,
            search_rate,
            search_burst,
            publication_name,
            stream_max_connections,
            streams_per_address,
            media_store,
            media_public_url,
            media_max_bytes,
            media_max_pixels,
            media_widths,
            trash_retention,
            refresh_token_ttl,
            webhooks,
            metrics_token,
        })
    }

    /// The language a resource gets when a create does not name one.
    pub fn default_language(&self) -> &str {
        &self.languages[0]
    }

    /// A configuration for tests and tools: every default, over the given database file
    /// (files go to `media/` beside it).
    pub fn for_database(path: impl Into<PathBuf>) -> Self {
        let mut config = Self::from_raw(RawSettings::default())
            .unwrap_or_else(|e| unreachable!("defaults are valid: {e}"));
        config.database = Database::Sqlite(path.into());
        config.media_store = crate::files::StoreConfig::Local(default_media_dir(&config.database));
        config
    }

    /// A configuration for tests and tools: every default, over the given database.
    pub fn for_database_url(url: &str) -> Result<Self, ConfigError> {
        let mut config = Self::from_raw(RawSettings::default())
            .unwrap_or_else(|e| unreachable!("defaults are valid: {e}"));
        config.database = parse_database_url(Some(url))?;
        config.media_store = crate::files::StoreConfig::Local(default_media_dir(&config.database));
        Ok(config)
    }
}

fn parse_bool(name: &'static str, value: Option<String>) -> Result<bool, ConfigError> {
    match non_empty(value)
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("false" | "0" | "no" | "off") => Ok(false),
        Some("true" | "1" | "yes" | "on") => Ok(true),
        Some(other) => Err(ConfigError::new(
            name,
            format!("expected true or false, got {other:?}"),
        )),
    }
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// Where the content lives, from `DATABASE_URL`.
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    /// A SQLite database file (a path, or `sqlite://path`).
    Sqlite(PathBuf),
    /// A PostgreSQL database (`postgres://` or `postgresql://`); the URL may hold a
    /// password, so it is only ever shown with the password hidden.
    Postgres(Secret),
}

impl Database {
    /// The database file, on SQLite.
    pub fn sqlite_path(&self) -> Option<&std::path::Path> {
        match self {
            Database::Sqlite(path) => Some(path),
            Database::Postgres(_) => None,
        }
    }

    /// True on PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        matches!(self, Database::Postgres(_))
    }
}

/// Shows the database for people: the file, or the URL without its password.
impl std::fmt::Display for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Database::Sqlite(path) => write!(f, "{}", path.display()),
            Database::Postgres(url) => match url::Url::parse(url.expose()) {
                Ok(mut shown) => {
                    if shown.password().is_some() {
                        let _ = shown.set_password(Some("***"));
                    }
                    // libpq also takes the password as a parameter.
                    let pairs: Vec<(String, String)> = shown
                        .query_pairs()
                        .map(|(k, v)| {
                            let v = if k == "password" {
                                "***".into()
                            } else {
                                v.into_owned()
                            };
                            (k.into_owned(), v)
                        })
                        .collect();
                    if !pairs.is_empty() {
                        shown.query_pairs_mut().clear().extend_pairs(pairs);
                    }
                    write!(f, "{shown}")
                }
                Err(_) => f.write_str("postgres://(unreadable URL)"),
            },
        }
    }
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Database({self})")
    }
}

fn parse_database_url(value: Option<&str>) -> Result<Database, ConfigError> {
    let value = value.map(str::trim).filter(|v| !v.is_empty());
    let value = value.unwrap_or(DEFAULT_DATABASE_URL);
    if value.starts_with("postgres://") || value.starts_with("postgresql://") {
        let url = url::Url::parse(value).map_err(|e| {
            ConfigError::new(
                "DATABASE_URL",
                format!("not a valid PostgreSQL URL ({e}); expected postgres://user:password@host:port/database"),
            )
        })?;
        if url.host_str().is_none_or(str::is_empty) && !url.query_pairs().any(|(k, _)| k == "host")
        {
            return Err(ConfigError::new(
                "DATABASE_URL",
                "the PostgreSQL URL names no host; expected postgres://user:password@host:port/database",
            ));
        }
        return Ok(Database::Postgres(Secret::new(value)));
    }
    if let Some((scheme, _)) = value.split_once("://")
        && scheme != "sqlite"
    {
        return Err(ConfigError::new(
            "DATABASE_URL",
            format!(
                "unknown scheme {scheme:?}: expected a SQLite file path, sqlite://path or postgres://…"
            ),
        ));
    }
    let path = value
        .strip_prefix("sqlite://")
        .or_else(|| value.strip_prefix("sqlite:"))
        .unwrap_or(value);
    if path.is_empty() || path == ":memory:" {
        return Err(ConfigError::new(
            "DATABASE_URL",
            "expected the path of a SQLite database file",
        ));
    }
    Ok(Database::Sqlite(PathBuf::from(path)))
}

fn parse_number(
    name: &'static str,
    value: Option<String>,
    default: u64,
    min: u64,
    max: u64,
) -> Result<u64, ConfigError> {
    let Some(value) = non_empty(value) else {
        return Ok(default);
    };
    let n: u64 = value
        .parse()
        .map_err(|_| ConfigError::new(name, format!("expected a whole number, got {value:?}")))?;
    if !(min..=max).contains(&n) {
        return Err(ConfigError::new(
            name,
            format!("must be between {min} and {max}, got {n}"),
        ));
    }
    Ok(n)
}

fn parse_admin(
    email: Option<String>,
    password: Option<String>,
) -> Result<Option<AdminSeed>, ConfigError> {
    match (non_empty(email), password.filter(|p| !p.is_empty())) {
        (None, None) => Ok(None),
        (Some(_), None) => Err(ConfigError::new(
            "ADMIN_PASSWORD",
            "must be set when ADMIN_EMAIL is set",
        )),
        (None, Some(_)) => Err(ConfigError::new(
            "ADMIN_EMAIL",
            "must be set when ADMIN_PASSWORD is set",
        )),
        (Some(email), Some(password)) => {
            if let Err(reason) = crate::auth::check_email(&email) {
                return Err(ConfigError::new("ADMIN_EMAIL", reason));
            }
            if let Err(reason) = crate::auth::password::check_strength(&password) {
                return Err(ConfigError::new("ADMIN_PASSWORD", reason));
            }
            Ok(Some(AdminSeed {
                email: email.to_lowercase(),
                password: Secret::new(password),
            }))
        }
    }
}

fn parse_origins(value: Option<String>) -> Result<Vec<String>, ConfigError> {
    let Some(value) = non_empty(value) else {
        return Ok(Vec::new());
    };
    let mut origins = Vec::new();
    for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let parsed = url::Url::parse(item).map_err(|_| {
            ConfigError::new(
                "CORS_ALLOWED_ORIGINS",
                format!("{item:?} is not an origin such as https://www.example.com"),
            )
        })?;
        let origin = parsed.origin().ascii_serialization();
        if !matches!(parsed.scheme(), "http" | "https") || origin == "null" {
            return Err(ConfigError::new(
                "CORS_ALLOWED_ORIGINS",
                format!("{item:?} is not an http or https origin"),
            ));
        }
        origins.push(origin);
    }
    Ok(origins)
}

fn parse_languages(value: Option<String>) -> Result<Vec<String>, ConfigError> {
    let value = non_empty(value).unwrap_or_else(|| DEFAULT_LANGUAGES.to_owned());
    let mut languages: Vec<String> = Vec::new();
    for code in value.split(',').map(str::trim) {
        let valid = (2..=3).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_lowercase());
        if !valid {
            return Err(ConfigError::new(
                "LANGUAGES",
                format!("{code:?} is not a two- or three-letter lowercase language code"),
            ));
        }
        if !languages.iter().any(|l| l == code) {
            languages.push(code.to_owned());
        }
    }
    Ok(languages)
}

/// The public address of the site: `PUBLIC_BASE_URL`, else the address the server
/// listens on (`BIND_ADDR`; all interfaces read as this machine's loopback).
fn parse_base_url(value: Option<String>, bind: SocketAddr) -> Result<String, ConfigError> {
    let value = non_empty(value).unwrap_or_else(|| {
        let ip = match bind.ip() {
            std::net::IpAddr::V4(v4) if v4.is_unspecified() => {
                std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)
            }
            std::net::IpAddr::V6(v6) if v6.is_unspecified() => {
                std::net::IpAddr::V6(std::net::Ipv6Addr::LOCALHOST)
            }
            ip => ip,
        };
        format!("http://{}", SocketAddr::new(ip, bind.port()))
    });
    match url::Url::parse(&value) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
            Ok(value.trim_end_matches('/').to_owned())
        }
        _ => Err(ConfigError::new(
            "PUBLIC_BASE_URL",
            "expected an absolute http or https URL",
        )),
    }
}

/// `media/` beside the SQLite file, or in the working directory on PostgreSQL.
pub fn default_media_dir(database: &Database) -> PathBuf {
    match database.sqlite_path().and_then(|p| p.parent()) {
        Some(dir) => dir.join("media"),
        None => PathBuf::from("media"),
    }
}

fn parse_media_store(
    dir: Option<String>,
    store_url: Option<String>,
    aws: Vec<(String, String)>,
    database: &Database,
) -> Result<crate::files::StoreConfig, ConfigError> {
    use crate::files::StoreConfig;
    match (non_empty(dir), non_empty(store_url)) {
        (Some(_), Some(_)) => Err(ConfigError::new(
            "MEDIA_STORE_URL",
            "set either MEDIA_DIR (a local directory) or MEDIA_STORE_URL (an S3 bucket), not both",
        )),
        (Some(dir), None) => Ok(StoreConfig::Local(PathBuf::from(dir))),
        (None, None) => Ok(StoreConfig::Local(default_media_dir(database))),
        (None, Some(url)) => match url::Url::parse(&url) {
            Ok(u) if u.scheme() == "s3" && u.host_str().is_some_and(|h| !h.is_empty()) => {
                Ok(StoreConfig::S3 { url, options: aws })
            }
            _ => Err(ConfigError::new(
                "MEDIA_STORE_URL",
                "expected s3://bucket or s3://bucket/prefix (credentials in AWS_ACCESS_KEY_ID, \
                 AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT)",
            )),
        },
    }
}

fn parse_widths(value: Option<String>) -> Result<Vec<u32>, ConfigError> {
    let value = non_empty(value).unwrap_or_else(|| DEFAULT_MEDIA_WIDTHS.to_owned());
    let mut widths = Vec::new();
    for part in value.split(',') {
        match part.trim().parse::<u32>() {
            Ok(w) if (16..=8192).contains(&w) => widths.push(w),
            _ => {
                return Err(ConfigError::new(
                    "MEDIA_WIDTHS",
                    format!("expected comma-separated widths from 16 to 8192, got {part:?}"),
                ));
            }
        }
    }
    widths.sort_unstable();
    widths.dedup();
    if widths.len() > 12 {
        return Err(ConfigError::new("MEDIA_WIDTHS", "at most 12 widths"));
    }
    Ok(widths)
}

fn parse_publication_name(value: Option<String>) -> Result<String, ConfigError> {
    let value = non_empty(value).unwrap_or_else(|| DEFAULT_PUBLICATION_NAME.to_owned());
    if value.chars().count() > 200 || value.chars().any(char::is_control) {
        return Err(ConfigError::new(
            "PUBLICATION_NAME",
            "must be one line of at most 200 characters",
        ));
    }
    Ok(value)
}

fn parse_url_template(value: Option<String>) -> Result<String, ConfigError> {
    let value = non_empty(value).unwrap_or_else(|| DEFAULT_ARTICLE_URL_TEMPLATE.to_owned());
    if !value.contains("{slug}") && !value.contains("{id}") {
        return Err(ConfigError::new(
            "ARTICLE_URL_TEMPLATE",
            "must contain {slug} or {id}",
        ));
    }
    let sample = value
        .replace("{base}", DEFAULT_PUBLIC_BASE_URL)
        .replace("{lang}", "en")
        .replace("{section}", "news")
        .replace("{slug}", "a-story")
        .replace("{id}", "1")
        .replace("{yyyy}", "2024")
        .replace("{mm}", "01")
        .replace("{dd}", "31");
    match url::Url::parse(&sample) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(value),
        _ => Err(ConfigError::new(
            "ARTICLE_URL_TEMPLATE",
            "must give an absolute http or https URL (start it with {base} or https://)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        let config = Config::from_raw(RawSettings::default()).unwrap();
        assert_eq!(
            config.database,
            Database::Sqlite(PathBuf::from("newsdesk.db"))
        );
        assert_eq!(config.bind_addr.to_string(), "127.0.0.1:8080");
        assert_eq!(config.languages, ["en", "ar", "es"]);
        assert_eq!(config.max_body_bytes, 2 * 1024 * 1024);
        assert_eq!(config.token_ttl_seconds, 3600);
        assert!(config.jwt_secret.is_none());
        assert!(config.admin.is_none());
    }

    #[test]
    fn public_links_default_to_the_listening_address() {
        let on = |bind: &str| {
            Config::from_raw(RawSettings {
                bind_addr: Some(bind.into()),
                ..Default::default()
            })
            .unwrap()
            .public_base_url
        };
        assert_eq!(on("127.0.0.1:8080"), "http://127.0.0.1:8080");
        assert_eq!(on("10.1.2.3:9000"), "http://10.1.2.3:9000");
        assert_eq!(on("0.0.0.0:9090"), "http://127.0.0.1:9090");
        assert_eq!(on("[::]:9090"), "http://[::1]:9090");
        let given = Config::from_raw(RawSettings {
            bind_addr: Some("0.0.0.0:80".into()),
            public_base_url: Some("https://news.example/".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(given.public_base_url, "https://news.example");
        let cache = Config::from_raw(RawSettings {
            cache_size_mb: Some("64".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(cache.cache_bytes, 64 * 1024 * 1024);
    }

    #[test]
    fn a_bad_setting_is_named() {
        let raw = RawSettings {
            token_ttl_seconds: Some("soon".into()),
            ..Default::default()
        };
        let err = Config::from_raw(raw).unwrap_err();
        assert_eq!(err.name, "TOKEN_TTL_SECONDS");
        assert!(err.to_string().starts_with("invalid TOKEN_TTL_SECONDS"));
    }

    #[test]
    fn the_retired_proxy_setting_points_to_its_replacement() {
        let raw = RawSettings {
            trust_proxy_headers: Some("true".into()),
            ..Default::default()
        };
        let e = Config::from_raw(raw).unwrap_err();
        assert_eq!(e.name, "TRUST_PROXY_HEADERS");
        assert!(e.reason.contains("TRUSTED_PROXIES"), "{}", e.reason);
    }

    #[test]
    fn trusted_proxies_are_addresses_or_blocks() {
        let raw = RawSettings {
            trusted_proxies: Some("10.0.0.0/8, 192.168.1.7 ,::1".into()),
            ..Default::default()
        };
        let config = Config::from_raw(raw).unwrap();
        let t = &config.trusted_proxies;
        assert!(t.contains("10.200.3.4".parse().unwrap()));
        assert!(t.contains("192.168.1.7".parse().unwrap()));
        assert!(
            t.contains("::ffff:10.0.0.1".parse().unwrap()),
            "IPv4-mapped"
        );
        assert!(t.contains("::1".parse().unwrap()));
        assert!(!t.contains("192.168.1.8".parse().unwrap()));
        let bad = RawSettings {
            trusted_proxies: Some("10.0.0.0/8, proxy.local".into()),
            ..Default::default()
        };
        assert_eq!(Config::from_raw(bad).unwrap_err().name, "TRUSTED_PROXIES");
    }

    #[test]
    fn short_jwt_secret_is_refused() {
        let raw = RawSettings {
            jwt_secret: Some("short".into()),
            ..Default::default()
        };
        assert_eq!(Config::from_raw(raw).unwrap_err().name, "JWT_SECRET");
    }

    #[test]
    fn admin_email_needs_a_password() {
        let raw = RawSettings {
            admin_email: Some("chief@example.com".into()),
            ..Default::default()
        };
        assert_eq!(Config::from_raw(raw).unwrap_err().name, "ADMIN_PASSWORD");
    }

    #[test]
    fn languages_are_checked_and_deduplicated() {
        let raw = RawSettings {
            languages: Some("en, fr,en".into()),
            ..Default::default()
        };
        assert_eq!(Config::from_raw(raw).unwrap().languages, ["en", "fr"]);
        let raw = RawSettings {
            languages: Some("en,French".into()),
            ..Default::default()
        };
        assert_eq!(Config::from_raw(raw).unwrap_err().name, "LANGUAGES");
    }

    #[test]
    fn origins_are_normalised() {
        let raw = RawSettings {
            cors_allowed_origins: Some("https://www.example.com/, http://localhost:3000".into()),
            ..Default::default()
        };
        assert_eq!(
            Config::from_raw(raw).unwrap().cors_allowed_origins,
            ["https://www.example.com", "http://localhost:3000"]
        );
    }

    #[test]
    fn secrets_do_not_debug_print() {
        let s = Secret::new("hunter2-hunter2");
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}

/// The proxies whose forwarding headers are believed: `TRUSTED_PROXIES`, a
/// comma-separated list of addresses or CIDR blocks (`10.0.0.0/8, ::1`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<ipnet::IpNet>);

impl TrustedProxies {
    /// Parses the setting; an empty string trusts nobody.
    pub fn parse(value: &str) -> Result<Self, String> {
        let mut nets = Vec::new();
        for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let net = match item.parse::<ipnet::IpNet>() {
                Ok(net) => net,
                Err(_) => match item.parse::<std::net::IpAddr>() {
                    Ok(ip) => ipnet::IpNet::from(ip),
                    Err(_) => {
                        return Err(format!(
                            "{item:?} is not an address or CIDR block such as 10.0.0.0/8"
                        ));
                    }
                },
            };
            nets.push(net.trunc());
        }
        Ok(Self(nets))
    }

    /// True when `ip` is one of the trusted proxies.
    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// True when no proxy is trusted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// An IPv4 address written as IPv4-mapped IPv6 (`::ffff:1.2.3.4`) is the IPv4 address.
pub fn canonical(ip: std::net::IpAddr) -> std::net::IpAddr {
    match ip {
        std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map(std::net::IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}
