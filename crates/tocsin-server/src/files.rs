//! Evidence files over the JSON API: `GET, POST /api/v1/reports/{id}/files` (multipart, one
//! part named `file` per file), `GET /api/v1/files/{id}` (the record and its custody log),
//! `GET /api/v1/files/{id}/working` (the working copy) and `POST /api/v1/files/{id}/original`
//! (the sealed original, for a reason). The rules are the application layer's
//! ([`tocsin_app::files`]); handlers here parse, call and translate. Multipart parsing is
//! [`read_multipart`], shared with the pages and the public form: a part's file name and
//! declared type are never read.

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tocsin_app::files::{is_too_large, EvidenceLimits};
use tocsin_domain::{AuditEntry, EvidenceFile, Tlp};

use crate::analysis::parse_id;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::input::JsonBody;
use crate::AppState;

/// The API routes of evidence files (under `/api/v1`), with a body limit fitting a report's
/// files.
pub fn routes(limits: &EvidenceLimits) -> Router<AppState> {
    use axum::routing::{get, post};
    Router::new()
        .route(
            "/reports/{id}/files",
            get(list_files)
                .post(upload_files)
                .layer(axum::extract::DefaultBodyLimit::max(body_limit(limits))),
        )
        .route("/files/{id}", get(get_file))
        .route("/files/{id}/working", get(working_copy))
        .route("/files/{id}/original", post(release_original))
}

/// The largest request body an upload may have: every file a report may carry, and room for
/// the multipart framing and the form's other fields.
pub fn body_limit(limits: &EvidenceLimits) -> usize {
    limits
        .max_report_bytes
        .max(limits.max_file_bytes)
        .saturating_add(1024 * 1024)
}

/// A multipart body: its text fields and the bytes of its `file` parts, in order.
#[derive(Debug, Default)]
pub struct Multipart {
    /// Text fields (name, value), at most 64 KiB each.
    pub fields: Vec<(String, String)>,
    /// The bytes of each non-empty part named `file` (a browser sends an empty one when no
    /// file was chosen). Names and declared types of parts are never read.
    pub files: Vec<Vec<u8>>,
}

impl Multipart {
    /// The first text field named `name`.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The largest text field of a multipart body.
const MAX_TEXT_FIELD: u64 = 64 * 1024;

/// Parse a `multipart/form-data` body already read in full. A body that is not multipart, or
/// is malformed, is a 400 naming `body` (or the field).
pub async fn read_multipart(headers: &HeaderMap, body: Bytes) -> ApiResult<Multipart> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let boundary = multer::parse_boundary(ct).map_err(|_| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "expected a multipart/form-data body with one part named `file` per file",
        )
    })?;
    let stream = futures::stream::once(async move { Ok::<Bytes, std::io::Error>(body) });
    let mut mp = multer::Multipart::new(stream, boundary);
    let mut out = Multipart::default();
    let bad = |e: multer::Error| ApiError::field("body", format!("malformed multipart body: {e}"));
    while let Some(field) = mp.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or("").to_string();
        if name == "file" {
            let bytes = field.bytes().await.map_err(bad)?;
            if !bytes.is_empty() {
                out.files.push(bytes.to_vec());
            }
        } else {
            let bytes = field.bytes().await.map_err(bad)?;
            if bytes.len() as u64 > MAX_TEXT_FIELD {
                return Err(ApiError::field(name, "field too long"));
            }
            let text = String::from_utf8(bytes.to_vec())
                .map_err(|_| ApiError::field(name.clone(), "not UTF-8 text"))?;
            out.fields.push((name, text));
        }
    }
    Ok(out)
}

/// An application error of an upload: a broken size limit is 413 naming it.
pub fn upload_error(e: tocsin_app::AppError) -> ApiError {
    if is_too_large(&e) {
        let field = e.field().map(str::to_string);
        let mut a = ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, e.to_string());
        a.field = field;
        a
    } else {
        e.into()
    }
}

/// The files of a report.
#[derive(Serialize, utoipa::ToSchema)]
pub struct FileList {
    /// Oldest first.
    pub items: Vec<EvidenceFile>,
}

/// One entry of a file's custody log (an audit entry about it).
#[derive(Serialize, utoipa::ToSchema)]
pub struct CustodyEntry {
    /// Position in the audit chain.
    pub seq: i64,
    /// When.
    #[schema(value_type = String, format = DateTime)]
    pub at: chrono::DateTime<chrono::Utc>,
    /// Who.
    pub actor: String,
    /// What: `evidence.upload`, `record.read`, `evidence.original.release`.
    pub action: String,
    /// The entry's facts (hashes, what was removed, the reason of a release).
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    /// The entry's hash in the chain.
    pub hash: String,
}

impl From<AuditEntry> for CustodyEntry {
    fn from(e: AuditEntry) -> Self {
        CustodyEntry {
            seq: e.seq,
            at: e.at,
            actor: e.actor_name,
            action: e.action,
            detail: serde_json::from_str(&e.detail).unwrap_or(serde_json::Value::Null),
            hash: e.hash,
        }
    }
}

/// A file, its label and its custody log.
#[derive(Serialize, utoipa::ToSchema)]
pub struct FileView {
    /// The file.
    pub file: EvidenceFile,
    /// Its label (its report's).
    pub tlp: Tlp,
    /// Its custody log, oldest first.
    pub custody: Vec<CustodyEntry>,
}

/// Why an original is released.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleaseInput {
    /// Why (recorded in the custody log; required).
    pub reason: String,
}

/// `GET /api/v1/reports/{id}/files`
#[utoipa::path(get, path = "/api/v1/reports/{id}/files",
    responses((status = 200, body = FileList), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn list_files(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<FileList>> {
    let items = st.app().report_files(&user.0, parse_id(&id)?).await?;
    Ok(Json(FileList { items }))
}

/// `POST /api/v1/reports/{id}/files`: attach photos (JPEG, PNG, WebP) and documents (PDF) to a
/// report, as `multipart/form-data` with one part named `file` per file. The kind is read from
/// the bytes; names and declared types are ignored and never stored. A file the report already
/// holds is answered as stored. 413 names the broken limit (`max_file_bytes`,
/// `max_report_bytes`, `max_files`); 422 a file that is not an accepted kind.
#[utoipa::path(post, path = "/api/v1/reports/{id}/files",
    request_body(content = String, content_type = "multipart/form-data",
        description = "One part named `file` per file"),
    responses((status = 201, body = FileList), (status = 400), (status = 403), (status = 404),
        (status = 413), (status = 415), (status = 422)),
    security(("bearer" = [])))]
pub async fn upload_files(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<(StatusCode, Json<FileList>)> {
    let id = parse_id(&id)?;
    let body = body.map_err(|_| too_large_body(&st.evidence))?;
    let mp = read_multipart(&headers, body).await?;
    let items = st
        .app()
        .attach_files(&user.0, id, mp.files, &st.evidence)
        .await
        .map_err(upload_error)?;
    Ok((StatusCode::CREATED, Json(FileList { items })))
}

/// 413 for a body past [`body_limit`], naming the report's limit.
pub fn too_large_body(limits: &EvidenceLimits) -> ApiError {
    let mut e = ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!(
            "max_report_bytes: a report's files may total at most {} (max_report_bytes)",
            tocsin_app::files::human_size(limits.max_report_bytes)
        ),
    );
    e.field = Some("max_report_bytes".into());
    e
}

/// `GET /api/v1/files/{id}`: a file, its label and its custody log.
#[utoipa::path(get, path = "/api/v1/files/{id}",
    responses((status = 200, body = FileView), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn get_file(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<FileView>> {
    let id = parse_id(&id)?;
    let (file, tlp) = st.app().evidence_file(&user.0, id).await?;
    let custody = st.app().custody_log(&user.0, id).await?;
    Ok(Json(FileView {
        file,
        tlp,
        custody: custody.into_iter().map(CustodyEntry::from).collect(),
    }))
}

/// The answer carrying a file's bytes: its media type, `nosniff`, never stored by a cache,
/// sandboxed, and a download (`Content-Disposition: attachment`) unless it is the working copy
/// of an image.
pub fn file_response(f: &EvidenceFile, bytes: Vec<u8>, original: bool) -> Response {
    let disposition = if original || !f.kind.is_image() {
        "attachment"
    } else {
        "inline"
    };
    let mut r = Response::new(Body::from(bytes));
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(f.kind.media_type()),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{disposition}; filename=\"{}\"",
        f.download_name(original)
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

/// `GET /api/v1/files/{id}/working`: the working copy (metadata removed); 409 for a file that
/// could not be cleaned (`not_cleaned`), which has none.
#[utoipa::path(get, path = "/api/v1/files/{id}/working",
    responses((status = 200, description = "The working copy's bytes, with its media type"),
        (status = 403), (status = 404),
        (status = 409, description = "The file could not be cleaned: it has no working copy")),
    security(("bearer" = [])))]
pub async fn working_copy(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (f, bytes) = st.app().working_copy(&user.0, parse_id(&id)?).await?;
    Ok(file_response(&f, bytes, false))
}

/// `POST /api/v1/files/{id}/original`: the original, byte for byte as received, for a user
/// granted `evidence_original`, with a reason; each release is an entry of the file's custody
/// log. 403 without the grant, 422 without a reason.
#[utoipa::path(post, path = "/api/v1/files/{id}/original", request_body = ReleaseInput,
    responses((status = 200, description = "The original's bytes, as an attachment"),
        (status = 403), (status = 404), (status = 422)),
    security(("bearer" = [])))]
pub async fn release_original(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<ReleaseInput>,
) -> ApiResult<Response> {
    let r = st
        .app()
        .release_original(&user.0, parse_id(&id)?, &input.reason)
        .await?;
    Ok(file_response(&r.file, r.bytes, true).into_response())
}

/// The OpenAPI document of these routes.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(list_files, upload_files, get_file, working_copy, release_original),
    components(schemas(
        FileList,
        FileView,
        CustodyEntry,
        ReleaseInput,
        EvidenceFile,
        tocsin_domain::FileKind
    ))
)]
pub struct FilesDoc;
