//! The JSON API under `/api/v1`.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::NaiveDate;
use serde::Deserialize;
use tocsin_domain::{
    BBox, Channel, Country, Incident, IncidentFilter, IncidentInput, IncidentPatch, NewReport,
    NewSituation, Page, PageRequest, Permission, Report, ReportFilter, ReportInput, Situation,
    Source, SourceContact, Tlp, User, VerificationStatus,
};
use tocsin_store::{StoreError, StoreExt};
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::input::{non_empty, parse_query, JsonBody};
use crate::reads;
use crate::AppState;

fn parse_id(s: &str) -> ApiResult<Uuid> {
    Uuid::parse_str(s).map_err(|_| ApiError::field("id", "not a valid id"))
}

/// Hide records above the caller's clearance as if they did not exist.
fn visible<T>(user: &User, tlp: Tlp, item: T) -> ApiResult<T> {
    if user.may_see(tlp) {
        Ok(item)
    } else {
        Err(ApiError::not_found())
    }
}

/// Keep only the linked reports `u` may read: none without the permission to read reports,
/// else those at or below its clearance, so the count of links reveals no hidden report.
pub async fn linked_reports_seen(st: &AppState, u: &User, i: &mut Incident) -> ApiResult<()> {
    if !u.can(Permission::ReportRead) {
        i.report_ids.clear();
        return Ok(());
    }
    let mut seen = Vec::with_capacity(i.report_ids.len());
    for id in &i.report_ids {
        match st.store.get_report(*id).await {
            Ok(r) if u.may_see(r.tlp) => seen.push(*id),
            Ok(_) | Err(StoreError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
    }
    i.report_ids = seen;
    Ok(())
}

fn opt_tlp(v: &Option<String>) -> Result<Option<Tlp>, tocsin_domain::DomainError> {
    non_empty(v).map(str::parse).transpose()
}

fn page_req(
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
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
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
    let u = user.require(Permission::ReportRead)?;
    let (f, p) = parse_query::<ReportQuery>(q.as_deref())?.to_filter(u)?;
    let page = st.store.list_reports(&f, p).await?;
    reads::list(&st, u, "report", page.items.iter().map(|r| (r.id, r.tlp))).await?;
    Ok(Json(page))
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
    let u = user.require(Permission::ReportCreate)?;
    // A source above the caller's clearance answers as one that does not exist.
    let source_id = match non_empty(&input.source) {
        Some(h) => match st.store.get_source_by_handle(h).await {
            Ok(s) if u.may_see(s.tlp) => Some(s.id),
            Ok(_) | Err(StoreError::NotFound) => {
                return Err(ApiError::from(tocsin_domain::DomainError::invalid(
                    "source",
                    "no source has this handle",
                )))
            }
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    let r = NewReport::parse(input, Channel::Api, source_id)?;
    let stored = st.store.create_report(&u.actor(), r).await?;
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
    let u = user.require(Permission::ReportRead)?;
    let r = st.store.get_report(parse_id(&id)?).await?;
    visible(u, r.tlp, ())?;
    reads::one(&st, u, "report", r.id, r.tlp).await?;
    Ok(Json(r))
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
    let u = user.require(Permission::IncidentRead)?;
    let (f, p) = parse_query::<IncidentQuery>(q.as_deref())?.to_filter(u.clearance)?;
    let mut page = crate::incident_index::list_incidents(&st, &f, p).await?;
    reads::list(&st, u, "incident", page.items.iter().map(|i| (i.id, i.tlp))).await?;
    for i in &mut page.items {
        linked_reports_seen(&st, u, i).await?;
    }
    Ok(Json(page))
}

/// `POST /api/v1/incidents`
#[utoipa::path(post, path = "/api/v1/incidents", request_body = IncidentInput,
    responses((status = 201, body = Incident), (status = 400), (status = 401), (status = 403), (status = 422)),
    security(("bearer" = [])))]
pub async fn create_incident(
    State(st): State<AppState>,
    user: CurrentUser,
    JsonBody(input): JsonBody<IncidentInput>,
) -> ApiResult<(StatusCode, Json<Incident>)> {
    let u = user.require(Permission::IncidentCreate)?;
    let i = Incident::parse(input)?;
    if !u.may_see(i.tlp) {
        return Err(tocsin_domain::DomainError::invalid("tlp", "above your clearance").into());
    }
    let stored = st.store.create_incident(&u.actor(), i).await?;
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
    let u = user.require(Permission::IncidentRead)?;
    let mut i = st.store.get_incident(parse_id(&id)?).await?;
    visible(u, i.tlp, ())?;
    reads::one(&st, u, "incident", i.id, i.tlp).await?;
    linked_reports_seen(&st, u, &mut i).await?;
    Ok(Json(i))
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
    let u = user.require(Permission::IncidentUpdate)?;
    let id = parse_id(&id)?;
    let current = st.store.get_incident(id).await?;
    visible(u, current.tlp, ())?;
    if patch.tlp.is_some_and(|t| !u.may_see(t)) {
        return Err(tocsin_domain::DomainError::invalid("tlp", "above your clearance").into());
    }
    Ok(Json(st.store.update_incident(&u.actor(), id, patch).await?))
}

/// `GET /api/v1/sources`
#[utoipa::path(get, path = "/api/v1/sources", params(PageQuery), responses((status = 200)), security(("bearer" = [])))]
pub async fn list_sources(
    State(st): State<AppState>,
    user: CurrentUser,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<Page<Source>>> {
    let u = user.require(Permission::SourceRead)?;
    let q: PageQuery = parse_query(q.as_deref())?;
    let page = st
        .store
        .list_sources(u.clearance, page_req(&q.limit, &q.cursor)?)
        .await?;
    reads::list(&st, u, "source", page.items.iter().map(|s| (s.id, s.tlp))).await?;
    Ok(Json(page))
}

/// `GET /api/v1/sources/{id}` (the handle and grade, never contact details)
#[utoipa::path(get, path = "/api/v1/sources/{id}", responses((status = 200, body = Source), (status = 404)),
    security(("bearer" = [])))]
pub async fn get_source(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Source>> {
    let u = user.require(Permission::SourceRead)?;
    let s = st.store.get_source(parse_id(&id)?).await?;
    visible(u, s.tlp, ())?;
    reads::one(&st, u, "source", s.id, s.tlp).await?;
    Ok(Json(s))
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
    let u = user.require(Permission::SourceContactRead)?;
    let id = parse_id(&id)?;
    let s = st.store.get_source(id).await?;
    visible(u, s.tlp, ())?;
    let sealed = st.store.read_source_contact(&u.actor(), id).await?;
    let contact = sealed
        .map(|c| SourceContact::open(&c, &st.contact_key, s.id))
        .transpose()?;
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
    let u = user.require(Permission::SourceMessage)?;
    let source = st.store.get_source(parse_id(&id)?).await?;
    visible(u, source.tlp, ())?;
    let text = input.text.trim().to_string();
    if text.is_empty() || text.chars().count() > 1000 || text.contains('\0') {
        return Err(tocsin_domain::DomainError::invalid("text", "1 to 1,000 characters").into());
    }
    if !source.has_contact {
        return Err(tocsin_domain::DomainError::invalid(
            "id",
            "this source has no contact details",
        )
        .into());
    }
    // The gateway the source was last answered through (acknowledgements go back the way
    // the report came).
    let last = st
        .store
        .list_outbound(Some(source.id), 1)
        .await?
        .into_iter()
        .next();
    let gateway = crate::sms::reply_gateway(&st.sms, last.as_ref().map(|m| m.gateway.as_str()))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::CONFLICT,
                "no SMS gateway is configured to send with",
            )
        })?;
    let mut m = tocsin_domain::OutboundMessage::new(
        format!("msg:{}", tocsin_domain::random_id()),
        &gateway,
        source.id,
        None,
        text,
    );
    // From the number the source last heard from us on, when it is the same gateway.
    m.sender = last.filter(|l| l.gateway == gateway).and_then(|l| l.sender);
    st.store
        .write(
            &u.actor(),
            tocsin_store::Op::EnqueueSms(Box::new(m.clone())),
        )
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
    let u = user.require(Permission::SourceMessage)?;
    let source = st.store.get_source(parse_id(&id)?).await?;
    visible(u, source.tlp, ())?;
    let items = st.store.list_outbound(Some(source.id), 200).await?;
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
    let u = user.require(Permission::SituationRead)?;
    let q: PageQuery = parse_query(q.as_deref())?;
    let page = st
        .store
        .list_situations(u.clearance, page_req(&q.limit, &q.cursor)?)
        .await?;
    reads::list(
        &st,
        u,
        "situation",
        page.items.iter().map(|s| (s.id, s.tlp)),
    )
    .await?;
    Ok(Json(page))
}

/// `POST /api/v1/situations`
#[utoipa::path(post, path = "/api/v1/situations", request_body = NewSituation,
    responses((status = 201, body = Situation), (status = 422)), security(("bearer" = [])))]
pub async fn create_situation(
    State(st): State<AppState>,
    user: CurrentUser,
    JsonBody(input): JsonBody<NewSituation>,
) -> ApiResult<(StatusCode, Json<Situation>)> {
    let u = user.require(Permission::SituationWrite)?;
    let s = Situation::parse(input)?;
    Ok((
        StatusCode::CREATED,
        Json(st.store.create_situation(&u.actor(), s).await?),
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
    let u = user.require(Permission::SituationRead)?;
    let s = st.store.get_situation(parse_id(&id)?).await?;
    visible(u, s.tlp, ())?;
    reads::one(&st, u, "situation", s.id, s.tlp).await?;
    Ok(Json(s))
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
    user.require(Permission::AuditRead)?;
    let q: Q = parse_query(q.as_deref())?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let items = st.store.audit_entries(q.after.unwrap_or(0), limit).await?;
    Ok(Json(serde_json::json!({ "items": items })))
}

/// The OpenAPI document, generated from the handlers above.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "Tocsin API", description = "Atrocity early-warning and response. Every call needs `Authorization: Bearer TOKEN`."),
    paths(list_reports, create_report, get_report, list_incidents, create_incident, get_incident, update_incident,
          list_sources, get_source, get_source_contact, list_situations, create_situation, get_situation, me, audit,
          crate::export::export, crate::map::map, message_source, source_messages,
          crate::analysis::get_overview, crate::analysis::list_assessments, crate::analysis::post_assessment,
          crate::analysis::get_assessment, crate::analysis::patch_assessment, crate::analysis::review,
          crate::analysis::publish, crate::analysis::send_back, crate::analysis::get_suggestions,
          crate::analysis::decide, crate::analysis::factor_history, crate::analysis::list_legal,
          crate::analysis::post_legal, crate::analysis::get_incident_tags, crate::analysis::put_incident_tags,
          crate::analysis::get_report_tags, crate::analysis::put_report_tags, crate::analysis::list_signals,
          crate::analysis::latest_forecast, outbox_summary,
          crate::accounts::list_users, crate::accounts::create_user, crate::accounts::disable_user,
          crate::accounts::enable_user, crate::accounts::reset_password, crate::accounts::list_tokens,
          crate::accounts::issue_token, crate::accounts::revoke_token),
    components(schemas(Report, ReportInput, Incident, IncidentInput, IncidentPatch, Source, SourceContact, Situation,
                       NewSituation, Tlp, ReportPage, IncidentPage,
                       crate::accounts::UserView, crate::accounts::TokenView, crate::accounts::IssuedToken,
                       crate::accounts::CreatedUser, crate::accounts::NewUserInput,
                       crate::accounts::PasswordInput, crate::accounts::TokenInput)),
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
    user.require(Permission::AuditRead)?;
    Ok(Json(st.store.outbox_summary().await?))
}

/// `GET /api/v1/openapi.json`
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    use utoipa::OpenApi;
    Json(ApiDoc::openapi())
}
