//! The `newsdesk` binary: reads settings, sets up logging, runs a command.

use std::io::IsTerminal;

use clap::Parser;
use tracing_subscriber::EnvFilter;

fn main() {
    newsdesk::memory::big_blocks_from_the_system();
    // A missing .env is normal; values already in the environment win over it.
    let _ = dotenvy::dotenv();
    let cli = newsdesk::cli::Cli::parse();
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.trim().is_empty() => match EnvFilter::try_new(&spec) {
            Ok(filter) => filter,
            Err(e) => {
                eprintln!("newsdesk: invalid RUST_LOG: {e}");
                std::process::exit(2);
            }
        },
        _ => EnvFilter::new("info"),
    };
    // Log lines are written by a background thread: a request never waits on stderr.
    // Nothing is dropped: when the buffer is full, the logging request waits.
    let (writer, _flush_on_exit) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .finish(std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    match cli.settings.log_format {
        Some(newsdesk::cli::LogFormat::Json) => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .init(),
        _ => builder.with_ansi(std::io::stderr().is_terminal()).init(),
    }
    if let Err(exit) = newsdesk::cli::run(cli) {
        drop(_flush_on_exit);
        eprintln!("newsdesk: {}", exit.message);
        std::process::exit(exit.code);
    }
}
