//! Data at rest and operations, with the real binary: private modes of the data directory
//! and its files, the contact key kept apart, `tocsin backup` beside a running server and
//! `tocsin restore`, and PostgreSQL over TLS.

use serde_json::{json, Value};
use sqlx::Connection;
use std::collections::HashSet;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use std::sync::{Arc, Mutex};
use std::time::Duration;

mod common;
use common::{add_user, run_err, run_ok, tocsin, Server};

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_directory_is_0700_and_its_files_0600() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    run_ok(tocsin(&dir, None, &["migrate"]));
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join("tocsin.db")), 0o600);

    run_ok(tocsin(&dir, None, &["demo"]));
    let server = Server::start(&dir, None);
    for f in ["tocsin.db", "tocsin.db-wal", "tocsin.db-shm", "contact.key"] {
        assert_eq!(mode(&dir.join(f)), 0o600, "{f} while the server runs");
    }
    drop(server);

    // A data directory left open by an older version is closed, and the log says so.
    let old = tmp.path().join("old");
    std::fs::create_dir(&old).unwrap();
    std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o755)).unwrap();
    run_ok(tocsin(&old, None, &["migrate"]));
    std::fs::set_permissions(
        old.join("tocsin.db"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = tocsin(&old, None, &["migrate"]).output().unwrap();
    assert!(out.status.success());
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("readable by other users"), "{log}");
    assert_eq!(mode(&old), 0o700);
    assert_eq!(mode(&old.join("tocsin.db")), 0o600);
}

/// 64 random hex characters.
fn hex_key() -> String {
    (0..32)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contact_key_file_is_read_apart_and_never_invented() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let keys = tmp.path().join("keys");
    std::fs::create_dir(&keys).unwrap();
    let key = keys.join("contact.key");
    std::fs::write(&key, hex_key()).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();

    // A missing key file is refused, and no key is made there.
    let missing = keys.join("absent.key");
    let mut c = tocsin(&dir, None, &["demo"]);
    c.env("TOCSIN_CONTACT_KEY_FILE", &missing);
    let err = run_err(c);
    assert!(
        err.contains("contact_key_file") && err.contains("does not exist"),
        "{err}"
    );
    assert!(!missing.exists());

    // Through the environment: the demo's sources are sealed with that key; none is made
    // in the data directory.
    let mut c = tocsin(&dir, None, &["demo"]);
    c.env("TOCSIN_CONTACT_KEY_FILE", &key);
    run_ok(c);
    assert!(!dir.join("contact.key").exists());

    // Through the TOML file: the server starts with it.
    let conf = tmp.path().join("tocsin.toml");
    std::fs::write(
        &conf,
        format!("contact_key_file = {:?}\n", key.to_str().unwrap()),
    )
    .unwrap();
    let mut c = tocsin(&dir, None, &["serve", "--listen", "127.0.0.1:0"]);
    c.arg("--config").arg(&conf);
    drop(Server::spawn(c));
    assert!(!dir.join("contact.key").exists());

    // Without the setting, the database's sources need their key: no new one is made.
    let err = run_err(tocsin(&dir, None, &["serve", "--listen", "127.0.0.1:0"]));
    assert!(
        err.contains("contact key") && err.contains("sources"),
        "{err}"
    );
    assert!(!dir.join("contact.key").exists());
}

/// Every report id the API lists.
async fn report_ids(base: &str, token: &str) -> HashSet<String> {
    let client = reqwest::Client::new();
    let mut ids = HashSet::new();
    let mut path = "/api/v1/reports?limit=500".to_string();
    loop {
        let b: Value = client
            .get(format!("{base}{path}"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.extend(
            b["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["id"].as_str().unwrap().to_string()),
        );
        match b["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/reports?limit=500&cursor={c}"),
            None => return ids,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_beside_running_writes_restores_every_acknowledged_write() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("live");
    let token = add_user(&dir, None, "writer", "analyst");
    let server = Server::start(&dir, None);

    // Writers post reports until told to stop; each acknowledged id is recorded.
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tasks = Vec::new();
    for t in 0..4 {
        let (base, token, acked, stop) = (
            server.base.clone(),
            token.clone(),
            acked.clone(),
            stop.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let r = client
                    .post(format!("{base}/api/v1/reports"))
                    .bearer_auth(&token)
                    .json(&json!({"text": format!("writer {t} report {n}")}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 201);
                let v: Value = r.json().await.unwrap();
                acked.lock().unwrap().push(v["id"].as_str().unwrap().into());
                n += 1;
            }
        }));
    }
    while acked.lock().unwrap().len() < 100 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let before: Vec<String> = acked.lock().unwrap().clone();
    let out = tmp.path().join("tocsin-backup.db");
    let backup_out = {
        let (dir, out) = (dir.clone(), out.clone());
        tokio::task::spawn_blocking(move || {
            run_ok(tocsin(
                &dir,
                None,
                &["backup", "--out", out.to_str().unwrap()],
            ))
        })
        .await
        .unwrap()
    };
    assert!(backup_out.contains("backed up"), "{backup_out}");
    // Writes went on while the backup ran.
    let during = acked.lock().unwrap().len();
    while acked.lock().unwrap().len() < during + 20 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(mode(&out), 0o600);
    let bytes = std::fs::read(&out).unwrap();
    let key = std::fs::read_to_string(dir.join("contact.key")).unwrap();
    assert!(
        !bytes.windows(64).any(|w| w == key.trim().as_bytes()),
        "the backup must not hold the contact key"
    );

    // A second backup to the same name is refused and leaves the first intact.
    let err = run_err(tocsin(
        &dir,
        None,
        &["backup", "--out", out.to_str().unwrap()],
    ));
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(std::fs::read(&out).unwrap(), bytes);

    // Restoring over the store the server uses is refused, with --force too.
    for args in [vec!["restore"], vec!["restore", "--force"]] {
        let mut a = args.clone();
        a.push(out.to_str().unwrap());
        let err = run_err(tocsin(&dir, None, &a));
        assert!(err.contains("in use"), "{err}");
    }

    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    for t in tasks {
        t.await.unwrap();
    }
    drop(server);

    // Into a fresh data directory, with the key carried apart.
    let fresh = tmp.path().join("fresh");
    let restored = run_ok(tocsin(&fresh, None, &["restore", out.to_str().unwrap()]));
    assert!(restored.contains("audit chain intact"), "{restored}");
    let verify = run_ok(tocsin(&fresh, None, &["audit", "verify"]));
    assert!(verify.contains("audit chain intact"), "{verify}");
    assert_eq!(mode(&fresh), 0o700);
    assert_eq!(mode(&fresh.join("tocsin.db")), 0o600);
    std::fs::copy(dir.join("contact.key"), fresh.join("contact.key")).unwrap();
    let server = Server::start(&fresh, None);
    let stored = report_ids(&server.base, &token).await;
    let lost: Vec<_> = before.iter().filter(|id| !stored.contains(*id)).collect();
    assert!(
        lost.is_empty(),
        "{} of {} writes acknowledged before the backup are missing: {:?}",
        lost.len(),
        before.len(),
        &lost[..lost.len().min(5)]
    );
    drop(server);

    // Over an existing store: only with --force, and the old files are moved aside.
    let err = run_err(tocsin(&dir, None, &["restore", out.to_str().unwrap()]));
    assert!(err.contains("--force"), "{err}");
    run_ok(tocsin(
        &dir,
        None,
        &["restore", "--force", out.to_str().unwrap()],
    ));
    let aside: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("tocsin.db.before-restore-"))
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    let verify = run_ok(tocsin(&dir, None, &["audit", "verify"]));
    assert!(verify.contains("audit chain intact"), "{verify}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_refuses_what_is_not_an_intact_tocsin_database() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    run_ok(tocsin(&dir, None, &["demo"]));
    let good = tmp.path().join("good.db");
    run_ok(tocsin(
        &dir,
        None,
        &["backup", "--out", good.to_str().unwrap()],
    ));

    let text = tmp.path().join("notes.txt");
    std::fs::write(
        &text,
        "not a database at all, just some words\n".repeat(200),
    )
    .unwrap();
    let other = tmp.path().join("other.db");
    {
        let mut c =
            sqlx::SqliteConnection::connect(&format!("sqlite://{}?mode=rwc", other.display()))
                .await
                .unwrap();
        sqlx::query("CREATE TABLE t (x)")
            .execute(&mut c)
            .await
            .unwrap();
    }
    // A backup with pages overwritten in the middle.
    let damaged = tmp.path().join("damaged.db");
    let mut bytes = std::fs::read(&good).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid..mid + 8192].fill(0x5a);
    std::fs::write(&damaged, bytes).unwrap();

    let before = std::fs::read(dir.join("tocsin.db")).unwrap();
    for (file, why) in [
        (&text, "not a SQLite database"),
        (&other, "not a Tocsin database"),
        (&damaged, "integrity"),
    ] {
        let err = run_err(tocsin(
            &dir,
            None,
            &["restore", "--force", file.to_str().unwrap()],
        ));
        assert!(err.contains(why), "{}: {err}", file.display());
    }
    // The store itself is no backup (its file alone may lack the writes in its WAL).
    let err = run_err(tocsin(
        &dir,
        None,
        &[
            "restore",
            "--force",
            dir.join("tocsin.db").to_str().unwrap(),
        ],
    ));
    assert!(err.contains("the store itself"), "{err}");
    assert_eq!(std::fs::read(dir.join("tocsin.db")).unwrap(), before);

    // A database some other program holds open is not replaced either.
    let mut held =
        sqlx::SqliteConnection::connect(&format!("sqlite://{}", dir.join("tocsin.db").display()))
            .await
            .unwrap();
    sqlx::query("SELECT count(*) FROM users")
        .fetch_one(&mut held)
        .await
        .unwrap();
    let err = run_err(tocsin(
        &dir,
        None,
        &["restore", "--force", good.to_str().unwrap()],
    ));
    assert!(err.contains("open in another process"), "{err}");
    held.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_backup_points_to_pg_dump_and_connects_over_tls() {
    let Ok(url) = std::env::var("TOCSIN_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var("TOCSIN_REQUIRE_POSTGRES").as_deref() != Ok("1"),
            "TOCSIN_REQUIRE_POSTGRES=1 but TOCSIN_TEST_POSTGRES_URL is not set"
        );
        eprintln!("skipping PostgreSQL: TOCSIN_TEST_POSTGRES_URL is not set");
        return;
    };
    let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
    let name = format!("tocsin_ops_{}", uuid::Uuid::now_v7().simple());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .unwrap();
    let base = url.split('?').next().unwrap();
    let db = format!("{}/{name}", &base[..base.rfind('/').unwrap()]);
    let tmp = tempfile::tempdir().unwrap();

    let err = run_err(tocsin(
        tmp.path(),
        Some(&db),
        &["backup", "--out", tmp.path().join("b").to_str().unwrap()],
    ));
    assert!(err.contains("pg_dump"), "{err}");
    assert!(!tmp.path().join("b").exists());

    let ssl: String = sqlx::query_scalar("SHOW ssl")
        .fetch_one(&mut admin)
        .await
        .unwrap();
    let require = format!("{db}?sslmode=require");
    if ssl != "on" {
        // A server without TLS: asking for it is refused, naming TLS.
        let err = run_err(tocsin(tmp.path(), Some(&require), &["migrate"]));
        assert!(err.contains("TLS"), "{err}");
        return;
    }
    // Every connection of a server started with sslmode=require is encrypted.
    let server = Server::start(tmp.path(), Some(&require));
    let (n, all_tls): (i64, Option<bool>) = sqlx::query_as(
        "SELECT count(*), bool_and(s.ssl) FROM pg_stat_ssl s \
         JOIN pg_stat_activity a USING (pid) WHERE a.datname = $1",
    )
    .bind(&name)
    .fetch_one(&mut admin)
    .await
    .unwrap();
    assert!(
        n > 0 && all_tls == Some(true),
        "{n} connections, tls {all_tls:?}"
    );
    drop(server);
    // The certificate is checked: a CA that did not sign it is refused, naming TLS.
    let pem = std::fs::read_dir("/etc/ssl/certs").ok().and_then(|mut d| {
        d.find_map(|e| {
            let p = e.ok()?.path();
            (p.extension()? == "pem" && !p.to_str()?.contains("snakeoil")).then_some(p)
        })
    });
    if let Some(pem) = pem {
        let strict = format!(
            "{db}?sslmode=verify-full&sslrootcert={}",
            pem.to_str().unwrap()
        );
        let err = run_err(tocsin(tmp.path(), Some(&strict), &["migrate"]));
        assert!(err.contains("TLS") && err.contains("certificate"), "{err}");
    }
}
