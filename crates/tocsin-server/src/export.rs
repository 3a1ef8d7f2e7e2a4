//! Streamed exports: incidents chunk by chunk from the store through an [`ExportWriter`],
//! handed on in chunks, so memory stays constant whatever the number of incidents.

use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::future::Future;
use std::io::Write;
use std::sync::{Arc, Mutex};
use tocsin_domain::IncidentFilter;
use tocsin_exchange::{ExportFormat, ExportWriter};
use tocsin_store::DynStore;

use crate::api::IncidentQuery;
use crate::auth::CurrentUser;
use crate::error::ApiError;
use crate::input::parse_query;
use crate::AppState;

#[derive(Clone, Default)]
struct SharedBuf(Arc<Mutex<Vec<u8>>>);

impl Write for SharedBuf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .expect("export buffer poisoned")
            .extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl SharedBuf {
    fn len(&self) -> usize {
        self.0.lock().expect("export buffer poisoned").len()
    }

    fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.lock().expect("export buffer poisoned"))
    }
}

/// Why an export stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] tocsin_store::StoreError),
    /// Writing failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The receiver went away.
    #[error("the receiver of the export went away")]
    Closed,
}

/// Bytes gathered before they are handed on.
const EMIT_BYTES: usize = 256 * 1024;

/// Write every incident matching `filter` in `format`, handing the bytes to `emit` in chunks.
/// The store reads the incidents in one snapshot on a thread of its own while this task writes
/// them out. Returns how many incidents were written.
pub async fn export_incidents<F, Fut>(
    store: &DynStore,
    format: ExportFormat,
    filter: &IncidentFilter,
    mut emit: F,
) -> Result<u64, ExportError>
where
    F: FnMut(Vec<u8>) -> Fut,
    Fut: Future<Output = Result<(), ExportError>>,
{
    let (tx, mut rx) = tokio::sync::mpsc::channel(SCAN_QUEUE);
    let (reader, filter) = (store.clone(), filter.clone());
    let scan = tokio::spawn(async move { reader.scan_incidents(&filter, tx).await });
    let buf = SharedBuf::default();
    let mut w = ExportWriter::new(format, buf.clone())?;
    let mut n = 0;
    while let Some(chunk) = rx.recv().await {
        for i in &chunk {
            w.write(i)?;
        }
        n += chunk.len() as u64;
        if buf.len() >= EMIT_BYTES {
            w.flush()?;
            emit(buf.take()).await?;
        }
    }
    // The scan ended: all sent, or failed (then the export must fail, not end short).
    scan.await
        .map_err(|e| ExportError::Io(std::io::Error::other(e.to_string())))??;
    w.finish()?;
    let tail = buf.take();
    if !tail.is_empty() {
        emit(tail).await?;
    }
    Ok(n)
}

/// Chunks of incidents read ahead of the writer.
const SCAN_QUEUE: usize = 4;

/// Query parameters of `GET /api/v1/export`: the incident filters plus `format`.
#[derive(Debug, Default, Deserialize, serde::Serialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// csv, geojson, hxl or acled.
    pub format: Option<String>,
    /// ISO 3166-1 alpha-3.
    pub country: Option<String>,
    /// Event date on or after, `YYYY-MM-DD`.
    pub from: Option<String>,
    /// Event date on or before, `YYYY-MM-DD`.
    pub to: Option<String>,
    /// `min_lon,min_lat,max_lon,max_lat`.
    pub bbox: Option<String>,
    /// ACLED event type.
    pub event_type: Option<String>,
    /// Verification status.
    pub verification_status: Option<String>,
    /// Exact TLP label.
    pub tlp: Option<String>,
    /// Situation id.
    pub situation_id: Option<String>,
}

impl ExportQuery {
    /// The format, the incident filter (capped at `clearance`) and the filters as an
    /// incident list's query; a bad value is refused naming its field.
    pub fn read(
        &self,
        clearance: tocsin_domain::Tlp,
    ) -> Result<(ExportFormat, IncidentFilter, IncidentQuery), ApiError> {
        let non_empty = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
        let format = ExportFormat::parse(non_empty(&self.format).as_deref().unwrap_or("csv"))?;
        let iq = IncidentQuery {
            country: non_empty(&self.country),
            from: non_empty(&self.from),
            to: non_empty(&self.to),
            bbox: non_empty(&self.bbox),
            event_type: non_empty(&self.event_type),
            verification_status: non_empty(&self.verification_status),
            tlp: non_empty(&self.tlp),
            situation_id: non_empty(&self.situation_id),
            ..Default::default()
        };
        let (filter, _) = iq.to_filter(clearance)?;
        Ok((format, filter, iq))
    }
}

/// `GET /api/v1/export`: incidents the caller may see, streamed as a file.
#[utoipa::path(get, path = "/api/v1/export", params(ExportQuery),
    responses((status = 200, description = "the file, streamed"), (status = 400), (status = 401), (status = 403)),
    security(("bearer" = [])))]
pub async fn export(
    State(st): State<AppState>,
    user: CurrentUser,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let q: ExportQuery = parse_query(q.as_deref())?;
    let (format, filter, iq) = q.read(user.0.clearance)?;
    let detail = serde_json::to_value(&iq).unwrap_or_default();
    let filter = st.app().start_export(&user.0, filter, detail).await?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let store = st.store.clone();
    tokio::spawn(async move {
        let send = |chunk: Vec<u8>| {
            let tx = tx.clone();
            async move {
                tx.send(Ok(Bytes::from(chunk)))
                    .await
                    .map_err(|_| ExportError::Closed)
            }
        };
        if let Err(e) = export_incidents(&store, format, &filter, send).await {
            if !matches!(e, ExportError::Closed) {
                tracing::error!(error = %e, "export failed midway");
                let _ = tx.send(Err(std::io::Error::other(e.to_string()))).await;
            }
        }
    });
    let stream =
        futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|c| (c, rx)) });
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type().to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"tocsin-incidents.{}\"",
                    format.extension()
                ),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}
