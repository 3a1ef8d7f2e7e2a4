//! CAP 1.2, the public Atom feed and flow metrics over real HTTP: every served message read
//! back by `oasiscap`, the feed by `atom_syndication`; an alert above the caller's clearance
//! is 404; the feed says nothing of alerts not labelled TLP:CLEAR; the metrics route and page
//! show hand-checkable figures.

mod common;

use common::{browser_login, TestApp};
use oasiscap::v1dot2 as cap;
use serde_json::{json, Value};
use tocsin_domain::Role;

const BASE: &str = "https://tocsin.example.org";

fn parse(xml: &str) -> cap::Alert {
    match xml.parse::<oasiscap::Alert>() {
        Ok(oasiscap::Alert::V1dot2(a)) => a,
        Ok(other) => panic!("not CAP 1.2: {other:?}\n{xml}"),
        Err(e) => panic!("oasiscap refused the message: {e}\n{xml}"),
    }
}

async fn start() -> TestApp {
    TestApp::start_with(|s| {
        let site = tocsin_app::cap::Site::new("tocsin@example.org", BASE)
            .unwrap()
            .with_sender_name("Example Ministry");
        // E-mail is configured, so a desk officer with an address is reachable.
        let mut s = s.with_cap_site(site, BASE);
        s.channels = std::sync::Arc::new(tocsin_app::notify::Channels {
            email: true,
            ..Default::default()
        });
        s
    })
    .await
}

async fn raw(app: &TestApp, role: Option<Role>, path: &str) -> (u16, String, String) {
    let mut req = app.client.get(format!("{}{}", app.base, path));
    if let Some(r) = role {
        req = req.bearer_auth(&app.tokens[&r]);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let ctype = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, ctype, resp.text().await.unwrap())
}

async fn seed(app: &TestApp) -> (String, Value, Value, Value) {
    let (s, b) = app
        .call(
            Some(Role::Admin),
            reqwest::Method::PATCH,
            "/api/v1/users/desk_officer",
            Some(json!({"email": "officer@example.org"})),
        )
        .await;
    assert_eq!(s, 200, "{b}");
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
    let raise = |title: &str, tlp: &str| json!({"title": title, "severity": "high", "tlp": tlp, "country": "MLI"});
    let (_, clear) = app
        .post(
            Role::Analyst,
            "/api/v1/alerts",
            raise("Militia massing near Gao", "TLP:CLEAR"),
        )
        .await;
    let (_, green) = app
        .post(
            Role::Analyst,
            "/api/v1/alerts",
            raise("Checkpoint closures", "TLP:GREEN"),
        )
        .await;
    let (_, amber) = app
        .post(
            Role::Analyst,
            "/api/v1/alerts",
            raise("Secret militia plan", "TLP:AMBER"),
        )
        .await;
    (
        desk["id"].as_str().unwrap().to_string(),
        clear,
        green,
        amber,
    )
}

#[tokio::test]
async fn cap_messages_and_the_public_feed_parse_and_leak_nothing() {
    let app = start().await;
    let (_, clear, green, amber) = seed(&app).await;
    let id = |v: &Value| v["id"].as_str().unwrap().to_string();
    let (clear, green, amber) = (id(&clear), id(&green), id(&amber));
    // The CLEAR alert goes through its life: acknowledged, action decided.
    for step in ["acknowledge", "decide"] {
        let (s, b) = app
            .post(
                Role::DeskOfficer,
                &format!("/api/v1/alerts/{clear}/{step}"),
                json!({}),
            )
            .await;
        assert_eq!(s, 200, "{b}");
    }

    let (s, ctype, xml) = raw(
        &app,
        Some(Role::Viewer),
        &format!("/api/v1/alerts/{clear}/cap"),
    )
    .await;
    assert_eq!(s, 200, "{xml}");
    assert_eq!(ctype, "application/cap+xml");
    let m = parse(&xml);
    assert_eq!(m.sender.as_str(), "tocsin@example.org");
    assert_eq!(m.scope, cap::Scope::Public);
    assert_eq!(m.message_type, cap::MessageType::Update);
    assert_eq!(m.identifier.as_str(), tocsin_cap_identifier(&clear, 2));
    let refs: Vec<String> = m
        .references
        .as_ref()
        .unwrap()
        .iter()
        .map(|r| r.identifier.as_str().to_string())
        .collect();
    assert_eq!(
        refs,
        vec![
            tocsin_cap_identifier(&clear, 0),
            tocsin_cap_identifier(&clear, 1)
        ],
        "the latest message references the earlier ones"
    );
    let info = &m.info[0];
    assert_eq!(info.severity, cap::Severity::Severe);
    assert_eq!(info.areas[0].description, "Mali");
    assert_eq!(
        info.web.as_ref().map(|u| u.to_string()),
        Some(format!("{BASE}/alerts/{clear}"))
    );
    // Served again: the same message.
    let (_, _, again) = raw(
        &app,
        Some(Role::Viewer),
        &format!("/api/v1/alerts/{clear}/cap"),
    )
    .await;
    assert_eq!(again, xml);

    // GREEN: Restricted; AMBER: Private to the desk, and 404 to a GREEN-cleared viewer.
    let (s, _, xml) = raw(
        &app,
        Some(Role::Viewer),
        &format!("/api/v1/alerts/{green}/cap"),
    )
    .await;
    assert_eq!(s, 200);
    let g = parse(&xml);
    assert_eq!(g.scope, cap::Scope::Restricted);
    assert_eq!(g.message_type, cap::MessageType::Alert);
    assert!(g.references.is_none());
    let (s, _, body) = raw(
        &app,
        Some(Role::Viewer),
        &format!("/api/v1/alerts/{amber}/cap"),
    )
    .await;
    assert_eq!(s, 404, "{body}");
    assert!(!body.contains("Secret"));
    let (s, _, xml) = raw(
        &app,
        Some(Role::Analyst),
        &format!("/api/v1/alerts/{amber}/cap"),
    )
    .await;
    assert_eq!(s, 200);
    let a = parse(&xml);
    assert_eq!(a.scope, cap::Scope::Private);
    let addrs: Vec<String> = a
        .addresses
        .as_ref()
        .unwrap()
        .iter()
        .map(|i| i.to_string())
        .collect();
    assert_eq!(addrs, vec!["Sahel desk"]);
    let (s, _, _) = raw(&app, None, &format!("/api/v1/alerts/{clear}/cap")).await;
    assert_eq!(s, 401);
    let (s, _, body) = raw(&app, Some(Role::Viewer), "/api/v1/alerts/not-an-id/cap").await;
    assert_eq!(s, 400, "{body}");

    // The public feed, without login: the CLEAR alert only.
    let (s, ctype, xml) = raw(&app, None, "/cap/alerts.atom").await;
    assert_eq!(s, 200, "{xml}");
    assert_eq!(ctype, "application/atom+xml");
    let feed: atom_syndication::Feed = xml.parse().unwrap_or_else(|e| panic!("{e}\n{xml}"));
    assert_eq!(feed.id, format!("{BASE}/cap/alerts.atom"));
    assert_eq!(feed.entries.len(), 1);
    assert_eq!(feed.entries[0].id, tocsin_cap_identifier(&clear, 2));
    assert_eq!(feed.entries[0].title.as_str(), "Militia massing near Gao");
    for hidden in [&green, &amber] {
        assert!(!xml.contains(hidden.as_str()), "another alert's id leaked");
    }
    for hidden in ["Checkpoint", "Secret", "TLP:GREEN", "TLP:AMBER"] {
        assert!(!xml.contains(hidden), "{hidden} leaked:\n{xml}");
    }
    // The linked message is the one served, read by the viewer.
    let cap_link = feed.entries[0]
        .links
        .iter()
        .find(|l| l.mime_type.as_deref() == Some("application/cap+xml"))
        .unwrap();
    assert_eq!(cap_link.href, format!("{BASE}/api/v1/alerts/{clear}/cap"));
}

/// The identifier tocsin-cap gives message `n` of the alert `id`.
fn tocsin_cap_identifier(id: &str, n: u32) -> String {
    tocsin_app::cap::identifier(id.parse().unwrap(), n)
}

#[tokio::test]
async fn flow_metrics_route_and_page() {
    let app = start().await;
    let (desk, clear, _, _) = seed(&app).await;
    let clear = clear["id"].as_str().unwrap().to_string();
    let (s, b) = app
        .post(
            Role::DeskOfficer,
            &format!("/api/v1/alerts/{clear}/acknowledge"),
            json!({}),
        )
        .await;
    assert_eq!(s, 200, "{b}");

    // The viewer (GREEN) sees two alerts, the analyst three; one was acknowledged.
    let (s, v) = app.get(Role::Viewer, "/api/v1/metrics/flow").await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["overall"]["alerts"], 2);
    assert_eq!(v["overall"]["alert_to_acknowledgement"]["count"], 1);
    assert_eq!(v["overall"]["alert_to_acknowledgement"]["not_measured"], 1);
    assert_eq!(v["overall"]["response_within_72h"]["pending"], 2);
    assert_eq!(v["desk_names"][&desk], "Sahel desk");
    let (_, v) = app.get(Role::Analyst, "/api/v1/metrics/flow").await;
    assert_eq!(v["overall"]["alerts"], 3);
    let (s, v) = app
        .get(Role::Analyst, &format!("/api/v1/metrics/flow?desk={desk}"))
        .await;
    assert_eq!((s.as_u16(), v["desks"].as_array().unwrap().len()), (200, 1));
    for (q, field) in [
        ("desk=nope", "desk"),
        ("situation=nope", "situation"),
        ("colour=red", "colour"),
    ] {
        let (s, e) = app
            .get(Role::Analyst, &format!("/api/v1/metrics/flow?{q}"))
            .await;
        assert!(s.is_client_error(), "{q}: {s} {e}");
        assert_eq!(e["field"].as_str(), Some(field), "{e}");
    }
    let (s, e) = app
        .get(
            Role::Analyst,
            &format!("/api/v1/metrics/flow?desk={}", uuid::Uuid::now_v7()),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["field"].as_str()),
        (400, Some("desk")),
        "{e}"
    );

    // The page: linked from the header, a table per desk and per situation, no JavaScript.
    let (cookie, _) = browser_login(&app, "viewer", "password-123").await.unwrap();
    let page = |path: String| {
        let (client, base, cookie) = (app.client.clone(), app.base.clone(), cookie.clone());
        async move {
            let r = client
                .get(format!("{base}{path}"))
                .header("cookie", cookie)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (s, html) = page("/metrics".into()).await;
    assert_eq!(s, 200, "{html}");
    assert!(html.contains("href=\"/metrics\""), "linked from the header");
    assert!(html.contains("<h2>Per desk</h2>") && html.contains("<h2>Per situation</h2>"));
    assert!(html.contains("<td>Sahel desk</td><td>2</td>"), "{html}");
    assert!(html.contains("(no situation)"));
    assert!(!html.contains("<script"), "works without JavaScript");
    assert!(!html.contains("Secret"));
    let (s, html) = page(format!("/metrics?desk={desk}&situation=")).await;
    assert_eq!(s, 200, "{html}");
    assert!(
        html.contains(&format!("<option value=\"{desk}\" selected>")),
        "{html}"
    );
    let (s, _) = page("/metrics?desk=nope".into()).await;
    assert_eq!(s, 400);
    // Without a session: to the login page.
    let r = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
}
