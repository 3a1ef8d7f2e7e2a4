//! Tocsin-to-Tocsin exchange by file, through the real binary on two installations: A on a
//! SQLite file (served, so a warner can text it and an analyst record incidents), B on
//! PostgreSQL (a second SQLite file when `TOCSIN_TEST_POSTGRES_URL` is unset; required with
//! `TOCSIN_REQUIRE_POSTGRES=1`). Each adds the other as a partner with the key its `tocsin
//! share key` prints (an analyst may not). A's signed bundle for B carries its verified GREEN
//! and AMBER incidents about the partner's country, never the RED, AMBER+STRICT, unverified
//! or other-country ones, and no byte of the warner's handle, number or words. On B: a bundle
//! with one byte changed, one signed by another partner's key and one made for another
//! organisation are refused whole with nothing stored (exit 2); the genuine one stores two
//! incidents, again stores nothing new; an update on A supersedes; a record relabelled TLP:RED on A
//! is retracted on B; an AMBER+STRICT incident the analyst names "UN office" on (`tocsin incident
//! share-with`) then reaches B, and no other partner. Every record sent and received is audited
//! with the bundle's SHA-256 and signature.

mod common;

use common::*;
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;

const SECRET: &str = "kannel-inbound-secret-0123456789";
const PHONE: &str = "+23670012345";
const WORDS: &str = "WARNERWORDS attaque au marche de Bozoum";

fn config_a(dir: &Path) -> String {
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let path = dir.join("tocsin.toml");
    std::fs::write(
        &path,
        format!(
            "[organisation]\nname = \"Early Warning NGO\"\n[verification]\nrequired_tasks = []\n\
             [sms]\ndefault_calling_code = \"236\"\n[sms.kannel]\n\
             sendsms_url = \"http://{dead}/cgi-bin/sendsms\"\nusername = \"tocsin\"\n\
             password = \"pw\"\nfrom = \"1234\"\ninbound_secret = \"{SECRET}\"\n"
        ),
    )
    .unwrap();
    path.display().to_string()
}

async fn call(token: &str, m: reqwest::Method, url: String, body: Option<Value>) -> Value {
    let mut r = reqwest::Client::new().request(m, &url).bearer_auth(token);
    if let Some(b) = body {
        r = r.json(&b);
    }
    let resp = r.send().await.unwrap();
    let status = resp.status();
    let v: Value = resp.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{url}: {status} {v}");
    v
}

async fn verify(base: &str, token: &str, id: &str, state: &str) {
    call(
        token,
        reqwest::Method::POST,
        format!("{base}/api/v1/incidents/{id}/verification"),
        Some(json!({"state": state, "reason": "checked against two sources"})),
    )
    .await;
}

/// An incident recorded on A, linked to the warner's report, verified unless `verified` is
/// false.
async fn incident(
    base: &str,
    token: &str,
    desc: &str,
    tlp: &str,
    country: &str,
    report: &str,
    verified: bool,
) -> String {
    let (lat, lon) = if country == "KEN" {
        (-1.28, 36.82)
    } else {
        (6.32, 16.38)
    };
    let i = call(
        token,
        reqwest::Method::POST,
        format!("{base}/api/v1/incidents"),
        Some(
            json!({"event_date": "2026-11-20", "event_type": "Violence against civilians",
            "sub_event_type": "Attack", "country": country, "latitude": lat, "longitude": lon,
            "fatalities": 4, "description": desc, "tlp": tlp, "report_ids": [report]}),
        ),
    )
    .await;
    let id = i["id"].as_str().unwrap().to_string();
    if verified {
        verify(base, token, &id, "corroborated").await;
        verify(base, token, &id, "verified").await;
    }
    id
}

/// The bundle's payload (after its header line) passes the OASIS STIX validator, when
/// `stix2-validator` is installed (required with `TOCSIN_REQUIRE_STIX=1`).
fn validate_payload(bundle: &Path) {
    let has = Command::new("python3")
        .args(["-c", "import stix2validator"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has {
        assert!(
            std::env::var("TOCSIN_REQUIRE_STIX").as_deref() != Ok("1"),
            "TOCSIN_REQUIRE_STIX=1 but stix2-validator is not installed"
        );
        eprintln!("skipping the STIX validator: pip install stix2-validator stix2");
        return;
    }
    let bytes = std::fs::read(bundle).unwrap();
    let at = bytes.iter().position(|b| *b == b'\n').unwrap() + 1;
    let payload = bundle.with_extension("json");
    std::fs::write(&payload, &bytes[at..]).unwrap();
    let out = Command::new("python3")
        .args([
            "-c",
            "import sys; from stix2validator import validate_file, print_results; \
             r = validate_file(sys.argv[1]); print_results(r); sys.exit(0 if r.is_valid else 1)",
        ])
        .arg(&payload)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_bundles_between_two_installations() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    let pg = fresh_postgres("tocsin_partner_share").await;
    let bdb = pg.as_deref();
    let cfg = config_a(&a);
    let on_a = |args: &[&str]| {
        let mut all = vec!["--config", cfg.as_str()];
        all.extend_from_slice(args);
        tocsin(&a, None, &all)
    };
    let on_b = |args: &[&str]| tocsin(&b, bdb, args);
    run_ok(on_b(&["migrate"]));

    // A: a warner texts; an analyst records incidents from the report.
    let ana = add_user(&a, None, "ana", "analyst");
    let server = Server::spawn({
        let mut c = on_a(&["serve", "--listen", "127.0.0.1:0"]);
        c.stderr(std::process::Stdio::inherit());
        c
    });
    let base = server.base.clone();
    let r = reqwest::get(format!(
        "{base}/sms/kannel?secret={SECRET}&sender=%2B23670012345&to=1234&id=k-1&message={}",
        WORDS.replace(' ', "+")
    ))
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let sources = call(
        &ana,
        reqwest::Method::GET,
        format!("{base}/api/v1/sources"),
        None,
    )
    .await;
    let handle = sources["items"][0]["handle"].as_str().unwrap().to_string();
    let reports = call(
        &ana,
        reqwest::Method::GET,
        format!("{base}/api/v1/reports"),
        None,
    )
    .await;
    let report = reports["items"][0]["id"].as_str().unwrap().to_string();
    let green = incident(
        &base,
        &ana,
        "GREEN-INCIDENT market",
        "TLP:GREEN",
        "CAF",
        &report,
        true,
    )
    .await;
    let amber = incident(
        &base,
        &ana,
        "AMBER-INCIDENT road",
        "TLP:AMBER",
        "CAF",
        &report,
        true,
    )
    .await;
    incident(
        &base,
        &ana,
        "RED-INCIDENT lists",
        "TLP:RED",
        "CAF",
        &report,
        true,
    )
    .await;
    let strict = incident(
        &base,
        &ana,
        "STRICT-INCIDENT camp",
        "TLP:AMBER+STRICT",
        "CAF",
        &report,
        true,
    )
    .await;
    incident(
        &base,
        &ana,
        "UNVERIFIED-INCIDENT rumour",
        "TLP:GREEN",
        "CAF",
        &report,
        false,
    )
    .await;
    incident(
        &base,
        &ana,
        "KENYA-INCIDENT elsewhere",
        "TLP:GREEN",
        "KEN",
        &report,
        true,
    )
    .await;

    // Keys, and partners both ways (an analyst may not add one).
    let key_a = run_ok(on_a(&["share", "key"])).trim().to_string();
    let key_b = run_ok(on_b(&["share", "key"])).trim().to_string();
    assert_eq!(key_a.len(), 44, "{key_a}");
    assert_ne!(key_a, key_b);
    assert_eq!(run_ok(on_a(&["share", "key"])).trim(), key_a, "made once");
    let (c, _, err) = code(on_a(&[
        "partner",
        "add",
        "UN office",
        "--url",
        "https://tocsin.un.example",
        "--key",
        &key_b,
        "--max-tlp",
        "TLP:AMBER",
        "--user",
        "ana",
    ]));
    assert_eq!(c, 3, "{err}");
    let (c, _, err) = code(on_a(&[
        "partner",
        "add",
        "UN office",
        "--url",
        "https://tocsin.un.example",
        "--key",
        &key_b,
        "--max-tlp",
        "TLP:RED",
    ]));
    assert_eq!(c, 5, "{err}");
    run_ok(on_a(&[
        "partner",
        "add",
        "UN office",
        "--url",
        "https://tocsin.un.example",
        "--key",
        &key_b,
        "--max-tlp",
        "TLP:AMBER+STRICT",
        "--country",
        "CAF",
    ]));
    // A partner whose key is A's own: bundles for it are not for B.
    run_ok(on_a(&[
        "partner",
        "add",
        "Elsewhere",
        "--url",
        "https://tocsin.elsewhere.example",
        "--key",
        &key_a,
        "--max-tlp",
        "TLP:GREEN",
    ]));
    let listed = run_ok(on_a(&["partner", "list"]));
    assert!(
        listed.contains("UN office\tTLP:AMBER+STRICT\tCAF\thttps://tocsin.un.example"),
        "{listed}"
    );
    run_ok(on_b(&[
        "partner",
        "add",
        "Early Warning NGO",
        "--url",
        "http://127.0.0.1:9",
        "--key",
        &key_a,
        "--max-tlp",
        "TLP:GREEN",
    ]));
    run_ok(on_b(&[
        "partner",
        "add",
        "Other NGO",
        "--url",
        "https://other.example",
        "--key",
        &key_b,
        "--max-tlp",
        "TLP:GREEN",
    ]));

    // Nothing is sent before an admin previews and approves a partner's terms.
    let (c, _, err) = code(on_a(&[
        "share",
        "export",
        "--partner",
        "UN office",
        "--out",
        tmp.path().join("early.tocsin").to_str().unwrap(),
    ]));
    assert_eq!(c, 5, "{err}");
    assert!(err.contains("approves its terms"), "{err}");
    assert!(!tmp.path().join("early.tocsin").exists());
    let preview = run_ok(on_a(&["partner", "preview", "UN office"]));
    assert!(
        preview.contains("UN office: 2 incidents (TLP:GREEN 1, TLP:AMBER 1)"),
        "{preview}"
    );
    assert!(preview.contains("GREEN-INCIDENT market") && !preview.contains("STRICT-INCIDENT"));
    let (c, _, err) = code(on_a(&[
        "partner",
        "approve",
        "UN office",
        "--terms",
        "0000",
    ]));
    assert_eq!(c, 6, "{err}");
    assert!(err.contains("preview them again"), "{err}");
    approve_terms(on_a, "UN office");
    approve_terms(on_a, "Elsewhere");
    approve_terms(on_b, "Early Warning NGO");

    // Export from A: GREEN and AMBER about CAF only; nothing of the warner.
    let bundle = tmp.path().join("bundle-1.tocsin");
    let sha1 = run_ok(on_a(&[
        "share",
        "export",
        "--partner",
        "UN office",
        "--out",
        bundle.to_str().unwrap(),
    ]));
    let bytes = std::fs::read(&bundle).unwrap();
    let text = String::from_utf8_lossy(&bytes).to_string();
    for yes in [
        "GREEN-INCIDENT market",
        "AMBER-INCIDENT road",
        "\"partner\":\"UN office\"",
    ] {
        assert!(text.contains(yes), "{yes} missing");
    }
    for no in [
        "RED-INCIDENT",
        "STRICT-INCIDENT",
        "UNVERIFIED-INCIDENT",
        "KENYA-INCIDENT",
    ] {
        assert!(!text.contains(no), "{no} crossed");
    }
    for secret in [
        handle.as_str(),
        PHONE,
        "23670012345",
        "70012345",
        "WARNERWORDS",
        "attaque au marche",
        &report,
    ] {
        assert!(!text.contains(secret), "{secret:?} crossed");
    }
    let payload_at = bytes.iter().position(|b| *b == b'\n').unwrap() + 1;
    let header: Value = serde_json::from_slice(&bytes[..payload_at - 1]).unwrap();
    assert_eq!(header["partner_key"], key_b.as_str());
    assert_eq!(header["origin_key"], key_a.as_str());

    // Refused whole on B, nothing stored: one byte changed in the payload, a bundle signed by
    // another partner's key, one made for another organisation.
    let mut tampered = bytes.clone();
    let at = payload_at + text[payload_at..].find("GREEN-INCIDENT").unwrap();
    tampered[at] = b'g';
    let t = tmp.path().join("tampered.tocsin");
    std::fs::write(&t, &tampered).unwrap();
    let (c, out, err) = code(on_b(&[
        "share",
        "import",
        t.to_str().unwrap(),
        "--from",
        "Early Warning NGO",
    ]));
    assert_eq!(c, 2, "{out}{err}");
    assert!(
        err.contains("nothing was stored") && err.contains("changed"),
        "{err}"
    );
    let (c, _, err) = code(on_b(&[
        "share",
        "import",
        bundle.to_str().unwrap(),
        "--from",
        "Other NGO",
    ]));
    assert_eq!(c, 2, "{err}");
    assert!(err.contains("not from that partner"), "{err}");
    let elsewhere = tmp.path().join("elsewhere.tocsin");
    run_ok(on_a(&[
        "share",
        "export",
        "--partner",
        "Elsewhere",
        "--out",
        elsewhere.to_str().unwrap(),
    ]));
    let (c, _, err) = code(on_b(&[
        "share",
        "import",
        elsewhere.to_str().unwrap(),
        "--from",
        "Early Warning NGO",
    ]));
    assert_eq!(c, 2, "{err}");
    assert!(err.contains("not for us"), "{err}");
    let (c, _, err) = code(on_b(&[
        "share",
        "import",
        bundle.to_str().unwrap(),
        "--from",
        "Nobody",
    ]));
    assert_eq!(c, 5, "{err}");
    assert!(
        !exported_csv(&b, bdb, "TLP:AMBER+STRICT").contains("INCIDENT"),
        "nothing stored"
    );

    // The genuine bundle: two incidents; again: nothing new.
    let (c, out, err) = code(on_b(&[
        "share",
        "import",
        bundle.to_str().unwrap(),
        "--from",
        "Early Warning NGO",
    ]));
    assert_eq!(c, 0, "{out}{err}");
    assert!(
        out.starts_with("created 2, updated 0, retracted 0, unchanged 0"),
        "{out}"
    );
    let (c, out, _) = code(on_b(&[
        "share",
        "import",
        bundle.to_str().unwrap(),
        "--from",
        "Early Warning NGO",
    ]));
    assert_eq!(c, 0);
    assert!(
        out.starts_with("created 0, updated 0, retracted 0, unchanged 2"),
        "{out}"
    );
    let held = exported_csv(&b, bdb, "TLP:AMBER+STRICT");
    assert!(
        held.contains("GREEN-INCIDENT market") && held.contains("AMBER-INCIDENT road"),
        "{held}"
    );
    assert_eq!(held.matches("INCIDENT").count(), 2, "{held}");

    // An update on A supersedes on B.
    let now = call(
        &ana,
        reqwest::Method::GET,
        format!("{base}/api/v1/incidents/{green}"),
        None,
    )
    .await;
    call(
        &ana,
        reqwest::Method::PATCH,
        format!("{base}/api/v1/incidents/{green}"),
        Some(
            json!({"description": "GREEN-INCIDENT market, 6 dead", "fatalities": 6,
            "expected_version": now["version"]}),
        ),
    )
    .await;
    let bundle2 = tmp.path().join("bundle-2.tocsin");
    run_ok(on_a(&[
        "share",
        "export",
        "--partner",
        "UN office",
        "--out",
        bundle2.to_str().unwrap(),
    ]));
    let (c, out, err) = code(on_b(&[
        "share",
        "import",
        bundle2.to_str().unwrap(),
        "--from",
        "Early Warning NGO",
    ]));
    assert_eq!(c, 0, "{out}{err}");
    assert!(
        out.starts_with("created 0, updated 1, retracted 0, unchanged 1"),
        "{out}"
    );
    assert!(exported_csv(&b, bdb, "TLP:AMBER+STRICT").contains("GREEN-INCIDENT market, 6 dead"));

    // Relabelled TLP:RED on A: it no longer crosses, and the next bundle retracts it on B.
    let now = call(
        &ana,
        reqwest::Method::GET,
        format!("{base}/api/v1/incidents/{amber}"),
        None,
    )
    .await;
    call(
        &ana,
        reqwest::Method::PATCH,
        format!("{base}/api/v1/incidents/{amber}"),
        Some(json!({"tlp": "TLP:RED", "expected_version": now["version"]})),
    )
    .await;
    let bundle3 = tmp.path().join("bundle-3.tocsin");
    run_ok(on_a(&[
        "share",
        "export",
        "--partner",
        "UN office",
        "--out",
        bundle3.to_str().unwrap(),
    ]));
    let text3 = std::fs::read_to_string(&bundle3).unwrap();
    assert!(!text3.contains("AMBER-INCIDENT") && text3.contains("\"revoked\":true"));
    validate_payload(&bundle);
    validate_payload(&bundle3);
    let (c, out, err) = code(on_b(&[
        "share",
        "import",
        bundle3.to_str().unwrap(),
        "--from",
        "Early Warning NGO",
    ]));
    assert_eq!(c, 0, "{out}{err}");
    assert!(
        out.starts_with("created 0, updated 0, retracted 1, unchanged 1"),
        "{out}"
    );
    let held = exported_csv(&b, bdb, "TLP:AMBER+STRICT");
    assert!(!held.contains("AMBER-INCIDENT"), "{held}");
    assert!(held.contains("GREEN-INCIDENT market, 6 dead"));

    // AMBER+STRICT named for the partner crosses to it, and to no other: a name that is no
    // partner's is refused over the API, the analyst names "UN office" at the command line.
    let r = reqwest::Client::new()
        .put(format!("{base}/api/v1/incidents/{strict}/share-with"))
        .bearer_auth(&ana)
        .json(&json!({"share_with": ["Nobody"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let named = run_ok(on_a(&[
        "incident",
        "share-with",
        &strict,
        "--with",
        "UN office",
        "--user",
        "ana",
    ]));
    assert!(named.contains("shared only with: UN office"), "{named}");
    let bundle4 = tmp.path().join("bundle-4.tocsin");
    run_ok(on_a(&[
        "share",
        "export",
        "--partner",
        "UN office",
        "--out",
        bundle4.to_str().unwrap(),
    ]));
    let text4 = std::fs::read_to_string(&bundle4).unwrap();
    assert!(
        text4.contains("STRICT-INCIDENT camp"),
        "the named partner gets it"
    );
    validate_payload(&bundle4);
    run_ok(on_a(&[
        "share",
        "export",
        "--partner",
        "Elsewhere",
        "--out",
        elsewhere.to_str().unwrap(),
    ]));
    assert!(!std::fs::read_to_string(&elsewhere)
        .unwrap()
        .contains("STRICT-INCIDENT"));
    let (c, out, err) = code(on_b(&[
        "share",
        "import",
        bundle4.to_str().unwrap(),
        "--from",
        "Early Warning NGO",
    ]));
    assert_eq!(c, 0, "{out}{err}");
    assert!(
        out.starts_with("created 1, updated 0, retracted 0, unchanged 2"),
        "{out}"
    );
    let held = exported_csv(&b, bdb, "TLP:AMBER+STRICT");
    assert!(held.contains("STRICT-INCIDENT camp"), "{held}");
    assert!(!held.contains("RED-INCIDENT"), "{held}");
    drop(server);

    // The audit trails: what A sent and B received, with the bundle's hash and signature.
    let sent = audited(Some(&a.join("tocsin.db")), None, "share.send").await;
    let first = sent
        .iter()
        .find(|d| d["partner"] == "UN office")
        .expect("share.send audited");
    let sha1 = sha1.trim().strip_prefix("sha256 ").unwrap().to_string();
    assert_eq!(first["bundle_sha256"], sha1.as_str());
    assert_eq!(first["signature"], header["signature"]);
    assert_eq!(first["records"].as_array().unwrap().len(), 2);
    let received = audited(
        pg.is_none().then(|| b.join("tocsin.db")).as_deref(),
        bdb,
        "share.receive",
    )
    .await;
    let r1 = received
        .iter()
        .find(|d| d["bundle_sha256"] == sha1.as_str())
        .expect("share.receive audited with the bundle's hash");
    assert_eq!(r1["partner"], "Early Warning NGO");
    assert_eq!(r1["signature"], header["signature"]);
    assert_eq!(r1["records"].as_array().unwrap().len(), 2);
    assert!(received.iter().any(|d| d["retracted"] == 1));
}
