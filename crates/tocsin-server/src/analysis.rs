//! Risk analysis over HTTP: assessments and their workflow, evidence suggestions, legal
//! qualifications, tags, escalation signals and forecast ranks. The rules shared by the JSON
//! API and the web pages live in the functions at the top; handlers below only translate.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::sync::LazyLock;
use tocsin_domain::assessment::{self, AssessmentDiff, FactorPoint};
use tocsin_domain::evidence::{normalize_tags, suggest};
use tocsin_domain::{
    Assessment, AssessmentChange, AssessmentEdit, AssessmentStatus, Country, Evidence,
    ForecastPoint, IncidentFilter, LegalQualification, NewAssessment, NewLegalQualification,
    PageRequest, Permission, ReportFilter, SignalRecord, Situation, Suggestion, Tagged, User,
};
use tocsin_framework::EvidenceMap;
use tocsin_store::{Op, StoreExt};
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::input::{non_empty, parse_query, JsonBody};
use crate::AppState;

static UN_EVIDENCE: LazyLock<EvidenceMap> = LazyLock::new(EvidenceMap::un_2014);

/// How far back evidence suggestions look, in days before the assessment's date.
pub const SUGGESTION_WINDOW_DAYS: i64 = 365;

fn parse_id(s: &str) -> ApiResult<Uuid> {
    Uuid::parse_str(s).map_err(|_| ApiError::not_found())
}

/// Whether the user may see assessments that are not yet published.
pub fn may_see_drafts(u: &User) -> bool {
    u.can(Permission::AssessmentWrite)
        || u.can(Permission::AssessmentReview)
        || u.can(Permission::AssessmentPublish)
}

/// A situation the user may see.
pub async fn situation_for(st: &AppState, u: &User, id: &str) -> ApiResult<Situation> {
    if !u.can(Permission::SituationRead) {
        return Err(ApiError::forbidden());
    }
    let s = st.store.get_situation(parse_id(id)?).await?;
    if !u.may_see(s.tlp) {
        return Err(ApiError::not_found());
    }
    Ok(s)
}

fn visible_assessment(u: &User, a: &Assessment) -> bool {
    u.may_see(a.tlp) && (a.status == AssessmentStatus::Published || may_see_drafts(u))
}

/// An assessment the user may see (drafts only to those who work on them), with its
/// situation, which the user must be cleared for too.
pub async fn assessment_in(
    st: &AppState,
    u: &User,
    id: &str,
) -> ApiResult<(Assessment, Situation)> {
    if !u.can(Permission::SituationRead) {
        return Err(ApiError::forbidden());
    }
    let a = st.store.get_assessment(parse_id(id)?).await?;
    if !visible_assessment(u, &a) {
        return Err(ApiError::not_found());
    }
    let s = st.store.get_situation(a.situation_id).await?;
    if !u.may_see(s.tlp) {
        return Err(ApiError::not_found());
    }
    Ok((a, s))
}

/// An assessment the user may see, as [`assessment_in`] finds it.
pub async fn assessment_for(st: &AppState, u: &User, id: &str) -> ApiResult<Assessment> {
    Ok(assessment_in(st, u, id).await?.0)
}

/// The situation's assessments the user may see, newest first.
pub async fn assessments_of(st: &AppState, u: &User, s: &Situation) -> ApiResult<Vec<Assessment>> {
    let all = st.store.list_assessments(Some(s.id), 500).await?;
    Ok(all
        .into_iter()
        .filter(|a| visible_assessment(u, a))
        .collect())
}

/// An assessment with what changed since the previous published one.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AssessmentView {
    /// The assessment.
    pub assessment: Assessment,
    /// Changes against the previous published assessment, if there is one.
    pub diff: Option<AssessmentDiff>,
}

/// The assessment with its diff, as the user may see it.
pub async fn assessment_view(st: &AppState, u: &User, id: &str) -> ApiResult<AssessmentView> {
    let a = assessment_for(st, u, id).await?;
    crate::reads::one(st, u, "assessment", a.id, a.tlp).await?;
    let all = st.store.list_assessments(Some(a.situation_id), 500).await?;
    let diff = assessment::previous(&all, &a)
        .filter(|p| u.may_see(p.tlp))
        .map(|p| assessment::diff(p, &a));
    Ok(AssessmentView {
        assessment: a,
        diff,
    })
}

/// Create a draft for a situation.
pub async fn create_assessment(
    st: &AppState,
    u: &User,
    situation_id: &str,
    n: NewAssessment,
) -> ApiResult<Assessment> {
    if !u.can(Permission::AssessmentWrite) {
        return Err(ApiError::forbidden());
    }
    let s = situation_for(st, u, situation_id).await?;
    let a = Assessment::create(
        n,
        st.framework(),
        s.id,
        s.tlp,
        &u.actor(),
        tocsin_domain::time::now(),
    )?;
    if !u.may_see(a.tlp) {
        return Err(ApiError::field("tlp", "above your own clearance"));
    }
    Ok(st.store.create_assessment(&u.actor(), a).await?)
}

/// The framework an assessment was made with: every loaded framework can be edited and shown
/// (409 only when a deployment has dropped the framework an old assessment used).
pub fn framework_of(
    st: &AppState,
    a: &Assessment,
) -> ApiResult<std::sync::Arc<tocsin_framework::Framework>> {
    st.frameworks.get(&a.framework).cloned().ok_or_else(|| {
        ApiError::new(
            StatusCode::CONFLICT,
            format!(
                "this assessment uses framework {:?}, which this server has not loaded",
                a.framework
            ),
        )
    })
}

/// The permission a change needs.
pub fn permission_for(change: &AssessmentChange) -> Permission {
    match change {
        AssessmentChange::Edit(_) | AssessmentChange::Decide { .. } => Permission::AssessmentWrite,
        AssessmentChange::Transition { to, .. } => match to {
            AssessmentStatus::Reviewed => Permission::AssessmentReview,
            AssessmentStatus::Published | AssessmentStatus::Draft => Permission::AssessmentPublish,
        },
    }
}

/// Apply a change by the user: permission here, workflow rules in the domain.
pub async fn change_assessment(
    st: &AppState,
    u: &User,
    id: &str,
    change: AssessmentChange,
) -> ApiResult<Assessment> {
    if !u.can(permission_for(&change)) {
        return Err(ApiError::forbidden());
    }
    let (a, situation) = assessment_in(st, u, id).await?;
    let fw = framework_of(st, &a)?;
    match &change {
        AssessmentChange::Edit(e) => {
            e.check(&fw, situation.tlp)?;
            if e.tlp.is_some_and(|t| !u.may_see(t)) {
                return Err(ApiError::field("tlp", "above your own clearance"));
            }
        }
        AssessmentChange::Decide { indicator, .. } => {
            if fw.indicator(indicator).is_none() {
                return Err(ApiError::field(
                    "indicator",
                    format!("{} has no indicator {indicator:?}", fw.id),
                ));
            }
        }
        AssessmentChange::Transition { .. } => {}
    }
    Ok(st.store.change_assessment(&u.actor(), a.id, change).await?)
}

/// Evidence suggestions for a draft, from the situation's incidents and reports of the last
/// [`SUGGESTION_WINDOW_DAYS`] the user may see.
pub async fn suggestions(st: &AppState, u: &User, a: &Assessment) -> ApiResult<Vec<Suggestion>> {
    if a.framework != UN_EVIDENCE.framework || a.status != AssessmentStatus::Draft {
        return Ok(vec![]);
    }
    let s = st.store.get_situation(a.situation_id).await?;
    let from = a.as_of - chrono::Duration::days(SUGGESTION_WINDOW_DAYS);
    let mut incidents = vec![];
    if u.can(Permission::IncidentRead) {
        let f = IncidentFilter {
            country: Some(s.country.clone()),
            from: Some(from),
            to: Some(a.as_of),
            max_tlp: u.clearance,
            ..Default::default()
        };
        incidents = crate::incident_index::list_incidents(st, &f, PageRequest::first(500))
            .await?
            .items;
        if let Some(admin1) = &s.admin1 {
            incidents.retain(|i| {
                i.situation_id == Some(s.id)
                    || i.admin1
                        .as_deref()
                        .is_some_and(|x| x.eq_ignore_ascii_case(admin1))
            });
        }
    }
    let mut reports = vec![];
    if u.can(Permission::ReportRead) {
        let f = ReportFilter {
            country: Some(s.country.clone()),
            from: from.and_hms_opt(0, 0, 0).map(|d| d.and_utc()),
            max_tlp: u.clearance,
            ..Default::default()
        };
        reports = st
            .store
            .list_reports(&f, PageRequest::first(200))
            .await?
            .items;
    }
    let mut tags = st
        .store
        .get_tags(
            Tagged::Incident,
            &incidents.iter().map(|i| i.id).collect::<Vec<_>>(),
        )
        .await?;
    tags.extend(
        st.store
            .get_tags(
                Tagged::Report,
                &reports.iter().map(|r| r.id).collect::<Vec<_>>(),
            )
            .await?,
    );
    Ok(suggest(&UN_EVIDENCE, a, &incidents, &reports, &tags))
}

/// Record a legal qualification: only a user granted `legal_qualify`.
pub async fn qualify(
    st: &AppState,
    u: &User,
    situation_id: &str,
    n: NewLegalQualification,
) -> ApiResult<LegalQualification> {
    if !u.can(Permission::LegalQualify) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "a legal qualification needs the legal_qualify grant",
        ));
    }
    let s = situation_for(st, u, situation_id).await?;
    let q = LegalQualification::create(n, s.id, s.tlp, u, tocsin_domain::time::now())?;
    Ok(st.store.create_legal_qualification(&u.actor(), q).await?)
}

/// What a situation page shows beside the situation itself.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SituationOverview {
    /// The situation.
    pub situation: Situation,
    /// Its assessments the caller may see, newest first.
    pub assessments: Vec<Assessment>,
    /// Attributed legal qualifications (none unless an analyst recorded one).
    pub legal_qualifications: Vec<LegalQualification>,
    /// Recent escalation signals in its country (and area), computed at the caller's clearance.
    pub signals: Vec<SignalRecord>,
    /// The country's forecast rank in each stored run, oldest first.
    pub forecast: Vec<ForecastPoint>,
}

/// Everything a situation page shows.
pub async fn overview(st: &AppState, u: &User, id: &str) -> ApiResult<SituationOverview> {
    let situation = situation_for(st, u, id).await?;
    crate::reads::one(st, u, "situation", situation.id, situation.tlp).await?;
    let assessments = assessments_of(st, u, &situation).await?;
    let legal_qualifications = st
        .store
        .list_legal_qualifications(situation.id)
        .await?
        .into_iter()
        .filter(|q| u.may_see(q.tlp))
        .collect();
    let mut signals = st
        .store
        .list_signals(u.clearance, Some(&situation.country), None, 200)
        .await?;
    if let Some(a1) = &situation.admin1 {
        signals.retain(|s| {
            s.admin1
                .as_deref()
                .is_none_or(|x| x.eq_ignore_ascii_case(a1))
        });
    }
    signals.truncate(50);
    let forecast = st.store.forecast_history(&situation.country).await?;
    Ok(SituationOverview {
        situation,
        assessments,
        legal_qualifications,
        signals,
        forecast,
    })
}

// ---- JSON API ----

/// `GET /api/v1/situations/{id}/overview`
#[utoipa::path(get, path = "/api/v1/situations/{id}/overview",
    responses((status = 200, body = SituationOverview), (status = 404)), security(("bearer" = [])))]
pub async fn get_overview(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<SituationOverview>> {
    Ok(Json(overview(&st, &user.0, &id).await?))
}

/// `GET /api/v1/situations/{id}/assessments`
#[utoipa::path(get, path = "/api/v1/situations/{id}/assessments",
    responses((status = 200, body = Vec<Assessment>), (status = 404)), security(("bearer" = [])))]
pub async fn list_assessments(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<Assessment>>> {
    let s = situation_for(&st, &user.0, &id).await?;
    Ok(Json(assessments_of(&st, &user.0, &s).await?))
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
    let a = create_assessment(&st, &user.0, &id, n).await?;
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
    Ok(Json(assessment_view(&st, &user.0, &id).await?))
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
        change_assessment(&st, &user.0, &id, AssessmentChange::Edit(e)).await?,
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
    let change = AssessmentChange::Transition {
        to,
        note: input.note.filter(|n| !n.trim().is_empty()),
        expected_version: input.expected_version,
    };
    Ok(Json(change_assessment(&st, &user.0, &id, change).await?))
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
    let u = user.require(Permission::AssessmentWrite)?;
    let a = assessment_for(&st, u, &id).await?;
    Ok(Json(suggestions(&st, u, &a).await?))
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
    let change = AssessmentChange::Decide {
        indicator: d.indicator,
        evidence: d.evidence,
        accept: d.accept,
    };
    Ok(Json(change_assessment(&st, &user.0, &id, change).await?))
}

/// `GET /api/v1/situations/{id}/factors/{n}/history`: a factor's published levels over time.
#[utoipa::path(get, path = "/api/v1/situations/{id}/factors/{n}/history",
    responses((status = 200, body = Vec<FactorPoint>), (status = 404)), security(("bearer" = [])))]
pub async fn factor_history(
    State(st): State<AppState>,
    user: CurrentUser,
    Path((id, n)): Path<(String, String)>,
) -> ApiResult<Json<Vec<FactorPoint>>> {
    let s = situation_for(&st, &user.0, &id).await?;
    let n: u32 = n
        .parse()
        .ok()
        .filter(|n| *n >= 1 && *n as usize <= st.framework().risk_factors.len())
        .ok_or_else(|| ApiError::field("factor", "no such risk factor"))?;
    let all = assessments_of(&st, &user.0, &s).await?;
    Ok(Json(assessment::factor_history(
        &all,
        &st.framework().id,
        n,
    )))
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
        overview(&st, &user.0, &id).await?.legal_qualifications,
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
    let q = qualify(&st, &user.0, &id, n).await?;
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
    u: &User,
    kind: Tagged,
    id: &str,
    tags: &[String],
) -> ApiResult<TagsInput> {
    let need = match kind {
        Tagged::Incident => Permission::IncidentUpdate,
        Tagged::Report => Permission::IncidentCreate,
    };
    if !u.can(need) {
        return Err(ApiError::forbidden());
    }
    let id = parse_id(id)?;
    let tlp = match kind {
        Tagged::Incident => st.store.get_incident(id).await?.tlp,
        Tagged::Report => st.store.get_report(id).await?.tlp,
    };
    if !u.may_see(tlp) {
        return Err(ApiError::not_found());
    }
    let tags = normalize_tags(tags)?;
    st.store
        .write(
            &u.actor(),
            Op::SetTags {
                kind,
                id,
                tags: tags.clone(),
            },
        )
        .await?;
    Ok(TagsInput { tags })
}

async fn get_tags(st: &AppState, u: &User, kind: Tagged, id: &str) -> ApiResult<TagsInput> {
    let id = parse_id(id)?;
    let tlp = match kind {
        Tagged::Incident if u.can(Permission::IncidentRead) => st.store.get_incident(id).await?.tlp,
        Tagged::Report if u.can(Permission::ReportRead) => st.store.get_report(id).await?.tlp,
        _ => return Err(ApiError::forbidden()),
    };
    if !u.may_see(tlp) {
        return Err(ApiError::not_found());
    }
    let mut m = st.store.get_tags(kind, &[id]).await?;
    Ok(TagsInput {
        tags: m.remove(&id).unwrap_or_default(),
    })
}

/// `GET /api/v1/incidents/{id}/tags`
#[utoipa::path(get, path = "/api/v1/incidents/{id}/tags", responses((status = 200, body = TagsInput)),
    security(("bearer" = [])))]
pub async fn get_incident_tags(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<TagsInput>> {
    Ok(Json(get_tags(&st, &user.0, Tagged::Incident, &id).await?))
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
        set_tags(&st, &user.0, Tagged::Incident, &id, &t.tags).await?,
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
    Ok(Json(get_tags(&st, &user.0, Tagged::Report, &id).await?))
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
        set_tags(&st, &user.0, Tagged::Report, &id, &t.tags).await?,
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
    user.require(Permission::SituationRead)?;
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
        st.store
            .list_signals(user.0.clearance, country.as_ref(), since, limit)
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
    user.require(Permission::SituationRead)?;
    st.store
        .latest_forecast_run()
        .await?
        .map(Json)
        .ok_or_else(ApiError::not_found)
}
