//! Community-alert subscribers against a real server: JOIN / STOP / choosing a place by SMS
//! through Kannel's webhook (replies in the subscriber's language through the outbox, no report
//! or source made), staff registering subscribers over the API and the web page, counts per
//! area, and what a hostile state could learn: the same gateway answer, reply and writes for a
//! number that is a known source and one that is not, and no number (nor its hash) in any API
//! answer, page, log line, audit entry or outbox record's Debug output.

mod common;

use common::{browser_login, csrf_in, TestApp};
use serde_json::{json, Value};
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use tocsin_domain::{ContactKey, Role, SubscriberPhone};
use tocsin_server::sms::{KannelConfig, Secret, SmsConfig};
use tocsin_server::AppState;

const KANNEL_SECRET: &str = "kannel-inbound-secret-0123456789";
/// A warner's number (it sends a report first), a stranger's, and one never subscribed.
const WARNER: &str = "+23675000001";
const STRANGER: &str = "+23675000002";
const NOBODY: &str = "+23675000003";
/// The digits that would betray any of them in some other spelling.
const DIGITS: [&str; 3] = ["75000001", "75000002", "75000003"];

/// Every log line of this test binary (one global subscriber, set once).
fn logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buf: Arc<Mutex<Vec<u8>>> = Arc::default();
        struct W(Arc<Mutex<Vec<u8>>>);
        impl Write for W {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let w = buf.clone();
        // Everything the server, the application and the store log, at every level; the test's
        // own HTTP client is left out (its request lines carry the numbers it sends).
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "trace,reqwest=off,hyper_util::client=off",
            ))
            .with_ansi(false)
            .with_writer(move || W(w.clone()))
            .init();
        buf
    })
    .clone()
}

fn kannel() -> SmsConfig {
    SmsConfig {
        default_calling_code: Some("236".into()),
        country_hint: Some("CAF".into()),
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

/// The server, and its contact key (to open outbox addresses as the sender does).
async fn start() -> (TestApp, Arc<ContactKey>) {
    logs();
    let mut key = None;
    let app = TestApp::start_with(|s: AppState| {
        let mut s = s.with_sms(kannel());
        let mut ch = (*s.channels).clone();
        ch.sms_gateway = Some("kannel".into());
        s.channels = Arc::new(ch);
        key = Some(s.contact_key.clone());
        s
    })
    .await;
    (app, key.unwrap())
}

/// Text `text` from `from` through Kannel's webhook: the status and body Kannel sees.
async fn sms(app: &TestApp, id: u32, from: &str, text: &str) -> (u16, String) {
    let r = app
        .client
        .get(format!("{}/sms/kannel", app.base))
        .query(&[
            ("id", id.to_string().as_str()),
            ("sender", from),
            ("to", "1234"),
            ("message", text),
            ("secret", KANNEL_SECRET),
        ])
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The texts queued for `phone` (opened with the key, as the sender would), oldest first.
async fn replies_to(app: &TestApp, key: &tocsin_domain::ContactKey, phone: &str) -> Vec<String> {
    let mut out: Vec<_> = app
        .store
        .list_outbound(None, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| {
            m.open_address(key)
                .ok()
                .flatten()
                .and_then(|c| c.phone)
                .as_deref()
                == Some(phone)
        })
        .collect();
    out.sort_by_key(|m| m.created_at);
    out.into_iter().map(|m| m.text).collect()
}

fn assert_no_number(what: &str, text: &str, hashes: &[String]) {
    for d in DIGITS {
        assert!(!text.contains(d), "{what} shows a number: {text}");
    }
    for h in hashes {
        assert!(!text.contains(h.as_str()), "{what} shows a number's hash");
    }
}

async fn counts(app: &TestApp, area: Option<Value>) -> Value {
    let path = match area {
        Some(a) => format!(
            "/api/v1/subscribers/counts?area={}",
            url_encode(&a.to_string())
        ),
        None => "/api/v1/subscribers/counts".into(),
    };
    let (s, b) = app.get(Role::Analyst, &path).await;
    assert_eq!(s, 200, "{b}");
    b
}

fn url_encode(s: &str) -> String {
    serde_urlencoded::to_string([("x", s)]).unwrap()[2..].to_string()
}

#[tokio::test]
async fn join_choose_and_stop_by_sms_tell_nothing_about_sources() {
    let (app, key) = start().await;
    let hashes: Vec<String> = [WARNER, STRANGER, NOBODY]
        .iter()
        .flat_map(|p| {
            [
                key.lookup_hash(p),
                SubscriberPhone::new(p.to_string()).lookup_hash(&key),
            ]
        })
        .collect();

    // The warner reports first: one report, one source.
    assert_eq!(sms(&app, 1, WARNER, "ATTAQUE Bria ce matin").await.0, 200);
    let before = app.store.counts().await.unwrap();
    assert_eq!(before.sources, 2, "the fixture's source and the warner");

    // Both join Bambari: the same answer to Kannel, the same reply, no report, no source.
    let a = sms(&app, 2, WARNER, "INSCRIRE Bambari").await;
    let b = sms(&app, 3, STRANGER, "INSCRIRE Bambari").await;
    assert_eq!(
        a, b,
        "Kannel sees the same answer for a warner and a stranger"
    );
    assert_eq!(a, (200, String::new()));
    let ra = replies_to(&app, &key, WARNER).await;
    let rb = replies_to(&app, &key, STRANGER).await;
    assert_eq!(ra.last(), rb.last(), "the same reply");
    assert_eq!(rb.len(), 1);
    assert!(
        rb[0].contains("Bambari (Ouaka)") && rb[0].contains("ARRET"),
        "{}",
        rb[0]
    );
    let after = app.store.counts().await.unwrap();
    assert_eq!(
        after.reports, before.reports,
        "a subscription is not a report"
    );
    assert_eq!(after.sources, before.sources, "nor a source");
    let c = counts(&app, None).await;
    assert_eq!(c["total"], 2);
    assert_eq!(c["areas"][0]["admin1"], "Ouaka");

    // A gateway retry (same Kannel id) sends no second reply.
    sms(&app, 3, STRANGER, "INSCRIRE Bambari").await;
    assert_eq!(replies_to(&app, &key, STRANGER).await.len(), 1);

    // Swahili, Arabic and English keywords; the reply follows the keyword's language.
    sms(&app, 4, STRANGER, "JIUNGE Bria").await;
    assert!(replies_to(&app, &key, STRANGER).await[1].starts_with("Tocsin: utapokea"));
    sms(&app, 5, STRANGER, "اشتراك بامباري").await;
    let last = replies_to(&app, &key, STRANGER).await.pop().unwrap();
    assert!(last.starts_with("توكسين"), "{last}");
    // An unknown place is said to be unknown, and changes nothing.
    sms(&app, 6, STRANGER, "JOIN Xyzzyville").await;
    let last = replies_to(&app, &key, STRANGER).await.pop().unwrap();
    assert!(
        last.contains("do not know the place \"Xyzzyville\""),
        "{last}"
    );
    assert_eq!(counts(&app, None).await["total"], 2);

    // STOP from the warner, the stranger and a number never subscribed: the same answer and
    // reply for each, honoured at once.
    let sa = sms(&app, 7, WARNER, "ARRÊT").await;
    let sb = sms(&app, 8, STRANGER, "arret").await;
    let sc = sms(&app, 9, NOBODY, "ARRET").await;
    assert_eq!(sa, sb);
    assert_eq!(sb, sc);
    let last = |v: Vec<String>| v.last().cloned().unwrap();
    let (ta, tb, tc) = (
        last(replies_to(&app, &key, WARNER).await),
        last(replies_to(&app, &key, STRANGER).await),
        last(replies_to(&app, &key, NOBODY).await),
    );
    assert_eq!(ta, tb);
    assert_eq!(tb, tc);
    assert!(ta.contains("ne recevrez plus"), "{ta}");
    assert_eq!(
        counts(&app, None).await["total"],
        0,
        "STOP honoured at once"
    );
    // A bare "STOP" is answered in the deployment's language (French for CAF).
    sms(&app, 10, NOBODY, "STOP").await;
    assert!(last(replies_to(&app, &key, NOBODY).await).contains("ne recevrez plus"));
    // A report beginning with "stop" is still a report.
    sms(&app, 11, STRANGER, "stop them, armed men near Bria").await;
    assert_eq!(app.store.counts().await.unwrap().reports, after.reports + 1);

    // A number with no offer pending is an ordinary message.
    sms(&app, 12, NOBODY, "2").await;
    assert_eq!(app.store.counts().await.unwrap().reports, after.reports + 2);

    // Nothing anywhere names a number or its hash.
    for e in app.store.audit_entries(0, 100_000).await.unwrap() {
        let shown = format!("{e:?}");
        assert_no_number("an audit entry", &shown, &hashes);
    }
    for m in app.store.list_outbound(None, 1000).await.unwrap() {
        assert_no_number("an outbox record's Debug", &format!("{m:?}"), &hashes);
    }
    let audited: Vec<String> = app
        .store
        .audit_entries(0, 100_000)
        .await
        .unwrap()
        .iter()
        .map(|e| e.action.clone())
        .collect();
    assert!(audited.iter().any(|a| a == "subscriber.join"));
    assert!(audited.iter().any(|a| a == "subscriber.stop"));
    let log = String::from_utf8(logs().lock().unwrap().clone()).unwrap();
    assert!(log.contains("SMS received"), "the capture works");
    assert_no_number("the log", &log, &hashes);
}

#[tokio::test]
async fn ambiguous_places_are_offered_and_a_number_picks() {
    let (app, key) = start().await;
    // Outside the deployment's country too: a name several first-level areas share.
    let name = ambiguous_name();
    sms(&app, 1, STRANGER, &format!("JOIN {name}")).await;
    let offer = replies_to(&app, &key, STRANGER).await.pop().unwrap();
    assert!(
        offer.contains("which place? Reply with its number: 1 "),
        "{offer}"
    );
    assert_eq!(counts(&app, None).await["total"], 0, "nothing chosen yet");
    // Out of range: asked again.
    sms(&app, 2, STRANGER, "9").await;
    assert_eq!(replies_to(&app, &key, STRANGER).await.pop().unwrap(), offer);
    sms(&app, 3, STRANGER, "2").await;
    let joined = replies_to(&app, &key, STRANGER).await.pop().unwrap();
    assert!(
        joined.starts_with("Tocsin: you will receive alerts for"),
        "{joined}"
    );
    let second = offer
        .split(" 2 ")
        .nth(1)
        .unwrap()
        .split(", 3 ")
        .next()
        .unwrap();
    assert!(joined.contains(second), "{joined} / {second}");
    assert_eq!(counts(&app, None).await["total"], 1);
    // The offer is used up: "2" again is an ordinary message.
    let before = app.store.counts().await.unwrap().reports;
    sms(&app, 4, STRANGER, "2").await;
    assert_eq!(app.store.counts().await.unwrap().reports, before + 1);
}

/// A place name the gazetteer knows in several first-level areas of the Central African
/// Republic (the deployment's country), found rather than assumed.
fn ambiguous_name() -> String {
    for name in [
        "Bossangoa",
        "Ndele",
        "Bakala",
        "Gambo",
        "Ouadda",
        "Bouca",
        "Kouki",
        "Sibut",
        "Zemio",
        "Bangassou",
        "Damara",
        "Boda",
        "Mala",
        "Ngoto",
        "Kaga",
        "Bria",
    ] {
        if tocsin_sms::resolve_subscriber_place(name, Some("CAF")).len() > 1 {
            return name.to_string();
        }
    }
    panic!("no ambiguous name among the candidates");
}

#[tokio::test]
async fn staff_register_subscribers_and_read_counts_only() {
    let (app, key) = start().await;
    let hashes = vec![SubscriberPhone::new(STRANGER.into()).lookup_hash(&key)];
    let body = json!({"phone": "075 00 00 02", "place": "Bambari", "language": "sw"});
    let (s, b) = app
        .post(
            Role::MonitorCoordinator,
            "/api/v1/subscribers",
            body.clone(),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(
        b.as_object().unwrap().keys().collect::<Vec<_>>(),
        vec!["id"]
    );
    assert_no_number("the register answer", &b.to_string(), &hashes);
    // Registering the same number again moves it: one subscriber, the same id.
    let (s, again) = app
        .post(
            Role::Admin,
            "/api/v1/subscribers",
            json!({"phone": STRANGER, "place": "Bria", "language": "fr"}),
        )
        .await;
    assert_eq!(s, 201);
    assert_eq!(again["id"], b["id"]);
    // The person is told, in their language, with how to stop.
    let told = replies_to(&app, &key, STRANGER).await;
    assert_eq!(told.len(), 2);
    assert!(told[0].starts_with("Tocsin: utapokea"), "{}", told[0]);
    for (role, want) in [
        (Role::Analyst, 403),
        (Role::DeskOfficer, 403),
        (Role::Viewer, 403),
    ] {
        let (s, _) = app.post(role, "/api/v1/subscribers", body.clone()).await;
        assert_eq!(s, want, "{role:?} may not register");
    }
    for (role, want) in [
        (Role::Viewer, 403),
        (Role::DeskOfficer, 403),
        (Role::Admin, 200),
    ] {
        let (s, _) = app.get(role, "/api/v1/subscribers/counts").await;
        assert_eq!(s, want, "{role:?} counts");
    }
    // Refusals name the field, and write nothing.
    for (bad, field, status) in [
        (
            json!({"phone": "not a number", "place": "Bria", "language": "fr"}),
            "phone",
            422,
        ),
        (
            json!({"phone": STRANGER, "place": "Xyzzyville", "language": "fr"}),
            "place",
            422,
        ),
        (
            json!({"phone": STRANGER, "place": "Bria", "language": "de"}),
            "language",
            422,
        ),
        (
            json!({"phone": STRANGER, "place": "Bria", "language": "fr", "x": 1}),
            "x",
            400,
        ),
    ] {
        let (s, b) = app
            .post(Role::MonitorCoordinator, "/api/v1/subscribers", bad)
            .await;
        assert_eq!(
            (s.as_u16(), b["field"].as_str()),
            (status, Some(field)),
            "{b}"
        );
        assert_no_number("a refusal", &b.to_string(), &hashes);
    }
    let c = counts(&app, None).await;
    assert_eq!(c["total"], 1);
    assert_eq!(
        c["areas"],
        json!([{"country": "CAF", "admin1": "Haute-Kotto", "count": 1}])
    );
    let inside = counts(
        &app,
        Some(json!({"circle": {"lat": 6.54, "lon": 21.99, "radius_km": 30}})),
    )
    .await;
    assert_eq!(inside["total"], 1);
    assert!(inside["area_km2"].as_f64().unwrap() > 2800.0);
    let outside = counts(&app, Some(json!({"countries": ["TCD"]}))).await;
    assert_eq!(outside["total"], 0);
    let (s, b) = app
        .get(
            Role::Analyst,
            &format!(
                "/api/v1/subscribers/counts?area={}",
                url_encode(r#"{"circle": {"lat": 6, "lon": 21, "radius_km": 0}}"#)
            ),
        )
        .await;
    assert_eq!(
        (s.as_u16(), b["field"].as_str()),
        (422, Some("area.circle.radius_km"))
    );
    let (s, b) = app
        .get(Role::Analyst, "/api/v1/subscribers/counts?area=%7Bnope")
        .await;
    assert_eq!((s.as_u16(), b["field"].as_str()), (400, Some("area")));
    assert_no_number("the counts", &c.to_string(), &hashes);

    // The OpenAPI document has both routes.
    let (s, doc) = app.get(Role::Viewer, "/api/v1/openapi.json").await;
    assert_eq!(s, 200);
    assert!(doc["paths"]["/api/v1/subscribers"]["post"].is_object());
    assert!(doc["paths"]["/api/v1/subscribers/counts"]["get"].is_object());

    // The Debug of a registration never shows the number.
    let r: tocsin_app::subscribers::RegisterSubscriber =
        serde_json::from_value(json!({"phone": STRANGER, "place": "Bria", "language": "fr"}))
            .unwrap();
    assert_no_number("a registration's Debug", &format!("{r:?}"), &hashes);
}

#[tokio::test]
async fn the_subscribers_page_counts_and_registers() {
    let (app, key) = start().await;
    let hashes = vec![SubscriberPhone::new(NOBODY.into()).lookup_hash(&key)];
    let (cookie, csrf) = login(&app, "monitor_coordinator").await;
    let get = |path: &'static str| {
        let app = &app;
        let cookie = cookie.clone();
        async move {
            let r = app
                .client
                .get(format!("{}{path}", app.base))
                .header("cookie", cookie)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (s, html) = get("/subscribers").await;
    assert_eq!(s, 200, "{html}");
    assert!(
        html.contains("<a href=\"/subscribers\">Subscribers</a>"),
        "in the menu"
    );
    assert!(html.contains("id=\"register-subscriber\""));
    assert!(html.contains("<strong>0</strong> active subscribers"));
    let post = |form: Vec<(&'static str, &'static str)>| {
        let app = &app;
        let cookie = cookie.clone();
        let csrf = csrf.clone();
        async move {
            let mut f: Vec<(&str, String)> =
                form.into_iter().map(|(k, v)| (k, v.to_string())).collect();
            f.push(("csrf", csrf));
            let r = app
                .client
                .post(format!("{}/subscribers", app.base))
                .header("cookie", cookie)
                .form(&f)
                .send()
                .await
                .unwrap();
            let loc = r
                .headers()
                .get("location")
                .map(|l| l.to_str().unwrap().to_string());
            (r.status().as_u16(), loc, r.text().await.unwrap())
        }
    };
    // A refusal is shown on the form, the place kept and the number not.
    let (s, _, html) = post(vec![
        ("phone", NOBODY),
        ("place", "Xyzzyville"),
        ("language", "fr"),
    ])
    .await;
    assert_eq!(s, 422);
    assert!(html.contains("place: no place of that name"), "{html}");
    assert!(html.contains("value=\"Xyzzyville\""));
    assert_no_number("the refused form", &html, &hashes);
    let (s, loc, _) = post(vec![
        ("phone", NOBODY),
        ("place", "Bambari"),
        ("language", "ar"),
    ])
    .await;
    assert_eq!(
        (s, loc.as_deref()),
        (303, Some("/subscribers?registered=1"))
    );
    let (_, html) = get("/subscribers?registered=1").await;
    assert!(html.contains("Subscriber registered."));
    assert!(html.contains("<strong>1</strong> active subscriber"));
    assert!(
        html.contains("<td>Ouaka</td><td class=\"num\">1</td>"),
        "{html}"
    );
    assert_no_number("the page", &html, &hashes);
    // A viewer has neither the page nor the menu entry.
    let (vc, _) = login(&app, "viewer").await;
    let r = app
        .client
        .get(format!("{}/subscribers", app.base))
        .header("cookie", vc)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

async fn login(app: &TestApp, user: &str) -> (String, String) {
    let (cookie, _) = browser_login(app, user, "password-123").await.unwrap();
    let r = app
        .client
        .get(format!("{}/subscribers", app.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    let html = r.text().await.unwrap();
    let csrf = if html.contains("name=\"csrf\"") {
        csrf_in(&html)
    } else {
        String::new()
    };
    (cookie, csrf)
}
