//! What every importer target checks: on arbitrary bytes an importer accepts or rejects
//! rows, or refuses the file with an error, and never panics.
#![allow(dead_code)]
use tocsin_exchange::{read, read_file, Format, ImportOptions, IsoOnly};

/// Feed `data` to the importer for `format`.
pub fn import(format: Format, data: &[u8]) {
    let mut opts = ImportOptions::new(format);
    opts.default_event_type = Some(("Battles".into(), "Armed clash".into()));
    let _ = read(format, data, &opts, &IsoOnly, &mut |_| Ok(()));
}

/// Feed `data` as a whole file (gzip, zip, any encoding), its format sniffed.
pub fn import_file(data: &[u8]) {
    let mut opts = ImportOptions::any();
    opts.default_event_type = Some(("Battles".into(), "Armed clash".into()));
    let _ = read_file(
        None,
        std::io::Cursor::new(data),
        &opts,
        &IsoOnly,
        &mut |_| Ok(()),
    );
    opts.member = Some("a.csv".into());
    let _ = read_file(
        None,
        std::io::Cursor::new(data),
        &opts,
        &IsoOnly,
        &mut |_| Ok(()),
    );
}

/// Feed `data[1..]` with the encoding and format `data[0]` picks.
pub fn import_encoded(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let format = match pick >> 4 & 7 {
        0 => Some(Format::Ucdp),
        1 => Some(Format::Acled),
        2 => Some(Format::Gdelt),
        3 => Some(Format::Hxl),
        _ => None,
    };
    let mut opts = match format {
        Some(f) => ImportOptions::new(f),
        None => ImportOptions::any(),
    };
    opts.default_event_type = Some(("Battles".into(), "Armed clash".into()));
    opts.encoding = match pick & 7 {
        1 => Some("utf-8".into()),
        2 => Some("windows-1252".into()),
        3 => Some("utf-16le".into()),
        4 => Some("utf-16be".into()),
        _ => None,
    };
    let _ = read_file(
        format,
        std::io::Cursor::new(rest),
        &opts,
        &IsoOnly,
        &mut |_| Ok(()),
    );
}
