//! Triage over the JSON API: `GET /api/v1/triage` (the queue), `POST
//! /api/v1/reports/{id}/reject`, `…/duplicate`, `…/assign`, `…/follow-up`, and a report's
//! history (`GET /api/v1/reports/{id}/history`). The rules are the application layer's
//! ([`tocsin_app::triage`]); handlers here parse, call and translate.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use tocsin_app::triage::{QueueItem, TriageQuery};
use tocsin_domain::{
    AssignedFilter, Channel, Country, DomainError, Page, TriageDecision, TriageItem, TriageKey,
    User,
};
use uuid::Uuid;

use crate::analysis::parse_id;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::input::{non_empty, parse_query, JsonBody};
use crate::AppState;

/// Query parameters of the triage queue (API and web page).
#[derive(Debug, Default, Deserialize, serde::Serialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TriageListQuery {
    /// `me` (assigned to the caller), `nobody` (unassigned) or absent (everyone's).
    pub assigned: Option<String>,
    /// `sms`, `web`, `api`, `email`, `import`.
    pub channel: Option<String>,
    /// ISO 3166-1 alpha-3.
    pub country: Option<String>,
    /// Page size, 1–500 (default 50).
    pub limit: Option<String>,
    /// Cursor from the previous page.
    pub cursor: Option<String>,
}

impl TriageListQuery {
    /// What the application layer is asked, the page size and where to start.
    pub fn to_query(&self) -> Result<(TriageQuery, u32, Option<TriageKey>), DomainError> {
        let assigned = match non_empty(&self.assigned) {
            None => AssignedFilter::Any,
            Some("me") => AssignedFilter::Me,
            Some("nobody") => AssignedFilter::Nobody,
            Some(_) => return Err(DomainError::invalid("assigned", "expected me or nobody")),
        };
        let q = TriageQuery {
            channel: non_empty(&self.channel).map(Channel::parse).transpose()?,
            country: non_empty(&self.country).map(Country::parse).transpose()?,
            assigned,
            with_matches: true,
        };
        let page = crate::api::page_req(&self.limit, &None)?;
        let after = non_empty(&self.cursor).map(TriageKey::decode).transpose()?;
        Ok((q, page.limit, after))
    }
}

/// One page of the triage queue.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct TriagePage {
    items: Vec<QueueItem>,
    next_cursor: Option<String>,
}

/// The queue for `user` as a query string asks it.
pub(crate) async fn queue(
    st: &AppState,
    user: &User,
    q: &TriageListQuery,
) -> ApiResult<Page<QueueItem>> {
    let (q, limit, after) = q.to_query()?;
    Ok(st.app().triage_queue(user, q, limit, after).await?)
}

/// `GET /api/v1/triage`: reports waiting for triage, most urgent first (urgency code, a
/// match to an open alert, source reliability A before F, then the oldest first), each with
/// its best suggested matches (incidents and reports, score and explanation).
#[utoipa::path(get, path = "/api/v1/triage", params(TriageListQuery),
    responses((status = 200, body = TriagePage), (status = 400), (status = 401), (status = 403)),
    security(("bearer" = [])))]
pub async fn list_triage(
    State(st): State<AppState>,
    user: CurrentUser,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<Page<QueueItem>>> {
    let q: TriageListQuery = parse_query(q.as_deref())?;
    Ok(Json(queue(&st, &user.0, &q).await?))
}

/// Why a report is rejected.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectInput {
    /// Required, at most 1,000 characters.
    pub reason: String,
}

/// What a report repeats.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DuplicateInput {
    /// The id of a report or an incident the caller may see.
    pub of: String,
}

/// Whom a report is given to.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignInput {
    /// The username of a colleague who may triage.
    pub user: String,
}

/// A question for a report's source.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowUpInput {
    /// The question, at most 1,000 characters.
    pub text: String,
}

/// `POST /api/v1/reports/{id}/reject`
#[utoipa::path(post, path = "/api/v1/reports/{id}/reject", request_body = RejectInput,
    responses((status = 201, body = TriageDecision), (status = 403), (status = 404), (status = 409), (status = 422)),
    security(("bearer" = [])))]
pub async fn reject(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<RejectInput>,
) -> ApiResult<(StatusCode, Json<TriageDecision>)> {
    let d = st
        .app()
        .reject_report(&user.0, parse_id(&id)?, &input.reason)
        .await?;
    Ok((StatusCode::CREATED, Json(d)))
}

/// `POST /api/v1/reports/{id}/duplicate`
#[utoipa::path(post, path = "/api/v1/reports/{id}/duplicate", request_body = DuplicateInput,
    responses((status = 201, body = TriageDecision), (status = 403), (status = 404), (status = 409), (status = 422)),
    security(("bearer" = [])))]
pub async fn duplicate(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<DuplicateInput>,
) -> ApiResult<(StatusCode, Json<TriageDecision>)> {
    let of = parse_of(&input.of)?;
    let d = st.app().mark_duplicate(&user.0, parse_id(&id)?, of).await?;
    Ok((StatusCode::CREATED, Json(d)))
}

/// The `of` of a duplicate: an id.
pub(crate) fn parse_of(s: &str) -> ApiResult<Uuid> {
    Uuid::parse_str(s.trim()).map_err(|_| ApiError::field("of", "not a valid id"))
}

/// `POST /api/v1/reports/{id}/assign`
#[utoipa::path(post, path = "/api/v1/reports/{id}/assign", request_body = AssignInput,
    responses((status = 201, body = TriageDecision), (status = 403), (status = 404), (status = 409), (status = 422)),
    security(("bearer" = [])))]
pub async fn assign(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<AssignInput>,
) -> ApiResult<(StatusCode, Json<TriageDecision>)> {
    let d = st
        .app()
        .assign_report(&user.0, parse_id(&id)?, &input.user)
        .await?;
    Ok((StatusCode::CREATED, Json(d)))
}

/// `POST /api/v1/reports/{id}/follow-up`: ask the report's source a question through the
/// gateway it used. The answer names neither the number nor the source.
#[utoipa::path(post, path = "/api/v1/reports/{id}/follow-up", request_body = FollowUpInput,
    responses((status = 202, body = TriageDecision), (status = 403), (status = 404), (status = 409), (status = 422)),
    security(("bearer" = [])))]
pub async fn follow_up(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<FollowUpInput>,
) -> ApiResult<(StatusCode, Json<TriageDecision>)> {
    let d = send_follow_up(&st, &user.0, parse_id(&id)?, &input.text).await?;
    Ok((StatusCode::ACCEPTED, Json(d)))
}

/// Queue a follow-up and wake the outbox.
pub(crate) async fn send_follow_up(
    st: &AppState,
    user: &User,
    id: Uuid,
    text: &str,
) -> ApiResult<TriageDecision> {
    let d = st
        .app()
        .follow_up_report(user, id, text, st.reply_routes())
        .await?;
    st.outbox_wake.notify_one();
    Ok(d)
}

/// `GET /api/v1/reports/{id}/history`: the report's triage decisions, oldest first.
#[utoipa::path(get, path = "/api/v1/reports/{id}/history",
    responses((status = 200, body = Vec<TriageDecision>), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn history(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let items = st.app().report_history(&user.0, parse_id(&id)?).await?;
    Ok(Json(
        serde_json::json!({ "items": items, "next_cursor": null }),
    ))
}

/// The triage routes in the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(list_triage, reject, duplicate, assign, follow_up, history),
    components(schemas(
        TriagePage,
        QueueItem,
        TriageItem,
        tocsin_app::matching::ReportMatch,
        tocsin_app::matching::MatchKind,
        TriageDecision,
        tocsin_domain::TriageKind,
        tocsin_domain::DuplicateOf,
        tocsin_domain::Urgency,
        tocsin_domain::IncidentDraft,
        RejectInput,
        DuplicateInput,
        AssignInput,
        FollowUpInput
    ))
)]
pub struct TriageDoc;

/// The routes, to nest under `/api/v1`.
pub fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/triage", get(list_triage))
        .route("/reports/{id}/reject", post(reject))
        .route("/reports/{id}/duplicate", post(duplicate))
        .route("/reports/{id}/assign", post(assign))
        .route("/reports/{id}/follow-up", post(follow_up))
        .route("/reports/{id}/history", get(history))
}
