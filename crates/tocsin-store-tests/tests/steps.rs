//! The primitive writes the application layer composes ([`Op::All`] of [`Step`]s) and the
//! reads it decides on, on every backend: each step stores what it is given, its guard trips
//! with `Conflict`/`NotFound` when the world moved on, and a tripped guard undoes the whole
//! op and its audit entry.

use chrono::Duration;
use tocsin_domain::{
    time, Actor, AuditEvent, Channel, FormClaim, NewReport, NewSource, NewUser, Reliability, Role,
    Source, Tlp,
};
use tocsin_store::{AuditFilter, Op, Step, Store, StoreError, StoreExt, WebSession};
use tocsin_store_tests::{story, Db};
use uuid::Uuid;

story!(
    primitive_steps_store_what_they_are_given_and_guard,
    a_tripped_guard_undoes_the_whole_op,
    the_audit_trail_is_searched_newest_first
);

fn system() -> Actor {
    Actor::system("steps")
}

fn report(text: &str, source_id: Option<Uuid>, key: Option<&str>) -> NewReport {
    NewReport {
        id: tocsin_domain::random_id(),
        channel: Channel::Sms,
        provider_key: key.map(str::to_string),
        source_id,
        text: text.into(),
        tlp: Tlp::AmberStrict,
        latitude: None,
        longitude: None,
        country: None,
        occurred_at: None,
        received_at: time::now(),
        meta: Default::default(),
    }
}

fn source(handle: &str) -> NewSource {
    NewSource {
        source: Source {
            id: tocsin_domain::random_id(),
            handle: handle.into(),
            kind: "monitor".into(),
            reliability: Reliability::F,
            tlp: Tlp::AmberStrict,
            has_contact: false,
            created_at: time::now(),
        },
        contact: None,
    }
}

fn all(steps: Vec<Step>, action: &str) -> Op {
    Op::All {
        steps,
        audit: Box::new(AuditEvent::new(&system(), action, "test", None)),
    }
}

async fn audit_count(s: &dyn Store) -> i64 {
    s.verify_audit()
        .await
        .unwrap()
        .expect("audit chain verifies")
}

fn conflict<T: std::fmt::Debug>(r: tocsin_store::Result<T>) -> bool {
    matches!(r, Err(StoreError::Conflict(_)))
}

async fn primitive_steps_store_what_they_are_given_and_guard(s: &dyn Store, _db: &Db) {
    let sys = system();
    // A source with a phone hash is found by it; a second one with the same hash is refused.
    assert!(s.source_by_phone("ph-1").await.unwrap().is_none());
    let a = source("M-AAAAA");
    let before = audit_count(s).await;
    s.write(
        &sys,
        all(
            vec![Step::CreateSource {
                source: Box::new(a.clone()),
                phone_hash: Some("ph-1".into()),
            }],
            "test.source",
        ),
    )
    .await
    .unwrap();
    assert_eq!(
        audit_count(s).await,
        before + 1,
        "one entry for the whole op"
    );
    let found = s.source_by_phone("ph-1").await.unwrap().unwrap();
    assert_eq!((found.id, found.handle.as_str()), (a.source.id, "M-AAAAA"));
    let b = source("M-BBBBB");
    assert!(conflict(
        s.write(
            &sys,
            all(
                vec![Step::CreateSource {
                    source: Box::new(b.clone()),
                    phone_hash: Some("ph-1".into()),
                }],
                "test.source",
            ),
        )
        .await
    ));
    assert!(s.get_source(b.source.id).await.is_err());

    // Reports: found by provider key and by text since a time; the key is unique, and the
    // text guard refuses the same text from the same source inside the window.
    let r1 = report("hello", Some(a.source.id), Some("gw:1"));
    s.write(
        &sys,
        all(
            vec![Step::CreateReport {
                report: Box::new(r1.clone()),
                unless_text_since: None,
            }],
            "test.report",
        ),
    )
    .await
    .unwrap();
    let by_key = s
        .report_by_provider_key(Channel::Sms, "gw:1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (by_key.id, by_key.source.as_deref()),
        (r1.id, Some("M-AAAAA"))
    );
    assert!(s
        .report_by_provider_key(Channel::Web, "gw:1")
        .await
        .unwrap()
        .is_none());
    let since = r1.received_at - Duration::minutes(10);
    assert_eq!(
        s.report_by_text_since(a.source.id, "hello", since)
            .await
            .unwrap()
            .map(|r| r.id),
        Some(r1.id)
    );
    assert!(s
        .report_by_text_since(a.source.id, "hello", r1.received_at + Duration::seconds(1))
        .await
        .unwrap()
        .is_none());
    let again = |text: &str, key: Option<&str>, window: bool| {
        all(
            vec![Step::CreateReport {
                report: Box::new(report(text, Some(a.source.id), key)),
                unless_text_since: window.then_some(since),
            }],
            "test.report",
        )
    };
    assert!(conflict(
        s.write(&sys, again("other", Some("gw:1"), false)).await
    ));
    assert!(conflict(s.write(&sys, again("hello", None, true)).await));
    s.write(&sys, again("hello", None, false)).await.unwrap();
    s.write(&sys, again("new text", None, true)).await.unwrap();

    // Form codes: stored, read back, claimed once, purged once expired.
    let web = NewReport {
        channel: Channel::Web,
        ..report("from the form", None, None)
    };
    let claim = FormClaim {
        code_hash: "code-1".into(),
        report_id: web.id,
        ack_text: "thanks".into(),
        expires_at: time::now() + Duration::hours(1),
    };
    s.write(
        &sys,
        all(
            vec![
                Step::CreateReport {
                    report: Box::new(web.clone()),
                    unless_text_since: None,
                },
                Step::CreateFormClaim(claim.clone()),
            ],
            "test.form",
        ),
    )
    .await
    .unwrap();
    let stored = s.get_form_claim("code-1").await.unwrap().unwrap();
    assert_eq!((&stored.claim, stored.claimed_source), (&claim, None));
    let claim_it = || {
        all(
            vec![Step::ClaimFormCode {
                code_hash: "code-1".into(),
                report_id: web.id,
                source_id: a.source.id,
            }],
            "test.claim",
        )
    };
    s.write(&sys, claim_it()).await.unwrap();
    assert_eq!(
        s.get_form_claim("code-1")
            .await
            .unwrap()
            .unwrap()
            .claimed_source,
        Some(a.source.id)
    );
    assert_eq!(
        s.get_report(web.id).await.unwrap().source.as_deref(),
        Some("M-AAAAA")
    );
    assert!(conflict(s.write(&sys, claim_it()).await), "claimed once");
    s.write(
        &sys,
        all(vec![Step::PurgeFormClaims(time::now())], "test.purge"),
    )
    .await
    .unwrap();
    assert!(
        s.get_form_claim("code-1").await.unwrap().is_some(),
        "not yet expired"
    );
    s.write(
        &sys,
        all(
            vec![Step::PurgeFormClaims(time::now() + Duration::hours(2))],
            "test.purge",
        ),
    )
    .await
    .unwrap();
    assert!(s.get_form_claim("code-1").await.unwrap().is_none());
    assert!(s.get_form_claim("code-unknown").await.unwrap().is_none());

    // Users: the flag and the hash are set on their own; sessions end only when told.
    let u = s
        .create_user(
            &sys,
            NewUser::build("stepper", Role::Analyst, None).unwrap(),
        )
        .await
        .unwrap();
    let now = time::now();
    s.write(
        &u.actor(),
        Op::CreateSession(WebSession {
            id_hash: "sess-1".into(),
            user_id: u.id,
            csrf_token: "csrf".into(),
            created_at: now,
            expires_at: now + Duration::hours(1),
        }),
    )
    .await
    .unwrap();
    s.write(
        &sys,
        all(
            vec![Step::SetUserDisabled {
                user_id: u.id,
                disabled: true,
            }],
            "test.flag",
        ),
    )
    .await
    .unwrap();
    assert!(s.get_user(u.id).await.unwrap().disabled);
    assert!(
        s.get_session("sess-1").await.is_ok(),
        "the flag alone ends nothing"
    );
    s.write(&sys, all(vec![Step::EndSessions(u.id)], "test.end"))
        .await
        .unwrap();
    assert!(matches!(
        s.get_session("sess-1").await,
        Err(StoreError::NotFound)
    ));
    let hash = tocsin_domain::user::hash_password("a long enough passphrase").unwrap();
    s.write(
        &sys,
        all(
            vec![Step::SetPasswordHash {
                user_id: u.id,
                password_hash: tocsin_store::Redacted(hash),
            }],
            "test.password",
        ),
    )
    .await
    .unwrap();
    assert!(s
        .get_user(u.id)
        .await
        .unwrap()
        .check_password("a long enough passphrase"));

    // A user's time zone: stored, read back with the user however they are found, cleared;
    // no such user is not found.
    assert_eq!(s.get_user(u.id).await.unwrap().time_zone, None);
    let zone = |user_id, z: Option<&str>| {
        all(
            vec![Step::SetUserTimeZone {
                user_id,
                time_zone: z.map(str::to_string),
            }],
            "user.time_zone",
        )
    };
    s.write(&sys, zone(u.id, Some("Africa/Khartoum")))
        .await
        .unwrap();
    for found in [
        s.get_user(u.id).await.unwrap(),
        s.get_user_by_name(&u.username).await.unwrap(),
    ] {
        assert_eq!(found.time_zone.as_deref(), Some("Africa/Khartoum"));
    }
    assert!(s
        .list_users()
        .await
        .unwrap()
        .iter()
        .any(|x| x.id == u.id && x.time_zone.as_deref() == Some("Africa/Khartoum")));
    s.write(&sys, zone(u.id, None)).await.unwrap();
    assert_eq!(s.get_user(u.id).await.unwrap().time_zone, None);
    assert!(matches!(
        s.write(&sys, zone(Uuid::now_v7(), Some("UTC"))).await,
        Err(StoreError::NotFound)
    ));

    // A user's language: stored, read back, cleared; no such user is not found.
    assert_eq!(s.get_user(u.id).await.unwrap().language, None);
    let language = |user_id, l: Option<tocsin_domain::Lang>| {
        all(
            vec![Step::SetUserLanguage {
                user_id,
                language: l,
            }],
            "user.language",
        )
    };
    s.write(&sys, language(u.id, Some(tocsin_domain::Lang::Ar)))
        .await
        .unwrap();
    for found in [
        s.get_user(u.id).await.unwrap(),
        s.get_user_by_name(&u.username).await.unwrap(),
    ] {
        assert_eq!(found.language, Some(tocsin_domain::Lang::Ar));
    }
    s.write(&sys, language(u.id, None)).await.unwrap();
    assert_eq!(s.get_user(u.id).await.unwrap().language, None);
    assert!(matches!(
        s.write(
            &sys,
            language(Uuid::now_v7(), Some(tocsin_domain::Lang::Fr))
        )
        .await,
        Err(StoreError::NotFound)
    ));
}

async fn a_tripped_guard_undoes_the_whole_op(s: &dyn Store, _db: &Db) {
    let sys = system();
    let a = source("M-CCCCC");
    s.write(
        &sys,
        all(
            vec![
                Step::CreateSource {
                    source: Box::new(a.clone()),
                    phone_hash: Some("ph-a".into()),
                },
                Step::CreateReport {
                    report: Box::new(report("first", Some(a.source.id), Some("gw:a"))),
                    unless_text_since: None,
                },
            ],
            "test.first",
        ),
    )
    .await
    .unwrap();
    let counts = s.counts().await.unwrap();
    let entries = audit_count(s).await;
    // A new source, its report and a delivery, the report's key already taken: none of it.
    let b = source("M-DDDDD");
    let r = report("second", Some(b.source.id), Some("gw:a"));
    let ack = tocsin_domain::OutboundMessage::new(
        format!("ack:{}", r.id),
        "kannel",
        b.source.id,
        Some(r.id),
        "thanks".into(),
    );
    assert!(conflict(
        s.write(
            &sys,
            all(
                vec![
                    Step::CreateSource {
                        source: Box::new(b.clone()),
                        phone_hash: Some("ph-b".into()),
                    },
                    Step::CreateReport {
                        report: Box::new(r),
                        unless_text_since: None,
                    },
                    Step::Enqueue(Box::new(ack)),
                ],
                "test.second",
            ),
        )
        .await
    ));
    assert_eq!(s.counts().await.unwrap(), counts);
    assert!(s.source_by_phone("ph-b").await.unwrap().is_none());
    assert!(s.list_outbound(None, 10).await.unwrap().is_empty());
    assert_eq!(
        audit_count(s).await,
        entries,
        "no audit entry for a refused op"
    );
    // A step on a user who does not exist: not found, nothing written.
    let r = report("third", Some(a.source.id), None);
    assert!(matches!(
        s.write(
            &sys,
            all(
                vec![
                    Step::CreateReport {
                        report: Box::new(r.clone()),
                        unless_text_since: None,
                    },
                    Step::SetUserDisabled {
                        user_id: Uuid::now_v7(),
                        disabled: true,
                    },
                ],
                "test.third",
            ),
        )
        .await,
        Err(StoreError::NotFound)
    ));
    assert!(s.get_report(r.id).await.is_err());
    assert_eq!(audit_count(s).await, entries);
}

async fn the_audit_trail_is_searched_newest_first(s: &dyn Store, _db: &Db) {
    let before = s.count_audit(&AuditFilter::default()).await.unwrap();
    let ann = Actor::system("ann");
    let bob = Actor::system("bob");
    for (who, action, id) in [
        (&ann, "source.contact_read", "s1"),
        (&bob, "source.contact_read", "s2"),
        (&ann, "user.time_zone", "u1"),
        (&ann, "source.grade", "s1"),
    ] {
        s.audit(AuditEvent::new(
            who,
            action,
            action.split('.').next().unwrap(),
            Some(id.into()),
        ))
        .await
        .unwrap();
    }
    let all = s.count_audit(&AuditFilter::default()).await.unwrap();
    assert_eq!(all, before + 4);
    let by_ann = AuditFilter {
        actor: Some("system:ann".into()),
        ..Default::default()
    };
    assert_eq!(s.count_audit(&by_ann).await.unwrap(), 3);
    let found = s.search_audit(&by_ann, None, 10).await.unwrap();
    let actions: Vec<&str> = found.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        ["source.grade", "user.time_zone", "source.contact_read"],
        "newest first"
    );
    // Paged: the page after the first entry holds the rest.
    let next = s
        .search_audit(&by_ann, Some(found[0].seq), 10)
        .await
        .unwrap();
    assert_eq!(next.len(), 2);
    assert_eq!(next[0].seq, found[1].seq);
    // The action is matched by its start; the record exactly; filters combine.
    let contact = AuditFilter {
        action: Some("source.contact".into()),
        ..Default::default()
    };
    assert_eq!(s.count_audit(&contact).await.unwrap(), 2);
    let s1 = AuditFilter {
        record_type: Some("source".into()),
        record_id: Some("s1".into()),
        ..Default::default()
    };
    assert_eq!(s.search_audit(&s1, None, 10).await.unwrap().len(), 2);
    let none = AuditFilter {
        actor: Some("system:bob".into()),
        action: Some("user.".into()),
        ..Default::default()
    };
    assert_eq!(s.count_audit(&none).await.unwrap(), 0);
    // Characters that mean something to LIKE are plain text here.
    let pct = AuditFilter {
        action: Some("%".into()),
        ..Default::default()
    };
    assert_eq!(s.count_audit(&pct).await.unwrap(), 0);
}
