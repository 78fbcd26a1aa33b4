//! Prometheus metrics for `GET /metrics`, with the prometheus-client crate.
//!
//! Requests are counted and timed by route template (`/api/v1/articles/{id_or_slug}`,
//! never a raw path, so a crawler cannot grow the series without bound), method and
//! status. The cache, the database pool, the writer queue and the live streams are
//! read when scraped; webhook attempts are counted as they finish.

use std::sync::LazyLock;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// The content type of what [`render`] writes.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The route label of a request no route matched.
pub const UNMATCHED: &str = "unmatched";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
    method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    pool: &'static str,
    state: &'static str,
}

struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    webhook_attempts: Family<OutcomeLabels, Counter>,
    cache_hits: Gauge,
    cache_misses: Gauge,
    cache_bytes: Gauge,
    search_matches_reused: Gauge,
    db_jobs: Family<JobLabels, Gauge>,
    streams: Gauge,
    checkpoint_backlog: Gauge,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let mut registry = Registry::with_prefix("newsdesk");
    let requests = Family::<RequestLabels, Counter>::default();
    registry.register(
        "http_requests",
        "HTTP requests answered, by route template, method and status",
        requests.clone(),
    );
    let latency = Family::<RouteLabels, Histogram>::new_with_constructor(
        (|| Histogram::new(exponential_buckets(0.0001, 2.5, 14))) as fn() -> Histogram,
    );
    registry.register(
        "http_request_duration_seconds",
        "Time to answer a request (to its headers), by route template and method",
        latency.clone(),
    );
    let webhook_attempts = Family::<OutcomeLabels, Counter>::default();
    // Both outcomes from the start, at 0, so a dashboard's rate has a series to read.
    for outcome in ["success", "failure"] {
        drop(webhook_attempts.get_or_create(&OutcomeLabels { outcome }));
    }
    registry.register(
        "webhook_attempts",
        "Webhook delivery attempts made by this instance, by outcome (success: a 2xx)",
        webhook_attempts.clone(),
    );
    let cache_hits = Gauge::default();
    registry.register(
        "cache_hits",
        "Reads answered from the representation cache since start",
        cache_hits.clone(),
    );
    let cache_misses = Gauge::default();
    registry.register(
        "cache_misses",
        "Cacheable reads the representation cache did not hold, since start",
        cache_misses.clone(),
    );
    let cache_bytes = Gauge::default();
    registry.register(
        "cache_bytes",
        "Bytes the representation cache holds",
        cache_bytes.clone(),
    );
    let search_matches_reused = Gauge::default();
    registry.register(
        "search_matches_reused",
        "Anonymous searches that missed the representation cache but reused the ranked \
         matches of an earlier search of the same words, since start",
        search_matches_reused.clone(),
    );
    let db_jobs = Family::<JobLabels, Gauge>::default();
    registry.register(
        "db_jobs",
        "Database work by pool (read: the reader pool; write: the writer queue on SQLite, \
         the write pool on PostgreSQL) and state (queued: waiting for a connection)",
        db_jobs.clone(),
    );
    let streams = Gauge::default();
    registry.register(
        "breaking_streams_open",
        "Open connections to the live breaking stream",
        streams.clone(),
    );
    let checkpoint_backlog = Gauge::default();
    registry.register(
        "checkpoint_backlog_pages",
        "Committed pages not yet copied from the write-ahead log into the database file \
         (SQLite; always 0 on PostgreSQL, whose server keeps its own log)",
        checkpoint_backlog.clone(),
    );
    Metrics {
        registry,
        requests,
        latency,
        webhook_attempts,
        cache_hits,
        cache_misses,
        cache_bytes,
        search_matches_reused,
        db_jobs,
        streams,
        checkpoint_backlog,
    }
});

/// Counts and times an answered request. `route` is the matched template.
pub fn request(route: Option<&str>, method: &str, status: u16, seconds: f64) {
    let route = route.unwrap_or(UNMATCHED).to_owned();
    let method = method.to_owned();
    METRICS
        .latency
        .get_or_create(&RouteLabels {
            route: route.clone(),
            method: method.clone(),
        })
        .observe(seconds);
    METRICS
        .requests
        .get_or_create(&RequestLabels {
            route,
            method,
            status,
        })
        .inc();
}

/// Counts a finished webhook attempt.
pub fn webhook_attempt(succeeded: bool) {
    let outcome = if succeeded { "success" } else { "failure" };
    METRICS
        .webhook_attempts
        .get_or_create(&OutcomeLabels { outcome })
        .inc();
}

/// What is read at scrape time.
#[derive(Debug, Clone, Copy, Default)]
pub struct Readings {
    pub cache_hits: u64,
    pub cache_misses: u64,
    pub cache_bytes: u64,
    /// Anonymous searches that reused an earlier search's matches.
    pub search_matches_reused: u64,
    /// Reads queued and running, writes queued and running.
    pub db: (usize, usize, usize, usize),
    pub streams: usize,
    /// Pages of the WAL not yet in the database file.
    pub checkpoint_backlog_pages: i64,
}

/// The metrics in the OpenMetrics text format (which Prometheus reads).
pub fn render(now: Readings) -> String {
    let m = &*METRICS;
    let as_gauge = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    m.cache_hits.set(as_gauge(now.cache_hits));
    m.cache_misses.set(as_gauge(now.cache_misses));
    m.cache_bytes.set(as_gauge(now.cache_bytes));
    m.search_matches_reused
        .set(as_gauge(now.search_matches_reused));
    let (rq, rr, wq, wr) = now.db;
    for (pool, state, n) in [
        ("read", "queued", rq),
        ("read", "running", rr),
        ("write", "queued", wq),
        ("write", "running", wr),
    ] {
        m.db_jobs
            .get_or_create(&JobLabels { pool, state })
            .set(n as i64);
    }
    m.streams.set(now.streams as i64);
    m.checkpoint_backlog.set(now.checkpoint_backlog_pages);
    let mut text = String::new();
    if prometheus_client::encoding::text::encode(&mut text, &m.registry).is_err() {
        text.clear();
    }
    text
}
