//! Answering a source on the channel it wrote through, and the channels' status for admins, on
//! real HTTP against stand-ins (a Bot API and a Graph API on ephemeral ports) with a real
//! SQLite file: an analyst's message to a Telegram source goes out through the bot (never by
//! SMS, though an SMS gateway is configured); Telegram's 429 makes the outbox wait the
//! `retry_after` it names, a 5xx backs off; a WhatsApp source outside its 24-hour window is
//! refused with the reason; `/api/v1/channels` and `/admin/channels` count what came in,
//! duplicates and refused calls, for admins only.

mod common;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use tocsin_delivery::sms::{KannelConfig, Secret, SmsConfig};
use tocsin_delivery::telegram::{TelegramConfig, TelegramMode};
use tocsin_domain::{Channel, OutboxStatus, PageRequest, Report, ReportFilter, Role, Tlp};
use tocsin_server::AppState;
use tocsin_store::Store;

const TOKEN: &str = "123456:test-bot-token-DO-NOT-LOG";
const SECRET: &str = "webhook-secret-0123456789";
const KANNEL_SECRET: &str = "kannel-inbound-secret-42";
const APP_SECRET: &str = "whatsapp-app-secret-0123456789";
const VERIFY: &str = "whatsapp-verify-token-0123";
const SENDER: i64 = 7_731_555_123;
const WA_ID: &str = "23675123456";

/// The stand-in Bot API: `sendMessage` calls answered with the queued statuses first.
#[derive(Default)]
struct Bot {
    /// Statuses for the next `sendMessage` calls (429 or 502), then 200.
    fail: VecDeque<u16>,
    /// Every `sendMessage` call: chat id, text, status answered.
    calls: Vec<(i64, String, u16)>,
}

type Shared = Arc<Mutex<Bot>>;

async fn bot_api(
    State(bot): State<Shared>,
    Path((_bot, method)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let mut b = bot.lock().unwrap();
    assert_eq!(method, "sendMessage");
    let chat = body["chat_id"].as_i64().unwrap();
    let text = body["text"].as_str().unwrap().to_string();
    match b.fail.pop_front() {
        Some(429) => {
            b.calls.push((chat, text, 429));
            (
                StatusCode::TOO_MANY_REQUESTS,
                Json(json!({"ok": false, "error_code": 429,
                    "description": "Too Many Requests: retry after 30",
                    "parameters": {"retry_after": 30}})),
            )
        }
        Some(s) => {
            b.calls.push((chat, text, s));
            (
                StatusCode::from_u16(s).unwrap(),
                Json(json!({"ok": false, "error_code": s, "description": "Bad Gateway"})),
            )
        }
        None => {
            b.calls.push((chat, text, 200));
            let n = b.calls.len();
            (
                StatusCode::OK,
                Json(json!({"ok": true, "result": {"message_id": n, "chat": {"id": chat}}})),
            )
        }
    }
}

async fn stand_in<S: Clone + Send + Sync + 'static>(app: axum::Router<S>, s: S) -> String {
    let app = app.with_state(s);
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    base
}

/// An SMS gateway that is configured but reaches nothing: a message routed to it would fail.
fn sms() -> SmsConfig {
    SmsConfig {
        kannel: Some(KannelConfig {
            sendsms_url: "http://127.0.0.1:9/cgi-bin/sendsms".into(),
            username: "tocsin".into(),
            password: Secret("kpass".into()),
            from: None,
            inbound_secret: Some(Secret(KANNEL_SECRET.into())),
            allow_from: vec![],
        }),
        ..Default::default()
    }
}

fn telegram(api_base: &str) -> TelegramConfig {
    TelegramConfig {
        bot_token: Secret(TOKEN.into()),
        api_base: Some(api_base.into()),
        mode: TelegramMode::Webhook,
        secret_token: Some(Secret(SECRET.into())),
        poll_timeout_secs: Some(0),
    }
}

fn update(update_id: i64, message_id: i64, text: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({"update_id": update_id, "message": {
        "message_id": message_id, "date": 1_765_000_000,
        "from": {"id": SENDER, "is_bot": false, "first_name": "W", "language_code": "en"},
        "chat": {"id": SENDER, "type": "private"},
        "text": text}}))
    .unwrap()
}

/// The server and its state (to run the outbox's passes in the test).
async fn start(
    tune: impl FnOnce(AppState) -> AppState + Send + 'static,
) -> (common::TestApp, AppState) {
    let keep: Arc<Mutex<Option<AppState>>> = Arc::default();
    let k = keep.clone();
    let app = common::TestApp::start_with(move |s| {
        let s = tune(s);
        *k.lock().unwrap() = Some(s.clone());
        s
    })
    .await;
    let state = keep.lock().unwrap().clone().unwrap();
    (app, state)
}

async fn reports(store: &dyn Store, channel: Channel) -> Vec<Report> {
    let f = ReportFilter {
        max_tlp: Tlp::Red,
        channel: Some(channel),
        ..Default::default()
    };
    store
        .list_reports(&f, PageRequest::first(200))
        .await
        .unwrap()
        .items
}

/// The id of the source behind the only report of `channel`.
async fn source_of(store: &dyn Store, channel: Channel) -> uuid::Uuid {
    let r = reports(store, channel).await;
    let handle = r[0].source.clone().unwrap();
    store.get_source_by_handle(&handle).await.unwrap().id
}

async fn post_telegram(app: &common::TestApp, secret: &str, body: Vec<u8>) -> reqwest::StatusCode {
    app.client
        .post(format!("{}/channels/telegram", app.base))
        .header("content-type", "application/json")
        .header("X-Telegram-Bot-Api-Secret-Token", secret)
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn a_telegram_source_is_answered_through_the_bot_and_429_waits_as_told() {
    let bot: Shared = Arc::default();
    let api = stand_in(
        axum::Router::new().route("/{bot}/{method}", axum::routing::post(bot_api)),
        bot.clone(),
    )
    .await;
    let (app, state) = start(move |s| s.with_sms(sms()).with_telegram(telegram(&api))).await;
    assert_eq!(
        post_telegram(&app, SECRET, update(1, 1, "Armed men near the school")).await,
        reqwest::StatusCode::OK
    );
    let source = source_of(&*app.store, Channel::Telegram).await;
    state.delivery.pass().await.unwrap();
    assert_eq!(bot.lock().unwrap().calls.len(), 1, "the acknowledgement");

    // The analyst's question leaves through the bot, to the chat the warner wrote from.
    let (s, m) = app
        .post(
            Role::Analyst,
            &format!("/api/v1/sources/{source}/messages"),
            json!({"text": "Which school?"}),
        )
        .await;
    assert_eq!(s, reqwest::StatusCode::ACCEPTED, "{m}");
    assert_eq!(m["gateway"], "telegram");

    // Telegram answers 429 with retry_after 30: the delivery waits those 30 seconds in the
    // outbox, and passes meanwhile do not call Telegram again.
    bot.lock().unwrap().fail.push_back(429);
    let before = chrono::Utc::now();
    state.delivery.pass().await.ok();
    let out = app.store.list_outbound(Some(source), 10).await.unwrap();
    let q = out.iter().find(|o| o.text == "Which school?").unwrap();
    assert_eq!(q.status, OutboxStatus::Queued);
    assert!(
        q.last_error.as_deref().unwrap().contains("retry after 30"),
        "{:?}",
        q.last_error
    );
    assert!(q.next_attempt_at >= before + chrono::Duration::seconds(30));
    for _ in 0..3 {
        state.delivery.pass().await.ok();
    }
    let calls = bot.lock().unwrap().calls.clone();
    assert_eq!(
        calls.len(),
        2,
        "one call met the 429, none since: {calls:?}"
    );
    assert_eq!(
        (calls[1].0, calls[1].1.as_str(), calls[1].2),
        (SENDER, "Which school?", 429)
    );

    // A 5xx: backed off (queued for later), not given up.
    let (s, _) = app
        .post(
            Role::Analyst,
            &format!("/api/v1/sources/{source}/messages"),
            json!({"text": "Is anyone hurt?"}),
        )
        .await;
    assert_eq!(s, reqwest::StatusCode::ACCEPTED);
    bot.lock().unwrap().fail.push_back(502);
    let before = chrono::Utc::now();
    state.delivery.pass().await.ok();
    let out = app.store.list_outbound(Some(source), 10).await.unwrap();
    let h = out.iter().find(|o| o.text == "Is anyone hurt?").unwrap();
    assert_eq!(h.status, OutboxStatus::Queued);
    assert!(h.last_error.as_deref().unwrap().contains("502"));
    assert!(h.next_attempt_at > before);
    assert_eq!(bot.lock().unwrap().calls.len(), 3);

    // Every message to this source went to Telegram; none was handed to the SMS gateway.
    assert!(out.iter().all(|o| o.gateway == "telegram"), "{out:?}");

    // A follow-up from triage takes the same way.
    let report = reports(&*app.store, Channel::Telegram).await[0].id;
    let (s, d) = app
        .post(
            Role::Analyst,
            &format!("/api/v1/reports/{report}/follow-up"),
            json!({"text": "Since when?"}),
        )
        .await;
    if s != reqwest::StatusCode::NOT_FOUND {
        assert_eq!(s, reqwest::StatusCode::ACCEPTED, "{d}");
        let out = app.store.list_outbound(Some(source), 10).await.unwrap();
        let f = out.iter().find(|o| o.text == "Since when?").unwrap();
        assert_eq!(f.gateway, "telegram");
    }
}

/// A server whose SMS gateway works but which has no messaging-app reply channel (e.g.
/// Telegram removed from the configuration since the source wrote).
struct SmsOnly;

impl tocsin_app::sources::ReplyRoutes for SmsOnly {
    fn sms_gateway(&self, _last: Option<&str>) -> Option<String> {
        Some("kannel".into())
    }
    fn app_replies(&self, _channel: &str) -> bool {
        false
    }
}

#[tokio::test]
async fn a_telegram_source_is_not_texted_when_the_bot_cannot_reply() {
    let bot: Shared = Arc::default();
    let api = stand_in(
        axum::Router::new().route("/{bot}/{method}", axum::routing::post(bot_api)),
        bot.clone(),
    )
    .await;
    let (app, state) = start(move |s| s.with_sms(sms()).with_telegram(telegram(&api))).await;
    assert_eq!(
        post_telegram(&app, SECRET, update(1, 1, "Roadblock at the bridge")).await,
        reqwest::StatusCode::OK
    );
    let source = source_of(&*app.store, Channel::Telegram).await;
    let analyst = app.store.get_user_by_name("analyst").await.unwrap();
    let e = state
        .app()
        .message_source(&analyst, source, "Where?", &SmsOnly)
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("Telegram replies are not configured"),
        "{e}"
    );
    let out = app.store.list_outbound(Some(source), 10).await.unwrap();
    assert!(out.iter().all(|o| o.gateway == "telegram"), "{out:?}");
    // A source that wrote by SMS still gets an SMS.
    let sms_source = app.store.get_source_by_handle("M-0001").await.unwrap().id;
    let m = state
        .app()
        .message_source(&analyst, sms_source, "Where?", &SmsOnly)
        .await
        .unwrap();
    assert_eq!(m.gateway, "kannel");
}

/// What the stand-in Graph API was asked to send: (recipient, text).
type Sent = Arc<Mutex<Vec<(String, String)>>>;

async fn graph_messages(
    State(sent): State<Sent>,
    Path((_version, _phone)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let mut s = sent.lock().unwrap();
    s.push((
        body["to"].as_str().unwrap().to_string(),
        body["text"]["body"].as_str().unwrap().to_string(),
    ));
    let n = s.len();
    (
        StatusCode::OK,
        Json(
            json!({"messaging_product": "whatsapp", "messages": [{"id": format!("wamid.OUT{n}")}]}),
        ),
    )
}

fn whatsapp(api_base: &str) -> tocsin_delivery::whatsapp::WhatsappConfig {
    tocsin_delivery::whatsapp::WhatsappConfig {
        app_secret: Secret(APP_SECRET.into()),
        verify_token: Secret(VERIFY.into()),
        access_token: Some(Secret("wa-access-token".into())),
        phone_number_id: Some("106540352242922".into()),
        api_base: Some(api_base.into()),
        api_version: None,
    }
}

fn wa_message(wamid: &str, text: &str, age_secs: i64) -> Vec<u8> {
    let ts = (chrono::Utc::now().timestamp() - age_secs).to_string();
    serde_json::to_vec(&json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA",
        "changes": [{"field": "messages", "value": {"messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550000000", "phone_number_id": "106540352242922"},
            "contacts": [{"profile": {"name": "W"}, "wa_id": WA_ID}],
            "messages": [{"from": WA_ID, "id": wamid, "timestamp": ts, "type": "text",
                "text": {"body": text}}]}}]}]}))
    .unwrap()
}

async fn post_whatsapp(app: &common::TestApp, body: Vec<u8>) -> reqwest::StatusCode {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(APP_SECRET.as_bytes()).unwrap();
    mac.update(&body);
    let sig = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    app.client
        .post(format!("{}/channels/whatsapp", app.base))
        .header("content-type", "application/json")
        .header("X-Hub-Signature-256", sig)
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn a_whatsapp_source_outside_its_window_is_refused_with_the_reason_never_texted() {
    let sent: Sent = Arc::default();
    let graph = stand_in(
        axum::Router::new().route(
            "/{version}/{phone}/messages",
            axum::routing::post(graph_messages),
        ),
        sent.clone(),
    )
    .await;
    let (app, state) = start(move |s| s.with_sms(sms()).with_whatsapp(whatsapp(&graph))).await;
    // The warner's only message is 23 hours and a half old: too little of the window is left.
    let late = wa_message("wamid.LATE01", "Houses burnt last night", 23 * 3600 + 1800);
    assert_eq!(post_whatsapp(&app, late).await, reqwest::StatusCode::OK);
    let source = source_of(&*app.store, Channel::Whatsapp).await;
    let path = format!("/api/v1/sources/{source}/messages");
    let (s, body) = app
        .post(Role::Analyst, &path, json!({"text": "Which village?"}))
        .await;
    assert_eq!(s, reqwest::StatusCode::CONFLICT, "{body}");
    assert!(body.to_string().contains("24-hour"), "{body}");
    let out = app.store.list_outbound(Some(source), 10).await.unwrap();
    assert!(
        out.iter().all(|o| o.text != "Which village?"),
        "nothing queued"
    );
    assert!(
        out.iter().all(|o| o.gateway == "whatsapp"),
        "no SMS: {out:?}"
    );

    // On the source's page, the analyst sees why.
    let (session, csrf) = common::browser_login(&app, "analyst", "password-123")
        .await
        .unwrap();
    let r = app
        .client
        .post(format!("{}/sources/{source}/messages", app.base))
        .header("cookie", &session)
        .form(&[("csrf", csrf.as_str()), ("text", "Which village?")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::CONFLICT);
    let html = r.text().await.unwrap();
    assert!(html.contains("24-hour"), "{html}");

    // The warner writes again: the window is open, the question goes out over WhatsApp.
    let fresh = wa_message("wamid.FRESH01", "Three houses now", 60);
    assert_eq!(post_whatsapp(&app, fresh).await, reqwest::StatusCode::OK);
    let (s, m) = app
        .post(Role::Analyst, &path, json!({"text": "Which village?"}))
        .await;
    assert_eq!(s, reqwest::StatusCode::ACCEPTED, "{m}");
    assert_eq!(m["gateway"], "whatsapp");
    for _ in 0..5 {
        if state.delivery.pass().await.unwrap().backlog == Some(0) {
            break;
        }
    }
    let got = sent.lock().unwrap().clone();
    assert!(
        got.contains(&(WA_ID.to_string(), "Which village?".to_string())),
        "{got:?}"
    );
}

#[tokio::test]
async fn channels_status_counts_takes_duplicates_and_refusals_for_admins_only() {
    let bot: Shared = Arc::default();
    let api = stand_in(
        axum::Router::new().route("/{bot}/{method}", axum::routing::post(bot_api)),
        bot.clone(),
    )
    .await;
    let (app, _state) = start(move |s| s.with_sms(sms()).with_telegram(telegram(&api))).await;
    for (secret, body) in [
        (SECRET, update(1, 1, "Armed men near the school")),
        (SECRET, update(1, 1, "Armed men near the school")),
        (SECRET, update(2, 1, "edited")),
        (SECRET, update(3, 2, "Checkpoint closed")),
        ("webhook-secret-wrong-000", update(4, 3, "x")),
        ("", update(5, 4, "y")),
    ] {
        post_telegram(&app, secret, body).await;
    }
    // Kannel with a wrong secret: refused.
    let r = app
        .client
        .get(format!(
            "{}/sms/kannel?secret=nope&from=%2B254700000001&text=hello",
            app.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::FORBIDDEN);

    let (s, v) = app.get(Role::Admin, "/api/v1/channels").await;
    assert_eq!(s, reqwest::StatusCode::OK, "{v}");
    let items = v["items"].as_array().unwrap();
    let by = |n: &str| items.iter().find(|c| c["name"] == n).cloned().unwrap();
    let t = by("telegram");
    assert_eq!(
        (
            &t["taken"],
            &t["duplicates"],
            &t["refused"],
            &t["mode"],
            &t["kind"]
        ),
        (
            &json!(2),
            &json!(2),
            &json!(2),
            &json!("webhook"),
            &json!("app")
        )
    );
    assert!(t["last_refused_at"].is_string() && t["last_taken_at"].is_string());
    assert_eq!(t["configured"], true);
    let k = by("kannel");
    assert_eq!((&k["refused"], &k["taken"]), (&json!(1), &json!(0)));
    assert!(!v.to_string().contains(&SENDER.to_string()));
    assert!(!v.to_string().contains("254700000001"));

    for role in [Role::Analyst, Role::Viewer] {
        assert_eq!(
            app.get(role, "/api/v1/channels").await.0,
            reqwest::StatusCode::FORBIDDEN
        );
    }

    // The page, reachable from the admin's navigation; 403 for an analyst.
    let (session, _) = common::browser_login(&app, "admin", "password-123")
        .await
        .unwrap();
    let get = |path: &str, cookie: &str| {
        let req = app
            .client
            .get(format!("{}{path}", app.base))
            .header("cookie", cookie);
        async move {
            let r = req.send().await.unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let (s, home) = get("/incidents", &session).await;
    assert_eq!(s, reqwest::StatusCode::OK);
    assert!(home.contains("href=\"/admin/channels\""));
    let (s, html) = get("/admin/channels", &session).await;
    assert_eq!(s, reqwest::StatusCode::OK);
    assert!(
        html.contains("Inbound channels") && html.contains("telegram") && html.contains("kannel")
    );
    assert!(!html.contains(&SENDER.to_string()));
    let (analyst, _) = common::browser_login(&app, "analyst", "password-123")
        .await
        .unwrap();
    let (s, home) = get("/incidents", &analyst).await;
    assert_eq!(s, reqwest::StatusCode::OK);
    assert!(!home.contains("/admin/channels"));
    assert_eq!(
        get("/admin/channels", &analyst).await.0,
        reqwest::StatusCode::FORBIDDEN
    );

    // In the OpenAPI document.
    let (s, doc) = app.get(Role::Viewer, "/api/v1/openapi.json").await;
    assert_eq!(s, reqwest::StatusCode::OK);
    assert!(doc["paths"]["/api/v1/channels"]["get"].is_object());
    assert!(doc["components"]["schemas"]["ChannelStatus"].is_object());
}
