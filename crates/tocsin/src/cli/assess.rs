//! `tocsin assess`: risk assessments of situations against an analysis framework.
//!
//! Commands that change an assessment act as a named user (`--user NAME`) through the same use
//! cases as the API (`tocsin-app`): the same permissions, the same clearance rules (a file
//! labelled above the user's clearance is refused), the same configured default framework,
//! and the audit trail names the person. Refusals exit 3 (forbidden), 4 (not found), 5
//! (invalid) or 6 (conflict).

use anyhow::{anyhow, bail, Context, Result};
use clap::Subcommand;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use tocsin_app::{reads, App};
use tocsin_domain::assessment::{self, AssessmentDiff};
use tocsin_domain::{
    Assessment, AssessmentEdit, AssessmentStatus, Evidence, EvidenceKind, NewAssessment, Situation,
};
use tocsin_framework::{Framework, Frameworks};
use tocsin_store::{DynStore, StoreError};
use uuid::Uuid;

use super::common::{acting_user, decode, open_store, read_document, refused, settle};
use super::Global;
use crate::config::Overrides;

/// `tocsin assess …`
#[derive(Subcommand, Debug)]
pub enum AssessCommand {
    /// Print a TOML skeleton of a new assessment, with every risk factor of the framework,
    /// for `tocsin assess new --file`.
    Template {
        /// A framework file (TOML) instead of the configured default (`[analysis] framework`,
        /// the UN Framework of Analysis (2014) unless set).
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
        /// A framework file (TOML) instead of the configured default (`[analysis] framework`,
        /// the UN Framework of Analysis (2014) unless set).
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
        /// The framework file, when the assessment uses one that is not configured.
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
        /// The framework file, when the assessment uses one that is not configured.
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
        /// A framework file (TOML) instead of the configured default (`[analysis] framework`,
        /// the UN Framework of Analysis (2014) unless set).
        #[arg(long)]
        framework: Option<PathBuf>,
    },
}

/// Run a `tocsin assess` subcommand from the command line.
/// The operator at the command line, as the audit trail names their reads.
fn operator() -> tocsin_domain::Actor {
    tocsin_domain::Actor::system("cli")
}

pub async fn run(g: &Global, command: AssessCommand) -> Result<ExitCode> {
    let cfg = settle(g, Overrides::default())?;
    let frameworks = cfg.analysis.frameworks()?;
    if let AssessCommand::Template { framework } = &command {
        // Needs no database.
        let fw = match framework {
            Some(p) => load_framework(p)?,
            None => (**frameworks.default_framework()).clone(),
        };
        print!("{}", template(&fw));
        return Ok(ExitCode::SUCCESS);
    }
    let store = open_store(&cfg).await?;
    print!("{}", assess(&store, &frameworks, command).await?);
    Ok(ExitCode::SUCCESS)
}

/// The framework in `file`.
pub fn load_framework(file: &Path) -> Result<Framework> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    Framework::parse(&text).with_context(|| format!("{} is refused", file.display()))
}

/// The configured frameworks, with the one in `file` too.
fn frameworks_with(loaded: &Frameworks, file: Option<&Path>) -> Result<Frameworks> {
    Ok(match file {
        Some(p) => loaded.clone().with(load_framework(p)?),
        None => loaded.clone(),
    })
}

/// The framework an existing assessment was written against: among the configured ones (and
/// `--framework FILE`).
fn framework_of(a: &Assessment, frameworks: &Frameworks) -> Result<Arc<Framework>> {
    frameworks.get(&a.framework).cloned().ok_or_else(|| {
        anyhow!(
            "assessment {} uses the framework {:?}, which is not loaded: pass --framework FILE",
            a.id,
            a.framework
        )
    })
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

fn parse_evidence(s: &str) -> Result<Evidence> {
    let (kind, reference) = s.split_once(':').ok_or_else(|| {
        anyhow!("evidence: expected incident:ID, report:ID, speech_flag:ID or document:TEXT")
    })?;
    let kind = match kind.trim().to_ascii_lowercase().as_str() {
        "incident" => EvidenceKind::Incident,
        "report" => EvidenceKind::Report,
        "speech_flag" => EvidenceKind::SpeechFlag,
        "document" => EvidenceKind::Document,
        k => bail!("evidence: unknown kind {k:?} (incident, report, speech_flag or document)"),
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
        EvidenceKind::SpeechFlag => "speech flag",
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
    app: &App<'_>,
    id: Uuid,
    user: &str,
    to: AssessmentStatus,
    note: Option<String>,
) -> Result<Assessment> {
    let u = acting_user(app.store, user).await?;
    app.step_assessment(&u, id, to, note, None)
        .await
        .map_err(|e| refused(&u, &format!("assessment {id}"), e))
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
async fn decide(app: &App<'_>, s: &Suggestion, accept: bool) -> Result<String> {
    let (id, indicator) = (s.id, s.indicator.as_str());
    let evidence = parse_evidence(&s.evidence)?;
    let u = acting_user(app.store, &s.user).await?;
    let a = app
        .decide_suggestion(&u, id, indicator.to_string(), evidence, accept)
        .await
        .map_err(|e| refused(&u, &format!("assessment {id}"), e))?;
    Ok(format!(
        "suggestion of {} for indicator {indicator} {}\n",
        a.id,
        if accept { "accepted" } else { "dismissed" }
    ))
}

/// Run a `tocsin assess` subcommand.
pub async fn assess(
    store: &DynStore,
    frameworks: &Frameworks,
    cmd: AssessCommand,
) -> Result<String> {
    let mut out = String::new();
    let app = App::new(store, frameworks);
    match cmd {
        AssessCommand::Template { framework } => {
            out = template(&match framework {
                Some(p) => load_framework(&p)?,
                None => (**frameworks.default_framework()).clone(),
            });
        }
        AssessCommand::New {
            situation,
            user,
            file,
            framework,
        } => {
            let fws = frameworks_with(frameworks, framework.as_deref())?;
            let app = App::new(store, &fws);
            let u = acting_user(store, &user).await?;
            let mut n: NewAssessment = decode(read_document(&file)?, &file)?;
            // `--framework FILE` is the framework of a file that names none.
            if let Some(p) = &framework {
                n.framework.get_or_insert(load_framework(p)?.id);
            }
            let a = app
                .create_assessment(&u, situation, n)
                .await
                .map_err(|e| refused(&u, &format!("situation {situation}"), e))?;
            let fw = framework_of(&a, &fws)?;
            let s = get_situation(store, a.situation_id).await?;
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
            let fws = frameworks_with(frameworks, framework.as_deref())?;
            let app = App::new(store, &fws);
            let u = acting_user(store, &user).await?;
            let what = format!("assessment {id}");
            let mut doc = read_document(&file)?;
            // A file written from the template names its framework: it must be this one.
            let named = doc
                .as_object_mut()
                .and_then(|o| o.remove("framework"))
                .map(|f| {
                    f.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| f.to_string())
                });
            let edit: AssessmentEdit = decode(doc, &file)?;
            let a = app
                .edit_assessment_named(&u, id, edit, named.as_deref())
                .await
                .map_err(|e| refused(&u, &what, e))?;
            let fw = framework_of(&a, &fws)?;
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
            let a = transition(&app, id, &user, AssessmentStatus::Reviewed, note).await?;
            let _ = writeln!(out, "assessment {} reviewed by {user}", a.id);
        }
        AssessCommand::Publish { id, user, note } => {
            let a = transition(&app, id, &user, AssessmentStatus::Published, note).await?;
            let _ = writeln!(out, "assessment {} published by {user}", a.id);
        }
        AssessCommand::Return { id, user, note } => {
            let a = transition(&app, id, &user, AssessmentStatus::Draft, note).await?;
            let _ = writeln!(out, "assessment {} returned to draft by {user}", a.id);
        }
        AssessCommand::Accept(s) => out = decide(&app, &s, true).await?,
        AssessCommand::Dismiss(s) => out = decide(&app, &s, false).await?,
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
            reads::list_by(
                store,
                &operator(),
                "assessment",
                all.iter().map(|a| (a.id, a.tlp)),
            )
            .await?;
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
            let fw = framework_of(&a, &frameworks_with(frameworks, framework.as_deref())?)?;
            let s = get_situation(store, a.situation_id).await?;
            let all = assessments_of(store, a.situation_id).await?;
            reads::one_by(store, &operator(), "assessment", a.id, a.tlp).await?;
            write_show(&mut out, &a, &s, &fw, &all);
        }
        AssessCommand::History {
            situation,
            factor,
            framework,
        } => {
            let fw = match framework {
                Some(p) => load_framework(&p)?,
                None => (**frameworks.default_framework()).clone(),
            };
            if factor == 0 || factor as usize > fw.risk_factors.len() {
                bail!("{} has risk factors 1 to {}", fw.id, fw.risk_factors.len());
            }
            let s = get_situation(store, situation).await?;
            let all = assessments_of(store, situation).await?;
            let points = assessment::factor_history(&all, &fw.id, factor);
            let shown = all
                .iter()
                .filter(|a| points.iter().any(|p| p.assessment_id == a.id))
                .map(|a| (a.id, a.tlp));
            reads::list_by(store, &operator(), "assessment", shown).await?;
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
    use tocsin_domain::{Actor, Tlp};

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
