//! Report matching over real HTTP on a real SQLite file: `GET /api/v1/reports/{id}/matches`
//! and the page `/reports/{id}/matches` show the incidents and reports a report may be about,
//! scored and explained, best first; never a record above the viewer's clearance; a report of
//! the same source is never suggested and is shown only to a reader cleared for that source.

mod common;

use chrono::{Duration, TimeZone, Utc};
use common::*;
use serde_json::Value;
use tocsin_domain::{
    Actor, Channel, ContactKey, Incident, IncidentInput, NewReport, NewSource, Reliability, Role,
    Tlp,
};
use tocsin_store::StoreExt;
use uuid::Uuid;

struct Scene {
    report: Uuid,
    independent: Uuid,
    same_source: Uuid,
    unrelated: Uuid,
    incident: Uuid,
    secret_incident: Uuid,
    secret_report: Uuid,
}

async fn scene(app: &TestApp) -> Scene {
    let actor = Actor::system("test");
    let strict = app
        .store
        .create_source(
            &actor,
            NewSource::new(
                "M-0002",
                "monitor",
                Reliability::C,
                Tlp::AmberStrict,
                None,
                &ContactKey::generate(),
            )
            .unwrap(),
        )
        .await
        .unwrap();
    let other = app.store.get_source_by_handle("M-0001").await.unwrap();
    let t0 = Utc.with_ymd_and_hms(2026, 3, 10, 6, 0, 0).unwrap();
    let report = |text: &str, src: Uuid, point: Option<(f64, f64)>, at, tlp| NewReport {
        id: tocsin_domain::random_id(),
        channel: Channel::Sms,
        provider_key: None,
        source_id: Some(src),
        text: text.into(),
        tlp,
        latitude: point.map(|p: (f64, f64)| p.0),
        longitude: point.map(|p| p.1),
        country: Some(tocsin_domain::Country::parse("COD").unwrap()),
        occurred_at: Some(at),
        received_at: at + Duration::hours(1),
        meta: Default::default(),
    };
    let mut ids = Vec::new();
    for r in [
        report(
            "CODECO militia attacked the market in Bunia this morning, 12 killed",
            strict.id,
            Some((1.5594, 30.2522)),
            t0,
            Tlp::Green,
        ),
        report(
            "Attaque de la milice CODECO au marché de Bounia ce matin, 12 morts",
            other.id,
            None,
            t0 + Duration::hours(2),
            Tlp::Green,
        ),
        report(
            "militia attack on Bunia market, 12 killed",
            strict.id,
            Some((1.56, 30.25)),
            t0 + Duration::hours(1),
            Tlp::Green,
        ),
        report(
            "prices at the market in Goma have doubled",
            other.id,
            Some((-1.68, 29.22)),
            t0,
            Tlp::Green,
        ),
        report(
            "CODECO militia attacked the market in Bunia, 12 killed",
            other.id,
            Some((1.5594, 30.2522)),
            t0,
            Tlp::Red,
        ),
    ] {
        ids.push(app.store.create_report(&actor, r).await.unwrap().id);
    }
    let incident = |tlp| {
        Incident::parse(IncidentInput {
            event_date: "2026-03-10".into(),
            event_type: "Violence against civilians".into(),
            sub_event_type: "Attack".into(),
            country: "COD".into(),
            location: Some("Bunia".into()),
            latitude: 1.57,
            longitude: 30.24,
            fatalities: 12,
            description: "CODECO militia attacked Bunia central market; 12 civilians killed".into(),
            tlp,
            ..Default::default()
        })
        .unwrap()
    };
    let inc = app
        .store
        .create_incident(&actor, incident(Tlp::Green))
        .await
        .unwrap();
    let secret = app
        .store
        .create_incident(&actor, incident(Tlp::Red))
        .await
        .unwrap();
    Scene {
        report: ids[0],
        independent: ids[1],
        same_source: ids[2],
        unrelated: ids[3],
        secret_report: ids[4],
        incident: inc.id,
        secret_incident: secret.id,
    }
}

fn find(body: &Value, id: Uuid) -> Option<&Value> {
    body["matches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == id.to_string())
}

#[tokio::test]
async fn matches_are_scored_explained_and_within_clearance() {
    let app = TestApp::start().await;
    let s = scene(&app).await;
    let path = format!("/api/v1/reports/{}/matches", s.report);

    let (st, body) = app.get(Role::Analyst, &path).await;
    assert_eq!(st, 200, "{body}");
    let inc = find(&body, s.incident).expect("the incident is a match");
    assert_eq!(inc["kind"], "incident");
    assert_eq!(inc["suggested"], true, "{inc}");
    let why = inc["explanation"].as_str().unwrap();
    assert!(
        why.contains(" km, ")
            && why.contains("on the incident's date")
            && why.contains("shared terms: "),
        "{why}"
    );
    let fr = find(&body, s.independent).expect("the French report is a match");
    assert_eq!(fr["suggested"], true, "{fr}");
    assert_eq!(fr["same_source"], false);
    for term in ["codeco", "market", "12"] {
        assert!(
            fr["shared_terms"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t == term),
            "{term}: {fr}"
        );
    }
    // The same source's second report: shown to a reader cleared for the source, never suggested.
    let twin = find(&body, s.same_source).expect("shown to the analyst");
    assert_eq!(twin["same_source"], true);
    assert_eq!(twin["suggested"], false);
    assert!(
        twin["explanation"]
            .as_str()
            .unwrap()
            .contains("same source"),
        "{twin}"
    );
    // Unrelated far away: not suggested (or not shown at all).
    assert!(find(&body, s.unrelated).is_none_or(|m| m["suggested"] == false));
    // Best first.
    let scores: Vec<f64> = body["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["score"].as_f64().unwrap())
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    // The analyst is cleared for TLP:RED.
    assert!(find(&body, s.secret_incident).is_some());
    assert!(find(&body, s.secret_report).is_some());

    // A desk officer (TLP:AMBER) sees neither the RED records nor the report of a source above
    // their clearance, and nothing in the answer names them.
    let (st, body) = app.get(Role::DeskOfficer, &path).await;
    assert_eq!(st, 200, "{body}");
    let text = body.to_string();
    for hidden in [s.secret_incident, s.secret_report, s.same_source] {
        assert!(
            !text.contains(&hidden.to_string()),
            "{hidden} leaked: {text}"
        );
    }
    assert!(find(&body, s.incident).is_some() && find(&body, s.independent).is_some());
    assert!(!text.contains("same source"), "{text}");

    // Refusals: a viewer may not read reports; a bad id names the field; a report above the
    // caller's clearance is as absent as an unknown one.
    let (st, _) = app.get(Role::Viewer, &path).await;
    assert_eq!(st, 403);
    let (st, b) = app
        .get(Role::Analyst, "/api/v1/reports/not-an-id/matches")
        .await;
    assert_eq!(st, 400);
    assert!(b["error"].as_str().unwrap().contains("id"), "{b}");
    let (st, _) = app
        .get(
            Role::DeskOfficer,
            &format!("/api/v1/reports/{}/matches", s.secret_report),
        )
        .await;
    assert_eq!(st, 404);
    let (st, _) = app
        .get(
            Role::Analyst,
            &format!("/api/v1/reports/{}/matches", Uuid::new_v4()),
        )
        .await;
    assert_eq!(st, 404);

    // In the OpenAPI document.
    let (_, doc) = app.get(Role::Analyst, "/api/v1/openapi.json").await;
    assert!(doc["paths"]["/api/v1/reports/{id}/matches"]["get"].is_object());
}

#[tokio::test]
async fn the_report_matches_page_shows_them() {
    let app = TestApp::start().await;
    let s = scene(&app).await;
    let (cookie, _) = browser_login(&app, "analyst", "password-123")
        .await
        .unwrap();
    let list = app
        .client
        .get(format!("{}/reports", app.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(list.contains(&format!("/reports/{}/matches", s.report)));
    let resp = app
        .client
        .get(format!("{}/reports/{}/matches", app.base, s.report))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    assert!(html.contains("Suggested matches"), "{html}");
    assert!(html.contains(&format!("/incidents/{}", s.incident)));
    assert!(html.contains("shared terms: "));
    assert!(html.contains("same source"));
}

/// An analyst cleared only to `clearance`; their API token.
async fn analyst_cleared(app: &TestApp, name: &str, clearance: Tlp) -> String {
    let actor = Actor::system("test");
    let mut u = tocsin_domain::NewUser::build(name, Role::Analyst, Some("password-123")).unwrap();
    u.clearance = clearance;
    let u = app.store.create_user(&actor, u).await.unwrap();
    let (t, secret) = tocsin_domain::ApiToken::generate(u.id, "test", None);
    app.store
        .write(&actor, tocsin_store::Op::CreateToken(t))
        .await
        .unwrap();
    secret
}

/// The queue item of report `id` in a triage page.
fn queue_item(page: &Value, id: Uuid) -> Option<&Value> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["report"]["id"] == id.to_string())
}

#[tokio::test]
async fn the_triage_queue_shows_each_report_with_its_suggested_matches() {
    let app = TestApp::start().await;
    let s = scene(&app).await;

    // The RED analyst: the report's best matches, suggested ones only, at most three, best
    // first, each explained; the RED incident among the candidates they may see.
    let (st, q) = app.get(Role::Analyst, "/api/v1/triage").await;
    assert_eq!(st, 200, "{q}");
    let item = queue_item(&q, s.report).expect("the report waits for triage");
    let matches = item["matches"].as_array().unwrap();
    assert!(!matches.is_empty() && matches.len() <= 3, "{item}");
    let scores: Vec<f64> = matches
        .iter()
        .map(|m| m["score"].as_f64().unwrap())
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    for m in matches {
        assert!(m["suggested"] == true || m["same_source"] == true, "{m}");
        assert!(m["score"].as_f64().unwrap() >= 0.61, "{m}");
        assert!(m["explanation"].as_str().unwrap().contains(" km, "), "{m}");
    }
    let ids: Vec<&str> = matches.iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert!(
        ids.contains(&s.incident.to_string().as_str())
            || ids.contains(&s.secret_incident.to_string().as_str()),
        "an incident about the attack is suggested: {item}"
    );
    // The unrelated report far away is never suggested for it.
    assert!(!ids.contains(&s.unrelated.to_string().as_str()), "{item}");

    // An analyst cleared to AMBER: no RED record, no match from the report's own source (an
    // AMBER+STRICT source they may not see), and nothing saying "same source".
    let amber = analyst_cleared(&app, "amber_analyst", Tlp::Amber).await;
    let resp = app
        .client
        .get(format!("{}/api/v1/triage", app.base))
        .bearer_auth(&amber)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let q: Value = resp.json().await.unwrap();
    let item = queue_item(&q, s.report).expect("the report waits for triage");
    let shown: Vec<&str> = item["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert!(shown.contains(&s.incident.to_string().as_str()), "{item}");
    assert!(
        !shown.contains(&s.same_source.to_string().as_str()),
        "{item}"
    );
    let text = q.to_string();
    for hidden in [s.secret_incident, s.secret_report] {
        assert!(
            !text.contains(&hidden.to_string()),
            "{hidden} leaked: {text}"
        );
    }
    for it in q["items"].as_array().unwrap() {
        for m in it["matches"].as_array().unwrap() {
            assert_ne!(m["same_source"], true, "{m}");
        }
    }
    assert!(!text.contains("same source"), "{text}");

    // The page shows them with a link and the explanation.
    let (cookie, _) = browser_login(&app, "analyst", "password-123")
        .await
        .unwrap();
    let html = app
        .client
        .get(format!("{}/triage", app.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Suggested matches"), "{html}");
    assert!(
        html.contains(&format!("href=\"/incidents/{}\"", s.incident))
            || html.contains(&format!("href=\"/incidents/{}\"", s.secret_incident)),
        "{html}"
    );
    assert!(html.contains("shared terms: "), "{html}");

    // In the OpenAPI document: the queue item carries its matches.
    let (_, doc) = app.get(Role::Analyst, "/api/v1/openapi.json").await;
    let item = &doc["components"]["schemas"]["QueueItem"];
    assert!(item.to_string().contains("matches"), "{item}");
}
