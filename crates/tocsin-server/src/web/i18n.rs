//! The web UI's message catalogues: one flat JSON map of key → text per language
//! (`locales/{en,fr,sw,ar}.json`, embedded), the template function `t("key", name=value)` that
//! reads the catalogue of the page's `lang`, and how the public pages choose that language
//! (`?lang=`, then the `tocsin_lang` cookie, then the browser's `Accept-Language`).
//!
//! Every key of the English catalogue is in the three others (a test checks it, and that every
//! key the templates use exists), so a page is never half translated. A `{name}` in a text is
//! replaced by the argument of that name.

use std::collections::HashMap;
use std::sync::LazyLock;

use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use minijinja::value::Kwargs;
use minijinja::{Error, State, Value};
use tocsin_domain::Lang;

/// The cookie keeping a visitor's chosen language (public pages).
pub const LANG_COOKIE: &str = "tocsin_lang";

/// Each language's catalogue source, in [`Lang::ALL`]'s order.
const SOURCES: [(Lang, &str); 4] = [
    (Lang::En, include_str!("../../locales/en.json")),
    (Lang::Fr, include_str!("../../locales/fr.json")),
    (Lang::Sw, include_str!("../../locales/sw.json")),
    (Lang::Ar, include_str!("../../locales/ar.json")),
];

type Catalogue = HashMap<String, String>;

static CATALOGUES: LazyLock<Vec<(Lang, Catalogue)>> = LazyLock::new(|| {
    SOURCES
        .iter()
        .map(|(l, src)| {
            let c: Catalogue = serde_json::from_str(src)
                .unwrap_or_else(|e| panic!("locales/{}.json: {e}", l.code()));
            (*l, c)
        })
        .collect()
});

fn catalogue(lang: Lang) -> &'static Catalogue {
    &CATALOGUES
        .iter()
        .find(|(l, _)| *l == lang)
        .expect("a catalogue per language")
        .1
}

/// The text of `key` in `lang` with each `{name}` replaced by its value; English when the
/// language lacks it, the key itself when no catalogue has it. A value is isolated (U+2068 …
/// U+2069, as Fluent does) where its direction could differ from the text's: always in a
/// right-to-left language (a number or a Latin word keeps its place in Arabic), and in the
/// others when the value holds right-to-left letters (an Arabic name in an English sentence).
///
/// With a `count` argument the text is the key's plural form for that number when the
/// catalogue has one (`key.one`, `key.other`; Arabic also `key.zero`, `key.two`, `key.few`,
/// `key.many`), see [`plural`].
pub fn text(lang: Lang, key: &str, args: &[(&str, String)]) -> String {
    let plural_key = args
        .iter()
        .find(|(n, _)| *n == "count")
        .and_then(|(_, v)| v.trim().parse::<u64>().ok())
        .map(|n| {
            [format!("{key}.{}", plural(lang, n)), format!("{key}.other")]
                .into_iter()
                .find(|k| catalogue(lang).contains_key(k) || catalogue(Lang::En).contains_key(k))
        });
    let key = plural_key.flatten().unwrap_or_else(|| key.to_string());
    let raw = catalogue(lang)
        .get(&key)
        .or_else(|| catalogue(Lang::En).get(&key))
        .map(String::as_str)
        .unwrap_or(&key);
    let mut out = raw.to_string();
    for (name, value) in args {
        let hole = format!("{{{name}}}");
        if !out.contains(&hole) {
            continue;
        }
        let v = if dir(lang) == "rtl" || value.chars().any(is_rtl) {
            format!("\u{2068}{value}\u{2069}")
        } else {
            value.clone()
        };
        out = out.replace(&hole, &v);
    }
    out
}

/// Whether a character is a right-to-left letter (Hebrew, Arabic, Syriac, Thaana, N'Ko and
/// their presentation forms).
fn is_rtl(c: char) -> bool {
    matches!(c, '\u{0590}'..='\u{08FF}' | '\u{FB1D}'..='\u{FDFF}' | '\u{FE70}'..='\u{FEFF}')
}

/// The plural category of `n` in `lang` (CLDR's rules for whole numbers): `one` or `other`,
/// French counting 0 as `one`; Arabic also `zero`, `two`, `few` (3–10) and `many` (11–99).
pub fn plural(lang: Lang, n: u64) -> &'static str {
    match lang {
        Lang::En | Lang::Sw => {
            if n == 1 {
                "one"
            } else {
                "other"
            }
        }
        Lang::Fr => {
            if n <= 1 {
                "one"
            } else {
                "other"
            }
        }
        Lang::Ar => match (n, n % 100) {
            (0, _) => "zero",
            (1, _) => "one",
            (2, _) => "two",
            (_, 3..=10) => "few",
            (_, 11..=99) => "many",
            _ => "other",
        },
    }
}

/// `"rtl"` for Arabic, `"ltr"` otherwise.
pub fn dir(lang: Lang) -> &'static str {
    match lang {
        Lang::Ar => "rtl",
        _ => "ltr",
    }
}

/// The name a language has in itself, for the language menu.
pub fn native_name(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "English",
        Lang::Fr => "Français",
        Lang::Sw => "Kiswahili",
        Lang::Ar => "العربية",
    }
}

/// The languages a visitor may switch to: `(code, native name, dir)`.
pub fn menu() -> Vec<(&'static str, &'static str, &'static str)> {
    Lang::ALL
        .iter()
        .map(|l| (l.code(), native_name(*l), dir(*l)))
        .collect()
}

/// The best of our languages for an `Accept-Language` header (`fr-CF,fr;q=0.9,en;q=0.5`):
/// the first of highest weight that is one of ours; `None` when none is.
pub fn from_accept_language(header: &str) -> Option<Lang> {
    let mut offered: Vec<(f32, usize, Lang)> = header
        .split(',')
        .enumerate()
        .filter_map(|(i, item)| {
            let mut parts = item.split(';');
            let tag = parts.next()?.trim();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .next()
                .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())?;
            (q > 0.0 && tag != "*")
                .then(|| Lang::parse(tag))
                .flatten()
                .map(|l| (q, i, l))
        })
        .collect();
    offered.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    offered.first().map(|(_, _, l)| *l)
}

/// The language of a public page: `?lang=` (a visitor's click in the language menu), else the
/// `tocsin_lang` cookie, else the browser's `Accept-Language`, else English. The second value
/// is true when it came from `?lang=` (so the answer sets the cookie).
pub fn negotiate(parts: &Parts, asked: Option<&str>) -> (Lang, bool) {
    if let Some(l) = asked.and_then(Lang::parse) {
        return (l, true);
    }
    if let Some(l) = crate::auth::cookie(parts, LANG_COOKIE).and_then(Lang::parse) {
        return (l, false);
    }
    (accept_language(&parts.headers).unwrap_or(Lang::En), false)
}

/// The best of our languages for a request's `Accept-Language` headers, if any is ours.
pub fn accept_language(headers: &HeaderMap) -> Option<Lang> {
    let accept = headers
        .get_all(header::ACCEPT_LANGUAGE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    from_accept_language(&accept)
}

/// The template function `t("key", name=value, …)`: the text of `key` in the page's `lang`
/// (English when the page sets none); `count=n` picks the plural form (see [`text`]).
pub fn t(state: &State, key: &str, kwargs: Kwargs) -> Result<String, Error> {
    let lang = state
        .lookup("lang")
        .and_then(|v| v.as_str().and_then(Lang::parse))
        .unwrap_or(Lang::En);
    let mut args = Vec::new();
    for name in kwargs.args() {
        let v: Value = kwargs.get(name)?;
        args.push((name, v.to_string()));
    }
    Ok(text(lang, key, &args))
}

/// The template function `tv("kind", value)`: a stored value of a closed set (an alert's
/// status, a severity, a role…) as the page's language names it, from the key `kind.value`;
/// a value the catalogue lacks is shown as it is, `_` read as a space.
pub fn tv(state: &State, kind: &str, value: Value) -> String {
    let value = value.to_string();
    let key = format!("{kind}.{value}");
    if catalogue(Lang::En).contains_key(&key) {
        let lang = state
            .lookup("lang")
            .and_then(|v| v.as_str().and_then(Lang::parse))
            .unwrap_or(Lang::En);
        text(lang, &key, &[])
    } else {
        value.replace('_', " ")
    }
}

/// The page's language (English when the page names none).
fn page_lang(state: &State) -> Lang {
    state
        .lookup("lang")
        .and_then(|v| v.as_str().and_then(Lang::parse))
        .unwrap_or(Lang::En)
}

/// The template function `tevent(name)`: an ACLED event or sub-event type in the page's
/// language, from the one table the briefs use too ([`tocsin_app::words::event_type_name`]);
/// a name outside the typology is shown as stored.
pub fn tevent(state: &State, name: Value) -> String {
    let name = name
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| name.to_string());
    tocsin_app::words::event_type_name(&name, page_lang(state))
        .map(str::to_string)
        .unwrap_or(name)
}

/// The template function `twords("prefix")`: every text whose key starts with `prefix.`, in
/// the page's language (English where it lacks one), as a JSON object keyed without the
/// prefix, for a script that writes words itself (`map.js` reads it from its `data-words`).
/// Placeholders stay as written; plural forms keep their `.one`/`.other`… suffix. The map's
/// words (`mapjs`) also carry the event types' names as `type.NAME`, from the same table as
/// [`tevent`].
pub fn twords(state: &State, prefix: &str) -> String {
    let lang = page_lang(state);
    let dot = format!("{prefix}.");
    let mut out = serde_json::Map::new();
    for c in [catalogue(Lang::En), catalogue(lang)] {
        for (k, v) in c {
            if let Some(rest) = k.strip_prefix(&dot) {
                out.insert(rest.to_string(), serde_json::Value::String(v.clone()));
            }
        }
    }
    if prefix == "mapjs" {
        for (t, _) in tocsin_domain::incident::ACLED_TYPOLOGY {
            let name = tocsin_app::words::event_type_name(t, lang).unwrap_or(t);
            out.insert(format!("type.{t}"), serde_json::Value::String(name.into()));
        }
    }
    serde_json::Value::Object(out).to_string()
}

/// A language's catalogue of refusal reasons (`locales/reasons/{fr,sw,ar}.json`). English needs
/// none: the reasons are written in English where they are raised.
#[derive(serde::Deserialize)]
struct ReasonSource {
    /// A field's name as the API writes it (`latitude`, `radius_km`) → its name in the language.
    fields: HashMap<String, String>,
    /// An English reason as the source writes it, its format placeholders numbered `{0}`,
    /// `{1}`… in order of first appearance → its translation with the same placeholders.
    reasons: HashMap<String, String>,
}

/// A reason template compiled to an anchored pattern, its placeholders as captures.
struct ReasonTemplate {
    pattern: regex::Regex,
    /// The placeholder number of each capture, in order (one number may appear twice).
    holes: Vec<usize>,
    /// The translation, with the same placeholders.
    translation: String,
    /// How many characters of the template are not placeholders: the most specific wins.
    literal: usize,
}

/// A language's reasons, ready to read messages against.
struct Reasons {
    fields: HashMap<String, String>,
    exact: HashMap<String, String>,
    templates: Vec<ReasonTemplate>,
}

/// Each language's reason catalogue, but English's.
const REASON_SOURCES: [(Lang, &str); 3] = [
    (Lang::Fr, include_str!("../../locales/reasons/fr.json")),
    (Lang::Sw, include_str!("../../locales/reasons/sw.json")),
    (Lang::Ar, include_str!("../../locales/reasons/ar.json")),
];

/// The pieces of a reason template: literal text and placeholder numbers (`{0}`, `{1}`…); any
/// other brace is text.
fn template_parts(template: &str) -> Vec<Result<&str, usize>> {
    let mut parts = Vec::new();
    let mut rest = template;
    let mut text_from = 0;
    let mut at = 0;
    while let Some(i) = rest[at..].find('{').map(|i| at + i) {
        let hole = rest[i + 1..]
            .find('}')
            .map(|j| &rest[i + 1..i + 1 + j])
            .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        match hole.and_then(|n| n.parse::<usize>().ok().map(|v| (n.len(), v))) {
            Some((len, n)) => {
                if text_from < i {
                    parts.push(Ok(&rest[text_from..i]));
                }
                parts.push(Err(n));
                rest = &rest[i + len + 2..];
                text_from = 0;
                at = 0;
            }
            None => at = i + 1,
        }
    }
    if !rest[text_from..].is_empty() {
        parts.push(Ok(&rest[text_from..]));
    }
    parts
}

/// The placeholder numbers of a reason template, sorted (each once).
pub fn template_holes(template: &str) -> Vec<usize> {
    let mut holes: Vec<usize> = template_parts(template)
        .into_iter()
        .filter_map(Result::err)
        .collect();
    holes.sort_unstable();
    holes.dedup();
    holes
}

static REASONS: LazyLock<Vec<(Lang, Reasons)>> = LazyLock::new(|| {
    REASON_SOURCES
        .iter()
        .map(|(lang, src)| {
            let source: ReasonSource = serde_json::from_str(src)
                .unwrap_or_else(|e| panic!("locales/reasons/{}.json: {e}", lang.code()));
            let mut exact = HashMap::new();
            let mut templates = Vec::new();
            for (english, translation) in source.reasons {
                let parts = template_parts(&english);
                if parts.iter().all(Result::is_ok) {
                    exact.insert(english, translation);
                    continue;
                }
                let mut pattern = String::from("(?s)^");
                let mut holes = Vec::new();
                let mut literal = 0;
                for p in &parts {
                    match p {
                        Ok(text) => {
                            pattern.push_str(&regex::escape(text));
                            literal += text.chars().count();
                        }
                        Err(n) => {
                            pattern.push_str("(.*?)");
                            holes.push(*n);
                        }
                    }
                }
                pattern.push('$');
                let pattern = regex::Regex::new(&pattern)
                    .unwrap_or_else(|e| panic!("reason template {english:?}: {e}"));
                templates.push(ReasonTemplate {
                    pattern,
                    holes,
                    translation,
                    literal,
                });
            }
            templates.sort_by_key(|t| std::cmp::Reverse(t.literal));
            (
                *lang,
                Reasons {
                    fields: source.fields,
                    exact,
                    templates,
                },
            )
        })
        .collect()
});

fn reasons(lang: Lang) -> Option<&'static Reasons> {
    REASONS.iter().find(|(l, _)| *l == lang).map(|(_, r)| r)
}

/// `message` read against `lang`'s catalogue as a whole: its exact translation, or that of the
/// most specific template it matches, the values in its placeholders kept as they are (but
/// one that is itself a reason of the catalogue, a reason passed into a wider one); with how
/// many characters of the message the catalogue's text matched.
fn whole_reason(r: &Reasons, lang: Lang, message: &str) -> Option<(String, usize)> {
    if let Some(t) = r.exact.get(message) {
        return Some((t.clone(), message.chars().count()));
    }
    r.templates.iter().find_map(|t| {
        let caps = t.pattern.captures(message)?;
        let mut values: Vec<Option<&str>> = Vec::new();
        for (i, n) in t.holes.iter().enumerate() {
            let v = caps.get(i + 1).map_or("", |m| m.as_str());
            if values.len() <= *n {
                values.resize(n + 1, None);
            }
            match values[*n] {
                Some(seen) if seen != v => return None,
                _ => values[*n] = Some(v),
            }
        }
        let mut out = String::new();
        for p in template_parts(&t.translation) {
            match p {
                Ok(text) => out.push_str(text),
                Err(n) => {
                    let v = values.get(n).copied().flatten().unwrap_or("");
                    let v = r.exact.get(v).map_or(v, String::as_str);
                    if dir(lang) == "rtl" && !v.is_empty() {
                        out.push('\u{2068}');
                        out.push_str(v);
                        out.push('\u{2069}');
                    } else {
                        out.push_str(v);
                    }
                }
            }
        }
        Some((out, t.literal))
    })
}

/// Whether `s` reads as a field's name in the API (`latitude`, `factors[2].rationale`).
fn is_field_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.[]".contains(c))
}

/// A field's name as `lang` says it: from the reason catalogue's `fields`, whole, else part by
/// part (`factors[2].rationale`); a name it lacks is kept.
pub fn field_name(lang: Lang, field: &str) -> String {
    let Some(r) = reasons(lang) else {
        return field.to_string();
    };
    if let Some(n) = r.fields.get(field) {
        return n.clone();
    }
    let mut out = String::new();
    let mut word = String::new();
    for c in field.chars().chain(std::iter::once('.')) {
        if c.is_ascii_alphanumeric() || c == '_' {
            word.push(c);
        } else {
            out.push_str(r.fields.get(&word).map_or(&word, |n| n));
            word.clear();
            out.push(c);
        }
    }
    out.pop();
    out
}

/// A field's name and the reason it was refused, in `lang`: `name reason` when the English
/// reason reads as a predicate (`is required`, `must be …`: its translations are written as
/// predicates too), else `name: reason` (` : ` in French).
pub fn with_field(lang: Lang, name: &str, english: &str, translated: &str) -> String {
    if ["is ", "are ", "must "]
        .iter()
        .any(|p| english.starts_with(p))
    {
        format!("{name} {translated}")
    } else if lang == Lang::Fr {
        format!("{name} : {translated}")
    } else {
        format!("{name}: {translated}")
    }
}

/// A refusal's reason, as the domain or application layer wrote it in English, in `lang`: read
/// against the language's reason catalogue (see [`whole_reason`]); a message that is not in it
/// but starts with a field's name (`latitude: must be between -90 and 90`) has the name and
/// the rest translated apart. What the catalogue does not know is shown in English, as it is.
pub fn reason(lang: Lang, message: &str) -> String {
    let Some(r) = reasons(lang) else {
        return message.to_string();
    };
    let whole = whole_reason(r, lang, message);
    let split = message
        .split_once(": ")
        .filter(|(field, _)| is_field_name(field));
    // `field: reason` read apart, when that matches more of the message than a whole template
    // does (`window: "5x": no known unit; …` is the window's reason, not a template's `{0}`).
    let apart = split.and_then(|(field, rest)| {
        let (t, literal) = whole_reason(r, lang, rest)?;
        let named = with_field(lang, &field_name(lang, field), rest, &t);
        Some((named, literal + field.chars().count()))
    });
    match (whole, apart) {
        (Some((w, a)), Some((s, b))) => {
            if b > a {
                s
            } else {
                w
            }
        }
        (Some((w, _)), None) => w,
        (None, Some((s, _))) => s,
        (None, None) => match split {
            Some((field, rest)) => with_field(lang, &field_name(lang, field), rest, rest),
            None => message.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every key is in all four catalogues, none has a key English lacks, no text is empty,
    /// and each keeps the `{placeholders}` of the English text.
    #[test]
    fn every_key_is_in_all_four_catalogues() {
        let en = catalogue(Lang::En);
        assert!(en.len() >= 20, "{} keys", en.len());
        let holes = |s: &str| {
            let mut v: Vec<String> = s
                .split('{')
                .skip(1)
                .filter_map(|p| p.split_once('}').map(|(n, _)| n.to_string()))
                .collect();
            v.sort();
            v
        };
        for lang in Lang::ALL {
            let c = catalogue(lang);
            for (k, v) in en {
                let tr = c
                    .get(k)
                    .unwrap_or_else(|| panic!("{}.json lacks {k}", lang.code()));
                assert!(!tr.trim().is_empty(), "{}.json: {k} is empty", lang.code());
                // A singular form may say "one" in words instead of `{count}`.
                let mut want = holes(v);
                if [".zero", ".one", ".two"].iter().any(|f| k.ends_with(f))
                    && !tr.contains("{count}")
                {
                    want.retain(|h| h != "count");
                }
                assert_eq!(want, holes(tr), "{}.json: {k}'s placeholders", lang.code());
            }
            for k in c.keys() {
                // Arabic has plural forms English lacks, of a key English has in plural.
                let extra_plural = k
                    .rsplit_once('.')
                    .filter(|(_, form)| ["zero", "two", "few", "many"].contains(form))
                    .is_some_and(|(base, _)| en.contains_key(&format!("{base}.other")));
                assert!(
                    en.contains_key(k) || extra_plural,
                    "{}.json has {k}, en.json does not",
                    lang.code()
                );
            }
        }
        // Really translated: the other catalogues are not copies of the English one.
        for lang in [Lang::Fr, Lang::Sw, Lang::Ar] {
            assert_ne!(
                text(lang, "form.send", &[]),
                text(Lang::En, "form.send", &[])
            );
        }
    }

    /// Every `t("key")` in the templates names a key of the catalogues.
    #[test]
    fn every_key_the_templates_use_exists() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");
        let mut used = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let src = std::fs::read_to_string(&path).unwrap();
            for part in src.split("t(\"").skip(1) {
                let key = part.split('"').next().unwrap();
                let en = catalogue(Lang::En);
                assert!(
                    en.contains_key(key) || en.contains_key(&format!("{key}.other")),
                    "{} uses t(\"{key}\"), which no catalogue has",
                    path.display()
                );
                used += 1;
            }
        }
        assert!(used >= 20, "the templates use the catalogues ({used} uses)");
    }

    /// Templates whose visible text is not yet all in the catalogues: this list only shrinks.
    const NOT_YET_TRANSLATED: &[&str] = &[];

    /// Words on a page that are no language: names, labels and units that read the same in
    /// every language (TLP labels stay as they are). Single letters (grades A–F, marks S and
    /// R) are no language either.
    const NOT_LANGUAGE: &[&str] = &[
        "Tocsin",
        "TLP",
        "CLEAR",
        "GREEN",
        "AMBER",
        "STRICT",
        "RED",
        "UTC",
        "SMS",
        "ACLED",
        "CSV",
        "PDF",
        "HXL",
        "GeoJSON",
        "ISO",
        "SHA",
        "km",
        // Examples in placeholders: country codes and a place name.
        "CAF",
        "COD",
        "Ouaka",
        // Languages by their own names, and formats.
        "English",
        "Français",
        "Kiswahili",
        "العربية",
        "HTML",
    ];

    /// The string literals of a template's `{{ … }}` and `{% … %}` that read as text (a capital
    /// then a small letter, or two words), unless they are the key of `t()` or `tv()`: a label
    /// handed to a macro, or a fallback after `or`.
    fn text_literals(src: &str) -> Vec<String> {
        let mut found = Vec::new();
        for (open, close) in [("{{", "}}"), ("{%", "%}")] {
            for part in src.split(open).skip(1) {
                let expr = part.split(close).next().unwrap_or("");
                let mut rest = expr;
                while let Some(i) = rest.find(['"', '\'']) {
                    let quote = rest[i..].chars().next().unwrap_or('"');
                    let before = rest[..i].trim_end();
                    let Some(len) = rest[i + 1..].find(quote) else {
                        break;
                    };
                    let lit = &rest[i + 1..i + 1 + len];
                    rest = &rest[i + 2 + len..];
                    if before.ends_with("t(") || before.ends_with("tv(") {
                        continue;
                    }
                    let c: Vec<char> = lit.chars().collect();
                    let texty = c
                        .windows(2)
                        .any(|w| w[0].is_uppercase() && w[1].is_lowercase())
                        || c.windows(3)
                            .any(|w| w[0].is_lowercase() && w[1] == ' ' && w[2].is_lowercase());
                    if texty && !NOT_LANGUAGE.contains(&lit) {
                        found.push(lit.to_string());
                    }
                }
            }
        }
        found
    }

    /// The words of a template a person would read that are not passed through `t()`: its
    /// text outside tags, comments, `{{ … }}`, `{% … %}`, `<kbd>` (a key) and `<code>` (a command), the values of the attributes
    /// read aloud or shown (`title`, `aria-label`, `placeholder`, `alt`), less
    /// [`NOT_LANGUAGE`], and its [`text_literals`].
    fn untranslated_words(src: &str) -> Vec<String> {
        /// `s` without every span from `open` to the next `close`, each replaced by a space.
        fn strip(s: &str, open: &str, close: &str) -> String {
            let mut out = String::new();
            let mut rest = s;
            while let Some(i) = rest.find(open) {
                out.push_str(&rest[..i]);
                out.push(' ');
                rest = rest[i + open.len()..]
                    .find(close)
                    .map_or("", |j| &rest[i + open.len() + j + close.len()..]);
            }
            out.push_str(rest);
            out
        }
        let mut s = strip(src, "{#", "#}");
        for (open, close) in [
            ("<script", "</script>"),
            ("<style", "</style>"),
            ("<kbd>", "</kbd>"),
            ("<code", "</code>"),
            ("{{", "}}"),
            ("{%", "%}"),
        ] {
            s = strip(&s, open, close);
        }
        let mut visible = String::new();
        let mut rest = s.as_str();
        while let Some(i) = rest.find('<') {
            visible.push_str(&rest[..i]);
            visible.push(' ');
            let end = rest[i..].find('>').map_or(rest.len(), |j| i + j + 1);
            let tag = &rest[i..end];
            for attr in ["title=\"", "aria-label=\"", "placeholder=\"", "alt=\""] {
                for part in tag.split(attr).skip(1) {
                    visible.push_str(part.split('"').next().unwrap_or(""));
                    visible.push(' ');
                }
            }
            rest = &rest[end..];
        }
        visible.push_str(rest);
        let visible = strip(&visible, "&", ";");
        let mut words: Vec<String> = visible
            .split(|c: char| !c.is_alphabetic())
            .filter(|w| w.chars().count() > 1 && !NOT_LANGUAGE.contains(w))
            .map(str::to_string)
            .collect();
        words.extend(text_literals(&strip(src, "{#", "#}")));
        words
    }

    /// No staff or public template shows a word that is not passed through `t()` (but those
    /// of [`NOT_YET_TRANSLATED`], which must still have some, so the list is kept short).
    #[test]
    fn every_visible_word_goes_through_the_catalogue() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");
        let mut checked = 0;
        let mut failures = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_string();
            let words = untranslated_words(&std::fs::read_to_string(&path).unwrap());
            if NOT_YET_TRANSLATED.contains(&name.as_str()) {
                assert!(
                    !words.is_empty(),
                    "{name} is translated: take it off NOT_YET_TRANSLATED"
                );
                continue;
            }
            checked += 1;
            if !words.is_empty() {
                failures.push(format!("{name}: {}", words.join(" ")));
            }
        }
        assert!(checked >= 10, "{checked} templates checked");
        assert!(
            failures.is_empty(),
            "text not passed through t():\n{}",
            failures.join("\n")
        );
    }

    #[test]
    fn the_visible_word_check_finds_what_it_should() {
        let src = r#"{% block title %}Alerts{% endblock %}<p title="Close it" class="x y">{{ t("a") }} · 3 {{ n }} TLP:AMBER &nbsp;</p>{# a comment #}<script>let a = 1;</script><input placeholder="{{ t("b") }}" name="who">"#;
        assert_eq!(untranslated_words(src), ["Alerts", "Close", "it"]);
        let src = r#"{{ th(links, "as_of", "As of") }}{{ x or 'not rated' }}{{ t("ok.key") }}{{ tv("severity", s) }}{{ x | replace("T", " ") }}{% if a == "open" %}"#;
        assert_eq!(untranslated_words(src), ["As of", "not rated"]);
        assert!(
            untranslated_words(r#"<a href="/x" aria-label="{{ t("c") }}">{{ t("d") }}</a>"#)
                .is_empty()
        );
    }

    /// Every value of the closed sets the pages show through `tv()` has its name.
    #[test]
    fn every_value_shown_by_name_has_one() {
        use tocsin_domain::{
            ActionStatus, AlertStatus, BroadcastState, CloseReason, HeardHow, Level, Role,
            RumourPriority, RumourStatus, Severity, VerificationStatus,
        };
        let en = catalogue(Lang::En);
        let mut keys: Vec<String> = Vec::new();
        keys.extend(Severity::ALL.iter().map(|v| format!("severity.{v}")));
        keys.extend(AlertStatus::ALL.iter().map(|v| format!("alert_status.{v}")));
        keys.extend(
            ActionStatus::ALL
                .iter()
                .map(|v| format!("action_status.{}", v.as_str())),
        );
        keys.extend(
            VerificationStatus::ALL
                .iter()
                .map(|v| format!("verification.{}", v.as_str())),
        );
        keys.extend(Role::ALL.iter().map(|v| format!("role.{}", v.as_str())));
        keys.extend(Level::ALL.iter().map(|v| format!("level.{}", v.as_str())));
        keys.extend(
            RumourStatus::ALL
                .iter()
                .map(|v| format!("rumour_status.{v}")),
        );
        keys.extend(RumourPriority::ALL.iter().map(|v| format!("priority.{v}")));
        keys.extend(HeardHow::ALL.iter().map(|v| format!("how_heard.{v}")));
        keys.extend(CloseReason::ALL.iter().map(|v| format!("close_reason.{v}")));
        keys.extend(
            BroadcastState::ALL
                .iter()
                .map(|v| format!("broadcast_state.{}", v.as_str())),
        );
        // Closed sets the domain keeps as text.
        for (kind, values) in [
            ("assessment_status", &["draft", "reviewed", "published"][..]),
            ("confidence", &["low", "medium", "high"]),
            ("situation_status", &["watch", "active", "closed"]),
            ("metric", &["incidents", "fatalities", "speech"]),
            (
                "match_kind",
                &["incident", "report", "speech_flag", "document"],
            ),
            ("period", &["week", "month"]),
            ("period_heading", &["week", "month"]),
            (
                "outbox_status",
                &["queued", "sending", "sent", "delivered", "failed"],
            ),
            ("source_kind", tocsin_domain::source::SOURCE_KINDS),
            (
                "crime",
                &["genocide", "crimes_against_humanity", "war_crimes"],
            ),
            ("finding", &["risk_of", "may_amount_to", "determined"]),
            ("finding_label", &["risk_of", "may_amount_to", "determined"]),
            (
                "audience",
                &[
                    "viewer",
                    "desk_officer",
                    "monitor_coordinator",
                    "analyst",
                    "admin",
                ],
            ),
        ] {
            keys.extend(values.iter().map(|v| format!("{kind}.{v}")));
        }
        for k in keys {
            assert!(en.contains_key(&k), "en.json lacks {k}");
        }
    }

    #[test]
    fn accept_language_picks_the_best_of_ours() {
        assert_eq!(
            from_accept_language("fr-CF,fr;q=0.9,en;q=0.5"),
            Some(Lang::Fr)
        );
        assert_eq!(
            from_accept_language("de-DE,ar;q=0.8,en;q=0.7"),
            Some(Lang::Ar)
        );
        assert_eq!(from_accept_language("en;q=0.2, sw-KE"), Some(Lang::Sw));
        assert_eq!(from_accept_language("ar;q=0, fr;q=0.1"), Some(Lang::Fr));
        assert_eq!(from_accept_language("de, *;q=0.5"), None);
        assert_eq!(from_accept_language(""), None);
    }

    #[test]
    fn placeholders_are_filled() {
        let s = text(Lang::Ar, "form.claim_note", &[("hours", "24".into())]);
        assert!(s.contains("\u{2068}24\u{2069}"), "{s}");
        // In a left-to-right language only a right-to-left value is isolated.
        let s = text(Lang::Fr, "form.claim_note", &[("hours", "24".into())]);
        assert!(s.contains("24 heures") && !s.contains('\u{2068}'), "{s}");
        let s = text(Lang::En, "account.contacts_of", &[("name", "نص".into())]);
        assert_eq!(s, "Contacts of \u{2068}نص\u{2069}");
        assert_eq!(text(Lang::Sw, "no.such.key", &[]), "no.such.key");
    }

    #[test]
    fn a_count_picks_the_plural_form() {
        let n = |lang, c: u64| text(lang, "nav.inbox_unread", &[("count", c.to_string())]);
        assert_eq!(n(Lang::En, 1), "Inbox (1 unread)");
        assert_eq!(n(Lang::En, 3), "Inbox (3 unread)");
        assert_eq!(n(Lang::Fr, 1), "Messages (1 non lu)");
        assert_eq!(n(Lang::Fr, 3), "Messages (3 non lus)");
        assert_ne!(n(Lang::Ar, 2), n(Lang::Ar, 5));
        assert_ne!(n(Lang::Ar, 5), n(Lang::Ar, 11));
        assert_eq!(plural(Lang::Ar, 103), "few");
        assert_eq!(plural(Lang::Ar, 100), "other");
        assert_eq!(plural(Lang::Fr, 0), "one");
        assert_eq!(plural(Lang::En, 0), "other");
    }

    /// The sources whose refusals pages show: the domain, the use cases, the stores, and the
    /// server's own parsing of what a page or client sent.
    fn reason_sources() -> super::super::reason_scan::Scan {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let dirs: Vec<std::path::PathBuf> = [
            "tocsin-domain/src",
            "tocsin-app/src",
            "tocsin-store/src",
            "tocsin-store-sqlite/src",
            "tocsin-store-postgres/src",
            "tocsin-server/src",
        ]
        .iter()
        .map(|d| root.join(d))
        .collect();
        let dirs: Vec<&std::path::Path> = dirs.iter().map(|d| d.as_path()).collect();
        super::super::reason_scan::scan(&dirs)
    }

    /// Reasons the catalogues carry that the scanner cannot see in the sources (a message
    /// assembled from parts): kept, not reported as obsolete.
    const REASONS_NOT_SCANNED: &[&str] = &[
        "status: an action that is {0} cannot become {1} (done and dropped are final)",
        // A transfer to or from a partner that failed (`tocsin_delivery::partner`), shown by
        // the /share page's "Exchange now".
        "the partner could not be reached: {0}",
        "the partner refused ({0}): {1}",
    ];

    /// Like `xgettext`: every refusal reason the domain, application and store layers write
    /// (see [`super::super::reason_scan`]) is in the French, Swahili and Arabic reason
    /// catalogues with the same placeholders, and so is every field name they give; a
    /// catalogue keeps no reason the sources no longer write.
    #[test]
    fn every_refusal_reason_is_translated() {
        let scan = reason_sources();
        assert!(
            scan.reasons.len() > 300,
            "{} reasons found",
            scan.reasons.len()
        );
        let mut problems = Vec::new();
        let written: std::collections::BTreeSet<&str> =
            scan.reasons.iter().map(|f| f.template.as_str()).collect();
        for (lang, src) in REASON_SOURCES {
            let c: ReasonSource = serde_json::from_str(src).unwrap();
            let mut missing = std::collections::BTreeSet::new();
            for f in &scan.reasons {
                match c.reasons.get(&f.template) {
                    None => {
                        missing.insert(format!("  {:?}  ({}:{})", f.template, f.file, f.line));
                    }
                    Some(t) if t.trim().is_empty() => {
                        problems.push(format!("{}: {:?} is empty", lang.code(), f.template))
                    }
                    Some(t) if template_holes(t) != template_holes(&f.template) => {
                        problems.push(format!(
                            "{}: {:?} has placeholders {:?}, its translation {:?} has {:?}",
                            lang.code(),
                            f.template,
                            template_holes(&f.template),
                            t,
                            template_holes(t)
                        ))
                    }
                    Some(_) => {}
                }
            }
            for f in &scan.fields {
                if !c.fields.contains_key(&f.template) {
                    missing.insert(format!("  field {:?}  ({}:{})", f.template, f.file, f.line));
                }
            }
            if !missing.is_empty() {
                problems.push(format!(
                    "locales/reasons/{}.json lacks {}:\n{}",
                    lang.code(),
                    missing.len(),
                    missing.into_iter().collect::<Vec<_>>().join("\n")
                ));
            }
            for k in c.reasons.keys() {
                if !written.contains(k.as_str()) && !REASONS_NOT_SCANNED.contains(&k.as_str()) {
                    problems.push(format!(
                        "locales/reasons/{}.json: {k:?} is no longer written by the sources",
                        lang.code()
                    ));
                }
            }
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    /// The scanner finds what it should: reasons of each shape, at known places.
    #[test]
    fn the_reason_scanner_finds_known_examples() {
        let scan = reason_sources();
        let has = |t: &str| scan.reasons.iter().any(|f| f.template == t);
        for t in [
            // A literal (DomainError::invalid), over several lines.
            "a latitude between -90 and 90",
            // A format! with a captured name, normalised.
            "tlp: {0} is above your own clearance ({1})",
            // AppError::refused, AppError::Conflict, StoreError::Conflict.
            "a desk officer records the actions of their own desk only",
            "the assessment is at version {0}, not {1}: reload and retry",
            "the rule was changed meanwhile; read it again",
            // A constant.
            tocsin_app::ROLE_MAY_NOT,
            // #[error("…")] of a domain error.
            "the action changed since version {0}; it is now at version {1}",
            // A closure's callers' fragments and the format! around them.
            "{0}: {1}; expected a number and a unit s, m, h or d, e.g. 30s, 15m, 4h, 2d",
            "no known unit",
            // A let holding the message.
            "{0} is not a verification status (expected {1})",
        ] {
            assert!(has(t), "the scanner misses {t:?}");
        }
        assert!(scan.fields.iter().any(|f| f.template == "latitude"));
        // What it cannot read (a message built elsewhere, e.g. `e.to_string()`), counted so a
        // change in coverage is seen: `cargo test … known_examples -- --nocapture` lists them.
        eprintln!("{} call sites the scanner cannot read:", scan.unseen.len());
        for (at, expr) in &scan.unseen {
            eprintln!("  {at}: {expr}");
        }
        assert!(scan.unseen.len() < 120, "{} unseen", scan.unseen.len());
        // Nothing of a test module, nothing that is only placeholders.
        assert!(!scan.reasons.iter().any(|f| f.template == "{0}"));
        assert!(!scan.reasons.iter().any(|f| f.file.contains("tests")));
    }

    #[test]
    fn the_reason_scanner_reads_rust() {
        use super::super::reason_scan::normalise;
        assert_eq!(
            normalise("{} of {n:?} and {}, {n} {{x}}"),
            "{0} of {1} and {2}, {1} {x}"
        );
        assert_eq!(normalise("{0}: {1:.1}"), "{0}: {1}");
    }

    #[test]
    fn a_reason_is_said_in_the_readers_language() {
        let fr = |m: &str| reason(Lang::Fr, m);
        // English is left as it is, and so is what no catalogue knows.
        assert_eq!(
            reason(Lang::En, "a reason is required"),
            "a reason is required"
        );
        assert_eq!(fr("zzz: no such reason"), "zzz : no such reason");
        assert_eq!(fr("Something else entirely"), "Something else entirely");
        // Exact, a template with the echoed value intact, a field's name before it.
        assert_ne!(fr("a reason is required"), "a reason is required");
        let s = fr("tlp: TLP:RED is above your own clearance (TLP:AMBER)");
        assert!(
            s.contains("TLP:RED") && s.contains("TLP:AMBER") && !s.contains("above"),
            "{s}"
        );
        let s = fr("latitude: must be between -90 and 90");
        assert!(
            s.starts_with("latitude ") && s.contains("-90") && !s.contains("must"),
            "{s}"
        );
        // A fragment passed into a wider reason is translated too.
        let s = fr("window: \"5x\": no known unit; expected a number and a unit s, m, h or d, e.g. 30s, 15m, 4h, 2d");
        assert!(s.contains("\"5x\"") && !s.contains("no known unit"), "{s}");
        // In Arabic a value keeps its direction.
        let s = reason(
            Lang::Ar,
            "tlp: TLP:RED is above your own clearance (TLP:AMBER)",
        );
        assert!(s.contains("\u{2068}TLP:RED\u{2069}"), "{s}");
        // A placeholder seen twice must hold the same value twice.
        assert_eq!(template_holes("between -{0} and {0}, {1}"), vec![0, 1]);
    }
}
