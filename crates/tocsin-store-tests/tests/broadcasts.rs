//! Broadcasts on every backend: stored and read back, updates guarded by version, recipients
//! queued once (a second queueing is a conflict that writes nothing), claims that take each
//! row once until its lease lapses (also from a second store on the same database, as a
//! second server), outcomes that never overwrite a delivery report that came first, delivery
//! reports matched by our id or the gateway's, cancellation skipping what is still queued,
//! and the stop switch.

use chrono::Duration;
use std::collections::{BTreeMap, HashSet};
use tocsin_domain::{
    time, Actor, AuditEvent, Broadcast, BroadcastMode, BroadcastState, NewBroadcast,
    RecipientState, SealedContact, StopSwitch,
};
use tocsin_store::{
    BroadcastRecipient, BroadcastStep, Op, RecipientOutcome, Step, Store, StoreError,
};
use tocsin_store_tests::{story, Db};
use uuid::Uuid;

story!(
    broadcasts_are_stored_and_guarded,
    recipients_are_claimed_once_and_settled,
    stop_switch_is_kept,
    broadcasts_are_paged_newest_first
);

fn op(step: BroadcastStep) -> Op {
    Op::All {
        steps: vec![Step::Broadcast(step)],
        audit: Box::new(AuditEvent::new(
            &Actor::system("broadcast-test"),
            "broadcast.test",
            "broadcast",
            None,
        )),
    }
}

fn broadcast() -> Broadcast {
    let mut texts = BTreeMap::new();
    texts.insert("en".to_string(), "Stay indoors tonight.".to_string());
    texts.insert("fr".to_string(), "Restez chez vous ce soir.".to_string());
    Broadcast::new(
        NewBroadcast {
            mode: BroadcastMode::Live,
            texts,
            area: serde_json::json!({"countries": ["CAF"]}),
            send_at: None,
            answers: None,
            correction_of: None,
        },
        tocsin_domain::random_id(),
        "ana",
        3,
        time::now(),
    )
    .unwrap()
}

fn rows(b: &Broadcast, n: usize) -> Vec<BroadcastRecipient> {
    (0..n)
        .map(|i| BroadcastRecipient {
            id: tocsin_domain::random_id(),
            broadcast_id: b.id,
            subscriber_id: Some(tocsin_domain::random_id()),
            address: None,
            language: if i % 2 == 0 { "en" } else { "fr" }.into(),
            state: RecipientState::Queued,
            attempts: 0,
        })
        .collect()
}

async fn approved_with(store: &dyn Store, n: usize) -> (Broadcast, Vec<BroadcastRecipient>) {
    let b = broadcast();
    store
        .write(
            &Actor::system("t"),
            op(BroadcastStep::Create(Box::new(b.clone()))),
        )
        .await
        .unwrap();
    let a = b
        .approve(tocsin_domain::random_id(), "bob", n as u64, time::now())
        .unwrap();
    let rs = rows(&a, n);
    store
        .write(
            &Actor::system("t"),
            Op::All {
                steps: vec![
                    Step::Broadcast(BroadcastStep::Update(Box::new(a.clone()))),
                    Step::Broadcast(BroadcastStep::AddRecipients {
                        broadcast_id: a.id,
                        recipients: rs.clone(),
                    }),
                ],
                audit: Box::new(AuditEvent::new(&Actor::system("t"), "x", "broadcast", None)),
            },
        )
        .await
        .unwrap();
    (a, rs)
}

async fn broadcasts_are_stored_and_guarded(store: &dyn Store, _db: &Db) {
    let b = broadcast();
    store
        .write(
            &Actor::system("t"),
            op(BroadcastStep::Create(Box::new(b.clone()))),
        )
        .await
        .unwrap();
    assert_eq!(store.get_broadcast(b.id).await.unwrap(), b);
    assert!(matches!(
        store.get_broadcast(Uuid::new_v4()).await,
        Err(StoreError::NotFound)
    ));
    let a = b
        .approve(tocsin_domain::random_id(), "bob", 3, time::now())
        .unwrap();
    // Approving and queueing twice: the second is a conflict and writes nothing.
    let approve = |a: &Broadcast, rs: Vec<BroadcastRecipient>| Op::All {
        steps: vec![
            Step::Broadcast(BroadcastStep::Update(Box::new(a.clone()))),
            Step::Broadcast(BroadcastStep::AddRecipients {
                broadcast_id: a.id,
                recipients: rs,
            }),
        ],
        audit: Box::new(AuditEvent::new(&Actor::system("t"), "x", "broadcast", None)),
    };
    store
        .write(&Actor::system("t"), approve(&a, rows(&a, 3)))
        .await
        .unwrap();
    assert!(matches!(
        store
            .write(&Actor::system("t"), approve(&a, rows(&a, 3)))
            .await,
        Err(StoreError::Conflict(_))
    ));
    // The same version again with other rows: the recipients guard trips too.
    let mut later = a.clone();
    later.version += 1;
    assert!(matches!(
        store
            .write(&Actor::system("t"), approve(&later, rows(&a, 2)))
            .await,
        Err(StoreError::Conflict(_))
    ));
    let stored = store.get_broadcast(a.id).await.unwrap();
    assert_eq!(stored.state, BroadcastState::Approved);
    assert_eq!(stored.version, 2);
    assert_eq!(store.recipient_counts(a.id).await.unwrap().queued, 3);
    assert!(store.broadcast_subscribers(a.id).await.unwrap().is_empty());
    let listed = store
        .list_broadcasts(tocsin_domain::PageRequest::first(10))
        .await
        .unwrap()
        .items;
    assert!(listed.iter().any(|x| x.id == a.id));
    assert!(store
        .active_broadcasts()
        .await
        .unwrap()
        .iter()
        .any(|x| x.id == a.id));
    // A cancellation skips what is still queued; it is no longer active.
    let c = stored
        .cancel(Uuid::new_v4(), "bob", None, time::now())
        .unwrap();
    store
        .write(
            &Actor::system("t"),
            Op::All {
                steps: vec![
                    Step::Broadcast(BroadcastStep::Update(Box::new(c.clone()))),
                    Step::Broadcast(BroadcastStep::SkipQueued(c.id)),
                ],
                audit: Box::new(AuditEvent::new(&Actor::system("t"), "x", "broadcast", None)),
            },
        )
        .await
        .unwrap();
    let counts = store.recipient_counts(a.id).await.unwrap();
    assert_eq!((counts.queued, counts.skipped), (0, 3));
    assert!(!store
        .active_broadcasts()
        .await
        .unwrap()
        .iter()
        .any(|x| x.id == a.id));
}

async fn recipients_are_claimed_once_and_settled(store: &dyn Store, db: &Db) {
    let (a, rs) = approved_with(store, 10).await;
    // A test phone's row keeps its sealed address.
    let other = db.open_another().await;
    let now = time::now();
    let first = store.claim_recipients(a.id, 4, 60, now).await.unwrap();
    let second = other.claim_recipients(a.id, 4, 60, now).await.unwrap();
    let third = store.claim_recipients(a.id, 4, 60, now).await.unwrap();
    assert_eq!((first.len(), second.len(), third.len()), (4, 4, 2));
    let ids: HashSet<Uuid> = first
        .iter()
        .chain(&second)
        .chain(&third)
        .map(|r| r.id)
        .collect();
    assert_eq!(ids, rs.iter().map(|r| r.id).collect());
    assert!(first
        .iter()
        .all(|r| r.state == RecipientState::Sending && r.attempts == 1));
    assert!(store
        .claim_recipients(a.id, 4, 60, now)
        .await
        .unwrap()
        .is_empty());
    let c = store.recipient_counts(a.id).await.unwrap();
    assert_eq!((c.queued, c.sending), (0, 10));

    // A delivery report that comes before the send is recorded is kept.
    assert!(store
        .recipient_report(Some(first[0].id), "no-such-key", true)
        .await
        .unwrap());
    store
        .settle_recipient(
            first[0].id,
            RecipientOutcome::Sent {
                gateway: "kannel".into(),
                provider_key: Some("pk-0".into()),
            },
        )
        .await
        .unwrap();
    // Sent, then a report by the gateway's id.
    store
        .settle_recipient(
            first[1].id,
            RecipientOutcome::Sent {
                gateway: "twilio".into(),
                provider_key: Some("pk-1".into()),
            },
        )
        .await
        .unwrap();
    assert!(store.recipient_report(None, "pk-1", false).await.unwrap());
    assert!(!store
        .recipient_report(None, "pk-unknown", true)
        .await
        .unwrap());
    store
        .settle_recipient(first[2].id, RecipientOutcome::Skipped)
        .await
        .unwrap();
    store
        .settle_recipient(first[3].id, RecipientOutcome::Retry)
        .await
        .unwrap();
    let c = store.recipient_counts(a.id).await.unwrap();
    assert_eq!(
        (c.delivered, c.failed, c.skipped, c.queued, c.sending),
        (1, 1, 1, 1, 6)
    );
    // The retried row comes back; the others only once their lease lapsed (a sender that
    // died), never a settled one.
    let again = store.claim_recipients(a.id, 20, 60, now).await.unwrap();
    assert_eq!(
        again.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![first[3].id]
    );
    assert_eq!(again[0].attempts, 2);
    let later = now + Duration::seconds(61);
    let lapsed = store.claim_recipients(a.id, 20, 60, later).await.unwrap();
    assert_eq!(lapsed.len(), 7);
    assert!(lapsed
        .iter()
        .all(|r| ![first[0].id, first[1].id, first[2].id].contains(&r.id)));
    for r in &lapsed {
        store
            .settle_recipient(
                r.id,
                RecipientOutcome::Sent {
                    gateway: "kannel".into(),
                    provider_key: None,
                },
            )
            .await
            .unwrap();
    }
    let c = store.recipient_counts(a.id).await.unwrap();
    assert!(c.done());
    assert_eq!(c.total(), 10);
    assert_eq!(c.sent, 7);
    // A correction goes to those it went to: sent and delivered, not failed or skipped.
    assert_eq!(store.broadcast_subscribers(a.id).await.unwrap().len(), 8);

    // Test rows: no subscriber, the sealed address kept as given.
    let b = broadcast();
    store
        .write(
            &Actor::system("t"),
            op(BroadcastStep::Create(Box::new(b.clone()))),
        )
        .await
        .unwrap();
    let row = BroadcastRecipient {
        id: tocsin_domain::random_id(),
        broadcast_id: b.id,
        subscriber_id: None,
        address: Some(SealedContact(vec![2, 9, 9, 9])),
        language: "en".into(),
        state: RecipientState::Queued,
        attempts: 0,
    };
    store
        .write(
            &Actor::system("t"),
            op(BroadcastStep::AddRecipients {
                broadcast_id: b.id,
                recipients: vec![row.clone()],
            }),
        )
        .await
        .unwrap();
    let got = store.claim_recipients(b.id, 5, 60, now).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].address, row.address);
    assert_eq!(got[0].subscriber_id, None);
    assert!(store.broadcast_subscribers(b.id).await.unwrap().is_empty());
}

async fn stop_switch_is_kept(store: &dyn Store, _db: &Db) {
    assert_eq!(store.stop_switch().await.unwrap(), None);
    let on = StopSwitch {
        on: true,
        by_name: "root".into(),
        at: time::now(),
        reason: Some("false alarm".into()),
    };
    store
        .write(&Actor::system("t"), op(BroadcastStep::SetStop(on.clone())))
        .await
        .unwrap();
    assert_eq!(store.stop_switch().await.unwrap(), Some(on.clone()));
    let off = StopSwitch { on: false, ..on };
    store
        .write(&Actor::system("t"), op(BroadcastStep::SetStop(off.clone())))
        .await
        .unwrap();
    assert_eq!(store.stop_switch().await.unwrap(), Some(off));
}

async fn broadcasts_are_paged_newest_first(store: &dyn Store, _db: &Db) {
    let t0 = time::now();
    let mut made = Vec::new();
    for i in 0..5i64 {
        let mut b = broadcast();
        // The last two written at the same time: the id breaks the tie.
        b.created_at = t0 - chrono::Duration::minutes(i.min(3));
        store
            .write(
                &Actor::system("t"),
                op(BroadcastStep::Create(Box::new(b.clone()))),
            )
            .await
            .unwrap();
        made.push(b);
    }
    assert_eq!(store.count_broadcasts().await.unwrap(), 5);
    let mut seen = Vec::new();
    let mut req = tocsin_domain::PageRequest::first(2);
    loop {
        let p = store.list_broadcasts(req).await.unwrap();
        assert!(p.items.len() <= 2, "{} on a page of 2", p.items.len());
        seen.extend(p.items.iter().map(|b| (b.created_at, b.id)));
        match p.next_cursor {
            Some(c) => req = tocsin_domain::PageRequest::parse(Some(2), Some(&c)).unwrap(),
            None => break,
        }
    }
    let mut want: Vec<_> = made.iter().map(|b| (b.created_at, b.id)).collect();
    want.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, want, "every broadcast once, newest first");
}
