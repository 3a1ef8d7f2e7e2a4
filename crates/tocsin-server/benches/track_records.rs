//! Sources with their track records (the share of each source's reports later verified or
//! refuted), through the path the sources page and `GET /api/v1/sources` take
//! (`App::list_source_views`, a page of 50; and `App::source_page`, one source), timed per
//! request. The baseline, measured in the same run, is the plain list of the same page
//! (`App::list_sources`) and the plain source (`App::get_source`); the ratio is what to
//! compare across machines, since this one is shared and noisy.
//!
//! ```sh
//! CARGO_TARGET_DIR=/var/tmp/tocsin-target cargo bench -p tocsin-server --bench track_records
//! TOCSIN_BENCH_ROWS=100000 cargo bench -p tocsin-server --bench track_records   # smaller
//! TOCSIN_BENCH_POSTGRES_URL=postgres://… cargo bench …   # PostgreSQL (a fresh database)
//! ```
//!
//! Data: 200 sources with Zipf-distributed shares of 200,000 reports (TLP:GREEN, a tenth
//! AMBER); a million incidents, of which 100,000 were built from one to three of those reports
//! (30% verified, 20% corroborated, 15% refuted, the rest unverified or disputed) and the
//! others imported without reports. Target: under 50 ms a page.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{Days, NaiveDate, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tocsin_domain::{
    Actor, Channel, ContactKey, Incident, IncidentInput, NewReport, NewSource, NewUser,
    PageRequest, Reliability, Role, Tlp, VerificationStatus,
};
use tocsin_store::{DynStore, ImportChunk, Op, Step, StoreExt, MAX_IMPORT_BATCH};

const SOURCES: usize = 200;
const ROUNDS: usize = 40;
const WARMUP: usize = 5;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let rows: usize = std::env::var("TOCSIN_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run(rows));
}

async fn open() -> (DynStore, Option<tempfile::TempDir>, &'static str) {
    if let Ok(url) = std::env::var("TOCSIN_BENCH_POSTGRES_URL") {
        let s = tocsin_store_postgres::PostgresStore::open(&url)
            .await
            .expect("PostgreSQL store");
        return (Arc::new(s), None, "PostgreSQL");
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let s = tocsin_store_sqlite::SqliteStore::open(&url)
        .await
        .expect("store");
    (Arc::new(s), Some(dir), "SQLite")
}

async fn run(rows: usize) {
    let mut rng = StdRng::seed_from_u64(16);
    let (store, _dir, backend) = open().await;
    let actor = Actor::system("bench");
    let key = ContactKey::generate();
    let reports_n = rows / 5;
    let linked_n = rows / 10;
    let t = Instant::now();

    // Sources.
    let mut sources = Vec::new();
    let steps: Vec<Step> = (0..SOURCES)
        .map(|i| {
            let s = NewSource::new(
                &format!("monitor-{i}"),
                "monitor",
                Reliability::C,
                Tlp::Green,
                None,
                &key,
            )
            .expect("source");
            sources.push(s.source.id);
            Step::CreateSource {
                source: Box::new(s),
                phone_hash: None,
            }
        })
        .collect();
    store
        .write(
            &actor,
            Op::All {
                steps,
                audit: Box::new(tocsin_domain::AuditEvent::new(
                    &actor, "bench", "source", None,
                )),
            },
        )
        .await
        .expect("sources");

    // Reports, Zipf-shared among the sources.
    let weights: Vec<f64> = (1..=SOURCES).map(|k| 1.0 / k as f64).collect();
    let total: f64 = weights.iter().sum();
    let cumulative: Vec<f64> = weights
        .iter()
        .scan(0.0, |acc, w| {
            *acc += w / total;
            Some(*acc)
        })
        .collect();
    let mut reports = Vec::with_capacity(reports_n);
    let mut steps = Vec::new();
    for i in 0..reports_n {
        let u: f64 = rng.gen();
        let k = cumulative.partition_point(|c| *c < u).min(SOURCES - 1);
        let id = tocsin_domain::random_id();
        reports.push(id);
        steps.push(Step::CreateReport {
            report: Box::new(NewReport {
                id,
                channel: Channel::Web,
                provider_key: None,
                source_id: Some(sources[k]),
                text: format!("report {i}: shooting near the market"),
                tlp: if rng.gen_bool(0.9) {
                    Tlp::Green
                } else {
                    Tlp::Amber
                },
                latitude: None,
                longitude: None,
                country: None,
                occurred_at: None,
                received_at: Utc::now(),
                meta: Default::default(),
            }),
            unless_text_since: None,
        });
        if steps.len() == 2000 || i + 1 == reports_n {
            store
                .write(
                    &actor,
                    Op::All {
                        steps: std::mem::take(&mut steps),
                        audit: Box::new(tocsin_domain::AuditEvent::new(
                            &actor, "bench", "report", None,
                        )),
                    },
                )
                .await
                .expect("reports");
        }
    }

    // Incidents: the first `linked_n` built from reports, the rest imported without.
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let importer = {
        let store = store.clone();
        let actor = actor.clone();
        tokio::spawn(async move { store.import_stream(&actor, rx).await })
    };
    let start = NaiveDate::from_ymd_opt(2015, 1, 1).expect("date");
    let mut batch = Vec::with_capacity(MAX_IMPORT_BATCH);
    for i in 0..rows {
        let (status, report_ids) = if i < linked_n {
            let n = rng.gen_range(1..=3);
            let ids = (0..n)
                .map(|_| reports[rng.gen_range(0..reports.len())])
                .collect();
            let x: f64 = rng.gen();
            let s = if x < 0.3 {
                VerificationStatus::Verified
            } else if x < 0.5 {
                VerificationStatus::Corroborated
            } else if x < 0.65 {
                VerificationStatus::Refuted
            } else if x < 0.7 {
                VerificationStatus::Disputed
            } else {
                VerificationStatus::Unverified
            };
            (Some(s), Some(ids))
        } else {
            (None, None)
        };
        let inc = Incident::parse(IncidentInput {
            event_date: (start + Days::new(rng.gen_range(0..3650))).to_string(),
            event_type: "Violence against civilians".into(),
            sub_event_type: "Attack".into(),
            country: "CAF".into(),
            latitude: rng.gen_range(3.0..10.0),
            longitude: rng.gen_range(15.0..27.0),
            fatalities: rng.gen_range(0..20),
            description: format!("incident {i}"),
            tlp: if rng.gen_bool(0.8) {
                Tlp::Green
            } else {
                Tlp::Amber
            },
            verification_status: status,
            report_ids,
            dataset: Some("bench".into()),
            external_id: Some(format!("t{i}")),
            ..Default::default()
        })
        .expect("valid incident");
        batch.push(inc);
        if batch.len() == MAX_IMPORT_BATCH {
            tx.send(ImportChunk::Rows {
                dataset: "bench".into(),
                incidents: std::mem::take(&mut batch),
            })
            .await
            .expect("importer alive");
        }
    }
    if !batch.is_empty() {
        tx.send(ImportChunk::Rows {
            dataset: "bench".into(),
            incidents: batch,
        })
        .await
        .expect("importer alive");
    }
    tx.send(ImportChunk::End).await.expect("importer alive");
    drop(tx);
    importer
        .await
        .expect("import task")
        .expect("import succeeds");
    println!(
        "{backend}: stored {SOURCES} sources, {reports_n} reports, {rows} incidents ({linked_n} \
         built from reports) in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let state = tocsin_server::AppState::new(store.clone(), key, false);
    let app = state.app();
    let user = store
        .create_user(
            &actor,
            NewUser::build("bench-analyst", Role::Analyst, None).expect("user"),
        )
        .await
        .expect("user stored");

    let mut page = Vec::new();
    let mut page_base = Vec::new();
    let mut one = Vec::new();
    let mut one_base = Vec::new();
    let mut counted = 0u64;
    for round in 0..ROUNDS + WARMUP {
        let t = Instant::now();
        let p = app
            .list_sources(&user, PageRequest::first(50))
            .await
            .expect("list");
        let base = t.elapsed();
        std::hint::black_box(p);
        let t = Instant::now();
        let v = app
            .list_source_views(&user, PageRequest::first(50))
            .await
            .expect("views");
        let took = t.elapsed();
        let id = sources[round % SOURCES];
        let t = Instant::now();
        std::hint::black_box(app.get_source(&user, id).await.expect("source"));
        let single_base = t.elapsed();
        let t = Instant::now();
        let s = app.source_page(&user, id).await.expect("source page");
        let single = t.elapsed();
        if round >= WARMUP {
            page.push(took);
            page_base.push(base);
            one.push(single);
            one_base.push(single_base);
            counted = v.items.iter().map(|s| s.track_record.total).sum();
            std::hint::black_box(s);
        }
    }
    for v in [&mut page, &mut page_base, &mut one, &mut one_base] {
        v.sort();
    }
    println!(
        "sources page of 50 with track records ({counted} reports counted), {ROUNDS} requests:"
    );
    for (name, p) in [("p50", 0.5), ("p95", 0.95)] {
        let (a, b) = (percentile(&page, p), percentile(&page_base, p));
        println!(
            "  {name}: {:8.2} ms   baseline (plain list) {:6.2} ms   ratio {:6.1}",
            ms(a),
            ms(b),
            ms(a) / ms(b)
        );
    }
    println!("one source's page with its track record:");
    for (name, p) in [("p50", 0.5), ("p95", 0.95)] {
        let (a, b) = (percentile(&one, p), percentile(&one_base, p));
        println!(
            "  {name}: {:8.2} ms   baseline (plain source) {:6.2} ms   ratio {:6.1}",
            ms(a),
            ms(b),
            ms(a) / ms(b)
        );
    }
    let p95 = ms(percentile(&page, 0.95));
    println!(
        "  target: a sources page under 50 ms (p95): {}",
        if p95 < 50.0 { "met" } else { "NOT met" }
    );
}
