//! The alerting web pages over real HTTP and a real SQLite file: the home page, the alerts
//! inbox with its filters, an alert's page (timeline, evidence within the viewer's reach, the
//! desk officer's moves through CSRF-checked forms), the desks' list, the header's links, and
//! signals on the situation page linked to their alert and incidents.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;
use tocsin_delivery::smtp::{SmtpChannel, SmtpConfig, SmtpTls};
use tocsin_domain::{Role, Tlp};

/// A server with e-mail configured (to a port where nothing listens: nothing here needs a
/// message delivered) and the desk officer and the analyst with an address, so that policy
/// steps naming them reach someone.
async fn start() -> TestApp {
    let app = TestApp::start_with(|s| {
        let cfg = SmtpConfig {
            host: "127.0.0.1".into(),
            port: Some(9),
            tls: SmtpTls::None,
            username: None,
            password: None,
            from: "Tocsin <alerts@tocsin.test>".into(),
            timeout_secs: Some(1),
            subject_prefix: None,
        };
        let ch = SmtpChannel::new(&cfg, s.contact_key.clone()).unwrap();
        s.with_smtp(ch)
    })
    .await;
    for name in ["desk_officer", "analyst"] {
        let (s, b) = app
            .call(
                Some(Role::Admin),
                reqwest::Method::PATCH,
                &format!("/api/v1/users/{name}"),
                Some(json!({"email": format!("{name}@example.org")})),
            )
            .await;
        assert_eq!(s, 200, "{b}");
    }
    app
}

const VAC: (&str, &str) = ("Violence against civilians", "Attack");

struct Browser<'a> {
    app: &'a TestApp,
    cookie: String,
    csrf: String,
}

impl<'a> Browser<'a> {
    async fn login(app: &'a TestApp, user: &str) -> Browser<'a> {
        let (cookie, csrf) = browser_login(app, user, "password-123").await.unwrap();
        Browser { app, cookie, csrf }
    }

    async fn get(&self, path: &str) -> (StatusCode, String) {
        let r = self
            .app
            .client
            .get(format!("{}{path}", self.app.base))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    }

    /// Post a form (with this session's CSRF token unless `csrf` is given): status, redirect
    /// target, body.
    async fn post(
        &self,
        path: &str,
        form: &[(&str, &str)],
        csrf: Option<&str>,
    ) -> (StatusCode, Option<String>, String) {
        let mut f: Vec<(&str, &str)> = form.to_vec();
        f.push(("csrf", csrf.unwrap_or(&self.csrf)));
        let r = self
            .app
            .client
            .post(format!("{}{path}", self.app.base))
            .header("cookie", &self.cookie)
            .form(&f)
            .send()
            .await
            .unwrap();
        let loc = r
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_string());
        (r.status(), loc, r.text().await.unwrap())
    }
}

/// A desk for Mali whose member is the desk officer, a situation, and two alerts raised by the
/// analyst: a TLP:GREEN one resting on an incident and a report, and a TLP:AMBER one.
struct Seed {
    desk: String,
    situation: String,
    green: String,
    amber: String,
    incident: String,
    report: String,
}

async fn seed(app: &TestApp) -> Seed {
    let (s, desk) = app
        .post(
            Role::Admin,
            "/api/v1/desks",
            json!({"name": "Sahel desk", "department": "defence", "members": ["desk_officer"],
                   "countries": ["MLI"], "escalation": [
                       {"after": "15m", "notify": {"user": "desk_officer"}},
                       {"after": "1h", "notify": {"user": "desk_officer"}}]}),
        )
        .await;
    assert_eq!(s, 201, "{desk}");
    let (s, sit) = app
        .post(
            Role::Analyst,
            "/api/v1/situations",
            json!({"name": "Central Mali", "country": "MLI", "tlp": "TLP:GREEN"}),
        )
        .await;
    assert_eq!(s, 201, "{sit}");
    let situation = sit["id"].as_str().unwrap().to_string();
    let inc = app
        .incident(Tlp::Green, "MLI", "2025-01-01", 14.3, -4.1, VAC)
        .await;
    let (s, rep) = app
        .post(
            Role::Analyst,
            "/api/v1/reports",
            json!({"text": "armed men near Mopti", "tlp": "TLP:GREEN"}),
        )
        .await;
    assert_eq!(s, 201, "{rep}");
    let report = rep["id"].as_str().unwrap().to_string();
    let (s, a) = app
        .post(
            Role::Analyst,
            "/api/v1/alerts",
            json!({"title": "Militia massing near Mopti", "severity": "high", "tlp": "TLP:GREEN",
                   "country": "MLI", "situation": situation,
                   "evidence": [{"incident": inc.id}, {"report": report}]}),
        )
        .await;
    assert_eq!(s, 201, "{a}");
    let green = a["id"].as_str().unwrap().to_string();
    let (s, b) = app
        .post(
            Role::Analyst,
            "/api/v1/alerts",
            json!({"title": "Convoy ambush feared", "severity": "low", "tlp": "TLP:AMBER", "country": "MLI"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    Seed {
        desk: desk["id"].as_str().unwrap().to_string(),
        situation,
        green,
        amber: b["id"].as_str().unwrap().to_string(),
        incident: inc.id.to_string(),
        report,
    }
}

#[tokio::test]
async fn alert_pages_render_for_every_role_with_the_header_links() {
    let app = start().await;
    let s = seed(&app).await;
    for role in Role::ALL {
        let b = Browser::login(&app, role.as_str()).await;
        for path in [
            "/".to_string(),
            "/alerts".into(),
            format!("/alerts/{}", s.green),
            format!("/alerts?desk={}&severity=high&status=open", s.desk),
            format!("/situations/{}", s.situation),
            "/admin/desks".into(),
            "/admin/rules".into(),
        ] {
            let (st, html) = b.get(&path).await;
            assert_eq!(st, StatusCode::OK, "{role:?} {path}: {html}");
            for link in ["href=\"/\"", "href=\"/alerts\"", "href=\"/inbox\""] {
                assert!(html.contains(link), "{role:?} {path}: no {link}");
            }
            assert_eq!(
                html.contains("href=\"/admin/desks\""),
                role == Role::Admin,
                "{role:?} {path}: the desks link is for admins"
            );
        }
    }
}

#[tokio::test]
async fn home_and_inbox_show_the_desks_alerts_with_filters() {
    let app = start().await;
    let s = seed(&app).await;
    let officer = Browser::login(&app, "desk_officer").await;
    let (st, home) = officer.get("/").await;
    assert_eq!(st, StatusCode::OK);
    assert!(home.contains("Your desks: Sahel desk"), "{home}");
    assert!(home.contains("My alerts (2)"), "{home}");
    assert!(home.contains("Overdue (0)"), "{home}");
    assert!(home.contains("Acknowledged by me (0)"), "{home}");
    assert!(home.contains(&format!("href=\"/alerts/{}\"", s.green)));
    assert!(home.contains(&format!("href=\"/alerts/{}\"", s.amber)));

    // The analyst sits on no desk: nothing of theirs.
    let analyst = Browser::login(&app, "analyst").await;
    let (_, home) = analyst.get("/").await;
    assert!(home.contains("You are on no desk") && home.contains("My alerts (0)"));

    // Filters as query parameters.
    let (_, html) = officer.get("/alerts?severity=high").await;
    assert!(html.contains(&format!("href=\"/alerts/{}\"", s.green)));
    assert!(!html.contains(&format!("href=\"/alerts/{}\"", s.amber)));
    assert!(html.contains("1 alert matches these filters."), "{html}");
    let (_, html) = officer
        .get(&format!(
            "/alerts?desk={}&situation={}",
            s.desk, s.situation
        ))
        .await;
    assert!(html.contains(&format!("href=\"/alerts/{}\"", s.green)));
    assert!(!html.contains(&format!("href=\"/alerts/{}\"", s.amber)));
    // Paged: one per page, a link to the next.
    let (_, html) = officer.get("/alerts?limit=1").await;
    assert!(html.contains("rel=\"next\""), "{html}");
    // The total counts every page, not only this one.
    assert!(
        html.contains("2 alerts; 1 on this page, more on the next."),
        "{html}"
    );
    // A bad filter is a friendly 400 naming it.
    let (st, html) = officer.get("/alerts?status=sleeping").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(
        html.contains("status") && html.contains("desk_officer · "),
        "{html}"
    );
    let (st, html) = officer.get("/alerts?desk=nonsense").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(html.contains("desk"), "{html}");

    // The viewer (TLP:GREEN) does not see the amber alert in the list.
    let viewer = Browser::login(&app, "viewer").await;
    let (_, html) = viewer.get("/alerts").await;
    assert!(html.contains(&format!("href=\"/alerts/{}\"", s.green)));
    assert!(!html.contains(&format!("href=\"/alerts/{}\"", s.amber)));
}

#[tokio::test]
async fn a_desk_officer_acknowledges_and_closes_from_the_alert_page() {
    let app = start().await;
    let s = seed(&app).await;
    let officer = Browser::login(&app, "desk_officer").await;
    let path = format!("/alerts/{}", s.green);
    let moves = format!("/alerts/{}/move", s.green);
    let (st, html) = officer.get(&path).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("Militia massing near Mopti"));
    assert!(html.contains("Sahel desk") && html.contains(">high<"));
    assert!(html.contains("value=\"acknowledge\"") && html.contains("value=\"close\""));
    // Timeline: when (to the minute, in the user's zone: UTC until they choose one), who, what.
    let (_, view) = app
        .get(Role::Analyst, &format!("/api/v1/alerts/{}", s.green))
        .await;
    let opened: chrono::DateTime<chrono::Utc> =
        view["opened_at"].as_str().unwrap().parse().unwrap();
    let shown = opened.format("%Y-%m-%d %H:%M").to_string();
    let timeline = html.split("id=\"timeline\"").nth(1).unwrap();
    assert!(
        timeline.contains(&format!("<td>{shown}</td><td>analyst</td><td>opened</td>")),
        "{timeline}"
    );
    assert!(!html.contains(view["opened_at"].as_str().unwrap()));
    // Evidence: the incident (linked) and the report, both within the officer's reach.
    let evidence = html.split("<h2>Evidence</h2>").nth(1).unwrap();
    assert!(
        evidence.contains(&format!("href=\"/incidents/{}\"", s.incident)),
        "{evidence}"
    );
    assert!(html.contains(&s.report));

    // Without the CSRF token: refused, nothing changed.
    let (st, _, _) = officer
        .post(&moves, &[("action", "acknowledge")], Some("wrong"))
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, loc, _) = officer
        .post(&moves, &[("action", "acknowledge")], None)
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert_eq!(loc.as_deref(), Some(path.as_str()));
    let (_, html) = officer.get(&path).await;
    assert!(html.contains("<dd id=\"status\">acknowledged"), "{html}");
    assert!(html.contains("<td>desk_officer</td><td>acknowledged</td>"));
    assert!(!html.contains("value=\"acknowledge\""));
    let (_, home) = officer.get("/").await;
    assert!(home.contains("Acknowledged by me (1)"), "{home}");

    // Acknowledging twice: the workflow's refusal, on the page.
    let (st, _, html) = officer
        .post(&moves, &[("action", "acknowledge")], None)
        .await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert!(
        html.contains("role=\"alert\"") && html.contains("acknowledged"),
        "{html}"
    );
    // Closing needs a reason, named.
    let (st, _, html) = officer.post(&moves, &[("action", "close")], None).await;
    assert!(st.is_client_error(), "{st}");
    assert!(html.contains("reason"), "{html}");
    let (st, _, html) = officer
        .post(&moves, &[("action", "close"), ("reason", "bored")], None)
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{html}");
    let (st, _, _) = officer
        .post(
            &moves,
            &[("action", "close"), ("reason", "false_alarm")],
            None,
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (_, html) = officer.get(&path).await;
    assert!(
        html.contains("<dd id=\"status\">closed (false alarm)"),
        "{html}"
    );
    assert!(html.contains("closed: false alarm"));
    assert!(!html.contains("id=\"moves\""));
    let (_, view) = app
        .get(Role::Viewer, &format!("/api/v1/alerts/{}", s.green))
        .await;
    assert_eq!(view["status"], "closed");
    assert_eq!(view["close_reason"], "false_alarm");
}

#[tokio::test]
async fn a_viewer_sees_no_buttons_is_refused_and_gets_404_above_clearance() {
    let app = start().await;
    let s = seed(&app).await;
    let viewer = Browser::login(&app, "viewer").await;
    let (st, html) = viewer.get(&format!("/alerts/{}", s.green)).await;
    assert_eq!(st, StatusCode::OK);
    assert!(!html.contains("id=\"moves\"") && !html.contains("value=\"acknowledge\""));
    assert!(!html.contains("id=\"new-action\""));
    // Evidence they may not read (reports) is not listed; the incident is.
    assert!(html.contains(&format!("href=\"/incidents/{}\"", s.incident)));
    assert!(!html.contains(&s.report), "{html}");
    // A forged post: refused by the application, nothing changed.
    let (st, _, html) = viewer
        .post(
            &format!("/alerts/{}/move", s.green),
            &[("action", "acknowledge")],
            None,
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert!(html.contains("role=\"alert\""), "{html}");
    let (_, view) = app
        .get(Role::Analyst, &format!("/api/v1/alerts/{}", s.green))
        .await;
    assert_eq!(view["status"], "open");
    // Another desk officer, not on the desk: refused too.
    app.add_user("olga", Role::DeskOfficer).await;
    let olga = Browser::login(&app, "olga").await;
    let (_, html) = olga.get(&format!("/alerts/{}", s.green)).await;
    assert!(!html.contains("id=\"moves\""));
    let (st, _, _) = olga
        .post(
            &format!("/alerts/{}/move", s.green),
            &[("action", "acknowledge")],
            None,
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    // Above the viewer's clearance, or not an id: a friendly 404 that tells nothing.
    for path in [format!("/alerts/{}", s.amber), "/alerts/nonsense".into()] {
        let (st, html) = viewer.get(&path).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{path}");
        assert!(
            html.contains("Not found") && html.contains("viewer · "),
            "{html}"
        );
        assert!(
            !html.contains("Convoy") && !html.contains("TLP:AMBER"),
            "{html}"
        );
    }
    let (st, _, html) = viewer
        .post(
            &format!("/alerts/{}/move", s.amber),
            &[("action", "acknowledge")],
            None,
        )
        .await;
    // Refused, and the page it would come back to is as absent.
    assert_eq!(st, StatusCode::NOT_FOUND, "{html}");
    assert!(!html.contains("Convoy"), "{html}");
}

#[tokio::test]
async fn the_desks_page_lists_desks_with_members_and_policy() {
    let app = start().await;
    seed(&app).await;
    let admin = Browser::login(&app, "admin").await;
    let (st, html) = admin.get("/admin/desks").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("Sahel desk") && html.contains("desk_officer") && html.contains("MLI"));
    assert!(html.contains("15m"), "{html}");
}

#[tokio::test]
async fn admin_desk_form_creates_edits_and_keeps_typed_values_on_error() {
    let app = start().await;
    let admin = Browser::login(&app, "admin").await;
    let (st, html) = admin.get("/admin/desks/new").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("id=\"desk-form\""));
    // A step that reaches nobody: refused next to the escalation field, typed values kept.
    let bad = [
        ("name", "Horn desk"),
        ("department", "development"),
        ("members", "desk_officer, analyst"),
        ("countries", "SOM ETH"),
        ("escalation", "15m user nobody"),
        ("repeat", "1"),
    ];
    let (st, _, html) = admin.post("/admin/desks/new", &bad, None).await;
    assert!(st.is_client_error(), "{st}");
    assert!(html.contains("id=\"error-escalation\""), "{html}");
    assert!(html.contains("escalation[0].notify"), "{html}");
    assert!(html.contains("value=\"Horn desk\"") && html.contains("value=\"SOM ETH\""));
    assert!(html.contains(">15m user nobody</textarea>"));
    assert!(
        html.contains("<option selected>development</option>"),
        "{html}"
    );
    // A duration that is no duration names the step's field.
    let mut worse = bad;
    worse[4] = ("escalation", "soon user desk_officer");
    let (st, _, html) = admin.post("/admin/desks/new", &worse, None).await;
    assert!(st.is_client_error(), "{st}");
    assert!(html.contains("escalation[0].after"), "{html}");
    // A bad country, named.
    let mut worse = bad;
    worse[3] = ("countries", "XX1");
    worse[4] = ("escalation", "15m user desk_officer");
    let (st, _, html) = admin.post("/admin/desks/new", &worse, None).await;
    assert!(st.is_client_error());
    assert!(html.contains("id=\"error-countries\""), "{html}");
    // Good: created, listed.
    let mut good = bad;
    good[4] = ("escalation", "15m user desk_officer\n1h user desk_officer");
    let (st, loc, html) = admin.post("/admin/desks/new", &good, None).await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{html}");
    assert_eq!(loc.as_deref(), Some("/admin/desks"));
    let (_, list) = admin.get("/admin/desks").await;
    assert!(list.contains("Horn desk") && list.contains("after 1h notify user desk_officer"));
    let (_, desks) = app.get(Role::Admin, "/api/v1/desks").await;
    let id = desks["items"]
        .as_array()
        .or(desks.as_array())
        .unwrap()
        .iter()
        .find(|d| d["name"] == "Horn desk")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Edit: the form shows the desk as stored; a change is saved.
    let (st, html) = admin.get(&format!("/admin/desks/{id}")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("value=\"desk_officer, analyst\""), "{html}");
    assert!(html.contains("15m user desk_officer\n1h user desk_officer"));
    let mut renamed = good;
    renamed[0] = ("name", "Horn of Africa desk");
    let (st, _, _) = admin
        .post(&format!("/admin/desks/{id}"), &renamed, None)
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (_, d) = app.get(Role::Admin, &format!("/api/v1/desks/{id}")).await;
    assert_eq!(d["name"], "Horn of Africa desk");
    assert_eq!(d["countries"], json!(["SOM", "ETH"]));
    // Without the token, or by an analyst: refused.
    let (st, _, _) = admin.post("/admin/desks/new", &good, Some("wrong")).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let analyst = Browser::login(&app, "analyst").await;
    let (st, _, html) = analyst.post("/admin/desks/new", &good, None).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{html}");
}

#[tokio::test]
async fn admin_rule_pages_create_edit_and_toggle_rules() {
    let app = start().await;
    seed(&app).await;
    let admin = Browser::login(&app, "admin").await;
    let (st, html) = admin.get("/admin/rules").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("No rule yet"));
    let (st, html) = admin.get("/admin/rules/new").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("name=\"min_incidents\"") && html.contains("name=\"top\""));
    // A field of another kind: refused next to it, typed values kept.
    let bad = [
        ("name", "Mali attacks"),
        ("kind", "incidents"),
        ("severity", "high"),
        ("ack_within", "30m"),
        ("tlp", "TLP:GREEN"),
        ("country", "MLI"),
        ("window", "7d"),
        ("min_incidents", "3"),
        ("top", "10"),
    ];
    let (st, _, html) = admin.post("/admin/rules/new", &bad, None).await;
    assert!(st.is_client_error(), "{st}: {html}");
    assert!(html.contains("id=\"error-top\""), "{html}");
    assert!(html.contains("value=\"Mali attacks\"") && html.contains("value=\"7d\""));
    let (st, _, html) = admin
        .post(
            "/admin/rules/new",
            &[
                ("name", "x"),
                ("kind", "incidents"),
                ("severity", "high"),
                ("ack_within", "30m"),
                ("min_incidents", "three"),
            ],
            None,
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(html.contains("id=\"error-min_incidents\""), "{html}");
    let good: Vec<_> = bad.iter().filter(|(k, _)| *k != "top").cloned().collect();
    let (st, loc, html) = admin.post("/admin/rules/new", &good, None).await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{html}");
    assert_eq!(loc.as_deref(), Some("/admin/rules"));
    let (_, html) = admin.get("/admin/rules").await;
    assert!(
        html.contains("Mali attacks") && html.contains(">enabled<"),
        "{html}"
    );
    let (_, rules) = app.get(Role::Admin, "/api/v1/alert-rules").await;
    let list = rules["items"]
        .as_array()
        .or(rules.as_array())
        .unwrap()
        .clone();
    let id = list[0]["id"].as_str().unwrap().to_string();
    // Disable, then the state shows it.
    let (st, _, _) = admin
        .post(
            &format!("/admin/rules/{id}/enabled"),
            &[("enabled", "no")],
            None,
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (_, html) = admin.get("/admin/rules").await;
    assert!(html.contains(">disabled<"), "{html}");
    // Edit: the form shows the stored values; a change is saved.
    let (st, html) = admin.get(&format!("/admin/rules/{id}")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("value=\"Mali attacks\""), "{html}");
    let mut changed = good.clone();
    changed[7] = ("min_incidents", "5");
    let (st, _, html) = admin
        .post(&format!("/admin/rules/{id}"), &changed, None)
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{html}");
    let (_, r) = app
        .get(Role::Admin, &format!("/api/v1/alert-rules/{id}"))
        .await;
    assert_eq!(r["min_incidents"], 5, "{r}");
    // Not an admin: refused.
    let analyst = Browser::login(&app, "analyst").await;
    let (st, _, _) = analyst.post("/admin/rules/new", &good, None).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _, _) = analyst
        .post(
            &format!("/admin/rules/{id}/enabled"),
            &[("enabled", "yes")],
            None,
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_action_is_recorded_from_a_measure_suggested_on_the_alert_page() {
    let app = start().await;
    let s = seed(&app).await;
    // A published assessment of the situation with a severe risk factor.
    let reviewer = app.add_user("analyst-b", Role::Analyst).await;
    let (st, v) = app
        .post(
            Role::Analyst,
            &format!("/api/v1/situations/{}/assessments", s.situation),
            json!({"framework": "un-foa-2014", "as_of": "2026-01-01", "factors": [
                {"factor": 14, "level": "severe", "confidence": "medium", "rationale": "seen in the field"}]}),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    let ap = format!("/api/v1/assessments/{}", v["id"].as_str().unwrap());
    for step in ["review", "publish"] {
        let (st, v) = app
            .call_as(
                &reviewer,
                reqwest::Method::POST,
                &format!("{ap}/{step}"),
                Some(json!({})),
            )
            .await;
        assert_eq!(st, 200, "{step}: {v}");
    }
    let officer = Browser::login(&app, "desk_officer").await;
    let (_, html) = officer.get(&format!("/alerts/{}", s.green)).await;
    assert!(html.contains("id=\"new-action\""), "{html}");
    let measure = html
        .split("name=\"measure_id\">")
        .nth(1)
        .unwrap()
        .split("<option value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let (st, loc, html) = officer
        .post(
            &format!("/alerts/{}/actions", s.green),
            &[
                ("measure_id", measure.as_str()),
                ("department", "defence"),
                ("lead", "desk_officer"),
                ("due_date", "2030-01-31"),
            ],
            None,
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{html}");
    assert_eq!(
        loc.as_deref(),
        Some(format!("/situations/{}/actions", s.situation).as_str())
    );
    // Linked to the alert, carried by its desk; on the officer's home.
    let (_, list) = app
        .get(
            Role::Analyst,
            &format!("/api/v1/actions?situation={}", s.situation),
        )
        .await;
    let a = &list["items"][0];
    assert_eq!(a["measure_id"], measure.as_str(), "{list}");
    assert_eq!(a["alert_ids"], json!([s.green]));
    assert_eq!(a["desk_id"], s.desk.as_str());
    let (_, home) = officer.get("/").await;
    assert!(home.contains("My actions (1"), "{home}");
    // A bad date is named, on the alert page.
    let (st, _, html) = officer
        .post(
            &format!("/alerts/{}/actions", s.green),
            &[
                ("measure_id", measure.as_str()),
                ("department", "defence"),
                ("lead", "desk_officer"),
                ("due_date", "soon"),
            ],
            None,
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(html.contains("due_date"), "{html}");
}

#[tokio::test]
async fn signals_on_the_situation_page_link_to_their_alert_and_incidents() {
    use tocsin_store::StoreExt;
    let app = start().await;
    let s = seed(&app).await;
    let signal = tocsin_domain::new_id();
    app.store
        .record_signals(
            &tocsin_domain::Actor::system("signals"),
            vec![tocsin_domain::SignalRecord {
                id: signal,
                country: tocsin_domain::Country::parse("MLI").unwrap(),
                admin1: None,
                metric: "incidents".into(),
                week_start: "2025-03-03".parse().unwrap(),
                observed: 14.0,
                expected: 2.3,
                score: 7.1,
                threshold: 4.0,
                severity: "high".into(),
                explanation: "14 incidents in the week of 2025-03-03 against 2.3 expected".into(),
                created_at: tocsin_domain::time::now(),
                tlp: Tlp::Green,
            }],
        )
        .await
        .unwrap();
    let b = Browser::login(&app, "viewer").await;
    let (_, html) = b.get(&format!("/situations/{}", s.situation)).await;
    let table = html.split("id=\"signals\"").nth(1).unwrap();
    assert!(
        table.contains("href=\"/incidents?country=MLI&amp;from=2025-03-03&amp;to=2025-03-09\""),
        "{table}"
    );
    assert!(!table.contains("/alerts/"), "no alert rests on it yet");
    let (st, a) = app
        .post(
            Role::Analyst,
            "/api/v1/alerts",
            json!({"title": "Spike in Mopti", "severity": "moderate", "tlp": "TLP:GREEN",
                   "country": "MLI", "evidence": [{"signal": signal}]}),
        )
        .await;
    assert_eq!(st, 201, "{a}");
    let (_, html) = b.get(&format!("/situations/{}", s.situation)).await;
    let table = html.split("id=\"signals\"").nth(1).unwrap();
    assert!(
        table.contains(&format!("href=\"/alerts/{}\"", a["id"].as_str().unwrap())),
        "{table}"
    );
}
