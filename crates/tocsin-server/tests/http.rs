//! HTTP tests against a real server on an ephemeral port, over a real SQLite file.

mod common;

use chrono::NaiveDate;
use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::HashMap;
use tocsin_domain::{
    Actor, BBox, Country, Cursor, Incident, IncidentFilter, IncidentInput, IncidentPatch,
    PageRequest, Role, Situation, Tlp, VerificationStatus,
};
use tocsin_store::StoreExt;

fn incident_body() -> Value {
    json!({"event_date": "2025-03-01", "event_type": "Violence against civilians", "sub_event_type": "Attack",
           "country": "CAF", "latitude": 6.1, "longitude": 20.9, "fatalities": 3,
           "description": "Village attacked", "tlp": "TLP:GREEN"})
}

const VAC: (&str, &str) = ("Violence against civilians", "Attack");
const BATTLE: (&str, &str) = ("Battles", "Armed clash");

#[tokio::test]
async fn every_route_and_role_gets_the_expected_status() {
    // E-mail is configured (the desk officer gets an address below), so desks' policies reach
    // someone.
    let app = TestApp::start_with(|mut s| {
        s.channels = std::sync::Arc::new(tocsin_app::notify::Channels {
            email: true,
            ..Default::default()
        });
        s
    })
    .await;
    let (s, b) = app
        .call(
            Some(Role::Admin),
            Method::PATCH,
            "/api/v1/users/desk_officer",
            Some(json!({"email": "officer@example.org"})),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let actor = Actor::system("test");
    let inc = app
        .incident(Tlp::Green, "CAF", "2025-01-01", 6.0, 20.0, VAC)
        .await;
    let sit = Situation::parse(tocsin_domain::NewSituation {
        name: "CAR".into(),
        country: "CAF".into(),
        admin1: None,
        status: None,
        description: None,
        tlp: Some(Tlp::Green),
    })
    .unwrap();
    let sit = app.store.create_situation(&actor, sit).await.unwrap();
    let (_, rep) = app
        .post(
            Role::Analyst,
            "/api/v1/reports",
            json!({"text": "seed", "tlp": "TLP:GREEN"}),
        )
        .await;
    let rep_id = rep["id"].as_str().unwrap().to_string();
    let src = app.store.get_source_by_handle("M-0001").await.unwrap();
    let action_body = json!({"measure_id": "private_diplomacy", "situation_id": sit.id,
                             "department": "foreign affairs", "lead": "analyst", "due_date": "2026-06-30"});
    let (_, act) = app
        .post(Role::Analyst, "/api/v1/actions", action_body.clone())
        .await;
    let act_id = act["id"].as_str().unwrap().to_string();

    // Expected status per role, in the order admin, analyst, desk officer, monitor coordinator, viewer,
    // then without credentials. Written out by hand from the role descriptions, not derived from code.
    let report_body = json!({"text": "armed men near the river"});
    let situation_body = json!({"name": "New watch", "country": "SSD"});
    let patch_body = json!({"fatalities": 4});
    let mut table: Vec<(Method, String, Option<Value>, [u16; 6])> = vec![
        (
            Method::GET,
            "/api/v1/reports".into(),
            None,
            [200, 200, 200, 200, 403, 401],
        ),
        (
            Method::POST,
            "/api/v1/reports".into(),
            Some(report_body),
            [403, 201, 403, 201, 403, 401],
        ),
        (
            Method::GET,
            format!("/api/v1/reports/{rep_id}"),
            None,
            [200, 200, 200, 200, 403, 401],
        ),
        (
            Method::GET,
            format!("/api/v1/reports/{rep_id}/matches"),
            None,
            [200, 200, 200, 200, 403, 401],
        ),
        (
            Method::GET,
            "/api/v1/incidents".into(),
            None,
            [200, 200, 200, 200, 200, 401],
        ),
        (
            Method::POST,
            "/api/v1/incidents".into(),
            Some(incident_body()),
            [403, 201, 403, 403, 403, 401],
        ),
        (
            Method::GET,
            format!("/api/v1/incidents/{}", inc.id),
            None,
            [200, 200, 200, 200, 200, 401],
        ),
        (
            Method::PATCH,
            format!("/api/v1/incidents/{}", inc.id),
            Some(patch_body),
            [403, 200, 403, 403, 403, 401],
        ),
        (
            Method::GET,
            "/api/v1/sources".into(),
            None,
            [200, 200, 403, 200, 403, 401],
        ),
        (
            Method::GET,
            format!("/api/v1/sources/{}", src.id),
            None,
            [200, 200, 403, 200, 403, 401],
        ),
        (
            Method::GET,
            format!("/api/v1/sources/{}/contact", src.id),
            None,
            [403, 403, 403, 200, 403, 401],
        ),
        (
            Method::GET,
            "/api/v1/situations".into(),
            None,
            [200, 200, 200, 200, 200, 401],
        ),
        (
            Method::POST,
            "/api/v1/situations".into(),
            Some(situation_body),
            [403, 201, 403, 403, 403, 401],
        ),
        (
            Method::GET,
            format!("/api/v1/situations/{}", sit.id),
            None,
            [200, 200, 200, 200, 200, 401],
        ),
        (
            Method::GET,
            "/api/v1/me".into(),
            None,
            [200, 200, 200, 200, 200, 401],
        ),
        (
            Method::GET,
            "/api/v1/audit".into(),
            None,
            [200, 403, 403, 403, 403, 401],
        ),
        (
            Method::GET,
            "/api/v1/openapi.json".into(),
            None,
            [200, 200, 200, 200, 200, 200],
        ),
        (
            Method::GET,
            "/api/v1/export?format=csv".into(),
            None,
            [200, 200, 200, 200, 200, 401],
        ),
        (
            Method::GET,
            "/api/v1/incidents/map?zoom=3".into(),
            None,
            [200, 200, 200, 200, 200, 401],
        ),
        // How staff are reached: anyone reads a colleague (contacts masked unless it is
        // themself or an admin reading); only the user themself (here the viewer) or an
        // admin changes them; everyone has an inbox of their own.
        (
            Method::GET,
            "/api/v1/users/viewer".into(),
            None,
            [200, 200, 200, 200, 200, 401],
        ),
        (
            Method::PATCH,
            "/api/v1/users/viewer".into(),
            Some(json!({"channels": {"low": ["inbox"]}})),
            [200, 403, 403, 403, 200, 401],
        ),
        (
            Method::GET,
            "/api/v1/inbox".into(),
            None,
            [200, 200, 200, 200, 200, 401],
        ),
        (
            Method::POST,
            format!("/api/v1/inbox/{}/read", uuid::Uuid::new_v4()),
            None,
            [404, 404, 404, 404, 404, 401],
        ),
        (
            Method::GET,
            "/api/v1/actions".into(),
            None,
            [200, 200, 200, 200, 200, 401],
        ),
        (
            Method::POST,
            "/api/v1/actions".into(),
            Some(action_body),
            // A desk officer records only their own desk's actions; this one names no desk.
            [201, 201, 403, 403, 403, 401],
        ),
        (
            Method::GET,
            format!("/api/v1/actions/{act_id}"),
            None,
            [200, 200, 200, 200, 200, 401],
        ),
        (
            Method::PATCH,
            format!("/api/v1/actions/{act_id}"),
            Some(json!({"notes": "followed up"})),
            [200, 200, 403, 403, 403, 401],
        ),
        (
            Method::GET,
            format!("/api/v1/situations/{}/suggested-measures", sit.id),
            None,
            [200, 200, 200, 200, 200, 401],
        ),
        (
            Method::GET,
            format!("/api/v1/situations/{}/response", sit.id),
            None,
            [200, 200, 200, 200, 200, 401],
        ),
    ];
    table.extend(alerting_rows(&app).await);
    table.extend(triage_rows(&app).await);
    table.extend(rumour_rows(&app, &rep_id).await);
    table.extend(evidence_rows(&app, &rep_id).await);
    let mut failures = Vec::new();
    for (method, path, body, expected) in &table {
        let who = Role::ALL.iter().map(|r| Some(*r)).chain([None]);
        for (role, want) in who.zip(expected) {
            let (got, resp) = app.call(role, method.clone(), path, body.clone()).await;
            if got.as_u16() != *want {
                failures.push(format!(
                    "{method} {path} as {role:?}: got {got}, want {want}: {resp}"
                ));
            }
            if got.is_client_error() {
                assert!(
                    resp["error"].is_string(),
                    "{method} {path}: 4xx without a JSON error: {resp}"
                );
            }
        }
    }
    assert!(
        failures.is_empty(),
        "authorisation table mismatches:\n{}",
        failures.join("\n")
    );

    // A wrong token is as good as none.
    let resp = app
        .client
        .get(format!("{}/api/v1/incidents", app.base))
        .bearer_auth("tsn_not-a-real-token")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}

#[tokio::test]
async fn clearance_hides_records_and_contacts_everywhere() {
    let app = TestApp::start().await;
    let mut ids = HashMap::new();
    for tlp in Tlp::ALL {
        let i = app.incident(tlp, "CAF", "2025-02-01", 6.0, 20.0, VAC).await;
        ids.insert(tlp, i.id);
        let (s, _) = app
            .post(
                Role::Analyst,
                "/api/v1/reports",
                json!({"text": format!("report {tlp}"), "tlp": tlp}),
            )
            .await;
        assert_eq!(s, 201);
    }
    // Viewer: lists and every get, nothing above GREEN, never a phone number.
    let mut bodies = Vec::new();
    for path in [
        "/api/v1/incidents?limit=500",
        "/api/v1/situations",
        "/api/v1/me",
    ] {
        let (s, b) = app.get(Role::Viewer, path).await;
        assert_eq!(s, 200);
        bodies.push(b);
    }
    let (_, list) = app.get(Role::Viewer, "/api/v1/incidents?limit=500").await;
    let seen: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["tlp"].as_str().unwrap())
        .collect();
    assert_eq!(seen.len(), 2, "viewer sees CLEAR and GREEN only: {seen:?}");
    for (tlp, id) in &ids {
        let (s, b) = app
            .get(Role::Viewer, &format!("/api/v1/incidents/{id}"))
            .await;
        let expect = if *tlp <= Tlp::Green { 200 } else { 404 };
        assert_eq!(s, expect, "viewer GET incident {tlp}");
        bodies.push(b);
    }
    // Asking for an AMBER filter explicitly yields nothing, not an error.
    let (s, b) = app
        .get(Role::Viewer, "/api/v1/incidents?tlp=TLP:AMBER")
        .await;
    assert_eq!(
        (s, b["items"].as_array().unwrap().len()),
        (StatusCode::OK, 0)
    );
    bodies.push(b);
    let all = serde_json::to_string(&bodies).unwrap();
    for forbidden in ["TLP:AMBER", "TLP:RED", PHONE, "23670012345"] {
        assert!(!all.contains(forbidden), "viewer received {forbidden}");
    }

    // Desk officer (AMBER): no RED or AMBER+STRICT, no sources at all.
    let (_, b) = app
        .get(Role::DeskOfficer, "/api/v1/incidents?limit=500")
        .await;
    let (_, r) = app
        .get(Role::DeskOfficer, "/api/v1/reports?limit=500")
        .await;
    let all = serde_json::to_string(&(b, r)).unwrap();
    assert!(all.contains("TLP:AMBER") && !all.contains("TLP:RED") && !all.contains("AMBER+STRICT"));

    // Only the monitor coordinator reads contacts, and the read is audited.
    let src = app.store.get_source_by_handle("M-0001").await.unwrap();
    for role in Role::ALL {
        let (s, b) = app.get(role, &format!("/api/v1/sources/{}", src.id)).await;
        assert!(
            !b.to_string().contains(PHONE),
            "{role} saw a phone in the source record"
        );
        if s == 200 {
            assert_eq!(b["handle"], "M-0001");
        }
    }
    let (s, b) = app
        .get(
            Role::MonitorCoordinator,
            &format!("/api/v1/sources/{}/contact", src.id),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(b["contact"]["phone"], PHONE);
    let audit = app.store.audit_entries(0, 10_000).await.unwrap();
    let reads: Vec<_> = audit
        .iter()
        .filter(|e| e.action == "source.contact.read")
        .collect();
    assert_eq!(reads.len(), 1);
    assert_eq!(reads[0].actor_name, "monitor_coordinator");
    assert_eq!(
        reads[0].record_id.as_deref(),
        Some(src.id.to_string().as_str())
    );
    assert!(
        !serde_json::to_string(&audit).unwrap().contains(PHONE),
        "the audit trail must not hold contacts"
    );
}

#[tokio::test]
async fn create_list_filter_and_paginate() {
    let app = TestApp::start().await;
    let (s, r) = app
        .post(
            Role::Analyst,
            "/api/v1/reports",
            json!({"text": "Hommes armés à Bria 🚨 مسلحون", "latitude": 6.5, "longitude": 21.9,
                   "occurred_at": "2025-03-01T06:00:00+01:00", "country": "caf", "source": "M-0001"}),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(r["text"], "Hommes armés à Bria 🚨 مسلحون");
    assert_eq!(r["tlp"], "TLP:AMBER");
    assert_eq!(r["source"], "M-0001");
    assert_eq!(r["country"], "CAF");
    assert_eq!(r["occurred_at"], "2025-03-01T05:00:00Z");
    let (s, got) = app
        .get(
            Role::Analyst,
            &format!("/api/v1/reports/{}", r["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!((s, &got), (StatusCode::OK, &r));

    // Incidents through the API, then filters.
    let (s, created) = app
        .post(Role::Analyst, "/api/v1/incidents", incident_body())
        .await;
    assert_eq!(s, 201, "{created}");
    assert_eq!(created["version"], 1);
    app.incident(Tlp::Green, "SSD", "2025-05-10", 9.5, 32.0, BATTLE)
        .await;
    app.incident(Tlp::Green, "SSD", "2024-12-31", 7.0, 30.0, VAC)
        .await;
    let count = |b: &Value| b["items"].as_array().unwrap().len();
    let (_, b) = app.get(Role::Viewer, "/api/v1/incidents?country=SSD").await;
    assert_eq!(count(&b), 2);
    let (_, b) = app
        .get(
            Role::Viewer,
            "/api/v1/incidents?from=2025-01-01&to=2025-12-31",
        )
        .await;
    assert_eq!(count(&b), 2);
    let (_, b) = app
        .get(Role::Viewer, "/api/v1/incidents?bbox=31,9,33,10")
        .await;
    assert_eq!(count(&b), 1);
    let (_, b) = app
        .get(Role::Viewer, "/api/v1/incidents?event_type=Battles")
        .await;
    assert_eq!(
        (count(&b), b["items"][0]["country"].as_str()),
        (1, Some("SSD"))
    );
    let (_, b) = app
        .get(
            Role::Viewer,
            "/api/v1/incidents?verification_status=verified",
        )
        .await;
    assert_eq!(count(&b), 0);

    // PATCH may not move the status (that takes a reason, through /verification); a move
    // there, then filter by the new status; a stale version is refused.
    let id = created["id"].as_str().unwrap();
    let (s, p) = app
        .call(
            Some(Role::Analyst),
            Method::PATCH,
            &format!("/api/v1/incidents/{id}"),
            Some(json!({"verification_status": "disputed", "expected_version": 1})),
        )
        .await;
    assert_eq!(
        (s, p["field"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("verification_status")
        ),
        "{p}"
    );
    let (s, p) = app
        .call(
            Some(Role::Analyst),
            Method::POST,
            &format!("/api/v1/incidents/{id}/verification"),
            Some(json!({"state": "disputed", "reason": "a second monitor denies it"})),
        )
        .await;
    assert_eq!((s, p["version"].as_i64()), (StatusCode::OK, Some(2)), "{p}");
    let (_, b) = app
        .get(
            Role::Viewer,
            "/api/v1/incidents?verification_status=disputed",
        )
        .await;
    assert_eq!(count(&b), 1);
    let (s, e) = app
        .call(
            Some(Role::Analyst),
            Method::PATCH,
            &format!("/api/v1/incidents/{id}"),
            Some(json!({"fatalities": 9, "expected_version": 1})),
        )
        .await;
    assert_eq!(
        (s, e["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("expected_version"))
    );

    // Paginate 120 reports: every one exactly once, newest first, last page has no cursor.
    for n in 0..119 {
        let (s, _) = app
            .post(
                Role::Analyst,
                "/api/v1/reports",
                json!({"text": format!("r{n}")}),
            )
            .await;
        assert_eq!(s, 201);
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/reports?limit=50".to_string();
    let mut pages = 0;
    loop {
        let (s, b) = app.get(Role::Analyst, &path).await;
        assert_eq!(s, 200);
        pages += 1;
        seen.extend(b["items"].as_array().unwrap().iter().map(|r| {
            (
                chrono::DateTime::parse_from_rfc3339(r["received_at"].as_str().unwrap()).unwrap(),
                r["id"].as_str().unwrap().to_string(),
            )
        }));
        match b["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/reports?limit=50&cursor={c}"),
            None => break,
        }
    }
    assert_eq!((pages, seen.len()), (3, 120));
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    sorted.dedup();
    assert_eq!(
        sorted, seen,
        "pages must be newest first (by time: ids are random) with no repeats"
    );
    let (s, e) = app.get(Role::Analyst, "/api/v1/reports?limit=501").await;
    assert_eq!(
        (s.is_client_error(), e["field"].as_str()),
        (true, Some("limit"))
    );
}

#[tokio::test]
async fn bad_input_is_refused_with_a_named_field_and_nothing_written() {
    let app = TestApp::start().await;
    let before = app.store.counts().await.unwrap();
    let cases: Vec<(&str, Vec<u8>, u16, Option<&str>)> = vec![
        (
            "application/json",
            b"{\"text\": \"unterminated".to_vec(),
            400,
            Some("text"),
        ),
        (
            "application/json",
            br#"{"text": "x", "colour": "red"}"#.to_vec(),
            400,
            Some("colour"),
        ),
        (
            "application/json",
            br#"{"text": 42}"#.to_vec(),
            400,
            Some("text"),
        ),
        (
            "application/json",
            br#"{"text": "x", "latitude": "north", "longitude": 1}"#.to_vec(),
            400,
            Some("latitude"),
        ),
        (
            "application/json",
            br#"{"text": "x", "latitude": 95, "longitude": 1}"#.to_vec(),
            422,
            Some("latitude"),
        ),
        (
            "application/json",
            br#"{"text": "x", "latitude": 5, "longitude": -181}"#.to_vec(),
            422,
            Some("longitude"),
        ),
        (
            "application/json",
            br#"{"text": "x", "tlp": "TLP:PURPLE"}"#.to_vec(),
            400,
            Some("tlp"),
        ),
        (
            "application/json",
            br#"{"text": ""}"#.to_vec(),
            422,
            Some("text"),
        ),
        (
            "application/json",
            br#"{"text": "x", "occurred_at": "last week"}"#.to_vec(),
            422,
            Some("occurred_at"),
        ),
        (
            "application/json",
            br#"{"text": "x", "source": "M-9999"}"#.to_vec(),
            422,
            Some("source"),
        ),
        ("application/json", br#"[1, 2, 3]"#.to_vec(), 400, None),
        ("text/plain", br#"{"text": "x"}"#.to_vec(), 415, None),
        (
            "application/json",
            format!("{{\"text\": \"{}\"}}", "a".repeat(300 * 1024)).into_bytes(),
            413,
            None,
        ),
        ("application/json", vec![0xff, 0xfe, 0x00], 400, None),
    ];
    for (ctype, body, status, field) in cases {
        let (s, e) = app.raw_post("/api/v1/reports", ctype, body.clone()).await;
        let shown = String::from_utf8_lossy(&body[..body.len().min(60)]).to_string();
        assert_eq!(s.as_u16(), status, "{shown}: {e}");
        assert!(e["error"].is_string(), "{shown}: no JSON error: {e}");
        assert_eq!(e["field"].as_str(), field, "{shown}: {e}");
    }
    let mut bad_incident = incident_body();
    bad_incident["sub_event_type"] = "Armed clash".into();
    let (s, e) = app
        .post(Role::Analyst, "/api/v1/incidents", bad_incident)
        .await;
    assert_eq!(
        (s.as_u16(), e["field"].as_str()),
        (422, Some("sub_event_type"))
    );
    let mut bad_incident = incident_body();
    bad_incident["country"] = "XXX".into();
    let (s, e) = app
        .post(Role::Analyst, "/api/v1/incidents", bad_incident)
        .await;
    assert_eq!((s.as_u16(), e["field"].as_str()), (422, Some("country")));

    for (q, field) in [
        ("colour=red", "colour"),
        ("cursor=bm90LWEtY3Vyc29y", "cursor"),
        ("limit=ten", "limit"),
        ("bbox=1,2,3", "bbox"),
        ("from=01/02/2025", "from"),
        ("country=Narnia", "country"),
        ("tlp=TLP:BLUE", "tlp"),
        ("event_type=Picnic", "event_type"),
    ] {
        let (s, e) = app
            .get(Role::Analyst, &format!("/api/v1/incidents?{q}"))
            .await;
        assert!(s.is_client_error(), "{q}: {s}");
        assert_eq!(e["field"].as_str(), Some(field), "{q}: {e}");
    }
    let (s, _) = app.get(Role::Analyst, "/api/v1/incidents/not-a-uuid").await;
    assert_eq!(s, 400);
    let (s, _) = app
        .get(
            Role::Analyst,
            &format!("/api/v1/incidents/{}", uuid::Uuid::now_v7()),
        )
        .await;
    assert_eq!(s, 404);
    assert_eq!(
        app.store.counts().await.unwrap(),
        before,
        "a refused request wrote something"
    );
}

#[tokio::test]
async fn browser_login_pages_and_csrf() {
    let app = TestApp::start().await;
    let inc = app
        .incident(Tlp::Green, "CAF", "2025-04-01", 6.0, 20.0, VAC)
        .await;
    let red = app
        .incident(Tlp::Red, "CAF", "2025-04-02", 6.0, 20.0, VAC)
        .await;

    // Pages redirect to login when logged out; wrong passwords are refused and audited.
    let r = app
        .client
        .get(format!("{}/incidents", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        browser_login(&app, "analyst", "wrong-password")
            .await
            .unwrap_err(),
        401
    );
    let audit = app.store.audit_entries(0, 10_000).await.unwrap();
    assert!(audit
        .iter()
        .any(|e| e.action == "login.failure" && e.actor_name == "analyst"));
    assert!(!serde_json::to_string(&audit)
        .unwrap()
        .contains("wrong-password"));

    let (session, csrf) = browser_login(&app, "analyst", "password-123")
        .await
        .unwrap();
    let audit = app.store.audit_entries(0, 10_000).await.unwrap();
    assert!(audit
        .iter()
        .any(|e| e.action == "login.success" && e.actor_name == "analyst"));
    let get = |path: String| {
        let session = session.clone();
        let app = &app;
        async move {
            let r = app
                .client
                .get(format!("{}{}", app.base, path))
                .header("cookie", session)
                .send()
                .await
                .unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let (s, html) = get("/incidents?country=CAF".into()).await;
    assert_eq!(s, 200);
    assert!(html.contains(&inc.id.to_string()) && html.contains("TLP:RED"));
    let (s, html) = get(format!("/incidents/{}", inc.id)).await;
    assert!(s == 200 && html.contains("test incident TLP:GREEN"));
    let (s, _) = get("/reports".into()).await;
    assert_eq!(s, 200);
    let (s, html) = get("/map".into()).await;
    assert!(s == 200 && html.contains("data-map-url") && html.contains("/assets/map.js"));
    let (s, html) = get("/framework".into()).await;
    assert_eq!(s, 200);
    assert!(
        html.contains("Risk factor 14: Serious threats to humanitarian or peacekeeping operations")
    );
    assert!(
        html.contains("<td>8.12</td>")
            && html.contains("mark-S-part")
            && html.contains("Not held: 14.1 onward")
    );
    for asset in [
        "/assets/map.js",
        "/assets/tocsin.css",
        "/assets/countries-110m.json",
    ] {
        let (s, body) = get(asset.into()).await;
        assert!(s == 200 && body.len() > 1000, "{asset}");
    }
    // The map's data source works with the session cookie alone.
    let (s, body) = get("/api/v1/incidents?limit=500".into()).await;
    assert!(s == 200 && body.contains(&inc.id.to_string()));

    // Editing: without the CSRF token refused, with it applied.
    let form = |csrf: &str| {
        vec![
            ("csrf", csrf.to_string()),
            ("expected_version", "1".into()),
            ("event_date", "2025-04-01".into()),
            ("event_type", "Violence against civilians".into()),
            ("sub_event_type", "Attack".into()),
            ("country", "CAF".into()),
            ("admin1", "Ouham".into()),
            ("location", "Bossangoa".into()),
            ("latitude", "6.49".into()),
            ("longitude", "17.45".into()),
            ("fatalities", "7".into()),
            ("credibility", "2".into()),
            ("tlp", "TLP:GREEN".into()),
            ("description", "Edited".into()),
        ]
    };
    let post = |f: Vec<(&'static str, String)>| {
        let session = session.clone();
        let app = &app;
        async move {
            app.client
                .post(format!("{}/incidents/{}/edit", app.base, inc.id))
                .header("cookie", session)
                .form(&f)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(post(form("forged")).await, StatusCode::FORBIDDEN);
    assert_eq!(app.store.get_incident(inc.id).await.unwrap().version, 1);
    assert_eq!(post(form(&csrf)).await, StatusCode::SEE_OTHER);
    let edited = app.store.get_incident(inc.id).await.unwrap();
    assert_eq!(
        (
            edited.fatalities,
            edited.location.as_deref(),
            edited.version
        ),
        (7, Some("Bossangoa"), 2)
    );
    let mut bad = form(&csrf);
    bad[1].1 = "2".into();
    bad[9].1 = "200".into();
    assert_eq!(post(bad).await, StatusCode::UNPROCESSABLE_ENTITY);

    // Cookie-authenticated API writes need the CSRF header.
    let r = app
        .client
        .patch(format!("{}/api/v1/incidents/{}", app.base, inc.id))
        .header("cookie", &session)
        .json(&json!({"fatalities": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // A viewer's browser never sees the RED incident.
    let (vs, _) = browser_login(&app, "viewer", "password-123").await.unwrap();
    let r = app
        .client
        .get(format!("{}/incidents/{}", app.base, red.id))
        .header("cookie", &vs)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let html = app
        .client
        .get(format!("{}/incidents", app.base))
        .header("cookie", &vs)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !html.contains("TLP:RED") || html.matches("TLP:RED").count() == 1,
        "only the filter option may name RED"
    );
    assert!(!html.contains(&red.id.to_string()));

    // Logout ends the session.
    let r = app
        .client
        .post(format!("{}/logout", app.base))
        .header("cookie", &session)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = app
        .client
        .get(format!("{}/incidents", app.base))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn healthz_and_security_headers() {
    let app = TestApp::start().await;
    let r = app
        .client
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("default-src 'self'"));
    assert_eq!(r.headers()["x-frame-options"], "DENY");
    let doc: Value = app
        .client
        .get(format!("{}/api/v1/openapi.json", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in [
        "/api/v1/reports",
        "/api/v1/incidents/{id}",
        "/api/v1/sources/{id}/contact",
    ] {
        assert!(doc["paths"][path].is_object(), "openapi lacks {path}");
    }
    assert!(doc["components"]["schemas"]["IncidentInput"].is_object());
}

/// 800 incidents spread over two countries, a quarter of them above a viewer's clearance.
async fn spread(app: &TestApp) -> Vec<Incident> {
    let mut all = Vec::new();
    for n in 0..800u32 {
        let (country, lat, lon) = if n % 2 == 0 {
            ("CAF", 6.0, 20.0)
        } else {
            ("SSD", 8.0, 30.0)
        };
        let tlp = [Tlp::Clear, Tlp::Green, Tlp::Green, Tlp::Red][n as usize % 4];
        let mut i = Incident::parse(IncidentInput {
            event_date: format!("2025-{:02}-{:02}", 1 + n % 12, 1 + n % 28),
            event_type: "Violence against civilians".into(),
            sub_event_type: "Attack".into(),
            country: country.into(),
            latitude: lat + f64::from(n % 40) * 0.05,
            longitude: lon + f64::from(n % 37) * 0.05,
            fatalities: i64::from(n % 5),
            description: "spread".into(),
            tlp,
            ..Default::default()
        })
        .unwrap();
        i.dataset = Some("test".into());
        i.external_id = Some(n.to_string());
        all.push(i);
    }
    app.store
        .import_incidents(&Actor::system("test"), "test", all.clone())
        .await
        .unwrap();
    all
}

#[tokio::test]
async fn map_clusters_at_low_zoom_points_at_high_zoom() {
    let app = TestApp::start().await;
    let all = spread(&app).await;
    let visible: Vec<&Incident> = all.iter().filter(|i| i.tlp <= Tlp::Green).collect();
    let (s, world) = app.get(Role::Viewer, "/api/v1/incidents/map?zoom=2").await;
    assert_eq!(s, 200, "{world}");
    assert_eq!(world["mode"], "clusters");
    assert_eq!(world["total"].as_u64(), Some(visible.len() as u64));
    let feats = world["features"].as_array().unwrap();
    assert!(
        feats.len() >= 2 && feats.len() < 50,
        "a few clusters, not {} ",
        feats.len()
    );
    let count: u64 = feats
        .iter()
        .map(|f| f["properties"]["count"].as_u64().unwrap())
        .sum();
    let deaths: u64 = feats
        .iter()
        .map(|f| f["properties"]["fatalities"].as_u64().unwrap())
        .sum();
    assert_eq!(count, visible.len() as u64);
    assert_eq!(
        deaths,
        visible.iter().map(|i| i.fatalities as u64).sum::<u64>()
    );
    for f in feats {
        let b: Vec<f64> = f["properties"]["bounds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let c: Vec<f64> = f["geometry"]["coordinates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert!(
            b[0] <= c[0] + 1e-4
                && c[0] <= b[2] + 1e-4
                && b[1] <= c[1] + 1e-4
                && c[1] <= b[3] + 1e-4
        );
    }
    // A whole-world view at zoom 9 has millions of cells: the sparse path, which must count
    // the same incidents and deaths as the flat grid of the world view above.
    let (_, fine) = app.get(Role::Viewer, "/api/v1/incidents/map?zoom=9").await;
    assert_eq!(fine["mode"], "clusters");
    let sum = |v: &Value, k: &str| -> u64 {
        v["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["properties"][k].as_u64().unwrap())
            .sum()
    };
    assert_eq!(sum(&fine, "count"), count);
    assert_eq!(sum(&fine, "fatalities"), deaths);
    assert!(fine["features"].as_array().unwrap().len() > feats.len());
    // An analyst sees the RED ones too.
    let (_, a) = app.get(Role::Analyst, "/api/v1/incidents/map?zoom=2").await;
    assert_eq!(a["total"].as_u64(), Some(800));
    // City zoom over a small box: points with ids, all inside the box.
    let (_, city) = app
        .get(
            Role::Viewer,
            "/api/v1/incidents/map?zoom=12&bbox=20.0,6.0,20.5,6.5",
        )
        .await;
    assert_eq!(city["mode"], "points");
    let pts = city["features"].as_array().unwrap();
    assert!(!pts.is_empty());
    for p in pts {
        let id = p["properties"]["id"].as_str().unwrap();
        let i = all.iter().find(|i| i.id.to_string() == id).unwrap();
        assert!(
            i.tlp <= Tlp::Green
                && (20.0..=20.5).contains(&i.longitude)
                && (6.0..=6.5).contains(&i.latitude)
        );
    }
    // Filters and freshness: a new incident shows on the next query.
    let (_, caf) = app
        .get(
            Role::Viewer,
            "/api/v1/incidents/map?zoom=2&country=CAF&from=2025-06-01",
        )
        .await;
    let want = visible
        .iter()
        .filter(|i| i.country.code() == "CAF" && i.event_date.to_string().as_str() >= "2025-06-01")
        .count();
    assert_eq!(caf["total"].as_u64(), Some(want as u64));
    let (s, _) = app
        .post(Role::Analyst, "/api/v1/incidents", incident_body())
        .await;
    assert_eq!(s, 201);
    let (_, after) = app.get(Role::Viewer, "/api/v1/incidents/map?zoom=2").await;
    assert_eq!(after["total"].as_u64(), Some(visible.len() as u64 + 1));
    for (q, field) in [
        ("zoom=99", "zoom"),
        ("bbox=0,0,1", "bbox"),
        ("from=yesterday", "from"),
        ("size=3", "size"),
    ] {
        let (s, e) = app
            .get(Role::Viewer, &format!("/api/v1/incidents/map?{q}"))
            .await;
        assert!(s.is_client_error(), "{q}");
        assert_eq!(e["field"].as_str(), Some(field), "{q}: {e}");
    }
}

#[tokio::test]
async fn exports_stream_what_the_caller_may_see() {
    let app = TestApp::start().await;
    let all = spread(&app).await;
    let visible = all.iter().filter(|i| i.tlp <= Tlp::Green).count();
    let get = |q: &str| {
        let req = app
            .client
            .get(format!("{}/api/v1/export?{q}", app.base))
            .bearer_auth(&app.tokens[&Role::Viewer]);
        async move {
            let r = req.send().await.unwrap();
            let status = r.status();
            let ctype = r
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_string());
            (status, ctype, r.text().await.unwrap())
        }
    };
    let (s, ctype, csv) = get("format=csv").await;
    assert_eq!(
        (s, ctype.as_deref()),
        (StatusCode::OK, Some("text/csv; charset=utf-8"))
    );
    assert_eq!(
        csv.lines().count(),
        visible + 1,
        "a header and one line per visible incident"
    );
    assert!(!csv.contains("TLP:RED"));
    let (_, _, gj) = get("format=geojson&country=SSD").await;
    let gj: Value = serde_json::from_str(&gj).unwrap();
    let feats = gj["features"].as_array().unwrap();
    assert_eq!(
        feats.len(),
        all.iter()
            .filter(|i| i.tlp <= Tlp::Green && i.country.code() == "SSD")
            .count()
    );
    let (_, _, hxl) = get("format=hxl").await;
    assert!(hxl.lines().nth(1).unwrap().starts_with("#meta+id,"));
    let (_, _, acled) = get("format=acled").await;
    assert!(acled.starts_with("event_id_cnty,event_date,year,time_precision"));
    let (s, _, body) = get("format=xlsx").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let audit = app.store.audit_entries(0, 10_000).await.unwrap();
    assert_eq!(
        audit
            .iter()
            .filter(|e| e.action == "incident.export" && e.actor_name == "viewer")
            .count(),
        4
    );
}

#[tokio::test]
async fn public_report_form_csrf_anonymity_and_rate_limit() {
    let app = TestApp::start().await;
    let get_form = || async {
        let r = app
            .client
            .get(format!("{}/report", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["cache-control"], "no-store");
        let cookie = first_cookie(&r);
        let html = r.text().await.unwrap();
        assert!(!html.contains("<script"), "the form needs no JavaScript");
        let csrf = csrf_in(&html);
        (cookie, csrf)
    };
    let (cookie, csrf) = get_form().await;
    let post = |cookie: String, fields: Vec<(&'static str, String)>| {
        let req = app
            .client
            .post(format!("{}/report", app.base))
            .header("cookie", cookie)
            .form(&fields);
        async move {
            let r = req.send().await.unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let (s, _) = post(
        cookie.clone(),
        vec![("csrf", "forged".into()), ("text", "x".into())],
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let text = "Hommes armés vus près de Bria ce matin";
    let (s, html) = post(
        cookie.clone(),
        vec![
            ("csrf", csrf.clone()),
            ("text", text.into()),
            ("place", "Bria".into()),
            ("phone", "".into()),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(html.contains("Your reference is <strong>R-"), "{html}");
    let (_, list) = app.get(Role::Analyst, "/api/v1/reports?channel=web").await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert!(items[0]["text"].as_str().unwrap().starts_with(text));
    assert!(items[0]["source"].is_null(), "anonymous: no source");
    assert_eq!(items[0]["tlp"], "TLP:AMBER+STRICT");
    assert_eq!(items[0]["language"], "fr");
    // The form is rate limited per client: 10 in ten minutes.
    let mut last = StatusCode::OK;
    for _ in 0..10 {
        let (c, t) = get_form().await;
        last = post(c, vec![("csrf", t), ("text", "again".into())]).await.0;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
}

/// Lists are answered from the in-memory index and rows read by id: every page, for each
/// filter and page size, is what the store's own query gives; and an incident whose label is
/// raised is no longer listed for a reader below the new label, from the next request on.
#[tokio::test]
async fn lists_from_the_index_agree_with_the_store() {
    let app = TestApp::start().await;
    spread(&app).await;
    let viewer = |f: &dyn Fn(&mut IncidentFilter)| {
        let mut x = IncidentFilter {
            max_tlp: Role::Viewer.default_clearance(),
            ..Default::default()
        };
        f(&mut x);
        x
    };
    let cases: Vec<(&str, IncidentFilter)> = vec![
        ("", viewer(&|_| {})),
        (
            "country=SSD",
            viewer(&|f| f.country = Some(Country::parse("SSD").unwrap())),
        ),
        (
            "from=2025-03-01&to=2025-06-28",
            viewer(&|f| {
                f.from = NaiveDate::from_ymd_opt(2025, 3, 1);
                f.to = NaiveDate::from_ymd_opt(2025, 6, 28);
            }),
        ),
        (
            "bbox=20.5,6.5,21,7",
            viewer(&|f| f.bbox = Some(BBox::parse("20.5,6.5,21,7").unwrap())),
        ),
        ("tlp=TLP:CLEAR", viewer(&|f| f.tlp = Some(Tlp::Clear))),
        (
            "country=CAF&verification_status=unverified",
            viewer(&|f| {
                f.country = Some(Country::parse("CAF").unwrap());
                f.verification_status = Some(VerificationStatus::Unverified);
            }),
        ),
        (
            "event_type=Battles",
            viewer(&|f| f.event_type = Some("Battles".into())),
        ),
    ];
    for (query, filter) in &cases {
        for limit in [7u32, 500] {
            let mut want = Vec::new();
            let mut page = PageRequest { after: None, limit };
            loop {
                let p = app.store.list_incidents(filter, page).await.unwrap();
                want.extend(p.items.iter().map(|i| i.id.to_string()));
                match p.next_cursor {
                    Some(c) => {
                        page = PageRequest {
                            after: Some(Cursor::decode(&c).unwrap()),
                            limit,
                        }
                    }
                    None => break,
                }
            }
            let mut got = Vec::new();
            let mut cursor = String::new();
            loop {
                let (s, b) = app
                    .get(
                        Role::Viewer,
                        &format!("/api/v1/incidents?{query}&limit={limit}{cursor}"),
                    )
                    .await;
                assert_eq!(s, 200, "{query}: {b}");
                let items = b["items"].as_array().unwrap();
                assert!(items.len() <= limit as usize);
                got.extend(items.iter().map(|i| i["id"].as_str().unwrap().to_string()));
                match b["next_cursor"].as_str() {
                    Some(c) => cursor = format!("&cursor={c}"),
                    None => break,
                }
            }
            assert!(!query.contains("Battles") || want.is_empty());
            assert_eq!(got, want, "{query}, {limit} per page");
        }
    }
    // The index has seen every incident; now raise one Green incident to Red in the store.
    let (_, b) = app.get(Role::Viewer, "/api/v1/incidents?limit=1").await;
    let top: uuid::Uuid = b["items"][0]["id"].as_str().unwrap().parse().unwrap();
    let before = app.store.get_incident(top).await.unwrap();
    app.store
        .update_incident(
            &Actor::system("test"),
            top,
            IncidentPatch {
                tlp: Some(Tlp::Red),
                expected_version: Some(before.version),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let (_, b) = app.get(Role::Viewer, "/api/v1/incidents?limit=1").await;
    assert_ne!(b["items"][0]["id"].as_str(), Some(top.to_string().as_str()));
    let (_, b) = app
        .get(Role::Analyst, "/api/v1/incidents?tlp=TLP:RED&limit=500")
        .await;
    let red: Vec<&str> = b["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert!(
        red.contains(&top.to_string().as_str()),
        "the analyst sees it, now Red"
    );
}

#[tokio::test]
async fn a_source_above_clearance_is_named_as_if_absent() {
    let app = TestApp::start().await;
    let key = tocsin_domain::ContactKey::generate();
    let red = tocsin_domain::NewSource::new(
        "M-RED",
        "monitor",
        tocsin_domain::Reliability::B,
        Tlp::Red,
        None,
        &key,
    )
    .unwrap();
    app.store
        .create_source(&Actor::system("test"), red)
        .await
        .unwrap();
    let before = app.store.counts().await.unwrap();
    // A monitor coordinator (TLP:AMBER+STRICT) naming the TLP:RED source gets exactly what
    // naming no source at all gets, and nothing is stored.
    let post = |source: &str| {
        app.post(
            Role::MonitorCoordinator,
            "/api/v1/reports",
            json!({"text": "Shots heard near the market", "source": source}),
        )
    };
    let (hidden, unknown) = (post("M-RED").await, post("M-NOPE").await);
    assert_eq!(hidden.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", hidden.1);
    assert_eq!(hidden, unknown);
    assert_eq!(app.store.counts().await.unwrap(), before);
    // One it may see is attached; an analyst (TLP:RED) may name the other.
    let (s, v) = post("M-0001").await;
    assert_eq!(
        (s, v["source"].as_str()),
        (StatusCode::CREATED, Some("M-0001")),
        "{v}"
    );
    let (s, v) = app
        .post(
            Role::Analyst,
            "/api/v1/reports",
            json!({"text": "Shots heard near the market", "source": "M-RED"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
}

/// The audit entries after `after`.
async fn audit_after(app: &TestApp, after: i64) -> Vec<tocsin_domain::AuditEntry> {
    app.store.audit_entries(after, 1000).await.unwrap()
}

#[tokio::test]
async fn reads_of_red_and_amber_strict_records_are_audited() {
    let app = TestApp::start().await;
    let green = app
        .incident(Tlp::Green, "CAF", "2025-02-01", 6.0, 20.0, VAC)
        .await;
    let red = app
        .incident(Tlp::Red, "CAF", "2025-02-02", 6.1, 20.1, VAC)
        .await;
    let strict = app
        .incident(Tlp::AmberStrict, "CAF", "2025-02-03", 6.2, 20.2, VAC)
        .await;
    let last = |v: &[tocsin_domain::AuditEntry]| v.last().map_or(0, |e| e.seq);
    let start = last(&audit_after(&app, 0).await);

    // A GREEN incident read adds nothing.
    let (s, _) = app
        .get(Role::Analyst, &format!("/api/v1/incidents/{}", green.id))
        .await;
    assert_eq!(s, 200);
    assert!(audit_after(&app, start).await.is_empty());

    // A RED one, by API and on its page, adds one entry each, naming it and its label.
    let (s, _) = app
        .get(Role::Analyst, &format!("/api/v1/incidents/{}", red.id))
        .await;
    assert_eq!(s, 200);
    let (session, _) = browser_login(&app, "analyst", "password-123")
        .await
        .unwrap();
    let after_login = last(&audit_after(&app, 0).await);
    let page = app
        .client
        .get(format!("{}/incidents/{}", app.base, strict.id))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let reads: Vec<_> = audit_after(&app, start)
        .await
        .into_iter()
        .filter(|e| e.action == "record.read")
        .collect();
    assert_eq!(reads.len(), 2, "{reads:?}");
    assert_eq!(reads[0].record_type, "incident");
    assert_eq!(reads[0].record_id, Some(red.id.to_string()));
    assert_eq!(reads[0].actor_name, "analyst");
    assert!(reads[0].detail.contains("TLP:RED"), "{}", reads[0].detail);
    assert_eq!(reads[1].record_id, Some(strict.id.to_string()));
    assert!(reads[1].seq > after_login);
    assert!(reads[1].detail.contains("TLP:AMBER+STRICT"));

    // A list that showed such records: one entry, with how many and which.
    let before = last(&audit_after(&app, 0).await);
    let (s, _) = app.get(Role::Analyst, "/api/v1/incidents?limit=500").await;
    assert_eq!(s, 200);
    let listed = audit_after(&app, before).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].action, "records.list");
    let detail: Value = serde_json::from_str(&listed[0].detail).unwrap();
    assert_eq!(detail["count"], 2, "{detail}");
    let ids = detail["ids"].as_array().unwrap();
    assert!(
        ids.contains(&json!(red.id.to_string())) && ids.contains(&json!(strict.id.to_string()))
    );
    // A viewer's list shows none of them: no entry. The chain still verifies.
    let before = last(&audit_after(&app, 0).await);
    let (s, _) = app.get(Role::Viewer, "/api/v1/incidents?limit=500").await;
    assert_eq!(s, 200);
    assert!(audit_after(&app, before).await.is_empty());
    assert!(app.store.verify_audit().await.unwrap().is_ok());
}

#[tokio::test]
async fn reads_of_restricted_alerts_and_rules_are_audited_in_the_api_and_on_pages() {
    let app = TestApp::start().await;
    let (s, desk) = app
        .post(
            Role::Admin,
            "/api/v1/desks",
            json!({"name": "CAR desk", "department": "defence", "members": ["desk_officer"],
                   "countries": ["CAF"], "escalation": [
                       {"after": "1h", "notify": {"user": "desk_officer"}}]}),
        )
        .await;
    assert_eq!(s, 201, "{desk}");
    let mut ids = vec![];
    for (title, tlp) in [("Green alert", "TLP:GREEN"), ("Red alert", "TLP:RED")] {
        let (s, a) = app
            .post(
                Role::Analyst,
                "/api/v1/alerts",
                json!({"title": title, "severity": "high", "tlp": tlp, "country": "CAF"}),
            )
            .await;
        assert_eq!(s, 201, "{a}");
        ids.push(a["id"].as_str().unwrap().to_string());
    }
    let (green, red) = (ids[0].clone(), ids[1].clone());
    let (s, rule) = app
        .post(
            Role::Admin,
            "/api/v1/alert-rules",
            json!({"name": "CAR attacks", "severity": "high", "ack_within": "30m", "tlp": "TLP:AMBER+STRICT",
                   "kind": "incidents", "country": "CAF", "window": "7d", "min_incidents": 3}),
        )
        .await;
    assert_eq!(s, 201, "{rule}");
    let rule = rule["id"].as_str().unwrap().to_string();
    let last = |v: &[tocsin_domain::AuditEntry]| v.last().map_or(0, |e| e.seq);
    let mark = || async { last(&audit_after(&app, 0).await) };

    // A GREEN alert read adds nothing; a RED one adds one entry naming it and its label.
    let start = mark().await;
    let (s, _) = app
        .get(Role::Analyst, &format!("/api/v1/alerts/{green}"))
        .await;
    assert_eq!(s, 200);
    assert!(audit_after(&app, start).await.is_empty());
    let (s, _) = app
        .get(Role::Analyst, &format!("/api/v1/alerts/{red}"))
        .await;
    assert_eq!(s, 200);
    let e = audit_after(&app, start).await;
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(
        (e[0].action.as_str(), e[0].record_type.as_str()),
        ("record.read", "alert")
    );
    assert_eq!(e[0].record_id.as_deref(), Some(red.as_str()));
    assert!(e[0].detail.contains("TLP:RED"), "{}", e[0].detail);

    // The list that showed it: one entry naming it.
    let start = mark().await;
    let (s, _) = app.get(Role::Analyst, "/api/v1/alerts").await;
    assert_eq!(s, 200);
    let e = audit_after(&app, start).await;
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].action, "records.list");
    assert!(
        e[0].detail.contains(&red) && !e[0].detail.contains(&green),
        "{}",
        e[0].detail
    );

    // On the pages: the alert's page and the alerts list, one entry each.
    let (session, _) = browser_login(&app, "analyst", "password-123")
        .await
        .unwrap();
    for path in [format!("/alerts/{red}"), "/alerts".to_string()] {
        let start = mark().await;
        let page = app
            .client
            .get(format!("{}{path}", app.base))
            .header("cookie", &session)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200, "{path}");
        let e = audit_after(&app, start).await;
        let naming: Vec<_> = e
            .iter()
            .filter(|e| e.record_id.as_deref() == Some(red.as_str()) || e.detail.contains(&red))
            .collect();
        assert_eq!(naming.len(), 1, "{path}: {e:#?}");
    }

    // An AMBER+STRICT rule: read and listed, audited; a viewer is shown none of it.
    let start = mark().await;
    let (s, _) = app
        .get(Role::Analyst, &format!("/api/v1/alert-rules/{rule}"))
        .await;
    assert_eq!(s, 200);
    let (s, _) = app.get(Role::Analyst, "/api/v1/alert-rules").await;
    assert_eq!(s, 200);
    let e = audit_after(&app, start).await;
    let kinds: Vec<_> = e
        .iter()
        .map(|e| (e.action.as_str(), e.record_type.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [("record.read", "rule"), ("records.list", "rule")],
        "{e:#?}"
    );
    let start = mark().await;
    let (s, _) = app.get(Role::Viewer, "/api/v1/alerts").await;
    assert_eq!(s, 200);
    assert!(audit_after(&app, start).await.is_empty());
    assert!(app.store.verify_audit().await.unwrap().is_ok());
}

#[tokio::test]
async fn an_incident_counts_only_the_linked_reports_the_caller_may_read() {
    let app = TestApp::start().await;
    let mut reports = vec![];
    for tlp in ["TLP:GREEN", "TLP:RED"] {
        let (s, v) = app
            .post(
                Role::Analyst,
                "/api/v1/reports",
                json!({"text": format!("Shots heard, {tlp}"), "tlp": tlp}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        reports.push(v["id"].as_str().unwrap().to_string());
    }
    let mut body = incident_body();
    body["report_ids"] = json!(reports);
    let (s, v) = app.post(Role::Analyst, "/api/v1/incidents", body).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    // Analyst (RED): both; desk officer (AMBER): the GREEN one; viewer (no report reads): none.
    for (role, want) in [
        (Role::Analyst, json!(reports)),
        (Role::DeskOfficer, json!([reports[0]])),
        (Role::Viewer, json!([])),
    ] {
        let (_, one) = app.get(role, &format!("/api/v1/incidents/{id}")).await;
        assert_eq!(one["report_ids"], want, "{role:?}");
        let (_, list) = app.get(role, "/api/v1/incidents?limit=500").await;
        assert_eq!(list["items"][0]["report_ids"], want, "{role:?}");
    }
    // The page's count too.
    let (session, _) = browser_login(&app, "desk_officer", "password-123")
        .await
        .unwrap();
    let html = app
        .client
        .get(format!("{}/incidents/{id}", app.base))
        .header("cookie", &session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("<h2>Linked reports (1)</h2>"), "{html}");
}

/// The alerting routes for every role: admins configure desks and rules, analysts raise
/// alerts, desk officers of the alert's desk act on it, everyone reads within clearance.
/// Seeds a desk (its member: the desk officer), a rule and two TLP:GREEN alerts.
/// Evidence files: read by those who read reports; originals released to nobody without the
/// `evidence_original` grant. (Uploads, multipart, are tabled in `tests/evidence_files.rs`.)
async fn evidence_rows(
    app: &TestApp,
    report: &str,
) -> Vec<(Method, String, Option<Value>, [u16; 6])> {
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(tocsin_media::sample::pdf_with_metadata()),
    );
    let resp = app
        .client
        .post(format!("{}/api/v1/reports/{report}/files", app.base))
        .bearer_auth(&app.tokens[&Role::Analyst])
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let v: Value = resp.json().await.unwrap();
    let file = v["items"][0]["id"].as_str().unwrap().to_string();
    vec![
        (
            Method::GET,
            format!("/api/v1/reports/{report}/files"),
            None,
            [200, 200, 200, 200, 403, 401],
        ),
        (
            Method::GET,
            format!("/api/v1/files/{file}"),
            None,
            [200, 200, 200, 200, 403, 401],
        ),
        (
            Method::GET,
            format!("/api/v1/files/{file}/working"),
            None,
            [200, 200, 200, 200, 403, 401],
        ),
        (
            Method::POST,
            format!("/api/v1/files/{file}/original"),
            Some(json!({"reason": "court"})),
            [403, 403, 403, 403, 403, 401],
        ),
    ]
}

async fn alerting_rows(app: &TestApp) -> Vec<(Method, String, Option<Value>, [u16; 6])> {
    let (s, desk) = app
        .post(
            Role::Admin,
            "/api/v1/desks",
            json!({"name": "Sahel desk", "department": "defence", "members": ["desk_officer"],
                   "countries": ["MLI"], "escalation": [
                       {"after": "15m", "notify": {"user": "desk_officer"}},
                       {"after": "1h", "notify": {"user": "desk_officer"}}]}),
        )
        .await;
    assert_eq!(s, 201, "{desk}");
    let desk = desk["id"].as_str().unwrap().to_string();
    let (s, rule) = app
        .post(
            Role::Admin,
            "/api/v1/alert-rules",
            json!({"name": "Mali attacks", "severity": "high", "ack_within": "30m", "tlp": "TLP:GREEN",
                   "kind": "incidents", "country": "MLI", "window": "7d", "min_incidents": 3}),
        )
        .await;
    assert_eq!(s, 201, "{rule}");
    let rule = rule["id"].as_str().unwrap().to_string();
    let alert_body = json!({"title": "Militia massing", "severity": "low", "tlp": "TLP:GREEN", "country": "MLI"});
    let mut alerts = Vec::new();
    for _ in 0..2 {
        let (s, a) = app
            .post(Role::Analyst, "/api/v1/alerts", alert_body.clone())
            .await;
        assert_eq!(s, 201, "{a}");
        alerts.push(a["id"].as_str().unwrap().to_string());
    }
    let (a, b) = (&alerts[0], &alerts[1]);
    let all = [200, 200, 200, 200, 200, 401];
    let admin = |ok: u16| [ok, 403, 403, 403, 403, 401];
    let officer = [403, 403, 200, 403, 403, 401];
    vec![
        (Method::GET, "/api/v1/desks".into(), None, all),
        (
            Method::POST,
            "/api/v1/desks".into(),
            Some(
                json!({"name": "Horn desk", "department": "defence", "members": ["desk_officer"],
                        "escalation": [{"after": "15m", "notify": {"user": "desk_officer"}}]}),
            ),
            admin(201),
        ),
        (Method::GET, format!("/api/v1/desks/{desk}"), None, all),
        (
            Method::PATCH,
            format!("/api/v1/desks/{desk}"),
            Some(json!({"repeat": 1})),
            admin(200),
        ),
        (Method::GET, "/api/v1/alert-rules".into(), None, all),
        (
            Method::POST,
            "/api/v1/alert-rules".into(),
            Some(
                json!({"name": "Burkina attacks", "severity": "high", "ack_within": "30m",
                        "desk": desk, "kind": "signal", "min_severity": "high"}),
            ),
            admin(201),
        ),
        (
            Method::GET,
            format!("/api/v1/alert-rules/{rule}"),
            None,
            all,
        ),
        (
            Method::PATCH,
            format!("/api/v1/alert-rules/{rule}"),
            Some(json!({"enabled": false})),
            admin(200),
        ),
        (Method::GET, "/api/v1/alerts".into(), None, all),
        (
            Method::POST,
            "/api/v1/alerts".into(),
            Some(alert_body),
            [403, 201, 403, 403, 403, 401],
        ),
        (Method::GET, format!("/api/v1/alerts/{a}"), None, all),
        (
            Method::POST,
            format!("/api/v1/alerts/{a}/acknowledge"),
            None,
            officer,
        ),
        (
            Method::POST,
            format!("/api/v1/alerts/{a}/decide"),
            None,
            officer,
        ),
        (
            Method::POST,
            format!("/api/v1/alerts/{a}/close"),
            Some(json!({"reason": "acted"})),
            officer,
        ),
        (
            Method::POST,
            format!("/api/v1/alerts/{b}/escalate"),
            None,
            officer,
        ),
        (Method::GET, format!("/api/v1/alerts/{b}/cap"), None, all),
        (Method::GET, "/api/v1/metrics/flow".into(), None, all),
        (
            Method::GET,
            "/cap/alerts.atom".into(),
            None,
            [200, 200, 200, 200, 200, 200],
        ),
    ]
}

#[tokio::test]
async fn alerting_api_names_the_field_and_shows_the_timeline() {
    let app = TestApp::start().await;
    // A policy step that reaches nobody is refused naming it.
    let (s, e) = app
        .post(
            Role::Admin,
            "/api/v1/desks",
            json!({"name": "Sahel desk", "department": "defence", "members": ["desk_officer"],
                   "countries": ["MLI"],
                   "escalation": [{"after": "15m", "notify": {"user": "nobody"}}]}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["field"].as_str()),
        (422, Some("escalation[0].notify")),
        "{e}"
    );
    assert!(
        e["error"].as_str().unwrap().contains("reaches nobody"),
        "{e}"
    );
    for (body, field) in [
        (
            json!({"name": "X", "department": "defence", "escalation": [], "colour": 1}),
            "colour",
        ),
        (
            json!({"name": "X", "department": "culture",
                "escalation": [{"after": "15m", "notify": {"user": "desk_officer"}}]}),
            "department",
        ),
        (
            json!({"name": "X", "department": "defence",
                "escalation": [{"after": "soon", "notify": {"user": "desk_officer"}}]}),
            "escalation[0].after",
        ),
    ] {
        let (s, e) = app.post(Role::Admin, "/api/v1/desks", body).await;
        assert!(s.is_client_error(), "{s} {e}");
        assert_eq!(e["field"].as_str(), Some(field), "{e}");
    }
    let (s, desk) = app
        .post(
            Role::Admin,
            "/api/v1/desks",
            json!({"name": "Sahel desk", "department": "defence", "members": ["desk_officer"],
                   "countries": ["MLI"],
                   "escalation": [{"after": "15m", "notify": {"user": "desk_officer"}}]}),
        )
        .await;
    assert_eq!(s, 201, "{desk}");
    // A rule no desk answers for names its country.
    let (s, e) = app
        .post(
            Role::Admin,
            "/api/v1/alert-rules",
            json!({"name": "Congo", "severity": "high", "ack_within": "30m",
                   "kind": "incidents", "country": "COD", "window": "7d", "min_incidents": 3}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["field"].as_str()),
        (422, Some("country")),
        "{e}"
    );
    for (q, field) in [
        ("status=bogus", "status"),
        ("severity=extreme", "severity"),
        ("desk=nope", "desk"),
        ("limit=0", "limit"),
        ("colour=red", "colour"),
    ] {
        let (s, e) = app.get(Role::Analyst, &format!("/api/v1/alerts?{q}")).await;
        assert_eq!(
            (s.as_u16(), e["field"].as_str()),
            (400, Some(field)),
            "{q}: {e}"
        );
    }
    let (s, e) = app
        .post(
            Role::Analyst,
            "/api/v1/alerts",
            json!({"title": " ", "severity": "high", "country": "MLI"}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["field"].as_str()),
        (422, Some("title")),
        "{e}"
    );
    let (s, a) = app
        .post(
            Role::Analyst,
            "/api/v1/alerts",
            json!({"title": "Militia massing", "severity": "critical", "country": "MLI"}),
        )
        .await;
    assert_eq!(s, 201, "{a}");
    assert_eq!(a["desk_id"], desk["id"]);
    let id = a["id"].as_str().unwrap();
    let (s, e) = app
        .post(
            Role::DeskOfficer,
            &format!("/api/v1/alerts/{id}/close"),
            json!({"reason": "bored"}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["field"].as_str()),
        (400, Some("reason")),
        "{e}"
    );
    let (s, _) = app
        .post(
            Role::DeskOfficer,
            &format!("/api/v1/alerts/{id}/acknowledge"),
            json!({}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, e) = app
        .post(
            Role::DeskOfficer,
            &format!("/api/v1/alerts/{id}/acknowledge"),
            json!({}),
        )
        .await;
    assert_eq!(s, 409, "{e}");
    let (_, view) = app.get(Role::Viewer, &format!("/api/v1/alerts/{id}")).await;
    assert_eq!(
        view["error"], "not found",
        "an AMBER alert is hidden from a GREEN viewer"
    );
    let (s, view) = app
        .get(Role::DeskOfficer, &format!("/api/v1/alerts/{id}"))
        .await;
    assert_eq!(s, 200);
    let events: Vec<&str> = view["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["opened", "acknowledged"]);
    assert_eq!(view["status"], "acknowledged");
    let (_, list) = app
        .get(
            Role::DeskOfficer,
            "/api/v1/alerts?status=acknowledged&severity=critical",
        )
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    let (_, doc) = app.get(Role::Viewer, "/api/v1/openapi.json").await;
    for path in [
        "/api/v1/desks",
        "/api/v1/alert-rules/{id}",
        "/api/v1/alerts/{id}/close",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from the OpenAPI document"
        );
    }
}

/// The triage routes for every role: only analysts triage; every reader of reports reads a
/// report's history. No SMS gateway is configured here, so a follow-up is refused (409) after
/// the permission check.
async fn triage_rows(app: &TestApp) -> Vec<(Method, String, Option<Value>, [u16; 6])> {
    let mut ids = Vec::new();
    for (text, source) in [("a", None), ("b", None), ("c", None), ("d", Some("M-0001"))] {
        let (s, r) = app
            .post(
                Role::Analyst,
                "/api/v1/reports",
                json!({"text": text, "tlp": "TLP:GREEN", "source": source}),
            )
            .await;
        assert_eq!(s, 201, "{r}");
        ids.push(r["id"].as_str().unwrap().to_string());
    }
    let triager = |ok: u16| [403, ok, 403, 403, 403, 401];
    let (a, b, c, d) = (&ids[0], &ids[1], &ids[2], &ids[3]);
    vec![
        (Method::GET, "/api/v1/triage".into(), None, triager(200)),
        (
            Method::POST,
            format!("/api/v1/reports/{a}/reject"),
            Some(json!({"reason": "noise"})),
            triager(201),
        ),
        (
            Method::POST,
            format!("/api/v1/reports/{b}/duplicate"),
            Some(json!({"of": c})),
            triager(201),
        ),
        (
            Method::POST,
            format!("/api/v1/reports/{c}/assign"),
            Some(json!({"user": "analyst"})),
            triager(201),
        ),
        (
            Method::POST,
            format!("/api/v1/reports/{d}/follow-up"),
            Some(json!({"text": "where?"})),
            triager(409),
        ),
        (
            Method::GET,
            format!("/api/v1/reports/{d}/history"),
            None,
            [200, 200, 200, 200, 403, 401],
        ),
    ]
}

/// The rumour routes for every role: analysts and monitor coordinators record and change
/// rumours and mark sightings (a desk officer and a viewer may not; an admin reads only);
/// everyone reads within clearance. Seeds one TLP:GREEN rumour per writing role.
async fn rumour_rows(
    app: &TestApp,
    report: &str,
) -> Vec<(Method, String, Option<Value>, [u16; 6])> {
    let body = json!({"claim": "The militia will attack the market on Friday", "country": "KEN",
                      "priority": "high", "tlp": "TLP:GREEN"});
    let (s, r) = app
        .post(Role::Analyst, "/api/v1/rumours", body.clone())
        .await;
    assert_eq!(s, 201, "{r}");
    let id = r["id"].as_str().unwrap().to_string();
    let all = [200, 200, 200, 200, 200, 401];
    let writers = |ok: u16| [403, ok, 403, ok, 403, 401];
    let sighting = json!({"report_id": report, "how": "radio", "where": "market"});
    vec![
        (Method::GET, "/api/v1/rumours".into(), None, all),
        (
            Method::GET,
            "/api/v1/rumours?overdue=true&status=new&priority=high&country=KEN".into(),
            None,
            all,
        ),
        (
            Method::POST,
            "/api/v1/rumours".into(),
            Some(body),
            writers(201),
        ),
        (Method::GET, format!("/api/v1/rumours/{id}"), None, all),
        (
            Method::PATCH,
            format!("/api/v1/rumours/{id}"),
            Some(json!({"response": "The market is open and guarded."})),
            writers(200),
        ),
        // The second writer meets the first one's sighting: 409 (the report is one already).
        (
            Method::POST,
            format!("/api/v1/rumours/{id}/sightings"),
            Some(sighting),
            [403, 201, 403, 409, 403, 401],
        ),
    ]
}
