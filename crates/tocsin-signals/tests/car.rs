//! The detector on UCDP GED 23.1 for the Central African Republic (`../shared/data/ucdp/`),
//! skipped when the file is absent. `-- --nocapture` prints the signals.

use std::path::Path;
use tocsin_domain::Incident;
use tocsin_exchange::{read, Format, ImportOptions, IsoOnly, Row};
use tocsin_signals::{detect, detect_recent, DetectorConfig, Metric, Severity};

const CAR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/ucdp/ged_v23_1_car.geojson"
);

fn incidents() -> Option<Vec<Incident>> {
    let Ok(f) = std::fs::File::open(Path::new(CAR)) else {
        assert_ne!(
            std::env::var("TOCSIN_REQUIRE_DATA").as_deref(),
            Ok("1"),
            "TOCSIN_REQUIRE_DATA=1 but {CAR} is absent"
        );
        eprintln!("skipping: {CAR} is absent (../shared/data is not beside the checkout)");
        return None;
    };
    let mut out = vec![];
    read(
        Format::Ucdp,
        f,
        &ImportOptions::new(Format::Ucdp),
        &IsoOnly,
        &mut |row| {
            if let Row::Incident(i) = row {
                out.push(*i);
            }
            Ok(())
        },
    )
    .unwrap();
    Some(out)
}

#[test]
fn central_african_republic() {
    let Some(incidents) = incidents() else {
        return;
    };
    assert_eq!(incidents.len(), 1848);
    let cfg = DetectorConfig::default();
    let signals = detect(&incidents, &cfg, None).unwrap();
    println!("{} signals:", signals.len());
    for s in &signals {
        println!("{} {:<10} {}", s.week_start, s.metric, s.explanation);
    }
    let found = |admin1: Option<&str>, metric: Metric, from: &str, to: &str| {
        signals.iter().any(|s| {
            s.area.admin1.as_deref() == admin1
                && s.metric == metric
                && s.week_start.to_string().as_str() >= from
                && s.week_start.to_string().as_str() <= to
        })
    };
    // Séléka's offensive (December 2012) and its capture of Bangui (24 March 2013).
    assert!(found(None, Metric::Incidents, "2012-12-01", "2013-04-30"));
    // The anti-balaka attack on Bangui of 5 December 2013 and the killings that followed,
    // in the country and in Bangui.
    assert!(found(None, Metric::Incidents, "2013-11-25", "2014-01-31"));
    assert!(found(
        Some("Bangui province"),
        Metric::Incidents,
        "2013-11-25",
        "2014-01-31"
    ));
    assert!(found(None, Metric::Fatalities, "2013-09-01", "2014-01-31"));
    // Ordered by week, then area, then metric.
    assert!(signals.windows(2).all(|w| {
        (w[0].week_start, &w[0].area, w[0].metric) <= (w[1].week_start, &w[1].area, w[1].metric)
    }));
    assert!(signals.iter().any(|s| s.severity == Severity::High));

    // A scheduled run at the end of 2013 records the last four weeks' signals only.
    let as_of = chrono::NaiveDate::from_ymd_opt(2013, 12, 31).unwrap();
    let recent = detect_recent(&incidents, &cfg, Some(as_of), 4).unwrap();
    println!("\nrun on {as_of}, last 4 weeks:");
    for s in &recent {
        println!("{} {:<10} {}", s.week_start, s.metric, s.explanation);
    }
    assert!(!recent.is_empty());
    assert!(recent
        .iter()
        .all(|s| s.week_start >= chrono::NaiveDate::from_ymd_opt(2013, 12, 9).unwrap()));
    // Signals serialise.
    let json = serde_json::to_string(&recent[0]).unwrap();
    assert_eq!(
        serde_json::from_str::<tocsin_signals::Signal>(&json).unwrap(),
        recent[0]
    );
}
