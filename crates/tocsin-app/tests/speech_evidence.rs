//! Confirmed dangerous speech as input to the risk picture, on SQLite and PostgreSQL: a rise
//! in confirmed flags in an area is an escalation signal of its own (`speech`), computed per
//! clearance level so a reader below the flags' label sees none; and confirmed flags said in
//! a situation's area are offered as evidence for the UN framework's speech indicators (7.14
//! and, for incitement and threats, 8.7), never open or dismissed ones, never ones above the
//! assessment's label, and accepted ones are cited by id.

use chrono::Duration;
use tocsin_app::App;
use tocsin_domain::{
    time, Actor, AuditEvent, Channel, Country, EvidenceKind, FlagReviewInput, FlagState, FlagTerm,
    NewAssessment, NewReport, NewSituation, NewUser, Role, SpeechFlag, Tlp, User,
};
use tocsin_framework::Frameworks;
use tocsin_signals::DetectorConfig;
use tocsin_store::{DynStore, LexiconRecord, Op, SpeechStep, Step, StoreExt};
use tocsin_store_tests::Db;

async fn user(store: &DynStore, name: &str, role: Role, clearance: Tlp) -> User {
    let mut u = NewUser::build(name, role, None).unwrap();
    u.clearance = clearance;
    store.create_user(&Actor::system("test"), u).await.unwrap()
}

async fn write(store: &DynStore, steps: Vec<Step>) {
    let sys = Actor::system("test");
    store
        .write(
            &sys,
            Op::All {
                steps,
                audit: Box::new(AuditEvent::new(&sys, "test.setup", "report", None)),
            },
        )
        .await
        .unwrap();
}

async fn lexicon(store: &DynStore) {
    let l = LexiconRecord {
        name: "kenya".into(),
        version: 1,
        terms: 2,
        languages: vec!["sw".into()],
        provenance: None,
        licence: None,
        file_name: None,
        imported_by: "ana".into(),
        imported_at: time::now(),
        enabled: false,
        enabled_by: None,
        enabled_at: None,
    };
    let csv = "term,language,country,category,severity\n\
               mende,sw,KE,dehumanisation,2\nwaondoke,sw,KE,incitement,3\n";
    write(
        store,
        vec![Step::Speech(SpeechStep::PutLexicon {
            lexicon: Box::new(l),
            source: csv.into(),
        })],
    )
    .await;
}

/// A report from Nairobi said `days_ago`, labelled `tlp`, with a flag of `term` (category
/// `category`); the flag's id.
async fn flagged_report(
    store: &DynStore,
    days_ago: u64,
    tlp: Tlp,
    term: &str,
    category: &str,
) -> SpeechFlag {
    let said = time::now() - Duration::days(days_ago as i64);
    let r = NewReport {
        id: tocsin_domain::random_id(),
        channel: Channel::Sms,
        provider_key: None,
        source_id: None,
        text: format!("wale {term} lazima"),
        tlp,
        latitude: Some(-1.2864),
        longitude: Some(36.8172),
        country: Some(Country::parse("KEN").unwrap()),
        occurred_at: Some(said),
        received_at: said,
        meta: Default::default(),
    };
    let f = SpeechFlag {
        id: tocsin_domain::random_id(),
        report_id: Some(r.id),
        item_id: None,
        tlp,
        lexicon: "kenya".into(),
        lexicon_version: 1,
        terms: vec![FlagTerm {
            term: term.into(),
            language: "sw".into(),
            category: category.into(),
            severity: 2,
            start: 5,
            end: 5 + term.len(),
            char_start: 5,
            char_end: 5 + term.len(),
        }],
        created_at: time::now(),
        state: FlagState::Open,
        review: None,
        version: 1,
    };
    write(
        store,
        vec![
            Step::CreateReport {
                report: Box::new(r),
                unless_text_since: None,
            },
            Step::Speech(SpeechStep::CreateFlag(Box::new(f.clone()))),
        ],
    )
    .await;
    f
}

fn confirm() -> FlagReviewInput {
    FlagReviewInput {
        decision: "confirm".into(),
        context: Some("said at a rally before the vote".into()),
        hallmarks: vec!["dehumanisation".into()],
        ..Default::default()
    }
}

#[tokio::test]
async fn confirmed_speech_feeds_signals_and_evidence_on_sqlite() {
    story(Db::sqlite().await.store).await;
}

#[tokio::test]
async fn confirmed_speech_feeds_signals_and_evidence_on_postgres() {
    if let Some(db) = Db::postgres().await {
        story(db.store.clone()).await;
    }
}

async fn story(store: DynStore) {
    let frameworks = Frameworks::shipped();
    let app = App::new(&store, &frameworks);
    let ana = user(&store, "ana", Role::Analyst, Tlp::Red).await;
    let green = user(&store, "gina", Role::Analyst, Tlp::Green).await;
    lexicon(&store).await;

    // A quiet year: one confirmed flag every four weeks; then, this week, eight confirmed
    // flags (three of them incitement) and two left open, all TLP:AMBER.
    for w in (5..=52u64).step_by(4) {
        let f = flagged_report(&store, 7 * w, Tlp::Amber, "mende", "dehumanisation").await;
        app.review_flag(&ana, f.id, confirm()).await.unwrap();
    }
    let mut recent = vec![];
    for n in 0..8 {
        let (term, cat) = if n < 3 {
            ("waondoke", "incitement")
        } else {
            ("mende", "dehumanisation")
        };
        let f = flagged_report(&store, 0, Tlp::Amber, term, cat).await;
        recent.push(app.review_flag(&ana, f.id, confirm()).await.unwrap());
    }
    let mut open = vec![];
    for _ in 0..2 {
        open.push(flagged_report(&store, 0, Tlp::Amber, "mende", "dehumanisation").await);
    }

    // Signals: a speech signal in Kenya and in Nairobi this week, from the eight confirmed
    // flags only; none for a reader cleared to GREEN.
    let today = time::now().date_naive();
    let (found, new) =
        tocsin_app::signals::run_signals(&store, &DetectorConfig::default(), today, 1)
            .await
            .unwrap();
    assert!(new > 0, "{found:?}");
    let speech: Vec<_> = found.iter().filter(|s| s.metric == "speech").collect();
    let ken = speech
        .iter()
        .find(|s| s.admin1.is_none())
        .unwrap_or_else(|| panic!("no country-wide speech signal in {found:?}"));
    assert_eq!(ken.country.code(), "KEN");
    assert_eq!(ken.observed, 8.0, "open flags do not count: {ken:?}");
    assert!(
        ken.explanation
            .starts_with("8 confirmed dangerous-speech flags in KEN"),
        "{}",
        ken.explanation
    );
    assert!(
        speech
            .iter()
            .any(|s| s.admin1.as_deref() == Some("Nairobi")),
        "the reports' position places them in Nairobi: {speech:?}"
    );
    assert!(found.iter().all(|s| s.metric == "speech"), "{found:?}");
    let kenya = Country::parse("KEN").unwrap();
    let seen = |tlp| store.list_signals(tlp, Some(&kenya), None, 100);
    assert!(seen(Tlp::Green).await.unwrap().is_empty());
    assert_eq!(seen(Tlp::Amber).await.unwrap().len(), speech.len());

    // Evidence: a draft assessment of a Kenyan situation is offered the confirmed flags said
    // in the last months, for 7.14, and the incitement ones for 8.7 too.
    let situation = app
        .create_situation(
            &ana,
            NewSituation {
                name: "Kenya elections".into(),
                country: "KEN".into(),
                admin1: None,
                status: None,
                description: None,
                tlp: Some(Tlp::Amber),
            },
        )
        .await
        .unwrap();
    let a = app
        .create_assessment(
            &ana,
            situation.id,
            NewAssessment {
                framework: None,
                as_of: Some(today),
                summary: None,
                tlp: None,
                factors: vec![],
                observations: vec![],
            },
        )
        .await
        .unwrap();
    let offered = app.suggestions_for(&ana, a.id).await.unwrap();
    let flags_for = |indicator: &str| -> Vec<String> {
        offered
            .iter()
            .filter(|s| s.indicator == indicator && s.evidence.kind == EvidenceKind::SpeechFlag)
            .map(|s| s.evidence.reference.clone())
            .collect()
    };
    let for_714 = flags_for("7.14");
    let for_87 = flags_for("8.7");
    for f in &recent {
        assert!(for_714.contains(&f.id.to_string()), "{offered:?}");
    }
    for f in &recent[..3] {
        assert!(for_87.contains(&f.id.to_string()), "{offered:?}");
    }
    for f in &recent[3..] {
        assert!(
            !for_87.contains(&f.id.to_string()),
            "not incitement: {offered:?}"
        );
    }
    for f in &open {
        assert!(!for_714.contains(&f.id.to_string()), "open: {offered:?}");
    }
    let label = &offered
        .iter()
        .find(|s| s.evidence.reference == recent[0].id.to_string())
        .unwrap()
        .label;
    assert!(
        label.contains("dangerous speech · incitement · waondoke"),
        "{label}"
    );
    // Old flags (a year ago) are outside the suggestion window.
    assert!(for_714.len() < recent.len() + 4, "{for_714:?}");

    // Accepted, the flag is cited by id; a GREEN reader is not shown it.
    let e = offered
        .iter()
        .find(|s| s.indicator == "8.7" && s.evidence.reference == recent[0].id.to_string())
        .unwrap()
        .evidence
        .clone();
    let after = app
        .decide_suggestion(&ana, a.id, "8.7".into(), e.clone(), true)
        .await
        .unwrap();
    let cited = |a: &tocsin_domain::Assessment| {
        a.observations
            .iter()
            .any(|o| o.indicator == "8.7" && o.evidence.contains(&e))
    };
    assert!(cited(&after), "{after:?}");
    // In a situation labelled GREEN, a GREEN-cleared analyst is offered none of the AMBER
    // flags, and citing one is refused as citing a missing record is.
    let public = app
        .create_situation(
            &green,
            NewSituation {
                name: "Kenya (public)".into(),
                country: "KEN".into(),
                admin1: None,
                status: None,
                description: None,
                tlp: Some(Tlp::Green),
            },
        )
        .await
        .unwrap();
    let g = app
        .create_assessment(
            &green,
            public.id,
            NewAssessment {
                framework: None,
                as_of: Some(today),
                summary: None,
                tlp: None,
                factors: vec![],
                observations: vec![],
            },
        )
        .await
        .unwrap();
    assert_eq!(g.tlp, Tlp::Green);
    let offered = app.suggestions_for(&green, g.id).await.unwrap();
    assert!(
        offered
            .iter()
            .all(|s| s.evidence.kind != EvidenceKind::SpeechFlag),
        "{offered:?}"
    );
    let err = app
        .decide_suggestion(&green, g.id, "8.7".into(), e.clone(), true)
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("evidence"), "{err:?}");
}
