//! Desks, alert rules, alerts and their timelines on every backend: what is stored comes
//! back, lists filter and page, version guards trip, a rule never has two alerts open (also
//! from two processes at once), and an alert's change, timeline entry and timer commit or
//! fail together.

use chrono::Duration;
use tocsin_domain::{
    time, Actor, Alert, AlertEvidence, AlertOrigin, AlertRule, AlertStatus, AuditEvent,
    CloseReason, Department, Desk, NewAlertRule, NewDesk, PageRequest, Severity, TextDuration,
    TimelineEvent, Tlp,
};
use tocsin_store::{AlertFilter, NewTimer, Op, Step, Store, StoreError};
use tocsin_store_tests::{story, Db};
use uuid::Uuid;

story!(
    desks_and_rules_round_trip_with_guards,
    alerts_list_filter_page_and_keep_their_timeline,
    one_open_alert_per_rule_even_from_two_processes,
    an_alert_its_entry_and_its_timer_commit_together
);

fn actor() -> Actor {
    Actor::system("alerting-test")
}

fn all(steps: Vec<Step>) -> Op {
    Op::All {
        steps,
        audit: Box::new(AuditEvent::new(&actor(), "test.alerting", "alert", None)),
    }
}

fn desk(name: &str) -> Desk {
    let n: NewDesk = serde_json::from_value(serde_json::json!({
        "name": name,
        "department": "foreign affairs",
        "members": ["alice", "bob"],
        "countries": ["MLI"],
        "escalation": [{"after": "15m", "notify": {"user": "alice"}}],
        "repeat": 1,
    }))
    .unwrap();
    Desk::parse(n, &Department::defaults()).unwrap()
}

fn rule(name: &str, enabled: bool) -> AlertRule {
    let n: NewAlertRule = serde_json::from_value(serde_json::json!({
        "name": name,
        "severity": "high",
        "ack_within": "30m",
        "enabled": enabled,
        "kind": "incidents",
        "country": "MLI",
        "window": "7d",
        "min_incidents": 3,
    }))
    .unwrap();
    AlertRule::parse(n).unwrap()
}

fn alert(
    desk: Uuid,
    rule: Option<Uuid>,
    severity: Severity,
    tlp: Tlp,
) -> (Alert, tocsin_domain::TimelineEntry) {
    let origin = match rule {
        Some(r) => AlertOrigin::Rule(r),
        None => AlertOrigin::ByHand("carol".into()),
    };
    Alert::open(
        "Attacks on villages",
        severity,
        tlp,
        desk,
        origin,
        vec![AlertEvidence::Incident(tocsin_domain::new_id())],
        TextDuration::parse("ack_within", "30m").unwrap(),
        time::now(),
        "carol",
    )
    .unwrap()
}

async fn desks_and_rules_round_trip_with_guards(s: &dyn Store, _db: &Db) {
    let mut d = desk("Sahel desk");
    s.write(&actor(), all(vec![Step::CreateDesk(Box::new(d.clone()))]))
        .await
        .unwrap();
    assert_eq!(s.get_desk(d.id).await.unwrap(), d);
    // A second desk of the same name is refused.
    let twin = desk("Sahel desk");
    let e = s
        .write(&actor(), all(vec![Step::CreateDesk(Box::new(twin))]))
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Conflict(_)), "{e:?}");
    // The rota and members change.
    d.members = vec!["bob".into()];
    d.rota = vec![tocsin_domain::Shift {
        user: "bob".into(),
        from: time::now(),
        until: time::now() + Duration::hours(8),
    }];
    s.write(&actor(), all(vec![Step::UpdateDesk(Box::new(d.clone()))]))
        .await
        .unwrap();
    assert_eq!(s.get_desk(d.id).await.unwrap(), d);
    assert_eq!(s.list_desks().await.unwrap(), vec![d.clone()]);
    let mut ghost = desk("Ghost desk");
    ghost.id = Uuid::now_v7();
    let e = s
        .write(&actor(), all(vec![Step::UpdateDesk(Box::new(ghost))]))
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::NotFound), "{e:?}");
    assert!(matches!(
        s.get_desk(Uuid::now_v7()).await,
        Err(StoreError::NotFound)
    ));

    let on = rule("Mali attacks", true);
    let off = rule("Mali quiet", false);
    s.write(
        &actor(),
        all(vec![
            Step::CreateRule(Box::new(on.clone())),
            Step::CreateRule(Box::new(off.clone())),
        ]),
    )
    .await
    .unwrap();
    assert_eq!(s.get_rule(on.id).await.unwrap(), on);
    assert_eq!(
        s.list_rules(false).await.unwrap(),
        vec![on.clone(), off.clone()]
    );
    assert_eq!(s.list_rules(true).await.unwrap(), vec![on.clone()]);
    // Enable the second one at the version read; a stale version is a conflict.
    let mut enabled = off.clone();
    enabled.enabled = true;
    enabled.version = 2;
    let update = |r: &AlertRule, expected| {
        all(vec![Step::UpdateRule {
            rule: Box::new(r.clone()),
            expected_version: expected,
        }])
    };
    s.write(&actor(), update(&enabled, 1)).await.unwrap();
    assert_eq!(s.get_rule(off.id).await.unwrap(), enabled);
    assert_eq!(s.list_rules(true).await.unwrap().len(), 2);
    let e = s.write(&actor(), update(&enabled, 1)).await.unwrap_err();
    assert!(matches!(e, StoreError::Conflict(_)), "{e:?}");
    let mut gone = rule("Gone", true);
    gone.version = 2;
    let e = s.write(&actor(), update(&gone, 1)).await.unwrap_err();
    assert!(matches!(e, StoreError::NotFound), "{e:?}");
}

async fn alerts_list_filter_page_and_keep_their_timeline(s: &dyn Store, _db: &Db) {
    let sahel = desk("Sahel desk");
    let horn = desk("Horn desk");
    s.write(
        &actor(),
        all(vec![
            Step::CreateDesk(Box::new(sahel.clone())),
            Step::CreateDesk(Box::new(horn.clone())),
        ]),
    )
    .await
    .unwrap();
    let situation = Uuid::now_v7();
    let mut made = Vec::new();
    for (i, (d, sev, tlp)) in [
        (sahel.id, Severity::High, Tlp::Amber),
        (sahel.id, Severity::Low, Tlp::Green),
        (horn.id, Severity::High, Tlp::Red),
        (horn.id, Severity::Critical, Tlp::Amber),
    ]
    .into_iter()
    .enumerate()
    {
        let (mut a, e) = alert(d, None, sev, tlp);
        if i == 0 {
            a.situation_id = Some(situation);
        }
        s.write(
            &actor(),
            all(vec![Step::CreateAlert {
                alert: Box::new(a.clone()),
                entry: e,
            }]),
        )
        .await
        .unwrap();
        made.push(a);
    }
    assert_eq!(s.get_alert(made[0].id).await.unwrap(), made[0]);
    let ids = |p: tocsin_domain::Page<Alert>| p.items.iter().map(|a| a.id).collect::<Vec<_>>();
    let all_amber = s
        .list_alerts(&AlertFilter::up_to(Tlp::Amber), PageRequest::first(50))
        .await
        .unwrap();
    assert_eq!(ids(all_amber), vec![made[3].id, made[1].id, made[0].id]);
    let f = AlertFilter {
        severity: Some(Severity::High),
        ..AlertFilter::up_to(Tlp::Red)
    };
    assert_eq!(
        ids(s.list_alerts(&f, PageRequest::first(50)).await.unwrap()),
        vec![made[2].id, made[0].id]
    );
    let f = AlertFilter {
        desk: Some(horn.id),
        ..AlertFilter::up_to(Tlp::Red)
    };
    assert_eq!(
        ids(s.list_alerts(&f, PageRequest::first(50)).await.unwrap()),
        vec![made[3].id, made[2].id]
    );
    let f = AlertFilter {
        situation: Some(situation),
        ..AlertFilter::up_to(Tlp::Red)
    };
    assert_eq!(
        ids(s.list_alerts(&f, PageRequest::first(50)).await.unwrap()),
        vec![made[0].id]
    );
    // Pages of two.
    let p1 = s
        .list_alerts(&AlertFilter::up_to(Tlp::Red), PageRequest::first(2))
        .await
        .unwrap();
    let cursor = p1.next_cursor.clone().expect("more");
    assert_eq!(ids(p1), vec![made[3].id, made[2].id]);
    let p2 = s
        .list_alerts(
            &AlertFilter::up_to(Tlp::Red),
            PageRequest::parse(Some(2), Some(&cursor)).unwrap(),
        )
        .await
        .unwrap();
    assert!(p2.next_cursor.is_none());
    assert_eq!(ids(p2), vec![made[1].id, made[0].id]);

    // Acknowledge at the version read; a second writer holding the old version is refused
    // and its entry is not recorded.
    let mut a = made[0].clone();
    let before = a.version;
    let entry = a.acknowledge("alice", time::now()).unwrap();
    s.write(
        &actor(),
        all(vec![Step::ChangeAlert {
            alert: Box::new(a.clone()),
            expected_version: before,
            entry,
        }]),
    )
    .await
    .unwrap();
    let mut stale = made[0].clone();
    let entry = stale
        .close(Some(CloseReason::FalseAlarm), "bob", time::now())
        .unwrap();
    let e = s
        .write(
            &actor(),
            all(vec![Step::ChangeAlert {
                alert: Box::new(stale),
                expected_version: before,
                entry,
            }]),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Conflict(_)), "{e:?}");
    assert_eq!(
        s.get_alert(a.id).await.unwrap().status,
        AlertStatus::Acknowledged
    );
    let f = AlertFilter {
        status: Some(AlertStatus::Acknowledged),
        ..AlertFilter::up_to(Tlp::Red)
    };
    assert_eq!(
        ids(s.list_alerts(&f, PageRequest::first(50)).await.unwrap()),
        vec![a.id]
    );
    let events: Vec<_> = s
        .alert_timeline(a.id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.by, e.event))
        .collect();
    assert_eq!(
        events,
        vec![
            ("carol".to_string(), TimelineEvent::Opened),
            ("alice".to_string(), TimelineEvent::Acknowledged)
        ]
    );
    assert!(s.alert_timeline(Uuid::now_v7()).await.unwrap().is_empty());
}

async fn one_open_alert_per_rule_even_from_two_processes(s: &dyn Store, db: &Db) {
    let d = desk("Sahel desk");
    let r = rule("Mali attacks", true);
    s.write(
        &actor(),
        all(vec![
            Step::CreateDesk(Box::new(d.clone())),
            Step::CreateRule(Box::new(r.clone())),
        ]),
    )
    .await
    .unwrap();
    assert!(s.open_alert_for_rule(r.id).await.unwrap().is_none());
    let other = db.open_another().await;
    let open = |store: tocsin_store::DynStore| {
        let (a, e) = alert(d.id, Some(r.id), Severity::High, Tlp::Amber);
        async move {
            store
                .write(
                    &actor(),
                    all(vec![Step::CreateAlert {
                        alert: Box::new(a),
                        entry: e,
                    }]),
                )
                .await
        }
    };
    let here: tocsin_store::DynStore = db.store.clone();
    let (x, y) = tokio::join!(
        tokio::spawn(open(here.clone())),
        tokio::spawn(open(other.clone()))
    );
    let outcomes = [x.unwrap(), y.unwrap()];
    assert_eq!(
        outcomes.iter().filter(|o| o.is_ok()).count(),
        1,
        "{outcomes:?}"
    );
    assert!(outcomes
        .iter()
        .any(|o| matches!(o, Err(StoreError::Conflict(_)))));
    let mut open_one = s
        .open_alert_for_rule(r.id)
        .await
        .unwrap()
        .expect("one open");
    // Closed, the rule may open another.
    let v = open_one.version;
    let entry = open_one
        .close(Some(CloseReason::Duplicate), "alice", time::now())
        .unwrap();
    s.write(
        &actor(),
        all(vec![Step::ChangeAlert {
            alert: Box::new(open_one),
            expected_version: v,
            entry,
        }]),
    )
    .await
    .unwrap();
    assert!(s.open_alert_for_rule(r.id).await.unwrap().is_none());
    open(here).await.unwrap();
    assert!(s.open_alert_for_rule(r.id).await.unwrap().is_some());
}

async fn an_alert_its_entry_and_its_timer_commit_together(s: &dyn Store, _db: &Db) {
    let d = desk("Sahel desk");
    let r = rule("Mali attacks", true);
    s.write(
        &actor(),
        all(vec![
            Step::CreateDesk(Box::new(d.clone())),
            Step::CreateRule(Box::new(r.clone())),
        ]),
    )
    .await
    .unwrap();
    let timer = |key: &str| NewTimer {
        kind: "alert.escalate".into(),
        key: Some(key.into()),
        payload: serde_json::json!({"step": 1}),
        fire_at: time::now() - Duration::seconds(1),
    };
    let (a, e) = alert(d.id, Some(r.id), Severity::High, Tlp::Amber);
    let key = format!("alert:{}:escalation", a.id);
    s.write(
        &actor(),
        all(vec![
            Step::CreateAlert {
                alert: Box::new(a.clone()),
                entry: e.clone(),
            },
            Step::ScheduleTimer(timer(&key)),
        ]),
    )
    .await
    .unwrap();
    assert_eq!(s.pending_timers().await.unwrap(), 1);
    // Scheduling the same key again keeps the pending one.
    s.write(&actor(), all(vec![Step::ScheduleTimer(timer(&key))]))
        .await
        .unwrap();
    assert_eq!(s.pending_timers().await.unwrap(), 1);
    // A second alert of the rule trips the guard: neither it, its entry nor its timer lands.
    let (b, e2) = alert(d.id, Some(r.id), Severity::High, Tlp::Amber);
    let key_b = format!("alert:{}:escalation", b.id);
    let err = s
        .write(
            &actor(),
            all(vec![
                Step::ScheduleTimer(timer(&key_b)),
                Step::CreateAlert {
                    alert: Box::new(b.clone()),
                    entry: e2,
                },
            ]),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert!(matches!(s.get_alert(b.id).await, Err(StoreError::NotFound)));
    assert!(s.alert_timeline(b.id).await.unwrap().is_empty());
    assert_eq!(s.pending_timers().await.unwrap(), 1);
    // Acknowledging cancels the timer in the same write.
    let mut acked = a.clone();
    let entry = acked.acknowledge("alice", time::now()).unwrap();
    s.write(
        &actor(),
        all(vec![
            Step::ChangeAlert {
                alert: Box::new(acked),
                expected_version: a.version,
                entry,
            },
            Step::CancelTimer(key.clone()),
        ]),
    )
    .await
    .unwrap();
    assert_eq!(s.pending_timers().await.unwrap(), 0);
    let due = s
        .claim_timers(&["alert.escalate".to_string()], "me", 10, 60)
        .await
        .unwrap();
    assert!(due.is_empty());
    // The timeline is append-only in the database itself.
    let mut raw = _db.raw().await;
    assert!(raw.exec("DELETE FROM alert_timeline").await.is_err());
}
