//! The `tocsin` binary as a user runs it: CLI subcommands, configuration, and durability of
//! acknowledged writes across `kill -9`, on SQLite and (when configured) PostgreSQL.

use serde_json::{json, Value};
use sqlx::Connection;
use std::collections::HashSet;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod common;
use common::{add_user, run_err, run_ok, tocsin, Server, BIN};

/// A fresh PostgreSQL database, or `None` (with a message) when PostgreSQL is not configured.
async fn fresh_postgres() -> Option<String> {
    let Ok(url) = std::env::var("TOCSIN_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var("TOCSIN_REQUIRE_POSTGRES").as_deref() != Ok("1"),
            "TOCSIN_REQUIRE_POSTGRES=1 but TOCSIN_TEST_POSTGRES_URL is not set"
        );
        let _ = writeln!(
            std::io::stderr(),
            "skipping PostgreSQL: TOCSIN_TEST_POSTGRES_URL is not set"
        );
        return None;
    };
    let name = format!("tocsin_cli_{}", uuid::Uuid::now_v7().simple());
    let mut conn = sqlx::PgConnection::connect(&url)
        .await
        .expect("connect to PostgreSQL");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .unwrap();
    let base = url.split('?').next().unwrap();
    let cut = base
        .rfind('/')
        .filter(|i| *i > base.find("://").unwrap() + 2)
        .unwrap_or(base.len());
    Some(format!("{}/{name}", &base[..cut]))
}

/// Post reports from 16 clients until the server dies; every 2xx id must survive a restart.
async fn acknowledged_reports_survive_kill9(db: Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    let db = db.as_deref();
    let token = add_user(dir.path(), db, "writer", "analyst");
    let server = Server::start(dir.path(), db);
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut tasks = Vec::new();
    for t in 0..16 {
        let (client, base, token, acked) = (
            client.clone(),
            server.base.clone(),
            token.clone(),
            acked.clone(),
        );
        tasks.push(tokio::spawn(async move {
            for n in 0.. {
                if Instant::now() > deadline {
                    break;
                }
                let r = client
                    .post(format!("{base}/api/v1/reports"))
                    .bearer_auth(&token)
                    .json(&json!({"text": format!("client {t} report {n}")}))
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status() == 201 => {
                        let v: Value = match r.json().await {
                            Ok(v) => v,
                            Err(_) => break, // killed mid-body: not acknowledged
                        };
                        acked
                            .lock()
                            .unwrap()
                            .push(v["id"].as_str().unwrap().to_string());
                    }
                    _ => break,
                }
            }
        }));
    }
    // Let writes flow, then kill the server while requests are in flight.
    while acked.lock().unwrap().len() < 300 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill9();
    for t in tasks {
        t.await.unwrap();
    }
    let acked: Vec<String> = acked.lock().unwrap().clone();
    assert!(
        acked.len() >= 300,
        "only {} writes were acknowledged before the kill",
        acked.len()
    );

    let server = Server::start(dir.path(), db);
    let mut stored = HashSet::new();
    let mut path = "/api/v1/reports?limit=500".to_string();
    loop {
        let b: Value = client
            .get(format!("{}{}", server.base, path))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        stored.extend(
            b["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["id"].as_str().unwrap().to_string()),
        );
        match b["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/reports?limit=500&cursor={c}"),
            None => break,
        }
    }
    let lost: Vec<_> = acked.iter().filter(|id| !stored.contains(*id)).collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged reports were lost: {:?}",
        lost.len(),
        acked.len(),
        &lost[..lost.len().min(5)]
    );
    let verify = run_ok(tocsin(dir.path(), db, &["audit", "verify"]));
    assert!(verify.contains("audit chain intact"), "{verify}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn durability_sqlite() {
    acknowledged_reports_survive_kill9(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn durability_postgres() {
    if let Some(url) = fresh_postgres().await {
        acknowledged_reports_survive_kill9(Some(url)).await;
    }
}

/// An import is one transaction: killed with `kill -9` midway, it leaves the database as it
/// was (the incidents, the audit chain), and the next import works.
async fn import_killed_midway_changes_nothing(db: Option<String>) {
    let db = db.as_deref();
    let dir = tempfile::tempdir().unwrap();
    let acled = exchange_fixture("acled.csv");
    run_ok(tocsin(
        dir.path(),
        db,
        &["import", "acled", acled.to_str().unwrap()],
    ));
    let before = comparable_export_in(dir.path(), db);
    assert_eq!(before.len(), 5);
    let big = big_acled(dir.path(), 400_000);
    let mut child = tocsin(dir.path(), db, &["import", "acled", big.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Let it write for a while (rows are written as they are read), then kill it.
    std::thread::sleep(Duration::from_millis(2500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the import finished before it could be killed: make the file larger"
    );
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    if db.is_none() {
        // Nothing else had the file open, so the import wrote through a rollback journal,
        // left behind hot by the kill; the next connection rolls it back.
        assert!(
            dir.path().join("tocsin.db-journal").exists(),
            "the killed import should have left its rollback journal"
        );
    }
    assert_eq!(comparable_export_in(dir.path(), db), before);
    let verify = run_ok(tocsin(dir.path(), db, &["audit", "verify"]));
    assert!(verify.contains("audit chain intact"), "{verify}");
    let out = run_ok(tocsin(
        dir.path(),
        db,
        &["import", "acled", acled.to_str().unwrap()],
    ));
    assert!(out.contains("inserted 0, updated 5"), "{out}");
    if db.is_none() {
        assert!(!dir.path().join("tocsin.db-journal").exists());
        assert_eq!(journal_mode(&dir.path().join("tocsin.db")), "wal");
    }
}

/// The journal mode a SQLite file is in, from its header: WAL files carry version 2 in
/// bytes 18 and 19, rollback-journal files 1.
fn journal_mode(db: &Path) -> &'static str {
    let head = std::fs::read(db).unwrap();
    match (head[18], head[19]) {
        (2, 2) => "wal",
        (1, 1) => "rollback",
        _ => "unknown",
    }
}

/// `dir/big.csv`: `rows` ACLED rows like the fixture's first, each with its own event id.
fn big_acled(dir: &Path, rows: u32) -> std::path::PathBuf {
    let text = std::fs::read_to_string(exchange_fixture("acled.csv")).unwrap();
    let header = text.lines().next().unwrap();
    let row = text.lines().nth(1).unwrap();
    let big = dir.join("big.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&big).unwrap());
    writeln!(f, "{header}").unwrap();
    for n in 0..rows {
        writeln!(f, "{}", row.replacen("CEN1001", &format!("BIG{n}"), 1)).unwrap();
    }
    f.into_inner().unwrap().sync_all().unwrap();
    big
}

/// A SQLite import while a server has the file open cannot take it for itself: it runs in WAL
/// mode beside the server, which keeps answering reads during the import and sees the
/// imported incidents afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_import_beside_a_running_server_stays_in_wal() {
    let dir = tempfile::tempdir().unwrap();
    let token = add_user(dir.path(), None, "ana", "analyst");
    let server = Server::start(dir.path(), None);
    let big = big_acled(dir.path(), 60_000);
    let mut import = tocsin(
        dir.path(),
        None,
        &["import", "acled", big.to_str().unwrap()],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let client = reqwest::Client::new();
    let get = |path: &str| {
        client
            .get(format!("{}{path}", server.base))
            .bearer_auth(&token)
            .send()
    };
    // Reads answer while the import runs.
    let mut answered = 0;
    while import.try_wait().unwrap().is_none() {
        let r = get("/api/v1/incidents?limit=1").await.unwrap();
        assert_eq!(r.status(), 200);
        answered += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let out = import.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("inserted 60000"), "{stdout}");
    assert!(answered > 0);
    assert!(!dir.path().join("tocsin.db-journal").exists());
    assert_eq!(journal_mode(&dir.path().join("tocsin.db")), "wal");
    let r: Value = get("/api/v1/incidents?limit=1")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["items"].as_array().map(Vec::len), Some(1), "{r}");
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_killed_midway_changes_nothing_sqlite() {
    import_killed_midway_changes_nothing(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_killed_midway_changes_nothing_postgres() {
    if let Some(url) = fresh_postgres().await {
        import_killed_midway_changes_nothing(Some(url)).await;
    }
}

#[tokio::test]
async fn user_add_token_works_and_audit_verify_finds_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let token = add_user(dir.path(), None, "dana", "desk-officer");
    let dup = tocsin(
        dir.path(),
        None,
        &["user", "add", "dana", "--role", "viewer"],
    )
    .output()
    .unwrap();
    assert!(!dup.status.success());
    assert!(String::from_utf8_lossy(&dup.stderr).contains("already exists"));
    let bad = tocsin(
        dir.path(),
        None,
        &["user", "add", "eve", "--role", "overlord"],
    )
    .output()
    .unwrap();
    assert!(!bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("role"));
    {
        let server = Server::start(dir.path(), None);
        let me: Value = reqwest::Client::new()
            .get(format!("{}/api/v1/me", server.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            (me["username"].as_str(), me["role"].as_str()),
            (Some("dana"), Some("desk_officer"))
        );
    }
    let ok = run_ok(tocsin(dir.path(), None, &["audit", "verify"]));
    assert!(ok.contains("2 entries verified"), "{ok}");

    // Tamper with the first entry under the store's nose.
    let url = format!("sqlite://{}", dir.path().join("tocsin.db").display());
    let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query("DROP TRIGGER audit_append_only")
        .execute(&mut c)
        .await
        .unwrap();
    sqlx::query("UPDATE audit_log SET actor_name = 'mallory' WHERE seq = 1")
        .execute(&mut c)
        .await
        .unwrap();
    c.close().await.unwrap();
    let out = tocsin(dir.path(), None, &["audit", "verify"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("BROKEN at entry 1"), "{text}");
}

#[tokio::test]
async fn configuration_layers_file_then_environment_then_flags() {
    let dir = tempfile::tempdir().unwrap();
    let from_file = dir.path().join("from-file");
    let cfg = dir.path().join("tocsin.toml");
    std::fs::write(
        &cfg,
        format!(
            "data_dir = {:?}\nlisten = \"127.0.0.1:0\"\n",
            from_file.display().to_string()
        ),
    )
    .unwrap();
    // The file's data_dir is used when nothing overrides it.
    let out = Command::new(BIN)
        .args([
            "--config",
            cfg.to_str().unwrap(),
            "user",
            "add",
            "f",
            "--role",
            "viewer",
        ])
        .env_remove("TOCSIN_DATA_DIR")
        .env_remove("TOCSIN_DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(from_file.join("tocsin.db").exists());
    let out = Command::new(BIN)
        .args(["--config", cfg.to_str().unwrap(), "demo"])
        .env_remove("TOCSIN_DATA_DIR")
        .env_remove("TOCSIN_DATABASE_URL")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        from_file.join("contact.key").exists(),
        "the contact key is created on first use"
    );
    // TOCSIN_DATA_DIR beats the file; --data-dir beats the variable.
    let from_env = dir.path().join("from-env");
    let from_flag = dir.path().join("from-flag");
    let out = Command::new(BIN)
        .args([
            "--config",
            cfg.to_str().unwrap(),
            "user",
            "add",
            "g",
            "--role",
            "viewer",
        ])
        .env("TOCSIN_DATA_DIR", &from_env)
        .env_remove("TOCSIN_DATABASE_URL")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(from_env.join("tocsin.db").exists());
    let out = Command::new(BIN)
        .args([
            "--config",
            cfg.to_str().unwrap(),
            "--data-dir",
            from_flag.to_str().unwrap(),
            "user",
            "list",
        ])
        .env("TOCSIN_DATA_DIR", &from_env)
        .env_remove("TOCSIN_DATABASE_URL")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(from_flag.join("tocsin.db").exists());
    // The contact key file is private to its owner.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(from_file.join("contact.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o077,
            0,
            "contact.key must not be readable by others"
        );
    }
    // A broken file is a clear error, and a Postgres password never reaches the output.
    std::fs::write(&cfg, "listen = 5\n").unwrap();
    let out = Command::new(BIN)
        .args(["--config", cfg.to_str().unwrap(), "migrate"])
        .output()
        .unwrap();
    assert!(
        !out.status.success()
            && String::from_utf8_lossy(&out.stderr).contains("invalid config file")
    );
    let out = Command::new(BIN)
        .args([
            "--database-url",
            "postgres://tocsin:s3cret-pw@127.0.0.1:1/nope",
            "migrate",
        ])
        .env("TOCSIN_LOG", "debug")
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success());
    assert!(!all.contains("s3cret-pw"), "password leaked: {all}");
}

#[tokio::test]
async fn demo_seeds_once() {
    let dir = tempfile::tempdir().unwrap();
    let first = run_ok(tocsin(dir.path(), None, &["demo"]));
    assert!(first.contains("Demo scenario seeded"), "{first}");
    let second = run_ok(tocsin(dir.path(), None, &["demo"]));
    assert!(
        !second.contains("seeded") && second.contains("password"),
        "{second}"
    );
    let server = Server::start(dir.path(), None);
    let client = reqwest::Client::new();
    let token = add_user(dir.path(), None, "reader", "analyst");
    let b: Value = client
        .get(format!("{}/api/v1/incidents?limit=500", server.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(b["items"].as_array().unwrap().len(), 420);
    let b: Value = client
        .get(format!("{}/api/v1/reports?limit=500", server.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(b["items"].as_array().unwrap().len(), 500);
    assert!(b["next_cursor"].is_string());
}

fn exchange_fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tocsin-exchange/tests/fixtures")
        .join(name)
}

/// CSV export without the columns that differ between two databases (Tocsin's id, update time).
fn comparable_export(dir: &Path) -> Vec<String> {
    comparable_export_in(dir, None)
}

/// [`comparable_export`] of the store at `db` (the data directory's SQLite file when `None`).
fn comparable_export_in(dir: &Path, db: Option<&str>) -> Vec<String> {
    let out = run_ok(tocsin(
        dir,
        db,
        &["export", "--format", "csv", "--max-tlp", "TLP:RED"],
    ));
    let mut rows: Vec<String> = csv::Reader::from_reader(out.as_bytes())
        .records()
        .map(|r| {
            let r = r.unwrap();
            let cells: Vec<&str> = r.iter().collect();
            cells[1..cells.len() - 1].join("\u{1f}")
        })
        .collect();
    rows.sort();
    rows
}

#[tokio::test]
async fn import_validates_upserts_and_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let acled = exchange_fixture("acled.csv");
    let out = run_ok(tocsin(
        dir.path(),
        None,
        &["import", "acled", acled.to_str().unwrap()],
    ));
    assert!(
        out.contains("read 5, inserted 5, updated 0, rejected 0, skipped 0"),
        "{out}"
    );
    let out = run_ok(tocsin(
        dir.path(),
        None,
        &["import", "acled", acled.to_str().unwrap()],
    ));
    assert!(
        out.contains("read 5, inserted 0, updated 5, rejected 0"),
        "re-import updates: {out}"
    );

    // Bad rows are listed with their lines; good rows still land.
    let text = std::fs::read_to_string(&acled).unwrap();
    let header = text.lines().next().unwrap();
    let good = text
        .lines()
        .nth(3)
        .unwrap()
        .replacen("SSD2001", "SSD2002", 1);
    let bad = good
        .replacen("SSD2002", "SSD2003", 1)
        .replacen("2024-04-02", "2024-02-31", 1);
    let f = dir.path().join("mixed.csv");
    std::fs::write(&f, format!("{header}\n{good}\n{bad}\n")).unwrap();
    let o = tocsin(dir.path(), None, &["import", "acled", f.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "some rows rejected: exit 1");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("inserted 1, updated 0, rejected 1"), "{out}");
    assert!(
        out.contains("1 row: event_date: \"2024-02-31\" is not a date — line 3"),
        "{out}"
    );

    // A file that cannot be parsed at all changes nothing.
    let before = comparable_export(dir.path());
    let semi = dir.path().join("semi.csv");
    std::fs::write(&semi, text.replace(',', ";")).unwrap();
    let o = tocsin(
        dir.path(),
        None,
        &["import", "acled", semi.to_str().unwrap()],
    )
    .output()
    .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("nothing was imported"));
    assert_eq!(comparable_export(dir.path()), before);

    // UCDP from the shared data, when present.
    let bgd = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/ucdp/conflict_data_BGD.csv");
    if bgd.exists() {
        let out = run_ok(tocsin(
            dir.path(),
            None,
            &["import", "ucdp", bgd.to_str().unwrap()],
        ));
        assert!(out.contains("read 601, inserted 601"), "{out}");
    } else {
        assert_ne!(
            std::env::var("TOCSIN_REQUIRE_DATA").as_deref(),
            Ok("1"),
            "TOCSIN_REQUIRE_DATA=1 but {} is absent",
            bgd.display()
        );
        eprintln!("skipping the UCDP part: {} is absent", bgd.display());
    }

    // Round trip: export HXL, import it elsewhere, export both again: the same incidents.
    let hxl = dir.path().join("all.hxl.csv");
    run_ok(tocsin(
        dir.path(),
        None,
        &[
            "export",
            "--format",
            "hxl",
            "--max-tlp",
            "TLP:RED",
            "-o",
            hxl.to_str().unwrap(),
        ],
    ));
    let other = tempfile::tempdir().unwrap();
    let out = run_ok(tocsin(
        other.path(),
        None,
        &["import", "hxl", hxl.to_str().unwrap()],
    ));
    assert!(out.contains("rejected 0"), "{out}");
    assert_eq!(
        comparable_export(other.path()),
        comparable_export(dir.path())
    );
    // The default export is TLP:CLEAR only; a TLP:RED import is not in it.
    let red = dir.path().join("red.csv");
    std::fs::write(
        &red,
        format!("{header}\n{}\n", good.replacen("SSD2002", "SSD9", 1)),
    )
    .unwrap();
    run_ok(tocsin(
        dir.path(),
        None,
        &["import", "acled", red.to_str().unwrap(), "--tlp", "TLP:RED"],
    ));
    let clear = run_ok(tocsin(dir.path(), None, &["export", "--format", "acled"]));
    assert!(!clear.contains("SSD9") && clear.contains("SSD2002"));
}

#[tokio::test]
async fn gdelt_import_places_events_with_the_gazetteer() {
    let dir = tempfile::tempdir().unwrap();
    let f = exchange_fixture("gdelt.tsv");
    let o = tocsin(dir.path(), None, &["import", "gdelt", f.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "a row rejected: exit 1");
    let out = String::from_utf8_lossy(&o.stdout);
    // Roots 18-20 kept (3 rows), the protest skipped, the row without coordinates rejected.
    assert!(
        out.contains("read 5, inserted 3, updated 0, rejected 1, skipped 1"),
        "{out}"
    );
    assert!(
        out.contains("1 row: no ActionGeo coordinates — line 4"),
        "{out}"
    );
    let csv = run_ok(tocsin(dir.path(), None, &["export", "--format", "csv"]));
    let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(csv.as_bytes())
        .records()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(rows.len(), 3);
    // Reverse geocoding put every event in the Central African Republic, with a province.
    for r in &rows {
        assert_eq!(&r[8], "CAF", "{r:?}");
        assert!(
            !r[9].is_empty(),
            "admin1 filled by reverse geocoding: {r:?}"
        );
    }
}

/// A mock Kannel sendsms: refuses (503) until told to accept, then records (to, text).
async fn mock_sendsms(
    accept: Arc<std::sync::atomic::AtomicBool>,
    refused: Arc<Mutex<u32>>,
    sent: Arc<Mutex<Vec<(String, String)>>>,
) -> String {
    use axum::extract::{Query, State};
    type S = (
        Arc<std::sync::atomic::AtomicBool>,
        Arc<Mutex<u32>>,
        Arc<Mutex<Vec<(String, String)>>>,
    );
    async fn h(
        State((accept, refused, sent)): State<S>,
        Query(q): Query<std::collections::HashMap<String, String>>,
    ) -> (axum::http::StatusCode, &'static str) {
        if accept.load(std::sync::atomic::Ordering::SeqCst) {
            sent.lock()
                .unwrap()
                .push((q["to"].clone(), q["text"].clone()));
            (axum::http::StatusCode::ACCEPTED, "0: Accepted for delivery")
        } else {
            *refused.lock().unwrap() += 1;
            (
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "3: Queued for later delivery",
            )
        }
    }
    let app = axum::Router::new()
        .route("/cgi-bin/sendsms", axum::routing::get(h))
        .with_state((accept, refused, sent));
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    base
}

/// The Kannel inbound secret of the outbox test's configuration.
const KANNEL_SECRET: &str = "kannel-inbound-secret-0123456789";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbox_survives_kill9_without_loss_or_duplicates_and_logs_no_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let accept = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let refused = Arc::new(Mutex::new(0u32));
    let sent = Arc::new(Mutex::new(Vec::new()));
    let gw = mock_sendsms(accept.clone(), refused.clone(), sent.clone()).await;
    let cfg = dir.path().join("tocsin.toml");
    let kannel = format!(
        "[sms]\ndefault_calling_code = \"236\"\ncountry_hint = \"CAF\"\n[sms.kannel]\nsendsms_url = \"{gw}/cgi-bin/sendsms\"\nusername = \"tocsin\"\npassword = \"kannel-pw\"\n"
    );
    // A gateway without its inbound secret: the server refuses to start, naming the setting.
    std::fs::write(&cfg, &kannel).unwrap();
    let out = tocsin(
        dir.path(),
        None,
        &[
            "--config",
            cfg.to_str().unwrap(),
            "serve",
            "--listen",
            "127.0.0.1:0",
        ],
    )
    .output()
    .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("[sms.kannel] inbound_secret"), "{err}");
    std::fs::write(
        &cfg,
        format!("{kannel}inbound_secret = \"{KANNEL_SECRET}\"\nfrom = \"1234\"\n"),
    )
    .unwrap();
    let log = dir.path().join("server.log");
    let start = |log: &Path| {
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let mut cmd = tocsin(
            dir.path(),
            None,
            &[
                "--config",
                cfg.to_str().unwrap(),
                "serve",
                "--listen",
                "127.0.0.1:0",
            ],
        );
        cmd.env("TOCSIN_LOG", "debug").stderr(f);
        Server::spawn(cmd)
    };
    let server = start(&log);
    let client = reqwest::Client::new();
    let phones: Vec<String> = (0..20).map(|i| format!("+2367010{i:04}")).collect();
    for (i, p) in phones.iter().enumerate() {
        let r = client
            .get(format!("{}/sms/kannel", server.base))
            .query(&[
                ("id", format!("mo-{i}")),
                ("sender", p.clone()),
                ("message", format!("ATTAQUE à Bria {i}")),
                ("charset", "UTF-8".into()),
                ("secret", KANNEL_SECRET.into()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    // Every acknowledgement is tried once and refused; then the server dies.
    let deadline = Instant::now() + Duration::from_secs(30);
    while *refused.lock().unwrap() < 20 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        *refused.lock().unwrap() >= 20,
        "the outbox did not try to send"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.kill9();
    accept.store(true, std::sync::atomic::Ordering::SeqCst);
    let server = start(&log);
    let deadline = Instant::now() + Duration::from_secs(40);
    while sent.lock().unwrap().len() < 20 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A little longer, to catch any duplicate.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let sent = sent.lock().unwrap().clone();
    let mut to: Vec<&String> = sent.iter().map(|(t, _)| t).collect();
    to.sort();
    let mut want: Vec<&String> = phones.iter().collect();
    want.sort();
    assert_eq!(
        to, want,
        "every sender exactly one acknowledgement, none lost, none twice"
    );
    assert!(
        sent.iter()
            .all(|(_, text)| text.contains("R-") && text.contains("Merci")),
        "{sent:?}"
    );
    drop(server);
    // Nothing in the whole run's log names a number.
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("SMS received"), "the log is captured");
    for p in &phones {
        let digits = p.trim_start_matches('+');
        assert!(!logged.contains(digits), "a phone number reached the log");
    }
    assert!(
        !logged.contains("kannel-pw"),
        "a gateway password reached the log"
    );
}

/// `[server]` reaches the running server: an https public URL turns on HSTS and `Secure`
/// cookies (an explicit `secure_cookies = false` still wins; `TOCSIN_PUBLIC_URL` beats the
/// file), and a half-sent request is cut off after the configured header timeout.
#[tokio::test]
async fn server_table_reaches_the_running_server() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("tocsin.toml");
    std::fs::write(
        &cfg,
        "[server]\npublic_url = \"https://tocsin.example.org\"\nheader_timeout_secs = 1\n",
    )
    .unwrap();
    let start = |env: &[(&str, &str)]| {
        let mut cmd = tocsin(
            dir.path(),
            None,
            &[
                "--config",
                cfg.to_str().unwrap(),
                "serve",
                "--listen",
                "127.0.0.1:0",
            ],
        );
        cmd.env_remove("TOCSIN_PUBLIC_URL")
            .env_remove("TOCSIN_SECURE_COOKIES")
            .envs(env.iter().copied())
            .stderr(Stdio::inherit());
        Server::spawn(cmd)
    };
    // (HSTS header, Secure cookie) on the login page.
    let login = |base: String| async move {
        let r = reqwest::get(format!("{base}/login")).await.unwrap();
        let hsts = r
            .headers()
            .get("strict-transport-security")
            .map(|v| v.to_str().unwrap().to_string());
        let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
        (hsts, cookie.contains("; Secure"))
    };
    let server = start(&[]);
    assert_eq!(
        login(server.base.clone()).await,
        (Some("max-age=31536000".to_string()), true)
    );
    let mut s = tokio::net::TcpStream::connect(server.base.trim_start_matches("http://"))
        .await
        .unwrap();
    s.write_all(b"GET /healthz HT").await.unwrap();
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), s.read_to_end(&mut buf))
        .await
        .expect("a half-sent request must be cut off after header_timeout_secs")
        .ok();
    drop(server);
    let server = start(&[("TOCSIN_SECURE_COOKIES", "false")]);
    assert_eq!(
        login(server.base.clone()).await,
        (Some("max-age=31536000".to_string()), false)
    );
    drop(server);
    let server = start(&[("TOCSIN_PUBLIC_URL", "http://tocsin.example.org")]);
    assert_eq!(login(server.base.clone()).await, (None, false));
}

/// Run with `input` on standard input; the output (success or not).
fn run_with_stdin(mut c: Command, input: &str) -> std::process::Output {
    let mut child = c
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// The status `GET /api/v1/me` answers for `token`, polled until it is `want` or a second
/// has passed (a running server must see a withdrawal within one second).
async fn me_status_within_a_second(base: &str, token: &str, want: u16) -> u16 {
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        let s = reqwest::Client::new()
            .get(format!("{base}/api/v1/me"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        if s == want || Instant::now() > deadline {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_are_withdrawn_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A short or common password is refused; a good one is taken.
    let short = run_with_stdin(
        tocsin(
            d,
            None,
            &[
                "user",
                "add",
                "alice",
                "--role",
                "analyst",
                "--password-stdin",
            ],
        ),
        "tocsin-demo\n",
    );
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 12 characters"));
    let common = run_with_stdin(
        tocsin(
            d,
            None,
            &[
                "user",
                "add",
                "alice",
                "--role",
                "analyst",
                "--password-stdin",
            ],
        ),
        "Qwerty123456\n",
    );
    assert!(String::from_utf8_lossy(&common.stderr).contains("most common passwords"));
    let added = run_with_stdin(
        tocsin(
            d,
            None,
            &[
                "user",
                "add",
                "alice",
                "--role",
                "analyst",
                "--password-stdin",
                "--expires",
                "12h",
            ],
        ),
        "quiet river at dawn\n",
    );
    assert!(added.status.success(), "{added:?}");
    let out = String::from_utf8(added.stdout).unwrap();
    let first = out.lines().last().unwrap().to_string();
    assert!(
        first.starts_with("tsn_") && out.contains("expires "),
        "{out}"
    );
    let bad = run_err(tocsin(
        d,
        None,
        &["user", "token", "alice", "--expires", "5y"],
    ));
    assert!(bad.contains("expires"), "{bad}");
    let second = run_ok(tocsin(
        d,
        None,
        &["user", "token", "alice", "--expires", "never"],
    ));
    let second = second.trim().to_string();
    // The default lifetime comes from the configuration (0: never).
    let mut c = tocsin(d, None, &["user", "add", "bob", "--role", "viewer"]);
    c.env("TOCSIN_TOKEN_EXPIRY_DAYS", "0");
    assert!(run_ok(c).contains("no expiry"));
    assert!(run_ok(tocsin(
        d,
        None,
        &["user", "add", "carol", "--role", "viewer"]
    ))
    .contains("expires "));

    // The listing names ids, names, dates and state, never a secret.
    let listed = run_ok(tocsin(d, None, &["user", "tokens", "alice"]));
    let rows: Vec<Vec<&str>> = listed
        .lines()
        .skip(1)
        .map(|l| l.split('\t').collect())
        .collect();
    assert_eq!(rows.len(), 2, "{listed}");
    assert_eq!((rows[0][1], rows[0][4]), ("cli", "live"));
    assert_eq!((rows[1][3], rows[1][4]), ("never", "live"));
    assert!(!listed.contains("tsn_") && !listed.contains(&tocsin_domain::user::token_hash(&first)));

    let server = Server::start(d, None);
    let base = server.base.clone();
    assert_eq!(me_status_within_a_second(&base, &first, 200).await, 200);
    assert_eq!(me_status_within_a_second(&base, &second, 200).await, 200);
    // Revoking one token beside the running server stops it within a second; the other works.
    let out = run_ok(tocsin(d, None, &["token", "revoke", rows[0][0]]));
    assert!(out.contains("revoked"), "{out}");
    assert_eq!(me_status_within_a_second(&base, &first, 401).await, 401);
    assert_eq!(me_status_within_a_second(&base, &second, 200).await, 200);
    let listed = run_ok(tocsin(d, None, &["user", "tokens", "alice"]));
    assert!(
        listed.lines().nth(1).unwrap().ends_with("\trevoked"),
        "{listed}"
    );
    assert!(run_err(tocsin(d, None, &["token", "revoke", "nonsense"])).contains("not a token id"));
    let unknown = "00000000-0000-4000-8000-000000000000";
    assert!(run_err(tocsin(d, None, &["token", "revoke", unknown])).contains("no token"));
    // Disabling stops every token within a second; enabling brings them back.
    run_ok(tocsin(d, None, &["user", "disable", "alice"]));
    assert_eq!(me_status_within_a_second(&base, &second, 401).await, 401);
    assert!(
        run_ok(tocsin(d, None, &["user", "list"])).contains("alice\tanalyst\tTLP:RED\tdisabled")
    );
    run_ok(tocsin(d, None, &["user", "enable", "alice"]));
    assert_eq!(me_status_within_a_second(&base, &second, 200).await, 200);
    assert!(run_err(tocsin(d, None, &["user", "disable", "nobody"])).contains("no user named"));
    // A new password must meet the policy.
    let weak = run_with_stdin(
        tocsin(d, None, &["user", "password", "alice", "--password-stdin"]),
        "short\n",
    );
    assert!(!weak.status.success());
    let ok = run_with_stdin(
        tocsin(d, None, &["user", "password", "alice", "--password-stdin"]),
        "a brand new passphrase\n",
    );
    assert!(ok.status.success(), "{ok:?}");
    drop(server);
    let verified = run_ok(tocsin(d, None, &["audit", "verify"]));
    assert!(verified.contains("entries verified"), "{verified}");
}
