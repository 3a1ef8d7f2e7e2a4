//! Row ↔ domain conversions for PostgreSQL's native types (`uuid`, `timestamptz`, `date`,
//! `smallint` TLP ranks, `uuid[]`). Columns are read with `try_get`, so a schema that does not
//! match becomes a [`StoreError::Backend`] rather than a panic.

use sqlx::postgres::PgRow;
use sqlx::{Decode, Postgres, Row, Type};
use tocsin_domain::{
    Channel, Country, Incident, Reliability, Report, Role, Situation, Source, Tlp, User,
    VerificationStatus,
};
use tocsin_store::{Result, StoreError};

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
pub(crate) const AUDIT_COLS: &str =
    "seq, at, actor_id, actor_name, action, record_type, record_id, detail, prev_hash, hash";

pub(crate) fn corrupt(what: &str) -> StoreError {
    StoreError::Backend(format!("corrupt {what} in database"))
}

/// Column `i` of `r`, or a backend error naming it.
pub(crate) fn col<'r, T>(r: &'r PgRow, i: usize) -> Result<T>
where
    T: Decode<'r, Postgres> + Type<Postgres>,
{
    r.try_get(i)
        .map_err(|e| StoreError::Backend(format!("unreadable column {i}: {e}")))
}

fn tlp(r: &PgRow, i: usize) -> Result<Tlp> {
    Tlp::from_rank(i64::from(col::<i16>(r, i)?)).ok_or_else(|| corrupt("TLP rank"))
}

fn country(r: &PgRow, i: usize) -> Result<Option<Country>> {
    Ok(col::<Option<&str>>(r, i)?.map(Country::parse).transpose()?)
}

pub(crate) fn report_from_row(r: &PgRow) -> Result<Report> {
    Ok(Report {
        id: col(r, 0)?,
        channel: Channel::parse(col(r, 1)?)?,
        source: col(r, 2)?,
        text: col(r, 3)?,
        tlp: tlp(r, 4)?,
        latitude: col(r, 5)?,
        longitude: col(r, 6)?,
        country: country(r, 7)?,
        occurred_at: col(r, 8)?,
        received_at: col(r, 9)?,
        meta: tocsin_domain::ReportMeta {
            language: col(r, 10)?,
            category: col(r, 11)?,
            place_name: col(r, 12)?,
            geo_precision: col(r, 13)?,
            place_unresolved: col(r, 14)?,
        },
        credibility: 6,
        reliability: Reliability::F,
        grading: "F6".into(),
    })
}

pub(crate) fn incident_from_row(r: &PgRow) -> Result<Incident> {
    Ok(Incident {
        reliability: Reliability::F,
        grading: String::new(),
        id: col(r, 0)?,
        event_date: col(r, 1)?,
        date_precision: col(r, 2)?,
        event_type: col(r, 3)?,
        sub_event_type: col(r, 4)?,
        country: Country::parse(col(r, 5)?)?,
        admin1: col(r, 6)?,
        admin2: col(r, 7)?,
        location: col(r, 8)?,
        latitude: col(r, 9)?,
        longitude: col(r, 10)?,
        geo_precision: col(r, 11)?,
        actor1: col(r, 12)?,
        actor2: col(r, 13)?,
        targeted_group: col(r, 14)?,
        fatalities: col(r, 15)?,
        fatalities_low: col(r, 16)?,
        fatalities_high: col(r, 17)?,
        credibility: col(r, 18)?,
        verification_status: VerificationStatus::parse(col(r, 19)?)?,
        description: col(r, 20)?,
        tlp: tlp(r, 21)?,
        situation_id: col(r, 22)?,
        report_ids: col(r, 23)?,
        dataset: col(r, 24)?,
        external_id: col(r, 25)?,
        created_at: col(r, 26)?,
        updated_at: col(r, 27)?,
        version: col(r, 28)?,
        violence_type: col(r, 29)?,
    })
}

pub(crate) fn source_from_row(r: &PgRow) -> Result<Source> {
    Ok(Source {
        id: col(r, 0)?,
        handle: col(r, 1)?,
        kind: col(r, 2)?,
        reliability: Reliability::parse(col(r, 3)?)?,
        tlp: tlp(r, 4)?,
        has_contact: col(r, 5)?,
        created_at: col(r, 6)?,
    })
}

pub(crate) fn situation_from_row(r: &PgRow) -> Result<Situation> {
    Ok(Situation {
        id: col(r, 0)?,
        name: col(r, 1)?,
        country: Country::parse(col(r, 2)?)?,
        admin1: col(r, 3)?,
        status: col(r, 4)?,
        description: col(r, 5)?,
        tlp: tlp(r, 6)?,
        created_at: col(r, 7)?,
    })
}

pub(crate) fn user_from_row(r: &PgRow) -> Result<User> {
    Ok(User {
        id: col(r, 0)?,
        username: col(r, 1)?,
        role: Role::parse(col(r, 2)?)?,
        clearance: tlp(r, 3)?,
        password_hash: col(r, 4)?,
        created_at: col(r, 5)?,
        disabled: col(r, 6)?,
        grants: User::parse_grants(col(r, 7)?),
        time_zone: col(r, 8)?,
        language: col::<Option<String>>(r, 9)?
            .as_deref()
            .and_then(tocsin_domain::Lang::parse),
    })
}

pub(crate) fn audit_from_row(r: &PgRow) -> Result<tocsin_domain::AuditEntry> {
    Ok(tocsin_domain::AuditEntry {
        seq: col(r, 0)?,
        at: col(r, 1)?,
        actor_id: col(r, 2)?,
        actor_name: col(r, 3)?,
        action: col(r, 4)?,
        record_type: col(r, 5)?,
        record_id: col(r, 6)?,
        detail: col(r, 7)?,
        prev_hash: col(r, 8)?,
        hash: col(r, 9)?,
    })
}

pub(crate) const OUTBOX_COLS: &str =
    "id, idempotency_key, gateway, source_id, report_id, text, status, attempts, \
    next_attempt_at, provider_key, last_error, created_at, updated_at, sender, \
    recipient_kind, user_id, address, tlp";

pub(crate) fn outbound_from_row(r: &PgRow) -> Result<tocsin_domain::OutboundMessage> {
    Ok(tocsin_domain::OutboundMessage {
        id: col(r, 0)?,
        idempotency_key: col(r, 1)?,
        gateway: col(r, 2)?,
        source_id: col(r, 3)?,
        report_id: col(r, 4)?,
        text: col(r, 5)?,
        status: tocsin_domain::OutboxStatus::parse(col(r, 6)?)?,
        attempts: col(r, 7)?,
        next_attempt_at: col(r, 8)?,
        provider_key: col(r, 9)?,
        last_error: col(r, 10)?,
        created_at: col(r, 11)?,
        updated_at: col(r, 12)?,
        sender: col(r, 13)?,
        recipient_kind: tocsin_domain::RecipientKind::parse(col(r, 14)?)?,
        user_id: col(r, 15)?,
        address: col::<Option<Vec<u8>>>(r, 16)?.map(tocsin_domain::SealedContact),
        tlp: tlp(r, 17)?,
    })
}
