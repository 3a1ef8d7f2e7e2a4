//! The languages Tocsin reads and answers SMS in: [`Lang`] is the domain's
//! (`tocsin_domain::Lang`), re-exported here with the fallback by country.

pub use tocsin_domain::Lang;

/// The language an acknowledgement falls back to when a message says
/// nothing about its language (only a place name, say): the main
/// language of SMS in the country of `country_hint` (any form
/// [`tocsin_geo::country_code`] accepts), else English. French for the
/// francophone countries of Africa and Haiti, Arabic for the Arab
/// League's Arabic-speaking members, Swahili for Tanzania.
pub fn default_for_country(country_hint: Option<&str>) -> Lang {
    const FR: &[&str] = &[
        "BDI", "BEN", "BFA", "CAF", "CIV", "CMR", "COD", "COG", "COM", "DJI", "FRA", "GAB", "GIN",
        "HTI", "MDG", "MLI", "NER", "SEN", "TCD", "TGO",
    ];
    const AR: &[&str] = &[
        "ARE", "BHR", "DZA", "EGY", "IRQ", "JOR", "KWT", "LBN", "LBY", "MAR", "MRT", "OMN", "PSE",
        "QAT", "SAU", "SDN", "SYR", "TUN", "YEM",
    ];
    const SW: &[&str] = &["TZA"];
    match country_hint.and_then(tocsin_geo::country_code) {
        Some(c) if FR.contains(&c) => Lang::Fr,
        Some(c) if AR.contains(&c) => Lang::Ar,
        Some(c) if SW.contains(&c) => Lang::Sw,
        _ => Lang::En,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn country_defaults() {
        assert_eq!(default_for_country(Some("CF")), Lang::Fr);
        assert_eq!(default_for_country(Some("SDN")), Lang::Ar);
        assert_eq!(default_for_country(Some("TZ")), Lang::Sw);
        assert_eq!(default_for_country(Some("KEN")), Lang::En);
        assert_eq!(default_for_country(Some("nowhere")), Lang::En);
        assert_eq!(default_for_country(None), Lang::En);
    }
}
