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
//! once per group instead of once per write.

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

enum Msg {
    Write(Job),
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
        if self.jobs.send(Msg::Write(job)).is_err() {
            self.load.unqueue();
        }
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
        let mut finishers: Vec<Finish> = Vec::with_capacity(group.len());
        let changes_before = if failing {
            total_changes(&mut conn)
        } else {
            None
        };
        let alone = Alone(group.len() == 1);
        // Set when the one job of a group failed: the transaction is rolled back in
        // place of its savepoint, and the job answers with its own error.
        let mut own_failure = false;
        let outcome = sqlite::write_transaction(&mut conn, |conn| {
            let mut scopes = Vec::new();
            for job in group {
                let (changed, finish, failed) = catch_unwind(AssertUnwindSafe(|| job(conn, alone)))
                    .map_err(|_| {
                        AppError::internal("a write panicked; its group is rolled back")
                    })?;
                scopes.extend(changed);
                finishers.push(finish);
                if alone.0 && failed {
                    own_failure = true;
                    return Err(AppError::internal("the write failed; rolled back"));
                }
            }
            // A file moved or removed under the server would take every commit with
            // it when the process ends: refuse them all instead.
            if let Some(reason) = file.moved() {
                return Err(AppError::Unavailable(reason));
            }
            if scopes.is_empty() {
                return Ok(None);
            }
            let version = freshness::bump(conn)?;
            let horizon = freshness::horizon(conn, chrono::Utc::now().naive_utc())?;
            Ok(Some(ContentChange {
                scopes,
                version,
                horizon,
            }))
        });
        let committed = outcome.is_ok();
        match outcome {
            // Rolled back for the job's own error (a rollback that failed too still
            // leaves nothing of it committed), which `finish` delivers.
            Err(_) if own_failure => {
                for finish in finishers {
                    finish(Ok(()));
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
                for finish in finishers {
                    finish(Ok(()));
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
                for finish in finishers {
                    finish(Err(AppError::Unavailable(reason.clone())));
                }
            }
        }
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

    #[test]
    fn a_failed_write_leaves_nothing_alone_or_in_a_group() {
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
        let writes = match &db.backend {
            super::super::Backend::Sqlite { writes, .. } => writes.clone(),
            super::super::Backend::Postgres { .. } => unreachable!(),
        };
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
