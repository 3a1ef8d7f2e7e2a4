//! Tags on incidents and reports, and evidence suggestions: which records may bear on which
//! indicator of a framework, for the analyst to accept or dismiss. Nothing here sets a level.

use serde::Serialize;
use std::collections::HashMap;
use tocsin_framework::{EvidenceMap, EvidenceRule};
use uuid::Uuid;

use crate::assessment::{Assessment, Evidence, EvidenceKind};
use crate::{DomainError, Incident, PlacedFlag, Report};

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

/// Whether a rule is about confirmed speech rather than incidents and reports.
fn speech_rule(r: &EvidenceRule) -> bool {
    r.speech == Some(true) || r.speech_category.is_some()
}

fn rule_matches_flag(r: &EvidenceRule, p: &PlacedFlag) -> bool {
    speech_rule(r)
        && r.event_type.is_none()
        && r.sub_event_type.is_none()
        && r.targeted_group.is_none()
        && r.min_fatalities.is_none()
        && r.report_category.is_none()
        && r.tag.is_none()
        && p.flag.state == crate::FlagState::Confirmed
        && r.speech_category
            .as_deref()
            .is_none_or(|c| p.flag.terms.iter().any(|t| t.category == c))
}

fn rule_matches_incident(r: &EvidenceRule, i: &Incident, tags: &[String]) -> bool {
    if r.report_category.is_some() || speech_rule(r) {
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
        || speech_rule(r)
    {
        return false;
    }
    r.report_category
        .as_deref()
        .is_none_or(|c| rep.meta.category.as_deref() == Some(c))
        && r.tag.as_deref().is_none_or(|t| tags.iter().any(|x| x == t))
}

/// Suggestions for `assessment` from these incidents and reports (with their tags) and
/// confirmed dangerous-speech flags, leaving out what the analyst already decided and
/// evidence already linked to the indicator. One suggestion per (indicator, record); ordered
/// by indicator, then newest record first.
pub fn suggest(
    map: &EvidenceMap,
    assessment: &Assessment,
    incidents: &[Incident],
    reports: &[Report],
    flags: &[PlacedFlag],
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
        for p in flags {
            if rule_matches_flag(r, p) {
                let mut terms: Vec<&str> = p.flag.terms.iter().map(|t| t.term.as_str()).collect();
                terms.dedup();
                let label = format!(
                    "{} · dangerous speech · {} · {}",
                    p.said_at.date_naive(),
                    p.flag.categories().join(", "),
                    terms.join(", ")
                );
                let e = Evidence {
                    kind: EvidenceKind::SpeechFlag,
                    reference: p.flag.id.to_string(),
                    note: None,
                };
                push(r, e, label, p.said_at.date_naive());
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

/// When an evidence rule is flagged "generic rule: review" rather than listed: among the
/// pending suggestions of one rule (indicator and reason), it suggests more than `share` of
/// the incidents considered (once at least `min_incidents` were), or `count` records or more.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct GenericRule {
    /// Share of the incidents considered (default 0.5).
    pub share: f64,
    /// Records (default 50).
    pub count: u32,
    /// The share counts once this many incidents were considered (default 10).
    pub min_incidents: u32,
}

impl Default for GenericRule {
    fn default() -> Self {
        GenericRule {
            share: 0.5,
            count: 50,
            min_incidents: 10,
        }
    }
}

/// The pending suggestions of one rule that fires on most records, collapsed for review.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct GenericRuleGroup {
    /// The rule's reason (what it matches).
    pub why: String,
    /// How many records it suggests.
    pub count: usize,
    /// How many of those are incidents.
    pub incidents: usize,
    /// Their share of the incidents considered.
    pub share: f64,
    /// The suggestions.
    pub suggestions: Vec<Suggestion>,
}

/// The pending suggestions for one indicator.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SuggestionGroup {
    /// The indicator.
    pub indicator: String,
    /// How many suggestions in all (listed and collapsed).
    pub count: usize,
    /// Those of specific rules, listed.
    pub suggestions: Vec<Suggestion>,
    /// Those of generic rules, collapsed and flagged "generic rule: review".
    pub generic: Vec<GenericRuleGroup>,
}

/// Group `all` (as [`suggest`] orders them) by indicator, keeping their order; the
/// suggestions of a rule that [`GenericRule`] calls generic, given `incidents_considered`,
/// are set apart in [`SuggestionGroup::generic`].
pub fn group_suggestions(
    all: Vec<Suggestion>,
    incidents_considered: usize,
    rule: &GenericRule,
) -> Vec<SuggestionGroup> {
    let mut per_rule: HashMap<(String, String), (usize, usize)> = HashMap::new();
    for s in &all {
        let e = per_rule
            .entry((s.indicator.clone(), s.why.clone()))
            .or_default();
        e.0 += 1;
        if s.evidence.kind == EvidenceKind::Incident {
            e.1 += 1;
        }
    }
    let share_of = |incidents: usize| {
        if incidents_considered == 0 {
            0.0
        } else {
            incidents as f64 / incidents_considered as f64
        }
    };
    let generic = |(count, incidents): (usize, usize)| {
        count >= rule.count as usize
            || (incidents_considered >= rule.min_incidents as usize
                && share_of(incidents) > rule.share)
    };
    let mut out: Vec<SuggestionGroup> = vec![];
    for s in all {
        if out.last().is_none_or(|g| g.indicator != s.indicator) {
            out.push(SuggestionGroup {
                indicator: s.indicator.clone(),
                count: 0,
                suggestions: vec![],
                generic: vec![],
            });
        }
        let g = out.last_mut().expect("pushed above");
        g.count += 1;
        let counts = per_rule[&(s.indicator.clone(), s.why.clone())];
        if generic(counts) {
            match g.generic.iter_mut().find(|r| r.why == s.why) {
                Some(r) => r.suggestions.push(s),
                None => g.generic.push(GenericRuleGroup {
                    why: s.why.clone(),
                    count: counts.0,
                    incidents: counts.1,
                    share: share_of(counts.1),
                    suggestions: vec![s],
                }),
            }
        } else {
            g.suggestions.push(s);
        }
    }
    out
}

#[cfg(test)]
mod group_tests {
    use super::*;

    fn s(indicator: &str, why: &str, n: u128, kind: EvidenceKind) -> Suggestion {
        Suggestion {
            indicator: indicator.into(),
            evidence: Evidence {
                kind,
                reference: Uuid::from_u128(n).to_string(),
                note: None,
            },
            why: why.into(),
            label: String::new(),
        }
    }

    #[test]
    fn suggestions_group_by_indicator_and_a_rule_firing_on_most_incidents_is_set_apart() {
        let mut all = vec![];
        for n in 0..57 {
            all.push(s("10.1", "any killing", n, EvidenceKind::Incident));
        }
        all.push(s("10.1", "hate speech tag", 900, EvidenceKind::Report));
        for n in 0..3 {
            all.push(s(
                "7.9",
                "militia massing",
                1000 + n,
                EvidenceKind::Incident,
            ));
        }
        // 57 of 80 incidents: over half, and over the count.
        let g = group_suggestions(all.clone(), 80, &GenericRule::default());
        assert_eq!(g.len(), 2);
        assert_eq!((g[0].indicator.as_str(), g[0].count), ("10.1", 58));
        assert_eq!(g[0].suggestions.len(), 1, "the specific rule is listed");
        assert_eq!(g[0].generic.len(), 1);
        let r = &g[0].generic[0];
        assert_eq!(
            (r.why.as_str(), r.count, r.incidents),
            ("any killing", 57, 57)
        );
        assert!((r.share - 57.0 / 80.0).abs() < 1e-9);
        assert_eq!(r.suggestions.len(), 57);
        assert_eq!((g[1].count, g[1].generic.len()), (3, 0));
        // By share alone: 57 of 100 (over half) with a high count limit.
        let rule = GenericRule {
            count: 1000,
            ..Default::default()
        };
        assert_eq!(
            group_suggestions(all.clone(), 100, &rule)[0].generic.len(),
            1
        );
        // 57 of 200 is under half: listed.
        assert!(group_suggestions(all.clone(), 200, &rule)[0]
            .generic
            .is_empty());
        // Few incidents considered: the share does not count (3 of 4 is no flood).
        let few = vec![
            s("7.9", "x", 1, EvidenceKind::Incident),
            s("7.9", "x", 2, EvidenceKind::Incident),
            s("7.9", "x", 3, EvidenceKind::Incident),
        ];
        assert!(group_suggestions(few, 4, &GenericRule::default())[0]
            .generic
            .is_empty());
    }
}
