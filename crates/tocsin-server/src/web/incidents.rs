//! The incident pages: the list (`/incidents`), one incident, and its edit form.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::Router;
use minijinja::context;
use serde::Deserialize;
use tocsin_domain::IncidentPatch;

use super::{next_url, page, path_id, CsrfForm, WebResult, WebUser};
use crate::api::IncidentQuery;
use crate::error::ApiError;
use crate::input::parse_query;
use crate::AppState;

/// `/incidents`, `/incidents/{id}`, `/incidents/{id}/edit`.
pub fn router() -> Router<AppState> {
    use axum::routing::get;
    Router::new()
        .route("/incidents", get(incidents))
        .route("/incidents/export", get(export_page))
        .route("/incidents/{id}", get(incident))
        .route(
            "/incidents/{id}/edit",
            get(edit_incident_page).post(edit_incident),
        )
}

/// `GET /incidents`
pub async fn incidents(
    State(st): State<AppState>,
    wu: WebUser,
    RawQuery(q): RawQuery,
) -> WebResult {
    let q: IncidentQuery = parse_query(q.as_deref())?;
    let (f, p) = q.to_filter(wu.user.clearance).map_err(ApiError::from)?;
    let total = st.app().count_incidents(&wu.user, f.clone()).await?;
    let page_ = st.app().list_incidents(&wu.user, f, p).await?;
    let next = next_url("/incidents", &q, &page_.next_cursor);
    // The same filters for the export page.
    let export_query = serde_urlencoded::to_string(
        [
            ("country", &q.country),
            ("from", &q.from),
            ("to", &q.to),
            ("event_type", &q.event_type),
            ("verification_status", &q.verification_status),
            ("tlp", &q.tlp),
            ("situation_id", &q.situation_id),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.clone().filter(|v| !v.is_empty()).map(|v| (k, v)))
        .collect::<Vec<_>>(),
    )
    .unwrap_or_default();
    Ok(page(
        &st,
        &wu,
        StatusCode::OK,
        "incidents.html",
        context! { shown => page_.items.len(), items => page_.items, q, next_url => next, total, export_query },
    ))
}

/// `GET /incidents/export?format=&country=&from=&to=…`: the export form (CSV, GeoJSON, HXL
/// or ACLED, with the incident filters), saying how many incidents the reader may see match
/// the filters; it downloads from `GET /api/v1/export` with the same query (the session
/// cookie signs it in). Bad filters are a 400 / 422 naming the field.
pub async fn export_page(
    State(st): State<AppState>,
    wu: WebUser,
    RawQuery(q): RawQuery,
) -> WebResult {
    let q: crate::export::ExportQuery = parse_query(q.as_deref())?;
    let (format, filter, _) = q.read(wu.user.clearance)?;
    let total = st.app().count_incidents(&wu.user, filter).await?;
    let situations = st
        .app()
        .list_situations(&wu.user, tocsin_domain::PageRequest::first(500))
        .await?
        .items;
    Ok(page(
        &st,
        &wu,
        StatusCode::OK,
        "incident_export.html",
        context! { q, total, situations, format => format!("{format:?}").to_lowercase() },
    ))
}

/// `GET /incidents/{id}`
pub async fn incident(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
) -> WebResult {
    super::verification::incident_page(&st, &wu, path_id(&id)?, StatusCode::OK, context! {}).await
}

/// `GET /incidents/{id}/edit`
pub async fn edit_incident_page(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
) -> WebResult {
    let i = st.app().incident_to_edit(&wu.user, path_id(&id)?).await?;
    Ok(page(
        &st,
        &wu,
        StatusCode::OK,
        "incident_edit.html",
        context! { i },
    ))
}

/// The incident edit form (its CSRF token checked apart).
#[derive(Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct EditForm {
    expected_version: String,
    event_date: String,
    event_type: String,
    sub_event_type: String,
    country: String,
    admin1: String,
    location: String,
    latitude: String,
    longitude: String,
    fatalities: String,
    credibility: String,
    tlp: String,
    description: String,
}

fn num<T: std::str::FromStr>(field: &str, v: &str) -> Result<T, tocsin_domain::DomainError> {
    v.trim()
        .parse()
        .map_err(|_| tocsin_domain::DomainError::invalid(field, "expected a number"))
}

impl EditForm {
    fn patch(self) -> Result<IncidentPatch, tocsin_domain::DomainError> {
        Ok(IncidentPatch {
            expected_version: Some(num("expected_version", &self.expected_version)?),
            event_date: Some(self.event_date),
            event_type: Some(self.event_type),
            sub_event_type: Some(self.sub_event_type),
            country: Some(self.country),
            admin1: Some(self.admin1),
            location: Some(self.location),
            latitude: Some(num("latitude", &self.latitude)?),
            longitude: Some(num("longitude", &self.longitude)?),
            fatalities: Some(num("fatalities", &self.fatalities)?),
            credibility: Some(num("credibility", &self.credibility)?),
            tlp: Some(self.tlp.parse()?),
            description: Some(self.description),
            ..Default::default()
        })
    }
}

/// `POST /incidents/{id}/edit`: a refused change shows the form again with the reason.
pub async fn edit_incident(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<EditForm>,
) -> WebResult {
    let app = st.app();
    let current = app.incident_to_edit(&wu.user, path_id(&id)?).await?;
    // What was typed, over the stored incident, for the form shown again.
    let mut typed = serde_json::to_value(&current).unwrap_or_default();
    if let (Some(t), Ok(serde_json::Value::Object(f))) =
        (typed.as_object_mut(), serde_json::to_value(&form))
    {
        t.extend(f.into_iter().filter(|(k, _)| k != "expected_version"));
    }
    let result = match form.patch() {
        Ok(p) => app
            .update_incident(&wu.user, current.id, p)
            .await
            .map_err(ApiError::from),
        Err(e) => Err(ApiError::from(e)),
    };
    Ok(match result {
        Ok(i) => Redirect::to(&format!("/incidents/{}", i.id)).into_response(),
        Err(e) => page(
            &st,
            &wu,
            e.status,
            "incident_edit.html",
            context! {
                i => typed,
                error => super::refusal::human(wu.lang, &e, |f| field_label(f).map(|k| wu.t(k, &[]))),
                invalid_field => e.field.as_deref().map(|f| f.split(['[', '.']).next().unwrap_or(f).to_string()),
            },
        ),
    })
}

/// The catalogue key of an incident form's label for a field (new and edit).
pub(crate) fn field_label(field: &str) -> Option<&'static str> {
    Some(match field.split(['[', '.']).next().unwrap_or(field) {
        "event_date" => "col.date",
        "event_type" => "col.event_type",
        "sub_event_type" => "col.sub_event_type",
        "admin1" => "col.admin1",
        "country" => "col.country",
        "latitude" => "col.latitude",
        "longitude" => "col.longitude",
        "fatalities" => "col.fatalities",
        "location" => "col.location",
        "credibility" => "col.credibility",
        "description" => "incident.description",
        "tlp" => "col.label",
        "verification_status" => "col.status",
        _ => return None,
    })
}
