//! Dangerous-speech flags through the use cases, on a real store (SQLite, and PostgreSQL when
//! configured): an SMS, a web-form report and a report made by staff that hold an enabled
//! lexicon's term are stored with their flag in the same write (one audit entry, nothing
//! else), and with none once the lexicon is disabled; Arabic and Swahili words with attached
//! particles, noun-class prefixes, diacritics and elongation are found at their offsets in the
//! original text; a reader below the report's label sees no flag; reviews are checked, stored
//! and audited, and a refused one writes nothing.

use tocsin_app::flags::{highlight, FlagQuery};
use tocsin_app::speech::LexiconImport;
use tocsin_app::{Acting, App, AppError};
use tocsin_domain::{
    time, Ack, Actor, AuditEntry, Channel, ContactKey, FlagReviewInput, FlagState, Hallmark,
    InboundSms, NewReport, NewUser, PageRequest, ReportInput, Role, SourceContact, SpeechFlag, Tlp,
    User,
};
use tocsin_framework::Frameworks;
use tocsin_store::{DynStore, Store, StoreExt};
use tocsin_store_tests::Db;
use uuid::Uuid;

const LEXICON: &str = include_str!("../../tocsin-speech/data/lexicon-illustrative.csv");
const SAMPLE: &str = include_str!("../../tocsin-speech/data/sample-labelled.csv");

async fn user(store: &DynStore, name: &str, role: Role, clearance: Option<Tlp>) -> User {
    let mut u = NewUser::build(name, role, None).unwrap();
    if let Some(c) = clearance {
        u.clearance = c;
    }
    store.create_user(&Actor::system("test"), u).await.unwrap()
}

fn sms(text: &str) -> InboundSms {
    let key = ContactKey::generate();
    let new_source_id = tocsin_domain::random_id();
    let number = format!("+2547{}", &new_source_id.simple().to_string()[..8]);
    InboundSms {
        phone_hash: format!("hash-{number}"),
        new_source_id,
        sealed_contact: SourceContact {
            phone: Some(number),
            ..Default::default()
        }
        .seal(&key, new_source_id),
        new_handle: format!("M-{}", &new_source_id.simple().to_string()[..8]),
        report: report(text, Channel::Sms),
        dedupe_window_secs: 600,
        ack: Some(Ack {
            gateway: "kannel".into(),
            text: "Asante.".into(),
            sender: Some("1234".into()),
            not_sent: None,
        }),
        claim: None,
        count_as: None,
    }
}

fn report(text: &str, channel: Channel) -> NewReport {
    NewReport {
        id: tocsin_domain::random_id(),
        channel,
        provider_key: None,
        source_id: None,
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

async fn audit_since(s: &dyn Store, after: i64) -> Vec<AuditEntry> {
    s.audit_entries(after, 10_000).await.unwrap()
}

async fn last_seq(s: &dyn Store) -> i64 {
    audit_since(s, 0).await.last().map_or(0, |e| e.seq)
}

async fn flags_of(s: &dyn Store, report: Uuid) -> Vec<SpeechFlag> {
    s.flags_of_reports(&[report]).await.unwrap()
}

/// The original substring each term of a flag points at, by bytes and by characters (the
/// two must agree).
fn found(text: &str, f: &SpeechFlag) -> Vec<String> {
    f.terms
        .iter()
        .map(|t| {
            let by_bytes = &text[t.start..t.end];
            let by_chars: String = text
                .chars()
                .skip(t.char_start)
                .take(t.char_end - t.char_start)
                .collect();
            assert_eq!(by_bytes, by_chars, "{t:?}");
            by_bytes.to_string()
        })
        .collect()
}

#[tokio::test]
async fn flags_on_sqlite() {
    story(Db::sqlite().await.store).await;
}

#[tokio::test]
async fn flags_on_postgres() {
    if let Some(db) = Db::postgres().await {
        story(db.store.clone()).await;
    }
}

async fn story(store: DynStore) {
    let frameworks = Frameworks::shipped();
    let app = App::new(&store, &frameworks);
    let s: &dyn Store = &*store;
    let ana = user(&store, "ana", Role::Analyst, None).await;
    let desk = user(&store, "desk", Role::DeskOfficer, None).await; // AMBER
    let coord = user(&store, "coord", Role::MonitorCoordinator, None).await; // AMBER+STRICT
    let gateway = Actor::system("sms-kannel");
    let form = Actor::system("web-form");

    // No lexicon enabled: nothing is flagged.
    let (r0, _) = tocsin_app::sms::ingest(s, &gateway, sms("Hawa mende lazima waondoke."))
        .await
        .unwrap();
    assert!(flags_of(s, r0.id).await.is_empty());

    app.import_lexicon(
        Acting::User(&ana),
        LexiconImport {
            name: "east-africa".into(),
            ..Default::default()
        },
        LEXICON.as_bytes(),
    )
    .await
    .unwrap();
    app.evaluate_lexicon(
        Acting::User(&ana),
        "east-africa",
        "sample",
        SAMPLE.as_bytes(),
    )
    .await
    .unwrap();
    // Imported and measured, not yet enabled: still nothing.
    let (r1, _) = tocsin_app::sms::ingest(s, &gateway, sms("Hawa mende lazima waondoke."))
        .await
        .unwrap();
    assert!(flags_of(s, r1.id).await.is_empty());
    app.set_lexicon_enabled(Acting::User(&ana), "east-africa", true)
        .await
        .unwrap();

    // An SMS: its report and its flag in one write, with the one `sms.receive` entry.
    let before = last_seq(s).await;
    let text = "Tuwaondoe madoadoa wote kutoka kijiji hiki! Hawa mende lazima waondoke.";
    let (r, dup) = tocsin_app::sms::ingest(s, &gateway, sms(text))
        .await
        .unwrap();
    assert!(!dup);
    let entries = audit_since(s, before).await;
    assert_eq!(
        entries
            .iter()
            .map(|e| e.action.as_str())
            .collect::<Vec<_>>(),
        ["sms.receive"]
    );
    let flags = flags_of(s, r.id).await;
    assert_eq!(flags.len(), 1, "{flags:?}");
    let f = &flags[0];
    assert_eq!(
        (
            f.report_id,
            f.tlp,
            f.state,
            f.lexicon.as_str(),
            f.lexicon_version
        ),
        (
            Some(r.id),
            Tlp::AmberStrict,
            FlagState::Open,
            "east-africa",
            1
        )
    );
    // The Swahili noun-class prefix belongs to the word found.
    assert_eq!(found(text, f), ["madoadoa", "mende"]);
    assert_eq!(
        f.terms
            .iter()
            .map(|t| t.category.as_str())
            .collect::<Vec<_>>(),
        ["coded term", "dehumanisation"]
    );
    // Nothing of the text or the sender beyond the offsets: the stored flag names no word of
    // the text but the lexicon's own terms, and no handle.
    let json = serde_json::to_string(f).unwrap();
    for absent in ["Tuwaondoe", "kijiji", "waondoke", "hash-", "M-"] {
        assert!(!json.contains(absent), "{absent} in {json}");
    }

    // The gateway's retry is a duplicate: no second flag.
    let mut again = sms("Hawa mende!");
    again.report.provider_key = Some("k:77".into());
    let (first, _) = tocsin_app::sms::ingest(s, &gateway, again.clone())
        .await
        .unwrap();
    again.report.id = tocsin_domain::random_id();
    let (second, dup) = tocsin_app::sms::ingest(s, &gateway, again).await.unwrap();
    assert!(dup);
    assert_eq!(second.id, first.id);
    assert_eq!(flags_of(s, first.id).await.len(), 1);

    // Arabic: an attached particle with diacritics, and elongation, found in the original
    // script at their offsets.
    let ar = "يا شباب فَاقْتُلُوهُمْ حيث وجدتموهم، اقتــــلوهم قبل أن يهربوا";
    let web = report(ar, Channel::Web);
    let web_id = web.id;
    let before = last_seq(s).await;
    tocsin_app::sms::submit_form_report(s, &form, web, None)
        .await
        .unwrap();
    let entries = audit_since(s, before).await;
    assert_eq!(
        entries
            .iter()
            .map(|e| e.action.as_str())
            .collect::<Vec<_>>(),
        ["report.create"]
    );
    let flags = flags_of(s, web_id).await;
    assert_eq!(flags.len(), 1);
    assert_eq!(found(ar, &flags[0]), ["فَاقْتُلُوهُمْ", "اقتــــلوهم"]);
    let marked: Vec<&str> = highlight(ar, flags[0].terms.iter().map(|t| (t.start, t.end)))
        .into_iter()
        .filter(|p| p.mark)
        .map(|p| p.text)
        .collect();
    assert_eq!(marked, ["فَاقْتُلُوهُمْ", "اقتــــلوهم"]);

    // A report made by staff through the use case.
    let staff = app
        .create_report(
            &ana,
            ReportInput {
                text: "هؤلاء الحشرات يجب أن يُطردوا".into(),
                tlp: Some(Tlp::Amber),
                latitude: None,
                longitude: None,
                occurred_at: None,
                country: None,
                source: None,
            },
            Channel::Api,
        )
        .await
        .unwrap();
    let flags = flags_of(s, staff.id).await;
    assert_eq!(flags.len(), 1);
    assert_eq!(flags[0].tlp, Tlp::Amber);
    assert_eq!(found(&staff.text, &flags[0]), ["الحشرات"]);

    // Who sees which flags: the desk officer (AMBER) sees the staff report's, not the
    // AMBER+STRICT ones; the monitor coordinator sees them all; a viewer may not read reports.
    let ids =
        |p: tocsin_domain::Page<SpeechFlag>| p.items.into_iter().map(|f| f.id).collect::<Vec<_>>();
    let all = ids(app
        .list_flags(&coord, FlagQuery::default(), PageRequest::first(50))
        .await
        .unwrap());
    assert_eq!(all.len(), 4);
    let desk_sees = ids(app
        .list_flags(&desk, FlagQuery::default(), PageRequest::first(50))
        .await
        .unwrap());
    assert_eq!(desk_sees, [flags[0].id]);
    let sms_flag = flags_of(s, r.id).await.remove(0);
    assert!(matches!(
        app.get_flag(&desk, sms_flag.id).await,
        Err(AppError::NotFound)
    ));
    assert!(app
        .flags_of_reports(&desk, &[r.id])
        .await
        .unwrap()
        .is_empty());
    let viewer = user(&store, "viewer", Role::Viewer, Some(Tlp::Red)).await;
    assert!(matches!(
        app.list_flags(&viewer, FlagQuery::default(), PageRequest::first(5))
            .await,
        Err(AppError::Forbidden { .. })
    ));
    // Filters: a category, a state; an unknown category names its field.
    let coded = ids(app
        .list_flags(
            &coord,
            FlagQuery {
                category: Some("coded_term".into()),
                ..Default::default()
            },
            PageRequest::first(50),
        )
        .await
        .unwrap());
    assert_eq!(coded, [sms_flag.id]);
    let e = app
        .list_flags(
            &coord,
            FlagQuery {
                category: Some("rudeness".into()),
                ..Default::default()
            },
            PageRequest::first(5),
        )
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("category"));
    // Reading a restricted flag is audited.
    let before = last_seq(s).await;
    app.get_flag(&coord, sms_flag.id).await.unwrap();
    let e = audit_since(s, before).await;
    assert_eq!(e.len(), 1);
    assert_eq!(
        (e[0].action.as_str(), e[0].record_id.clone()),
        ("record.read", Some(sms_flag.id.to_string()))
    );

    // Reviews: analysts only; bad bodies refused with nothing written.
    let confirm = FlagReviewInput {
        decision: "confirm".into(),
        message: Some("likens a community to vermin".into()),
        context: Some("three days before the vote".into()),
        hallmarks: vec!["dehumanisation".into(), "threat_to_group_purity".into()],
        ..Default::default()
    };
    let e = app
        .review_flag(&coord, sms_flag.id, confirm.clone())
        .await
        .unwrap_err();
    assert!(matches!(e, AppError::Forbidden { .. }), "{e:?}");
    let before = last_seq(s).await;
    for (bad, field) in [
        (
            FlagReviewInput {
                decision: "maybe".into(),
                ..confirm.clone()
            },
            "decision",
        ),
        (
            FlagReviewInput {
                hallmarks: vec!["rudeness".into()],
                ..confirm.clone()
            },
            "hallmarks",
        ),
        (
            FlagReviewInput {
                decision: "confirm".into(),
                ..Default::default()
            },
            "message",
        ),
        (
            FlagReviewInput {
                speaker: Some("x".repeat(2001)),
                ..confirm.clone()
            },
            "speaker",
        ),
    ] {
        let e = app.review_flag(&ana, sms_flag.id, bad).await.unwrap_err();
        assert_eq!(e.field(), Some(field), "{e:?}");
    }
    assert_eq!(
        last_seq(s).await,
        before,
        "a refused review wrote something"
    );
    assert_eq!(
        s.get_flag(sms_flag.id).await.unwrap().state,
        FlagState::Open
    );

    let reviewed = app
        .review_flag(&ana, sms_flag.id, confirm.clone())
        .await
        .unwrap();
    assert_eq!(reviewed.state, FlagState::Confirmed);
    let stored = s.get_flag(sms_flag.id).await.unwrap();
    assert_eq!(stored, reviewed);
    let rv = stored.review.unwrap();
    assert_eq!(
        rv.hallmarks,
        [Hallmark::Dehumanisation, Hallmark::ThreatToGroupPurity]
    );
    assert_eq!(rv.by, "ana");
    let e = audit_since(s, before).await;
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].action, "speech_flag.review");
    assert_eq!(e[0].record_id, Some(sms_flag.id.to_string()));
    assert!(
        e[0].detail.contains("\"decision\":\"confirmed\""),
        "{}",
        e[0].detail
    );
    // The audit names the elements written, never their text.
    assert!(!e[0].detail.contains("vermin"), "{}", e[0].detail);
    // A review from a stale read is refused; dismissing with the current version works.
    let stale = FlagReviewInput {
        decision: "dismiss".into(),
        expected_version: Some(1),
        ..Default::default()
    };
    assert!(matches!(
        app.review_flag(&ana, sms_flag.id, stale).await,
        Err(AppError::Conflict(_))
    ));
    let dismissed = app
        .review_flag(
            &ana,
            sms_flag.id,
            FlagReviewInput {
                decision: "dismiss".into(),
                context: Some("a quotation in a news report".into()),
                expected_version: Some(2),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (dismissed.state, dismissed.version),
        (FlagState::Dismissed, 3)
    );
    let dismissed_only = ids(app
        .list_flags(
            &coord,
            FlagQuery {
                state: Some("dismissed".into()),
                ..Default::default()
            },
            PageRequest::first(50),
        )
        .await
        .unwrap());
    assert_eq!(dismissed_only, [sms_flag.id]);

    // Disabled: the process's scanner is built again, and new reports are not flagged.
    app.set_lexicon_enabled(Acting::User(&ana), "east-africa", false)
        .await
        .unwrap();
    let (r3, _) = tocsin_app::sms::ingest(s, &gateway, sms("Hawa mende lazima waondoke."))
        .await
        .unwrap();
    assert!(flags_of(s, r3.id).await.is_empty());
    let web = report("Hawa mende lazima waondoke.", Channel::Web);
    let web_id = web.id;
    tocsin_app::sms::submit_form_report(s, &form, web, None)
        .await
        .unwrap();
    assert!(flags_of(s, web_id).await.is_empty());
    // Enabled again: flagged again.
    app.set_lexicon_enabled(Acting::User(&ana), "east-africa", true)
        .await
        .unwrap();
    let (r4, _) = tocsin_app::sms::ingest(s, &gateway, sms("Hawa mende lazima waondoke."))
        .await
        .unwrap();
    assert_eq!(flags_of(s, r4.id).await.len(), 1);
}
