//! Dangerous-speech flags: an enabled lexicon's terms found in an incoming report (or, later,
//! a monitored item), waiting for an analyst. A flag is never a verdict: it holds where the
//! terms are in the original text, never a copy of that text nor anything about the sender,
//! and only a person confirms or dismisses it, annotating it along the Dangerous Speech
//! Project's five elements (message, audience, context, speaker, medium) and its hallmarks.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

use crate::{DomainError, Tlp};

/// The longest text of one of the five elements.
pub const MAX_ELEMENT_CHARS: usize = 2000;

/// Where a flag stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FlagState {
    /// Waiting for an analyst.
    Open,
    /// An analyst judged it dangerous speech.
    Confirmed,
    /// An analyst judged it not dangerous speech.
    Dismissed,
}

impl FlagState {
    /// Every state, in order.
    pub const ALL: [FlagState; 3] = [FlagState::Open, FlagState::Confirmed, FlagState::Dismissed];

    /// `open`, `confirmed` or `dismissed`.
    pub fn as_str(self) -> &'static str {
        match self {
            FlagState::Open => "open",
            FlagState::Confirmed => "confirmed",
            FlagState::Dismissed => "dismissed",
        }
    }

    /// Parse a state's name.
    pub fn parse(s: &str) -> Result<FlagState, DomainError> {
        FlagState::ALL
            .into_iter()
            .find(|x| x.as_str() == s.trim())
            .ok_or_else(|| DomainError::invalid("state", "expected open, confirmed or dismissed"))
    }
}

impl fmt::Display for FlagState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The hallmarks of dangerous speech the Dangerous Speech Project names.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Hallmark {
    /// Describing a group as less than human (vermin, disease, animals).
    Dehumanisation,
    /// Accusing the target group of the very violence the speaker wants done to it.
    AccusationInAMirror,
    /// Presenting a group as a threat to the purity or integrity of one's own.
    ThreatToGroupPurity,
    /// Asserting that the group attacks, or will attack, women and girls.
    AttackOnWomenAndGirls,
    /// Questioning the loyalty of members of one's own group who do not join in.
    QuestioningInGroupLoyalty,
}

impl Hallmark {
    /// Every hallmark, in order.
    pub const ALL: [Hallmark; 5] = [
        Hallmark::Dehumanisation,
        Hallmark::AccusationInAMirror,
        Hallmark::ThreatToGroupPurity,
        Hallmark::AttackOnWomenAndGirls,
        Hallmark::QuestioningInGroupLoyalty,
    ];

    /// The name as the API and forms spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Hallmark::Dehumanisation => "dehumanisation",
            Hallmark::AccusationInAMirror => "accusation_in_a_mirror",
            Hallmark::ThreatToGroupPurity => "threat_to_group_purity",
            Hallmark::AttackOnWomenAndGirls => "attack_on_women_and_girls",
            Hallmark::QuestioningInGroupLoyalty => "questioning_in_group_loyalty",
        }
    }

    /// Parse a hallmark's name.
    pub fn parse(s: &str) -> Result<Hallmark, DomainError> {
        Hallmark::ALL
            .into_iter()
            .find(|h| h.as_str() == s.trim())
            .ok_or_else(|| {
                DomainError::invalid(
                    "hallmarks",
                    format!(
                        "unknown hallmark {:?}: expected {}",
                        s.chars().take(40).collect::<String>(),
                        Hallmark::ALL.map(Hallmark::as_str).join(", ")
                    ),
                )
            })
    }
}

/// One term found: which term, and where in the original text (byte and character offsets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FlagTerm {
    /// The lexicon's term (as the lexicon spells it; not the text's spelling).
    pub term: String,
    /// The term's language (ISO 639).
    pub language: String,
    /// Its category (dehumanisation, threat, incitement, slur, coded term).
    pub category: String,
    /// Its severity, 1 (low) to 3 (high).
    pub severity: u8,
    /// Byte offset in the original text where the match starts (with its prefix).
    pub start: usize,
    /// Byte offset where it ends (with its suffix).
    pub end: usize,
    /// Character (Unicode scalar) offset where it starts.
    pub char_start: usize,
    /// Character offset where it ends.
    pub char_end: usize,
}

/// An analyst's judgement of a flag, along the Dangerous Speech Project's framework.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FlagReview {
    /// Confirmed or dismissed.
    pub decision: FlagState,
    /// The message: what it says, and how a listener would understand it.
    pub message: Option<String>,
    /// The audience: who hears it, their fears and grievances.
    pub audience: Option<String>,
    /// The context: history, tensions, recent events.
    pub context: Option<String>,
    /// The speaker: who, and their influence over the audience.
    pub speaker: Option<String>,
    /// The medium: how it travels, and how far.
    pub medium: Option<String>,
    /// The hallmarks seen, sorted, each once.
    pub hallmarks: Vec<Hallmark>,
    /// Who reviewed.
    pub by: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// A review as a client sends it, before checking.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlagReviewInput {
    /// `confirm` or `dismiss`.
    pub decision: String,
    /// The message.
    #[serde(default)]
    pub message: Option<String>,
    /// The audience.
    #[serde(default)]
    pub audience: Option<String>,
    /// The context.
    #[serde(default)]
    pub context: Option<String>,
    /// The speaker.
    #[serde(default)]
    pub speaker: Option<String>,
    /// The medium.
    #[serde(default)]
    pub medium: Option<String>,
    /// Hallmark names (see [`Hallmark`]).
    #[serde(default)]
    pub hallmarks: Vec<String>,
    /// The flag's version the reviewer read; when given and the flag has moved on since, the
    /// review is refused (409).
    #[serde(default)]
    pub expected_version: Option<i64>,
}

fn element(field: &'static str, v: Option<String>) -> Result<Option<String>, DomainError> {
    match v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()) {
        Some(s) if s.chars().count() > MAX_ELEMENT_CHARS => Err(DomainError::invalid(
            field,
            format!("at most {MAX_ELEMENT_CHARS} characters"),
        )),
        Some(s)
            if s.chars()
                .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) =>
        {
            Err(DomainError::invalid(
                field,
                "control characters are not allowed",
            ))
        }
        v => Ok(v),
    }
}

impl FlagReviewInput {
    /// Check a review: the decision is `confirm` or `dismiss`; each element at most
    /// [`MAX_ELEMENT_CHARS`]; hallmarks known (repeats dropped). Confirming needs at least
    /// one element written: a confirmation says why. Hallmarks go with a confirmation only.
    pub fn parse(self, by: &str, at: DateTime<Utc>) -> Result<FlagReview, DomainError> {
        let decision = match self.decision.trim() {
            "confirm" | "confirmed" => FlagState::Confirmed,
            "dismiss" | "dismissed" => FlagState::Dismissed,
            _ => {
                return Err(DomainError::invalid(
                    "decision",
                    "expected confirm or dismiss",
                ))
            }
        };
        if self.hallmarks.len() > 2 * Hallmark::ALL.len() {
            return Err(DomainError::invalid("hallmarks", "too many"));
        }
        let mut hallmarks = self
            .hallmarks
            .iter()
            .map(|h| Hallmark::parse(h))
            .collect::<Result<Vec<_>, _>>()?;
        hallmarks.sort();
        hallmarks.dedup();
        let review = FlagReview {
            decision,
            message: element("message", self.message)?,
            audience: element("audience", self.audience)?,
            context: element("context", self.context)?,
            speaker: element("speaker", self.speaker)?,
            medium: element("medium", self.medium)?,
            hallmarks,
            by: by.to_string(),
            at,
        };
        if decision == FlagState::Confirmed && review.elements_written() == 0 {
            return Err(DomainError::invalid(
                "message",
                "a confirmation says why: write at least one of message, audience, context, \
                 speaker, medium",
            ));
        }
        if decision == FlagState::Dismissed && !review.hallmarks.is_empty() {
            return Err(DomainError::invalid(
                "hallmarks",
                "hallmarks go with a confirmation, not a dismissal",
            ));
        }
        Ok(review)
    }
}

impl FlagReview {
    /// How many of the five elements are written.
    pub fn elements_written(&self) -> usize {
        [
            &self.message,
            &self.audience,
            &self.context,
            &self.speaker,
            &self.medium,
        ]
        .iter()
        .filter(|e| e.is_some())
        .count()
    }

    /// The names of the elements written, for the audit trail (never their text).
    pub fn element_names(&self) -> Vec<&'static str> {
        [
            ("message", &self.message),
            ("audience", &self.audience),
            ("context", &self.context),
            ("speaker", &self.speaker),
            ("medium", &self.medium),
        ]
        .into_iter()
        .filter(|(_, v)| v.is_some())
        .map(|(n, _)| n)
        .collect()
    }
}

/// A stored flag: one lexicon's terms in one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SpeechFlag {
    /// Random id (no time in it: it points at a warner's report).
    pub id: Uuid,
    /// The report the terms are in.
    pub report_id: Option<Uuid>,
    /// The monitored item they are in (feeds and archives; none yet).
    pub item_id: Option<Uuid>,
    /// The item's label: the flag is seen only by those who may see the item.
    pub tlp: Tlp,
    /// The lexicon's name.
    pub lexicon: String,
    /// The lexicon's version that found them.
    pub lexicon_version: i64,
    /// The terms found, by position.
    pub terms: Vec<FlagTerm>,
    /// When the item was scanned.
    pub created_at: DateTime<Utc>,
    /// Open, confirmed or dismissed.
    pub state: FlagState,
    /// The latest review.
    pub review: Option<FlagReview>,
    /// 1 when created, one more at each review.
    pub version: i64,
}

/// A confirmed flag with when and where its words were said: what speech trends count and what
/// evidence suggestions offer. Read from the report or monitored item the flag is in.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedFlag {
    /// The flag.
    pub flag: SpeechFlag,
    /// When the words were said or published: the report's time of the events (else of
    /// receipt), the post's time of publication (else of fetching).
    pub said_at: DateTime<Utc>,
    /// The report's or post's country, if known.
    pub country: Option<crate::Country>,
    /// The report's position, if it has one (posts have none).
    pub position: Option<(f64, f64)>,
}

impl SpeechFlag {
    /// The categories of its terms, sorted, each once.
    pub fn categories(&self) -> Vec<&str> {
        let mut c: Vec<&str> = self.terms.iter().map(|t| t.category.as_str()).collect();
        c.sort_unstable();
        c.dedup();
        c
    }

    /// The highest severity of its terms.
    pub fn max_severity(&self) -> u8 {
        self.terms.iter().map(|t| t.severity).max().unwrap_or(0)
    }

    /// The flag after `review`: its state and review replaced, its version one more.
    pub fn reviewed(&self, review: FlagReview) -> SpeechFlag {
        SpeechFlag {
            state: review.decision,
            review: Some(review),
            version: self.version + 1,
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(decision: &str) -> FlagReviewInput {
        FlagReviewInput {
            decision: decision.into(),
            ..Default::default()
        }
    }

    #[test]
    fn reviews_are_checked() {
        let now = crate::time::now();
        let e = input("approve").parse("ana", now).unwrap_err();
        assert!(e.to_string().contains("decision"), "{e}");
        // A confirmation says why.
        let e = input("confirm").parse("ana", now).unwrap_err();
        assert!(e.to_string().contains("at least one"), "{e}");
        let mut ok = input("confirm");
        ok.context = Some("  two days after the attack on the market  ".into());
        ok.hallmarks = vec![
            "threat_to_group_purity".into(),
            "dehumanisation".into(),
            "dehumanisation".into(),
        ];
        let r = ok.clone().parse("ana", now).unwrap();
        assert_eq!(r.decision, FlagState::Confirmed);
        assert_eq!(
            r.context.as_deref(),
            Some("two days after the attack on the market")
        );
        assert_eq!(
            r.hallmarks,
            [Hallmark::Dehumanisation, Hallmark::ThreatToGroupPurity]
        );
        assert_eq!(r.element_names(), ["context"]);
        let mut bad = ok.clone();
        bad.hallmarks = vec!["rudeness".into()];
        let e = bad.parse("ana", now).unwrap_err();
        assert!(e.to_string().starts_with("hallmarks"), "{e}");
        let mut long = ok.clone();
        long.medium = Some("x".repeat(MAX_ELEMENT_CHARS + 1));
        assert!(long
            .parse("ana", now)
            .unwrap_err()
            .to_string()
            .starts_with("medium"));
        // A bare dismissal is fine; a dismissal naming hallmarks is not.
        assert_eq!(
            input("dismiss").parse("ana", now).unwrap().decision,
            FlagState::Dismissed
        );
        let mut d = input("dismiss");
        d.hallmarks = vec!["dehumanisation".into()];
        assert!(d.parse("ana", now).is_err());
    }

    #[test]
    fn names_read_back() {
        for s in FlagState::ALL {
            assert_eq!(FlagState::parse(s.as_str()).unwrap(), s);
        }
        for h in Hallmark::ALL {
            assert_eq!(Hallmark::parse(h.as_str()).unwrap(), h);
        }
        assert!(FlagState::parse("closed").is_err());
    }
}
