//! The Telegram poller across a crash, against real `tocsin serve` processes and a stand-in
//! Bot API on an ephemeral port: 1,000 updates (messages, the same messages sent again under
//! new update ids, edits, malformed ones) are being taken when the server is killed (SIGKILL:
//! no shutdown, no flush); a new server on the same data takes the rest. Every message is
//! stored exactly once.

mod common;

use axum::extract::{Path, State};
use axum::Json;
use common::*;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TOKEN: &str = "123456:kill9-test-token";
const UPDATES: i64 = 1000;

#[derive(Default)]
struct Bot {
    updates: Vec<Value>,
    /// The highest offset asked for so far.
    max_offset: i64,
}

type Shared = Arc<Mutex<Bot>>;

async fn bot_api(
    State(bot): State<Shared>,
    Path((bot_token, method)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> Json<Value> {
    assert_eq!(bot_token, format!("bot{TOKEN}"));
    match method.as_str() {
        "getUpdates" => {
            // Slow enough, and in small enough batches, for the kill to land mid-stream.
            tokio::time::sleep(Duration::from_millis(60)).await;
            let mut b = bot.lock().unwrap();
            let offset = body["offset"].as_i64().unwrap_or(0);
            b.max_offset = b.max_offset.max(offset);
            let result: Vec<Value> = b
                .updates
                .iter()
                .filter(|u| u["update_id"].as_i64().unwrap() >= offset)
                .take(20)
                .cloned()
                .collect();
            Json(json!({"ok": true, "result": result}))
        }
        "sendMessage" => Json(json!({"ok": true, "result": {"message_id": 1,
            "chat": {"id": body["chat_id"].clone()}}})),
        _ => Json(json!({"ok": false, "description": "Not Found"})),
    }
}

fn message(update_id: i64, sender: i64, message_id: i64, text: &str) -> Value {
    json!({"update_id": update_id, "message": {
        "message_id": message_id, "date": 1_765_000_000,
        "from": {"id": sender, "is_bot": false, "first_name": "W", "language_code": "en"},
        "chat": {"id": sender, "type": "private"},
        "text": text}})
}

/// 1,000 updates: per ten, seven new messages, one sent again (same chat and message id,
/// new update id), one edit of an earlier message, one malformed. 700 messages in all.
fn updates() -> Vec<Value> {
    let sender = |u: i64| 5_000 + u % 37;
    (1..=UPDATES)
        .map(|u| match u % 10 {
            0 => json!({"update_id": u, "message": {"message_id": "not a number"}}),
            5 => message(
                u,
                sender(u - 1),
                u - 1,
                &format!("Armed men near the market, {}", u - 1),
            ),
            7 => {
                let mut e = message(u, sender(u - 3), u - 3, "edited: they left");
                let m = e["message"].take();
                e.as_object_mut().unwrap().remove("message");
                e["edited_message"] = m;
                e
            }
            _ => message(u, sender(u), u, &format!("Armed men near the market, {u}")),
        })
        .collect()
}

async fn wait_until(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < deadline, "waited {secs} s for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn counts(db: &std::path::Path) -> (i64, i64) {
    use sqlx::Connection;
    let url = format!("sqlite://{}?mode=ro", db.display());
    let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let all: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM reports WHERE channel = 'telegram'")
        .fetch_one(&mut c)
        .await
        .unwrap();
    let distinct: i64 = sqlx::query_scalar(
        "SELECT COUNT(DISTINCT provider_key) FROM reports WHERE channel = 'telegram'",
    )
    .fetch_one(&mut c)
    .await
    .unwrap();
    (all, distinct)
}

#[tokio::test]
async fn a_poller_killed_mid_stream_resumes_and_stores_each_message_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let bot: Shared = Arc::new(Mutex::new(Bot {
        updates: updates(),
        max_offset: 0,
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new()
        .route("/{bot}/{method}", axum::routing::post(bot_api))
        .with_state(bot.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let cfg = d.join("tocsin.toml");
    std::fs::write(
        &cfg,
        format!(
            "[channels.telegram]\nbot_token = \"{TOKEN}\"\napi_base = \"{api}\"\n\
             mode = \"poll\"\npoll_timeout_secs = 1\n"
        ),
    )
    .unwrap();
    let cfg = cfg.to_str().unwrap().to_string();

    let first = serve_with_config(d, &cfg);
    let offset = || bot.lock().unwrap().max_offset;
    wait_until("the first server to take a third", 180, || offset() > 330).await;
    first.kill9();
    let at_kill = offset();
    assert!(
        at_kill < UPDATES,
        "the kill landed mid-stream (offset {at_kill})"
    );

    let second = serve_with_config(d, &cfg);
    wait_until("the second server to take the rest", 300, || {
        offset() > UPDATES
    })
    .await;
    // The offset moves only after its batch is stored.
    let db = d.join("tocsin.db");
    let (all, distinct) = counts(&db).await;
    drop(second);
    assert_eq!(
        (all, distinct),
        (700, 700),
        "each of the 700 messages stored once (killed at offset {at_kill})"
    );
    // The channel's counters, kept in the write that stores or recognises each message: the
    // 700 taken once, every other message taken (re-sent, edited, re-polled after the kill)
    // a duplicate, as many as the audit log has entries.
    use sqlx::Connection;
    let url = format!("sqlite://{}?mode=ro", db.display());
    let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let (taken, duplicates): (i64, i64) =
        sqlx::query_as("SELECT taken, duplicates FROM channel_counters WHERE name = 'telegram'")
            .fetch_one(&mut c)
            .await
            .unwrap();
    let received: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'message.receive' \
         AND detail LIKE '%\"channel\":\"telegram\"%'",
    )
    .fetch_one(&mut c)
    .await
    .unwrap();
    assert_eq!(taken, 700);
    assert!(duplicates >= 200, "re-sent and edited: {duplicates}");
    assert_eq!(taken + duplicates, received, "each message counted once");
}
