//! Community-alert subscribers over the JSON API: `POST /api/v1/subscribers` (staff register
//! someone; the answer is the id, never the number) and `GET /api/v1/subscribers/counts`
//! (counts per first-level area, optionally inside an area; never who). The rules are the
//! application layer's ([`tocsin_app::subscribers`]).

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use tocsin_app::subscribers::{RegisterSubscriber, Registered, SubscriberCounts};
use tocsin_domain::BroadcastArea;
use tocsin_store::AreaCount;

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::input::{non_empty, parse_query, JsonBody};
use crate::AppState;

/// Query parameters of the counts.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CountsQuery {
    /// The area as JSON (URL-encoded): `{"countries": ["CAF"]}`, `{"admin1": [{"country":
    /// "CAF", "name": "Ouaka"}]}`, `{"circle": {"lat": 5.76, "lon": 20.67, "radius_km": 25}}`
    /// or `{"polygon": GEOJSON}`; absent: everywhere.
    pub area: Option<String>,
}

/// Parse an area given as JSON text; a refusal names the field (`area`, `area.circle.lat`…).
pub fn parse_area(text: &str) -> Result<BroadcastArea, ApiError> {
    let v: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| ApiError::field("area", format!("not JSON: {e}")))?;
    BroadcastArea::parse(&v).map_err(ApiError::from)
}

/// `POST /api/v1/subscribers`: register a subscriber (admins, monitor coordinators). The place
/// is resolved by the gazetteer (an ambiguous name: 422 naming `place` with the choices); a
/// number already subscribed is moved to the new place. The answer never holds the number.
#[utoipa::path(post, path = "/api/v1/subscribers", request_body = RegisterSubscriber,
    responses((status = 201, body = Registered), (status = 403), (status = 422)),
    security(("bearer" = [])))]
pub async fn register(
    State(st): State<AppState>,
    user: CurrentUser,
    JsonBody(r): JsonBody<RegisterSubscriber>,
) -> ApiResult<(StatusCode, Json<Registered>)> {
    let done = st
        .app()
        .register_subscriber(&user.0, r, st.sms.country_hint.as_deref())
        .await?;
    Ok((StatusCode::CREATED, Json(done)))
}

/// `GET /api/v1/subscribers/counts`: active subscribers per country and first-level area,
/// inside `area` or everywhere, with the total (admins, analysts, monitor coordinators).
#[utoipa::path(get, path = "/api/v1/subscribers/counts", params(CountsQuery),
    responses((status = 200, body = SubscriberCounts), (status = 400), (status = 403)),
    security(("bearer" = [])))]
pub async fn counts(
    State(st): State<AppState>,
    user: CurrentUser,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<SubscriberCounts>> {
    let q: CountsQuery = parse_query(q.as_deref())?;
    let area = non_empty(&q.area).map(parse_area).transpose()?;
    Ok(Json(
        st.app().subscriber_counts(&user.0, area.as_ref()).await?,
    ))
}

/// The subscriber routes, under `/api/v1`.
pub fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/subscribers", post(register))
        .route("/subscribers/counts", get(counts))
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(register, counts),
    components(schemas(RegisterSubscriber, Registered, SubscriberCounts, AreaCount))
)]
/// The subscriber routes' part of the OpenAPI document.
pub struct SubscribersDoc;
