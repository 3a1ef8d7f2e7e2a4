//! ACLED's CSV: today's 31 columns, and the layouts of 2017–2018 and 2015–2016.
//!
//! `event_id_cnty` → external id; `event_date` (`YYYY-MM-DD`, `15 March 2024`, `9-May-20`);
//! `time_precision` and `geo_precision` as they are; `iso` (ISO numeric), else `GWNO`
//! (Gleditsch–Ward, 2015–2016), else `country`, else the point → country; `notes` →
//! description; `civilian_targeting` = `Civilian targeting` → targeted group "civilians"
//! (before 2019: violence against civilians). Event types of the older layouts are mapped to
//! today's typology, the original kept in the description. Missing values (`NA`, empty, …)
//! are missing, never data. ACLED events are researcher-coded and published: they arrive
//! `verified`.

use std::io::Read;
use tocsin_domain::VerificationStatus;

use crate::columns::{self, Rec};
use crate::limit::LineLimited;
use crate::{code, date, num, opt, opt_num, text, Draft, Geo, ImportError, ImportOptions, Row};

/// ACLED's columns, in order.
pub const COLUMNS: [&str; 31] = [
    "event_id_cnty",
    "event_date",
    "year",
    "time_precision",
    "disorder_type",
    "event_type",
    "sub_event_type",
    "actor1",
    "assoc_actor_1",
    "inter1",
    "actor2",
    "assoc_actor_2",
    "inter2",
    "interaction",
    "civilian_targeting",
    "iso",
    "region",
    "country",
    "admin1",
    "admin2",
    "admin3",
    "location",
    "latitude",
    "longitude",
    "geo_precision",
    "source",
    "source_scale",
    "notes",
    "fatalities",
    "tags",
    "timestamp",
];

/// The layouts ACLED has published, as their header names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// Since 2019: `sub_event_type`, `civilian_targeting` (2022), `disorder_type`.
    Current,
    /// 2017–2018: lower-case names, `event_id_cnty`, no `sub_event_type`.
    Y2017,
    /// 2015–2016: upper-case names starting `GWNO`, `EVENT_ID_CNTY`; Gleditsch–Ward codes.
    Y2015,
}

impl Layout {
    fn name(self) -> &'static str {
        match self {
            Layout::Current => "ACLED (2019 onwards)",
            Layout::Y2017 => {
                "ACLED 2017–2018 (no sub_event_type: event types mapped to today's typology)"
            }
            Layout::Y2015 => {
                "ACLED 2015–2016 (GWNO, EVENT_ID_CNTY: event types mapped to today's typology)"
            }
        }
    }
}

const CURRENT: &[&str] = &[
    "event_id_cnty",
    "event_date",
    "event_type",
    "sub_event_type",
    "latitude",
    "longitude",
    "fatalities",
];
const OLDER: &[&str] = &[
    "event_id_cnty",
    "event_date",
    "event_type",
    "latitude",
    "longitude",
    "fatalities",
];

/// Choose the layout from the header; an unknown one is named as such, with what was
/// expected.
fn layout(header: &csv::ByteRecord) -> Result<(columns::Columns, Layout), ImportError> {
    let cols = columns::Columns::from_names(header);
    let layout = if cols.has("sub_event_type")
        || cols.has("civilian_targeting")
        || cols.has("disorder_type")
    {
        Layout::Current
    } else if cols.has("gwno") {
        Layout::Y2015
    } else {
        Layout::Y2017
    };
    let required = if layout == Layout::Current {
        CURRENT
    } else {
        OLDER
    };
    let missing: Vec<&str> = required.iter().copied().filter(|c| !cols.has(c)).collect();
    if missing.is_empty() {
        return Ok((cols, layout));
    }
    let hint = if cols.width == 1 {
        " (the header has a single column: is the file separated by something other than commas?)"
    } else {
        ""
    };
    Err(ImportError::Format(format!(
        "not an ACLED CSV file in a known layout: missing columns {}{hint}. Expected the \
         layout of 2019 onwards ({}), of 2017–2018 (the same without sub_event_type) or of \
         2015–2016 (GWNO, EVENT_ID_CNTY, EVENT_DATE, EVENT_TYPE, LATITUDE, LONGITUDE, \
         FATALITIES, …)",
        missing.join(", "),
        CURRENT.join(", ")
    )))
}

/// Today's type and sub-type for an event type of the layouts before 2019 (`inter1` tells
/// rioters from protesters); the original is kept in the description.
fn older_type(event_type: &str, inter1: Option<i16>) -> Option<(&'static str, &'static str)> {
    let t = event_type.trim().to_ascii_lowercase();
    Some(match t.as_str() {
        "battle-no change of territory" => ("Battles", "Armed clash"),
        "battle-government regains territory" => ("Battles", "Government regains territory"),
        "battle-non-state actor overtakes territory" => {
            ("Battles", "Non-state actor overtakes territory")
        }
        "violence against civilians" => ("Violence against civilians", "Attack"),
        "remote violence" => (
            "Explosions/Remote violence",
            "Shelling/artillery/missile attack",
        ),
        "riots/protests" if inter1 == Some(5) => ("Riots", "Violent demonstration"),
        "riots/protests" => ("Protests", "Peaceful protest"),
        "strategic development" | "strategic developments" | "non-violent activity" => {
            ("Strategic developments", "Other")
        }
        "headquarters or base established" => {
            ("Strategic developments", "Headquarters or base established")
        }
        "non-violent transfer of territory" => (
            "Strategic developments",
            "Non-violent transfer of territory",
        ),
        _ => return None,
    })
}

fn draft(r: &Rec, layout: Layout, opts: &ImportOptions, geo: &dyn Geo) -> Result<Draft, String> {
    let country = code(r.get("iso")?)
        .and_then(|c| geo.country(&c))
        .or_else(|| code(r.get("gwno").ok()?).and_then(|c| geo.country_gw(&c)))
        .or_else(|| opt(r.get("country").ok()?).and_then(|c| geo.country(&c)));
    let given_type = text(r.get("event_type")?);
    let mut description = text(r.get("notes")?);
    let (event_type, sub_event_type, civilians) = match layout {
        // ACLED's own value only: `NA`, `0` or `FALSE` are not civilian targeting.
        Layout::Current => (
            given_type,
            text(r.get("sub_event_type")?),
            r.get("civilian_targeting")?
                .trim()
                .eq_ignore_ascii_case("civilian targeting"),
        ),
        Layout::Y2017 | Layout::Y2015 => {
            let inter1 = opt_num::<i16>("inter1", r.get("inter1")?).unwrap_or(None);
            let (t, s) = older_type(&given_type, inter1).ok_or_else(|| {
                format!("event_type: {given_type:?} is not an event type of ACLED's layouts before 2019")
            })?;
            if !t.eq_ignore_ascii_case(&given_type) {
                if !description.is_empty() {
                    description.push(' ');
                }
                description.push_str(&format!("(ACLED event type: {given_type})"));
            }
            (
                t.to_string(),
                s.to_string(),
                t == "Violence against civilians",
            )
        }
    };
    Ok(Draft {
        external_id: opt(r.get("event_id_cnty")?).ok_or("event_id_cnty: empty")?,
        event_date: date(
            "event_date",
            r.get("event_date")?,
            opts.date_format.as_deref(),
        )?,
        date_precision: opt_num("time_precision", r.get("time_precision")?)?,
        event_type,
        sub_event_type,
        violence_type: None,
        country,
        admin1: opt(r.get("admin1")?),
        admin2: opt(r.get("admin2")?),
        location: opt(r.get("location")?),
        latitude: num("latitude", r.get("latitude")?)?,
        longitude: num("longitude", r.get("longitude")?)?,
        geo_precision: opt_num("geo_precision", r.get("geo_precision")?)?,
        actor1: opt(r.get("actor1")?),
        actor2: opt(r.get("actor2")?),
        targeted_group: civilians.then(|| "civilians".to_string()),
        fatalities: num("fatalities", r.get("fatalities")?)?,
        fatalities_low: None,
        fatalities_high: None,
        credibility: None,
        verification: Some(VerificationStatus::Verified),
        description,
        tlp: None,
        country_fallback: None,
    })
}

/// Read an ACLED CSV export in any of its layouts; answers the layout's name.
pub fn read<R: Read>(
    input: LineLimited<R>,
    opts: &ImportOptions,
    geo: &dyn Geo,
    sink: &mut dyn FnMut(Row) -> Result<(), String>,
) -> Result<String, ImportError> {
    columns::read_headed_with(input, layout, opts, geo, sink, |r, l| {
        draft(r, *l, opts, geo)
    })
    .map(|l| l.name().to_string())
}
