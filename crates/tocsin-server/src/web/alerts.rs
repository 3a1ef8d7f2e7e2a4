//! Web pages of alerting: the signed-in user's home (`/`: the landing dashboard of their role
//! — [`tocsin_app::dashboard`] — then their desks' alerts, the overdue ones, those they
//! acknowledged, the actions they lead), the alerts inbox (`/alerts`, filters
//! as query parameters, paged), an alert's page (`/alerts/{id}`: timeline, the evidence the
//! viewer may see, forms to acknowledge, escalate, decide, close and to record an action from
//! a suggested measure) and the desks' list for admins (`/admin/desks`). Plain forms with
//! CSRF tokens; no script. Who may do what is [`tocsin_app`]'s: buttons are only hidden here.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::Router;
use minijinja::context;
use serde::{Deserialize, Serialize};
use tocsin_app::alerts::{AlertQuery, Move};
use tocsin_app::AppError;
use tocsin_domain::{
    Alert, AlertEvidence, AlertStatus, CloseReason, NewAction, Permission, Severity, User,
};
use tocsin_toolbox::Toolbox;
use uuid::Uuid;

use super::{next_url, page, path_id, CsrfForm, WebError, WebResult, WebUser};
use crate::api::page_req;
use crate::error::ApiError;
use crate::input::parse_query;
use crate::AppState;

/// `/`, `/alerts`, `/alerts/{id}`, `/alerts/{id}/move`, `/alerts/{id}/actions`, `/admin/desks`.
pub fn router() -> Router<AppState> {
    use axum::routing::{get, post};
    Router::new()
        .route("/", get(home))
        .route("/alerts", get(list))
        .route("/alerts/{id}", get(show))
        .route("/alerts/{id}/move", post(act))
        .route("/alerts/{id}/actions", post(new_action))
        .route("/admin/desks", get(desks))
}

fn now() -> chrono::DateTime<chrono::Utc> {
    tocsin_domain::time::now()
}

/// Desk names by id, for showing alerts.
async fn desk_names(st: &AppState, u: &User) -> WebResult<std::collections::HashMap<Uuid, String>> {
    Ok(st
        .app()
        .desks(u)
        .await?
        .into_iter()
        .map(|d| (d.id, d.name))
        .collect())
}

/// An alert as a list row shows it.
fn row(a: &Alert, names: &std::collections::HashMap<Uuid, String>) -> minijinja::Value {
    context! {
        a,
        desk => names.get(&a.desk_id).cloned().unwrap_or_default(),
        overdue => a.status == AlertStatus::Open && a.ack_deadline < now(),
    }
}

/// `GET /`: the signed-in user's home.
pub async fn home(State(st): State<AppState>, wu: WebUser) -> WebResult {
    let dash = st.app().dashboard(&wu.user, now()).await?;
    let h = st.app().home(&wu.user, now()).await?;
    let names = desk_names(&st, &wu.user).await?;
    let rows = |v: &[Alert]| v.iter().map(|a| row(a, &names)).collect::<Vec<_>>();
    let today = now().date_naive();
    let actions: Vec<_> = h
        .my_actions
        .iter()
        .map(|a| {
            context! {
                a,
                overdue => a.is_overdue(today),
                measure => Toolbox::shipped().measure(&a.measure_id).map(|m| m.name.clone()).unwrap_or_default(),
            }
        })
        .collect();
    Ok(page(
        &st,
        &wu,
        StatusCode::OK,
        "home.html",
        context! {
            desks => h.desks,
            my_alerts => rows(&h.my_alerts),
            overdue => rows(&h.overdue),
            acknowledged => rows(&h.acknowledged_by_me),
            actions,
            overdue_actions => h.overdue_actions,
            open_alerts => dash.open_alerts.as_ref().map(|c| context! {
                total => c.total, items => rows(&c.items),
            }),
            dash,
            can_create_incident => wu.user.can(Permission::IncidentCreate),
        },
    ))
}

/// The inbox's filters as the form sends them (empty means any).
#[derive(Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    severity: String,
    #[serde(default)]
    desk: String,
    #[serde(default)]
    situation: String,
    #[serde(default)]
    limit: Option<String>,
    #[serde(default)]
    cursor: Option<String>,
}

fn opt_id(field: &str, v: &str) -> Result<Option<Uuid>, AppError> {
    match v.trim() {
        "" => Ok(None),
        v => Uuid::parse_str(v)
            .map(Some)
            .map_err(|_| AppError::bad_field(field, "not a valid id")),
    }
}

fn opt_text(v: &str) -> Option<String> {
    Some(v.trim().to_string()).filter(|v| !v.is_empty())
}

/// `GET /alerts?status=&severity=&desk=&situation=`: the alerts inbox.
pub async fn list(State(st): State<AppState>, wu: WebUser, RawQuery(q): RawQuery) -> WebResult {
    let q: ListQuery = parse_query(q.as_deref())?;
    let aq = AlertQuery {
        status: opt_text(&q.status),
        severity: opt_text(&q.severity),
        desk: opt_id("desk", &q.desk)?,
        situation: opt_id("situation", &q.situation)?,
    };
    let p = page_req(&q.limit, &q.cursor).map_err(ApiError::from)?;
    let alerts = st.app().alerts(&wu.user, &aq, p).await?;
    let total = st.app().count_alerts(&wu.user, &aq).await?;
    let names = desk_names(&st, &wu.user).await?;
    let desks: Vec<_> = {
        let mut v: Vec<_> = names
            .iter()
            .map(|(id, n)| (id.to_string(), n.clone()))
            .collect();
        v.sort_by(|a, b| a.1.cmp(&b.1));
        v
    };
    let next = next_url(
        "/alerts",
        ListQuery { cursor: None, ..q },
        &alerts.next_cursor,
    );
    let rows: Vec<_> = alerts.items.iter().map(|a| row(a, &names)).collect();
    Ok(page(
        &st,
        &wu,
        StatusCode::OK,
        "alerts.html",
        context! {
            rows,
            shown => alerts.items.len(),
            total,
            next,
            f => context! { status => aq.status, severity => aq.severity, desk => aq.desk.map(|d| d.to_string()), situation => aq.situation.map(|s| s.to_string()) },
            desks,
            alert_statuses => AlertStatus::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            severities => Severity::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        },
    ))
}

/// One item of evidence the viewer may see: what it is, a link when it has a page.
#[derive(Serialize)]
struct EvidenceRow {
    kind: &'static str,
    id: String,
    /// The page family (`incidents`, `assessments`) when it has a page.
    link: Option<&'static str>,
}

/// The alert's evidence the viewer may see; the rest is not listed.
async fn evidence(st: &AppState, u: &User, a: &Alert) -> WebResult<Vec<EvidenceRow>> {
    let app = st.app();
    let mut out = Vec::new();
    for e in &a.evidence {
        let (kind, id, seen, link) = match e {
            AlertEvidence::Incident(id) => (
                "incident",
                *id,
                app.get_incident(u, *id).await.map(|_| ()),
                Some("incidents"),
            ),
            AlertEvidence::Report(id) => (
                "report",
                *id,
                app.get_report(u, *id).await.map(|_| ()),
                None,
            ),
            AlertEvidence::Assessment(id) => (
                "assessment",
                *id,
                app.assessment_for(u, *id).await.map(|_| ()),
                Some("assessments"),
            ),
            AlertEvidence::Signal(id) => ("escalation signal", *id, Ok(()), None),
            AlertEvidence::Forecast(id) => ("forecast run", *id, Ok(()), None),
        };
        match seen {
            Ok(()) => out.push(EvidenceRow {
                kind,
                id: id.to_string(),
                link,
            }),
            Err(AppError::NotFound | AppError::Forbidden { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(out)
}

async fn alert_page(
    st: &AppState,
    wu: &WebUser,
    id: Uuid,
    status: StatusCode,
    error: Option<String>,
) -> WebResult {
    let app = st.app();
    let v = app.alert(&wu.user, id).await?;
    let a = &v.alert;
    let desk = app.desk(&wu.user, a.desk_id).await?;
    let member = desk.members.iter().any(|m| m == &wu.user.username);
    let may_move = member && wu.user.can(Permission::AlertRespond);
    let situation = match a.situation_id {
        Some(s) => app.get_situation(&wu.user, s).await.ok(),
        None => None,
    };
    let suggested = match (&situation, wu.user.can(Permission::ActionWrite)) {
        (Some(s), true) => app
            .suggested_measures(&wu.user, s.id)
            .await
            .map(|s| s.measures)
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    let timeline: Vec<_> = v
        .timeline
        .iter()
        .map(|t| {
            let what = match &t.event {
                tocsin_domain::TimelineEvent::Opened => "opened".to_string(),
                tocsin_domain::TimelineEvent::EvidenceAdded { .. } => "evidence added".into(),
                tocsin_domain::TimelineEvent::Notified { step } => {
                    format!("escalation step {step} notified")
                }
                tocsin_domain::TimelineEvent::Escalated { step } => {
                    format!("escalated by hand to step {step}")
                }
                tocsin_domain::TimelineEvent::Acknowledged => "acknowledged".into(),
                tocsin_domain::TimelineEvent::ActionDecided => "action decided".into(),
                tocsin_domain::TimelineEvent::Closed { reason } => {
                    format!("closed: {}", reason.as_str().replace('_', " "))
                }
                tocsin_domain::TimelineEvent::Relabelled { from, to } => format!(
                    "label raised from {} to {} (evidence labelled higher joined)",
                    from.as_str(),
                    to.as_str()
                ),
            };
            context! { at => t.at, by => t.by.clone(), what }
        })
        .collect();
    let evidence = evidence(st, &wu.user, a).await?;
    let today = now().date_naive();
    Ok(page(
        st,
        wu,
        status,
        "alert.html",
        context! {
            a => a.clone(),
            desk => desk.name,
            situation,
            timeline,
            evidence,
            error,
            overdue => a.status == AlertStatus::Open && a.ack_deadline < now(),
            may_move,
            reasons => CloseReason::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
            suggested,
            departments => st.alerting.departments.iter().map(|d| d.name().to_string()).collect::<Vec<_>>(),
            default_due => (today + chrono::Duration::days(30)).to_string(),
        },
    ))
}

/// `GET /alerts/{id}`: the alert's page.
pub async fn show(State(st): State<AppState>, wu: WebUser, Path(id): Path<String>) -> WebResult {
    alert_page(&st, &wu, path_id(&id)?, StatusCode::OK, None).await
}

/// A refusal shown on the alert page (client errors other than 404); others are error pages.
fn on_form(wu: &WebUser, e: AppError) -> Result<(StatusCode, String), WebError> {
    let e = ApiError::from(e);
    if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND {
        Ok((e.status, wu.reason(&e.message)))
    } else {
        Err(e.into())
    }
}

/// The move form: `action` = `acknowledge`, `escalate`, `decide` or `close` (with `reason`).
#[derive(Deserialize)]
pub struct MoveForm {
    action: String,
    #[serde(default)]
    reason: String,
}

/// `POST /alerts/{id}/move`: a desk officer's move, then back to the alert.
pub async fn act(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<MoveForm>,
) -> WebResult {
    let id = path_id(&id)?;
    let m = match f.action.as_str() {
        "acknowledge" => Ok(Move::Acknowledge),
        "escalate" => Ok(Move::Escalate),
        "decide" => Ok(Move::Decide),
        "close" => match f.reason.trim() {
            "" => Ok(Move::Close(None)),
            r => CloseReason::parse(r)
                .map(|r| Move::Close(Some(r)))
                .map_err(|e| AppError::bad_field("reason", e.to_string())),
        },
        _ => Err(AppError::bad_field(
            "action",
            "expected acknowledge, escalate, decide or close",
        )),
    };
    let done = match m {
        Ok(m) => st
            .app()
            .move_alert(&wu.user, id, m, now())
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    match done {
        Ok(()) => Ok(Redirect::to(&format!("/alerts/{id}")).into_response()),
        Err(e) => {
            let (status, msg) = on_form(&wu, e)?;
            alert_page(&st, &wu, id, status, Some(msg)).await
        }
    }
}

/// The form recording an action from a measure suggested for the alert's situation.
#[derive(Deserialize)]
pub struct ActionForm {
    measure_id: String,
    department: String,
    lead: String,
    due_date: String,
}

/// `POST /alerts/{id}/actions`: record an action linked to the alert (its situation and desk
/// taken from it), then to the situation's action plan.
pub async fn new_action(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<ActionForm>,
) -> WebResult {
    let id = path_id(&id)?;
    // The alert must be one the user may see (else 404).
    st.app().alert(&wu.user, id).await?;
    let done = async {
        let due_date = chrono::NaiveDate::parse_from_str(f.due_date.trim(), "%Y-%m-%d")
            .map_err(|_| AppError::bad_field("due_date", "expected YYYY-MM-DD"))?;
        st.app()
            .create_action(
                &wu.user,
                NewAction {
                    measure_id: f.measure_id,
                    // The situation and desk come from the alert (the application layer).
                    situation_id: None,
                    alert_ids: vec![id],
                    risk_factors: None,
                    department: Some(f.department).filter(|d| !d.trim().is_empty()),
                    desk_id: None,
                    lead: f.lead,
                    due_date,
                    status: None,
                    next_review: None,
                    notes: None,
                },
            )
            .await
    }
    .await;
    match done {
        Ok(act) => {
            Ok(Redirect::to(&format!("/situations/{}/actions", act.situation_id)).into_response())
        }
        Err(e) => {
            let (status, msg) = on_form(&wu, e)?;
            alert_page(&st, &wu, id, status, Some(msg)).await
        }
    }
}

/// `GET /admin/desks`: every desk with its members, scope and escalation policy.
pub async fn desks(State(st): State<AppState>, wu: WebUser) -> WebResult {
    let desks = st.app().desks(&wu.user).await?;
    let rows: Vec<_> = desks
        .iter()
        .map(|d| {
            context! {
                d,
                department => d.department.name().to_string(),
                countries => d.countries.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(", "),
                policy => {
                    let steps: Vec<_> = d.escalation.steps().iter().map(|s| format!("after {} notify {}", s.after, s.notify)).collect();
                    let mut p = steps.join("; ");
                    if d.escalation.repeat() > 0 {
                        p.push_str(&format!(" (repeated {} times)", d.escalation.repeat()));
                    }
                    p
                },
            }
        })
        .collect();
    Ok(page(
        &st,
        &wu,
        StatusCode::OK,
        "desks.html",
        context! { rows },
    ))
}
