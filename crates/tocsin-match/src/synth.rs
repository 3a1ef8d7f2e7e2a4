//! Labelled report streams for measuring matching quality: several reports per true event,
//! in four languages, with place-name variants and transliterations, typos, time jitter,
//! points given or not, the odd report from the same source twice, and unrelated reports in
//! the same places. Seeded: one seed always gives the same stream.

use chrono::{DateTime, Duration, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

/// A place of the streams: its point, country and the ways reports write its name.
struct Town {
    lat: f64,
    lon: f64,
    country: &'static str,
    names: &'static [&'static str],
}

const TOWNS: &[Town] = &[
    Town {
        lat: 1.5594,
        lon: 30.2522,
        country: "COD",
        names: &["Bunia", "BUNIA", "Bounia", "بونيا", "Буния", "bunia"],
    },
    Town {
        lat: 0.4915,
        lon: 29.4731,
        country: "COD",
        names: &["Beni", "Béni", "BENI", "بيني", "Бени"],
    },
    Town {
        lat: 0.1363,
        lon: 29.2914,
        country: "COD",
        names: &["Butembo", "BUTEMBO", "Boutembo", "بوتمبو"],
    },
    Town {
        lat: -1.6792,
        lon: 29.2228,
        country: "COD",
        names: &["Goma", "GOMA", "غوما", "Гома"],
    },
    Town {
        lat: 0.5153,
        lon: 25.1910,
        country: "COD",
        names: &[
            "Kisangani",
            "Kissangani",
            "KISANGANI",
            "كيسانغاني",
            "Кисангани",
        ],
    },
    Town {
        lat: 6.5463,
        lon: 21.9871,
        country: "CAF",
        names: &["Bria", "BRIA", "Briya", "بريا"],
    },
    Town {
        lat: 5.7622,
        lon: 20.6701,
        country: "CAF",
        names: &["Bambari", "BAMBARI", "Bambary", "بمباري"],
    },
    Town {
        lat: 4.3612,
        lon: 18.5550,
        country: "CAF",
        names: &["Bangui", "BANGUI", "Bangi", "بانغي", "Банги"],
    },
    Town {
        lat: 6.9930,
        lon: 19.1870,
        country: "CAF",
        names: &[
            "Kaga-Bandoro",
            "Kaga Bandoro",
            "KAGA BANDORO",
            "Kaga-Bandorro",
        ],
    },
    Town {
        lat: 8.4109,
        lon: 20.6473,
        country: "CAF",
        names: &["Ndélé", "Ndele", "NDELE", "N'Délé"],
    },
    Town {
        lat: 13.6279,
        lon: 25.3494,
        country: "SDN",
        names: &["El Fasher", "Al Fashir", "الفاشر", "El-Fasher", "Эль-Фашер"],
    },
    Town {
        lat: 12.0489,
        lon: 24.8807,
        country: "SDN",
        names: &["Nyala", "NYALA", "نيالا", "Ньяла"],
    },
    Town {
        lat: 13.4522,
        lon: 22.4472,
        country: "SDN",
        names: &["El Geneina", "Geneina", "الجنينة", "Al Junaynah"],
    },
];

/// What happened (an index into the vocabularies below).
const KINDS: usize = 5;

/// Report templates per language: `{p}` place, `{n}` number, `{a}` actor, `{t}` target.
/// Each kind of event has its own words in each language.
fn template(lang: usize, kind: usize) -> &'static str {
    const T: [[&str; KINDS]; 4] = [
        [
            "{a} attacked the {t} in {p} this morning, {n} killed",
            "{n} women abducted by {a} near the {t} of {p}",
            "houses burned by {a} in {p}, people fled to the {t}",
            "clashes between {a} and soldiers at {p} {t}, {n} dead",
            "{a} looted the {t} in {p} last night, {n} wounded",
        ],
        [
            "Attaque de {a} au {t} de {p} ce matin, {n} morts",
            "{n} femmes enlevées par {a} près de l'{t} de {p}",
            "Maisons brûlées par {a} à {p}, la population a fui vers le {t}",
            "Affrontements entre {a} et militaires au {t} de {p}, {n} morts",
            "Pillage du {t} de {p} par {a} cette nuit, {n} blessés",
        ],
        [
            "{a} wameshambulia {t} huko {p} asubuhi, watu {n} wameuawa",
            "wanawake {n} wametekwa na {a} karibu na {t} ya {p}",
            "nyumba zimechomwa moto na {a} huko {p}, watu wamekimbia {t}",
            "mapigano kati ya {a} na wanajeshi {t} ya {p}, {n} wamekufa",
            "{a} wamepora {t} huko {p} usiku, {n} majeruhi",
        ],
        [
            "هجوم {a} على {t} في {p} صباح اليوم ومقتل {n}",
            "اختطاف {n} نساء من قبل {a} قرب {t} {p}",
            "حرق منازل على يد {a} في {p} والناس فروا الى {t}",
            "اشتباكات بين {a} والجيش في {t} {p} ومقتل {n}",
            "نهب {t} في {p} من قبل {a} الليلة و{n} جرحى",
        ],
    ];
    T[lang][kind]
}

/// Actors per language (same index, same actor).
const ACTORS: [[&str; 6]; 4] = [
    [
        "ADF rebels",
        "CODECO militia",
        "anti-balaka",
        "ex-Seleka",
        "RSF",
        "armed men",
    ],
    [
        "rebelles ADF",
        "milice CODECO",
        "anti-balaka",
        "ex-Séléka",
        "FSR",
        "hommes armés",
    ],
    [
        "waasi wa ADF",
        "wanamgambo wa CODECO",
        "anti-balaka",
        "ex-Seleka",
        "RSF",
        "watu wenye silaha",
    ],
    [
        "متمردو ADF",
        "ميليشيا CODECO",
        "انتي بالاكا",
        "سيليكا",
        "الدعم السريع",
        "مسلحين",
    ],
];

/// Targets per language.
const TARGETS: [[&str; 6]; 4] = [
    ["market", "church", "school", "camp", "hospital", "village"],
    ["marché", "église", "école", "camp", "hôpital", "village"],
    ["soko", "kanisa", "shule", "kambi", "hospitali", "kijiji"],
    ["سوق", "كنيسة", "مدرسة", "مخيم", "مستشفى", "قرية"],
];

/// Texts that are about a place but no event (noise in the same places).
const UNRELATED: &[&str] = &[
    "prices at the market in {p} have doubled this week",
    "calme à {p} aujourd'hui, les écoles ont rouvert",
    "mvua kubwa huko {p}, barabara imefungwa",
    "توزيع مساعدات غذائية في {p} اليوم",
    "road from {p} blocked by a broken truck, no violence",
    "réunion de paix des chefs de quartier à {p} ce samedi",
];

/// One report of a stream.
#[derive(Debug, Clone)]
pub struct SynthReport {
    /// The event it is about (`None`: unrelated to any event).
    pub event: Option<usize>,
    /// Text as written.
    pub text: String,
    /// Point given with it, if any.
    pub point: Option<(f64, f64)>,
    /// Claimed event time, if any.
    pub claimed: Option<DateTime<Utc>>,
    /// Time received (the stream is in this order).
    pub received: DateTime<Utc>,
    /// Its source.
    pub source: Uuid,
    /// Country, when the channel knows it (SMS gateways of a country).
    pub country: Option<&'static str>,
}

/// A stream of reports in order of receipt, labelled with the events they are about.
#[derive(Debug, Clone)]
pub struct Stream {
    /// The reports.
    pub reports: Vec<SynthReport>,
    /// How many true events.
    pub events: usize,
}

impl Stream {
    /// Whether reports `a` and `b` are about the same event.
    pub fn same_event(&self, a: usize, b: usize) -> bool {
        let (x, y) = (self.reports[a].event, self.reports[b].event);
        x.is_some() && x == y
    }
}

/// Sizes of a stream.
#[derive(Debug, Clone, Copy)]
pub struct StreamSpec {
    /// True events.
    pub events: usize,
    /// Days the events spread over.
    pub days: i64,
    /// Unrelated reports (about a place, no event).
    pub unrelated: usize,
}

impl Default for StreamSpec {
    fn default() -> Self {
        StreamSpec {
            events: 150,
            days: 60,
            unrelated: 120,
        }
    }
}

/// Introduce one typo (a letter dropped, doubled, swapped or replaced) into a random word of
/// at least five letters.
fn typo(rng: &mut StdRng, text: &str) -> String {
    let words: Vec<&str> = text.split(' ').collect();
    let long: Vec<usize> = (0..words.len())
        .filter(|&i| words[i].chars().count() >= 5 && words[i].chars().all(char::is_alphabetic))
        .collect();
    if long.is_empty() {
        return text.to_string();
    }
    let wi = long[rng.gen_range(0..long.len())];
    let mut cs: Vec<char> = words[wi].chars().collect();
    let i = rng.gen_range(1..cs.len() - 1);
    match rng.gen_range(0..4) {
        0 => {
            cs.remove(i);
        }
        1 => cs.insert(i, cs[i]),
        2 => cs.swap(i, i + 1),
        _ => {
            if cs[i].is_ascii_lowercase() {
                cs[i] = (b'a' + rng.gen_range(0..26u8)) as char;
            }
        }
    }
    let w: String = cs.into_iter().collect();
    let mut out: Vec<String> = words.iter().map(|s| s.to_string()).collect();
    out[wi] = w;
    out.join(" ")
}

fn fill(t: &str, p: &str, n: u32, a: &str, tg: &str) -> String {
    t.replace("{p}", p)
        .replace("{n}", &n.to_string())
        .replace("{a}", a)
        .replace("{t}", tg)
}

/// Offset a point by up to `km` kilometres.
fn jitter(rng: &mut StdRng, lat: f64, lon: f64, km: f64) -> (f64, f64) {
    let d = rng.gen_range(0.0..km) / 111.0;
    let a = rng.gen_range(0.0..std::f64::consts::TAU);
    (
        lat + d * a.sin(),
        lon + d * a.cos() / lat.to_radians().cos(),
    )
}

/// A stream made from `seed`: the same seed, the same stream.
pub fn stream(seed: u64, spec: StreamSpec) -> Stream {
    let mut rng = StdRng::seed_from_u64(seed);
    let start = Utc
        .with_ymd_and_hms(2026, 3, 1, 0, 0, 0)
        .single()
        .expect("valid date");
    let sources: Vec<Uuid> = (0..spec.events * 2)
        .map(|_| Uuid::from_u128(rng.gen()))
        .collect();
    let mut reports = Vec::new();
    for e in 0..spec.events {
        let town = &TOWNS[rng.gen_range(0..TOWNS.len())];
        let kind = rng.gen_range(0..KINDS);
        let actor = rng.gen_range(0..6);
        let target = rng.gen_range(0..6);
        let n: u32 = rng.gen_range(2..40);
        let at = start + Duration::minutes(rng.gen_range(0..spec.days * 24 * 60));
        // Events happen somewhere around town, not in its centre.
        let (elat, elon) = jitter(&mut rng, town.lat, town.lon, 4.0);
        let count = rng.gen_range(2..=5);
        let mut used: Vec<Uuid> = Vec::new();
        for k in 0..count {
            let lang = rng.gen_range(0..4);
            let name = town.names[rng.gen_range(0..town.names.len())];
            // Numbers differ between witnesses now and then.
            let nn = if rng.gen_bool(0.25) {
                n + rng.gen_range(1..5)
            } else {
                n
            };
            let mut text = fill(
                template(lang, kind),
                name,
                nn,
                ACTORS[lang][actor],
                TARGETS[lang][target],
            );
            if rng.gen_bool(0.3) {
                text = typo(&mut rng, &text);
            }
            if rng.gen_bool(0.1) {
                text = text.to_uppercase();
            }
            let point = rng.gen_bool(0.5).then(|| jitter(&mut rng, elat, elon, 3.0));
            let claimed = rng
                .gen_bool(0.5)
                .then(|| at + Duration::minutes(rng.gen_range(-240..240)));
            let received = at + Duration::minutes(rng.gen_range(5..36 * 60));
            // One report in ten repeats an earlier witness of the same event.
            let source = if k > 0 && rng.gen_bool(0.1) {
                used[rng.gen_range(0..used.len())]
            } else {
                sources[rng.gen_range(0..sources.len())]
            };
            used.push(source);
            reports.push(SynthReport {
                event: Some(e),
                text,
                point,
                claimed,
                received,
                source,
                country: rng.gen_bool(0.7).then_some(town.country),
            });
        }
    }
    for _ in 0..spec.unrelated {
        let town = &TOWNS[rng.gen_range(0..TOWNS.len())];
        let name = town.names[rng.gen_range(0..town.names.len())];
        let text = fill(
            UNRELATED[rng.gen_range(0..UNRELATED.len())],
            name,
            0,
            "",
            "",
        );
        let at = start + Duration::minutes(rng.gen_range(0..spec.days * 24 * 60));
        reports.push(SynthReport {
            event: None,
            text,
            point: rng
                .gen_bool(0.5)
                .then(|| jitter(&mut rng, town.lat, town.lon, 5.0)),
            claimed: None,
            received: at,
            source: sources[rng.gen_range(0..sources.len())],
            country: rng.gen_bool(0.7).then_some(town.country),
        });
    }
    reports.sort_by_key(|r| r.received);
    Stream {
        reports,
        events: spec.events,
    }
}

/// Precision and recall of suggested matches over a stream.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Quality {
    /// Suggested pairs about one event.
    pub true_positives: u64,
    /// Suggested pairs about different events (or none).
    pub false_positives: u64,
    /// Pairs about one event from different sources that were not suggested.
    pub false_negatives: u64,
}

impl Quality {
    /// Share of suggestions that were right.
    pub fn precision(&self) -> f64 {
        let d = self.true_positives + self.false_positives;
        if d == 0 {
            1.0
        } else {
            self.true_positives as f64 / d as f64
        }
    }

    /// Share of true pairs that were suggested.
    pub fn recall(&self) -> f64 {
        let d = self.true_positives + self.false_negatives;
        if d == 0 {
            1.0
        } else {
            self.true_positives as f64 / d as f64
        }
    }
}

/// Candidate window of the evaluation: reports received up to this many days before.
pub const WINDOW_DAYS: i64 = 7;

/// Each report of the stream against every earlier one received within [`WINDOW_DAYS`] (the
/// candidates a store query gives), scored as one pool ([`crate::Matcher::score_all`]): the
/// score of each pair, and whether it is a true pair. Same-source pairs are left out: they
/// are never suggested, by rule.
pub fn scored_pairs(m: &crate::Matcher<'_>, s: &Stream) -> Vec<(f64, bool)> {
    let prepared: Vec<crate::Prepared> = s.reports.iter().map(|r| m.prepare(&item(r))).collect();
    let mut out = Vec::new();
    for (i, r) in s.reports.iter().enumerate() {
        let pool: Vec<usize> = (0..i)
            .rev()
            .take_while(|&j| r.received - s.reports[j].received <= Duration::days(WINDOW_DAYS))
            .filter(|&j| s.reports[j].source != r.source)
            .collect();
        let cands: Vec<crate::Prepared> = pool.iter().map(|&j| prepared[j].clone()).collect();
        for (j, sc) in pool.iter().zip(m.score_all(&prepared[i], &cands)) {
            out.push((sc.score, s.same_event(i, *j)));
        }
    }
    out
}

/// Quality at `threshold` over scored pairs.
pub fn quality(pairs: &[(f64, bool)], threshold: f64) -> Quality {
    let mut q = Quality::default();
    for &(score, truth) in pairs {
        match (score >= threshold, truth) {
            (true, true) => q.true_positives += 1,
            (true, false) => q.false_positives += 1,
            (false, true) => q.false_negatives += 1,
            (false, false) => {}
        }
    }
    q
}

/// The matcher's view of a synthetic report.
pub fn item(r: &SynthReport) -> crate::Item<'_> {
    crate::Item {
        text: &r.text,
        point: r.point,
        place: None,
        when: match r.claimed {
            Some(t) => crate::When::Claimed(t),
            None => crate::When::Received(r.received),
        },
        country: r.country,
        sources: std::slice::from_ref(&r.source),
    }
}
