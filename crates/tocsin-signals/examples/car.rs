//! The signals of a UCDP GED file (default: the Central African Republic sample beside the
//! checkout), with their explanations:
//! `cargo run -p tocsin-signals --example car [-- FILE [AS_OF [WEEKS]]]`.

use tocsin_exchange::{read, Format, ImportOptions, IsoOnly, Row};
use tocsin_signals::{detect, detect_recent, DetectorConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().unwrap_or_else(|| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/data/ucdp/ged_v23_1_car.geojson"
        )
        .to_string()
    });
    let as_of = args.next().map(|d| d.parse()).transpose()?;
    let weeks: Option<u32> = args.next().map(|w| w.parse()).transpose()?;
    let mut incidents = vec![];
    read(
        Format::Ucdp,
        std::fs::File::open(&path)?,
        &ImportOptions::new(Format::Ucdp),
        &IsoOnly,
        &mut |row| {
            if let Row::Incident(i) = row {
                incidents.push(*i);
            }
            Ok(())
        },
    )?;
    let cfg = DetectorConfig::default();
    let signals = match weeks {
        Some(w) => detect_recent(&incidents, &cfg, as_of, w)?,
        None => detect(&incidents, &cfg, as_of)?,
    };
    println!("{} incidents, {} signals", incidents.len(), signals.len());
    for s in &signals {
        println!(
            "{} {:<10} {:<8} {}",
            s.week_start, s.metric, s.severity, s.explanation
        );
    }
    Ok(())
}
