//! Running the HTTP server until it is told to stop.

use std::time::Duration;

use actix_web::{HttpServer, web};

use crate::http::{self, state::AppState};

/// How long in-flight requests get to finish after SIGTERM or Ctrl-C.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(15);
/// Threads per worker for CPU-heavy work (password hashing, Markdown rendering).
/// Database work has threads of its own (see `db`); more would only add memory.
const BLOCKING_THREADS_PER_WORKER: usize = 2;

/// Serves until SIGTERM/SIGINT, then lets in-flight requests finish.
pub fn run(state: AppState) -> std::io::Result<()> {
    let addr = state.config.bind_addr;
    crate::http::cache::poll(state.cache.clone(), state.db.clone());
    let openapi_json = web::Bytes::from(crate::openapi::document_json());
    actix_web::rt::System::new().block_on(async move {
        let server = HttpServer::new(move || http::app(state.clone(), openapi_json.clone()))
            .bind(addr)
            .map_err(|e| std::io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")))?
            .shutdown_timeout(SHUTDOWN_GRACE.as_secs())
            .worker_max_blocking_threads(BLOCKING_THREADS_PER_WORKER)
            .run();
        println!("newsdesk is listening on http://{addr}  (API docs: http://{addr}/docs/)");
        tracing::info!(%addr, "listening");
        server.await?;
        tracing::info!("stopped");
        Ok(())
    })
}
