//! The delivery worker: sends due deliveries, signs them, records each attempt, and
//! schedules retries.
//!
//! Each endpoint has a lane: a task that sends a batch of its due deliveries one after
//! the other, in id order (the order their events were committed). A batch is claimed
//! with a lease: the deliveries' next attempt moves ahead in the claiming transaction
//! (on PostgreSQL with `FOR UPDATE SKIP LOCKED`, so instances never claim the same
//! row), and a crash during the batch only means its deliveries are made again when the
//! lease ends, with the same `webhook-id`. Every attempt has a 10-second timeout, and
//! lanes run side by side, so a slow or dead endpoint never holds up the others, and
//! never the API (which only writes the outbox). Redirects are not followed, and every
//! connection goes to an address the rules of [`super::address`] allow, checked after
//! the name is resolved.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use rand::Rng;

use super::{Attempt, DeliveryState, WAKE, address, sign};
use crate::config::WebhookSettings;
use crate::db::{Db, DbConn};
use crate::domain::time::Timestamp;
use crate::error::AppResult;
use crate::schema::{webhook_deliveries, webhook_events, webhooks};
use crate::workers::{Context, Stage, Workers};

/// How long an attempt may take, connection included.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// Deliveries claimed at once for one endpoint: its lane sends them one after the
/// other, in commit order (a failed one is retried later, on its own schedule, and
/// does not hold back those after it).
const BATCH: i64 = 4;

/// How far a claim moves a delivery's next attempt: longer than its lane can take to
/// reach it. A claim lost in a crash is made again when its lease ends.
fn lease() -> chrono::Duration {
    chrono::Duration::seconds(TIMEOUT.as_secs() as i64 * BATCH + 5)
}
/// How long a finished attempt waits, at most, to be recorded (attempts are recorded
/// a batch at a time).
const RECORD_WITHIN: Duration = Duration::from_secs(1);
/// How often due deliveries are looked for without a wake-up (retries, and events
/// other instances queued).
const POLL: Duration = Duration::from_millis(250);
/// The longest wait between two retries.
const MAX_DELAY: Duration = Duration::from_secs(8 * 3600);
/// Attempt log entries kept per delivery.
const LOG_KEEP: usize = 20;

/// The wait before retry number `n` (1 is the first retry): the first retry's wait,
/// times 4 for each retry after it, at most 8 hours, give or take a fifth at random so
/// that endpoints coming back are not hit by every retry at once.
pub fn delay(first: Duration, n: u32) -> Duration {
    let base = first
        .saturating_mul(4u32.saturating_pow(n.saturating_sub(1)))
        .min(MAX_DELAY);
    base.mul_f64(rand::rng().random_range(0.8..1.2))
}

/// A delivery claimed for an attempt.
#[derive(Debug, Clone)]
struct Claimed {
    id: i32,
    webhook_id: i32,
    url: String,
    secret: String,
    msg_id: String,
    body: String,
    attempts: i32,
    created_at: chrono::NaiveDateTime,
}

/// How an attempt went.
#[derive(Debug)]
struct Outcome {
    claimed: Claimed,
    attempt: Attempt,
}

impl Outcome {
    fn succeeded(&self) -> bool {
        self.attempt.status.is_some_and(|s| (200..300).contains(&s))
    }
}

type ClaimRow = (
    i32,
    i32,
    String,
    String,
    String,
    String,
    i32,
    chrono::NaiveDateTime,
);

/// Claims, for each active endpoint whose lane is free (not in `busy`), up to
/// [`BATCH`] of its due deliveries in id order: one indexed read per endpoint, however
/// long the backlog.
fn claim(conn: &mut DbConn, busy: &[i32]) -> AppResult<Vec<Claimed>> {
    let now = chrono::Utc::now().naive_utc();
    let hooks: Vec<i32> = crate::on_backend!(conn, |c| webhooks::table
        .filter(webhooks::active.eq(true))
        .select(webhooks::id)
        .order(webhooks::id.asc())
        .load(c)?);
    let mut ids: Vec<i32> = Vec::new();
    for hook in hooks.into_iter().filter(|h| !busy.contains(h)) {
        let due = webhook_deliveries::table
            .filter(webhook_deliveries::webhook_id.eq(hook))
            .filter(diesel::dsl::sql::<diesel::sql_types::Bool>(
                "state = 'pending'",
            ))
            .filter(webhook_deliveries::next_attempt_at.le(now))
            .order(webhook_deliveries::id.asc())
            .select(webhook_deliveries::id)
            .limit(BATCH);
        let found: Vec<i32> = match conn {
            DbConn::Sqlite(c) => due.load(c)?,
            DbConn::Postgres(c) => due.for_update().skip_locked().load(c)?,
        };
        ids.extend(found);
    }
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    diesel::update(webhook_deliveries::table.filter(webhook_deliveries::id.eq_any(&ids)))
        .set(webhook_deliveries::next_attempt_at.eq(Some(now + lease())))
        .execute(conn)?;
    let rows: Vec<ClaimRow> = crate::on_backend!(conn, |c| webhook_deliveries::table
        .inner_join(webhooks::table)
        .inner_join(webhook_events::table)
        .filter(webhook_deliveries::id.eq_any(&ids))
        .order(webhook_deliveries::id.asc())
        .select((
            webhook_deliveries::id,
            webhook_deliveries::webhook_id,
            webhooks::url,
            webhooks::secret,
            webhook_events::msg_id,
            webhook_events::body,
            webhook_deliveries::attempts,
            webhook_deliveries::created_at,
        ))
        .load(c)?);
    Ok(rows
        .into_iter()
        .map(|r| Claimed {
            id: r.0,
            webhook_id: r.1,
            url: r.2,
            secret: r.3,
            msg_id: r.4,
            body: r.5,
            attempts: r.6,
            created_at: r.7,
        })
        .collect())
}

/// Records finished attempts: successes end their delivery and clear the endpoint's
/// failing mark; failures schedule a retry or, past the retry period, fail the
/// delivery, and disable an endpoint that has failed for the whole period.
fn record(conn: &mut DbConn, outcomes: &[Outcome], settings: &WebhookSettings) -> AppResult<()> {
    let now = chrono::Utc::now().naive_utc();
    // Endpoints that answered, once each: their failing mark is cleared below.
    let mut answered: Vec<i32> = Vec::new();
    for o in outcomes {
        // A first attempt has no log to extend (most deliveries: one read saved each).
        let log: String = if o.claimed.attempts == 0 {
            "[]".into()
        } else {
            crate::on_backend!(conn, |c| webhook_deliveries::table
                .find(o.claimed.id)
                .select(webhook_deliveries::attempt_log)
                .get_result::<String>(c)
                .optional()?)
            .unwrap_or_else(|| "[]".into())
        };
        let mut attempts: Vec<Attempt> = serde_json::from_str(&log).unwrap_or_default();
        attempts.push(o.attempt.clone());
        if attempts.len() > LOG_KEEP {
            attempts.drain(..attempts.len() - LOG_KEEP);
        }
        let made = o.claimed.attempts + 1;
        let (state, next) = if o.succeeded() {
            (DeliveryState::Succeeded, None)
        } else if now - o.claimed.created_at >= settings.disable_after {
            (DeliveryState::Failed, None)
        } else {
            let wait = delay(settings.first_retry, made as u32);
            let wait = chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(8));
            (DeliveryState::Pending, Some(now + wait))
        };
        diesel::update(webhook_deliveries::table.find(o.claimed.id))
            .set((
                webhook_deliveries::state.eq(state.as_str()),
                webhook_deliveries::attempts.eq(made),
                webhook_deliveries::next_attempt_at.eq(next),
                webhook_deliveries::last_status.eq(o.attempt.status.map(i32::from)),
                webhook_deliveries::last_duration_ms
                    .eq(i32::try_from(o.attempt.duration_ms).unwrap_or(i32::MAX)),
                webhook_deliveries::last_error.eq(&o.attempt.error),
                webhook_deliveries::attempt_log
                    .eq(serde_json::to_string(&attempts).unwrap_or_else(|_| "[]".into())),
                webhook_deliveries::updated_at.eq(now),
            ))
            .execute(conn)?;
        if o.succeeded() {
            if !answered.contains(&o.claimed.webhook_id) {
                answered.push(o.claimed.webhook_id);
            }
            continue;
        }
        let since: Option<Option<chrono::NaiveDateTime>> =
            crate::on_backend!(conn, |c| webhooks::table
                .find(o.claimed.webhook_id)
                .select(webhooks::failing_since)
                .get_result(c)
                .optional()?);
        match since {
            Some(None) => {
                diesel::update(webhooks::table.find(o.claimed.webhook_id))
                    .set(webhooks::failing_since.eq(Some(now)))
                    .execute(conn)?;
            }
            Some(Some(since)) if now - since >= settings.disable_after => {
                let last = match (&o.attempt.status, &o.attempt.error) {
                    (Some(s), _) => format!("HTTP {s}"),
                    (None, Some(e)) => e.clone(),
                    (None, None) => "no answer".into(),
                };
                let reason = format!(
                    "disabled at {}: no delivery succeeded since {} (last attempt: {last})",
                    Timestamp(now).to_rfc3339(),
                    Timestamp(since).to_rfc3339()
                );
                let n = diesel::update(
                    webhooks::table
                        .find(o.claimed.webhook_id)
                        .filter(webhooks::active.eq(true)),
                )
                .set((
                    webhooks::active.eq(false),
                    webhooks::disabled_reason.eq(Some(&reason)),
                    webhooks::updated_at.eq(now),
                ))
                .execute(conn)?;
                if n > 0 {
                    tracing::warn!(webhook = o.claimed.webhook_id, %reason, "webhook disabled");
                    crate::domain::audit::record(
                        conn,
                        None,
                        crate::domain::audit::Action::Update,
                        "webhook",
                        Some(o.claimed.webhook_id),
                        &format!(
                            "disabled webhook {} after a day of failures",
                            o.claimed.webhook_id
                        ),
                    )?;
                }
            }
            _ => {}
        }
    }
    if !answered.is_empty() {
        diesel::update(
            webhooks::table
                .filter(webhooks::id.eq_any(&answered))
                .filter(webhooks::failing_since.is_not_null()),
        )
        .set(webhooks::failing_since.eq(None::<chrono::NaiveDateTime>))
        .execute(conn)?;
    }
    Ok(())
}

/// Resolves names for deliveries and keeps only the addresses the rules allow.
#[derive(Debug, Clone)]
struct Guard {
    allow_private: bool,
}

impl reqwest::dns::Resolve for Guard {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let kept: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| address::allowed(a.ip(), allow_private))
                .collect();
            if kept.is_empty() {
                let why = match found.first() {
                    Some(a) => format!(
                        "{host} resolves to {}, which {}",
                        a.ip(),
                        address::refusal(a.ip())
                    ),
                    None => format!("{host} does not resolve"),
                };
                return Err(why.into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(kept.into_iter());
            Ok(addrs)
        })
    }
}

fn client(settings: &WebhookSettings) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(TIMEOUT)
        .connect_timeout(TIMEOUT)
        .user_agent(concat!("newsdesk-webhooks/", env!("CARGO_PKG_VERSION")))
        .dns_resolver(Arc::new(Guard {
            allow_private: settings.allow_private,
        }))
        .build()
}

/// The chain of causes of a request error, for the attempt log.
fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return format!("no answer within {} s", TIMEOUT.as_secs());
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text.chars().take(300).collect()
}

/// Makes one attempt.
async fn attempt(client: reqwest::Client, claimed: Claimed, allow_private: bool) -> Outcome {
    let started = Instant::now();
    let at = Timestamp::now();
    let timestamp = at.unix();
    let signature = sign::signature(&claimed.secret, &claimed.msg_id, timestamp, &claimed.body);
    // An address written as an address is not resolved: check it here.
    let literal = url::Url::parse(&claimed.url)
        .ok()
        .and_then(|u| match u.host() {
            Some(url::Host::Ipv4(ip)) => Some(std::net::IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(std::net::IpAddr::V6(ip)),
            _ => None,
        });
    let result = match literal {
        Some(ip) if !address::allowed(ip, allow_private) => {
            Err(format!("{ip} {}", address::refusal(ip)))
        }
        _ => client
            .post(&claimed.url)
            .header("content-type", "application/json")
            .header("webhook-id", &claimed.msg_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(claimed.body.clone())
            .send()
            .await
            .map_err(|e| describe(&e)),
    };
    let duration_ms = started.elapsed().as_millis() as u64;
    let attempt = match result {
        Ok(response) => {
            let status = response.status();
            let error = if status.is_redirection() {
                Some(format!(
                    "HTTP {} (redirects are not followed)",
                    status.as_u16()
                ))
            } else if !status.is_success() {
                Some(format!("HTTP {}", status.as_u16()))
            } else {
                None
            };
            Attempt {
                at,
                status: Some(status.as_u16()),
                duration_ms,
                error,
            }
        }
        Err(error) => Attempt {
            at,
            status: None,
            duration_ms,
            error: Some(error),
        },
    };
    Outcome { claimed, attempt }
}

/// Lowers the calling thread's scheduling priority (Linux: each thread has its own
/// nice value). Failing to is no error: deliveries then run at the normal priority.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: gettid and setpriority take no pointers; they change this thread only.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        let _ = libc::setpriority(libc::PRIO_PROCESS, tid, 10);
    }
}

/// Starts the delivery worker.
pub fn start(db: Db, settings: WebhookSettings, workers: &Workers) -> std::io::Result<()> {
    workers.spawn_with_stop(
        "webhooks",
        Stage::Producers,
        Some(Box::new(super::wake)),
        move |ctx| {
            // Deliveries yield the processor to requests: at full load the API keeps
            // its pace and the outbox drains as load allows (a lower priority, as
            // `nice 10` gives, for this thread only).
            lower_priority();
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
            runtime.block_on(run(db, settings, ctx));
        },
    )
}

/// What the lanes reported and the loop has yet to record.
struct Inbox {
    /// Endpoints whose lane is sending a batch.
    busy: Vec<i32>,
    /// Attempts made, not yet recorded.
    finished: Vec<Outcome>,
    /// When the oldest of `finished` came.
    oldest: Instant,
    /// A lane finished its batch since the last round.
    lane_done: bool,
}

impl Default for Inbox {
    fn default() -> Self {
        Self {
            busy: Vec::new(),
            finished: Vec::new(),
            oldest: Instant::now(),
            lane_done: false,
        }
    }
}

impl Inbox {
    fn take(&mut self, (hook, outcome, last): (i32, Outcome, bool)) {
        crate::metrics::webhook_attempt(outcome.succeeded());
        if self.finished.is_empty() {
            self.oldest = Instant::now();
        }
        self.finished.push(outcome);
        if last {
            self.busy.retain(|h| *h != hook);
            self.lane_done = true;
        }
    }
}

async fn run(db: Db, settings: WebhookSettings, ctx: Context) {
    let client = match client(&settings) {
        Ok(c) => c,
        Err(e) => {
            ctx.health
                .failed(format!("cannot make an HTTP client: {e}"));
            return;
        }
    };
    // Lanes send each outcome as it comes, marking the last of their batch.
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<(i32, Outcome, bool)>();
    let mut inbox = Inbox::default();
    ctx.health.ok();
    while !ctx.stopping() {
        while let Ok(message) = done_rx.try_recv() {
            inbox.take(message);
        }
        // One write records what finished and claims what is due for the free lanes:
        // when a lane is free again, when an outcome has waited a second, or when a
        // read of the partial index finds work for a free lane. An idle round costs
        // that read, no write (nor does a round whose read failed).
        let stale = !inbox.finished.is_empty() && inbox.oldest.elapsed() >= RECORD_WITHIN;
        let free_work = {
            let busy = inbox.busy.clone();
            db.read(move |conn| claim_possible(conn, &busy))
                .await
                .unwrap_or(false)
        };
        if std::mem::take(&mut inbox.lane_done) || stale || free_work {
            let batch = std::mem::take(&mut inbox.finished);
            let s = settings.clone();
            let lanes_busy = inbox.busy.clone();
            let round = db
                .write(move |conn| {
                    record(conn, &batch, &s)?;
                    claim(conn, &lanes_busy)
                })
                .await;
            match round {
                Ok(claimed) => {
                    ctx.health.ok();
                    let mut lanes: HashMap<i32, Vec<Claimed>> = HashMap::new();
                    for c in claimed {
                        lanes.entry(c.webhook_id).or_default().push(c);
                    }
                    for (hook, batch) in lanes {
                        inbox.busy.push(hook);
                        let tx = done_tx.clone();
                        let client = client.clone();
                        let allow = settings.allow_private;
                        tokio::spawn(async move {
                            let n = batch.len();
                            for (i, c) in batch.into_iter().enumerate() {
                                let o = attempt(client.clone(), c, allow).await;
                                if tx.send((hook, o, i + 1 == n)).is_err() {
                                    return;
                                }
                            }
                        });
                    }
                }
                Err(e) => {
                    // The attempts recorded in this round happened; their leases end
                    // and they are made again (receivers drop repeats by id).
                    ctx.health
                        .failed("cannot record or claim webhook deliveries");
                    tracing::warn!(error = %e, "cannot record or claim webhook deliveries");
                }
            }
        }
        tokio::select! {
            Some(message) = done_rx.recv() => inbox.take(message),
            () = WAKE.notified() => {}
            () = tokio::time::sleep(POLL) => {}
        }
    }
}

/// Whether any delivery is due now: a read of the partial index, so an idle instance
/// costs no write.
fn claim_possible(conn: &mut DbConn, busy: &[i32]) -> AppResult<bool> {
    let now = chrono::Utc::now().naive_utc();
    // Most newsrooms have no webhook: a kept statement answers that, before the
    // question below, which Diesel prepares again at every call (its `state` test is
    // written out to match the partial index, and its list of busy hooks varies).
    let any_active: Option<i32> = crate::on_backend!(conn, |c| webhooks::table
        .filter(webhooks::active.eq(true))
        .select(webhooks::id)
        .get_result(c)
        .optional()?);
    if any_active.is_none() {
        return Ok(false);
    }
    let active = webhooks::table
        .filter(webhooks::active.eq(true))
        .select(webhooks::id);
    let found: Option<i32> = crate::on_backend!(conn, |c| webhook_deliveries::table
        .filter(diesel::dsl::sql::<diesel::sql_types::Bool>(
            "state = 'pending'"
        ))
        .filter(webhook_deliveries::next_attempt_at.le(now))
        .filter(webhook_deliveries::webhook_id.eq_any(active))
        .filter(webhook_deliveries::webhook_id.ne_all(busy.to_vec()))
        .select(webhook_deliveries::id)
        .first(c)
        .optional()?);
    Ok(found.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_longer_each_time_within_bounds() {
        let first = Duration::from_secs(5);
        let d1 = delay(first, 1);
        assert!(d1 >= Duration::from_secs(4) && d1 <= Duration::from_secs(6));
        let d3 = delay(first, 3);
        assert!(d3 >= Duration::from_secs(64) && d3 <= Duration::from_secs(96));
        let d20 = delay(first, 20);
        assert!(d20 <= MAX_DELAY.mul_f64(1.2) && d20 >= MAX_DELAY.mul_f64(0.8));
        // Over a day of retries at the default pace.
        let total: Duration = (1..=10).map(|n| delay(first, n)).sum();
        assert!(total >= Duration::from_secs(86_400), "{total:?}");
    }
}
