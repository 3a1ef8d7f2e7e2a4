//! E-mail in (`[channels.imap]`): one job of the runner reads the mailbox warners write to
//! over IMAP with TLS (certificate and host name always verified), then waits in IDLE for
//! more. A message becomes a report exactly as a text message does
//! ([`tocsin_app::sms::ingest`]): its sender known by a keyed hash of the From address, the
//! address sealed in the new source's contact, the source shown only by its handle.
//!
//! **Exactly once.** The mailbox's UIDVALIDITY names the cursor (`imap:<uidvalidity>` in
//! [`tocsin_store::Jobs::channel_cursor`]), which holds the last UID taken, saved after each
//! batch is stored; a new process resumes after it. A message's provider key is a keyed hash of
//! its Message-ID (or of the message's SHA-256 when it has none), unique on the channel: the same
//! message again (re-read after a crash, delivered twice, re-numbered under a new UIDVALIDITY)
//! or an "edit" (same Message-ID, other body) is stored no second time.
//!
//! **Parsed** by `mail-parser` (charsets, quoted-printable, base64, multipart): the plain-text
//! body is preferred, HTML is reduced to text, and the subject is kept above the body.
//! A message without a usable From address, without text, too large, or longer than a report
//! may be is skipped (counted, never stored half). Nothing about the sender is logged.
//!
//! **Acknowledged** by e-mail through the outbox when `[notify.smtp]` is configured; otherwise
//! the acknowledgement is recorded as not sent, with the reason ([`NO_SMTP`]), as is the one
//! to automatic or mailing-list mail ([`AUTOMATIC`]: `Auto-Submitted`, `List-Id`,
//! `Precedence: bulk`), which is never answered, so no loop starts.

use async_imap::types::UnsolicitedResponse;
use futures::TryStreamExt;
use std::sync::Arc;
use std::time::Duration;
use tocsin_delivery::imap::{ImapConfig, ImapSecurity};
use tocsin_domain::{Ack, Channel, SourceContact};
use tocsin_jobs::{Backoff, Job, JobError, Progress};
use tokio::net::TcpStream;
use tokio_rustls::rustls;
use tokio_rustls::TlsConnector;

use crate::sms::{GatewayError, Ingested};
use crate::AppState;

/// The job's name (and the start of its cursors' names).
pub const JOB: &str = "imap";

/// The name of the outbox channel acknowledgements by e-mail go through.
pub const SMTP: &str = "smtp";

/// Why an acknowledgement was not sent: no outgoing e-mail is configured.
pub const NO_SMTP: &str = "not sent: no outgoing e-mail ([notify.smtp]) is configured";

/// Why an acknowledgement was not sent: the message was automatic or from a mailing list.
pub const AUTOMATIC: &str = "not sent: automatic or mailing-list mail is not answered";

/// Why an acknowledgement was not sent: nothing vouched for the From address (no DMARC pass
/// from the configured mail server), so it may be forged.
pub const UNAUTHENTICATED: &str =
    "not sent: the sender's address was not authenticated (DMARC), so it may be forged";

/// The largest message fetched (its size as the server gives it); larger ones are skipped.
pub const MAX_MESSAGE_BYTES: u32 = 10 * 1024 * 1024;

/// Messages fetched per batch (the cursor is saved after each).
const BATCH: usize = 25;

/// The longest one IMAP exchange (connect, TLS, a command) may take.
const EXCHANGE: Duration = Duration::from_secs(60);

/// The longest one run of the job stays in IDLE (then `DONE`, and the next run re-issues it on
/// the same connection): a stopping server never waits longer for the job.
const IDLE_SLICE: Duration = Duration::from_secs(25);

/// One e-mail as Tocsin takes it.
#[derive(Clone)]
pub struct Email {
    /// The From address, lower-cased (never stored in clear, never logged).
    pub sender: String,
    /// `msgid:<Message-ID>` (normalised) or, without one, `digest:<SHA-256 of the message>`.
    pub provider_id: String,
    /// The subject, a blank line, the body.
    pub text: String,
    /// Automatic or mailing-list mail: never answered.
    pub automatic: bool,
    /// The `Authentication-Results` headers, as written (lower-cased).
    pub auth_results: Vec<String>,
}

impl Email {
    /// Whether the mail server named `authserv_id` found the From address authentic: one of
    /// its `Authentication-Results` headers says `dmarc=pass`. Headers from any other server
    /// (a sender can write them) count for nothing.
    pub fn authenticated(&self, authserv_id: Option<&str>) -> bool {
        let Some(id) = authserv_id.map(|i| i.trim().to_ascii_lowercase()) else {
            return false;
        };
        self.auth_results.iter().any(|h| {
            let mut parts = h.split(';');
            let server = parts.next().unwrap_or("").split_whitespace().next();
            server == Some(id.as_str())
                && parts.any(|p| p.split_whitespace().next() == Some("dmarc=pass"))
        })
    }
}

impl std::fmt::Debug for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Email")
            .field("automatic", &self.automatic)
            .finish_non_exhaustive()
    }
}

/// Why a message was skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// Larger than [`MAX_MESSAGE_BYTES`], or its text longer than a report may be.
    TooLarge,
    /// Not a message at all.
    Unreadable,
    /// No From address that can be answered.
    NoSender,
    /// No text in the subject or the body.
    NoText,
}

impl Skip {
    /// For the log.
    pub fn as_str(self) -> &'static str {
        match self {
            Skip::TooLarge => "too large",
            Skip::Unreadable => "unreadable",
            Skip::NoSender => "no usable From address",
            Skip::NoText => "no text",
        }
    }
}

/// A Message-ID as a key: without its angle brackets and spaces, lower-cased; `None` when
/// there is nothing usable.
fn normalise_message_id(id: &str) -> Option<String> {
    let id = id
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim();
    (!id.is_empty() && id.len() <= 998 && !id.contains(char::is_whitespace))
        .then(|| id.to_lowercase())
}

/// A plausible mailbox address, lower-cased.
fn usable_address(a: &str) -> Option<String> {
    let a = a.trim();
    let (local, domain) = a.rsplit_once('@')?;
    (!local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && a.len() <= 254
        && !a.contains(|c: char| c.is_whitespace() || c.is_control() || c == '<' || c == '>'))
    .then(|| a.to_lowercase())
}

/// Whether the headers mark automatic or mailing-list mail.
fn automatic(m: &mail_parser::Message<'_>) -> bool {
    let raw = |name: &str| m.header_raw(name).map(|v| v.trim().to_ascii_lowercase());
    raw("Auto-Submitted").is_some_and(|v| !v.is_empty() && !v.starts_with("no"))
        || raw("List-Id").is_some()
        || raw("Precedence").is_some_and(|v| matches!(v.as_str(), "bulk" | "list" | "junk"))
}

/// Read one fetched message.
pub fn parse_email(raw: &[u8]) -> Result<Email, Skip> {
    if raw.len() > MAX_MESSAGE_BYTES as usize {
        return Err(Skip::TooLarge);
    }
    let m = mail_parser::MessageParser::default()
        .parse(raw)
        .ok_or(Skip::Unreadable)?;
    let sender = m
        .from()
        .and_then(|f| f.first())
        .and_then(|a| a.address())
        .and_then(usable_address)
        .ok_or(Skip::NoSender)?;
    let clean = |s: &str| {
        s.replace('\0', "\u{FFFD}")
            .replace("\r\n", "\n")
            .trim()
            .to_string()
    };
    let subject = m.subject().map(clean).unwrap_or_default();
    let body = m.body_text(0).map(|b| clean(&b)).unwrap_or_default();
    let text = match (subject.is_empty(), body.is_empty()) {
        (true, true) => return Err(Skip::NoText),
        (false, true) => subject,
        (true, false) => body,
        (false, false) => format!("{subject}\n\n{body}"),
    };
    if text.len() > tocsin_domain::report::MAX_TEXT_BYTES {
        return Err(Skip::TooLarge);
    }
    let provider_id = match m.message_id().and_then(normalise_message_id) {
        Some(id) => format!("msgid:{id}"),
        // Not `uidvalidity:uid`: a mailbox renumbered under a new UIDVALIDITY would make it
        // new. The message's own bytes are what stays.
        None => {
            use sha2::Digest;
            format!("digest:{}", hex::encode(sha2::Sha256::digest(raw)))
        }
    };
    let auth_results = m
        .headers()
        .iter()
        .filter(|h| h.name().eq_ignore_ascii_case("Authentication-Results"))
        .filter_map(|h| raw.get(h.offset_start() as usize..h.offset_end() as usize))
        .map(|v| {
            String::from_utf8_lossy(v)
                .replace(['\r', '\n'], " ")
                .to_ascii_lowercase()
        })
        .collect();
    Ok(Email {
        sender,
        provider_id,
        text,
        automatic: automatic(&m),
        auth_results,
    })
}

/// Store one e-mail as a report (see the module): through the same path as a messaging app's
/// message ([`crate::channels::ingest_incoming`]), acknowledged by e-mail when it may be.
pub async fn ingest_email(
    st: &AppState,
    e: Email,
    authserv_id: Option<&str>,
) -> Result<Ingested, GatewayError> {
    let not_sent = if e.automatic {
        Some(AUTOMATIC.to_string())
    } else if !e.authenticated(authserv_id) {
        Some(UNAUTHENTICATED.to_string())
    } else if !st.delivery.has_channel(SMTP) {
        Some(NO_SMTP.to_string())
    } else {
        None
    };
    let incoming = crate::channels::Incoming {
        channel: Channel::Email,
        contact: SourceContact {
            email: Some(e.sender.clone()),
            ..Default::default()
        },
        sender_id: e.sender,
        provider_id: e.provider_id,
        text: e.text,
    };
    crate::channels::ingest_incoming(st, incoming, |text, _| {
        Some(Ack {
            gateway: SMTP.to_string(),
            text,
            sender: None,
            not_sent,
        })
    })
    .await
}

/// The TLS client for `cfg`: the public roots and the CAs of `ca_file`; certificates and host
/// names always verified.
pub fn tls_connector(cfg: &ImapConfig) -> Result<TlsConnector, String> {
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(f) = &cfg.ca_file {
        let certs = rustls_pki_types::CertificateDer::pem_file_iter(f)
            .map_err(|e| format!("channels.imap.ca_file {}: {e}", f.display()))?;
        for c in certs {
            let c = c.map_err(|e| format!("channels.imap.ca_file {}: {e}", f.display()))?;
            roots
                .add(c)
                .map_err(|e| format!("channels.imap.ca_file {}: {e}", f.display()))?;
        }
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

type Session = async_imap::Session<tokio_rustls::client::TlsStream<TcpStream>>;

/// Why a run stopped.
#[derive(Debug)]
enum Failure {
    /// The server refused the login: said once, loudly.
    Refused(String),
    /// Anything else (network, TLS, storage): back off and retry.
    Unavailable(String),
}

impl Failure {
    fn message(self) -> String {
        match self {
            Failure::Refused(s) | Failure::Unavailable(s) => s,
        }
    }
}

/// `fut` within [`EXCHANGE`], its error described as `what`.
async fn within<T, E: std::fmt::Display>(
    what: &str,
    fut: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, Failure> {
    match tokio::time::timeout(EXCHANGE, fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(Failure::Unavailable(format!("{what}: {e}"))),
        Err(_) => Err(Failure::Unavailable(format!(
            "{what}: no answer within {} s",
            EXCHANGE.as_secs()
        ))),
    }
}

/// A server's words, without the password should it repeat it.
fn scrub(text: &str, cfg: &ImapConfig) -> String {
    let t: String = text.chars().filter(|c| !c.is_control()).take(200).collect();
    if cfg.password.0.is_empty() {
        t
    } else {
        t.replace(&cfg.password.0, "<redacted>")
    }
}

/// Connect, log in and select the mailbox: the session and the mailbox's UIDVALIDITY.
async fn connect(cfg: &ImapConfig, tls: &TlsConnector) -> Result<(Session, u32), Failure> {
    let addr = format!("{}:{}", cfg.host, cfg.port());
    let name = rustls_pki_types::ServerName::try_from(cfg.host.clone())
        .map_err(|e| Failure::Unavailable(format!("channels.imap.host: {e}")))?;
    let tcp = within(
        &format!("cannot reach the IMAP server {addr}"),
        TcpStream::connect(&addr),
    )
    .await?;
    let tcp = match cfg.security {
        ImapSecurity::Tls => tcp,
        ImapSecurity::Starttls => {
            let mut plain = async_imap::Client::new(tcp);
            within("no greeting from the IMAP server", async {
                plain
                    .read_response()
                    .await?
                    .ok_or_else(|| std::io::Error::other("connection closed"))
            })
            .await?;
            within(
                "the IMAP server refused STARTTLS",
                plain.run_command_and_check_ok("STARTTLS", None),
            )
            .await?;
            plain.into_inner()
        }
    };
    let stream = within(
        &format!("TLS with the IMAP server {addr} failed"),
        tls.connect(name, tcp),
    )
    .await?;
    let mut client = async_imap::Client::new(stream);
    if cfg.security == ImapSecurity::Tls {
        within("no greeting from the IMAP server", async {
            client
                .read_response()
                .await?
                .ok_or_else(|| std::io::Error::other("connection closed"))
        })
        .await?;
    }
    let login = tokio::time::timeout(EXCHANGE, client.login(&cfg.username, &cfg.password.0))
        .await
        .map_err(|_| Failure::Unavailable("the IMAP login got no answer".into()))?;
    let mut session = match login {
        Ok(s) => s,
        Err((async_imap::error::Error::No(why), _))
        | Err((async_imap::error::Error::Bad(why), _)) => {
            return Err(Failure::Refused(format!(
                "the IMAP server refused the login of channels.imap.username: {}",
                scrub(&why, cfg)
            )))
        }
        Err((e, _)) => {
            return Err(Failure::Unavailable(format!(
                "the IMAP login failed: {}",
                scrub(&e.to_string(), cfg)
            )))
        }
    };
    let mailbox = within(
        &format!("cannot select the mailbox {:?}", cfg.mailbox()),
        session.select(cfg.mailbox()),
    )
    .await?;
    let validity = mailbox.uid_validity.ok_or_else(|| {
        Failure::Unavailable("the IMAP server gave the mailbox no UIDVALIDITY".into())
    })?;
    Ok((session, validity))
}

/// What one fetch did.
#[derive(Debug, Default, Clone, Copy)]
struct Fetched {
    /// Messages newer than the cursor.
    seen: usize,
    /// Of those, stored as new reports.
    stored: usize,
    /// Skipped (see [`Skip`]).
    skipped: usize,
}

/// The cursor's name for a mailbox of this UIDVALIDITY.
pub fn cursor_name(uidvalidity: u32) -> String {
    format!("{JOB}:{uidvalidity}")
}

/// Take every message after the cursor, in batches, saving the cursor after each.
async fn fetch_new(
    st: &AppState,
    cfg: &ImapConfig,
    s: &mut Session,
    validity: u32,
) -> Result<Fetched, Failure> {
    let cursor = cursor_name(validity);
    let last = st
        .store
        .channel_cursor(&cursor)
        .await
        .map_err(|e| Failure::Unavailable(format!("cannot read the IMAP cursor: {e}")))?
        .unwrap_or(0)
        .clamp(0, u32::MAX as i64) as u32;
    if last == u32::MAX {
        return Ok(Fetched::default());
    }
    let mut sizes: Vec<(u32, u32)> = within("cannot list new messages", async {
        s.uid_fetch(format!("{}:*", last + 1), "(UID RFC822.SIZE)")
            .await?
            .try_collect::<Vec<_>>()
            .await
    })
    .await?
    .into_iter()
    .filter_map(|f| Some((f.uid?, f.size.unwrap_or(0))))
    // `n:*` names the last message even when its UID is below n.
    .filter(|(uid, _)| *uid > last)
    .collect();
    sizes.sort_unstable();
    sizes.dedup_by_key(|(uid, _)| *uid);
    let mut done = Fetched {
        seen: sizes.len(),
        ..Default::default()
    };
    for batch in sizes.chunks(BATCH) {
        let wanted: Vec<String> = batch
            .iter()
            .filter(|(_, size)| *size <= MAX_MESSAGE_BYTES)
            .map(|(uid, _)| uid.to_string())
            .collect();
        let mut bodies = std::collections::HashMap::new();
        if !wanted.is_empty() {
            let fetched = within("cannot fetch messages", async {
                s.uid_fetch(wanted.join(","), "(UID BODY.PEEK[])")
                    .await?
                    .try_collect::<Vec<_>>()
                    .await
            })
            .await?;
            for f in fetched {
                if let (Some(uid), Some(body)) = (f.uid, f.body()) {
                    bodies.insert(uid, body.to_vec());
                }
            }
        }
        for (uid, size) in batch {
            let parsed = match bodies.get(uid) {
                Some(raw) => parse_email(raw),
                None if *size > MAX_MESSAGE_BYTES => Err(Skip::TooLarge),
                // Gone meanwhile (expunged): nothing to take.
                None => Err(Skip::Unreadable),
            };
            match parsed {
                Ok(email) => match ingest_email(st, email, cfg.authserv_id.as_deref()).await {
                    Ok(i) if !i.duplicate => done.stored += 1,
                    Ok(_) => {}
                    Err(e) if e.status.is_client_error() => done.skipped += 1,
                    Err(e) => {
                        // Stored up to the one before: the cursor stays there.
                        if let Some(prev) = uid.checked_sub(1).filter(|p| *p > last) {
                            let _ = st.store.advance_channel_cursor(&cursor, prev as i64).await;
                        }
                        return Err(Failure::Unavailable(e.body.to_string()));
                    }
                },
                Err(why) => {
                    done.skipped += 1;
                    tracing::info!(
                        channel = "email",
                        uid,
                        reason = why.as_str(),
                        "message skipped"
                    );
                }
            }
        }
        let top = batch.last().map_or(last, |(uid, _)| *uid);
        st.store
            .advance_channel_cursor(&cursor, top as i64)
            .await
            .map_err(|e| Failure::Unavailable(format!("cannot save the IMAP cursor: {e}")))?;
    }
    Ok(done)
}

/// Whether the server said a message arrived since last asked (`next`: the session's queued
/// unsolicited responses).
fn news(mut next: impl FnMut() -> Option<UnsolicitedResponse>) -> bool {
    let mut any = false;
    while let Some(r) = next() {
        any |= matches!(
            r,
            UnsolicitedResponse::Exists(_) | UnsolicitedResponse::Recent(_)
        );
    }
    any
}

/// One run: connect when not connected, take what is new, then IDLE until the server says
/// something arrived or the slice ends. The connection is kept for the next run.
async fn run(
    st: &AppState,
    cfg: &ImapConfig,
    tls: &TlsConnector,
    slot: &tokio::sync::Mutex<Option<(Session, u32)>>,
) -> Result<Fetched, Failure> {
    let mut slot = slot.lock().await;
    let (mut session, validity) = match slot.take() {
        Some(c) => c,
        None => {
            let c = connect(cfg, tls).await?;
            tracing::info!(channel = "email", "connected to the IMAP mailbox");
            c
        }
    };
    let fetched = fetch_new(st, cfg, &mut session, validity).await?;
    if fetched.seen > 0 {
        tracing::info!(
            channel = "email",
            seen = fetched.seen,
            stored = fetched.stored,
            skipped = fetched.skipped,
            "mailbox read"
        );
    }
    let rx = session.unsolicited_responses.clone();
    if news(|| rx.try_recv().ok()) {
        *slot = Some((session, validity));
        return Ok(fetched);
    }
    let mut idle = session.idle();
    within("the IMAP server refused IDLE", idle.init()).await?;
    // What came before IDLE's continuation is queued, not waited for.
    if !news(|| rx.try_recv().ok()) {
        let (wait, _stop) = idle.wait_with_timeout(cfg.idle().min(IDLE_SLICE));
        // Whatever it says (a new message, an expunge, a timeout), the next run fetches.
        wait.await
            .map_err(|e| Failure::Unavailable(format!("IMAP IDLE failed: {e}")))?;
    }
    let session = within("the IMAP server did not end IDLE", idle.done()).await?;
    *slot = Some((session, validity));
    Ok(fetched)
}

/// The IMAP reader as a job (`imap`, one server at a time, see the module). Failures back off
/// from one second to five minutes; a refused login is logged as such, without the password.
pub fn imap_job(st: AppState, cfg: ImapConfig) -> Result<Job, String> {
    cfg.validate()?;
    let tls = tls_connector(&cfg)?;
    let shared = Arc::new((cfg, tls, tokio::sync::Mutex::new(None)));
    Ok(Job::new(JOB, Duration::from_millis(100), move || {
        let st = st.clone();
        let shared = shared.clone();
        async move {
            let (cfg, tls, slot) = &*shared;
            match run(&st, cfg, tls, slot).await {
                Ok(_) => Ok(Progress {
                    backlog: None,
                    more: true,
                }),
                Err(Failure::Refused(e)) => {
                    tracing::error!(channel = "email", "{e}");
                    Err(JobError::from(e))
                }
                Err(f) => Err(JobError::from(f.message())),
            }
        }
    })
    .singleton()
    .backoff(Backoff {
        base: Duration::from_secs(1),
        max: Duration::from_secs(300),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Only a DMARC pass written by the configured server vouches for a From address; without a
    /// configured server nothing does.
    #[test]
    fn a_sender_is_authenticated_only_by_the_configured_server() {
        let raw = b"Authentication-Results: MX.Example.org;\r\n spf=pass;\r\n dmarc=pass header.from=a.org\r\n\
Authentication-Results: evil.example; dmarc=pass\r\nFrom: a@a.org\r\nSubject: s\r\n\r\nbody\r\n";
        let e = parse_email(raw).unwrap();
        assert_eq!(e.auth_results.len(), 2, "{:?}", e.auth_results);
        assert!(e.authenticated(Some("mx.example.org")));
        assert!(!e.authenticated(Some("mx.other.org")));
        assert!(!e.authenticated(None));
        let fail = parse_email(
            b"Authentication-Results: mx.example.org; dmarc=fail\r\nFrom: a@a.org\r\n\r\nbody\r\n",
        )
        .unwrap();
        assert!(!fail.authenticated(Some("mx.example.org")));
        // Its name in a comment or another property is no pass.
        let sneaky = parse_email(b"Authentication-Results: mx.example.org; spf=pass (dmarc=pass)\r\nFrom: a@a.org\r\n\r\nbody\r\n").unwrap();
        assert!(!sneaky.authenticated(Some("mx.example.org")));
    }

    const OK: &str = "From: Warner <Warner@Example.ORG>\r\nTo: reports@example.org\r\n\
        Subject: Armed men\r\nMessage-ID: <ABC@mail.example.org>\r\n\r\nnear the market\r\n";

    #[test]
    fn a_plain_message_keeps_subject_body_and_its_id() {
        let e = parse_email(OK.as_bytes()).unwrap();
        assert_eq!(e.sender, "warner@example.org");
        assert_eq!(e.provider_id, "msgid:abc@mail.example.org");
        assert_eq!(e.text, "Armed men\n\nnear the market");
        assert!(!e.automatic);
        assert!(!format!("{e:?}").contains("warner"));
        let no_id = OK.replace("Message-ID: <ABC@mail.example.org>\r\n", "");
        let e = parse_email(no_id.as_bytes()).unwrap();
        assert!(e.provider_id.starts_with("digest:"), "{}", e.provider_id);
        assert_eq!(
            e.provider_id,
            parse_email(no_id.as_bytes()).unwrap().provider_id
        );
    }

    #[test]
    fn charsets_encodings_multipart_and_html_are_read() {
        let qp = "From: a@b.org\r\nSubject: =?UTF-8?Q?Caf=C3=A9?=\r\nMIME-Version: 1.0\r\n\
            Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
            Hommes arm=E9s pr=E8s du march=E9\r\n";
        assert_eq!(
            parse_email(qp.as_bytes()).unwrap().text,
            "Café\n\nHommes armés près du marché"
        );
        let multi = "From: a@b.org\r\nSubject: s\r\nMIME-Version: 1.0\r\n\
            Content-Type: multipart/alternative; boundary=XX\r\n\r\n--XX\r\n\
            Content-Type: text/html; charset=utf-8\r\n\r\n<p>in <b>html</b></p>\r\n--XX\r\n\
            Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n\
            cGxhaW4gdGV4dA==\r\n--XX--\r\n";
        assert_eq!(
            parse_email(multi.as_bytes()).unwrap().text,
            "s\n\nplain text"
        );
        let html = "From: a@b.org\r\nMIME-Version: 1.0\r\nContent-Type: text/html\r\n\r\n\
            <html><body><p>Only <i>html</i> here</p></body></html>\r\n";
        let t = parse_email(html.as_bytes()).unwrap().text;
        assert!(t.contains("Only html here") && !t.contains('<'), "{t}");
    }

    #[test]
    fn unusable_messages_are_skipped_and_automatic_ones_marked() {
        let no_from = "Subject: x\r\n\r\nbody\r\n";
        assert_eq!(parse_email(no_from.as_bytes()).unwrap_err(), Skip::NoSender);
        let bad_from = "From: undisclosed recipients\r\n\r\nbody\r\n";
        assert_eq!(
            parse_email(bad_from.as_bytes()).unwrap_err(),
            Skip::NoSender
        );
        let empty = "From: a@b.org\r\nSubject:  \r\n\r\n   \r\n";
        assert_eq!(parse_email(empty.as_bytes()).unwrap_err(), Skip::NoText);
        let long = format!("From: a@b.org\r\n\r\n{}\r\n", "x".repeat(70_000));
        assert_eq!(parse_email(long.as_bytes()).unwrap_err(), Skip::TooLarge);
        for h in [
            "Auto-Submitted: auto-replied",
            "List-Id: <l.example.org>",
            "Precedence: bulk",
        ] {
            let m = format!("From: a@b.org\r\n{h}\r\n\r\nbody\r\n");
            assert!(parse_email(m.as_bytes()).unwrap().automatic, "{h}");
        }
        let broken = "From: a@b.org\r\nMIME-Version: 1.0\r\n\
            Content-Type: multipart/mixed; boundary=\"never\"\r\n\r\n--nev\r\n\
            Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!\r\n";
        assert_eq!(parse_email(broken.as_bytes()).unwrap_err(), Skip::NoText);
        let junk = b"From: \xff\xfe\x80 junk \xc3\x28\r\nSubject: \xfe\xff\r\n\r\n\xff\xfe\x81\r\n";
        assert_eq!(parse_email(junk).unwrap_err(), Skip::NoSender);
        let m = "From: a@b.org\r\nAuto-Submitted: no\r\n\r\nbody\r\n";
        assert!(!parse_email(m.as_bytes()).unwrap().automatic);
    }
}
