//! `tocsin action add/list` through the real binary on a SQLite data directory: the API's
//! rules (who may record, field-named refusals with their exit codes).

mod common;

use common::*;

#[test]
fn actions_are_recorded_and_listed_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    add_user(d, None, "ana", "analyst");
    add_user(d, None, "vic", "viewer");
    let out = run_ok(tocsin(
        d,
        None,
        &[
            "situation",
            "add",
            "--name",
            "CAR",
            "--country",
            "CAF",
            "--tlp",
            "TLP:GREEN",
        ],
    ));
    let sit = out.lines().last().unwrap().trim().to_string();
    let add = |user: &str, measure: &str| {
        tocsin(
            d,
            None,
            &[
                "action",
                "add",
                "--user",
                user,
                "--situation",
                &sit,
                "--measure",
                measure,
                "--department",
                "foreign affairs",
                "--due",
                "2026-01-01",
            ],
        )
    };
    let out = run_ok(add("ana", "private_diplomacy"));
    let id = out.lines().last().unwrap().trim().to_string();
    assert!(out.contains("recorded action private_diplomacy"), "{out}");

    let listed = run_ok(tocsin(
        d,
        None,
        &["action", "list", "--user", "vic", "--overdue"],
    ));
    assert!(
        listed.contains(&id) && listed.contains("planned"),
        "{listed}"
    );

    let out = add("vic", "private_diplomacy").output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "a viewer may not record actions"
    );
    let out = add("ana", "no_such_measure").output().unwrap();
    assert_eq!(out.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&out.stderr).contains("measure_id"));
}
