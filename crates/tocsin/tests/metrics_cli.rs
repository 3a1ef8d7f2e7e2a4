//! `tocsin metrics` through the real binary on a SQLite data directory: the table per desk
//! and situation, `--json` in the API's shape, `--desk`, a user's clearance with `--user`.

mod common;
use common::{add_user, run_ok, tocsin};

#[test]
fn flow_metrics_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (name, role) in [
        ("ada", "admin"),
        ("ann", "analyst"),
        ("dora", "desk_officer"),
        ("vic", "viewer"),
    ] {
        add_user(d, None, name, role);
    }
    let desk = d.join("sahel.toml");
    std::fs::write(
        &desk,
        "name = \"Sahel desk\"\ndepartment = \"foreign affairs\"\nmembers = [\"dora\"]\ncountries = [\"MLI\"]\n\
         [[escalation]]\nafter = \"15m\"\nnotify = { user = \"dora\" }\n",
    )
    .unwrap();
    let out = run_ok(tocsin(
        d,
        None,
        &["desk", "add", desk.to_str().unwrap(), "--user", "ada"],
    ));
    let desk_id = out.lines().last().unwrap().trim().to_string();
    let raise = |title: &str, tlp: &str| {
        let out = run_ok(tocsin(
            d,
            None,
            &[
                "alert",
                "raise",
                "--title",
                title,
                "--severity",
                "high",
                "--country",
                "MLI",
                "--tlp",
                tlp,
                "--user",
                "ann",
            ],
        ));
        out.lines().last().unwrap().trim().to_string()
    };
    let a = raise("Militia massing", "TLP:GREEN");
    raise("Secret plan", "TLP:AMBER");
    run_ok(tocsin(d, None, &["alert", "ack", &a, "--user", "dora"]));

    let table = run_ok(tocsin(d, None, &["metrics"]));
    assert!(table.contains("Flow metrics as of"), "{table}");
    assert!(
        table.contains("alert→ack") && table.contains("response ≤72h"),
        "{table}"
    );
    let desk_row = table
        .lines()
        .find(|l| l.starts_with("Sahel desk"))
        .unwrap_or_else(|| panic!("{table}"));
    assert_eq!(desk_row.split_whitespace().nth(2), Some("2"), "{desk_row}");
    assert!(table.contains("(no situation)"), "{table}");

    let json: serde_json::Value =
        serde_json::from_str(&run_ok(tocsin(d, None, &["metrics", "--json"]))).unwrap();
    assert_eq!(json["overall"]["alerts"], 2);
    assert_eq!(json["overall"]["alert_to_acknowledgement"]["count"], 1);
    assert_eq!(json["desk_names"][&desk_id], "Sahel desk");
    // A GREEN-cleared viewer: the AMBER alert is not counted.
    let json: serde_json::Value = serde_json::from_str(&run_ok(tocsin(
        d,
        None,
        &["metrics", "--json", "--user", "vic", "--desk", &desk_id],
    )))
    .unwrap();
    assert_eq!(json["overall"]["alerts"], 1);
    assert_eq!(json["desks"].as_array().unwrap().len(), 1);

    let out = tocsin(d, None, &["metrics", "--desk", "not-an-id"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--desk"));
}
