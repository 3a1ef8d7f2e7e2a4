//! The report list, `/reports`, at the reader's clearance.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::Router;
use minijinja::context;

use super::{next_url, page, WebResult, WebUser};
use crate::api::ReportQuery;
use crate::error::ApiError;
use crate::input::parse_query;
use crate::AppState;

/// `/reports`.
pub fn router() -> Router<AppState> {
    Router::new().route("/reports", axum::routing::get(reports))
}

/// `GET /reports`
pub async fn reports(State(st): State<AppState>, wu: WebUser, RawQuery(q): RawQuery) -> WebResult {
    let q: ReportQuery = parse_query(q.as_deref())?;
    let (f, p) = q.to_filter(&wu.user).map_err(ApiError::from)?;
    let listed = st.app().list_reports(&wu.user, f, p).await?;
    let next = next_url("/reports", &q, &listed.next_cursor);
    Ok(page(
        &st,
        &wu,
        StatusCode::OK,
        "reports.html",
        context! { items => listed.items, q, next_url => next },
    ))
}
