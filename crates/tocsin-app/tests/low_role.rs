//! An insider with a low role (an analyst cleared only to TLP:AMBER, a viewer) against the
//! use cases, on a real store (SQLite, and PostgreSQL when configured): a record above their
//! clearance answers exactly as a missing one, and nothing they are shown comes from one.

use tocsin_app::App;
use tocsin_domain::{
    Actor, IncidentFilter, IncidentInput, IncidentPatch, NewSituation, NewUser, PageRequest, Role,
    Tlp, User,
};
use tocsin_framework::Frameworks;
use tocsin_store::{DynStore, StoreExt};
use tocsin_store_tests::Db;
use uuid::Uuid;

async fn user(store: &DynStore, name: &str, role: Role, clearance: Tlp) -> User {
    let mut u = NewUser::build(name, role, None).unwrap();
    u.clearance = clearance;
    store.create_user(&Actor::system("test"), u).await.unwrap()
}

fn incident(tlp: &str) -> IncidentInput {
    serde_json::from_value(serde_json::json!({
        "event_date": "2024-10-07", "event_type": "Violence against civilians",
        "sub_event_type": "Attack", "country": "CAF", "latitude": 7.2, "longitude": 17.45,
        "fatalities": 3, "description": "Village attacked at dawn.", "tlp": tlp,
    }))
    .unwrap()
}

fn filter(situation_id: Option<Uuid>) -> IncidentFilter {
    IncidentFilter {
        max_tlp: Tlp::Red,
        situation_id,
        ..Default::default()
    }
}

fn situation(tlp: Tlp) -> NewSituation {
    NewSituation {
        name: "CAR north-west".into(),
        country: "CAF".into(),
        admin1: None,
        status: None,
        description: None,
        tlp: Some(tlp),
    }
}

#[tokio::test]
async fn links_to_records_above_clearance_answer_as_missing_ones_on_sqlite() {
    links(Db::sqlite().await.store).await;
}

#[tokio::test]
async fn links_to_records_above_clearance_answer_as_missing_ones_on_postgres() {
    if let Some(db) = Db::postgres().await {
        links(db.store.clone()).await;
    }
}

/// An incident names its situation and its reports. Naming one above one's clearance must
/// answer as naming none that exists (else the answer tells it exists), store nothing, and an
/// edit must not drop links its author could not see.
async fn links(store: DynStore) {
    let frameworks = Frameworks::shipped();
    let app = App::new(&store, &frameworks);
    let alice = user(&store, "alice", Role::Analyst, Tlp::Red).await;
    let amber = user(&store, "amber", Role::Analyst, Tlp::Amber).await;
    let viewer = user(&store, "vera", Role::Viewer, Tlp::Green).await;
    let red = app
        .create_situation(&alice, situation(Tlp::Red))
        .await
        .unwrap();
    let green = app
        .create_situation(&alice, situation(Tlp::Green))
        .await
        .unwrap();
    let red_report = app
        .create_report(
            &alice,
            serde_json::from_value(
                serde_json::json!({"text": "Armed men seen near the school.", "tlp": "TLP:RED"}),
            )
            .unwrap(),
            tocsin_domain::Channel::Api,
        )
        .await
        .unwrap();
    let before = store.counts().await.unwrap().incidents;

    // Creating: a situation above clearance and a missing one, the same answer.
    let with_situation = |id: Uuid| {
        let mut i = incident("TLP:AMBER");
        i.situation_id = Some(id);
        i
    };
    let hidden = app
        .create_incident(&amber, with_situation(red.id))
        .await
        .unwrap_err();
    let missing = app
        .create_incident(&amber, with_situation(Uuid::now_v7()))
        .await
        .unwrap_err();
    assert_eq!(hidden, missing);
    assert_eq!(hidden.field(), Some("situation_id"), "{hidden:?}");
    // Reports alike.
    let with_reports = |id: Uuid| {
        let mut i = incident("TLP:AMBER");
        i.report_ids = Some(vec![id]);
        i
    };
    let hidden = app
        .create_incident(&amber, with_reports(red_report.id))
        .await
        .unwrap_err();
    let missing = app
        .create_incident(&amber, with_reports(Uuid::new_v4()))
        .await
        .unwrap_err();
    assert_eq!(hidden, missing);
    assert_eq!(hidden.field(), Some("report_ids"), "{hidden:?}");
    assert_eq!(store.counts().await.unwrap().incidents, before);

    // Editing: the same answers.
    let mine = app
        .create_incident(&amber, incident("TLP:AMBER"))
        .await
        .unwrap();
    let patch_situation = |id: Uuid| IncidentPatch {
        situation_id: Some(id),
        ..Default::default()
    };
    let hidden = app
        .update_incident(&amber, mine.id, patch_situation(red.id))
        .await
        .unwrap_err();
    let missing = app
        .update_incident(&amber, mine.id, patch_situation(Uuid::now_v7()))
        .await
        .unwrap_err();
    assert_eq!(hidden, missing);
    assert_eq!(hidden.field(), Some("situation_id"));

    // A cleared analyst links a RED report and a GREEN situation; the AMBER analyst, editing
    // the links they are shown, keeps the one they cannot see.
    let shared = app
        .update_incident(
            &alice,
            mine.id,
            IncidentPatch {
                report_ids: Some(vec![red_report.id]),
                situation_id: Some(green.id),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(shared.report_ids, vec![red_report.id]);
    let seen = app.get_incident(&amber, mine.id).await.unwrap();
    assert!(seen.report_ids.is_empty());
    let updated = app
        .update_incident(
            &amber,
            mine.id,
            IncidentPatch {
                report_ids: Some(seen.report_ids.clone()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(
        updated.report_ids.is_empty(),
        "the edited incident comes back as its editor may see it"
    );
    let verified = app
        .set_verification(&amber, mine.id, "disputed", "a second monitor denies it")
        .await
        .unwrap();
    assert!(verified.report_ids.is_empty());
    assert_eq!(
        app.get_incident(&alice, mine.id).await.unwrap().report_ids,
        vec![red_report.id],
        "a link its editor could not see survives the edit"
    );

    // A GREEN incident of a RED situation: one cleared only to GREEN is not told the
    // situation's id (a UUIDv7: it would tell when it was opened).
    let mut i = incident("TLP:GREEN");
    i.situation_id = Some(red.id);
    let linked = app.create_incident(&alice, i).await.unwrap();
    assert_eq!(
        app.get_incident(&viewer, linked.id)
            .await
            .unwrap()
            .situation_id,
        None
    );
    assert_eq!(
        app.get_incident(&alice, linked.id)
            .await
            .unwrap()
            .situation_id,
        Some(red.id)
    );
    let page = app
        .list_incidents(&viewer, filter(None), PageRequest::first(100))
        .await
        .unwrap();
    let listed = page.items.iter().find(|x| x.id == linked.id).unwrap();
    assert_eq!(listed.situation_id, None);
    // Nor is a list of the situation's incidents an answer to whether it exists.
    for s in [red.id, Uuid::now_v7()] {
        let page = app
            .list_incidents(&viewer, filter(Some(s)), PageRequest::first(100))
            .await
            .unwrap();
        assert!(page.items.is_empty() && page.next_cursor.is_none());
    }
    let page = app
        .list_incidents(&alice, filter(Some(red.id)), PageRequest::first(100))
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    // An export of them neither.
    for (who, n) in [(&viewer, 0), (&alice, 1)] {
        let f = app
            .start_export(who, filter(Some(red.id)), serde_json::json!({}))
            .await
            .unwrap();
        let exported = store
            .list_incidents(&f, PageRequest::first(100))
            .await
            .unwrap();
        assert_eq!(exported.items.len(), n, "{}", who.username);
    }
}

#[tokio::test]
async fn a_report_does_not_name_a_source_above_the_readers_clearance_on_sqlite() {
    report_sources(Db::sqlite().await.store).await;
}

#[tokio::test]
async fn a_report_does_not_name_a_source_above_the_readers_clearance_on_postgres() {
    if let Some(db) = Db::postgres().await {
        report_sources(db.store.clone()).await;
    }
}

/// A monitor coordinator files a report labelled TLP:AMBER from a warner's source (labelled
/// TLP:AMBER+STRICT, as every SMS source is). A desk officer cleared to TLP:AMBER reads the
/// report, but the source's handle, which ties together every report of one warner, is
/// above their clearance.
async fn report_sources(store: DynStore) {
    let frameworks = Frameworks::shipped();
    let app = App::new(&store, &frameworks);
    let key = tocsin_domain::ContactKey::generate();
    let source = tocsin_domain::NewSource::new(
        "M-7KQ2MX",
        "monitor",
        tocsin_domain::Reliability::F,
        Tlp::AmberStrict,
        None,
        &key,
    )
    .unwrap();
    store
        .create_source(&Actor::system("test"), source)
        .await
        .unwrap();
    let coordinator = user(&store, "mona", Role::MonitorCoordinator, Tlp::AmberStrict).await;
    let desk = user(&store, "dora", Role::DeskOfficer, Tlp::Amber).await;
    let report = app
        .create_report(
            &coordinator,
            serde_json::from_value(serde_json::json!({
                "text": "Checkpoint set up on the Bossangoa road.",
                "tlp": "TLP:AMBER", "source": "M-7KQ2MX"
            }))
            .unwrap(),
            tocsin_domain::Channel::Api,
        )
        .await
        .unwrap();
    assert_eq!(report.source.as_deref(), Some("M-7KQ2MX"));
    assert_eq!(
        app.get_report(&coordinator, report.id)
            .await
            .unwrap()
            .source
            .as_deref(),
        Some("M-7KQ2MX")
    );
    let read = app.get_report(&desk, report.id).await.unwrap();
    assert_eq!(read.source, None);
    let filter = tocsin_domain::ReportFilter {
        max_tlp: Tlp::Red,
        ..Default::default()
    };
    let listed = app
        .list_reports(&desk, filter, PageRequest::first(100))
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 1);
    assert_eq!(listed.items[0].source, None);
}
