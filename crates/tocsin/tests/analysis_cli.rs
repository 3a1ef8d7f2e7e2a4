//! Risk analysis by CLI, through the real binary: the assessment workflow with two analysts,
//! granted permissions, escalation signals on imported incidents, stored forecast runs.

mod common;

use chrono::{Days, NaiveDate};
use common::{add_user, run_err, run_ok, tocsin};
use sqlx::Connection;
use std::path::Path;

fn sqlite(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("tocsin.db").display())
}

/// The template with risk factor 1 filled in at `level`.
fn filled_template(dir: &Path, level: &str, rationale: &str) -> String {
    let t = run_ok(tocsin(dir, None, &["assess", "template"]));
    assert!(t.contains("# [[factors]]\n# factor = 1\n"), "{t}");
    t.replacen(
        "# [[factors]]\n# factor = 1\n# level = \"moderate\"\n# confidence = \"medium\"\n\
         # rationale = \"Why this level, on what evidence.\"",
        &format!(
            "[[factors]]\nfactor = 1\nlevel = \"{level}\"\nconfidence = \"medium\"\n\
             rationale = \"{rationale}\""
        ),
        1,
    )
}

fn last_line(s: &str) -> String {
    s.lines().last().unwrap_or("").trim().to_string()
}

#[test]
fn assessment_workflow_by_cli() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    add_user(d, None, "alice", "analyst");
    add_user(d, None, "bob", "analyst");
    add_user(d, None, "vera", "viewer");
    let out = run_ok(tocsin(
        d,
        None,
        &[
            "situation",
            "add",
            "--name",
            "CAR north-west",
            "--country",
            "CAF",
            "--admin1",
            "Ouham",
        ],
    ));
    let situation = last_line(&out);
    assert!(uuid::Uuid::parse_str(&situation).is_ok(), "{out}");
    let list = run_ok(tocsin(d, None, &["situation", "list"]));
    assert!(
        list.contains(&situation) && list.contains("CAR north-west") && list.contains("TLP:AMBER"),
        "{list}"
    );
    // A situation over two admin-1 areas: `--admin1` once per area.
    let out = run_ok(tocsin(
        d,
        None,
        &[
            "situation",
            "add",
            "--name",
            "CAR east",
            "--country",
            "CAF",
            "--admin1",
            "Ouaka",
            "--admin1",
            "Vakaga",
        ],
    ));
    let east = last_line(&out);
    let list = run_ok(tocsin(d, None, &["situation", "list"]));
    assert!(
        list.lines()
            .any(|l| l.starts_with(&east) && l.contains("\tOuaka; Vakaga\t")),
        "{list}"
    );

    // The template names every risk factor of the UN framework.
    let t = run_ok(tocsin(d, None, &["assess", "template"]));
    assert!(t.contains("framework = \"un-foa-2014\""), "{t}");
    assert!(t.contains("# factor = 14"), "{t}");
    assert!(t.contains("Situations of armed conflict"), "{t}");

    let first = d.join("first.toml");
    std::fs::write(
        &first,
        filled_template(d, "moderate", "Armed groups clash every week."),
    )
    .unwrap();
    let first_s = first.to_str().unwrap();

    // A viewer may not write assessments.
    let e = run_err(tocsin(
        d,
        None,
        &[
            "assess",
            "new",
            "--situation",
            &situation,
            "--user",
            "vera",
            "--file",
            first_s,
        ],
    ));
    assert!(e.contains("may not write assessments"), "{e}");

    // Nor may an assessment be labelled below its TLP:AMBER situation.
    let below = d.join("below.toml");
    std::fs::write(
        &below,
        format!(
            "tlp = \"TLP:GREEN\"\n{}",
            filled_template(d, "moderate", "Armed groups clash every week.")
        ),
    )
    .unwrap();
    let e = run_err(tocsin(
        d,
        None,
        &[
            "assess",
            "new",
            "--situation",
            &situation,
            "--user",
            "alice",
            "--file",
            below.to_str().unwrap(),
        ],
    ));
    assert!(
        e.contains("tlp") && e.contains("below its situation's label TLP:AMBER"),
        "{e}"
    );

    let out = run_ok(tocsin(
        d,
        None,
        &[
            "assess",
            "new",
            "--situation",
            &situation,
            "--user",
            "alice",
            "--file",
            first_s,
        ],
    ));
    let a1 = last_line(&out);
    assert!(uuid::Uuid::parse_str(&a1).is_ok(), "{out}");

    // The author cannot review their own assessment.
    let e = run_err(tocsin(
        d,
        None,
        &["assess", "review", &a1, "--user", "alice"],
    ));
    assert!(
        e.contains("the author cannot review their own assessment"),
        "{e}"
    );
    // Nor can it be published before review.
    let e = run_err(tocsin(
        d,
        None,
        &["assess", "publish", &a1, "--user", "bob"],
    ));
    assert!(e.contains("cannot go from draft to published"), "{e}");
    run_ok(tocsin(
        d,
        None,
        &[
            "assess",
            "review",
            &a1,
            "--user",
            "bob",
            "--note",
            "sources check out",
        ],
    ));
    let out = run_ok(tocsin(
        d,
        None,
        &["assess", "publish", &a1, "--user", "bob"],
    ));
    assert!(out.contains("published by bob"), "{out}");
    // A published assessment is never edited.
    let e = run_err(tocsin(
        d,
        None,
        &["assess", "edit", &a1, "--user", "alice", "--file", first_s],
    ));
    assert!(e.contains("only a draft can be edited"), "{e}");

    // A second assessment by bob, written moderate and then edited (as JSON) to high.
    let out = run_ok(tocsin(
        d,
        None,
        &[
            "assess",
            "new",
            "--situation",
            &situation,
            "--user",
            "bob",
            "--file",
            first_s,
        ],
    ));
    let a2 = last_line(&out);
    let edit = d.join("edit.json");
    std::fs::write(
        &edit,
        serde_json::json!({
            "summary": "Escalation around Bossangoa.",
            "factors": [{"factor": 1, "level": "high", "confidence": "high",
                         "rationale": "Clashes doubled since the last assessment."}],
            "observations": [{"indicator": "1.1", "observed": "present"}],
        })
        .to_string(),
    )
    .unwrap();
    run_ok(tocsin(
        d,
        None,
        &[
            "assess",
            "edit",
            &a2,
            "--user",
            "bob",
            "--file",
            edit.to_str().unwrap(),
        ],
    ));
    // An edit naming a factor the framework lacks is refused.
    let bad = d.join("bad.toml");
    std::fs::write(
        &bad,
        "[[factors]]\nfactor = 99\nlevel = \"high\"\nconfidence = \"low\"\nrationale = \"x\"\n",
    )
    .unwrap();
    let e = run_err(tocsin(
        d,
        None,
        &[
            "assess",
            "edit",
            &a2,
            "--user",
            "bob",
            "--file",
            bad.to_str().unwrap(),
        ],
    ));
    assert!(e.contains("factors[0].factor"), "{e}");

    let show = run_ok(tocsin(d, None, &["assess", "show", &a2]));
    assert!(show.contains("status: draft"), "{show}");
    assert!(
        show.contains(
            "1. Situations of armed conflict or other forms of instability: high (confidence high)"
        ),
        "{show}"
    );
    assert!(show.contains("Clashes doubled"), "{show}");
    assert!(
        show.contains(&format!("Changes since the published assessment {a1}")),
        "{show}"
    );
    assert!(show.contains("level moderate -> high"), "{show}");
    assert!(show.contains("confidence medium -> high"), "{show}");
    assert!(
        show.contains("indicator 1.1: not recorded -> present"),
        "{show}"
    );

    run_ok(tocsin(
        d,
        None,
        &["assess", "review", &a2, "--user", "alice"],
    ));
    run_ok(tocsin(
        d,
        None,
        &[
            "assess",
            "return",
            &a2,
            "--user",
            "alice",
            "--note",
            "cite the sources",
        ],
    ));
    run_ok(tocsin(
        d,
        None,
        &["assess", "review", &a2, "--user", "alice"],
    ));
    run_ok(tocsin(
        d,
        None,
        &["assess", "publish", &a2, "--user", "alice"],
    ));
    let show = run_ok(tocsin(d, None, &["assess", "show", &a2]));
    assert!(show.contains("status: published"), "{show}");
    assert!(
        show.contains("reviewed -> draft (cite the sources)"),
        "{show}"
    );
    assert!(show.contains("level moderate -> high"), "{show}");
    let show1 = run_ok(tocsin(d, None, &["assess", "show", &a1]));
    assert!(show1.contains("No earlier published assessment"), "{show1}");

    let list = run_ok(tocsin(
        d,
        None,
        &["assess", "list", "--situation", &situation],
    ));
    assert_eq!(list.lines().count(), 2, "{list}");
    assert!(list.contains(&a1) && list.contains(&a2), "{list}");
    let hist = run_ok(tocsin(
        d,
        None,
        &[
            "assess",
            "history",
            "--situation",
            &situation,
            "--factor",
            "1",
        ],
    ));
    let levels: Vec<&str> = hist
        .lines()
        .skip(1)
        .map(|l| l.split('\t').nth(1).unwrap())
        .collect();
    assert_eq!(levels, ["moderate", "high"], "{hist}");
    let audit = run_ok(tocsin(d, None, &["audit", "verify"]));
    assert!(audit.contains("audit chain intact"), "{audit}");
}

#[tokio::test]
async fn user_grant_refuses_a_viewer_and_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    add_user(d, None, "alice", "analyst");
    add_user(d, None, "vera", "viewer");
    let e = run_err(tocsin(d, None, &["user", "grant", "vera", "legal_qualify"]));
    assert!(
        e.contains("legal_qualify is granted to analysts only"),
        "{e}"
    );
    let e = run_err(tocsin(d, None, &["user", "grant", "alice", "root"]));
    assert!(e.contains("expected legal_qualify"), "{e}");
    let e = run_err(tocsin(
        d,
        None,
        &["user", "grant", "nobody", "legal_qualify"],
    ));
    assert!(e.contains("no user named"), "{e}");
    run_ok(tocsin(
        d,
        None,
        &["user", "grant", "alice", "legal_qualify"],
    ));
    let users = run_ok(tocsin(d, None, &["user", "list"]));
    assert!(
        users
            .lines()
            .any(|l| l.starts_with("alice\t") && l.ends_with("grants: legal_qualify")),
        "{users}"
    );
    assert!(!users
        .lines()
        .any(|l| l.starts_with("vera\t") && l.contains("grants")));
    run_ok(tocsin(
        d,
        None,
        &["user", "revoke-grant", "alice", "legal_qualify"],
    ));
    let users = run_ok(tocsin(d, None, &["user", "list"]));
    assert!(!users.contains("grants"), "{users}");

    let mut conn = sqlx::SqliteConnection::connect(&sqlite(d)).await.unwrap();
    let actions: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM audit_log WHERE action LIKE 'user.%grant' ORDER BY seq",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(actions, ["user.grant", "user.revoke_grant"]);
}

/// An ACLED file of one incident in Ouham on each of `dates`, with ids `{prefix}1`, `{prefix}2`, …
fn ouham_csv(path: &Path, prefix: &str, dates: impl IntoIterator<Item = NaiveDate>) {
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tocsin-exchange/tests/fixtures/acled.csv");
    let mut r = csv::Reader::from_path(fixture).unwrap();
    let headers = r.headers().unwrap().clone();
    let row = r.records().next().unwrap().unwrap();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let mut w = csv::Writer::from_path(path).unwrap();
    w.write_record(&headers).unwrap();
    for (i, date) in dates.into_iter().enumerate() {
        let n = i + 1;
        let mut cells: Vec<String> = row.iter().map(str::to_string).collect();
        cells[col("event_id_cnty")] = format!("{prefix}{n}");
        cells[col("event_date")] = date.to_string();
        cells[col("year")] = date.format("%Y").to_string();
        cells[col("admin1")] = "Ouham".into();
        cells[col("admin2")] = "Bossangoa".into();
        cells[col("location")] = "Bossangoa".into();
        cells[col("latitude")] = "6.4926".into();
        cells[col("longitude")] = "17.4552".into();
        cells[col("fatalities")] = "1".into();
        cells[col("notes")] = format!("Synthetic event {n}.");
        w.write_record(&cells).unwrap();
    }
    w.flush().unwrap();
}

/// The day of the surge after 40 quiet weeks from `first_monday`.
fn surge_day(first_monday: NaiveDate) -> NaiveDate {
    first_monday + Days::new(7 * 40 + 2)
}

/// One incident a week in Ouham for 40 weeks, then `surge` in one week (the day returned).
fn quiet_then_surge(first_monday: NaiveDate, surge: usize) -> Vec<NaiveDate> {
    let last = surge_day(first_monday);
    (0..40u64)
        .map(|week| first_monday + Days::new(7 * week + 2))
        .chain(std::iter::repeat_n(last, surge))
        .collect()
}

/// An ACLED file: one incident a week in Ouham for 40 weeks, then fifteen in one week.
fn escalation_csv(path: &Path, first_monday: NaiveDate) -> NaiveDate {
    ouham_csv(path, "SYN", quiet_then_surge(first_monday, 15));
    surge_day(first_monday)
}

#[test]
fn signals_run_records_an_escalation_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let csv = d.join("escalation.csv");
    let last = escalation_csv(&csv, NaiveDate::from_ymd_opt(2024, 1, 1).unwrap());
    let out = run_ok(tocsin(d, None, &["import", "acled", csv.to_str().unwrap()]));
    assert!(out.contains("inserted 55"), "{out}");
    let as_of = last.to_string();
    let run = |d: &Path| {
        run_ok(tocsin(
            d,
            None,
            &["signals", "run", "--as-of", &as_of, "--weeks", "2"],
        ))
    };
    let out = run(d);
    let signal = out
        .lines()
        .find(|l| l.contains("15 incidents in Ouham, CAF in the week of 2024-10-07"))
        .unwrap_or_else(|| panic!("no Ouham signal: {out}"));
    assert!(signal.contains("expected"), "{signal}");
    assert!(
        signal.contains("high") || signal.contains("moderate"),
        "{signal}"
    );
    let summary = last_line(&out);
    let found: u64 = summary.split(' ').next().unwrap().parse().unwrap();
    assert!(found >= 1, "{summary}");
    assert!(summary.ends_with(&format!("{found} new")), "{out}");
    let again = run(d);
    assert!(again.contains("15 incidents in Ouham, CAF"), "{again}");
    assert!(last_line(&again).ends_with(", 0 new"), "{again}");
    // Weeks before the escalation gave no signal.
    let quiet = run_ok(tocsin(
        d,
        None,
        &["signals", "run", "--as-of", "2024-09-30", "--weeks", "4"],
    ));
    assert!(last_line(&quiet).starts_with("0 signals"), "{quiet}");
}

#[tokio::test]
async fn forecast_run_store_keeps_ranks_and_contributions() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/ewp/prepared2024predictors-2025-09-03.csv");
    if !data.exists() {
        assert_ne!(
            std::env::var("TOCSIN_REQUIRE_DATA").as_deref(),
            Ok("1"),
            "TOCSIN_REQUIRE_DATA=1 but {} is absent",
            data.display()
        );
        println!(
            "skipping: {} is absent (the Early Warning Project data)",
            data.display()
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = run_ok(tocsin(
        d,
        None,
        &[
            "forecast",
            "run",
            "--data",
            data.to_str().unwrap(),
            "--year",
            "2024",
            "--top",
            "5",
            "--store",
        ],
    ));
    assert!(out.contains("(0 skipped)"), "{out}");
    let id = last_line(&out);
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{out}");

    let mut conn = sqlx::SqliteConnection::connect(&sqlite(d)).await.unwrap();
    let (year, model, file, countries): (i64, String, String, i64) =
        sqlx::query_as("SELECT year, model, data, countries FROM forecast_runs WHERE id = ?")
            .bind(&id)
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(
        (year, model.as_str(), file.as_str()),
        (2024, "tocsin", "prepared2024predictors-2025-09-03.csv")
    );
    assert!(countries > 150, "{countries}");
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM forecast_scores WHERE run_id = ?")
        .bind(&id)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(n, countries);
    // `--store` belongs to `run`.
    let e = run_err(tocsin(
        d,
        None,
        &["forecast", "backtest", "--data", "x.csv", "--store"],
    ));
    assert!(
        e.contains("--store applies to `tocsin forecast run` only"),
        "{e}"
    );
}

/// Start `tocsin serve` with `envs`, wait until its log says `expect`, stop it; the log.
fn serve_log(dir: &Path, config: &Path, envs: &[(&str, &str)], expect: &str) -> String {
    use std::io::{BufRead, BufReader};
    let log = dir.join(format!("serve-{}.log", uuid::Uuid::now_v7()));
    let mut c = tocsin(
        dir,
        None,
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--config",
            config.to_str().unwrap(),
        ],
    );
    c.env("TOCSIN_LOG", "info")
        .env_remove("TOCSIN_SIGNALS_INTERVAL_MINUTES")
        .envs(envs.iter().copied())
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap());
    let mut child = c.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    assert!(lines
        .next()
        .expect("serve exited early")
        .unwrap()
        .starts_with("Tocsin is listening"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    let text = loop {
        let text = std::fs::read_to_string(&log).unwrap();
        if text.contains(expect) || std::time::Instant::now() > deadline {
            break text;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let _ = child.kill();
    let _ = child.wait();
    text
}

#[test]
fn signals_schedule_follows_file_then_environment() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let config = d.join("tocsin.toml");
    std::fs::write(&config, "[signals]\ninterval_minutes = 5\nweeks = 3\n").unwrap();
    let log = serve_log(d, &config, &[], "signals will run on a schedule");
    assert!(
        log.contains("signals will run on a schedule")
            && log.contains("interval_minutes=5")
            && log.contains("weeks=3"),
        "{log}"
    );
    let log = serve_log(
        d,
        &config,
        &[("TOCSIN_SIGNALS_INTERVAL_MINUTES", "0")],
        "scheduled signal runs are off",
    );
    assert!(log.contains("scheduled signal runs are off"), "{log}");

    // Settings the detector cannot work with are refused before anything runs.
    std::fs::write(&config, "[signals]\nwindow_weeks = 0\n").unwrap();
    let mut c = tocsin(d, None, &["signals", "run"]);
    c.env("TOCSIN_CONFIG", &config);
    let e = run_err(c);
    assert!(
        e.contains("signals.window_weeks: must be at least 1"),
        "{e}"
    );
}

/// `tocsin serve` on an ephemeral port; the child and its base URL.
fn serve(dir: &Path) -> (std::process::Child, String) {
    use std::io::{BufRead, BufReader};
    let mut c = tocsin(dir, None, &["serve", "--listen", "127.0.0.1:0"]);
    c.env("TOCSIN_SIGNALS_INTERVAL_MINUTES", "0")
        .stdout(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().expect("serve exited early").unwrap();
    let base = first
        .strip_prefix("Tocsin is listening on ")
        .unwrap_or_else(|| panic!("{first}"))
        .trim_end_matches('/')
        .to_string();
    (child, base)
}

/// The `name=value` part of the response's cookie `name`.
fn cookie_of(resp: &reqwest::Response, name: &str) -> String {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|v| v.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie"))
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

/// Log in through the form; the session cookie.
async fn browser_session(client: &reqwest::Client, base: &str, user: &str) -> String {
    let resp = client.get(format!("{base}/login")).send().await.unwrap();
    let pre = resp.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let html = resp.text().await.unwrap();
    let csrf = html.split("name=\"csrf\" value=\"").nth(1).unwrap();
    let csrf = csrf.split('"').next().unwrap();
    let resp = client
        .post(format!("{base}/login"))
        .header("cookie", pre)
        .form(&[
            ("csrf", csrf),
            ("username", user),
            ("password", "a long test password"),
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), reqwest::StatusCode::SEE_OTHER);
    cookie_of(&resp, "tocsin_session")
}

#[tokio::test]
async fn signals_and_overviews_count_only_what_the_caller_may_see() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // In Ouham: a quiet TLP:GREEN baseline, then a surge of ten TLP:GREEN incidents and ten
    // TLP:RED ones in the same week.
    let monday = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    let (green, red) = (d.join("green.csv"), d.join("red.csv"));
    ouham_csv(&green, "G", quiet_then_surge(monday, 10));
    ouham_csv(&red, "R", std::iter::repeat_n(surge_day(monday), 10));
    for (file, dataset, tlp) in [(&green, "green", "TLP:GREEN"), (&red, "red", "TLP:RED")] {
        run_ok(tocsin(
            d,
            None,
            &[
                "import",
                "acled",
                file.to_str().unwrap(),
                "--dataset",
                dataset,
                "--tlp",
                tlp,
            ],
        ));
    }
    let viewer = add_user(d, None, "vera", "viewer");
    let analyst = add_user(d, None, "ana", "analyst");
    let mut add = tocsin(
        d,
        None,
        &["user", "add", "vic", "--role", "viewer", "--password-stdin"],
    );
    add.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped());
    let mut child = add.spawn().unwrap();
    {
        use std::io::Write;
        writeln!(child.stdin.take().unwrap(), "a long test password").unwrap();
    }
    assert!(child.wait().unwrap().success());
    let out = run_ok(tocsin(
        d,
        None,
        &[
            "situation",
            "add",
            "--name",
            "CAR north-west",
            "--country",
            "CAF",
            "--admin1",
            "Ouham",
            "--tlp",
            "TLP:GREEN",
        ],
    ));
    let situation = last_line(&out);

    // The run prints the system's view: every incident.
    let as_of = surge_day(monday).to_string();
    let out = run_ok(tocsin(
        d,
        None,
        &["signals", "run", "--as-of", &as_of, "--weeks", "2"],
    ));
    assert!(out.contains("20 incidents in Ouham, CAF"), "{out}");

    let (mut server, base) = serve(d);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let get = |token: String, path: String| {
        let req = client.get(format!("{base}{path}")).bearer_auth(token);
        async move {
            let resp = req.send().await.unwrap();
            assert_eq!(resp.status(), 200, "{path}");
            resp.json::<serde_json::Value>().await.unwrap()
        }
    };
    let observed = |signals: &serde_json::Value, metric: &str| -> Vec<f64> {
        signals
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["metric"] == metric && s["admin1"] == "Ouham")
            .map(|s| s["observed"].as_f64().unwrap())
            .collect()
    };
    for (token, n) in [(&viewer, 10.0), (&analyst, 20.0)] {
        let listed = get(token.clone(), "/api/v1/signals?country=CAF".into()).await;
        let overview = get(
            token.clone(),
            format!("/api/v1/situations/{situation}/overview"),
        )
        .await;
        for signals in [&listed, &overview["signals"]] {
            assert_eq!(observed(signals, "incidents"), [n], "{signals}");
            assert_eq!(observed(signals, "fatalities"), [n], "{signals}");
        }
    }
    // The viewer's situation page in the browser shows the same.
    let session = browser_session(&client, &base, "vic").await;
    let page = client
        .get(format!("{base}/situations/{situation}"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("10 incidents in Ouham, CAF"), "{html}");
    assert!(!html.contains("20 incidents"), "{html}");
    let _ = server.kill();
    let _ = server.wait();
}
