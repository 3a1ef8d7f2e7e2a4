//! Lexicons as data: terms per language and country, and the CSV reader.
//!
//! A lexicon file is CSV with a header. Required columns: `term,language,country,category,
//! severity` (`country` may be empty: any country). Optional columns, in any order:
//!
//! | column | meaning |
//! | --- | --- |
//! | `meaning_hateful` | what the term means when used to harm |
//! | `meaning_other` | what it means otherwise (`mende`: a cockroach) |
//! | `ambiguous` | `yes`/`no` (`1`/`0`, `true`/`false`): the term has innocent uses |
//! | `variants` | other spellings, `|`-separated |
//! | `transliterations` | the term in other scripts, `|`-separated |
//! | `alternative` | a suggested alternative wording |
//! | `prefixes` / `suffixes` | attached forms, `|`-separated; named sets `@sw-noun-classes`, `@ar-particles`, `@ar-suffixes` |
//! | `near` | the term is a hit only within `within` words of one of these (`|`-separated) |
//! | `within` | words either side for `near` (1–50, default 5) |
//! | `provenance`, `licence` | where the term comes from and under which licence |

use crate::normalise::normalise;
use crate::read::{csv_error, csv_reader, header, read_text, Lines, ReadError};
use std::collections::HashMap;
use std::fmt;
use std::io::Read;

/// What kind of dangerous speech a term is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    /// Likens a group to vermin, disease, dirt or animals.
    Dehumanisation,
    /// Threatens violence.
    Threat,
    /// Calls on others to act against a group.
    Incitement,
    /// An insult for a group.
    Slur,
    /// A word whose harmful meaning insiders know (`madoadoa`, "stains").
    CodedTerm,
}

impl Category {
    /// Every category, in order.
    pub const ALL: [Category; 5] = [
        Category::Dehumanisation,
        Category::Threat,
        Category::Incitement,
        Category::Slur,
        Category::CodedTerm,
    ];

    /// The name as files and the API spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Dehumanisation => "dehumanisation",
            Category::Threat => "threat",
            Category::Incitement => "incitement",
            Category::Slur => "slur",
            Category::CodedTerm => "coded term",
        }
    }

    /// Parse a category name (`coded term`, `coded_term` and `coded-term` are one; American
    /// `dehumanization` is accepted).
    pub fn parse(s: &str) -> Option<Category> {
        let s = s.trim().to_lowercase().replace(['_', '-'], " ");
        Some(match s.as_str() {
            "dehumanisation" | "dehumanization" => Category::Dehumanisation,
            "threat" => Category::Threat,
            "incitement" => Category::Incitement,
            "slur" => Category::Slur,
            "coded term" | "coded" => Category::CodedTerm,
            _ => return None,
        })
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How grave a term is when meant to harm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// 1.
    Low = 1,
    /// 2.
    Medium = 2,
    /// 3.
    High = 3,
}

impl Severity {
    /// `low`, `medium` or `high`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }

    /// Parse `1`–`3` or `low`, `medium`, `high`.
    pub fn parse(s: &str) -> Option<Severity> {
        Some(match s.trim().to_lowercase().as_str() {
            "1" | "low" => Severity::Low,
            "2" | "medium" => Severity::Medium,
            "3" | "high" => Severity::High,
            _ => return None,
        })
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One term of a lexicon, as an analyst wrote it (the scanner normalises it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    /// The term (a word or a phrase).
    pub term: String,
    /// ISO 639 language code, lower-case (`sw`, `ar`, `ha`, `en`).
    pub language: String,
    /// ISO 3166 alpha-2 country code, upper-case; `None`: any country.
    pub country: Option<String>,
    /// What kind of dangerous speech it is.
    pub category: Category,
    /// How grave it is.
    pub severity: Severity,
    /// What it means when used to harm.
    pub meaning_hateful: Option<String>,
    /// What it means otherwise.
    pub meaning_other: Option<String>,
    /// It has innocent uses: a hit needs an analyst's reading even more.
    pub ambiguous: bool,
    /// Other spellings.
    pub variants: Vec<String>,
    /// The term in other scripts.
    pub transliterations: Vec<String>,
    /// A suggested alternative wording.
    pub alternative: Option<String>,
    /// Attached prefixes (or named sets, `@sw-noun-classes`, `@ar-particles`).
    pub prefixes: Vec<String>,
    /// Attached suffixes (or the named set `@ar-suffixes`).
    pub suffixes: Vec<String>,
    /// The term is a hit only near one of these words (a group's name).
    pub near: Vec<String>,
    /// Words either side for [`Term::near`].
    pub within: u32,
    /// Where the term comes from.
    pub provenance: Option<String>,
    /// The licence it comes under.
    pub licence: Option<String>,
}

/// The default of [`Term::within`].
pub const DEFAULT_WITHIN: u32 = 5;

/// A named lexicon: its terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lexicon {
    /// The lexicon's name.
    pub name: String,
    /// Its terms, in file order.
    pub terms: Vec<Term>,
}

/// Swahili noun-class prefixes (classes 1–18 and their common allomorphs).
pub const SW_NOUN_CLASSES: &[&str] = &[
    "m", "mw", "mu", "wa", "w", "mi", "my", "ji", "j", "ma", "ki", "ch", "vi", "vy", "n", "ny",
    "u", "ku", "kw", "pa", "mwa", "wana", "mtu", "watu",
];

/// Arabic attached particles and the article, alone and combined.
pub const AR_PARTICLES: &[&str] = &[
    "و", "ف", "ب", "ل", "ك", "س", "ال", "وال", "فال", "بال", "كال", "لل", "ولل", "فلل", "وب", "ول",
    "فب", "فل", "وس", "فس",
];

/// Arabic attached pronouns and plural endings.
pub const AR_SUFFIXES: &[&str] = &[
    "ه", "ها", "هم", "هن", "هما", "كم", "كن", "نا", "ي", "ك", "ون", "ين", "ات", "وا",
];

/// The affixes a `prefixes` or `suffixes` entry stands for: a named set or itself.
pub fn affix_set(entry: &str) -> Option<Vec<&str>> {
    match entry {
        "@sw-noun-classes" => Some(SW_NOUN_CLASSES.to_vec()),
        "@ar-particles" => Some(AR_PARTICLES.to_vec()),
        "@ar-suffixes" => Some(AR_SUFFIXES.to_vec()),
        e if e.starts_with('@') => None,
        e => Some(vec![e]),
    }
}

const REQUIRED: [&str; 5] = ["term", "language", "country", "category", "severity"];
const OPTIONAL: [&str; 13] = [
    "meaning_hateful",
    "meaning_other",
    "ambiguous",
    "variants",
    "transliterations",
    "alternative",
    "prefixes",
    "suffixes",
    "near",
    "within",
    "provenance",
    "licence",
    "license",
];

/// Read a lexicon named `name` from CSV (see the module documentation), in UTF-8, UTF-16
/// with a byte order mark, or Windows-1252. The whole file is refused at its first wrong
/// row, with the row's line and the column.
pub fn read_lexicon(name: &str, input: impl Read) -> Result<Lexicon, ReadError> {
    let (text, _) = read_text(input)?;
    let mut rdr = csv_reader(&text);
    let cols = header(&mut rdr, &text)?;
    for c in &cols {
        if !REQUIRED.contains(&c.as_str()) && !OPTIONAL.contains(&c.as_str()) {
            return Err(ReadError::File(format!(
                "unknown column {c:?}: expected {} and optionally {}",
                REQUIRED.join(","),
                OPTIONAL.join(",")
            )));
        }
    }
    let missing: Vec<&str> = REQUIRED
        .iter()
        .copied()
        .filter(|r| !cols.iter().any(|c| c == r))
        .collect();
    if !missing.is_empty() {
        return Err(ReadError::File(format!(
            "missing column{} {}: a lexicon needs {}",
            if missing.len() > 1 { "s" } else { "" },
            missing.join(", "),
            REQUIRED.join(",")
        )));
    }
    let idx: HashMap<&str, usize> = cols
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i))
        .collect();
    let mut terms = Vec::new();
    // (normalised term, language, country) → line, to refuse duplicates.
    let mut seen: HashMap<(String, String, Option<String>), u64> = HashMap::new();
    let mut rec = csv::StringRecord::new();
    let mut lines = Lines::default();
    loop {
        match rdr.read_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(csv_error(e, &text)),
        }
        let line = lines.line(&text, rec.position().map_or(0, |p| p.byte()));
        if rec.iter().all(str::is_empty) {
            continue;
        }
        if rec.len() > cols.len() {
            return Err(ReadError::line(
                line,
                format!("{} fields, but the header has {}", rec.len(), cols.len()),
            ));
        }
        let get = |c: &str| field(&rec, &idx, c);
        let opt = |c: &str| -> Option<String> {
            let v = get(c);
            (!v.is_empty()).then(|| v.to_string())
        };
        let list = |c: &str| -> Vec<String> {
            get(c)
                .split('|')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        };
        let bad = |c: &str, m: String| ReadError::line(line, format!("{c}: {m}"));
        let term = get("term").to_string();
        if term.is_empty() {
            return Err(bad("term", "empty".into()));
        }
        if normalise(&term).trim().is_empty() {
            return Err(bad("term", format!("{term:?} has no letters or digits")));
        }
        let language = get("language").to_lowercase();
        if !(2..=3).contains(&language.len()) || !language.bytes().all(|b| b.is_ascii_lowercase()) {
            return Err(bad(
                "language",
                format!("{language:?} is not an ISO 639 code such as sw, ar, ha or en"),
            ));
        }
        let country = get("country").to_uppercase();
        let country = if country.is_empty() {
            None
        } else if country.len() == 2 && country.bytes().all(|b| b.is_ascii_uppercase()) {
            Some(country)
        } else {
            return Err(bad(
                "country",
                format!("{country:?} is not an ISO 3166 alpha-2 code such as KE or SD (or empty)"),
            ));
        };
        let category = Category::parse(get("category")).ok_or_else(|| {
            bad(
                "category",
                format!(
                    "{:?}: expected one of {}",
                    get("category"),
                    Category::ALL.map(Category::as_str).join(", ")
                ),
            )
        })?;
        let severity = Severity::parse(get("severity")).ok_or_else(|| {
            bad(
                "severity",
                format!(
                    "{:?}: expected 1, 2, 3 (low, medium, high)",
                    get("severity")
                ),
            )
        })?;
        let ambiguous = match get("ambiguous").to_lowercase().as_str() {
            "" | "no" | "0" | "false" | "n" => false,
            "yes" | "1" | "true" | "y" => true,
            other => return Err(bad("ambiguous", format!("{other:?}: expected yes or no"))),
        };
        let prefixes = list("prefixes");
        let suffixes = list("suffixes");
        for (c, l) in [("prefixes", &prefixes), ("suffixes", &suffixes)] {
            if let Some(e) = l.iter().find(|e| affix_set(e).is_none()) {
                return Err(bad(
                    c,
                    format!("unknown set {e:?}: expected @sw-noun-classes, @ar-particles or @ar-suffixes"),
                ));
            }
        }
        let within = match get("within") {
            "" => DEFAULT_WITHIN,
            w => match w.parse::<u32>() {
                Ok(n) if (1..=50).contains(&n) => n,
                _ => {
                    return Err(bad(
                        "within",
                        format!("{w:?}: expected a number of words, 1 to 50"),
                    ))
                }
            },
        };
        let near = list("near");
        if near.is_empty() && !get("within").is_empty() {
            return Err(bad("within", "given without near".into()));
        }
        let key = (normalise(&term), language.clone(), country.clone());
        if let Some(first) = seen.insert(key, line) {
            return Err(ReadError::line(
                line,
                format!("term {term:?} ({language}) repeats line {first}"),
            ));
        }
        terms.push(Term {
            term,
            language,
            country,
            category,
            severity,
            meaning_hateful: opt("meaning_hateful"),
            meaning_other: opt("meaning_other"),
            ambiguous,
            variants: list("variants"),
            transliterations: list("transliterations"),
            alternative: opt("alternative"),
            prefixes,
            suffixes,
            near,
            within,
            provenance: opt("provenance"),
            licence: opt("licence").or_else(|| opt("license")),
        });
    }
    if terms.is_empty() {
        return Err(ReadError::File("the lexicon has no terms".into()));
    }
    Ok(Lexicon {
        name: name.to_string(),
        terms,
    })
}

/// The value of column `c` in `rec` (empty when the file has no such column).
fn field<'r>(rec: &'r csv::StringRecord, idx: &HashMap<&str, usize>, c: &str) -> &'r str {
    idx.get(c).and_then(|&i| rec.get(i)).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(s: &str) -> Result<Lexicon, ReadError> {
        read_lexicon("t", s.as_bytes())
    }

    #[test]
    fn required_and_optional_columns() {
        let l = read(
            "term,language,country,category,severity,variants,prefixes,near,within,ambiguous,licence\n\
             madoadoa,sw,KE,coded term,3,madoa doa,@sw-noun-classes,,,yes,CC-BY-4.0\n\
             \"kill\",en,,threat,high,,,tutsi|hutu,3,,\n",
        )
        .unwrap();
        assert_eq!(l.terms.len(), 2);
        let t = &l.terms[0];
        assert_eq!(t.category, Category::CodedTerm);
        assert_eq!(t.severity, Severity::High);
        assert_eq!(t.country.as_deref(), Some("KE"));
        assert!(t.ambiguous);
        assert_eq!(t.variants, ["madoa doa"]);
        assert_eq!(t.prefixes, ["@sw-noun-classes"]);
        assert_eq!(t.licence.as_deref(), Some("CC-BY-4.0"));
        let k = &l.terms[1];
        assert_eq!(k.country, None);
        assert_eq!(k.near, ["tutsi", "hutu"]);
        assert_eq!(k.within, 3);
        // Only the required columns.
        let l =
            read("term,language,country,category,severity\nmende,sw,,dehumanisation,2\n").unwrap();
        assert_eq!(l.terms[0].within, DEFAULT_WITHIN);
    }

    #[test]
    fn errors_name_the_line_and_column() {
        let e = read(
            "term,language,country,category,severity\nmende,sw,,dehumanisation,2\nx,sw,,insult,2\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("line 3: category: \"insult\": expected one of"),
            "{e}"
        );
        let e = read("term,language,country,category,severity\nmende,swahili,,slur,1\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("line 2: language:"), "{e}");
        let e = read("term,language,country,category,severity\nmende,sw,Kenya,slur,1\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("line 2: country:"), "{e}");
        let e = read("term,language,country,category,severity\nmende,sw,,slur,9\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("line 2: severity:"), "{e}");
        let e =
            read("term,language,country,category,severity\nMende,sw,,slur,1\n\nmende,sw,,slur,1\n")
                .unwrap_err()
                .to_string();
        assert_eq!(e, "line 4: term \"mende\" (sw) repeats line 2");
        let e = read("term,language,category\nmende,sw,slur\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("missing columns country, severity"), "{e}");
        let e = read("term,language,country,category,severity,colour\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("unknown column \"colour\""), "{e}");
        let e = read("term,language,country,category,severity,prefixes\nx,sw,,slur,1,@nope\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("line 2: prefixes: unknown set"), "{e}");
        let e = read("term,language,country,category,severity\n\u{200B},sw,,slur,1\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("line 2: term:"), "{e}");
        let e = read("term,language,country,category,severity\nx,sw,,slur,1,extra\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("line 2: 6 fields"), "{e}");
        assert!(read("").unwrap_err().to_string().contains("empty"));
        assert!(read("term,language,country,category,severity\n")
            .unwrap_err()
            .to_string()
            .contains("no terms"));
    }

    #[test]
    fn line_numbers_count_crlf_blank_lines_and_multi_line_fields() {
        let text = "\u{FEFF}term,language,country,category,severity,meaning_other\r\n\
                    mende,sw,KE,dehumanisation,2,\"a cockroach,\r\nthe insect\"\r\n\
                    \r\n\
                    kuua,sw,KE,threat,4,\r\n";
        let e = read_lexicon("t", text.as_bytes()).unwrap_err().to_string();
        assert!(e.starts_with("line 5: severity:"), "{e}");
        let ok = text.replace("threat,4", "threat,3");
        let l = read_lexicon("t", ok.as_bytes()).unwrap();
        assert_eq!(
            l.terms[0].meaning_other.as_deref(),
            Some("a cockroach,\r\nthe insect")
        );
        assert_eq!(l.terms[1].term, "kuua");
    }

    #[test]
    fn utf16_and_latin1_files() {
        let text = "term,language,country,category,severity\nétrangers,fr,,dehumanisation,1\n";
        let mut le = vec![0xFF, 0xFE];
        le.extend(text.encode_utf16().flat_map(|u| u.to_le_bytes()));
        assert_eq!(
            read_lexicon("t", &le[..]).unwrap().terms[0].term,
            "étrangers"
        );
        let (latin1, _, _) = encoding_rs::WINDOWS_1252.encode(text);
        assert_eq!(
            read_lexicon("t", &latin1[..]).unwrap().terms[0].term,
            "étrangers"
        );
    }
}
