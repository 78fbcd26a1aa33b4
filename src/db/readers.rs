//! The read pool: a fixed set of threads, each owning one reader connection, taking
//! read jobs from a shared queue.
//!
//! A fixed pool bounds what reads can cost: as many connections (and SQLite page
//! caches) as threads, and no burst of extra threads under load, where handing each
//! read to a general blocking pool would start threads by the hundred. The queue is
//! bounded too: when [`QUEUE_CAPACITY`] reads are already waiting, a new one is refused
//! at once with 503 and `Retry-After` instead of waiting behind them.

use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use super::DbConn;
use crate::error::{AppError, AppResult};
use crate::workers::{Stage, Workers};

/// Most reads waiting for a reader thread.
pub const QUEUE_CAPACITY: usize = 2_048;

type Job = Box<dyn FnOnce(AppResult<&mut DbConn>) + Send>;

enum Msg {
    Read(Job),
    /// Ends the thread that takes it.
    Stop,
}

/// The sending side of the read queue; cheap to clone.
#[derive(Clone)]
pub struct ReadPool {
    jobs: SyncSender<Msg>,
    load: Arc<super::Load>,
}

impl std::fmt::Debug for ReadPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReadPool")
    }
}

fn stopped() -> AppError {
    AppError::Unavailable("the database readers have stopped".into())
}

impl ReadPool {
    /// Starts one thread per connection, owned by `workers`.
    pub fn start(connections: Vec<DbConn>, workers: &Workers) -> std::io::Result<Self> {
        let (jobs, queue) = sync_channel::<Msg>(QUEUE_CAPACITY);
        let queue = Arc::new(Mutex::new(queue));
        for (i, conn) in connections.into_iter().enumerate() {
            let queue = queue.clone();
            let stop = jobs.clone();
            workers.spawn_with_stop(
                format!("db-reader-{i}"),
                Stage::Readers,
                Some(Box::new(move || {
                    let _ = stop.send(Msg::Stop);
                })),
                move |ctx| {
                    ctx.health.ok();
                    let mut conn = conn;
                    // This thread owns `conn` until it ends.
                    super::sqlite::keep_completions();
                    serve(&queue, |job| job(Ok(&mut conn)));
                },
            )?;
        }
        Ok(Self {
            jobs,
            load: Default::default(),
        })
    }

    /// A pool whose `threads` threads take a connection from `pool` for each job (the
    /// pool replaces connections that broke, as when the database server restarted).
    ///
    /// While the database cannot be reached, a thread tries to connect once per
    /// [`RETRY_UNREACHABLE`] and every other job fails at once with 503: waiting out a
    /// connection timeout per job would hold every thread and leave requests queued
    /// far beyond any client's patience.
    pub fn start_pooled<M>(
        pool: diesel::r2d2::Pool<M>,
        threads: usize,
        name: &str,
        workers: &Workers,
    ) -> std::io::Result<Self>
    where
        M: diesel::r2d2::ManageConnection<Connection = DbConn>,
    {
        let (jobs, queue) = sync_channel::<Msg>(QUEUE_CAPACITY);
        let queue = Arc::new(Mutex::new(queue));
        let outage = Arc::new(Outage::default());
        for i in 0..threads {
            let queue = queue.clone();
            let stop = jobs.clone();
            let pool = pool.clone();
            let outage = outage.clone();
            workers.spawn_with_stop(
                format!("{name}-{i}"),
                Stage::Readers,
                Some(Box::new(move || {
                    let _ = stop.send(Msg::Stop);
                })),
                move |ctx| {
                    ctx.health.ok();
                    serve(&queue, |job| {
                        if !outage.may_try() {
                            job(Err(unreachable()));
                            return;
                        }
                        match pool.get() {
                            Ok(mut conn) => {
                                outage.ended();
                                ctx.health.ok();
                                job(Ok(&mut *conn));
                            }
                            Err(e) => {
                                if outage.began() {
                                    tracing::warn!(error = %e, "cannot reach the database");
                                }
                                ctx.health.failed("cannot reach the database");
                                job(Err(unreachable()));
                            }
                        }
                    });
                },
            )?;
        }
        Ok(Self {
            jobs,
            load: Default::default(),
        })
    }

    /// Queues a read; 503 at once when the queue is full.
    fn submit<T, F>(
        &self,
        work: F,
        deliver: impl FnOnce(AppResult<T>) + Send + 'static,
    ) -> AppResult<()>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> AppResult<T> + Send + 'static,
    {
        let load = self.load.clone();
        let job: Job = Box::new(move |conn: AppResult<&mut DbConn>| {
            let _running = load.start();
            deliver(conn.and_then(work));
        });
        self.load.queue();
        match self.jobs.try_send(Msg::Read(job)) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => {
                self.load.unqueue();
                Err(AppError::Unavailable(
                    "the server is reading as fast as it can; retry shortly".into(),
                ))
            }
            Err(TrySendError::Disconnected(_)) => {
                self.load.unqueue();
                Err(stopped())
            }
        }
    }

    /// Jobs waiting and running now.
    pub fn load(&self) -> (usize, usize) {
        self.load.now()
    }

    /// Runs `work` on a reader connection and waits for it asynchronously.
    pub async fn run<T, F>(&self, work: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> AppResult<T> + Send + 'static,
    {
        let (answer, receiver) = oneshot::channel();
        self.submit(work, move |result| {
            let _ = answer.send(result);
        })?;
        receiver.await.unwrap_or_else(|_| Err(stopped()))
    }

    /// Runs `work` on a reader connection, waiting on this (non-reader) thread.
    pub fn run_blocking<T, F>(&self, work: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> AppResult<T> + Send + 'static,
    {
        let (answer, receiver) = std::sync::mpsc::sync_channel(1);
        self.submit(work, move |result| {
            let _ = answer.send(result);
        })?;
        receiver.recv().unwrap_or_else(|_| Err(stopped()))
    }
}

/// How often, while the database cannot be reached, one job tries to connect.
const RETRY_UNREACHABLE: std::time::Duration = std::time::Duration::from_millis(500);

/// The 503 of a job that found no connection: the reason without the server's
/// address (that goes to the log).
fn unreachable() -> AppError {
    AppError::Unavailable("the database cannot be reached; retry shortly".into())
}

/// Whether the database was found unreachable, and when a connection was last tried.
#[derive(Default)]
struct Outage {
    /// Milliseconds since `since` of the last failed try, or 0 while connections work.
    failed_at: std::sync::atomic::AtomicU64,
    /// Set when the last try began, so one thread tries per interval.
    trying_at: std::sync::atomic::AtomicU64,
    since: std::sync::OnceLock<std::time::Instant>,
}

impl Outage {
    fn now(&self) -> u64 {
        let since = self.since.get_or_init(std::time::Instant::now);
        u64::try_from(since.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .max(1)
    }

    /// True when connections work, or when this job is the one to try again.
    fn may_try(&self) -> bool {
        use std::sync::atomic::Ordering;
        if self.failed_at.load(Ordering::Acquire) == 0 {
            return true;
        }
        let now = self.now();
        let last = self.trying_at.load(Ordering::Acquire);
        now.saturating_sub(last) >= RETRY_UNREACHABLE.as_millis() as u64
            && self
                .trying_at
                .compare_exchange(last, now, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
    }

    /// Records a failed try; true when it starts an outage (for one log line).
    fn began(&self) -> bool {
        use std::sync::atomic::Ordering;
        let now = self.now();
        self.trying_at.store(now, Ordering::Release);
        self.failed_at.swap(now, Ordering::AcqRel) == 0
    }

    fn ended(&self) {
        self.failed_at
            .store(0, std::sync::atomic::Ordering::Release);
    }
}

fn serve(queue: &Mutex<Receiver<Msg>>, mut run: impl FnMut(Job)) {
    loop {
        let job = {
            let queue = queue.lock().unwrap_or_else(|e| e.into_inner());
            queue.recv()
        };
        match job {
            Ok(Msg::Read(job)) => {
                // A panicking read loses its own answer (the caller sees an error),
                // not the thread.
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(job)));
            }
            Ok(Msg::Stop) | Err(_) => return,
        }
    }
}
