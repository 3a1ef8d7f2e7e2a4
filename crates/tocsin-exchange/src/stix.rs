//! STIX 2.1 bundles with TLP 2.0 markings: writing shared incidents ([`StixWriter`], streamed)
//! and reading other organisations' bundles ([`read_bundle`], as MISP and OpenCTI export them).
//!
//! **Writing.** A bundle holds the TLP 2.0 marking definitions of the OASIS extension
//! (`extension-definition--60a3c5c5-…`), an `identity` for this organisation, the
//! `extension-definition` of Tocsin's incident properties (ACLED typology, date, deaths,
//! Admiralty grade), and per incident a `location`, an `incident` and a `located-at`
//! `relationship`, every one carrying `object_marking_refs`. Ids are UUIDv5 from this
//! installation's id and the record's, so a re-export gives the same ids (`modified` is the
//! record's version time): receivers update rather than duplicate.
//!
//! **Reading.** The bundle is parsed whole into typed fields (nothing else is kept) before
//! anything is decided; a bundle that is not JSON, not a bundle, too large or of the wrong
//! shape is refused whole ([`StixError`]). Then each `incident` (and each `report` or
//! `grouping` that names no incident: how MISP exports an event) becomes an
//! [`IncomingIncident`] or a [`Refusal`] naming the object and the reason: no TLP marking
//! (Tocsin does not guess a label), an unknown marking, no place it can put on the map, a
//! field Tocsin refuses.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use sha1::{Digest, Sha1};
use std::collections::HashMap;
use std::io::Write;
pub use tocsin_domain::share::Refusal;
use tocsin_domain::share::SharedIncident;
use tocsin_domain::{
    Country, Incident, IncidentInput, IncomingIncident, IncomingItem, SharedFactor, SharedItem,
    SharedKind, Tlp,
};
use uuid::Uuid;

use crate::Geo;

/// The OASIS TLP 2.0 marking extension.
pub const TLP2_EXTENSION: &str = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";

/// Tocsin's property extension on `incident`: the ACLED typology, the event date, deaths and
/// the Admiralty grade (fixed for every installation, so receivers recognise it).
pub const TOCSIN_EXTENSION: &str = "extension-definition--51e9308c-2d8e-523f-ac06-f5806846f8d9";

/// Tocsin's property extension on the `report`, `note` and `course-of-action` objects that
/// carry records other than incidents (assessments, alerts, rumours, actions): their kind,
/// status, level, country, risk factor levels and an alert's CAP form.
pub const TOCSIN_ITEM_EXTENSION: &str =
    "extension-definition--51c70105-c927-563d-b54f-3fc83ee42b42";

/// The published TLP 2.0 marking definitions (OASIS `cti-stix-common-objects`), by label.
pub const TLP2_MARKINGS: [(Tlp, &str, &str); 5] = [
    (
        Tlp::Clear,
        "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
        "clear",
    ),
    (
        Tlp::Green,
        "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
        "green",
    ),
    (
        Tlp::Amber,
        "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
        "amber",
    ),
    (
        Tlp::AmberStrict,
        "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
        "amber+strict",
    ),
    (
        Tlp::Red,
        "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
        "red",
    ),
];

/// The TLP 1.0 marking definitions of STIX 2.1 itself (section 7.2.1.4), by label
/// (TLP:WHITE read as TLP:CLEAR).
pub const TLP1_MARKINGS: [(Tlp, &str); 4] = [
    (
        Tlp::Clear,
        "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
    ),
    (
        Tlp::Green,
        "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
    ),
    (
        Tlp::Amber,
        "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
    ),
    (
        Tlp::Red,
        "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
    ),
];

/// The TLP 2.0 marking definition id of a label.
pub fn marking_id(t: Tlp) -> &'static str {
    TLP2_MARKINGS
        .iter()
        .find(|(l, _, _)| *l == t)
        .map(|(_, id, _)| *id)
        .expect("every label has a marking")
}

/// A UUIDv5 (RFC 4122, SHA-1) of `name` in the namespace `ns`.
pub fn uuid_v5(ns: Uuid, name: &str) -> Uuid {
    let mut h = Sha1::new();
    h.update(ns.as_bytes());
    h.update(name.as_bytes());
    let d = h.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    uuid::Builder::from_sha1_bytes(b).into_uuid()
}

fn stamp(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Who writes a bundle: this organisation's name and this installation's id.
#[derive(Debug, Clone)]
pub struct StixOrg {
    /// Shown as the `identity`'s name.
    pub name: String,
    /// The seed of every id the bundle gives.
    pub instance_id: Uuid,
}

impl StixOrg {
    /// The STIX id of `kind` for the record `id` (`incident--…`, `location--…`).
    pub fn object_id(&self, kind: &str, id: Uuid) -> String {
        format!(
            "{kind}--{}",
            uuid_v5(self.instance_id, &format!("{kind}/{id}"))
        )
    }

    /// This organisation's `identity` id.
    pub fn identity_id(&self) -> String {
        format!("identity--{}", uuid_v5(self.instance_id, "identity"))
    }
}

/// The fixed creation time of the identity and extension definition a bundle carries.
const FIXED_CREATED: &str = "2026-01-01T00:00:00.000Z";

/// Writes a STIX 2.1 bundle object by object, so memory stays constant however many
/// incidents it holds.
pub struct StixWriter<W: Write> {
    w: W,
    org: StixOrg,
    identity: String,
    n: u64,
    item_extension: bool,
}

impl<W: Write> StixWriter<W> {
    /// Start a bundle: the TLP 2.0 marking definitions up to `max_tlp`, the organisation's
    /// identity and Tocsin's extension definition.
    pub fn new(mut w: W, org: StixOrg, max_tlp: Tlp) -> std::io::Result<Self> {
        write!(
            w,
            "{{\"type\":\"bundle\",\"id\":\"bundle--{}\",\"objects\":[",
            Uuid::new_v4()
        )?;
        let identity = org.identity_id();
        let mut s = StixWriter {
            w,
            org,
            identity,
            n: 0,
            item_extension: false,
        };
        for (t, id, level) in TLP2_MARKINGS {
            if t <= max_tlp || t == Tlp::Clear {
                s.object(&json!({
                    "type": "marking-definition",
                    "spec_version": "2.1",
                    "id": id,
                    "created": "2022-10-01T00:00:00.000Z",
                    "name": t.as_str(),
                    "extensions": {
                        TLP2_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": level}
                    }
                }))?;
            }
        }
        let clear = marking_id(Tlp::Clear);
        let identity = json!({
            "type": "identity",
            "spec_version": "2.1",
            "id": s.identity,
            "created": FIXED_CREATED,
            "modified": FIXED_CREATED,
            "name": s.org.name,
            "identity_class": "organization",
            "object_marking_refs": [clear],
        });
        s.object(&identity)?;
        let ext = json!({
            "type": "extension-definition",
            "spec_version": "2.1",
            "id": TOCSIN_EXTENSION,
            "created_by_ref": s.identity,
            "created": FIXED_CREATED,
            "modified": FIXED_CREATED,
            "name": "Tocsin incident",
            "description": "What an atrocity early-warning incident adds to a STIX incident.",
            "schema": "Properties of a Tocsin incident: event_date (YYYY-MM-DD), date_precision \
                (1 exact day, 2 within a week, 3 within a month), event_type and sub_event_type \
                (ACLED typology), fatalities (best estimate), fatalities_low, fatalities_high, \
                actor1, actor2, targeted_group, admin2, geo_precision (1 exact, 2 near, 3 \
                region), reliability (Admiralty A-F of the best source) and credibility (1-6), \
                admiralty_grade (both, e.g. B2), verification_status, violence_type (UCDP 1-3), \
                version.",
            "version": "1.0.0",
            "extension_types": ["property-extension"],
            "object_marking_refs": [clear],
        });
        s.object(&ext)?;
        Ok(s)
    }

    fn object(&mut self, v: &Value) -> std::io::Result<()> {
        if self.n > 0 {
            self.w.write_all(b",")?;
        }
        self.n += 1;
        serde_json::to_writer(&mut self.w, v).map_err(std::io::Error::other)
    }

    fn typed<T: serde::Serialize>(&mut self, v: &T) -> std::io::Result<()> {
        if self.n > 0 {
            self.w.write_all(b",")?;
        }
        self.n += 1;
        serde_json::to_writer(&mut self.w, v).map_err(std::io::Error::other)
    }

    /// Add one incident: its location, the incident and the relationship between them.
    /// Written straight from typed structs (no JSON tree per object), keys in the order a
    /// JSON object map would sort them.
    pub fn write(&mut self, i: &SharedIncident) -> std::io::Result<()> {
        let marking = [marking_id(i.tlp)];
        let (created, modified) = (stamp(&i.created_at), stamp(&i.updated_at.max(i.created_at)));
        let loc_id = self.org.object_id("location", i.id);
        let inc_id = self.org.object_id("incident", i.id);
        let place: &str = i
            .location
            .as_deref()
            .or(i.admin1.as_deref())
            .unwrap_or_else(|| i.country.name());
        let identity = self.identity.clone();
        self.typed(&StixLocation {
            administrative_area: i.admin1.as_deref(),
            city: i.location.as_deref(),
            country: i.country.alpha2(),
            created: &created,
            created_by_ref: &identity,
            id: &loc_id,
            latitude: i.latitude,
            longitude: i.longitude,
            modified: &modified,
            name: place,
            object_marking_refs: &marking,
            spec_version: "2.1",
            kind: "location",
        })?;
        let event_date = i.event_date.to_string();
        let name = format!(
            "{}: {}, {}, {}",
            i.event_type, i.sub_event_type, place, i.event_date
        );
        self.typed(&StixIncident {
            created: &created,
            created_by_ref: &identity,
            description: Some(i.description.as_str()).filter(|d| !d.trim().is_empty()),
            extensions: IncidentExtensions {
                tocsin: TocsinIncidentProps {
                    actor1: i.actor1.as_deref(),
                    actor2: i.actor2.as_deref(),
                    admin2: i.admin2.as_deref(),
                    admiralty_grade: &i.grading,
                    credibility: i.credibility,
                    date_precision: i.date_precision,
                    event_date: &event_date,
                    event_type: &i.event_type,
                    extension_type: "property-extension",
                    fatalities: i.fatalities,
                    fatalities_high: i.fatalities_high,
                    fatalities_low: i.fatalities_low,
                    geo_precision: i.geo_precision,
                    reliability: i.reliability.as_str(),
                    sub_event_type: &i.sub_event_type,
                    targeted_group: i.targeted_group.as_deref(),
                    verification_status: i.verification_status.as_str(),
                    version: i.version,
                    violence_type: i.violence_type,
                },
            },
            id: &inc_id,
            modified: &modified,
            name: &name,
            object_marking_refs: &marking,
            spec_version: "2.1",
            kind: "incident",
        })?;
        let rel_id = self.org.object_id("relationship", i.id);
        self.typed(&StixRelationship {
            created: &created,
            created_by_ref: &identity,
            id: &rel_id,
            modified: &modified,
            object_marking_refs: &marking,
            relationship_type: "located-at",
            source_ref: &inc_id,
            spec_version: "2.1",
            target_ref: &loc_id,
            kind: "relationship",
        })
    }

    /// Add the retraction of a record sent before (STIX `revoked`): its id, the time it was
    /// retracted and the label it was sent under; nothing else of it. `kind` is `incident` or
    /// a [`SharedKind`]'s name (what the record was sent as).
    pub fn write_revoked(
        &mut self,
        kind: &str,
        id: Uuid,
        created: &DateTime<Utc>,
        retracted_at: &DateTime<Utc>,
        tlp: Tlp,
    ) -> std::io::Result<()> {
        let created = stamp(&(*created).min(*retracted_at));
        if let Ok(k) = SharedKind::parse(kind) {
            self.item_extension()?;
            let mut o = json!({
                "type": k.stix_type(),
                "spec_version": "2.1",
                "id": self.org.object_id(k.stix_type(), id),
                "created": created,
                "modified": stamp(retracted_at),
                "created_by_ref": self.identity,
                "revoked": true,
                "object_marking_refs": [marking_id(tlp)],
                "extensions": {
                    TOCSIN_ITEM_EXTENSION: {"extension_type": "property-extension", "kind": k.as_str()}
                },
            });
            let m = o.as_object_mut().expect("an object");
            match k.stix_type() {
                "note" => {
                    m.insert("content".into(), "Retracted".into());
                    m.insert("object_refs".into(), json!([self.identity]));
                }
                "report" => {
                    m.insert("name".into(), "Retracted".into());
                    m.insert(
                        "published".into(),
                        retracted_at
                            .to_rfc3339_opts(SecondsFormat::Secs, true)
                            .into(),
                    );
                    m.insert("object_refs".into(), json!([self.identity]));
                }
                _ => {
                    m.insert("name".into(), "Retracted".into());
                }
            }
            return self.object(&o);
        }
        let inc_id = self.org.object_id("incident", id);
        self.object(&json!({
            "type": "incident",
            "spec_version": "2.1",
            "id": inc_id,
            "created": created,
            "modified": stamp(retracted_at),
            "created_by_ref": self.identity,
            "name": "Retracted",
            "revoked": true,
            "object_marking_refs": [marking_id(tlp)],
        }))
    }

    /// The definition of Tocsin's item extension, written once, before the first item.
    fn item_extension(&mut self) -> std::io::Result<()> {
        if self.item_extension {
            return Ok(());
        }
        self.item_extension = true;
        let ext = json!({
            "type": "extension-definition",
            "spec_version": "2.1",
            "id": TOCSIN_ITEM_EXTENSION,
            "created_by_ref": self.identity,
            "created": FIXED_CREATED,
            "modified": FIXED_CREATED,
            "name": "Tocsin shared record",
            "description": "What an atrocity early-warning assessment, alert, rumour or \
                preventive action adds to a STIX report, note or course of action.",
            "schema": "Properties: kind (assessment, alert, rumour or action), status \
                (published; an alert's, rumour's or action's status), level (an assessment's \
                highest risk factor level, an alert's severity), country (ISO 3166-1 alpha-3), \
                factors (an assessment's risk factors: factor, level, confidence), cap (an \
                alert's CAP 1.2 message, XML), version.",
            "version": "1.0.0",
            "extension_types": ["property-extension"],
            "object_marking_refs": [marking_id(Tlp::Clear)],
        });
        self.object(&ext)
    }

    /// Add one record other than an incident: an assessment or an alert as a `report`, a
    /// rumour as a `note`, an action as a `course-of-action`, each referring to this
    /// organisation's identity and carrying Tocsin's item extension.
    pub fn write_item(&mut self, i: &SharedItem) -> std::io::Result<()> {
        self.item_extension()?;
        let stix_type = i.kind.stix_type();
        let (created, modified) = (stamp(&i.created_at), stamp(&i.updated_at.max(i.created_at)));
        let mut ext = json!({
            "extension_type": "property-extension",
            "kind": i.kind.as_str(),
            "status": i.status,
            "version": i.version,
        });
        let e = ext.as_object_mut().expect("an object");
        if let Some(l) = &i.level {
            e.insert("level".into(), l.as_str().into());
        }
        if let Some(c) = &i.country {
            e.insert("country".into(), c.code().into());
        }
        if !i.factors.is_empty() {
            e.insert(
                "factors".into(),
                serde_json::to_value(&i.factors).map_err(std::io::Error::other)?,
            );
        }
        if let Some(cap) = &i.cap {
            e.insert("cap".into(), cap.as_str().into());
        }
        let mut o = json!({
            "type": stix_type,
            "spec_version": "2.1",
            "id": self.org.object_id(stix_type, i.id),
            "created": created,
            "modified": modified,
            "created_by_ref": self.identity,
            "object_marking_refs": [marking_id(i.tlp)],
            "extensions": { TOCSIN_ITEM_EXTENSION: ext },
        });
        let m = o.as_object_mut().expect("an object");
        let summary = Some(i.summary.as_str()).filter(|s| !s.trim().is_empty());
        match stix_type {
            "note" => {
                m.insert("abstract".into(), i.title.as_str().into());
                m.insert("content".into(), summary.unwrap_or(&i.title).into());
                m.insert("object_refs".into(), json!([self.identity]));
            }
            "report" => {
                m.insert("name".into(), i.title.as_str().into());
                // To the second: `stix2` re-writes a fraction of `published` without its
                // trailing zeros.
                let published = i
                    .updated_at
                    .max(i.created_at)
                    .to_rfc3339_opts(SecondsFormat::Secs, true);
                m.insert("published".into(), published.into());
                m.insert("object_refs".into(), json!([self.identity]));
                if let Some(d) = summary {
                    m.insert("description".into(), d.into());
                }
            }
            _ => {
                m.insert("name".into(), i.title.as_str().into());
                if let Some(d) = summary {
                    m.insert("description".into(), d.into());
                }
            }
        }
        self.object(&o)
    }

    /// Close the bundle; answers the writer.
    pub fn finish(mut self) -> std::io::Result<W> {
        self.w.write_all(b"]}")?;
        self.w.flush()?;
        Ok(self.w)
    }
}

/// A STIX `location` as written (keys in sorted order).
#[derive(serde::Serialize)]
struct StixLocation<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    administrative_area: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    city: Option<&'a str>,
    country: &'a str,
    created: &'a str,
    created_by_ref: &'a str,
    id: &'a str,
    latitude: f64,
    longitude: f64,
    modified: &'a str,
    name: &'a str,
    object_marking_refs: &'a [&'a str; 1],
    spec_version: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
}

/// A STIX `incident` as written (keys in sorted order).
#[derive(serde::Serialize)]
struct StixIncident<'a> {
    created: &'a str,
    created_by_ref: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    extensions: IncidentExtensions<'a>,
    id: &'a str,
    modified: &'a str,
    name: &'a str,
    object_marking_refs: &'a [&'a str; 1],
    spec_version: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
}

#[derive(serde::Serialize)]
struct IncidentExtensions<'a> {
    #[serde(rename = "extension-definition--51e9308c-2d8e-523f-ac06-f5806846f8d9")]
    tocsin: TocsinIncidentProps<'a>,
}

/// Tocsin's properties of an incident (the extension's schema), keys in sorted order.
#[derive(serde::Serialize)]
struct TocsinIncidentProps<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    actor1: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    actor2: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    admin2: Option<&'a str>,
    admiralty_grade: &'a str,
    credibility: i16,
    date_precision: i16,
    event_date: &'a str,
    event_type: &'a str,
    extension_type: &'a str,
    fatalities: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    fatalities_high: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fatalities_low: Option<i64>,
    geo_precision: i16,
    reliability: &'a str,
    sub_event_type: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    targeted_group: Option<&'a str>,
    verification_status: &'a str,
    version: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    violence_type: Option<i16>,
}

/// A STIX `relationship` as written (keys in sorted order).
#[derive(serde::Serialize)]
struct StixRelationship<'a> {
    created: &'a str,
    created_by_ref: &'a str,
    id: &'a str,
    modified: &'a str,
    object_marking_refs: &'a [&'a str; 1],
    relationship_type: &'a str,
    source_ref: &'a str,
    spec_version: &'a str,
    target_ref: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
}

/// Why a bundle was refused whole (nothing is stored).
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum StixError {
    /// Larger than allowed.
    #[error("the bundle is larger than {0} bytes")]
    TooLarge(usize),
    /// Not a STIX 2.1 bundle Tocsin can read.
    #[error("not a STIX bundle Tocsin can read: {0}")]
    Malformed(String),
}

/// What a bundle holds for Tocsin.
#[derive(Debug, Default)]
pub struct StixImport {
    /// The incidents it carries, checked (one per STIX id, its latest version).
    pub incidents: Vec<IncomingIncident>,
    /// The records other than incidents it carries (Tocsin's item extension), checked.
    pub items: Vec<IncomingItem>,
    /// Objects refused, each with its reason.
    pub refused: Vec<Refusal>,
    /// Objects of kinds Tocsin does not take (indicators, identities…), counted.
    pub ignored: u64,
}

/// Limits on a bundle read.
#[derive(Debug, Clone, Copy)]
pub struct StixLimits {
    /// The most bytes.
    pub max_bytes: usize,
    /// The most objects.
    pub max_objects: usize,
}

impl Default for StixLimits {
    fn default() -> Self {
        StixLimits {
            max_bytes: 32 << 20,
            max_objects: 100_000,
        }
    }
}

/// Places for a location without coordinates: a name within a country → latitude, longitude.
pub type Locate<'a> = &'a dyn Fn(&str, &Country) -> Option<(f64, f64)>;

#[derive(Deserialize)]
struct RawBundle {
    #[serde(rename = "type")]
    kind: String,
    objects: Vec<Obj>,
}

#[derive(Deserialize, Clone)]
struct Obj {
    #[serde(rename = "type")]
    kind: String,
    id: String,
    spec_version: Option<String>,
    created: Option<String>,
    modified: Option<String>,
    #[serde(default)]
    revoked: bool,
    name: Option<String>,
    description: Option<String>,
    #[serde(default)]
    object_marking_refs: Vec<String>,
    definition_type: Option<String>,
    definition: Option<Value>,
    extensions: Option<Map<String, Value>>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    country: Option<String>,
    administrative_area: Option<String>,
    city: Option<String>,
    relationship_type: Option<String>,
    source_ref: Option<String>,
    target_ref: Option<String>,
    #[serde(default)]
    object_refs: Vec<String>,
    published: Option<String>,
    first_seen: Option<String>,
    content: Option<String>,
    #[serde(rename = "abstract")]
    summary: Option<String>,
}

/// What a marking definition of the bundle says.
enum Marking {
    Tlp(Tlp),
    /// Not a TLP marking (a copyright statement…): ignored.
    Other,
    /// A TLP marking of a level Tocsin does not know.
    Unknown(String),
}

fn tlp_word(s: &str) -> Option<Tlp> {
    s.trim().parse().ok()
}

fn marking_of(o: &Obj) -> Marking {
    if let Some(ext) = o.extensions.as_ref().and_then(|e| e.get(TLP2_EXTENSION)) {
        return match ext
            .get("tlp_2_0")
            .and_then(Value::as_str)
            .and_then(tlp_word)
        {
            Some(t) => Marking::Tlp(t),
            None => Marking::Unknown(format!("{} has an unknown TLP 2.0 level", o.id)),
        };
    }
    let kind = o.definition_type.as_deref().map(str::to_ascii_lowercase);
    match kind.as_deref() {
        Some("tlp") => {
            match o
                .definition
                .as_ref()
                .and_then(Value::as_object)
                .and_then(|d| d.iter().find(|(k, _)| k.eq_ignore_ascii_case("tlp")))
                .and_then(|(_, v)| v.as_str())
                .and_then(tlp_word)
            {
                Some(t) => Marking::Tlp(t),
                None => Marking::Unknown(format!("{} has an unknown TLP level", o.id)),
            }
        }
        Some("statement") => match o
            .definition
            .as_ref()
            .and_then(|d| d.get("statement"))
            .and_then(Value::as_str)
            .filter(|s| s.trim().to_ascii_lowercase().starts_with("tlp:"))
        {
            Some(s) => match tlp_word(s) {
                Some(t) => Marking::Tlp(t),
                None => Marking::Unknown(format!("{} names an unknown TLP level {s:?}", o.id)),
            },
            None => Marking::Other,
        },
        _ => match o
            .name
            .as_deref()
            .filter(|n| n.to_ascii_uppercase().starts_with("TLP:"))
        {
            Some(n) => match tlp_word(n) {
                Some(t) => Marking::Tlp(t),
                None => Marking::Unknown(format!("{} names an unknown TLP level {n:?}", o.id)),
            },
            None => Marking::Other,
        },
    }
}

fn known_marking(id: &str) -> Option<Tlp> {
    TLP2_MARKINGS
        .iter()
        .find(|(_, m, _)| *m == id)
        .map(|(t, _, _)| *t)
        .or_else(|| {
            TLP1_MARKINGS
                .iter()
                .find(|(_, m)| *m == id)
                .map(|(t, _)| *t)
        })
}

fn time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn date(s: &str) -> Option<NaiveDate> {
    time(s)
        .map(|t| t.date_naive())
        .or_else(|| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok())
}

/// A STIX id: `type--uuid`.
fn stix_id_ok(id: &str) -> bool {
    match id.split_once("--") {
        Some((t, u)) => {
            !t.is_empty()
                && t.len() <= 250
                && t.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && Uuid::parse_str(u).is_ok()
        }
        None => false,
    }
}

fn cut(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

/// Read a bundle. A bundle refused whole answers [`StixError`]; otherwise every object Tocsin
/// takes is in [`StixImport::incidents`] or, with its reason, in [`StixImport::refused`].
pub fn read_bundle(
    bytes: &[u8],
    limits: StixLimits,
    geo: &dyn Geo,
    locate: Locate<'_>,
) -> Result<StixImport, StixError> {
    if bytes.len() > limits.max_bytes {
        return Err(StixError::TooLarge(limits.max_bytes));
    }
    let b: RawBundle =
        serde_json::from_slice(bytes).map_err(|e| StixError::Malformed(e.to_string()))?;
    if b.kind != "bundle" {
        return Err(StixError::Malformed(format!(
            "its type is {:?}, not \"bundle\"",
            b.kind
        )));
    }
    if b.objects.len() > limits.max_objects {
        return Err(StixError::Malformed(format!(
            "more than {} objects",
            limits.max_objects
        )));
    }
    if let Some(o) = b.objects.iter().find(|o| !stix_id_ok(&o.id)) {
        return Err(StixError::Malformed(format!(
            "{:?} is not a STIX id (type--UUID)",
            o.id
        )));
    }
    let mut out = StixImport::default();
    // Each id once: its latest version (a bundle may carry several).
    let mut latest: HashMap<&str, &Obj> = HashMap::new();
    for o in &b.objects {
        let key = |o: &Obj| o.modified.as_deref().and_then(time);
        match latest.get(o.id.as_str()) {
            Some(prev) if key(prev) >= key(o) => {}
            _ => {
                latest.insert(&o.id, o);
            }
        }
    }
    let mut markings: HashMap<&str, Marking> = HashMap::new();
    let mut locations: HashMap<&str, &Obj> = HashMap::new();
    let mut located: HashMap<&str, Vec<(&str, &str)>> = HashMap::new();
    for o in latest.values() {
        match o.kind.as_str() {
            "marking-definition" => {
                markings.insert(&o.id, marking_of(o));
            }
            "location" => {
                locations.insert(&o.id, o);
            }
            "relationship" => {
                if let (Some(s), Some(t)) = (&o.source_ref, &o.target_ref) {
                    located
                        .entry(s.as_str())
                        .or_default()
                        .push((o.relationship_type.as_deref().unwrap_or(""), t.as_str()));
                }
            }
            _ => {}
        }
    }
    let has_incident = |refs: &[String]| refs.iter().any(|r| r.starts_with("incident--"));
    let mut ids: Vec<&str> = latest.keys().copied().collect();
    ids.sort_unstable();
    for id in ids {
        let o = latest[id];
        let is_item = matches!(o.kind.as_str(), "report" | "note" | "course-of-action")
            && o.extensions
                .as_ref()
                .is_some_and(|e| e.contains_key(TOCSIN_ITEM_EXTENSION));
        if is_item {
            match incoming_item(o, &markings) {
                Ok(i) => out.items.push(i),
                Err(reason) => out.refused.push(Refusal {
                    id: o.id.clone(),
                    reason,
                }),
            }
            continue;
        }
        let take = match o.kind.as_str() {
            "incident" => true,
            "report" | "grouping" => !has_incident(&o.object_refs),
            "marking-definition" | "location" | "relationship" => false,
            _ => {
                out.ignored += 1;
                false
            }
        };
        if !take {
            continue;
        }
        match incoming(o, &markings, &locations, &located, geo, locate) {
            Ok(i) => out.incidents.push(i),
            Err(reason) => out.refused.push(Refusal {
                id: o.id.clone(),
                reason,
            }),
        }
    }
    Ok(out)
}

/// The label an object's markings give: the most restrictive TLP among them.
fn label(o: &Obj, markings: &HashMap<&str, Marking>) -> Result<Tlp, String> {
    let mut tlp: Option<Tlp> = None;
    for m in &o.object_marking_refs {
        // The published TLP ids mean what they were published for, whatever a bundle's copy
        // of the definition says (OpenCTI writes `"definition_type": "TLP"`).
        let t = match known_marking(m)
            .map(Marking::Tlp)
            .as_ref()
            .or(markings.get(m.as_str()))
        {
            Some(Marking::Tlp(t)) => Some(*t),
            Some(Marking::Other) => None,
            Some(Marking::Unknown(why)) => return Err(format!("unknown marking: {why}")),
            None => match known_marking(m) {
                Some(t) => Some(t),
                None => {
                    return Err(format!(
                        "unknown marking {m}: neither a TLP 1.0 or 2.0 marking nor defined in \
                         the bundle"
                    ))
                }
            },
        };
        if let Some(t) = t {
            tlp = Some(tlp.map_or(t, |p| p.max(t)));
        }
    }
    tlp.ok_or_else(|| {
        "no TLP marking: Tocsin does not guess a label (mark it with a TLP 1.0 or 2.0 marking \
         definition)"
            .to_string()
    })
}

/// What every object Tocsin takes must have: STIX 2.1, a version time (`modified`, else
/// `created`) and a TLP label from its markings.
fn version_and_label(
    o: &Obj,
    markings: &HashMap<&str, Marking>,
) -> Result<(DateTime<Utc>, Tlp), String> {
    if o.spec_version.as_deref() != Some("2.1") {
        return Err("not a STIX 2.1 object (spec_version \"2.1\")".into());
    }
    let modified = o
        .modified
        .as_deref()
        .or(o.created.as_deref())
        .ok_or("no modified or created time")?;
    let modified = time(modified).ok_or("its modified time is not an RFC 3339 timestamp")?;
    Ok((modified, label(o, markings)?))
}

/// A record other than an incident, from an object carrying Tocsin's item extension.
fn incoming_item(o: &Obj, markings: &HashMap<&str, Marking>) -> Result<IncomingItem, String> {
    let (modified, tlp) = version_and_label(o, markings)?;
    let ext = o
        .extensions
        .as_ref()
        .and_then(|e| e.get(TOCSIN_ITEM_EXTENSION))
        .and_then(Value::as_object)
        .ok_or("Tocsin's item extension is not an object")?;
    let s = |k: &str| ext.get(k).and_then(Value::as_str).map(str::to_string);
    let kind = SharedKind::parse(&s("kind").unwrap_or_default()).map_err(|e| e.to_string())?;
    if kind.stix_type() != o.kind {
        return Err(format!(
            "a {} is carried as a {}, not a {}",
            kind.as_str(),
            kind.stix_type(),
            o.kind
        ));
    }
    let created = o.created.as_deref().and_then(time).unwrap_or(modified);
    let (title, summary) = match o.kind.as_str() {
        "note" => (
            o.summary.clone().or_else(|| o.content.clone()),
            o.content.clone(),
        ),
        _ => (o.name.clone(), o.description.clone()),
    };
    let country = match s("country") {
        Some(c) => Some(Country::parse(&c).map_err(|_| format!("unknown country {c:?}"))?),
        None => None,
    };
    let factors: Vec<SharedFactor> = match ext.get("factors") {
        Some(f) => serde_json::from_value(f.clone())
            .map_err(|e| format!("its factors are not factor, level, confidence: {e}"))?,
        None => Vec::new(),
    };
    let item = SharedItem {
        kind,
        id: Uuid::nil(),
        title: title.unwrap_or_default(),
        summary: summary.unwrap_or_default(),
        status: s("status").unwrap_or_else(|| "retracted".into()),
        level: s("level"),
        country,
        factors,
        cap: s("cap"),
        tlp,
        created_at: created.min(modified),
        updated_at: modified,
        version: ext.get("version").and_then(Value::as_i64).unwrap_or(1),
    };
    if !o.revoked {
        item.check().map_err(|e| e.to_string())?;
    }
    Ok(IncomingItem {
        original_id: o.id.clone(),
        modified,
        revoked: o.revoked,
        item,
    })
}

fn incoming(
    o: &Obj,
    markings: &HashMap<&str, Marking>,
    locations: &HashMap<&str, &Obj>,
    located: &HashMap<&str, Vec<(&str, &str)>>,
    geo: &dyn Geo,
    locate: Locate<'_>,
) -> Result<IncomingIncident, String> {
    let (modified, tlp) = version_and_label(o, markings)?;
    let ext = o
        .extensions
        .as_ref()
        .and_then(|e| e.get(TOCSIN_EXTENSION))
        .and_then(Value::as_object);
    // Where: a location it is related to (located-at first), or one a report names.
    let mut loc: Option<&Obj> = None;
    if let Some(rels) = located.get(o.id.as_str()) {
        let mut rels = rels.clone();
        rels.sort_by_key(|(t, _)| *t != "located-at");
        loc = rels.iter().find_map(|(_, t)| locations.get(t).copied());
    }
    if loc.is_none() {
        loc = o
            .object_refs
            .iter()
            .find_map(|r| locations.get(r.as_str()).copied());
    }
    let fallback_day = ext
        .and_then(|e| e.get("event_date"))
        .and_then(Value::as_str)
        .and_then(date)
        .or_else(|| o.first_seen.as_deref().and_then(date))
        .or_else(|| o.published.as_deref().and_then(date))
        .or_else(|| o.created.as_deref().and_then(date))
        .unwrap_or_else(|| modified.date_naive());
    let placeholder = || Incident {
        id: tocsin_domain::new_id(),
        event_date: fallback_day,
        date_precision: 1,
        event_type: "Strategic developments".into(),
        sub_event_type: "Other".into(),
        country: Country::parse("CAF").expect("a known country"),
        admin1: None,
        admin2: None,
        location: None,
        latitude: 0.0,
        longitude: 0.0,
        geo_precision: 3,
        actor1: None,
        actor2: None,
        targeted_group: None,
        fatalities: 0,
        fatalities_low: None,
        fatalities_high: None,
        credibility: 6,
        verification_status: tocsin_domain::VerificationStatus::Unverified,
        reliability: tocsin_domain::Reliability::F,
        grading: String::new(),
        description: String::new(),
        tlp,
        situation_id: None,
        report_ids: vec![],
        dataset: None,
        external_id: None,
        violence_type: None,
        created_at: modified,
        updated_at: modified,
        version: 1,
    };
    if o.revoked {
        // A retraction needs nothing but its id and time.
        return Ok(IncomingIncident {
            original_id: o.id.clone(),
            modified,
            revoked: true,
            incident: placeholder(),
        });
    }
    let loc = loc.ok_or(
        "no location: relate it to a location object (located-at) with coordinates or a country",
    )?;
    let country = match loc.country.as_deref().filter(|c| !c.trim().is_empty()) {
        Some(c) => Some(
            geo.country(c)
                .ok_or_else(|| format!("{}: unknown country {c:?}", loc.id))?,
        ),
        None => None,
    };
    let (lat, lon, geo_precision) = match (loc.latitude, loc.longitude) {
        (Some(la), Some(lo)) => (la, lo, 1),
        _ => {
            let c = country
                .as_ref()
                .ok_or_else(|| format!("{}: neither coordinates nor a country", loc.id))?;
            let named = [&loc.city, &loc.administrative_area, &loc.name]
                .into_iter()
                .flatten()
                .find_map(|n| locate(n, c));
            let (la, lo) = named.ok_or_else(|| {
                format!(
                    "{}: no coordinates, and no place of {} by its name",
                    loc.id,
                    c.code()
                )
            })?;
            (la, lo, 2)
        }
    };
    let country = match country {
        Some(c) => c,
        None => {
            geo.reverse(lat, lon)
                .ok_or_else(|| format!("{}: no country, and none at {lat}, {lon}", loc.id))?
                .country
        }
    };
    let s = |k: &str| {
        ext.and_then(|e| e.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let n = |k: &str| ext.and_then(|e| e.get(k)).and_then(Value::as_i64);
    let small = |k: &str| n(k).and_then(|v| i16::try_from(v).ok());
    let description = match (ext.is_some(), &o.name, &o.description) {
        (true, _, Some(d)) => d.clone(),
        (_, Some(name), Some(d)) => format!("{name}\n\n{d}"),
        (_, Some(name), None) => name.clone(),
        (_, None, Some(d)) => d.clone(),
        (_, None, None) => String::new(),
    };
    let (event_type, sub_event_type) = match (s("event_type"), s("sub_event_type")) {
        (Some(t), Some(u)) => (t, u),
        _ => ("Strategic developments".into(), "Other".into()),
    };
    let input = IncidentInput {
        event_date: fallback_day.to_string(),
        event_type,
        sub_event_type,
        country: country.code().to_string(),
        latitude: lat,
        longitude: lon,
        fatalities: n("fatalities").unwrap_or(0),
        description: cut(&description, 20_000),
        tlp,
        date_precision: small("date_precision"),
        geo_precision: small("geo_precision").or(Some(geo_precision)),
        admin1: loc.administrative_area.clone(),
        admin2: s("admin2"),
        location: loc.city.clone().or_else(|| loc.name.clone()),
        actor1: s("actor1"),
        actor2: s("actor2"),
        targeted_group: s("targeted_group"),
        fatalities_low: n("fatalities_low"),
        fatalities_high: n("fatalities_high"),
        credibility: small("credibility"),
        verification_status: None,
        situation_id: None,
        report_ids: None,
        dataset: None,
        external_id: None,
        violence_type: small("violence_type"),
    };
    let mut incident = Incident::parse(input).map_err(|e| e.to_string())?;
    incident.created_at = o.created.as_deref().and_then(time).unwrap_or(modified);
    incident.updated_at = modified.max(incident.created_at);
    Ok(IncomingIncident {
        original_id: o.id.clone(),
        modified,
        revoked: false,
        incident,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_v5_matches_rfc_4122() {
        // Python: uuid.uuid5(uuid.NAMESPACE_DNS, "python.org")
        let dns = Uuid::parse_str("6ba7b810-9dad-11d1-80b4-00c04fd430c8").unwrap();
        assert_eq!(
            uuid_v5(dns, "python.org").to_string(),
            "886313e1-3b8a-5372-9b90-0c9aee199e5d"
        );
    }

    /// An incident written with every property set is read back whole, under Tocsin's
    /// extension, and each object's keys come in sorted order.
    #[test]
    fn an_incident_written_straight_out_reads_back() {
        let mut i = Incident::parse(IncidentInput {
            event_date: "2025-03-01".into(),
            event_type: "Violence against civilians".into(),
            sub_event_type: "Attack".into(),
            country: "CAF".into(),
            latitude: 6.25,
            longitude: 20.5,
            fatalities: 3,
            fatalities_low: Some(2),
            fatalities_high: Some(5),
            description: "Village \"attacked\"".into(),
            location: Some("Bambari".into()),
            admin1: Some("Ouaka".into()),
            admin2: Some("Bambari sub".into()),
            actor1: Some("Militia X".into()),
            actor2: Some("Civilians".into()),
            targeted_group: Some("Herders".into()),
            violence_type: Some(3),
            tlp: Tlp::Amber,
            credibility: Some(2),
            ..Default::default()
        })
        .unwrap();
        i.verification_status = tocsin_domain::VerificationStatus::Verified;
        let shared = SharedIncident::of(&i);
        let org = StixOrg {
            name: "Here".into(),
            instance_id: Uuid::nil(),
        };
        let mut w = StixWriter::new(Vec::new(), org, Tlp::Amber).unwrap();
        w.write(&shared).unwrap();
        let bytes = w.finish().unwrap();
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        let objects = v["objects"].as_array().unwrap();
        let of = |t: &str| objects.iter().find(|o| o["type"] == t).unwrap();
        let inc = of("incident");
        let ext = &inc["extensions"][TOCSIN_EXTENSION];
        assert_eq!(ext["event_date"], "2025-03-01");
        assert_eq!(ext["fatalities_high"], 5);
        assert_eq!(ext["actor2"], "Civilians");
        assert_eq!(ext["violence_type"], 3);
        assert_eq!(inc["description"], "Village \"attacked\"");
        assert_eq!(of("location")["city"], "Bambari");
        assert_eq!(of("location")["latitude"], 6.25);
        assert_eq!(of("relationship")["source_ref"], inc["id"]);
        // Keys sorted, as a JSON map would write them.
        let text = String::from_utf8(bytes.clone()).unwrap();
        let at = text.find("{\"actor1\"").expect("the extension's first key");
        assert!(text[at..].find("\"admiralty_grade\"") < text[at..].find("\"version\""));
        let read =
            read_bundle(&bytes, StixLimits::default(), &crate::IsoOnly, &|_, _| None).unwrap();
        assert_eq!(read.incidents.len(), 1, "{:?}", read.refused);
        let back = &read.incidents[0].incident;
        assert_eq!(back.description, "Village \"attacked\"");
        assert_eq!(back.fatalities_low, Some(2));
        assert_eq!(back.targeted_group.as_deref(), Some("Herders"));
        assert_eq!(back.tlp, Tlp::Amber);
    }

    /// Records other than incidents go out as reports, notes and courses of action under
    /// Tocsin's item extension (defined once), and read back as items; their retractions name
    /// the same ids; a forged one (a CAP form that is not XML, a kind carried as the wrong
    /// type) is refused with its reason.
    #[test]
    fn items_written_out_read_back() {
        let now = "2026-11-02T10:00:00Z".parse::<DateTime<Utc>>().unwrap();
        let item = |kind: SharedKind, n: u128| SharedItem {
            kind,
            id: Uuid::from_u128(n),
            title: format!("{} title", kind.as_str()),
            summary: if kind == SharedKind::Alert {
                String::new()
            } else {
                format!("{} summary", kind.as_str())
            },
            status: "published".into(),
            level: Some("high".into()),
            country: Country::parse("CAF").ok(),
            factors: if kind == SharedKind::Assessment {
                vec![SharedFactor {
                    factor: 14,
                    level: "severe".into(),
                    confidence: "medium".into(),
                }]
            } else {
                vec![]
            },
            cap: (kind == SharedKind::Alert).then(|| "<?xml version=\"1.0\"?><alert/>".into()),
            tlp: Tlp::Green,
            created_at: now,
            updated_at: now,
            version: 3,
        };
        let org = StixOrg {
            name: "NGO".into(),
            instance_id: Uuid::from_u128(7),
        };
        let mut w = StixWriter::new(Vec::new(), org.clone(), Tlp::Amber).unwrap();
        for (n, k) in SharedKind::ALL.into_iter().enumerate() {
            w.write_item(&item(k, n as u128 + 1)).unwrap();
        }
        w.write_revoked("rumour", Uuid::from_u128(9), &now, &now, Tlp::Green)
            .unwrap();
        let bytes = w.finish().unwrap();
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        let objects = v["objects"].as_array().unwrap();
        let count = |t: &str| objects.iter().filter(|o| o["type"] == t).count();
        assert_eq!(
            (count("report"), count("note"), count("course-of-action")),
            (2, 2, 1)
        );
        assert_eq!(
            objects
                .iter()
                .filter(|o| o["id"] == TOCSIN_ITEM_EXTENSION)
                .count(),
            1,
            "the extension is defined once"
        );
        let back =
            read_bundle(&bytes, StixLimits::default(), &crate::IsoOnly, &|_, _| None).unwrap();
        assert!(back.refused.is_empty(), "{:?}", back.refused);
        assert!(back.incidents.is_empty());
        assert_eq!(back.items.len(), 5);
        let of = |k: SharedKind| {
            back.items
                .iter()
                .find(|i| i.item.kind == k && !i.revoked)
                .unwrap()
        };
        let a = &of(SharedKind::Assessment).item;
        assert_eq!(
            (a.title.as_str(), a.summary.as_str(), a.version),
            ("assessment title", "assessment summary", 3)
        );
        assert_eq!(a.factors[0].level, "severe");
        assert_eq!(a.country.as_ref().map(Country::code), Some("CAF"));
        assert_eq!(
            of(SharedKind::Alert).item.cap.as_deref(),
            Some("<?xml version=\"1.0\"?><alert/>")
        );
        assert_eq!(of(SharedKind::Rumour).item.summary, "rumour summary");
        assert_eq!(
            of(SharedKind::Action).original_id,
            org.object_id("course-of-action", Uuid::from_u128(4))
        );
        let gone = back.items.iter().find(|i| i.revoked).unwrap();
        assert_eq!(
            (gone.item.kind, gone.original_id.clone()),
            (
                SharedKind::Rumour,
                org.object_id("note", Uuid::from_u128(9))
            )
        );
        // Forged: a CAP form that is not XML; an assessment carried as a note.
        let mut o = objects
            .iter()
            .find(|o| {
                o["type"] == "report" && o["extensions"][TOCSIN_ITEM_EXTENSION]["kind"] == "alert"
            })
            .unwrap()
            .clone();
        o["extensions"][TOCSIN_ITEM_EXTENSION]["cap"] = "rm -rf /".into();
        let mut p = objects
            .iter()
            .find(|o| o["type"] == "note")
            .unwrap()
            .clone();
        p["extensions"][TOCSIN_ITEM_EXTENSION]["kind"] = "assessment".into();
        let r = read(json!([o, p]));
        assert!(r.items.is_empty());
        let reasons: Vec<&str> = r.refused.iter().map(|x| x.reason.as_str()).collect();
        assert!(reasons.iter().any(|x| x.contains("cap")), "{reasons:?}");
        assert!(
            reasons.iter().any(|x| x.contains("carried as a report")),
            "{reasons:?}"
        );
    }

    #[test]
    fn markings_are_read_by_id_and_by_content() {
        assert_eq!(
            known_marking("marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"),
            Some(Tlp::Green)
        );
        assert_eq!(
            known_marking(marking_id(Tlp::AmberStrict)),
            Some(Tlp::AmberStrict)
        );
        assert_eq!(tlp_word("amber+strict"), Some(Tlp::AmberStrict));
        assert_eq!(tlp_word("white"), Some(Tlp::Clear));
    }

    fn read(objects: serde_json::Value) -> StixImport {
        let b = json!({"type": "bundle", "id": "bundle--6b0e6e9a-3a4d-4b7e-9c8e-1f2a3b4c5d6e",
            "objects": objects});
        let no_places = |_: &str, _: &Country| None;
        read_bundle(
            &serde_json::to_vec(&b).unwrap(),
            StixLimits::default(),
            &crate::IsoOnly,
            &no_places,
        )
        .unwrap()
    }

    fn incident(id: &str, modified: &str, markings: Value) -> Value {
        json!({"type": "incident", "spec_version": "2.1", "id": id,
            "created": "2025-01-01T00:00:00.000Z", "modified": modified, "name": "n",
            "object_marking_refs": markings})
    }

    const LOC: &str = "location--1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f";
    const INC: &str = "incident--8c54ef5b-1b26-4a49-8d1d-43f4a2b1a9e2";

    fn located(id: &str) -> Value {
        json!({"type": "relationship", "spec_version": "2.1",
            "id": "relationship--2a7c9f3e-4b1d-4e8a-9c6f-1d2e3f4a5b6c",
            "created": "2025-01-01T00:00:00.000Z", "modified": "2025-01-01T00:00:00.000Z",
            "relationship_type": "located-at", "source_ref": id, "target_ref": LOC})
    }

    fn location() -> Value {
        json!({"type": "location", "spec_version": "2.1", "id": LOC,
            "created": "2025-01-01T00:00:00.000Z", "modified": "2025-01-01T00:00:00.000Z",
            "latitude": 6.5, "longitude": 21.9, "country": "CF"})
    }

    #[test]
    fn the_latest_version_of_an_id_is_read_with_its_label() {
        let strict = "marking-definition--0d7c2b3e-1f4a-4c5d-9e8f-7a6b5c4d3e2f";
        let r = read(json!([
            location(),
            located(INC),
            {"type": "marking-definition", "spec_version": "2.1", "id": strict,
             "created": "2025-01-01T00:00:00.000Z", "definition_type": "statement",
             "definition": {"statement": "TLP:AMBER+STRICT"}},
            incident(INC, "2025-01-02T00:00:00.000Z", json!([marking_id(Tlp::Green)])),
            incident(INC, "2025-01-03T00:00:00.000Z", json!([marking_id(Tlp::Green), strict])),
        ]));
        assert!(r.refused.is_empty(), "{:?}", r.refused);
        assert_eq!(r.incidents.len(), 1);
        let i = &r.incidents[0];
        assert_eq!(i.incident.tlp, Tlp::AmberStrict);
        assert_eq!(i.modified.to_rfc3339(), "2025-01-03T00:00:00+00:00");
        assert_eq!(i.incident.country.code(), "CAF");
    }

    #[test]
    fn objects_without_a_label_or_a_place_are_refused_with_the_reason() {
        let other = "incident--f0e1d2c3-b4a5-4968-8776-655443322110";
        let r = read(json!([
            location(),
            located(INC),
            incident(INC, "2025-01-02T00:00:00.000Z", json!([])),
            incident(
                other,
                "2025-01-02T00:00:00.000Z",
                json!([marking_id(Tlp::Clear)])
            ),
        ]));
        let reasons: Vec<(&str, &str)> = r
            .refused
            .iter()
            .map(|x| (x.id.as_str(), x.reason.as_str()))
            .collect();
        assert_eq!(reasons.len(), 2);
        assert!(reasons
            .iter()
            .any(|(id, why)| *id == INC && why.contains("no TLP marking")));
        assert!(reasons
            .iter()
            .any(|(id, why)| *id == other && why.contains("no location")));
    }

    #[test]
    fn a_revoked_object_needs_no_place() {
        let mut o = incident(
            INC,
            "2025-01-02T00:00:00.000Z",
            json!([marking_id(Tlp::Clear)]),
        );
        o["revoked"] = json!(true);
        let r = read(json!([o]));
        assert!(r.incidents[0].revoked);
    }

    #[test]
    fn malformed_bundles_are_refused_whole() {
        let no_places = |_: &str, _: &Country| None;
        let read = |b: &[u8], max: usize| {
            read_bundle(
                b,
                StixLimits {
                    max_bytes: max,
                    max_objects: 10,
                },
                &crate::IsoOnly,
                &no_places,
            )
        };
        assert_eq!(read(b"{}", 1).unwrap_err(), StixError::TooLarge(1));
        for bad in [
            &b"[]"[..],
            br#"{"type":"report","objects":[]}"#,
            br#"{"type":"bundle","objects":[{"type":"x","id":"x--1"}]}"#,
            br#"{"type":"bundle","objects":[{"type":"location","id":"location--1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f","latitude":"n"}]}"#,
        ] {
            assert!(
                matches!(read(bad, 1000), Err(StixError::Malformed(_))),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
