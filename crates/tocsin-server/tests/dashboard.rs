//! The situation dashboard over real HTTP on a real SQLite file: a situation covering two
//! admin-1 areas, its trend chart (server-side SVG, no JavaScript needed) counting only the
//! incidents of those areas the viewer is cleared for, the risk factors of the latest
//! published assessment the viewer may read with their change since the previous one, open
//! alerts within clearance, the plan's gaps, the map scoped to the area, the brief's link, and
//! the areas edited from the page.

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tocsin_domain::{Actor, Incident, IncidentInput, Role, Tlp};
use tocsin_store::StoreExt;

fn factor(n: u32, level: &str) -> Value {
    json!({"factor": n, "level": level, "confidence": "medium", "rationale": "seen in the field"})
}

async fn publish(app: &TestApp, b: &str, sit: &str, as_of: &str, tlp: &str, factors: Vec<Value>) {
    let (s, v) = app
        .post(
            Role::Analyst,
            &format!("/api/v1/situations/{sit}/assessments"),
            json!({"framework": "un-foa-2014", "as_of": as_of, "tlp": tlp, "factors": factors}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let ap = format!("/api/v1/assessments/{}", v["id"].as_str().unwrap());
    for step in ["review", "publish"] {
        let (s, v) = app
            .call_as(b, Method::POST, &format!("{ap}/{step}"), Some(json!({})))
            .await;
        assert_eq!(s, StatusCode::OK, "{step}: {v}");
    }
}

async fn incident(app: &TestApp, day: &str, admin1: &str, fatalities: i64, tlp: Tlp) {
    let i = Incident::parse(IncidentInput {
        event_date: day.into(),
        event_type: "Violence against civilians".into(),
        sub_event_type: "Attack".into(),
        country: "CAF".into(),
        admin1: Some(admin1.into()),
        latitude: 6.2,
        longitude: 20.7,
        fatalities,
        description: format!("dashboard test {tlp}"),
        tlp,
        ..Default::default()
    })
    .unwrap();
    app.store
        .create_incident(&Actor::system("test"), i)
        .await
        .unwrap();
}

/// The sum of the chart's `data-incidents` and `data-fatalities`, and its bar count.
fn chart(html: &str) -> (u64, u64, usize) {
    let svg = html
        .split("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart trend\"")
        .nth(1)
        .expect("the trend chart is in the page")
        .split("</svg>")
        .next()
        .unwrap();
    let values = |attr: &str| -> Vec<u64> {
        svg.split(&format!("{attr}=\""))
            .skip(1)
            .map(|s| s.split('"').next().unwrap().parse().unwrap())
            .collect()
    };
    let (i, f) = (values("data-incidents"), values("data-fatalities"));
    (i.iter().sum(), f.iter().sum(), i.len())
}

/// The value of the first attribute `name` in `html` (entities `&amp;` undone).
fn attr(html: &str, name: &str) -> String {
    html.split(&format!("{name}=\""))
        .nth(1)
        .unwrap_or_else(|| panic!("no {name}"))
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&")
}

/// The text of the element with this id (up to its closing tag, not nested in itself), tags
/// removed.
fn text_of(html: &str, id: &str) -> String {
    let at = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id}"));
    let open = html[..at].rfind('<').unwrap();
    let tag: String = html[open + 1..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    let rest = &html[at..];
    let body = &rest[rest.find('>').unwrap() + 1..];
    let body = &body[..body.find(&format!("</{tag}>")).unwrap()];
    let mut out = String::new();
    let mut in_tag = false;
    for c in body.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

struct Pages<'a> {
    app: &'a TestApp,
    cookie: String,
    csrf: String,
}

impl Pages<'_> {
    async fn login<'a>(app: &'a TestApp, user: &str) -> Pages<'a> {
        let (cookie, csrf) = browser_login(app, user, "password-123").await.unwrap();
        Pages { app, cookie, csrf }
    }

    async fn get(&self, path: &str) -> (StatusCode, String) {
        let r = self
            .app
            .client
            .get(format!("{}{}", self.app.base, path))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    }

    async fn post(
        &self,
        path: &str,
        form: &[(&str, &str)],
    ) -> (StatusCode, Option<String>, String) {
        let mut f: Vec<(&str, &str)> = vec![("csrf", self.csrf.as_str())];
        f.extend_from_slice(form);
        let r = self
            .app
            .client
            .post(format!("{}{}", self.app.base, path))
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

#[tokio::test]
async fn the_dashboard_shows_the_area_within_the_viewers_clearance() {
    let app = TestApp::start().await;
    let b = app.add_user("analyst-b", Role::Analyst).await;
    let (s, desk) = app
        .post(
            Role::Admin,
            "/api/v1/desks",
            json!({"name": "CAR desk", "department": "defence", "members": ["desk_officer"],
                   "countries": ["CAF"], "escalation": [
                       {"after": "15m", "notify": {"user": "desk_officer"}}]}),
        )
        .await;
    assert_eq!(s, 201, "{desk}");
    // A situation covering two admin-1 areas, given as a list.
    let (s, v) = app
        .post(
            Role::Analyst,
            "/api/v1/situations",
            json!({"name": "CAR centre and east", "country": "CAF",
                   "admin1": ["Ouaka", "Haute-Kotto"], "tlp": "TLP:GREEN"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["admin1"], json!(["Ouaka", "Haute-Kotto"]));
    let sit = v["id"].as_str().unwrap().to_string();

    // In the areas: GREEN 2 + 3 deaths, AMBER 40, RED 100. Outside them (Bangui): GREEN 7.
    incident(&app, "2025-03-03", "Ouaka", 2, Tlp::Green).await;
    incident(&app, "2025-03-12", "Haute-Kotto", 3, Tlp::Green).await;
    incident(&app, "2025-03-04", "Ouaka", 40, Tlp::Amber).await;
    incident(&app, "2025-03-05", "ouaka", 100, Tlp::Red).await;
    incident(&app, "2025-03-03", "Bangui", 7, Tlp::Green).await;
    // Outside the window.
    incident(&app, "2025-05-03", "Ouaka", 11, Tlp::Green).await;

    // Assessments: GREEN (14 high, 5 moderate), then GREEN (14 severe, 5 moderate, 9 high),
    // then AMBER (14 low).
    publish(
        &app,
        &b,
        &sit,
        "2026-01-01",
        "TLP:GREEN",
        vec![factor(14, "high"), factor(5, "moderate")],
    )
    .await;
    publish(
        &app,
        &b,
        &sit,
        "2026-02-01",
        "TLP:GREEN",
        vec![
            factor(14, "severe"),
            factor(5, "moderate"),
            factor(9, "high"),
        ],
    )
    .await;
    publish(
        &app,
        &b,
        &sit,
        "2026-03-01",
        "TLP:AMBER",
        vec![factor(14, "low")],
    )
    .await;

    // Alerts: a GREEN one and an AMBER one on the situation.
    for (title, tlp) in [
        ("Militia massing near Bambari", "TLP:GREEN"),
        ("Convoy movement reported", "TLP:AMBER"),
    ] {
        let (s, a) = app
            .post(
                Role::Analyst,
                "/api/v1/alerts",
                json!({"title": title, "severity": "high", "tlp": tlp, "country": "CAF",
                       "situation": sit}),
            )
            .await;
        assert_eq!(s, 201, "{a}");
    }

    let window = "from=2025-03-01&to=2025-03-31";
    let page = format!("/situations/{sit}?{window}");

    // The analyst (RED): every incident of the areas in the window.
    let analyst = Pages::login(&app, "analyst").await;
    let (s, html) = analyst.get(&page).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert_eq!(
        chart(&html),
        (4, 145, 6),
        "weeks from Monday 24 Feb to Monday 31 March"
    );
    let totals = text_of(&html, "trend-totals");
    assert!(
        totals.starts_with("4 incidents and 145 fatalities in Ouaka, Haute-Kotto"),
        "{totals}"
    );
    assert!(
        html.contains("role=\"img\""),
        "the chart is an accessible image"
    );
    assert!(html.contains("<title id=\"trend-title\">Incidents and fatalities per week"));
    assert!(
        html.contains("id=\"trend-table\""),
        "the figures as a table"
    );
    // The latest published assessment the analyst may read is the AMBER one: 14 down to low.
    let risk = text_of(&html, "risk-table");
    assert!(risk.contains("low"), "{risk}");
    assert!(risk.contains("down from severe"), "{risk}");
    assert!(
        !risk.contains("Risk factor 9") && !risk.contains("9. "),
        "{risk}"
    );
    // Both alerts are open for the analyst.
    let alerts = text_of(&html, "open-alerts");
    assert!(alerts.contains("Militia massing near Bambari"), "{alerts}");
    assert!(alerts.contains("Convoy movement reported"), "{alerts}");
    assert!(alerts.contains("2 not closed"), "{alerts}");
    // The map: the situation's incidents, first view on the area, the areas outlined.
    let map_url = attr(&html, "data-map-url");
    assert_eq!(map_url, format!("/api/v1/incidents/map?situation={sit}"));
    let admin1_url = attr(&html, "data-admin1-url");
    assert!(html.contains("data-areas=\"Ouaka|Haute-Kotto\""));
    assert!(html.contains("data-bbox=\""), "a first view on the area");
    // The brief's place.
    assert!(html.contains(&format!("href=\"/situations/{sit}/brief\"")));

    // The viewer (GREEN): only the GREEN incidents, the GREEN assessments and alert.
    let viewer = Pages::login(&app, "viewer").await;
    let (s, html) = viewer.get(&page).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert_eq!(
        chart(&html),
        (2, 5, 6),
        "no figure from AMBER or RED incidents"
    );
    let totals = text_of(&html, "trend-totals");
    assert!(
        totals.starts_with("2 incidents and 5 fatalities"),
        "{totals}"
    );
    // (Not a bare "145": a form token or an id may hold those digits.)
    assert!(
        !html.contains(">145<")
            && !html.contains("145 fatalities")
            && !html.contains("data-fatalities=\"40\""),
        "no AMBER or RED figure"
    );
    let risk = text_of(&html, "risk-table");
    assert!(risk.contains("severe"), "{risk}");
    assert!(risk.contains("up from high"), "14: {risk}");
    assert!(risk.contains("unchanged"), "5: {risk}");
    assert!(risk.contains("new"), "9: {risk}");
    assert!(
        !risk.contains("low"),
        "the AMBER assessment is not read: {risk}"
    );
    let alerts = text_of(&html, "open-alerts");
    assert!(alerts.contains("Militia massing near Bambari"), "{alerts}");
    assert!(alerts.contains("1 not closed"), "{alerts}");
    assert!(!html.contains("Convoy movement reported"));
    // Gaps from the GREEN picture: 14 (severe) and 9 (high), no action.
    let gaps = text_of(&html, "gaps");
    assert!(gaps.contains("14.") && gaps.contains("9."), "{gaps}");
    // The map's endpoints, as the page names them, count only the situation's areas and what
    // the viewer may see: Bangui's incident, in the same country, is left out.
    for (role, want) in [(Role::Viewer, 2), (Role::Analyst, 4)] {
        for url in [&map_url, &admin1_url] {
            let (s, m) = app.get(role, &format!("{url}&{window}")).await;
            assert_eq!(s, StatusCode::OK, "{url}: {m}");
            assert_eq!(m["total"], want, "{role:?} {url}: {m}");
        }
        let (_, m) = app.get(role, &format!("{map_url}&{window}&zoom=12")).await;
        let features = m["features"].as_array().unwrap();
        assert_eq!(features.len(), want, "points at street zoom: {m}");
    }
    // The country alone still counts Bangui; a bad or unreadable situation is refused.
    let (_, m) = app
        .get(
            Role::Viewer,
            &format!("/api/v1/incidents/map?country=CAF&{window}"),
        )
        .await;
    assert_eq!(
        m["total"], 3,
        "two in the areas and one in Bangui, all GREEN"
    );
    let (s, m) = app
        .get(Role::Viewer, "/api/v1/incidents/map?situation=nope")
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{m}");
    assert!(m.to_string().contains("situation"), "{m}");
    let (s, _) = app
        .get(
            Role::Viewer,
            &format!("/api/v1/incidents/map?situation={}", uuid::Uuid::new_v4()),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // The desk officer (AMBER): three incidents, 45 deaths.
    let officer = Pages::login(&app, "desk_officer").await;
    let (_, html) = officer.get(&page).await;
    assert_eq!(chart(&html), (3, 45, 6));

    // A window of two years is drawn month by month; a bad one is refused naming the field.
    let (s, html) = analyst
        .get(&format!("/situations/{sit}?from=2024-01-01&to=2025-12-31"))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        chart(&html),
        (5, 156, 24),
        "March and May 2025 among 24 months"
    );
    let (s, html) = analyst
        .get(&format!("/situations/{sit}?from=2025-13-01"))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(html.contains("from"), "{html}");
}

#[tokio::test]
async fn the_areas_are_edited_from_the_page() {
    let app = TestApp::start().await;
    let (_, v) = app
        .post(
            Role::Analyst,
            "/api/v1/situations",
            json!({"name": "CAR centre", "country": "CAF", "admin1": "Ouaka", "tlp": "TLP:GREEN"}),
        )
        .await;
    assert_eq!(v["admin1"], json!(["Ouaka"]));
    let sit = v["id"].as_str().unwrap().to_string();
    let analyst = Pages::login(&app, "analyst").await;
    let (_, html) = analyst.get(&format!("/situations/{sit}")).await;
    assert!(html.contains("id=\"edit-situation\""));
    assert!(!html.contains("(the whole country)"));

    let (s, loc, _) = analyst
        .post(
            &format!("/situations/{sit}/edit"),
            &[
                ("name", "CAR centre and east"),
                ("admin1", "Ouaka\r\nHaute-Kotto\r\n\r\nVakaga"),
                ("status", "active"),
                ("description", "Armed groups moving east."),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(loc.as_deref(), Some(format!("/situations/{sit}").as_str()));
    let (_, v) = app
        .get(Role::Viewer, &format!("/api/v1/situations/{sit}"))
        .await;
    assert_eq!(v["admin1"], json!(["Ouaka", "Haute-Kotto", "Vakaga"]));
    assert_eq!(v["name"], "CAR centre and east");
    assert_eq!(v["status"], "active");
    let (_, html) = analyst.get(&format!("/situations/{sit}")).await;
    assert!(text_of(&html, "situation-area").contains("Ouaka, Haute-Kotto, Vakaga"));

    // A refusal keeps what was typed and names the field.
    let (s, _, html) = analyst
        .post(
            &format!("/situations/{sit}/edit"),
            &[
                ("name", "CAR centre and east"),
                ("admin1", "Ouaka\nBad\u{0}name"),
                ("status", "active"),
                ("description", "typed and kept"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains("admin1"), "{html}");
    assert!(html.contains("typed and kept"));
    let (_, v) = app
        .get(Role::Viewer, &format!("/api/v1/situations/{sit}"))
        .await;
    assert_eq!(v["admin1"].as_array().unwrap().len(), 3, "nothing written");

    // Back to the whole country.
    let (s, _, _) = analyst
        .post(
            &format!("/situations/{sit}/edit"),
            &[("name", "CAR"), ("admin1", ""), ("status", "watch")],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, html) = analyst.get(&format!("/situations/{sit}")).await;
    assert!(text_of(&html, "situation-area").contains("the whole country"));

    // Over the API: a list, a refusal naming the field, a viewer refused.
    let path = format!("/api/v1/situations/{sit}");
    let (s, v) = app
        .call(
            Some(Role::Analyst),
            Method::PATCH,
            &path,
            Some(json!({"admin1": ["Vakaga", "Bamingui-Bangoran"]})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["admin1"], json!(["Vakaga", "Bamingui-Bangoran"]));
    assert_eq!(v["name"], "CAR", "fields left out stay");
    let (s, v) = app
        .call(
            Some(Role::Analyst),
            Method::PATCH,
            &path,
            Some(json!({"status": "over"})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v.to_string().contains("status"), "{v}");
    let (s, _) = app
        .call(
            Some(Role::Viewer),
            Method::PATCH,
            &path,
            Some(json!({"admin1": []})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (_, v) = app.get(Role::Viewer, &path).await;
    assert_eq!(
        v["admin1"],
        json!(["Vakaga", "Bamingui-Bangoran"]),
        "nothing written"
    );

    // A viewer may not edit: no form, and a post is refused.
    let viewer = Pages::login(&app, "viewer").await;
    let (_, html) = viewer.get(&format!("/situations/{sit}")).await;
    assert!(!html.contains("id=\"edit-situation\""));
    let (s, _, _) = viewer
        .post(
            &format!("/situations/{sit}/edit"),
            &[("name", "x"), ("admin1", ""), ("status", "watch")],
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_situations_areas_are_the_gazetteers_and_match_incidents_so_named() {
    let app = TestApp::start().await;
    let (_, before) = app.get(Role::Viewer, "/api/v1/situations").await;
    // Names as typed (case, accents, the kind of area) are stored as the gazetteer names them.
    let (s, v) = app
        .post(
            Role::Analyst,
            "/api/v1/situations",
            json!({"name": "CAR west", "country": "CAF",
                   "admin1": ["ouaka", "Préfecture de la Mambéré-Kadéï", "Ouaka"], "tlp": "TLP:GREEN"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["admin1"], json!(["Ouaka", "Mambere-Kadei"]));
    let sit = v["id"].as_str().unwrap().to_string();
    // An unknown name is refused naming the entry, with what it may mean; nothing written.
    let (s, e) = app
        .post(
            Role::Analyst,
            "/api/v1/situations",
            json!({"name": "Nowhere", "country": "CAF", "admin1": ["Ouaka", "Bambari"],
                   "tlp": "TLP:GREEN"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("admin1[1]") && msg.contains("Bambari"),
        "{msg}"
    );
    assert!(
        msg.contains("did you mean Ouaka"),
        "a town suggests its area: {msg}"
    );
    let (_, after) = app.get(Role::Viewer, "/api/v1/situations").await;
    assert_eq!(
        after["items"].as_array().unwrap().len(),
        before["items"].as_array().unwrap().len() + 1,
        "only the first situation was written"
    );
    let path = format!("/api/v1/situations/{sit}");
    let (s, e) = app
        .call(
            Some(Role::Analyst),
            Method::PATCH,
            &path,
            Some(json!({"admin1": ["Atlantis"]})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(e.to_string().contains("admin1[0]"), "{e}");
    let (_, v) = app.get(Role::Viewer, &path).await;
    assert_eq!(
        v["admin1"],
        json!(["Ouaka", "Mambere-Kadei"]),
        "nothing written"
    );

    // Incidents named with accents (as ACLED writes them) count in the area's trend.
    incident(&app, "2025-03-03", "Mambéré-Kadéï", 4, Tlp::Green).await;
    incident(&app, "2025-03-04", "OUAKA", 1, Tlp::Green).await;
    incident(&app, "2025-03-05", "Nana-Mambéré", 9, Tlp::Green).await;
    let viewer = Pages::login(&app, "viewer").await;
    let (s, html) = viewer
        .get(&format!("/situations/{sit}?from=2025-03-01&to=2025-03-31"))
        .await;
    assert_eq!(s, StatusCode::OK, "{html}");
    let (incidents, fatalities, _) = chart(&html);
    assert_eq!(
        (incidents, fatalities),
        (2, 5),
        "Mambéré-Kadéï and OUAKA are in the area, Nana-Mambéré is not"
    );
}

#[tokio::test]
async fn one_page_view_audits_each_restricted_record_once() {
    let app = TestApp::start().await;
    let (s, v) = app
        .post(
            Role::Analyst,
            "/api/v1/situations",
            json!({"name": "Restricted", "country": "CAF", "admin1": ["Ouaka"],
                   "tlp": "TLP:RED"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let sit = v["id"].as_str().unwrap().to_string();
    let today = chrono::Utc::now().date_naive();
    let i = Incident::parse(IncidentInput {
        event_date: today.to_string(),
        event_type: "Violence against civilians".into(),
        sub_event_type: "Attack".into(),
        country: "CAF".into(),
        admin1: Some("Ouaka".into()),
        latitude: 5.75,
        longitude: 20.67,
        fatalities: 6,
        description: "restricted verified incident".into(),
        tlp: Tlp::Red,
        verification_status: Some(tocsin_domain::VerificationStatus::Verified),
        ..Default::default()
    })
    .unwrap();
    let incident = app
        .store
        .create_incident(&Actor::system("test"), i)
        .await
        .unwrap();
    let (s, desk) = app
        .post(
            Role::Admin,
            "/api/v1/desks",
            json!({"name": "CAR desk", "department": "defence", "members": ["desk_officer"],
                   "countries": ["CAF"], "escalation": [
                       {"after": "1h", "notify": {"user": "desk_officer"}}]}),
        )
        .await;
    assert_eq!(s, 201, "{desk}");
    let (s, alert) = app
        .post(
            Role::Analyst,
            "/api/v1/alerts",
            json!({"title": "Restricted alert", "severity": "high", "tlp": "TLP:RED",
                   "country": "CAF", "situation": sit}),
        )
        .await;
    assert_eq!(s, 201, "{alert}");
    let alert = alert["id"].as_str().unwrap().to_string();

    let analyst = Pages::login(&app, "analyst").await;
    let seq = |e: &[tocsin_domain::AuditEntry]| e.last().map_or(0, |e| e.seq);
    let start = seq(&app.store.audit_entries(0, 100_000).await.unwrap());
    let (s, html) = analyst.get(&format!("/situations/{sit}")).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(
        html.contains("restricted verified incident")
            || html.contains("Violence against civilians")
    );
    assert!(html.contains("Restricted alert"));
    let entries = app.store.audit_entries(start, 100_000).await.unwrap();
    for (what, id) in [
        ("situation", sit.clone()),
        ("incident", incident.id.to_string()),
        ("alert", alert.clone()),
    ] {
        let n = entries
            .iter()
            .filter(|e| e.record_id.as_deref() == Some(id.as_str()) || e.detail.contains(&id))
            .count();
        assert_eq!(
            n, 1,
            "the {what} is audited once per page view: {entries:#?}"
        );
    }
}
