//! Rumours on every backend: stored and read back as written, listed newest first by status,
//! priority, country and overdue (capped by their label), updates guarded by version,
//! sightings once per rumour and report (a report may be a sighting of several rumours),
//! sighting counts and first/last heard never including a report above the clearance asked,
//! one overdue reminder per rumour and deadline, and a tripped guard writing nothing.

use chrono::Duration;
use tocsin_domain::{
    time, Actor, AuditEvent, Channel, NewReport, NewRumour, PageRequest, Rumour, RumourPriority,
    RumourStatus, Sighting, Tlp,
};
use tocsin_store::{
    Op, RumourFilter, RumourReminder, RumourStep, Step, Store, StoreError, StoreExt,
};
use tocsin_store_tests::{story, Db};
use uuid::Uuid;

story!(
    rumours_are_stored_listed_and_guarded,
    sightings_are_counted_within_clearance,
    overdue_rumours_are_reminded_once_per_deadline
);

fn system() -> Actor {
    Actor::system("rumours-test")
}

fn allowed(p: RumourPriority) -> Duration {
    match p {
        RumourPriority::Critical => Duration::hours(6),
        _ => Duration::days(3),
    }
}

fn rumour(claim: &str, country: &str, priority: &str, tlp: Tlp) -> Rumour {
    Rumour::create(
        NewRumour {
            claim: claim.into(),
            country: country.into(),
            priority: Some(priority.into()),
            tlp: Some(tlp.as_str().into()),
            ..Default::default()
        },
        "tester",
        time::now(),
        allowed,
    )
    .unwrap()
}

fn op(step: RumourStep, what: &str) -> Op {
    Op::All {
        steps: vec![Step::Rumour(step)],
        audit: Box::new(AuditEvent::new(&system(), what, "rumour", None)),
    }
}

async fn create(store: &dyn Store, r: &Rumour) {
    store
        .write(
            &system(),
            op(RumourStep::Create(Box::new(r.clone())), "rumour.create"),
        )
        .await
        .unwrap();
}

async fn audit_count(store: &dyn Store) -> usize {
    store.audit_entries(0, 100_000).await.unwrap().len()
}

async fn report(store: &dyn Store, tlp: Tlp, hours_ago: i64) -> Uuid {
    let r = NewReport {
        id: tocsin_domain::random_id(),
        channel: Channel::Sms,
        provider_key: None,
        source_id: None,
        text: format!("they say the market will burn ({tlp})"),
        tlp,
        latitude: None,
        longitude: None,
        country: None,
        occurred_at: None,
        received_at: time::now() - Duration::hours(hours_ago),
        meta: Default::default(),
    };
    store.create_report(&system(), r).await.unwrap().id
}

fn ids(p: tocsin_domain::Page<Rumour>) -> Vec<Uuid> {
    p.items.iter().map(|r| r.id).collect()
}

async fn rumours_are_stored_listed_and_guarded(store: &dyn Store, _db: &Db) {
    let r1 = rumour("militia at the market", "KEN", "high", Tlp::Green);
    let mut r2 = rumour("poisoned wells", "KEN", "critical", Tlp::Amber);
    r2.created_at = r1.created_at + Duration::seconds(1);
    let mut r3 = rumour("army coming", "UGA", "low", Tlp::Red);
    r3.created_at = r1.created_at + Duration::seconds(2);
    for r in [&r1, &r2, &r3] {
        create(store, r).await;
    }
    assert_eq!(
        store.get_rumour(r1.id).await.unwrap(),
        r1,
        "read back as written"
    );
    assert!(matches!(
        store.get_rumour(Uuid::new_v4()).await,
        Err(StoreError::NotFound)
    ));
    let all = PageRequest::first(100);
    assert_eq!(
        ids(store
            .list_rumours(&RumourFilter::within(Tlp::Red), all)
            .await
            .unwrap()),
        vec![r3.id, r2.id, r1.id],
        "newest first"
    );
    assert_eq!(
        ids(store
            .list_rumours(&RumourFilter::within(Tlp::Amber), all)
            .await
            .unwrap()),
        vec![r2.id, r1.id],
        "a TLP:RED rumour is not listed below TLP:RED"
    );
    let mut f = RumourFilter::within(Tlp::Red);
    f.country = Some(tocsin_domain::Country::parse("KEN").unwrap());
    f.priority = Some(RumourPriority::Critical);
    assert_eq!(ids(store.list_rumours(&f, all).await.unwrap()), vec![r2.id]);
    let mut f = RumourFilter::within(Tlp::Red);
    f.overdue_at = Some(time::now() + Duration::hours(7));
    assert_eq!(
        ids(store.list_rumours(&f, all).await.unwrap()),
        vec![r2.id],
        "only the critical one is past its deadline in 7 hours"
    );
    // Pages follow the (time, id) cursor.
    let p1 = store
        .list_rumours(&RumourFilter::within(Tlp::Red), PageRequest::first(2))
        .await
        .unwrap();
    assert_eq!(ids(p1.clone()), vec![r3.id, r2.id]);
    let next = PageRequest::parse(Some(2), p1.next_cursor.as_deref()).unwrap();
    assert_eq!(
        ids(store
            .list_rumours(&RumourFilter::within(Tlp::Red), next)
            .await
            .unwrap()),
        vec![r1.id]
    );

    // An update lands only on the version it was made from; a closed one leaves overdue lists.
    let mut closed = r2.clone();
    closed.status = RumourStatus::ConfirmedFalse;
    closed.findings = Some("the wells were tested".into());
    closed.version = 2;
    store
        .write(
            &system(),
            op(
                RumourStep::Update(Box::new(closed.clone())),
                "rumour.update",
            ),
        )
        .await
        .unwrap();
    assert_eq!(store.get_rumour(r2.id).await.unwrap(), closed);
    assert!(store.list_rumours(&f, all).await.unwrap().items.is_empty());
    let mut f = RumourFilter::within(Tlp::Red);
    f.status = Some(RumourStatus::ConfirmedFalse);
    assert_eq!(ids(store.list_rumours(&f, all).await.unwrap()), vec![r2.id]);
    let before = audit_count(store).await;
    let e = store
        .write(
            &system(),
            op(
                RumourStep::Update(Box::new(closed.clone())),
                "rumour.update",
            ),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Conflict(_)), "{e:?}");
    let mut ghost = rumour("nobody said", "KEN", "low", Tlp::Green);
    ghost.version = 2;
    let e = store
        .write(
            &system(),
            op(RumourStep::Update(Box::new(ghost)), "rumour.update"),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::NotFound), "{e:?}");
    assert_eq!(
        audit_count(store).await,
        before,
        "refused writes leave no audit entry"
    );
}

async fn sightings_are_counted_within_clearance(store: &dyn Store, _db: &Db) {
    let a = rumour("the bridge is mined", "KEN", "high", Tlp::Amber);
    let b = rumour("the bridge will close", "KEN", "low", Tlp::Green);
    create(store, &a).await;
    create(store, &b).await;
    let green = report(store, Tlp::Green, 30).await;
    let amber = report(store, Tlp::Amber, 20).await;
    let red = report(store, Tlp::Red, 1).await;
    let sight = |r: Uuid, rep: Uuid, how: &str| {
        Sighting::new(r, rep, how, "Kisumu bus park", "tester", time::now()).unwrap()
    };
    for (r, rep, how) in [
        (a.id, green, "radio"),
        (a.id, amber, "sms"),
        (a.id, red, "word_of_mouth"),
        (b.id, green, "leaflet"),
    ] {
        store
            .write(
                &system(),
                op(
                    RumourStep::AddSighting(Box::new(sight(r, rep, how))),
                    "rumour.sighting",
                ),
            )
            .await
            .unwrap();
    }
    // The same report again for the same rumour: refused, nothing written.
    let before = audit_count(store).await;
    let e = store
        .write(
            &system(),
            op(
                RumourStep::AddSighting(Box::new(sight(a.id, green, "sms"))),
                "rumour.sighting",
            ),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Conflict(_)), "{e:?}");
    let e = store
        .write(
            &system(),
            op(
                RumourStep::AddSighting(Box::new(sight(a.id, Uuid::new_v4(), "sms"))),
                "rumour.sighting",
            ),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, StoreError::NotFound),
        "a report that does not exist: {e:?}"
    );
    assert_eq!(audit_count(store).await, before);

    let mut of_green = store.rumours_of_report(green).await.unwrap();
    of_green.sort();
    let mut want = vec![a.id, b.id];
    want.sort();
    assert_eq!(of_green, want, "one report, two rumours");

    let listed = store.sightings_of(a.id, 100).await.unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|s| s.sighting.report_id)
            .collect::<Vec<_>>(),
        vec![green, amber, red],
        "oldest report first"
    );
    assert_eq!(listed[2].report_tlp, Tlp::Red);
    assert_eq!(listed[0].sighting.where_heard, "Kisumu bus park");

    let at = |clearance: Tlp| async move {
        store
            .sighting_summaries(&[a.id, b.id], clearance)
            .await
            .unwrap()
    };
    let red_view = at(Tlp::Red).await;
    assert_eq!(red_view[&a.id].count, 3);
    let amber_view = at(Tlp::Amber).await;
    assert_eq!(
        amber_view[&a.id].count, 2,
        "the TLP:RED report is not counted"
    );
    let green_of = |id: Uuid| {
        listed
            .iter()
            .find(|s| s.sighting.report_id == id)
            .unwrap()
            .report_received_at
    };
    assert_eq!(amber_view[&a.id].first, green_of(green));
    assert_eq!(
        amber_view[&a.id].last,
        green_of(amber),
        "last heard is not the TLP:RED report's time"
    );
    let clear_view = at(Tlp::Clear).await;
    assert!(
        clear_view.is_empty(),
        "nothing counted at TLP:CLEAR: {clear_view:?}"
    );
    assert_eq!(at(Tlp::Green).await[&b.id].count, 1);
}

async fn overdue_rumours_are_reminded_once_per_deadline(store: &dyn Store, _db: &Db) {
    let mut late = rumour("they will come at night", "KEN", "critical", Tlp::Amber);
    late.created_at -= Duration::hours(8);
    late.deadline = late.created_at + Duration::hours(6);
    let fresh = rumour("fresh one", "KEN", "critical", Tlp::Amber);
    let mut done = rumour("old, closed", "KEN", "critical", Tlp::Amber);
    done.deadline = time::now() - Duration::hours(1);
    done.status = RumourStatus::CannotBeVerified;
    done.findings = Some("no one could be reached".into());
    for r in [&late, &fresh, &done] {
        create(store, r).await;
    }
    let now = time::now();
    let due = store.unreminded_overdue_rumours(now, 100).await.unwrap();
    let due_ids: Vec<Uuid> = due.iter().map(|r| r.id).collect();
    assert!(
        due_ids.contains(&late.id) && !due_ids.contains(&fresh.id) && !due_ids.contains(&done.id)
    );
    let remind = |n: u32| {
        op(
            RumourStep::Remind(RumourReminder {
                rumour_id: late.id,
                deadline: late.deadline,
                notified: n,
                at: now,
            }),
            "rumour.overdue",
        )
    };
    store.write(&system(), remind(2)).await.unwrap();
    let e = store.write(&system(), remind(2)).await.unwrap_err();
    assert!(matches!(e, StoreError::Conflict(_)), "{e:?}");
    assert!(!store
        .unreminded_overdue_rumours(now, 100)
        .await
        .unwrap()
        .iter()
        .any(|r| r.id == late.id));
    let m = store.rumour_reminders(late.id).await.unwrap();
    assert_eq!(m.len(), 1);
    assert_eq!((m[0].deadline, m[0].notified), (late.deadline, 2));
    // A new deadline (the priority lowered) is a new reminder once it passes.
    let mut later = late.clone();
    later.deadline = late.created_at + Duration::hours(7);
    later.version = 2;
    store
        .write(
            &system(),
            op(RumourStep::Update(Box::new(later.clone())), "rumour.update"),
        )
        .await
        .unwrap();
    assert!(store
        .unreminded_overdue_rumours(now, 100)
        .await
        .unwrap()
        .iter()
        .any(|r| r.id == late.id));
}
