//! Risk analysis over the JSON API: assessments and their workflow, evidence suggestions,
//! legal qualifications, tags, escalation signals and forecast ranks. The rules are the
//! application layer's ([`tocsin_app::assessments`], [`tocsin_app::situations`]); handlers
//! here parse, call and translate.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use tocsin_domain::assessment::FactorPoint;
use tocsin_domain::{
    Assessment, AssessmentEdit, AssessmentStatus, Country, Evidence, LegalQualification,
    NewAssessment, NewLegalQualification, SignalRecord, Suggestion, Tagged,
};
use uuid::Uuid;

pub use tocsin_app::assessments::{AssessmentView, SUGGESTION_WINDOW_DAYS};
pub use tocsin_app::situations::SituationOverview;

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::input::{non_empty, parse_query, JsonBody};
use crate::AppState;

/// An id in a path; one that is not an id is a record that does not exist.
pub(crate) fn parse_id(s: &str) -> ApiResult<Uuid> {
    Uuid::parse_str(s).map_err(|_| ApiError::not_found())
}

/// `GET /api/v1/situations/{id}/overview`
#[utoipa::path(get, path = "/api/v1/situations/{id}/overview",
    responses((status = 200, body = SituationOverview), (status = 404)), security(("bearer" = [])))]
pub async fn get_overview(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<SituationOverview>> {
    Ok(Json(st.app().overview(&user.0, parse_id(&id)?).await?))
}

/// `GET /api/v1/situations/{id}/assessments`
#[utoipa::path(get, path = "/api/v1/situations/{id}/assessments",
    responses((status = 200, body = Vec<Assessment>), (status = 404)), security(("bearer" = [])))]
pub async fn list_assessments(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<Assessment>>> {
    Ok(Json(
        st.app().list_assessments(&user.0, parse_id(&id)?).await?,
    ))
}

/// `POST /api/v1/situations/{id}/assessments`: a new draft.
#[utoipa::path(post, path = "/api/v1/situations/{id}/assessments", request_body = NewAssessment,
    responses((status = 201, body = Assessment), (status = 403), (status = 422)), security(("bearer" = [])))]
pub async fn post_assessment(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(n): JsonBody<NewAssessment>,
) -> ApiResult<(StatusCode, Json<Assessment>)> {
    let a = st
        .app()
        .create_assessment(&user.0, parse_id(&id)?, n)
        .await?;
    Ok((StatusCode::CREATED, Json(a)))
}

/// `GET /api/v1/assessments/{id}`: the assessment and its diff with the previous one.
#[utoipa::path(get, path = "/api/v1/assessments/{id}",
    responses((status = 200, body = AssessmentView), (status = 404)), security(("bearer" = [])))]
pub async fn get_assessment(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<AssessmentView>> {
    Ok(Json(
        st.app().assessment_view(&user.0, parse_id(&id)?).await?,
    ))
}

/// `PATCH /api/v1/assessments/{id}`: edit a draft.
#[utoipa::path(patch, path = "/api/v1/assessments/{id}", request_body = AssessmentEdit,
    responses((status = 200, body = Assessment), (status = 403), (status = 422)), security(("bearer" = [])))]
pub async fn patch_assessment(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(e): JsonBody<AssessmentEdit>,
) -> ApiResult<Json<Assessment>> {
    Ok(Json(
        st.app().edit_assessment(&user.0, parse_id(&id)?, e).await?,
    ))
}

/// Body of a workflow step.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepInput {
    /// Why (e.g. what the reviewer asks to change).
    #[serde(default)]
    pub note: Option<String>,
    /// The version last read.
    #[serde(default)]
    pub expected_version: Option<i64>,
}

async fn step(
    st: AppState,
    user: CurrentUser,
    id: String,
    to: AssessmentStatus,
    input: StepInput,
) -> ApiResult<Json<Assessment>> {
    let a = st
        .app()
        .step_assessment(
            &user.0,
            parse_id(&id)?,
            to,
            input.note,
            input.expected_version,
        )
        .await?;
    Ok(Json(a))
}

/// `POST /api/v1/assessments/{id}/review`: a second analyst marks a draft reviewed.
#[utoipa::path(post, path = "/api/v1/assessments/{id}/review", request_body = StepInput,
    responses((status = 200, body = Assessment), (status = 403), (status = 422)), security(("bearer" = [])))]
pub async fn review(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(i): JsonBody<StepInput>,
) -> ApiResult<Json<Assessment>> {
    step(st, user, id, AssessmentStatus::Reviewed, i).await
}

/// `POST /api/v1/assessments/{id}/publish`
#[utoipa::path(post, path = "/api/v1/assessments/{id}/publish", request_body = StepInput,
    responses((status = 200, body = Assessment), (status = 403), (status = 422)), security(("bearer" = [])))]
pub async fn publish(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(i): JsonBody<StepInput>,
) -> ApiResult<Json<Assessment>> {
    step(st, user, id, AssessmentStatus::Published, i).await
}

/// `POST /api/v1/assessments/{id}/return`: send a reviewed assessment back to draft.
#[utoipa::path(post, path = "/api/v1/assessments/{id}/return", request_body = StepInput,
    responses((status = 200, body = Assessment), (status = 403), (status = 422)), security(("bearer" = [])))]
pub async fn send_back(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(i): JsonBody<StepInput>,
) -> ApiResult<Json<Assessment>> {
    step(st, user, id, AssessmentStatus::Draft, i).await
}

/// `GET /api/v1/assessments/{id}/suggestions`: "evidence suggests indicator 7.9".
#[utoipa::path(get, path = "/api/v1/assessments/{id}/suggestions",
    responses((status = 200, body = Vec<Suggestion>), (status = 403)), security(("bearer" = [])))]
pub async fn get_suggestions(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<Suggestion>>> {
    Ok(Json(
        st.app().suggestions_for(&user.0, parse_id(&id)?).await?,
    ))
}

/// An analyst's decision on a suggestion.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    /// The indicator.
    pub indicator: String,
    /// The evidence.
    pub evidence: Evidence,
    /// Accept (true) or dismiss (false).
    pub accept: bool,
}

/// `POST /api/v1/assessments/{id}/suggestions`: accept or dismiss one.
#[utoipa::path(post, path = "/api/v1/assessments/{id}/suggestions", request_body = DecisionInput,
    responses((status = 200, body = Assessment), (status = 403), (status = 422)), security(("bearer" = [])))]
pub async fn decide(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(d): JsonBody<DecisionInput>,
) -> ApiResult<Json<Assessment>> {
    let a = st
        .app()
        .decide_suggestion(&user.0, parse_id(&id)?, d.indicator, d.evidence, d.accept)
        .await?;
    Ok(Json(a))
}

/// `GET /api/v1/situations/{id}/factors/{n}/history`: a factor's published levels over time.
#[utoipa::path(get, path = "/api/v1/situations/{id}/factors/{n}/history",
    responses((status = 200, body = Vec<FactorPoint>), (status = 404)), security(("bearer" = [])))]
pub async fn factor_history(
    State(st): State<AppState>,
    user: CurrentUser,
    Path((id, n)): Path<(String, String)>,
) -> ApiResult<Json<Vec<FactorPoint>>> {
    Ok(Json(
        st.app().factor_history(&user.0, parse_id(&id)?, &n).await?,
    ))
}

/// `GET /api/v1/situations/{id}/legal-qualifications`
#[utoipa::path(get, path = "/api/v1/situations/{id}/legal-qualifications",
    responses((status = 200, body = Vec<LegalQualification>)), security(("bearer" = [])))]
pub async fn list_legal(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<LegalQualification>>> {
    Ok(Json(
        st.app()
            .overview(&user.0, parse_id(&id)?)
            .await?
            .legal_qualifications,
    ))
}

/// `POST /api/v1/situations/{id}/legal-qualifications`: an attributed analyst entry.
#[utoipa::path(post, path = "/api/v1/situations/{id}/legal-qualifications",
    request_body = NewLegalQualification,
    responses((status = 201, body = LegalQualification), (status = 403), (status = 422)), security(("bearer" = [])))]
pub async fn post_legal(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(n): JsonBody<NewLegalQualification>,
) -> ApiResult<(StatusCode, Json<LegalQualification>)> {
    let q = st.app().qualify(&user.0, parse_id(&id)?, n).await?;
    Ok((StatusCode::CREATED, Json(q)))
}

/// Tags to set.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TagsInput {
    /// The new set of tags (replaces the old).
    pub tags: Vec<String>,
}

async fn set_tags(
    st: &AppState,
    user: &CurrentUser,
    kind: Tagged,
    id: &str,
    tags: &[String],
) -> ApiResult<TagsInput> {
    let tags = st
        .app()
        .set_tags(&user.0, kind, parse_id(id)?, tags)
        .await?;
    Ok(TagsInput { tags })
}

async fn get_tags(
    st: &AppState,
    user: &CurrentUser,
    kind: Tagged,
    id: &str,
) -> ApiResult<TagsInput> {
    let tags = st.app().get_tags(&user.0, kind, parse_id(id)?).await?;
    Ok(TagsInput { tags })
}

/// `GET /api/v1/incidents/{id}/tags`
#[utoipa::path(get, path = "/api/v1/incidents/{id}/tags", responses((status = 200, body = TagsInput)),
    security(("bearer" = [])))]
pub async fn get_incident_tags(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<TagsInput>> {
    Ok(Json(get_tags(&st, &user, Tagged::Incident, &id).await?))
}

/// `PUT /api/v1/incidents/{id}/tags`
#[utoipa::path(put, path = "/api/v1/incidents/{id}/tags", request_body = TagsInput,
    responses((status = 200, body = TagsInput), (status = 422)), security(("bearer" = [])))]
pub async fn put_incident_tags(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(t): JsonBody<TagsInput>,
) -> ApiResult<Json<TagsInput>> {
    Ok(Json(
        set_tags(&st, &user, Tagged::Incident, &id, &t.tags).await?,
    ))
}

/// `GET /api/v1/reports/{id}/tags`
#[utoipa::path(get, path = "/api/v1/reports/{id}/tags", responses((status = 200, body = TagsInput)),
    security(("bearer" = [])))]
pub async fn get_report_tags(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<TagsInput>> {
    Ok(Json(get_tags(&st, &user, Tagged::Report, &id).await?))
}

/// `PUT /api/v1/reports/{id}/tags`
#[utoipa::path(put, path = "/api/v1/reports/{id}/tags", request_body = TagsInput,
    responses((status = 200, body = TagsInput), (status = 422)), security(("bearer" = [])))]
pub async fn put_report_tags(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(t): JsonBody<TagsInput>,
) -> ApiResult<Json<TagsInput>> {
    Ok(Json(
        set_tags(&st, &user, Tagged::Report, &id, &t.tags).await?,
    ))
}

/// `GET /api/v1/signals?country=&since=&limit=`: recent escalation signals, computed from the
/// incidents the caller may see.
#[utoipa::path(get, path = "/api/v1/signals", responses((status = 200, body = Vec<SignalRecord>)),
    security(("bearer" = [])))]
pub async fn list_signals(
    State(st): State<AppState>,
    user: CurrentUser,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<Vec<SignalRecord>>> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Q {
        country: Option<String>,
        since: Option<String>,
        limit: Option<String>,
    }
    let q: Q = parse_query(q.as_deref())?;
    let country = non_empty(&q.country).map(Country::parse).transpose()?;
    let since = non_empty(&q.since)
        .map(|s| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map_err(|_| ApiError::field("since", "expected YYYY-MM-DD"))
        })
        .transpose()?;
    let limit = match non_empty(&q.limit) {
        None => 100,
        Some(l) => l
            .parse::<u32>()
            .ok()
            .filter(|l| (1..=1000).contains(l))
            .ok_or_else(|| ApiError::field("limit", "expected 1-1000"))?,
    };
    Ok(Json(
        st.app()
            .signals(&user.0, country.as_ref(), since, limit)
            .await?,
    ))
}

/// `GET /api/v1/forecasts/latest`: the newest stored forecast run, ranked.
#[utoipa::path(get, path = "/api/v1/forecasts/latest",
    responses((status = 200, body = tocsin_domain::ForecastRun), (status = 404)), security(("bearer" = [])))]
pub async fn latest_forecast(
    State(st): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<tocsin_domain::ForecastRun>> {
    Ok(Json(st.app().latest_forecast(&user.0).await?))
}
