//! SMS gateways against a real server: each provider's payloads, signatures and secrets,
//! duplicates, byte-exact texts, and the outbox sending through mock gateways.

use axum::extract::State;
use axum::routing::{get, post};
use reqwest::{Client, StatusCode};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tocsin_domain::{Actor, ApiToken, ContactKey, NewUser, OutboxStatus, Role};
use tocsin_server::sms::{
    self, AfricasTalkingConfig, KannelConfig, Secret, SecretOnly, SmsConfig, TwilioConfig,
};
use tocsin_server::AppState;
use tocsin_store::{DynStore, Op, StoreExt};

const TOKEN: &str = "twilio-auth-token";

/// Requests a mock gateway received: (path, form or query pairs).
type Seen = Arc<Mutex<Vec<(String, BTreeMap<String, String>)>>>;

async fn mock_gateway(seen: Seen) -> String {
    async fn record(
        State(seen): State<Seen>,
        uri: axum::http::Uri,
        body: axum::body::Bytes,
    ) -> (StatusCode, String) {
        let mut pairs: BTreeMap<String, String> =
            serde_urlencoded::from_str(uri.query().unwrap_or("")).unwrap_or_default();
        if let Ok(form) = serde_urlencoded::from_bytes::<BTreeMap<String, String>>(&body) {
            pairs.extend(form);
        }
        let n = {
            let mut s = seen.lock().unwrap();
            s.push((uri.path().to_string(), pairs));
            s.len()
        };
        if uri.path().ends_with("Messages.json") {
            (StatusCode::CREATED, format!("{{\"sid\": \"SM{n}\"}}"))
        } else if uri.path().ends_with("messaging") {
            (
                StatusCode::CREATED,
                format!("{{\"SMSMessageData\": {{\"Recipients\": [{{\"status\": \"Success\", \"messageId\": \"AT{n}\"}}]}}}}"),
            )
        } else {
            (StatusCode::ACCEPTED, "0: Accepted for delivery".into())
        }
    }
    let app = axum::Router::new()
        .route("/cgi-bin/sendsms", get(record))
        .route("/2010-04-01/Accounts/{sid}/Messages.json", post(record))
        .route("/version1/messaging", post(record))
        .with_state(seen);
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    base
}

struct App {
    base: String,
    store: DynStore,
    client: Client,
    state: AppState,
    analyst: String,
    seen: Seen,
    _dir: tempfile::TempDir,
}

async fn start(enable: bool) -> App {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let store: DynStore = Arc::new(tocsin_store_sqlite::SqliteStore::open(&url).await.unwrap());
    let u = store
        .create_user(
            &Actor::system("t"),
            NewUser::build("ana", Role::Analyst, None).unwrap(),
        )
        .await
        .unwrap();
    let (t, analyst) = ApiToken::generate(u.id, "t", None);
    store
        .write(&Actor::system("t"), Op::CreateToken(t))
        .await
        .unwrap();
    let seen: Seen = Arc::default();
    let gw = mock_gateway(seen.clone()).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let cfg = if enable {
        SmsConfig {
            default_calling_code: Some("236".into()),
            country_hint: Some("CAF".into()),
            public_url: Some(base.clone()),
            kannel: Some(KannelConfig {
                sendsms_url: format!("{gw}/cgi-bin/sendsms"),
                username: "tocsin".into(),
                password: Secret("kpass".into()),
                from: None,
                inbound_secret: None,
            }),
            twilio: Some(TwilioConfig {
                account_sid: "AC123".into(),
                auth_token: Secret(TOKEN.into()),
                from: "+15550001111".into(),
                api_base: Some(gw.clone()),
            }),
            africastalking: Some(AfricasTalkingConfig {
                username: "sandbox".into(),
                api_key: Secret("at-key".into()),
                from: None,
                api_base: Some(gw.clone()),
                inbound_secret: None,
            }),
            frontlinesms: Some(SecretOnly {
                secret: Secret("fl-secret".into()),
            }),
            smssync: Some(SecretOnly {
                secret: Secret("ss-secret".into()),
            }),
            ..Default::default()
        }
    } else {
        SmsConfig::default()
    };
    let state = AppState::new(store.clone(), ContactKey::generate(), false).with_sms(cfg);
    tokio::spawn(tocsin_server::serve(
        listener,
        state.clone(),
        std::future::pending(),
    ));
    App {
        base,
        store,
        client: Client::new(),
        state,
        analyst,
        seen,
        _dir: dir,
    }
}

impl App {
    async fn form(
        &self,
        path: &str,
        pairs: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> (StatusCode, String) {
        let mut req = self
            .client
            .post(format!("{}{}", self.base, path))
            .form(pairs);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let r = req.send().await.unwrap();
        (r.status(), r.text().await.unwrap())
    }

    async fn twilio(&self, pairs: &[(&str, &str)], sign: bool) -> (StatusCode, String) {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let sig = sms::twilio_signature(
            if sign { TOKEN } else { "wrong" },
            &format!("{}/sms/twilio", self.base),
            &map,
        );
        self.form("/sms/twilio", pairs, &[("X-Twilio-Signature", &sig)])
            .await
    }

    async fn reports(&self) -> Vec<Value> {
        let r: Value = self
            .client
            .get(format!(
                "{}/api/v1/reports?limit=500&channel=sms",
                self.base
            ))
            .bearer_auth(&self.analyst)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        r["items"].as_array().unwrap().clone()
    }

    /// Run the outbox worker until it has nothing left to send.
    async fn drain_outbox(&self) {
        let (tx, rx) = tokio::sync::watch::channel(false);
        let worker = tokio::spawn(sms::run_outbox(self.state.clone(), rx));
        for _ in 0..100 {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            let pending = self
                .store
                .list_outbound(None, 1000)
                .await
                .unwrap()
                .iter()
                .any(|m| {
                    matches!(m.status, OutboxStatus::Queued | OutboxStatus::Sending)
                        && m.gateway != "smssync"
                });
            if !pending {
                break;
            }
        }
        tx.send(true).unwrap();
        worker.await.unwrap();
    }
}

#[tokio::test]
async fn twilio_signature_duplicates_and_exact_text() {
    let app = start(true).await;
    let text = "ATTAQUE à Bria 🚨 ce matin — مسلحون";
    let msg = [
        ("MessageSid", "SM1"),
        ("AccountSid", "AC123"),
        ("From", "+236 70 01 23 45"),
        ("To", "+15550001111"),
        ("Body", text),
        ("NumMedia", "0"),
    ];
    let (s, body) = app.twilio(&msg, false).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    assert!(
        app.reports().await.is_empty(),
        "a bad signature stores nothing"
    );
    let (s, body) = app.twilio(&msg, true).await;
    assert_eq!(s, StatusCode::OK);
    assert!(body.contains("<Response>"));
    // Twilio retries the same MessageSid: still one report.
    assert_eq!(app.twilio(&msg, true).await.0, StatusCode::OK);
    let reports = app.reports().await;
    assert_eq!(reports.len(), 1);
    let r = &reports[0];
    assert_eq!(r["text"], text, "stored byte-exact");
    assert_eq!(r["provider_message_id"], "twilio:SM1");
    assert_eq!(r["language"], "fr");
    assert!(r["source"].as_str().unwrap().starts_with("M-"));
    assert!(!r.to_string().contains("70 01 23 45") && !r.to_string().contains("23670012345"));
    let (s, _) = app
        .twilio(&[("MessageSid", "SM2"), ("Body", "no sender")], true)
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    // The acknowledgement goes out once, to the sender's number, through Twilio.
    app.drain_outbox().await;
    let seen = app.seen.lock().unwrap().clone();
    let sent: Vec<_> = seen
        .iter()
        .filter(|(p, _)| p.ends_with("Messages.json"))
        .collect();
    assert_eq!(sent.len(), 1, "{seen:?}");
    assert_eq!(sent[0].1["To"], "+23670012345");
    assert!(sent[0].1["Body"].contains("R-"), "{:?}", sent[0].1);
    assert!(!sent[0].1["Body"].contains("Bria"), "never echo the text");
    // Status callback: delivered.
    let cb = [("MessageSid", "SM1"), ("MessageStatus", "delivered")];
    let map: BTreeMap<String, String> = cb
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let sig = sms::twilio_signature(TOKEN, &format!("{}/sms/twilio/status", app.base), &map);
    let (s, _) = app
        .form("/sms/twilio/status", &cb, &[("X-Twilio-Signature", &sig)])
        .await;
    assert_eq!(s, StatusCode::OK);
    let out = app.store.list_outbound(None, 10).await.unwrap();
    assert_eq!(out[0].status, OutboxStatus::Delivered);
}

#[tokio::test]
async fn kannel_ucs2_exact_and_redelivery() {
    let app = start(true).await;
    let arabic = "هجوم على القرية الليلة 🚨";
    let utf16: Vec<u8> = arabic
        .encode_utf16()
        .flat_map(|u| u.to_be_bytes())
        .collect();
    let encoded: String = utf16.iter().map(|b| format!("%{b:02X}")).collect();
    let url = format!("{}/sms/kannel?id=77&sender=%2B23675000001&to=1234&message={encoded}&coding=2&charset=UTF-16BE", app.base);
    for _ in 0..3 {
        let r = app.client.get(&url).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["cache-control"], "no-store");
        assert_eq!(
            r.text().await.unwrap(),
            "",
            "an empty body: Kannel sends no reply of its own"
        );
    }
    let reports = app.reports().await;
    assert_eq!(reports.len(), 1, "re-delivery stores nothing new");
    assert_eq!(reports[0]["text"], arabic);
    assert_eq!(reports[0]["language"], "ar");
    // 10 kB of mixed script in UTF-8 through post-url.
    let long: String = "Hommes armés – وصل المسلحون – wanamgambo 🚨 ".repeat(220);
    assert!(long.len() > 10_000);
    let r = app
        .client
        .post(format!(
            "{}/sms/kannel?id=78&sender=%2B23675000002&charset=UTF-8",
            app.base
        ))
        .header("content-type", "text/plain")
        .body(long.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(app
        .reports()
        .await
        .iter()
        .any(|r| r["text"] == long.as_str()));
    let r = app
        .client
        .get(format!("{}/sms/kannel?id=79&message=hi", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "missing sender");
    let r = app
        .client
        .get(format!(
            "{}/sms/kannel?id=80&sender=1&message=%D8&coding=2",
            app.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "odd UCS-2 byte count");
    // Acknowledgements go out through sendsms, once per report, in the message's language.
    app.drain_outbox().await;
    let seen = app.seen.lock().unwrap().clone();
    let sent: Vec<_> = seen
        .iter()
        .filter(|(p, _)| p == "/cgi-bin/sendsms")
        .collect();
    assert_eq!(sent.len(), 2, "{seen:?}");
    let to_arabic = sent
        .iter()
        .find(|(_, q)| q["to"] == "+23675000001")
        .unwrap();
    assert!(
        to_arabic.1["text"]
            .chars()
            .any(|c| ('\u{0600}'..='\u{06FF}').contains(&c)),
        "Arabic ack: {:?}",
        to_arabic.1
    );
    assert_eq!(to_arabic.1["coding"], "2");
    assert!(to_arabic.1["dlr-url"].contains("/sms/kannel/dlr?id="));
    // Kannel's delivery report.
    let id = to_arabic.1["dlr-url"]
        .split("id=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_string();
    let r = app
        .client
        .get(format!("{}/sms/kannel/dlr?id={id}&status=1", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let m = app
        .store
        .get_outbound(uuid::Uuid::parse_str(&id).unwrap())
        .await
        .unwrap();
    assert_eq!(m.status, OutboxStatus::Delivered);
}

#[tokio::test]
async fn africastalking_frontlinesms_and_smssync() {
    let app = start(true).await;
    let at = [
        ("id", "ATX1"),
        ("text", "SHAMBULIO Bangui watu 5"),
        ("from", "+254700000001"),
        ("to", "12345"),
        ("date", "2025-03-01 10:00:00"),
        ("linkId", "L1"),
    ];
    assert_eq!(
        app.form("/sms/africastalking", &at, &[]).await.0,
        StatusCode::OK
    );
    assert_eq!(
        app.form("/sms/africastalking", &at, &[]).await.0,
        StatusCode::OK
    );
    assert_eq!(
        app.form("/sms/africastalking", &[("id", "x")], &[]).await.0,
        StatusCode::BAD_REQUEST
    );
    // FrontlineSMS: the secret is checked.
    let fl = [
        ("secret", "nope"),
        ("from", "+23670000002"),
        ("message", "MENACE Bossangoa"),
    ];
    assert_eq!(
        app.form("/sms/frontlinesms", &fl, &[]).await.0,
        StatusCode::FORBIDDEN
    );
    let r = app
        .client
        .post(format!("{}/sms/frontlinesms", app.base))
        .json(&serde_json::json!({"secret": "fl-secret", "from": "+23670000002", "message": "MENACE Bossangoa"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // SMSSync: wrong secret refused in its own protocol, right one stored.
    let ss = [
        ("secret", "bad"),
        ("from", "+23670000003"),
        ("message", "RUMEUR à Bambari"),
        ("sent_to", "1"),
        ("sent_timestamp", "1"),
    ];
    let (_, body) = app.form("/sms/smssync", &ss, &[]).await;
    assert!(body.contains("\"success\":false"), "{body}");
    let ss = [
        ("secret", "ss-secret"),
        ("from", "+23670000003"),
        ("message", "RUMEUR à Bambari"),
        ("sent_to", "1"),
        ("sent_timestamp", "1"),
        ("message_id", "u-1"),
    ];
    let (_, body) = app.form("/sms/smssync", &ss, &[]).await;
    assert!(body.contains("\"success\":true"), "{body}");
    let reports = app.reports().await;
    assert_eq!(reports.len(), 3, "{reports:?}");
    let sw = reports
        .iter()
        .find(|r| r["provider_message_id"] == "africastalking:ATX1")
        .unwrap();
    assert_eq!(
        (sw["language"].as_str(), sw["category"].as_str()),
        (Some("sw"), Some("attack"))
    );
    // The phone polls for its replies: the acknowledgement, with the number it must text.
    let poll = format!("{}/sms/smssync?task=send&secret=ss-secret", app.base);
    let v: Value = app
        .client
        .get(&poll)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let msgs = v["payload"]["messages"].as_array().unwrap().clone();
    assert_eq!(msgs.len(), 1, "{v}");
    assert_eq!(msgs[0]["to"], "+23670000003");
    let uuid = msgs[0]["uuid"].as_str().unwrap().to_string();
    let r = app
        .client
        .post(format!("{}/sms/smssync?task=sent", app.base))
        .json(&serde_json::json!({"queued_messages": [uuid]}))
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains(&uuid));
    let v: Value = app
        .client
        .get(&poll)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        v["payload"]["messages"].as_array().unwrap().is_empty(),
        "a confirmed message is not offered again"
    );
    assert_eq!(
        app.client
            .get(format!("{}/sms/smssync?task=send&secret=x", app.base))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    // Africa's Talking sends its ack through its REST API.
    app.drain_outbox().await;
    let seen = app.seen.lock().unwrap().clone();
    assert_eq!(
        seen.iter()
            .filter(|(p, _)| p == "/version1/messaging")
            .count(),
        1
    );
}

#[tokio::test]
async fn disabled_gateways_answer_404_and_analysts_message_sources() {
    let off = start(false).await;
    for path in [
        "/sms/kannel",
        "/sms/twilio",
        "/sms/africastalking",
        "/sms/frontlinesms",
        "/sms/smssync",
    ] {
        let r = off
            .client
            .post(format!("{}{}", off.base, path))
            .form(&[("a", "b")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{path}");
    }
    let app = start(true).await;
    let msg = [
        ("MessageSid", "SM9"),
        ("From", "+23670009999"),
        ("Body", "MOVE Kaga-Bandoro"),
    ];
    assert_eq!(app.twilio(&msg, true).await.0, StatusCode::OK);
    let handle = app.reports().await[0]["source"]
        .as_str()
        .unwrap()
        .to_string();
    let src = app.store.get_source_by_handle(&handle).await.unwrap();
    let r = app
        .client
        .post(format!("{}/api/v1/sources/{}/messages", app.base, src.id))
        .bearer_auth(&app.analyst)
        .json(&serde_json::json!({"text": "How many armed men did you see?"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let body = r.text().await.unwrap();
    assert!(
        !body.contains("23670009999"),
        "the analyst never sees the number: {body}"
    );
    assert!(body.contains("\"gateway\":\"twilio\""), "{body}");
    app.drain_outbox().await;
    let seen = app.seen.lock().unwrap().clone();
    let sent: Vec<_> = seen
        .iter()
        .filter(|(p, _)| p.ends_with("Messages.json"))
        .map(|(_, f)| f.clone())
        .collect();
    assert_eq!(sent.len(), 2, "ack + follow-up");
    assert!(sent
        .iter()
        .any(|f| f["Body"] == "How many armed men did you see?" && f["To"] == "+23670009999"));
}
