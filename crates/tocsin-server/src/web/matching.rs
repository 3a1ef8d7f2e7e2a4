//! A report's suggested matches, `/reports/{id}/matches`: the incidents and reports it may be
//! about, best first, each with its score and explanation (`tocsin_app::App::report_matches`).
//! The table is the partial `_matches.html`, for any page that shows a report to include.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Router;
use minijinja::context;

use super::{page, path_id, WebResult, WebUser};
use crate::AppState;

/// `/reports/{id}/matches`.
pub fn router() -> Router<AppState> {
    Router::new().route("/reports/{id}/matches", axum::routing::get(report_matches))
}

/// `GET /reports/{id}/matches`
pub async fn report_matches(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
) -> WebResult {
    let id = path_id(&id)?;
    let report = st.app().get_report(&wu.user, id).await?;
    let m = st.app().report_matches(&wu.user, id).await?;
    Ok(page(
        &st,
        &wu,
        StatusCode::OK,
        "report_matches.html",
        context! { report, m },
    ))
}
