//! The public form in the visitor's language (chosen by the browser, switched in its menu and
//! kept in a cookie; Arabic laid out right to left), the staff pages in the language chosen on
//! the account page (else the browser's), and refused staff forms that keep what was typed and
//! name the field as the page labels it — all over real HTTP.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;
use tocsin_domain::{Role, Tlp};

/// GET `/report` with these headers: status, `Set-Cookie` values, body.
async fn form(
    app: &TestApp,
    query: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, Vec<String>, String) {
    let mut req = app.client.get(format!("{}/report{query}", app.base));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let r = req.send().await.unwrap();
    let cookies = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    (r.status(), cookies, r.text().await.unwrap())
}

/// The `name=value` of the cookie called `name` among `Set-Cookie` values.
fn cookie_named(cookies: &[String], name: &str) -> Option<String> {
    cookies
        .iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(|c| c.split(';').next().unwrap().to_string())
}

#[tokio::test]
async fn the_public_form_speaks_the_visitors_language() {
    let app = TestApp::start().await;

    // The browser's language decides; one we do not have falls back to English.
    for (accept, lang, title) in [
        ("ar-SD,ar;q=0.9,en;q=0.5", "ar", "إرسال بلاغ"),
        ("fr-CF,fr;q=0.9", "fr", "Envoyer un signalement"),
        ("de-DE,sw;q=0.8,en;q=0.2", "sw", "Tuma ripoti"),
        ("de-DE", "en", "Send a report"),
    ] {
        let (s, _, html) = form(&app, "", &[("accept-language", accept)]).await;
        assert_eq!(s, StatusCode::OK);
        let dir = if lang == "ar" { "rtl" } else { "ltr" };
        assert!(
            html.contains(&format!("<html lang=\"{lang}\" dir=\"{dir}\">")),
            "{accept}: {html}"
        );
        assert!(
            html.contains(&format!("<h1>{title}</h1>")),
            "{accept}: {html}"
        );
        // The menu offers every language, each named in itself, without JavaScript.
        for (code, name) in [
            ("en", "English"),
            ("fr", "Français"),
            ("sw", "Kiswahili"),
            ("ar", "العربية"),
        ] {
            assert!(
                html.contains(&format!("href=\"/report?lang={code}\"")),
                "{html}"
            );
            assert!(html.contains(name), "{name}");
        }
        assert!(!html.contains("<script"));
    }

    // A choice in the menu wins over the browser and is kept in a cookie.
    let (_, cookies, html) = form(&app, "?lang=fr", &[("accept-language", "ar")]).await;
    assert!(html.contains("<html lang=\"fr\""), "{html}");
    let chosen = cookie_named(&cookies, "tocsin_lang").expect("the choice is kept");
    assert_eq!(chosen, "tocsin_lang=fr");
    assert!(
        cookies[0].starts_with("tocsin_report_csrf="),
        "the form's own cookie first: {cookies:?}"
    );
    let (_, _, html) = form(&app, "", &[("accept-language", "ar"), ("cookie", &chosen)]).await;
    assert!(
        html.contains("<html lang=\"fr\""),
        "the cookie is remembered: {html}"
    );
    assert!(
        html.contains("Ce qui s&#x27;est passé") || html.contains("Ce qui s'est passé"),
        "{html}"
    );

    // An Arabic report sent from the Arabic form: the acknowledgement is in Arabic, right to left.
    let (_, cookies, html) = form(&app, "", &[("accept-language", "ar")]).await;
    let csrf = cookie_named(&cookies, "tocsin_report_csrf").unwrap();
    let token = csrf_in(&html);
    let text = "رجال مسلحون أحرقوا منازل في نيالا صباح اليوم";
    let r = app
        .client
        .post(format!("{}/report", app.base))
        .header("cookie", &csrf)
        .form(&[
            ("csrf", token.as_str()),
            ("text", text),
            ("place", "نيالا"),
            ("lang", "ar"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("<html lang=\"ar\" dir=\"rtl\">"), "{html}");
    assert!(html.contains("شكرا لك. تم استلام بلاغك."), "{html}");
    assert!(html.contains("رقم المرجع الخاص بك هو <strong>R-"), "{html}");

    // A refused French form: the reason in French, what was typed still there.
    let (_, cookies, html) = form(&app, "?lang=fr", &[]).await;
    let csrf = cookie_named(&cookies, "tocsin_report_csrf").unwrap();
    let token = csrf_in(&html);
    let r = app
        .client
        .post(format!("{}/report", app.base))
        .header("cookie", &csrf)
        .form(&[
            ("csrf", token.as_str()),
            ("text", "   "),
            ("place", "Bossangoa, quartier Boro"),
            ("lang", "fr"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("Merci de décrire ce qui s"), "{html}");
    assert!(
        html.contains("value=\"Bossangoa, quartier Boro\""),
        "{html}"
    );
    assert!(html.contains("<html lang=\"fr\""), "{html}");
}

/// A logged-in analyst's session cookie and CSRF token, and a POST helper returning the status
/// and page.
async fn analyst(app: &TestApp) -> (String, String) {
    browser_login(app, "analyst", "password-123").await.unwrap()
}

async fn post_form(
    app: &TestApp,
    cookie: &str,
    path: &str,
    form: &[(&str, &str)],
) -> (StatusCode, String) {
    let r = app
        .client
        .post(format!("{}{path}", app.base))
        .header("cookie", cookie)
        .form(form)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

/// Text as the templates escape it.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&#34;")
        .replace('\'', "&#x27;")
        .replace('/', "&#x2f;")
}

#[tokio::test]
async fn a_refused_assessment_keeps_what_was_typed_and_names_risk_factor_9() {
    let app = TestApp::start().await;
    let (s, v) = app
        .post(
            Role::Analyst,
            "/api/v1/situations",
            json!({"name": "Darfur", "country": "SDN", "tlp": "TLP:GREEN"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let sid = v["id"].as_str().unwrap().to_string();
    let (s, a) = app
        .post(
            Role::Analyst,
            &format!("/api/v1/situations/{sid}/assessments"),
            json!({"as_of": "2025-01-31", "summary": "Stored summary", "factors": [
                {"factor": 1, "level": "high", "confidence": "medium", "rationale": "Stored rationale"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{a}");
    let (cookie, csrf) = analyst(&app).await;
    let version = a["version"].to_string();
    let path = format!("/assessments/{}/edit", a["id"].as_str().unwrap());
    let summary = "Typed summary: the militia's convoy was seen near the camps";
    let (s, html) = post_form(
        &app,
        &cookie,
        &path,
        &[
            ("csrf", &csrf),
            ("expected_version", &version),
            ("as_of", "2025-02-28"),
            ("summary", summary),
            ("level_1", "severe"),
            ("confidence_1", "high"),
            ("rationale_1", "Typed rationale for factor one"),
            ("level_9", "high"),
            ("confidence_9", "low"),
            ("rationale_9", "  "),
        ],
    )
    .await;
    assert!(s.is_client_error(), "{s}");
    // The field as the analyst knows it, not as the API names it.
    assert!(
        html.contains(
            "Risk factor 9 (Intergroup tensions or patterns of discrimination against protected \
             groups): rationale is required"
        ),
        "{html}"
    );
    assert!(!html.contains("factors["), "{html}");
    // Everything typed is still there, the new values rather than the stored ones.
    assert!(html.contains(&esc(summary)), "{html}");
    assert!(html.contains("Typed rationale for factor one"), "{html}");
    assert!(html.contains("value=\"2025-02-28\""), "{html}");
    assert!(!html.contains("Stored rationale"), "{html}");
    for (name, value) in [
        ("level_1", "severe"),
        ("confidence_1", "high"),
        ("level_9", "high"),
        ("confidence_9", "low"),
    ] {
        let select = html
            .split(&format!("name=\"{name}\""))
            .nth(1)
            .and_then(|s| s.split("</select>").next())
            .unwrap_or_else(|| panic!("{name} in {html}"));
        assert!(
            select.contains(&format!("value=\"{value}\" selected")),
            "{name}: {select}"
        );
    }
    // The refused control is marked for assistive technology.
    let rationale_9 = html.split("name=\"rationale_9\"").nth(1).unwrap();
    assert!(
        rationale_9.starts_with(" rows=\"2\" dir=\"auto\" aria-invalid=\"true\""),
        "{rationale_9}"
    );
    // Nothing was written.
    let (_, now) = app
        .get(
            Role::Analyst,
            &format!("/api/v1/assessments/{}", a["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(now["assessment"]["summary"], "Stored summary", "{now}");
}

#[tokio::test]
async fn refused_incident_and_action_forms_keep_what_was_typed() {
    let app = TestApp::start().await;
    let i = app
        .incident(
            Tlp::Green,
            "CAF",
            "2024-10-07",
            7.2,
            17.4,
            ("Battles", "Armed clash"),
        )
        .await;
    let (cookie, csrf) = analyst(&app).await;

    // The incident edit form, with a latitude that is no number.
    let description = "Typed: clashes between armed groups near the river crossing";
    let (s, html) = post_form(
        &app,
        &cookie,
        &format!("/incidents/{}/edit", i.id),
        &[
            ("csrf", &csrf),
            ("expected_version", &i.version.to_string()),
            ("event_date", "2024-10-08"),
            ("event_type", "Battles"),
            ("sub_event_type", "Armed clash"),
            ("country", "CAF"),
            ("admin1", "Ouham"),
            ("location", "Typed place Bossangoa"),
            ("latitude", "north of the river"),
            ("longitude", "17.45"),
            ("fatalities", "3"),
            ("credibility", "4"),
            ("tlp", "TLP:GREEN"),
            ("description", description),
        ],
    )
    .await;
    assert!(s.is_client_error(), "{s}");
    assert!(html.contains("Latitude: expected a number"), "{html}");
    assert!(html.contains(&esc(description)), "{html}");
    assert!(html.contains("value=\"north of the river\""), "{html}");
    assert!(html.contains("value=\"Typed place Bossangoa\""), "{html}");
    assert!(html.contains("value=\"2024-10-08\""), "{html}");
    assert!(html.contains("<option selected>4</option>"), "{html}");
    assert!(
        html.contains("name=\"latitude\" aria-invalid=\"true\""),
        "{html}"
    );

    // The new-incident form, with a date that is no date.
    let (s, html) = post_form(
        &app,
        &cookie,
        "/incidents/new",
        &[
            ("csrf", &csrf),
            ("reports", ""),
            ("event_date", "yesterday"),
            ("event_type", "Battles"),
            ("sub_event_type", "Armed clash"),
            ("country", "CAF"),
            ("admin1", ""),
            ("location", "Typed village Kaga-Bandoro"),
            ("latitude", "6.98"),
            ("longitude", "19.18"),
            ("fatalities", "1"),
            ("verification_status", "unverified"),
            ("tlp", "TLP:GREEN"),
            ("description", "Typed description of the new incident"),
        ],
    )
    .await;
    assert!(s.is_client_error(), "{s}: {html}");
    assert!(
        html.contains("Typed description of the new incident"),
        "{html}"
    );
    assert!(
        html.contains("value=\"Typed village Kaga-Bandoro\""),
        "{html}"
    );
    assert!(html.contains("value=\"6.98\""), "{html}");
    assert!(html.contains("Date"), "{html}");
    assert!(
        !html.contains("event_date:"),
        "named as the form labels it: {html}"
    );

    // An action whose due date is not a date.
    let (s, v) = app
        .post(
            Role::Analyst,
            "/api/v1/situations",
            json!({"name": "CAR: north-west", "country": "CAF", "tlp": "TLP:GREEN"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let sid = v["id"].as_str().unwrap();
    let measure = tocsin_toolbox::Toolbox::shipped().measures[0].id.clone();
    let (s, html) = post_form(
        &app,
        &cookie,
        &format!("/situations/{sid}/actions"),
        &[
            ("csrf", &csrf),
            ("measure_id", &measure),
            ("risk_factors", "1, 9"),
            ("department", ""),
            ("lead", "typed-lead"),
            ("due_date", "31/12/2025"),
            ("notes", "Typed notes: ask the governor's office first"),
        ],
    )
    .await;
    assert!(s.is_client_error(), "{s}: {html}");
    assert!(html.contains("Due: expected YYYY-MM-DD"), "{html}");
    assert!(
        html.contains(&esc("Typed notes: ask the governor's office first")),
        "{html}"
    );
    assert!(html.contains("value=\"31&#x2f;12&#x2f;2025\""), "{html}");
    assert!(html.contains("value=\"1, 9\""), "{html}");
    assert!(html.contains("value=\"typed-lead\""), "{html}");
}

#[tokio::test]
async fn a_refused_rumour_change_keeps_the_response_typed() {
    let app = TestApp::start().await;
    let (s, r) = app
        .post(
            Role::Analyst,
            "/api/v1/rumours",
            json!({"claim": "They will burn the market on Friday", "country": "KEN",
                   "priority": "high", "tlp": "TLP:GREEN"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let id = r["id"].as_str().unwrap();
    let (cookie, csrf) = analyst(&app).await;
    let response = "Typed counter-message: the market committee says no such threat was made";
    // A priority that does not exist: refused, and what was typed is still in the form.
    let (s, html) = post_form(
        &app,
        &cookie,
        &format!("/rumours/{id}"),
        &[
            ("csrf", &csrf),
            ("version", &r["version"].to_string()),
            ("status", "under_investigation"),
            ("findings", "Typed findings so far"),
            ("priority", "urgent"),
            ("response", response),
            ("broadcast", ""),
        ],
    )
    .await;
    assert!(s.is_client_error(), "{s}: {html}");
    assert!(html.contains(&esc(response)), "{html}");
    assert!(html.contains("Typed findings so far"), "{html}");
    assert!(html.contains("Priority"), "{html}");
    assert!(
        html.contains("value=\"under_investigation\" selected"),
        "{html}"
    );
    let (_, now) = app
        .get(Role::Analyst, &format!("/api/v1/rumours/{id}"))
        .await;
    assert_eq!(
        now["rumour"]["priority"]
            .as_str()
            .or(now["priority"].as_str()),
        Some("high"),
        "{now}"
    );
}

/// GET `path` as a logged-in user, with an `Accept-Language` header: status and page.
async fn staff_get(app: &TestApp, cookie: &str, path: &str, accept: &str) -> (StatusCode, String) {
    let r = app
        .client
        .get(format!("{}{path}", app.base))
        .header("cookie", cookie)
        .header("accept-language", accept)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

#[tokio::test]
async fn staff_pages_speak_the_language_chosen_on_the_account_page() {
    let app = TestApp::start().await;
    let (cookie, csrf) = analyst(&app).await;

    // Without a choice, the browser's language; English when the browser's is not one of ours.
    let (_, html) = staff_get(&app, &cookie, "/alerts", "sw-KE,sw;q=0.9").await;
    assert!(html.contains("<html lang=\"sw\" dir=\"ltr\">"), "{html}");
    assert!(html.contains("<h1>Tahadhari</h1>"), "{html}");
    let (_, html) = staff_get(&app, &cookie, "/alerts", "de-DE").await;
    assert!(html.contains("<html lang=\"en\" dir=\"ltr\">"), "{html}");
    assert!(html.contains("<h1>Alerts</h1>"), "{html}");

    // French, chosen on the account page: the answer is already French, and every page after
    // it is too, whatever the browser says.
    let (s, html) = post_form(
        &app,
        &cookie,
        "/account/language",
        &[("csrf", csrf.as_str()), ("language", "fr")],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(html.contains("<html lang=\"fr\" dir=\"ltr\">"), "{html}");
    assert!(
        html.contains("Vos pages sont maintenant dans cette langue."),
        "{html}"
    );
    assert!(
        html.contains("<option value=\"fr\" lang=\"fr\" dir=\"ltr\" selected>Français</option>"),
        "{html}"
    );
    for (path, heading) in [
        ("/alerts", "<h1>Alertes</h1>"),
        ("/incidents", "<h1>Incidents</h1>"),
        ("/triage", "<h1>Tri</h1>"),
        ("/account", "<h1>Votre compte</h1>"),
    ] {
        let (s, html) = staff_get(&app, &cookie, path, "ar,en;q=0.5").await;
        assert_eq!(s, StatusCode::OK, "{path}");
        assert!(
            html.contains("<html lang=\"fr\" dir=\"ltr\">"),
            "{path}: {html}"
        );
        assert!(html.contains(heading), "{path}: {html}");
        // The frame too: the menu and the logout button.
        assert!(html.contains(">Se déconnecter</button>"), "{path}: {html}");
        assert!(html.contains(">Accueil</a>"), "{path}: {html}");
    }
    // Counts read as French plurals; a stored value (a verification status) by its French name.
    for lat in [6.5, 7.0] {
        let et = ("Violence against civilians", "Attack");
        app.incident(Tlp::Green, "CAF", "2025-03-01", lat, 20.0, et)
            .await;
    }
    let (_, html) = staff_get(&app, &cookie, "/incidents", "en").await;
    assert!(html.contains("2 incidents que vous pouvez voir."), "{html}");
    assert!(
        html.contains(">non vérifié</td>") || html.contains(">vérifié</td>"),
        "{html}"
    );
    assert!(html.contains(">Filtrer</button>"), "{html}");
    // Event types by the names the French brief uses (one table for pages, map and briefs),
    // while the filter still sends the stored value.
    assert!(
        html.contains("<td>Violence contre les civils / Attaque</td>"),
        "{html}"
    );
    assert!(
        html.contains("<option value=\"Battles\">Batailles</option>"),
        "{html}"
    );
    // A page that does not exist, and a form without its token, are refused in French.
    let (s, html) = staff_get(&app, &cookie, "/no/such/page", "en").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(
        html.contains("<h1>Introuvable</h1>") && html.contains("Il n&#x27;y a pas de page"),
        "{html}"
    );
    let (s, html) = post_form(&app, &cookie, "/account/language", &[("language", "sw")]).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(
        html.contains("<h1>Non autorisé</h1>") && html.contains("jeton de sécurité"),
        "{html}"
    );

    // Another user is not touched by it.
    let (viewer, _) = browser_login(&app, "viewer", "password-123").await.unwrap();
    let (_, html) = staff_get(&app, &viewer, "/alerts", "en-GB").await;
    assert!(html.contains("<html lang=\"en\" dir=\"ltr\">"), "{html}");

    // Arabic: the pages are laid out right to left.
    let (s, html) = post_form(
        &app,
        &cookie,
        "/account/language",
        &[("csrf", csrf.as_str()), ("language", "ar")],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{html}");
    let (_, html) = staff_get(&app, &cookie, "/", "fr").await;
    assert!(html.contains("<html lang=\"ar\" dir=\"rtl\">"), "{html}");
    assert!(html.contains("<h1>الرئيسية</h1>"), "{html}");
    assert!(html.contains(">تسجيل الخروج</button>"), "{html}");
    // Also inside the tables a shared macro draws.
    assert!(html.contains("<th>تاريخ الفتح</th>"), "{html}");

    // A language the pages do not speak is refused on the page, and nothing changes.
    let (s, html) = post_form(
        &app,
        &cookie,
        "/account/language",
        &[("csrf", csrf.as_str()), ("language", "de")],
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{html}");
    // The reason in the page's language, the value typed kept as it was.
    assert!(
        html.contains("لا توجد لغة كهذه: \u{2068}de\u{2069}"),
        "{html}"
    );
    assert!(!html.contains("no such language"), "{html}");
    assert!(html.contains("<html lang=\"ar\" dir=\"rtl\">"), "{html}");

    // Back to the browser's language; the choices are in the audit trail.
    let (s, _) = post_form(
        &app,
        &cookie,
        "/account/language",
        &[("csrf", csrf.as_str()), ("language", "")],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (_, html) = staff_get(&app, &cookie, "/alerts", "sw").await;
    assert!(html.contains("<html lang=\"sw\" dir=\"ltr\">"), "{html}");
    let entries = app.store.audit_entries(0, 1000).await.unwrap();
    let chosen: Vec<_> = entries
        .iter()
        .filter(|e| e.action == "user.language")
        .map(|e| serde_json::from_str::<serde_json::Value>(&e.detail).unwrap()["language"].clone())
        .collect();
    assert_eq!(chosen, [json!("fr"), json!("ar"), json!(null)]);
}
