//! The server-rendered web UI: login, incidents, reports, map. Every asset is embedded.

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use minijinja::{context, Environment, Value};
use serde::Deserialize;
use tocsin_domain::incident::ACLED_TYPOLOGY;
use tocsin_domain::{AuditEvent, IncidentPatch, Permission, Tlp, User, VerificationStatus};
use tocsin_store::{StoreExt, WebSession};

use crate::api::{IncidentQuery, ReportQuery};
use crate::auth::{random_secret, same, session_hash, session_user, SESSION_COOKIE, SESSION_HOURS};
use crate::error::ApiError;
use crate::input::parse_query;
use crate::AppState;

const LOGIN_CSRF_COOKIE: &str = "tocsin_login_csrf";

/// The template set, compiled into the binary.
pub fn templates() -> Environment<'static> {
    let mut env = Environment::new();
    for (name, src) in [
        ("base.html", include_str!("../templates/base.html")),
        ("login.html", include_str!("../templates/login.html")),
        (
            "incidents.html",
            include_str!("../templates/incidents.html"),
        ),
        ("incident.html", include_str!("../templates/incident.html")),
        (
            "incident_edit.html",
            include_str!("../templates/incident_edit.html"),
        ),
        ("reports.html", include_str!("../templates/reports.html")),
        ("map.html", include_str!("../templates/map.html")),
        ("message.html", include_str!("../templates/message.html")),
        (
            "report_form.html",
            include_str!("../templates/report_form.html"),
        ),
        (
            "framework.html",
            include_str!("../templates/framework.html"),
        ),
        (
            "situations.html",
            include_str!("../templates/situations.html"),
        ),
        (
            "situation.html",
            include_str!("../templates/situation.html"),
        ),
        (
            "assessment.html",
            include_str!("../templates/assessment.html"),
        ),
        (
            "assessment_edit.html",
            include_str!("../templates/assessment_edit.html"),
        ),
        ("users.html", include_str!("../templates/users.html")),
    ] {
        env.add_template(name, src)
            .expect("embedded template parses");
    }
    env.add_function("tlp_class", |t: String| {
        t.parse::<Tlp>()
            .map(|t| format!("tlp-{}", t.slug()))
            .unwrap_or_default()
    });
    env
}

/// A logged-in browser user; anyone else is sent to the login page.
pub struct WebUser {
    pub(crate) user: User,
    pub(crate) session: WebSession,
}

impl FromRequestParts<AppState> for WebUser {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match session_user(parts, state).await {
            Some((session, user)) => Ok(WebUser { user, session }),
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

fn render(st: &AppState, status: StatusCode, name: &str, ctx: Value) -> Response {
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

pub(crate) fn page(
    st: &AppState,
    wu: &WebUser,
    status: StatusCode,
    name: &str,
    extra: Value,
) -> Response {
    let base = context! {
        user => context! { username => wu.user.username.clone(), role => wu.user.role.as_str(), clearance => wu.user.clearance.as_str() },
        csrf => wu.session.csrf_token.clone(),
        can_reports => wu.user.can(Permission::ReportRead),
        can_users => wu.user.can(Permission::UserManage),
        event_types => ACLED_TYPOLOGY.iter().map(|(t, _)| *t).collect::<Vec<_>>(),
        statuses => VerificationStatus::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        tlps => Tlp::ALL.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
    };
    render(st, status, name, context! { ..extra, ..base })
}

pub(crate) fn message(
    st: &AppState,
    wu: &WebUser,
    status: StatusCode,
    title: &str,
    msg: &str,
) -> Response {
    page(
        st,
        wu,
        status,
        "message.html",
        context! { title, message => msg },
    )
}

pub(crate) fn error_page(st: &AppState, wu: &WebUser, e: ApiError) -> Response {
    let title = match e.status {
        StatusCode::FORBIDDEN => "Not allowed",
        StatusCode::NOT_FOUND => "Not found",
        s if s.is_client_error() => "Invalid request",
        _ => "Something went wrong",
    };
    let status = e.status;
    message(st, wu, status, title, &e.message)
}

fn set_cookie(st: &AppState, name: &str, value: &str, max_age: i64) -> HeaderValue {
    let secure = if st.secure_cookies { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    ))
    .expect("cookie value is ASCII")
}

/// `GET /`
pub async fn home(_u: WebUser) -> Redirect {
    Redirect::to("/incidents")
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct LoginQuery {
    next: Option<String>,
}

/// Where to go after logging in: `next` when it is a path on this site (one leading `/`, then
/// only printable ASCII other than `\`), else the incident list. Browsers drop tabs and line
/// breaks from a `Location` and read `\` as `/`, so `/\t/evil.example` or `/\evil` would
/// lead to another site.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n[1..].starts_with('/')
                && n.bytes().all(|b| b.is_ascii_graphic() && b != b'\\') =>
        {
            n.to_string()
        }
        _ => "/incidents".to_string(),
    }
}

fn login_form(
    st: &AppState,
    status: StatusCode,
    csrf: &str,
    next: &str,
    username: &str,
    error: Option<&str>,
) -> Response {
    let mut r = render(
        st,
        status,
        "login.html",
        context! { login_csrf => csrf, next, username, error },
    );
    r.headers_mut().insert(
        header::SET_COOKIE,
        set_cookie(st, LOGIN_CSRF_COOKIE, csrf, 3600),
    );
    r
}

/// `GET /login`
pub async fn login_page(State(st): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let q: LoginQuery = parse_query(q.as_deref()).unwrap_or_default();
    login_form(
        &st,
        StatusCode::OK,
        &random_secret(),
        &safe_next(q.next.as_deref()),
        "",
        None,
    )
}

#[derive(Deserialize)]
pub struct LoginForm {
    csrf: String,
    username: String,
    password: String,
    next: Option<String>,
}

/// `POST /login`: checks the password (throttled per account and per client, see
/// [`crate::login`]), records the attempt, starts a session.
pub async fn login(
    State(st): State<AppState>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(f) = serde_urlencoded::from_bytes::<LoginForm>(&body) else {
        return login_form(
            &st,
            StatusCode::BAD_REQUEST,
            &random_secret(),
            "/incidents",
            "",
            Some("Fill in the form."),
        );
    };
    let next = safe_next(f.next.as_deref());
    let client = crate::net::client_ip(&headers, peer.ip(), &st.trusted_proxies);
    let (mut parts, _) = axum::http::Request::new(()).into_parts();
    parts.headers = headers;
    let cookie_csrf = crate::auth::cookie(&parts, LOGIN_CSRF_COOKIE).unwrap_or("");
    if cookie_csrf.is_empty() || !same(cookie_csrf, &f.csrf) {
        return login_form(
            &st,
            StatusCode::FORBIDDEN,
            &random_secret(),
            &next,
            &f.username,
            Some("Your form expired; please try again."),
        );
    }
    if let Err(wait) = st.logins.attempt(&f.username, client) {
        let secs = wait.as_secs().max(1);
        let mut r = login_form(
            &st,
            StatusCode::TOO_MANY_REQUESTS,
            &random_secret(),
            &next,
            &f.username,
            Some(&format!(
                "Too many failed logins. Try again in {} minute(s).",
                secs.div_ceil(60)
            )),
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        return r;
    }
    let user = st.store.get_user_by_name(f.username.trim()).await.ok();
    let ok = st.hasher.verify(user.clone(), f.password.clone()).await;
    if ok {
        st.logins.succeeded(&f.username, client);
    }
    let actor = user
        .as_ref()
        .map(|u| u.actor())
        .unwrap_or_else(|| tocsin_domain::Actor::system("anonymous"));
    let action = if ok { "login.success" } else { "login.failure" };
    // Typed text is never recorded: the name of an existing user, else a fixed marker.
    let ev = AuditEvent::new(
        &actor,
        action,
        "user",
        user.as_ref().map(|u| u.id.to_string()),
    )
    .with_detail(serde_json::json!({
        "username": user.as_ref().map_or("unknown", |u| u.username.as_str())
    }));
    if let Err(e) = st.store.audit(ev).await {
        tracing::error!(error = %e, "could not record a login attempt; refusing the login");
        return login_form(
            &st,
            StatusCode::SERVICE_UNAVAILABLE,
            &random_secret(),
            &next,
            &f.username,
            Some("Storage is unavailable."),
        );
    }
    let Some(user) = user.filter(|_| ok) else {
        return login_form(
            &st,
            StatusCode::UNAUTHORIZED,
            &random_secret(),
            &next,
            &f.username,
            Some("Wrong username or password."),
        );
    };
    let secret = random_secret();
    let now = tocsin_domain::time::now();
    let session = WebSession {
        id_hash: session_hash(&secret),
        user_id: user.id,
        csrf_token: random_secret(),
        created_at: now,
        expires_at: now + chrono::Duration::hours(SESSION_HOURS),
    };
    if st
        .store
        .write(&user.actor(), tocsin_store::Op::CreateSession(session))
        .await
        .is_err()
    {
        return login_form(
            &st,
            StatusCode::SERVICE_UNAVAILABLE,
            &random_secret(),
            &next,
            &f.username,
            Some("Storage is unavailable."),
        );
    }
    let mut r = Redirect::to(&next).into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&st, SESSION_COOKIE, &secret, SESSION_HOURS * 3600),
    );
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&st, LOGIN_CSRF_COOKIE, "", 0),
    );
    r
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

/// `POST /logout`
pub async fn logout(State(st): State<AppState>, wu: WebUser, body: Bytes) -> Response {
    let ok = serde_urlencoded::from_bytes::<CsrfForm>(&body)
        .map(|f| same(&f.csrf, &wu.session.csrf_token))
        .unwrap_or(false);
    if !ok {
        return message(
            &st,
            &wu,
            StatusCode::FORBIDDEN,
            "Not allowed",
            "The form's security token is missing or wrong.",
        );
    }
    let _ = st
        .store
        .write(
            &wu.user.actor(),
            tocsin_store::Op::DeleteSession(wu.session.id_hash.clone()),
        )
        .await;
    let mut r = Redirect::to("/login").into_response();
    r.headers_mut()
        .insert(header::SET_COOKIE, set_cookie(&st, SESSION_COOKIE, "", 0));
    r
}

fn next_url(path: &str, q: impl serde::Serialize, cursor: &Option<String>) -> Option<String> {
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

/// `GET /incidents`
pub async fn incidents(State(st): State<AppState>, wu: WebUser, RawQuery(q): RawQuery) -> Response {
    if !wu.user.can(Permission::IncidentRead) {
        return error_page(&st, &wu, ApiError::forbidden());
    }
    let q: IncidentQuery = match parse_query(q.as_deref()) {
        Ok(q) => q,
        Err(e) => return error_page(&st, &wu, e),
    };
    let result = match q.to_filter(wu.user.clearance) {
        Ok((f, p)) => crate::incident_index::list_incidents(&st, &f, p)
            .await
            .map_err(ApiError::from),
        Err(e) => Err(e.into()),
    };
    let shown = page_of(&result, |i| (i.id, i.tlp));
    if let Err(e) = crate::reads::list(&st, &wu.user, "incident", shown).await {
        return error_page(&st, &wu, e);
    }
    match result {
        Ok(page_) => {
            let next = next_url("/incidents", &q, &page_.next_cursor);
            page(
                &st,
                &wu,
                StatusCode::OK,
                "incidents.html",
                context! { items => page_.items, q, next_url => next },
            )
        }
        Err(e) => error_page(&st, &wu, e),
    }
}

/// `GET /incidents/{id}`
pub async fn incident(State(st): State<AppState>, wu: WebUser, Path(id): Path<String>) -> Response {
    let loaded = match load_incident(&st, &wu, &id, Permission::IncidentRead).await {
        Ok(mut i) => crate::api::linked_reports_seen(&st, &wu.user, &mut i)
            .await
            .map(|()| i),
        Err(e) => Err(e),
    };
    match loaded {
        Ok(i) => {
            let can_edit = wu.user.can(Permission::IncidentUpdate);
            page(
                &st,
                &wu,
                StatusCode::OK,
                "incident.html",
                context! { i, can_edit },
            )
        }
        Err(e) => error_page(&st, &wu, e),
    }
}

async fn load_incident(
    st: &AppState,
    wu: &WebUser,
    id: &str,
    p: Permission,
) -> Result<tocsin_domain::Incident, ApiError> {
    if !wu.user.can(p) {
        return Err(ApiError::forbidden());
    }
    let id = uuid::Uuid::parse_str(id).map_err(|_| ApiError::not_found())?;
    let i = st.store.get_incident(id).await?;
    if !wu.user.may_see(i.tlp) {
        return Err(ApiError::not_found());
    }
    crate::reads::one(st, &wu.user, "incident", i.id, i.tlp).await?;
    Ok(i)
}

/// Id and label of each item of a listed page (none if the listing failed).
fn page_of<T>(
    result: &Result<tocsin_domain::Page<T>, ApiError>,
    key: impl Fn(&T) -> (uuid::Uuid, Tlp),
) -> Vec<(uuid::Uuid, Tlp)> {
    result
        .as_ref()
        .map(|p| p.items.iter().map(key).collect())
        .unwrap_or_default()
}

/// `GET /incidents/{id}/edit`
pub async fn edit_incident_page(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
) -> Response {
    match load_incident(&st, &wu, &id, Permission::IncidentUpdate).await {
        Ok(i) => page(
            &st,
            &wu,
            StatusCode::OK,
            "incident_edit.html",
            context! { i },
        ),
        Err(e) => error_page(&st, &wu, e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EditForm {
    csrf: String,
    expected_version: String,
    event_date: String,
    event_type: String,
    sub_event_type: String,
    country: String,
    admin1: String,
    location: String,
    latitude: String,
    longitude: String,
    fatalities: String,
    verification_status: String,
    tlp: String,
    description: String,
}

fn num<T: std::str::FromStr>(field: &str, v: &str) -> Result<T, tocsin_domain::DomainError> {
    v.trim()
        .parse()
        .map_err(|_| tocsin_domain::DomainError::invalid(field, "expected a number"))
}

impl EditForm {
    fn patch(self) -> Result<IncidentPatch, tocsin_domain::DomainError> {
        Ok(IncidentPatch {
            expected_version: Some(num("expected_version", &self.expected_version)?),
            event_date: Some(self.event_date),
            event_type: Some(self.event_type),
            sub_event_type: Some(self.sub_event_type),
            country: Some(self.country),
            admin1: Some(self.admin1),
            location: Some(self.location),
            latitude: Some(num("latitude", &self.latitude)?),
            longitude: Some(num("longitude", &self.longitude)?),
            fatalities: Some(num("fatalities", &self.fatalities)?),
            verification_status: Some(VerificationStatus::parse(&self.verification_status)?),
            tlp: Some(self.tlp.parse()?),
            description: Some(self.description),
            ..Default::default()
        })
    }
}

/// `POST /incidents/{id}/edit`
pub async fn edit_incident(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let current = match load_incident(&st, &wu, &id, Permission::IncidentUpdate).await {
        Ok(i) => i,
        Err(e) => return error_page(&st, &wu, e),
    };
    let form = match serde_urlencoded::from_bytes::<EditForm>(&body) {
        Ok(f) => f,
        Err(e) => {
            return error_page(
                &st,
                &wu,
                ApiError::new(StatusCode::BAD_REQUEST, format!("invalid form: {e}")),
            )
        }
    };
    if !same(&form.csrf, &wu.session.csrf_token) {
        return message(
            &st,
            &wu,
            StatusCode::FORBIDDEN,
            "Not allowed",
            "The form's security token is missing or wrong.",
        );
    }
    let result = match form.patch() {
        Ok(p) if p.tlp.is_some_and(|t| !wu.user.may_see(t)) => {
            Err(tocsin_domain::DomainError::invalid("tlp", "above your clearance").into())
        }
        Ok(p) => st
            .store
            .update_incident(&wu.user.actor(), current.id, p)
            .await
            .map_err(ApiError::from),
        Err(e) => Err(ApiError::from(e)),
    };
    match result {
        Ok(i) => Redirect::to(&format!("/incidents/{}", i.id)).into_response(),
        Err(e) => {
            let status = e.status;
            page(
                &st,
                &wu,
                status,
                "incident_edit.html",
                context! { i => current, error => e.message },
            )
        }
    }
}

/// `GET /reports`
pub async fn reports(State(st): State<AppState>, wu: WebUser, RawQuery(q): RawQuery) -> Response {
    if !wu.user.can(Permission::ReportRead) {
        return error_page(&st, &wu, ApiError::forbidden());
    }
    let q: ReportQuery = match parse_query(q.as_deref()) {
        Ok(q) => q,
        Err(e) => return error_page(&st, &wu, e),
    };
    let result = match q.to_filter(&wu.user) {
        Ok((f, p)) => st.store.list_reports(&f, p).await.map_err(ApiError::from),
        Err(e) => Err(e.into()),
    };
    let shown = page_of(&result, |r| (r.id, r.tlp));
    if let Err(e) = crate::reads::list(&st, &wu.user, "report", shown).await {
        return error_page(&st, &wu, e);
    }
    match result {
        Ok(p) => {
            let next = next_url("/reports", &q, &p.next_cursor);
            page(
                &st,
                &wu,
                StatusCode::OK,
                "reports.html",
                context! { items => p.items, q, next_url => next },
            )
        }
        Err(e) => error_page(&st, &wu, e),
    }
}

/// `GET /map`
pub async fn map(State(st): State<AppState>, wu: WebUser) -> Response {
    if !wu.user.can(Permission::IncidentRead) {
        return error_page(&st, &wu, ApiError::forbidden());
    }
    page(&st, &wu, StatusCode::OK, "map.html", context! {})
}

/// `GET /assets/{file}`: the embedded stylesheet, script and boundaries.
pub async fn asset(Path(file): Path<String>) -> Response {
    let (body, ctype): (&'static [u8], &str) = match file.as_str() {
        "tocsin.css" => (
            include_bytes!("../assets/tocsin.css"),
            "text/css; charset=utf-8",
        ),
        "map.js" => (
            include_bytes!("../assets/map.js"),
            "text/javascript; charset=utf-8",
        ),
        "countries-110m.json" => (
            include_bytes!("../assets/countries-110m.json"),
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

const REPORT_CSRF_COOKIE: &str = "tocsin_report_csrf";

fn report_form(
    st: &AppState,
    status: StatusCode,
    text: &str,
    place: &str,
    error: Option<&str>,
) -> Response {
    let csrf = random_secret();
    let mut r = render(
        st,
        status,
        "report_form.html",
        context! {
            form_csrf => csrf.clone(), text, place, error,
            can_reply => crate::sms::reply_gateway(&st.sms, None).is_some(),
        },
    );
    r.headers_mut().insert(
        header::SET_COOKIE,
        set_cookie(st, REPORT_CSRF_COOKIE, &csrf, 3600),
    );
    r
}

/// `GET /report`: the public report form (no login, works without JavaScript).
pub async fn report_form_page(State(st): State<AppState>) -> Response {
    report_form(&st, StatusCode::OK, "", "", None)
}

#[derive(Deserialize)]
pub struct ReportForm {
    csrf: String,
    text: String,
    place: Option<String>,
}

/// How long the one-time code shown after a form report stays valid.
pub const FORM_CODE_HOURS: i64 = 24;

/// `POST /report`: a report from the public form. Valid submissions are rate limited per client
/// (the address through trusted proxies, [`crate::net::client_ip`]) without recording who the
/// client is (see [`crate::ratelimit`]).
///
/// The report is stored with channel `web` and no source. A phone number typed into a form
/// proves nothing (anyone could type a warner's number to learn whether it is one, pin
/// invented reports on them, or make Tocsin text them), so the form takes none. When a gateway
/// can reply, the page shows a one-time code instead: texted from a phone, it links the
/// report to that phone's source and only then is an acknowledgement sent.
pub async fn submit_report(
    State(st): State<AppState>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let client = crate::net::client_ip(&headers, peer.ip(), &st.trusted_proxies);
    let Ok(f) = serde_urlencoded::from_bytes::<ReportForm>(&body) else {
        return report_form(
            &st,
            StatusCode::BAD_REQUEST,
            "",
            "",
            Some("Please fill in what happened."),
        );
    };
    let (mut parts, _) = axum::http::Request::new(()).into_parts();
    parts.headers = headers;
    let cookie_csrf = crate::auth::cookie(&parts, REPORT_CSRF_COOKIE).unwrap_or("");
    let place = f.place.clone().unwrap_or_default();
    if cookie_csrf.is_empty() || !same(cookie_csrf, &f.csrf) {
        return report_form(
            &st,
            StatusCode::FORBIDDEN,
            &f.text,
            &place,
            Some("The form expired. Please send it again."),
        );
    }
    let text = f.text.trim();
    if text.is_empty() || text.len() > 10_000 {
        return report_form(
            &st,
            StatusCode::UNPROCESSABLE_ENTITY,
            &f.text,
            &place,
            Some("Please describe what happened (at most 10,000 characters)."),
        );
    }
    // Only valid submissions count, so junk and forged posts cannot shut the form for others.
    if !st.limiter.allow(client) {
        return report_form(
            &st,
            StatusCode::TOO_MANY_REQUESTS,
            &f.text,
            &place,
            Some("Too many reports from here just now. Please wait a few minutes and try again."),
        );
    }
    let full = if place.trim().is_empty() {
        text.to_string()
    } else {
        format!("{text}\n[place] {}", place.trim())
    };
    let parsed = tocsin_sms::parse(&full, st.sms.country_hint.as_deref());
    let mut r = match tocsin_domain::NewReport::parse(
        tocsin_domain::ReportInput {
            text: full,
            tlp: Some(tocsin_domain::Tlp::AmberStrict),
            latitude: parsed.place.as_ref().map(|p| p.latitude),
            longitude: parsed.place.as_ref().map(|p| p.longitude),
            occurred_at: None,
            country: parsed.place.as_ref().map(|p| p.country.clone()),
            source: None,
        },
        tocsin_domain::Channel::Web,
        None,
    ) {
        Ok(r) => r,
        Err(e) => {
            return report_form(
                &st,
                StatusCode::UNPROCESSABLE_ENTITY,
                &f.text,
                &place,
                Some(&e.to_string()),
            )
        }
    };
    r.meta = crate::sms::report_meta(&parsed);
    let reference = tocsin_sms::reference_code(&r.id);
    let ack = tocsin_sms::ack_text(parsed.language, &reference);
    // A code only when some gateway can carry the reply it unlocks.
    let code = crate::sms::reply_gateway(&st.sms, None).map(|_| tocsin_sms::new_form_code());
    let claim = code.as_ref().map(|c| tocsin_domain::FormClaim {
        code_hash: crate::sms::form_code_hash(&st, &c.replace('-', "")),
        report_id: r.id,
        ack_text: ack.clone(),
        expires_at: tocsin_domain::time::now() + chrono::Duration::hours(FORM_CODE_HOURS),
    });
    let op = tocsin_store::Op::SubmitFormReport {
        report: Box::new(r),
        claim,
    };
    match st
        .store
        .write(&tocsin_domain::Actor::system("web-form"), op)
        .await
    {
        Ok(_) => render(
            &st,
            StatusCode::OK,
            "report_form.html",
            context! {
                reference, ack, lang => parsed.language.code(), code,
                inbound_number => st.sms.inbound_number.clone(), code_hours => FORM_CODE_HOURS,
            },
        ),
        Err(_) => report_form(
            &st,
            StatusCode::SERVICE_UNAVAILABLE,
            &f.text,
            &place,
            Some("We could not save your report just now. Please try again."),
        ),
    }
}

/// `GET /framework`: the analysis framework in use, with each indicator's verification mark.
pub async fn framework(State(st): State<AppState>, wu: WebUser) -> Response {
    page(
        &st,
        &wu,
        StatusCode::OK,
        "framework.html",
        context! { f => st.framework() },
    )
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn login_next_stays_on_this_site() {
        for ok in [
            "/incidents",
            "/map?country=CAF&zoom=4",
            "/incidents/0193-ab%2F",
            "/",
        ] {
            assert_eq!(safe_next(Some(ok)), ok);
        }
        for bad in [
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\n/evil.example",
            "//evil.example",
            "/\\evil.example",
            "/\\/evil.example",
            "/ /evil.example",
            "/incidents\u{0}",
            "/incidents\u{7f}",
            "/caf\u{e9}",
            "https://evil.example/",
            "evil.example",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), "/incidents", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/incidents");
    }
}
