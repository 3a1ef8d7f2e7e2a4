//! Time per message of `tocsin_sms::parse` (keyword, language, gazetteer
//! lookup) on realistic report SMS. No criterion: prints µs per message.
//!
//! ```sh
//! CARGO_TARGET_DIR=/var/tmp/tocsin-target cargo bench -p tocsin-sms
//! ```
//!
//! The issue's target is under 20 µs per message for parsing and gazetteer
//! lookup. The gazetteer is loaded (once) before timing.

use std::hint::black_box;
use std::time::Instant;

/// Field reports of the kinds Tocsin receives: coded and free text, in the
/// four languages, short and long, with and without a known place.
const SMS: &[(&str, Option<&str>)] = &[
    ("ATTAQUE Bria 5 morts", Some("CAF")),
    ("Hommes armés à Bria ce matin vers 6h, quartier Bornou. Maisons brûlées, au moins 3 morts. Les gens fuient vers la mission catholique. Envoyez aide svp", Some("CAF")),
    ("SHAMBULIO Bangui watu 5 wameuawa", Some("CAF")),
    ("Watu wenye silaha wameshambulia kijiji karibu na Beni usiku wa jana. Nyumba zimechomwa moto na watu watatu wameuawa. Tunaomba msaada haraka sana.", Some("COD")),
    ("هجوم في الخرطوم", Some("SDN")),
    ("هجوم مسلح على سوق في نيالا صباح اليوم، قتل خمسة أشخاص وأصيب آخرون. الناس يفرون نحو المخيم. نطلب المساعدة العاجلة من المنظمات", Some("SDN")),
    ("ATTACK near Kaga-Bandoro this morning: armed men on motorbikes burned houses along the road to Mbrès. Many people fled into the bush, 2 children missing.", Some("CAF")),
    ("rumeur: les rebelles vont attaquer bambari demain soir, les commerçants ferment deja leurs boutiques et les familles quittent le quartier. merci de verifier", Some("CAF")),
    ("MVT groupe armé vu sur l'axe Bossangoa-Bouca, environ 40 hommes avec armes lourdes, direction Batangafo. Population inquiète, pas de forces sur place.", Some("CAF")),
    ("ENLEVEMENT 2 femmes a Ndele hier soir", Some("CAF")),
    ("FLEE Zzyzxville 200 families", Some("CAF")),
    ("men with guns came again, everyone is hiding, please help", Some("SSD")),
    ("UVUMI wanamgambo wanakuja Goma kesho", Some("COD")),
    ("ok", None),
];

fn main() {
    let t = Instant::now();
    tocsin_geo::Gazetteer::global();
    println!(
        "tocsin-sms parse benchmark (gazetteer loaded in {:.0} ms)",
        t.elapsed().as_secs_f64() * 1e3
    );
    // Warm-up (also builds the keyword lists).
    for _ in 0..200 {
        for (text, hint) in SMS {
            black_box(tocsin_sms::parse(black_box(text), *hint));
        }
    }
    let rounds = 2_000u32;
    let t = Instant::now();
    for _ in 0..rounds {
        for (text, hint) in SMS {
            black_box(tocsin_sms::parse(black_box(text), *hint));
        }
    }
    let n = f64::from(rounds) * SMS.len() as f64;
    let mean_us = t.elapsed().as_secs_f64() * 1e6 / n;
    println!(
        "parse: {mean_us:.2} µs/message (mean over {} messages, {} distinct)",
        n as u64,
        SMS.len()
    );

    // Per message, to see the spread: best of 7 batches (the machine may be
    // shared), with the gazetteer's own `find_in_text` for comparison.
    let best_of = |f: &dyn Fn()| {
        let reps = 300u32;
        (0..7)
            .map(|_| {
                let t = Instant::now();
                for _ in 0..reps {
                    f();
                }
                t.elapsed().as_secs_f64() * 1e6 / f64::from(reps)
            })
            .fold(f64::INFINITY, f64::min)
    };
    let mut worst = 0.0f64;
    for (text, hint) in SMS {
        let us = best_of(&|| {
            black_box(tocsin_sms::parse(black_box(text), *hint));
        });
        let geo_us = best_of(&|| {
            black_box(tocsin_geo::find_in_text(black_box(text), *hint));
        });
        worst = worst.max(us);
        let p = tocsin_sms::parse(text, *hint);
        let shown: String = text.chars().take(40).collect();
        println!(
            "{us:7.2} µs (gazetteer {geo_us:5.2})  {:>2} {:<16} {:<22} {shown}",
            p.language.code(),
            p.category.map_or("-", |c| c.code()),
            p.place.as_ref().map_or_else(
                || if p.unresolved_place {
                    "(unresolved)".into()
                } else {
                    "-".into()
                },
                |f| format!("{} {}", f.name, f.country)
            ),
        );
    }
    println!("slowest message: {worst:.2} µs (target: under 20 µs)");
}
