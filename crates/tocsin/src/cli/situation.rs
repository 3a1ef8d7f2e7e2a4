//! `tocsin situation`: situations under watch.

use anyhow::Result;
use clap::Subcommand;
use std::fmt::Write as _;
use std::process::ExitCode;
use tocsin_app::{Acting, App, AppError};
use tocsin_domain::{DomainError, NewSituation, PageRequest, Tlp};
use tocsin_store::DynStore;

use super::common::{acting_user, open_store, refused, settle, Refused};
use super::Global;
use crate::config::Overrides;

/// `tocsin situation …`
#[derive(Subcommand, Debug)]
pub enum SituationCommand {
    /// Create a situation; prints its id as the last line.
    Add {
        /// Name, e.g. `Central African Republic: north-west`.
        #[arg(long)]
        name: String,
        /// The country (ISO alpha-3, or a name).
        #[arg(long)]
        country: String,
        /// A first-level area it covers; repeat for several (none: the whole country).
        #[arg(long)]
        admin1: Vec<String>,
        /// Label.
        #[arg(long, default_value = "TLP:AMBER")]
        tlp: String,
        /// `watch`, `active` or `closed`.
        #[arg(long, default_value = "watch")]
        status: String,
        /// Summary.
        #[arg(long)]
        description: Option<String>,
        /// Act as this user (needs to write situations; the label at most their clearance),
        /// as over the API; without it, as the operator.
        #[arg(long)]
        user: Option<String>,
    },
    /// List situations, newest first.
    List,
}

/// Run a `tocsin situation` subcommand from the command line.
pub async fn run(g: &Global, command: SituationCommand) -> Result<ExitCode> {
    let cfg = settle(g, Overrides::default())?;
    let store = open_store(&cfg).await?;
    print!("{}", situation(&store, command).await?);
    Ok(ExitCode::SUCCESS)
}

/// Run a `tocsin situation` subcommand.
pub async fn situation(store: &DynStore, cmd: SituationCommand) -> Result<String> {
    let mut out = String::new();
    match cmd {
        SituationCommand::Add {
            name,
            country,
            admin1,
            tlp,
            status,
            description,
            user,
        } => {
            let code = tocsin_geo::country_code(&country)
                .map(str::to_string)
                .unwrap_or(country);
            let user = match &user {
                Some(name) => Some(acting_user(store, name).await?),
                None => None,
            };
            let tell = |e: AppError| match &user {
                Some(u) => refused(u, "situation", e),
                None => {
                    let message = e.to_string();
                    Refused { error: e, message }.into()
                }
            };
            let tlp = tlp.parse().map_err(|e: DomainError| tell(e.into()))?;
            let input = NewSituation {
                name,
                country: code,
                admin1: Some(tocsin_domain::Areas::Many(admin1)),
                status: Some(status),
                description,
                tlp: Some(tlp),
            };
            let by = user.as_ref().map_or(Acting::Operator("cli"), Acting::User);
            let frameworks = tocsin_framework::Frameworks::shipped();
            let s = App::new(store, &frameworks)
                .create_situation(by, input)
                .await
                .map_err(tell)?;
            let _ = writeln!(
                out,
                "created situation {} ({}, {})",
                s.name,
                s.country.code(),
                s.tlp
            );
            let _ = writeln!(out, "{}", s.id);
        }
        SituationCommand::List => {
            let mut cursor: Option<String> = None;
            let mut shown = vec![];
            loop {
                let page = PageRequest::parse(Some(500), cursor.as_deref())?;
                let p = store.list_situations(Tlp::Red, page).await?;
                shown.extend(p.items.iter().map(|s| (s.id, s.tlp)));
                for s in &p.items {
                    let _ = writeln!(
                        out,
                        "{}\t{}\t{}\t{}\t{}\t{}",
                        s.id,
                        s.country.code(),
                        if s.admin1.is_empty() {
                            "-".to_string()
                        } else {
                            s.admin1.join("; ")
                        },
                        s.status,
                        s.tlp,
                        s.name
                    );
                }
                match p.next_cursor {
                    Some(c) => cursor = Some(c),
                    None => break,
                }
            }
            // The operator's read of restricted situations is audited as the API's are.
            let by = tocsin_domain::Actor::system("cli");
            tocsin_app::reads::list_by(store, &by, "situation", shown).await?;
        }
    }
    Ok(out)
}
