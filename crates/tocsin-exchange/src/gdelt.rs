//! GDELT event records, tab-separated, no header: 2.0 (61 columns) and 1.0 (58 columns in the
//! daily files, 57 in the back file without `SOURCEURL`), as published (zipped) or not.
//!
//! Only events whose CAMEO root code is among the kept roots (default 18 assault, 19 fight,
//! 20 unconventional mass violence) are imported; others are skipped. GDELT is machine-coded
//! from news: events arrive `unverified` with credibility 6 and no fatality count. The country
//! comes from the action's point; when the point falls in no country (GDELT places events
//! known only by country at its centroid, which may be at sea: the United Kingdom at 54,-4),
//! from `ActionGeo_CountryCode`, a FIPS 10-4 code mapped to ISO 3166.

use std::io::Read;
use tocsin_domain::VerificationStatus;

use crate::columns;
use crate::limit::LineLimited;
use crate::{date, num, opt, Draft, Geo, ImportError, ImportOptions, Row};

const ID: usize = 0;
const SQLDATE: usize = 1;
const ACTOR1: usize = 6;
const ACTOR2: usize = 16;
const EVENT_CODE: usize = 26;
const ROOT_CODE: usize = 28;

/// Where the action's place and the source are in each version's rows.
#[derive(Clone, Copy)]
struct Layout {
    width: usize,
    name: &'static str,
    geo_type: usize,
    geo_name: usize,
    geo_country: usize,
    geo_lat: usize,
    geo_lon: usize,
    source_url: Option<usize>,
}

const LAYOUTS: [Layout; 3] = [
    Layout {
        width: 61,
        name: "GDELT 2.0 events (61 columns)",
        geo_type: 51,
        geo_name: 52,
        geo_country: 53,
        geo_lat: 56,
        geo_lon: 57,
        source_url: Some(60),
    },
    Layout {
        width: 58,
        name: "GDELT 1.0 daily events (58 columns)",
        geo_type: 49,
        geo_name: 50,
        geo_country: 51,
        geo_lat: 53,
        geo_lon: 54,
        source_url: Some(57),
    },
    Layout {
        width: 57,
        name: "GDELT 1.0 back-file events (57 columns, no SOURCEURL)",
        geo_type: 49,
        geo_name: 50,
        geo_country: 51,
        geo_lat: 53,
        geo_lon: 54,
        source_url: None,
    },
];

/// ACLED type and sub-type for a CAMEO event code.
fn typology(code: &str) -> (&'static str, &'static str) {
    let p = |prefix: &str| code.starts_with(prefix);
    match () {
        _ if p("1821") => ("Violence against civilians", "Sexual violence"),
        _ if p("181") => (
            "Violence against civilians",
            "Abduction/forced disappearance",
        ),
        _ if p("1831") => ("Explosions/Remote violence", "Suicide bomb"),
        _ if p("183") => (
            "Explosions/Remote violence",
            "Remote explosive/landmine/IED",
        ),
        _ if p("18") || p("20") && !p("204") => ("Violence against civilians", "Attack"),
        _ if p("2041") => ("Explosions/Remote violence", "Chemical weapon"),
        _ if p("204") => (
            "Explosions/Remote violence",
            "Shelling/artillery/missile attack",
        ),
        _ if p("194") => (
            "Explosions/Remote violence",
            "Shelling/artillery/missile attack",
        ),
        _ if p("195") => ("Explosions/Remote violence", "Air/drone strike"),
        _ if p("191") => ("Strategic developments", "Other"),
        _ if p("19") => ("Battles", "Armed clash"),
        _ if p("145") => ("Riots", "Violent demonstration"),
        _ if p("14") => ("Protests", "Peaceful protest"),
        _ => ("Strategic developments", "Other"),
    }
}

fn draft(
    f: &dyn Fn(usize, &str) -> Result<String, String>,
    l: &Layout,
    opts: &ImportOptions,
    geo: &dyn Geo,
) -> Result<Draft, String> {
    let code = f(EVENT_CODE, "EventCode")?;
    let (et, sub) = typology(&code);
    let (lat, lon) = (
        f(l.geo_lat, "ActionGeo_Lat")?,
        f(l.geo_lon, "ActionGeo_Long")?,
    );
    if crate::is_missing(&lat) || crate::is_missing(&lon) {
        return Err("no ActionGeo coordinates".into());
    }
    let place = opt(&f(l.geo_name, "ActionGeo_FullName")?);
    let geo_type: i16 = num("ActionGeo_Type", &f(l.geo_type, "ActionGeo_Type")?).unwrap_or(0);
    let fips = f(l.geo_country, "ActionGeo_CountryCode")?;
    let country_fallback = crate::fips::to_iso3(&fips).and_then(|c| geo.country(c));
    let (a1, a2) = (
        opt(&f(ACTOR1, "Actor1Name")?),
        opt(&f(ACTOR2, "Actor2Name")?),
    );
    let url = match l.source_url {
        Some(i) => f(i, "SOURCEURL")?,
        None => String::new(),
    };
    Ok(Draft {
        external_id: opt(&f(ID, "GLOBALEVENTID")?).ok_or("GLOBALEVENTID: empty")?,
        event_date: date(
            "SQLDATE",
            &f(SQLDATE, "SQLDATE")?,
            opts.date_format.as_deref(),
        )?,
        date_precision: Some(1),
        event_type: et.into(),
        sub_event_type: sub.into(),
        violence_type: None,
        country: None,
        admin1: None,
        admin2: None,
        location: place.clone(),
        latitude: num("ActionGeo_Lat", &lat)?,
        longitude: num("ActionGeo_Long", &lon)?,
        // GDELT geo types: 1 country, 2/5 US state/ADM1, 3/4 city or landmark.
        geo_precision: Some(match geo_type {
            3 | 4 => 2,
            _ => 3,
        }),
        description: {
            let mut d = format!(
                "GDELT CAMEO {code}: {} → {} at {}",
                a1.as_deref().unwrap_or("?"),
                a2.as_deref().unwrap_or("?"),
                place.as_deref().unwrap_or("?"),
            );
            if !url.trim().is_empty() {
                d.push_str(&format!(" ({})", url.trim()));
            }
            d
        },
        actor1: a1,
        actor2: a2,
        targeted_group: None,
        fatalities: 0,
        fatalities_low: None,
        fatalities_high: None,
        credibility: Some(6),
        verification: Some(VerificationStatus::Unverified),
        tlp: None,
        country_fallback,
    })
}

/// Read GDELT event records (2.0, or 1.0 daily or back file: the first row decides);
/// answers the version read.
pub fn read<R: Read>(
    input: LineLimited<R>,
    opts: &ImportOptions,
    geo: &dyn Geo,
    sink: &mut dyn FnMut(Row) -> Result<(), String>,
) -> Result<String, ImportError> {
    let mut rdr = columns::reader(input, b'\t', false);
    let mut layout: Option<Layout> = None;
    let sink = std::cell::RefCell::new(sink);
    let send = |row: Row| (sink.borrow_mut())(row).map_err(ImportError::Sink);
    columns::for_each_record(
        &mut rdr,
        None,
        |line, rec| {
            let l = match layout {
                Some(l) => l,
                None => {
                    let l = LAYOUTS
                        .iter()
                        .find(|l| l.width == rec.len())
                        .ok_or_else(|| {
                            ImportError::Format(format!(
                            "not a GDELT events file: the first row has {} tab-separated columns, \
                             not 61 (GDELT 2.0), 58 or 57 (GDELT 1.0)",
                            rec.len()
                        ))
                        })?;
                    layout = Some(*l);
                    *l
                }
            };
            if rec.len() != l.width {
                return send(Row::Rejected {
                    line,
                    reason: format!(
                        "expected {} columns, found {} (truncated or malformed row)",
                        l.width,
                        rec.len()
                    ),
                });
            }
            let f = |i: usize, name: &str| -> Result<String, String> {
                std::str::from_utf8(&rec[i])
                    .map(str::to_string)
                    .map_err(|_| format!("{name}: invalid UTF-8"))
            };
            let root: Option<u8> = f(ROOT_CODE, "EventRootCode")
                .ok()
                .and_then(|r| r.trim().parse().ok());
            let row = match root {
                Some(r) if !opts.gdelt_roots.contains(&r) => Row::Skipped,
                None => Row::Rejected {
                    line,
                    reason: "EventRootCode: not a CAMEO root code".into(),
                },
                Some(_) => match draft(&f, &l, opts, geo).and_then(|d| d.finish(opts, geo)) {
                    Ok(i) => Row::Incident(Box::new(i)),
                    Err(reason) => Row::Rejected { line, reason },
                },
            };
            send(row)
        },
        |line, reason| send(Row::Rejected { line, reason }),
    )?;
    Ok(layout.map_or("GDELT (no rows)", |l| l.name).to_string())
}
