//! Transfers between two installations in signed pages, cut midway and resumed, through the
//! real binary: A on a SQLite file, B served on PostgreSQL (a SQLite file when
//! `TOCSIN_TEST_POSTGRES_URL` is unset; required with `TOCSIN_REQUIRE_POSTGRES=1`), A reaching B
//! through a proxy in this test that can cut the connection after a number of requests.
//!
//! - A pull of one record per page cut after its first page keeps that page; the next pull
//!   resumes after it (the two others, each once), and the one after brings only what changed
//!   on B since (one new incident, one page).
//! - A push of one record per page cut after its first page keeps that page recorded as sent;
//!   the next push sends only the two others, each stored once at B.
//! - `tocsin serve` with `TOCSIN_SHARE_SYNC_MINUTES` exchanges on its own: a new verified
//!   incident of A reaches B, and B's new one reaches A, without a command; so does a rumour
//!   each side records (listed by `tocsin share received` on the other).
//! - A's incidents were recorded from a warner's text message: no byte that crossed the proxy
//!   in the whole run carries the warner's handle, number, words or report id.

mod common;

use common::*;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

const SECRET: &str = "kannel-inbound-secret-0123456789";
const WORDS: &str = "WARNERWORDS attaque au marche de Bozoum";

/// Add a verified GREEN incident whose description starts with `tag`; answers its id.
fn verified(
    on: &dyn Fn(&[&str]) -> std::process::Command,
    dir: &Path,
    user: &str,
    tag: &str,
    report: Option<&str>,
) -> String {
    let reports = report.map_or(String::new(), |r| format!(r#", "report_ids": ["{r}"]"#));
    let file = dir.join(format!("{tag}.json"));
    std::fs::write(
        &file,
        format!(
            r#"{{"event_date": "2026-11-20", "event_type": "Violence against civilians",
                "sub_event_type": "Attack", "country": "CAF", "latitude": 5.76,
                "longitude": 20.67, "fatalities": 1, "description": "{tag} village attacked",
                "tlp": "TLP:GREEN"{reports}}}"#
        ),
    )
    .unwrap();
    let mut add = on(&["incident", "add", "--user", user, "--file"]);
    add.arg(&file);
    let id = run_ok(add).lines().last().unwrap().trim().to_string();
    for state in ["corroborated", "verified"] {
        run_ok(on(&[
            "incident", "verify", &id, "--user", user, "--state", state, "--reason", "seen",
        ]));
    }
    id
}

/// A proxy to `target` that answers 503 to bundle requests once `allowed` of them passed, and
/// keeps every byte that crossed it (requests and answers).
struct Cutter {
    base: String,
    allowed: Arc<AtomicUsize>,
    seen: Arc<std::sync::Mutex<Vec<u8>>>,
}

async fn cutter(target: String) -> Cutter {
    use axum::body::Bytes;
    use axum::http::{HeaderMap, Method, StatusCode, Uri};
    use axum::response::IntoResponse;
    let allowed = Arc::new(AtomicUsize::new(usize::MAX));
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (left, kept) = (allowed.clone(), seen.clone());
    let client = reqwest::Client::new();
    let app = axum::Router::new().fallback(
        move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let (left, client, target, kept) =
                (left.clone(), client.clone(), target.clone(), kept.clone());
            async move {
                kept.lock()
                    .unwrap()
                    .extend_from_slice(uri.to_string().as_bytes());
                for (k, v) in headers.iter() {
                    kept.lock()
                        .unwrap()
                        .extend_from_slice(k.as_str().as_bytes());
                    kept.lock().unwrap().extend_from_slice(v.as_bytes());
                }
                kept.lock().unwrap().extend_from_slice(&body);
                let n = left.load(Ordering::SeqCst);
                if n == 0 {
                    return (StatusCode::SERVICE_UNAVAILABLE, Vec::new()).into_response();
                }
                if n != usize::MAX {
                    left.store(n - 1, Ordering::SeqCst);
                }
                let mut req = client.request(method, format!("{target}{uri}")).body(body);
                for (k, v) in headers.iter() {
                    if k != "host" && k != "content-length" {
                        req = req.header(k, v);
                    }
                }
                let r = req.send().await.unwrap();
                let status = StatusCode::from_u16(r.status().as_u16()).unwrap();
                let answer = r.bytes().await.unwrap().to_vec();
                kept.lock().unwrap().extend_from_slice(&answer);
                (status, answer).into_response()
            }
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Cutter {
        base,
        allowed,
        seen,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfers_in_pages_resume_after_a_cut_and_sync_on_a_schedule() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    let pg = fresh_postgres("tocsin_partner_sync").await;
    let bdb = pg.as_deref();
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let write_cfg = |dir: &Path, org: &str| {
        let cfg = dir.join("tocsin.toml");
        std::fs::write(
            &cfg,
            format!(
                "[organisation]\nname = \"{org}\"\n[verification]\nrequired_tasks = []\n\
                 [sms]\ndefault_calling_code = \"236\"\n[sms.kannel]\n\
                 sendsms_url = \"http://{dead}/cgi-bin/sendsms\"\nusername = \"tocsin\"\n\
                 password = \"pw\"\nfrom = \"1234\"\ninbound_secret = \"{SECRET}\"\n"
            ),
        )
        .unwrap();
        cfg.display().to_string()
    };
    let (cfg_a, cfg_b) = (
        write_cfg(&a, "Early Warning NGO"),
        write_cfg(&b, "UN office"),
    );
    let on_a = |args: &[&str]| {
        let mut all = vec!["--config", cfg_a.as_str()];
        all.extend_from_slice(args);
        tocsin(&a, None, &all)
    };
    run_ok(tocsin(&b, bdb, &["migrate"]));
    let on_b = |args: &[&str]| {
        let mut all = vec!["--config", cfg_b.as_str()];
        all.extend_from_slice(args);
        tocsin(&b, bdb, &all)
    };
    let ana = add_user(&a, None, "ana", "analyst");
    add_user(&b, bdb, "uma", "analyst");
    // A warner texts A; A's incidents are recorded from that report.
    let (handle, report) = {
        let a_server = Server::spawn({
            let mut c = on_a(&["serve", "--listen", "127.0.0.1:0"]);
            c.stderr(std::process::Stdio::inherit());
            c
        });
        let base = a_server.base.clone();
        let r = reqwest::get(format!(
            "{base}/sms/kannel?secret={SECRET}&sender=%2B23670012345&to=1234&id=k-1&message={}",
            WORDS.replace(' ', "+")
        ))
        .await
        .unwrap();
        assert_eq!(r.status(), 200);
        let get = |path: &str| {
            reqwest::Client::new()
                .get(format!("{base}{path}"))
                .bearer_auth(&ana)
                .send()
        };
        let sources: serde_json::Value =
            get("/api/v1/sources").await.unwrap().json().await.unwrap();
        let reports: serde_json::Value =
            get("/api/v1/reports").await.unwrap().json().await.unwrap();
        (
            sources["items"][0]["handle"].as_str().unwrap().to_string(),
            reports["items"][0]["id"].as_str().unwrap().to_string(),
        )
    };
    for n in 1..=3 {
        verified(&on_a, &a, "ana", &format!("FROM-A-{n}"), Some(&report));
        verified(&on_b, &b, "uma", &format!("FROM-B-{n}"), None);
    }
    let server = Server::spawn({
        let mut c = on_b(&["serve", "--listen", "127.0.0.1:0"]);
        c.stderr(std::process::Stdio::inherit());
        c
    });
    let proxy = cutter(server.base.clone()).await;
    let key_a = run_ok(on_a(&["share", "key"])).trim().to_string();
    let key_b = run_ok(on_b(&["share", "key"])).trim().to_string();
    run_ok(on_a(&[
        "partner",
        "add",
        "UN office",
        "--url",
        &proxy.base,
        "--key",
        &key_b,
        "--max-tlp",
        "TLP:AMBER",
    ]));
    run_ok(on_b(&[
        "partner",
        "add",
        "Early Warning NGO",
        "--url",
        "http://127.0.0.1:9",
        "--key",
        &key_a,
        "--max-tlp",
        "TLP:GREEN",
    ]));
    approve_terms(on_a, "UN office");
    approve_terms(on_b, "Early Warning NGO");
    let token = run_ok(on_b(&["partner", "token", "Early Warning NGO"]))
        .trim()
        .to_string();
    run_ok(on_a(&[
        "partner",
        "push-token",
        "UN office",
        "--token",
        &token,
    ]));
    let held = |dir: &Path, db: Option<&str>, tag: &str| {
        exported_csv(dir, db, "TLP:AMBER").matches(tag).count()
    };

    // A pull of one record per page, cut after its first page: that page is kept.
    proxy.allowed.store(1, Ordering::SeqCst);
    let pull = |extra: &[&str]| {
        let mut args = vec![
            "share",
            "pull",
            "--partner",
            "UN office",
            "--page-records",
            "1",
        ];
        args.extend_from_slice(extra);
        code(on_a(&args))
    };
    let (c, out, err) = pull(&[]);
    assert_eq!(c, 2, "{out}{err}");
    assert!(err.contains("503"), "{err}");
    assert_eq!(held(&a, None, "FROM-B-"), 1);
    // Resumed after it: the two others, each once.
    proxy.allowed.store(usize::MAX, Ordering::SeqCst);
    let (c, out, err) = pull(&[]);
    assert_eq!(c, 0, "{out}{err}");
    assert!(
        out.starts_with("created 2, updated 0, retracted 0, unchanged 0"),
        "{out}"
    );
    assert!(err.contains("pulled 2 pages"), "{err}");
    for n in 1..=3 {
        assert_eq!(held(&a, None, &format!("FROM-B-{n} ")), 1, "FROM-B-{n}");
    }
    // Then only what changed on B since: one new incident, one page.
    verified(&on_b, &b, "uma", "FROM-B-4", None);
    let (c, out, err) = pull(&[]);
    assert_eq!(c, 0, "{out}{err}");
    assert!(
        out.starts_with("created 1, updated 0, retracted 0, unchanged 0"),
        "{out}"
    );
    assert!(err.contains("pulled 1 pages"), "{err}");
    assert_eq!(held(&a, None, "FROM-B-"), 4);

    // A push of one record per page, cut after its first page: that page stays recorded as
    // sent, and the next push sends only the two others.
    proxy.allowed.store(1, Ordering::SeqCst);
    let push = || {
        code(on_a(&[
            "share",
            "push",
            "--partner",
            "UN office",
            "--page-records",
            "1",
        ]))
    };
    let (c, out, err) = push();
    assert_eq!(c, 2, "{out}{err}");
    assert_eq!(held(&b, bdb, "FROM-A-"), 1);
    proxy.allowed.store(usize::MAX, Ordering::SeqCst);
    let (c, out, err) = push();
    assert_eq!(c, 0, "{out}{err}");
    assert!(
        out.contains("created 2, updated 0, retracted 0, unchanged 0"),
        "{out}"
    );
    assert!(err.contains("in 2 pages; 1 it holds already"), "{err}");
    for n in 1..=3 {
        assert_eq!(held(&b, bdb, &format!("FROM-A-{n} ")), 1, "FROM-A-{n}");
    }

    // On a schedule: A's server exchanges on its own at start, records other than incidents
    // too (a rumour each side records).
    verified(&on_a, &a, "ana", "FROM-A-4", Some(&report));
    verified(&on_b, &b, "uma", "FROM-B-5", None);
    for (on, user, claim) in [
        (
            &on_a as &dyn Fn(&[&str]) -> std::process::Command,
            "ana",
            "RUMOUR-FROM-A the bridge was mined",
        ),
        (&on_b, "uma", "RUMOUR-FROM-B the road is cut"),
    ] {
        run_ok(on(&[
            "rumour",
            "add",
            "--user",
            user,
            "--claim",
            claim,
            "--country",
            "CAF",
            "--tlp",
            "TLP:GREEN",
        ]));
    }
    let received = |on: &dyn Fn(&[&str]) -> std::process::Command, user: &str, tag: &str| {
        run_ok(on(&["share", "received", "--user", user])).contains(tag)
    };
    let a_server = Server::spawn({
        let mut c = on_a(&["serve", "--listen", "127.0.0.1:0"]);
        c.env("TOCSIN_SHARE_SYNC_MINUTES", "1");
        c.stderr(std::process::Stdio::inherit());
        c
    });
    let mut arrived = false;
    for _ in 0..120 {
        if held(&b, bdb, "FROM-A-4") == 1
            && held(&a, None, "FROM-B-5") == 1
            && received(&on_b, "uma", "RUMOUR-FROM-A")
            && received(&on_a, "ana", "RUMOUR-FROM-B")
        {
            arrived = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    assert!(
        arrived,
        "the scheduled exchange did not happen within a minute"
    );
    drop(a_server);
    drop(server);
    assert_eq!(held(&b, bdb, "FROM-A-"), 4);
    assert_eq!(held(&a, None, "FROM-B-"), 5);

    // Every byte that crossed between them: A's incidents, never who warned or what they said.
    let seen = String::from_utf8_lossy(&proxy.seen.lock().unwrap()).to_string();
    assert!(
        seen.contains("FROM-A-1")
            && seen.contains("FROM-B-5")
            && seen.contains("RUMOUR-FROM-A")
            && seen.contains("RUMOUR-FROM-B"),
        "the proxy saw the exchange"
    );
    for secret in [
        handle.as_str(),
        "23670012345",
        "WARNERWORDS",
        "Bozoum",
        report.as_str(),
    ] {
        assert!(!seen.contains(secret), "{secret} crossed to the partner");
    }
}
