//! The job runner's storage and the delivery queue, on every backend: leases held by one
//! owner at a time and taken over after expiry, timers claimed once and surviving a reopen,
//! job records, deliveries to users and addresses.

use chrono::Duration;
use std::collections::HashSet;
use tocsin_domain::{
    time, Actor, ContactKey, NewUser, OutboundMessage, RecipientKind, Role, SourceContact, Tlp,
};
use tocsin_store::{ChannelCount, JobRecord, NewTimer, Op, SendOutcome, Step, Store, StoreExt};
use tocsin_store_tests::{story, Db};

story!(
    a_lease_has_one_holder_and_is_taken_over_after_expiry,
    timers_fire_once_per_claim_and_are_claimed_again_after_a_lapse,
    timers_survive_a_reopen,
    concurrent_claims_never_share_a_timer,
    job_records_round_trip,
    deliveries_to_users_and_addresses_keep_their_address_sealed,
    channel_cursors_only_move_forward_and_survive_a_reopen,
    channel_counters_add_up_across_processes,
    channel_counts_in_writes_add_up_across_processes,
    a_delivery_told_to_retry_after_waits_that_long,
);

fn timer(kind: &str, key: Option<&str>, in_secs: i64) -> NewTimer {
    NewTimer {
        kind: kind.into(),
        key: key.map(str::to_string),
        payload: serde_json::json!({"alert": "a1"}),
        fire_at: time::now() + Duration::seconds(in_secs),
    }
}

async fn a_lease_has_one_holder_and_is_taken_over_after_expiry(s: &dyn Store, db: &Db) {
    let other = db.open_another().await;
    assert!(s.acquire_lease("job:signals", "a", 60).await.unwrap());
    assert!(
        !other.acquire_lease("job:signals", "b", 60).await.unwrap(),
        "a live lease is not taken from another process"
    );
    assert!(
        s.acquire_lease("job:signals", "a", 60).await.unwrap(),
        "its holder renews it"
    );
    assert!(other.acquire_lease("job:outbox", "b", 60).await.unwrap());
    // A holder that stops renewing (a crash): its lease expires and is taken over.
    assert!(s.acquire_lease("job:signals", "a", 0).await.unwrap());
    assert!(
        other.acquire_lease("job:signals", "b", 60).await.unwrap(),
        "an expired lease is taken over"
    );
    assert!(!s.acquire_lease("job:signals", "a", 60).await.unwrap());
    // Released on shutdown: taken at once.
    s.release_lease("job:signals", "a").await.unwrap(); // not a's: no effect
    assert!(!s.acquire_lease("job:signals", "a", 60).await.unwrap());
    other.release_lease("job:signals", "b").await.unwrap();
    assert!(s.acquire_lease("job:signals", "a", 60).await.unwrap());
}

async fn timers_fire_once_per_claim_and_are_claimed_again_after_a_lapse(s: &dyn Store, db: &Db) {
    let other = db.open_another().await;
    let kinds = vec!["alert.escalate".to_string()];
    let id = s
        .schedule_timer(timer("alert.escalate", Some("alert:a1"), -1))
        .await
        .unwrap();
    assert_eq!(
        s.schedule_timer(timer("alert.escalate", Some("alert:a1"), 30))
            .await
            .unwrap(),
        id,
        "one pending timer per key"
    );
    let later = s
        .schedule_timer(timer("alert.escalate", None, 3600))
        .await
        .unwrap();
    assert_ne!(later, id);
    assert!(s
        .claim_timers(&["other".to_string()], "a", 10, 60)
        .await
        .unwrap()
        .is_empty());
    let got = s.claim_timers(&kinds, "a", 10, 60).await.unwrap();
    assert_eq!(got.len(), 1, "only the due one");
    assert_eq!((got[0].id, got[0].attempts), (id, 1));
    assert_eq!(got[0].payload["alert"], "a1");
    assert!(
        other
            .claim_timers(&kinds, "b", 10, 60)
            .await
            .unwrap()
            .is_empty(),
        "a claimed timer is not claimed again while its claim holds"
    );
    assert!(!other.complete_timer(id, "b").await.unwrap());
    assert!(s.complete_timer(id, "a").await.unwrap());
    assert!(s
        .claim_timers(&kinds, "a", 10, 60)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(s.pending_timers().await.unwrap(), 1);
    // The key is free again once fired.
    let again = s
        .schedule_timer(timer("alert.escalate", Some("alert:a1"), -1))
        .await
        .unwrap();
    assert_ne!(again, id);
    // A claimant that dies: its claim lapses and the timer is claimed again, told its id.
    let c = s.claim_timers(&kinds, "a", 10, 0).await.unwrap();
    assert_eq!(c.len(), 1);
    let c2 = other.claim_timers(&kinds, "b", 10, 60).await.unwrap();
    assert_eq!((c2[0].id, c2[0].attempts), (again, 2));
    assert!(
        !s.complete_timer(again, "a").await.unwrap(),
        "the lapsed claimant no longer holds it"
    );
    // A failed handler: due again later, with its error.
    other
        .retry_timer(
            again,
            "b",
            time::now() + Duration::seconds(3600),
            "desk unreachable",
        )
        .await
        .unwrap();
    assert!(other
        .claim_timers(&kinds, "b", 10, 60)
        .await
        .unwrap()
        .is_empty());
    assert!(s.cancel_timer("alert:a1").await.unwrap());
    assert!(!s.cancel_timer("alert:a1").await.unwrap());
    assert_eq!(s.pending_timers().await.unwrap(), 1, "the hour-away timer");
}

async fn timers_survive_a_reopen(s: &dyn Store, db: &Db) {
    let id = s
        .schedule_timer(timer("alert.escalate", Some("alert:r"), -1))
        .await
        .unwrap();
    // A second process on the same database (as after a restart) finds and fires it.
    let reopened = db.open_another().await;
    let got = reopened
        .claim_timers(&["alert.escalate".to_string()], "new-process", 10, 60)
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].id, id);
    assert!(reopened.complete_timer(id, "new-process").await.unwrap());
}

async fn channel_cursors_only_move_forward_and_survive_a_reopen(s: &dyn Store, db: &Db) {
    assert_eq!(s.channel_cursor("telegram").await.unwrap(), None);
    s.advance_channel_cursor("telegram", 120).await.unwrap();
    s.advance_channel_cursor("telegram", 90).await.unwrap();
    assert_eq!(
        s.channel_cursor("telegram").await.unwrap(),
        Some(120),
        "a lower position never rewinds the cursor"
    );
    s.advance_channel_cursor("telegram", 121).await.unwrap();
    assert_eq!(s.channel_cursor("other").await.unwrap(), None);
    // A restarted poller (another process on the same database) resumes where it was.
    let reopened = db.open_another().await;
    assert_eq!(
        reopened.channel_cursor("telegram").await.unwrap(),
        Some(121)
    );
}

async fn concurrent_claims_never_share_a_timer(s: &dyn Store, db: &Db) {
    for _ in 0..40 {
        s.schedule_timer(timer("t", None, -1)).await.unwrap();
    }
    let a = db.open_another().await;
    let b = db.open_another().await;
    let kinds = vec!["t".to_string()];
    let claim = |st: tocsin_store::DynStore, owner: &'static str, kinds: Vec<String>| async move {
        let mut got = Vec::new();
        loop {
            let batch = st.claim_timers(&kinds, owner, 3, 60).await.unwrap();
            if batch.is_empty() {
                return got;
            }
            got.extend(batch.into_iter().map(|t| t.id));
        }
    };
    let (ga, gb) = tokio::join!(
        tokio::spawn(claim(a, "a", kinds.clone())),
        tokio::spawn(claim(b, "b", kinds.clone()))
    );
    let (ga, gb) = (ga.unwrap(), gb.unwrap());
    let all: HashSet<_> = ga.iter().chain(gb.iter()).collect();
    assert_eq!(ga.len() + gb.len(), 40, "every timer claimed once");
    assert_eq!(all.len(), 40, "no timer claimed by both");
}

async fn job_records_round_trip(s: &dyn Store, db: &Db) {
    let now = time::now();
    let r = JobRecord {
        name: "outbox".into(),
        last_ok: Some(now - Duration::seconds(5)),
        last_error: Some("Kannel answered 503".into()),
        last_error_at: Some(now),
        failing_since: Some(now),
        backlog: Some(3),
        updated_at: None,
    };
    s.record_job(&r).await.unwrap();
    s.record_job(&JobRecord {
        name: "signals".into(),
        last_ok: Some(now),
        ..Default::default()
    })
    .await
    .unwrap();
    let got = db.open_another().await.job_records().await.unwrap();
    assert_eq!(got.len(), 2);
    let o = &got[0];
    assert_eq!(o.name, "outbox");
    assert_eq!(o.backlog, Some(3));
    assert_eq!(o.last_error.as_deref(), Some("Kannel answered 503"));
    assert_eq!(
        o.failing_since.map(|t| t.timestamp_micros()),
        Some(now.timestamp_micros())
    );
    assert!(o.updated_at.is_some());
    // Recovered: replaced, not appended.
    s.record_job(&JobRecord {
        name: "outbox".into(),
        last_ok: Some(now),
        backlog: Some(0),
        ..Default::default()
    })
    .await
    .unwrap();
    let got = s.job_records().await.unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].failing_since, None);
}

async fn deliveries_to_users_and_addresses_keep_their_address_sealed(s: &dyn Store, _db: &Db) {
    let key = ContactKey::generate();
    let desk = s
        .create_user(
            &Actor::system("story"),
            NewUser::build("desk", Role::DeskOfficer, None).unwrap(),
        )
        .await
        .unwrap();
    let phone = SourceContact {
        chat: None,
        phone: Some("+23670000009".into()),
        ..Default::default()
    };
    let to_user = OutboundMessage::to_address(
        "alert:1:desk".into(),
        "kannel",
        Some(desk.id),
        &phone,
        &key,
        "Alert: armed men near Bria".into(),
        Tlp::Amber,
    );
    let to_partner = OutboundMessage::to_address(
        "broadcast:1".into(),
        "kannel",
        None,
        &phone,
        &key,
        "Stay indoors".into(),
        Tlp::Clear,
    );
    for m in [&to_user, &to_partner] {
        s.write(&Actor::system("story"), Op::EnqueueSms(Box::new(m.clone())))
            .await
            .unwrap();
    }
    let got = s.get_outbound(to_user.id).await.unwrap();
    assert_eq!(got.recipient_kind, RecipientKind::User);
    assert_eq!(
        (got.user_id, got.source_id, got.tlp),
        (Some(desk.id), None, Tlp::Amber)
    );
    assert_eq!(got.open_address(&key).unwrap(), Some(phone.clone()));
    assert!(
        !format!("{:?}", got.address).contains("+236"),
        "the address is stored sealed"
    );
    let got = s.get_outbound(to_partner.id).await.unwrap();
    assert_eq!(got.recipient_kind, RecipientKind::Address);
    assert_eq!(
        (got.user_id, got.source_id, got.tlp),
        (None, None, Tlp::Clear)
    );
    // An address sealed for one delivery does not open on another.
    let mut moved = got.clone();
    moved.id = to_user.id;
    assert!(moved.open_address(&key).is_err());
    // Both are claimed like any reply.
    let claimed = s.claim_outbound(None, 10, 60).await.unwrap();
    assert_eq!(claimed.len(), 2);
}

async fn channel_counters_add_up_across_processes(s: &dyn Store, db: &Db) {
    assert!(s.channel_counters().await.unwrap().is_empty());
    // Nothing to add: no row.
    s.count_channel("telegram", &ChannelCount::default())
        .await
        .unwrap();
    assert!(s.channel_counters().await.unwrap().is_empty());
    let other = db.open_another().await;
    let taken = ChannelCount {
        taken: 1,
        ..Default::default()
    };
    let dup = ChannelCount {
        duplicates: 1,
        ..Default::default()
    };
    let refused = ChannelCount {
        refused: 1,
        ..Default::default()
    };
    // Two processes counting at once: no count lost.
    let a = async {
        for _ in 0..25 {
            s.count_channel("telegram", &taken).await.unwrap();
            s.count_channel("telegram", &dup).await.unwrap();
        }
    };
    let b = async {
        for _ in 0..25 {
            other.count_channel("telegram", &taken).await.unwrap();
            other.count_channel("telegram", &refused).await.unwrap();
        }
    };
    tokio::join!(a, b);
    s.count_channel(
        "kannel",
        &ChannelCount {
            error: Some("could not store a message: database is locked".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    s.count_channel("kannel", &taken).await.unwrap();
    let c = db.open_another().await.channel_counters().await.unwrap();
    assert_eq!(
        c.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["kannel", "telegram"]
    );
    let t = &c[1];
    assert_eq!((t.taken, t.duplicates, t.refused), (50, 25, 25));
    assert!(t.last_taken_at.is_some() && t.last_refused_at.is_some());
    assert_eq!((t.last_error.as_deref(), t.last_error_at), (None, None));
    let k = &c[0];
    assert_eq!((k.taken, k.duplicates, k.refused), (1, 0, 0));
    assert_eq!(k.last_refused_at, None);
    // A later count without error keeps the last error.
    assert_eq!(
        k.last_error.as_deref(),
        Some("could not store a message: database is locked")
    );
    assert!(k.last_error_at.is_some());
}

async fn a_delivery_told_to_retry_after_waits_that_long(s: &dyn Store, _db: &Db) {
    let key = ContactKey::generate();
    let phone = SourceContact {
        chat: Some("telegram:42".into()),
        ..Default::default()
    };
    let m = OutboundMessage::to_address(
        "broadcast:retry-after".into(),
        "telegram",
        None,
        &phone,
        &key,
        "Stay indoors".into(),
        Tlp::Clear,
    );
    s.write(&Actor::system("story"), Op::EnqueueSms(Box::new(m.clone())))
        .await
        .unwrap();
    let claimed = s.claim_outbound(Some("telegram"), 10, 60).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let before = time::now();
    s.write(
        &Actor::system("story"),
        Op::SettleOutbound {
            id: m.id,
            outcome: SendOutcome::RetryAfter("Telegram answered 429".into(), 30),
        },
    )
    .await
    .unwrap();
    let got = s.get_outbound(m.id).await.unwrap();
    assert_eq!(got.status, tocsin_domain::OutboxStatus::Queued);
    assert_eq!(got.last_error.as_deref(), Some("Telegram answered 429"));
    assert!(got.next_attempt_at >= before + Duration::seconds(30));
    assert!(s
        .claim_outbound(Some("telegram"), 10, 60)
        .await
        .unwrap()
        .is_empty());
}

/// Counts written with messages (`Step::CountChannel`, in the write's own transaction) by two
/// processes at once, each write counting two channels, the two processes in opposite orders:
/// every write lands (no deadlock between the two), no count is lost, and a write that fails
/// counts nothing.
async fn channel_counts_in_writes_add_up_across_processes(s: &dyn Store, db: &Db) {
    let other = db.open_another().await;
    let count = |name: &str, taken: i64, duplicates: i64| Step::CountChannel {
        name: name.into(),
        count: ChannelCount {
            taken,
            duplicates,
            ..Default::default()
        },
    };
    let write = |steps: Vec<Step>| Op::All {
        steps,
        audit: Box::new(tocsin_domain::AuditEvent::new(
            &Actor::system("story"),
            "message.receive",
            "report",
            None,
        )),
    };
    let actor = Actor::system("story");
    async fn run(store: &dyn Store, actor: &Actor, ops: Vec<Op>) {
        for op in ops {
            store.write(actor, op).await.unwrap();
        }
    }
    let ops = |first: &str, second: &str| -> Vec<Op> {
        (0..40)
            .map(|i| write(vec![count(first, 1, 0), count(second, i % 2, 1 - i % 2)]))
            .collect()
    };
    tokio::join!(
        run(s, &actor, ops("kannel", "telegram")),
        run(&*other, &actor, ops("telegram", "kannel"))
    );
    // A write whose other step fails (a report that does not exist) counts nothing.
    let failing = write(vec![
        count("kannel", 100, 0),
        Step::Triage(Box::new(tocsin_domain::TriageDecision::new(
            uuid::Uuid::new_v4(),
            tocsin_domain::TriageKind::Rejected,
            "story",
        ))),
    ]);
    assert!(s.write(&actor, failing).await.is_err());
    let c = db.open_another().await.channel_counters().await.unwrap();
    let by = |n: &str| c.iter().find(|c| c.name == n).unwrap().clone();
    let (k, t) = (by("kannel"), by("telegram"));
    // Each process: 40 writes counting its first channel taken, its second 20 taken and 20
    // duplicates.
    assert_eq!((k.taken, k.duplicates), (60, 20));
    assert_eq!((t.taken, t.duplicates), (60, 20));
}
