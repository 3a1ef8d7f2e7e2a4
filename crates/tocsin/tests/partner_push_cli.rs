//! Signed bundles pushed over HTTP (`tocsin share push`, `POST /api/v1/share/bundles`) between
//! two installations through the real binary: A on a SQLite file, B served on PostgreSQL (a
//! SQLite file when `TOCSIN_TEST_POSTGRES_URL` is unset; required with
//! `TOCSIN_REQUIRE_POSTGRES=1`). B issues A a token (`tocsin partner token`), A keeps it
//! sealed (`tocsin partner push-token`). Without a token A is told so; with a wrong one B
//! answers 401 and nothing is stored or recorded as sent; with the right one B stores the
//! verified incident, and a second push stores nothing new; A pulls the bundle B made for it
//! (`tocsin share pull`, `GET /api/v1/share/bundles`) with the same token and stores B's own
//! incident once (never what B received from A), a wrong token getting 401; a pushed bundle
//! with one byte changed is refused whole (400, nothing stored). Each push that landed is audited on both
//! sides with the bundle's SHA-256.

mod common;

use common::*;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bundles_pushed_and_pulled_over_http_with_a_partner_token() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    let pg = fresh_postgres("tocsin_partner_push").await;
    let bdb = pg.as_deref();
    let cfg = a.join("tocsin.toml");
    std::fs::write(
        &cfg,
        "[organisation]\nname = \"Early Warning NGO\"\n[verification]\nrequired_tasks = []\n",
    )
    .unwrap();
    let cfg = cfg.display().to_string();
    let on_a = |args: &[&str]| {
        let mut all = vec!["--config", cfg.as_str()];
        all.extend_from_slice(args);
        tocsin(&a, None, &all)
    };
    let on_b = |args: &[&str]| tocsin(&b, bdb, args);

    // A: one verified GREEN incident.
    add_user(&a, None, "ana", "analyst");
    std::fs::write(
        a.join("i.json"),
        r#"{"event_date": "2026-11-20", "event_type": "Violence against civilians",
            "sub_event_type": "Attack", "country": "CAF", "latitude": 5.76, "longitude": 20.67,
            "fatalities": 3, "description": "PUSHED-INCIDENT village attacked", "tlp": "TLP:GREEN"}"#,
    )
    .unwrap();
    let mut add = on_a(&["incident", "add", "--user", "ana", "--file"]);
    add.arg(a.join("i.json"));
    let id = run_ok(add).lines().last().unwrap().trim().to_string();
    for state in ["corroborated", "verified"] {
        run_ok(on_a(&[
            "incident",
            "verify",
            &id,
            "--user",
            "ana",
            "--state",
            state,
            "--reason",
            "two sources",
        ]));
    }

    // B serves (with a verified incident of its own); keys and partners both ways.
    run_ok(on_b(&["migrate"]));
    let cfg_b = b.join("tocsin.toml");
    std::fs::write(
        &cfg_b,
        "[organisation]\nname = \"UN office\"\n[verification]\nrequired_tasks = []\n",
    )
    .unwrap();
    let cfg_b = cfg_b.display().to_string();
    let on_b_cfg = |args: &[&str]| {
        let mut all = vec!["--config", cfg_b.as_str()];
        all.extend_from_slice(args);
        tocsin(&b, bdb, &all)
    };
    add_user(&b, bdb, "uma", "analyst");
    std::fs::write(
        b.join("i.json"),
        r#"{"event_date": "2026-11-21", "event_type": "Violence against civilians",
            "sub_event_type": "Attack", "country": "CAF", "latitude": 4.36, "longitude": 18.55,
            "fatalities": 2, "description": "PULLED-INCIDENT market looted", "tlp": "TLP:GREEN"}"#,
    )
    .unwrap();
    let mut add = on_b_cfg(&["incident", "add", "--user", "uma", "--file"]);
    add.arg(b.join("i.json"));
    let id_b = run_ok(add).lines().last().unwrap().trim().to_string();
    for state in ["corroborated", "verified"] {
        run_ok(on_b_cfg(&[
            "incident", "verify", &id_b, "--user", "uma", "--state", state, "--reason", "seen",
        ]));
    }
    let server = Server::spawn({
        let mut c = on_b_cfg(&["serve", "--listen", "127.0.0.1:0"]);
        c.stderr(std::process::Stdio::inherit());
        c
    });
    let key_a = run_ok(on_a(&["share", "key"])).trim().to_string();
    let key_b = run_ok(on_b(&["share", "key"])).trim().to_string();
    run_ok(on_a(&[
        "partner",
        "add",
        "UN office",
        "--url",
        &server.base,
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
    assert!(token.starts_with("tsp_"), "{token}");

    // No token yet; then a wrong one: refused, nothing stored, nothing recorded as sent.
    let (c, _, err) = code(on_a(&["share", "push", "--partner", "UN office"]));
    assert_eq!(c, 5, "{err}");
    assert!(err.contains("no token to push"), "{err}");
    run_ok(on_a(&[
        "partner",
        "push-token",
        "UN office",
        "--token",
        "tsp_wrong",
    ]));
    let (c, _, err) = code(on_a(&["share", "push", "--partner", "UN office"]));
    assert_eq!(c, 2, "{err}");
    assert!(err.contains("401"), "{err}");
    assert!(!exported_csv(&b, bdb, "TLP:AMBER").contains("PUSHED-INCIDENT"));
    let sent = audited(Some(&a.join("tocsin.db")), None, "share.send").await;
    assert!(sent.is_empty(), "{sent:?}");

    // The right token: stored once; a second push stores nothing new.
    run_ok(on_a(&[
        "partner",
        "push-token",
        "UN office",
        "--token",
        &token,
    ]));
    let (c, out, err) = code(on_a(&["share", "push", "--partner", "UN office"]));
    assert_eq!(c, 0, "{out}{err}");
    assert!(
        out.contains("created 1, updated 0, retracted 0, unchanged 0"),
        "{out}"
    );
    let sha = out
        .lines()
        .next()
        .unwrap()
        .strip_prefix("sha256 ")
        .unwrap()
        .to_string();
    // Again: B holds that version already, so nothing is sent; `--full` sends it all again,
    // which changes nothing there.
    let (c, out, err) = code(on_a(&["share", "push", "--partner", "UN office"]));
    assert_eq!(c, 0, "{out}{err}");
    assert!(
        out.starts_with("created 0, updated 0, retracted 0, unchanged 0"),
        "{out}"
    );
    assert!(err.contains("in 0 pages; 1 it holds already"), "{err}");
    let (c, out, err) = code(on_a(&["share", "push", "--partner", "UN office", "--full"]));
    assert_eq!(c, 0, "{out}{err}");
    assert!(
        out.contains("created 0, updated 0, retracted 0, unchanged 1"),
        "{out}"
    );
    assert_eq!(
        exported_csv(&b, bdb, "TLP:AMBER")
            .matches("PUSHED-INCIDENT")
            .count(),
        1
    );

    // Pull: A fetches the bundle B made for it (B's own verified incident, never what B
    // received from A) with the same token, and receives it as a file.
    let (c, out, err) = code(on_a(&["share", "pull", "--partner", "UN office"]));
    assert_eq!(c, 0, "{out}{err}");
    assert!(
        out.starts_with("created 1, updated 0, retracted 0, unchanged 0"),
        "{out}"
    );
    // Again: it starts after the last page stored, so nothing new comes; from the start, the
    // same incident comes again and changes nothing.
    let (c, out, _) = code(on_a(&["share", "pull", "--partner", "UN office"]));
    assert_eq!(c, 0);
    assert!(
        out.starts_with("created 0, updated 0, retracted 0, unchanged 0"),
        "{out}"
    );
    let (c, out, _) = code(on_a(&[
        "share",
        "pull",
        "--partner",
        "UN office",
        "--from-start",
    ]));
    assert_eq!(c, 0);
    assert!(
        out.starts_with("created 0, updated 0, retracted 0, unchanged 1"),
        "{out}"
    );
    let mut exp = on_a(&[
        "export",
        "--format",
        "csv",
        "--max-tlp",
        "TLP:AMBER",
        "--output",
    ]);
    exp.arg(a.join("a.csv"));
    run_ok(exp);
    let held_a = std::fs::read_to_string(a.join("a.csv")).unwrap();
    assert!(held_a.contains("PULLED-INCIDENT") && held_a.matches("PUSHED-INCIDENT").count() == 1);
    let r = reqwest::Client::new()
        .get(format!("{}/api/v1/share/bundles", server.base))
        .bearer_auth("tsp_wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // One byte changed: refused whole.
    let file = tmp.path().join("bundle.tocsin");
    run_ok(on_a(&[
        "share",
        "export",
        "--partner",
        "UN office",
        "--out",
        file.to_str().unwrap(),
    ]));
    let mut bytes = std::fs::read(&file).unwrap();
    let text = String::from_utf8_lossy(&bytes).to_string();
    let at = text.rfind("PUSHED-INCIDENT").unwrap();
    bytes[at] = b'p';
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/share/bundles", server.base))
        .bearer_auth(&token)
        .body(bytes.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("nothing was stored"),
        "{body}"
    );
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/share/bundles", server.base))
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(!exported_csv(&b, bdb, "TLP:AMBER").contains("pUSHED"));
    drop(server);

    // Audited both sides with the bundle's hash.
    let sent = audited(Some(&a.join("tocsin.db")), None, "share.send").await;
    assert_eq!(sent[0]["bundle_sha256"], sha.as_str());
    let received = audited(
        pg.is_none().then(|| b.join("tocsin.db")).as_deref(),
        bdb,
        "share.receive",
    )
    .await;
    assert!(
        received
            .iter()
            .any(|d| d["bundle_sha256"] == sha.as_str() && d["partner"] == "Early Warning NGO"),
        "{received:?}"
    );
}
