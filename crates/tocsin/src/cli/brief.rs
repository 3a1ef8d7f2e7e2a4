//! `tocsin brief SITUATION --audience ROLE --lang en|fr|sw|ar --format pdf|html --out FILE`:
//! a brief for decision-makers, gathered by the application layer at the audience's clearance
//! (as the operator, `system:cli`, or as `--user NAME`), laid out by `tocsin-brief` and
//! written to FILE. Terminology warnings go to standard error.

use anyhow::{Context, Result};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use tocsin_app::brief::{parse_audience, parse_lang, BriefFormat, BriefRequest};
use tocsin_app::{Acting, App, AppError};
use uuid::Uuid;

use super::common::{acting_user, open_store, refused, settle, Refused};
use super::Global;
use crate::config::Overrides;

/// `tocsin brief …`
#[derive(Args, Debug)]
pub struct BriefArgs {
    /// The situation's id.
    situation: Uuid,
    /// Who will read it (a role: admin, analyst, desk_officer, monitor_coordinator, viewer):
    /// nothing above that role's clearance goes in.
    #[arg(long)]
    audience: String,
    /// Language of the headings and risk-factor names: en, fr, sw or ar.
    #[arg(long, default_value = "en")]
    lang: String,
    /// pdf or html.
    #[arg(long, default_value = "pdf")]
    format: String,
    /// The file to write.
    #[arg(long)]
    out: PathBuf,
    /// Make it as this user (at most their clearance); without it, as the operator.
    #[arg(long)]
    user: Option<String>,
}

/// Run `tocsin brief`.
pub async fn run(g: &Global, args: BriefArgs) -> Result<ExitCode> {
    let cfg = settle(g, Overrides::default())?;
    let store = open_store(&cfg).await?;
    let frameworks = cfg.analysis.frameworks()?;
    let user = match &args.user {
        Some(name) => Some(acting_user(&store, name).await?),
        None => None,
    };
    let tell = |e: AppError| match &user {
        Some(u) => refused(u, "situation", e),
        None => {
            let message = e.to_string();
            Refused { error: e, message }.into()
        }
    };
    let req = BriefRequest {
        audience: parse_audience(&args.audience).map_err(tell)?,
        lang: parse_lang(&args.lang).map_err(tell)?,
        format: BriefFormat::parse(&args.format).map_err(tell)?,
    };
    let by = user.as_ref().map_or(Acting::Operator("cli"), Acting::User);
    let content = App::new(&store, &frameworks)
        .brief_content(by, args.situation, req)
        .await
        .map_err(tell)?;
    let bytes = match req.format {
        BriefFormat::Pdf => tocsin_brief::pdf(&content)?,
        BriefFormat::Html => tocsin_brief::html(&content)?.into_bytes(),
    };
    std::fs::write(&args.out, &bytes)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    for w in &content.warnings {
        eprintln!(
            "warning: {:?} ({}, at character {}): the brief uses \"{}\" but no legal \
             qualification of the situation covers it",
            w.found,
            w.field,
            w.at,
            w.term.label()
        );
    }
    println!(
        "wrote {} ({} bytes, {}, for {}, {})",
        args.out.display(),
        bytes.len(),
        req.lang,
        req.audience.as_str(),
        content.tlp
    );
    Ok(ExitCode::SUCCESS)
}
