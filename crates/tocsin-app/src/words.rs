//! Names a brief prints in French, Swahili or Arabic besides the headings: the toolbox's
//! measures, categories, precedents' titles and outcomes (`toolbox/toolbox.names.tsv`, working
//! translations), ACLED's event and sub-event types (working translations, here), and
//! country names (a small hand-made table of the countries Tocsin's demo and test data and
//! the toolbox's precedents cover, and their neighbours). English, or a name not in the
//! tables, is `None`: the caller keeps the English name.

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

/// A toolbox precedent's title in `lang` (`None` in English or for an unknown id).
pub fn precedent_title(id: &str, lang: Lang) -> Option<&'static str> {
    toolbox()
        .get(format!("precedent:{id}").as_str())
        .and_then(|n| pick(n, lang))
}

/// A toolbox precedent's outcome in `lang` (`None` in English or for an unknown id).
pub fn precedent_outcome(id: &str, lang: Lang) -> Option<&'static str> {
    toolbox()
        .get(format!("outcome:{id}").as_str())
        .and_then(|n| pick(n, lang))
}

/// ACLED's event and sub-event types (as `tocsin_domain::incident::ACLED_TYPOLOGY` spells
/// them) in French, Swahili and Arabic: working translations made for Tocsin, not ACLED's.
const EVENT_TYPES: &[(&str, [&str; 3])] = &[
    ("Battles", ["Batailles", "Mapigano", "معارك"]),
    (
        "Explosions/Remote violence",
        [
            "Explosions/Violence à distance",
            "Milipuko/Mashambulizi ya mbali",
            "انفجارات/عنف عن بعد",
        ],
    ),
    (
        "Violence against civilians",
        [
            "Violence contre les civils",
            "Ukatili dhidi ya raia",
            "عنف ضد المدنيين",
        ],
    ),
    ("Protests", ["Manifestations", "Maandamano", "احتجاجات"]),
    ("Riots", ["Émeutes", "Ghasia", "أعمال شغب"]),
    (
        "Strategic developments",
        [
            "Évolutions stratégiques",
            "Maendeleo ya kimkakati",
            "تطورات استراتيجية",
        ],
    ),
    // Sub-event types.
    (
        "Armed clash",
        ["Affrontement armé", "Mapigano ya silaha", "اشتباك مسلح"],
    ),
    (
        "Government regains territory",
        [
            "Le gouvernement reprend un territoire",
            "Serikali yarejesha eneo",
            "الحكومة تستعيد أراضي",
        ],
    ),
    (
        "Non-state actor overtakes territory",
        [
            "Un acteur non étatique prend un territoire",
            "Kundi lisilo la kiserikali lateka eneo",
            "جهة غير حكومية تسيطر على أراضٍ",
        ],
    ),
    (
        "Chemical weapon",
        ["Arme chimique", "Silaha ya kemikali", "سلاح كيميائي"],
    ),
    (
        "Air/drone strike",
        [
            "Frappe aérienne/de drone",
            "Shambulio la anga/la droni",
            "غارة جوية/بطائرة مسيرة",
        ],
    ),
    (
        "Suicide bomb",
        [
            "Attentat-suicide",
            "Bomu la kujitoa mhanga",
            "تفجير انتحاري",
        ],
    ),
    (
        "Shelling/artillery/missile attack",
        [
            "Bombardement/artillerie/attaque de missiles",
            "Mashambulizi ya mizinga/makombora",
            "قصف مدفعي/صاروخي",
        ],
    ),
    (
        "Remote explosive/landmine/IED",
        [
            "Explosif télécommandé/mine terrestre/EEI",
            "Kilipuzi cha mbali/bomu la ardhini/IED",
            "عبوة ناسفة/لغم أرضي",
        ],
    ),
    ("Grenade", ["Grenade", "Guruneti", "قنبلة يدوية"]),
    (
        "Sexual violence",
        ["Violences sexuelles", "Ukatili wa kingono", "عنف جنسي"],
    ),
    ("Attack", ["Attaque", "Shambulio", "هجوم"]),
    (
        "Abduction/forced disappearance",
        [
            "Enlèvement/disparition forcée",
            "Utekaji nyara/kutoweshwa kwa nguvu",
            "اختطاف/إخفاء قسري",
        ],
    ),
    (
        "Peaceful protest",
        [
            "Manifestation pacifique",
            "Maandamano ya amani",
            "احتجاج سلمي",
        ],
    ),
    (
        "Protest with intervention",
        [
            "Manifestation avec intervention",
            "Maandamano yaliyoingiliwa",
            "احتجاج مع تدخل",
        ],
    ),
    (
        "Excessive force against protesters",
        [
            "Usage excessif de la force contre des manifestants",
            "Nguvu kupita kiasi dhidi ya waandamanaji",
            "استخدام مفرط للقوة ضد المحتجين",
        ],
    ),
    (
        "Violent demonstration",
        [
            "Manifestation violente",
            "Maandamano ya vurugu",
            "مظاهرة عنيفة",
        ],
    ),
    (
        "Mob violence",
        ["Violence collective", "Ghasia za umati", "عنف الحشود"],
    ),
    ("Agreement", ["Accord", "Makubaliano", "اتفاق"]),
    ("Arrests", ["Arrestations", "Kukamatwa", "اعتقالات"]),
    (
        "Change to group/activity",
        [
            "Changement de groupe/d'activité",
            "Mabadiliko ya kundi/shughuli",
            "تغير في الجماعة/النشاط",
        ],
    ),
    (
        "Disrupted weapons use",
        [
            "Usage d'armes déjoué",
            "Matumizi ya silaha yaliyozuiwa",
            "إحباط استخدام أسلحة",
        ],
    ),
    (
        "Headquarters or base established",
        [
            "Quartier général ou base établi",
            "Makao makuu au kambi kuanzishwa",
            "إنشاء مقر أو قاعدة",
        ],
    ),
    (
        "Looting/property destruction",
        [
            "Pillage/destruction de biens",
            "Uporaji/uharibifu wa mali",
            "نهب/تدمير ممتلكات",
        ],
    ),
    (
        "Non-violent transfer of territory",
        [
            "Transfert non violent de territoire",
            "Uhamisho wa eneo bila vurugu",
            "نقل سلمي للسيطرة على أراضٍ",
        ],
    ),
    ("Other", ["Autre", "Nyingine", "أخرى"]),
];

/// An ACLED event type or sub-event type in `lang` (case-insensitive; `None` in English or
/// for a name not in the typology).
pub fn event_type_name(name: &str, lang: Lang) -> Option<&'static str> {
    let name = name.trim();
    EVENT_TYPES
        .iter()
        .find(|(t, _)| t.eq_ignore_ascii_case(name))
        .and_then(|(_, n)| pick(n, lang))
}

/// ISO alpha-3, French, Swahili, Arabic.
const COUNTRIES: &[(&str, [&str; 3])] = &[
    ("AFG", ["Afghanistan", "Afghanistani", "أفغانستان"]),
    ("AGO", ["Angola", "Angola", "أنغولا"]),
    ("BDI", ["Burundi", "Burundi", "بوروندي"]),
    ("BEN", ["Bénin", "Benin", "بنين"]),
    ("BFA", ["Burkina Faso", "Burkina Faso", "بوركينا فاسو"]),
    (
        "BIH",
        [
            "Bosnie-Herzégovine",
            "Bosnia na Hezegovina",
            "البوسنة والهرسك",
        ],
    ),
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
    ("GMB", ["Gambie", "Gambia", "غامبيا"]),
    ("HTI", ["Haïti", "Haiti", "هايتي"]),
    ("IRQ", ["Irak", "Iraki", "العراق"]),
    ("KEN", ["Kenya", "Kenya", "كينيا"]),
    ("KGZ", ["Kirghizistan", "Kirgizistani", "قيرغيزستان"]),
    ("LBN", ["Liban", "Lebanoni", "لبنان"]),
    ("LBY", ["Libye", "Libya", "ليبيا"]),
    ("LKA", ["Sri Lanka", "Sri Lanka", "سريلانكا"]),
    (
        "MKD",
        [
            "Macédoine du Nord",
            "Masedonia Kaskazini",
            "مقدونيا الشمالية",
        ],
    ),
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
    ("SLE", ["Sierra Leone", "Siera Leoni", "سيراليون"]),
    ("SOM", ["Somalie", "Somalia", "الصومال"]),
    ("SSD", ["Soudan du Sud", "Sudan Kusini", "جنوب السودان"]),
    ("SYR", ["Syrie", "Syria", "سوريا"]),
    ("TCD", ["Tchad", "Chadi", "تشاد"]),
    ("TGO", ["Togo", "Togo", "توغو"]),
    (
        "TLS",
        ["Timor oriental", "Timor Mashariki", "تيمور الشرقية"],
    ),
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
    fn every_precedent_has_its_title_in_three_languages() {
        let tb = tocsin_toolbox::Toolbox::shipped();
        assert!(!tb.precedents.is_empty());
        for p in &tb.precedents {
            for lang in [Lang::Fr, Lang::Sw, Lang::Ar] {
                let t = precedent_title(&p.id, lang).unwrap_or_else(|| panic!("{} {lang}", p.id));
                assert!(!t.is_empty() && t != p.title, "{} {lang}: {t}", p.id);
            }
            assert_eq!(precedent_title(&p.id, Lang::En), None);
            // And what came of it: no English paragraph left in a French brief.
            for lang in [Lang::Fr, Lang::Sw, Lang::Ar] {
                let o = precedent_outcome(&p.id, lang).unwrap_or_else(|| panic!("{} {lang}", p.id));
                assert!(!o.is_empty() && o != p.outcome, "{} {lang}: {o}", p.id);
                // The figures the English gives are kept in the translation.
                let digits = |t: &str| t.chars().filter(char::is_ascii_digit).count();
                assert!(digits(o) >= digits(&p.outcome) / 2, "{} {lang}: {o}", p.id);
            }
            assert_eq!(precedent_outcome(&p.id, Lang::En), None);
            // Its country too, so no English is left on a precedent's line.
            assert!(country_name(&p.iso3, Lang::Fr).is_some(), "{}", p.iso3);
        }
        assert_eq!(
            precedent_title("ken_2008_mediation", Lang::Fr),
            Some("Kenya : crise postélectorale et médiation mandatée par l'UA")
        );
    }

    #[test]
    fn every_acled_event_and_sub_event_type_is_named_in_three_languages() {
        for (t, subs) in tocsin_domain::incident::ACLED_TYPOLOGY {
            for name in std::iter::once(t).chain(subs.iter()) {
                for lang in [Lang::Fr, Lang::Sw, Lang::Ar] {
                    let n = event_type_name(name, lang)
                        .unwrap_or_else(|| panic!("{name} has no name in {lang}"));
                    assert!(
                        !n.is_empty() && n != *name || *name == "Grenade",
                        "{name} {lang}"
                    );
                }
                assert_eq!(event_type_name(name, Lang::En), None);
            }
        }
        assert_eq!(
            event_type_name("violence against civilians", Lang::Fr),
            Some("Violence contre les civils")
        );
        assert_eq!(event_type_name("Attack", Lang::Ar), Some("هجوم"));
        assert_eq!(event_type_name("Picnic", Lang::Fr), None);
        // No name twice in the table.
        let mut names: Vec<&str> = EVENT_TYPES.iter().map(|(n, _)| *n).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), EVENT_TYPES.len());
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
