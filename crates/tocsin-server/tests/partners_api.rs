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

/// Open the partner's page as an admin (`cookie`), check it previews what would cross, and
/// approve its terms there as previewed; the page after.
async fn approve_on_page(app: &TestApp, cookie: &str, name: &str) -> String {
    let url = format!("{}/partners/{}", app.base, name.replace(' ', "%20"));
    let r = app
        .client
        .get(&url)
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let html = r.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("id=\"preview-counts\""), "{html}");
    let marker = "name=\"terms\" value=\"";
    let at = html.find(marker).expect("the terms digest") + marker.len();
    let digest = html[at..at + html[at..].find('"').unwrap()].to_string();
    let r = app
        .client
        .post(&url)
        .header("cookie", cookie)
        .form(&[
            ("csrf", csrf_in(&html)),
            ("action", "approve".into()),
            ("terms", digest),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"terms-state\">approved"), "{html}");
    html
}

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
    // Nothing is sent before an admin approves the partner's terms on its page.
    let r = ask("Foreign ministry").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("approves its terms"));
    approve_on_page(&app, &admin, "Foreign ministry").await;
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

/// Two installations set each other up on their `/partners` pages (keys, partners, a token
/// issued by one and kept by the other), then an analyst of the first presses "Exchange now" on
/// `/share`: its verified incident reaches the second and the second's reaches it, and the page
/// says what went each way. Pressing again sends and brings nothing new.
#[tokio::test]
async fn partners_exchange_from_the_web_pages() {
    use tocsin_domain::incident::IncidentInput;
    use tocsin_domain::{Actor, Incident, Tlp, VerificationStatus};
    use tocsin_store::StoreExt;
    let (a, b) = (TestApp::start().await, TestApp::start().await);
    let verified = |text: &str| {
        let mut i = Incident::parse(IncidentInput {
            event_date: "2026-11-01".into(),
            event_type: "Violence against civilians".into(),
            sub_event_type: "Attack".into(),
            country: "CAF".into(),
            latitude: 5.76,
            longitude: 20.67,
            fatalities: 2,
            description: text.into(),
            tlp: Tlp::Green,
            credibility: Some(2),
            ..Default::default()
        })
        .unwrap();
        i.verification_status = VerificationStatus::Verified;
        i
    };
    a.store
        .create_incident(&Actor::system("test"), verified("WEB-FROM-A"))
        .await
        .unwrap();
    b.store
        .create_incident(&Actor::system("test"), verified("WEB-FROM-B"))
        .await
        .unwrap();
    let get = |app: &TestApp, cookie: &str, path: &str| {
        let r = app
            .client
            .get(format!("{}{path}", app.base))
            .header("cookie", cookie);
        async move {
            let r = r.send().await.unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let post = |app: &TestApp, cookie: &str, path: &str, form: Vec<(&str, String)>| {
        let r = app
            .client
            .post(format!("{}{path}", app.base))
            .header("cookie", cookie)
            .form(&form);
        async move {
            let r = r.send().await.unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let own_key = |html: &str| {
        let at = html.find("id=\"own-key\"").unwrap();
        let rest = &html[at..];
        let start = rest.find("<code>").unwrap() + 6;
        rest[start..start + rest[start..].find("</code>").unwrap()]
            .replace("&#x2f;", "/")
            .replace("&#x3d;", "=")
            .replace("&#x2b;", "+")
    };
    let (admin_a, _) = browser_login(&a, "admin", "password-123").await.unwrap();
    let (admin_b, _) = browser_login(&b, "admin", "password-123").await.unwrap();
    let (_, html_a) = get(&a, &admin_a, "/partners").await;
    let (_, html_b) = get(&b, &admin_b, "/partners").await;
    let add = |url: &str, key: String, name: &str, csrf: String| {
        vec![
            ("csrf", csrf),
            ("action", "add".into()),
            ("name", name.into()),
            ("url", url.into()),
            ("key", key),
            ("max_tlp", "TLP:GREEN".into()),
            ("countries", "".into()),
        ]
    };
    let (s, _) = post(
        &a,
        &admin_a,
        "/partners",
        add(
            &b.base,
            own_key(&html_b),
            "Installation B",
            csrf_in(&html_a),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, html) = post(
        &b,
        &admin_b,
        "/partners",
        add(
            &a.base,
            own_key(&html_a),
            "Installation A",
            csrf_in(&html_b),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{html}");
    approve_on_page(&a, &admin_a, "Installation B").await;
    approve_on_page(&b, &admin_b, "Installation A").await;
    // B issues A a token (shown once), A keeps it.
    let (s, html) = post(
        &b,
        &admin_b,
        "/partners",
        vec![
            ("csrf", csrf_in(&html)),
            ("action", "issue_token".into()),
            ("name", "Installation A".into()),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{html}");
    let at = html.find("tsp_").expect("the token is shown once");
    let token: String = html[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    let (_, html) = get(&b, &admin_b, "/partners").await;
    assert!(!html.contains(&token), "shown once only");
    let (_, html) = get(&a, &admin_a, "/partners").await;
    let (s, html) = post(
        &a,
        &admin_a,
        "/partners",
        vec![
            ("csrf", csrf_in(&html)),
            ("action", "push_token".into()),
            ("name", "Installation B".into()),
            ("token", token.clone()),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(!html.contains(&token), "a kept token is never shown again");

    // An analyst of A exchanges now.
    let (analyst, _) = browser_login(&a, "analyst", "password-123").await.unwrap();
    let (s, html) = get(&a, &analyst, "/share").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("id=\"partner-sync\""), "{html}");
    let csrf = csrf_in(&html);
    let (s, html) = post(&a, &analyst, "/share/sync", vec![("csrf", csrf.clone())]).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    let result = &html[html.find("id=\"sync-result\"").expect("a result")..];
    assert!(result.contains("Installation B"), "{result}");
    assert!(
        result.contains("1 incidents and 0 retractions in 1 pages"),
        "{result}"
    );
    assert!(result.contains("1 pages: 1 new"), "{result}");
    let held = |app: &TestApp, text: &'static str| {
        let store = app.store.clone();
        async move {
            let page = store
                .list_incidents(
                    &tocsin_domain::IncidentFilter {
                        max_tlp: Tlp::Red,
                        ..Default::default()
                    },
                    tocsin_domain::page::PageRequest::default(),
                )
                .await
                .unwrap();
            page.items.iter().filter(|i| i.description == text).count()
        }
    };
    assert_eq!(held(&b, "WEB-FROM-A").await, 1);
    assert_eq!(held(&a, "WEB-FROM-B").await, 1);
    // Again: nothing new either way.
    let (s, html) = post(&a, &analyst, "/share/sync", vec![("csrf", csrf)]).await;
    assert_eq!(s, StatusCode::OK);
    let result = &html[html.find("id=\"sync-result\"").unwrap()..];
    assert!(
        result.contains("0 incidents and 0 retractions in 0 pages; 1 held already"),
        "{result}"
    );
    assert!(result.contains("1 pages: 0 new"), "{result}");
    assert_eq!(held(&b, "WEB-FROM-A").await, 1);
    assert_eq!(held(&a, "WEB-FROM-B").await, 1);
}

/// Sharing groups and records naming partners in the web UI: an admin makes a group on
/// `/partners` (a name that is a partner's is refused and said); an analyst opens an
/// AMBER+STRICT incident, sees the "Shared with" panel with the partners and groups, ticks the
/// group and saves: the page says it goes only to it, and the API answers the same; a name that
/// is no partner's is refused on the page. The partner's page previews the record, and once
/// descriptions are withheld shows it without its description, to approve again. A viewer's incident page has no such panel, and the
/// analyst's page of a received incident neither.
#[tokio::test]
async fn sharing_groups_and_records_naming_partners_on_the_web_pages() {
    use tocsin_domain::incident::IncidentInput;
    use tocsin_domain::{Actor, Incident, Tlp, VerificationStatus};
    use tocsin_store::StoreExt;
    let app = TestApp::start().await;
    let send = |cookie: String, path: String, form: Option<Vec<(&'static str, String)>>| {
        let app = &app;
        async move {
            let url = format!("{}{path}", app.base);
            let r = match form {
                Some(f) => app.client.post(url).form(&f),
                None => app.client.get(url),
            };
            let r = r.header("cookie", cookie).send().await.unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let (admin, _) = browser_login(&app, "admin", "password-123").await.unwrap();
    let (_, html) = send(admin.clone(), "/partners".into(), None).await;
    assert!(html.contains("id=\"no-groups\""), "{html}");
    let csrf = csrf_in(&html);
    for name in ["UN office", "NGO"] {
        let (s, html) = send(
            admin.clone(),
            "/partners".into(),
            Some(vec![
                ("csrf", csrf.clone()),
                ("action", "add".into()),
                ("name", name.into()),
                ("url", "https://tocsin.partner.example".into()),
                ("key", SigningKey::generate().public_key().to_string()),
                ("max_tlp", "TLP:AMBER".into()),
                ("countries", "".into()),
            ]),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{html}");
    }
    let (s, html) = send(
        admin.clone(),
        "/partners".into(),
        Some(vec![
            ("csrf", csrf.clone()),
            ("action", "group_add".into()),
            ("name", "NGO".into()),
            ("members", "UN office".into()),
        ]),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{html}");
    assert!(
        html.contains("is a partner&#x27;s name") || html.contains("is a partner's name"),
        "{html}"
    );
    let (s, html) = send(
        admin.clone(),
        "/partners".into(),
        Some(vec![
            ("csrf", csrf.clone()),
            ("action", "group_add".into()),
            ("name", "Focal points".into()),
            ("members", "UN office".into()),
            ("members", "NGO".into()),
        ]),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(html.contains("<td>Focal points</td>"), "{html}");
    assert!(
        html.contains("value=\"NGO\" checked") && html.contains("value=\"UN office\" checked"),
        "{html}"
    );
    // Its members changed on the page: the NGO leaves.
    let (s, html) = send(
        admin.clone(),
        "/partners".into(),
        Some(vec![
            ("csrf", csrf.clone()),
            ("action", "group_members".into()),
            ("name", "Focal points".into()),
            ("members", "UN office".into()),
        ]),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(html.contains("Members of Focal points saved."), "{html}");
    assert!(!html.contains("value=\"NGO\" checked"), "{html}");

    let mut i = Incident::parse(IncidentInput {
        event_date: "2026-11-01".into(),
        event_type: "Violence against civilians".into(),
        sub_event_type: "Attack".into(),
        country: "CAF".into(),
        latitude: 5.76,
        longitude: 20.67,
        fatalities: 2,
        description: "STRICT on the web".into(),
        tlp: Tlp::AmberStrict,
        credibility: Some(2),
        ..Default::default()
    })
    .unwrap();
    i.verification_status = VerificationStatus::Verified;
    let id = app
        .store
        .create_incident(&Actor::system("test"), i)
        .await
        .unwrap()
        .id;
    let (analyst, _) = browser_login(&app, "analyst", "password-123")
        .await
        .unwrap();
    let page = format!("/incidents/{id}");
    let (s, html) = send(analyst.clone(), page.clone(), None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("id=\"shared-with\"") && html.contains("value=\"Focal points\""),
        "{html}"
    );
    assert!(html.contains("To every partner its label allows"), "{html}");
    let csrf = csrf_in(&html);
    let (s, html) = send(
        analyst.clone(),
        format!("{page}/share-with"),
        Some(vec![
            ("csrf", csrf.clone()),
            ("share_with", "Nobody".into()),
        ]),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        html.contains("no partner nor sharing group named"),
        "{html}"
    );
    let (s, _) = send(
        analyst.clone(),
        format!("{page}/share-with"),
        Some(vec![
            ("csrf", csrf.clone()),
            ("share_with", "Focal points".into()),
        ]),
    )
    .await;
    assert!(s.is_success() || s.is_redirection(), "{s}");
    let (_, html) = send(analyst.clone(), page.clone(), None).await;
    assert!(html.contains("Only to: Focal points"), "{html}");
    assert!(html.contains("value=\"Focal points\" checked"), "{html}");
    let api: serde_json::Value = app
        .client
        .get(format!("{}/api/v1/incidents/{id}/share-with", app.base))
        .bearer_auth(&app.tokens[&Role::Analyst])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(api, json!({"share_with": ["Focal points"]}));

    // The partner's page previews what would cross to it: the record naming its group. An
    // admin withholds descriptions: the preview shows the record without it, and the terms
    // wait for approval again.
    let (s, html) = send(admin.clone(), "/partners/UN%20office".into(), None).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(
        html.contains("STRICT on the web") && html.contains("1 incidents, 0 retractions"),
        "{html}"
    );
    assert!(html.contains("Not approved"), "{html}");
    let (s, html) = send(
        admin.clone(),
        "/partners/UN%20office".into(),
        Some(vec![
            ("csrf", csrf_in(&html)),
            ("action", "redact".into()),
            ("redact", "description".into()),
        ]),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(!html.contains("STRICT on the web"), "{html}");
    assert!(
        html.contains("Withheld by the origin organisation."),
        "{html}"
    );
    assert!(html.contains("value=\"description\" checked"), "{html}");
    approve_on_page(&app, &admin, "UN office").await;

    // Removing the group on /partners leaves the record naming none.
    let (_, html) = send(admin.clone(), "/partners".into(), None).await;
    let (s, _) = send(
        admin.clone(),
        "/partners".into(),
        Some(vec![
            ("csrf", csrf_in(&html)),
            ("action", "group_remove".into()),
            ("name", "Focal points".into()),
        ]),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (_, html) = send(analyst.clone(), page.clone(), None).await;
    assert!(html.contains("To every partner its label allows"), "{html}");

    // No panel for someone who does not share.
    let (mco, _) = browser_login(&app, "monitor_coordinator", "password-123")
        .await
        .unwrap();
    let (s, html) = send(mco, page.clone(), None).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(!html.contains("id=\"shared-with\""));
}

/// Records other than incidents on the web pages: an analyst marks an action shareable on its
/// situation's plan (a viewer sees no such control), also over the API (a label above
/// TLP:AMBER 422, a viewer 403); the STIX export carries it as a course of action; received
/// from elsewhere, it is listed on `/share/received` with its origin, read-only, and the
/// analyst keeps a note on it there (a viewer reads it without the form).
#[tokio::test]
async fn other_records_on_the_web_pages() {
    let app = TestApp::start().await;
    let send = |cookie: String, path: String, form: Option<Vec<(&'static str, String)>>| {
        let app = &app;
        async move {
            let url = format!("{}{path}", app.base);
            let r = match form {
                Some(f) => app.client.post(url).form(&f),
                None => app.client.get(url),
            };
            let r = r.header("cookie", cookie).send().await.unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    // A partner limited to some kinds of record, from the page's form.
    let (admin, _) = browser_login(&app, "admin", "password-123").await.unwrap();
    let (_, html) = send(admin.clone(), "/partners".into(), None).await;
    let (s, html) = send(
        admin.clone(),
        "/partners".into(),
        Some(vec![
            ("csrf", csrf_in(&html)),
            ("action", "add".into()),
            ("name", "Rumour watch".into()),
            ("url", "https://tocsin.partner.example".into()),
            ("key", SigningKey::generate().public_key().to_string()),
            ("max_tlp", "TLP:AMBER".into()),
            ("countries", "".into()),
            ("kinds", "rumour".into()),
            ("kinds", "action".into()),
        ]),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(
        html.contains("<td class=\"kinds\">rumours, actions</td>"),
        "{html}"
    );
    let (s, v) = app
        .post(
            Role::Analyst,
            "/api/v1/situations",
            json!({"name": "CAR north-west", "country": "CAF", "tlp": "TLP:GREEN"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let sit = v["id"].as_str().unwrap().to_string();
    let (s, v) = app
        .post(
            Role::Analyst,
            "/api/v1/actions",
            json!({"measure_id": "poc_peacekeeping", "situation_id": sit,
                "department": "foreign affairs", "lead": "analyst", "due_date": "2026-12-31"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let action = v["id"].as_str().unwrap().to_string();

    // The plan page: analysts set the label, viewers only read it.
    let (analyst, _) = browser_login(&app, "analyst", "password-123")
        .await
        .unwrap();
    let (viewer, _) = browser_login(&app, "viewer", "password-123").await.unwrap();
    let plan = format!("/situations/{sit}/actions");
    let (s, html) = send(analyst.clone(), plan.clone(), None).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(
        html.contains("share-action") && html.contains("not shared"),
        "{html}"
    );
    let (s, _) = send(
        analyst.clone(),
        format!("/actions/{action}/share"),
        Some(vec![("csrf", csrf_in(&html)), ("tlp", "TLP:GREEN".into())]),
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, html) = send(viewer.clone(), plan.clone(), None).await;
    assert!(
        html.contains("class=\"shared\"><span class=\"tlp") && !html.contains("share-action"),
        "{html}"
    );
    let path = format!("/api/v1/actions/{action}/share");
    let (s, v) = app.get(Role::Viewer, &path).await;
    assert_eq!(
        (s, v["tlp"].as_str()),
        (StatusCode::OK, Some("TLP:GREEN")),
        "{v}"
    );
    let (s, v) = app
        .call(
            Some(Role::Analyst),
            Method::PUT,
            &path,
            Some(json!({"tlp": "TLP:RED"})),
        )
        .await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("tlp")),
        "{v}"
    );
    let (s, _) = app
        .call(
            Some(Role::Viewer),
            Method::PUT,
            &path,
            Some(json!({"tlp": null})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // Out as STIX, then received from "Elsewhere": listed with its origin.
    let r = app
        .client
        .get(format!("{}/api/v1/share/stix?max_tlp=TLP:AMBER", app.base))
        .bearer_auth(&app.tokens[&Role::Analyst])
        .send()
        .await
        .unwrap();
    let bundle = r.bytes().await.unwrap().to_vec();
    let text = String::from_utf8_lossy(&bundle).to_string();
    assert!(text.contains("\"course-of-action\""), "{text}");
    assert!(!text.contains("\"lead\""), "{text}");
    let (s, v) = app
        .raw_post(
            "/api/v1/share/stix?from=Elsewhere",
            "application/stix+json",
            bundle,
        )
        .await;
    assert_eq!((s, v["created"].as_u64()), (StatusCode::OK, Some(1)), "{v}");
    let (s, v) = app.get(Role::Viewer, "/api/v1/share/received").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let item = &v[0];
    assert_eq!(item["item"]["kind"], "action", "{v}");
    assert_eq!(item["received"]["origin"], "Elsewhere", "{v}");
    let id = item["id"].as_str().unwrap().to_string();
    let title = item["item"]["title"].as_str().unwrap().to_string();

    let (s, html) = send(analyst.clone(), "/share/received".into(), None).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(
        html.contains(&title) && html.contains("From Elsewhere"),
        "{html}"
    );
    let (s, _) = send(
        analyst.clone(),
        format!("/share/received/{id}/note"),
        Some(vec![
            ("csrf", csrf_in(&html)),
            ("note", "Raised with the mission on Monday.".into()),
        ]),
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, html) = send(viewer.clone(), "/share/received".into(), None).await;
    assert!(
        html.contains("Raised with the mission on Monday.") && !html.contains("note-form"),
        "{html}"
    );
    let (s, v) = app
        .call(
            Some(Role::Analyst),
            Method::PUT,
            &format!("/api/v1/share/received/{id}/note"),
            Some(json!({"note": "x".repeat(6000)})),
        )
        .await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("note")),
        "{v}"
    );
    let (s, _) = app
        .call(
            Some(Role::Viewer),
            Method::PUT,
            &format!("/api/v1/share/received/{id}/note"),
            Some(json!({"note": "mine"})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // The limited partner's page: what it takes, and the shared action in its preview.
    let (s, html) = send(admin.clone(), "/partners/Rumour%20watch".into(), None).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(
        html.contains("id=\"partner-kinds\">rumours, actions</dd>")
            && html.contains("id=\"preview-items\"")
            && html.contains("Action: 1"),
        "{html}"
    );
}
