//! The acknowledgement of an e-mail report, against a real dovecot, a real SMTP server
//! (aiosmtpd) and a real `tocsin serve`: with `[notify.smtp]` it goes back by e-mail to the
//! sender; automatic or mailing-list mail is never answered (recorded as not sent, with the
//! reason); without `[notify.smtp]` every acknowledgement is recorded as not sent.

#[path = "../../tocsin-server/tests/acceptance/mod.rs"]
mod acceptance;
mod common;

use common::dovecot::Dovecot;
use common::*;
use std::time::{Duration, Instant};

const PASSWORD: &str = "imap-ack-pw-31d0";

async fn acks(d: &std::path::Path) -> Vec<(String, Option<String>)> {
    use sqlx::Connection;
    let url = format!("sqlite://{}?mode=ro", d.join("tocsin.db").display());
    let Ok(mut c) = sqlx::SqliteConnection::connect(&url).await else {
        return vec![];
    };
    sqlx::query_as(
        "SELECT o.status, o.last_error FROM outbox o JOIN reports r ON r.id = o.report_id \
         WHERE r.channel = 'email' ORDER BY r.text",
    )
    .fetch_all(&mut c)
    .await
    .unwrap_or_default()
}

async fn until<F: std::future::Future<Output = bool>>(what: &str, mut f: impl FnMut() -> F) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !f().await {
        assert!(Instant::now() < deadline, "waited for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The authserv-id of the organisation's own mail server in these tests.
const AUTHSERV: &str = "\nauthserv_id = \"mx.tocsin.test\"\n";

const WARNER: &str = "Authentication-Results: mx.tocsin.test;\r\n spf=pass smtp.mailfrom=example.org;\r\n \
    dmarc=pass header.from=example.org\r\nFrom: Warner <Alice.W@Example.org>\r\nSubject: A report\r\n\
    Message-ID: <ack1@test.example>\r\n\r\nArmed men near the market\r\n";
/// A forged From: the organisation's server found DMARC failing.
const FORGED: &str = "Authentication-Results: mx.tocsin.test; dmarc=fail header.from=example.org\r\n\
    From: bob@example.org\r\nSubject: D forged\r\nMessage-ID: <ack4@test.example>\r\n\r\nArmed men\r\n";
/// A pass written by someone else's server (or by the sender): it counts for nothing.
const OTHER: &str = "Authentication-Results: mx.attacker.example; dmarc=pass header.from=example.org\r\n\
    From: carol@example.org\r\nSubject: E other server\r\nMessage-ID: <ack5@test.example>\r\n\r\nArmed men\r\n";
const LIST: &str = "From: list@example.org\r\nList-Id: <news.example.org>\r\nSubject: B digest\r\n\
    Message-ID: <ack2@test.example>\r\n\r\nArmed men in the digest\r\n";
const AUTO: &str = "From: robot@example.org\r\nAuto-Submitted: auto-replied\r\nSubject: C away\r\n\
    Message-ID: <ack3@test.example>\r\n\r\nI am away\r\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledgements_go_back_by_email_but_never_to_automatic_mail() {
    if !acceptance::aiosmtpd() {
        return;
    }
    let Some(dovecot) = Dovecot::start(PASSWORD) else {
        return;
    };
    let smtp = acceptance::Smtp::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cfg = d.join("tocsin.toml");
    std::fs::write(
        &cfg,
        format!(
            "[notify.smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\n\
             from = \"Tocsin <reports@tocsin.test>\"\n{}{AUTHSERV}",
            smtp.port,
            dovecot.tocsin_section(PASSWORD, true)
        ),
    )
    .unwrap();
    let server = serve_with_config(d, cfg.to_str().unwrap());
    let mut client = dovecot.client().await;
    for m in [WARNER, LIST, AUTO, FORGED, OTHER] {
        client.append(m.as_bytes()).await;
    }
    let mails = smtp.wait_for(1, 120).await;
    assert_eq!(mails[0].rcpt, ["alice.w@example.org"]);
    assert!(!mails[0].body.trim().is_empty(), "{:?}", mails[0]);
    until("five acknowledgements recorded, one sent", || async {
        let a = acks(d).await;
        a.len() == 5 && a[0].0 == "sent"
    })
    .await;
    let a = acks(d).await;
    let auto = "not sent: automatic or mailing-list mail is not answered";
    assert_eq!(
        a[1],
        ("failed".to_string(), Some(auto.to_string())),
        "{a:?}"
    );
    assert_eq!(
        a[2],
        ("failed".to_string(), Some(auto.to_string())),
        "{a:?}"
    );
    // A From address nobody vouched for is not written to: it may be someone who never warned.
    let forged =
        "not sent: the sender's address was not authenticated (DMARC), so it may be forged";
    for i in [3, 4] {
        assert_eq!(
            a[i],
            ("failed".to_string(), Some(forged.to_string())),
            "{a:?}"
        );
    }
    drop(server);
    assert_eq!(smtp.received().len(), 1, "only the warner was answered");

    // Without [notify.smtp]: recorded as not sent, with the reason.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cfg = d.join("tocsin.toml");
    std::fs::write(
        &cfg,
        format!("{}{AUTHSERV}", dovecot.tocsin_section(PASSWORD, true)),
    )
    .unwrap();
    let server = serve_with_config(d, cfg.to_str().unwrap());
    until("five acknowledgements recorded", || async {
        acks(d).await.len() == 5
    })
    .await;
    let a = acks(d).await;
    drop(server);
    assert_eq!(
        a[0],
        (
            "failed".to_string(),
            Some("not sent: no outgoing e-mail ([notify.smtp]) is configured".to_string())
        )
    );
}
