//! Monitored feeds across a crash, against real `tocsin serve` processes and a feed server on
//! an ephemeral port serving RSS 2.0, Atom and JSON Feed: 1,020 entries over several polls
//! (each poll's window overlaps the last, so GUIDs repeat; entries in the overlap come back
//! edited; some entries have no text; one poll of each feed is malformed, one answers 429
//! with `Retry-After`, and an unchanged feed answers 304 to its ETag). The first server is
//! killed (SIGKILL) mid-way; a second one on the same data polls on. Each entry is stored
//! exactly once, in its first version; a malformed poll stores nothing; 304s are honoured;
//! no poll comes before the `Retry-After` it was given.

mod common;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use common::*;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Entries per feed.
const PER_FEED: usize = 340;
/// Entries per poll, and the step between polls (the rest repeats the last poll's).
const WINDOW: usize = 60;
const STEP: usize = 40;
/// Windows to serve: the last one ends at `PER_FEED`.
const WINDOWS: usize = (PER_FEED - WINDOW) / STEP + 1;
const RETRY_AFTER: u64 = 2;

#[derive(Default)]
struct Feed {
    /// Full answers (200) served so far: the window shown is `served / 2`, so every window
    /// is served twice, the second time answering 304 to a client sending its ETag.
    requests: usize,
    conditional_304: usize,
    malformed_served: bool,
    limited: bool,
    limited_at: Option<Instant>,
    /// Requests that came before the Retry-After had passed.
    too_early: usize,
    finished: bool,
}

type Shared = Arc<Mutex<BTreeMap<String, Feed>>>;

/// Entry `n` of feed `f`: every 17th has neither title nor text (left out); an entry shown
/// a second time (in the overlap of two windows) is "edited".
fn entry(n: usize, edited: bool) -> (String, String, String) {
    let guid = format!("urn:entry:{n}");
    let title = if n % 17 == 5 {
        String::new()
    } else {
        format!("Entry {n}")
    };
    let text = if n % 17 == 5 {
        String::new()
    } else if edited {
        format!("<p>Edited: entry {n} &amp; more</p>")
    } else {
        format!("<p>Original text of entry {n} &amp; more</p>")
    };
    (guid, title, text)
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn body(kind: &str, window: usize) -> (String, &'static str) {
    let start = window * STEP;
    let entries: Vec<_> = (start..(start + WINDOW).min(PER_FEED))
        .map(|n| entry(n, window > 0 && n < start + (WINDOW - STEP)))
        .collect();
    match kind {
        "rss" => {
            let items: String = entries
                .iter()
                .map(|(g, t, x)| {
                    format!(
                        "<item><guid>{g}</guid><title>{}</title><description>{}</description>\
                         <link>https://news.example/{g}</link><author>desk@news.example (Desk)</author></item>",
                        esc(t),
                        esc(x)
                    )
                })
                .collect();
            (
                format!(
                    "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>R</title>\
                     <link>https://news.example/</link><description>d</description>{items}</channel></rss>"
                ),
                "application/rss+xml",
            )
        }
        "atom" => {
            let items: String = entries
                .iter()
                .map(|(g, t, x)| {
                    format!(
                        "<entry><id>{g}</id><title>{}</title><updated>2026-12-07T03:00:00Z</updated>\
                         <content type=\"html\">{}</content><author><name>Desk</name></author></entry>",
                        esc(t),
                        esc(x)
                    )
                })
                .collect();
            (
                format!(
                    "<?xml version=\"1.0\"?><feed xmlns=\"http://www.w3.org/2005/Atom\"><id>urn:a</id>\
                     <title>A</title><updated>2026-12-07T03:00:00Z</updated>{items}</feed>"
                ),
                "application/atom+xml",
            )
        }
        _ => {
            let items: Vec<_> = entries
                .iter()
                .map(|(g, t, x)| {
                    let mut v = serde_json::json!({"id": g});
                    if !t.is_empty() {
                        v["title"] = t.clone().into();
                    }
                    if !x.is_empty() {
                        v["content_html"] = x.clone().into();
                    }
                    v
                })
                .collect();
            (
                serde_json::json!({"version": "https://jsonfeed.org/version/1.1",
                    "title": "J", "items": items})
                .to_string(),
                "application/feed+json",
            )
        }
    }
}

async fn serve_feed(
    State(feeds): State<Shared>,
    Path(kind): Path<String>,
    headers: HeaderMap,
) -> Response {
    // Slow enough for the kill to land mid-way.
    tokio::time::sleep(Duration::from_millis(30)).await;
    let mut all = feeds.lock().unwrap();
    let f = all.entry(kind.clone()).or_default();
    if let Some(at) = f.limited_at.take() {
        if at.elapsed() < Duration::from_secs(RETRY_AFTER) {
            f.too_early += 1;
        }
    }
    let window = f.requests / 2;
    if window >= WINDOWS {
        f.finished = true;
        let (b, ct) = body(&kind, WINDOWS - 1);
        return ([("content-type", ct), ("etag", "\"last\"")], b).into_response();
    }
    let etag = format!("\"w{window}\"");
    if headers.get("if-none-match").and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        f.requests += 1;
        f.conditional_304 += 1;
        return StatusCode::NOT_MODIFIED.into_response();
    }
    if window == 3 && !f.malformed_served {
        f.malformed_served = true;
        return (
            [("content-type", "application/xml")],
            if kind == "json" {
                "{\"version\": \"https://jsonfeed.org/version/1.1\", \"items\": [".to_string()
            } else {
                "<rss version=\"2.0\"><channel><item><guid>urn:entry:bad</guid><title>x".to_string()
            },
        )
            .into_response();
    }
    if window == 5 && !f.limited {
        // Once: ask to wait.
        f.limited = true;
        f.limited_at = Some(Instant::now());
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", RETRY_AFTER.to_string())],
            "slow down",
        )
            .into_response();
    }
    f.requests += 1;
    let (b, ct) = body(&kind, window);
    ([("content-type", ct.to_string()), ("etag", etag)], b).into_response()
}

async fn counts(db: &std::path::Path) -> BTreeMap<String, (i64, i64)> {
    use sqlx::Connection;
    let url = format!("sqlite://{}?mode=ro", db.display());
    let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let rows: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT origin, COUNT(*), COUNT(DISTINCT key) FROM monitored_items GROUP BY origin",
    )
    .fetch_all(&mut c)
    .await
    .unwrap();
    rows.into_iter().map(|(o, a, d)| (o, (a, d))).collect()
}

async fn texts(db: &std::path::Path) -> Vec<String> {
    use sqlx::Connection;
    let url = format!("sqlite://{}?mode=ro", db.display());
    let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query_scalar("SELECT json_extract(body, '$.text') FROM monitored_items")
        .fetch_all(&mut c)
        .await
        .unwrap()
}

async fn wait_until(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < deadline, "waited {secs} s for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn feeds_polled_across_a_kill_store_each_entry_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let feeds: Shared = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new()
        .route("/feed/{kind}", axum::routing::get(serve_feed))
        .with_state(feeds.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let cfg = d.join("tocsin.toml");
    let mut toml = String::new();
    for kind in ["rss", "atom", "json"] {
        toml.push_str(&format!(
            "[[feeds]]\nname = \"{kind}-feed\"\nurl = \"{base}/feed/{kind}\"\ninterval = \"1s\"\n\
             country = \"CAF\"\nlanguage = \"fr\"\n\n"
        ));
    }
    std::fs::write(&cfg, toml).unwrap();
    let cfg = cfg.to_str().unwrap().to_string();

    let requests = || -> usize { feeds.lock().unwrap().values().map(|f| f.requests).sum() };
    let first = serve_with_config(d, &cfg);
    wait_until("the first server to poll a while", 180, || requests() >= 12).await;
    first.kill9();

    let second = serve_with_config(d, &cfg);
    wait_until("every feed to be read to its end", 300, || {
        let all = feeds.lock().unwrap();
        all.len() == 3 && all.values().all(|f| f.finished)
    })
    .await;
    // One more poll of each after the end is seen: everything before it is stored.
    let db = d.join("tocsin.db");
    let c = counts(&db).await;
    let texts = texts(&db).await;
    drop(second);

    let valid = (0..PER_FEED).filter(|n| n % 17 != 5).count() as i64;
    for kind in ["rss", "atom", "json"] {
        assert_eq!(
            c.get(&format!("{kind}-feed")).copied(),
            Some((valid, valid)),
            "{kind}: each of the {valid} entries with text stored once ({c:?})"
        );
    }
    assert!(
        texts.iter().all(|t| !t.contains("Edited")),
        "an edited entry keeps its first version"
    );
    assert!(
        texts.iter().all(|t| !t.contains("<p>")),
        "HTML reduced to text"
    );
    assert!(texts
        .iter()
        .any(|t| t.contains("Original text of entry 7 & more")));
    let all = feeds.lock().unwrap();
    for (kind, f) in all.iter() {
        assert!(f.malformed_served, "{kind}: the malformed poll came");
        assert!(
            f.conditional_304 >= 3,
            "{kind}: ETags sent back and 304s honoured ({})",
            f.conditional_304
        );
        assert!(f.limited, "{kind}: the 429 came");
        assert_eq!(f.too_early, 0, "{kind}: Retry-After obeyed");
    }
}
