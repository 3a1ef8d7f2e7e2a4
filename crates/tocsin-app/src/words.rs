//! Names a brief prints in French, Swahili or Arabic besides the headings: the toolbox's
//! measures and categories (`toolbox/toolbox.names.tsv`, working translations) and country
//! names (a small hand-made table of the countries Tocsin's demo and test data cover and
//! their neighbours). English, or a name not in the tables, is `None`: the caller keeps the
//! English name.

use std::collections::HashMap;
use std::sync::OnceLock;
use tocsin_domain::Lang;

/// The toolbox's names in French, Swahili and Arabic.
pub const TOOLBOX_NAMES: &str = include_str!("../../../toolbox/toolbox.names.tsv");

fn toolbox() -> &'static HashMap<&'static str, [&'static str; 3]> {
    static NAMES: OnceLock<HashMap<&'static str, [&'static str; 3]>> = OnceLock::new();
    NAMES.get_or_init(|| {
        TOOLBOX_NAMES
            .lines()
            .filter(|l| !l.starts_with('#') && !l.starts_with("id\t"))
            .filter_map(|l| {
                let mut f = l.split('\t');
                Some((f.next()?, [f.next()?, f.next()?, f.next()?]))
            })
            .collect()
    })
}

fn pick(names: &[&'static str; 3], lang: Lang) -> Option<&'static str> {
    match lang {
        Lang::En => None,
        Lang::Fr => Some(names[0]),
        Lang::Sw => Some(names[1]),
        Lang::Ar => Some(names[2]),
    }
}

/// A toolbox measure's name in `lang` (`None` in English or for an unknown id).
pub fn measure_name(id: &str, lang: Lang) -> Option<&'static str> {
    toolbox().get(id).and_then(|n| pick(n, lang))
}

/// A toolbox category's name in `lang` (`None` in English or for an unknown one).
pub fn category_name(category: &str, lang: Lang) -> Option<&'static str> {
    toolbox()
        .get(format!("category:{category}").as_str())
        .and_then(|n| pick(n, lang))
}

/// ISO alpha-3, French, Swahili, Arabic.
const COUNTRIES: &[(&str, [&str; 3])] = &[
    ("AFG", ["Afghanistan", "Afghanistani", "أفغانستان"]),
    ("AGO", ["Angola", "Angola", "أنغولا"]),
    ("BDI", ["Burundi", "Burundi", "بوروندي"]),
    ("BEN", ["Bénin", "Benin", "بنين"]),
    ("BFA", ["Burkina Faso", "Burkina Faso", "بوركينا فاسو"]),
    (
        "CAF",
        [
            "République centrafricaine",
            "Jamhuri ya Afrika ya Kati",
            "جمهورية أفريقيا الوسطى",
        ],
    ),
    ("CIV", ["Côte d'Ivoire", "Kodivaa", "كوت ديفوار"]),
    ("CMR", ["Cameroun", "Kamerun", "الكاميرون"]),
    (
        "COD",
        [
            "République démocratique du Congo",
            "Jamhuri ya Kidemokrasia ya Kongo",
            "جمهورية الكونغو الديمقراطية",
        ],
    ),
    ("COG", ["Congo", "Kongo", "الكونغو"]),
    ("DZA", ["Algérie", "Aljeria", "الجزائر"]),
    ("EGY", ["Égypte", "Misri", "مصر"]),
    ("ERI", ["Érythrée", "Eritrea", "إريتريا"]),
    ("ETH", ["Éthiopie", "Ethiopia", "إثيوبيا"]),
    ("GHA", ["Ghana", "Ghana", "غانا"]),
    ("GIN", ["Guinée", "Gine", "غينيا"]),
    ("HTI", ["Haïti", "Haiti", "هايتي"]),
    ("IRQ", ["Irak", "Iraki", "العراق"]),
    ("KEN", ["Kenya", "Kenya", "كينيا"]),
    ("LBN", ["Liban", "Lebanoni", "لبنان"]),
    ("LBY", ["Libye", "Libya", "ليبيا"]),
    ("MLI", ["Mali", "Mali", "مالي"]),
    ("MMR", ["Myanmar", "Myanmar", "ميانمار"]),
    ("MOZ", ["Mozambique", "Msumbiji", "موزمبيق"]),
    ("MRT", ["Mauritanie", "Moritania", "موريتانيا"]),
    ("NER", ["Niger", "Niger", "النيجر"]),
    ("NGA", ["Nigeria", "Nigeria", "نيجيريا"]),
    ("PSE", ["Palestine", "Palestina", "فلسطين"]),
    ("RWA", ["Rwanda", "Rwanda", "رواندا"]),
    ("SDN", ["Soudan", "Sudan", "السودان"]),
    ("SEN", ["Sénégal", "Senegal", "السنغال"]),
    ("SOM", ["Somalie", "Somalia", "الصومال"]),
    ("SSD", ["Soudan du Sud", "Sudan Kusini", "جنوب السودان"]),
    ("SYR", ["Syrie", "Syria", "سوريا"]),
    ("TCD", ["Tchad", "Chadi", "تشاد"]),
    ("TGO", ["Togo", "Togo", "توغو"]),
    ("TZA", ["Tanzanie", "Tanzania", "تنزانيا"]),
    ("UGA", ["Ouganda", "Uganda", "أوغندا"]),
    ("UKR", ["Ukraine", "Ukraini", "أوكرانيا"]),
    ("YEM", ["Yémen", "Yemen", "اليمن"]),
    ("ZMB", ["Zambie", "Zambia", "زامبيا"]),
    ("ZWE", ["Zimbabwe", "Zimbabwe", "زيمبابوي"]),
];

/// A country's name in `lang` from its ISO alpha-3 code (`None` in English or for a country
/// not in the table).
pub fn country_name(iso3: &str, lang: Lang) -> Option<&'static str> {
    COUNTRIES
        .iter()
        .find(|(c, _)| *c == iso3)
        .and_then(|(_, n)| pick(n, lang))
}

/// How a precedent's measures are judged (the toolbox's `success`, `partial_success`,
/// `failure`, `contested`), in `lang`; `None` for a code not among them.
pub fn assessment_name(code: &str, lang: Lang) -> Option<&'static str> {
    let names: [&'static str; 4] = match code {
        "success" => ["success", "succès", "mafanikio", "نجاح"],
        "partial_success" => [
            "partial success",
            "succès partiel",
            "mafanikio kiasi",
            "نجاح جزئي",
        ],
        "failure" => ["failure", "échec", "kushindwa", "فشل"],
        "contested" => ["contested", "contesté", "inabishaniwa", "موضع خلاف"],
        _ => return None,
    };
    Some(match lang {
        Lang::En => names[0],
        Lang::Fr => names[1],
        Lang::Sw => names[2],
        Lang::Ar => names[3],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_toolbox_measure_and_category_has_its_three_names() {
        let tb = tocsin_toolbox::Toolbox::shipped();
        for m in &tb.measures {
            for lang in [Lang::Fr, Lang::Sw, Lang::Ar] {
                let n = measure_name(&m.id, lang).unwrap_or_else(|| panic!("{} {lang}", m.id));
                assert!(!n.is_empty() && n != m.name, "{} {lang}: {n}", m.id);
                assert!(category_name(&m.category, lang).is_some(), "{}", m.category);
            }
            assert_eq!(measure_name(&m.id, Lang::En), None);
        }
        assert_eq!(
            measure_name("preventive_deployment", Lang::Fr),
            Some("Déploiement préventif")
        );
    }

    #[test]
    fn countries_are_named_in_the_brief_language() {
        assert_eq!(
            country_name("CAF", Lang::Fr),
            Some("République centrafricaine")
        );
        assert_eq!(country_name("SSD", Lang::Ar), Some("جنوب السودان"));
        assert_eq!(country_name("CAF", Lang::En), None);
        assert_eq!(country_name("XYZ", Lang::Fr), None);
        for (c, _) in COUNTRIES {
            assert_eq!(c.len(), 3);
        }
    }
}
