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

/// ACLED's `event_id_cnty`: the external id for ACLED data, else Tocsin's id.
fn acled_id(i: &Incident) -> String {
    match (&i.dataset, &i.external_id) {
        (Some(d), Some(e)) if d == "acled" => e.clone(),
        _ => i.id.to_string(),
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
        String::new(),
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
        o(&i.dataset),
        String::new(),
        i.description.clone(),
        i.fatalities.to_string(),
        String::new(),
        i.updated_at.timestamp().to_string(),
    ]
}

/// Writes incidents one at a time in an export format.
pub struct ExportWriter<W: Write> {
    format: ExportFormat,
    csv: Option<csv::Writer<W>>,
    json: Option<std::io::BufWriter<W>>,
    first: bool,
}

impl<W: Write> ExportWriter<W> {
    /// Start an export (writes the header).
    pub fn new(format: ExportFormat, out: W) -> std::io::Result<ExportWriter<W>> {
        let mut w = ExportWriter {
            format,
            csv: None,
            json: None,
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
            if !self.first {
                out.write_all(b",\n")?;
            }
            write!(
                out,
                "{{\"type\":\"Feature\",\"geometry\":{{\"type\":\"Point\",\"coordinates\":[{},{}]}},\"properties\":{{",
                i.longitude, i.latitude
            )?;
            let mut sep = "";
            for (name, _, get) in COLUMNS
                .iter()
                .filter(|c| !matches!(c.0, "latitude" | "longitude"))
            {
                out.write_all(sep.as_bytes())?;
                sep = ",";
                write!(out, "\"{name}\":")?;
                serde_json::to_writer(&mut *out, &get(i))?;
            }
            out.write_all(b"}}")?;
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
