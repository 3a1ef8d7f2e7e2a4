//! Group commit on the running PostgreSQL (`TOCSIN_TEST_POSTGRES_URL`; skipped when unset unless
//! `TOCSIN_REQUIRE_POSTGRES=1`): writes arriving together share one transaction, yet each caller
//! still gets its own answer, acknowledged writes are there, and two stores on one database (two
//! pools and writers, as two processes) keep one linear audit chain.

use futures::future::join_all;
use sqlx::{Connection, Executor, PgConnection};
use std::collections::HashSet;
use std::sync::Arc;
use tocsin_domain::{Actor, Channel, NewReport, Tlp};
use tocsin_store::prelude::*;
use tocsin_store::{Op, StoreError};
use tocsin_store_postgres::PostgresStore;
use uuid::Uuid;

/// A fresh database, dropped when the test ends.
struct TestDb {
    admin_url: String,
    name: String,
    url: String,
}

impl TestDb {
    async fn create() -> Option<TestDb> {
        let admin_url = match std::env::var("TOCSIN_TEST_POSTGRES_URL") {
            Ok(u) if !u.trim().is_empty() => u,
            _ => {
                assert!(
                    std::env::var("TOCSIN_REQUIRE_POSTGRES").map_or(true, |v| v != "1"),
                    "TOCSIN_REQUIRE_POSTGRES=1 but TOCSIN_TEST_POSTGRES_URL is not set"
                );
                eprintln!("skipping: TOCSIN_TEST_POSTGRES_URL is not set");
                return None;
            }
        };
        let name = format!("tocsin_test_{}", tocsin_domain::random_id().simple());
        let mut admin = PgConnection::connect(&admin_url).await.expect("connect");
        admin
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("CREATE DATABASE");
        let _ = admin.close().await;
        let (base, query) = match admin_url.split_once('?') {
            Some((b, q)) => (b.to_string(), format!("?{q}")),
            None => (admin_url.clone(), String::new()),
        };
        let start = base.find("://").map_or(0, |i| i + 3);
        let end = base[start..].find('/').map_or(base.len(), |i| start + i);
        let url = format!("{}/{name}{query}", &base[..end]);
        Some(TestDb {
            admin_url,
            name,
            url,
        })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        let _ = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime")
                .block_on(async {
                    if let Ok(mut c) = PgConnection::connect(&admin_url).await {
                        let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                        let _ = c.execute(sql.as_str()).await;
                        let _ = c.close().await;
                    }
                })
        })
        .join();
    }
}

fn system() -> Actor {
    Actor::system("group-commit-test")
}

fn report(text: &str) -> NewReport {
    NewReport {
        id: tocsin_domain::random_id(),
        channel: Channel::Api,
        provider_key: None,
        source_id: None,
        text: text.into(),
        tlp: Tlp::Amber,
        latitude: Some(6.1),
        longitude: Some(20.9),
        country: None,
        occurred_at: None,
        received_at: tocsin_domain::time::now(),
        meta: Default::default(),
    }
}

/// Every entry of the chain, checked in order: sequence numbers 1..=n, each linked to the one
/// before; returns the audited record ids.
async fn chain_of(s: &PostgresStore) -> Vec<String> {
    let entries = s.audit_entries(0, 100_000).await.unwrap();
    let seqs: Vec<i64> = entries.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=entries.len() as i64).collect::<Vec<_>>());
    assert_eq!(
        s.verify_audit().await.unwrap(),
        Ok(entries.len() as i64),
        "one unbroken chain"
    );
    entries
        .into_iter()
        .filter_map(|e| e.record_id)
        .collect::<Vec<_>>()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_stores_writing_at_once_keep_one_linear_chain() {
    let Some(db) = TestDb::create().await else {
        return;
    };
    let a = Arc::new(PostgresStore::open(&db.url).await.unwrap());
    let b = Arc::new(PostgresStore::open(&db.url).await.unwrap());
    let writes = (0..400).map(|n| {
        let s = if n % 2 == 0 { a.clone() } else { b.clone() };
        tokio::spawn(async move {
            let r = s
                .create_report(&system(), report(&format!("report {n}")))
                .await
                .unwrap();
            r.id
        })
    });
    let ids: HashSet<Uuid> = join_all(writes)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(ids.len(), 400);
    // Both stores see the same single chain, every report audited exactly once.
    for s in [&a, &b] {
        let audited: HashSet<Uuid> = chain_of(s)
            .await
            .iter()
            .map(|id| Uuid::parse_str(id).unwrap())
            .collect();
        assert_eq!(audited, ids);
        assert_eq!(s.counts().await.unwrap().reports, 400);
    }
    a.close().await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failing_write_fails_only_its_caller() {
    let Some(db) = TestDb::create().await else {
        return;
    };
    let s = Arc::new(PostgresStore::open(&db.url).await.unwrap());
    let taken = s
        .create_report(&system(), report("already stored"))
        .await
        .unwrap();
    // Writes arriving together, among them a report whose id is taken (a conflict inside a run
    // of new reports) and one naming a source that does not exist (a foreign key).
    let writes = (0..300).map(|n| {
        let s = s.clone();
        let mut r = report(&format!("report {n}"));
        match n % 50 {
            7 => r.id = taken.id,
            31 => r.source_id = Some(tocsin_domain::random_id()),
            _ => {}
        }
        let id = r.id;
        tokio::spawn(async move { (n, id, s.write(&system(), Op::CreateReport(r)).await) })
    });
    let mut stored = HashSet::from([taken.id]);
    for w in join_all(writes).await {
        let (n, id, res) = w.unwrap();
        match n % 50 {
            7 => assert!(
                matches!(res, Err(StoreError::Conflict(_))),
                "write {n}: {res:?}"
            ),
            31 => assert!(res.is_err(), "write {n} named no real source: {res:?}"),
            _ => {
                res.unwrap_or_else(|e| panic!("write {n} failed: {e}"));
                stored.insert(id);
            }
        }
    }
    assert_eq!(stored.len(), 1 + 300 - 12);
    assert_eq!(s.counts().await.unwrap().reports, stored.len() as i64);
    let audited: HashSet<Uuid> = chain_of(&s)
        .await
        .iter()
        .map(|id| Uuid::parse_str(id).unwrap())
        .collect();
    assert_eq!(
        audited, stored,
        "only the writes that succeeded are audited"
    );
    assert_eq!(
        s.get_report(taken.id).await.unwrap().text,
        "already stored",
        "the conflicting write changed nothing"
    );
    s.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_acknowledged_write_is_visible_to_another_process_at_once() {
    let Some(db) = TestDb::create().await else {
        return;
    };
    let writer = Arc::new(PostgresStore::open(&db.url).await.unwrap());
    let reader = Arc::new(PostgresStore::open(&db.url).await.unwrap());
    let writes = (0..200).map(|n| {
        let (w, r) = (writer.clone(), reader.clone());
        tokio::spawn(async move {
            let stored = w
                .create_report(&system(), report(&format!("seen {n}")))
                .await
                .unwrap();
            // Read through the other store's own connections right after the answer.
            let read = r.get_report(stored.id).await.unwrap();
            assert_eq!(read, stored);
        })
    });
    for w in join_all(writes).await {
        w.unwrap();
    }
    assert_eq!(reader.counts().await.unwrap().reports, 200);
    writer.close().await;
    reader.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writes_of_every_kind_batch_together() {
    let Some(db) = TestDb::create().await else {
        return;
    };
    let s = Arc::new(PostgresStore::open(&db.url).await.unwrap());
    // Reports interleaved with other ops: runs of reports are inserted together, the rest one
    // by one, all in order in the chain.
    let writes = (0..120).map(|n| {
        let s = s.clone();
        tokio::spawn(async move {
            let op = if n % 3 == 0 {
                Op::SetMeta(format!("key{n}"), format!("value{n}"))
            } else {
                Op::CreateReport(report(&format!("mixed {n}")))
            };
            s.write(&system(), op).await.unwrap();
        })
    });
    for w in join_all(writes).await {
        w.unwrap();
    }
    assert_eq!(s.counts().await.unwrap().reports, 80);
    for n in (0..120).step_by(3) {
        assert_eq!(
            s.get_meta(&format!("key{n}")).await.unwrap().as_deref(),
            Some(format!("value{n}").as_str())
        );
    }
    chain_of(&s).await;
    s.close().await;
}
