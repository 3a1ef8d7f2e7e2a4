//! `tocsin user add … --email --phone` and `tocsin user set`: staff contact details from the
//! command line, checked before anything is written, shown back masked, the number sealed.

mod common;

use common::{run_err, run_ok, tocsin};

#[test]
fn contacts_from_the_command_line_are_checked_masked_and_sealed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = run_ok(tocsin(
        d,
        None,
        &[
            "user",
            "add",
            "ana",
            "--role",
            "desk_officer",
            "--email",
            "ana@example.org",
            "--phone",
            "+254 700 123 456",
        ],
    ));
    assert!(out.contains("email: a•••@example.org"), "{out}");
    assert!(out.contains("phone: +••••••••••56"), "{out}");
    assert!(
        !out.contains("700123") && !out.contains("ana@example.org"),
        "{out}"
    );
    assert!(
        out.lines().last().unwrap().starts_with("tsn_"),
        "the token stays last: {out}"
    );

    // A bad address refuses the whole command: no user is created.
    let mut c = tocsin(
        d,
        None,
        &["user", "add", "bob", "--role", "viewer", "--email", "bob"],
    );
    let status = c.status().unwrap();
    assert_eq!(status.code(), Some(5), "invalid input");
    let err = run_err(tocsin(
        d,
        None,
        &["user", "add", "bob", "--role", "viewer", "--email", "bob"],
    ));
    assert!(err.contains("email"), "{err}");
    assert!(!run_ok(tocsin(d, None, &["user", "list"])).contains("bob"));

    let out = run_ok(tocsin(
        d,
        None,
        &[
            "user",
            "set",
            "ana",
            "--channels",
            "critical=sms+inbox,low=none",
        ],
    ));
    assert!(out.contains("critical: sms+inbox"), "{out}");
    assert!(out.contains("low: none"), "{out}");
    assert!(
        out.contains("high: email+inbox"),
        "untouched severities keep theirs: {out}"
    );
    let err = run_err(tocsin(
        d,
        None,
        &["user", "set", "ana", "--channels", "critical=pager"],
    ));
    assert!(err.contains("channels.critical"), "{err}");
    let err = run_err(tocsin(
        d,
        None,
        &["user", "set", "ana", "--phone", "MTN-INFO"],
    ));
    assert!(err.contains("phone"), "{err}");

    // The number is nowhere in the data directory in clear.
    for entry in std::fs::read_dir(d).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            assert!(
                !bytes.windows(9).any(|w| w == b"700123456"),
                "{} holds the number in clear",
                path.display()
            );
        }
    }
}
