//! E-mail in over IMAP against a real dovecot and real `tocsin serve` processes.
//!
//! - 1,000 messages APPENDed while the server reads the mailbox in IDLE (new ones, the same
//!   message again, "edits" under the same Message-ID, messages with no From, broken MIME,
//!   8-bit junk, oversized): the server is killed (SIGKILL) mid-stream, a second one on the
//!   same data takes the rest; every valid message is stored exactly once. Then the mailbox's
//!   UIDVALIDITY changes (its messages renumbered): nothing is stored twice.
//! - A wrong password: nothing stored, the log says the login was refused, never the password.
//! - A server whose certificate is not trusted (no `ca_file`): nothing stored; trusted, it is
//!   read (over STARTTLS).

mod common;

use common::dovecot::Dovecot;
use common::*;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const MESSAGES: u32 = 1000;
const PASSWORD: &str = "imap-pw-0f7c1d";

/// Message `i` of the stream: per ten, six new (in several encodings), one sent again, one
/// "edit" of an earlier one, one malformed, one new without a Message-ID. 700 valid in all.
fn message(i: u32) -> Vec<u8> {
    let from = |n: u32| format!("Warner {n} <W{}@Example.org>", n % 37);
    let plain = |n: u32, body: &str| {
        format!(
            "From: {}\r\nTo: reports@example.org\r\nSubject: Report {n}\r\n\
             Message-ID: <m{n}@test.example>\r\nDate: Mon, 7 Dec 2026 04:00:00 +0000\r\n\r\n{body}\r\n",
            from(n)
        )
        .into_bytes()
    };
    match i % 10 {
        1 => format!(
            "From: {}\r\nSubject: =?UTF-8?Q?Rapport_{i}_=C3=A0_Bangui?=\r\nMessage-ID: <m{i}@test.example>\r\n\
             MIME-Version: 1.0\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\
             Content-Transfer-Encoding: quoted-printable\r\n\r\nHommes arm=E9s pr=E8s du march=E9, {i}\r\n",
            from(i)
        )
        .into_bytes(),
        2 => {
            use base64::Engine;
            let b = base64::engine::general_purpose::STANDARD
                .encode(format!("Armed men near the market, {i}"));
            format!(
                "From: {}\r\nSubject: Report {i}\r\nMessage-ID: <m{i}@test.example>\r\nMIME-Version: 1.0\r\n\
                 Content-Type: multipart/alternative; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n\
                 Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{b}\r\n\
                 --b{i}\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Armed men near the market, {i}</p>\r\n--b{i}--\r\n",
                from(i)
            )
            .into_bytes()
        }
        3 => format!(
            "From: {}\r\nMessage-ID: <m{i}@test.example>\r\nMIME-Version: 1.0\r\n\
             Content-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>Armed men near the <b>market</b>, {i}</p></body></html>\r\n",
            from(i)
        )
        .into_bytes(),
        // The previous message again (a resend), then an edit of an earlier one.
        6 => message(i - 1),
        7 => plain(i - 3, "edited: they left"),
        8 => match (i / 10) % 4 {
            0 => format!("Subject: no sender {i}\r\nMessage-ID: <m{i}@test.example>\r\n\r\nArmed men, {i}\r\n")
                .into_bytes(),
            1 => format!(
                "From: {}\r\nMessage-ID: <m{i}@test.example>\r\nMIME-Version: 1.0\r\n\
                 Content-Type: multipart/mixed; boundary=\"never\"\r\n\r\n--nev\r\nContent-Type: image/png\r\n\
                 Content-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!\r\n",
                from(i)
            )
            .into_bytes(),
            2 => {
                let mut m = b"From: \xff\xfe\x80 junk \xc3\x28\r\nSubject: \xfe\xff\r\n\r\n".to_vec();
                m.extend((0..300u32).map(|k| (k * 7 + i) as u8 | 0x80));
                m.extend_from_slice(b"\r\n");
                m
            }
            _ => plain(i, &"x".repeat(70 * 1024)),
        },
        9 => format!(
            "From: {}\r\nSubject: Report {i}\r\n\r\nArmed men near the market, {i}\r\n",
            from(i)
        )
        .into_bytes(),
        _ => plain(i, &format!("Armed men near the market, {i}")),
    }
}

async fn wait_until<F: std::future::Future<Output = bool>>(
    what: &str,
    secs: u64,
    mut f: impl FnMut() -> F,
) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f().await {
        assert!(Instant::now() < deadline, "waited {secs} s for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn db(d: &std::path::Path) -> Option<sqlx::SqliteConnection> {
    use sqlx::Connection;
    let path = d.join("tocsin.db");
    if !path.exists() {
        return None;
    }
    sqlx::SqliteConnection::connect(&format!("sqlite://{}?mode=ro", path.display()))
        .await
        .ok()
}

/// (reports by e-mail, distinct provider keys).
async fn counts(d: &std::path::Path) -> (i64, i64) {
    let Some(mut c) = db(d).await else {
        return (0, 0);
    };
    sqlx::query_as(
        "SELECT COUNT(*), COUNT(DISTINCT provider_key) FROM reports WHERE channel = 'email'",
    )
    .fetch_one(&mut c)
    .await
    .unwrap_or((0, 0))
}

/// The highest IMAP cursor (last UID taken) of any UIDVALIDITY.
async fn cursors(d: &std::path::Path) -> Vec<(String, i64)> {
    let Some(mut c) = db(d).await else {
        return vec![];
    };
    sqlx::query_as("SELECT name, position FROM channel_cursors WHERE name LIKE 'imap:%'")
        .fetch_all(&mut c)
        .await
        .unwrap_or_default()
}

fn config(d: &std::path::Path, section: &str) -> String {
    let cfg = d.join("tocsin.toml");
    std::fs::write(&cfg, section).unwrap();
    cfg.to_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_taken_across_a_sigkill_are_each_stored_once() {
    let Some(dovecot) = Dovecot::start(PASSWORD) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cfg = config(d, &dovecot.tocsin_section(PASSWORD, true));
    let first = serve_with_config(d, &cfg);

    // The stream, appended while the server reads (IDLE wakes it).
    let mut client = dovecot.client().await;
    let appended = Arc::new(Mutex::new(0u32));
    let done = appended.clone();
    let feeder = tokio::spawn(async move {
        for i in 1..=MESSAGES {
            client.append(&message(i)).await;
            *done.lock().unwrap() = i;
            if i % 20 == 0 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        client
    });
    wait_until("the first server to store 150 messages", 300, || async {
        counts(d).await.0 >= 150
    })
    .await;
    first.kill9();
    let at_kill = counts(d).await.0;
    assert!(
        at_kill < 700,
        "the kill landed mid-stream ({at_kill} stored, {} appended)",
        appended.lock().unwrap()
    );

    let second = serve_with_config(d, &cfg);
    let mut client = feeder.await.unwrap();
    wait_until("the second server to take the rest", 600, || async {
        cursors(d).await.iter().any(|(_, p)| *p >= MESSAGES as i64)
    })
    .await;
    assert_eq!(
        counts(d).await,
        (700, 700),
        "each of the 700 valid messages stored once (killed at {at_kill})"
    );
    drop(second);

    // A new UIDVALIDITY (the mailbox rebuilt: every message renumbered from 1): read again
    // from 1, each message is recognised, by its Message-ID or, without one, its digest.
    let _ = client.session.logout().await;
    let maildir = dovecot.dir.path().join("mail").join(common::dovecot::USER);
    for f in std::fs::read_dir(&maildir).unwrap() {
        let f = f.unwrap().path();
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with("dovecot") {
            let _ = std::fs::remove_file(&f);
        }
    }
    let before = cursors(d).await;
    let third = serve_with_config(d, &cfg);
    wait_until(
        "a cursor of the new UIDVALIDITY to reach the end",
        600,
        || async {
            let now = cursors(d).await;
            now.len() > before.len()
                && now
                    .iter()
                    .any(|(n, p)| !before.iter().any(|(b, _)| b == n) && *p >= MESSAGES as i64)
        },
    )
    .await;
    assert_eq!(
        counts(d).await,
        (700, 700),
        "nothing stored twice under a new UIDVALIDITY"
    );
    drop(third);
    // The channels page counts e-mail as it counts the apps, in the write that stores or
    // recognises each message: each taken once (the kill in between changes nothing), every
    // other message read as a duplicate (the re-read too), as many as the audit log says.
    let mut c = db(d).await.unwrap();
    let (taken, duplicates): (i64, i64) =
        sqlx::query_as("SELECT taken, duplicates FROM channel_counters WHERE name = 'email'")
            .fetch_one(&mut c)
            .await
            .unwrap();
    let received: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'message.receive' \
         AND detail LIKE '%\"channel\":\"email\"%'",
    )
    .fetch_one(&mut c)
    .await
    .unwrap();
    assert_eq!(taken, 700, "taken {taken}");
    assert!(duplicates >= 700, "duplicates {duplicates}");
    assert_eq!(taken + duplicates, received, "each message counted once");
}

/// `tocsin serve` with its log (stderr) collected.
fn serve_logged(d: &std::path::Path, cfg: &str) -> (Server, Arc<Mutex<String>>) {
    let mut cmd = tocsin(
        d,
        None,
        &["--config", cfg, "serve", "--listen", "127.0.0.1:0"],
    );
    cmd.env("TOCSIN_LOG", "info").stderr(Stdio::piped());
    let mut child = cmd.stdout(Stdio::piped()).spawn().unwrap();
    let log = Arc::new(Mutex::new(String::new()));
    let sink = log.clone();
    let err = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            let mut l = sink.lock().unwrap();
            l.push_str(&line);
            l.push('\n');
        }
    });
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let base = loop {
        let line = lines.next().expect("server exited").unwrap();
        if let Some(rest) = line.strip_prefix("Tocsin is listening on ") {
            break rest.trim_end_matches('/').to_string();
        }
    };
    (Server { child, base }, log)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_login_or_an_untrusted_certificate_stores_nothing() {
    let Some(dovecot) = Dovecot::start(PASSWORD) else {
        return;
    };
    let mut client = dovecot.client().await;
    for i in [1, 2, 3] {
        client.append(&message(i)).await;
    }

    // A wrong password.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let wrong = "wrong-pw-5e2b9a";
    let cfg = config(d, &dovecot.tocsin_section(wrong, true));
    let (server, log) = serve_logged(d, &cfg);
    wait_until("the refusal in the log", 60, || {
        let l = log.lock().unwrap().contains("refused the login");
        async move { l }
    })
    .await;
    // A second attempt (after the back-off) is refused too.
    wait_until("a second refusal", 60, || {
        let l = log.lock().unwrap().matches("refused the login").count() >= 2;
        async move { l }
    })
    .await;
    drop(server);
    let log = log.lock().unwrap().clone();
    assert!(!log.contains(wrong), "the password in the log: {log}");
    assert_eq!(counts(d).await, (0, 0));
    assert!(cursors(d).await.is_empty());

    // The right password but no ca_file: the generated CA is not trusted.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cfg = config(d, &dovecot.tocsin_section(PASSWORD, false));
    let (server, log) = serve_logged(d, &cfg);
    wait_until("the certificate refusal in the log", 60, || {
        let l = log.lock().unwrap().contains("TLS with the IMAP server");
        async move { l }
    })
    .await;
    drop(server);
    let log = log.lock().unwrap().clone();
    assert!(
        log.contains("certificate"),
        "the log names the certificate problem: {log}"
    );
    assert!(!log.contains(PASSWORD), "the password in the log: {log}");
    assert_eq!(counts(d).await, (0, 0));

    // With the CA trusted, the same server is read: three messages (here over STARTTLS).
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let starttls = dovecot
        .tocsin_section(PASSWORD, true)
        .replace(
            &format!("port = {}", dovecot.imaps_port),
            &format!("port = {}", dovecot.imap_port),
        )
        .replace("security = \"tls\"", "security = \"starttls\"");
    assert!(starttls.contains("starttls"));
    let cfg = config(d, &starttls);
    let server = serve_with_config(d, &cfg);
    wait_until("the three messages", 60, || async {
        counts(d).await.0 >= 3
    })
    .await;
    drop(server);
    assert_eq!(counts(d).await, (3, 3));
}

/// Message -> flag time through IMAP IDLE: each of 200 messages APPENDed (with a term of an
/// enabled lexicon in it) and timed until its dangerous-speech flag is stored. Prints p50 and
/// p95 (`cargo test --workspace --test imap_kill9 -- --ignored --nocapture`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: prints figures"]
async fn imap_message_to_flag_latency() {
    let Some(dovecot) = Dovecot::start(PASSWORD) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = |f: &str| {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tocsin-speech/data")
            .join(f)
            .to_string_lossy()
            .into_owned()
    };
    add_user(d, None, "ana", "analyst");
    let lexicon = data("lexicon-illustrative.csv");
    let sample = data("sample-labelled.csv");
    run_ok(tocsin(
        d,
        None,
        &[
            "lexicon", "import", &lexicon, "--name", "bench", "--user", "ana",
        ],
    ));
    run_ok(tocsin(
        d,
        None,
        &[
            "lexicon", "evaluate", "bench", "--sample", &sample, "--user", "ana",
        ],
    ));
    run_ok(tocsin(
        d,
        None,
        &["lexicon", "enable", "bench", "--user", "ana"],
    ));
    let cfg = config(d, &dovecot.tocsin_section(PASSWORD, true));
    let server = serve_with_config(d, &cfg);
    let mut client = dovecot.client().await;
    let flags = || async {
        let Some(mut c) = db(d).await else { return 0 };
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM speech_flags")
            .fetch_one(&mut c)
            .await
            .unwrap_or(0)
    };
    let mut times = Vec::new();
    // Message 0 warms up (the job connected, in IDLE); 1 to 200 are timed.
    for i in 0..=200u32 {
        let m = format!(
            "From: w{}@example.org\r\nSubject: bench {i}\r\nMessage-ID: <bench{i}@test.example>\r\n\r\n\
             They are cockroaches, all of them ({i})\r\n",
            i % 13
        );
        let t = Instant::now();
        client.append(m.as_bytes()).await;
        while flags().await <= i as i64 {
            assert!(
                t.elapsed() < Duration::from_secs(120),
                "no flag for message {i}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        if i > 0 {
            times.push(t.elapsed());
        }
    }
    drop(server);
    times.sort();
    let p = |q: f64| times[((times.len() as f64 * q).ceil() as usize).saturating_sub(1)];
    println!(
        "IMAP IDLE message -> speech flag over {} messages: p50 {:?}, p95 {:?}, max {:?}",
        times.len(),
        p(0.50),
        p(0.95),
        times.last().unwrap()
    );
}
