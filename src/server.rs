//! Running the HTTP server until it is told to stop.

use std::time::Duration;

use actix_web::{HttpServer, web};

use crate::http::{self, state::AppState};

/// How long requests are still answered (each closing its connection) after SIGTERM or
/// Ctrl-C, before the listener closes.
const DRAIN: Duration = Duration::from_secs(1);
/// How long in-flight requests get to finish after SIGTERM or Ctrl-C.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(15);
/// Threads per worker for CPU-heavy work (password hashing, Markdown rendering).
/// Database work has threads of its own (see `db`); more would only add memory.
const BLOCKING_THREADS_PER_WORKER: usize = 2;

/// Serves until SIGTERM/SIGINT, then ends the breaking streams, lets in-flight requests
/// finish and writes the view beacons counted so far.
pub fn run(state: AppState) -> std::io::Result<()> {
    let addr = state.config.bind_addr;
    let openapi_json = web::Bytes::from(crate::openapi::document_json());
    let app_state = state.clone();
    actix_web::rt::System::new().block_on(async move {
        let server = HttpServer::new(move || http::app(app_state.clone(), openapi_json.clone()))
            .bind(addr)
            .map_err(|e| std::io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")))?
            .shutdown_timeout(SHUTDOWN_GRACE.as_secs())
            .worker_max_blocking_threads(BLOCKING_THREADS_PER_WORKER)
            .disable_signals()
            .run();
        let handle = server.handle();
        let stopping = state.clone();
        actix_web::rt::spawn(async move {
            stop_signal().await;
            tracing::info!("stopping");
            // Streams never end by themselves: close them so the stop is not held up.
            stopping.hub.close();
            // Drain: `/readyz` fails and every answer closes its connection, so clients
            // on keep-alive connections are answered and move on instead of finding the
            // connection gone under a request.
            stopping.begin_stop();
            actix_web::rt::time::sleep(DRAIN).await;
            handle.stop(true).await;
        });
        println!("newsdesk is listening on http://{addr}  (API docs: http://{addr}/docs/)");
        tracing::info!(%addr, "listening");
        server.await?;
        // Views, queued writes and the WAL, in that order (see `workers`).
        state.shutdown();
        tracing::info!("stopped");
        Ok(())
    })
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
