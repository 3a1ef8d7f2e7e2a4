//! The triage queue and its actions over real HTTP on a real SQLite file: the order of the
//! queue and what each viewer's clearance lets into it, every action's refusals, the follow-up
//! that never shows the number, incidents prefilled from reports, and the pages.

mod common;

use chrono::Duration;
use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tocsin_domain::{
    time, Actor, ApiToken, Channel, ContactKey, Country, NewReport, NewSource, NewUser,
    Reliability, ReportMeta, Role, Source, Tlp,
};
use tocsin_server::sms::{SecretOnly, SmsConfig};
use tocsin_store::{Op, StoreExt};
use uuid::Uuid;

/// An analyst named `name` cleared only to `clearance`; their API token.
async fn analyst(app: &TestApp, name: &str, clearance: Tlp) -> String {
    let actor = Actor::system("test");
    let mut u = NewUser::build(name, Role::Analyst, Some("password-123")).unwrap();
    u.clearance = clearance;
    let u = app.store.create_user(&actor, u).await.unwrap();
    let (t, secret) = ApiToken::generate(u.id, "test", None);
    app.store.write(&actor, Op::CreateToken(t)).await.unwrap();
    secret
}

async fn source(app: &TestApp, handle: &str, r: Reliability, tlp: Tlp) -> Source {
    let s = NewSource::new(handle, "monitor", r, tlp, None, &ContactKey::generate()).unwrap();
    app.store
        .create_source(&Actor::system("test"), s)
        .await
        .unwrap()
}

/// A report stored as SMS ingestion would: `category` its keyword code, received `ago` minutes ago.
async fn report(
    app: &TestApp,
    text: &str,
    category: Option<&str>,
    source: Option<Uuid>,
    ago: i64,
    tlp: Tlp,
) -> Uuid {
    let r = NewReport {
        id: tocsin_domain::random_id(),
        channel: Channel::Sms,
        provider_key: None,
        source_id: source,
        text: text.into(),
        tlp,
        latitude: Some(11.0),
        longitude: Some(-4.0),
        country: Some(Country::parse("MLI").unwrap()),
        occurred_at: None,
        received_at: time::now() - Duration::minutes(ago),
        meta: ReportMeta {
            category: category.map(str::to_string),
            ..Default::default()
        },
    };
    app.store
        .create_report(&Actor::system("test"), r)
        .await
        .unwrap()
        .id
}

async fn call_as(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = app
        .client
        .request(method, format!("{}{}", app.base, path))
        .bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let s = resp.status();
    let t = resp.text().await.unwrap();
    (s, serde_json::from_str(&t).unwrap_or(Value::String(t)))
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["report"]["id"].as_str().unwrap().to_string())
        .collect()
}

/// A desk answering for Mali, so alerts about it can be raised.
async fn mali_desk(app: &TestApp) {
    let (s, b) = app
        .post(
            Role::Admin,
            "/api/v1/desks",
            json!({"name": "Sahel desk", "department": "defence", "members": ["desk_officer"],
                   "countries": ["MLI"], "escalation": [{"after": "15m", "notify": {"user": "desk_officer"}}]}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
}

#[tokio::test]
async fn the_queue_is_most_urgent_first_and_within_clearance() {
    let app = TestApp::start().await;
    let amber = analyst(&app, "amber_analyst", Tlp::Amber).await;
    let red = app.tokens[&Role::Analyst].clone();
    let a = source(&app, "S-A", Reliability::A, Tlp::Green).await;
    let e = source(&app, "S-E", Reliability::E, Tlp::Green).await;
    let hidden = source(&app, "S-RED", Reliability::A, Tlp::Red).await;
    let g = Tlp::Green;
    let r1 = report(&app, "nothing coded", None, None, 50, g).await;
    let r2 = report(&app, "threat from E", Some("threat"), Some(e.id), 40, g).await;
    let r3 = report(&app, "threat from A", Some("threat"), Some(a.id), 30, g).await;
    let r4 = report(&app, "threat in an alert", Some("threat"), None, 20, g).await;
    let r5 = report(&app, "attack, newer", Some("attack"), None, 10, g).await;
    let r6 = report(&app, "attack, older", Some("attack"), None, 60, g).await;
    let r7 = report(&app, "attack, RED", Some("attack"), None, 5, Tlp::Red).await;
    let r8 = report(&app, "from a RED source", None, Some(hidden.id), 5, g).await;
    mali_desk(&app).await;
    // r4 rests in a GREEN alert everyone may read, r2 in a RED one only the RED analyst may.
    for (id, tlp) in [(r4, "TLP:GREEN"), (r2, "TLP:RED")] {
        let (s, b) = app
            .post(
                Role::Analyst,
                "/api/v1/alerts",
                json!({"title": "Militia", "severity": "high", "tlp": tlp, "country": "MLI",
                       "evidence": [{"report": id}]}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
    }
    let s = |v: &[Uuid]| v.iter().map(Uuid::to_string).collect::<Vec<_>>();

    let (st, q) = call_as(&app, &red, Method::GET, "/api/v1/triage", None).await;
    assert_eq!(st, 200, "{q}");
    assert_eq!(ids(&q), s(&[r6, r5, r7, r2, r4, r3, r8, r1]));
    let items = q["items"].as_array().unwrap();
    assert_eq!(items[0]["urgency"], "critical");
    assert_eq!(items[3]["open_alert"], true);
    assert_eq!(items[5]["reliability"], "A");
    assert_eq!(items[5]["report"]["source"], "S-A");
    assert_eq!(items[6]["report"]["source"], "S-RED");

    // AMBER: no RED report, no RED alert behind r2, no RED source's handle or grade.
    let (st, q) = call_as(&app, &amber, Method::GET, "/api/v1/triage", None).await;
    assert_eq!(st, 200);
    assert_eq!(ids(&q), s(&[r6, r5, r4, r3, r2, r1, r8]));
    let body = q.to_string();
    assert!(
        !body.contains(&r7.to_string()) && !body.contains("S-RED") && !body.contains("TLP:RED")
    );
    let r8_item = &q["items"][6];
    assert!(r8_item["report"]["source"].is_null() && r8_item["reliability"].is_null());

    // Pages of two walk the same order, each page's cursor after its last item.
    let mut walked = Vec::new();
    let mut path = "/api/v1/triage?limit=2".to_string();
    loop {
        let (st, p) = call_as(&app, &amber, Method::GET, &path, None).await;
        assert_eq!(st, 200, "{p}");
        walked.extend(ids(&p));
        match p["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/triage?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(walked, s(&[r6, r5, r4, r3, r2, r1, r8]));
    let bad = Tocsin::cursor_of_reports(&app).await;
    let (st, b) = call_as(
        &app,
        &amber,
        Method::GET,
        &format!("/api/v1/triage?cursor={bad}"),
        None,
    )
    .await;
    assert_eq!(
        (st, b["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("cursor")),
        "{b}"
    );

    // Filters: assigned to me, unassigned, channel, country.
    let (st, b) = call_as(
        &app,
        &red,
        Method::POST,
        &format!("/api/v1/reports/{r1}/assign"),
        Some(json!({"user": "amber_analyst"})),
    )
    .await;
    assert_eq!(st, 201, "{b}");
    let (_, mine) = call_as(
        &app,
        &amber,
        Method::GET,
        "/api/v1/triage?assigned=me",
        None,
    )
    .await;
    assert_eq!(ids(&mine), s(&[r1]));
    assert_eq!(mine["items"][0]["assignee"], "amber_analyst");
    let (_, none) = call_as(
        &app,
        &amber,
        Method::GET,
        "/api/v1/triage?assigned=nobody",
        None,
    )
    .await;
    assert_eq!(ids(&none).len(), 6);
    let (_, web) = call_as(
        &app,
        &amber,
        Method::GET,
        "/api/v1/triage?channel=web",
        None,
    )
    .await;
    assert!(ids(&web).is_empty());
    let (_, other) = call_as(
        &app,
        &amber,
        Method::GET,
        "/api/v1/triage?country=CAF",
        None,
    )
    .await;
    assert!(ids(&other).is_empty());
    let (st, b) = call_as(
        &app,
        &amber,
        Method::GET,
        "/api/v1/triage?assigned=them",
        None,
    )
    .await;
    assert_eq!(
        (st, b["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("assigned")),
        "{b}"
    );
}

/// Not a namespace of the product: a helper for a cursor issued by another list.
struct Tocsin;
impl Tocsin {
    async fn cursor_of_reports(app: &TestApp) -> String {
        let (_, p) = app.get(Role::Analyst, "/api/v1/reports?limit=1").await;
        p["next_cursor"]
            .as_str()
            .expect("more than one report")
            .to_string()
    }
}

#[tokio::test]
async fn actions_refuse_what_they_must_and_leave_a_history() {
    let app = TestApp::start().await;
    let amber = analyst(&app, "amber_analyst", Tlp::Amber).await;
    let g = Tlp::Green;
    let a = report(
        &app,
        "armed men at the well",
        Some("armed_movement"),
        None,
        10,
        g,
    )
    .await;
    let b = report(&app, "armed men at the well again", None, None, 5, g).await;
    let secret = report(&app, "a red report", None, None, 5, Tlp::Red).await;
    let post = |token: String, path: String, body: Value| {
        let app = &app;
        async move { call_as(app, &token, Method::POST, &path, Some(body)).await }
    };

    // Reject needs a reason (present and not blank).
    let (st, e) = post(
        amber.clone(),
        format!("/api/v1/reports/{a}/reject"),
        json!({"reason": "  "}),
    )
    .await;
    assert_eq!(
        (st, e["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("reason")),
        "{e}"
    );
    let (st, e) = post(
        amber.clone(),
        format!("/api/v1/reports/{a}/reject"),
        json!({}),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(e["error"].as_str().unwrap().contains("reason"), "{e}");

    // A duplicate of a record the caller may not see answers as one that does not exist.
    let (st, hidden) = post(
        amber.clone(),
        format!("/api/v1/reports/{b}/duplicate"),
        json!({"of": secret}),
    )
    .await;
    let (st2, missing) = post(
        amber.clone(),
        format!("/api/v1/reports/{b}/duplicate"),
        json!({"of": Uuid::new_v4()}),
    )
    .await;
    assert_eq!(
        (st, st2),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            StatusCode::UNPROCESSABLE_ENTITY
        )
    );
    assert_eq!(hidden, missing, "an unseen record must look missing");
    assert_eq!(hidden["field"], "of");
    let (st, _) = post(
        amber.clone(),
        format!("/api/v1/reports/{b}/duplicate"),
        json!({"of": b}),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    // Acting on a report above one's clearance: as on one that does not exist.
    let (st, _) = post(
        amber.clone(),
        format!("/api/v1/reports/{secret}/reject"),
        json!({"reason": "x"}),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // Assign only to a colleague who may triage and see the report.
    let (st, e) = post(
        amber.clone(),
        format!("/api/v1/reports/{b}/assign"),
        json!({"user": "desk_officer"}),
    )
    .await;
    assert_eq!(
        (st, e["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("user")),
        "{e}"
    );
    let (st, e) = post(
        amber.clone(),
        format!("/api/v1/reports/{b}/assign"),
        json!({"user": "nobody-here"}),
    )
    .await;
    assert_eq!(
        (st, e["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("user")),
        "{e}"
    );
    let red = app.tokens[&Role::Analyst].clone();
    let (st, e) = post(
        red.clone(),
        format!("/api/v1/reports/{secret}/assign"),
        json!({"user": "amber_analyst"}),
    )
    .await;
    assert_eq!(
        (st, e["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("user")),
        "{e}"
    );

    // The real decisions: b duplicates a, a is rejected; each once.
    let (st, d) = post(
        amber.clone(),
        format!("/api/v1/reports/{b}/duplicate"),
        json!({"of": a}),
    )
    .await;
    assert_eq!(st, 201, "{d}");
    assert_eq!(d["duplicate_of"], json!({"kind": "report", "id": a}));
    let (st, d) = post(
        amber.clone(),
        format!("/api/v1/reports/{a}/reject"),
        json!({"reason": "a rumour already answered"}),
    )
    .await;
    assert_eq!(st, 201, "{d}");
    assert_eq!(d["by"], "amber_analyst");
    let (st, e) = post(
        red.clone(),
        format!("/api/v1/reports/{a}/reject"),
        json!({"reason": "again"}),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT, "{e}");
    let (st, e) = post(
        red.clone(),
        format!("/api/v1/reports/{a}/assign"),
        json!({"user": "analyst"}),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT, "{e}");

    // Both left the queue; the history names who decided what.
    let (_, q) = call_as(&app, &amber, Method::GET, "/api/v1/triage", None).await;
    assert!(ids(&q).is_empty(), "{q}");
    let (st, h) = app
        .get(Role::DeskOfficer, &format!("/api/v1/reports/{a}/history"))
        .await;
    assert_eq!(st, 200);
    assert_eq!(h["items"][0]["kind"], "rejected");
    assert_eq!(h["items"][0]["reason"], "a rumour already answered");
    let audit = app.store.audit_entries(0, 10_000).await.unwrap();
    let acts: Vec<&str> = audit
        .iter()
        .map(|e| e.action.as_str())
        .filter(|a| a.starts_with("report."))
        .collect();
    assert!(
        acts.contains(&"report.rejected") && acts.contains(&"report.duplicate"),
        "{acts:?}"
    );
}

#[tokio::test]
async fn a_follow_up_goes_to_the_source_and_never_shows_the_number() {
    let app = TestApp::start_with(|s| {
        s.with_sms(SmsConfig {
            smssync: Some(SecretOnly {
                secret: tocsin_server::sms::Secret("smssync-secret-0123456789abc".into()),
                allow_from: vec![],
            }),
            ..Default::default()
        })
    })
    .await;
    let src = app.store.get_source_by_handle("M-0001").await.unwrap();
    let mute = source(&app, "S-MUTE", Reliability::C, Tlp::Green).await;
    let from_source = report(
        &app,
        "militia at the school",
        Some("threat"),
        Some(src.id),
        5,
        Tlp::Green,
    )
    .await;
    let anonymous = report(&app, "no sender", None, None, 5, Tlp::Green).await;
    let unreachable = report(&app, "no contact", None, Some(mute.id), 5, Tlp::Green).await;
    let q = json!({"text": "How many men, and which way did they go?"});

    let (st, d) = app
        .post(
            Role::Analyst,
            &format!("/api/v1/reports/{from_source}/follow-up"),
            q.clone(),
        )
        .await;
    assert_eq!(st, StatusCode::ACCEPTED, "{d}");
    assert_eq!(d["kind"], "follow_up");
    let shown = d.to_string();
    assert!(
        !shown.contains(PHONE)
            && !shown.contains("23670012345")
            && !shown.contains(&src.id.to_string())
    );
    let sent = app.store.list_outbound(Some(src.id), 10).await.unwrap();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].text, "How many men, and which way did they go?");
    assert_eq!(sent[0].report_id, Some(from_source));

    let (st, e) = app
        .post(
            Role::Analyst,
            &format!("/api/v1/reports/{anonymous}/follow-up"),
            q.clone(),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        e["error"].as_str().unwrap().contains("no known source"),
        "{e}"
    );
    let (st, e) = app
        .post(
            Role::Analyst,
            &format!("/api/v1/reports/{unreachable}/follow-up"),
            q.clone(),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        e["error"].as_str().unwrap().contains("cannot be reached"),
        "{e}"
    );
    let (st, _) = app
        .post(
            Role::MonitorCoordinator,
            &format!("/api/v1/reports/{from_source}/follow-up"),
            q.clone(),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);

    // The audit entry names the report, not the source; no number anywhere in the trail.
    let audit = app.store.audit_entries(0, 10_000).await.unwrap();
    let f: Vec<_> = audit
        .iter()
        .filter(|e| e.action == "report.follow_up")
        .collect();
    assert_eq!(f.len(), 1);
    assert_eq!(
        f[0].record_id.as_deref(),
        Some(from_source.to_string().as_str())
    );
    let trail = serde_json::to_string(&f).unwrap();
    assert!(!trail.contains(&src.id.to_string()) && !trail.contains("M-0001"));
    assert!(!serde_json::to_string(&audit).unwrap().contains(PHONE));
    // The report's history shows the question, still without the number.
    let (_, h) = app
        .get(
            Role::Analyst,
            &format!("/api/v1/reports/{from_source}/history"),
        )
        .await;
    assert_eq!(
        h["items"][0]["text"],
        "How many men, and which way did they go?"
    );
    assert!(!h.to_string().contains(PHONE));

    // Without any gateway the source cannot be reached either.
    let bare = TestApp::start().await;
    let src = bare.store.get_source_by_handle("M-0001").await.unwrap();
    let r = report(&bare, "x", None, Some(src.id), 1, Tlp::Green).await;
    let (st, e) = bare
        .post(Role::Analyst, &format!("/api/v1/reports/{r}/follow-up"), q)
        .await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert!(
        e["error"].as_str().unwrap().contains("cannot be reached"),
        "{e}"
    );
}

#[tokio::test]
async fn an_incident_made_from_reports_takes_what_the_body_leaves_out() {
    let app = TestApp::start().await;
    let amber = analyst(&app, "amber_analyst", Tlp::Amber).await;
    let a = report(
        &app,
        "men burned the market",
        Some("attack"),
        None,
        30,
        Tlp::Green,
    )
    .await;
    let b = report(&app, "the market is burning", None, None, 20, Tlp::Amber).await;
    let secret = report(&app, "red", None, None, 20, Tlp::Red).await;
    let (st, i) = app
        .post(
            Role::Analyst,
            "/api/v1/incidents",
            json!({"report_ids": [a, b], "fatalities": 2}),
        )
        .await;
    assert_eq!(st, 201, "{i}");
    assert_eq!(i["country"], "MLI");
    assert_eq!(
        (i["latitude"].as_f64(), i["longitude"].as_f64()),
        (Some(11.0), Some(-4.0))
    );
    assert_eq!(i["tlp"], "TLP:AMBER", "the highest of the reports' labels");
    assert_eq!(i["fatalities"], 2);
    assert_eq!(i["event_type"], "Violence against civilians");
    assert_eq!(
        i["description"],
        "men burned the market\n\nthe market is burning"
    );
    assert_eq!(
        i["event_date"],
        (time::now() - Duration::minutes(30))
            .date_naive()
            .to_string()
    );
    let (_, q) = app.get(Role::Analyst, "/api/v1/triage").await;
    assert_eq!(
        ids(&q),
        vec![secret.to_string()],
        "linked reports left the queue"
    );
    // A report above the caller's clearance is as one that does not exist.
    let (st, e) = call_as(
        &app,
        &amber,
        Method::POST,
        "/api/v1/incidents",
        Some(json!({"report_ids": [secret]})),
    )
    .await;
    assert_eq!(
        (st, e["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("report_ids")),
        "{e}"
    );
    // Without reports, the required fields are required as before.
    let (st, e) = app
        .post(Role::Analyst, "/api/v1/incidents", json!({"fatalities": 1}))
        .await;
    assert_eq!(
        (st, e["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("event_date")),
        "{e}"
    );
    // A linked report cannot be rejected any more.
    let (st, _) = app
        .post(
            Role::Analyst,
            &format!("/api/v1/reports/{a}/reject"),
            json!({"reason": "x"}),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT);
}

async fn page_as(app: &TestApp, role: Role, path: &str) -> (StatusCode, String) {
    let (cookie, _) = browser_login(app, role.as_str(), "password-123")
        .await
        .unwrap();
    let resp = app
        .client
        .get(format!("{}{}", app.base, path))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    (resp.status(), resp.text().await.unwrap())
}

#[tokio::test]
async fn the_pages_serve_triagers_and_refuse_the_others() {
    let app = TestApp::start().await;
    let r = report(
        &app,
        "armed men near the river",
        Some("attack"),
        None,
        5,
        Tlp::Green,
    )
    .await;
    let secret = report(&app, "a red report", None, None, 5, Tlp::Red).await;
    for role in Role::ALL {
        let (st, html) = page_as(&app, role, "/triage").await;
        let want = if role == Role::Analyst { 200 } else { 403 };
        assert_eq!(st.as_u16(), want, "/triage as {role}");
        if want == 200 {
            assert!(
                html.contains("armed men near the river") && html.contains("/assets/triage.js")
            );
            assert!(html.contains(&format!("/incidents/new?reports={r}")));
            assert!(html.contains("<kbd>j</kbd>"), "shortcuts listed");
            assert!(html.contains("href=\"/triage\""), "navigation link");
        }
        let (st, html) = page_as(&app, role, &format!("/reports/{r}")).await;
        let want = if role == Role::Viewer { 403 } else { 200 };
        assert_eq!(st.as_u16(), want, "/reports/{{id}} as {role}");
        if want == 200 {
            assert!(html.contains("armed men near the river"));
            assert_eq!(
                html.contains("href=\"/triage\""),
                role == Role::Analyst,
                "nav as {role}"
            );
        }
        let (st, _) = page_as(&app, role, &format!("/reports/{secret}")).await;
        let want = match role {
            Role::Admin | Role::Analyst => 200,
            Role::Viewer => 403,
            _ => 404,
        };
        assert_eq!(st.as_u16(), want, "red report page as {role}");
        let (st, _) = page_as(&app, role, &format!("/incidents/new?reports={r}")).await;
        let want = if role == Role::Analyst { 200 } else { 403 };
        assert_eq!(st.as_u16(), want, "/incidents/new as {role}");
    }
    let (_, list) = page_as(&app, Role::DeskOfficer, "/reports").await;
    assert!(
        list.contains(&format!("href=\"/reports/{r}\"")),
        "the reports list links each report"
    );
    let js = app
        .client
        .get(format!("{}/assets/triage.js", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(js.status(), 200);

    // Two clicks without a browser: the prefilled form, then its submit.
    let (cookie, csrf) = browser_login(&app, "analyst", "password-123")
        .await
        .unwrap();
    let html = app
        .client
        .get(format!("{}/incidents/new?reports={r}", app.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let field = |name: &str| -> String {
        let at = html
            .find(&format!("name=\"{name}\""))
            .unwrap_or_else(|| panic!("{name} in {html}"));
        let rest = &html[at..];
        rest.split("value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(field("country"), "MLI");
    let form = [
        ("csrf", csrf.clone()),
        ("reports", r.to_string()),
        ("event_date", field("event_date")),
        ("event_type", "Violence against civilians".into()),
        ("sub_event_type", field("sub_event_type")),
        ("country", field("country")),
        ("admin1", String::new()),
        ("location", String::new()),
        ("latitude", field("latitude")),
        ("longitude", field("longitude")),
        ("fatalities", field("fatalities")),
        ("verification_status", "unverified".into()),
        ("tlp", "TLP:GREEN".into()),
        ("description", "armed men near the river".into()),
    ];
    let resp = app
        .client
        .post(format!("{}/incidents/new", app.base))
        .header("cookie", &cookie)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let (_, q) = app.get(Role::Analyst, "/api/v1/triage").await;
    assert_eq!(ids(&q), vec![secret.to_string()]);
    let (_, html) = page_as(&app, Role::Analyst, &format!("/reports/{r}")).await;
    assert!(
        html.contains("href=\"/incidents/"),
        "the report page shows its incident"
    );

    // The web forms: reject without a reason is refused, with one it leaves the queue.
    let t = report(&app, "spam spam", None, None, 1, Tlp::Green).await;
    let post = |path: String, form: Vec<(&'static str, String)>| {
        let (app, cookie) = (&app, cookie.clone());
        async move {
            app.client
                .post(format!("{}{}", app.base, path))
                .header("cookie", cookie)
                .form(&form)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    let st = post(
        format!("/reports/{t}/reject"),
        vec![("csrf", csrf.clone()), ("reason", " ".into())],
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let st = post(
        format!("/reports/{t}/reject"),
        vec![("reason", "spam".into())],
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "no CSRF token");
    let st = post(
        format!("/reports/{t}/reject"),
        vec![("csrf", csrf.clone()), ("reason", "spam".into())],
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (_, html) = page_as(&app, Role::Analyst, &format!("/reports/{t}")).await;
    assert!(html.contains("rejected: <bdi>spam</bdi>"), "{html}");

    // From a report's page: link it to an incident by id (a bad id is an error naming the
    // field), and the page offers its suggested matches and evidence files.
    let u = report(&app, "smoke over the river", None, None, 1, Tlp::Green).await;
    let (st, i) = app
        .post(
            Role::Analyst,
            "/api/v1/incidents",
            json!({"report_ids": [t], "fatalities": 0}),
        )
        .await;
    assert_eq!(st, 201, "{i}");
    let incident = i["id"].as_str().unwrap().to_string();
    let (_, html) = page_as(&app, Role::Analyst, &format!("/reports/{u}")).await;
    assert!(
        html.contains(&format!("action=\"/reports/{u}/link\"")),
        "{html}"
    );
    assert!(
        html.contains(&format!("href=\"/reports/{u}/matches\"")),
        "{html}"
    );
    assert!(
        html.contains(&format!("href=\"/reports/{u}/files\"")),
        "{html}"
    );
    let st = post(
        format!("/reports/{u}/link"),
        vec![("csrf", csrf.clone()), ("incident_id", "nope".into())],
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let st = post(
        format!("/reports/{u}/link"),
        vec![("csrf", csrf.clone()), ("incident_id", incident.clone())],
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (_, i) = app
        .get(Role::Analyst, &format!("/api/v1/incidents/{incident}"))
        .await;
    assert!(i["report_ids"].to_string().contains(&u.to_string()), "{i}");

    // From a report's page: mark it as a sighting of a rumour.
    let (st, rumour) = app
        .post(
            Role::Analyst,
            "/api/v1/rumours",
            json!({"claim": "The militia will burn the river market", "country": "MLI",
                   "priority": "high", "tlp": "TLP:GREEN"}),
        )
        .await;
    assert_eq!(st, 201, "{rumour}");
    let rumour = rumour["id"].as_str().unwrap().to_string();
    let (_, html) = page_as(&app, Role::Analyst, &format!("/reports/{u}")).await;
    assert!(
        html.contains(&format!("action=\"/reports/{u}/sighting\"")),
        "{html}"
    );
    assert!(html.contains(&format!("value=\"{rumour}\"")), "{html}");
    let st = post(
        format!("/reports/{u}/sighting"),
        vec![
            ("csrf", csrf.clone()),
            ("rumour_id", rumour.clone()),
            ("how", "radio".into()),
            ("where", "the river market".into()),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (_, html) = page_as(&app, Role::Analyst, &format!("/reports/{u}")).await;
    assert!(
        html.contains("A sighting of") && html.contains(&format!("href=\"/rumours/{rumour}\"")),
        "{html}"
    );
    let (_, v) = app
        .get(Role::Analyst, &format!("/api/v1/rumours/{rumour}"))
        .await;
    assert!(v.to_string().contains(&u.to_string()), "{v}");
    let st = post(
        format!("/reports/{u}/sighting"),
        vec![
            ("csrf", csrf.clone()),
            ("rumour_id", "none".into()),
            ("how", "radio".into()),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn every_triage_route_is_in_the_openapi_document() {
    let app = TestApp::start().await;
    let (_, doc) = app.get(Role::Viewer, "/api/v1/openapi.json").await;
    for p in [
        "/api/v1/triage",
        "/api/v1/reports/{id}/reject",
        "/api/v1/reports/{id}/duplicate",
        "/api/v1/reports/{id}/assign",
        "/api/v1/reports/{id}/follow-up",
        "/api/v1/reports/{id}/history",
    ] {
        assert!(
            doc["paths"][p].is_object(),
            "{p} missing from the OpenAPI document"
        );
    }
    assert!(doc["components"]["schemas"]["IncidentDraft"].is_object());
}
