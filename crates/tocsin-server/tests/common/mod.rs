//! What the HTTP test files share: a real server on an ephemeral port over a real SQLite file,
//! one user and token per role, and a browser-style login.
#![allow(dead_code)]

use reqwest::{Client, Method, StatusCode};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use tocsin_domain::{
    Actor, ApiToken, ContactKey, Incident, IncidentInput, NewSource, NewUser, Reliability, Role,
    SourceContact, Tlp,
};
use tocsin_server::AppState;
use tocsin_store::{DynStore, Op, StoreExt};

pub struct TestApp {
    pub base: String,
    pub store: DynStore,
    pub tokens: HashMap<Role, String>,
    pub client: Client,
    pub _dir: tempfile::TempDir,
    pub shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(s) = self.shutdown.take() {
            let _ = s.send(());
        }
    }
}

pub const PHONE: &str = "+23670012345";

impl TestApp {
    pub async fn start() -> TestApp {
        TestApp::start_with(|s| s).await
    }

    /// [`TestApp::start`] with the server's state adjusted by `tune` (timeouts, proxies, …).
    pub async fn start_with(tune: impl FnOnce(AppState) -> AppState) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let store: DynStore = Arc::new(tocsin_store_sqlite::SqliteStore::open(&url).await.unwrap());
        let key = ContactKey::generate();
        let actor = Actor::system("test");
        let mut tokens = HashMap::new();
        for role in Role::ALL {
            let u = NewUser::build(role.as_str(), role, Some("password-123")).unwrap();
            let u = store.create_user(&actor, u).await.unwrap();
            let (t, secret) = ApiToken::generate(u.id, "test", None);
            store.write(&actor, Op::CreateToken(t)).await.unwrap();
            tokens.insert(role, secret);
            // Every role's user has an e-mail address (and e-mail counts as configured, below),
            // so escalation policies naming them reach someone.
            let mut c = tocsin_domain::UserContacts::empty(u.id);
            c.email = Some(format!("{}@example.org", role.as_str()));
            store
                .write(
                    &actor,
                    Op::All {
                        steps: vec![tocsin_store::Step::SetUserContacts(Box::new(c))],
                        audit: Box::new(tocsin_domain::AuditEvent::new(
                            &actor,
                            "user.contacts",
                            "user",
                            Some(u.id.to_string()),
                        )),
                    },
                )
                .await
                .unwrap();
        }
        let contact = SourceContact {
            chat: None,
            phone: Some(PHONE.into()),
            ..Default::default()
        };
        let s = NewSource::new(
            "M-0001",
            "monitor",
            Reliability::B,
            Tlp::Green,
            Some(&contact),
            &key,
        )
        .unwrap();
        store.create_source(&actor, s).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let mut state = AppState::new(store.clone(), key, false);
        state.channels = Arc::new(tocsin_app::notify::Channels {
            email: true,
            ..Default::default()
        });
        let state = tune(state);
        tokio::spawn(tocsin_server::serve(listener, state, async {
            let _ = rx.await;
        }));
        TestApp {
            base,
            store,
            tokens,
            client: Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            _dir: dir,
            shutdown: Some(tx),
        }
    }

    pub async fn call(
        &self,
        role: Option<Role>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .client
            .request(method, format!("{}{}", self.base, path));
        if let Some(r) = role {
            req = req.bearer_auth(&self.tokens[&r]);
        }
        send(req, body).await
    }

    pub async fn get(&self, role: Role, path: &str) -> (StatusCode, Value) {
        self.call(Some(role), Method::GET, path, None).await
    }

    pub async fn post(&self, role: Role, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Some(role), Method::POST, path, Some(body)).await
    }

    pub async fn raw_post(&self, path: &str, ctype: &str, body: Vec<u8>) -> (StatusCode, Value) {
        let resp = self
            .client
            .post(format!("{}{}", self.base, path))
            .bearer_auth(&self.tokens[&Role::Analyst])
            .header("content-type", ctype)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn incident(
        &self,
        tlp: Tlp,
        country: &str,
        date: &str,
        lat: f64,
        lon: f64,
        et: (&str, &str),
    ) -> Incident {
        let i = Incident::parse(IncidentInput {
            event_date: date.into(),
            event_type: et.0.into(),
            sub_event_type: et.1.into(),
            country: country.into(),
            latitude: lat,
            longitude: lon,
            fatalities: 2,
            description: format!("test incident {}", tlp),
            tlp,
            ..Default::default()
        })
        .unwrap();
        self.store
            .create_incident(&Actor::system("test"), i)
            .await
            .unwrap()
    }
}

/// The CSRF token a page's form carries.
pub fn csrf_in(html: &str) -> String {
    html.split("name=\"csrf\" value=\"")
        .nth(1)
        .expect("a form with a CSRF token")
        .split('"')
        .next()
        .unwrap()
        .to_string()
}

/// The `name=value` part of a response's first `Set-Cookie`.
pub fn first_cookie(resp: &reqwest::Response) -> String {
    resp.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

/// Send `req` with an optional JSON body; the status and the body as JSON (or as a string).
async fn send(req: reqwest::RequestBuilder, body: Option<Value>) -> (StatusCode, Value) {
    let req = match body {
        Some(b) => req.json(&b),
        None => req,
    };
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Log in through the form like a browser, returning the session cookie and CSRF token.
pub async fn browser_login(
    app: &TestApp,
    user: &str,
    password: &str,
) -> Result<(String, String), StatusCode> {
    let resp = app
        .client
        .get(format!("{}/login", app.base))
        .send()
        .await
        .unwrap();
    let pre = first_cookie(&resp);
    let html = resp.text().await.unwrap();
    let csrf = csrf_in(&html);
    let resp = app
        .client
        .post(format!("{}/login", app.base))
        .header("cookie", &pre)
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", user),
            ("password", password),
            ("next", "/incidents"),
        ])
        .send()
        .await
        .unwrap();
    if resp.status() != StatusCode::SEE_OTHER {
        return Err(resp.status());
    }
    let cookie = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|v| v.starts_with("tocsin_session="))
        .unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let session = cookie.split(';').next().unwrap().to_string();
    let page = app
        .client
        .get(format!("{}/incidents", app.base))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let csrf = csrf_in(&html);
    Ok((session, csrf))
}

impl TestApp {
    /// Another user of `role`, with a password and an API token (returned).
    pub async fn add_user(&self, name: &str, role: Role) -> String {
        let actor = Actor::system("test");
        let u = NewUser::build(name, role, Some("password-123")).unwrap();
        let u = self.store.create_user(&actor, u).await.unwrap();
        let (t, secret) = ApiToken::generate(u.id, "test", None);
        self.store.write(&actor, Op::CreateToken(t)).await.unwrap();
        secret
    }

    /// A request with a given bearer token.
    pub async fn call_as(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let req = self
            .client
            .request(method, format!("{}{}", self.base, path))
            .bearer_auth(token);
        send(req, body).await
    }
}
