//! Action plans over the JSON API: `GET, POST /api/v1/actions`, `GET, PATCH
//! /api/v1/actions/{id}`, a situation's suggested measures and its whole-of-government view;
//! and the job reminding leads of overdue actions. The rules are the application layer's
//! ([`tocsin_app::actions`]); handlers here parse, call and translate.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use std::time::Duration;
use tocsin_app::actions::{ActionQuery, ActionView, ResponseView, Suggestions};
use tocsin_domain::{Action, ActionPatch, NewAction, Page, PageRequest};
use tocsin_jobs::{Job, Progress};
use uuid::Uuid;

use crate::analysis::parse_id;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::input::{non_empty, parse_query, JsonBody};
use crate::AppState;

/// Query parameters of action lists.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ActionListQuery {
    /// Situation id.
    pub situation: Option<String>,
    /// `planned`, `in_progress`, `done` or `dropped`.
    pub status: Option<String>,
    /// Lead (username).
    pub lead: Option<String>,
    /// Desk id.
    pub desk: Option<String>,
    /// `true`: only actions past due and neither done nor dropped.
    pub overdue: Option<String>,
    /// Page size, 1–500 (default 50).
    pub limit: Option<String>,
    /// Cursor from the previous page.
    pub cursor: Option<String>,
}

fn id_field(field: &str, v: &Option<String>) -> ApiResult<Option<Uuid>> {
    non_empty(v)
        .map(|s| Uuid::parse_str(s).map_err(|_| ApiError::field(field, "not a valid id")))
        .transpose()
}

impl ActionListQuery {
    /// What the application layer is asked, and which page.
    pub fn to_query(&self) -> ApiResult<(ActionQuery, PageRequest)> {
        let overdue = match non_empty(&self.overdue) {
            None | Some("false") => false,
            Some("true") => true,
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
            ActionQuery {
                situation: id_field("situation", &self.situation)?,
                status: non_empty(&self.status).map(str::to_string),
                lead: non_empty(&self.lead).map(str::to_string),
                desk: id_field("desk", &self.desk)?,
                overdue,
            },
            page,
        ))
    }
}

/// One page of actions.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ActionPage {
    items: Vec<Action>,
    next_cursor: Option<String>,
}

/// `GET /api/v1/actions`: the actions of situations the caller may see, newest first.
#[utoipa::path(get, path = "/api/v1/actions", params(ActionListQuery),
    responses((status = 200, body = ActionPage), (status = 400)), security(("bearer" = [])))]
pub async fn list_actions(
    State(st): State<AppState>,
    user: CurrentUser,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<Page<Action>>> {
    let q: ActionListQuery = parse_query(q.as_deref())?;
    let (q, page) = q.to_query()?;
    Ok(Json(st.app().list_actions(&user.0, q, page).await?))
}

/// `POST /api/v1/actions`: record an action (admins, analysts, desk officers).
#[utoipa::path(post, path = "/api/v1/actions", request_body = NewAction,
    responses((status = 201, body = Action), (status = 403), (status = 422)), security(("bearer" = [])))]
pub async fn create_action(
    State(st): State<AppState>,
    user: CurrentUser,
    JsonBody(n): JsonBody<NewAction>,
) -> ApiResult<(StatusCode, Json<Action>)> {
    let a = st.app().create_action(&user.0, n).await?;
    Ok((StatusCode::CREATED, Json(a)))
}

/// `GET /api/v1/actions/{id}`: one action, with the reminders its lead was sent.
#[utoipa::path(get, path = "/api/v1/actions/{id}",
    responses((status = 200, body = ActionView), (status = 404)), security(("bearer" = [])))]
pub async fn get_action(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<ActionView>> {
    Ok(Json(st.app().get_action(&user.0, parse_id(&id)?).await?))
}

/// `PATCH /api/v1/actions/{id}`: change an action (a move the workflow refuses: 409; done or
/// dropped without an outcome: 422 naming `outcome`).
#[utoipa::path(patch, path = "/api/v1/actions/{id}", request_body = ActionPatch,
    responses((status = 200, body = Action), (status = 403), (status = 404), (status = 409), (status = 422)),
    security(("bearer" = [])))]
pub async fn patch_action(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(p): JsonBody<ActionPatch>,
) -> ApiResult<Json<Action>> {
    Ok(Json(
        st.app().patch_action(&user.0, parse_id(&id)?, p).await?,
    ))
}

/// Whether an action is shared with partner organisations, and under which label.
#[derive(Debug, serde::Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionShare {
    /// The label it crosses under (`TLP:CLEAR`, `TLP:GREEN` or `TLP:AMBER`; the higher of it
    /// and its situation's), or null: not shared.
    pub tlp: Option<String>,
}

/// `GET /api/v1/actions/{id}/share`: whether the action is shared with partners.
#[utoipa::path(get, path = "/api/v1/actions/{id}/share",
    responses((status = 200, body = ActionShare), (status = 404)), security(("bearer" = [])))]
pub async fn get_action_share(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<ActionShare>> {
    let t = st.app().action_sharing(&user.0, parse_id(&id)?).await?;
    Ok(Json(ActionShare {
        tlp: t.map(|t| t.as_str().to_string()),
    }))
}

/// `PUT /api/v1/actions/{id}/share`: share the action with partner organisations under a
/// label, or no longer (`{"tlp": null}`); admins and analysts. A label above TLP:AMBER or the
/// caller's clearance: 422 naming `tlp`.
#[utoipa::path(put, path = "/api/v1/actions/{id}/share", request_body = ActionShare,
    responses((status = 200, body = ActionShare), (status = 400), (status = 403), (status = 404),
        (status = 422)), security(("bearer" = [])))]
pub async fn put_action_share(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<ActionShare>,
) -> ApiResult<Json<ActionShare>> {
    let id = parse_id(&id)?;
    let tlp = match b.tlp.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(t) => Some(t.parse::<tocsin_domain::Tlp>().map_err(|_| {
            tocsin_app::AppError::bad_field("tlp", "expected a TLP label, e.g. TLP:GREEN")
        })?),
    };
    let app = st.app();
    app.set_action_sharing(&user.0, id, tlp).await?;
    let t = app.action_sharing(&user.0, id).await?;
    Ok(Json(ActionShare {
        tlp: t.map(|t| t.as_str().to_string()),
    }))
}

/// `GET /api/v1/situations/{id}/suggested-measures`: toolbox measures for the risk factors at
/// high or severe in the latest published assessment.
#[utoipa::path(get, path = "/api/v1/situations/{id}/suggested-measures",
    responses((status = 200, body = Suggestions), (status = 404)), security(("bearer" = [])))]
pub async fn suggested_measures(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Suggestions>> {
    Ok(Json(
        st.app().suggested_measures(&user.0, parse_id(&id)?).await?,
    ))
}

/// `GET /api/v1/situations/{id}/response`: the whole-of-government view (departments × risk
/// factors, the actions in each cell, the gaps).
#[utoipa::path(get, path = "/api/v1/situations/{id}/response",
    responses((status = 200, body = ResponseView), (status = 404)), security(("bearer" = [])))]
pub async fn response_view(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<ResponseView>> {
    Ok(Json(st.app().response_view(&user.0, parse_id(&id)?).await?))
}

/// The OpenAPI document of these routes (merged into the API's).
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        list_actions,
        create_action,
        get_action,
        patch_action,
        get_action_share,
        put_action_share,
        suggested_measures,
        response_view
    ),
    components(schemas(
        Action,
        NewAction,
        ActionPatch,
        ActionPage,
        ActionView,
        Suggestions,
        ResponseView,
        ActionShare
    ))
)]
pub struct ActionsDoc;

/// The routes, to nest under `/api/v1`.
pub fn routes() -> axum::Router<AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route("/actions", get(list_actions).post(create_action))
        .route("/actions/{id}", get(get_action).patch(patch_action))
        .route(
            "/actions/{id}/share",
            get(get_action_share).put(put_action_share),
        )
        .route(
            "/situations/{id}/suggested-measures",
            get(suggested_measures),
        )
        .route("/situations/{id}/response", get(response_view))
}

/// The `action-reminders` job: every `every`, remind the lead of each overdue action once per
/// due date ([`tocsin_app::App::remind_overdue_actions`]). A singleton, though a second
/// server running it would only meet the reminders already recorded.
pub fn overdue_job(st: &AppState, every: Duration, tolerance: Duration) -> Job {
    let st = st.clone();
    Job::new("action-reminders", every, move || {
        let st = st.clone();
        async move {
            let today = tocsin_domain::time::now().date_naive();
            st.app()
                .remind_overdue_actions(today)
                .await
                .map(|_| Progress::done())
                .map_err(|e| format!("could not remind leads of overdue actions: {e}").into())
        }
    })
    .singleton()
    .tolerance(tolerance)
}
