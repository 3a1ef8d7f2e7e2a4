//! `tocsin`: the one binary. `serve` runs the API, web UI and jobs; the other subcommands
//! administer the same data directory or database.

mod config;
mod demo;
mod exchange;

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
        /// Mark cookies Secure (set when served over HTTPS).
        #[arg(long, env = "TOCSIN_SECURE_COOKIES")]
        secure_cookies: bool,
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
        #[command(subcommand)]
        command: tocsin_forecast::cli::ForecastCommand,
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
    },
    /// Issue another API token for an existing user; prints it as the last line.
    Token {
        /// Login name.
        name: String,
    },
    /// List users.
    List,
}

#[derive(Subcommand, Debug)]
enum AuditCommand {
    /// Check the hash chain; exits non-zero and names the first broken entry if any.
    Verify,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TOCSIN_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
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
            ..o
        },
    ))
}

/// Open the backend the URL names, creating the data directory for SQLite.
async fn open_store(cfg: &Config) -> Result<DynStore> {
    let url = &cfg.database_url.0;
    if url.starts_with("sqlite:") {
        std::fs::create_dir_all(&cfg.data_dir)
            .with_context(|| format!("cannot create data directory {}", cfg.data_dir.display()))?;
        if let Some(parent) = url
            .trim_start_matches("sqlite://")
            .trim_start_matches("sqlite:")
            .split('?')
            .next()
            .map(Path::new)
            .and_then(Path::parent)
        {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent)?;
            }
        }
        let s = tocsin_store_sqlite::SqliteStore::open(url)
            .await
            .with_context(|| format!("cannot open {}", cfg.database_url))?;
        Ok(Arc::new(s))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let s = tocsin_store_postgres::PostgresStore::open(url)
            .await
            .with_context(|| format!("cannot open {}", cfg.database_url))?;
        Ok(Arc::new(s))
    } else {
        bail!(
            "unsupported database URL {}: use sqlite://FILE or postgres://…",
            cfg.database_url
        )
    }
}

/// The contact key from configuration, or `<data_dir>/contact.key`, created on first run.
fn contact_key(cfg: &Config) -> Result<ContactKey> {
    if let Some(k) = &cfg.contact_key {
        return ContactKey::from_hex(&k.0).context("invalid contact_key in configuration");
    }
    let path = cfg.data_dir.join("contact.key");
    if path.exists() {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        return ContactKey::from_hex(&text)
            .with_context(|| format!("invalid key in {}", path.display()));
    }
    std::fs::create_dir_all(&cfg.data_dir)?;
    let key = ContactKey::generate();
    write_private(&path, &key.to_hex())?;
    tracing::info!(path = %path.display(), "created a new contact-details key; back it up with the database");
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
        } => {
            let cfg = settle(
                &cli.global,
                Overrides {
                    listen,
                    secure_cookies: secure_cookies.then_some(true),
                    ..Default::default()
                },
            )?;
            let store = open_store(&cfg).await?;
            let key = contact_key(&cfg)?;
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
            let state = tocsin_server::AppState::new(store, key, cfg.secure_cookies)
                .with_sms(cfg.sms.clone());
            let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
            let outbox = tokio::spawn(tocsin_server::sms::run_outbox(state.clone(), stop_rx));
            tocsin_server::serve(listener, state, shutdown_signal()).await?;
            let _ = stop_tx.send(true);
            let _ = outbox.await;
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
            let key = contact_key(&cfg)?;
            demo::seed(&store, &key).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Forecast { command } => {
            tocsin_forecast::cli::execute(command, &mut std::io::stdout().lock())?;
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
                } => {
                    let role = Role::parse(&role)?;
                    let password = if password_stdin {
                        let mut line = String::new();
                        std::io::stdin().read_line(&mut line)?;
                        Some(line.trim_end_matches(['\r', '\n']).to_string())
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
                    let (token, secret) = ApiToken::generate(user.id, "cli");
                    store.write(&actor, Op::CreateToken(token)).await?;
                    println!("API token (shown once; use as Authorization: Bearer TOKEN):");
                    println!("{secret}");
                }
                UserCommand::Token { name } => {
                    let user = store
                        .get_user_by_name(&name)
                        .await
                        .with_context(|| format!("no user named {name:?}"))?;
                    let (token, secret) = ApiToken::generate(user.id, "cli");
                    store.write(&actor, Op::CreateToken(token)).await?;
                    println!("{secret}");
                }
                UserCommand::List => {
                    for u in store.list_users().await? {
                        println!(
                            "{}\t{}\t{}{}",
                            u.username,
                            u.role,
                            u.clearance,
                            if u.disabled { "\tdisabled" } else { "" }
                        );
                    }
                }
            }
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
            let store = open_store(&cfg).await?;
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
    }
}

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
