//! `[sms] default_region`: one phone, written nationally or internationally by the gateway,
//! is one source, through a real server and a real SQLite store.

use reqwest::Client;
use std::sync::Arc;
use tocsin_domain::ContactKey;
use tocsin_server::sms::{Secret, SecretOnly, SmsConfig};
use tocsin_server::AppState;
use tocsin_store::DynStore;

const FL_SECRET: &str = "frontlinesms-secret-0123456789";

#[test]
fn the_default_region_is_checked_when_the_configuration_is_read() {
    let c: SmsConfig = serde_json::from_value(serde_json::json!({"default_region": "ke"})).unwrap();
    assert_eq!(c.phone_region().as_deref(), Some("KE"));
    let c: SmsConfig = serde_json::from_value(
        serde_json::json!({"default_region": "KE", "default_calling_code": "236"}),
    )
    .unwrap();
    assert_eq!(
        c.phone_region().as_deref(),
        Some("KE"),
        "default_region wins"
    );
    let c: SmsConfig =
        serde_json::from_value(serde_json::json!({"default_calling_code": "236"})).unwrap();
    assert_eq!(c.phone_region().as_deref(), Some("236"));
    let e = serde_json::from_value::<SmsConfig>(serde_json::json!({"default_region": "KEN"}))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("\"KEN\" is not a region") && e.contains("\"KE\""),
        "{e}"
    );
}

#[tokio::test]
async fn national_and_international_forms_of_one_phone_are_one_source() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let store: DynStore = Arc::new(tocsin_store_sqlite::SqliteStore::open(&url).await.unwrap());
    let cfg: SmsConfig = SmsConfig {
        default_region: Some("KE".parse().unwrap()),
        frontlinesms: Some(SecretOnly {
            secret: Secret(FL_SECRET.into()),
            allow_from: vec![],
        }),
        ..Default::default()
    };
    cfg.validate().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = AppState::new(store.clone(), ContactKey::generate(), false).with_sms(cfg);
    tokio::spawn(tocsin_server::serve(
        listener,
        state,
        std::future::pending(),
    ));
    let client = Client::new();
    let send = |from: &'static str, message: &'static str| {
        let client = client.clone();
        let url = format!("{base}/sms/frontlinesms");
        async move {
            let r = client
                .post(url)
                .json(&serde_json::json!({"secret": FL_SECRET, "from": from, "message": message}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{from}");
        }
    };
    send("0712 345 678", "MENACE Bossangoa").await;
    send("+254 712 345678", "ATTAQUE Bria").await;
    send("00254712345678", "RUMEUR Bambari").await;
    send("712345678", "SHAMBULIO Bangui").await;
    let counts = store.counts().await.unwrap();
    assert_eq!((counts.reports, counts.sources), (4, 1));
    // Another phone is another source.
    send("0722 000 111", "MENACE Bossangoa").await;
    assert_eq!(store.counts().await.unwrap().sources, 2);
}
