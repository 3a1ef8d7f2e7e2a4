//! Rows per second of a reader alone (no store): `cargo run --release -p tocsin-exchange
//! --example read_rate -- FILE [FORMAT]` (format sniffed when left out). For checking that
//! decoding, decompression and sniffing cost a plain UTF-8 CSV nothing measurable.

use std::time::Instant;
use tocsin_exchange::{read_file, Format, ImportOptions, IsoOnly, Row};

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("FILE");
    let format = args.next().map(|f| Format::parse(&f).expect("a format"));
    for run in 1..=3 {
        let f = std::fs::File::open(&path).expect("open");
        let (mut ok, mut rejected) = (0u64, 0u64);
        let t = Instant::now();
        let mut opts = ImportOptions::any();
        opts.encoding = std::env::var("ENCODING").ok();
        let info = read_file(format, f, &opts, &IsoOnly, &mut |r| {
            match r {
                Row::Incident(_) => ok += 1,
                Row::Rejected { .. } => rejected += 1,
                Row::Skipped => {}
            }
            Ok(())
        })
        .expect("read");
        let s = t.elapsed().as_secs_f64();
        println!(
            "run {run}: {ok} rows ({rejected} rejected) in {s:.2} s: {:.0} rows/s; {:?}",
            ok as f64 / s,
            info.notes()
        );
    }
}
