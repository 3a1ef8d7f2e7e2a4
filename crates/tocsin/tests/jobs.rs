//! Background work of the real binary across `kill -9`: a reply queued while its gateway is
//! down survives the kill and is sent, once, by the restarted server.

mod common;

use axum::extract::{RawQuery, State};
use common::{tocsin, Server};
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SECRET: &str = "kannel-inbound-secret-0123456789";

fn config(dir: &std::path::Path, name: &str, sendsms_url: &str) -> String {
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!(
            "[sms]\ndefault_calling_code = \"236\"\n[sms.kannel]\nsendsms_url = \"{sendsms_url}\"\n\
             username = \"tocsin\"\npassword = \"pw\"\nfrom = \"1234\"\ninbound_secret = \"{SECRET}\"\n"
        ),
    )
    .unwrap();
    path.display().to_string()
}

fn serve(dir: &std::path::Path, config: &str) -> Server {
    let mut cmd = tocsin(
        dir,
        None,
        &["--config", config, "serve", "--listen", "127.0.0.1:0"],
    );
    cmd.stderr(std::process::Stdio::null());
    Server::spawn(cmd)
}

async fn detail(base: &str) -> Value {
    reqwest::get(format!("{base}/healthz?detail"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Poll `/healthz?detail` (at most a minute) until `f` holds of it.
async fn until_health(base: &str, f: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..600 {
        let v = detail(base).await;
        if f(&v) {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "/healthz never showed the expected state: {}",
        detail(base).await
    );
}

type Seen = Arc<Mutex<Vec<String>>>;

async fn gateway() -> (String, Seen) {
    async fn sendsms(State(seen): State<Seen>, RawQuery(q): RawQuery) -> &'static str {
        seen.lock().unwrap().push(q.unwrap_or_default());
        "0: Accepted for delivery"
    }
    let seen = Seen::default();
    let app = axum::Router::new()
        .route("/cgi-bin/sendsms", axum::routing::get(sendsms))
        .with_state(seen.clone());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/cgi-bin/sendsms", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (url, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_reply_survives_kill9_and_is_sent_once_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let down = config(
        dir.path(),
        "down.toml",
        &format!("http://{dead}/cgi-bin/sendsms"),
    );
    let server = serve(dir.path(), &down);
    let r = reqwest::get(format!(
        "{}/sms/kannel?secret={SECRET}&sender=%2B23670012345&to=1234&id=k-1&message=ATTAQUE+Bria",
        server.base
    ))
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    // The acknowledgement is queued; its gateway is down, so it waits for a retry.
    let v = until_health(&server.base, |v| {
        v["jobs"]["outbox"]["pending"] == 1 && v["jobs"]["outbox"]["last_error"].is_string()
    })
    .await;
    assert!(
        !v.to_string().contains("23670012345"),
        "no number in /healthz: {v}"
    );
    server.kill9();

    // Restarted with the gateway up: the reply goes out, once.
    let (url, seen) = gateway().await;
    let up = config(dir.path(), "up.toml", &url);
    let server = serve(dir.path(), &up);
    until_health(&server.base, |v| v["jobs"]["outbox"]["pending"] == 0).await;
    let sent = seen.lock().unwrap().clone();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0].contains("to=%2B23670012345"), "{}", sent[0]);
    // A while later, still once.
    let v = until_health(&server.base, |v| v["jobs"]["outbox"]["last_ok"].is_string()).await;
    assert_eq!(v["status"], "ok");
    assert_eq!(seen.lock().unwrap().len(), 1);
}
