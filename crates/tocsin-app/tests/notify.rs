//! How staff are reached, decided by the application layer on a real store (SQLite, and
//! PostgreSQL when `TOCSIN_TEST_POSTGRES_URL` names a server): what each recipient of an
//! alert is told and through which channels, who counts as reachable, who may set contact
//! details, and that a phone number is never stored in clear.

use chrono::Utc;
use std::collections::BTreeMap;
use tocsin_app::notify::{notifications_for, reaches, Channels, ContactsPatch, RESTRICTED_SUBJECT};
use tocsin_app::{Acting, App, AppError};
use tocsin_domain::{
    Actor, Alert, AlertOrigin, AuditEvent, ContactKey, Country, NewUser, OutboundMessage, Role,
    Severity, TextDuration, Tlp, User,
};
use tocsin_framework::Frameworks;
use tocsin_store::{Op, Step, Store, StoreExt};
use tocsin_store_tests::{story, Db};

story!(
    a_recipient_below_the_label_gets_only_the_link,
    reachable_means_enabled_and_a_working_channel,
    contact_details_are_set_by_oneself_or_an_admin_and_checked,
    a_phone_is_never_stored_or_shown_in_clear,
    notifying_twice_queues_once,
);

const PHONE_DIGITS: &str = "700123456";

fn channels() -> Channels {
    Channels {
        email: true,
        sms_gateway: Some("kannel".into()),
        default_region: Some("KE".into()),
        public_url: Some("https://tocsin.example.org/".into()),
        webhooks: Vec::new(),
    }
}

async fn user(s: &dyn Store, name: &str, role: Role, clearance: Tlp) -> User {
    let mut u = NewUser::build(name, role, None).unwrap();
    u.clearance = clearance;
    s.create_user(&Actor::system("test"), u).await.unwrap()
}

fn alert(tlp: Tlp, severity: Severity) -> Alert {
    let (mut a, _) = Alert::open(
        "Militia massing near Bambari market",
        severity,
        tlp,
        uuid::Uuid::now_v7(),
        AlertOrigin::ByHand("analyst".into()),
        vec![],
        TextDuration::parse("ack_within", "30m").unwrap(),
        Utc::now(),
        "analyst",
    )
    .unwrap();
    a.country = Some(Country::parse("CAF").unwrap());
    a
}

fn patch(email: Option<&str>, phone: Option<&str>) -> ContactsPatch {
    ContactsPatch {
        email: email.map(str::to_string),
        phone: phone.map(str::to_string),
        channels: None,
    }
}

async fn write(s: &dyn Store, steps: Vec<Step>) {
    let actor = Actor::system("alerts");
    let op = Op::All {
        steps,
        audit: Box::new(AuditEvent::new(&actor, "alert.notify", "alert", None)),
    };
    s.write(&actor, op).await.unwrap();
}

fn queued(steps: &[Step]) -> Vec<&OutboundMessage> {
    steps
        .iter()
        .filter_map(|s| match s {
            Step::EnqueueOnce(m) => Some(&**m),
            _ => None,
        })
        .collect()
}

async fn a_recipient_below_the_label_gets_only_the_link(s: &dyn Store, db: &Db) {
    let (frameworks, key, ch) = (Frameworks::shipped(), ContactKey::generate(), channels());
    let mut app = App::new(&db.store, &frameworks);
    app.contact_key = Some(&key);
    app.channels = &ch;
    let green = user(s, "green", Role::DeskOfficer, Tlp::Green).await;
    let amber = user(s, "amber", Role::DeskOfficer, Tlp::Amber).await;
    for u in [&green, &amber] {
        app.set_user_contacts(
            Acting::Operator("test"),
            u.id,
            patch(
                Some(&format!("{}@example.org", u.username)),
                Some("0700 123 456"),
            ),
        )
        .await
        .unwrap();
    }
    let a = alert(Tlp::Amber, Severity::Critical);
    let link = format!("https://tocsin.example.org/alerts/{}", a.id);
    let steps = notifications_for(
        &app,
        &a,
        &[green.clone(), amber.clone()],
        "opened",
        Utc::now(),
    )
    .await
    .unwrap();
    // Critical: inbox, e-mail and SMS for each.
    assert_eq!(steps.len(), 6, "{steps:?}");
    write(s, steps.clone()).await;

    let inbox = s
        .list_inbox(green.id, tocsin_domain::PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(inbox.items.len(), 1);
    assert_eq!(inbox.items[0].subject, RESTRICTED_SUBJECT);
    assert_eq!(inbox.items[0].link, link);
    assert_eq!(inbox.items[0].alert_id, Some(a.id));
    let amber_inbox = s
        .list_inbox(amber.id, tocsin_domain::PageRequest::first(10))
        .await
        .unwrap();
    assert!(amber_inbox.items[0].subject.contains(&a.title));

    for m in queued(&steps) {
        let to_green = m.user_id == Some(green.id);
        if to_green {
            // Only that something needs them, and the link; sent as TLP:CLEAR content.
            assert!(
                !m.text.contains("Militia") && !m.text.contains("Bambari"),
                "{}",
                m.text
            );
            assert!(
                !m.text.contains("CAF") && !m.text.contains("Central African"),
                "{}",
                m.text
            );
            assert!(!m.text.contains("AMBER"), "{}", m.text);
            let rest = m.text.replace(RESTRICTED_SUBJECT, "").replace(&link, "");
            assert!(rest.trim().is_empty(), "more than the link: {:?}", m.text);
            assert_eq!(m.tlp, Tlp::Clear);
        } else {
            assert!(m.text.contains(&a.title), "{}", m.text);
            assert_eq!(m.tlp, Tlp::Amber);
        }
        assert!(m.text.contains(&link));
        // The address is sealed on the delivery and opens to the user's own.
        let to = m.open_address(&key).unwrap().unwrap();
        match m.gateway.as_str() {
            "smtp" => {
                assert!(to
                    .email
                    .unwrap()
                    .starts_with(if to_green { "green@" } else { "amber@" }))
            }
            "kannel" => assert_eq!(to.phone.as_deref(), Some("+254700123456")),
            g => panic!("unexpected channel {g}"),
        }
    }
    // The stored outbox has them (one per recipient and channel).
    assert_eq!(s.list_outbound(None, 100).await.unwrap().len(), 4);
    // Sent at once: this alert rests on no warner's report.
    for m in queued(&steps) {
        assert_eq!(m.next_attempt_at, m.created_at, "{}", m.gateway);
    }

    // An alert resting on a warner's report: each staff text leaves after its own random
    // delay of 30–120 s (the telephone company must not see a text leave for a staff phone
    // seconds after a warner's message reached the gateway); e-mail leaves at once.
    let mut b = alert(Tlp::Amber, Severity::Critical);
    b.evidence = vec![tocsin_domain::AlertEvidence::Report(uuid::Uuid::new_v4())];
    let now = Utc::now();
    let mut delays = std::collections::BTreeSet::new();
    for round in 0..8 {
        let steps = notifications_for(
            &app,
            &b,
            std::slice::from_ref(&amber),
            &format!("r{round}"),
            now,
        )
        .await
        .unwrap();
        for m in queued(&steps) {
            let delay = (m.next_attempt_at - now).num_seconds();
            match m.gateway.as_str() {
                "kannel" => {
                    assert!((30..=120).contains(&delay), "{delay}");
                    delays.insert(delay);
                }
                _ => assert_eq!(delay, 0, "{}", m.gateway),
            }
        }
    }
    assert!(delays.len() > 1, "the delay is drawn per text: {delays:?}");
}

async fn reachable_means_enabled_and_a_working_channel(s: &dyn Store, db: &Db) {
    let (frameworks, key) = (Frameworks::shipped(), ContactKey::generate());
    let (full, none) = (channels(), Channels::default());
    let mut app = App::new(&db.store, &frameworks);
    app.contact_key = Some(&key);
    app.channels = &full;
    let nobody = user(s, "nobody", Role::DeskOfficer, Tlp::Amber).await;
    assert!(
        !reaches(&app, &nobody).await,
        "no address, no phone: the inbox pages nobody"
    );
    let mailer = user(s, "mailer", Role::DeskOfficer, Tlp::Amber).await;
    app.set_user_contacts(
        Acting::Operator("t"),
        mailer.id,
        patch(Some("m@example.org"), None),
    )
    .await
    .unwrap();
    assert!(reaches(&app, &mailer).await);
    let texter = user(s, "texter", Role::DeskOfficer, Tlp::Amber).await;
    app.set_user_contacts(
        Acting::Operator("t"),
        texter.id,
        patch(None, Some("+254700123456")),
    )
    .await
    .unwrap();
    assert!(reaches(&app, &texter).await);
    // Without the channels configured, the same details reach nobody.
    let mut bare = app;
    bare.channels = &none;
    assert!(!reaches(&bare, &mailer).await);
    assert!(!reaches(&bare, &texter).await);
    // A disabled user is not reachable, whatever they have.
    let off = app
        .set_user_disabled(Acting::Operator("t"), mailer.id, true)
        .await
        .unwrap();
    assert!(!reaches(&app, &off).await);
    // And is not notified.
    let steps = notifications_for(
        &app,
        &alert(Tlp::Green, Severity::Critical),
        &[off],
        "x",
        Utc::now(),
    )
    .await
    .unwrap();
    assert!(steps.is_empty());
}

async fn contact_details_are_set_by_oneself_or_an_admin_and_checked(s: &dyn Store, db: &Db) {
    let (frameworks, key, ch) = (Frameworks::shipped(), ContactKey::generate(), channels());
    let mut app = App::new(&db.store, &frameworks);
    app.contact_key = Some(&key);
    app.channels = &ch;
    let ana = user(s, "ana", Role::DeskOfficer, Tlp::Amber).await;
    let ben = user(s, "ben", Role::Analyst, Tlp::Amber).await;
    let admin = user(s, "boss", Role::Admin, Tlp::Amber).await;
    // Oneself.
    let v = app
        .set_user_contacts(
            &ana,
            ana.id,
            patch(Some("ana@example.org"), Some("0700123456")),
        )
        .await
        .unwrap();
    assert_eq!(v.phone.as_deref(), Some("+254700123456"));
    // Another non-admin: refused, nothing changed.
    let e = app
        .set_user_contacts(&ben, ana.id, patch(Some("ben@example.org"), None))
        .await
        .unwrap_err();
    assert!(matches!(e, AppError::Forbidden { .. }), "{e:?}");
    let e = app
        .set_contacts_of(&ben, "nobody-such", patch(Some("ben@example.org"), None))
        .await
        .unwrap_err();
    assert!(
        matches!(e, AppError::Forbidden { .. }),
        "no telling who exists: {e:?}"
    );
    // An admin may.
    let mut channels = BTreeMap::new();
    channels.insert("low".to_string(), vec![]);
    app.set_contacts_of(
        &admin,
        "ana",
        ContactsPatch {
            channels: Some(channels),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let c = s.get_user_contacts(ana.id).await.unwrap();
    assert_eq!(c.email.as_deref(), Some("ana@example.org"));
    assert!(c.channels.for_severity(Severity::Low).is_empty());
    // Bad input names its field and writes nothing.
    let before = s.get_user_contacts(ana.id).await.unwrap();
    for (p, field) in [
        (
            patch(Some("not an address"), Some("+254700999999")),
            "email",
        ),
        (patch(Some("new@example.org"), Some("12AB")), "phone"),
        (patch(None, Some("0700123456789012345")), "phone"),
        (
            ContactsPatch {
                email: Some("new@example.org".into()),
                channels: Some(BTreeMap::from([(
                    "critical".to_string(),
                    vec!["pager".to_string()],
                )])),
                ..Default::default()
            },
            "channels.critical",
        ),
    ] {
        let e = app.set_user_contacts(&ana, ana.id, p).await.unwrap_err();
        assert_eq!(e.field(), Some(field), "{e:?}");
    }
    assert_eq!(s.get_user_contacts(ana.id).await.unwrap(), before);
    // The audit entry names the fields, never the values.
    let entries = s.audit_entries(0, 1000).await.unwrap();
    let text =
        serde_json::to_string(&entries.iter().map(|e| &e.detail).collect::<Vec<_>>()).unwrap();
    assert!(text.contains("fields"), "{text}");
    assert!(
        !text.contains("ana@example.org") && !text.contains(PHONE_DIGITS),
        "{text}"
    );
}

async fn a_phone_is_never_stored_or_shown_in_clear(s: &dyn Store, db: &Db) {
    let (frameworks, key, ch) = (Frameworks::shipped(), ContactKey::generate(), channels());
    let mut app = App::new(&db.store, &frameworks);
    app.contact_key = Some(&key);
    app.channels = &ch;
    let ana = user(s, "ana", Role::DeskOfficer, Tlp::Amber).await;
    let ben = user(s, "ben", Role::DeskOfficer, Tlp::Amber).await;
    let admin = user(s, "boss", Role::Admin, Tlp::Amber).await;
    app.set_user_contacts(
        &ana,
        ana.id,
        patch(Some("ana@example.org"), Some("+254 700 123 456")),
    )
    .await
    .unwrap();
    let steps = notifications_for(
        &app,
        &alert(Tlp::Green, Severity::Critical),
        std::slice::from_ref(&ana),
        "opened",
        Utc::now(),
    )
    .await
    .unwrap();
    write(s, steps).await;
    // Shown in full to herself and an admin, masked to a colleague.
    assert_eq!(
        app.user_contacts(&ana, ana.id)
            .await
            .unwrap()
            .phone
            .as_deref(),
        Some("+254700123456")
    );
    assert_eq!(
        app.user_contacts(&admin, ana.id)
            .await
            .unwrap()
            .phone
            .as_deref(),
        Some("+254700123456")
    );
    let masked = app.user_profile(&ben, "ana").await.unwrap();
    let shown = format!("{:?}", masked.contacts);
    assert!(!masked.contacts.full);
    assert!(!shown.chars().any(|c| c.is_ascii_digit()), "{shown}");
    assert!(!shown.contains("ana@example.org"), "{shown}");
    assert!(masked.reachable);
    // Not in the database, in any form people write it.
    let needles = [PHONE_DIGITS, "700 123 456", "+254700123456"];
    match db.sqlite_file() {
        Some(path) => {
            for file in [path.clone(), path.with_extension("db-wal")] {
                let Ok(bytes) = std::fs::read(&file) else {
                    continue;
                };
                for n in needles {
                    assert!(
                        !bytes.windows(n.len()).any(|w| w == n.as_bytes()),
                        "{n} in clear in {}",
                        file.display()
                    );
                }
            }
        }
        None => {
            let mut raw = db.raw().await;
            for (table, test) in [
                (
                    "user_contacts",
                    "position(convert_to('{d}', 'UTF8') in phone) > 0 OR email LIKE '%{d}%'",
                ),
                (
                    "outbox",
                    "position(convert_to('{d}', 'UTF8') in address) > 0 OR text LIKE '%{d}%'",
                ),
                ("inbox_items", "subject LIKE '%{d}%' OR link LIKE '%{d}%'"),
                ("audit_log", "detail::text LIKE '%{d}%'"),
            ] {
                let test = test.replace("{d}", PHONE_DIGITS);
                let sql = format!(
                    "DO $$ BEGIN IF EXISTS (SELECT 1 FROM {table} WHERE {test}) \
                     THEN RAISE EXCEPTION 'phone in clear in {table}'; END IF; END $$"
                );
                raw.exec(&sql).await.unwrap();
            }
        }
    }
}

async fn notifying_twice_queues_once(s: &dyn Store, db: &Db) {
    let (frameworks, key, ch) = (Frameworks::shipped(), ContactKey::generate(), channels());
    let mut app = App::new(&db.store, &frameworks);
    app.contact_key = Some(&key);
    app.channels = &ch;
    let ana = user(s, "ana", Role::DeskOfficer, Tlp::Amber).await;
    app.set_user_contacts(
        &ana,
        ana.id,
        patch(Some("ana@example.org"), Some("+254700123456")),
    )
    .await
    .unwrap();
    let a = alert(Tlp::Green, Severity::Critical);
    for _ in 0..2 {
        let steps = notifications_for(&app, &a, &[ana.clone(), ana.clone()], "opened", Utc::now())
            .await
            .unwrap();
        assert_eq!(
            steps.len(),
            3,
            "one per channel, the repeated recipient once"
        );
        write(s, steps).await;
    }
    assert_eq!(s.list_outbound(None, 100).await.unwrap().len(), 2);
    assert_eq!(s.inbox_unread(ana.id).await.unwrap(), 1);
    // Another reason (the next escalation step) is another notification.
    let steps = notifications_for(
        &app,
        &a,
        std::slice::from_ref(&ana),
        "escalation:1",
        Utc::now(),
    )
    .await
    .unwrap();
    write(s, steps).await;
    assert_eq!(s.list_outbound(None, 100).await.unwrap().len(), 4);
    assert_eq!(s.inbox_unread(ana.id).await.unwrap(), 2);
}
