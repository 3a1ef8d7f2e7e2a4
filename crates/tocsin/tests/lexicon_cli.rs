//! `tocsin lexicon …` through the real binary on a SQLite data directory, and the same over
//! the API of a server on it: import, evaluate (precision and recall with intervals, stored),
//! enable refused until evaluated, who may manage lexicons, refusals with their exit codes.

mod common;

use common::*;
use std::path::{Path, PathBuf};

fn data(file: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tocsin-speech/data")
        .join(file)
        .to_string_lossy()
        .into_owned()
}

/// Exit code and standard error of a command expected to fail.
fn fails(mut c: std::process::Command) -> (i32, String) {
    let out = c.output().unwrap();
    assert!(
        !out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn import_evaluate_enable_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (lexicon, sample) = (
        data("lexicon-illustrative.csv"),
        data("sample-labelled.csv"),
    );
    add_user(d, None, "ana", "analyst");
    add_user(d, None, "desk", "desk_officer");

    let out = run_ok(tocsin(
        d,
        None,
        &[
            "lexicon",
            "import",
            &lexicon,
            "--name",
            "east-africa",
            "--user",
            "ana",
        ],
    ));
    assert!(
        out.contains("imported lexicon east-africa version 1: 16 terms"),
        "{out}"
    );

    // Not enabled before it is measured: a conflict, exit 6.
    let (code, err) = fails(tocsin(d, None, &["lexicon", "enable", "east-africa"]));
    assert_eq!(code, 6, "{err}");
    assert!(err.contains("has not been evaluated"), "{err}");
    let out = run_ok(tocsin(d, None, &["lexicon", "list"]));
    assert!(
        out.starts_with("east-africa\tv1\tdisabled\t16 terms"),
        "{out}"
    );
    assert!(out.contains("not evaluated"), "{out}");

    // A desk officer may not manage lexicons: exit 3.
    let (code, err) = fails(tocsin(
        d,
        None,
        &[
            "lexicon",
            "evaluate",
            "east-africa",
            "--sample",
            &sample,
            "--user",
            "desk",
        ],
    ));
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("may not manage lexicons"), "{err}");

    // A wrong sample is refused with its line: exit 5.
    let bad = d.join("bad.csv");
    std::fs::write(&bad, "text,label\nthey are cockroaches,yes\n").unwrap();
    let (code, err) = fails(tocsin(
        d,
        None,
        &[
            "lexicon",
            "evaluate",
            "east-africa",
            "--sample",
            bad.to_str().unwrap(),
        ],
    ));
    assert_eq!(code, 5, "{err}");
    assert!(err.contains("line 2: label"), "{err}");

    let out = run_ok(tocsin(
        d,
        None,
        &[
            "lexicon",
            "evaluate",
            "east-africa",
            "--sample",
            &sample,
            "--user",
            "ana",
        ],
    ));
    let all = out.lines().find(|l| l.starts_with("all: ")).unwrap_or("");
    assert!(
        all.starts_with("all: precision 0.") || all.starts_with("all: precision 1.000"),
        "{out}"
    );
    assert!(all.contains(" [0.") && all.contains("(n=52:"), "{out}");
    assert!(out.lines().any(|l| l.starts_with("sw: precision")), "{out}");

    let out = run_ok(tocsin(
        d,
        None,
        &["lexicon", "enable", "east-africa", "--user", "ana"],
    ));
    assert_eq!(out.trim(), "lexicon east-africa version 1 enabled");
    let out = run_ok(tocsin(d, None, &["lexicon", "list"]));
    assert!(out.starts_with("east-africa\tv1\tenabled"), "{out}");
    assert!(!out.contains("not evaluated"), "{out}");

    // Importing again: version 2, disabled until measured.
    let out = run_ok(tocsin(
        d,
        None,
        &["lexicon", "import", &lexicon, "--name", "east-africa"],
    ));
    assert!(out.contains("version 2"), "{out}");
    let out = run_ok(tocsin(d, None, &["lexicon", "list"]));
    assert!(out.starts_with("east-africa\tv2\tdisabled"), "{out}");
    let (code, _) = fails(tocsin(d, None, &["lexicon", "enable", "east-africa"]));
    assert_eq!(code, 6);
    let (code, err) = fails(tocsin(d, None, &["lexicon", "enable", "sudan"]));
    assert_eq!(code, 4, "{err}");

    // Terms edited from the command line, as on the lexicon's page: each edit a version,
    // disabled until measured, kept in the history with who made it.
    let out = run_ok(tocsin(
        d,
        None,
        &[
            "lexicon",
            "add-term",
            "east-africa",
            "--term",
            "nyoka",
            "--language",
            "sw",
            "--country",
            "KE",
            "--category",
            "dehumanisation",
            "--severity",
            "high",
            "--meaning-hateful",
            "a group likened to snakes",
            "--ambiguous",
            "--variant",
            "manyoka",
            "--alternative",
            "majirani",
            "--prefix",
            "@sw-noun-classes",
            "--near",
            "wakikuyu",
            "--within",
            "3",
            "--user",
            "ana",
        ],
    ));
    assert!(
        out.contains("added \"nyoka\" (sw) to lexicon east-africa: version 3, disabled"),
        "{out}"
    );
    let out = run_ok(tocsin(d, None, &["lexicon", "list"]));
    assert!(
        out.starts_with("east-africa\tv3\tdisabled\t17 terms"),
        "{out}"
    );
    // The same term again, a bad category, a term it lacks: refused with the field, exit 5.
    for (args, why) in [
        (
            vec![
                "--term",
                "nyoka",
                "--language",
                "sw",
                "--country",
                "KE",
                "--category",
                "dehumanisation",
                "--severity",
                "2",
            ],
            "already has",
        ),
        (
            vec![
                "--term",
                "chui",
                "--language",
                "sw",
                "--category",
                "insult",
                "--severity",
                "2",
            ],
            "category",
        ),
        (
            vec![
                "--term",
                "chui",
                "--language",
                "sw",
                "--category",
                "slur",
                "--severity",
                "2",
                "--prefix",
                "@sw",
            ],
            "unknown set",
        ),
    ] {
        let mut a = vec!["lexicon", "add-term", "east-africa"];
        a.extend(args);
        let (code, err) = fails(tocsin(d, None, &a));
        assert_eq!(code, 5, "{err}");
        assert!(err.contains(why), "{why}: {err}");
    }
    let (code, err) = fails(tocsin(
        d,
        None,
        &[
            "lexicon",
            "remove-term",
            "east-africa",
            "--term",
            "chui",
            "--language",
            "sw",
        ],
    ));
    assert!(code == 4 || code == 5, "{code} {err}");
    assert!(err.contains("chui"), "{err}");
    // A desk officer may not edit terms.
    let (code, _) = fails(tocsin(
        d,
        None,
        &[
            "lexicon",
            "remove-term",
            "east-africa",
            "--term",
            "nyoka",
            "--language",
            "sw",
            "--country",
            "KE",
            "--user",
            "desk",
        ],
    ));
    assert_eq!(code, 3);
    let out = run_ok(tocsin(
        d,
        None,
        &[
            "lexicon",
            "remove-term",
            "east-africa",
            "--term",
            "nyoka",
            "--language",
            "sw",
            "--country",
            "KE",
        ],
    ));
    assert!(
        out.contains("removed \"nyoka\" (sw) from lexicon east-africa: version 4"),
        "{out}"
    );
    let out = run_ok(tocsin(d, None, &["lexicon", "history", "east-africa"]));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].starts_with("v4\t") && lines[0].contains("\tremove\tnyoka (sw, KE)\t"),
        "{out}"
    );
    assert!(
        lines[1].starts_with("v3\t") && lines[1].contains("\tadd\tnyoka (sw, KE)\tana\t"),
        "{out}"
    );
    assert!(lines[1].contains("alternative: - -> majirani"), "{out}");
    assert!(
        lines[1].contains("prefixes: - -> @sw-noun-classes; near: - -> wakikuyu; within: - -> 3"),
        "{out}"
    );
}

#[tokio::test]
async fn lexicons_over_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ana = add_user(d, None, "ana", "analyst");
    let viewer = add_user(d, None, "viewer", "viewer");
    let server = Server::start(d, None);
    let c = reqwest::Client::new();
    let base = format!("{}/api/v1/lexicons", server.base);
    let read = |f: &str| std::fs::read(PathBuf::from(data(f))).unwrap();

    let r = c
        .put(format!("{base}/kenya?licence=AGPL-3.0-or-later"))
        .bearer_auth(&viewer)
        .body(read("lexicon-illustrative.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    let mut bad = read("lexicon-illustrative.csv");
    bad.extend_from_slice(b"mende,sw,KE,insult,2\n");
    let r = c
        .put(format!("{base}/kenya"))
        .bearer_auth(&ana)
        .body(bad)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let v: serde_json::Value = r.json().await.unwrap();
    assert!(v.to_string().contains("line 18"), "{v}");

    let r = c
        .put(format!("{base}/kenya?licence=AGPL-3.0-or-later"))
        .bearer_auth(&ana)
        .body(read("lexicon-illustrative.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let l: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        (l["version"].as_i64(), l["terms"].as_u64()),
        (Some(1), Some(16))
    );
    assert_eq!(l["licence"], "AGPL-3.0-or-later");

    let r = c
        .post(format!("{base}/kenya/enable"))
        .bearer_auth(&ana)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);

    let r = c
        .post(format!(
            "{base}/kenya/evaluations?sample=sample-labelled.csv"
        ))
        .bearer_auth(&ana)
        .body(read("sample-labelled.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let ev: serde_json::Value = r.json().await.unwrap();
    let p = ev["overall"]["precision"].as_f64().unwrap();
    let lo = ev["overall"]["precision_interval"][0].as_f64().unwrap();
    assert!(lo < p, "{ev}");

    let r = c
        .post(format!("{base}/kenya/enable"))
        .bearer_auth(&ana)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let list: serde_json::Value = c
        .get(&base)
        .bearer_auth(&ana)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list[0]["name"], "kenya");
    assert_eq!(list[0]["enabled"], true);
    assert_eq!(list[0]["evaluation"]["id"], ev["id"]);
    let r = c.get(&base).bearer_auth(&viewer).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let r = c
        .get(format!("{base}/sudan"))
        .bearer_auth(&ana)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // The routes are in the OpenAPI document.
    let doc: serde_json::Value = c
        .get(format!("{}/api/v1/openapi.json", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for p in [
        "/api/v1/lexicons",
        "/api/v1/lexicons/{name}/evaluations",
        "/api/v1/lexicons/{name}/enable",
    ] {
        assert!(
            doc["paths"].get(p).is_some(),
            "{p} missing from the OpenAPI document"
        );
    }
}
