//! Alerts told to the configured webhook endpoints, end to end: the application layer
//! enqueues one signed delivery per endpoint that wants the alert's severity (its body limited
//! by the endpoint's `max_tlp`) in the same write as the alert, the outbox job sends it to a
//! real HTTP receiver on an ephemeral port, which verifies every signature with `ring`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tocsin_app::alerts::{Move, RaiseAlert};
use tocsin_app::notify::{Channels, ContactsPatch, WebhookTarget};
use tocsin_app::App;
use tocsin_delivery::sms::Secret;
use tocsin_delivery::webhook::{WebhookChannel, WebhookConfig};
use tocsin_delivery::Delivery;
use tocsin_domain::{Actor, ContactKey, NewUser, Role, Severity, Tlp, User};
use tocsin_store::{DynStore, Op, StoreExt};
use tocsin_store_sqlite::SqliteStore;

const SECRET: &str = "receiver-shared-secret-0123456789";

type Seen = Arc<Mutex<Vec<(String, Value)>>>;

/// The receiver's own check: `ring`'s HMAC over `timestamp.body`.
fn verified(headers: &HeaderMap, body: &[u8]) -> bool {
    let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("");
    let (ts, sig) = (h("x-tocsin-timestamp"), h("x-tocsin-signature"));
    let Some(sig) = sig
        .strip_prefix("sha256=")
        .and_then(|s| hex::decode(s).ok())
    else {
        return false;
    };
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, SECRET.as_bytes());
    let mut signed = ts.as_bytes().to_vec();
    signed.push(b'.');
    signed.extend_from_slice(body);
    ring::hmac::verify(&key, &signed, &sig).is_ok()
}

async fn receive(
    State(seen): State<Seen>,
    axum::extract::Path(endpoint): axum::extract::Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    if !verified(&headers, &body) {
        return StatusCode::UNAUTHORIZED;
    }
    let v: Value = serde_json::from_slice(&body).expect("a JSON body");
    seen.lock().unwrap().push((endpoint, v));
    StatusCode::OK
}

fn hook(name: &str, base: &str, max_tlp: Tlp, min_severity: Severity) -> WebhookConfig {
    WebhookConfig {
        name: name.into(),
        url: format!("{base}/hook/{name}"),
        secret: Some(Secret(SECRET.into())),
        max_tlp,
        min_severity,
        timeout_secs: Some(5),
    }
}

async fn user(store: &DynStore, name: &str, role: Role) -> User {
    let mut u = NewUser::build(name, role, None).unwrap();
    u.clearance = Tlp::Amber;
    store.create_user(&Actor::system("test"), u).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_reach_webhooks_signed_limited_by_label_and_once() {
    let seen: Seen = Arc::default();
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", l.local_addr().unwrap());
    let router = axum::Router::new()
        .route("/hook/{endpoint}", post(receive))
        .with_state(seen.clone());
    tokio::spawn(async move { axum::serve(l, router).await.unwrap() });

    let dir = tempfile::tempdir().unwrap();
    let store: DynStore = Arc::new(
        SqliteStore::open(&format!("sqlite://{}", dir.path().join("t.db").display()))
            .await
            .unwrap(),
    );
    let key = Arc::new(ContactKey::generate());
    // ops takes AMBER content and every alert; the public hub only CLEAR content of high
    // and critical alerts; the pager only critical ones.
    let hooks = vec![
        hook("ops", &base, Tlp::Amber, Severity::Low),
        hook("hub", &base, Tlp::Clear, Severity::High),
        hook("pager", &base, Tlp::Amber, Severity::Critical),
    ];
    let channels = Channels {
        email: true,
        public_url: Some("https://tocsin.example.org".into()),
        webhooks: hooks.iter().map(WebhookTarget::of).collect(),
        ..Default::default()
    };
    assert!(
        !format!("{channels:?}").contains(SECRET) && !format!("{channels:?}").contains("/hook/"),
        "the app's channels hold neither secrets nor URLs"
    );
    let frameworks = tocsin_framework::Frameworks::shipped();
    let mut app = App::new(&store, &frameworks);
    app.channels = &channels;
    app.contact_key = Some(&key);
    let delivery = Delivery::new(store.clone(), key.clone(), Arc::default())
        .with_channel(Arc::new(WebhookChannel::new(&hooks).unwrap()));

    let admin = user(&store, "ada", Role::Admin).await;
    let analyst = user(&store, "ann", Role::Analyst).await;
    let dora = user(&store, "dora", Role::DeskOfficer).await;
    // Dora is reachable by e-mail but reads alerts in her inbox only: no e-mail is queued.
    let inbox_only: BTreeMap<String, Vec<String>> = ["low", "moderate", "high", "critical"]
        .iter()
        .map(|s| (s.to_string(), vec!["inbox".to_string()]))
        .collect();
    app.set_user_contacts(
        &admin,
        dora.id,
        ContactsPatch {
            email: Some("dora@example.org".into()),
            channels: Some(inbox_only),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    // In the past, so the escalation step (a minute later) is due for the outbox too.
    let now = tocsin_domain::time::now() - chrono::Duration::minutes(10);
    app.create_desk(
        &admin,
        serde_json::from_value(
            json!({"name": "Sahel desk", "department": "foreign affairs",
            "members": ["dora"], "countries": ["MLI"],
            "escalation": [{"after": "15m", "notify": {"user": "dora"}},
                           {"after": "1h", "notify": {"user": "dora"}}]}),
        )
        .unwrap(),
        now,
    )
    .await
    .unwrap();

    let raise: RaiseAlert = serde_json::from_value(json!({"title": "Militia massing near Gao",
        "severity": "high", "tlp": "TLP:AMBER", "country": "MLI"}))
    .unwrap();
    let a = app.raise_alert(&analyst, raise, now).await.unwrap();
    // Written again (a replayed write): stored once.
    let again = tocsin_app::notify::webhooks_for(&app, &a, "opened", now).unwrap();
    assert_eq!(
        again.len(),
        2,
        "ops and hub want a high alert, pager does not"
    );
    store
        .write(
            &Actor::system("test"),
            Op::All {
                steps: again,
                audit: Box::new(tocsin_domain::AuditEvent::new(
                    &Actor::system("test"),
                    "replay",
                    "alert",
                    None,
                )),
            },
        )
        .await
        .unwrap();
    delivery.pass().await.unwrap();

    let got = seen.lock().unwrap().clone();
    assert_eq!(got.len(), 2, "{got:?}");
    let by = |name: &str, got: &[(String, Value)]| {
        got.iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .collect::<Vec<_>>()
    };
    let ops = &by("ops", &got)[0];
    assert_eq!(ops["event"], "alert.opened");
    assert_eq!(ops["alert"]["id"], a.id.to_string());
    assert_eq!(ops["alert"]["title"], "Militia massing near Gao");
    assert_eq!(ops["alert"]["tlp"], "TLP:AMBER");
    assert_eq!(ops["alert"]["withheld"], false);
    assert_eq!(
        ops["alert"]["url"],
        format!("https://tocsin.example.org/alerts/{}", a.id)
    );
    // Above the hub's max_tlp: the id and the link, nothing else.
    let hub = &by("hub", &got)[0];
    assert_eq!(hub["event"], "alert.opened");
    assert_eq!(
        hub["alert"],
        json!({"id": a.id, "url": format!("https://tocsin.example.org/alerts/{}", a.id),
               "withheld": true})
    );
    assert!(by("pager", &got).is_empty());

    // A step of escalation tells them again, as `alert.escalated`; acknowledging does not.
    app.move_alert(
        &dora,
        a.id,
        Move::Escalate,
        now + chrono::Duration::minutes(1),
    )
    .await
    .unwrap();
    app.move_alert(
        &dora,
        a.id,
        Move::Acknowledge,
        now + chrono::Duration::minutes(2),
    )
    .await
    .unwrap();
    delivery.pass().await.unwrap();
    let got = seen.lock().unwrap().clone();
    assert_eq!(got.len(), 4, "{got:?}");
    assert!(got[2..]
        .iter()
        .all(|(_, v)| v["event"] == "alert.escalated"));
    assert_eq!(by("hub", &got)[1]["alert"]["withheld"], true);
    // No body names who acted.
    for (_, v) in &got {
        let text = v.to_string();
        assert!(!text.contains("dora") && !text.contains("ann"), "{text}");
    }
}
