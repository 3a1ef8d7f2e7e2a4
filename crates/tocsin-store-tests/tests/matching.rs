//! Candidates for report matching on every backend: incidents and reports within a time
//! window and a box, newest first, limited, and never above the caller's clearance; reports
//! come with their source id so that the application can tell two reports of one source apart.

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use tocsin_domain::page::BBox;
use tocsin_domain::{
    Actor, Channel, ContactKey, Country, Incident, IncidentInput, NewReport, NewSource,
    Reliability, Tlp,
};
use tocsin_store::{IncidentNear, ReportNear, Store, StoreExt};
use tocsin_store_tests::{story, Db};
use uuid::Uuid;

story!(
    incidents_near_a_report_by_window_box_and_clearance,
    reports_near_a_report_with_their_sources
);

fn system() -> Actor {
    Actor::system("matching-test")
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

async fn incident(s: &dyn Store, date: &str, lat: f64, lon: f64, tlp: Tlp, country: &str) -> Uuid {
    let i = Incident::parse(IncidentInput {
        event_date: date.into(),
        event_type: "Violence against civilians".into(),
        sub_event_type: "Attack".into(),
        country: country.into(),
        latitude: lat,
        longitude: lon,
        fatalities: 1,
        description: "attack".into(),
        tlp,
        ..Default::default()
    })
    .unwrap();
    s.create_incident(&system(), i).await.unwrap().id
}

fn bunia_box() -> BBox {
    BBox {
        min_lon: 30.0,
        min_lat: 1.3,
        max_lon: 30.5,
        max_lat: 1.8,
    }
}

async fn incidents_near_a_report_by_window_box_and_clearance(s: &dyn Store, _db: &Db) {
    let inside = incident(s, "2026-03-10", 1.56, 30.25, Tlp::Amber, "COD").await;
    let inside_later = incident(s, "2026-03-12", 1.50, 30.20, Tlp::Green, "COD").await;
    let _too_early = incident(s, "2026-03-01", 1.56, 30.25, Tlp::Clear, "COD").await;
    let _too_far = incident(s, "2026-03-10", 0.49, 29.47, Tlp::Clear, "COD").await;
    let secret = incident(s, "2026-03-10", 1.56, 30.25, Tlp::Red, "COD").await;
    let q = IncidentNear {
        from: day("2026-03-08"),
        to: day("2026-03-13"),
        bbox: Some(bunia_box()),
        country: None,
        max_tlp: Tlp::Amber,
        limit: 10,
    };
    let ids: Vec<Uuid> = s
        .incidents_near(&q)
        .await
        .unwrap()
        .iter()
        .map(|i| i.id)
        .collect();
    // Newest event date first; nothing above AMBER, nothing outside the window or the box.
    assert_eq!(ids, [inside_later, inside]);
    let red = IncidentNear {
        max_tlp: Tlp::Red,
        ..q.clone()
    };
    let ids: Vec<Uuid> = s
        .incidents_near(&red)
        .await
        .unwrap()
        .iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(ids.len(), 3);
    assert!(ids.contains(&secret));
    // Limited.
    let one = IncidentNear {
        limit: 1,
        ..q.clone()
    };
    assert_eq!(s.incidents_near(&one).await.unwrap().len(), 1);
    // By country without a box: the far one too, never the other country.
    let _abroad = incident(s, "2026-03-10", 4.36, 18.55, Tlp::Clear, "CAF").await;
    let by_country = IncidentNear {
        bbox: None,
        country: Some(Country::parse("COD").unwrap()),
        ..q.clone()
    };
    let got = s.incidents_near(&by_country).await.unwrap();
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(got.iter().all(|i| i.country.code() == "COD"));
}

async fn reports_near_a_report_with_their_sources(s: &dyn Store, _db: &Db) {
    let key = ContactKey::generate();
    let src = s
        .create_source(
            &system(),
            NewSource::new("M-0001", "monitor", Reliability::B, Tlp::Amber, None, &key).unwrap(),
        )
        .await
        .unwrap();
    let t0 = Utc.with_ymd_and_hms(2026, 3, 10, 8, 0, 0).unwrap();
    let mk = |text: &str,
              at: chrono::DateTime<Utc>,
              point: Option<(f64, f64)>,
              tlp: Tlp,
              source: Option<Uuid>| NewReport {
        id: tocsin_domain::random_id(),
        channel: Channel::Api,
        provider_key: None,
        source_id: source,
        text: text.into(),
        tlp,
        latitude: point.map(|p| p.0),
        longitude: point.map(|p| p.1),
        country: None,
        occurred_at: None,
        received_at: at,
        meta: Default::default(),
    };
    let new = s
        .create_report(
            &system(),
            mk(
                "attack in Bunia",
                t0,
                Some((1.56, 30.25)),
                Tlp::Amber,
                Some(src.id),
            ),
        )
        .await
        .unwrap();
    let placed = s
        .create_report(
            &system(),
            mk(
                "market attacked",
                t0 - Duration::hours(3),
                Some((1.55, 30.24)),
                Tlp::Amber,
                Some(src.id),
            ),
        )
        .await
        .unwrap();
    let unplaced = s
        .create_report(
            &system(),
            mk(
                "attaque à Bunia",
                t0 - Duration::hours(5),
                None,
                Tlp::Green,
                None,
            ),
        )
        .await
        .unwrap();
    let _far = s
        .create_report(
            &system(),
            mk(
                "attack in Goma",
                t0 - Duration::hours(1),
                Some((-1.68, 29.22)),
                Tlp::Clear,
                None,
            ),
        )
        .await
        .unwrap();
    let _old = s
        .create_report(
            &system(),
            mk(
                "attack in Bunia",
                t0 - Duration::days(9),
                Some((1.56, 30.25)),
                Tlp::Clear,
                None,
            ),
        )
        .await
        .unwrap();
    let secret = s
        .create_report(
            &system(),
            mk(
                "attack in Bunia",
                t0 - Duration::hours(2),
                Some((1.56, 30.25)),
                Tlp::Red,
                None,
            ),
        )
        .await
        .unwrap();
    let q = ReportNear {
        from: t0 - Duration::days(3),
        to: t0 + Duration::days(1),
        bbox: Some(bunia_box()),
        unplaced: true,
        country: None,
        exclude: Some(new.id),
        max_tlp: Tlp::Amber,
        limit: 10,
    };
    let got = s.reports_near(&q).await.unwrap();
    let ids: Vec<Uuid> = got.iter().map(|r| r.report.id).collect();
    assert_eq!(
        ids,
        [placed.id, unplaced.id],
        "newest first, none above AMBER, not the report itself"
    );
    assert_eq!(got[0].source_id, Some(src.id));
    assert_eq!(got[1].source_id, None);
    let placed_only = ReportNear {
        unplaced: false,
        ..q.clone()
    };
    let ids: Vec<Uuid> = s
        .reports_near(&placed_only)
        .await
        .unwrap()
        .iter()
        .map(|r| r.report.id)
        .collect();
    assert_eq!(ids, [placed.id]);
    let red = ReportNear {
        max_tlp: Tlp::Red,
        limit: 1,
        ..q.clone()
    };
    let ids: Vec<Uuid> = s
        .reports_near(&red)
        .await
        .unwrap()
        .iter()
        .map(|r| r.report.id)
        .collect();
    // Cleared for RED, the newest is the RED one (received after `placed`).
    assert_eq!(ids, [secret.id]);
    let red = ReportNear {
        max_tlp: Tlp::Red,
        ..q.clone()
    };
    assert!(s
        .reports_near(&red)
        .await
        .unwrap()
        .iter()
        .any(|r| r.report.id == secret.id));
    // Sources by report id: unknown ids are left out.
    let mut got = s
        .report_sources(&[new.id, unplaced.id, Uuid::new_v4()])
        .await
        .unwrap();
    got.sort();
    let mut want = vec![(new.id, Some(src.id)), (unplaced.id, None)];
    want.sort();
    assert_eq!(got, want);
}
