//! Broadcasts over the JSON API: `GET, POST /api/v1/broadcasts`, `POST
//! /api/v1/broadcasts/estimate`, `GET /api/v1/broadcasts/{id}`, `POST …/{id}/approve`,
//! `…/cancel`, `…/correct`, `GET, PUT /api/v1/broadcasts/stop`; and the `broadcasts` job that
//! sends them. The rules are the application layer's ([`tocsin_app::broadcasts`]); handlers
//! parse, call and translate. Answers carry counts, never a number or a subscriber.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tocsin_app::broadcasts::{
    BroadcastEstimate, BroadcastInput, BroadcastView, Created, GatewayTime,
};
use tocsin_delivery::broadcast::Pacer;
use tocsin_domain::StopSwitch;
use tocsin_jobs::{Job, Progress};

use crate::analysis::parse_id;
use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::input::{parse_json, JsonBody};
use crate::AppState;

/// `POST /api/v1/broadcasts`: write a broadcast, pending a second person's approval
/// (analysts, monitor coordinators). Answers its id and how many it will reach.
#[utoipa::path(post, path = "/api/v1/broadcasts", request_body = BroadcastInput,
    responses((status = 201, body = Created), (status = 400), (status = 403), (status = 422)),
    security(("bearer" = [])))]
pub async fn create_broadcast(
    State(st): State<AppState>,
    user: CurrentUser,
    JsonBody(b): JsonBody<BroadcastInput>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let c = st.app().compose_broadcast(&user.0, b).await?;
    Ok((StatusCode::CREATED, Json(c)))
}

/// What the composer asks before writing.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EstimateInput {
    /// `test` or `live`.
    pub mode: String,
    /// The area, as for a broadcast.
    #[schema(value_type = Object)]
    pub area: serde_json::Value,
    /// Texts per language (measured as SMS).
    #[serde(default)]
    pub texts: BTreeMap<String, String>,
}

/// `POST /api/v1/broadcasts/estimate`: how many a broadcast would reach, the area in km² and
/// the time to send at the gateway's pace (counts only).
#[utoipa::path(post, path = "/api/v1/broadcasts/estimate", request_body = EstimateInput,
    responses((status = 200, body = BroadcastEstimate), (status = 403), (status = 422)),
    security(("bearer" = [])))]
pub async fn estimate(
    State(st): State<AppState>,
    user: CurrentUser,
    JsonBody(e): JsonBody<EstimateInput>,
) -> ApiResult<Json<BroadcastEstimate>> {
    Ok(Json(
        st.app()
            .estimate_broadcast(&user.0, &e.mode, &e.area, &e.texts)
            .await?,
    ))
}

/// `GET /api/v1/broadcasts`: the newest broadcasts with their counts.
#[utoipa::path(get, path = "/api/v1/broadcasts",
    responses((status = 200, body = Vec<BroadcastView>), (status = 403)), security(("bearer" = [])))]
pub async fn list_broadcasts(
    State(st): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<Vec<BroadcastView>>> {
    Ok(Json(st.app().list_broadcasts(&user.0).await?))
}

/// `GET /api/v1/broadcasts/{id}`: one broadcast with its counts (queued, sent, delivered,
/// failed…).
#[utoipa::path(get, path = "/api/v1/broadcasts/{id}",
    responses((status = 200, body = BroadcastView), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn get_broadcast(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<BroadcastView>> {
    Ok(Json(st.app().get_broadcast(&user.0, parse_id(&id)?).await?))
}

/// `POST /api/v1/broadcasts/{id}/approve`: approve someone else's broadcast (its author:
/// 403, whatever their role; twice: 409); its recipients are fixed in the same write.
#[utoipa::path(post, path = "/api/v1/broadcasts/{id}/approve",
    responses((status = 200, body = BroadcastView), (status = 403), (status = 404), (status = 409)),
    security(("bearer" = [])))]
pub async fn approve(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<BroadcastView>> {
    Ok(Json(
        st.app().approve_broadcast(&user.0, parse_id(&id)?).await?,
    ))
}

/// An optional JSON body: none when empty, else parsed strictly (4xx naming the field).
fn optional_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> ApiResult<Option<T>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    parse_json(body).map(Some)
}

/// Body of `…/cancel` (optional).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelInput {
    /// Why.
    #[serde(default)]
    pub reason: Option<String>,
}

/// `POST /api/v1/broadcasts/{id}/cancel`: cancel before or while sending (a sent one: 409).
#[utoipa::path(post, path = "/api/v1/broadcasts/{id}/cancel", request_body = CancelInput,
    responses((status = 200, body = BroadcastView), (status = 403), (status = 404), (status = 409)),
    security(("bearer" = [])))]
pub async fn cancel(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<BroadcastView>> {
    let reason = optional_body::<CancelInput>(&body)?.and_then(|b| b.reason);
    Ok(Json(
        st.app()
            .cancel_broadcast(&user.0, parse_id(&id)?, reason)
            .await?,
    ))
}

/// Body of `…/correct` (optional: without texts, each is the original's, marked as a
/// correction).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrectInput {
    /// The correction's texts per language.
    #[serde(default)]
    pub texts: Option<BTreeMap<String, String>>,
}

/// `POST /api/v1/broadcasts/{id}/correct`: prepare a correction of a broadcast that went out,
/// to the same recipients, pending a second approval. 201 with the new broadcast's id.
#[utoipa::path(post, path = "/api/v1/broadcasts/{id}/correct", request_body = CorrectInput,
    responses((status = 201, body = Created), (status = 403), (status = 404), (status = 409), (status = 422)),
    security(("bearer" = [])))]
pub async fn correct(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let texts = optional_body::<CorrectInput>(&body)?.and_then(|b| b.texts);
    let c = st
        .app()
        .correct_broadcast(&user.0, parse_id(&id)?, texts)
        .await?;
    Ok((StatusCode::CREATED, Json(c)))
}

/// The stop switch as the API shows it.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StopState {
    /// On: no broadcast message leaves.
    pub on: bool,
    /// The last change, if any.
    pub last: Option<StopSwitch>,
}

/// `GET /api/v1/broadcasts/stop`: the global stop switch.
#[utoipa::path(get, path = "/api/v1/broadcasts/stop",
    responses((status = 200, body = StopState), (status = 403)), security(("bearer" = [])))]
pub async fn get_stop(State(st): State<AppState>, user: CurrentUser) -> ApiResult<Json<StopState>> {
    let last = st.app().stop_switch(&user.0).await?;
    Ok(Json(StopState {
        on: last.as_ref().is_some_and(|s| s.on),
        last,
    }))
}

/// Body of `PUT /api/v1/broadcasts/stop`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StopInput {
    /// On (halt all broadcasting at once) or off.
    pub on: bool,
    /// Why.
    #[serde(default)]
    pub reason: Option<String>,
}

/// `PUT /api/v1/broadcasts/stop`: turn the global stop switch on or off (admins; audited).
#[utoipa::path(put, path = "/api/v1/broadcasts/stop", request_body = StopInput,
    responses((status = 200, body = StopState), (status = 403)), security(("bearer" = [])))]
pub async fn set_stop(
    State(st): State<AppState>,
    user: CurrentUser,
    JsonBody(b): JsonBody<StopInput>,
) -> ApiResult<Json<StopState>> {
    let s = st.app().set_stop_switch(&user.0, b.on, b.reason).await?;
    Ok(Json(StopState {
        on: s.on,
        last: Some(s),
    }))
}

/// The OpenAPI document of these routes (merged into the API's).
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        create_broadcast,
        estimate,
        list_broadcasts,
        get_broadcast,
        approve,
        cancel,
        correct,
        get_stop,
        set_stop
    ),
    components(schemas(
        BroadcastInput,
        BroadcastView,
        BroadcastEstimate,
        GatewayTime,
        Created,
        EstimateInput,
        CancelInput,
        CorrectInput,
        StopState,
        StopInput,
        StopSwitch,
        tocsin_domain::Broadcast,
        tocsin_domain::BroadcastEvent,
        tocsin_domain::BroadcastAnswers,
        tocsin_domain::BroadcastMode,
        tocsin_domain::BroadcastState,
        tocsin_domain::RecipientCounts,
        tocsin_domain::SmsLength,
        tocsin_domain::SmsEncoding
    ))
)]
pub struct BroadcastsDoc;

/// The routes, to nest under `/api/v1`.
pub fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/broadcasts", get(list_broadcasts).post(create_broadcast))
        .route("/broadcasts/estimate", post(estimate))
        .route("/broadcasts/stop", get(get_stop).put(set_stop))
        .route("/broadcasts/{id}", get(get_broadcast))
        .route("/broadcasts/{id}/approve", post(approve))
        .route("/broadcasts/{id}/cancel", post(cancel))
        .route("/broadcasts/{id}/correct", post(correct))
}

/// How long one run of the `broadcasts` job sends before it reports and runs again.
const PASS_BUDGET: Duration = Duration::from_secs(2);

/// The `broadcasts` job: start approved broadcasts whose time came, send each sending one at
/// its gateway's pace (every message checked just before it leaves), mark finished ones
/// sent. A singleton: one server sends at a time. Runs every second, and at once again while
/// messages are waiting.
pub fn sender_job(st: &AppState, tolerance: Duration) -> Job {
    let st = st.clone();
    let pacer = Arc::new(Pacer::default());
    Job::new("broadcasts", Duration::from_secs(1), move || {
        let (st, pacer) = (st.clone(), pacer.clone());
        async move {
            let app = st.app();
            let sending = app
                .advance_broadcasts(tocsin_domain::time::now())
                .await
                .map_err(|e| format!("could not move broadcasts on: {e}"))?;
            if sending.is_empty() {
                return Ok(Progress::done());
            }
            let gateway = app
                .broadcast_gateway()
                .ok_or("no SMS gateway is configured for broadcasts")?;
            let rate = st.broadcasting.rate(&gateway);
            let mut more = false;
            for b in &sending {
                let pass = st
                    .delivery
                    .send_broadcast(
                        b,
                        &gateway,
                        rate,
                        st.broadcasting.sender.as_deref(),
                        PASS_BUDGET,
                        &pacer,
                    )
                    .await?;
                if pass.stopped {
                    return Ok(Progress::done());
                }
                more |= pass.more;
            }
            Ok(Progress {
                backlog: None,
                more,
            })
        }
    })
    .singleton()
    .tolerance(tolerance)
}
