//! Flow metrics through the application layer on SQLite and PostgreSQL, with hand-checked
//! figures: first evidence (when the earliest incident behind an alert was recorded) → alert
//! → acknowledgement → first action, and the share responded within 72 hours; nothing from a
//! record above the viewer's clearance moves a figure.

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::json;
use tocsin_app::alerts::{open_or_add_evidence, Move, RaiseAlert};
use tocsin_app::flow::FlowQuery;
use tocsin_app::{Acting, App, AppError};
use tocsin_domain::{
    Action, ActionStatus, Actor, AlertEvidence, AuditEvent, Country, Department, Incident,
    IncidentInput, NewSituation, NewUser, Role, Tlp, User,
};
use tocsin_framework::Frameworks;
use tocsin_store::{ActionStep, DynStore, Op, Step, StoreExt};
use tocsin_store_tests::Db;
use uuid::Uuid;

async fn user(store: &DynStore, name: &str, role: Role, clearance: Tlp) -> User {
    let mut u = NewUser::build(name, role, None).unwrap();
    u.clearance = clearance;
    store.create_user(&Actor::system("test"), u).await.unwrap()
}

/// Monday 2026-11-02 00:00 UTC.
fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 0, 0, 0).unwrap()
}

/// An incident labelled `tlp`, recorded at `at`.
async fn incident(store: &DynStore, tlp: &str, at: DateTime<Utc>) -> Uuid {
    let input: IncidentInput = serde_json::from_value(json!({
        "event_date": "2026-11-01", "event_type": "Violence against civilians",
        "sub_event_type": "Attack", "country": "MLI", "latitude": 16.27,
        "longitude": -0.04, "fatalities": 3, "description": "Village attacked.", "tlp": tlp,
    }))
    .unwrap();
    let mut i = Incident::parse(input).unwrap();
    i.created_at = at;
    i.updated_at = at;
    store
        .create_incident(&Actor::system("test"), i)
        .await
        .unwrap()
        .id
}

#[tokio::test]
async fn flow_metrics_are_hand_checked_and_clearance_bound_on_sqlite() {
    flow(Db::sqlite().await.store).await;
}

#[tokio::test]
async fn flow_metrics_are_hand_checked_and_clearance_bound_on_postgres() {
    if let Some(db) = Db::postgres().await {
        flow(db.store.clone()).await;
    }
}

async fn flow(store: DynStore) {
    let frameworks = Frameworks::shipped();
    let mut app = App::new(&store, &frameworks);
    // E-mail is configured and dora has an address, so the desks' policies reach her.
    let channels = tocsin_app::notify::Channels {
        email: true,
        ..Default::default()
    };
    let key = tocsin_domain::ContactKey::generate();
    app.channels = &channels;
    app.contact_key = Some(&key);
    let admin = user(&store, "ada", Role::Admin, Tlp::Red).await;
    let ann = user(&store, "ann", Role::Analyst, Tlp::Amber).await;
    let dora = user(&store, "dora", Role::DeskOfficer, Tlp::Amber).await;
    let vic = user(&store, "vic", Role::Viewer, Tlp::Green).await;
    app.set_user_contacts(
        &admin,
        dora.id,
        tocsin_app::notify::ContactsPatch {
            email: Some("dora@example.org".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let t = t0();
    let sahel = app
        .create_desk(
            &admin,
            serde_json::from_value(json!({"name": "Sahel desk", "department": "foreign affairs",
                "members": ["dora"], "countries": ["MLI"], "escalation": [{"after": "1d", "notify": {"user": "dora"}}]}))
            .unwrap(),
            t,
        )
        .await
        .unwrap();
    let lakes = app
        .create_desk(
            &admin,
            serde_json::from_value(json!({"name": "Lakes desk", "department": "development",
                "members": ["dora"], "countries": ["COD"], "escalation": [{"after": "1d", "notify": {"user": "dora"}}]}))
            .unwrap(),
            t,
        )
        .await
        .unwrap();
    let mali = app
        .create_situation(
            &ann,
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

    // a1: opened by a rule at T on two incidents: one GREEN recorded at T-3h, one AMBER
    // recorded at T-10h. Acknowledged at T+30m; an action linking it recorded at T+2h30m.
    let i1 = incident(&store, "TLP:GREEN", t - Duration::hours(3)).await;
    let i0 = incident(&store, "TLP:AMBER", t - Duration::hours(10)).await;
    let rule = app
        .create_rule(
            &admin,
            serde_json::from_value(json!({"name": "Attacks in Mali", "severity": "high",
                "ack_within": "1h", "kind": "incidents", "country": "MLI", "window": "7d",
                "min_incidents": 1, "tlp": "TLP:GREEN", "desk": sahel.id}))
            .unwrap(),
        )
        .await
        .unwrap();
    // Opened on the GREEN incident (an alert is labelled at least its evidence's label); the
    // AMBER one joins the open alert afterwards.
    let a1 = match open_or_add_evidence(
        &app,
        &rule,
        vec![AlertEvidence::Incident(i1)],
        Some(Country::parse("MLI").unwrap()),
        Some(mali.id),
        "Attacks in Mali",
        t,
    )
    .await
    .unwrap()
    {
        tocsin_app::alerts::Outcome::Opened(a) => a,
        o => panic!("{o:?}"),
    };
    open_or_add_evidence(
        &app,
        &rule,
        vec![AlertEvidence::Incident(i0)],
        Some(Country::parse("MLI").unwrap()),
        Some(mali.id),
        "Attacks in Mali",
        t,
    )
    .await
    .unwrap();
    app.move_alert(&dora, a1.id, Move::Acknowledge, t + Duration::minutes(30))
        .await
        .unwrap();
    let action = Action {
        id: Uuid::now_v7(),
        measure_id: "M-01".into(),
        situation_id: mali.id,
        alert_ids: vec![a1.id],
        risk_factors: vec![],
        department: Department::parse("foreign affairs").unwrap(),
        desk_id: Some(sahel.id),
        lead: "dora".into(),
        due_date: (t + Duration::days(7)).date_naive(),
        status: ActionStatus::Planned,
        outcome: None,
        next_review: None,
        notes: String::new(),
        created_by: "dora".into(),
        created_at: t + Duration::minutes(150),
        updated_at: t + Duration::minutes(150),
        version: 1,
    };
    store
        .write(
            &Actor::system("test"),
            Op::All {
                steps: vec![Step::Action(ActionStep::Create(Box::new(action)))],
                audit: Box::new(AuditEvent::new(
                    &Actor::system("test"),
                    "action.create",
                    "action",
                    None,
                )),
            },
        )
        .await
        .unwrap();

    // a2: raised by hand at T+1h on an incident recorded at T; acknowledged 90 minutes later;
    // no action (more than 72 hours ago: a miss).
    let i3 = incident(&store, "TLP:GREEN", t).await;
    let raise = |v: serde_json::Value| serde_json::from_value::<RaiseAlert>(v).unwrap();
    let a2 = app
        .raise_alert(
            &ann,
            raise(json!({"title": "Militia massing", "severity": "moderate",
                "tlp": "TLP:GREEN", "country": "MLI", "situation": mali.id,
                "evidence": [{"incident": i3}]})),
            t + Duration::hours(1),
        )
        .await
        .unwrap();
    app.move_alert(&dora, a2.id, Move::Acknowledge, t + Duration::minutes(150))
        .await
        .unwrap();
    // a3: AMBER, Lakes desk, no situation, raised at T+2h on an AMBER incident recorded at
    // T+1h; never acknowledged.
    let i4 = incident(&store, "TLP:AMBER", t + Duration::hours(1)).await;
    app.raise_alert(
        &ann,
        raise(json!({"title": "Hate radio in Ituri", "severity": "high",
            "tlp": "TLP:AMBER", "country": "COD", "desk": lakes.id,
            "evidence": [{"incident": i4}]})),
        t + Duration::hours(2),
    )
    .await
    .unwrap();

    let now = t + Duration::days(30);
    let all = FlowQuery::default();

    // The GREEN viewer: a2 only. a1 was relabelled TLP:AMBER when the AMBER incident joined
    // it (an alert is never labelled below its evidence), so nothing of a1 counts for them.
    let v = app.flow_metrics(&vic, &all, now).await.unwrap();
    let o = &v.report.overall;
    assert_eq!(o.alerts, 1);
    assert_eq!(
        (
            o.evidence_to_alert.median_secs,
            o.evidence_to_alert.p90_secs
        ),
        (Some(3600), Some(3600))
    );
    assert_eq!(
        (
            o.alert_to_acknowledgement.median_secs,
            o.alert_to_acknowledgement.p90_secs
        ),
        (Some(5400), Some(5400))
    );
    // a2 has no action.
    let f = &o.acknowledgement_to_first_action;
    assert_eq!((f.count, f.not_measured, f.median_secs), (0, 1, None));
    let r = &o.response_within_72h;
    assert_eq!((r.responded, r.counted, r.pending), (0, 1, 0));
    assert_eq!(r.share, Some(0.0));
    let desk = |v: &tocsin_app::flow::FlowView, id: Uuid| {
        v.report
            .desks
            .iter()
            .find(|d| d.desk_id == id)
            .unwrap()
            .stats
            .clone()
    };
    assert_eq!(desk(&v, sahel.id).alerts, 1);
    assert_eq!(desk(&v, lakes.id).alerts, 0, "every desk is listed");
    assert_eq!(v.desk_names[&lakes.id], "Lakes desk");
    assert_eq!(v.report.situations.len(), 1);
    assert_eq!(v.report.situations[0].situation_id, Some(mali.id));
    assert_eq!(v.situation_names[&mali.id], "Central Mali");
    let shown = serde_json::to_string(&v).unwrap();
    assert!(!shown.contains("Hate radio") && !shown.contains(&i0.to_string()));
    assert!(!shown.contains(&a1.id.to_string()));

    // The AMBER analyst sees a3 and a1's AMBER incident: [3600, 3600, 36000] gives median
    // 3600 and p90 3600 + 0.8 × 32400 = 29520.
    let v = app.flow_metrics(&ann, &all, now).await.unwrap();
    let o = &v.report.overall;
    assert_eq!(o.alerts, 3);
    assert_eq!(
        (
            o.evidence_to_alert.median_secs,
            o.evidence_to_alert.p90_secs
        ),
        (Some(3600), Some(29520))
    );
    assert_eq!(o.alert_to_acknowledgement.not_measured, 1);
    let lakes_stats = desk(&v, lakes.id);
    assert_eq!(lakes_stats.alerts, 1);
    assert_eq!(lakes_stats.response_within_72h.share, Some(0.0));
    assert_eq!(
        v.report.situations[0].situation_id, None,
        "a3 has no situation"
    );

    // Filters: one desk, one situation.
    let v = app
        .flow_metrics(
            &ann,
            &FlowQuery {
                desk: Some(lakes.id),
                situation: None,
            },
            now,
        )
        .await
        .unwrap();
    assert_eq!(v.report.overall.alerts, 1);
    assert_eq!(v.report.desks.len(), 1);
    let v = app
        .flow_metrics(
            &ann,
            &FlowQuery {
                desk: None,
                situation: Some(mali.id),
            },
            now,
        )
        .await
        .unwrap();
    assert_eq!(v.report.overall.alerts, 2);
    // Bad filters name the parameter; the operator sees all.
    let e = app
        .flow_metrics(
            &ann,
            &FlowQuery {
                desk: Some(Uuid::now_v7()),
                situation: None,
            },
            now,
        )
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("desk"));
    let v = app
        .flow_metrics(Acting::Operator("cli"), &all, now)
        .await
        .unwrap();
    assert_eq!(v.report.overall.alerts, 3);
    // Only readers of alerts.
    let mut gone = vic.clone();
    gone.disabled = true;
    assert!(matches!(
        app.flow_metrics(&gone, &all, now).await,
        Err(AppError::Forbidden { .. })
    ));
}
