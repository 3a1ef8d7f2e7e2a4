//! A brief's content made by hand (for the layout tests and the benchmark): a situation with
//! twelve months of incidents, three rated risk factors, measures, actions and a precedent.
#![allow(dead_code)]

use chrono::NaiveDate;
use tocsin_app::brief::*;
use tocsin_domain::{ActionStatus, Lang, Level, Role, Tlp};

pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

pub const AR_NAMES: [&str; 3] = [
    "حالات النزاع المسلح أو غيرها من أشكال عدم الاستقرار",
    "ضعف هياكل الدولة",
    "العوامل المحفزة",
];
pub const EN_NAMES: [&str; 3] = [
    "Situations of armed conflict or other forms of instability",
    "Weakness of State structures",
    "Triggering factors",
];

pub fn content(lang: Lang) -> BriefContent {
    let names = if lang == Lang::Ar { AR_NAMES } else { EN_NAMES };
    let factor = |n: u32, name: &str, level: Level, previous: Option<Level>, change| BriefFactor {
        number: n,
        name: name.to_string(),
        level,
        previous,
        change,
    };
    BriefContent {
        situation: BriefSituation {
            id: uuid::Uuid::nil(),
            name: "Ouham-Pendé: north-west".into(),
            country: "CAF".into(),
            country_name: "Central African Republic".into(),
            admin1: vec!["Ouham-Pendé".into(), "Ouham".into()],
            status: "active".into(),
            description: "Armed groups contest the transhumance corridors; attacks on villages \
                          rose after the rainy season."
                .into(),
        },
        audience: Role::DeskOfficer,
        lang,
        clearance: Tlp::Amber,
        tlp: Tlp::Amber,
        made_on: date(2026, 12, 6),
        assessment: Some(BriefAssessment {
            as_of: date(2026, 11, 30),
            summary: "Risk rising: attacks on civilians along the corridors, hate speech on \
                      local radio, few mitigating factors."
                .into(),
            framework: "un-foa-2014".into(),
            framework_name: "Framework of Analysis for Atrocity Crimes".into(),
            previous_as_of: Some(date(2026, 8, 31)),
        }),
        factors: vec![
            factor(1, names[0], Level::Severe, Some(Level::High), Change::Up),
            factor(3, names[1], Level::High, Some(Level::High), Change::Same),
            factor(8, names[2], Level::Moderate, None, Change::New),
        ],
        names_unchecked: lang != Lang::En,
        totals: BriefTotals {
            incidents: 48,
            verified: 21,
            fatalities: 133,
            capped: false,
        },
        key_incidents: (0..5)
            .map(|i| BriefIncident {
                date: date(2026, 11, 1 + i),
                place: format!("Village {i}"),
                event_type: "Violence against civilians".into(),
                sub_event_type: "Attack".into(),
                fatalities: 20 - u64::from(i),
                description: "Armed men attacked the market at dawn and burned houses; \
                              residents fled towards the town."
                    .into(),
                tlp: Tlp::Amber,
            })
            .collect(),
        window: tocsin_app::overview::TrendWindow::default_for(date(2026, 12, 6)),
        trend: (0..52)
            .map(|w| TrendBar {
                label: (date(2025, 12, 8) + chrono::Duration::weeks(w)).to_string(),
                incidents: (w as u64 * 7) % 11,
                fatalities: (w as u64 * 13) % 29,
            })
            .collect(),
        points: (0..48u64)
            .map(|i| MapPoint {
                lat: 6.5 + (i % 7) as f64 * 0.2,
                lon: 16.0 + (i % 5) as f64 * 0.3,
                fatalities: i % 9,
                verified: i % 2 == 0,
            })
            .collect(),
        measures: vec![
            BriefMeasure {
                id: "preventive_diplomacy".into(),
                name: "Preventive diplomacy".into(),
                category: "diplomatic".into(),
                factors: vec![1, 3],
            },
            BriefMeasure {
                id: "monitoring".into(),
                name: "Human-rights monitoring".into(),
                category: "monitoring".into(),
                factors: vec![1],
            },
        ],
        measures_note: None,
        open_actions: vec![BriefAction {
            measure: "Preventive diplomacy".into(),
            department: "foreign affairs".into(),
            status: ActionStatus::InProgress,
            due_date: date(2026, 12, 1),
            overdue: true,
        }],
        gaps: vec![BriefGap {
            number: 3,
            name: names[1].into(),
            level: Level::High,
        }],
        precedents: vec![BriefPrecedent {
            title: "Kenya 2008".into(),
            country: "Kenya".into(),
            years: "2007–2008".into(),
            assessment: "success".into(),
            outcome: "Mediation ended the post-election violence within weeks.".into(),
        }],
        legal: vec![],
        warnings: vec![],
    }
}
