//! Analysts' edits of a lexicon's terms (admins and analysts, [`Permission::LexiconManage`]):
//! read the terms a page at a time, add a term, change one (category, severity, meanings,
//! ambiguous, variants, transliterations, suggested alternative, attached prefixes and
//! suffixes, proximity rule), remove one.
//!
//! Each edit writes the next version of the lexicon (its CSV text written again from the
//! terms as edited, [`tocsin_speech::write_lexicon`]), disabled until that version is
//! evaluated: the invariant of [`crate::speech`] holds. The edit is kept in the lexicon's term
//! history (who, when, which fields went from what to what) and audited, in one write.

use serde::{Deserialize, Serialize};
use serde_json::json;
use tocsin_domain::{AuditEvent, Permission};
use tocsin_speech::{Category, Lexicon, Severity, Term};
use tocsin_store::{LexiconRecord, Op, SpeechStep, Step, TermAction, TermChange, TermEdit};

use crate::{Acting, App, AppError, Result};

/// The most terms one read answers.
pub const MAX_TERMS_PAGE: usize = 500;

/// The longest text of a term's field.
const MAX_TEXT: usize = 500;

/// One term as the pages and the API show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TermView {
    /// The term as written.
    pub term: String,
    /// ISO 639 language code.
    pub language: String,
    /// ISO 3166 alpha-2 country code; none: any country.
    pub country: Option<String>,
    /// `dehumanisation`, `threat`, `incitement`, `slur` or `coded term`.
    pub category: String,
    /// `low`, `medium` or `high`.
    pub severity: String,
    /// What it means when used to harm.
    pub meaning_hateful: Option<String>,
    /// What it means otherwise.
    pub meaning_other: Option<String>,
    /// It has innocent uses.
    pub ambiguous: bool,
    /// Other spellings.
    pub variants: Vec<String>,
    /// The term in other scripts.
    pub transliterations: Vec<String>,
    /// A suggested alternative wording.
    pub alternative: Option<String>,
    /// Attached prefixes (or named sets).
    pub prefixes: Vec<String>,
    /// Attached suffixes (or named sets).
    pub suffixes: Vec<String>,
    /// A hit only near one of these words.
    pub near: Vec<String>,
    /// Words either side for `near`.
    pub within: u32,
    /// Where the term comes from.
    pub provenance: Option<String>,
    /// Its licence.
    pub licence: Option<String>,
}

impl From<&Term> for TermView {
    fn from(t: &Term) -> Self {
        TermView {
            term: t.term.clone(),
            language: t.language.clone(),
            country: t.country.clone(),
            category: t.category.as_str().into(),
            severity: t.severity.as_str().into(),
            meaning_hateful: t.meaning_hateful.clone(),
            meaning_other: t.meaning_other.clone(),
            ambiguous: t.ambiguous,
            variants: t.variants.clone(),
            transliterations: t.transliterations.clone(),
            alternative: t.alternative.clone(),
            prefixes: t.prefixes.clone(),
            suffixes: t.suffixes.clone(),
            near: t.near.clone(),
            within: t.within,
            provenance: t.provenance.clone(),
            licence: t.licence.clone(),
        }
    }
}

/// A page of a lexicon's terms, in file order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TermPage {
    /// The lexicon's name.
    pub lexicon: String,
    /// The version read.
    pub version: i64,
    /// How many terms it holds.
    pub total: u64,
    /// The position of the first term answered (0-based).
    pub offset: u64,
    /// The terms.
    pub items: Vec<TermView>,
}

/// Which term: as written (compared after normalisation, as duplicates are), its language
/// and its country (none: any).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
pub struct TermKey {
    /// The term.
    pub term: String,
    /// Its language.
    pub language: String,
    /// Its country; none or empty: any.
    #[serde(default)]
    pub country: Option<String>,
}

/// A term to add.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTerm {
    /// The lexicon version the edit was made on: refused (409) when it has moved on.
    #[serde(default)]
    pub version: Option<i64>,
    /// The term (a word or a phrase).
    pub term: String,
    /// ISO 639 language code.
    pub language: String,
    /// ISO 3166 alpha-2 country code; none or empty: any country.
    #[serde(default)]
    pub country: Option<String>,
    /// `dehumanisation`, `threat`, `incitement`, `slur` or `coded term`.
    pub category: String,
    /// `1`–`3` or `low`, `medium`, `high`.
    pub severity: String,
    /// What it means when used to harm.
    #[serde(default)]
    pub meaning_hateful: Option<String>,
    /// What it means otherwise.
    #[serde(default)]
    pub meaning_other: Option<String>,
    /// It has innocent uses.
    #[serde(default)]
    pub ambiguous: bool,
    /// Other spellings.
    #[serde(default)]
    pub variants: Vec<String>,
    /// The term in other scripts.
    #[serde(default)]
    pub transliterations: Vec<String>,
    /// A suggested alternative wording.
    #[serde(default)]
    pub alternative: Option<String>,
    /// Attached prefixes, or named sets (`@sw-noun-classes`, `@ar-particles`).
    #[serde(default)]
    pub prefixes: Vec<String>,
    /// Attached suffixes, or the named set `@ar-suffixes`.
    #[serde(default)]
    pub suffixes: Vec<String>,
    /// The term is a hit only near one of these words (e.g. a group's name).
    #[serde(default)]
    pub near: Vec<String>,
    /// How many words either side count as near (1–50; default 5).
    #[serde(default)]
    pub within: Option<u32>,
}

/// A change of a term: the fields given are set (an empty text clears it), the others kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TermPatch {
    /// The lexicon version the edit was made on: refused (409) when it has moved on.
    #[serde(default)]
    pub version: Option<i64>,
    /// New category.
    #[serde(default)]
    pub category: Option<String>,
    /// New severity.
    #[serde(default)]
    pub severity: Option<String>,
    /// New hateful meaning.
    #[serde(default)]
    pub meaning_hateful: Option<String>,
    /// New other meaning.
    #[serde(default)]
    pub meaning_other: Option<String>,
    /// Whether it has innocent uses.
    #[serde(default)]
    pub ambiguous: Option<bool>,
    /// New other spellings (replacing them all).
    #[serde(default)]
    pub variants: Option<Vec<String>>,
    /// New transliterations (replacing them all).
    #[serde(default)]
    pub transliterations: Option<Vec<String>>,
    /// New suggested alternative wording.
    #[serde(default)]
    pub alternative: Option<String>,
    /// New attached prefixes (replacing them all).
    #[serde(default)]
    pub prefixes: Option<Vec<String>>,
    /// New attached suffixes (replacing them all).
    #[serde(default)]
    pub suffixes: Option<Vec<String>>,
    /// New words the term must be near (replacing them all; empty: a hit anywhere).
    #[serde(default)]
    pub near: Option<Vec<String>>,
    /// New proximity in words (1–50).
    #[serde(default)]
    pub within: Option<u32>,
}

/// The categories a term may have, as files and forms spell them.
pub fn categories() -> Vec<&'static str> {
    Category::ALL.iter().map(|c| c.as_str()).collect()
}

/// The severities a term may have, lowest first.
pub fn severities() -> Vec<&'static str> {
    [Severity::Low, Severity::Medium, Severity::High]
        .iter()
        .map(|s| s.as_str())
        .collect()
}

/// A field's text, trimmed; empty is none; too long refused.
fn text(field: &str, v: Option<String>) -> Result<Option<String>> {
    match v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()) {
        Some(s) if s.chars().count() > MAX_TEXT => Err(AppError::invalid(
            field,
            format!("at most {MAX_TEXT} characters"),
        )),
        v => Ok(v),
    }
}

/// A list field: items trimmed, empty ones dropped; `|` (the file's separator) refused.
fn list(field: &str, v: Vec<String>) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for s in v {
        let s = s.trim();
        if s.is_empty() {
            continue;
        }
        if s.contains('|') || s.chars().count() > MAX_TEXT {
            return Err(AppError::invalid(
                field,
                format!(
                    "{s:?}: one spelling per entry, without '|', at most {MAX_TEXT} characters"
                ),
            ));
        }
        if !out.iter().any(|o: &String| o == s) {
            out.push(s.to_string());
        }
    }
    Ok(out)
}

/// Attached prefixes or suffixes: a list whose entries are affixes or known named sets.
fn affixes(field: &str, v: Vec<String>) -> Result<Vec<String>> {
    let v = list(field, v)?;
    if let Some(e) = v
        .iter()
        .find(|e| tocsin_speech::lexicon::affix_set(e).is_none())
    {
        return Err(AppError::invalid(
            field,
            format!("unknown set {e:?}: expected @sw-noun-classes, @ar-particles or @ar-suffixes"),
        ));
    }
    Ok(v)
}

/// Words either side for a proximity rule.
fn within(n: u32) -> Result<u32> {
    if (1..=50).contains(&n) {
        Ok(n)
    } else {
        Err(AppError::invalid(
            "within",
            format!("{n}: expected a number of words, 1 to 50"),
        ))
    }
}

fn category(s: &str) -> Result<Category> {
    Category::parse(s).ok_or_else(|| {
        AppError::invalid(
            "category",
            format!(
                "{s:?}: expected one of {}",
                Category::ALL.map(Category::as_str).join(", ")
            ),
        )
    })
}

fn severity(s: &str) -> Result<Severity> {
    Severity::parse(s).ok_or_else(|| {
        AppError::invalid("severity", format!("{s:?}: expected low, medium or high"))
    })
}

fn language(s: &str) -> Result<String> {
    let l = s.trim().to_lowercase();
    if !(2..=3).contains(&l.len()) || !l.bytes().all(|b| b.is_ascii_lowercase()) {
        return Err(AppError::invalid(
            "language",
            format!("{s:?} is not an ISO 639 code such as sw, ar, ha or en"),
        ));
    }
    Ok(l)
}

fn country(s: Option<&str>) -> Result<Option<String>> {
    let c = s.unwrap_or("").trim().to_uppercase();
    if c.is_empty() {
        return Ok(None);
    }
    if c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(Some(c))
    } else {
        Err(AppError::invalid(
            "country",
            format!("{c:?} is not an ISO 3166 alpha-2 code such as KE or SD (or empty)"),
        ))
    }
}

/// The fields an edit records, as lexicon files spell them (lists joined with `|`).
fn fields(t: &Term) -> Vec<(&'static str, Option<String>)> {
    let l = |v: &[String]| Some(v.join("|")).filter(|s| !s.is_empty());
    vec![
        ("term", Some(t.term.clone())),
        ("language", Some(t.language.clone())),
        ("country", t.country.clone()),
        ("category", Some(t.category.as_str().into())),
        ("severity", Some(t.severity.as_str().into())),
        ("meaning_hateful", t.meaning_hateful.clone()),
        ("meaning_other", t.meaning_other.clone()),
        (
            "ambiguous",
            Some(if t.ambiguous { "yes" } else { "no" }.into()),
        ),
        ("variants", l(&t.variants)),
        ("transliterations", l(&t.transliterations)),
        ("alternative", t.alternative.clone()),
        ("prefixes", l(&t.prefixes)),
        ("suffixes", l(&t.suffixes)),
        ("near", l(&t.near)),
        ("within", (!t.near.is_empty()).then(|| t.within.to_string())),
    ]
}

/// The fields that differ between `before` and `after` (none: absent).
fn diff(before: Option<&Term>, after: Option<&Term>) -> Vec<TermChange> {
    let b = before.map(fields).unwrap_or_default();
    let a = after.map(fields).unwrap_or_default();
    let names = if a.is_empty() { &b } else { &a };
    names
        .iter()
        .map(|(f, _)| *f)
        .filter_map(|f| {
            let get = |v: &[(&str, Option<String>)]| {
                v.iter().find(|(n, _)| *n == f).and_then(|(_, v)| v.clone())
            };
            let (before, after) = (get(&b), get(&a));
            (before != after).then(|| TermChange {
                field: f.to_string(),
                before,
                after,
            })
        })
        .collect()
}

/// Whether `t` is the term `key` names (as duplicates are found: normalised term, language,
/// country).
fn is(t: &Term, key: &TermKey) -> bool {
    let c = key
        .country
        .as_deref()
        .map(|c| c.trim().to_uppercase())
        .filter(|c| !c.is_empty());
    t.language == key.language.trim().to_lowercase()
        && t.country == c
        && tocsin_speech::normalise(&t.term) == tocsin_speech::normalise(key.term.trim())
}

fn no_term(key: &TermKey) -> AppError {
    AppError::invalid(
        "term",
        format!(
            "the lexicon has no term {:?} ({}{})",
            key.term,
            key.language,
            key.country
                .as_deref()
                .filter(|c| !c.is_empty())
                .map(|c| format!(", {c}"))
                .unwrap_or_default()
        ),
    )
}

impl App<'_> {
    /// The terms of a lexicon's current version, `limit` (1 to [`MAX_TERMS_PAGE`]) from
    /// position `offset`.
    pub async fn lexicon_terms(
        &self,
        by: Acting<'_>,
        name: &str,
        offset: u64,
        limit: usize,
    ) -> Result<TermPage> {
        by.require(Permission::LexiconManage)?;
        let (record, lexicon) = self.current_lexicon(name).await?;
        let limit = limit.clamp(1, MAX_TERMS_PAGE);
        Ok(TermPage {
            lexicon: record.name,
            version: record.version,
            total: lexicon.terms.len() as u64,
            offset,
            items: lexicon
                .terms
                .iter()
                .skip(usize::try_from(offset).unwrap_or(usize::MAX))
                .take(limit)
                .map(TermView::from)
                .collect(),
        })
    }

    /// One term of a lexicon's current version.
    pub async fn lexicon_term(
        &self,
        by: Acting<'_>,
        name: &str,
        key: &TermKey,
    ) -> Result<(LexiconRecord, TermView)> {
        by.require(Permission::LexiconManage)?;
        let (record, lexicon) = self.current_lexicon(name).await?;
        let t = lexicon
            .terms
            .iter()
            .find(|t| is(t, key))
            .ok_or(AppError::NotFound)?;
        Ok((record, TermView::from(t)))
    }

    /// The term edits of a lexicon, newest first.
    pub async fn lexicon_term_history(&self, by: Acting<'_>, name: &str) -> Result<Vec<TermEdit>> {
        by.require(Permission::LexiconManage)?;
        self.store.get_lexicon(name).await?;
        Ok(self.store.term_history(name).await?)
    }

    /// Add a term: the lexicon's next version, disabled until evaluated.
    pub async fn add_lexicon_term(
        &self,
        by: Acting<'_>,
        name: &str,
        new: NewTerm,
    ) -> Result<(LexiconRecord, TermEdit)> {
        by.require(Permission::LexiconManage)?;
        let term = new.term.trim().to_string();
        if term.is_empty() {
            return Err(AppError::invalid("term", "is required"));
        }
        if term.chars().count() > MAX_TEXT || term.contains(['\n', '\r']) {
            return Err(AppError::invalid(
                "term",
                format!("one line of at most {MAX_TEXT} characters"),
            ));
        }
        if tocsin_speech::normalise(&term).trim().is_empty() {
            return Err(AppError::invalid(
                "term",
                format!("{term:?} has no letters or digits"),
            ));
        }
        let t = Term {
            term,
            language: language(&new.language)?,
            country: country(new.country.as_deref())?,
            category: category(&new.category)?,
            severity: severity(&new.severity)?,
            meaning_hateful: text("meaning_hateful", new.meaning_hateful)?,
            meaning_other: text("meaning_other", new.meaning_other)?,
            ambiguous: new.ambiguous,
            variants: list("variants", new.variants)?,
            transliterations: list("transliterations", new.transliterations)?,
            alternative: text("alternative", new.alternative)?,
            prefixes: affixes("prefixes", new.prefixes)?,
            suffixes: affixes("suffixes", new.suffixes)?,
            near: list("near", new.near)?,
            within: new
                .within
                .map(within)
                .transpose()?
                .unwrap_or(tocsin_speech::lexicon::DEFAULT_WITHIN),
            provenance: None,
            licence: None,
        };
        self.edit_terms(by, name, new.version, move |terms| {
            let key = TermKey {
                term: t.term.clone(),
                language: t.language.clone(),
                country: t.country.clone(),
            };
            if terms.iter().any(|x| is(x, &key)) {
                return Err(AppError::invalid(
                    "term",
                    format!(
                        "the lexicon already has {:?} ({}): change that term instead",
                        t.term, t.language
                    ),
                ));
            }
            terms.push(t.clone());
            Ok((TermAction::Add, None, Some(t)))
        })
        .await
    }

    /// Change a term's category, severity, meanings, ambiguity, variants, transliterations or
    /// suggested alternative: the lexicon's next version, disabled until evaluated. A change
    /// that changes nothing is refused (no version is made for it).
    pub async fn change_lexicon_term(
        &self,
        by: Acting<'_>,
        name: &str,
        key: &TermKey,
        patch: TermPatch,
    ) -> Result<(LexiconRecord, TermEdit)> {
        by.require(Permission::LexiconManage)?;
        let cat = patch.category.as_deref().map(category).transpose()?;
        let sev = patch.severity.as_deref().map(severity).transpose()?;
        let hateful = patch
            .meaning_hateful
            .map(|v| text("meaning_hateful", Some(v)))
            .transpose()?;
        let other = patch
            .meaning_other
            .map(|v| text("meaning_other", Some(v)))
            .transpose()?;
        let alternative = patch
            .alternative
            .map(|v| text("alternative", Some(v)))
            .transpose()?;
        let variants = patch.variants.map(|v| list("variants", v)).transpose()?;
        let translits = patch
            .transliterations
            .map(|v| list("transliterations", v))
            .transpose()?;
        let prefixes = patch.prefixes.map(|v| affixes("prefixes", v)).transpose()?;
        let suffixes = patch.suffixes.map(|v| affixes("suffixes", v)).transpose()?;
        let near = patch.near.map(|v| list("near", v)).transpose()?;
        let within_words = patch.within.map(within).transpose()?;
        let key = key.clone();
        self.edit_terms(by, name, patch.version, move |terms| {
            let t = terms
                .iter_mut()
                .find(|t| is(t, &key))
                .ok_or_else(|| no_term(&key))?;
            let before = t.clone();
            if let Some(c) = cat {
                t.category = c;
            }
            if let Some(s) = sev {
                t.severity = s;
            }
            if let Some(v) = hateful {
                t.meaning_hateful = v;
            }
            if let Some(v) = other {
                t.meaning_other = v;
            }
            if let Some(v) = alternative {
                t.alternative = v;
            }
            if let Some(v) = patch.ambiguous {
                t.ambiguous = v;
            }
            if let Some(v) = variants {
                t.variants = v;
            }
            if let Some(v) = translits {
                t.transliterations = v;
            }
            if let Some(v) = prefixes {
                t.prefixes = v;
            }
            if let Some(v) = suffixes {
                t.suffixes = v;
            }
            if let Some(v) = near {
                t.near = v;
            }
            if let Some(v) = within_words {
                t.within = v;
            }
            if *t == before {
                return Err(AppError::invalid("term", "nothing was changed"));
            }
            Ok((TermAction::Change, Some(before), Some(t.clone())))
        })
        .await
    }

    /// Remove a term: the lexicon's next version, disabled until evaluated. The last term
    /// cannot be removed (a lexicon has terms).
    pub async fn remove_lexicon_term(
        &self,
        by: Acting<'_>,
        name: &str,
        key: &TermKey,
        version: Option<i64>,
    ) -> Result<(LexiconRecord, TermEdit)> {
        by.require(Permission::LexiconManage)?;
        let key = key.clone();
        self.edit_terms(by, name, version, move |terms| {
            let i = terms
                .iter()
                .position(|t| is(t, &key))
                .ok_or_else(|| no_term(&key))?;
            if terms.len() == 1 {
                return Err(AppError::invalid(
                    "term",
                    "the lexicon's last term cannot be removed",
                ));
            }
            let t = terms.remove(i);
            Ok((TermAction::Remove, Some(t), None))
        })
        .await
    }

    /// A lexicon's record and its current terms.
    async fn current_lexicon(&self, name: &str) -> Result<(LexiconRecord, Lexicon)> {
        let record = self.store.get_lexicon(name).await?;
        let source = self.store.lexicon_source(name).await?;
        let lexicon = tocsin_speech::read_lexicon(name, source.as_bytes()).map_err(|e| {
            AppError::Internal(format!("stored lexicon {name:?} does not read: {e}"))
        })?;
        Ok((record, lexicon))
    }

    /// Apply `edit` to the current terms and store the next version with the edit in the
    /// term history and the audit trail, in one write. `expected`: the version the editor
    /// saw (a Conflict when the lexicon has moved on).
    async fn edit_terms(
        &self,
        by: Acting<'_>,
        name: &str,
        expected: Option<i64>,
        edit: impl FnOnce(&mut Vec<Term>) -> Result<(TermAction, Option<Term>, Option<Term>)>,
    ) -> Result<(LexiconRecord, TermEdit)> {
        let (record, mut lexicon) = self.current_lexicon(name).await?;
        if let Some(v) = expected.filter(|v| *v != record.version) {
            return Err(AppError::Conflict(format!(
                "lexicon {name:?} is at version {} now, not {v}: reload it and edit again",
                record.version
            )));
        }
        let (action, before, after) = edit(&mut lexicon.terms)?;
        let source = tocsin_speech::write_lexicon(&lexicon);
        // The file as it will be read when scanning: anything it refuses is refused here.
        let check = tocsin_speech::read_lexicon(name, source.as_bytes())
            .map_err(|e| AppError::invalid("term", e.to_string()))?;
        let mut languages: Vec<String> = check.terms.iter().map(|t| t.language.clone()).collect();
        languages.sort();
        languages.dedup();
        let actor = by.actor();
        let now = tocsin_domain::time::now();
        let was_enabled = record.enabled;
        let next = LexiconRecord {
            version: record.version + 1,
            terms: check.terms.len() as u64,
            languages,
            imported_by: actor.name.clone(),
            imported_at: now,
            enabled: false,
            enabled_by: if was_enabled {
                Some(actor.name.clone())
            } else {
                record.enabled_by.clone()
            },
            enabled_at: if was_enabled {
                Some(now)
            } else {
                record.enabled_at
            },
            ..record
        };
        let shown = after
            .as_ref()
            .or(before.as_ref())
            .expect("an edit has a term");
        let te = TermEdit {
            id: tocsin_domain::random_id(),
            lexicon: next.name.clone(),
            version: next.version,
            action,
            term: shown.term.clone(),
            language: shown.language.clone(),
            country: shown.country.clone(),
            changes: diff(before.as_ref(), after.as_ref()),
            by: actor.name.clone(),
            at: now,
        };
        let audit = AuditEvent::new(
            &actor,
            match action {
                TermAction::Add => "lexicon.term.add",
                TermAction::Change => "lexicon.term.change",
                TermAction::Remove => "lexicon.term.remove",
            },
            "lexicon",
            Some(next.name.clone()),
        )
        .with_detail(json!({
            "version": next.version, "term": te.term, "language": te.language,
            "country": te.country, "was_enabled": was_enabled,
            "fields": te.changes.iter().map(|c| c.field.as_str()).collect::<Vec<_>>(),
        }));
        self.store
            .write(
                &actor,
                Op::All {
                    steps: vec![
                        Step::Speech(SpeechStep::PutLexicon {
                            lexicon: Box::new(next.clone()),
                            source,
                        }),
                        Step::Speech(SpeechStep::RecordTermEdit(Box::new(te.clone()))),
                    ],
                    audit: Box::new(audit),
                },
            )
            .await?;
        Ok((next, te))
    }
}
