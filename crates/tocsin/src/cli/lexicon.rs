//! `tocsin lexicon`: dangerous-speech lexicons (import, evaluate, enable, disable, list; a
//! term added or removed, the terms' history),
//! through the same use cases as the API (`tocsin-app`), as the operator or as a named user
//! (`--user NAME`: admins and analysts).

use anyhow::{Context, Result};
use clap::Subcommand;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tocsin_app::lexicon_terms::{NewTerm, TermKey};
use tocsin_app::speech::LexiconImport;
use tocsin_app::{Acting, App, AppError};
use tocsin_domain::User;
use tocsin_store::{DynStore, Figures};

use super::common::{acting_user, open_store, refused, settle, Refused};
use super::Global;
use crate::config::Overrides;

/// `tocsin lexicon …`
// Parsed once per process: a large variant costs nothing worth boxing for.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub enum LexiconCommand {
    /// Import a lexicon from CSV (`term,language,country,category,severity`, further columns
    /// optional); importing under a name already taken makes its next version, disabled until
    /// evaluated.
    Import {
        /// The CSV file.
        file: PathBuf,
        /// The lexicon's name.
        #[arg(long)]
        name: String,
        /// Where the lexicon comes from.
        #[arg(long)]
        provenance: Option<String>,
        /// The licence it comes under.
        #[arg(long)]
        licence: Option<String>,
        /// Act as this user; without it, as the operator.
        #[arg(long)]
        user: Option<String>,
    },
    /// Measure a lexicon on a labelled sample (CSV `text,label[,language]`, label 1 or 0):
    /// prints precision and recall with Wilson 95 % intervals and stores the evaluation.
    Evaluate {
        /// The lexicon's name.
        name: String,
        /// The sample file.
        #[arg(long)]
        sample: PathBuf,
        /// Act as this user; without it, as the operator.
        #[arg(long)]
        user: Option<String>,
    },
    /// Enable a lexicon: incoming text is scanned with it. Refused while its current version
    /// has no evaluation.
    Enable {
        /// The lexicon's name.
        name: String,
        /// Act as this user; without it, as the operator.
        #[arg(long)]
        user: Option<String>,
    },
    /// Disable a lexicon.
    Disable {
        /// The lexicon's name.
        name: String,
        /// Act as this user; without it, as the operator.
        #[arg(long)]
        user: Option<String>,
    },
    /// List lexicons: name, version, enabled, terms, languages, precision and recall of the
    /// current version's latest evaluation.
    List {
        /// Act as this user; without it, as the operator.
        #[arg(long)]
        user: Option<String>,
    },
    /// Add a term: the lexicon's next version, disabled until evaluated (as on its page).
    AddTerm {
        /// The lexicon's name.
        name: String,
        /// The term (a word or a phrase).
        #[arg(long)]
        term: String,
        /// ISO 639 language code.
        #[arg(long)]
        language: String,
        /// ISO 3166 alpha-2 country code (none: any country).
        #[arg(long)]
        country: Option<String>,
        /// `dehumanisation`, `threat`, `incitement`, `slur` or `coded term`.
        #[arg(long)]
        category: String,
        /// `1`-`3` or `low`, `medium`, `high`.
        #[arg(long)]
        severity: String,
        /// What it means when used to harm.
        #[arg(long)]
        meaning_hateful: Option<String>,
        /// What it means otherwise.
        #[arg(long)]
        meaning_other: Option<String>,
        /// It has innocent uses.
        #[arg(long)]
        ambiguous: bool,
        /// Another spelling (repeat for several).
        #[arg(long = "variant")]
        variants: Vec<String>,
        /// A suggested alternative wording.
        #[arg(long)]
        alternative: Option<String>,
        /// An attached prefix or named set such as `@sw-noun-classes` (repeat for several).
        #[arg(long = "prefix")]
        prefixes: Vec<String>,
        /// An attached suffix or the named set `@ar-suffixes` (repeat for several).
        #[arg(long = "suffix")]
        suffixes: Vec<String>,
        /// A hit only near this word (repeat for several).
        #[arg(long)]
        near: Vec<String>,
        /// Words either side that count as near (1-50, default 5).
        #[arg(long)]
        within: Option<u32>,
        /// Act as this user; without it, as the operator.
        #[arg(long)]
        user: Option<String>,
    },
    /// Remove a term: the lexicon's next version, disabled until evaluated.
    RemoveTerm {
        /// The lexicon's name.
        name: String,
        /// The term as written.
        #[arg(long)]
        term: String,
        /// Its language.
        #[arg(long)]
        language: String,
        /// Its country (none: the term for any country).
        #[arg(long)]
        country: Option<String>,
        /// Act as this user; without it, as the operator.
        #[arg(long)]
        user: Option<String>,
    },
    /// The lexicon's term edits, newest first: version, who, when, what changed.
    History {
        /// The lexicon's name.
        name: String,
        /// Act as this user; without it, as the operator.
        #[arg(long)]
        user: Option<String>,
    },
}

/// Run a `tocsin lexicon` subcommand from the command line.
pub async fn run(g: &Global, command: LexiconCommand) -> Result<ExitCode> {
    let cfg = settle(g, Overrides::default())?;
    let store = open_store(&cfg).await?;
    print!("{}", lexicon(&store, command).await?);
    Ok(ExitCode::SUCCESS)
}

fn figure(v: Option<f64>, i: Option<[f64; 2]>) -> String {
    match (v, i) {
        (Some(v), Some([lo, hi])) => format!("{v:.3} [{lo:.3}, {hi:.3}]"),
        _ => "n/a".into(),
    }
}

fn line(f: &Figures) -> String {
    format!(
        "precision {}, recall {} (n={}: {} true positives, {} false positives, {} missed)",
        figure(f.precision, f.precision_interval),
        figure(f.recall, f.recall_interval),
        f.true_positives + f.false_positives + f.false_negatives + f.true_negatives,
        f.true_positives,
        f.false_positives,
        f.false_negatives
    )
}

fn file_name(p: &Path) -> Option<String> {
    p.file_name().map(|n| n.to_string_lossy().into_owned())
}

fn open(p: &Path) -> Result<std::fs::File> {
    std::fs::File::open(p).with_context(|| format!("cannot read {}", p.display()))
}

/// Run a `tocsin lexicon` subcommand.
pub async fn lexicon(store: &DynStore, cmd: LexiconCommand) -> Result<String> {
    let who = match &cmd {
        LexiconCommand::Import { user, .. }
        | LexiconCommand::Evaluate { user, .. }
        | LexiconCommand::Enable { user, .. }
        | LexiconCommand::Disable { user, .. }
        | LexiconCommand::List { user }
        | LexiconCommand::AddTerm { user, .. }
        | LexiconCommand::RemoveTerm { user, .. }
        | LexiconCommand::History { user, .. } => user.clone(),
    };
    let user: Option<User> = match &who {
        Some(name) => Some(acting_user(store, name).await?),
        None => None,
    };
    let tell = |e: AppError| match &user {
        Some(u) => refused(u, "lexicon", e),
        None => {
            let message = match &e {
                AppError::NotFound => "no such lexicon".to_string(),
                e => e.to_string(),
            };
            Refused { error: e, message }.into()
        }
    };
    let by = user.as_ref().map_or(Acting::Operator("cli"), Acting::User);
    let on = matches!(cmd, LexiconCommand::Enable { .. });
    let frameworks = tocsin_framework::Frameworks::shipped();
    let app = App::new(store, &frameworks);
    let mut out = String::new();
    match cmd {
        LexiconCommand::Import {
            file,
            name,
            provenance,
            licence,
            ..
        } => {
            let what = LexiconImport {
                name,
                file_name: file_name(&file),
                provenance,
                licence,
            };
            let l = app
                .import_lexicon(by, what, open(&file)?)
                .await
                .map_err(tell)?;
            let _ = writeln!(
                out,
                "imported lexicon {} version {}: {} terms ({}); disabled until evaluated",
                l.name,
                l.version,
                l.terms,
                l.languages.join(", ")
            );
        }
        LexiconCommand::Evaluate { name, sample, .. } => {
            let sample_name = file_name(&sample).unwrap_or_default();
            let ev = app
                .evaluate_lexicon(by, &name, &sample_name, open(&sample)?)
                .await
                .map_err(tell)?;
            let _ = writeln!(
                out,
                "lexicon {} version {} on {} (Wilson 95 % intervals):",
                ev.lexicon, ev.lexicon_version, ev.sample
            );
            let _ = writeln!(out, "all: {}", line(&ev.overall));
            for (l, f) in &ev.by_language {
                let _ = writeln!(out, "{l}: {}", line(f));
            }
        }
        LexiconCommand::Enable { name, .. } | LexiconCommand::Disable { name, .. } => {
            let l = app.set_lexicon_enabled(by, &name, on).await.map_err(tell)?;
            let _ = writeln!(
                out,
                "lexicon {} version {} {}",
                l.name,
                l.version,
                if on { "enabled" } else { "disabled" }
            );
        }
        LexiconCommand::List { .. } => {
            for s in app.list_lexicons(by).await.map_err(tell)? {
                let l = &s.lexicon;
                let (p, r) = match &s.evaluation {
                    Some(e) => (
                        figure(e.overall.precision, e.overall.precision_interval),
                        figure(e.overall.recall, e.overall.recall_interval),
                    ),
                    None => ("not evaluated".into(), "-".into()),
                };
                let _ = writeln!(
                    out,
                    "{}\tv{}\t{}\t{} terms\t{}\tprecision {p}\trecall {r}",
                    l.name,
                    l.version,
                    if l.enabled { "enabled" } else { "disabled" },
                    l.terms,
                    l.languages.join(",")
                );
            }
        }
        LexiconCommand::AddTerm {
            name,
            term,
            language,
            country,
            category,
            severity,
            meaning_hateful,
            meaning_other,
            ambiguous,
            variants,
            alternative,
            prefixes,
            suffixes,
            near,
            within,
            ..
        } => {
            let new = NewTerm {
                version: None,
                term,
                language,
                country,
                category,
                severity,
                meaning_hateful,
                meaning_other,
                ambiguous,
                variants,
                transliterations: Vec::new(),
                alternative,
                prefixes,
                suffixes,
                near,
                within,
            };
            let (l, e) = app.add_lexicon_term(by, &name, new).await.map_err(tell)?;
            let _ = writeln!(
                out,
                "added {:?} ({}) to lexicon {}: version {}, disabled until evaluated",
                e.term, e.language, l.name, l.version
            );
        }
        LexiconCommand::RemoveTerm {
            name,
            term,
            language,
            country,
            ..
        } => {
            let key = TermKey {
                term,
                language,
                country,
            };
            let (l, e) = app
                .remove_lexicon_term(by, &name, &key, None)
                .await
                .map_err(tell)?;
            let _ = writeln!(
                out,
                "removed {:?} ({}) from lexicon {}: version {}, disabled until evaluated",
                e.term, e.language, l.name, l.version
            );
        }
        LexiconCommand::History { name, .. } => {
            for e in app.lexicon_term_history(by, &name).await.map_err(tell)? {
                let changes: Vec<String> = e
                    .changes
                    .iter()
                    .map(|c| {
                        format!(
                            "{}: {} -> {}",
                            c.field,
                            c.before.as_deref().unwrap_or("-"),
                            c.after.as_deref().unwrap_or("-")
                        )
                    })
                    .collect();
                let _ = writeln!(
                    out,
                    "v{}\t{}\t{}\t{} ({}{})\t{}\t{}",
                    e.version,
                    e.at.format("%Y-%m-%d %H:%M:%S UTC"),
                    e.action.as_str(),
                    e.term,
                    e.language,
                    e.country
                        .as_deref()
                        .map(|c| format!(", {c}"))
                        .unwrap_or_default(),
                    e.by,
                    changes.join("; ")
                );
            }
        }
    }
    Ok(out)
}
