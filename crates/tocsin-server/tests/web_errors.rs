//! How the web pages refuse: every refusal is a page in the site's frame (the user's menu
//! still there) with the right status, and a form's CSRF token is checked before anything else.

mod common;

use common::{browser_login, TestApp};
use reqwest::StatusCode;
use tocsin_domain::{Role, Tlp};

#[tokio::test]
async fn refusals_are_friendly_pages_in_the_sites_frame() {
    let app = TestApp::start().await;
    let i = app
        .incident(
            Tlp::Red,
            "CAF",
            "2024-10-07",
            7.2,
            17.4,
            ("Battles", "Armed clash"),
        )
        .await;
    let (viewer, viewer_csrf) = browser_login(&app, "viewer", "password-123").await.unwrap();
    let (analyst, csrf) = browser_login(&app, "analyst", "password-123")
        .await
        .unwrap();
    let get = |cookie: &str, path: String| {
        let req = app
            .client
            .get(format!("{}{path}", app.base))
            .header("cookie", cookie);
        async move {
            let r = req.send().await.unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let post = |cookie: &str, path: String, form: Vec<(&'static str, String)>| {
        let req = app
            .client
            .post(format!("{}{path}", app.base))
            .header("cookie", cookie)
            .form(&form);
        async move {
            let r = req.send().await.unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let framed =
        |html: &str, user: &str| html.contains(&format!("{user} · ")) && html.contains("<form");

    // Above the viewer's clearance: as absent; an id that is no id: the same.
    for path in [format!("/incidents/{}", i.id), "/incidents/nonsense".into()] {
        let (s, html) = get(&viewer, path.clone()).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
        assert!(
            html.contains("Not found") && framed(&html, "viewer"),
            "{html}"
        );
        assert!(!html.contains("TLP:RED"), "{html}");
    }
    // A role without the permission: 403, in the frame.
    let (s, html) = get(&viewer, "/admin/users".into()).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(
        html.contains("Not allowed") && framed(&html, "viewer"),
        "{html}"
    );
    let (s, html) = post(
        &viewer,
        format!("/incidents/{}/edit", i.id),
        vec![("csrf", viewer_csrf.clone())],
    )
    .await;
    assert!(s.is_client_error() && framed(&html, "viewer"), "{s} {html}");

    // A form without its token, or with another session's, is refused before it is read.
    let edit = format!("/incidents/{}/edit", i.id);
    for token in [None, Some(viewer_csrf.clone())] {
        let mut form = vec![("expected_version", "1".to_string())];
        if let Some(t) = token {
            form.push(("csrf", t));
        }
        let (s, html) = post(&analyst, edit.clone(), form).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        assert!(
            html.contains("security token is missing or wrong") && framed(&html, "analyst"),
            "{html}"
        );
    }
    // With the right token, a form that is not this page's is a 400 page; nothing changes.
    let (s, html) = post(
        &analyst,
        edit.clone(),
        vec![("csrf", csrf.clone()), ("colour", "red".into())],
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        html.contains("invalid form") && framed(&html, "analyst"),
        "{html}"
    );
    let (_, v) = app
        .get(Role::Analyst, &format!("/api/v1/incidents/{}", i.id))
        .await;
    assert_eq!(v["version"], i.version, "{v}");
}
