//! CAP 1.2 and flow metrics over HTTP: `GET /api/v1/alerts/{id}/cap` (one alert's current CAP
//! message), `GET /cap/alerts.atom` (the public Atom feed of `TLP:CLEAR` alerts, no login) and
//! `GET /api/v1/metrics/flow` (flow metrics per desk and situation). Handlers parse, call the
//! application layer (`tocsin_app::{cap, flow}`) and translate its answer.

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use tocsin_app::cap::{ATOM_MEDIA_TYPE, CAP_MEDIA_TYPE};
use tocsin_app::flow::{FlowQuery, FlowView};
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::input::{non_empty, parse_query};
use crate::AppState;

/// The routes under `/api/v1`.
pub fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/alerts/{id}/cap", get(alert_cap))
        .route("/metrics/flow", get(flow_metrics))
}

/// The public feed, outside `/api/v1`.
pub fn public_routes() -> Router<AppState> {
    Router::new().route("/cap/alerts.atom", get(cap_feed))
}

fn xml(media_type: &'static str, body: String) -> Response {
    let mut r = body.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    r
}

/// `GET /api/v1/alerts/{id}/cap`: the alert's current CAP 1.2 message
/// (`application/cap+xml`), referencing the earlier messages of its chain; 404 above the
/// caller's clearance.
#[utoipa::path(get, path = "/api/v1/alerts/{id}/cap", params(("id" = String, Path)),
    responses((status = 200, description = "CAP 1.2 message", content_type = "application/cap+xml", body = String),
        (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn alert_cap(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::field("id", "not a valid id"))?;
    let x = st.app().alert_cap(&user.0, id, &st.cap_site).await?;
    Ok(xml(CAP_MEDIA_TYPE, x))
}

/// `GET /cap/alerts.atom` (public, no login): an Atom feed of the newest alerts labelled
/// `TLP:CLEAR`, each linking its CAP message; no other alert is mentioned or counted.
#[utoipa::path(get, path = "/cap/alerts.atom",
    responses((status = 200, description = "Atom 1.0 feed", content_type = "application/atom+xml", body = String)))]
pub async fn cap_feed(State(st): State<AppState>) -> ApiResult<Response> {
    let self_url = format!("{}/cap/alerts.atom", st.cap_base);
    let x = st
        .app()
        .public_cap_feed(&st.cap_site, &self_url, tocsin_domain::time::now())
        .await?;
    Ok(xml(ATOM_MEDIA_TYPE, x))
}

/// `?desk=&situation=` as written (an empty value is no filter).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFlowQuery {
    pub(crate) desk: Option<String>,
    pub(crate) situation: Option<String>,
}

impl RawFlowQuery {
    /// The query, each id checked and named when bad.
    pub(crate) fn parse(&self) -> Result<FlowQuery, ApiError> {
        let id = |name: &str, v: &Option<String>| {
            non_empty(v)
                .map(|s| {
                    Uuid::parse_str(s.trim()).map_err(|_| ApiError::field(name, "not a valid id"))
                })
                .transpose()
        };
        Ok(FlowQuery {
            desk: id("desk", &self.desk)?,
            situation: id("situation", &self.situation)?,
        })
    }
}

/// `GET /api/v1/metrics/flow?desk=&situation=`: flow metrics of the alerts within the
/// caller's clearance, overall, per desk and per situation (seconds; see
/// `tocsin_domain::flow` for the definitions).
#[utoipa::path(get, path = "/api/v1/metrics/flow",
    params(("desk" = Option<String>, Query, description = "desk id"),
        ("situation" = Option<String>, Query, description = "situation id")),
    responses((status = 200, body = FlowView), (status = 400), (status = 403), (status = 422)),
    security(("bearer" = [])))]
pub async fn flow_metrics(
    State(st): State<AppState>,
    user: CurrentUser,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<FlowView>> {
    let q: RawFlowQuery = parse_query(q.as_deref())?;
    let q = q.parse()?;
    Ok(Json(
        st.app()
            .flow_metrics(&user.0, &q, tocsin_domain::time::now())
            .await?,
    ))
}

/// The OpenAPI entries of these routes.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(alert_cap, cap_feed, flow_metrics),
    components(schemas(
        FlowView,
        tocsin_domain::flow::FlowReport,
        tocsin_domain::flow::FlowStats,
        tocsin_domain::flow::IntervalStats,
        tocsin_domain::flow::ResponseShare,
        tocsin_domain::flow::DeskFlow,
        tocsin_domain::flow::SituationFlow
    ))
)]
pub struct CapFlowDoc;
