//! Broadcasts decided by the application layer on a real store (SQLite, and PostgreSQL when
//! `TOCSIN_TEST_POSTGRES_URL` names a server), sent through the delivery layer to a recording
//! channel: the two-person rule for every role (an admin included), recipients fixed once at
//! approval (exactly the area's active subscribers, or only the test phones), each in their
//! language, STOP honoured at send time, nothing sent before approval or while the stop
//! switch is on, cancellation while sending, a correction to the same recipients, and no
//! number in any answer or audit entry.

use async_trait::async_trait;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tocsin_app::broadcasts::{BroadcastInput, BroadcastSettings};
use tocsin_app::{App, AppError};
use tocsin_delivery::broadcast::Pacer;
use tocsin_delivery::{AddressKind, Channel, Delivery, Outgoing};
use tocsin_domain::subscriber::SubscriberPhone;
use tocsin_domain::{
    Actor, AuditEvent, Broadcast, BroadcastMode, BroadcastState, ContactKey, Lang, NewBroadcast,
    NewSubscriber, NewUser, RecipientKind, Role, SubscriberPlace, Tlp, User,
};
use tocsin_framework::Frameworks;
use tocsin_store::{
    BroadcastStep, DynStore, Op, SendOutcome, Step, Store, StoreExt, SubscriberStep,
};
use tocsin_store_tests::{story, Db};

story!(
    nobody_approves_their_own_broadcast,
    a_live_broadcast_reaches_its_area_once_in_each_language,
    a_test_broadcast_reaches_only_the_test_phones,
    stop_switch_cancel_and_correction,
);

/// A channel that records what it was handed.
#[derive(Default)]
struct Recorder(Mutex<Vec<(String, String)>>);

#[async_trait]
impl Channel for Recorder {
    fn name(&self) -> &'static str {
        "fake"
    }
    fn reaches(&self) -> &'static [RecipientKind] {
        &[RecipientKind::Address]
    }
    fn address_kind(&self) -> AddressKind {
        AddressKind::Phone
    }
    async fn send(&self, out: &Outgoing<'_>) -> SendOutcome {
        self.0
            .lock()
            .unwrap()
            .push((out.to.to_string(), out.message.text.clone()));
        SendOutcome::Sent(None)
    }
}

impl Recorder {
    fn taken(&self) -> Vec<(String, String)> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

const TEST_PHONES: [&str; 2] = ["+23670000001", "+23670000002"];

struct World {
    store: DynStore,
    key: ContactKey,
    frameworks: Frameworks,
    settings: BroadcastSettings,
    delivery: Delivery,
    sent: Arc<Recorder>,
    pacer: Pacer,
}

impl World {
    fn new(store: DynStore) -> World {
        let key = ContactKey::generate();
        let sent = Arc::new(Recorder::default());
        let delivery = Delivery::new(store.clone(), Arc::new(key.clone()), Arc::default())
            .with_channel(sent.clone());
        World {
            store,
            key,
            frameworks: Frameworks::shipped(),
            settings: BroadcastSettings {
                test_phones: TEST_PHONES.iter().map(|s| s.to_string()).collect(),
                gateway: Some("fake".into()),
                sender: None,
                rates: [("fake".to_string(), 1000.0)].into(),
            },
            delivery,
            sent,
            pacer: Pacer::default(),
        }
    }

    fn app(&self) -> App<'_> {
        let mut app = App::new(&self.store, &self.frameworks);
        app.contact_key = Some(&self.key);
        app.broadcasting = &self.settings;
        app
    }

    /// What the `broadcasts` job does, until nothing is left to send.
    async fn run_sender(&self) {
        for _ in 0..50 {
            let sending = self
                .app()
                .advance_broadcasts(tocsin_domain::time::now())
                .await
                .unwrap();
            if sending.is_empty() {
                return;
            }
            for b in &sending {
                self.delivery
                    .send_broadcast(b, "fake", 1000.0, None, Duration::from_secs(2), &self.pacer)
                    .await
                    .unwrap();
            }
        }
        panic!("the sender did not finish");
    }

    async fn subscribe(&self, phone: &str, country: &str, lat: f64, lon: f64, lang: Lang) {
        let place = SubscriberPlace::new(
            tocsin_domain::Country::parse(country).unwrap(),
            None,
            "Somewhere",
            lat,
            lon,
        )
        .unwrap();
        let n = NewSubscriber::new(&SubscriberPhone::new(phone.into()), place, lang, &self.key);
        self.write(Step::Subscriber(SubscriberStep::Subscribe(Box::new(n))))
            .await;
    }

    async fn stop(&self, phone: &str) {
        let hash = SubscriberPhone::new(phone.into()).lookup_hash(&self.key);
        self.write(Step::Subscriber(SubscriberStep::Stop {
            phone_hash: hash,
            at: tocsin_domain::time::now(),
        }))
        .await;
    }

    async fn write(&self, step: Step) {
        let actor = Actor::system("test");
        self.store
            .write(
                &actor,
                Op::All {
                    steps: vec![step],
                    audit: Box::new(AuditEvent::new(&actor, "test", "test", None)),
                },
            )
            .await
            .unwrap();
    }
}

async fn user(s: &dyn Store, name: &str, role: Role) -> User {
    let mut u = NewUser::build(name, role, None).unwrap();
    u.clearance = Tlp::Red;
    s.create_user(&Actor::system("test"), u).await.unwrap()
}

fn texts(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(l, t)| (l.to_string(), t.to_string()))
        .collect()
}

fn input(mode: &str, area: serde_json::Value) -> BroadcastInput {
    BroadcastInput {
        mode: mode.into(),
        texts: texts(&[
            ("en", "Armed men reported near the river. Stay indoors."),
            (
                "fr",
                "Hommes armés signalés près de la rivière. Restez chez vous.",
            ),
        ]),
        area,
        send_at: None,
        answers: None,
    }
}

/// A square of about 110 km around (lat, lon).
fn square(lat: f64, lon: f64) -> serde_json::Value {
    let d = 0.5;
    serde_json::json!({"polygon": {"type": "Polygon", "coordinates": [[
        [lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d], [lon - d, lat + d], [lon - d, lat - d]
    ]]}})
}

/// Nothing in `s` looks like one of `phones` (their digits, with or without `+`).
fn no_number(s: &str, phones: &[&str]) {
    for p in phones {
        let digits = p.trim_start_matches('+');
        assert!(!s.contains(digits), "a number leaked: {s}");
    }
}

async fn nobody_approves_their_own_broadcast(store: &dyn Store, db: &Db) {
    let w = World::new(db.store.clone());
    let ana = user(store, "ana", Role::Analyst).await;
    let mona = user(store, "mona", Role::MonitorCoordinator).await;
    let root = user(store, "root", Role::Admin).await;
    let dora = user(store, "dora", Role::DeskOfficer).await;
    let viewer = user(store, "vic", Role::Viewer).await;
    let app = w.app();
    // Who composes: analysts and monitor coordinators only.
    for u in [&root, &dora, &viewer] {
        assert!(matches!(
            app.compose_broadcast(u, input("test", serde_json::json!({"countries": ["CAF"]})))
                .await,
            Err(AppError::Forbidden { .. })
        ));
    }
    for author in [&ana, &mona] {
        let c = app
            .compose_broadcast(
                author,
                input("test", serde_json::json!({"countries": ["CAF"]})),
            )
            .await
            .unwrap();
        assert_eq!(c.recipients, 2);
        match app.approve_broadcast(author, c.id).await {
            Err(AppError::Forbidden { message, .. }) => {
                assert!(message.contains("second person"), "{message}")
            }
            other => panic!("the author approved their own: {other:?}"),
        }
        assert_eq!(
            app.get_broadcast(&root, c.id)
                .await
                .unwrap()
                .broadcast
                .state,
            BroadcastState::Pending
        );
    }
    // An admin is held to the same rule: a broadcast whose author is the admin (written
    // directly, since admins do not compose) cannot be approved by that admin.
    let mut by_admin = Broadcast::new(
        NewBroadcast {
            mode: BroadcastMode::Test,
            texts: texts(&[("en", "Test")]),
            area: serde_json::json!({"countries": ["CAF"]}),
            send_at: None,
            answers: None,
            correction_of: None,
        },
        root.id,
        &root.username,
        2,
        tocsin_domain::time::now(),
    )
    .unwrap();
    by_admin.author = root.id;
    w.write(Step::Broadcast(BroadcastStep::Create(Box::new(
        by_admin.clone(),
    ))))
    .await;
    assert!(matches!(
        app.approve_broadcast(&root, by_admin.id).await,
        Err(AppError::Forbidden { .. })
    ));
    // Desk officers and viewers never approve; another analyst does, once.
    assert!(matches!(
        app.approve_broadcast(&dora, by_admin.id).await,
        Err(AppError::Forbidden { .. })
    ));
    let v = app.approve_broadcast(&ana, by_admin.id).await.unwrap();
    assert_eq!(v.broadcast.state, BroadcastState::Approved);
    assert_eq!(v.counts.queued, 2);
    assert!(matches!(
        app.approve_broadcast(&mona, by_admin.id).await,
        Err(AppError::Conflict(_))
    ));
    assert_eq!(
        store.recipient_counts(by_admin.id).await.unwrap().total(),
        2
    );
    // Viewers do not read broadcasts; desk officers do.
    assert!(matches!(
        app.get_broadcast(&viewer, by_admin.id).await,
        Err(AppError::Forbidden { .. })
    ));
    assert!(app.get_broadcast(&dora, by_admin.id).await.is_ok());
    // Texts are checked, naming the language.
    let mut long = input("live", serde_json::json!({"countries": ["CAF"]}));
    long.texts.insert("sw".into(), "a".repeat(1000));
    match app.compose_broadcast(&ana, long).await {
        Err(AppError::Invalid { field, .. }) => assert_eq!(field, "texts.sw"),
        other => panic!("{other:?}"),
    }
}

async fn a_live_broadcast_reaches_its_area_once_in_each_language(store: &dyn Store, db: &Db) {
    let w = World::new(db.store.clone());
    let ana = user(store, "ana", Role::Analyst).await;
    let mona = user(store, "mona", Role::MonitorCoordinator).await;
    // 30 subscribers near Bambari (CAF), 20 near Bangui (CAF), 10 in Goma (COD).
    let mut phones: HashMap<String, Lang> = HashMap::new();
    let langs = [Lang::En, Lang::Fr, Lang::Sw, Lang::Ar];
    for i in 0..60 {
        let phone = format!("+2367{:07}", 1000 + i);
        let lang = langs[i % 4];
        let (c, lat, lon) = match i {
            0..30 => ("CAF", 5.76 + (i as f64) * 0.001, 20.67),
            30..50 => ("CAF", 4.36, 18.55 + (i as f64) * 0.001),
            _ => ("COD", -1.68, 29.22),
        };
        w.subscribe(&phone, c, lat, lon, lang).await;
        if i < 30 {
            phones.insert(phone, lang);
        }
    }
    let app = w.app();
    // An unapproved broadcast sends nothing.
    let c = app
        .compose_broadcast(&ana, input("live", square(5.76, 20.67)))
        .await
        .unwrap();
    assert_eq!(c.recipients, 30);
    w.run_sender().await;
    assert!(w.sent.taken().is_empty());
    // One stops before approval, one after: neither receives it.
    let stopped: Vec<String> = phones.keys().take(2).cloned().collect();
    w.stop(&stopped[0]).await;
    let v = app.approve_broadcast(&mona, c.id).await.unwrap();
    assert_eq!(v.broadcast.recipients, 29);
    w.stop(&stopped[1]).await;
    w.run_sender().await;
    let sent = w.sent.taken();
    let mut seen = HashMap::new();
    for (to, text) in &sent {
        *seen.entry(to.clone()).or_insert(0) += 1;
        let lang = phones.get(to).expect("only the area's subscribers");
        // English and French have a text; Swahili and Arabic fall back to English.
        let want = match lang {
            Lang::Fr => "Hommes armés",
            _ => "Armed men",
        };
        assert!(text.starts_with(want), "{lang:?}: {text}");
    }
    assert_eq!(seen.len(), 28);
    assert!(seen.values().all(|n| *n == 1), "someone received it twice");
    for s in &stopped {
        assert!(!seen.contains_key(s), "a stopped subscriber received it");
    }
    let v = app.get_broadcast(&mona, c.id).await.unwrap();
    assert_eq!(v.broadcast.state, BroadcastState::Sent);
    assert_eq!((v.counts.sent, v.counts.skipped), (28, 1));
    // No number in the answers or the audit trail.
    let phones_all: Vec<&str> = phones.keys().map(String::as_str).collect();
    no_number(&serde_json::to_string(&v).unwrap(), &phones_all);
    no_number(
        &serde_json::to_string(&app.list_broadcasts(&ana).await.unwrap()).unwrap(),
        &phones_all,
    );
    let audit = store.audit_entries(0, 10_000).await.unwrap();
    let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
    for a in [
        "broadcast.create",
        "broadcast.approve",
        "broadcast.start",
        "broadcast.sent",
    ] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
    no_number(&format!("{audit:?}"), &phones_all);
}

async fn a_test_broadcast_reaches_only_the_test_phones(store: &dyn Store, db: &Db) {
    let w = World::new(db.store.clone());
    let ana = user(store, "ana", Role::Analyst).await;
    let mona = user(store, "mona", Role::MonitorCoordinator).await;
    for i in 0..10 {
        w.subscribe(
            &format!("+2367{:07}", 5000 + i),
            "CAF",
            5.76,
            20.67,
            Lang::En,
        )
        .await;
    }
    let app = w.app();
    let c = app
        .compose_broadcast(&ana, input("test", square(5.76, 20.67)))
        .await
        .unwrap();
    assert_eq!(c.recipients, 2);
    app.approve_broadcast(&mona, c.id).await.unwrap();
    w.run_sender().await;
    let mut to: Vec<String> = w.sent.taken().into_iter().map(|(to, _)| to).collect();
    to.sort();
    assert_eq!(to, TEST_PHONES);
    let v = app.get_broadcast(&ana, c.id).await.unwrap();
    assert_eq!(v.counts.sent, 2);
    no_number(&serde_json::to_string(&v).unwrap(), &TEST_PHONES);
}

async fn stop_switch_cancel_and_correction(store: &dyn Store, db: &Db) {
    let w = World::new(db.store.clone());
    let ana = user(store, "ana", Role::Analyst).await;
    let mona = user(store, "mona", Role::MonitorCoordinator).await;
    let root = user(store, "root", Role::Admin).await;
    for i in 0..20 {
        w.subscribe(
            &format!("+2367{:07}", 7000 + i),
            "CAF",
            5.76,
            20.67,
            Lang::Fr,
        )
        .await;
    }
    let app = w.app();
    // Only admins hold the switch.
    assert!(matches!(
        app.set_stop_switch(&ana, true, None).await,
        Err(AppError::Forbidden { .. })
    ));
    app.set_stop_switch(&root, true, Some("drill".into()))
        .await
        .unwrap();
    let c = app
        .compose_broadcast(&ana, input("live", square(5.76, 20.67)))
        .await
        .unwrap();
    app.approve_broadcast(&mona, c.id).await.unwrap();
    // Stopped: the broadcast starts but nothing leaves.
    let sending = app
        .advance_broadcasts(tocsin_domain::time::now())
        .await
        .unwrap();
    for b in &sending {
        let pass = w
            .delivery
            .send_broadcast(b, "fake", 1000.0, None, Duration::from_secs(1), &w.pacer)
            .await
            .unwrap();
        assert!(pass.stopped);
    }
    assert!(w.sent.taken().is_empty());
    assert_eq!(store.recipient_counts(c.id).await.unwrap().queued, 20);
    app.set_stop_switch(&root, false, None).await.unwrap();
    let actions: Vec<String> = store
        .audit_entries(0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(actions.contains(&"broadcast.stop".to_string()));
    assert!(actions.contains(&"broadcast.resume".to_string()));
    // Send a few at a slow pace, then cancel while sending: nothing more leaves.
    let b = store.get_broadcast(c.id).await.unwrap();
    assert_eq!(b.state, BroadcastState::Sending);
    w.delivery
        .send_broadcast(&b, "fake", 10.0, None, Duration::from_millis(250), &w.pacer)
        .await
        .unwrap();
    let first_sent = w.sent.taken();
    let first = first_sent.len();
    assert!((1..20).contains(&first), "{first}");
    let v = app
        .cancel_broadcast(&mona, c.id, Some("wrong area".into()))
        .await
        .unwrap();
    assert_eq!(v.broadcast.state, BroadcastState::Cancelled);
    w.run_sender().await;
    assert!(w.sent.taken().is_empty());
    // A correction: prefilled, to the same recipients (those queued for the original),
    // pending a second approval, then sent at once.
    let corr = app.correct_broadcast(&ana, c.id, None).await.unwrap();
    let cv = app.get_broadcast(&ana, corr.id).await.unwrap();
    assert_eq!(cv.broadcast.state, BroadcastState::Pending);
    assert_eq!(cv.broadcast.correction_of, Some(c.id));
    assert!(cv.broadcast.texts["fr"].starts_with("RECTIFICATIF"));
    assert!(matches!(
        app.approve_broadcast(&ana, corr.id).await,
        Err(AppError::Forbidden { .. })
    ));
    let started = std::time::Instant::now();
    app.approve_broadcast(&mona, corr.id).await.unwrap();
    w.run_sender().await;
    let sent = w.sent.taken();
    assert_eq!(
        sent.len(),
        first,
        "the correction goes to those the original reached"
    );
    assert!(sent.iter().all(|(_, t)| t.starts_with("RECTIFICATIF")));
    assert!(started.elapsed() < Duration::from_secs(120));
    assert_eq!(
        app.get_broadcast(&ana, corr.id)
            .await
            .unwrap()
            .broadcast
            .state,
        BroadcastState::Sent
    );
}
