//! Rumours decided by the application layer on a real store (SQLite, and PostgreSQL when
//! `TOCSIN_TEST_POSTGRES_URL` names a server): who records, changes and reads them, the
//! workflow's refusals as the API sees them, routing to the desk, sightings and their counts
//! within clearance (an excerpt only to readers of reports, never a source), and the overdue
//! notice reaching the desk once per deadline, with nothing above a member's clearance.

use chrono::Duration;
use tocsin_app::notify::{Channels, ContactsPatch};
use tocsin_app::rumours::{NewSighting, RumourQuery, RESTRICTED_SUBJECT};
use tocsin_app::{Acting, App, AppError};
use tocsin_domain::{
    Actor, AuditEvent, Channel, ContactKey, Desk, NewDesk, NewRumour, NewUser, PageRequest, Report,
    ReportInput, Role, RumourPatch, Tlp, User,
};
use tocsin_framework::Frameworks;
use tocsin_store::{Op, Step, Store, StoreExt};
use tocsin_store_tests::{story, Db};

story!(
    rumours_follow_roles_clearance_workflow_and_routing,
    sightings_show_only_what_the_viewer_may_see,
    an_overdue_rumour_notifies_its_desk_once_per_deadline,
);

async fn user(s: &dyn Store, name: &str, role: Role, clearance: Tlp) -> User {
    let mut u = NewUser::build(name, role, None).unwrap();
    u.clearance = clearance;
    s.create_user(&Actor::system("test"), u).await.unwrap()
}

async fn desk(s: &dyn Store, name: &str, members: &[&str], countries: &[&str]) -> Desk {
    let d = Desk::parse(
        serde_json::from_value::<NewDesk>(serde_json::json!({
            "name": name, "department": "defence", "members": members, "countries": countries,
            "escalation": [{"after": "15m", "notify": {"user": members[0]}}],
        }))
        .unwrap(),
        &tocsin_domain::Department::defaults(),
    )
    .unwrap();
    let actor = Actor::system("test");
    s.write(
        &actor,
        Op::All {
            steps: vec![Step::CreateDesk(Box::new(d.clone()))],
            audit: Box::new(AuditEvent::new(&actor, "desk.create", "desk", None)),
        },
    )
    .await
    .unwrap();
    d
}

fn claim(text: &str, country: &str, priority: &str, tlp: Tlp) -> NewRumour {
    NewRumour {
        claim: text.into(),
        country: country.into(),
        priority: Some(priority.into()),
        tlp: Some(tlp.as_str().into()),
        ..Default::default()
    }
}

fn to(status: &str, findings: Option<&str>) -> RumourPatch {
    RumourPatch {
        status: Some(status.into()),
        findings: findings.map(str::to_string),
        ..Default::default()
    }
}

async fn report(app: &App<'_>, by: &User, text: &str, tlp: Tlp) -> Report {
    app.create_report(
        by,
        ReportInput {
            text: text.into(),
            tlp: Some(tlp),
            latitude: None,
            longitude: None,
            occurred_at: None,
            country: Some("KEN".into()),
            source: None,
        },
        Channel::Web,
    )
    .await
    .unwrap()
}

async fn rumours_follow_roles_clearance_workflow_and_routing(s: &dyn Store, db: &Db) {
    let frameworks = Frameworks::shipped();
    let app = App::new(&db.store, &frameworks);
    let analyst = user(s, "ana", Role::Analyst, Tlp::Red).await;
    let coord = user(s, "mo", Role::MonitorCoordinator, Tlp::AmberStrict).await;
    let officer = user(s, "desk", Role::DeskOfficer, Tlp::Amber).await;
    let viewer = user(s, "vi", Role::Viewer, Tlp::Green).await;
    let kenya = desk(s, "Kenya desk", &["desk"], &["KEN"]).await;

    // Analysts and monitor coordinators record; desk officers and viewers may not.
    let r = app
        .create_rumour(
            &coord,
            claim(
                "The militia will attack the market on Friday",
                "KEN",
                "high",
                Tlp::Green,
            ),
        )
        .await
        .unwrap();
    assert_eq!(
        r.desk_id,
        Some(kenya.id),
        "routed to the desk answering for Kenya"
    );
    assert_eq!(r.id.get_version_num(), 4);
    assert_eq!(r.deadline, r.created_at + Duration::hours(24));
    for u in [&officer, &viewer] {
        assert!(matches!(
            app.create_rumour(u, claim("x", "KEN", "low", Tlp::Green))
                .await,
            Err(AppError::Forbidden { .. })
        ));
        assert!(matches!(
            app.patch_rumour(u, r.id, to("under_investigation", None))
                .await,
            Err(AppError::Forbidden { .. })
        ));
    }
    // Nobody labels above their own clearance.
    assert!(matches!(
        app.create_rumour(&coord, claim("x", "KEN", "low", Tlp::Red))
            .await,
        Err(AppError::Forbidden { .. })
    ));
    let unrouted = app
        .create_rumour(&analyst, claim("Soldiers coming", "UGA", "low", Tlp::Red))
        .await
        .unwrap();
    assert_eq!(unrouted.desk_id, None, "no desk answers for Uganda");
    // Refusals name the field.
    let e = app
        .create_rumour(&analyst, claim(" ", "KEN", "low", Tlp::Green))
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("claim"));

    // Everyone reads within clearance; above it, the rumour is absent.
    for u in [&analyst, &coord, &officer, &viewer] {
        app.get_rumour(u, r.id).await.unwrap();
    }
    assert!(matches!(
        app.get_rumour(&viewer, unrouted.id).await,
        Err(AppError::NotFound)
    ));
    let seen = |p: tocsin_domain::Page<tocsin_app::rumours::RumourItem>| {
        p.items.iter().map(|i| i.rumour.id).collect::<Vec<_>>()
    };
    let all = PageRequest::first(50);
    assert_eq!(
        seen(
            app.list_rumours(&viewer, RumourQuery::default(), all)
                .await
                .unwrap()
        ),
        vec![r.id]
    );
    assert_eq!(
        seen(
            app.list_rumours(&analyst, RumourQuery::default(), all)
                .await
                .unwrap()
        )
        .len(),
        2
    );
    let bad = app
        .list_rumours(
            &viewer,
            RumourQuery {
                status: Some("rumoured".into()),
                ..Default::default()
            },
            all,
        )
        .await
        .unwrap_err();
    assert_eq!(bad.field(), Some("status"));

    // The workflow: a refused move is a conflict; closing needs findings.
    assert!(matches!(
        app.patch_rumour(&coord, r.id, to("confirmed_false", Some("checked")))
            .await,
        Err(AppError::Conflict(_))
    ));
    app.patch_rumour(&coord, r.id, to("under_investigation", None))
        .await
        .unwrap();
    let e = app
        .patch_rumour(&coord, r.id, to("confirmed_false", None))
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("findings"));
    let closed = app
        .patch_rumour(
            &analyst,
            r.id,
            to("confirmed_false", Some("The market was calm on Friday")),
        )
        .await
        .unwrap();
    assert_eq!(closed.version, 3);
    let stale = RumourPatch {
        expected_version: Some(1),
        ..Default::default()
    };
    assert!(matches!(
        app.patch_rumour(&analyst, r.id, stale).await,
        Err(AppError::Conflict(_))
    ));
    // Every change is audited, without the claim's text.
    let audit = s.audit_entries(0, 10_000).await.unwrap();
    let mine: Vec<&str> = audit
        .iter()
        .filter(|e| e.record_id.as_deref() == Some(r.id.to_string().as_str()))
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(mine, ["rumour.create", "rumour.update", "rumour.update"]);
    assert!(!audit.iter().any(|e| e.detail.contains("militia")));
}

async fn sightings_show_only_what_the_viewer_may_see(s: &dyn Store, db: &Db) {
    let frameworks = Frameworks::shipped();
    let app = App::new(&db.store, &frameworks);
    let analyst = user(s, "ana", Role::Analyst, Tlp::Red).await;
    let coord = user(s, "mo", Role::MonitorCoordinator, Tlp::AmberStrict).await;
    let officer = user(s, "desk", Role::DeskOfficer, Tlp::Amber).await;
    let viewer = user(s, "vi", Role::Viewer, Tlp::Green).await;
    let r = app
        .create_rumour(
            &analyst,
            claim("The bridge is mined", "KEN", "critical", Tlp::Green),
        )
        .await
        .unwrap();
    let other = app
        .create_rumour(
            &analyst,
            claim("The bridge will close", "KEN", "low", Tlp::Green),
        )
        .await
        .unwrap();
    let green = report(
        &app,
        &analyst,
        "heard on the radio: the bridge is mined",
        Tlp::Green,
    )
    .await;
    let amber = report(
        &app,
        &analyst,
        "my cousin says mines on the bridge",
        Tlp::Amber,
    )
    .await;
    let red = report(&app, &analyst, "the commander told me himself", Tlp::Red).await;
    let sight = |report: &Report, how: &str| NewSighting {
        report_id: report.id,
        how: how.into(),
        where_heard: "Kisumu bus park".into(),
    };
    app.add_sighting(&analyst, r.id, sight(&green, "radio"))
        .await
        .unwrap();
    app.add_sighting(&coord, r.id, sight(&amber, "word-of-mouth"))
        .await
        .unwrap();
    app.add_sighting(&analyst, r.id, sight(&red, "sms"))
        .await
        .unwrap();
    app.add_sighting(&analyst, other.id, sight(&green, "radio"))
        .await
        .unwrap();
    // Once per rumour and report; a report above one's clearance is as missing; a bad "how"
    // names the field; desk officers and viewers may not mark sightings.
    assert!(matches!(
        app.add_sighting(&analyst, r.id, sight(&green, "sms")).await,
        Err(AppError::Conflict(_))
    ));
    let e = app
        .add_sighting(&coord, other.id, sight(&red, "sms"))
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("report_id"));
    let e = app
        .add_sighting(&analyst, other.id, sight(&amber, "pigeon"))
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("how"));
    for u in [&officer, &viewer] {
        assert!(matches!(
            app.add_sighting(u, other.id, sight(&amber, "sms")).await,
            Err(AppError::Forbidden { .. })
        ));
    }
    // Counts, first and last heard: only the reports each reader is cleared for.
    let count = |u: &User| {
        let app = &app;
        let id = r.id;
        let u = u.clone();
        async move {
            let v = app.get_rumour(&u, id).await.unwrap();
            let listed = app
                .list_rumours(&u, RumourQuery::default(), PageRequest::first(50))
                .await
                .unwrap();
            let item = listed
                .items
                .into_iter()
                .find(|i| i.rumour.id == id)
                .unwrap();
            assert_eq!(item.sightings, v.item.sightings, "list and page agree");
            assert_eq!(item.last_heard, v.item.last_heard);
            (
                v.item.sightings,
                v.sighting_list.len(),
                v.item.last_heard,
                v,
            )
        }
    };
    let (n, shown, last, v) = count(&analyst).await;
    assert_eq!((n, shown, last), (3, 3, Some(red.received_at)));
    assert!(v.sighting_list.iter().all(|s| s.excerpt.is_some()));
    let (n, shown, last, _) = count(&coord).await;
    assert_eq!((n, shown, last), (2, 2, Some(amber.received_at)));
    let (n, _, last, v) = count(&officer).await;
    assert_eq!((n, last), (2, Some(amber.received_at)));
    assert_eq!(
        v.sighting_list[1].excerpt.as_deref(),
        Some("my cousin says mines on the bridge")
    );
    let (n, shown, last, v) = count(&viewer).await;
    assert_eq!((n, shown, last), (1, 1, Some(green.received_at)));
    // A viewer does not read reports: how and where, no excerpt, no report id.
    assert_eq!(v.sighting_list[0].where_heard, "Kisumu bus park");
    assert!(v.sighting_list[0].excerpt.is_none() && v.sighting_list[0].report_id.is_none());
    // Nothing of a source in what a rumour shows.
    let json = serde_json::to_string(&app.get_rumour(&analyst, r.id).await.unwrap()).unwrap();
    assert!(!json.contains("source"), "a source field: {json}");
    // The report is a sighting of both rumours.
    assert_eq!(
        app.rumours_of_report(&analyst, green.id)
            .await
            .unwrap()
            .len(),
        2
    );
}

async fn an_overdue_rumour_notifies_its_desk_once_per_deadline(s: &dyn Store, db: &Db) {
    let (frameworks, key) = (Frameworks::shipped(), ContactKey::generate());
    let ch = Channels {
        email: true,
        public_url: Some("https://tocsin.example.org".into()),
        ..Default::default()
    };
    let mut app = App::new(&db.store, &frameworks);
    app.contact_key = Some(&key);
    app.channels = &ch;
    let analyst = user(s, "ana", Role::Analyst, Tlp::Red).await;
    let amber = user(s, "amber", Role::DeskOfficer, Tlp::Amber).await;
    let green = user(s, "green", Role::DeskOfficer, Tlp::Green).await;
    for u in [&amber, &green] {
        app.set_user_contacts(
            Acting::Operator("test"),
            u.id,
            ContactsPatch {
                email: Some(format!("{}@example.org", u.username)),
                phone: None,
                channels: None,
            },
        )
        .await
        .unwrap();
    }
    desk(s, "Kenya desk", &["amber", "green"], &["KEN"]).await;
    let r = app
        .create_rumour(
            &analyst,
            claim(
                "Poison in the Kibera wells tonight",
                "KEN",
                "critical",
                Tlp::Amber,
            ),
        )
        .await
        .unwrap();
    // Before the deadline: nothing.
    assert_eq!(
        app.notify_overdue_rumours(r.deadline - Duration::minutes(1))
            .await
            .unwrap(),
        0
    );
    let later = r.deadline + Duration::minutes(1);
    assert_eq!(app.notify_overdue_rumours(later).await.unwrap(), 1);
    assert_eq!(
        app.notify_overdue_rumours(later).await.unwrap(),
        0,
        "once per deadline"
    );
    assert_eq!(
        app.notify_overdue_rumours(later + Duration::hours(1))
            .await
            .unwrap(),
        0
    );
    let link = format!("https://tocsin.example.org/rumours/{}", r.id);
    let out = s.list_outbound(None, 100).await.unwrap();
    assert_eq!(out.len(), 2, "one e-mail per member: {out:?}");
    for m in &out {
        assert!(m.text.contains(&link), "{}", m.text);
        if m.user_id == Some(green.id) {
            let rest = m.text.replace(RESTRICTED_SUBJECT, "").replace(&link, "");
            assert!(rest.trim().is_empty(), "more than the link: {:?}", m.text);
            assert_eq!(m.tlp, Tlp::Clear);
        } else {
            assert!(m.text.contains("Poison in the Kibera wells"), "{}", m.text);
            assert_eq!(m.tlp, Tlp::Amber);
        }
    }
    let inbox = s
        .list_inbox(green.id, PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(inbox.items.len(), 1);
    assert_eq!(inbox.items[0].subject, RESTRICTED_SUBJECT);
    assert_eq!(inbox.items[0].link, link);
    let inbox = s
        .list_inbox(amber.id, PageRequest::first(10))
        .await
        .unwrap();
    assert!(
        inbox.items[0].subject.contains("rumour overdue"),
        "{}",
        inbox.items[0].subject
    );
    // Audited once, naming no claim.
    let audit = s.audit_entries(0, 10_000).await.unwrap();
    let overdue: Vec<_> = audit
        .iter()
        .filter(|e| e.action == "rumour.overdue")
        .collect();
    assert_eq!(overdue.len(), 1);
    assert!(
        overdue[0].detail.contains("\"recipients\":2"),
        "{}",
        overdue[0].detail
    );
    assert!(!overdue[0].detail.contains("Poison"));
    // The page shows the reminder; a closed rumour is never reminded.
    let v = app.get_rumour(&analyst, r.id).await.unwrap();
    assert_eq!(v.reminders.len(), 1);
    assert_eq!(v.reminders[0].notified, 2);
    let quiet = app
        .create_rumour(
            &analyst,
            claim("Closed before its deadline", "KEN", "critical", Tlp::Green),
        )
        .await
        .unwrap();
    app.patch_rumour(&analyst, quiet.id, to("under_investigation", None))
        .await
        .unwrap();
    app.patch_rumour(
        &analyst,
        quiet.id,
        to("cannot_be_verified", Some("nobody could confirm")),
    )
    .await
    .unwrap();
    assert_eq!(
        app.notify_overdue_rumours(quiet.deadline + Duration::hours(1))
            .await
            .unwrap(),
        0
    );
}
