//! The triage page driven in headless Chromium against a real `tocsin serve`: log in, open
//! `/triage`, click "Create incident" on a report, click the prefilled form's submit button —
//! two clicks — and the incident exists with the report linked, and the report has left the
//! queue. The browser is Debian's `chromium` driven through `chromedriver` over the W3C
//! WebDriver protocol (plain JSON over HTTP, spoken here with `reqwest`).
//!
//! Without `chromedriver` the test skips with a message; with `TOCSIN_REQUIRE_BROWSER=1` (as in
//! CI) it fails instead.

mod common;

use common::*;
use serde_json::{json, Value};
use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// The chromedriver and chromium binaries, or `None` (skip) when absent and not required.
fn browser() -> Option<(String, String)> {
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
struct Driver {
    child: Child,
    base: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One WebDriver session.
struct Session {
    http: reqwest::Client,
    url: String,
}

impl Session {
    async fn cmd(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
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

    async fn goto(&self, url: &str) {
        self.cmd(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    /// The element `css` selects (waiting for it up to the implicit timeout).
    async fn find(&self, css: &str) -> String {
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

    async fn click(&self, css: &str) {
        let e = self.find(css).await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{e}/click"),
            Some(json!({})),
        )
        .await;
    }

    async fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{e}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    async fn current_url(&self) -> String {
        self.cmd(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap()
            .to_string()
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start_driver(driver: &str) -> Driver {
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

#[tokio::test]
async fn a_report_becomes_an_incident_with_two_clicks() {
    let Some((driver, chromium)) = browser() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut add = tocsin(
        d,
        None,
        &[
            "user",
            "add",
            "ana",
            "--role",
            "analyst",
            "--password-stdin",
        ],
    );
    add.stdin(Stdio::piped()).stdout(Stdio::piped());
    let mut child = add.spawn().unwrap();
    writeln!(child.stdin.take().unwrap(), "a long test password").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let token = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_string();
    let server = Server::start(d, None);
    let api = reqwest::Client::new();
    let text = "Armed men burned houses in Bria this morning";
    let r: Value = api
        .post(format!("{}/api/v1/reports", server.base))
        .bearer_auth(&token)
        .json(
            &json!({"text": text, "latitude": 6.54, "longitude": 21.99, "country": "CAF",
                      "tlp": "TLP:AMBER"}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let report = r["id"].as_str().expect("report stored").to_string();

    let drv = start_driver(&driver).await;
    let profile = tempfile::tempdir().unwrap();
    let http = reqwest::Client::new();
    let created: Value = http
        .post(format!("{}/session", drv.base))
        .json(&json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium_path(&chromium),
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--no-first-run",
                         format!("--user-data-dir={}", profile.path().display())]
            }
        }}}))
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
        http: http.clone(),
        url: format!("{}/session/{sid}", drv.base),
    };
    s.cmd(
        reqwest::Method::POST,
        "/timeouts",
        Some(json!({"implicit": 10_000, "pageLoad": 30_000})),
    )
    .await;

    // Log in.
    s.goto(&format!("{}/login?next=/triage", server.base)).await;
    s.type_into("input[name=username]", "ana").await;
    s.type_into("input[name=password]", "a long test password")
        .await;
    s.click("form button[type=submit]").await;
    s.find("nav a[href='/triage']").await;

    // The queue shows the report; click 1: its "Create incident"; click 2: the form's submit.
    s.goto(&format!("{}/triage", server.base)).await;
    s.find(&format!("tr#r-{report}")).await;
    s.click(&format!("tr#r-{report} a.create")).await;
    s.find("#create-incident").await;
    s.click("#create-incident").await;
    let mut url = s.current_url().await;
    // Until the submit has navigated: still on the form (`/incidents/new?reports=…`) or on
    // the POST's answer, the page has not moved on yet.
    for _ in 0..100 {
        if !url.contains("/incidents/new") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        url = s.current_url().await;
    }
    let incident = url
        .rsplit("/incidents/")
        .next()
        .filter(|id| uuid::Uuid::parse_str(id).is_ok())
        .unwrap_or_else(|| panic!("the submit leads to the new incident's page, not {url}"))
        .to_string();
    let _ = s.cmd(reqwest::Method::DELETE, "", None).await;

    let i: Value = api
        .get(format!("{}/api/v1/incidents/{incident}", server.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(i["report_ids"], json!([report]), "{i}");
    assert_eq!(i["description"], text);
    assert_eq!(i["country"], "CAF");
    assert_eq!(i["tlp"], "TLP:AMBER");
    let q: Value = api
        .get(format!("{}/api/v1/triage", server.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(q["items"], json!([]), "the report left the queue: {q}");
}

/// The absolute path of the chromium binary found.
fn chromium_path(found: &str) -> String {
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
