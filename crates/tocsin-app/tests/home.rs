//! A user's home through the application layer, on SQLite and PostgreSQL: the desks they sit
//! on, their desks' alerts (open and acknowledged, not closed), the overdue ones, those they
//! acknowledged, the actions they lead with the overdue first, all within their clearance;
//! and signals mapped to the alert resting on them.

use chrono::{Duration, NaiveDate};
use serde_json::json;
use tocsin_app::alerts::{Move, RaiseAlert};
use tocsin_app::notify::{Channels, ContactsPatch};
use tocsin_app::App;
use tocsin_domain::{
    Actor, AlertEvidence, CloseReason, NewAction, NewDesk, NewSituation, NewUser, Role, Tlp, User,
};
use tocsin_framework::Frameworks;
use tocsin_store::{DynStore, StoreExt};
use tocsin_store_tests::Db;

async fn user(store: &DynStore, name: &str, role: Role, clearance: Option<Tlp>) -> User {
    let mut u = NewUser::build(name, role, None).unwrap();
    if let Some(c) = clearance {
        u.clearance = c;
    }
    store.create_user(&Actor::system("test"), u).await.unwrap()
}

fn raise(title: &str, severity: &str, tlp: &str, evidence: Vec<AlertEvidence>) -> RaiseAlert {
    serde_json::from_value(json!({"title": title, "severity": severity, "tlp": tlp,
        "country": "MLI", "evidence": evidence}))
    .unwrap()
}

#[tokio::test]
async fn home_on_sqlite() {
    home(Db::sqlite().await.store).await;
}

#[tokio::test]
async fn home_on_postgres() {
    if let Some(db) = Db::postgres().await {
        home(db.store.clone()).await;
    }
}

async fn home(store: DynStore) {
    let frameworks = Frameworks::shipped();
    let channels = Channels {
        email: true,
        ..Default::default()
    };
    let mut app = App::new(&store, &frameworks);
    app.channels = &channels;
    let key = tocsin_domain::ContactKey::generate();
    app.contact_key = Some(&key);
    let admin = user(&store, "ada", Role::Admin, None).await;
    let analyst = user(&store, "ann", Role::Analyst, None).await;
    let dora = user(&store, "dora", Role::DeskOfficer, None).await;
    let green_dora = user(&store, "gina", Role::DeskOfficer, Some(Tlp::Green)).await;
    let olga = user(&store, "olga", Role::DeskOfficer, None).await;
    for u in [&dora, &olga] {
        let p = ContactsPatch {
            email: Some(format!("{}@example.org", u.username)),
            ..Default::default()
        };
        app.set_user_contacts(&admin, u.id, p).await.unwrap();
    }
    let now = tocsin_domain::time::now();
    let t0 = now - Duration::hours(5);
    let desk: NewDesk = serde_json::from_value(json!({"name": "Sahel desk",
        "department": "defence", "members": ["dora", "gina"], "countries": ["MLI"],
        "escalation": [{"after": "15m", "notify": {"user": "dora"}}]}))
    .unwrap();
    let desk = app.create_desk(&admin, desk, t0).await.unwrap();
    let other: NewDesk = serde_json::from_value(json!({"name": "Other desk",
        "department": "defence", "members": ["olga"], "countries": ["NER"],
        "escalation": [{"after": "15m", "notify": {"user": "olga"}}]}))
    .unwrap();
    app.create_desk(&admin, other, t0).await.unwrap();

    let signal = uuid::Uuid::now_v7();
    // Critical (30m to acknowledge, raised 5h ago): overdue. Low (2d): not. Amber: above
    // gina's clearance. One closed: gone from the home.
    let crit = app
        .raise_alert(
            &analyst,
            raise(
                "Massing",
                "critical",
                "TLP:GREEN",
                vec![AlertEvidence::Signal(signal)],
            ),
            t0,
        )
        .await
        .unwrap();
    let low = app
        .raise_alert(&analyst, raise("Rumour", "low", "TLP:GREEN", vec![]), t0)
        .await
        .unwrap();
    let amber = app
        .raise_alert(&analyst, raise("Convoy", "low", "TLP:AMBER", vec![]), t0)
        .await
        .unwrap();
    let closed = app
        .raise_alert(&analyst, raise("Old", "low", "TLP:GREEN", vec![]), t0)
        .await
        .unwrap();
    app.move_alert(&dora, low.id, Move::Acknowledge, t0 + Duration::minutes(5))
        .await
        .unwrap();
    app.move_alert(
        &dora,
        closed.id,
        Move::Close(Some(CloseReason::Duplicate)),
        t0 + Duration::minutes(6),
    )
    .await
    .unwrap();

    let h = app.home(&dora, now).await.unwrap();
    assert_eq!(
        h.desks.iter().map(|d| d.id).collect::<Vec<_>>(),
        vec![desk.id]
    );
    let ids = |v: &[tocsin_domain::Alert]| {
        let mut v: Vec<_> = v.iter().map(|a| a.id).collect();
        v.sort();
        v
    };
    let mut mine = vec![crit.id, low.id, amber.id];
    mine.sort();
    assert_eq!(ids(&h.my_alerts), mine);
    assert_eq!(ids(&h.overdue), vec![crit.id]);
    assert_eq!(ids(&h.acknowledged_by_me), vec![low.id]);
    // Before the critical deadline nothing is overdue.
    let early = app.home(&dora, t0 + Duration::minutes(10)).await.unwrap();
    assert!(early.overdue.is_empty());
    // Within clearance: gina does not see the amber one; she acknowledged nothing.
    let g = app.home(&green_dora, now).await.unwrap();
    let mut green = vec![crit.id, low.id];
    green.sort();
    assert_eq!(ids(&g.my_alerts), green);
    assert!(g.acknowledged_by_me.is_empty());
    // Olga's desk has none; the analyst sits on no desk.
    assert!(app.home(&olga, now).await.unwrap().my_alerts.is_empty());
    let a = app.home(&analyst, now).await.unwrap();
    assert!(a.desks.is_empty() && a.my_alerts.is_empty());
    assert_eq!(
        app.my_desks(&olga).await.unwrap()[0].name,
        "Other desk".to_string()
    );

    // Actions dora leads: open ones only, overdue first.
    let sit = app
        .create_situation(
            &analyst,
            NewSituation {
                name: "Central Mali".into(),
                country: "MLI".into(),
                admin1: None,
                status: None,
                description: None,
                tlp: Some(Tlp::Green),
            },
        )
        .await
        .unwrap();
    let today = now.date_naive();
    let action = |due: NaiveDate, lead: &str| NewAction {
        measure_id: "private_diplomacy".into(),
        situation_id: Some(sit.id),
        department: Some("defence".into()),
        lead: lead.into(),
        due_date: due,
        ..Default::default()
    };
    let later = app
        .create_action(&analyst, action(today + Duration::days(20), "dora"))
        .await
        .unwrap();
    let late = app
        .create_action(&analyst, action(today - Duration::days(3), "dora"))
        .await
        .unwrap();
    app.create_action(&analyst, action(today + Duration::days(1), "olga"))
        .await
        .unwrap();
    let h = app.home(&dora, now).await.unwrap();
    assert_eq!(
        h.my_actions.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![late.id, later.id]
    );
    assert_eq!(h.overdue_actions, 1);

    // Signals map to the alert resting on them, for those who may see it.
    let m = app
        .alerts_on_signals(&dora, &[signal, uuid::Uuid::now_v7()])
        .await
        .unwrap();
    assert_eq!(m.len(), 1);
    assert_eq!(m[&signal], crit.id);
}
