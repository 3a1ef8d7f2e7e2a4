//! `tocsin action`: actions of situations' plans, as a named user with the API's rules.

use anyhow::Result;
use clap::Subcommand;
use std::fmt::Write as _;
use std::process::ExitCode;
use tocsin_app::actions::ActionQuery;
use tocsin_app::App;
use tocsin_domain::{NewAction, PageRequest};
use tocsin_store::DynStore;
use uuid::Uuid;

use super::common::{acting_user, open_store, refused, settle};
use super::Global;
use crate::config::Overrides;

/// `tocsin action …`
#[derive(Subcommand, Debug)]
pub enum ActionCommand {
    /// Record an action from a toolbox measure; prints its id as the last line.
    Add {
        /// Act as this user (admins, analysts and desk officers may record actions).
        #[arg(long)]
        user: String,
        /// The situation's id.
        #[arg(long)]
        situation: Uuid,
        /// The toolbox measure, e.g. `M-07`.
        #[arg(long)]
        measure: String,
        /// Owner department, e.g. `foreign affairs`.
        #[arg(long)]
        department: String,
        /// Lead person (username); the acting user when absent.
        #[arg(long)]
        lead: Option<String>,
        /// Due date, `YYYY-MM-DD`.
        #[arg(long)]
        due: chrono::NaiveDate,
        /// Risk factors addressed (comma-separated numbers); the measure's own when absent.
        #[arg(long, value_delimiter = ',')]
        risk_factors: Option<Vec<u32>>,
        /// The desk that carries it.
        #[arg(long)]
        desk: Option<Uuid>,
    },
    /// List actions the user may see, newest first (at most 500).
    List {
        /// Act as this user.
        #[arg(long)]
        user: String,
        /// Only this situation's.
        #[arg(long)]
        situation: Option<Uuid>,
        /// Only in this status.
        #[arg(long)]
        status: Option<String>,
        /// Only overdue ones.
        #[arg(long)]
        overdue: bool,
    },
    /// Share an action with partner organisations under a label (`--tlp TLP:GREEN`), or no
    /// longer (`--off`); admins and analysts.
    Share {
        /// Act as this user.
        #[arg(long)]
        user: String,
        /// The action's id.
        id: Uuid,
        /// The label it crosses under: TLP:CLEAR, TLP:GREEN or TLP:AMBER.
        #[arg(long, conflicts_with = "off", required_unless_present = "off")]
        tlp: Option<String>,
        /// No longer shared.
        #[arg(long)]
        off: bool,
    },
}

/// Run a `tocsin action` subcommand from the command line.
pub async fn run(g: &Global, command: ActionCommand) -> Result<ExitCode> {
    let cfg = settle(g, Overrides::default())?;
    let store = open_store(&cfg).await?;
    print!("{}", action(&store, command).await?);
    Ok(ExitCode::SUCCESS)
}

/// Run a `tocsin action` subcommand.
pub async fn action(store: &DynStore, cmd: ActionCommand) -> Result<String> {
    let mut out = String::new();
    let frameworks = tocsin_framework::Frameworks::shipped();
    let app = App::new(store, &frameworks);
    match cmd {
        ActionCommand::Add {
            user,
            situation,
            measure,
            department,
            lead,
            due,
            risk_factors,
            desk,
        } => {
            let u = acting_user(store, &user).await?;
            let n = NewAction {
                measure_id: measure,
                situation_id: Some(situation),
                alert_ids: vec![],
                risk_factors,
                department: Some(department),
                desk_id: desk,
                lead: lead.unwrap_or_else(|| u.username.clone()),
                due_date: due,
                status: None,
                next_review: None,
                notes: None,
            };
            let a = app
                .create_action(&u, n)
                .await
                .map_err(|e| refused(&u, "action", e))?;
            let _ = writeln!(
                out,
                "recorded action {} for {} (lead {}, due {})",
                a.measure_id,
                a.department.name(),
                a.lead,
                a.due_date
            );
            let _ = writeln!(out, "{}", a.id);
        }
        ActionCommand::List {
            user,
            situation,
            status,
            overdue,
        } => {
            let u = acting_user(store, &user).await?;
            let q = ActionQuery {
                situation,
                status,
                overdue,
                ..Default::default()
            };
            let p = app
                .list_actions(&u, q, PageRequest::first(500))
                .await
                .map_err(|e| refused(&u, "action", e))?;
            for a in p.items {
                let _ = writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    a.id,
                    a.situation_id,
                    a.measure_id,
                    a.status,
                    a.department.name(),
                    a.lead,
                    a.due_date
                );
            }
        }
        ActionCommand::Share { user, id, tlp, off } => {
            let u = acting_user(store, &user).await?;
            let tlp = match (tlp, off) {
                (_, true) | (None, _) => None,
                (Some(t), false) => Some(t.trim().parse::<tocsin_domain::Tlp>().map_err(|_| {
                    refused(
                        &u,
                        "action",
                        tocsin_app::AppError::bad_field(
                            "tlp",
                            "expected a TLP label, e.g. TLP:GREEN",
                        ),
                    )
                })?),
            };
            app.set_action_sharing(&u, id, tlp)
                .await
                .map_err(|e| refused(&u, "action", e))?;
            let _ = match tlp {
                Some(t) => writeln!(out, "action {id} is shared with partners as {t}"),
                None => writeln!(out, "action {id} is not shared with partners"),
            };
        }
    }
    Ok(out)
}
