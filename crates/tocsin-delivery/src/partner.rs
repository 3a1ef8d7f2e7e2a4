//! Signed bundles to and from partner organisations over HTTPS (issue 20): the transport only.
//! What a bundle carries, its signature and what is stored of one received are decided by the
//! application layer (`tocsin_app::bundles`); this module posts a bundle to a partner's
//! `POST {url}/api/v1/share/bundles` and fetches the one it made for this installation with
//! `GET`, each with the token that partner issued as a bearer token.
//!
//! A redirect is not followed (a token must not be handed to another host); an answer other
//! than 2xx is a [`TransferError::Refused`] with the partner's `error` text; neither the token
//! nor the bundle is logged.

use std::time::Duration;

/// The path partners serve bundles on, under their base URL.
pub const BUNDLES_PATH: &str = "/api/v1/share/bundles";

/// The media type of a signed bundle.
pub const BUNDLE_MEDIA_TYPE: &str = "application/vnd.tocsin.bundle";

/// How long one transfer may take.
pub const TRANSFER_TIMEOUT: Duration = Duration::from_secs(600);

/// Why a transfer did not happen.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// The partner could not be reached (or its answer not read).
    #[error("the partner could not be reached: {0}")]
    Network(String),
    /// The partner answered with an error.
    #[error("the partner refused ({status}): {message}")]
    Refused {
        /// Its HTTP status.
        status: u16,
        /// What it said (its JSON `error`, else the start of its answer).
        message: String,
    },
}

fn client() -> Result<reqwest::Client, TransferError> {
    reqwest::Client::builder()
        .timeout(TRANSFER_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| TransferError::Network(e.to_string()))
}

fn endpoint(base: &str, query: &str) -> String {
    let mut u = format!("{}{BUNDLES_PATH}", base.trim_end_matches('/'));
    if !query.is_empty() {
        u.push('?');
        u.push_str(query);
    }
    u
}

async fn answer(resp: reqwest::Response) -> Result<Vec<u8>, TransferError> {
    let status = resp.status();
    let bytes = resp
        .bytes()
        .await
        .map_err(|e| TransferError::Network(without_url(e)))?;
    if status.is_success() {
        return Ok(bytes.to_vec());
    }
    let message = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_string))
        .unwrap_or_else(|| String::from_utf8_lossy(&bytes).chars().take(300).collect());
    Err(TransferError::Refused {
        status: status.as_u16(),
        message,
    })
}

/// A request error's text without the URL (which names the partner's query).
fn without_url(e: reqwest::Error) -> String {
    e.without_url().to_string()
}

/// Post the signed bundle `bytes` to the partner at `base_url` with `token`; answers the
/// partner's answer body (its receive summary, JSON).
pub async fn post_bundle(
    base_url: &str,
    token: &str,
    bytes: Vec<u8>,
) -> Result<Vec<u8>, TransferError> {
    let resp = client()?
        .post(endpoint(base_url, ""))
        .bearer_auth(token)
        .header(reqwest::header::CONTENT_TYPE, BUNDLE_MEDIA_TYPE)
        .body(bytes)
        .send()
        .await
        .map_err(|e| TransferError::Network(without_url(e)))?;
    answer(resp).await
}

/// Fetch the signed bundle the partner at `base_url` made for this installation, with
/// `token`; `query` (already encoded, may be empty) is appended, e.g. a cursor.
pub async fn fetch_bundle(
    base_url: &str,
    token: &str,
    query: &str,
) -> Result<Vec<u8>, TransferError> {
    let resp = client()?
        .get(endpoint(base_url, query))
        .bearer_auth(token)
        .send()
        .await
        .map_err(|e| TransferError::Network(without_url(e)))?;
    answer(resp).await
}
