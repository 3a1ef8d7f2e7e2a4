//! Dangerous-speech lexicons and their evaluations: the read trait and the primitive writes
//! the application layer composes into an [`Op::All`](crate::Op::All) (as
//! [`Step::Speech`](crate::Step::Speech)).
//!
//! A lexicon is stored under its name with the CSV text it was imported from (read again by
//! `tocsin_speech::read_lexicon` when scanning) and a version that grows with each import
//! under that name. An evaluation belongs to one version; a lexicon is enabled only while an
//! evaluation of its current version exists (checked again in the enabling step), and a new
//! import disables it.
//!
//! Flags ([`SpeechFlag`]) are written by the application layer in the same write as the report
//! they are in; each holds the report's id and label, the lexicon and the terms' offsets, never
//! the text. Every lexicon import and every enabling or disabling replaces a random token
//! ([`Speech::speech_token`]), so a process keeping a compiled scanner knows when to build it
//! again.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

use crate::Result;
use tocsin_domain::{
    Country, FlagState, MonitoredItem, Page, PageRequest, PlacedFlag, SpeechFlag, Tlp,
};

/// A stored lexicon, without its terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LexiconRecord {
    /// Its name, unique.
    pub name: String,
    /// 1 at the first import, one more at each import under the same name.
    pub version: i64,
    /// How many terms it holds.
    pub terms: u64,
    /// The languages of its terms (ISO 639), sorted.
    pub languages: Vec<String>,
    /// Where the lexicon comes from, as the importer said.
    pub provenance: Option<String>,
    /// The licence it comes under, as the importer said.
    pub licence: Option<String>,
    /// The name of the file it was imported from.
    pub file_name: Option<String>,
    /// Who imported this version.
    pub imported_by: String,
    /// When.
    pub imported_at: DateTime<Utc>,
    /// Incoming text is scanned with it.
    pub enabled: bool,
    /// Who last enabled or disabled it.
    pub enabled_by: Option<String>,
    /// When.
    pub enabled_at: Option<DateTime<Utc>>,
}

/// Precision and recall of one set of texts, with Wilson 95 % intervals.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Figures {
    /// Flagged and labelled 1.
    pub true_positives: u64,
    /// Flagged and labelled 0.
    pub false_positives: u64,
    /// Not flagged and labelled 1.
    pub false_negatives: u64,
    /// Not flagged and labelled 0.
    pub true_negatives: u64,
    /// Of the flagged texts, the share labelled 1 (none when nothing was flagged).
    pub precision: Option<f64>,
    /// Its interval, `[low, high]`.
    pub precision_interval: Option<[f64; 2]>,
    /// Of the texts labelled 1, the share flagged (none when the sample has none).
    pub recall: Option<f64>,
    /// Its interval, `[low, high]`.
    pub recall_interval: Option<[f64; 2]>,
}

/// One measurement of a lexicon version on a labelled sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LexiconEvaluation {
    /// Random id.
    pub id: Uuid,
    /// The lexicon's name.
    pub lexicon: String,
    /// The version measured.
    pub lexicon_version: i64,
    /// The sample's name (its file name).
    pub sample: String,
    /// Who measured.
    pub by: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Over the whole sample.
    pub overall: Figures,
    /// Per language of the sample's `language` column.
    pub by_language: BTreeMap<String, Figures>,
}

/// A primitive write of lexicons.
#[derive(Debug, Clone)]
pub enum SpeechStep {
    /// Store a lexicon and its CSV text: a new one at version 1 (Conflict when the name is
    /// taken), or the next version of a stored one (Conflict unless the stored version is
    /// `lexicon.version - 1`; not found when there is none).
    PutLexicon {
        /// The record (its `enabled` is stored as given).
        lexicon: Box<LexiconRecord>,
        /// The CSV text the terms are read from.
        source: String,
    },
    /// Store an evaluation. Not found when there is no such lexicon; Conflict when it is no
    /// longer at the version measured.
    RecordEvaluation(Box<LexiconEvaluation>),
    /// Replace a lexicon's enabled state and who set it, guarded by its version still being
    /// `lexicon.version` (Conflict otherwise; not found when it is gone). Enabling is a
    /// Conflict when no evaluation of that version is stored.
    SetEnabled(Box<LexiconRecord>),
    /// Keep an analyst's edit of a term in the lexicon's term history. Not found when there
    /// is no such lexicon; Conflict unless the lexicon is stored at `edit.version` (the
    /// version the edit made, put by a [`SpeechStep::PutLexicon`] before it in the same op).
    RecordTermEdit(Box<TermEdit>),
    /// Store a new flag (version 1, open). Conflict when its item already has a flag of that
    /// lexicon; not found (or Conflict) when its report or lexicon is not stored.
    CreateFlag(Box<SpeechFlag>),
    /// Replace a flag's state and review, guarded by its stored version being
    /// `flag.version - 1` (Conflict otherwise; not found when there is none). Only the state,
    /// the review and the version change.
    ReviewFlag(Box<SpeechFlag>),
}

/// What an edit did to a term.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TermAction {
    /// The term was added.
    Add,
    /// Some of its fields were changed.
    Change,
    /// It was removed.
    Remove,
}

impl TermAction {
    /// `add`, `change` or `remove`.
    pub fn as_str(self) -> &'static str {
        match self {
            TermAction::Add => "add",
            TermAction::Change => "change",
            TermAction::Remove => "remove",
        }
    }
}

/// Which flags a list shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagFilter {
    /// Never a flag labelled above this (the reader's clearance).
    pub max_tlp: Tlp,
    /// Only flags in this state.
    pub state: Option<FlagState>,
    /// Only flags of this lexicon.
    pub lexicon: Option<String>,
    /// Only flags with a term of this category.
    pub category: Option<String>,
}

impl FlagFilter {
    /// Every flag up to `max_tlp`.
    pub fn up_to(max_tlp: Tlp) -> FlagFilter {
        FlagFilter {
            max_tlp,
            state: None,
            lexicon: None,
            category: None,
        }
    }
}

/// One field of a term before and after an edit (none: empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TermChange {
    /// The field's name as lexicon files spell it (`category`, `variants`…).
    pub field: String,
    /// Its value before (lists joined with `|`).
    pub before: Option<String>,
    /// Its value after.
    pub after: Option<String>,
}

/// An analyst's edit of one term of a lexicon: who, when, what changed, and the lexicon
/// version it made (disabled until that version is evaluated).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TermEdit {
    /// Random id.
    pub id: Uuid,
    /// The lexicon's name.
    pub lexicon: String,
    /// The version the edit made.
    pub version: i64,
    /// Added, changed or removed.
    pub action: TermAction,
    /// The term as written.
    pub term: String,
    /// Its language (ISO 639).
    pub language: String,
    /// Its country (ISO 3166 alpha-2), none: any.
    pub country: Option<String>,
    /// The fields that changed (every field set, for an addition or a removal).
    pub changes: Vec<TermChange>,
    /// Who edited.
    pub by: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// The categories column a backend filters on: `|cat|cat|`, sorted.
pub fn categories_column(f: &SpeechFlag) -> String {
    let mut s = String::from("|");
    for c in f.categories() {
        s.push_str(c);
        s.push('|');
    }
    s
}

/// Reads of lexicons and evaluations.
#[async_trait]
pub trait Speech: Send + Sync {
    /// One lexicon (not found when there is none of that name).
    async fn get_lexicon(&self, name: &str) -> Result<LexiconRecord>;
    /// The CSV text of a lexicon's current version.
    async fn lexicon_source(&self, name: &str) -> Result<String>;
    /// Every lexicon, by name.
    async fn list_lexicons(&self) -> Result<Vec<LexiconRecord>>;
    /// The evaluations of a lexicon, every version, newest first.
    async fn lexicon_evaluations(&self, name: &str) -> Result<Vec<LexiconEvaluation>>;
    /// The enabled lexicons with their CSV text, by name.
    async fn enabled_lexicons(&self) -> Result<Vec<(LexiconRecord, String)>>;
    /// The term edits of a lexicon, newest first.
    async fn term_history(&self, name: &str) -> Result<Vec<TermEdit>>;
    /// A random token replaced by every lexicon import and every enabling or disabling: while
    /// it is unchanged, so are the enabled lexicons.
    async fn speech_token(&self) -> Result<String>;
    /// One flag (not found when there is none).
    async fn get_flag(&self, id: Uuid) -> Result<SpeechFlag>;
    /// Flags matching `f`, newest first (by creation time, then id).
    async fn list_flags(&self, f: &FlagFilter, page: PageRequest) -> Result<Page<SpeechFlag>>;
    /// The flags of these reports (any label: the caller filters), newest first.
    async fn flags_of_reports(&self, reports: &[Uuid]) -> Result<Vec<SpeechFlag>>;
    /// The confirmed flags labelled at most `max_tlp` and created since `since` (a flag is
    /// created after its words were said, so this holds every one said since), with when
    /// and where their words were said, oldest first.
    async fn confirmed_flags(&self, since: DateTime<Utc>, max_tlp: Tlp) -> Result<Vec<PlacedFlag>>;
}

/// A [`PlacedFlag`] from a flag's row joined to its report's columns or its item's body.
#[allow(clippy::too_many_arguments)]
pub fn placed_flag(
    flag: SpeechFlag,
    report_country: Option<String>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    occurred_at: Option<DateTime<Utc>>,
    received_at: Option<DateTime<Utc>>,
    item: Option<&str>,
) -> Result<PlacedFlag> {
    if let Some(body) = item {
        let item: MonitoredItem = from_body("monitored item", body)?;
        return Ok(PlacedFlag {
            said_at: item.published_at.unwrap_or(item.fetched_at),
            country: item.country,
            position: None,
            flag,
        });
    }
    let said_at = occurred_at.or(received_at).unwrap_or(flag.created_at);
    Ok(PlacedFlag {
        said_at,
        country: report_country.and_then(|c| Country::parse(&c).ok()),
        position: latitude.zip(longitude),
        flag,
    })
}

/// The JSON body a backend stores a record as.
pub fn to_body<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| crate::StoreError::Backend(e.to_string()))
}

/// A record read back from its JSON body.
pub fn from_body<T: serde::de::DeserializeOwned>(what: &str, s: &str) -> Result<T> {
    serde_json::from_str(s)
        .map_err(|e| crate::StoreError::Backend(format!("corrupt {what} in database: {e}")))
}
