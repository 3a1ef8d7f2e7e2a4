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

/// Words a brief must not use lightly: each names a legal qualification (or, for ethnic
/// cleansing, a term often read as one) that only a competent body, or an attributed
/// [`LegalQualification`], may give a situation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Term {
    /// Genocide (and "genocidal").
    Genocide,
    /// Crimes against humanity.
    CrimesAgainstHumanity,
    /// Ethnic cleansing: no crime of its own in international law, so no qualification can
    /// cover it; always flagged.
    EthnicCleansing,
    /// War crimes.
    WarCrimes,
}

impl Term {
    /// The crime a recorded qualification would have to name for the word to be covered.
    pub fn crime(self) -> Option<Crime> {
        match self {
            Term::Genocide => Some(Crime::Genocide),
            Term::CrimesAgainstHumanity => Some(Crime::CrimesAgainstHumanity),
            Term::WarCrimes => Some(Crime::WarCrimes),
            Term::EthnicCleansing => None,
        }
    }

    /// The English words.
    pub fn label(self) -> &'static str {
        match self {
            Term::Genocide => "genocide",
            Term::CrimesAgainstHumanity => "crimes against humanity",
            Term::EthnicCleansing => "ethnic cleansing",
            Term::WarCrimes => "war crimes",
        }
    }
}

/// One use of a guarded word in a text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TermUse {
    /// Which word.
    pub term: Term,
    /// The text as written there.
    pub found: String,
    /// Where it starts, in characters from the start of the text.
    pub at: usize,
}

/// The guarded words in English, French, Swahili and Arabic, folded (lower case, no Latin
/// accents, one Arabic alef, no Arabic vowel marks): `(term, words, prefix)`. A `prefix`
/// pattern also matches longer words (`genocid` → genocide, genocidal, génocidaire).
const TERMS: &[(Term, &str, bool)] = &[
    (Term::Genocide, "genocid", true),
    (Term::Genocide, "mauaji ya kimbari", false),
    (Term::Genocide, "ابادة جماعية", false),
    (Term::Genocide, "الابادة الجماعية", false),
    (Term::CrimesAgainstHumanity, "crime against humanity", false),
    (
        Term::CrimesAgainstHumanity,
        "crimes against humanity",
        false,
    ),
    (
        Term::CrimesAgainstHumanity,
        "crime contre l'humanite",
        false,
    ),
    (
        Term::CrimesAgainstHumanity,
        "crimes contre l'humanite",
        false,
    ),
    (
        Term::CrimesAgainstHumanity,
        "uhalifu dhidi ya ubinadamu",
        false,
    ),
    (Term::CrimesAgainstHumanity, "جرائم ضد الانسانية", false),
    (Term::CrimesAgainstHumanity, "جريمة ضد الانسانية", false),
    (Term::EthnicCleansing, "ethnic cleansing", false),
    (Term::EthnicCleansing, "nettoyage ethnique", false),
    (Term::EthnicCleansing, "usafishaji wa kikabila", false),
    (Term::EthnicCleansing, "تطهير عرقي", false),
    (Term::EthnicCleansing, "التطهير العرقي", false),
    (Term::WarCrimes, "war crime", true),
    (Term::WarCrimes, "crime de guerre", false),
    (Term::WarCrimes, "crimes de guerre", false),
    (Term::WarCrimes, "uhalifu wa kivita", false),
    (Term::WarCrimes, "جرائم حرب", false),
    (Term::WarCrimes, "جرائم الحرب", false),
    (Term::WarCrimes, "جريمة حرب", false),
];

fn fold(c: char) -> Option<char> {
    Some(match c {
        'à' | 'â' | 'ä' | 'á' => 'a',
        'é' | 'è' | 'ê' | 'ë' => 'e',
        'î' | 'ï' | 'í' => 'i',
        'ô' | 'ö' | 'ó' => 'o',
        'û' | 'ü' | 'ù' | 'ú' => 'u',
        'ç' => 'c',
        '’' | 'ʼ' | '`' => '\'',
        'أ' | 'إ' | 'آ' | 'ٱ' => 'ا',
        // Arabic vowel marks and the tatweel carry no letter.
        '\u{064B}'..='\u{065F}' | '\u{0670}' | '\u{0640}' => return None,
        c => c,
    })
}

fn is_arabic(c: char) -> bool {
    ('\u{0600}'..='\u{06FF}').contains(&c)
}

/// Every use of a guarded word (see [`Term`]) in `text`, in order, in any of the four
/// languages Tocsin writes (English, French, Swahili, Arabic), whatever the case, accents,
/// Arabic vowel marks or spacing. Pure: who may use the word is the caller's question
/// ([`unqualified`]).
pub fn guarded_terms(text: &str) -> Vec<TermUse> {
    // The folded text, each character with the character index it came from.
    let mut folded: Vec<(char, usize)> = Vec::with_capacity(text.len());
    let originals: Vec<char> = text.chars().collect();
    for (i, c) in originals.iter().enumerate() {
        if c.is_whitespace() {
            if folded.last().is_some_and(|(p, _)| *p != ' ') {
                folded.push((' ', i));
            }
            continue;
        }
        for l in c.to_lowercase() {
            if let Some(f) = fold(l) {
                folded.push((f, i));
            }
        }
    }
    let mut found: Vec<TermUse> = vec![];
    let mut covered_until = 0usize;
    let mut start = 0;
    while start < folded.len() {
        let mut hit: Option<(Term, usize)> = None;
        for (term, words, prefix) in TERMS {
            let pat: Vec<char> = words.chars().collect();
            let arabic = pat.first().copied().is_some_and(is_arabic);
            if start + pat.len() > folded.len()
                || !pat.iter().zip(&folded[start..]).all(|(p, (c, _))| p == c)
            {
                continue;
            }
            // Latin words stand alone (Arabic ones may carry attached prefixes like و or ب).
            let left_ok = arabic || start == 0 || !folded[start - 1].0.is_alphanumeric();
            let end = start + pat.len();
            let right_ok = *prefix || end == folded.len() || !folded[end].0.is_alphanumeric();
            if left_ok && right_ok && hit.is_none_or(|(_, n)| pat.len() > n) {
                hit = Some((*term, pat.len()));
            }
        }
        match hit {
            Some((term, n)) if folded[start].1 >= covered_until => {
                let from = folded[start].1;
                // A prefix match runs to the end of its word.
                let mut to = folded[start + n - 1].1 + 1;
                while to < originals.len() && originals[to].is_alphanumeric() {
                    to += 1;
                }
                found.push(TermUse {
                    term,
                    found: originals[from..to].iter().collect(),
                    at: from,
                });
                covered_until = to;
                start += n;
            }
            _ => start += 1,
        }
    }
    found
}

/// The uses in `uses` no recorded qualification covers: a word naming a crime is covered
/// when a qualification of the situation names that crime (whatever its finding); ethnic
/// cleansing never is.
pub fn unqualified(uses: Vec<TermUse>, recorded: &[Crime]) -> Vec<TermUse> {
    uses.into_iter()
        .filter(|u| u.term.crime().is_none_or(|c| !recorded.contains(&c)))
        .collect()
}

#[cfg(test)]
mod guard_tests {
    use super::*;

    fn terms(text: &str) -> Vec<(Term, String)> {
        guarded_terms(text)
            .into_iter()
            .map(|u| (u.term, u.found))
            .collect()
    }

    #[test]
    fn english_words_are_found_with_where() {
        let t = "Leaders spoke of Genocide; observers fear war crimes and \
                 crimes   against humanity, even ethnic cleansing.";
        let got = guarded_terms(t);
        let names: Vec<Term> = got.iter().map(|u| u.term).collect();
        assert_eq!(
            names,
            [
                Term::Genocide,
                Term::WarCrimes,
                Term::CrimesAgainstHumanity,
                Term::EthnicCleansing
            ]
        );
        assert_eq!(got[0].found, "Genocide");
        assert_eq!(got[0].at, 17);
        assert_eq!(got[1].found, "war crimes");
        assert_eq!(got[2].found, "crimes   against humanity");
        assert_eq!(terms("genocidal rhetoric")[0].1, "genocidal");
        // Words that merely contain the letters are not uses.
        assert!(terms("a prewar crimestopper; the hardware crime").is_empty());
        assert!(terms("Armed clashes displaced 4,000 people.").is_empty());
    }

    #[test]
    fn french_words_are_found_with_or_without_accents() {
        assert_eq!(
            terms("Risque de génocide et de crimes contre l’humanité"),
            [
                (Term::Genocide, "génocide".to_string()),
                (
                    Term::CrimesAgainstHumanity,
                    "crimes contre l’humanité".to_string()
                )
            ]
        );
        assert_eq!(
            terms("un crime de guerre, un NETTOYAGE ETHNIQUE"),
            [
                (Term::WarCrimes, "crime de guerre".to_string()),
                (Term::EthnicCleansing, "NETTOYAGE ETHNIQUE".to_string())
            ]
        );
    }

    #[test]
    fn swahili_words_are_found() {
        assert_eq!(
            terms("Hatari ya mauaji ya kimbari na uhalifu wa kivita"),
            [
                (Term::Genocide, "mauaji ya kimbari".to_string()),
                (Term::WarCrimes, "uhalifu wa kivita".to_string())
            ]
        );
        assert_eq!(
            terms("uhalifu dhidi ya ubinadamu; usafishaji wa kikabila")
                .iter()
                .map(|x| x.0)
                .collect::<Vec<_>>(),
            [Term::CrimesAgainstHumanity, Term::EthnicCleansing]
        );
    }

    #[test]
    fn arabic_words_are_found_with_articles_prefixes_and_vowel_marks() {
        let got = terms("خطر الإبادة الجماعية وجرائم الحرب وجرائم ضد الإنسانية");
        assert_eq!(
            got.iter().map(|x| x.0).collect::<Vec<_>>(),
            [Term::Genocide, Term::WarCrimes, Term::CrimesAgainstHumanity]
        );
        assert_eq!(got[0].1, "الإبادة الجماعية");
        // Vowel marks do not hide a word.
        assert_eq!(terms("تَطْهِير عِرْقِي")[0].0, Term::EthnicCleansing);
        assert!(terms("اشتباكات مسلحة في المنطقة").is_empty());
    }

    #[test]
    fn a_recorded_qualification_covers_its_crime_only() {
        let uses = guarded_terms("genocide, war crimes and ethnic cleansing");
        let left: Vec<Term> = unqualified(uses.clone(), &[Crime::Genocide])
            .into_iter()
            .map(|u| u.term)
            .collect();
        assert_eq!(left, [Term::WarCrimes, Term::EthnicCleansing]);
        let left = unqualified(
            uses,
            &[
                Crime::Genocide,
                Crime::WarCrimes,
                Crime::CrimesAgainstHumanity,
            ],
        );
        assert_eq!(left.len(), 1, "ethnic cleansing is never covered");
    }
}
