//! The verification desk over the API: an incident's verification status, checklist and
//! history, linking a report to an incident, a report's credibility and a source's
//! reliability grade. The rules are `tocsin_app::verification`'s.

use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;
use tocsin_app::verification::{SourcePage, SourceView, TaskView, VerificationView};
use tocsin_domain::{Incident, Report};
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::input::JsonBody;
use crate::AppState;

fn parse_id(s: &str) -> ApiResult<Uuid> {
    Uuid::parse_str(s).map_err(|_| ApiError::field("id", "not a valid id"))
}

/// A move of an incident's verification status.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerificationInput {
    /// `corroborated`, `verified`, `disputed` or `refuted` (the old names `partially_verified`
    /// and `false` are refused, naming these).
    pub state: String,
    /// Why (required; kept in the incident's history).
    pub reason: String,
}

/// A task of the checklist, done.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskInput {
    /// The task, as the checklist names it.
    pub task: String,
    /// What was found (optional).
    pub note: Option<String>,
}

/// The incident to link a report to.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkInput {
    /// The incident.
    pub incident_id: Uuid,
}

/// A report's information credibility.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CredibilityInput {
    /// 1 (confirmed by other sources) to 6 (cannot be judged).
    pub credibility: i16,
}

/// A source's new reliability grade.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReliabilityInput {
    /// `A` (completely reliable) to `F` (cannot be judged).
    pub grade: String,
    /// Why (required; kept in the source's history).
    pub reason: String,
}

/// `GET /api/v1/incidents/{id}/verification`: status, allowed moves, checklist, history.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/verification",
    responses((status = 200, body = VerificationView), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn get_verification(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<VerificationView>> {
    Ok(Json(
        st.app().verification_view(&user.0, parse_id(&id)?).await?,
    ))
}

/// `POST /api/v1/incidents/{id}/verification`: move the status, with a reason. Allowed moves:
/// unverified → corroborated, disputed, refuted; corroborated → verified, disputed, refuted;
/// disputed → corroborated, verified, refuted; verified and refuted are final. `verified`
/// needs every task of the checklist done (refused naming those left).
#[utoipa::path(post, path = "/api/v1/incidents/{id}/verification", request_body = VerificationInput,
    responses((status = 200, body = Incident), (status = 403), (status = 404), (status = 409), (status = 422)),
    security(("bearer" = [])))]
pub async fn post_verification(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<VerificationInput>,
) -> ApiResult<Json<Incident>> {
    Ok(Json(
        st.app()
            .set_verification(&user.0, parse_id(&id)?, &input.state, &input.reason)
            .await?,
    ))
}

/// `POST /api/v1/incidents/{id}/verification/tasks`: tick a task of the checklist.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/verification/tasks", request_body = TaskInput,
    responses((status = 200, body = VerificationView), (status = 403), (status = 404), (status = 409), (status = 422)),
    security(("bearer" = [])))]
pub async fn post_task(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<TaskInput>,
) -> ApiResult<Json<VerificationView>> {
    Ok(Json(
        st.app()
            .tick_task(
                &user.0,
                parse_id(&id)?,
                &input.task,
                input.note.as_deref().unwrap_or(""),
            )
            .await?,
    ))
}

/// `POST /api/v1/reports/{id}/link`: link one report to an incident (both within the caller's
/// clearance, else as absent); reports from two or more independent sources corroborate an
/// unverified incident in the same write.
#[utoipa::path(post, path = "/api/v1/reports/{id}/link", request_body = LinkInput,
    responses((status = 200, body = Incident), (status = 403), (status = 404), (status = 409), (status = 422)),
    security(("bearer" = [])))]
pub async fn link_report(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<LinkInput>,
) -> ApiResult<Json<Incident>> {
    Ok(Json(
        st.app()
            .link_report(&user.0, parse_id(&id)?, input.incident_id)
            .await?,
    ))
}

/// `PUT /api/v1/reports/{id}/credibility`: grade a report's information credibility.
#[utoipa::path(put, path = "/api/v1/reports/{id}/credibility", request_body = CredibilityInput,
    responses((status = 200, body = Report), (status = 403), (status = 404), (status = 422)),
    security(("bearer" = [])))]
pub async fn put_credibility(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<CredibilityInput>,
) -> ApiResult<Json<Report>> {
    Ok(Json(
        st.app()
            .set_report_credibility(&user.0, parse_id(&id)?, input.credibility)
            .await?,
    ))
}

/// `PUT /api/v1/sources/{id}/reliability`: set a source's grade, with a reason (analysts and
/// monitor coordinators).
#[utoipa::path(put, path = "/api/v1/sources/{id}/reliability", request_body = ReliabilityInput,
    responses((status = 200, body = SourcePage), (status = 403), (status = 404), (status = 409), (status = 422)),
    security(("bearer" = [])))]
pub async fn put_reliability(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<ReliabilityInput>,
) -> ApiResult<Json<SourcePage>> {
    Ok(Json(
        st.app()
            .set_source_reliability(&user.0, parse_id(&id)?, &input.grade, &input.reason)
            .await?,
    ))
}

/// The OpenAPI document of these routes (merged into the API's).
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        get_verification,
        post_verification,
        post_task,
        link_report,
        put_credibility,
        put_reliability
    ),
    components(schemas(
        VerificationInput,
        TaskInput,
        LinkInput,
        CredibilityInput,
        ReliabilityInput,
        VerificationView,
        TaskView,
        SourceView,
        SourcePage,
        tocsin_domain::VerificationStatus,
        tocsin_domain::VerificationEntry,
        tocsin_domain::TaskTick,
        tocsin_domain::ReliabilityEntry,
        tocsin_domain::TrackRecord,
        tocsin_domain::Reliability
    ))
)]
pub struct VerificationDoc;

/// The routes, to nest under `/api/v1`.
pub fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, post, put};
    axum::Router::new()
        .route(
            "/incidents/{id}/verification",
            get(get_verification).post(post_verification),
        )
        .route("/incidents/{id}/verification/tasks", post(post_task))
        .route("/reports/{id}/link", post(link_report))
        .route("/reports/{id}/credibility", put(put_credibility))
        .route("/sources/{id}/reliability", put(put_reliability))
}
