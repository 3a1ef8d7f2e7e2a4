//! Replies queued before the delivery layer existed migrate to deliveries to their source of
//! TLP:CLEAR content, unchanged otherwise, and are still claimed and sent (SQLite rebuilds the
//! table; PostgreSQL alters it).

use sqlx::{Connection, Executor};
use std::path::Path;
use tocsin_domain::{OutboxStatus, RecipientKind, Tlp};
use tocsin_store::{DynStore, StoreExt};
use uuid::Uuid;

/// A migrator with the backend's migrations older than `before` (copied to `tmp`).
async fn migrations_before(backend: &str, before: i64, tmp: &Path) -> sqlx::migrate::Migrator {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(backend)
        .join("migrations");
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().into_string().unwrap();
        let version: i64 = name[..4].parse().unwrap();
        if version < before {
            std::fs::copy(e.path(), tmp.join(&name)).unwrap();
        }
    }
    sqlx::migrate::Migrator::new(tmp.to_path_buf())
        .await
        .unwrap()
}

const SOURCE: &str = "0190f7a2-0000-4000-8000-000000000001";
const MESSAGE: &str = "0190f7a2-0000-4000-8000-0000000000aa";

async fn check(store: DynStore) {
    let m = store
        .get_outbound(Uuid::parse_str(MESSAGE).unwrap())
        .await
        .unwrap();
    assert_eq!(m.recipient_kind, RecipientKind::Source);
    assert_eq!(m.source_id, Some(Uuid::parse_str(SOURCE).unwrap()));
    assert_eq!((m.user_id, m.address.is_none()), (None, true));
    assert_eq!(m.tlp, Tlp::Clear);
    assert_eq!(m.text, "Merci. Référence R-ABC123.");
    assert_eq!((m.status, m.attempts), (OutboxStatus::Queued, 1));
    assert_eq!(m.sender.as_deref(), Some("1234"));
    let claimed = store.claim_outbound(None, 10, 60).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(
        store
            .list_outbound(Some(Uuid::parse_str(SOURCE).unwrap()), 10)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn sqlite_outbox_rows_become_deliveries_to_their_source() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tocsin.db");
    let url = format!("sqlite://{}", file.display());
    let tmp = tempfile::tempdir().unwrap();
    let old = migrations_before("tocsin-store-sqlite", 13, tmp.path()).await;
    let opts = url
        .parse::<sqlx::sqlite::SqliteConnectOptions>()
        .unwrap()
        .create_if_missing(true);
    let mut c = sqlx::SqliteConnection::connect_with(&opts).await.unwrap();
    old.run(&mut c).await.unwrap();
    c.execute(
        format!(
            "INSERT INTO sources (id, handle, kind, reliability, tlp, contact, created_at) \
             VALUES ('{SOURCE}', 'M-OLD001', 'sms', 'F', 3, NULL, '2026-01-01T00:00:00.000000Z');
             INSERT INTO outbox (id, idempotency_key, gateway, source_id, report_id, text, status, \
             attempts, next_attempt_at, provider_key, last_error, created_at, updated_at, sender) \
             VALUES ('{MESSAGE}', 'ack:1', 'kannel', '{SOURCE}', NULL, 'Merci. Référence R-ABC123.', \
             'queued', 1, '2026-01-01T00:00:00.000000Z', NULL, 'network error', \
             '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z', '1234')"
        )
        .as_str(),
    )
    .await
    .unwrap();
    c.close().await.unwrap();
    let store = tocsin_store_sqlite::SqliteStore::open(&url).await.unwrap();
    check(std::sync::Arc::new(store)).await;
}

#[tokio::test]
async fn postgres_outbox_rows_become_deliveries_to_their_source() {
    let Ok(admin) = std::env::var("TOCSIN_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var("TOCSIN_REQUIRE_POSTGRES").as_deref() != Ok("1"),
            "TOCSIN_REQUIRE_POSTGRES=1 but TOCSIN_TEST_POSTGRES_URL is not set"
        );
        return;
    };
    let name = format!("tocsin_migrate_{}", Uuid::new_v4().simple());
    let mut a = sqlx::PgConnection::connect(&admin).await.unwrap();
    a.execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .unwrap();
    let base = admin.split('?').next().unwrap();
    let cut = base
        .rfind('/')
        .filter(|i| *i > base.find("://").unwrap() + 2);
    let url = format!("{}/{name}", &base[..cut.unwrap_or(base.len())]);
    let tmp = tempfile::tempdir().unwrap();
    let old = migrations_before("tocsin-store-postgres", 12, tmp.path()).await;
    let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
    old.run(&mut c).await.unwrap();
    c.execute(
        format!(
            "INSERT INTO sources (id, handle, kind, reliability, tlp, contact, created_at) \
             VALUES ('{SOURCE}', 'M-OLD001', 'sms', 'F', 3, NULL, now());
             INSERT INTO outbox (id, idempotency_key, gateway, source_id, report_id, text, status, \
             attempts, next_attempt_at, provider_key, last_error, created_at, updated_at, sender) \
             VALUES ('{MESSAGE}', 'ack:1', 'kannel', '{SOURCE}', NULL, 'Merci. Référence R-ABC123.', \
             'queued', 1, now() - interval '1 minute', NULL, 'network error', now(), now(), '1234')"
        )
        .as_str(),
    )
    .await
    .unwrap();
    c.close().await.unwrap();
    let store = tocsin_store_postgres::PostgresStore::open(&url)
        .await
        .unwrap();
    check(std::sync::Arc::new(store)).await;
    let _ = a
        .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
        .await;
}
