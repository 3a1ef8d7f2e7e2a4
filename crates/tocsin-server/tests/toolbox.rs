//! The prevention toolbox over real HTTP: any logged-in user reads it (API and pages), nobody
//! else does, and bad input is a clear 4xx.

mod common;

use common::{browser_login, TestApp};
use reqwest::Method;
use tocsin_domain::Role;

#[tokio::test]
async fn any_logged_in_user_reads_the_toolbox_and_its_records() {
    let app = TestApp::start().await;
    for role in Role::ALL {
        let (s, doc) = app.get(role, "/api/v1/toolbox").await;
        assert_eq!(s, 200, "{role:?}");
        assert_eq!(doc["measures"].as_array().unwrap().len(), 40);
        assert_eq!(doc["precedents"].as_array().unwrap().len(), 18);
        assert_eq!(doc["tlp"], "CLEAR");
    }
    let (s, _) = app.call(None, Method::GET, "/api/v1/toolbox", None).await;
    assert_eq!(s, 401);
    let (s, _) = app
        .call(None, Method::GET, "/api/v1/toolbox/arms_embargo", None)
        .await;
    assert_eq!(s, 401);

    let (s, m) = app.get(Role::Viewer, "/api/v1/toolbox/arms_embargo").await;
    assert_eq!(s, 200);
    assert_eq!(m["kind"], "measure");
    assert_eq!(m["name"], "Arms embargoes and transfer restraint");
    assert_eq!(m["risk_factors"], serde_json::json!([1, 5]));
    assert!(m["to_check"].is_array());
    let (s, p) = app.get(Role::Viewer, "/api/v1/toolbox/rwa_1994").await;
    assert_eq!(s, 200);
    assert_eq!(p["kind"], "precedent");
    assert_eq!(p["assessment"], "failure");
    assert_eq!(p["iso3"], "RWA");
    let (s, e) = app.get(Role::Viewer, "/api/v1/toolbox/no_such_thing").await;
    assert_eq!(s, 404, "{e}");

    // Suggestions for the risk factors an assessment rates high, best-covering first.
    let (s, doc) = app
        .get(Role::Analyst, "/api/v1/toolbox?risk_factors=4,8,9")
        .await;
    assert_eq!(s, 200);
    let ids: Vec<&str> = doc["measures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(&ids[..2], ["private_diplomacy", "high_level_envoy"]);
    assert!(!ids.contains(&"arms_embargo"));
    for bad in ["15", "0", "four", "4,,8"] {
        let (s, e) = app
            .get(
                Role::Analyst,
                &format!("/api/v1/toolbox?risk_factors={bad}"),
            )
            .await;
        assert_eq!(s, 400, "{bad}: {e}");
        assert_eq!(e["field"], "risk_factors");
    }
    let (s, _) = app.get(Role::Analyst, "/api/v1/toolbox?colour=red").await;
    assert_eq!(s, 400);

    let (_, doc) = app.get(Role::Viewer, "/api/v1/openapi.json").await;
    assert!(doc["paths"]["/api/v1/toolbox"].is_object());
    assert!(doc["paths"]["/api/v1/toolbox/{id}"].is_object());
}

#[tokio::test]
async fn toolbox_pages_list_measures_with_their_marks() {
    let app = TestApp::start().await;
    let (session, _) = browser_login(&app, "viewer", "password-123").await.unwrap();
    let get = |path: &str| {
        let req = app
            .client
            .get(format!("{}{}", app.base, path))
            .header("cookie", &session);
        async move {
            let r = req.send().await.unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let (s, html) = get("/toolbox").await;
    assert_eq!(s, 200);
    assert!(html.contains("Private diplomacy: warnings and inducements"));
    assert!(html.contains("href=\"/toolbox/private_diplomacy\""));
    assert!(html.contains("early warning, crisis"));
    assert!(html.contains("href=\"/framework#rf8\""));
    assert!(html.contains(">check</span>"), "to-check marks are shown");
    assert!(html.contains("Rwanda"));
    let (s, html) = get("/toolbox/private_diplomacy").await;
    assert_eq!(s, 200);
    assert!(html.contains("To check: source S7"));
    assert!(html.contains("href=\"/toolbox/ken_2008_mediation\""));
    let (s, html) = get("/toolbox/ken_2008_mediation").await;
    assert_eq!(s, 200);
    assert!(html.contains("Kenya: post-election crisis"));
    assert!(html.contains("href=\"/toolbox/private_diplomacy\""));
    let (s, _) = get("/toolbox/no_such_thing").await;
    assert_eq!(s, 404);
    // Without a session, no page.
    let r = app
        .client
        .get(format!("{}/toolbox", app.base))
        .send()
        .await
        .unwrap();
    assert_ne!(r.status(), 200);
}
