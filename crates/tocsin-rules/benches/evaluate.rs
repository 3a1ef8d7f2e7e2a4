//! Rule-engine benchmark (issue 14: "with 100 enabled rules and 1,000,000 incidents,
//! evaluating a new incident costs at most 1 ms at p99").
//!
//!   cargo bench -p tocsin-rules                    (or scripts/bench-rules.sh)
//!   BENCH_RULES_INCIDENTS=1000000 BENCH_RULES_SQLITE=1 cargo bench -p tocsin-rules
//!
//! Builds 100 enabled rules of every kind (incident thresholds over countries, admin1 areas,
//! radii and situations, with event-type, civilian and fatality filters; signal, assessment,
//! forecast and report rules), generates synthetic incidents over 60 countries and 30 years,
//! loads the engine with them, then evaluates new incidents one at a time. Prints p50, p99 and
//! max per evaluation, the load time, RSS before and after the load, and baselines measured
//! in the same run (one hash-map upsert per incident; the engine with no rules), with the
//! figures as ratios of them. With `BENCH_RULES_SQLITE=1` it also imports the incidents into a
//! SQLite file and times `RuleEngine::load` from it (the store's scan).

use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use tocsin_domain::{AlertRule, Incident, Tlp, VerificationStatus};
use tocsin_rules::RuleEngine;
use uuid::Uuid;

/// splitmix64: a small, fast, reproducible generator.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

const COUNTRIES: &[&str] = &[
    "COD", "SDN", "SSD", "CAF", "NGA", "MLI", "BFA", "NER", "TCD", "CMR", "ETH", "SOM", "KEN",
    "UGA", "BDI", "RWA", "TZA", "MOZ", "ZWE", "ZAF", "AGO", "LBY", "EGY", "DZA", "TUN", "MAR",
    "YEM", "SYR", "IRQ", "IRN", "AFG", "PAK", "IND", "BGD", "MMR", "THA", "PHL", "IDN", "COL",
    "VEN", "MEX", "HTI", "BRA", "PER", "UKR", "RUS", "GEO", "ARM", "AZE", "LBN", "ISR", "PSE",
    "SAU", "GIN", "SLE", "LBR", "CIV", "GHA", "TGO", "BEN",
];
const TYPES: &[(&str, &str)] = &[
    ("Battles", "Armed clash"),
    ("Violence against civilians", "Attack"),
    (
        "Violence against civilians",
        "Abduction/forced disappearance",
    ),
    (
        "Explosions/Remote violence",
        "Shelling/artillery/missile attack",
    ),
    ("Explosions/Remote violence", "Air/drone strike"),
    ("Protests", "Peaceful protest"),
    ("Riots", "Mob violence"),
    ("Strategic developments", "Looting/property destruction"),
];
const SITUATIONS: u128 = 200;
const FIRST_DAY: i64 = 0; // 1995-01-01
const DAYS: i64 = 30 * 365;

fn centre(c: usize) -> (f64, f64) {
    // Spread the countries' centres over the tropics and mid-latitudes.
    let lat = -30.0 + (c as f64 * 7.3) % 75.0;
    let lon = -100.0 + (c as f64 * 37.7) % 240.0;
    (lat, lon)
}

fn day(n: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(1995, 1, 1).unwrap() + chrono::Days::new(n as u64)
}

fn incident(rng: &mut Rng, n: u64, date: NaiveDate) -> Incident {
    let c = rng.below(COUNTRIES.len() as u64) as usize;
    let (clat, clon) = centre(c);
    let (et, sub) = TYPES[rng.below(TYPES.len() as u64) as usize];
    let now = chrono::Utc::now();
    Incident {
        id: Uuid::from_u128(u128::from(n) | (1 << 100)),
        event_date: date,
        date_precision: 1,
        event_type: et.into(),
        sub_event_type: sub.into(),
        country: tocsin_domain::Country::parse(COUNTRIES[c]).unwrap(),
        admin1: Some(format!("Province {}", rng.below(12))),
        admin2: None,
        location: None,
        latitude: (clat + rng.unit() * 6.0 - 3.0).clamp(-89.0, 89.0),
        longitude: clon + rng.unit() * 6.0 - 3.0,
        geo_precision: 1,
        actor1: None,
        actor2: None,
        targeted_group: (rng.below(5) == 0).then(|| "civilians".to_string()),
        fatalities: [0, 0, 0, 1, 1, 2, 3, 5, 10, 40][rng.below(10) as usize],
        fatalities_low: None,
        fatalities_high: None,
        credibility: 3,
        verification_status: VerificationStatus::Verified,
        description: String::new(),
        tlp: [Tlp::Clear, Tlp::Green, Tlp::Amber, Tlp::AmberStrict][rng.below(4) as usize],
        situation_id: (rng.below(3) == 0)
            .then(|| Uuid::from_u128(1 + u128::from(rng.below(SITUATIONS as u64)))),
        report_ids: vec![],
        dataset: Some("bench".into()),
        external_id: Some(n.to_string()),
        violence_type: None,
        created_at: now,
        updated_at: now,
        version: 1,
        reliability: tocsin_domain::Reliability::F,
        grading: "F3".into(),
    }
}

fn rules(rng: &mut Rng) -> Vec<AlertRule> {
    let mut out = Vec::new();
    let mut push = |j: serde_json::Value| {
        let mut base = serde_json::json!({"name": format!("rule {}", out.len()),
            "severity": "high", "ack_within": "30m"});
        for (k, v) in j.as_object().unwrap() {
            base[k] = v.clone();
        }
        out.push(AlertRule::parse(serde_json::from_value(base).unwrap()).unwrap());
    };
    let windows = ["1d", "7d", "14d", "30d", "90d"];
    // 40 country rules, crowded on the first ten countries (the worst case: many rules per
    // incident), a third of them on one admin1, some with type, civilian and death filters.
    for k in 0..40u64 {
        let c = COUNTRIES[(k % 10) as usize];
        let mut j = serde_json::json!({"kind": "incidents", "country": c,
            "window": windows[(k % 5) as usize], "min_incidents": 3 + rng.below(20)});
        if k % 3 == 0 {
            j["admin1"] = format!("Province {}", rng.below(12)).into();
        }
        if k % 4 == 1 {
            j["event_types"] = serde_json::json!(["Violence against civilians", "Battles"]);
        }
        if k % 5 == 2 {
            j["civilian_targeting"] = true.into();
        }
        if k % 6 == 3 {
            j["min_fatalities"] = (10 + rng.below(50)).into();
        }
        push(j);
    }
    // 20 radius rules of 25–500 km around the busiest countries' centres.
    for k in 0..20u64 {
        let (lat, lon) = centre((k % 10) as usize);
        push(
            serde_json::json!({"kind": "incidents", "latitude": lat + rng.unit() - 0.5,
            "longitude": lon + rng.unit() - 0.5, "radius_km": 25.0 + rng.unit() * 475.0,
            "window": windows[(k % 5) as usize], "min_incidents": 2 + rng.below(10)}),
        );
    }
    // 15 situation rules.
    for k in 0..15u64 {
        push(
            serde_json::json!({"kind": "incidents", "situation": Uuid::from_u128(1 + u128::from(k)),
            "window": windows[(k % 5) as usize], "min_fatalities": 5 + rng.below(30)}),
        );
    }
    for k in 0..10u64 {
        push(
            serde_json::json!({"kind": "signal", "country": COUNTRIES[k as usize],
            "min_severity": "moderate"}),
        );
    }
    for _ in 0..5 {
        push(serde_json::json!({"kind": "assessment", "min_level": "high"}));
    }
    for k in 0..5u64 {
        push(serde_json::json!({"kind": "forecast", "top": 5 + k * 5}));
    }
    for k in 0..5u64 {
        push(
            serde_json::json!({"kind": "report", "categories": ["attack", "abduction"],
            "country": COUNTRIES[k as usize]}),
        );
    }
    assert_eq!(out.len(), 100);
    out
}

fn rss_mib() -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

struct Stats {
    p50: Duration,
    p99: Duration,
    max: Duration,
}

fn stats(mut v: Vec<Duration>) -> Stats {
    v.sort();
    Stats {
        p50: pct(&v, 0.5),
        p99: pct(&v, 0.99),
        max: *v.last().unwrap(),
    }
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is read from the command line.
    let n: u64 = std::env::var("BENCH_RULES_INCIDENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let probes: u64 = 20_000;
    let mut rng = Rng(14);
    let rules = rules(&mut rng);
    println!(
        "== {} enabled rules, {n} incidents over {} countries and 30 years",
        rules.len(),
        COUNTRIES.len()
    );

    let rss0 = rss_mib();
    let mut engine = RuleEngine::new(rules.clone());
    let mut load = Duration::ZERO;
    let mut gen = Rng(1);
    let mut chunk = Vec::with_capacity(10_000);
    let mut k = 0;
    while k < n {
        chunk.clear();
        for _ in 0..10_000.min(n - k) {
            let d = day(FIRST_DAY + gen.below(DAYS as u64) as i64);
            chunk.push(incident(&mut gen, k, d));
            k += 1;
        }
        let t = Instant::now();
        for i in &chunk {
            engine.load_incident(i);
        }
        load += t.elapsed();
    }
    drop(chunk);
    let rss1 = rss_mib();
    println!(
        "load (in memory): {:.2} s ({:.0} incidents/s); RSS {rss0:.0} MiB before, {rss1:.0} MiB after ({:+.0} MiB); {} rules met",
        load.as_secs_f64(),
        n as f64 / load.as_secs_f64(),
        rss1 - rss0,
        engine.met().len()
    );

    // New incidents: dates at the end of the span, so they land inside windows, slide them
    // and cross thresholds; one in ten is an update of an earlier probe.
    let mut probe_rng = Rng(2);
    let mut newest = FIRST_DAY + DAYS;
    let mut probes_v: Vec<Incident> = Vec::with_capacity(probes as usize);
    for p in 0..probes {
        if p % 200 == 0 {
            newest += 1;
        }
        if p % 10 == 9 && !probes_v.is_empty() {
            let mut again = probes_v[probe_rng.below(probes_v.len() as u64) as usize].clone();
            again.fatalities += 1;
            probes_v.push(again);
        } else {
            let d = day(newest - probe_rng.below(3) as i64);
            probes_v.push(incident(&mut probe_rng, n + p, d));
        }
    }

    // Baseline 1: one hash-map upsert per incident (the least any keyed state costs).
    let mut map: HashMap<Uuid, (NaiveDate, i64)> = HashMap::new();
    let mut base = Vec::with_capacity(probes_v.len());
    for i in &probes_v {
        let t = Instant::now();
        black_box(map.insert(i.id, (i.event_date, i.fatalities)));
        base.push(t.elapsed());
    }
    let base = stats(base);
    // Baseline 2: the engine with no rules.
    let mut empty = RuleEngine::new(Vec::new());
    let mut none = Vec::with_capacity(probes_v.len());
    for i in &probes_v {
        let t = Instant::now();
        black_box(empty.incident_upserted(i));
        none.push(t.elapsed());
    }
    let none = stats(none);

    let mut lat = Vec::with_capacity(probes_v.len());
    let (mut crossed, mut still) = (0usize, 0usize);
    for i in &probes_v {
        let t = Instant::now();
        let f = engine.incident_upserted(i);
        lat.push(t.elapsed());
        for x in &f {
            match x.reason {
                tocsin_rules::Reason::Crossed => crossed += 1,
                tocsin_rules::Reason::StillMet => still += 1,
            }
        }
        black_box(f);
    }
    let s = stats(lat);
    println!(
        "evaluate one new incident ({probes} in turn; {crossed} crossings, {still} still-met firings):"
    );
    println!(
        "  engine, 100 rules:   p50 {:>8.2} µs  p99 {:>8.2} µs  max {:>8.2} µs   (target p99 ≤ 1000 µs)",
        us(s.p50),
        us(s.p99),
        us(s.max)
    );
    println!(
        "  baseline, 0 rules:   p50 {:>8.2} µs  p99 {:>8.2} µs  max {:>8.2} µs",
        us(none.p50),
        us(none.p99),
        us(none.max)
    );
    println!(
        "  baseline, 1 hash-map upsert: p50 {:>8.2} µs  p99 {:>8.2} µs  max {:>8.2} µs",
        us(base.p50),
        us(base.p99),
        us(base.max)
    );
    println!(
        "  ratios to one hash-map upsert: p50 {:.1}×, p99 {:.1}×",
        s.p50.as_secs_f64() / base.p50.as_secs_f64().max(1e-9),
        s.p99.as_secs_f64() / base.p99.as_secs_f64().max(1e-9)
    );

    if std::env::var("BENCH_RULES_SQLITE").is_ok_and(|v| v == "1") {
        sqlite(n, &rules);
    }
}

fn sqlite(n: u64, rules: &[AlertRule]) {
    use tocsin_store::{prelude::*, ImportChunk};
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dir = tempfile::Builder::new()
            .prefix("tocsin-bench-rules")
            .tempdir_in("/var/tmp")
            .unwrap();
        let url = format!("sqlite://{}", dir.path().join("tocsin.db").display());
        let store = tocsin_store_sqlite::SqliteStore::open(&url).await.unwrap();
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        let t = Instant::now();
        let feeder = tokio::spawn(async move {
            let mut gen = Rng(1);
            let mut k = 0;
            while k < n {
                let mut chunk = Vec::with_capacity(10_000);
                for _ in 0..10_000.min(n - k) {
                    let d = day(FIRST_DAY + gen.below(DAYS as u64) as i64);
                    let mut i = incident(&mut gen, k, d);
                    // The file has no situations; the scan's cost does not depend on them.
                    i.situation_id = None;
                    chunk.push(i);
                    k += 1;
                }
                tx.send(ImportChunk::Rows {
                    dataset: "bench".into(),
                    incidents: chunk,
                })
                .await
                .unwrap();
            }
            tx.send(ImportChunk::End).await.unwrap();
        });
        let (ins, _) = store
            .import_stream(&tocsin_domain::Actor::system("bench"), rx)
            .await
            .unwrap();
        feeder.await.unwrap();
        println!("SQLite: imported {ins} incidents in {:.1} s (setup, not the figure)", t.elapsed().as_secs_f64());
        let rss0 = rss_mib();
        let t = Instant::now();
        let e = RuleEngine::load(&store, rules.to_vec()).await.unwrap();
        let took = t.elapsed();
        println!(
            "SQLite: RuleEngine::load (one scan of {n} incidents) {:.2} s ({:.0} incidents/s); RSS {:+.0} MiB; {} rules met",
            took.as_secs_f64(),
            n as f64 / took.as_secs_f64(),
            rss_mib() - rss0,
            e.met().len()
        );
        // One rule rebuilt at runtime (a country rule: a scan narrowed to its country).
        let mut e = e;
        let t = Instant::now();
        e.reload_rule(&store, rules[0].clone()).await.unwrap();
        println!(
            "SQLite: reload one country rule from the store: {:.2} s",
            t.elapsed().as_secs_f64()
        );
    });
}
