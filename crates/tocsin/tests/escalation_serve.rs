//! Issue 14 acceptance on the real binary: escalation timers of `tocsin serve` processes, with
//! a real SMTP server on localhost (aiosmtpd) receiving the e-mails.
//! - `kill -9` with an escalation step pending: the restarted server fires it once, within
//!   60 s of its due time (timeline through the API, mails received).
//! - Two servers on one PostgreSQL database: every step of the policy fires once.
//!
//! Run: `TOCSIN_REQUIRE_SMTP=1 TOCSIN_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres
//! TOCSIN_REQUIRE_POSTGRES=1 cargo test -p tocsin --test escalation_serve` (needs
//! `python3 -m pip install aiosmtpd`; skipped without it, or without PostgreSQL for the second
//! test, unless required). Real time: each test takes about a minute.

#[path = "../../tocsin-server/tests/acceptance/mod.rs"]
mod acceptance;
mod common;

use acceptance::{aiosmtpd, Smtp};
use chrono::{DateTime, Utc};
use common::{run_ok, tocsin, Server};
use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};

/// A configuration with e-mail through the local SMTP server and a 40-second acknowledgement
/// time for high alerts.
fn config(dir: &Path, smtp_port: u16) -> String {
    let path = dir.join("tocsin.toml");
    std::fs::write(
        &path,
        format!(
            "[notify.smtp]\nhost = \"127.0.0.1\"\nport = {smtp_port}\ntls = \"none\"\n\
             from = \"Tocsin <alerts@tocsin.test>\"\n[alerts]\nhigh = \"40s\"\n"
        ),
    )
    .unwrap();
    path.display().to_string()
}

fn serve(dir: &Path, db: Option<&str>, config: &str) -> Server {
    let mut cmd = tocsin(
        dir,
        db,
        &["--config", config, "serve", "--listen", "127.0.0.1:0"],
    );
    cmd.stderr(std::process::Stdio::inherit());
    Server::spawn(cmd)
}

/// Users with e-mail addresses; their API tokens by name.
fn users(dir: &Path, db: Option<&str>) -> std::collections::HashMap<&'static str, String> {
    let mut tokens = std::collections::HashMap::new();
    for (name, role) in [
        ("ada", "admin"),
        ("ann", "analyst"),
        ("dora", "desk_officer"),
        ("olga", "desk_officer"),
        ("paul", "desk_officer"),
    ] {
        let email = format!("{name}@desk.example.org");
        let out = run_ok(tocsin(
            dir,
            db,
            &["user", "add", name, "--role", role, "--email", &email],
        ));
        tokens.insert(name, out.lines().last().unwrap().trim().to_string());
    }
    tokens
}

async fn post(base: &str, token: &str, path: &str, body: Value) -> Value {
    let r = reqwest::Client::new()
        .post(format!("{base}/api/v1{path}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert!(status.is_success(), "POST {path}: {status} {v}");
    v
}

async fn alert(base: &str, token: &str, id: &str) -> Value {
    let r = reqwest::Client::new()
        .get(format!("{base}/api/v1/alerts/{id}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    r.json().await.unwrap()
}

/// The `notified` entries of an alert's timeline: (step, at).
fn notified(a: &Value) -> Vec<(u64, DateTime<Utc>)> {
    a["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "notified")
        .map(|e| {
            (
                e["step"].as_u64().unwrap(),
                e["at"].as_str().unwrap().parse().unwrap(),
            )
        })
        .collect()
}

fn at(v: &Value, field: &str) -> DateTime<Utc> {
    v[field].as_str().unwrap().parse().unwrap()
}

/// How many received mails went to each of `names`.
fn mails_to(smtp: &Smtp, names: &[&str]) -> Vec<usize> {
    let got = smtp.received();
    names
        .iter()
        .map(|n| {
            let addr = format!("{n}@desk.example.org");
            got.iter().filter(|m| m.rcpt.contains(&addr)).count()
        })
        .collect()
}

/// Poll the alert (at most `secs`) until `steps` notified entries are on its timeline.
async fn until_notified(base: &str, token: &str, id: &str, steps: usize, secs: u64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let a = alert(base, token, id).await;
        if notified(&a).len() >= steps {
            return a;
        }
        assert!(
            Instant::now() < deadline,
            "{steps} escalation step(s) did not fire within {secs}s: {a}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_escalation_survives_kill9_and_fires_once_after_restart() {
    if !aiosmtpd() {
        return;
    }
    let smtp = Smtp::start();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let cfg = config(dir, smtp.port);
    let tokens = users(dir, None);
    let server = serve(dir, None, &cfg);
    post(
        &server.base,
        &tokens["ada"],
        "/desks",
        json!({"name": "Sahel desk", "department": "defence", "members": ["dora"],
            "countries": ["MLI"], "escalation": [{"after": "40s", "notify": {"user": "olga"}}]}),
    )
    .await;
    let a = post(
        &server.base,
        &tokens["ann"],
        "/alerts",
        json!({"title": "Militia massing near Gao", "severity": "high", "country": "MLI"}),
    )
    .await;
    let id = a["id"].as_str().unwrap().to_string();
    let due = at(&a, "ack_deadline");
    assert_eq!((due - at(&a, "opened_at")).num_seconds(), 40);
    // Killed at once: the step is still pending (and the opening's e-mail may be too).
    assert!(notified(&alert(&server.base, &tokens["dora"], &id).await).is_empty());
    assert!(
        Utc::now() < due,
        "the test machine was too slow to kill the server before the step was due"
    );
    server.kill9();

    let server = serve(dir, None, &cfg);
    let v = until_notified(&server.base, &tokens["dora"], &id, 1, 120).await;
    let fired = notified(&v);
    assert_eq!(fired.len(), 1, "{v}");
    assert_eq!(fired[0].0, 1);
    assert!(
        fired[0].1 >= due && fired[0].1 - due <= chrono::Duration::seconds(60),
        "the step fired at {} for {due}",
        fired[0].1
    );
    smtp.wait_for(2, 60).await;
    // A while later (several timer polls and outbox passes), still once.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let v = alert(&server.base, &tokens["dora"], &id).await;
    assert_eq!(notified(&v).len(), 1, "{v}");
    assert_eq!(v["escalation_step"], 1);
    assert_eq!(mails_to(&smtp, &["dora", "olga", "paul"]), [1, 1, 0]);
    let olga = smtp
        .received()
        .into_iter()
        .find(|m| m.rcpt == ["olga@desk.example.org"])
        .unwrap();
    assert!(
        olga.subject.contains("Militia massing near Gao"),
        "{olga:?}"
    );
    assert!(olga.body.contains(&format!("/alerts/{id}")), "{olga:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_postgres_fire_every_escalation_step_once() {
    let Some(url) = common::fresh_postgres("tocsin_escalation_serve").await else {
        return;
    };
    if !aiosmtpd() {
        return;
    }
    let smtp = Smtp::start();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let db = Some(url.as_str());
    let cfg = config(dir, smtp.port);
    let tokens = users(dir, db);
    // Both servers share the database and the data directory (its contact key).
    let one = serve(dir, db, &cfg);
    let two = serve(dir, db, &cfg);
    post(
        &one.base,
        &tokens["ada"],
        "/desks",
        json!({"name": "Sahel desk", "department": "defence", "members": ["dora"],
            "countries": ["MLI"], "escalation": [
                {"after": "40s", "notify": {"user": "olga"}},
                {"after": "50s", "notify": {"user": "paul"}}]}),
    )
    .await;
    let a = post(
        &two.base,
        &tokens["ann"],
        "/alerts",
        json!({"title": "Militia massing near Gao", "severity": "high", "country": "MLI"}),
    )
    .await;
    let id = a["id"].as_str().unwrap().to_string();
    let opened = at(&a, "opened_at");

    let v = until_notified(&one.base, &tokens["dora"], &id, 2, 180).await;
    let fired = notified(&v);
    assert_eq!(fired.iter().map(|f| f.0).collect::<Vec<_>>(), [1, 2], "{v}");
    for ((_, t), after) in fired.iter().zip([40, 50]) {
        let due = opened + chrono::Duration::seconds(after);
        assert!(
            *t >= due && *t - due <= chrono::Duration::seconds(60),
            "a step fired at {t} for {due}"
        );
    }
    smtp.wait_for(3, 60).await;
    // Several timer polls and outbox passes later, on both servers: still once each.
    tokio::time::sleep(Duration::from_secs(5)).await;
    for base in [&one.base, &two.base] {
        let v = alert(base, &tokens["dora"], &id).await;
        assert_eq!(notified(&v).len(), 2, "{v}");
    }
    assert_eq!(
        mails_to(&smtp, &["dora", "olga", "paul", "ada"]),
        [1, 1, 1, 0]
    );
    assert_eq!(smtp.received().len(), 3);
}
