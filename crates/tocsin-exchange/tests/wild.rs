//! Event files as other people's tools write them (R, pandas, spreadsheets, HDX, older ACLED
//! layouts, other encodings and line endings, compressed downloads, GDELT 1.0): each
//! hand-written file under `tests/fixtures/wild` is read and the stored values checked.

use std::io::Cursor;
use std::path::PathBuf;
use tocsin_domain::Incident;
use tocsin_exchange::{
    read, read_file, Format, ImportError, ImportOptions, IsoOnly, ReadInfo, Row,
};

struct Outcome {
    incidents: Vec<Incident>,
    rejected: Vec<(u64, String)>,
    skipped: usize,
    info: ReadInfo,
}

impl Outcome {
    fn by(&self, id: &str) -> &Incident {
        self.incidents
            .iter()
            .find(|i| i.external_id.as_deref() == Some(id))
            .unwrap_or_else(|| panic!("no incident {id}: rejected {:?}", self.rejected))
    }
}

fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/wild")
        .join(name)
}

fn import(format: Option<Format>, name: &str, opts: ImportOptions) -> Result<Outcome, ImportError> {
    let f = std::fs::File::open(path(name)).unwrap();
    import_from(format, f, opts)
}

fn import_from<R: std::io::Read + std::io::Seek>(
    format: Option<Format>,
    f: R,
    opts: ImportOptions,
) -> Result<Outcome, ImportError> {
    let mut incidents = vec![];
    let mut rejected = vec![];
    let mut skipped = 0;
    let info = read_file(format, f, &opts, &IsoOnly, &mut |row| {
        match row {
            Row::Incident(i) => incidents.push(*i),
            Row::Rejected { line, reason } => rejected.push((line, reason)),
            Row::Skipped => skipped += 1,
        }
        Ok(())
    })?;
    Ok(Outcome {
        incidents,
        rejected,
        skipped,
        info,
    })
}

fn acled(name: &str) -> Outcome {
    import(Some(Format::Acled), name, ImportOptions::new(Format::Acled)).unwrap()
}

#[test]
fn r_style_na_is_missing_and_civilian_targeting_is_acleds_own_value_only() {
    let out = acled("acled_r_na.csv");
    assert!(out.rejected.is_empty(), "{:?}", out.rejected);
    assert_eq!(out.incidents.len(), 3);
    let attack = out.by("BFA100");
    assert_eq!(attack.targeted_group.as_deref(), Some("civilians"));
    assert_eq!(attack.actor2.as_deref(), Some("Civilians (Burkina Faso)"));
    assert_eq!(attack.fatalities, 12);
    let clash = out.by("BFA101");
    assert_eq!(clash.targeted_group, None, "NA is not civilian targeting");
    assert_eq!(clash.actor2, None, "NA is not an actor's name");
    assert_eq!(clash.admin2, None);
    assert_eq!(clash.description, "", "NA notes are no description");
    let arrest = out.by("BFA102");
    assert_eq!(arrest.targeted_group, None);
    assert_eq!(
        arrest.country.code(),
        "BFA",
        "iso NA: the country name serves"
    );
    assert_eq!(arrest.date_precision, 1, "time_precision NA: the default");
    assert_eq!(
        out.incidents
            .iter()
            .filter(|i| i.targeted_group.is_some())
            .count(),
        1
    );
}

#[test]
fn spreadsheet_dates_are_read_and_ambiguous_ones_only_with_a_format() {
    let out = acled("acled_spreadsheet_dates.csv");
    for id in ["MLI1", "MLI2", "MLI3"] {
        assert_eq!(out.by(id).event_date.to_string(), "2020-05-09", "{id}");
    }
    assert_eq!(out.rejected.len(), 1);
    assert_eq!(out.rejected[0].0, 5);
    assert!(
        out.rejected[0].1.contains("\"05/09/2020\"") && out.rejected[0].1.contains("--date-format"),
        "{:?}",
        out.rejected
    );
    let mut opts = ImportOptions::new(Format::Acled);
    opts.date_format = Some("%m/%d/%Y".into());
    let out = import(Some(Format::Acled), "acled_spreadsheet_dates.csv", opts).unwrap();
    assert_eq!(out.by("MLI4").event_date.to_string(), "2020-05-09");
    // With an explicit format, only that format is read (ISO dates excepted).
    assert_eq!(out.rejected.len(), 3, "{:?}", out.rejected);
}

#[test]
fn hdx_ucdp_saved_by_pandas_reads_through_import_ucdp_and_hxl() {
    let out = import(
        Some(Format::Ucdp),
        "ucdp_hdx_pandas.csv",
        ImportOptions::new(Format::Ucdp),
    )
    .unwrap();
    assert!(out.rejected.is_empty(), "{:?}", out.rejected);
    assert_eq!(
        out.incidents.len(),
        2,
        "the tag row (index 0) is not an event"
    );
    let e = out.by("71663");
    assert_eq!(e.event_date.to_string(), "2013-12-13");
    assert_eq!(
        (e.fatalities, e.fatalities_low, e.fatalities_high),
        (1, Some(1), Some(3))
    );
    assert_eq!(e.violence_type, Some(2));
    assert_eq!(e.country.code(), "BGD");
    assert_eq!(e.date_precision, 1);
    assert_eq!(e.actor2.as_deref(), Some("Supporters of BNP"));
    let c = out.by("73855");
    assert_eq!(
        (c.event_type.as_str(), c.targeted_group.as_deref()),
        ("Violence against civilians", Some("civilians"))
    );
    assert_eq!(c.admin2, None);

    // Through `import hxl`: the event date is #date+start (never #date+year), the identity is
    // UCDP's id column, the type comes from type_of_violence.
    let hxl =
        |name: &str| import(Some(Format::Hxl), name, ImportOptions::new(Format::Hxl)).unwrap();
    let first = hxl("ucdp_hdx_pandas.csv");
    assert!(first.rejected.is_empty(), "{:?}", first.rejected);
    assert_eq!(first.incidents.len(), 2);
    let e = first.by("71663");
    assert_eq!(e.event_date.to_string(), "2013-12-13");
    assert_eq!(e.fatalities, 1);
    assert_eq!(
        (e.event_type.as_str(), e.sub_event_type.as_str()),
        ("Battles", "Armed clash")
    );
    assert_eq!(e.location.as_deref(), Some("Bhāndāria town"));
    // The corrected file keeps the identity, so a re-import updates instead of duplicating.
    let corrected = hxl("ucdp_hdx_pandas_corrected.csv");
    assert_eq!(corrected.by("71663").fatalities, 4);
    let ids = |o: &Outcome| {
        let mut v: Vec<String> = o
            .incidents
            .iter()
            .filter_map(|i| i.external_id.clone())
            .collect();
        v.sort();
        v
    };
    assert_eq!(ids(&first), ids(&corrected));

    // `#date+year+start` is a year, not the event date.
    let y = hxl("hxl_date_year.csv");
    assert!(y.rejected.is_empty(), "{:?}", y.rejected);
    let e = y.by("501");
    assert_eq!(e.event_date.to_string(), "2019-06-02");
    assert_eq!((e.country.code(), e.fatalities), ("NER", 7));
}

#[test]
fn older_acled_layouts_are_mapped_and_named() {
    let old = acled("acled_2016.csv");
    assert_eq!(
        old.info
            .layout
            .as_deref()
            .map(|l| l.starts_with("ACLED 2015–2016")),
        Some(true),
        "{:?}",
        old.info
    );
    let vac = old.by("CEN1234");
    assert_eq!(
        (vac.event_type.as_str(), vac.sub_event_type.as_str()),
        ("Violence against civilians", "Attack")
    );
    assert_eq!(vac.targeted_group.as_deref(), Some("civilians"));
    assert_eq!(
        vac.country.code(),
        "CAF",
        "country by name (GW 482 without a GW table)"
    );
    assert_eq!(
        vac.actor2.as_deref(),
        Some("Civilians (Central African Republic)")
    );
    let riot = old.by("CEN1235");
    assert_eq!(
        (riot.event_type.as_str(), riot.sub_event_type.as_str()),
        ("Riots", "Violent demonstration")
    );
    assert!(
        riot.description
            .contains("(ACLED event type: Riots/Protests)"),
        "{}",
        riot.description
    );
    let battle = old.by("CEN1236");
    assert_eq!(battle.sub_event_type, "Government regains territory");
    assert_eq!(battle.targeted_group, None);
    assert_eq!(old.rejected.len(), 1);
    assert_eq!(old.rejected[0].0, 5);
    assert!(
        old.rejected[0].1.contains("Mystery type"),
        "{:?}",
        old.rejected
    );

    let y18 = acled("acled_2018.csv");
    assert!(y18.rejected.is_empty(), "{:?}", y18.rejected);
    assert!(y18
        .info
        .layout
        .as_deref()
        .unwrap()
        .starts_with("ACLED 2017–2018"));
    let shell = y18.by("SSD3001");
    assert_eq!(
        (
            shell.event_type.as_str(),
            shell.sub_event_type.as_str(),
            shell.country.code()
        ),
        (
            "Explosions/Remote violence",
            "Shelling/artillery/missile attack",
            "SSD"
        )
    );
    assert_eq!(
        y18.by("SSD3002").targeted_group.as_deref(),
        Some("civilians")
    );
    assert_eq!(y18.by("SSD3002").date_precision, 2);

    // An unknown layout says so, and what was expected.
    let e = import_from(
        Some(Format::Acled),
        Cursor::new(b"event_id_cnty,when,what\nX1,2020-01-01,Battles\n".to_vec()),
        ImportOptions::new(Format::Acled),
    )
    .err()
    .unwrap()
    .to_string();
    assert!(
        e.contains("not an ACLED CSV file in a known layout")
            && e.contains("2015–2016")
            && e.contains("event_date"),
        "{e}"
    );
}

#[test]
fn windows_1252_and_utf16_are_converted_and_named() {
    for (name, enc, why) in [
        ("acled_cp1252.csv", "windows-1252", "assumed"),
        ("acled_utf16.csv", "UTF-16LE", "byte order mark"),
    ] {
        let out = acled(name);
        assert!(out.rejected.is_empty(), "{name}: {:?}", out.rejected);
        let e = out.by("CAF900");
        assert_eq!(
            e.description,
            "Attaque près de Bossangoa; « deux blessés » — selon l’ONU."
        );
        assert_eq!(e.admin1.as_deref(), Some("Ouham-Pendé"));
        assert_eq!(e.location.as_deref(), Some("Bossangoa – Bowé"));
        assert_eq!(out.info.encoding, enc, "{name}");
        assert!(out.info.encoding_reason.contains(why), "{:?}", out.info);
        assert!(out
            .info
            .notes()
            .iter()
            .any(|n| n.starts_with(&format!("encoding: {enc}"))));
    }
    // Forced: the same bytes read as UTF-8 are rejected rows, not mangled text.
    let mut opts = ImportOptions::new(Format::Acled);
    opts.encoding = Some("utf-8".into());
    let out = import(Some(Format::Acled), "acled_cp1252.csv", opts).unwrap();
    assert_eq!(out.incidents.len(), 0);
    assert!(
        out.rejected.iter().all(|r| r.1.contains("invalid UTF-8")),
        "{:?}",
        out.rejected
    );
    let mut opts = ImportOptions::new(Format::Acled);
    opts.encoding = Some("latin1".into());
    let out = import(Some(Format::Acled), "acled_cp1252.csv", opts).unwrap();
    assert_eq!(out.by("CAF901").description, "Pillage à Bowé.");
    assert_eq!(out.info.encoding_reason, "given");
    // Latin-1 GeoJSON is converted too.
    let geo = "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[17.4552,6.4926]},\"properties\":{\"id\":7,\"type_of_violence\":3,\"date_start\":\"2020-05-09\",\"best\":2,\"iso3\":\"CAF\",\"adm_1\":\"Ouham-Pendé\"}}]}";
    let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(geo);
    let out = import_from(
        Some(Format::Ucdp),
        Cursor::new(bytes.into_owned()),
        ImportOptions::new(Format::Ucdp),
    )
    .unwrap();
    assert_eq!(out.by("7").admin1.as_deref(), Some("Ouham-Pendé"));
    // An unknown label is named.
    let mut opts = ImportOptions::new(Format::Acled);
    opts.encoding = Some("klingon".into());
    let e = import(Some(Format::Acled), "acled_cp1252.csv", opts)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("unknown encoding \"klingon\""), "{e}");
}

#[test]
fn line_numbers_are_physical_with_crlf_and_cr_endings() {
    for name in ["acled_crlf.csv", "acled_cr.csv"] {
        let out = acled(name);
        assert_eq!(out.incidents.len(), 3, "{name}");
        let lines: Vec<u64> = out.rejected.iter().map(|r| r.0).collect();
        assert_eq!(lines, vec![4], "{name}: {:?}", out.rejected);
        assert!(out.rejected[0].1.contains("2020-13-45"));
        assert_eq!(out.by("MLI13").event_date.to_string(), "2020-05-09");
        assert_eq!(
            out.by("MLI10").description,
            "Clash.",
            "no stray CR in values"
        );
    }
    // A CRLF inside a quoted field stays one row, and the next line number still counts it.
    let text = std::fs::read_to_string(path("acled_crlf.csv"))
        .unwrap()
        .replacen("Clash.", "\"Two\r\nlines\"", 1);
    let out = import_from(
        Some(Format::Acled),
        Cursor::new(text.into_bytes()),
        ImportOptions::new(Format::Acled),
    )
    .unwrap();
    assert_eq!(out.by("MLI10").description, "Two\nlines");
    assert_eq!(
        out.rejected.iter().map(|r| r.0).collect::<Vec<_>>(),
        vec![5]
    );
}

#[test]
fn gzip_and_zip_are_read_as_they_stream() {
    let gz = acled("acled_dates.csv.gz");
    assert_eq!(gz.info.compression.as_deref(), Some("gzip"));
    assert_eq!(gz.by("MLI2").event_date.to_string(), "2020-05-09");
    assert_eq!(gz.by("MLI2").country.code(), "MLI");
    assert_eq!(gz.rejected.len(), 1);

    // GDELT 1.0 daily file as published: zipped, 58 columns, sniffed.
    let z = import(None, "gdelt_v1_daily.zip", ImportOptions::any()).unwrap();
    assert_eq!(z.info.format, Some(Format::Gdelt));
    assert_eq!(
        z.info.compression.as_deref(),
        Some("zip member 20150102.export.CSV")
    );
    assert!(z
        .info
        .layout
        .as_deref()
        .unwrap()
        .contains("GDELT 1.0 daily"));
    assert_eq!(z.skipped, 1, "the protest (root 14)");
    assert!(z.rejected.is_empty(), "{:?}", z.rejected);
    let bria = z.by("300002");
    assert_eq!(
        (bria.country.code(), bria.event_date.to_string().as_str()),
        ("CAF", "2015-01-03")
    );
    assert_eq!(bria.dataset.as_deref(), Some("gdelt"));
    assert!(bria.description.contains("https://example.org/b"));

    // Several members: one must be named; a wrong name lists them.
    let e = import(None, "two_members.zip", ImportOptions::any())
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("--member") && e.contains("README.txt") && e.contains("1995.csv"),
        "{e}"
    );
    let mut opts = ImportOptions::any();
    opts.member = Some("nope.csv".into());
    let e = import(None, "two_members.zip", opts)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("no member \"nope.csv\""), "{e}");
    let mut opts = ImportOptions::any();
    opts.member = Some("1995.csv".into());
    let back = import(None, "two_members.zip", opts).unwrap();
    assert!(back.info.layout.as_deref().unwrap().contains("57 columns"));
    let e = back.by("100001");
    assert_eq!(
        (e.country.code(), e.event_date.to_string().as_str()),
        ("GBR", "1995-01-02")
    );

    // Unknown compression and archives are named.
    for (bytes, what) in [
        (b"BZh91AY&SY".to_vec(), "bzip2"),
        (vec![0xFD, b'7', b'z', b'X', b'Z', 0, 0], "xz"),
        (vec![0x28, 0xB5, 0x2F, 0xFD, 0], "zstd"),
        (vec![b'7', b'z', 0xBC, 0xAF, 0x27, 0x1C], "7-Zip"),
    ] {
        let e = import_from(None, Cursor::new(bytes), ImportOptions::any())
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains(what), "{e}");
    }
    // A plain stream (no seeking) still reads gzip.
    let mut got = 0;
    let info = read(
        Format::Acled,
        std::fs::File::open(path("acled_dates.csv.gz")).unwrap(),
        &ImportOptions::new(Format::Acled),
        &IsoOnly,
        &mut |r| {
            got += matches!(r, Row::Incident(_)) as usize;
            Ok(())
        },
    )
    .unwrap();
    assert_eq!((got, info.compression.as_deref()), (3, Some("gzip")));
}

#[test]
fn gdelt_centroid_at_sea_is_placed_by_its_fips_code() {
    let out = import(
        Some(Format::Gdelt),
        "gdelt_v2_sea.tsv",
        ImportOptions::new(Format::Gdelt),
    )
    .unwrap();
    assert!(out.rejected.is_empty(), "{:?}", out.rejected);
    let uk = out.by("900001");
    assert_eq!(
        uk.country.code(),
        "GBR",
        "UK is FIPS for the United Kingdom, not Ukraine"
    );
    assert_eq!((uk.latitude, uk.longitude), (54.0, -4.0));
    assert_eq!(uk.geo_precision, 3, "a country-level place");
    assert!(out.info.layout.as_deref().unwrap().contains("GDELT 2.0"));
}

#[test]
fn formats_are_sniffed_and_said() {
    for (name, format) in [
        ("acled_r_na.csv", Format::Acled),
        ("acled_2016.csv", Format::Acled),
        ("ucdp_hdx_pandas.csv", Format::Ucdp),
        ("hxl_date_year.csv", Format::Ucdp),
        ("gdelt_v2_sea.tsv", Format::Gdelt),
        ("acled_utf16.csv", Format::Acled),
    ] {
        let out = import(None, name, ImportOptions::any()).unwrap();
        assert_eq!(out.info.format, Some(format), "{name}");
        assert!(out.info.notes()[0].starts_with(&format!("format: {}", format.dataset_name())));
        assert!(!out.incidents.is_empty(), "{name}");
        assert_eq!(
            out.incidents[0].dataset.as_deref(),
            Some(format.dataset()),
            "{name}"
        );
    }
    let tags_only =
        "place,when,lat,lon,cc\n#loc+name,#date,#geo+lat,#geo+lon,#country+code\nBria,2020-01-01,6.5,21.9,CAF\n";
    let mut opts = ImportOptions::any();
    opts.default_event_type = Some(("Battles".into(), "Armed clash".into()));
    let out = import_from(None, Cursor::new(tags_only.as_bytes().to_vec()), opts).unwrap();
    assert_eq!(out.info.format, Some(Format::Hxl));
    assert_eq!(out.incidents[0].location.as_deref(), Some("Bria"));
    let e = import_from(
        None,
        Cursor::new(b"a,b,c\n1,2,3\n".to_vec()),
        ImportOptions::any(),
    )
    .err()
    .unwrap()
    .to_string();
    assert!(
        e.contains("cannot tell the format") && e.contains("tocsin import FORMAT FILE"),
        "{e}"
    );
}
