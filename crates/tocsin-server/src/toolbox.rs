//! `GET /api/v1/toolbox` and `GET /api/v1/toolbox/{id}`: the prevention toolbox shipped with
//! Tocsin ([`tocsin_toolbox`]). It is public reference data (TLP:CLEAR), readable by any
//! logged-in user; nothing in it comes from the store.

use axum::extract::{Path, RawQuery};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tocsin_toolbox::Toolbox;

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::input::{non_empty, parse_query};

/// A record as JSON.
fn json(v: impl Serialize) -> ApiResult<Value> {
    serde_json::to_value(v).map_err(|_| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "could not encode the toolbox",
        )
    })
}

/// Parse `4,8,9` into risk-factor numbers (1..=14).
fn risk_factors(s: &str) -> Result<Vec<u8>, ApiError> {
    s.split(',')
        .map(|n| {
            n.trim()
                .parse::<u8>()
                .ok()
                .filter(|n| (1..=14).contains(n))
                .ok_or_else(|| {
                    ApiError::field(
                        "risk_factors",
                        "expected risk-factor numbers 1-14, comma-separated",
                    )
                })
        })
        .collect()
}

/// `GET /api/v1/toolbox[?risk_factors=4,8,9]`: vocabularies, measures, precedents, sources
/// and caveats. With `risk_factors`, only the measures acting on any of them, those covering
/// more of them first.
#[utoipa::path(get, path = "/api/v1/toolbox",
    params(("risk_factors" = Option<String>, Query, description = "comma-separated UN 2014 risk factors, e.g. 4,8,9")),
    responses((status = 200), (status = 400)), security(("bearer" = [])))]
pub async fn list_toolbox(_user: CurrentUser, RawQuery(q): RawQuery) -> ApiResult<Json<Value>> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Q {
        risk_factors: Option<String>,
    }
    let q: Q = parse_query(q.as_deref())?;
    let tb = Toolbox::shipped();
    let mut doc = json(tb)?;
    if let Some(rf) = non_empty(&q.risk_factors) {
        let measures = tb.measures_for_risk_factors(&risk_factors(rf)?);
        doc["measures"] = json(measures)?;
    }
    doc["tlp"] = "CLEAR".into();
    Ok(Json(doc))
}

/// `GET /api/v1/toolbox/{id}`: one measure or precedent by its id, with `kind` saying which.
#[utoipa::path(get, path = "/api/v1/toolbox/{id}", params(("id" = String, Path)),
    responses((status = 200), (status = 404)), security(("bearer" = [])))]
pub async fn get_toolbox_record(
    _user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let tb = Toolbox::shipped();
    let (kind, mut doc) = if let Some(m) = tb.measure(&id) {
        ("measure", json(m)?)
    } else if let Some(p) = tb.precedent(&id) {
        ("precedent", json(p)?)
    } else {
        return Err(ApiError::not_found());
    };
    doc["kind"] = kind.into();
    doc["tlp"] = "CLEAR".into();
    Ok(Json(doc))
}
