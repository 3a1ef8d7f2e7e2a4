//! Selecting a broadcast's recipients: 100,000 active subscribers inside a drawn polygon (a
//! 240-corner outline around Bangui), among 250,000 (50,000 more inside the polygon's box but
//! outside it, 100,000 elsewhere in the country), on SQLite (a file under a temporary
//! directory) and, when `TOCSIN_TEST_POSTGRES_URL` names a server, PostgreSQL.
//!
//! Printed per backend: the polygon's selection (`recipients_in_area`: the indexed box, then the
//! exact test), and as the baseline measured in the same run the plain read of the same number
//! of rows by country (`recipients_in_area` of `{"countries": ["TCD"]}`, whose 100,000
//! subscribers need no geometry), with the ratio; and the goal (select and queue
//! under 2 s) for reference. Run: `cargo bench -p tocsin-store-tests --bench subscribers`.

use std::time::Instant;
use tocsin_domain::{
    Actor, AuditEvent, BroadcastArea, ContactKey, Country, Lang, NewSubscriber, SubscriberPhone,
    SubscriberPlace,
};
use tocsin_store::{Op, Step, Store, SubscriberStep};
use tocsin_store_tests::Db;

const INSIDE: usize = 100_000;
const IN_BOX: usize = 50_000;
const ELSEWHERE: usize = 100_000;
const BATCH: usize = 5_000;

/// A small deterministic generator (xorshift), so every run places the same subscribers.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The outline: a wobbly ring of radius about 0.3° around Bangui.
fn polygon() -> (BroadcastArea, Vec<[f64; 2]>) {
    let (lon0, lat0) = (18.56, 4.36);
    let mut ring: Vec<[f64; 2]> = (0..240)
        .map(|i| {
            let t = i as f64 / 240.0 * std::f64::consts::TAU;
            let r = 0.3 * (1.0 + 0.15 * (5.0 * t).sin());
            [lon0 + r * t.cos(), lat0 + r * t.sin()]
        })
        .collect();
    ring.push(ring[0]);
    let area = BroadcastArea::parse(&serde_json::json!({
        "polygon": {"type": "Polygon", "coordinates": [ring.clone()]}
    }))
    .unwrap();
    (area, ring)
}

async fn seed(store: &dyn Store, area: &BroadcastArea) {
    let key = ContactKey::generate();
    let actor = Actor::system("bench");
    let caf = Country::parse("CAF").unwrap();
    let tcd = Country::parse("TCD").unwrap();
    let b = area.bbox().unwrap();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut people = Vec::with_capacity(INSIDE + IN_BOX + ELSEWHERE);
    let (mut inside, mut in_box) = (0, 0);
    while inside < INSIDE || in_box < IN_BOX {
        let lat = b.min_lat + rng.next() * (b.max_lat - b.min_lat);
        let lon = b.min_lon + rng.next() * (b.max_lon - b.min_lon);
        let p =
            SubscriberPlace::new(caf.clone(), Some("Bangui".into()), "Bangui", lat, lon).unwrap();
        if area.contains(&p) {
            if inside < INSIDE {
                inside += 1;
                people.push(p);
            }
        } else if in_box < IN_BOX {
            in_box += 1;
            people.push(p);
        }
    }
    for _ in 0..ELSEWHERE {
        let lat = 12.0 + rng.next() * 3.0;
        let lon = 16.0 + rng.next() * 4.0;
        people.push(
            SubscriberPlace::new(tcd.clone(), Some("Batha".into()), "Ati", lat, lon).unwrap(),
        );
    }
    for (n, chunk) in people.chunks(BATCH).enumerate() {
        let steps = chunk
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let phone = SubscriberPhone::new(format!("+2367{:08}", n * BATCH + i));
                Step::Subscriber(SubscriberStep::Subscribe(Box::new(NewSubscriber::new(
                    &phone,
                    p.clone(),
                    Lang::ALL[i % 4],
                    &key,
                ))))
            })
            .collect();
        store
            .write(
                &actor,
                Op::All {
                    steps,
                    audit: Box::new(AuditEvent::new(&actor, "bench.seed", "subscriber", None)),
                },
            )
            .await
            .unwrap();
    }
}

async fn best_of(n: usize, store: &dyn Store, area: &BroadcastArea, want: usize) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..n {
        let t = Instant::now();
        let got = store.recipients_in_area(area).await.unwrap();
        best = best.min(t.elapsed().as_secs_f64());
        assert_eq!(got.len(), want);
    }
    best
}

async fn run(name: &str, db: Db) {
    let (area, ring) = polygon();
    assert_eq!(area.vertex_count(), ring.len(), "nothing to simplify away");
    let store = db.store.as_ref();
    let t = Instant::now();
    seed(store, &area).await;
    println!(
        "{name}: seeded {} subscribers in {:.1} s",
        INSIDE + IN_BOX + ELSEWHERE,
        t.elapsed().as_secs_f64()
    );
    let countries = BroadcastArea::parse(&serde_json::json!({"countries": ["TCD"]})).unwrap();
    // Warm both paths once, then the best of five.
    best_of(1, store, &area, INSIDE).await;
    best_of(1, store, &countries, ELSEWHERE).await;
    let poly = best_of(5, store, &area, INSIDE).await;
    let base = best_of(5, store, &countries, ELSEWHERE).await;
    println!(
        "{name}: 100,000 inside a {}-corner polygon ({:.0} km²): {:.0} ms; baseline, 100,000 by \
         country: {:.0} ms; ratio {:.2}; goal for select+queue 2000 ms",
        area.vertex_count(),
        area.area_km2().unwrap(),
        poly * 1e3,
        base * 1e3,
        poly / base
    );
}

#[tokio::main]
async fn main() {
    run("sqlite", Db::sqlite().await).await;
    match Db::postgres().await {
        Some(db) => run("postgres", db).await,
        None => println!("postgres: skipped (TOCSIN_TEST_POSTGRES_URL not set)"),
    }
}
