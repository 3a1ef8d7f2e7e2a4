//! The engine loaded from a real store (a SQLite file, and PostgreSQL when configured).

use chrono::Utc;
use tocsin_domain::{
    Actor, AlertEvidence, AlertRule, Country, ForecastRun, ForecastScore, Incident, IncidentInput,
    SignalRecord, Tlp,
};
use tocsin_rules::{Reason, RuleEngine};
use tocsin_store::{DynStore, Op, StoreExt};
use tocsin_store_tests::Db;
use uuid::Uuid;

fn rule(json: serde_json::Value) -> AlertRule {
    let mut base = serde_json::json!({"name": "R", "severity": "high", "ack_within": "30m"});
    for (k, v) in json.as_object().unwrap() {
        base[k] = v.clone();
    }
    AlertRule::parse(serde_json::from_value(base).unwrap()).unwrap()
}

fn inc(admin1: &str, date: &str, tlp: Tlp) -> Incident {
    Incident::parse(IncidentInput {
        event_date: date.into(),
        event_type: "Battles".into(),
        sub_event_type: "Armed clash".into(),
        country: "COD".into(),
        latitude: 1.5,
        longitude: 30.2,
        fatalities: 2,
        description: "clash".into(),
        tlp,
        admin1: Some(admin1.into()),
        ..Default::default()
    })
    .unwrap()
}

fn run(year: i32, ranks: &[(&str, u32)]) -> ForecastRun {
    ForecastRun {
        id: Uuid::now_v7(),
        year,
        model: "tocsin".into(),
        data: "data.csv".into(),
        countries: 3,
        created_at: Utc::now(),
        scores: ranks
            .iter()
            .map(|(c, r)| ForecastScore {
                country: Country::parse(c).unwrap(),
                rank: *r,
                probability: 0.2,
                contributions: vec![],
            })
            .collect(),
    }
}

async fn story(store: DynStore) {
    let sys = Actor::system("test");
    // Three Ituri incidents already stored, one of them RED, and one in another province.
    for (a, d, t) in [
        ("Ituri", "2025-03-01", Tlp::Green),
        ("Ituri", "2025-03-02", Tlp::Red),
        ("Ituri", "2025-03-03", Tlp::Green),
        ("Nord-Kivu", "2025-03-03", Tlp::Green),
    ] {
        store.create_incident(&sys, inc(a, d, t)).await.unwrap();
    }
    let signal = SignalRecord {
        id: Uuid::now_v7(),
        country: Country::parse("COD").unwrap(),
        admin1: Some("Ituri".into()),
        metric: "incidents".into(),
        week_start: "2025-02-24".parse().unwrap(),
        observed: 3.0,
        expected: 0.5,
        score: 5.0,
        threshold: 4.0,
        severity: "high".into(),
        explanation: "3 incidents against 0.5 expected".into(),
        created_at: Utc::now(),
        tlp: Tlp::Green,
    };
    store
        .record_signals(&sys, vec![signal.clone()])
        .await
        .unwrap();
    store
        .write(
            &sys,
            Op::StoreForecastRun(Box::new(run(2023, &[("SDN", 1), ("COD", 2), ("ETH", 3)]))),
        )
        .await
        .unwrap();

    let ituri = rule(serde_json::json!({"kind": "incidents", "country": "COD",
        "admin1": "Ituri", "window": "7d", "min_incidents": 3}));
    let signals = rule(serde_json::json!({"kind": "signal", "country": "COD",
        "min_severity": "moderate"}));
    let top2 = rule(serde_json::json!({"kind": "forecast", "top": 2}));
    let mut e = RuleEngine::load(&*store, vec![ituri.clone(), signals, top2])
        .await
        .unwrap();
    // Loading fires nothing but knows the rule is met.
    assert_eq!(e.met(), vec![ituri.id]);
    let next = store
        .create_incident(&sys, inc("Ituri", "2025-03-04", Tlp::Green))
        .await
        .unwrap();
    let f = e.incident_upserted(&next);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].reason, Reason::StillMet);
    assert_eq!(f[0].evidence, vec![AlertEvidence::Incident(next.id)]);
    // The stored signal was seen at load: the detector storing it again fires nothing.
    assert!(e.signals_recorded(&[signal]).is_empty());
    // The stored run is the one the next run is compared with: only ETH entered the top 2.
    let f = e.forecast_run_stored(&run(2024, &[("ETH", 1), ("SDN", 2), ("COD", 3)]));
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].country, Some(Country::parse("ETH").unwrap()));

    // A rule added at runtime is built from the store alone; met at once, its alert must
    // be labelled RED: one of the incidents it rests on is.
    let fresh = rule(serde_json::json!({"kind": "incidents", "latitude": 1.5,
        "longitude": 30.2, "radius_km": 10.0, "window": "30d", "min_incidents": 5,
        "tlp": "green"}));
    let now = e
        .reload_rule(&*store, fresh.clone())
        .await
        .unwrap()
        .expect("met");
    assert_eq!(now.evidence.len(), 5);
    assert_eq!((now.tlp_floor, now.tlp), (Tlp::Red, Tlp::Red));
    // Disabled: its state goes, nothing more fires.
    let off = AlertRule {
        enabled: false,
        ..fresh
    };
    assert!(e.reload_rule(&*store, off).await.unwrap().is_none());
    let more = store
        .create_incident(&sys, inc("Nord-Kivu", "2025-03-05", Tlp::Green))
        .await
        .unwrap();
    assert!(e.incident_upserted(&more).is_empty());
}

#[tokio::test]
async fn the_engine_loads_from_sqlite() {
    let db = Db::sqlite().await;
    story(db.store.clone()).await;
}

#[tokio::test]
async fn the_engine_loads_from_postgres() {
    if let Some(db) = Db::postgres().await {
        story(db.store.clone()).await;
    }
}
