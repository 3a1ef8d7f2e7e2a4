//! The toolbox pages, `/toolbox` and `/toolbox/{id}`: the prevention measures and historical
//! precedents shipped with Tocsin ([`tocsin_toolbox`]), public reference data for any
//! logged-in user.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use minijinja::context;
use tocsin_toolbox::Toolbox;

use super::{page, WebError, WebResult, WebUser};
use crate::AppState;

/// `/toolbox`, `/toolbox/{id}`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/toolbox", get(list))
        .route("/toolbox/{id}", get(show))
}

/// `GET /toolbox`: every measure (name, stages, risk factors, what to check) and precedent.
pub async fn list(State(st): State<AppState>, wu: WebUser) -> WebResult {
    let tb = Toolbox::shipped();
    Ok(page(
        &st,
        &wu,
        StatusCode::OK,
        "toolbox.html",
        context! { tb => tb },
    ))
}

/// `GET /toolbox/{id}`: one measure or precedent.
pub async fn show(State(st): State<AppState>, wu: WebUser, Path(id): Path<String>) -> WebResult {
    let tb = Toolbox::shipped();
    let ctx = if let Some(m) = tb.measure(&id) {
        context! { m => m }
    } else if let Some(p) = tb.precedent(&id) {
        context! { p => p }
    } else {
        return Err(WebError::new(
            StatusCode::NOT_FOUND,
            "Not found",
            "No measure or precedent has this id.",
        ));
    };
    Ok(page(&st, &wu, StatusCode::OK, "toolbox_item.html", ctx))
}
