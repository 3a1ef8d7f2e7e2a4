//! The same use cases through the JSON API (a real `tocsin serve` on an ephemeral port) and
//! through the CLI (the built binary on the same data directory), with the same users and
//! inputs: each row must come out the same both ways (allowed, forbidden, invalid naming the
//! same field, not found) and, when allowed, store the same thing. The rules live in one place
//! (`tocsin-app`); this table is what keeps the two front ends from drifting apart again.
//! Adding a use case is one row. The table runs on a SQLite data directory and on a fresh
//! PostgreSQL database (`TOCSIN_TEST_POSTGRES_URL`; required under `TOCSIN_REQUIRE_POSTGRES=1`).

mod common;

use common::{add_user, tocsin, Server};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tocsin_domain::{Actor, ApiToken, NewUser, Role, Tlp};
use tocsin_store::{DynStore, Op, StoreExt};

/// How a use case came out.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    /// Done; the stored record's id.
    Allowed,
    /// The acting user may not.
    Forbidden,
    /// Refused, naming this field.
    Invalid(&'static str),
    /// No such record (or one above the user's clearance).
    NotFound,
    /// Clashes with what is stored (a name taken, a published record).
    Conflict,
}

/// What a row does.
#[derive(Clone, Copy)]
enum Case {
    /// Create an assessment of a situation from a document.
    NewAssessment(Sit),
    /// Edit the shared draft with a document.
    EditAssessment,
    /// Review the shared draft.
    Review,
    /// Record an incident from a document.
    NewIncident,
    /// Set an incident's verification status (`{"status": …}`).
    Verify(Inc),
    /// Accept an evidence suggestion on the shared draft (`{"indicator": …}`).
    Accept,
    /// Open a situation (`{"name", "country", "tlp"}`).
    NewSituation,
    /// Create a user (`{"username", "role"}`): an admin over the API, the operator at the
    /// command line (`tocsin user add`), whoever the row names.
    AddUser,
    /// Add a partner organisation (`{"name", "url", "key", "max_tlp"}`): `POST
    /// /api/v1/partners`, `tocsin partner add --user NAME`.
    AddPartner,
}

/// Which incident a row names.
#[derive(Clone, Copy)]
enum Inc {
    Amber,
    Red,
}

/// Which situation a row names.
#[derive(Clone, Copy)]
enum Sit {
    Amber,
    Red,
    Unknown,
}

struct Row {
    what: &'static str,
    user: &'static str,
    case: Case,
    doc: fn() -> Value,
    expect: Outcome,
}

fn factor(n: u32, level: &str) -> Value {
    json!({"factor": n, "level": level, "confidence": "medium",
           "rationale": format!("Rationale for factor {n} at {level}.")})
}

/// A valid Ed25519 public key (32 bytes, base64).
const PARTNER_KEY: &str = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";

fn partner(max_tlp: &str, key: &str, url: &str) -> Value {
    json!({"name": "UN office", "url": url, "key": key, "max_tlp": max_tlp})
}

fn incident(tlp: &str, latitude: f64) -> Value {
    json!({
        "event_date": "2024-10-07", "event_type": "Violence against civilians",
        "sub_event_type": "Attack", "country": "CAF", "latitude": latitude, "longitude": 17.45,
        "fatalities": 3, "description": "Village attacked at dawn.", "tlp": tlp,
    })
}

/// The table. Users: `alice` (analyst, the draft's author), `bob` (analyst), `amber` (an
/// analyst cleared only to TLP:AMBER), `desk` (desk officer, TLP:AMBER), `vera` (viewer),
/// `root` (admin; the operator at the command line administers accounts without a user).
/// The deployment's default framework is the 2009 OSAPG one (eight categories). One row, one
/// line: what it shows, who acts, the use case, the input, the outcome both ways.
#[rustfmt::skip]
const ROWS: &[Row] = &[
    Row { what: "an analyst creates an assessment: the configured default framework", user: "alice", case: Case::NewAssessment(Sit::Amber), doc: || json!({"factors": [factor(2, "moderate")]}), expect: Outcome::Allowed },
    Row { what: "a viewer may not write assessments", user: "vera", case: Case::NewAssessment(Sit::Amber), doc: || json!({"factors": []}), expect: Outcome::Forbidden },
    Row { what: "an analyst cleared to AMBER may not label an assessment RED", user: "amber", case: Case::NewAssessment(Sit::Amber), doc: || json!({"tlp": "TLP:RED", "factors": []}), expect: Outcome::Forbidden },
    Row { what: "a factor the framework lacks", user: "alice", case: Case::NewAssessment(Sit::Amber), doc: || json!({"factors": [factor(12, "high")]}), expect: Outcome::Invalid("factors[0].factor") },
    Row { what: "a label below the situation's", user: "alice", case: Case::NewAssessment(Sit::Amber), doc: || json!({"tlp": "TLP:GREEN", "factors": []}), expect: Outcome::Invalid("tlp") },
    Row { what: "an unknown situation", user: "alice", case: Case::NewAssessment(Sit::Unknown), doc: || json!({"factors": []}), expect: Outcome::NotFound },
    Row { what: "a situation above the analyst's clearance is as unknown", user: "amber", case: Case::NewAssessment(Sit::Red), doc: || json!({"factors": []}), expect: Outcome::NotFound },
    Row { what: "an analyst edits a draft", user: "bob", case: Case::EditAssessment, doc: || json!({"factors": [factor(3, "high")]}), expect: Outcome::Allowed },
    Row { what: "an analyst cleared to AMBER may not relabel a draft RED", user: "amber", case: Case::EditAssessment, doc: || json!({"tlp": "TLP:RED"}), expect: Outcome::Forbidden },
    Row { what: "a viewer may not edit a draft (nor see it)", user: "vera", case: Case::EditAssessment, doc: || json!({"summary": "x"}), expect: Outcome::Forbidden },
    Row { what: "the author cannot review their own draft", user: "alice", case: Case::Review, doc: || json!({}), expect: Outcome::Invalid("status") },
    Row { what: "an analyst records an incident", user: "amber", case: Case::NewIncident, doc: || incident("TLP:AMBER", 7.2), expect: Outcome::Allowed },
    Row { what: "a desk officer may not record an incident", user: "desk", case: Case::NewIncident, doc: || incident("TLP:GREEN", 7.2), expect: Outcome::Forbidden },
    Row { what: "a viewer may not record an incident", user: "vera", case: Case::NewIncident, doc: || incident("TLP:GREEN", 7.2), expect: Outcome::Forbidden },
    Row { what: "nobody labels an incident above their own clearance", user: "amber", case: Case::NewIncident, doc: || incident("TLP:RED", 7.2), expect: Outcome::Forbidden },
    Row { what: "an incident with a latitude out of range", user: "amber", case: Case::NewIncident, doc: || incident("TLP:GREEN", 95.0), expect: Outcome::Invalid("latitude") },
    Row { what: "an analyst disputes an incident, with a reason", user: "bob", case: Case::Verify(Inc::Amber), doc: || json!({"status": "disputed"}), expect: Outcome::Allowed },
    Row { what: "an unverified incident is not verified before it is corroborated", user: "bob", case: Case::Verify(Inc::Amber), doc: || json!({"status": "verified"}), expect: Outcome::Invalid("state") },
    Row { what: "the old name false is refused, naming refuted", user: "bob", case: Case::Verify(Inc::Amber), doc: || json!({"status": "false"}), expect: Outcome::Invalid("state") },
    Row { what: "a desk officer may not verify an incident", user: "desk", case: Case::Verify(Inc::Amber), doc: || json!({"status": "disputed"}), expect: Outcome::Forbidden },
    Row { what: "an incident above the analyst's clearance is as unknown", user: "amber", case: Case::Verify(Inc::Red), doc: || json!({"status": "verified"}), expect: Outcome::NotFound },
    Row { what: "an unknown verification status", user: "bob", case: Case::Verify(Inc::Amber), doc: || json!({"status": "confirmed"}), expect: Outcome::Invalid("state") },
    Row { what: "evidence for an indicator the framework lacks", user: "bob", case: Case::Accept, doc: || json!({"indicator": "99.9"}), expect: Outcome::Invalid("indicator") },
    Row { what: "an analyst opens a situation", user: "bob", case: Case::NewSituation, doc: || json!({"name": "Ouham", "country": "CAF", "tlp": "TLP:AMBER"}), expect: Outcome::Allowed },
    Row { what: "a viewer may not open a situation", user: "vera", case: Case::NewSituation, doc: || json!({"name": "Ouham", "country": "CAF", "tlp": "TLP:GREEN"}), expect: Outcome::Forbidden },
    Row { what: "nobody labels a situation above their own clearance", user: "amber", case: Case::NewSituation, doc: || json!({"name": "Ouham", "country": "CAF", "tlp": "TLP:RED"}), expect: Outcome::Forbidden },
    Row { what: "a situation in no known country", user: "bob", case: Case::NewSituation, doc: || json!({"name": "Ouham", "country": "XXX", "tlp": "TLP:AMBER"}), expect: Outcome::Invalid("country") },
    Row { what: "a username already taken", user: "root", case: Case::AddUser, doc: || json!({"username": "alice", "role": "viewer"}), expect: Outcome::Conflict },
    Row { what: "an unknown role", user: "root", case: Case::AddUser, doc: || json!({"username": "yan", "role": "root"}), expect: Outcome::Invalid("role") },
    Row { what: "a username with a space", user: "root", case: Case::AddUser, doc: || json!({"username": "y an", "role": "viewer"}), expect: Outcome::Invalid("username") },
    Row { what: "an analyst may not add a partner organisation", user: "alice", case: Case::AddPartner, doc: || partner("TLP:GREEN", PARTNER_KEY, "https://un.example"), expect: Outcome::Forbidden },
    Row { what: "a partner may never receive TLP:RED", user: "root", case: Case::AddPartner, doc: || partner("TLP:RED", PARTNER_KEY, "https://un.example"), expect: Outcome::Invalid("max_tlp") },
    Row { what: "a partner key that is not an Ed25519 public key", user: "root", case: Case::AddPartner, doc: || partner("TLP:GREEN", "c2hvcnQ=", "https://un.example"), expect: Outcome::Invalid("key") },
    Row { what: "a partner URL in clear text off this machine", user: "root", case: Case::AddPartner, doc: || partner("TLP:GREEN", PARTNER_KEY, "http://un.example"), expect: Outcome::Invalid("url") },
    Row { what: "a viewer may not decide evidence suggestions", user: "vera", case: Case::Accept, doc: || json!({"indicator": "1.1"}), expect: Outcome::Forbidden },
];

struct World {
    dir: PathBuf,
    /// The PostgreSQL database, or `None` for the SQLite file in `dir`.
    db: Option<String>,
    config: PathBuf,
    server: Server,
    client: reqwest::Client,
    tokens: std::collections::HashMap<&'static str, String>,
    amber_situation: String,
    red_situation: String,
    draft: String,
    red_incident: String,
}

impl World {
    fn cli(&self, args: &[&str]) -> std::process::Command {
        let mut all = vec!["--config", self.config.to_str().unwrap()];
        all.extend_from_slice(args);
        tocsin(&self.dir, self.db.as_deref(), &all)
    }

    async fn call(
        &self,
        user: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.server.base))
            .bearer_auth(&self.tokens[user]);
        if let Some(b) = body {
            req = req.json(b);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// The incident a verification row moves: a fresh AMBER one for each run (a move changes
    /// its status, so the API's run and the CLI's each need one as it was), or the RED one.
    async fn verify_target(&self, i: Inc) -> String {
        match i {
            Inc::Red => self.red_incident.clone(),
            Inc::Amber => {
                let (s, v) = self
                    .call(
                        "alice",
                        reqwest::Method::POST,
                        "/api/v1/incidents",
                        Some(&incident("TLP:AMBER", 7.2)),
                    )
                    .await;
                assert_eq!(s, 201, "{v}");
                v["id"].as_str().unwrap().to_string()
            }
        }
    }

    fn situation(&self, s: Sit) -> String {
        match s {
            Sit::Amber => self.amber_situation.clone(),
            Sit::Red => self.red_situation.clone(),
            Sit::Unknown => uuid::Uuid::new_v4().to_string(),
        }
    }

    /// The row through the API: its outcome and, when allowed, what was stored.
    async fn api(&self, row: &Row) -> (Outcome, Option<Value>) {
        use reqwest::Method;
        let doc = (row.doc)();
        let (status, v) = match row.case {
            Case::NewAssessment(s) => {
                let path = format!("/api/v1/situations/{}/assessments", self.situation(s));
                self.call(row.user, Method::POST, &path, Some(&doc)).await
            }
            Case::EditAssessment => {
                let path = format!("/api/v1/assessments/{}", self.draft);
                self.call(row.user, Method::PATCH, &path, Some(&doc)).await
            }
            Case::Review => {
                let path = format!("/api/v1/assessments/{}/review", self.draft);
                self.call(row.user, Method::POST, &path, Some(&doc)).await
            }
            Case::NewIncident => {
                self.call(row.user, Method::POST, "/api/v1/incidents", Some(&doc))
                    .await
            }
            Case::Verify(i) => {
                let path = format!(
                    "/api/v1/incidents/{}/verification",
                    self.verify_target(i).await
                );
                let body =
                    json!({"state": doc["status"], "reason": "checked with a second monitor"});
                self.call(row.user, Method::POST, &path, Some(&body)).await
            }
            Case::AddUser => {
                self.call(row.user, Method::POST, "/api/v1/users", Some(&doc))
                    .await
            }
            Case::AddPartner => {
                self.call(row.user, Method::POST, "/api/v1/partners", Some(&doc))
                    .await
            }
            Case::NewSituation => {
                self.call(row.user, Method::POST, "/api/v1/situations", Some(&doc))
                    .await
            }
            Case::Accept => {
                let path = format!("/api/v1/assessments/{}/suggestions", self.draft);
                let body = json!({"indicator": doc["indicator"], "accept": true,
                                  "evidence": {"kind": "document", "reference": "https://example.org/r"}});
                self.call(row.user, Method::POST, &path, Some(&body)).await
            }
        };
        let outcome = match status {
            200..=299 => Outcome::Allowed,
            403 => Outcome::Forbidden,
            404 => Outcome::NotFound,
            409 => Outcome::Conflict,
            400 | 422 => {
                let field = v["field"].as_str().unwrap_or("");
                match row.expect {
                    Outcome::Invalid(f) if f == field => Outcome::Invalid(f),
                    _ => panic!(
                        "{}: API refused with {status}, field {field:?}: {v}",
                        row.what
                    ),
                }
            }
            s => panic!("{}: API answered {s}: {v}", row.what),
        };
        let stored = match (&outcome, row.case) {
            (Outcome::Allowed, Case::NewSituation) => {
                Some(self.stored_situation(v["id"].as_str().unwrap()).await)
            }
            (Outcome::Allowed, Case::NewIncident | Case::Verify(_)) => {
                Some(self.stored_incident(v["id"].as_str().unwrap()).await)
            }
            (Outcome::Allowed, _) => Some(self.stored_assessment(v["id"].as_str().unwrap()).await),
            _ => None,
        };
        (outcome, stored)
    }

    /// The row through the CLI: its outcome (by exit code) and, when allowed, what was stored.
    async fn cli_run(&self, row: &Row, n: usize) -> (Outcome, Option<Value>) {
        let file = self.dir.join(format!("row-{n}.json"));
        std::fs::write(&file, (row.doc)().to_string()).unwrap();
        let f = file.to_str().unwrap();
        let mut verified = String::new();
        let out = match row.case {
            Case::NewAssessment(s) => {
                let sid = self.situation(s);
                self.cli(&[
                    "assess",
                    "new",
                    "--situation",
                    &sid,
                    "--user",
                    row.user,
                    "--file",
                    f,
                ])
                .output()
            }
            Case::EditAssessment => self
                .cli(&[
                    "assess",
                    "edit",
                    &self.draft,
                    "--user",
                    row.user,
                    "--file",
                    f,
                ])
                .output(),
            Case::Review => self
                .cli(&["assess", "review", &self.draft, "--user", row.user])
                .output(),
            Case::NewIncident => self
                .cli(&["incident", "add", "--user", row.user, "--file", f])
                .output(),
            Case::Verify(i) => {
                let status = (row.doc)()["status"].as_str().unwrap().to_string();
                verified = self.verify_target(i).await;
                self.cli(&[
                    "incident",
                    "verify",
                    &verified,
                    "--user",
                    row.user,
                    "--state",
                    &status,
                    "--reason",
                    "checked with a second monitor",
                ])
                .output()
            }
            Case::NewSituation => {
                let doc = (row.doc)();
                let arg = |k: &str| doc[k].as_str().unwrap().to_string();
                let (name, country, tlp) = (arg("name"), arg("country"), arg("tlp"));
                self.cli(&[
                    "situation",
                    "add",
                    "--name",
                    &name,
                    "--country",
                    &country,
                    "--tlp",
                    &tlp,
                    "--user",
                    row.user,
                ])
                .output()
            }
            Case::AddUser => {
                let doc = (row.doc)();
                let (name, role) = (
                    doc["username"].as_str().unwrap(),
                    doc["role"].as_str().unwrap(),
                );
                self.cli(&["user", "add", name, "--role", role]).output()
            }
            Case::AddPartner => {
                let doc = (row.doc)();
                let s = |k: &str| doc[k].as_str().unwrap().to_string();
                self.cli(&[
                    "partner",
                    "add",
                    &s("name"),
                    "--url",
                    &s("url"),
                    "--key",
                    &s("key"),
                    "--max-tlp",
                    &s("max_tlp"),
                    "--user",
                    row.user,
                ])
                .output()
            }
            Case::Accept => {
                let indicator = (row.doc)()["indicator"].as_str().unwrap().to_string();
                self.cli(&[
                    "assess",
                    "accept",
                    &self.draft,
                    "--user",
                    row.user,
                    "--indicator",
                    &indicator,
                    "--evidence",
                    "document:https://example.org/r",
                ])
                .output()
            }
        }
        .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        let outcome = match out.status.code() {
            Some(0) => Outcome::Allowed,
            Some(3) => Outcome::Forbidden,
            Some(4) => Outcome::NotFound,
            Some(6) => Outcome::Conflict,
            Some(5) => match row.expect {
                Outcome::Invalid(f) if stderr.contains(f) => Outcome::Invalid(f),
                _ => panic!("{}: CLI refused as invalid: {stderr}", row.what),
            },
            c => panic!("{}: CLI exited {c:?}: {stdout}\n{stderr}", row.what),
        };
        if outcome != row.expect {
            eprintln!("{}: CLI said: {stdout}{stderr}", row.what);
        }
        let stored = match (&outcome, row.case) {
            (Outcome::Allowed, Case::NewIncident) => Some(
                self.stored_incident(stdout.lines().last().unwrap().trim())
                    .await,
            ),
            (Outcome::Allowed, Case::NewSituation) => Some(
                self.stored_situation(stdout.lines().last().unwrap().trim())
                    .await,
            ),
            (Outcome::Allowed, Case::Verify(_)) => Some(self.stored_incident(&verified).await),
            (Outcome::Allowed, Case::NewAssessment(_)) => Some(
                self.stored_assessment(stdout.lines().last().unwrap().trim())
                    .await,
            ),
            (Outcome::Allowed, _) => Some(self.stored_assessment(&self.draft).await),
            _ => None,
        };
        (outcome, stored)
    }

    /// What an assessment stores that a use case decides (not its id, times or version).
    async fn stored_assessment(&self, id: &str) -> Value {
        let (s, v) = self
            .call(
                "alice",
                reqwest::Method::GET,
                &format!("/api/v1/assessments/{id}"),
                None,
            )
            .await;
        assert_eq!(s, 200, "{v}");
        let a = &v["assessment"];
        json!({"framework": a["framework"], "tlp": a["tlp"], "status": a["status"],
               "situation_id": a["situation_id"],
               "factors": a["factors"].as_array().unwrap().iter()
                   .map(|f| json!([f["factor"], f["level"], f["confidence"]])).collect::<Vec<_>>()})
    }

    /// What a situation stores that a use case decides.
    async fn stored_situation(&self, id: &str) -> Value {
        let (s, v) = self
            .call(
                "alice",
                reqwest::Method::GET,
                &format!("/api/v1/situations/{id}"),
                None,
            )
            .await;
        assert_eq!(s, 200, "{v}");
        json!({"name": v["name"], "country": v["country"], "tlp": v["tlp"], "status": v["status"]})
    }

    /// What an incident stores that a use case decides.
    async fn stored_incident(&self, id: &str) -> Value {
        let (s, v) = self
            .call(
                "alice",
                reqwest::Method::GET,
                &format!("/api/v1/incidents/{id}"),
                None,
            )
            .await;
        assert_eq!(s, 200, "{v}");
        json!({"tlp": v["tlp"], "latitude": v["latitude"], "event_type": v["event_type"],
               "fatalities": v["fatalities"], "verification_status": v["verification_status"]})
    }
}

/// An analyst cleared only to TLP:AMBER (no role has that clearance by default), with a token.
async fn amber_analyst(dir: &Path, db: Option<&str>) -> String {
    let store: DynStore = match db {
        Some(url) => Arc::new(
            tocsin_store_postgres::PostgresStore::open(url)
                .await
                .unwrap(),
        ),
        None => {
            let url = format!("sqlite://{}", dir.join("tocsin.db").display());
            Arc::new(tocsin_store_sqlite::SqliteStore::open(&url).await.unwrap())
        }
    };
    let mut u = NewUser::build("amber", Role::Analyst, None).unwrap();
    u.clearance = Tlp::Amber;
    let actor = Actor::system("test");
    let u = store.create_user(&actor, u).await.unwrap();
    let (t, secret) = ApiToken::generate(u.id, "test", None);
    store.write(&actor, Op::CreateToken(t)).await.unwrap();
    secret
}

fn situation(w_dir: &Path, db: Option<&str>, config: &Path, tlp: &str) -> String {
    let out = common::run_ok(tocsin(
        w_dir,
        db,
        &[
            "--config",
            config.to_str().unwrap(),
            "situation",
            "add",
            "--name",
            "CAR north-west",
            "--country",
            "CAF",
            "--tlp",
            tlp,
        ],
    ));
    out.lines().last().unwrap().trim().to_string()
}

#[tokio::test]
async fn the_api_and_the_cli_decide_alike() {
    decide_alike(None).await;
}

#[tokio::test]
async fn the_api_and_the_cli_decide_alike_on_postgres() {
    if let Some(url) = common::fresh_postgres("tocsin_table").await {
        decide_alike(Some(url)).await;
    }
}

/// The table on the SQLite file of a fresh data directory, or on the PostgreSQL database `db`.
async fn decide_alike(db: Option<String>) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let config = dir.join("tocsin.toml");
    std::fs::write(&config, "[analysis]\nframework = \"osapg-2009\"\n").unwrap();
    let mut tokens = std::collections::HashMap::new();
    for (name, role) in [
        ("root", "admin"),
        ("alice", "analyst"),
        ("bob", "analyst"),
        ("desk", "desk_officer"),
        ("vera", "viewer"),
    ] {
        tokens.insert(name, add_user(&dir, db.as_deref(), name, role));
    }
    tokens.insert("amber", amber_analyst(&dir, db.as_deref()).await);
    let amber_situation = situation(&dir, db.as_deref(), &config, "TLP:AMBER");
    let red_situation = situation(&dir, db.as_deref(), &config, "TLP:RED");
    let mut serve = tocsin(
        &dir,
        db.as_deref(),
        &[
            "--config",
            config.to_str().unwrap(),
            "serve",
            "--listen",
            "127.0.0.1:0",
        ],
    );
    serve.stderr(std::process::Stdio::inherit());
    let server = Server::spawn(serve);
    let mut w = World {
        dir,
        db,
        config,
        server,
        client: reqwest::Client::new(),
        tokens,
        amber_situation,
        red_situation,
        draft: String::new(),
        red_incident: String::new(),
    };
    // The incidents the verification rows work on, by alice.
    for (tlp, slot) in [("TLP:AMBER", 0), ("TLP:RED", 1)] {
        let (s, v) = w
            .call(
                "alice",
                reqwest::Method::POST,
                "/api/v1/incidents",
                Some(&incident(tlp, 7.0)),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        let id = v["id"].as_str().unwrap().to_string();
        // The AMBER one is made afresh for each verification row (`verify_target`).
        if slot == 1 {
            w.red_incident = id;
        }
    }
    // The draft the edit and review rows work on, by alice.
    let (s, v) = w
        .call(
            "alice",
            reqwest::Method::POST,
            &format!("/api/v1/situations/{}/assessments", w.amber_situation),
            Some(&json!({"factors": [factor(1, "low")]})),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    w.draft = v["id"].as_str().unwrap().to_string();

    let mut failures = vec![];
    for (n, row) in ROWS.iter().enumerate() {
        let (api, api_stored) = w.api(row).await;
        let (cli, cli_stored) = w.cli_run(row, n).await;
        if api != row.expect || cli != row.expect {
            failures.push(format!(
                "{}: expected {:?}, API {api:?}, CLI {cli:?}",
                row.what, row.expect
            ));
            continue;
        }
        if api_stored != cli_stored {
            failures.push(format!(
                "{}: stored differently: API {api_stored:?}, CLI {cli_stored:?}",
                row.what
            ));
        }
        if let (Case::NewAssessment(_), Some(v)) = (row.case, &api_stored) {
            assert_eq!(
                v["framework"], "osapg-2009",
                "{}: the configured default",
                row.what
            );
        }
    }
    assert!(
        failures.is_empty(),
        "rows that differ:\n{}",
        failures.join("\n")
    );

    // Every refused row left nothing behind: one assessment from each allowed creation plus
    // the draft, one incident from each allowed incident row.
    let allowed = |f: fn(&Case) -> bool| {
        ROWS.iter()
            .filter(|r| r.expect == Outcome::Allowed && f(&r.case))
            .count()
    };
    let (_, list) = w
        .call(
            "alice",
            reqwest::Method::GET,
            &format!("/api/v1/situations/{}/assessments", w.amber_situation),
            None,
        )
        .await;
    assert_eq!(
        list.as_array().unwrap().len(),
        1 + 2 * allowed(|c| matches!(c, Case::NewAssessment(_))),
        "{list}"
    );
    let (_, list) = w
        .call("alice", reqwest::Method::GET, "/api/v1/incidents", None)
        .await;
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        // Each verification row of the AMBER incident moves a fresh one in each run.
        2 + 2 * allowed(|c| matches!(c, Case::NewIncident))
            + 2 * ROWS
                .iter()
                .filter(|r| matches!(r.case, Case::Verify(Inc::Amber)))
                .count(),
        "{list}"
    );
    // The audit chain names each person who acted, through either front end.
    let out = common::run_ok(w.cli(&["audit", "verify"]));
    assert!(out.contains("audit chain intact"), "{out}");
}
