//! `tocsin metrics`: flow metrics (first evidence → alert → acknowledgement → first action,
//! and the share of alerts with a documented response within 72 hours), per desk and per
//! situation, as a table or JSON.

use anyhow::Result;
use clap::Args;
use std::fmt::Write as _;
use std::process::ExitCode;
use tocsin_app::flow::{FlowQuery, FlowView};
use tocsin_app::{Acting, App};
use tocsin_domain::flow::{FlowStats, IntervalStats};
use tocsin_store::DynStore;
use uuid::Uuid;

use super::common::{acting_user, open_store, refused, settle};
use super::Global;
use crate::config::Overrides;

/// `tocsin metrics [--desk ID] [--situation ID] [--json] [--user NAME]`
#[derive(Args, Debug)]
pub struct MetricsArgs {
    /// Only this desk's alerts.
    #[arg(long)]
    pub desk: Option<Uuid>,
    /// Only alerts of this situation.
    #[arg(long)]
    pub situation: Option<Uuid>,
    /// Print the report as JSON (the API's shape).
    #[arg(long)]
    pub json: bool,
    /// Measure as this user, within their clearance (default: the operator, every alert).
    #[arg(long)]
    pub user: Option<String>,
}

/// Run `tocsin metrics` from the command line.
pub async fn run(g: &Global, args: MetricsArgs) -> Result<ExitCode> {
    let cfg = settle(g, Overrides::default())?;
    let store = open_store(&cfg).await?;
    print!(
        "{}",
        metrics(&store, args, tocsin_domain::time::now()).await?
    );
    Ok(ExitCode::SUCCESS)
}

/// A duration in seconds, readable: `45s`, `12m`, `3h 05m`, `2d 04h`.
pub fn human(secs: i64) -> String {
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m {:02}s", s / 60, s % 60),
        s if s < 86_400 => format!("{}h {:02}m", s / 3600, (s % 3600) / 60),
        s => format!("{}d {:02}h", s / 86_400, (s % 86_400) / 3600),
    }
}

fn cell(i: &IntervalStats) -> String {
    match (i.median_secs, i.p90_secs) {
        (Some(m), Some(p)) => format!("{} / {} (n={})", human(m), human(p), i.count),
        _ => "–".into(),
    }
}

fn share(s: &FlowStats) -> String {
    let r = &s.response_within_72h;
    match r.share {
        Some(x) => format!("{:.0}% ({}/{})", x * 100.0, r.responded, r.counted),
        None => "–".into(),
    }
}

fn row(out: &mut String, name: &str, s: &FlowStats) {
    let _ = writeln!(
        out,
        "{:<28} {:>6}  {:<24} {:<24} {:<24} {}",
        name.chars().take(28).collect::<String>(),
        s.alerts,
        cell(&s.evidence_to_alert),
        cell(&s.alert_to_acknowledgement),
        cell(&s.acknowledgement_to_first_action),
        share(s)
    );
}

fn header(out: &mut String, first: &str) {
    let _ = writeln!(
        out,
        "{:<28} {:>6}  {:<24} {:<24} {:<24} response ≤72h",
        first, "alerts", "evidence→alert", "alert→ack", "ack→first action"
    );
}

/// The table: overall, per desk, per situation; intervals as median / 90th percentile.
pub fn table(v: &FlowView) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Flow metrics as of {} (median / 90th percentile)",
        v.report.as_of.format("%Y-%m-%d %H:%M UTC")
    );
    if v.truncated {
        let _ = writeln!(out, "(only the newest alerts were measured)");
    }
    header(&mut out, "");
    row(&mut out, "All alerts", &v.report.overall);
    let _ = writeln!(out);
    header(&mut out, "Desk");
    for d in &v.report.desks {
        let name = v
            .desk_names
            .get(&d.desk_id)
            .cloned()
            .unwrap_or_else(|| d.desk_id.to_string());
        row(&mut out, &name, &d.stats);
    }
    let _ = writeln!(out);
    header(&mut out, "Situation");
    for s in &v.report.situations {
        let name = match s.situation_id {
            None => "(no situation)".to_string(),
            Some(id) => v
                .situation_names
                .get(&id)
                .cloned()
                .unwrap_or_else(|| id.to_string()),
        };
        row(&mut out, &name, &s.stats);
    }
    out
}

/// Compute and print the metrics.
pub async fn metrics(
    store: &DynStore,
    args: MetricsArgs,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<String> {
    let frameworks = tocsin_framework::Frameworks::shipped();
    let app = App::new(store, &frameworks);
    let q = FlowQuery {
        desk: args.desk,
        situation: args.situation,
    };
    let v = match &args.user {
        Some(name) => {
            let u = acting_user(store, name).await?;
            app.flow_metrics(&u, &q, now)
                .await
                .map_err(|e| refused(&u, "metrics", e))?
        }
        None => app
            .flow_metrics(Acting::Operator("cli"), &q, now)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?,
    };
    Ok(if args.json {
        format!("{}\n", serde_json::to_string_pretty(&v)?)
    } else {
        table(&v)
    })
}
