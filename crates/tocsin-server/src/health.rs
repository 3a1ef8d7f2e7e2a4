//! `/healthz` and the server's own background jobs (the outbox, the incident index refresh), which
//! `tocsin serve` hands to its job runner.
//!
//! `/healthz` answers `{"status": "ok"}`, or 503 when storage is unreachable or a job has
//! failed for longer than its tolerance. `/healthz?detail` adds each job's last success,
//! backlog and last error, for loopback clients and admins only: polled by anyone, the
//! outbox's backlog would time when a warner's acknowledgement was queued. Anyone else asking
//! for detail gets the status alone.

use axum::extract::{RawQuery, State};
use axum::http::{Extensions, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::net::SocketAddr;
use std::time::Duration;
use tocsin_jobs::{Job, Progress};

use crate::auth::CurrentUser;
use crate::error::ApiError;
use crate::AppState;

/// The outbox job: send due deliveries (every second, and at once when one is queued).
pub fn outbox_job(st: &AppState, tolerance: Duration) -> Job {
    let delivery = st.delivery.clone();
    Job::new("outbox", Duration::from_secs(1), move || {
        let d = delivery.clone();
        async move { d.pass().await }
    })
    .woken_by(st.outbox_wake.clone())
    .tolerance(tolerance)
    .backoff(tocsin_jobs::Backoff {
        base: Duration::from_secs(2),
        max: Duration::from_secs(60),
    })
}

/// The incident index job (map and lists): load the index at start (a few seconds per million incidents, rather
/// than on the first map request), then keep it fresh every `every`.
pub fn incident_index_job(st: &AppState, every: Duration, tolerance: Duration) -> Job {
    let (index, store) = (st.incident_index.clone(), st.store.clone());
    Job::new("incident-index", every, move || {
        let (index, store) = (index.clone(), store.clone());
        async move {
            index
                .refresh(&store)
                .await
                .map(|()| Progress::done())
                .map_err(|e| format!("could not refresh the incident index: {e}").into())
        }
    })
    .tolerance(tolerance)
}

/// Whether the caller may see per-job detail: a loopback client (through the trusted
/// proxies), or a user the application layer lets see it (`tocsin_app::policy::job_detail`).
fn detailed(
    st: &AppState,
    headers: &HeaderMap,
    ext: &Extensions,
    user: &Result<CurrentUser, ApiError>,
) -> bool {
    // A request relayed by a proxy on this host that is not listed as trusted comes from
    // loopback too: with a forwarding header, it is not taken as local.
    let forwarded = ["x-forwarded-for", "forwarded", "x-real-ip"]
        .iter()
        .any(|h| headers.contains_key(*h));
    let loopback = ext
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        .is_some_and(|c| {
            let peer = c.0.ip();
            let trusted = st.trusted_proxies.iter().any(|n| n.contains(&peer));
            (trusted || !forwarded)
                && crate::net::client_ip(headers, peer, &st.trusted_proxies).is_loopback()
        });
    loopback || matches!(user, Ok(CurrentUser(u)) if tocsin_app::policy::job_detail(u).is_ok())
}

/// `GET /healthz` (`?detail` for each job's state).
pub async fn healthz(
    State(st): State<AppState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    ext: Extensions,
    user: Result<CurrentUser, ApiError>,
) -> Response {
    if st.store.get_meta("schema").await.is_err() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({"status": "storage unavailable"})),
        )
            .into_response();
    }
    let now = tocsin_domain::time::now();
    let jobs = st.jobs.snapshot();
    let failing = jobs.values().any(|j| j.unhealthy(now));
    let (code, status) = if failing {
        (StatusCode::SERVICE_UNAVAILABLE, "failing")
    } else {
        (StatusCode::OK, "ok")
    };
    let asked = q.as_deref().is_some_and(|q| {
        q.split('&')
            .any(|p| p == "detail" || p.starts_with("detail="))
    });
    if !asked || !detailed(&st, &headers, &ext, &user) {
        return (code, Json(serde_json::json!({ "status": status }))).into_response();
    }
    let detail: serde_json::Map<String, serde_json::Value> = jobs
        .into_iter()
        .map(|(name, j)| {
            let r = &j.record;
            let mut v = serde_json::json!({
                "last_ok": r.last_ok,
                "failing_since": r.failing_since,
                "last_error": r.last_error,
                "tolerance_secs": j.tolerance.as_secs(),
                "here": j.here,
                "healthy": !j.unhealthy(now),
            });
            if let Some(b) = r.backlog {
                v["pending"] = b.into();
            }
            if name == "outbox" {
                v["withheld"] = st.delivery.withheld().into();
            }
            (name, v)
        })
        .collect();
    (
        code,
        Json(serde_json::json!({ "status": status, "jobs": detail })),
    )
        .into_response()
}
