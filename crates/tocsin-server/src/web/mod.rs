//! The server-rendered web UI, one module per page family, each with its own router merged
//! here: [`login`] (sign in and out), [`incidents`], [`reports`], [`map`], [`analysis`]
//! (situations, assessments, the framework), [`records`] (signals, forecasts, the list of
//! assessments, the audit trail), [`admin`] (users and tokens) and [`form`] (the public report
//! form, mounted with the SMS endpoints). Every asset is embedded. An address no route knows
//! is the friendly 404 page ([`not_found`]).
//!
//! What the pages share lives here: the templates, the logged-in [`WebUser`], the
//! [`CsrfForm`] extractor (a form whose CSRF token is checked before the handler runs) and
//! [`WebError`], which any handler returns with `?`: it becomes a friendly page (403, 404, 400,
//! 409, 500…) in the site's frame. Who may do what is the application layer's
//! ([`tocsin_app`]); the pages parse, call it and show its answer.

pub mod actions;
pub mod admin;
pub mod alerts;
pub mod analysis;
pub mod brief;
pub mod broadcasts;
pub mod desks;
pub mod files;
pub mod flags;
pub mod form;
pub mod i18n;
pub mod incidents;
pub mod lexicons;
pub mod login;
pub mod map;
pub mod matching;
pub mod metrics;
pub mod monitor;
pub mod notify;
pub mod partners;
#[cfg(test)]
mod reason_scan;
pub mod records;
pub mod refusal;
pub mod reports;
pub mod rules;
pub mod rumours;
pub mod share;
pub mod subscribers;
pub mod suggestions;
pub mod toolbox;
pub mod triage;
pub mod verification;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Router;
use minijinja::{context, Environment, Value};
use serde::de::DeserializeOwned;
use tocsin_domain::incident::ACLED_TYPOLOGY;
use tocsin_domain::{Lang, Permission, Tlp, User, VerificationStatus};
use tocsin_store::WebSession;

use crate::auth::{same, session_user};
use crate::error::ApiError;
use crate::AppState;

/// The pages a logged-in user browses, with their errors shown as pages.
pub fn router(state: &AppState) -> Router<AppState> {
    use axum::routing::get;
    Router::new()
        .merge(incidents::router())
        .merge(reports::router())
        .merge(map::router())
        .merge(analysis::router())
        .merge(brief::router())
        .merge(admin::router())
        .merge(toolbox::router())
        .merge(notify::router())
        .merge(actions::router())
        .merge(alerts::router())
        .merge(desks::router())
        .merge(rules::router())
        .merge(metrics::router())
        .merge(triage::router())
        .merge(rumours::router())
        .merge(subscribers::router())
        .merge(suggestions::router())
        .merge(files::router(&state.evidence))
        .merge(verification::router())
        .merge(matching::router())
        .merge(broadcasts::router())
        .merge(flags::router())
        .merge(monitor::router())
        .merge(records::router())
        .merge(lexicons::router())
        .merge(share::router())
        .merge(partners::router())
        .merge(crate::channel_status::web_router())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            error_pages,
        ))
        .merge(login::router())
        .route("/assets/{file}", get(asset))
}

/// The template set, compiled into the binary.
pub fn templates() -> Environment<'static> {
    let mut env = Environment::new();
    for (name, src) in [
        ("base.html", include_str!("../../templates/base.html")),
        ("login.html", include_str!("../../templates/login.html")),
        (
            "incidents.html",
            include_str!("../../templates/incidents.html"),
        ),
        (
            "incident.html",
            include_str!("../../templates/incident.html"),
        ),
        (
            "incident_edit.html",
            include_str!("../../templates/incident_edit.html"),
        ),
        ("reports.html", include_str!("../../templates/reports.html")),
        (
            "report_files.html",
            include_str!("../../templates/report_files.html"),
        ),
        ("file.html", include_str!("../../templates/file.html")),
        ("map.html", include_str!("../../templates/map.html")),
        ("message.html", include_str!("../../templates/message.html")),
        (
            "report_form.html",
            include_str!("../../templates/report_form.html"),
        ),
        (
            "framework.html",
            include_str!("../../templates/framework.html"),
        ),
        (
            "situations.html",
            include_str!("../../templates/situations.html"),
        ),
        (
            "situation.html",
            include_str!("../../templates/situation.html"),
        ),
        (
            "factor_history.html",
            include_str!("../../templates/factor_history.html"),
        ),
        (
            "incident_export.html",
            include_str!("../../templates/incident_export.html"),
        ),
        (
            "assessment.html",
            include_str!("../../templates/assessment.html"),
        ),
        (
            "assessment_edit.html",
            include_str!("../../templates/assessment_edit.html"),
        ),
        ("users.html", include_str!("../../templates/users.html")),
        ("account.html", include_str!("../../templates/account.html")),
        ("inbox.html", include_str!("../../templates/inbox.html")),
        ("toolbox.html", include_str!("../../templates/toolbox.html")),
        ("share.html", include_str!("../../templates/share.html")),
        (
            "share_received.html",
            include_str!("../../templates/share_received.html"),
        ),
        (
            "partners.html",
            include_str!("../../templates/partners.html"),
        ),
        ("partner.html", include_str!("../../templates/partner.html")),
        ("actions.html", include_str!("../../templates/actions.html")),
        ("metrics.html", include_str!("../../templates/metrics.html")),
        (
            "channels.html",
            include_str!("../../templates/channels.html"),
        ),
        ("rumours.html", include_str!("../../templates/rumours.html")),
        ("rumour.html", include_str!("../../templates/rumour.html")),
        (
            "subscribers.html",
            include_str!("../../templates/subscribers.html"),
        ),
        (
            "rumour_new.html",
            include_str!("../../templates/rumour_new.html"),
        ),
        (
            "response.html",
            include_str!("../../templates/response.html"),
        ),
        (
            "broadcasts.html",
            include_str!("../../templates/broadcasts.html"),
        ),
        (
            "broadcast.html",
            include_str!("../../templates/broadcast.html"),
        ),
        (
            "broadcast_new.html",
            include_str!("../../templates/broadcast_new.html"),
        ),
        ("home.html", include_str!("../../templates/home.html")),
        ("alerts.html", include_str!("../../templates/alerts.html")),
        ("alert.html", include_str!("../../templates/alert.html")),
        ("desks.html", include_str!("../../templates/desks.html")),
        ("rules.html", include_str!("../../templates/rules.html")),
        (
            "rule_form.html",
            include_str!("../../templates/rule_form.html"),
        ),
        (
            "desk_form.html",
            include_str!("../../templates/desk_form.html"),
        ),
        (
            "_alert_rows.html",
            include_str!("../../templates/_alert_rows.html"),
        ),
        (
            "toolbox_item.html",
            include_str!("../../templates/toolbox_item.html"),
        ),
        ("triage.html", include_str!("../../templates/triage.html")),
        ("report.html", include_str!("../../templates/report.html")),
        (
            "incident_new.html",
            include_str!("../../templates/incident_new.html"),
        ),
        ("sources.html", include_str!("../../templates/sources.html")),
        ("source.html", include_str!("../../templates/source.html")),
        (
            "_matches.html",
            include_str!("../../templates/_matches.html"),
        ),
        (
            "report_matches.html",
            include_str!("../../templates/report_matches.html"),
        ),
        ("_sort.html", include_str!("../../templates/_sort.html")),
        ("_shown.html", include_str!("../../templates/_shown.html")),
        ("signals.html", include_str!("../../templates/signals.html")),
        ("signal.html", include_str!("../../templates/signal.html")),
        (
            "forecasts.html",
            include_str!("../../templates/forecasts.html"),
        ),
        (
            "assessments.html",
            include_str!("../../templates/assessments.html"),
        ),
        ("audit.html", include_str!("../../templates/audit.html")),
        (
            "lexicons.html",
            include_str!("../../templates/lexicons.html"),
        ),
        ("lexicon.html", include_str!("../../templates/lexicon.html")),
        (
            "lexicon_term.html",
            include_str!("../../templates/lexicon_term.html"),
        ),
        (
            "_term_fields.html",
            include_str!("../../templates/_term_fields.html"),
        ),
        ("flags.html", include_str!("../../templates/flags.html")),
        ("flag.html", include_str!("../../templates/flag.html")),
        ("monitor.html", include_str!("../../templates/monitor.html")),
        (
            "monitor_item.html",
            include_str!("../../templates/monitor_item.html"),
        ),
    ] {
        env.add_template(name, src)
            .expect("embedded template parses");
    }
    env.add_function("tlp_class", |t: String| {
        t.parse::<Tlp>()
            .map(|t| format!("tlp-{}", t.slug()))
            .unwrap_or_default()
    });
    env.add_function("t", i18n::t);
    env.add_function("tv", i18n::tv);
    env.add_function("twords", i18n::twords);
    env.add_function("tevent", i18n::tevent);
    env.add_function("invalid", refusal::invalid_attrs);
    env.add_filter("when", when);
    env.add_filter("excerpt", excerpt);
    env
}

/// A stored time as a person reads it: to the minute, in the signed-in user's time zone
/// (`time_zone` in the page's context; UTC without one), e.g. `2026-03-01 14:05`; a value
/// that is not a time is shown as it is.
fn when(state: &minijinja::State, v: String) -> String {
    let zone = state
        .lookup("time_zone")
        .and_then(|z| z.as_str().map(str::to_string));
    chrono::DateTime::parse_from_rfc3339(&v)
        .map(|t| tocsin_domain::time::local_minute(&t.with_timezone(&chrono::Utc), zone.as_deref()))
        .unwrap_or(v)
}

/// The first `n` characters of a text, with an ellipsis when it was longer (the triage queue).
fn excerpt(v: String, n: usize) -> String {
    match v.char_indices().nth(n) {
        Some((at, _)) => format!("{}…", &v[..at]),
        None => v,
    }
}

/// A logged-in browser user; anyone else is sent to the login page.
pub struct WebUser {
    pub(crate) user: User,
    pub(crate) session: WebSession,
    /// Unread items of their inbox (shown in the page header), when known.
    pub(crate) unread: Option<u64>,
    /// The language their pages are in: their account's, else their browser's, else English.
    pub(crate) lang: Lang,
}

impl WebUser {
    /// The user of a session, their pages in the language of [`staff_lang`].
    fn new(user: User, session: WebSession, unread: Option<u64>, parts: &Parts) -> Self {
        let lang = staff_lang(&user, &parts.headers);
        WebUser {
            user,
            session,
            unread,
            lang,
        }
    }

    /// The text of catalogue `key` in this user's language (see [`i18n::text`]).
    pub(crate) fn t(&self, key: &str, args: &[(&str, String)]) -> String {
        i18n::text(self.lang, key, args)
    }

    /// A refusal's reason, as the application wrote it in English, in this user's language
    /// (see [`i18n::reason`]).
    pub(crate) fn reason(&self, message: &str) -> String {
        i18n::reason(self.lang, message)
    }
}

/// The language of a staff page: the one chosen on the account page, else the best of the
/// browser's `Accept-Language`, else English.
pub(crate) fn staff_lang(user: &User, headers: &axum::http::HeaderMap) -> Lang {
    user.language
        .unwrap_or_else(|| i18n::accept_language(headers).unwrap_or(Lang::En))
}

/// The CSRF token of the session a [`WebUser`] was found by, left for [`CsrfForm`].
#[derive(Clone)]
struct SessionCsrf(String);

impl FromRequestParts<AppState> for WebUser {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match session_user(parts, state).await {
            Some((session, user)) => {
                parts
                    .extensions
                    .insert(SessionCsrf(session.csrf_token.clone()));
                let unread = state.app().inbox_unread(&user).await.ok();
                Ok(WebUser::new(user, session, unread, parts))
            }
            None => {
                let next = parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str())
                    .unwrap_or("/");
                let q = serde_urlencoded::to_string([("next", next)]).unwrap_or_default();
                Err(Redirect::to(&format!("/login?{q}")).into_response())
            }
        }
    }
}

/// An error a page answers with: a status and a message for a person, shown in the site's
/// frame (with the user's menu when they are logged in) by the pages' error layer.
#[derive(Debug, Clone)]
pub struct WebError {
    /// HTTP status.
    pub status: StatusCode,
    /// The page's title.
    pub title: &'static str,
    /// What went wrong.
    pub message: String,
    /// A catalogue key whose text, in the reader's language, replaces `message` on the page.
    pub key: Option<&'static str>,
}

impl WebError {
    /// An error page.
    pub fn new(status: StatusCode, title: &'static str, message: impl Into<String>) -> Self {
        WebError {
            status,
            title,
            message: message.into(),
            key: None,
        }
    }

    /// 403: the form's CSRF token is missing or wrong.
    pub fn csrf() -> Self {
        WebError {
            key: Some("err.csrf"),
            ..WebError::new(
                StatusCode::FORBIDDEN,
                "Not allowed",
                "The form's security token is missing or wrong.",
            )
        }
    }

    /// 400: the form does not parse.
    pub fn bad_form(e: impl std::fmt::Display) -> Self {
        WebError::new(
            StatusCode::BAD_REQUEST,
            "Invalid request",
            format!("invalid form: {e}"),
        )
    }
}

impl WebError {
    /// The catalogue key of the page's title, from its status.
    pub fn title_key(&self) -> &'static str {
        match self.status {
            StatusCode::FORBIDDEN => "err.not_allowed",
            StatusCode::NOT_FOUND => "err.not_found",
            s if s.is_client_error() => "err.invalid",
            _ => "err.wrong",
        }
    }
}

impl From<ApiError> for WebError {
    fn from(e: ApiError) -> Self {
        let title = match e.status {
            StatusCode::FORBIDDEN => "Not allowed",
            StatusCode::NOT_FOUND => "Not found",
            s if s.is_client_error() => "Invalid request",
            _ => "Something went wrong",
        };
        // The bare "not found" of a record one may not see reads as a sentence in any language.
        let key = (e.status == StatusCode::NOT_FOUND && e.message == ApiError::not_found().message)
            .then_some("err.no_record");
        WebError {
            key,
            ..WebError::new(e.status, title, e.message)
        }
    }
}

impl From<tocsin_app::AppError> for WebError {
    fn from(e: tocsin_app::AppError) -> Self {
        ApiError::from(e).into()
    }
}

impl From<tocsin_domain::DomainError> for WebError {
    fn from(e: tocsin_domain::DomainError) -> Self {
        ApiError::from(e).into()
    }
}

impl From<tocsin_store::StoreError> for WebError {
    fn from(e: tocsin_store::StoreError) -> Self {
        ApiError::from(e).into()
    }
}

impl IntoResponse for WebError {
    /// The bare page; [`error_pages`] puts it in the site's frame.
    fn into_response(self) -> Response {
        let mut r = (self.status, self.message.clone()).into_response();
        r.extensions_mut().insert(self);
        r
    }
}

/// Result of a page handler.
pub type WebResult<T = Response> = Result<T, WebError>;

/// The answer to an address no route knows (outside `/api/v1`, which answers JSON): the
/// friendly 404 page, in the frame of the user's session if any.
pub async fn not_found(State(st): State<AppState>, req: Request) -> Response {
    let (parts, _) = req.into_parts();
    let lang = i18n::accept_language(&parts.headers).unwrap_or(Lang::En);
    let message = |lang| i18n::text(lang, "err.no_page", &[]);
    match session_user(&parts, &st).await {
        Some((session, user)) => {
            let wu = WebUser::new(user, session, None, &parts);
            let ctx = context! { title => "err.not_found", message => message(wu.lang) };
            page(&st, &wu, StatusCode::NOT_FOUND, "message.html", ctx)
        }
        None => {
            let ctx = context! { title => "err.not_found", message => message(lang), lang => lang.code() };
            render(&st, StatusCode::NOT_FOUND, "message.html", ctx)
        }
    }
}

/// Renders a [`WebError`] as the message page, in the frame of the user's session if any.
async fn error_pages(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let cookies = req
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .cloned()
        .collect::<Vec<_>>();
    let accept = req
        .headers()
        .get_all(header::ACCEPT_LANGUAGE)
        .iter()
        .cloned()
        .collect::<Vec<_>>();
    let r = next.run(req).await;
    let Some(e) = r.extensions().get::<WebError>().cloned() else {
        return r;
    };
    let (mut parts, _) = axum::http::Request::new(()).into_parts();
    for c in cookies {
        parts.headers.append(header::COOKIE, c);
    }
    for a in accept {
        parts.headers.append(header::ACCEPT_LANGUAGE, a);
    }
    let message = |lang| match e.key {
        Some(k) => i18n::text(lang, k, &[]),
        None => i18n::reason(lang, &e.message),
    };
    match session_user(&parts, &st).await {
        Some((session, user)) => {
            let wu = WebUser::new(user, session, None, &parts);
            let ctx = context! { title => e.title_key(), message => message(wu.lang) };
            page(&st, &wu, e.status, "message.html", ctx)
        }
        None => {
            let lang = i18n::accept_language(&parts.headers).unwrap_or(Lang::En);
            let ctx =
                context! { title => e.title_key(), message => message(lang), lang => lang.code() };
            render(&st, e.status, "message.html", ctx)
        }
    }
}

/// A form posted by a logged-in user, its CSRF token (field `csrf`) checked against their
/// session's before it is parsed as `T` (without the `csrf` field): a wrong or missing token
/// is a 403 page, a form that does not parse a 400 page.
pub struct CsrfForm<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let expected = match parts.extensions.get::<SessionCsrf>() {
            Some(c) => c.0.clone(),
            None => match session_user(&parts, state).await {
                Some((s, _)) => s.csrf_token,
                None => return Err(WebError::csrf()),
            },
        };
        let body = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(|e| WebError::new(e.status(), "Invalid request", e.body_text()))?;
        let mut fields: Vec<(String, String)> =
            serde_urlencoded::from_bytes(&body).map_err(WebError::bad_form)?;
        let sent = fields
            .iter()
            .position(|(k, _)| k == "csrf")
            .map(|i| fields.swap_remove(i).1);
        if !sent.is_some_and(|c| same(&c, &expected)) {
            return Err(WebError::csrf());
        }
        let rest = serde_urlencoded::to_string(&fields).map_err(WebError::bad_form)?;
        serde_urlencoded::from_str(&rest)
            .map(CsrfForm)
            .map_err(WebError::bad_form)
    }
}

pub(crate) fn render(st: &AppState, status: StatusCode, name: &str, ctx: Value) -> Response {
    match st.templates.get_template(name).and_then(|t| t.render(ctx)) {
        Ok(html) => {
            let mut r = (status, Html(html)).into_response();
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(e) => {
            tracing::error!(error = %e, template = name, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
        }
    }
}

/// A page in the site's frame, for a logged-in user.
pub(crate) fn page(
    st: &AppState,
    wu: &WebUser,
    status: StatusCode,
    name: &str,
    extra: Value,
) -> Response {
    let base = context! {
        user => context! { username => wu.user.username.clone(), role => wu.user.role.as_str(), clearance => wu.user.clearance.as_str() },
        time_zone => wu.user.time_zone.clone().unwrap_or_else(|| "UTC".into()),
        lang => wu.lang.code(),
        can_audit => wu.user.can(Permission::AuditRead),
        can_signals => wu.user.can(Permission::SituationRead),
        csrf => wu.session.csrf_token.clone(),
        can_reports => wu.user.can(Permission::ReportRead),
        can_users => wu.user.can(Permission::UserManage),
        can_admin_desks => wu.user.can(Permission::AlertConfigure),
        can_metrics => wu.user.can(Permission::AlertRead),
        can_triage => wu.user.can(Permission::ReportTriage),
        can_rumours => wu.user.can(Permission::RumourRead),
        can_subscribers => wu.user.can(Permission::SubscriberCount) || wu.user.can(Permission::SubscriberRegister),
        can_broadcasts => wu.user.can(Permission::BroadcastRead),
        can_sources => wu.user.can(Permission::SourceRead),
        can_grade_reports => wu.user.can(Permission::IncidentUpdate),
        can_lexicons => wu.user.can(Permission::LexiconManage),
        can_share => wu.user.can(Permission::ShareExport) || wu.user.can(Permission::ShareImport),
        can_partners => wu.user.can(Permission::PartnerManage),
        inbox_unread => wu.unread,
        event_types => ACLED_TYPOLOGY.iter().map(|(t, _)| *t).collect::<Vec<_>>(),
        statuses => VerificationStatus::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        tlps => Tlp::ALL.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
    };
    render(st, status, name, context! { ..extra, ..base })
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, Secure over HTTPS.
pub(crate) fn set_cookie(st: &AppState, name: &str, value: &str, max_age: i64) -> HeaderValue {
    let secure = if st.secure_cookies { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    ))
    .expect("cookie value is ASCII")
}

/// The link to the next page of a list: the same query with the cursor.
pub(crate) fn next_url(
    path: &str,
    q: impl serde::Serialize,
    cursor: &Option<String>,
) -> Option<String> {
    let c = cursor.as_ref()?;
    let mut v = serde_json::to_value(q).ok()?;
    v["cursor"] = c.clone().into();
    let pairs: Vec<(String, String)> = v
        .as_object()?
        .iter()
        .filter_map(|(k, v)| {
            v.as_str()
                .filter(|s| !s.is_empty())
                .map(|s| (k.clone(), s.to_string()))
        })
        .collect();
    Some(format!(
        "{path}?{}",
        serde_urlencoded::to_string(pairs).ok()?
    ))
}

/// An id in a page's path; one that is not an id is a page that does not exist.
pub(crate) fn path_id(id: &str) -> WebResult<uuid::Uuid> {
    uuid::Uuid::parse_str(id).map_err(|_| ApiError::not_found().into())
}

/// `GET /assets/{file}`: the embedded stylesheet, script and boundaries.
pub async fn asset(Path(file): Path<String>) -> Response {
    let (body, ctype): (&'static [u8], &str) = match file.as_str() {
        "tocsin.css" => (
            include_bytes!("../../assets/tocsin.css"),
            "text/css; charset=utf-8",
        ),
        "map.js" => (
            include_bytes!("../../assets/map.js"),
            "text/javascript; charset=utf-8",
        ),
        "triage.js" => (
            include_bytes!("../../assets/triage.js"),
            "text/javascript; charset=utf-8",
        ),
        "broadcast.js" => (
            include_bytes!("../../assets/broadcast.js"),
            "text/javascript; charset=utf-8",
        ),
        "broadcast_area.js" => (
            include_bytes!("../../assets/broadcast_area.js"),
            "text/javascript; charset=utf-8",
        ),
        "countries-110m.json" => (
            include_bytes!("../../assets/countries-110m.json"),
            "application/json",
        ),
        _ => return (StatusCode::NOT_FOUND, "no such asset").into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, ctype),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    /// Every template file is registered: a page whose template was left out of the list
    /// answers 500 only when someone opens it.
    #[test]
    fn every_template_file_is_registered() {
        let env = super::templates();
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");
        let mut n = 0;
        for e in std::fs::read_dir(dir).unwrap() {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            if name.ends_with(".html") {
                assert!(env.get_template(&name).is_ok(), "{name} is not registered");
                n += 1;
            }
        }
        assert!(n > 50, "{n} templates");
    }
}
