//! Selecting and queueing a live broadcast to 100,000 subscribers inside a drawn polygon (a
//! 120-corner outline around Bangui), among 150,000 (50,000 elsewhere in the country), on
//! SQLite (a file under a temporary directory) and, when `TOCSIN_TEST_POSTGRES_URL` names a
//! server, PostgreSQL: `App::approve_broadcast`, which resolves the recipients once and writes
//! one row per recipient in the transaction that approves.
//!
//! Printed per backend: the approval (select + queue), and as the baseline measured in the
//! same run the selection alone (`recipients_in_area` of the same polygon), with the ratio;
//! the goal is under 2 s for the approval. Run:
//! `cargo bench -p tocsin-app --bench broadcast_queue`.

use std::collections::BTreeMap;
use std::time::Instant;
use tocsin_app::broadcasts::BroadcastInput;
use tocsin_app::App;
use tocsin_domain::{
    Actor, AuditEvent, BroadcastArea, ContactKey, Country, Lang, NewSubscriber, NewUser, Role,
    SubscriberPhone, SubscriberPlace,
};
use tocsin_framework::Frameworks;
use tocsin_store::{Op, Step, Store, StoreExt, SubscriberStep};
use tocsin_store_tests::Db;

const INSIDE: usize = 100_000;
const ELSEWHERE: usize = 50_000;
const BATCH: usize = 5_000;

fn ring() -> Vec<[f64; 2]> {
    let (lon0, lat0) = (18.56, 4.36);
    let mut ring: Vec<[f64; 2]> = (0..120)
        .map(|i| {
            let t = i as f64 / 120.0 * std::f64::consts::TAU;
            let r = 0.3 * (1.0 + 0.1 * (5.0 * t).sin());
            [lon0 + r * t.cos(), lat0 + r * t.sin()]
        })
        .collect();
    ring.push(ring[0]);
    ring
}

async fn fill(store: &dyn Store, key: &ContactKey) {
    let caf = Country::parse("CAF").unwrap();
    let langs = [Lang::En, Lang::Fr, Lang::Sw, Lang::Ar];
    let mut steps = Vec::new();
    for i in 0..INSIDE + ELSEWHERE {
        // Inside: within 0.2° of Bangui (inside the ring everywhere); elsewhere: near Bria.
        let f = i as f64;
        let (lat, lon) = if i < INSIDE {
            let t = f * 2.399_963;
            let r = 0.2 * ((i % 997) as f64 / 997.0).sqrt();
            (4.36 + r * t.sin(), 18.56 + r * t.cos())
        } else {
            (6.54 + (i % 100) as f64 * 0.001, 21.99)
        };
        let place = SubscriberPlace::new(caf.clone(), None, "Somewhere", lat, lon).unwrap();
        let phone = SubscriberPhone::new(format!("+2367{:07}", i));
        steps.push(Step::Subscriber(SubscriberStep::Subscribe(Box::new(
            NewSubscriber::new(&phone, place, langs[i % 4], key),
        ))));
        if steps.len() == BATCH {
            write(store, std::mem::take(&mut steps)).await;
        }
    }
    write(store, steps).await;
}

async fn write(store: &dyn Store, steps: Vec<Step>) {
    if steps.is_empty() {
        return;
    }
    let actor = Actor::system("bench");
    store
        .write(
            &actor,
            Op::All {
                steps,
                audit: Box::new(AuditEvent::new(&actor, "bench.fill", "subscriber", None)),
            },
        )
        .await
        .unwrap();
}

async fn run(name: &str, db: Db) {
    let store = db.store.clone();
    let key = ContactKey::generate();
    let t = Instant::now();
    fill(&*store, &key).await;
    println!(
        "{name}: {} subscribers written in {:.1} s",
        INSIDE + ELSEWHERE,
        t.elapsed().as_secs_f64()
    );
    let actor = Actor::system("bench");
    let ana = store
        .create_user(&actor, NewUser::build("ana", Role::Analyst, None).unwrap())
        .await
        .unwrap();
    let mona = store
        .create_user(
            &actor,
            NewUser::build("mona", Role::MonitorCoordinator, None).unwrap(),
        )
        .await
        .unwrap();
    let frameworks = Frameworks::shipped();
    let app = App::new(&store, &frameworks);
    let area = serde_json::json!({"polygon": {"type": "Polygon", "coordinates": [ring()]}});
    let parsed = BroadcastArea::parse(&area).unwrap();
    // Baseline: the selection alone.
    let t = Instant::now();
    let selected = store.recipients_in_area(&parsed).await.unwrap().len();
    let select = t.elapsed().as_secs_f64();
    assert_eq!(selected, INSIDE);
    let mut texts = BTreeMap::new();
    texts.insert("en".to_string(), "Stay indoors tonight.".to_string());
    let c = app
        .compose_broadcast(
            &ana,
            BroadcastInput {
                mode: "live".into(),
                texts,
                area,
                send_at: None,
                answers: None,
            },
        )
        .await
        .unwrap();
    let t = Instant::now();
    let v = app.approve_broadcast(&mona, c.id).await.unwrap();
    let approve = t.elapsed().as_secs_f64();
    assert_eq!(v.counts.queued, INSIDE as u64);
    println!(
        "{name}: select and queue {INSIDE} recipients inside a 120-corner polygon: {:.3} s \
         (goal under 2 s: {}); baseline, the selection alone: {:.3} s; ratio {:.2}",
        approve,
        if approve < 2.0 { "met" } else { "NOT met" },
        select,
        approve / select
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        run("sqlite", Db::sqlite().await).await;
        if let Some(db) = Db::postgres().await {
            run("postgres", db).await;
        }
    });
}
