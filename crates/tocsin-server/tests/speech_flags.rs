//! Dangerous-speech flags over real HTTP: an SMS (FrontlineSMS), a public web-form report and
//! an analyst's API report holding an enabled lexicon's term each get a flag; the API lists
//! and filters them within the caller's clearance; the flag page marks the hits in the
//! original script; the triage queue and the report page point at them; a reader below the
//! report's label sees neither the flag nor its page; reviews through the API and the page are
//! stored and audited, and bad ones are 4xx with nothing written.

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tocsin_domain::Role;
use tocsin_server::sms::{Secret, SecretOnly, SmsConfig};

const LEXICON: &str = include_str!("../../tocsin-speech/data/lexicon-illustrative.csv");
const SAMPLE: &str = include_str!("../../tocsin-speech/data/sample-labelled.csv");
const FL_SECRET: &str = "frontline-secret-0123456789";

async fn start() -> TestApp {
    TestApp::start_with(|st| {
        let cfg = SmsConfig {
            frontlinesms: Some(SecretOnly {
                secret: Secret(FL_SECRET.into()),
                allow_from: vec![],
            }),
            ..Default::default()
        };
        cfg.validate()
            .expect("a configuration tocsin serve accepts");
        st.with_sms(cfg)
    })
    .await
}

/// A CSV body sent by the analyst.
async fn csv(app: &TestApp, method: Method, path: &str, body: &str) -> (StatusCode, Value) {
    let r = app
        .client
        .request(method, format!("{}{path}", app.base))
        .bearer_auth(&app.tokens[&Role::Analyst])
        .header("content-type", "text/csv")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

async fn enable_lexicon(app: &TestApp) {
    let (s, b) = csv(app, Method::PUT, "/api/v1/lexicons/east-africa", LEXICON).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, b) = csv(
        app,
        Method::POST,
        "/api/v1/lexicons/east-africa/evaluations",
        SAMPLE,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, b) = app
        .post(
            Role::Analyst,
            "/api/v1/lexicons/east-africa/enable",
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
}

/// Send the public form's report.
async fn web_form(app: &TestApp, text: &str) {
    let r = app
        .client
        .get(format!("{}/report", app.base))
        .send()
        .await
        .unwrap();
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("tocsin_report_csrf="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let token = csrf_in(&r.text().await.unwrap());
    let r = app
        .client
        .post(format!("{}/report", app.base))
        .header("cookie", &cookie)
        .form(&[("csrf", token.as_str()), ("text", text), ("lang", "ar")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

async fn frontline(app: &TestApp, from: &str, text: &str) {
    let r = app
        .client
        .post(format!("{}/sms/frontlinesms", app.base))
        .form(&[("secret", FL_SECRET), ("from", from), ("message", text)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

async fn flags(app: &TestApp, role: Role, query: &str) -> Vec<Value> {
    let (s, b) = app.get(role, &format!("/api/v1/speech/flags{query}")).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    b["items"].as_array().unwrap().clone()
}

async fn report_text(app: &TestApp, id: &str) -> String {
    let (s, b) = app
        .get(Role::Analyst, &format!("/api/v1/reports/{id}"))
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    b["text"].as_str().unwrap().to_string()
}

async fn page(app: &TestApp, session: &str, path: &str) -> (StatusCode, String) {
    let r = app
        .client
        .get(format!("{}{path}", app.base))
        .header("cookie", session)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

async fn audit_count(app: &TestApp) -> usize {
    app.store.audit_entries(0, 100_000).await.unwrap().len()
}

#[tokio::test]
async fn flags_over_http_and_on_the_pages() {
    let app = start().await;

    // Before any lexicon is enabled, nothing is flagged.
    frontline(&app, "+254700000009", "Hawa mende lazima waondoke.").await;
    assert!(flags(&app, Role::Analyst, "").await.is_empty());
    enable_lexicon(&app).await;

    // An SMS, a web-form report in Arabic, an analyst's report (TLP:AMBER).
    let sw = "Tuwaondoe madoadoa wote kutoka kijiji hiki!";
    frontline(&app, "+254700000001", sw).await;
    let ar = "يا شباب فَاقْتُلُوهُمْ حيث وجدتموهم، اقتــــلوهم قبل أن يهربوا";
    web_form(&app, ar).await;
    let (s, staff) = app
        .post(
            Role::Analyst,
            "/api/v1/reports",
            json!({"text": "They are cockroaches, every one of them.", "tlp": "TLP:AMBER"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{staff}");
    let staff_id = staff["id"].as_str().unwrap().to_string();

    let all = flags(&app, Role::Analyst, "").await;
    assert_eq!(all.len(), 3, "{all:?}");
    let mut by_text = std::collections::HashMap::new();
    for f in &all {
        let id = f["report_id"].as_str().unwrap().to_string();
        by_text.insert(report_text(&app, &id).await, f.clone());
    }
    let sw_flag = &by_text[sw];
    let ar_flag = &by_text[ar];
    let en_flag = &by_text["They are cockroaches, every one of them."];
    assert_eq!(sw_flag["tlp"], "TLP:AMBER+STRICT");
    assert_eq!(sw_flag["state"], "open");
    assert_eq!(sw_flag["lexicon"], "east-africa");
    assert_eq!(sw_flag["terms"][0]["term"], "doadoa");
    assert_eq!(sw_flag["terms"][0]["category"], "coded term");
    let (a, b) = (
        sw_flag["terms"][0]["start"].as_u64().unwrap() as usize,
        sw_flag["terms"][0]["end"].as_u64().unwrap() as usize,
    );
    assert_eq!(&sw[a..b], "madoadoa");
    let offs: Vec<(usize, usize)> = ar_flag["terms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["start"].as_u64().unwrap() as usize,
                t["end"].as_u64().unwrap() as usize,
            )
        })
        .collect();
    assert_eq!(
        offs.iter().map(|&(a, b)| &ar[a..b]).collect::<Vec<_>>(),
        ["فَاقْتُلُوهُمْ", "اقتــــلوهم"]
    );
    // Character offsets too, for clients counting characters.
    let t0 = &ar_flag["terms"][0];
    let by_chars: String = ar
        .chars()
        .skip(t0["char_start"].as_u64().unwrap() as usize)
        .take((t0["char_end"].as_u64().unwrap() - t0["char_start"].as_u64().unwrap()) as usize)
        .collect();
    assert_eq!(by_chars, "فَاقْتُلُوهُمْ");
    assert_eq!(en_flag["report_id"], staff_id.as_str());

    // Filters.
    let coded = flags(&app, Role::Analyst, "?category=coded%20term").await;
    assert_eq!(coded.len(), 1);
    assert_eq!(coded[0]["id"], sw_flag["id"]);
    assert_eq!(
        flags(&app, Role::Analyst, "?lexicon=nowhere").await.len(),
        0
    );
    assert_eq!(flags(&app, Role::Analyst, "?state=open").await.len(), 3);
    let (s, b) = app
        .get(Role::Analyst, "/api/v1/speech/flags?state=closed")
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_eq!(b["field"], "state");
    let (s, _) = app
        .get(Role::Analyst, "/api/v1/speech/flags?colour=red")
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    // Below the label: the desk officer (AMBER) sees only the analyst's AMBER report's flag;
    // a viewer may not read reports at all.
    let desk = flags(&app, Role::DeskOfficer, "").await;
    assert_eq!(desk.len(), 1);
    assert_eq!(desk[0]["id"], en_flag["id"]);
    let sw_id = sw_flag["id"].as_str().unwrap();
    let (s, _) = app
        .get(Role::DeskOfficer, &format!("/api/v1/speech/flags/{sw_id}"))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = app.get(Role::Viewer, "/api/v1/speech/flags").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, b) = app
        .get(Role::Analyst, &format!("/api/v1/speech/flags/{sw_id}"))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(&b, sw_flag);

    // Bad reviews: 4xx, nothing written.
    let before = audit_count(&app).await;
    let review = format!("/api/v1/speech/flags/{sw_id}/review");
    for (body, status) in [
        (
            json!({"decision": "maybe"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"decision": "confirm"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"decision": "confirm", "context": "x", "hallmarks": ["rudeness"]}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"decision": "confirm", "context": "x", "verdict": "guilty"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"decision": "confirm", "hallmarks": "dehumanisation"}),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let (s, b) = app.post(Role::Analyst, &review, body.clone()).await;
        assert_eq!(s, status, "{body} → {b}");
    }
    let r = app
        .client
        .post(format!("{}{review}", app.base))
        .bearer_auth(&app.tokens[&Role::Analyst])
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // A desk officer may not review; a monitor coordinator neither.
    for role in [Role::DeskOfficer, Role::MonitorCoordinator] {
        let (s, _) = app
            .post(
                role,
                &review,
                json!({"decision": "dismiss", "context": "news quote"}),
            )
            .await;
        assert!(
            s == StatusCode::FORBIDDEN || s == StatusCode::NOT_FOUND,
            "{role:?}: {s}"
        );
    }
    assert_eq!(audit_count(&app).await, before, "a refused review wrote");
    assert_eq!(
        flags(&app, Role::Analyst, "?state=open").await.len(),
        3,
        "a refused review changed a flag"
    );

    // A good review through the API: stored and audited.
    let (s, b) = app
        .post(
            Role::Analyst,
            &review,
            json!({"decision": "confirm", "message": "community called stains to be removed",
                   "context": "weeks before the vote", "speaker": "unknown texter",
                   "hallmarks": ["dehumanisation", "threat_to_group_purity"],
                   "expected_version": 1}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["state"], "confirmed");
    assert_eq!(b["review"]["hallmarks"][1], "threat_to_group_purity");
    let (s, _) = app
        .post(
            Role::Analyst,
            &review,
            json!({"decision": "dismiss", "expected_version": 1}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let entries = app.store.audit_entries(0, 100_000).await.unwrap();
    let reviews: Vec<_> = entries
        .iter()
        .filter(|e| e.action == "speech_flag.review")
        .collect();
    assert_eq!(reviews.len(), 1);
    assert_eq!(reviews[0].actor_name, "analyst");
    assert_eq!(reviews[0].record_id.as_deref(), Some(sw_id));
    assert_eq!(
        flags(&app, Role::Analyst, "?state=confirmed").await.len(),
        1
    );

    // The OpenAPI document.
    let (s, doc) = app.get(Role::Analyst, "/api/v1/openapi.json").await;
    assert_eq!(s, StatusCode::OK);
    for p in [
        "/api/v1/speech/flags",
        "/api/v1/speech/flags/{id}",
        "/api/v1/speech/flags/{id}/review",
    ] {
        assert!(doc["paths"][p].is_object(), "{p} missing");
    }
    assert!(doc["components"]["schemas"]["FlagReviewInput"].is_object());

    // Pages. The analyst: the list, the flag with its hits marked in the Arabic text, the
    // triage queue and the report page pointing at the flags.
    let (session, csrf) = browser_login(&app, "analyst", "password-123")
        .await
        .unwrap();
    let (s, html) = page(&app, &session, "/speech/flags").await;
    assert_eq!(s, StatusCode::OK);
    for f in [sw_flag, ar_flag, en_flag] {
        assert!(
            html.contains(&format!("id=\"flag-{}\"", f["id"].as_str().unwrap())),
            "{html}"
        );
    }
    let ar_id = ar_flag["id"].as_str().unwrap();
    let (s, html) = page(&app, &session, &format!("/speech/flags/{ar_id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains(
            "<blockquote class=\"report-text flagged-text\" dir=\"auto\" id=\"flagged-text\">يا شباب <mark>فَاقْتُلُوهُمْ</mark> حيث وجدتموهم، <mark>اقتــــلوهم</mark> قبل أن يهربوا</blockquote>"
        ),
        "{html}"
    );
    assert!(html.contains("id=\"review-form\""), "{html}");
    let (s, html) = page(&app, &session, "/triage").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains(&format!("href=\"/speech/flags/{ar_id}\"")),
        "the queue marks the flagged report: {html}"
    );
    let ar_report = ar_flag["report_id"].as_str().unwrap();
    let (_, html) = page(&app, &session, &format!("/reports/{ar_report}")).await;
    assert!(html.contains("id=\"speech-flags\""), "{html}");
    assert!(html.contains(&format!("href=\"/speech/flags/{ar_id}\"")));

    // Review through the page: a refused form keeps what was typed and writes nothing.
    let before = audit_count(&app).await;
    let post = |fields: Vec<(&'static str, String)>| {
        let mut fields = fields;
        fields.push(("csrf", csrf.clone()));
        let req = app
            .client
            .post(format!("{}/speech/flags/{ar_id}/review", app.base))
            .header("cookie", &session)
            .form(&fields);
        async move { req.send().await.unwrap() }
    };
    let r = post(vec![
        ("decision", "confirm".into()),
        ("hallmarks", "dehumanisation".into()),
    ])
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"form-error\""), "{html}");
    assert!(html.contains("value=\"dehumanisation\" checked"), "{html}");
    let r = post(vec![
        ("decision", "confirm".into()),
        ("verdict", "x".into()),
    ])
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // The refused page read the restricted flag and report again (audited reads), but no
    // review was written.
    let after = app.store.audit_entries(0, 100_000).await.unwrap();
    assert_eq!(
        after
            .iter()
            .filter(|e| e.action == "speech_flag.review")
            .count(),
        1
    );
    assert!(after.len() > before);
    let r = post(vec![
        ("decision", "confirm".into()),
        ("message", "a call to kill, addressed to young men".into()),
        ("audience", "young men of the area".into()),
        ("context", String::new()),
        ("speaker", String::new()),
        ("medium", "public web form".into()),
        ("hallmarks", "accusation_in_a_mirror".into()),
        ("hallmarks", "questioning_in_group_loyalty".into()),
        ("expected_version", "1".into()),
    ])
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (s, b) = app
        .get(Role::Analyst, &format!("/api/v1/speech/flags/{ar_id}"))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["state"], "confirmed");
    assert_eq!(b["review"]["audience"], "young men of the area");
    assert_eq!(b["review"]["context"], Value::Null);
    assert_eq!(
        b["review"]["hallmarks"],
        json!(["accusation_in_a_mirror", "questioning_in_group_loyalty"])
    );
    let (_, html) = page(&app, &session, &format!("/speech/flags/{ar_id}")).await;
    assert!(html.contains("id=\"flag-review\""), "{html}");
    assert!(html.contains("young men of the area"), "{html}");

    // Confirmed speech can be answered by a counter-message: the flag page links to the
    // composer, which names the flag; the broadcast (pending a second person) points back.
    assert!(
        html.contains(&format!("href=\"/broadcasts/new?flag={ar_id}\"")),
        "{html}"
    );
    let (s, html) = page(&app, &session, &format!("/broadcasts/new?flag={ar_id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains(&format!("name=\"flag_id\" size=\"36\" value=\"{ar_id}\"")),
        "{html}"
    );
    let (s, _) = page(&app, &session, "/broadcasts/new?flag=not-an-id").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let answer = |flag: &str| {
        json!({"mode": "test", "texts": {"ar": "لا للعنف. جيراننا منا."},
               "area": {"countries": ["SDN"]}, "answers": {"speech_flag": flag}})
    };
    // An open flag is not yet speech anyone confirmed; an unknown one is refused alike.
    let en_id = en_flag["id"].as_str().unwrap();
    for (flag, why) in [
        (en_id.to_string(), "is not confirmed"),
        (uuid::Uuid::new_v4().to_string(), "no such flag"),
    ] {
        let (s, v) = app
            .post(Role::Analyst, "/api/v1/broadcasts", answer(&flag))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(v["field"], "answers.speech_flag", "{v}");
        assert!(v["error"].as_str().unwrap_or("").contains(why), "{v}");
    }
    let (s, v) = app
        .post(Role::Analyst, "/api/v1/broadcasts", answer(ar_id))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let bid = v["id"].as_str().unwrap().to_string();
    let (_, v) = app
        .get(Role::Analyst, &format!("/api/v1/broadcasts/{bid}"))
        .await;
    assert_eq!(v["answers"]["speech_flag"], ar_id, "{v}");
    assert_eq!(v["state"], "pending", "a second person approves it: {v}");
    let (_, html) = page(&app, &session, &format!("/broadcasts/{bid}")).await;
    assert!(
        html.contains(&format!(
            "href=\"/speech/flags/{ar_id}\" id=\"answers-flag\""
        )),
        "{html}"
    );

    // The desk officer (AMBER): neither the flag of the AMBER+STRICT report in the list nor
    // its page; no review form on the one they see.
    let (dsession, _) = browser_login(&app, "desk_officer", "password-123")
        .await
        .unwrap();
    let (s, html) = page(&app, &dsession, "/speech/flags").await;
    assert_eq!(s, StatusCode::OK);
    assert!(!html.contains(ar_id), "{html}");
    assert!(!html.contains(sw_id), "{html}");
    assert!(html.contains(en_flag["id"].as_str().unwrap()));
    let (s, _) = page(&app, &dsession, &format!("/speech/flags/{ar_id}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, html) = page(
        &app,
        &dsession,
        &format!("/speech/flags/{}", en_flag["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("<mark>cockroaches</mark>"), "{html}");
    assert!(!html.contains("id=\"review-form\""), "{html}");
}

/// Posts from an archive (JSONL as research tools export it) are stored, scanned and flagged;
/// the API lists them, the monitor pages show them with the hit marked, a flag on an item
/// links to it, and a viewer can neither import nor read them.
#[tokio::test]
async fn archived_posts_are_flagged_and_shown_on_the_monitor_pages() {
    let app = start().await;
    enable_lexicon(&app).await;
    let jsonl = "{\"id\": 1, \"date\": \"2025-03-01T10:00:00\", \"username\": \"loud_voice\", \
                 \"text\": \"They are cockroaches, every one of them.\"}\n\
                 {\"id\": 2, \"date\": \"2025-03-01T11:00:00\", \"text\": \"Market prices rose again.\"}\n\
                 not json at all\n\n";
    let import = |token: &str| {
        app.client
            .post(format!(
                "{}/api/v1/monitor/import?name=channel-x&format=jsonl&country=SDN",
                app.base
            ))
            .bearer_auth(token)
            .body(jsonl.to_string())
            .send()
    };
    let r = import(&app.tokens[&Role::Viewer]).await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = import(&app.tokens[&Role::Analyst]).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let sum: Value = r.json().await.unwrap();
    assert_eq!(
        (&sum["stored"], &sum["malformed"], &sum["flagged"]),
        (&json!(2), &json!(1), &json!(1)),
        "{sum}"
    );
    assert!(
        sum["problems"][0]
            .as_str()
            .unwrap_or("")
            .starts_with("line 3"),
        "{sum}"
    );
    // Again: nothing new.
    let sum: Value = import(&app.tokens[&Role::Analyst])
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (&sum["stored"], &sum["duplicates"]),
        (&json!(0), &json!(2)),
        "{sum}"
    );

    let (s, page1) = app
        .get(Role::Analyst, "/api/v1/monitor/items?flagged=true")
        .await;
    assert_eq!(s, StatusCode::OK, "{page1}");
    let items = page1["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{page1}");
    let item_id = items[0]["id"].as_str().unwrap().to_string();
    let (_, one) = app
        .get(Role::Analyst, &format!("/api/v1/monitor/items/{item_id}"))
        .await;
    let flag_id = one["flags"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(one["flags"][0]["item_id"], item_id.as_str(), "{one}");
    let (s, _) = app.get(Role::Viewer, "/api/v1/monitor/items").await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    let (session, _) = browser_login(&app, "analyst", "password-123")
        .await
        .unwrap();
    let (s, html) = page(&app, &session, "/monitor").await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(
        html.contains(&format!("href=\"/monitor/items/{item_id}\"")),
        "{html}"
    );
    let (s, html) = page(&app, &session, &format!("/monitor/items/{item_id}")).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(
        html.contains("They are <mark>cockroaches</mark>, every one"),
        "{html}"
    );
    let (s, html) = page(&app, &session, &format!("/speech/flags/{flag_id}")).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(
        html.contains(&format!(
            "href=\"/monitor/items/{item_id}\" id=\"flag-item\""
        )),
        "{html}"
    );
    let (viewer, _) = browser_login(&app, "viewer", "password-123").await.unwrap();
    assert_eq!(
        page(&app, &viewer, "/monitor").await.0,
        StatusCode::FORBIDDEN
    );
}
