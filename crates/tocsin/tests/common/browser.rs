//! Headless Chromium for the browser tests: Debian's `chromium` driven through
//! `chromedriver` over the W3C WebDriver protocol (plain JSON over HTTP, spoken here with
//! `reqwest`). Without them a test skips with a message; with `TOCSIN_REQUIRE_BROWSER=1` (as in
//! CI) it fails instead.

use serde_json::{json, Value};
use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// `tocsin user add NAME --role ROLE` with a password (for the login form); the API token.
pub fn add_user_with_password(dir: &Path, name: &str, role: &str, password: &str) -> String {
    let mut add = super::tocsin(
        dir,
        None,
        &["user", "add", name, "--role", role, "--password-stdin"],
    );
    add.stdin(Stdio::piped()).stdout(Stdio::piped());
    let mut child = add.spawn().unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "user add {name}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_string()
}

pub const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// The chromedriver and chromium binaries, or `None` (skip) when absent and not required.
pub fn browser() -> Option<(String, String)> {
    let find = |names: &[&str]| {
        names.iter().find_map(|n| {
            Command::new(n)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .ok()
                .filter(|s| s.success())
                .map(|_| n.to_string())
        })
    };
    let driver = find(&["chromedriver", "/usr/bin/chromedriver"]);
    let chromium = find(&["chromium", "/usr/bin/chromium", "chromium-browser"]);
    match driver.zip(chromium) {
        Some(found) => Some(found),
        None => {
            assert!(
                std::env::var("TOCSIN_REQUIRE_BROWSER").as_deref() != Ok("1"),
                "TOCSIN_REQUIRE_BROWSER=1 but chromium or chromedriver is missing \
                 (apt-get install -y chromium chromium-driver)"
            );
            eprintln!(
                "skipping the browser test: chromium or chromedriver is not installed \
                 (apt-get install -y chromium chromium-driver; TOCSIN_REQUIRE_BROWSER=1 makes this a failure)"
            );
            None
        }
    }
}

/// A running chromedriver, killed when dropped.
pub struct Driver {
    child: Child,
    pub base: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One WebDriver session.
pub struct Session {
    pub http: reqwest::Client,
    pub url: String,
}

impl Session {
    pub async fn cmd(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.http.request(method, format!("{}{}", self.url, path));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("chromedriver answers");
        let status = resp.status();
        let v: Value = resp.json().await.expect("chromedriver answers JSON");
        assert!(status.is_success(), "WebDriver {path}: {status} {v}");
        v["value"].clone()
    }

    pub async fn goto(&self, url: &str) {
        self.cmd(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    /// The element `css` selects (waiting for it up to the implicit timeout).
    pub async fn find(&self, css: &str) -> String {
        let v = self
            .cmd(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        match v[ELEMENT].as_str() {
            Some(e) => e.to_string(),
            None => {
                let page = self.cmd(reqwest::Method::GET, "/source", None).await;
                panic!("no element {css}: {v}\npage: {page}")
            }
        }
    }

    pub async fn click(&self, css: &str) {
        let e = self.find(css).await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{e}/click"),
            Some(json!({})),
        )
        .await;
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{e}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    pub async fn current_url(&self) -> String {
        self.cmd(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap()
            .to_string()
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub async fn start_driver(driver: &str) -> Driver {
    let port = free_port();
    let child = Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let d = Driver {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let http = reqwest::Client::new();
    for _ in 0..100 {
        if let Ok(r) = http.get(format!("{}/status", d.base)).send().await {
            if r.json::<Value>()
                .await
                .ok()
                .and_then(|v| v["value"]["ready"].as_bool())
                == Some(true)
            {
                return d;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not become ready");
}

impl Session {
    /// A new headless session of `chromium` on `driver`, with `extra` command-line switches
    /// and a 10 s implicit wait; its profile lives as long as the session.
    pub async fn start(driver: &Driver, chromium: &str, profile: &Path, extra: &[&str]) -> Session {
        Session::start_with(driver, chromium, profile, extra, json!({})).await
    }

    /// [`Session::start`] with more capabilities (e.g. `goog:loggingPrefs`).
    pub async fn start_with(
        driver: &Driver,
        chromium: &str,
        profile: &Path,
        extra: &[&str],
        caps: Value,
    ) -> Session {
        let http = reqwest::Client::new();
        let mut args: Vec<String> = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        args.extend(extra.iter().map(|s| s.to_string()));
        // No password manager, autofill or search suggestions: they call Google's services.
        let prefs = json!({"credentials_enable_service": false,
            "profile": {"password_manager_enabled": false, "password_manager_leak_detection": false},
            "autofill": {"profile_enabled": false, "credit_card_enabled": false},
            "search": {"suggest_enabled": false}, "signin": {"allowed": false}});
        let mut always = json!({
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": chromium_path(chromium), "args": args, "prefs": prefs }
        });
        if let (Some(a), Some(c)) = (always.as_object_mut(), caps.as_object()) {
            a.extend(c.clone());
        }
        let created: Value = http
            .post(format!("{}/session", driver.base))
            .json(&json!({"capabilities": {"alwaysMatch": always}}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let sid = created["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("a WebDriver session: {created}"))
            .to_string();
        let s = Session {
            http,
            url: format!("{}/session/{sid}", driver.base),
        };
        s.cmd(
            reqwest::Method::POST,
            "/timeouts",
            Some(json!({"implicit": 10_000, "pageLoad": 30_000, "script": 60_000})),
        )
        .await;
        s
    }

    /// Run `script` (a function body; `arguments` are `args`) in the page and return its value.
    pub async fn script(&self, script: &str, args: Value) -> Value {
        self.cmd(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({ "script": script, "args": args })),
        )
        .await
    }

    /// Like [`Session::script`], for a script that calls `arguments[arguments.length - 1]`
    /// with its answer.
    pub async fn script_async(&self, script: &str, args: Value) -> Value {
        self.cmd(
            reqwest::Method::POST,
            "/execute/async",
            Some(json!({ "script": script, "args": args })),
        )
        .await
    }

    /// Log in through the login form as `user`, then wait for the navigation bar.
    pub async fn login(&self, base: &str, user: &str, password: &str, next: &str) {
        self.goto(&format!("{base}/login?next={next}")).await;
        self.type_into("input[name=username]", user).await;
        self.type_into("input[name=password]", password).await;
        self.click("form button[type=submit]").await;
        self.find("nav a[href='/map']").await;
    }

    /// Save a PNG screenshot of the window to `path`.
    pub async fn screenshot(&self, path: &Path) {
        use base64::Engine as _;
        let v = self.cmd(reqwest::Method::GET, "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().expect("screenshot data"))
            .expect("base64 screenshot");
        std::fs::write(path, png).expect("write screenshot");
    }

    /// End the session (closes the browser).
    pub async fn quit(&self) {
        let _ = self.cmd(reqwest::Method::DELETE, "", None).await;
    }
}

/// The absolute path of the chromium binary found.
pub fn chromium_path(found: &str) -> String {
    if found.starts_with('/') {
        return found.to_string();
    }
    std::env::var_os("PATH")
        .and_then(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join(found))
                .find(|f| f.is_file())
        })
        .map(|f| f.display().to_string())
        .unwrap_or_else(|| found.to_string())
}

/// Chromium's switches for WebGL2 without a GPU.
pub const SOFTWARE_GL: [&str; 4] = [
    "--use-gl=angle",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--window-size=1280,900",
];

/// Chromium's own background traffic off, so every request is the page's.
pub const QUIET: [&str; 11] = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--no-pings",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--no-default-browser-check",
    "--password-store=basic",
    "--disable-search-engine-choice-screen",
    "--disable-features=AutofillServerCommunication,PasswordLeakDetection,OptimizationHints,\
     Translate,MediaRouter,NetworkTimeServiceQuerying,PreconnectToSearch,SignInProfileCreation,\
     PasswordManagerOnboarding",
];

/// A forward proxy Chromium sends every request through (loopback too), recording each
/// request's URL and forwarding only those for the server: what the page and MapLibre's worker
/// asked of which host.
pub struct Proxy {
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// Each request's URL (`host:port` for a CONNECT tunnel) and whether it carried Fetch
    /// Metadata (`Sec-Fetch-Mode`: made by a page or a worker).
    pub seen: Arc<Mutex<Vec<(String, bool)>>>,
}

/// Hosts Chromium itself calls in the background even with the switches in [`QUIET`] (update
/// checks and component downloads, the account probe, the default search engine's preconnect): tunnels to exactly
/// these are not the page's. Any other host fails the test (a web font or tile CDN would).
pub const CHROMIUM_SERVICES: [&str; 8] = [
    "redirector.gvt1.com",
    "update.googleapis.com",
    "accounts.google.com",
    "clients2.google.com",
    "content-autofill.googleapis.com",
    "passwordsleakcheck-pa.googleapis.com",
    "optimizationguide-pa.googleapis.com",
    "start.duckduckgo.com",
];

pub async fn start_proxy(server: &str) -> Proxy {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen: Arc<Mutex<Vec<(String, bool)>>> = Arc::default();
    let log = seen.clone();
    let server = server.to_string();
    let client = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
        let (log, server, client) = (log.clone(), server.clone(), client.clone());
        async move {
            use axum::response::IntoResponse;
            let url = req.uri().to_string();
            // Requests of a page or its workers carry Fetch Metadata; Chromium's own do not.
            let web = req.headers().contains_key("sec-fetch-mode");
            log.lock().unwrap().push((url.clone(), web));
            if !url.starts_with(&format!("{server}/")) {
                return (axum::http::StatusCode::FORBIDDEN, "not the server").into_response();
            }
            let (parts, body) = req.into_parts();
            let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
            let mut fwd = client.request(parts.method, &url).body(body);
            for (k, v) in &parts.headers {
                if !matches!(k.as_str(), "host" | "connection" | "proxy-connection") {
                    fwd = fwd.header(k, v);
                }
            }
            let r = fwd.send().await.unwrap();
            let mut out = axum::http::Response::builder().status(r.status());
            for (k, v) in r.headers() {
                if !matches!(k.as_str(), "connection" | "transfer-encoding") {
                    out = out.header(k, v);
                }
            }
            out.body(axum::body::Body::from(r.bytes().await.unwrap()))
                .unwrap()
        }
    });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Proxy { port, seen }
}

/// Every request a page or worker made went to `base`; any other went to one of Chromium's own
/// background services.
pub fn assert_only_the_server(base: &str, seen: &[(String, bool)]) {
    let ours = |u: &str| u.starts_with(&format!("{base}/"));
    assert!(
        seen.iter()
            .any(|(u, web)| *web && ours(u) && u.contains("/tiles/"))
            && seen
                .iter()
                .any(|(u, web)| *web && ours(u) && u.contains("/glyphs/")),
        "every request went through the proxy, the worker's too: {seen:?}"
    );
    let foreign: Vec<&(String, bool)> = seen
        .iter()
        .filter(|(u, web)| {
            let host = u
                .trim_start_matches("http://")
                .split(['/', ':'])
                .next()
                .unwrap_or("");
            !ours(u) && (*web || !CHROMIUM_SERVICES.contains(&host))
        })
        .collect();
    assert!(foreign.is_empty(), "requests to other hosts: {foreign:?}");
}
