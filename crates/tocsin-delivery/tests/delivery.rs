//! The delivery layer on a real SQLite file and a real HTTP gateway (a Kannel `sendsms`
//! stand-in on an ephemeral port): clearance checks before anything leaves, and deliveries
//! that survive a restart without being sent twice.

use axum::extract::{RawQuery, State};
use axum::routing::get;
use std::sync::{Arc, Mutex};
use tocsin_delivery::sms::{KannelConfig, Secret, SmsConfig};
use tocsin_delivery::Delivery;
use tocsin_domain::{
    Actor, ContactKey, NewUser, OutboundMessage, OutboxStatus, Role, SourceContact, Tlp,
};
use tocsin_store::{DynStore, Op, StoreExt};
use tocsin_store_sqlite::SqliteStore;

type Seen = Arc<Mutex<Vec<String>>>;

/// A gateway that accepts every message and remembers the query strings it got.
async fn gateway() -> (String, Seen) {
    async fn sendsms(State(seen): State<Seen>, RawQuery(q): RawQuery) -> &'static str {
        seen.lock().unwrap().push(q.unwrap_or_default());
        "0: Accepted for delivery"
    }
    let seen = Seen::default();
    let app = axum::Router::new()
        .route("/cgi-bin/sendsms", get(sendsms))
        .with_state(seen.clone());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/cgi-bin/sendsms", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (url, seen)
}

fn sms(url: &str) -> Arc<SmsConfig> {
    Arc::new(SmsConfig {
        kannel: Some(KannelConfig {
            sendsms_url: url.to_string(),
            username: "tocsin".into(),
            password: Secret("pw".into()),
            from: Some("1234".into()),
            inbound_secret: Some(Secret("kannel-inbound-secret-0123456789".into())),
            allow_from: Vec::new(),
        }),
        ..Default::default()
    })
}

async fn open(path: &std::path::Path) -> DynStore {
    Arc::new(
        SqliteStore::open(&format!("sqlite://{}", path.display()))
            .await
            .unwrap(),
    )
}

fn phone(n: &str) -> SourceContact {
    SourceContact {
        phone: Some(n.into()),
        ..Default::default()
    }
}

async fn enqueue(store: &DynStore, m: &OutboundMessage) {
    store
        .write(&Actor::system("test"), Op::EnqueueSms(Box::new(m.clone())))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_above_the_recipients_clearance_never_leaves() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir.path().join("tocsin.db")).await;
    let key = Arc::new(ContactKey::generate());
    let (url, seen) = gateway().await;
    let delivery = Delivery::new(store.clone(), key.clone(), sms(&url));
    // A viewer is cleared up to TLP:GREEN.
    let viewer = store
        .create_user(
            &Actor::system("test"),
            NewUser::build("viewer", Role::Viewer, None).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(viewer.clearance, Tlp::Green);
    let above = OutboundMessage::to_address(
        "alert:1:viewer".into(),
        "kannel",
        Some(viewer.id),
        &phone("+23670000011"),
        &key,
        "AMBER: militia moving on Bria".into(),
        Tlp::Amber,
    );
    let within = OutboundMessage::to_address(
        "alert:2:viewer".into(),
        "kannel",
        Some(viewer.id),
        &phone("+23670000011"),
        &key,
        "GREEN: situation update".into(),
        Tlp::Green,
    );
    // An outside address gets only TLP:CLEAR content.
    let outside = OutboundMessage::to_address(
        "broadcast:1".into(),
        "kannel",
        None,
        &phone("+23670000022"),
        &key,
        "GREEN: not for outsiders".into(),
        Tlp::Green,
    );
    for m in [&above, &within, &outside] {
        enqueue(&store, m).await;
    }
    let p = delivery.pass().await.unwrap();
    assert_eq!(p.backlog, Some(0));

    let sent = seen.lock().unwrap().clone();
    assert_eq!(
        sent.len(),
        1,
        "only the delivery within clearance left: {sent:?}"
    );
    assert!(
        sent[0].contains("GREEN%3A+situation+update") || sent[0].contains("GREEN%3A%20situation")
    );
    assert!(sent
        .iter()
        .all(|q| !q.contains("AMBER") && !q.contains("outsiders")));

    let m = store.get_outbound(above.id).await.unwrap();
    assert_eq!(m.status, OutboxStatus::Failed);
    let why = m.last_error.unwrap();
    assert!(
        why.contains("TLP:AMBER content is above the recipient's clearance (TLP:GREEN)"),
        "{why}"
    );
    assert!(!why.contains("+236") && !why.contains("militia"), "{why}");
    let m = store.get_outbound(outside.id).await.unwrap();
    assert_eq!(m.status, OutboxStatus::Failed);
    assert!(m
        .last_error
        .unwrap()
        .contains("may not go to an outside address"));
    assert_eq!(
        store.get_outbound(within.id).await.unwrap().status,
        OutboxStatus::Sent
    );
    assert_eq!(delivery.withheld(), 2, "refusals are counted");

    // A disabled user gets nothing, whatever the label.
    store
        .write(
            &Actor::system("test"),
            tocsin_app::accounts::set_disabled_op(&Actor::system("test"), viewer.id, true),
        )
        .await
        .unwrap();
    let clear = OutboundMessage::to_address(
        "alert:3:viewer".into(),
        "kannel",
        Some(viewer.id),
        &phone("+23670000011"),
        &key,
        "CLEAR".into(),
        Tlp::Clear,
    );
    enqueue(&store, &clear).await;
    delivery.pass().await.unwrap();
    assert_eq!(seen.lock().unwrap().len(), 1);
    let m = store.get_outbound(clear.id).await.unwrap();
    assert_eq!(m.status, OutboxStatus::Failed);
    assert!(m.last_error.unwrap().contains("disabled"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_mid_send_neither_loses_nor_repeats_a_delivery() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tocsin.db");
    let key = Arc::new(ContactKey::generate());
    let (url, seen) = gateway().await;
    let store = open(&file).await;
    let m = OutboundMessage::to_address(
        "broadcast:restart".into(),
        "kannel",
        None,
        &phone("+23670000033"),
        &key,
        "Stay indoors tonight".into(),
        Tlp::Clear,
    );
    enqueue(&store, &m).await;
    // A server claims it, then dies before handing it over (its claim, here, lapses at once;
    // a real one after two minutes).
    let claimed = store.claim_outbound(None, 10, 0).await.unwrap();
    assert_eq!(claimed.len(), 1);
    drop(store);

    // Restarted: the delivery is still there and is sent, once.
    let store = open(&file).await;
    let delivery = Delivery::new(store.clone(), key.clone(), sms(&url));
    delivery.pass().await.unwrap();
    assert_eq!(seen.lock().unwrap().len(), 1);
    let got = store.get_outbound(m.id).await.unwrap();
    assert_eq!((got.status, got.attempts), (OutboxStatus::Sent, 2));
    drop((delivery, store));

    // Restarted again: what the gateway confirmed is not sent again.
    let store = open(&file).await;
    let delivery = Delivery::new(store.clone(), key.clone(), sms(&url));
    let p = delivery.pass().await.unwrap();
    assert_eq!(p.backlog, Some(0));
    assert_eq!(seen.lock().unwrap().len(), 1, "no second send");
    assert_eq!(
        store.outbox_summary().await.unwrap().sent,
        1,
        "one delivery, sent"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_refuses_what_it_cannot_reach_and_an_unknown_channel_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir.path().join("tocsin.db")).await;
    let key = Arc::new(ContactKey::generate());
    let (url, seen) = gateway().await;
    let delivery = Delivery::new(store.clone(), key.clone(), sms(&url));
    let no_phone = OutboundMessage::to_address(
        "x:1".into(),
        "kannel",
        None,
        &SourceContact {
            email: Some("desk@example.org".into()),
            ..Default::default()
        },
        &key,
        "hello".into(),
        Tlp::Clear,
    );
    let m = store.get_outbound(no_phone.id).await;
    assert!(m.is_err());
    enqueue(&store, &no_phone).await;
    delivery.pass().await.unwrap();
    let got = store.get_outbound(no_phone.id).await.unwrap();
    assert_eq!(got.status, OutboxStatus::Failed);
    assert_eq!(
        got.last_error.as_deref(),
        Some("the address has no phone number")
    );
    assert!(seen.lock().unwrap().is_empty());
}
