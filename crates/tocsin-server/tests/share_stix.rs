//! STIX 2.1 over HTTP (issue 20, part 4): what a bundle carries and never carries, that every
//! bundle passes the OASIS validator (`stix2-validator`) and round-trips through the `stix2`
//! package, receiving bundles shaped like MISP's and OpenCTI's exports (TLP 1.0 and 2.0
//! markings, refusals with reasons, duplicates, later versions, retractions, malformed
//! bundles), received incidents read-only with their origin on their page, and the `/share`
//! page.
//!
//! The Python checks need `pip install stix2-validator stix2`; without them the tests say so
//! and skip those checks, unless `TOCSIN_REQUIRE_STIX=1` (as `.ci/run` sets) makes that a
//! failure.

mod common;

use common::{browser_login, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tocsin_domain::{
    Actor, Channel, ContactKey, Incident, IncidentInput, NewReport, NewSource, Reliability, Role,
    SourceContact, Tlp, VerificationStatus,
};
use tocsin_store::StoreExt;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/stix");

const CHECK: &str = r#"
import json, sys
from stix2validator import validate_string, ValidationOptions, print_results
import stix2
text = open(sys.argv[1]).read()
res = validate_string(text, ValidationOptions(version="2.1"))
if not res.is_valid:
    print_results(res)
    sys.exit(1)
b = stix2.parse(text, allow_custom=True)
again = json.loads(b.serialize())
if again != json.loads(text):
    print("ROUND TRIP DIFFERS")
    sys.exit(2)
print("OK", len(again["objects"]))
"#;

/// Whether the Python packages are there (a failure when `TOCSIN_REQUIRE_STIX=1`).
fn python_stix() -> bool {
    let ok = std::process::Command::new("python3")
        .args(["-c", "import stix2, stix2validator"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        if std::env::var("TOCSIN_REQUIRE_STIX").is_ok_and(|v| v == "1") {
            panic!("TOCSIN_REQUIRE_STIX=1 but python3 cannot import stix2 and stix2validator");
        }
        eprintln!("skipping the STIX validator checks: pip install stix2-validator stix2");
    }
    ok
}

/// The bundle passes `stix2-validator` and parses and re-serialises through `stix2` unchanged.
fn check_bundle(bytes: &[u8]) {
    if !python_stix() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (file, script) = (dir.path().join("b.json"), dir.path().join("check.py"));
    std::fs::write(&file, bytes).unwrap();
    std::fs::write(&script, CHECK).unwrap();
    let out = std::process::Command::new("python3")
        .arg(&script)
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the bundle fails the STIX checks:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn bundle(app: &TestApp, token: &str, query: &str) -> (StatusCode, Vec<u8>) {
    let resp = app
        .client
        .get(format!("{}/api/v1/share/stix{query}", app.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.bytes().await.unwrap().to_vec())
}

async fn post_bundle(app: &TestApp, from: &str, body: Vec<u8>) -> (StatusCode, Value) {
    app.raw_post(
        &format!("/api/v1/share/stix?from={}", from.replace(' ', "%20")),
        "application/stix+json",
        body,
    )
    .await
}

fn objects<'a>(b: &'a Value, kind: &str) -> Vec<&'a Value> {
    b["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["type"] == kind)
        .collect()
}

const SECRET_HANDLE: &str = "M-SECRET-HANDLE-7731";
const SECRET_PHONE: &str = "+23670099123";
const SECRET_WORDS: &str = "WARNER-WORDS-the-man-in-the-blue-truck";

/// A verified incident (as the verification desk leaves it), linked to `reports`.
async fn verified(app: &TestApp, tlp: Tlp, text: &str, reports: Vec<uuid::Uuid>) -> Incident {
    let mut i = Incident::parse(IncidentInput {
        event_date: "2025-03-01".into(),
        event_type: "Violence against civilians".into(),
        sub_event_type: "Attack".into(),
        country: "CAF".into(),
        latitude: 5.76,
        longitude: 20.67,
        fatalities: 4,
        description: text.into(),
        tlp,
        location: Some("Bambari".into()),
        admin1: Some("Ouaka".into()),
        credibility: Some(2),
        ..Default::default()
    })
    .unwrap();
    i.verification_status = VerificationStatus::Verified;
    i.report_ids = reports;
    app.store
        .create_incident(&Actor::system("test"), i)
        .await
        .unwrap()
}

/// A warner (source with a handle and a phone) and their report, both to be kept in.
async fn warner_report(app: &TestApp) -> uuid::Uuid {
    let actor = Actor::system("test");
    let contact = SourceContact {
        phone: Some(SECRET_PHONE.into()),
        ..Default::default()
    };
    let s = NewSource::new(
        SECRET_HANDLE,
        "monitor",
        Reliability::B,
        Tlp::Green,
        Some(&contact),
        &ContactKey::generate(),
    )
    .unwrap();
    let s = app.store.create_source(&actor, s).await.unwrap();
    let r = NewReport {
        id: tocsin_domain::random_id(),
        channel: Channel::Sms,
        provider_key: None,
        source_id: Some(s.id),
        text: SECRET_WORDS.into(),
        tlp: Tlp::Green,
        latitude: None,
        longitude: None,
        country: None,
        occurred_at: None,
        received_at: tocsin_domain::time::now(),
        meta: Default::default(),
    };
    app.store.create_report(&actor, r).await.unwrap().id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bundle_is_valid_stix_and_carries_nothing_it_must_not() {
    let app = TestApp::start().await;
    let report = warner_report(&app).await;
    let green = verified(&app, Tlp::Green, "GREEN-SHARED shelling", vec![report]).await;
    verified(&app, Tlp::Amber, "AMBER-SHARED attack", vec![]).await;
    verified(&app, Tlp::Clear, "CLEAR-SHARED attack", vec![]).await;
    verified(&app, Tlp::AmberStrict, "STRICT-NEVER-IN-STIX", vec![report]).await;
    verified(&app, Tlp::Red, "RED-NEVER-LEAVES", vec![report]).await;
    app.incident(
        Tlp::Green,
        "CAF",
        "2025-03-02",
        5.7,
        20.6,
        ("Battles", "Armed clash"),
    )
    .await; // unverified: "test incident TLP:GREEN"
    let analyst = app.tokens[&Role::Analyst].clone();
    let (status, amber) = bundle(&app, &analyst, "?max_tlp=TLP:AMBER").await;
    assert_eq!(status, StatusCode::OK);
    let text = String::from_utf8(amber.clone()).unwrap();
    for shared in ["GREEN-SHARED", "AMBER-SHARED", "CLEAR-SHARED"] {
        assert!(text.contains(shared), "{shared} missing");
    }
    for never in [
        "STRICT-NEVER-IN-STIX",
        "RED-NEVER-LEAVES",
        "test incident",
        SECRET_HANDLE,
        SECRET_PHONE,
        "70099123",
        SECRET_WORDS,
        &report.to_string(),
        "M-0001",
    ] {
        assert!(!text.contains(never), "{never} crossed");
    }
    let b: Value = serde_json::from_slice(&amber).unwrap();
    assert_eq!(b["type"], "bundle");
    assert_eq!(objects(&b, "incident").len(), 3);
    assert_eq!(objects(&b, "location").len(), 3);
    assert_eq!(objects(&b, "relationship").len(), 3);
    assert_eq!(objects(&b, "identity")[0]["name"], "Tocsin");
    // Every object but the marking definitions carries a TLP 2.0 marking of the bundle.
    let markings: Vec<&str> = objects(&b, "marking-definition")
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert!(markings.contains(&"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"));
    assert!(!markings.contains(&"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"));
    assert!(!markings.contains(&"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"));
    for o in b["objects"].as_array().unwrap() {
        if o["type"] != "marking-definition" {
            let refs = o["object_marking_refs"].as_array().expect("marked");
            assert!(refs.iter().all(|r| markings.contains(&r.as_str().unwrap())));
        }
    }
    // The grade of the warner's source, never the source.
    let inc = objects(&b, "incident")
        .into_iter()
        .find(|i| i["description"] == "GREEN-SHARED shelling")
        .unwrap();
    let ext = &inc["extensions"]["extension-definition--51e9308c-2d8e-523f-ac06-f5806846f8d9"];
    assert_eq!(ext["admiralty_grade"], "B2");
    assert_eq!(ext["event_type"], "Violence against civilians");
    check_bundle(&amber);

    // Re-exported, the same ids: a receiver updates rather than duplicates.
    let (_, again) = bundle(&app, &analyst, "?max_tlp=TLP:AMBER").await;
    let again: Value = serde_json::from_slice(&again).unwrap();
    let ids = |b: &Value| {
        let mut v: Vec<String> = objects(b, "incident")
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    assert_eq!(ids(&b), ids(&again));
    assert_ne!(b["id"], again["id"]);

    // A lower ceiling; the default is TLP:CLEAR.
    let (_, g) = bundle(&app, &analyst, "?max_tlp=TLP:GREEN&country=CAF").await;
    let gt = String::from_utf8(g.clone()).unwrap();
    assert!(gt.contains("GREEN-SHARED") && !gt.contains("AMBER-SHARED"));
    check_bundle(&g);
    let (_, c) = bundle(&app, &analyst, "").await;
    let ct = String::from_utf8(c.clone()).unwrap();
    assert!(ct.contains("CLEAR-SHARED") && !ct.contains("GREEN-SHARED"));
    check_bundle(&c);
    // Asking for RED gives AMBER at most.
    let (_, r) = bundle(&app, &app.tokens[&Role::Admin], "?max_tlp=TLP:RED").await;
    let rt = String::from_utf8(r).unwrap();
    assert!(rt.contains("AMBER-SHARED") && !rt.contains("RED-NEVER") && !rt.contains("STRICT"));
    // A date window.
    let (_, none) = bundle(&app, &analyst, "?max_tlp=TLP:AMBER&from=2025-04-01").await;
    let none: Value = serde_json::from_slice(&none).unwrap();
    assert!(objects(&none, "incident").is_empty());
    // Roles that may not share, and bad queries.
    for role in [Role::Viewer, Role::DeskOfficer, Role::MonitorCoordinator] {
        let (s, _) = bundle(&app, &app.tokens[&role], "").await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{role:?}");
    }
    let (s, _) = bundle(&app, &analyst, "?max_tlp=TLP:PURPLE").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = bundle(&app, &analyst, "?bogus=1").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let _ = green;
    // In the OpenAPI document.
    let (_, doc) = app.get(Role::Analyst, "/api/v1/openapi.json").await;
    assert!(doc["paths"]["/api/v1/share/stix"]["get"].is_object());
    assert!(doc["paths"]["/api/v1/share/stix"]["post"].is_object());
    assert!(doc["components"]["schemas"]["ReceiveSummary"].is_object());
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{name}")).unwrap()
}

fn refused_ids(v: &Value) -> Vec<String> {
    let mut ids: Vec<String> = v["refused"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

async fn incidents(app: &TestApp) -> Vec<Value> {
    let (s, v) = app.get(Role::Analyst, "/api/v1/incidents?limit=100").await;
    assert_eq!(s, StatusCode::OK);
    v["items"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bundles_shaped_like_misp_and_opencti_become_read_only_incidents() {
    let app = TestApp::start().await;
    // (The fixtures are shaped as those tools write them, not necessarily valid: OpenCTI
    // writes `severity` on incidents, a property STIX 2.1 reserves.)
    // MISP: events as reports with TLP 1.0 markings.
    let (s, v) = post_bundle(&app, "Field Monitoring NGO", fixture("misp-event.json")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["created"], 2, "{v}");
    assert_eq!(v["ignored"], 2, "{v}"); // the identity and the indicator
    assert_eq!(
        refused_ids(&v),
        vec!["report--4e5f6a7b-8c9d-4e0f-a1b2-c3d4e5f6a7b8"]
    );
    assert!(v["refused"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("no TLP marking"));
    let list = incidents(&app).await;
    let bambari = list
        .iter()
        .find(|i| i["description"].as_str().unwrap().contains("burned houses"))
        .expect("the MISP event");
    assert_eq!(bambari["tlp"], "TLP:GREEN");
    assert_eq!(bambari["country"], "CAF");
    assert_eq!(bambari["verification_status"], "unverified");
    assert_eq!(bambari["event_date"], "2025-03-03");
    let ippy = list
        .iter()
        .find(|i| i["description"].as_str().unwrap().contains("Ippy"))
        .expect("the event placed by the gazetteer");
    assert_eq!(ippy["tlp"], "TLP:AMBER");
    assert_eq!(ippy["geo_precision"], 2);
    // The same bundle again: nothing new.
    let (_, again) = post_bundle(&app, "Field Monitoring NGO", fixture("misp-event.json")).await;
    assert_eq!(
        (again["created"].clone(), again["unchanged"].clone()),
        (json!(0), json!(2))
    );
    assert_eq!(incidents(&app).await.len(), 2);

    // OpenCTI: incidents with TLP 2.0 markings, a PAP marking beside one, an unknown one.
    let (s, v) = post_bundle(
        &app,
        "Regional Analysis Unit",
        fixture("opencti-incidents.json"),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["created"], 2, "{v}");
    assert_eq!(
        refused_ids(&v),
        vec!["incident--11223344-5566-4778-8899-aabbccddeeff"]
    );
    assert!(v["refused"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("unknown marking marking-definition--99999999"));
    let list = incidents(&app).await;
    let camp = list
        .iter()
        .find(|i| i["description"].as_str().unwrap().contains("IDP camp"))
        .expect("the OpenCTI incident");
    assert_eq!(camp["tlp"], "TLP:AMBER");
    assert_eq!(camp["event_date"], "2025-04-01");
    assert_eq!(camp["location"], "Bria");
    let id = camp["id"].as_str().unwrap().to_string();

    // Read-only, its origin on its page.
    let (s, e) = app
        .call(
            Some(Role::Analyst),
            Method::PATCH,
            &format!("/api/v1/incidents/{id}"),
            Some(json!({"fatalities": 9})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{e}");
    assert!(e.to_string().contains("read-only"), "{e}");
    let (s, _) = app
        .post(
            Role::Analyst,
            &format!("/api/v1/incidents/{id}/verification"),
            json!({"state": "corroborated", "reason": "seen"}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (cookie, _) = browser_login(&app, "analyst", "password-123")
        .await
        .unwrap();
    let page = |path: String| {
        let (app, cookie) = (&app, cookie.clone());
        async move {
            let r = app
                .client
                .get(format!("{}{path}", app.base))
                .header("cookie", cookie)
                .send()
                .await
                .unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let (s, html) = page(format!("/incidents/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("Received from Regional Analysis Unit"),
        "{html}"
    );
    assert!(html.contains("incident--8c54ef5b-1b26-4a49-8d1d-43f4a2b1a9e2"));
    assert!(!html.contains(&format!("/incidents/{id}/edit")));

    // A later version supersedes; an older or equal one changes nothing.
    let mut b: Value = serde_json::from_slice(&fixture("opencti-incidents.json")).unwrap();
    let camp_obj = b["objects"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|o| o["id"] == "incident--8c54ef5b-1b26-4a49-8d1d-43f4a2b1a9e2")
        .unwrap();
    camp_obj["modified"] = json!("2025-04-05T10:00:00.000Z");
    camp_obj["description"] = json!("Armed group attacked the displacement site; 7 killed.");
    camp_obj["object_marking_refs"] =
        json!(["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]);
    let (s, v) = post_bundle(
        &app,
        "Regional Analysis Unit",
        serde_json::to_vec(&b).unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (v["updated"].clone(), v["created"].clone()),
        (json!(1), json!(0)),
        "{v}"
    );
    let (_, now) = app
        .get(Role::Analyst, &format!("/api/v1/incidents/{id}"))
        .await;
    assert!(now["description"].as_str().unwrap().contains("7 killed"));
    assert_eq!(now["tlp"], "TLP:GREEN");
    assert_eq!(now["version"], 2);

    // Revoked: retracted, gone from lists, the page says so.
    let camp_obj = b["objects"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|o| o["id"] == "incident--8c54ef5b-1b26-4a49-8d1d-43f4a2b1a9e2")
        .unwrap();
    camp_obj["revoked"] = json!(true);
    camp_obj["modified"] = json!("2025-04-06T10:00:00.000Z");
    let (_, v) = post_bundle(
        &app,
        "Regional Analysis Unit",
        serde_json::to_vec(&b).unwrap(),
    )
    .await;
    assert_eq!(v["retracted"], 1, "{v}");
    assert!(incidents(&app)
        .await
        .iter()
        .all(|i| i["id"].as_str() != Some(id.as_str())));
    let (_, html) = page(format!("/incidents/{id}")).await;
    assert!(
        html.contains("Retracted by Regional Analysis Unit"),
        "{html}"
    );
    let (_, v) = post_bundle(
        &app,
        "Regional Analysis Unit",
        serde_json::to_vec(&b).unwrap(),
    )
    .await;
    assert_eq!(v["retracted"], 0);

    // Malformed bundles store nothing, with a clear 4xx.
    let before = incidents(&app).await.len();
    for (body, want) in [
        (b"not json".to_vec(), StatusCode::BAD_REQUEST),
        (
            br#"{"type":"report","id":"report--a6ef17d6-91cb-4a05-b10b-2f045daf874c","objects":[]}"#
                .to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            br#"{"type":"bundle","objects":[{"type":"incident","id":"not-an-id"}]}"#.to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            br#"{"type":"bundle","objects":[{"type":"incident","id":"incident--8c54ef5b-1b26-4a49-8d1d-43f4a2b1a9e2","latitude":"north"}]}"#
                .to_vec(),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let (s, v) = post_bundle(&app, "Regional Analysis Unit", body).await;
        assert_eq!(s, want, "{v}");
    }
    // Too large: 413 before the body is read. The server may answer and close while the
    // client is still writing, which the client sees as a broken pipe; either way nothing is
    // stored (checked below).
    let too_large = app
        .client
        .post(format!(
            "{}/api/v1/share/stix?from=Regional%20Analysis%20Unit",
            app.base
        ))
        .bearer_auth(&app.tokens[&Role::Analyst])
        .header("content-type", "application/stix+json")
        .body(vec![b' '; 33 * 1024 * 1024])
        .send()
        .await;
    match too_large {
        Ok(r) => assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE),
        Err(e) => assert!(e.is_request() || e.is_body(), "{e:?}"),
    }
    // Every object refused: 422 listing them.
    let only_bad = json!({"type": "bundle", "id": "bundle--5b1e7c2a-9d4f-4b3e-8a6c-2f1d0e9c8b7b",
        "objects": [{"type": "incident", "spec_version": "2.1",
            "id": "incident--22334455-6677-4889-9aab-bccddeeff001",
            "created": "2025-04-04T12:00:00.000Z", "modified": "2025-04-04T12:00:00.000Z",
            "name": "no label"}]});
    let (s, v) = post_bundle(&app, "X", serde_json::to_vec(&only_bad).unwrap()).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(refused_ids(&v).len(), 1);
    let (s, _) = app
        .raw_post(
            "/api/v1/share/stix",
            "application/json",
            fixture("misp-event.json"),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "no origin named");
    let (s, _) = app
        .call(
            Some(Role::Admin),
            Method::POST,
            "/api/v1/share/stix?from=X",
            Some(only_bad),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "admins do not import");
    assert_eq!(incidents(&app).await.len(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_tocsin_reads_anothers_bundle_and_updates_it() {
    let a = TestApp::start_with(|s| s.with_organisation_name("Early Warning NGO")).await;
    let b = TestApp::start().await;
    let i = verified(&a, Tlp::Green, "Shared from A", vec![]).await;
    verified(&a, Tlp::Amber, "Amber from A", vec![]).await;
    let analyst = a.tokens[&Role::Analyst].clone();
    let (_, first) = bundle(&a, &analyst, "?max_tlp=TLP:AMBER").await;
    let fb: Value = serde_json::from_slice(&first).unwrap();
    assert_eq!(objects(&fb, "identity")[0]["name"], "Early Warning NGO");
    let (s, v) = post_bundle(&b, "Early Warning NGO", first).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["created"], 2, "{v}");
    assert_eq!(v["ignored"], 2, "{v}"); // identity, extension definition
    let got = incidents(&b).await;
    let shared = got
        .iter()
        .find(|x| x["description"] == "Shared from A")
        .unwrap();
    // Tocsin's own fields cross whole.
    assert_eq!(shared["event_type"], "Violence against civilians");
    assert_eq!(shared["sub_event_type"], "Attack");
    assert_eq!(shared["fatalities"], 4);
    assert_eq!(shared["credibility"], 2);
    assert_eq!(shared["admin1"], "Ouaka");
    assert_eq!(shared["tlp"], "TLP:GREEN");
    // A change at A, exported again: an update at B, not a duplicate.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let (s, _) = a
        .call(
            Some(Role::Analyst),
            Method::PATCH,
            &format!("/api/v1/incidents/{}", i.id),
            Some(json!({"fatalities": 6})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, second) = bundle(&a, &analyst, "?max_tlp=TLP:AMBER").await;
    check_bundle(&second);
    let (_, v) = post_bundle(&b, "Early Warning NGO", second).await;
    assert_eq!(
        (v["updated"].clone(), v["unchanged"].clone()),
        (json!(1), json!(1)),
        "{v}"
    );
    let got = incidents(&b).await;
    assert_eq!(got.len(), 2);
    assert_eq!(
        got.iter()
            .find(|x| x["description"] == "Shared from A")
            .unwrap()["fatalities"],
        6
    );
    // B never sends on what it received (it is not verified there, and not its own).
    let (_, out) = bundle(&b, &b.tokens[&Role::Analyst], "?max_tlp=TLP:AMBER").await;
    let out: Value = serde_json::from_slice(&out).unwrap();
    assert!(objects(&out, "incident").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_share_page_downloads_and_receives() {
    let app = TestApp::start().await;
    verified(&app, Tlp::Green, "PAGE-SHARED", vec![]).await;
    let (cookie, _) = browser_login(&app, "analyst", "password-123")
        .await
        .unwrap();
    let r = app
        .client
        .get(format!("{}/share", app.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"stix-export\"") && html.contains("id=\"stix-import\""));
    assert!(html.contains("href=\"/share\""), "linked from the menu");
    assert!(html.contains("<option>TLP:AMBER</option>") && !html.contains("<option>TLP:RED"));
    let csrf = common::csrf_in(&html);
    // The download button's request, with the session cookie.
    let r = app
        .client
        .get(format!(
            "{}/api/v1/share/stix?max_tlp=TLP%3AGREEN&country=&from=&to=",
            app.base
        ))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = r.bytes().await.unwrap();
    assert!(String::from_utf8_lossy(&bytes).contains("PAGE-SHARED"));
    check_bundle(&bytes);
    // Upload a bundle: the result and the refusals shown.
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf.clone())
        .text("from", "Field Monitoring NGO")
        .part(
            "file",
            reqwest::multipart::Part::bytes(fixture("misp-event.json")).file_name("b.json"),
        );
    let r = app
        .client
        .post(format!("{}/share", app.base))
        .header("cookie", &cookie)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"stix-result\""), "{html}");
    assert!(html.contains("New records: <strong>2</strong>"), "{html}");
    assert!(html.contains("report--4e5f6a7b-8c9d-4e0f-a1b2-c3d4e5f6a7b8"));
    // A malformed file: said, nothing stored.
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf)
        .text("from", "Field Monitoring NGO")
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"{".to_vec()).file_name("b.json"),
        );
    let r = app
        .client
        .post(format!("{}/share", app.base))
        .header("cookie", &cookie)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("Nothing was stored"));
    // Roles that may not share: no link, and the page refuses.
    let (cookie, _) = browser_login(&app, "viewer", "password-123").await.unwrap();
    let r = app
        .client
        .get(format!("{}/share", app.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(!r.text().await.unwrap().contains("href=\"/share\""));
}

/// The STIX benchmark (`scripts/bench-stix.sh`, or `cargo test --workspace --test share_stix
/// -- --ignored --nocapture stix_benchmark`; `TOCSIN_BENCH_STIX_ROWS`, default 100,000):
/// that many verified incidents exported to one bundle (streamed from SQLite through the
/// application layer's projection and grading), the bundle read, and received into a second
/// SQLite store; records per second for each, on this machine.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: run with --ignored --nocapture"]
async fn stix_benchmark() {
    use std::time::Instant;
    let rows: usize = std::env::var("TOCSIN_BENCH_STIX_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let a = TestApp::start().await;
    let actor = Actor::system("bench");
    let types = tocsin_domain::incident::ACLED_TYPOLOGY;
    let mut batch = Vec::with_capacity(10_000);
    for n in 0..rows {
        let (et, subs) = types[n % types.len()];
        let mut i = Incident::parse(IncidentInput {
            event_date: format!("20{:02}-{:02}-{:02}", 15 + n % 10, 1 + n % 12, 1 + n % 28),
            event_type: et.into(),
            sub_event_type: subs[n % subs.len()].into(),
            country: ["CAF", "COD", "SSD", "MLI", "NGA"][n % 5].into(),
            latitude: -5.0 + (n % 1000) as f64 * 0.01,
            longitude: 15.0 + (n % 997) as f64 * 0.01,
            fatalities: (n % 13) as i64,
            description: format!("Benchmark incident {n}: armed men attacked the village"),
            tlp: [Tlp::Clear, Tlp::Green, Tlp::Amber][n % 3],
            location: Some(format!("Place {}", n % 500)),
            admin1: Some(format!("Province {}", n % 20)),
            actor1: Some("Armed group".into()),
            credibility: Some(2),
            ..Default::default()
        })
        .unwrap();
        i.verification_status = VerificationStatus::Verified;
        i.dataset = Some("bench".into());
        i.external_id = Some(n.to_string());
        batch.push(i);
        if batch.len() == 10_000 || n + 1 == rows {
            a.store
                .import_incidents(&actor, "bench", std::mem::take(&mut batch))
                .await
                .unwrap();
        }
    }
    let started = Instant::now();
    let (s, bytes) = bundle(&a, &a.tokens[&Role::Analyst], "?max_tlp=TLP:AMBER").await;
    let export = started.elapsed().as_secs_f64();
    assert_eq!(s, StatusCode::OK);
    let size = bytes.len();
    let started = Instant::now();
    let read = tocsin_server::share::read_stix(&bytes, usize::MAX).unwrap();
    let parse = started.elapsed().as_secs_f64();
    assert_eq!(read.incidents.len(), rows);
    let b = TestApp::start().await;
    let started = Instant::now();
    let analyst = b.store.get_user_by_name("analyst").await.unwrap();
    let frameworks = tocsin_framework::Frameworks::shipped();
    let app = tocsin_app::App::new(&b.store, &frameworks);
    let summary = app
        .receive_stix((&analyst).into(), "Bench NGO", read)
        .await
        .unwrap();
    let receive = started.elapsed().as_secs_f64();
    assert_eq!(summary.created as usize, rows);
    let r = |secs: f64| rows as f64 / secs.max(1e-9);
    println!(
        "STIX benchmark, {rows} incidents, bundle {:.1} MB: export {:.2} s ({:.0} records/s), \
         read {:.2} s ({:.0} records/s), receive {:.2} s ({:.0} records/s), \
         read + receive {:.0} records/s",
        size as f64 / 1e6,
        export,
        r(export),
        parse,
        r(parse),
        receive,
        r(receive),
        r(parse + receive)
    );
}
