//! `tocsin incident`: record an incident, or set its verification status, as a named user
//! (`--user NAME`), through the same use cases as the API (`tocsin-app`): the same
//! permissions, the same clearance rules, the same refusals.

use anyhow::Result;
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;
use tocsin_domain::IncidentInput;
use uuid::Uuid;

use super::common::{acting_user, decode, open_store, read_document, refused, settle};
use super::Global;
use crate::config::Overrides;

/// `tocsin incident …`
#[derive(Subcommand, Debug)]
pub enum IncidentCommand {
    /// Record an incident from a JSON or TOML file (the API's incident fields); prints its id
    /// as the last line.
    Add {
        /// Act as this user (needs to record incidents; the label at most their clearance).
        #[arg(long)]
        user: String,
        /// The incident (`.json`, or `.toml`).
        #[arg(long)]
        file: PathBuf,
    },
    /// Move an incident's verification status (unverified → corroborated → verified, or
    /// disputed, or refuted), with a reason; `verified` needs the checklist done.
    Verify {
        /// The incident's id.
        id: Uuid,
        /// Act as this user (needs to change incidents).
        #[arg(long)]
        user: String,
        /// corroborated, verified, disputed or refuted.
        #[arg(long, alias = "status")]
        state: String,
        /// Why (required; kept in the incident's verification history).
        #[arg(long)]
        reason: String,
    },
    /// Name the partners and sharing groups an incident is shared with (replacing what it
    /// named): it then goes only to them, never into STIX; TLP:AMBER+STRICT goes to a partner
    /// only this way. `--none` names none (whoever its label allows); without either, prints
    /// what it names.
    ShareWith {
        /// The incident's id.
        id: Uuid,
        /// Act as this user (needs to share).
        #[arg(long)]
        user: String,
        /// A partner or sharing group, by name; repeat for more.
        #[arg(long = "with")]
        with: Vec<String>,
        /// Name none.
        #[arg(long, conflicts_with = "with")]
        none: bool,
    },
}

/// Run a `tocsin incident` subcommand.
pub async fn run(g: &Global, command: IncidentCommand) -> Result<ExitCode> {
    let cfg = settle(g, Overrides::default())?;
    let store = open_store(&cfg).await?;
    let frameworks = cfg.analysis.frameworks()?;
    let mut app = tocsin_app::App::new(&store, &frameworks);
    app.verification = &cfg.verification;
    match command {
        IncidentCommand::Add { user, file } => {
            let u = acting_user(&store, &user).await?;
            let input: IncidentInput = decode(read_document(&file)?, &file)?;
            let i = app
                .create_incident(&u, input)
                .await
                .map_err(|e| refused(&u, "incident", e))?;
            println!(
                "recorded incident of {} in {} ({}, {})",
                i.event_date,
                i.country.code(),
                i.event_type,
                i.tlp
            );
            println!("{}", i.id);
        }
        IncidentCommand::Verify {
            id,
            user,
            state,
            reason,
        } => {
            let u = acting_user(&store, &user).await?;
            let i = app
                .set_verification(&u, id, &state, &reason)
                .await
                .map_err(|e| refused(&u, &format!("incident {id}"), e))?;
            println!(
                "incident {} is now {}",
                i.id,
                i.verification_status.as_str()
            );
        }
        IncidentCommand::ShareWith {
            id,
            user,
            with,
            none,
        } => {
            let u = acting_user(&store, &user).await?;
            let tell = |e| refused(&u, &format!("incident {id}"), e);
            let names = if with.is_empty() && !none {
                app.share_with((&u).into(), id).await.map_err(tell)?
            } else {
                app.set_share_with((&u).into(), id, &with)
                    .await
                    .map_err(tell)?
            };
            if names.is_empty() {
                println!("incident {id} goes to every partner its label allows (none named)");
            } else {
                println!("incident {id} is shared only with: {}", names.join(", "));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
