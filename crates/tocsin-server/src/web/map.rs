//! The map page, `/map` (its data comes from `/api/v1/incidents/map`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Router;
use minijinja::context;

use super::{page, WebResult, WebUser};
use crate::AppState;

/// `/map`.
pub fn router() -> Router<AppState> {
    Router::new().route("/map", axum::routing::get(map))
}

/// `GET /map`
pub async fn map(State(st): State<AppState>, wu: WebUser) -> WebResult {
    tocsin_app::policy::map_scope(&wu.user)?;
    Ok(page(&st, &wu, StatusCode::OK, "map.html", context! {}))
}
