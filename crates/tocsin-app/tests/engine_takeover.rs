//! The rule engine taken over by another server (a fresh `EngineDriver` over the stored cursor)
//! fires for an assessment published while no engine ran (between the cursor its predecessor
//! stored and the takeover), once; on a fresh SQLite file and a fresh PostgreSQL database.

use serde_json::json;
use tocsin_app::alerts::AlertQuery;
use tocsin_app::engine::EngineDriver;
use tocsin_app::App;
use tocsin_domain::{
    Actor, AssessmentStatus, NewAssessment, NewSituation, NewUser, PageRequest, Role, Situation,
    Tlp, User,
};
use tocsin_framework::Frameworks;
use tocsin_store::{DynStore, StoreExt};
use tocsin_store_tests::Db;

async fn user(store: &DynStore, name: &str, role: Role) -> User {
    let mut u = NewUser::build(name, role, None).unwrap();
    u.clearance = Tlp::Amber;
    store.create_user(&Actor::system("test"), u).await.unwrap()
}

async fn publish(
    app: &App<'_>,
    author: &User,
    reviewer: &User,
    s: &Situation,
    as_of: &str,
    level: &str,
) {
    let n: NewAssessment = serde_json::from_value(json!({
        "framework": "un-foa-2014", "as_of": as_of,
        "factors": [{"factor": 2, "level": level, "confidence": "medium", "rationale": "seen"}]
    }))
    .unwrap();
    let a = app.create_assessment(author, s.id, n).await.unwrap();
    for to in [AssessmentStatus::Reviewed, AssessmentStatus::Published] {
        app.step_assessment(reviewer, a.id, to, None, None)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn takeover_fires_for_what_was_published_in_the_gap_on_sqlite() {
    takeover(Db::sqlite().await.store).await;
}

#[tokio::test]
async fn takeover_fires_for_what_was_published_in_the_gap_on_postgres() {
    if let Some(db) = Db::postgres().await {
        takeover(db.store.clone()).await;
    }
}

async fn takeover(store: DynStore) {
    let frameworks = Frameworks::shipped();
    // E-mail is configured and dora has an address: the desk's step reaches her.
    let channels = tocsin_app::notify::Channels {
        email: true,
        ..Default::default()
    };
    let key = tocsin_domain::ContactKey::generate();
    let mut app = App::new(&store, &frameworks);
    app.channels = &channels;
    app.contact_key = Some(&key);
    let admin = user(&store, "ada", Role::Admin).await;
    let ann = user(&store, "ann", Role::Analyst).await;
    let bob = user(&store, "bob", Role::Analyst).await;
    let dora = user(&store, "dora", Role::DeskOfficer).await;
    app.set_user_contacts(
        &admin,
        dora.id,
        tocsin_app::notify::ContactsPatch {
            email: Some("dora@desk.example.org".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let s = app
        .create_situation(
            &ann,
            NewSituation {
                name: "CAR north-west".into(),
                country: "CAF".into(),
                admin1: None,
                status: None,
                description: None,
                tlp: Some(Tlp::Green),
            },
        )
        .await
        .unwrap();
    let now = tocsin_domain::time::now();
    let desk = app
        .create_desk(
            &admin,
            serde_json::from_value(json!({"name": "CAR desk", "department": "foreign affairs",
                "members": ["dora"], "countries": ["CAF"], "situations": [s.id],
                "escalation": [{"after": "15m", "notify": {"user": "dora"}}]}))
            .unwrap(),
            now,
        )
        .await
        .unwrap();
    app.create_rule(
        &admin,
        serde_json::from_value(
            json!({"name": "RF2 high", "severity": "high", "ack_within": "30m",
            "desk": desk.id, "kind": "assessment", "situation": s.id, "factor": "RF2",
            "min_level": "high"}),
        )
        .unwrap(),
    )
    .await
    .unwrap();
    // A first published assessment at moderate: the baseline the first server saw.
    publish(&app, &ann, &bob, &s, "2026-01-01", "moderate").await;

    let open = || async {
        app.alerts(&dora, &AlertQuery::default(), PageRequest::first(10))
            .await
            .unwrap()
            .items
    };
    let mut first = EngineDriver::new();
    first.pass(&app, tocsin_domain::time::now()).await.unwrap();
    assert!(open().await.is_empty());

    // The first server stops; while no engine runs, RF2 is published at high.
    drop(first);
    publish(&app, &ann, &bob, &s, "2026-02-01", "high").await;

    // Another server takes over from the stored cursor: the rule fires, once.
    let mut second = EngineDriver::new();
    let r = second.pass(&app, tocsin_domain::time::now()).await.unwrap();
    assert!(r.loaded);
    let alerts = open().await;
    assert_eq!(alerts.len(), 1, "the assessment published in the gap fires");
    assert!(alerts[0].title.contains("RF2 high"), "{}", alerts[0].title);
    second.pass(&app, tocsin_domain::time::now()).await.unwrap();
    // And a third server, taking over after the second, does not fire it again.
    let mut third = EngineDriver::new();
    third.pass(&app, tocsin_domain::time::now()).await.unwrap();
    let alerts = open().await;
    assert_eq!(alerts.len(), 1, "fired once: {alerts:?}");
    assert_eq!(alerts[0].evidence.len(), 1, "{:?}", alerts[0].evidence);
}
