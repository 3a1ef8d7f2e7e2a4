//! Message → flag latency for the pushed channels (Telegram's and WhatsApp's webhooks) against a
//! real `tocsin serve` with an enabled lexicon: N signed webhook calls at a steady rate, each
//! message carrying a lexicon term; the SQLite file is polled (every 10 ms) for each message's
//! flag row; the time from sending the call to the row existing is measured, and p50, p95 and
//! max printed. A benchmark, not a check: `#[ignore]`, run by `scripts/bench-channels.sh`
//! (`BENCH_N`, default 500; `BENCH_RATE` per second, default 50).

mod common;

use common::*;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TOKEN: &str = "123456:bench-bot-token";
const SECRET: &str = "bench-webhook-secret-0123456789";
const APP_SECRET: &str = "bench-whatsapp-app-secret-0123";

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn data(file: &str) -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tocsin-speech/data")
        .join(file)
        .to_string_lossy()
        .into_owned()
}

fn telegram_update(i: usize) -> Vec<u8> {
    let sender = 9_100_000 + (i % 97) as i64;
    serde_json::to_vec(&serde_json::json!({"update_id": i, "message": {
        "message_id": i, "date": 1_765_000_000,
        "from": {"id": sender, "is_bot": false, "first_name": "W", "language_code": "en"},
        "chat": {"id": sender, "type": "private"},
        "text": format!("they are cockroaches, bench message {i}")}}))
    .unwrap()
}

fn whatsapp_call(i: usize) -> (Vec<u8>, String) {
    use hmac::{Hmac, Mac};
    let wa_id = format!("2367{:07}", i % 97);
    let body = serde_json::to_vec(&serde_json::json!({"object": "whatsapp_business_account",
        "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550000000", "phone_number_id": "1065"},
            "contacts": [{"profile": {"name": "W"}, "wa_id": wa_id}],
            "messages": [{"from": wa_id, "id": format!("wamid.BENCH{i}"),
                "timestamp": chrono::Utc::now().timestamp().to_string(), "type": "text",
                "text": {"body": format!("they are cockroaches, bench message {i}")}}]}}]}]}))
    .unwrap();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(APP_SECRET.as_bytes()).unwrap();
    mac.update(&body);
    let sig = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    (body, sig)
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run with scripts/bench-channels.sh"]
async fn message_to_flag_latency_of_pushed_channels() {
    let n = env_or("BENCH_N", 500);
    let rate = env_or("BENCH_RATE", 50).max(1);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    add_user(d, None, "ana", "analyst");
    let name = "bench";
    run_ok(tocsin(
        d,
        None,
        &[
            "lexicon",
            "import",
            &data("lexicon-illustrative.csv"),
            "--name",
            name,
            "--user",
            "ana",
        ],
    ));
    run_ok(tocsin(
        d,
        None,
        &[
            "lexicon",
            "evaluate",
            name,
            "--sample",
            &data("sample-labelled.csv"),
            "--user",
            "ana",
        ],
    ));
    run_ok(tocsin(
        d,
        None,
        &["lexicon", "enable", name, "--user", "ana"],
    ));
    // A Bot API stand-in for the acknowledgements (answers every sendMessage).
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = format!("http://{}", listener.local_addr().unwrap());
    let bot = axum::Router::new().route(
        "/{bot}/{method}",
        axum::routing::post(|| async {
            axum::Json(serde_json::json!({"ok": true, "result": {"message_id": 1}}))
        }),
    );
    tokio::spawn(async move { axum::serve(listener, bot).await.unwrap() });
    let cfg = d.join("tocsin.toml");
    std::fs::write(
        &cfg,
        format!(
            "[channels.telegram]\nbot_token = \"{TOKEN}\"\napi_base = \"{api}\"\nmode = \"webhook\"\n\
             secret_token = \"{SECRET}\"\n\n[channels.whatsapp]\napp_secret = \"{APP_SECRET}\"\n\
             verify_token = \"bench-verify-token-0123456\"\n"
        ),
    )
    .unwrap();
    let server = serve_with_config(d, cfg.to_str().unwrap());
    let base = server.base.clone();

    // Send: one call every 1/rate s, alternating Telegram and WhatsApp, each timed from the
    // moment it is sent.
    let sent: Arc<Mutex<HashMap<usize, Instant>>> = Arc::default();
    let client = reqwest::Client::new();
    let started = Instant::now();
    let sender = {
        let sent = sent.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
            let mut calls = Vec::new();
            for i in 1..=n {
                tick.tick().await;
                let req = if i % 2 == 0 {
                    client
                        .post(format!("{base}/channels/telegram"))
                        .header("content-type", "application/json")
                        .header("X-Telegram-Bot-Api-Secret-Token", SECRET)
                        .body(telegram_update(i))
                } else {
                    let (body, sig) = whatsapp_call(i);
                    client
                        .post(format!("{base}/channels/whatsapp"))
                        .header("content-type", "application/json")
                        .header("X-Hub-Signature-256", sig)
                        .body(body)
                };
                sent.lock().unwrap().insert(i, Instant::now());
                calls.push(tokio::spawn(async move {
                    let r = req.send().await.unwrap();
                    assert_eq!(r.status(), 200);
                }));
            }
            for c in calls {
                c.await.unwrap();
            }
        })
    };

    // Watch the database for each message's flag.
    use sqlx::Connection;
    let url = format!("sqlite://{}?mode=ro", d.join("tocsin.db").display());
    let mut db = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let mut seen: HashMap<usize, Duration> = HashMap::new();
    let deadline = Instant::now() + Duration::from_secs(60 + (n / rate) as u64 * 2);
    while seen.len() < n && Instant::now() < deadline {
        let texts: Vec<String> = sqlx::query_scalar(
            "SELECT r.text FROM speech_flags f JOIN reports r ON r.id = f.report_id",
        )
        .fetch_all(&mut db)
        .await
        .unwrap_or_default();
        let now = Instant::now();
        for t in texts {
            let Some(i) = t.rsplit(' ').next().and_then(|s| s.parse::<usize>().ok()) else {
                continue;
            };
            if seen.contains_key(&i) {
                continue;
            }
            if let Some(at) = sent.lock().unwrap().get(&i) {
                seen.insert(i, now.duration_since(*at));
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    sender.await.unwrap();
    let elapsed = started.elapsed();
    drop(server);
    // Where the tail is: the calls of the first second (sent as soon as the server said it
    // was listening) apart from the rest.
    let early_n = rate.min(n);
    let part = |early: bool| {
        let mut v: Vec<Duration> = seen
            .iter()
            .filter(|(i, _)| (**i <= early_n) == early)
            .map(|(_, d)| *d)
            .collect();
        v.sort();
        v
    };
    let (early, late) = (part(true), part(false));
    let mut lat: Vec<Duration> = seen.values().copied().collect();
    lat.sort();
    assert_eq!(lat.len(), n, "every message flagged");
    let ms = |v: &[Duration], p: f64| {
        if v.is_empty() {
            0.0
        } else {
            pct(v, p).as_secs_f64() * 1e3
        }
    };
    println!(
        "bench-channels: the first second's {} calls: p50 {:.0} ms, max {:.0} ms; the {} after: \
         p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms",
        early.len(),
        ms(&early, 0.50),
        ms(&early, 1.0),
        late.len(),
        ms(&late, 0.50),
        ms(&late, 0.95),
        ms(&late, 1.0),
    );
    println!(
        "bench-channels: {n} webhook calls (Telegram and WhatsApp alternating) at {rate}/s in {:.1} s; \
         message -> flag row: p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms (database polled every 10 ms)",
        elapsed.as_secs_f64(),
        pct(&lat, 0.50).as_secs_f64() * 1e3,
        pct(&lat, 0.95).as_secs_f64() * 1e3,
        lat.last().unwrap().as_secs_f64() * 1e3,
    );
}
