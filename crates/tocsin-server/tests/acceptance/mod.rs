//! Shared by the acceptance tests of issue 14 (`alert_scenario.rs` here, `escalation_serve.rs`
//! in the `tocsin` crate): a real SMTP server on localhost (Python's aiosmtpd, run as a
//! subprocess: `smtp.py` beside this file) whose received mails are read back decoded, and
//! the warner-safety check over every delivery and mail of a test.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Whether aiosmtpd can run; when it cannot, the test is skipped (or fails, when
/// `TOCSIN_REQUIRE_SMTP=1`, as `.ci/run` sets).
pub fn aiosmtpd() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var("TOCSIN_REQUIRE_SMTP").as_deref() != Ok("1"),
            "TOCSIN_REQUIRE_SMTP=1 but aiosmtpd is missing: python3 -m pip install aiosmtpd"
        );
        eprintln!("SKIPPED: aiosmtpd is not installed (python3 -m pip install aiosmtpd)");
    }
    ok
}

/// One mail the server accepted, decoded.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Mail {
    /// Envelope recipients.
    pub rcpt: Vec<String>,
    /// The decoded subject.
    pub subject: String,
    /// The decoded text body.
    pub body: String,
    /// The message as it went over the wire.
    pub raw: String,
}

/// A running aiosmtpd, killed when dropped.
pub struct Smtp {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Smtp {
    /// Start one on a free port.
    pub fn start() -> Smtp {
        let dir = tempfile::tempdir().unwrap();
        let script: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "acceptance", "smtp.py"]
            .iter()
            .collect();
        let script = if script.exists() {
            script
        } else {
            [
                env!("CARGO_MANIFEST_DIR"),
                "..",
                "tocsin-server",
                "tests",
                "acceptance",
                "smtp.py",
            ]
            .iter()
            .collect()
        };
        let mut child = Command::new("python3")
            .arg(&script)
            .arg(dir.path())
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
        Smtp { child, port, dir }
    }

    /// The mails received so far, in arrival order.
    pub fn received(&self) -> Vec<Mail> {
        let mut v: Vec<_> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        v.sort();
        v.iter()
            .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
            .collect()
    }

    /// Wait (at most `secs`) until at least `n` mails have arrived; all of them.
    pub async fn wait_for(&self, n: usize, secs: u64) -> Vec<Mail> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "expected {n} mails within {secs}s, got {}: {got:#?}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Warner safety over a whole run: no text that went out or was received (`texts`: every
/// delivery's text, every inbox item's subject and link, every mail as sent and decoded)
/// holds any of `secrets` (source handles, phone numbers in any writing, e-mail addresses,
/// names).
pub fn assert_no_source_traces(texts: &[String], secrets: &[&str]) {
    assert!(!texts.is_empty(), "nothing to check");
    for t in texts {
        let lower = t.to_lowercase();
        let digits: String = t.chars().filter(|c| c.is_ascii_digit()).collect();
        for s in secrets {
            assert!(
                !lower.contains(&s.to_lowercase()),
                "a notification carries the source detail {s:?}: {t}"
            );
            let sd: String = s.chars().filter(|c| c.is_ascii_digit()).collect();
            if sd.len() >= 8 {
                assert!(
                    !digits.contains(&sd[sd.len() - 8..]),
                    "a notification carries the source's number {s:?}: {t}"
                );
            }
        }
    }
}
