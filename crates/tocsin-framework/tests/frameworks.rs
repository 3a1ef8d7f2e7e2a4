//! The shipped frameworks load and keep their integrity; broken files are refused.

use tocsin_framework::{Framework, FrameworkError, Status};

#[test]
fn un_framework_structure_and_marks() {
    let f = Framework::un_2014();
    assert_eq!(f.risk_factors.len(), 14);
    let groups: Vec<&str> = f.risk_factors.iter().map(|r| r.group.as_str()).collect();
    assert!(groups[..8].iter().all(|g| *g == "common"));
    assert_eq!(
        &groups[8..],
        [
            "genocide",
            "genocide",
            "crimes_against_humanity",
            "crimes_against_humanity",
            "war_crimes",
            "war_crimes"
        ]
    );
    assert_eq!(
        f.risk_factors[0].name,
        "Situations of armed conflict or other forms of instability"
    );
    assert_eq!(f.risk_factors[7].name, "Triggering factors");
    // 109 indicators held, with the marks of the notes' count table: 37 S, 2 S-part, 70 R.
    let count = |s: Status| f.indicators().filter(|(_, i)| i.status == s).count();
    assert_eq!(f.indicators().count(), 109);
    assert_eq!(
        (
            count(Status::Verified),
            count(Status::PartlyVerified),
            count(Status::Recalled)
        ),
        (37, 2, 70)
    );
    let per: Vec<usize> = f.risk_factors.iter().map(|r| r.indicators.len()).collect();
    assert_eq!(per, [11, 8, 10, 8, 8, 11, 14, 12, 6, 4, 4, 3, 10, 0]);
    // Missing indicators are recorded as gaps, never invented.
    assert!(f.risk_factors[13].indicators.is_empty() && !f.risk_factors[13].gaps.is_empty());
    assert_eq!(
        f.risk_factors.iter().filter(|r| !r.gaps.is_empty()).count(),
        5
    );
    // Every indicator is traceable to its factor.
    for (rf, ind) in f.indicators() {
        assert!(ind.number.starts_with(&format!("{}.", rf.number)));
        assert_eq!(f.indicator(&ind.number).unwrap().0.number, rf.number);
    }
    assert_eq!(f.indicator("9.6").unwrap().1.status, Status::Verified);
    assert!(f.indicator("14.1").is_none() && f.indicator("x").is_none());
}

#[test]
fn another_framework_loads_from_a_file() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../frameworks/osapg-2009.toml"
    ))
    .unwrap();
    let f = Framework::parse(&text).unwrap();
    assert_eq!((f.id.as_str(), f.risk_factors.len()), ("osapg-2009", 8));
    assert_eq!(f.risk_factors[7].name, "Triggering factors");
}

#[test]
fn broken_numbering_is_refused() {
    let base = "id = \"x\"\nname = \"X\"\npublisher = \"p\"\nedition = \"1\"\n";
    let rf = |n: u32, inds: &[&str]| {
        let mut s = format!("[[risk_factors]]\nnumber = {n}\nname = \"RF{n}\"\ngroup = \"common\"\ndescription = \"d\"\n");
        for i in inds {
            s += &format!(
                "[[risk_factors.indicators]]\nnumber = \"{i}\"\ntext = \"t\"\nstatus = \"R\"\n"
            );
        }
        s
    };
    assert!(Framework::parse(&format!(
        "{base}{}{}",
        rf(1, &["1.1", "1.2"]),
        rf(2, &["2.1"])
    ))
    .is_ok());
    for (body, what) in [
        (format!("{}{}", rf(1, &["1.1"]), rf(3, &[])), "out of order"),
        (format!("{}{}", rf(1, &["1.1"]), rf(1, &[])), "out of order"),
        (rf(1, &["1.1", "1.1"]), "numbered 1.2"),
        (rf(1, &["2.1"]), "numbered 1.1"),
        (rf(1, &["1.2"]), "numbered 1.1"),
    ] {
        match Framework::parse(&format!("{base}{body}")) {
            Err(FrameworkError::Invalid(m)) => assert!(m.contains(what), "{m}"),
            other => panic!("{what}: {other:?}"),
        }
    }
    let bad_mark = format!("{base}{}", rf(1, &["1.1"]).replace("\"R\"", "\"maybe\""));
    assert!(matches!(
        Framework::parse(&bad_mark),
        Err(FrameworkError::Syntax(_))
    ));
    assert!(matches!(
        Framework::parse("not toml ["),
        Err(FrameworkError::Syntax(_))
    ));
}

#[test]
fn evidence_map_is_checked_against_its_framework() {
    use tocsin_framework::EvidenceMap;
    let fw = Framework::un_2014();
    let m = EvidenceMap::un_2014();
    assert!(m.rules.len() >= 20);
    assert!(m.rules.iter().any(|r| r.indicator == "7.9"));
    let bad =
        "framework = \"un-foa-2014\"\n[[rules]]\nindicator = \"7.99\"\ntag = \"x\"\nwhy = \"x\"\n";
    let e = EvidenceMap::parse(bad, &fw).unwrap_err();
    assert!(e.to_string().contains("7.99"), "{e}");
    let everything = "framework = \"un-foa-2014\"\n[[rules]]\nindicator = \"7.9\"\nwhy = \"x\"\n";
    assert!(EvidenceMap::parse(everything, &fw)
        .unwrap_err()
        .to_string()
        .contains("no condition"));
    let other = "framework = \"osapg-2009\"\nrules = []\n";
    assert!(EvidenceMap::parse(other, &fw).is_err());
}

#[test]
fn risk_factor_names_exist_in_french_swahili_and_arabic() {
    use tocsin_framework::FactorNames;
    let fw = Framework::un_2014();
    let names = FactorNames::shipped(&fw).expect("the UN framework has translations");
    for lang in ["fr", "sw", "ar"] {
        for n in 1..=fw.risk_factors.len() as u32 {
            let t = fw.factor_name(Some(&names), n, lang).unwrap();
            assert_ne!(t, fw.risk_factors[n as usize - 1].name, "{lang} {n}");
        }
    }
    assert_eq!(
        fw.factor_name(Some(&names), 3, "fr"),
        Some("Faiblesse des structures de l'État")
    );
    assert_eq!(
        fw.factor_name(Some(&names), 3, "ar"),
        Some("ضعف هياكل الدولة")
    );
    // English, or a language without translations: the framework's own name.
    assert_eq!(
        fw.factor_name(Some(&names), 3, "en"),
        Some("Weakness of State structures")
    );
    assert_eq!(fw.factor_name(None, 8, "ar"), Some("Triggering factors"));
    assert_eq!(fw.factor_name(Some(&names), 15, "fr"), None);
    assert_eq!(fw.factor_name(Some(&names), 0, "fr"), None);
    assert!(FactorNames::shipped(&Framework::osapg_2009()).is_none());

    // A list that misses a factor, or names one empty, is refused naming the language.
    let short = "framework = \"un-foa-2014\"\nstatus = \"R\"\nfr = [\"a\"]\n";
    let e = FactorNames::parse(short, &fw).unwrap_err();
    assert!(e.to_string().contains("fr: 1 names for 14"), "{e}");
    let mut empty: Vec<String> = (1..=14).map(|i| format!("\"f{i}\"")).collect();
    empty[4] = "\" \"".into();
    let text = format!(
        "framework = \"un-foa-2014\"\nstatus = \"R\"\nsw = [{}]\n",
        empty.join(",")
    );
    let e = FactorNames::parse(&text, &fw).unwrap_err();
    assert!(e.to_string().contains("sw: risk factor 5"), "{e}");
    let other = "framework = \"osapg-2009\"\nstatus = \"R\"\n";
    assert!(FactorNames::parse(other, &fw).is_err());
}
