//! The command line: the global options, the subcommands, and one module per subcommand
//! family. Each family module holds its clap definitions and runs them; [`common`] opens the
//! configuration, the store and the contact key for all of them.

mod action;
mod admin;
mod alerting;
mod assess;
mod brief;
mod common;
mod exchange;
mod file;
mod forecast;
mod framework;
mod incident;
mod lexicon;
mod metrics;
mod monitor;
mod partner;
mod rumour;
mod serve;
mod share;
mod signals;
mod situation;
mod user;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

pub use common::exit_code;

/// Tocsin: atrocity early warning and response.
#[derive(Parser, Debug)]
#[command(name = "tocsin", version, about)]
pub struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Debug)]
pub struct Global {
    /// Data directory (SQLite file, contact key).
    #[arg(long, global = true, env = "TOCSIN_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Database URL: `sqlite://FILE` or `postgres://USER:PASS@HOST/DB`.
    #[arg(
        long,
        global = true,
        env = "TOCSIN_DATABASE_URL",
        hide_env_values = true
    )]
    database_url: Option<String>,
    /// TOML configuration file.
    #[arg(long, global = true, env = "TOCSIN_CONFIG")]
    config: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the HTTP API, web UI and background jobs.
    Serve(serve::ServeArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Manage users.
    User {
        #[command(subcommand)]
        command: user::UserCommand,
    },
    /// The audit trail.
    Audit {
        #[command(subcommand)]
        command: admin::AuditCommand,
    },
    /// Seed the demo scenario (once) without serving.
    Demo,
    /// Show an analysis framework (the shipped UN 2014 one, or --file) with its verification
    /// marks; a file with broken numbering is refused.
    Framework(framework::FrameworkArgs),
    /// Country-year forecasts: the Early Warning Project backtest, and ranked risks for a year.
    Forecast(forecast::ForecastArgs),
    /// Escalation signals from the stored incidents.
    Signals {
        #[command(subcommand)]
        command: signals::SignalsCommand,
    },
    /// Risk assessments of situations against an analysis framework, acting as a named user.
    Assess {
        #[command(subcommand)]
        command: assess::AssessCommand,
    },
    /// Incidents, recorded and changed as a named user with the API's rules.
    Incident {
        #[command(subcommand)]
        command: incident::IncidentCommand,
    },
    /// Actions of situations' plans (from the prevention toolbox), as a named user.
    Action {
        #[command(subcommand)]
        command: action::ActionCommand,
    },
    /// Flow metrics: evidence → alert → acknowledgement → first action, per desk and
    /// situation.
    Metrics(metrics::MetricsArgs),
    /// Situations under watch.
    Situation {
        #[command(subcommand)]
        command: situation::SituationCommand,
    },
    /// Import event data: [FORMAT] FILE, FORMAT ucdp (GED CSV or GeoJSON), acled, gdelt or
    /// hxl (sniffed when left out); .gz and .zip read as they are. Exits 1 when some rows
    /// were rejected, 2 when nothing was imported.
    Import(exchange::ImportArgs),
    /// Export incidents as csv, geojson, hxl or acled (to standard output or --output).
    Export(exchange::ExportArgs),
    /// API tokens by id.
    Token {
        #[command(subcommand)]
        command: user::TokenCommand,
    },
    /// Copy the SQLite store to a new file, consistently, while the server runs (never the
    /// contact key). PostgreSQL stores are copied with pg_dump.
    Backup(admin::BackupArgs),
    /// Replace the SQLite store with a backup made by `tocsin backup`; refused while the store
    /// is in use. The replaced files are moved aside.
    Restore(admin::RestoreArgs),
    /// Desks and their escalation policies, acting as a named user.
    Desk {
        #[command(subcommand)]
        command: alerting::DeskCommand,
    },
    /// Alert rules, acting as a named user.
    Rule {
        #[command(subcommand)]
        command: alerting::RuleCommand,
    },
    /// Alerts: list, raise by hand, acknowledge, escalate, decide, close.
    Alert {
        #[command(subcommand)]
        command: alerting::AlertCommand,
    },
    /// Rumours and their sightings, as a named user.
    Rumour {
        #[command(subcommand)]
        command: rumour::RumourCommand,
    },
    /// Evidence files of reports; the release of a sealed original, recorded in its custody
    /// log.
    File {
        #[command(subcommand)]
        command: file::FileCommand,
    },
    /// A brief for decision-makers on a situation (PDF or HTML, en/fr/sw/ar), filtered for
    /// the audience's clearance; terminology warnings on standard error.
    Brief(brief::BriefArgs),
    /// Dangerous-speech lexicons: import, evaluate on a labelled sample, enable, disable,
    /// list.
    Lexicon {
        #[command(subcommand)]
        command: lexicon::LexiconCommand,
    },
    /// Monitored posts: import an archive (Telegram export, JSONL, CSV) as monitored items.
    Monitor {
        #[command(subcommand)]
        command: monitor::MonitorCommand,
    },
    /// Partner organisations (another organisation's Tocsin) this one shares signed bundles
    /// with: `add`, `list`, `remove` (admins).
    Partner {
        #[command(subcommand)]
        command: partner::PartnerCommand,
    },
    /// Share with other organisations: this installation's public key (`key`), signed bundles
    /// for a partner out (`export`) and in (`import`), STIX 2.1 bundles out (`stix`) and in
    /// (`import-stix`).
    Share {
        #[command(subcommand)]
        command: share::ShareCommand,
    },
    /// Check the configuration and that every desk's escalation policy reaches someone at
    /// every step; names the steps that reach nobody and exits 5.
    Check,
}

/// Run one parsed command line; the exit code on success (`audit verify` exits 1 on a broken
/// chain), an error to print otherwise.
pub async fn run(cli: Cli) -> Result<ExitCode> {
    let g = &cli.global;
    match cli.command {
        Command::Serve(args) => serve::serve(g, args).await,
        Command::Demo => serve::demo(g).await,
        Command::Migrate => admin::migrate(g).await,
        Command::Audit { command } => admin::audit(g, command).await,
        Command::Backup(args) => admin::backup(g, args).await,
        Command::Restore(args) => admin::restore(g, args).await,
        Command::User { command } => user::user(g, command).await,
        Command::Token { command } => user::token(g, command).await,
        Command::Framework(args) => framework::show(args),
        Command::Forecast(args) => forecast::forecast(g, args).await,
        Command::Signals { command } => signals::run(g, command).await,
        Command::Assess { command } => assess::run(g, command).await,
        Command::Situation { command } => situation::run(g, command).await,
        Command::Action { command } => action::run(g, command).await,
        Command::Metrics(args) => metrics::run(g, args).await,
        Command::Incident { command } => incident::run(g, command).await,
        Command::Import(args) => exchange::import(g, args).await,
        Command::Export(args) => exchange::export(g, args).await,
        Command::Desk { command } => alerting::desk(g, command).await,
        Command::Rule { command } => alerting::rule(g, command).await,
        Command::Alert { command } => alerting::alert(g, command).await,
        Command::Check => alerting::check(g).await,
        Command::Rumour { command } => rumour::run(g, command).await,
        Command::File { command } => file::run(g, command).await,
        Command::Brief(args) => brief::run(g, args).await,
        Command::Lexicon { command } => lexicon::run(g, command).await,
        Command::Monitor { command } => monitor::run(g, command).await,
        Command::Share { command } => share::run(g, command).await,
        Command::Partner { command } => partner::run(g, command).await,
    }
}
