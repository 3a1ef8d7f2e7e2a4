//! How staff are reached, on every backend: a user's contact details and preferences (kept
//! apart from the user, the phone sealed), the in-app inbox (unread first, newest first, marked
//! read only by its owner) and the idempotent enqueue notifications use.

use chrono::Duration;
use std::collections::BTreeMap;
use tocsin_domain::{
    time, Actor, AuditEvent, ChannelPrefs, ContactKey, InboxItem, NewUser, OutboundMessage,
    PageRequest, Role, SourceContact, Tlp, UserContacts,
};
use tocsin_store::{Op, Step, Store, StoreError, StoreExt};
use tocsin_store_tests::{story, Db};
use uuid::Uuid;

story!(
    contacts_are_stored_apart_and_sealed,
    the_inbox_lists_unread_first_and_only_its_owner_marks_read,
    notifications_are_queued_once_per_key,
);

fn sys() -> Actor {
    Actor::system("contacts")
}

fn all(steps: Vec<Step>, action: &str) -> Op {
    Op::All {
        steps,
        audit: Box::new(AuditEvent::new(&sys(), action, "test", None)),
    }
}

async fn audit_count(s: &dyn Store) -> i64 {
    s.verify_audit()
        .await
        .unwrap()
        .expect("audit chain verifies")
}

async fn user(s: &dyn Store, name: &str) -> tocsin_domain::User {
    s.create_user(
        &sys(),
        NewUser::build(name, Role::DeskOfficer, None).unwrap(),
    )
    .await
    .unwrap()
}

async fn contacts_are_stored_apart_and_sealed(s: &dyn Store, _db: &Db) {
    let u = user(s, "ana").await;
    // Nobody set anything: the defaults (the inbox always, e-mail from moderate, SMS critical).
    let c = s.get_user_contacts(u.id).await.unwrap();
    assert_eq!(c, UserContacts::empty(u.id));
    assert!(matches!(
        s.get_user_contacts(Uuid::new_v4()).await,
        Err(StoreError::NotFound)
    ));

    let key = ContactKey::generate();
    let mut given = BTreeMap::new();
    given.insert(
        "high".to_string(),
        vec!["sms".to_string(), "inbox".to_string()],
    );
    let set = UserContacts {
        user_id: u.id,
        email: Some("ana@example.org".into()),
        phone: Some(UserContacts::seal_phone(&key, u.id, "+254700123456")),
        channels: ChannelPrefs::default().merge(&given).unwrap(),
        updated_at: time::now(),
    };
    s.write(
        &sys(),
        all(vec![Step::SetUserContacts(Box::new(set.clone()))], "c.set"),
    )
    .await
    .unwrap();
    let got = s.get_user_contacts(u.id).await.unwrap();
    assert_eq!(got.email, set.email);
    assert_eq!(got.channels, set.channels);
    assert_eq!(
        got.open_phone(&key).unwrap().as_deref(),
        Some("+254700123456")
    );
    // The user record itself is unchanged.
    assert_eq!(s.get_user(u.id).await.unwrap(), u);

    // Replaced, not merged: clearing the phone clears it.
    let mut cleared = set.clone();
    cleared.phone = None;
    s.write(
        &sys(),
        all(vec![Step::SetUserContacts(Box::new(cleared))], "c.set"),
    )
    .await
    .unwrap();
    assert!(s.get_user_contacts(u.id).await.unwrap().phone.is_none());

    // Another user's: not found, and nothing written (no audit entry either).
    let before = audit_count(s).await;
    let mut stray = set.clone();
    stray.user_id = Uuid::new_v4();
    let r = s
        .write(
            &sys(),
            all(vec![Step::SetUserContacts(Box::new(stray))], "c.set"),
        )
        .await;
    assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
    assert_eq!(audit_count(s).await, before);
}

async fn the_inbox_lists_unread_first_and_only_its_owner_marks_read(s: &dyn Store, _db: &Db) {
    let (a, b) = (user(s, "ana").await, user(s, "ben").await);
    let t0 = time::now();
    let items: Vec<InboxItem> = (0..4)
        .map(|n| {
            InboxItem::new(
                a.id,
                Some(Uuid::now_v7()),
                &format!("item {n}"),
                "/alerts/x",
                format!("k{n}"),
                t0 + Duration::seconds(n),
            )
        })
        .collect();
    let steps = items
        .iter()
        .map(|i| Step::AddInboxItem(Box::new(i.clone())))
        .collect();
    s.write(&sys(), all(steps, "inbox.add")).await.unwrap();
    // The same key again adds nothing.
    let mut again = items[0].clone();
    again.id = Uuid::new_v4();
    s.write(
        &sys(),
        all(vec![Step::AddInboxItem(Box::new(again))], "inbox.add"),
    )
    .await
    .unwrap();
    assert_eq!(s.inbox_unread(a.id).await.unwrap(), 4);
    assert_eq!(s.inbox_unread(b.id).await.unwrap(), 0);

    // Ben cannot mark Ana's item read; Ana can (twice: the first time stays).
    let mark = |user_id, id, at| all(vec![Step::MarkInboxRead { user_id, id, at }], "inbox.read");
    let r = s.write(&sys(), mark(b.id, items[3].id, t0)).await;
    assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
    let read_at = t0 + Duration::seconds(10);
    s.write(&sys(), mark(a.id, items[3].id, read_at))
        .await
        .unwrap();
    s.write(
        &sys(),
        mark(a.id, items[3].id, read_at + Duration::seconds(5)),
    )
    .await
    .unwrap();
    assert_eq!(s.inbox_unread(a.id).await.unwrap(), 3);

    // Unread first, newest first, then the read one; two per page.
    let p1 = s.list_inbox(a.id, PageRequest::first(2)).await.unwrap();
    let subjects = |p: &tocsin_domain::Page<InboxItem>| {
        p.items
            .iter()
            .map(|i| i.subject.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(subjects(&p1), ["item 2", "item 1"]);
    let next = |p: &tocsin_domain::Page<InboxItem>| PageRequest {
        after: Some(tocsin_domain::Cursor::decode(p.next_cursor.as_ref().unwrap()).unwrap()),
        limit: 2,
    };
    let p2 = s.list_inbox(a.id, next(&p1)).await.unwrap();
    assert_eq!(subjects(&p2), ["item 0", "item 3"]);
    let read = &p2.items[1];
    assert_eq!(
        read.read_at.unwrap().timestamp_micros(),
        read_at.timestamp_micros()
    );
    assert_eq!(read.alert_id, items[3].alert_id);
    assert!(p2.next_cursor.is_none());
    assert!(s
        .list_inbox(b.id, PageRequest::first(10))
        .await
        .unwrap()
        .items
        .is_empty());
}

async fn notifications_are_queued_once_per_key(s: &dyn Store, _db: &Db) {
    let u = user(s, "ana").await;
    let key = ContactKey::generate();
    let to = SourceContact {
        chat: None,
        email: Some("ana@example.org".into()),
        ..Default::default()
    };
    let m = |text: &str| {
        OutboundMessage::to_address(
            "notify:a:opened:u:email".into(),
            "smtp",
            Some(u.id),
            &to,
            &key,
            text.into(),
            Tlp::Amber,
        )
    };
    s.write(
        &sys(),
        all(vec![Step::EnqueueOnce(Box::new(m("first")))], "n"),
    )
    .await
    .unwrap();
    s.write(
        &sys(),
        all(vec![Step::EnqueueOnce(Box::new(m("second")))], "n"),
    )
    .await
    .unwrap();
    let queued = s.list_outbound(None, 100).await.unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].text, "first");
    // The plain enqueue still refuses a taken key.
    let r = s
        .write(&sys(), all(vec![Step::Enqueue(Box::new(m("third")))], "n"))
        .await;
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
}
