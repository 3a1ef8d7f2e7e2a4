//! Behaviour a user of the gazetteer notices, on the real embedded data.

use tocsin_geo::{
    country_code, country_from_gw, find_in_text, geo_precision, lookup, reverse, CountrySource,
    Gazetteer, MatchKind,
};

// --- country codes -------------------------------------------------------------------

#[test]
fn country_codes_in_every_form_resolve_to_alpha3() {
    for s in [
        "CF",
        "cf",
        "CAF",
        "caf",
        "140",
        "GW 482",
        "gw:482",
        "Central African Republic",
        "central african republic",
        "CAR",
        "RCA",
        "Centrafrique",
        "République centrafricaine",
        "Jamhuri ya Afrika ya Kati",
    ] {
        assert_eq!(country_code(s), Some("CAF"), "{s}");
    }
    assert_eq!(country_from_gw(482), Some("CAF"));
}

#[test]
fn country_name_variants() {
    let cases = [
        ("Côte d’Ivoire", "CIV"),
        ("Côte d'Ivoire", "CIV"),
        ("COTE D'IVOIRE", "CIV"),
        ("Ivory Coast", "CIV"),
        ("DR Congo", "COD"),
        ("Congo, DRC", "COD"),
        ("Democratic Republic of the Congo", "COD"),
        ("DR Congo (Zaire)", "COD"),
        ("Congo", "COG"),
        ("Myanmar (Burma)", "MMR"),
        ("Burma", "MMR"),
        ("Russia (Soviet Union)", "RUS"),
        ("Yemen (North Yemen)", "YEM"),
        ("Serbia (Yugoslavia)", "SRB"),
        ("Kosovo", "XKX"),
        ("XK", "XKX"),
        ("South Sudan", "SSD"),
        ("Soudan du Sud", "SSD"),
        ("السودان", "SDN"),
        ("Iran", "IRN"),
        ("Iran, Islamic Republic of", "IRN"),
        ("United States of America", "USA"),
        ("Tanzania", "TZA"),
        ("Bosnia-Herzegovina", "BIH"),
        ("Kingdom of eSwatini (Swaziland)", "SWZ"),
        ("004", "AFG"),
        ("4", "AFG"),
        ("COW 679", "YEM"),
    ];
    for (s, want) in cases {
        assert_eq!(country_code(s), Some(want), "{s}");
    }
}

#[test]
fn gw_numbers_as_ucdp_writes_them() {
    for (gw, iso) in [
        (2, "USA"),
        (140, "BRA"),
        (260, "DEU"),
        (345, "SRB"),
        (347, "XKX"),
        (365, "RUS"),
        (490, "COD"),
        (484, "COG"),
        (625, "SDN"),
        (626, "SSD"),
        (678, "YEM"),
        (771, "BGD"),
        (775, "MMR"),
        (816, "VNM"),
    ] {
        assert_eq!(country_from_gw(gw), Some(iso), "GW {gw}");
    }
    assert_eq!(country_from_gw(315), None, "Czechoslovakia is split");
    assert_eq!(country_from_gw(999), None);
}

#[test]
fn unknown_country_strings_give_none() {
    for s in [
        "", "  ", "Atlantis", "999", "625, 626", "GW 999", "ZZ", "ZZZ",
    ] {
        assert_eq!(country_code(s), None, "{s:?}");
    }
}

// --- forward lookup ------------------------------------------------------------------

#[test]
fn bangui_resolves_to_the_capital_of_car_with_admin1() {
    let hits = lookup("Bangui", None);
    let top = &hits[0];
    assert_eq!(top.name, "Bangui");
    assert_eq!(top.country, "CAF");
    assert_eq!(top.kind, MatchKind::Place);
    assert_eq!(top.feature_code, "PPLC");
    assert_eq!(top.admin1, Some("Bangui"));
    assert!(top.exact);
    assert!((top.lat - 4.3612).abs() < 0.01 && (top.lon - 18.555).abs() < 0.01);
    assert!(top.population > 500_000);
    assert_eq!(top.geonames_id, Some(2389853));
}

#[test]
fn lookup_ignores_case() {
    let a = lookup("Bangui", Some("CAF"));
    assert_eq!(a, lookup("bangui", Some("CAF")));
    assert_eq!(a, lookup("BANGUI", Some("CAF")));
    assert_eq!(a, lookup("  bangui ", Some("CAF")));
}

#[test]
fn lookup_ignores_diacritics() {
    let with = lookup("Ndélé", Some("CAF"));
    let without = lookup("Ndele", Some("CAF"));
    assert_eq!(with, without);
    assert_eq!(with[0].name, "Ndélé");
    assert_eq!(with[0].ascii_name, "Ndele");
    assert_eq!(with[0].country, "CAF");
    assert_eq!(with[0].admin1, Some("Bamingui-Bangoran"));
    let b = lookup("BAMBARI", None);
    assert_eq!(b[0].country, "CAF");
    assert_eq!(b[0].admin1, Some("Ouaka"));
    assert_eq!(lookup("Mbaiki", None)[0].name, "Mbaïki");
}

#[test]
fn lookup_matches_arabic_script_names() {
    for q in ["الخرطوم", "خرطوم", "الخُرْطُوم"] {
        let hits = lookup(q, None);
        assert!(!hits.is_empty(), "{q}");
        assert_eq!(hits[0].name, "Khartoum", "{q}");
        assert_eq!(hits[0].country, "SDN", "{q}");
        assert!(!hits[0].exact, "found through an alternate name");
    }
}

#[test]
fn lookup_matches_alternate_latin_names() {
    let hits = lookup("Fort-Lamy", None);
    assert_eq!(hits[0].name, "N'Djamena");
    assert_eq!(hits[0].country, "TCD");
}

#[test]
fn country_hint_puts_that_country_first() {
    // There is a Bria in the Central African Republic and places named Bria elsewhere?
    // Use a name shared across countries: "Kabo" (CAF) vs others, via the hint order.
    let hits = lookup("Paoua", Some("CAF"));
    assert_eq!(hits[0].country, "CAF");
    let any = lookup("San Jose", None);
    assert!(any.len() > 3);
    let hinted = lookup("San Jose", Some("Philippines"));
    assert_eq!(hinted[0].country, "PHL");
    assert!(any.len() <= 50);
}

#[test]
fn lookup_finds_admin_areas_and_countries() {
    let hits = lookup("Haute-Kotto", None);
    let c = hits
        .iter()
        .find(|c| c.kind == MatchKind::Admin1)
        .expect("admin1");
    assert_eq!(c.country, "CAF");
    assert_eq!(c.feature_code, "ADM1");
    assert_eq!(c.geonames_id, None);
    assert_eq!(c.geo_precision(), 3);
    // The representative point is the prefecture seat, Bria.
    assert!((c.lat - 6.54).abs() < 0.05 && (c.lon - 21.99).abs() < 0.05);

    let hits = lookup("Centrafrique", None);
    assert_eq!(hits[0].kind, MatchKind::Country);
    assert_eq!(hits[0].country, "CAF");
}

#[test]
fn lookup_with_a_qualifier_after_a_comma() {
    let hits = lookup("Bria, Haute-Kotto", None);
    assert_eq!(hits[0].name, "Bria");
    assert_eq!(hits[0].country, "CAF");
    let hits = lookup("San Jose, Philippines", None);
    assert_eq!(hits[0].country, "PHL");
    assert!(lookup("Xyzzyville, CAR", None).is_empty());
}

#[test]
fn lookup_of_unknown_names_is_empty() {
    assert!(lookup("Xyzzyville", None).is_empty());
    assert!(lookup("", None).is_empty());
    assert!(lookup("!!!", None).is_empty());
}

#[test]
fn by_geonames_id() {
    let g = Gazetteer::global();
    assert_eq!(g.by_geonames_id(239899).unwrap().name, "Bria");
    assert!(g.by_geonames_id(1).is_none());
}

// --- places in free text -------------------------------------------------------------

#[test]
fn finds_bria_in_a_french_sms() {
    let text = "Hommes armés à Bria ce matin";
    let found = find_in_text(text, None);
    assert_eq!(found.len(), 1, "{found:?}");
    let m = &found[0];
    assert_eq!(&text[m.start..m.end], "Bria");
    assert_eq!(m.candidates[0].country, "CAF");
    assert_eq!(m.candidates[0].admin1, Some("Haute-Kotto"));
    assert_eq!(m.kind, MatchKind::Place);
    assert!(!m.near);
    assert_eq!(m.geo_precision(), 1);
    // Same with the hint, and in an all-lowercase SMS.
    assert_eq!(find_in_text(text, Some("CF")).len(), 1);
    let lower = find_in_text("hommes armes a bria ce matin", Some("CAF"));
    assert_eq!(lower.len(), 1);
    assert_eq!(lower[0].candidates[0].name, "Bria");
}

#[test]
fn finds_an_arabic_city_name_in_arabic_text() {
    let text = "اشتباكات مسلحة في الخرطوم صباح اليوم";
    let found = find_in_text(text, None);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(&text[found[0].start..found[0].end], "الخرطوم");
    assert_eq!(found[0].candidates[0].name, "Khartoum");
    assert_eq!(found[0].candidates[0].country, "SDN");
    // Glued preposition: "in Khartoum".
    let glued = find_in_text("اشتباكات بالخرطوم", Some("SDN"));
    assert_eq!(glued.len(), 1, "{glued:?}");
    assert_eq!(glued[0].candidates[0].name, "Khartoum");
}

#[test]
fn text_without_a_place_gives_nothing() {
    for text in [
        "",
        "   ",
        "Les hommes sont partis ce matin, tout va bien",
        "the men attacked the village this morning, please send help",
        "watu wamekimbia asubuhi",
        "ok",
        "😀🔥",
    ] {
        assert!(
            find_in_text(text, Some("CAF")).is_empty(),
            "{text:?}: {:?}",
            find_in_text(text, Some("CAF"))
        );
    }
}

#[test]
fn common_words_are_not_places() {
    // "Man" (Côte d'Ivoire), "Police" (Poland), "Moto" ... are GeoNames places.
    let found = find_in_text("A man and the police came by moto", None);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn longest_match_wins_and_diacritics_do_not_matter() {
    let text = "Attaque près de Kaga-Bandoro et à Ndele";
    let found = find_in_text(text, Some("CAF"));
    let names: Vec<&str> = found.iter().map(|m| &text[m.start..m.end]).collect();
    assert_eq!(names, ["Kaga-Bandoro", "Ndele"]);
    assert_eq!(found[0].candidates[0].name, "Kaga Bandoro");
    assert!(found[0].near);
    assert_eq!(found[0].geo_precision(), 2);
    assert_eq!(found[1].candidates[0].name, "Ndélé");
    assert!(!found[1].near);
}

#[test]
fn short_lowercase_words_in_mixed_case_text_are_skipped() {
    // "bria" lower-case inside a properly cased sentence is not taken.
    let found = find_in_text("Ils ont vu bria hier. Rien à Bambari", Some("CAF"));
    let names: Vec<&str> = found.iter().map(|m| m.candidates[0].name).collect();
    assert_eq!(names, ["Bambari"]);
}

#[test]
fn prefectures_and_countries_in_text() {
    let text = "Violences dans la Haute-Kotto, Centrafrique";
    let found = find_in_text(text, None);
    let kinds: Vec<MatchKind> = found.iter().map(|m| m.kind).collect();
    assert_eq!(kinds, [MatchKind::Admin1, MatchKind::Country], "{found:?}");
    assert_eq!(found[0].geo_precision(), 3);
    // Abbreviations only in capitals.
    let found = find_in_text("Fighting in the CAR and DRC", None);
    let isos: Vec<&str> = found.iter().map(|m| m.candidates[0].country).collect();
    assert_eq!(isos, ["CAF", "COD"]);
    assert!(find_in_text("The car was burned", None).is_empty());
}

#[test]
fn a_place_named_like_a_common_word_needs_a_capital_mid_sentence_and_the_hint() {
    let found = find_in_text("Attaque à Man hier soir", Some("CIV"));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].candidates[0].name, "Man");
    assert_eq!(found[0].candidates[0].country, "CIV");
    assert!(find_in_text("Attaque à Man hier soir", None).is_empty());
    assert!(find_in_text("A man came with a gun", Some("CIV")).is_empty());
    assert!(
        find_in_text("Man attaqué hier", Some("CIV")).is_empty(),
        "sentence start"
    );
}

#[test]
fn lower_case_words_in_cased_text_are_not_foreign_places() {
    // "lourdes" (heavy) is also Lourdes, France.
    let text = "Groupe armé vu avec armes lourdes, direction Batangafo.";
    let names: Vec<&str> = find_in_text(text, None)
        .iter()
        .map(|m| m.candidates[0].name)
        .collect();
    assert_eq!(names, ["Batangafo"]);
}

#[test]
fn apostrophes_inside_names() {
    assert_eq!(lookup("Ta'if", None)[0].country, "SAU");
    assert_eq!(lookup("Taif", None)[0].country, "SAU");
    let found = find_in_text("Clashes reported in Port Said and Ta’if", None);
    let names: Vec<&str> = found.iter().map(|m| m.candidates[0].name).collect();
    assert_eq!(names, ["Port Said", "Ta’if"]);
    let found = find_in_text("Les réfugiés sont partis d'Obo vers Zemio", Some("CAF"));
    let names: Vec<&str> = found.iter().map(|m| m.candidates[0].name).collect();
    assert_eq!(names, ["Obo", "Zemio"]);
}

#[test]
fn an_admin1_beats_a_village_of_the_same_name() {
    let hits = lookup("Borno", None);
    assert_eq!(hits[0].kind, MatchKind::Admin1);
    assert_eq!(hits[0].country, "NGA");
    // ...but a city beats the province it is the seat of.
    let hits = lookup("Gao", None);
    assert_eq!(hits[0].kind, MatchKind::Place);
    assert_eq!(hits[0].country, "MLI");
}

#[test]
fn match_spans_are_byte_offsets_into_the_original() {
    let text = "🔥 ATTAQUE à Bambari!!";
    let found = find_in_text(text, Some("CAF"));
    assert_eq!(found.len(), 1);
    assert_eq!(&text[found[0].start..found[0].end], "Bambari");
}

// --- reverse geocoding ---------------------------------------------------------------

#[test]
fn a_point_in_car_is_in_car() {
    // Between Bambari and Bria.
    let p = reverse(6.0, 21.0).expect("in CAR");
    assert_eq!(p.country, "CAF");
    assert_eq!(p.country_source, CountrySource::Polygon);
    assert!(p.admin1.is_some());
    assert_eq!(p.nearest.country, "CAF");
    assert!(p.distance_km > 0.0 && p.distance_km < 150.0);
}

#[test]
fn a_point_at_bangui_is_bangui() {
    let p = reverse(4.3612, 18.555).expect("Bangui");
    assert_eq!(p.country, "CAF");
    assert_eq!(p.nearest.name, "Bangui");
    assert_eq!(p.admin1, Some("Bangui"));
    assert!(p.distance_km < 1.0);
}

#[test]
fn reverse_names_the_nearest_place_with_its_distance() {
    // About 10 km east of Bria.
    let p = reverse(6.5423, 22.077).expect("near Bria");
    assert_eq!(p.country, "CAF");
    assert_eq!(p.nearest.name, "Bria");
    assert!((8.0..12.0).contains(&p.distance_km), "{}", p.distance_km);
    assert_eq!(p.admin1, Some("Haute-Kotto"));
}

#[test]
fn a_point_in_the_open_ocean_is_nowhere() {
    assert_eq!(reverse(0.0, -30.0), None, "mid-Atlantic");
    assert_eq!(reverse(-40.0, -120.0), None, "South Pacific");
    assert_eq!(reverse(10.0, 65.0), None, "Arabian Sea");
}

#[test]
fn invalid_coordinates_are_nowhere() {
    assert_eq!(reverse(91.0, 0.0), None);
    assert_eq!(reverse(0.0, 181.0), None);
    assert_eq!(reverse(f64::NAN, 0.0), None);
}

#[test]
fn reverse_elsewhere() {
    for (lat, lon, want) in [
        (15.5518, 32.5324, "SDN"), // Khartoum
        (-4.3217, 15.3125, "COD"), // Kinshasa
        (-4.2634, 15.2429, "COG"), // Brazzaville, across the river
        (12.1348, 15.0557, "TCD"), // N'Djamena
        (42.6629, 21.1655, "XKX"), // Pristina
        (64.73, 177.5, "RUS"),     // Anadyr, Chukotka (east of 180° in the outline)
        (-17.8, 178.0, "FJI"),     // Fiji
        (-77.85, 166.67, "ATA"),   // McMurdo, Antarctica
        (9.56, 44.06, "SOM"),      // Hargeisa (Somaliland in Natural Earth)
    ] {
        let p = reverse(lat, lon).unwrap_or_else(|| panic!("{lat},{lon}"));
        assert_eq!(p.country, want, "{lat},{lon}: {p:?}");
    }
}

#[test]
fn a_point_just_off_a_coast_takes_the_nearest_place() {
    // In the sea a few km off Dakar.
    let p = reverse(14.69, -17.50).expect("off Dakar");
    assert_eq!(p.country, "SEN");
}

// --- precision -----------------------------------------------------------------------

#[test]
fn acled_geo_precision() {
    assert_eq!(geo_precision(MatchKind::Place, false), 1);
    assert_eq!(geo_precision(MatchKind::Place, true), 2);
    assert_eq!(geo_precision(MatchKind::Admin2, false), 2);
    assert_eq!(geo_precision(MatchKind::Admin1, false), 3);
    assert_eq!(geo_precision(MatchKind::Country, true), 3);
}

#[test]
fn gazetteer_can_be_shared() {
    fn is_send_sync<T: Send + Sync>() {}
    is_send_sync::<Gazetteer>();
    let g = Gazetteer::global();
    assert!(g.place_count() > 130_000);
    assert!(g.name_count() > 300_000);
}

// --- first-level area names ------------------------------------------------------------

#[test]
fn admin1_names_as_typed_resolve_to_the_gazetteers() {
    use tocsin_geo::Admin1Match::{Found, Unknown};
    let g = Gazetteer::global();
    // Case, diacritics, punctuation; the country in any form.
    assert_eq!(
        g.admin1_named("CAF", "mambéré-kadéï"),
        Found("Mambere-Kadei")
    );
    assert_eq!(g.admin1_named("CF", "OUAKA"), Found("Ouaka"));
    assert_eq!(
        g.admin1_named("Central African Republic", "haute kotto"),
        Found("Haute-Kotto")
    );
    // Words naming the kind of area, and compass words in four languages.
    assert_eq!(
        g.admin1_named("CAF", "Préfecture de la Ouaka"),
        Found("Ouaka")
    );
    assert_eq!(g.admin1_named("CAF", "Ouaka Prefecture"), Found("Ouaka"));
    assert_eq!(g.admin1_named("COD", "North Kivu"), Found("Nord Kivu"));
    assert_eq!(g.admin1_named("COD", "Kivu Kaskazini"), Found("Nord Kivu"));
    assert_eq!(g.admin1_named("COD", "Sud-Kivu"), Found("South Kivu"));
    assert_eq!(g.admin1_named("BFA", "Sud-Ouest"), Found("Southwest"));
    // GeoNames gives several codes one name: still one area.
    assert_eq!(g.admin1_named("COD", "katanga"), Found("Katanga"));

    // A town is not an area: its area is suggested. A misspelling: the closest names.
    match g.admin1_named("CAF", "Bambari") {
        Unknown { suggestions } => assert_eq!(suggestions.first(), Some(&"Ouaka")),
        other => panic!("{other:?}"),
    }
    match g.admin1_named("CAF", "Ouakka") {
        Unknown { suggestions } => assert!(suggestions.contains(&"Ouaka"), "{suggestions:?}"),
        other => panic!("{other:?}"),
    }
    // The right name in the wrong country; an unknown country; nothing typed.
    assert!(matches!(g.admin1_named("TCD", "Ouaka"), Unknown { .. }));
    assert_eq!(
        g.admin1_named("XXX", "Ouaka"),
        Unknown {
            suggestions: vec![]
        }
    );
    assert!(matches!(g.admin1_named("CAF", " - "), Unknown { .. }));
}
