//! A refused form says why in the reader's language: a French or Arabic staff user who types
//! a latitude of 91, marks an action done without its outcome or records a rumour in an
//! unknown country reads the domain's reason in French or Arabic, the value they typed
//! intact; a Swahili visitor whose report carries too many files reads why in Swahili. The
//! English pages and the JSON API keep the English reason. All over real HTTP.

mod common;

use common::*;
use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;
use serde_json::json;
use tocsin_app::files::EvidenceLimits;
use tocsin_domain::{Role, Tlp};

/// POST a form as a logged-in user: status and page.
async fn post_form(
    app: &TestApp,
    cookie: &str,
    path: &str,
    form: &[(&str, &str)],
) -> (StatusCode, String) {
    let r = app
        .client
        .post(format!("{}{path}", app.base))
        .header("cookie", cookie)
        .form(form)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

/// A user of `role` logged in through the form, their pages in `lang` (chosen on the account
/// page): session cookie and CSRF token.
async fn staff_in(app: &TestApp, name: &str, role: Role, lang: &str) -> (String, String) {
    app.add_user(name, role).await;
    let (cookie, csrf) = browser_login(app, name, "password-123").await.unwrap();
    if lang != "en" {
        let (s, html) = post_form(
            app,
            &cookie,
            "/account/language",
            &[("csrf", csrf.as_str()), ("language", lang)],
        )
        .await;
        assert!(s.is_success(), "{s}: {html}");
        assert!(html.contains(&format!("<html lang=\"{lang}\"")), "{html}");
    }
    (cookie, csrf)
}

/// The incident edit form with a latitude of 91, as `cookie`'s user: status and page.
async fn latitude_91(
    app: &TestApp,
    cookie: &str,
    csrf: &str,
    i: &tocsin_domain::Incident,
) -> (StatusCode, String) {
    post_form(
        app,
        cookie,
        &format!("/incidents/{}/edit", i.id),
        &[
            ("csrf", csrf),
            ("expected_version", &i.version.to_string()),
            ("event_date", "2024-10-08"),
            ("event_type", "Battles"),
            ("sub_event_type", "Armed clash"),
            ("country", "CAF"),
            ("admin1", "Ouham"),
            ("location", "Bossangoa"),
            ("latitude", "91"),
            ("longitude", "17.45"),
            ("fatalities", "3"),
            ("credibility", "4"),
            ("tlp", "TLP:GREEN"),
            ("description", "Clashes near the river crossing"),
        ],
    )
    .await
}

#[tokio::test]
async fn a_refused_incident_says_why_in_french_and_in_arabic() {
    let app = TestApp::start().await;
    let i = app
        .incident(
            Tlp::Green,
            "CAF",
            "2024-10-07",
            7.2,
            17.4,
            ("Battles", "Armed clash"),
        )
        .await;

    // English: the reason as the domain writes it, the field as the form labels it.
    let (cookie, csrf) = staff_in(&app, "ann", Role::Analyst, "en").await;
    let (s, en) = latitude_91(&app, &cookie, &csrf, &i).await;
    assert!(s.is_client_error(), "{s}");
    let english = en
        .split("id=\"form-error\"")
        .nth(1)
        .and_then(|p| p.split("</").next())
        .unwrap_or_else(|| panic!("an inline error: {en}"))
        .to_string();
    assert!(english.contains("Latitude"), "{english}");
    assert!(english.contains("90"), "{english}");

    // French: the same refusal, in French, the bound intact, no English left.
    let (cookie, csrf) = staff_in(&app, "amelie", Role::Analyst, "fr").await;
    let (s, fr) = latitude_91(&app, &cookie, &csrf, &i).await;
    assert!(s.is_client_error(), "{s}");
    let french = fr
        .split("id=\"form-error\"")
        .nth(1)
        .and_then(|p| p.split("</").next())
        .unwrap()
        .to_string();
    assert!(french.contains("Latitude"), "{french}");
    assert!(french.contains("90"), "{french}");
    assert!(
        french.contains("doit être") || french.contains("entre"),
        "{french}"
    );
    assert!(
        !french.contains("must") && !french.contains("between"),
        "{french}"
    );
    // What was typed is still in the form.
    assert!(fr.contains("value=\"91\""), "{fr}");

    // Arabic: the field as the Arabic form labels it, the reason in Arabic.
    let (cookie, csrf) = staff_in(&app, "amira", Role::Analyst, "ar").await;
    let (s, ar) = latitude_91(&app, &cookie, &csrf, &i).await;
    assert!(s.is_client_error(), "{s}");
    let arabic = ar
        .split("id=\"form-error\"")
        .nth(1)
        .and_then(|p| p.split("</").next())
        .unwrap()
        .to_string();
    assert!(arabic.contains("خط العرض"), "{arabic}");
    assert!(arabic.contains("90"), "{arabic}");
    assert!(
        !arabic.contains("must") && !arabic.contains("between"),
        "{arabic}"
    );

    // The JSON API keeps the English reason.
    let (s, v) = app
        .call(
            Some(Role::Analyst),
            reqwest::Method::PATCH,
            &format!("/api/v1/incidents/{}", i.id),
            Some(json!({"expected_version": i.version, "latitude": 91.0})),
        )
        .await;
    assert!(s.is_client_error(), "{s}: {v}");
    assert!(v["error"].as_str().unwrap_or("").contains("90"), "{v}");
    assert!(!v["error"].as_str().unwrap_or("").contains("doit"), "{v}");
}

#[tokio::test]
async fn an_action_done_without_outcome_and_a_rumour_in_no_country_say_why_in_french() {
    let app = TestApp::start().await;
    let (s, v) = app
        .post(
            Role::Analyst,
            "/api/v1/situations",
            json!({"name": "CAR: north-west", "country": "CAF", "tlp": "TLP:GREEN"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let sid = v["id"].as_str().unwrap().to_string();
    let (cookie, csrf) = staff_in(&app, "amelie", Role::Analyst, "fr").await;

    // An action, planned through the page, then marked done without its outcome.
    let measure = tocsin_toolbox::Toolbox::shipped().measures[0].id.clone();
    let (s, html) = post_form(
        &app,
        &cookie,
        &format!("/situations/{sid}/actions"),
        &[
            ("csrf", &csrf),
            ("measure_id", &measure),
            ("risk_factors", "1"),
            ("department", "interior"),
            ("lead", "amelie"),
            ("due_date", "2030-12-31"),
            ("notes", ""),
        ],
    )
    .await;
    assert!(s.is_redirection() || s.is_success(), "{s}: {html}");
    let (_, plan) = app
        .get(Role::Analyst, &format!("/api/v1/actions?situation={sid}"))
        .await;
    let action = plan["items"]
        .as_array()
        .and_then(|a| a.first())
        .cloned()
        .unwrap_or_else(|| panic!("an action: {plan}"));
    let aid = action["id"].as_str().unwrap();
    let (s, html) = post_form(
        &app,
        &cookie,
        &format!("/actions/{aid}"),
        &[
            ("csrf", &csrf),
            ("expected_version", &action["version"].to_string()),
            ("status", "done"),
            ("outcome", ""),
            ("due_date", "2030-12-31"),
            ("next_review", ""),
            ("lead", "amelie"),
        ],
    )
    .await;
    assert!(s.is_client_error(), "{s}: {html}");
    assert!(
        html.contains("demande un résultat"),
        "the reason in French: {html}"
    );
    assert!(!html.contains("needs an outcome"), "{html}");

    // A rumour in a country that does not exist: the code typed is kept in the reason.
    let (s, html) = post_form(
        &app,
        &cookie,
        "/rumours",
        &[
            ("csrf", &csrf),
            ("claim", "Typed claim: the bridge will be burnt tonight"),
            ("country", "ZQX"),
            ("priority", "high"),
            ("tlp", "TLP:GREEN"),
        ],
    )
    .await;
    assert!(s.is_client_error(), "{s}: {html}");
    let error = html
        .split("id=\"form-error\"")
        .nth(1)
        .and_then(|p| p.split("</").next())
        .unwrap_or_else(|| panic!("an inline error: {html}"))
        .to_string();
    assert!(error.contains("ZQX"), "{error}");
    assert!(error.contains("ISO 3166-1 alpha-3"), "{error}");
    assert!(
        !error.contains("is not an") && !error.contains("country code"),
        "{error}"
    );
    assert!(
        html.contains("Typed claim: the bridge will be burnt tonight"),
        "{html}"
    );
}

#[tokio::test]
async fn the_public_form_says_why_in_swahili() {
    let app = TestApp::start_with(|s| {
        s.with_evidence_limits(EvidenceLimits {
            max_file_bytes: 64 * 1024,
            max_report_bytes: 128 * 1024,
            max_files: 1,
        })
    })
    .await;
    let send = |lang: &'static str| {
        let app = &app;
        async move {
            let resp = app
                .client
                .get(format!("{}/report?lang={lang}", app.base))
                .send()
                .await
                .unwrap();
            let cookie = first_cookie(&resp);
            let html = resp.text().await.unwrap();
            let file = || {
                Part::bytes(b"\xff\xd8\xff\xe0 not much of a photo".to_vec())
                    .file_name("a.jpg")
                    .mime_str("image/jpeg")
                    .unwrap()
            };
            let form = Form::new()
                .text("csrf", csrf_in(&html))
                .text("text", "Soldiers burnt the market at dawn")
                .text("place", "Bria")
                .text("lang", lang)
                .part("file", file())
                .part("file", file());
            let resp = app
                .client
                .post(format!("{}/report", app.base))
                .header("cookie", cookie)
                .multipart(form)
                .send()
                .await
                .unwrap();
            (resp.status(), resp.text().await.unwrap())
        }
    };
    let (s, en) = send("en").await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{en}");
    assert!(en.contains("A report carries at most 1 files"), "{en}");
    let (s, sw) = send("sw").await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{sw}");
    assert!(!sw.contains("carries at most"), "{sw}");
    assert!(sw.contains("Ripoti"), "{sw}");
    assert!(sw.contains('1'), "{sw}");
    // What was typed is kept.
    assert!(sw.contains("Soldiers burnt the market at dawn"), "{sw}");
}
