//! Report matching over HTTP: `GET /api/v1/reports/{id}/matches`, the incidents and reports a
//! report may be about, scored and explained, best first, within the caller's clearance. The
//! handler parses the id, calls `tocsin_app::App::report_matches` and translates its answer.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use tocsin_app::matching::ReportMatches;
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::AppState;

/// The routes under `/api/v1`.
pub fn api_routes() -> Router<AppState> {
    Router::new().route("/reports/{id}/matches", get(report_matches))
}

/// `GET /api/v1/reports/{id}/matches`: the report's suggested matches (incidents and other
/// reports), each with its score, whether it is suggested as the same event, and the
/// explanation ("3.2 km, 5 h apart, 4 shared terms: …"), best first. For roles that read
/// reports and incidents; nothing above the caller's clearance is scored, shown or counted;
/// 404 for a report above it.
#[utoipa::path(get, path = "/api/v1/reports/{id}/matches", params(("id" = String, Path)),
    responses((status = 200, body = ReportMatches), (status = 400), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn report_matches(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<ReportMatches>> {
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::field("id", "not a valid id"))?;
    Ok(Json(st.app().report_matches(&user.0, id).await?))
}

/// The OpenAPI part of report matching.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(report_matches),
    components(schemas(
        ReportMatches,
        tocsin_app::matching::ReportMatch,
        tocsin_app::matching::MatchKind
    ))
)]
pub struct MatchingDoc;
