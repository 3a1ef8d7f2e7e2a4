//! CSV with a row of HXL hashtags (Humanitarian Exchange Language), mapped by hashtag.
//!
//! The tag row may be the first row or follow a row of column names (its first cell may be
//! the index pandas writes). Event dates come from `#date+occurred`, `#date+start` or
//! `#date`, never from `#date+year…`. Without an id tag, the column named `event_id_cnty`
//! (ACLED) or, in a UCDP GED file, `id` gives the identity, so a corrected re-import
//! updates; UCDP's `type_of_violence` gives the event type when no tag does. Recognised tags
//! (attributes in any order, extra attributes allowed): `#meta+id` or `#event+id` (external
//! id; without one, a hash of the row's content serves, so re-imports still update),
//! `#meta+dataset`, `#date+occurred` / `#date+start` / `#date`, `#date+precision`,
//! `#event+type`, `#event+subtype`, `#event+violence`, `#country+code`, `#country+name`,
//! `#adm1+name`, `#adm2+name`, `#loc+name`, `#geo+lat`, `#geo+lon`, `#geo+precision`,
//! `#group+name+first`, `#group+name+second`, `#group+targeted`, `#affected+killed`
//! (`+low`, `+high`), `#meta+credibility`, `#status+verification`, `#description`,
//! `#meta+source`, `#meta+tlp`.

use csv::ByteRecord;
use sha2::{Digest, Sha256};
use std::io::Read;
use tocsin_domain::{Tlp, VerificationStatus};

use crate::columns;
use crate::limit::LineLimited;
use crate::{date, num, opt, opt_num, Draft, Geo, ImportError, ImportOptions, Row};

/// Whether a record is a row of HXL hashtags. Its first cell may instead be a number: the
/// index column pandas adds when it saves a frame (`0,#date+year,…`).
pub fn is_tag_row(rec: &ByteRecord) -> bool {
    let mut tags = 0;
    for (i, c) in rec.iter().enumerate() {
        let c = c.trim_ascii();
        if c.is_empty() {
            continue;
        }
        if c.starts_with(b"#") {
            tags += 1;
        } else if !(i == 0 && c.iter().all(u8::is_ascii_digit)) {
            return false;
        }
    }
    tags > 0
}

/// A parsed hashtag: `#group+name+first` → ("group", {"name", "first"}).
struct Tag {
    base: String,
    attrs: Vec<String>,
}

impl Tag {
    fn parse(s: &str) -> Option<Tag> {
        let s = s.trim().to_ascii_lowercase();
        let s = s.strip_prefix('#')?;
        let mut parts = s.split('+').map(str::trim);
        let base = parts.next()?.to_string();
        Some(Tag {
            base,
            attrs: parts
                .filter(|p| !p.is_empty())
                .map(str::to_string)
                .collect(),
        })
    }

    fn matches(&self, base: &str, attrs: &[&str], not: &[&str]) -> bool {
        self.base == base
            && attrs.iter().all(|a| self.attrs.iter().any(|x| x == a))
            && !not.iter().any(|a| self.attrs.iter().any(|x| x == a))
    }
}

struct Map {
    tags: Vec<Option<Tag>>,
}

impl Map {
    /// The first column matching `base` with `attrs` and none of `not`.
    fn find(&self, base: &str, attrs: &[&str], not: &[&str]) -> Option<usize> {
        self.tags
            .iter()
            .position(|t| t.as_ref().is_some_and(|t| t.matches(base, attrs, not)))
    }
}

struct Cols {
    id: Option<usize>,
    tocsin_id: Option<usize>,
    dataset: Option<usize>,
    date: Option<usize>,
    date_prec: Option<usize>,
    etype: Option<usize>,
    subtype: Option<usize>,
    violence: Option<usize>,
    ccode: Option<usize>,
    cname: Option<usize>,
    adm1: Option<usize>,
    adm2: Option<usize>,
    loc: Option<usize>,
    lat: Option<usize>,
    lon: Option<usize>,
    geo_prec: Option<usize>,
    actor1: Option<usize>,
    actor2: Option<usize>,
    target: Option<usize>,
    killed: Option<usize>,
    killed_low: Option<usize>,
    killed_high: Option<usize>,
    credibility: Option<usize>,
    verification: Option<usize>,
    description: Option<usize>,
    source: Option<usize>,
    tlp: Option<usize>,
}

impl Cols {
    fn new(m: &Map) -> Cols {
        Cols {
            id: m
                .find("meta", &["external"], &[])
                .or(m.find("meta", &["id"], &[]))
                .or(m.find("event", &["id"], &[])),
            tocsin_id: m.find("meta", &["id"], &[]),
            dataset: m.find("meta", &["dataset"], &[]),
            // `#date+year…` is a year, never an event's date.
            date: m
                .find("date", &["occurred"], &["year"])
                .or(m.find("date", &["start"], &["year", "month"]))
                .or(m.find(
                    "date",
                    &[],
                    &["year", "month", "end", "precision", "updated", "reported"],
                )),
            date_prec: m.find("date", &["precision"], &[]),
            etype: m.find("event", &["type"], &["sub"]),
            subtype: m
                .find("event", &["subtype"], &[])
                .or(m.find("event", &["type", "sub"], &[])),
            violence: m.find("event", &["violence"], &[]),
            ccode: m.find("country", &["code"], &[]),
            cname: m.find("country", &["name"], &[]),
            adm1: m.find("adm1", &[], &["code"]),
            adm2: m.find("adm2", &[], &["code"]),
            loc: m.find("loc", &[], &["code"]),
            lat: m.find("geo", &["lat"], &[]),
            lon: m.find("geo", &["lon"], &[]),
            geo_prec: m.find("geo", &["precision"], &[]),
            actor1: m.find("group", &["first"], &[]),
            actor2: m.find("group", &["second"], &[]),
            target: m.find("group", &["targeted"], &[]),
            killed: m.find("affected", &["killed"], &["low", "high"]),
            killed_low: m.find("affected", &["killed", "low"], &[]),
            killed_high: m.find("affected", &["killed", "high"], &[]),
            credibility: m.find("meta", &["credibility"], &[]),
            verification: m.find("status", &["verification"], &[]),
            description: m
                .find("description", &[], &[])
                .or(m.find("event", &["description"], &[])),
            source: m.find("meta", &["source"], &[]),
            tlp: m.find("meta", &["tlp"], &[]),
        }
    }
}

/// What the row of column names above the tags says about the dataset: an identity column
/// (UCDP's `id`, ACLED's `event_id_cnty`) and UCDP's `type_of_violence`.
#[derive(Default)]
struct Named {
    id: Option<usize>,
    type_of_violence: Option<usize>,
}

impl Named {
    fn new(names: &[String]) -> Named {
        let at = |n: &str| names.iter().position(|x| x == n);
        let ucdp = at("type_of_violence").is_some() && at("date_start").is_some();
        Named {
            id: at("event_id_cnty").or(if ucdp { at("id") } else { None }),
            type_of_violence: if ucdp { at("type_of_violence") } else { None },
        }
    }
}

fn draft(
    rec: &ByteRecord,
    c: &Cols,
    named: &Named,
    opts: &ImportOptions,
    geo: &dyn Geo,
) -> Result<(Draft, Option<String>), String> {
    let get = |i: Option<usize>| -> Result<String, String> {
        match i {
            Some(i) => std::str::from_utf8(rec.get(i).unwrap_or(b""))
                .map(|s| s.trim().to_string())
                .map_err(|_| format!("column {}: invalid UTF-8", i + 1)),
            None => Ok(String::new()),
        }
    };
    // Without an id tag, the dataset's own identity column, else a hash of the content.
    let external_id = match opt(&get(c.id)?)
        .or(opt(&get(c.tocsin_id)?))
        .or(opt(&get(named.id)?))
    {
        Some(id) => id,
        None => {
            let mut h = Sha256::new();
            for f in rec.iter() {
                h.update((f.len() as u64).to_be_bytes());
                h.update(f);
            }
            format!("sha256:{}", &hex::encode(h.finalize())[..32])
        }
    };
    let tov: Option<i16> = opt_num("type_of_violence", &get(named.type_of_violence)?)?;
    let (et, sub) = match (opt(&get(c.etype)?), opt(&get(c.subtype)?), tov) {
        (Some(t), Some(s), _) => (t, s),
        // UCDP's type of violence, as `import ucdp` maps it.
        (_, _, Some(1 | 2)) => ("Battles".into(), "Armed clash".into()),
        (_, _, Some(3)) => ("Violence against civilians".into(), "Attack".into()),
        _ => opts
            .default_event_type
            .clone()
            .ok_or("no #event+type and #event+subtype, and no default event type given")?,
    };
    let country = [get(c.ccode)?, get(c.cname)?]
        .iter()
        .find_map(|s| opt(s).and_then(|s| geo.country(&s)));
    let (lat, lon) = (get(c.lat)?, get(c.lon)?);
    if crate::is_missing(&lat) || crate::is_missing(&lon) {
        return Err("no #geo+lat/#geo+lon".into());
    }
    let description = [
        opt(&get(c.description)?),
        opt(&get(c.source)?).map(|s| format!("source: {s}")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" — ");
    let verification = opt(&get(c.verification)?)
        .map(|v| VerificationStatus::parse_lenient(&v).map_err(|e| e.to_string()))
        .transpose()?;
    let tlp = opt(&get(c.tlp)?)
        .map(|t| t.parse::<Tlp>().map_err(|e| e.to_string()))
        .transpose()?;
    let draft = Draft {
        external_id,
        event_date: date("#date", &get(c.date)?, opts.date_format.as_deref())?,
        date_precision: opt_num("#date+precision", &get(c.date_prec)?)?,
        event_type: et,
        sub_event_type: sub,
        violence_type: opt_num("#event+violence", &get(c.violence)?)?.or(tov),
        country,
        admin1: opt(&get(c.adm1)?),
        admin2: opt(&get(c.adm2)?),
        location: opt(&get(c.loc)?),
        latitude: num("#geo+lat", &lat)?,
        longitude: num("#geo+lon", &lon)?,
        geo_precision: opt_num("#geo+precision", &get(c.geo_prec)?)?,
        actor1: opt(&get(c.actor1)?),
        actor2: opt(&get(c.actor2)?),
        targeted_group: opt(&get(c.target)?).or((tov == Some(3)).then(|| "civilians".to_string())),
        fatalities: opt_num("#affected+killed", &get(c.killed)?)?.unwrap_or(0),
        fatalities_low: opt_num("#affected+killed+low", &get(c.killed_low)?)?,
        fatalities_high: opt_num("#affected+killed+high", &get(c.killed_high)?)?,
        credibility: opt_num("#meta+credibility", &get(c.credibility)?)?,
        verification,
        description,
        tlp,
        country_fallback: None,
    };
    Ok((draft, opt(&get(c.dataset)?)))
}

/// Read an HXL-tagged CSV.
pub fn read<R: Read>(
    input: LineLimited<R>,
    opts: &ImportOptions,
    geo: &dyn Geo,
    sink: &mut dyn FnMut(Row) -> Result<(), String>,
) -> Result<(), ImportError> {
    let mut rdr = columns::reader(input, b',', false);
    let mut cols: Option<(Cols, usize)> = None;
    let mut before_tags = 0;
    let mut names: Vec<String> = Vec::new();
    let mut named = Named::default();
    let sink = std::cell::RefCell::new(sink);
    let send = |row: Row| (sink.borrow_mut())(row).map_err(ImportError::Sink);
    columns::for_each_record(
        &mut rdr,
        None,
        |line, rec| {
            let Some((c, width)) = &cols else {
                if is_tag_row(rec) {
                    let map = Map {
                        tags: rec
                            .iter()
                            .map(|t| Tag::parse(&String::from_utf8_lossy(t)))
                            .collect(),
                    };
                    let c = Cols::new(&map);
                    if c.date.is_none() || c.lat.is_none() || c.lon.is_none() {
                        return Err(ImportError::Format(
                            "HXL tag row lacks a #date, #geo+lat or #geo+lon column".into(),
                        ));
                    }
                    cols = Some((c, rec.len()));
                    named = Named::new(&names);
                    return Ok(());
                }
                names = rec
                    .iter()
                    .map(|f| String::from_utf8_lossy(f).trim().to_ascii_lowercase())
                    .collect();
                before_tags += 1;
                if before_tags > 25 {
                    return Err(ImportError::Format(
                        "not an HXL file: no row of #hashtags among the first 25 rows".into(),
                    ));
                }
                return Ok(());
            };
            if rec.len() != *width {
                return send(Row::Rejected {
                    line,
                    reason: format!(
                        "expected {width} columns, found {} (truncated or malformed row)",
                        rec.len()
                    ),
                });
            }
            let row =
                match draft(rec, c, &named, opts, geo).and_then(|(d, dataset)| match dataset {
                    Some(ds) if ds != opts.dataset => {
                        let mut o = opts.clone();
                        o.dataset = ds;
                        d.finish(&o, geo)
                    }
                    _ => d.finish(opts, geo),
                }) {
                    Ok(i) => Row::Incident(Box::new(i)),
                    Err(reason) => Row::Rejected { line, reason },
                };
            send(row)
        },
        |line, reason| send(Row::Rejected { line, reason }),
    )?;
    if cols.is_none() {
        return Err(ImportError::Format(
            "not an HXL file: no row of #hashtags".into(),
        ));
    }
    Ok(())
}
