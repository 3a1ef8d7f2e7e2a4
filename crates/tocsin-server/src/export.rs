//! Streamed exports: incidents page by page through an [`ExportWriter`], handed on in chunks,
//! so memory stays constant whatever the number of incidents.

use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::future::Future;
use std::io::Write;
use std::sync::{Arc, Mutex};
use tocsin_domain::{AuditEvent, Cursor, IncidentFilter, PageRequest, Permission};
use tocsin_exchange::{ExportFormat, ExportWriter};
use tocsin_store::{DynStore, StoreExt};

use crate::api::IncidentQuery;
use crate::auth::CurrentUser;
use crate::error::ApiError;
use crate::input::parse_query;
use crate::AppState;

/// Incidents fetched per store call during an export.
const EXPORT_PAGE: u32 = 5_000;

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

/// Write every incident matching `filter` in `format`, handing each page's bytes to `emit`.
/// Returns how many incidents were written.
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
    let mut filter = filter.clone();
    filter.by_record = true;
    let filter = &filter;
    let buf = SharedBuf::default();
    let mut w = ExportWriter::new(format, buf.clone())?;
    let mut page = PageRequest {
        after: None,
        limit: EXPORT_PAGE,
    };
    let mut n = 0;
    loop {
        let p = store.list_incidents(filter, page).await?;
        for i in &p.items {
            w.write(i)?;
        }
        n += p.items.len() as u64;
        w.flush()?;
        let chunk = buf.take();
        if !chunk.is_empty() {
            emit(chunk).await?;
        }
        match p.next_cursor {
            Some(c) => {
                page.after = Some(Cursor::decode(&c).map_err(tocsin_store::StoreError::from)?)
            }
            None => break,
        }
    }
    w.finish()?;
    let tail = buf.take();
    if !tail.is_empty() {
        emit(tail).await?;
    }
    Ok(n)
}

/// Query parameters of `GET /api/v1/export`: the incident filters plus `format`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
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

/// `GET /api/v1/export`: incidents the caller may see, streamed as a file.
#[utoipa::path(get, path = "/api/v1/export", params(ExportQuery),
    responses((status = 200, description = "the file, streamed"), (status = 400), (status = 401), (status = 403)),
    security(("bearer" = [])))]
pub async fn export(
    State(st): State<AppState>,
    user: CurrentUser,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let u = user.require(Permission::IncidentRead)?.clone();
    let q: ExportQuery = parse_query(q.as_deref())?;
    let format = ExportFormat::parse(q.format.as_deref().unwrap_or("csv"))?;
    let iq = IncidentQuery {
        country: q.country,
        from: q.from,
        to: q.to,
        bbox: q.bbox,
        event_type: q.event_type,
        verification_status: q.verification_status,
        tlp: q.tlp,
        situation_id: q.situation_id,
        ..Default::default()
    };
    let (filter, _) = iq.to_filter(u.clearance)?;
    st.store
        .audit(
            AuditEvent::new(&u.actor(), "incident.export", "incident", None)
                .with_detail(serde_json::to_value(&iq).unwrap_or_default()),
        )
        .await?;
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
