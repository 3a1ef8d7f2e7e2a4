//! `tocsin serve` (the API, the web UI and the background jobs) and `tocsin demo`.

use anyhow::{Context, Result};
use clap::Args;
use std::process::ExitCode;

use super::common::{contact_key, open_store, settle};
use super::Global;
use crate::config::Overrides;
use crate::{demo, signals};

// The flags of `tocsin serve`.
#[derive(Args, Debug)]
pub struct ServeArgs {
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
}

/// How often leads of overdue actions are looked for (each is reminded once per due date).
const ACTION_REMINDER_EVERY: std::time::Duration = std::time::Duration::from_secs(300);
/// How often overdue rumours are looked for (each desk is told once per rumour and deadline).
const RUMOUR_REMINDER_EVERY: std::time::Duration = std::time::Duration::from_secs(60);
/// How long `tocsin serve` waits before its first scheduled signal run.
const SIGNALS_START_DELAY: std::time::Duration = std::time::Duration::from_secs(60);

/// `tocsin serve`: until SIGINT or SIGTERM, then a graceful stop of the server and the jobs.
pub async fn serve(g: &Global, args: ServeArgs) -> Result<ExitCode> {
    let ServeArgs {
        listen,
        demo,
        secure_cookies,
        signals_interval_minutes,
        public_url,
        trusted_proxies,
    } = args;
    let cfg = settle(
        g,
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
    cfg.notify
        .validate()
        .context("invalid [notify] configuration")?;
    let store = open_store(&cfg).await?;
    let key = contact_key(&cfg, &store).await?;
    if demo {
        demo::seed(&store, &key).await?;
    }
    let listener = tokio::net::TcpListener::bind(&cfg.listen)
        .await
        .with_context(|| format!("cannot listen on {}", cfg.listen))?;
    let addr = listener.local_addr()?;
    // Before serving, side by side: load the gazetteer (about half a second in a release
    // build, seconds in a debug one) and compile the enabled lexicons' scanner (longer the more
    // terms), which every message needs, and make the dummy password hash, so the first login
    // of an unknown or token-only user takes no longer than any other. Until the server says
    // it listens, calls wait in the socket's backlog; none waits behind this work after.
    let gazetteer =
        tokio::task::spawn_blocking(|| tocsin_geo::Gazetteer::global().prepare_reverse());
    let dummy = tokio::task::spawn_blocking(tocsin_domain::user::dummy_hash);
    if let Err(e) = tocsin_app::flags::compiled(&*store).await {
        tracing::warn!(error = %e, "the enabled lexicons could not be compiled at start; the first report will try again");
    }
    gazetteer.await?;
    dummy.await?;
    let mut state = tocsin_server::AppState::new(store.clone(), key, cfg.secure_cookies)
        .with_sms(cfg.sms.clone())
        .with_trusted_proxies(cfg.server.trusted_proxies.clone())
        .with_edge(cfg.server.edge.clone());
    state.token_lifetime = cfg.token_lifetime()?;
    state.alerting = std::sync::Arc::new(cfg.alert_settings()?);
    cfg.verification
        .validate()
        .map_err(anyhow::Error::msg)
        .context("invalid [verification] configuration")?;
    state.verification = std::sync::Arc::new(cfg.verification.clone());
    cfg.broadcasts
        .validate()
        .map_err(anyhow::Error::msg)
        .context("invalid [broadcasts] configuration")?;
    state.broadcasting = std::sync::Arc::new(cfg.broadcasts.clone());
    let smtp = match &cfg.notify.smtp {
        Some(smtp) => Some(
            tocsin_delivery::smtp::SmtpChannel::new(smtp, state.contact_key.clone())
                .map_err(anyhow::Error::msg)
                .context("invalid [notify.smtp] configuration")?,
        ),
        None => None,
    };
    let webhooks = if cfg.notify.webhooks.is_empty() {
        None
    } else {
        Some(
            tocsin_delivery::webhook::WebhookChannel::new(&cfg.notify.webhooks)
                .map_err(anyhow::Error::msg)
                .context("invalid [[notify.webhooks]] configuration")?,
        )
    };
    // Before `with_channels`, which keeps the bot's reply channel beside e-mail and webhooks.
    if let Some(tg) = &cfg.channels.telegram {
        tg.validate()
            .map_err(anyhow::Error::msg)
            .context("invalid [channels.telegram] configuration")?;
        state = state.with_telegram(tg.clone());
    }
    state = state.with_feeds(crate::config::feed_configs(&cfg.feeds)?);
    if let Some(wa) = &cfg.channels.whatsapp {
        wa.validate()
            .map_err(anyhow::Error::msg)
            .context("invalid [channels.whatsapp] configuration")?;
        state = state.with_whatsapp(wa.clone());
    }
    if let Some(imap) = &cfg.channels.imap {
        state = state.with_imap(imap);
    }
    state = state
        .with_channels(smtp, webhooks)
        .with_webhook_targets(&cfg.notify.webhooks);
    let state = state.with_public_url(cfg.server.public_url.clone());
    let (cap_site, cap_base) = cfg.cap_site()?;
    let state = state
        .with_cap_site(cap_site, &cap_base)
        .with_organisation_name(&cfg.organisation_name());
    let state = state.with_frameworks(cfg.analysis.frameworks()?);
    let state = state.with_evidence_limits(cfg.evidence.validated().map_err(anyhow::Error::msg)?);
    // Every background task runs on the job runner: the outbox, the incident index (loaded
    // now rather than on the first map or list request, then kept fresh) and the signal
    // schedule. It reports on the board /healthz reads.
    let mut runner = tocsin_jobs::Runner::new(store.clone()).with_board(state.jobs.clone());
    // The same lease owner as this data directory's last server (killed or not): a restart
    // takes its job leases over at once, e.g. the broadcast sender's, so a correction
    // approved just after it leaves within a second or two, not after the 30 s lease.
    // Without it (another process holds the lock, or the data directory is read-only or
    // absent, as it may be with PostgreSQL and the key in the configuration) the runner has a
    // random id and a restart waits the leases out, as before.
    match crate::ops::runner_owner(&cfg.data_dir) {
        Ok(Some(owner)) => runner = runner.with_owner(owner),
        Ok(None) => tracing::info!(
            "another tocsin process holds this data directory's runner lock; \
             job leases it held are waited out"
        ),
        Err(e) => tracing::warn!(
            error = %format!("{e:#}"),
            "no stable job-runner id; after a crash, job leases are waited out (30 s)"
        ),
    }
    let jobs = &cfg.jobs;
    runner.add(tocsin_server::health::outbox_job(
        &state,
        jobs.tolerance_for("outbox"),
    ));
    runner.add(tocsin_server::health::incident_index_job(
        &state,
        jobs.index_refresh,
        jobs.tolerance_for("incident-index"),
    ));
    runner.add(tocsin_server::actions::overdue_job(
        &state,
        ACTION_REMINDER_EVERY,
        jobs.tolerance_for("action-reminders"),
    ));
    runner.add(tocsin_server::rumours::overdue_job(
        &state,
        RUMOUR_REMINDER_EVERY,
        jobs.tolerance_for("rumour-reminders"),
    ));
    if let Some(job) =
        signals::schedule_job(store.clone(), cfg.signals.clone(), SIGNALS_START_DELAY)
    {
        runner.add(job.tolerance(jobs.tolerance_for("signals")));
    }
    if cfg.share_sync_minutes > 0 {
        runner.add(tocsin_server::partners::sync_job(
            &state,
            std::time::Duration::from_secs(cfg.share_sync_minutes * 60),
            jobs.tolerance_for("partner-sync"),
        ));
    }
    tocsin_server::alerts::register(&mut runner, &state);
    runner.add(tocsin_server::alerts::rules_job(
        &state,
        jobs.tolerance_for("rules"),
    ));
    runner.add(tocsin_server::broadcasts::sender_job(
        &state,
        jobs.tolerance_for("broadcasts"),
    ));
    if let Some(job) = tocsin_server::channels::telegram_poll_job(state.clone()) {
        runner.add(job.tolerance(jobs.tolerance_for("telegram")));
    }
    if let Some(imap) = &cfg.channels.imap {
        let job = tocsin_server::imap::imap_job(state.clone(), imap.clone())
            .map_err(anyhow::Error::msg)
            .context("invalid [channels.imap] configuration")?;
        runner.add(job.tolerance(jobs.tolerance_for("imap")));
    }
    for job in tocsin_server::monitor::feed_jobs(&state) {
        runner.add(job);
    }
    let running = runner.start();
    tracing::info!(%addr, database = %cfg.database_url, "tocsin is serving");
    println!("Tocsin is listening on http://{addr}/");
    tocsin_server::serve(listener, state, shutdown_signal()).await?;
    running.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

/// `tocsin demo`: seed the demo scenario (once) without serving.
pub async fn demo(g: &Global) -> Result<ExitCode> {
    let cfg = settle(g, Overrides::default())?;
    let store = open_store(&cfg).await?;
    let key = contact_key(&cfg, &store).await?;
    demo::seed(&store, &key).await?;
    Ok(ExitCode::SUCCESS)
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
