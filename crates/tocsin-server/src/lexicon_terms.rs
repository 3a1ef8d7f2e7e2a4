//! A lexicon's terms over the JSON API, and analysts' edits of them: `GET, POST
//! /api/v1/lexicons/{name}/terms` (a page of terms; add one), `PATCH, DELETE
//! /api/v1/lexicons/{name}/terms/{language}/{term}` (change one; remove one; `?country=` when
//! the term is for one country), `GET /api/v1/lexicons/{name}/history` (the term edits). Each
//! edit makes the lexicon's next version, disabled until evaluated. The rules are the
//! application layer's ([`tocsin_app::lexicon_terms`]).

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use tocsin_app::lexicon_terms::{NewTerm, TermKey, TermPage, TermPatch, TermView};
use tocsin_store::{LexiconRecord, TermAction, TermChange, TermEdit};

use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::input::{parse_query, JsonBody};
use crate::AppState;

/// Query parameters of a page of terms.
#[derive(Debug, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TermsQuery {
    /// Position of the first term (0-based; default 0).
    pub offset: Option<u64>,
    /// How many terms (1–500; default 100).
    pub limit: Option<usize>,
}

/// `GET /api/v1/lexicons/{name}/terms`: a page of the current version's terms, in file order.
#[utoipa::path(get, path = "/api/v1/lexicons/{name}/terms", params(TermsQuery),
    responses((status = 200, body = TermPage), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn list_terms(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<TermPage>> {
    let q: TermsQuery = parse_query(q.as_deref())?;
    Ok(Json(
        st.app()
            .lexicon_terms(
                (&user.0).into(),
                &name,
                q.offset.unwrap_or(0),
                q.limit.unwrap_or(100),
            )
            .await?,
    ))
}

/// What an edit answers: the lexicon's new version (disabled until evaluated) and the edit
/// as kept in its history.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TermEdited {
    /// The lexicon at its new version.
    pub lexicon: LexiconRecord,
    /// The edit.
    pub edit: TermEdit,
}

/// `POST /api/v1/lexicons/{name}/terms`: add a term (422 naming the field; 409 when
/// `version` is given and the lexicon has moved on).
#[utoipa::path(post, path = "/api/v1/lexicons/{name}/terms", request_body = NewTerm,
    responses((status = 201, body = TermEdited), (status = 403), (status = 404), (status = 409), (status = 422)),
    security(("bearer" = [])))]
pub async fn add_term(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(name): Path<String>,
    JsonBody(n): JsonBody<NewTerm>,
) -> ApiResult<(StatusCode, Json<TermEdited>)> {
    let (lexicon, edit) = st
        .app()
        .add_lexicon_term((&user.0).into(), &name, n)
        .await?;
    Ok((StatusCode::CREATED, Json(TermEdited { lexicon, edit })))
}

/// Query parameters naming a term's country and the version edited.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TermQuery {
    /// The term's country (ISO 3166 alpha-2); absent: a term for any country.
    pub country: Option<String>,
    /// The lexicon version the edit was made on (409 when it has moved on).
    pub version: Option<i64>,
}

fn key(language: String, term: String, country: Option<String>) -> TermKey {
    TermKey {
        term,
        language,
        country,
    }
}

/// `GET /api/v1/lexicons/{name}/terms/{language}/{term}`: one term.
#[utoipa::path(get, path = "/api/v1/lexicons/{name}/terms/{language}/{term}", params(TermQuery),
    responses((status = 200, body = TermView), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn get_term(
    State(st): State<AppState>,
    user: CurrentUser,
    Path((name, language, term)): Path<(String, String, String)>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<TermView>> {
    let q: TermQuery = parse_query(q.as_deref())?;
    let (_, t) = st
        .app()
        .lexicon_term((&user.0).into(), &name, &key(language, term, q.country))
        .await?;
    Ok(Json(t))
}

/// `PATCH /api/v1/lexicons/{name}/terms/{language}/{term}`: change a term's category,
/// severity, meanings, ambiguity, variants, transliterations or alternative (the fields given;
/// an empty text clears it). A change that changes nothing is 422.
#[utoipa::path(patch, path = "/api/v1/lexicons/{name}/terms/{language}/{term}", params(TermQuery),
    request_body = TermPatch,
    responses((status = 200, body = TermEdited), (status = 403), (status = 404), (status = 409), (status = 422)),
    security(("bearer" = [])))]
pub async fn change_term(
    State(st): State<AppState>,
    user: CurrentUser,
    Path((name, language, term)): Path<(String, String, String)>,
    RawQuery(q): RawQuery,
    JsonBody(mut p): JsonBody<TermPatch>,
) -> ApiResult<Json<TermEdited>> {
    let q: TermQuery = parse_query(q.as_deref())?;
    p.version = p.version.or(q.version);
    let (lexicon, edit) = st
        .app()
        .change_lexicon_term((&user.0).into(), &name, &key(language, term, q.country), p)
        .await?;
    Ok(Json(TermEdited { lexicon, edit }))
}

/// `DELETE /api/v1/lexicons/{name}/terms/{language}/{term}`: remove a term (the last one
/// cannot be: 422).
#[utoipa::path(delete, path = "/api/v1/lexicons/{name}/terms/{language}/{term}", params(TermQuery),
    responses((status = 200, body = TermEdited), (status = 403), (status = 404), (status = 409), (status = 422)),
    security(("bearer" = [])))]
pub async fn remove_term(
    State(st): State<AppState>,
    user: CurrentUser,
    Path((name, language, term)): Path<(String, String, String)>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<TermEdited>> {
    let q: TermQuery = parse_query(q.as_deref())?;
    let (lexicon, edit) = st
        .app()
        .remove_lexicon_term(
            (&user.0).into(),
            &name,
            &key(language, term, q.country),
            q.version,
        )
        .await?;
    Ok(Json(TermEdited { lexicon, edit }))
}

/// `GET /api/v1/lexicons/{name}/history`: the lexicon's term edits, newest first.
#[utoipa::path(get, path = "/api/v1/lexicons/{name}/history",
    responses((status = 200, body = Vec<TermEdit>), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn history(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(name): Path<String>,
) -> ApiResult<Json<Vec<TermEdit>>> {
    Ok(Json(
        st.app()
            .lexicon_term_history((&user.0).into(), &name)
            .await?,
    ))
}

/// The term routes' part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(list_terms, add_term, get_term, change_term, remove_term, history),
    components(schemas(
        TermPage, TermView, NewTerm, TermPatch, TermEdited, TermEdit, TermChange, TermAction
    ))
)]
pub struct LexiconTermsDoc;

/// The routes, to nest under `/api/v1`.
pub fn routes() -> axum::Router<AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route("/lexicons/{name}/terms", get(list_terms).post(add_term))
        .route(
            "/lexicons/{name}/terms/{language}/{term}",
            get(get_term).patch(change_term).delete(remove_term),
        )
        .route("/lexicons/{name}/history", get(history))
}
