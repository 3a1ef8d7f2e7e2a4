//! Escalation timers on the job runner as `tocsin serve` registers them: two servers on one
//! database (two stores, two runners) fire every step of an overdue alert exactly once, then
//! nothing is left pending. On SQLite and PostgreSQL.

use chrono::Duration as ChronoDuration;
use serde_json::json;
use std::time::{Duration, Instant};
use tocsin_domain::{Actor, ContactKey, NewUser, Role, TimelineEvent};
use tocsin_server::AppState;
use tocsin_store::{DynStore, StoreExt};
use tocsin_store_tests::Db;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_fire_each_escalation_step_once_on_sqlite() {
    let db = Db::sqlite().await;
    let other = db.open_another().await;
    two_servers(db.store.clone(), other).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_fire_each_escalation_step_once_on_postgres() {
    let Some(db) = Db::postgres().await else {
        return;
    };
    let other = db.open_another().await;
    two_servers(db.store.clone(), other).await;
}

async fn two_servers(store: DynStore, other: DynStore) {
    let actor = Actor::system("test");
    let mut users = Vec::new();
    for (name, role) in [
        ("ada", Role::Admin),
        ("ann", Role::Analyst),
        ("dora", Role::DeskOfficer),
        ("olga", Role::DeskOfficer),
    ] {
        let u = NewUser::build(name, role, None).unwrap();
        users.push(store.create_user(&actor, u).await.unwrap());
    }
    let mut state = AppState::new(store.clone(), ContactKey::generate(), false);
    // E-mail is configured and every user has an address: the policy's steps reach someone.
    state.channels = std::sync::Arc::new(tocsin_app::notify::Channels {
        email: true,
        ..Default::default()
    });
    for u in &users {
        state
            .app()
            .set_contacts_of(
                tocsin_app::Acting::Operator("test"),
                &u.username,
                tocsin_app::notify::ContactsPatch {
                    email: Some(format!("{}@example.org", u.username)),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
    }
    let app = state.app();
    let t0 = tocsin_domain::time::now() - ChronoDuration::hours(5);
    let desk = app
        .create_desk(
            &users[0],
            serde_json::from_value(json!({"name": "Sahel desk", "department": "defence",
                "members": ["dora"], "countries": ["MLI"], "escalation": [
                    {"after": "15m", "notify": {"user": "dora"}},
                    {"after": "1h", "notify": {"user": "olga"}}]}))
            .unwrap(),
            t0,
        )
        .await
        .unwrap();
    // Raised five hours ago with a four-hour deadline: both steps are overdue.
    let alert = app
        .raise_alert(
            &users[1],
            serde_json::from_value(json!({"title": "Militia massing", "severity": "high",
                "country": "MLI"}))
            .unwrap(),
            t0,
        )
        .await
        .unwrap();
    assert_eq!(alert.desk_id, desk.id);

    let mut running = Vec::new();
    for s in [store.clone(), other.clone()] {
        let st = AppState::new(s.clone(), ContactKey::generate(), false);
        let mut runner = tocsin_jobs::Runner::new(s)
            .timer_poll(Duration::from_millis(50), Duration::from_secs(60));
        tocsin_server::alerts::register(&mut runner, &st);
        running.push(runner.start());
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let a = store.get_alert(alert.id).await.unwrap();
        if a.escalation_step == 2 && store.pending_timers().await.unwrap() == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "escalation did not complete: {a:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for r in running {
        r.shutdown().await;
    }
    let notified: Vec<u32> = store
        .alert_timeline(alert.id)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|e| match e.event {
            TimelineEvent::Notified { step } => Some(step),
            _ => None,
        })
        .collect();
    assert_eq!(notified, vec![1, 2]);
    let audited = store
        .audit_entries(0, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "alert.notify")
        .count();
    assert_eq!(audited, 2);
}
