//! `tocsin share stix` and `tocsin share import-stix`: STIX 2.1 bundles out and in, through
//! the same use cases and code as `GET`/`POST /api/v1/share/stix` ([`tocsin_app::share`],
//! [`tocsin_server::share`]); `tocsin share key`, `export` and `import`: signed bundles for a
//! partner organisation, by file or over HTTPS ([`tocsin_app::bundles`]).

use anyhow::{Context, Result};
use clap::Subcommand;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use tocsin_app::bundles::BundleError;
use tocsin_app::share::{Audience, ReceiveSummary};
use tocsin_app::{Acting, App, AppError};
use tocsin_exchange::stix::StixOrg;
use tocsin_server::export::ExportError;

use super::common::{acting_user, contact_key, open_store, refused, settle, Refused};
use super::Global;
use crate::config::Overrides;

/// The largest bundle `tocsin share import-stix` reads.
pub const MAX_CLI_BUNDLE_BYTES: usize = 2 << 30;

/// `tocsin share …`
#[derive(Subcommand, Debug)]
pub enum ShareCommand {
    /// Print this installation's public signing key (base64), what partners add with `tocsin
    /// partner add NAME --key KEY`. The key is made on first use, kept sealed.
    Key,
    /// Write a signed bundle for a partner: the verified incidents that may cross to it (at
    /// most its ceiling, its countries; never TLP:RED or AMBER+STRICT, never a source, report
    /// or warner's words), and a retraction for each one sent before that no longer crosses.
    Export {
        /// The partner's name (see `tocsin partner list`).
        #[arg(long)]
        partner: String,
        /// Write here.
        #[arg(long, short)]
        out: PathBuf,
        /// Act as this user (capped by their clearance); without it, as the operator.
        #[arg(long)]
        user: Option<String>,
    },
    /// Push to a partner over the network what it does not hold yet, in signed pages (`POST
    /// {its URL}/api/v1/share/bundles` with the token it issued, `tocsin partner push-token`):
    /// the records that cross and were not sent at this version, then the retractions. Each
    /// page is recorded as sent once the partner took it, so a push cut midway resumes where
    /// it stopped. What it stored is printed. Exit 2 when it refused a page or could not be
    /// reached (the pages it took stay recorded).
    Push {
        /// The partner's name.
        #[arg(long)]
        partner: String,
        /// Records per page.
        #[arg(long, default_value_t = tocsin_app::bundles::DEFAULT_PAGE_RECORDS)]
        page_records: usize,
        /// Send every record that crosses again, not only what it does not hold yet.
        #[arg(long)]
        full: bool,
        /// Act as this user (capped by their clearance); without it, as the operator.
        #[arg(long)]
        user: Option<String>,
    },
    /// Pull what a partner made for this installation over the network, page after page (`GET
    /// {its URL}/api/v1/share/bundles?after=CURSOR` with the token it issued), each page
    /// received as `import` does; the cursor of the last page stored is kept, so a pull cut
    /// midway resumes there and the next one brings only what changed since.
    Pull {
        /// The partner's name.
        #[arg(long)]
        partner: String,
        /// Records per page.
        #[arg(long, default_value_t = tocsin_app::bundles::DEFAULT_PAGE_RECORDS)]
        page_records: usize,
        /// Forget where the last pull stopped and take everything again (what is held already
        /// changes nothing).
        #[arg(long)]
        from_start: bool,
        /// Act as this user; without it, as the operator.
        #[arg(long)]
        user: Option<String>,
    },
    /// Receive a partner's signed bundle: checked whole first (made for this installation,
    /// signed with the partner's key, unchanged), else nothing is stored (exit 2). Exits 0
    /// when every object was taken, 1 when some were refused (listed with their reasons).
    Import {
        /// The bundle.
        file: PathBuf,
        /// The partner it came from.
        #[arg(long)]
        from: String,
        /// Act as this user; without it, as the operator.
        #[arg(long)]
        user: Option<String>,
    },
    /// Write a STIX 2.1 bundle (TLP 2.0 markings) of the verified incidents that may leave:
    /// never TLP:RED or AMBER+STRICT, never a source, report or warner's words.
    Stix {
        /// Write here.
        #[arg(long, short)]
        out: PathBuf,
        /// The highest label exported (default TLP:CLEAR; at most TLP:AMBER).
        #[arg(long, default_value = "TLP:CLEAR")]
        max_tlp: String,
        /// ISO 3166-1 alpha-3.
        #[arg(long)]
        country: Option<String>,
        /// Event date on or after (YYYY-MM-DD).
        #[arg(long)]
        from: Option<String>,
        /// Event date on or before (YYYY-MM-DD).
        #[arg(long)]
        to: Option<String>,
        /// Act as this user (capped by their clearance); without it, as the operator.
        #[arg(long)]
        user: Option<String>,
    },
    /// Receive another organisation's STIX 2.1 bundle as read-only incidents labelled with
    /// their origin. Exits 0 when every object was taken, 1 when some were refused (listed
    /// with their reasons), 2 when nothing could be taken (a malformed bundle stores nothing).
    ImportStix {
        /// The bundle (JSON).
        file: PathBuf,
        /// The organisation it came from.
        #[arg(long)]
        from: String,
        /// Act as this user; without it, as the operator.
        #[arg(long)]
        user: Option<String>,
    },
    /// List the assessments, alerts, rumours and actions received from partner organisations
    /// that the user may see (tab-separated: id, kind, origin, label, status, level, title,
    /// retracted), the most recently received first.
    Received {
        /// Act as this user.
        #[arg(long)]
        user: String,
    },
}

/// The summary as printed.
pub fn summary(s: &ReceiveSummary) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "created {}, updated {}, retracted {}, unchanged {}, ignored {}, refused {}",
        s.created,
        s.updated,
        s.retracted,
        s.unchanged,
        s.ignored,
        s.refused.len()
    );
    for r in &s.refused {
        let _ = writeln!(out, "  refused {}: {}", r.id, r.reason);
    }
    out
}

/// Run a `tocsin share` subcommand.
pub async fn run(g: &Global, command: ShareCommand) -> Result<ExitCode> {
    let cfg = settle(g, Overrides::default())?;
    let store = open_store(&cfg).await?;
    let frameworks = tocsin_framework::Frameworks::shipped();
    // Alerts shared with partners carry their CAP form, signed as `[cap]` says.
    let (site, _) = cfg.cap_site()?;
    let mut app = App::new(&store, &frameworks);
    app.cap_site = Some(&site);
    // Who acts (`--user`, else the operator), resolved once for every subcommand.
    let name = match &command {
        ShareCommand::Key => None,
        ShareCommand::Export { user, .. }
        | ShareCommand::Push { user, .. }
        | ShareCommand::Pull { user, .. }
        | ShareCommand::Import { user, .. }
        | ShareCommand::Stix { user, .. }
        | ShareCommand::ImportStix { user, .. } => user.clone(),
        ShareCommand::Received { user } => Some(user.clone()),
    };
    let user = match name {
        Some(n) => Some(acting_user(&store, &n).await?),
        None => None,
    };
    let by = user.as_ref().map_or(Acting::Operator("cli"), Acting::User);
    // The signing key is sealed with the contact key: loaded for the partner subcommands only.
    let signs = !matches!(
        command,
        ShareCommand::Stix { .. } | ShareCommand::ImportStix { .. } | ShareCommand::Received { .. }
    );
    let ck = if signs {
        Some(contact_key(&cfg, &store).await?)
    } else {
        None
    };
    app.contact_key = ck.as_ref();
    match command {
        ShareCommand::Key => {
            let k = app
                .public_signing_key(Acting::Operator("cli"))
                .await
                .map_err(|e| tell(None, e))?;
            println!("{k}");
            Ok(ExitCode::SUCCESS)
        }
        ShareCommand::Export { partner, out, .. } => {
            let org = StixOrg {
                name: cfg.organisation_name(),
                instance_id: store.instance_id().await?,
            };
            let started = std::time::Instant::now();
            let made = app
                .make_partner_bundle(by, &partner, org)
                .await
                .map_err(|e| tell(user.as_ref(), e))?;
            write_new(&out, &made.bytes)?;
            let (n, k, r, sha) = (
                made.incidents(),
                made.items(),
                made.retractions(),
                made.sha256(),
            );
            app.record_partner_bundle(by, made)
                .await
                .map_err(|e| tell(user.as_ref(), e))?;
            let secs = started.elapsed().as_secs_f64();
            println!("sha256 {sha}");
            eprintln!(
                "wrote {n} incidents, {k} other records and {r} retractions for {partner} in \
                 {secs:.1} s ({:.0} records/s)",
                (n + k + r) as f64 / secs.max(1e-9)
            );
            Ok(ExitCode::SUCCESS)
        }
        ShareCommand::Push {
            partner,
            page_records,
            full,
            ..
        } => {
            let org = StixOrg {
                name: cfg.organisation_name(),
                instance_id: store.instance_id().await?,
            };
            match app
                .push_to_partner(by, &partner, org, page_records, full)
                .await
            {
                Ok(p) => {
                    for sha in &p.bundles {
                        println!("sha256 {sha}");
                    }
                    print!("{}", summary(&p.stored));
                    eprintln!(
                        "pushed {} incidents, {} other records and {} retractions to {partner} \
                         in {} pages; {} it holds already",
                        p.sent, p.items, p.retractions, p.pages, p.already_there
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(BundleError::App(e)) => Err(tell(user.as_ref(), e)),
                Err(e) => {
                    eprintln!(
                        "the push stopped: {e} (pages the partner took stay recorded as sent; \
                         push again to resume)"
                    );
                    Ok(ExitCode::from(2))
                }
            }
        }
        ShareCommand::Pull {
            partner,
            page_records,
            from_start,
            ..
        } => {
            let s = match app
                .pull_from_partner(by, &partner, page_records, from_start)
                .await
            {
                Ok(p) => {
                    eprintln!(
                        "pulled {} pages from {partner}; next pull starts after {}",
                        p.pages,
                        p.cursor.map_or("the start".into(), |c| c.to_string())
                    );
                    p.stored
                }
                Err(BundleError::App(e)) => return Err(tell(user.as_ref(), e)),
                Err(e @ BundleError::Refused(_)) => {
                    eprintln!("{e}");
                    return Ok(ExitCode::from(2));
                }
                Err(e) => {
                    eprintln!("nothing was stored: {e}");
                    return Ok(ExitCode::from(2));
                }
            };
            print!("{}", summary(&s));
            Ok(ExitCode::from(if s.refused.is_empty() { 0 } else { 1 }))
        }
        ShareCommand::Import { file, from, .. } => {
            let started = std::time::Instant::now();
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let s = match app
                .receive_partner_bundle(by, &from, bytes, MAX_CLI_BUNDLE_BYTES)
                .await
            {
                Ok(s) => s,
                Err(BundleError::App(e)) => return Err(tell(user.as_ref(), e)),
                Err(e) => {
                    eprintln!("{e}");
                    return Ok(ExitCode::from(2));
                }
            };
            Ok(received(&s, started))
        }
        ShareCommand::Stix {
            out,
            max_tlp,
            country,
            from,
            to,
            ..
        } => {
            let tell = |e: AppError| tell(user.as_ref(), e);
            let q = tocsin_server::share::StixQuery {
                max_tlp: Some(max_tlp),
                country,
                from,
                to,
            };
            let (max, filter) = q.read().map_err(|e| anyhow::anyhow!("{}", e.message))?;
            let detail = serde_json::to_value(&q)?;
            let scope = app
                .start_share(by, Audience::Stix, max, filter, detail)
                .await
                .map_err(tell)?;
            let org = StixOrg {
                name: cfg.organisation_name(),
                instance_id: store.instance_id().await?,
            };
            let started = std::time::Instant::now();
            let file = std::fs::File::create(&out)
                .with_context(|| format!("cannot create {}", out.display()))?;
            let file = std::sync::Mutex::new(std::io::BufWriter::new(file));
            let n = tocsin_server::share::stream_stix(&app, &store, &scope, org, |chunk| {
                let r = file
                    .lock()
                    .expect("output poisoned")
                    .write_all(&chunk)
                    .map_err(ExportError::Io);
                async move { r }
            })
            .await?;
            file.lock().expect("output poisoned").flush()?;
            let secs = started.elapsed().as_secs_f64();
            eprintln!(
                "exported {n} incidents up to {} in {secs:.1} s ({:.0} incidents/s)",
                scope.max_tlp,
                n as f64 / secs.max(1e-9)
            );
            Ok(ExitCode::SUCCESS)
        }
        ShareCommand::ImportStix { file, from, .. } => {
            let started = std::time::Instant::now();
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let bundle = match tokio::task::spawn_blocking(move || {
                tocsin_app::bundles::read_stix(&bytes, MAX_CLI_BUNDLE_BYTES)
            })
            .await?
            {
                Ok(b) => b,
                Err(e) => {
                    eprintln!("nothing was stored: {e}");
                    return Ok(ExitCode::from(2));
                }
            };
            let s = app
                .receive_stix(by, &from, bundle)
                .await
                .map_err(|e| tell(user.as_ref(), e))?;
            Ok(received(&s, started))
        }
        ShareCommand::Received { .. } => {
            let Some(u) = user.as_ref() else {
                return Ok(ExitCode::FAILURE);
            };
            let items = app.received_items(u).await.map_err(|e| tell(Some(u), e))?;
            for x in items {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    x.id,
                    x.item.kind.as_str(),
                    x.received.origin,
                    x.item.tlp,
                    x.item.status,
                    x.item.level.as_deref().unwrap_or("-"),
                    x.item.title.replace(['\t', '\n'], " "),
                    x.received
                        .retracted_at
                        .map_or_else(|| "-".to_string(), |t| format!("retracted {t}")),
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Print what a receive took and its speed; exit 0 when every object was taken, 1 when some
/// were refused, 2 when none could be taken.
fn received(s: &ReceiveSummary, started: std::time::Instant) -> ExitCode {
    print!("{}", summary(s));
    let took = s.created + s.updated + s.retracted + s.unchanged;
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "took {secs:.1} s ({:.0} objects/s)",
        (took as usize + s.refused.len()) as f64 / secs.max(1e-9)
    );
    ExitCode::from(if s.refused.is_empty() {
        0
    } else if took > 0 {
        1
    } else {
        2
    })
}

fn tell(u: Option<&tocsin_domain::User>, e: AppError) -> anyhow::Error {
    match u {
        Some(u) => refused(u, "bundle", e),
        None => {
            let message = e.to_string();
            Refused { error: e, message }.into()
        }
    }
}

/// Write `bytes` to `path` whole: to a temporary file beside it, then renamed, so a reader
/// never sees half a bundle.
fn write_new(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("partial");
    let mut f =
        std::fs::File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
