//! `tocsin`: the one binary. `serve` runs the API, web UI and jobs; the other subcommands
//! administer the same data directory or database. The subcommands live in [`cli`], one
//! module per family.

mod cli;
mod config;
mod demo;
mod exchange;
mod ops;
mod signals;

use clap::Parser;

/// mimalloc: glibc's allocator spent a fifth of export and import time consolidating chunks.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    ops::private_umask();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TOCSIN_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, not in log files.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match cli::run(cli::Cli::parse()).await {
        Ok(code) => code,
        Err(e)
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            // The reader of our output went away (e.g. `| head`): not an error of ours.
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(cli::exit_code(&e))
        }
    }
}
