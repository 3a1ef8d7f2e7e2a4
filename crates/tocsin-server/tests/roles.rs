//! Every role at home in the web UI, over real HTTP against a real SQLite file: each role's
//! landing dashboard counts only what its clearance lets it see; signals, forecasts,
//! assessments, sources and the audit trail have pages for the roles that may see them and a
//! friendly 403 page for the others; an unknown address is a friendly 404 page (the API keeps
//! JSON); a source's contact details open only after a deliberate POST that is audited; lists
//! say how many they hold and sort; times are shown to the minute in the user's own zone.

mod common;

use common::{browser_login, TestApp};
use reqwest::StatusCode;
use serde_json::json;
use tocsin_domain::{Actor, ForecastRun, ForecastScore, Role, SignalRecord, Tlp};
use tocsin_store::{AuditFilter, Op, StoreExt};

/// A browser session of one role's user.
struct Browser<'a> {
    app: &'a TestApp,
    cookie: String,
    csrf: String,
}

impl<'a> Browser<'a> {
    async fn login(app: &'a TestApp, role: Role) -> Browser<'a> {
        let (cookie, csrf) = browser_login(app, role.as_str(), "password-123")
            .await
            .unwrap();
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

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
        let mut f: Vec<(&str, &str)> = vec![("csrf", self.csrf.as_str())];
        f.extend_from_slice(form);
        let r = self
            .app
            .client
            .post(format!("{}{path}", self.app.base))
            .header("cookie", &self.cookie)
            .form(&f)
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    }
}

/// The number a dashboard tile shows, `None` when the tile is not on the page.
fn tile(html: &str, id: &str) -> Option<String> {
    let rest = html.split(&format!("id=\"{id}\"")).nth(1)?;
    let rest = rest.split("<strong class=\"count\">").nth(1)?;
    Some(rest.split('<').next()?.to_string())
}

fn signal(country: &str, week: &str, score: f64, tlp: Tlp) -> SignalRecord {
    SignalRecord {
        id: uuid::Uuid::now_v7(),
        country: tocsin_domain::Country::parse(country).unwrap(),
        admin1: None,
        metric: "incidents".into(),
        week_start: chrono::NaiveDate::parse_from_str(week, "%Y-%m-%d").unwrap(),
        observed: 9.0,
        expected: 2.0,
        score,
        threshold: 3.0,
        severity: if score > 6.0 { "high" } else { "moderate" }.into(),
        explanation: format!("{country} signal scoring {score}"),
        created_at: tocsin_domain::time::now(),
        tlp,
    }
}

/// Two reports, two unverified incidents and two signals of the last weeks: one of each at
/// GREEN and one at RED.
async fn seed(app: &TestApp) -> (SignalRecord, SignalRecord) {
    for (tlp, lat) in [(Tlp::Green, 7.2), (Tlp::Red, 7.3)] {
        app.incident(
            tlp,
            "CAF",
            "2026-11-20",
            lat,
            17.4,
            ("Battles", "Armed clash"),
        )
        .await;
        let (s, _) = app
            .post(
                Role::Analyst,
                "/api/v1/reports",
                json!({"text": format!("Shooting near Bria ({tlp})"), "country": "CAF",
                       "tlp": tlp.as_str()}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
    }
    let today = tocsin_domain::time::now().date_naive();
    let week = (today - chrono::Duration::days(7)).to_string();
    let green = signal("CAF", &week, 4.0, Tlp::Green);
    let red = signal("SDN", &week, 9.0, Tlp::Red);
    app.store
        .record_signals(&Actor::system("test"), vec![green.clone(), red.clone()])
        .await
        .unwrap();
    (green, red)
}

#[tokio::test]
async fn each_role_lands_on_a_dashboard_counted_within_its_clearance() {
    let app = TestApp::start().await;
    seed(&app).await;
    // (role, new reports, unverified incidents, signals, users tile, audit tile)
    let expect = [
        (Role::Viewer, None, Some("1"), Some("1"), false, false),
        (
            Role::DeskOfficer,
            Some("1"),
            Some("1"),
            Some("0"),
            false,
            false,
        ),
        (
            Role::MonitorCoordinator,
            Some("1"),
            Some("1"),
            Some("0"),
            false,
            false,
        ),
        (Role::Analyst, Some("2"), Some("2"), Some("1"), false, false),
        (Role::Admin, Some("2"), Some("2"), Some("1"), true, true),
    ];
    for (role, reports, unverified, signals, users, audit) in expect {
        let b = Browser::login(&app, role).await;
        let (s, html) = b.get("/").await;
        assert_eq!(s, StatusCode::OK, "{role}");
        assert!(html.contains("id=\"tiles\""), "{role}: {html}");
        assert_eq!(
            tile(&html, "tile-new-reports").as_deref(),
            reports,
            "{role}"
        );
        assert_eq!(
            tile(&html, "tile-unverified").as_deref(),
            unverified,
            "{role}"
        );
        assert_eq!(
            tile(&html, "tile-open-alerts").as_deref(),
            Some("0"),
            "{role}"
        );
        // Signals are computed per clearance: only the viewer's (GREEN) and the analyst's
        // and admin's (RED) exist here; AMBER users have none of their own.
        assert_eq!(tile(&html, "tile-signals").as_deref(), signals, "{role}");
        assert_eq!(tile(&html, "tile-users").is_some(), users, "{role}");
        assert_eq!(tile(&html, "tile-audit").is_some(), audit, "{role}");
        assert_eq!(
            tile(&html, "tile-assessments").is_some(),
            role == Role::Analyst,
            "{role}"
        );
        // Nothing above the clearance leaks into the short lists either.
        if role.default_clearance() < Tlp::Red {
            assert!(!html.contains("TLP:RED"), "{role}: {html}");
        }
        assert!(html.contains("TLP:GREEN"), "{role}: {html}");
    }
}

#[tokio::test]
async fn every_page_answers_its_roles_and_refuses_the_others_kindly() {
    let app = TestApp::start().await;
    let (green, red) = seed(&app).await;
    let source = app.store.get_source_by_handle("M-0001").await.unwrap();
    let all = Role::ALL;
    let pages: Vec<(String, Vec<Role>)> = vec![
        ("/signals".into(), all.to_vec()),
        ("/forecasts".into(), all.to_vec()),
        ("/assessments".into(), all.to_vec()),
        (
            "/sources".into(),
            vec![Role::Admin, Role::Analyst, Role::MonitorCoordinator],
        ),
        (
            format!("/sources/{}", source.id),
            vec![Role::Admin, Role::Analyst, Role::MonitorCoordinator],
        ),
        ("/admin/users".into(), vec![Role::Admin]),
        ("/admin/audit".into(), vec![Role::Admin]),
        ("/triage".into(), vec![Role::Analyst]),
    ];
    for role in all {
        let b = Browser::login(&app, role).await;
        for (path, allowed) in &pages {
            let (s, html) = b.get(path).await;
            if allowed.contains(&role) {
                assert_eq!(s, StatusCode::OK, "{role} {path}: {html}");
            } else {
                assert_eq!(s, StatusCode::FORBIDDEN, "{role} {path}");
                assert!(html.contains("Not allowed"), "{role} {path}: {html}");
                assert!(html.contains("id=\"go-home\""), "{role} {path}");
                assert!(html.contains(&format!("{} · ", role.as_str())), "framed");
            }
        }
        // A signal exists only for the clearance it was computed at.
        let (s, html) = b.get(&format!("/signals/{}", green.id)).await;
        if role == Role::Viewer {
            assert_eq!(s, StatusCode::OK, "{html}");
            assert!(html.contains("CAF signal scoring 4"), "{html}");
        } else {
            assert_eq!(s, StatusCode::NOT_FOUND, "{role}");
        }
        let (s, _) = b.get(&format!("/signals/{}", red.id)).await;
        let cleared_red = role.default_clearance() == Tlp::Red;
        assert_eq!(s == StatusCode::OK, cleared_red, "{role}");
        // An address nobody serves: the friendly 404, in the user's frame, with a way home.
        let (s, html) = b.get("/no-such-page").await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert!(
            html.contains("Not found") && html.contains("id=\"go-home\""),
            "{html}"
        );
        assert!(html.contains(&format!("{} · ", role.as_str())), "{html}");
    }
    // Signed out: the same page, without a menu; the API answers JSON.
    let r = app
        .client
        .get(format!("{}/no/such/page", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"go-home\"") && !html.contains("Log out"));
    let (s, body) = app.get(Role::Admin, "/api/v1/no-such-thing").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(body.is_object(), "{body}");
}

#[tokio::test]
async fn a_source_contact_opens_only_by_a_deliberate_audited_post() {
    let app = TestApp::start().await;
    let source = app.store.get_source_by_handle("M-0001").await.unwrap();
    let path = format!("/sources/{}", source.id);
    let reads = AuditFilter {
        action: Some("source.contact.read".into()),
        ..Default::default()
    };
    let mc = Browser::login(&app, Role::MonitorCoordinator).await;
    let (s, html) = mc.get(&path).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("id=\"reveal-contact\""), "{html}");
    assert!(!html.contains(common::PHONE), "not shown before the click");
    assert_eq!(app.store.count_audit(&reads).await.unwrap(), 0);
    // The click: shown once, and the read is in the audit trail under the coordinator's name.
    let (s, html) = mc.post(&format!("{path}/contact"), &[]).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(html.contains(common::PHONE), "{html}");
    let found = app.store.search_audit(&reads, None, 10).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].actor_name, "monitor_coordinator");
    assert_eq!(
        found[0].record_id.as_deref(),
        Some(source.id.to_string().as_str())
    );
    // Reloading the page does not show it again.
    let (_, html) = mc.get(&path).await;
    assert!(!html.contains(common::PHONE));
    // Not by a link (GET), not without the form's token.
    let r = app
        .client
        .get(format!("{}{path}/contact", app.base))
        .header("cookie", &mc.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    let r = app
        .client
        .post(format!("{}{path}/contact", app.base))
        .header("cookie", &mc.cookie)
        .form(&[("csrf", "wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(!r.text().await.unwrap().contains(common::PHONE));
    // Roles that may see the source but not its contact: no button, a 403 page, no entry.
    for role in [Role::Analyst, Role::Admin] {
        let b = Browser::login(&app, role).await;
        let (_, html) = b.get(&path).await;
        assert!(!html.contains("id=\"reveal-contact\""), "{role}");
        let (s, html) = b.post(&format!("{path}/contact"), &[]).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{role}");
        assert!(html.contains("Not allowed") && !html.contains(common::PHONE));
    }
    assert_eq!(app.store.count_audit(&reads).await.unwrap(), 1);
}

#[tokio::test]
async fn times_are_shown_to_the_minute_in_the_users_own_zone() {
    let app = TestApp::start().await;
    let admin = Browser::login(&app, Role::Admin).await;
    let newest = |entries: Vec<tocsin_domain::AuditEntry>| entries[0].at;
    let at = newest(
        app.store
            .search_audit(&AuditFilter::default(), None, 1)
            .await
            .unwrap(),
    );
    let (_, html) = admin.get("/admin/audit").await;
    assert!(
        html.contains("times in <span id=\"time-zone\">UTC</span>"),
        "{html}"
    );
    // The whole cell: the minute, no seconds, no fraction.
    let cell = format!("<td>{}</td>", at.format("%Y-%m-%d %H:%M"));
    assert!(html.contains(&cell), "{cell} in {html}");

    // An unknown zone is refused on the page, naming the field; nothing changes.
    let (s, html) = admin
        .post("/account/time-zone", &[("time_zone", "Mars/Olympus_Mons")])
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains("time_zone"), "{html}");
    // A real one: stored (and audited), and every page follows it.
    let (s, html) = admin
        .post("/account/time-zone", &[("time_zone", "Asia/Tokyo")])
        .await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(
        html.contains("Times are now shown in Asia&#x2f;Tokyo"),
        "{html}"
    );
    let u = app.store.get_user_by_name("admin").await.unwrap();
    assert_eq!(u.time_zone.as_deref(), Some("Asia/Tokyo"));
    let changes = AuditFilter {
        action: Some("user.time_zone".into()),
        ..Default::default()
    };
    assert_eq!(app.store.count_audit(&changes).await.unwrap(), 1);
    let (_, html) = admin.get("/admin/audit?action=user.time_zone").await;
    let e = app.store.search_audit(&changes, None, 1).await.unwrap();
    // Tokyo keeps UTC+9 all year.
    let tokyo = format!(
        "<td>{}</td>",
        (e[0].at + chrono::Duration::hours(9)).format("%Y-%m-%d %H:%M")
    );
    assert!(html.contains(&tokyo), "{tokyo} in {html}");
    assert!(html.contains("times in <span id=\"time-zone\">Asia&#x2f;Tokyo</span>"));
    // Another user still reads UTC.
    let viewer = Browser::login(&app, Role::Viewer).await;
    let (_, html) = viewer.get("/account").await;
    assert!(html.contains("times in <span id=\"time-zone\">UTC</span>"));
}

#[tokio::test]
async fn lists_say_how_many_they_hold_and_sort() {
    let app = TestApp::start().await;
    seed(&app).await;
    let today = tocsin_domain::time::now().date_naive();
    let older = (today - chrono::Duration::days(14)).to_string();
    app.store
        .record_signals(
            &Actor::system("test"),
            vec![
                signal("COD", &older, 7.5, Tlp::Red),
                signal("ETH", &older, 3.5, Tlp::Red),
            ],
        )
        .await
        .unwrap();
    let run = ForecastRun {
        id: uuid::Uuid::now_v7(),
        year: 2026,
        model: "tocsin".into(),
        data: "test.csv".into(),
        countries: 3,
        created_at: tocsin_domain::time::now(),
        scores: [("SDN", 0.31), ("COD", 0.2), ("CAF", 0.05)]
            .iter()
            .enumerate()
            .map(|(i, (c, p))| ForecastScore {
                country: tocsin_domain::Country::parse(c).unwrap(),
                rank: i as u32 + 1,
                probability: *p,
                contributions: vec![],
            })
            .collect(),
    };
    app.store
        .write(&Actor::system("test"), Op::StoreForecastRun(Box::new(run)))
        .await
        .unwrap();
    let analyst = Browser::login(&app, Role::Analyst).await;
    let viewer = Browser::login(&app, Role::Viewer).await;

    // Incidents: the total within clearance.
    let (_, html) = analyst.get("/incidents").await;
    assert!(html.contains("2 incidents you may see"), "{html}");
    let (_, html) = viewer.get("/incidents").await;
    assert!(html.contains("1 incident you may see"), "{html}");

    // Signals: the total, newest week first by default, by score on request.
    let pos = |html: &str, c: &str| html.find(&format!("<td>{c}</td>")).unwrap();
    let (s, html) = analyst.get("/signals").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("3 signals"), "{html}");
    assert!(pos(&html, "SDN") < pos(&html, "COD"), "newest week first");
    let (_, html) = analyst.get("/signals?sort=score&dir=desc").await;
    assert!(pos(&html, "SDN") < pos(&html, "COD") && pos(&html, "COD") < pos(&html, "ETH"));
    let (_, html) = analyst.get("/signals?sort=score&dir=asc").await;
    assert!(pos(&html, "ETH") < pos(&html, "COD") && pos(&html, "COD") < pos(&html, "SDN"));
    let (_, html) = analyst.get("/signals?severity=high").await;
    assert!(html.contains("2 signals match these filters"), "{html}");
    let (s, html) = analyst.get("/signals?sort=nonsense").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{html}");
    assert!(html.contains("sort: expected one of"), "{html}");
    let (_, html) = viewer.get("/signals").await;
    assert!(
        html.contains("1 signal.") || html.contains("1 signal<"),
        "{html}"
    );
    assert!(
        !html.contains("SDN"),
        "no RED signal for the viewer: {html}"
    );

    // Forecasts: every country of the newest run, by rank or by country.
    let (_, html) = viewer.get("/forecasts").await;
    assert!(html.contains("3 countries"), "{html}");
    let fpos = |html: &str, c: &str| html.find(&format!("<td>{c}</td>")).unwrap();
    assert!(fpos(&html, "SDN") < fpos(&html, "COD"));
    let (_, html) = viewer.get("/forecasts?sort=country").await;
    assert!(fpos(&html, "CAF") < fpos(&html, "COD") && fpos(&html, "COD") < fpos(&html, "SDN"));
    assert!(html.contains("31.0%"), "{html}");

    // Sources: how many the viewer's clearance lets them see (the GREEN monitor; a RED one
    // only for the analyst).
    let actor = Actor::system("test");
    let red = tocsin_domain::NewSource::new(
        "M-0002",
        "monitor",
        tocsin_domain::Reliability::C,
        Tlp::Red,
        None,
        &tocsin_domain::ContactKey::generate(),
    )
    .unwrap();
    app.store.create_source(&actor, red).await.unwrap();
    let (_, html) = analyst.get("/sources").await;
    assert!(html.contains("2 sources you may see"), "{html}");
    let mc = Browser::login(&app, Role::MonitorCoordinator).await;
    let (_, html) = mc.get("/sources").await;
    assert!(html.contains("1 source you may see"), "{html}");

    // The triage queue: how many wait, within clearance.
    let (_, html) = analyst.get("/triage").await;
    assert!(html.contains("2 reports waiting."), "{html}");
    let (_, html) = analyst.get("/triage?channel=sms").await;
    assert!(
        html.contains("0 reports waiting with these filters"),
        "{html}"
    );

    // Users: the total, sorted by name by default, by role on request.
    let admin_b = Browser::login(&app, Role::Admin).await;
    let (_, html) = admin_b.get("/admin/users").await;
    assert!(html.contains("5 users."), "{html}");
    let at = |html: &str, name: &str| html.find(&format!("<td>{name}")).unwrap();
    assert!(at(&html, "admin") < at(&html, "viewer"));
    let (_, html) = admin_b.get("/admin/users?sort=role&dir=desc").await;
    assert!(at(&html, "viewer") < at(&html, "admin"), "{html}");
    let (s, _) = admin_b.get("/admin/users?sort=password").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    // The audit trail: totals, filters, pages of 50, newest first.
    let admin = Browser::login(&app, Role::Admin).await;
    for i in 0..60 {
        app.store
            .audit(tocsin_domain::AuditEvent::new(
                &Actor::system("pager"),
                "test.page",
                "test",
                Some(format!("r{i}")),
            ))
            .await
            .unwrap();
    }
    let (_, html) = admin.get("/admin/audit?actor=system%3Apager").await;
    assert!(
        html.contains("60 entries match these filters; 50 on this page"),
        "{html}"
    );
    assert!(html.find(">test r59<").unwrap() < html.find(">test r10<").unwrap());
    assert!(!html.contains(">test r9<"));
    let next = html
        .split("href=\"")
        .map(|s| s.replace("&#x2f;", "/").replace("&amp;", "&"))
        .find(|s| s.starts_with("/admin/audit?actor=system%3Apager&before="))
        .expect("a link to older entries")
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let (_, html) = admin.get(&next).await;
    assert!(
        html.contains(">test r9<") && html.contains(">test r0<"),
        "{html}"
    );
    assert!(!html.contains(">test r10<"));
}

#[tokio::test]
async fn an_analyst_writes_to_a_source_from_its_page() {
    let app = TestApp::start().await;
    let source = app.store.get_source_by_handle("M-0001").await.unwrap();
    let path = format!("/sources/{}", source.id);
    let analyst = Browser::login(&app, Role::Analyst).await;
    let (_, html) = analyst.get(&path).await;
    assert!(html.contains("id=\"message-source\""), "{html}");
    assert!(html.contains("Nothing was sent to this source."), "{html}");
    // No gateway is configured here: refused on the page, the question kept, nothing queued.
    let (s, html) = analyst
        .post(
            &format!("{path}/messages"),
            &[("text", "Which village was it?")],
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{html}");
    assert!(html.contains("no SMS gateway"), "{html}");
    assert!(html.contains(">Which village was it?</textarea>"), "{html}");
    assert!(!html.contains(common::PHONE));
    // A role that may not write to sources: no form, and the 403 page.
    let mc = Browser::login(&app, Role::MonitorCoordinator).await;
    let (_, html) = mc.get(&path).await;
    assert!(!html.contains("id=\"message-source\""));
    let (s, _) = mc
        .post(&format!("{path}/messages"), &[("text", "Hello")])
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}
