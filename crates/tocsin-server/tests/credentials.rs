//! Withdrawing credentials and throttling logins, over real HTTP against a real SQLite file.

mod common;

use common::{browser_login, csrf_in, first_cookie, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tocsin_domain::{Actor, Role};
use tocsin_server::login::Throttle;
use tocsin_store::{DynStore, Op};

/// A second store handle on the test server's SQLite file, as the CLI beside a running
/// server would open.
async fn beside(app: &TestApp) -> DynStore {
    let url = format!("sqlite://{}", app._dir.path().join("t.db").display());
    Arc::new(tocsin_store_sqlite::SqliteStore::open(&url).await.unwrap())
}

/// The status of `GET /api/v1/me` with a bearer token.
async fn me(app: &TestApp, token: &str) -> StatusCode {
    app.call_as(token, Method::GET, "/api/v1/me", None).await.0
}

/// The status of a browser page with a session cookie (303: sent to the login page).
async fn page(app: &TestApp, cookie: &str, path: &str) -> StatusCode {
    app.client
        .get(format!("{}{path}", app.base))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .status()
}

/// Poll `probe` until it answers `want` or one second has passed; the last answer.
async fn within_a_second<F, Fut>(want: StatusCode, mut probe: F) -> StatusCode
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = StatusCode>,
{
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        let got = probe().await;
        if got == want || Instant::now() > deadline {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn user_id(store: &DynStore, name: &str) -> uuid::Uuid {
    store.get_user_by_name(name).await.unwrap().id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn withdrawals_by_another_process_take_effect_within_a_second() {
    let app = TestApp::start().await;
    let token = app.add_user("eve", Role::Analyst).await;
    let (cookie, _) = browser_login(&app, "eve", "password-123").await.unwrap();
    let other = beside(&app).await;
    let cli = Actor::system("cli");
    let eve = user_id(&other, "eve").await;
    // Warm the server's token cache.
    assert_eq!(me(&app, &token).await, StatusCode::OK);
    assert_eq!(page(&app, &cookie, "/incidents").await, StatusCode::OK);

    other
        .write(&cli, tocsin_app::accounts::set_disabled_op(&cli, eve, true))
        .await
        .unwrap();
    assert_eq!(
        within_a_second(StatusCode::UNAUTHORIZED, || me(&app, &token)).await,
        StatusCode::UNAUTHORIZED,
        "a disabled user's token is refused within a second"
    );
    assert_eq!(
        page(&app, &cookie, "/incidents").await,
        StatusCode::SEE_OTHER
    );
    let (s, _) = app
        .client
        .get(format!("{}/api/v1/me", app.base))
        .header("cookie", &cookie)
        .send()
        .await
        .map(|r| (r.status(), ()))
        .unwrap();
    assert_eq!(
        s,
        StatusCode::UNAUTHORIZED,
        "the session is refused by the API too"
    );
    assert_eq!(
        browser_login(&app, "eve", "password-123").await,
        Err(StatusCode::UNAUTHORIZED),
        "a disabled user cannot log in"
    );

    // Enabled again: the token works, the old session stays ended.
    other
        .write(
            &cli,
            tocsin_app::accounts::set_disabled_op(&cli, eve, false),
        )
        .await
        .unwrap();
    assert_eq!(
        within_a_second(StatusCode::OK, || me(&app, &token)).await,
        StatusCode::OK
    );
    assert_eq!(
        page(&app, &cookie, "/incidents").await,
        StatusCode::SEE_OTHER
    );

    // Revoking the token beside the server stops it within a second.
    let t = other.list_tokens(eve).await.unwrap().remove(0);
    other.write(&cli, Op::RevokeToken(t.id)).await.unwrap();
    assert_eq!(
        within_a_second(StatusCode::UNAUTHORIZED, || me(&app, &token)).await,
        StatusCode::UNAUTHORIZED,
        "a revoked token is refused within a second"
    );
    // A new password set beside the server ends the sessions started since.
    let (cookie, _) = browser_login(&app, "eve", "password-123").await.unwrap();
    let hash = tocsin_domain::user::hash_password("another long passphrase").unwrap();
    other
        .write(
            &cli,
            tocsin_app::accounts::set_password_op(&cli, eve, tocsin_store::Redacted(hash)),
        )
        .await
        .unwrap();
    assert_eq!(
        page(&app, &cookie, "/incidents").await,
        StatusCode::SEE_OTHER
    );
    assert!(browser_login(&app, "eve", "password-123").await.is_err());
    assert!(browser_login(&app, "eve", "another long passphrase")
        .await
        .is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_manage_users_and_tokens_over_the_api() {
    let app = TestApp::start().await;
    let admin = Some(Role::Admin);
    // Only admins.
    for role in [Role::Analyst, Role::Viewer, Role::MonitorCoordinator] {
        assert_eq!(
            app.get(role, "/api/v1/users").await.0,
            StatusCode::FORBIDDEN
        );
        let (s, _) = app
            .post(
                role,
                "/api/v1/users",
                json!({"username": "x", "role": "admin"}),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{role:?} may not create users");
    }
    let (s, users) = app.get(Role::Admin, "/api/v1/users").await;
    assert_eq!(s, StatusCode::OK);
    let names: Vec<&str> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"analyst") && names.contains(&"admin"),
        "{users}"
    );
    assert!(!users.to_string().contains("argon2"), "no hash is shown");

    // Create: the role's default clearance, a first token shown once, untrusted input refused.
    let (s, created) = app
        .post(
            Role::Admin,
            "/api/v1/users",
            json!({"username": "zoe", "role": "viewer", "password": "quiet river at dawn", "expires": "12h"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    assert_eq!(created["user"]["clearance"], "TLP:GREEN");
    assert!(created["token"]["token"]["expires_at"].is_string());
    let zoe_token = created["token"]["secret"].as_str().unwrap().to_string();
    let zoe_id = created["user"]["id"].as_str().unwrap().to_string();
    assert_eq!(me(&app, &zoe_token).await, StatusCode::OK);
    for (body, want) in [
        (
            json!({"username": "zoe", "role": "viewer"}),
            StatusCode::CONFLICT,
        ),
        (
            json!({"username": "yan", "role": "viewer", "password": "short"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"username": "yan", "role": "viewer", "password": "qwerty123456"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"username": "yan", "role": "root"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"username": "yan", "role": "viewer", "expires": "forever"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"username": "yan", "role": "viewer", "clearance": "TLP:RED"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"username": "bad name", "role": "viewer"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let (s, e) = app.post(Role::Admin, "/api/v1/users", body.clone()).await;
        assert_eq!(s, want, "{body} -> {e}");
    }
    assert_eq!(
        app.get(Role::Admin, "/api/v1/users")
            .await
            .1
            .as_array()
            .unwrap()
            .len(),
        6
    );

    // Tokens: listed without secrets, issued, revoked (at once on this server).
    let tokens_path = format!("/api/v1/users/{zoe_id}/tokens");
    let (s, issued) = app
        .post(
            Role::Admin,
            &tokens_path,
            json!({"name": "ci", "expires": "never"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{issued}");
    assert!(issued["token"]["expires_at"].is_null());
    let ci_token = issued["secret"].as_str().unwrap().to_string();
    let (s, listed) = app.get(Role::Admin, &tokens_path).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(listed.as_array().unwrap().len(), 2);
    let text = listed.to_string();
    assert!(!text.contains(&zoe_token) && !text.contains(&ci_token) && !text.contains("hash"));
    let first_id = listed[0]["id"].as_str().unwrap();
    let (s, _) = app
        .call(
            admin,
            Method::POST,
            &format!("/api/v1/tokens/{first_id}/revoke"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(me(&app, &zoe_token).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&app, &ci_token).await, StatusCode::OK);
    let (_, listed) = app.get(Role::Admin, &tokens_path).await;
    assert_eq!(
        (listed[0]["revoked"].as_bool(), listed[0]["live"].as_bool()),
        (Some(true), Some(false))
    );
    let missing = uuid::Uuid::now_v7();
    let (s, _) = app
        .call(
            admin,
            Method::POST,
            &format!("/api/v1/tokens/{missing}/revoke"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(
        app.post(
            Role::Admin,
            &format!("/api/v1/users/{missing}/tokens"),
            json!({})
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );

    // Disable ends the token and the browser session at once; enable brings the token back.
    let (cookie, _) = browser_login(&app, "zoe", "quiet river at dawn")
        .await
        .unwrap();
    let (s, u) = app
        .call(
            admin,
            Method::POST,
            &format!("/api/v1/users/{zoe_id}/disable"),
            None,
        )
        .await;
    assert_eq!((s, u["disabled"].as_bool()), (StatusCode::OK, Some(true)));
    assert_eq!(me(&app, &ci_token).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        page(&app, &cookie, "/incidents").await,
        StatusCode::SEE_OTHER
    );
    let (s, _) = app
        .call(
            admin,
            Method::POST,
            &format!("/api/v1/users/{zoe_id}/enable"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(me(&app, &ci_token).await, StatusCode::OK);
    assert_eq!(
        page(&app, &cookie, "/incidents").await,
        StatusCode::SEE_OTHER
    );

    // Nobody disables themselves.
    let (_, me_json) = app.get(Role::Admin, "/api/v1/me").await;
    let admin_id = me_json["id"].as_str().unwrap();
    let (s, e) = app
        .call(
            admin,
            Method::POST,
            &format!("/api/v1/users/{admin_id}/disable"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    assert_eq!(app.get(Role::Admin, "/api/v1/me").await.0, StatusCode::OK);

    // Password reset: policy checked, old password and sessions gone.
    let pw = format!("/api/v1/users/{zoe_id}/password");
    assert_eq!(
        app.post(Role::Admin, &pw, json!({"password": "short"}))
            .await
            .0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let (cookie, _) = browser_login(&app, "zoe", "quiet river at dawn")
        .await
        .unwrap();
    assert_eq!(
        app.post(
            Role::Admin,
            &pw,
            json!({"password": "a different long one"})
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        page(&app, &cookie, "/incidents").await,
        StatusCode::SEE_OTHER
    );
    assert!(browser_login(&app, "zoe", "quiet river at dawn")
        .await
        .is_err());
    assert!(browser_login(&app, "zoe", "a different long one")
        .await
        .is_ok());

    // Every change is in the audit trail.
    let (_, audit) = app.get(Role::Admin, "/api/v1/audit?limit=1000").await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for a in [
        "user.create",
        "token.create",
        "token.revoke",
        "user.disable",
        "user.enable",
        "user.password",
    ] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
    // The API is documented.
    let (_, doc) = app.get(Role::Viewer, "/api/v1/openapi.json").await;
    assert!(doc["paths"]["/api/v1/tokens/{id}/revoke"].is_object());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_page_manages_users_with_csrf() {
    let app = TestApp::start().await;
    let (cookie, csrf) = browser_login(&app, "admin", "password-123").await.unwrap();
    let get = |cookie: String| {
        let app = &app;
        async move {
            let r = app
                .client
                .get(format!("{}/admin/users", app.base))
                .header("cookie", cookie)
                .send()
                .await
                .unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let (s, html) = get(cookie.clone()).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("href=\"/admin/users\""),
        "admins see the nav link"
    );
    assert!(html.contains("desk_officer") && html.contains("monitor_coordinator"));
    assert!(
        html.contains("Replies to warners:") && html.contains("0 failed"),
        "admins see how replies stand"
    );
    // Others see neither the link nor the page.
    let (acookie, acsrf) = browser_login(&app, "analyst", "password-123")
        .await
        .unwrap();
    let (s, html) = get(acookie.clone()).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(!html.contains("href=\"/admin/users\""));
    let post = |cookie: &str, form: &[(&str, &str)]| {
        let req = app
            .client
            .post(format!("{}/admin/users", app.base))
            .header("cookie", cookie.to_string())
            .form(form);
        async move {
            let r = req.send().await.unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let (s, _) = post(
        &acookie,
        &[
            ("csrf", &acsrf),
            ("action", "create"),
            ("username", "x"),
            ("role", "admin"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "an analyst cannot create users");

    // Without the CSRF token nothing happens.
    let (s, _) = post(
        &cookie,
        &[
            ("csrf", "forged"),
            ("action", "create"),
            ("username", "kim"),
            ("role", "viewer"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(app.store.get_user_by_name("kim").await.is_err());
    // Create: the secret is shown once.
    let (s, html) = post(
        &cookie,
        &[
            ("csrf", &csrf),
            ("action", "create"),
            ("username", "kim"),
            ("role", "viewer"),
            ("password", ""),
            ("expires", ""),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{html}");
    let secret = html
        .split("<code id=\"new-token\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    assert!(secret.starts_with("tsn_"));
    assert_eq!(me(&app, &secret).await, StatusCode::OK);
    assert!(!get(cookie.clone()).await.1.contains(&secret), "shown once");
    // Disable the analyst from the page: their session ends, their token stops.
    let analyst = user_id(&app.store, "analyst").await.to_string();
    let (s, _) = post(
        &cookie,
        &[
            ("csrf", &csrf),
            ("action", "disable"),
            ("user_id", &analyst),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        page(&app, &acookie, "/incidents").await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        me(&app, &app.tokens[&Role::Analyst]).await,
        StatusCode::UNAUTHORIZED
    );
    // Disabling oneself is refused with a message.
    let me_id = user_id(&app.store, "admin").await.to_string();
    let (s, html) = post(
        &cookie,
        &[("csrf", &csrf), ("action", "disable"), ("user_id", &me_id)],
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(html.contains("cannot disable yourself"));
    // Issue and revoke a token; a weak password is refused.
    let kim = user_id(&app.store, "kim").await;
    let (s, _) = post(
        &cookie,
        &[
            ("csrf", &csrf),
            ("action", "token"),
            ("user_id", &kim.to_string()),
            ("name", "laptop"),
            ("expires", "12h"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let t = app.store.list_tokens(kim).await.unwrap();
    assert_eq!((t.len(), t[1].name.as_str()), (2, "laptop"));
    let (s, _) = post(
        &cookie,
        &[
            ("csrf", &csrf),
            ("action", "revoke"),
            ("token_id", &t[0].id.to_string()),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(me(&app, &secret).await, StatusCode::UNAUTHORIZED);
    let (s, html) = post(
        &cookie,
        &[
            ("csrf", &csrf),
            ("action", "password"),
            ("user_id", &kim.to_string()),
            ("password", "password"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("12 characters"));
}

/// Log in from `client` (sent as X-Forwarded-For through the trusted local proxy): the
/// status and `Retry-After`.
async fn login_from(
    app: &TestApp,
    client: &str,
    user: &str,
    password: &str,
) -> (StatusCode, Option<u64>) {
    let resp = app
        .client
        .get(format!("{}/login", app.base))
        .send()
        .await
        .unwrap();
    let pre = first_cookie(&resp);
    let csrf = csrf_in(&resp.text().await.unwrap());
    let resp = app
        .client
        .post(format!("{}/login", app.base))
        .header("cookie", &pre)
        .header("x-forwarded-for", client)
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", user),
            ("password", password),
            ("next", "/incidents"),
        ])
        .send()
        .await
        .unwrap();
    let retry = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    (resp.status(), retry)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_are_throttled_per_account_and_per_client() {
    // Long enough that the failures below all fall inside it even on a slow machine.
    let window = Duration::from_secs(6);
    let app = TestApp::start_with(|mut st| {
        st.logins = Arc::new(Throttle::new(3, 5, window));
        st.trusted_proxies = Arc::new(vec!["127.0.0.1/32".parse().unwrap()]);
        st
    })
    .await;
    let started = Instant::now();
    let ok = StatusCode::SEE_OTHER;
    // Three wrong passwords for one account: then even the right one is refused, from anywhere.
    for _ in 0..3 {
        assert_eq!(
            login_from(&app, "198.51.100.1", "analyst", "wrong-guess-123")
                .await
                .0,
            StatusCode::UNAUTHORIZED
        );
    }
    let (s, retry) = login_from(&app, "198.51.100.1", "analyst", "password-123").await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    assert!(retry.is_some_and(|r| (1..=6).contains(&r)), "{retry:?}");
    assert_eq!(
        login_from(&app, "198.51.100.99", "analyst", "password-123")
            .await
            .0,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Another account from another client is unaffected.
    assert_eq!(
        login_from(&app, "198.51.100.2", "viewer", "password-123")
            .await
            .0,
        ok
    );
    // Five failures from one client, over many names: that client is refused for any account.
    for n in 0..5 {
        let name = format!("guess{n}-<script>");
        assert_eq!(
            login_from(&app, "203.0.113.7", &name, "whatever-it-is")
                .await
                .0,
            StatusCode::UNAUTHORIZED
        );
    }
    let (s, retry) = login_from(&app, "203.0.113.7", "desk_officer", "password-123").await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    assert!(retry.is_some());
    assert_eq!(
        login_from(&app, "203.0.113.8", "desk_officer", "password-123")
            .await
            .0,
        ok
    );
    // Guesses sent in parallel are counted before any is checked: only three get through.
    let guesses = (0..12).map(|n| {
        let app = &app;
        async move {
            let client = format!("192.0.2.{n}");
            login_from(app, &client, "monitor_coordinator", "parallel-guess")
                .await
                .0
        }
    });
    let answers = futures::future::join_all(guesses).await;
    let checked = answers
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    assert_eq!(checked, 3, "{answers:?}");
    assert!(answers
        .iter()
        .all(|s| *s == StatusCode::UNAUTHORIZED || *s == StatusCode::TOO_MANY_REQUESTS));
    // Failed-login audit entries hold no typed text: the name of a real user, else "unknown".
    let entries = app.store.audit_entries(0, 1000).await.unwrap();
    let failures: Vec<_> = entries
        .iter()
        .filter(|e| e.action == "login.failure")
        .collect();
    assert_eq!(failures.len(), 11, "throttled attempts are not recorded");
    assert!(failures
        .iter()
        .all(|e| !e.detail.contains("guess") && !e.detail.contains("script")));
    assert_eq!(
        failures
            .iter()
            .filter(|e| e.detail.contains("\"unknown\""))
            .count(),
        5
    );
    assert_eq!(
        failures
            .iter()
            .filter(|e| e.detail.contains("\"analyst\""))
            .count(),
        3
    );
    // After the window the right password works again (refused attempts do not count, so
    // polling is fair).
    for (client, user) in [("198.51.100.1", "analyst"), ("203.0.113.7", "desk_officer")] {
        let deadline = Instant::now() + window * 3;
        let mut last = login_from(&app, client, user, "password-123").await.0;
        while last == StatusCode::TOO_MANY_REQUESTS && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(250)).await;
            last = login_from(&app, client, user, "password-123").await.0;
        }
        assert_eq!(last, ok, "{user} from {client} after the window");
    }
    assert!(
        started.elapsed() >= window,
        "the refusals lasted the window"
    );
}

/// A server over `store` on an ephemeral port, as a [`TestApp`] with `tokens`.
async fn serve_over(store: DynStore, tokens: std::collections::HashMap<Role, String>) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let state =
        tocsin_server::AppState::new(store.clone(), tocsin_domain::ContactKey::generate(), false);
    tokio::spawn(tocsin_server::serve(listener, state, async {
        let _ = rx.await;
    }));
    TestApp {
        base,
        store,
        tokens,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        _dir: tempfile::tempdir().unwrap(),
        shutdown: Some(tx),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn withdrawals_through_one_server_reach_another_on_the_same_postgres_within_a_second() {
    let Some(db) = tocsin_store_tests::Db::postgres().await else {
        return;
    };
    let sys = Actor::system("test");
    let mut tokens = std::collections::HashMap::new();
    for role in [Role::Admin, Role::Analyst] {
        let u = tocsin_domain::NewUser::build(role.as_str(), role, Some("password-123")).unwrap();
        let u = tocsin_store::StoreExt::create_user(&*db.store, &sys, u)
            .await
            .unwrap();
        let (t, secret) = tocsin_domain::ApiToken::generate(u.id, "test", None);
        db.store.write(&sys, Op::CreateToken(t)).await.unwrap();
        tokens.insert(role, secret);
    }
    let a = serve_over(db.store.clone(), tokens.clone()).await;
    let b = serve_over(db.open_another().await, tokens.clone()).await;
    let analyst = tokens[&Role::Analyst].clone();
    let (cookie, _) = browser_login(&b, "analyst", "password-123").await.unwrap();
    assert_eq!(
        me(&b, &analyst).await,
        StatusCode::OK,
        "b has the token cached now"
    );
    let id = user_id(&a.store, "analyst").await;

    let (s, _) = a
        .call(
            Some(Role::Admin),
            Method::POST,
            &format!("/api/v1/users/{id}/disable"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        within_a_second(StatusCode::UNAUTHORIZED, || me(&b, &analyst)).await,
        StatusCode::UNAUTHORIZED,
        "the other server refuses the disabled user's token within a second"
    );
    assert_eq!(page(&b, &cookie, "/incidents").await, StatusCode::SEE_OTHER);
    let (s, _) = a
        .call(
            Some(Role::Admin),
            Method::POST,
            &format!("/api/v1/users/{id}/enable"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        within_a_second(StatusCode::OK, || me(&b, &analyst)).await,
        StatusCode::OK
    );
    assert_eq!(
        page(&b, &cookie, "/incidents").await,
        StatusCode::SEE_OTHER,
        "sessions stay ended"
    );

    let (_, listed) = a
        .get(Role::Admin, &format!("/api/v1/users/{id}/tokens"))
        .await;
    let tid = listed[0]["id"].as_str().unwrap();
    let (s, _) = a
        .call(
            Some(Role::Admin),
            Method::POST,
            &format!("/api/v1/tokens/{tid}/revoke"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(
        within_a_second(StatusCode::UNAUTHORIZED, || me(&b, &analyst)).await,
        StatusCode::UNAUTHORIZED,
        "the other server refuses the revoked token within a second"
    );
}
