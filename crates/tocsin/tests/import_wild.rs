//! `tocsin import` on files as other tools write them, as a user runs it: the format sniffed
//! and said, rejections grouped by reason, the documented exit codes, the real gazetteer
//! placing a GDELT event at sea, and a closed pipe that changes nothing.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Stdio;

mod common;
use common::{run_ok, tocsin};

fn wild(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tocsin-exchange/tests/fixtures/wild")
        .join(name)
}

/// Exit code, standard output, standard error.
fn run(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let o = tocsin(dir, None, args).output().unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// The exported incidents as CSV records (all labels).
fn exported(dir: &Path) -> Vec<csv::StringRecord> {
    let out = run_ok(tocsin(
        dir,
        None,
        &["export", "--format", "csv", "--max-tlp", "TLP:RED"],
    ));
    csv::Reader::from_reader(out.as_bytes())
        .records()
        .map(|r| r.unwrap())
        .collect()
}

#[test]
fn sniffed_formats_grouped_rejections_and_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Every row imported: exit 0, the sniffed format, encoding and layout said.
    let p = wild("acled_cp1252.csv");
    let (code, out, err) = run(d, &["import", p.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        out.contains("format: acled (sniffed: the header has event_id_cnty (ACLED))"),
        "{out}"
    );
    assert!(out.contains("encoding: windows-1252 (assumed"), "{out}");
    assert!(out.contains("layout: ACLED (2019 onwards)"), "{out}");
    assert!(
        out.contains("read 2, inserted 2, updated 0, rejected 0, skipped 0"),
        "{out}"
    );
    let rows = exported(d);
    let caf = rows.iter().find(|r| &r[2] == "CAF900").unwrap();
    assert_eq!(
        &caf[23],
        "Attaque près de Bossangoa; « deux blessés » — selon l’ONU."
    );

    // Some rows rejected: exit 1, grouped by reason with their lines.
    let p = wild("acled_2016.csv");
    let (code, out, _) = run(d, &["import", p.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("layout: ACLED 2015–2016"), "{out}");
    assert!(out.contains("rejected rows by reason:"), "{out}");
    assert!(
        out.contains("1 row: event_type: \"Mystery type\" is not an event type of ACLED's layouts before 2019 — line 5"),
        "{out}"
    );

    // Nothing imported (every row rejected): exit 2, said on standard error.
    let bad = d.join("bad_dates.csv");
    let text = std::fs::read_to_string(wild("acled_spreadsheet_dates.csv")).unwrap();
    let header = text.lines().next().unwrap();
    let row = text.lines().nth(4).unwrap(); // 05/09/2020
    std::fs::write(
        &bad,
        format!("{header}\n{row}\n{}\n", row.replacen("MLI4", "MLI5", 1)),
    )
    .unwrap();
    let (code, out, err) = run(d, &["import", "acled", bad.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{out}{err}");
    assert!(
        out.contains("2 rows: event_date: \"05/09/2020\" could be day/month or month/day"),
        "{out}"
    );
    assert!(!out.contains("(and alike)"), "the same value twice: {out}");
    assert!(out.contains("lines 2, 3"), "{out}");
    assert!(
        err.contains("nothing was imported: every row was rejected"),
        "{err}"
    );
    // The same file with --date-format imports.
    let (code, out, _) = run(
        d,
        &[
            "import",
            "acled",
            bad.to_str().unwrap(),
            "--date-format",
            "%d/%m/%Y",
        ],
    );
    assert_eq!(code, Some(0), "{out}");
    let rows = exported(d);
    let mli5 = rows.iter().find(|r| &r[2] == "MLI5").unwrap();
    assert_eq!(&mli5[3], "2020-09-05");

    // A file that cannot be read: exit 2.
    let (code, _, err) = run(d, &["import", wild("two_members.zip").to_str().unwrap()]);
    assert_eq!(code, Some(2));
    assert!(err.contains("name one with --member"), "{err}");
    // An unknown encoding label is refused before anything is read.
    let (code, _, err) = run(
        d,
        &[
            "import",
            "acled",
            wild("acled_r_na.csv").to_str().unwrap(),
            "--encoding",
            "klingon",
        ],
    );
    assert_eq!(code, Some(2));
    assert!(err.contains("unknown encoding"), "{err}");

    // Help documents the exit codes and the new flags.
    let help = run_ok(tocsin(d, None, &["import", "--help"]));
    for s in [
        "Exit codes:",
        "--encoding",
        "--member",
        "--date-format",
        "[FORMAT] FILE",
    ] {
        assert!(help.contains(s), "{s}: {help}");
    }
}

#[test]
fn zipped_gdelt_1_at_sea_is_placed_by_fips_with_the_gazetteer() {
    let dir = tempfile::tempdir().unwrap();
    let p = wild("gdelt_v1_daily.zip");
    let (code, out, err) = run(dir.path(), &["import", p.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("format: gdelt"), "{out}");
    assert!(
        out.contains("compression: zip member 20150102.export.CSV"),
        "{out}"
    );
    assert!(
        out.contains("read 3, inserted 2, updated 0, rejected 0, skipped 1"),
        "{out}"
    );
    let rows = exported(dir.path());
    let uk = rows.iter().find(|r| &r[2] == "300001").unwrap();
    assert_eq!((&uk[8], &uk[12], &uk[13]), ("GBR", "54", "-4"), "{uk:?}");
    let bria = rows.iter().find(|r| &r[2] == "300002").unwrap();
    assert_eq!(&bria[8], "CAF");
    assert!(!bria[9].is_empty(), "admin1 from the gazetteer: {bria:?}");
}

/// `tocsin import … | head -1`: the reader goes away before the summary is written. The
/// import still commits, nothing panics, and the exit code is the import's own.
#[test]
fn a_closed_pipe_neither_panics_nor_changes_the_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let p = wild("acled_crlf.csv");
    let mut child = tocsin(dir.path(), None, &["import", p.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Close the read end at once, as `head -1` does once it has its line.
    drop(child.stdout.take());
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let status = child.wait().unwrap();
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(status.code(), Some(1), "3 imported, 1 rejected: {err}");
    let rows = exported(dir.path());
    assert_eq!(rows.len(), 3, "the import committed");
    // And through a real `head -1`.
    let sh = format!(
        "{} --data-dir {} import {} | head -c 1 >/dev/null; echo \"${{PIPESTATUS[0]}}\"",
        common::BIN,
        dir.path().display(),
        wild("acled_r_na.csv").display()
    );
    let o = std::process::Command::new("bash")
        .arg("-c")
        .arg(&sh)
        .env("TOCSIN_LOG", "warn")
        .env_remove("TOCSIN_DATABASE_URL")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "0", "{stderr}");
    assert_eq!(exported(dir.path()).len(), 6);
}
