//! `tocsin assess`: risk assessments of situations against an analysis framework.
//!
//! Commands that change an assessment act as a named user (`--user NAME`), who must hold the
//! permission the server would require (and the clearance for the record's label): the CLI
//! keeps the same rules as the API, and the audit trail names the person.

use anyhow::{anyhow, bail, Context, Result};
use clap::Subcommand;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tocsin_domain::assessment::{self, AssessmentDiff};
use tocsin_domain::{
    Assessment, AssessmentChange, AssessmentEdit, AssessmentStatus, Evidence, EvidenceKind,
    NewAssessment, Permission, Situation, Tlp, User,
};
use tocsin_framework::Framework;
use tocsin_store::{DynStore, StoreError, StoreExt};
use uuid::Uuid;

use super::common::{open_store, settle};
use super::Global;
use crate::config::Overrides;

/// `tocsin assess …`
#[derive(Subcommand, Debug)]
pub enum AssessCommand {
    /// Print a TOML skeleton of a new assessment, with every risk factor of the framework,
    /// for `tocsin assess new --file`.
    Template {
        /// A framework file (TOML) instead of the UN Framework of Analysis (2014).
        #[arg(long)]
        framework: Option<PathBuf>,
    },
    /// Create a draft assessment of a situation from a TOML or JSON file; prints its id.
    New {
        /// The situation's id.
        #[arg(long)]
        situation: Uuid,
        /// Act as this user (needs to write assessments).
        #[arg(long)]
        user: String,
        /// The assessment (`.toml`, or `.json`), as `tocsin assess template` prints it.
        #[arg(long)]
        file: PathBuf,
        /// A framework file (TOML) instead of the UN Framework of Analysis (2014).
        #[arg(long)]
        framework: Option<PathBuf>,
    },
    /// Change a draft: factors and observations in the file replace those with the same
    /// number; others are kept (`clear_factors = [N]` removes one).
    Edit {
        /// The assessment's id.
        id: Uuid,
        /// Act as this user (needs to write assessments).
        #[arg(long)]
        user: String,
        /// The change (`.toml`, or `.json`).
        #[arg(long)]
        file: PathBuf,
        /// The framework file, when the assessment does not use the UN framework.
        #[arg(long)]
        framework: Option<PathBuf>,
    },
    /// Review another analyst's draft (the author cannot review their own).
    Review {
        /// The assessment's id.
        id: Uuid,
        /// Act as this user (needs to review assessments).
        #[arg(long)]
        user: String,
        /// A note for the workflow history.
        #[arg(long)]
        note: Option<String>,
    },
    /// Publish a reviewed assessment. It is never changed again.
    Publish {
        /// The assessment's id.
        id: Uuid,
        /// Act as this user (needs to publish assessments).
        #[arg(long)]
        user: String,
        /// A note for the workflow history.
        #[arg(long)]
        note: Option<String>,
    },
    /// Send a reviewed assessment back to draft.
    Return {
        /// The assessment's id.
        id: Uuid,
        /// Act as this user (needs to publish assessments).
        #[arg(long)]
        user: String,
        /// What should change.
        #[arg(long)]
        note: Option<String>,
    },
    /// Accept an evidence suggestion on a draft: the evidence is recorded against the
    /// indicator (a level is never set by it).
    Accept(Suggestion),
    /// Dismiss an evidence suggestion on a draft.
    Dismiss(Suggestion),
    /// List assessments, newest first.
    List {
        /// Only this situation's.
        #[arg(long)]
        situation: Option<Uuid>,
    },
    /// Show an assessment: factors, observations, workflow history, and what changed since
    /// the situation's previous published assessment.
    Show {
        /// The assessment's id.
        id: Uuid,
        /// The framework file, when the assessment does not use the UN framework.
        #[arg(long)]
        framework: Option<PathBuf>,
    },
    /// The published levels of one risk factor of a situation, oldest first.
    History {
        /// The situation's id.
        #[arg(long)]
        situation: Uuid,
        /// The risk factor's number.
        #[arg(long)]
        factor: u32,
        /// A framework file (TOML) instead of the UN Framework of Analysis (2014).
        #[arg(long)]
        framework: Option<PathBuf>,
    },
}

/// Run a `tocsin assess` subcommand from the command line.
pub async fn run(g: &Global, command: AssessCommand) -> Result<ExitCode> {
    if let AssessCommand::Template { framework } = &command {
        // Needs no database.
        let fw = load_framework(framework.as_deref())?;
        print!("{}", template(&fw));
        return Ok(ExitCode::SUCCESS);
    }
    let cfg = settle(g, Overrides::default())?;
    let store = open_store(&cfg).await?;
    print!("{}", assess(&store, command).await?);
    Ok(ExitCode::SUCCESS)
}

/// The framework in `file`, or the shipped UN one.
pub fn load_framework(file: Option<&Path>) -> Result<Framework> {
    match file {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read {}", p.display()))?;
            Framework::parse(&text).with_context(|| format!("{} is refused", p.display()))
        }
        None => Ok(Framework::un_2014()),
    }
}

/// The framework an existing assessment was written against: `--framework FILE`, else the
/// shipped one with the assessment's id.
fn framework_of(a: &Assessment, file: Option<&Path>) -> Result<Framework> {
    if file.is_none() {
        if let Some(f) = tocsin_framework::Frameworks::shipped().get(&a.framework) {
            return Ok((**f).clone());
        }
    }
    let fw = load_framework(file)?;
    if fw.id != a.framework {
        bail!(
            "assessment {} uses the framework {:?}, not {:?}: pass --framework FILE",
            a.id,
            a.framework,
            fw.id
        );
    }
    Ok(fw)
}

fn what(p: Permission) -> &'static str {
    match p {
        Permission::AssessmentWrite => "write assessments",
        Permission::AssessmentReview => "review assessments",
        Permission::AssessmentPublish => "publish assessments or send them back",
        Permission::LegalQualify => "record legal qualifications",
        _ => "do this",
    }
}

/// The user named `name`, if they hold `p` and may see a record labelled `tlp`.
async fn acting_user(
    store: &DynStore,
    name: &str,
    p: Permission,
    tlp: Option<Tlp>,
) -> Result<User> {
    let u = store.get_user_by_name(name).await.map_err(|e| match e {
        StoreError::NotFound => anyhow!("no user named {name:?}"),
        e => e.into(),
    })?;
    if u.disabled {
        bail!("user {name:?} is disabled");
    }
    if !u.can(p) {
        bail!(
            "{name} ({}) may not {}: the role does not hold that permission",
            u.role,
            what(p)
        );
    }
    if let Some(t) = tlp {
        if !u.may_see(t) {
            bail!(
                "{name}'s clearance ({}) is below the record's label ({t})",
                u.clearance
            );
        }
    }
    Ok(u)
}

async fn get_assessment(store: &DynStore, id: Uuid) -> Result<Assessment> {
    store.get_assessment(id).await.map_err(|e| match e {
        StoreError::NotFound => anyhow!("no assessment {id}"),
        e => e.into(),
    })
}

async fn get_situation(store: &DynStore, id: Uuid) -> Result<Situation> {
    store.get_situation(id).await.map_err(|e| match e {
        StoreError::NotFound => anyhow!("no situation {id}"),
        e => e.into(),
    })
}

/// A TOML or JSON file (by extension) as a JSON value.
fn read_document(path: &Path) -> Result<serde_json::Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let is_json = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if is_json {
        serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", path.display()))
    } else {
        let v: toml::Value = toml::from_str(&text)
            .with_context(|| format!("{} is not valid TOML", path.display()))?;
        serde_json::to_value(v).context("cannot read the TOML document")
    }
}

fn decode<T: serde::de::DeserializeOwned>(v: serde_json::Value, path: &Path) -> Result<T> {
    serde_json::from_value(v).with_context(|| format!("{} is refused", path.display()))
}

fn parse_evidence(s: &str) -> Result<Evidence> {
    let (kind, reference) = s
        .split_once(':')
        .ok_or_else(|| anyhow!("evidence: expected incident:ID, report:ID or document:TEXT"))?;
    let kind = match kind.trim().to_ascii_lowercase().as_str() {
        "incident" => EvidenceKind::Incident,
        "report" => EvidenceKind::Report,
        "document" => EvidenceKind::Document,
        k => bail!("evidence: unknown kind {k:?} (incident, report or document)"),
    };
    Ok(Evidence {
        kind,
        reference: reference.trim().to_string(),
        note: None,
    })
}

/// Quote a string for TOML.
fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// The skeleton `tocsin assess template` prints.
pub fn template(fw: &Framework) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "# A new assessment against {} ({}, {}).",
        fw.name, fw.publisher, fw.edition
    );
    let _ = writeln!(
        t,
        "# Fill it in, then: tocsin assess new --situation ID --user NAME --file THIS.toml"
    );
    let _ = writeln!(t, "framework = {}", toml_str(&fw.id));
    let _ = writeln!(
        t,
        "# as_of = \"YYYY-MM-DD\"     # the date the assessment speaks for; today if left out"
    );
    let _ = writeln!(
        t,
        "# tlp = \"TLP:AMBER\"        # the situation's label if left out"
    );
    let _ = writeln!(t, "summary = \"\"\"\n\"\"\"");
    let _ = writeln!(t);
    let _ = writeln!(
        t,
        "# Uncomment each risk factor you assess. level: none, low, moderate, high or severe;"
    );
    let _ = writeln!(
        t,
        "# confidence: low, medium or high; a rationale is required. Evidence links are"
    );
    let _ = writeln!(
        t,
        "# {{ kind = \"incident\" | \"report\" | \"document\", reference = ID or URL, note = \"…\" }}."
    );
    for rf in &fw.risk_factors {
        let _ = writeln!(t);
        let _ = writeln!(t, "# Risk factor {}: {} [{}]", rf.number, rf.name, rf.group);
        for i in &rf.indicators {
            let _ = writeln!(t, "#   {} {}", i.number, i.text);
        }
        let _ = writeln!(t, "# [[factors]]");
        let _ = writeln!(t, "# factor = {}", rf.number);
        let _ = writeln!(t, "# level = \"moderate\"");
        let _ = writeln!(t, "# confidence = \"medium\"");
        let _ = writeln!(t, "# rationale = \"Why this level, on what evidence.\"");
        let _ = writeln!(
            t,
            "# evidence = [{{ kind = \"document\", reference = \"https://…\" }}]"
        );
    }
    let _ = writeln!(t);
    let _ = writeln!(
        t,
        "# Indicator observations (observed: present, absent or unknown), e.g.:"
    );
    let example = fw
        .indicators()
        .next()
        .map(|(_, i)| i.number.clone())
        .unwrap_or_else(|| "1.1".into());
    let _ = writeln!(t, "# [[observations]]");
    let _ = writeln!(t, "# indicator = {}", toml_str(&example));
    let _ = writeln!(t, "# observed = \"present\"");
    let _ = writeln!(t, "# note = \"\"");
    t
}

fn factor_name(fw: &Framework, n: u32) -> &str {
    fw.risk_factors
        .get(n.saturating_sub(1) as usize)
        .map(|rf| rf.name.as_str())
        .unwrap_or("?")
}

fn opt<T>(v: Option<T>, f: impl Fn(T) -> &'static str) -> &'static str {
    v.map(f).unwrap_or("not assessed")
}

/// The diff in words, one line per change.
pub fn write_diff(out: &mut String, fw: &Framework, d: &AssessmentDiff) {
    let _ = writeln!(
        out,
        "Changes since the published assessment {} of {}:",
        d.previous_id, d.previous_as_of
    );
    if d.factors.is_empty() && d.observations.is_empty() {
        let _ = writeln!(out, "  none");
    }
    for c in &d.factors {
        let mut parts = vec![];
        if c.before != c.after {
            parts.push(format!(
                "level {} -> {}",
                opt(c.before, |l| l.as_str()),
                opt(c.after, |l| l.as_str())
            ));
        }
        if c.confidence_before != c.confidence_after {
            parts.push(format!(
                "confidence {} -> {}",
                opt(c.confidence_before, |l| l.as_str()),
                opt(c.confidence_after, |l| l.as_str())
            ));
        }
        if c.rationale_changed {
            parts.push("rationale rewritten".into());
        }
        if c.evidence_added > 0 {
            parts.push(format!("{} evidence link(s) added", c.evidence_added));
        }
        if c.evidence_removed > 0 {
            parts.push(format!("{} evidence link(s) removed", c.evidence_removed));
        }
        let _ = writeln!(
            out,
            "  factor {} ({}): {}",
            c.factor,
            factor_name(fw, c.factor),
            parts.join("; ")
        );
    }
    for o in &d.observations {
        let s = |x: Option<tocsin_domain::assessment::Observed>| match x {
            None => "not recorded",
            Some(tocsin_domain::assessment::Observed::Present) => "present",
            Some(tocsin_domain::assessment::Observed::Absent) => "absent",
            Some(tocsin_domain::assessment::Observed::Unknown) => "unknown",
        };
        let _ = writeln!(
            out,
            "  indicator {}: {} -> {}",
            o.indicator,
            s(o.before),
            s(o.after)
        );
    }
}

fn evidence_text(e: &Evidence) -> String {
    let kind = match e.kind {
        EvidenceKind::Incident => "incident",
        EvidenceKind::Report => "report",
        EvidenceKind::Document => "document",
    };
    match &e.note {
        Some(n) => format!("{kind} {} ({n})", e.reference),
        None => format!("{kind} {}", e.reference),
    }
}

fn observed_text(o: tocsin_domain::assessment::Observed) -> &'static str {
    use tocsin_domain::assessment::Observed::*;
    match o {
        Present => "present",
        Absent => "absent",
        Unknown => "unknown",
    }
}

fn indent(text: &str, by: &str) -> String {
    text.trim()
        .lines()
        .map(|l| format!("{by}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `tocsin assess show`.
pub fn write_show(
    out: &mut String,
    a: &Assessment,
    situation: &Situation,
    fw: &Framework,
    all: &[Assessment],
) {
    let _ = writeln!(out, "Assessment {}", a.id);
    let _ = writeln!(
        out,
        "situation: {} ({}, {})",
        situation.name,
        situation.country.code(),
        situation.id
    );
    let _ = writeln!(
        out,
        "framework: {} ({})\nas of: {}\nstatus: {}\nlabel: {}\nauthor: {}\nversion: {}\nupdated: {}",
        fw.name,
        a.framework,
        a.as_of,
        a.status.as_str(),
        a.tlp,
        a.author,
        a.version,
        a.updated_at.format("%Y-%m-%d %H:%M UTC")
    );
    if !a.summary.trim().is_empty() {
        let _ = writeln!(out, "summary:\n{}", indent(&a.summary, "  "));
    }
    let _ = writeln!(
        out,
        "\nRisk factors ({} of {} assessed):",
        a.factors.len(),
        fw.risk_factors.len()
    );
    for f in &a.factors {
        let _ = writeln!(
            out,
            "  {}. {}: {} (confidence {})",
            f.factor,
            factor_name(fw, f.factor),
            f.level.as_str(),
            f.confidence.as_str()
        );
        let _ = writeln!(out, "{}", indent(&f.rationale, "      "));
        for e in &f.evidence {
            let _ = writeln!(out, "      evidence: {}", evidence_text(e));
        }
    }
    if !a.observations.is_empty() {
        let _ = writeln!(out, "\nObservations:");
        for o in &a.observations {
            let text = fw
                .indicator(&o.indicator)
                .map(|(_, i)| i.text.as_str())
                .unwrap_or("");
            let _ = writeln!(
                out,
                "  {} [{}] {}",
                o.indicator,
                observed_text(o.observed),
                text
            );
            if !o.note.trim().is_empty() {
                let _ = writeln!(out, "{}", indent(&o.note, "      "));
            }
            for e in &o.evidence {
                let _ = writeln!(out, "      evidence: {}", evidence_text(e));
            }
        }
    }
    if !a.decisions.is_empty() {
        let _ = writeln!(out, "\nEvidence suggestions decided:");
        for d in &a.decisions {
            let _ = writeln!(
                out,
                "  {} {} for {} by {} at {}",
                if d.accepted { "accepted" } else { "dismissed" },
                evidence_text(&d.evidence),
                d.indicator,
                d.by,
                d.at.format("%Y-%m-%d %H:%M UTC")
            );
        }
    }
    let _ = writeln!(out, "\nWorkflow:");
    let _ = writeln!(
        out,
        "  {} created by {} (draft)",
        a.created_at.format("%Y-%m-%d %H:%M UTC"),
        a.author
    );
    for t in &a.history {
        let _ = write!(
            out,
            "  {} {}: {} -> {}",
            t.at.format("%Y-%m-%d %H:%M UTC"),
            t.by,
            t.from.as_str(),
            t.to.as_str()
        );
        match &t.note {
            Some(n) => {
                let _ = writeln!(out, " ({n})");
            }
            None => {
                let _ = writeln!(out);
            }
        }
    }
    let _ = writeln!(out);
    match assessment::previous(all, a) {
        Some(p) => write_diff(out, fw, &assessment::diff(p, a)),
        None => {
            let _ = writeln!(
                out,
                "No earlier published assessment of this situation to compare with."
            );
        }
    }
}

/// Every assessment of a situation (for diffs and histories).
async fn assessments_of(store: &DynStore, situation: Uuid) -> Result<Vec<Assessment>> {
    Ok(store.list_assessments(Some(situation), 10_000).await?)
}

async fn transition(
    store: &DynStore,
    id: Uuid,
    user: &str,
    to: AssessmentStatus,
    note: Option<String>,
) -> Result<Assessment> {
    let p = match to {
        AssessmentStatus::Reviewed => Permission::AssessmentReview,
        _ => Permission::AssessmentPublish,
    };
    let a = get_assessment(store, id).await?;
    let u = acting_user(store, user, p, Some(a.tlp)).await?;
    let change = AssessmentChange::Transition {
        to,
        note,
        expected_version: Some(a.version),
    };
    Ok(store.change_assessment(&u.actor(), id, change).await?)
}

/// An evidence suggestion on a draft, as `tocsin assess accept|dismiss` names it.
#[derive(clap::Args, Debug)]
pub struct Suggestion {
    /// The assessment's id.
    id: Uuid,
    /// Act as this user (needs to write assessments).
    #[arg(long)]
    user: String,
    /// The indicator, e.g. `7.3`.
    #[arg(long)]
    indicator: String,
    /// `incident:ID`, `report:ID` or `document:URL-OR-CITATION`.
    #[arg(long)]
    evidence: String,
}

/// Accept or dismiss an evidence suggestion.
async fn decide(store: &DynStore, s: &Suggestion, accept: bool) -> Result<String> {
    let (id, user, indicator) = (s.id, s.user.as_str(), s.indicator.as_str());
    let evidence = parse_evidence(&s.evidence)?;
    let a = get_assessment(store, id).await?;
    if let Some(fw) = tocsin_framework::Frameworks::shipped()
        .get(&a.framework)
        .cloned()
    {
        if fw.indicator(indicator).is_none() {
            bail!("{} has no indicator {indicator:?}", fw.id);
        }
    }
    let u = acting_user(store, user, Permission::AssessmentWrite, Some(a.tlp)).await?;
    let change = AssessmentChange::Decide {
        indicator: indicator.to_string(),
        evidence,
        accept,
    };
    store.change_assessment(&u.actor(), id, change).await?;
    Ok(format!(
        "suggestion of {} for indicator {indicator} {}\n",
        a.id,
        if accept { "accepted" } else { "dismissed" }
    ))
}

/// Run a `tocsin assess` subcommand.
pub async fn assess(store: &DynStore, cmd: AssessCommand) -> Result<String> {
    let mut out = String::new();
    match cmd {
        AssessCommand::Template { framework } => {
            out = template(&load_framework(framework.as_deref())?);
        }
        AssessCommand::New {
            situation,
            user,
            file,
            framework,
        } => {
            let fw = load_framework(framework.as_deref())?;
            let s = get_situation(store, situation).await?;
            let u = acting_user(store, &user, Permission::AssessmentWrite, Some(s.tlp)).await?;
            let n: NewAssessment = decode(read_document(&file)?, &file)?;
            let a =
                Assessment::create(n, &fw, s.id, s.tlp, &u.actor(), tocsin_domain::time::now())?;
            let a = store.create_assessment(&u.actor(), a).await?;
            let _ = writeln!(
                out,
                "created draft assessment of {} ({} of {} risk factors assessed):",
                s.name,
                a.factors.len(),
                fw.risk_factors.len()
            );
            let _ = writeln!(out, "{}", a.id);
        }
        AssessCommand::Edit {
            id,
            user,
            file,
            framework,
        } => {
            let a = get_assessment(store, id).await?;
            let fw = framework_of(&a, framework.as_deref())?;
            let u = acting_user(store, &user, Permission::AssessmentWrite, Some(a.tlp)).await?;
            let mut doc = read_document(&file)?;
            // A file written from the template names its framework: it must be this one.
            if let Some(obj) = doc.as_object_mut() {
                if let Some(f) = obj.remove("framework") {
                    if f.as_str() != Some(a.framework.as_str()) {
                        bail!(
                            "{}: framework {f} is not the assessment's ({:?})",
                            file.display(),
                            a.framework
                        );
                    }
                }
            }
            let edit: AssessmentEdit = decode(doc, &file)?;
            edit.check(&fw, get_situation(store, a.situation_id).await?.tlp)?;
            let a = store
                .change_assessment(&u.actor(), id, AssessmentChange::Edit(edit))
                .await?;
            let _ = writeln!(
                out,
                "assessment {} edited: version {}, {} of {} risk factors assessed",
                a.id,
                a.version,
                a.factors.len(),
                fw.risk_factors.len()
            );
        }
        AssessCommand::Review { id, user, note } => {
            let a = transition(store, id, &user, AssessmentStatus::Reviewed, note).await?;
            let _ = writeln!(out, "assessment {} reviewed by {user}", a.id);
        }
        AssessCommand::Publish { id, user, note } => {
            let a = transition(store, id, &user, AssessmentStatus::Published, note).await?;
            let _ = writeln!(out, "assessment {} published by {user}", a.id);
        }
        AssessCommand::Return { id, user, note } => {
            let a = transition(store, id, &user, AssessmentStatus::Draft, note).await?;
            let _ = writeln!(out, "assessment {} returned to draft by {user}", a.id);
        }
        AssessCommand::Accept(s) => out = decide(store, &s, true).await?,
        AssessCommand::Dismiss(s) => out = decide(store, &s, false).await?,
        AssessCommand::List { situation } => {
            let all = store.list_assessments(situation, 10_000).await?;
            let mut names = std::collections::HashMap::new();
            for a in &all {
                if let std::collections::hash_map::Entry::Vacant(e) = names.entry(a.situation_id) {
                    let name = match store.get_situation(a.situation_id).await {
                        Ok(s) => s.name,
                        Err(_) => "?".into(),
                    };
                    e.insert(name);
                }
            }
            for a in &all {
                let _ = writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{}\t{} factors\t{}",
                    a.id,
                    a.as_of,
                    a.status.as_str(),
                    a.tlp,
                    a.author,
                    a.factors.len(),
                    names[&a.situation_id]
                );
            }
        }
        AssessCommand::Show { id, framework } => {
            let a = get_assessment(store, id).await?;
            let fw = framework_of(&a, framework.as_deref())?;
            let s = get_situation(store, a.situation_id).await?;
            let all = assessments_of(store, a.situation_id).await?;
            write_show(&mut out, &a, &s, &fw, &all);
        }
        AssessCommand::History {
            situation,
            factor,
            framework,
        } => {
            let fw = load_framework(framework.as_deref())?;
            if factor == 0 || factor as usize > fw.risk_factors.len() {
                bail!("{} has risk factors 1 to {}", fw.id, fw.risk_factors.len());
            }
            let s = get_situation(store, situation).await?;
            let all = assessments_of(store, situation).await?;
            let points = assessment::factor_history(&all, &fw.id, factor);
            let _ = writeln!(
                out,
                "Risk factor {factor} ({}) in {}: {} published assessment(s)",
                factor_name(&fw, factor),
                s.name,
                points.len()
            );
            for p in points {
                let _ = writeln!(
                    out,
                    "{}\t{}\t(confidence {})\t{}",
                    p.as_of,
                    p.level.as_str(),
                    p.confidence.as_str(),
                    p.assessment_id
                );
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tocsin_domain::Actor;

    #[test]
    fn template_parses_as_a_new_assessment_and_filled_in_too() {
        let fw = Framework::un_2014();
        let t = template(&fw);
        for rf in &fw.risk_factors {
            assert!(t.contains(&format!("# factor = {}", rf.number)), "{t}");
            assert!(t.contains(&rf.name));
        }
        let v: toml::Value = toml::from_str(&t).unwrap();
        let n: NewAssessment = serde_json::from_value(serde_json::to_value(v).unwrap()).unwrap();
        assert!(n.factors.is_empty());
        // Uncommenting a factor block gives a valid factor assessment.
        let filled = t
            .replace("# [[factors]]\n# factor = 1\n", "[[factors]]\nfactor = 1\n")
            .replacen("# level = \"moderate\"", "level = \"high\"", 1)
            .replacen("# confidence = \"medium\"", "confidence = \"medium\"", 1)
            .replacen(
                "# rationale = \"Why this level, on what evidence.\"",
                "rationale = \"Armed clashes weekly.\"",
                1,
            );
        let v: toml::Value = toml::from_str(&filled).unwrap();
        let n: NewAssessment = serde_json::from_value(serde_json::to_value(v).unwrap()).unwrap();
        assert_eq!(n.factors.len(), 1);
        let actor = Actor {
            user_id: Some(Uuid::nil()),
            name: "a".into(),
        };
        let a = Assessment::create(
            n,
            &fw,
            Uuid::nil(),
            Tlp::Amber,
            &actor,
            tocsin_domain::time::now(),
        )
        .unwrap();
        assert_eq!(a.factors[0].factor, 1);
    }

    #[test]
    fn evidence_syntax() {
        assert_eq!(
            parse_evidence("document:https://example.org/x")
                .unwrap()
                .kind,
            EvidenceKind::Document
        );
        assert!(parse_evidence("incident").is_err());
        assert!(parse_evidence("photo:x").is_err());
    }
}
