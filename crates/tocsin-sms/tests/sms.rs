//! Behaviour a reporter or an analyst notices: codes, languages, places,
//! acknowledgements, references, phone numbers.

use tocsin_sms::{
    ack_text, find_reference, gsm7_septets, keyword_codes, normalize_phone, parse, parse_reference,
    reference_code, Category, Lang, PhoneError,
};

#[test]
fn every_documented_code_gives_its_category_and_language() {
    for lang in Lang::ALL {
        for cat in Category::ALL {
            for code in keyword_codes(lang, cat) {
                let mut texts = vec![
                    code.to_string(),
                    format!("{code} Bria"),
                    format!("#{code}: Bria"),
                ];
                // MOTO counts only in capitals (see the crate docs).
                if *code != "MOTO" {
                    texts.push(format!("{} Bria", code.to_lowercase()));
                }
                for text in texts {
                    let p = parse(&text, Some("CAF"));
                    assert_eq!(p.category, Some(cat), "{text:?}");
                    assert_eq!(p.language, lang, "{text:?}");
                    assert!(p.keyword.is_some(), "{text:?}");
                    if text.contains("Bria") {
                        assert_eq!(
                            p.place.as_ref().map(|f| f.name.as_str()),
                            Some("Bria"),
                            "{text:?}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn codes_ignore_case_and_diacritics() {
    for (text, cat) in [
        ("enlevement Bria", Category::Abduction),
        ("Enlèvement à Bria", Category::Abduction),
        ("DEPLACES Bria", Category::Displacement),
        ("déplacés vers Bria", Category::Displacement),
        ("Rumeur: attaque demain à Bria", Category::Rumour),
        ("*VIOL* Bria", Category::SexualViolence),
        ("الهجوم على بريا", Category::Attack),
        ("اشاعة عن هجوم", Category::Rumour),
        ("هُجُوم", Category::Attack),
    ] {
        assert_eq!(parse(text, Some("CAF")).category, Some(cat), "{text}");
    }
}

#[test]
fn keyword_with_place_and_details() {
    let p = parse("ATTAQUE Bria 5 morts", Some("CAF"));
    assert_eq!(p.language, Lang::Fr);
    assert_eq!(p.category, Some(Category::Attack));
    assert_eq!(p.keyword.as_deref(), Some("ATTAQUE"));
    let place = p.place.unwrap();
    assert_eq!(place.name, "Bria");
    assert_eq!(place.country, "CAF");
    assert_eq!(place.geo_precision, 1);
    assert_eq!(p.place_text.as_deref(), Some("Bria"));
    assert!(!p.unresolved_place);
}

#[test]
fn french_free_text_without_keyword() {
    let p = parse("Hommes armés à Bria", Some("CAF"));
    assert_eq!(p.language, Lang::Fr);
    assert_eq!(p.category, None);
    assert_eq!(p.keyword, None);
    let place = p.place.expect("Bria");
    assert_eq!(place.name, "Bria");
    assert_eq!(place.country, "CAF");
    assert_eq!(place.admin1.as_deref(), Some("Haute-Kotto"));
    assert!((place.latitude - 6.54).abs() < 0.01 && (place.longitude - 21.99).abs() < 0.01);
    assert_eq!(place.geo_precision, 1);
    // Without the hint too.
    assert_eq!(
        parse("Hommes armés à Bria", None).place.unwrap().country,
        "CAF"
    );
}

#[test]
fn arabic_attack() {
    // The gazetteer has Khartoum's Arabic name.
    let p = parse("هجوم في الخرطوم", Some("SDN"));
    assert_eq!(p.language, Lang::Ar);
    assert_eq!(p.category, Some(Category::Attack));
    let place = p.place.unwrap();
    assert_eq!(
        (place.name.as_str(), place.country.as_str()),
        ("Khartoum", "SDN")
    );
    assert_eq!(p.place_text.as_deref(), Some("الخرطوم"));
    // It has no Arabic name for Bangui (GeoNames lists only a Persian-script
    // spelling, بانگوئی), so this place stays unresolved, and says so.
    let p = parse("هجوم في بانغي", Some("CAF"));
    assert_eq!(p.language, Lang::Ar);
    assert_eq!(p.category, Some(Category::Attack));
    assert_eq!(p.place, None);
    assert!(p.unresolved_place);
    assert_eq!(p.place_text.as_deref(), Some("بانغي"));
    // Latin-script place in Arabic text.
    let p = parse("هجوم مسلح في Bangui", Some("CAF"));
    assert_eq!(p.language, Lang::Ar);
    assert_eq!(p.place.unwrap().name, "Bangui");
}

#[test]
fn swahili_attack_in_bangui() {
    let p = parse("SHAMBULIO Bangui watu 5 wameuawa", Some("CAF"));
    assert_eq!(p.language, Lang::Sw);
    assert_eq!(p.category, Some(Category::Attack));
    let place = p.place.unwrap();
    assert_eq!(
        (place.name.as_str(), place.country.as_str()),
        ("Bangui", "CAF")
    );
    // Free Swahili text, "near" lowers the precision.
    let p = parse(
        "Watu wenye silaha wameshambulia kijiji karibu na Beni usiku wa jana",
        Some("COD"),
    );
    assert_eq!(p.language, Lang::Sw);
    assert_eq!(p.category, None);
    let place = p.place.unwrap();
    assert_eq!(
        (place.name.as_str(), place.country.as_str()),
        ("Beni", "COD")
    );
    assert_eq!(place.geo_precision, 2);
}

#[test]
fn language_of_free_text() {
    for (text, lang) in [
        (
            "the men attacked the village this morning, please send help",
            Lang::En,
        ),
        ("Les hommes sont partis ce matin, tout va bien", Lang::Fr),
        ("watu wamekimbia asubuhi", Lang::Sw),
        ("اشتباكات مسلحة صباح اليوم", Lang::Ar),
        // A French speaker using an English code: the body decides.
        (
            "ATTACK les hommes armés ont tué 3 personnes ce matin",
            Lang::Fr,
        ),
    ] {
        assert_eq!(parse(text, None).language, lang, "{text}");
    }
    // No clue at all: the country's language.
    assert_eq!(parse("Bria", Some("CAF")).language, Lang::Fr);
    assert_eq!(parse("12", Some("TZA")).language, Lang::Sw);
    assert_eq!(parse("12", None).language, Lang::En);
}

#[test]
fn moto_is_a_code_only_in_swahili_context() {
    let p = parse("MOTO Bria nyumba 10 zimechomwa", Some("CAF"));
    assert_eq!(
        (p.category, p.language),
        (Some(Category::LootingBurning), Lang::Sw)
    );
    let p = parse("moto taxi attaqué à Bria par des hommes armés", Some("CAF"));
    assert_eq!((p.category, p.language), (None, Lang::Fr));
    let p = parse("MOTO TAXI ATTAQUE A BRIA PAR DES HOMMES", Some("CAF"));
    assert_eq!((p.category, p.language), (None, Lang::Fr));
}

#[test]
fn most_specific_place_wins() {
    let p = parse("Attaque à Bria, Haute-Kotto, Centrafrique", Some("CAF"));
    let place = p.place.unwrap();
    assert_eq!(place.name, "Bria");
    assert_eq!(p.place_text.as_deref(), Some("Bria"));
    let p = parse("Attack near Kaga-Bandoro this morning", Some("CAF"));
    assert_eq!(p.place_text.as_deref(), Some("Kaga-Bandoro"));
    assert_eq!(p.place.unwrap().geo_precision, 2);
}

#[test]
fn text_without_place() {
    for text in [
        "Les hommes sont partis ce matin, tout va bien",
        "the men attacked this morning, please send help",
        "ATTACK this morning 5 dead",
        "RUMOUR",
        "watu wamekimbia asubuhi",
        "il a pris la route du nord",
        "هجوم على سوق",
        "",
        "   ",
    ] {
        let p = parse(text, Some("CAF"));
        assert_eq!(p.place, None, "{text}");
        assert!(!p.unresolved_place, "{text}");
        assert_eq!(p.place_text, None, "{text}");
    }
}

#[test]
fn unknown_place_is_flagged() {
    for (text, name) in [
        ("ATTACK Zzyzxville", "Zzyzxville"),
        ("attack zzyzxville", "zzyzxville"),
        ("Armed men seen in Zzyzx Zorglub today", "Zzyzx Zorglub"),
        ("Attaque près de Zorglub ce matin", "Zorglub"),
        ("watu wameuawa karibu na Zzyzx", "Zzyzx"),
        ("Attaque a Zorglub", "Zorglub"),
        ("attaque à zorglub", "zorglub"),
        // Not in the gazetteer's Arabic names (El Fasher has none there).
        ("هجوم على الفاشر", "الفاشر"),
    ] {
        let p = parse(text, Some("CAF"));
        assert_eq!(p.place, None, "{text}");
        assert!(p.unresolved_place, "{text}");
        assert_eq!(p.place_text.as_deref(), Some(name), "{text}");
    }
}

#[test]
fn emoji_mixed_scripts_and_odd_text_do_not_panic() {
    for text in [
        "🔥🔥 ATTACK 🔥 Bria 😱",
        "ATTAQUE\u{200F}بريا\u{200E}Bria",
        "هجوم Bria 攻撃 Бриа",
        "\u{0}\u{1}\u{7f}",
        "ـــ",
        "\u{301}\u{64b}",
        "R-7KQ2MX",
        "é",
        "'''---...",
        "ATTACK\nBria",
        "👨‍👩‍👧‍👦 à 👨‍👩‍👧‍👦",
    ] {
        let _ = parse(text, Some("CAF"));
        let _ = parse(text, None);
    }
    let p = parse("🔥🔥 ATTACK 🔥 Bria 😱", Some("CAF"));
    assert_eq!(p.category, Some(Category::Attack));
    assert_eq!(p.place.unwrap().name, "Bria");
}

#[test]
fn long_texts_parse() {
    let unit = "Hommes armés vus près du marché, les gens fuient. ";
    let mut text = String::from("ATTAQUE Bria ");
    while text.len() < 10_000 {
        text.push_str(unit);
    }
    let p = parse(&text, Some("CAF"));
    assert_eq!(p.category, Some(Category::Attack));
    assert_eq!(p.language, Lang::Fr);
    assert_eq!(p.place.unwrap().name, "Bria");
    let arabic = "هجوم ".repeat(2_500);
    assert_eq!(parse(&arabic, None).language, Lang::Ar);
    let _ = parse(&"🙂".repeat(16_000), None);
}

#[test]
fn acknowledgements_fit_one_sms() {
    let refs: Vec<String> = (0..200u128)
        .map(|i| {
            reference_code(&uuid::Uuid::from_u128(
                i.wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835),
            ))
        })
        .chain(["R-ZZZZZZ".to_string(), "R-000000".to_string()])
        .collect();
    for lang in Lang::ALL {
        for r in &refs {
            let ack = ack_text(lang, r);
            assert!(ack.contains(r.as_str()), "{lang}: {ack}");
            match lang {
                Lang::Ar => {
                    assert_eq!(gsm7_septets(&ack), None);
                    let units = ack.encode_utf16().count();
                    assert!(units <= 70, "{units}: {ack}");
                }
                _ => {
                    let septets = gsm7_septets(&ack).unwrap_or_else(|| panic!("not GSM-7: {ack}"));
                    assert!(septets <= 160, "{septets}: {ack}");
                }
            }
        }
    }
    assert!(ack_text(Lang::En, "R-7KQ2MX").starts_with("Thank you"));
    assert!(ack_text(Lang::Fr, "R-7KQ2MX").starts_with("Merci"));
    assert!(ack_text(Lang::Sw, "R-7KQ2MX").starts_with("Asante"));
    assert!(ack_text(Lang::Ar, "R-7KQ2MX").starts_with("شكرا"));
}

#[test]
fn references_round_trip_with_confusables() {
    for i in 0..2_000u128 {
        let id = uuid::Uuid::from_u128(i.wrapping_mul(0x2545_f491_4f6c_dd1d_9e37_79b9_7f4a_7c15));
        let code = reference_code(&id);
        assert_eq!(code.len(), 8);
        assert!(code.starts_with("R-"));
        assert!(!code[2..].contains(['I', 'L', 'O', 'U']), "{code}");
        assert_eq!(parse_reference(&code).as_deref(), Some(code.as_str()));
        let typed = code.to_lowercase().replace('0', "o").replace('1', "l");
        assert_eq!(
            parse_reference(&typed).as_deref(),
            Some(code.as_str()),
            "{typed}"
        );
        let bare = code[2..].replace('1', "I");
        assert_eq!(
            parse_reference(&bare).as_deref(),
            Some(code.as_str()),
            "{bare}"
        );
        assert_eq!(
            find_reference(&format!("re {code}: more men came")).as_deref(),
            Some(code.as_str())
        );
    }
    let id = uuid::Uuid::now_v7();
    assert_eq!(reference_code(&id), reference_code(&id));
    for bad in [
        "",
        "R-",
        "R-ABCDE",
        "R-ABCDEFG",
        "R-ABCDEU",
        "R-ABC?EF",
        "X-ABCDEF",
        "R-ÀBCDEF",
    ] {
        assert_eq!(parse_reference(bad), None, "{bad}");
    }
}

#[test]
fn phone_numbers() {
    let ok = |raw: &str, cc: Option<&str>| normalize_phone(raw, cc);
    assert_eq!(ok("+236 70 01 23 45", None).as_deref(), Ok("+23670012345"));
    assert_eq!(ok("0023670012345", None).as_deref(), Ok("+23670012345"));
    assert_eq!(ok("070012345", Some("236")).as_deref(), Ok("+23670012345"));
    assert_eq!(
        ok("tel:+1-202-555-0100", None).as_deref(),
        Ok("+12025550100")
    );
    assert_eq!(ok("+1 (202) 555.0100", None).as_deref(), Ok("+12025550100"));
    assert_eq!(ok("202-555-0100", Some("1")).as_deref(), Ok("+12025550100"));
    assert_eq!(
        ok("+236 70 0I 23 45", None),
        Err(PhoneError::InvalidCharacter('I'))
    );
    assert_eq!(ok("+236 7001", None), Err(PhoneError::TooShort(7)));
    assert_eq!(ok("+2367001234567890", None), Err(PhoneError::TooLong(16)));
    assert_eq!(ok("070012345", None), Err(PhoneError::NoCallingCode));
    let e = ok("MTN-INFO", Some("236")).unwrap_err();
    assert_eq!(e, PhoneError::Alphanumeric);
    assert!(e.is_not_a_person());
    assert!(ok("8888", Some("236")).unwrap_err().is_not_a_person());
}

#[test]
fn parsed_serialises_with_codes() {
    let p = parse("ATTAQUE Bria", Some("CAF"));
    let json = serde_json::to_value(&p).unwrap();
    assert_eq!(json["language"], "fr");
    assert_eq!(json["category"], "attack");
    assert_eq!(json["place"]["country"], "CAF");
}
