//! Texts into comparable terms: normalised across scripts and spellings, stop words dropped,
//! place names resolved through the gazetteer, a few report words mapped across languages.

use tocsin_geo::Gazetteer;

/// One word of a text as the matcher compares it.
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    /// The comparison key: Latin letters and digits, spellings folded (`Bounia` → `bunia`,
    /// `Буния` → `bunia`), or a concept (`~attack`) or a gazetteer place (`@bunia`).
    pub key: String,
    /// How the term is shown in an explanation (`bunia`, `attack`, `Bunia`).
    pub shown: String,
    /// Written in Arabic script, whose short vowels are not written: compared by consonants
    /// too ([`same_term`]).
    pub arabic: bool,
}

/// A place named in a text and resolved through the gazetteer.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedPlace {
    /// The gazetteer's name (`Bunia`).
    pub name: String,
    /// Latitude, WGS 84.
    pub lat: f64,
    /// Longitude, WGS 84.
    pub lon: f64,
    /// Named after "near", "près de", "karibu na", "قرب".
    pub near: bool,
}

/// Words of report vocabulary across English, French, Swahili and Arabic, each group one
/// concept. Written as [`tocsin_geo::normalize`] leaves them; each also matches with a
/// trailing `s` removed.
const CONCEPTS: &[(&str, &[&str])] = &[
    (
        "attack",
        &[
            "attack",
            "attacked",
            "attacking",
            "attaque",
            "attaques",
            "attaquer",
            "attaque",
            "shambulio",
            "shambulia",
            "wameshambulia",
            "walishambulia",
            "mashambulizi",
            "هجوم",
            "هاجم",
            "هاجموا",
            "اعتداء",
        ],
    ),
    (
        "killed",
        &[
            "killed",
            "kill",
            "killing",
            "dead",
            "deaths",
            "death",
            "died",
            "mort",
            "morts",
            "tue",
            "tues",
            "tuees",
            "deces",
            "wameuawa",
            "waliuawa",
            "wamekufa",
            "vifo",
            "kuuawa",
            "قتل",
            "قتلى",
            "مقتل",
            "قتيل",
            "ماتوا",
        ],
    ),
    (
        "wounded",
        &[
            "wounded",
            "injured",
            "blesse",
            "blesses",
            "majeruhi",
            "wamejeruhiwa",
            "جرحى",
            "اصيب",
            "مصاب",
        ],
    ),
    (
        "burned",
        &[
            "burned",
            "burnt",
            "burn",
            "burning",
            "fire",
            "incendie",
            "incendiees",
            "brule",
            "brulees",
            "brules",
            "moto",
            "zimechomwa",
            "kuchomwa",
            "حرق",
            "احراق",
            "احرقت",
        ],
    ),
    (
        "looted",
        &[
            "looted", "looting", "pillage", "pille", "pillees", "uporaji", "kupora", "نهب",
        ],
    ),
    (
        "abducted",
        &[
            "abducted",
            "kidnapped",
            "abduction",
            "kidnapping",
            "enleve",
            "enlevees",
            "enlevement",
            "enleves",
            "utekaji",
            "wametekwa",
            "اختطاف",
            "اختطف",
            "خطف",
        ],
    ),
    (
        "clashes",
        &[
            "clashes",
            "clash",
            "fighting",
            "affrontement",
            "combats",
            "mapigano",
            "اشتباكات",
            "اشتباك",
        ],
    ),
    (
        "fled",
        &[
            "fled",
            "fleeing",
            "displaced",
            "fuient",
            "fui",
            "deplaces",
            "wamekimbia",
            "kukimbia",
            "نزوح",
            "فروا",
            "نازحين",
        ],
    ),
    ("market", &["market", "marche", "soko", "سوق"]),
    ("church", &["church", "eglise", "kanisa", "كنيسة"]),
    ("mosque", &["mosque", "mosquee", "msikiti", "مسجد"]),
    ("school", &["school", "ecole", "shule", "مدرسة"]),
    ("camp", &["camp", "camps", "kambi", "مخيم"]),
    ("village", &["village", "villages", "kijiji", "قرية"]),
    ("hospital", &["hospital", "hopital", "hospitali", "مستشفى"]),
    (
        "militia",
        &[
            "militia",
            "militiamen",
            "milice",
            "miliciens",
            "wanamgambo",
            "ميليشيا",
            "مليشيات",
        ],
    ),
    (
        "soldiers",
        &[
            "soldiers",
            "army",
            "soldats",
            "armee",
            "militaires",
            "wanajeshi",
            "jeshi",
            "جنود",
            "جيش",
        ],
    ),
    (
        "rebels",
        &[
            "rebels",
            "rebelles",
            "waasi",
            "متمردين",
            "المتمردون",
            "متمردون",
        ],
    ),
    (
        "armed",
        &[
            "armed",
            "gunmen",
            "armes",
            "arme",
            "silaha",
            "مسلحين",
            "مسلح",
            "مسلحون",
        ],
    ),
    ("women", &["women", "femmes", "wanawake", "نساء"]),
    ("children", &["children", "enfants", "watoto", "اطفال"]),
    (
        "houses",
        &["houses", "homes", "maisons", "nyumba", "منازل", "بيوت"],
    ),
];

/// The concept of a word written with a typo (`attakced`): a folded concept word within
/// [`same_word`] of its key.
fn concept_fuzzy(key: &str) -> Option<&'static str> {
    use std::sync::OnceLock;
    static FOLDED: OnceLock<Vec<(String, &'static str)>> = OnceLock::new();
    let folded = FOLDED.get_or_init(|| {
        CONCEPTS
            .iter()
            .flat_map(|(c, words)| {
                words
                    .iter()
                    .filter(|w| w.is_ascii())
                    .map(move |w| (fold_key(w), *c))
            })
            .collect()
    });
    if key.len() < 5 {
        return None;
    }
    folded
        .iter()
        .find(|(f, _)| f.as_bytes().first() == key.as_bytes().first() && same_word(f, key))
        .map(|(_, c)| *c)
}

fn concept(word: &str) -> Option<&'static str> {
    use std::collections::HashMap;
    use std::sync::OnceLock;
    static MAP: OnceLock<HashMap<String, &'static str>> = OnceLock::new();
    let map = MAP.get_or_init(|| {
        let mut m = HashMap::new();
        for (c, words) in CONCEPTS {
            for w in *words {
                m.insert(tocsin_geo::normalize(w), *c);
            }
        }
        m
    });
    map.get(word)
        .or_else(|| word.strip_suffix('s').and_then(|w| map.get(w)))
        .copied()
}

/// Arabic letters (as [`tocsin_geo::normalize`] leaves them) in Latin letters, the way names
/// are usually written in English or French: `بونيا` → `bwnya` (→ `bunia` once folded).
/// Letters without a Latin equivalent that people write (`ع`, `ء`) are dropped; a final `ه`
/// (a folded `ة`) is `a`.
fn arabic_to_latin(word: &str) -> String {
    let n = word.chars().count();
    let mut out = String::with_capacity(word.len());
    for (i, c) in word.chars().enumerate() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
            continue;
        }
        out.push_str(match c {
            'ا' => "a",
            'ب' => "b",
            'ت' | 'ط' => "t",
            'ث' => "th",
            'ج' => "j",
            'ح' => "h",
            'خ' => "kh",
            'د' | 'ض' => "d",
            'ذ' | 'ظ' => "dh",
            'ر' => "r",
            'ز' => "z",
            'س' | 'ص' => "s",
            'ش' => "sh",
            'غ' => "gh",
            'ف' | 'ڤ' => "f",
            'ق' => "q",
            'ك' => "k",
            'گ' => "g",
            'ل' => "l",
            'م' => "m",
            'ن' => "n",
            'ه' if i + 1 == n && n > 1 => "a",
            'ه' => "h",
            'و' => "w",
            'ي' => "y",
            'پ' => "p",
            'چ' => "ch",
            _ => "",
        });
    }
    out
}

fn is_arabic(c: char) -> bool {
    matches!(c as u32, 0x0600..=0x06FF | 0x0750..=0x077F | 0x08A0..=0x08FF | 0xFB50..=0xFDFF | 0xFE70..=0xFEFF)
}

/// The comparison key of one normalised word: transliterated to Latin letters (Arabic by
/// [`arabic_to_latin`], Cyrillic, Greek and other scripts by `deunicode`), then spellings folded so that common variants of one name agree:
/// `ou` → `u`, `y`/`j` between vowels… see the code; doubled letters collapsed; `c`/`q`/`ck`
/// → `k`, `ph` → `f`, `w` → `u`, `y` → `i`, `kh` → `k`, `dh` → `d`, `sh`/`ch` → `s`, `z` →
/// `s`, `j` → `i` after a letter; an English or French plural `s` dropped from longer words.
pub fn fold_key(word: &str) -> String {
    let latin: String = if word.is_ascii() {
        word.to_string()
    } else if word.chars().any(is_arabic) {
        arabic_to_latin(word)
    } else {
        deunicode::deunicode(word)
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    let b = latin.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        let (emit, skip): (u8, usize) = match (c, next) {
            (b'o', Some(b'u')) => (b'u', 2),
            (b'q', Some(b'u')) => (b'k', 2),
            (b'c', Some(b'k')) => (b'k', 2),
            (b'p', Some(b'h')) => (b'f', 2),
            (b'k', Some(b'h')) => (b'k', 2),
            (b'g', Some(b'h')) => (b'g', 2),
            (b'd', Some(b'h')) => (b'd', 2),
            (b't', Some(b'h')) => (b't', 2),
            (b's', Some(b'h')) | (b'c', Some(b'h')) => (b's', 2),
            (b'c', _) | (b'q', _) => (b'k', 1),
            (b'w', _) => (b'u', 1),
            (b'y', _) => (b'i', 1),
            (b'j', _) if i > 0 => (b'i', 1),
            (b'z', _) => (b's', 1),
            (b'e', Some(b'e')) => (b'i', 2),
            _ => (c, 1),
        };
        if out.last() != Some(&emit) || emit.is_ascii_digit() {
            out.push(emit);
        }
        i += skip;
    }
    if out.len() > 4 && out.last() == Some(&b's') && !out.iter().all(u8::is_ascii_digit) {
        out.pop();
    }
    String::from_utf8(out).unwrap_or_default()
}

/// Whether two keys name the same word allowing for a typo: equal, or of at least five
/// letters with an edit distance (adjacent transpositions counting one) of one (two from
/// eight letters), or of at least six letters with a Jaro-Winkler similarity of 0.93 or more.
/// Concepts and numbers must be equal.
pub fn same_word(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let a = a.strip_prefix('@').unwrap_or(a);
    let b = b.strip_prefix('@').unwrap_or(b);
    if a == b {
        return true;
    }
    let (la, lb) = (a.len(), b.len());
    if la.abs_diff(lb) > 2 || la.min(lb) < 5 {
        return false;
    }
    if a.starts_with('~') || b.starts_with('~') {
        return false;
    }
    if a.bytes().any(|c| c.is_ascii_digit()) || b.bytes().any(|c| c.is_ascii_digit()) {
        return false;
    }
    let min = a.len().min(b.len());
    let allowed = if min >= 8 { 2 } else { 1 };
    if strsim::osa_distance(a, b) <= allowed {
        return true;
    }
    min >= 6 && strsim::jaro_winkler(a, b) >= 0.93
}

/// The consonants of a key after its first letter (`bunia` → `bn`, `faser` → `fsr`).
fn skeleton(key: &str) -> String {
    let k = key.strip_prefix('@').unwrap_or(key);
    let mut out = String::new();
    for (i, c) in k.chars().enumerate() {
        if i == 0 || !matches!(c, 'a' | 'e' | 'i' | 'o' | 'u') {
            out.push(c);
        }
    }
    out
}

/// Whether two terms are the same word: [`same_word`] on their keys, or, when one is written
/// in Arabic script (short vowels unwritten), the same consonants, at least three of them
/// (`الفاشر` `fashr` and `Fasher` → `fsr`).
pub fn same_term(a: &Term, b: &Term) -> bool {
    if same_word(&a.key, &b.key) {
        return true;
    }
    if a.arabic != b.arabic && !a.key.starts_with('~') && !b.key.starts_with('~') {
        let (x, y) = (skeleton(&a.key), skeleton(&b.key));
        return x.len() >= 3 && x == y;
    }
    false
}

/// The terms of `text` (distinct by key, in text order) and the places it names.
///
/// Words are normalised with [`tocsin_geo::normalize`] (case, diacritics, Arabic letter
/// variants and article), stop words in English, French, Swahili and Arabic dropped, and so
/// are words of one or two letters (numbers are kept). Place names found by the gazetteer (with the
/// country as a hint) become one term keyed by the gazetteer's name, so `Bunia`, `بونيا` and
/// `BUNIA` agree; report vocabulary in the four languages becomes one concept (`attaque`,
/// `shambulio` and `هجوم` are `attack`); every other word is keyed by [`fold_key`].
pub fn terms(
    gaz: Option<&Gazetteer>,
    text: &str,
    country: Option<&str>,
) -> (Vec<Term>, Vec<NamedPlace>) {
    let mut out: Vec<Term> = Vec::new();
    let mut places = Vec::new();
    let mut skip: Vec<String> = Vec::new();
    if let Some(g) = gaz {
        for m in g.find_in_text(text, country) {
            let Some(c) = m.candidates.first() else {
                continue;
            };
            // Countries and first-level areas say little about which event this is.
            if matches!(c.kind, tocsin_geo::MatchKind::Country) {
                continue;
            }
            let name_words = tocsin_geo::normalize(&text[m.start..m.end]);
            skip.extend(name_words.split(' ').map(str::to_string));
            push(&mut out, place_term(c.ascii_name, c.name));
            places.push(NamedPlace {
                name: c.name.to_string(),
                lat: c.lat,
                lon: c.lon,
                near: m.near,
            });
        }
    }
    let norm = tocsin_geo::normalize(text);
    for w in norm.split(' ') {
        if w.is_empty() {
            continue;
        }
        if let Some(i) = skip.iter().position(|s| s == w) {
            skip.swap_remove(i);
            continue;
        }
        // A name in another script than the gazetteer's (Cyrillic, or Arabic it lacks):
        // looked up in Latin letters.
        if let Some(g) = gaz.filter(|_| !w.is_ascii()) {
            if let Some(c) = transliterated_place(g, w, country) {
                push(&mut out, place_term(c.ascii_name, c.name));
                places.push(NamedPlace {
                    name: c.name.to_string(),
                    lat: c.lat,
                    lon: c.lon,
                    near: false,
                });
                continue;
            }
        }
        let t = if let Some(c) = concept(w) {
            Term {
                key: format!("~{c}"),
                shown: c.to_string(),
                arabic: false,
            }
        } else {
            if tocsin_geo::is_stop_word(w) {
                continue;
            }
            let n = w.chars().count();
            let number = w.bytes().all(|c| c.is_ascii_digit());
            if !number && n < 3 {
                continue;
            }
            let key = fold_key(w);
            if key.is_empty() {
                continue;
            }
            match concept_fuzzy(&key) {
                Some(c) => Term {
                    key: format!("~{c}"),
                    shown: c.to_string(),
                    arabic: false,
                },
                None => Term {
                    key,
                    shown: w.to_string(),
                    arabic: w.chars().any(is_arabic),
                },
            }
        };
        push(&mut out, t);
    }
    (out, places)
}

/// The populated place a word in another script names, looked up by its Latin spelling
/// (`Буния` → `Buniia`, `Бени` → `Beni`): only a name the gazetteer knows exactly, in the
/// hinted country or of a town of 20,000 people or more.
fn transliterated_place<'g>(
    g: &'g Gazetteer,
    word: &str,
    country: Option<&str>,
) -> Option<tocsin_geo::Candidate<'g>> {
    if concept(word).is_some() || tocsin_geo::is_stop_word(word) || word.chars().count() < 4 {
        return None;
    }
    let latin = if word.chars().any(is_arabic) {
        arabic_to_latin(word)
    } else {
        deunicode::deunicode(word)
    };
    // Cyrillic `ия` is written `ia` in Latin names: `Буния` is `Bunia`.
    let tries = [
        latin.clone(),
        latin.replace("iya", "ia").replace("iia", "ia"),
    ];
    let hint = country.and_then(tocsin_geo::country_code);
    tries.iter().find_map(|l| {
        g.lookup(l, country).into_iter().next().filter(|c| {
            c.exact
                && c.kind == tocsin_geo::MatchKind::Place
                && (hint == Some(c.country) || c.population >= 20_000)
        })
    })
}

/// The term of a place known by name (an incident's location, a resolved place).
pub fn place_term(ascii_name: &str, name: &str) -> Term {
    Term {
        key: format!(
            "@{}",
            fold_key(&tocsin_geo::normalize(ascii_name).replace(' ', ""))
        ),
        shown: name.to_string(),
        arabic: false,
    }
}

fn push(out: &mut Vec<Term>, t: Term) {
    if !out.iter().any(|o| o.key == t.key) {
        out.push(t);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_spellings_and_scripts() {
        assert_eq!(fold_key("bunia"), "bunia");
        assert_eq!(fold_key("bounia"), "bunia");
        assert_eq!(fold_key(&tocsin_geo::normalize("Буния")), fold_key("bunia"));
        assert_eq!(fold_key("kisangani"), fold_key("kissangani"));
        assert_eq!(fold_key("attacks"), fold_key("attack"));
        assert_eq!(fold_key("12"), "12");
        assert_eq!(fold_key("100"), "100");
        assert_eq!(fold_key("1000s"), "1000");
    }

    #[test]
    fn typos_are_the_same_word_and_different_words_are_not() {
        assert!(same_word("bambari", "bambrai"));
        assert!(same_word("kisangani", "kisngani"));
        assert!(same_word("butembo", "butenbo"));
        assert!(!same_word("bria", "bangui"));
        assert!(!same_word("beni", "bena"));
        assert!(!same_word("12", "13"));
        assert!(!same_word("~attack", "~attacks"));
    }

    #[test]
    fn concepts_cross_languages() {
        assert_eq!(concept("attaque"), Some("attack"));
        assert_eq!(concept(&tocsin_geo::normalize("هجوم")), Some("attack"));
        assert_eq!(concept("wameuawa"), Some("killed"));
        assert_eq!(concept("markets"), Some("market"));
        assert_eq!(concept("bunia"), None);
    }

    #[test]
    fn stop_words_dropped_without_gazetteer() {
        let (t, p) = terms(None, "The attack on the market in Bunia, 12 killed", None);
        let keys: Vec<&str> = t.iter().map(|t| t.key.as_str()).collect();
        assert_eq!(keys, ["~attack", "~market", "bunia", "12", "~killed"]);
        assert!(p.is_empty());
        let (t, _) = terms(None, "", None);
        assert!(t.is_empty());
    }
}
