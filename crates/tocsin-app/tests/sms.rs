//! What an inbound text message becomes, and what withdrawing a credential takes with it,
//! decided by the application layer on a real store (SQLite, and PostgreSQL when
//! `TOCSIN_TEST_POSTGRES_URL` names a server).

use chrono::{DateTime, Duration, Utc};
use std::collections::HashSet;
use tocsin_app::sms::ingest;
use tocsin_app::App;
use tocsin_domain::{
    time, Ack, Actor, Channel, ContactKey, FormClaim, InboundSms, NewReport, NewUser, Reliability,
    Role, SourceContact, Tlp,
};
use tocsin_framework::Frameworks;
use tocsin_store::{Store, StoreError, StoreExt, WebSession};
use tocsin_store_tests::{story, Db};
use uuid::Uuid;

story!(
    a_form_code_links_its_report_once_else_the_text_is_an_ordinary_message,
    a_retry_without_the_gateways_id_is_a_duplicate_only_within_the_window,
    a_new_sender_becomes_a_monitor_with_a_sealed_contact_and_nothing_names_them,
    concurrent_messages_from_one_new_phone_make_one_source,
    withdrawing_a_credential_ends_the_users_sessions,
);

fn gateway() -> Actor {
    Actor::system("sms-kannel")
}

struct Phone {
    key: ContactKey,
    number: String,
}

impl Phone {
    fn new(number: &str) -> Phone {
        Phone {
            key: ContactKey::generate(),
            number: number.into(),
        }
    }

    fn hash(&self) -> String {
        // The same key for every phone of a test would do; one per phone is as good.
        format!("hash-{}", self.number)
    }

    fn says(&self, text: &str, provider_key: Option<&str>, at: DateTime<Utc>) -> InboundSms {
        let new_source_id = tocsin_domain::random_id();
        InboundSms {
            phone_hash: self.hash(),
            new_source_id,
            sealed_contact: SourceContact {
                chat: None,
                phone: Some(self.number.clone()),
                ..Default::default()
            }
            .seal(&self.key, new_source_id),
            new_handle: format!("M-{}", &new_source_id.simple().to_string()[..8]),
            report: NewReport {
                id: tocsin_domain::random_id(),
                channel: Channel::Sms,
                provider_key: provider_key.map(str::to_string),
                source_id: None,
                text: text.into(),
                tlp: Tlp::AmberStrict,
                latitude: None,
                longitude: None,
                country: None,
                occurred_at: None,
                received_at: at,
                meta: Default::default(),
            },
            dedupe_window_secs: 600,
            ack: Some(Ack {
                gateway: "kannel".into(),
                text: "Merci.".into(),
                sender: Some("1234".into()),
                not_sent: None,
            }),
            claim: None,
            count_as: None,
        }
    }

    fn sends_code(&self, code_hash: &str, provider_key: Option<&str>) -> InboundSms {
        let mut m = self.says("K7Q2-MX4P", provider_key, time::now());
        m.claim = Some(code_hash.into());
        m
    }
}

/// A web report waiting for its code.
async fn web_report(s: &dyn Store, code_hash: &str, expires_at: DateTime<Utc>) -> Uuid {
    let r = NewReport {
        id: tocsin_domain::random_id(),
        channel: Channel::Web,
        provider_key: None,
        source_id: None,
        text: format!("seen ({code_hash})"),
        tlp: Tlp::AmberStrict,
        latitude: None,
        longitude: None,
        country: None,
        occurred_at: None,
        received_at: time::now(),
        meta: Default::default(),
    };
    let claim = FormClaim {
        code_hash: code_hash.into(),
        report_id: r.id,
        ack_text: format!("ack for {code_hash}"),
        expires_at,
    };
    let id = r.id;
    tocsin_app::sms::submit_form_report(s, &Actor::system("web-form"), r, Some(claim))
        .await
        .unwrap();
    id
}

async fn a_form_code_links_its_report_once_else_the_text_is_an_ordinary_message(
    s: &dyn Store,
    db: &Db,
) {
    let live = web_report(s, "code-live", time::now() + Duration::hours(24)).await;
    let old = web_report(s, "code-old", time::now() - Duration::minutes(1)).await;
    let reports = s.counts().await.unwrap().reports;
    let ordinary = |r: &tocsin_domain::Report, dup: bool| {
        !dup && r.id != live && r.id != old && r.text == "K7Q2-MX4P"
    };

    // Unknown and expired codes: ordinary messages; the expired one stays unclaimed.
    let (r, dup) = ingest(
        s,
        &gateway(),
        Phone::new("+1").sends_code("code-none", None),
    )
    .await
    .unwrap();
    assert!(ordinary(&r, dup), "unknown code");
    let (r, dup) = ingest(s, &gateway(), Phone::new("+2").sends_code("code-old", None))
        .await
        .unwrap();
    assert!(ordinary(&r, dup), "expired code");
    assert_eq!(
        s.get_form_claim("code-old")
            .await
            .unwrap()
            .unwrap()
            .claimed_source,
        None
    );

    // A live code: the web report now names the sender's new source, who gets its ack.
    let p = Phone::new("+3");
    let (r, dup) = ingest(s, &gateway(), p.sends_code("code-live", Some("k:1")))
        .await
        .unwrap();
    assert!(!dup);
    assert_eq!(r.id, live);
    let src = s.source_by_phone(&p.hash()).await.unwrap().unwrap();
    assert_eq!(r.source.as_deref(), Some(src.handle.as_str()));
    let out = s.list_outbound(Some(src.id), 10).await.unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(
        (out[0].report_id, out[0].text.as_str()),
        (Some(live), "ack for code-live")
    );

    // The same phone again (a retry, with or without the gateway's id): a duplicate.
    for key in [Some("k:1"), Some("k:other"), None] {
        let (r, dup) = ingest(s, &gateway(), p.sends_code("code-live", key))
            .await
            .unwrap();
        assert!(dup && r.id == live, "{key:?}");
    }
    assert_eq!(s.list_outbound(Some(src.id), 10).await.unwrap().len(), 1);

    // Another phone with the used code: an ordinary message; the link stays.
    let (r, dup) = ingest(
        s,
        &gateway(),
        Phone::new("+4").sends_code("code-live", None),
    )
    .await
    .unwrap();
    assert!(ordinary(&r, dup), "another phone's code");
    assert_eq!(
        s.get_report(live).await.unwrap().source,
        Some(src.handle.clone())
    );
    assert_eq!(s.counts().await.unwrap().reports, reports + 3);

    // Two phones send one live code at the same moment: exactly one gets the report.
    let race = web_report(s, "code-race", time::now() + Duration::hours(1)).await;
    let (a, b) = (Phone::new("+5"), Phone::new("+6"));
    let mut both = futures_join(
        db,
        vec![
            a.sends_code("code-race", None),
            b.sends_code("code-race", None),
        ],
    )
    .await;
    let (rb, ra) = (both.pop().unwrap(), both.pop().unwrap());
    let linked = [&ra, &rb].iter().filter(|(r, _)| r.id == race).count();
    assert_eq!(linked, 1, "{ra:?} {rb:?}");
    assert!(!ra.1 && !rb.1);
    let winner = s.get_report(race).await.unwrap().source.unwrap();
    let claimed = s.get_form_claim("code-race").await.unwrap().unwrap();
    assert_eq!(
        s.get_source(claimed.claimed_source.unwrap())
            .await
            .unwrap()
            .handle,
        winner
    );
}

async fn a_retry_without_the_gateways_id_is_a_duplicate_only_within_the_window(
    s: &dyn Store,
    _db: &Db,
) {
    let p = Phone::new("+10");
    let now = time::now();
    let (first, dup) = ingest(
        s,
        &gateway(),
        p.says("help", None, now - Duration::minutes(20)),
    )
    .await
    .unwrap();
    assert!(!dup);
    // Twenty minutes later is outside the ten-minute window: a new report.
    let (second, dup) = ingest(s, &gateway(), p.says("help", None, now))
        .await
        .unwrap();
    assert!(!dup && second.id != first.id);
    // Within it: the same report.
    let (third, dup) = ingest(
        s,
        &gateway(),
        p.says("help", None, now + Duration::seconds(5)),
    )
    .await
    .unwrap();
    assert!(dup && third.id == second.id);
    // Another text, or another phone with the same text: new.
    assert!(
        !ingest(s, &gateway(), p.says("more", None, now))
            .await
            .unwrap()
            .1
    );
    assert!(
        !ingest(s, &gateway(), Phone::new("+11").says("help", None, now))
            .await
            .unwrap()
            .1
    );
    // With the gateway's id, the id alone decides: the same id is a duplicate whatever the
    // text, the same text under a new id is new.
    let (k1, dup) = ingest(s, &gateway(), p.says("x", Some("k:7"), now))
        .await
        .unwrap();
    assert!(!dup);
    let (again, dup) = ingest(s, &gateway(), p.says("y", Some("k:7"), now))
        .await
        .unwrap();
    assert!(dup && again.id == k1.id);
    assert!(
        !ingest(s, &gateway(), p.says("x", Some("k:8"), now))
            .await
            .unwrap()
            .1
    );
    let src = s.source_by_phone(&p.hash()).await.unwrap().unwrap();
    assert_eq!(
        s.list_outbound(Some(src.id), 100).await.unwrap().len(),
        5,
        "one acknowledgement per new report, none for duplicates"
    );
}

async fn a_new_sender_becomes_a_monitor_with_a_sealed_contact_and_nothing_names_them(
    s: &dyn Store,
    _db: &Db,
) {
    let p = Phone::new("+23670000099");
    let entries = s.verify_audit().await.unwrap().unwrap();
    let m = p.says("ATTAQUE", Some("k:1"), time::now());
    let (r, _) = ingest(s, &gateway(), m.clone()).await.unwrap();
    let src = s.source_by_phone(&p.hash()).await.unwrap().unwrap();
    assert_eq!(src.id, m.new_source_id, "the id its contact was sealed for");
    assert_eq!(
        (
            src.kind.as_str(),
            src.reliability,
            src.tlp,
            src.has_contact,
            src.handle.as_str()
        ),
        (
            "monitor",
            Reliability::F,
            Tlp::AmberStrict,
            true,
            m.new_handle.as_str()
        )
    );
    let sealed = s.get_source_contact(src.id).await.unwrap().unwrap();
    let opened = SourceContact::open(&sealed, &p.key, src.id).unwrap();
    assert_eq!(opened.phone.as_deref(), Some("+23670000099"));
    assert_eq!(r.source.as_deref(), Some(src.handle.as_str()));
    // A duplicate is audited too; every entry names the message only.
    ingest(s, &gateway(), m.clone()).await.unwrap();
    let log = s.audit_entries(entries, 10).await.unwrap();
    assert_eq!(log.len(), 2);
    for e in &log {
        assert_eq!(
            (
                e.action.as_str(),
                e.record_type.as_str(),
                e.record_id.as_deref()
            ),
            (
                "sms.receive",
                "report",
                Some(m.report.id.to_string().as_str())
            )
        );
        assert_eq!(e.detail, r#"{"form_code":false}"#);
        assert!(!e.detail.contains(&src.handle) && !e.detail.contains("+236"));
    }
}

async fn concurrent_messages_from_one_new_phone_make_one_source(s: &dyn Store, db: &Db) {
    let p = Phone::new("+30");
    let now = time::now();
    let messages: Vec<InboundSms> = (0..12)
        .map(|n| p.says(&format!("message {n}"), Some(&format!("k:{n}")), now))
        .collect();
    let results = futures_join(db, messages).await;
    let handles: HashSet<_> = results
        .iter()
        .map(|(r, dup)| {
            assert!(!dup);
            r.source.clone().unwrap()
        })
        .collect();
    assert_eq!(handles.len(), 1, "one source for one phone: {handles:?}");
    assert_eq!(s.counts().await.unwrap().sources, 1);
    let src = s.source_by_phone(&p.hash()).await.unwrap().unwrap();
    assert_eq!(s.list_outbound(Some(src.id), 100).await.unwrap().len(), 12);

    // One message delivered eight times at once by a retrying gateway: stored once.
    let q = Phone::new("+31");
    let m = q.says("once", Some("k:once"), now);
    let results = futures_join(db, (0..8).map(|_| m.clone()).collect()).await;
    let ids: HashSet<_> = results.iter().map(|(r, _)| r.id).collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(results.iter().filter(|(_, dup)| !dup).count(), 1);
    let src = s.source_by_phone(&q.hash()).await.unwrap().unwrap();
    assert_eq!(s.list_outbound(Some(src.id), 100).await.unwrap().len(), 1);
    assert_eq!(s.counts().await.unwrap().sources, 2);
    assert_eq!(s.counts().await.unwrap().reports, 13);
}

/// Ingest every message at once, each on its own task.
async fn futures_join(db: &Db, messages: Vec<InboundSms>) -> Vec<(tocsin_domain::Report, bool)> {
    let tasks: Vec<_> = messages
        .into_iter()
        .map(|m| {
            let store = db.store.clone();
            tokio::spawn(async move { ingest(&*store, &gateway(), m).await })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap().unwrap());
    }
    out
}

async fn withdrawing_a_credential_ends_the_users_sessions(s: &dyn Store, db: &Db) {
    let frameworks = Frameworks::shipped();
    let app = App::new(&db.store, &frameworks);
    let sys = Actor::system("test");
    let admin = s
        .create_user(&sys, NewUser::build("root", Role::Admin, None).unwrap())
        .await
        .unwrap();
    let u = s
        .create_user(&sys, NewUser::build("eve", Role::Analyst, None).unwrap())
        .await
        .unwrap();
    let session = |who: Uuid, id: &str| {
        let now = time::now();
        tocsin_store::Op::CreateSession(WebSession {
            id_hash: id.into(),
            user_id: who,
            csrf_token: "csrf".into(),
            created_at: now,
            expires_at: now + Duration::hours(1),
        })
    };
    let gone = |r: tocsin_store::Result<WebSession>| matches!(r, Err(StoreError::NotFound));
    s.write(&u.actor(), session(u.id, "eve-1")).await.unwrap();
    s.write(&admin.actor(), session(admin.id, "root-1"))
        .await
        .unwrap();
    app.set_user_disabled(&admin, u.id, true).await.unwrap();
    assert!(gone(s.get_session("eve-1").await), "disabling ends them");
    assert!(s.get_session("root-1").await.is_ok(), "only theirs");
    app.set_user_disabled(&admin, u.id, false).await.unwrap();
    assert!(
        gone(s.get_session("eve-1").await),
        "enabling does not bring them back"
    );
    s.write(&u.actor(), session(u.id, "eve-2")).await.unwrap();
    app.set_user_disabled(&admin, u.id, false).await.unwrap();
    assert!(
        s.get_session("eve-2").await.is_ok(),
        "enabling ends nothing"
    );
    app.set_user_password(&admin, u.id, "a long new passphrase".into())
        .await
        .unwrap();
    assert!(
        gone(s.get_session("eve-2").await),
        "a new password ends them"
    );
    assert!(s.get_session("root-1").await.is_ok());
    let actions: Vec<String> = s
        .audit_entries(0, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .filter(|a| a.starts_with("user.") && a != "user.create")
        .collect();
    assert_eq!(
        actions,
        [
            "user.disable",
            "user.enable",
            "user.enable",
            "user.password"
        ]
    );
    assert_eq!(
        app.set_user_disabled(&admin, Uuid::now_v7(), true).await,
        Err(tocsin_app::AppError::NotFound)
    );
}
