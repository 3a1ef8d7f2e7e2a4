//! The verification desk over real HTTP and a real SQLite file: the routes for every role,
//! the independent-source rule on every path that links reports, the checklist before
//! `verified`, track records and suggestions following a refutation, the "B2" grading on
//! reports and incidents, clearance (records above it answer as absent), and the web forms.

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tocsin_domain::{Actor, ApiToken, NewSource, NewUser, Reliability, Role, Tlp};
use tocsin_store::{Op, StoreExt};

const VAC: (&str, &str) = ("Violence against civilians", "Attack");
const TASKS: [&str; 2] = [
    "Contact a second, independent source",
    "Check the place and date against other reporting",
];

async fn new_source(app: &TestApp, handle: &str, tlp: Tlp) -> String {
    let key = tocsin_domain::ContactKey::generate();
    let s = NewSource::new(handle, "monitor", Reliability::F, tlp, None, &key).unwrap();
    app.store
        .create_source(&Actor::system("test"), s)
        .await
        .unwrap()
        .id
        .to_string()
}

async fn report(app: &TestApp, source: Option<&str>, tlp: &str) -> String {
    let mut body = json!({"text": "armed men burned the market", "tlp": tlp});
    if let Some(s) = source {
        body["source"] = s.into();
    }
    let (s, r) = app.post(Role::Analyst, "/api/v1/reports", body).await;
    assert_eq!(s, 201, "{r}");
    r["id"].as_str().unwrap().to_string()
}

fn incident_body(tlp: &str, reports: &[&str]) -> Value {
    json!({"event_date": "2026-02-01", "event_type": "Violence against civilians",
           "sub_event_type": "Attack", "country": "CAF", "latitude": 6.1, "longitude": 20.9,
           "fatalities": 3, "description": "Market burned", "tlp": tlp, "report_ids": reports})
}

async fn new_incident(app: &TestApp, tlp: &str, reports: &[&str]) -> Value {
    let (s, i) = app
        .post(
            Role::Analyst,
            "/api/v1/incidents",
            incident_body(tlp, reports),
        )
        .await;
    assert_eq!(s, 201, "{i}");
    i
}

async fn move_to(app: &TestApp, id: &str, state: &str) -> (StatusCode, Value) {
    app.post(
        Role::Analyst,
        &format!("/api/v1/incidents/{id}/verification"),
        json!({"state": state, "reason": format!("checked: {state}")}),
    )
    .await
}

#[tokio::test]
async fn verification_routes_for_every_role() {
    let app = TestApp::start().await;
    let inc = app
        .incident(Tlp::Green, "CAF", "2026-01-01", 6.0, 20.0, VAC)
        .await;
    let rep = report(&app, Some("M-0001"), "TLP:GREEN").await;
    let src = app.store.get_source_by_handle("M-0001").await.unwrap().id;
    // Expected status per role: admin, analyst, desk officer, monitor coordinator, viewer,
    // then without credentials. Written out by hand from the role descriptions.
    let table: Vec<(Method, String, Option<Value>, [u16; 6])> = vec![
        (
            Method::GET,
            format!("/api/v1/incidents/{}/verification", inc.id),
            None,
            [200, 200, 200, 200, 200, 401],
        ),
        (
            Method::POST,
            format!("/api/v1/incidents/{}/verification/tasks", inc.id),
            Some(json!({"task": TASKS[0], "note": "called the priest"})),
            [403, 200, 403, 403, 403, 401],
        ),
        (
            Method::POST,
            format!("/api/v1/incidents/{}/verification", inc.id),
            Some(json!({"state": "disputed", "reason": "a second monitor denies it"})),
            [403, 200, 403, 403, 403, 401],
        ),
        (
            Method::POST,
            format!("/api/v1/reports/{rep}/link"),
            Some(json!({"incident_id": inc.id})),
            [403, 200, 403, 403, 403, 401],
        ),
        (
            Method::PUT,
            format!("/api/v1/reports/{rep}/credibility"),
            Some(json!({"credibility": 2})),
            [403, 200, 403, 403, 403, 401],
        ),
        (
            Method::PUT,
            format!("/api/v1/sources/{src}/reliability"),
            Some(json!({"grade": "A", "reason": "years of accurate reports"})),
            [403, 200, 403, 422, 403, 401],
        ),
        (
            Method::GET,
            format!("/api/v1/sources/{src}"),
            None,
            [200, 200, 403, 200, 403, 401],
        ),
    ];
    let roles = [
        Some(Role::Admin),
        Some(Role::Analyst),
        Some(Role::DeskOfficer),
        Some(Role::MonitorCoordinator),
        Some(Role::Viewer),
        None,
    ];
    for (method, path, body, want) in table {
        for (role, want) in roles.iter().zip(want) {
            let (s, b) = app.call(*role, method.clone(), &path, body.clone()).await;
            assert_eq!(s.as_u16(), want, "{method} {path} as {role:?}: {b}");
        }
    }
    // The monitor coordinator's 422 above: the analyst had already set A. A coordinator may
    // grade too.
    let (s, b) = app
        .call(
            Some(Role::MonitorCoordinator),
            Method::PUT,
            &format!("/api/v1/sources/{src}/reliability"),
            Some(json!({"grade": "C", "reason": "two reports were exaggerated"})),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let h: Vec<(String, String, String)> = b["reliability_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                format!(
                    "{}→{}",
                    e["from"].as_str().unwrap(),
                    e["to"].as_str().unwrap()
                ),
                e["by"].as_str().unwrap().to_string(),
                e["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        h,
        vec![
            (
                "B→A".into(),
                "analyst".into(),
                "years of accurate reports".into()
            ),
            (
                "A→C".into(),
                "monitor_coordinator".into(),
                "two reports were exaggerated".into()
            )
        ]
    );
    // The routes are in the OpenAPI document.
    let (_, doc) = app.get(Role::Viewer, "/api/v1/openapi.json").await;
    for p in [
        "/api/v1/incidents/{id}/verification",
        "/api/v1/incidents/{id}/verification/tasks",
        "/api/v1/reports/{id}/link",
        "/api/v1/reports/{id}/credibility",
        "/api/v1/sources/{id}/reliability",
    ] {
        assert!(
            doc["paths"][p].is_object(),
            "{p} missing from the OpenAPI document"
        );
    }
}

#[tokio::test]
async fn independent_sources_corroborate_on_every_linking_path() {
    let app = TestApp::start().await;
    new_source(&app, "M-0002", Tlp::Green).await;
    let a1 = report(&app, Some("M-0001"), "TLP:GREEN").await;
    let a2 = report(&app, Some("M-0001"), "TLP:GREEN").await;
    let b1 = report(&app, Some("M-0002"), "TLP:GREEN").await;
    let anon1 = report(&app, None, "TLP:GREEN").await;
    let anon2 = report(&app, None, "TLP:GREEN").await;

    // Two reports of one source and two without a source: one independent source.
    let i = new_incident(&app, "TLP:GREEN", &[&a1, &a2, &anon1, &anon2]).await;
    assert_eq!(i["verification_status"], "unverified");
    let id = i["id"].as_str().unwrap();
    // Linking a report of a second source corroborates it in the same write.
    let (s, linked) = app
        .post(
            Role::Analyst,
            &format!("/api/v1/reports/{b1}/link"),
            json!({"incident_id": id}),
        )
        .await;
    assert_eq!(s, 200, "{linked}");
    assert_eq!(linked["verification_status"], "corroborated");
    let (_, v) = app
        .get(
            Role::Viewer,
            &format!("/api/v1/incidents/{id}/verification"),
        )
        .await;
    let last = v["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (
            last["by"].as_str(),
            last["reason"].as_str(),
            last["from"].as_str()
        ),
        (
            Some("system"),
            Some("corroborated automatically: reports from 2 independent sources"),
            Some("unverified")
        )
    );

    // On creation.
    let c = new_incident(&app, "TLP:GREEN", &[&a1, &b1]).await;
    assert_eq!(c["verification_status"], "corroborated");
    // On an edit of the links.
    let e = new_incident(&app, "TLP:GREEN", &[&a2]).await;
    assert_eq!(e["verification_status"], "unverified");
    let (s, e) = app
        .call(
            Some(Role::Analyst),
            Method::PATCH,
            &format!("/api/v1/incidents/{}", e["id"].as_str().unwrap()),
            Some(json!({"report_ids": [a2, b1]})),
        )
        .await;
    assert_eq!(
        (s, e["verification_status"].as_str()),
        (StatusCode::OK, Some("corroborated")),
        "{e}"
    );

    // A report labelled above the incident does not corroborate it (it would show through).
    new_source(&app, "M-RED1", Tlp::Red).await;
    let red = report(&app, Some("M-RED1"), "TLP:RED").await;
    let g = new_incident(&app, "TLP:GREEN", &[&a1, &red]).await;
    assert_eq!(g["verification_status"], "unverified");

    // A person's decision is never overridden: a disputed incident stays disputed.
    let d = new_incident(&app, "TLP:GREEN", &[&a1]).await;
    let did = d["id"].as_str().unwrap();
    assert_eq!(move_to(&app, did, "disputed").await.0, 200);
    let (_, d) = app
        .post(
            Role::Analyst,
            &format!("/api/v1/reports/{b1}/link"),
            json!({"incident_id": did}),
        )
        .await;
    assert_eq!(d["verification_status"], "disputed");

    // The create body may not set a status, and the old names are refused naming the new.
    let mut body = incident_body("TLP:GREEN", &[]);
    body["verification_status"] = "verified".into();
    let (s, r) = app.post(Role::Analyst, "/api/v1/incidents", body).await;
    assert_eq!(
        (s.as_u16(), r["field"].as_str()),
        (422, Some("verification_status")),
        "{r}"
    );
    let (s, r) = move_to(&app, did, "false").await;
    assert_eq!(s, 422);
    assert!(r.to_string().contains("now called refuted"), "{r}");
}

#[tokio::test]
async fn checklist_track_record_and_grading() {
    let app = TestApp::start().await;
    let s3 = new_source(&app, "M-0003", Tlp::Green).await;
    let a = report(&app, Some("M-0001"), "TLP:GREEN").await;
    let mut incidents = Vec::new();
    for _ in 0..3 {
        let r = report(&app, Some("M-0003"), "TLP:GREEN").await;
        let i = new_incident(&app, "TLP:GREEN", &[&a, &r]).await;
        assert_eq!(i["verification_status"], "corroborated");
        incidents.push(i["id"].as_str().unwrap().to_string());
    }
    let (_, src) = app
        .get(Role::Analyst, &format!("/api/v1/sources/{s3}"))
        .await;
    assert_eq!(
        (
            src["track_record"].clone(),
            src["suggested_reliability"].clone()
        ),
        (
            json!({"confirmed": 3, "refuted": 0, "total": 3}),
            json!("B")
        ),
        "{src}"
    );

    // Verified needs the checklist: refused naming the tasks left.
    let id = &incidents[0];
    let (s, r) = move_to(&app, id, "verified").await;
    assert_eq!(s, 422);
    let msg = r.to_string();
    assert!(msg.contains(TASKS[0]) && msg.contains(TASKS[1]), "{msg}");
    let tick = |task: &'static str| {
        let path = format!("/api/v1/incidents/{id}/verification/tasks");
        let app = &app;
        async move {
            app.post(
                Role::Analyst,
                &path,
                json!({"task": task, "note": "done by phone"}),
            )
            .await
        }
    };
    assert_eq!(tick(TASKS[0]).await.0, 200);
    assert_eq!(tick(TASKS[0]).await.0, 409, "a task is ticked once");
    assert_eq!(tick("Ask the neighbours").await.0, 422);
    let (s, r) = move_to(&app, id, "verified").await;
    assert_eq!(s, 422);
    assert!(
        r.to_string().contains(TASKS[1]) && !r.to_string().contains(TASKS[0]),
        "{r}"
    );
    assert_eq!(tick(TASKS[1]).await.0, 200);
    assert_eq!(move_to(&app, id, "verified").await.0, 200);
    let (s, r) = move_to(&app, id, "refuted").await;
    assert_eq!(s, 422);
    assert!(r.to_string().contains("verified is final"), "{r}");
    let (_, v) = app
        .get(
            Role::Viewer,
            &format!("/api/v1/incidents/{id}/verification"),
        )
        .await;
    assert_eq!(v["state"], "verified");
    assert_eq!(v["allowed_moves"], json!([]));
    assert!(v["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["done"]["by"] == "analyst"));

    // Refuting another incident: the source's record and suggestion follow.
    assert_eq!(move_to(&app, &incidents[1], "refuted").await.0, 200);
    let (_, src) = app
        .get(Role::Analyst, &format!("/api/v1/sources/{s3}"))
        .await;
    assert_eq!(
        (
            src["track_record"].clone(),
            src["suggested_reliability"].clone()
        ),
        (
            json!({"confirmed": 2, "refuted": 1, "total": 3}),
            json!("C")
        ),
        "{src}"
    );
    let (_, list) = app.get(Role::Analyst, "/api/v1/sources").await;
    let listed = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["handle"] == "M-0003")
        .unwrap()
        .clone();
    assert_eq!(listed["track_record"]["refuted"], 1);

    // "B2": M-0001 is graded B; the report's credibility set to 2.
    let (s, r) = app
        .call(
            Some(Role::Analyst),
            Method::PUT,
            &format!("/api/v1/reports/{a}/credibility"),
            Some(json!({"credibility": 2})),
        )
        .await;
    assert_eq!(
        (s, r["grading"].as_str()),
        (StatusCode::OK, Some("B2")),
        "{r}"
    );
    let (_, r) = app
        .get(Role::DeskOfficer, &format!("/api/v1/reports/{a}"))
        .await;
    assert_eq!(
        (r["reliability"].as_str(), r["credibility"].as_i64()),
        (Some("B"), Some(2))
    );
    let (s, _) = app
        .call(
            Some(Role::Analyst),
            Method::PUT,
            &format!("/api/v1/reports/{a}/credibility"),
            Some(json!({"credibility": 7})),
        )
        .await;
    assert_eq!(s, 422);
    // An incident: the best source among its linked reports (B), its own credibility (6).
    let (_, i) = app
        .get(Role::Analyst, &format!("/api/v1/incidents/{id}"))
        .await;
    assert_eq!(i["grading"], "B6", "{i}");
    // A viewer, who may not read reports, is shown no source: F.
    let (_, i) = app
        .get(Role::Viewer, &format!("/api/v1/incidents/{id}"))
        .await;
    assert_eq!(i["grading"], "F6", "{i}");
}

/// An analyst cleared only to TLP:AMBER, with a token.
async fn amber_analyst(app: &TestApp) -> String {
    let mut u = NewUser::build("amber", Role::Analyst, None).unwrap();
    u.clearance = Tlp::Amber;
    let u = app
        .store
        .create_user(&Actor::system("test"), u)
        .await
        .unwrap();
    let (t, secret) = ApiToken::generate(u.id, "test", None);
    app.store
        .write(&Actor::system("test"), Op::CreateToken(t))
        .await
        .unwrap();
    secret
}

#[tokio::test]
async fn records_above_clearance_answer_as_absent() {
    let app = TestApp::start().await;
    let token = amber_analyst(&app).await;
    let call = |method: Method, path: String, body: Option<Value>| {
        let token = token.clone();
        let app = &app;
        async move {
            let mut req = app
                .client
                .request(method, format!("{}{path}", app.base))
                .bearer_auth(token);
            if let Some(b) = body {
                req = req.json(&b);
            }
            let r = req.send().await.unwrap();
            let s = r.status();
            (s, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let red = app
        .incident(Tlp::Red, "CAF", "2026-01-01", 6.0, 20.0, VAC)
        .await;
    let amber = app
        .incident(Tlp::Amber, "CAF", "2026-01-01", 6.0, 20.0, VAC)
        .await;
    let red_report = report(&app, None, "TLP:RED").await;
    let amber_report = report(&app, None, "TLP:AMBER").await;
    for (m, p, b) in [
        (
            Method::GET,
            format!("/api/v1/incidents/{}/verification", red.id),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/incidents/{}/verification", red.id),
            Some(json!({"state": "disputed", "reason": "x"})),
        ),
        (
            Method::POST,
            format!("/api/v1/incidents/{}/verification/tasks", red.id),
            Some(json!({"task": TASKS[0]})),
        ),
        (
            Method::POST,
            format!("/api/v1/reports/{red_report}/link"),
            Some(json!({"incident_id": amber.id})),
        ),
        (
            Method::PUT,
            format!("/api/v1/reports/{red_report}/credibility"),
            Some(json!({"credibility": 1})),
        ),
    ] {
        let (s, body) = call(m.clone(), p.clone(), b).await;
        assert_eq!(s, 404, "{m} {p}: {body}");
    }
    // A RED incident named in the body: as one that does not exist, naming the field.
    let (s, body) = call(
        Method::POST,
        format!("/api/v1/reports/{amber_report}/link"),
        Some(json!({"incident_id": red.id})),
    )
    .await;
    assert_eq!(
        (s.as_u16(), body["field"].as_str()),
        (422, Some("incident_id")),
        "{body}"
    );
    assert!(app
        .store
        .get_incident(red.id)
        .await
        .unwrap()
        .report_ids
        .is_empty());
    // Within clearance it works.
    let (s, body) = call(
        Method::POST,
        format!("/api/v1/reports/{amber_report}/link"),
        Some(json!({"incident_id": amber.id})),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    // A desk officer (AMBER) does not see the RED incident's panel at all.
    let (s, _) = app
        .get(
            Role::DeskOfficer,
            &format!("/api/v1/incidents/{}/verification", red.id),
        )
        .await;
    assert_eq!(s, 404);
}

struct Browser<'a> {
    app: &'a TestApp,
    cookie: String,
    csrf: String,
}

impl<'a> Browser<'a> {
    async fn login(app: &'a TestApp, user: &str) -> Browser<'a> {
        let (cookie, csrf) = browser_login(app, user, "password-123").await.unwrap();
        Browser { app, cookie, csrf }
    }

    async fn get(&self, path: &str) -> (StatusCode, String) {
        let r = self
            .app
            .client
            .get(format!("{}{path}", self.app.base))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    }

    async fn post(
        &self,
        path: &str,
        form: &[(&str, &str)],
    ) -> (StatusCode, Option<String>, String) {
        let mut f: Vec<(&str, &str)> = form.to_vec();
        f.push(("csrf", &self.csrf));
        let r = self
            .app
            .client
            .post(format!("{}{path}", self.app.base))
            .header("cookie", &self.cookie)
            .form(&f)
            .send()
            .await
            .unwrap();
        let loc = r
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_string());
        (r.status(), loc, r.text().await.unwrap())
    }
}

#[tokio::test]
async fn web_forms_move_tick_link_and_grade() {
    let app = TestApp::start().await;
    new_source(&app, "M-0002", Tlp::Green).await;
    let a = report(&app, Some("M-0001"), "TLP:GREEN").await;
    let b = report(&app, Some("M-0002"), "TLP:GREEN").await;
    let inc = app
        .incident(Tlp::Green, "CAF", "2026-01-01", 6.0, 20.0, VAC)
        .await;
    let page = format!("/incidents/{}", inc.id);
    let w = Browser::login(&app, "analyst").await;
    let (s, html) = w.get(&page).await;
    assert_eq!(s, 200);
    assert!(
        html.contains("Verification: unverified") && html.contains("Mark corroborated"),
        "{html}"
    );
    assert!(html.contains(TASKS[0]));

    // A refused move shows the reason and keeps what was typed.
    let (s, _, html) = w
        .post(
            &format!("{page}/verification"),
            &[("state", "verified"), ("reason", "the priest confirmed it")],
        )
        .await;
    assert_eq!(s, 422);
    assert!(
        html.contains("cannot be verified before it is corroborated"),
        "{html}"
    );
    assert!(
        html.contains("the priest confirmed it"),
        "typed reason kept"
    );
    let (s, _, html) = w
        .post(
            &format!("{page}/verification"),
            &[("state", "disputed"), ("reason", "  ")],
        )
        .await;
    assert_eq!(s, 422);
    assert!(html.contains("a reason is required"), "{html}");

    // Linking reports of two sources from the page corroborates it.
    for r in [&a, &b] {
        let (s, loc, body) = w
            .post(&format!("{page}/link"), &[("report_id", r.as_str())])
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER, "{body}");
        assert_eq!(loc.as_deref(), Some(format!("{page}#reports").as_str()));
    }
    let (s, _, html) = w
        .post(&format!("{page}/link"), &[("report_id", "not-an-id")])
        .await;
    assert_eq!(s, 422);
    assert!(
        html.contains("not a report id") && html.contains("not-an-id"),
        "{html}"
    );
    let (_, html) = w.get(&page).await;
    assert!(html.contains("Verification: corroborated"), "{html}");
    assert!(html.contains("corroborated automatically: reports from 2 independent sources"));
    assert!(
        html.contains("B6"),
        "the linked report's grading is shown: {html}"
    );

    // Tick the checklist, then verify.
    for t in TASKS {
        let (s, _, body) = w
            .post(
                &format!("{page}/verification/tasks"),
                &[("task", t), ("note", "by phone")],
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER, "{body}");
    }
    let (s, loc, _) = w
        .post(
            &format!("{page}/verification"),
            &[("state", "verified"), ("reason", "both done")],
        )
        .await;
    assert_eq!(
        (s, loc),
        (StatusCode::SEE_OTHER, Some(format!("{page}#verification")))
    );
    let (_, html) = w.get(&page).await;
    assert!(
        html.contains("Verification: verified") && html.contains("both done"),
        "{html}"
    );
    assert!(html.contains("☑ ") && html.contains("by phone"));

    // The report's credibility from the reports list.
    let (s, loc, _) = w
        .post(
            &format!("/reports/{a}/credibility"),
            &[("credibility", "2"), ("back", "/reports")],
        )
        .await;
    assert_eq!(
        (s, loc.as_deref()),
        (StatusCode::SEE_OTHER, Some("/reports"))
    );
    let (_, html) = w.get("/reports").await;
    assert!(html.contains("B2"), "{html}");
    let (_, html) = w.get("/incidents").await;
    assert!(
        html.contains("B6"),
        "the incident list shows the grading: {html}"
    );

    // Sources: the list, a source's page, its grade set with a reason.
    let src = app.store.get_source_by_handle("M-0002").await.unwrap().id;
    let (s, html) = w.get("/sources").await;
    assert!(s == 200 && html.contains("M-0002"), "{html}");
    let (s, _, html) = w
        .post(
            &format!("/sources/{src}/reliability"),
            &[("grade", "C"), ("reason", "")],
        )
        .await;
    assert_eq!(s, 422);
    assert!(
        html.contains("a reason is required") && html.contains("<option selected>C</option>"),
        "{html}"
    );
    let (s, loc, _) = w
        .post(
            &format!("/sources/{src}/reliability"),
            &[("grade", "C"), ("reason", "one good report")],
        )
        .await;
    assert_eq!(
        (s, loc),
        (StatusCode::SEE_OTHER, Some(format!("/sources/{src}")))
    );
    let (_, html) = w.get(&format!("/sources/{src}")).await;
    assert!(
        html.contains("F → C") && html.contains("one good report") && html.contains("analyst"),
        "{html}"
    );

    // A viewer may not see sources; the desk officer sees the incident without the moves.
    let v = Browser::login(&app, "viewer").await;
    assert_eq!(v.get("/sources").await.0, 403);
    let d = Browser::login(&app, "desk_officer").await;
    let (s, html) = d.get(&page).await;
    assert!(s == 200 && !html.contains("Mark ") && html.contains("Verification: verified"));
}
