//! `tocsin rumour`: rumours and their sightings, as a named user (`--user NAME`) through the
//! same use cases as the API and the pages (`tocsin-app`): the same permissions, clearance,
//! workflow and audit entries.

use anyhow::Result;
use clap::Subcommand;
use std::fmt::Write as _;
use std::process::ExitCode;
use tocsin_app::rumours::{NewSighting, RumourItem, RumourQuery};
use tocsin_domain::{NewRumour, PageRequest, RumourPatch};
use uuid::Uuid;

use super::alerting::Ctx;
use super::common::{acting_user, refused};
use super::Global;

/// `tocsin rumour …`
#[derive(Subcommand, Debug)]
pub enum RumourCommand {
    /// List the rumours the user may see, newest first (at most 500): id, status, priority,
    /// deadline (`OVERDUE` when past it), sightings, country, label, claim.
    List {
        /// Act as this user.
        #[arg(long)]
        user: String,
        /// Only in this status (`new`, `under_investigation`, `probably_true`, ...).
        #[arg(long)]
        status: Option<String>,
        /// Only of this priority.
        #[arg(long)]
        priority: Option<String>,
        /// Only overdue ones.
        #[arg(long)]
        overdue: bool,
    },
    /// Show a rumour with the sightings the user is cleared for.
    Show {
        /// The rumour's id.
        id: Uuid,
        /// Act as this user.
        #[arg(long)]
        user: String,
    },
    /// Record a rumour; prints its id as the last line.
    Add {
        /// Act as this user (analysts and monitor coordinators record rumours).
        #[arg(long)]
        user: String,
        /// What is said.
        #[arg(long)]
        claim: String,
        /// The country (ISO alpha-3).
        #[arg(long)]
        country: String,
        /// Where it is said to happen.
        #[arg(long = "place")]
        place_name: Option<String>,
        /// First-level area.
        #[arg(long)]
        admin1: Option<String>,
        /// `low`, `medium` (default), `high` or `critical`.
        #[arg(long)]
        priority: Option<String>,
        /// Label (default TLP:AMBER).
        #[arg(long)]
        tlp: Option<String>,
        /// The situation it bears on.
        #[arg(long)]
        situation: Option<Uuid>,
        /// The desk told when it is overdue (default: the situation's, else the country's).
        #[arg(long)]
        desk: Option<Uuid>,
    },
    /// Move a rumour to another status; closing ones (`confirmed_true`, `confirmed_false`,
    /// `cannot_be_verified`) need findings.
    Status {
        /// The rumour's id.
        id: Uuid,
        /// The new status.
        state: String,
        /// Act as this user.
        #[arg(long)]
        user: String,
        /// What was found (required to close).
        #[arg(long, alias = "reason")]
        findings: Option<String>,
        /// The counter-message.
        #[arg(long)]
        response: Option<String>,
    },
    /// Mark a report as a sighting of a rumour.
    Sighting {
        /// The rumour's id.
        id: Uuid,
        /// Act as this user (needs to change rumours and read the report).
        #[arg(long)]
        user: String,
        /// The report that repeats it.
        #[arg(long)]
        report: Uuid,
        /// How it was heard: `word_of_mouth`, `radio`, `social_media`, `sms`, `leaflet` or
        /// `other`.
        #[arg(long)]
        how: String,
        /// Where it was heard.
        #[arg(long = "where", default_value = "")]
        where_heard: String,
    },
}

fn line(out: &mut String, r: &RumourItem) {
    let _ = writeln!(
        out,
        "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
        r.rumour.id,
        r.rumour.status.as_str(),
        r.rumour.priority.as_str(),
        if r.overdue {
            "OVERDUE".to_string()
        } else {
            r.rumour.deadline.format("%Y-%m-%d %H:%M").to_string()
        },
        r.sightings,
        r.rumour.country.code(),
        r.rumour.tlp,
        r.rumour.claim.replace(['\t', '\n'], " ")
    );
}

/// Run a `tocsin rumour` subcommand.
pub async fn run(g: &Global, command: RumourCommand) -> Result<ExitCode> {
    let ctx = Ctx::open(g).await?;
    print!("{}", rumour(&ctx, command).await?);
    Ok(ExitCode::SUCCESS)
}

async fn rumour(ctx: &Ctx, cmd: RumourCommand) -> Result<String> {
    let app = ctx.app();
    let store = &ctx.store;
    let mut out = String::new();
    match cmd {
        RumourCommand::List {
            user,
            status,
            priority,
            overdue,
        } => {
            let u = acting_user(store, &user).await?;
            let q = RumourQuery {
                status,
                priority,
                overdue,
                ..Default::default()
            };
            let p = app
                .list_rumours(&u, q, PageRequest::first(500))
                .await
                .map_err(|e| refused(&u, "rumour", e))?;
            for r in &p.items {
                line(&mut out, r);
            }
        }
        RumourCommand::Show { id, user } => {
            let u = acting_user(store, &user).await?;
            let v = app
                .get_rumour(&u, id)
                .await
                .map_err(|e| refused(&u, &format!("rumour {id}"), e))?;
            let r = &v.item.rumour;
            let _ = writeln!(out, "rumour {} ({})", r.id, r.tlp);
            let _ = writeln!(out, "claim: {}", r.claim);
            let place = [r.place_name.as_deref(), r.admin1.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(", ");
            let _ = writeln!(out, "where: {} {}", r.country.code(), place);
            let _ = writeln!(
                out,
                "status: {} (may move to: {})",
                r.status.as_str(),
                v.moves
                    .iter()
                    .map(|m| m.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let _ = writeln!(
                out,
                "priority: {}, deadline {}{}",
                r.priority.as_str(),
                r.deadline.format("%Y-%m-%d %H:%M UTC"),
                if v.item.overdue { " (OVERDUE)" } else { "" }
            );
            if let Some(f) = &r.findings {
                let _ = writeln!(out, "findings: {f}");
            }
            if let Some(f) = &r.response {
                let _ = writeln!(out, "response: {f}");
            }
            let _ = writeln!(out, "sightings: {}", v.item.sightings);
            for s in &v.sighting_list {
                let _ = writeln!(
                    out,
                    "  {}\t{}\t{}\t{}\t{}",
                    s.heard_at.format("%Y-%m-%d %H:%M"),
                    s.how.as_str(),
                    s.where_heard,
                    s.report_id.map_or("-".into(), |r| r.to_string()),
                    s.excerpt.as_deref().unwrap_or("")
                );
            }
        }
        RumourCommand::Add {
            user,
            claim,
            country,
            place_name,
            admin1,
            priority,
            tlp,
            situation,
            desk,
        } => {
            let u = acting_user(store, &user).await?;
            let country = tocsin_geo::country_code(&country)
                .map(str::to_string)
                .unwrap_or(country);
            let n = NewRumour {
                claim,
                country,
                admin1,
                place_name,
                latitude: None,
                longitude: None,
                situation_id: situation,
                desk_id: desk,
                priority,
                tlp,
                response: None,
            };
            let r = app
                .create_rumour(&u, n)
                .await
                .map_err(|e| refused(&u, "rumour", e))?;
            let _ = writeln!(
                out,
                "recorded rumour ({} priority, deadline {}, {})",
                r.priority.as_str(),
                r.deadline.format("%Y-%m-%d %H:%M UTC"),
                r.tlp
            );
            let _ = writeln!(out, "{}", r.id);
        }
        RumourCommand::Status {
            id,
            state,
            user,
            findings,
            response,
        } => {
            let u = acting_user(store, &user).await?;
            let p = RumourPatch {
                status: Some(state),
                findings,
                response,
                ..Default::default()
            };
            let r = app
                .patch_rumour(&u, id, p)
                .await
                .map_err(|e| refused(&u, &format!("rumour {id}"), e))?;
            let _ = writeln!(out, "rumour {} is now {}", r.id, r.status.as_str());
        }
        RumourCommand::Sighting {
            id,
            user,
            report,
            how,
            where_heard,
        } => {
            let u = acting_user(store, &user).await?;
            let n = NewSighting {
                report_id: report,
                how,
                where_heard,
            };
            let s = app
                .add_sighting(&u, id, n)
                .await
                .map_err(|e| refused(&u, &format!("rumour {id}"), e))?;
            let _ = writeln!(
                out,
                "report {report} marked as a sighting of rumour {id} ({})",
                s.how.as_str()
            );
            let _ = writeln!(out, "{}", s.id);
        }
    }
    Ok(out)
}
