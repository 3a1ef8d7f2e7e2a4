//! Sharing with other organisations over STIX 2.1 (issue 20, part 4): `GET
//! /api/v1/share/stix` streams a bundle of what may cross ([`tocsin_app::share::may_cross`]:
//! verified incidents, never TLP:RED or AMBER+STRICT, at most the ceiling asked and the
//! caller's clearance), and `POST /api/v1/share/stix?from=NAME` receives another
//! organisation's bundle as read-only incidents labelled with their origin. The same
//! functions serve the `/share` page and `tocsin share`.

use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::io::Write;
use std::sync::{Arc, Mutex};
use tocsin_app::share::{Audience, ReceiveSummary, ShareScope};
use tocsin_app::App;
use tocsin_domain::{ReceivedItem, Tlp};
use tocsin_exchange::stix::{StixError, StixOrg, StixWriter};
use tocsin_store::DynStore;

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::export::ExportError;
use crate::input::parse_query;
use crate::AppState;

/// The largest bundle `POST /api/v1/share/stix` and the `/share` page take (larger ones:
/// `tocsin share import-stix`).
pub const MAX_BUNDLE_BYTES: usize = 32 * 1024 * 1024;

/// Query parameters of `GET /api/v1/share/stix`.
#[derive(Debug, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StixQuery {
    /// The highest label exported: TLP:CLEAR (default), TLP:GREEN or TLP:AMBER (capped by
    /// the caller's clearance; AMBER+STRICT and RED never leave in STIX).
    pub max_tlp: Option<String>,
    /// ISO 3166-1 alpha-3.
    pub country: Option<String>,
    /// Event date on or after, `YYYY-MM-DD`.
    pub from: Option<String>,
    /// Event date on or before, `YYYY-MM-DD`.
    pub to: Option<String>,
}

impl StixQuery {
    /// The ceiling asked and the incidents' filter; a bad value refused naming its field.
    pub fn read(&self) -> Result<(Tlp, tocsin_domain::IncidentFilter), ApiError> {
        let non_empty = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
        let max_tlp: Tlp = match non_empty(&self.max_tlp) {
            Some(t) => t
                .parse()
                .map_err(|_| ApiError::field("max_tlp", "expected a TLP label, e.g. TLP:GREEN"))?,
            None => Tlp::Clear,
        };
        let iq = crate::api::IncidentQuery {
            country: non_empty(&self.country),
            from: non_empty(&self.from),
            to: non_empty(&self.to),
            ..Default::default()
        };
        let (filter, _) = iq.to_filter(Tlp::Red)?;
        Ok((max_tlp, filter))
    }
}

pub use tocsin_app::bundles::{locate, read_stix, Places};

#[derive(Clone, Default)]
struct SharedBuf(Arc<Mutex<Vec<u8>>>);

impl Write for SharedBuf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .expect("bundle buffer poisoned")
            .extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl SharedBuf {
    fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.lock().expect("bundle buffer poisoned"))
    }
}

/// Bytes gathered before they are handed on.
const EMIT_BYTES: usize = 256 * 1024;

/// Write the STIX bundle of `scope` as `org`, handing the bytes to `emit` in chunks: the store
/// reads the incidents in one snapshot on a task of its own, chunk by chunk, each chunk
/// filtered and projected by the application layer ([`App::share_chunk`]), so memory stays
/// bounded whatever the number of incidents. Returns how many incidents were written.
pub async fn stream_stix<F, Fut>(
    app: &App<'_>,
    store: &DynStore,
    scope: &ShareScope,
    org: StixOrg,
    mut emit: F,
) -> Result<u64, ExportError>
where
    F: FnMut(Vec<u8>) -> Fut,
    Fut: Future<Output = Result<(), ExportError>>,
{
    let (tx, mut rx) = tokio::sync::mpsc::channel(4);
    let (reader, filter) = (store.clone(), scope.filter.clone());
    let scan = tokio::spawn(async move { reader.scan_incidents(&filter, tx).await });
    let buf = SharedBuf::default();
    let mut w = StixWriter::new(buf.clone(), org, scope.max_tlp)?;
    let mut n = 0;
    while let Some(chunk) = rx.recv().await {
        let shared = app
            .share_chunk(scope, Audience::Stix, chunk)
            .await
            .map_err(|e| ExportError::Io(std::io::Error::other(e.to_string())))?;
        for i in &shared {
            w.write(i)?;
        }
        n += shared.len() as u64;
        let pending = buf.0.lock().expect("bundle buffer poisoned").len();
        if pending >= EMIT_BYTES {
            emit(buf.take()).await?;
        }
    }
    scan.await
        .map_err(|e| ExportError::Io(std::io::Error::other(e.to_string())))??;
    // Then the records other than incidents that may leave (assessments, alerts, rumours,
    // actions marked shareable).
    let items = app
        .shared_items(scope)
        .await
        .map_err(|e| ExportError::Io(std::io::Error::other(e.to_string())))?;
    for i in &items {
        w.write_item(i)?;
    }
    w.finish()?;
    let tail = buf.take();
    if !tail.is_empty() {
        emit(tail).await?;
    }
    Ok(n)
}

/// This organisation as a bundle's writer: its name and installation id.
pub async fn org(st: &AppState) -> Result<StixOrg, ApiError> {
    Ok(StixOrg {
        name: st.organisation_name.to_string(),
        instance_id: st
            .store
            .instance_id()
            .await
            .map_err(tocsin_app::AppError::from)?,
    })
}

/// `GET /api/v1/share/stix`: a STIX 2.1 bundle of the verified incidents that may leave
/// (see [`tocsin_app::share`]), streamed; admins and analysts.
#[utoipa::path(get, path = "/api/v1/share/stix", params(StixQuery), tag = "share",
    responses((status = 200, description = "a STIX 2.1 bundle (application/stix+json), streamed"),
        (status = 400), (status = 401), (status = 403)),
    security(("bearer" = [])))]
pub async fn export_stix(
    State(st): State<AppState>,
    user: CurrentUser,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let q: StixQuery = parse_query(q.as_deref())?;
    let (max_tlp, filter) = q.read()?;
    let detail = serde_json::to_value(&q).unwrap_or_default();
    let scope = st
        .app()
        .start_share((&user.0).into(), Audience::Stix, max_tlp, filter, detail)
        .await?;
    let org = org(&st).await?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let st2 = st.clone();
    tokio::spawn(async move {
        let send = |chunk: Vec<u8>| {
            let tx = tx.clone();
            async move {
                tx.send(Ok(Bytes::from(chunk)))
                    .await
                    .map_err(|_| ExportError::Closed)
            }
        };
        let app = st2.app();
        if let Err(e) = stream_stix(&app, &st2.store, &scope, org, send).await {
            if !matches!(e, ExportError::Closed) {
                tracing::error!(error = %e, "STIX export failed midway");
                let _ = tx.send(Err(std::io::Error::other(e.to_string()))).await;
            }
        }
    });
    let stream =
        futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|c| (c, rx)) });
    Ok((
        [
            (header::CONTENT_TYPE, "application/stix+json;version=2.1"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"tocsin-stix-bundle.json\"",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

/// Query parameters of `POST /api/v1/share/stix`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReceiveQuery {
    /// The organisation the bundle came from (stored with every incident it brings).
    pub from: Option<String>,
}

/// How a bundle was received: the summary, and the objects refused with their reasons.
pub fn receive_status(s: &ReceiveSummary) -> StatusCode {
    let took = s.created + s.updated + s.retracted + s.unchanged;
    if took == 0 && !s.refused.is_empty() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    }
}

/// A bundle refused whole, as an API error.
pub fn bundle_error(e: StixError) -> ApiError {
    match e {
        StixError::TooLarge(_) => ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, e.to_string()),
        StixError::Malformed(_) => ApiError::field("body", e.to_string()),
    }
}

/// `POST /api/v1/share/stix?from=NAME`: receive a STIX 2.1 bundle (the body, at most 32 MiB;
/// any size with `tocsin share import-stix`) as read-only incidents labelled with `from` and
/// the TLP of their markings (TLP 1.0 or 2.0; an object without one, or with a marking Tocsin
/// does not know, is refused and listed with the reason). Idempotent; a later `modified`
/// supersedes; `revoked` retracts. A malformed bundle stores nothing (400). 200 with the
/// counts and refusals; 422 when every object it carried was refused. Analysts.
#[utoipa::path(post, path = "/api/v1/share/stix", params(ReceiveQuery), tag = "share",
    request_body(content = String, content_type = "application/stix+json"),
    responses((status = 200, body = ReceiveSummary), (status = 400), (status = 403),
        (status = 413), (status = 422, body = ReceiveSummary)),
    security(("bearer" = [])))]
pub async fn import_stix(
    State(st): State<AppState>,
    user: CurrentUser,
    RawQuery(q): RawQuery,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<Response> {
    let q: ReceiveQuery = parse_query(q.as_deref())?;
    let origin = q.from.unwrap_or_default();
    // The permission and the origin first, so a refusal costs no parse.
    user.0
        .can(tocsin_domain::Permission::ShareImport)
        .then_some(())
        .ok_or_else(|| {
            ApiError::from(tocsin_app::AppError::forbidden(
                tocsin_domain::Permission::ShareImport,
            ))
        })?;
    tocsin_domain::share::origin_name(&origin).map_err(tocsin_app::AppError::from)?;
    let body = body.map_err(|e| {
        ApiError::new(
            e.status(),
            format!("the bundle is larger than {MAX_BUNDLE_BYTES} bytes"),
        )
    })?;
    let bundle = tokio::task::spawn_blocking(move || read_stix(&body, MAX_BUNDLE_BYTES))
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
        .map_err(bundle_error)?;
    let summary = st
        .app()
        .receive_stix((&user.0).into(), &origin, bundle)
        .await?;
    Ok((receive_status(&summary), Json(summary)).into_response())
}

/// `GET /api/v1/share/received`: assessments, alerts, rumours and actions received from
/// partner organisations within the caller's clearance, retracted ones too (marked), the most
/// recently received first.
#[utoipa::path(get, path = "/api/v1/share/received", tag = "share",
    responses((status = 200, body = Vec<ReceivedItem>), (status = 401), (status = 403)),
    security(("bearer" = [])))]
pub async fn received_items(
    State(st): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<Vec<ReceivedItem>>> {
    Ok(Json(st.app().received_items(&user.0).await?))
}

/// This organisation's note on a received item.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemNote {
    /// The note (at most 5,000 bytes); empty clears it.
    pub note: String,
}

/// `PUT /api/v1/share/received/{id}/note`: keep (or clear) this organisation's note on a
/// received item (analysts); the item stays as its origin sent it.
#[utoipa::path(put, path = "/api/v1/share/received/{id}/note", tag = "share",
    request_body = ItemNote,
    responses((status = 200, body = ReceivedItem), (status = 403), (status = 404), (status = 422)),
    security(("bearer" = [])))]
pub async fn note_item(
    State(st): State<AppState>,
    user: CurrentUser,
    axum::extract::Path(id): axum::extract::Path<String>,
    crate::input::JsonBody(b): crate::input::JsonBody<ItemNote>,
) -> ApiResult<Json<ReceivedItem>> {
    let id = crate::analysis::parse_id(&id)?;
    Ok(Json(
        st.app().note_received_item(&user.0, id, &b.note).await?,
    ))
}

/// `/api/v1/share/…`
pub fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, put};
    axum::Router::new()
        .route(
            "/share/stix",
            get(export_stix)
                .post(import_stix)
                .layer(axum::extract::DefaultBodyLimit::max(MAX_BUNDLE_BYTES)),
        )
        .route("/share/received", get(received_items))
        .route("/share/received/{id}/note", put(note_item))
}

/// The sharing routes in the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(export_stix, import_stix, received_items, note_item),
    components(schemas(
        ReceiveSummary,
        tocsin_domain::share::Refusal,
        ReceivedItem,
        ItemNote,
        tocsin_domain::SharedItem,
        tocsin_domain::SharedFactor,
        tocsin_domain::SharedKind,
        tocsin_domain::Received
    ))
)]
pub struct ShareDoc;
