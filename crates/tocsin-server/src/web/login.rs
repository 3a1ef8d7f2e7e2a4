//! Signing in and out: `/login` (password checked with throttling, see [`crate::login`]),
//! `/logout`, and `/` which leads to the incidents.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Router;
use minijinja::context;
use serde::Deserialize;
use tocsin_domain::{AuditEvent, Lang};
use tocsin_store::{StoreExt, WebSession};

use super::{i18n, page, render, set_cookie, CsrfForm, WebError, WebUser};
use crate::auth::{random_secret, same, session_hash, SESSION_COOKIE, SESSION_HOURS};
use crate::input::parse_query;
use crate::AppState;

const LOGIN_CSRF_COOKIE: &str = "tocsin_login_csrf";

/// The login page's language: the browser's, else English (nobody is known yet).
fn browser_lang(headers: &HeaderMap) -> Lang {
    i18n::accept_language(headers).unwrap_or(Lang::En)
}

/// `/login`, `/logout` (the home page `/` is [`super::alerts`]').
pub fn router() -> Router<AppState> {
    use axum::routing::{get, post};
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
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

/// The login page in `lang`, with the refusal of catalogue key `error` (and its arguments).
fn login_form(
    st: &AppState,
    lang: Lang,
    status: StatusCode,
    csrf: &str,
    next: &str,
    username: &str,
    error: Option<(&str, &[(&str, String)])>,
) -> Response {
    let error = error.map(|(key, args)| i18n::text(lang, key, args));
    let mut r = render(
        st,
        status,
        "login.html",
        context! { login_csrf => csrf, next, username, error, lang => lang.code() },
    );
    r.headers_mut().insert(
        header::SET_COOKIE,
        set_cookie(st, LOGIN_CSRF_COOKIE, csrf, 3600),
    );
    r
}

/// `GET /login`
pub async fn login_page(
    State(st): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let q: LoginQuery = parse_query(q.as_deref()).unwrap_or_default();
    login_form(
        &st,
        browser_lang(&headers),
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
    let lang = browser_lang(&headers);
    let Ok(f) = serde_urlencoded::from_bytes::<LoginForm>(&body) else {
        return login_form(
            &st,
            lang,
            StatusCode::BAD_REQUEST,
            &random_secret(),
            "/incidents",
            "",
            Some(("login.err_form", &[])),
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
            lang,
            StatusCode::FORBIDDEN,
            &random_secret(),
            &next,
            &f.username,
            Some(("login.err_expired", &[])),
        );
    }
    if let Err(wait) = st.logins.attempt(&f.username, client) {
        let secs = wait.as_secs().max(1);
        let mut r = login_form(
            &st,
            lang,
            StatusCode::TOO_MANY_REQUESTS,
            &random_secret(),
            &next,
            &f.username,
            Some((
                "login.err_throttled",
                &[("count", secs.div_ceil(60).to_string())],
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
            lang,
            StatusCode::SERVICE_UNAVAILABLE,
            &random_secret(),
            &next,
            &f.username,
            Some(("login.err_storage", &[])),
        );
    }
    let Some(user) = user.filter(|_| ok) else {
        return login_form(
            &st,
            lang,
            StatusCode::UNAUTHORIZED,
            &random_secret(),
            &next,
            &f.username,
            Some(("login.err_wrong", &[])),
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
            lang,
            StatusCode::SERVICE_UNAVAILABLE,
            &random_secret(),
            &next,
            &f.username,
            Some(("login.err_storage", &[])),
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

/// A form with nothing but its CSRF token.
#[derive(Deserialize)]
pub struct Empty {}

/// `POST /logout`
pub async fn logout(
    State(st): State<AppState>,
    wu: WebUser,
    form: Result<CsrfForm<Empty>, WebError>,
) -> Response {
    if let Err(e) = form {
        let message = e
            .key
            .map_or_else(|| wu.reason(&e.message), |k| wu.t(k, &[]));
        let ctx = context! { title => e.title_key(), message };
        return page(&st, &wu, e.status, "message.html", ctx);
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
