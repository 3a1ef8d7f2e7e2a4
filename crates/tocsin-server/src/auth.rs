//! Who is calling: bearer tokens for the API, session cookies for the browser, CSRF checks.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, Method};
use rand::RngCore;
use sha2::{Digest, Sha256};
use tocsin_domain::user::token_hash;
use tocsin_domain::User;
use tocsin_store::{StoreError, WebSession};

use crate::error::ApiError;
use crate::AppState;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "tocsin_session";
/// How long a browser session lasts.
pub const SESSION_HOURS: i64 = 12;

/// A random URL-safe secret of 256 bits.
pub fn random_secret() -> String {
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

/// The stored hash of a session cookie value.
pub fn session_hash(cookie: &str) -> String {
    hex::encode(Sha256::digest(cookie.as_bytes()))
}

/// The value of cookie `name` in the request, if any.
pub fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Constant-time string equality, for secrets: the digests of both sides are compared, so
/// neither where they first differ nor the secret's length shows in the time taken.
pub fn same(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    Sha256::digest(a.as_bytes())
        .ct_eq(&Sha256::digest(b.as_bytes()))
        .into()
}

/// The browser session behind the request's cookie, and its user.
pub async fn session_user(parts: &Parts, state: &AppState) -> Option<(WebSession, User)> {
    let c = cookie(parts, SESSION_COOKIE)?;
    let s = state.store.get_session(&session_hash(c)).await.ok()?;
    let u = state.store.get_user(s.user_id).await.ok()?;
    (!u.disabled).then_some((s, u))
}

/// The authenticated caller of an API route. What they may do is the application layer's to
/// decide ([`tocsin_app`]).
///
/// A bearer token works for every method. A browser session cookie also works (so the map
/// page can read incidents), but for anything other than GET/HEAD the request must carry the
/// session's CSRF token in `X-CSRF-Token`.
pub struct CurrentUser(pub User);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(auth) = parts.headers.get(header::AUTHORIZATION) {
            let token = auth
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim)
                .ok_or_else(ApiError::unauthorized)?;
            return match state.tokens.user(&state.store, &token_hash(token)).await {
                Ok(u) if !u.disabled => Ok(CurrentUser(u)),
                Ok(_) | Err(StoreError::NotFound) => Err(ApiError::unauthorized()),
                Err(e) => Err(e.into()),
            };
        }
        let (session, user) = session_user(parts, state)
            .await
            .ok_or_else(ApiError::unauthorized)?;
        if parts.method != Method::GET && parts.method != Method::HEAD {
            let sent = parts
                .headers
                .get("x-csrf-token")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !same(sent, &session.csrf_token) {
                return Err(ApiError::new(
                    axum::http::StatusCode::FORBIDDEN,
                    "missing or wrong X-CSRF-Token for a cookie-authenticated request",
                ));
            }
        }
        Ok(CurrentUser(user))
    }
}

/// A very short-lived cache of token → user, so a busy client's burst of requests is not a
/// database read each. Entries live [`TOKEN_CACHE_TTL`] (a fifth of a second): a user disabled
/// or a token revoked by another process (the CLI, another server on the same database) stops
/// working within that time; this process clears the cache at once when it withdraws one.
#[derive(Default)]
pub struct TokenCache {
    map: std::sync::Mutex<std::collections::HashMap<String, (std::time::Instant, User)>>,
}

/// How long a cached token → user answer is used.
pub const TOKEN_CACHE_TTL: std::time::Duration = std::time::Duration::from_millis(200);

impl TokenCache {
    /// The user for a token hash, from the cache or the store.
    pub async fn user(
        &self,
        store: &tocsin_store::DynStore,
        hash: &str,
    ) -> Result<User, StoreError> {
        if let Some((at, u)) = self.map.lock().expect("token cache poisoned").get(hash) {
            if at.elapsed() < TOKEN_CACHE_TTL {
                return Ok(u.clone());
            }
        }
        let u = store.user_for_token(hash).await?;
        let mut m = self.map.lock().expect("token cache poisoned");
        if m.len() > 10_000 {
            m.clear();
        }
        m.insert(hash.to_string(), (std::time::Instant::now(), u.clone()));
        Ok(u)
    }

    /// Forget every cached answer (after a user is disabled or a token revoked).
    pub fn clear(&self) {
        self.map.lock().expect("token cache poisoned").clear();
    }
}
