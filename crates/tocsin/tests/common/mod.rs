//! Helpers shared by the CLI tests: run the real `tocsin` binary on a data directory.
#![allow(dead_code)]

pub mod browser;
pub mod dovecot;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_tocsin");

/// `tocsin --data-dir DIR [--database-url URL] ARGS…`, with quiet logs and no inherited URL.
pub fn tocsin(data_dir: &Path, db: Option<&str>, args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.arg("--data-dir").arg(data_dir);
    if let Some(url) = db {
        c.arg("--database-url").arg(url);
    }
    c.args(args)
        .env_remove("TOCSIN_DATABASE_URL")
        .env_remove("TOCSIN_CONFIG")
        .env("TOCSIN_LOG", "warn");
    c
}

/// Run, require success, return standard output.
pub fn run_ok(mut c: Command) -> String {
    let out = c.output().expect("run tocsin");
    assert!(
        out.status.success(),
        "tocsin failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Run, require failure, return standard error.
pub fn run_err(mut c: Command) -> String {
    let out = c.output().expect("run tocsin");
    assert!(
        !out.status.success(),
        "tocsin should have failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stderr).unwrap()
}

/// Create a user; returns its API token.
pub fn add_user(dir: &Path, db: Option<&str>, name: &str, role: &str) -> String {
    let out = run_ok(tocsin(dir, db, &["user", "add", name, "--role", role]));
    let token = out.lines().last().unwrap().trim().to_string();
    assert!(
        token.starts_with("tsn_"),
        "last line must be the token: {out}"
    );
    token
}

/// A running `tocsin serve`, killed when dropped.
pub struct Server {
    /// The process.
    pub child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

impl Server {
    /// `tocsin serve` on an ephemeral port over this data directory (or database).
    pub fn start(dir: &Path, db: Option<&str>) -> Server {
        let mut cmd = tocsin(dir, db, &["serve", "--listen", "127.0.0.1:0"]);
        cmd.stderr(Stdio::inherit());
        Server::spawn(cmd)
    }

    /// Start a prepared `tocsin … serve` command and wait until it listens.
    pub fn spawn(mut cmd: Command) -> Server {
        let mut child = cmd
            .stdout(Stdio::piped())
            .spawn()
            .expect("start tocsin serve");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let base = loop {
            let line = lines
                .next()
                .expect("server exited before listening")
                .unwrap();
            if let Some(rest) = line.strip_prefix("Tocsin is listening on ") {
                break rest.trim_end_matches('/').to_string();
            }
        };
        Server { child, base }
    }

    /// Kill it with SIGKILL: no shutdown, no flush.
    pub fn kill9(mut self) {
        self.child.kill().unwrap(); // SIGKILL on Unix: no shutdown, no flush
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh PostgreSQL database named `PREFIX_<uuid>` on `TOCSIN_TEST_POSTGRES_URL`'s server,
/// or `None` (with a message) when that is not set; `TOCSIN_REQUIRE_POSTGRES=1` makes its
/// absence a failure, as in CI.
pub async fn fresh_postgres(prefix: &str) -> Option<String> {
    use sqlx::Connection;
    let Ok(url) = std::env::var("TOCSIN_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var("TOCSIN_REQUIRE_POSTGRES").as_deref() != Ok("1"),
            "TOCSIN_REQUIRE_POSTGRES=1 but TOCSIN_TEST_POSTGRES_URL is not set"
        );
        eprintln!("skipping PostgreSQL: TOCSIN_TEST_POSTGRES_URL is not set");
        return None;
    };
    let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
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

/// What a fake Kannel was asked to send: `(to, text)` in order.
pub type Sent = std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>;

/// A fake Kannel `sendsms` on an ephemeral port (its URL): records each message's `to` and
/// `text`, answers 202.
pub async fn fake_kannel() -> (String, Sent) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/cgi-bin/sendsms", listener.local_addr().unwrap());
    let sent = Sent::default();
    let log = sent.clone();
    let app = axum::Router::new().route(
        "/cgi-bin/sendsms",
        axum::routing::get(
            move |q: axum::extract::Query<std::collections::HashMap<String, String>>| {
                let log = log.clone();
                async move {
                    log.lock().unwrap().push((
                        q.get("to").cloned().unwrap_or_default(),
                        q.get("text").cloned().unwrap_or_default(),
                    ));
                    (axum::http::StatusCode::ACCEPTED, "0: Accepted for delivery")
                }
            },
        ),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, sent)
}

/// A configuration file in `dir` for broadcasts through the fake Kannel at `sendsms`, at
/// `rate` messages per second, to the staff `test_phones`; its path.
pub fn broadcast_config(dir: &Path, sendsms: &str, rate: u32, test_phones: &[&str]) -> String {
    let cfg = dir.join("tocsin.toml");
    let phones: Vec<String> = test_phones.iter().map(|p| format!("{p:?}")).collect();
    std::fs::write(
        &cfg,
        format!(
            "[sms]\ndefault_region = \"CF\"\ncountry_hint = \"CAF\"\n\n\
             [sms.kannel]\nsendsms_url = \"{sendsms}\"\nusername = \"tocsin\"\n\
             password = \"sendsms-password\"\ninbound_secret = \"an-inbound-secret-0123456789\"\n\
             from = \"1413\"\n\n\
             [broadcasts]\ntest_phones = [{}]\nrates = {{ kannel = {rate} }}\n",
            phones.join(", ")
        ),
    )
    .unwrap();
    cfg.display().to_string()
}

/// `tocsin --config CFG serve` on an ephemeral port over `dir`.
pub fn serve_with_config(dir: &Path, cfg: &str) -> Server {
    let mut cmd = tocsin(
        dir,
        None,
        &["--config", cfg, "serve", "--listen", "127.0.0.1:0"],
    );
    cmd.stderr(Stdio::inherit());
    Server::spawn(cmd)
}

/// Run `c`: its exit code, standard output and standard error.
pub fn code(mut c: Command) -> (i32, String, String) {
    let out = c.output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// The incidents of the installation in `dir` as its CSV export shows them, up to `max_tlp`.
pub fn exported_csv(dir: &Path, db: Option<&str>, max_tlp: &str) -> String {
    let out = dir.join("export.csv");
    let mut c = tocsin(
        dir,
        db,
        &[
            "export",
            "--format",
            "csv",
            "--max-tlp",
            max_tlp,
            "--output",
        ],
    );
    c.arg(&out);
    run_ok(c);
    std::fs::read_to_string(out).unwrap()
}

/// The `detail` of every audit entry `action`, on a SQLite file or PostgreSQL.
pub async fn audited(
    sqlite: Option<&Path>,
    pg: Option<&str>,
    action: &str,
) -> Vec<serde_json::Value> {
    use sqlx::Connection;
    let q = "SELECT detail FROM audit_log WHERE action = $1 ORDER BY seq";
    let rows: Vec<(String,)> = match (sqlite, pg) {
        (_, Some(url)) => {
            let mut c = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::query_as(q)
                .bind(action)
                .fetch_all(&mut c)
                .await
                .unwrap()
        }
        (Some(file), None) => {
            let url = format!("sqlite://{}", file.display());
            let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
            sqlx::query_as(&q.replace("$1", "?"))
                .bind(action)
                .fetch_all(&mut c)
                .await
                .unwrap()
        }
        (None, None) => unreachable!(),
    };
    rows.into_iter()
        .map(|(d,)| serde_json::from_str(&d).unwrap())
        .collect()
}

/// Preview what would cross to the partner `name` and approve its terms as an admin does
/// before the first exchange (`tocsin partner preview`, then `approve --terms DIGEST`), with
/// `cmd` making a `tocsin` command on that installation.
pub fn approve_terms(cmd: impl Fn(&[&str]) -> Command, name: &str) {
    let out = run_ok(cmd(&["partner", "preview", name]));
    let digest = out
        .lines()
        .find_map(|l| l.strip_prefix("terms "))
        .unwrap_or_else(|| panic!("no digest in the preview: {out}"))
        .trim()
        .to_string();
    run_ok(cmd(&["partner", "approve", name, "--terms", &digest]));
}
