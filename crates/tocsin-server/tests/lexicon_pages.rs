//! Lexicons in the web pages, over real HTTP: an analyst imports a lexicon by uploading a CSV
//! file (a wrong file is refused with its line and column, the form kept, nothing stored),
//! sees enabling refused until the current version is measured, measures it on a labelled
//! sample, enables it, edits its terms (each edit a new, disabled version kept in the term
//! history), and pages through its terms; a viewer gets 403. The same edits over the API.

mod common;

use common::{browser_login, TestApp};
use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::json;
use tocsin_domain::Role;

const GOOD: &str = "term,language,country,category,severity\n\
                    mende,sw,KE,dehumanisation,2\n\
                    kuua,sw,KE,threat,3\n";
const BAD: &str = "term,language,country,category,severity\n\
                   mende,sw,KE,dehumanisation,2\n\
                   kuua,sw,KE,murder,3\n";
const SAMPLE: &str = "text,label\n\
                      wale ni mende,1\n\
                      habari njema leo,0\n\
                      mende wote waondoke,1\n\
                      watu wazuri sana,0\n\
                      tutawaua wote,1\n";

struct Browser<'a> {
    app: &'a TestApp,
    cookie: String,
    csrf: String,
}

impl Browser<'_> {
    async fn login<'a>(app: &'a TestApp, user: &str) -> Browser<'a> {
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

    async fn form(&self, path: &str, fields: &[(&str, &str)]) -> (StatusCode, String) {
        let mut f = vec![("csrf", self.csrf.as_str())];
        f.extend_from_slice(fields);
        let r = self
            .app
            .client
            .post(format!("{}{path}", self.app.base))
            .header("cookie", &self.cookie)
            .form(&f)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let location = r
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_string());
        (status, location.unwrap_or(r.text().await.unwrap()))
    }

    async fn upload(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        file: &str,
    ) -> (StatusCode, String) {
        let mut form = Form::new().text("csrf", self.csrf.clone());
        for (k, v) in fields {
            form = form.text(k.to_string(), v.to_string());
        }
        form = form.part(
            "file",
            Part::bytes(file.as_bytes().to_vec())
                .file_name("file.csv")
                .mime_str("text/csv")
                .unwrap(),
        );
        let r = self
            .app
            .client
            .post(format!("{}{path}", self.app.base))
            .header("cookie", &self.cookie)
            .multipart(form)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let location = r
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_string());
        (status, location.unwrap_or(r.text().await.unwrap()))
    }
}

#[tokio::test]
async fn an_analyst_imports_measures_enables_and_edits_a_lexicon_in_the_pages() {
    let app = TestApp::start().await;
    let ana = Browser::login(&app, "analyst").await;

    let (s, html) = ana.get("/speech/lexicons").await;
    assert_eq!(s, 200);
    assert!(
        html.contains("href=\"/speech/lexicons\""),
        "staff menu links here"
    );
    assert!(html.contains("enctype=\"multipart/form-data\""));

    // A wrong file: refused naming line and column, the form kept, nothing stored.
    let fields = [
        ("name", "kenya"),
        ("provenance", "field notes 2026"),
        ("licence", "CC-BY-4.0"),
    ];
    let (s, html) = ana.upload("/speech/lexicons", &fields, BAD).await;
    assert_eq!(s, 422, "{html}");
    assert!(html.contains("line 3"), "{html}");
    assert!(
        html.contains("category") && html.contains("murder"),
        "{html}"
    );
    assert!(html.contains("value=\"kenya\"") && html.contains("value=\"field notes 2026\""));
    assert!(html.contains("aria-invalid=\"true\""));
    assert!(app.store.list_lexicons().await.unwrap().is_empty());

    let (s, to) = ana.upload("/speech/lexicons", &fields, GOOD).await;
    assert_eq!(
        (s, to.as_str()),
        (StatusCode::SEE_OTHER, "/speech/lexicons/kenya")
    );

    // Not evaluated: said on the page, and enabling is refused.
    let (s, html) = ana.get("/speech/lexicons/kenya").await;
    assert_eq!(s, 200);
    assert!(html.contains("mende") && html.contains("kuua"));
    assert!(html.contains("id=\"needs-evaluation\""), "{html}");
    let (s, html) = ana.form("/speech/lexicons/kenya/enable", &[]).await;
    assert_eq!(s, 409);
    assert!(html.contains("has no evaluation"), "{html}");
    assert!(!app.store.get_lexicon("kenya").await.unwrap().enabled);

    // Measured on a labelled sample: stored, shown with intervals and the sample's size.
    let (s, to) = ana
        .upload(
            "/speech/lexicons/kenya/evaluations",
            &[("sample", "nairobi-sample")],
            SAMPLE,
        )
        .await;
    assert_eq!(s, 303, "{to}");
    let evs = app.store.lexicon_evaluations("kenya").await.unwrap();
    assert_eq!(evs.len(), 1);
    let (_, html) = ana.get("/speech/lexicons/kenya").await;
    assert!(html.contains("nairobi-sample"));
    assert!(!html.contains("id=\"needs-evaluation\""));
    let p = evs[0].overall.precision.unwrap();
    let [lo, hi] = evs[0].overall.precision_interval.unwrap();
    let shown = format!("{:.1} % ({:.1}–{:.1} %)", p * 100.0, lo * 100.0, hi * 100.0);
    assert!(html.contains(&shown), "{shown} in {html}");
    assert!(html.contains("5 texts"));

    let (s, _) = ana.form("/speech/lexicons/kenya/enable", &[]).await;
    assert_eq!(s, 303);
    assert!(app.store.get_lexicon("kenya").await.unwrap().enabled);
    let (_, html) = ana.get("/speech/lexicons").await;
    assert!(html.contains("Enabled") && html.contains(&shown) && html.contains("5 texts"));

    // Change a term through its page: a new version, disabled again, kept in the history.
    let (s, html) = ana
        .get("/speech/lexicons/kenya/term?term=mende&language=sw&country=KE")
        .await;
    assert_eq!(s, 200, "{html}");
    assert!(html.contains("name=\"meaning_hateful\""));
    let change = [
        ("version", "1"),
        ("term", "mende"),
        ("language", "sw"),
        ("country", "KE"),
        ("category", "dehumanisation"),
        ("severity", "high"),
        ("meaning_hateful", "cockroaches: a group likened to vermin"),
        ("meaning_other", ""),
        ("variants", "mende-mende\nmendé"),
        ("transliterations", ""),
        ("alternative", "majirani"),
    ];
    let (s, to) = ana.form("/speech/lexicons/kenya/term", &change).await;
    assert_eq!(s, 303, "{to}");
    let l = app.store.get_lexicon("kenya").await.unwrap();
    assert_eq!((l.version, l.enabled, l.terms), (2, false, 2));
    let h = app.store.term_history("kenya").await.unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!((h[0].by.as_str(), h[0].version), ("analyst", 2));
    let fields: Vec<&str> = h[0].changes.iter().map(|c| c.field.as_str()).collect();
    assert_eq!(
        fields,
        ["severity", "meaning_hateful", "variants", "alternative"]
    );
    assert!(app.store.enabled_lexicons().await.unwrap().is_empty());
    // The same form again, made on version 1: refused, the typed values kept.
    let (s, html) = ana.form("/speech/lexicons/kenya/term", &change).await;
    assert_eq!(s, 409);
    assert!(
        html.contains("version 2") && html.contains("value=\"majirani\""),
        "{html}"
    );

    let (_, html) = ana.get("/speech/lexicons/kenya").await;
    assert!(html.contains("id=\"needs-evaluation\""));
    assert!(html.contains("id=\"term-history\""));
    assert!(html.contains("medium → high"), "{html}");
    assert!(html.contains("majirani"));

    // Add a term: a wrong language is refused with the form kept; then added.
    let add = |lang: &'static str| {
        vec![
            ("version", "2"),
            ("term", "madoadoa"),
            ("language", lang),
            ("country", "KE"),
            ("category", "coded term"),
            ("severity", "high"),
            ("ambiguous", "yes"),
            ("meaning_other", "spots, stains"),
        ]
    };
    let (s, html) = ana
        .form("/speech/lexicons/kenya/terms", &add("swahili"))
        .await;
    assert_eq!(s, 422);
    assert!(
        html.contains("ISO 639") && html.contains("value=\"madoadoa\""),
        "{html}"
    );
    assert_eq!(app.store.get_lexicon("kenya").await.unwrap().version, 2);
    let (s, _) = ana.form("/speech/lexicons/kenya/terms", &add("sw")).await;
    assert_eq!(s, 303);

    // Remove one.
    let (s, _) = ana
        .form(
            "/speech/lexicons/kenya/term/remove",
            &[
                ("version", "3"),
                ("term", "kuua"),
                ("language", "sw"),
                ("country", "KE"),
            ],
        )
        .await;
    assert_eq!(s, 303);
    let l = app.store.get_lexicon("kenya").await.unwrap();
    assert_eq!((l.version, l.terms), (4, 2));
    let src = app.store.lexicon_source("kenya").await.unwrap();
    assert!(src.contains("madoadoa") && !src.contains("kuua"), "{src}");
    let history = app.store.term_history("kenya").await.unwrap();
    let actions: Vec<&str> = history.iter().map(|h| h.action.as_str()).collect();
    assert_eq!(actions, ["remove", "add", "change"]);
    let audit = app.store.audit_entries(0, 10_000).await.unwrap();
    let audited: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
    for a in [
        "lexicon.term.add",
        "lexicon.term.change",
        "lexicon.term.remove",
    ] {
        assert!(audited.contains(&a), "{a} in {audited:?}");
    }

    // Attached forms and a proximity rule, edited on the term's page: an unknown named set
    // and a proximity that is no number are refused on their fields, the form kept.
    let (_, html) = ana
        .get("/speech/lexicons/kenya/term?term=madoadoa&language=sw&country=KE")
        .await;
    assert!(
        html.contains("name=\"prefixes\"")
            && html.contains("name=\"within\" size=\"3\" inputmode=\"numeric\" value=\"5\""),
        "{html}"
    );
    let affixed = |prefixes: &'static str, within: &'static str| {
        vec![
            ("version", "4"),
            ("term", "madoadoa"),
            ("language", "sw"),
            ("country", "KE"),
            ("category", "coded term"),
            ("severity", "high"),
            ("ambiguous", "yes"),
            ("meaning_other", "spots, stains"),
            ("prefixes", prefixes),
            ("suffixes", ""),
            ("near", "wakikuyu\nwajaluo"),
            ("within", within),
        ]
    };
    for (prefixes, within, why) in [
        ("@sw-noun-class", "3", "Prefixes: unknown set"),
        (
            "@sw-noun-classes",
            "three",
            "Near means within this many words",
        ),
        (
            "@sw-noun-classes",
            "80",
            "expected a number of words, 1 to 50",
        ),
    ] {
        let (s, html) = ana
            .form("/speech/lexicons/kenya/term", &affixed(prefixes, within))
            .await;
        assert_eq!(s, 422, "{html}");
        assert!(html.contains(why), "{why}: {html}");
        assert!(html.contains("wajaluo"), "the form kept: {html}");
    }
    assert_eq!(app.store.get_lexicon("kenya").await.unwrap().version, 4);
    let (s, _) = ana
        .form(
            "/speech/lexicons/kenya/term",
            &affixed("@sw-noun-classes", "3"),
        )
        .await;
    assert_eq!(s, 303);
    let h = app.store.term_history("kenya").await.unwrap();
    let fields: Vec<&str> = h[0].changes.iter().map(|c| c.field.as_str()).collect();
    assert_eq!(fields, ["prefixes", "near", "within"], "{:?}", h[0]);
    let src = app.store.lexicon_source("kenya").await.unwrap();
    assert!(
        src.contains("@sw-noun-classes") && src.contains("wakikuyu|wajaluo"),
        "{src}"
    );

    // A viewer: no link, 403 on the pages and the uploads, nothing stored.
    let viewer = Browser::login(&app, "viewer").await;
    let (_, html) = viewer.get("/incidents").await;
    assert!(!html.contains("href=\"/speech/lexicons\""));
    assert_eq!(viewer.get("/speech/lexicons").await.0, 403);
    assert_eq!(viewer.get("/speech/lexicons/kenya").await.0, 403);
    let (s, _) = viewer
        .upload("/speech/lexicons", &[("name", "viewers")], GOOD)
        .await;
    assert_eq!(s, 403);
    let (s, _) = viewer
        .form("/speech/lexicons/kenya/terms", &add("sw"))
        .await;
    assert_eq!(s, 403);
    assert_eq!(app.store.list_lexicons().await.unwrap().len(), 1);
    assert_eq!(app.store.get_lexicon("kenya").await.unwrap().version, 5);
}

#[tokio::test]
async fn a_long_lexicon_is_shown_a_page_of_terms_at_a_time() {
    let app = TestApp::start().await;
    let ana = Browser::login(&app, "analyst").await;
    let mut csv = String::from("term,language,country,category,severity\n");
    // Letters only (digits in a word read as leetspeak).
    let word = |i: u8| format!("neno{}{}", (b'a' + i / 26) as char, (b'a' + i % 26) as char);
    for i in 0..120 {
        csv.push_str(&format!("{},sw,,slur,1\n", word(i)));
    }
    let (s, html) = ana
        .upload("/speech/lexicons", &[("name", "long")], &csv)
        .await;
    assert_eq!(s, 303, "{html}");
    let (_, html) = ana.get("/speech/lexicons/long").await;
    assert!(html.contains("Terms 1 to 50 of 120"), "{html}");
    assert!(html.contains(&word(49)) && !html.contains(&word(50)));
    assert!(html.contains("long?offset=50"), "{html}");
    let (_, html) = ana.get("/speech/lexicons/long?offset=100").await;
    assert!(html.contains("Terms 101 to 120 of 120"));
    assert!(html.contains(&word(119)) && !html.contains(&word(99)));
    // In French, through the catalogue.
    let (_, html) = {
        let r = app
            .client
            .get(format!("{}/speech/lexicons/long", app.base))
            .header("cookie", &ana.cookie)
            .header("accept-language", "fr")
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    };
    assert!(html.contains("Termes 1 à 50 sur 120"), "{html}");
}

#[tokio::test]
async fn terms_are_edited_over_the_api_with_history_and_in_the_openapi_document() {
    let app = TestApp::start().await;
    let r = app
        .client
        .put(format!("{}/api/v1/lexicons/kenya", app.base))
        .bearer_auth(&app.tokens[&Role::Analyst])
        .body(GOOD)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let (s, page) = app
        .get(
            Role::Analyst,
            "/api/v1/lexicons/kenya/terms?limit=1&offset=1",
        )
        .await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(page["total"], 2);
    assert_eq!(page["items"][0]["term"], "kuua");
    assert_eq!(page["items"][0]["severity"], "high");

    let (s, e) = app
        .post(
            Role::Analyst,
            "/api/v1/lexicons/kenya/terms",
            json!({"term": "madoadoa", "language": "sw", "country": "KE",
                   "category": "coded term", "severity": "3", "ambiguous": true,
                   "variants": ["madoa doa"]}),
        )
        .await;
    assert_eq!(s, 201, "{e}");
    assert_eq!(e["lexicon"]["version"], 2);
    assert_eq!(e["lexicon"]["enabled"], false);
    assert_eq!(e["edit"]["action"], "add");

    let (s, e) = app
        .call(
            Some(Role::Analyst),
            Method::PATCH,
            "/api/v1/lexicons/kenya/terms/sw/mende?country=KE",
            Some(json!({"version": 2, "category": "slur", "alternative": "majirani"})),
        )
        .await;
    assert_eq!(s, 200, "{e}");
    assert_eq!(e["edit"]["changes"][0]["field"], "category");
    assert_eq!(e["edit"]["changes"][0]["before"], "dehumanisation");
    assert_eq!(e["edit"]["changes"][0]["after"], "slur");
    // Nothing changed: refused, no version made.
    let (s, _) = app
        .call(
            Some(Role::Analyst),
            Method::PATCH,
            "/api/v1/lexicons/kenya/terms/sw/mende?country=KE",
            Some(json!({"category": "slur"})),
        )
        .await;
    assert_eq!(s, 422);
    // A term the lexicon lacks (the country differs).
    let (s, _) = app
        .call(
            Some(Role::Analyst),
            Method::DELETE,
            "/api/v1/lexicons/kenya/terms/sw/mende",
            None,
        )
        .await;
    assert_eq!(s, 422);
    let (s, e) = app
        .call(
            Some(Role::Analyst),
            Method::DELETE,
            "/api/v1/lexicons/kenya/terms/sw/mende?country=KE",
            None,
        )
        .await;
    assert_eq!(s, 200, "{e}");
    assert_eq!(e["lexicon"]["version"], 4);

    let (s, h) = app
        .get(Role::Analyst, "/api/v1/lexicons/kenya/history")
        .await;
    assert_eq!(s, 200);
    let actions: Vec<&str> = h
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["remove", "change", "add"]);

    // A viewer may not read or edit terms.
    assert_eq!(
        app.get(Role::Viewer, "/api/v1/lexicons/kenya/terms")
            .await
            .0,
        403
    );
    let (s, _) = app
        .post(
            Role::Viewer,
            "/api/v1/lexicons/kenya/terms",
            json!({"term": "x", "language": "sw", "category": "slur", "severity": "1"}),
        )
        .await;
    assert_eq!(s, 403);

    let (_, doc) = app.get(Role::Analyst, "/api/v1/openapi.json").await;
    let paths = &doc["paths"];
    assert!(paths["/api/v1/lexicons/{name}/terms"]["post"].is_object());
    assert!(paths["/api/v1/lexicons/{name}/terms/{language}/{term}"]["patch"].is_object());
    assert!(paths["/api/v1/lexicons/{name}/history"]["get"].is_object());
}
