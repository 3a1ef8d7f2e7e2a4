//! The JSON API under `/api/v1`.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::NaiveDate;
use serde::Deserialize;
use tocsin_domain::{
    BBox, Channel, Country, Incident, IncidentFilter, IncidentInput, IncidentPatch, NewSituation,
    Page, PageRequest, Report, ReportFilter, ReportInput, Situation, SituationEdit, Source,
    SourceContact, Tlp, User, VerificationStatus,
};
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::input::{non_empty, parse_query, JsonBody};
use crate::AppState;

fn parse_id(s: &str) -> ApiResult<Uuid> {
    Uuid::parse_str(s).map_err(|_| ApiError::field("id", "not a valid id"))
}

fn opt_tlp(v: &Option<String>) -> Result<Option<Tlp>, tocsin_domain::DomainError> {
    non_empty(v).map(str::parse).transpose()
}

pub(crate) fn page_req(
    limit: &Option<String>,
    cursor: &Option<String>,
) -> Result<PageRequest, tocsin_domain::DomainError> {
    let limit = non_empty(limit)
        .map(|l| {
            l.parse::<u32>().map_err(|_| {
                tocsin_domain::DomainError::invalid("limit", "expected a whole number")
            })
        })
        .transpose()?;
    PageRequest::parse(limit, non_empty(cursor))
}

/// Query parameters of incident lists (API and web).
#[derive(Debug, Default, Deserialize, serde::Serialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct IncidentQuery {
    /// ISO 3166-1 alpha-3.
    pub country: Option<String>,
    /// Event date on or after, `YYYY-MM-DD`.
    pub from: Option<String>,
    /// Event date on or before, `YYYY-MM-DD`.
    pub to: Option<String>,
    /// `min_lon,min_lat,max_lon,max_lat`.
    pub bbox: Option<String>,
    /// ACLED event type.
    pub event_type: Option<String>,
    /// Verification status.
    pub verification_status: Option<String>,
    /// Exact TLP label.
    pub tlp: Option<String>,
    /// Situation id.
    pub situation_id: Option<String>,
    /// Page size, 1–500 (default 50).
    pub limit: Option<String>,
    /// Cursor from the previous page.
    pub cursor: Option<String>,
}

impl IncidentQuery {
    /// The filter and page this query asks for, capped at a clearance.
    pub fn to_filter(
        &self,
        clearance: Tlp,
    ) -> Result<(IncidentFilter, PageRequest), tocsin_domain::DomainError> {
        use tocsin_domain::DomainError as E;
        let date = |field: &str, v: &Option<String>| {
            non_empty(v)
                .map(|s| {
                    NaiveDate::parse_from_str(s, "%Y-%m-%d")
                        .map_err(|_| E::invalid(field, "expected YYYY-MM-DD"))
                })
                .transpose()
        };
        let f = IncidentFilter {
            country: non_empty(&self.country).map(Country::parse).transpose()?,
            from: date("from", &self.from)?,
            to: date("to", &self.to)?,
            bbox: non_empty(&self.bbox).map(BBox::parse).transpose()?,
            event_type: non_empty(&self.event_type)
                .map(tocsin_domain::incident::EventType::parse_type)
                .transpose()?
                .map(str::to_string),
            verification_status: non_empty(&self.verification_status)
                .map(VerificationStatus::parse)
                .transpose()?,
            tlp: opt_tlp(&self.tlp)?,
            max_tlp: clearance,
            situation_id: non_empty(&self.situation_id)
                .map(|s| {
                    Uuid::parse_str(s).map_err(|_| E::invalid("situation_id", "not a valid id"))
                })
                .transpose()?,
        };
        Ok((f, page_req(&self.limit, &self.cursor)?))
    }
}

/// Query parameters of report lists.
#[derive(Debug, Default, Deserialize, serde::Serialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// ISO 3166-1 alpha-3.
    pub country: Option<String>,
    /// Received at or after (RFC 3339 or `YYYY-MM-DD`).
    pub from: Option<String>,
    /// Received before (RFC 3339 or `YYYY-MM-DD`).
    pub to: Option<String>,
    /// `min_lon,min_lat,max_lon,max_lat`.
    pub bbox: Option<String>,
    /// Exact TLP label.
    pub tlp: Option<String>,
    /// `sms`, `web`, `api`, `email`, `import`.
    pub channel: Option<String>,
    /// Page size, 1–500 (default 50).
    pub limit: Option<String>,
    /// Cursor from the previous page.
    pub cursor: Option<String>,
}

impl ReportQuery {
    /// The filter and page this query asks for, capped at the user's clearance.
    pub fn to_filter(
        &self,
        user: &User,
    ) -> Result<(ReportFilter, PageRequest), tocsin_domain::DomainError> {
        use tocsin_domain::DomainError as E;
        let time = |field: &str, v: &Option<String>| {
            non_empty(v)
                .map(|s| {
                    tocsin_domain::time::parse(s)
                        .or_else(|_| {
                            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                                .map(|d| d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc())
                        })
                        .map_err(|_| E::invalid(field, "expected an RFC 3339 time or YYYY-MM-DD"))
                })
                .transpose()
        };
        let f = ReportFilter {
            country: non_empty(&self.country).map(Country::parse).transpose()?,
            from: time("from", &self.from)?,
            to: time("to", &self.to)?,
            bbox: non_empty(&self.bbox).map(BBox::parse).transpose()?,
            tlp: opt_tlp(&self.tlp)?,
            max_tlp: user.clearance,
            channel: non_empty(&self.channel).map(Channel::parse).transpose()?,
        };
        Ok((f, page_req(&self.limit, &self.cursor)?))
    }
}

/// Query parameters of plain lists (sources, situations).
#[derive(Debug, Default, Deserialize, serde::Serialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// Page size, 1–500 (default 50).
    pub limit: Option<String>,
    /// Cursor from the previous page.
    pub cursor: Option<String>,
}

/// A page of reports.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ReportPage {
    items: Vec<Report>,
    next_cursor: Option<String>,
}

/// A page of incidents.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct IncidentPage {
    items: Vec<Incident>,
    next_cursor: Option<String>,
}

/// `GET /api/v1/reports`
#[utoipa::path(get, path = "/api/v1/reports", params(ReportQuery),
    responses((status = 200, body = ReportPage), (status = 400), (status = 401), (status = 403)),
    security(("bearer" = [])))]
pub async fn list_reports(
    State(st): State<AppState>,
    user: CurrentUser,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<Page<Report>>> {
    let (f, p) = parse_query::<ReportQuery>(q.as_deref())?.to_filter(&user.0)?;
    Ok(Json(st.app().list_reports(&user.0, f, p).await?))
}

/// `POST /api/v1/reports`
#[utoipa::path(post, path = "/api/v1/reports", request_body = ReportInput,
    responses((status = 201, body = Report), (status = 400), (status = 401), (status = 403), (status = 413), (status = 422)),
    security(("bearer" = [])))]
pub async fn create_report(
    State(st): State<AppState>,
    user: CurrentUser,
    JsonBody(input): JsonBody<ReportInput>,
) -> ApiResult<(StatusCode, Json<Report>)> {
    let stored = st.app().create_report(&user.0, input, Channel::Api).await?;
    Ok((StatusCode::CREATED, Json(stored)))
}

/// `GET /api/v1/reports/{id}`
#[utoipa::path(get, path = "/api/v1/reports/{id}", responses((status = 200, body = Report), (status = 404)),
    security(("bearer" = [])))]
pub async fn get_report(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Report>> {
    Ok(Json(st.app().get_report(&user.0, parse_id(&id)?).await?))
}

/// `GET /api/v1/incidents`
#[utoipa::path(get, path = "/api/v1/incidents", params(IncidentQuery),
    responses((status = 200, body = IncidentPage), (status = 400), (status = 401), (status = 403)),
    security(("bearer" = [])))]
pub async fn list_incidents(
    State(st): State<AppState>,
    user: CurrentUser,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<Page<Incident>>> {
    let (f, p) = parse_query::<IncidentQuery>(q.as_deref())?.to_filter(user.0.clearance)?;
    Ok(Json(st.app().list_incidents(&user.0, f, p).await?))
}

/// `POST /api/v1/incidents`: with `report_ids`, fields left out are taken from the reports
/// (place, country, date, description, the highest of their labels).
#[utoipa::path(post, path = "/api/v1/incidents", request_body = tocsin_domain::IncidentDraft,
    responses((status = 201, body = Incident), (status = 400), (status = 401), (status = 403), (status = 422)),
    security(("bearer" = [])))]
pub async fn create_incident(
    State(st): State<AppState>,
    user: CurrentUser,
    JsonBody(input): JsonBody<tocsin_domain::IncidentDraft>,
) -> ApiResult<(StatusCode, Json<Incident>)> {
    let stored = st.app().create_incident_from(&user.0, input).await?;
    Ok((StatusCode::CREATED, Json(stored)))
}

/// `GET /api/v1/incidents/{id}`
#[utoipa::path(get, path = "/api/v1/incidents/{id}", responses((status = 200, body = Incident), (status = 404)),
    security(("bearer" = [])))]
pub async fn get_incident(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Incident>> {
    Ok(Json(st.app().get_incident(&user.0, parse_id(&id)?).await?))
}

/// `PATCH /api/v1/incidents/{id}`
#[utoipa::path(patch, path = "/api/v1/incidents/{id}", request_body = IncidentPatch,
    responses((status = 200, body = Incident), (status = 404), (status = 409), (status = 422)),
    security(("bearer" = [])))]
pub async fn update_incident(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(patch): JsonBody<IncidentPatch>,
) -> ApiResult<Json<Incident>> {
    let id = parse_id(&id)?;
    Ok(Json(st.app().update_incident(&user.0, id, patch).await?))
}

/// `GET /api/v1/sources`: each with `reliability` (the grade a person set),
/// `suggested_reliability` and `track_record` (counted over what the caller may see).
#[utoipa::path(get, path = "/api/v1/sources", params(PageQuery), responses((status = 200)), security(("bearer" = [])))]
pub async fn list_sources(
    State(st): State<AppState>,
    user: CurrentUser,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<Page<tocsin_app::verification::SourceView>>> {
    let q: PageQuery = parse_query(q.as_deref())?;
    let p = page_req(&q.limit, &q.cursor)?;
    Ok(Json(st.app().list_source_views(&user.0, p).await?))
}

/// `GET /api/v1/sources/{id}` (the handle and grade, the suggestion, track record and grade
/// history; never contact details)
#[utoipa::path(get, path = "/api/v1/sources/{id}", responses((status = 200, body = tocsin_app::verification::SourcePage), (status = 404)),
    security(("bearer" = [])))]
pub async fn get_source(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<tocsin_app::verification::SourcePage>> {
    Ok(Json(st.app().source_page(&user.0, parse_id(&id)?).await?))
}

/// `GET /api/v1/sources/{id}/contact`: contact details, for roles with the permission; every
/// read is recorded in the audit trail.
#[utoipa::path(get, path = "/api/v1/sources/{id}/contact", responses((status = 200, body = SourceContact), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn get_source_contact(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let (s, contact) = st
        .app()
        .read_source_contact(&user.0, parse_id(&id)?)
        .await?;
    Ok(Json(
        serde_json::json!({ "id": s.id, "handle": s.handle, "contact": contact }),
    ))
}

/// A message to a source.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageInput {
    /// The text (at most 1,000 characters).
    pub text: String,
}

/// `POST /api/v1/sources/{id}/messages`: ask a source a follow-up question. The message goes
/// through the gateway the source used; the caller never sees the number.
#[utoipa::path(post, path = "/api/v1/sources/{id}/messages", request_body = MessageInput,
    responses((status = 202, body = tocsin_domain::OutboundMessage), (status = 403), (status = 404), (status = 422)),
    security(("bearer" = [])))]
pub async fn message_source(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<MessageInput>,
) -> ApiResult<(StatusCode, Json<tocsin_domain::OutboundMessage>)> {
    let m = st
        .app()
        .message_source(&user.0, parse_id(&id)?, &input.text, st.reply_routes())
        .await?;
    st.outbox_wake.notify_one();
    Ok((StatusCode::ACCEPTED, Json(m)))
}

/// `GET /api/v1/sources/{id}/messages`: what was sent to a source and where it stands.
#[utoipa::path(get, path = "/api/v1/sources/{id}/messages", responses((status = 200)), security(("bearer" = [])))]
pub async fn source_messages(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let items = st.app().source_messages(&user.0, parse_id(&id)?).await?;
    Ok(Json(
        serde_json::json!({ "items": items, "next_cursor": null }),
    ))
}

/// `GET /api/v1/situations`
#[utoipa::path(get, path = "/api/v1/situations", params(PageQuery), responses((status = 200)), security(("bearer" = [])))]
pub async fn list_situations(
    State(st): State<AppState>,
    user: CurrentUser,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<Page<Situation>>> {
    let q: PageQuery = parse_query(q.as_deref())?;
    let p = page_req(&q.limit, &q.cursor)?;
    Ok(Json(st.app().list_situations(&user.0, p).await?))
}

/// `POST /api/v1/situations`
#[utoipa::path(post, path = "/api/v1/situations", request_body = NewSituation,
    responses((status = 201, body = Situation), (status = 422)), security(("bearer" = [])))]
pub async fn create_situation(
    State(st): State<AppState>,
    user: CurrentUser,
    JsonBody(input): JsonBody<NewSituation>,
) -> ApiResult<(StatusCode, Json<Situation>)> {
    Ok((
        StatusCode::CREATED,
        Json(st.app().create_situation(&user.0, input).await?),
    ))
}

/// `GET /api/v1/situations/{id}`
#[utoipa::path(get, path = "/api/v1/situations/{id}", responses((status = 200, body = Situation), (status = 404)),
    security(("bearer" = [])))]
pub async fn get_situation(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Situation>> {
    Ok(Json(st.app().get_situation(&user.0, parse_id(&id)?).await?))
}

/// `PATCH /api/v1/situations/{id}`: name, admin-1 areas (`"admin1"`: a name or a list; `[]`
/// for the whole country), status, summary (users who may write situations).
#[utoipa::path(patch, path = "/api/v1/situations/{id}", request_body = SituationEdit,
    responses((status = 200, body = Situation), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn update_situation(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<SituationEdit>,
) -> ApiResult<Json<Situation>> {
    Ok(Json(
        st.app()
            .update_situation(&user.0, parse_id(&id)?, input)
            .await?,
    ))
}

/// `GET /api/v1/me`: who the token belongs to.
#[utoipa::path(get, path = "/api/v1/me", responses((status = 200)), security(("bearer" = [])))]
pub async fn me(user: CurrentUser) -> Json<serde_json::Value> {
    let u = user.0;
    Json(serde_json::json!({
        "id": u.id, "username": u.username, "role": u.role, "clearance": u.clearance,
    }))
}

/// `GET /api/v1/audit`: the audit trail, for roles with the permission.
#[utoipa::path(get, path = "/api/v1/audit", responses((status = 200)), security(("bearer" = [])))]
pub async fn audit(
    State(st): State<AppState>,
    user: CurrentUser,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<serde_json::Value>> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Q {
        after: Option<i64>,
        limit: Option<u32>,
    }
    let q: Q = parse_query(q.as_deref())?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let items = st
        .app()
        .audit_entries(&user.0, q.after.unwrap_or(0), limit)
        .await?;
    Ok(Json(serde_json::json!({ "items": items })))
}

/// The OpenAPI document, generated from the handlers above.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "Tocsin API", description = "Atrocity early-warning and response. Every call needs `Authorization: Bearer TOKEN`."),
    paths(list_reports, create_report, get_report, list_incidents, create_incident, get_incident, update_incident,
          list_sources, get_source, get_source_contact, list_situations, create_situation, get_situation, update_situation, me, audit,
          crate::export::export, crate::map::map, crate::map::admin1, message_source, source_messages,
          crate::analysis::get_overview, crate::analysis::list_assessments, crate::analysis::post_assessment,
          crate::analysis::get_assessment, crate::analysis::patch_assessment, crate::analysis::review,
          crate::analysis::publish, crate::analysis::send_back, crate::analysis::get_suggestions,
          crate::analysis::decide, crate::analysis::factor_history, crate::analysis::list_legal,
          crate::analysis::post_legal, crate::analysis::get_incident_tags, crate::analysis::put_incident_tags,
          crate::analysis::get_report_tags, crate::analysis::put_report_tags, crate::analysis::list_signals,
          crate::analysis::latest_forecast, outbox_summary,
          crate::accounts::list_users, crate::accounts::create_user, crate::accounts::disable_user,
          crate::accounts::enable_user, crate::accounts::reset_password, crate::accounts::list_tokens,
          crate::accounts::issue_token, crate::accounts::revoke_token,
          crate::notify::get_user, crate::notify::patch_user, crate::notify::list_inbox,
          crate::notify::mark_read,
          crate::toolbox::list_toolbox, crate::toolbox::get_toolbox_record),
    components(schemas(Report, ReportInput, Incident, IncidentInput, IncidentPatch, Source, SourceContact, Situation,
                       NewSituation, SituationEdit, Tlp, ReportPage, IncidentPage,
                       crate::accounts::UserView, crate::accounts::TokenView, crate::accounts::IssuedToken,
                       crate::accounts::CreatedUser, crate::accounts::NewUserInput,
                       crate::accounts::PasswordInput, crate::accounts::TokenInput,
                       crate::notify::UserProfile, crate::notify::ContactsInput,
                       crate::notify::InboxPage, tocsin_app::notify::ContactsView,
                       tocsin_domain::InboxItem)),
    modifiers(&Security)
)]
pub struct ApiDoc;

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let c = openapi.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// `GET /api/v1/outbox`: how the outbox of replies stands (admins), so that replies that
/// never leave (a gateway refusing every message) are noticed. Counts only: no recipient.
#[utoipa::path(get, path = "/api/v1/outbox",
    responses((status = 200, body = tocsin_store::OutboxSummary), (status = 403)),
    security(("bearer" = [])))]
pub async fn outbox_summary(
    State(st): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<tocsin_store::OutboxSummary>> {
    Ok(Json(st.app().outbox_summary(&user.0).await?))
}

/// `GET /api/v1/openapi.json`
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    use utoipa::OpenApi;
    let mut doc = ApiDoc::openapi();
    doc.merge(crate::actions::ActionsDoc::openapi());
    doc.merge(crate::alerts::AlertsDoc::openapi());
    doc.merge(crate::capflow::CapFlowDoc::openapi());
    doc.merge(crate::triage::TriageDoc::openapi());
    doc.merge(crate::rumours::RumoursDoc::openapi());
    doc.merge(crate::subscribers::SubscribersDoc::openapi());
    doc.merge(crate::suggestions::SuggestionsDoc::openapi());
    doc.merge(crate::files::FilesDoc::openapi());
    doc.merge(crate::verification::VerificationDoc::openapi());
    doc.merge(crate::matching::MatchingDoc::openapi());
    doc.merge(crate::broadcasts::BroadcastsDoc::openapi());
    doc.merge(crate::lexicons::LexiconsDoc::openapi());
    doc.merge(crate::lexicon_terms::LexiconTermsDoc::openapi());
    doc.merge(crate::channels::ChannelsDoc::openapi());
    doc.merge(crate::channel_status::ChannelStatusDoc::openapi());
    doc.merge(crate::flags::FlagsDoc::openapi());
    doc.merge(crate::monitor::MonitorDoc::openapi());
    doc.merge(crate::share::ShareDoc::openapi());
    doc.merge(crate::partners::PartnersDoc::openapi());
    Json(doc)
}
