//! Dangerous-speech lexicons: import from CSV, measure on a labelled sample, enable and
//! disable (admins and analysts, [`Permission::LexiconManage`]; every change audited).
//!
//! **Invariant:** a lexicon is enabled only while an evaluation of its current version is
//! stored: enabling is refused otherwise, and importing again under the same name makes a new
//! version, disabled until it is measured.

use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::io::Read;
use tocsin_domain::{AuditEvent, Permission};
use tocsin_speech::{Counts, Lexicon, Scanner};
use tocsin_store::{Figures, LexiconEvaluation, LexiconRecord, Op, SpeechStep, Step};

use crate::{Acting, App, AppError, Result};

/// The longest lexicon name.
pub const MAX_NAME: usize = 64;

/// A lexicon with its latest evaluation of the current version, if any.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct LexiconSummary {
    /// The lexicon.
    #[serde(flatten)]
    pub lexicon: LexiconRecord,
    /// Its latest evaluation of the current version (none: it may not be enabled).
    pub evaluation: Option<LexiconEvaluation>,
}

/// What an import is told besides the file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LexiconImport {
    /// The lexicon's name (letters, digits, `-`, `_`, `.`; at most [`MAX_NAME`]).
    pub name: String,
    /// The file's name, kept for the record.
    pub file_name: Option<String>,
    /// Where the lexicon comes from.
    pub provenance: Option<String>,
    /// Its licence.
    pub licence: Option<String>,
}

fn check_name(name: &str) -> Result<&str> {
    let name = name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_NAME
        || !name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(AppError::invalid(
            "name",
            format!("expected 1 to {MAX_NAME} letters, digits, '-', '_' or '.'"),
        ));
    }
    Ok(name)
}

fn text_field(field: &str, v: Option<String>) -> Result<Option<String>> {
    match v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()) {
        Some(s) if s.chars().count() > 500 => {
            Err(AppError::invalid(field, "at most 500 characters"))
        }
        v => Ok(v),
    }
}

fn figures(c: &Counts) -> Figures {
    let pair = |i: Option<tocsin_speech::Interval>| i.map(|i| [i.low, i.high]);
    Figures {
        true_positives: c.true_positives,
        false_positives: c.false_positives,
        false_negatives: c.false_negatives,
        true_negatives: c.true_negatives,
        precision: c.precision(),
        precision_interval: pair(c.precision_interval()),
        recall: c.recall(),
        recall_interval: pair(c.recall_interval()),
    }
}

/// The lexicon stored as `name`, read again from its CSV text.
fn parse(name: &str, source: &str) -> Result<Lexicon> {
    tocsin_speech::read_lexicon(name, source.as_bytes())
        .map_err(|e| AppError::Internal(format!("stored lexicon {name:?} does not read: {e}")))
}

impl App<'_> {
    /// Apply one lexicon step with its audit entry.
    async fn write_speech(&self, step: SpeechStep, audit: AuditEvent) -> Result<()> {
        self.store
            .write(
                &audit.actor.clone(),
                Op::All {
                    steps: vec![Step::Speech(step)],
                    audit: Box::new(audit),
                },
            )
            .await?;
        Ok(())
    }

    /// Import a lexicon from CSV (`term,language,country,category,severity`, further columns
    /// optional): a new one, or the next version of one with this name, disabled until it is
    /// evaluated. The whole file is refused at its first wrong row (`file`: line and column).
    pub async fn import_lexicon(
        &self,
        by: Acting<'_>,
        what: LexiconImport,
        input: impl Read,
    ) -> Result<LexiconRecord> {
        by.require(Permission::LexiconManage)?;
        let name = check_name(&what.name)?.to_string();
        let provenance = text_field("provenance", what.provenance)?;
        let licence = text_field("licence", what.licence)?;
        let (text, _) = tocsin_speech::read::read_text(input)
            .map_err(|e| AppError::invalid("file", e.to_string()))?;
        let lexicon = tocsin_speech::read_lexicon(&name, text.as_bytes())
            .map_err(|e| AppError::invalid("file", e.to_string()))?;
        let version = match self.store.get_lexicon(&name).await {
            Ok(l) => l.version + 1,
            Err(tocsin_store::StoreError::NotFound) => 1,
            Err(e) => return Err(e.into()),
        };
        let mut languages: Vec<String> = lexicon.terms.iter().map(|t| t.language.clone()).collect();
        languages.sort();
        languages.dedup();
        let actor = by.actor();
        let record = LexiconRecord {
            name: name.clone(),
            version,
            terms: lexicon.terms.len() as u64,
            languages,
            provenance,
            licence,
            file_name: text_field("file_name", what.file_name)?,
            imported_by: actor.name.clone(),
            imported_at: tocsin_domain::time::now(),
            enabled: false,
            enabled_by: None,
            enabled_at: None,
        };
        let audit = AuditEvent::new(&actor, "lexicon.import", "lexicon", Some(name))
            .with_detail(json!({"version": version, "terms": record.terms,
                "file": record.file_name, "licence": record.licence}));
        self.write_speech(
            SpeechStep::PutLexicon {
                lexicon: Box::new(record.clone()),
                source: text,
            },
            audit,
        )
        .await?;
        Ok(record)
    }

    /// Measure a lexicon's current version on a labelled sample (CSV `text,label[,language]`,
    /// label 1 or 0): precision and recall of "the text has a hit" with Wilson 95 %
    /// intervals, overall and per language; stored and answered.
    pub async fn evaluate_lexicon(
        &self,
        by: Acting<'_>,
        name: &str,
        sample_name: &str,
        input: impl Read,
    ) -> Result<LexiconEvaluation> {
        by.require(Permission::LexiconManage)?;
        let record = self.store.get_lexicon(name).await?;
        let source = self.store.lexicon_source(name).await?;
        let sample = tocsin_speech::read_sample(input)
            .map_err(|e| AppError::invalid("sample", e.to_string()))?;
        let scanner = Scanner::new(vec![parse(name, &source)?])
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let ev = tocsin_speech::evaluate(&scanner, &sample);
        let actor = by.actor();
        let sample_name = sample_name.trim();
        let evaluation = LexiconEvaluation {
            id: tocsin_domain::random_id(),
            lexicon: record.name.clone(),
            lexicon_version: record.version,
            sample: if sample_name.is_empty() {
                "sample".into()
            } else {
                sample_name.chars().take(200).collect()
            },
            by: actor.name.clone(),
            at: tocsin_domain::time::now(),
            overall: figures(&ev.overall),
            by_language: ev
                .by_language
                .iter()
                .map(|(l, c)| (l.clone(), figures(c)))
                .collect::<BTreeMap<_, _>>(),
        };
        let o = &evaluation.overall;
        let audit = AuditEvent::new(&actor, "lexicon.evaluate", "lexicon", Some(record.name))
            .with_detail(
                json!({"version": record.version, "sample": evaluation.sample,
                "texts": ev.overall.total(), "precision": o.precision, "recall": o.recall}),
            );
        self.write_speech(
            SpeechStep::RecordEvaluation(Box::new(evaluation.clone())),
            audit,
        )
        .await?;
        Ok(evaluation)
    }

    /// Enable a lexicon (incoming text is then scanned with it), or disable it. Enabling is
    /// refused while its current version has no stored evaluation.
    pub async fn set_lexicon_enabled(
        &self,
        by: Acting<'_>,
        name: &str,
        enabled: bool,
    ) -> Result<LexiconRecord> {
        by.require(Permission::LexiconManage)?;
        let mut record = self.store.get_lexicon(name).await?;
        if enabled
            && !self
                .store
                .lexicon_evaluations(name)
                .await?
                .iter()
                .any(|e| e.lexicon_version == record.version)
        {
            return Err(AppError::Conflict(format!(
                "lexicon {name:?} (version {}) has not been evaluated: run an evaluation on a \
                 labelled sample first",
                record.version
            )));
        }
        let actor = by.actor();
        record.enabled = enabled;
        record.enabled_by = Some(actor.name.clone());
        record.enabled_at = Some(tocsin_domain::time::now());
        let action = if enabled {
            "lexicon.enable"
        } else {
            "lexicon.disable"
        };
        let audit = AuditEvent::new(&actor, action, "lexicon", Some(record.name.clone()))
            .with_detail(json!({"version": record.version}));
        self.write_speech(SpeechStep::SetEnabled(Box::new(record.clone())), audit)
            .await?;
        Ok(record)
    }

    /// Every lexicon with its latest evaluation of the current version, by name.
    pub async fn list_lexicons(&self, by: Acting<'_>) -> Result<Vec<LexiconSummary>> {
        by.require(Permission::LexiconManage)?;
        let mut out = Vec::new();
        for lexicon in self.store.list_lexicons().await? {
            let evaluation = self
                .store
                .lexicon_evaluations(&lexicon.name)
                .await?
                .into_iter()
                .find(|e| e.lexicon_version == lexicon.version);
            out.push(LexiconSummary {
                lexicon,
                evaluation,
            });
        }
        Ok(out)
    }

    /// One lexicon with its evaluations (every version), newest first.
    pub async fn lexicon_detail(
        &self,
        by: Acting<'_>,
        name: &str,
    ) -> Result<(LexiconRecord, Vec<LexiconEvaluation>)> {
        by.require(Permission::LexiconManage)?;
        let l = self.store.get_lexicon(name).await?;
        let evs = self.store.lexicon_evaluations(name).await?;
        Ok((l, evs))
    }
}
