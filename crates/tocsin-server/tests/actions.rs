//! Action plans over real HTTP on a real SQLite file: the API (suggestions from the latest
//! published assessment only, the whole-of-government view and its gaps, the status workflow
//! answered 409 or 422 naming the field, clearance) and the web pages (plan, create from a
//! suggested measure, status change, the view with gaps in words), without JavaScript.

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tocsin_domain::{Actor, NewSituation, Role, Situation, Tlp};
use tocsin_store::StoreExt;

fn factor(n: u32, level: &str) -> Value {
    json!({"factor": n, "level": level, "confidence": "medium", "rationale": "seen in the field"})
}

/// An assessment of the situation, published by a second analyst when `publish`.
async fn assessment(
    app: &TestApp,
    b: &str,
    sit: &str,
    as_of: &str,
    factors: Vec<Value>,
    publish: bool,
) {
    let (s, v) = app
        .post(
            Role::Analyst,
            &format!("/api/v1/situations/{sit}/assessments"),
            json!({"framework": "un-foa-2014", "as_of": as_of, "factors": factors}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let ap = format!("/api/v1/assessments/{}", v["id"].as_str().unwrap());
    if publish {
        for step in ["review", "publish"] {
            let (s, v) = app
                .call_as(b, Method::POST, &format!("{ap}/{step}"), Some(json!({})))
                .await;
            assert_eq!(s, StatusCode::OK, "{step}: {v}");
        }
    }
}

fn ids(v: &Value, key: &str) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| {
            x.pointer(key)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

#[tokio::test]
async fn action_plans_over_the_api() {
    let app = TestApp::start().await;
    let b = app.add_user("analyst-b", Role::Analyst).await;
    let (s, v) = app
        .post(
            Role::Analyst,
            "/api/v1/situations",
            json!({"name": "CAR north-west", "country": "CAF", "tlp": "TLP:GREEN"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let sit = v["id"].as_str().unwrap().to_string();

    // Published: 14 severe, 5 high. A newer draft rates 10 severe and must not count.
    assessment(
        &app,
        &b,
        &sit,
        "2026-01-01",
        vec![
            factor(14, "severe"),
            factor(5, "high"),
            factor(2, "moderate"),
        ],
        true,
    )
    .await;
    assessment(
        &app,
        &b,
        &sit,
        "2026-02-01",
        vec![factor(10, "severe")],
        false,
    )
    .await;
    let (s, sug) = app
        .get(
            Role::Viewer,
            &format!("/api/v1/situations/{sit}/suggested-measures"),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{sug}");
    let measures = ids(&sug["measures"], "/measure/id");
    assert_eq!(
        &measures[..2],
        ["poc_peacekeeping", "humanitarian_access"],
        "{measures:?}"
    );
    assert!(measures.contains(&"targeted_sanctions".to_string()));
    assert!(
        !measures.contains(&"counter_speech".to_string()),
        "a draft's level counts: {measures:?}"
    );
    assert_eq!(sug["measures"][0]["factors"][0]["factor"], 14);
    assert_eq!(sug["measures"][0]["level"], "severe");
    assert!(
        sug["measures"][0]["measure"]["to_check"].is_array(),
        "the to-check marks stay visible"
    );

    // Record an action: a desk officer may, for their own desk only; field errors name the
    // field.
    let body = json!({"measure_id": "humanitarian_access", "situation_id": sit, "department": "development",
                      "lead": "desk_officer", "due_date": "2026-01-15"});
    let (s, e) = app
        .post(Role::DeskOfficer, "/api/v1/actions", body.clone())
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "no desk named: {e}");
    let (s, d) = app
        .post(
            Role::Admin,
            "/api/v1/desks",
            json!({"name": "Relief desk", "department": "development", "members": ["desk_officer"],
                   "escalation": [{"after": "15m", "notify": {"user": "desk_officer"}}]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{d}");
    let mut body = body;
    body["desk_id"] = d["id"].clone();
    let (s, a) = app
        .post(Role::DeskOfficer, "/api/v1/actions", body.clone())
        .await;
    assert_eq!(s, StatusCode::CREATED, "{a}");
    assert_eq!(a["status"], "planned");
    assert_eq!(a["risk_factors"], json!([13, 14]));
    let act = a["id"].as_str().unwrap().to_string();
    for (field, value, want) in [
        (
            "measure_id",
            json!("nope"),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "department",
            json!("ministry of magic"),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        ("lead", json!("nobody"), StatusCode::UNPROCESSABLE_ENTITY),
        ("due_date", json!("next week"), StatusCode::BAD_REQUEST),
        ("colour", json!("red"), StatusCode::BAD_REQUEST),
    ] {
        let mut bad = body.clone();
        bad[field] = value;
        let (s, e) = app.post(Role::Analyst, "/api/v1/actions", bad).await;
        assert_eq!(
            (s, e["field"].as_str()),
            (want, Some(field)),
            "{field}: {e}"
        );
    }
    let (s, _) = app
        .post(Role::Viewer, "/api/v1/actions", body.clone())
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // The view: 14 is addressed by development's action, 5 is a gap.
    let (s, v) = app
        .get(Role::Viewer, &format!("/api/v1/situations/{sit}/response"))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        v["gaps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["factor"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        vec![5]
    );
    let row14 = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["factor"] == 14)
        .unwrap();
    assert_eq!(row14["gap"], false);
    let dev = row14["cells"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["department"] == "development")
        .unwrap();
    assert_eq!(dev["actions"][0]["id"], act.as_str());
    let row5 = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["factor"] == 5)
        .unwrap();
    assert_eq!(
        (row5["gap"].as_bool(), row5["level"].as_str()),
        (Some(true), Some("high"))
    );

    // Status workflow: done without an outcome is 422 naming it; after dropped, 409.
    let path = format!("/api/v1/actions/{act}");
    let patch = |body: Value| app.call(Some(Role::DeskOfficer), Method::PATCH, &path, Some(body));
    let (s, e) = patch(json!({"status": "done"})).await;
    assert_eq!(
        (s, e["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("outcome")),
        "{e}"
    );
    let (s, e) = patch(json!({"status": "finished"})).await;
    assert_eq!(
        (s, e["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("status")),
        "{e}"
    );
    let (s, a) = patch(json!({"status": "in_progress", "expected_version": 1})).await;
    assert_eq!((s, a["version"].as_i64()), (StatusCode::OK, Some(2)), "{a}");
    let (s, _) = patch(json!({"status": "planned", "expected_version": 1})).await;
    assert_eq!(s, StatusCode::CONFLICT, "a stale version");
    let (s, a) = patch(json!({"status": "dropped", "outcome": "No access granted"})).await;
    assert_eq!(
        (s, a["status"].as_str()),
        (StatusCode::OK, Some("dropped")),
        "{a}"
    );
    let (s, e) = patch(json!({"status": "in_progress"})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    assert!(e["error"].as_str().unwrap().contains("final"), "{e}");
    let (_, v) = app
        .get(Role::Viewer, &format!("/api/v1/situations/{sit}/response"))
        .await;
    assert_eq!(
        v["gaps"].as_array().unwrap().len(),
        2,
        "a dropped action addresses nothing: {v}"
    );
    let (s, got) = app.get(Role::Viewer, &path).await;
    assert_eq!(
        (s, got["outcome"].as_str()),
        (StatusCode::OK, Some("No access granted"))
    );

    // Clearance: a TLP:RED situation's action does not exist for a TLP:AMBER desk officer.
    let red = Situation::parse(NewSituation {
        name: "Secret".into(),
        country: "CAF".into(),
        admin1: None,
        status: None,
        description: None,
        tlp: Some(Tlp::Red),
    })
    .unwrap();
    let red = app
        .store
        .create_situation(&Actor::system("test"), red)
        .await
        .unwrap();
    let (s, secret) = app
        .post(
            Role::Analyst,
            "/api/v1/actions",
            json!({"measure_id": "arms_embargo", "situation_id": red.id, "department": "defence",
                   "lead": "analyst", "due_date": "2026-01-02"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{secret}");
    let secret_path = format!("/api/v1/actions/{}", secret["id"].as_str().unwrap());
    for role in [Role::DeskOfficer, Role::Viewer] {
        let (s, _) = app.get(role, &secret_path).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{role:?}");
        // The role is checked first: a viewer may not change actions at all.
        let want = if role == Role::Viewer {
            StatusCode::FORBIDDEN
        } else {
            StatusCode::NOT_FOUND
        };
        let (s, _) = app
            .call(
                Some(role),
                Method::PATCH,
                &secret_path,
                Some(json!({"notes": "x"})),
            )
            .await;
        assert_eq!(s, want, "{role:?}");
        for view in ["response", "suggested-measures"] {
            let (s, _) = app
                .get(role, &format!("/api/v1/situations/{}/{view}", red.id))
                .await;
            assert_eq!(s, StatusCode::NOT_FOUND, "{role:?} {view}");
        }
        let (_, list) = app.get(role, "/api/v1/actions").await;
        assert_eq!(ids(&list["items"], "/id"), vec![act.clone()], "{role:?}");
        let (s, _) = app
            .get(role, &format!("/api/v1/actions?situation={}", red.id))
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{role:?}");
    }
    let (s, _) = app.get(Role::Analyst, &secret_path).await;
    assert_eq!(s, StatusCode::OK);
    let (_, list) = app
        .get(Role::Analyst, "/api/v1/actions?overdue=true&lead=analyst")
        .await;
    assert_eq!(
        ids(&list["items"], "/id"),
        vec![secret["id"].as_str().unwrap().to_string()]
    );
    let (s, e) = app
        .get(Role::Analyst, "/api/v1/actions?status=finished")
        .await;
    assert_eq!(
        (s, e["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("status"))
    );
    let (s, e) = app
        .get(Role::Analyst, "/api/v1/actions?overdue=maybe")
        .await;
    assert_eq!(
        (s, e["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("overdue"))
    );

    // The OpenAPI document lists the routes.
    let (_, doc) = app.get(Role::Viewer, "/api/v1/openapi.json").await;
    for p in [
        "/api/v1/actions",
        "/api/v1/actions/{id}",
        "/api/v1/situations/{id}/suggested-measures",
        "/api/v1/situations/{id}/response",
    ] {
        assert!(doc["paths"][p].is_object(), "{p} missing from OpenAPI");
    }
}

#[tokio::test]
async fn action_plan_pages_work_without_javascript() {
    let app = TestApp::start().await;
    let b = app.add_user("analyst-b", Role::Analyst).await;
    let (_, v) = app
        .post(
            Role::Analyst,
            "/api/v1/situations",
            json!({"name": "CAR north-west", "country": "CAF", "tlp": "TLP:GREEN"}),
        )
        .await;
    let sit = v["id"].as_str().unwrap().to_string();
    assessment(
        &app,
        &b,
        &sit,
        "2026-01-01",
        vec![factor(14, "severe"), factor(5, "high")],
        true,
    )
    .await;

    let (cookie, csrf) = browser_login(&app, "analyst", "password-123")
        .await
        .unwrap();
    let get = |path: String| {
        let req = app
            .client
            .get(format!("{}{}", app.base, path))
            .header("cookie", &cookie);
        async move {
            let r = req.send().await.unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let post = |path: String, form: Vec<(&'static str, String)>| {
        let req = app
            .client
            .post(format!("{}{}", app.base, path))
            .header("cookie", &cookie)
            .form(&form);
        async move {
            let r = req.send().await.unwrap();
            let loc = r
                .headers()
                .get("location")
                .map(|l| l.to_str().unwrap().to_string());
            (r.status(), loc, r.text().await.unwrap())
        }
    };

    let (s, html) = get(format!("/situations/{sit}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains(&format!("href=\"/situations/{sit}/actions\"")),
        "no link to the plan"
    );
    assert!(
        html.contains(&format!("href=\"/situations/{sit}/response\"")),
        "no link to the view"
    );

    // The plan suggests measures, each with a form prefilled from it.
    let (s, html) = get(format!("/situations/{sit}/actions")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("No action recorded"));
    assert!(html.contains("id=\"suggest-poc_peacekeeping\""), "{html}");
    assert!(html.contains("name=\"measure_id\" value=\"poc_peacekeeping\""));
    assert!(html.contains("Risk factor 14"));
    assert!(!html.contains("<script"), "works without JavaScript");

    // The view before: both factors are gaps, said in words.
    let (s, html) = get(format!("/situations/{sit}/response")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("<strong>Gap:</strong> risk factor 14"),
        "{html}"
    );
    assert!(html.contains("<strong>Gap:</strong> risk factor 5"));

    // Create an action from the suggested measure.
    let form = |csrf: &str| {
        vec![
            ("csrf", csrf.to_string()),
            ("measure_id", "poc_peacekeeping".to_string()),
            ("risk_factors", "14".to_string()),
            ("department", "defence".to_string()),
            ("lead", "analyst".to_string()),
            ("due_date", "2026-01-31".to_string()),
        ]
    };
    let (s, _, _) = post(format!("/situations/{sit}/actions"), form("wrong")).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "a wrong CSRF token is refused");
    let (_, list) = app.get(Role::Analyst, "/api/v1/actions").await;
    assert!(
        list["items"].as_array().unwrap().is_empty(),
        "and nothing was written"
    );
    let (s, loc, _) = post(format!("/situations/{sit}/actions"), form(&csrf)).await;
    assert_eq!(
        (s, loc.as_deref()),
        (
            StatusCode::SEE_OTHER,
            Some(format!("/situations/{sit}/actions").as_str())
        )
    );
    let (_, list) = app.get(Role::Analyst, "/api/v1/actions").await;
    let act = list["items"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(list["items"][0]["risk_factors"], json!([14]));
    let (_, html) = get(format!("/situations/{sit}/actions")).await;
    assert!(html.contains(&format!("id=\"action-{act}\"")));

    // A bad field is shown on the page, naming it.
    let mut bad = form(&csrf);
    bad[4].1 = "nobody".into();
    let (s, _, html) = post(format!("/situations/{sit}/actions"), bad).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("Lead: no such user"), "{html}");
    assert!(
        html.contains("value=\"nobody\""),
        "what was typed is kept: {html}"
    );

    // Status change: done without an outcome is refused on the page; with one, it lands.
    let change = |status: &str, outcome: &str, version: &str| {
        vec![
            ("csrf", csrf.clone()),
            ("expected_version", version.to_string()),
            ("status", status.to_string()),
            ("outcome", outcome.to_string()),
            ("due_date", "2026-01-31".to_string()),
            ("next_review", String::new()),
            ("lead", "analyst".to_string()),
        ]
    };
    let (s, _, html) = post(format!("/actions/{act}"), change("done", "", "1")).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("Outcome: an action marked done needs an outcome"),
        "{html}"
    );
    let (s, _, _) = post(
        format!("/actions/{act}"),
        change("done", "Deployment agreed", "1"),
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, a) = app
        .get(Role::Analyst, &format!("/api/v1/actions/{act}"))
        .await;
    assert_eq!(
        (a["status"].as_str(), a["outcome"].as_str()),
        (Some("done"), Some("Deployment agreed"))
    );
    let (s, _, html) = post(
        format!("/actions/{act}"),
        change("planned", "Deployment agreed", "2"),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(html.contains("cannot become planned"), "{html}");

    // The view: 14 addressed by defence, 5 still a gap, in words and in the grid.
    let (_, html) = get(format!("/situations/{sit}/response")).await;
    assert!(
        !html.contains("<strong>Gap:</strong> risk factor 14"),
        "{html}"
    );
    assert!(html.contains("<strong>Gap:</strong> risk factor 5"));
    assert!(html.contains("GAP: no action"));
    assert!(
        html.contains(&format!("#action-{act}\">poc_peacekeeping</a> done")),
        "{html}"
    );

    // A viewer sees the plan but no forms.
    let (vcookie, _) = browser_login(&app, "viewer", "password-123").await.unwrap();
    let r = app
        .client
        .get(format!("{}/situations/{sit}/actions", app.base))
        .header("cookie", &vcookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains(&format!("id=\"action-{act}\"")));
    assert!(!html.contains("Create action") && !html.contains("action=\"/actions/"));
}
