//! Untrusted assessment bodies: `POST /api/v1/situations/{id}/assessments`,
//! `PATCH /api/v1/assessments/{id}`, workflow steps and suggestion decisions.
//! Nothing may panic; a refused change must leave the assessment unchanged; an accepted one
//! bumps the version by exactly one, and a decision never changes a factor level.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;
use tocsin_domain::{
    Actor, Assessment, AssessmentChange, AssessmentEdit, Evidence, NewAssessment, Tlp,
};
use tocsin_framework::Framework;
use tocsin_server::analysis::{DecisionInput, StepInput};
use tocsin_server::input::parse_json;
use uuid::Uuid;

static FW: LazyLock<Framework> = LazyLock::new(Framework::un_2014);

fn actor(n: u128) -> Actor {
    Actor {
        user_id: Some(Uuid::from_u128(n)),
        name: format!("analyst-{n}"),
    }
}

fn base() -> Assessment {
    let n: NewAssessment = serde_json::from_str(
        r#"{"factors":[{"factor":1,"level":"high","confidence":"medium","rationale":"war"}]}"#,
    )
    .unwrap();
    Assessment::create(n, &FW, Uuid::from_u128(9), Tlp::Amber, &actor(1), chrono::Utc::now())
        .expect("the base assessment is valid")
}

fn try_change(a: &mut Assessment, c: AssessmentChange, who: &Actor) {
    let before = a.clone();
    let is_decision = matches!(c, AssessmentChange::Decide { .. });
    match a.apply(c, who, chrono::Utc::now()) {
        Ok(()) => {
            assert_eq!(a.version, before.version + 1);
            assert_eq!(a.id, before.id);
            if is_decision {
                assert_eq!(a.factors, before.factors, "a decision changed a level");
            }
        }
        Err(_) => assert_eq!(*a, before, "a refused change altered the assessment"),
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(n) = parse_json::<NewAssessment>(data) {
        if let Ok(a) = Assessment::create(n, &FW, Uuid::from_u128(9), Tlp::Amber, &actor(1), chrono::Utc::now()) {
            assert_eq!(a.version, 1);
            assert!(a.factors.iter().all(|f| f.factor >= 1 && f.factor <= 14));
            assert!(a.observations.iter().all(|o| FW.indicator(&o.indicator).is_some()));
        }
    }
    if let Ok(e) = parse_json::<AssessmentEdit>(data) {
        let mut a = base();
        if e.check(&FW, Tlp::Amber).is_ok() {
            try_change(&mut a, AssessmentChange::Edit(e), &actor(1));
        }
    }
    if let Ok(s) = parse_json::<StepInput>(data) {
        for to in [
            tocsin_domain::AssessmentStatus::Reviewed,
            tocsin_domain::AssessmentStatus::Published,
            tocsin_domain::AssessmentStatus::Draft,
        ] {
            let mut a = base();
            let c = AssessmentChange::Transition { to, note: s.note.clone(), expected_version: s.expected_version };
            try_change(&mut a, c, &actor(2));
        }
    }
    if let Ok(d) = parse_json::<DecisionInput>(data) {
        let mut a = base();
        let ev: Evidence = d.evidence.clone();
        try_change(
            &mut a,
            AssessmentChange::Decide { indicator: d.indicator.clone(), evidence: ev, accept: d.accept },
            &actor(1),
        );
    }
});
