//! Writers for exports: CSV (Tocsin's columns), HXL (the same with a hashtag row), ACLED's 31
//! columns, and GeoJSON. Each writes incident by incident, so memory stays constant.
//! Incidents carry no source identities, so none can leak through an export.

use std::io::Write;
use tocsin_domain::{DomainError, Incident};

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// Tocsin's own columns.
    Csv,
    /// A GeoJSON FeatureCollection of points.
    GeoJson,
    /// Tocsin's columns with an HXL hashtag row; `tocsin import hxl` reads it back.
    Hxl,
    /// ACLED's 31 columns; `tocsin import acled` reads it back.
    Acled,
}

impl ExportFormat {
    /// Parse a format name.
    pub fn parse(s: &str) -> Result<ExportFormat, DomainError> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "csv" => ExportFormat::Csv,
            "geojson" => ExportFormat::GeoJson,
            "hxl" => ExportFormat::Hxl,
            "acled" => ExportFormat::Acled,
            _ => {
                return Err(DomainError::invalid(
                    "format",
                    "expected csv, geojson, hxl or acled",
                ))
            }
        })
    }

    /// The HTTP content type.
    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::GeoJson => "application/geo+json",
            _ => "text/csv; charset=utf-8",
        }
    }

    /// A file extension.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::GeoJson => "geojson",
            _ => "csv",
        }
    }
}

type Getter = fn(&Incident) -> String;

fn o<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(|x| x.to_string()).unwrap_or_default()
}

/// Tocsin's columns: name, HXL hashtag, value.
const COLUMNS: &[(&str, &str, Getter)] = &[
    ("id", "#meta+id", |i| i.id.to_string()),
    ("dataset", "#meta+dataset", |i| o(&i.dataset)),
    ("external_id", "#meta+external", |i| o(&i.external_id)),
    ("event_date", "#date+occurred", |i| i.event_date.to_string()),
    ("date_precision", "#date+precision", |i| {
        i.date_precision.to_string()
    }),
    ("event_type", "#event+type", |i| i.event_type.clone()),
    ("sub_event_type", "#event+subtype", |i| {
        i.sub_event_type.clone()
    }),
    ("violence_type", "#event+violence", |i| o(&i.violence_type)),
    ("country", "#country+code", |i| i.country.code().to_string()),
    ("admin1", "#adm1+name", |i| o(&i.admin1)),
    ("admin2", "#adm2+name", |i| o(&i.admin2)),
    ("location", "#loc+name", |i| o(&i.location)),
    ("latitude", "#geo+lat", |i| i.latitude.to_string()),
    ("longitude", "#geo+lon", |i| i.longitude.to_string()),
    ("geo_precision", "#geo+precision", |i| {
        i.geo_precision.to_string()
    }),
    ("actor1", "#group+name+first", |i| o(&i.actor1)),
    ("actor2", "#group+name+second", |i| o(&i.actor2)),
    (
        "targeted_group",
        "#group+targeted",
        |i| o(&i.targeted_group),
    ),
    ("fatalities", "#affected+killed", |i| {
        i.fatalities.to_string()
    }),
    ("fatalities_low", "#affected+killed+low", |i| {
        o(&i.fatalities_low)
    }),
    ("fatalities_high", "#affected+killed+high", |i| {
        o(&i.fatalities_high)
    }),
    ("credibility", "#meta+credibility", |i| {
        i.credibility.to_string()
    }),
    ("verification_status", "#status+verification", |i| {
        i.verification_status.as_str().to_string()
    }),
    ("description", "#description", |i| i.description.clone()),
    ("tlp", "#meta+tlp", |i| i.tlp.as_str().to_string()),
    ("updated_at", "#date+updated", |i| {
        tocsin_domain::time::format(&i.updated_at)
    }),
];

/// ACLED's `event_id_cnty`: the incident's external id (ACLED's own, UCDP's `id`, GDELT's
/// event id), so that the file re-imports as the same events (`--dataset` naming their
/// dataset); Tocsin's id only for incidents recorded here.
fn acled_id(i: &Incident) -> String {
    match &i.external_id {
        Some(e) if !e.is_empty() => e.clone(),
        _ => i.id.to_string(),
    }
}

/// ACLED's `disorder_type` for a type and sub-type, as ACLED assigns it.
fn disorder_type(event_type: &str, sub_event_type: &str) -> &'static str {
    match (event_type, sub_event_type) {
        ("Protests", "Excessive force against protesters") => "Political violence; Demonstrations",
        ("Protests", _) | ("Riots", "Violent demonstration") => "Demonstrations",
        ("Strategic developments", _) => "Strategic developments",
        _ => "Political violence",
    }
}

fn acled_row(i: &Incident) -> [String; 31] {
    let civ = if i.targeted_group.as_deref() == Some("civilians") {
        "Civilian targeting"
    } else {
        ""
    };
    [
        acled_id(i),
        i.event_date.to_string(),
        i.event_date.format("%Y").to_string(),
        i.date_precision.to_string(),
        disorder_type(&i.event_type, &i.sub_event_type).to_string(),
        i.event_type.clone(),
        i.sub_event_type.clone(),
        o(&i.actor1),
        String::new(),
        String::new(),
        o(&i.actor2),
        String::new(),
        String::new(),
        String::new(),
        civ.to_string(),
        i.country
            .numeric()
            .unwrap_or("")
            .trim_start_matches('0')
            .to_string(),
        String::new(),
        i.country.name().to_string(),
        o(&i.admin1),
        o(&i.admin2),
        String::new(),
        o(&i.location),
        i.latitude.to_string(),
        i.longitude.to_string(),
        i.geo_precision.to_string(),
        // ACLED's `source` names the reports an event was coded from; incidents keep none
        // apart from their description, so it stays empty rather than naming the dataset.
        String::new(),
        String::new(),
        i.description.clone(),
        i.fatalities.to_string(),
        String::new(),
        // ACLED's `timestamp`: when the row last changed, as Unix seconds.
        i.updated_at.timestamp().to_string(),
    ]
}

/// One incident as a GeoJSON point feature: the [`COLUMNS`] but latitude and longitude as
/// properties, in that order, numbers as JSON numbers (`null` when absent) and text as
/// strings. Written straight from the incident's fields (exports write millions of these).
fn geojson_feature(f: &mut Vec<u8>, i: &Incident) {
    use std::io::Write as _;
    let _ = write!(
        f,
        "{{\"type\":\"Feature\",\"geometry\":{{\"type\":\"Point\",\"coordinates\":[{},{}]}},\"properties\":{{",
        i.longitude, i.latitude
    );
    let mut int = itoa::Buffer::new();
    let mut num = |f: &mut Vec<u8>, name: &str, v: Option<i64>| {
        key(f, name);
        match v {
            Some(v) => f.extend_from_slice(int.format(v).as_bytes()),
            None => f.extend_from_slice(b"null"),
        }
    };
    let text = |f: &mut Vec<u8>, name: &str, v: Option<&str>| {
        key(f, name);
        json_str(f, v.unwrap_or(""));
    };
    let mut id = uuid::Uuid::encode_buffer();
    text(f, "id", Some(i.id.hyphenated().encode_lower(&mut id)));
    text(f, "dataset", i.dataset.as_deref());
    text(f, "external_id", i.external_id.as_deref());
    key(f, "event_date");
    let _ = write!(f, "\"{}\"", i.event_date);
    num(f, "date_precision", Some(i.date_precision.into()));
    text(f, "event_type", Some(&i.event_type));
    text(f, "sub_event_type", Some(&i.sub_event_type));
    num(f, "violence_type", i.violence_type.map(i64::from));
    text(f, "country", Some(i.country.code()));
    text(f, "admin1", i.admin1.as_deref());
    text(f, "admin2", i.admin2.as_deref());
    text(f, "location", i.location.as_deref());
    num(f, "geo_precision", Some(i.geo_precision.into()));
    text(f, "actor1", i.actor1.as_deref());
    text(f, "actor2", i.actor2.as_deref());
    text(f, "targeted_group", i.targeted_group.as_deref());
    num(f, "fatalities", Some(i.fatalities));
    num(f, "fatalities_low", i.fatalities_low);
    num(f, "fatalities_high", i.fatalities_high);
    num(f, "credibility", Some(i.credibility.into()));
    text(
        f,
        "verification_status",
        Some(i.verification_status.as_str()),
    );
    text(f, "description", Some(&i.description));
    text(f, "tlp", Some(i.tlp.as_str()));
    key(f, "updated_at");
    f.push(b'"');
    tocsin_domain::time::write_to(f, &i.updated_at);
    f.extend_from_slice(b"\"}}");
}

/// `"name":`, after a comma unless it is the first property.
fn key(f: &mut Vec<u8>, name: &str) {
    if f.last() != Some(&b'{') {
        f.push(b',');
    }
    f.push(b'"');
    f.extend_from_slice(name.as_bytes());
    f.extend_from_slice(b"\":");
}

/// A JSON string, escaped as serde_json escapes it.
fn json_str(f: &mut Vec<u8>, s: &str) {
    if s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        let _ = serde_json::to_writer(&mut *f, s);
    } else {
        f.push(b'"');
        f.extend_from_slice(s.as_bytes());
        f.push(b'"');
    }
}

/// Writes incidents one at a time in an export format.
pub struct ExportWriter<W: Write> {
    format: ExportFormat,
    csv: Option<csv::Writer<W>>,
    json: Option<std::io::BufWriter<W>>,
    /// One GeoJSON feature, built before it is written.
    feature: Vec<u8>,
    first: bool,
}

impl<W: Write> ExportWriter<W> {
    /// Start an export (writes the header).
    pub fn new(format: ExportFormat, out: W) -> std::io::Result<ExportWriter<W>> {
        let mut w = ExportWriter {
            format,
            csv: None,
            json: None,
            feature: Vec::with_capacity(1024),
            first: true,
        };
        match format {
            ExportFormat::GeoJson => {
                let mut out = std::io::BufWriter::with_capacity(256 * 1024, out);
                out.write_all(b"{\"type\":\"FeatureCollection\",\"features\":[\n")?;
                w.json = Some(out);
            }
            _ => {
                let mut c = csv::Writer::from_writer(out);
                match format {
                    ExportFormat::Acled => c.write_record(crate::acled::COLUMNS)?,
                    _ => c.write_record(COLUMNS.iter().map(|c| c.0))?,
                }
                if format == ExportFormat::Hxl {
                    c.write_record(COLUMNS.iter().map(|c| c.1))?;
                }
                w.csv = Some(c);
            }
        }
        Ok(w)
    }

    /// Write one incident.
    pub fn write(&mut self, i: &Incident) -> std::io::Result<()> {
        if let Some(c) = &mut self.csv {
            match self.format {
                ExportFormat::Acled => c.write_record(acled_row(i))?,
                _ => c.write_record(COLUMNS.iter().map(|col| (col.2)(i)))?,
            }
        } else if let Some(out) = &mut self.json {
            let f = &mut self.feature;
            f.clear();
            if !self.first {
                f.extend_from_slice(b",\n");
            }
            geojson_feature(f, i);
            out.write_all(f)?;
        }
        self.first = false;
        Ok(())
    }

    /// Push buffered bytes to the underlying writer.
    pub fn flush(&mut self) -> std::io::Result<()> {
        match (&mut self.csv, &mut self.json) {
            (Some(c), _) => c.flush(),
            (_, Some(j)) => j.flush(),
            _ => Ok(()),
        }
    }

    /// Finish the export and return the writer.
    pub fn finish(self) -> std::io::Result<W> {
        if let Some(c) = self.csv {
            return c.into_inner().map_err(|e| e.into_error());
        }
        let mut out = self.json.expect("a writer is always set");
        out.write_all(b"\n]}\n")?;
        out.into_inner().map_err(|e| e.into_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NUMERIC: &[&str] = &[
        "date_precision",
        "violence_type",
        "geo_precision",
        "fatalities",
        "fatalities_low",
        "fatalities_high",
        "credibility",
    ];

    #[test]
    fn acled_rows_carry_the_external_id_and_acled_meanings() {
        let mut i = incident();
        i.dataset = Some("ucdp-ged".into());
        i.external_id = Some("71663".into());
        let row = acled_row(&i);
        assert_eq!(
            row[0], "71663",
            "event_id_cnty is the external id, not a UUID"
        );
        assert_eq!(row[4], "Political violence");
        assert_eq!(row[14], "");
        i.targeted_group = Some("civilians".into());
        assert_eq!(acled_row(&i)[14], "Civilian targeting");
        assert_eq!(
            row[25], "",
            "source is ACLED's news sources, never the dataset"
        );
        assert_eq!(row[30], i.updated_at.timestamp().to_string());
        i.external_id = None;
        assert_eq!(acled_row(&i)[0], i.id.to_string());
        assert_eq!(
            disorder_type("Protests", "Peaceful protest"),
            "Demonstrations"
        );
        assert_eq!(
            disorder_type("Protests", "Excessive force against protesters"),
            "Political violence; Demonstrations"
        );
        assert_eq!(disorder_type("Riots", "Mob violence"), "Political violence");
        assert_eq!(
            disorder_type("Strategic developments", "Arrests"),
            "Strategic developments"
        );
    }

    fn incident() -> Incident {
        let mut i = Incident::parse(tocsin_domain::IncidentInput {
            event_date: "2024-03-15".into(),
            event_type: "Violence against civilians".into(),
            sub_event_type: "Attack".into(),
            country: "CAF".into(),
            latitude: 6.25,
            longitude: -20.125,
            fatalities: 4,
            description: "Quote \" backslash \\ tab\t newline\n bell\u{7} é ✓".into(),
            tlp: tocsin_domain::Tlp::Amber,
            ..Default::default()
        })
        .unwrap();
        i.dataset = Some("acled".into());
        i.external_id = Some("CAF1".into());
        i.admin1 = Some("Ouaka".into());
        i.fatalities_high = Some(7);
        i.violence_type = Some(3);
        i
    }

    /// The GeoJSON writer gives every column of [`COLUMNS`] (but the coordinates), in order,
    /// with the point's coordinates: numbers as numbers (null when absent), text as the CSV
    /// export writes it.
    #[test]
    fn geojson_feature_keeps_every_column_and_its_type() {
        for i in [incident(), {
            let mut i = incident();
            i.latitude = 1e-7;
            i.longitude = 180.0;
            i.admin1 = None;
            i.description = String::new();
            i
        }] {
            let mut f = Vec::new();
            geojson_feature(&mut f, &i);
            let v: serde_json::Value = serde_json::from_slice(&f).unwrap();
            assert_eq!(v["type"], "Feature");
            assert_eq!(v["geometry"]["coordinates"][0].as_f64(), Some(i.longitude));
            assert_eq!(v["geometry"]["coordinates"][1].as_f64(), Some(i.latitude));
            let props = v["properties"].as_object().unwrap();
            let expected: Vec<(String, serde_json::Value)> = COLUMNS
                .iter()
                .filter(|c| !matches!(c.0, "latitude" | "longitude"))
                .map(|(name, _, get)| {
                    let text = get(&i);
                    let v = if NUMERIC.contains(name) {
                        text.parse::<i64>()
                            .map_or(serde_json::Value::Null, Into::into)
                    } else {
                        text.into()
                    };
                    (name.to_string(), v)
                })
                .collect();
            let got: Vec<(String, serde_json::Value)> =
                props.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            let mut sorted = expected.clone();
            sorted.sort_by(|a, b| a.0.cmp(&b.0));
            assert_eq!(got, sorted, "serde_json's map sorts keys");
            // And the bytes keep the columns' order.
            let text = String::from_utf8(f).unwrap();
            let mut at = 0;
            for (name, _) in &expected {
                let p = text[at..].find(&format!("\"{name}\":")).unwrap();
                at += p;
            }
        }
    }
}
