//! The alerting API: desks, alert rules and alerts (`/api/v1/desks`, `/api/v1/alert-rules`,
//! `/api/v1/alerts`), and the job runner's escalation handler. Handlers parse, call the
//! application layer (`tocsin_app::{desks, rules, alerts}`) and translate its answer; who may
//! do what is decided there.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::sync::Arc;
use tocsin_app::alerts::{AlertQuery, AlertView, Move, RaiseAlert};
use tocsin_app::desks::DeskPatch;
use tocsin_domain::{Alert, AlertRule, CloseReason, Desk, NewAlertRule, NewDesk, PageRequest};
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::input::{non_empty, parse_query, JsonBody};
use crate::AppState;

fn parse_id(s: &str) -> ApiResult<Uuid> {
    Uuid::parse_str(s).map_err(|_| ApiError::field("id", "not a valid id"))
}

fn now() -> chrono::DateTime<chrono::Utc> {
    tocsin_domain::time::now()
}

/// The alerting routes, to nest under `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/desks", get(list_desks).post(create_desk))
        .route("/desks/{id}", get(get_desk).patch(patch_desk))
        .route("/alert-rules", get(list_rules).post(create_rule))
        .route("/alert-rules/{id}", get(get_rule).patch(patch_rule))
        .route("/alerts", get(list_alerts).post(raise_alert))
        .route("/alerts/{id}", get(get_alert))
        .route("/alerts/{id}/acknowledge", post(acknowledge))
        .route("/alerts/{id}/escalate", post(escalate))
        .route("/alerts/{id}/decide", post(decide))
        .route("/alerts/{id}/close", post(close))
}

/// `GET /api/v1/desks`: every desk (`{items}`), by name.
#[utoipa::path(get, path = "/api/v1/desks", responses((status = 200), (status = 403)),
    security(("bearer" = [])))]
pub async fn list_desks(State(st): State<AppState>, user: CurrentUser) -> ApiResult<Json<Value>> {
    let items = st.app().desks(&user.0).await?;
    Ok(Json(
        serde_json::json!({ "items": items, "next_cursor": null }),
    ))
}

/// `POST /api/v1/desks` (admins): `{name, department, members, countries, situations,
/// escalation: [{after, notify}], repeat, rota?}` → 201 with the desk (and its `id`). A policy
/// step that reaches nobody is refused (422 naming `escalation[i].notify`).
#[utoipa::path(post, path = "/api/v1/desks", request_body = NewDesk,
    responses((status = 201, body = Desk), (status = 400), (status = 403), (status = 409), (status = 422)),
    security(("bearer" = [])))]
pub async fn create_desk(
    State(st): State<AppState>,
    user: CurrentUser,
    JsonBody(n): JsonBody<NewDesk>,
) -> ApiResult<(StatusCode, Json<Desk>)> {
    let d = st.app().create_desk(&user.0, n, now()).await?;
    Ok((StatusCode::CREATED, Json(d)))
}

/// `GET /api/v1/desks/{id}`
#[utoipa::path(get, path = "/api/v1/desks/{id}", params(("id" = String, Path)),
    responses((status = 200, body = Desk), (status = 404)), security(("bearer" = [])))]
pub async fn get_desk(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Desk>> {
    Ok(Json(st.app().desk(&user.0, parse_id(&id)?).await?))
}

/// `PATCH /api/v1/desks/{id}` (admins): the fields given replace the desk's.
#[utoipa::path(patch, path = "/api/v1/desks/{id}", params(("id" = String, Path)), request_body = DeskPatch,
    responses((status = 200, body = Desk), (status = 403), (status = 404), (status = 422)),
    security(("bearer" = [])))]
pub async fn patch_desk(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(p): JsonBody<DeskPatch>,
) -> ApiResult<Json<Desk>> {
    let id = parse_id(&id)?;
    Ok(Json(st.app().update_desk(&user.0, id, p, now()).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleQuery {
    enabled: Option<String>,
}

/// `GET /api/v1/alert-rules[?enabled=true]`: the rules within the caller's clearance.
#[utoipa::path(get, path = "/api/v1/alert-rules",
    params(("enabled" = Option<bool>, Query, description = "only enabled rules")),
    responses((status = 200), (status = 400), (status = 403)), security(("bearer" = [])))]
pub async fn list_rules(
    State(st): State<AppState>,
    user: CurrentUser,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<Value>> {
    let q: RuleQuery = parse_query(q.as_deref())?;
    let enabled_only = match non_empty(&q.enabled) {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(ApiError::field("enabled", "expected true or false")),
    };
    let items = st.app().rules(&user.0, enabled_only).await?;
    Ok(Json(
        serde_json::json!({ "items": items, "next_cursor": null }),
    ))
}

/// `POST /api/v1/alert-rules` (admins): `{name, severity, ack_within, enabled, desk?, tlp?,
/// kind, …condition fields}` → 201 with the rule (and its `id`). A rule no desk answers for
/// is refused naming the field (`country`, `situation` or `desk`).
#[utoipa::path(post, path = "/api/v1/alert-rules", request_body = NewAlertRule,
    responses((status = 201, body = AlertRule), (status = 400), (status = 403), (status = 409), (status = 422)),
    security(("bearer" = [])))]
pub async fn create_rule(
    State(st): State<AppState>,
    user: CurrentUser,
    JsonBody(n): JsonBody<NewAlertRule>,
) -> ApiResult<(StatusCode, Json<AlertRule>)> {
    let r = st.app().create_rule(&user.0, n).await?;
    Ok((StatusCode::CREATED, Json(r)))
}

/// `GET /api/v1/alert-rules/{id}`
#[utoipa::path(get, path = "/api/v1/alert-rules/{id}", params(("id" = String, Path)),
    responses((status = 200, body = AlertRule), (status = 404)), security(("bearer" = [])))]
pub async fn get_rule(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<AlertRule>> {
    Ok(Json(st.app().rule(&user.0, parse_id(&id)?).await?))
}

/// `PATCH /api/v1/alert-rules/{id}` (admins): the rule's fields to replace (`null` removes an
/// optional one; `{"enabled": false}` disables it), with an optional `version` that must be
/// the stored one (409 otherwise).
#[utoipa::path(patch, path = "/api/v1/alert-rules/{id}", params(("id" = String, Path)),
    responses((status = 200, body = AlertRule), (status = 400), (status = 403), (status = 404), (status = 409), (status = 422)),
    security(("bearer" = [])))]
pub async fn patch_rule(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(patch): JsonBody<Map<String, Value>>,
) -> ApiResult<Json<AlertRule>> {
    let id = parse_id(&id)?;
    Ok(Json(st.app().update_rule(&user.0, id, patch).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    status: Option<String>,
    severity: Option<String>,
    desk: Option<String>,
    situation: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

fn opt_uuid(field: &str, v: &Option<String>) -> ApiResult<Option<Uuid>> {
    non_empty(v)
        .map(|s| Uuid::parse_str(s).map_err(|_| ApiError::field(field, "not a valid id")))
        .transpose()
}

/// A page of alerts.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct AlertPage {
    items: Vec<Alert>,
    next_cursor: Option<String>,
}

/// `GET /api/v1/alerts?status=&severity=&desk=&situation=&limit=&cursor=`: alerts within the
/// caller's clearance, newest first.
#[utoipa::path(get, path = "/api/v1/alerts", params(AlertQuery, crate::api::PageQuery),
    responses((status = 200, body = AlertPage), (status = 400), (status = 403)), security(("bearer" = [])))]
pub async fn list_alerts(
    State(st): State<AppState>,
    user: CurrentUser,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<tocsin_domain::Page<Alert>>> {
    let q: ListQuery = parse_query(q.as_deref())?;
    let limit = non_empty(&q.limit)
        .map(|l| {
            l.parse::<u32>()
                .map_err(|_| ApiError::field("limit", "expected a whole number"))
        })
        .transpose()?;
    let page = PageRequest::parse(limit, non_empty(&q.cursor)).map_err(|e| match e {
        tocsin_domain::DomainError::Invalid { field, message } => ApiError::field(field, message),
        e => ApiError::from(e),
    })?;
    let aq = AlertQuery {
        status: non_empty(&q.status).map(str::to_string),
        severity: non_empty(&q.severity).map(str::to_string),
        desk: opt_uuid("desk", &q.desk)?,
        situation: opt_uuid("situation", &q.situation)?,
    };
    Ok(Json(st.app().alerts(&user.0, &aq, page).await?))
}

/// `POST /api/v1/alerts` (analysts): raise an alert by hand, `{title, severity, tlp?,
/// situation?, country?, desk?, evidence?}` → 201 with the alert.
#[utoipa::path(post, path = "/api/v1/alerts", request_body = RaiseAlert,
    responses((status = 201, body = Alert), (status = 400), (status = 403), (status = 422)),
    security(("bearer" = [])))]
pub async fn raise_alert(
    State(st): State<AppState>,
    user: CurrentUser,
    JsonBody(r): JsonBody<RaiseAlert>,
) -> ApiResult<(StatusCode, Json<Alert>)> {
    let a = st.app().raise_alert(&user.0, r, now()).await?;
    Ok((StatusCode::CREATED, Json(a)))
}

/// `GET /api/v1/alerts/{id}`: the alert with its `timeline`.
#[utoipa::path(get, path = "/api/v1/alerts/{id}", params(("id" = String, Path)),
    responses((status = 200, body = AlertView), (status = 404)), security(("bearer" = [])))]
pub async fn get_alert(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<AlertView>> {
    Ok(Json(st.app().alert(&user.0, parse_id(&id)?).await?))
}

/// An optional body of a move (`{}` or none): nothing is read from it.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Empty {}

async fn act(st: &AppState, user: &CurrentUser, id: &str, m: Move) -> ApiResult<Json<AlertView>> {
    let id = parse_id(id)?;
    Ok(Json(st.app().move_alert(&user.0, id, m, now()).await?))
}

fn empty_body(body: &axum::body::Bytes) -> ApiResult<()> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    crate::input::parse_json::<Empty>(body).map(|_| ())
}

/// `POST /api/v1/alerts/{id}/acknowledge` (desk officers of the alert's desk): escalation
/// stops; nobody is paged again for it.
#[utoipa::path(post, path = "/api/v1/alerts/{id}/acknowledge", params(("id" = String, Path)),
    responses((status = 200, body = AlertView), (status = 403), (status = 404), (status = 409)),
    security(("bearer" = [])))]
pub async fn acknowledge(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<AlertView>> {
    empty_body(&body)?;
    act(&st, &user, &id, Move::Acknowledge).await
}

/// `POST /api/v1/alerts/{id}/escalate` (desk officers of the alert's desk): notify the next
/// step of the desk's policy now (only while open).
#[utoipa::path(post, path = "/api/v1/alerts/{id}/escalate", params(("id" = String, Path)),
    responses((status = 200, body = AlertView), (status = 403), (status = 404), (status = 409)),
    security(("bearer" = [])))]
pub async fn escalate(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<AlertView>> {
    empty_body(&body)?;
    act(&st, &user, &id, Move::Escalate).await
}

/// `POST /api/v1/alerts/{id}/decide` (desk officers of the alert's desk): the desk has
/// decided what to do (after acknowledgement).
#[utoipa::path(post, path = "/api/v1/alerts/{id}/decide", params(("id" = String, Path)),
    responses((status = 200, body = AlertView), (status = 403), (status = 404), (status = 409)),
    security(("bearer" = [])))]
pub async fn decide(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<AlertView>> {
    empty_body(&body)?;
    act(&st, &user, &id, Move::Decide).await
}

/// The body of `…/close`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseInput {
    /// `acted`, `false_alarm`, `duplicate` or `nothing_possible`.
    pub reason: Option<String>,
}

/// `POST /api/v1/alerts/{id}/close` (desk officers of the alert's desk): `{reason}`.
#[utoipa::path(post, path = "/api/v1/alerts/{id}/close", params(("id" = String, Path)), request_body = CloseInput,
    responses((status = 200, body = AlertView), (status = 400), (status = 403), (status = 404), (status = 409), (status = 422)),
    security(("bearer" = [])))]
pub async fn close(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(c): JsonBody<CloseInput>,
) -> ApiResult<Json<AlertView>> {
    let reason = non_empty(&c.reason)
        .map(|r| CloseReason::parse(r).map_err(|e| ApiError::field("reason", e.to_string())))
        .transpose()?;
    act(&st, &user, &id, Move::Close(reason)).await
}

/// The OpenAPI entries of the alerting routes (merged into the API's document).
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        list_desks,
        create_desk,
        get_desk,
        patch_desk,
        list_rules,
        create_rule,
        get_rule,
        patch_rule,
        list_alerts,
        raise_alert,
        get_alert,
        acknowledge,
        escalate,
        decide,
        close
    ),
    components(schemas(
        Desk,
        NewDesk,
        DeskPatch,
        AlertRule,
        NewAlertRule,
        Alert,
        AlertView,
        AlertPage,
        RaiseAlert,
        CloseInput
    ))
)]
pub struct AlertsDoc;

/// Fires escalation timers (`alert.escalate`) through [`tocsin_app::alerts::fire_escalation`].
pub struct EscalationHandler(pub AppState);

#[async_trait::async_trait]
impl tocsin_jobs::TimerHandler for EscalationHandler {
    async fn fire(&self, timer: &tocsin_store::Timer) -> Result<(), tocsin_jobs::JobError> {
        tocsin_app::alerts::fire_escalation(&self.0.app(), &timer.payload, now())
            .await
            .map_err(|e| tocsin_jobs::JobError::from(format!("escalation: {e}")))
    }
}

/// Register the escalation handler with a job runner (`tocsin serve` does).
pub fn register(runner: &mut tocsin_jobs::Runner, state: &AppState) {
    runner.on_timer(
        tocsin_app::alerts::ESCALATION_TIMER,
        Arc::new(EscalationHandler(state.clone())),
    );
}

/// How often the rule engine catches up with writes it was not woken for (the CLI's imports,
/// another server, this server's own background jobs).
pub const RULES_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// The rule engine's job (`rules`): one [`tocsin_app::engine::EngineDriver`] per process, run
/// as a singleton (one server evaluates at a time; another takes over, loading from the
/// store, after its lease lapses), every [`RULES_EVERY`] and at once when a write is served.
/// Each incident evaluation's cost is logged at debug level (`tocsin_server::alerts`,
/// `eval_ns`), for `scripts/bench-alert-latency.sh`.
pub fn rules_job(st: &AppState, tolerance: std::time::Duration) -> tocsin_jobs::Job {
    let driver = Arc::new(tokio::sync::Mutex::new(
        tocsin_app::engine::EngineDriver::new(),
    ));
    let state = st.clone();
    tocsin_jobs::Job::new("rules", RULES_EVERY, move || {
        let (st, driver) = (state.clone(), driver.clone());
        async move {
            let mut d = driver.lock().await;
            let r = d
                .pass(&st.app(), now())
                .await
                .map_err(|e| tocsin_jobs::JobError::from(format!("rule engine: {e}")))?;
            for e in &r.evaluations {
                tracing::debug!(eval_ns = e.as_nanos() as u64, "incident evaluated");
            }
            if r.loaded || r.fired > 0 {
                tracing::info!(
                    loaded = r.loaded,
                    incidents = r.incidents,
                    fired = r.fired,
                    opened = r.opened,
                    "rule engine pass"
                );
            }
            Ok(tocsin_jobs::Progress::done())
        }
    })
    .singleton()
    .woken_by(st.rules_wake.clone())
    .tolerance(tolerance)
    .backoff(tocsin_jobs::Backoff {
        base: std::time::Duration::from_secs(2),
        max: std::time::Duration::from_secs(30),
    })
}

/// Middleware: after a write this server served (a request other than GET, HEAD or OPTIONS
/// answered 2xx or 3xx), wake the rule engine's job, so a rule the write satisfies fires at
/// once rather than at the next catch-up. The one place every kind of write (incidents,
/// imports, reports by API, SMS or web form, assessments, rules) reaches the engine from.
pub async fn wake_rules(
    State(st): State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::Method;
    let write = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let res = next.run(req).await;
    if write && (res.status().is_success() || res.status().is_redirection()) {
        st.rules_wake.notify_one();
    }
    res
}
