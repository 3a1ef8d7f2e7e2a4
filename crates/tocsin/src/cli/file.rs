//! `tocsin file`: evidence files of reports, and the release of a sealed original, through
//! the same use cases as the API and the pages (`tocsin-app`). With `--user NAME` as that
//! user (their clearance, their permissions); without it as the operator, who holds the data
//! directory and the key. A release is recorded in the file's custody log exactly as one from
//! the web (`evidence.original.release`, with the reason), the operator as `system:cli`.

use anyhow::{Context, Result};
use clap::Subcommand;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tocsin_app::{Acting, AppError};
use tocsin_domain::User;
use uuid::Uuid;

use super::alerting::Ctx;
use super::common::{acting_user, refused, Refused};
use super::Global;

/// `tocsin file …`
#[derive(Subcommand, Debug)]
pub enum FileCommand {
    /// List a report's files: id, kind, size, SHA-256 of the original, and what the working
    /// copy lost (or `NOT CLEANED`).
    List {
        /// The report's id.
        #[arg(long)]
        report: Uuid,
        /// Act as this user (else as the operator).
        #[arg(long)]
        user: Option<String>,
    },
    /// Show a file: its hashes, what its working copy lost, and its custody log.
    Show {
        /// The file's id.
        id: Uuid,
        /// Act as this user (else as the operator).
        #[arg(long)]
        user: Option<String>,
    },
    /// Release a file's sealed original into a new file (mode 0600), for a reason recorded in
    /// its custody log.
    Original {
        /// The file's id.
        id: Uuid,
        /// Why the original is needed (required).
        #[arg(long)]
        reason: String,
        /// Where to write it (must not exist).
        #[arg(long)]
        out: PathBuf,
        /// Act as this user (who needs the `evidence_original` grant; else as the operator).
        #[arg(long)]
        user: Option<String>,
    },
}

/// Run a `tocsin file` subcommand.
pub async fn run(g: &Global, command: FileCommand) -> Result<ExitCode> {
    let ctx = Ctx::open(g).await?;
    print!("{}", file(&ctx, command).await?);
    Ok(ExitCode::SUCCESS)
}

fn size(n: u64) -> String {
    tocsin_app::files::human_size(n as usize)
}

/// A refusal told to the user, or to the operator.
fn tell(u: Option<&User>, record: &str, e: AppError) -> anyhow::Error {
    match u {
        Some(u) => refused(u, record, e),
        None => {
            let message = match &e {
                AppError::NotFound => format!("no {record}"),
                e => e.to_string(),
            };
            Refused { error: e, message }.into()
        }
    }
}

/// The named user, or the operator.
fn by(u: &Option<User>) -> Acting<'_> {
    u.as_ref().map_or(Acting::Operator("cli"), Acting::User)
}

/// Create `path` for writing, readable by its owner only; refused if it exists.
fn create_private(path: &Path) -> Result<std::fs::File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    opts.open(path)
        .with_context(|| format!("cannot create {} (it must not exist)", path.display()))
}

async fn file(ctx: &Ctx, cmd: FileCommand) -> Result<String> {
    let app = ctx.app();
    let mut out = String::new();
    let user = |name: Option<String>| async move {
        match name {
            Some(n) => acting_user(&ctx.store, &n).await.map(Some),
            None => Ok(None),
        }
    };
    match cmd {
        FileCommand::List { report, user: name } => {
            let u = user(name).await?;
            let files = app
                .report_files(by(&u), report)
                .await
                .map_err(|e| tell(u.as_ref(), &format!("report {report}"), e))?;
            for f in files {
                let lost = match &f.not_cleaned {
                    Some(_) => "NOT CLEANED".to_string(),
                    None if f.removed.is_empty() => "-".to_string(),
                    None => f.removed.join(", "),
                };
                let _ = writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{}",
                    f.id,
                    f.kind.as_str(),
                    size(f.size),
                    f.sha256,
                    lost
                );
            }
        }
        FileCommand::Show { id, user: name } => {
            let u = user(name).await?;
            let record = format!("file {id}");
            let (f, tlp) = app
                .evidence_file(by(&u), id)
                .await
                .map_err(|e| tell(u.as_ref(), &record, e))?;
            let custody = app
                .custody_log(by(&u), id)
                .await
                .map_err(|e| tell(u.as_ref(), &record, e))?;
            let _ = writeln!(out, "file {} ({}, {tlp})", f.id, f.kind.as_str());
            let _ = writeln!(out, "report: {}", f.report_id);
            let _ = writeln!(out, "original: {}, SHA-256 {}", size(f.size), f.sha256);
            match &f.not_cleaned {
                Some(why) => {
                    let _ = writeln!(
                        out,
                        "working copy: none, could not be cleaned ({why}); only the sealed \
                         original is kept"
                    );
                }
                None => {
                    let _ = writeln!(
                        out,
                        "working copy: {}, SHA-256 {}",
                        size(f.working_size),
                        f.working_sha256
                    );
                    let _ = writeln!(
                        out,
                        "removed: {}",
                        if f.removed.is_empty() {
                            "nothing to remove".to_string()
                        } else {
                            f.removed.join(", ")
                        }
                    );
                }
            }
            let _ = writeln!(out, "custody log:");
            for c in custody {
                let detail: serde_json::Value = serde_json::from_str(&c.detail).unwrap_or_default();
                let reason = detail.get("reason").and_then(|r| r.as_str());
                let _ = writeln!(
                    out,
                    "  {}\t{}\t{}\t{}{}",
                    c.seq,
                    c.at.format("%Y-%m-%d %H:%M:%S"),
                    c.actor_name,
                    c.action,
                    reason.map(|r| format!("\t{r}")).unwrap_or_default()
                );
            }
        }
        FileCommand::Original {
            id,
            reason,
            out: path,
            user: name,
        } => {
            use std::io::Write;
            let u = user(name).await?;
            // The file is made before the release is recorded, so a release on the record was
            // also written out.
            let mut dest = create_private(&path)?;
            let r = match app.release_original(by(&u), id, &reason).await {
                Ok(r) => r,
                Err(e) => {
                    drop(dest);
                    let _ = std::fs::remove_file(&path);
                    return Err(tell(u.as_ref(), &format!("file {id}"), e));
                }
            };
            dest.write_all(&r.bytes)
                .and_then(|_| dest.sync_all())
                .with_context(|| format!("cannot write {}", path.display()))?;
            let _ = writeln!(
                out,
                "released the original of file {} ({}, SHA-256 {}) to {}; recorded in its \
                 custody log",
                r.file.id,
                size(r.file.size),
                r.file.sha256,
                path.display()
            );
        }
    }
    Ok(out)
}
