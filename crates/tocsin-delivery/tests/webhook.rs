//! Signed webhooks over a real SQLite file to a real HTTP receiver on an ephemeral port, which
//! checks every request independently of Tocsin's code: the HMAC with `ring`, the timestamp
//! against its own clock (so a replayed request is refused as stale).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use std::sync::{Arc, Mutex};
use tocsin_delivery::sms::Secret;
use tocsin_delivery::webhook::{self, WebhookChannel, WebhookConfig};
use tocsin_delivery::Delivery;
use tocsin_domain::{Actor, ContactKey, OutboundMessage, OutboxStatus, Tlp};
use tocsin_store::{DynStore, Op};
use tocsin_store_sqlite::SqliteStore;

const SECRET: &str = "receiver-shared-secret-0123456789";

/// One request as the receiver saw it, with its verdict.
#[derive(Debug, Clone)]
struct Seen {
    timestamp: String,
    delivery: String,
    body: String,
    verdict: Result<(), String>,
}

#[derive(Default)]
struct Receiver {
    /// Statuses to answer, in order; then 200.
    script: Vec<u16>,
    seen: Vec<Seen>,
    /// Seconds added to the receiver's clock (to replay a request "later").
    clock_offset: i64,
}

type Shared = Arc<Mutex<Receiver>>;

/// The receiver's own check: `ring`'s HMAC, its own clock, five minutes' tolerance.
fn check(headers: &HeaderMap, body: &[u8], offset: i64) -> Result<(), String> {
    let h = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .ok_or(format!("no {n}"))
    };
    let ts = h("x-tocsin-timestamp")?;
    let sig = h("x-tocsin-signature")?;
    let hex_sig = sig.strip_prefix("sha256=").ok_or("not sha256=")?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        + offset;
    let t: i64 = ts.parse().map_err(|_| "bad timestamp")?;
    if (now - t).abs() > 300 {
        return Err("stale".into());
    }
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, SECRET.as_bytes());
    let mut signed = ts.into_bytes();
    signed.push(b'.');
    signed.extend_from_slice(body);
    let sig = hex::decode(hex_sig).map_err(|_| "not hex")?;
    ring::hmac::verify(&key, &signed, &sig).map_err(|_| "bad signature".to_string())
}

async fn receive(State(r): State<Shared>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let mut r = r.lock().unwrap();
    let verdict = check(&headers, &body, r.clock_offset);
    let get = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    assert_eq!(get("content-type"), "application/json");
    r.seen.push(Seen {
        timestamp: get("x-tocsin-timestamp"),
        delivery: get("x-tocsin-delivery"),
        body: String::from_utf8_lossy(&body).into_owned(),
        verdict: verdict.clone(),
    });
    if verdict.is_err() {
        return StatusCode::UNAUTHORIZED;
    }
    if r.script.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::from_u16(r.script.remove(0)).unwrap()
    }
}

/// A receiver on an ephemeral port answering `script` first; its URL.
async fn receiver(script: Vec<u16>) -> (String, Shared) {
    let shared: Shared = Arc::new(Mutex::new(Receiver {
        script,
        ..Default::default()
    }));
    let app = axum::Router::new()
        .route("/hook/{token}", post(receive))
        .with_state(shared.clone());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook/tok-123", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (url, shared)
}

fn hook(name: &str, url: &str, max_tlp: Tlp) -> WebhookConfig {
    WebhookConfig {
        name: name.into(),
        url: url.into(),
        secret: Some(Secret(SECRET.into())),
        max_tlp,
        min_severity: tocsin_domain::Severity::Low,
        timeout_secs: Some(2),
    }
}

struct World {
    _dir: tempfile::TempDir,
    db: std::path::PathBuf,
    store: DynStore,
    key: Arc<ContactKey>,
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tocsin.db");
    let store: DynStore = Arc::new(
        SqliteStore::open(&format!("sqlite://{}", db.display()))
            .await
            .unwrap(),
    );
    World {
        _dir: dir,
        db,
        store,
        key: Arc::new(ContactKey::generate()),
    }
}

impl World {
    fn delivery(&self, hooks: &[WebhookConfig]) -> Delivery {
        Delivery::new(self.store.clone(), self.key.clone(), Arc::default())
            .with_channel(Arc::new(WebhookChannel::new(hooks).unwrap()))
    }

    async fn enqueue(&self, ikey: &str, to: &str, body: &str, tlp: Tlp) -> OutboundMessage {
        let m = OutboundMessage::to_address(
            ikey.into(),
            webhook::CHANNEL,
            None,
            &webhook::address(to),
            &self.key,
            body.into(),
            tlp,
        );
        self.store
            .write(&Actor::system("test"), Op::EnqueueSms(Box::new(m.clone())))
            .await
            .unwrap();
        m
    }

    /// Move a queued delivery's back-off into the past (instead of waiting for it).
    async fn due_now(&self, id: uuid::Uuid) {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", self.db.display()))
            .await
            .unwrap();
        sqlx::query("UPDATE outbox SET next_attempt_at = '2000-01-01T00:00:00Z' WHERE id = ?")
            .bind(id.to_string())
            .execute(&pool)
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_body_is_verified_independently_and_a_replay_is_refused_as_stale() {
    let w = world().await;
    let (url, rx) = receiver(vec![]).await;
    let delivery = w.delivery(&[hook("ops", &url, Tlp::Clear)]);
    let body = r#"{"event":"alert.opened","alert":{"id":"x","url":"https://t/alerts/x"}}"#;
    let m = w
        .enqueue("alert:1:webhook:ops", "ops", body, Tlp::Clear)
        .await;
    delivery.pass().await.unwrap();

    let seen = rx.lock().unwrap().seen.clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].verdict, Ok(()), "ring verified Tocsin's signature");
    assert_eq!(seen[0].body, body, "the body as queued");
    assert_eq!(seen[0].delivery, m.id.to_string());
    let got = w.store.get_outbound(m.id).await.unwrap();
    assert_eq!((got.status, got.attempts), (OutboxStatus::Sent, 1));

    // Someone captured the request and replays it ten minutes later: the receiver's clock
    // says the timestamp is stale, though the signature is right.
    rx.lock().unwrap().clock_offset = 600;
    let sig = webhook::signature(SECRET, seen[0].timestamp.parse().unwrap(), body.as_bytes());
    let replay = reqwest::Client::new()
        .post(&url)
        .header("Content-Type", "application/json")
        .header(webhook::TIMESTAMP_HEADER, &seen[0].timestamp)
        .header(webhook::SIGNATURE_HEADER, sig)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 401);
    assert_eq!(rx.lock().unwrap().seen[1].verdict, Err("stale".to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_503_is_retried_with_back_off_then_delivered_signed_afresh() {
    let w = world().await;
    let (url, rx) = receiver(vec![503]).await;
    let delivery = w.delivery(&[hook("ops", &url, Tlp::Clear)]);
    let m = w
        .enqueue(
            "alert:2:webhook:ops",
            "ops",
            "Alert 2 needs you",
            Tlp::Clear,
        )
        .await;
    assert!(
        delivery.pass().await.is_err(),
        "the outbox job reports the channel failing"
    );
    let got = w.store.get_outbound(m.id).await.unwrap();
    assert_eq!((got.status, got.attempts), (OutboxStatus::Queued, 1));
    let why = got.last_error.clone().unwrap();
    assert!(why.contains("webhook ops answered 503"), "{why}");
    assert!(!why.contains("tok-123"), "no URL in the reason: {why}");
    // The layer's back-off: the first retry 5 s after the attempt.
    let wait = (got.next_attempt_at - got.updated_at).num_seconds();
    assert!((4..=6).contains(&wait), "back-off {wait} s");

    w.due_now(m.id).await;
    delivery.pass().await.unwrap();
    let got = w.store.get_outbound(m.id).await.unwrap();
    assert_eq!((got.status, got.attempts), (OutboxStatus::Sent, 2));
    let seen = rx.lock().unwrap().seen.clone();
    assert_eq!(seen.len(), 2);
    assert!(seen.iter().all(|s| s.verdict.is_ok()), "{seen:?}");
    assert_eq!(seen[0].delivery, seen[1].delivery, "the same delivery id");
    assert!(seen[1].timestamp >= seen[0].timestamp);
    // Plain text went as JSON.
    let v: serde_json::Value = serde_json::from_str(&seen[1].body).unwrap();
    assert_eq!(v["text"], "Alert 2 needs you");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_4xx_fail_for_good_and_429_waits() {
    let w = world().await;
    let (url, rx) = receiver(vec![410, 429]).await;
    let delivery = w.delivery(&[hook("ops", &url, Tlp::Clear)]);
    let gone = w.enqueue("a:1", "ops", "{}", Tlp::Clear).await;
    delivery.pass().await.unwrap();
    let got = w.store.get_outbound(gone.id).await.unwrap();
    assert_eq!((got.status, got.attempts), (OutboxStatus::Failed, 1));
    let why = got.last_error.unwrap();
    assert!(why.contains("webhook ops refused it: 410 Gone"), "{why}");

    let busy = w.enqueue("a:2", "ops", "{}", Tlp::Clear).await;
    let _ = delivery.pass().await;
    let got = w.store.get_outbound(busy.id).await.unwrap();
    assert_eq!((got.status, got.attempts), (OutboxStatus::Queued, 1));
    assert!(got.last_error.unwrap().contains("429"));
    assert_eq!(rx.lock().unwrap().seen.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_endpoint_times_out_and_is_retried() {
    let w = world().await;
    // Accepts connections and never answers.
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", l.local_addr().unwrap());
    let held = Arc::new(Mutex::new(Vec::new()));
    let keep = held.clone();
    tokio::spawn(async move {
        while let Ok((s, _)) = l.accept().await {
            keep.lock().unwrap().push(s);
        }
    });
    let mut h = hook("slow", &url, Tlp::Clear);
    h.timeout_secs = Some(1);
    let delivery = w.delivery(&[h]);
    let m = w.enqueue("a:3", "slow", "{}", Tlp::Clear).await;
    let _ = delivery.pass().await;
    let got = w.store.get_outbound(m.id).await.unwrap();
    assert_eq!(got.status, OutboxStatus::Queued);
    assert!(
        got.last_error.unwrap().contains("did not answer in time"),
        "a timeout is a passing failure"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_above_an_endpoints_max_tlp_leaves() {
    let w = world().await;
    let (url, rx) = receiver(vec![]).await;
    let delivery = w.delivery(&[
        hook("public", &url, Tlp::Clear),
        hook("partners", &url, Tlp::Amber),
    ]);
    let amber_public = w
        .enqueue("a:4", "public", r#"{"secret":"militia"}"#, Tlp::Amber)
        .await;
    let amber_partners = w
        .enqueue("a:5", "partners", r#"{"ok":"amber"}"#, Tlp::Amber)
        .await;
    let red_partners = w
        .enqueue("a:6", "partners", r#"{"secret":"red"}"#, Tlp::Red)
        .await;
    let unknown = w.enqueue("a:7", "nobody", "{}", Tlp::Clear).await;
    delivery.pass().await.unwrap();

    let failed = |id| {
        let store = w.store.clone();
        async move {
            let m = store.get_outbound(id).await.unwrap();
            assert_eq!(m.status, OutboxStatus::Failed);
            m.last_error.unwrap()
        }
    };
    let why = failed(amber_public.id).await;
    assert!(
        why.contains("TLP:AMBER content may not go to an outside address (only TLP:CLEAR"),
        "{why}"
    );
    let why = failed(red_partners.id).await;
    assert!(why.contains("(only TLP:AMBER"), "{why}");
    let why = failed(unknown.id).await;
    assert!(
        why.contains("webhook \"nobody\" is not configured"),
        "{why}"
    );
    assert_eq!(
        w.store
            .get_outbound(amber_partners.id)
            .await
            .unwrap()
            .status,
        OutboxStatus::Sent
    );
    let seen = rx.lock().unwrap().seen.clone();
    assert_eq!(
        seen.len(),
        1,
        "only the AMBER body to the AMBER endpoint left"
    );
    assert!(seen[0].body.contains("amber"));
    assert_eq!(delivery.withheld(), 2);
}
