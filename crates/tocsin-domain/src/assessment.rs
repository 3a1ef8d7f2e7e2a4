//! Risk assessments of a situation against an analysis framework.
//!
//! An assessment is dated and authored, and moves draft → reviewed → published. Each risk
//! factor gets a level, a confidence, a rationale and evidence links; indicators get
//! observations. Only a draft may be edited; a second analyst reviews (never the author); a
//! published assessment is never changed again, a later one supersedes it. Accepting an
//! evidence suggestion records the evidence against its indicator and never sets a level.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tocsin_framework::Framework;
use uuid::Uuid;

use crate::{Actor, DomainError, Tlp};

/// Where an assessment is in its workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AssessmentStatus {
    /// Being written; may change.
    Draft,
    /// Checked by a second analyst; waiting to be published or sent back.
    Reviewed,
    /// Final. Never changed again.
    Published,
}

impl AssessmentStatus {
    /// `draft`, `reviewed`, `published`.
    pub fn as_str(self) -> &'static str {
        match self {
            AssessmentStatus::Draft => "draft",
            AssessmentStatus::Reviewed => "reviewed",
            AssessmentStatus::Published => "published",
        }
    }

    /// Parse a stored name.
    pub fn parse(s: &str) -> Result<AssessmentStatus, DomainError> {
        match s {
            "draft" => Ok(AssessmentStatus::Draft),
            "reviewed" => Ok(AssessmentStatus::Reviewed),
            "published" => Ok(AssessmentStatus::Published),
            _ => Err(DomainError::invalid(
                "status",
                "expected draft, reviewed or published",
            )),
        }
    }
}

/// How present a risk factor is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Not present.
    None,
    /// Present, weakly.
    Low,
    /// Present.
    Moderate,
    /// Strongly present.
    High,
    /// Present to an extreme degree.
    Severe,
}

impl Level {
    /// Every level, lowest first.
    pub const ALL: [Level; 5] = [
        Level::None,
        Level::Low,
        Level::Moderate,
        Level::High,
        Level::Severe,
    ];

    /// `none`, `low`, `moderate`, `high`, `severe`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::None => "none",
            Level::Low => "low",
            Level::Moderate => "moderate",
            Level::High => "high",
            Level::Severe => "severe",
        }
    }

    /// Parse a level name.
    pub fn parse(s: &str) -> Result<Level, DomainError> {
        Level::ALL
            .into_iter()
            .find(|l| l.as_str() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| {
                DomainError::invalid("level", "expected none, low, moderate, high or severe")
            })
    }
}

/// How sure the analyst is of a level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    /// Little or uncertain evidence.
    Low,
    /// Some corroborated evidence.
    Medium,
    /// Well corroborated.
    High,
}

impl Confidence {
    /// `low`, `medium`, `high`.
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }

    /// Parse a confidence name.
    pub fn parse(s: &str) -> Result<Confidence, DomainError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "low" => Ok(Confidence::Low),
            "medium" => Ok(Confidence::Medium),
            "high" => Ok(Confidence::High),
            _ => Err(DomainError::invalid(
                "confidence",
                "expected low, medium or high",
            )),
        }
    }
}

/// What a piece of evidence is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    /// A Tocsin incident (by id).
    Incident,
    /// A Tocsin report (by id).
    Report,
    /// An outside document (a URL or a citation).
    Document,
    /// A dangerous-speech flag an analyst confirmed (by id).
    SpeechFlag,
}

/// A link to evidence.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    /// What it is.
    pub kind: EvidenceKind,
    /// The incident or report id, or the document's URL or citation.
    pub reference: String,
    /// Why it matters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Evidence {
    fn check(&self, field: &str) -> Result<(), DomainError> {
        match self.kind {
            EvidenceKind::Incident | EvidenceKind::Report => {
                Uuid::parse_str(&self.reference).map_err(|_| {
                    DomainError::invalid(field, "an incident or report reference must be its id")
                })?;
            }
            EvidenceKind::SpeechFlag => {
                Uuid::parse_str(&self.reference).map_err(|_| {
                    DomainError::invalid(field, "a speech flag reference must be its id")
                })?;
            }
            EvidenceKind::Document => {
                if self.reference.trim().is_empty() || self.reference.len() > 2000 {
                    return Err(DomainError::invalid(
                        field,
                        "a document reference is a URL or citation of 1-2000 bytes",
                    ));
                }
            }
        }
        check_text(field, self.note.as_deref().unwrap_or(""), 2000)
    }
}

/// The assessment of one risk factor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FactorAssessment {
    /// The risk factor's number in the framework.
    pub factor: u32,
    /// How present it is.
    pub level: Level,
    /// How sure.
    pub confidence: Confidence,
    /// Why.
    pub rationale: String,
    /// What supports it.
    #[serde(default)]
    pub evidence: Vec<Evidence>,
}

/// Whether an indicator is observed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Observed {
    /// Seen.
    Present,
    /// Looked for and not seen.
    Absent,
    /// Not known.
    Unknown,
}

/// An observation of one indicator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IndicatorObservation {
    /// The indicator's number, e.g. `7.3`.
    pub indicator: String,
    /// Whether it is observed.
    pub observed: Observed,
    /// Notes.
    #[serde(default)]
    pub note: String,
    /// What supports it.
    #[serde(default)]
    pub evidence: Vec<Evidence>,
}

/// An analyst's decision on an evidence suggestion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SuggestionDecision {
    /// The indicator suggested.
    pub indicator: String,
    /// The evidence suggested.
    pub evidence: Evidence,
    /// Accepted (true) or dismissed (false).
    pub accepted: bool,
    /// Who decided.
    pub by: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// A step in the workflow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Transition {
    /// From.
    pub from: AssessmentStatus,
    /// To.
    pub to: AssessmentStatus,
    /// Who.
    pub by: String,
    /// Their user id.
    pub by_id: Uuid,
    /// When.
    pub at: DateTime<Utc>,
    /// Why (e.g. what a reviewer asked to change).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A dated, authored assessment of a situation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Assessment {
    /// Its id.
    pub id: Uuid,
    /// The situation assessed.
    pub situation_id: Uuid,
    /// The framework's id, e.g. `un-foa-2014`.
    pub framework: String,
    /// The date the assessment speaks for.
    pub as_of: NaiveDate,
    /// Workflow state.
    pub status: AssessmentStatus,
    /// Overall summary.
    pub summary: String,
    /// Its label.
    pub tlp: Tlp,
    /// Per risk factor, in factor order.
    pub factors: Vec<FactorAssessment>,
    /// Per indicator, in indicator order.
    pub observations: Vec<IndicatorObservation>,
    /// Decisions on evidence suggestions.
    pub decisions: Vec<SuggestionDecision>,
    /// The author's user id.
    pub author_id: Uuid,
    /// The author's name.
    pub author: String,
    /// Workflow steps taken.
    pub history: Vec<Transition>,
    /// Grows by one with each change.
    pub version: i64,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// A new assessment as a client sends it.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAssessment {
    /// Framework id; `un-foa-2014` by default.
    #[serde(default)]
    pub framework: Option<String>,
    /// `YYYY-MM-DD`; today by default.
    #[serde(default)]
    pub as_of: Option<NaiveDate>,
    /// Summary.
    #[serde(default)]
    pub summary: Option<String>,
    /// Label; the situation's by default.
    #[serde(default)]
    pub tlp: Option<Tlp>,
    /// Factor assessments.
    #[serde(default)]
    pub factors: Vec<FactorAssessment>,
    /// Indicator observations.
    #[serde(default)]
    pub observations: Vec<IndicatorObservation>,
}

/// A change to a draft. Listed factors and observations replace those with the same number;
/// others are kept.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssessmentEdit {
    /// The version the client last read; refused if the assessment moved on.
    pub expected_version: Option<i64>,
    /// New date.
    pub as_of: Option<NaiveDate>,
    /// New summary.
    pub summary: Option<String>,
    /// New label.
    pub tlp: Option<Tlp>,
    /// Factors to set.
    #[serde(default)]
    pub factors: Vec<FactorAssessment>,
    /// Observations to set.
    #[serde(default)]
    pub observations: Vec<IndicatorObservation>,
    /// Factor numbers to clear (remove their assessment).
    #[serde(default)]
    pub clear_factors: Vec<u32>,
}

/// The most suggestions one bulk decision takes.
pub const MAX_BULK_DECISIONS: usize = 5_000;

/// A change the store applies to a stored assessment, in one transaction.
#[derive(Debug, Clone, Serialize)]
pub enum AssessmentChange {
    /// Edit a draft.
    Edit(AssessmentEdit),
    /// Move in the workflow.
    Transition {
        /// The target state.
        to: AssessmentStatus,
        /// Why.
        note: Option<String>,
        /// The version the client last read.
        expected_version: Option<i64>,
    },
    /// Accept or dismiss an evidence suggestion.
    Decide {
        /// The indicator.
        indicator: String,
        /// The evidence.
        evidence: Evidence,
        /// Accept (true) or dismiss.
        accept: bool,
    },
    /// Accept or dismiss many suggestions in one change (one write, one audit entry); one
    /// decided meanwhile keeps its decision.
    DecideMany {
        /// (indicator, evidence) pairs.
        decisions: Vec<(String, Evidence)>,
        /// Accept (true) or dismiss.
        accept: bool,
    },
}

impl AssessmentChange {
    /// Short name for the audit trail: `edit`, `review`, `publish`, `return`, `accept`, `dismiss`.
    pub fn action(&self) -> &'static str {
        match self {
            AssessmentChange::Edit(_) => "edit",
            AssessmentChange::Transition { to, .. } => match to {
                AssessmentStatus::Draft => "return",
                AssessmentStatus::Reviewed => "review",
                AssessmentStatus::Published => "publish",
            },
            AssessmentChange::Decide { accept: true, .. } => "accept",
            AssessmentChange::Decide { accept: false, .. } => "dismiss",
            AssessmentChange::DecideMany { accept: true, .. } => "accept_many",
            AssessmentChange::DecideMany { accept: false, .. } => "dismiss_many",
        }
    }
}

fn check_text(field: &str, s: &str, max: usize) -> Result<(), DomainError> {
    if s.len() > max {
        return Err(DomainError::invalid(
            field,
            format!("longer than {max} bytes"),
        ));
    }
    if s.contains('\0') {
        return Err(DomainError::invalid(
            field,
            "must not contain NUL characters",
        ));
    }
    Ok(())
}

fn check_factor(fw: &Framework, f: &FactorAssessment, n: usize) -> Result<(), DomainError> {
    let field = format!("factors[{n}]");
    if f.factor == 0 || f.factor as usize > fw.risk_factors.len() {
        return Err(DomainError::invalid(
            format!("{field}.factor"),
            format!("{} has risk factors 1 to {}", fw.id, fw.risk_factors.len()),
        ));
    }
    if f.rationale.trim().is_empty() {
        return Err(DomainError::invalid(
            format!("{field}.rationale"),
            "is required (say why this level was chosen)",
        ));
    }
    check_text(&format!("{field}.rationale"), &f.rationale, 20_000)?;
    if f.evidence.len() > 200 {
        return Err(DomainError::invalid(
            format!("{field}.evidence"),
            "at most 200 links",
        ));
    }
    for (k, e) in f.evidence.iter().enumerate() {
        e.check(&format!("{field}.evidence[{k}]"))?;
    }
    Ok(())
}

fn check_observation(
    fw: &Framework,
    o: &IndicatorObservation,
    n: usize,
) -> Result<(), DomainError> {
    let field = format!("observations[{n}]");
    if fw.indicator(&o.indicator).is_none() {
        return Err(DomainError::invalid(
            format!("{field}.indicator"),
            format!("{} has no indicator {:?}", fw.id, o.indicator),
        ));
    }
    check_text(&format!("{field}.note"), &o.note, 20_000)?;
    if o.evidence.len() > 200 {
        return Err(DomainError::invalid(
            format!("{field}.evidence"),
            "at most 200 links",
        ));
    }
    for (k, e) in o.evidence.iter().enumerate() {
        e.check(&format!("{field}.evidence[{k}]"))?;
    }
    Ok(())
}

fn no_repeats<T, K: Ord>(
    items: &[T],
    key: impl Fn(&T) -> K,
    field: &str,
) -> Result<(), DomainError> {
    let mut seen = std::collections::BTreeSet::new();
    for i in items {
        if !seen.insert(key(i)) {
            return Err(DomainError::invalid(field, "the same number appears twice"));
        }
    }
    Ok(())
}

/// An assessment is labelled at least as restrictively as its situation (what it says tells
/// of the situation): a label below `situation_tlp` is refused, naming `tlp`.
pub fn check_label(tlp: Tlp, situation_tlp: Tlp) -> Result<(), DomainError> {
    if tlp < situation_tlp {
        return Err(DomainError::invalid(
            "tlp",
            format!("{tlp} is below its situation's label {situation_tlp}"),
        ));
    }
    Ok(())
}

impl AssessmentEdit {
    /// Check the edit against the assessment's framework and its situation's label.
    pub fn check(&self, fw: &Framework, situation_tlp: Tlp) -> Result<(), DomainError> {
        if let Some(t) = self.tlp {
            check_label(t, situation_tlp)?;
        }
        for (n, f) in self.factors.iter().enumerate() {
            check_factor(fw, f, n)?;
        }
        for (n, o) in self.observations.iter().enumerate() {
            check_observation(fw, o, n)?;
        }
        no_repeats(&self.factors, |f| f.factor, "factors")?;
        no_repeats(&self.observations, |o| o.indicator.clone(), "observations")?;
        if let Some(s) = &self.summary {
            check_text("summary", s, 50_000)?;
        }
        Ok(())
    }
}

fn indicator_key(n: &str) -> (u32, u32) {
    let mut p = n.split('.').map(|x| x.parse::<u32>().unwrap_or(u32::MAX));
    (p.next().unwrap_or(0), p.next().unwrap_or(0))
}

impl Assessment {
    /// Build a new draft by `author` (a user), checked against the framework.
    pub fn create(
        n: NewAssessment,
        fw: &Framework,
        situation_id: Uuid,
        situation_tlp: Tlp,
        author: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Assessment, DomainError> {
        let author_id = author.user_id.ok_or_else(|| {
            DomainError::invalid(
                "author",
                "an assessment is written by a person, not the system",
            )
        })?;
        if let Some(f) = &n.framework {
            if f != &fw.id {
                return Err(DomainError::invalid(
                    "framework",
                    format!("unknown framework {f:?}"),
                ));
            }
        }
        let edit = AssessmentEdit {
            expected_version: None,
            as_of: n.as_of,
            summary: n.summary,
            tlp: n.tlp,
            factors: n.factors,
            observations: n.observations,
            clear_factors: vec![],
        };
        edit.check(fw, situation_tlp)?;
        let mut a = Assessment {
            id: crate::new_id(),
            situation_id,
            framework: fw.id.clone(),
            as_of: now.date_naive(),
            status: AssessmentStatus::Draft,
            summary: String::new(),
            tlp: situation_tlp,
            factors: vec![],
            observations: vec![],
            decisions: vec![],
            author_id,
            author: author.name.clone(),
            history: vec![],
            version: 1,
            created_at: now,
            updated_at: now,
        };
        a.merge(edit);
        Ok(a)
    }

    fn merge(&mut self, e: AssessmentEdit) {
        if let Some(d) = e.as_of {
            self.as_of = d;
        }
        if let Some(s) = e.summary {
            self.summary = s;
        }
        if let Some(t) = e.tlp {
            self.tlp = t;
        }
        self.factors
            .retain(|f| !e.clear_factors.contains(&f.factor));
        for f in e.factors {
            self.factors.retain(|g| g.factor != f.factor);
            self.factors.push(f);
        }
        self.factors.sort_by_key(|f| f.factor);
        for o in e.observations {
            self.observations.retain(|g| g.indicator != o.indicator);
            self.observations.push(o);
        }
        self.observations
            .sort_by_key(|o| indicator_key(&o.indicator));
    }

    /// One factor's assessment.
    pub fn factor(&self, n: u32) -> Option<&FactorAssessment> {
        self.factors.iter().find(|f| f.factor == n)
    }

    /// Whether a suggestion was already decided.
    pub fn decision(&self, indicator: &str, evidence: &Evidence) -> Option<&SuggestionDecision> {
        self.decisions.iter().find(|d| {
            d.indicator == indicator
                && d.evidence.kind == evidence.kind
                && d.evidence.reference == evidence.reference
        })
    }

    /// Record one decision on a suggestion (accepting links the record to the indicator,
    /// marking it present if it was unknown).
    fn decide(
        &mut self,
        indicator: String,
        evidence: Evidence,
        accept: bool,
        by: &str,
        now: DateTime<Utc>,
    ) {
        if accept {
            match self
                .observations
                .iter_mut()
                .find(|o| o.indicator == indicator)
            {
                Some(o) => {
                    if o.observed == Observed::Unknown {
                        o.observed = Observed::Present;
                    }
                    o.evidence.push(evidence.clone());
                }
                None => {
                    self.observations.push(IndicatorObservation {
                        indicator: indicator.clone(),
                        observed: Observed::Present,
                        note: String::new(),
                        evidence: vec![evidence.clone()],
                    });
                    self.observations
                        .sort_by_key(|o| indicator_key(&o.indicator));
                }
            }
        }
        self.decisions.push(SuggestionDecision {
            indicator,
            evidence,
            accepted: accept,
            by: by.to_string(),
            at: now,
        });
    }

    /// Apply a change by `actor` (permissions are checked by the caller; the rules of the
    /// workflow are checked here). Nothing changes if it is refused.
    pub fn apply(
        &mut self,
        change: AssessmentChange,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        let by_id = actor.user_id.ok_or_else(|| {
            DomainError::invalid("actor", "assessments are changed by people, not the system")
        })?;
        let check_version = |v: Option<i64>| match v {
            Some(v) if v != self.version => Err(DomainError::invalid(
                "expected_version",
                format!(
                    "the assessment is at version {}, not {v}: reload and retry",
                    self.version
                ),
            )),
            _ => Ok(()),
        };
        let mut n = self.clone();
        match change {
            AssessmentChange::Edit(e) => {
                check_version(e.expected_version)?;
                if self.status != AssessmentStatus::Draft {
                    return Err(DomainError::invalid(
                        "status",
                        format!(
                            "the assessment is {}: only a draft can be edited",
                            self.status.as_str()
                        ),
                    ));
                }
                n.merge(e);
            }
            AssessmentChange::Transition {
                to,
                note,
                expected_version,
            } => {
                check_version(expected_version)?;
                use AssessmentStatus::*;
                match (self.status, to) {
                    (Draft, Reviewed) => {
                        if by_id == self.author_id {
                            return Err(DomainError::invalid(
                                "status",
                                "a second analyst reviews: the author cannot review their own assessment",
                            ));
                        }
                        if self.factors.is_empty() {
                            return Err(DomainError::invalid(
                                "status",
                                "an assessment with no assessed risk factor cannot be reviewed",
                            ));
                        }
                    }
                    (Reviewed, Published) | (Reviewed, Draft) => {}
                    (from, to) => {
                        return Err(DomainError::invalid(
                            "status",
                            format!(
                                "an assessment cannot go from {} to {}",
                                from.as_str(),
                                to.as_str()
                            ),
                        ))
                    }
                }
                if let Some(t) = &note {
                    check_text("note", t, 5000)?;
                }
                n.status = to;
                n.history.push(Transition {
                    from: self.status,
                    to,
                    by: actor.name.clone(),
                    by_id,
                    at: now,
                    note,
                });
            }
            AssessmentChange::Decide {
                indicator,
                evidence,
                accept,
            } => {
                if self.status != AssessmentStatus::Draft {
                    return Err(DomainError::invalid(
                        "status",
                        "suggestions are decided on a draft",
                    ));
                }
                evidence.check("evidence")?;
                if self.decision(&indicator, &evidence).is_some() {
                    return Err(DomainError::invalid(
                        "evidence",
                        "this suggestion was already decided",
                    ));
                }
                n.decide(indicator, evidence, accept, &actor.name, now);
            }
            AssessmentChange::DecideMany { decisions, accept } => {
                if self.status != AssessmentStatus::Draft {
                    return Err(DomainError::invalid(
                        "status",
                        "suggestions are decided on a draft",
                    ));
                }
                if decisions.is_empty() {
                    return Err(DomainError::invalid(
                        "decisions",
                        "choose at least one suggestion",
                    ));
                }
                if decisions.len() > MAX_BULK_DECISIONS {
                    return Err(DomainError::invalid(
                        "decisions",
                        format!("at most {MAX_BULK_DECISIONS} suggestions at once"),
                    ));
                }
                for (i, (indicator, evidence)) in decisions.into_iter().enumerate() {
                    evidence.check(&format!("decisions[{i}].evidence"))?;
                    // Decided meanwhile (or listed twice): the earlier decision stands.
                    if n.decision(&indicator, &evidence).is_none() {
                        n.decide(indicator, evidence, accept, &actor.name, now);
                    }
                }
            }
        }
        n.version += 1;
        n.updated_at = now;
        *self = n;
        Ok(())
    }
}

/// How one risk factor changed between two assessments.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FactorChange {
    /// The factor.
    pub factor: u32,
    /// Level before (none when it was not assessed).
    pub before: Option<Level>,
    /// Level now.
    pub after: Option<Level>,
    /// Confidence before.
    pub confidence_before: Option<Confidence>,
    /// Confidence now.
    pub confidence_after: Option<Confidence>,
    /// Whether the rationale was rewritten.
    pub rationale_changed: bool,
    /// Evidence links added.
    pub evidence_added: usize,
    /// Evidence links removed.
    pub evidence_removed: usize,
}

/// How an indicator observation changed.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ObservationChange {
    /// The indicator.
    pub indicator: String,
    /// Before.
    pub before: Option<Observed>,
    /// Now.
    pub after: Option<Observed>,
}

/// What changed between an assessment and the one before it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AssessmentDiff {
    /// The earlier assessment.
    pub previous_id: Uuid,
    /// Its date.
    pub previous_as_of: NaiveDate,
    /// Changed factors only.
    pub factors: Vec<FactorChange>,
    /// Changed observations only.
    pub observations: Vec<ObservationChange>,
}

/// Compare `cur` with `prev`.
pub fn diff(prev: &Assessment, cur: &Assessment) -> AssessmentDiff {
    let mut numbers: Vec<u32> = prev
        .factors
        .iter()
        .chain(&cur.factors)
        .map(|f| f.factor)
        .collect();
    numbers.sort_unstable();
    numbers.dedup();
    let mut factors = vec![];
    for n in numbers {
        let (a, b) = (prev.factor(n), cur.factor(n));
        let ev =
            |f: Option<&FactorAssessment>| -> std::collections::HashSet<(EvidenceKind, String)> {
                f.map(|f| {
                    f.evidence
                        .iter()
                        .map(|e| (e.kind, e.reference.clone()))
                        .collect()
                })
                .unwrap_or_default()
            };
        let (ea, eb) = (ev(a), ev(b));
        let c = FactorChange {
            factor: n,
            before: a.map(|f| f.level),
            after: b.map(|f| f.level),
            confidence_before: a.map(|f| f.confidence),
            confidence_after: b.map(|f| f.confidence),
            rationale_changed: a.map(|f| f.rationale.trim()) != b.map(|f| f.rationale.trim()),
            evidence_added: eb.difference(&ea).count(),
            evidence_removed: ea.difference(&eb).count(),
        };
        if c.before != c.after
            || c.confidence_before != c.confidence_after
            || c.rationale_changed
            || c.evidence_added > 0
            || c.evidence_removed > 0
        {
            factors.push(c);
        }
    }
    let obs = |a: &Assessment| -> BTreeMap<(u32, u32), (String, Observed)> {
        a.observations
            .iter()
            .map(|o| {
                (
                    indicator_key(&o.indicator),
                    (o.indicator.clone(), o.observed),
                )
            })
            .collect()
    };
    let (oa, ob) = (obs(prev), obs(cur));
    let mut keys: Vec<_> = oa.keys().chain(ob.keys()).copied().collect();
    keys.sort_unstable();
    keys.dedup();
    let observations = keys
        .into_iter()
        .filter_map(|k| {
            let (a, b) = (oa.get(&k), ob.get(&k));
            let name = a.or(b).map(|x| x.0.clone())?;
            let (before, after) = (a.map(|x| x.1), b.map(|x| x.1));
            (before != after).then_some(ObservationChange {
                indicator: name,
                before,
                after,
            })
        })
        .collect();
    AssessmentDiff {
        previous_id: prev.id,
        previous_as_of: prev.as_of,
        factors,
        observations,
    }
}

/// The assessment `a` should be compared with: the latest published one of the same situation
/// and framework dated before it (or, for equal dates, created before it).
pub fn previous<'a>(all: &'a [Assessment], a: &Assessment) -> Option<&'a Assessment> {
    all.iter()
        .filter(|p| {
            p.id != a.id
                && p.situation_id == a.situation_id
                && p.framework == a.framework
                && p.status == AssessmentStatus::Published
                && (p.as_of, p.created_at) < (a.as_of, a.created_at)
        })
        .max_by_key(|p| (p.as_of, p.created_at))
}

/// One point of a factor's history.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FactorPoint {
    /// The assessment.
    pub assessment_id: Uuid,
    /// Its date.
    pub as_of: NaiveDate,
    /// The level given.
    pub level: Level,
    /// The confidence given.
    pub confidence: Confidence,
}

/// The published history of one risk factor, oldest first.
pub fn factor_history(all: &[Assessment], framework: &str, factor: u32) -> Vec<FactorPoint> {
    let mut v: Vec<_> = all
        .iter()
        .filter(|a| a.status == AssessmentStatus::Published && a.framework == framework)
        .filter_map(|a| {
            a.factor(factor).map(|f| {
                (
                    a.created_at,
                    FactorPoint {
                        assessment_id: a.id,
                        as_of: a.as_of,
                        level: f.level,
                        confidence: f.confidence,
                    },
                )
            })
        })
        .collect();
    v.sort_by_key(|(c, p)| (p.as_of, *c));
    v.into_iter().map(|(_, p)| p).collect()
}

#[cfg(test)]
mod tests {
    //! The workflow as a person meets it: draft → reviewed (by a second analyst) → published,
    //! or back to draft; every other move refused with the message the API and CLI show.
    use super::*;
    use chrono::TimeZone;
    use AssessmentStatus::{Draft, Published, Reviewed};

    fn person(name: &str) -> Actor {
        Actor {
            user_id: Some(crate::new_id()),
            name: name.into(),
        }
    }

    fn at(minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 9, minute, 0).unwrap()
    }

    fn factor(n: u32, level: Level) -> FactorAssessment {
        FactorAssessment {
            factor: n,
            level,
            confidence: Confidence::Medium,
            rationale: "Armed clashes weekly.".into(),
            evidence: vec![],
        }
    }

    /// A draft by `author` with one assessed risk factor.
    fn draft(author: &Actor) -> Assessment {
        let n = NewAssessment {
            framework: None,
            as_of: None,
            summary: Some("Tension rising.".into()),
            tlp: None,
            factors: vec![factor(1, Level::Moderate)],
            observations: vec![],
        };
        Assessment::create(
            n,
            &Framework::un_2014(),
            crate::new_id(),
            Tlp::Amber,
            author,
            at(0),
        )
        .unwrap()
    }

    fn go(to: AssessmentStatus, note: Option<&str>) -> AssessmentChange {
        AssessmentChange::Transition {
            to,
            note: note.map(String::from),
            expected_version: None,
        }
    }

    fn edit(level: Level) -> AssessmentChange {
        AssessmentChange::Edit(AssessmentEdit {
            factors: vec![factor(1, level)],
            ..Default::default()
        })
    }

    fn suggestion() -> (String, Evidence) {
        (
            "1.1".into(),
            Evidence {
                kind: EvidenceKind::Document,
                reference: "https://example.org/report".into(),
                note: None,
            },
        )
    }

    fn decide(accept: bool) -> AssessmentChange {
        let (indicator, evidence) = suggestion();
        AssessmentChange::Decide {
            indicator,
            evidence,
            accept,
        }
    }

    /// Apply a change that must be refused: the message shown, and nothing changed.
    fn refused(a: &mut Assessment, change: AssessmentChange, by: &Actor) -> String {
        let before = a.clone();
        let e = a.apply(change, by, at(59)).unwrap_err();
        assert_eq!(*a, before, "a refused change altered the assessment");
        e.to_string()
    }

    /// A draft reviewed by `reviewer` (version 2).
    fn reviewed(author: &Actor, reviewer: &Actor) -> Assessment {
        let mut a = draft(author);
        a.apply(go(Reviewed, None), reviewer, at(1)).unwrap();
        a
    }

    #[test]
    fn a_new_assessment_is_a_draft_at_version_one_by_its_author() {
        let alice = person("alice");
        let a = draft(&alice);
        assert_eq!(a.status, Draft);
        assert_eq!(a.version, 1);
        assert_eq!(a.author, "alice");
        assert_eq!(Some(a.author_id), alice.user_id);
        assert!(a.history.is_empty());
    }

    #[test]
    fn the_system_writes_no_assessment() {
        let n = NewAssessment {
            framework: None,
            as_of: None,
            summary: None,
            tlp: None,
            factors: vec![],
            observations: vec![],
        };
        let e = Assessment::create(
            n,
            &Framework::un_2014(),
            crate::new_id(),
            Tlp::Amber,
            &Actor::system("cli"),
            at(0),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "author: an assessment is written by a person, not the system"
        );
    }

    #[test]
    fn draft_reviewed_by_a_second_analyst_then_published() {
        let (alice, bob, carol) = (person("alice"), person("bob"), person("carol"));
        let mut a = draft(&alice);
        a.apply(go(Reviewed, Some("sources check out")), &bob, at(1))
            .unwrap();
        assert_eq!(a.status, Reviewed);
        assert_eq!(a.version, 2);
        assert_eq!(a.updated_at, at(1));
        a.apply(go(Published, None), &carol, at(2)).unwrap();
        assert_eq!(a.status, Published);
        assert_eq!(a.version, 3);
        assert_eq!(a.updated_at, at(2));
        assert_eq!(
            a.history,
            vec![
                Transition {
                    from: Draft,
                    to: Reviewed,
                    by: "bob".into(),
                    by_id: bob.user_id.unwrap(),
                    at: at(1),
                    note: Some("sources check out".into()),
                },
                Transition {
                    from: Reviewed,
                    to: Published,
                    by: "carol".into(),
                    by_id: carol.user_id.unwrap(),
                    at: at(2),
                    note: None,
                },
            ]
        );
        // The content is what the author wrote.
        assert_eq!(a.factors, vec![factor(1, Level::Moderate)]);
    }

    #[test]
    fn the_reviewer_may_publish_what_they_reviewed() {
        let (alice, bob) = (person("alice"), person("bob"));
        let mut a = reviewed(&alice, &bob);
        a.apply(go(Published, None), &bob, at(2)).unwrap();
        assert_eq!(a.status, Published);
    }

    #[test]
    fn a_reviewed_assessment_returned_to_draft_can_be_edited_and_reviewed_again() {
        let (alice, bob) = (person("alice"), person("bob"));
        let mut a = reviewed(&alice, &bob);
        a.apply(go(Draft, Some("cite the March report")), &bob, at(2))
            .unwrap();
        assert_eq!(a.status, Draft);
        assert_eq!(a.version, 3);
        let last = a.history.last().unwrap();
        assert_eq!((last.from, last.to), (Reviewed, Draft));
        assert_eq!(last.note.as_deref(), Some("cite the March report"));
        a.apply(edit(Level::High), &alice, at(3)).unwrap();
        assert_eq!(a.factor(1).unwrap().level, Level::High);
        assert_eq!(a.version, 4);
        a.apply(go(Reviewed, None), &bob, at(4)).unwrap();
        a.apply(go(Published, None), &bob, at(5)).unwrap();
        assert_eq!(a.status, Published);
        assert_eq!(a.history.len(), 4);
    }

    #[test]
    fn the_author_cannot_review_their_own_draft() {
        let alice = person("alice");
        let mut a = draft(&alice);
        assert_eq!(
            refused(&mut a, go(Reviewed, None), &alice),
            "status: a second analyst reviews: the author cannot review their own assessment"
        );
        // The author, under another display name, is still the author.
        let renamed = Actor {
            user_id: alice.user_id,
            name: "alice (deputy)".into(),
        };
        refused(&mut a, go(Reviewed, None), &renamed);
    }

    #[test]
    fn a_draft_without_an_assessed_factor_cannot_be_reviewed() {
        let (alice, bob) = (person("alice"), person("bob"));
        let mut a = draft(&alice);
        a.apply(
            AssessmentChange::Edit(AssessmentEdit {
                clear_factors: vec![1],
                ..Default::default()
            }),
            &alice,
            at(1),
        )
        .unwrap();
        assert!(a.factors.is_empty());
        assert_eq!(
            refused(&mut a, go(Reviewed, None), &bob),
            "status: an assessment with no assessed risk factor cannot be reviewed"
        );
    }

    #[test]
    fn moves_outside_the_workflow_are_refused_by_name() {
        let (alice, bob) = (person("alice"), person("bob"));
        let mut d = draft(&alice);
        assert_eq!(
            refused(&mut d, go(Published, None), &bob),
            "status: an assessment cannot go from draft to published"
        );
        assert_eq!(
            refused(&mut d, go(Draft, None), &bob),
            "status: an assessment cannot go from draft to draft"
        );
        let mut r = reviewed(&alice, &bob);
        assert_eq!(
            refused(&mut r, go(Reviewed, None), &person("carol")),
            "status: an assessment cannot go from reviewed to reviewed"
        );
    }

    #[test]
    fn a_published_assessment_never_changes_again() {
        let (alice, bob) = (person("alice"), person("bob"));
        let mut a = reviewed(&alice, &bob);
        a.apply(go(Published, None), &bob, at(2)).unwrap();
        for to in [Draft, Reviewed, Published] {
            assert_eq!(
                refused(&mut a, go(to, None), &bob),
                format!(
                    "status: an assessment cannot go from published to {}",
                    to.as_str()
                )
            );
        }
        assert_eq!(
            refused(&mut a, edit(Level::Severe), &alice),
            "status: the assessment is published: only a draft can be edited"
        );
        assert_eq!(
            refused(&mut a, decide(true), &alice),
            "status: suggestions are decided on a draft"
        );
    }

    #[test]
    fn only_a_draft_is_edited() {
        let (alice, bob) = (person("alice"), person("bob"));
        let mut a = reviewed(&alice, &bob);
        assert_eq!(
            refused(&mut a, edit(Level::High), &alice),
            "status: the assessment is reviewed: only a draft can be edited"
        );
        assert_eq!(
            refused(&mut a, decide(false), &alice),
            "status: suggestions are decided on a draft"
        );
    }

    #[test]
    fn a_stale_version_is_refused_with_reload_and_retry() {
        let (alice, bob) = (person("alice"), person("bob"));
        let mut a = draft(&alice);
        a.apply(edit(Level::High), &alice, at(1)).unwrap();
        assert_eq!(a.version, 2);
        let stale = AssessmentChange::Transition {
            to: Reviewed,
            note: None,
            expected_version: Some(1),
        };
        assert_eq!(
            refused(&mut a, stale, &bob),
            "expected_version: the assessment is at version 2, not 1: reload and retry"
        );
        let stale_edit = AssessmentChange::Edit(AssessmentEdit {
            expected_version: Some(1),
            summary: Some("overwrite".into()),
            ..Default::default()
        });
        assert_eq!(
            refused(&mut a, stale_edit, &alice),
            "expected_version: the assessment is at version 2, not 1: reload and retry"
        );
        let current = AssessmentChange::Transition {
            to: Reviewed,
            note: None,
            expected_version: Some(2),
        };
        a.apply(current, &bob, at(2)).unwrap();
        assert_eq!(a.status, Reviewed);
    }

    #[test]
    fn the_system_changes_no_assessment() {
        let alice = person("alice");
        let mut a = draft(&alice);
        assert_eq!(
            refused(&mut a, go(Reviewed, None), &Actor::system("cli")),
            "actor: assessments are changed by people, not the system"
        );
        refused(&mut a, edit(Level::Low), &Actor::system("cli"));
    }

    #[test]
    fn an_overlong_note_is_refused() {
        let (alice, bob) = (person("alice"), person("bob"));
        let mut a = draft(&alice);
        let note = "x".repeat(5001);
        assert_eq!(
            refused(&mut a, go(Reviewed, Some(&note)), &bob),
            "note: longer than 5000 bytes"
        );
        a.apply(go(Reviewed, Some(&"x".repeat(5000))), &bob, at(1))
            .unwrap();
    }

    #[test]
    fn a_suggestion_is_decided_once_on_a_draft_and_never_sets_a_level() {
        let alice = person("alice");
        let mut a = draft(&alice);
        let levels = a.factors.clone();
        a.apply(decide(true), &alice, at(1)).unwrap();
        let (indicator, evidence) = suggestion();
        let o = a
            .observations
            .iter()
            .find(|o| o.indicator == indicator)
            .unwrap();
        assert_eq!(o.observed, Observed::Present);
        assert_eq!(o.evidence, vec![evidence.clone()]);
        assert_eq!(a.factors, levels);
        assert!(a.decision(&indicator, &evidence).unwrap().accepted);
        assert_eq!(a.version, 2);
        assert_eq!(
            refused(&mut a, decide(false), &alice),
            "evidence: this suggestion was already decided"
        );
    }

    #[test]
    fn many_suggestions_are_decided_in_one_change_and_earlier_decisions_stand() {
        let alice = person("alice");
        let mut a = draft(&alice);
        let levels = a.factors.clone();
        a.apply(decide(true), &alice, at(1)).unwrap();
        let (indicator, first) = suggestion();
        let other = |n: u128| Evidence {
            kind: EvidenceKind::Incident,
            reference: Uuid::from_u128(n).to_string(),
            note: None,
        };
        let many = AssessmentChange::DecideMany {
            decisions: vec![
                (indicator.clone(), first.clone()),
                (indicator.clone(), other(7)),
                (indicator.clone(), other(8)),
                (indicator.clone(), other(8)),
            ],
            accept: false,
        };
        a.apply(many, &alice, at(2)).unwrap();
        assert_eq!(a.version, 3, "one change");
        assert_eq!(
            a.decisions.len(),
            3,
            "the earlier decision stands, a repeat counts once"
        );
        assert!(a.decision(&indicator, &first).unwrap().accepted);
        assert!(!a.decision(&indicator, &other(7)).unwrap().accepted);
        assert_eq!(a.factors, levels, "no level set");
        let empty = AssessmentChange::DecideMany {
            decisions: vec![],
            accept: true,
        };
        assert_eq!(
            refused(&mut a, empty, &alice),
            "decisions: choose at least one suggestion"
        );
    }
}
