//! Dangerous-speech lexicons over the JSON API: `GET /api/v1/lexicons`, `GET, PUT
//! /api/v1/lexicons/{name}` (the body is the CSV file), `POST …/{name}/evaluations` (the body
//! is the labelled sample), `POST …/{name}/enable`, `…/disable`. The rules are the application
//! layer's ([`tocsin_app::speech`]); handlers parse, call and translate. Files larger than the
//! API's body limit are imported with `tocsin lexicon import`.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use tocsin_app::speech::{LexiconImport, LexiconSummary};
use tocsin_store::{LexiconEvaluation, LexiconRecord};

use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::input::parse_query;
use crate::AppState;

/// `GET /api/v1/lexicons`: every lexicon with its current version's latest evaluation
/// (admins, analysts).
#[utoipa::path(get, path = "/api/v1/lexicons",
    responses((status = 200, body = Vec<LexiconSummary>), (status = 403)), security(("bearer" = [])))]
pub async fn list_lexicons(
    State(st): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<Vec<LexiconSummary>>> {
    Ok(Json(st.app().list_lexicons((&user.0).into()).await?))
}

/// A lexicon with every evaluation, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LexiconView {
    /// The lexicon.
    pub lexicon: LexiconRecord,
    /// Its evaluations (every version), newest first.
    pub evaluations: Vec<LexiconEvaluation>,
}

/// `GET /api/v1/lexicons/{name}`: one lexicon and its evaluations.
#[utoipa::path(get, path = "/api/v1/lexicons/{name}",
    responses((status = 200, body = LexiconView), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn get_lexicon(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(name): Path<String>,
) -> ApiResult<Json<LexiconView>> {
    let (lexicon, evaluations) = st.app().lexicon_detail((&user.0).into(), &name).await?;
    Ok(Json(LexiconView {
        lexicon,
        evaluations,
    }))
}

/// Query parameters of an import.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// Where the lexicon comes from.
    pub provenance: Option<String>,
    /// The licence it comes under.
    pub licence: Option<String>,
    /// The file's name, kept for the record.
    pub file_name: Option<String>,
}

/// `PUT /api/v1/lexicons/{name}`: import a lexicon; the body is its CSV file
/// (`term,language,country,category,severity`, further columns optional). A name already
/// taken gets its next version, disabled until evaluated. 422 names the line and column of
/// the first wrong row; nothing is stored then.
#[utoipa::path(put, path = "/api/v1/lexicons/{name}", params(ImportQuery),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = LexiconRecord), (status = 403), (status = 422)),
    security(("bearer" = [])))]
pub async fn import_lexicon(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> ApiResult<Json<LexiconRecord>> {
    let q: ImportQuery = parse_query(q.as_deref())?;
    let what = LexiconImport {
        name,
        file_name: q.file_name,
        provenance: q.provenance,
        licence: q.licence,
    };
    Ok(Json(
        st.app()
            .import_lexicon((&user.0).into(), what, &body[..])
            .await?,
    ))
}

/// Query parameters of an evaluation.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct EvaluateQuery {
    /// The sample's name, kept with the evaluation.
    pub sample: Option<String>,
}

/// `POST /api/v1/lexicons/{name}/evaluations`: measure the lexicon's current version on a
/// labelled sample, the body (CSV `text,label[,language]`, label 1 or 0): precision and
/// recall with Wilson 95 % intervals, stored and answered.
#[utoipa::path(post, path = "/api/v1/lexicons/{name}/evaluations", params(EvaluateQuery),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = LexiconEvaluation), (status = 403), (status = 404), (status = 422)),
    security(("bearer" = [])))]
pub async fn evaluate_lexicon(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> ApiResult<Json<LexiconEvaluation>> {
    let q: EvaluateQuery = parse_query(q.as_deref())?;
    let sample = q.sample.unwrap_or_else(|| "sample".into());
    Ok(Json(
        st.app()
            .evaluate_lexicon((&user.0).into(), &name, &sample, &body[..])
            .await?,
    ))
}

/// `POST /api/v1/lexicons/{name}/enable`: scan incoming text with the lexicon. 409 while its
/// current version has no evaluation.
#[utoipa::path(post, path = "/api/v1/lexicons/{name}/enable",
    responses((status = 200, body = LexiconRecord), (status = 403), (status = 404), (status = 409)),
    security(("bearer" = [])))]
pub async fn enable(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(name): Path<String>,
) -> ApiResult<Json<LexiconRecord>> {
    Ok(Json(
        st.app()
            .set_lexicon_enabled((&user.0).into(), &name, true)
            .await?,
    ))
}

/// `POST /api/v1/lexicons/{name}/disable`: stop scanning with the lexicon.
#[utoipa::path(post, path = "/api/v1/lexicons/{name}/disable",
    responses((status = 200, body = LexiconRecord), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn disable(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(name): Path<String>,
) -> ApiResult<Json<LexiconRecord>> {
    Ok(Json(
        st.app()
            .set_lexicon_enabled((&user.0).into(), &name, false)
            .await?,
    ))
}

/// The lexicon routes' part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        list_lexicons,
        get_lexicon,
        import_lexicon,
        evaluate_lexicon,
        enable,
        disable
    ),
    components(schemas(
        LexiconSummary,
        LexiconView,
        LexiconRecord,
        LexiconEvaluation,
        tocsin_store::Figures
    ))
)]
pub struct LexiconsDoc;

/// The routes, to nest under `/api/v1`.
pub fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/lexicons", get(list_lexicons))
        .route("/lexicons/{name}", get(get_lexicon).put(import_lexicon))
        .route("/lexicons/{name}/evaluations", post(evaluate_lexicon))
        .route("/lexicons/{name}/enable", post(enable))
        .route("/lexicons/{name}/disable", post(disable))
}
