//! A real dovecot IMAP server for the e-mail tests: its own process on 127.0.0.1 ephemeral
//! ports, a generated configuration in a temporary directory (maildir, a passwd-file user,
//! `ssl = required` with a certificate for `localhost` signed by a CA generated here, whose PEM
//! file is Tocsin's `ca_file`), and an IMAP client to APPEND messages with.
//!
//! Skipped (with a message) when `/usr/sbin/dovecot` is absent; `TOCSIN_REQUIRE_IMAP=1` (CI)
//! makes its absence a failure.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_rustls::rustls;

/// Where Debian's dovecot-imapd puts it.
pub const DOVECOT: &str = "/usr/sbin/dovecot";

/// The one mail user.
pub const USER: &str = "reports";

/// A running dovecot, stopped when dropped.
pub struct Dovecot {
    child: Child,
    /// Its configuration, certificates, mail and log.
    pub dir: tempfile::TempDir,
    /// IMAPS (TLS from the first byte).
    pub imaps_port: u16,
    /// IMAP with STARTTLS (plain logins refused before it).
    pub imap_port: u16,
    /// The CA that signed its certificate (PEM), for `ca_file`.
    pub ca_file: PathBuf,
    /// The user's password.
    pub password: String,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Dovecot {
    /// Start one with user [`USER`] and `password`; `None` (said on stderr) when dovecot is
    /// not installed and not required.
    pub fn start(password: &str) -> Option<Dovecot> {
        if !std::path::Path::new(DOVECOT).exists() {
            assert!(
                std::env::var("TOCSIN_REQUIRE_IMAP").as_deref() != Ok("1"),
                "TOCSIN_REQUIRE_IMAP=1 but {DOVECOT} is absent (apt-get install dovecot-imapd)"
            );
            eprintln!("skipping: {DOVECOT} is absent (apt-get install dovecot-imapd)");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        // The CA, and a certificate for localhost signed by it.
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(rcgen::DnType::CommonName, "Tocsin test CA");
        ca.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::from_params(&ca, &ca_key);
        let key = rcgen::KeyPair::generate().unwrap();
        let leaf = rcgen::CertificateParams::new(vec!["localhost".to_string()])
            .unwrap()
            .signed_by(&key, &issuer)
            .unwrap();
        let ca_file = d.join("ca.pem");
        std::fs::write(&ca_file, ca_cert.pem()).unwrap();
        std::fs::write(d.join("cert.pem"), leaf.pem()).unwrap();
        std::fs::write(d.join("key.pem"), key.serialize_pem()).unwrap();
        std::fs::write(
            d.join("passwd"),
            format!("{USER}:{{PLAIN}}{password}::::::\n"),
        )
        .unwrap();
        // Mail belongs to an unprivileged user (dovecot refuses root).
        let mail = d.join("mail");
        std::fs::create_dir_all(&mail).unwrap();
        let _ = Command::new("chown")
            .args(["-R", "65534:65534"])
            .arg(&mail)
            .status();
        let (imaps_port, imap_port) = (free_port(), free_port());
        let conf = d.join("dovecot.conf");
        std::fs::write(
            &conf,
            format!(
                r#"base_dir = {d}/run
state_dir = {d}/state
instance_name = tocsin-test-{imaps_port}
protocols = imap
listen = 127.0.0.1
log_path = {d}/dovecot.log
ssl = required
ssl_cert = <{d}/cert.pem
ssl_key = <{d}/key.pem
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = plain login
first_valid_uid = 1
mail_location = maildir:{d}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {d}/passwd
}}
userdb {{
  driver = static
  args = uid=65534 gid=65534 home={d}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"#,
                d = d.display()
            ),
        )
        .unwrap();
        let child = Command::new(DOVECOT)
            .arg("-F")
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start dovecot");
        let dovecot = Dovecot {
            child,
            dir,
            imaps_port,
            imap_port,
            ca_file,
            password: password.to_string(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", imaps_port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "dovecot did not listen: {}",
                dovecot.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(dovecot)
    }

    /// Its log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dovecot.log")).unwrap_or_default()
    }

    /// `[channels.imap]` for Tocsin over IMAPS (`with_ca`: trusting the generated CA).
    pub fn tocsin_section(&self, password: &str, with_ca: bool) -> String {
        let mut s = format!(
            "[channels.imap]\nhost = \"localhost\"\nport = {}\nusername = \"{USER}\"\n\
             password = \"{password}\"\nsecurity = \"tls\"\nidle_secs = 60\n",
            self.imaps_port
        );
        if with_ca {
            s.push_str(&format!("ca_file = \"{}\"\n", self.ca_file.display()));
        }
        s
    }

    /// An IMAP client logged in as the user, with INBOX selected.
    pub async fn client(&self) -> Appender {
        use rustls_pki_types::pem::PemObject;
        let mut roots = rustls::RootCertStore::empty();
        for c in rustls_pki_types::CertificateDer::pem_file_iter(&self.ca_file).unwrap() {
            roots.add(c.unwrap()).unwrap();
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", self.imaps_port))
            .await
            .unwrap();
        let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(
                rustls_pki_types::ServerName::try_from("localhost").unwrap(),
                tcp,
            )
            .await
            .unwrap();
        let mut client = async_imap::Client::new(tls);
        client.read_response().await.unwrap().unwrap();
        let mut session = client
            .login(USER, &self.password)
            .await
            .map_err(|(e, _)| e)
            .unwrap();
        session.select("INBOX").await.unwrap();
        Appender { session }
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

/// A logged-in IMAP session that appends messages.
pub struct Appender {
    /// The session.
    pub session: async_imap::Session<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>,
}

impl Appender {
    /// APPEND one message to INBOX.
    pub async fn append(&mut self, raw: &[u8]) {
        self.session.append("INBOX", None, None, raw).await.unwrap();
    }
}
