//! Monitored feeds and archives (issue 19): the feed pollers (one job per `[[feeds]]` entry on
//! the job runner) and the API: `GET /api/v1/monitor/items`, `GET /api/v1/monitor/items/{id}`,
//! `GET /api/v1/monitor/feeds` and `POST /api/v1/monitor/import`. The rules are the
//! application layer's ([`tocsin_app::monitor`]).
//!
//! **A poll.** A conditional GET (`If-None-Match` with the stored ETag, `If-Modified-Since`
//! with the stored `Last-Modified`): 304 stores nothing but the poll state. A 200 body (at
//! most the feed's `max_bytes`) is parsed; its new entries are stored, scanned and flagged
//! with the feed's new poll state in one write, so a process killed mid-poll leaves either
//! all of it or none, and the next poll stores each entry once. A malformed feed is logged
//! with the feed's name and nothing of it is stored. 429 waits its `Retry-After` (at least the
//! interval); 5xx and network failures back off, doubling from the interval up to an hour.
//! The next poll time is kept in the database, so a restart keeps them.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tocsin_app::monitor::{
    parse_feed, store_entries, ArchiveFormat, FeedConfig, ImportOptions, ImportSummary, ItemQuery,
};
use tocsin_domain::{Actor, FeedState, ItemKind, MonitoredItem, Page, PageRequest, SpeechFlag};
use tocsin_jobs::{Backoff, Job, JobError, Progress};

use crate::analysis::parse_id;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::input::{non_empty, parse_query};
use crate::AppState;

/// The longest a feed is asked to wait after failures.
pub const MAX_BACKOFF: Duration = Duration::from_secs(3600);
/// The largest archive `POST /api/v1/monitor/import` takes (larger ones: the CLI).
pub const MAX_IMPORT_BYTES: usize = 64 * 1024 * 1024;

/// What one poll did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Polled {
    /// Not due yet (its next poll time is later).
    NotDue,
    /// 304: nothing new.
    NotModified,
    /// A body read: entries offered and stored.
    Fetched {
        /// Entries in the feed.
        entries: u64,
        /// New items.
        stored: u64,
    },
    /// The poll failed; the next one is put off (`Retry-After` or back-off).
    Failed(String),
}

fn after(now: chrono::DateTime<chrono::Utc>, d: Duration) -> chrono::DateTime<chrono::Utc> {
    now + chrono::Duration::from_std(d).unwrap_or(chrono::Duration::hours(1))
}

/// The wait after `failures` failed polls in a row: the interval doubled each time, at most
/// [`MAX_BACKOFF`] (and never less than the interval).
pub fn backoff(interval: Duration, failures: u32) -> Duration {
    Backoff {
        base: interval,
        max: MAX_BACKOFF.max(interval),
    }
    .delay(failures)
}

/// A `Retry-After` header: seconds, or an HTTP date.
fn retry_after(h: &reqwest::header::HeaderMap) -> Option<Duration> {
    let v = h.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    (at.with_timezone(&chrono::Utc) - tocsin_domain::time::now())
        .to_std()
        .ok()
}

/// Poll one feed once, if due (see the module).
pub async fn poll_feed(st: &AppState, http: &reqwest::Client, feed: &FeedConfig) -> Polled {
    let store = &*st.store;
    let now = tocsin_domain::time::now();
    let mut state = match store.feed_state(&feed.name).await {
        Ok(s) => s.unwrap_or_default(),
        Err(e) => return Polled::Failed(format!("cannot read the feed's state: {e}")),
    };
    if state.url != feed.url {
        // A new address: what was kept for the old one says nothing about it.
        state.etag = None;
        state.last_modified = None;
        state.next_poll = None;
    }
    state.name = feed.name.clone();
    state.url = feed.url.clone();
    if state.next_poll.is_some_and(|n| n > now) {
        return Polled::NotDue;
    }
    state.last_poll = Some(now);
    state.polls += 1;
    let mut req = http.get(&feed.url);
    if let Some(e) = &state.etag {
        req = req.header(reqwest::header::IF_NONE_MATCH, e);
    }
    if let Some(m) = &state.last_modified {
        req = req.header(reqwest::header::IF_MODIFIED_SINCE, m);
    }
    let actor = Actor::system("feeds");
    let fail = |mut state: FeedState, status: &str, error: String, wait: Option<Duration>| {
        state.failures += 1;
        state.last_status = Some(status.to_string());
        state.last_error = Some(error.clone());
        let wait = wait
            .unwrap_or_else(|| backoff(feed.interval, state.failures))
            .max(feed.interval);
        state.next_poll = Some(after(now, wait));
        (state, error)
    };
    let outcome: Result<(FeedState, u64, u64), (FeedState, String)> = async {
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => {
                let e = format!("cannot reach the feed: {}", e.without_url());
                return Err(fail(state, "error", e, None));
            }
        };
        let status = resp.status();
        if status == reqwest::StatusCode::NOT_MODIFIED {
            state.not_modified += 1;
            state.failures = 0;
            state.last_status = Some("304".into());
            state.last_error = None;
            state.next_poll = Some(after(now, feed.interval));
            return Ok((state, 0, 0));
        }
        if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            let wait = retry_after(resp.headers());
            return Err(fail(state, "429", "the feed asked to wait (429)".into(), wait));
        }
        if !status.is_success() {
            let e = format!("the feed answered {}", status.as_u16());
            return Err(fail(state, status.as_str(), e, None));
        }
        let header = |n: reqwest::header::HeaderName| {
            resp.headers()
                .get(n)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let etag = header(reqwest::header::ETAG);
        let last_modified = header(reqwest::header::LAST_MODIFIED);
        if resp.content_length().is_some_and(|n| n > feed.max_bytes) {
            let e = format!("the feed is larger than {} bytes", feed.max_bytes);
            return Err(fail(state, "too large", e, None));
        }
        let mut body = Vec::new();
        let mut resp = resp;
        loop {
            match resp.chunk().await {
                Ok(Some(c)) => {
                    if body.len() as u64 + c.len() as u64 > feed.max_bytes {
                        let e = format!("the feed is larger than {} bytes", feed.max_bytes);
                        return Err(fail(state, "too large", e, None));
                    }
                    body.extend_from_slice(&c);
                }
                Ok(None) => break,
                Err(e) => {
                    let e = format!("reading the feed failed: {}", e.without_url());
                    return Err(fail(state, "error", e, None));
                }
            }
        }
        let (entries, left_out) = match tokio::task::spawn_blocking(move || parse_feed(&body)).await
        {
            Ok(Ok(x)) => x,
            Ok(Err(e)) => {
                tracing::warn!(feed = %feed.name, error = %e, "malformed feed; nothing stored");
                return Err(fail(state, "malformed", format!("malformed feed: {e}"), None));
            }
            Err(e) => return Err(fail(state, "error", e.to_string(), None)),
        };
        if left_out > 0 {
            tracing::warn!(feed = %feed.name, left_out, "feed entries without text or title left out");
        }
        state.etag = etag;
        state.last_modified = last_modified;
        state.failures = 0;
        state.last_status = Some(status.as_str().to_string());
        state.last_error = None;
        state.next_poll = Some(after(now, feed.interval));
        let n = entries.len() as u64;
        let mut stored = 0;
        // One write per chunk; the poll state (ETag) goes with the last one, so a poll
        // interrupted between chunks is made again and stores only what is missing.
        let mut chunks = entries.chunks(tocsin_app::monitor::BATCH).peekable();
        if chunks.peek().is_none() {
            store_entries(store, &actor, &feed.defaults(), &[], Some(state.clone()))
                .await
                .map_err(|e| (state.clone(), format!("cannot store: {e}")))?;
        }
        while let Some(chunk) = chunks.next() {
            let last = chunks.peek().is_none();
            let s = store_entries(
                store,
                &actor,
                &feed.defaults(),
                chunk,
                last.then(|| state.clone()),
            )
            .await
            .map_err(|e| (state.clone(), format!("cannot store: {e}")))?;
            stored += s.stored;
        }
        Ok((state, n, stored))
    }
    .await;
    match outcome {
        Ok((state, entries, stored)) => {
            if entries == 0 && state.last_status.as_deref() == Some("304") {
                if let Err(e) = save_state(st, &actor, &feed.defaults(), state).await {
                    return Polled::Failed(e);
                }
                return Polled::NotModified;
            }
            tracing::info!(feed = %feed.name, entries, stored, "feed polled");
            Polled::Fetched { entries, stored }
        }
        Err((state, e)) => {
            tracing::warn!(feed = %feed.name, error = %e, "feed poll failed");
            if let Err(e2) = save_state(st, &actor, &feed.defaults(), state).await {
                return Polled::Failed(format!("{e}; {e2}"));
            }
            Polled::Failed(e)
        }
    }
}

async fn save_state(
    st: &AppState,
    actor: &Actor,
    d: &tocsin_app::monitor::ItemDefaults,
    state: FeedState,
) -> Result<(), String> {
    store_entries(&*st.store, actor, d, &[], Some(state))
        .await
        .map(|_| ())
        .map_err(|e| format!("cannot save the feed's state: {e}"))
}

/// The job name of a feed's poller.
pub fn job_name(feed: &str) -> String {
    format!("feed:{feed}")
}

/// One job per configured feed (one server at a time): it wakes every few seconds (at most
/// the feed's interval) and polls when the stored next poll time has come.
pub fn feed_jobs(st: &AppState) -> Vec<Job> {
    let http = match reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .connect_timeout(Duration::from_secs(15))
        .user_agent(concat!(
            "tocsin/",
            env!("CARGO_PKG_VERSION"),
            " (feed reader)"
        ))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "no HTTP client for feeds; feeds are not polled");
            return Vec::new();
        }
    };
    st.feeds
        .iter()
        .map(|feed| {
            let st = st.clone();
            let http = http.clone();
            let feed = feed.clone();
            let tick = feed.interval.min(Duration::from_secs(5));
            Job::new(&job_name(&feed.name), tick, move || {
                let (st, http, feed) = (st.clone(), http.clone(), feed.clone());
                async move {
                    match poll_feed(&st, &http, &feed).await {
                        Polled::Failed(e) => Err(JobError::from(e)),
                        _ => Ok(Progress::done()),
                    }
                }
            })
            .singleton()
            .backoff(Backoff {
                base: tick,
                max: tick,
            })
            .tolerance(Duration::from_secs(6 * 3600))
        })
        .collect()
}

/// Query parameters of the item list.
#[derive(Debug, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ItemListQuery {
    /// A feed's or archive's name.
    pub origin: Option<String>,
    /// `yes`: flagged items only; `no`: items without a flag only.
    pub flagged: Option<String>,
    /// Page size, 1–500 (default 50).
    pub limit: Option<String>,
    /// Cursor from the previous page.
    pub cursor: Option<String>,
}

impl ItemListQuery {
    /// What the application layer is asked, and which page.
    pub fn to_query(&self) -> ApiResult<(ItemQuery, PageRequest)> {
        let limit = non_empty(&self.limit)
            .map(|l| {
                l.parse::<u32>()
                    .map_err(|_| ApiError::field("limit", "expected a whole number"))
            })
            .transpose()?;
        let page = PageRequest::parse(limit, non_empty(&self.cursor))
            .map_err(|e| ApiError::field(e.field().unwrap_or("cursor"), e.to_string()))?;
        Ok((
            ItemQuery {
                origin: non_empty(&self.origin).map(str::to_string),
                flagged: non_empty(&self.flagged).map(str::to_string),
            },
            page,
        ))
    }
}

/// One page of monitored items.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ItemPage {
    items: Vec<MonitoredItem>,
    next_cursor: Option<String>,
}

/// A monitored item with the flags on it the caller may see.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ItemWithFlags {
    /// The item.
    pub item: MonitoredItem,
    /// Its flags.
    pub flags: Vec<SpeechFlag>,
}

/// `GET /api/v1/monitor/items`: monitored items (public posts from feeds and archives) the
/// caller may see (readers of speech flags, at their clearance), newest first.
#[utoipa::path(get, path = "/api/v1/monitor/items", params(ItemListQuery), tag = "monitor",
    responses((status = 200, body = ItemPage), (status = 400), (status = 403), (status = 422)),
    security(("bearer" = [])))]
pub async fn list_items(
    State(st): State<AppState>,
    user: CurrentUser,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<Page<MonitoredItem>>> {
    let q: ItemListQuery = parse_query(q.as_deref())?;
    let (q, page) = q.to_query()?;
    Ok(Json(st.app().list_items(&user.0, q, page).await?))
}

/// `GET /api/v1/monitor/items/{id}`: one item and its flags (404 above the caller's
/// clearance).
#[utoipa::path(get, path = "/api/v1/monitor/items/{id}", tag = "monitor",
    responses((status = 200, body = ItemWithFlags), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn get_item(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<ItemWithFlags>> {
    let (item, flags) = st.app().get_item(&user.0, parse_id(&id)?).await?;
    Ok(Json(ItemWithFlags { item, flags }))
}

/// `GET /api/v1/monitor/feeds`: each feed's poll state (last poll, status, ETag kept, items,
/// next poll).
#[utoipa::path(get, path = "/api/v1/monitor/feeds", tag = "monitor",
    responses((status = 200, body = Vec<FeedState>), (status = 403)),
    security(("bearer" = [])))]
pub async fn list_feeds(
    State(st): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<Vec<FeedState>>> {
    Ok(Json(st.app().monitor_status(&user.0).await?.0))
}

/// Query parameters of an archive import.
#[derive(Debug, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// The archive's name (its items' origin).
    pub name: String,
    /// `telegram` (Telegram Desktop's `result.json`), `jsonl` or `csv`.
    pub format: String,
    /// The country of its posts (ISO 3166 alpha-3).
    pub country: Option<String>,
    /// Its items' label (default `TLP:GREEN`).
    pub tlp: Option<String>,
}

/// `POST /api/v1/monitor/import?name=…&format=…`: import an archive of posts (the body:
/// the file, gzip-compressed or not; at most 64 MiB here, any size with `tocsin monitor
/// import`). Each post is stored once per archive name, scanned and flagged; the summary counts
/// posts read, stored, duplicates, malformed (with their places) and flagged. Admins and
/// analysts.
#[utoipa::path(post, path = "/api/v1/monitor/import", params(ImportQuery), tag = "monitor",
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, body = ImportSummary), (status = 400), (status = 403),
        (status = 413), (status = 422)),
    security(("bearer" = [])))]
pub async fn import(
    State(st): State<AppState>,
    user: CurrentUser,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> ApiResult<Json<ImportSummary>> {
    let q: ImportQuery = parse_query(q.as_deref())?;
    let opts = ImportOptions {
        name: q.name,
        format: ArchiveFormat::parse(&q.format)?,
        country: q.country,
        tlp: q.tlp,
    };
    Ok(Json(
        st.app()
            .import_archive((&user.0).into(), std::io::Cursor::new(body), opts)
            .await?,
    ))
}

/// The monitor routes' part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(list_items, get_item, list_feeds, import),
    components(schemas(
        ItemPage,
        ItemWithFlags,
        MonitoredItem,
        ItemKind,
        FeedState,
        ImportSummary
    ))
)]
pub struct MonitorDoc;

/// The routes, to nest under `/api/v1`.
pub fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/monitor/items", get(list_items))
        .route("/monitor/items/{id}", get(get_item))
        .route("/monitor/feeds", get(list_feeds))
        .route(
            "/monitor/import",
            post(import).layer(axum::extract::DefaultBodyLimit::max(MAX_IMPORT_BYTES)),
        )
}
