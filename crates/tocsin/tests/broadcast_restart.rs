//! A correction after a crash, against real `tocsin serve` processes sending through a fake
//! Kannel: a live broadcast is killed (SIGKILL) while it sends; the server is started again
//! on the same data; the broadcast is cancelled and corrected, and a second person approves
//! the correction. The correction reaches every subscriber the broadcast may have reached,
//! each exactly once; nobody received the broadcast twice; and the correction's first
//! message leaves within two minutes of the approval, the bound (the figures are
//! printed: the restarted server renews the job leases of the one it replaces at once,
//! rather than waiting the 30 s they would take to lapse).

mod common;

use common::browser::add_user_with_password;
use common::*;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::{Duration, Instant};

const PASSWORD: &str = "a long test password";

/// `POST` (with a JSON body, if any) or `GET` (`post` false) as `token`: status and JSON.
async fn call(
    base: &str,
    token: &str,
    path: &str,
    post: bool,
    body: Option<Value>,
) -> (u16, Value) {
    let http = reqwest::Client::new();
    let mut req = if post {
        http.post(format!("{base}{path}"))
    } else {
        http.get(format!("{base}{path}"))
    };
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.bearer_auth(token).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn count(sent: &Sent, marker: &str) -> usize {
    sent.lock()
        .unwrap()
        .iter()
        .filter(|(_, t)| t.contains(marker))
        .count()
}

#[tokio::test]
async fn a_correction_approved_after_a_crash_leaves_at_once_and_reaches_each_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (sendsms, sent) = fake_kannel().await;
    // Slow enough to be killed in the middle.
    let cfg = broadcast_config(d, &sendsms, 5, &["+23670990001"]);
    let ana = add_user_with_password(d, "ana", "analyst", PASSWORD);
    let bo = add_user_with_password(d, "bo", "analyst", PASSWORD);
    let admin = add_user_with_password(d, "root", "admin", PASSWORD);
    let server = serve_with_config(d, &cfg);
    let base = server.base.clone();
    let subscribers = 40;
    for i in 0..subscribers {
        let (s, v) = call(
            &base,
            &admin,
            "/api/v1/subscribers",
            true,
            Some(
                json!({"phone": format!("+2367230{i:04}"), "place": "Bambari",
                        "country": "CAF", "language": "fr"}),
            ),
        )
        .await;
        assert_eq!(s, 201, "{v}");
    }
    let area = json!({"circle": {"lat": 5.76, "lon": 20.67, "radius_km": 20}});
    let (s, v) = call(
        &base,
        &ana,
        "/api/v1/broadcasts",
        true,
        Some(json!({"mode": "live", "texts": {"fr": "ALERTE-1 restez chez vous"}, "area": area})),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["recipients"], subscribers);
    let first = v["id"].as_str().unwrap().to_string();
    let (s, v) = call(
        &base,
        &bo,
        &format!("/api/v1/broadcasts/{first}/approve"),
        true,
        None,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    for _ in 0..600 {
        if count(&sent, "ALERTE-1") >= 8 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill9();
    let killed = Instant::now();
    let before = count(&sent, "ALERTE-1");
    assert!(
        (8..subscribers as usize).contains(&before),
        "killed in the middle: {before}"
    );

    // Started again on the same data: the broadcast was wrong, cancel and correct it.
    let server = serve_with_config(d, &cfg);
    let restarted = killed.elapsed();
    let base = server.base.clone();
    let (s, v) = call(
        &base,
        &bo,
        &format!("/api/v1/broadcasts/{first}/cancel"),
        true,
        Some(json!({"reason": "wrong area"})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = call(
        &base,
        &ana,
        &format!("/api/v1/broadcasts/{first}/correct"),
        true,
        Some(json!({"texts": {"fr": "CORRECTION-1 fausse alerte"}})),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let correction = v["id"].as_str().unwrap().to_string();
    let recipients = v["recipients"].as_u64().unwrap() as usize;
    assert!(
        recipients >= before,
        "everyone it may have reached: {recipients} of {before}"
    );
    let (s, v) = call(
        &base,
        &bo,
        &format!("/api/v1/broadcasts/{correction}/approve"),
        true,
        None,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let decided = Instant::now();
    let mut first_out = None;
    while decided.elapsed() < Duration::from_secs(120) {
        if count(&sent, "CORRECTION-1") > 0 {
            first_out = Some(decided.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let first_out =
        first_out.expect("the correction's first message leaves within two minutes of approval");
    println!(
        "correction after kill -9: restarted {:.1} s after the kill; first message {:.2} s \
         after the approval ({:.1} s after the kill)",
        restarted.as_secs_f64(),
        first_out.as_secs_f64(),
        (decided.duration_since(killed) + first_out).as_secs_f64()
    );
    for _ in 0..600 {
        let (_, v) = call(
            &base,
            &ana,
            &format!("/api/v1/broadcasts/{correction}"),
            false,
            None,
        )
        .await;
        if v["state"] == "sent" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, v) = call(
        &base,
        &ana,
        &format!("/api/v1/broadcasts/{correction}"),
        false,
        None,
    )
    .await;
    assert_eq!(v["state"], "sent", "{v}");

    // Each recipient once; nobody got the wrong broadcast twice.
    let mut per: HashMap<(String, bool), usize> = HashMap::new();
    for (to, t) in sent.lock().unwrap().iter() {
        if t.contains("ALERTE-1") || t.contains("CORRECTION-1") {
            *per.entry((to.clone(), t.contains("CORRECTION-1")))
                .or_default() += 1;
        }
    }
    let twice: Vec<_> = per.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "received twice: {twice:?}");
    let corrected = per.keys().filter(|(_, c)| *c).count();
    assert_eq!(
        corrected, recipients,
        "the correction reached each recipient"
    );
    let alerted: Vec<&String> = per.keys().filter(|(_, c)| !c).map(|(to, _)| to).collect();
    assert!(
        alerted
            .iter()
            .all(|to| per.contains_key(&((*to).clone(), true))),
        "whoever got the broadcast got the correction"
    );
}
