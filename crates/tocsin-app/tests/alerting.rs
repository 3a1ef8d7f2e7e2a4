//! Desks, rules and alerts through the application layer, with an injected clock, on SQLite
//! and PostgreSQL: who may do what, routing, unreachable policy steps refused by name, the
//! acknowledgement deadline, escalation timers that fire once (a replay pages nobody) and
//! stop at acknowledgement, and rule evaluations that open one alert and add evidence to it.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use tocsin_app::alerts::{fire_escalation, open_or_add_evidence, Move, Outcome, RaiseAlert};
use tocsin_app::notify::{Channels, ContactsPatch};
use tocsin_app::{App, AppError};
use tocsin_domain::{
    Actor, AlertEvidence, AlertStatus, CloseReason, Country, NewAlertRule, NewDesk, NewUser,
    PageRequest, Role, TimelineEvent, Tlp, User,
};
use tocsin_framework::Frameworks;
use tocsin_store::{DynStore, StoreExt};
use tocsin_store_tests::Db;

async fn user(store: &DynStore, name: &str, role: Role, clearance: Option<Tlp>) -> User {
    let mut u = NewUser::build(name, role, None).unwrap();
    if let Some(c) = clearance {
        u.clearance = c;
    }
    let u = store.create_user(&Actor::system("test"), u).await.unwrap();
    // Every test user has an e-mail address, so e-mail (configured in `channels()`) reaches
    // them; "gone" is then disabled, which makes it unreachable.
    let frameworks = Frameworks::shipped();
    App::new(store, &frameworks)
        .set_contacts_of(
            tocsin_app::Acting::Operator("test"),
            name,
            ContactsPatch {
                email: Some(format!("{name}@example.org")),
                ..ContactsPatch::default()
            },
        )
        .await
        .unwrap();
    u
}

/// E-mail is configured, as in a deployment with `[notify.smtp]`.
fn channels() -> Channels {
    Channels {
        email: true,
        ..Channels::default()
    }
}

fn desk(v: serde_json::Value) -> NewDesk {
    serde_json::from_value(v).unwrap()
}

fn rule(v: serde_json::Value) -> NewAlertRule {
    serde_json::from_value(v).unwrap()
}

fn field(e: AppError) -> String {
    e.field()
        .unwrap_or_else(|| panic!("no field in {e:?}"))
        .to_string()
}

#[tokio::test]
async fn alert_lifecycle_and_escalation_on_sqlite() {
    lifecycle(Db::sqlite().await.store).await;
}

#[tokio::test]
async fn alert_lifecycle_and_escalation_on_postgres() {
    if let Some(db) = Db::postgres().await {
        lifecycle(db.store.clone()).await;
    }
}

#[tokio::test]
async fn rule_evaluations_open_one_alert_and_add_evidence_on_sqlite() {
    evidence(Db::sqlite().await.store).await;
}

#[tokio::test]
async fn rule_evaluations_open_one_alert_and_add_evidence_on_postgres() {
    if let Some(db) = Db::postgres().await {
        evidence(db.store.clone()).await;
    }
}

async fn due_escalations(store: &DynStore, now: DateTime<Utc>) -> Vec<tocsin_store::Timer> {
    let mut v = store
        .claim_timers(&["alert.escalate".to_string()], "test", 10, 60)
        .await
        .unwrap();
    v.retain(|t| t.fire_at <= now);
    v
}

async fn lifecycle(store: DynStore) {
    let frameworks = Frameworks::shipped();
    let channels = channels();
    let key = tocsin_domain::ContactKey::generate();
    let mut app = App::new(&store, &frameworks);
    app.channels = &channels;
    app.contact_key = Some(&key);
    let admin = user(&store, "ada", Role::Admin, None).await;
    let analyst = user(&store, "ann", Role::Analyst, None).await;
    let dora = user(&store, "dora", Role::DeskOfficer, None).await;
    let eve = user(&store, "eve", Role::DeskOfficer, None).await;
    let olga = user(&store, "olga", Role::DeskOfficer, None).await;
    let viewer = user(&store, "vic", Role::Viewer, Some(Tlp::Green)).await;
    let gone = user(&store, "gone", Role::DeskOfficer, None).await;
    store
        .write(
            &Actor::system("test"),
            tocsin_app::accounts::set_disabled_op(&Actor::system("test"), gone.id, true),
        )
        .await
        .unwrap();
    let real_now = tocsin_domain::time::now();
    let t0 = real_now - Duration::hours(5);

    // Only admins configure desks.
    let crisis_body = json!({"name": "Crisis centre", "department": "foreign affairs",
        "members": ["olga"], "escalation": [{"after": "10m", "notify": {"user": "olga"}}],
        "rota": [{"user": "olga", "from": t0 - Duration::days(1), "until": real_now + Duration::days(1)}]});
    assert!(matches!(
        app.create_desk(&analyst, desk(crisis_body.clone()), t0)
            .await,
        Err(AppError::Forbidden { .. })
    ));
    let crisis = app
        .create_desk(&admin, desk(crisis_body), t0)
        .await
        .unwrap();
    // Steps that reach nobody are refused, naming the step.
    for (target, index) in [
        (json!({"user": "nobody"}), 0),
        (json!({"user": "gone"}), 0),
        (json!({"desk": uuid::Uuid::now_v7()}), 0),
    ] {
        let e = app
            .create_desk(
                &admin,
                desk(json!({"name": "Bad", "department": "defence",
                    "escalation": [{"after": "15m", "notify": target}]})),
                t0,
            )
            .await
            .unwrap_err();
        assert_eq!(field(e.clone()), format!("escalation[{index}].notify"));
        assert!(e.to_string().contains("reaches nobody"), "{e}");
    }
    let empty = app
        .create_desk(
            &admin,
            desk(json!({"name": "Empty desk", "department": "defence",
                "escalation": [{"after": "15m", "notify": {"user": "olga"}}]})),
            t0,
        )
        .await
        .unwrap();
    for target in [json!({"desk": empty.id}), json!({"on_duty": empty.id})] {
        let e = app
            .create_desk(
                &admin,
                desk(
                    json!({"name": "Bad", "department": "defence", "escalation": [
                    {"after": "5m", "notify": {"user": "dora"}},
                    {"after": "15m", "notify": target}]}),
                ),
                t0,
            )
            .await
            .unwrap_err();
        assert_eq!(field(e), "escalation[1].notify");
    }
    let e = app
        .create_desk(
            &admin,
            desk(
                json!({"name": "Bad", "department": "defence", "members": ["ghost"],
                "escalation": [{"after": "15m", "notify": {"user": "dora"}}]}),
            ),
            t0,
        )
        .await
        .unwrap_err();
    assert_eq!(field(e), "members");
    let sahel = app
        .create_desk(
            &admin,
            desk(
                json!({"name": "Sahel desk", "department": "foreign affairs",
                "members": ["dora"], "countries": ["MLI", "BFA"],
                "escalation": [
                    {"after": "15m", "notify": {"user": "dora"}},
                    {"after": "1h", "notify": {"desk": crisis.id}},
                    {"after": "6h", "notify": {"on_duty": crisis.id}}]}),
            ),
            t0,
        )
        .await
        .unwrap();
    // Editing keeps what is not given, and checks the whole again.
    let e = app
        .update_desk(
            &admin,
            sahel.id,
            serde_json::from_value(json!({"members": ["dora", "nope"]})).unwrap(),
            t0,
        )
        .await
        .unwrap_err();
    assert_eq!(field(e), "members");
    assert_eq!(app.desks(&viewer).await.unwrap().len(), 3);

    // Rules: admins only; one that no desk answers for is refused naming the field.
    let r = json!({"name": "Attacks in Congo", "severity": "high", "ack_within": "30m",
        "kind": "incidents", "country": "COD", "window": "7d", "min_incidents": 3});
    assert!(matches!(
        app.create_rule(&analyst, rule(r.clone())).await,
        Err(AppError::Forbidden { .. })
    ));
    assert_eq!(
        field(app.create_rule(&admin, rule(r)).await.unwrap_err()),
        "country"
    );
    let mali = app
        .create_rule(
            &admin,
            rule(
                json!({"name": "Attacks in Mali", "severity": "critical", "ack_within": "20m",
                "kind": "incidents", "country": "MLI", "window": "7d", "min_incidents": 3}),
            ),
        )
        .await
        .unwrap();
    let disabled = app.set_rule_enabled(&admin, mali.id, false).await.unwrap();
    assert!(!disabled.enabled);
    assert_eq!(disabled.version, 2);
    assert!(app.rules(&admin, true).await.unwrap().is_empty());
    let stale = serde_json::from_value(json!({"enabled": true, "version": 1})).unwrap();
    assert!(matches!(
        app.update_rule(&admin, mali.id, stale).await,
        Err(AppError::Conflict(_))
    ));

    // An analyst raises an alert by hand; a desk officer may not.
    let raise = |tlp: &str| RaiseAlert {
        title: "Militia massing near Mopti".into(),
        severity: "high".into(),
        tlp: Some(tlp.into()),
        situation: None,
        country: Some("MLI".into()),
        desk: None,
        evidence: vec![],
    };
    assert!(matches!(
        app.raise_alert(&dora, raise("amber"), t0).await,
        Err(AppError::Forbidden { .. })
    ));
    let a = app.raise_alert(&analyst, raise("amber"), t0).await.unwrap();
    assert_eq!(a.desk_id, sahel.id);
    assert_eq!(a.status, AlertStatus::Open);
    // High: the configured default, 4h.
    assert_eq!(a.ack_deadline, t0 + Duration::hours(4));
    // A viewer cleared for GREEN does not see it at all.
    assert!(matches!(
        app.alert(&viewer, a.id).await,
        Err(AppError::NotFound)
    ));
    let seen = app
        .alerts(&viewer, &Default::default(), PageRequest::first(50))
        .await
        .unwrap();
    assert!(seen.items.is_empty());
    let q = tocsin_app::alerts::AlertQuery {
        status: Some("opened".into()),
        ..Default::default()
    };
    assert_eq!(
        field(
            app.alerts(&dora, &q, PageRequest::first(5))
                .await
                .unwrap_err()
        ),
        "status"
    );

    // Its first escalation is due at the deadline (4h, later than the 15m step).
    let due = due_escalations(&store, real_now).await;
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].fire_at, t0 + Duration::hours(4));
    assert_eq!(
        due[0].key.as_deref(),
        Some(format!("alert:{}:escalation", a.id).as_str())
    );
    let fired_at = t0 + Duration::hours(4);
    fire_escalation(&app, &due[0].payload, fired_at)
        .await
        .unwrap();
    // A replay (kill -9 before completion, or a second server) pages nobody again.
    fire_escalation(&app, &due[0].payload, fired_at + Duration::seconds(5))
        .await
        .unwrap();
    let view = app.alert(&dora, a.id).await.unwrap();
    assert_eq!(view.alert.escalation_step, 1);
    let notified: Vec<_> = view
        .timeline
        .iter()
        .filter(|e| matches!(e.event, TimelineEvent::Notified { .. }))
        .collect();
    assert_eq!(notified.len(), 1);
    assert_eq!(notified[0].at, fired_at);
    assert_eq!(notified[0].by, "system:escalation");
    // The next step (the crisis centre) is pending.
    assert_eq!(store.pending_timers().await.unwrap(), 1);

    // Only members of the alert's desk act on it.
    for who in [&eve, &admin, &analyst] {
        assert!(matches!(
            app.move_alert(who, a.id, Move::Acknowledge, real_now).await,
            Err(AppError::Forbidden { .. })
        ));
    }
    // Escalating by hand notifies the next step now.
    let v = app
        .move_alert(&dora, a.id, Move::Escalate, real_now)
        .await
        .unwrap();
    assert_eq!(v.alert.escalation_step, 2);
    let v = app
        .move_alert(&dora, a.id, Move::Acknowledge, real_now)
        .await
        .unwrap();
    assert_eq!(v.alert.status, AlertStatus::Acknowledged);
    assert_eq!(v.alert.acknowledged_by.as_deref(), Some("dora"));
    // Acknowledged: the timer is gone, and a stray one pages nobody.
    assert_eq!(store.pending_timers().await.unwrap(), 0);
    fire_escalation(&app, &json!({"alert": a.id, "step": 3}), real_now)
        .await
        .unwrap();
    assert_eq!(
        app.alert(&dora, a.id).await.unwrap().alert.escalation_step,
        2
    );
    assert!(matches!(
        app.move_alert(&dora, a.id, Move::Escalate, real_now).await,
        Err(AppError::Conflict(_))
    ));
    assert!(matches!(
        app.move_alert(&dora, a.id, Move::Close(Some(CloseReason::Acted)), real_now)
            .await,
        Err(AppError::Conflict(_))
    ));
    assert_eq!(
        field(
            app.move_alert(&dora, a.id, Move::Close(None), real_now)
                .await
                .unwrap_err()
        ),
        "reason"
    );
    app.move_alert(&dora, a.id, Move::Decide, real_now)
        .await
        .unwrap();
    let v = app
        .move_alert(&dora, a.id, Move::Close(Some(CloseReason::Acted)), real_now)
        .await
        .unwrap();
    assert_eq!(v.alert.status, AlertStatus::Closed);
    let events: Vec<_> = v.timeline.iter().map(|e| e.event.clone()).collect();
    assert_eq!(
        events,
        vec![
            TimelineEvent::Opened,
            TimelineEvent::Notified { step: 1 },
            TimelineEvent::Escalated { step: 2 },
            TimelineEvent::Acknowledged,
            TimelineEvent::ActionDecided,
            TimelineEvent::Closed {
                reason: CloseReason::Acted
            },
        ]
    );
    // Every move is in the audit trail.
    let actions: Vec<String> = store
        .audit_entries(0, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .filter(|a| a.starts_with("alert."))
        .collect();
    assert_eq!(
        actions,
        [
            "alert.raise",
            "alert.notify",
            "alert.escalate",
            "alert.acknowledge",
            "alert.decide",
            "alert.close"
        ]
    );
    let _ = olga;
}

async fn evidence(store: DynStore) {
    let frameworks = Frameworks::shipped();
    let channels = channels();
    let key = tocsin_domain::ContactKey::generate();
    let mut app = App::new(&store, &frameworks);
    app.channels = &channels;
    app.contact_key = Some(&key);
    let admin = user(&store, "ada", Role::Admin, None).await;
    user(&store, "dora", Role::DeskOfficer, None).await;
    let sahel = app
        .create_desk(
            &admin,
            desk(json!({"name": "Sahel desk", "department": "defence", "members": ["dora"],
                "countries": ["MLI"], "escalation": [{"after": "15m", "notify": {"user": "dora"}}]})),
            tocsin_domain::time::now(),
        )
        .await
        .unwrap();
    let r = app
        .create_rule(
            &admin,
            rule(
                json!({"name": "Attacks in Mali", "severity": "critical", "ack_within": "20m",
                "kind": "incidents", "country": "MLI", "window": "7d", "min_incidents": 3}),
            ),
        )
        .await
        .unwrap();
    let now = tocsin_domain::time::now();
    let mali = Country::parse("MLI").unwrap();
    let e1 = AlertEvidence::Incident(uuid::Uuid::now_v7());
    let e2 = AlertEvidence::Incident(uuid::Uuid::now_v7());
    // Two evaluations at once: one alert, holding both.
    let (x, y) = tokio::join!(
        open_or_add_evidence(
            &app,
            &r,
            vec![e1.clone()],
            Some(mali.clone()),
            None,
            "Attacks",
            now
        ),
        open_or_add_evidence(
            &app,
            &r,
            vec![e2.clone()],
            Some(mali.clone()),
            None,
            "Attacks",
            now
        ),
    );
    let (x, y) = (x.unwrap(), y.unwrap());
    let opened = [&x, &y]
        .iter()
        .filter(|o| matches!(o, Outcome::Opened(_)))
        .count();
    assert_eq!(opened, 1, "{x:?} {y:?}");
    let open = store.open_alert_for_rule(r.id).await.unwrap().unwrap();
    assert_eq!(open.desk_id, sahel.id);
    assert_eq!(open.ack_deadline, now + Duration::minutes(20));
    assert_eq!(open.evidence.len(), 2);
    let timeline = store.alert_timeline(open.id).await.unwrap();
    assert_eq!(
        timeline.iter().map(|e| e.event.clone()).collect::<Vec<_>>()[1],
        TimelineEvent::EvidenceAdded {
            evidence: open.evidence[1].clone()
        }
    );
    // The same evidence again changes nothing.
    let again = open_or_add_evidence(&app, &r, vec![e1], Some(mali.clone()), None, "Attacks", now)
        .await
        .unwrap();
    assert!(matches!(again, Outcome::Unchanged(_)));
    // One escalation timer for the one alert.
    assert_eq!(store.pending_timers().await.unwrap(), 1);
}
