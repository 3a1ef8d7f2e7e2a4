//! `tocsin rumour …` and `tocsin file …` through the real binary on a SQLite data directory:
//! the API's rules (who may record, clearance, the workflow, field-named refusals with their
//! exit codes), and the release of a sealed original recorded in the custody log as one from
//! the web.

mod common;

use common::*;
use std::path::Path;
use std::process::Command;
use tocsin_media::sample;

fn last_line(s: &str) -> String {
    s.lines().last().unwrap_or("").trim().to_string()
}

/// Exit code and standard error of a command expected to fail.
fn fails(mut c: Command) -> (i32, String) {
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

/// A report (TLP:AMBER) made over the API of a server on this data directory, with `files`
/// attached; its id and the files' ids.
async fn report_with_files(dir: &Path, token: &str, files: &[Vec<u8>]) -> (String, Vec<String>) {
    let server = Server::start(dir, None);
    let client = reqwest::Client::new();
    let r: serde_json::Value = client
        .post(format!("{}/api/v1/reports", server.base))
        .bearer_auth(token)
        .json(&serde_json::json!({"text": "they said the militia comes on Friday", "tlp": "TLP:AMBER"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let report = r["id"].as_str().unwrap().to_string();
    if files.is_empty() {
        return (report, vec![]);
    }
    let boundary = "tocsin-test-boundary";
    let mut body = Vec::new();
    for (n, f) in files.iter().enumerate() {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; \
                 filename=\"{n}.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(f);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let resp = client
        .post(format!("{}/api/v1/reports/{report}/files", server.base))
        .bearer_auth(token)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let v: serde_json::Value = resp.json().await.unwrap();
    let ids = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    drop(server);
    (report, ids)
}

#[tokio::test]
async fn rumours_are_recorded_moved_and_sighted_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let token = add_user(d, None, "ana", "analyst");
    add_user(d, None, "vic", "viewer");
    let (report, _) = report_with_files(d, &token, &[]).await;
    let add = |user: &str, tlp: &str| {
        tocsin(
            d,
            None,
            &[
                "rumour",
                "add",
                "--user",
                user,
                "--claim",
                "The militia will attack the market on Friday",
                "--country",
                "CAF",
                "--place",
                "Bangui",
                "--priority",
                "high",
                "--tlp",
                tlp,
            ],
        )
    };
    let out = run_ok(add("ana", "TLP:AMBER"));
    assert!(out.contains("recorded rumour (high priority"), "{out}");
    let id = last_line(&out);
    // A viewer may not record one (exit 3), nor see one above their clearance (exit 4).
    let (code, err) = fails(add("vic", "TLP:GREEN"));
    assert_eq!(code, 3, "{err}");
    let (code, err) = fails(tocsin(d, None, &["rumour", "show", &id, "--user", "vic"]));
    assert_eq!(code, 4, "{err}");
    assert!(
        err.contains(&format!("no rumour {id} that vic may see")),
        "{err}"
    );
    let green = last_line(&run_ok(add("ana", "TLP:GREEN")));

    let list = run_ok(tocsin(d, None, &["rumour", "list", "--user", "ana"]));
    assert!(list.contains(&id) && list.contains(&green), "{list}");
    assert!(list.contains("new\thigh"), "{list}");
    let list = run_ok(tocsin(d, None, &["rumour", "list", "--user", "vic"]));
    assert!(list.contains(&green) && !list.contains(&id), "{list}");
    let (code, err) = fails(tocsin(
        d,
        None,
        &["rumour", "list", "--user", "ana", "--status", "rumoured"],
    ));
    assert_eq!(code, 5, "{err}");
    assert!(err.contains("status"), "{err}");

    // A sighting: how and where it was heard; the same report twice is a conflict (exit 6).
    let sighting = |how: &str| {
        tocsin(
            d,
            None,
            &[
                "rumour",
                "sighting",
                &id,
                "--user",
                "ana",
                "--report",
                &report,
                "--how",
                how,
                "--where",
                "Bangui central market",
            ],
        )
    };
    let (code, err) = fails(sighting("pigeon"));
    assert_eq!(code, 5, "{err}");
    let out = run_ok(sighting("radio"));
    assert!(out.contains("marked as a sighting"), "{out}");
    let (code, _) = fails(sighting("radio"));
    assert_eq!(code, 6);
    let show = run_ok(tocsin(d, None, &["rumour", "show", &id, "--user", "ana"]));
    assert!(show.contains("sightings: 1"), "{show}");
    assert!(show.contains("radio\tBangui central market"), "{show}");
    assert!(show.contains(&report), "{show}");
    assert!(show.contains("status: new"), "{show}");

    // The workflow: closing needs findings (exit 5, naming them).
    let status = |state: &str, findings: Option<&str>| {
        let mut args = vec!["rumour", "status", &id, state, "--user", "ana"];
        if let Some(f) = findings {
            args.extend(["--findings", f]);
        }
        tocsin(d, None, &args)
    };
    run_ok(status("under_investigation", None));
    let (code, err) = fails(status("confirmed_false", None));
    assert_eq!(code, 5, "{err}");
    assert!(err.contains("findings"), "{err}");
    let out = run_ok(status(
        "confirmed_false",
        Some("the market committee and two monitors saw no militia movement"),
    ));
    assert!(out.contains("is now confirmed_false"), "{out}");
    let list = run_ok(tocsin(
        d,
        None,
        &[
            "rumour",
            "list",
            "--user",
            "ana",
            "--status",
            "confirmed_false",
        ],
    ));
    assert!(list.contains(&id) && !list.contains(&green), "{list}");
    let show = run_ok(tocsin(d, None, &["rumour", "show", &id, "--user", "ana"]));
    assert!(show.contains("findings: the market committee"), "{show}");
}

#[tokio::test]
async fn files_are_listed_shown_and_originals_released_into_the_custody_log() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let token = add_user(d, None, "ana", "analyst");
    add_user(d, None, "vic", "viewer");
    add_user(d, None, "cur", "analyst");
    run_ok(tocsin(
        d,
        None,
        &["user", "grant", "cur", "evidence_original"],
    ));
    let pdf = sample::pdf_with_metadata();
    let broken = format!("%PDF-1.7\n1 0 obj << /Author ({}) ", sample::SERIAL).into_bytes();
    let (report, ids) = report_with_files(d, &token, &[pdf.clone(), broken.clone()]).await;
    let (clean, unclean) = (&ids[0], &ids[1]);

    let list = run_ok(tocsin(
        d,
        None,
        &["file", "list", "--report", &report, "--user", "ana"],
    ));
    assert!(
        list.contains(clean) && list.contains("PDF Info dictionary"),
        "{list}"
    );
    assert!(list.contains(&format!("{unclean}\tpdf")), "{list}");
    assert!(list.contains("NOT CLEANED"), "{list}");
    // A viewer does not read reports (exit 3); the operator reads them all.
    let (code, _) = fails(tocsin(
        d,
        None,
        &["file", "list", "--report", &report, "--user", "vic"],
    ));
    assert_eq!(code, 3);
    let list = run_ok(tocsin(d, None, &["file", "list", "--report", &report]));
    assert_eq!(list.lines().count(), 2, "{list}");

    let show = run_ok(tocsin(d, None, &["file", "show", unclean, "--user", "ana"]));
    assert!(show.contains("could not be cleaned"), "{show}");
    assert!(show.contains("evidence.upload"), "{show}");
    assert!(!show.contains(sample::SERIAL), "{show}");

    // Releasing an original: the user needs the grant (exit 3, nothing written), a reason
    // (exit 5), and a new file.
    let out_path = d.join("original.pdf");
    let out = out_path.to_str().unwrap();
    let release = |id: &str, reason: &str, user: Option<&str>| {
        let mut args = vec!["file", "original", id, "--reason", reason, "--out", out];
        if let Some(u) = user {
            args.extend(["--user", u]);
        }
        tocsin(d, None, &args)
    };
    let (code, err) = fails(release(clean, "court request 7", Some("ana")));
    assert_eq!(code, 3, "{err}");
    assert!(!out_path.exists());
    let (code, err) = fails(release(clean, "  ", Some("cur")));
    assert_eq!(code, 5, "{err}");
    assert!(err.contains("reason"), "{err}");
    assert!(!out_path.exists());
    let said = run_ok(release(clean, "court request 7", Some("cur")));
    assert!(said.contains("recorded in its custody log"), "{said}");
    assert_eq!(std::fs::read(&out_path).unwrap(), pdf);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&out_path).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o077,
            0,
            "the original is readable by its owner only"
        );
    }
    let (_, err) = fails(release(clean, "again", Some("cur")));
    assert!(err.contains("must not exist"), "{err}");
    std::fs::remove_file(&out_path).unwrap();
    // The operator releases the one that could not be cleaned, byte for byte.
    run_ok(release(unclean, "prosecutor's office, case 12", None));
    assert_eq!(std::fs::read(&out_path).unwrap(), broken);

    let show = run_ok(tocsin(d, None, &["file", "show", clean]));
    assert!(
        show.contains("cur\tevidence.original.release\tcourt request 7"),
        "{show}"
    );
    let show = run_ok(tocsin(d, None, &["file", "show", unclean]));
    assert!(
        show.contains("system:cli\tevidence.original.release\tprosecutor's office, case 12"),
        "{show}"
    );
    // The operator's release is in the audit chain, which still verifies.
    run_ok(tocsin(d, None, &["audit", "verify"]));
}
