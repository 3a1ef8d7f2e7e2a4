//! `GET /situations/{id}/brief?audience=&lang=&format=`: a brief for decision-makers as a
//! download (PDF or HTML), made by the application layer at the audience's clearance (at
//! most the user's) and audited there; laid out by `tocsin-brief` off the async threads.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::Router;
use serde::Deserialize;
use tocsin_app::brief::{parse_audience, parse_lang, BriefFormat, BriefRequest};
use tocsin_app::Acting;

use super::{path_id, WebError, WebResult, WebUser};
use crate::AppState;

/// `/situations/{id}/brief`.
pub fn router() -> Router<AppState> {
    use axum::routing::get;
    Router::new().route("/situations/{id}/brief", get(brief))
}

/// The query of the brief form.
#[derive(Debug, Deserialize)]
pub struct BriefQuery {
    /// A role; the user's own by default.
    audience: Option<String>,
    /// `en` (default), `fr`, `sw`, `ar`.
    lang: Option<String>,
    /// `pdf` (default) or `html`.
    format: Option<String>,
}

/// `GET /situations/{id}/brief`
pub async fn brief(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
    Query(q): Query<BriefQuery>,
) -> WebResult {
    let id = path_id(&id)?;
    let req = BriefRequest {
        audience: parse_audience(q.audience.as_deref().unwrap_or(wu.user.role.as_str()))?,
        lang: parse_lang(q.lang.as_deref().unwrap_or("en"))?,
        format: BriefFormat::parse(q.format.as_deref().unwrap_or("pdf"))?,
    };
    let content = st
        .app()
        .brief_content(Acting::User(&wu.user), id, req)
        .await?;
    let laid_out = tokio::task::spawn_blocking(move || match req.format {
        BriefFormat::Pdf => tocsin_brief::pdf(&content),
        BriefFormat::Html => tocsin_brief::html(&content).map(String::into_bytes),
    })
    .await;
    let bytes = match laid_out {
        Ok(Ok(b)) => b,
        Ok(Err(e)) => {
            tracing::error!(error = %e, "brief layout failed");
            return Err(WebError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "The brief could not be laid out.",
            ));
        }
        Err(e) => {
            tracing::error!(error = %e, "brief layout task failed");
            return Err(WebError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "The brief could not be laid out.",
            ));
        }
    };
    let (kind, ext) = match req.format {
        BriefFormat::Pdf => ("application/pdf", "pdf"),
        BriefFormat::Html => ("text/html; charset=utf-8", "html"),
    };
    let name = format!("brief-{id}-{}-{}.{ext}", req.audience.as_str(), req.lang);
    let mut r = (StatusCode::OK, bytes).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}
