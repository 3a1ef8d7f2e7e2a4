//! `tocsin`: the one binary. `serve` runs the API, web UI and jobs; the other subcommands
//! administer the same data directory or database.

mod analysis;
mod config;
mod demo;
mod exchange;
mod ops;
mod signals;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tocsin_domain::{Actor, ApiToken, ContactKey, NewUser, Role};
use tocsin_store::{DynStore, Op, StoreExt};

use config::{Config, FileConfig, Overrides};

/// mimalloc: glibc's allocator spent a fifth of export and import time consolidating chunks.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Tocsin: atrocity early warning and response.
#[derive(Parser, Debug)]
#[command(name = "tocsin", version, about)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Debug)]
struct Global {
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
    Serve {
        /// Address to listen on.
        #[arg(long, env = "TOCSIN_LISTEN")]
        listen: Option<String>,
        /// Seed a fictional demo scenario (once) and print how to log in.
        #[arg(long, env = "TOCSIN_DEMO")]
        demo: bool,
        /// Mark cookies Secure (`--secure-cookies=false` to not; default: when the public URL
        /// is https).
        #[arg(long, env = "TOCSIN_SECURE_COOKIES", num_args = 0..=1, default_missing_value = "true",
              value_parser = clap::builder::BoolishValueParser::new())]
        secure_cookies: Option<bool>,
        /// Minutes between escalation-signal runs (0: none; `[signals] interval_minutes`).
        #[arg(long, env = "TOCSIN_SIGNALS_INTERVAL_MINUTES")]
        signals_interval_minutes: Option<u64>,
        /// This server's address as browsers reach it (`[server] public_url`).
        #[arg(long, env = "TOCSIN_PUBLIC_URL")]
        public_url: Option<String>,
        /// Reverse proxies whose X-Forwarded-For is believed, comma-separated networks
        /// (`[server] trusted_proxies`).
        #[arg(long, env = "TOCSIN_TRUSTED_PROXIES", value_delimiter = ',')]
        trusted_proxies: Option<Vec<ipnet::IpNet>>,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// The audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Seed the demo scenario (once) without serving.
    Demo,
    /// Show an analysis framework (the shipped UN 2014 one, or --file) with its verification
    /// marks; a file with broken numbering is refused.
    Framework {
        /// A framework definition file (TOML) to check and show instead.
        #[arg(long)]
        file: Option<PathBuf>,
    },
    /// Country-year forecasts: the Early Warning Project backtest, and ranked risks for a year.
    Forecast {
        /// With `run`: store the run (scores, ranks, top contributions) so situations show
        /// their country's rank and trend; prints the run's id.
        #[arg(long, global = true)]
        store: bool,
        #[command(subcommand)]
        command: tocsin_forecast::cli::ForecastCommand,
    },
    /// Escalation signals from the stored incidents.
    Signals {
        #[command(subcommand)]
        command: SignalsCommand,
    },
    /// Risk assessments of situations against an analysis framework, acting as a named user.
    Assess {
        #[command(subcommand)]
        command: analysis::AssessCommand,
    },
    /// Situations under watch.
    Situation {
        #[command(subcommand)]
        command: analysis::SituationCommand,
    },
    /// Import event data: ucdp (GED CSV or GeoJSON), acled, gdelt, hxl.
    Import {
        /// ucdp, acled, gdelt or hxl.
        format: String,
        /// The file.
        file: PathBuf,
        /// Provenance dataset name (default: the format's, e.g. ucdp-ged).
        #[arg(long)]
        dataset: Option<String>,
        /// TLP label of the imported incidents.
        #[arg(long, default_value = "TLP:CLEAR")]
        tlp: String,
        /// GDELT CAMEO root codes to keep, comma-separated.
        #[arg(long, default_value = "18,19,20", value_delimiter = ',')]
        gdelt_roots: Vec<u8>,
        /// Event type for HXL rows without #event+type (with --sub-event-type).
        #[arg(long, requires = "sub_event_type")]
        event_type: Option<String>,
        /// Sub-event type for HXL rows without #event+subtype.
        #[arg(long, requires = "event_type")]
        sub_event_type: Option<String>,
    },
    /// Export incidents as csv, geojson, hxl or acled (to standard output or --output).
    Export {
        /// csv, geojson, hxl or acled.
        #[arg(long)]
        format: String,
        /// Write here instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Highest TLP label exported (default: only TLP:CLEAR).
        #[arg(long, default_value = "TLP:CLEAR")]
        max_tlp: String,
        /// ISO 3166-1 alpha-3.
        #[arg(long)]
        country: Option<String>,
        /// Event date on or after (YYYY-MM-DD).
        #[arg(long)]
        from: Option<String>,
        /// Event date on or before (YYYY-MM-DD).
        #[arg(long)]
        to: Option<String>,
        /// min_lon,min_lat,max_lon,max_lat.
        #[arg(long)]
        bbox: Option<String>,
        /// ACLED event type.
        #[arg(long)]
        event_type: Option<String>,
        /// Verification status.
        #[arg(long)]
        verification_status: Option<String>,
    },
    /// API tokens by id.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Copy the SQLite store to a new file, consistently, while the server runs (never the
    /// contact key). PostgreSQL stores are copied with pg_dump.
    Backup {
        /// The file to create (refused if it exists).
        #[arg(long)]
        out: PathBuf,
    },
    /// Replace the SQLite store with a backup made by `tocsin backup`; refused while the store
    /// is in use. The replaced files are moved aside.
    Restore {
        /// The backup file.
        file: PathBuf,
        /// Replace an existing database.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Subcommand, Debug)]
enum UserCommand {
    /// Create a user; prints a new API token as the last line.
    Add {
        /// Login name.
        name: String,
        /// admin, analyst, desk_officer, monitor_coordinator or viewer.
        #[arg(long)]
        role: String,
        /// Read a password for browser login from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        /// How long the API token works: e.g. 90d, 12h or never (default `[auth]
        /// token_expiry_days`, 90 days).
        #[arg(long)]
        expires: Option<String>,
    },
    /// Issue another API token for an existing user; prints it as the last line.
    Token {
        /// Login name.
        name: String,
        /// How long it works: e.g. 90d, 12h or never (default `[auth] token_expiry_days`).
        #[arg(long)]
        expires: Option<String>,
    },
    /// List users.
    List,
    /// Grant a permission no role holds (`legal_qualify`, analysts only).
    Grant {
        /// Login name.
        name: String,
        /// The permission: legal_qualify.
        permission: String,
    },
    /// Take back a granted permission.
    RevokeGrant {
        /// Login name.
        name: String,
        /// The permission: legal_qualify.
        permission: String,
    },
    /// Disable a user: their tokens stop working and their browser sessions end at once.
    Disable {
        /// Login name.
        name: String,
    },
    /// Enable a disabled user (their ended sessions stay ended).
    Enable {
        /// Login name.
        name: String,
    },
    /// Set a user's password (read from standard input) and end their browser sessions.
    Password {
        /// Login name.
        name: String,
        /// Read the password from the first line of standard input (required).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// List a user's API tokens: id, name, created, expires, state (never a secret).
    Tokens {
        /// Login name.
        name: String,
    },
}

#[derive(Subcommand, Debug)]
enum TokenCommand {
    /// Revoke an API token (ids from `tocsin user tokens NAME`): it stops working at once.
    Revoke {
        /// The token's id.
        id: String,
    },
}

#[derive(Subcommand, Debug)]
enum SignalsCommand {
    /// Detect escalation signals in the stored incidents of the last weeks and record them;
    /// prints one line per signal and `N signals, M new`.
    Run {
        /// The day to run as of (YYYY-MM-DD; default today).
        #[arg(long)]
        as_of: Option<chrono::NaiveDate>,
        /// Weeks to report, ending with the week of --as-of (default `[signals] weeks`, 4).
        #[arg(long)]
        weeks: Option<u32>,
    },
}

#[derive(Subcommand, Debug)]
enum AuditCommand {
    /// Check the hash chain; exits non-zero and names the first broken entry if any.
    Verify,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    ops::private_umask();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TOCSIN_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, not in log files.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match run(Cli::parse()).await {
        Ok(code) => code,
        Err(e)
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            // The reader of our output went away (e.g. `| head`): not an error of ours.
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}

fn settle(g: &Global, o: Overrides) -> Result<Config> {
    let file = match &g.config {
        Some(p) => FileConfig::load(p)?,
        None => FileConfig::default(),
    };
    Ok(Config::resolve(
        file,
        Overrides {
            data_dir: g.data_dir.clone(),
            database_url: g.database_url.clone(),
            contact_key: std::env::var("TOCSIN_CONTACT_KEY").ok(),
            token_expiry_days: match std::env::var("TOCSIN_TOKEN_EXPIRY_DAYS") {
                Ok(v) => Some(v.trim().parse().with_context(|| {
                    format!("TOCSIN_TOKEN_EXPIRY_DAYS: expected a whole number of days, got {v:?}")
                })?),
                Err(_) => None,
            },
            contact_key_file: std::env::var_os("TOCSIN_CONTACT_KEY_FILE").map(PathBuf::from),
            ..o
        },
    ))
}

/// The user of that login name, or a clear error.
async fn user_named(store: &DynStore, name: &str) -> Result<tocsin_domain::User> {
    store
        .get_user_by_name(name)
        .await
        .with_context(|| format!("no user named {name:?}"))
}

/// Disable or enable the user of that login name.
async fn set_disabled(store: &DynStore, actor: &Actor, name: &str, disabled: bool) -> Result<()> {
    let user = user_named(store, name).await?;
    let op = Op::SetUserDisabled {
        user_id: user.id,
        disabled,
    };
    store.write(actor, op).await?;
    Ok(())
}

/// A password from the first line of standard input.
fn read_password_stdin() -> Result<String> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// "expires 2026-…" or "no expiry".
fn expiry_text(t: &ApiToken) -> String {
    t.expires_at.map_or("no expiry".into(), |e| {
        format!("expires {}", tocsin_domain::time::format(&e))
    })
}

/// Open the backend the URL names, creating the data directory for SQLite.
async fn open_store(cfg: &Config) -> Result<DynStore> {
    open_store_with(cfg, false).await
}

/// [`open_store`]; with `exclusive_imports`, a SQLite import takes the file for itself when
/// nothing else has it open (see `SqliteStore::exclusive_imports`).
async fn open_store_with(cfg: &Config, exclusive_imports: bool) -> Result<DynStore> {
    let url = &cfg.database_url.0;
    if let Some(db) = ops::sqlite_path(url) {
        ops::private_store(cfg, &db)?;
        ops::hold_shared(&db)?;
        let s = tocsin_store_sqlite::SqliteStore::open(url)
            .await
            .with_context(|| format!("cannot open {}", cfg.database_url))?
            .exclusive_imports(exclusive_imports);
        Ok(Arc::new(s))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let s = tocsin_store_postgres::PostgresStore::open(url)
            .await
            .with_context(|| match ops::tls_mode(url) {
                Some(mode) => format!(
                    "cannot open {} over TLS (sslmode={mode}; a CA file goes in sslrootcert=)",
                    cfg.database_url
                ),
                None => format!("cannot open {}", cfg.database_url),
            })?;
        Ok(Arc::new(s))
    } else {
        bail!(
            "unsupported database URL {}: use sqlite://FILE or postgres://…",
            cfg.database_url
        )
    }
}

/// The contact key: `contact_key` from configuration, or the file `contact_key_file` names
/// (which must exist), or `<data_dir>/contact.key`, created on first run only: while the
/// database holds sources, a missing key is an error, since a new one could not open their
/// sealed contact details.
async fn contact_key(cfg: &Config, store: &DynStore) -> Result<ContactKey> {
    let read = |path: &Path| -> Result<ContactKey> {
        #[cfg(unix)]
        if let Ok(m) = std::fs::metadata(path) {
            use std::os::unix::fs::PermissionsExt;
            if m.permissions().mode() & 0o077 != 0 {
                tracing::warn!(path = %path.display(), "the contact key file is readable by other users: chmod 600 it");
            }
        }
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the contact key {}", path.display()))?;
        ContactKey::from_hex(&text).with_context(|| format!("invalid key in {}", path.display()))
    };
    match (&cfg.contact_key, &cfg.contact_key_file) {
        (Some(_), Some(_)) => bail!("set contact_key or contact_key_file, not both"),
        (Some(k), None) => {
            return ContactKey::from_hex(&k.0).context("invalid contact_key in configuration")
        }
        (None, Some(path)) if path.exists() => return read(path),
        (None, Some(path)) => bail!(
            "contact_key_file {} does not exist. Tocsin makes no new key there: a new key \
             would leave every sealed contact unreadable. Point the setting at your key, or \
             for a new installation create one (64 hex characters, mode 0600), e.g. \
             `openssl rand -hex 32 > {}`",
            path.display(),
            path.display()
        ),
        (None, None) => {}
    }
    let path = cfg.data_dir.join("contact.key");
    if path.exists() {
        return read(&path);
    }
    let sources = store.counts().await?.sources;
    if sources > 0 {
        bail!(
            "the contact key {} is missing, but the database holds {sources} sources whose \
             contact details it sealed: put the key back (from where it is kept apart from the \
             database) or set contact_key_file; a new key could not open them",
            path.display()
        );
    }
    ops::private_dir(&cfg.data_dir)?;
    let key = ContactKey::generate();
    write_private(&path, &key.to_hex())?;
    tracing::info!(path = %path.display(), "created a new contact-details key; keep a copy apart from the database and its backups");
    Ok(key)
}

fn write_private(path: &Path, contents: &str) -> Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(contents.as_bytes())?;
    f.sync_all()?;
    Ok(())
}

async fn run(cli: Cli) -> Result<std::process::ExitCode> {
    use std::process::ExitCode;
    match cli.command {
        Command::Serve {
            listen,
            demo,
            secure_cookies,
            signals_interval_minutes,
            public_url,
            trusted_proxies,
        } => {
            let cfg = settle(
                &cli.global,
                Overrides {
                    listen,
                    secure_cookies,
                    signals_interval_minutes,
                    public_url,
                    trusted_proxies,
                    ..Default::default()
                },
            )?;
            cfg.signals
                .detector
                .validate()
                .context("invalid [signals] configuration")?;
            cfg.sms
                .validate()
                .map_err(anyhow::Error::msg)
                .context("refusing to start with an unauthenticated SMS gateway")?;
            cfg.server.validate()?;
            let store = open_store(&cfg).await?;
            let key = contact_key(&cfg, &store).await?;
            if demo {
                demo::seed(&store, &key).await?;
            }
            let listener = tokio::net::TcpListener::bind(&cfg.listen)
                .await
                .with_context(|| format!("cannot listen on {}", cfg.listen))?;
            let addr = listener.local_addr()?;
            tracing::info!(%addr, database = %cfg.database_url, "tocsin is serving");
            println!("Tocsin is listening on http://{addr}/");
            // Load the gazetteer before the first message needs it (about half a second), so
            // no request waits for it.
            tokio::task::spawn_blocking(|| tocsin_geo::Gazetteer::global().prepare_reverse())
                .await?;
            // Make the dummy password hash now, so the first login of an unknown or
            // token-only user takes no longer than any other.
            tokio::task::spawn_blocking(tocsin_domain::user::dummy_hash).await?;
            let mut state = tocsin_server::AppState::new(store.clone(), key, cfg.secure_cookies)
                .with_sms(cfg.sms.clone())
                .with_trusted_proxies(cfg.server.trusted_proxies.clone())
                .with_edge(cfg.server.edge.clone());
            state.token_lifetime = cfg.token_lifetime()?;
            let state = state.with_frameworks(cfg.analysis.frameworks()?);
            let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
            let schedule = signals::spawn_schedule(
                store.clone(),
                cfg.signals.clone(),
                SIGNALS_START_DELAY,
                stop_rx.clone(),
            );
            let outbox = tokio::spawn(tocsin_server::sms::run_outbox(state.clone(), stop_rx));
            // Load the map index now (a few seconds per million incidents) rather than on the
            // first map request; a request that comes earlier waits for this load to finish.
            let (map, map_store) = (state.map.clone(), store.clone());
            tokio::spawn(async move {
                if let Err(e) = map.refresh(&map_store).await {
                    tracing::warn!(error = %e, "could not load the map index; the first map query will");
                }
            });
            tocsin_server::serve(listener, state, shutdown_signal()).await?;
            let _ = stop_tx.send(true);
            let _ = outbox.await;
            if let Some(s) = schedule {
                let _ = s.await;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            let cfg = settle(&cli.global, Overrides::default())?;
            let store = open_store(&cfg).await?;
            store.migrate().await?;
            println!("migrations applied to {}", cfg.database_url);
            Ok(ExitCode::SUCCESS)
        }
        Command::Framework { file } => {
            let f = match file {
                Some(p) => {
                    let text = std::fs::read_to_string(&p)
                        .with_context(|| format!("cannot read {}", p.display()))?;
                    tocsin_framework::Framework::parse(&text)
                        .with_context(|| format!("{} is refused", p.display()))?
                }
                None => tocsin_framework::Framework::un_2014(),
            };
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            writeln!(out, "{} ({}, {})", f.name, f.publisher, f.edition)?;
            for rf in &f.risk_factors {
                writeln!(out, "{}. {} [{}]", rf.number, rf.name, rf.group)?;
                for i in &rf.indicators {
                    writeln!(out, "  {} ({}) {}", i.number, i.status.mark(), i.text)?;
                }
                for g in &rf.gaps {
                    writeln!(out, "  gap: {g}")?;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo => {
            let cfg = settle(&cli.global, Overrides::default())?;
            let store = open_store(&cfg).await?;
            let key = contact_key(&cfg, &store).await?;
            demo::seed(&store, &key).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Forecast {
            store: false,
            command,
        } => {
            tocsin_forecast::cli::execute(command, &mut std::io::stdout().lock())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Forecast {
            store: true,
            command:
                tocsin_forecast::cli::ForecastCommand::Run {
                    data,
                    year,
                    top,
                    contributions,
                    json,
                },
        } => {
            let cfg = settle(&cli.global, Overrides::default())?;
            let store = open_store(&cfg).await?;
            let ds = tocsin_forecast::data::Dataset::load(&data)?;
            let r = tocsin_forecast::run::run(
                &ds,
                year,
                &tocsin_forecast::model::ModelConfig::default(),
            )?;
            {
                use std::io::Write;
                let mut out = std::io::stdout().lock();
                if json {
                    writeln!(out, "{}", serde_json::to_string_pretty(&r)?)?;
                } else {
                    tocsin_forecast::cli::write_run(&r, top, contributions, &mut out)?;
                }
            }
            print!("{}", analysis::store_forecast(&store, &r, &data).await?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Forecast { store: true, .. } => {
            bail!("--store applies to `tocsin forecast run` only")
        }
        Command::Signals {
            command: SignalsCommand::Run { as_of, weeks },
        } => {
            let cfg = settle(&cli.global, Overrides::default())?;
            let store = open_store(&cfg).await?;
            let as_of = as_of.unwrap_or_else(|| tocsin_domain::time::now().date_naive());
            let weeks = weeks.unwrap_or(cfg.signals.weeks);
            if weeks == 0 {
                bail!("--weeks must be at least 1");
            }
            let (found, new) =
                signals::run_once(&store, &cfg.signals.detector, as_of, weeks).await?;
            for s in &found {
                println!("{} {} {}", s.week_start, s.severity, s.explanation);
            }
            println!(
                "{} signal{} in the {weeks} week{} up to {as_of}, {new} new",
                found.len(),
                if found.len() == 1 { "" } else { "s" },
                if weeks == 1 { "" } else { "s" },
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Assess { command } => {
            if let analysis::AssessCommand::Template { framework } = &command {
                // Needs no database.
                let fw = analysis::load_framework(framework.as_deref())?;
                print!("{}", analysis::template(&fw));
                return Ok(ExitCode::SUCCESS);
            }
            let cfg = settle(&cli.global, Overrides::default())?;
            let store = open_store(&cfg).await?;
            print!("{}", analysis::assess(&store, command).await?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Situation { command } => {
            let cfg = settle(&cli.global, Overrides::default())?;
            let store = open_store(&cfg).await?;
            print!("{}", analysis::situation(&store, command).await?);
            Ok(ExitCode::SUCCESS)
        }
        Command::User { command } => {
            let cfg = settle(&cli.global, Overrides::default())?;
            let store = open_store(&cfg).await?;
            let actor = Actor::system("cli");
            match command {
                UserCommand::Add {
                    name,
                    role,
                    password_stdin,
                    expires,
                } => {
                    let role = Role::parse(&role)?;
                    let lifetime = cfg.token_lifetime_or(expires.as_deref())?;
                    let password = if password_stdin {
                        Some(read_password_stdin()?)
                    } else {
                        None
                    };
                    let user = NewUser::build(&name, role, password.as_deref())?;
                    let user = store.create_user(&actor, user).await.map_err(|e| match e {
                        tocsin_store::StoreError::Conflict(_) => {
                            anyhow::anyhow!("a user named {name:?} already exists")
                        }
                        e => e.into(),
                    })?;
                    println!(
                        "created user {} ({}, clearance {})",
                        user.username, user.role, user.clearance
                    );
                    let (token, secret) = ApiToken::generate(user.id, "cli", lifetime);
                    store.write(&actor, Op::CreateToken(token.clone())).await?;
                    println!(
                        "API token {} ({}; shown once; use as Authorization: Bearer TOKEN):",
                        token.id,
                        expiry_text(&token)
                    );
                    println!("{secret}");
                }
                UserCommand::Token { name, expires } => {
                    let lifetime = cfg.token_lifetime_or(expires.as_deref())?;
                    let user = user_named(&store, &name).await?;
                    let (token, secret) = ApiToken::generate(user.id, "cli", lifetime);
                    store.write(&actor, Op::CreateToken(token.clone())).await?;
                    eprintln!("API token {} ({})", token.id, expiry_text(&token));
                    println!("{secret}");
                }
                UserCommand::List => {
                    for u in store.list_users().await? {
                        println!(
                            "{}\t{}\t{}{}{}",
                            u.username,
                            u.role,
                            u.clearance,
                            if u.disabled { "\tdisabled" } else { "" },
                            if u.grants.is_empty() {
                                String::new()
                            } else {
                                format!("\tgrants: {}", u.grants_text())
                            }
                        );
                    }
                }
                UserCommand::Grant { name, permission } => {
                    print!(
                        "{}",
                        analysis::grant(&store, &name, &permission, true).await?
                    );
                }
                UserCommand::RevokeGrant { name, permission } => {
                    print!(
                        "{}",
                        analysis::grant(&store, &name, &permission, false).await?
                    );
                }
                UserCommand::Disable { name } => {
                    set_disabled(&store, &actor, &name, true).await?;
                    println!("{name} disabled: tokens refused, browser sessions ended");
                }
                UserCommand::Enable { name } => {
                    set_disabled(&store, &actor, &name, false).await?;
                    println!("{name} enabled");
                }
                UserCommand::Password { name, .. } => {
                    let user = user_named(&store, &name).await?;
                    let hash = tocsin_domain::user::hash_password(&read_password_stdin()?)?;
                    let op = Op::SetPassword {
                        user_id: user.id,
                        password_hash: tocsin_store::Redacted(hash),
                    };
                    store.write(&actor, op).await?;
                    println!("password set for {}; browser sessions ended", user.username);
                }
                UserCommand::Tokens { name } => {
                    let user = user_named(&store, &name).await?;
                    let now = tocsin_domain::time::now();
                    println!("id\tname\tcreated\texpires\tstate");
                    for t in store.list_tokens(user.id).await? {
                        println!(
                            "{}\t{}\t{}\t{}\t{}",
                            t.id,
                            t.name,
                            tocsin_domain::time::format(&t.created_at),
                            t.expires_at
                                .map_or("never".into(), |e| tocsin_domain::time::format(&e)),
                            if t.revoked {
                                "revoked"
                            } else if !t.is_live(now) {
                                "expired"
                            } else {
                                "live"
                            }
                        );
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Token {
            command: TokenCommand::Revoke { id },
        } => {
            let cfg = settle(&cli.global, Overrides::default())?;
            let store = open_store(&cfg).await?;
            let id = uuid::Uuid::parse_str(id.trim()).map_err(|_| {
                anyhow::anyhow!("{id:?} is not a token id (see `tocsin user tokens NAME`)")
            })?;
            store
                .write(&Actor::system("cli"), Op::RevokeToken(id))
                .await
                .map_err(|e| match e {
                    tocsin_store::StoreError::NotFound => anyhow::anyhow!("no token with id {id}"),
                    e => e.into(),
                })?;
            println!("token {id} revoked");
            Ok(ExitCode::SUCCESS)
        }
        Command::Import {
            format,
            file,
            dataset,
            tlp,
            gdelt_roots,
            event_type,
            sub_event_type,
        } => {
            let cfg = settle(&cli.global, Overrides::default())?;
            let format = tocsin_exchange::Format::parse(&format)?;
            let mut opts = tocsin_exchange::ImportOptions::new(format);
            if let Some(d) = dataset {
                opts.dataset = d;
            }
            opts.tlp = tlp.parse()?;
            opts.gdelt_roots = gdelt_roots;
            opts.default_event_type = event_type.zip(sub_event_type);
            let store = open_store_with(&cfg, true).await?;
            let started = std::time::Instant::now();
            let summary = exchange::import(&store, format, &file, opts, geo()).await?;
            print!("{summary}");
            let secs = started.elapsed().as_secs_f64();
            println!(
                "took {secs:.1} s ({:.0} rows/s)",
                summary.read as f64 / secs.max(1e-9)
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Export {
            format,
            output,
            max_tlp,
            country,
            from,
            to,
            bbox,
            event_type,
            verification_status,
        } => {
            let cfg = settle(&cli.global, Overrides::default())?;
            let format = tocsin_exchange::ExportFormat::parse(&format)?;
            let q = tocsin_server::api::IncidentQuery {
                country,
                from,
                to,
                bbox,
                event_type,
                verification_status,
                ..Default::default()
            };
            let (filter, _) = q.to_filter(max_tlp.parse()?)?;
            let store = open_store(&cfg).await?;
            let n = match output {
                Some(p) => {
                    let f = std::fs::File::create(&p)
                        .with_context(|| format!("cannot create {}", p.display()))?;
                    exchange::export(&store, format, &filter, f).await?
                }
                None => exchange::export(&store, format, &filter, std::io::stdout().lock()).await?,
            };
            eprintln!("exported {n} incidents");
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit {
            command: AuditCommand::Verify,
        } => {
            let cfg = settle(&cli.global, Overrides::default())?;
            let store = open_store(&cfg).await?;
            match store.verify_audit().await? {
                Ok(n) => {
                    println!("audit chain intact: {n} entries verified");
                    Ok(ExitCode::SUCCESS)
                }
                Err(b) => {
                    println!("AUDIT CHAIN BROKEN at entry {}: {}", b.seq, b.reason);
                    Ok(ExitCode::from(1))
                }
            }
        }
        Command::Backup { out } => {
            let cfg = settle(&cli.global, Overrides::default())?;
            print!("{}", ops::backup(&cfg, &out).await?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Restore { file, force } => {
            let cfg = settle(&cli.global, Overrides::default())?;
            print!("{}", ops::restore(&cfg, &file, force).await?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// How long `tocsin serve` waits before its first scheduled signal run.
const SIGNALS_START_DELAY: std::time::Duration = std::time::Duration::from_secs(60);

/// Place names and codes for importers.
fn geo() -> Arc<dyn tocsin_exchange::Geo + Send + Sync> {
    Arc::new(exchange::Gazetteer)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
