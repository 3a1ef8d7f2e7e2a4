//! `tocsin metrics` through the real binary on a SQLite data directory: the table per desk
//! and situation, `--json` in the API's shape, `--desk`, a user's clearance with `--user`.

mod common;
use common::{add_user, run_ok, tocsin};
use serde_json::json;

/// A desk with dora, a GREEN and an AMBER alert raised by ann, the GREEN one acknowledged.
async fn seed(d: &std::path::Path) -> (String, String) {
    let url = format!("sqlite://{}", d.join("tocsin.db").display());
    let store: tocsin_store::DynStore =
        std::sync::Arc::new(tocsin_store_sqlite::SqliteStore::open(&url).await.unwrap());
    let frameworks = tocsin_framework::Frameworks::shipped();
    let mut app = tocsin_app::App::new(&store, &frameworks);
    let channels = tocsin_app::notify::Channels {
        email: true,
        ..Default::default()
    };
    let key = tocsin_domain::ContactKey::generate();
    app.channels = &channels;
    app.contact_key = Some(&key);
    let by = |n: &'static str| {
        let store = store.clone();
        async move { store.get_user_by_name(n).await.unwrap() }
    };
    let (ada, ann, dora) = (by("ada").await, by("ann").await, by("dora").await);
    app.set_user_contacts(
        &ada,
        dora.id,
        tocsin_app::notify::ContactsPatch {
            email: Some("dora@example.org".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let now = tocsin_domain::time::now();
    let desk = app
        .create_desk(
            &ada,
            serde_json::from_value(
                json!({"name": "Sahel desk", "department": "foreign affairs",
                "members": ["dora"], "countries": ["MLI"],
                "escalation": [{"after": "15m", "notify": {"user": "dora"}}]}),
            )
            .unwrap(),
            now,
        )
        .await
        .unwrap();
    let raise = |title: &str, tlp: &str| {
        serde_json::from_value::<tocsin_app::alerts::RaiseAlert>(json!({"title": title,
            "severity": "high", "tlp": tlp, "country": "MLI"}))
        .unwrap()
    };
    let a = app
        .raise_alert(&ann, raise("Militia massing", "TLP:GREEN"), now)
        .await
        .unwrap();
    app.raise_alert(&ann, raise("Secret plan", "TLP:AMBER"), now)
        .await
        .unwrap();
    app.move_alert(
        &dora,
        a.id,
        tocsin_app::alerts::Move::Acknowledge,
        now + chrono::Duration::minutes(20),
    )
    .await
    .unwrap();
    (desk.id.to_string(), a.id.to_string())
}

#[test]
fn flow_metrics_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (name, role) in [
        ("ada", "admin"),
        ("ann", "analyst"),
        ("dora", "desk_officer"),
        ("vic", "viewer"),
    ] {
        add_user(d, None, name, role);
    }
    // The desk and alerts are seeded through the application layer with e-mail configured
    // (the CLI's own `desk add` has no channel to reach a member through).
    let (desk_id, a) = tokio::runtime::Runtime::new().unwrap().block_on(seed(d));
    let _ = a;
    let table = run_ok(tocsin(d, None, &["metrics"]));
    assert!(table.contains("Flow metrics as of"), "{table}");
    assert!(
        table.contains("alert→ack") && table.contains("response ≤72h"),
        "{table}"
    );
    let desk_row = table
        .lines()
        .find(|l| l.starts_with("Sahel desk"))
        .unwrap_or_else(|| panic!("{table}"));
    assert_eq!(desk_row.split_whitespace().nth(2), Some("2"), "{desk_row}");
    assert!(table.contains("(no situation)"), "{table}");

    let json: serde_json::Value =
        serde_json::from_str(&run_ok(tocsin(d, None, &["metrics", "--json"]))).unwrap();
    assert_eq!(json["overall"]["alerts"], 2);
    assert_eq!(json["overall"]["alert_to_acknowledgement"]["count"], 1);
    assert_eq!(json["desk_names"][&desk_id], "Sahel desk");
    // A GREEN-cleared viewer: the AMBER alert is not counted.
    let json: serde_json::Value = serde_json::from_str(&run_ok(tocsin(
        d,
        None,
        &["metrics", "--json", "--user", "vic", "--desk", &desk_id],
    )))
    .unwrap();
    assert_eq!(json["overall"]["alerts"], 1);
    assert_eq!(json["desks"].as_array().unwrap().len(), 1);

    let out = tocsin(d, None, &["metrics", "--desk", "not-an-id"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--desk"));
}
