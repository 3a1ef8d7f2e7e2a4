//! The Telegram bot as a report source, on real HTTP: a local stand-in for the Bot API (axum on
//! an ephemeral port) answering `getUpdates` and `sendMessage`, a real SQLite file, the
//! server's webhook on an ephemeral port. Each message is stored once across duplicates,
//! edits, malformed updates, 429/5xx and a restart of the poller; senders are never in clear
//! in the database file or the logs; acknowledgements go out in the sender's language.

mod common;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};
use std::collections::{BTreeSet, VecDeque};
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tocsin_delivery::sms::Secret;
use tocsin_delivery::telegram::{TelegramConfig, TelegramMode};
use tocsin_domain::{Channel, ContactKey, PageRequest, Report, ReportFilter, Tlp};
use tocsin_server::channels::{poll_telegram, PollError};
use tocsin_server::AppState;
use tocsin_store::{DynStore, Store};

const TOKEN: &str = "123456:test-bot-token-DO-NOT-LOG";
const SECRET: &str = "webhook-secret-0123456789";
/// Telegram user ids of the test's senders: 7731000000 + n. None of these digits may appear
/// in the database file or the logs.
const SENDER_BASE: i64 = 7_731_000_000;

/// Every log line of this test binary (one global subscriber, set once).
fn logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buf: Arc<Mutex<Vec<u8>>> = Arc::default();
        struct W(Arc<Mutex<Vec<u8>>>);
        impl Write for W {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let w = buf.clone();
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "trace,reqwest=off,hyper_util::client=off,hyper=off",
            ))
            .with_ansi(false)
            .with_writer(move || W(w.clone()))
            .init();
        buf
    })
    .clone()
}

/// The stand-in Bot API's state.
#[derive(Default)]
struct Bot {
    /// Every update, in `update_id` order.
    updates: Vec<Value>,
    /// The offsets asked for, in order.
    offsets: Vec<Option<i64>>,
    /// Statuses to answer the next `getUpdates` calls with instead (429 or 500).
    fail: VecDeque<u16>,
    /// `sendMessage` calls: chat id and text.
    sent: Vec<(i64, String)>,
    /// The path of every call (the token is in it).
    paths: Vec<String>,
}

type Shared = Arc<Mutex<Bot>>;

async fn bot_api(
    State(bot): State<Shared>,
    Path((bot_token, method)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let mut b = bot.lock().unwrap();
    b.paths.push(format!("/{bot_token}/{method}"));
    if bot_token != format!("bot{TOKEN}") {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"ok": false, "error_code": 401, "description": "Unauthorized"})),
        );
    }
    match method.as_str() {
        "getUpdates" => {
            if let Some(status) = b.fail.pop_front() {
                return match status {
                    429 => (
                        StatusCode::TOO_MANY_REQUESTS,
                        Json(json!({"ok": false, "error_code": 429,
                            "description": "Too Many Requests: retry after 1",
                            "parameters": {"retry_after": 1}})),
                    ),
                    _ => (
                        StatusCode::BAD_GATEWAY,
                        Json(json!({"ok": false, "error_code": 502, "description": "Bad Gateway"})),
                    ),
                };
            }
            let offset = body["offset"].as_i64();
            b.offsets.push(offset);
            // As Telegram: updates from the offset on, at most 100.
            let result: Vec<Value> = b
                .updates
                .iter()
                .filter(|u| offset.is_none_or(|o| u["update_id"].as_i64().unwrap_or(i64::MAX) >= o))
                .take(100)
                .cloned()
                .collect();
            (StatusCode::OK, Json(json!({"ok": true, "result": result})))
        }
        "sendMessage" => {
            let chat = body["chat_id"].as_i64().unwrap();
            let text = body["text"].as_str().unwrap().to_string();
            b.sent.push((chat, text));
            let n = b.sent.len();
            (
                StatusCode::OK,
                Json(json!({"ok": true, "result": {"message_id": n, "chat": {"id": chat}}})),
            )
        }
        _ => (
            StatusCode::NOT_FOUND,
            Json(json!({"ok": false, "description": "Not Found"})),
        ),
    }
}

async fn stand_in(bot: Shared) -> String {
    let app = axum::Router::new()
        .route("/{bot}/{method}", axum::routing::post(bot_api))
        .with_state(bot);
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    base
}

fn config(api_base: &str, mode: TelegramMode) -> TelegramConfig {
    let cfg = TelegramConfig {
        bot_token: Secret(TOKEN.into()),
        api_base: Some(api_base.into()),
        mode,
        secret_token: Some(Secret(SECRET.into())),
        poll_timeout_secs: Some(0),
    };
    cfg.validate().unwrap();
    cfg
}

/// A private-chat message update (the chat id of a private chat is the user's id).
fn message(update_id: i64, sender: i64, message_id: i64, text: &str) -> Value {
    json!({"update_id": update_id, "message": {
        "message_id": message_id, "date": 1_765_000_000,
        "from": {"id": sender, "is_bot": false, "first_name": "W", "language_code": "fr"},
        "chat": {"id": sender, "type": "private"},
        "text": text}})
}

fn edit(update_id: i64, sender: i64, message_id: i64, text: &str) -> Value {
    let mut u = message(update_id, sender, message_id, text);
    let m = u["message"].take();
    u.as_object_mut().unwrap().remove("message");
    u["edited_message"] = m;
    u
}

async fn open(path: &std::path::Path) -> DynStore {
    let url = format!("sqlite://{}", path.display());
    Arc::new(tocsin_store_sqlite::SqliteStore::open(&url).await.unwrap())
}

async fn telegram_reports(store: &dyn Store) -> Vec<Report> {
    let f = ReportFilter {
        max_tlp: Tlp::Red,
        channel: Some(Channel::Telegram),
        ..Default::default()
    };
    let mut out = Vec::new();
    let mut page = PageRequest::first(200);
    loop {
        let p = store.list_reports(&f, page).await.unwrap();
        out.extend(p.items);
        match p.next_cursor {
            Some(c) => page = PageRequest::parse(Some(200), Some(&c)).unwrap(),
            None => return out,
        }
    }
}

/// Every file's bytes in the data directory (the database, its WAL and shared memory).
fn data_bytes(dir: &std::path::Path) -> Vec<u8> {
    let mut all = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_file() {
            all.extend(std::fs::read(&p).unwrap());
        }
    }
    all
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// 1,000 updates: new messages from 40 senders, the same messages delivered again under new
/// update ids, edits of earlier messages, and updates that are no report (group chats, no
/// text, a bot, a callback, a broken object). Returns them and the distinct messages.
fn stream() -> (Vec<Value>, BTreeSet<(i64, i64)>) {
    let mut updates = Vec::new();
    let mut distinct = BTreeSet::new();
    let mut sent: Vec<(i64, i64)> = Vec::new();
    let mut next_msg = 1;
    for i in 0..1000i64 {
        let id = 5_000 + i;
        let sender = SENDER_BASE + (i % 40);
        let u = match i % 10 {
            // A new message (six in ten).
            0..=5 => {
                let m = next_msg;
                next_msg += 1;
                sent.push((sender, m));
                distinct.insert((sender, m));
                let text = if i % 7 == 0 {
                    format!("Des hommes armés brûlent les maisons près du marché, message {m}")
                } else {
                    format!("Armed men seen near the market, message {m}")
                };
                message(id, sender, m, &text)
            }
            // The same message again under a new update id.
            6 => {
                let (s, m) = sent[(i as usize * 7) % sent.len()];
                message(
                    id,
                    s,
                    m,
                    &format!("Armed men seen near the market, message {m}"),
                )
            }
            // An edit of an earlier message.
            7 => {
                let (s, m) = sent[(i as usize * 13) % sent.len()];
                edit(id, s, m, &format!("(edited) message {m}"))
            }
            // Not a report.
            _ => match i % 5 {
                0 => json!({"update_id": id, "message": {"message_id": 1, "from": {"id": sender},
                    "chat": {"id": -100_123, "type": "group"}, "text": "group chatter"}}),
                1 => json!({"update_id": id, "message": {"message_id": 1, "from": {"id": sender},
                    "chat": {"id": sender, "type": "private"}, "sticker": {}}}),
                2 => {
                    json!({"update_id": id, "message": {"message_id": 1, "from": {"id": 99, "is_bot": true},
                    "chat": {"id": 99, "type": "private"}, "text": "I am a bot"}})
                }
                3 => json!({"update_id": id, "callback_query": {"id": "x"}}),
                _ => json!({"update_id": id, "message": "broken"}),
            },
        };
        updates.push(u);
    }
    (updates, distinct)
}

#[tokio::test]
async fn poller_stores_each_message_once_across_duplicates_edits_failures_and_a_restart() {
    let logs = logs();
    let bot: Shared = Arc::default();
    let api = stand_in(bot.clone()).await;
    let (updates, distinct) = stream();
    bot.lock().unwrap().updates = updates.clone();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let key_hex = ContactKey::generate().to_hex();
    let state = |store: DynStore| {
        AppState::new(store, ContactKey::from_hex(&key_hex).unwrap(), false)
            .with_telegram(config(&api, TelegramMode::Poll))
    };

    // The first process: three batches, then a 429 and a 502, which store nothing and keep
    // the offset.
    let first = state(open(&db).await);
    for _ in 0..3 {
        let p = poll_telegram(&first).await.unwrap();
        assert_eq!(p.updates, 100);
    }
    assert_eq!(
        first.store.channel_cursor("telegram").await.unwrap(),
        Some(5_300)
    );
    let stored_before = telegram_reports(&*first.store).await.len();
    bot.lock().unwrap().fail.extend([429, 502]);
    assert_eq!(
        poll_telegram(&first).await.unwrap_err(),
        PollError::RateLimited(Duration::from_secs(1)),
        "Telegram's retry_after is what the poller waits"
    );
    assert!(matches!(
        poll_telegram(&first).await.unwrap_err(),
        PollError::Unavailable(_)
    ));
    assert_eq!(telegram_reports(&*first.store).await.len(), stored_before);
    assert_eq!(
        first.store.channel_cursor("telegram").await.unwrap(),
        Some(5_300)
    );
    // Then it dies mid-batch: it had stored the next 50 updates' messages but not saved the
    // offset (what `poll_telegram` does before it saves it).
    for u in &updates[300..350] {
        if let Some(m) = tocsin_server::channels::telegram_message(u) {
            tocsin_server::channels::ingest_message(&first, m)
                .await
                .unwrap();
        }
    }
    drop(first);

    // A new process on the same database resumes from the stored offset.
    let second = state(open(&db).await);
    let asked_before = bot.lock().unwrap().offsets.len();
    loop {
        let p = poll_telegram(&second).await.unwrap();
        if p.updates == 0 {
            break;
        }
    }
    assert_eq!(
        bot.lock().unwrap().offsets[asked_before],
        Some(5_300),
        "the restarted poller asks from the stored offset"
    );
    assert_eq!(
        second.store.channel_cursor("telegram").await.unwrap(),
        Some(6_000)
    );
    let reports = telegram_reports(&*second.store).await;
    assert_eq!(
        reports.len(),
        distinct.len(),
        "each distinct message is stored exactly once"
    );
    assert_eq!(distinct.len(), 600);
    // Edits never replace what was first received.
    assert!(reports.iter().all(|r| !r.text.starts_with("(edited)")));
    // One source per sender who wrote a message, each a handle.
    let sources: BTreeSet<_> = reports.iter().map(|r| r.source.clone().unwrap()).collect();
    let senders: BTreeSet<_> = distinct.iter().map(|(s, _)| *s).collect();
    assert_eq!(sources.len(), senders.len());
    assert!(reports.iter().all(|r| r.channel == Channel::Telegram));

    // The acknowledgements leave through the outbox to each sender's chat, once per report,
    // in the message's language.
    for _ in 0..200 {
        let p = second.delivery.pass().await.unwrap();
        if p.backlog == Some(0) {
            break;
        }
    }
    let sent = bot.lock().unwrap().sent.clone();
    assert_eq!(sent.len(), distinct.len());
    assert!(sent
        .iter()
        .all(|(chat, _)| (SENDER_BASE..SENDER_BASE + 40).contains(chat)));
    let french = sent.iter().filter(|(_, t)| t.starts_with("Merci.")).count();
    let english = sent
        .iter()
        .filter(|(_, t)| t.starts_with("Thank you."))
        .count();
    assert!(french > 0 && english > 0 && french + english == sent.len());
    for r in &reports {
        let reference = tocsin_sms::reference_code(&r.id);
        assert_eq!(
            sent.iter().filter(|(_, t)| t.contains(&reference)).count(),
            1,
            "one acknowledgement per report"
        );
    }

    // No sender id in clear: not in the database file, not in the logs; nor the bot token.
    drop(second);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let bytes = data_bytes(dir.path());
    let logged = logs.lock().unwrap().clone();
    for n in 0..40 {
        let id = (SENDER_BASE + n).to_string();
        assert!(!contains(&bytes, &id), "sender {id} in the database file");
        assert!(!contains(&logged, &id), "sender {id} in the logs");
    }
    assert!(!contains(&bytes, TOKEN) && !contains(&logged, TOKEN));
    assert!(!contains(&logged, "test-bot-token"));
}

#[tokio::test]
async fn webhook_wants_the_secret_and_stores_each_message_once() {
    let logs = logs();
    let bot: Shared = Arc::default();
    let api = stand_in(bot.clone()).await;
    let app =
        common::TestApp::start_with(|s| s.with_telegram(config(&api, TelegramMode::Webhook))).await;
    let url = format!("{}/channels/telegram", app.base);
    let post = |secret: Option<&'static str>, body: Vec<u8>| {
        let mut req = app
            .client
            .post(url.clone())
            .header("content-type", "application/json")
            .body(body);
        if let Some(s) = secret {
            req = req.header("X-Telegram-Bot-Api-Secret-Token", s);
        }
        async move {
            let r = req.send().await.unwrap();
            let status = r.status();
            (status, r.text().await.unwrap())
        }
    };
    let known = SENDER_BASE + 900;
    let m1 = serde_json::to_vec(&message(1, known, 1, "Armed men near the school")).unwrap();

    // Wrong or missing secret: 403, the same answer whoever the sender, nothing stored.
    let (s1, b1) = post(Some("webhook-secret-0123456788"), m1.clone()).await;
    let (s2, b2) = post(None, m1.clone()).await;
    assert_eq!(s1, reqwest::StatusCode::FORBIDDEN);
    assert_eq!(s2, reqwest::StatusCode::FORBIDDEN);
    assert_eq!(b1, b2);
    assert!(telegram_reports(&*app.store).await.is_empty());

    // Right secret: stored; the same update again, an edit, the same message under a new
    // update id: still one report, and the same answer each time.
    let mut answers = BTreeSet::new();
    for body in [
        m1.clone(),
        m1.clone(),
        serde_json::to_vec(&edit(2, known, 1, "edited")).unwrap(),
        serde_json::to_vec(&message(3, known, 1, "Armed men near the school")).unwrap(),
    ] {
        let (s, b) = post(Some(SECRET), body).await;
        assert_eq!(s, reqwest::StatusCode::OK);
        answers.insert(b);
    }
    assert_eq!(telegram_reports(&*app.store).await.len(), 1);

    // The wrong secret for a known sender answers as for a stranger.
    let (s3, b3) = post(Some("nope"), m1.clone()).await;
    assert_eq!((s3, b3), (s1, b1.clone()));

    // Not a report (a group), a stranger's message: the same `ok` as a duplicate.
    let group = json!({"update_id": 4, "message": {"message_id": 9, "from": {"id": known},
        "chat": {"id": -7, "type": "group"}, "text": "hi"}});
    let (s, b) = post(Some(SECRET), serde_json::to_vec(&group).unwrap()).await;
    assert_eq!(s, reqwest::StatusCode::OK);
    answers.insert(b);
    let stranger = SENDER_BASE + 901;
    let (s, b) = post(
        Some(SECRET),
        serde_json::to_vec(&message(5, stranger, 1, "Checkpoint closed")).unwrap(),
    )
    .await;
    assert_eq!(s, reqwest::StatusCode::OK);
    answers.insert(b);
    assert_eq!(answers.len(), 1, "one answer for every accepted update");
    assert_eq!(telegram_reports(&*app.store).await.len(), 2);

    // Malformed: 400, nothing stored.
    for bad in [b"{not json".to_vec(), b"[1,2]".to_vec(), Vec::new()] {
        let (s, _) = post(Some(SECRET), bad).await;
        assert_eq!(s, reqwest::StatusCode::BAD_REQUEST);
    }
    assert_eq!(telegram_reports(&*app.store).await.len(), 2);

    let logged = logs.lock().unwrap().clone();
    for id in [known, stranger] {
        assert!(!contains(&logged, &id.to_string()), "sender in the logs");
    }
    assert!(!contains(&logged, SECRET));
}

#[tokio::test]
async fn webhook_is_closed_unless_telegram_is_configured_for_it() {
    let bot: Shared = Arc::default();
    let api = stand_in(bot.clone()).await;
    let body = serde_json::to_vec(&message(1, SENDER_BASE, 1, "x")).unwrap();
    for app in [
        common::TestApp::start().await,
        common::TestApp::start_with(|s| s.with_telegram(config(&api, TelegramMode::Poll))).await,
    ] {
        let r = app
            .client
            .post(format!("{}/channels/telegram", app.base))
            .header("X-Telegram-Bot-Api-Secret-Token", SECRET)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), reqwest::StatusCode::NOT_FOUND);
        assert!(telegram_reports(&*app.store).await.is_empty());
    }
}

#[test]
fn secrets_never_print() {
    let cfg = config("http://127.0.0.1:1", TelegramMode::Webhook);
    let shown = format!("{cfg:?}");
    assert!(!shown.contains(TOKEN) && !shown.contains(SECRET), "{shown}");
    let mut bad = cfg.clone();
    bad.secret_token = None;
    assert!(bad.validate().unwrap_err().contains("secret_token"));
}

// WhatsApp ---------------------------------------------------------------------------------

const APP_SECRET: &str = "whatsapp-app-secret-0123456789";
const VERIFY: &str = "whatsapp-verify-token-0123456789";
/// A WhatsApp sender (`wa_id`, a number without `+`); never in clear in the database file.
const WA_ID: &str = "23675123456";

/// The stand-in Graph API: records each message sent (recipient, text).
/// What the stand-in Graph API was asked to send: (recipient, text).
type Sent = Arc<Mutex<Vec<(String, String)>>>;

async fn graph_api(sent: Sent) -> String {
    async fn messages(
        State(sent): State<Sent>,
        Path((_version, _phone)): Path<(String, String)>,
        headers: axum::http::HeaderMap,
        Json(body): Json<Value>,
    ) -> (StatusCode, Json<Value>) {
        assert_eq!(
            headers["authorization"].to_str().unwrap(),
            "Bearer wa-access-token"
        );
        let mut s = sent.lock().unwrap();
        s.push((
            body["to"].as_str().unwrap().to_string(),
            body["text"]["body"].as_str().unwrap().to_string(),
        ));
        let n = s.len();
        (
            StatusCode::OK,
            Json(
                json!({"messaging_product": "whatsapp", "messages": [{"id": format!("wamid.OUT{n}")}]}),
            ),
        )
    }
    let app = axum::Router::new()
        .route("/{version}/{phone}/messages", axum::routing::post(messages))
        .with_state(sent);
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    base
}

fn wa_config(api_base: &str) -> tocsin_delivery::whatsapp::WhatsappConfig {
    let c = tocsin_delivery::whatsapp::WhatsappConfig {
        app_secret: Secret(APP_SECRET.into()),
        verify_token: Secret(VERIFY.into()),
        access_token: Some(Secret("wa-access-token".into())),
        phone_number_id: Some("106540352242922".into()),
        api_base: Some(api_base.into()),
        api_version: None,
    };
    c.validate().unwrap();
    c
}

fn signed(body: &[u8], secret: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// A notification carrying one text message, sent `age_secs` ago.
fn wa_message(wamid: &str, text: &str, age_secs: i64) -> Vec<u8> {
    let ts = (chrono::Utc::now().timestamp() - age_secs).to_string();
    serde_json::to_vec(&json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA",
        "changes": [{"field": "messages", "value": {"messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550000000", "phone_number_id": "106540352242922"},
            "contacts": [{"profile": {"name": "W"}, "wa_id": WA_ID}],
            "messages": [{"from": WA_ID, "id": wamid, "timestamp": ts, "type": "text",
                "text": {"body": text}}]}}]}]}))
    .unwrap()
}

async fn wa_reports(store: &dyn Store) -> Vec<Report> {
    let f = ReportFilter {
        max_tlp: Tlp::Red,
        channel: Some(Channel::Whatsapp),
        ..Default::default()
    };
    store
        .list_reports(&f, PageRequest::first(200))
        .await
        .unwrap()
        .items
}

#[tokio::test]
async fn whatsapp_handshake_signature_once_per_wamid_and_the_24_hour_window() {
    let logs = logs();
    let sent: Sent = Arc::default();
    let graph = graph_api(sent.clone()).await;
    let dir_state: Arc<Mutex<Option<AppState>>> = Arc::default();
    let keep = dir_state.clone();
    let app = common::TestApp::start_with(move |s| {
        let s = s.with_whatsapp(wa_config(&graph));
        *keep.lock().unwrap() = Some(s.clone());
        s
    })
    .await;
    let state = dir_state.lock().unwrap().clone().unwrap();
    let url = format!("{}/channels/whatsapp", app.base);

    // The verify handshake.
    let verify = |mode: &str, token: &str| {
        let q = [
            ("hub.mode", mode.to_string()),
            ("hub.verify_token", token.to_string()),
            ("hub.challenge", "1158201444".to_string()),
        ];
        let req = app.client.get(url.clone()).query(&q);
        async move {
            let r = req.send().await.unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    assert_eq!(
        verify("subscribe", VERIFY).await,
        (reqwest::StatusCode::OK, "1158201444".to_string())
    );
    assert_eq!(
        verify("subscribe", "wrong").await.0,
        reqwest::StatusCode::FORBIDDEN
    );
    assert_eq!(
        verify("unsubscribe", VERIFY).await.0,
        reqwest::StatusCode::FORBIDDEN
    );

    let post = |sig: Option<String>, body: Vec<u8>| {
        let mut req = app
            .client
            .post(url.clone())
            .header("content-type", "application/json")
            .body(body);
        if let Some(s) = sig {
            req = req.header("X-Hub-Signature-256", s);
        }
        async move {
            let r = req.send().await.unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };

    // Wrong or missing signature: 403, nothing stored, the same answer either way.
    let fresh = wa_message(
        "wamid.HBgLMjM2NzUxMjM0NTYVAgASGBQzQTk",
        "Armed men at the bridge",
        60,
    );
    let (s1, b1) = post(
        Some(signed(&fresh, "another-app-secret-000")),
        fresh.clone(),
    )
    .await;
    let (s2, b2) = post(None, fresh.clone()).await;
    let mut tampered = fresh.clone();
    tampered.extend_from_slice(b" ");
    let (s3, b3) = post(Some(signed(&fresh, APP_SECRET)), tampered).await;
    assert_eq!(
        (s1, s2, s3),
        (
            reqwest::StatusCode::FORBIDDEN,
            reqwest::StatusCode::FORBIDDEN,
            reqwest::StatusCode::FORBIDDEN
        )
    );
    assert!(b1 == b2 && b2 == b3);
    assert!(wa_reports(&*app.store).await.is_empty());

    // Signed: stored once, however often delivered; statuses and malformed bodies store nothing.
    for _ in 0..3 {
        let (s, b) = post(Some(signed(&fresh, APP_SECRET)), fresh.clone()).await;
        assert_eq!((s, b.as_str()), (reqwest::StatusCode::OK, "ok"));
    }
    let statuses = serde_json::to_vec(&json!({"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages",
        "value": {"statuses": [{"id": "wamid.OUT1", "status": "delivered", "recipient_id": WA_ID}]}}]}]})).unwrap();
    let (s, b) = post(Some(signed(&statuses, APP_SECRET)), statuses).await;
    assert_eq!((s, b.as_str()), (reqwest::StatusCode::OK, "ok"));
    let broken = b"{\"entry\": [".to_vec();
    assert_eq!(
        post(Some(signed(&broken, APP_SECRET)), broken).await.0,
        reqwest::StatusCode::BAD_REQUEST
    );
    assert_eq!(wa_reports(&*app.store).await.len(), 1);

    // A message 30 hours old (delivered late): stored, but its acknowledgement is not sent and
    // the report says so.
    let late = wa_message(
        "wamid.LATE0000000000000000001",
        "Ils ont brûlé le village hier soir",
        30 * 3600,
    );
    assert_eq!(
        post(Some(signed(&late, APP_SECRET)), late.clone()).await.0,
        reqwest::StatusCode::OK
    );
    let reports = wa_reports(&*app.store).await;
    assert_eq!(reports.len(), 2);
    assert_eq!(
        reports
            .iter()
            .map(|r| r.source.clone())
            .collect::<BTreeSet<_>>()
            .len(),
        1,
        "one sender, one source"
    );
    for _ in 0..10 {
        if state.delivery.pass().await.unwrap().backlog == Some(0) {
            break;
        }
    }
    let out = sent.lock().unwrap().clone();
    assert_eq!(
        out.len(),
        1,
        "only the acknowledgement inside the window left"
    );
    assert_eq!(out[0].0, WA_ID);
    assert!(out[0].1.starts_with("Thank you."));
    let late_report = reports.iter().find(|r| r.text.contains("brûlé")).unwrap();
    let on_time = reports.iter().find(|r| r.text.contains("bridge")).unwrap();
    let (session, _) = common::browser_login(&app, "analyst", "password-123")
        .await
        .unwrap();
    let page = |id: uuid::Uuid| {
        let req = app
            .client
            .get(format!("{}/reports/{id}", app.base))
            .header("cookie", &session);
        async move { req.send().await.unwrap().text().await.unwrap() }
    };
    let html = page(late_report.id).await;
    assert!(
        html.contains("not sent: WhatsApp&#x27;s 24-hour reply window had closed")
            || html.contains("not sent: WhatsApp's 24-hour reply window had closed"),
        "{html}"
    );
    let html = page(on_time.id).await;
    assert!(html.contains("id=\"acknowledgement\""));
    assert!(!html.contains("reply window had closed"));

    // The sender's number is nowhere in clear: not in the database files, not in the logs.
    let bytes = data_bytes(app._dir.path());
    assert!(!contains(&bytes, WA_ID), "wa_id in the database file");
    let logged = logs.lock().unwrap().clone();
    assert!(!contains(&logged, WA_ID), "wa_id in the logs");
    assert!(!contains(&logged, APP_SECRET) && !contains(&logged, "wa-access-token"));

    // Not configured: 404 for both.
    let bare = common::TestApp::start().await;
    let r = bare
        .client
        .get(format!("{}/channels/whatsapp", bare.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_channels_are_in_the_openapi_document() {
    let app = common::TestApp::start().await;
    let (status, doc) = app
        .call(None, reqwest::Method::GET, "/api/v1/openapi.json", None)
        .await;
    assert_eq!(status, reqwest::StatusCode::OK);
    for p in ["/channels/telegram", "/channels/whatsapp"] {
        assert!(doc["paths"][p].is_object(), "{p} missing");
    }
    assert!(doc["paths"]["/channels/whatsapp"]["get"].is_object());
    assert!(doc["paths"]["/channels/whatsapp"]["post"].is_object());
}
