//! Untrusted `POST /api/v1/incidents` and `PATCH /api/v1/incidents/{id}` bodies.
//! The same bytes are tried as a new incident and as a patch on a valid incident.
//! Nothing may panic; a refused patch must leave the incident unchanged, and an accepted
//! one must bump the version by exactly one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tocsin_domain::{Incident, IncidentInput, IncidentPatch, Tlp};
use tocsin_server::input::parse_json;

fn valid() -> Incident {
    Incident::parse(IncidentInput {
        event_date: "2025-03-01".into(),
        event_type: "Violence against civilians".into(),
        sub_event_type: "Attack".into(),
        country: "CAF".into(),
        latitude: 6.1,
        longitude: 20.9,
        fatalities: 3,
        description: "Village attacked".into(),
        tlp: Tlp::Amber,
        ..Default::default()
    })
    .expect("the base incident is valid")
}

fn check(i: &Incident) {
    assert!((-90.0..=90.0).contains(&i.latitude));
    assert!((-180.0..=180.0).contains(&i.longitude));
    assert!(i.fatalities >= 0);
    assert!((1..=3).contains(&i.date_precision));
    assert!((1..=3).contains(&i.geo_precision));
    assert!((1..=6).contains(&i.credibility));
    tocsin_domain::incident::EventType::parse(&i.event_type, &i.sub_event_type)
        .expect("accepted incident has a valid ACLED pair");
}

fuzz_target!(|data: &[u8]| {
    if let Ok(input) = parse_json::<IncidentInput>(data) {
        if let Ok(i) = Incident::parse(input) {
            assert_eq!(i.version, 1);
            check(&i);
        }
    }
    if let Ok(patch) = parse_json::<IncidentPatch>(data) {
        let mut i = valid();
        let before = i.clone();
        match i.apply(patch) {
            Ok(()) => {
                assert_eq!(i.version, before.version + 1);
                assert_eq!(i.id, before.id);
                check(&i);
            }
            Err(_) => assert_eq!(i, before, "a refused patch changed the incident"),
        }
    }
});
