//! Row ↔ domain conversions for SQLite's text ids and timestamps.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::Row;
use tocsin_domain::{
    Channel, Country, Incident, Reliability, Report, Role, Situation, Source, Tlp, User,
    VerificationStatus,
};
use tocsin_store::{Result, StoreError};
use uuid::Uuid;

/// The columns an import replaces when the incident exists: the dataset's own fields. Tocsin's
/// fields (id, verification status, credibility, TLP, situation, linked reports) are kept.
pub(crate) const INCIDENT_UPSERT: &str = " ON CONFLICT (dataset, external_id) \
    WHERE dataset IS NOT NULL AND external_id IS NOT NULL DO UPDATE SET \
    event_date = excluded.event_date, date_precision = excluded.date_precision, \
    event_type = excluded.event_type, sub_event_type = excluded.sub_event_type, \
    country = excluded.country, admin1 = excluded.admin1, admin2 = excluded.admin2, \
    location = excluded.location, latitude = excluded.latitude, longitude = excluded.longitude, \
    geo_precision = excluded.geo_precision, actor1 = excluded.actor1, actor2 = excluded.actor2, \
    targeted_group = excluded.targeted_group, fatalities = excluded.fatalities, \
    fatalities_low = excluded.fatalities_low, fatalities_high = excluded.fatalities_high, \
    description = excluded.description, violence_type = excluded.violence_type, \
    updated_at = excluded.updated_at, version = incidents.version + 1";

pub(crate) const INCIDENT_COLS: &str = "id, event_date, date_precision, event_type, sub_event_type, country, \
    admin1, admin2, location, latitude, longitude, geo_precision, actor1, actor2, targeted_group, fatalities, \
    fatalities_low, fatalities_high, credibility, verification_status, description, tlp, situation_id, \
    report_ids, dataset, external_id, created_at, updated_at, version, violence_type";
pub(crate) const REPORT_SELECT: &str = "SELECT r.id, r.channel, s.handle, r.text, r.tlp, \
    r.latitude, r.longitude, r.country, r.occurred_at, r.received_at, r.language, r.category, \
    r.place_name, r.geo_precision, r.place_unresolved FROM reports r \
    LEFT JOIN sources s ON s.id = r.source_id";
pub(crate) const SOURCE_COLS: &str =
    "id, handle, kind, reliability, tlp, contact IS NOT NULL, created_at";
pub(crate) const SITUATION_COLS: &str =
    "id, name, country, admin1_areas, status, description, tlp, created_at";
pub(crate) const USER_COLS: &str =
    "id, username, role, clearance, password_hash, created_at, disabled, grants, time_zone, language";

pub(crate) fn corrupt(what: &str) -> StoreError {
    StoreError::Backend(format!("corrupt {what} in database"))
}

pub(crate) fn parse_uuid(s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|_| corrupt("id"))
}

pub(crate) fn parse_ts(s: &str) -> Result<DateTime<Utc>> {
    tocsin_domain::time::parse(s).map_err(|_| corrupt("timestamp"))
}

pub(crate) fn tlp(rank: i64) -> Result<Tlp> {
    Tlp::from_rank(rank).ok_or_else(|| corrupt("TLP rank"))
}

pub(crate) fn ids_json(ids: &[Uuid]) -> String {
    serde_json::to_string(ids).expect("uuids serialise")
}

pub(crate) fn report_from_row(r: &SqliteRow) -> Result<Report> {
    Ok(Report {
        id: parse_uuid(r.get(0))?,
        channel: Channel::parse(r.get(1))?,
        source: r.get(2),
        text: r.get(3),
        tlp: tlp(r.get(4))?,
        latitude: r.get(5),
        longitude: r.get(6),
        country: r
            .get::<Option<String>, _>(7)
            .map(|c| Country::parse(&c))
            .transpose()?,
        occurred_at: r
            .get::<Option<String>, _>(8)
            .map(|t| parse_ts(&t))
            .transpose()?,
        received_at: parse_ts(r.get(9))?,
        meta: tocsin_domain::ReportMeta {
            language: r.get(10),
            category: r.get(11),
            place_name: r.get(12),
            geo_precision: r.get(13),
            place_unresolved: r.get(14),
        },
        credibility: 6,
        reliability: Reliability::F,
        grading: "F6".into(),
    })
}

pub(crate) fn incident_from_row(r: &SqliteRow) -> Result<Incident> {
    Ok(Incident {
        reliability: Reliability::F,
        grading: String::new(),
        id: parse_uuid(r.get(0))?,
        event_date: NaiveDate::parse_from_str(r.get(1), "%Y-%m-%d").map_err(|_| corrupt("date"))?,
        date_precision: r.get(2),
        event_type: r.get(3),
        sub_event_type: r.get(4),
        country: Country::parse(r.get(5))?,
        admin1: r.get(6),
        admin2: r.get(7),
        location: r.get(8),
        latitude: r.get(9),
        longitude: r.get(10),
        geo_precision: r.get(11),
        actor1: r.get(12),
        actor2: r.get(13),
        targeted_group: r.get(14),
        fatalities: r.get(15),
        fatalities_low: r.get(16),
        fatalities_high: r.get(17),
        credibility: r.get(18),
        verification_status: VerificationStatus::parse(r.get(19))?,
        description: r.get(20),
        tlp: tlp(r.get(21))?,
        situation_id: r
            .get::<Option<String>, _>(22)
            .map(|s| parse_uuid(&s))
            .transpose()?,
        report_ids: serde_json::from_str(r.get(23)).map_err(|_| corrupt("report_ids"))?,
        dataset: r.get(24),
        external_id: r.get(25),
        created_at: parse_ts(r.get(26))?,
        updated_at: parse_ts(r.get(27))?,
        version: r.get(28),
        violence_type: r.get(29),
    })
}

pub(crate) fn source_from_row(r: &SqliteRow) -> Result<Source> {
    Ok(Source {
        id: parse_uuid(r.get(0))?,
        handle: r.get(1),
        kind: r.get(2),
        reliability: Reliability::parse(r.get(3))?,
        tlp: tlp(r.get(4))?,
        has_contact: r.get(5),
        created_at: parse_ts(r.get(6))?,
    })
}

pub(crate) fn situation_from_row(r: &SqliteRow) -> Result<Situation> {
    Ok(Situation {
        id: parse_uuid(r.get(0))?,
        name: r.get(1),
        country: Country::parse(r.get(2))?,
        admin1: serde_json::from_str(r.get(3))
            .map_err(|e| StoreError::Backend(format!("corrupt situation areas: {e}")))?,
        status: r.get(4),
        description: r.get(5),
        tlp: tlp(r.get(6))?,
        created_at: parse_ts(r.get(7))?,
    })
}

pub(crate) fn user_from_row(r: &SqliteRow) -> Result<User> {
    Ok(User {
        id: parse_uuid(r.get(0))?,
        username: r.get(1),
        role: Role::parse(r.get(2))?,
        clearance: tlp(r.get(3))?,
        password_hash: r.get(4),
        created_at: parse_ts(r.get(5))?,
        disabled: r.get(6),
        grants: User::parse_grants(r.get(7)),
        time_zone: r.get(8),
        language: r
            .get::<Option<String>, _>(9)
            .as_deref()
            .and_then(tocsin_domain::Lang::parse),
    })
}

pub(crate) const OUTBOX_COLS: &str =
    "id, idempotency_key, gateway, source_id, report_id, text, status, attempts, \
    next_attempt_at, provider_key, last_error, created_at, updated_at, sender, \
    recipient_kind, user_id, address, tlp";

pub(crate) fn outbound_from_row(r: &SqliteRow) -> Result<tocsin_domain::OutboundMessage> {
    Ok(tocsin_domain::OutboundMessage {
        id: parse_uuid(r.get(0))?,
        idempotency_key: r.get(1),
        gateway: r.get(2),
        source_id: r
            .get::<Option<String>, _>(3)
            .map(|s| parse_uuid(&s))
            .transpose()?,
        report_id: r
            .get::<Option<String>, _>(4)
            .map(|s| parse_uuid(&s))
            .transpose()?,
        text: r.get(5),
        status: tocsin_domain::OutboxStatus::parse(r.get(6))?,
        attempts: r.get(7),
        next_attempt_at: parse_ts(r.get(8))?,
        provider_key: r.get(9),
        last_error: r.get(10),
        created_at: parse_ts(r.get(11))?,
        updated_at: parse_ts(r.get(12))?,
        sender: r.get(13),
        recipient_kind: tocsin_domain::RecipientKind::parse(r.get(14))?,
        user_id: r
            .get::<Option<String>, _>(15)
            .map(|s| parse_uuid(&s))
            .transpose()?,
        address: r
            .get::<Option<Vec<u8>>, _>(16)
            .map(tocsin_domain::SealedContact),
        tlp: tlp(r.get(17))?,
    })
}
