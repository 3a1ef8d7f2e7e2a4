//! Accessibility and languages in headless Chromium against a real `tocsin serve`:
//!
//! * axe-core (the npm devDependency of `crates/tocsin-server/web`, read from the build's
//!   `node_modules`, never served) is injected into the checked pages — login, home, reports,
//!   incidents list and detail, triage, the public form in English and Arabic, assessment edit
//!   (and its refusal), alerts, map — and any serious or critical violation fails the test,
//!   listed (a probe first shows that the check can fail);
//! * a refused assessment edit keeps what was typed and puts the focus on the refused field;
//! * the keyboard reaches the "skip to the main content" link first, with a visible focus;
//! * the public form, switched to Arabic in its visible language menu, is laid out right to
//!   left, and an Arabic report sent from it is acknowledged in Arabic; the choice is kept;
//!   the Arabic report is shown right to left on the staff's reports page (`dir="auto"`);
//! * the staff pages, switched to Arabic on the account page, are laid out right to left and
//!   pass axe-core too;
//! * no page requested anything of a host other than the server (every resource the pages
//!   loaded, by the Resource Timing API).
//!
//! Without chromium/chromedriver or axe-core the test skips with a message; with
//! `TOCSIN_REQUIRE_BROWSER=1` (as in CI) it fails instead.

mod common;

use common::browser::*;
use common::*;
use serde_json::{json, Value};
use std::path::PathBuf;

const PASSWORD: &str = "a long test password";

/// axe-core's browser build: `TOCSIN_AXE_JS`, else `axe-core/axe.min.js` in the build's
/// `node_modules` (`npm ci` of `crates/tocsin-server/web`).
fn axe_source() -> Option<String> {
    let path = std::env::var_os("TOCSIN_AXE_JS")
        .map(PathBuf::from)
        .or_else(|| {
            tocsin_server::basemap::NODE_MODULES
                .map(|d| PathBuf::from(d).join("axe-core/axe.min.js"))
        });
    match path.as_ref().and_then(|p| std::fs::read_to_string(p).ok()) {
        Some(src) => Some(src),
        None => {
            assert!(
                std::env::var("TOCSIN_REQUIRE_BROWSER").as_deref() != Ok("1"),
                "TOCSIN_REQUIRE_BROWSER=1 but axe-core is missing ({path:?}): the build's \
                 `npm ci` installs it, or set TOCSIN_AXE_JS"
            );
            eprintln!("skipping the accessibility test: axe-core not found ({path:?})");
            None
        }
    }
}

/// Runs axe-core on the page; its serious and critical violations as
/// `rule (impact): help — targets`.
async fn serious_violations(s: &Session, axe: &str) -> Vec<String> {
    // WebDriver runs the script as a function of its own: no inline script or eval for the
    // page's CSP to refuse, and nothing fetched.
    let loaded = s
        .script(&format!("{axe}\n;return typeof window.axe;"), json!([]))
        .await;
    assert_eq!(loaded, "object", "axe-core is loaded in the page");
    if std::env::var_os("TOCSIN_AXE_ALL").is_some() {
        s.script("window.tocsinAxeAll = true;", json!([])).await;
    }
    let v = s
        .script_async(
            "const done = arguments[arguments.length - 1]; \
             window.axe.run(document) \
               .then(r => done(r.passes.length < 10 ? ['axe checked only ' + r.passes.length + ' rules'] \
                 : r.violations \
                 .filter(v => v.impact === 'serious' || v.impact === 'critical' || window.tocsinAxeAll) \
                 .map(v => `${v.id} (${v.impact}): ${v.help} — ` + \
                   v.nodes.slice(0, 5).map(n => n.target.join(' ')).join(', ')))) \
               .catch(e => done(['axe failed: ' + e]));",
            json!([]),
        )
        .await;
    v.as_array()
        .unwrap_or_else(|| panic!("axe answered {v}"))
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

/// Every URL the page loaded (the document and its resources).
async fn loaded(s: &Session) -> Vec<String> {
    let v = s
        .script(
            "return performance.getEntriesByType('navigation') \
               .concat(performance.getEntriesByType('resource')).map(e => e.name);",
            json!([]),
        )
        .await;
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

async fn direction(s: &Session, css: &str) -> String {
    s.script(
        "const e = document.querySelector(arguments[0]); \
         return e ? getComputedStyle(e).direction : 'missing';",
        json!([css]),
    )
    .await
    .as_str()
    .unwrap()
    .to_string()
}

async fn press(s: &Session, key: &str) {
    s.cmd(
        reqwest::Method::POST,
        "/actions",
        Some(
            json!({"actions": [{"type": "key", "id": "keyboard", "actions": [
            {"type": "keyDown", "value": key}, {"type": "keyUp", "value": key}]}]}),
        ),
    )
    .await;
}

#[tokio::test]
async fn checked_pages_have_no_serious_violation_and_arabic_reads_right_to_left() {
    let Some((driver, chromium)) = browser() else {
        return;
    };
    let Some(axe) = axe_source() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let token = add_user_with_password(d, "ana", "analyst", PASSWORD);
    let server = Server::start(d, None);
    let base = server.base.clone();
    let api = reqwest::Client::new();
    let post = |path: &str, body: Value| {
        api.post(format!("{base}{path}"))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let r: Value = post(
        "/api/v1/reports",
        json!({"text": "Armed men burned houses in Bria this morning", "latitude": 6.54,
               "longitude": 21.99, "country": "CAF", "tlp": "TLP:AMBER"}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert!(r["id"].is_string(), "{r}");
    let i: Value = post(
        "/api/v1/incidents",
        json!({"event_date": "2025-03-02", "event_type": "Violence against civilians",
               "sub_event_type": "Attack", "country": "SDN", "latitude": 13.63,
               "longitude": 25.35, "fatalities": 4, "tlp": "TLP:GREEN",
               "description": "هاجم مسلحون قرية قرب الفاشر"}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let incident = i["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{i}"))
        .to_string();
    let sit: Value = post(
        "/api/v1/situations",
        json!({"name": "Darfur", "country": "SDN", "tlp": "TLP:GREEN"}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let a: Value = post(
        &format!(
            "/api/v1/situations/{}/assessments",
            sit["id"].as_str().unwrap()
        ),
        json!({"as_of": "2025-03-01", "factors": [{"factor": 1, "level": "high",
               "confidence": "medium", "rationale": "Armed conflict in three states."}]}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let assessment = a["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{a}"))
        .to_string();

    let drv = start_driver(&driver).await;
    let profile = tempfile::tempdir().unwrap();
    let s = Session::start(
        &drv,
        &chromium,
        profile.path(),
        &["--window-size=1280,900", "--lang=en-US"],
    )
    .await;
    let mut urls: Vec<String> = Vec::new();
    let mut failures: Vec<String> = Vec::new();

    // The public form, logged out: keyboard first, then axe, in English and in Arabic.
    s.goto(&format!("{base}/report")).await;
    press(&s, "\u{E004}").await; // Tab
    let focus = s
        .script(
            "const e = document.activeElement, st = getComputedStyle(e), r = e.getBoundingClientRect(); \
             return [e.className, st.outlineStyle, r.top >= 0 && r.bottom > 0];",
            json!([]),
        )
        .await;
    assert_eq!(
        focus,
        json!(["skip", "solid", true]),
        "the first Tab shows the skip link, outlined"
    );
    press(&s, "\u{E007}").await; // Enter
    assert!(s.current_url().await.ends_with("#main"));
    // The check can fail: an input without a label and grey-on-grey text are caught.
    s.script(
        "const i = document.createElement('input'); i.id = 'axe-probe'; \
         const p = document.createElement('p'); p.id = 'axe-probe-text'; p.textContent = 'faint'; \
         p.style.color = '#bbb'; p.style.background = '#ccc'; \
         document.querySelector('main').append(i, p);",
        json!([]),
    )
    .await;
    let caught = serious_violations(&s, &axe).await;
    assert!(
        caught.iter().any(|v| v.starts_with("label (critical)"))
            && caught
                .iter()
                .any(|v| v.starts_with("color-contrast (serious)")),
        "{caught:?}"
    );
    for (path, what) in [("/report", "public form (en)"), ("/login", "login")] {
        s.goto(&format!("{base}{path}")).await;
        for v in serious_violations(&s, &axe).await {
            failures.push(format!("{what}: {v}"));
        }
        urls.extend(loaded(&s).await);
    }

    // Switched to Arabic in the visible menu: right to left, and the choice is kept.
    s.goto(&format!("{base}/report")).await;
    s.click("nav.langs a[lang=ar]").await;
    s.find("html[lang=ar]").await;
    assert_eq!(direction(&s, "body").await, "rtl");
    assert_eq!(direction(&s, "form.edit").await, "rtl");
    for v in serious_violations(&s, &axe).await {
        failures.push(format!("public form (ar): {v}"));
    }
    urls.extend(loaded(&s).await);
    let shot = |name: &'static str| {
        let s = &s;
        async move {
            if let Some(dir) = std::env::var_os("TOCSIN_SCREENSHOTS") {
                s.screenshot(&std::path::Path::new(&dir).join(name)).await;
            }
        }
    };
    s.goto(&format!("{base}/report")).await;
    s.find("html[lang=ar]").await;
    shot("report-form-ar.png").await;
    let arabic = "رجال مسلحون أحرقوا منازل في نيالا صباح اليوم";
    s.type_into("#report-text", arabic).await;
    s.type_into("#report-place", "نيالا").await;
    s.click("form.edit button[type=submit]").await;
    s.find("#ack").await;
    assert_eq!(direction(&s, "#ack").await, "rtl");
    let ack = s
        .script(
            "return document.getElementById('ack').textContent;",
            json!([]),
        )
        .await;
    let ack = ack.as_str().unwrap();
    assert!(
        ack.contains("شكرا لك. تم استلام بلاغك.") && ack.contains("R-"),
        "{ack}"
    );
    shot("report-ack-ar.png").await;
    urls.extend(loaded(&s).await);

    // Staff pages, logged in.
    s.login(&base, "ana", PASSWORD, "/").await;
    for (path, what) in [
        ("/".to_string(), "home"),
        ("/reports".into(), "reports"),
        ("/incidents".into(), "incidents"),
        (format!("/incidents/{incident}"), "incident"),
        ("/triage".into(), "triage"),
        (format!("/assessments/{assessment}/edit"), "assessment edit"),
        ("/alerts".into(), "alerts"),
        ("/map".into(), "map"),
    ] {
        s.goto(&format!("{base}{path}")).await;
        s.find("main").await;
        for v in serious_violations(&s, &axe).await {
            failures.push(format!("{what} ({path}): {v}"));
        }
        urls.extend(loaded(&s).await);
    }

    // A refused assessment edit: the typed text stays, the refused control has the focus and
    // the page has no serious violation either.
    s.goto(&format!("{base}/assessments/{assessment}/edit"))
        .await;
    s.script(
        "document.getElementById('level_9').value = 'high'; \
         document.getElementById('rationale_1').value = 'Typed in the browser';",
        json!([]),
    )
    .await;
    s.click("form.stack button[type=submit]").await;
    s.find("#form-error").await;
    let refused = s
        .script(
            "return [document.getElementById('form-error').textContent, \
                     document.activeElement.name, \
                     document.getElementById('rationale_1').value];",
            json!([]),
        )
        .await;
    assert!(
        refused[0].as_str().unwrap().starts_with("Risk factor 9 ("),
        "{refused}"
    );
    assert_eq!(refused[1], "rationale_9", "{refused}");
    assert_eq!(refused[2], "Typed in the browser", "{refused}");
    shot("assessment-refused.png").await;
    for v in serious_violations(&s, &axe).await {
        failures.push(format!("refused assessment edit: {v}"));
    }

    // The Arabic report and description are shown right to left in the staff's pages.
    s.goto(&format!("{base}/reports")).await;
    let rtl = s
        .script(
            "return [...document.querySelectorAll('td.text')] \
               .filter(td => td.textContent.includes(arguments[0])) \
               .map(td => getComputedStyle(td).direction);",
            json!([arabic]),
        )
        .await;
    assert_eq!(rtl, json!(["rtl"]), "the Arabic report's cell");
    s.goto(&format!("{base}/incidents/{incident}")).await;
    assert_eq!(direction(&s, "#description").await, "rtl");
    urls.extend(loaded(&s).await);

    // Arabic chosen on the account page: the staff pages are laid out right to left (the menu
    // starts at the right edge) and have no serious violation either.
    s.goto(&format!("{base}/account")).await;
    s.script(
        "document.getElementById('language-select').value = 'ar';",
        json!([]),
    )
    .await;
    s.click("#language-form button[type=submit]").await;
    s.find("html[lang=ar]").await;
    for (path, what) in [
        ("/".to_string(), "home (ar)"),
        ("/alerts".into(), "alerts (ar)"),
        (format!("/incidents/{incident}"), "incident (ar)"),
        (format!("/assessments/{assessment}"), "assessment (ar)"),
    ] {
        s.goto(&format!("{base}{path}")).await;
        s.find("html[lang=ar][dir=rtl]").await;
        assert_eq!(direction(&s, "main").await, "rtl", "{what}");
        let menu = s
            .script(
                "const b = document.querySelector('nav.top .brand').getBoundingClientRect(),                        o = document.querySelector('nav.top form button').getBoundingClientRect();                  return b.right > o.right;",
                json!([]),
            )
            .await;
        assert_eq!(menu, json!(true), "{what}: the menu reads from the right");
        for v in serious_violations(&s, &axe).await {
            failures.push(format!("{what} ({path}): {v}"));
        }
        urls.extend(loaded(&s).await);
    }
    shot("assessment-ar.png").await;
    s.quit().await;

    assert!(
        failures.is_empty(),
        "serious or critical accessibility violations:\n{}",
        failures.join("\n")
    );
    let foreign: Vec<&String> = urls
        .iter()
        .filter(|u| !u.starts_with(&format!("{base}/")))
        .collect();
    assert!(urls.len() > 20, "{urls:?}");
    assert!(foreign.is_empty(), "requests to other hosts: {foreign:?}");
}
