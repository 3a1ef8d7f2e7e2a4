//! Web pages of rumours: the list `/rumours` (filters as query parameters, overdue ones
//! marked), the form recording one (`/rumours/new`), and a rumour's page (claim, status with
//! the moves allowed and the findings closing needs, sightings with how and where, the
//! response, and a form marking a report as a sighting). Plain forms with CSRF tokens; no
//! script. The rules are the application layer's ([`tocsin_app::rumours`]).

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::Router;
use minijinja::context;
use serde::Deserialize;
use tocsin_app::rumours::NewSighting;
use tocsin_domain::{HeardHow, NewRumour, Permission, RumourPatch, RumourPriority, RumourStatus};
use uuid::Uuid;

use super::{next_url, page, path_id, CsrfForm, WebError, WebResult, WebUser};
use crate::error::ApiError;
use crate::input::parse_query;
use crate::rumours::RumourListQuery;
use crate::AppState;

/// `/rumours`, `/rumours/new`, `/rumours/{id}`, `/rumours/{id}/sightings`.
pub fn router() -> Router<AppState> {
    use axum::routing::{get, post};
    Router::new()
        .route("/rumours", get(list).post(create))
        .route("/rumours/new", get(new_form))
        .route("/rumours/{id}", get(rumour).post(change))
        .route("/rumours/{id}/sightings", post(sighting))
        .route("/reports/{id}/sighting", post(sighting_from_report))
}

/// A refusal shown on the page (client errors other than 404), its field named as the forms
/// label it; others are error pages.
fn on_form(wu: &WebUser, e: tocsin_app::AppError) -> Result<(StatusCode, String), WebError> {
    let e = ApiError::from(e);
    if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND {
        let label = |f: &str| {
            let key = match f.split(['[', '.']).next().unwrap_or(f) {
                "country" => "rumours.country_label",
                "tlp" => "col.label",
                "situation_id" => "col.situation",
                "response" => "rumours.response_label",
                _ => return None,
            };
            Some(wu.t(key, &[]))
        };
        Ok((e.status, super::refusal::human(wu.lang, &e, label)))
    } else {
        Err(e.into())
    }
}

fn names<T: Copy>(all: &[T], f: fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|x| f(*x)).collect()
}

/// `GET /rumours`: the rumours the reader may see, newest first.
pub async fn list(State(st): State<AppState>, wu: WebUser, RawQuery(q): RawQuery) -> WebResult {
    let q: RumourListQuery = parse_query(q.as_deref())?;
    let (rq, p) = q.to_query()?;
    let listed = st.app().list_rumours(&wu.user, rq, p).await?;
    let next = next_url("/rumours", &q, &listed.next_cursor);
    Ok(page(
        &st,
        &wu,
        StatusCode::OK,
        "rumours.html",
        context! {
            items => listed.items,
            f => q,
            next,
            rumour_statuses => names(RumourStatus::ALL, RumourStatus::as_str),
            priorities => names(RumourPriority::ALL, RumourPriority::as_str),
            can_write => wu.user.can(Permission::RumourWrite),
        },
    ))
}

/// The form recording a rumour, as typed.
#[derive(Debug, Default, Deserialize, serde::Serialize)]
pub struct CreateForm {
    claim: String,
    country: String,
    #[serde(default)]
    admin1: String,
    #[serde(default)]
    place_name: String,
    #[serde(default)]
    priority: String,
    #[serde(default)]
    tlp: String,
    #[serde(default)]
    situation_id: String,
    #[serde(default)]
    response: String,
}

fn opt(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|s| !s.is_empty())
}

fn new_page(
    st: &AppState,
    wu: &WebUser,
    status: StatusCode,
    form: &CreateForm,
    error: Option<String>,
) -> WebResult {
    Ok(page(
        st,
        wu,
        status,
        "rumour_new.html",
        context! {
            form, error,
            priorities => names(RumourPriority::ALL, RumourPriority::as_str),
        },
    ))
}

/// `GET /rumours/new`: the form recording a rumour.
pub async fn new_form(State(st): State<AppState>, wu: WebUser) -> WebResult {
    let form = CreateForm {
        priority: "medium".into(),
        tlp: "TLP:AMBER".into(),
        ..Default::default()
    };
    new_page(&st, &wu, StatusCode::OK, &form, None)
}

/// `POST /rumours`: record a rumour; a refusal is shown on the form, the typed values kept.
pub async fn create(
    State(st): State<AppState>,
    wu: WebUser,
    CsrfForm(f): CsrfForm<CreateForm>,
) -> WebResult {
    let situation_id = match opt(&f.situation_id) {
        None => None,
        Some(s) => match Uuid::parse_str(&s) {
            Ok(id) => Some(id),
            Err(_) => {
                let msg = "Situation: not a valid id".to_string();
                return new_page(&st, &wu, StatusCode::BAD_REQUEST, &f, Some(msg));
            }
        },
    };
    let n = NewRumour {
        claim: f.claim.clone(),
        country: f.country.clone(),
        admin1: opt(&f.admin1),
        place_name: opt(&f.place_name),
        priority: opt(&f.priority),
        tlp: opt(&f.tlp),
        situation_id,
        response: opt(&f.response),
        ..Default::default()
    };
    match st.app().create_rumour(&wu.user, n).await {
        Ok(r) => Ok(Redirect::to(&format!("/rumours/{}", r.id)).into_response()),
        Err(e) => {
            let (status, message) = on_form(&wu, e)?;
            new_page(&st, &wu, status, &f, Some(message))
        }
    }
}

async fn rumour_page(
    st: &AppState,
    wu: &WebUser,
    id: Uuid,
    status: StatusCode,
    error: Option<String>,
    typed: minijinja::Value,
) -> WebResult {
    let app = st.app();
    let v = app.get_rumour(&wu.user, id).await?;
    let desk = match v.item.rumour.desk_id {
        Some(d) => app.store.get_desk(d).await.ok().map(|d| d.name),
        None => None,
    };
    let closing: Vec<&str> = v
        .moves
        .iter()
        .filter(|s| s.is_closed())
        .map(|s| s.as_str())
        .collect();
    Ok(page(
        st,
        wu,
        status,
        "rumour.html",
        context! {
            v, desk, error, closing,
            moves => v.moves.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            priorities => names(RumourPriority::ALL, RumourPriority::as_str),
            hows => names(HeardHow::ALL, HeardHow::as_str),
            can_write => wu.user.can(Permission::RumourWrite),
            can_sight => wu.user.can(Permission::RumourWrite) && wu.user.can(Permission::ReportRead),
            ..typed
        },
    ))
}

/// `GET /rumours/{id}`: a rumour's page.
pub async fn rumour(State(st): State<AppState>, wu: WebUser, Path(id): Path<String>) -> WebResult {
    rumour_page(&st, &wu, path_id(&id)?, StatusCode::OK, None, context! {}).await
}

/// The form changing a rumour (empty fields change nothing).
#[derive(Debug, Deserialize, serde::Serialize)]
pub struct ChangeForm {
    #[serde(default)]
    version: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    findings: Option<String>,
    #[serde(default)]
    priority: String,
    #[serde(default)]
    response: Option<String>,
    #[serde(default)]
    broadcast: Option<String>,
}

/// `POST /rumours/{id}`: change a rumour's status, findings, priority, response.
pub async fn change(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<ChangeForm>,
) -> WebResult {
    let id = path_id(&id)?;
    let typed = context! { change => minijinja::Value::from_serialize(&f) };
    let p = RumourPatch {
        expected_version: f.version.trim().parse().ok(),
        status: opt(&f.status),
        findings: f.findings,
        priority: opt(&f.priority),
        response: f.response,
        broadcast: f.broadcast,
        ..Default::default()
    };
    match st.app().patch_rumour(&wu.user, id, p).await {
        Ok(r) => Ok(Redirect::to(&format!("/rumours/{}", r.id)).into_response()),
        Err(e) => {
            let (status, message) = on_form(&wu, e)?;
            rumour_page(&st, &wu, id, status, Some(message), typed).await
        }
    }
}

/// The form marking a report as a sighting.
#[derive(Debug, Deserialize, serde::Serialize)]
pub struct SightingForm {
    report_id: String,
    how: String,
    #[serde(default, rename = "where")]
    where_heard: String,
}

/// The form on a report's page marking it a sighting of a rumour.
#[derive(Debug, Deserialize)]
pub struct ReportSightingForm {
    rumour_id: String,
    how: String,
    #[serde(default, rename = "where")]
    where_heard: String,
}

/// `POST /reports/{id}/sighting`: mark this report as a sighting of a rumour (by id), from
/// the report's page; back to it. A refusal is an error page naming the field.
pub async fn sighting_from_report(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<ReportSightingForm>,
) -> WebResult {
    let report_id = path_id(&id)?;
    let Ok(rumour) = Uuid::parse_str(f.rumour_id.trim()) else {
        return Err(crate::error::ApiError::from(tocsin_app::AppError::invalid(
            "rumour_id",
            "choose a rumour",
        ))
        .into());
    };
    let n = NewSighting {
        report_id,
        how: f.how,
        where_heard: f.where_heard,
    };
    st.app()
        .add_sighting(&wu.user, rumour, n)
        .await
        .map_err(crate::error::ApiError::from)?;
    Ok(Redirect::to(&format!("/reports/{report_id}#rumours")).into_response())
}

/// `POST /rumours/{id}/sightings`: mark a report as a sighting.
pub async fn sighting(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<SightingForm>,
) -> WebResult {
    let id = path_id(&id)?;
    let typed = context! { sighting => minijinja::Value::from_serialize(&f) };
    let Ok(report_id) = Uuid::parse_str(f.report_id.trim()) else {
        let msg = "Report id: not a valid report id".to_string();
        return rumour_page(&st, &wu, id, StatusCode::BAD_REQUEST, Some(msg), typed).await;
    };
    let n = NewSighting {
        report_id,
        how: f.how,
        where_heard: f.where_heard,
    };
    match st.app().add_sighting(&wu.user, id, n).await {
        Ok(_) => Ok(Redirect::to(&format!("/rumours/{id}#sightings")).into_response()),
        Err(e) => {
            let (status, message) = on_form(&wu, e)?;
            rumour_page(&st, &wu, id, status, Some(message), typed).await
        }
    }
}
