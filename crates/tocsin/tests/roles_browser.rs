//! Every role at home, driven in headless Chromium against a real `tocsin serve`: each role
//! logs in through the form and lands on its own dashboard (the tiles its work needs, counted
//! within its clearance, and no other); then an analyst ticks TWO reports in the triage queue,
//! creates one incident from them and submits the prefilled form, and the incident links both.
//! No page asks any host but the server.
//!
//! Without `chromedriver` the test skips with a message; with `TOCSIN_REQUIRE_BROWSER=1` (as in
//! CI) it fails instead.

mod common;

use common::browser::*;
use common::*;
use serde_json::{json, Value};
use std::time::Duration;

/// The text of the element `css` selects, or `None` when there is none.
async fn text_of(s: &Session, css: &str) -> Option<String> {
    let v = s
        .script(
            "var e = document.querySelector(arguments[0]); return e ? e.textContent : null;",
            json!([css]),
        )
        .await;
    v.as_str()
        .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// A role, the tiles its landing page shows (selector, count) and those it does not.
type Landing<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a [&'a str]);

#[tokio::test]
async fn each_role_lands_at_home_and_two_reports_become_one_incident() {
    let Some((driver, chromium)) = browser() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let password = "a long test password";
    let roles = [
        "admin",
        "analyst",
        "desk_officer",
        "monitor_coordinator",
        "viewer",
    ];
    let mut tokens = std::collections::HashMap::new();
    for r in roles {
        tokens.insert(r, add_user_with_password(d, r, r, password));
    }
    let server = Server::start(d, None);
    let api = reqwest::Client::new();
    let mut reports = Vec::new();
    for (text, tlp) in [
        ("Armed men burned houses in Bria this morning", "TLP:GREEN"),
        (
            "Houses burning in Bria, people fleeing to the river",
            "TLP:RED",
        ),
    ] {
        let r: Value = api
            .post(format!("{}/api/v1/reports", server.base))
            .bearer_auth(&tokens["analyst"])
            .json(&json!({"text": text, "latitude": 6.54, "longitude": 21.99,
                          "country": "CAF", "tlp": tlp}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        reports.push(r["id"].as_str().expect("report stored").to_string());
    }

    let drv = start_driver(&driver).await;
    let profile = tempfile::tempdir().unwrap();
    let s = Session::start(&drv, &chromium, profile.path(), &[]).await;

    // Each role: its landing page, with the tiles its work needs and no others. The RED
    // report is counted only for those cleared for it.
    // (role, tiles present with their counts, tiles absent)
    let expect: [Landing; 5] = [
        (
            "admin",
            &[
                ("#tile-new-reports .count", "2"),
                ("#tile-users .count", "5"),
            ],
            &["#tile-assessments"],
        ),
        (
            "analyst",
            &[
                ("#tile-new-reports .count", "2"),
                ("#tile-assessments .count", "0"),
            ],
            &["#tile-users", "#tile-audit"],
        ),
        (
            "desk_officer",
            &[
                ("#tile-new-reports .count", "1"),
                ("#tile-open-alerts .count", "0"),
            ],
            &["#tile-users", "#tile-assessments"],
        ),
        (
            "monitor_coordinator",
            &[
                ("#tile-new-reports .count", "1"),
                ("#tile-unverified .count", "0"),
            ],
            &["#tile-users", "#tile-audit"],
        ),
        (
            "viewer",
            &[
                ("#tile-unverified .count", "0"),
                ("#tile-signals .count", "0"),
            ],
            &["#tile-new-reports", "#tile-users"],
        ),
    ];
    for (role, present, absent) in expect {
        s.cmd(reqwest::Method::DELETE, "/cookie", None).await;
        s.login(&server.base, role, password, "/").await;
        s.find("#tiles").await;
        assert!(s.current_url().await.ends_with('/'), "{role} lands on /");
        let who = text_of(&s, "nav .who").await.unwrap_or_default();
        assert!(who.starts_with(&format!("{role} · {role}")), "{who}");
        for (css, n) in present {
            assert_eq!(text_of(&s, css).await.as_deref(), Some(*n), "{role} {css}");
        }
        for css in absent {
            assert_eq!(text_of(&s, css).await, None, "{role} {css}");
        }
        if let Ok(out) = std::env::var("TOCSIN_SCREENSHOTS") {
            s.screenshot(&std::path::Path::new(&out).join(format!("home-{role}.png")))
                .await;
        }
    }

    // The analyst ticks both reports in the triage queue and makes one incident of them.
    s.cmd(reqwest::Method::DELETE, "/cookie", None).await;
    s.login(&server.base, "analyst", password, "/triage").await;
    s.goto(&format!("{}/triage", server.base)).await;
    for r in &reports {
        s.click(&format!("tr#r-{r} input.pick")).await;
    }
    s.click("#create-from-selected").await;
    s.find("#create-incident").await;
    let form_url = s.current_url().await;
    assert!(form_url.contains("/incidents/new"), "{form_url}");
    s.click("#create-incident").await;
    let mut url = s.current_url().await;
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

    // Every resource any page loaded came from the server itself.
    let hosts = s
        .script(
            "return performance.getEntriesByType('resource').map(function (e) { return e.name; })",
            json!([]),
        )
        .await;
    for h in hosts.as_array().into_iter().flatten() {
        let h = h.as_str().unwrap_or_default();
        assert!(h.starts_with(&server.base), "a page asked {h}");
    }
    s.quit().await;

    let i: Value = api
        .get(format!("{}/api/v1/incidents/{incident}", server.base))
        .bearer_auth(&tokens["analyst"])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut linked: Vec<String> = i["report_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    linked.sort();
    let mut want = reports.clone();
    want.sort();
    assert_eq!(linked, want, "both reports linked: {i}");
    assert_eq!(
        i["tlp"], "TLP:RED",
        "the higher of the reports' labels: {i}"
    );
    let q: Value = api
        .get(format!("{}/api/v1/triage", server.base))
        .bearer_auth(&tokens["analyst"])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(q["items"], json!([]), "both reports left the queue: {q}");
}
