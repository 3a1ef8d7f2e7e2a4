//! Map queries: `GET /api/v1/incidents/map`, answered from the
//! [`IncidentIndex`](crate::incident_index::IncidentIndex) as server-side clusters at low zoom
//! and points at high zoom, and `GET /api/v1/incidents/map/admin1`, incident counts per
//! first-level administrative area (the map shades the basemap's admin-1 areas by them). Both
//! take the same filters (date range, event type, country, TLP, situation); a parameter that
//! does not parse is a 400 naming it. `situation` limits both to the situation's area as the
//! application layer gives it ([`tocsin_app::App::situation_for`], [`Situation::covers`]): a
//! situation dashboard's map shows what its trend counts.

use axum::extract::{RawQuery, State};
use axum::Json;
use chrono::NaiveDate;
use serde::Deserialize;
use tocsin_domain::incident::EventType;
use tocsin_domain::{BBox, Country, Situation, Tlp};
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::input::{non_empty, parse_query};
use crate::AppState;

/// A parsed map query.
#[derive(Debug, Clone)]
pub struct MapQuery {
    /// The view.
    pub bbox: BBox,
    /// Web-map zoom level, 0 (world) to 20.
    pub zoom: u8,
    /// Event date on or after.
    pub from: Option<NaiveDate>,
    /// Event date on or before.
    pub to: Option<NaiveDate>,
    /// Only this country.
    pub country: Option<Country>,
    /// Only this ACLED event type.
    pub event_type: Option<&'static str>,
    /// Only exactly this label.
    pub tlp: Option<Tlp>,
    /// The caller's clearance.
    pub max_tlp: Tlp,
    /// Only the incidents of this situation's area (see [`Situation::covers`]) and those
    /// linked to it, as its dashboard's trend counts them.
    pub area: Option<Situation>,
}

/// Query parameters of `GET /api/v1/incidents/map`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct MapParams {
    /// `min_lon,min_lat,max_lon,max_lat` (default: the world).
    pub bbox: Option<String>,
    /// 0 (world) to 20 (default 2).
    pub zoom: Option<String>,
    /// Event date on or after, `YYYY-MM-DD`.
    pub from: Option<String>,
    /// Event date on or before, `YYYY-MM-DD`.
    pub to: Option<String>,
    /// ISO 3166-1 alpha-3.
    pub country: Option<String>,
    /// ACLED event type.
    pub event_type: Option<String>,
    /// Exact TLP label.
    pub tlp: Option<String>,
    /// A situation's id: only the incidents of its area (its country, or its admin-1 areas
    /// when it lists some) and those linked to it.
    pub situation: Option<String>,
}

impl MapParams {
    /// Validate, capping at a clearance. The situation, if any, is left for the caller to read
    /// (see [`MapParams::situation_id`]).
    pub fn parse(&self, clearance: Tlp) -> Result<MapQuery, tocsin_domain::DomainError> {
        use tocsin_domain::DomainError as E;
        let date = |field: &str, v: &Option<String>| {
            non_empty(v)
                .map(|s| {
                    NaiveDate::parse_from_str(s, "%Y-%m-%d")
                        .map_err(|_| E::invalid(field, "expected YYYY-MM-DD"))
                })
                .transpose()
        };
        let zoom = match non_empty(&self.zoom) {
            Some(z) => z
                .parse::<u8>()
                .ok()
                .filter(|z| *z <= 20)
                .ok_or_else(|| E::invalid("zoom", "expected a whole number from 0 to 20"))?,
            None => 2,
        };
        let from = date("from", &self.from)?;
        let to = date("to", &self.to)?;
        if let (Some(f), Some(t)) = (from, to) {
            if t < f {
                return Err(E::invalid("to", "must not be before `from`"));
            }
        }
        Ok(MapQuery {
            bbox: match non_empty(&self.bbox) {
                Some(b) => BBox::parse(b)?,
                None => BBox {
                    min_lon: -180.0,
                    min_lat: -90.0,
                    max_lon: 180.0,
                    max_lat: 90.0,
                },
            },
            zoom,
            from,
            to,
            country: non_empty(&self.country).map(Country::parse).transpose()?,
            event_type: non_empty(&self.event_type)
                .map(EventType::parse_type)
                .transpose()?,
            tlp: non_empty(&self.tlp).map(str::parse).transpose()?,
            max_tlp: clearance,
            area: None,
        })
    }

    /// The `situation` parameter as an id.
    pub fn situation_id(&self) -> Result<Option<Uuid>, tocsin_domain::DomainError> {
        non_empty(&self.situation)
            .map(|s| {
                Uuid::parse_str(s).map_err(|_| {
                    tocsin_domain::DomainError::invalid("situation", "expected a situation id")
                })
            })
            .transpose()
    }
}

/// `GET /api/v1/incidents/map`: GeoJSON clusters (count, fatalities, bounds) at low zoom,
/// points at high zoom, of the incidents the caller may see.
#[utoipa::path(get, path = "/api/v1/incidents/map", params(MapParams),
    responses((status = 200, description = "a GeoJSON FeatureCollection with `mode` and `total`"), (status = 400)),
    security(("bearer" = [])))]
pub async fn map(
    State(st): State<AppState>,
    user: CurrentUser,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<serde_json::Value>> {
    let q = map_query(&st, &user, q.as_deref()).await?;
    st.incident_index
        .refresh(&st.store)
        .await
        .map_err(ApiError::from)?;
    Ok(Json(st.incident_index.query(&q)))
}

/// The query string as a [`MapQuery`] for `user`; a bad parameter is a 400 naming it, a
/// situation the user may not read a 404 (as its own page answers).
async fn map_query(st: &AppState, user: &CurrentUser, q: Option<&str>) -> ApiResult<MapQuery> {
    let scope = tocsin_app::policy::map_scope(&user.0)?;
    let bad = |e: tocsin_domain::DomainError| {
        let mut e = ApiError::from(e);
        e.status = axum::http::StatusCode::BAD_REQUEST;
        e
    };
    let params = parse_query::<MapParams>(q)?;
    let mut query = params.parse(scope).map_err(bad)?;
    if let Some(id) = params.situation_id().map_err(bad)? {
        query.area = Some(st.app().situation_for(&user.0, id).await?);
    }
    Ok(query)
}

/// `GET /api/v1/incidents/map/admin1`: how many incidents the caller may see fall in each
/// first-level administrative area (`{"total", "unplaced", "areas": [{"country", "admin1",
/// "count", "fatalities"}]}`), with the map's filters; `bbox` and `zoom` are accepted and
/// `bbox` limits the count.
#[utoipa::path(get, path = "/api/v1/incidents/map/admin1", params(MapParams),
    responses((status = 200, description = "counts per admin-1 area (country alpha-3 and GeoNames admin-1 name)"), (status = 400)),
    security(("bearer" = [])))]
pub async fn admin1(
    State(st): State<AppState>,
    user: CurrentUser,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<serde_json::Value>> {
    let q = map_query(&st, &user, q.as_deref()).await?;
    st.incident_index
        .refresh(&st.store)
        .await
        .map_err(ApiError::from)?;
    Ok(Json(st.incident_index.admin1_counts(&q)))
}
