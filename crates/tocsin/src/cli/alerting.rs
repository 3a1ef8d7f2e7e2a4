//! `tocsin desk`, `tocsin rule`, `tocsin alert` and `tocsin check`: desks and their
//! escalation policies, alert rules and alerts, acting as a named user (`--user NAME`) with
//! the API's rules, and the configuration check that names policy steps reaching nobody.

use anyhow::Result;
use clap::Subcommand;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use tocsin_app::alerts::{AlertQuery, AlertSettings, Move, RaiseAlert};
use tocsin_app::{App, AppError};
use tocsin_domain::{CloseReason, NewAlertRule, NewDesk, PageRequest, User};
use tocsin_store::DynStore;
use uuid::Uuid;

use super::common::{acting_user, decode, open_store, read_document, refused, settle, Refused};
use super::Global;
use crate::config::Overrides;

/// `tocsin desk …`
#[derive(Subcommand, Debug)]
pub enum DeskCommand {
    /// Create a desk from a JSON or TOML file shaped as the API's `POST /api/v1/desks`:
    /// `name`, `department`, `members`, `countries`, `situations`, `escalation = [{after =
    /// "15m", notify = {user = "alice"}}]` (or `{desk = ID}`, `{on_duty = ID}`), `repeat`,
    /// `rota = [{user, from, until}]`. A step that reaches nobody is refused, named. Prints
    /// the desk's id as the last line.
    Add {
        /// The desk file (`.json`, else TOML).
        file: PathBuf,
        /// Act as this user (an admin).
        #[arg(long)]
        user: String,
    },
    /// List desks: id, department, name, members.
    List {
        /// Act as this user.
        #[arg(long)]
        user: String,
    },
}

/// `tocsin rule …`
#[derive(Subcommand, Debug)]
pub enum RuleCommand {
    /// Create an alert rule from a JSON or TOML file shaped as the API's `POST
    /// /api/v1/alert-rules`: `name`, `severity`, `ack_within = "30m"`, `enabled`, `desk?`,
    /// `tlp?`, `kind = "incidents"` and its fields (`country`, `window = "7d"`,
    /// `min_incidents`…). Prints the rule's id as the last line.
    Add {
        /// The rule file (`.json`, else TOML).
        file: PathBuf,
        /// Act as this user (an admin).
        #[arg(long)]
        user: String,
    },
    /// List rules: id, enabled, severity, kind, name.
    List {
        /// Only enabled rules.
        #[arg(long)]
        enabled: bool,
        /// Act as this user.
        #[arg(long)]
        user: String,
    },
    /// Disable a rule (it is no longer evaluated).
    Disable {
        /// The rule's id.
        id: Uuid,
        /// Act as this user (an admin).
        #[arg(long)]
        user: String,
    },
}

/// `tocsin alert …`
#[derive(Subcommand, Debug)]
pub enum AlertCommand {
    /// List alerts the user may see, newest first: id, status, severity, desk, title.
    List {
        /// `open`, `acknowledged`, `action_decided` or `closed`.
        #[arg(long)]
        status: Option<String>,
        /// `low`, `moderate`, `high` or `critical`.
        #[arg(long)]
        severity: Option<String>,
        /// Only this desk.
        #[arg(long)]
        desk: Option<Uuid>,
        /// Only this situation.
        #[arg(long)]
        situation: Option<Uuid>,
        /// Act as this user.
        #[arg(long)]
        user: String,
    },
    /// Raise an alert by hand (analysts); prints its id as the last line.
    Raise {
        /// What it is about.
        #[arg(long)]
        title: String,
        /// `low`, `moderate`, `high` or `critical`.
        #[arg(long)]
        severity: String,
        /// Label.
        #[arg(long, default_value = "TLP:AMBER")]
        tlp: String,
        /// Country (ISO alpha-3).
        #[arg(long)]
        country: Option<String>,
        /// Situation id.
        #[arg(long)]
        situation: Option<Uuid>,
        /// Desk id (else the desk answering for the situation, else the country).
        #[arg(long)]
        desk: Option<Uuid>,
        /// Act as this user (an analyst).
        #[arg(long)]
        user: String,
    },
    /// Acknowledge an alert of your desk: escalation stops.
    Ack {
        /// The alert's id.
        id: Uuid,
        /// Act as this user (a member of the alert's desk).
        #[arg(long)]
        user: String,
    },
    /// Notify the next step of the desk's policy now.
    Escalate {
        /// The alert's id.
        id: Uuid,
        /// Act as this user (a member of the alert's desk).
        #[arg(long)]
        user: String,
    },
    /// Record that the desk has decided what to do.
    Decide {
        /// The alert's id.
        id: Uuid,
        /// Act as this user (a member of the alert's desk).
        #[arg(long)]
        user: String,
    },
    /// Close an alert with a reason.
    Close {
        /// The alert's id.
        id: Uuid,
        /// `acted`, `false_alarm`, `duplicate` or `nothing_possible`.
        #[arg(long)]
        reason: String,
        /// Act as this user (a member of the alert's desk).
        #[arg(long)]
        user: String,
    },
}

/// What the commands that notify need: the store, settings, channels and the contact key.
pub(super) struct Ctx {
    pub(super) store: DynStore,
    frameworks: tocsin_framework::Frameworks,
    settings: AlertSettings,
    channels: tocsin_app::notify::Channels,
    /// Seals the addresses of the notifications a command's change makes.
    key: tocsin_domain::ContactKey,
}

impl Ctx {
    pub(super) async fn open(g: &Global) -> Result<Ctx> {
        let cfg = settle(g, Overrides::default())?;
        let settings = cfg.alert_settings()?;
        let store = open_store(&cfg).await?;
        let key = super::common::contact_key(&cfg, &store).await?;
        Ok(Ctx {
            key,
            store,
            frameworks: tocsin_framework::Frameworks::shipped(),
            settings,
            channels: cfg.channels(),
        })
    }

    pub(super) fn app(&self) -> App<'_> {
        let mut app = App::new(&self.store, &self.frameworks);
        app.alerting = &self.settings;
        app.channels = &self.channels;
        app.contact_key = Some(&self.key);
        app
    }
}

fn now() -> chrono::DateTime<chrono::Utc> {
    tocsin_domain::time::now()
}

fn invalid(u: &User, what: &str, e: impl std::fmt::Display, field: &str) -> anyhow::Error {
    refused(u, what, AppError::bad_field(field, e.to_string()))
}

/// Run `tocsin desk …`.
pub async fn desk(g: &Global, cmd: DeskCommand) -> Result<ExitCode> {
    let ctx = Ctx::open(g).await?;
    let app = ctx.app();
    let mut out = String::new();
    match cmd {
        DeskCommand::Add { file, user } => {
            let u = acting_user(&ctx.store, &user).await?;
            let n: NewDesk = decode(read_document(&file)?, &file)?;
            let d = app
                .create_desk(&u, n, now())
                .await
                .map_err(|e| refused(&u, "desk", e))?;
            let _ = writeln!(out, "created desk {} ({})", d.name, d.department.name());
            let _ = writeln!(out, "{}", d.id);
        }
        DeskCommand::List { user } => {
            let u = acting_user(&ctx.store, &user).await?;
            for d in app.desks(&u).await.map_err(|e| refused(&u, "desk", e))? {
                let _ = writeln!(
                    out,
                    "{}\t{}\t{}\t{}",
                    d.id,
                    d.department.name(),
                    d.name,
                    d.members.join(",")
                );
            }
        }
    }
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}

/// Run `tocsin rule …`.
pub async fn rule(g: &Global, cmd: RuleCommand) -> Result<ExitCode> {
    let ctx = Ctx::open(g).await?;
    let app = ctx.app();
    let mut out = String::new();
    match cmd {
        RuleCommand::Add { file, user } => {
            let u = acting_user(&ctx.store, &user).await?;
            let n: NewAlertRule = decode(read_document(&file)?, &file)?;
            let r = app
                .create_rule(&u, n)
                .await
                .map_err(|e| refused(&u, "rule", e))?;
            let _ = writeln!(out, "created rule {} ({})", r.name, r.condition.kind());
            let _ = writeln!(out, "{}", r.id);
        }
        RuleCommand::List { enabled, user } => {
            let u = acting_user(&ctx.store, &user).await?;
            for r in app
                .rules(&u, enabled)
                .await
                .map_err(|e| refused(&u, "rule", e))?
            {
                let _ = writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{}",
                    r.id,
                    if r.enabled { "enabled" } else { "disabled" },
                    r.severity,
                    r.condition.kind(),
                    r.name
                );
            }
        }
        RuleCommand::Disable { id, user } => {
            let u = acting_user(&ctx.store, &user).await?;
            let r = app
                .set_rule_enabled(&u, id, false)
                .await
                .map_err(|e| refused(&u, &format!("rule {id}"), e))?;
            let _ = writeln!(out, "disabled rule {} (version {})", r.name, r.version);
        }
    }
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}

/// Run `tocsin alert …`.
pub async fn alert(g: &Global, cmd: AlertCommand) -> Result<ExitCode> {
    let ctx = Ctx::open(g).await?;
    let app = ctx.app();
    let mut out = String::new();
    let act = |id: Uuid, user: String, m: Move| {
        let app = &app;
        let store = &ctx.store;
        async move {
            let u = acting_user(store, &user).await?;
            let v = app
                .move_alert(&u, id, m, now())
                .await
                .map_err(|e| refused(&u, &format!("alert {id}"), e))?;
            anyhow::Ok(format!("alert {} is {}\n", v.alert.id, v.alert.status))
        }
    };
    match cmd {
        AlertCommand::List {
            status,
            severity,
            desk,
            situation,
            user,
        } => {
            let u = acting_user(&ctx.store, &user).await?;
            let q = AlertQuery {
                status,
                severity,
                desk,
                situation,
            };
            let mut cursor: Option<String> = None;
            loop {
                let page = PageRequest::parse(Some(500), cursor.as_deref())?;
                let p = app
                    .alerts(&u, &q, page)
                    .await
                    .map_err(|e| refused(&u, "alert", e))?;
                for a in &p.items {
                    let _ = writeln!(
                        out,
                        "{}\t{}\t{}\t{}\t{}",
                        a.id, a.status, a.severity, a.desk_id, a.title
                    );
                }
                match p.next_cursor {
                    Some(c) => cursor = Some(c),
                    None => break,
                }
            }
        }
        AlertCommand::Raise {
            title,
            severity,
            tlp,
            country,
            situation,
            desk,
            user,
        } => {
            let u = acting_user(&ctx.store, &user).await?;
            let r = RaiseAlert {
                title,
                severity,
                tlp: Some(tlp),
                situation,
                country,
                desk,
                evidence: vec![],
            };
            let a = app
                .raise_alert(&u, r, now())
                .await
                .map_err(|e| refused(&u, "alert", e))?;
            let _ = writeln!(
                out,
                "raised alert {} ({}, due by {})",
                a.title, a.severity, a.ack_deadline
            );
            let _ = writeln!(out, "{}", a.id);
        }
        AlertCommand::Ack { id, user } => out = act(id, user, Move::Acknowledge).await?,
        AlertCommand::Escalate { id, user } => out = act(id, user, Move::Escalate).await?,
        AlertCommand::Decide { id, user } => out = act(id, user, Move::Decide).await?,
        AlertCommand::Close { id, reason, user } => {
            let reason = match CloseReason::parse(reason.trim()) {
                Ok(r) => r,
                Err(e) => {
                    let u = acting_user(&ctx.store, &user).await?;
                    return Err(invalid(&u, "alert", e, "reason"));
                }
            };
            out = act(id, user, Move::Close(Some(reason))).await?;
        }
    }
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}

/// `tocsin check`: the configuration loads and is valid, and every desk's escalation policy
/// reaches someone at every step. Unreachable steps are named, and the exit code is 5.
pub async fn check(g: &Global) -> Result<ExitCode> {
    let ctx = Ctx::open(g).await?;
    let app = ctx.app();
    let mut out = String::new();
    let mut bad = Vec::new();
    let desks = app.check_desks(now()).await?;
    for (d, steps) in &desks {
        for s in steps {
            bad.push(format!("desk {:?} ({}): {s}", d.name, d.id));
        }
    }
    let _ = writeln!(
        out,
        "configuration: ok ({} departments)",
        ctx.settings.departments.len()
    );
    let _ = writeln!(out, "desks: {} checked", desks.len());
    print!("{out}");
    if bad.is_empty() {
        println!("escalation policies: every step reaches someone");
        return Ok(ExitCode::SUCCESS);
    }
    let message = format!(
        "escalation policies with steps that reach nobody:\n  {}",
        bad.join("\n  ")
    );
    Err(Refused {
        error: AppError::invalid("escalation", message.clone()),
        message,
    }
    .into())
}
