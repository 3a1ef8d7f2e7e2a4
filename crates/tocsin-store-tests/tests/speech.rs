//! Dangerous-speech lexicons on every backend: a lexicon is stored with its CSV text under a
//! version that grows with each import; an evaluation belongs to one version; enabling is
//! refused while the current version has none, and a new import disables the lexicon;
//! evaluations cannot be changed or removed.

use std::collections::BTreeMap;
use tocsin_domain::{time, Actor, AuditEvent};
use tocsin_store::{
    Figures, LexiconEvaluation, LexiconRecord, Op, SpeechStep, Step, Store, StoreError,
};
use tocsin_store_tests::{story, Db};

story!(
    enabling_needs_an_evaluation_of_the_current_version,
    evaluations_are_append_only
);

fn sys() -> Actor {
    Actor::system("speech-test")
}

async fn put(s: &dyn Store, step: SpeechStep) -> tocsin_store::Result<()> {
    s.write(
        &sys(),
        Op::All {
            steps: vec![Step::Speech(step)],
            audit: Box::new(AuditEvent::new(&sys(), "lexicon.test", "lexicon", None)),
        },
    )
    .await
    .map(|_| ())
}

fn lexicon(name: &str, version: i64) -> LexiconRecord {
    LexiconRecord {
        name: name.into(),
        version,
        terms: 2,
        languages: vec!["en".into(), "sw".into()],
        provenance: Some("hand-written".into()),
        licence: Some("CC-BY-4.0".into()),
        file_name: Some("lexicon.csv".into()),
        imported_by: "ana".into(),
        imported_at: time::now(),
        enabled: false,
        enabled_by: None,
        enabled_at: None,
    }
}

const CSV: &str = "term,language,country,category,severity\nmende,sw,KE,dehumanisation,2\n";

fn evaluation(name: &str, version: i64) -> LexiconEvaluation {
    let overall = Figures {
        true_positives: 9,
        false_positives: 1,
        false_negatives: 3,
        true_negatives: 7,
        precision: Some(0.9),
        precision_interval: Some([0.6, 0.98]),
        recall: Some(0.75),
        recall_interval: Some([0.47, 0.91]),
    };
    LexiconEvaluation {
        id: tocsin_domain::random_id(),
        lexicon: name.into(),
        lexicon_version: version,
        sample: "sample.csv".into(),
        by: "ana".into(),
        at: time::now(),
        by_language: BTreeMap::from([("sw".to_string(), overall.clone())]),
        overall,
    }
}

fn enabled(mut l: LexiconRecord, on: bool) -> LexiconRecord {
    l.enabled = on;
    l.enabled_by = Some("ana".into());
    l.enabled_at = Some(time::now());
    l
}

async fn enabling_needs_an_evaluation_of_the_current_version(s: &dyn Store, _db: &Db) {
    let v1 = lexicon("kenya", 1);
    put(
        s,
        SpeechStep::PutLexicon {
            lexicon: Box::new(v1.clone()),
            source: CSV.into(),
        },
    )
    .await
    .unwrap();
    assert_eq!(s.get_lexicon("kenya").await.unwrap(), v1);
    assert_eq!(s.lexicon_source("kenya").await.unwrap(), CSV);
    assert!(matches!(
        s.get_lexicon("sudan").await,
        Err(StoreError::NotFound)
    ));
    // The name is taken: a second first version is refused and the first kept.
    let mut other = lexicon("kenya", 1);
    other.terms = 99;
    let e = put(
        s,
        SpeechStep::PutLexicon {
            lexicon: Box::new(other),
            source: "x".into(),
        },
    )
    .await;
    assert!(matches!(e, Err(StoreError::Conflict(_))), "{e:?}");
    assert_eq!(s.get_lexicon("kenya").await.unwrap().terms, 2);

    // Not enabled without an evaluation.
    let e = put(
        s,
        SpeechStep::SetEnabled(Box::new(enabled(v1.clone(), true))),
    )
    .await;
    match e {
        Err(StoreError::Conflict(m)) => assert!(m.contains("no evaluation"), "{m}"),
        e => panic!("{e:?}"),
    }
    assert!(!s.get_lexicon("kenya").await.unwrap().enabled);
    assert!(s.enabled_lexicons().await.unwrap().is_empty());

    // An evaluation of a version that is not stored, or of no lexicon, is refused.
    let e = put(
        s,
        SpeechStep::RecordEvaluation(Box::new(evaluation("kenya", 2))),
    )
    .await;
    assert!(matches!(e, Err(StoreError::Conflict(_))), "{e:?}");
    let e = put(
        s,
        SpeechStep::RecordEvaluation(Box::new(evaluation("sudan", 1))),
    )
    .await;
    assert!(matches!(e, Err(StoreError::NotFound)), "{e:?}");

    let ev1 = evaluation("kenya", 1);
    put(s, SpeechStep::RecordEvaluation(Box::new(ev1.clone())))
        .await
        .unwrap();
    assert_eq!(
        s.lexicon_evaluations("kenya").await.unwrap(),
        vec![ev1.clone()]
    );
    let on = enabled(v1.clone(), true);
    put(s, SpeechStep::SetEnabled(Box::new(on.clone())))
        .await
        .unwrap();
    assert_eq!(s.get_lexicon("kenya").await.unwrap(), on);
    assert_eq!(
        s.enabled_lexicons().await.unwrap(),
        vec![(on.clone(), CSV.to_string())]
    );

    // A second lexicon, never enabled, is listed but not scanned with.
    put(
        s,
        SpeechStep::PutLexicon {
            lexicon: Box::new(lexicon("abyei", 1)),
            source: CSV.into(),
        },
    )
    .await
    .unwrap();
    let names: Vec<String> = s
        .list_lexicons()
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.name)
        .collect();
    assert_eq!(names, ["abyei", "kenya"]);
    assert_eq!(s.enabled_lexicons().await.unwrap().len(), 1);

    // A new import (version 2, disabled) replaces the terms; the old evaluation no longer
    // enables it, and a step still at version 1 is refused.
    let v2 = lexicon("kenya", 2);
    let csv2 = format!("{CSV}kuua,sw,KE,threat,3\n");
    put(
        s,
        SpeechStep::PutLexicon {
            lexicon: Box::new(v2.clone()),
            source: csv2.clone(),
        },
    )
    .await
    .unwrap();
    assert_eq!(s.lexicon_source("kenya").await.unwrap(), csv2);
    assert!(s.enabled_lexicons().await.unwrap().is_empty());
    let e = put(
        s,
        SpeechStep::SetEnabled(Box::new(enabled(v2.clone(), true))),
    )
    .await;
    assert!(
        matches!(&e, Err(StoreError::Conflict(m)) if m.contains("no evaluation")),
        "{e:?}"
    );
    let e = put(
        s,
        SpeechStep::SetEnabled(Box::new(enabled(v1.clone(), true))),
    )
    .await;
    assert!(
        matches!(&e, Err(StoreError::Conflict(m)) if m.contains("imported again")),
        "{e:?}"
    );
    // Skipping a version, or a next version of nothing, is refused.
    let e = put(
        s,
        SpeechStep::PutLexicon {
            lexicon: Box::new(lexicon("kenya", 4)),
            source: CSV.into(),
        },
    )
    .await;
    assert!(matches!(e, Err(StoreError::Conflict(_))), "{e:?}");
    let e = put(
        s,
        SpeechStep::PutLexicon {
            lexicon: Box::new(lexicon("sudan", 2)),
            source: CSV.into(),
        },
    )
    .await;
    assert!(matches!(e, Err(StoreError::NotFound)), "{e:?}");

    let ev2 = evaluation("kenya", 2);
    put(s, SpeechStep::RecordEvaluation(Box::new(ev2.clone())))
        .await
        .unwrap();
    put(
        s,
        SpeechStep::SetEnabled(Box::new(enabled(v2.clone(), true))),
    )
    .await
    .unwrap();
    assert_eq!(s.enabled_lexicons().await.unwrap()[0].1, csv2);
    // Newest evaluation first, both versions kept.
    let evs = s.lexicon_evaluations("kenya").await.unwrap();
    assert_eq!(
        evs.iter().map(|e| e.lexicon_version).collect::<Vec<_>>(),
        [2, 1]
    );
    // Disabling needs no evaluation.
    put(s, SpeechStep::SetEnabled(Box::new(enabled(v2, false))))
        .await
        .unwrap();
    assert!(s.enabled_lexicons().await.unwrap().is_empty());
}

async fn evaluations_are_append_only(s: &dyn Store, db: &Db) {
    put(
        s,
        SpeechStep::PutLexicon {
            lexicon: Box::new(lexicon("kenya", 1)),
            source: CSV.into(),
        },
    )
    .await
    .unwrap();
    put(
        s,
        SpeechStep::RecordEvaluation(Box::new(evaluation("kenya", 1))),
    )
    .await
    .unwrap();
    let mut raw = db.raw().await;
    let e = raw
        .exec("UPDATE lexicon_evaluations SET lexicon_version = 7")
        .await
        .unwrap_err();
    assert!(e.contains("append-only"), "{e}");
    let e = raw
        .exec("DELETE FROM lexicon_evaluations")
        .await
        .unwrap_err();
    assert!(e.contains("append-only"), "{e}");
    assert_eq!(s.lexicon_evaluations("kenya").await.unwrap().len(), 1);
}
