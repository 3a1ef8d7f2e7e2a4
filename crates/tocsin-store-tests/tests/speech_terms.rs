//! Lexicon term edits on every backend: an edit is stored with the version it made (put in
//! the same op), refused for a lexicon that is not at that version or does not exist (and
//! then nothing of the op is kept), listed newest first per lexicon, and never changed or
//! removed.

use tocsin_domain::{time, Actor, AuditEvent};
use tocsin_store::{
    LexiconRecord, Op, SpeechStep, Step, Store, StoreError, TermAction, TermChange, TermEdit,
};
use tocsin_store_tests::{story, Db};

story!(
    a_term_edit_is_kept_with_the_version_it_made,
    term_edits_are_append_only
);

fn sys() -> Actor {
    Actor::system("speech-test")
}

async fn write(s: &dyn Store, steps: Vec<SpeechStep>) -> tocsin_store::Result<()> {
    s.write(
        &sys(),
        Op::All {
            steps: steps.into_iter().map(Step::Speech).collect(),
            audit: Box::new(AuditEvent::new(&sys(), "lexicon.test", "lexicon", None)),
        },
    )
    .await
    .map(|_| ())
}

fn lexicon(name: &str, version: i64, terms: u64) -> LexiconRecord {
    LexiconRecord {
        name: name.into(),
        version,
        terms,
        languages: vec!["sw".into()],
        provenance: None,
        licence: Some("CC-BY-4.0".into()),
        file_name: None,
        imported_by: "ana".into(),
        imported_at: time::now(),
        enabled: false,
        enabled_by: None,
        enabled_at: None,
    }
}

const V1: &str = "term,language,country,category,severity\nmende,sw,KE,dehumanisation,2\n";
const V2: &str =
    "term,language,country,category,severity\nmende,sw,KE,dehumanisation,2\nkuua,sw,KE,threat,3\n";

fn edit(name: &str, version: i64, action: TermAction, term: &str) -> TermEdit {
    TermEdit {
        id: tocsin_domain::random_id(),
        lexicon: name.into(),
        version,
        action,
        term: term.into(),
        language: "sw".into(),
        country: Some("KE".into()),
        changes: vec![TermChange {
            field: "severity".into(),
            before: None,
            after: Some("high".into()),
        }],
        by: "ana".into(),
        at: time::now(),
    }
}

fn put(l: LexiconRecord, source: &str) -> SpeechStep {
    SpeechStep::PutLexicon {
        lexicon: Box::new(l),
        source: source.into(),
    }
}

async fn a_term_edit_is_kept_with_the_version_it_made(s: &dyn Store, _db: &Db) {
    write(s, vec![put(lexicon("kenya", 1, 1), V1)])
        .await
        .unwrap();
    assert!(s.term_history("kenya").await.unwrap().is_empty());

    // The next version and its edit, in one op.
    let add = edit("kenya", 2, TermAction::Add, "kuua");
    write(
        s,
        vec![
            put(lexicon("kenya", 2, 2), V2),
            SpeechStep::RecordTermEdit(Box::new(add.clone())),
        ],
    )
    .await
    .unwrap();
    assert_eq!(s.term_history("kenya").await.unwrap(), vec![add.clone()]);
    assert_eq!(s.lexicon_source("kenya").await.unwrap(), V2);

    // An edit claiming a version the lexicon is not at: refused, and the version put before
    // it in the same op is not kept either.
    let stale = edit("kenya", 2, TermAction::Remove, "kuua");
    let e = write(
        s,
        vec![
            put(lexicon("kenya", 3, 1), V1),
            SpeechStep::RecordTermEdit(Box::new(stale)),
        ],
    )
    .await;
    assert!(matches!(e, Err(StoreError::Conflict(_))), "{e:?}");
    assert_eq!(s.get_lexicon("kenya").await.unwrap().version, 2);
    assert_eq!(s.lexicon_source("kenya").await.unwrap(), V2);
    assert_eq!(s.term_history("kenya").await.unwrap().len(), 1);

    // An edit of no lexicon.
    let e = write(
        s,
        vec![SpeechStep::RecordTermEdit(Box::new(edit(
            "sudan",
            1,
            TermAction::Add,
            "x",
        )))],
    )
    .await;
    assert!(matches!(e, Err(StoreError::NotFound)), "{e:?}");

    // Newest first; another lexicon's edits are its own.
    let change = TermEdit {
        at: add.at + chrono::Duration::seconds(1),
        ..edit("kenya", 3, TermAction::Change, "mende")
    };
    write(
        s,
        vec![
            put(lexicon("kenya", 3, 2), V2),
            SpeechStep::RecordTermEdit(Box::new(change.clone())),
        ],
    )
    .await
    .unwrap();
    write(s, vec![put(lexicon("abyei", 1, 1), V1)])
        .await
        .unwrap();
    let other = edit("abyei", 2, TermAction::Change, "mende");
    write(
        s,
        vec![
            put(lexicon("abyei", 2, 1), V1),
            SpeechStep::RecordTermEdit(Box::new(other.clone())),
        ],
    )
    .await
    .unwrap();
    assert_eq!(s.term_history("kenya").await.unwrap(), vec![change, add]);
    assert_eq!(s.term_history("abyei").await.unwrap(), vec![other]);
}

async fn term_edits_are_append_only(s: &dyn Store, db: &Db) {
    write(s, vec![put(lexicon("kenya", 1, 1), V1)])
        .await
        .unwrap();
    write(
        s,
        vec![
            put(lexicon("kenya", 2, 2), V2),
            SpeechStep::RecordTermEdit(Box::new(edit("kenya", 2, TermAction::Add, "kuua"))),
        ],
    )
    .await
    .unwrap();
    let mut raw = db.raw().await;
    let e = raw
        .exec("UPDATE lexicon_term_edits SET version = 7")
        .await
        .unwrap_err();
    assert!(e.contains("append-only"), "{e}");
    let e = raw
        .exec("DELETE FROM lexicon_term_edits")
        .await
        .unwrap_err();
    assert!(e.contains("append-only"), "{e}");
    assert_eq!(s.term_history("kenya").await.unwrap().len(), 1);
}
