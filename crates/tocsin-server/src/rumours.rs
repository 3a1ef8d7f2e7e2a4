//! Rumours over the JSON API: `GET, POST /api/v1/rumours`, `GET, PATCH /api/v1/rumours/{id}`,
//! `POST /api/v1/rumours/{id}/sightings`; and the job telling desks of overdue rumours. The
//! rules are the application layer's ([`tocsin_app::rumours`]); handlers parse, call and
//! translate.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use std::time::Duration;
use tocsin_app::rumours::{NewSighting, RumourItem, RumourQuery, RumourView, SightingView};
use tocsin_domain::{NewRumour, Page, PageRequest, Rumour, RumourPatch};
use tocsin_jobs::{Job, Progress};

use crate::analysis::parse_id;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::input::{non_empty, parse_query, JsonBody};
use crate::AppState;

/// Query parameters of rumour lists.
#[derive(Debug, Default, Deserialize, serde::Serialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RumourListQuery {
    /// `new`, `under_investigation`, `probably_true`, `probably_false`, `confirmed_true`,
    /// `confirmed_false` or `cannot_be_verified`.
    pub status: Option<String>,
    /// `low`, `medium`, `high` or `critical`.
    pub priority: Option<String>,
    /// Country (ISO alpha-3).
    pub country: Option<String>,
    /// `true`: only rumours past their deadline and not closed.
    pub overdue: Option<String>,
    /// Page size, 1–500 (default 50).
    pub limit: Option<String>,
    /// Cursor from the previous page.
    pub cursor: Option<String>,
}

impl RumourListQuery {
    /// What the application layer is asked, and which page.
    pub fn to_query(&self) -> ApiResult<(RumourQuery, PageRequest)> {
        let overdue = match non_empty(&self.overdue) {
            None | Some("false") => false,
            Some("true") | Some("on") => true,
            Some(_) => return Err(ApiError::field("overdue", "expected true or false")),
        };
        let limit = non_empty(&self.limit)
            .map(|l| {
                l.parse::<u32>()
                    .map_err(|_| ApiError::field("limit", "expected a whole number"))
            })
            .transpose()?;
        let page = PageRequest::parse(limit, non_empty(&self.cursor))
            .map_err(|e| ApiError::field(e.field().unwrap_or("cursor"), e.to_string()))?;
        Ok((
            RumourQuery {
                status: non_empty(&self.status).map(str::to_string),
                priority: non_empty(&self.priority).map(str::to_string),
                country: non_empty(&self.country).map(str::to_string),
                overdue,
            },
            page,
        ))
    }
}

/// One page of rumours.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct RumourPage {
    items: Vec<RumourItem>,
    next_cursor: Option<String>,
}

/// `GET /api/v1/rumours`: the rumours the caller may see, newest first, each with its overdue
/// flag and the sightings the caller may count.
#[utoipa::path(get, path = "/api/v1/rumours", params(RumourListQuery),
    responses((status = 200, body = RumourPage), (status = 400)), security(("bearer" = [])))]
pub async fn list_rumours(
    State(st): State<AppState>,
    user: CurrentUser,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<Page<RumourItem>>> {
    let q: RumourListQuery = parse_query(q.as_deref())?;
    let (q, page) = q.to_query()?;
    Ok(Json(st.app().list_rumours(&user.0, q, page).await?))
}

/// `POST /api/v1/rumours`: record a rumour (analysts, monitor coordinators).
#[utoipa::path(post, path = "/api/v1/rumours", request_body = NewRumour,
    responses((status = 201, body = Rumour), (status = 403), (status = 422)), security(("bearer" = [])))]
pub async fn create_rumour(
    State(st): State<AppState>,
    user: CurrentUser,
    JsonBody(n): JsonBody<NewRumour>,
) -> ApiResult<(StatusCode, Json<Rumour>)> {
    let r = st.app().create_rumour(&user.0, n).await?;
    Ok((StatusCode::CREATED, Json(r)))
}

/// `GET /api/v1/rumours/{id}`: one rumour with the sightings the caller is cleared for.
#[utoipa::path(get, path = "/api/v1/rumours/{id}",
    responses((status = 200, body = RumourView), (status = 404)), security(("bearer" = [])))]
pub async fn get_rumour(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<RumourView>> {
    Ok(Json(st.app().get_rumour(&user.0, parse_id(&id)?).await?))
}

/// `PATCH /api/v1/rumours/{id}`: change a rumour (a move the workflow refuses: 409; closing
/// without findings: 422 naming `findings`).
#[utoipa::path(patch, path = "/api/v1/rumours/{id}", request_body = RumourPatch,
    responses((status = 200, body = Rumour), (status = 403), (status = 404), (status = 409), (status = 422)),
    security(("bearer" = [])))]
pub async fn patch_rumour(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(p): JsonBody<RumourPatch>,
) -> ApiResult<Json<Rumour>> {
    Ok(Json(
        st.app().patch_rumour(&user.0, parse_id(&id)?, p).await?,
    ))
}

/// `POST /api/v1/rumours/{id}/sightings`: mark a report as a sighting of the rumour, with how
/// and where it was heard (again for the same report: 409).
#[utoipa::path(post, path = "/api/v1/rumours/{id}/sightings", request_body = NewSighting,
    responses((status = 201, body = SightingView), (status = 403), (status = 404), (status = 409), (status = 422)),
    security(("bearer" = [])))]
pub async fn add_sighting(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(n): JsonBody<NewSighting>,
) -> ApiResult<(StatusCode, Json<SightingView>)> {
    let s = st.app().add_sighting(&user.0, parse_id(&id)?, n).await?;
    Ok((StatusCode::CREATED, Json(s)))
}

/// The OpenAPI document of these routes (merged into the API's).
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(list_rumours, create_rumour, get_rumour, patch_rumour, add_sighting),
    components(schemas(
        Rumour,
        NewRumour,
        RumourPatch,
        RumourPage,
        RumourItem,
        RumourView,
        NewSighting,
        SightingView
    ))
)]
pub struct RumoursDoc;

/// The routes, to nest under `/api/v1`.
pub fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/rumours", get(list_rumours).post(create_rumour))
        .route("/rumours/{id}", get(get_rumour).patch(patch_rumour))
        .route("/rumours/{id}/sightings", post(add_sighting))
}

/// The `rumour-reminders` job: every `every`, tell the desk of each overdue rumour once per
/// deadline ([`tocsin_app::App::notify_overdue_rumours`]). A singleton, though a second
/// server running it would only meet the reminders already recorded.
pub fn overdue_job(st: &AppState, every: Duration, tolerance: Duration) -> Job {
    let st = st.clone();
    Job::new("rumour-reminders", every, move || {
        let st = st.clone();
        async move {
            st.app()
                .notify_overdue_rumours(tocsin_domain::time::now())
                .await
                .map(|_| Progress::done())
                .map_err(|e| format!("could not tell desks of overdue rumours: {e}").into())
        }
    })
    .singleton()
    .tolerance(tolerance)
}
