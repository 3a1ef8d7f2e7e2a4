//! Defensive parsing of request bodies and query strings, naming the offending field.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, StatusCode};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// The largest API request body accepted.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// A JSON body parsed strictly: wrong content type → 415, too large → 413, malformed JSON,
/// unknown fields or wrong types → 400 naming the field.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let ct = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !ct.starts_with("application/json") {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "send Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("request body larger than {MAX_BODY_BYTES} bytes"),
            )
        })?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// Parse a JSON object, naming the field that failed.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "the body must be a JSON object",
        ));
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let msg = inner.to_string();
        let field =
            unknown_field(&msg).unwrap_or_else(|| if path == "." { String::new() } else { path });
        if field.is_empty() {
            ApiError::new(StatusCode::BAD_REQUEST, format!("invalid JSON body: {msg}"))
        } else {
            ApiError::field(field, format!("invalid JSON body: {msg}"))
        }
    })
}

/// Parse a query string into `T` (which should deny unknown fields).
pub fn parse_query<T: DeserializeOwned>(query: Option<&str>) -> Result<T, ApiError> {
    serde_urlencoded::from_str(query.unwrap_or("")).map_err(|e| {
        let msg = e.to_string();
        match unknown_field(&msg) {
            Some(f) => ApiError::field(f, format!("unknown query parameter: {msg}")),
            None => ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("invalid query string: {msg}"),
            ),
        }
    })
}

fn unknown_field(msg: &str) -> Option<String> {
    let rest = msg.strip_prefix("unknown field `")?;
    Some(rest[..rest.find('`')?].to_string())
}

/// `None` for absent or blank values (HTML forms send blanks).
pub fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}
