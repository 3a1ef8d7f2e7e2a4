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

const TOKEN: &str = "twilio-auth-token-0123456789";
/// Inbound secrets (at least 24 characters, as `tocsin serve` requires).
const KANNEL_SECRET: &str = "kannel-inbound-secret-0123456789";
const AT_SECRET: &str = "africastalking-secret-0123456789";
const FL_SECRET: &str = "frontlinesms-secret-0123456789";
const SS_SECRET: &str = "smssync-secret-0123456789abcdef";

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
        let query: BTreeMap<String, String> =
            serde_urlencoded::from_str(uri.query().unwrap_or("")).unwrap_or_default();
        if uri.path() == "/cgi-bin/sendsms" && !query.contains_key("from") {
            // As a smsbox with no global sender answers.
            (
                StatusCode::BAD_REQUEST,
                "Sender missing and no global set, rejected".into(),
            )
        } else if uri.path().ends_with("Messages.json") {
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
    start_with(enable, |_| {}).await
}

async fn start_with(enable: bool, tune: impl FnOnce(&mut SmsConfig)) -> App {
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
                inbound_secret: Some(Secret(KANNEL_SECRET.into())),
                allow_from: vec![],
            }),
            twilio: Some(TwilioConfig {
                account_sid: "AC123".into(),
                auth_token: Secret(TOKEN.into()),
                from: "+15550001111".into(),
                api_base: Some(gw.clone()),
                allow_from: vec![],
            }),
            africastalking: Some(AfricasTalkingConfig {
                username: "sandbox".into(),
                api_key: Secret("at-key".into()),
                from: Some("12345".into()),
                api_base: Some(gw.clone()),
                inbound_secret: Some(Secret(AT_SECRET.into())),
                allow_from: vec![],
            }),
            frontlinesms: Some(SecretOnly {
                secret: Secret(FL_SECRET.into()),
                allow_from: vec![],
            }),
            smssync: Some(SecretOnly {
                secret: Secret(SS_SECRET.into()),
                allow_from: vec![],
            }),
            ..Default::default()
        }
    } else {
        SmsConfig::default()
    };
    let mut cfg = cfg;
    tune(&mut cfg);
    cfg.validate()
        .expect("a configuration tocsin serve accepts");
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
    assert!(
        r.get("provider_message_id").is_none() && !r.to_string().contains("SM1"),
        "the gateway's message id is never shown: {r}"
    );
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
    let url = format!("{}/sms/kannel?id=77&sender=%2B23675000001&to=1234&message={encoded}&coding=2&charset=UTF-16BE&secret={KANNEL_SECRET}", app.base);
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
            "{}/sms/kannel?id=78&sender=%2B23675000002&charset=UTF-8&secret={KANNEL_SECRET}",
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
        .get(format!(
            "{}/sms/kannel?id=79&message=hi&secret={KANNEL_SECRET}",
            app.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "missing sender");
    let r = app
        .client
        .get(format!(
            "{}/sms/kannel?id=80&sender=1&message=%D8&coding=2&secret={KANNEL_SECRET}",
            app.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "odd UCS-2 byte count");
    // Acknowledgements go out through sendsms, once per report, in the message's language,
    // from the number the warner wrote to (no `from` is configured).
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
    assert_eq!(
        to_arabic.1["from"], "1234",
        "replied from the number written to"
    );
    // The post-url message named no number it was sent to, and this smsbox has no global
    // sender: Kannel refuses, and its own words (never a number) are kept and counted.
    let out = app.store.list_outbound(None, 10).await.unwrap();
    let refused = out
        .iter()
        .find(|m| m.status == OutboxStatus::Failed)
        .expect("one refused reply");
    let err = refused.last_error.as_deref().unwrap();
    assert!(
        err.contains("400") && err.contains("Sender missing and no global set"),
        "{err}"
    );
    assert!(!err.contains("23675000002"), "{err}");
    // Admins see it counted (not who it was for); other roles do not.
    let admin = app
        .store
        .create_user(
            &Actor::system("t"),
            NewUser::build("root", Role::Admin, None).unwrap(),
        )
        .await
        .unwrap();
    let (t, admin_token) = ApiToken::generate(admin.id, "t", None);
    app.store
        .write(&Actor::system("t"), Op::CreateToken(t))
        .await
        .unwrap();
    let get = |token: &str| {
        app.client
            .get(format!("{}/api/v1/outbox", app.base))
            .bearer_auth(token)
            .send()
    };
    assert_eq!(get(&app.analyst).await.unwrap().status(), 403);
    let summary: Value = get(&admin_token).await.unwrap().json().await.unwrap();
    assert_eq!(
        (summary["failed"].as_i64(), summary["sent"].as_i64()),
        (Some(1), Some(1)),
        "{summary}"
    );
    assert!(!summary.to_string().contains("23675"), "{summary}");
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
        .get(format!(
            "{}/sms/kannel/dlr?id={id}&status=1&secret={KANNEL_SECRET}",
            app.base
        ))
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
    let at_path = format!("/sms/africastalking?secret={AT_SECRET}");
    assert_eq!(app.form(&at_path, &at, &[]).await.0, StatusCode::OK);
    assert_eq!(app.form(&at_path, &at, &[]).await.0, StatusCode::OK);
    assert_eq!(
        app.form(&at_path, &[("id", "x")], &[]).await.0,
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
        .json(&serde_json::json!({"secret": FL_SECRET, "from": "+23670000002", "message": "MENACE Bossangoa"}))
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
        ("secret", SS_SECRET),
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
    let sw = reports.iter().find(|r| r["language"] == "sw").unwrap();
    assert_eq!(
        (sw["language"].as_str(), sw["category"].as_str()),
        (Some("sw"), Some("attack"))
    );
    // The phone polls for its replies: the acknowledgement, with the number it must text.
    let poll = format!("{}/sms/smssync?task=send&secret={SS_SECRET}", app.base);
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
    // Only the phone may confirm a message sent: without the secret, nothing changes (else
    // anyone holding a message id could make the warner's reply look sent).
    let r = app
        .client
        .post(format!("{}/sms/smssync?task=sent", app.base))
        .json(&serde_json::json!({"queued_messages": [uuid]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let m = app
        .store
        .get_outbound(uuid::Uuid::parse_str(&uuid).unwrap())
        .await
        .unwrap();
    assert_eq!(
        m.status,
        OutboxStatus::Sending,
        "still waiting for the phone"
    );
    let r = app
        .client
        .post(format!(
            "{}/sms/smssync?task=sent&secret={SS_SECRET}",
            app.base
        ))
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

/// Every configured gateway is authenticated: a configuration without a secret (or with a
/// short one) is refused before the server starts; forged calls, forged delivery reports and
/// calls from outside `allow_from` are refused and store nothing.
#[tokio::test]
async fn unauthenticated_gateway_calls_are_refused() {
    let app = start(true).await;
    // The configuration check names the setting to fix.
    for (tune, setting) in [
        (
            (|c: &mut SmsConfig| c.kannel.as_mut().unwrap().inbound_secret = None)
                as fn(&mut SmsConfig),
            "[sms.kannel] inbound_secret",
        ),
        (
            |c: &mut SmsConfig| c.africastalking.as_mut().unwrap().inbound_secret = None,
            "[sms.africastalking] inbound_secret",
        ),
        (
            |c: &mut SmsConfig| {
                c.kannel.as_mut().unwrap().inbound_secret = Some(Secret("short".into()))
            },
            "[sms.kannel] inbound_secret",
        ),
        (
            |c: &mut SmsConfig| c.frontlinesms.as_mut().unwrap().secret = Secret("x".repeat(23)),
            "[sms.frontlinesms] secret",
        ),
        (
            |c: &mut SmsConfig| c.smssync.as_mut().unwrap().secret = Secret("".into()),
            "[sms.smssync] secret",
        ),
        (
            |c: &mut SmsConfig| c.twilio.as_mut().unwrap().auth_token = Secret("tok".into()),
            "[sms.twilio] auth_token",
        ),
    ] {
        let mut cfg = (*app.state.sms).clone();
        tune(&mut cfg);
        let e = cfg.validate().unwrap_err();
        assert!(e.contains(setting), "{e}");
    }
    // Forged calls: no secret, a wrong one, one differing only in its last character.
    let msg = "sender=%2B23675000001&to=1234&message=ATTAQUE+Bria&id=1";
    for secret in [
        "",
        "&secret=wrong",
        &format!("&secret={}X", &KANNEL_SECRET[..KANNEL_SECRET.len() - 1]),
    ] {
        let r = app
            .client
            .get(format!("{}/sms/kannel?{msg}{secret}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{secret}");
    }
    let at = [("id", "A1"), ("from", "+254700000001"), ("text", "ATTACK")];
    assert_eq!(
        app.form("/sms/africastalking", &at, &[]).await.0,
        StatusCode::FORBIDDEN
    );
    assert!(app.reports().await.is_empty(), "forged calls store nothing");
    assert!(
        app.store.list_outbound(None, 10).await.unwrap().is_empty(),
        "and send nothing"
    );
    // A real message, then a forged delivery report for its reply: refused, status unchanged.
    let r = app
        .client
        .get(format!(
            "{}/sms/kannel?{msg}&secret={KANNEL_SECRET}",
            app.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let out = app.store.list_outbound(None, 10).await.unwrap();
    let id = out[0].id;
    for q in [
        format!("id={id}&status=16"),
        format!("id={id}&status=16&secret=nope"),
    ] {
        let r = app
            .client
            .get(format!("{}/sms/kannel/dlr?{q}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
    }
    assert_eq!(
        app.store.get_outbound(id).await.unwrap().status,
        OutboxStatus::Queued
    );
    // allow_from: a gateway reachable only from its own network refuses everyone else, secret
    // or not.
    let fenced = start_with(true, |c| {
        c.kannel.as_mut().unwrap().allow_from = vec!["10.0.0.0/8".parse().unwrap()];
    })
    .await;
    let r = fenced
        .client
        .get(format!(
            "{}/sms/kannel?{msg}&secret={KANNEL_SECRET}",
            fenced.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(fenced.reports().await.is_empty());
}

/// Ids say nothing about when a warner's message arrived, and the gateway's message id (which
/// the gateway's records tie to the sender's number) is kept only as a keyed hash: never in a
/// report, a reply, the audit trail or a delivery-report URL.
#[tokio::test]
async fn ids_and_answers_never_tell_when_or_by_which_gateway_message() {
    let app = start(true).await;
    let msg = [
        ("MessageSid", "SMa1b2c3d4e5f6"),
        ("From", "+23670012345"),
        ("To", "+15550001111"),
        ("Body", "ATTAQUE Bria"),
    ];
    assert_eq!(app.twilio(&msg, true).await.0, StatusCode::OK);
    let r = &app.reports().await[0];
    let id = uuid::Uuid::parse_str(r["id"].as_str().unwrap()).unwrap();
    assert_eq!(
        id.get_version(),
        Some(uuid::Version::Random),
        "report id is random"
    );
    let src = app
        .store
        .get_source_by_handle(r["source"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(
        src.id.get_version(),
        Some(uuid::Version::Random),
        "source id is random"
    );
    app.drain_outbox().await;
    let out = app.store.list_outbound(None, 10).await.unwrap();
    assert_eq!(out[0].id.get_version(), Some(uuid::Version::Random));
    let sid = "SMa1b2c3d4e5f6";
    let audit = app.store.audit_entries(0, 1000).await.unwrap();
    for e in &audit {
        assert!(
            !e.detail.contains(sid) && !e.detail.contains("23670012345"),
            "{e:?}"
        );
    }
    let messages = app
        .client
        .get(format!("{}/api/v1/sources/{}/messages", app.base, src.id))
        .bearer_auth(&app.analyst)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !messages.contains(sid) && !messages.contains("SM1"),
        "{messages}"
    );
    assert!(
        !messages.contains("provider") && !messages.contains("idempotency"),
        "{messages}"
    );
    assert!(!r.to_string().contains(sid));
    // Twilio's id for the reply is matched by its hash: the delivered status still lands.
    let sent = app.seen.lock().unwrap().clone();
    assert!(sent.iter().any(|(p, _)| p.ends_with("Messages.json")));
    let cb = [("MessageSid", "SM1"), ("MessageStatus", "delivered")];
    let map: BTreeMap<String, String> = cb
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let sig = sms::twilio_signature(TOKEN, &format!("{}/sms/twilio/status", app.base), &map);
    app.form("/sms/twilio/status", &cb, &[("X-Twilio-Signature", &sig)])
        .await;
    let m = app.store.get_outbound(out[0].id).await.unwrap();
    assert_eq!(m.status, OutboxStatus::Delivered);
    assert_ne!(m.provider_key.as_deref(), Some("SM1"), "stored hashed");
}

/// The public form never joins a report to a source on the strength of a typed number, and
/// texts nobody: a report is linked to a phone, and acknowledged, only when that phone texts
/// the one-time code the page showed.
#[tokio::test]
async fn form_reports_join_a_source_only_through_a_code_texted_from_the_phone() {
    let app = start(true).await;
    // A warner already known to Tocsin.
    let known = [
        ("MessageSid", "SMk1"),
        ("From", "+23670012345"),
        ("To", "+15550001111"),
        ("Body", "MENACE Bossangoa"),
    ];
    assert_eq!(app.twilio(&known, true).await.0, StatusCode::OK);
    let warner = app.reports().await[0]["source"]
        .as_str()
        .unwrap()
        .to_string();
    let warner_id = app.store.get_source_by_handle(&warner).await.unwrap().id;
    let outbound_before = app.store.list_outbound(None, 100).await.unwrap().len();
    // Someone fills in the form with that warner's number (the old form's field).
    let form = app
        .client
        .get(format!("{}/report", app.base))
        .send()
        .await
        .unwrap();
    let cookie = form.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let html = form.text().await.unwrap();
    assert!(
        !html.contains("name=\"phone\""),
        "the form asks for no number"
    );
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let r = app
        .client
        .post(format!("{}/report", app.base))
        .header("cookie", cookie)
        .form(&[
            ("csrf", csrf),
            ("text", "Invented: armed men at the market"),
            ("place", "Bria"),
            ("phone", "+23670012345"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    let web: Vec<Value> = app
        .client
        .get(format!("{}/api/v1/reports?channel=web", app.base))
        .bearer_auth(&app.analyst)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["items"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(web.len(), 1, "stored with channel web");
    assert!(web[0]["source"].is_null(), "not joined to the warner");
    assert_eq!(
        app.store.list_outbound(None, 100).await.unwrap().len(),
        outbound_before,
        "nothing is sent to a typed number"
    );
    assert_eq!(
        app.store
            .list_outbound(Some(warner_id), 10)
            .await
            .unwrap()
            .len(),
        1
    );
    // The page shows a one-time code; texted from a phone, it links the report to that phone.
    let code = page
        .split("class=\"code\"><strong>")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(code.len(), 9, "{code}");
    let reference = page.split("<strong>R-").nth(1).unwrap()[..6].to_string();
    let kannel = |id: &str, phone: &str, text: &str| {
        let url = format!(
            "{}/sms/kannel?id={id}&sender={}&to=1234&message={}&secret={KANNEL_SECRET}",
            app.base,
            phone.replace('+', "%2B"),
            text.replace(' ', "+")
        );
        let c = app.client.clone();
        async move { c.get(url).send().await.unwrap().status() }
    };
    let typed = format!("code {}", code.to_lowercase());
    assert_eq!(kannel("c1", "+23675000009", &typed).await, 200);
    assert_eq!(kannel("c1", "+23675000009", &typed).await, 200, "a retry");
    let linked = app
        .store
        .get_report(uuid::Uuid::parse_str(web[0]["id"].as_str().unwrap()).unwrap())
        .await
        .unwrap();
    let owner = linked
        .source
        .clone()
        .expect("linked to the phone that texted the code");
    assert_ne!(owner, warner);
    let owner_id = app.store.get_source_by_handle(&owner).await.unwrap().id;
    let acks = app.store.list_outbound(Some(owner_id), 10).await.unwrap();
    assert_eq!(acks.len(), 1, "acknowledged once");
    assert!(
        acks[0].text.contains(&format!("R-{reference}")),
        "{}",
        acks[0].text
    );
    assert_eq!(acks[0].report_id, Some(linked.id));
    // The code does not work twice: from another phone it is just a message.
    assert_eq!(kannel("c2", "+23675000010", &code).await, 200);
    let again = app.store.get_report(linked.id).await.unwrap();
    assert_eq!(again.source.as_deref(), Some(owner.as_str()));
    // The acknowledgement goes out to the phone that proved itself, from the number it wrote to.
    app.drain_outbox().await;
    let seen = app.seen.lock().unwrap().clone();
    assert!(seen.iter().any(|(p, q)| p == "/cgi-bin/sendsms"
        && q["to"] == "+23675000009"
        && q["from"] == "1234"
        && q["text"].contains(&format!("R-{reference}"))));
    assert!(!seen.iter().any(|(_, q)| q
        .get("to")
        .or(q.get("To"))
        .is_some_and(|t| t == "+23670012345")
        && q.values().any(|v| v.contains(&reference))));
}

/// A secret with characters that URLs encode (`+`, `/`, `&`, `=`) still authenticates the
/// delivery reports Kannel sends back to the dlr-url Tocsin gave it.
#[tokio::test]
async fn delivery_reports_carry_any_secret_back_intact() {
    const ODD: &str = "kannel+secret/with&odd=chars%41-0123456789";
    let app = start_with(true, |c| {
        c.kannel.as_mut().unwrap().inbound_secret = Some(Secret(ODD.into()));
    })
    .await;
    let secret = serde_urlencoded::to_string([("secret", ODD)]).unwrap();
    let r = app
        .client
        .get(format!(
            "{}/sms/kannel?id=1&sender=%2B23675000001&to=1234&message=ATTAQUE+Bria&{secret}",
            app.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    app.drain_outbox().await;
    let seen = app.seen.lock().unwrap().clone();
    let (_, q) = seen
        .iter()
        .find(|(p, _)| p == "/cgi-bin/sendsms")
        .expect("the acknowledgement went to Kannel");
    // Kannel calls the dlr-url as given, with %d replaced by the status.
    let dlr = q["dlr-url"].replace("%d", "1");
    let r = app.client.get(&dlr).send().await.unwrap();
    assert_eq!(r.status(), 200, "{dlr}");
    let out = app.store.list_outbound(None, 10).await.unwrap();
    assert_eq!(out[0].status, OutboxStatus::Delivered);
}
