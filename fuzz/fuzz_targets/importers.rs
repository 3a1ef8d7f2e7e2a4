//! Every importer on arbitrary bytes: rows are accepted or rejected, files refused with an
//! error, and nothing panics.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tocsin_exchange::{read, Format, ImportOptions, IsoOnly};

fuzz_target!(|data: &[u8]| {
    let Some((sel, body)) = data.split_first() else { return };
    let format = [Format::Ucdp, Format::Acled, Format::Gdelt, Format::Hxl][(*sel % 4) as usize];
    let mut opts = ImportOptions::new(format);
    opts.default_event_type = Some(("Battles".into(), "Armed clash".into()));
    let _ = read(format, body, &opts, &IsoOnly, &mut |_| Ok(()));
});
