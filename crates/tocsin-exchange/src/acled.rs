//! ACLED's current 31-column CSV.
//!
//! `event_id_cnty` → external id; `event_date` (`YYYY-MM-DD` or `15 March 2024`);
//! `time_precision` and `geo_precision` as they are; `iso` (ISO numeric), else `country`, else
//! the point → country; `notes` → description; `civilian_targeting` set → targeted group
//! "civilians". ACLED events are researcher-coded and published: they arrive `verified`.

use std::io::Read;
use tocsin_domain::VerificationStatus;

use crate::columns::{self, Rec};
use crate::limit::LineLimited;
use crate::{date, num, opt, opt_num, Draft, Geo, ImportError, ImportOptions, Row};

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

const REQUIRED: &[&str] = &[
    "event_id_cnty",
    "event_date",
    "event_type",
    "sub_event_type",
    "latitude",
    "longitude",
    "fatalities",
];

fn draft(r: &Rec, geo: &dyn Geo) -> Result<Draft, String> {
    let country = [r.get("iso")?, r.get("country")?]
        .iter()
        .find_map(|c| opt(c).and_then(|c| geo.country(&c)));
    let civilians = opt(r.get("civilian_targeting")?).is_some();
    Ok(Draft {
        external_id: opt(r.get("event_id_cnty")?).ok_or("event_id_cnty: empty")?,
        event_date: date("event_date", r.get("event_date")?)?,
        date_precision: opt_num("time_precision", r.get("time_precision")?)?,
        event_type: r.get("event_type")?.to_string(),
        sub_event_type: r.get("sub_event_type")?.to_string(),
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
        description: r.get("notes")?.to_string(),
        tlp: None,
    })
}

/// Read an ACLED CSV export.
pub fn read<R: Read>(
    input: LineLimited<R>,
    opts: &ImportOptions,
    geo: &dyn Geo,
    sink: &mut dyn FnMut(Row) -> Result<(), String>,
) -> Result<(), ImportError> {
    columns::read_headed(input, REQUIRED, "an ACLED CSV file", opts, geo, sink, |r| {
        draft(r, geo)
    })
}
