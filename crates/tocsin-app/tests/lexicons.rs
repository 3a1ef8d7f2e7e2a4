//! Dangerous-speech lexicons through the use cases, on a real store (SQLite, and PostgreSQL
//! when configured): analysts and admins import, evaluate and enable; other roles are refused;
//! enabling is refused until the current version is measured; a bad file changes nothing;
//! every change is in the audit trail.

use tocsin_app::speech::LexiconImport;
use tocsin_app::{Acting, App, AppError};
use tocsin_domain::{Actor, NewUser, Role, User};
use tocsin_framework::Frameworks;
use tocsin_store::{DynStore, StoreExt};
use tocsin_store_tests::Db;

const LEXICON: &str = include_str!("../../tocsin-speech/data/lexicon-illustrative.csv");
const SAMPLE: &str = include_str!("../../tocsin-speech/data/sample-labelled.csv");

async fn user(store: &DynStore, name: &str, role: Role) -> User {
    let u = NewUser::build(name, role, None).unwrap();
    store.create_user(&Actor::system("test"), u).await.unwrap()
}

fn import(name: &str) -> LexiconImport {
    LexiconImport {
        name: name.into(),
        file_name: Some("lexicon-illustrative.csv".into()),
        provenance: Some("Tocsin developers".into()),
        licence: Some("AGPL-3.0-or-later".into()),
    }
}

#[tokio::test]
async fn lexicon_lifecycle_on_sqlite() {
    lifecycle(Db::sqlite().await.store).await;
}

#[tokio::test]
async fn lexicon_lifecycle_on_postgres() {
    if let Some(db) = Db::postgres().await {
        lifecycle(db.store.clone()).await;
    }
}

async fn lifecycle(store: DynStore) {
    let frameworks = Frameworks::shipped();
    let app = App::new(&store, &frameworks);
    let ana = user(&store, "ana", Role::Analyst).await;
    let adm = user(&store, "adm", Role::Admin).await;
    let desk = user(&store, "desk", Role::DeskOfficer).await;
    let viewer = user(&store, "viewer", Role::Viewer).await;

    for u in [&desk, &viewer] {
        let e = app
            .import_lexicon(Acting::User(u), import("kenya"), LEXICON.as_bytes())
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::Forbidden { .. }), "{e:?}");
        assert!(app.list_lexicons(Acting::User(u)).await.is_err());
    }

    // A file with a wrong row is refused whole, naming the line; nothing is stored.
    let bad = format!("{LEXICON}mende,sw,KE,insult,2\n");
    let e = app
        .import_lexicon(Acting::User(&ana), import("kenya"), bad.as_bytes())
        .await
        .unwrap_err();
    assert!(e.to_string().starts_with("file: line 18: category"), "{e}");
    let e = app
        .import_lexicon(Acting::User(&ana), import("no spaces"), LEXICON.as_bytes())
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("name"));
    assert!(app
        .list_lexicons(Acting::User(&ana))
        .await
        .unwrap()
        .is_empty());

    let l = app
        .import_lexicon(Acting::User(&ana), import("kenya"), LEXICON.as_bytes())
        .await
        .unwrap();
    assert_eq!((l.version, l.terms, l.enabled), (1, 16, false));
    assert!(l.languages.contains(&"sw".to_string()), "{:?}", l.languages);

    // Not enabled before it is measured.
    let e = app
        .set_lexicon_enabled(Acting::User(&ana), "kenya", true)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, AppError::Conflict(m) if m.contains("has not been evaluated")),
        "{e:?}"
    );
    assert!(store.enabled_lexicons().await.unwrap().is_empty());

    // A bad sample is refused with its line.
    let e = app
        .evaluate_lexicon(
            Acting::User(&ana),
            "kenya",
            "s.csv",
            "text,label\nx,2\n".as_bytes(),
        )
        .await
        .unwrap_err();
    assert!(e.to_string().starts_with("sample: line 2: label"), "{e}");

    let ev = app
        .evaluate_lexicon(
            Acting::User(&ana),
            "kenya",
            "sample-labelled.csv",
            SAMPLE.as_bytes(),
        )
        .await
        .unwrap();
    let o = &ev.overall;
    assert_eq!(
        o.true_positives + o.false_positives + o.false_negatives + o.true_negatives,
        52
    );
    // The shipped sample has dangerous speech without any term, so recall is below 1, and
    // the interval brackets the figure.
    let (p, [lo, hi]) = (o.precision.unwrap(), o.precision_interval.unwrap());
    assert!(lo <= p && p <= hi && hi <= 1.0, "{o:?}");
    assert!(o.recall.unwrap() < 1.0, "{o:?}");
    assert!(
        ev.by_language.contains_key("sw"),
        "{:?}",
        ev.by_language.keys()
    );

    // An admin enables it; the list shows the evaluation of the current version.
    let on = app
        .set_lexicon_enabled(Acting::User(&adm), "kenya", true)
        .await
        .unwrap();
    assert!(on.enabled);
    assert_eq!(on.enabled_by.as_deref(), Some("adm"));
    let list = app.list_lexicons(Acting::User(&ana)).await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].evaluation.as_ref().map(|e| e.id), Some(ev.id));
    assert_eq!(store.enabled_lexicons().await.unwrap().len(), 1);

    // Importing again makes version 2, disabled, without an evaluation.
    let l2 = app
        .import_lexicon(Acting::Operator("cli"), import("kenya"), LEXICON.as_bytes())
        .await
        .unwrap();
    assert_eq!((l2.version, l2.enabled), (2, false));
    assert!(store.enabled_lexicons().await.unwrap().is_empty());
    let list = app.list_lexicons(Acting::User(&ana)).await.unwrap();
    assert!(list[0].evaluation.is_none());
    assert!(app
        .set_lexicon_enabled(Acting::User(&ana), "kenya", true)
        .await
        .is_err());

    let e = app
        .evaluate_lexicon(Acting::User(&ana), "sudan", "s", SAMPLE.as_bytes())
        .await
        .unwrap_err();
    assert_eq!(e, AppError::NotFound);

    // Every change is audited, by name.
    let entries = store.audit_entries(0, 1000).await.unwrap();
    let lex: Vec<(String, String)> = entries
        .iter()
        .filter(|e| e.record_type == "lexicon")
        .map(|e| (e.action.clone(), e.actor_name.clone()))
        .collect();
    assert_eq!(
        lex,
        [
            ("lexicon.import".to_string(), "ana".to_string()),
            ("lexicon.evaluate".into(), "ana".into()),
            ("lexicon.enable".into(), "adm".into()),
            ("lexicon.import".into(), "system:cli".into()),
        ]
    );
}
