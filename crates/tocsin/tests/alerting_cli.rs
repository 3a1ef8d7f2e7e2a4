//! `tocsin desk`, `tocsin rule`, `tocsin alert` and `tocsin check` as a user runs them, on
//! SQLite and PostgreSQL: the API's rules, the documented exit codes (3 forbidden, 4 not
//! found, 5 invalid, 6 conflict), and unreachable policy steps named.

use std::path::Path;
use std::process::Command;

mod common;
use common::{add_user, fresh_postgres, run_err, run_ok};

/// `tocsin` with the data directory's `tocsin.toml`, which configures e-mail: desk members
/// are reached by e-mail, so their policy steps reach someone.
fn tocsin(dir: &Path, db: Option<&str>, args: &[&str]) -> Command {
    let mut c = common::tocsin(dir, db, args);
    c.env("TOCSIN_CONFIG", dir.join("tocsin.toml"));
    c
}

fn code(dir: &Path, db: Option<&str>, args: &[&str]) -> (i32, String) {
    let out = tocsin(dir, db, args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn last_line(s: &str) -> String {
    s.lines().last().unwrap().trim().to_string()
}

fn story(db: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (name, role) in [
        ("ada", "admin"),
        ("ann", "analyst"),
        ("dora", "desk_officer"),
    ] {
        add_user(d, db, name, role);
    }
    std::fs::write(
        d.join("tocsin.toml"),
        "[notify.smtp]\nhost = \"127.0.0.1\"\nport = 2525\ntls = \"none\"\nfrom = \"tocsin@example.org\"\n",
    )
    .unwrap();
    run_ok(tocsin(
        d,
        db,
        &["user", "set", "dora", "--email", "dora@example.org"],
    ));
    let out = run_ok(tocsin(d, db, &["check"]));
    assert!(out.contains("every step reaches someone"), "{out}");

    let bad = d.join("bad-desk.json");
    std::fs::write(
        &bad,
        r#"{"name": "Bad desk", "department": "defence",
            "escalation": [{"after": "15m", "notify": {"user": "nobody"}}]}"#,
    )
    .unwrap();
    let (c, err) = code(
        d,
        db,
        &["desk", "add", bad.to_str().unwrap(), "--user", "ada"],
    );
    assert_eq!(c, 5, "{err}");
    assert!(
        err.contains("escalation[0]") && err.contains("reaches nobody"),
        "{err}"
    );

    let desk = d.join("sahel.toml");
    std::fs::write(
        &desk,
        "name = \"Sahel desk\"\ndepartment = \"foreign affairs\"\nmembers = [\"dora\"]\ncountries = [\"MLI\"]\n\
         [[escalation]]\nafter = \"15m\"\nnotify = { user = \"dora\" }\n",
    )
    .unwrap();
    let (c, err) = code(
        d,
        db,
        &["desk", "add", desk.to_str().unwrap(), "--user", "ann"],
    );
    assert_eq!(c, 3, "{err}");
    let out = run_ok(tocsin(
        d,
        db,
        &["desk", "add", desk.to_str().unwrap(), "--user", "ada"],
    ));
    let desk_id = last_line(&out);
    let out = run_ok(tocsin(d, db, &["desk", "list", "--user", "dora"]));
    assert!(
        out.contains(&desk_id) && out.contains("Sahel desk"),
        "{out}"
    );

    let rule = d.join("rule.json");
    std::fs::write(
        &rule,
        r#"{"name": "Mali attacks", "severity": "high", "ack_within": "30m", "kind": "incidents",
            "country": "MLI", "window": "7d", "min_incidents": 3}"#,
    )
    .unwrap();
    let out = run_ok(tocsin(
        d,
        db,
        &["rule", "add", rule.to_str().unwrap(), "--user", "ada"],
    ));
    let rule_id = last_line(&out);
    let out = run_ok(tocsin(
        d,
        db,
        &["rule", "list", "--enabled", "--user", "ann"],
    ));
    assert!(out.contains(&rule_id), "{out}");
    run_ok(tocsin(
        d,
        db,
        &["rule", "disable", &rule_id, "--user", "ada"],
    ));
    let out = run_ok(tocsin(
        d,
        db,
        &["rule", "list", "--enabled", "--user", "ann"],
    ));
    assert!(out.trim().is_empty(), "{out}");

    let raise = [
        "alert",
        "raise",
        "--title",
        "Militia massing",
        "--severity",
        "critical",
        "--country",
        "MLI",
    ];
    let (c, err) = code(d, db, &[&raise[..], &["--user", "dora"]].concat());
    assert_eq!(c, 3, "{err}");
    let out = run_ok(tocsin(d, db, &[&raise[..], &["--user", "ann"]].concat()));
    let alert = last_line(&out);
    let (c, err) = code(d, db, &["alert", "ack", &alert, "--user", "ann"]);
    assert_eq!(c, 3, "{err}");
    let (c, err) = code(
        d,
        db,
        &[
            "alert",
            "ack",
            &uuid::Uuid::now_v7().to_string(),
            "--user",
            "dora",
        ],
    );
    assert_eq!(c, 4, "{err}");
    let out = run_ok(tocsin(d, db, &["alert", "ack", &alert, "--user", "dora"]));
    assert!(out.contains("acknowledged"), "{out}");
    let (c, err) = code(d, db, &["alert", "ack", &alert, "--user", "dora"]);
    assert_eq!(c, 6, "{err}");
    let (c, err) = code(
        d,
        db,
        &[
            "alert", "close", &alert, "--reason", "bored", "--user", "dora",
        ],
    );
    assert_eq!(c, 5, "{err}");
    let (c, err) = code(d, db, &["alert", "escalate", &alert, "--user", "dora"]);
    assert_eq!(c, 6, "{err}");
    run_ok(tocsin(
        d,
        db,
        &[
            "alert",
            "close",
            &alert,
            "--reason",
            "false_alarm",
            "--user",
            "dora",
        ],
    ));
    let out = run_ok(tocsin(
        d,
        db,
        &["alert", "list", "--status", "closed", "--user", "dora"],
    ));
    assert!(out.contains(&alert) && out.contains("closed"), "{out}");
    let (c, err) = code(
        d,
        db,
        &["alert", "list", "--status", "shut", "--user", "dora"],
    );
    assert_eq!(c, 5, "{err}");

    // The desk's only member leaves: `tocsin check` names the step that now reaches nobody.
    run_ok(tocsin(d, db, &["user", "disable", "dora"]));
    let err = run_err(tocsin(d, db, &["check"]));
    assert!(
        err.contains("Sahel desk") && err.contains("escalation[0]"),
        "{err}"
    );
    let (c, _) = code(d, db, &["check"]);
    assert_eq!(c, 5);
}

#[test]
fn desks_rules_alerts_and_check_from_the_command_line_on_sqlite() {
    story(None);
}

#[tokio::test(flavor = "multi_thread")]
async fn desks_rules_alerts_and_check_from_the_command_line_on_postgres() {
    if let Some(url) = fresh_postgres("tocsin_alerting_cli").await {
        tokio::task::spawn_blocking(move || story(Some(&url)))
            .await
            .unwrap();
    }
}
