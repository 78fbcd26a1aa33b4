//! The `newsdesk` binary: reads settings, sets up logging, runs a command.

use std::io::IsTerminal;

use clap::Parser;
use tracing_subscriber::EnvFilter;

fn main() {
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
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    if let Err(exit) = newsdesk::cli::run(cli) {
        eprintln!("newsdesk: {}", exit.message);
        std::process::exit(exit.code);
    }
}
