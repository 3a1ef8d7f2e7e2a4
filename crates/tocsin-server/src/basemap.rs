//! The offline basemap and the map library, served by Tocsin itself so the map needs no host
//! but this one:
//!
//! * `GET /tiles/{z}/{x}/{y}.mvt`: vector tiles read from the one PMTiles archive embedded in
//!   the binary (`data/basemap/basemap.pmtiles`, built by `scripts/build-basemap.sh`) with the
//!   `pmtiles` crate. A tile the archive does not hold (beyond its zoom range, or an empty
//!   one) is a 404; a z, x or y that is not a tile of the pyramid is a 400 naming it.
//! * `GET /glyphs/{fontstack}/{range}.pbf`: the label glyphs (SDF PBFs of Noto Sans).
//! * `GET /assets/maplibre/{file}`: MapLibre GL JS's CSP build, its worker (so the page loads
//!   it from this origin: no `blob:` worker, no `unsafe-eval`) and its stylesheet, fetched from
//!   the npm registry by the build (`build.rs`).
//!
//! All are public like `/assets`: they hold only public reference data and library code.

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use pmtiles::{AsyncBackend, AsyncPmTilesReader, BackendResponse, Compression, PmtResult};
use tokio::sync::OnceCell;

use crate::error::ApiError;

mod assets {
    include!(concat!(env!("OUT_DIR"), "/web_assets.rs"));
}
pub use assets::{GLYPHS, NODE_MODULES};

/// The basemap archive (Natural Earth boundaries, GeoNames places; z0–z6), embedded once by
/// `tocsin-geo` (whose briefs' maps read its admin-1 areas too).
pub use tocsin_geo::basemap::PMTILES;

/// Media type of a Mapbox Vector Tile.
pub const MVT_CONTENT_TYPE: &str = "application/vnd.mapbox-vector-tile";

/// A PMTiles backend over bytes in memory.
pub struct StaticBackend(pub &'static [u8]);

impl AsyncBackend for StaticBackend {
    async fn read(&self, offset: u64, length: usize) -> PmtResult<BackendResponse> {
        let len = self.0.len();
        let start = usize::try_from(offset).unwrap_or(len).min(len);
        let end = start.saturating_add(length).min(len);
        Ok(BackendResponse::new(Bytes::from_static(
            &self.0[start..end],
        )))
    }
}

static READER: OnceCell<AsyncPmTilesReader<StaticBackend>> = OnceCell::const_new();

/// The reader of the embedded archive (its header and root directory parsed once).
pub async fn reader() -> Result<&'static AsyncPmTilesReader<StaticBackend>, ApiError> {
    READER
        .get_or_try_init(|| AsyncPmTilesReader::try_from_source(StaticBackend(PMTILES)))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "the embedded basemap archive is unreadable");
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "basemap unavailable")
        })
}

/// The basemap routes (public; see the module documentation).
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/tiles/{z}/{x}/{y}", get(tile))
        .route("/glyphs/{fontstack}/{range}", get(glyphs))
        .route("/assets/maplibre/{file}", get(maplibre))
}

/// A tile coordinate from the path: z from 0 to `pmtiles::MAX_ZOOM`, x and y within the
/// zoom's grid.
pub fn parse_tile(z: &str, x: &str, y: &str) -> Result<(u8, u32, u32), ApiError> {
    let z: u8 = z
        .parse()
        .ok()
        .filter(|z| *z <= pmtiles::MAX_ZOOM)
        .ok_or_else(|| {
            ApiError::field(
                "z",
                format!("expected a zoom level from 0 to {}", pmtiles::MAX_ZOOM),
            )
        })?;
    let n = 1u64 << z;
    let coord = |name: &str, v: &str| {
        v.parse::<u32>()
            .ok()
            .filter(|v| u64::from(*v) < n)
            .ok_or_else(|| {
                ApiError::field(
                    name,
                    format!("expected a whole number from 0 to {} at zoom {z}", n - 1),
                )
            })
    };
    let y = y
        .strip_suffix(".mvt")
        .or_else(|| y.strip_suffix(".pbf"))
        .unwrap_or(y);
    Ok((z, coord("x", x)?, coord("y", y)?))
}

/// `GET /tiles/{z}/{x}/{y}.mvt`: one vector tile, gzip-encoded when the client accepts it.
pub async fn tile(
    Path((z, x, y)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (z, x, y) = parse_tile(&z, &x, &y)?;
    let reader = reader().await?;
    let coord = pmtiles::TileCoord::new(z, x, y)
        .map_err(|_| ApiError::field("z", "not a tile of the pyramid"))?;
    let gzip_ok = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
    let gzipped = reader.get_header().tile_compression == Compression::Gzip;
    let found = if gzipped && !gzip_ok {
        reader.get_tile_decompressed(coord).await
    } else {
        reader.get_tile(coord).await
    }
    .map_err(|e| {
        tracing::error!(error = %e, "basemap tile unreadable");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "basemap tile unreadable")
    })?;
    let Some(body) = found else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "the basemap holds no such tile",
        ));
    };
    let mut resp = (
        [
            (header::CONTENT_TYPE, MVT_CONTENT_TYPE),
            (header::CACHE_CONTROL, "public, max-age=86400"),
            (header::VARY, "Accept-Encoding"),
        ],
        body,
    )
        .into_response();
    if gzipped && gzip_ok {
        resp.headers_mut().insert(
            header::CONTENT_ENCODING,
            header::HeaderValue::from_static("gzip"),
        );
    }
    Ok(resp)
}

/// `GET /glyphs/{fontstack}/{range}.pbf`: the first font of the stack that Tocsin has.
pub async fn glyphs(Path((stack, range)): Path<(String, String)>) -> Response {
    let range = range.strip_suffix(".pbf").unwrap_or(&range);
    let found = stack.split(',').map(str::trim).find_map(|font| {
        GLYPHS
            .iter()
            .find(|(f, r, _)| *f == font && *r == range)
            .map(|(_, _, bytes)| *bytes)
    });
    match found {
        Some(bytes) => (
            [
                (header::CONTENT_TYPE, "application/x-protobuf"),
                (header::CACHE_CONTROL, "public, max-age=86400"),
            ],
            bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such glyph range").into_response(),
    }
}

/// `GET /assets/maplibre/{file}`: MapLibre GL JS (CSP build), its worker and stylesheet.
pub async fn maplibre(Path(file): Path<String>) -> Response {
    let (body, ctype): (&'static [u8], &str) = match file.as_str() {
        "maplibre-gl.js" => (assets::MAPLIBRE_JS, "text/javascript; charset=utf-8"),
        "maplibre-gl-worker.js" => (assets::MAPLIBRE_WORKER_JS, "text/javascript; charset=utf-8"),
        "maplibre-gl.css" => (assets::MAPLIBRE_CSS, "text/css; charset=utf-8"),
        _ => return (StatusCode::NOT_FOUND, "no such asset").into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, ctype),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}
