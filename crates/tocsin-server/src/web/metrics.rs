//! The flow metrics page, `/metrics`: a server-rendered table per desk and per situation
//! (works without JavaScript; a GET form filters by desk or situation).

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use minijinja::context;
use tocsin_domain::flow::{FlowStats, IntervalStats};

use super::{page, WebResult, WebUser};
use crate::capflow::RawFlowQuery;
use crate::input::parse_query;
use crate::AppState;

/// `/metrics`.
pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(show))
}

/// A duration in seconds, readable: `45s`, `12m 05s`, `3h 05m`, `2d 04h`.
fn human(secs: i64) -> String {
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m {:02}s", s / 60, s % 60),
        s if s < 86_400 => format!("{}h {:02}m", s / 3600, (s % 3600) / 60),
        s => format!("{}d {:02}h", s / 86_400, (s % 86_400) / 3600),
    }
}

fn interval(i: &IntervalStats) -> minijinja::Value {
    context! {
        median => i.median_secs.map(human),
        p90 => i.p90_secs.map(human),
        count => i.count,
        not_measured => i.not_measured,
    }
}

fn row(name: String, s: &FlowStats) -> minijinja::Value {
    let r = &s.response_within_72h;
    context! {
        name => name,
        alerts => s.alerts,
        evidence => interval(&s.evidence_to_alert),
        ack => interval(&s.alert_to_acknowledgement),
        action => interval(&s.acknowledgement_to_first_action),
        share => r.share.map(|x| format!("{:.0}%", x * 100.0)),
        responded => r.responded,
        counted => r.counted,
        pending => r.pending,
    }
}

/// `GET /metrics[?desk=&situation=]`: the flow metrics of the alerts within the viewer's
/// clearance.
pub async fn show(State(st): State<AppState>, wu: WebUser, RawQuery(q): RawQuery) -> WebResult {
    let raw: RawFlowQuery = parse_query(q.as_deref())?;
    let q = raw.parse()?;
    let v = st
        .app()
        .flow_metrics(&wu.user, &q, tocsin_domain::time::now())
        .await?;
    let desks: Vec<_> = v
        .report
        .desks
        .iter()
        .map(|d| {
            let name = v
                .desk_names
                .get(&d.desk_id)
                .cloned()
                .unwrap_or_else(|| d.desk_id.to_string());
            row(name, &d.stats)
        })
        .collect();
    let situations: Vec<_> = v
        .report
        .situations
        .iter()
        .map(|s| {
            let name = match s.situation_id {
                None => "(no situation)".to_string(),
                Some(id) => v
                    .situation_names
                    .get(&id)
                    .cloned()
                    .unwrap_or_else(|| id.to_string()),
            };
            row(name, &s.stats)
        })
        .collect();
    let desk_options: Vec<_> = v
        .desk_names
        .iter()
        .map(|(id, name)| context! { id => id.to_string(), name => name, selected => q.desk == Some(*id) })
        .collect();
    let situation_options: Vec<_> = v
        .situation_names
        .iter()
        .map(|(id, name)| context! { id => id.to_string(), name => name, selected => q.situation == Some(*id) })
        .collect();
    Ok(page(
        &st,
        &wu,
        StatusCode::OK,
        "metrics.html",
        context! {
            as_of => v.report.as_of.format("%Y-%m-%d %H:%M UTC").to_string(),
            overall => row("All alerts".into(), &v.report.overall),
            desks => desks,
            situations => situations,
            desk_options => desk_options,
            situation_options => situation_options,
            truncated => v.truncated,
            window => v.report.response_window_hours,
        },
    ))
}
