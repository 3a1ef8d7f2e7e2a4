//! Triage of incoming reports: the decisions a person records on a report (duplicate,
//! rejected, assigned, a follow-up asked of its source), the queue's order and its cursor.
//!
//! A report is never changed: its triage state is derived. It is *in the queue* while no
//! incident links it and no closing decision (duplicate or rejected) was recorded on it.

use std::collections::HashSet;

use base64::Engine;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Channel, Country, DomainError, Reliability, Report, Tlp};

/// The longest reason, note or follow-up text, in characters.
pub const MAX_TRIAGE_TEXT: usize = 1000;

/// What a triage decision records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TriageKind {
    /// The report repeats another report or an incident already known (takes it out of the queue).
    Duplicate,
    /// The report was rejected, with a reason (takes it out of the queue).
    Rejected,
    /// The report was given to a colleague to triage (stays in the queue).
    Assigned,
    /// Its source was asked a follow-up question through the delivery layer.
    FollowUp,
}

impl TriageKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            TriageKind::Duplicate => "duplicate",
            TriageKind::Rejected => "rejected",
            TriageKind::Assigned => "assigned",
            TriageKind::FollowUp => "follow_up",
        }
    }

    /// Parse a stored name.
    pub fn parse(s: &str) -> Result<TriageKind, DomainError> {
        Ok(match s {
            "duplicate" => TriageKind::Duplicate,
            "rejected" => TriageKind::Rejected,
            "assigned" => TriageKind::Assigned,
            "follow_up" => TriageKind::FollowUp,
            _ => return Err(DomainError::invalid("kind", format!("unknown kind {s:?}"))),
        })
    }

    /// Whether this decision takes the report out of the queue.
    pub fn closes(self) -> bool {
        matches!(self, TriageKind::Duplicate | TriageKind::Rejected)
    }
}

/// What a duplicate repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum DuplicateOf {
    /// Another report.
    Report(Uuid),
    /// An incident.
    Incident(Uuid),
}

impl DuplicateOf {
    /// `report` or `incident`.
    pub fn kind(&self) -> &'static str {
        match self {
            DuplicateOf::Report(_) => "report",
            DuplicateOf::Incident(_) => "incident",
        }
    }

    /// The record's id.
    pub fn id(&self) -> Uuid {
        match self {
            DuplicateOf::Report(i) | DuplicateOf::Incident(i) => *i,
        }
    }
}

/// One triage decision on a report, by a named person (shown as the report's history).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TriageDecision {
    /// Its id (random, like the report's: it must not tell when a warner's message came).
    pub id: Uuid,
    /// The report.
    pub report_id: Uuid,
    /// What was decided.
    pub kind: TriageKind,
    /// Who decided (username).
    pub by: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Why it was rejected.
    pub reason: Option<String>,
    /// What it duplicates.
    pub duplicate_of: Option<DuplicateOf>,
    /// To whom it was assigned (username).
    pub assignee: Option<String>,
    /// The follow-up question asked of the source (never its address).
    pub text: Option<String>,
}

impl TriageDecision {
    /// A decision of `kind` on `report_id` by `by`, now; the caller fills the detail.
    pub fn new(report_id: Uuid, kind: TriageKind, by: &str) -> TriageDecision {
        TriageDecision {
            id: crate::random_id(),
            report_id,
            kind,
            by: by.to_string(),
            at: crate::time::now(),
            reason: None,
            duplicate_of: None,
            assignee: None,
            text: None,
        }
    }
}

/// Check a free text of a decision (reason, follow-up): trimmed, 1 to
/// [`MAX_TRIAGE_TEXT`] characters, no NUL; the error names `field`.
pub fn triage_text(field: &str, s: &str) -> Result<String, DomainError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(DomainError::invalid(field, "required"));
    }
    if t.chars().count() > MAX_TRIAGE_TEXT || t.contains('\0') {
        return Err(DomainError::invalid(
            field,
            format!("1 to {MAX_TRIAGE_TEXT} characters, no NUL"),
        ));
    }
    Ok(t.to_string())
}

/// How urgent a report's keyword code makes it (SMS urgency codes, `ReportMeta::category`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    /// No code, or one that names no threat.
    None,
    /// Hate speech, displacement, a rumour.
    Moderate,
    /// Armed movement, a threat, looting or burning.
    High,
    /// An attack, an abduction, sexual violence.
    Critical,
}

impl Urgency {
    /// The urgency of a report's keyword category (`attack`, `armed_movement`, … as
    /// `tocsin-sms` names them).
    pub fn of_category(category: Option<&str>) -> Urgency {
        match category.map(|c| c.trim().to_ascii_lowercase()).as_deref() {
            Some("attack" | "abduction" | "sexual_violence") => Urgency::Critical,
            Some("armed_movement" | "threat" | "looting_burning") => Urgency::High,
            Some("hate_speech" | "displacement" | "rumour") => Urgency::Moderate,
            _ => Urgency::None,
        }
    }

    /// The name shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Urgency::None => "none",
            Urgency::Moderate => "moderate",
            Urgency::High => "high",
            Urgency::Critical => "critical",
        }
    }
}

/// One report in the triage queue, as its viewer may see it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TriageItem {
    /// The report (its source handle only to those who may see the source).
    pub report: Report,
    /// From its keyword code.
    pub urgency: Urgency,
    /// It is evidence of an alert not yet closed that the viewer may see.
    pub open_alert: bool,
    /// Its source's reliability, to those who may see the source.
    pub reliability: Option<Reliability>,
    /// Who it is assigned to, if anyone.
    pub assignee: Option<String>,
}

impl TriageItem {
    /// Its place in the queue: most urgent first (urgency code, a match to an open alert,
    /// source reliability A before F and unknown last), then the oldest first, then by id.
    pub fn key(&self) -> TriageKey {
        TriageKey {
            urgency: 3 - self.urgency as u8,
            alert: u8::from(!self.open_alert),
            reliability: self.reliability.map_or(6, |r| r as u8),
            received_at: self.report.received_at,
            id: self.report.id,
        }
    }
}

/// The sort key of the triage queue (ascending), and its cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct TriageKey {
    /// 0 critical … 3 none.
    pub urgency: u8,
    /// 0 when the report is evidence of an open alert.
    pub alert: u8,
    /// 0 A … 5 F, 6 unknown.
    pub reliability: u8,
    /// Received (oldest first).
    pub received_at: DateTime<Utc>,
    /// Ties broken by id.
    pub id: Uuid,
}

impl TriageKey {
    /// The opaque cursor handed to clients.
    pub fn encode(&self) -> String {
        let t = format!(
            "q1:{}:{}:{}:{}:{}",
            self.urgency,
            self.alert,
            self.reliability,
            self.received_at.timestamp_micros(),
            self.id
        );
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(t)
    }

    /// Parse a cursor a client sent back.
    pub fn decode(s: &str) -> Result<TriageKey, DomainError> {
        let bad = || DomainError::invalid("cursor", "not a cursor of the triage queue");
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s.as_bytes())
            .map_err(|_| bad())?;
        let text = std::str::from_utf8(&raw).map_err(|_| bad())?;
        let rest = text.strip_prefix("q1:").ok_or_else(bad)?;
        let parts: Vec<&str> = rest.split(':').collect();
        let [u, a, r, t, id] = parts.as_slice() else {
            return Err(bad());
        };
        let small = |s: &str| s.parse::<u8>().map_err(|_| bad());
        Ok(TriageKey {
            urgency: small(u)?,
            alert: small(a)?,
            reliability: small(r)?,
            received_at: t
                .parse::<i64>()
                .ok()
                .and_then(DateTime::<Utc>::from_timestamp_micros)
                .ok_or_else(bad)?,
            id: Uuid::parse_str(id).map_err(|_| bad())?,
        })
    }
}

/// Which reports of the queue the store hands over (the application adds the assignee filters).
#[derive(Debug, Clone, PartialEq)]
pub struct TriageFilter {
    /// The viewer's clearance: nothing above it is ever returned.
    pub max_tlp: Tlp,
    /// Only reports from this channel.
    pub channel: Option<Channel>,
    /// Only reports about this country.
    pub country: Option<Country>,
}

/// Whom the queue is narrowed to by assignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AssignedFilter {
    /// Everyone's.
    #[default]
    Any,
    /// Assigned to the viewer.
    Me,
    /// Assigned to nobody.
    Nobody,
}

/// A report of the queue as the store hands it over, with its latest assignee.
#[derive(Debug, Clone, PartialEq)]
pub struct TriageCandidate {
    /// The report.
    pub report: Report,
    /// The latest assignee, if any.
    pub assignee: Option<String>,
    /// Its source's reliability and label, when it names a source (the caller decides
    /// whether the viewer may see them).
    pub source_grade: Option<(Reliability, Tlp)>,
}

/// The queue as one viewer ranks it: what the store needs to rank and page it in the
/// database in [`TriageItem::key`]'s order, and to turn its rows into items
/// ([`TriageRanking::item`]) exactly as the viewer may see them.
#[derive(Debug, Clone, PartialEq)]
pub struct TriageRanking {
    /// Which reports (the viewer's clearance, channel, country).
    pub filter: TriageFilter,
    /// By assignment.
    pub assigned: AssignedFilter,
    /// The viewer's username (for [`AssignedFilter::Me`]).
    pub viewer: String,
    /// The viewer may see sources: a source's reliability ranks (and is shown) only then, and
    /// only when the source's label is within the viewer's clearance.
    pub sources_shown: bool,
    /// The reports that are evidence of an open alert the viewer may read.
    pub open_alert_reports: HashSet<Uuid>,
}

impl TriageRanking {
    /// The urgency rank (0 critical … 3 none) of each keyword category that has one, as
    /// [`Urgency::of_category`] gives it after trimming and lower-casing: for a store to
    /// compute [`TriageKey::urgency`].
    pub const URGENCY_RANKS: [(&'static str, u8); 9] = [
        ("attack", 0),
        ("abduction", 0),
        ("sexual_violence", 0),
        ("armed_movement", 1),
        ("threat", 1),
        ("looting_burning", 1),
        ("hate_speech", 2),
        ("displacement", 2),
        ("rumour", 2),
    ];

    /// A candidate as an item of this viewer's queue: `None` when the assignment filter or
    /// the viewer's clearance leaves it out; the source's handle hidden and its reliability
    /// unknown unless the viewer may see the source.
    pub fn item(&self, c: TriageCandidate) -> Option<TriageItem> {
        let keep = match self.assigned {
            AssignedFilter::Any => true,
            AssignedFilter::Me => c.assignee.as_deref() == Some(self.viewer.as_str()),
            AssignedFilter::Nobody => c.assignee.is_none(),
        };
        if !keep || c.report.tlp > self.filter.max_tlp {
            return None;
        }
        let mut report = c.report;
        let reliability = match c.source_grade {
            Some((grade, tlp)) if self.sources_shown && tlp <= self.filter.max_tlp => Some(grade),
            _ => None,
        };
        if reliability.is_none() {
            report.source = None;
        }
        Some(TriageItem {
            urgency: Urgency::of_category(report.meta.category.as_deref()),
            open_alert: self.open_alert_reports.contains(&report.id),
            reliability,
            assignee: c.assignee,
            report,
        })
    }

    /// The whole queue ranked in memory from candidates (every open report within the
    /// filter): the order a store's [`TriageRanking`] page must reproduce.
    pub fn rank(&self, candidates: Vec<TriageCandidate>) -> Vec<TriageItem> {
        let mut items: Vec<TriageItem> = candidates
            .into_iter()
            .filter_map(|c| self.item(c))
            .collect();
        items.sort_by_key(TriageItem::key);
        items
    }
}

/// An incident as `POST /api/v1/incidents` takes it: [`crate::IncidentInput`]'s fields, each
/// optional when `report_ids` names reports (the absent ones are taken from them: place from
/// their coordinates, country, date from when they say it happened or were received,
/// description from their text, the highest of their labels). Unknown fields are refused.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentDraft {
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
    /// Best estimate of deaths.
    pub fatalities: Option<i64>,
    /// What happened.
    pub description: Option<String>,
    /// Its label.
    pub tlp: Option<Tlp>,
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
    pub verification_status: Option<crate::VerificationStatus>,
    /// The situation it belongs to.
    pub situation_id: Option<Uuid>,
    /// Reports it is built from; fields absent here are taken from them.
    pub report_ids: Option<Vec<Uuid>>,
    /// Dataset it came from (e.g. `ucdp-ged`).
    pub dataset: Option<String>,
    /// Id in that dataset.
    pub external_id: Option<String>,
    /// UCDP type of violence: 1 state-based, 2 non-state, 3 one-sided.
    pub violence_type: Option<i16>,
}

impl IncidentDraft {
    /// The input once every required field is there; the first one missing is named.
    pub fn complete(self) -> Result<crate::IncidentInput, DomainError> {
        fn need<T>(field: &str, v: Option<T>) -> Result<T, DomainError> {
            v.ok_or_else(|| DomainError::invalid(field, "missing field"))
        }
        Ok(crate::IncidentInput {
            event_date: need("event_date", self.event_date)?,
            event_type: need("event_type", self.event_type)?,
            sub_event_type: need("sub_event_type", self.sub_event_type)?,
            country: need("country", self.country)?,
            latitude: need("latitude", self.latitude)?,
            longitude: need("longitude", self.longitude)?,
            fatalities: need("fatalities", self.fatalities)?,
            description: need("description", self.description)?,
            tlp: need("tlp", self.tlp)?,
            date_precision: self.date_precision,
            geo_precision: self.geo_precision,
            admin1: self.admin1,
            admin2: self.admin2,
            location: self.location,
            actor1: self.actor1,
            actor2: self.actor2,
            targeted_group: self.targeted_group,
            fatalities_low: self.fatalities_low,
            fatalities_high: self.fatalities_high,
            credibility: self.credibility,
            verification_status: self.verification_status,
            situation_id: self.situation_id,
            report_ids: self.report_ids,
            dataset: self.dataset,
            external_id: self.external_id,
            violence_type: self.violence_type,
        })
    }

    /// Fill the fields still absent from `reports` (in the order given; none: nothing
    /// changes). `place` resolves a point to its country (ISO3) and first-level area.
    pub fn prefill(
        &mut self,
        reports: &[Report],
        place: impl Fn(f64, f64) -> Option<(String, Option<String>)>,
    ) {
        if reports.is_empty() {
            return;
        }
        let points: Vec<(f64, f64)> = reports
            .iter()
            .filter_map(|r| r.latitude.zip(r.longitude))
            .collect();
        if self.latitude.is_none() && self.longitude.is_none() && !points.is_empty() {
            let n = points.len() as f64;
            let lat = points.iter().map(|p| p.0).sum::<f64>() / n;
            let lon = points.iter().map(|p| p.1).sum::<f64>() / n;
            self.latitude = Some((lat * 1e5).round() / 1e5);
            self.longitude = Some((lon * 1e5).round() / 1e5);
            if self.geo_precision.is_none() {
                self.geo_precision = reports.iter().filter_map(|r| r.meta.geo_precision).max();
            }
        }
        let resolved = match (self.latitude, self.longitude) {
            (Some(lat), Some(lon)) => place(lat, lon),
            _ => None,
        };
        if self.country.is_none() {
            self.country = reports
                .iter()
                .find_map(|r| r.country.as_ref().map(|c| c.code().to_string()))
                .or_else(|| resolved.as_ref().map(|p| p.0.clone()));
        }
        if self.admin1.is_none() {
            self.admin1 = resolved.and_then(|p| p.1);
        }
        if self.location.is_none() {
            self.location = reports.iter().find_map(|r| r.meta.place_name.clone());
        }
        if self.event_date.is_none() {
            let claimed = reports.iter().filter_map(|r| r.occurred_at).min();
            let when = claimed.unwrap_or_else(|| {
                reports
                    .iter()
                    .map(|r| r.received_at)
                    .min()
                    .expect("reports is not empty")
            });
            self.event_date = Some(when.date_naive().to_string());
            if self.date_precision.is_none() {
                self.date_precision = Some(if claimed.is_some() { 1 } else { 2 });
            }
        }
        if self.description.is_none() {
            let text: Vec<&str> = reports.iter().map(|r| r.text.trim()).collect();
            self.description = Some(text.join("\n\n"));
        }
        if self.tlp.is_none() {
            self.tlp = reports.iter().map(|r| r.tlp).max();
        }
        if self.event_type.is_none() && self.sub_event_type.is_none() {
            let cat = reports.iter().find_map(|r| r.meta.category.as_deref());
            let (t, s) = typology_of_category(cat);
            self.event_type = Some(t.into());
            self.sub_event_type = Some(s.into());
        }
        if self.fatalities.is_none() {
            self.fatalities = Some(0);
        }
    }
}

/// The ACLED event and sub-event type a report's keyword category suggests (a person corrects
/// it on the form): violence against civilians for attacks, abductions and sexual violence,
/// looting for looting and burning, else a strategic development.
pub fn typology_of_category(category: Option<&str>) -> (&'static str, &'static str) {
    const VAC: &str = "Violence against civilians";
    const SD: &str = "Strategic developments";
    match category.map(|c| c.trim().to_ascii_lowercase()).as_deref() {
        Some("attack") => (VAC, "Attack"),
        Some("abduction") => (VAC, "Abduction/forced disappearance"),
        Some("sexual_violence") => (VAC, "Sexual violence"),
        Some("looting_burning") => (SD, "Looting/property destruction"),
        _ => (SD, "Other"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(u: Urgency, alert: bool, r: Option<Reliability>, secs: i64) -> TriageItem {
        TriageItem {
            report: Report {
                id: Uuid::from_u128(secs as u128),
                channel: Channel::Sms,
                source: None,
                text: "x".into(),
                tlp: Tlp::Amber,
                latitude: None,
                longitude: None,
                country: None,
                occurred_at: None,
                received_at: DateTime::from_timestamp(1_700_000_000 + secs, 0).unwrap(),
                meta: Default::default(),
                credibility: 6,
                reliability: Reliability::F,
                grading: "F6".into(),
            },
            urgency: u,
            open_alert: alert,
            reliability: r,
            assignee: None,
        }
    }

    #[test]
    fn queue_order_is_urgency_alert_reliability_then_age() {
        let mut v = [
            item(Urgency::None, false, None, 1),
            item(Urgency::High, false, Some(Reliability::F), 2),
            item(Urgency::High, false, Some(Reliability::A), 3),
            item(Urgency::High, true, Some(Reliability::F), 4),
            item(Urgency::Critical, false, None, 6),
            item(Urgency::Critical, false, None, 5),
        ];
        v.sort_by_key(TriageItem::key);
        let order: Vec<u128> = v.iter().map(|i| i.report.id.as_u128()).collect();
        assert_eq!(order, [5, 6, 4, 3, 2, 1]);
    }

    #[test]
    fn cursor_round_trips_and_refuses_others() {
        let k = item(Urgency::High, true, Some(Reliability::B), 7).key();
        assert_eq!(TriageKey::decode(&k.encode()).unwrap(), k);
        let other = crate::Cursor::by_id(Uuid::nil()).encode();
        assert_eq!(
            TriageKey::decode(&other).unwrap_err().field(),
            Some("cursor")
        );
        assert_eq!(TriageKey::decode("!!").unwrap_err().field(), Some("cursor"));
    }

    #[test]
    fn the_urgency_ranks_a_store_uses_are_those_of_the_codes() {
        for (code, rank) in TriageRanking::URGENCY_RANKS {
            assert_eq!(3 - Urgency::of_category(Some(code)) as u8, rank, "{code}");
        }
        // Every other code ranks last (3), as a store's `ELSE 3`.
        let listed = TriageRanking::URGENCY_RANKS.map(|(c, _)| c);
        for code in ["", "other", "attacks", "rumor"] {
            assert!(!listed.contains(&code));
            assert_eq!(Urgency::of_category(Some(code)), Urgency::None);
        }
    }

    #[test]
    fn urgency_from_codes_and_texts_checked() {
        assert_eq!(Urgency::of_category(Some("attack")), Urgency::Critical);
        assert_eq!(Urgency::of_category(Some("Threat")), Urgency::High);
        assert_eq!(Urgency::of_category(Some("rumour")), Urgency::Moderate);
        assert_eq!(Urgency::of_category(None), Urgency::None);
        assert_eq!(
            triage_text("reason", "  ").unwrap_err().field(),
            Some("reason")
        );
        assert_eq!(triage_text("reason", " spam ").unwrap(), "spam");
        assert!(triage_text("text", &"x".repeat(1001)).is_err());
    }

    #[test]
    fn a_draft_is_prefilled_from_its_reports_and_keeps_what_was_given() {
        let mut a = item(Urgency::Critical, false, None, 1).report;
        a.text = "armed men burned the market".into();
        a.latitude = Some(6.0);
        a.longitude = Some(20.0);
        a.tlp = Tlp::Green;
        a.meta.category = Some("attack".into());
        let mut b = item(Urgency::None, false, None, 2).report;
        b.text = "  the market is burning ".into();
        b.latitude = Some(6.2);
        b.longitude = Some(20.2);
        b.tlp = Tlp::Amber;
        b.occurred_at = DateTime::from_timestamp(1_600_000_000, 0);
        let mut d = IncidentDraft {
            fatalities: Some(3),
            ..Default::default()
        };
        d.prefill(&[a, b], |_, _| Some(("CAF".into(), Some("Ouaka".into()))));
        let i = d.complete().unwrap();
        assert_eq!((i.latitude, i.longitude), (6.1, 20.1));
        assert_eq!(i.country, "CAF");
        assert_eq!(i.admin1.as_deref(), Some("Ouaka"));
        assert_eq!(i.event_date, "2020-09-13");
        assert_eq!(i.date_precision, Some(1));
        assert_eq!(i.tlp, Tlp::Amber);
        assert_eq!(i.fatalities, 3);
        assert_eq!(
            i.description,
            "armed men burned the market\n\nthe market is burning"
        );
        assert_eq!(
            (i.event_type.as_str(), i.sub_event_type.as_str()),
            ("Violence against civilians", "Attack")
        );
        crate::Incident::parse(i).expect("a prefilled draft is a valid incident");
        let e = IncidentDraft::default().complete().unwrap_err();
        assert_eq!(e.field(), Some("event_date"));
    }
}
