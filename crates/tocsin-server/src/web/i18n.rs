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

use axum::http::header;
use axum::http::request::Parts;
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

/// The text of `key` in `lang` with each `{name}` replaced by its value, isolated (U+2068 …
/// U+2069, as Fluent does) so that a number or a Latin word keeps its place in Arabic; English
/// when the language lacks it, the key itself when no catalogue has it.
pub fn text(lang: Lang, key: &str, args: &[(&str, String)]) -> String {
    let raw = catalogue(lang)
        .get(key)
        .or_else(|| catalogue(Lang::En).get(key))
        .map(String::as_str)
        .unwrap_or(key);
    let mut out = raw.to_string();
    for (name, value) in args {
        out = out.replace(&format!("{{{name}}}"), &format!("\u{2068}{value}\u{2069}"));
    }
    out
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
    let accept = parts
        .headers
        .get_all(header::ACCEPT_LANGUAGE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    (from_accept_language(&accept).unwrap_or(Lang::En), false)
}

/// The template function `t("key", name=value, …)`: the text of `key` in the page's `lang`
/// (English when the page sets none).
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
                assert_eq!(
                    holes(v),
                    holes(tr),
                    "{}.json: {k}'s placeholders",
                    lang.code()
                );
            }
            for k in c.keys() {
                assert!(
                    en.contains_key(k),
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
                assert!(
                    catalogue(Lang::En).contains_key(key),
                    "{} uses t(\"{key}\"), which no catalogue has",
                    path.display()
                );
                used += 1;
            }
        }
        assert!(used >= 20, "the templates use the catalogues ({used} uses)");
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
        let s = text(Lang::Fr, "form.claim_note", &[("hours", "24".into())]);
        assert!(s.contains("\u{2068}24\u{2069} heures"), "{s}");
        assert_eq!(text(Lang::Sw, "no.such.key", &[]), "no.such.key");
    }
}
