//! `/healthz`, `/readyz`, `/livez` and the OpenAPI document.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::settings;
use crate::error::AppError;
use crate::http::cache::Uncacheable;
use crate::http::problem::OwnErrorBody;
use crate::http::state::AppState;

/// Body of `/healthz`, `/readyz` and `/livez`: `status` is `ok` when every part is.
/// Each part is `ok` or the reason it is not.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`, or `unavailable` when some part is not.
    #[schema(example = "ok")]
    pub status: String,
    /// Reads from the real database file.
    #[schema(example = "ok")]
    pub database: String,
    /// Writes: the last commit, the database file still in place, the disk.
    #[schema(example = "ok")]
    pub writes: String,
    /// The background workers together.
    #[schema(example = "ok")]
    pub workers: String,
    /// Each background worker by name.
    #[schema(value_type = Object, example = json!({"db-writer": "ok", "db-checkpoint": "ok"}))]
    pub worker_details: std::collections::BTreeMap<String, String>,
}

const OK: &str = "ok";

fn part(problem: Option<String>) -> String {
    problem.unwrap_or_else(|| OK.to_owned())
}

/// `None` when reads from the real database work.
async fn database_problem(state: &AppState) -> Option<String> {
    if let Some(reason) = state.db.moved() {
        return Some(reason);
    }
    match state.db.read(crate::db::dialect::ping).await {
        Ok(()) => None,
        Err(_) => Some("the database does not answer".into()),
    }
}

/// `None` when writes can succeed. After a failed commit, a small real write (a
/// heartbeat row) tells whether they work again, say once space is freed on a full
/// disk; while commits succeed nothing is written.
async fn writes_problem(state: &AppState) -> Option<String> {
    if let Some(reason) = state.db.moved() {
        return Some(reason);
    }
    // The threads that commit: SQLite's writer, or PostgreSQL's writer threads.
    let writers: Vec<Option<String>> = state
        .workers
        .report()
        .into_iter()
        .filter(|(name, _)| name == "db-writer" || name.starts_with("db-write-"))
        .map(|(_, problem)| problem)
        .collect();
    let failed = writers.iter().any(Option::is_some);
    match (writers.is_empty(), failed) {
        (true, _) => Some("the database writer is not running".into()),
        (false, false) => None,
        (false, true) => match state.db.write(settings::heartbeat).await {
            // SQLite's writer decides whether the heartbeat proves writes back (see
            // `db::writer`: a small write can commit on a nearly full disk); on
            // PostgreSQL a committed heartbeat is the server answering again.
            Ok(()) => state
                .workers
                .report()
                .into_iter()
                .find(|(name, _)| name == "db-writer")
                .and_then(|(_, problem)| problem),
            Err(AppError::Unavailable(reason)) => Some(reason),
            Err(_) => Some("the last write could not be committed".into()),
        },
    }
}

fn respond(health: Health) -> HttpResponse {
    let mut res = if health.status == OK {
        HttpResponse::Ok().json(&health)
    } else {
        let mut res = HttpResponse::ServiceUnavailable();
        res.insert_header((actix_web::http::header::RETRY_AFTER, "5"));
        res.json(&health)
    };
    // Never kept by this server's cache nor by any cache in front.
    res.headers_mut().insert(
        actix_web::http::header::CACHE_CONTROL,
        actix_web::http::header::HeaderValue::from_static("no-store"),
    );
    res.extensions_mut().insert(Uncacheable);
    res.extensions_mut().insert(OwnErrorBody);
    res
}

/// The state of the whole service, for monitors and alerts: 200 when reads, writes and
/// every background worker work, 503 (with the same body) when any does not. A full
/// disk, a database file moved away or a failed worker shows here, named.
#[utoipa::path(
    tag = "Service",
    responses(
        (status = 200, description = "Everything works", body = Health),
        (status = 503, description = "Some part does not work; the body says which", body = Health),
    )
)]
#[get("/healthz")]
pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    let database = database_problem(&state).await;
    let writes = writes_problem(&state).await;
    let worker_details: std::collections::BTreeMap<String, String> = state
        .workers
        .report()
        .into_iter()
        .map(|(name, problem)| (name, part(problem)))
        .collect();
    let failing: Vec<String> = worker_details
        .iter()
        .filter(|(_, status)| status.as_str() != OK)
        .map(|(name, status)| format!("{name}: {status}"))
        .collect();
    let workers = if failing.is_empty() {
        None
    } else {
        Some(failing.join("; "))
    };
    let healthy = database.is_none() && writes.is_none() && workers.is_none();
    respond(Health {
        status: if healthy { OK } else { "unavailable" }.to_owned(),
        database: part(database),
        writes: part(writes),
        workers: part(workers),
        worker_details,
    })
}

/// Whether this instance should get traffic, for load balancers: 200 while it can serve
/// reads from the real database, 503 when the database does not answer, its file was
/// moved away, or the instance is stopping. A full disk that stops writes does not take
/// the readers' site down.
#[utoipa::path(
    tag = "Service",
    responses(
        (status = 200, description = "Ready for traffic", body = Health),
        (status = 503, description = "Send traffic elsewhere", body = Health),
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let mut database = database_problem(&state).await;
    if database.is_none() && state.is_stopping() {
        database = Some("the instance is stopping".into());
    }
    respond(Health::reads_only(database))
}

/// Whether the process answers at all, for restarts: always 200.
#[utoipa::path(
    tag = "Service",
    responses((status = 200, description = "The process answers", body = Health))
)]
#[get("/livez")]
pub async fn livez() -> HttpResponse {
    respond(Health {
        database: "not checked".into(),
        ..Health::reads_only(None)
    })
}

impl Health {
    /// The answer of a probe that looks at reads only (or at nothing): writes and
    /// workers are "not checked".
    fn reads_only(database: Option<String>) -> Self {
        let not_checked = || "not checked".to_owned();
        Self {
            status: if database.is_none() {
                OK
            } else {
                "unavailable"
            }
            .to_owned(),
            database: part(database),
            writes: not_checked(),
            workers: not_checked(),
            worker_details: Default::default(),
        }
    }
}

/// The served OpenAPI document, rendered once at start-up.
#[derive(Debug, Clone)]
pub struct OpenApiJson(pub web::Bytes);

/// This document: OpenAPI 3.1, generated from the code.
#[utoipa::path(
    tag = "Service",
    responses((status = 200, description = "The OpenAPI document", body = Object, content_type = "application/json"))
)]
#[get("/openapi.json")]
pub async fn openapi_json(doc: web::Data<OpenApiJson>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(doc.0.clone())
}

/// Metrics for Prometheus, in the OpenMetrics text format: requests by route template
/// (such as `/api/v1/articles/{id_or_slug}`), method and status, with latency
/// histograms; representation cache hits, misses and size; database work queued and
/// running; open breaking streams; webhook delivery attempts; the SQLite checkpoint
/// backlog in pages (how far copying the write-ahead log into the database file lags:
/// here and not in `/healthz`, which anyone may read, since it moves with every write,
/// drafts' too). When `METRICS_TOKEN` is
/// set, send it as `Authorization: Bearer <METRICS_TOKEN>` (anything else is 401);
/// unset, the endpoint is open (keep it off the public internet, or set the token).
#[utoipa::path(
    tag = "Service",
    responses(
        (status = 200, description = "The metrics", body = String, content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8"),
        (status = 401, response = crate::http::responses::Unauthorized),
    )
)]
#[get("/metrics")]
pub async fn metrics(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse, AppError> {
    if let Some(expected) = &state.config.metrics_token {
        let given = req
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, t)| t.trim())
            .unwrap_or("");
        let a = crate::auth::secrets::sha256_hex(given);
        let b = crate::auth::secrets::sha256_hex(expected.expose());
        // Compared as hashes, so the time taken says nothing about the token.
        if a != b {
            return Err(AppError::Unauthorized(
                "send METRICS_TOKEN as a bearer token".into(),
            ));
        }
    }
    let cache = state.cache.stats();
    let text = crate::metrics::render(crate::metrics::Readings {
        cache_hits: cache.hits,
        cache_misses: cache.misses,
        cache_bytes: cache.bytes,
        search_matches_reused: cache.matches_reused,
        db: state.db.load(),
        streams: state.hub.connections(),
        checkpoint_backlog_pages: state.db.checkpoint_backlog(),
    });
    let mut res = HttpResponse::Ok()
        .content_type(crate::metrics::CONTENT_TYPE)
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .body(text);
    res.extensions_mut().insert(Uncacheable);
    Ok(res)
}
