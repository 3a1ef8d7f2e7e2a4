//! The shipped toolbox loads and agrees with itself and the UN framework; broken files are
//! refused with an error naming the record and the key.

use tocsin_toolbox::{Toolbox, ToolboxError, TOOLBOX_MD};

#[test]
fn shipped_toolbox_loads_with_the_counts_its_header_states() {
    let tb = Toolbox::shipped();
    // "40 measures in 10 categories; 18 precedents; 46 reference sources".
    assert_eq!(tb.measures.len(), 40);
    assert_eq!(tb.categories.len(), 10);
    assert_eq!(tb.precedents.len(), 18);
    assert_eq!(tb.sources.len(), 46);
    assert_eq!(tb.stages.len(), 4);
    assert_eq!(tb.lead_actors.len(), 22);
    assert_eq!(tb.assessments.len(), 4);
    assert!(!tb.caveats.is_empty());
    // "Assessment counts: success 6, partial_success 5, failure 6, contested 1."
    let count = |a: &str| tb.precedents.iter().filter(|p| p.assessment == a).count();
    assert_eq!(
        [
            count("success"),
            count("partial_success"),
            count("failure"),
            count("contested")
        ],
        [6, 5, 6, 1]
    );
    let m = tb.measure("private_diplomacy").expect("a shipped measure");
    assert_eq!(m.name, "Private diplomacy: warnings and inducements");
    assert_eq!(m.category, "diplomatic");
    assert_eq!(m.stages, ["early_warning", "crisis"]);
    assert_eq!(m.risk_factors, [4, 7, 8]);
    assert_eq!(
        m.precedents,
        [
            "ken_2008_mediation",
            "gmb_2016_2017",
            "tls_1999",
            "lka_2008_2009"
        ]
    );
    assert!(m.precedents_not_taken.is_empty());
    // S7 is held as a third-party copy, so the measure built on it says so.
    assert!(
        m.to_check.iter().any(|n| n.contains("S7")),
        "{:?}",
        m.to_check
    );
    let p = tb.precedent("mkd_1992_1999_unpredep").unwrap();
    assert_eq!(p.iso3, "MKD");
    assert_eq!(p.timeline.len(), 4);
    assert_eq!(p.sources.len(), 3);
    assert!(p.measures_not_taken.is_empty());
    let kenya = tb.precedent("ken_2008_mediation").unwrap();
    assert_eq!(kenya.to_check.len(), 2, "both sources are docslib copies");
    assert!(tb.measure("no_such_measure").is_none());
}

#[test]
fn measures_for_high_risk_factors_rank_those_covering_more_first() {
    // An assessment rating high motives (4), triggering factors (8) and intergroup tensions (9).
    let tb = Toolbox::shipped();
    let hits = tb.measures_for_risk_factors(&[4, 8, 9]);
    let ids: Vec<&str> = hits.iter().map(|m| m.id.as_str()).collect();
    // Two of the three: private_diplomacy (4, 7, 8) and high_level_envoy (1, 4, 8) come first, in file order.
    assert_eq!(&ids[..2], ["private_diplomacy", "high_level_envoy"]);
    for m in &hits {
        assert!(m.risk_factors.iter().any(|f| [4, 8, 9].contains(f)));
    }
    assert!(ids.contains(&"peace_education")); // 6, 9
    assert!(!ids.contains(&"arms_embargo")); // 1, 5
    let covering = |id: &str| {
        let m = tb.measure(id).unwrap();
        m.risk_factors
            .iter()
            .filter(|f| [4, 8, 9].contains(f))
            .count()
    };
    for w in ids.windows(2) {
        assert!(covering(w[0]) >= covering(w[1]));
    }
    assert!(tb.measures_for_risk_factors(&[]).is_empty());
    assert!(tb.measures_for_risk_factors(&[99]).is_empty());
}

/// The shipped file with one edit; the edit must apply.
fn broken(from: &str, to: &str) -> ToolboxError {
    assert!(
        TOOLBOX_MD.contains(from),
        "test edit does not apply: {from}"
    );
    Toolbox::parse(&TOOLBOX_MD.replacen(from, to, 1)).expect_err("the broken file is refused")
}

fn assert_names(e: &ToolboxError, record: &str, key: Option<&str>, says: &str) {
    assert_eq!(e.record, record, "{e}");
    assert_eq!(e.key.as_deref(), key, "{e}");
    assert!(e.message.contains(says), "{e}");
    assert!(e.to_string().contains(record), "{e}");
}

#[test]
fn duplicate_id_is_refused() {
    let e = broken("#### `public_censure`", "#### `private_diplomacy`");
    assert_names(&e, "`private_diplomacy`", None, "more than one record");
}

#[test]
fn unknown_vocabulary_values_are_refused() {
    let e = broken(
        "- **stages:** early_warning, crisis\n- **risk_factors:** 4, 7, 8",
        "- **stages:** early_warning, panic\n- **risk_factors:** 4, 7, 8",
    );
    assert_names(
        &e,
        "measure `private_diplomacy`",
        Some("stages"),
        "\"panic\"",
    );
    let e = broken(
        "- **lead_actors:** foreign_ministry, head_of_government, regional_organisation\n- **risks_costs:** Easy",
        "- **lead_actors:** foreign_ministry, the_pope\n- **risks_costs:** Easy",
    );
    assert_names(
        &e,
        "measure `private_diplomacy`",
        Some("lead_actors"),
        "the_pope",
    );
    let e = broken("- **category:** diplomatic", "- **category:** magic");
    assert_names(&e, "measure `private_diplomacy`", Some("category"), "magic");
    let e = broken("- **assessment:** success", "- **assessment:** triumph");
    assert_names(
        &e,
        "precedent `mkd_1992_1999_unpredep`",
        Some("assessment"),
        "triumph",
    );
}

#[test]
fn risk_factors_outside_the_framework_are_refused() {
    let e = broken(
        "- **risk_factors:** 4, 7, 8",
        "- **risk_factors:** 4, 7, 15",
    );
    assert_names(
        &e,
        "measure `private_diplomacy`",
        Some("risk_factors"),
        "15",
    );
    let e = broken("- **risk_factors:** 4, 7, 8", "- **risk_factors:** 0");
    assert_names(
        &e,
        "measure `private_diplomacy`",
        Some("risk_factors"),
        "risk factor 0",
    );
    let e = broken("- **risk_factors:** 4, 7, 8", "- **risk_factors:** four");
    assert_names(
        &e,
        "measure `private_diplomacy`",
        Some("risk_factors"),
        "\"four\"",
    );
    // A framework with fewer factors refuses factors it lacks.
    let mut small = tocsin_framework::Framework::un_2014();
    small.risk_factors.truncate(8);
    let e = Toolbox::parse_with(TOOLBOX_MD, &small).expect_err("factor 9+ unknown");
    assert_eq!(e.key.as_deref(), Some("risk_factors"), "{e}");
}

#[test]
fn cross_references_must_agree_both_ways() {
    // The measure claims a precedent that does not list it.
    let e = broken(
        "- **precedents:** ken_2008_mediation, gmb_2016_2017, tls_1999, lka_2008_2009",
        "- **precedents:** ken_2008_mediation, gmb_2016_2017, tls_1999, lka_2008_2009, rwa_1994",
    );
    assert_names(
        &e,
        "measure `private_diplomacy`",
        Some("precedents"),
        "rwa_1994",
    );
    // A precedent that does not exist.
    let e = broken(
        "- **precedents:** ken_2008_mediation, gmb_2016_2017, tls_1999, lka_2008_2009",
        "- **precedents:** ken_2008_mediation, gmb_2016_2017, tls_1999, lka_2008_2009, atlantis_2099",
    );
    assert_names(
        &e,
        "measure `private_diplomacy`",
        Some("precedents"),
        "no precedent `atlantis_2099`",
    );
    // The precedent lists a measure that does not list it back.
    let e = broken(
        "- **measures_used:** preventive_deployment, high_level_envoy, intergroup_dialogue, human_rights_monitors, arms_embargo",
        "- **measures_used:** preventive_deployment, high_level_envoy, intergroup_dialogue, human_rights_monitors, arms_embargo, safe_areas",
    );
    assert_names(
        &e,
        "precedent `mkd_1992_1999_unpredep`",
        Some("measures_used"),
        "safe_areas",
    );
    // The same for measures proposed but not taken, both ways.
    let e = broken(
        "- **precedents_not_taken:** lka_2008_2009",
        "- **precedents_not_taken:** lka_2008_2009, rwa_1994",
    );
    assert_names(
        &e,
        "measure `unsc_action`",
        Some("precedents_not_taken"),
        "rwa_1994",
    );
    let e = broken(
        "- **measures_not_taken:** poc_peacekeeping",
        "- **measures_not_taken:** poc_peacekeeping, arms_embargo",
    );
    assert_names(
        &e,
        "precedent `kgz_2010_osh`",
        Some("measures_not_taken"),
        "arms_embargo",
    );
    let e = broken("- **basis:** S2, S3, S7", "- **basis:** S2, S3, S99");
    assert_names(&e, "measure `private_diplomacy`", Some("basis"), "S99");
}

#[test]
fn index_tables_must_agree_with_the_records() {
    let e = broken(
        "| `private_diplomacy` | Private diplomacy: warnings and inducements | diplomatic | early_warning, crisis | 4, 7, 8 |",
        "| `private_diplomacy` | Private diplomacy: warnings and inducements | diplomatic | early_warning, crisis | 4, 7, 9 |",
    );
    assert_names(
        &e,
        "measure `private_diplomacy`",
        Some("risk_factors"),
        "\"4, 7, 9\"",
    );
    let e = broken("| `rwa_1994` | Rwanda | RWA | 1993-1994 | failure |", "");
    assert_names(
        &e,
        "precedent `rwa_1994`",
        None,
        "missing from the precedent index",
    );
    let e = broken(
        "| `rwa_1994` | Rwanda | RWA | 1993-1994 | failure |",
        "| `rwa_1994` | Rwanda | RWA | 1993-1994 | success |",
    );
    assert_names(
        &e,
        "precedent `rwa_1994`",
        Some("assessment"),
        "\"success\"",
    );
}

#[test]
fn malformed_records_are_refused() {
    // A missing key.
    let e = broken("- **category:** diplomatic\n", "");
    assert_names(
        &e,
        "measure `private_diplomacy`",
        Some("category"),
        "missing",
    );
    let e = broken("- **basis:** S2, S3, S7\n", "");
    assert_names(&e, "measure `private_diplomacy`", Some("basis"), "missing");
    // An unknown key.
    let e = broken(
        "- **basis:** S2, S3, S7\n",
        "- **basis:** S2, S3, S7\n- **colour:** red\n",
    );
    assert_names(
        &e,
        "measure `private_diplomacy`",
        Some("colour"),
        "unknown key",
    );
    // Free text inside a record.
    let e = broken(
        "- **basis:** S2, S3, S7\n",
        "- **basis:** S2, S3, S7\nstray prose\n",
    );
    assert_names(
        &e,
        "measure `private_diplomacy`",
        None,
        "not a `- **key:** value` line",
    );
    // An id that is not snake_case.
    let e = broken("#### `private_diplomacy`", "#### `Private-Diplomacy`");
    assert!(e.message.contains("snake_case"), "{e}");
    // An empty value.
    let e = broken(
        "- **name:** Private diplomacy: warnings and inducements",
        "- **name:** ",
    );
    assert_eq!(e.key.as_deref(), Some("name"), "{e}");
    assert!(Toolbox::parse("").is_err());
}
