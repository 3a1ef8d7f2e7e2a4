//! WhatsApp's webhook across a crash, against real `tocsin serve` processes: 1,000 signed
//! Cloud API calls (`X-Hub-Signature-256`) — new messages, batches of two, the same call
//! delivered again, edits (Meta's `type: "edit"` and a message sent again under its `wamid`
//! with new text), notifications without a message, malformed bodies and messages — are
//! being delivered by four senders when the server is killed (SIGKILL: no shutdown, no
//! flush). Like Meta, the senders deliver again every call that was not answered 200 (a
//! connection refused or cut, a 5xx), with back-off, until a new server on the same data
//! answers. Every message is stored exactly once; the channels' counters
//! (`GET /api/v1/channels`) agree exactly with what was stored and with the audit log; calls
//! with a bad signature are refused (403), counted, and store nothing. On SQLite and on
//! PostgreSQL.

mod common;

use common::*;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const APP_SECRET: &str = "kill9-whatsapp-app-secret-0123";
const VERIFY_TOKEN: &str = "kill9-whatsapp-verify-token-01";
const CALLS: usize = 1000;
/// New messages among the calls: per ten, five single ones and a batch of two.
const MESSAGES: i64 = 700;
const SENDERS: usize = 4;

fn sign(body: &[u8], secret: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

fn wa_id(n: usize) -> String {
    format!("2367{:07}", n % 37)
}

fn text_message(n: usize, id: &str, text: &str) -> Value {
    json!({"from": wa_id(n), "id": id, "timestamp": chrono::Utc::now().timestamp().to_string(),
        "type": "text", "text": {"body": text}})
}

/// A Cloud API notification carrying `messages` (one change per message, as Meta batches).
fn notification(messages: Vec<Value>) -> Value {
    let changes: Vec<Value> = messages
        .into_iter()
        .map(|m| {
            json!({"field": "messages", "value": {"messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "15550000000", "phone_number_id": "1065"},
                "contacts": [{"profile": {"name": "W"}, "wa_id": m["from"].clone()}],
                "messages": [m]}})
        })
        .collect();
    json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": changes}]})
}

fn wamid(i: usize) -> String {
    format!("wamid.KILL9-{i}")
}

/// The text of call `i`'s (single) new message.
fn original(i: usize) -> String {
    format!("Armed men near the market, {i}")
}

/// The text of the edit of call `i`'s message sent again under its `wamid`.
fn edited(i: usize) -> String {
    format!("edited: they left ({i})")
}

/// The messages of the stream: (call, its text, the text of its edit under the same `wamid`
/// if there is one).
fn messages() -> Vec<(usize, String, Option<String>)> {
    let mut out = Vec::new();
    for i in 1..=CALLS {
        match i % 10 {
            1 | 2 | 5 | 9 => out.push((i, original(i), None)),
            3 => out.push((i, original(i), ((i / 10) % 2 == 1).then(|| edited(i)))),
            4 => {
                out.push((i, format!("{} a", original(i)), None));
                out.push((i, format!("{} b", original(i)), None));
            }
            _ => {}
        }
    }
    out
}

/// Call `i` (1 to 1,000): its body, and whether the server must refuse it as malformed (400).
/// Per ten: 1, 2, 3, 5, 9 a new message; 4 a batch of two new ones; 6 call 5 delivered again;
/// 7 an edit (Meta's edit of call 3's message, or call 3's `wamid` again with new text);
/// 8 a notification with no message Tocsin takes (a delivery status, a reaction, an
/// unsupported type); 0 malformed (not JSON, not an object, or messages without a sender, a
/// `wamid`, any text, or with a text too long).
fn call(i: usize) -> (Vec<u8>, bool) {
    let body = |v: Value| serde_json::to_vec(&v).unwrap();
    let new = original;
    match i % 10 {
        4 => (
            body(notification(vec![
                text_message(i, &format!("{}a", wamid(i)), &format!("{} a", new(i))),
                text_message(i + 1, &format!("{}b", wamid(i)), &format!("{} b", new(i))),
            ])),
            false,
        ),
        6 => call(i - 1),
        7 if (i / 10).is_multiple_of(2) => {
            let edit = json!({"from": wa_id(i - 4), "id": format!("{}-edit", wamid(i)),
                "timestamp": chrono::Utc::now().timestamp().to_string(), "type": "edit",
                "edit": {"original_message_id": wamid(i - 4),
                    "message": {"type": "text", "text": {"body": edited(i - 4)}}}});
            (body(notification(vec![edit])), false)
        }
        7 => (
            body(notification(vec![text_message(
                i - 4,
                &wamid(i - 4),
                &edited(i - 4),
            )])),
            false,
        ),
        8 => {
            let v = match (i / 10) % 3 {
                0 => json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA",
                    "changes": [{"field": "messages", "value": {"messaging_product": "whatsapp",
                        "statuses": [{"id": wamid(i - 5), "status": "read",
                            "timestamp": "1765000000", "recipient_id": wa_id(i)}]}}]}]}),
                1 => notification(vec![json!({"from": wa_id(i), "id": wamid(i),
                    "timestamp": "1765000000", "type": "reaction",
                    "reaction": {"message_id": wamid(i - 5), "emoji": "👍"}})]),
                _ => notification(vec![json!({"from": wa_id(i), "id": wamid(i),
                    "timestamp": "1765000000", "type": "unsupported",
                    "errors": [{"code": 131051, "title": "Message type unknown"}]})]),
            };
            (body(v), false)
        }
        0 => match (i / 10) % 7 {
            0 => (
                b"{\"object\": \"whatsapp_business_account\", \"entry\": [".to_vec(),
                true,
            ),
            1 => (b"[1, 2, 3]".to_vec(), true),
            2 => (
                body(notification(vec![
                    json!({"id": wamid(i), "type": "text", "text": {"body": "no sender"}}),
                ])),
                false,
            ),
            3 => (
                body(notification(vec![
                    json!({"from": "not-a-number", "id": wamid(i), "type": "text",
                    "text": {"body": "bad sender"}}),
                ])),
                false,
            ),
            4 => (
                body(notification(vec![
                    json!({"from": wa_id(i), "type": "text", "text": {"body": "no wamid"}}),
                ])),
                false,
            ),
            5 => (
                body(notification(vec![json!({"from": wa_id(i), "id": wamid(i),
                    "type": "text", "text": {"body": "   "}})])),
                false,
            ),
            _ => (
                body(notification(vec![text_message(
                    i,
                    &wamid(i),
                    &"x".repeat(tocsin_domain::report::MAX_TEXT_BYTES + 1),
                )])),
                false,
            ),
        },
        _ => (
            body(notification(vec![text_message(i, &wamid(i), &new(i))])),
            false,
        ),
    }
}

/// The database, read by the test.
enum Db {
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

impl Db {
    async fn scalar(&self, sql: &str) -> i64 {
        use sqlx::Connection;
        match self {
            Db::Sqlite(path) => {
                if !path.exists() {
                    return 0;
                }
                let url = format!("sqlite://{}?mode=ro", path.display());
                let Ok(mut c) = sqlx::SqliteConnection::connect(&url).await else {
                    return 0;
                };
                sqlx::query_scalar(sql).fetch_one(&mut c).await.unwrap_or(0)
            }
            Db::Postgres(url) => {
                let mut c = sqlx::PgConnection::connect(url).await.unwrap();
                sqlx::query_scalar(sql).fetch_one(&mut c).await.unwrap_or(0)
            }
        }
    }

    /// How many reports of the channel have each text.
    async fn texts(&self) -> std::collections::HashMap<String, i64> {
        use sqlx::Connection;
        let sql = "SELECT text FROM reports WHERE channel = 'whatsapp'";
        let rows: Vec<String> = match self {
            Db::Sqlite(path) => {
                let url = format!("sqlite://{}?mode=ro", path.display());
                let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
                sqlx::query_scalar(sql).fetch_all(&mut c).await.unwrap()
            }
            Db::Postgres(url) => {
                let mut c = sqlx::PgConnection::connect(url).await.unwrap();
                sqlx::query_scalar(sql).fetch_all(&mut c).await.unwrap()
            }
        };
        let mut out = std::collections::HashMap::new();
        for t in rows {
            *out.entry(t).or_insert(0) += 1;
        }
        out
    }

    async fn stored(&self) -> i64 {
        self.scalar("SELECT COUNT(*) FROM reports WHERE channel = 'whatsapp'")
            .await
    }
}

/// What the senders have done.
#[derive(Default)]
struct Delivery {
    /// Calls not yet answered (200, or 400 for a malformed one), in the order to try.
    queue: VecDeque<usize>,
    /// Calls answered.
    answered: usize,
    /// Deliveries that failed (refused or cut connection, 5xx) and were made again.
    redelivered: usize,
    /// Where the server listens now (a new port after the restart).
    base: String,
}

type Shared = Arc<Mutex<Delivery>>;

/// One sender: takes the next call, delivers it, and puts it back (to deliver again after a
/// back-off) unless it was answered.
async fn sender(shared: Shared) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let mut backoff = Duration::from_millis(50);
    loop {
        let (i, base) = {
            let mut d = shared.lock().unwrap();
            match d.queue.pop_front() {
                Some(i) => (i, d.base.clone()),
                None => return,
            }
        };
        let (body, malformed) = call(i);
        let sig = sign(&body, APP_SECRET);
        let r = http
            .post(format!("{base}/channels/whatsapp"))
            .header("content-type", "application/json")
            .header("X-Hub-Signature-256", sig)
            .body(body)
            .send()
            .await;
        let status = r.as_ref().map(|r| r.status().as_u16()).ok();
        match status {
            Some(200) => {
                assert!(!malformed, "call {i} is malformed, yet answered 200");
                shared.lock().unwrap().answered += 1;
                backoff = Duration::from_millis(50);
                // Slow enough for the kill to land mid-stream.
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            Some(400) => {
                assert!(malformed, "call {i} is well formed, yet answered 400");
                shared.lock().unwrap().answered += 1;
            }
            Some(s) if s < 500 => panic!("call {i} answered {s}"),
            // Refused, cut, or 5xx: Meta delivers it again later.
            _ => {
                {
                    let mut d = shared.lock().unwrap();
                    d.queue.push_back(i);
                    d.redelivered += 1;
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
            }
        }
    }
}

async fn wait_until<F: std::future::Future<Output = bool>>(
    what: &str,
    secs: u64,
    mut f: impl FnMut() -> F,
) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f().await {
        assert!(Instant::now() < deadline, "waited {secs} s for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn serve(d: &std::path::Path, db: Option<&str>, cfg: &str) -> Server {
    let mut cmd = tocsin(
        d,
        db,
        &["--config", cfg, "serve", "--listen", "127.0.0.1:0"],
    );
    cmd.stderr(std::process::Stdio::inherit());
    Server::spawn(cmd)
}

async fn webhook_killed_mid_stream_stores_each_message_once(db_url: Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let url = db_url.as_deref();
    let db = match &db_url {
        Some(u) => Db::Postgres(u.clone()),
        None => Db::Sqlite(d.join("tocsin.db")),
    };
    let admin = add_user(d, url, "root", "admin");
    let cfg = d.join("tocsin.toml");
    std::fs::write(
        &cfg,
        format!(
            "[channels.whatsapp]\napp_secret = \"{APP_SECRET}\"\nverify_token = \"{VERIFY_TOKEN}\"\n"
        ),
    )
    .unwrap();
    let cfg = cfg.to_str().unwrap().to_string();

    let first = serve(d, url, &cfg);
    let shared: Shared = Arc::new(Mutex::new(Delivery {
        queue: (1..=CALLS).collect(),
        base: first.base.clone(),
        ..Default::default()
    }));
    let senders: Vec<_> = (0..SENDERS)
        .map(|_| tokio::spawn(sender(shared.clone())))
        .collect();
    let answered = || shared.lock().unwrap().answered;
    wait_until(
        "the first server to answer a third of the calls",
        300,
        || {
            let a = answered();
            async move { a >= CALLS / 3 }
        },
    )
    .await;
    first.kill9();
    let stored_at_kill = db.stored().await;
    let answered_at_kill = answered();
    assert!(
        answered_at_kill < CALLS && stored_at_kill < MESSAGES,
        "the kill landed mid-stream ({answered_at_kill} calls answered, {stored_at_kill} stored)"
    );
    // Down for a moment: the senders' deliveries are refused and wait to be made again.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let second = serve(d, url, &cfg);
    shared.lock().unwrap().base = second.base.clone();
    for s in senders {
        s.await.unwrap();
    }
    let redelivered = shared.lock().unwrap().redelivered;
    assert!(
        redelivered > 0,
        "some deliveries failed with the server down"
    );

    // Each of the 700 messages once, in the first version received: as sent or, when the
    // edit under the same wamid overtook it (its call delivered again, or in flight beside
    // the edit's), as edited.
    let distinct = db
        .scalar("SELECT COUNT(DISTINCT provider_key) FROM reports WHERE channel = 'whatsapp'")
        .await;
    assert_eq!(
        (db.stored().await, distinct),
        (MESSAGES, MESSAGES),
        "each of the {MESSAGES} messages stored once \
         (killed with {answered_at_kill} calls answered, {stored_at_kill} stored; \
         {redelivered} deliveries made again)"
    );
    let texts = db.texts().await;
    assert_eq!(messages().len() as i64, MESSAGES);
    for (i, text, edit) in &messages() {
        let stored = texts.get(text).copied().unwrap_or(0);
        let edit_stored = edit
            .as_ref()
            .map_or(0, |e| texts.get(e).copied().unwrap_or(0));
        assert_eq!(
            stored + edit_stored,
            1,
            "call {i}'s message stored once: {stored} as sent, {edit_stored} as edited"
        );
    }

    // Every message the servers took left one audit entry, in the write that stored it or
    // recognised it.
    let received = db
        .scalar(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'message.receive' \
             AND detail LIKE '%\"channel\":\"whatsapp\"%'",
        )
        .await;

    // Forged calls: a wrong secret, a missing or malformed header, another body's signature.
    let http = reqwest::Client::new();
    let (body, _) = call(1);
    let forged: Vec<Option<String>> = vec![
        Some(sign(&body, "not-the-app-secret-0123456789")),
        None,
        Some("sha256=".into()),
        Some("sha256=zz".into()),
        Some(sign(b"{}", APP_SECRET)),
        Some(sign(&body, APP_SECRET).replace("sha256=", "sha1=")),
    ];
    for sig in &forged {
        let mut req = http
            .post(format!("{}/channels/whatsapp", second.base))
            .header("content-type", "application/json")
            .body(call(9_991).0);
        if let Some(s) = sig {
            req = req.header("X-Hub-Signature-256", s);
        }
        let status = req.send().await.unwrap().status();
        assert_eq!(status, reqwest::StatusCode::FORBIDDEN, "{sig:?}");
    }
    assert_eq!(db.stored().await, MESSAGES, "a forged call stored nothing");

    // The channels page's counters: the 700 taken, every other message the servers took as
    // a duplicate (the calls delivered again, the same wamid again, and deliveries that
    // were stored before the kill and made again after it), the forged calls refused.
    let v: Value = http
        .get(format!("{}/api/v1/channels", second.base))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let wa = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "whatsapp")
        .cloned()
        .unwrap_or_else(|| panic!("a whatsapp row: {v}"));
    let taken = wa["taken"].as_i64().unwrap();
    let duplicates = wa["duplicates"].as_i64().unwrap();
    assert_eq!(taken, MESSAGES, "taken: {wa}");
    assert_eq!(
        taken + duplicates,
        received,
        "every message taken counted once, as new or as a duplicate: {wa}"
    );
    // Per ten calls, one delivered again and one sent again under its wamid; at least.
    assert!(duplicates >= 150, "duplicates: {wa}");
    assert_eq!(wa["refused"].as_i64(), Some(forged.len() as i64), "{wa}");
    assert_eq!(
        (wa["configured"].as_bool(), wa["mode"].as_str()),
        (Some(true), Some("webhook"))
    );
    drop(second);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_killed_mid_stream_stores_each_message_once_on_sqlite() {
    webhook_killed_mid_stream_stores_each_message_once(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_killed_mid_stream_stores_each_message_once_on_postgres() {
    let Some(url) = fresh_postgres("tocsin_whatsapp_kill9").await else {
        return;
    };
    webhook_killed_mid_stream_stores_each_message_once(Some(url)).await;
}
