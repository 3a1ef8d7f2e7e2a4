//! `tocsin signals run`: escalation signals from the stored incidents.

use anyhow::{bail, Result};
use clap::Subcommand;
use std::process::ExitCode;

use super::common::{open_store, settle};
use super::Global;
use crate::config::Overrides;
use crate::signals;

#[derive(Subcommand, Debug)]
pub enum SignalsCommand {
    /// Detect escalation signals in the stored incidents of the last weeks and record them;
    /// prints one line per signal and `N signals, M new`.
    Run {
        /// The day to run as of (YYYY-MM-DD; default today).
        #[arg(long)]
        as_of: Option<chrono::NaiveDate>,
        /// Weeks to report, ending with the week of --as-of (default `[signals] weeks`, 4).
        #[arg(long)]
        weeks: Option<u32>,
    },
}

/// Run a `tocsin signals` subcommand.
pub async fn run(g: &Global, command: SignalsCommand) -> Result<ExitCode> {
    let SignalsCommand::Run { as_of, weeks } = command;
    let cfg = settle(g, Overrides::default())?;
    let store = open_store(&cfg).await?;
    let as_of = as_of.unwrap_or_else(|| tocsin_domain::time::now().date_naive());
    let weeks = weeks.unwrap_or(cfg.signals.weeks);
    if weeks == 0 {
        bail!("--weeks must be at least 1");
    }
    let (found, new) = signals::run_once(&store, &cfg.signals.detector, as_of, weeks).await?;
    for s in &found {
        println!("{} {} {}", s.week_start, s.severity, s.explanation);
    }
    println!(
        "{} signal{} in the {weeks} week{} up to {as_of}, {new} new",
        found.len(),
        if found.len() == 1 { "" } else { "s" },
        if weeks == 1 { "" } else { "s" },
    );
    Ok(ExitCode::SUCCESS)
}
