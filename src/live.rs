//! Fan-out of the live breaking stream to connected clients.
//!
//! The event log is in the database (`domain::breaking_events`); this module only
//! carries it to subscribers. A pump thread reads the events after the last one it saw
//! and broadcasts them in id order; it is woken by every committed content write of
//! this process (the after-commit hook calls [`Hub::wake`]) and looks anyway every
//! [`POLL_EVERY`], which is how writes by other instances on the same database reach
//! this one's clients. With PostgreSQL the look becomes a `LISTEN` on a channel the
//! writers `NOTIFY`; nothing else changes. A scheduler thread records the go-live and
//! expiry events as they fall due, at most once a second and only when one is due.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::Duration;

use tokio::sync::{broadcast, watch};

use crate::db::{Db, Scope, Written};
use crate::domain::articles::safety;
use crate::domain::breaking_events::{self, Event};
use crate::domain::time::Timestamp;
use crate::error::{AppError, AppResult};
use crate::workers::{Context, Stage, Workers};

/// How often the pump looks for events written by other instances.
pub const POLL_EVERY: Duration = Duration::from_millis(250);
/// How often the scheduler looks at the clock.
const SCHEDULER_TICK: Duration = Duration::from_millis(50);
/// Events a subscriber may fall behind before its stream is closed (it reconnects with
/// `Last-Event-ID` and resumes from the log).
const CHANNEL_CAPACITY: usize = 1024;
/// Events read per round by the pump.
const BATCH: i64 = 500;
/// How often old events are pruned (they are kept
/// [`breaking_events::RETENTION_MINUTES`]).
const PRUNE_EVERY: Duration = Duration::from_secs(300);
/// How often the trash is looked at for articles past their retention.
const TRASH_EVERY: Duration = Duration::from_secs(2);
/// How often the articles time made live or expired are announced to webhooks.
const ANNOUNCE_EVERY: Duration = Duration::from_millis(500);
/// How often the maintained article counts are folded (each key's rows into one).
const FOLD_EVERY: Duration = Duration::from_secs(2);

struct Inner {
    sender: broadcast::Sender<Arc<Event>>,
    wake: Mutex<bool>,
    woken: Condvar,
    connections: AtomicUsize,
    max_connections: usize,
    /// Open streams by client address; an address with none has no entry.
    per_address: Mutex<HashMap<String, usize>>,
    max_per_address: usize,
    closed: watch::Sender<bool>,
}

/// The broadcaster of breaking events; cheap to clone.
#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("connections", &self.connections())
            .finish()
    }
}

/// Why a stream may not open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Every stream of this instance is taken (`STREAM_MAX_CONNECTIONS`).
    Full,
    /// The client's address holds its share already (`STREAMS_PER_ADDRESS`).
    AddressFull,
}

/// One client's place in the stream; dropping it frees its slot and its address's.
pub struct Subscription {
    pub events: broadcast::Receiver<Arc<Event>>,
    pub closed: watch::Receiver<bool>,
    address: String,
    inner: Arc<Inner>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut per_address = self
            .inner
            .per_address
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(open) = per_address.get_mut(&self.address) {
            *open -= 1;
            if *open == 0 {
                per_address.remove(&self.address);
            }
        }
        self.inner.connections.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A handle that wakes the pump without keeping the hub alive (for the after-commit
/// hook, which the database owns).
#[derive(Clone)]
pub struct Waker(Weak<Inner>);

impl Waker {
    /// Tells the pump to look for new events now.
    pub fn wake(&self) {
        if let Some(inner) = self.0.upgrade() {
            wake(&inner);
        }
    }
}

fn wake(inner: &Inner) {
    *inner.wake.lock().unwrap_or_else(|e| e.into_inner()) = true;
    inner.woken.notify_one();
}

impl Hub {
    /// A hub with no threads (see [`Hub::start`]), taking at most `max_connections`
    /// streams, `max_per_address` of them from one client address.
    pub fn new(max_connections: usize, max_per_address: usize) -> Self {
        let (sender, _) = broadcast::channel(CHANNEL_CAPACITY);
        let (closed, _) = watch::channel(false);
        Self {
            inner: Arc::new(Inner {
                sender,
                wake: Mutex::new(false),
                woken: Condvar::new(),
                connections: AtomicUsize::new(0),
                max_connections,
                per_address: Mutex::new(HashMap::new()),
                max_per_address,
                closed,
            }),
        }
    }

    /// Starts the pump and the scheduler over `db`, owned by `workers`. Both also stop
    /// once the hub is dropped.
    pub fn start(
        &self,
        db: &Db,
        workers: &Workers,
        trash_retention: chrono::Duration,
    ) -> std::io::Result<()> {
        let start = db.read_blocking(|conn| {
            Ok((
                breaking_events::latest_id(conn)?,
                breaking_events::latest_time(conn)?,
            ))
        });
        let (latest, since) = match start {
            Ok(found) => found,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the breaking event log");
                (0, None)
            }
        };
        let weak = Arc::downgrade(&self.inner);
        let pump_db = db.clone();
        let waker = self.waker();
        workers.spawn_with_stop(
            "breaking-pump",
            Stage::Producers,
            Some(Box::new(move || waker.wake())),
            move |ctx| pump(weak, pump_db, latest, &ctx),
        )?;
        let weak = Arc::downgrade(&self.inner);
        let scheduler_db = db.clone();
        // After a restart, catch up with what fell due while no instance was running.
        let since = since.unwrap_or_else(|| Timestamp::now().0);
        workers.spawn("breaking-scheduler", Stage::Producers, move |ctx| {
            schedule(weak, scheduler_db, since, trash_retention, &ctx)
        })?;
        Ok(())
    }

    /// A handle for waking the pump.
    pub fn waker(&self) -> Waker {
        Waker(Arc::downgrade(&self.inner))
    }

    /// Joins the stream for a client at `address` (the key of
    /// `http::client::client_address`), unless the address holds its share already or
    /// every stream is taken.
    pub fn subscribe(&self, address: &str) -> Result<Subscription, Refused> {
        let inner = &self.inner;
        // Held across both checks, so two streams of one address cannot both take its
        // last slot.
        let mut per_address = inner.per_address.lock().unwrap_or_else(|e| e.into_inner());
        if per_address.get(address).copied().unwrap_or(0) >= inner.max_per_address {
            return Err(Refused::AddressFull);
        }
        let taken = inner.connections.fetch_add(1, Ordering::AcqRel);
        if taken >= inner.max_connections {
            inner.connections.fetch_sub(1, Ordering::AcqRel);
            return Err(Refused::Full);
        }
        *per_address.entry(address.to_owned()).or_insert(0) += 1;
        Ok(Subscription {
            events: inner.sender.subscribe(),
            closed: inner.closed.subscribe(),
            address: address.to_owned(),
            inner: inner.clone(),
        })
    }

    /// Open streams.
    pub fn connections(&self) -> usize {
        self.inner.connections.load(Ordering::Acquire)
    }

    /// Ends every open stream (the server is stopping).
    pub fn close(&self) {
        let _ = self.inner.closed.send(true);
    }
}

/// The pump: broadcasts the events after `last`, in id order, whenever woken.
fn pump(hub: Weak<Inner>, db: Db, mut last: i32, ctx: &Context) {
    ctx.health.ok();
    while !ctx.stopping() {
        let Some(inner) = hub.upgrade() else { return };
        {
            let woken = inner.wake.lock().unwrap_or_else(|e| e.into_inner());
            let (mut woken, _) = inner
                .woken
                .wait_timeout_while(woken, POLL_EVERY, |w| !*w)
                .unwrap_or_else(|e| e.into_inner());
            *woken = false;
        }
        loop {
            let read = db.read_blocking(move |conn| breaking_events::after(conn, last, BATCH));
            match read {
                Ok(events) => {
                    ctx.health.ok();
                    let full = events.len() as i64 == BATCH;
                    for event in events {
                        last = event.id;
                        // No subscribers is not an error.
                        let _ = inner.sender.send(Arc::new(event));
                    }
                    if !full {
                        break;
                    }
                }
                Err(e) => {
                    ctx.health.failed("cannot read the breaking event log");
                    tracing::warn!(error = %e, "cannot read breaking events");
                    break;
                }
            }
        }
    }
}

/// The scheduler: records go-live and expiry events as their second comes, and
/// empties the trash of articles older than `trash_retention`.
fn schedule(
    hub: Weak<Inner>,
    db: Db,
    mut scanned_to: chrono::NaiveDateTime,
    trash_retention: chrono::Duration,
    ctx: &Context,
) {
    let mut last_prune = std::time::Instant::now();
    let mut last_trash = std::time::Instant::now();
    let mut last_announce = std::time::Instant::now();
    let mut last_fold = std::time::Instant::now();
    // The last count row folded (0: this process has folded none yet).
    let mut folded_to = 0i64;
    ctx.health.ok();
    while ctx.sleep(SCHEDULER_TICK) {
        let Some(inner) = hub.upgrade() else { return };
        let now = Timestamp::now().0;
        if now <= scanned_to {
            continue;
        }
        match record_due(&db, scanned_to, now) {
            Ok(recorded) => {
                ctx.health.ok();
                scanned_to = now;
                if recorded > 0 {
                    wake(&inner);
                }
            }
            Err(e) => {
                ctx.health.failed("cannot record due breaking events");
                tracing::warn!(error = %e, "cannot record due breaking events");
            }
        }
        if last_announce.elapsed() >= ANNOUNCE_EVERY {
            last_announce = std::time::Instant::now();
            if let Err(e) = announce(&db) {
                tracing::warn!(error = %e, "cannot announce scheduled articles to webhooks");
            }
        }
        if last_fold.elapsed() >= FOLD_EVERY {
            last_fold = std::time::Instant::now();
            match db.write_blocking(move |conn| crate::domain::counts::fold(conn, folded_to)) {
                Ok(to) => folded_to = to,
                Err(e) => tracing::warn!(error = %e, "cannot fold the article counts"),
            }
        }
        if last_trash.elapsed() >= TRASH_EVERY {
            last_trash = std::time::Instant::now();
            if let Err(e) = empty_trash(&db, trash_retention) {
                tracing::warn!(error = %e, "cannot empty the trash");
            }
        }
        if last_prune.elapsed() >= PRUNE_EVERY {
            last_prune = std::time::Instant::now();
            if let Err(e) = db.write_blocking(breaking_events::prune) {
                tracing::warn!(error = %e, "cannot prune breaking events");
            }
        }
    }
}

/// Announces to webhooks the articles time made live or expired (a read of two small
/// indexes when there are none).
fn announce(db: &Db) -> AppResult<()> {
    if !db.read_blocking(crate::webhooks::lifecycle::anything_due)? {
        return Ok(());
    }
    db.write_content_blocking(|conn| {
        crate::webhooks::lifecycle::announce_due(conn).map(Written::unseen)
    })?;
    crate::webhooks::wake();
    Ok(())
}

/// Removes for good the trashed articles older than `retention`, a hundred at a time.
/// Several instances may do it at once: each purge finds its article in the trash or
/// does nothing.
fn empty_trash(db: &Db, retention: chrono::Duration) -> AppResult<()> {
    let due = db.read_blocking(move |conn| safety::expired_in_trash(conn, retention, 100))?;
    if due.is_empty() {
        return Ok(());
    }
    let n = db.write_content_blocking(move |conn| {
        let mut n = 0;
        for id in due {
            match safety::purge(conn, None, id) {
                Ok(w) => {
                    let () = w.within_a_write_of_everything();
                    n += 1;
                }
                Err(AppError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(Written::unseen(n))
    })?;
    tracing::info!(articles = n, "emptied the trash of articles past retention");
    Ok(())
}

fn record_due(db: &Db, from: chrono::NaiveDateTime, to: chrono::NaiveDateTime) -> AppResult<usize> {
    if !db.read_blocking(move |conn| breaking_events::any_due(conn, from, to))? {
        return Ok(0);
    }
    db.write_content_blocking(move |conn| {
        breaking_events::record_due(conn, from, to).map(|n| Written::content(n, Scope::Created))
    })
}
