//! Settings layered as the README says (defaults, then the TOML file, then `TOCSIN_*`), through
//! the real binary: `TOCSIN_SMS_DEFAULT_REGION` over `[sms] default_region`.

mod common;

use common::{run_err, tocsin, Server};
use std::process::Stdio;
use std::sync::Arc;
use tocsin_store::DynStore;

const FL_SECRET: &str = "frontlinesms-secret-0123456789";

#[tokio::test]
async fn tocsin_sms_default_region_overrides_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("tocsin.toml");
    // The file says the Central African Republic, where `0712 345 678` is no number.
    std::fs::write(
        &config,
        format!("[sms]\ndefault_region = \"CF\"\n\n[sms.frontlinesms]\nsecret = \"{FL_SECRET}\"\n"),
    )
    .unwrap();
    let mut serve = tocsin(
        dir.path(),
        None,
        &[
            "--config",
            config.to_str().unwrap(),
            "serve",
            "--listen",
            "127.0.0.1:0",
        ],
    );
    serve
        .env("TOCSIN_SMS_DEFAULT_REGION", "ke")
        .stderr(Stdio::inherit());
    let server = Server::spawn(serve);
    let client = reqwest::Client::new();
    for (from, message) in [
        ("0712 345 678", "MENACE Bossangoa"),
        ("+254 712 345678", "ATTAQUE Bria"),
    ] {
        let r = client
            .post(format!("{}/sms/frontlinesms", server.base))
            .json(&serde_json::json!({"secret": FL_SECRET, "from": from, "message": message}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{from}");
    }
    // Read nationally as Kenyan, both forms are one phone: one source of two reports.
    let url = format!("sqlite://{}", dir.path().join("tocsin.db").display());
    let store: DynStore = Arc::new(tocsin_store_sqlite::SqliteStore::open(&url).await.unwrap());
    let counts = store.counts().await.unwrap();
    assert_eq!((counts.reports, counts.sources), (2, 1));
    drop(server);

    // A value that is no region stops every command, naming the variable.
    let mut bad = tocsin(dir.path(), None, &["user", "list"]);
    bad.env("TOCSIN_SMS_DEFAULT_REGION", "KEN");
    let err = run_err(bad);
    assert!(
        err.contains("TOCSIN_SMS_DEFAULT_REGION") && err.contains("\"KEN\""),
        "{err}"
    );
}
