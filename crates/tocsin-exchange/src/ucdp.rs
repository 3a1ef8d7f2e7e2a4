//! UCDP Georeferenced Event Dataset (GED), as CSV or GeoJSON, including HDX's "conflict
//! data" files (a row of HXL tags under the header) and CSVs saved again by pandas (an index
//! column, integers written as `1.0`).
//!
//! Mapping: `id` → external id; `date_start` → event date (`date_prec` 1 → 1, 2–3 → 2,
//! 4–5 → 3); `type_of_violence` is kept and mapped to ACLED (1, 2 → Battles / Armed clash;
//! 3 → Violence against civilians / Attack); `side_a`/`side_b` → actors; `where_prec` 1 → 1,
//! 2–3 → 2, 4–7 → 3; `best`/`low`/`high` → fatalities; `iso3`, else `country_id` (GW code),
//! else `country`, else the point → country. UCDP events are researcher-coded and published:
//! they arrive `verified`, credibility 2 (event_clarity 1) or 3.

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::io::Read;
use tocsin_domain::VerificationStatus;

use crate::columns::{self, Rec};
use crate::limit::LineLimited;
use crate::{code, date, num, opt, opt_num, Draft, Geo, ImportError, ImportOptions, Row};

const REQUIRED: &[&str] = &[
    "id",
    "type_of_violence",
    "latitude",
    "longitude",
    "date_start",
    "best",
];
/// The largest GeoJSON feature accepted.
const MAX_FEATURE_BYTES: u64 = 1 << 20;

/// Values of one event, by UCDP column name.
trait Fields {
    fn s(&self, name: &str) -> Result<String, String>;
}

fn draft(f: &dyn Fields, opts: &ImportOptions, geo: &dyn Geo) -> Result<Draft, String> {
    let tov: i16 = num("type_of_violence", &f.s("type_of_violence")?)?;
    let (et, sub) = match tov {
        1 | 2 => ("Battles", "Armed clash"),
        3 => ("Violence against civilians", "Attack"),
        _ => return Err(format!("type_of_violence: {tov} is not 1, 2 or 3")),
    };
    let prec = |col: &str, map: fn(i16) -> i16| -> Result<Option<i16>, String> {
        Ok(opt_num::<i16>(col, &f.s(col)?)?.map(map))
    };
    let country = opt(&f.s("iso3")?)
        .and_then(|c| geo.country(&c))
        .or_else(|| code(&f.s("country_id").ok()?).and_then(|c| geo.country_gw(&c)))
        .or_else(|| opt(&f.s("country").ok()?).and_then(|c| geo.country(&c)));
    let clarity = opt_num::<i16>("event_clarity", &f.s("event_clarity")?)?;
    let headline = opt(&f.s("source_headline")?);
    let name = opt(&f.s("dyad_name")?).or(opt(&f.s("conflict_name")?));
    Ok(Draft {
        external_id: opt(&f.s("id")?).ok_or("id: empty")?,
        event_date: date(
            "date_start",
            &f.s("date_start")?,
            opts.date_format.as_deref(),
        )?,
        date_precision: prec("date_prec", |p| match p {
            1 => 1,
            2 | 3 => 2,
            _ => 3,
        })?,
        event_type: et.into(),
        sub_event_type: sub.into(),
        violence_type: Some(tov),
        country,
        admin1: opt(&f.s("adm_1")?),
        admin2: opt(&f.s("adm_2")?),
        location: opt(&f.s("where_coordinates")?),
        latitude: num("latitude", &f.s("latitude")?)?,
        longitude: num("longitude", &f.s("longitude")?)?,
        geo_precision: prec("where_prec", |p| match p {
            1 => 1,
            2 | 3 => 2,
            _ => 3,
        })?,
        actor1: opt(&f.s("side_a")?),
        actor2: opt(&f.s("side_b")?),
        targeted_group: (tov == 3).then(|| "civilians".to_string()),
        fatalities: num("best", &f.s("best")?)?,
        fatalities_low: opt_num("low", &f.s("low")?)?,
        fatalities_high: opt_num("high", &f.s("high")?)?,
        credibility: Some(if clarity == Some(1) { 2 } else { 3 }),
        verification: Some(VerificationStatus::Verified),
        description: [name, headline]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(": "),
        tlp: None,
        country_fallback: None,
    })
}

struct CsvFields<'a>(Rec<'a>);

impl Fields for CsvFields<'_> {
    fn s(&self, name: &str) -> Result<String, String> {
        self.0.get(name).map(str::to_string)
    }
}

/// UCDP GED CSV; a second row of HXL hashtags (as HDX publishes) is skipped.
pub fn read_csv<R: Read>(
    input: LineLimited<R>,
    opts: &ImportOptions,
    geo: &dyn Geo,
    sink: &mut dyn FnMut(Row) -> Result<(), String>,
) -> Result<(), ImportError> {
    columns::read_headed(
        input,
        REQUIRED,
        "a UCDP GED CSV file",
        opts,
        geo,
        sink,
        |r| {
            draft(
                &CsvFields(Rec {
                    rec: r.rec,
                    cols: r.cols,
                }),
                opts,
                geo,
            )
        },
    )
}

struct JsonFields<'a>(&'a serde_json::Map<String, Value>, [f64; 2]);

impl Fields for JsonFields<'_> {
    fn s(&self, name: &str) -> Result<String, String> {
        match name {
            "longitude" if !self.0.contains_key(name) => return Ok(self.1[0].to_string()),
            "latitude" if !self.0.contains_key(name) => return Ok(self.1[1].to_string()),
            _ => {}
        }
        Ok(match self.0.get(name) {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(v) => v.to_string(),
        })
    }
}

fn feature(
    v: Value,
    opts: &ImportOptions,
    geo: &dyn Geo,
) -> Result<tocsin_domain::Incident, String> {
    let Value::Object(mut f) = v else {
        return Err("not a GeoJSON Feature object".into());
    };
    let props = match f.remove("properties") {
        Some(Value::Object(p)) => p,
        _ => return Err("feature has no properties".into()),
    };
    let point = match f.get("geometry").and_then(|g| g.get("coordinates")) {
        Some(Value::Array(c)) if c.len() >= 2 => [
            c[0].as_f64().ok_or("geometry: longitude is not a number")?,
            c[1].as_f64().ok_or("geometry: latitude is not a number")?,
        ],
        _ => [f64::NAN, f64::NAN],
    };
    draft(&JsonFields(&props, point), opts, geo)?.finish(opts, geo)
}

/// UCDP GED GeoJSON: a FeatureCollection, streamed feature by feature.
pub fn read_geojson<R: Read>(
    mut input: LineLimited<R>,
    opts: &ImportOptions,
    geo: &dyn Geo,
    sink: &mut dyn FnMut(Row) -> Result<(), String>,
) -> Result<(), ImportError> {
    input.check_lines = false;
    input.chunk_limit = MAX_FEATURE_BYTES;
    let counter = input.chunk.clone();
    let mut de = serde_json::Deserializer::from_reader(input);
    let mut n = 0u64;
    let mut on_feature = |v: Value| -> Result<(), String> {
        n += 1;
        let row = match feature(v, opts, geo) {
            Ok(i) => Row::Incident(Box::new(i)),
            Err(reason) => Row::Rejected { line: n, reason },
        };
        sink(row).map_err(|e| format!("{SINK_MARK}{e}"))
    };
    let r = Collection {
        on_feature: &mut on_feature,
        counter,
    }
    .deserialize(&mut de)
    .and_then(|()| de.end());
    match r {
        Ok(()) => Ok(()),
        Err(e) => {
            let msg = e.to_string();
            match msg.find(SINK_MARK) {
                Some(i) => Err(ImportError::Sink(msg[i + SINK_MARK.len()..].to_string())),
                None => Err(ImportError::Format(format!("not valid GeoJSON: {msg}"))),
            }
        }
    }
}

const SINK_MARK: &str = "\u{1}sink:";

struct Collection<'a, F> {
    on_feature: &'a mut F,
    counter: std::rc::Rc<std::cell::Cell<u64>>,
}

impl<'de, F: FnMut(Value) -> Result<(), String>> DeserializeSeed<'de> for Collection<'_, F> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, F: FnMut(Value) -> Result<(), String>> Visitor<'de> for Collection<'_, F> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a GeoJSON FeatureCollection")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut saw_features = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == "features" {
                saw_features = true;
                map.next_value_seed(Features {
                    on_feature: &mut *self.on_feature,
                    counter: self.counter.clone(),
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        if !saw_features {
            return Err(de::Error::custom("no \"features\" array"));
        }
        Ok(())
    }
}

struct Features<'a, F> {
    on_feature: &'a mut F,
    counter: std::rc::Rc<std::cell::Cell<u64>>,
}

impl<'de, F: FnMut(Value) -> Result<(), String>> DeserializeSeed<'de> for Features<'_, F> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, F: FnMut(Value) -> Result<(), String>> Visitor<'de> for Features<'_, F> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of features")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.counter.set(0);
        while let Some(v) = seq.next_element::<Value>()? {
            self.counter.set(0);
            (self.on_feature)(v).map_err(de::Error::custom)?;
        }
        Ok(())
    }
}
