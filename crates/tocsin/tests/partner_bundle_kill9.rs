//! A partner bundle's import killed mid-way (`kill -9`) resumes without duplicates: A (SQLite)
//! holds 20,000 verified incidents (an ACLED import), exports a signed bundle for B (PostgreSQL;
//! a SQLite file when `TOCSIN_TEST_POSTGRES_URL` is unset); B's `tocsin share import` is killed
//! with SIGKILL while it writes; importing the same file again completes it: every incident
//! held exactly once (what the first run stored counts as unchanged), and a third import
//! changes nothing.

mod common;

use common::*;
use std::process::Stdio;
use std::time::Duration;

const N: usize = 20_000;

fn acled(path: &std::path::Path) {
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tocsin-exchange/tests/fixtures/acled.csv"
    );
    let mut r = csv::Reader::from_path(fixture).unwrap();
    let header = r.headers().unwrap().clone();
    let row = r.records().next().unwrap().unwrap();
    let mut w = csv::Writer::from_path(path).unwrap();
    w.write_record(&header).unwrap();
    for i in 0..N {
        let mut rec: Vec<String> = row.iter().map(str::to_string).collect();
        rec[0] = format!("CEN{}", 100_000 + i);
        rec[22] = format!("{:.4}", 6.0 + (i % 1000) as f64 / 2000.0);
        rec[23] = format!("{:.4}", 15.5 + (i / 1000) as f64 / 200.0);
        rec[27] = format!("Kill test incident {i}: armed men attacked a village.");
        w.write_record(&rec).unwrap();
    }
    w.flush().unwrap();
}

fn counts(out: &str) -> (u64, u64) {
    // "created C, updated U, retracted R, unchanged N, …"
    let n = |k: &str| -> u64 {
        out.split(", ")
            .find_map(|p| p.trim().strip_prefix(k))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("{k} in {out}"))
    };
    (n("created "), n("unchanged "))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_killed_midway_resumes_without_duplicates() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    let pg = fresh_postgres("tocsin_partner_kill9").await;
    let bdb = pg.as_deref();
    let csv_path = tmp.path().join("big.csv");
    acled(&csv_path);
    run_ok(tocsin(
        &a,
        None,
        &["import", "acled", csv_path.to_str().unwrap()],
    ));
    run_ok(tocsin(&b, bdb, &["migrate"]));
    let key_a = run_ok(tocsin(&a, None, &["share", "key"]))
        .trim()
        .to_string();
    let key_b = run_ok(tocsin(&b, bdb, &["share", "key"]))
        .trim()
        .to_string();
    run_ok(tocsin(
        &a,
        None,
        &[
            "partner",
            "add",
            "B",
            "--url",
            "https://b.example",
            "--key",
            &key_b,
            "--max-tlp",
            "TLP:AMBER",
        ],
    ));
    run_ok(tocsin(
        &b,
        bdb,
        &[
            "partner",
            "add",
            "A",
            "--url",
            "https://a.example",
            "--key",
            &key_a,
            "--max-tlp",
            "TLP:GREEN",
        ],
    ));
    common::approve_terms(|args| tocsin(&a, None, args), "B");
    let bundle = tmp.path().join("bundle.tocsin");
    run_ok(tocsin(
        &a,
        None,
        &[
            "share",
            "export",
            "--partner",
            "B",
            "--out",
            bundle.to_str().unwrap(),
        ],
    ));
    let file = bundle.to_str().unwrap();

    // Killed while it writes: wait until some incidents are stored, then SIGKILL.
    let mut child = tocsin(&b, bdb, &["share", "import", file, "--from", "A"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let mut stored_before_kill = 0;
    while started.elapsed() < Duration::from_secs(120) {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        stored_before_kill = held(&b, bdb).await;
        if stored_before_kill > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let status = child.wait().unwrap();
    eprintln!("killed ({status}) with {stored_before_kill} incidents stored");

    // Again: completes it, each incident once.
    let out = run_ok(tocsin(&b, bdb, &["share", "import", file, "--from", "A"]));
    let (created, unchanged) = counts(&out);
    assert_eq!(created + unchanged, N as u64, "{out}");
    assert_eq!(held(&b, bdb).await, N as u64);
    let out = run_ok(tocsin(&b, bdb, &["share", "import", file, "--from", "A"]));
    assert_eq!(counts(&out), (0, N as u64), "{out}");
    assert_eq!(held(&b, bdb).await, N as u64);
}

/// How many received incidents B holds (a direct count: the import is still running).
async fn held(b: &std::path::Path, pg: Option<&str>) -> u64 {
    use sqlx::Connection;
    let q = "SELECT count(*) FROM received_records";
    let n: i64 = match pg {
        Some(url) => {
            let mut c = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::query_scalar(q).fetch_one(&mut c).await.unwrap()
        }
        None => {
            let url = format!("sqlite://{}", b.join("tocsin.db").display());
            let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
            sqlx::query_scalar(q).fetch_one(&mut c).await.unwrap()
        }
    };
    n as u64
}
