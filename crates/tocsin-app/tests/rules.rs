//! The application layer's rules on a real store (a fresh SQLite file, and a fresh PostgreSQL
//! database when `TOCSIN_TEST_POSTGRES_URL` names a server), without HTTP or a command line.

use serde_json::json;
use tocsin_app::{App, AppError};
use tocsin_domain::{Actor, NewAssessment, NewSituation, NewUser, Permission, Role, Tlp, User};
use tocsin_framework::Frameworks;
use tocsin_store::{DynStore, StoreExt};
use tocsin_store_tests::Db;

async fn user(store: &DynStore, name: &str, role: Role, clearance: Option<Tlp>) -> User {
    let mut u = NewUser::build(name, role, None).unwrap();
    if let Some(c) = clearance {
        u.clearance = c;
    }
    store.create_user(&Actor::system("test"), u).await.unwrap()
}

fn draft(v: serde_json::Value) -> NewAssessment {
    serde_json::from_value(v).unwrap()
}

#[tokio::test]
async fn permissions_clearance_and_frameworks_are_decided_here_on_sqlite() {
    decided_here(Db::sqlite().await.store).await;
}

#[tokio::test]
async fn permissions_clearance_and_frameworks_are_decided_here_on_postgres() {
    if let Some(db) = Db::postgres().await {
        decided_here(db.store.clone()).await;
    }
}

async fn decided_here(store: DynStore) {
    let frameworks = Frameworks::shipped().with_default("osapg-2009").unwrap();
    let app = App::new(&store, &frameworks);
    let analyst = user(&store, "alice", Role::Analyst, None).await;
    let amber = user(&store, "amber", Role::Analyst, Some(Tlp::Amber)).await;
    let viewer = user(&store, "vera", Role::Viewer, None).await;

    let situation = |tlp: &str| NewSituation {
        name: "CAR north-west".into(),
        country: "CAF".into(),
        admin1: None,
        status: None,
        description: None,
        tlp: Some(tlp.parse().unwrap()),
    };
    assert_eq!(
        app.create_situation(&viewer, situation("TLP:AMBER")).await,
        Err(AppError::forbidden(Permission::SituationWrite))
    );
    let s = app
        .create_situation(&analyst, situation("TLP:AMBER"))
        .await
        .unwrap();
    let red = app
        .create_situation(&analyst, situation("TLP:RED"))
        .await
        .unwrap();

    // The configured default framework, unless the assessment names another loaded one.
    let a = app
        .create_assessment(&analyst, s.id, draft(json!({})))
        .await
        .unwrap();
    assert_eq!(a.framework, "osapg-2009");
    let a = app
        .create_assessment(&analyst, s.id, draft(json!({"framework": "un-foa-2014"})))
        .await
        .unwrap();
    assert_eq!(a.framework, "un-foa-2014");
    let e = app
        .create_assessment(&analyst, s.id, draft(json!({"framework": "nope"})))
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("framework"));

    // No label above one's own clearance; a situation above it does not exist.
    let e = app
        .create_assessment(&amber, s.id, draft(json!({"tlp": "TLP:RED"})))
        .await
        .unwrap_err();
    assert!(
        matches!(e, AppError::Forbidden { needed: None, .. }),
        "{e:?}"
    );
    assert_eq!(
        app.create_assessment(&amber, red.id, draft(json!({})))
            .await,
        Err(AppError::NotFound)
    );
    assert_eq!(
        app.create_assessment(&viewer, s.id, draft(json!({}))).await,
        Err(AppError::forbidden(Permission::AssessmentWrite))
    );
    // A viewer does not see drafts at all.
    assert_eq!(
        app.assessment_for(&viewer, a.id).await,
        Err(AppError::NotFound)
    );
    // Nothing refused was stored.
    assert_eq!(store.list_assessments(None, 100).await.unwrap().len(), 2);
}
