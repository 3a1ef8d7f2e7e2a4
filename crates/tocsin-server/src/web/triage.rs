//! The triage pages: the queue (`/triage`, with its keyboard shortcuts in `/assets/triage.js`),
//! a report's page (`/reports/{id}`: text, meta, source and grade when allowed, linked
//! incidents, triage history), the forms that reject, mark duplicate, assign and ask a
//! follow-up, and a new incident's form prefilled from reports (`/incidents/new?reports=…`),
//! so a report becomes an incident in two clicks. Who may do what is the application layer's.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::Router;
use minijinja::context;
use serde::Deserialize;
use tocsin_domain::{IncidentDraft, Permission, VerificationStatus};
use uuid::Uuid;

use super::{next_url, page, path_id, CsrfForm, WebError, WebResult, WebUser};
use crate::error::ApiError;
use crate::input::{non_empty, parse_query};
use crate::triage::{parse_of, send_follow_up, TriageListQuery};
use crate::AppState;

/// `/triage`, `/reports/{id}` and its triage forms, `/incidents/new`.
pub fn router() -> Router<AppState> {
    use axum::routing::{get, post};
    Router::new()
        .route("/triage", get(triage_page))
        .route("/reports/{id}", get(report_page))
        .route("/reports/{id}/reject", post(reject))
        .route("/reports/{id}/duplicate", post(duplicate))
        .route("/reports/{id}/assign", post(assign))
        .route("/reports/{id}/follow-up", post(follow_up))
        .route("/incidents/new", get(new_incident_page).post(new_incident))
}

/// `GET /triage`
pub async fn triage_page(
    State(st): State<AppState>,
    wu: WebUser,
    RawQuery(q): RawQuery,
) -> WebResult {
    let q: TriageListQuery = parse_query(q.as_deref())?;
    let (tq, limit, after) = q.to_query()?;
    let (listed, total) = st
        .app()
        .triage_queue_counted(&wu.user, tq, limit, after)
        .await?;
    let triagers = st.app().triagers(&wu.user).await?;
    let ids: Vec<Uuid> = listed.items.iter().map(|i| i.item.report.id).collect();
    let flagged = flag_marks(&st.app().flags_of_reports(&wu.user, &ids).await?);
    let next = next_url("/triage", &q, &listed.next_cursor);
    let notice = match q.assigned.as_deref() {
        Some("me") => Some(wu.t("triage.showing_mine", &[])),
        _ => None,
    };
    Ok(page(
        &st,
        &wu,
        StatusCode::OK,
        "triage.html",
        context! {
            shown => listed.items.len(), total,
            items => listed.items, q, next_url => next, triagers,
            can_create => wu.user.can(Permission::IncidentCreate),
            filter_note => notice, flagged,
        },
    ))
}

/// Per report id, what the queue shows of its dangerous-speech flags: the first open one (or
/// the newest), how many terms were found and whether any is still open.
fn flag_marks(
    flags: &std::collections::HashMap<Uuid, Vec<tocsin_domain::SpeechFlag>>,
) -> std::collections::BTreeMap<String, minijinja::Value> {
    flags
        .iter()
        .filter_map(|(report, fs)| {
            let first = fs
                .iter()
                .find(|f| f.state == tocsin_domain::FlagState::Open)
                .or(fs.first())?;
            let terms: usize = fs.iter().map(|f| f.terms.len()).sum();
            let open = fs.iter().any(|f| f.state == tocsin_domain::FlagState::Open);
            Some((
                report.to_string(),
                context! { id => first.id.to_string(), terms, open },
            ))
        })
        .collect()
}

/// `GET /reports/{id}`
pub async fn report_page(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
) -> WebResult {
    report_view(&st, &wu, path_id(&id)?, StatusCode::OK, context! {}).await
}

/// A report's page, with `extra` (a refusal and what was typed) when a form on it was refused.
async fn report_view(
    st: &AppState,
    wu: &WebUser,
    id: Uuid,
    status: StatusCode,
    extra: minijinja::Value,
) -> WebResult {
    let app = st.app();
    let (r, grade) = app.report_with_grade(&wu.user, id).await?;
    // Whether the warner was acknowledged, and why not when a messaging app's window closed.
    let ack = app.report_acknowledgement(&wu.user, &r).await?.map(|m| {
        context! {
            status => m.status,
            window_closed => m.last_error.as_deref() == Some(tocsin_delivery::whatsapp::WINDOW_CLOSED),
            // Why an e-mail was not answered (`crate::imap`), as a catalogue key.
            email_reason => match m.last_error.as_deref() {
                Some(crate::imap::NO_SMTP) => "report.reply_no_smtp",
                Some(crate::imap::AUTOMATIC) => "report.reply_automatic",
                Some(crate::imap::UNAUTHENTICATED) => "report.reply_unauthenticated",
                _ => "",
            },
        }
    });
    let history = app.report_history(&wu.user, id).await?;
    let incidents = app.report_incidents(&wu.user, id).await?;
    let can_triage = wu.user.can(Permission::ReportTriage);
    let triagers = if can_triage {
        app.triagers(&wu.user).await?
    } else {
        vec![]
    };
    let closed = history.iter().any(|d| d.kind.closes());
    let flags = app
        .flags_of_reports(&wu.user, &[id])
        .await?
        .remove(&id)
        .unwrap_or_default();
    // The rumours this report is a sighting of, and those it may be marked a sighting of
    // (the newest the viewer may see), for those who read rumours and may mark sightings.
    let rumours = if wu.user.can(Permission::RumourRead) {
        app.rumours_of_report(&wu.user, id).await?
    } else {
        vec![]
    };
    let can_sight = wu.user.can(Permission::RumourWrite);
    let open_rumours: Vec<_> = if can_sight {
        app.list_rumours(
            &wu.user,
            tocsin_app::rumours::RumourQuery::default(),
            tocsin_domain::PageRequest::first(50),
        )
        .await?
        .items
        .into_iter()
        .filter(|i| !i.rumour.status.is_closed() && !rumours.iter().any(|r| r.id == i.rumour.id))
        .map(|i| context! { id => i.rumour.id.to_string(), claim => i.rumour.claim })
        .collect()
    } else {
        vec![]
    };
    Ok(page(
        st,
        wu,
        status,
        "report.html",
        context! {
            r, grade, history, incidents, can_triage, triagers, ack, flags,
            in_queue => can_triage && !closed && incidents.is_empty(),
            can_create => wu.user.can(Permission::IncidentCreate),
            rumours => rumours.iter().map(|x| context! { id => x.id.to_string(), claim => x.claim.clone() }).collect::<Vec<_>>(),
            can_sight, open_rumours,
            hows => tocsin_domain::HeardHow::ALL.iter().map(|h| h.as_str()).collect::<Vec<_>>(),
            ..extra
        },
    ))
}

/// The reject form.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RejectForm {
    reason: String,
}

/// The duplicate form.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DuplicateForm {
    of: String,
}

/// The assign form.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignForm {
    user: String,
}

/// The follow-up form.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowUpForm {
    text: String,
}

fn back_to_queue() -> axum::response::Response {
    Redirect::to("/triage").into_response()
}

/// `POST /reports/{id}/reject`
pub async fn reject(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<RejectForm>,
) -> WebResult {
    st.app()
        .reject_report(&wu.user, path_id(&id)?, &f.reason)
        .await?;
    Ok(back_to_queue())
}

/// `POST /reports/{id}/duplicate`
pub async fn duplicate(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<DuplicateForm>,
) -> WebResult {
    let of = parse_of(&f.of)?;
    st.app().mark_duplicate(&wu.user, path_id(&id)?, of).await?;
    Ok(back_to_queue())
}

/// `POST /reports/{id}/assign`
pub async fn assign(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<AssignForm>,
) -> WebResult {
    st.app()
        .assign_report(&wu.user, path_id(&id)?, &f.user)
        .await?;
    Ok(back_to_queue())
}

/// `POST /reports/{id}/follow-up`
pub async fn follow_up(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<FollowUpForm>,
) -> WebResult {
    let id = path_id(&id)?;
    match send_follow_up(&st, &wu.user, id, &f.text).await {
        Ok(_) => Ok(Redirect::to(&format!("/reports/{id}")).into_response()),
        // Refused (too long, no source to ask…): the page again, the question as typed.
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => {
            let error = super::refusal::human(wu.lang, &e, |f| {
                (f.split(['[', '.']).next() == Some("text")).then(|| wu.t("triage.follow_up", &[]))
            });
            let extra = context! { error, follow_up => f.text, invalid_field => "text" };
            report_view(&st, &wu, id, e.status, extra).await
        }
        Err(e) => Err(e.into()),
    }
}

fn report_ids(s: Option<&str>) -> WebResult<Vec<Uuid>> {
    s.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            Uuid::parse_str(s)
                .map_err(|_| WebError::from(ApiError::field("reports", "not a valid id")))
        })
        .collect()
}

/// `GET /incidents/new?reports=ID,…`: the form, prefilled from the reports. `reports` may
/// also come once per report (`?reports=A&reports=B`: the triage queue's ticked boxes); any
/// other parameter is refused.
pub async fn new_incident_page(
    State(st): State<AppState>,
    wu: WebUser,
    RawQuery(q): RawQuery,
) -> WebResult {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(q.as_deref().unwrap_or(""))
        .map_err(|e| WebError::from(ApiError::field("reports", e.to_string())))?;
    let mut ids = Vec::new();
    for (k, v) in pairs {
        if k != "reports" {
            return Err(ApiError::field(k, "unknown query parameter").into());
        }
        for id in report_ids(Some(&v))? {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    let d = st.app().incident_draft(&wu.user, &ids).await?;
    Ok(new_form(&st, &wu, StatusCode::OK, &d, &ids, None, None))
}

fn new_form(
    st: &AppState,
    wu: &WebUser,
    status: StatusCode,
    d: impl serde::Serialize,
    ids: &[Uuid],
    error: Option<String>,
    invalid: Option<String>,
) -> axum::response::Response {
    let d = minijinja::Value::from_serialize(&d);
    let reports = ids
        .iter()
        .map(Uuid::to_string)
        .collect::<Vec<_>>()
        .join(",");
    page(
        st,
        wu,
        status,
        "incident_new.html",
        context! { d, reports, error, invalid_field => invalid, count => ids.len() },
    )
}

/// The new incident form.
#[derive(Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct NewIncidentForm {
    reports: String,
    event_date: String,
    event_type: String,
    sub_event_type: String,
    country: String,
    admin1: String,
    location: String,
    latitude: String,
    longitude: String,
    fatalities: String,
    verification_status: String,
    tlp: String,
    description: String,
}

fn opt(s: &str) -> Option<String> {
    non_empty(&Some(s.to_string())).map(str::to_string)
}

fn num<T: std::str::FromStr>(field: &str, v: &str) -> Result<Option<T>, ApiError> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    v.parse()
        .map(Some)
        .map_err(|_| ApiError::field(field, "expected a number"))
}

impl NewIncidentForm {
    fn draft(&self, ids: &[Uuid]) -> Result<IncidentDraft, ApiError> {
        Ok(IncidentDraft {
            event_date: opt(&self.event_date),
            event_type: opt(&self.event_type),
            sub_event_type: opt(&self.sub_event_type),
            country: opt(&self.country),
            admin1: opt(&self.admin1),
            location: opt(&self.location),
            latitude: num("latitude", &self.latitude)?,
            longitude: num("longitude", &self.longitude)?,
            fatalities: num("fatalities", &self.fatalities)?,
            verification_status: opt(&self.verification_status)
                .map(|s| VerificationStatus::parse(&s))
                .transpose()?,
            tlp: opt(&self.tlp).map(|s| s.parse()).transpose()?,
            description: opt(&self.description),
            report_ids: (!ids.is_empty()).then(|| ids.to_vec()),
            ..Default::default()
        })
    }
}

/// `POST /incidents/new`: a refused incident shows the form again with the reason.
pub async fn new_incident(
    State(st): State<AppState>,
    wu: WebUser,
    CsrfForm(f): CsrfForm<NewIncidentForm>,
) -> WebResult {
    let ids = report_ids(Some(&f.reports))?;
    let draft = f.draft(&ids);
    let result = match draft {
        Ok(d) => st
            .app()
            .create_incident_from(&wu.user, d)
            .await
            .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    Ok(match result {
        Ok(i) => Redirect::to(&format!("/incidents/{}", i.id)).into_response(),
        // Shown again as typed, the refused field named as the form labels it.
        Err(e) => new_form(
            &st,
            &wu,
            e.status,
            &f,
            &ids,
            Some(super::refusal::human(wu.lang, &e, |x| {
                super::incidents::field_label(x).map(|k| wu.t(k, &[]))
            })),
            e.field
                .as_deref()
                .map(|x| x.split(['[', '.']).next().unwrap_or(x).to_string()),
        ),
    })
}
