//! Micro-benchmark of the embedded gazetteer (no criterion; prints ns/op).
//!
//! ```sh
//! cargo run --release -p tocsin-geo --example geo_bench
//! ```
//!
//! Prints the load time, the resident-memory growth while loading (from
//! `/proc/self/statm`, Linux only), and the time per call of
//! `find_in_text` on typical 160-character SMS texts, `lookup`, `reverse`
//! and `country_code`. With `-- --place "text"` it prints what it finds in
//! that text instead.

use std::hint::black_box;
use std::time::{Duration, Instant};

use tocsin_geo::{country_code, Gazetteer};

/// Typical field reports, about 160 characters each, in the four languages.
const SMS: &[&str] = &[
    "ATT Hommes armés à Bria ce matin vers 6h, quartier Bornou. Maisons brûlées, au moins 3 morts. Les gens fuient vers la mission catholique. Envoyez aide svp",
    "Attack near Kaga-Bandoro this morning: armed men on motorbikes burned houses along the road to Mbrès. Many people fled into the bush, 2 children missing.",
    "Watu wenye silaha wameshambulia kijiji karibu na Beni usiku wa jana. Nyumba zimechomwa moto na watu watatu wameuawa. Tunaomba msaada haraka sana.",
    "هجوم مسلح على سوق في نيالا صباح اليوم، قتل خمسة أشخاص وأصيب آخرون. الناس يفرون نحو المخيم. نطلب المساعدة العاجلة من المنظمات",
    "rumeur: les rebelles vont attaquer bambari demain soir, les commerçants ferment deja leurs boutiques et les familles quittent le quartier. merci de verifier",
    "MVT groupe armé vu sur l'axe Bossangoa-Bouca, environ 40 hommes avec armes lourdes, direction Batangafo. Population inquiète, pas de forces sur place.",
];

fn rss_bytes() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/statm").ok()?;
    let resident: u64 = s.split_whitespace().nth(1)?.parse().ok()?;
    Some(resident * 4096)
}

fn per_op(iters: u32, f: impl FnMut()) -> Duration {
    let mut f = f;
    // Warm-up.
    for _ in 0..iters / 10 + 1 {
        f();
    }
    let t = Instant::now();
    for _ in 0..iters {
        f();
    }
    t.elapsed() / iters
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rss0 = rss_bytes();
    let t = Instant::now();
    let g = Gazetteer::load().expect("embedded data loads");
    let load = t.elapsed();
    let rss1 = rss_bytes();

    if let Some(pos) = args.iter().position(|a| a == "--place") {
        let text = args.get(pos + 1).map(String::as_str).unwrap_or("");
        let hint = args.get(pos + 2).map(String::as_str);
        for m in g.find_in_text(text, hint) {
            let c = &m.candidates[0];
            println!(
                "{:?} {:?} near={} precision={} -> {} ({}, {:?}) {:.4},{:.4} pop {} [{} candidates]",
                &text[m.start..m.end],
                m.kind,
                m.near,
                m.geo_precision(),
                c.name,
                c.country,
                c.admin1,
                c.lat,
                c.lon,
                c.population,
                m.candidates.len()
            );
        }
        return;
    }

    println!("tocsin-geo micro-benchmark (release build recommended)");
    println!(
        "load: {:.0} ms; {} places, {} name keys",
        load.as_secs_f64() * 1e3,
        g.place_count(),
        g.name_count()
    );
    match (rss0, rss1) {
        (Some(a), Some(b)) => println!(
            "memory: RSS +{:.1} MiB while loading (estimated heap held: {:.1} MiB)",
            (b.saturating_sub(a)) as f64 / 1048576.0,
            g.heap_bytes() as f64 / 1048576.0
        ),
        _ => println!("memory: /proc/self/statm unavailable"),
    }

    let t = Instant::now();
    g.prepare_reverse();
    let prep = t.elapsed();
    if let (Some(a), Some(b)) = (rss0, rss_bytes()) {
        println!(
            "reverse index: built in {:.0} ms on first use; RSS +{:.1} MiB in all",
            prep.as_secs_f64() * 1e3,
            (b.saturating_sub(a)) as f64 / 1048576.0
        );
    }

    let mut found = 0usize;
    for sms in SMS {
        let n = g.find_in_text(sms, Some("CAF")).len();
        found += n;
    }
    let mut i = 0usize;
    let d = per_op(20_000, || {
        let sms = SMS[i % SMS.len()];
        i += 1;
        black_box(g.find_in_text(black_box(sms), Some("CAF")));
    });
    println!(
        "find_in_text: {:>8} ns/op (SMS of ~{} chars, {} matches over {} texts)",
        d.as_nanos(),
        SMS.iter().map(|s| s.chars().count()).sum::<usize>() / SMS.len(),
        found,
        SMS.len()
    );
    let d = per_op(20_000, || {
        let sms = SMS[i % SMS.len()];
        i += 1;
        black_box(g.find_in_text(black_box(sms), None));
    });
    println!("find_in_text (no hint): {:>8} ns/op", d.as_nanos());

    let names = [
        "Bangui",
        "bria",
        "NDELE",
        "الخرطوم",
        "San Jose",
        "Kaga-Bandoro",
        "Nowhereville",
    ];
    let d = per_op(100_000, || {
        let n = names[i % names.len()];
        i += 1;
        black_box(g.lookup(black_box(n), None));
    });
    println!("lookup: {:>8} ns/op", d.as_nanos());

    let points = [
        (6.0, 21.0),
        (4.3612, 18.555),
        (15.55, 32.53),
        (0.0, -30.0),
        (48.85, 2.35),
        (-33.9, 18.4),
    ];
    let d = per_op(50_000, || {
        let (lat, lon) = points[i % points.len()];
        i += 1;
        black_box(g.reverse(black_box(lat), black_box(lon)));
    });
    println!("reverse: {:>8} ns/op", d.as_nanos());

    let codes = [
        "CF",
        "CAF",
        "140",
        "GW 482",
        "Central African Republic",
        "Côte d’Ivoire",
        "DR Congo",
    ];
    let d = per_op(200_000, || {
        let c = codes[i % codes.len()];
        i += 1;
        black_box(country_code(black_box(c)));
    });
    println!("country_code: {:>8} ns/op", d.as_nanos());
}
