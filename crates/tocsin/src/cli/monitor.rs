//! `tocsin monitor import`: import an archive of public posts (Telegram Desktop's
//! `result.json`, JSONL, CSV; gzip-compressed or not) as monitored items, read as a stream in
//! constant memory, through the same use case as `POST /api/v1/monitor/import`.

use anyhow::{Context, Result};
use clap::Subcommand;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use tocsin_app::monitor::{ArchiveFormat, ImportOptions, ImportSummary};
use tocsin_app::{Acting, App, AppError};
use tocsin_store::DynStore;

use super::common::{acting_user, open_store, refused, settle, Refused};
use super::Global;
use crate::config::Overrides;

/// `tocsin monitor …`
#[derive(Subcommand, Debug)]
pub enum MonitorCommand {
    /// Import an archive of posts: each post stored once per archive name, scanned with the
    /// enabled lexicons and flagged; prints posts read, stored, duplicates, malformed (with
    /// their line numbers) and flagged.
    Import {
        /// The file (`.gz` or not: gzip is recognised by its first bytes).
        file: PathBuf,
        /// The archive's name (its items' origin).
        #[arg(long)]
        name: String,
        /// `telegram` (Telegram Desktop's result.json), `jsonl` or `csv`.
        #[arg(long)]
        format: String,
        /// The country of its posts (ISO 3166 alpha-3).
        #[arg(long)]
        country: Option<String>,
        /// Its items' label (default TLP:GREEN).
        #[arg(long)]
        tlp: Option<String>,
        /// Act as this user; without it, as the operator.
        #[arg(long)]
        user: Option<String>,
    },
}

/// Run a `tocsin monitor` subcommand from the command line.
pub async fn run(g: &Global, command: MonitorCommand) -> Result<ExitCode> {
    let cfg = settle(g, Overrides::default())?;
    let store = open_store(&cfg).await?;
    print!("{}", monitor(&store, command).await?);
    Ok(ExitCode::SUCCESS)
}

/// The summary as printed.
pub fn summary(s: &ImportSummary) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "read {}, stored {}, duplicates {}, malformed {}, skipped {}, flagged {}",
        s.read, s.stored, s.duplicates, s.malformed, s.skipped, s.flagged
    );
    for p in &s.problems {
        let _ = writeln!(out, "  malformed: {p}");
    }
    if s.malformed as usize > s.problems.len() {
        let _ = writeln!(
            out,
            "  … and {} more",
            s.malformed as usize - s.problems.len()
        );
    }
    out
}

/// Run a `tocsin monitor` subcommand.
pub async fn monitor(store: &DynStore, cmd: MonitorCommand) -> Result<String> {
    let MonitorCommand::Import {
        file,
        name,
        format,
        country,
        tlp,
        user,
    } = cmd;
    let user = match &user {
        Some(n) => Some(acting_user(store, n).await?),
        None => None,
    };
    let tell = |e: AppError| match &user {
        Some(u) => refused(u, "archive", e),
        None => {
            let message = e.to_string();
            Refused { error: e, message }.into()
        }
    };
    let by = user.as_ref().map_or(Acting::Operator("cli"), Acting::User);
    let frameworks = tocsin_framework::Frameworks::shipped();
    let app = App::new(store, &frameworks);
    let f =
        std::fs::File::open(&file).with_context(|| format!("cannot read {}", file.display()))?;
    let opts = ImportOptions {
        name,
        format: ArchiveFormat::parse(&format).map_err(tell)?,
        country,
        tlp,
    };
    let s = app.import_archive(by, f, opts).await.map_err(tell)?;
    Ok(summary(&s))
}
