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

async fn get(base: &str, token: &str, path: &str) -> serde_json::Value {
    reqwest::Client::new()
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Poll (at most a minute) until `f` holds of what `path` answers.
async fn until(
    base: &str,
    token: &str,
    path: &str,
    f: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    for _ in 0..600 {
        let v = get(base, token, path).await;
        if f(&v) {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!(
        "{path} never showed the expected state: {}",
        get(base, token, path).await
    );
}

/// `tocsin serve` runs the reminder job: the lead of an overdue action is reminded (once per
/// due date: the guard is tested across two stores in `tocsin-app/tests/actions.rs`).
#[tokio::test]
async fn the_server_reminds_a_lead_of_an_overdue_action_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let token = add_user(d, None, "ana", "analyst");
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
    let out = run_ok(tocsin(
        d,
        None,
        &[
            "action",
            "add",
            "--user",
            "ana",
            "--situation",
            &sit,
            "--measure",
            "private_diplomacy",
            "--department",
            "foreign affairs",
            "--due",
            "2020-01-01",
        ],
    ));
    let id = out.lines().last().unwrap().trim().to_string();
    let path = format!("/api/v1/actions/{id}");
    let server = Server::start(d, None);
    let v = until(&server.base, &token, &path, |v| {
        v["reminders"].as_array().is_some_and(|r| !r.is_empty())
    })
    .await;
    assert_eq!(v["reminders"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["reminders"][0]["due_date"], "2020-01-01");
    assert_eq!(v["overdue"], true);
    drop(server);
    let audit = run_ok(tocsin(d, None, &["audit", "verify"]));
    assert!(audit.contains("verified"), "{audit}");
}
