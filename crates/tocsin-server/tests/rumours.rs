//! Rumours and bulk evidence decisions over real HTTP on a real SQLite file: the API (the
//! workflow answered 409 or 422 naming the field, sightings counted within clearance, filters,
//! the OpenAPI document) and the web pages (list with overdue marked, create form, status
//! change with findings, marking a report as a sighting; the assessment page's grouped
//! suggestions with checkboxes, accept-all and the generic-rule flag), without JavaScript.

mod common;

use chrono::Duration;
use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tocsin_domain::{
    time, Actor, AuditEvent, NewRumour, NewSituation, Role, Rumour, RumourPriority, Situation, Tlp,
};
use tocsin_store::{Op, RumourStep, Step, StoreExt};

async fn report(app: &TestApp, text: &str, tlp: &str) -> String {
    let (s, v) = app
        .post(
            Role::Analyst,
            "/api/v1/reports",
            json!({"text": text, "tlp": tlp, "country": "KEN"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v["id"].as_str().unwrap().to_string()
}

fn ids(v: &Value) -> Vec<String> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn rumours_over_the_api() {
    let app = TestApp::start().await;
    let (s, r) = app
        .post(
            Role::MonitorCoordinator,
            "/api/v1/rumours",
            json!({"claim": "They will burn the market on Friday", "country": "KEN",
                   "priority": "critical", "tlp": "TLP:GREEN", "place_name": "Kibera"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let id = r["id"].as_str().unwrap().to_string();
    assert_eq!(r["status"], "new");
    let path = format!("/api/v1/rumours/{id}");
    // Untrusted input: a clear 4xx naming the field.
    for (body, field) in [
        (
            json!({"claim": "x", "country": "KEN", "priority": "urgent"}),
            "priority",
        ),
        (json!({"claim": "", "country": "KEN"}), "claim"),
        (json!({"claim": "x", "country": "XXX"}), "country"),
        (
            json!({"claim": "x", "country": "KEN", "colour": "red"}),
            "colour",
        ),
    ] {
        let (s, v) = app.post(Role::Analyst, "/api/v1/rumours", body).await;
        assert!(s.is_client_error(), "{v}");
        assert!(
            v["error"].as_str().unwrap().contains(field) || v["field"] == field,
            "{field}: {v}"
        );
    }
    // The workflow: 409 for a refused move, 422 naming findings when closing without them.
    let patch = |body: Value| app.call(Some(Role::Analyst), Method::PATCH, &path, Some(body));
    let (s, v) = patch(json!({"status": "confirmed_true", "findings": "seen"})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    let (s, _) = patch(json!({"status": "under_investigation"})).await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) = patch(json!({"status": "cannot_be_verified"})).await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("findings"))
    );
    let (s, v) = patch(json!({"status": "tomorrow"})).await;
    assert_eq!(v["field"], "status", "{s} {v}");

    // Sightings: counts within clearance, excerpts only to readers of reports.
    let green = report(&app, "radio says the market will burn", "TLP:GREEN").await;
    let red = report(&app, "the commander himself said Friday", "TLP:RED").await;
    for (rep, how) in [(&green, "radio"), (&red, "word_of_mouth")] {
        let (s, v) = app
            .post(
                Role::Analyst,
                &format!("{path}/sightings"),
                json!({"report_id": rep, "how": how, "where": "Toi market"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    let (s, v) = app
        .post(
            Role::MonitorCoordinator,
            &format!("{path}/sightings"),
            json!({"report_id": red, "how": "sms", "where": "x"}),
        )
        .await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("report_id")),
        "{v}"
    );
    let (s, v) = app
        .post(
            Role::Analyst,
            &format!("{path}/sightings"),
            json!({"report_id": "nope", "how": "sms"}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (_, v) = app.get(Role::Analyst, &path).await;
    assert_eq!(v["sightings"], 2);
    assert_eq!(v["sighting_list"][1]["how"], "word_of_mouth");
    let (_, v) = app.get(Role::Viewer, &path).await;
    assert_eq!(
        v["sightings"], 1,
        "the TLP:RED report is not counted for a viewer: {v}"
    );
    assert_eq!(v["sighting_list"].as_array().unwrap().len(), 1);
    assert!(
        v["sighting_list"][0]["excerpt"].is_null(),
        "a viewer reads no report: {v}"
    );
    let (_, l) = app.get(Role::Viewer, "/api/v1/rumours").await;
    assert_eq!(l["items"][0]["sightings"], 1);
    assert!(!l.to_string().contains("commander"));
    let (_, l) = app.get(Role::DeskOfficer, "/api/v1/rumours").await;
    assert_eq!(
        l["items"][0]["sightings"], 1,
        "AMBER clearance: the RED report is not counted"
    );

    // A rumour above the reader's clearance is absent.
    let (s, red_rumour) = app
        .post(
            Role::Analyst,
            "/api/v1/rumours",
            json!({"claim": "Secret", "country": "KEN", "tlp": "TLP:RED"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let rr = red_rumour["id"].as_str().unwrap();
    assert_eq!(
        app.get(Role::Viewer, &format!("/api/v1/rumours/{rr}"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    let (_, l) = app.get(Role::Viewer, "/api/v1/rumours").await;
    assert_eq!(ids(&l), vec![id.clone()]);
    // Filters.
    let (_, l) = app
        .get(Role::Analyst, "/api/v1/rumours?status=under_investigation")
        .await;
    assert_eq!(ids(&l), vec![id.clone()]);
    let (_, l) = app.get(Role::Analyst, "/api/v1/rumours?country=UGA").await;
    assert!(ids(&l).is_empty());
    let (_, l) = app.get(Role::Analyst, "/api/v1/rumours?overdue=true").await;
    assert!(ids(&l).is_empty(), "nothing is past its deadline yet");
    let (s, v) = app
        .get(Role::Analyst, "/api/v1/rumours?overdue=maybe")
        .await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("overdue"))
    );

    let (_, doc) = app.get(Role::Viewer, "/api/v1/openapi.json").await;
    for p in [
        "/api/v1/rumours",
        "/api/v1/rumours/{id}",
        "/api/v1/rumours/{id}/sightings",
        "/api/v1/assessments/{id}/suggestion-groups",
        "/api/v1/assessments/{id}/suggestions/bulk",
    ] {
        assert!(doc["paths"][p].is_object(), "{p} missing from OpenAPI");
    }
}

async fn page(app: &TestApp, cookie: &str, path: &str) -> (StatusCode, String) {
    let r = app
        .client
        .get(format!("{}{path}", app.base))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

async fn post_form(
    app: &TestApp,
    cookie: &str,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    app.client
        .post(format!("{}{path}", app.base))
        .header("cookie", cookie)
        .form(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn rumour_pages_post_forms() {
    let app = TestApp::start().await;
    let (cookie, csrf) = browser_login(&app, "monitor_coordinator", "password-123")
        .await
        .unwrap();
    let (s, html) = page(&app, &cookie, "/rumours").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("href=\"/rumours\""), "navigation link");
    assert!(html.contains("href=\"/rumours/new\""));
    // Create through the form; a refusal keeps the typed values and names the field.
    let r = post_form(
        &app,
        &cookie,
        "/rumours",
        &[
            ("csrf", &csrf),
            ("claim", "Wells poisoned in Mathare"),
            ("country", "KEN"),
            ("priority", "urgent"),
            ("tlp", "TLP:GREEN"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("priority") && html.contains("Wells poisoned in Mathare"),
        "{html}"
    );
    let r = post_form(
        &app,
        &cookie,
        "/rumours",
        &[
            ("csrf", &csrf),
            ("claim", "Wells poisoned in Mathare"),
            ("country", "KEN"),
            ("priority", "high"),
            ("tlp", "TLP:GREEN"),
            ("place_name", "Mathare"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    let id = loc.trim_start_matches("/rumours/").to_string();
    let (s, html) = page(&app, &cookie, &loc).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("Wells poisoned in Mathare"));
    assert!(
        html.contains("<option value=\"under_investigation\">"),
        "the allowed move is offered"
    );
    assert!(
        !html.contains("<option value=\"confirmed_true\">"),
        "a move not allowed from new"
    );
    // Move it on, then try to close without findings: refused on the page, naming findings.
    let (_, v) = app
        .get(Role::Analyst, &format!("/api/v1/rumours/{id}"))
        .await;
    let version = v["version"].to_string();
    let r = post_form(
        &app,
        &cookie,
        &loc,
        &[
            ("csrf", &csrf),
            ("version", &version),
            ("status", "under_investigation"),
            ("findings", ""),
            ("priority", "high"),
            ("response", ""),
            ("broadcast", ""),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = post_form(
        &app,
        &cookie,
        &loc,
        &[
            ("csrf", &csrf),
            ("status", "confirmed_false"),
            ("findings", ""),
            ("priority", "high"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("findings"));
    let r = post_form(
        &app,
        &cookie,
        &loc,
        &[
            ("csrf", &csrf),
            ("status", "confirmed_false"),
            ("priority", "high"),
            ("findings", "Water board tested all wells: clean"),
            (
                "response",
                "The wells are safe: tested on Monday by the water board.",
            ),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = page(&app, &cookie, &loc).await;
    assert!(html.contains("confirmed false") && html.contains("Water board tested all wells"));
    assert!(html.contains("The wells are safe"));

    // Mark a report as a sighting from the rumour page.
    let rep = report(
        &app,
        "neighbour: do not drink from the Mathare wells",
        "TLP:GREEN",
    )
    .await;
    let r = post_form(
        &app,
        &cookie,
        &format!("{loc}/sightings"),
        &[
            ("csrf", &csrf),
            ("report_id", &rep),
            ("how", "word_of_mouth"),
            ("where", "Mathare North"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = page(&app, &cookie, &loc).await;
    assert!(
        html.contains("Mathare North") && html.contains("do not drink"),
        "{html}"
    );
    let r = post_form(
        &app,
        &cookie,
        &format!("{loc}/sightings"),
        &[
            ("csrf", &csrf),
            ("report_id", "not-an-id"),
            ("how", "radio"),
            ("where", ""),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // Without the CSRF token nothing happens.
    let r = post_form(
        &app,
        &cookie,
        &format!("{loc}/sightings"),
        &[("report_id", &rep), ("how", "radio")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // The list marks an overdue rumour (one recorded two days ago with a critical priority).
    let mut late = Rumour::create(
        NewRumour {
            claim: "Armed men on the Kisumu road".into(),
            country: "KEN".into(),
            priority: Some("critical".into()),
            tlp: Some("TLP:GREEN".into()),
            ..Default::default()
        },
        "analyst",
        time::now() - Duration::days(2),
        |p| {
            if p == RumourPriority::Critical {
                Duration::hours(6)
            } else {
                Duration::days(3)
            }
        },
    )
    .unwrap();
    late.desk_id = None;
    let actor = Actor::system("test");
    app.store
        .write(
            &actor,
            Op::All {
                steps: vec![Step::Rumour(RumourStep::Create(Box::new(late.clone())))],
                audit: Box::new(AuditEvent::new(&actor, "rumour.create", "rumour", None)),
            },
        )
        .await
        .unwrap();
    let (_, html) = page(&app, &cookie, "/rumours").await;
    let row = html
        .split(&format!("id=\"rumour-{}\"", late.id))
        .nth(1)
        .unwrap();
    let row = row.split("</tr>").next().unwrap();
    assert!(row.contains("(overdue)"), "{row}");
    let (_, html) = page(&app, &cookie, "/rumours?overdue=true").await;
    assert!(html.contains("Armed men on the Kisumu road"));
    assert!(!html.contains("Wells poisoned in Mathare"));
    // A viewer reads but gets no forms.
    let (vcookie, _) = browser_login(&app, "viewer", "password-123").await.unwrap();
    let (s, html) = page(&app, &vcookie, &loc).await;
    assert_eq!(s, StatusCode::OK);
    assert!(!html.contains("id=\"change\"") && !html.contains("id=\"sighting-form\""));
    assert!(!html.contains("do not drink"), "no excerpt for a viewer");
}

fn factor(n: u32, level: &str) -> Value {
    json!({"factor": n, "level": level, "confidence": "medium", "rationale": "seen in the field"})
}

#[tokio::test]
async fn evidence_suggestions_are_grouped_and_decided_in_bulk() {
    let app = TestApp::start().await;
    let actor = Actor::system("test");
    let sit = Situation::parse(NewSituation {
        name: "CAR".into(),
        country: "CAF".into(),
        admin1: None,
        status: None,
        description: None,
        tlp: Some(Tlp::Amber),
    })
    .unwrap();
    let sit = app.store.create_situation(&actor, sit).await.unwrap();
    // 12 battles (a rule on any armed clash fires on most incidents), 2 sexual violence, one
    // TLP:RED incident above the assessment's label.
    for d in 1..=12 {
        app.incident(
            Tlp::Green,
            "CAF",
            &format!("2025-03-{d:02}"),
            6.5,
            18.0,
            ("Battles", "Armed clash"),
        )
        .await;
    }
    let mut sv = vec![];
    for d in 13..=14 {
        sv.push(
            app.incident(
                Tlp::Green,
                "CAF",
                &format!("2025-03-{d:02}"),
                6.5,
                18.0,
                ("Violence against civilians", "Sexual violence"),
            )
            .await,
        );
    }
    let red = app
        .incident(
            Tlp::Red,
            "CAF",
            "2025-03-20",
            6.5,
            18.0,
            ("Violence against civilians", "Sexual violence"),
        )
        .await;
    let (_, a) = app
        .post(
            Role::Analyst,
            &format!("/api/v1/situations/{}/assessments", sit.id),
            json!({"as_of": "2025-03-31", "factors": [factor(7, "low")]}),
        )
        .await;
    let aid = a["id"].as_str().unwrap().to_string();
    let gp = format!("/api/v1/assessments/{aid}/suggestion-groups");
    assert_eq!(app.get(Role::Viewer, &gp).await.0, StatusCode::FORBIDDEN);
    let (s, g) = app.get(Role::Analyst, &gp).await;
    assert_eq!(s, StatusCode::OK, "{g}");
    assert_eq!(
        g["incidents_considered"], 14,
        "the TLP:RED incident is not considered: {g}"
    );
    assert!(!g.to_string().contains(&red.id.to_string()));
    let groups = g["groups"].as_array().unwrap();
    let total: u64 = groups.iter().map(|x| x["count"].as_u64().unwrap()).sum();
    assert_eq!(g["total"].as_u64().unwrap(), total);
    let g11 = groups
        .iter()
        .find(|x| x["indicator"] == "1.1")
        .expect("indicator 1.1");
    assert_eq!(g11["count"], 12);
    assert_eq!(
        g11["generic"].as_array().unwrap().len(),
        1,
        "12 of 14 incidents: generic: {g11}"
    );
    assert!(g11["suggestions"].as_array().unwrap().is_empty());
    assert_eq!(g11["generic"][0]["count"], 12);

    // Bulk over the API: two named suggestions in one write.
    let audit_before = app.store.audit_entries(0, 100_000).await.unwrap().len();
    let bulk = format!("/api/v1/assessments/{aid}/suggestions/bulk");
    let items: Vec<Value> = sv
        .iter()
        .map(|i| json!({"indicator": "7.9", "evidence": {"kind": "incident", "reference": i.id.to_string()}}))
        .collect();
    let (s, v) = app
        .post(
            Role::Analyst,
            &bulk,
            json!({"accept": true, "items": items}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["decided"], 2);
    let after = app.store.audit_entries(0, 100_000).await.unwrap();
    assert_eq!(after.len(), audit_before + 1, "one write, one audit entry");
    assert_eq!(after.last().unwrap().action, "assessment.accept_many");
    // A record above the assessment's label is refused, naming evidence; nothing written.
    let (s, v) = app
        .post(Role::Analyst, &bulk, json!({"accept": true, "items": [
            {"indicator": "7.9", "evidence": {"kind": "incident", "reference": red.id.to_string()}}]}))
        .await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("evidence")),
        "{v}"
    );
    let (s, v) = app
        .post(
            Role::Analyst,
            &bulk,
            json!({"accept": true, "indicator": "99.9"}),
        )
        .await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("indicator")),
        "{v}"
    );
    let (s, _) = app
        .post(
            Role::Viewer,
            &bulk,
            json!({"accept": true, "indicator": "1.1"}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // The web page: groups with counts, the generic rule flagged and collapsed, checkboxes.
    let (cookie, csrf) = browser_login(&app, "analyst", "password-123")
        .await
        .unwrap();
    let (s, html) = page(&app, &cookie, &format!("/assessments/{aid}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("Indicator 1.1 · 12 suggestions"), "{html}");
    assert!(
        html.contains("<details class=\"generic-rule\">") && html.contains("Generic rule: review")
    );
    assert!(html.contains("type=\"checkbox\" name=\"pick\""));
    assert!(!html.contains(&red.id.to_string()));
    // Dismiss all of indicator 1.1 with one click: one write.
    let before = app.store.audit_entries(0, 100_000).await.unwrap().len();
    let r = post_form(
        &app,
        &cookie,
        &format!("/assessments/{aid}/suggestions"),
        &[("csrf", &csrf), ("group", "no|1.1")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let entries = app.store.audit_entries(0, 100_000).await.unwrap();
    assert_eq!(entries.len(), before + 1);
    assert_eq!(entries.last().unwrap().action, "assessment.dismiss_many");
    let (_, g) = app.get(Role::Analyst, &gp).await;
    assert!(
        !g["groups"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["indicator"] == "1.1"),
        "{g}"
    );
    let (_, a) = app
        .get(Role::Analyst, &format!("/api/v1/assessments/{aid}"))
        .await;
    let decisions = a["assessment"]["decisions"]
        .as_array()
        .or(a["decisions"].as_array())
        .unwrap()
        .clone();
    assert_eq!(
        decisions
            .iter()
            .filter(|d| d["indicator"] == "1.1" && d["accepted"] == false)
            .count(),
        12
    );
    // Tick two of what remains and accept them.
    let (_, g) = app.get(Role::Analyst, &gp).await;
    let picks: Vec<String> = g["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|x| x["suggestions"].as_array().unwrap().clone())
        .take(2)
        .map(|s| {
            format!(
                "{}|{}|{}",
                s["indicator"].as_str().unwrap(),
                s["evidence"]["kind"].as_str().unwrap(),
                s["evidence"]["reference"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(picks.len(), 2, "{g}");
    let left = g["total"].as_u64().unwrap();
    let r = post_form(
        &app,
        &cookie,
        &format!("/assessments/{aid}/suggestions"),
        &[
            ("csrf", &csrf),
            ("pick", &picks[0]),
            ("pick", &picks[1]),
            ("accept", "yes"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, g) = app.get(Role::Analyst, &gp).await;
    assert_eq!(g["total"].as_u64().unwrap(), left - 2);
    // Nothing ticked: refused on the page.
    let r = post_form(
        &app,
        &cookie,
        &format!("/assessments/{aid}/suggestions"),
        &[("csrf", &csrf), ("accept", "yes")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
}
