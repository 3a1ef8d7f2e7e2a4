//! The broadcast composer in headless Chromium (software WebGL2 through SwiftShader) against a
//! real `tocsin serve` sending through a fake Kannel: an analyst draws the area with clicks on
//! the offline map and sees the figures (subscribers in the area, test phones, km²), writes
//! a TEST broadcast; TEST and LIVE look unmistakably different on the composer, the list and
//! a broadcast's page; the author has no approve button and the server refuses a forced
//! approval; a second analyst approves and the page shows the messages counted as they go to
//! the test phones, and only to them; no request of the pages or of MapLibre's worker went to
//! any host but the server (Chromium sends everything through a recording proxy).

mod common;

use common::browser::*;
use common::*;
use serde_json::{json, Value};
use std::time::Duration;

const PASSWORD: &str = "a long test password";
const TEST_PHONES: [&str; 2] = ["+23670990001", "+23670990002"];

/// Click at the point `[lon, lat]` of the composer's map, as a person does (WebDriver
/// pointer actions at the pixel MapLibre draws that point at).
async fn click_map_at(s: &Session, lon: f64, lat: f64) {
    let xy = s
        .script(
            "const m = window.tocsinComposeMap, r = m.getCanvas().getBoundingClientRect(); \
             const p = m.project([arguments[0], arguments[1]]); \
             return [Math.round(r.left + p.x), Math.round(r.top + p.y)];",
            json!([lon, lat]),
        )
        .await;
    let (x, y) = (xy[0].as_i64().unwrap(), xy[1].as_i64().unwrap());
    s.cmd(
        reqwest::Method::POST,
        "/actions",
        Some(json!({"actions": [{"type": "pointer", "id": "mouse",
            "parameters": {"pointerType": "mouse"},
            "actions": [{"type": "pointerMove", "duration": 0, "x": x, "y": y, "origin": "viewport"},
                        {"type": "pointerDown", "button": 0}, {"type": "pause", "duration": 50},
                        {"type": "pointerUp", "button": 0}]}]})),
    )
    .await;
    // Apart enough that two clicks are never a double click.
    tokio::time::sleep(Duration::from_millis(400)).await;
}

/// Wait (up to 30 s) until the figures of the area as it stands are shown; the figures.
async fn figures(s: &Session) -> Value {
    for _ in 0..300 {
        let v = s
            .script(
                "const d = document.getElementById('estimate').dataset; \
                 return {pending: d.pending, loads: Number(d.loads || 0), recipients: d.recipients, \
                   subscribers: d.subscribers, km2: d.km2, corners: d.corners, \
                   text: document.getElementById('estimate').textContent};",
                json!([]),
            )
            .await;
        if v["pending"] != "true" && v["loads"].as_u64().unwrap_or(0) > 0 {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the composer did not show the figures");
}

/// Wait (up to 30 s) until the composer's map has loaded.
async fn map_ready(s: &Session) {
    s.find("#area-map canvas").await;
    for _ in 0..300 {
        let ready = s
            .script(
                "const d = document.getElementById('area-map').dataset; \
                 return d.mapError ? 'error: ' + d.mapError : d.ready === 'true';",
                json!([]),
            )
            .await;
        if let Some(e) = ready.as_str() {
            panic!("the composer's map failed: {e}");
        }
        if ready == json!(true) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the composer's map did not load");
}

/// The computed background colour of the element `css` selects.
async fn background(s: &Session, css: &str) -> String {
    s.script(
        "return getComputedStyle(document.querySelector(arguments[0])).backgroundColor + ' ' + \
                getComputedStyle(document.querySelector(arguments[0])).backgroundImage;",
        json!([css]),
    )
    .await
    .as_str()
    .unwrap()
    .to_string()
}

async fn text_of(s: &Session, css: &str) -> String {
    s.script(
        "const e = document.querySelector(arguments[0]); return e ? e.textContent : null;",
        json!([css]),
    )
    .await
    .as_str()
    .unwrap_or("")
    .to_string()
}

#[tokio::test]
async fn an_analyst_draws_a_test_broadcast_and_a_second_person_sends_it() {
    let Some((driver, chromium)) = browser() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (sendsms, sent) = fake_kannel().await;
    let cfg = broadcast_config(d, &sendsms, 40, &TEST_PHONES);
    let ana = add_user_with_password(d, "ana", "analyst", PASSWORD);
    add_user_with_password(d, "bo", "analyst", PASSWORD);
    let admin = add_user_with_password(d, "root", "admin", PASSWORD);
    let server = serve_with_config(d, &cfg);
    let base = server.base.clone();
    let api = reqwest::Client::new();

    // Subscribers: three in Bambari (inside the area drawn below), two in Bria and one in
    // Bangui (outside).
    let mut numbers = Vec::new();
    for (i, place) in ["Bambari", "Bambari", "Bambari", "Bria", "Bria", "Bangui"]
        .iter()
        .enumerate()
    {
        let phone = format!("+2367220{:04}", i + 1);
        let r = api
            .post(format!("{base}/api/v1/subscribers"))
            .bearer_auth(&admin)
            .json(&json!({"phone": phone, "place": place, "country": "CAF", "language": "fr"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        numbers.push(phone);
    }
    // A LIVE broadcast written through the API, to tell the modes apart on the list.
    let r: Value = api
        .post(format!("{base}/api/v1/broadcasts"))
        .bearer_auth(&ana)
        .json(&json!({"mode": "live", "texts": {"fr": "Exercice"},
                      "area": {"countries": ["CAF"]}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let live = r["id"]
        .as_str()
        .expect("live broadcast written")
        .to_string();

    let drv = start_driver(&driver).await;
    let proxy = start_proxy(&base).await;
    let mut args: Vec<String> = SOFTWARE_GL.iter().map(|s| s.to_string()).collect();
    args.extend(QUIET.iter().map(|s| s.to_string()));
    args.push(format!("--proxy-server=http://127.0.0.1:{}", proxy.port));
    args.push("--proxy-bypass-list=<-loopback>".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let profile = tempfile::tempdir().unwrap();
    let s = Session::start(&drv, &chromium, profile.path(), &args).await;
    s.login(&base, "ana", PASSWORD, "/broadcasts/new").await;

    // The composer: TEST preselected, its banner striped yellow; LIVE turns it red.
    s.goto(&format!("{base}/broadcasts/new")).await;
    map_ready(&s).await;
    let test_banner = background(&s, "#mode-banner").await;
    assert!(
        text_of(&s, "#mode-banner").await.starts_with("TEST"),
        "{test_banner}"
    );
    assert!(
        test_banner.contains("repeating-linear-gradient"),
        "{test_banner}"
    );
    s.click("input[name=mode][value=live]").await;
    let live_banner = background(&s, "#mode-banner").await;
    assert!(text_of(&s, "#mode-banner").await.starts_with("LIVE"));
    assert!(live_banner.starts_with("rgb(179, 38, 30)"), "{live_banner}");
    let live_button = text_of(&s, "button[value=create]").await;
    assert!(live_button.contains("LIVE"), "{live_button}");
    s.click("input[name=mode][value=test]").await;
    assert!(text_of(&s, "button[value=create]").await.contains("TEST"));

    // Draw a square around Bambari with four clicks, a fifth by mistake, undone.
    s.type_into("textarea[name=text_fr]", "Exercice : restez calmes.")
        .await;
    s.script(
        "document.getElementById('area-map').scrollIntoView({block: 'center'}); \
         window.tocsinComposeMap.jumpTo({center: [20.7, 5.8], zoom: 7});",
        json!([]),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let square = [(20.4, 5.5), (21.0, 5.5), (21.0, 6.1), (20.4, 6.1)];
    for (lon, lat) in square {
        click_map_at(&s, lon, lat).await;
    }
    click_map_at(&s, 20.2, 5.9).await;
    assert_eq!(text_of(&s, "#draw-status").await, "5 corners");
    assert_eq!(
        figures(&s).await["corners"],
        "6",
        "five corners and the closing one"
    );
    s.click("#undo-corner").await;
    assert_eq!(text_of(&s, "#draw-status").await, "4 corners");
    let fig = figures(&s).await;
    let typed = s
        .script(
            "return document.querySelector('textarea[name=polygon]').value;",
            json!([]),
        )
        .await;
    let typed: Vec<(f64, f64)> = typed
        .as_str()
        .unwrap()
        .lines()
        .map(|l| {
            let (a, b) = l.split_once(',').unwrap();
            (a.trim().parse().unwrap(), b.trim().parse().unwrap())
        })
        .collect();
    assert_eq!(typed.len(), 4, "the drawn corners fill the typed field");
    for ((lat, lon), (want_lon, want_lat)) in typed.iter().zip(square) {
        assert!(
            (lat - want_lat).abs() < 0.01 && (lon - want_lon).abs() < 0.01,
            "{typed:?}"
        );
    }
    assert_eq!(
        s.script(
            "return document.querySelector('input[name=area_kind]:checked').value;",
            json!([])
        )
        .await,
        "polygon"
    );
    // The figures: 2 test phones; 3 subscribers inside; ~66 km × ~66 km.
    assert_eq!(fig["recipients"], "2", "{fig}");
    assert_eq!(fig["subscribers"], "3", "{fig}");
    assert_eq!(fig["corners"], "5", "a closed ring of four corners: {fig}");
    let km2: f64 = fig["km2"].as_str().unwrap().parse().unwrap();
    assert!((km2 - 4410.0).abs() < 150.0, "{km2}");
    let text = fig["text"].as_str().unwrap();
    assert!(
        text.contains("TEST: the staff test phones only") && text.contains("through kannel"),
        "{text}"
    );
    // The simplified polygon the server would store is drawn too.
    let drawn = s
        .script_async(
            "const done = arguments[arguments.length - 1]; \
             window.tocsinComposeMap.getSource('simplified').getData() \
               .then(d => done([d.geometry.type, d.geometry.coordinates[0][0].length]));",
            json!([]),
        )
        .await;
    assert_eq!(drawn, json!(["MultiPolygon", 5]));
    if let Some(dir) = std::env::var_os("TOCSIN_SCREENSHOTS") {
        s.screenshot(&std::path::Path::new(&dir).join("broadcast-compose.png"))
            .await;
    }

    // Write it: the broadcast's page, TEST, no approve button for its author.
    s.click("button[value=create]").await;
    let mut url = s.current_url().await;
    for _ in 0..100 {
        if url
            .rsplit('/')
            .next()
            .is_some_and(|id| uuid::Uuid::parse_str(id).is_ok())
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        url = s.current_url().await;
    }
    let id = url
        .rsplit('/')
        .next()
        .filter(|id| uuid::Uuid::parse_str(id).is_ok())
        .unwrap_or_else(|| panic!("writing leads to the broadcast's page, not {url}"))
        .to_string();
    s.find("#own-note").await;
    assert!(text_of(&s, "#mode-banner").await.starts_with("TEST"));
    assert!(background(&s, "#mode-banner")
        .await
        .contains("repeating-linear-gradient"));
    let title = s.script("return document.title;", json!([])).await;
    assert!(
        title.as_str().unwrap().starts_with("TEST broadcast"),
        "{title}"
    );
    assert_eq!(
        s.script(
            "return document.querySelectorAll('#approve-form, form[action$=\"/approve\"]').length;",
            json!([])
        )
        .await,
        0,
        "the author has no approve button"
    );
    // Forced anyway (the form the page does not show, with the page's CSRF token): refused.
    let forced = s
        .script_async(
            "const done = arguments[arguments.length - 1]; \
             const csrf = document.querySelector('input[name=csrf]').value; \
             fetch(location.pathname + '/approve', {method: 'POST', credentials: 'same-origin', \
               headers: {'Content-Type': 'application/x-www-form-urlencoded'}, \
               body: 'csrf=' + encodeURIComponent(csrf)}) \
             .then(r => r.text().then(t => done([r.status, t.includes('second person')])));",
            json!([]),
        )
        .await;
    assert_eq!(forced, json!([403, true]), "the server refuses");
    // The list: the LIVE and TEST rows look different.
    s.goto(&format!("{base}/broadcasts")).await;
    let row_live = background(&s, &format!("#broadcast-{live} .mode-badge")).await;
    let row_test = background(&s, &format!("#broadcast-{id} .mode-badge")).await;
    assert_ne!(row_live, row_test);
    assert_eq!(
        text_of(&s, &format!("#broadcast-{live} .mode-badge")).await,
        "LIVE"
    );
    assert_eq!(
        text_of(&s, &format!("#broadcast-{id} .mode-badge")).await,
        "TEST"
    );
    s.goto(&format!("{base}/broadcasts/{live}")).await;
    assert!(text_of(&s, "#mode-banner").await.starts_with("LIVE"));
    assert!(background(&s, "#mode-banner")
        .await
        .starts_with("rgb(179, 38, 30)"));
    // A circle: a click on the map sets its centre (radius 10 km unless typed).
    s.goto(&format!("{base}/broadcasts/new")).await;
    map_ready(&s).await;
    s.click("input[name=area_kind][value=circle]").await;
    s.script(
        "document.getElementById('area-map').scrollIntoView({block: 'center'}); \
         window.tocsinComposeMap.jumpTo({center: [20.67, 5.76], zoom: 8});",
        json!([]),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    click_map_at(&s, 20.67, 5.76).await;
    let centre = s
        .script(
            "const f = document.getElementById('composer').elements; \
             return [Number(f.lat.value), Number(f.lon.value), f.radius_km.value];",
            json!([]),
        )
        .await;
    assert!(
        (centre[0].as_f64().unwrap() - 5.76).abs() < 0.01
            && (centre[1].as_f64().unwrap() - 20.67).abs() < 0.01
            && centre[2] == "10",
        "{centre}"
    );
    let fig = figures(&s).await;
    assert_eq!(fig["subscribers"], "3", "{fig}");
    let km2: f64 = fig["km2"].as_str().unwrap().parse().unwrap();
    assert!((km2 - 314.0).abs() < 2.0, "a 10 km circle: {km2}");
    s.quit().await;

    // Without WebGL the map is not drawn: the typed corners are the area, with the same
    // figures.
    let profile3 = tempfile::tempdir().unwrap();
    let mut no_gl: Vec<&str> = args
        .iter()
        .copied()
        .filter(|a| !a.starts_with("--use-") && !a.starts_with("--enable-unsafe"))
        .collect();
    no_gl.push("--disable-3d-apis");
    let s = Session::start(&drv, &chromium, profile3.path(), &no_gl).await;
    s.login(&base, "ana", PASSWORD, "/broadcasts/new").await;
    s.goto(&format!("{base}/broadcasts/new")).await;
    s.find("#draw-fallback:not([hidden])").await;
    assert_eq!(
        s.script(
            "return document.getElementById('area-draw').hidden;",
            json!([])
        )
        .await,
        true
    );
    s.click("input[name=area_kind][value=polygon]").await;
    s.type_into(
        "textarea[name=polygon]",
        "5.5, 20.4\n5.5, 21.0\n6.1, 21.0\n6.1, 20.4",
    )
    .await;
    let fig = figures(&s).await;
    assert_eq!(fig["subscribers"], "3", "{fig}");
    assert_eq!(fig["recipients"], "2", "{fig}");
    // First-level areas as people write them: read as the gazetteer names them, or refused
    // with what they may mean.
    s.click("input[name=area_kind][value=admin1]").await;
    s.type_into("textarea[name=admin1]", "CAF: préfecture de la OUAKA")
        .await;
    let fig = figures(&s).await;
    assert_eq!(fig["subscribers"], "3", "{fig}");
    assert_eq!(text_of(&s, "#estimate-areas").await, "Ouaka (CAF)");
    s.script(
        "const t = document.querySelector('textarea[name=admin1]'); t.value = ''; \
         t.dispatchEvent(new Event('input', {bubbles: true}));",
        json!([]),
    )
    .await;
    s.type_into("textarea[name=admin1]", "CAF: Ouakka").await;
    let fig = figures(&s).await;
    let text = fig["text"].as_str().unwrap();
    assert!(
        text.contains("no first-level area \"Ouakka\" is known in CAF")
            && text.contains("did you mean Ouaka"),
        "{fig}"
    );
    s.quit().await;
    assert!(
        sent.lock()
            .unwrap()
            .iter()
            .all(|(_, t)| !t.contains("Exercice")),
        "nothing is sent before a second person approves"
    );

    // A second analyst approves on the page; it counts the messages as they go.
    let profile2 = tempfile::tempdir().unwrap();
    let s = Session::start(&drv, &chromium, profile2.path(), &args).await;
    s.login(&base, "bo", PASSWORD, &format!("/broadcasts/{id}"))
        .await;
    s.goto(&format!("{base}/broadcasts/{id}")).await;
    let button = text_of(&s, "#approve-form button").await;
    assert!(
        button.contains("TEST") && button.contains("2 recipients"),
        "{button}"
    );
    s.click("#approve-form button").await;
    let mut counts = Value::Null;
    for _ in 0..60 {
        s.goto(&format!("{base}/broadcasts/{id}")).await;
        counts = s
            .script(
                "const n = id => Number(document.getElementById(id).textContent); \
                 return {state: document.querySelector('h1').textContent, \
                   queued: n('count-queued'), sent: n('count-sent'), failed: n('count-failed'), \
                   body: document.body.textContent};",
                json!([]),
            )
            .await;
        if counts["state"] == "TEST broadcast: sent" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(
        counts["state"], "TEST broadcast: sent",
        "the page follows the broadcast to its end"
    );
    assert_eq!(counts["sent"], 2);
    assert_eq!(counts["queued"], 0);
    assert_eq!(counts["failed"], 0);
    let body = counts["body"].as_str().unwrap();
    assert!(body.contains("approved by bo"), "{body}");
    for n in numbers.iter().map(String::as_str).chain(TEST_PHONES) {
        assert!(!body.contains(&n[4..]), "a number on the page");
    }
    s.quit().await;

    // The test phones got it once each; no subscriber did.
    let out: Vec<(String, String)> = sent
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, t)| t.contains("Exercice : restez calmes."))
        .cloned()
        .collect();
    let mut to: Vec<&str> = out
        .iter()
        .map(|(to, _)| to.trim_start_matches('+'))
        .collect();
    to.sort();
    assert_eq!(
        to,
        TEST_PHONES
            .iter()
            .map(|p| p.trim_start_matches('+'))
            .collect::<Vec<_>>(),
        "{out:?}"
    );

    // Nothing but this server: pages, MapLibre's worker, tiles and glyphs.
    let seen = proxy.seen.lock().unwrap().clone();
    assert_only_the_server(&base, &seen);
}
