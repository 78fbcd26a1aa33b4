//! The write queue: one thread owns the writer connection and commits writes in
//! groups.
//!
//! SQLite lets one connection write at a time. Instead of making request threads take
//! turns on a lock (and SQLite retry on `SQLITE_BUSY`), every write is a job sent to this
//! thread. The thread takes every job waiting, runs them in one `BEGIN IMMEDIATE`
//! transaction, each inside its own savepoint (a job that fails rolls back alone and
//! reports its own error), bumps the content freshness counter once for the group,
//! commits once, and only then answers each job. Nothing is acknowledged before it is
//! committed; a commit that fails fails every job of the group. Committing in groups
//! turns a queue of writers into fewer, larger transactions, and caches are invalidated
//! once per group instead of once per write. A job alone in its group, and a group made
//! only of writes that may run again (creates), run without savepoints: a failure then
//! rolls the transaction back, and such a group runs again with a savepoint each.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, OnceLock};

use diesel::Connection;
use tokio::sync::oneshot;

use super::file::DbFile;
use super::freshness::{self, ContentChange, Scope};
use super::{AfterCommit, DbConn, sqlite};
use crate::error::{AppError, AppResult};
use crate::workers::{Health, Stage, Workers};

/// Most jobs committed together.
const MAX_GROUP: usize = 64;

/// Sends the job's result once its group's fate is known.
type Finish = Box<dyn FnOnce(Result<(), AppError>) + Send>;
/// A write job: runs on the writer connection inside the group's transaction (in a
/// savepoint of its own unless told it is alone in its group) and returns what it
/// changed (if it succeeded), how to answer its caller, and whether it failed.
type Job = Box<dyn FnOnce(&mut DbConn, Alone) -> Ran + Send>;

/// What a job left: its scope, its answer, and whether it failed.
type Ran = (Option<Scope>, Finish, bool);

/// Whether a job is the only one of its group. Such a job runs without a savepoint: if
/// it fails, the group's transaction is rolled back instead, which undoes the same
/// rows. SQLite copies every page a savepoint's statements change for the first time
/// into the savepoint's journal, so most creates (whose group is often of one) skip
/// that copy.
#[derive(Clone, Copy)]
struct Alone(bool);

/// How a write tells what it changed, once it has succeeded: nothing cached (`None`),
/// or a [`Scope`] worked out from its result.
pub type ScopeOf<T> = Box<dyn FnOnce(&T) -> Option<Scope> + Send>;

/// A write that may run more than once, its result kept until its group's fate is
/// known: a group made only of such writes runs them without savepoints (see
/// [`Mode::Bare`]), and holds back its maintained counts until they have all run
/// (`counts::hold`): such a write must not read the counts.
trait Again: Send {
    /// Runs the write, in a savepoint of its own unless `bare`, and keeps its result.
    /// True when it failed.
    fn run(&mut self, conn: &mut DbConn, bare: bool) -> bool;
    /// What its last run changed, if it succeeded.
    fn changed(&self) -> Option<Scope>;
    /// Answers its caller with its last run's result, once the group's fate is known.
    fn finish(self: Box<Self>, commit: Result<(), AppError>);
}

struct Rerunnable<T, F, D> {
    work: F,
    scope_of: AgainScopeOf<T>,
    deliver: D,
    result: Option<AppResult<T>>,
    load: Arc<super::Load>,
    ran: bool,
}

impl<T, F, D> Again for Rerunnable<T, F, D>
where
    T: Send + 'static,
    F: Fn(&mut DbConn) -> AppResult<T> + Send + 'static,
    D: FnOnce(AppResult<T>) + Send + 'static,
{
    fn run(&mut self, conn: &mut DbConn, bare: bool) -> bool {
        let _running = if self.ran {
            self.load.again()
        } else {
            self.load.start()
        };
        self.ran = true;
        let result = if bare {
            (self.work)(conn)
        } else {
            conn.transaction(|conn| (self.work)(conn))
        };
        let failed = result.is_err();
        self.result = Some(result);
        failed
    }

    fn changed(&self) -> Option<Scope> {
        match &self.result {
            Some(Ok(value)) => (self.scope_of)(value),
            _ => None,
        }
    }

    fn finish(self: Box<Self>, commit: Result<(), AppError>) {
        let this = *self;
        let result = this
            .result
            .unwrap_or_else(|| Err(AppError::internal("a write was answered before it ran")));
        (this.deliver)(commit.and(result));
    }
}

/// [`ScopeOf`] for a write that may run more than once.
pub type AgainScopeOf<T> = Box<dyn Fn(&T) -> Option<Scope> + Send>;

enum Task {
    Once(Job),
    Again(Box<dyn Again>),
}

/// A task that ran, waiting for its group's fate.
enum Done {
    Once(Finish),
    Again(Box<dyn Again>),
}

impl Done {
    fn finish(self, commit: Result<(), AppError>) {
        match self {
            Done::Once(finish) => finish(commit),
            Done::Again(job) => job.finish(commit),
        }
    }
}

/// How a group's jobs run.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// One job, without a savepoint: if it fails, the transaction is rolled back.
    Alone,
    /// Jobs that may run again, without savepoints. SQLite copies every page a
    /// savepoint's statements change for the first time into the savepoint's journal,
    /// and FTS5 writes what it holds to a new segment of the search index at every
    /// savepoint: for a group of creates, a savepoint each was about a tenth of the
    /// server's work. If one fails, the transaction is rolled back and the group runs
    /// again in [`Mode::Careful`].
    Bare,
    /// Each job in a savepoint of its own: a job that fails rolls back alone.
    Careful,
}

/// Why a group's transaction was rolled back in place of a job's savepoint.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Undone {
    /// The one job of the group failed; it answers with its own error.
    OwnFailure,
    /// A job of a bare group failed: the group runs again, carefully.
    Retry,
}

enum Msg {
    Write(Task),
    /// Commit what is queued before it, then end.
    Stop,
}

/// The sending side of the queue; cheap to clone.
#[derive(Clone)]
pub struct WriteQueue {
    jobs: Sender<Msg>,
    load: Arc<super::Load>,
}

impl std::fmt::Debug for WriteQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WriteQueue")
    }
}

impl WriteQueue {
    /// Starts the writer thread over `conn`, owned by `workers`. At shutdown it
    /// commits every write queued before the stop, then ends.
    pub fn start(
        conn: DbConn,
        hook: Arc<OnceLock<AfterCommit>>,
        file: DbFile,
        wal_restart: sqlite::WalRestart,
        workers: &Workers,
    ) -> std::io::Result<Self> {
        let (jobs, queue) = channel::<Msg>();
        let stop = jobs.clone();
        workers.spawn_with_stop(
            "db-writer",
            Stage::Writer,
            Some(Box::new(move || {
                let _ = stop.send(Msg::Stop);
            })),
            move |ctx| run(conn, queue, hook, &file, &wal_restart, &ctx.health),
        )?;
        Ok(Self {
            jobs,
            load: Default::default(),
        })
    }

    /// Queues `work`; `deliver` gets its result once the group's fate is known. If the
    /// writer has stopped, the job is dropped undelivered, and the caller's channel
    /// reports it.
    pub fn submit<T, F, D>(&self, scope_of: ScopeOf<T>, work: F, deliver: D)
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> AppResult<T> + Send + 'static,
        D: FnOnce(AppResult<T>) + Send + 'static,
    {
        let load = self.load.clone();
        let job: Job = Box::new(move |conn: &mut DbConn, alone: Alone| {
            let _running = load.start();
            let result = if alone.0 {
                work(conn)
            } else {
                conn.transaction(work)
            };
            let (changed, failed) = match &result {
                Ok(value) => (scope_of(value), false),
                Err(_) => (None, true),
            };
            let finish: Finish = Box::new(move |commit: Result<(), AppError>| {
                deliver(commit.and(result));
            });
            (changed, finish, failed)
        });
        self.load.queue();
        if self.jobs.send(Msg::Write(Task::Once(job))).is_err() {
            self.load.unqueue();
        }
    }

    /// [`WriteQueue::submit`] for a write that may run more than once, with the same
    /// result each time it succeeds from the same database state; only its last run's
    /// writes are committed, and only its last result is delivered. A group made only
    /// of such writes runs without savepoints.
    pub fn submit_again<T, F, D>(&self, scope_of: AgainScopeOf<T>, work: F, deliver: D)
    where
        T: Send + 'static,
        F: Fn(&mut DbConn) -> AppResult<T> + Send + 'static,
        D: FnOnce(AppResult<T>) + Send + 'static,
    {
        let job = Rerunnable {
            work,
            scope_of,
            deliver,
            result: None,
            load: self.load.clone(),
            ran: false,
        };
        self.load.queue();
        if self
            .jobs
            .send(Msg::Write(Task::Again(Box::new(job))))
            .is_err()
        {
            self.load.unqueue();
        }
    }

    /// Queues `work`, which may run more than once (see [`WriteQueue::submit_again`]),
    /// and waits for it asynchronously.
    pub async fn run_again<T, F>(&self, scope: AgainScopeOf<T>, work: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: Fn(&mut DbConn) -> AppResult<T> + Send + 'static,
    {
        let (answer, receiver) = oneshot::channel();
        self.submit_again(scope, work, move |result| {
            let _ = answer.send(result);
        });
        receiver.await.unwrap_or_else(|_| Err(stopped()))
    }

    /// Writes waiting and running now.
    pub fn load(&self) -> (usize, usize) {
        self.load.now()
    }

    /// Queues `work` and waits for it asynchronously.
    pub async fn run<T, F>(&self, scope: ScopeOf<T>, work: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> AppResult<T> + Send + 'static,
    {
        let (answer, receiver) = oneshot::channel();
        self.submit(scope, work, move |result| {
            let _ = answer.send(result);
        });
        receiver.await.unwrap_or_else(|_| Err(stopped()))
    }

    /// Queues `work` and waits for it on this thread (which must not be the writer's).
    pub fn run_blocking<T, F>(&self, scope: ScopeOf<T>, work: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> AppResult<T> + Send + 'static,
    {
        let (answer, receiver) = std::sync::mpsc::sync_channel(1);
        self.submit(scope, work, move |result| {
            let _ = answer.send(result);
        });
        receiver.recv().unwrap_or_else(|_| Err(stopped()))
    }
}

/// The error a caller sees when its write was never answered.
pub fn stopped() -> AppError {
    AppError::Unavailable("the database writer has stopped".into())
}

/// How long writes stay reported as failing after a group failed to commit, whatever
/// commits meanwhile (see [`run`]).
const FAILURE_HOLD_MS: i64 = 2_000;

fn run(
    mut conn: DbConn,
    queue: Receiver<Msg>,
    hook: Arc<OnceLock<AfterCommit>>,
    file: &DbFile,
    wal_restart: &sqlite::WalRestart,
    health: &Health,
) {
    health.ok();
    let mut stopping = false;
    // Whether the last group failed to commit. Until a group that changed rows commits,
    // writes stay reported as failing: a background job with nothing to do commits
    // without writing a page even on a full disk, and proves nothing. Nor does a small
    // write right after the failure (`/healthz`'s heartbeat, a count): on a nearly full
    // disk, where space comes and goes as the checkpointer cuts the WAL back, one can
    // commit while the next story cannot (a CI run saw `/healthz` say `ok` right after a
    // refused create). So the failure stays reported for [`FAILURE_HOLD_MS`] after it,
    // whatever commits.
    let mut failing = false;
    let mut failed_at_ms = 0_i64;
    while !stopping {
        let first = match queue.recv() {
            Ok(Msg::Write(job)) => job,
            Ok(Msg::Stop) | Err(_) => return,
        };
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(Msg::Write(job)) => group.push(job),
                Ok(Msg::Stop) => {
                    stopping = true;
                    break;
                }
                Err(_) => break,
            }
        }
        let mut mode = if group.len() == 1 {
            Mode::Alone
        } else if group.iter().all(|task| matches!(task, Task::Again(_))) {
            Mode::Bare
        } else {
            Mode::Careful
        };
        let committed = loop {
            let changes_before = if failing {
                total_changes(&mut conn)
            } else {
                None
            };
            let (outcome, done, undone) = run_group(&mut conn, group, mode, file);
            if undone == Some(Undone::Retry) {
                // Every job of a bare group may run again.
                group = done
                    .into_iter()
                    .filter_map(|d| match d {
                        Done::Again(job) => Some(Task::Again(job)),
                        Done::Once(_) => None,
                    })
                    .collect();
                mode = Mode::Careful;
                continue;
            }
            let committed = outcome.is_ok();
            match outcome {
                // Rolled back for the job's own error (a rollback that failed too still
                // leaves nothing of it committed), which `finish` delivers.
                Err(_) if undone == Some(Undone::OwnFailure) => {
                    for d in done {
                        d.finish(Ok(()));
                    }
                }
                Ok(change) => {
                    if !failing
                        || changes_before.is_none()
                        || total_changes(&mut conn) != changes_before
                    {
                        failing = false;
                        health.ok_from(failed_at_ms + FAILURE_HOLD_MS);
                    }
                    if let (Some(change), Some(hook)) = (change, hook.get()) {
                        hook(change);
                    }
                    for d in done {
                        d.finish(Ok(()));
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "a write group failed to commit");
                    let reason = match e {
                        AppError::Unavailable(reason) => reason,
                        _ => "the write could not be committed; retry".to_owned(),
                    };
                    failing = true;
                    failed_at_ms = chrono::Utc::now().timestamp_millis();
                    health.failed(reason.clone());
                    for d in done {
                        d.finish(Err(AppError::Unavailable(reason.clone())));
                    }
                }
            }
            break committed;
        };
        // Not after a failed group: when the disk is full, copying frames would take
        // the space writes need (the checkpointer backs off instead).
        if committed
            && wal_restart.take()
            && let DbConn::Sqlite(inner) = &mut conn
            && let Err(e) = sqlite::checkpoint(inner)
        {
            tracing::debug!(error = %e, "the writer's checkpoint failed; the checkpointer retries");
        }
    }
}

/// Runs a group's jobs in one transaction, as `mode` says, and commits it unless a job
/// failed where only a rollback undoes it (`undone`). Returns the outcome (what the
/// group changed, for caches), the jobs that ran (and, when a bare group was rolled
/// back, those that had not yet), and why the transaction was rolled back, if for a job.
fn run_group(
    conn: &mut DbConn,
    group: Vec<Task>,
    mode: Mode,
    file: &DbFile,
) -> (AppResult<Option<ContentChange>>, Vec<Done>, Option<Undone>) {
    let mut done: Vec<Done> = Vec::with_capacity(group.len());
    let mut undone = None;
    let mut tasks = group.into_iter();
    let outcome = sqlite::write_transaction(conn, |conn| {
        let mut scopes = Vec::new();
        let panicked = |_| AppError::internal("a write panicked; its group is rolled back");
        // A bare group's creates count towards many of the same keys: each key is
        // written once, after them all (forgotten with the group if it rolls back).
        let held = (mode == Mode::Bare).then(crate::domain::counts::hold);
        for task in tasks.by_ref() {
            match task {
                Task::Once(job) => {
                    let alone = Alone(mode == Mode::Alone);
                    let (changed, finish, failed) =
                        catch_unwind(AssertUnwindSafe(|| job(conn, alone))).map_err(panicked)?;
                    scopes.extend(changed);
                    done.push(Done::Once(finish));
                    if failed && mode == Mode::Alone {
                        undone = Some(Undone::OwnFailure);
                        return Err(AppError::internal("the write failed; rolled back"));
                    }
                }
                Task::Again(mut job) => {
                    let bare = mode != Mode::Careful;
                    let failed =
                        catch_unwind(AssertUnwindSafe(|| job.run(conn, bare))).map_err(panicked)?;
                    scopes.extend(job.changed());
                    done.push(Done::Again(job));
                    if failed && mode != Mode::Careful {
                        undone = Some(if mode == Mode::Alone {
                            Undone::OwnFailure
                        } else {
                            Undone::Retry
                        });
                        return Err(AppError::internal("a write failed; rolled back"));
                    }
                }
            }
        }
        if let Some(held) = held {
            held.write(conn)?;
        }
        // A file moved or removed under the server would take every commit with it
        // when the process ends: refuse them all instead.
        if let Some(reason) = file.moved() {
            return Err(AppError::Unavailable(reason));
        }
        if scopes.is_empty() {
            return Ok(None);
        }
        let (version, horizon) = freshness::bump_and_horizon(conn, chrono::Utc::now().naive_utc())?;
        Ok(Some(ContentChange {
            scopes,
            version,
            horizon,
        }))
    });
    // A bare group rolled back runs again whole, the jobs it had not reached too.
    if undone == Some(Undone::Retry) {
        done.extend(tasks.filter_map(|task| match task {
            Task::Again(job) => Some(Done::Again(job)),
            Task::Once(_) => None,
        }));
    }
    (outcome, done, undone)
}

/// Rows changed by the connection since it opened (SQLite's `total_changes()`).
fn total_changes(conn: &mut DbConn) -> Option<i64> {
    use diesel::RunQueryDsl;
    match conn {
        DbConn::Sqlite(c) => diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
            "total_changes()",
        ))
        .get_result(c)
        .ok(),
        DbConn::Postgres(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use diesel::RunQueryDsl;
    use diesel::connection::SimpleConnection;

    use super::super::{Db, DbConn};
    use crate::error::AppError;
    use crate::workers::Workers;

    fn put(conn: &mut DbConn, word: &str) {
        let DbConn::Sqlite(c) = conn else {
            panic!("a SQLite writer")
        };
        c.batch_execute(&format!("INSERT INTO scratch (word) VALUES ('{word}')"))
            .unwrap();
    }

    fn words(db: &Db) -> Vec<String> {
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Text)]
            word: String,
        }
        db.read_blocking(|conn| {
            let DbConn::Sqlite(c) = conn else {
                panic!("a SQLite reader")
            };
            let rows: Vec<Row> =
                diesel::sql_query("SELECT word FROM scratch ORDER BY word").load(c)?;
            Ok(rows.into_iter().map(|r| r.word).collect())
        })
        .unwrap()
    }

    fn refused() -> AppError {
        AppError::Conflict {
            code: "refused",
            detail: "refused after writing".into(),
        }
    }

    /// A new database file with a `scratch` table, its workers, and its writer's queue.
    fn scratch_db() -> (tempfile::TempDir, Workers, Db, super::WriteQueue) {
        let dir = tempfile::tempdir().unwrap();
        let workers = Workers::new();
        let db = Db::open_file(&dir.path().join("w.db"), &workers).unwrap();
        db.write_blocking(|conn| {
            let DbConn::Sqlite(c) = conn else {
                panic!("a SQLite writer")
            };
            c.batch_execute("CREATE TABLE scratch (word TEXT NOT NULL)")?;
            Ok(())
        })
        .unwrap();
        let writes = match &db.backend {
            super::super::Backend::Sqlite { writes, .. } => writes.clone(),
            super::super::Backend::Postgres { .. } => unreachable!(),
        };
        (dir, workers, db, writes)
    }

    /// Transactions open on the writer's connection: 1 in its group's transaction, 2 in
    /// a savepoint inside it.
    fn depth(conn: &mut DbConn) -> u32 {
        use diesel::connection::{Connection, TransactionManager};
        type Manager = <DbConn as Connection>::TransactionManager;
        Manager::transaction_manager_status_mut(conn)
            .transaction_depth()
            .unwrap()
            .map_or(0, |d| d.get())
    }

    #[test]
    fn writes_that_may_run_again_share_their_group_without_savepoints() {
        use std::sync::{Arc, Mutex};
        let (_dir, workers, db, writes) = scratch_db();
        // Each run of a write: its word and the transaction depth it ran at.
        let runs: Arc<Mutex<Vec<(&'static str, u32)>>> = Arc::default();
        let (answers, answered) = std::sync::mpsc::channel();
        // A first write holds the writer until the group behind it is queued; then the
        // group runs, and each write answers.
        let group = |words: &[(&'static str, bool)]| {
            let (go, wait) = std::sync::mpsc::channel::<()>();
            let (held, first_running) = std::sync::mpsc::channel::<()>();
            let wait = Mutex::new(wait);
            writes.submit_again(
                Box::new(|_| None),
                move |_: &mut DbConn| {
                    held.send(()).unwrap();
                    wait.lock().unwrap().recv().unwrap();
                    Ok(())
                },
                |r: Result<(), AppError>| r.unwrap(),
            );
            first_running.recv().unwrap();
            for &(word, fails) in words {
                let (answer, runs) = (answers.clone(), runs.clone());
                writes.submit_again(
                    Box::new(|_| None),
                    move |conn: &mut DbConn| {
                        runs.lock().unwrap().push((word, depth(conn)));
                        put(conn, word);
                        if fails { Err(refused()) } else { Ok(()) }
                    },
                    move |r: Result<(), AppError>| answer.send((word, r.is_ok())).unwrap(),
                );
            }
            assert_eq!(writes.load().0, words.len(), "queued behind the first");
            go.send(()).unwrap();
            let mut results: Vec<(&str, bool)> =
                (0..words.len()).map(|_| answered.recv().unwrap()).collect();
            results.sort_unstable();
            results
        };

        // None fails: each runs once, in the group's transaction, without a savepoint.
        let results = group(&[("one", false), ("two", false), ("three", false)]);
        assert_eq!(results, [("one", true), ("three", true), ("two", true)]);
        assert_eq!(
            std::mem::take(&mut *runs.lock().unwrap()),
            [("one", 1), ("two", 1), ("three", 1)]
        );
        assert_eq!(words(&db), ["one", "three", "two"]);

        // One fails: the group is rolled back and runs again, each write in a savepoint
        // of its own; the one that fails loses its row and answers its own error, the
        // others commit their rows once.
        let results = group(&[("kept", false), ("failed", true), ("later", false)]);
        assert_eq!(
            results,
            [("failed", false), ("kept", true), ("later", true)]
        );
        assert_eq!(
            std::mem::take(&mut *runs.lock().unwrap()),
            [
                ("kept", 1),
                ("failed", 1),
                ("kept", 2),
                ("failed", 2),
                ("later", 2)
            ]
        );
        assert_eq!(words(&db), ["kept", "later", "one", "three", "two"]);
        assert_eq!(writes.load(), (0, 0), "nothing left queued or running");
        assert_eq!(
            workers.report().iter().filter(|(_, p)| p.is_some()).count(),
            0
        );
        workers.stop_all();
    }

    #[test]
    fn a_failed_write_leaves_nothing_alone_or_in_a_group() {
        let (_dir, workers, db, writes) = scratch_db();

        // Alone in its group: a write that fails after writing answers with its own
        // error, and its row is gone.
        let alone = db.write_blocking(|conn| {
            put(conn, "alone");
            Err::<(), _>(refused())
        });
        assert!(matches!(alone, Err(AppError::Conflict { .. })), "{alone:?}");
        db.write_blocking(|conn| {
            put(conn, "after");
            Ok(())
        })
        .unwrap();
        assert_eq!(words(&db), ["after"]);

        // In a group: a first write holds the writer until two more are queued, which
        // then run together; the one that fails loses its row, the other keeps it.
        let (go, wait) = std::sync::mpsc::channel::<()>();
        let (answers, answered) = std::sync::mpsc::channel();
        let (held, first_running) = std::sync::mpsc::channel::<()>();
        let answer = answers.clone();
        writes.submit(
            Box::new(|_| None),
            move |conn: &mut DbConn| {
                held.send(()).unwrap();
                wait.recv().unwrap();
                put(conn, "first");
                Ok(())
            },
            move |r: Result<(), AppError>| answer.send(("first", r)).unwrap(),
        );
        first_running.recv().unwrap();
        for (word, fails) in [("kept", false), ("failed", true)] {
            let answer = answers.clone();
            writes.submit(
                Box::new(|_| None),
                move |conn: &mut DbConn| {
                    put(conn, word);
                    if fails { Err(refused()) } else { Ok(()) }
                },
                move |r: Result<(), AppError>| answer.send((word, r)).unwrap(),
            );
        }
        assert_eq!(writes.load().0, 2, "both queued behind the first");
        go.send(()).unwrap();
        let mut results: Vec<(&str, bool)> = (0..3)
            .map(|_| {
                let (word, r) = answered.recv().unwrap();
                if let Err(e) = &r {
                    assert!(matches!(e, AppError::Conflict { .. }), "{e:?}");
                }
                (word, r.is_ok())
            })
            .collect();
        results.sort_unstable();
        assert_eq!(
            results,
            [("failed", false), ("first", true), ("kept", true)]
        );
        assert_eq!(words(&db), ["after", "first", "kept"]);
        assert_eq!(
            workers.report().iter().filter(|(_, p)| p.is_some()).count(),
            0
        );
        workers.stop_all();
    }
}
