//! Issue 14 acceptance, the whole alerting story with an injected clock, on a real SQLite file
//! with a real SMTP server on localhost (aiosmtpd) and the real outbox job and escalation timer
//! on the job runner, as `tocsin serve` registers them:
//! incidents → rule engine → alert → the desk's members e-mailed → the acknowledgement deadline
//! passes → the escalation timer notifies the next step → a desk officer acknowledges → nobody
//! is notified again however long it stays unanswered → an action from a suggested measure →
//! action decided → closed as acted. Every timeline timestamp, delivery and audit entry is
//! asserted; a TLP:GREEN-cleared desk member is told nothing beyond the link; no source handle,
//! phone or contact appears in any delivery, inbox item or mail of the run.
//!
//! The clock (`tocsin_domain::time::advance`, feature `test-clock`) is process-wide: this file
//! holds one test and must stay its own test binary. Run it with
//! `TOCSIN_REQUIRE_SMTP=1 cargo test -p tocsin-server --test alert_scenario`
//! (needs `python3 -m pip install aiosmtpd`; skipped without it unless required).

mod acceptance;

use acceptance::{aiosmtpd, assert_no_source_traces, Smtp};
use chrono::{DateTime, Duration as ChronoDuration, Utc};
use serde_json::json;
use std::time::{Duration, Instant};
use tocsin_app::alerts::{open_or_add_evidence, Move, Outcome};
use tocsin_app::notify::{ContactsPatch, RESTRICTED_SUBJECT};
use tocsin_domain::time::{advance, now};
use tocsin_domain::{
    Actor, AlertEvidence, AlertStatus, AssessmentStatus, CloseReason, ContactKey, Incident,
    NewAction, NewSituation, NewSource, NewUser, OutboxStatus, PageRequest, Reliability, Role,
    SourceContact, TimelineEvent, Tlp, User,
};
use tocsin_rules::RuleEngine;
use tocsin_server::AppState;
use tocsin_store::{DynStore, StoreExt};
use tocsin_store_tests::Db;

const PUBLIC_URL: &str = "https://tocsin.example.org";

/// The warner's details, which must never leave in a notification.
const SOURCE_HANDLE: &str = "KITE-7QX";
const SOURCE_PHONE: &str = "+23670011223";
const SOURCE_EMAIL: &str = "amadou.warner@example.net";
const SOURCE_NAME: &str = "Amadou Zakari";
const SECOND_HANDLE: &str = "M-4RT9ZP";
const SECOND_PHONE: &str = "+23672334455";

async fn user(store: &DynStore, name: &str, role: Role, clearance: Tlp) -> User {
    let mut u = NewUser::build(name, role, None).unwrap();
    u.clearance = clearance;
    store.create_user(&Actor::system("test"), u).await.unwrap()
}

/// Poll `f` (at most `secs`) until it answers `Some`.
async fn until<T, F, Fut>(secs: u64, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Feed a stored incident to the engine and each rule it fires to `open_or_add_evidence`, as
/// `tocsin serve` does after each write.
async fn evaluate(
    app: &tocsin_app::App<'_>,
    store: &DynStore,
    engine: &mut RuleEngine,
    i: &Incident,
    at: DateTime<Utc>,
) -> Vec<Outcome> {
    let mut out = Vec::new();
    for f in engine.incident_upserted(i) {
        let rule = store.get_rule(f.rule_id).await.unwrap();
        out.push(
            open_or_add_evidence(app, &rule, f.evidence, f.country, f.situation, &f.title, at)
                .await
                .unwrap(),
        );
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incidents_to_alert_escalation_acknowledgement_action_and_close() {
    if !aiosmtpd() {
        return;
    }
    let smtp = Smtp::start();
    let db = Db::sqlite().await;
    let store = db.store.clone();
    let sys = Actor::system("test");
    let cfg = tocsin_delivery::smtp::SmtpConfig {
        host: "127.0.0.1".into(),
        port: Some(smtp.port),
        tls: tocsin_delivery::smtp::SmtpTls::None,
        username: None,
        password: None,
        from: "Tocsin <alerts@tocsin.test>".into(),
        timeout_secs: Some(10),
        subject_prefix: None,
    };
    let state = AppState::new(store.clone(), ContactKey::generate(), false);
    let channel = tocsin_delivery::smtp::SmtpChannel::new(&cfg, state.contact_key.clone()).unwrap();
    let state = state
        .with_channels(Some(channel), None)
        .with_public_url(Some(PUBLIC_URL.into()));
    let app = state.app();

    // People: an admin, two analysts, the desk's two members (one cleared only to GREEN), and
    // the two escalation targets; every one of them reachable by e-mail.
    let ada = user(&store, "ada", Role::Admin, Tlp::Red).await;
    let ann = user(&store, "ann", Role::Analyst, Tlp::Amber).await;
    let bob = user(&store, "bob", Role::Analyst, Tlp::Amber).await;
    let dora = user(&store, "dora", Role::DeskOfficer, Tlp::Amber).await;
    let gus = user(&store, "gus", Role::DeskOfficer, Tlp::Green).await;
    let olga = user(&store, "olga", Role::DeskOfficer, Tlp::Amber).await;
    let paul = user(&store, "paul", Role::DeskOfficer, Tlp::Amber).await;
    for u in [&dora, &gus, &olga, &paul] {
        app.set_user_contacts(
            &ada,
            u.id,
            ContactsPatch {
                email: Some(format!("{}@desk.example.org", u.username)),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    }
    let t0 = now();
    let desk = app
        .create_desk(
            &ada,
            serde_json::from_value(json!({"name": "Central Africa desk",
                "department": "foreign affairs", "members": ["dora", "gus"],
                "countries": ["CAF"], "escalation": [
                    {"after": "30m", "notify": {"user": "olga"}},
                    {"after": "2h", "notify": {"user": "paul"}}]}))
            .unwrap(),
            t0,
        )
        .await
        .unwrap();
    app.create_rule(
        &ada,
        serde_json::from_value(json!({"name": "Attacks in CAF", "severity": "high",
                "ack_within": "30m", "kind": "incidents", "country": "CAF", "window": "7d",
                "min_incidents": 3, "desk": desk.id, "tlp": "TLP:AMBER"}))
        .unwrap(),
    )
    .await
    .unwrap();
    let situation = app
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

    // Two warners with known handles and contacts, whose reports the incidents rest on.
    for (handle, contact) in [
        (
            SOURCE_HANDLE,
            SourceContact {
                chat: None,
                name: Some(SOURCE_NAME.into()),
                phone: Some(SOURCE_PHONE.into()),
                email: Some(SOURCE_EMAIL.into()),
            },
        ),
        (
            SECOND_HANDLE,
            SourceContact {
                chat: None,
                name: None,
                phone: Some(SECOND_PHONE.into()),
                email: None,
            },
        ),
    ] {
        let s = NewSource::new(
            handle,
            "monitor",
            Reliability::B,
            Tlp::Amber,
            Some(&contact),
            &state.contact_key,
        )
        .unwrap();
        store.create_source(&sys, s).await.unwrap();
    }
    let mut reports = Vec::new();
    for (handle, text) in [
        (SOURCE_HANDLE, "Armed men entered the market in Bossangoa."),
        (SECOND_HANDLE, "Houses burnt near Paoua overnight."),
    ] {
        let r = app
            .create_report(
                &ann,
                serde_json::from_value(json!({"text": text, "tlp": "TLP:AMBER",
                    "source": handle, "country": "CAF"}))
                .unwrap(),
                tocsin_domain::Channel::Api,
            )
            .await
            .unwrap();
        reports.push(r.id);
    }

    // The engine as loaded at start (no incident yet), then fed each write.
    let mut engine = RuleEngine::load(&*store, store.list_rules(true).await.unwrap())
        .await
        .unwrap();
    assert_eq!(engine.len(), 1);
    let today = t0.date_naive();
    let mut incidents = Vec::new();
    let mut outcomes = Vec::new();
    let mut evaluated_at = Vec::new();
    for k in 0..4i64 {
        let i = app
            .create_incident(
                &ann,
                serde_json::from_value(json!({
                    "event_date": (today - ChronoDuration::days(3 - k)).to_string(),
                    "event_type": "Violence against civilians", "sub_event_type": "Attack",
                    "country": "CAF", "latitude": 7.3, "longitude": 17.4, "fatalities": 2,
                    "description": "Attack on a village", "tlp": "TLP:AMBER",
                    "report_ids": [reports[(k % 2) as usize]]}))
                .unwrap(),
            )
            .await
            .unwrap();
        let at = now();
        outcomes.push(evaluate(&app, &store, &mut engine, &i, at).await);
        evaluated_at.push(at);
        incidents.push(i);
    }
    // Below the threshold twice, crossed on the third, evidence added by the fourth.
    assert!(
        outcomes[0].is_empty() && outcomes[1].is_empty(),
        "{outcomes:?}"
    );
    let alert = match &outcomes[2][..] {
        [Outcome::Opened(a)] => a.clone(),
        o => panic!("the third incident opens the alert: {o:?}"),
    };
    assert!(
        matches!(&outcomes[3][..], [Outcome::EvidenceAdded(a)] if a.id == alert.id),
        "{outcomes:?}"
    );
    let t_open = evaluated_at[2];
    let t_evidence = evaluated_at[3];
    assert_eq!(alert.desk_id, desk.id);
    assert_eq!(alert.tlp, Tlp::Amber);
    assert_eq!(alert.opened_at, t_open);
    assert_eq!(alert.ack_deadline, t_open + ChronoDuration::minutes(30));
    assert_eq!(
        alert.evidence,
        incidents[..3]
            .iter()
            .map(|i| AlertEvidence::Incident(i.id))
            .collect::<Vec<_>>()
    );

    // The background work, as `tocsin serve` registers it.
    let mut runner = tocsin_jobs::Runner::new(store.clone())
        .timer_poll(Duration::from_millis(100), Duration::from_secs(60));
    runner.add(tocsin_server::health::outbox_job(
        &state,
        Duration::from_secs(300),
    ));
    tocsin_server::alerts::register(&mut runner, &state);
    let running = runner.start();

    // Opening e-mailed the desk's two members.
    let mails = smtp.wait_for(2, 60).await;
    let mut rcpts: Vec<String> = mails.iter().flat_map(|m| m.rcpt.clone()).collect();
    rcpts.sort();
    assert_eq!(
        rcpts,
        ["dora@desk.example.org", "gus@desk.example.org"],
        "{mails:#?}"
    );
    let link = format!("{PUBLIC_URL}/alerts/{}", alert.id);
    let to_dora = mails
        .iter()
        .find(|m| m.rcpt[0].starts_with("dora"))
        .unwrap();
    // The subject is the body's first line, cut at 70 characters.
    assert!(
        to_dora.subject.starts_with("Tocsin [high]: Attacks in CAF"),
        "{to_dora:?}"
    );
    assert!(to_dora
        .body
        .starts_with(&format!("Tocsin [high]: {}", alert.title)));
    assert!(to_dora.body.contains("TLP:AMBER"), "{to_dora:?}");
    assert!(to_dora.body.contains(&link), "{to_dora:?}");
    // GREEN-cleared: told that an alert needs attention, with the link, and nothing else.
    let to_gus = mails.iter().find(|m| m.rcpt[0].starts_with("gus")).unwrap();
    assert_eq!(
        to_gus.body.trim_end(),
        format!("{RESTRICTED_SUBJECT}\n\n{link}"),
        "{to_gus:?}"
    );
    assert!(to_gus.subject.contains(RESTRICTED_SUBJECT), "{to_gus:?}");
    for word in [
        alert.title.as_str(),
        "CAF",
        "Central African",
        "high",
        "AMBER",
        "Attacks",
    ] {
        assert!(
            !to_gus.subject.contains(word) && !to_gus.body.contains(word),
            "the GREEN recipient's mail names {word:?}: {to_gus:?}"
        );
    }
    let gus_inbox = app
        .list_inbox(&gus, PageRequest::default())
        .await
        .unwrap()
        .items;
    assert_eq!(gus_inbox.len(), 1);
    assert_eq!(gus_inbox[0].subject, RESTRICTED_SUBJECT);
    assert_eq!(gus_inbox[0].link, link);
    assert_eq!(gus_inbox[0].created_at, t_open);

    // Nothing more before the deadline.
    assert_eq!(store.get_alert(alert.id).await.unwrap().escalation_step, 0);

    // The acknowledgement deadline passes: step 1 (olga) is notified by the timer.
    advance(ChronoDuration::minutes(31));
    let mails = smtp.wait_for(3, 90).await;
    assert_eq!(mails[2].rcpt, ["olga@desk.example.org"], "{mails:#?}");
    assert!(mails[2].body.contains(&alert.title));
    let a = until(30, "step 1 on the alert", || async {
        let a = store.get_alert(alert.id).await.unwrap();
        (a.escalation_step == 1).then_some(a)
    })
    .await;
    assert_eq!(a.status, AlertStatus::Open);
    let fired_seen = now();

    // Dora acknowledges: the timer of step 2 is gone.
    let t_ack = now();
    let v = app
        .move_alert(&dora, alert.id, Move::Acknowledge, t_ack)
        .await
        .unwrap();
    assert_eq!(v.alert.status, AlertStatus::Acknowledged);
    assert_eq!(store.pending_timers().await.unwrap(), 0);

    // Far past every later step (2h, and all repeats): nobody is paged again.
    advance(ChronoDuration::days(2));
    // Let the timer poll and the outbox job run several times over.
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(store.pending_timers().await.unwrap(), 0);
    assert_eq!(smtp.received().len(), 3);
    assert_eq!(store.get_alert(alert.id).await.unwrap().escalation_step, 1);

    // An action from a suggested measure: an assessment puts factor 5 at high.
    let n: tocsin_domain::NewAssessment = serde_json::from_value(json!({
        "framework": "un-foa-2014", "as_of": today.to_string(),
        "factors": [{"factor": 5, "level": "high", "confidence": "medium",
            "rationale": "seen in the field"}]}))
    .unwrap();
    let assessment = app.create_assessment(&ann, situation.id, n).await.unwrap();
    app.step_assessment(&bob, assessment.id, AssessmentStatus::Reviewed, None, None)
        .await
        .unwrap();
    app.step_assessment(&bob, assessment.id, AssessmentStatus::Published, None, None)
        .await
        .unwrap();
    let sug = app.suggested_measures(&dora, situation.id).await.unwrap();
    assert_eq!(sug.assessment.as_ref().unwrap().id, assessment.id);
    let measure = sug
        .measures
        .iter()
        .find(|m| m.factors.iter().any(|f| f.factor == 5))
        .expect("a measure for factor 5");
    let action = app
        .create_action(
            &ann,
            NewAction {
                measure_id: measure.measure.id.clone(),
                situation_id: Some(situation.id),
                alert_ids: vec![alert.id],
                department: Some("foreign affairs".into()),
                lead: "dora".into(),
                due_date: today + ChronoDuration::days(30),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(action.alert_ids, vec![alert.id]);
    let t_decide = now();
    app.move_alert(&dora, alert.id, Move::Decide, t_decide)
        .await
        .unwrap();
    let t_close = now();
    let closed = app
        .move_alert(
            &dora,
            alert.id,
            Move::Close(Some(CloseReason::Acted)),
            t_close,
        )
        .await
        .unwrap();
    assert_eq!(closed.alert.status, AlertStatus::Closed);
    assert_eq!(closed.alert.closed_at, Some(t_close));
    assert_eq!(closed.alert.close_reason, Some(CloseReason::Acted));

    // Still nobody else paged once the outbox has run again.
    tokio::time::sleep(Duration::from_secs(3)).await;
    running.shutdown().await;

    // The timeline, every timestamp.
    let tl = closed.timeline;
    let events: Vec<(&TimelineEvent, &str)> =
        tl.iter().map(|e| (&e.event, e.by.as_str())).collect();
    assert_eq!(
        events,
        vec![
            (&TimelineEvent::Opened, "system:rules"),
            (
                &TimelineEvent::EvidenceAdded {
                    evidence: AlertEvidence::Incident(incidents[3].id)
                },
                "system:rules"
            ),
            (&TimelineEvent::Notified { step: 1 }, "system:escalation"),
            (&TimelineEvent::Acknowledged, "dora"),
            (&TimelineEvent::ActionDecided, "dora"),
            (
                &TimelineEvent::Closed {
                    reason: CloseReason::Acted
                },
                "dora"
            ),
        ]
    );
    assert_eq!(tl[0].at, t_open);
    assert_eq!(tl[1].at, t_evidence);
    let due = t_open + ChronoDuration::minutes(30);
    assert!(
        tl[2].at >= due && tl[2].at <= fired_seen,
        "step 1 fired at {} (due {due}, seen by {fired_seen})",
        tl[2].at
    );
    assert_eq!(tl[3].at, t_ack);
    assert_eq!(tl[4].at, t_decide);
    assert_eq!(tl[5].at, t_close);

    // Every delivery: recipient, channel, reason, content label, time; each sent, once.
    let key = &state.contact_key;
    let mut out = store.list_outbound(None, 1000).await.unwrap();
    out.sort_by_key(|m| (m.created_at, m.idempotency_key.clone()));
    let prefix = format!("notify:{}:", alert.id);
    let got: Vec<(String, String, String, Tlp, OutboxStatus, DateTime<Utc>)> = out
        .iter()
        .map(|m| {
            let user = m.user_id.expect("to a user");
            let why = m
                .idempotency_key
                .strip_prefix(&prefix)
                .and_then(|k| k.strip_suffix(&format!(":{user}:email")))
                .unwrap_or_else(|| panic!("unexpected key {}", m.idempotency_key));
            (
                m.open_address(key).unwrap().unwrap().email.unwrap(),
                m.gateway.clone(),
                why.to_string(),
                m.tlp,
                m.status,
                m.created_at,
            )
        })
        .collect();
    let mail = |u: &User| format!("{}@desk.example.org", u.username);
    let sent = OutboxStatus::Sent;
    assert_eq!(
        got,
        vec![
            (
                mail(&dora),
                "smtp".into(),
                "opened".into(),
                Tlp::Amber,
                sent,
                t_open
            ),
            (
                mail(&gus),
                "smtp".into(),
                "opened".into(),
                Tlp::Clear,
                sent,
                t_open
            ),
            (
                mail(&olga),
                "smtp".into(),
                "escalation:1".into(),
                Tlp::Amber,
                sent,
                tl[2].at
            ),
        ]
    );
    let mails = smtp.received();
    assert_eq!(
        mails
            .iter()
            .map(|m| m.rcpt.clone())
            .collect::<Vec<_>>()
            .len(),
        3,
        "{mails:#?}"
    );
    assert_eq!(mails[2].rcpt, [mail(&olga)]);
    // The inbox: one item each for the two members and the step's target, none for paul.
    for (u, n, at) in [
        (&dora, 1, Some(t_open)),
        (&gus, 1, Some(t_open)),
        (&olga, 1, Some(tl[2].at)),
        (&paul, 0, None),
        (&ada, 0, None),
    ] {
        let items = app
            .list_inbox(u, PageRequest::default())
            .await
            .unwrap()
            .items;
        assert_eq!(items.len(), n, "{}'s inbox: {items:?}", u.username);
        if let Some(at) = at {
            assert_eq!(items[0].created_at, at);
            assert_eq!(items[0].link, link);
            assert_eq!(items[0].alert_id, Some(alert.id));
        }
    }

    // Every audit entry, in order: the alert's own entries where its story put them, and
    // nothing recorded for the deliveries or for the steps that never fired.
    let entries = store.audit_entries(0, 10_000).await.unwrap();
    let audit: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    let mut expected = vec!["user.create"; 7];
    expected.extend(["user.contacts"; 4]);
    expected.extend([
        "desk.create",
        "rule.create",
        "situation.create",
        "source.create",
        "source.create",
        "report.create",
        "report.create",
        "incident.create",
        "incident.create",
        "incident.create",
        "alert.open",
        "incident.create",
        "alert.evidence",
        "alert.notify",
        "alert.acknowledge",
        "assessment.create",
        "assessment.review",
        "assessment.publish",
        "action.create",
        "alert.decide",
        "alert.close",
    ]);
    assert_eq!(audit, expected);
    let notify = entries.iter().find(|e| e.action == "alert.notify").unwrap();
    let detail: serde_json::Value = serde_json::from_str(&notify.detail).unwrap();
    assert_eq!(detail["step"], 1, "{detail}");
    assert_eq!(detail["recipients"], 1, "{detail}");
    assert_eq!(notify.actor_name, "system:escalation");
    for e in entries.iter().filter(|e| e.action.starts_with("alert.")) {
        assert_eq!(e.record_id.as_deref(), Some(alert.id.to_string().as_str()));
    }

    // Warner safety over the whole run.
    let mut texts: Vec<String> = out.iter().map(|m| m.text.clone()).collect();
    for u in [&ada, &ann, &bob, &dora, &gus, &olga, &paul] {
        for i in app
            .list_inbox(u, PageRequest::default())
            .await
            .unwrap()
            .items
        {
            texts.push(format!("{} {}", i.subject, i.link));
        }
    }
    for m in smtp.received() {
        texts.extend([m.subject, m.body, m.raw]);
    }
    assert_no_source_traces(
        &texts,
        &[
            SOURCE_HANDLE,
            SOURCE_PHONE,
            SOURCE_EMAIL,
            SOURCE_NAME,
            SECOND_HANDLE,
            SECOND_PHONE,
        ],
    );
    drop(db);
}
