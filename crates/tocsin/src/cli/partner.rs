//! `tocsin partner add|list|token|push-token|remove|redact|preview|approve|group`: the partner organisations this one shares signed bundles
//! with, through the same use cases as `/api/v1/partners` ([`tocsin_app::partners`]).

use anyhow::Result;
use clap::Subcommand;
use std::process::ExitCode;
use tocsin_app::{Acting, App};
use tocsin_domain::{PartnerInput, SharingGroupInput};

use super::common::{acting_user, contact_key, open_store, refused, settle, Refused};
use super::Global;
use crate::config::Overrides;

/// `tocsin partner …`
#[derive(Subcommand, Debug)]
pub enum PartnerCommand {
    /// Add another organisation's Tocsin: its name here, base URL, public signing key (what its
    /// `tocsin share key` prints) and the highest label it may receive (never TLP:RED).
    Add {
        /// Its name here (received records carry it as their origin).
        name: String,
        /// Its base URL, e.g. https://tocsin.partner.example.
        #[arg(long)]
        url: String,
        /// Its public signing key (base64).
        #[arg(long)]
        key: String,
        /// The highest label it may receive: TLP:CLEAR, TLP:GREEN, TLP:AMBER or
        /// TLP:AMBER+STRICT.
        #[arg(long)]
        max_tlp: String,
        /// Limit it to records about this country (ISO 3166-1 alpha-3); repeat for more.
        #[arg(long)]
        country: Vec<String>,
        /// Limit it to this kind of record (incident, assessment, alert, rumour, action);
        /// repeat for more; none: every kind.
        #[arg(long)]
        kind: Vec<String>,
        /// Act as this admin; without it, as the operator.
        #[arg(long)]
        user: Option<String>,
    },
    /// List the partners: name, ceiling, countries, URL, key and kinds of record.
    List {
        /// Act as this admin; without it, as the operator.
        #[arg(long)]
        user: Option<String>,
    },
    /// Issue the token the partner pushes bundles here with (`POST /api/v1/share/bundles`):
    /// printed this once, only its hash kept; replaces the one issued before.
    Token {
        /// The partner.
        name: String,
        /// Act as this admin; without it, as the operator.
        #[arg(long)]
        user: Option<String>,
    },
    /// Keep the token a partner issued this installation (its `tocsin partner token`), for
    /// `tocsin share push`; sealed.
    PushToken {
        /// The partner.
        name: String,
        /// The token it issued.
        #[arg(long)]
        token: String,
        /// Act as this admin; without it, as the operator.
        #[arg(long)]
        user: Option<String>,
    },
    /// Remove a partner (what it sent stays, labelled with its name; its name leaves every
    /// sharing group and record).
    Remove {
        /// Its name.
        name: String,
        /// Act as this admin; without it, as the operator.
        #[arg(long)]
        user: Option<String>,
    },
    /// Set what is withheld from every record sent to a partner (its terms are then
    /// unapproved until previewed and approved again).
    Redact {
        /// The partner.
        name: String,
        /// A rule: place, date, actors, targeted_group or description; repeat for more.
        #[arg(long = "rule")]
        rules: Vec<String>,
        /// Withhold nothing beyond what never leaves.
        #[arg(long, conflicts_with = "rules")]
        none: bool,
        /// Act as this admin; without it, as the operator.
        #[arg(long)]
        user: Option<String>,
    },
    /// Show what would cross to a partner under its terms as they stand (counts, retractions,
    /// the first records as it would receive them, one JSON line each) and the digest of those
    /// terms that `approve` takes.
    Preview {
        /// The partner.
        name: String,
        /// Act as this admin; without it, as the operator.
        #[arg(long)]
        user: Option<String>,
    },
    /// Approve a partner's terms as previewed: nothing is sent to it before.
    Approve {
        /// The partner.
        name: String,
        /// The digest `preview` printed.
        #[arg(long)]
        terms: String,
        /// Act as this admin; without it, as the operator.
        #[arg(long)]
        user: Option<String>,
    },
    /// Sharing groups: several partners under one name an incident can be shared with.
    #[command(subcommand)]
    Group(GroupCommand),
}

/// `tocsin partner group …`
#[derive(Debug, Subcommand)]
pub enum GroupCommand {
    /// Make a sharing group of partners.
    Add {
        /// Its name (no partner's).
        name: String,
        /// A partner in it, by name; repeat for more.
        #[arg(long = "member", required = true)]
        members: Vec<String>,
        /// Act as this admin; without it, as the operator.
        #[arg(long)]
        user: Option<String>,
    },
    /// Replace a sharing group's members.
    Set {
        /// Its name.
        name: String,
        /// A partner in it, by name; repeat for more.
        #[arg(long = "member", required = true)]
        members: Vec<String>,
        /// Act as this admin; without it, as the operator.
        #[arg(long)]
        user: Option<String>,
    },
    /// List the sharing groups and their members.
    List {
        /// Act as this admin; without it, as the operator.
        #[arg(long)]
        user: Option<String>,
    },
    /// Remove a sharing group (records naming it no longer do).
    Remove {
        /// Its name.
        name: String,
        /// Act as this admin; without it, as the operator.
        #[arg(long)]
        user: Option<String>,
    },
}

/// Run a `tocsin partner` subcommand.
pub async fn run(g: &Global, command: PartnerCommand) -> Result<ExitCode> {
    let cfg = settle(g, Overrides::default())?;
    let store = open_store(&cfg).await?;
    let frameworks = tocsin_framework::Frameworks::shipped();
    // Alerts shared with partners carry their CAP form, signed as `[cap]` says.
    let (site, _) = cfg.cap_site()?;
    let mut app = App::new(&store, &frameworks);
    app.cap_site = Some(&site);
    let name = match &command {
        PartnerCommand::Add { user, .. }
        | PartnerCommand::List { user }
        | PartnerCommand::Token { user, .. }
        | PartnerCommand::PushToken { user, .. }
        | PartnerCommand::Remove { user, .. }
        | PartnerCommand::Redact { user, .. }
        | PartnerCommand::Preview { user, .. }
        | PartnerCommand::Approve { user, .. }
        | PartnerCommand::Group(GroupCommand::Add { user, .. })
        | PartnerCommand::Group(GroupCommand::Set { user, .. })
        | PartnerCommand::Group(GroupCommand::List { user })
        | PartnerCommand::Group(GroupCommand::Remove { user, .. }) => user.clone(),
    };
    let user = match name {
        Some(n) => Some(acting_user(&store, &n).await?),
        None => None,
    };
    let by = user.as_ref().map_or(Acting::Operator("cli"), Acting::User);
    let tell = |e: tocsin_app::AppError| match &user {
        Some(u) => refused(u, "partner", e),
        None => {
            let message = e.to_string();
            Refused { error: e, message }.into()
        }
    };
    match command {
        PartnerCommand::Add {
            name,
            url,
            key,
            max_tlp,
            country,
            kind,
            ..
        } => {
            let p = app
                .add_partner(
                    by,
                    PartnerInput {
                        name,
                        url,
                        key,
                        max_tlp,
                        countries: country,
                        kinds: kind,
                    },
                )
                .await
                .map_err(tell)?;
            println!("added partner {} (up to {})", p.name, p.max_tlp);
        }
        PartnerCommand::List { .. } => {
            for p in app.list_partners(by).await.map_err(tell)? {
                let countries = if p.countries.is_empty() {
                    "every country".to_string()
                } else {
                    p.countries
                        .iter()
                        .map(|c| c.code().to_string())
                        .collect::<Vec<_>>()
                        .join(",")
                };
                let kinds = if p.kinds.is_empty() {
                    "every kind".to_string()
                } else {
                    p.kinds.join(",")
                };
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    p.name, p.max_tlp, countries, p.url, p.public_key, kinds
                );
            }
        }
        PartnerCommand::Token { name, .. } => {
            let t = app.issue_partner_token(by, &name).await.map_err(tell)?;
            eprintln!("give this token to {name} (it is shown once):");
            println!("{t}");
        }
        PartnerCommand::PushToken { name, token, .. } => {
            let ck = contact_key(&cfg, &store).await?;
            let mut app = app;
            app.contact_key = Some(&ck);
            app.set_partner_push_token(by, &name, &token)
                .await
                .map_err(tell)?;
            println!("kept the token to push to {name}");
        }
        PartnerCommand::Remove { name, .. } => {
            app.remove_partner(by, &name).await.map_err(tell)?;
            println!("removed partner {name}");
        }
        PartnerCommand::Redact {
            name, rules, none, ..
        } => {
            if rules.is_empty() && !none {
                anyhow::bail!("name a rule (--rule place, date, actors, targeted_group, description) or --none");
            }
            let p = app
                .set_partner_redaction(by, &name, &rules)
                .await
                .map_err(tell)?;
            let rules: Vec<&str> = p.redact.iter().map(|r| r.as_str()).collect();
            println!(
                "{} now withholds: {}; preview and approve its terms before anything more is sent",
                p.name,
                if rules.is_empty() {
                    "nothing more".to_string()
                } else {
                    rules.join(", ")
                }
            );
        }
        PartnerCommand::Preview { name, .. } => {
            let v = app.preview_partner(by, &name).await.map_err(tell)?;
            let labels: Vec<String> = v.by_tlp.iter().map(|(t, n)| format!("{t} {n}")).collect();
            println!(
                "{}: {} incidents ({}), {} retractions; withholds: {}; {}",
                v.partner.name,
                v.incidents,
                labels.join(", "),
                v.retractions,
                if v.partner.redact.is_empty() {
                    "nothing more".to_string()
                } else {
                    v.partner
                        .redact
                        .iter()
                        .map(|r| r.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                },
                if v.partner.approved_at.is_some() {
                    "approved"
                } else {
                    "not approved"
                }
            );
            for i in &v.sample {
                println!("{}", serde_json::to_string(i)?);
            }
            let kinds: Vec<String> = v
                .items_by_kind
                .iter()
                .map(|(k, n)| format!("{} {n}", k.as_str()))
                .collect();
            println!(
                "other records: {}",
                if kinds.is_empty() {
                    "none".to_string()
                } else {
                    kinds.join(", ")
                }
            );
            println!("terms {}", v.digest);
        }
        PartnerCommand::Approve { name, terms, .. } => {
            let p = app.approve_partner(by, &name, &terms).await.map_err(tell)?;
            println!(
                "approved the terms of {}: records are sent from now on",
                p.name
            );
        }
        PartnerCommand::Group(GroupCommand::Add { name, members, .. }) => {
            let g = app
                .add_sharing_group(by, SharingGroupInput { name, members })
                .await
                .map_err(tell)?;
            println!("made sharing group {}: {}", g.name, g.members.join(", "));
        }
        PartnerCommand::Group(GroupCommand::Set { name, members, .. }) => {
            let g = app
                .set_sharing_group_members(by, &name, &members)
                .await
                .map_err(tell)?;
            println!("sharing group {}: {}", g.name, g.members.join(", "));
        }
        PartnerCommand::Group(GroupCommand::List { .. }) => {
            for g in app.sharing_groups(by).await.map_err(tell)? {
                println!("{}\t{}", g.name, g.members.join(", "));
            }
        }
        PartnerCommand::Group(GroupCommand::Remove { name, .. }) => {
            app.remove_sharing_group(by, &name).await.map_err(tell)?;
            println!("removed sharing group {name}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
