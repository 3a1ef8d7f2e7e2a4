//! `tocsin framework`: show an analysis framework with its verification marks.

use anyhow::Result;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

use super::assess::load_framework;

// The flags of `tocsin framework`.
#[derive(Args, Debug)]
pub struct FrameworkArgs {
    /// A framework definition file (TOML) to check and show instead.
    #[arg(long)]
    file: Option<PathBuf>,
}

/// Print the framework (the shipped UN 2014 one, or `--file`); a broken file is refused.
pub fn show(args: FrameworkArgs) -> Result<ExitCode> {
    let f = match &args.file {
        Some(p) => load_framework(p)?,
        None => tocsin_framework::Framework::un_2014(),
    };
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{} ({}, {})", f.name, f.publisher, f.edition)?;
    for rf in &f.risk_factors {
        writeln!(out, "{}. {} [{}]", rf.number, rf.name, rf.group)?;
        for i in &rf.indicators {
            writeln!(out, "  {} ({}) {}", i.number, i.status.mark(), i.text)?;
        }
        for g in &rf.gaps {
            writeln!(out, "  gap: {g}")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
