//! The map page, `/map` (its data comes from `/api/v1/incidents/map` and
//! `/api/v1/incidents/map/admin1`, its basemap from [`crate::basemap`]). `from`, `to` and
//! `event_type` in the page's query prefill the filter form; the API validates them.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::Router;
use minijinja::context;
use tocsin_domain::incident::ACLED_TYPOLOGY;

use super::{page, WebResult, WebUser};
use crate::AppState;

/// `/map`.
pub fn router() -> Router<AppState> {
    Router::new().route("/map", axum::routing::get(map))
}

#[derive(Default, serde::Deserialize)]
struct Filters {
    from: Option<String>,
    to: Option<String>,
    event_type: Option<String>,
}

/// `GET /map`
pub async fn map(State(st): State<AppState>, wu: WebUser, RawQuery(q): RawQuery) -> WebResult {
    tocsin_app::policy::map_scope(&wu.user)?;
    let f: Filters = serde_urlencoded::from_str(q.as_deref().unwrap_or("")).unwrap_or_default();
    let event_types: Vec<&str> = ACLED_TYPOLOGY.iter().map(|(t, _)| *t).collect();
    Ok(page(
        &st,
        &wu,
        StatusCode::OK,
        "map.html",
        context! { from => f.from, to => f.to, event_type => f.event_type, event_types },
    ))
}
