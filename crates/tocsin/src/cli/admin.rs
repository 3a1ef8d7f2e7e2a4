//! The store itself: `tocsin migrate`, `tocsin audit verify`, `tocsin backup` and
//! `tocsin restore`.

use anyhow::Result;
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

use super::common::{open_store, settle};
use super::Global;
use crate::config::Overrides;
use crate::ops;
use tocsin_store::StoreExt;

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Check the hash chain; exits non-zero and names the first broken entry if any.
    Verify,
}

// The flags of `tocsin backup`.
#[derive(Args, Debug)]
pub struct BackupArgs {
    /// The file to create (refused if it exists).
    #[arg(long)]
    out: PathBuf,
}

// The flags of `tocsin restore`.
#[derive(Args, Debug)]
pub struct RestoreArgs {
    /// The backup file.
    file: PathBuf,
    /// Replace an existing database.
    #[arg(long)]
    force: bool,
}

/// `tocsin migrate`.
pub async fn migrate(g: &Global) -> Result<ExitCode> {
    let cfg = settle(g, Overrides::default())?;
    let store = open_store(&cfg).await?;
    store.migrate().await?;
    println!("migrations applied to {}", cfg.database_url);
    Ok(ExitCode::SUCCESS)
}

/// `tocsin audit verify`: exits 1 on a broken chain.
pub async fn audit(g: &Global, command: AuditCommand) -> Result<ExitCode> {
    let AuditCommand::Verify = command;
    let cfg = settle(g, Overrides::default())?;
    let store = open_store(&cfg).await?;
    match store.verify_audit().await? {
        Ok(n) => {
            println!("audit chain intact: {n} entries verified");
            Ok(ExitCode::SUCCESS)
        }
        Err(b) => {
            println!("AUDIT CHAIN BROKEN at entry {}: {}", b.seq, b.reason);
            Ok(ExitCode::from(1))
        }
    }
}

/// `tocsin backup`.
pub async fn backup(g: &Global, args: BackupArgs) -> Result<ExitCode> {
    let cfg = settle(g, Overrides::default())?;
    print!("{}", ops::backup(&cfg, &args.out).await?);
    Ok(ExitCode::SUCCESS)
}

/// `tocsin restore`.
pub async fn restore(g: &Global, args: RestoreArgs) -> Result<ExitCode> {
    let cfg = settle(g, Overrides::default())?;
    print!("{}", ops::restore(&cfg, &args.file, args.force).await?);
    Ok(ExitCode::SUCCESS)
}
