//! Tocsin's HTTP side: the JSON API under `/api/v1`, the server-rendered web UI and its
//! embedded assets, all in one axum router. It holds no SQL and decides no permission: handlers
//! parse their input, call a use case of [`tocsin_app`] (which decides who may do what and
//! reads and writes through the [`tocsin_store::Store`] trait) and translate its answer.

pub mod accounts;
pub mod actions;
pub mod alerts;
pub mod analysis;
pub mod api;
pub mod auth;
pub mod basemap;
pub mod broadcasts;
pub mod capflow;
pub mod channel_status;
pub mod channels;
pub mod edge;
pub mod error;
pub mod export;
pub mod files;
pub mod flags;
pub mod health;
pub mod imap;
pub mod incident_index;
pub mod input;
pub mod lexicon_terms;
pub mod lexicons;
pub mod login;
pub mod map;
pub mod matching;
pub mod monitor;
pub mod net;
pub mod notify;
pub mod partners;
pub mod ratelimit;
pub mod rumours;
pub mod share;
pub mod sms;
pub mod subscribers;
pub mod suggestions;
pub mod toolbox;
pub mod triage;
pub mod verification;
pub mod web;

use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue, StatusCode};
use axum::routing::get;
use axum::Router;
use std::future::Future;
use std::sync::Arc;
use tocsin_domain::ContactKey;
use tocsin_store::DynStore;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutBody, TimeoutLayer};

/// Everything a request handler needs.
#[derive(Clone)]
pub struct AppState {
    /// The store (any backend).
    pub store: DynStore,
    /// The key sealing source contact details.
    pub contact_key: Arc<ContactKey>,
    /// Token → user cache.
    pub tokens: Arc<auth::TokenCache>,
    /// Templates.
    pub templates: Arc<minijinja::Environment<'static>>,
    /// Send cookies with `Secure` (set when served over HTTPS).
    pub secure_cookies: bool,
    /// The in-memory index of every incident, behind map queries and incident lists.
    pub incident_index: Arc<incident_index::IncidentIndex>,
    /// SMS gateways.
    pub sms: Arc<sms::SmsConfig>,
    /// Wakes the outbox job when a message is queued.
    pub outbox_wake: Arc<tokio::sync::Notify>,
    /// The delivery layer (channels, clearance checks, the outbox's passes).
    pub delivery: Arc<tocsin_delivery::Delivery>,
    /// The background jobs' state, as the job runner reports it (`/healthz`).
    pub jobs: tocsin_jobs::Board,
    /// Rate limit of the public report form.
    pub limiter: Arc<ratelimit::Limiter>,
    /// The analysis frameworks loaded (the shipped ones and any configured); new assessments
    /// use the default (the UN 2014 one unless configured), existing ones their own.
    pub frameworks: Arc<tocsin_framework::Frameworks>,
    /// Reverse proxies whose `X-Forwarded-For` is believed (`[server] trusted_proxies`).
    pub trusted_proxies: Arc<Vec<ipnet::IpNet>>,
    /// Timeouts, the connection limit and HTTPS (`[server]`).
    pub edge: Arc<edge::Edge>,
    /// Failed-login counts per account and per client.
    pub logins: Arc<login::Throttle>,
    /// Argon2 on blocking threads, at most one check per core but one at once.
    pub hasher: Arc<login::Hasher>,
    /// How long new API tokens work unless told otherwise (`None`: until revoked).
    pub token_lifetime: Option<chrono::Duration>,
    /// The channels staff are paged through (kept in step with `delivery` by `with_sms`,
    /// `with_smtp` and `with_public_url`).
    pub channels: Arc<tocsin_app::notify::Channels>,
    /// Departments and acknowledgement defaults (`[organisation]`, `[alerts]`).
    pub alerting: Arc<tocsin_app::alerts::AlertSettings>,
    /// Who signs CAP messages and where their links point (`[cap]`, `[server] public_url`).
    pub cap_site: Arc<tocsin_app::cap::Site>,
    /// The base URL of the CAP site's links (the public URL, or `http://localhost`).
    pub cap_base: Arc<str>,
    /// This organisation's name, as its STIX bundles name it (`[organisation] name`).
    pub organisation_name: Arc<str>,
    /// Wakes the rule engine's job after a write this server served (`alerts::rules_job`).
    pub rules_wake: Arc<tokio::sync::Notify>,
    /// How much may be attached to reports (`[evidence]`).
    pub evidence: Arc<tocsin_app::files::EvidenceLimits>,
    /// The verification checklist (`[verification]`).
    pub verification: Arc<tocsin_app::verification::VerificationSettings>,
    /// Test phones and gateway paces of broadcasts (`[broadcasts]`).
    pub broadcasting: Arc<tocsin_app::broadcasts::BroadcastSettings>,
    /// The Telegram bot (`[channels.telegram]`), if configured.
    pub telegram: Option<Arc<tocsin_delivery::telegram::TelegramApi>>,
    /// WhatsApp's Cloud API (`[channels.whatsapp]`), if configured.
    pub whatsapp: Option<Arc<tocsin_delivery::whatsapp::WhatsappConfig>>,
    /// The mailbox the `imap` job reads (`[channels.imap]`: `host/mailbox`), if configured, for
    /// the channels' status.
    pub imap_mailbox: Option<Arc<str>>,
    /// The monitored feeds (`[[feeds]]`), polled by [`monitor::feed_jobs`].
    pub feeds: Arc<Vec<tocsin_app::monitor::FeedConfig>>,
}

impl AppState {
    /// State over a store and a contact key.
    pub fn new(store: DynStore, contact_key: ContactKey, secure_cookies: bool) -> AppState {
        let contact_key = Arc::new(contact_key);
        let delivery = Arc::new(tocsin_delivery::Delivery::new(
            store.clone(),
            contact_key.clone(),
            Arc::default(),
        ));
        AppState {
            store,
            contact_key,
            tokens: Arc::default(),
            templates: Arc::new(web::templates()),
            secure_cookies,
            incident_index: Arc::default(),
            sms: Arc::default(),
            outbox_wake: delivery.wake_handle(),
            delivery,
            jobs: tocsin_jobs::Board::default(),
            limiter: Arc::default(),
            frameworks: Arc::new(tocsin_framework::Frameworks::shipped()),
            trusted_proxies: Arc::default(),
            edge: Arc::default(),
            logins: Arc::default(),
            hasher: Arc::default(),
            token_lifetime: Some(chrono::Duration::days(accounts::TOKEN_DAYS)),
            channels: Arc::default(),
            alerting: Arc::default(),
            cap_site: Arc::new(
                tocsin_app::cap::Site::new(DEFAULT_CAP_SENDER, DEFAULT_CAP_BASE)
                    .expect("a valid default site"),
            ),
            cap_base: Arc::from(DEFAULT_CAP_BASE),
            organisation_name: Arc::from("Tocsin"),
            rules_wake: Arc::default(),
            evidence: Arc::default(),
            verification: Arc::default(),
            broadcasting: Arc::default(),
            telegram: None,
            whatsapp: None,
            imap_mailbox: None,
            feeds: Arc::default(),
        }
    }

    /// With these monitored feeds (`[[feeds]]`).
    pub fn with_feeds(mut self, feeds: Vec<tocsin_app::monitor::FeedConfig>) -> AppState {
        self.feeds = Arc::new(feeds);
        self
    }

    /// With these limits on evidence files (`[evidence]`).
    pub fn with_evidence_limits(mut self, limits: tocsin_app::files::EvidenceLimits) -> AppState {
        self.evidence = Arc::new(limits);
        self
    }

    /// With this organisation's name (`[organisation] name`), as shared records name it.
    pub fn with_organisation_name(mut self, name: &str) -> AppState {
        self.organisation_name = Arc::from(name.trim());
        self
    }

    /// With CAP messages signed by `site`, whose links start with `base_url`.
    pub fn with_cap_site(mut self, site: tocsin_app::cap::Site, base_url: &str) -> AppState {
        self.cap_site = Arc::new(site);
        self.cap_base = Arc::from(base_url.trim_end_matches('/'));
        self
    }

    /// The use cases (the application layer) over this state: every permission, clearance and
    /// workflow rule is decided there; handlers parse, call it and translate its answer.
    pub fn app(&self) -> tocsin_app::App<'_> {
        tocsin_app::App {
            store: &self.store,
            frameworks: &self.frameworks,
            incidents: self,
            contact_key: Some(&self.contact_key),
            token_lifetime: self.token_lifetime,
            hasher: &*self.hasher,
            channels: &self.channels,
            alerting: &self.alerting,
            verification: &self.verification,
            broadcasting: &self.broadcasting,
            cap_site: Some(&self.cap_site),
        }
    }

    /// How messages to sources leave this server: the SMS gateways configured and the
    /// messaging apps with a reply channel.
    pub fn reply_routes(&self) -> &dyn tocsin_app::sources::ReplyRoutes {
        self
    }

    /// The framework new assessments use.
    pub fn framework(&self) -> &tocsin_framework::Framework {
        self.frameworks.default_framework()
    }

    /// With these analysis frameworks loaded.
    pub fn with_frameworks(mut self, f: tocsin_framework::Frameworks) -> AppState {
        self.frameworks = Arc::new(f);
        self
    }

    /// With SMS gateways configured.
    pub fn with_sms(mut self, cfg: sms::SmsConfig) -> AppState {
        self.sms = Arc::new(cfg);
        let delivery = tocsin_delivery::Delivery::new(
            self.store.clone(),
            self.contact_key.clone(),
            self.sms.clone(),
        );
        self.delivery = Arc::new(self.with_chat_replies(delivery));
        self.outbox_wake = self.delivery.wake_handle();
        let mut ch = (*self.channels).clone();
        ch.sms_gateway = tocsin_delivery::reply_gateway(&self.sms, None);
        ch.default_region = self.sms.phone_region();
        if ch.public_url.is_none() {
            ch.public_url = self.sms.public_url.clone();
        }
        self.channels = Arc::new(ch);
        self
    }

    /// With e-mail over SMTP (`[notify.smtp]`) beside the SMS gateways (call after
    /// [`AppState::with_sms`]): staff are paged by e-mail too.
    pub fn with_smtp(self, channel: tocsin_delivery::smtp::SmtpChannel) -> AppState {
        self.with_channels(Some(channel), None)
    }

    /// With the notification channels beside SMS that are configured: e-mail (`[notify.smtp]`)
    /// and signed webhooks (`[[notify.webhooks]]`). Call after [`AppState::with_sms`].
    pub fn with_channels(
        mut self,
        smtp: Option<tocsin_delivery::smtp::SmtpChannel>,
        webhooks: Option<tocsin_delivery::webhook::WebhookChannel>,
    ) -> AppState {
        if smtp.is_none() && webhooks.is_none() {
            return self;
        }
        let mut delivery = tocsin_delivery::Delivery::new(
            self.store.clone(),
            self.contact_key.clone(),
            self.sms.clone(),
        );
        let mut ch = (*self.channels).clone();
        if let Some(smtp) = smtp {
            delivery = delivery.with_channel(Arc::new(smtp));
            ch.email = true;
        }
        if let Some(webhooks) = webhooks {
            delivery = delivery.with_channel(Arc::new(webhooks));
        }
        self.delivery = Arc::new(self.with_chat_replies(delivery));
        self.outbox_wake = self.delivery.wake_handle();
        self.channels = Arc::new(ch);
        self
    }

    /// With the signed webhook endpoints alerts are told to (`[[notify.webhooks]]`; their
    /// channel is given to [`AppState::with_channels`]): the application learns their names
    /// and limits, never their URLs or secrets.
    pub fn with_webhook_targets(
        mut self,
        hooks: &[tocsin_delivery::webhook::WebhookConfig],
    ) -> AppState {
        let mut ch = (*self.channels).clone();
        ch.webhooks = hooks
            .iter()
            .map(tocsin_app::notify::WebhookTarget::of)
            .collect();
        self.channels = Arc::new(ch);
        self
    }

    /// With the address browsers reach this server at, for links in notifications.
    pub fn with_public_url(mut self, url: Option<String>) -> AppState {
        if url.is_some() {
            let mut ch = (*self.channels).clone();
            ch.public_url = url;
            self.channels = Arc::new(ch);
        }
        self
    }

    /// With the Telegram bot (`[channels.telegram]`): its webhook answers (webhook mode) or
    /// [`channels::telegram_poll_job`] polls (poll mode), and replies go out through it. Call
    /// after [`AppState::with_sms`] and before [`AppState::with_channels`] (each rebuilds the
    /// delivery layer; `with_channels` keeps the bot's channel).
    pub fn with_telegram(mut self, cfg: tocsin_delivery::telegram::TelegramConfig) -> AppState {
        self.telegram = Some(Arc::new(tocsin_delivery::telegram::TelegramApi::new(cfg)));
        let delivery = tocsin_delivery::Delivery::new(
            self.store.clone(),
            self.contact_key.clone(),
            self.sms.clone(),
        );
        self.delivery = Arc::new(self.with_chat_replies(delivery));
        self.outbox_wake = self.delivery.wake_handle();
        self
    }

    /// With e-mail read over IMAP (`[channels.imap]`; the job itself is
    /// [`imap::imap_job`]): shown on the channels' status.
    pub fn with_imap(mut self, cfg: &tocsin_delivery::imap::ImapConfig) -> AppState {
        let mailbox = cfg.mailbox.as_deref().unwrap_or("INBOX");
        self.imap_mailbox = Some(Arc::from(format!("{}/{mailbox}", cfg.host)));
        self
    }

    /// With WhatsApp's Cloud API (`[channels.whatsapp]`): its webhook answers, and replies go
    /// out through it when an access token is configured. Call as [`AppState::with_telegram`].
    pub fn with_whatsapp(mut self, cfg: tocsin_delivery::whatsapp::WhatsappConfig) -> AppState {
        self.whatsapp = Some(Arc::new(cfg));
        let delivery = tocsin_delivery::Delivery::new(
            self.store.clone(),
            self.contact_key.clone(),
            self.sms.clone(),
        );
        self.delivery = Arc::new(self.with_chat_replies(delivery));
        self.outbox_wake = self.delivery.wake_handle();
        self
    }

    /// `delivery` with the messaging apps' reply channels configured here.
    fn with_chat_replies(&self, delivery: tocsin_delivery::Delivery) -> tocsin_delivery::Delivery {
        let mut delivery = delivery;
        if let Some(api) = &self.telegram {
            delivery =
                delivery.with_channel(Arc::new(tocsin_delivery::telegram::TelegramChannel::new(
                    (**api).clone(),
                    self.contact_key.clone(),
                )));
        }
        if let Some(cfg) = self.whatsapp.as_deref().filter(|c| c.replies()) {
            delivery =
                delivery.with_channel(Arc::new(tocsin_delivery::whatsapp::WhatsappChannel::new(
                    cfg.clone(),
                    self.contact_key.clone(),
                )));
        }
        delivery
    }

    /// With reverse proxies whose `X-Forwarded-For` is believed.
    pub fn with_trusted_proxies(mut self, nets: Vec<ipnet::IpNet>) -> AppState {
        self.trusted_proxies = Arc::new(nets);
        self
    }

    /// With the given timeouts, connection limit and HTTPS setting.
    pub fn with_edge(mut self, edge: edge::Edge) -> AppState {
        self.edge = Arc::new(edge);
        self
    }
}

/// The CAP sender when `[cap] sender` is not configured.
pub const DEFAULT_CAP_SENDER: &str = "tocsin@localhost";
/// The base of CAP links when `[server] public_url` is not configured.
pub const DEFAULT_CAP_BASE: &str = "http://localhost";

/// Incident lists come from the in-memory index (see [`incident_index::list_incidents`]).
#[async_trait::async_trait]
impl tocsin_app::IncidentLists for AppState {
    async fn list(
        &self,
        _store: &DynStore,
        f: &tocsin_domain::IncidentFilter,
        page: tocsin_domain::PageRequest,
    ) -> Result<tocsin_domain::Page<tocsin_domain::Incident>, tocsin_store::StoreError> {
        incident_index::list_incidents(self, f, page).await
    }

    async fn near(
        &self,
        _store: &DynStore,
        q: &tocsin_store::IncidentNear,
    ) -> Result<Vec<tocsin_domain::Incident>, tocsin_store::StoreError> {
        incident_index::near_incidents(self, q).await
    }

    async fn count(
        &self,
        _store: &DynStore,
        f: &tocsin_domain::IncidentFilter,
    ) -> Result<u64, tocsin_store::StoreError> {
        self.incident_index.refresh(&self.store).await?;
        Ok(self.incident_index.count(f))
    }

    async fn days(
        &self,
        store: &DynStore,
        q: &tocsin_store::DaysQuery,
    ) -> Result<Vec<tocsin_store::DayGroup>, tocsin_store::StoreError> {
        self.incident_index.refresh(store).await?;
        match self.incident_index.days(q) {
            Some(groups) => Ok(groups),
            // More admin-1 names than the index codes: the store answers.
            None => store.incident_days(q).await,
        }
    }
}

/// New passwords are hashed on blocking threads, at most one per core.
#[async_trait::async_trait]
impl tocsin_app::PasswordHasher for login::Hasher {
    async fn hash(&self, password: String) -> Result<String, tocsin_domain::DomainError> {
        login::Hasher::hash(self, password).await
    }
}

/// The whole application router.
pub fn router(state: AppState) -> Router {
    use axum::routing::{get as g, post};
    let edge = state.edge.clone();
    let api = Router::new()
        .route("/reports", g(api::list_reports).post(api::create_report))
        .route("/reports/{id}", g(api::get_report))
        .route(
            "/incidents",
            g(api::list_incidents).post(api::create_incident),
        )
        .route("/incidents/map", g(map::map))
        .route("/incidents/map/admin1", g(map::admin1))
        .route(
            "/incidents/{id}",
            g(api::get_incident).patch(api::update_incident),
        )
        .route("/sources", g(api::list_sources))
        .route("/sources/{id}", g(api::get_source))
        .route("/sources/{id}/contact", g(api::get_source_contact))
        .route(
            "/sources/{id}/messages",
            g(api::source_messages).post(api::message_source),
        )
        .route(
            "/situations",
            g(api::list_situations).post(api::create_situation),
        )
        .route(
            "/situations/{id}",
            g(api::get_situation).patch(api::update_situation),
        )
        .route("/situations/{id}/overview", g(analysis::get_overview))
        .route(
            "/situations/{id}/assessments",
            g(analysis::list_assessments).post(analysis::post_assessment),
        )
        .route(
            "/situations/{id}/factors/{n}/history",
            g(analysis::factor_history),
        )
        .route(
            "/situations/{id}/legal-qualifications",
            g(analysis::list_legal).post(analysis::post_legal),
        )
        .route(
            "/assessments/{id}",
            g(analysis::get_assessment).patch(analysis::patch_assessment),
        )
        .route("/assessments/{id}/review", post(analysis::review))
        .route("/assessments/{id}/publish", post(analysis::publish))
        .route("/assessments/{id}/return", post(analysis::send_back))
        .route(
            "/assessments/{id}/suggestions",
            g(analysis::get_suggestions).post(analysis::decide),
        )
        .route(
            "/incidents/{id}/tags",
            g(analysis::get_incident_tags).put(analysis::put_incident_tags),
        )
        .route(
            "/reports/{id}/tags",
            g(analysis::get_report_tags).put(analysis::put_report_tags),
        )
        .route("/signals", g(analysis::list_signals))
        .route("/forecasts/latest", g(analysis::latest_forecast))
        .route("/me", g(api::me))
        .route("/audit", g(api::audit))
        .route("/outbox", g(api::outbox_summary))
        .route("/export", g(export::export))
        .route("/toolbox", g(toolbox::list_toolbox))
        .route("/toolbox/{id}", g(toolbox::get_toolbox_record))
        .route("/openapi.json", g(api::openapi))
        .route(
            "/users",
            g(accounts::list_users).post(accounts::create_user),
        )
        .route("/users/{id}", g(notify::get_user).patch(notify::patch_user))
        .route("/inbox", g(notify::list_inbox))
        .route("/inbox/{id}/read", post(notify::mark_read))
        .route("/users/{id}/disable", post(accounts::disable_user))
        .route("/users/{id}/enable", post(accounts::enable_user))
        .route("/users/{id}/password", post(accounts::reset_password))
        .route(
            "/users/{id}/tokens",
            g(accounts::list_tokens).post(accounts::issue_token),
        )
        .route("/tokens/{id}/revoke", post(accounts::revoke_token))
        .merge(actions::routes())
        .merge(alerts::routes())
        .merge(capflow::api_routes())
        .merge(triage::routes())
        .merge(rumours::routes())
        .merge(subscribers::routes())
        .merge(suggestions::routes())
        .merge(files::routes(&state.evidence))
        .merge(verification::routes())
        .merge(matching::api_routes())
        .merge(broadcasts::routes())
        .merge(lexicons::routes())
        .merge(lexicon_terms::routes())
        .merge(flags::routes())
        .merge(channel_status::api_routes())
        .merge(monitor::routes())
        .merge(share::routes())
        .merge(partners::routes())
        .fallback(|| async { error::ApiError::not_found() })
        .layer(DefaultBodyLimit::max(input::MAX_BODY_BYTES));
    Router::new()
        .nest("/api/v1", api)
        .route("/healthz", get(health::healthz))
        .merge(capflow::public_routes())
        .merge(
            sms_routes(&state.evidence).layer(axum::middleware::from_fn_with_state(
                state.clone(),
                channel_status::count_refusals,
            )),
        )
        .merge(web::router(&state))
        .merge(basemap::router())
        .fallback(web::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            alerts::wake_rules,
        ))
        .layer(DefaultBodyLimit::max(input::MAX_BODY_BYTES))
        // The request timeout is on producing the response head (503 past it), so streamed
        // exports keep going; a client pausing longer than the header timeout while sending a
        // body has its request refused (400).
        .layer(
            tower::ServiceBuilder::new()
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::SERVICE_UNAVAILABLE,
                    edge.request_timeout,
                ))
                .layer(RequestBodyTimeoutLayer::new(edge.header_timeout))
                .map_request(|r: axum::extract::Request<TimeoutBody<Body>>| r.map(Body::new)),
        )
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        // Nothing Tocsin answers may be kept by a browser or proxy cache unless the handler
        // says so (only the static assets do): API answers and errors included.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            edge.https
                .then(|| HeaderValue::from_static("max-age=31536000")),
        ))
        .with_state(state)
}

/// The reporter-facing SMS endpoints. They keep no access log (nothing in Tocsin logs
/// requests) and answer `Cache-Control: no-store`.
fn sms_routes(evidence: &tocsin_app::files::EvidenceLimits) -> Router<AppState> {
    use axum::routing::{get as g, post};
    Router::new()
        .route("/sms/kannel", g(sms::kannel).post(sms::kannel))
        .route("/sms/kannel/dlr", g(sms::kannel_dlr))
        .route("/sms/twilio", post(sms::twilio))
        .route("/sms/twilio/status", post(sms::twilio_status))
        .route("/sms/africastalking", post(sms::africastalking))
        .route(
            "/sms/africastalking/delivery",
            post(sms::africastalking_delivery),
        )
        .route("/sms/frontlinesms", post(sms::frontlinesms))
        .route("/sms/smssync", g(sms::smssync_poll).post(sms::smssync))
        .route("/channels/telegram", post(channels::telegram_webhook))
        .route(
            "/channels/whatsapp",
            g(channels::whatsapp_verify).post(channels::whatsapp_webhook),
        )
        .merge(web::form::router(evidence))
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
}

/// Serve on `listener` until `shutdown` completes, then finish in-flight requests (see
/// [`edge`] for the timeouts and the connection limit).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let edge = state.edge.clone();
    edge::serve(listener, router(state), &edge, shutdown).await
}

impl tocsin_app::sources::ReplyRoutes for AppState {
    fn sms_gateway(&self, last_used: Option<&str>) -> Option<String> {
        sms::reply_gateway(&self.sms, last_used)
    }
    fn app_replies(&self, channel: &str) -> bool {
        matches!(channel, "telegram" | "whatsapp") && self.delivery.has_channel(channel)
    }
}
