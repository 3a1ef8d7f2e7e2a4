//! What a user of the rules would notice: when a rule fires, what it rests on, how it reads.

use super::*;
use tocsin_domain::assessment::FactorAssessment;
use tocsin_domain::{Channel, Confidence, ForecastScore, IncidentInput, ReportMeta};

fn rule(json: serde_json::Value) -> AlertRule {
    let mut base = serde_json::json!({"name": "R", "severity": "high", "ack_within": "30m"});
    for (k, v) in json.as_object().unwrap() {
        base[k] = v.clone();
    }
    AlertRule::parse(serde_json::from_value(base).unwrap()).unwrap()
}

fn inc(country: &str, admin1: Option<&str>, date: &str, fatalities: i64) -> Incident {
    Incident::parse(IncidentInput {
        event_date: date.into(),
        event_type: "Battles".into(),
        sub_event_type: "Armed clash".into(),
        country: country.into(),
        latitude: 1.5,
        longitude: 29.0,
        fatalities,
        description: "clash".into(),
        tlp: Tlp::Green,
        admin1: admin1.map(String::from),
        ..Default::default()
    })
    .unwrap()
}

fn at(lat: f64, lon: f64, date: &str) -> Incident {
    let mut i = inc("COD", None, date, 0);
    i.latitude = lat;
    i.longitude = lon;
    i
}

fn crossed(v: &[Fired]) -> usize {
    v.iter().filter(|f| f.reason == Reason::Crossed).count()
}

fn ituri() -> AlertRule {
    rule(
        serde_json::json!({"name": "Ituri clashes", "kind": "incidents", "country": "COD",
        "admin1": "Ituri", "window": "7d", "min_incidents": 3}),
    )
}

#[test]
fn an_incident_threshold_fires_once_when_crossed_then_adds_evidence() {
    let r = ituri();
    let mut e = RuleEngine::new([r.clone()]);
    assert!(e
        .incident_upserted(&inc("COD", Some("Ituri"), "2025-03-01", 1))
        .is_empty());
    // Another province, another country: not counted.
    assert!(e
        .incident_upserted(&inc("COD", Some("Kivu"), "2025-03-02", 1))
        .is_empty());
    assert!(e
        .incident_upserted(&inc("UGA", Some("Ituri"), "2025-03-02", 1))
        .is_empty());
    assert!(e
        .incident_upserted(&inc("COD", Some("ituri "), "2025-03-02", 1))
        .is_empty());
    let third = inc("COD", Some("Ituri"), "2025-03-03", 2);
    let f = e.incident_upserted(&third);
    assert_eq!(f.len(), 1);
    let f = &f[0];
    assert_eq!(f.reason, Reason::Crossed);
    assert_eq!(f.rule_id, r.id);
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.evidence.len(), 3);
    assert_eq!(f.evidence[2], AlertEvidence::Incident(third.id));
    assert_eq!(f.country, Some(Country::parse("COD").unwrap()));
    assert_eq!(
        f.title,
        "Ituri clashes: 3 incidents in Ituri (COD) within 7d, threshold 3"
    );
    assert_eq!(e.met(), vec![r.id]);
    // Already above: the next incident is evidence for the open alert, not a new firing.
    let fourth = inc("COD", Some("Ituri"), "2025-03-04", 0);
    let f = e.incident_upserted(&fourth);
    assert_eq!(crossed(&f), 0);
    assert_eq!(f[0].reason, Reason::StillMet);
    assert_eq!(f[0].evidence, vec![AlertEvidence::Incident(fourth.id)]);
    assert!(f[0].title.starts_with("Ituri clashes: 4 incidents"));
    // The same incident again (a re-import, an unrelated edit): nothing.
    assert!(e.incident_upserted(&fourth).is_empty());
}

#[test]
fn the_window_slides_on_event_dates_and_crossing_again_fires_again() {
    let mut e = RuleEngine::new([ituri()]);
    for d in ["2025-03-01", "2025-03-02", "2025-03-03"] {
        e.incident_upserted(&inc("COD", Some("Ituri"), d, 0));
    }
    assert_eq!(e.met().len(), 1);
    // Ten days later: the window (03-04 … 03-10) holds one incident, the rule is below.
    assert!(e
        .incident_upserted(&inc("COD", Some("Ituri"), "2025-03-10", 0))
        .is_empty());
    assert!(e.met().is_empty());
    // An old incident arriving late is outside the window and counts for nothing.
    assert!(e
        .incident_upserted(&inc("COD", Some("Ituri"), "2025-03-02", 0))
        .is_empty());
    assert!(e
        .incident_upserted(&inc("COD", Some("Ituri"), "2025-03-04", 0))
        .is_empty());
    // The window's first day (03-04) counts: 7d is the newest day and the six before it.
    let f = e.incident_upserted(&inc("COD", Some("Ituri"), "2025-03-09", 0));
    assert_eq!(crossed(&f), 1);
    assert_eq!(f[0].evidence.len(), 3);
}

#[test]
fn an_updated_incident_replaces_its_contribution() {
    let r = rule(
        serde_json::json!({"kind": "incidents", "country": "CAF", "window": "30d",
        "min_fatalities": 10}),
    );
    let mut e = RuleEngine::new([r]);
    let mut i = inc("CAF", None, "2025-01-10", 4);
    assert!(e.incident_upserted(&i).is_empty());
    // The same incident imported again and again: 4 deaths, not 12.
    assert!(e.incident_upserted(&i).is_empty());
    assert!(e.incident_upserted(&i).is_empty());
    // Its toll revised to 11: crosses on its own.
    i.fatalities = 11;
    let f = e.incident_upserted(&i);
    assert_eq!(crossed(&f), 1);
    assert_eq!(
        f[0].title,
        "R: 11 deaths in 1 incident in Central African Republic (CAF) within 30d, threshold 10 deaths"
    );
    // Moved to another country: its contribution leaves the rule.
    i.country = Country::parse("TCD").unwrap();
    assert!(e.incident_upserted(&i).is_empty());
    assert!(e.met().is_empty());
    // Shown to be false: it never counts.
    i.country = Country::parse("CAF").unwrap();
    i.verification_status = VerificationStatus::Refuted;
    assert!(e.incident_upserted(&i).is_empty());
    assert!(e.met().is_empty());
}

#[test]
fn both_minimums_must_hold_when_both_are_given() {
    let r = rule(
        serde_json::json!({"kind": "incidents", "country": "SDN", "window": "2d",
        "min_incidents": 2, "min_fatalities": 10}),
    );
    let mut e = RuleEngine::new([r]);
    assert!(e
        .incident_upserted(&inc("SDN", None, "2025-05-01", 20))
        .is_empty());
    let f = e.incident_upserted(&inc("SDN", None, "2025-05-02", 0));
    assert_eq!(crossed(&f), 1);
    assert!(f[0]
        .title
        .ends_with("within 2d, threshold 2 incidents and 10 deaths"));
}

#[test]
fn disabled_rules_never_fire() {
    let mut off = ituri();
    off.enabled = false;
    let mut e = RuleEngine::new([off.clone()]);
    assert!(e.is_empty());
    for d in ["2025-03-01", "2025-03-02", "2025-03-03", "2025-03-04"] {
        assert!(e
            .incident_upserted(&inc("COD", Some("Ituri"), d, 0))
            .is_empty());
    }
    // Enabled at runtime: its window is rebuilt from the incidents given, met at once.
    let on = AlertRule {
        enabled: true,
        version: 2,
        ..off.clone()
    };
    let seen: Vec<Incident> = ["2025-03-01", "2025-03-02", "2025-03-03"]
        .iter()
        .map(|d| inc("COD", Some("Ituri"), d, 0))
        .collect();
    let now = e.set_rule(on.clone(), &seen).expect("met at once");
    assert_eq!((now.reason, now.rule_version), (Reason::Crossed, 2));
    assert_eq!(now.evidence.len(), 3);
    // Rebuilt state is keyed by id like the rest: feeding one of them again adds nothing.
    assert!(e.incident_upserted(&seen[0]).is_empty());
    // Disabled again: nothing more, whatever arrives.
    assert!(e.set_rule(off, &seen).is_none());
    assert!(e.is_empty());
    assert!(e
        .incident_upserted(&inc("COD", Some("Ituri"), "2025-03-05", 0))
        .is_empty());
    assert!(e.holders.is_empty(), "no state kept for a disabled rule");
}

#[test]
fn radius_areas_use_great_circle_distance() {
    // 100 km around a point at 60° N: 1.7° of longitude there is about 94 km (a flat map in
    // degrees would say 189 km), 2.0° about 111 km.
    let r = rule(
        serde_json::json!({"kind": "incidents", "latitude": 60.0, "longitude": 0.0,
        "radius_km": 100.0, "window": "1d", "min_incidents": 2}),
    );
    let mut e = RuleEngine::new([r]);
    assert!(e.incident_upserted(&at(60.0, 2.0, "2025-01-01")).is_empty());
    assert!(e
        .incident_upserted(&at(60.0, -1.7, "2025-01-01"))
        .is_empty());
    let f = e.incident_upserted(&at(60.0, 1.7, "2025-01-01"));
    assert_eq!(crossed(&f), 1);
    assert_eq!(f[0].evidence.len(), 2);
    assert!(f[0]
        .title
        .contains("within 100 km of 60.000, 0.000 within 1d"));
    // Across the antimeridian: 0.4° apart on the equator is 44 km.
    let r = rule(
        serde_json::json!({"kind": "incidents", "latitude": 0.0, "longitude": 179.8,
        "radius_km": 50.0, "window": "1d", "min_incidents": 1}),
    );
    let mut e = RuleEngine::new([r]);
    assert_eq!(
        crossed(&e.incident_upserted(&at(0.0, -179.8, "2025-01-01"))),
        1
    );
}

#[test]
fn situation_areas_event_types_and_civilian_targeting_filter() {
    let s = Uuid::now_v7();
    let r = rule(
        serde_json::json!({"kind": "incidents", "situation": s, "window": "7d",
        "min_incidents": 2, "event_types": ["Violence against civilians", "Riots"],
        "civilian_targeting": true}),
    );
    let mut e = RuleEngine::new([r]);
    let mut vac = inc("SSD", None, "2025-02-01", 1);
    vac.event_type = "Violence against civilians".into();
    vac.sub_event_type = "Attack".into();
    vac.situation_id = Some(s);
    let mut riot = inc("SSD", None, "2025-02-02", 1);
    riot.event_type = "Riots".into();
    riot.sub_event_type = "Mob violence".into();
    riot.situation_id = Some(s);
    // A riot that targets nobody in particular does not count; outside the situation neither.
    assert!(e.incident_upserted(&riot).is_empty());
    let mut elsewhere = vac.clone();
    elsewhere.id = Uuid::now_v7();
    elsewhere.situation_id = None;
    assert!(e.incident_upserted(&elsewhere).is_empty());
    assert!(e.incident_upserted(&vac).is_empty());
    // The riot's targeted group recorded as civilians: now it counts.
    riot.targeted_group = Some("Civilians (Nuer)".into());
    let f = e.incident_upserted(&riot);
    assert_eq!(crossed(&f), 1);
    assert_eq!(f[0].situation, Some(s));
    assert!(f[0]
        .title
        .contains("2 incidents of type Violence against civilians or Riots targeting civilians"));
    // UCDP one-sided violence targets civilians whatever its ACLED type.
    let mut b = inc("SSD", None, "2025-02-01", 0);
    assert!(!targets_civilians(&b));
    b.violence_type = Some(3);
    assert!(targets_civilians(&b));
}

#[test]
fn the_alert_label_covers_its_evidence() {
    let r = rule(
        serde_json::json!({"kind": "incidents", "country": "MLI", "window": "7d",
        "min_incidents": 2, "tlp": "green"}),
    );
    let mut e = RuleEngine::new([r]);
    let mut a = inc("MLI", None, "2025-04-01", 0);
    a.tlp = Tlp::AmberStrict;
    e.incident_upserted(&a);
    let f = e.incident_upserted(&inc("MLI", None, "2025-04-02", 0));
    assert_eq!(
        (f[0].tlp_floor, f[0].tlp),
        (Tlp::AmberStrict, Tlp::AmberStrict)
    );
    // Evidence added later carries its own floor; the rule's label when that is higher.
    let f = e.incident_upserted(&inc("MLI", None, "2025-04-03", 0));
    assert_eq!((f[0].tlp_floor, f[0].tlp), (Tlp::Green, Tlp::Green));
}

fn signal(
    country: &str,
    admin1: Option<&str>,
    week: &str,
    severity: &str,
    tlp: Tlp,
) -> SignalRecord {
    SignalRecord {
        id: Uuid::now_v7(),
        country: Country::parse(country).unwrap(),
        admin1: admin1.map(String::from),
        metric: "incidents".into(),
        week_start: week.parse().unwrap(),
        observed: 14.0,
        expected: 2.3,
        score: 5.0,
        threshold: 4.0,
        severity: severity.into(),
        explanation: "14 incidents against 2.3 expected".into(),
        created_at: Utc::now(),
        tlp,
    }
}

#[test]
fn a_signal_rule_fires_once_per_area_and_week_at_its_severity() {
    let r = rule(
        serde_json::json!({"kind": "signal", "country": "COD", "admin1": "Ituri",
        "min_severity": "high"}),
    );
    let mut e = RuleEngine::new([r.clone()]);
    // The detector stores one record per clearance: moderate from what GREEN may see, high
    // from everything. The evidence is the lowest-labelled record at the severity.
    let high_red = signal("COD", Some("Ituri"), "2025-03-03", "high", Tlp::Red);
    let high_amber = signal("COD", Some("Ituri"), "2025-03-03", "high", Tlp::Amber);
    let run = vec![
        signal("COD", Some("Ituri"), "2025-03-03", "moderate", Tlp::Green),
        high_red.clone(),
        high_amber.clone(),
        signal("COD", Some("Kivu"), "2025-03-03", "high", Tlp::Green),
        signal("COD", None, "2025-03-03", "high", Tlp::Green),
    ];
    let f = e.signals_recorded(&run);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].evidence, vec![AlertEvidence::Signal(high_amber.id)]);
    assert_eq!(f[0].tlp_floor, Tlp::Amber);
    assert_eq!(
        f[0].title,
        "R: high escalation signal in Ituri (COD), incidents in the week of 2025-03-03"
    );
    // The next scheduled run stores the same signals again: nothing new.
    assert!(e.signals_recorded(&run).is_empty());
    // A moderate signal the next week is below the rule.
    assert!(e
        .signals_recorded(&[signal(
            "COD",
            Some("Ituri"),
            "2025-03-10",
            "moderate",
            Tlp::Green
        )])
        .is_empty());
    // …until the same week reaches high.
    let f = e.signals_recorded(&[signal(
        "COD",
        Some("Ituri"),
        "2025-03-10",
        "high",
        Tlp::Green,
    )]);
    assert_eq!(crossed(&f), 1);
}

fn assessment(situation: Uuid, as_of: &str, levels: &[(u32, Level)]) -> Assessment {
    Assessment {
        id: Uuid::now_v7(),
        situation_id: situation,
        framework: "un-foa-2014".into(),
        as_of: as_of.parse().unwrap(),
        status: AssessmentStatus::Published,
        summary: String::new(),
        tlp: Tlp::Amber,
        factors: levels
            .iter()
            .map(|(f, l)| FactorAssessment {
                factor: *f,
                level: *l,
                confidence: Confidence::Medium,
                rationale: "because".into(),
                evidence: vec![],
            })
            .collect(),
        observations: vec![],
        decisions: vec![],
        author_id: Uuid::nil(),
        author: "alice".into(),
        history: vec![],
        version: 1,
        created_at: Utc::now(),
        updated_at: Utc::now(),
    }
}

#[test]
fn an_assessment_rule_fires_when_a_factor_is_raised_to_its_level() {
    let s = Uuid::now_v7();
    let r = rule(
        serde_json::json!({"kind": "assessment", "situation": s, "factor": "RF2",
        "min_level": "high"}),
    );
    let any = rule(serde_json::json!({"kind": "assessment", "min_level": "severe"}));
    let mut e = RuleEngine::new([r.clone(), any.clone()]);
    // A draft is not published: nothing.
    let mut draft = assessment(s, "2025-01-01", &[(2, Level::Severe)]);
    draft.status = AssessmentStatus::Draft;
    assert!(e.assessment_published(&draft).is_empty());
    let a1 = assessment(s, "2025-01-01", &[(1, Level::Severe), (2, Level::Moderate)]);
    let f = e.assessment_published(&a1);
    assert_eq!(f.len(), 1, "factor 1 severe fires the any-factor rule only");
    assert_eq!(f[0].rule_id, any.id);
    let a2 = assessment(s, "2025-02-01", &[(1, Level::Severe), (2, Level::High)]);
    let f = e.assessment_published(&a2);
    assert_eq!(f.len(), 1, "factor 1 stays severe: no new firing");
    assert_eq!(f[0].rule_id, r.id);
    assert_eq!(f[0].evidence, vec![AlertEvidence::Assessment(a2.id)]);
    assert_eq!((f[0].situation, f[0].tlp_floor), (Some(s), Tlp::Amber));
    assert_eq!(
        f[0].title,
        "R: assessment of 2025-02-01 puts risk factor 2 at high (threshold high)"
    );
    // Published again (a re-feed): nothing. Raised further: only the rule at severe fires;
    // lowered then raised again: fires again.
    assert!(e.assessment_published(&a2).is_empty());
    let f = e.assessment_published(&assessment(s, "2025-03-01", &[(2, Level::Severe)]));
    assert_eq!(
        f.iter().map(|f| f.rule_id).collect::<Vec<_>>(),
        vec![any.id]
    );
    assert!(e
        .assessment_published(&assessment(s, "2025-04-01", &[(2, Level::Low)]))
        .is_empty());
    // An older assessment published late does not count against the latest.
    assert!(e
        .assessment_published(&assessment(s, "2024-01-01", &[(2, Level::High)]))
        .is_empty());
    assert_eq!(
        e.assessment_published(&assessment(s, "2025-05-01", &[(2, Level::High)]))
            .len(),
        1
    );
    // Another situation: the situation rule stays silent.
    assert!(e
        .assessment_published(&assessment(
            Uuid::now_v7(),
            "2025-05-01",
            &[(2, Level::High)]
        ))
        .is_empty());
    assert_eq!(factor_number("rf 12"), Some(12));
    assert_eq!(factor_number("3"), Some(3));
    assert_eq!(factor_number("x"), None);
    assert_eq!(factor_number("日1"), None);
}

fn forecast(year: i32, ranks: &[(&str, u32)]) -> ForecastRun {
    ForecastRun {
        id: Uuid::now_v7(),
        year,
        model: "tocsin".into(),
        data: "data.csv".into(),
        countries: 160,
        created_at: Utc::now(),
        scores: ranks
            .iter()
            .map(|(c, r)| ForecastScore {
                country: Country::parse(c).unwrap(),
                rank: *r,
                probability: 0.1,
                contributions: vec![],
            })
            .collect(),
    }
}

#[test]
fn a_country_entering_the_top_n_fires_once() {
    let r = rule(serde_json::json!({"kind": "forecast", "top": 2}));
    let only_eth = rule(serde_json::json!({"kind": "forecast", "top": 3, "country": "ETH"}));
    let mut e = RuleEngine::new([r.clone(), only_eth.clone()]);
    let run1 = forecast(2023, &[("SDN", 1), ("MMR", 2), ("ETH", 3)]);
    let f = e.forecast_run_stored(&run1);
    let got: Vec<(Uuid, String)> = f
        .iter()
        .map(|f| (f.rule_id, f.country.clone().unwrap().code().to_string()))
        .collect();
    assert_eq!(
        got,
        vec![
            (r.id, "SDN".into()),
            (r.id, "MMR".into()),
            (only_eth.id, "ETH".into())
        ]
    );
    // Stored again, or a run with the same top: nothing.
    assert!(e.forecast_run_stored(&run1).is_empty());
    assert!(e
        .forecast_run_stored(&forecast(2023, &[("MMR", 1), ("SDN", 2), ("ETH", 3)]))
        .is_empty());
    let f = e.forecast_run_stored(&forecast(2024, &[("ETH", 1), ("SDN", 2), ("MMR", 3)]));
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].rule_id, r.id);
    assert_eq!(
        f[0].title,
        "R: Ethiopia (ETH) entered the top 2 of the tocsin forecast: rank 1 of 160 (2024 data), was 3"
    );
    assert_eq!(f[0].tlp, Tlp::Amber);
    // An older data year stored late is not compared against.
    assert!(e
        .forecast_run_stored(&forecast(2020, &[("COD", 1)]))
        .is_empty());
}

fn report(category: Option<&str>, country: Option<&str>) -> Report {
    Report {
        id: Uuid::new_v4(),
        channel: Channel::Sms,
        source: Some("falcon-7".into()),
        text: "ATTACK Bunia 20 killed".into(),
        tlp: Tlp::AmberStrict,
        latitude: None,
        longitude: None,
        country: country.map(|c| Country::parse(c).unwrap()),
        occurred_at: None,
        received_at: Utc::now(),
        meta: ReportMeta {
            category: category.map(String::from),
            ..Default::default()
        },
        credibility: 6,
        reliability: tocsin_domain::Reliability::F,
        grading: "F6".into(),
    }
}

#[test]
fn a_report_rule_fires_on_its_categories_and_never_names_the_source() {
    let r = rule(
        serde_json::json!({"kind": "report", "categories": ["attack", "abduction"],
        "country": "COD", "tlp": "green"}),
    );
    let mut e = RuleEngine::new([r.clone()]);
    assert!(e
        .report_stored(&report(Some("displacement"), Some("COD")))
        .is_empty());
    assert!(e
        .report_stored(&report(Some("attack"), Some("UGA")))
        .is_empty());
    assert!(e.report_stored(&report(None, Some("COD"))).is_empty());
    let rep = report(Some("Attack"), Some("COD"));
    let f = e.report_stored(&rep);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].evidence, vec![AlertEvidence::Report(rep.id)]);
    assert_eq!(
        (f[0].tlp_floor, f[0].tlp),
        (Tlp::AmberStrict, Tlp::AmberStrict)
    );
    assert_eq!(
        f[0].title,
        "R: report with urgency code \"attack\" about Congo, The Democratic Republic of the (COD)"
    );
    assert!(!f[0].title.contains("falcon") && !f[0].title.contains("Bunia"));
    assert!(e.report_stored(&rep).is_empty(), "fed twice, fires once");
}
