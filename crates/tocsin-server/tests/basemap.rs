//! The offline basemap and the map's filters over real HTTP: vector tiles from the embedded
//! PMTiles archive, label glyphs and MapLibre GL JS from Tocsin's own origin (with a CSP that
//! allows no `blob:` worker and no `eval`), the map endpoints' date and event-type filters
//! (a bad one is a 400 naming it) and the incident counts per admin-1 area that shade the map.

mod common;

use common::*;
use std::io::Read;
use tocsin_domain::{Role, Tlp};

/// The tile holding Sudan at zoom 4 (x 9, y 7 covers 22.5–45° E, 0–21.9° N).
const SUDAN_Z4: &str = "/tiles/4/9/7.mvt";

async fn get(app: &TestApp, path: &str, gzip: bool) -> reqwest::Response {
    let mut req = app.client.get(format!("{}{}", app.base, path));
    if gzip {
        req = req.header("accept-encoding", "gzip");
    }
    req.send().await.unwrap()
}

fn gunzip(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(b)
        .read_to_end(&mut out)
        .expect("gzip");
    out
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn tiles_come_from_the_embedded_archive() {
    let app = TestApp::start().await;
    // Plain: an MVT (a protobuf whose first field is a layer: tag 3, length-delimited).
    let r = get(&app, SUDAN_Z4, false).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"],
        tocsin_server::basemap::MVT_CONTENT_TYPE
    );
    assert!(r.headers().get("content-encoding").is_none());
    let plain = r.bytes().await.unwrap().to_vec();
    assert_eq!(plain[0], 0x1a, "an MVT starts with a layer");
    for name in [
        "countries",
        "admin1",
        "labels",
        "places",
        "Khartoum",
        "Sudan",
    ] {
        assert!(contains(&plain, name), "the Sudan tile names {name}");
    }
    // A client that accepts gzip gets the archive's gzip bytes as they are.
    let r = get(&app, SUDAN_Z4, true).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-encoding"], "gzip");
    assert!(r.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("public"));
    assert_eq!(gunzip(&r.bytes().await.unwrap()), plain);
    // The world tile.
    assert_eq!(get(&app, "/tiles/0/0/0.mvt", false).await.status(), 200);
    // Beyond the archive's zoom range: no such tile (MapLibre overzooms z6).
    let r = get(&app, "/tiles/7/75/56.mvt", false).await;
    assert_eq!(r.status(), 404);
    // Not a tile of the pyramid: a 400 naming the coordinate.
    for (path, field) in [
        ("/tiles/40/0/0.mvt", "z"),
        ("/tiles/x/0/0.mvt", "z"),
        ("/tiles/1/2/0.mvt", "x"),
        ("/tiles/1/-1/0.mvt", "x"),
        ("/tiles/1/0/2.mvt", "y"),
        ("/tiles/1/0/zero.mvt", "y"),
    ] {
        let r = get(&app, path, false).await;
        assert_eq!(r.status(), 400, "{path}");
        let e: serde_json::Value = r.json().await.unwrap();
        assert_eq!(e["field"], field, "{path}: {e}");
    }
}

#[tokio::test]
async fn glyphs_and_maplibre_come_from_this_origin() {
    let app = TestApp::start().await;
    let r = get(&app, "/glyphs/Noto%20Sans%20Regular/0-255.pbf", false).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/x-protobuf");
    assert!(r.bytes().await.unwrap().len() > 10_000);
    // A stack is answered by its first font Tocsin has.
    let r = get(
        &app,
        "/glyphs/Open%20Sans%20Bold,Noto%20Sans%20Regular/256-511.pbf",
        false,
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        get(&app, "/glyphs/Noto%20Sans%20Regular/59392-59647.pbf", false)
            .await
            .status(),
        404
    );
    for (file, ctype, marker) in [
        ("maplibre-gl.js", "text/javascript", "setWorkerUrl"),
        ("maplibre-gl-worker.js", "text/javascript", "self"),
        ("maplibre-gl.css", "text/css", ".maplibregl-map"),
    ] {
        let r = get(&app, &format!("/assets/maplibre/{file}"), false).await;
        assert_eq!(r.status(), 200, "{file}");
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with(ctype));
        assert!(r.text().await.unwrap().contains(marker), "{file}");
    }
    assert_eq!(
        get(&app, "/assets/maplibre/other.js", false).await.status(),
        404
    );
    // The map page loads MapLibre and its worker from here, under a CSP without blob: or eval.
    let r = get(&app, "/map", false).await;
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("default-src 'self'"), "{csp}");
    assert!(
        !csp.contains("blob:") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
}

#[tokio::test]
async fn map_filters_and_admin1_counts() {
    let app = TestApp::start().await;
    let vac = ("Violence against civilians", "Attack");
    let battle = ("Battles", "Armed clash");
    // El Fasher (North Darfur) twice, Khartoum once, Nyala (South Darfur) once above a
    // viewer's clearance.
    app.incident(Tlp::Green, "SDN", "2025-03-01", 13.63, 25.35, vac)
        .await;
    app.incident(Tlp::Green, "SDN", "2025-05-01", 13.62, 25.36, battle)
        .await;
    app.incident(Tlp::Clear, "SDN", "2025-05-02", 15.50, 32.56, vac)
        .await;
    app.incident(Tlp::Red, "SDN", "2025-05-03", 12.05, 24.88, vac)
        .await;
    let counts = |v: &serde_json::Value| -> Vec<(String, u64)> {
        v["areas"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                assert_eq!(a["country"], "SDN", "{a}");
                (
                    a["admin1"].as_str().unwrap().to_string(),
                    a["count"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let (s, all) = app.get(Role::Viewer, "/api/v1/incidents/map/admin1").await;
    assert_eq!(s, 200, "{all}");
    assert_eq!(
        counts(&all),
        [("Northern Darfur".into(), 2), ("Khartoum".into(), 1)],
        "the basemap's `a1` names: {all}"
    );
    assert_eq!(all["total"], 3);
    let (_, analyst) = app.get(Role::Analyst, "/api/v1/incidents/map/admin1").await;
    assert_eq!(
        analyst["total"], 4,
        "the analyst sees the RED one: {analyst}"
    );
    // The date range and the event type narrow both endpoints alike.
    let (_, may) = app
        .get(
            Role::Viewer,
            "/api/v1/incidents/map/admin1?from=2025-04-01&to=2025-05-31",
        )
        .await;
    assert_eq!(
        counts(&may),
        [("Khartoum".into(), 1), ("Northern Darfur".into(), 1)]
    );
    let (_, battles) = app
        .get(
            Role::Viewer,
            "/api/v1/incidents/map/admin1?event_type=Battles",
        )
        .await;
    assert_eq!(counts(&battles), [("Northern Darfur".into(), 1)]);
    let (_, clusters) = app
        .get(
            Role::Viewer,
            "/api/v1/incidents/map?zoom=2&from=2025-04-01&event_type=Violence%20against%20civilians",
        )
        .await;
    assert_eq!(clusters["total"], 1, "{clusters}");
    // A bad parameter: 400 naming it, on both endpoints.
    for path in ["/api/v1/incidents/map", "/api/v1/incidents/map/admin1"] {
        for (q, field) in [
            ("from=2025-13-01", "from"),
            ("to=soon", "to"),
            ("from=2025-06-01&to=2025-05-01", "to"),
            ("event_type=Picnics", "event_type"),
            ("zoom=21", "zoom"),
            ("colour=red", "colour"),
        ] {
            let (s, e) = app.get(Role::Viewer, &format!("{path}?{q}")).await;
            assert_eq!(s, 400, "{path}?{q}: {e}");
            assert_eq!(e["field"], field, "{path}?{q}: {e}");
        }
    }
    // The map page prefills its filter form from its own query.
    let (s, _) = app.get(Role::Viewer, "/map").await;
    assert!(s.is_success() || s.is_redirection());
}
