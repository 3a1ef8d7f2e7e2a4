//! Briefs for decision-makers through the real binary: a situation with a warner's text
//! message behind a verified incident, a second incident labelled TLP:RED and two published
//! assessments; `tocsin brief` writes PDFs in English and Arabic that poppler opens (1–3
//! pages), with the situation's name and the risk factors in the brief's language, Arabic in
//! logical order, the RED incident only for an audience cleared for it, no source handle or
//! phone number, and a terminology warning for "genocide" (no qualification recorded). Then
//! headless Chromium downloads a brief from the situation page's button.

mod common;

use common::browser::*;
use common::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const SECRET: &str = "kannel-inbound-secret-0123456789";
const PHONE: &str = "+23670012345";
const NAME: &str = "Ouham-Pendé: brief test";

fn config(dir: &Path) -> String {
    // The acknowledgement's gateway is down: the reply waits in the outbox, which is fine.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let path = dir.join("tocsin.toml");
    std::fs::write(
        &path,
        format!(
            "[sms]\ndefault_calling_code = \"236\"\n[sms.kannel]\nsendsms_url = \"http://{dead}/cgi-bin/sendsms\"\n\
             username = \"tocsin\"\npassword = \"pw\"\nfrom = \"1234\"\ninbound_secret = \"{SECRET}\"\n"
        ),
    )
    .unwrap();
    path.display().to_string()
}

fn last_line(s: &str) -> String {
    s.lines().last().unwrap_or("").trim().to_string()
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

/// Record an incident of the situation and verify it (both checklist tasks, then the moves).
async fn verified_incident(base: &str, token: &str, body: Value) -> String {
    use reqwest::Method;
    let i = call(
        token,
        Method::POST,
        format!("{base}/api/v1/incidents"),
        Some(body),
    )
    .await;
    let id = i["id"].as_str().expect("incident id").to_string();
    for task in [
        "Contact a second, independent source",
        "Check the place and date against other reporting",
    ] {
        call(
            token,
            Method::POST,
            format!("{base}/api/v1/incidents/{id}/verification/tasks"),
            Some(json!({"task": task})),
        )
        .await;
    }
    let now = call(
        token,
        Method::GET,
        format!("{base}/api/v1/incidents/{id}"),
        None,
    )
    .await;
    if now["verification_status"] != "corroborated" {
        call(
            token,
            Method::POST,
            format!("{base}/api/v1/incidents/{id}/verification"),
            Some(json!({"state": "corroborated", "reason": "two witnesses agree"})),
        )
        .await;
    }
    call(
        token,
        Method::POST,
        format!("{base}/api/v1/incidents/{id}/verification"),
        Some(json!({"state": "verified", "reason": "checked against the health post's list"})),
    )
    .await;
    id
}

fn assessment(dir: &Path, situation: &str, file: &str, as_of: &str, levels: &[(u32, &str)]) {
    let mut t = format!(
        "framework = \"un-foa-2014\"\nas_of = \"{as_of}\"\nsummary = \"Attacks on villages along the corridors are rising.\"\n"
    );
    for (f, l) in levels {
        t.push_str(&format!(
            "[[factors]]\nfactor = {f}\nlevel = \"{l}\"\nconfidence = \"medium\"\nrationale = \"Seen in the verified incidents of the quarter.\"\n"
        ));
    }
    let path = dir.join(file);
    std::fs::write(&path, t).unwrap();
    let out = run_ok(tocsin(
        dir,
        None,
        &[
            "assess",
            "new",
            "--situation",
            situation,
            "--user",
            "alice",
            "--file",
            path.to_str().unwrap(),
        ],
    ));
    let id = last_line(&out);
    run_ok(tocsin(
        dir,
        None,
        &["assess", "review", &id, "--user", "bob"],
    ));
    run_ok(tocsin(
        dir,
        None,
        &["assess", "publish", &id, "--user", "bob"],
    ));
}

fn poppler(tool: &str, pdf: &Path) -> String {
    let mut c = Command::new(tool);
    c.arg(pdf);
    if tool == "pdftotext" {
        c.arg("-");
    }
    let out = c
        .output()
        .unwrap_or_else(|e| panic!("{tool} (poppler-utils) must be installed: {e}"));
    assert!(
        out.status.success(),
        "{tool}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn pages(pdf: &Path) -> u32 {
    let info = poppler("pdfinfo", pdf);
    info.lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no page count: {info}"))
}

/// What the tests share: a data directory with the story, the source's handle, the
/// situation's id.
struct Story {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    config: String,
    situation: String,
    handle: String,
}

async fn story() -> Story {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().to_path_buf();
    let cfg = config(&d);
    let alice = add_user_with_password(&d, "alice", "analyst", "a long test password");
    add_user(&d, None, "bob", "analyst");
    let out = run_ok(tocsin(
        &d,
        None,
        &[
            "situation",
            "add",
            "--name",
            NAME,
            "--country",
            "CAF",
            "--admin1",
            "Ouham-Pendé",
            "--tlp",
            "TLP:AMBER",
            "--description",
            "Armed groups contest the transhumance corridors.",
        ],
    ));
    let situation = last_line(&out);
    assessment(
        &d,
        &situation,
        "a1.toml",
        "2026-06-30",
        &[(1, "moderate"), (3, "high")],
    );
    assessment(
        &d,
        &situation,
        "a2.toml",
        "2026-11-30",
        &[(1, "severe"), (3, "high"), (8, "moderate")],
    );

    let mut cmd = tocsin(
        &d,
        None,
        &["--config", &cfg, "serve", "--listen", "127.0.0.1:0"],
    );
    cmd.stderr(std::process::Stdio::inherit());
    let server = Server::spawn(cmd);
    let base = server.base.clone();
    // A warner texts: a new source with a handle and a sealed phone number, and its report.
    let r = reqwest::get(format!(
        "{base}/sms/kannel?secret={SECRET}&sender=%2B23670012345&to=1234&id=k-1&message=ATTAQUE+march%C3%A9+Bozoum"
    ))
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let sources = call(
        &alice,
        reqwest::Method::GET,
        format!("{base}/api/v1/sources"),
        None,
    )
    .await;
    let handle = sources["items"][0]["handle"]
        .as_str()
        .unwrap_or_else(|| panic!("the source: {sources}"))
        .to_string();
    let reports = call(
        &alice,
        reqwest::Method::GET,
        format!("{base}/api/v1/reports"),
        None,
    )
    .await;
    let report = reports["items"][0]["id"].as_str().unwrap().to_string();
    let today = chrono::Utc::now().date_naive();
    let incident = |desc: &str, tlp: &str, fatalities: i64, reports: Vec<String>| {
        json!({"event_date": today.to_string(), "event_type": "Violence against civilians",
               "sub_event_type": "Attack", "country": "CAF", "admin1": "Ouham-Pendé",
               "location": "Bozoum", "latitude": 6.32, "longitude": 16.38,
               "fatalities": fatalities, "description": desc, "tlp": tlp,
               "situation_id": situation, "report_ids": reports})
    };
    verified_incident(
        &base,
        &alice,
        incident(
            "Armed men attacked the Bozoum market at dawn; witnesses called it genocide.",
            "TLP:AMBER",
            12,
            vec![report],
        ),
    )
    .await;
    verified_incident(
        &base,
        &alice,
        incident(
            "RESTRICTED-RED-INCIDENT: an informant inside the militia describes lists of names.",
            "TLP:RED",
            3,
            vec![],
        ),
    )
    .await;
    drop(server);
    Story {
        _dir: tmp,
        dir: d,
        config: cfg,
        situation,
        handle,
    }
}

fn brief(s: &Story, args: &[&str]) -> std::process::Output {
    let mut all = vec!["--config", &s.config, "brief", &s.situation];
    all.extend_from_slice(args);
    tocsin(&s.dir, None, &all).output().unwrap()
}

/// `(actor, action, detail)` of every `brief.make` entry of the audit trail.
async fn briefs_audited(dir: &Path) -> Vec<(String, String)> {
    use sqlx::Connection;
    let url = format!("sqlite://{}", dir.join("tocsin.db").display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query_as(
        "SELECT actor_name, detail FROM audit_log WHERE action = 'brief.make' ORDER BY seq",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap()
}

fn no_source(text: &str, s: &Story) {
    assert!(!text.contains(&s.handle), "the source's handle leaked");
    for phone in [PHONE, "23670012345", "70012345", "70 01 23 45"] {
        assert!(!text.contains(phone), "the source's number leaked");
    }
    assert!(!text.contains("ATTAQUE"), "the warner's own words leaked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn briefs_in_english_and_arabic_filtered_for_their_audience() {
    let s = story().await;
    let d = &s.dir;

    // English, for desk officers (TLP:AMBER): the RED incident stays out.
    let en = d.join("en.pdf");
    let out = brief(
        &s,
        &[
            "--audience",
            "desk_officer",
            "--lang",
            "en",
            "--out",
            en.to_str().unwrap(),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("\"genocide\"") && stderr.contains("incident"),
        "the terminology guard warns: {stderr}"
    );
    let n = pages(&en);
    assert!((1..=3).contains(&n), "{n} pages");
    let text = poppler("pdftotext", &en);
    for want in [
        NAME,
        "Risk factors",
        "Situations of armed conflict or other forms of instability",
        "Weakness of State structures",
        "Triggering factors",
        "Bozoum market",
        "Terminology warning",
        "TLP:AMBER",
    ] {
        assert!(text.contains(want), "{want:?} missing:\n{text}");
    }
    assert!(
        text.contains("severe") && text.contains("up") && text.contains("unchanged"),
        "factor 1 rose from moderate to severe, factor 3 stayed high: {text}"
    );
    assert!(
        !text.contains("RESTRICTED-RED-INCIDENT"),
        "an incident above the audience's clearance is left out"
    );
    no_source(&text, &s);

    // Arabic, for analysts (TLP:RED): the RED incident is in; factor names in Arabic, in
    // logical order.
    let ar = d.join("ar.pdf");
    let out = brief(
        &s,
        &[
            "--audience",
            "analyst",
            "--lang",
            "ar",
            "--out",
            ar.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let n = pages(&ar);
    assert!((1..=3).contains(&n), "{n} pages");
    // Without the directional marks pdftotext puts around right-to-left runs. (Poppler
    // reverses the two letters of a lam-alef ligature, though the PDF maps the glyph to
    // them in logical order: the phrases checked have none.)
    let text: String = poppler("pdftotext", &ar)
        .chars()
        .filter(|c| !matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
        .collect();
    for want in [
        "عوامل الخطر",
        "النزاع المسلح أو غيرها من أشكال عدم",
        "ضعف هياكل الدولة",
        "العوامل المحفزة",
        "RESTRICTED-RED-INCIDENT",
        "TLP:RED",
    ] {
        assert!(text.contains(want), "{want:?} missing:\n{text}");
    }
    let reversed: String = "ضعف هياكل الدولة".chars().rev().collect();
    assert!(
        !text.contains(&reversed),
        "Arabic extracted in visual order"
    );
    assert!(text.contains("Ouham-Pend"), "the situation's name: {text}");
    no_source(&text, &s);

    // HTML: the same content, right to left in Arabic.
    let html = d.join("fr.html");
    let out = brief(
        &s,
        &[
            "--audience",
            "desk_officer",
            "--lang",
            "fr",
            "--format",
            "html",
            "--out",
            html.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("Faiblesse des structures de l&#x27;État")
            || page.contains("Faiblesse des structures de l'État"),
        "{page}"
    );
    assert!(page.contains("Avertissement terminologique"));
    assert!(!page.contains("RESTRICTED-RED-INCIDENT"));
    no_source(&page, &s);

    // The measures, the country and the audience are named in the brief's language: the
    // measures the English brief recommends are in the French and Arabic ones by their
    // translated names, not their English ones.
    let flat = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
    let en_text = flat(&poppler("pdftotext", &en));
    let toolbox = tocsin_toolbox::Toolbox::shipped();
    let shown: Vec<&tocsin_toolbox::Measure> = toolbox
        .measures
        .iter()
        .filter(|m| en_text.contains(&flat(&m.name)))
        .collect();
    assert!(
        !shown.is_empty(),
        "the English brief recommends measures: {en_text}"
    );
    let fr = d.join("fr.pdf");
    let out = brief(
        &s,
        &[
            "--audience",
            "desk_officer",
            "--lang",
            "fr",
            "--out",
            fr.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fr_text = flat(&poppler("pdftotext", &fr));
    let ar_text = flat(&text);
    for m in &shown {
        let name = tocsin_app::words::measure_name(&m.id, tocsin_domain::Lang::Fr).unwrap();
        assert!(
            fr_text.contains(&flat(name)),
            "{name:?} missing:\n{fr_text}"
        );
        assert!(
            !fr_text.contains(&flat(&m.name)),
            "{:?} left in English",
            m.name
        );
        let name = tocsin_app::words::measure_name(&m.id, tocsin_domain::Lang::Ar).unwrap();
        // (Poppler reverses the lam-alef ligatures, hamza and madda forms too: names with
        // one are not compared.)
        if !["لا", "لأ", "لإ", "لآ"].iter().any(|l| name.contains(l)) {
            assert!(
                ar_text.contains(&flat(name)),
                "{name:?} missing:\n{ar_text}"
            );
        }
        assert!(
            !ar_text.contains(&flat(&m.name)),
            "{:?} left in English",
            m.name
        );
    }
    for want in [
        "République centrafricaine",
        "chargés de dossier",
        "Facteurs de risque",
    ] {
        assert!(fr_text.contains(want), "{want:?} missing:\n{fr_text}");
    }
    // The event types of the key incidents and the precedents' titles too (the precedents'
    // outcomes are the toolbox's English text).
    assert!(
        en_text.contains("Violence against civilians · Attack"),
        "{en_text}"
    );
    assert!(
        fr_text.contains("Violence contre les civils · Attaque"),
        "{fr_text}"
    );
    assert!(!fr_text.contains("Violence against civilians"), "{fr_text}");
    assert!(ar_text.contains("عنف ضد المدنيين"), "{ar_text}");
    assert!(!ar_text.contains("Violence against civilians"), "{ar_text}");
    let precedents: Vec<&tocsin_toolbox::Precedent> = toolbox
        .precedents
        .iter()
        .filter(|p| en_text.contains(&flat(&p.title)))
        .collect();
    assert!(
        !precedents.is_empty(),
        "the English brief cites precedents: {en_text}"
    );
    for p in &precedents {
        let title = tocsin_app::words::precedent_title(&p.id, tocsin_domain::Lang::Fr).unwrap();
        assert!(
            fr_text.contains(&flat(title)),
            "{title:?} missing:\n{fr_text}"
        );
        assert!(
            !fr_text.contains(&flat(&p.title)),
            "{:?} left in English",
            p.title
        );
        assert!(
            !ar_text.contains(&flat(&p.title)),
            "{:?} left in English",
            p.title
        );
    }
    let before_precedents = fr_text.split("Précédents").next().unwrap_or_default();
    assert!(
        !before_precedents.contains("Central African Republic"),
        "{fr_text}"
    );
    assert!(!fr_text.contains("partial_success"), "{fr_text}");
    for want in ["جمهورية أفريقيا الوسطى", "المحللون"] {
        assert!(ar_text.contains(want), "{want:?} missing:\n{ar_text}");
    }
    no_source(&fr_text, &s);

    // A reader's brief (TLP:GREEN) of a TLP:AMBER situation is refused, naming the audience.
    let out = brief(
        &s,
        &[
            "--audience",
            "viewer",
            "--out",
            d.join("v.pdf").to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(5));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains("audience") && e.contains("TLP:AMBER"), "{e}");
    assert!(!d.join("v.pdf").exists());
    // Bad input is refused before anything is read.
    let out = brief(&s, &["--audience", "minister", "--out", "x.pdf"]);
    assert_eq!(out.status.code(), Some(5));
    let out = brief(
        &s,
        &["--audience", "analyst", "--lang", "de", "--out", "x.pdf"],
    );
    assert_eq!(out.status.code(), Some(5));

    // Each brief made is in the audit trail, as the operator, with its audience and
    // language; the refused one is not.
    let audit = briefs_audited(d).await;
    assert_eq!(audit.len(), 4, "{audit:?}");
    assert!(
        audit.iter().all(|(who, _)| who.contains("cli")),
        "{audit:?}"
    );
    assert!(
        audit[1].1.contains("\"audience\":\"analyst\"") && audit[1].1.contains("\"lang\":\"ar\""),
        "{audit:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_brief_downloads_from_the_situation_page_button() {
    let Some((driver, chromium)) = browser() else {
        return;
    };
    let s = story().await;
    let mut cmd = tocsin(
        &s.dir,
        None,
        &["--config", &s.config, "serve", "--listen", "127.0.0.1:0"],
    );
    cmd.stderr(std::process::Stdio::inherit());
    let server = Server::spawn(cmd);
    let drv = start_driver(&driver).await;
    let profile = tempfile::tempdir().unwrap();
    let downloads = tempfile::tempdir().unwrap();
    let sess = Session::start(&drv, &chromium, profile.path(), &[]).await;
    sess.cmd(
        reqwest::Method::POST,
        "/goog/cdp/execute",
        Some(json!({"cmd": "Browser.setDownloadBehavior",
                    "params": {"behavior": "allow", "downloadPath": downloads.path().to_str().unwrap()}})),
    )
    .await;
    let page = format!("/situations/{}", s.situation);
    sess.login(&server.base, "alice", "a long test password", &page)
        .await;
    sess.goto(&format!("{}{page}", server.base)).await;
    sess.find("#brief-form").await;
    // Arabic, then the button.
    sess.script(
        "document.getElementById('brief-lang').value = 'ar';",
        json!([]),
    )
    .await;
    sess.click("#brief-download").await;
    let mut got: Option<PathBuf> = None;
    for _ in 0..150 {
        got = std::fs::read_dir(downloads.path())
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| p.extension().is_some_and(|x| x == "pdf"));
        if got.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    sess.quit().await;
    let pdf = got.expect("the brief was downloaded");
    let name = pdf.file_name().unwrap().to_string_lossy().to_string();
    assert!(name.contains("analyst-ar"), "{name}");
    let n = pages(&pdf);
    assert!((1..=3).contains(&n), "{n} pages");
    let text: String = poppler("pdftotext", &pdf)
        .chars()
        .filter(|c| !matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
        .collect();
    assert!(text.contains("ضعف هياكل الدولة"), "{text}");
    no_source(&text, &s);
    drop(server);
    // The web's brief is audited under the user who made it.
    let audit = briefs_audited(&s.dir).await;
    assert!(
        audit
            .iter()
            .any(|(who, d)| who == "alice" && d.contains("\"format\":\"pdf\"")),
        "{audit:?}"
    );
}
