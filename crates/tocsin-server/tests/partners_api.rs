//! Partner organisations over HTTP (issue 20, part 1): `GET`/`POST /api/v1/partners` and
//! `DELETE /api/v1/partners/{name}` for admins only (every other role 403, nothing written), a
//! TLP:RED ceiling and a bad key refused naming the field, a name taken 409, the routes in the
//! OpenAPI document; the `/partners` page lists partners, adds one from its form and removes
//! it with its button, and is refused to an analyst, whose menu does not link it.

mod common;

use common::{browser_login, csrf_in, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::json;
use tocsin_domain::{Role, SigningKey};

fn body(name: &str, max_tlp: &str) -> serde_json::Value {
    json!({"name": name, "url": "https://tocsin.un.example",
        "key": SigningKey::generate().public_key().to_string(),
        "max_tlp": max_tlp, "countries": ["CAF", "ken"]})
}

#[tokio::test]
async fn partners_over_the_api_for_admins_only() {
    let app = TestApp::start().await;
    for role in [
        Role::Analyst,
        Role::DeskOfficer,
        Role::MonitorCoordinator,
        Role::Viewer,
    ] {
        let (s, _) = app
            .post(role, "/api/v1/partners", body("UN office", "TLP:AMBER"))
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{role:?}");
        assert_eq!(
            app.get(role, "/api/v1/partners").await.0,
            StatusCode::FORBIDDEN
        );
        let (s, _) = app
            .call(
                Some(role),
                Method::DELETE,
                "/api/v1/partners/UN%20office",
                None,
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    }
    let (s, v) = app.get(Role::Admin, "/api/v1/partners").await;
    assert_eq!((s, v), (StatusCode::OK, json!([])));
    let (s, v) = app
        .post(
            Role::Admin,
            "/api/v1/partners",
            body("UN office", "TLP:AMBER"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["max_tlp"], "TLP:AMBER");
    assert_eq!(v["countries"], json!(["CAF", "KEN"]));
    let (s, _) = app
        .post(
            Role::Admin,
            "/api/v1/partners",
            body("UN office", "TLP:GREEN"),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, v) = app
        .post(Role::Admin, "/api/v1/partners", body("Red", "TLP:RED"))
        .await;
    assert!(s.is_client_error(), "{s}");
    assert_eq!(v["field"], "max_tlp", "{v}");
    let mut bad = body("Bad key", "TLP:GREEN");
    bad["key"] = json!("not-a-key");
    let (s, v) = app.post(Role::Admin, "/api/v1/partners", bad).await;
    assert!(s.is_client_error(), "{s}");
    assert_eq!(v["field"], "key", "{v}");
    let (_, v) = app.get(Role::Admin, "/api/v1/partners").await;
    assert_eq!(v.as_array().unwrap().len(), 1);
    let (s, _) = app
        .call(
            Some(Role::Admin),
            Method::DELETE,
            "/api/v1/partners/UN%20office",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = app
        .call(
            Some(Role::Admin),
            Method::DELETE,
            "/api/v1/partners/UN%20office",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, doc) = app.get(Role::Admin, "/api/v1/openapi.json").await;
    assert!(doc["paths"]["/api/v1/partners"]["post"].is_object());
    assert!(doc["paths"]["/api/v1/partners/{name}"]["delete"].is_object());
}

#[tokio::test]
async fn the_partners_page() {
    let app = TestApp::start().await;
    let (cookie, _) = browser_login(&app, "admin", "password-123").await.unwrap();
    let get = |cookie: String| {
        let app = &app;
        async move {
            let r = app
                .client
                .get(format!("{}/partners", app.base))
                .header("cookie", cookie)
                .send()
                .await
                .unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let (s, html) = get(cookie.clone()).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(html.contains("id=\"no-partners\"") && html.contains("href=\"/partners\""));
    let csrf = csrf_in(&html);
    let key = SigningKey::generate().public_key().to_string();
    let post = |form: Vec<(&'static str, String)>| {
        let (app, cookie) = (&app, cookie.clone());
        async move {
            let r = app
                .client
                .post(format!("{}/partners", app.base))
                .header("cookie", cookie)
                .form(&form)
                .send()
                .await
                .unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let (s, html) = post(vec![
        ("csrf", csrf.clone()),
        ("action", "add".into()),
        ("name", "Foreign ministry".into()),
        ("url", "https://tocsin.mfa.example".into()),
        ("key", key.clone()),
        ("max_tlp", "TLP:RED".into()),
        ("countries", "".into()),
    ])
    .await;
    assert!(s.is_client_error(), "{s}");
    assert!(html.contains("aria-invalid"), "the ceiling named");
    let (s, html) = post(vec![
        ("csrf", csrf.clone()),
        ("action", "add".into()),
        ("name", "Foreign ministry".into()),
        ("url", "https://tocsin.mfa.example".into()),
        ("key", key.clone()),
        ("max_tlp", "TLP:GREEN".into()),
        ("countries", "CAF, KEN".into()),
    ])
    .await;
    assert_eq!(s, StatusCode::OK);
    // Nothing exchanged with it yet.
    assert!(
        html.contains("<td class=\"sent\">0 (retracted: 0)</td>"),
        "{html}"
    );
    // The key as the page escapes it (minijinja writes `/` as `&#x2f;`).
    let shown = key.replace('/', "&#x2f;");
    assert!(
        html.contains("Foreign ministry") && html.contains(&shown) && html.contains("CAF, KEN")
    );
    let (s, html) = post(vec![
        ("csrf", csrf.clone()),
        ("action", "remove".into()),
        ("name", "Foreign ministry".into()),
    ])
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("id=\"no-partners\""));
    // A wrong CSRF token changes nothing.
    let (s, _) = post(vec![
        ("csrf", "nope".into()),
        ("action", "add".into()),
        ("name", "X".into()),
    ])
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    let (cookie, _) = browser_login(&app, "analyst", "password-123")
        .await
        .unwrap();
    let (s, html) = get(cookie).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(!html.contains("href=\"/partners\""));
}

/// Signed bundles in the web UI: the `/partners` page shows this installation's public key
/// (what a partner adds); on `/share` an analyst downloads the signed bundle for a partner
/// (the file `tocsin share export` writes: header line, then the STIX payload) and uploads a
/// partner's bundle, which is checked whole first: one made for another installation stores
/// nothing and says why; an unknown partner is named as refused.
#[tokio::test]
async fn signed_bundles_from_the_share_page() {
    let app = TestApp::start().await;
    let (admin, _) = browser_login(&app, "admin", "password-123").await.unwrap();
    let page = |cookie: String, path: &'static str| {
        let app = &app;
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
    let (s, html) = page(admin.clone(), "/partners").await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(html.contains("id=\"own-key\""), "{html}");
    let partner_key = SigningKey::generate();
    let r = app
        .client
        .post(format!("{}/partners", app.base))
        .header("cookie", admin.clone())
        .form(&[
            ("csrf", csrf_in(&html)),
            ("action", "add".into()),
            ("name", "Foreign ministry".into()),
            ("url", "https://tocsin.mfa.example".into()),
            ("key", partner_key.public_key().to_string()),
            ("max_tlp", "TLP:GREEN".into()),
            ("countries", "".into()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    let (analyst, _) = browser_login(&app, "analyst", "password-123")
        .await
        .unwrap();
    let (s, html) = page(analyst.clone(), "/share").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("id=\"bundle-export\""), "{html}");
    let csrf = csrf_in(&html);
    let ask = |partner: &'static str| {
        let (app, cookie, csrf) = (&app, analyst.clone(), csrf.clone());
        async move {
            app.client
                .post(format!("{}/share/bundle", app.base))
                .header("cookie", cookie)
                .form(&[("csrf", csrf), ("partner", partner.into())])
                .send()
                .await
                .unwrap()
        }
    };
    let r = ask("Foreign ministry").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/vnd.tocsin.bundle");
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("Foreign-ministry.tocsin"));
    let bundle = r.bytes().await.unwrap().to_vec();
    let first = bundle.split(|b| *b == b'\n').next().unwrap();
    let header: serde_json::Value = serde_json::from_slice(first).unwrap();
    assert_eq!(header["format"], "tocsin-bundle");
    assert_eq!(header["partner"], "Foreign ministry");
    // No such partner: the page again, with the reason.
    let r = ask("Nobody").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(html.contains("role=\"alert\""), "{html}");

    // The bundle was made for the partner, not for this installation: refused whole.
    let upload = reqwest::multipart::Form::new()
        .text("csrf", csrf.clone())
        .text("from", "Foreign ministry")
        .part(
            "file",
            reqwest::multipart::Part::bytes(bundle).file_name("b.tocsin"),
        );
    let r = app
        .client
        .post(format!("{}/share", app.base))
        .header("cookie", analyst.clone())
        .multipart(upload)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(html.contains("Nothing was stored"), "{html}");
    assert!(!html.contains("id=\"stix-result\""), "{html}");
}
