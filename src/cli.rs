//! The `newsdesk` command line: settings as flags (each also read from the environment
//! and `.env`), and the subcommands.

mod media;
mod transfer;

use std::io::{BufRead, Write};
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::auth::{Role, password};
use crate::config::{Config, RawSettings};
use crate::db::{Db, sqlite};
use crate::domain::users;
use crate::error::AppError;
use crate::http::state::AppState;
use crate::{openapi, seed, server};

/// newsdesk: a headless CMS for multilingual newsrooms.
///
/// Every setting can be given as a flag, as an environment variable, or in a `.env`
/// file in the working directory, in that order of precedence.
#[derive(Debug, Parser)]
#[command(name = "newsdesk", version, about, long_about)]
pub struct Cli {
    #[command(flatten)]
    pub settings: SettingArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One readable line per event.
    Text,
    /// One JSON object per event: `timestamp`, `level`, `target`, `message` and the
    /// event's fields (`request_id`, `method`, `path`, `status`...).
    Json,
}

/// The settings, as flags that fall back to environment variables.
#[derive(Debug, Args)]
pub struct SettingArgs {
    /// SQLite database file, or postgres://user:password@host:port/database [default: newsdesk.db]
    #[arg(long, env = "DATABASE_URL", global = true, value_name = "PATH|URL")]
    pub database_url: Option<String>,
    /// PostgreSQL connections per instance [default: 8]
    #[arg(long, env = "DATABASE_POOL_SIZE", global = true, value_name = "COUNT")]
    pub database_pool_size: Option<String>,
    /// Log lines as `text` for people or `json` for machines (one object per line, with
    /// the request id as `request_id`) [default: text]
    #[arg(
        long,
        env = "LOG_FORMAT",
        global = true,
        value_enum,
        value_name = "FORMAT"
    )]
    pub log_format: Option<LogFormat>,
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "BIND_ADDR", global = true, value_name = "ADDR")]
    pub bind_addr: Option<String>,
    /// Token signing secret, at least 32 bytes [default: generated and kept in the database]
    #[arg(
        long,
        env = "JWT_SECRET",
        global = true,
        hide_env_values = true,
        value_name = "SECRET"
    )]
    pub jwt_secret: Option<String>,
    /// Lifetime of access tokens in seconds [default: 3600]
    #[arg(long, env = "TOKEN_TTL_SECONDS", global = true, value_name = "SECONDS")]
    pub token_ttl_seconds: Option<String>,
    /// Email of the first admin, created when the database has no users
    #[arg(long, env = "ADMIN_EMAIL", global = true, value_name = "EMAIL")]
    pub admin_email: Option<String>,
    /// Password of the first admin (prefer the environment to this flag)
    #[arg(
        long,
        env = "ADMIN_PASSWORD",
        global = true,
        hide_env_values = true,
        value_name = "PASSWORD"
    )]
    pub admin_password: Option<String>,
    /// Comma-separated origins allowed to write from a browser [default: none; any origin may read]
    #[arg(
        long,
        env = "CORS_ALLOWED_ORIGINS",
        global = true,
        value_name = "ORIGINS"
    )]
    pub cors_allowed_origins: Option<String>,
    /// max-age of public responses in seconds [default: 60]
    #[arg(
        long,
        env = "CACHE_MAX_AGE_SECONDS",
        global = true,
        value_name = "SECONDS"
    )]
    pub cache_max_age_seconds: Option<String>,
    /// Memory for the response cache, in MB [default: 32]
    #[arg(long, env = "CACHE_SIZE_MB", global = true, value_name = "MB")]
    pub cache_size_mb: Option<String>,
    /// Comma-separated content languages; the first is the default [default: en,ar,es]
    #[arg(long, env = "LANGUAGES", global = true, value_name = "CODES")]
    pub languages: Option<String>,
    /// Largest accepted request body in bytes [default: 2097152]
    #[arg(long, env = "MAX_BODY_BYTES", global = true, value_name = "BYTES")]
    pub max_body_bytes: Option<String>,
    /// Base of absolute links in feeds and sitemaps [default: http://127.0.0.1:8080]
    #[arg(long, env = "PUBLIC_BASE_URL", global = true, value_name = "URL")]
    pub public_base_url: Option<String>,
    /// Public URL of an article, with {base} {lang} {section} {slug} {id} [default: {base}/{lang}/{section}/{slug}]
    #[arg(
        long,
        env = "ARTICLE_URL_TEMPLATE",
        global = true,
        value_name = "TEMPLATE"
    )]
    pub article_url_template: Option<String>,
    /// Retired: replaced by --trusted-proxies (setting it stops start-up)
    #[arg(long, env = "TRUST_PROXY_HEADERS", global = true, hide = true)]
    pub trust_proxy_headers: Option<String>,
    /// Comma-separated addresses or CIDRs of proxies whose X-Forwarded-For/Forwarded headers are believed [default: none]
    #[arg(long, env = "TRUSTED_PROXIES", global = true, value_name = "CIDRS")]
    pub trusted_proxies: Option<String>,
    /// Sign-in failures allowed per account and client address per window [default: 5]
    #[arg(
        long,
        env = "SIGNIN_ACCOUNT_FAILURES",
        global = true,
        value_name = "COUNT"
    )]
    pub signin_account_failures: Option<String>,
    /// Sign-in failures allowed per client address per window [default: 20]
    #[arg(
        long,
        env = "SIGNIN_ADDRESS_FAILURES",
        global = true,
        value_name = "COUNT"
    )]
    pub signin_address_failures: Option<String>,
    /// The sign-in throttle's window in seconds [default: 900]
    #[arg(
        long,
        env = "SIGNIN_WINDOW_SECONDS",
        global = true,
        value_name = "SECONDS"
    )]
    pub signin_window_seconds: Option<String>,
    /// Uncached anonymous searches per second per client address, after the burst [default: 1]
    #[arg(long, env = "SEARCH_RATE", global = true, value_name = "PER_SECOND")]
    pub search_rate: Option<String>,
    /// Uncached anonymous searches a client address may make at once [default: 30]
    #[arg(long, env = "SEARCH_BURST", global = true, value_name = "COUNT")]
    pub search_burst: Option<String>,
    /// The publication's name in feeds and the news sitemap [default: newsdesk]
    #[arg(long, env = "PUBLICATION_NAME", global = true, value_name = "NAME")]
    pub publication_name: Option<String>,
    /// Most breaking-news streams open at once; more get 503 [default: 5000]
    #[arg(
        long,
        env = "STREAM_MAX_CONNECTIONS",
        global = true,
        value_name = "COUNT"
    )]
    pub stream_max_connections: Option<String>,
    /// Most breaking-news streams one client address may hold open; more get 429 [default: 100]
    #[arg(long, env = "STREAMS_PER_ADDRESS", global = true, value_name = "COUNT")]
    pub streams_per_address: Option<String>,
    /// Directory of uploaded files [default: media/ beside the SQLite file, or ./media]
    #[arg(long, env = "MEDIA_DIR", global = true, value_name = "PATH")]
    pub media_dir: Option<String>,
    /// An S3-compatible bucket for uploaded files instead of MEDIA_DIR: s3://bucket[/prefix] (credentials in AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT)
    #[arg(long, env = "MEDIA_STORE_URL", global = true, value_name = "URL")]
    pub media_store_url: Option<String>,
    /// Base of uploaded files' public URLs, e.g. a CDN [default: PUBLIC_BASE_URL/files]
    #[arg(long, env = "MEDIA_PUBLIC_URL", global = true, value_name = "URL")]
    pub media_public_url: Option<String>,
    /// Largest accepted upload in bytes [default: 20971520]
    #[arg(long, env = "MEDIA_MAX_BYTES", global = true, value_name = "BYTES")]
    pub media_max_bytes: Option<String>,
    /// Most pixels of an uploaded image, read from its header [default: 50000000]
    #[arg(long, env = "MEDIA_MAX_PIXELS", global = true, value_name = "PIXELS")]
    pub media_max_pixels: Option<String>,
    /// Comma-separated widths of the renditions of every uploaded image [default: 320,640,1024,1600,2400]
    #[arg(long, env = "MEDIA_WIDTHS", global = true, value_name = "WIDTHS")]
    pub media_widths: Option<String>,
    /// Days a trashed article is kept before it is removed for good [default: 30]
    #[arg(long, env = "TRASH_RETENTION_DAYS", global = true, value_name = "DAYS")]
    pub trash_retention_days: Option<String>,
    /// Seconds a refresh token stays usable after it was issued [default: 2592000, 30 days]
    #[arg(long, env = "REFRESH_TOKEN_TTL", global = true, value_name = "SECONDS")]
    pub refresh_token_ttl: Option<String>,
    /// Let webhooks reach private and loopback addresses (true/false) [default: false]
    #[arg(
        long,
        env = "WEBHOOK_ALLOW_PRIVATE",
        global = true,
        value_name = "BOOL"
    )]
    pub webhook_allow_private: Option<String>,
    /// Milliseconds before a failed delivery's first retry; each next one waits about 4x
    /// longer, at most 8 hours [default: 5000]
    #[arg(long, env = "WEBHOOK_FIRST_RETRY_MS", global = true, value_name = "MS")]
    pub webhook_first_retry_ms: Option<String>,
    /// Seconds of failures after which a webhook is disabled, and for which a delivery
    /// is retried [default: 86400]
    #[arg(
        long,
        env = "WEBHOOK_DISABLE_AFTER",
        global = true,
        value_name = "SECONDS"
    )]
    pub webhook_disable_after: Option<String>,
    /// Bearer token that `GET /metrics` requires; unset: /metrics is open
    #[arg(
        long,
        env = "METRICS_TOKEN",
        global = true,
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub metrics_token: Option<String>,
}

impl SettingArgs {
    fn into_raw(self) -> RawSettings {
        RawSettings {
            database_url: self.database_url,
            database_pool_size: self.database_pool_size,
            bind_addr: self.bind_addr,
            jwt_secret: self.jwt_secret,
            token_ttl_seconds: self.token_ttl_seconds,
            admin_email: self.admin_email,
            admin_password: self.admin_password,
            cors_allowed_origins: self.cors_allowed_origins,
            cache_max_age_seconds: self.cache_max_age_seconds,
            cache_size_mb: self.cache_size_mb,
            languages: self.languages,
            max_body_bytes: self.max_body_bytes,
            public_base_url: self.public_base_url,
            article_url_template: self.article_url_template,
            trust_proxy_headers: self.trust_proxy_headers,
            trusted_proxies: self.trusted_proxies,
            signin_account_failures: self.signin_account_failures,
            signin_address_failures: self.signin_address_failures,
            signin_window_seconds: self.signin_window_seconds,
            search_rate: self.search_rate,
            search_burst: self.search_burst,
            publication_name: self.publication_name,
            stream_max_connections: self.stream_max_connections,
            streams_per_address: self.streams_per_address,
            media_dir: self.media_dir,
            media_store_url: self.media_store_url,
            media_public_url: self.media_public_url,
            media_max_bytes: self.media_max_bytes,
            media_max_pixels: self.media_max_pixels,
            trash_retention_days: self.trash_retention_days,
            refresh_token_ttl: self.refresh_token_ttl,
            webhook_allow_private: self.webhook_allow_private,
            webhook_first_retry_ms: self.webhook_first_retry_ms,
            webhook_disable_after: self.webhook_disable_after,
            metrics_token: self.metrics_token,
            media_widths: self.media_widths,
            // The S3 store's settings keep their usual names (read by the store's builder).
            aws: std::env::vars()
                .filter(|(k, v)| k.starts_with("AWS_") && !v.trim().is_empty())
                .map(|(k, v)| (k.to_lowercase(), v))
                .collect(),
        }
    }
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (the default): applies migrations and creates the first
    /// admin on an empty database.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI document.
    Openapi {
        /// Exit with an error when the committed file differs from the generated document.
        #[arg(long)]
        check: bool,
        /// Write the document to the committed file instead of printing it.
        #[arg(long, conflicts_with = "check")]
        write: bool,
        /// The committed file.
        #[arg(long, default_value = openapi::COMMITTED_PATH)]
        file: PathBuf,
    },
    /// Manage staff accounts. Passwords are read from NEWSDESK_PASSWORD or standard
    /// input, never from the command line.
    #[command(subcommand)]
    User(UserCommand),
    /// Copy the live database, consistently, into a new file (the server keeps running).
    Backup {
        /// The file to create; it must not exist yet.
        path: PathBuf,
    },
    /// Check the database: the SQLite file's integrity, or PostgreSQL's reach and schema
    /// version; prints `ok` when it is sound.
    Check,
    /// Rebuild the maintained counts (list totals, tags' article counts, the sitemap
    /// index and its children's times, SQLite's search index totals), and each tag,
    /// byline and region link's copy of its story's time and language, from the stories
    /// as they stand: after rows were edited by hand, or after an instance of an older
    /// release wrote once a newer one had migrated.
    Recount,
    /// Copy this SQLite newsroom (DATABASE_URL) into an empty PostgreSQL database.
    Copy {
        /// The PostgreSQL database to fill: postgres://user:password@host:port/database
        #[arg(long, value_name = "URL")]
        to: String,
    },
    /// Write the whole newsroom as NDJSON, to standard output or --output: every
    /// resource with its relations by slug, revisions, corrections; users without
    /// password hashes unless --with-credentials.
    Export {
        /// The file to create (it must not exist yet); standard output when left out.
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Put uploaded images' files in the export (base64), not only their metadata.
        #[arg(long)]
        with_files: bool,
        /// Put users' password hashes in the export, so they keep their passwords.
        #[arg(long)]
        with_credentials: bool,
    },
    /// Load an export, or a WordPress or Ghost export, into an empty database. An
    /// interrupted import, run again, carries on where it stopped. Every refused record
    /// is listed with its line and reason.
    Import {
        /// The file to read.
        file: PathBuf,
        /// What the file is.
        #[arg(long, value_enum, default_value = "newsdesk")]
        from: transfer::ImportFormat,
        /// Import into a database that has content: records whose slug (users: email)
        /// exists are matched to it and left as they are.
        #[arg(long)]
        merge: bool,
    },
    /// Work on the media library: import a folder of images, remake renditions.
    #[command(subcommand)]
    Media(media::MediaCommand),
    /// Fill the database with content: a demo newsroom, or synthetic articles.
    #[command(group = clap::ArgGroup::new("what").required(true))]
    Seed {
        /// A believable newsroom in English, Arabic and Spanish (on an empty database).
        #[arg(long, group = "what")]
        demo: bool,
        /// Add this many synthetic published articles (for benchmarks).
        #[arg(long, group = "what", value_name = "N")]
        articles: Option<usize>,
        /// With --articles: give each article a synthetic history of this many
        /// revisions (for sizing an archive).
        #[arg(long, value_name = "N", requires = "articles", default_value_t = 0)]
        revisions: usize,
        /// With --articles: short bodies of about N words (whole paragraphs, at least
        /// N), as in a large archive; without it, 6 to 9 paragraphs each.
        #[arg(long, value_name = "N", requires = "articles", value_parser = clap::value_parser!(u32).range(1..=100_000))]
        body_words: Option<u32>,
    },
}

/// `newsdesk user ...`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a staff account.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// The account's role
        #[arg(long, value_enum)]
        role: Role,
    },
    /// Set an account's password; its existing tokens stop working.
    SetPassword {
        #[arg(long)]
        email: String,
    },
}

/// A failure that ends the process, with its exit code.
#[derive(Debug)]
pub struct Exit {
    pub code: i32,
    pub message: String,
}

impl Exit {
    fn new(code: i32, message: impl std::fmt::Display) -> Self {
        Self {
            code,
            message: message.to_string(),
        }
    }
}

impl From<AppError> for Exit {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Validation(errors) => Exit::new(
                1,
                errors
                    .iter()
                    .map(|e| format!("{} {}", e.field, e.message))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            AppError::Internal(cause) => Exit::new(1, cause),
            other => Exit::new(1, other),
        }
    }
}

/// Runs the command line.
pub fn run(cli: Cli) -> Result<(), Exit> {
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Openapi { check, write, file } = &command {
        return openapi_command(*check, *write, file);
    }
    let config = Config::from_raw(cli.settings.into_raw()).map_err(|e| Exit::new(2, e))?;
    match command {
        Command::Serve => serve(config),
        Command::Migrate => {
            match &config.database {
                crate::config::Database::Postgres(url) => {
                    crate::db::postgres::migrate_url(url.expose()).map_err(|e| {
                        Exit::new(
                            1,
                            format!(
                                "cannot migrate {} (check DATABASE_URL): {e}",
                                config.database
                            ),
                        )
                    })?;
                }
                crate::config::Database::Sqlite(_) => drop(open_db(&config)?),
            }
            println!("migrations applied to {}", config.database);
            Ok(())
        }
        Command::User(cmd) => user_command(&config, cmd),
        Command::Seed {
            demo,
            articles,
            revisions,
            body_words,
        } => seed_command(&config, demo, articles, revisions, body_words),
        Command::Backup { path } => backup_command(&config, &path),
        Command::Check => check_command(&config),
        Command::Recount => recount_command(&config),
        Command::Copy { to } => copy_command(&config, &to),
        Command::Media(cmd) => media::run(&config, cmd),
        Command::Export {
            output,
            with_files,
            with_credentials,
        } => transfer::export_command(
            &config,
            output.as_deref(),
            crate::transfer::export::ExportOptions {
                with_files,
                with_credentials,
            },
        ),
        Command::Import { file, from, merge } => transfer::import_command(
            &config,
            &file,
            from,
            crate::transfer::import::ImportOptions { merge, batch: None },
        ),
        Command::Openapi { .. } => unreachable!("handled above"),
    }
}

/// The database for a one-off command. When the command ends, its workers stop in
/// order: queued writes are committed and the WAL is emptied.
struct CommandDb {
    db: Db,
    workers: crate::workers::Workers,
}

impl std::ops::Deref for CommandDb {
    type Target = Db;
    fn deref(&self) -> &Db {
        &self.db
    }
}

impl Drop for CommandDb {
    fn drop(&mut self) {
        self.workers.stop_all();
    }
}

fn open_db(config: &Config) -> Result<CommandDb, Exit> {
    let workers = crate::workers::Workers::new();
    match Db::open(&config.database, config.database_pool_size, &workers) {
        Ok(db) => Ok(CommandDb { db, workers }),
        Err(e) => {
            workers.stop_all();
            Err(Exit::new(1, e))
        }
    }
}

fn serve(config: Config) -> Result<(), Exit> {
    if let Some(limit) = crate::limits::raise_open_files() {
        tracing::info!(open_files = limit, "open-file limit");
    }
    let seed = config.admin.clone();
    let state = AppState::open(config).map_err(|e| Exit::new(1, e))?;
    ensure_first_admin(&state.db, seed.as_ref())?;
    server::run(state).map_err(|e| Exit::new(1, e))
}

/// Creates the first admin on a database without users, printing a generated
/// password once.
fn ensure_first_admin(db: &Db, seed: Option<&crate::config::AdminSeed>) -> Result<(), Exit> {
    if !db.read_blocking(users::none_exist)? {
        return Ok(());
    }
    let (new, generated) = users::first_admin(seed);
    let hash = password::hash(&new.password)?;
    let user = db.write_blocking(move |conn| {
        if users::none_exist(conn)? {
            users::insert(conn, &new, &hash).map(Some)
        } else {
            Ok(None)
        }
    })?;
    let Some(user) = user else { return Ok(()) };
    match generated {
        Some(g) => {
            // Printed once, to the terminal only: never through the logger.
            println!();
            println!("  First admin account created (shown only this once):");
            println!("    email:    {}", g.email);
            println!("    password: {}", g.password);
            println!(
                "  Change it with: newsdesk user set-password --email {}",
                g.email
            );
            println!();
        }
        None => tracing::info!(email = %user.email, "created the first admin from ADMIN_EMAIL"),
    }
    Ok(())
}

fn seed_command(
    config: &Config,
    demo: bool,
    articles: Option<usize>,
    revisions: usize,
    body_words: Option<u32>,
) -> Result<(), Exit> {
    let db = open_db(config)?;
    ensure_first_admin(&db, config.admin.as_ref())?;
    let admin = db
        .read_blocking(users::first_active_admin)?
        .ok_or_else(|| Exit::new(1, "no active admin to record as the creator"))?;
    if demo {
        let languages = config.languages.clone();
        let site = crate::domain::feeds::Site::of(config);
        let summary = db.write_content_blocking(move |conn| {
            seed::demo::seed(conn, admin, &languages, &site)
                .map(|summary| crate::db::Written::content(summary, crate::db::Scope::All))
        })?;
        println!(
            "demo newsroom ready: {} articles, {} authors, {} tags, {} images, {} breaking items, \
             {} collection",
            summary.articles,
            summary.authors,
            summary.tags,
            summary.media,
            summary.breaking,
            summary.collections
        );
    }
    if let Some(n) = articles {
        let summary = seed::bulk::seed_with_history(
            &db,
            n,
            revisions,
            body_words.map(|w| w as usize),
            Some(admin.id),
        )?;
        println!(
            "added {} articles in {:.1} s ({:.0} articles/s)",
            summary.articles,
            summary.seconds,
            summary.articles as f64 / summary.seconds.max(0.001)
        );
    }
    Ok(())
}

/// A plain connection to an existing SQLite database: no migrations, no server threads.
fn connect(path: &std::path::Path) -> Result<diesel::SqliteConnection, Exit> {
    if !path.exists() {
        return Err(Exit::new(1, format!("{} does not exist", path.display())));
    }
    let url = path.to_string_lossy().into_owned();
    let mut conn = sqlite::establish(&url).map_err(|e| Exit::new(1, e))?;
    sqlite::ConnectionSetup::apply(&mut conn).map_err(|e| Exit::new(1, e))?;
    Ok(conn)
}

/// `newsdesk recount`: on an existing newsroom only (a mistyped SQLite path would
/// otherwise get a new empty database, and a recount of nothing).
fn recount_command(config: &Config) -> Result<(), Exit> {
    if let Some(path) = config.database.sqlite_path()
        && !path.exists()
    {
        return Err(Exit::new(1, format!("{} does not exist", path.display())));
    }
    let db = open_db(config)?;
    let keys = db.write_content_blocking(|conn| {
        crate::domain::counts::recount(conn)
            .map(|keys| crate::db::Written::content(keys, crate::db::Scope::All))
    })?;
    println!("counts rebuilt from the stories: {keys} keys");
    Ok(())
}

fn backup_command(config: &Config, path: &std::path::Path) -> Result<(), Exit> {
    let Some(source) = config.database.sqlite_path() else {
        return Err(Exit::new(
            1,
            "newsdesk backup copies a SQLite file; on PostgreSQL use the server's own tools: \
             pg_dump --format=custom --file=newsdesk.dump \"$DATABASE_URL\"",
        ));
    };
    let mut conn = connect(source)?;
    let started = std::time::Instant::now();
    sqlite::backup_into(&mut conn, path)?;
    let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    println!(
        "backed up {} to {} ({:.1} MB in {:.1} s)",
        source.display(),
        path.display(),
        bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn copy_command(config: &Config, to: &str) -> Result<(), Exit> {
    let Some(source) = config.database.sqlite_path() else {
        return Err(Exit::new(
            1,
            "newsdesk copy reads a SQLite newsroom: set DATABASE_URL to its file",
        ));
    };
    let target = match crate::config::Database::Postgres(crate::config::Secret::new(to)) {
        t if to.starts_with("postgres://") || to.starts_with("postgresql://") => t,
        _ => return Err(Exit::new(2, "--to must be a postgres:// URL")),
    };
    let mut from = connect(source)?;
    let started = std::time::Instant::now();
    let copied = crate::db::copy::sqlite_to_postgres(&mut from, to)
        .map_err(|e| Exit::new(1, format!("copy to {target} failed: {e}")))?;
    println!(
        "copied {} rows ({} articles) from {} to {target} in {:.1} s",
        copied.rows,
        copied.articles,
        source.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn check_command(config: &Config) -> Result<(), Exit> {
    match &config.database {
        crate::config::Database::Sqlite(path) => {
            let mut conn = connect(path)?;
            let verdict = sqlite::integrity_check(&mut conn)?;
            println!("{verdict}");
            if verdict == "ok" {
                Ok(())
            } else {
                Err(Exit::new(1, "the database file is damaged"))
            }
        }
        crate::config::Database::Postgres(url) => {
            let mut conn = crate::db::postgres::connect_plain(url.expose()).map_err(|e| {
                Exit::new(
                    1,
                    format!(
                        "cannot connect to {} (check DATABASE_URL): {e}",
                        config.database
                    ),
                )
            })?;
            let (latest, pending) = crate::db::postgres::schema_state(&mut conn)
                .map_err(|e| Exit::new(1, format!("cannot read the schema version: {e}")))?;
            if pending > 0 {
                println!("schema at {latest}; {pending} migrations pending (run newsdesk migrate)");
                return Err(Exit::new(1, "the database schema is behind this binary"));
            }
            println!("ok (PostgreSQL, schema at {latest})");
            Ok(())
        }
    }
}

fn openapi_command(check: bool, write: bool, file: &PathBuf) -> Result<(), Exit> {
    let generated = openapi::document_json();
    if write {
        if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Exit::new(1, e))?;
        }
        std::fs::write(file, &generated).map_err(|e| Exit::new(1, e))?;
        println!("wrote {}", file.display());
        return Ok(());
    }
    if check {
        let committed = std::fs::read_to_string(file)
            .map_err(|e| Exit::new(1, format!("cannot read {}: {e}", file.display())))?;
        if committed != generated {
            return Err(Exit::new(
                1,
                format!(
                    "{} differs from the generated document; run `newsdesk openapi --write`",
                    file.display()
                ),
            ));
        }
        println!("{} is up to date", file.display());
        return Ok(());
    }
    std::io::stdout()
        .write_all(generated.as_bytes())
        .map_err(|e| Exit::new(1, e))
}

/// Reads a password from `NEWSDESK_PASSWORD`, or else the first line of standard input.
fn read_password() -> Result<String, Exit> {
    if let Ok(pw) = std::env::var("NEWSDESK_PASSWORD")
        && !pw.is_empty()
    {
        return Ok(pw);
    }
    eprint!("password (then Enter): ");
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Exit::new(1, e))?;
    let pw = line.trim_end_matches(['\n', '\r']).to_owned();
    password::check_strength(&pw).map_err(|m| Exit::new(1, format!("password {m}")))?;
    Ok(pw)
}

fn user_command(config: &Config, cmd: UserCommand) -> Result<(), Exit> {
    let db = open_db(config)?;
    match cmd {
        UserCommand::Create { email, name, role } => {
            let pw = read_password()?;
            let body = users::UserCreate {
                email: crate::domain::input::Input::Value(email),
                name: crate::domain::input::Input::Value(name),
                role: crate::domain::input::Input::Value(role),
                password: crate::domain::input::Input::Value(pw),
                ..Default::default()
            };
            let new = users::validate_create(body)?;
            let hash = password::hash(&new.password)?;
            let user = db.write_blocking(move |conn| users::insert(conn, &new, &hash))?;
            println!(
                "created {} ({}) with id {}",
                user.email,
                user.role.as_str(),
                user.id
            );
            Ok(())
        }
        UserCommand::SetPassword { email } => {
            let pw = read_password()?;
            password::check_strength(&pw).map_err(|m| Exit::new(1, format!("password {m}")))?;
            let who = email.clone();
            let account = db
                .read_blocking(move |conn| users::find_by_email(conn, &who))?
                .ok_or_else(|| AppError::not_found("user"))?;
            let new_password = users::prepare_operator_password(&account, &pw)?;
            db.write_blocking(move |conn| {
                let change = users::UserChange {
                    password: Some(pw.clone()),
                    ..Default::default()
                };
                users::apply_change(conn, account.id, &change, Some(new_password))
            })?;
            println!("password changed for {email}; its existing tokens no longer work");
            Ok(())
        }
    }
}
