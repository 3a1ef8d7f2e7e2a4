//! The triage page driven in headless Chromium against a real `tocsin serve`: log in, open
//! `/triage`, click "Create incident" on a report, click the prefilled form's submit button —
//! two clicks — and the incident exists with the report linked, and the report has left the
//! queue. The browser is Debian's `chromium` driven through `chromedriver` over the W3C
//! WebDriver protocol (plain JSON over HTTP, spoken here with `reqwest`).
//!
//! Without `chromedriver` the test skips with a message; with `TOCSIN_REQUIRE_BROWSER=1` (as in
//! CI) it fails instead.

mod common;

use common::browser::*;
use common::*;
use serde_json::{json, Value};
use std::time::Duration;

#[tokio::test]
async fn a_report_becomes_an_incident_with_two_clicks() {
    let Some((driver, chromium)) = browser() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let token = add_user_with_password(d, "ana", "analyst", "a long test password");
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
    let s = Session::start(&drv, &chromium, profile.path(), &[]).await;

    s.login(&server.base, "ana", "a long test password", "/triage")
        .await;

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
