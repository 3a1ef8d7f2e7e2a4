//! Legal qualifications. Tocsin never labels a situation genocide, crimes against humanity or
//! war crimes on its own: a qualification exists only as a separate entry made by a person who
//! holds the [`Permission::LegalQualify`] grant, with a rationale, attributed to them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{DomainError, Permission, Tlp, User};

/// The crimes a qualification may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Crime {
    /// Genocide.
    Genocide,
    /// Crimes against humanity.
    CrimesAgainstHumanity,
    /// War crimes.
    WarCrimes,
}

impl Crime {
    /// The words a person reads.
    pub fn label(self) -> &'static str {
        match self {
            Crime::Genocide => "genocide",
            Crime::CrimesAgainstHumanity => "crimes against humanity",
            Crime::WarCrimes => "war crimes",
        }
    }
}

/// What the qualifying analyst concludes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Finding {
    /// There is a risk that such crimes will be committed.
    RiskOf,
    /// Acts may amount to such crimes (pending a competent body's determination).
    MayAmountTo,
    /// A competent court or body has determined it.
    Determined,
}

impl Finding {
    /// The words a person reads.
    pub fn label(self) -> &'static str {
        match self {
            Finding::RiskOf => "risk of",
            Finding::MayAmountTo => "acts may amount to",
            Finding::Determined => "determined by a competent body:",
        }
    }
}

/// An attributed legal qualification of a situation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LegalQualification {
    /// Its id.
    pub id: Uuid,
    /// The situation.
    pub situation_id: Uuid,
    /// The crime named.
    pub crime: Crime,
    /// What is concluded.
    pub finding: Finding,
    /// Why, in the analyst's words.
    pub rationale: String,
    /// Legal basis or sources cited.
    pub basis: String,
    /// Its label.
    pub tlp: Tlp,
    /// Who made it.
    pub author_id: Uuid,
    /// Their name.
    pub author: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// A qualification as a client sends it.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLegalQualification {
    /// The crime named.
    pub crime: Crime,
    /// What is concluded.
    pub finding: Finding,
    /// Why (at least 40 characters).
    pub rationale: String,
    /// Legal basis or sources.
    #[serde(default)]
    pub basis: Option<String>,
    /// Label; the situation's by default.
    #[serde(default)]
    pub tlp: Option<Tlp>,
}

/// The shortest rationale accepted, in characters.
pub const MIN_RATIONALE: usize = 40;

impl LegalQualification {
    /// Build a qualification by `author`, who must hold [`Permission::LegalQualify`].
    pub fn create(
        n: NewLegalQualification,
        situation_id: Uuid,
        situation_tlp: Tlp,
        author: &User,
        now: DateTime<Utc>,
    ) -> Result<LegalQualification, DomainError> {
        if !author.can(Permission::LegalQualify) {
            return Err(DomainError::invalid(
                "author",
                "only a user granted legal_qualify may record a legal qualification",
            ));
        }
        let rationale = n.rationale.trim().to_string();
        if rationale.chars().count() < MIN_RATIONALE {
            return Err(DomainError::invalid(
                "rationale",
                format!("give the reasoning (at least {MIN_RATIONALE} characters)"),
            ));
        }
        let basis = n.basis.unwrap_or_default().trim().to_string();
        for (f, v, max) in [("rationale", &rationale, 20_000), ("basis", &basis, 20_000)] {
            if v.len() > max || v.contains('\0') {
                return Err(DomainError::invalid(
                    f,
                    format!("at most {max} bytes, no NUL characters"),
                ));
            }
        }
        Ok(LegalQualification {
            id: crate::new_id(),
            situation_id,
            crime: n.crime,
            finding: n.finding,
            rationale,
            basis,
            tlp: n.tlp.unwrap_or(situation_tlp),
            author_id: author.id,
            author: author.username.clone(),
            created_at: now,
        })
    }
}
