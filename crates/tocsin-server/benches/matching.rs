//! Matching one new report against a million stored incidents, through the path the API
//! takes (`App::report_matches` on a server's state: candidates from the in-memory incident
//! index, their rows from SQLite, candidate reports from SQLite, scoring with the gazetteer),
//! timed per report. The baseline, measured in the same run on the same reports, is a plain
//! lookup of the report by id (`Store::get_report`); the ratio is what to compare across
//! machines, since this one is shared and noisy.
//!
//! ```sh
//! CARGO_TARGET_DIR=/var/tmp/tocsin-target cargo bench -p tocsin-server --bench matching
//! TOCSIN_BENCH_ROWS=200000 cargo bench -p tocsin-server --bench matching   # smaller
//! ```
//!
//! Incidents: 300 places (random points over Central Africa, named by the gazetteer's nearest
//! town) with Zipf-distributed shares (the busiest holds about a sixth), spread about 15 km
//! around their place and uniformly over ten years, described the way ACLED notes are. New
//! reports: near a random stored incident, a few hours and kilometres off, in one of four
//! languages. Target: p95 under 20 ms.
//!
//! Then the triage queue with 5,000 open reports (a page of 50): first the store's part the
//! previous way (every open report read and ranked in memory) against the page ranked in the
//! database, in the same run (checked equal); then through the application: ranking alone, with the
//! page's suggested matches (kept between requests: the first request's time is printed on
//! its own), and with an incident and a report arriving before each request. Target: p95 of
//! the queue with matches ≤ 50 ms.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{Days, NaiveDate, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tocsin_domain::{
    Actor, Channel, ContactKey, Incident, IncidentInput, NewReport, NewUser, Role, Tlp,
};
use tocsin_store::{DynStore, ImportChunk, StoreExt, MAX_IMPORT_BATCH};

const PLACES: usize = 300;
const REPORTS: usize = 300;
const WARMUP: usize = 20;
/// Open reports in the triage queue.
const OPEN: usize = 5_000;
/// Sources the queue's reports come from.
const SOURCES: usize = 200;
/// Queue requests timed.
const QUEUE_RUNS: usize = 30;

struct Place {
    lat: f64,
    lon: f64,
    name: String,
    country: &'static str,
}

fn places(rng: &mut StdRng) -> Vec<Place> {
    let gaz = tocsin_geo::Gazetteer::global();
    let mut out = Vec::new();
    while out.len() < PLACES {
        let (lat, lon) = (rng.gen_range(-5.0..14.0), rng.gen_range(14.0..34.0));
        if let Some(p) = gaz.reverse(lat, lon) {
            if p.distance_km < 40.0 {
                out.push(Place {
                    lat: p.nearest.lat,
                    lon: p.nearest.lon,
                    name: p.nearest.name.to_string(),
                    country: p.country,
                });
            }
        }
    }
    out
}

const ACTORS: &[&str] = &[
    "Unidentified armed group",
    "ADF",
    "CODECO",
    "Anti-balaka",
    "UPC",
    "RSF",
    "Military Forces",
    "Mai-Mai militia",
];
const NOTES: &[&str] = &[
    "{a} attacked civilians in {p}, killing {n} and burning houses.",
    "Clashes between {a} and the army near {p}; {n} fatalities reported.",
    "{a} abducted {n} women from a village near {p}.",
    "Looting of the market in {p} by {a}; {n} injured.",
    "{a} fighters ambushed a convoy on the road from {p}; {n} killed.",
];
const REPORT_TEXTS: &[&str] = &[
    "{a} attacked the market in {p} this morning, {n} killed",
    "Attaque de {a} à {p} ce matin, {n} morts",
    "{a} wameshambulia {p} asubuhi, watu {n} wameuawa",
    "هجوم {a} في {p} ومقتل {n}",
];

fn fill(t: &str, a: &str, p: &str, n: u32) -> String {
    t.replace("{a}", a)
        .replace("{p}", p)
        .replace("{n}", &n.to_string())
}

/// A report near a stored incident (place `p`, `date`, `point`), a few hours and kilometres
/// off, in one of four languages, from `source` if given.
fn new_report(
    rng: &mut StdRng,
    p: &Place,
    date: NaiveDate,
    (lat, lon): (f64, f64),
    source: Option<uuid::Uuid>,
) -> NewReport {
    let at = Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0).expect("time"))
        + chrono::Duration::minutes(rng.gen_range(0..36 * 60));
    let text = fill(
        REPORT_TEXTS[rng.gen_range(0..REPORT_TEXTS.len())],
        ACTORS[rng.gen_range(0..ACTORS.len())],
        &p.name,
        rng.gen_range(1..30),
    );
    let point = rng.gen_bool(0.6).then_some((lat + 0.02, lon - 0.02));
    let category = [
        None,
        None,
        Some("threat"),
        Some("attack"),
        Some("displacement"),
    ][rng.gen_range(0..5)]
    .map(str::to_string);
    NewReport {
        id: tocsin_domain::random_id(),
        channel: Channel::Sms,
        provider_key: None,
        source_id: source,
        text,
        tlp: Tlp::Green,
        latitude: point.map(|p| p.0),
        longitude: point.map(|p| p.1),
        country: tocsin_domain::Country::parse(p.country).ok(),
        occurred_at: rng.gen_bool(0.5).then_some(at),
        received_at: at + chrono::Duration::hours(2),
        meta: tocsin_domain::ReportMeta {
            category,
            ..Default::default()
        },
    }
}

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

async fn run(rows: usize) {
    let mut rng = StdRng::seed_from_u64(16);
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let store: DynStore = Arc::new(
        tocsin_store_sqlite::SqliteStore::open(&url)
            .await
            .expect("store"),
    );
    let actor = Actor::system("bench");
    let t = Instant::now();
    let ps = places(&mut rng);
    // Zipf shares over the places.
    let weights: Vec<f64> = (1..=PLACES).map(|k| 1.0 / k as f64).collect();
    let total: f64 = weights.iter().sum();
    let cumulative: Vec<f64> = weights
        .iter()
        .scan(0.0, |acc, w| {
            *acc += w / total;
            Some(*acc)
        })
        .collect();
    let pick = |rng: &mut StdRng| {
        let u: f64 = rng.gen();
        cumulative.partition_point(|c| *c < u).min(PLACES - 1)
    };
    let start = NaiveDate::from_ymd_opt(2015, 1, 1).expect("date");
    let days = 3650u64;

    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let importer = {
        let store = store.clone();
        let actor = actor.clone();
        tokio::spawn(async move { store.import_stream(&actor, rx).await })
    };
    let mut batch = Vec::with_capacity(MAX_IMPORT_BATCH);
    let mut kept: Vec<(usize, NaiveDate, f64, f64)> = Vec::new();
    for i in 0..rows {
        let k = pick(&mut rng);
        let p = &ps[k];
        let d = 15.0 / 111.0;
        let lat = p.lat + rng.gen_range(-d..d);
        let lon = p.lon + rng.gen_range(-d..d);
        let date = start + Days::new(rng.gen_range(0..days));
        let a = ACTORS[rng.gen_range(0..ACTORS.len())];
        let n = rng.gen_range(1..30);
        let inc = Incident::parse(IncidentInput {
            event_date: date.to_string(),
            event_type: "Violence against civilians".into(),
            sub_event_type: "Attack".into(),
            country: p.country.into(),
            latitude: lat,
            longitude: lon,
            fatalities: n.into(),
            description: fill(NOTES[rng.gen_range(0..NOTES.len())], a, &p.name, n),
            location: Some(p.name.clone()),
            tlp: if rng.gen_bool(0.8) {
                Tlp::Green
            } else {
                Tlp::Amber
            },
            dataset: Some("bench".into()),
            external_id: Some(format!("b{i}")),
            ..Default::default()
        })
        .expect("valid incident");
        if i % (rows / REPORTS / 2).max(1) == 0 {
            kept.push((k, date, lat, lon));
        }
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
    let imported_at = Instant::now();
    println!(
        "stored {rows} incidents around {PLACES} places in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let state = tocsin_server::AppState::new(store.clone(), ContactKey::generate(), false);
    let t = Instant::now();
    state
        .incident_index
        .refresh(&store)
        .await
        .expect("index loads");
    println!(
        "incident index loaded in {:.1} s ({} incidents)",
        t.elapsed().as_secs_f64(),
        state.incident_index.len()
    );
    // The gazetteer loads once per process, before the first match is timed.
    tocsin_geo::Gazetteer::global();
    let user = store
        .create_user(
            &actor,
            NewUser::build("bench-analyst", Role::Analyst, None).expect("user"),
        )
        .await
        .expect("user stored");

    // New reports near stored incidents, a few hours and kilometres off.
    let mut ids = Vec::new();
    for (k, date, lat, lon) in kept.iter().take(REPORTS + WARMUP) {
        let r = new_report(&mut rng, &ps[*k], *date, (*lat, *lon), None);
        ids.push(store.create_report(&actor, r).await.expect("report").id);
    }

    let app = state.app();
    let mut matching = Vec::new();
    let mut baseline = Vec::new();
    let mut shown = 0usize;
    let mut suggested = 0usize;
    for (i, id) in ids.iter().enumerate() {
        let t = Instant::now();
        let r = store.get_report(*id).await.expect("report");
        let base = t.elapsed();
        std::hint::black_box(r);
        let t = Instant::now();
        let m = app.report_matches(&user, *id).await.expect("matches");
        let took = t.elapsed();
        if i >= WARMUP {
            matching.push(took);
            baseline.push(base);
            shown += m.matches.len();
            suggested += m.matches.iter().filter(|x| x.suggested).count();
        }
    }
    matching.sort();
    baseline.sort();
    let n = matching.len();
    println!(
        "matching one report against {rows} incidents, {n} reports ({:.1} matches shown, {:.1} suggested per report):",
        shown as f64 / n as f64,
        suggested as f64 / n as f64
    );
    for (name, p) in [("p50", 0.5), ("p95", 0.95), ("p99", 0.99)] {
        let (a, b) = (percentile(&matching, p), percentile(&baseline, p));
        println!(
            "  {name}: {:7.2} ms   baseline (report by id) {:6.3} ms   ratio {:6.1}",
            ms(a),
            ms(b),
            ms(a) / ms(b)
        );
    }
    let p95 = ms(percentile(&matching, 0.95));
    println!(
        "  target p95 < 20 ms: {}",
        if p95 < 20.0 { "met" } else { "NOT met" }
    );

    // The triage queue with OPEN reports waiting (from SOURCES sources graded A–F, a third
    // anonymous, a mix of urgency codes): one request ranks them all and matches the first
    // page's 50 reports.
    let mut sources = Vec::new();
    for i in 0..SOURCES {
        let grade = tocsin_domain::Reliability::ALL[i % 6];
        let s = tocsin_domain::NewSource::new(
            &format!("B-{i:04}"),
            "monitor",
            grade,
            Tlp::Green,
            None,
            &ContactKey::generate(),
        )
        .expect("source");
        sources.push(store.create_source(&actor, s).await.expect("source").id);
    }
    let mut open = ids.len();
    let mut i = 0;
    while open < OPEN {
        let (k, date, lat, lon) = kept[i % kept.len()];
        i += 1;
        let source = rng
            .gen_bool(0.66)
            .then(|| sources[rng.gen_range(0..sources.len())]);
        let r = new_report(&mut rng, &ps[k], date, (lat, lon), source);
        store.create_report(&actor, r).await.expect("report");
        open += 1;
    }
    // The queue keeps each report's suggestions and scores again only what changed since,
    // less a slack for writes under way: for that long after the import of a million
    // incidents every page is matched anew. The queue is timed once it is past.
    let slack = Duration::from_secs(tocsin_app::suggestions::SLACK_SECONDS as u64 + 1);
    if imported_at.elapsed() < slack {
        tokio::time::sleep(slack - imported_at.elapsed()).await;
    }
    // The store's part, the previous way against the new, in the same run: every open report
    // read (at most 5,000, newest first) and ranked in memory, as the queue did before; then
    // the page ranked in the database.
    {
        let ranking = tocsin_domain::TriageRanking {
            filter: tocsin_domain::TriageFilter {
                max_tlp: user.clearance,
                channel: None,
                country: None,
            },
            assigned: tocsin_domain::AssignedFilter::Any,
            viewer: user.username.clone(),
            sources_shown: user.can(tocsin_domain::Permission::SourceRead),
            open_alert_reports: Default::default(),
        };
        let (mut read, mut ranked, mut db, mut count) = (vec![], vec![], vec![], vec![]);
        for i in 0..QUEUE_RUNS + 3 {
            let t = Instant::now();
            let all = store
                .triage_candidates(&ranking.filter, tocsin_store::MAX_TRIAGE_CANDIDATES)
                .await
                .expect("candidates");
            let took_read = t.elapsed();
            let t = Instant::now();
            let mut memory = ranking.rank(all);
            memory.truncate(50);
            let took_rank = t.elapsed();
            let t = Instant::now();
            let page: Vec<_> = store
                .triage_page(&ranking, None, 50)
                .await
                .expect("page")
                .into_iter()
                .filter_map(|c| ranking.item(c))
                .collect();
            let took_db = t.elapsed();
            let t = Instant::now();
            let n = store.triage_ranked_count(&ranking).await.expect("count");
            let took_count = t.elapsed();
            assert_eq!(page, memory, "the database ranks as memory did");
            assert!(n >= OPEN as u64, "{n} open reports counted");
            if i >= 3 {
                read.push(took_read);
                ranked.push(took_rank + took_read);
                db.push(took_db);
                count.push(took_count);
            }
        }
        for v in [&mut read, &mut ranked, &mut db, &mut count] {
            v.sort();
        }
        println!("triage queue, the store's part ({OPEN} open reports, page of 50, {QUEUE_RUNS} requests):");
        for (name, p) in [("p50", 0.5), ("p95", 0.95)] {
            println!(
                "  {name}: before (read {} rows {:.2} ms + ranked in memory = {:.2} ms)   ranked in the database {:.2} ms   ratio {:.1}   count in the database {:.2} ms",
                tocsin_store::MAX_TRIAGE_CANDIDATES,
                ms(percentile(&read, p)),
                ms(percentile(&ranked, p)),
                ms(percentile(&db, p)),
                ms(percentile(&ranked, p)) / ms(percentile(&db, p)),
                ms(percentile(&count, p)),
            );
        }
    }
    // Three runs: ranking alone; with the page's matches; with the page's matches while an
    // incident and a report arrive (not timed) before each request, at the time and place of
    // a stored incident the page's reports are near.
    for (with_matches, arrivals) in [(false, false), (true, false), (true, true)] {
        let q = tocsin_app::triage::TriageQuery {
            with_matches,
            ..Default::default()
        };
        let mut queue = Vec::new();
        let mut baseline = Vec::new();
        let mut matched = 0usize;
        let mut first = None;
        for (i, id) in ids.iter().cycle().take(QUEUE_RUNS + 3).enumerate() {
            if arrivals {
                let (k, date, lat, lon) = kept[rng.gen_range(0..kept.len())];
                let p = &ps[k];
                let inc = Incident::parse(IncidentInput {
                    event_date: date.to_string(),
                    event_type: "Violence against civilians".into(),
                    sub_event_type: "Attack".into(),
                    country: p.country.into(),
                    latitude: lat,
                    longitude: lon,
                    fatalities: 3,
                    description: fill(NOTES[0], ACTORS[1], &p.name, 3),
                    location: Some(p.name.clone()),
                    tlp: Tlp::Green,
                    ..Default::default()
                })
                .expect("valid incident");
                store.create_incident(&actor, inc).await.expect("incident");
                let r = new_report(&mut rng, p, date, (lat, lon), None);
                store.create_report(&actor, r).await.expect("report");
            }
            let t = Instant::now();
            std::hint::black_box(store.get_report(*id).await.expect("report"));
            let base = t.elapsed();
            let t = Instant::now();
            let page = app
                .triage_queue(&user, q.clone(), 50, None)
                .await
                .expect("queue");
            let took = t.elapsed();
            first.get_or_insert(took);
            if i >= 3 {
                queue.push(took);
                baseline.push(base);
                matched += page.items.iter().filter(|x| !x.matches.is_empty()).count();
            }
        }
        if with_matches && !arrivals {
            println!(
                "triage queue, first request with matches (the page's suggestions computed and kept): {:.1} ms",
                ms(first.expect("timed"))
            );
        }
        queue.sort();
        baseline.sort();
        if arrivals {
            println!(
                "triage queue with matches, an incident and a report arriving before each request ({:.1} of 50 with a suggested match), {QUEUE_RUNS} requests:",
                matched as f64 / QUEUE_RUNS as f64
            );
        } else if with_matches {
            println!(
                "triage queue, ranking and the page's 50 reports matched ({:.1} of 50 with a suggested match), {QUEUE_RUNS} requests:",
                matched as f64 / QUEUE_RUNS as f64
            );
        } else {
            println!("triage queue, ranking {OPEN} open reports (page of 50, no matches), {QUEUE_RUNS} requests:");
        }
        for (name, p) in [("p50", 0.5), ("p95", 0.95)] {
            let (a, b) = (percentile(&queue, p), percentile(&baseline, p));
            println!(
                "  {name}: {:7.2} ms   baseline (report by id) {:6.3} ms   ratio {:6.1}",
                ms(a),
                ms(b),
                ms(a) / ms(b)
            );
        }
        let p95 = ms(percentile(&queue, 0.95));
        println!(
            "  target p95 < 50 ms: {}",
            if p95 < 50.0 { "met" } else { "NOT met" }
        );
    }
}
