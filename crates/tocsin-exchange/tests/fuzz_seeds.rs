//! The decompression and encoding fuzz targets' inputs, run as an ordinary test (the fuzz
//! targets themselves need cargo-fuzz): every committed seed under `fuzz/seeds`, and a fixed
//! set of mutations of each (bytes flipped, cut short, spliced), through the same calls as
//! `fuzz/fuzz_targets/import_common.rs`. None may panic.

use std::io::Cursor;
use std::path::PathBuf;
use tocsin_exchange::{read_file, Format, ImportOptions, IsoOnly};

fn import_file(data: &[u8]) {
    let mut opts = ImportOptions::any();
    opts.default_event_type = Some(("Battles".into(), "Armed clash".into()));
    let _ = read_file(None, Cursor::new(data), &opts, &IsoOnly, &mut |_| Ok(()));
    opts.member = Some("a.csv".into());
    let _ = read_file(None, Cursor::new(data), &opts, &IsoOnly, &mut |_| Ok(()));
}

fn import_encoded(data: &[u8]) {
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
    let _ = read_file(format, Cursor::new(rest), &opts, &IsoOnly, &mut |_| Ok(()));
}

fn seeds(target: &str) -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/seeds")
        .join(target);
    let mut v: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    assert!(!v.is_empty(), "no seeds in {}", dir.display());
    v.sort();
    v
}

/// Deterministic mutations: a xorshift stream picks what to change.
fn mutations(seed: &[u8], n: usize) -> impl Iterator<Item = Vec<u8>> + '_ {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15 ^ seed.len() as u64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..n).map(move |_| {
        let mut m = seed.to_vec();
        if m.is_empty() {
            return m;
        }
        match next() % 4 {
            0 => {
                for _ in 0..1 + next() % 4 {
                    let i = (next() as usize) % m.len();
                    m[i] ^= 1 << (next() % 8);
                }
            }
            1 => m.truncate((next() as usize) % m.len()),
            2 => {
                let i = (next() as usize) % m.len();
                let b = [0u8, 0xFF, b'\r', b'\n', b',', b'"', 0xC3, 0xE9, 0x1F, 0x8B]
                    [(next() % 10) as usize];
                m.insert(i, b);
            }
            _ => {
                let i = (next() as usize) % m.len();
                let j = (next() as usize) % m.len();
                let (a, b) = (i.min(j), i.max(j));
                let chunk = m[a..b].to_vec();
                m.splice(a..a, chunk);
            }
        }
        m
    })
}

#[test]
fn decompression_seeds_and_their_mutations_never_panic() {
    for s in seeds("import_decompress") {
        import_file(&s);
        for m in mutations(&s, 300) {
            import_file(&m);
        }
    }
}

#[test]
fn encoding_seeds_and_their_mutations_never_panic() {
    for s in seeds("import_encoding") {
        import_encoded(&s);
        for m in mutations(&s, 300) {
            import_encoded(&m);
        }
        for pick in 0..=0x47u8 {
            let mut v = s.clone();
            v[0] = pick;
            import_encoded(&v);
        }
    }
}
