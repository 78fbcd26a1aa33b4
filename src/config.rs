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
pub const DEFAULT_PUBLIC_BASE_URL: &str = "http://127.0.0.1:8080";
/// Default template of an article's public URL.
pub const DEFAULT_ARTICLE_URL_TEMPLATE: &str = "{base}/{lang}/{section}/{slug}";
/// Shortest accepted `JWT_SECRET`, in bytes.
/// Default publication name in feeds and the news sitemap.
pub const DEFAULT_PUBLICATION_NAME: &str = "newsdesk";
/// Default cap on open breaking-news streams per instance.
pub const DEFAULT_STREAM_MAX_CONNECTIONS: u64 = 5_000;
pub const MIN_JWT_SECRET_BYTES: usize = 32;

/// Every setting as the command line layer found it, before any checking.
#[derive(Debug, Clone, Default)]
pub struct RawSettings {
    pub database_url: Option<String>,
    pub bind_addr: Option<String>,
    pub jwt_secret: Option<String>,
    pub token_ttl_seconds: Option<String>,
    pub admin_email: Option<String>,
    pub admin_password: Option<String>,
    pub cors_allowed_origins: Option<String>,
    pub cache_max_age_seconds: Option<String>,
    pub languages: Option<String>,
    pub max_body_bytes: Option<String>,
    pub public_base_url: Option<String>,
    pub article_url_template: Option<String>,
    pub trust_proxy_headers: Option<String>,
    pub publication_name: Option<String>,
    pub stream_max_connections: Option<String>,
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
    pub database_path: PathBuf,
    pub bind_addr: SocketAddr,
    /// `None` means: use (or create) the secret stored in the database.
    pub jwt_secret: Option<Secret>,
    pub token_ttl_seconds: u64,
    pub admin: Option<AdminSeed>,
    /// Origins allowed to write from a browser; reads are open to any origin.
    pub cors_allowed_origins: Vec<String>,
    pub cache_max_age_seconds: u32,
    pub languages: Vec<String>,
    pub max_body_bytes: usize,
    pub public_base_url: String,
    pub article_url_template: String,
    /// Take the client address from `X-Forwarded-For` (behind a trusted proxy only).
    pub trust_proxy_headers: bool,
    /// The publication's name, as feeds and the news sitemap give it.
    pub publication_name: String,
    /// Most breaking-news streams open at once; more get 503.
    pub stream_max_connections: usize,
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
        let database_path = parse_database_url(raw.database_url.as_deref())?;
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
        let languages = parse_languages(raw.languages)?;
        let max_body_bytes = parse_number(
            "MAX_BODY_BYTES",
            raw.max_body_bytes,
            DEFAULT_MAX_BODY_BYTES as u64,
            1024,
            64 * 1024 * 1024,
        )? as usize;
        let public_base_url = parse_base_url(raw.public_base_url)?;
        let article_url_template = parse_url_template(raw.article_url_template)?;
        let trust_proxy_headers = parse_bool("TRUST_PROXY_HEADERS", raw.trust_proxy_headers)?;
        let publication_name = parse_publication_name(raw.publication_name)?;
        let stream_max_connections = parse_number(
            "STREAM_MAX_CONNECTIONS",
            raw.stream_max_connections,
            DEFAULT_STREAM_MAX_CONNECTIONS,
            1,
            1_000_000,
        )? as usize;
        Ok(Self {
            database_path,
            bind_addr,
            jwt_secret,
            token_ttl_seconds,
            admin,
            cors_allowed_origins,
            cache_max_age_seconds,
            languages,
            max_body_bytes,
            public_base_url,
            article_url_template,
            trust_proxy_headers,
            publication_name,
            stream_max_connections,
        })
    }

    /// The language a resource gets when a create does not name one.
    pub fn default_language(&self) -> &str {
        &self.languages[0]
    }

    /// A configuration for tests and tools: every default, over the given database file.
    pub fn for_database(path: impl Into<PathBuf>) -> Self {
        let mut config = Self::from_raw(RawSettings::default())
            .unwrap_or_else(|e| unreachable!("defaults are valid: {e}"));
        config.database_path = path.into();
        config
    }
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

fn parse_database_url(value: Option<&str>) -> Result<PathBuf, ConfigError> {
    let value = value.map(str::trim).filter(|v| !v.is_empty());
    let value = value.unwrap_or(DEFAULT_DATABASE_URL);
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
    Ok(PathBuf::from(path))
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

fn parse_bool(name: &'static str, value: Option<String>) -> Result<bool, ConfigError> {
    match non_empty(value).as_deref() {
        None | Some("false") | Some("0") | Some("no") => Ok(false),
        Some("true") | Some("1") | Some("yes") => Ok(true),
        Some(other) => Err(ConfigError::new(
            name,
            format!("expected true or false, got {other:?}"),
        )),
    }
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

fn parse_base_url(value: Option<String>) -> Result<String, ConfigError> {
    let value = non_empty(value).unwrap_or_else(|| DEFAULT_PUBLIC_BASE_URL.to_owned());
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
        .replace("{id}", "1");
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
        assert_eq!(config.database_path, PathBuf::from("newsdesk.db"));
        assert_eq!(config.bind_addr.to_string(), "127.0.0.1:8080");
        assert_eq!(config.languages, ["en", "ar", "es"]);
        assert_eq!(config.max_body_bytes, 2 * 1024 * 1024);
        assert_eq!(config.token_ttl_seconds, 3600);
        assert!(config.jwt_secret.is_none());
        assert!(config.admin.is_none());
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
