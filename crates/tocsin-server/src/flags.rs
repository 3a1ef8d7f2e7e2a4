//! Dangerous-speech flags over the JSON API: `GET /api/v1/speech/flags` (filters `state`,
//! `lexicon`, `category`), `GET /api/v1/speech/flags/{id}` and `POST …/{id}/review`. A flag is
//! shown only to a reader of reports cleared for its report's label; the rules are the
//! application layer's ([`tocsin_app::flags`]); handlers parse, call and translate.

use axum::extract::{Path, RawQuery, State};
use axum::Json;
use serde::Deserialize;
use tocsin_app::flags::FlagQuery;
use tocsin_domain::{
    FlagReview, FlagReviewInput, FlagState, FlagTerm, Hallmark, Page, PageRequest, SpeechFlag,
};

use crate::analysis::parse_id;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::input::{non_empty, parse_query, JsonBody};
use crate::AppState;

/// Query parameters of the flag list.
#[derive(Debug, Default, Deserialize, serde::Serialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FlagListQuery {
    /// `open`, `confirmed` or `dismissed`.
    pub state: Option<String>,
    /// A lexicon's name.
    pub lexicon: Option<String>,
    /// A term category: `dehumanisation`, `threat`, `incitement`, `slur`, `coded term`.
    pub category: Option<String>,
    /// Page size, 1–500 (default 50).
    pub limit: Option<String>,
    /// Cursor from the previous page.
    pub cursor: Option<String>,
}

impl FlagListQuery {
    /// What the application layer is asked, and which page.
    pub fn to_query(&self) -> ApiResult<(FlagQuery, PageRequest)> {
        let limit = non_empty(&self.limit)
            .map(|l| {
                l.parse::<u32>()
                    .map_err(|_| ApiError::field("limit", "expected a whole number"))
            })
            .transpose()?;
        let page = PageRequest::parse(limit, non_empty(&self.cursor))
            .map_err(|e| ApiError::field(e.field().unwrap_or("cursor"), e.to_string()))?;
        Ok((
            FlagQuery {
                state: non_empty(&self.state).map(str::to_string),
                lexicon: non_empty(&self.lexicon).map(str::to_string),
                category: non_empty(&self.category).map(str::to_string),
            },
            page,
        ))
    }
}

/// One page of flags.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct FlagPage {
    items: Vec<SpeechFlag>,
    next_cursor: Option<String>,
}

/// `GET /api/v1/speech/flags`: the flags the caller may see (readers of reports, at their
/// clearance), newest first: each with its report's id, the lexicon and version, the terms
/// with their category, severity and offsets in the original text, and its review state.
#[utoipa::path(get, path = "/api/v1/speech/flags", params(FlagListQuery),
    responses((status = 200, body = FlagPage), (status = 400), (status = 403), (status = 422)),
    security(("bearer" = [])))]
pub async fn list_flags(
    State(st): State<AppState>,
    user: CurrentUser,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<Page<SpeechFlag>>> {
    let q: FlagListQuery = parse_query(q.as_deref())?;
    let (q, page) = q.to_query()?;
    Ok(Json(st.app().list_flags(&user.0, q, page).await?))
}

/// `GET /api/v1/speech/flags/{id}`: one flag (404 above the caller's clearance).
#[utoipa::path(get, path = "/api/v1/speech/flags/{id}",
    responses((status = 200, body = SpeechFlag), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn get_flag(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<SpeechFlag>> {
    Ok(Json(st.app().get_flag(&user.0, parse_id(&id)?).await?))
}

/// `POST /api/v1/speech/flags/{id}/review`: confirm or dismiss a flag (analysts), annotated
/// along the Dangerous Speech Project's five elements (`message`, `audience`, `context`,
/// `speaker`, `medium`: free text) and its `hallmarks` (`dehumanisation`,
/// `accusation_in_a_mirror`, `threat_to_group_purity`, `attack_on_women_and_girls`,
/// `questioning_in_group_loyalty`). A confirmation needs at least one element; a dismissal
/// names no hallmark. 422 names the field; 409 when `expected_version` is not the flag's.
#[utoipa::path(post, path = "/api/v1/speech/flags/{id}/review", request_body = FlagReviewInput,
    responses((status = 200, body = SpeechFlag), (status = 400), (status = 403), (status = 404),
        (status = 409), (status = 422)),
    security(("bearer" = [])))]
pub async fn review_flag(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<FlagReviewInput>,
) -> ApiResult<Json<SpeechFlag>> {
    Ok(Json(
        st.app().review_flag(&user.0, parse_id(&id)?, input).await?,
    ))
}

/// The flag routes' part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(list_flags, get_flag, review_flag),
    components(schemas(
        FlagPage,
        SpeechFlag,
        FlagTerm,
        FlagState,
        FlagReview,
        FlagReviewInput,
        Hallmark
    ))
)]
pub struct FlagsDoc;

/// The routes, to nest under `/api/v1`.
pub fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/speech/flags", get(list_flags))
        .route("/speech/flags/{id}", get(get_flag))
        .route("/speech/flags/{id}/review", post(review_flag))
}
