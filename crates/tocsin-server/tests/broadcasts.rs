//! Broadcasts over real HTTP on a real SQLite file: the API (201 with id and recipients, the
//! author's own approval refused with 403 for every role, 409 on a second approval, counts
//! on the broadcast, the admins' stop switch, bad input answered 4xx naming the field, the
//! OpenAPI document) and the web pages (list, composer with the estimate, a broadcast's page
//! with its progress and buttons; TEST and LIVE unmistakably different on each), with no
//! subscriber number in any answer.

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::sync::Arc;
use tocsin_domain::subscriber::SubscriberPhone;
use tocsin_domain::{Actor, AuditEvent, ContactKey, Lang, NewSubscriber, Role, SubscriberPlace};
use tocsin_store::{Op, Step, SubscriberStep};

const TEST_PHONE: &str = "+23670099901";

async fn start() -> TestApp {
    TestApp::start_with(|mut s| {
        s.broadcasting = Arc::new(tocsin_app::broadcasts::BroadcastSettings {
            test_phones: vec![TEST_PHONE.into()],
            gateway: Some("kannel".into()),
            sender: None,
            rates: [("kannel".to_string(), 20.0)].into(),
        });
        s
    })
    .await
}

/// Subscribers at Bambari written straight to the store (sealed with the server's key).
async fn subscribers(app: &TestApp, key: &ContactKey, n: usize) -> Vec<String> {
    subscribers_in(app, key, n, None, 3000).await
}

/// `n` subscribers at Bambari in the first-level area `admin1`, numbered from `first`.
async fn subscribers_in(
    app: &TestApp,
    key: &ContactKey,
    n: usize,
    admin1: Option<&str>,
    first: usize,
) -> Vec<String> {
    let mut phones = Vec::new();
    for i in 0..n {
        let phone = format!("+2367{:07}", first + i);
        let place = SubscriberPlace::new(
            tocsin_domain::Country::parse("CAF").unwrap(),
            admin1.map(str::to_string),
            "Bambari",
            5.76,
            20.67,
        )
        .unwrap();
        let s = NewSubscriber::new(&SubscriberPhone::new(phone.clone()), place, Lang::Fr, key);
        let actor = Actor::system("test");
        app.store
            .write(
                &actor,
                Op::All {
                    steps: vec![Step::Subscriber(SubscriberStep::Subscribe(Box::new(s)))],
                    audit: Box::new(AuditEvent::new(&actor, "test", "test", None)),
                },
            )
            .await
            .unwrap();
        phones.push(phone);
    }
    phones
}

fn circle() -> serde_json::Value {
    json!({"circle": {"lat": 5.76, "lon": 20.67, "radius_km": 20}})
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
async fn broadcasts_over_the_api() {
    let app = start().await;
    let key = ContactKey::generate();
    // Subscribers sealed with another key than the server's still count (the count reads no
    // number); sending is the end-to-end test's.
    let phones = subscribers(&app, &key, 12).await;
    let body = json!({"mode": "live", "texts": {"fr": "Restez chez vous.", "en": "Stay home."},
                      "area": circle()});
    let (s, v) = app
        .post(Role::Analyst, "/api/v1/broadcasts", body.clone())
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["recipients"], 12);
    let id = v["id"].as_str().unwrap().to_string();
    // Nobody approves their own; the role without the permission is refused too.
    let (s, v) = app
        .post(
            Role::Analyst,
            &format!("/api/v1/broadcasts/{id}/approve"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert!(v["error"].as_str().unwrap().contains("second person"));
    let (s, _) = app
        .post(
            Role::Viewer,
            &format!("/api/v1/broadcasts/{id}/approve"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = app
        .post(
            Role::Admin,
            &format!("/api/v1/broadcasts/{id}/approve"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["state"], "approved");
    assert_eq!(v["counts"]["queued"], 12);
    let (s, _) = app
        .post(
            Role::MonitorCoordinator,
            &format!("/api/v1/broadcasts/{id}/approve"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, v) = app
        .get(Role::DeskOfficer, &format!("/api/v1/broadcasts/{id}"))
        .await;
    assert_eq!(s, StatusCode::OK);
    for k in ["queued", "sent", "delivered", "failed"] {
        assert!(v["counts"][k].is_u64(), "{k}: {v}");
    }
    assert_eq!(v["lengths"]["fr"]["segments"], 1);
    let (s, list) = app.get(Role::Analyst, "/api/v1/broadcasts").await;
    assert_eq!(s, StatusCode::OK);
    let all = format!("{v}{list}");
    for p in &phones {
        assert!(!all.contains(p.trim_start_matches('+')), "a number leaked");
    }
    // Cancel it (it has not started: no gateway runs in this test).
    let (s, v) = app
        .post(
            Role::MonitorCoordinator,
            &format!("/api/v1/broadcasts/{id}/cancel"),
            json!({"reason": "drill"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["state"], "cancelled");
    assert_eq!(v["counts"]["skipped"], 12);
    // Nothing went out: nothing to correct.
    let (s, _) = app
        .post(
            Role::Analyst,
            &format!("/api/v1/broadcasts/{id}/correct"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    // Bad input: 4xx naming the field, nothing written.
    for (body, field) in [
        (
            json!({"mode": "loud", "texts": {"en": "x"}, "area": circle()}),
            "mode",
        ),
        (
            json!({"mode": "test", "texts": {"xx": "x"}, "area": circle()}),
            "texts.xx",
        ),
        (
            json!({"mode": "test", "texts": {"en": "x".repeat(2000)}, "area": circle()}),
            "texts.en",
        ),
        (
            json!({"mode": "test", "texts": {"en": "x"}, "area": {"circle": {"lat": 95, "lon": 0, "radius_km": 5}}}),
            "area",
        ),
        (
            json!({"mode": "test", "texts": {"en": "x"}, "area": circle(), "extra": 1}),
            "extra",
        ),
    ] {
        let (s, v) = app.post(Role::Analyst, "/api/v1/broadcasts", body).await;
        assert!(s.is_client_error(), "{s} {v}");
        assert!(
            v["field"].as_str().unwrap_or("").starts_with(field),
            "{field}: {v}"
        );
    }
    let (_, list) = app.get(Role::Analyst, "/api/v1/broadcasts").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    // The estimate: counts only.
    let (s, v) = app
        .post(
            Role::Analyst,
            "/api/v1/broadcasts/estimate",
            json!({"mode": "live", "area": circle(), "texts": {"ar": "ابقوا في منازلكم"}}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["recipients"], 12);
    assert!(v["area_km2"].as_f64().unwrap() > 1000.0);
    assert_eq!(v["lengths"]["ar"]["encoding"], "ucs2");
    // The stop switch: admins only, audited.
    let (s, _) = app
        .call(
            Some(Role::Analyst),
            Method::PUT,
            "/api/v1/broadcasts/stop",
            Some(json!({"on": true})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = app
        .call(
            Some(Role::Admin),
            Method::PUT,
            "/api/v1/broadcasts/stop",
            Some(json!({"on": true, "reason": "false alarm"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, v) = app.get(Role::Analyst, "/api/v1/broadcasts/stop").await;
    assert_eq!(v["on"], true);
    // The OpenAPI document names the routes.
    let (_, doc) = app
        .call(None, Method::GET, "/api/v1/openapi.json", None)
        .await;
    for p in [
        "/api/v1/broadcasts",
        "/api/v1/broadcasts/{id}",
        "/api/v1/broadcasts/{id}/approve",
        "/api/v1/broadcasts/{id}/cancel",
        "/api/v1/broadcasts/{id}/correct",
        "/api/v1/broadcasts/stop",
    ] {
        assert!(doc["paths"][p].is_object(), "{p} missing");
    }
}

#[tokio::test]
async fn broadcast_pages_show_test_and_live_apart() {
    let app = start().await;
    let key = ContactKey::generate();
    subscribers(&app, &key, 3).await;
    let (cookie, csrf) = browser_login(&app, "analyst", "password-123")
        .await
        .unwrap();
    let (s, html) = page(&app, &cookie, "/broadcasts/new").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("mode-banner mode-test") && html.contains("TEST"));
    assert!(html.contains("/assets/broadcast.js"));
    // Check the figures of a live broadcast to a circle, then write it.
    let form = |action: &'static str, mode: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("mode", mode.to_string()),
            ("text_en", "Stay home tonight.".to_string()),
            ("text_ar", "ابقوا في منازلكم".to_string()),
            ("area_kind", "circle".to_string()),
            ("lat", "5.76".to_string()),
            ("lon", "20.67".to_string()),
            ("radius_km", "20".to_string()),
            ("action", action.to_string()),
        ]
    };
    let as_pairs = |f: &Vec<(&'static str, String)>| -> Vec<(&str, String)> {
        f.iter().map(|(k, v)| (*k, v.clone())).collect()
    };
    let f = form("check", "live");
    let r = app
        .client
        .post(format!("{}/broadcasts", app.base))
        .header("cookie", &cookie)
        .form(&as_pairs(&f))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("mode-banner mode-live"), "live banner");
    assert!(
        html.contains("id=\"estimate-recipients\">3</strong> recipients"),
        "{html}"
    );
    assert!(html.contains("km²"));
    assert!(html.contains("LIVE broadcast — write"));
    let f = form("create", "live");
    let r = app
        .client
        .post(format!("{}/broadcasts", app.base))
        .header("cookie", &cookie)
        .form(&as_pairs(&f))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let live = r.headers()["location"].to_str().unwrap().to_string();
    let (s, html) = page(&app, &cookie, &live).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("<title>LIVE broadcast"), "{html}");
    assert!(html.contains("mode-banner mode-live"));
    // The author sees no approve button, only why.
    assert!(html.contains("id=\"own-note\"") && !html.contains("id=\"approve-form\""));
    // A test one.
    let f = form("create", "test");
    let r = app
        .client
        .post(format!("{}/broadcasts", app.base))
        .header("cookie", &cookie)
        .form(&as_pairs(&f))
        .send()
        .await
        .unwrap();
    let test = r.headers()["location"].to_str().unwrap().to_string();
    let (_, html) = page(&app, &cookie, &test).await;
    assert!(html.contains("<title>TEST broadcast"));
    assert!(html.contains("mode-banner mode-test"));
    // The list tells them apart too.
    let (_, html) = page(&app, &cookie, "/broadcasts").await;
    assert!(
        html.contains("mode-badge mode-live") && html.contains("mode-badge mode-test"),
        "{html}"
    );
    // Another person approves through the page; the author's own form post is refused.
    let r = post_form(
        &app,
        &cookie,
        &format!("{test}/approve"),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("second person"));
    let (mcookie, mcsrf) = browser_login(&app, "monitor_coordinator", "password-123")
        .await
        .unwrap();
    let (_, html) = page(&app, &mcookie, &test).await;
    assert!(html.contains("id=\"approve-form\""));
    let r = post_form(
        &app,
        &mcookie,
        &format!("{test}/approve"),
        &[("csrf", &mcsrf)],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = page(&app, &mcookie, &test).await;
    assert!(html.contains("approved by monitor_coordinator"), "{html}");
    assert!(
        html.contains("http-equiv=\"refresh\""),
        "progress refreshes"
    );
    assert!(!html.contains(TEST_PHONE.trim_start_matches('+')));
    // The admin's stop switch is on the list page.
    let (acookie, acsrf) = browser_login(&app, "admin", "password-123").await.unwrap();
    let (_, html) = page(&app, &acookie, "/broadcasts").await;
    assert!(html.contains("STOP ALL BROADCASTING"));
    let r = post_form(
        &app,
        &acookie,
        "/broadcasts/stop",
        &[("csrf", &acsrf), ("on", "on"), ("reason", "drill")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = page(&app, &cookie, "/broadcasts").await;
    assert!(html.contains("ALL BROADCASTING IS STOPPED"));
    assert!(
        !html.contains("STOP ALL BROADCASTING"),
        "analysts hold no switch"
    );
}

#[tokio::test]
async fn admin1_names_are_read_as_the_gazetteer_names_them() {
    let app = start().await;
    let key = ContactKey::generate();
    subscribers_in(&app, &key, 4, Some("Ouaka"), 5000).await;
    subscribers_in(&app, &key, 2, Some("Mambere-Kadei"), 6000).await;
    // Case, diacritics and "Prefecture" do not matter: the stored area carries the
    // gazetteer's names, and reaches the subscribers it names.
    let area = json!({"admin1": [{"country": "caf", "name": "OUAKA Prefecture"},
                                 {"country": "CAF", "name": "Mambéré-Kadéï"}]});
    let (s, v) = app
        .post(
            Role::Analyst,
            "/api/v1/broadcasts",
            json!({"mode": "live", "texts": {"fr": "Restez chez vous."}, "area": area}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["recipients"], 6);
    let (_, b) = app
        .get(
            Role::Analyst,
            &format!("/api/v1/broadcasts/{}", v["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(
        b["area"],
        json!({"admin1": [{"country": "CAF", "name": "Ouaka"},
                          {"country": "CAF", "name": "Mambere-Kadei"}]})
    );
    // An unknown name: 422 naming the entry and the name, with what it may mean; nothing
    // written, on every route that takes an area.
    let unknown = json!({"admin1": [{"country": "CAF", "name": "Ouaka"},
                                    {"country": "CAF", "name": "Ouakka"}]});
    let (s, v) = app
        .post(
            Role::Analyst,
            "/api/v1/broadcasts",
            json!({"mode": "live", "texts": {"fr": "x"}, "area": unknown}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["field"], "area.admin1[1].name");
    let msg = v["error"].as_str().unwrap();
    assert!(
        msg.contains("\"Ouakka\"") && msg.contains("did you mean Ouaka"),
        "{msg}"
    );
    let (s, v) = app
        .post(
            Role::Analyst,
            "/api/v1/broadcasts/estimate",
            json!({"mode": "live", "area": unknown}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let q =
        serde_json::to_string(&json!({"admin1": [{"country": "CAF", "name": "Bambari"}]})).unwrap();
    let q = &serde_urlencoded::to_string([("x", q)]).unwrap()[2..];
    let (s, v) = app
        .get(
            Role::Analyst,
            &format!("/api/v1/subscribers/counts?area={q}"),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(
        v["error"].as_str().unwrap().contains("did you mean Ouaka"),
        "a town's area is suggested: {v}"
    );
    let (_, list) = app.get(Role::Analyst, "/api/v1/broadcasts").await;
    assert_eq!(list.as_array().unwrap().len(), 1, "nothing more written");

    // The composer: "Check" and "Write" both say so on the page.
    let (cookie, csrf) = browser_login(&app, "analyst", "password-123")
        .await
        .unwrap();
    for action in ["check", "create"] {
        let r = post_form(
            &app,
            &cookie,
            "/broadcasts",
            &[
                ("csrf", &csrf),
                ("mode", "live"),
                ("text_fr", "Restez chez vous."),
                ("area_kind", "admin1"),
                ("admin1", "CAF: Ouakka"),
                ("action", action),
            ],
        )
        .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{action}");
        let html = r.text().await.unwrap();
        assert!(
            html.contains("no first-level area &quot;Ouakka&quot; is known in CAF")
                || html.contains("no first-level area &#34;Ouakka&#34; is known in CAF"),
            "{action}: {html}"
        );
        assert!(html.contains("did you mean Ouaka"), "{action}");
    }
    let r = post_form(
        &app,
        &cookie,
        "/broadcasts",
        &[
            ("csrf", &csrf),
            ("mode", "live"),
            ("text_fr", "Restez chez vous."),
            ("area_kind", "admin1"),
            ("admin1", "CAF: ouaka"),
            ("action", "check"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("id=\"estimate-recipients\">4</strong>"),
        "{html}"
    );
    assert!(
        html.contains("<span id=\"estimate-areas\">Ouaka (CAF)</span>"),
        "the composer says which area it read: {html}"
    );
}

/// The composer takes "send at" in the user's time zone and the broadcast's page shows it back
/// in it (stored in UTC); a malformed time is refused naming the field. A broadcast's page
/// says its area in words and carries it for the read-only map (no JSON shown as text); the
/// list says how many there are and pages them, newest first.
#[tokio::test]
async fn send_time_in_the_users_zone_area_in_words_and_a_paged_list() {
    let app = start().await;
    let key = ContactKey::generate();
    subscribers(&app, &key, 2).await;
    let (cookie, csrf) = browser_login(&app, "analyst", "password-123")
        .await
        .unwrap();
    let r = post_form(
        &app,
        &cookie,
        "/account/time-zone",
        &[("csrf", &csrf), ("time_zone", "Africa/Khartoum")],
    )
    .await;
    assert!(r.status().is_success(), "{}", r.status());
    let (_, html) = page(&app, &cookie, "/broadcasts/new").await;
    assert!(
        html.contains("Send at (your time zone, Africa&#x2f;Khartoum"),
        "{html}"
    );
    let form = |send_at: &'static str, text: String| {
        vec![
            ("csrf", csrf.clone()),
            ("mode", "test".to_string()),
            ("text_en", text),
            ("area_kind", "circle".to_string()),
            ("lat", "5.76".to_string()),
            ("lon", "20.67".to_string()),
            ("radius_km", "20".to_string()),
            ("send_at", send_at.to_string()),
            ("action", "create".to_string()),
        ]
    };
    let send = |f: Vec<(&'static str, String)>| {
        let app = &app;
        let cookie = cookie.clone();
        async move {
            app.client
                .post(format!("{}/broadcasts", app.base))
                .header("cookie", cookie)
                .form(&f)
                .send()
                .await
                .unwrap()
        }
    };
    let r = send(form("tomorrow", "Stay home.".into())).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("send_at"));
    let r = send(form("2030-01-15T09:30", "Stay home.".into())).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let url = r.headers()["location"].to_str().unwrap().to_string();
    let id: uuid::Uuid = url.trim_start_matches("/broadcasts/").parse().unwrap();
    // Khartoum is two hours ahead of UTC.
    let stored = app.store.get_broadcast(id).await.unwrap();
    assert_eq!(
        stored.send_at.map(|t| tocsin_domain::time::format(&t)),
        Some("2030-01-15T07:30:00.000000Z".to_string())
    );
    let (_, html) = page(&app, &cookie, &url).await;
    assert!(
        html.contains("<span id=\"send-at\">2030-01-15 09:30 (Africa&#x2f;Khartoum)</span>"),
        "{html}"
    );
    assert!(
        html.contains("<p id=\"area-summary\">A circle of 20 km around 5.76000, 20.67000</p>"),
        "{html}"
    );
    assert!(html.contains("id=\"area-view\" data-area=\""), "{html}");
    assert!(html.contains("/assets/broadcast_area.js"));
    assert!(!html.contains("<code>"), "no JSON shown as text: {html}");
    let js = app
        .client
        .get(format!("{}/assets/broadcast_area.js", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(js.status(), StatusCode::OK);
    assert!(js.text().await.unwrap().contains("tocsinBasemapStyle"));

    // 54 more: the list says 55 and shows the newest 50, then the other 5.
    for i in 0..54 {
        let r = send(form("", format!("Message number {i}."))).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    let (_, html) = page(&app, &cookie, "/broadcasts").await;
    assert!(
        html.contains("<p id=\"total\">55 broadcasts; 50 on this page, newest first.</p>"),
        "{html}"
    );
    assert_eq!(html.matches("<tr id=\"broadcast-").count(), 50);
    assert!(html.contains("Message number 53."), "the newest first");
    assert!(!html.contains("Message number 3."));
    let next = html
        .split("<a href=\"")
        .find_map(|s| {
            s.split_once("\" rel=\"next\"")
                .map(|(u, _)| u.replace("&amp;", "&").replace("&#x2f;", "/"))
        })
        .expect("a link to the next page");
    let (s, html) = page(&app, &cookie, &next).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(html.matches("<tr id=\"broadcast-").count(), 5, "{html}");
    assert!(html.contains("Message number 3.") && html.contains("Stay home."));
    assert!(!html.contains("rel=\"next\""));
    // A cursor that does not read is refused, not a server error.
    let (s, html) = page(&app, &cookie, "/broadcasts?cursor=nonsense").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains("cursor"), "{html}");
}
