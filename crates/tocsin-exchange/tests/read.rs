//! Importers and exporters on real and hand-written files.

use std::io::{Cursor, Read};
use std::path::PathBuf;
use tocsin_domain::{Incident, Tlp, VerificationStatus};
use tocsin_exchange::{
    read, ExportFormat, ExportWriter, Format, ImportError, ImportOptions, IsoOnly, Row,
};

struct Outcome {
    incidents: Vec<Incident>,
    rejected: Vec<(u64, String)>,
    skipped: usize,
}

fn import(format: Format, bytes: impl Read) -> Result<Outcome, ImportError> {
    import_with(format, bytes, ImportOptions::new(format))
}

fn import_with(
    format: Format,
    bytes: impl Read,
    opts: ImportOptions,
) -> Result<Outcome, ImportError> {
    let mut out = Outcome {
        incidents: vec![],
        rejected: vec![],
        skipped: 0,
    };
    read(format, bytes, &opts, &IsoOnly, &mut |row| {
        match row {
            Row::Incident(i) => out.incidents.push(*i),
            Row::Rejected { line, reason } => out.rejected.push((line, reason)),
            Row::Skipped => out.skipped += 1,
        }
        Ok(())
    })?;
    Ok(out)
}

fn fixture(name: &str) -> std::fs::File {
    std::fs::File::open(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .unwrap()
}

fn shared(name: &str) -> Option<std::fs::File> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/ucdp")
        .join(name);
    match std::fs::File::open(&p) {
        Ok(f) => Some(f),
        Err(_) => {
            assert_ne!(
                std::env::var("TOCSIN_REQUIRE_DATA").as_deref(),
                Ok("1"),
                "TOCSIN_REQUIRE_DATA=1 but {} is absent",
                p.display()
            );
            eprintln!(
                "skipping: {} is absent (../shared/data is not beside the checkout)",
                p.display()
            );
            None
        }
    }
}

#[test]
fn ucdp_csv_bangladesh() {
    let Some(f) = shared("conflict_data_BGD.csv") else {
        return;
    };
    let out = import(Format::Ucdp, f).unwrap();
    assert!(
        out.rejected.is_empty(),
        "{:?}",
        &out.rejected[..out.rejected.len().min(3)]
    );
    assert_eq!(
        out.incidents.len(),
        601,
        "601 events (the HXL tag row is not one)"
    );
    assert_eq!(
        out.incidents.iter().map(|i| i.fatalities).sum::<i64>(),
        1362
    );
    assert_eq!(
        out.incidents
            .iter()
            .filter(|i| i.violence_type == Some(3))
            .count(),
        124
    );
    let e = out
        .incidents
        .iter()
        .find(|i| i.external_id.as_deref() == Some("71663"))
        .unwrap();
    assert_eq!(e.event_date.to_string(), "2013-12-13");
    assert_eq!(e.country.code(), "BGD");
    assert_eq!(e.admin1.as_deref(), Some("Barisāl Division"));
    assert_eq!(e.admin2.as_deref(), Some("Pirojpur District"));
    assert_eq!(e.location.as_deref(), Some("Bhāndāria town"));
    assert_eq!((e.latitude, e.longitude), (22.488976, 90.062732));
    assert_eq!(
        (e.fatalities, e.fatalities_low, e.fatalities_high),
        (1, Some(1), Some(1))
    );
    assert_eq!(
        (
            e.event_type.as_str(),
            e.sub_event_type.as_str(),
            e.violence_type
        ),
        ("Battles", "Armed clash", Some(2))
    );
    assert_eq!(e.actor1.as_deref(), Some("Supporters of Awami League"));
    assert_eq!(e.actor2.as_deref(), Some("Supporters of BNP"));
    assert_eq!((e.geo_precision, e.date_precision), (1, 2));
    assert_eq!(e.dataset.as_deref(), Some("ucdp-ged"));
    assert_eq!(e.verification_status, VerificationStatus::Verified);
    assert_eq!(e.tlp, Tlp::Clear);
    assert!(e.description.contains("Seven killed in clashes"));
}

#[test]
fn ucdp_geojson_central_african_republic() {
    let Some(f) = shared("ged_v23_1_car.geojson") else {
        return;
    };
    let out = import(Format::Ucdp, f).unwrap();
    assert!(
        out.rejected.is_empty(),
        "{:?}",
        &out.rejected[..out.rejected.len().min(3)]
    );
    assert_eq!(out.incidents.len(), 1848);
    assert_eq!(
        out.incidents.iter().map(|i| i.fatalities).sum::<i64>(),
        14948
    );
    assert!(out.incidents.iter().all(|i| i.country.code() == "CAF"));
    let one_sided = out
        .incidents
        .iter()
        .filter(|i| i.event_type == "Violence against civilians")
        .count();
    assert_eq!(one_sided, 1076);
    let e = out
        .incidents
        .iter()
        .find(|i| i.external_id.as_deref() == Some("36210"))
        .unwrap();
    assert_eq!(e.event_date.to_string(), "2009-02-20");
    assert_eq!((e.latitude, e.longitude), (5.399784, 26.486881));
    assert_eq!(e.actor1.as_deref(), Some("Government of Uganda"));
    assert_eq!(e.actor2.as_deref(), Some("LRA"));
    assert_eq!(
        (e.fatalities, e.violence_type, e.geo_precision),
        (3, Some(1), 3)
    );
}

#[test]
fn acled_fixture() {
    let out = import(Format::Acled, fixture("acled.csv")).unwrap();
    assert!(out.rejected.is_empty(), "{:?}", out.rejected);
    assert_eq!(out.incidents.len(), 5);
    let by = |id: &str| {
        out.incidents
            .iter()
            .find(|i| i.external_id.as_deref() == Some(id))
            .unwrap()
    };
    let a = by("CEN1001");
    assert_eq!(
        (a.country.code(), a.admin1.as_deref(), a.location.as_deref()),
        ("CAF", Some("Ouham-Pende"), Some("Koui"))
    );
    assert_eq!(
        (a.fatalities, a.targeted_group.as_deref()),
        (4, Some("civilians"))
    );
    assert!(a.description.contains("including a child"));
    let b = by("CEN1002");
    assert_eq!(
        b.event_date.to_string(),
        "2024-03-16",
        "ACLED's '16 March 2024' date form"
    );
    assert_eq!((b.date_precision, b.geo_precision), (2, 2));
    assert!(b.description.contains("\"heavy\""));
    assert_eq!(by("SSD2001").country.code(), "SSD");
    let d = by("BFA3001");
    assert_eq!(d.sub_event_type, "Abduction/forced disappearance");
    assert!(d.description.contains("Second line"), "quoted newline kept");
    assert_eq!(by("MMR4001").event_type, "Protests");
}

#[test]
fn gdelt_fixture_keeps_violence_roots() {
    let out = import(Format::Gdelt, fixture("gdelt.tsv")).unwrap();
    assert_eq!(
        out.skipped, 1,
        "the protest (root 14) is skipped by default"
    );
    // Without reverse geocoding, GDELT's FIPS code (`CT`, not ISO's Côte d'Ivoire) places them.
    assert_eq!(out.incidents.len(), 3);
    assert!(out.incidents.iter().all(|i| i.country.code() == "CAF"));
    let lines: Vec<u64> = out.rejected.iter().map(|r| r.0).collect();
    assert_eq!(lines, vec![4], "{:?}", out.rejected);
    assert!(out.rejected[0].1.contains("coordinates"));

    struct CarGeo;
    impl tocsin_exchange::Geo for CarGeo {
        fn country(&self, s: &str) -> Option<tocsin_domain::Country> {
            tocsin_domain::Country::from_any_code(s)
        }
        fn country_gw(&self, _: &str) -> Option<tocsin_domain::Country> {
            None
        }
        fn reverse(&self, lat: f64, lon: f64) -> Option<tocsin_exchange::Reverse> {
            ((2.0..11.0).contains(&lat) && (14.0..28.0).contains(&lon)).then(|| {
                tocsin_exchange::Reverse {
                    country: tocsin_domain::Country::parse("CAF").unwrap(),
                    admin1: Some("Somewhere".into()),
                    admin2: None,
                    place: None,
                }
            })
        }
    }
    let mut opts = ImportOptions::new(Format::Gdelt);
    opts.gdelt_roots = vec![14, 18, 19, 20];
    let mut got = vec![];
    read(
        Format::Gdelt,
        fixture("gdelt.tsv"),
        &opts,
        &CarGeo,
        &mut |r| {
            if let Row::Incident(i) = r {
                got.push(*i)
            }
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(got.len(), 4);
    let sexual = got
        .iter()
        .find(|i| i.external_id.as_deref() == Some("1100003"))
        .unwrap();
    assert_eq!(sexual.sub_event_type, "Sexual violence");
    assert_eq!(
        (sexual.country.code(), sexual.admin1.as_deref()),
        ("CAF", Some("Somewhere"))
    );
    assert_eq!(sexual.verification_status, VerificationStatus::Unverified);
    let protest = got
        .iter()
        .find(|i| i.external_id.as_deref() == Some("1100002"))
        .unwrap();
    assert_eq!(protest.event_type, "Protests");
}

#[test]
fn hxl_fixture() {
    let out = import(Format::Hxl, fixture("hxl.csv")).unwrap();
    assert!(out.rejected.is_empty(), "{:?}", out.rejected);
    assert_eq!(out.incidents.len(), 3);
    let a = &out.incidents[0];
    assert_eq!(a.external_id.as_deref(), Some("PARTNER-1"));
    assert_eq!(
        (a.country.code(), a.admin1.as_deref(), a.location.as_deref()),
        ("CAF", Some("Ouaka"), Some("Bambari"))
    );
    assert_eq!(
        (a.fatalities, a.targeted_group.as_deref()),
        (3, Some("Fulani herders"))
    );
    assert!(a.description.contains("cattle camp") && a.description.contains("Partner network"));
    // Without ids, a content hash keeps re-imports idempotent.
    let no_ids = "Date,Country,Lat,Lon,Killed\n#date,#country+code,#geo+lat,#geo+lon,#affected+killed\n2024-01-02,CF,6.5,20.1,2\n";
    let mut opts = ImportOptions::new(Format::Hxl);
    let e = import_with(Format::Hxl, no_ids.as_bytes(), opts.clone()).unwrap();
    assert_eq!(
        (e.incidents.len(), e.rejected.len()),
        (0, 1),
        "{:?}",
        e.rejected
    );
    assert!(e.rejected[0].1.contains("event type"));
    opts.default_event_type = Some(("Violence against civilians".into(), "Attack".into()));
    let a = import_with(Format::Hxl, no_ids.as_bytes(), opts.clone()).unwrap();
    let b = import_with(Format::Hxl, no_ids.as_bytes(), opts).unwrap();
    assert_eq!(a.incidents.len(), 1, "{:?}", a.rejected);
    assert_eq!(a.incidents[0].external_id, b.incidents[0].external_id);
    assert!(a.incidents[0]
        .external_id
        .as_deref()
        .unwrap()
        .starts_with("sha256:"));
}

fn export(format: ExportFormat, incidents: &[Incident]) -> Vec<u8> {
    let mut w = ExportWriter::new(format, Vec::new()).unwrap();
    for i in incidents {
        w.write(i).unwrap();
    }
    w.finish().unwrap()
}

/// The fields an exchange format carries, for comparing incidents across a round trip.
fn essence(i: &Incident, with_tocsin_fields: bool) -> String {
    let mut s = format!(
        "{} {} {} {} {} {:?} {:?} {:?} {} {} {} {:?} {:?} {} {}",
        i.event_date,
        i.date_precision,
        i.event_type,
        i.sub_event_type,
        i.country,
        i.admin1,
        i.admin2,
        i.location,
        i.latitude,
        i.longitude,
        i.geo_precision,
        i.actor1,
        i.actor2,
        i.fatalities,
        i.description
    );
    if with_tocsin_fields {
        s += &format!(
            " {:?} {:?} {:?} {:?} {} {:?} {} {:?} {:?}",
            i.targeted_group,
            i.fatalities_low,
            i.fatalities_high,
            i.violence_type,
            i.credibility,
            i.verification_status,
            i.tlp,
            i.dataset,
            i.external_id
        );
    }
    s
}

#[test]
fn export_then_import_gives_the_same_incidents() {
    let mut source = import(Format::Acled, fixture("acled.csv"))
        .unwrap()
        .incidents;
    if let Some(f) = shared("conflict_data_BGD.csv") {
        source.extend(import(Format::Ucdp, f).unwrap().incidents);
    }
    // HXL carries every field.
    let back = import(Format::Hxl, Cursor::new(export(ExportFormat::Hxl, &source))).unwrap();
    assert!(
        back.rejected.is_empty(),
        "{:?}",
        &back.rejected[..back.rejected.len().min(3)]
    );
    let a: Vec<String> = source.iter().map(|i| essence(i, true)).collect();
    let b: Vec<String> = back.incidents.iter().map(|i| essence(i, true)).collect();
    assert_eq!(a, b);
    // ACLED carries ACLED's fields.
    let acled_only: Vec<Incident> = source
        .iter()
        .filter(|i| i.dataset.as_deref() == Some("acled"))
        .cloned()
        .collect();
    let back = import(
        Format::Acled,
        Cursor::new(export(ExportFormat::Acled, &acled_only)),
    )
    .unwrap();
    assert!(back.rejected.is_empty(), "{:?}", back.rejected);
    let a: Vec<String> = acled_only.iter().map(|i| essence(i, false)).collect();
    let b: Vec<String> = back.incidents.iter().map(|i| essence(i, false)).collect();
    assert_eq!(a, b);
    assert_eq!(
        back.incidents
            .iter()
            .map(|i| i.external_id.clone())
            .collect::<Vec<_>>(),
        acled_only
            .iter()
            .map(|i| i.external_id.clone())
            .collect::<Vec<_>>()
    );
    // GeoJSON is valid JSON with one point feature per incident.
    let gj: serde_json::Value =
        serde_json::from_slice(&export(ExportFormat::GeoJson, &source)).unwrap();
    let feats = gj["features"].as_array().unwrap();
    assert_eq!(feats.len(), source.len());
    assert_eq!(
        feats[0]["geometry"]["coordinates"][0].as_f64(),
        Some(source[0].longitude)
    );
}

#[test]
fn bad_files_get_clear_messages() {
    let acled = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/acled.csv"),
    )
    .unwrap();
    // Wrong delimiter: the whole file is refused, naming the problem.
    let semi = acled.replace(',', ";");
    let e = import(Format::Acled, semi.as_bytes())
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("missing columns") && e.contains("single column"),
        "{e}"
    );
    // A missing required column.
    let e = import(
        Format::Acled,
        "event_id_cnty,event_date\nX,2024-01-01\n".as_bytes(),
    )
    .err()
    .unwrap()
    .to_string();
    assert!(e.contains("latitude"), "{e}");
    // Row-level problems are rejected with their line numbers; the rest imports.
    let header = acled.lines().next().unwrap();
    let good = acled.lines().nth(3).unwrap();
    let bad_date = good.replacen("2024-04-02", "2024-13-45", 1);
    let bad_coord = good.replacen("8.6000", "98.6000", 1);
    // UTF-8 text first (so the file is UTF-8 and a row of other bytes is that row's problem).
    let good = good.replacen("Air strike", "Frappe aérienne", 1);
    let mut body = format!("{header}\n{good}\n{bad_date}\n{bad_coord}\n").into_bytes();
    body.extend_from_slice(b"XX9,2024-01-01,2024,1,,Battles,Armed clash,\xff\xfe,,,,,,,,140,,,,,,,5,20,1,,,notes,0,,1\n");
    body.extend_from_slice(
        good.split(',')
            .take(10)
            .collect::<Vec<_>>()
            .join(",")
            .as_bytes(),
    ); // truncated last line
    let out = import(Format::Acled, body.as_slice()).unwrap();
    assert_eq!(out.incidents.len(), 1);
    let lines: Vec<u64> = out.rejected.iter().map(|r| r.0).collect();
    assert_eq!(lines, vec![3, 4, 5, 6], "{:?}", out.rejected);
    assert!(
        out.rejected[0].1.contains("event_date"),
        "{:?}",
        out.rejected[0]
    );
    assert!(
        out.rejected[1].1.contains("out of range"),
        "{:?}",
        out.rejected[1]
    );
    assert!(out.rejected[2].1.contains("UTF-8"), "{:?}", out.rejected[2]);
    assert!(
        out.rejected[3].1.contains("columns"),
        "{:?}",
        out.rejected[3]
    );
    // A line of 2 GB is refused after the first MiB without reading the rest.
    struct Endless(u64);
    impl Read for Endless {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(self.0 as usize);
            buf[..n].fill(b'a');
            self.0 -= n as u64;
            Ok(n)
        }
    }
    let huge = Cursor::new(format!("{header}\n").into_bytes()).chain(Endless(2 << 30));
    let e = import(Format::Acled, huge).err().unwrap().to_string();
    assert!(e.contains("longer than"), "{e}");
    // Broken GeoJSON and GDELT of the wrong shape.
    let e = import(
        Format::Ucdp,
        "{\"type\": \"FeatureCollection\", \"features\": [{\"type\": ".as_bytes(),
    )
    .err()
    .unwrap();
    assert!(e.to_string().contains("GeoJSON"), "{e}");
    let e = import(Format::Gdelt, acled.as_bytes())
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("61"), "{e}");
    let e = import(Format::Hxl, acled.as_bytes())
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("hashtags"), "{e}");
}
