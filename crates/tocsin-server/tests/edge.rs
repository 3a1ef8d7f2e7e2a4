//! The HTTP edge against a real server: where a login may send the browser, the public form's
//! rate limit (valid submissions only, per client through trusted proxies), caching and HTTPS
//! headers, and what the server does with slow, half-sent and surplus connections.

mod common;

use common::*;
use reqwest::StatusCode;
use std::time::Duration;
use tocsin_domain::Role;
use tocsin_server::edge::Edge;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A bound on how long a test waits for something that should happen much sooner, so that a
/// broken server fails the test instead of hanging it.
const PATIENCE: Duration = Duration::from_secs(30);

fn edge(header_secs: u64, request_secs: u64, max_connections: usize) -> Edge {
    Edge {
        header_timeout: Duration::from_secs(header_secs),
        request_timeout: Duration::from_secs(request_secs),
        max_connections,
        https: false,
    }
}

fn addr(app: &TestApp) -> String {
    app.base.trim_start_matches("http://").to_string()
}

/// Read from `s` until the server closes the connection; what it sent.
async fn read_until_closed(s: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    tokio::time::timeout(PATIENCE, s.read_to_end(&mut buf))
        .await
        .expect("the server should have closed the connection")
        .ok();
    String::from_utf8_lossy(&buf).into_owned()
}

/// Read one response's head from `s`: its status code.
async fn read_status(s: &mut TcpStream) -> std::io::Result<u16> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if s.read(&mut byte).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buf);
    Ok(head.split(' ').nth(1).unwrap().parse().unwrap())
}

/// A full `GET /healthz` on a raw connection.
const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: tocsin\r\n\r\n";

#[tokio::test]
async fn login_redirect_never_leaves_the_site() {
    let app = TestApp::start().await;
    let login = |next: &'static str| {
        let app = &app;
        async move {
            let page = app
                .client
                .get(format!("{}/login", app.base))
                .send()
                .await
                .unwrap();
            let cookie = first_cookie(&page);
            let csrf = csrf_in(&page.text().await.unwrap());
            let r = app
                .client
                .post(format!("{}/login", app.base))
                .header("cookie", cookie)
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("username", "analyst"),
                    ("password", "password-123"),
                    ("next", next),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::SEE_OTHER, "{next:?}");
            r.headers()["location"].as_bytes().to_vec()
        }
    };
    assert_eq!(login("/map?country=CAF").await, b"/map?country=CAF");
    // Browsers strip tabs and line breaks from a Location and read `\` as `/`: each of these
    // would take the freshly logged-in browser to evil.example.
    for next in [
        "/\t/evil.example",
        "/\n/evil.example",
        "//evil.example",
        "/\\evil.example",
        "https://evil.example/",
    ] {
        assert_eq!(login(next).await, b"/incidents", "{next:?}");
    }
    // The login page does not carry such a `next` into its form either.
    let html = app
        .client
        .get(format!("{}/login?next=/%09/evil.example", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.contains("evil.example"), "{html}");
}

/// Post the public form as a fresh browser would: its own CSRF cookie and token, optionally
/// from behind a proxy that names the client in `X-Forwarded-For`.
async fn report(app: &TestApp, text: &str, forwarded_for: Option<&str>) -> StatusCode {
    let page = app
        .client
        .get(format!("{}/report", app.base))
        .send()
        .await
        .unwrap();
    let cookie = first_cookie(&page);
    let csrf = csrf_in(&page.text().await.unwrap());
    let mut req = app
        .client
        .post(format!("{}/report", app.base))
        .header("cookie", cookie)
        .form(&[("csrf", csrf.as_str()), ("text", text)]);
    if let Some(ip) = forwarded_for {
        req = req.header("x-forwarded-for", ip);
    }
    req.send().await.unwrap().status()
}

#[tokio::test]
async fn form_limit_counts_only_valid_submissions() {
    let app = TestApp::start().await;
    let page = app
        .client
        .get(format!("{}/report", app.base))
        .send()
        .await
        .unwrap();
    let cookie = first_cookie(&page);
    let csrf = csrf_in(&page.text().await.unwrap());
    // 20 posts that are not reports: unreadable, forged, empty or oversized.
    let too_long = "x".repeat(10_001);
    for i in 0..20 {
        let (body, expect) = match i % 4 {
            0 => ("nonsense".to_string(), StatusCode::BAD_REQUEST),
            1 => (
                format!("csrf=forged&text=men+with+guns+{i}"),
                StatusCode::FORBIDDEN,
            ),
            2 => (
                format!("csrf={csrf}&text=+++"),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            _ => (
                format!("csrf={csrf}&text={too_long}"),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
        };
        let s = app
            .client
            .post(format!("{}/report", app.base))
            .header("cookie", &cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(s, expect, "junk post {i}");
    }
    // Real reporters from the same address are still heard: 10 reports in ten minutes...
    for i in 0..10 {
        assert_eq!(
            report(&app, &format!("Armed men seen near Bria, report {i}"), None).await,
            StatusCode::OK,
            "valid report {i}"
        );
    }
    // ...and the eleventh is refused, without being stored.
    assert_eq!(
        report(&app, "One report too many", None).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    let (_, list) = app
        .get(Role::Analyst, "/api/v1/reports?channel=web&limit=100")
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 10);
}

#[tokio::test]
async fn form_limit_is_per_client_behind_a_trusted_proxy_only() {
    // The test client connects from 127.0.0.1: here that is a trusted proxy.
    let proxied =
        TestApp::start_with(|s| s.with_trusted_proxies(vec!["127.0.0.1/32".parse().unwrap()]))
            .await;
    for _ in 0..10 {
        assert_eq!(
            report(&proxied, "Shots heard", Some("198.51.100.1")).await,
            StatusCode::OK
        );
    }
    assert_eq!(
        report(&proxied, "Shots heard", Some("198.51.100.1")).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Another client behind the same proxy has its own budget; a forged entry to the left
    // of the one the proxy appended does not buy a new one.
    assert_eq!(
        report(&proxied, "Shots heard", Some("198.51.100.2")).await,
        StatusCode::OK
    );
    assert_eq!(
        report(&proxied, "Shots heard", Some("203.0.113.5, 198.51.100.1")).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // From a peer that is not a trusted proxy the header changes nothing.
    let direct = TestApp::start().await;
    for i in 0..10 {
        let ip = format!("198.51.100.{}", i + 1);
        assert_eq!(
            report(&direct, "Shots heard", Some(&ip)).await,
            StatusCode::OK
        );
    }
    assert_eq!(
        report(&direct, "Shots heard", Some("198.51.100.99")).await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn api_answers_and_errors_are_never_cached() {
    let app = TestApp::start().await;
    let src = app.store.get_source_by_handle("M-0001").await.unwrap();
    let token = &app.tokens[&Role::MonitorCoordinator];
    let cases = [
        // The contact answer: a warner's phone number.
        (format!("/api/v1/sources/{}/contact", src.id), true, 200),
        (format!("/api/v1/sources/{}", src.id), true, 200),
        ("/api/v1/me".to_string(), true, 200),
        ("/api/v1/openapi.json".to_string(), false, 200),
        ("/api/v1/me".to_string(), false, 401),
        ("/api/v1/no-such-thing".to_string(), true, 404),
        (
            "/api/v1/reports/00000000-0000-0000-0000-000000000000".to_string(),
            true,
            404,
        ),
        ("/api/v1/incidents?limit=nope".to_string(), true, 422),
    ];
    for (path, auth, status) in cases {
        let mut req = app.client.get(format!("{}{path}", app.base));
        if auth {
            req = req.bearer_auth(token);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), status, "{path}");
        assert_eq!(r.headers()["cache-control"], "no-store", "{path}");
    }
    let r = app
        .client
        .post(format!("{}/api/v1/incidents", app.base))
        .bearer_auth(token)
        .json(&serde_json::json!({"bogus": 1}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error());
    assert_eq!(r.headers()["cache-control"], "no-store");
    // Static assets may still be cached.
    let r = app
        .client
        .get(format!("{}/assets/tocsin.css", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["cache-control"], "public, max-age=3600");
}

#[tokio::test]
async fn https_adds_hsts_and_the_csp_forbids_base_changes() {
    let plain = TestApp::start().await;
    let secure = TestApp::start_with(|mut s| {
        s.secure_cookies = true;
        s.with_edge(Edge {
            https: true,
            ..Edge::default()
        })
    })
    .await;
    for path in ["/login", "/healthz", "/api/v1/me", "/report", "/nowhere"] {
        let r = secure
            .client
            .get(format!("{}{path}", secure.base))
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.headers()["strict-transport-security"],
            "max-age=31536000",
            "{path}"
        );
        let csp = r.headers()["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("base-uri 'none'"), "{path}: {csp}");
        let r = plain
            .client
            .get(format!("{}{path}", plain.base))
            .send()
            .await
            .unwrap();
        assert!(r.headers().get("strict-transport-security").is_none());
    }
    let r = secure
        .client
        .get(format!("{}/login", secure.base))
        .send()
        .await
        .unwrap();
    assert!(r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .ends_with("; Secure"));
}

#[tokio::test]
async fn half_sent_requests_are_cut_off_after_the_header_timeout() {
    let app = TestApp::start_with(|s| s.with_edge(edge(1, 60, 64))).await;
    // Half a request line, then silence: the server hangs up (it may say 408 first).
    let mut s = TcpStream::connect(addr(&app)).await.unwrap();
    s.write_all(b"GET /healthz HT").await.unwrap();
    let said = read_until_closed(&mut s).await;
    assert!(
        said.is_empty() || said.starts_with("HTTP/1.1 408"),
        "{said}"
    );
    // Headers begun but never finished: the same.
    let mut s = TcpStream::connect(addr(&app)).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: tocsin\r\nX-Slow: ")
        .await
        .unwrap();
    let said = read_until_closed(&mut s).await;
    assert!(
        said.is_empty() || said.starts_with("HTTP/1.1 408"),
        "{said}"
    );
    // A connection that says nothing at all is closed too.
    let mut s = TcpStream::connect(addr(&app)).await.unwrap();
    read_until_closed(&mut s).await;
    // Whole requests are served, several on one kept-alive connection.
    let mut s = TcpStream::connect(addr(&app)).await.unwrap();
    for _ in 0..3 {
        s.write_all(HEALTHZ).await.unwrap();
        assert_eq!(read_status(&mut s).await.unwrap(), 200);
        let mut body = [0u8; 15];
        s.read_exact(&mut body).await.unwrap();
        assert_eq!(&body, br#"{"status":"ok"}"#);
    }
}

#[tokio::test]
async fn stalled_bodies_are_refused_and_slow_requests_time_out() {
    let app = TestApp::start_with(|s| s.with_edge(edge(1, 3, 64))).await;
    let head = "POST /report HTTP/1.1\r\nHost: tocsin\r\n\
                Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n";
    // A body that stops coming: refused once it has paused for the header timeout.
    let mut s = TcpStream::connect(addr(&app)).await.unwrap();
    s.write_all(format!("{head}csrf=x&text=").as_bytes())
        .await
        .unwrap();
    let status = tokio::time::timeout(PATIENCE, read_status(&mut s))
        .await
        .expect("a stalled body must be answered")
        .unwrap();
    assert_eq!(status, 400);
    // A body that trickles in without ever pausing that long: cut off by the request timeout.
    let s = TcpStream::connect(addr(&app)).await.unwrap();
    let (mut rd, mut wr) = s.into_split();
    wr.write_all(head.as_bytes()).await.unwrap();
    let trickle = tokio::spawn(async move {
        for _ in 0..1000 {
            if wr.write_all(b"x").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    tokio::time::timeout(PATIENCE, async {
        while !head.ends_with(b"\r\n\r\n") {
            assert_eq!(
                rd.read(&mut byte).await.unwrap(),
                1,
                "closed without answer"
            );
            head.push(byte[0]);
        }
    })
    .await
    .expect("a slow request must be answered");
    assert!(
        head.starts_with(b"HTTP/1.1 503"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    trickle.abort();
    // The server still serves others.
    let r = app
        .client
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn past_the_connection_limit_new_connections_wait() {
    let app = TestApp::start_with(|s| s.with_edge(edge(30, 60, 2))).await;
    // Two idle connections take both places.
    let held_a = TcpStream::connect(addr(&app)).await.unwrap();
    let _held_b = TcpStream::connect(addr(&app)).await.unwrap();
    // A third connects (the kernel queues it) but is not served while they are held.
    let mut third = TcpStream::connect(addr(&app)).await.unwrap();
    third.write_all(HEALTHZ).await.unwrap();
    let waited = tokio::time::timeout(Duration::from_secs(1), read_status(&mut third)).await;
    assert!(waited.is_err(), "served beyond max_connections: {waited:?}");
    // When one of them goes, the waiting connection is served.
    drop(held_a);
    let status = tokio::time::timeout(PATIENCE, read_status(&mut third))
        .await
        .expect("the queued connection must be served once a place is free")
        .unwrap();
    assert_eq!(status, 200);
}

#[tokio::test]
async fn shutdown_finishes_requests_in_flight_then_stops_listening() {
    let mut app = TestApp::start().await;
    // A request whose body is still coming when shutdown begins.
    let mut s = TcpStream::connect(addr(&app)).await.unwrap();
    let body = "csrf=forged&text=late";
    s.write_all(
        format!(
            "POST /report HTTP/1.1\r\nHost: tocsin\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\ncsrf=",
            body.len()
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let _ = app.shutdown.take().unwrap().send(());
    // New connections are refused once the listener is gone...
    let mut refused = false;
    for _ in 0..100 {
        if TcpStream::connect(addr(&app)).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(refused, "still accepting connections after shutdown");
    // ...while the request in flight gets its answer.
    s.write_all(&body.as_bytes()[5..]).await.unwrap();
    let status = tokio::time::timeout(PATIENCE, read_status(&mut s))
        .await
        .expect("the request in flight must be answered")
        .unwrap();
    assert_eq!(status, 403);
}
