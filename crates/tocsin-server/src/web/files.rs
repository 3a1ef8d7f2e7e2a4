//! Evidence files in the web UI: a report's files (`/reports/{id}/files`: thumbnails of the
//! working copies, kind, size, SHA-256, and an upload form for those who may add to reports),
//! a file's page (`/files/{id}`: what the working copy lost, its custody log, and the
//! deliberate "release original" form asking a reason, for those granted it), the working copy
//! (`/files/{id}/working`) and the release itself (`POST /files/{id}/original`). The rules are
//! the application layer's ([`tocsin_app::files`]).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Router;
use minijinja::context;
use serde::Deserialize;
use tocsin_app::files::human_size;
use tocsin_domain::Permission;

use super::{page, path_id, CsrfForm, WebError, WebResult, WebUser};
use crate::auth::same;
use crate::files::{file_response, read_multipart, upload_error, CustodyEntry};
use crate::AppState;

/// The file pages, the upload's body limit fitting a report's files (`[evidence]`).
pub fn router(limits: &tocsin_app::files::EvidenceLimits) -> Router<AppState> {
    use axum::routing::{get, post};
    Router::new()
        .route(
            "/reports/{id}/files",
            get(report_files)
                .post(upload)
                .layer(axum::extract::DefaultBodyLimit::max(
                    crate::files::body_limit(limits),
                )),
        )
        .route("/files/{id}", get(file_page))
        .route("/files/{id}/working", get(working))
        .route("/files/{id}/original", post(release))
}

/// `GET /reports/{id}/files`
pub async fn report_files(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
) -> WebResult {
    let id = path_id(&id)?;
    let report = st.app().get_report(&wu.user, id).await?;
    let files = st.app().report_files(&wu.user, id).await?;
    let items: Vec<_> = files
        .iter()
        .map(|f| {
            context! {
                id => f.id, kind => f.kind.as_str(), image => f.kind.is_image(),
                size => human_size(f.size as usize), sha256 => f.sha256.clone(),
                working_sha256 => f.working_sha256.clone(), cleaned => f.cleaned(),
                removed => f.removed.len(), created_at => f.created_at,
            }
        })
        .collect();
    Ok(page(
        &st,
        &wu,
        StatusCode::OK,
        "report_files.html",
        context! {
            report, items,
            can_upload => wu.user.can(Permission::ReportCreate),
            max_files => st.evidence.max_files,
            max_file => human_size(st.evidence.max_file_bytes),
        },
    ))
}

/// `POST /reports/{id}/files`: multipart, with the session's CSRF token as field `csrf`.
pub async fn upload(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> WebResult {
    let id = path_id(&id)?;
    let body = body.map_err(|_| crate::files::too_large_body(&st.evidence))?;
    let mp = read_multipart(&headers, body).await?;
    if !mp
        .field("csrf")
        .is_some_and(|c| same(c, &wu.session.csrf_token))
    {
        return Err(WebError::csrf());
    }
    st.app()
        .attach_files(&wu.user, id, mp.files, &st.evidence)
        .await
        .map_err(upload_error)?;
    Ok(Redirect::to(&format!("/reports/{id}/files")).into_response())
}

/// `GET /files/{id}`
pub async fn file_page(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
) -> WebResult {
    let id = path_id(&id)?;
    let (f, tlp) = st.app().evidence_file(&wu.user, id).await?;
    let custody: Vec<CustodyEntry> = st
        .app()
        .custody_log(&wu.user, id)
        .await?
        .into_iter()
        .map(CustodyEntry::from)
        .collect();
    let custody: Vec<_> = custody
        .iter()
        .map(|c| {
            context! {
                seq => c.seq, at => c.at, actor => c.actor.clone(), action => c.action.clone(),
                reason => c.detail.get("reason").and_then(|r| r.as_str()).map(str::to_string),
                sha256 => c.detail.get("sha256").and_then(|r| r.as_str()).map(str::to_string),
                hash => c.hash.clone(),
            }
        })
        .collect();
    Ok(page(
        &st,
        &wu,
        StatusCode::OK,
        "file.html",
        context! {
            f => context! {
                id => f.id, report_id => f.report_id, kind => f.kind.as_str(),
                media_type => f.kind.media_type(), image => f.kind.is_image(),
                size => human_size(f.size as usize), bytes => f.size,
                working_size => human_size(f.working_size as usize),
                sha256 => f.sha256.clone(), working_sha256 => f.working_sha256.clone(),
                removed => f.removed.clone(), created_at => f.created_at,
                not_cleaned => f.not_cleaned.clone(),
            },
            tlp => tlp.as_str(), custody,
            can_release => wu.user.can(Permission::EvidenceOriginal),
        },
    ))
}

/// `GET /files/{id}/working`
pub async fn working(State(st): State<AppState>, wu: WebUser, Path(id): Path<String>) -> WebResult {
    let (f, bytes) = st.app().working_copy(&wu.user, path_id(&id)?).await?;
    Ok(file_response(&f, bytes, false))
}

#[derive(Deserialize)]
pub struct ReleaseForm {
    #[serde(default)]
    reason: String,
}

/// `POST /files/{id}/original`: the original as a download, after its release is recorded.
pub async fn release(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<ReleaseForm>,
) -> WebResult<Response> {
    let r = st
        .app()
        .release_original(&wu.user, path_id(&id)?, &form.reason)
        .await?;
    Ok(file_response(&r.file, r.bytes, true))
}
