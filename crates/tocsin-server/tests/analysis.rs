//! Risk analysis over HTTP: the assessment workflow with its permissions, evidence
//! suggestions, the legal-qualification rule, and what a situation page shows.

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tocsin_domain::{
    Actor, Country, ForecastRun, ForecastScore, Permission, Role, SignalRecord, Tlp,
};
use tocsin_store::{Op, StoreExt};

async fn situation(app: &TestApp, tlp: &str) -> String {
    let (s, v) = app
        .post(
            Role::Analyst,
            "/api/v1/situations",
            json!({"name": "CAR: north-west", "country": "CAF", "tlp": tlp}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v["id"].as_str().unwrap().to_string()
}

fn factor(n: u32, level: &str) -> Value {
    json!({"factor": n, "level": level, "confidence": "medium",
           "rationale": format!("Rationale for factor {n} at {level}.")})
}

#[tokio::test]
async fn assessment_workflow_permissions_and_diff() {
    let app = TestApp::start().await;
    let b = app.add_user("analyst-b", Role::Analyst).await;
    let sid = situation(&app, "TLP:GREEN").await;
    let path = format!("/api/v1/situations/{sid}/assessments");

    // Only analysts write assessments.
    for role in [
        Role::DeskOfficer,
        Role::Viewer,
        Role::Admin,
        Role::MonitorCoordinator,
    ] {
        let (s, _) = app.post(role, &path, json!({"factors": []})).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{role:?}");
    }
    let (s, v) = app
        .post(
            Role::Analyst,
            &path,
            json!({"as_of": "2025-01-31", "factors": [factor(1, "high")],
                   "observations": [{"indicator": "1.1", "observed": "present", "note": "fighting"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["status"], "draft");
    assert_eq!(v["author"], "analyst");
    let a1 = v["id"].as_str().unwrap().to_string();
    let ap = format!("/api/v1/assessments/{a1}");

    // A factor the framework does not have, or no rationale: refused, naming the field.
    let (s, v) = app
        .post(
            Role::Analyst,
            &path,
            json!({"factors": [factor(15, "low")]}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["field"], "factors[0].factor", "{v}");
    let (s, v) = app
        .post(
            Role::Analyst,
            &path,
            json!({"factors": [{"factor": 2, "level": "low", "confidence": "low", "rationale": " "}]}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["field"], "factors[0].rationale", "{v}");

    // Drafts are hidden from roles that do not work on them.
    let (s, v) = app.get(Role::Viewer, &path).await;
    assert_eq!((s, v.as_array().unwrap().len()), (StatusCode::OK, 0));
    assert_eq!(app.get(Role::Viewer, &ap).await.0, StatusCode::NOT_FOUND);

    // The author cannot review their own draft.
    let (s, v) = app
        .post(Role::Analyst, &format!("{ap}/review"), json!({}))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        v["error"].as_str().unwrap().contains("second analyst"),
        "{v}"
    );
    // A stale version is refused and changes nothing.
    let (s, _) = app
        .call(
            Some(Role::Analyst),
            Method::PATCH,
            &ap,
            Some(json!({"expected_version": 7, "summary": "x"})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, v) = app.get(Role::Analyst, &ap).await;
    assert_eq!(
        (
            v["assessment"]["version"].as_i64(),
            v["assessment"]["summary"].as_str()
        ),
        (Some(1), Some(""))
    );

    // A second analyst reviews; a reviewed assessment can no longer be edited.
    let (s, v) = app
        .call_as(
            &b,
            Method::POST,
            &format!("{ap}/review"),
            Some(json!({"note": "checked sources"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "reviewed");
    let (s, _) = app
        .call(
            Some(Role::Analyst),
            Method::PATCH,
            &ap,
            Some(json!({"summary": "late"})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    // Publishing needs the permission.
    let (s, _) = app
        .post(Role::DeskOfficer, &format!("{ap}/publish"), json!({}))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = app
        .call_as(&b, Method::POST, &format!("{ap}/publish"), Some(json!({})))
        .await;
    assert_eq!(
        (s, v["status"].as_str()),
        (StatusCode::OK, Some("published"))
    );
    // Published: visible to viewers (TLP:GREEN), and never changed again.
    let (s, v) = app.get(Role::Viewer, &ap).await;
    assert_eq!(s, StatusCode::OK);
    assert!(v["diff"].is_null());
    let (s, _) = app
        .call_as(&b, Method::POST, &format!("{ap}/return"), Some(json!({})))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);

    // A second assessment: the diff names what changed, the history each level.
    let (_, v) = app
        .post(
            Role::Analyst,
            &path,
            json!({"as_of": "2025-04-30", "factors": [factor(1, "severe"), factor(7, "moderate")]}),
        )
        .await;
    let a2 = v["id"].as_str().unwrap().to_string();
    let ap2 = format!("/api/v1/assessments/{a2}");
    app.call_as(&b, Method::POST, &format!("{ap2}/review"), Some(json!({})))
        .await;
    let (s, _) = app
        .post(Role::Analyst, &format!("{ap2}/publish"), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, v) = app.get(Role::Viewer, &ap2).await;
    let diff = &v["diff"];
    assert_eq!(diff["previous_id"], a1.as_str());
    let changes: Vec<(u64, Value, Value)> = diff["factors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["factor"].as_u64().unwrap(),
                c["before"].clone(),
                c["after"].clone(),
            )
        })
        .collect();
    assert_eq!(
        changes,
        vec![
            (1, json!("high"), json!("severe")),
            (7, Value::Null, json!("moderate"))
        ]
    );
    assert_eq!(diff["observations"][0]["indicator"], "1.1");
    let (_, h) = app
        .get(
            Role::Viewer,
            &format!("/api/v1/situations/{sid}/factors/1/history"),
        )
        .await;
    let levels: Vec<&str> = h
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["level"].as_str().unwrap())
        .collect();
    assert_eq!(levels, ["high", "severe"]);
    assert_eq!(
        app.get(
            Role::Viewer,
            &format!("/api/v1/situations/{sid}/factors/99/history")
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );

    // Every step is in the audit trail, by name.
    let (_, audit) = app.get(Role::Admin, "/api/v1/audit?limit=1000").await;
    let actions: Vec<(String, String)> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["record_type"] == "assessment")
        .map(|e| {
            (
                e["action"].as_str().unwrap().into(),
                e["actor_name"].as_str().unwrap().into(),
            )
        })
        .collect();
    for want in [
        ("assessment.create", "analyst"),
        ("assessment.review", "analyst-b"),
        ("assessment.publish", "analyst-b"),
        ("assessment.publish", "analyst"),
    ] {
        assert!(
            actions.contains(&(want.0.into(), want.1.into())),
            "{want:?} in {actions:?}"
        );
    }
}

#[tokio::test]
async fn evidence_suggestions_never_set_a_level() {
    let app = TestApp::start().await;
    let sid = situation(&app, "TLP:AMBER").await;
    let sv = app
        .incident(
            Tlp::Amber,
            "CAF",
            "2025-03-01",
            6.5,
            18.0,
            ("Violence against civilians", "Sexual violence"),
        )
        .await;
    let battle = app
        .incident(
            Tlp::Green,
            "CAF",
            "2025-03-02",
            6.6,
            18.1,
            ("Battles", "Armed clash"),
        )
        .await;
    let tagged = app
        .incident(
            Tlp::Green,
            "CAF",
            "2025-03-03",
            6.7,
            18.2,
            ("Strategic developments", "Other"),
        )
        .await;
    let red = app
        .incident(
            Tlp::Red,
            "CAF",
            "2025-03-04",
            6.8,
            18.3,
            ("Violence against civilians", "Sexual violence"),
        )
        .await;
    let elsewhere = app
        .incident(
            Tlp::Green,
            "TCD",
            "2025-03-04",
            12.1,
            15.0,
            ("Battles", "Armed clash"),
        )
        .await;

    // Tags: normalised, refused when malformed, only for those who may change incidents.
    let tp = format!("/api/v1/incidents/{}/tags", tagged.id);
    let (s, v) = app
        .call(
            Some(Role::Analyst),
            Method::PUT,
            &tp,
            Some(json!({"tags": ["Hate-Speech", "hate-speech", "election"]})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["tags"], json!(["election", "hate-speech"]));
    let (s, v) = app
        .call(
            Some(Role::Analyst),
            Method::PUT,
            &tp,
            Some(json!({"tags": ["no/slashes"]})),
        )
        .await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("tags"))
    );
    let (s, _) = app
        .call(
            Some(Role::Viewer),
            Method::PUT,
            &tp,
            Some(json!({"tags": []})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(
        app.get(Role::Viewer, &tp).await.1["tags"],
        json!(["election", "hate-speech"])
    );

    let (_, v) = app
        .post(
            Role::Analyst,
            &format!("/api/v1/situations/{sid}/assessments"),
            json!({"as_of": "2025-03-31", "factors": [factor(7, "low")]}),
        )
        .await;
    let aid = v["id"].as_str().unwrap().to_string();
    let sp = format!("/api/v1/assessments/{aid}/suggestions");
    assert_eq!(app.get(Role::Viewer, &sp).await.0, StatusCode::FORBIDDEN);
    // The desk officer (AMBER clearance) is not an assessor; the analyst sees everything.
    let (s, v) = app.get(Role::Analyst, &sp).await;
    assert_eq!(s, StatusCode::OK);
    let got: Vec<(String, String)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["indicator"].as_str().unwrap().into(),
                s["evidence"]["reference"].as_str().unwrap().into(),
            )
        })
        .collect();
    for want in [
        ("1.1", battle.id),
        ("7.9", sv.id),
        ("7.14", tagged.id),
        ("8.8", tagged.id),
        ("11.1", sv.id),
    ] {
        assert!(
            got.contains(&(want.0.into(), want.1.to_string())),
            "{want:?} in {got:?}"
        );
    }
    assert!(
        !got.iter().any(|(_, r)| *r == elsewhere.id.to_string()),
        "another country's incident"
    );
    // The TLP:RED incident is above this TLP:AMBER assessment's label: not offered.
    assert!(
        !got.iter().any(|(_, r)| *r == red.id.to_string()),
        "an incident above the assessment's label"
    );
    assert!(v[0]["why"].as_str().is_some_and(|w| !w.is_empty()));

    // Accept one, dismiss another: evidence recorded, no level changed.
    let decide = |ind: &str, id: uuid::Uuid, accept: bool| json!({"indicator": ind, "evidence": {"kind": "incident", "reference": id.to_string()}, "accept": accept});
    let (s, v) = app
        .post(Role::Analyst, &sp, decide("7.9", sv.id, true))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        v["factors"],
        json!([factor(7, "low").as_object().map(|o| {
            let mut o = o.clone();
            o.insert("evidence".into(), json!([]));
            o
        })])
    );
    let obs = &v["observations"][0];
    assert_eq!(
        (obs["indicator"].as_str(), obs["observed"].as_str()),
        (Some("7.9"), Some("present"))
    );
    assert_eq!(obs["evidence"][0]["reference"], sv.id.to_string());
    let (s, _) = app
        .post(Role::Analyst, &sp, decide("1.1", battle.id, false))
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) = app
        .post(Role::Analyst, &sp, decide("1.1", battle.id, true))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (s, v) = app
        .post(Role::Analyst, &sp, decide("7.99", battle.id, true))
        .await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("indicator"))
    );
    let (_, v) = app.get(Role::Analyst, &sp).await;
    let left: Vec<(&str, &str)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["indicator"].as_str().unwrap(),
                s["evidence"]["reference"].as_str().unwrap(),
            )
        })
        .collect();
    let (sv_id, battle_id) = (sv.id.to_string(), battle.id.to_string());
    assert!(
        !left.contains(&("7.9", sv_id.as_str())) && !left.contains(&("1.1", battle_id.as_str())),
        "{left:?}"
    );
    assert!(left.contains(&("11.1", sv_id.as_str())));
}

#[tokio::test]
async fn legal_qualification_is_an_attributed_entry_behind_a_grant() {
    let app = TestApp::start().await;
    let sid = situation(&app, "TLP:GREEN").await;
    let b = app.add_user("legal-b", Role::Analyst).await;
    let lp = format!("/api/v1/situations/{sid}/legal-qualifications");
    let body = json!({"crime": "genocide", "finding": "risk_of",
        "rationale": "Killings target one group by name, with public calls to remove it from the area.",
        "basis": "Genocide Convention art. II; FoA risk factors 9 and 10"});

    // Automated parts (signals, forecasts, suggestions) never qualify a situation.
    let actor = Actor::system("signals");
    app.store
        .record_signals(
            &actor,
            vec![SignalRecord {
                id: tocsin_domain::new_id(),
                country: Country::parse("CAF").unwrap(),
                admin1: None,
                metric: "incidents".into(),
                week_start: "2025-03-03".parse().unwrap(),
                observed: 14.0,
                expected: 2.3,
                score: 7.1,
                threshold: 4.0,
                severity: "high".into(),
                explanation: "14 incidents in the week of 2025-03-03 against 2.3 expected".into(),
                created_at: tocsin_domain::time::now(),
                tlp: Tlp::Green,
            }],
        )
        .await
        .unwrap();
    let (_, o) = app
        .get(Role::Viewer, &format!("/api/v1/situations/{sid}/overview"))
        .await;
    assert_eq!(o["legal_qualifications"], json!([]));
    assert_eq!(o["signals"][0]["observed"], 14.0);
    let text = o.to_string().to_lowercase();
    for word in ["genocide", "crimes against humanity", "war crime"] {
        assert!(!text.contains(word), "{word} in {text}");
    }

    // No role holds the permission: analysts, admins and others are refused.
    for role in Role::ALL {
        let (s, _) = app.post(role, &lp, body.clone()).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{role:?}");
    }
    // It is granted to a named analyst, never to another role.
    let bu = app.store.get_user_by_name("legal-b").await.unwrap();
    app.store
        .write(
            &Actor::system("cli"),
            Op::GrantPermission {
                user_id: bu.id,
                permission: Permission::LegalQualify,
                on: true,
            },
        )
        .await
        .unwrap();
    let viewer = app.store.get_user_by_name("viewer").await.unwrap();
    assert!(app
        .store
        .write(
            &Actor::system("cli"),
            Op::GrantPermission {
                user_id: viewer.id,
                permission: Permission::LegalQualify,
                on: true
            }
        )
        .await
        .is_err());
    // A rationale is required.
    let (s, v) = app
        .call_as(
            &b,
            Method::POST,
            &lp,
            Some(json!({"crime": "war_crimes", "finding": "may_amount_to", "rationale": "yes"})),
        )
        .await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("rationale"))
    );
    let (s, v) = app.call_as(&b, Method::POST, &lp, Some(body.clone())).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(
        (v["author"].as_str(), v["crime"].as_str()),
        (Some("legal-b"), Some("genocide"))
    );
    let (_, list) = app.get(Role::Viewer, &lp).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert!(list[0]["rationale"]
        .as_str()
        .unwrap()
        .starts_with("Killings target"));
    let (_, audit) = app.get(Role::Admin, "/api/v1/audit?limit=1000").await;
    assert!(audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["action"] == "legal_qualification.create" && e["actor_name"] == "legal-b"));
}

#[tokio::test]
async fn situation_and_assessment_pages_in_the_browser() {
    let app = TestApp::start().await;
    let sid = situation(&app, "TLP:GREEN").await;
    let c = Country::parse("CAF").unwrap();
    let actor = Actor::system("forecast");
    for (year, rank) in [(2023, 5), (2024, 3)] {
        let run = ForecastRun {
            id: tocsin_domain::new_id(),
            year,
            model: "tocsin".into(),
            data: "test.csv".into(),
            countries: 160,
            created_at: tocsin_domain::time::now(),
            scores: vec![ForecastScore {
                country: c.clone(),
                rank,
                probability: 0.0625,
                contributions: vec![("mk_ongoing".into(), 1.2)],
            }],
        };
        app.store
            .write(&actor, Op::StoreForecastRun(Box::new(run)))
            .await
            .unwrap();
    }
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
            (
                r.status(),
                r.headers()
                    .get("location")
                    .map(|l| l.to_str().unwrap().to_string()),
                r.text().await.unwrap(),
            )
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
            (
                r.status(),
                r.headers()
                    .get("location")
                    .map(|l| l.to_str().unwrap().to_string()),
                r.text().await.unwrap(),
            )
        }
    };
    let (s, _, html) = get("/situations".into()).await;
    assert_eq!(s, 200);
    assert!(html.contains(&format!("/situations/{sid}")));
    let (_, _, html) = get(format!("/situations/{sid}")).await;
    assert!(
        html.contains("Rank 3 of 160 in the 2024 forecast"),
        "{html}"
    );
    assert!(html.contains("up from rank 5 (2023)"));
    assert!(html.contains("No legal qualification recorded."));
    assert!(
        !html.contains("Record a legal qualification"),
        "offered without the grant"
    );

    // Without the CSRF token nothing is created.
    let (s, _, _) = post(
        format!("/situations/{sid}/assessments"),
        vec![("csrf", "wrong".into())],
    )
    .await;
    assert_eq!(s, 403);
    let (s, loc, _) = post(
        format!("/situations/{sid}/assessments"),
        vec![("csrf", csrf.clone())],
    )
    .await;
    assert_eq!(s, 303);
    let edit = loc.unwrap();
    assert!(edit.ends_with("/edit"));
    let (s, _, html) = get(edit.clone()).await;
    assert_eq!(s, 200);
    assert!(
        html.contains("name=\"level_14\""),
        "every factor of the framework is offered"
    );
    let mut form = vec![
        ("csrf", csrf.clone()),
        ("expected_version", "1".into()),
        ("as_of", "2025-05-01".into()),
        ("summary", "Rising risk in the north-west.".into()),
        ("level_1", "high".into()),
        ("confidence_1", "high".into()),
        (
            "rationale_1",
            "Armed conflict between ex-Seleka and anti-balaka.".into(),
        ),
        ("level_8", "moderate".into()),
        ("confidence_8", "low".into()),
        ("rationale_8", "".into()),
    ];
    let (s, _, html) = post(edit.clone(), form.clone()).await;
    assert_eq!(s, 422, "a level without a rationale is refused");
    assert!(html.contains("rationale"), "{html}");
    form.pop();
    form.push(("rationale_8", "Elections scheduled in December.".into()));
    let (s, loc, _) = post(edit.clone(), form).await;
    assert_eq!(s, 303);
    let view = loc.unwrap();
    let (_, _, html) = get(view.clone()).await;
    assert!(
        html.contains("level-high") && html.contains("Elections scheduled"),
        "{html}"
    );
    assert!(html.contains("A second analyst reviews this draft"));
    assert!(
        !html.contains("Mark reviewed"),
        "the author is not offered the review"
    );
    let (_, _, html) = get(format!("/situations/{sid}")).await;
    assert!(html.contains("2025-05-01") && html.contains("draft"));
}

#[tokio::test]
async fn an_assessment_is_labelled_at_least_as_its_situation_and_needs_both_clearances() {
    let app = TestApp::start().await;
    let sid = situation(&app, "TLP:AMBER").await;
    let path = format!("/api/v1/situations/{sid}/assessments");
    // Below the situation's label: refused on create, naming tlp; the situation's by default.
    let (s, v) = app
        .post(
            Role::Analyst,
            &path,
            json!({"tlp": "TLP:GREEN", "factors": []}),
        )
        .await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("tlp")),
        "{v}"
    );
    let (s, v) = app.post(Role::Analyst, &path, json!({"factors": []})).await;
    assert_eq!(
        (s, v["tlp"].as_str()),
        (StatusCode::CREATED, Some("TLP:AMBER")),
        "{v}"
    );
    let ap = format!("/api/v1/assessments/{}", v["id"].as_str().unwrap());
    // And on edit; above it is fine.
    let (s, v) = app
        .call(
            Some(Role::Analyst),
            Method::PATCH,
            &ap,
            Some(json!({"tlp": "TLP:CLEAR"})),
        )
        .await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("tlp")),
        "{v}"
    );
    let (s, v) = app
        .call(
            Some(Role::Analyst),
            Method::PATCH,
            &ap,
            Some(json!({"tlp": "TLP:RED"})),
        )
        .await;
    assert_eq!(
        (s, v["tlp"].as_str()),
        (StatusCode::OK, Some("TLP:RED")),
        "{v}"
    );

    // An assessment stored below its TLP:RED situation (before this rule): a viewer cleared for
    // the assessment's label but not the situation's finds neither, by API or page.
    let red = situation(&app, "TLP:RED").await;
    let analyst = app.store.get_user_by_name("analyst").await.unwrap();
    let fw = tocsin_framework::Framework::un_2014();
    let n = tocsin_domain::NewAssessment {
        framework: None,
        as_of: None,
        summary: Some("Below its situation.".into()),
        tlp: None,
        factors: vec![],
        observations: vec![],
    };
    let mut a = tocsin_domain::Assessment::create(
        n,
        &fw,
        red.parse().unwrap(),
        Tlp::Green,
        &analyst.actor(),
        tocsin_domain::time::now(),
    )
    .unwrap();
    a.status = tocsin_domain::AssessmentStatus::Published;
    let a = app
        .store
        .create_assessment(&analyst.actor(), a)
        .await
        .unwrap();
    let (s, _) = app
        .get(Role::Viewer, &format!("/api/v1/assessments/{}", a.id))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = app
        .get(Role::Analyst, &format!("/api/v1/assessments/{}", a.id))
        .await;
    assert_eq!(s, StatusCode::OK);
    let (cookie, _) = browser_login(&app, "viewer", "password-123").await.unwrap();
    let page = app
        .client
        .get(format!("{}/assessments/{}", app.base, a.id))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
}

/// Several frameworks are loaded: new assessments use the configured default, and an existing
/// assessment is edited and shown with the framework it was made with (it used to be
/// read-only, 409, unless it was made with the server's one framework).
#[tokio::test]
async fn assessments_keep_the_framework_they_were_made_with() {
    let osapg = tocsin_framework::Framework::osapg_2009();
    // A server whose default is the 2009 framework: new assessments are made with it.
    let app = TestApp::start_with(|s| {
        s.with_frameworks(
            tocsin_framework::Frameworks::shipped()
                .with_default("osapg-2009")
                .unwrap(),
        )
    })
    .await;
    let sid = situation(&app, "TLP:GREEN").await;
    let path = format!("/api/v1/situations/{sid}/assessments");
    let (s, v) = app
        .post(Role::Analyst, &path, json!({"factors": [factor(8, "low")]}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["framework"], "osapg-2009");
    let (s, _) = app
        .post(Role::Analyst, &path, json!({"factors": [factor(9, "low")]}))
        .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the 2009 framework has 8 categories"
    );

    // A server with the UN default edits and shows an assessment made with the 2009 one.
    let app = TestApp::start().await;
    let sid = situation(&app, "TLP:GREEN").await;
    let situation_ = app.store.get_situation(sid.parse().unwrap()).await.unwrap();
    let n: tocsin_domain::NewAssessment =
        serde_json::from_value(json!({"factors": [factor(2, "moderate")]})).unwrap();
    let analyst = app.store.get_user_by_name("analyst").await.unwrap();
    let a = tocsin_domain::Assessment::create(
        n,
        &osapg,
        situation_.id,
        situation_.tlp,
        &analyst.actor(),
        tocsin_domain::time::now(),
    )
    .unwrap();
    let a = app
        .store
        .create_assessment(&analyst.actor(), a)
        .await
        .unwrap();
    let ap = format!("/api/v1/assessments/{}", a.id);
    let (s, v) = app
        .call(
            Some(Role::Analyst),
            Method::PATCH,
            &ap,
            Some(json!({"factors": [factor(8, "high")]})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "editable with its own framework: {v}");
    let (s, v) = app
        .call(
            Some(Role::Analyst),
            Method::PATCH,
            &ap,
            Some(json!({"factors": [factor(12, "high")]})),
        )
        .await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("factors[0].factor")),
        "checked against its own framework, not the server's default: {v}"
    );
    // The page names its categories, and its edit form offers exactly them.
    let (cookie, _) = browser_login(&app, "analyst", "password-123")
        .await
        .unwrap();
    let page = |path: String| {
        let req = app
            .client
            .get(format!("{}{}", app.base, path))
            .header("cookie", &cookie);
        async move {
            let r = req.send().await.unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let (s, html) = page(format!("/assessments/{}", a.id)).await;
    assert_eq!(s, StatusCode::OK);
    let un = tocsin_framework::Framework::un_2014();
    let own: Vec<&str> = osapg
        .risk_factors
        .iter()
        .map(|r| r.name.as_str())
        .filter(|n| un.risk_factors.iter().all(|u| u.name != *n))
        .collect();
    assert!(!own.is_empty());
    let shown = |n: &str| html.contains(&minijinja_escape(n));
    assert!(
        own.iter().any(|n| shown(n)),
        "the 2009 category names are shown: {own:?}"
    );
    let (s, html) = page(format!("/assessments/{}/edit", a.id)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("name=\"level_8\"") && !html.contains("name=\"level_9\""));
}

/// Text as the templates escape it (HTML special characters).
fn minijinja_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&#34;")
        .replace('\'', "&#x27;")
        .replace('/', "&#x2f;")
}
