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
