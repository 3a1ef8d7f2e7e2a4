//! The rule engine in the real `tocsin serve`, over HTTP, on SQLite and PostgreSQL: incidents
//! posted through the API that cross a rule's threshold open exactly one alert (labelled at
//! least as high as its evidence), later ones join it as evidence; an import from the command
//! line into the same database while the server runs is picked up by the catch-up; a rule
//! disabled through the API does not fire; an SMS report with an urgency code fires a report
//! rule; two servers on one PostgreSQL database open one alert.
//!
//! Waits are polls with a generous limit (a minute), never assertions of speed: the latency
//! goal is measured by `scripts/bench-alert-latency.sh`.

mod common;

use common::{add_user, fresh_postgres, run_ok, tocsin, Server};
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

const SECRET: &str = "kannel-inbound-secret-0123456789";

fn config(dir: &Path) -> String {
    // The acknowledgement's gateway is down: the replies wait in the outbox, which is fine.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let path = dir.join("tocsin.toml");
    std::fs::write(
        &path,
        format!(
            "[sms]\ndefault_calling_code = \"236\"\n[sms.kannel]\nsendsms_url = \"http://{dead}/cgi-bin/sendsms\"\n\
             username = \"tocsin\"\npassword = \"pw\"\nfrom = \"1234\"\ninbound_secret = \"{SECRET}\"\n"
        ),
    )
    .unwrap();
    path.display().to_string()
}

fn serve(dir: &Path, db: Option<&str>, config: &str) -> Server {
    let mut cmd = tocsin(
        dir,
        db,
        &["--config", config, "serve", "--listen", "127.0.0.1:0"],
    );
    cmd.stderr(std::process::Stdio::inherit());
    Server::spawn(cmd)
}

struct Api {
    http: reqwest::Client,
}

impl Api {
    async fn call(
        &self,
        base: &str,
        token: &str,
        m: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut r = self
            .http
            .request(m, format!("{base}{path}"))
            .bearer_auth(token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let res = r.send().await.unwrap();
        let s = res.status().as_u16();
        let text = res.text().await.unwrap();
        (
            s,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn post(&self, base: &str, token: &str, path: &str, body: Value) -> Value {
        let (s, v) = self
            .call(base, token, reqwest::Method::POST, path, Some(body))
            .await;
        assert!((200..300).contains(&s), "POST {path}: {s} {v}");
        v
    }

    /// The alerts a rule opened, as `token` sees them.
    async fn alerts_of(&self, base: &str, token: &str, rule: &str) -> Vec<Value> {
        let (s, v) = self
            .call(
                base,
                token,
                reqwest::Method::GET,
                "/api/v1/alerts?limit=200",
                None,
            )
            .await;
        assert_eq!(s, 200, "{v}");
        let items = v.get("items").cloned().unwrap_or(v);
        items
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["origin"].to_string().contains(rule))
            .cloned()
            .collect()
    }

    /// Poll (at most a minute) until the rule's alerts satisfy `f`.
    async fn until(
        &self,
        base: &str,
        token: &str,
        rule: &str,
        what: &str,
        f: impl Fn(&[Value]) -> bool,
    ) -> Vec<Value> {
        for _ in 0..600 {
            let v = self.alerts_of(base, token, rule).await;
            if f(&v) {
                return v;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "never saw {what}: {:?}",
            self.alerts_of(base, token, rule).await
        );
    }
}

fn incident(country: &str, lat: f64, lon: f64, tlp: &str) -> Value {
    json!({
        "event_date": "2024-10-07", "event_type": "Violence against civilians",
        "sub_event_type": "Attack", "country": country, "latitude": lat, "longitude": lon,
        "fatalities": 2, "description": "Village attacked at dawn.", "tlp": tlp,
    })
}

/// `tocsin --config CONFIG ARGS…` (the SMS gateway configured, so a member with a phone is
/// reachable and a desk's policy is accepted).
fn cli(d: &Path, db: Option<&str>, cfg: &str, args: &[&str]) -> std::process::Command {
    tocsin(d, db, &[&["--config", cfg][..], args].concat())
}

/// The staff: `ada` (admin), `ann` (analyst), `dora` (desk officer with a phone); their tokens.
fn staff(d: &Path, db: Option<&str>, cfg: &str) -> (String, String, String) {
    let ada = add_user(d, db, "ada", "admin");
    let ann = add_user(d, db, "ann", "analyst");
    let out = run_ok(cli(
        d,
        db,
        cfg,
        &[
            "user",
            "add",
            "dora",
            "--role",
            "desk_officer",
            "--phone",
            "+23675000001",
        ],
    ));
    (ada, ann, last_line(&out))
}

fn last_line(s: &str) -> String {
    s.lines().last().unwrap().trim().to_string()
}

/// A desk answering for Mali, the Central African Republic and Niger, whose member is `dora`
/// (created through the API: the server has the SMS gateway that reaches her phone).
async fn desk(api: &Api, base: &str, ada: &str) -> String {
    api.post(
        base,
        ada,
        "/api/v1/desks",
        json!({"name": "Sahel desk", "department": "foreign affairs", "members": ["dora"],
               "countries": ["MLI", "CAF", "NER"],
               "escalation": [{"after": "15m", "notify": {"user": "dora"}}]}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Save a rule through the API (the server's engine reloads it).
async fn rule(api: &Api, base: &str, ada: &str, body: Value) -> String {
    api.post(base, ada, "/api/v1/alert-rules", body).await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// ACLED rows about the Central African Republic, all on one day.
fn acled_file(d: &Path, ids: &[&str]) -> String {
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tocsin-exchange/tests/fixtures/acled.csv");
    let text = std::fs::read_to_string(fixture).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let row = lines.next().unwrap();
    let mut out = format!("{header}\n");
    for id in ids {
        out.push_str(&row.replacen("CEN1001", id, 1));
        out.push('\n');
    }
    let path = d.join("caf.csv");
    std::fs::write(&path, out).unwrap();
    path.display().to_string()
}

async fn story(db: Option<String>) {
    let db = db.as_deref();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cfg = config(d);
    let (ada, ann, dora) = staff(d, db, &cfg);
    let server = serve(d, db, &cfg);
    let base = server.base.clone();
    let api = Api {
        http: reqwest::Client::new(),
    };
    let desk_id = desk(&api, &base, &ada).await;
    let mali = rule(
        &api,
        &base,
        &ada,
        json!({"name": "Mali attacks", "severity": "high", "ack_within": "30m", "tlp": "TLP:GREEN",
               "desk": desk_id, "kind": "incidents", "country": "MLI", "window": "7d", "min_incidents": 3}),
    )
    .await;
    let texts = rule(
        &api,
        &base,
        &ada,
        json!({"name": "Attack texts", "severity": "critical", "ack_within": "30m",
               "desk": desk_id, "kind": "report", "categories": ["attack"]}),
    )
    .await;

    // Three incidents in Mali cross the threshold: one alert, labelled as high as its
    // highest evidence (TLP:AMBER) although the rule says TLP:GREEN.
    let mut ids = Vec::new();
    for tlp in ["TLP:GREEN", "TLP:AMBER", "TLP:GREEN"] {
        let v = api
            .post(
                &base,
                &ann,
                "/api/v1/incidents",
                incident("MLI", 12.65, -8.0, tlp),
            )
            .await;
        ids.push(v["id"].as_str().unwrap().to_string());
    }
    let alerts = api
        .until(&base, &dora, &mali, "the Mali alert", |v| !v.is_empty())
        .await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let a = &alerts[0];
    assert_eq!(a["tlp"], "TLP:AMBER", "{a}");
    assert_eq!(a["status"], "open", "{a}");
    let evidence = a["evidence"].to_string();
    for id in &ids {
        assert!(evidence.contains(id.as_str()), "{a}");
    }
    // A fourth joins the open alert as evidence; no second alert.
    let v = api
        .post(
            &base,
            &ann,
            "/api/v1/incidents",
            incident("MLI", 12.7, -8.1, "TLP:GREEN"),
        )
        .await;
    let fourth = v["id"].as_str().unwrap().to_string();
    let alerts = api
        .until(
            &base,
            &dora,
            &mali,
            "the fourth incident as evidence",
            |v| {
                v.iter()
                    .any(|a| a["evidence"].to_string().contains(&fourth))
            },
        )
        .await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0]["id"], a["id"]);

    // A rule saved through the API while the server runs is loaded; an import from the
    // command line into the same database is picked up by the catch-up.
    let caf = api
        .post(
            &base,
            &ada,
            "/api/v1/alert-rules",
            json!({"name": "CAR attacks", "severity": "high", "ack_within": "30m",
                   "desk": desk_id, "kind": "incidents", "country": "CAF", "window": "7d",
                   "min_incidents": 3}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let file = acled_file(d, &["CEN9001", "CEN9002", "CEN9003"]);
    run_ok(cli(d, db, &cfg, &["import", "acled", &file]));
    let alerts = api
        .until(&base, &dora, &caf, "the imported incidents' alert", |v| {
            !v.is_empty()
        })
        .await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(
        alerts[0]["evidence"].as_array().unwrap().len(),
        3,
        "{alerts:?}"
    );

    // A rule disabled through the API does not fire. The text message written after the
    // Niger incident fires its own rule; once that alert exists, the engine has read past
    // the incident.
    let niger = api
        .post(
            &base,
            &ada,
            "/api/v1/alert-rules",
            json!({"name": "Niger attacks", "severity": "high", "ack_within": "30m",
                   "desk": desk_id, "kind": "incidents", "country": "NER", "window": "7d",
                   "min_incidents": 1}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, v) = api
        .call(
            &base,
            &ada,
            reqwest::Method::PATCH,
            &format!("/api/v1/alert-rules/{niger}"),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    api.post(
        &base,
        &ann,
        "/api/v1/incidents",
        incident("NER", 13.5, 2.1, "TLP:GREEN"),
    )
    .await;
    let r = reqwest::get(format!(
        "{base}/sms/kannel?secret={SECRET}&sender=%2B23670012345&to=1234&id=k-1&message=ATTAQUE+Bria"
    ))
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let alerts = api
        .until(&base, &ada, &texts, "the report rule's alert", |v| {
            !v.is_empty()
        })
        .await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0]["severity"], "critical", "{alerts:?}");
    // Labelled as its report (a new sender's: TLP:AMBER+STRICT), so the desk officer
    // cleared to TLP:AMBER does not see it.
    assert_eq!(alerts[0]["tlp"], "TLP:AMBER+STRICT", "{alerts:?}");
    assert!(api.alerts_of(&base, &dora, &texts).await.is_empty());
    assert!(
        alerts[0]["evidence"].to_string().contains("report"),
        "{alerts:?}"
    );
    assert!(api.alerts_of(&base, &ada, &niger).await.is_empty());
    // Still one Mali alert.
    assert_eq!(api.alerts_of(&base, &dora, &mali).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_fire_from_api_writes_imports_and_texts_on_sqlite() {
    story(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_fire_from_api_writes_imports_and_texts_on_postgres() {
    if let Some(url) = fresh_postgres("tocsin_engine").await {
        story(Some(url)).await;
    }
}

/// Two servers on one PostgreSQL database, incidents posted to both: one alert, holding them
/// all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_postgres_open_one_alert() {
    let Some(url) = fresh_postgres("tocsin_engine_two").await else {
        return;
    };
    let db = Some(url.as_str());
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cfg = config(d);
    let (ada, ann, dora) = staff(d, db, &cfg);
    let one = serve(d, db, &cfg);
    let two = serve(d, db, &cfg);
    let api = Api {
        http: reqwest::Client::new(),
    };
    let desk_id = desk(&api, &one.base, &ada).await;
    let mali = rule(
        &api,
        &two.base,
        &ada,
        json!({"name": "Mali attacks", "severity": "high", "ack_within": "30m",
               "desk": desk_id, "kind": "incidents", "country": "MLI", "window": "7d", "min_incidents": 2}),
    )
    .await;
    let mut ids = Vec::new();
    for (n, base) in [&one.base, &two.base, &one.base, &two.base]
        .into_iter()
        .enumerate()
    {
        let v = api
            .post(
                base,
                &ann,
                "/api/v1/incidents",
                incident("MLI", 12.6 + n as f64 / 100.0, -8.0, "TLP:GREEN"),
            )
            .await;
        ids.push(v["id"].as_str().unwrap().to_string());
    }
    let alerts = api
        .until(
            &two.base,
            &dora,
            &mali,
            "every incident in the alert",
            |v| {
                v.iter()
                    .any(|a| ids.iter().all(|id| a["evidence"].to_string().contains(id)))
            },
        )
        .await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(api.alerts_of(&one.base, &dora, &mali).await.len(), 1);
    run_ok(tocsin(d, db, &["audit", "verify"]));
}
