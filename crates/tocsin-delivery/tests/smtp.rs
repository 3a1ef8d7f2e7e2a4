//! E-mail deliveries against a real SMTP server on localhost (Python's aiosmtpd, run as a
//! subprocess: `tests/smtp/server.py`), over a real SQLite file. Skipped when aiosmtpd is not
//! installed, unless `TOCSIN_REQUIRE_SMTP=1` (as `.ci/run` sets), which makes that a failure.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use tocsin_delivery::smtp::{SmtpChannel, SmtpConfig, SmtpTls};
use tocsin_delivery::Delivery;
use tocsin_domain::{
    Actor, ContactKey, NewUser, OutboundMessage, OutboxStatus, Role, SourceContact, Tlp, User,
};
use tocsin_store::{DynStore, Op, StoreExt};
use tocsin_store_sqlite::SqliteStore;

/// Whether aiosmtpd can run; when it cannot, the test is skipped (or fails, when required).
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

/// A running aiosmtpd, killed when dropped.
struct Server {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(dir: &Path, mode: &str, port: u16) -> Server {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smtp/server.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(dir)
            .arg(mode)
            .arg(port.to_string())
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
            .unwrap_or_else(|| panic!("the SMTP server did not start: {line:?}"))
            .parse()
            .unwrap();
        Server {
            child,
            port,
            dir: dir.to_path_buf(),
        }
    }

    /// The messages received so far (raw, each with an `X-Rcpt-To:` line first).
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

fn config(port: u16) -> SmtpConfig {
    SmtpConfig {
        host: "127.0.0.1".into(),
        port: Some(port),
        tls: SmtpTls::None,
        username: None,
        password: None,
        from: "Tocsin <alerts@tocsin.test>".into(),
        timeout_secs: Some(5),
        subject_prefix: None,
    }
}

struct World {
    _dir: tempfile::TempDir,
    db: PathBuf,
    store: DynStore,
    key: Arc<ContactKey>,
    viewer: User,
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tocsin.db");
    let store: DynStore = Arc::new(
        SqliteStore::open(&format!("sqlite://{}", db.display()))
            .await
            .unwrap(),
    );
    let viewer = store
        .create_user(
            &Actor::system("test"),
            NewUser::build("viewer", Role::Viewer, None).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(viewer.clearance, Tlp::Green);
    World {
        _dir: dir,
        db,
        store,
        key: Arc::new(ContactKey::generate()),
        viewer,
    }
}

impl World {
    fn delivery(&self, port: u16) -> (Delivery, Arc<SmtpChannel>) {
        let ch = Arc::new(SmtpChannel::new(&config(port), self.key.clone()).unwrap());
        let d = Delivery::new(self.store.clone(), self.key.clone(), Arc::default())
            .with_channel(ch.clone());
        (d, ch)
    }

    async fn enqueue(&self, ikey: &str, text: &str, tlp: Tlp) -> OutboundMessage {
        let m = OutboundMessage::to_address(
            ikey.into(),
            "smtp",
            Some(self.viewer.id),
            &SourceContact {
                chat: None,
                email: Some("viewer@example.org".into()),
                ..Default::default()
            },
            &self.key,
            text.into(),
            tlp,
        );
        self.store
            .write(&Actor::system("test"), Op::EnqueueSms(Box::new(m.clone())))
            .await
            .unwrap();
        m
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_email_within_clearance_arrives_and_one_above_never_reaches_the_server() {
    if !aiosmtpd() {
        return;
    }
    let w = world().await;
    let mail = tempfile::tempdir().unwrap();
    let server = Server::start(mail.path(), "accept", 0);
    let (delivery, channel) = w.delivery(server.port);
    let within = w
        .enqueue(
            "alert:1:viewer",
            "Situation update: Bria\nRoads north of Bria are open again.",
            Tlp::Green,
        )
        .await;
    let above = w
        .enqueue(
            "alert:2:viewer",
            "AMBER: militia moving on Bria",
            Tlp::Amber,
        )
        .await;
    let p = delivery.pass().await.unwrap();
    assert_eq!(p.backlog, Some(0));

    let got = server.received();
    assert_eq!(
        got.len(),
        1,
        "only the delivery within clearance left: {got:?}"
    );
    let mail = &got[0];
    assert!(mail.starts_with("X-Rcpt-To: viewer@example.org"), "{mail}");
    assert!(
        mail.contains("Subject: Tocsin: Situation update: Bria"),
        "{mail}"
    );
    assert!(
        mail.contains("Roads north of Bria are open again."),
        "{mail}"
    );
    assert!(mail.contains("text/plain"), "{mail}");
    let mid = channel.message_id("alert:1:viewer");
    assert!(mail.contains(&format!("Message-ID: {mid}")), "{mail}");
    // The id is stable (a resend carries the same one) and names nothing.
    assert_eq!(mid, channel.message_id("alert:1:viewer"));
    assert!(!mid.contains("alert") && !mid.contains("viewer"), "{mid}");
    assert!(!got.iter().any(|m| m.contains("militia")));

    let m = w.store.get_outbound(within.id).await.unwrap();
    assert_eq!(m.status, OutboxStatus::Sent);
    let m = w.store.get_outbound(above.id).await.unwrap();
    assert_eq!(m.status, OutboxStatus::Failed);
    let why = m.last_error.unwrap();
    assert!(why.contains("above the recipient's clearance"), "{why}");
    assert!(
        !why.contains("viewer@") && !why.contains("militia"),
        "{why}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_5xx_reply_fails_the_delivery_with_the_servers_reason_and_no_address() {
    if !aiosmtpd() {
        return;
    }
    let w = world().await;
    let mail = tempfile::tempdir().unwrap();
    let server = Server::start(mail.path(), "reject", 0);
    let (delivery, _) = w.delivery(server.port);
    let m = w
        .enqueue("alert:3:viewer", "Situation update", Tlp::Clear)
        .await;
    delivery.pass().await.unwrap();
    let m = w.store.get_outbound(m.id).await.unwrap();
    assert_eq!((m.status, m.attempts), (OutboxStatus::Failed, 1));
    let why = m.last_error.unwrap();
    assert!(why.contains("550"), "{why}");
    assert!(why.contains("Message refused by policy"), "{why}");
    assert!(!why.contains("viewer@example.org"), "{why}");
    assert!(server.received().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_while_the_server_is_down_is_retried_later_not_lost() {
    if !aiosmtpd() {
        return;
    }
    let w = world().await;
    let mail = tempfile::tempdir().unwrap();
    // Learn a free port, then stop the server on it.
    let port = {
        let s = Server::start(mail.path(), "accept", 0);
        s.port
    };
    let (delivery, _) = w.delivery(port);
    let m = w
        .enqueue("alert:4:viewer", "Situation update", Tlp::Clear)
        .await;
    assert!(
        delivery.pass().await.is_err(),
        "the outbox job reports the channel down"
    );
    let got = w.store.get_outbound(m.id).await.unwrap();
    assert_eq!((got.status, got.attempts), (OutboxStatus::Queued, 1));
    assert!(got.next_attempt_at > got.updated_at - chrono::Duration::seconds(1));
    assert!(got.last_error.unwrap().contains("did not take it"));

    // The server comes back; once the back-off has passed (here: moved into the past), the
    // delivery is sent.
    let server = Server::start(mail.path(), "accept", port);
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", w.db.display()))
        .await
        .unwrap();
    sqlx::query("UPDATE outbox SET next_attempt_at = '2000-01-01T00:00:00Z' WHERE id = ?")
        .bind(m.id.to_string())
        .execute(&pool)
        .await
        .unwrap();
    delivery.pass().await.unwrap();
    let got = w.store.get_outbound(m.id).await.unwrap();
    assert_eq!((got.status, got.attempts), (OutboxStatus::Sent, 2));
    assert_eq!(server.received().len(), 1);
}
