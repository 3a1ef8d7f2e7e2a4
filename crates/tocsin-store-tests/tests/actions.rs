//! Actions on every backend: stored and read back as written, listed by situation, status,
//! lead, desk and overdue (capped by the situation's label), updates guarded by version, one
//! overdue reminder per action and due date, and a tripped guard writing nothing.

use chrono::NaiveDate;
use tocsin_domain::{
    time, Action, ActionRefs, ActionStatus, Actor, AuditEvent, Department, NewAction, NewSituation,
    PageRequest, Situation, Tlp,
};
use tocsin_store::{
    ActionFilter, ActionReminder, ActionStep, Op, Step, Store, StoreError, StoreExt,
};
use tocsin_store_tests::{story, Db};
use uuid::Uuid;

story!(
    actions_are_stored_listed_and_guarded,
    overdue_reminders_are_recorded_once_per_due_date
);

fn system() -> Actor {
    Actor::system("actions-test")
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

async fn situation(store: &dyn Store, tlp: Tlp) -> Situation {
    let s = Situation::parse(NewSituation {
        name: format!("Situation {tlp}"),
        country: "CAF".into(),
        admin1: None,
        status: None,
        description: None,
        tlp: Some(tlp),
    })
    .unwrap();
    store.create_situation(&system(), s).await.unwrap()
}

fn action(situation_id: Uuid, lead: &str, due: &str, desk: Option<Uuid>) -> Action {
    let deps = Department::defaults();
    let measure = |_: &str| Some(vec![1, 8]);
    let refs = ActionRefs {
        measure: &measure,
        factor_count: 14,
        departments: &deps,
    };
    Action::create(
        NewAction {
            measure_id: "M-01".into(),
            situation_id: Some(situation_id),
            department: Some("defence".into()),
            lead: lead.into(),
            due_date: day(due),
            desk_id: desk,
            ..Default::default()
        },
        &refs,
        "tester",
        time::now(),
    )
    .unwrap()
}

fn op(step: ActionStep, what: &str) -> Op {
    Op::All {
        steps: vec![Step::Action(step)],
        audit: Box::new(AuditEvent::new(&system(), what, "action", None)),
    }
}

async fn create(store: &dyn Store, a: &Action) {
    store
        .write(
            &system(),
            op(ActionStep::Create(Box::new(a.clone())), "action.create"),
        )
        .await
        .unwrap();
}

async fn audit_count(store: &dyn Store) -> usize {
    store.audit_entries(0, 10_000).await.unwrap().len()
}

async fn actions_are_stored_listed_and_guarded(store: &dyn Store, _db: &Db) {
    let green = situation(store, Tlp::Green).await;
    let red = situation(store, Tlp::Red).await;
    let desk = Uuid::now_v7();
    let a1 = action(green.id, "alice", "2026-01-10", Some(desk));
    let a2 = action(green.id, "bob", "2026-03-01", None);
    let a3 = action(red.id, "alice", "2026-01-05", None);
    for a in [&a1, &a2, &a3] {
        create(store, a).await;
    }
    assert_eq!(
        store.get_action(a1.id).await.unwrap(),
        a1,
        "read back as written"
    );
    assert!(matches!(
        store.get_action(Uuid::now_v7()).await,
        Err(StoreError::NotFound)
    ));

    // An action of a situation that does not exist is refused, and nothing is written.
    let before = audit_count(store).await;
    let orphan = action(Uuid::now_v7(), "alice", "2026-01-01", None);
    let e = store
        .write(
            &system(),
            op(
                ActionStep::Create(Box::new(orphan.clone())),
                "action.create",
            ),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::NotFound), "{e:?}");
    assert_eq!(
        audit_count(store).await,
        before,
        "no audit entry for a refused write"
    );

    let ids = |p: tocsin_domain::Page<Action>| p.items.iter().map(|a| a.id).collect::<Vec<_>>();
    let all = PageRequest::first(100);
    // Newest first, capped by the situation's label.
    assert_eq!(
        ids(store
            .list_actions(&ActionFilter::within(Tlp::Red), all)
            .await
            .unwrap()),
        vec![a3.id, a2.id, a1.id]
    );
    assert_eq!(
        ids(store
            .list_actions(&ActionFilter::within(Tlp::Amber), all)
            .await
            .unwrap()),
        vec![a2.id, a1.id],
        "an action of a TLP:RED situation is not listed below TLP:RED"
    );
    let mut f = ActionFilter::within(Tlp::Red);
    f.situation_id = Some(green.id);
    assert_eq!(
        ids(store.list_actions(&f, all).await.unwrap()),
        vec![a2.id, a1.id]
    );
    let mut f = ActionFilter::within(Tlp::Red);
    f.lead = Some("alice".into());
    assert_eq!(
        ids(store.list_actions(&f, all).await.unwrap()),
        vec![a3.id, a1.id]
    );
    let mut f = ActionFilter::within(Tlp::Red);
    f.desk_id = Some(desk);
    assert_eq!(ids(store.list_actions(&f, all).await.unwrap()), vec![a1.id]);
    let mut f = ActionFilter::within(Tlp::Red);
    f.overdue_on = Some(day("2026-02-01"));
    assert_eq!(
        ids(store.list_actions(&f, all).await.unwrap()),
        vec![a3.id, a1.id]
    );
    // Pages follow the cursor.
    let p1 = store
        .list_actions(&ActionFilter::within(Tlp::Red), PageRequest::first(2))
        .await
        .unwrap();
    assert_eq!(p1.items.len(), 2);
    let next = PageRequest::parse(Some(2), p1.next_cursor.as_deref()).unwrap();
    assert_eq!(
        ids(store
            .list_actions(&ActionFilter::within(Tlp::Red), next)
            .await
            .unwrap()),
        vec![a1.id]
    );
    assert_eq!(
        store
            .actions_of(green.id, 100)
            .await
            .unwrap()
            .iter()
            .map(|a| a.id)
            .collect::<Vec<_>>(),
        vec![a1.id, a2.id],
        "a plan reads oldest first"
    );

    // An update lands only on the version it was made from.
    let mut done = a1.clone();
    done.status = ActionStatus::Done;
    done.outcome = Some("Delivered".into());
    done.version = 2;
    store
        .write(
            &system(),
            op(ActionStep::Update(Box::new(done.clone())), "action.update"),
        )
        .await
        .unwrap();
    assert_eq!(store.get_action(a1.id).await.unwrap(), done);
    let mut f = ActionFilter::within(Tlp::Red);
    f.status = Some(ActionStatus::Done);
    assert_eq!(ids(store.list_actions(&f, all).await.unwrap()), vec![a1.id]);
    f.status = None;
    f.overdue_on = Some(day("2026-02-01"));
    assert_eq!(
        ids(store.list_actions(&f, all).await.unwrap()),
        vec![a3.id],
        "a done action is not overdue"
    );
    let before = audit_count(store).await;
    let mut stale = a1.clone();
    stale.notes = "from version 1".into();
    stale.version = 2;
    let e = store
        .write(
            &system(),
            op(ActionStep::Update(Box::new(stale)), "action.update"),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Conflict(_)), "{e:?}");
    assert_eq!(
        store.get_action(a1.id).await.unwrap(),
        done,
        "the stale write changed nothing"
    );
    assert_eq!(audit_count(store).await, before);
    let mut ghost = a2.clone();
    ghost.id = Uuid::now_v7();
    ghost.version = 2;
    let e = store
        .write(
            &system(),
            op(ActionStep::Update(Box::new(ghost)), "action.update"),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::NotFound), "{e:?}");
}

async fn overdue_reminders_are_recorded_once_per_due_date(store: &dyn Store, db: &Db) {
    let s = situation(store, Tlp::Amber).await;
    let late = action(s.id, "alice", "2026-01-10", None);
    let later = action(s.id, "bob", "2026-01-20", None);
    let future = action(s.id, "carol", "2026-06-01", None);
    for a in [&late, &later, &future] {
        create(store, a).await;
    }
    let today = day("2026-02-01");
    let due = store.unreminded_overdue(today, 10).await.unwrap();
    assert_eq!(
        due.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![late.id, later.id],
        "oldest due first, the future one not"
    );
    let remind = |a: &Action| {
        op(
            ActionStep::Remind(ActionReminder {
                action_id: a.id,
                due_date: a.due_date,
                lead: a.lead.clone(),
                at: time::now(),
            }),
            "action.overdue",
        )
    };
    store.write(&system(), remind(&late)).await.unwrap();
    // A second server on the same database meets the reminder already recorded.
    let other = db.open_another().await;
    let e = other.write(&system(), remind(&late)).await.unwrap_err();
    assert!(matches!(e, StoreError::Conflict(_)), "{e:?}");
    assert_eq!(
        store
            .unreminded_overdue(today, 10)
            .await
            .unwrap()
            .iter()
            .map(|a| a.id)
            .collect::<Vec<_>>(),
        vec![later.id]
    );
    let r = store.action_reminders(late.id).await.unwrap();
    assert_eq!(r.len(), 1);
    assert_eq!(
        (r[0].due_date, r[0].lead.as_str()),
        (late.due_date, "alice")
    );

    // A new due date is a new reminder, once it too has passed.
    let mut moved = late.clone();
    moved.due_date = day("2026-01-25");
    moved.version = 2;
    store
        .write(
            &system(),
            op(ActionStep::Update(Box::new(moved.clone())), "action.update"),
        )
        .await
        .unwrap();
    let again: Vec<Uuid> = store
        .unreminded_overdue(today, 10)
        .await
        .unwrap()
        .iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(again, vec![later.id, late.id]);
    store.write(&system(), remind(&moved)).await.unwrap();
    assert_eq!(store.action_reminders(late.id).await.unwrap().len(), 2);
}
