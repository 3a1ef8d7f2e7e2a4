//! GDELT 2.0 event records: 61 tab-separated columns, no header.
//!
//! Only events whose CAMEO root code is among the kept roots (default 18 assault, 19 fight,
//! 20 unconventional mass violence) are imported; others are skipped. GDELT is machine-coded
//! from news: events arrive `unverified` with credibility 6 and no fatality count. The country
//! comes from the action's point (GDELT uses FIPS codes, not ISO).

use std::io::Read;
use tocsin_domain::VerificationStatus;

use crate::columns;
use crate::limit::LineLimited;
use crate::{date, num, opt, Draft, Geo, ImportError, ImportOptions, Row};

const WIDTH: usize = 61;
const ID: usize = 0;
const SQLDATE: usize = 1;
const ACTOR1: usize = 6;
const ACTOR2: usize = 16;
const EVENT_CODE: usize = 26;
const ROOT_CODE: usize = 28;
const GEO_TYPE: usize = 51;
const GEO_NAME: usize = 52;
const GEO_LAT: usize = 56;
const GEO_LON: usize = 57;
const SOURCE_URL: usize = 60;

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

fn draft(f: &dyn Fn(usize, &str) -> Result<String, String>) -> Result<Draft, String> {
    let code = f(EVENT_CODE, "EventCode")?;
    let (et, sub) = typology(&code);
    let (lat, lon) = (f(GEO_LAT, "ActionGeo_Lat")?, f(GEO_LON, "ActionGeo_Long")?);
    if lat.trim().is_empty() || lon.trim().is_empty() {
        return Err("no ActionGeo coordinates".into());
    }
    let place = opt(&f(GEO_NAME, "ActionGeo_FullName")?);
    let geo_type: i16 = num("ActionGeo_Type", &f(GEO_TYPE, "ActionGeo_Type")?).unwrap_or(0);
    let (a1, a2) = (
        opt(&f(ACTOR1, "Actor1Name")?),
        opt(&f(ACTOR2, "Actor2Name")?),
    );
    let url = f(SOURCE_URL, "SOURCEURL")?;
    Ok(Draft {
        external_id: opt(&f(ID, "GLOBALEVENTID")?).ok_or("GLOBALEVENTID: empty")?,
        event_date: date("SQLDATE", &f(SQLDATE, "SQLDATE")?)?,
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
        description: format!(
            "GDELT CAMEO {code}: {} → {} at {} ({})",
            a1.as_deref().unwrap_or("?"),
            a2.as_deref().unwrap_or("?"),
            place.as_deref().unwrap_or("?"),
            url.trim()
        ),
        actor1: a1,
        actor2: a2,
        targeted_group: None,
        fatalities: 0,
        fatalities_low: None,
        fatalities_high: None,
        credibility: Some(6),
        verification: Some(VerificationStatus::Unverified),
        tlp: None,
    })
}

/// Read GDELT 2.0 event records.
pub fn read<R: Read>(
    input: LineLimited<R>,
    opts: &ImportOptions,
    geo: &dyn Geo,
    sink: &mut dyn FnMut(Row) -> Result<(), String>,
) -> Result<(), ImportError> {
    let mut rdr = columns::reader(input, b'\t', false);
    let mut first = true;
    let sink = std::cell::RefCell::new(sink);
    let send = |row: Row| (sink.borrow_mut())(row).map_err(ImportError::Sink);
    columns::for_each_record(
        &mut rdr,
        None,
        |line, rec| {
            if rec.len() != WIDTH {
                if first {
                    return Err(ImportError::Format(format!(
                        "not a GDELT 2.0 events file: the first row has {} tab-separated columns, not {WIDTH}",
                        rec.len()
                    )));
                }
                return send(Row::Rejected {
                    line,
                    reason: format!(
                        "expected {WIDTH} columns, found {} (truncated or malformed row)",
                        rec.len()
                    ),
                });
            }
            first = false;
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
                Some(_) => match draft(&f).and_then(|d| d.finish(opts, geo)) {
                    Ok(i) => Row::Incident(Box::new(i)),
                    Err(reason) => Row::Rejected { line, reason },
                },
            };
            send(row)
        },
        |line, reason| send(Row::Rejected { line, reason }),
    )
}
