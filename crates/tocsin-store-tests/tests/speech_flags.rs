//! Dangerous-speech flags on every backend: a flag lands in the same write as its report or not
//! at all (a missing report or lexicon undoes the whole write); one flag per report and
//! lexicon; lists filter by label, state, lexicon and category and page by time; a review is
//! guarded by the flag's version; flags are never deleted; the scanner token changes with
//! every lexicon import, enabling and disabling, and with nothing else.

use tocsin_domain::{
    time, Actor, AuditEvent, Channel, FlagReviewInput, FlagState, FlagTerm, NewReport, PageRequest,
    SpeechFlag, Tlp,
};
use tocsin_store::{
    Figures, FlagFilter, ItemWrite, LexiconEvaluation, LexiconRecord, Op, SpeechStep, Step, Store,
    StoreError,
};
use tocsin_store_tests::{story, Db};
use uuid::Uuid;

story!(
    flags_land_with_their_report,
    flags_are_listed_within_clearance_and_filters,
    reviews_are_guarded_and_flags_kept,
    the_token_moves_with_the_enabled_lexicons,
    confirmed_flags_say_when_and_where
);

fn sys() -> Actor {
    Actor::system("flag-test")
}

async fn write(s: &dyn Store, steps: Vec<Step>) -> tocsin_store::Result<()> {
    s.write(
        &sys(),
        Op::All {
            steps,
            audit: Box::new(AuditEvent::new(&sys(), "flag.test", "report", None)),
        },
    )
    .await
    .map(|_| ())
}

fn lexicon(name: &str, version: i64) -> LexiconRecord {
    LexiconRecord {
        name: name.into(),
        version,
        terms: 1,
        languages: vec!["sw".into()],
        provenance: None,
        licence: None,
        file_name: None,
        imported_by: "ana".into(),
        imported_at: time::now(),
        enabled: false,
        enabled_by: None,
        enabled_at: None,
    }
}

const CSV: &str = "term,language,country,category,severity\nmende,sw,KE,dehumanisation,2\n";

async fn put_lexicon(s: &dyn Store, name: &str) {
    write(
        s,
        vec![Step::Speech(SpeechStep::PutLexicon {
            lexicon: Box::new(lexicon(name, 1)),
            source: CSV.into(),
        })],
    )
    .await
    .unwrap();
}

fn report(text: &str, tlp: Tlp) -> NewReport {
    NewReport {
        id: tocsin_domain::random_id(),
        channel: Channel::Sms,
        provider_key: None,
        source_id: None,
        text: text.into(),
        tlp,
        latitude: None,
        longitude: None,
        country: None,
        occurred_at: None,
        received_at: time::now(),
        meta: Default::default(),
    }
}

fn term(t: &str, category: &str, start: usize) -> FlagTerm {
    FlagTerm {
        term: t.into(),
        language: "sw".into(),
        category: category.into(),
        severity: 2,
        start,
        end: start + t.len(),
        char_start: start,
        char_end: start + t.chars().count(),
    }
}

fn flag(report: &NewReport, lexicon: &str, terms: Vec<FlagTerm>) -> SpeechFlag {
    SpeechFlag {
        id: tocsin_domain::random_id(),
        report_id: Some(report.id),
        item_id: None,
        tlp: report.tlp,
        lexicon: lexicon.into(),
        lexicon_version: 1,
        terms,
        created_at: time::now(),
        state: FlagState::Open,
        review: None,
        version: 1,
    }
}

fn with_flags(r: &NewReport, flags: &[SpeechFlag]) -> Vec<Step> {
    let mut steps = vec![Step::CreateReport {
        report: Box::new(r.clone()),
        unless_text_since: None,
    }];
    steps.extend(
        flags
            .iter()
            .map(|f| Step::Speech(SpeechStep::CreateFlag(Box::new(f.clone())))),
    );
    steps
}

async fn flags_land_with_their_report(s: &dyn Store, _db: &Db) {
    put_lexicon(s, "kenya").await;
    let r = report("wao ni madoadoa na mende", Tlp::AmberStrict);
    let f = flag(&r, "kenya", vec![term("mende", "dehumanisation", 19)]);
    write(s, with_flags(&r, std::slice::from_ref(&f)))
        .await
        .unwrap();
    assert_eq!(s.get_flag(f.id).await.unwrap(), f);
    assert_eq!(s.get_report(r.id).await.unwrap().text, r.text);
    assert_eq!(s.flags_of_reports(&[r.id]).await.unwrap(), vec![f.clone()]);
    assert!(s.flags_of_reports(&[]).await.unwrap().is_empty());

    // A second flag of the same lexicon on the same report is refused.
    let again = flag(&r, "kenya", vec![term("mende", "dehumanisation", 19)]);
    let e = write(
        s,
        vec![Step::Speech(SpeechStep::CreateFlag(Box::new(
            again.clone(),
        )))],
    )
    .await;
    assert!(matches!(e, Err(StoreError::Conflict(_))), "{e:?}");
    assert!(matches!(
        s.get_flag(again.id).await,
        Err(StoreError::NotFound)
    ));

    // A flag of a lexicon never stored undoes the whole write: no report either.
    let r2 = report("mende tena", Tlp::Amber);
    let bad = flag(&r2, "nowhere", vec![term("mende", "dehumanisation", 0)]);
    let e = write(s, with_flags(&r2, std::slice::from_ref(&bad))).await;
    assert!(matches!(e, Err(StoreError::NotFound)), "{e:?}");
    assert!(matches!(
        s.get_report(r2.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.get_flag(bad.id).await,
        Err(StoreError::NotFound)
    ));

    // A flag of a report never stored is refused.
    let ghost = report("never stored", Tlp::Amber);
    let e = write(
        s,
        vec![Step::Speech(SpeechStep::CreateFlag(Box::new(flag(
            &ghost,
            "kenya",
            vec![term("mende", "dehumanisation", 0)],
        ))))],
    )
    .await;
    assert!(matches!(e, Err(StoreError::NotFound)), "{e:?}");

    // A report write that fails (the same provider key again) takes its flags with it.
    let mut k1 = report("mende mende", Tlp::Amber);
    k1.provider_key = Some("k:1".into());
    write(s, with_flags(&k1, &[])).await.unwrap();
    let mut k2 = report("mende mende", Tlp::Amber);
    k2.provider_key = Some("k:1".into());
    let f2 = flag(&k2, "kenya", vec![term("mende", "dehumanisation", 0)]);
    let e = write(s, with_flags(&k2, std::slice::from_ref(&f2))).await;
    assert!(matches!(e, Err(StoreError::Conflict(_))), "{e:?}");
    assert!(matches!(s.get_flag(f2.id).await, Err(StoreError::NotFound)));
}

async fn flags_are_listed_within_clearance_and_filters(s: &dyn Store, _db: &Db) {
    put_lexicon(s, "kenya").await;
    put_lexicon(s, "sudan").await;
    let mut ids = Vec::new();
    for (i, (tlp, lex, cat)) in [
        (Tlp::Green, "kenya", "dehumanisation"),
        (Tlp::Amber, "kenya", "threat"),
        (Tlp::AmberStrict, "sudan", "coded term"),
        (Tlp::Red, "kenya", "threat"),
        (Tlp::Green, "sudan", "slur"),
    ]
    .into_iter()
    .enumerate()
    {
        let r = report(&format!("text {i}"), tlp);
        let mut f = flag(&r, lex, vec![term("x", cat, 0)]);
        if i == 1 {
            f.terms.push(term("y", "incitement", 2));
        }
        write(s, with_flags(&r, std::slice::from_ref(&f)))
            .await
            .unwrap();
        ids.push(f.id);
    }
    let all = |f: FlagFilter| async move {
        s.list_flags(&f, PageRequest::first(100))
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|x| x.id)
            .collect::<Vec<Uuid>>()
    };
    // Newest first, never above the label asked.
    assert_eq!(
        all(FlagFilter::up_to(Tlp::Red)).await,
        ids.iter().rev().copied().collect::<Vec<_>>()
    );
    assert_eq!(
        all(FlagFilter::up_to(Tlp::Amber)).await,
        [ids[4], ids[1], ids[0]]
    );
    let mut f = FlagFilter::up_to(Tlp::Red);
    f.lexicon = Some("sudan".into());
    assert_eq!(all(f).await, [ids[4], ids[2]]);
    let mut f = FlagFilter::up_to(Tlp::Red);
    f.category = Some("threat".into());
    assert_eq!(all(f.clone()).await, [ids[3], ids[1]]);
    f.max_tlp = Tlp::AmberStrict;
    assert_eq!(all(f).await, [ids[1]]);
    let mut f = FlagFilter::up_to(Tlp::Red);
    f.category = Some("coded term".into());
    assert_eq!(all(f.clone()).await, [ids[2]]);
    f.category = Some("incitement".into());
    assert_eq!(all(f).await, [ids[1]]);
    let mut f = FlagFilter::up_to(Tlp::Red);
    f.state = Some(FlagState::Confirmed);
    assert!(all(f).await.is_empty());

    // Pages of two, by time then id, the cursor carrying on.
    let mut seen = Vec::new();
    let mut page = PageRequest::first(2);
    loop {
        let p = s
            .list_flags(&FlagFilter::up_to(Tlp::Red), page)
            .await
            .unwrap();
        seen.extend(p.items.iter().map(|x| x.id));
        match p.next_cursor {
            Some(c) => page.after = Some(tocsin_domain::Cursor::decode(&c).unwrap()),
            None => break,
        }
    }
    assert_eq!(seen, ids.iter().rev().copied().collect::<Vec<_>>());
}

async fn reviews_are_guarded_and_flags_kept(s: &dyn Store, db: &Db) {
    put_lexicon(s, "kenya").await;
    let r = report("mende", Tlp::Amber);
    let f = flag(&r, "kenya", vec![term("mende", "dehumanisation", 0)]);
    write(s, with_flags(&r, std::slice::from_ref(&f)))
        .await
        .unwrap();
    let review = FlagReviewInput {
        decision: "confirm".into(),
        context: Some("after the market attack".into()),
        hallmarks: vec!["dehumanisation".into()],
        ..Default::default()
    }
    .parse("ana", time::now())
    .unwrap();
    let reviewed = f.reviewed(review.clone());
    write(
        s,
        vec![Step::Speech(SpeechStep::ReviewFlag(Box::new(
            reviewed.clone(),
        )))],
    )
    .await
    .unwrap();
    assert_eq!(s.get_flag(f.id).await.unwrap(), reviewed);
    let mut confirmed = FlagFilter::up_to(Tlp::Red);
    confirmed.state = Some(FlagState::Confirmed);
    assert_eq!(
        s.list_flags(&confirmed, PageRequest::first(10))
            .await
            .unwrap()
            .items,
        vec![reviewed.clone()]
    );
    // A second review made from the same read is refused; the first stands.
    let e = write(
        s,
        vec![Step::Speech(SpeechStep::ReviewFlag(Box::new(
            f.reviewed(review.clone()),
        )))],
    )
    .await;
    assert!(matches!(e, Err(StoreError::Conflict(_))), "{e:?}");
    // A review of no flag.
    let mut ghost = reviewed.reviewed(review);
    ghost.id = tocsin_domain::random_id();
    let e = write(
        s,
        vec![Step::Speech(SpeechStep::ReviewFlag(Box::new(ghost)))],
    )
    .await;
    assert!(matches!(e, Err(StoreError::NotFound)), "{e:?}");
    // Never deleted.
    let mut raw = db.raw().await;
    let e = raw.exec("DELETE FROM speech_flags").await.unwrap_err();
    assert!(e.contains("never deleted"), "{e}");
    assert_eq!(s.get_flag(f.id).await.unwrap().version, 2);
}

async fn the_token_moves_with_the_enabled_lexicons(s: &dyn Store, _db: &Db) {
    let t0 = s.speech_token().await.unwrap();
    assert!(!t0.is_empty());
    put_lexicon(s, "kenya").await;
    let t1 = s.speech_token().await.unwrap();
    assert_ne!(t0, t1);
    let ev = LexiconEvaluation {
        id: tocsin_domain::random_id(),
        lexicon: "kenya".into(),
        lexicon_version: 1,
        sample: "s.csv".into(),
        by: "ana".into(),
        at: time::now(),
        overall: Figures::default(),
        by_language: Default::default(),
    };
    write(
        s,
        vec![Step::Speech(SpeechStep::RecordEvaluation(Box::new(ev)))],
    )
    .await
    .unwrap();
    assert_eq!(s.speech_token().await.unwrap(), t1);
    let mut on = lexicon("kenya", 1);
    on.enabled = true;
    write(
        s,
        vec![Step::Speech(SpeechStep::SetEnabled(Box::new(on.clone())))],
    )
    .await
    .unwrap();
    let t2 = s.speech_token().await.unwrap();
    assert_ne!(t2, t1);
    // A refused change leaves it.
    let mut stale = lexicon("kenya", 7);
    stale.enabled = true;
    assert!(write(
        s,
        vec![Step::Speech(SpeechStep::SetEnabled(Box::new(stale)))]
    )
    .await
    .is_err());
    assert_eq!(s.speech_token().await.unwrap(), t2);
    // A report and its flag leave it too.
    let r = report("mende", Tlp::Amber);
    let f = flag(&r, "kenya", vec![term("mende", "dehumanisation", 0)]);
    write(s, with_flags(&r, &[f])).await.unwrap();
    assert_eq!(s.speech_token().await.unwrap(), t2);
    on.enabled = false;
    write(s, vec![Step::Speech(SpeechStep::SetEnabled(Box::new(on)))])
        .await
        .unwrap();
    assert_ne!(s.speech_token().await.unwrap(), t2);
}

fn confirm(f: &SpeechFlag) -> Vec<Step> {
    let review = FlagReviewInput {
        decision: "confirm".into(),
        ..Default::default()
    }
    .parse("ana", time::now())
    .unwrap();
    vec![Step::Speech(SpeechStep::ReviewFlag(Box::new(
        f.reviewed(review),
    )))]
}

/// Speech trends and evidence suggestions read the confirmed flags with when and where their
/// words were said: a report's time of the events, country and position; a post's time of
/// publication and country. Open flags and flags above the reader's label are left out.
async fn confirmed_flags_say_when_and_where(s: &dyn Store, _db: &Db) {
    put_lexicon(s, "kenya").await;
    let said = time::parse("2026-03-02T08:00:00Z").unwrap();
    let mut r = report("mende", Tlp::Amber);
    r.country = Some(tocsin_domain::Country::parse("KEN").unwrap());
    (r.latitude, r.longitude) = (Some(-0.1), Some(34.75));
    r.occurred_at = Some(said);
    let f = flag(&r, "kenya", vec![term("mende", "dehumanisation", 0)]);
    write(s, with_flags(&r, std::slice::from_ref(&f)))
        .await
        .unwrap();
    // Received, not dated: its time of receipt.
    let r2 = report("mende tena", Tlp::Green);
    let f2 = flag(&r2, "kenya", vec![term("mende", "dehumanisation", 0)]);
    write(s, with_flags(&r2, std::slice::from_ref(&f2)))
        .await
        .unwrap();
    let open = report("mende wote", Tlp::Green);
    let fo = flag(&open, "kenya", vec![term("mende", "dehumanisation", 0)]);
    write(s, with_flags(&open, &[fo])).await.unwrap();
    let red = report("mende kila mahali", Tlp::Red);
    let fr = flag(&red, "kenya", vec![term("mende", "dehumanisation", 0)]);
    write(s, with_flags(&red, std::slice::from_ref(&fr)))
        .await
        .unwrap();
    let post = tocsin_domain::MonitoredItem {
        id: tocsin_domain::random_id(),
        origin: "news".into(),
        kind: tocsin_domain::ItemKind::Feed,
        key: tocsin_domain::monitor::item_key("p1"),
        url: None,
        title: None,
        author: None,
        text: "mende".into(),
        language: Some("sw".into()),
        country: Some(tocsin_domain::Country::parse("KEN").unwrap()),
        published_at: Some(said - chrono::Duration::days(3)),
        fetched_at: time::now(),
        tlp: Tlp::Clear,
    };
    let mut fp = flag(&r, "kenya", vec![term("mende", "dehumanisation", 0)]);
    (fp.id, fp.report_id, fp.item_id, fp.tlp) =
        (tocsin_domain::random_id(), None, Some(post.id), Tlp::Clear);
    s.write(
        &sys(),
        Op::StoreItems {
            items: vec![ItemWrite {
                item: post,
                flags: vec![fp.clone()],
            }],
            feed: None,
        },
    )
    .await
    .unwrap();
    for f in [&f, &f2, &fr, &fp] {
        write(s, confirm(f)).await.unwrap();
    }
    let since = time::now() - chrono::Duration::hours(1);
    let got = s.confirmed_flags(since, Tlp::Amber).await.unwrap();
    let ids: Vec<_> = got.iter().map(|p| p.flag.id).collect();
    assert_eq!(ids.len(), 3, "{got:?}");
    for want in [f.id, f2.id, fp.id] {
        assert!(ids.contains(&want), "{want} missing from {got:?}");
    }
    let by = |id| got.iter().find(|p| p.flag.id == id).unwrap();
    let a = by(f.id);
    assert_eq!(a.said_at, said);
    assert_eq!(a.country.as_ref().map(|c| c.code()), Some("KEN"));
    assert_eq!(a.position, Some((-0.1, 34.75)));
    assert_eq!(a.flag.state, FlagState::Confirmed);
    let b = by(f2.id);
    assert_eq!(b.said_at, r2.received_at);
    assert_eq!((b.country.clone(), b.position), (None, None));
    let p = by(fp.id);
    assert_eq!(p.said_at, said - chrono::Duration::days(3));
    assert_eq!(p.country.as_ref().map(|c| c.code()), Some("KEN"));
    assert_eq!(p.position, None);
    // The RED one only to a RED reader; nothing created before `since`.
    assert_eq!(s.confirmed_flags(since, Tlp::Red).await.unwrap().len(), 4);
    let later = time::now() + chrono::Duration::hours(1);
    assert!(s.confirmed_flags(later, Tlp::Red).await.unwrap().is_empty());
}
