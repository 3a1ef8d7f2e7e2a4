//! Evidence suggestions in bulk over the JSON API: `GET
//! /api/v1/assessments/{id}/suggestion-groups` (grouped by indicator with counts, rules that
//! fire on most incidents set apart) and `POST /api/v1/assessments/{id}/suggestions/bulk`
//! (accept or dismiss a list, or all of an indicator, in one write). The rules are the
//! application layer's ([`tocsin_app::assessments`]).

use axum::extract::{Path, State};
use axum::Json;
use serde::Serialize;
use tocsin_app::assessments::{BulkDecision, BulkItem, SuggestionsView};
use tocsin_domain::{Assessment, GenericRuleGroup, SuggestionGroup};

use crate::analysis::parse_id;
use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::input::JsonBody;
use crate::AppState;

/// What a bulk decision did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BulkOutcome {
    /// How many suggestions were newly decided.
    pub decided: usize,
    /// The assessment after the decision (the evidence the caller may see).
    pub assessment: Assessment,
}

/// `GET /api/v1/assessments/{id}/suggestion-groups`: the pending suggestions by indicator,
/// with counts; those of a rule firing on most incidents flagged and set apart.
#[utoipa::path(get, path = "/api/v1/assessments/{id}/suggestion-groups",
    responses((status = 200, body = SuggestionsView), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn groups(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<SuggestionsView>> {
    Ok(Json(
        st.app()
            .suggestion_groups_for(&user.0, parse_id(&id)?)
            .await?,
    ))
}

/// `POST /api/v1/assessments/{id}/suggestions/bulk`: accept or dismiss the suggestions listed
/// in `items` and/or every pending one for `indicator` (of the rule `why`), in one write.
#[utoipa::path(post, path = "/api/v1/assessments/{id}/suggestions/bulk", request_body = BulkDecision,
    responses((status = 200, body = BulkOutcome), (status = 400), (status = 403), (status = 404), (status = 422)),
    security(("bearer" = [])))]
pub async fn bulk(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(d): JsonBody<BulkDecision>,
) -> ApiResult<Json<BulkOutcome>> {
    let (assessment, decided) = st
        .app()
        .decide_suggestions(&user.0, parse_id(&id)?, d)
        .await?;
    Ok(Json(BulkOutcome {
        decided,
        assessment,
    }))
}

/// The OpenAPI document of these routes (merged into the API's).
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(groups, bulk),
    components(schemas(
        SuggestionsView,
        SuggestionGroup,
        GenericRuleGroup,
        BulkDecision,
        BulkItem,
        BulkOutcome
    ))
)]
pub struct SuggestionsDoc;

/// The routes, to nest under `/api/v1`.
pub fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/assessments/{id}/suggestion-groups", get(groups))
        .route("/assessments/{id}/suggestions/bulk", post(bulk))
}
