//! Action plans on a real store (a fresh SQLite file, and a fresh PostgreSQL database when
//! `TOCSIN_TEST_POSTGRES_URL` names a server): suggestions from the latest published
//! assessment only, the whole-of-government view and its gaps, the status workflow, clearance,
//! and the overdue reminder sent once per due date.

use chrono::NaiveDate;
use serde_json::json;
use tocsin_app::actions::ActionQuery;
use tocsin_app::notify::{Channels, ContactsPatch};
use tocsin_app::{Acting, App, AppError};
use tocsin_domain::ContactKey;
use tocsin_domain::{
    ActionPatch, Actor, AssessmentStatus, NewAction, NewAssessment, NewSituation, NewUser,
    PageRequest, Role, Situation, Tlp, User,
};
use tocsin_framework::Frameworks;
use tocsin_store::{DynStore, StoreExt};
use tocsin_store_tests::Db;
use uuid::Uuid;

async fn user(store: &DynStore, name: &str, role: Role, clearance: Option<Tlp>) -> User {
    let mut u = NewUser::build(name, role, None).unwrap();
    if let Some(c) = clearance {
        u.clearance = c;
    }
    store.create_user(&Actor::system("test"), u).await.unwrap()
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

async fn situation(app: &App<'_>, by: &User, name: &str, tlp: Tlp) -> Situation {
    app.create_situation(
        by,
        NewSituation {
            name: name.into(),
            country: "CAF".into(),
            admin1: None,
            status: None,
            description: None,
            tlp: Some(tlp),
        },
    )
    .await
    .unwrap()
}

/// An assessment of `s` on the UN 2014 framework with these levels, published by a second
/// analyst when `publish`, else left a draft.
async fn assessment(
    app: &App<'_>,
    author: &User,
    reviewer: &User,
    s: &Situation,
    as_of: &str,
    levels: &[(u32, &str)],
    publish: bool,
) -> Uuid {
    let factors: Vec<_> = levels
        .iter()
        .map(|(f, l)| json!({"factor": f, "level": l, "confidence": "medium", "rationale": "seen in the field"}))
        .collect();
    let n: NewAssessment = serde_json::from_value(json!({
        "framework": "un-foa-2014", "as_of": as_of, "factors": factors
    }))
    .unwrap();
    let a = app.create_assessment(author, s.id, n).await.unwrap();
    if publish {
        app.step_assessment(reviewer, a.id, AssessmentStatus::Reviewed, None, None)
            .await
            .unwrap();
        app.step_assessment(reviewer, a.id, AssessmentStatus::Published, None, None)
            .await
            .unwrap();
    }
    a.id
}

fn new_action(s: &Situation, measure: &str, dept: &str, lead: &str, due: &str) -> NewAction {
    NewAction {
        measure_id: measure.into(),
        situation_id: Some(s.id),
        department: Some(dept.into()),
        lead: lead.into(),
        due_date: day(due),
        ..Default::default()
    }
}

#[tokio::test]
async fn action_plans_on_sqlite() {
    plans(Db::sqlite().await).await;
}

#[tokio::test]
async fn action_plans_on_postgres() {
    if let Some(db) = Db::postgres().await {
        plans(db).await;
    }
}

async fn plans(db: Db) {
    let store = db.store.clone();
    let frameworks = Frameworks::shipped();
    let app = App::new(&store, &frameworks);
    let alice = user(&store, "alice", Role::Analyst, None).await;
    let bob = user(&store, "bob", Role::Analyst, None).await;
    let desk = user(&store, "desk", Role::DeskOfficer, None).await;
    let viewer = user(&store, "vera", Role::Viewer, None).await;
    let coordinator = user(&store, "mona", Role::MonitorCoordinator, None).await;
    let s = situation(&app, &alice, "CAR north-west", Tlp::Green).await;

    // Nothing published yet: nothing to suggest, and the view has no gap.
    let sug = app.suggested_measures(&alice, s.id).await.unwrap();
    assert!(sug.measures.is_empty() && sug.assessment.is_none());
    assert!(sug.note.unwrap().contains("no published assessment"));

    // Published: 14 severe, 5 high, 2 moderate. A newer draft rates 10 severe: it must not count.
    let published = assessment(
        &app,
        &alice,
        &bob,
        &s,
        "2026-01-01",
        &[(14, "severe"), (5, "high"), (2, "moderate")],
        true,
    )
    .await;
    assessment(
        &app,
        &alice,
        &bob,
        &s,
        "2026-02-01",
        &[(10, "severe")],
        false,
    )
    .await;
    let sug = app.suggested_measures(&viewer, s.id).await.unwrap();
    assert_eq!(sug.assessment.as_ref().unwrap().id, published);
    let ids: Vec<&str> = sug.measures.iter().map(|m| m.measure.id.as_str()).collect();
    assert_eq!(
        &ids[..2],
        ["poc_peacekeeping", "humanitarian_access"],
        "measures for the severe factor come first: {ids:?}"
    );
    assert!(
        ids.contains(&"targeted_sanctions"),
        "factor 5 (high) suggests sanctions: {ids:?}"
    );
    assert!(
        !ids.contains(&"counter_speech") && !ids.contains(&"incitement_law_enforcement"),
        "factor 10 is severe only in a draft: {ids:?}"
    );
    assert!(
        !ids.contains(&"public_censure"),
        "factor 2 is only moderate: {ids:?}"
    );
    let poc = &sug.measures[0];
    assert_eq!(
        poc.factors.iter().map(|f| f.factor).collect::<Vec<_>>(),
        vec![14]
    );
    assert!(sug.measures.windows(2).all(|w| w[0].level >= w[1].level));

    // The view before any action: both high factors are gaps.
    let v = app.response_view(&alice, s.id).await.unwrap();
    let gaps: Vec<u32> = v.gaps.iter().map(|g| g.factor).collect();
    assert_eq!(gaps, vec![14, 5]);
    assert_eq!(
        v.rows.iter().map(|r| r.factor).collect::<Vec<_>>(),
        vec![14, 5]
    );

    // Record actions: who may, and what they name.
    let n = new_action(
        &s,
        "humanitarian_access",
        "development",
        "bob",
        "2026-01-15",
    );
    let e = app.create_action(&viewer, n.clone()).await.unwrap_err();
    assert!(matches!(e, AppError::Forbidden { .. }), "{e:?}");
    let e = app
        .create_action(&coordinator, n.clone())
        .await
        .unwrap_err();
    assert!(matches!(e, AppError::Forbidden { .. }), "{e:?}");
    let mut bad = n.clone();
    bad.measure_id = "no_such_measure".into();
    assert_eq!(
        app.create_action(&alice, bad).await.unwrap_err().field(),
        Some("measure_id")
    );
    let mut bad = n.clone();
    bad.lead = "nobody".into();
    assert_eq!(
        app.create_action(&alice, bad).await.unwrap_err().field(),
        Some("lead")
    );
    let mut bad = n.clone();
    bad.lead = "vera".into();
    let red = situation(&app, &alice, "Secret", Tlp::Red).await;
    bad.situation_id = Some(red.id);
    assert_eq!(
        app.create_action(&alice, bad).await.unwrap_err().field(),
        Some("lead"),
        "a lead not cleared for the situation's label is refused"
    );
    // A desk officer records the actions of their own desk only.
    assert!(
        matches!(
            app.create_action(&desk, n.clone()).await,
            Err(AppError::Forbidden { .. })
        ),
        "no desk named: not their desk"
    );
    let own = tocsin_domain::Desk::parse(
        serde_json::from_value(
            json!({"name": "Humanitarian desk", "department": "development",
            "members": ["desk"], "escalation": [{"after": "15m", "notify": {"user": "desk"}}]}),
        )
        .unwrap(),
        &tocsin_domain::Department::defaults(),
    )
    .unwrap();
    let system = tocsin_domain::Actor::system("test");
    store
        .write(
            &system,
            tocsin_store::Op::All {
                steps: vec![tocsin_store::Step::CreateDesk(Box::new(own.clone()))],
                audit: Box::new(tocsin_domain::AuditEvent::new(
                    &system,
                    "desk.create",
                    "desk",
                    Some(own.id.to_string()),
                )),
            },
        )
        .await
        .unwrap();
    let mut n = n;
    n.desk_id = Some(own.id);
    let humanitarian = app.create_action(&desk, n).await.unwrap();
    assert_eq!(
        humanitarian.risk_factors,
        vec![13, 14],
        "the measure's own factors"
    );
    let sanctions = app
        .create_action(
            &alice,
            new_action(&s, "targeted_sanctions", "treasury", "alice", "2026-03-01"),
        )
        .await
        .unwrap();

    // The view: 14 addressed (development), 5 addressed (treasury), 4/7/13 from the actions.
    let v = app.response_view(&alice, s.id).await.unwrap();
    assert!(v.gaps.is_empty(), "{:?}", v.gaps);
    let row = |f: u32| v.rows.iter().find(|r| r.factor == f).unwrap();
    let cell = |f: u32, d: &str| {
        row(f)
            .cells
            .iter()
            .find(|c| c.department == d)
            .unwrap()
            .actions
            .iter()
            .map(|a| a.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(cell(14, "development"), vec![humanitarian.id]);
    assert!(cell(14, "treasury").is_empty());
    assert_eq!(cell(5, "treasury"), vec![sanctions.id]);
    assert_eq!(cell(4, "treasury"), vec![sanctions.id]);
    assert_eq!(
        row(4).level,
        None,
        "a factor only an action addresses is shown unrated"
    );
    assert_eq!(v.rows[0].factor, 14, "the highest level first");

    // Status workflow: refused moves are conflicts, done needs an outcome (naming it).
    let to = |s: &str, v: i64| ActionPatch {
        status: Some(s.into()),
        expected_version: Some(v),
        ..Default::default()
    };
    let e = app
        .patch_action(&alice, sanctions.id, to("done", 1))
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("outcome"), "{e:?}");
    let mut drop = to("dropped", 1);
    drop.outcome = Some("Partners would not join".into());
    let dropped = app.patch_action(&alice, sanctions.id, drop).await.unwrap();
    assert_eq!(dropped.version, 2);
    let e = app
        .patch_action(&alice, sanctions.id, to("in_progress", 2))
        .await
        .unwrap_err();
    assert!(matches!(e, AppError::Conflict(_)), "{e:?}");
    let e = app
        .patch_action(&alice, humanitarian.id, to("in_progress", 7))
        .await
        .unwrap_err();
    assert!(matches!(e, AppError::Conflict(_)), "a stale version: {e:?}");
    let e = app
        .patch_action(&viewer, humanitarian.id, to("in_progress", 1))
        .await
        .unwrap_err();
    assert!(matches!(e, AppError::Forbidden { .. }), "{e:?}");
    // A dropped action addresses nothing: factor 5 is a gap again.
    let v = app.response_view(&alice, s.id).await.unwrap();
    assert_eq!(v.gaps.iter().map(|g| g.factor).collect::<Vec<_>>(), vec![5]);
    assert_eq!(
        v.rows
            .iter()
            .find(|r| r.factor == 5)
            .unwrap()
            .cells
            .iter()
            .find(|c| c.department == "treasury")
            .unwrap()
            .actions
            .len(),
        1,
        "still shown in its cell"
    );

    // A newer published assessment replaces the picture: 10 severe only.
    assessment(
        &app,
        &alice,
        &bob,
        &s,
        "2026-03-01",
        &[(10, "severe")],
        true,
    )
    .await;
    let ids: Vec<String> = app
        .suggested_measures(&alice, s.id)
        .await
        .unwrap()
        .measures
        .iter()
        .map(|m| m.measure.id.clone())
        .collect();
    assert!(
        ids.contains(&"counter_speech".to_string())
            && !ids.contains(&"poc_peacekeeping".to_string()),
        "{ids:?}"
    );

    // Clearance: an action of a TLP:RED situation does not exist for a TLP:AMBER desk officer.
    let secret = app
        .create_action(
            &alice,
            new_action(&red, "arms_embargo", "defence", "alice", "2026-01-02"),
        )
        .await
        .unwrap();
    assert!(matches!(
        app.get_action(&desk, secret.id).await,
        Err(AppError::NotFound)
    ));
    assert!(matches!(
        app.patch_action(&desk, secret.id, to("in_progress", 1))
            .await,
        Err(AppError::NotFound)
    ));
    assert!(matches!(
        app.suggested_measures(&desk, red.id).await,
        Err(AppError::NotFound)
    ));
    assert!(matches!(
        app.response_view(&desk, red.id).await,
        Err(AppError::NotFound)
    ));
    let listed = app
        .list_actions(&desk, ActionQuery::default(), PageRequest::first(100))
        .await
        .unwrap();
    assert!(listed.items.iter().all(|a| a.id != secret.id));
    assert_eq!(listed.items.len(), 2);
    let listed = app
        .list_actions(&alice, ActionQuery::default(), PageRequest::first(100))
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 3);
    assert!(matches!(
        app.list_actions(
            &desk,
            ActionQuery {
                situation: Some(red.id),
                ..Default::default()
            },
            PageRequest::first(10)
        )
        .await,
        Err(AppError::NotFound)
    ));

    // Overdue reminders: the planned humanitarian action (due 2026-01-15) and the secret one
    // (due 2026-01-02) are overdue on 2026-02-01; the dropped one is not. Each lead once.
    let today = day("2026-02-01");
    // E-mail is configured and bob has an address: his reminder goes to his inbox and by
    // e-mail (the default preferences for a moderate notice); alice has no address: inbox only.
    let channels = Channels {
        email: true,
        public_url: Some("https://tocsin.example.org".into()),
        ..Channels::default()
    };
    let key = ContactKey::generate();
    let mut app = App::new(&store, &frameworks);
    app.channels = &channels;
    app.contact_key = Some(&key);
    app.set_user_contacts(
        Acting::Operator("t"),
        bob.id,
        ContactsPatch {
            email: Some("bob@example.org".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(app.remind_overdue_actions(today).await.unwrap(), 2);
    let inbox = app.list_inbox(&bob, PageRequest::first(10)).await.unwrap();
    assert_eq!(inbox.items.len(), 1, "{:?}", inbox.items);
    assert!(
        inbox.items[0]
            .subject
            .starts_with("Tocsin: action overdue since 2026-01-15: "),
        "{}",
        inbox.items[0].subject
    );
    assert_eq!(
        inbox.items[0].link,
        format!(
            "https://tocsin.example.org/situations/{}/actions#action-{}",
            s.id, humanitarian.id
        )
    );
    let alice_inbox = app
        .list_inbox(&alice, PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(alice_inbox.items.len(), 1);
    assert!(alice_inbox.items[0].subject.contains("2026-01-02"));
    let mails: Vec<_> = store
        .list_outbound(None, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.gateway == "smtp")
        .collect();
    assert_eq!(mails.len(), 1, "one e-mail: bob's");
    let to = mails[0].open_address(&key).unwrap().unwrap();
    assert_eq!(to.email.as_deref(), Some("bob@example.org"));
    assert!(
        mails[0].text.contains("Situation: CAR north-west"),
        "{}",
        mails[0].text
    );
    assert_eq!(mails[0].tlp, Tlp::Green);
    assert_eq!(
        app.remind_overdue_actions(today).await.unwrap(),
        0,
        "not twice"
    );
    let other = db.open_another().await;
    assert_eq!(
        App::new(&other, &frameworks)
            .remind_overdue_actions(today)
            .await
            .unwrap(),
        0,
        "nor by a second server"
    );
    let view = app.get_action(&bob, humanitarian.id).await.unwrap();
    assert_eq!(view.reminders.len(), 1);
    assert_eq!(view.reminders[0].due_date, day("2026-01-15"));
    let audit = store.audit_entries(0, 10_000).await.unwrap();
    let reminders: Vec<_> = audit
        .iter()
        .filter(|e| e.action == "action.overdue")
        .collect();
    assert_eq!(reminders.len(), 2);
    let mine = reminders
        .iter()
        .find(|e| e.record_id.as_deref() == Some(&humanitarian.id.to_string()))
        .unwrap();
    let detail: serde_json::Value = serde_json::from_str(&mine.detail).unwrap();
    assert_eq!(detail["lead"], "bob");
    // A new due date, once passed, is reminded again.
    let mut moved = ActionPatch {
        due_date: Some(day("2026-01-20")),
        ..Default::default()
    };
    moved.expected_version = Some(1);
    app.patch_action(&bob, humanitarian.id, moved)
        .await
        .unwrap();
    assert_eq!(app.remind_overdue_actions(today).await.unwrap(), 1);
    assert_eq!(
        app.list_inbox(&bob, PageRequest::first(10))
            .await
            .unwrap()
            .items
            .len(),
        2,
        "the new due date is a new notice"
    );
    assert_eq!(
        app.get_action(&bob, humanitarian.id)
            .await
            .unwrap()
            .reminders
            .len(),
        2
    );
}
