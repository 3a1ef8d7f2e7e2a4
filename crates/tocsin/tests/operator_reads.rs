//! The operator's reads at the command line leave the same audit entries as the API's: a
//! TLP:RED situation listed, a TLP:RED assessment shown, listed or in a factor's history, an
//! export up to TLP:RED. Through the real binary, on SQLite and PostgreSQL.

mod common;

use common::{add_user, fresh_postgres, run_ok, tocsin};
use sqlx::Connection;
use std::path::Path;

/// `(action, record_type, record_id, detail)` of the audit entries the operator wrote.
async fn operator_entries(dir: &Path, db: Option<&str>) -> Vec<(String, String, String, String)> {
    let q = "SELECT action, record_type, COALESCE(record_id, ''), detail FROM audit_log \
             WHERE actor_name = 'system:cli' ORDER BY seq";
    match db {
        Some(url) => {
            let mut c = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::query_as(q).fetch_all(&mut c).await.unwrap()
        }
        None => {
            let url = format!("sqlite://{}", dir.join("tocsin.db").display());
            let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
            sqlx::query_as(q).fetch_all(&mut c).await.unwrap()
        }
    }
}

fn last_line(s: &str) -> String {
    s.lines().last().unwrap_or("").trim().to_string()
}

#[tokio::test]
async fn operator_reads_of_restricted_records_are_audited_on_sqlite() {
    reads(None).await;
}

#[tokio::test]
async fn operator_reads_of_restricted_records_are_audited_on_postgres() {
    if let Some(url) = fresh_postgres("tocsin_opreads").await {
        reads(Some(&url)).await;
    }
}

async fn reads(db: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    add_user(d, db, "alice", "analyst");
    add_user(d, db, "bob", "analyst");
    let situation = last_line(&run_ok(tocsin(
        d,
        db,
        &[
            "situation",
            "add",
            "--name",
            "CAR north-west",
            "--country",
            "CAF",
            "--tlp",
            "TLP:RED",
        ],
    )));
    let t = run_ok(tocsin(d, db, &["assess", "template"])).replacen(
        "# [[factors]]\n# factor = 1\n# level = \"moderate\"\n# confidence = \"medium\"\n\
         # rationale = \"Why this level, on what evidence.\"",
        "[[factors]]\nfactor = 1\nlevel = \"moderate\"\nconfidence = \"medium\"\n\
         rationale = \"Armed groups clash every week.\"",
        1,
    );
    let file = d.join("a.toml");
    std::fs::write(&file, t).unwrap();
    let a = last_line(&run_ok(tocsin(
        d,
        db,
        &[
            "assess",
            "new",
            "--situation",
            &situation,
            "--user",
            "alice",
            "--file",
            file.to_str().unwrap(),
        ],
    )));
    run_ok(tocsin(d, db, &["assess", "review", &a, "--user", "bob"]));
    run_ok(tocsin(d, db, &["assess", "publish", &a, "--user", "bob"]));
    let before = operator_entries(d, db).await.len();

    let reads = |args: &[&str]| run_ok(tocsin(d, db, args));
    let listed = reads(&["situation", "list"]);
    assert!(listed.contains(&situation), "{listed}");
    reads(&["assess", "list", "--situation", &situation]);
    reads(&["assess", "show", &a]);
    reads(&[
        "assess",
        "history",
        "--situation",
        &situation,
        "--factor",
        "1",
    ]);
    let out = d.join("export.csv");
    let out_s = out.to_str().unwrap();
    reads(&[
        "export",
        "--format",
        "csv",
        "-o",
        out_s,
        "--max-tlp",
        "TLP:RED",
    ]);
    // An export of what is not restricted is not a restricted read.
    reads(&[
        "export",
        "--format",
        "csv",
        "-o",
        out_s,
        "--max-tlp",
        "TLP:AMBER",
    ]);

    let got = operator_entries(d, db).await.split_off(before);
    let kinds: Vec<(&str, &str)> = got
        .iter()
        .map(|(a, k, _, _)| (a.as_str(), k.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("records.list", "situation"),
            ("records.list", "assessment"),
            ("record.read", "assessment"),
            ("records.list", "assessment"),
            ("incident.export", "incident"),
        ],
        "{got:?}"
    );
    assert!(got[0].3.contains(&situation), "{got:?}");
    assert!(got[1].3.contains(&a) && got[3].3.contains(&a), "{got:?}");
    assert_eq!(got[2].2, a);
    assert!(got[4].3.contains("TLP:RED"), "{got:?}");
    let verify = reads(&["audit", "verify"]);
    assert!(verify.contains("audit chain intact"), "{verify}");
}
