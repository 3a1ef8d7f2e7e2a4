//! Sharing with other organisations: the projection of a record that may leave (what crosses,
//! never who warned), and records received from elsewhere with their origin.
//!
//! Which records cross, and at which label, is decided in the application layer
//! (`tocsin_app::share`); this module only says what a record that crosses carries, so that
//! every way out (STIX bundles, signed bundles for partner organisations) carries the same
//! fields. Partners ([`Partner`]) and what was sent to them ([`SentRecord`]) live here too.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Country, DomainError, Incident, Reliability, Tlp, VerificationStatus};

/// The dataset name of incidents received from another organisation start with this, then the
/// origin's name (`shared:Partner NGO`), their external id being the original id.
pub const RECEIVED_DATASET_PREFIX: &str = "shared:";

/// The most characters of an origin organisation's name.
pub const MAX_ORIGIN_CHARS: usize = 80;

/// An incident as it may leave this organisation: what happened, where, when, how sure we are
/// (the Admiralty grade of its best source, never the source), its label. Never its linked
/// reports (a warner's words, their sources' handles and contacts), its situation, nor where
/// it was imported from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SharedIncident {
    /// Its id here (the origin's id for receivers).
    pub id: Uuid,
    /// Day of the event.
    pub event_date: NaiveDate,
    /// 1 exact day, 2 within a week, 3 within a month.
    pub date_precision: i16,
    /// ACLED event type.
    pub event_type: String,
    /// ACLED sub-event type.
    pub sub_event_type: String,
    /// Country.
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
    /// Admiralty reliability of its best source.
    pub reliability: Reliability,
    /// Admiralty information credibility, 1–6.
    pub credibility: i16,
    /// Both, e.g. `B2`.
    pub grading: String,
    /// How far it was verified.
    pub verification_status: VerificationStatus,
    /// UCDP type of violence.
    pub violence_type: Option<i16>,
    /// What happened (the analyst's description).
    pub description: String,
    /// Its label.
    pub tlp: Tlp,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed (the version's time).
    pub updated_at: DateTime<Utc>,
    /// Its version.
    pub version: i64,
}

impl SharedIncident {
    /// The projection of `i` (graded by the caller: [`Incident::set_reliability`]).
    pub fn of(i: &Incident) -> SharedIncident {
        SharedIncident {
            id: i.id,
            event_date: i.event_date,
            date_precision: i.date_precision,
            event_type: i.event_type.clone(),
            sub_event_type: i.sub_event_type.clone(),
            country: i.country.clone(),
            admin1: i.admin1.clone(),
            admin2: i.admin2.clone(),
            location: i.location.clone(),
            latitude: i.latitude,
            longitude: i.longitude,
            geo_precision: i.geo_precision,
            actor1: i.actor1.clone(),
            actor2: i.actor2.clone(),
            targeted_group: i.targeted_group.clone(),
            fatalities: i.fatalities,
            fatalities_low: i.fatalities_low,
            fatalities_high: i.fatalities_high,
            reliability: i.reliability,
            credibility: i.credibility,
            grading: crate::verification::grading(i.reliability, i.credibility),
            verification_status: i.verification_status,
            violence_type: i.violence_type,
            description: i.description.clone(),
            tlp: i.tlp,
            created_at: i.created_at,
            updated_at: i.updated_at,
            version: i.version,
        }
    }
}

/// Where a received record came from, as stored beside it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Received {
    /// The local record (an incident's id).
    pub record_id: Uuid,
    /// `incident`.
    pub kind: String,
    /// The organisation it came from, as named by whoever imported it (`--from NAME`).
    pub origin: String,
    /// Its id there (e.g. `incident--…` in STIX).
    pub original_id: String,
    /// How it came (`stix`).
    pub format: String,
    /// Its version time there (STIX `modified`): a later one supersedes.
    pub modified: DateTime<Utc>,
    /// The label its marking gave it.
    pub tlp: Tlp,
    /// First received.
    pub received_at: DateTime<Utc>,
    /// When its origin retracted it (then hidden from every view).
    pub retracted_at: Option<DateTime<Utc>>,
}

/// Check an origin organisation's name: 1 to [`MAX_ORIGIN_CHARS`] characters, no control
/// characters; trimmed.
pub fn origin_name(s: &str) -> Result<String, DomainError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(DomainError::invalid(
            "from",
            "name the organisation the bundle came from",
        ));
    }
    if t.chars().count() > MAX_ORIGIN_CHARS {
        return Err(DomainError::invalid(
            "from",
            format!("at most {MAX_ORIGIN_CHARS} characters"),
        ));
    }
    if t.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            "from",
            "must not contain control characters",
        ));
    }
    Ok(t.to_string())
}

/// An incident read from another organisation's bundle, checked, before it is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct IncomingIncident {
    /// Its id there.
    pub original_id: String,
    /// Its version time there.
    pub modified: DateTime<Utc>,
    /// Retracted by its origin (STIX `revoked`).
    pub revoked: bool,
    /// The incident as it would be stored (a new id; the store keeps the first one's).
    pub incident: Incident,
}

/// An object of another organisation's bundle that was not taken, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Refusal {
    /// The object's id there (e.g. `incident--…`).
    pub id: String,
    /// Why.
    pub reason: String,
}

/// The most characters of a partner's base URL.
pub const MAX_PARTNER_URL_CHARS: usize = 300;

/// The most countries a partner may be limited to.
pub const MAX_PARTNER_COUNTRIES: usize = 250;

/// Another organisation's Tocsin this one shares with: its name (as this organisation calls
/// it; received records carry it as their origin), where it runs, the Ed25519 key its bundles
/// are signed with, and what it may receive: labels up to `max_tlp` (never above
/// TLP:AMBER+STRICT) about `countries` (every country when empty).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Partner {
    /// Its name here (unique).
    pub name: String,
    /// Its base URL, e.g. `https://tocsin.partner.example`.
    pub url: String,
    /// Its public signing key, base64 (what its `tocsin share key` prints).
    pub public_key: String,
    /// The highest label it may receive: TLP:CLEAR to TLP:AMBER+STRICT.
    pub max_tlp: Tlp,
    /// The countries it may receive records about (ISO 3166-1 alpha-3); empty: every one.
    #[schema(value_type = Vec<String>)]
    pub countries: Vec<Country>,
    /// When it was added.
    pub added_at: DateTime<Utc>,
    /// What is withheld from every record sent to it.
    #[serde(default)]
    pub redact: Vec<Redact>,
    /// When its redaction rules last changed (what was sent before is sent again, as a new
    /// version).
    #[serde(default)]
    pub terms_changed_at: Option<DateTime<Utc>>,
    /// When an admin approved its terms after previewing what would cross; nothing is sent
    /// to it before (and again after its terms change).
    #[serde(default)]
    pub approved_at: Option<DateTime<Utc>>,
    /// The kinds of record it may receive (`incident`, `assessment`, `alert`, `rumour`,
    /// `action`); empty: every kind.
    #[serde(default)]
    pub kinds: Vec<String>,
}

/// A partner as asked for (CLI flags, API body, form), before it is checked.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartnerInput {
    /// Its name here.
    pub name: String,
    /// Its base URL (`https://…`; `http://` only for a loopback address).
    pub url: String,
    /// Its public signing key, base64.
    pub key: String,
    /// The highest label it may receive, e.g. `TLP:AMBER` (TLP:RED is refused).
    pub max_tlp: String,
    /// ISO 3166-1 alpha-3 codes it is limited to; none: every country.
    #[serde(default)]
    pub countries: Vec<String>,
    /// The kinds of record it may receive (`incident`, `assessment`, `alert`, `rumour`,
    /// `action`); none: every kind.
    #[serde(default)]
    pub kinds: Vec<String>,
}

/// The kinds of record a partner may be limited to, in order.
pub const RECORD_KINDS: [&str; 5] = ["incident", "assessment", "alert", "rumour", "action"];

/// Check the kinds of record a partner is limited to: each one of [`RECORD_KINDS`], each once,
/// in that order.
pub fn record_kinds<S: AsRef<str>>(kinds: &[S]) -> Result<Vec<String>, DomainError> {
    let mut out: Vec<&str> = Vec::new();
    for k in kinds.iter().map(|k| k.as_ref().trim().to_ascii_lowercase()) {
        if k.is_empty() {
            continue;
        }
        let Some(known) = RECORD_KINDS.iter().find(|r| **r == k) else {
            return Err(DomainError::invalid(
                "kinds",
                "expected incident, assessment, alert, rumour or action",
            ));
        };
        if !out.contains(known) {
            out.push(known);
        }
    }
    out.sort_by_key(|k| RECORD_KINDS.iter().position(|r| r == k));
    Ok(out.into_iter().map(str::to_string).collect())
}

impl Partner {
    /// Check `input` (each bad field refused by name) into a partner added at `now`.
    pub fn parse(input: PartnerInput, now: DateTime<Utc>) -> Result<Partner, DomainError> {
        let name = input.name.trim().to_string();
        if name.is_empty() {
            return Err(DomainError::invalid(
                "name",
                "name the partner organisation",
            ));
        }
        if name.chars().count() > MAX_ORIGIN_CHARS {
            return Err(DomainError::invalid(
                "name",
                format!("at most {MAX_ORIGIN_CHARS} characters"),
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(DomainError::invalid(
                "name",
                "must not contain control characters",
            ));
        }
        let url = input.url.trim().to_string();
        // The authority (host and port) of an https:// URL, or of an http:// one whose host is
        // exactly this machine's (not `localhost.example` nor `127.0.0.1@elsewhere`); no
        // user information, which would hide the real host from a reader.
        let authority = |rest: &str| rest.split(['/', '?', '#']).next().unwrap_or("").to_string();
        let on_this_machine = |a: &str| {
            let host = if a.starts_with('[') {
                a.split_inclusive(']').next().unwrap_or("")
            } else {
                a.split(':').next().unwrap_or("")
            };
            matches!(host, "127.0.0.1" | "localhost" | "[::1]")
        };
        let host = match (url.strip_prefix("https://"), url.strip_prefix("http://")) {
            (Some(rest), _) => Some(authority(rest)),
            (None, Some(rest)) => Some(authority(rest)).filter(|a| on_this_machine(a)),
            _ => None,
        }
        .filter(|a| !a.contains('@'));
        if !matches!(&host, Some(h) if !h.is_empty())
            || url.chars().count() > MAX_PARTNER_URL_CHARS
            || url.chars().any(|c| c.is_control() || c.is_whitespace())
        {
            return Err(DomainError::invalid(
                "url",
                format!(
                    "expected its base URL, https://… (http:// only on this machine), at most \
                     {MAX_PARTNER_URL_CHARS} characters"
                ),
            ));
        }
        let public_key = crate::crypto::PublicKey::parse(&input.key)?.to_string();
        let max_tlp: Tlp =
            input.max_tlp.trim().parse().map_err(|_| {
                DomainError::invalid("max_tlp", "expected a TLP label, e.g. TLP:GREEN")
            })?;
        if max_tlp == Tlp::Red {
            return Err(DomainError::invalid(
                "max_tlp",
                "TLP:RED never leaves this organisation: at most TLP:AMBER+STRICT",
            ));
        }
        if input.countries.len() > MAX_PARTNER_COUNTRIES {
            return Err(DomainError::invalid(
                "countries",
                format!("at most {MAX_PARTNER_COUNTRIES}"),
            ));
        }
        let mut countries = Vec::new();
        for c in input.countries.iter().filter(|c| !c.trim().is_empty()) {
            let c = Country::parse(c.trim()).map_err(|_| {
                DomainError::invalid(
                    "countries",
                    format!("unknown country {c:?}: an ISO 3166-1 alpha-3 code, e.g. CAF"),
                )
            })?;
            if !countries.contains(&c) {
                countries.push(c);
            }
        }
        Ok(Partner {
            name,
            url,
            public_key,
            max_tlp,
            countries,
            added_at: now,
            redact: Vec::new(),
            terms_changed_at: None,
            approved_at: None,
            kinds: record_kinds(&input.kinds)?,
        })
    }

    /// Its key, parsed.
    pub fn key(&self) -> Result<crate::crypto::PublicKey, DomainError> {
        crate::crypto::PublicKey::parse(&self.public_key)
    }

    /// `i` as this partner receives it: its redaction rules applied, and its version time
    /// moved to when they last changed if later (so what was sent before is sent again).
    pub fn redacted(&self, mut i: SharedIncident) -> SharedIncident {
        for r in &self.redact {
            r.apply(&mut i);
        }
        if let Some(t) = self.terms_changed_at {
            i.updated_at = i.updated_at.max(t);
        }
        i
    }

    /// `item` as this partner receives it: the summary withheld when its rules withhold
    /// descriptions, and its version time moved as [`Partner::redacted`] does.
    pub fn redacted_item(&self, mut item: crate::SharedItem) -> crate::SharedItem {
        if self.redact.contains(&Redact::Description) && !item.summary.is_empty() {
            item.summary = WITHHELD.to_string();
        }
        if let Some(t) = self.terms_changed_at {
            item.updated_at = item.updated_at.max(t);
        }
        item
    }

    /// A digest of its terms as they stand (name, ceiling, countries, redaction, when they
    /// changed): what an approval names, so an approval of a preview of other terms is
    /// refused.
    pub fn terms_digest(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut terms = serde_json::json!({
            "name": self.name,
            "max_tlp": self.max_tlp.as_str(),
            "countries": self.countries.iter().map(Country::code).collect::<Vec<_>>(),
            "redact": self.redact.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
            "terms_changed_at": self.terms_changed_at.map(|t| t.to_rfc3339()),
        });
        if !self.kinds.is_empty() {
            terms["kinds"] = serde_json::json!(self.kinds);
        }
        let text = terms.to_string();
        hex::encode(&Sha256::digest(text.as_bytes())[..12])
    }

    /// Whether it may receive records of `kind` (`incident`, or a [`crate::SharedKind`]'s
    /// name).
    pub fn takes(&self, kind: &str) -> bool {
        self.kinds.is_empty() || self.kinds.iter().any(|k| k == kind)
    }

    /// Whether it may receive records about `country`.
    pub fn covers(&self, country: &Country) -> bool {
        self.countries.is_empty() || self.countries.contains(country)
    }
}

/// A record sent to a partner, as remembered: so that a record that no longer may cross (it
/// was refuted, relabelled, or the partner's terms narrowed) is sent as a retraction.
#[derive(Debug, Clone, PartialEq)]
pub struct SentRecord {
    /// The partner's name.
    pub partner: String,
    /// The local record (an incident's id, or an item's).
    pub record_id: Uuid,
    /// What it is: `incident`, or a [`crate::SharedKind`]'s name (a retraction names the
    /// STIX type it was sent as).
    pub kind: String,
    /// The version time last sent.
    pub modified: DateTime<Utc>,
    /// The label last sent.
    pub tlp: Tlp,
    /// When it was first sent as retracted.
    pub retracted_at: Option<DateTime<Utc>>,
    /// When it was last sent (the bundle's time).
    pub sent_at: DateTime<Utc>,
}

/// What was exchanged with a partner: records sent (and of them, retracted since) with the
/// last time, and records received from it (and of them, retracted by it) with the last time.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PartnerActivity {
    /// Records it was sent.
    pub sent: u64,
    /// Of them, sent as retracted since.
    pub sent_retracted: u64,
    /// When a bundle was last made for it.
    pub last_sent: Option<DateTime<Utc>>,
    /// Records received from it.
    pub received: u64,
    /// Of them, retracted by it.
    pub received_retracted: u64,
    /// When a record of it was last first received.
    pub last_received: Option<DateTime<Utc>>,
}

/// What a partner's rules withhold from every record sent to it (redaction), beyond what
/// never leaves (sources, reports, a warner's words, evidence files).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Redact {
    /// The place: no place name nor second-level subdivision, coordinates rounded to 0.1°
    /// (about 11 km), the precision said to be the region's.
    Place,
    /// The day: the first of the month, the precision said to be the month's.
    Date,
    /// The actors' names.
    Actors,
    /// The targeted group.
    TargetedGroup,
    /// The analyst's description (replaced by a line saying it was withheld).
    Description,
}

/// The description a record carries when its origin withholds it.
pub const WITHHELD: &str = "Withheld by the origin organisation.";

impl Redact {
    /// Every rule, in order.
    pub const ALL: [Redact; 5] = [
        Redact::Place,
        Redact::Date,
        Redact::Actors,
        Redact::TargetedGroup,
        Redact::Description,
    ];

    /// Its name, e.g. `targeted_group`.
    pub fn as_str(self) -> &'static str {
        match self {
            Redact::Place => "place",
            Redact::Date => "date",
            Redact::Actors => "actors",
            Redact::TargetedGroup => "targeted_group",
            Redact::Description => "description",
        }
    }

    /// Parse a rule's name.
    pub fn parse(s: &str) -> Result<Redact, DomainError> {
        let s = s.trim().to_ascii_lowercase().replace('-', "_");
        Redact::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                DomainError::invalid(
                    "redact",
                    "expected place, date, actors, targeted_group or description",
                )
            })
    }

    /// Parse rules by name, each once, in [`Redact::ALL`]'s order.
    pub fn parse_all<S: AsRef<str>>(names: &[S]) -> Result<Vec<Redact>, DomainError> {
        let mut out = Vec::new();
        for n in names.iter().filter(|n| !n.as_ref().trim().is_empty()) {
            out.push(Redact::parse(n.as_ref())?);
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// Withhold this from `i`.
    pub fn apply(self, i: &mut SharedIncident) {
        match self {
            Redact::Place => {
                i.location = None;
                i.admin2 = None;
                i.latitude = (i.latitude * 10.0).round() / 10.0;
                i.longitude = (i.longitude * 10.0).round() / 10.0;
                i.geo_precision = 3;
            }
            Redact::Date => {
                use chrono::Datelike;
                i.event_date = i.event_date.with_day(1).unwrap_or(i.event_date);
                i.date_precision = 3;
            }
            Redact::Actors => {
                i.actor1 = None;
                i.actor2 = None;
            }
            Redact::TargetedGroup => i.targeted_group = None,
            Redact::Description => i.description = WITHHELD.to_string(),
        }
    }
}

/// The most members of a sharing group, and the most names on one record's "shared with".
pub const MAX_SHARE_NAMES: usize = 100;

/// A name of a partner or a sharing group: trimmed, not empty, at most [`MAX_ORIGIN_CHARS`]
/// characters, no control characters; refused as `field` otherwise.
pub fn share_name(s: &str, field: &str) -> Result<String, DomainError> {
    let name = s.trim();
    if name.is_empty() {
        return Err(DomainError::invalid(field, "a name must not be empty"));
    }
    if name.chars().count() > MAX_ORIGIN_CHARS {
        return Err(DomainError::invalid(
            field,
            format!("a name has at most {MAX_ORIGIN_CHARS} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            field,
            "a name must not contain control characters",
        ));
    }
    Ok(name.to_string())
}

/// Names (of partners or sharing groups) checked one by one ([`share_name`]), each once, in the
/// order given; at most [`MAX_SHARE_NAMES`].
pub fn share_names<S: AsRef<str>>(names: &[S], field: &str) -> Result<Vec<String>, DomainError> {
    let mut out: Vec<String> = Vec::new();
    for n in names {
        let n = share_name(n.as_ref(), field)?;
        if !out.contains(&n) {
            out.push(n);
        }
    }
    if out.len() > MAX_SHARE_NAMES {
        return Err(DomainError::invalid(
            field,
            format!("at most {MAX_SHARE_NAMES} names"),
        ));
    }
    Ok(out)
}

/// Several partners under one name (like MISP's sharing groups): a record naming the group
/// names each of its members.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SharingGroup {
    /// Its name (unique among groups and partners).
    pub name: String,
    /// The partners in it, by name.
    pub members: Vec<String>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

/// A sharing group as asked for (CLI flags, API body, form), before it is checked.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SharingGroupInput {
    /// Its name.
    pub name: String,
    /// Its members, partners by name (at least one).
    #[serde(default)]
    pub members: Vec<String>,
}

impl SharingGroup {
    /// Check `input` into a group made at `now` (that its members are partners is checked
    /// where partners are known).
    pub fn parse(
        input: SharingGroupInput,
        now: DateTime<Utc>,
    ) -> Result<SharingGroup, DomainError> {
        let name = share_name(&input.name, "name")?;
        let members = share_names(&input.members, "members")?;
        if members.is_empty() {
            return Err(DomainError::invalid(
                "members",
                "name at least one partner in the group",
            ));
        }
        Ok(SharingGroup {
            name,
            members,
            created_at: now,
        })
    }
}

/// Who a record made here is shared with beyond its label: partners and sharing groups by
/// name. Empty: whoever its label allows. Not empty: only the partners named (directly or
/// through a group), never a STIX bundle; and TLP:AMBER+STRICT crosses only this way.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShareWith(pub Vec<String>);

impl ShareWith {
    /// Whether the record names the partner `partner`, itself or through one of `groups` (the
    /// groups it is a member of).
    pub fn names(&self, partner: &str, groups: &[String]) -> bool {
        self.0
            .iter()
            .any(|n| n == partner || groups.iter().any(|g| g == n))
    }

    /// Whether it names anyone.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> PartnerInput {
        PartnerInput {
            name: " UN office ".into(),
            url: "https://tocsin.un.example".into(),
            key: crate::SigningKey::generate().public_key().to_string(),
            max_tlp: "TLP:AMBER".into(),
            countries: vec!["KEN".into(), "ken".into()],
            kinds: vec![],
        }
    }

    #[test]
    fn partners_are_checked() {
        let p = Partner::parse(input(), Utc::now()).unwrap();
        assert_eq!(p.name, "UN office");
        assert_eq!(p.max_tlp, Tlp::Amber);
        assert_eq!(p.countries.len(), 1);
        assert!(p.covers(&Country::parse("KEN").unwrap()));
        assert!(!p.covers(&Country::parse("CAF").unwrap()));
        let bad = |f: fn(&mut PartnerInput), field: &str| {
            let mut i = input();
            f(&mut i);
            assert_eq!(
                Partner::parse(i, Utc::now()).unwrap_err().field(),
                Some(field)
            );
        };
        bad(|i| i.max_tlp = "TLP:RED".into(), "max_tlp");
        bad(|i| i.max_tlp = "secret".into(), "max_tlp");
        bad(|i| i.url = "ftp://x".into(), "url");
        bad(|i| i.url = "http://partner.example".into(), "url");
        bad(|i| i.url = "http://localhost.partner.example".into(), "url");
        bad(
            |i| i.url = "http://127.0.0.1.partner.example:8080".into(),
            "url",
        );
        bad(|i| i.url = "http://127.0.0.1@partner.example".into(), "url");
        bad(|i| i.url = "https://user@partner.example".into(), "url");
        bad(|i| i.url = "https://".into(), "url");
        bad(|i| i.key = "not a key".into(), "key");
        bad(|i| i.name = "".into(), "name");
        bad(|i| i.countries = vec!["XXX".into()], "countries");
        bad(|i| i.kinds = vec!["report".into()], "kinds");
        let mut limited = input();
        limited.kinds = vec![" Rumour".into(), "incident".into(), "rumour".into()];
        let l = Partner::parse(limited, Utc::now()).unwrap();
        assert_eq!(l.kinds, ["incident", "rumour"]);
        assert!(l.takes("rumour") && !l.takes("alert"));
        assert!(p.takes("alert"), "no kinds: every kind");
        let mut local = input();
        local.url = "http://127.0.0.1:8080".into();
        assert!(Partner::parse(local, Utc::now()).is_ok());
    }

    #[test]
    fn a_partners_rules_withhold_what_they_name() {
        let mut i = Incident::parse(crate::incident::IncidentInput {
            event_date: "2025-03-17".into(),
            event_type: "Violence against civilians".into(),
            sub_event_type: "Attack".into(),
            country: "CAF".into(),
            latitude: 6.1234,
            longitude: 20.9876,
            fatalities: 3,
            description: "Men from the Bambari market attacked".into(),
            location: Some("Bambari market".into()),
            admin2: Some("Bambari".into()),
            actor1: Some("Militia X".into()),
            targeted_group: Some("Fulani herders".into()),
            tlp: Tlp::Green,
            credibility: Some(2),
            ..Default::default()
        })
        .unwrap();
        i.set_reliability(Reliability::B);
        let s = SharedIncident::of(&i);
        let mut p = Partner::parse(input(), Utc::now()).unwrap();
        assert_eq!(p.redacted(s.clone()), s, "no rules: unchanged");
        let before = p.terms_digest();
        p.redact =
            Redact::parse_all(&["description", " Place", "actors", "date", "place"]).unwrap();
        assert_eq!(
            p.redact,
            [
                Redact::Place,
                Redact::Date,
                Redact::Actors,
                Redact::Description
            ]
        );
        p.terms_changed_at = Some(s.updated_at + chrono::Duration::hours(1));
        assert_ne!(p.terms_digest(), before);
        let r = p.redacted(s.clone());
        assert_eq!((r.location.as_deref(), r.admin2.as_deref()), (None, None));
        assert_eq!((r.latitude, r.longitude, r.geo_precision), (6.1, 21.0, 3));
        assert_eq!(
            (r.event_date.to_string().as_str(), r.date_precision),
            ("2025-03-01", 3)
        );
        assert_eq!(
            (r.actor1.as_deref(), r.targeted_group.as_deref()),
            (None, Some("Fulani herders"))
        );
        assert_eq!(r.description, WITHHELD);
        assert_eq!(
            r.updated_at,
            p.terms_changed_at.unwrap(),
            "sent again as a new version"
        );
        let json = serde_json::to_string(&r).unwrap();
        for gone in ["Bambari", "Militia", "6.1234", "2025-03-17"] {
            assert!(!json.contains(gone), "{gone}");
        }
        assert_eq!(Redact::parse("nope").unwrap_err().field(), Some("redact"));
    }

    #[test]
    fn groups_and_names_are_checked() {
        let g = SharingGroup::parse(
            SharingGroupInput {
                name: " Focal points ".into(),
                members: vec!["UN office".into(), " UN office".into(), "Ministry".into()],
            },
            Utc::now(),
        )
        .unwrap();
        assert_eq!(g.name, "Focal points");
        assert_eq!(g.members, vec!["UN office", "Ministry"]);
        let bad = |name: &str, members: Vec<String>| {
            SharingGroup::parse(
                SharingGroupInput {
                    name: name.into(),
                    members,
                },
                Utc::now(),
            )
            .unwrap_err()
            .field()
            .map(str::to_string)
        };
        assert_eq!(bad("", vec!["A".into()]).as_deref(), Some("name"));
        assert_eq!(bad("G", vec![]).as_deref(), Some("members"));
        assert_eq!(bad("G", vec!["a\u{7}".into()]).as_deref(), Some("members"));
        let many: Vec<String> = (0..=MAX_SHARE_NAMES).map(|i| format!("p{i}")).collect();
        assert_eq!(bad("G", many).as_deref(), Some("members"));
        let w = ShareWith(vec!["Focal points".into()]);
        assert!(w.names("UN office", &["Focal points".into()]));
        assert!(!w.names("UN office", &[]));
        assert!(ShareWith(vec!["UN office".into()]).names("UN office", &[]));
    }

    #[test]
    fn origin_names_are_checked() {
        assert_eq!(origin_name("  Partner NGO ").unwrap(), "Partner NGO");
        for bad in ["", "   ", "a\nb", &"x".repeat(81)] {
            assert_eq!(origin_name(bad).unwrap_err().field(), Some("from"));
        }
    }

    #[test]
    fn the_projection_drops_reports_and_situation() {
        let mut i = Incident::parse(crate::incident::IncidentInput {
            event_date: "2025-03-01".into(),
            event_type: "Violence against civilians".into(),
            sub_event_type: "Attack".into(),
            country: "CAF".into(),
            latitude: 6.1,
            longitude: 20.9,
            fatalities: 3,
            description: "Village attacked".into(),
            tlp: Tlp::Green,
            credibility: Some(2),
            ..Default::default()
        })
        .unwrap();
        i.report_ids = vec![Uuid::nil()];
        i.set_reliability(Reliability::B);
        let s = SharedIncident::of(&i);
        assert_eq!(s.grading, "B2");
        let json = serde_json::to_string(&s).unwrap();
        assert!(!json.contains("report") && !json.contains("situation"));
    }
}
