//! Partners on every backend: added once by name (a second of that name is a conflict, nothing
//! changed), listed by name with their terms, what was sent to one remembered and replaced,
//! the partner's tokens (the inbound one found by its hash, the push one kept sealed), where
//! the last pull from it got to (its cursor), removed
//! with what was sent to it; the signing key kept once (a second key offered later
//! leaves the first); sharing groups and the partners and groups an incident names, with a
//! removed partner or group leaving every group and record.

use chrono::{Duration, Utc};
use tocsin_domain::{
    time, Actor, AuditEvent, Country, Partner, PartnerInput, SealedContact, SentRecord,
    SharingGroup, SharingGroupInput, Tlp,
};
use tocsin_store::{Op, ShareStep, Step, Store, StoreError};
use tocsin_store_tests::{story, Db};
use uuid::Uuid;

story!(
    partners_are_kept_by_name,
    the_signing_key_is_kept_once,
    groups_and_records_naming_partners
);

fn sys() -> Actor {
    Actor::system("partner-test")
}

async fn step(s: &dyn Store, step: ShareStep) -> Result<(), StoreError> {
    s.write(
        &sys(),
        Op::All {
            steps: vec![Step::Share(step)],
            audit: Box::new(AuditEvent::new(&sys(), "partner.test", "partner", None)),
        },
    )
    .await
    .map(|_| ())
}

fn partner(name: &str, countries: &[&str]) -> Partner {
    Partner::parse(
        PartnerInput {
            name: name.into(),
            url: "https://tocsin.partner.example".into(),
            key: tocsin_domain::SigningKey::generate()
                .public_key()
                .to_string(),
            max_tlp: "TLP:AMBER".into(),
            countries: countries.iter().map(|c| c.to_string()).collect(),
            kinds: vec![],
        },
        time::now(),
    )
    .unwrap()
}

async fn partners_are_kept_by_name(s: &dyn Store, _db: &Db) {
    let un = partner("UN office", &["KEN", "CAF"]);
    let mfa = partner("Foreign ministry", &[]);
    step(s, ShareStep::AddPartner(Box::new(un.clone())))
        .await
        .unwrap();
    step(s, ShareStep::AddPartner(Box::new(mfa.clone())))
        .await
        .unwrap();
    let again = partner("UN office", &[]);
    let err = step(s, ShareStep::AddPartner(Box::new(again)))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let all = s.partners().await.unwrap();
    let names: Vec<&str> = all.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["Foreign ministry", "UN office"]);
    let got = s.partner("UN office").await.unwrap().unwrap();
    assert_eq!(got.public_key, un.public_key);
    assert_eq!(got.max_tlp, Tlp::Amber);
    assert_eq!(
        got.countries,
        vec![
            Country::parse("KEN").unwrap(),
            Country::parse("CAF").unwrap()
        ]
    );
    assert!((got.added_at - un.added_at).num_milliseconds().abs() < 2);
    assert!(s.partner("Nobody").await.unwrap().is_none());

    // What was sent, remembered per partner and replaced by the next send.
    let id = Uuid::new_v4();
    let sent = |modified, retracted_at| SentRecord {
        partner: "UN office".into(),
        record_id: id,
        kind: "rumour".into(),
        modified,
        tlp: Tlp::Green,
        retracted_at,
        sent_at: modified,
    };
    assert_eq!(
        s.partner_activity("UN office").await.unwrap(),
        Default::default()
    );
    let t0 = Utc::now() - Duration::hours(1);
    step(s, ShareStep::Sent(vec![sent(t0, None)]))
        .await
        .unwrap();
    let t1 = Utc::now();
    step(s, ShareStep::Sent(vec![sent(t1, Some(t1))]))
        .await
        .unwrap();
    let held = s.sent_to("UN office").await.unwrap();
    assert_eq!(held.len(), 1);
    assert!(held[&id].retracted_at.is_some());
    assert!((held[&id].modified - t1).num_milliseconds().abs() < 2);
    assert!(s.sent_to("Foreign ministry").await.unwrap().is_empty());
    let act = s.partner_activity("UN office").await.unwrap();
    assert_eq!((act.sent, act.sent_retracted, act.received), (1, 1, 0));
    assert!((act.last_sent.unwrap() - t1).num_milliseconds().abs() < 2);

    // Tokens: the inbound one found by its hash, the push one kept sealed; none for nobody.
    step(
        s,
        ShareStep::PartnerInboundToken {
            name: "UN office".into(),
            hash: "ab".repeat(32),
        },
    )
    .await
    .unwrap();
    let found = s.partner_by_token(&"ab".repeat(32)).await.unwrap().unwrap();
    assert_eq!(found.name, "UN office");
    assert!(s
        .partner_by_token(&"cd".repeat(32))
        .await
        .unwrap()
        .is_none());
    assert!(s.partner_push_token("UN office").await.unwrap().is_none());
    step(
        s,
        ShareStep::PartnerPushToken {
            name: "UN office".into(),
            sealed: SealedContact(vec![7, 7, 7]),
        },
    )
    .await
    .unwrap();
    assert_eq!(
        s.partner_push_token("UN office").await.unwrap(),
        Some(SealedContact(vec![7, 7, 7]))
    );
    let err = step(
        s,
        ShareStep::PartnerPushToken {
            name: "Nobody".into(),
            sealed: SealedContact(vec![1]),
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "{err:?}");

    // Where the last pull from it got to: kept exactly (to the nanosecond), replaced, forgotten.
    assert!(s.pull_cursor("UN office").await.unwrap().is_none());
    let at = chrono::DateTime::parse_from_rfc3339("2026-12-07T10:11:12.123456Z")
        .unwrap()
        .with_timezone(&Utc);
    for c in [
        tocsin_domain::SyncCursor::after(at, Uuid::from_u128(42)),
        tocsin_domain::SyncCursor::after(at + Duration::microseconds(1), Uuid::nil()),
    ] {
        step(
            s,
            ShareStep::PullCursor {
                name: "UN office".into(),
                cursor: Some(c),
            },
        )
        .await
        .unwrap();
        assert_eq!(s.pull_cursor("UN office").await.unwrap(), Some(c));
    }
    step(
        s,
        ShareStep::PullCursor {
            name: "UN office".into(),
            cursor: None,
        },
    )
    .await
    .unwrap();
    assert!(s.pull_cursor("UN office").await.unwrap().is_none());
    let err = step(
        s,
        ShareStep::PullCursor {
            name: "Nobody".into(),
            cursor: None,
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "{err:?}");

    // Removed with what was sent to it; a second removal finds nothing.
    step(s, ShareStep::RemovePartner("UN office".into()))
        .await
        .unwrap();
    assert!(s.partner("UN office").await.unwrap().is_none());
    assert!(s.sent_to("UN office").await.unwrap().is_empty());
    let err = step(s, ShareStep::RemovePartner("UN office".into()))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "{err:?}");
}

async fn the_signing_key_is_kept_once(s: &dyn Store, _db: &Db) {
    assert!(s.signing_key().await.unwrap().is_none());
    let first = SealedContact(vec![1, 2, 3, 4]);
    step(s, ShareStep::KeepSigningKey(first.clone()))
        .await
        .unwrap();
    step(s, ShareStep::KeepSigningKey(SealedContact(vec![9, 9])))
        .await
        .unwrap();
    assert_eq!(s.signing_key().await.unwrap(), Some(first));
}

fn group(name: &str, members: &[&str]) -> SharingGroup {
    SharingGroup::parse(
        SharingGroupInput {
            name: name.into(),
            members: members.iter().map(|m| m.to_string()).collect(),
        },
        time::now(),
    )
    .unwrap()
}

async fn groups_and_records_naming_partners(s: &dyn Store, _db: &Db) {
    for p in ["UN office", "Ministry", "NGO"] {
        step(s, ShareStep::AddPartner(Box::new(partner(p, &[]))))
            .await
            .unwrap();
    }
    let fp = group("Focal points", &["UN office", "Ministry"]);
    step(s, ShareStep::AddGroup(Box::new(fp.clone())))
        .await
        .unwrap();
    step(s, ShareStep::AddGroup(Box::new(group("Field", &["NGO"]))))
        .await
        .unwrap();
    let err = step(
        s,
        ShareStep::AddGroup(Box::new(group("Field", &["UN office"]))),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let groups = s.sharing_groups().await.unwrap();
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0].name, "Field");
    assert_eq!(groups[0].members, ["NGO"]);
    assert_eq!(groups[1].name, "Focal points");
    assert_eq!(groups[1].members, ["Ministry", "UN office"]);
    assert!(
        (groups[1].created_at - fp.created_at)
            .num_milliseconds()
            .abs()
            < 2
    );

    // What incidents name, in the order set, replaced by the next setting.
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    let names = |v: &[&str]| v.iter().map(|n| n.to_string()).collect::<Vec<_>>();
    step(
        s,
        ShareStep::ShareWith {
            incident_id: a,
            names: names(&["NGO", "Focal points"]),
        },
    )
    .await
    .unwrap();
    step(
        s,
        ShareStep::ShareWith {
            incident_id: b,
            names: names(&["UN office"]),
        },
    )
    .await
    .unwrap();
    assert_eq!(s.share_with(a).await.unwrap(), ["NGO", "Focal points"]);
    let all = s.shares_with().await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[&b], ["UN office"]);
    step(
        s,
        ShareStep::ShareWith {
            incident_id: b,
            names: vec![],
        },
    )
    .await
    .unwrap();
    assert!(s.share_with(b).await.unwrap().is_empty());
    assert!(!s.shares_with().await.unwrap().contains_key(&b));

    // A removed partner leaves every group and record; a removed group leaves every record.
    step(s, ShareStep::RemovePartner("UN office".into()))
        .await
        .unwrap();
    let groups = s.sharing_groups().await.unwrap();
    assert_eq!(groups[1].members, ["Ministry"]);
    step(
        s,
        ShareStep::ShareWith {
            incident_id: b,
            names: names(&["Ministry"]),
        },
    )
    .await
    .unwrap();
    step(s, ShareStep::RemoveGroup("Focal points".into()))
        .await
        .unwrap();
    assert_eq!(s.share_with(a).await.unwrap(), ["NGO"]);
    assert_eq!(s.share_with(b).await.unwrap(), ["Ministry"]);
    let groups = s.sharing_groups().await.unwrap();
    assert_eq!(groups.len(), 1);
    let err = step(s, ShareStep::RemoveGroup("Focal points".into()))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "{err:?}");
}
