//! Incidents: verified events, the unit of analysis, with ACLED-compatible typology.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::page::{check_point, BBox};
use crate::{Country, DomainError, Reliability, Tlp};

/// ACLED's six event types, each with its sub-event types (25 in all).
pub const ACLED_TYPOLOGY: &[(&str, &[&str])] = &[
    (
        "Battles",
        &[
            "Armed clash",
            "Government regains territory",
            "Non-state actor overtakes territory",
        ],
    ),
    (
        "Explosions/Remote violence",
        &[
            "Chemical weapon",
            "Air/drone strike",
            "Suicide bomb",
            "Shelling/artillery/missile attack",
            "Remote explosive/landmine/IED",
            "Grenade",
        ],
    ),
    (
        "Violence against civilians",
        &[
            "Sexual violence",
            "Attack",
            "Abduction/forced disappearance",
        ],
    ),
    (
        "Protests",
        &[
            "Peaceful protest",
            "Protest with intervention",
            "Excessive force against protesters",
        ],
    ),
    ("Riots", &["Violent demonstration", "Mob violence"]),
    (
        "Strategic developments",
        &[
            "Agreement",
            "Arrests",
            "Change to group/activity",
            "Disrupted weapons use",
            "Headquarters or base established",
            "Looting/property destruction",
            "Non-violent transfer of territory",
            "Other",
        ],
    ),
];

/// An ACLED event type and sub-event type that belong together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventType {
    /// e.g. `Violence against civilians`.
    pub event_type: &'static str,
    /// e.g. `Attack`.
    pub sub_event_type: &'static str,
}

impl EventType {
    /// Check a pair against the ACLED typology (case-insensitive, canonical spelling kept).
    pub fn parse(event_type: &str, sub_event_type: &str) -> Result<EventType, DomainError> {
        let (et, subs) = ACLED_TYPOLOGY
            .iter()
            .find(|(t, _)| t.eq_ignore_ascii_case(event_type.trim()))
            .ok_or_else(|| {
                DomainError::invalid(
                    "event_type",
                    format!(
                        "{event_type:?} is not an ACLED event type ({})",
                        ACLED_TYPOLOGY
                            .iter()
                            .map(|(t, _)| *t)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })?;
        let sub = subs
            .iter()
            .find(|s| s.eq_ignore_ascii_case(sub_event_type.trim()))
            .ok_or_else(|| {
                DomainError::invalid(
                    "sub_event_type",
                    format!(
                        "{sub_event_type:?} is not a sub-event type of {et:?} ({})",
                        subs.join(", ")
                    ),
                )
            })?;
        Ok(EventType {
            event_type: et,
            sub_event_type: sub,
        })
    }

    /// Canonical spelling of an event type alone.
    pub fn parse_type(event_type: &str) -> Result<&'static str, DomainError> {
        ACLED_TYPOLOGY
            .iter()
            .map(|(t, _)| *t)
            .find(|t| t.eq_ignore_ascii_case(event_type.trim()))
            .ok_or_else(|| {
                DomainError::invalid(
                    "event_type",
                    format!("{event_type:?} is not an ACLED event type"),
                )
            })
    }
}

pub use crate::verification::VerificationStatus;

/// An incident as a client sends it (`POST /api/v1/incidents`). Unknown fields are refused.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentInput {
    /// `YYYY-MM-DD`.
    pub event_date: String,
    /// ACLED event type.
    pub event_type: String,
    /// ACLED sub-event type.
    pub sub_event_type: String,
    /// ISO 3166-1 alpha-3.
    pub country: String,
    /// WGS84.
    pub latitude: f64,
    /// WGS84.
    pub longitude: f64,
    /// Best estimate of deaths.
    pub fatalities: i64,
    /// What happened.
    pub description: String,
    /// Its label.
    pub tlp: Tlp,
    /// 1 exact day, 2 within a week, 3 within a month.
    pub date_precision: Option<i16>,
    /// 1 exact place, 2 near, 3 region.
    pub geo_precision: Option<i16>,
    /// First-level subdivision.
    pub admin1: Option<String>,
    /// Second-level subdivision.
    pub admin2: Option<String>,
    /// Place name.
    pub location: Option<String>,
    /// Main actor.
    pub actor1: Option<String>,
    /// Other actor.
    pub actor2: Option<String>,
    /// The group targeted, if any.
    pub targeted_group: Option<String>,
    /// Low estimate of deaths.
    pub fatalities_low: Option<i64>,
    /// High estimate of deaths.
    pub fatalities_high: Option<i64>,
    /// Admiralty information credibility 1 (confirmed) … 6 (cannot be judged).
    pub credibility: Option<i16>,
    /// Defaults to `unverified`.
    pub verification_status: Option<VerificationStatus>,
    /// The situation it belongs to.
    pub situation_id: Option<Uuid>,
    /// Reports it was built from.
    pub report_ids: Option<Vec<Uuid>>,
    /// Dataset it came from (e.g. `ucdp-ged`).
    pub dataset: Option<String>,
    /// Id in that dataset.
    pub external_id: Option<String>,
    /// UCDP type of violence: 1 state-based, 2 non-state, 3 one-sided.
    pub violence_type: Option<i16>,
}

/// A change to an incident (`PATCH`). Absent fields are left as they are.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentPatch {
    /// `YYYY-MM-DD`.
    pub event_date: Option<String>,
    /// ACLED event type.
    pub event_type: Option<String>,
    /// ACLED sub-event type.
    pub sub_event_type: Option<String>,
    /// ISO 3166-1 alpha-3.
    pub country: Option<String>,
    /// WGS84.
    pub latitude: Option<f64>,
    /// WGS84.
    pub longitude: Option<f64>,
    /// Best estimate.
    pub fatalities: Option<i64>,
    /// What happened.
    pub description: Option<String>,
    /// Its label.
    pub tlp: Option<Tlp>,
    /// 1–3.
    pub date_precision: Option<i16>,
    /// 1–3.
    pub geo_precision: Option<i16>,
    /// First-level subdivision.
    pub admin1: Option<String>,
    /// Second-level subdivision.
    pub admin2: Option<String>,
    /// Place name.
    pub location: Option<String>,
    /// Main actor.
    pub actor1: Option<String>,
    /// Other actor.
    pub actor2: Option<String>,
    /// Targeted group.
    pub targeted_group: Option<String>,
    /// Low estimate.
    pub fatalities_low: Option<i64>,
    /// High estimate.
    pub fatalities_high: Option<i64>,
    /// 1–6.
    pub credibility: Option<i16>,
    /// Verification status.
    pub verification_status: Option<VerificationStatus>,
    /// Situation.
    pub situation_id: Option<Uuid>,
    /// Reports it was built from (replaces the list).
    pub report_ids: Option<Vec<Uuid>>,
    /// UCDP type of violence, 1–3.
    pub violence_type: Option<i16>,
    /// The version the client edited; a mismatch is refused (lost-update protection).
    pub expected_version: Option<i64>,
}

/// A stored incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Incident {
    /// Its id.
    pub id: Uuid,
    /// Day of the event.
    pub event_date: NaiveDate,
    /// 1 exact day, 2 within a week, 3 within a month.
    pub date_precision: i16,
    /// ACLED event type.
    pub event_type: String,
    /// ACLED sub-event type.
    pub sub_event_type: String,
    /// ISO 3166-1 alpha-3.
    #[schema(value_type = String)]
    pub country: Country,
    /// First-level subdivision.
    pub admin1: Option<String>,
    /// Second-level subdivision.
    pub admin2: Option<String>,
    /// Place name.
    pub location: Option<String>,
    /// WGS84.
    pub latitude: f64,
    /// WGS84.
    pub longitude: f64,
    /// 1 exact, 2 near, 3 region.
    pub geo_precision: i16,
    /// Main actor.
    pub actor1: Option<String>,
    /// Other actor.
    pub actor2: Option<String>,
    /// Targeted group.
    pub targeted_group: Option<String>,
    /// Best estimate of deaths.
    pub fatalities: i64,
    /// Low estimate.
    pub fatalities_low: Option<i64>,
    /// High estimate.
    pub fatalities_high: Option<i64>,
    /// Admiralty information credibility 1–6.
    pub credibility: i16,
    /// Verification status (changed through the verification use case, never by a plain edit).
    pub verification_status: VerificationStatus,
    /// Admiralty reliability of the best-graded source among the linked reports the reader may
    /// see; `F` (cannot be judged) when there is none. Filled in when read, never stored.
    #[serde(default = "crate::source::cannot_be_judged")]
    pub reliability: Reliability,
    /// `reliability` and `credibility` together, e.g. `B2`. Filled in when read, with
    /// `reliability` (empty in the store's own answers).
    #[serde(default)]
    pub grading: String,
    /// What happened.
    pub description: String,
    /// Its label.
    pub tlp: Tlp,
    /// Situation it belongs to.
    pub situation_id: Option<Uuid>,
    /// Reports it was built from.
    pub report_ids: Vec<Uuid>,
    /// Dataset of origin.
    pub dataset: Option<String>,
    /// Id in that dataset.
    pub external_id: Option<String>,
    /// UCDP type of violence: 1 state-based, 2 non-state, 3 one-sided.
    pub violence_type: Option<i16>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// Starts at 1, grows by one with each update.
    pub version: i64,
}

/// A validated new incident.
pub type NewIncident = Incident;

fn parse_date(s: &str) -> Result<NaiveDate, DomainError> {
    let s = s.trim();
    if let Some(d) = crate::time::iso_date(s.as_bytes()) {
        return Ok(d);
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| DomainError::invalid("event_date", "expected a date YYYY-MM-DD"))
}

fn check_range(field: &str, v: i16, lo: i16, hi: i16) -> Result<i16, DomainError> {
    if (lo..=hi).contains(&v) {
        Ok(v)
    } else {
        Err(DomainError::invalid(
            field,
            format!("must be between {lo} and {hi}"),
        ))
    }
}

fn check_text(field: &str, v: Option<String>, max: usize) -> Result<Option<String>, DomainError> {
    match v {
        Some(s) if s.len() > max => Err(DomainError::invalid(
            field,
            format!("longer than {max} bytes"),
        )),
        Some(s) if s.contains('\0') => Err(DomainError::invalid(
            field,
            "must not contain NUL characters",
        )),
        Some(s) if s.trim().is_empty() => Ok(None),
        other => Ok(other),
    }
}

impl Incident {
    /// Set the reliability shown with this incident and its grading (`B2`).
    pub fn set_reliability(&mut self, r: Reliability) {
        self.reliability = r;
        self.grading = crate::verification::grading(r, self.credibility);
    }

    /// Validate a client's new incident.
    pub fn parse(input: IncidentInput) -> Result<Incident, DomainError> {
        let now = crate::time::now();
        let mut i = Incident {
            id: crate::new_id(),
            event_date: parse_date(&input.event_date)?,
            date_precision: 1,
            event_type: String::new(),
            sub_event_type: String::new(),
            country: Country::parse(&input.country)?,
            admin1: None,
            admin2: None,
            location: None,
            latitude: input.latitude,
            longitude: input.longitude,
            geo_precision: 1,
            actor1: None,
            actor2: None,
            targeted_group: None,
            fatalities: input.fatalities,
            fatalities_low: None,
            fatalities_high: None,
            credibility: 6,
            verification_status: VerificationStatus::Unverified,
            reliability: Reliability::F,
            grading: String::new(),
            description: input.description,
            tlp: input.tlp,
            situation_id: input.situation_id,
            report_ids: input.report_ids.unwrap_or_default(),
            dataset: check_text("dataset", input.dataset, 100)?,
            external_id: check_text("external_id", input.external_id, 200)?,
            violence_type: None,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        i.apply(IncidentPatch {
            event_date: None,
            event_type: Some(input.event_type),
            sub_event_type: Some(input.sub_event_type),
            country: None,
            latitude: None,
            longitude: None,
            fatalities: None,
            description: None,
            tlp: None,
            date_precision: input.date_precision,
            geo_precision: input.geo_precision,
            admin1: input.admin1,
            admin2: input.admin2,
            location: input.location,
            actor1: input.actor1,
            actor2: input.actor2,
            targeted_group: input.targeted_group,
            fatalities_low: input.fatalities_low,
            fatalities_high: input.fatalities_high,
            credibility: input.credibility,
            verification_status: input.verification_status,
            situation_id: None,
            report_ids: None,
            violence_type: input.violence_type,
            expected_version: None,
        })?;
        i.version = 1;
        i.updated_at = i.created_at;
        Ok(i)
    }

    /// Apply a patch, validating the result as a whole; on error `self` is unchanged.
    pub fn apply(&mut self, p: IncidentPatch) -> Result<(), DomainError> {
        if let Some(v) = p.expected_version {
            if v != self.version {
                return Err(DomainError::invalid(
                    "expected_version",
                    format!(
                        "the incident is at version {}, not {v}: reload and retry",
                        self.version
                    ),
                ));
            }
        }
        let mut n = self.clone();
        if let Some(d) = p.event_date {
            n.event_date = parse_date(&d)?;
        }
        if p.event_type.is_some() || p.sub_event_type.is_some() {
            let et = EventType::parse(
                p.event_type.as_deref().unwrap_or(&n.event_type),
                p.sub_event_type.as_deref().unwrap_or(&n.sub_event_type),
            )?;
            n.event_type = et.event_type.to_string();
            n.sub_event_type = et.sub_event_type.to_string();
        }
        if let Some(c) = p.country {
            n.country = Country::parse(&c)?;
        }
        if let Some(v) = p.latitude {
            n.latitude = v;
        }
        if let Some(v) = p.longitude {
            n.longitude = v;
        }
        if let Some(v) = p.fatalities {
            n.fatalities = v;
        }
        if let Some(v) = p.description {
            n.description = v;
        }
        if let Some(v) = p.tlp {
            n.tlp = v;
        }
        if let Some(v) = p.date_precision {
            n.date_precision = check_range("date_precision", v, 1, 3)?;
        }
        if let Some(v) = p.geo_precision {
            n.geo_precision = check_range("geo_precision", v, 1, 3)?;
        }
        if let Some(v) = p.credibility {
            n.credibility = check_range("credibility", v, 1, 6)?;
        }
        if let Some(v) = p.violence_type {
            n.violence_type = Some(check_range("violence_type", v, 1, 3)?);
        }
        for (field, src, dst) in [
            ("admin1", p.admin1, &mut n.admin1),
            ("admin2", p.admin2, &mut n.admin2),
            ("location", p.location, &mut n.location),
            ("actor1", p.actor1, &mut n.actor1),
            ("actor2", p.actor2, &mut n.actor2),
            ("targeted_group", p.targeted_group, &mut n.targeted_group),
        ] {
            if src.is_some() {
                *dst = check_text(field, src, 500)?;
            }
        }
        if p.fatalities_low.is_some() {
            n.fatalities_low = p.fatalities_low;
        }
        if p.fatalities_high.is_some() {
            n.fatalities_high = p.fatalities_high;
        }
        if let Some(v) = p.verification_status {
            n.verification_status = v;
        }
        if p.situation_id.is_some() {
            n.situation_id = p.situation_id;
        }
        if let Some(r) = p.report_ids {
            n.report_ids = r;
        }
        n.validate()?;
        n.version += 1;
        n.updated_at = crate::time::now();
        *self = n;
        Ok(())
    }

    fn validate(&self) -> Result<(), DomainError> {
        check_point(self.latitude, self.longitude)?;
        EventType::parse(&self.event_type, &self.sub_event_type)?;
        if self.fatalities < 0 {
            return Err(DomainError::invalid("fatalities", "must not be negative"));
        }
        // Low and high estimates are kept as the source gave them: published datasets (UCDP
        // GED among them) hold events whose low/high bracket does not contain the best estimate.
        for (field, v) in [
            ("fatalities_low", self.fatalities_low),
            ("fatalities_high", self.fatalities_high),
        ] {
            if v.is_some_and(|v| v < 0) {
                return Err(DomainError::invalid(field, "must not be negative"));
            }
        }
        if self.description.len() > 20_000 {
            return Err(DomainError::invalid(
                "description",
                "longer than 20000 bytes",
            ));
        }
        if self.description.contains('\0') {
            return Err(DomainError::invalid(
                "description",
                "must not contain NUL characters",
            ));
        }
        if self.report_ids.len() > 1000 {
            return Err(DomainError::invalid("report_ids", "at most 1000 reports"));
        }
        Ok(())
    }
}

/// The few fields of an incident a map needs, read in bulk to build the map index.
#[derive(Debug, Clone, PartialEq)]
pub struct MapPoint {
    /// The incident.
    pub id: Uuid,
    /// Event date.
    pub event_date: NaiveDate,
    /// ACLED event type.
    pub event_type: String,
    /// ISO alpha-3.
    pub country: Country,
    /// WGS84.
    pub latitude: f64,
    /// WGS84.
    pub longitude: f64,
    /// Best estimate of deaths.
    pub fatalities: i64,
    /// Label.
    pub tlp: Tlp,
    /// How far it has been verified.
    pub verification_status: VerificationStatus,
    /// The situation it belongs to, if any.
    pub situation_id: Option<Uuid>,
    /// First-level subdivision, as the incident names it (a situation dashboard's trend).
    pub admin1: Option<String>,
    /// Last change (the index refreshes by it).
    pub updated_at: DateTime<Utc>,
    /// Retracted by the organisation it was received from: hidden from every view.
    pub retracted: bool,
}

/// Which incidents to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IncidentFilter {
    /// Only this country.
    pub country: Option<Country>,
    /// Event date on or after.
    pub from: Option<NaiveDate>,
    /// Event date on or before.
    pub to: Option<NaiveDate>,
    /// Only points inside.
    pub bbox: Option<BBox>,
    /// Only this ACLED event type.
    pub event_type: Option<String>,
    /// Only this verification status.
    pub verification_status: Option<VerificationStatus>,
    /// Only exactly this label.
    pub tlp: Option<Tlp>,
    /// The caller's clearance: nothing above it is ever returned.
    pub max_tlp: Tlp,
    /// Only incidents of this situation.
    pub situation_id: Option<Uuid>,
}

impl IncidentFilter {
    /// Whether `i` passes the filter: the same test the stores' list queries make.
    pub fn matches(&self, i: &Incident) -> bool {
        i.tlp.rank() <= self.max_tlp.rank()
            && self.country.as_ref().is_none_or(|c| *c == i.country)
            && self.from.is_none_or(|d| i.event_date >= d)
            && self.to.is_none_or(|d| i.event_date <= d)
            && self.bbox.is_none_or(|b| {
                (b.min_lon..=b.max_lon).contains(&i.longitude)
                    && (b.min_lat..=b.max_lat).contains(&i.latitude)
            })
            && self.event_type.as_ref().is_none_or(|t| *t == i.event_type)
            && self
                .verification_status
                .is_none_or(|v| v == i.verification_status)
            && self.tlp.is_none_or(|t| t.rank() == i.tlp.rank())
            && self.situation_id.is_none_or(|s| Some(s) == i.situation_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn input() -> IncidentInput {
        IncidentInput {
            event_date: "2025-03-01".into(),
            event_type: "Violence against civilians".into(),
            sub_event_type: "Attack".into(),
            country: "CAF".into(),
            latitude: 6.1,
            longitude: 20.9,
            fatalities: 3,
            description: "Village attacked".into(),
            tlp: Tlp::Amber,
            ..Default::default()
        }
    }

    #[test]
    fn typology_has_25_sub_event_types() {
        assert_eq!(ACLED_TYPOLOGY.len(), 6);
        assert_eq!(
            ACLED_TYPOLOGY.iter().map(|(_, s)| s.len()).sum::<usize>(),
            25
        );
    }

    #[test]
    fn parse_and_reject() {
        let i = Incident::parse(input()).unwrap();
        assert_eq!(i.version, 1);
        assert_eq!(i.verification_status, VerificationStatus::Unverified);
        let mut bad = input();
        bad.sub_event_type = "Armed clash".into();
        assert_eq!(
            Incident::parse(bad).unwrap_err().field(),
            Some("sub_event_type")
        );
        let mut bad = input();
        bad.longitude = 181.0;
        assert_eq!(Incident::parse(bad).unwrap_err().field(), Some("longitude"));
        let mut bad = input();
        bad.event_date = "2025-02-30".into();
        assert_eq!(
            Incident::parse(bad).unwrap_err().field(),
            Some("event_date")
        );
        let mut bad = input();
        bad.fatalities = -1;
        assert_eq!(
            Incident::parse(bad).unwrap_err().field(),
            Some("fatalities")
        );
    }

    #[test]
    fn patch_is_atomic_and_versioned() {
        let mut i = Incident::parse(input()).unwrap();
        let before = i.clone();
        let err = i
            .apply(IncidentPatch {
                fatalities: Some(10),
                latitude: Some(100.0),
                ..Default::default()
            })
            .unwrap_err();
        assert_eq!(err.field(), Some("latitude"));
        assert_eq!(i, before);
        i.apply(IncidentPatch {
            fatalities: Some(10),
            verification_status: Some(VerificationStatus::Verified),
            ..Default::default()
        })
        .unwrap();
        assert_eq!((i.fatalities, i.version), (10, 2));
        let stale = IncidentPatch {
            expected_version: Some(1),
            ..Default::default()
        };
        assert_eq!(
            i.apply(stale).unwrap_err().field(),
            Some("expected_version")
        );
    }
}
