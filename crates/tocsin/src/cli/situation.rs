//! `tocsin situation`: situations under watch.

use anyhow::Result;
use clap::Subcommand;
use std::fmt::Write as _;
use std::process::ExitCode;
use tocsin_domain::{Actor, NewSituation, PageRequest, Situation, Tlp};
use tocsin_store::{DynStore, StoreExt};

use super::common::{open_store, settle};
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
        /// First-level area.
        #[arg(long)]
        admin1: Option<String>,
        /// Label.
        #[arg(long, default_value = "TLP:AMBER")]
        tlp: String,
        /// `watch`, `active` or `closed`.
        #[arg(long, default_value = "watch")]
        status: String,
        /// Summary.
        #[arg(long)]
        description: Option<String>,
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
        } => {
            let code = tocsin_geo::country_code(&country)
                .map(str::to_string)
                .unwrap_or(country);
            let s = Situation::parse(NewSituation {
                name,
                country: code,
                admin1,
                status: Some(status),
                description,
                tlp: Some(tlp.parse()?),
            })?;
            let s = store.create_situation(&Actor::system("cli"), s).await?;
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
            loop {
                let page = PageRequest::parse(Some(500), cursor.as_deref())?;
                let p = store.list_situations(Tlp::Red, page).await?;
                for s in &p.items {
                    let _ = writeln!(
                        out,
                        "{}\t{}\t{}\t{}\t{}\t{}",
                        s.id,
                        s.country.code(),
                        s.admin1.as_deref().unwrap_or("-"),
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
        }
    }
    Ok(out)
}
