//! How staff are reached, over real HTTP on a real SQLite file: contact details set by oneself
//! or an admin and masked for others, the inbox and its page, and an alert's notification to
//! a recipient cleared below its label reaching a real SMTP server (Python's aiosmtpd, as in
//! the delivery layer's tests) with nothing but the link. Skipped without aiosmtpd unless
//! `TOCSIN_REQUIRE_SMTP=1`.

mod common;

use common::{browser_login, csrf_in, TestApp};
use reqwest::Method;
use serde_json::json;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use tocsin_app::notify::{notifications_for, RESTRICTED_SUBJECT};
use tocsin_delivery::smtp::{SmtpChannel, SmtpConfig, SmtpTls};
use tocsin_domain::{
    Actor, Alert, AlertOrigin, AuditEvent, Country, Role, Severity, TextDuration, Tlp,
};
use tocsin_server::AppState;
use tocsin_store::{Op, Step};

const DIGITS: &str = "700123456";

fn aiosmtpd() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        if std::env::var("TOCSIN_REQUIRE_SMTP").is_ok_and(|v| v == "1") {
            panic!(
                "TOCSIN_REQUIRE_SMTP=1 but aiosmtpd is missing: python3 -m pip install aiosmtpd"
            );
        }
        eprintln!("SKIPPED: aiosmtpd is not installed (python3 -m pip install aiosmtpd)");
    }
    ok
}

/// The delivery layer's aiosmtpd test server, killed when dropped.
struct Smtp {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Smtp {
    fn start(dir: &Path) -> Smtp {
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tocsin-delivery/tests/smtp/server.py"
        );
        let mut child = Command::new("python3")
            .args([script, dir.to_str().unwrap(), "accept", "0"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .expect("server started")
            .parse()
            .unwrap();
        Smtp {
            child,
            port,
            dir: dir.to_path_buf(),
        }
    }

    fn received(&self) -> Vec<String> {
        let mut v: Vec<_> = std::fs::read_dir(&self.dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        v.sort();
        v.iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect()
    }
}

/// A server with e-mail configured towards `smtp_port`; its state is kept to notify through.
async fn start(smtp_port: u16) -> (TestApp, AppState) {
    let kept = Arc::new(Mutex::new(None));
    let k = kept.clone();
    let app = TestApp::start_with(move |s| {
        let cfg = SmtpConfig {
            host: "127.0.0.1".into(),
            port: Some(smtp_port),
            tls: SmtpTls::None,
            username: None,
            password: None,
            from: "Tocsin <alerts@tocsin.test>".into(),
            timeout_secs: Some(5),
            subject_prefix: None,
        };
        let ch = SmtpChannel::new(&cfg, s.contact_key.clone()).unwrap();
        let s = s
            .with_sms(tocsin_server::sms::SmsConfig {
                default_region: Some("KE".parse().unwrap()),
                ..Default::default()
            })
            .with_smtp(ch)
            .with_public_url(Some("https://tocsin.example.org".into()));
        *k.lock().unwrap() = Some(s.clone());
        s
    })
    .await;
    let state = kept.lock().unwrap().take().unwrap();
    (app, state)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contacts_are_set_by_oneself_or_an_admin_and_masked_for_others() {
    let (app, state) = start(2525).await;
    // The viewer sets their own: shown back in full, the number read in the default region.
    let (s, b) = app
        .call(
            Some(Role::Viewer),
            Method::PATCH,
            "/api/v1/users/viewer",
            Some(
                json!({"email": "viewer@example.org", "phone": "0700 123 456",
                        "channels": {"moderate": ["inbox"]}}),
            ),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["phone"], "+254700123456");
    assert_eq!(b["email"], "viewer@example.org");
    assert_eq!(b["channels"]["moderate"], json!(["inbox"]));
    assert_eq!(b["channels"]["critical"], json!(["email", "sms", "inbox"]));
    // A colleague sees that there are details, never what they are.
    let (s, b) = app.get(Role::Analyst, "/api/v1/users/viewer").await;
    assert_eq!(s, 200);
    let shown = b.to_string();
    assert!(
        !shown.contains(DIGITS) && !shown.contains("viewer@example.org"),
        "{shown}"
    );
    assert_eq!(b["contacts"]["full"], false);
    assert_eq!(b["contacts"]["email"], "v•••@example.org");
    assert_eq!(
        b["reachable"], true,
        "e-mail is configured and they have an address"
    );
    // An admin and the user themself see them in full.
    for role in [Role::Admin, Role::Viewer] {
        let (_, b) = app.get(role, "/api/v1/users/viewer").await;
        assert_eq!(b["contacts"]["phone"], "+254700123456", "{role:?}");
    }
    // Nobody else changes them; bad input is a 4xx naming the field, and changes nothing.
    let (s, _) = app
        .call(
            Some(Role::Analyst),
            Method::PATCH,
            "/api/v1/users/viewer",
            Some(json!({"email": "x@example.org"})),
        )
        .await;
    assert_eq!(s, 403);
    for (body, field) in [
        (json!({"email": "not-an-address"}), "email"),
        (json!({"phone": "call me"}), "phone"),
        (
            json!({"channels": {"critical": ["pager"]}}),
            "channels.critical",
        ),
        (json!({"channels": {"urgent": ["sms"]}}), "channels"),
        (json!({"pager": "123"}), "pager"),
        (json!({"channels": ["sms"]}), "channels"),
    ] {
        let (s, b) = app
            .call(
                Some(Role::Viewer),
                Method::PATCH,
                "/api/v1/users/viewer",
                Some(body.clone()),
            )
            .await;
        assert!(s.is_client_error(), "{body}: {s}");
        let named = b["field"].as_str().unwrap_or("").contains(field)
            || b["error"].as_str().unwrap().contains(field);
        assert!(named, "{body}: {b}");
    }
    let (_, b) = app.get(Role::Viewer, "/api/v1/users/viewer").await;
    assert_eq!(b["contacts"]["email"], "viewer@example.org");
    let (s, _) = app.get(Role::Viewer, "/api/v1/users/nobody-such").await;
    assert_eq!(s, 404);
    // The number is in no response to another user, no audit entry, and not in the file.
    let (_, audit) = app.get(Role::Admin, "/api/v1/audit?limit=500").await;
    assert!(!audit.to_string().contains(DIGITS));
    drop(state);
    let db = app._dir.path().join("t.db");
    for f in [db.clone(), db.with_extension("db-wal")] {
        if let Ok(bytes) = std::fs::read(&f) {
            assert!(
                !bytes.windows(DIGITS.len()).any(|w| w == DIGITS.as_bytes()),
                "{}",
                f.display()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_amber_alert_reaches_a_green_recipient_as_only_a_link_by_email_and_inbox() {
    if !aiosmtpd() {
        return;
    }
    let mail = tempfile::tempdir().unwrap();
    let smtp = Smtp::start(mail.path());
    let (app, state) = start(smtp.port).await;
    let (s, _) = app
        .call(
            Some(Role::Viewer),
            Method::PATCH,
            "/api/v1/users/viewer",
            Some(json!({"email": "viewer@example.org"})),
        )
        .await;
    assert_eq!(s, 200);
    let viewer = app.store.get_user_by_name("viewer").await.unwrap();
    assert_eq!(viewer.clearance, Tlp::Green);
    let (mut alert, _) = Alert::open(
        "Militia massing near Bambari market",
        Severity::High,
        Tlp::Amber,
        uuid::Uuid::now_v7(),
        AlertOrigin::ByHand("analyst".into()),
        vec![],
        TextDuration::parse("ack_within", "30m").unwrap(),
        chrono::Utc::now(),
        "analyst",
    )
    .unwrap();
    alert.country = Some(Country::parse("CAF").unwrap());
    let link = format!("https://tocsin.example.org/alerts/{}", alert.id);
    for _ in 0..2 {
        let steps = notifications_for(
            &state.app(),
            &alert,
            std::slice::from_ref(&viewer),
            "opened",
            chrono::Utc::now(),
        )
        .await
        .unwrap();
        assert_eq!(steps.len(), 2, "high: e-mail and inbox");
        assert!(steps
            .iter()
            .all(|s| matches!(s, Step::EnqueueOnce(_) | Step::AddInboxItem(_))));
        let actor = Actor::system("alerts");
        let op = Op::All {
            steps,
            audit: Box::new(AuditEvent::new(
                &actor,
                "alert.notify",
                "alert",
                Some(alert.id.to_string()),
            )),
        };
        app.store.write(&actor, op).await.unwrap();
    }
    let p = state.delivery.pass().await.unwrap();
    assert_eq!(p.backlog, Some(0));
    let got = smtp.received();
    assert_eq!(got.len(), 1, "notified twice, sent once: {got:?}");
    let m = &got[0];
    assert!(m.starts_with("X-Rcpt-To: viewer@example.org"), "{m}");
    assert!(m.contains(&format!("Subject: {RESTRICTED_SUBJECT}")), "{m}");
    assert!(m.contains(&link), "{m}");
    for leak in [
        "Militia",
        "Bambari",
        "CAF",
        "Central African",
        "AMBER",
        "high",
    ] {
        assert!(!m.contains(leak), "{leak} in {m}");
    }

    // The inbox over the API: the same words, unread, marked read only by its owner.
    let (s, b) = app.get(Role::Viewer, "/api/v1/inbox").await;
    assert_eq!(s, 200);
    assert_eq!(b["unread"], 1);
    assert_eq!(b["items"][0]["subject"], RESTRICTED_SUBJECT);
    assert_eq!(b["items"][0]["link"], link);
    let id = b["items"][0]["id"].as_str().unwrap().to_string();
    let (_, other) = app.get(Role::Analyst, "/api/v1/inbox").await;
    assert_eq!(other["items"], json!([]));
    let path = format!("/api/v1/inbox/{id}/read");
    let (s, _) = app
        .call(Some(Role::Analyst), Method::POST, &path, None)
        .await;
    assert_eq!(s, 404);

    // The pages: the header counts it, the inbox lists it, the mark-read form works.
    let (cookie, _) = browser_login(&app, "viewer", "password-123").await.unwrap();
    let get = |path: &str| {
        app.client
            .get(format!("{}{path}", app.base))
            .header("cookie", &cookie)
            .send()
    };
    let html = get("/incidents").await.unwrap().text().await.unwrap();
    assert!(html.contains("Inbox (1 unread)"), "{html}");
    let html = get("/inbox").await.unwrap().text().await.unwrap();
    assert!(html.contains(RESTRICTED_SUBJECT), "{html}");
    assert!(
        html.contains(&format!("alerts&#x2f;{}", alert.id)),
        "{html}"
    );
    let csrf = csrf_in(&html);
    let r = app
        .client
        .post(format!("{}/inbox/{id}/read", app.base))
        .header("cookie", &cookie)
        .form(&[("csrf", "wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "a wrong CSRF token is refused");
    let r = app
        .client
        .post(format!("{}/inbox/{id}/read", app.base))
        .header("cookie", &cookie)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (_, b) = app.get(Role::Viewer, "/api/v1/inbox").await;
    assert_eq!(b["unread"], 0);
    assert!(b["items"][0]["read_at"].is_string());
    let html = get("/incidents").await.unwrap().text().await.unwrap();
    assert!(!html.contains("unread)"), "{html}");

    // The account page: the form shows one's own details and saves them.
    let html = get("/account").await.unwrap().text().await.unwrap();
    assert!(html.contains("viewer@example.org"), "{html}");
    let csrf = csrf_in(&html);
    let r = app
        .client
        .post(format!("{}/account", app.base))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", "viewer@example.org"),
            ("phone", "+254 700 123 456"),
            ("channel", "critical:sms"),
            ("channel", "critical:inbox"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("Saved."));
    let (_, b) = app.get(Role::Viewer, "/api/v1/users/viewer").await;
    assert_eq!(b["contacts"]["phone"], "+254700123456");
    assert_eq!(
        b["contacts"]["channels"]["critical"],
        json!(["sms", "inbox"])
    );
    assert_eq!(b["contacts"]["channels"]["high"], json!([]));
    let r = app
        .client
        .post(format!("{}/account", app.base))
        .header("cookie", &cookie)
        .form(&[("csrf", csrf.as_str()), ("email", "nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("email"));

    // An admin sets another user's contacts on the same form, linked from the users page;
    // anyone else is refused it, without learning who exists.
    let (_, viewer) = app.get(Role::Viewer, "/api/v1/users/viewer").await;
    let viewer_id = viewer["user"]["id"]
        .as_str()
        .or(viewer["id"].as_str())
        .unwrap()
        .to_string();
    let (admin_cookie, _) = browser_login(&app, "admin", "password-123").await.unwrap();
    let admin_get = |path: String| {
        app.client
            .get(format!("{}{path}", app.base))
            .header("cookie", &admin_cookie)
            .send()
    };
    let users = admin_get("/admin/users".into())
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let form_path = format!("/admin/users/{viewer_id}/contacts");
    assert!(
        users.contains(&form_path.replace('/', "&#x2f;")) || users.contains(&form_path),
        "{users}"
    );
    let r = admin_get(form_path.clone()).await.unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("Contacts of viewer"), "{html}");
    assert!(html.contains("viewer@example.org"), "{html}");
    let csrf = csrf_in(&html);
    let r = app
        .client
        .post(format!("{}{form_path}", app.base))
        .header("cookie", &admin_cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", "viewer@ministry.example.org"),
            ("phone", ""),
            ("channel", "critical:email"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("Saved."));
    let (_, b) = app.get(Role::Viewer, "/api/v1/users/viewer").await;
    assert_eq!(b["contacts"]["email"], "viewer@ministry.example.org");
    assert_eq!(b["contacts"]["phone"], serde_json::Value::Null);
    assert_eq!(b["contacts"]["channels"]["critical"], json!(["email"]));
    // The viewer may not open an admin's form (nor a made-up user's): 403 for both.
    let (_, admin) = app.get(Role::Admin, "/api/v1/users/admin").await;
    let admin_id = admin["user"]["id"]
        .as_str()
        .or(admin["id"].as_str())
        .unwrap()
        .to_string();
    for id in [admin_id, uuid::Uuid::new_v4().to_string()] {
        let r = get(&format!("/admin/users/{id}/contacts")).await.unwrap();
        assert_eq!(r.status(), 403, "{id}");
    }
}
