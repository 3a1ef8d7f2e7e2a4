//! An assessment's evidence and its label: it cites only records its own label covers, a
//! reader is shown only the evidence they may see (rows written before that rule included),
//! and suggestions that show restricted records are audited. On SQLite and PostgreSQL.

use tocsin_app::App;
use tocsin_domain::assessment::{IndicatorObservation, Observed};
use tocsin_domain::{
    Actor, AssessmentChange, AssessmentEdit, Evidence, EvidenceKind, IncidentInput, NewAssessment,
    NewSituation, NewUser, Role, Tlp, User,
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
        "sub_event_type": "Sexual violence", "country": "CAF", "latitude": 7.2,
        "longitude": 17.45, "fatalities": 3, "description": "Village attacked at dawn.",
        "tlp": tlp,
    }))
    .unwrap()
}

fn cite(id: Uuid) -> Evidence {
    Evidence {
        kind: EvidenceKind::Incident,
        reference: id.to_string(),
        note: None,
    }
}

fn new_assessment(tlp: Option<Tlp>) -> NewAssessment {
    NewAssessment {
        framework: None,
        as_of: Some(chrono::NaiveDate::from_ymd_opt(2024, 12, 1).unwrap()),
        summary: None,
        tlp,
        factors: vec![],
        observations: vec![],
    }
}

#[tokio::test]
async fn evidence_above_an_assessments_label_is_refused_and_never_shown_on_sqlite() {
    evidence(Db::sqlite().await.store).await;
}

#[tokio::test]
async fn evidence_above_an_assessments_label_is_refused_and_never_shown_on_postgres() {
    if let Some(db) = Db::postgres().await {
        evidence(db.store.clone()).await;
    }
}

async fn evidence(store: DynStore) {
    let frameworks = Frameworks::shipped();
    let app = App::new(&store, &frameworks);
    let alice = user(&store, "alice", Role::Analyst, Tlp::Red).await;
    let amber = user(&store, "amber", Role::Analyst, Tlp::Amber).await;
    let situation = app
        .create_situation(
            &alice,
            NewSituation {
                name: "CAR north-west".into(),
                country: "CAF".into(),
                admin1: None,
                status: None,
                description: None,
                tlp: Some(Tlp::Amber),
            },
        )
        .await
        .unwrap();
    let red = app
        .create_incident(&alice, incident("TLP:RED"))
        .await
        .unwrap();
    let strict = app
        .create_incident(&alice, incident("TLP:AMBER+STRICT"))
        .await
        .unwrap();
    let open = app
        .create_incident(&alice, incident("TLP:AMBER"))
        .await
        .unwrap();
    let a = app
        .create_assessment(&alice, situation.id, new_assessment(None))
        .await
        .unwrap();
    assert_eq!(a.tlp, Tlp::Amber);

    // Suggestions: only what the assessment's label covers, even to a RED-cleared analyst.
    let offered: Vec<String> = app
        .suggestions_for(&alice, a.id)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.evidence.reference)
        .collect();
    assert!(offered.contains(&open.id.to_string()), "{offered:?}");
    for above in [red.id, strict.id] {
        assert!(!offered.contains(&above.to_string()), "{offered:?}");
    }

    // Accepting one above the label, or citing it in an observation: refused, naming the
    // field, as a missing record is (so the answer tells nothing of one above clearance).
    let e = app
        .decide_suggestion(&alice, a.id, "7.9".into(), cite(red.id), true)
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("evidence"), "{e:?}");
    let observe = |id: Uuid| AssessmentEdit {
        observations: vec![IndicatorObservation {
            indicator: "7.9".into(),
            observed: Observed::Present,
            note: String::new(),
            evidence: vec![cite(id)],
        }],
        ..Default::default()
    };
    let above = app
        .edit_assessment(&amber, a.id, observe(red.id))
        .await
        .unwrap_err();
    let nothing = Uuid::now_v7();
    let missing = app
        .edit_assessment(&amber, a.id, observe(nothing))
        .await
        .unwrap_err();
    assert_eq!(
        above.to_string().replace(&red.id.to_string(), "ID"),
        missing.to_string().replace(&nothing.to_string(), "ID")
    );
    assert_eq!(above.field(), Some("evidence"), "{above:?}");
    app.edit_assessment(&amber, a.id, observe(open.id))
        .await
        .unwrap();
    // Lowering the label below what it cites: refused.
    let e = app
        .edit_assessment(
            &alice,
            a.id,
            AssessmentEdit {
                tlp: Some(Tlp::Green),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("tlp"), "{e:?}");
    assert_eq!(
        store.get_assessment(a.id).await.unwrap().version,
        a.version + 1
    );

    // A row written before the rule (straight into the store) citing the RED incident: an
    // AMBER reader is shown neither its id nor a count that includes it.
    for accept in [true, false] {
        let ind = if accept { "7.9" } else { "11.1" };
        store
            .change_assessment(
                &alice.actor(),
                a.id,
                AssessmentChange::Decide {
                    indicator: ind.into(),
                    evidence: cite(red.id),
                    accept,
                },
            )
            .await
            .unwrap();
    }
    let rid = red.id.to_string();
    let shown = |v: serde_json::Value| v.to_string();
    let view = app.assessment_view(&amber, a.id).await.unwrap();
    let obs = &view.assessment.observations;
    let seven_nine = obs.iter().find(|o| o.indicator == "7.9").unwrap();
    assert_eq!(seven_nine.evidence, vec![cite(open.id)]);
    assert!(!shown(serde_json::to_value(&view).unwrap()).contains(&rid));
    let listed = app.list_assessments(&amber, situation.id).await.unwrap();
    assert!(!shown(serde_json::to_value(&listed).unwrap()).contains(&rid));
    let edit = app.assessment_to_edit(&amber, a.id).await.unwrap();
    assert!(!shown(serde_json::to_value(&edit).unwrap()).contains(&rid));
    // The RED-cleared analyst still sees what is stored.
    let full = app.assessment_for(&alice, a.id).await.unwrap();
    assert!(shown(serde_json::to_value(&full).unwrap()).contains(&rid));

    // Suggestions that show TLP:AMBER+STRICT records are audited as any list of them.
    let b = app
        .create_assessment(&alice, situation.id, new_assessment(Some(Tlp::AmberStrict)))
        .await
        .unwrap();
    let before = store.audit_entries(0, 10_000).await.unwrap().len();
    let offered = app.suggestions_for(&alice, b.id).await.unwrap();
    assert!(offered
        .iter()
        .any(|s| s.evidence.reference == strict.id.to_string()));
    let entries = store.audit_entries(0, 10_000).await.unwrap();
    let new: Vec<_> = entries[before..]
        .iter()
        .filter(|e| e.action == "records.list" && e.record_type == "incident")
        .collect();
    assert_eq!(new.len(), 1, "{new:?}");
    assert_eq!(new[0].actor_name, "alice");
    assert!(
        new[0].detail.contains(&strict.id.to_string()),
        "{:?}",
        new[0]
    );
    assert!(
        !new[0].detail.contains(&open.id.to_string()),
        "{:?}",
        new[0]
    );
}
