//! The read pool: a fixed set of threads, each owning one reader connection, taking
//! read jobs from a shared queue.
//!
//! A fixed pool bounds what reads can cost: as many connections (and SQLite page
//! caches) as threads, and no burst of extra threads under load, where handing each
//! read to a general blocking pool would start threads by the hundred.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use super::DbConn;
use crate::error::{AppError, AppResult};

type Job = Box<dyn FnOnce(&mut DbConn) + Send>;

/// The sending side of the read queue; cheap to clone.
#[derive(Clone)]
pub struct ReadPool {
    jobs: Sender<Job>,
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
    /// Starts one thread per connection.
    pub fn start(connections: Vec<DbConn>) -> std::io::Result<Self> {
        let (jobs, queue) = channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for (i, conn) in connections.into_iter().enumerate() {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("db-reader-{i}"))
                .spawn(move || serve(conn, &queue))?;
        }
        Ok(Self { jobs })
    }

    fn submit<T, F>(&self, work: F, deliver: impl FnOnce(AppResult<T>) + Send + 'static)
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> AppResult<T> + Send + 'static,
    {
        let _ = self.jobs.send(Box::new(move |conn: &mut DbConn| {
            deliver(work(conn));
        }));
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
        });
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
        });
        receiver.recv().unwrap_or_else(|_| Err(stopped()))
    }
}

fn serve(mut conn: DbConn, queue: &Mutex<Receiver<Job>>) {
    loop {
        let job = {
            let queue = queue.lock().unwrap_or_else(|e| e.into_inner());
            queue.recv()
        };
        match job {
            Ok(job) => {
                // A panicking read loses its own answer (the caller sees an error),
                // not the thread.
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut conn)));
            }
            Err(_) => return,
        }
    }
}
