//! The atrocity-prevention toolbox as data: preventive measures an analyst can put into a
//! situation's action plan, each linked to the risk factors of the UN Framework of Analysis
//! for Atrocity Crimes (2014), and historical precedents showing how they were used.
//!
//! Tocsin ships `toolbox/toolbox.md` (project-written paraphrase; every source is cited in the
//! file). Its records are headings followed by `- **key:** value` lines with fixed keys in a
//! fixed order, so [`Toolbox::parse`] reads it strictly: an unknown or missing key, a value
//! outside the controlled vocabularies of its section 0, a risk factor the framework does not
//! have, a dangling source, a measure and a precedent that disagree about each other, or an
//! index table (sections 1 and 3) that disagrees with the records is refused with an error
//! naming the record and the key.
//!
//! The file has no per-record verification mark; what it flags for checking are sources held
//! only as third-party copies ("(copy)" or "(third-party copy)" in section 5.1, and the copy hosts it names). Those
//! flags are kept as data in each record's `to_check` notes, with the file's caveats
//! (section 6) in [`Toolbox::caveats`].

use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;
use tocsin_framework::Framework;

/// The toolbox as shipped with Tocsin.
pub const TOOLBOX_MD: &str = include_str!("../../../toolbox/toolbox.md");

/// Hosts of third-party document copies, as named in the file's section 5.1.
const COPY_HOSTS: [&str; 5] = [
    "docslib.org",
    "paperzz.com",
    "fdocuments",
    "vdocument",
    "readkong.com",
];

/// Why a toolbox file was refused: which record (or line), which key, and what is wrong.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("{record}{}: {message}", key_part(.key))]
pub struct ToolboxError {
    /// The record, e.g. ``measure `arms_embargo` ``, or a line number.
    pub record: String,
    /// The key concerned, when one is.
    pub key: Option<String>,
    /// What is wrong.
    pub message: String,
}

fn key_part(key: &Option<String>) -> String {
    key.as_ref()
        .map(|k| format!(", key `{k}`"))
        .unwrap_or_default()
}

/// One entry of a controlled vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Term {
    /// The key used in records.
    pub key: String,
    /// What it means.
    pub meaning: String,
}

/// A reference source that describes measures (section 5.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Source {
    /// `S1`, `S2`, …
    pub id: String,
    /// Title and URLs as written.
    pub text: String,
    /// Held only as a third-party copy of the document: check against the publisher's text.
    pub third_party_copy: bool,
}

/// A preventive measure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Measure {
    /// Stable snake_case id (what software stores).
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its category (section 2 heading key, e.g. `diplomatic`).
    pub category: String,
    /// What it is and when it fits.
    pub when_it_fits: String,
    /// Stages it fits (`structural`, `early_warning`, `crisis`, `response`).
    pub stages: Vec<String>,
    /// UN 2014 risk factors (1..=14) it mainly acts on.
    pub risk_factors: Vec<u8>,
    /// Who leads it.
    pub lead_actors: Vec<String>,
    /// Risks and costs.
    pub risks: String,
    /// Precedents where it was applied.
    pub precedents: Vec<String>,
    /// Precedents where it was proposed or debated but not carried out.
    pub precedents_not_taken: Vec<String>,
    /// Source ids (section 5.1) describing it.
    pub basis: Vec<String>,
    /// What should be checked before relying on it (empty when nothing is flagged).
    pub to_check: Vec<String>,
}

/// A historical precedent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Precedent {
    /// Stable snake_case id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Country as written.
    pub country: String,
    /// ISO 3166-1 alpha-3 code.
    pub iso3: String,
    /// Years covered, as written.
    pub years: String,
    /// The situation.
    pub context: String,
    /// Measures actually applied.
    pub measures_used: Vec<String>,
    /// Measures proposed or debated but not carried out.
    pub measures_not_taken: Vec<String>,
    /// Dated steps.
    pub timeline: Vec<String>,
    /// What happened.
    pub outcome: String,
    /// `success`, `partial_success`, `failure` or `contested` (prevailing view of the sources).
    pub assessment: String,
    /// Caveats and dissent on the assessment.
    pub assessment_note: String,
    /// Source URLs.
    pub sources: Vec<String>,
    /// What should be checked before relying on it.
    pub to_check: Vec<String>,
}

/// The whole toolbox: vocabularies, measures, precedents, sources and caveats.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Toolbox {
    /// Stage vocabulary (section 0.1).
    pub stages: Vec<Term>,
    /// Lead-actor vocabulary (section 0.3).
    pub lead_actors: Vec<Term>,
    /// Assessment vocabulary (section 0.4).
    pub assessments: Vec<Term>,
    /// Measure categories (section 2 headings).
    pub categories: Vec<Term>,
    /// Measures, in file order.
    pub measures: Vec<Measure>,
    /// Precedents, in file order.
    pub precedents: Vec<Precedent>,
    /// Reference sources for the measures.
    pub sources: Vec<Source>,
    /// The file's gaps and caveats (section 6).
    pub caveats: Vec<String>,
}

const MEASURE_KEYS: [&str; 10] = [
    "name",
    "category",
    "description",
    "stages",
    "risk_factors",
    "lead_actors",
    "risks_costs",
    "precedents",
    "precedents_not_taken",
    "basis",
];

const PRECEDENT_KEYS: [&str; 12] = [
    "title",
    "country",
    "iso3",
    "years",
    "context",
    "measures_used",
    "measures_not_taken",
    "timeline",
    "outcome",
    "assessment",
    "assessment_note",
    "sources",
];

/// A record as read: its id, line and `(key, value, sub-items)` in order.
struct RawRecord {
    id: String,
    line: usize,
    fields: Vec<(String, String, Vec<String>)>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Measure,
    Precedent,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Measure => "measure",
            Kind::Precedent => "precedent",
        }
    }
    fn keys(self) -> &'static [&'static str] {
        match self {
            Kind::Measure => &MEASURE_KEYS,
            Kind::Precedent => &PRECEDENT_KEYS,
        }
    }
}

fn err(record: impl Into<String>, key: Option<&str>, message: impl Into<String>) -> ToolboxError {
    ToolboxError {
        record: record.into(),
        key: key.map(str::to_string),
        message: message.into(),
    }
}

fn is_snake_id(s: &str) -> bool {
    !s.is_empty()
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// The text between the first pair of backticks, if any.
fn backticked(s: &str) -> Option<&str> {
    let start = s.find('`')? + 1;
    let len = s[start..].find('`')?;
    Some(&s[start..start + len])
}

impl Toolbox {
    /// The toolbox shipped with Tocsin, parsed and checked once.
    pub fn shipped() -> &'static Toolbox {
        static SHIPPED: OnceLock<Toolbox> = OnceLock::new();
        SHIPPED.get_or_init(|| Toolbox::parse(TOOLBOX_MD).expect("the shipped toolbox is valid"))
    }

    /// Parse and check a toolbox file against the UN 2014 framework as shipped.
    pub fn parse(text: &str) -> Result<Toolbox, ToolboxError> {
        Toolbox::parse_with(text, &Framework::un_2014())
    }

    /// Parse and check a toolbox file; its risk factors must exist in `framework`.
    pub fn parse_with(text: &str, framework: &Framework) -> Result<Toolbox, ToolboxError> {
        let mut tb = Toolbox {
            stages: vec![],
            lead_actors: vec![],
            assessments: vec![],
            categories: vec![],
            measures: vec![],
            precedents: vec![],
            sources: vec![],
            caveats: vec![],
        };
        let mut section = String::new();
        let mut subsection = String::new();
        let mut current: Option<(Kind, RawRecord)> = None;
        let mut raw: Vec<(Kind, RawRecord)> = vec![];
        // Rows of the measure index (section 1) and precedent index (section 3).
        let mut index: Vec<(Kind, usize, Vec<String>)> = vec![];

        for (i, line) in text.lines().enumerate() {
            let n = i + 1;
            let at = || format!("line {n}");
            if line.starts_with('#') {
                if let Some(r) = current.take() {
                    raw.push(r);
                }
                if let Some(h) = line.strip_prefix("## ") {
                    section = h.split('.').next().unwrap_or("").to_string();
                    subsection.clear();
                } else if let Some(h) = line.strip_prefix("### ") {
                    subsection = h.split(' ').next().unwrap_or("").to_string();
                    if section == "2" {
                        let key = h
                            .rfind("(`")
                            .and_then(|p| backticked(&h[p..]))
                            .filter(|k| is_snake_id(k))
                            .ok_or_else(|| {
                                err(
                                    at(),
                                    None,
                                    "a measure category heading must end with (`key`)",
                                )
                            })?;
                        let meaning = h[subsection.len()..]
                            .split(" (`")
                            .next()
                            .unwrap_or("")
                            .trim()
                            .to_string();
                        tb.categories.push(Term {
                            key: key.to_string(),
                            meaning,
                        });
                    }
                } else if let Some(h) = line.strip_prefix("#### ") {
                    let kind = match section.as_str() {
                        "2" => Kind::Measure,
                        "4" => Kind::Precedent,
                        _ => {
                            return Err(err(
                                at(),
                                None,
                                "a record heading outside sections 2 and 4",
                            ))
                        }
                    };
                    let id = h
                        .strip_prefix('`')
                        .and_then(|s| s.strip_suffix('`'))
                        .filter(|s| is_snake_id(s))
                        .ok_or_else(|| {
                            err(
                                at(),
                                None,
                                format!("a record heading must be a snake_case id in backticks, not {h:?}"),
                            )
                        })?;
                    current = Some((
                        kind,
                        RawRecord {
                            id: id.to_string(),
                            line: n,
                            fields: vec![],
                        },
                    ));
                }
                continue;
            }
            if let Some((kind, rec)) = current.as_mut() {
                let who = || format!("{} `{}`", kind.label(), rec.id);
                if line.trim().is_empty() {
                    continue;
                }
                if let Some(rest) = line.strip_prefix("- **") {
                    let (key, value) = rest.split_once(":**").ok_or_else(|| {
                        err(
                            who(),
                            None,
                            format!("line {n} is not a `- **key:** value` line"),
                        )
                    })?;
                    rec.fields
                        .push((key.to_string(), value.trim().to_string(), vec![]));
                } else if let Some(item) = line.strip_prefix("  - ") {
                    let last = rec.fields.last_mut().ok_or_else(|| {
                        err(who(), None, format!("line {n}: a sub-item before any key"))
                    })?;
                    last.2.push(item.trim().to_string());
                } else {
                    return Err(err(
                        who(),
                        None,
                        format!("line {n} is not a `- **key:** value` line"),
                    ));
                }
                continue;
            }
            // Outside records: vocabularies, sources and caveats.
            match (section.as_str(), subsection.as_str()) {
                (s @ ("1" | "3"), _) if line.starts_with("| `") => {
                    let kind = if s == "1" {
                        Kind::Measure
                    } else {
                        Kind::Precedent
                    };
                    let cells = line
                        .trim()
                        .trim_matches('|')
                        .split('|')
                        .map(|c| c.trim().trim_matches('`').to_string())
                        .collect();
                    index.push((kind, n, cells));
                }
                ("0", s @ ("0.1" | "0.3" | "0.4")) => {
                    if let Some(row) = line.strip_prefix("| `") {
                        let (key, rest) = row.split_once('`').unwrap_or((row, ""));
                        let meaning = rest.trim_start_matches(" |").trim_end_matches('|').trim();
                        if !is_snake_id(key) {
                            return Err(err(
                                at(),
                                None,
                                format!("vocabulary key {key:?} is not snake_case"),
                            ));
                        }
                        let term = Term {
                            key: key.to_string(),
                            meaning: meaning.to_string(),
                        };
                        match s {
                            "0.1" => tb.stages.push(term),
                            "0.3" => tb.lead_actors.push(term),
                            _ => tb.assessments.push(term),
                        }
                    }
                }
                ("5", "5.1") => {
                    if let Some(rest) = line.strip_prefix("- **") {
                        let (id, text) = rest.split_once("** - ").ok_or_else(|| {
                            err(at(), None, "a source line must read `- **Sn** - text`")
                        })?;
                        tb.sources.push(Source {
                            id: id.to_string(),
                            third_party_copy: text.contains("copy)"),
                            text: text.trim().to_string(),
                        });
                    }
                }
                ("6", _) => {
                    if let Some(c) = line.strip_prefix("- ") {
                        tb.caveats.push(c.trim().to_string());
                    }
                }
                _ => {}
            }
        }
        if let Some(r) = current.take() {
            raw.push(r);
        }

        for (kind, rec) in raw {
            let who = format!("{} `{}`", kind.label(), rec.id);
            let keys = kind.keys();
            for (k, want) in keys.iter().enumerate() {
                match rec.fields.get(k) {
                    Some((got, _, _)) if got == want => {}
                    Some((got, _, _)) if keys[k..].contains(&got.as_str()) => {
                        return Err(err(
                            &who,
                            Some(want),
                            format!("missing (`{got}` comes where `{want}` belongs)"),
                        ))
                    }
                    Some((got, _, _)) => {
                        return Err(err(
                            &who,
                            Some(got),
                            format!(
                            "unexpected key (expected `{want}` here; keys are {} in that order)",
                            keys.join(", ")
                        ),
                        ))
                    }
                    None => {
                        return Err(err(
                            &who,
                            Some(want),
                            format!("missing (the record starts at line {})", rec.line),
                        ))
                    }
                }
            }
            if let Some((extra, _, _)) = rec.fields.get(keys.len()) {
                return Err(err(&who, Some(extra), "unknown key"));
            }
            let f: BTreeMap<&str, (&str, &[String])> = rec
                .fields
                .iter()
                .map(|(k, v, items)| (k.as_str(), (v.as_str(), items.as_slice())))
                .collect();
            let text = |key: &str| -> Result<String, ToolboxError> {
                let v = f[key].0;
                if v.is_empty() {
                    return Err(err(&who, Some(key), "is empty"));
                }
                Ok(v.to_string())
            };
            let ids = |key: &str| -> Result<Vec<String>, ToolboxError> {
                let v = f[key].0;
                if v.starts_with("none") {
                    return Ok(vec![]);
                }
                v.split(',')
                    .map(|s| {
                        let s = s.trim();
                        if is_snake_id(s) {
                            Ok(s.to_string())
                        } else {
                            Err(err(
                                &who,
                                Some(key),
                                format!("{s:?} is not a snake_case id"),
                            ))
                        }
                    })
                    .collect()
            };
            match kind {
                Kind::Measure => {
                    let risk_factors = f["risk_factors"]
                        .0
                        .split(',')
                        .map(|s| {
                            s.trim().parse::<u8>().map_err(|_| {
                                err(
                                    &who,
                                    Some("risk_factors"),
                                    format!("{:?} is not a risk-factor number", s.trim()),
                                )
                            })
                        })
                        .collect::<Result<Vec<u8>, _>>()?;
                    let basis = f["basis"]
                        .0
                        .split(',')
                        .map(|s| s.trim().to_string())
                        .collect();
                    tb.measures.push(Measure {
                        id: rec.id.clone(),
                        name: text("name")?,
                        category: text("category")?,
                        when_it_fits: text("description")?,
                        stages: ids("stages")?,
                        risk_factors,
                        lead_actors: ids("lead_actors")?,
                        risks: text("risks_costs")?,
                        precedents: ids("precedents")?,
                        precedents_not_taken: ids("precedents_not_taken")?,
                        basis,
                        to_check: vec![],
                    });
                }
                Kind::Precedent => {
                    let sources: Vec<String> = f["sources"]
                        .0
                        .split(" ; ")
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect();
                    let to_check = sources
                        .iter()
                        .filter(|u| COPY_HOSTS.iter().any(|h| u.contains(h)))
                        .map(|u| {
                            format!(
                                "source {u} is a third-party copy; prefer the official original"
                            )
                        })
                        .collect();
                    tb.precedents.push(Precedent {
                        id: rec.id.clone(),
                        title: text("title")?,
                        country: text("country")?,
                        iso3: text("iso3")?,
                        years: text("years")?,
                        context: text("context")?,
                        measures_used: ids("measures_used")?,
                        measures_not_taken: ids("measures_not_taken")?,
                        timeline: f["timeline"].1.to_vec(),
                        outcome: text("outcome")?,
                        assessment: text("assessment")?,
                        assessment_note: text("assessment_note")?,
                        sources,
                        to_check,
                    });
                }
            }
        }
        tb.check(framework)?;
        tb.check_index(&index)?;
        Ok(tb)
    }

    /// The index tables (sections 1 and 3) must list exactly the records, with the same values.
    fn check_index(&self, index: &[(Kind, usize, Vec<String>)]) -> Result<(), ToolboxError> {
        let mut listed: BTreeSet<&str> = BTreeSet::new();
        for (kind, line, cells) in index {
            let id = cells[0].as_str();
            let who = format!("{} index, line {line}", kind.label());
            let (record, columns): (Option<Vec<String>>, &[&str]) = match kind {
                Kind::Measure => (
                    self.measure(id).map(|m| {
                        vec![
                            m.name.clone(),
                            m.category.clone(),
                            m.stages.join(", "),
                            m.risk_factors
                                .iter()
                                .map(u8::to_string)
                                .collect::<Vec<_>>()
                                .join(", "),
                            m.lead_actors.join(", "),
                        ]
                    }),
                    &["name", "category", "stages", "risk_factors", "lead_actors"],
                ),
                Kind::Precedent => (
                    self.precedent(id).map(|p| {
                        vec![
                            p.country.clone(),
                            p.iso3.clone(),
                            p.years.clone(),
                            p.assessment.clone(),
                        ]
                    }),
                    &["country", "iso3", "years", "assessment"],
                ),
            };
            let record = record
                .ok_or_else(|| err(&who, None, format!("lists `{id}`, which has no record")))?;
            if !listed.insert(id) {
                return Err(err(&who, None, format!("lists `{id}` twice")));
            }
            for (k, col) in columns.iter().enumerate() {
                let shown = cells.get(k + 1).map(String::as_str).unwrap_or("");
                if shown != record[k] {
                    return Err(err(
                        format!("{} `{id}`", kind.label()),
                        Some(col),
                        format!(
                            "the index (line {line}) says {shown:?}, the record says {:?}",
                            record[k]
                        ),
                    ));
                }
            }
        }
        for id in self
            .measures
            .iter()
            .map(|m| (Kind::Measure, &m.id))
            .chain(self.precedents.iter().map(|p| (Kind::Precedent, &p.id)))
        {
            if !listed.contains(id.1.as_str()) {
                return Err(err(
                    format!("{} `{}`", id.0.label(), id.1),
                    None,
                    format!("missing from the {} index", id.0.label()),
                ));
            }
        }
        Ok(())
    }

    fn check(&mut self, framework: &Framework) -> Result<(), ToolboxError> {
        let toolbox = "toolbox";
        for (what, v) in [
            ("stages (section 0.1)", &self.stages),
            ("lead actors (section 0.3)", &self.lead_actors),
            ("assessments (section 0.4)", &self.assessments),
            ("measure categories (section 2)", &self.categories),
        ] {
            if v.is_empty() {
                return Err(err(toolbox, None, format!("no {what} found")));
            }
        }
        let vocab = |v: &[Term]| v.iter().map(|t| t.key.clone()).collect::<BTreeSet<_>>();
        let stages = vocab(&self.stages);
        let actors = vocab(&self.lead_actors);
        let assessments = vocab(&self.assessments);
        let categories = vocab(&self.categories);
        let factors: BTreeSet<u32> = framework.risk_factors.iter().map(|r| r.number).collect();
        let mut source_ids = BTreeSet::new();
        for s in &self.sources {
            if !source_ids.insert(s.id.clone()) {
                return Err(err(format!("source {}", s.id), None, "appears twice"));
            }
        }
        let mut ids = BTreeSet::new();
        for id in self
            .measures
            .iter()
            .map(|m| &m.id)
            .chain(self.precedents.iter().map(|p| &p.id))
        {
            if !ids.insert(id.clone()) {
                return Err(err(
                    format!("`{id}`"),
                    None,
                    "the id is used by more than one record",
                ));
            }
        }
        let known = |set: &BTreeSet<String>, who: &str, key: &str, vals: &[String]| {
            if vals.is_empty() {
                return Err(err(who, Some(key), "is empty"));
            }
            for v in vals {
                if !set.contains(v) {
                    return Err(err(
                        who,
                        Some(key),
                        format!(
                            "unknown value {v:?} (known: {})",
                            set.iter().cloned().collect::<Vec<_>>().join(", ")
                        ),
                    ));
                }
            }
            Ok(())
        };
        let measure_ids: BTreeSet<&str> = self.measures.iter().map(|m| m.id.as_str()).collect();
        let precedents: BTreeMap<&str, &Precedent> =
            self.precedents.iter().map(|p| (p.id.as_str(), p)).collect();
        for m in &self.measures {
            let who = format!("measure `{}`", m.id);
            known(
                &categories,
                &who,
                "category",
                std::slice::from_ref(&m.category),
            )?;
            known(&stages, &who, "stages", &m.stages)?;
            known(&actors, &who, "lead_actors", &m.lead_actors)?;
            for &rf in &m.risk_factors {
                if !(1..=14).contains(&rf) || !factors.contains(&u32::from(rf)) {
                    return Err(err(
                        &who,
                        Some("risk_factors"),
                        format!(
                            "risk factor {rf} is not in 1..=14 of the {} framework",
                            framework.id
                        ),
                    ));
                }
            }
            known(&source_ids, &who, "basis", &m.basis)?;
            for (key, list, field) in [
                ("precedents", &m.precedents, "measures_used"),
                (
                    "precedents_not_taken",
                    &m.precedents_not_taken,
                    "measures_not_taken",
                ),
            ] {
                for pid in list {
                    let p = precedents.get(pid.as_str()).ok_or_else(|| {
                        err(&who, Some(key), format!("no precedent `{pid}` in the file"))
                    })?;
                    let back = if key == "precedents" {
                        &p.measures_used
                    } else {
                        &p.measures_not_taken
                    };
                    if !back.contains(&m.id) {
                        return Err(err(
                            &who,
                            Some(key),
                            format!("lists precedent `{pid}`, whose `{field}` does not list this measure"),
                        ));
                    }
                }
            }
        }
        let by_id: BTreeMap<&str, &Measure> =
            self.measures.iter().map(|m| (m.id.as_str(), m)).collect();
        for p in &self.precedents {
            let who = format!("precedent `{}`", p.id);
            known(
                &assessments,
                &who,
                "assessment",
                std::slice::from_ref(&p.assessment),
            )?;
            if p.iso3.len() != 3 || !p.iso3.chars().all(|c| c.is_ascii_uppercase()) {
                return Err(err(
                    &who,
                    Some("iso3"),
                    format!("{:?} is not an ISO3 code", p.iso3),
                ));
            }
            if p.sources.is_empty() {
                return Err(err(&who, Some("sources"), "is empty"));
            }
            for (key, list, field) in [
                ("measures_used", &p.measures_used, "precedents"),
                (
                    "measures_not_taken",
                    &p.measures_not_taken,
                    "precedents_not_taken",
                ),
            ] {
                for mid in list {
                    if !measure_ids.contains(mid.as_str()) {
                        return Err(err(
                            &who,
                            Some(key),
                            format!("no measure `{mid}` in the file"),
                        ));
                    }
                    let m = by_id[mid.as_str()];
                    let back = if key == "measures_used" {
                        &m.precedents
                    } else {
                        &m.precedents_not_taken
                    };
                    if !back.contains(&p.id) {
                        return Err(err(
                            &who,
                            Some(key),
                            format!("lists measure `{mid}`, whose `{field}` does not list this precedent"),
                        ));
                    }
                }
            }
        }
        // Keep the file's "check this" flags visible on each measure.
        let copies: BTreeMap<&str, &Source> = self
            .sources
            .iter()
            .filter(|s| s.third_party_copy)
            .map(|s| (s.id.as_str(), s))
            .collect();
        for m in &mut self.measures {
            m.to_check = m
                .basis
                .iter()
                .filter(|b| copies.contains_key(b.as_str()))
                .map(|b| {
                    format!("source {b} is held as a third-party copy; check the publisher's text")
                })
                .collect();
        }
        Ok(())
    }

    /// The measure `id`, if any.
    pub fn measure(&self, id: &str) -> Option<&Measure> {
        self.measures.iter().find(|m| m.id == id)
    }

    /// The precedent `id`, if any.
    pub fn precedent(&self, id: &str) -> Option<&Precedent> {
        self.precedents.iter().find(|p| p.id == id)
    }

    /// Measures acting on any of `factors`, those covering more of them first (file order
    /// among equals): what an action plan suggests for the risk factors an assessment rates
    /// high.
    pub fn measures_for_risk_factors(&self, factors: &[u8]) -> Vec<&Measure> {
        let wanted: BTreeSet<u8> = factors.iter().copied().collect();
        let mut hits: Vec<(usize, usize, &Measure)> = self
            .measures
            .iter()
            .enumerate()
            .filter_map(|(i, m)| {
                let n = m.risk_factors.iter().filter(|f| wanted.contains(f)).count();
                (n > 0).then_some((n, i, m))
            })
            .collect();
        hits.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        hits.into_iter().map(|(_, _, m)| m).collect()
    }
}
