//! Pages for what was API-only, over real HTTP on a real SQLite file: a risk factor's history
//! (linked from the situation's risk table, sortable, with its total, within clearance), the
//! incident export form (the count within clearance, the download through the API with the
//! session) and an incident's tags (shown to readers, set by those who may update incidents).

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tocsin_domain::{Role, Tlp};

async fn get_page(app: &TestApp, cookie: &str, path: &str) -> (StatusCode, String) {
    let r = app
        .client
        .get(format!("{}{path}", app.base))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

fn factor(n: u32, level: &str) -> Value {
    json!({"factor": n, "level": level, "confidence": "medium",
           "rationale": format!("Rationale for factor {n} at {level}.")})
}

/// A situation labelled `tlp` with a published assessment per `(as_of, level of factor 1)`.
async fn assessed(app: &TestApp, b: &str, tlp: &str, levels: &[(&str, &str)]) -> String {
    let (s, v) = app
        .post(
            Role::Analyst,
            "/api/v1/situations",
            json!({"name": format!("CAR {tlp}"), "country": "CAF", "tlp": tlp}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let sid = v["id"].as_str().unwrap().to_string();
    for (as_of, level) in levels {
        let (s, v) = app
            .post(
                Role::Analyst,
                &format!("/api/v1/situations/{sid}/assessments"),
                json!({"as_of": as_of, "factors": [factor(1, level)]}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let ap = format!("/api/v1/assessments/{}", v["id"].as_str().unwrap());
        let (s, v) = app
            .call_as(b, Method::POST, &format!("{ap}/review"), Some(json!({})))
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let (s, v) = app
            .call_as(b, Method::POST, &format!("{ap}/publish"), Some(json!({})))
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    sid
}

/// The levels in the history table, in the order shown.
fn levels(html: &str) -> Vec<String> {
    html.split("<span class=\"level level-")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_risk_factors_history_has_a_page() {
    let app = TestApp::start().await;
    let b = app.add_user("analyst-b", Role::Analyst).await;
    let sid = assessed(
        &app,
        &b,
        "TLP:GREEN",
        &[
            ("2025-01-31", "high"),
            ("2025-04-30", "severe"),
            ("2025-07-31", "moderate"),
        ],
    )
    .await;
    let red = assessed(&app, &b, "TLP:RED", &[("2025-01-31", "low")]).await;
    let (cookie, _) = browser_login(&app, "viewer", "password-123").await.unwrap();
    // Linked from the situation's risk table.
    let (s, html) = get_page(&app, &cookie, &format!("/situations/{sid}")).await;
    assert_eq!(s, StatusCode::OK);
    let link = format!("href=\"/situations/{sid}/factors/1\"");
    assert!(html.contains(&link), "{html}");
    // Newest first, with the total and each assessment linked.
    let path = format!("/situations/{sid}/factors/1");
    let (s, html) = get_page(&app, &cookie, &path).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(
        html.contains("<p id=\"total\">3 published assessments of this situation give this factor a level.</p>"),
        "{html}"
    );
    assert_eq!(levels(&html), ["moderate", "severe", "high"]);
    assert_eq!(html.matches("href=\"/assessments/").count(), 3);
    // Sorted by level, and by date oldest first.
    let (_, html) = get_page(&app, &cookie, &format!("{path}?sort=level&dir=desc")).await;
    assert_eq!(levels(&html), ["severe", "high", "moderate"]);
    let (_, html) = get_page(&app, &cookie, &format!("{path}?sort=as_of&dir=asc")).await;
    assert_eq!(levels(&html), ["high", "severe", "moderate"]);
    // A factor the framework does not have, or an order that does not exist, is refused
    // naming it; a situation above the viewer's clearance is not there.
    let (s, html) = get_page(&app, &cookie, &format!("/situations/{sid}/factors/99")).await;
    assert!(s.is_client_error() && html.contains("factor"), "{s} {html}");
    let (s, html) = get_page(&app, &cookie, &format!("{path}?sort=colour")).await;
    assert!(s.is_client_error() && html.contains("sort"), "{s} {html}");
    let (s, _) = get_page(&app, &cookie, &format!("/situations/{red}/factors/1")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn incidents_are_exported_from_a_page() {
    let app = TestApp::start().await;
    let vac = ("Violence against civilians", "Attack");
    for d in ["2025-01-10", "2025-02-10", "2025-03-10"] {
        app.incident(Tlp::Green, "CAF", d, 6.0, 20.0, vac).await;
    }
    app.incident(Tlp::Green, "SSD", "2025-02-11", 7.0, 30.0, vac)
        .await;
    app.incident(Tlp::Red, "CAF", "2025-02-12", 6.0, 20.0, vac)
        .await;
    let (cookie, _) = browser_login(&app, "viewer", "password-123").await.unwrap();
    // Linked from the incident list, with its filters.
    let (_, html) = get_page(&app, &cookie, "/incidents?country=CAF").await;
    assert!(
        html.contains("href=\"/incidents/export?country=CAF\""),
        "{html}"
    );
    let (s, html) = get_page(&app, &cookie, "/incidents/export?country=CAF").await;
    assert_eq!(s, StatusCode::OK, "{html}");
    // The RED one is not counted for a viewer.
    assert!(
        html.contains("<p id=\"total\">3 incidents you may see match these filters"),
        "{html}"
    );
    assert!(html.contains("formaction=\"/api/v1/export\""), "{html}");
    let (_, html) = get_page(
        &app,
        &cookie,
        "/incidents/export?country=CAF&from=2025-02-01&format=geojson",
    )
    .await;
    assert!(
        html.contains("<p id=\"total\">2 incidents you may see match these"),
        "{html}"
    );
    assert!(
        html.contains("<option value=\"geojson\" selected>"),
        "{html}"
    );
    // The download button's request, as the browser sends it with the session.
    let r = app
        .client
        .get(format!(
            "{}/api/v1/export?country=CAF&from=2025-02-01&to=&event_type=&verification_status=&tlp=&format=csv",
            app.base
        ))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let csv = r.text().await.unwrap();
    assert_eq!(csv.lines().count(), 1 + 2, "header and two rows: {csv}");
    // Bad filters are refused naming the field.
    let (s, html) = get_page(&app, &cookie, "/incidents/export?from=yesterday").await;
    assert!(s.is_client_error() && html.contains("from"), "{s} {html}");
    let (s, html) = get_page(&app, &cookie, "/incidents/export?format=pdf").await;
    assert!(s.is_client_error() && html.contains("format"), "{s} {html}");
}

#[tokio::test]
async fn an_incidents_tags_are_set_on_its_page() {
    let app = TestApp::start().await;
    let vac = ("Violence against civilians", "Attack");
    let i = app
        .incident(Tlp::Green, "CAF", "2025-01-10", 6.0, 20.0, vac)
        .await;
    let path = format!("/incidents/{}", i.id);
    let (cookie, csrf) = browser_login(&app, "analyst", "password-123")
        .await
        .unwrap();
    let (_, html) = get_page(&app, &cookie, &path).await;
    assert!(
        html.contains("id=\"tags-form\"") && html.contains("No tags."),
        "{html}"
    );
    let r = app
        .client
        .post(format!("{}{path}/tags", app.base))
        .header("cookie", &cookie)
        .form(&[("csrf", csrf.as_str()), ("tags", "Market, night raid ,")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, v) = app
        .get(Role::Analyst, &format!("/api/v1/incidents/{}/tags", i.id))
        .await;
    let tags: Vec<String> = serde_json::from_value(v["tags"].clone()).unwrap();
    assert_eq!(tags.len(), 2, "{v}");
    let (_, html) = get_page(&app, &cookie, &path).await;
    for t in &tags {
        assert!(
            html.contains(&format!("<span class=\"tag\">{t}</span>")),
            "{html}"
        );
    }
    // A viewer sees them but has no form; a post of theirs is refused.
    let (vcookie, vcsrf) = browser_login(&app, "viewer", "password-123").await.unwrap();
    let (_, html) = get_page(&app, &vcookie, &path).await;
    assert!(!html.contains("id=\"tags-form\"") && html.contains("class=\"tag\""));
    let r = app
        .client
        .post(format!("{}{path}/tags", app.base))
        .header("cookie", &vcookie)
        .form(&[("csrf", vcsrf.as_str()), ("tags", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}
