//! Tags on incidents and reports, and evidence suggestions: which records may bear on which
//! indicator of a framework, for the analyst to accept or dismiss. Nothing here sets a level.

use serde::Serialize;
use std::collections::HashMap;
use tocsin_framework::{EvidenceMap, EvidenceRule};
use uuid::Uuid;

use crate::assessment::{Assessment, Evidence, EvidenceKind};
use crate::{DomainError, Incident, Report};

/// The most tags one record may carry.
pub const MAX_TAGS: usize = 32;

/// Normalise a set of tags: trimmed, lower case, `a-z 0-9 - _ :`, 1–64 bytes each, at most
/// [`MAX_TAGS`], sorted, no repeats.
pub fn normalize_tags(tags: &[String]) -> Result<Vec<String>, DomainError> {
    let mut out: Vec<String> = Vec::with_capacity(tags.len());
    for t in tags {
        let t = t.trim().to_lowercase().replace(' ', "-");
        if t.is_empty()
            || t.len() > 64
            || !t
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_:".contains(c))
        {
            return Err(DomainError::invalid(
                "tags",
                format!("{t:?}: a tag is 1-64 characters of a-z, 0-9, '-', '_' or ':'"),
            ));
        }
        out.push(t);
    }
    out.sort();
    out.dedup();
    if out.len() > MAX_TAGS {
        return Err(DomainError::invalid(
            "tags",
            format!("at most {MAX_TAGS} tags"),
        ));
    }
    Ok(out)
}

/// A record tags can be put on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tagged {
    /// An incident.
    Incident,
    /// A report.
    Report,
}

impl Tagged {
    /// `incident` or `report`.
    pub fn as_str(self) -> &'static str {
        match self {
            Tagged::Incident => "incident",
            Tagged::Report => "report",
        }
    }
}

/// "Evidence suggests indicator 7.9": a record that matches a rule of the evidence map.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Suggestion {
    /// The indicator.
    pub indicator: String,
    /// The record.
    pub evidence: Evidence,
    /// Why, from the rule.
    pub why: String,
    /// A short label of the record (date, place, type).
    pub label: String,
}

fn rule_matches_incident(r: &EvidenceRule, i: &Incident, tags: &[String]) -> bool {
    if r.report_category.is_some() {
        return false;
    }
    r.event_type.as_deref().is_none_or(|e| e == i.event_type)
        && r.sub_event_type
            .as_deref()
            .is_none_or(|e| e == i.sub_event_type)
        && r.targeted_group.is_none_or(|want| {
            want == i
                .targeted_group
                .as_deref()
                .is_some_and(|g| !g.trim().is_empty())
        })
        && r.min_fatalities.is_none_or(|m| i.fatalities >= m)
        && r.tag.as_deref().is_none_or(|t| tags.iter().any(|x| x == t))
}

fn rule_matches_report(r: &EvidenceRule, rep: &Report, tags: &[String]) -> bool {
    if r.event_type.is_some()
        || r.sub_event_type.is_some()
        || r.targeted_group.is_some()
        || r.min_fatalities.is_some()
    {
        return false;
    }
    r.report_category
        .as_deref()
        .is_none_or(|c| rep.meta.category.as_deref() == Some(c))
        && r.tag.as_deref().is_none_or(|t| tags.iter().any(|x| x == t))
}

/// Suggestions for `assessment` from these incidents and reports (with their tags), leaving
/// out what the analyst already decided and evidence already linked to the indicator. One
/// suggestion per (indicator, record); ordered by indicator, then newest record first.
pub fn suggest(
    map: &EvidenceMap,
    assessment: &Assessment,
    incidents: &[Incident],
    reports: &[Report],
    tags: &HashMap<Uuid, Vec<String>>,
) -> Vec<Suggestion> {
    let none = Vec::new();
    let mut out: Vec<(Suggestion, chrono::NaiveDate)> = vec![];
    let mut seen = std::collections::HashSet::new();
    let linked = |ind: &str, e: &Evidence| {
        assessment
            .observations
            .iter()
            .any(|o| o.indicator == ind && o.evidence.iter().any(|x| x.reference == e.reference))
    };
    let mut push = |r: &EvidenceRule, e: Evidence, label: String, date| {
        if assessment.decision(&r.indicator, &e).is_some() || linked(&r.indicator, &e) {
            return;
        }
        if seen.insert((r.indicator.clone(), e.reference.clone())) {
            out.push((
                Suggestion {
                    indicator: r.indicator.clone(),
                    evidence: e,
                    why: r.why.clone(),
                    label,
                },
                date,
            ));
        }
    };
    for r in &map.rules {
        for i in incidents {
            let t = tags.get(&i.id).unwrap_or(&none);
            if rule_matches_incident(r, i, t) {
                let label = format!(
                    "{} · {} · {}{}",
                    i.event_date,
                    i.sub_event_type,
                    i.location
                        .as_deref()
                        .or(i.admin1.as_deref())
                        .unwrap_or(i.country.code()),
                    if i.fatalities > 0 {
                        format!(" · {} killed", i.fatalities)
                    } else {
                        String::new()
                    }
                );
                let e = Evidence {
                    kind: EvidenceKind::Incident,
                    reference: i.id.to_string(),
                    note: None,
                };
                push(r, e, label, i.event_date);
            }
        }
        for rep in reports {
            let t = tags.get(&rep.id).unwrap_or(&none);
            if rule_matches_report(r, rep, t) {
                let mut text: String = rep.text.chars().take(80).collect();
                if text.len() < rep.text.len() {
                    text.push('…');
                }
                let label = format!("{} · report · {text}", rep.received_at.date_naive());
                let e = Evidence {
                    kind: EvidenceKind::Report,
                    reference: rep.id.to_string(),
                    note: None,
                };
                push(r, e, label, rep.received_at.date_naive());
            }
        }
    }
    let key = |s: &str| {
        let mut p = s.split('.').map(|x| x.parse::<u32>().unwrap_or(0));
        (p.next().unwrap_or(0), p.next().unwrap_or(0))
    };
    out.sort_by(|a, b| {
        key(&a.0.indicator)
            .cmp(&key(&b.0.indicator))
            .then(b.1.cmp(&a.1))
            .then(a.0.evidence.reference.cmp(&b.0.evidence.reference))
    });
    out.into_iter().map(|(s, _)| s).collect()
}
