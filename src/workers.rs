//! Background work with one owner.
//!
//! Every thread newsdesk runs besides the HTTP workers (database readers and writer,
//! the WAL checkpointer, the view counter, the cache's freshness poller, the breaking
//! stream's pump and scheduler) is started through a [`Workers`] registry. The registry
//! is what `/healthz` asks about each of them, and what stops them at shutdown in a
//! fixed order: first what produces work (pump, scheduler, poller), then what flushes
//! memory to the database (view counts), then the writer (which commits what is queued),
//! then storage upkeep (a last checkpoint), and the readers last. Tests and production
//! open the application the same way, so they run the same set.
//!
//! A worker is a named thread that gets a [`Context`]: it sleeps on
//! [`Context::sleep`] (which returns early when a stop is asked), reports its health
//! with [`Health::ok`] and [`Health::failed`], and returns when [`Context::stopping`].

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// When a worker stops, relative to the others (lower first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// Makes work for others: the stream's pump and scheduler, the cache poller.
    Producers,
    /// Holds counts in memory that must reach the database (views).
    Flush,
    /// The database writer: commits everything queued, then ends.
    Writer,
    /// Storage upkeep (the WAL checkpointer): a last checkpoint.
    Storage,
    /// The database readers.
    Readers,
}

/// How a worker is doing, as `/healthz` reports it.
#[derive(Debug, Default)]
pub struct Health {
    /// Unix milliseconds of the last successful round (0: none yet).
    last_ok_ms: AtomicI64,
    /// Why the last round failed, until a round succeeds.
    problem: Mutex<Option<String>>,
    /// Unix milliseconds from which a problem followed by a successful round is over
    /// (0: no such round since the problem; see [`Health::ok_from`]).
    clears_at_ms: AtomicI64,
    finished: AtomicBool,
}

impl Health {
    /// The last round worked.
    pub fn ok(&self) {
        self.ok_from(0);
    }

    /// The last round worked, but a problem before it stays reported until `at_ms`
    /// (Unix milliseconds): for a worker whose small successes right after a failure do
    /// not prove the failure over.
    pub fn ok_from(&self, at_ms: i64) {
        let now = chrono::Utc::now().timestamp_millis();
        self.last_ok_ms.store(now, Ordering::Relaxed);
        let mut problem = self.problem.lock().unwrap_or_else(|e| e.into_inner());
        self.settle(&mut problem, now);
        if at_ms <= now {
            *problem = None;
            self.clears_at_ms.store(0, Ordering::Relaxed);
        } else if problem.is_some() {
            self.clears_at_ms.store(at_ms, Ordering::Relaxed);
        }
    }

    /// The last round failed, for this reason (no secrets: it is shown in `/healthz`).
    pub fn failed(&self, reason: impl Into<String>) {
        let mut problem = self.problem.lock().unwrap_or_else(|e| e.into_inner());
        *problem = Some(reason.into());
        self.clears_at_ms.store(0, Ordering::Relaxed);
    }

    /// `None` when healthy, else the reason.
    pub fn problem(&self) -> Option<String> {
        if self.finished.load(Ordering::Acquire) {
            return Some("stopped".into());
        }
        let mut problem = self.problem.lock().unwrap_or_else(|e| e.into_inner());
        self.settle(&mut problem, chrono::Utc::now().timestamp_millis());
        problem.clone()
    }

    /// Forgets a problem whose hold (see [`Health::ok_from`]) is over at `now`.
    fn settle(&self, problem: &mut Option<String>, now: i64) {
        let clears_at = self.clears_at_ms.load(Ordering::Relaxed);
        if clears_at != 0 && now >= clears_at {
            *problem = None;
            self.clears_at_ms.store(0, Ordering::Relaxed);
        }
    }
}

/// The stop signal, shared by the registry and its workers.
#[derive(Debug, Default)]
struct Signal {
    stopping: Mutex<bool>,
    changed: Condvar,
}

/// What a worker's thread is given.
#[derive(Debug, Clone)]
pub struct Context {
    signal: Arc<Signal>,
    /// This worker's health, reported in `/healthz`.
    pub health: Arc<Health>,
}

impl Context {
    /// True once the worker is asked to stop.
    pub fn stopping(&self) -> bool {
        *self
            .signal
            .stopping
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Sleeps for `period`, or less when a stop is asked; returns `false` when the
    /// worker should end.
    pub fn sleep(&self, period: Duration) -> bool {
        let deadline = Instant::now() + period;
        let mut stopping = self
            .signal
            .stopping
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        while !*stopping {
            let now = Instant::now();
            if now >= deadline {
                return true;
            }
            stopping = self
                .signal
                .changed
                .wait_timeout(stopping, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        false
    }
}

/// Run when a worker is asked to stop, before its thread is joined (for a queue
/// consumer: send it the message that ends its loop).
pub type OnStop = Box<dyn FnOnce() + Send>;

struct Worker {
    name: String,
    stage: Stage,
    signal: Arc<Signal>,
    health: Arc<Health>,
    on_stop: Option<OnStop>,
    thread: Option<JoinHandle<()>>,
}

/// The registry of background workers; cheap to clone.
#[derive(Clone, Default)]
pub struct Workers {
    workers: Arc<Mutex<Vec<Worker>>>,
}

impl std::fmt::Debug for Workers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let workers = self.workers.lock().unwrap_or_else(|e| e.into_inner());
        f.debug_list()
            .entries(workers.iter().map(|w| &w.name))
            .finish()
    }
}

impl Workers {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts `run` on a thread named `name`, stopped at `stage`.
    pub fn spawn<F>(&self, name: impl Into<String>, stage: Stage, run: F) -> std::io::Result<()>
    where
        F: FnOnce(Context) + Send + 'static,
    {
        self.spawn_with_stop(name, stage, None, run)
    }

    /// [`Workers::spawn`] with a hook run when the stop is asked (for workers that wait
    /// on a queue rather than on [`Context::sleep`]).
    pub fn spawn_with_stop<F>(
        &self,
        name: impl Into<String>,
        stage: Stage,
        on_stop: Option<OnStop>,
        run: F,
    ) -> std::io::Result<()>
    where
        F: FnOnce(Context) + Send + 'static,
    {
        let name = name.into();
        let signal = Arc::new(Signal::default());
        let health = Arc::new(Health::default());
        let context = Context {
            signal: signal.clone(),
            health: health.clone(),
        };
        let finished = health.clone();
        let thread = std::thread::Builder::new()
            .name(name.clone())
            .spawn(move || {
                run(context);
                finished.finished.store(true, Ordering::Release);
            })?;
        self.workers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Worker {
                name,
                stage,
                signal,
                health,
                on_stop,
                thread: Some(thread),
            });
        Ok(())
    }

    /// Each worker's name and its problem (`None`: healthy), in start order.
    pub fn report(&self) -> Vec<(String, Option<String>)> {
        let workers = self.workers.lock().unwrap_or_else(|e| e.into_inner());
        workers
            .iter()
            .map(|w| (w.name.clone(), w.health.problem()))
            .collect()
    }

    /// Stops every worker of `stage` and waits for them.
    pub fn stop_stage(&self, stage: Stage) {
        let mut stopping: Vec<Worker> = {
            let mut workers = self.workers.lock().unwrap_or_else(|e| e.into_inner());
            let (now, later): (Vec<Worker>, Vec<Worker>) =
                workers.drain(..).partition(|w| w.stage == stage);
            *workers = later;
            now
        };
        for worker in &mut stopping {
            *worker
                .signal
                .stopping
                .lock()
                .unwrap_or_else(|e| e.into_inner()) = true;
            worker.signal.changed.notify_all();
            if let Some(on_stop) = worker.on_stop.take() {
                on_stop();
            }
        }
        for worker in &mut stopping {
            if let Some(thread) = worker.thread.take()
                && thread.join().is_err()
            {
                tracing::error!(worker = %worker.name, "a background worker panicked");
            }
        }
    }

    /// Stops every worker, stage by stage (see [`Stage`]).
    pub fn stop_all(&self) {
        for stage in [
            Stage::Producers,
            Stage::Flush,
            Stage::Writer,
            Stage::Storage,
            Stage::Readers,
        ] {
            self.stop_stage(stage);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn a_success_right_after_a_failure_clears_it_only_when_the_hold_is_over() {
        let health = Health::default();
        let now = chrono::Utc::now().timestamp_millis();
        health.failed("the disk is full");
        health.ok_from(now + 60_000);
        assert_eq!(health.problem().as_deref(), Some("the disk is full"));
        // A new failure starts over: an earlier success does not clear it.
        health.failed("still full");
        assert_eq!(health.problem().as_deref(), Some("still full"));
        health.ok_from(now - 1);
        assert_eq!(health.problem(), None);
        // Once the hold is over, the success counts without another round.
        health.failed("full again");
        health.ok_from(chrono::Utc::now().timestamp_millis() + 30);
        assert!(health.problem().is_some());
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(health.problem(), None);
        // A hold with no problem is nothing to wait for.
        health.ok_from(chrono::Utc::now().timestamp_millis() + 60_000);
        assert_eq!(health.problem(), None);
    }

    #[test]
    fn workers_stop_in_stage_order_and_report_their_health() {
        let workers = Workers::new();
        let order = Arc::new(Mutex::new(Vec::new()));
        for (name, stage) in [
            ("readers", Stage::Readers),
            ("writer", Stage::Writer),
            ("pump", Stage::Producers),
        ] {
            let order = order.clone();
            workers
                .spawn(name, stage, move |ctx| {
                    ctx.health.ok();
                    while ctx.sleep(Duration::from_secs(60)) {}
                    order.lock().unwrap().push(name);
                })
                .unwrap();
        }
        std::thread::sleep(Duration::from_millis(50));
        assert!(workers.report().iter().all(|(_, p)| p.is_none()));
        workers.stop_all();
        assert_eq!(*order.lock().unwrap(), ["pump", "writer", "readers"]);
    }

    #[test]
    fn a_failed_round_is_reported_until_one_succeeds() {
        let h = Health::default();
        h.failed("disk full");
        assert_eq!(h.problem().as_deref(), Some("disk full"));
        h.ok();
        assert_eq!(h.problem(), None);
    }

    #[test]
    fn a_queue_worker_is_ended_by_its_stop_hook() {
        let workers = Workers::new();
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let ran = Arc::new(AtomicUsize::new(0));
        let seen = ran.clone();
        workers
            .spawn_with_stop(
                "queue",
                Stage::Writer,
                Some(Box::new(move || drop(tx))),
                move |_| {
                    while rx.recv().is_ok() {}
                    seen.fetch_add(1, Ordering::SeqCst);
                },
            )
            .unwrap();
        workers.stop_all();
        assert_eq!(ran.load(Ordering::SeqCst), 1);
    }
}
