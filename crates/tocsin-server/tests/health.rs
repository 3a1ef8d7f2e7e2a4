//! `/healthz` over real HTTP with the outbox job on a job runner: each job's state for
//! loopback clients and admins only, and 503 once a job has failed past its tolerance.

mod common;

use common::TestApp;
use reqwest::StatusCode;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tocsin_domain::{Actor, OutboundMessage, Role, SourceContact, Tlp};
use tocsin_server::sms::{KannelConfig, Secret, SmsConfig};
use tocsin_store::Op;

async fn health(
    app: &TestApp,
    path: &str,
    xff: Option<&str>,
    token: Option<&str>,
) -> (StatusCode, Value) {
    let mut req = app.client.get(format!("{}{path}", app.base));
    if let Some(ip) = xff {
        req = req.header("X-Forwarded-For", ip);
    }
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    (r.status(), r.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_shows_jobs_to_loopback_and_admins_and_fails_past_tolerance() {
    // A gateway nobody listens on: every send is a passing failure.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let running = Arc::new(Mutex::new(None));
    let slot = running.clone();
    let key_slot = Arc::new(Mutex::new(None));
    let k = key_slot.clone();
    let app = TestApp::start_with(move |s| {
        let s = s
            .with_sms(SmsConfig {
                kannel: Some(KannelConfig {
                    sendsms_url: format!("http://{dead}/cgi-bin/sendsms"),
                    username: "u".into(),
                    password: Secret("p".into()),
                    from: None,
                    inbound_secret: Some(Secret("kannel-inbound-secret-0123456789".into())),
                    allow_from: Vec::new(),
                }),
                ..Default::default()
            })
            .with_trusted_proxies(vec!["127.0.0.1/32".parse().unwrap()]);
        let mut r = tocsin_jobs::Runner::new(s.store.clone()).with_board(s.jobs.clone());
        r.add(tocsin_server::health::outbox_job(&s, Duration::ZERO));
        *slot.lock().unwrap() = Some(r.start());
        *k.lock().unwrap() = Some(s.contact_key.clone());
        s
    })
    .await;

    // Healthy: everyone gets the status; loopback asking for detail gets each job.
    let (code, body) = health(&app, "/healthz", None, None).await;
    assert_eq!(
        (code, body),
        (StatusCode::OK, serde_json::json!({"status": "ok"}))
    );
    for _ in 0..1200 {
        let (_, b) = health(&app, "/healthz?detail", None, None).await;
        if !b["jobs"]["outbox"]["last_ok"].is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (code, body) = health(&app, "/healthz?detail", None, None).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(body["jobs"]["outbox"]["pending"], 0, "{body}");
    assert!(body["jobs"]["outbox"]["last_ok"].is_string(), "{body}");

    // A reply that cannot leave: the outbox job fails, past its tolerance (none).
    let key = key_slot.lock().unwrap().clone().unwrap();
    let m = OutboundMessage::to_address(
        "broadcast:healthz".into(),
        "kannel",
        None,
        &SourceContact {
            chat: None,
            phone: Some("+23670099999".into()),
            ..Default::default()
        },
        &key,
        "Stay indoors".into(),
        Tlp::Clear,
    );
    app.store
        .write(&Actor::system("test"), Op::EnqueueSms(Box::new(m)))
        .await
        .unwrap();
    let mut failing = None;
    for _ in 0..1200 {
        let (code, b) = health(&app, "/healthz", None, None).await;
        if code == StatusCode::SERVICE_UNAVAILABLE {
            failing = Some(b);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        failing.expect("503 once the outbox fails past its tolerance"),
        serde_json::json!({"status": "failing"})
    );
    let (code, body) = health(&app, "/healthz?detail", None, None).await;
    assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE);
    let outbox = &body["jobs"]["outbox"];
    assert_eq!(outbox["pending"], 1, "{body}");
    assert_eq!(outbox["healthy"], false);
    assert!(outbox["failing_since"].is_string());
    assert!(
        outbox["last_error"]
            .as_str()
            .unwrap()
            .contains("deliveries are not leaving"),
        "{body}"
    );
    assert!(
        !body.to_string().contains("+236"),
        "no number in the detail"
    );

    // From elsewhere (a client behind the trusted proxy): the status alone, even when
    // asking for detail, unless the caller is an admin.
    let outside = Some("203.0.113.9");
    let (code, body) = health(&app, "/healthz?detail", outside, None).await;
    assert_eq!(
        (code, body),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            serde_json::json!({"status": "failing"})
        )
    );
    let analyst = app.tokens[&Role::Analyst].clone();
    let (_, body) = health(&app, "/healthz?detail", outside, Some(&analyst)).await;
    assert_eq!(body, serde_json::json!({"status": "failing"}));
    let admin = app.tokens[&Role::Admin].clone();
    let (_, body) = health(&app, "/healthz?detail", outside, Some(&admin)).await;
    assert_eq!(body["jobs"]["outbox"]["pending"], 1, "{body}");

    let r = running.lock().unwrap().take().unwrap();
    r.shutdown().await;
}

#[tokio::test]
async fn a_request_relayed_by_an_untrusted_local_proxy_gets_no_detail() {
    // No trusted proxies: a reverse proxy on this host relays everyone from loopback.
    let app = TestApp::start().await;
    let (code, body) = health(&app, "/healthz?detail", None, None).await;
    assert_eq!(code, StatusCode::OK);
    assert!(
        body["jobs"].is_object(),
        "a local client gets detail: {body}"
    );
    for header in ["X-Forwarded-For", "X-Real-IP", "Forwarded"] {
        let r = app
            .client
            .get(format!("{}/healthz?detail", app.base))
            .header(header, "203.0.113.9")
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.json::<Value>().await.unwrap(),
            serde_json::json!({"status": "ok"}),
            "{header}"
        );
    }
}
