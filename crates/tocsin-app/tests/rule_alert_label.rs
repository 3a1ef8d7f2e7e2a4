//! A rule's alert is never labelled below the records it rests on: its title counts every one
//! of them, so a rule labelled TLP:AMBER whose window holds a TLP:RED incident opens a
//! TLP:RED alert, which an AMBER-cleared reader is answered `NotFound` for. On SQLite and
//! PostgreSQL. Evidence labelled higher that joins an open alert raises its label.

use serde_json::json;
use tocsin_app::alerts::{open_or_add_evidence, Outcome};
use tocsin_app::{App, AppError};
use tocsin_domain::{Actor, AlertEvidence, NewUser, Role, Tlp, User};
use tocsin_framework::Frameworks;
use tocsin_store::{DynStore, StoreExt};
use tocsin_store_tests::Db;

async fn user(store: &DynStore, name: &str, role: Role, clearance: Tlp) -> User {
    let mut u = NewUser::build(name, role, None).unwrap();
    u.clearance = clearance;
    store.create_user(&Actor::system("test"), u).await.unwrap()
}

#[tokio::test]
async fn a_rules_alert_takes_the_highest_label_of_its_evidence_on_sqlite() {
    label(Db::sqlite().await.store).await;
}

#[tokio::test]
async fn a_rules_alert_takes_the_highest_label_of_its_evidence_on_postgres() {
    if let Some(db) = Db::postgres().await {
        label(db.store.clone()).await;
    }
}

async fn label(store: DynStore) {
    let frameworks = Frameworks::shipped();
    let app = App::new(&store, &frameworks);
    let ada = user(&store, "ada", Role::Admin, Tlp::Red).await;
    let rita = user(&store, "rita", Role::Analyst, Tlp::Red).await;
    let dora = user(&store, "dora", Role::DeskOfficer, Tlp::Amber).await;
    // The e-mail channel is configured and dora has an address: the desk's step reaches her.
    let channels = tocsin_app::notify::Channels {
        email: true,
        ..Default::default()
    };
    let key = tocsin_domain::ContactKey::generate();
    let mut app = app;
    app.channels = &channels;
    app.contact_key = Some(&key);
    app.set_user_contacts(
        &ada,
        dora.id,
        tocsin_app::notify::ContactsPatch {
            email: Some("dora@desk.example.org".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let now = tocsin_domain::time::now();
    let desk = app
        .create_desk(
            &ada,
            serde_json::from_value(json!({"name": "Great Lakes desk",
                "department": "defence", "members": ["dora"], "countries": ["COD"],
                "escalation": [{"after": "30m", "notify": {"user": "dora"}}]}))
            .unwrap(),
            now,
        )
        .await
        .unwrap();
    let rule = app
        .create_rule(
            &ada,
            serde_json::from_value(json!({"name": "Ituri attacks", "severity": "high",
                "ack_within": "30m", "kind": "incidents", "country": "COD", "window": "7d",
                "min_incidents": 2, "desk": desk.id, "tlp": "TLP:AMBER"}))
            .unwrap(),
        )
        .await
        .unwrap();
    let mut ids = Vec::new();
    for tlp in ["TLP:AMBER", "TLP:RED"] {
        let i = app
            .create_incident(
                &rita,
                serde_json::from_value(json!({"event_date": now.date_naive().to_string(),
                    "event_type": "Battles", "sub_event_type": "Armed clash",
                    "country": "COD", "latitude": 1.5, "longitude": 30.2, "fatalities": 4,
                    "description": "clash", "tlp": tlp}))
                .unwrap(),
            )
            .await
            .unwrap();
        ids.push(i.id);
    }
    let evidence: Vec<_> = ids.iter().map(|i| AlertEvidence::Incident(*i)).collect();
    let a = match open_or_add_evidence(
        &app,
        &rule,
        evidence,
        Some(tocsin_domain::Country::parse("COD").unwrap()),
        None,
        "Ituri attacks: 2 incidents in COD within 7d, threshold 2",
        now,
    )
    .await
    .unwrap()
    {
        Outcome::Opened(a) => a,
        o => panic!("{o:?}"),
    };
    assert_eq!(a.tlp, Tlp::Red);
    assert_eq!(store.get_alert(a.id).await.unwrap().tlp, Tlp::Red);
    assert!(matches!(
        app.alert(&dora, a.id).await,
        Err(AppError::NotFound)
    ));
    assert_eq!(app.alert(&ada, a.id).await.unwrap().alert.id, a.id);

    // Evidence labelled higher joining an open alert raises its label, with a timeline
    // entry: an AMBER alert that gains a RED incident becomes RED.
    let amber_rule = app
        .create_rule(
            &ada,
            serde_json::from_value(json!({"name": "Kivu clashes", "severity": "high",
                "ack_within": "30m", "kind": "incidents", "country": "COD", "window": "7d",
                "min_incidents": 1, "desk": desk.id, "tlp": "TLP:AMBER"}))
            .unwrap(),
        )
        .await
        .unwrap();
    let fire = |evidence: Vec<AlertEvidence>| {
        open_or_add_evidence(
            &app,
            &amber_rule,
            evidence,
            Some(tocsin_domain::Country::parse("COD").unwrap()),
            None,
            "Kivu clashes: 1 incident in COD within 7d, threshold 1",
            now,
        )
    };
    let b = match fire(vec![AlertEvidence::Incident(ids[0])]).await.unwrap() {
        Outcome::Opened(a) => a,
        o => panic!("{o:?}"),
    };
    assert_eq!(b.tlp, Tlp::Amber);
    assert_eq!(app.alert(&dora, b.id).await.unwrap().alert.tlp, Tlp::Amber);
    match fire(vec![AlertEvidence::Incident(ids[1])]).await.unwrap() {
        Outcome::EvidenceAdded(a) => assert_eq!(a.tlp, Tlp::Red),
        o => panic!("{o:?}"),
    }
    assert_eq!(store.get_alert(b.id).await.unwrap().tlp, Tlp::Red);
    assert!(
        matches!(app.alert(&dora, b.id).await, Err(AppError::NotFound)),
        "dora, cleared AMBER, no longer sees an alert resting on a RED incident"
    );
    let v = app.alert(&ada, b.id).await.unwrap();
    assert!(
        v.timeline.iter().any(|t| t.event
            == tocsin_domain::TimelineEvent::Relabelled {
                from: Tlp::Amber,
                to: Tlp::Red
            }),
        "{:?}",
        v.timeline
    );
    // The same evidence again changes nothing; the label is never lowered.
    assert!(matches!(
        fire(vec![AlertEvidence::Incident(ids[0])]).await.unwrap(),
        Outcome::Unchanged(_)
    ));
    assert_eq!(store.get_alert(b.id).await.unwrap().tlp, Tlp::Red);
}
