//! Received records on PostgreSQL (`received_records`) and the retraction of a received
//! incident; partners (`partners`), what was sent to them (`partner_sent`) and the sealed
//! signing key.

use sqlx::postgres::{PgConnection, PgRow};
use sqlx::Row;
use std::collections::HashMap;
use tocsin_domain::{
    Country, Partner, PartnerActivity, Received, ReceivedItem, SealedContact, SentRecord,
    SharingGroup, Tlp,
};
use tocsin_store::{Result, ShareStep, StoreError, MAX_RECEIVED_LOOKUP};
use uuid::Uuid;

use crate::db_err;

const COLS: &str =
    "record_id, kind, origin, original_id, format, modified, tlp, received_at, retracted_at";

fn received(r: &PgRow) -> Result<Received> {
    Ok(Received {
        record_id: r.try_get(0).map_err(db_err)?,
        kind: r.try_get(1).map_err(db_err)?,
        origin: r.try_get(2).map_err(db_err)?,
        original_id: r.try_get(3).map_err(db_err)?,
        format: r.try_get(4).map_err(db_err)?,
        modified: r.try_get(5).map_err(db_err)?,
        tlp: Tlp::from_rank(r.try_get::<i16, _>(6).map_err(db_err)?.into())
            .ok_or_else(|| StoreError::Backend("corrupt TLP".into()))?,
        received_at: r.try_get(7).map_err(db_err)?,
        retracted_at: r.try_get(8).map_err(db_err)?,
    })
}

/// Apply one step inside the op's transaction.
pub(crate) async fn apply(conn: &mut PgConnection, step: &ShareStep) -> Result<()> {
    match step {
        ShareStep::Receive(r) => {
            sqlx::query(&format!(
                "INSERT INTO received_records ({COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) \
                 ON CONFLICT (record_id) DO UPDATE SET modified = excluded.modified, \
                 tlp = excluded.tlp, retracted_at = excluded.retracted_at \
                 WHERE received_records.origin = excluded.origin \
                 AND received_records.original_id = excluded.original_id"
            ))
            .bind(r.record_id)
            .bind(&r.kind)
            .bind(&r.origin)
            .bind(&r.original_id)
            .bind(&r.format)
            .bind(r.modified)
            .bind(r.tlp.rank())
            .bind(r.received_at)
            .bind(r.retracted_at)
            .execute(&mut *conn)
            .await
            .map_err(|e| match e {
                sqlx::Error::Database(d) if d.is_unique_violation() => {
                    StoreError::Conflict("that record was received meanwhile".into())
                }
                e => db_err(e),
            })?;
            Ok(())
        }
        ShareStep::ReceiveAll(records) => {
            for chunk in records.chunks(1000) {
                let mut qb = sqlx::QueryBuilder::<sqlx::Postgres>::new(format!(
                    "INSERT INTO received_records ({COLS}) "
                ));
                qb.push_values(chunk, |mut b, r| {
                    b.push_bind(r.record_id)
                        .push_bind(&r.kind)
                        .push_bind(&r.origin)
                        .push_bind(&r.original_id)
                        .push_bind(&r.format)
                        .push_bind(r.modified)
                        .push_bind(r.tlp.rank())
                        .push_bind(r.received_at)
                        .push_bind(r.retracted_at);
                });
                qb.push(
                    " ON CONFLICT (record_id) DO UPDATE SET modified = excluded.modified, \
                     tlp = excluded.tlp, retracted_at = excluded.retracted_at \
                     WHERE received_records.origin = excluded.origin \
                     AND received_records.original_id = excluded.original_id",
                );
                qb.build().execute(&mut *conn).await.map_err(|e| match e {
                    sqlx::Error::Database(d) if d.is_unique_violation() => {
                        StoreError::Conflict("that record was received meanwhile".into())
                    }
                    e => db_err(e),
                })?;
            }
            Ok(())
        }
        ShareStep::Retract {
            incident_id,
            at,
            version,
        } => {
            let n = sqlx::query(
                "UPDATE incidents SET retracted = true, updated_at = $1, version = $2 WHERE id = $3",
            )
            .bind(at)
            .bind(version)
            .bind(incident_id)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            if n.rows_affected() != 1 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        }
        ShareStep::AddPartner(p) => {
            sqlx::query(&format!(
                "INSERT INTO partners ({PARTNER_COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)"
            ))
            .bind(&p.name)
            .bind(&p.url)
            .bind(&p.public_key)
            .bind(p.max_tlp.rank())
            .bind(countries_text(&p.countries))
            .bind(p.added_at)
            .bind(redact_text(&p.redact))
            .bind(p.terms_changed_at)
            .bind(p.approved_at)
            .bind(p.kinds.join(","))
            .execute(&mut *conn)
            .await
            .map_err(|e| match e {
                sqlx::Error::Database(d) if d.is_unique_violation() => {
                    StoreError::Conflict(format!("a partner named {:?} exists", p.name))
                }
                e => db_err(e),
            })?;
            Ok(())
        }
        ShareStep::RemovePartner(name) => {
            let n = sqlx::query("DELETE FROM partners WHERE name = $1")
                .bind(name)
                .execute(&mut *conn)
                .await
                .map_err(db_err)?;
            if n.rows_affected() != 1 {
                return Err(StoreError::NotFound);
            }
            sqlx::query("DELETE FROM partner_sent WHERE partner = $1")
                .bind(name)
                .execute(&mut *conn)
                .await
                .map_err(db_err)?;
            for q in [
                "DELETE FROM sharing_group_members WHERE partner = $1",
                "DELETE FROM incident_share_with WHERE name = $1",
            ] {
                sqlx::query(q)
                    .bind(name)
                    .execute(&mut *conn)
                    .await
                    .map_err(db_err)?;
            }
            Ok(())
        }
        ShareStep::PartnerRedaction { name, redact, at } => {
            let n = sqlx::query(
                "UPDATE partners SET redact = $1, terms_changed_at = $2, approved_at = NULL \
                 WHERE name = $3",
            )
            .bind(redact_text(redact))
            .bind(*at)
            .bind(name)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            if n.rows_affected() != 1 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        }
        ShareStep::ApprovePartner { name, digest, at } => {
            let row = sqlx::query(&format!(
                "SELECT {PARTNER_COLS} FROM partners WHERE name = $1"
            ))
            .bind(name)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_err)?
            .ok_or(StoreError::NotFound)?;
            if partner(&row)?.terms_digest() != *digest {
                return Err(StoreError::Conflict(
                    "its terms changed since that preview: preview them again".into(),
                ));
            }
            sqlx::query("UPDATE partners SET approved_at = $1 WHERE name = $2")
                .bind(*at)
                .bind(name)
                .execute(&mut *conn)
                .await
                .map_err(db_err)?;
            Ok(())
        }
        ShareStep::AddGroup(g) => {
            sqlx::query("INSERT INTO sharing_groups (name, created_at) VALUES ($1, $2)")
                .bind(&g.name)
                .bind(g.created_at)
                .execute(&mut *conn)
                .await
                .map_err(|e| match e {
                    sqlx::Error::Database(d) if d.is_unique_violation() => {
                        StoreError::Conflict(format!("a sharing group named {:?} exists", g.name))
                    }
                    e => db_err(e),
                })?;
            for m in &g.members {
                sqlx::query(
                    "INSERT INTO sharing_group_members (group_name, partner) VALUES ($1, $2) \
                     ON CONFLICT DO NOTHING",
                )
                .bind(&g.name)
                .bind(m)
                .execute(&mut *conn)
                .await
                .map_err(db_err)?;
            }
            Ok(())
        }
        ShareStep::RemoveGroup(name) => {
            let n = sqlx::query("DELETE FROM sharing_groups WHERE name = $1")
                .bind(name)
                .execute(&mut *conn)
                .await
                .map_err(db_err)?;
            if n.rows_affected() != 1 {
                return Err(StoreError::NotFound);
            }
            for q in [
                "DELETE FROM sharing_group_members WHERE group_name = $1",
                "DELETE FROM incident_share_with WHERE name = $1",
            ] {
                sqlx::query(q)
                    .bind(name)
                    .execute(&mut *conn)
                    .await
                    .map_err(db_err)?;
            }
            Ok(())
        }
        ShareStep::GroupMembers { name, members } => {
            let exists: Option<String> =
                sqlx::query_scalar("SELECT name FROM sharing_groups WHERE name = $1")
                    .bind(name)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(db_err)?;
            if exists.is_none() {
                return Err(StoreError::NotFound);
            }
            sqlx::query("DELETE FROM sharing_group_members WHERE group_name = $1")
                .bind(name)
                .execute(&mut *conn)
                .await
                .map_err(db_err)?;
            for m in members {
                sqlx::query(
                    "INSERT INTO sharing_group_members (group_name, partner) VALUES ($1, $2) \
                     ON CONFLICT DO NOTHING",
                )
                .bind(name)
                .bind(m)
                .execute(&mut *conn)
                .await
                .map_err(db_err)?;
            }
            Ok(())
        }
        ShareStep::ShareWith { incident_id, names } => {
            sqlx::query("DELETE FROM incident_share_with WHERE incident_id = $1")
                .bind(*incident_id)
                .execute(&mut *conn)
                .await
                .map_err(db_err)?;
            for (pos, n) in names.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO incident_share_with (incident_id, name, position) \
                     VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                )
                .bind(*incident_id)
                .bind(n)
                .bind(pos as i32)
                .execute(&mut *conn)
                .await
                .map_err(db_err)?;
            }
            Ok(())
        }
        ShareStep::PartnerInboundToken { name, hash } => {
            let n = sqlx::query("UPDATE partners SET inbound_token_hash = $1 WHERE name = $2")
                .bind(hash)
                .bind(name)
                .execute(&mut *conn)
                .await
                .map_err(db_err)?;
            if n.rows_affected() != 1 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        }
        ShareStep::PartnerPushToken { name, sealed } => {
            let n = sqlx::query("UPDATE partners SET push_token = $1 WHERE name = $2")
                .bind(&sealed.0)
                .bind(name)
                .execute(&mut *conn)
                .await
                .map_err(db_err)?;
            if n.rows_affected() != 1 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        }
        ShareStep::PullCursor { name, cursor } => {
            let n = sqlx::query("UPDATE partners SET pull_cursor = $1 WHERE name = $2")
                .bind(cursor.map(|c| c.to_string()))
                .bind(name)
                .execute(&mut *conn)
                .await
                .map_err(db_err)?;
            if n.rows_affected() != 1 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        }
        ShareStep::ReceiveItem { id, item } => {
            let json =
                serde_json::to_string(item).map_err(|e| StoreError::Backend(e.to_string()))?;
            sqlx::query(
                "INSERT INTO received_items (id, kind, tlp, item) VALUES ($1,$2,$3,$4::jsonb) \
                 ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, tlp = excluded.tlp, \
                 item = excluded.item",
            )
            .bind(id)
            .bind(item.kind.as_str())
            .bind(item.tlp.rank())
            .bind(json)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            Ok(())
        }
        ShareStep::ItemNote { id, note, by, at } => {
            let n = sqlx::query(
                "UPDATE received_items SET note = $1, note_by = $2, noted_at = $3 WHERE id = $4",
            )
            .bind(note)
            .bind(by)
            .bind(at)
            .bind(id)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            if n.rows_affected() != 1 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        }
        ShareStep::ActionShare {
            action_id,
            tlp,
            by,
            at,
        } => {
            match tlp {
                Some(t) => sqlx::query(
                    "INSERT INTO shareable_actions (action_id, tlp, marked_by, marked_at) \
                     VALUES ($1,$2,$3,$4) ON CONFLICT (action_id) DO UPDATE SET \
                     tlp = excluded.tlp, marked_by = excluded.marked_by, \
                     marked_at = excluded.marked_at",
                )
                .bind(action_id)
                .bind(t.rank())
                .bind(by)
                .bind(at),
                None => sqlx::query("DELETE FROM shareable_actions WHERE action_id = $1")
                    .bind(action_id),
            }
            .execute(&mut *conn)
            .await
            .map_err(|e| match e {
                sqlx::Error::Database(d) if d.is_foreign_key_violation() => StoreError::NotFound,
                e => db_err(e),
            })?;
            Ok(())
        }
        ShareStep::KeepSigningKey(sealed) => {
            sqlx::query(
                "INSERT INTO signing_key (id, sealed) VALUES (1, $1) ON CONFLICT (id) DO NOTHING",
            )
            .bind(&sealed.0)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            Ok(())
        }
        ShareStep::Sent(records) => {
            // One row per (partner, record): a later entry of the same record wins.
            let mut seen = std::collections::HashSet::new();
            let mut rows: Vec<&tocsin_domain::SentRecord> = records
                .iter()
                .rev()
                .filter(|r| seen.insert((r.partner.as_str(), r.record_id)))
                .collect();
            rows.reverse();
            for chunk in rows.chunks(1000) {
                let mut qb = sqlx::QueryBuilder::<sqlx::Postgres>::new(
                    "INSERT INTO partner_sent (partner, record_id, modified, tlp, retracted_at, \
                     sent_at, kind) ",
                );
                qb.push_values(chunk, |mut b, r| {
                    b.push_bind(&r.partner)
                        .push_bind(r.record_id)
                        .push_bind(r.modified)
                        .push_bind(r.tlp.rank())
                        .push_bind(r.retracted_at)
                        .push_bind(r.sent_at)
                        .push_bind(&r.kind);
                });
                qb.push(
                    " ON CONFLICT (partner, record_id) DO UPDATE SET modified = excluded.modified, \
                     tlp = excluded.tlp, retracted_at = excluded.retracted_at, \
                     sent_at = excluded.sent_at, kind = excluded.kind",
                );
                qb.build().execute(&mut *conn).await.map_err(db_err)?;
            }
            Ok(())
        }
    }
}

const PARTNER_COLS: &str =
    "name, url, public_key, max_tlp, countries, added_at, redact, terms_changed_at, approved_at, \
     kinds";

fn redact_text(r: &[tocsin_domain::Redact]) -> String {
    r.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(",")
}

fn kinds_of(s: &str) -> Result<Vec<String>> {
    let kinds: Vec<&str> = s.split(',').filter(|k| !k.is_empty()).collect();
    tocsin_domain::share::record_kinds(&kinds).map_err(|_| corrupt("partner kinds"))
}

fn redact_rules(s: &str) -> Result<Vec<tocsin_domain::Redact>> {
    s.split(',')
        .filter(|r| !r.is_empty())
        .map(|r| tocsin_domain::Redact::parse(r).map_err(|_| corrupt("redaction rule")))
        .collect()
}

fn countries_text(c: &[Country]) -> String {
    c.iter().map(Country::code).collect::<Vec<_>>().join(",")
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Backend(format!("corrupt {what}"))
}

fn partner(r: &PgRow) -> Result<Partner> {
    let countries: String = r.try_get(4).map_err(db_err)?;
    Ok(Partner {
        name: r.try_get(0).map_err(db_err)?,
        url: r.try_get(1).map_err(db_err)?,
        public_key: r.try_get(2).map_err(db_err)?,
        max_tlp: Tlp::from_rank(r.try_get::<i16, _>(3).map_err(db_err)?.into())
            .ok_or_else(|| corrupt("TLP"))?,
        countries: countries
            .split(',')
            .filter(|c| !c.is_empty())
            .map(|c| Country::parse(c).map_err(|_| corrupt("partner country")))
            .collect::<Result<_>>()?,
        added_at: r.try_get(5).map_err(db_err)?,
        redact: redact_rules(&r.try_get::<String, _>(6).map_err(db_err)?)?,
        terms_changed_at: r.try_get(7).map_err(db_err)?,
        approved_at: r.try_get(8).map_err(db_err)?,
        kinds: kinds_of(&r.try_get::<String, _>(9).map_err(db_err)?)?,
    })
}

fn sent_record(partner: &str, r: &PgRow) -> Result<SentRecord> {
    Ok(SentRecord {
        partner: partner.to_string(),
        record_id: r.try_get(0).map_err(db_err)?,
        modified: r.try_get(1).map_err(db_err)?,
        tlp: Tlp::from_rank(r.try_get::<i16, _>(2).map_err(db_err)?.into())
            .ok_or_else(|| corrupt("TLP"))?,
        retracted_at: r.try_get(3).map_err(db_err)?,
        sent_at: r.try_get(4).map_err(db_err)?,
        kind: r.try_get(5).map_err(db_err)?,
    })
}

const ITEM_SELECT: &str = "SELECT r.record_id, r.kind, r.origin, r.original_id, r.format, \
     r.modified, r.tlp, r.received_at, r.retracted_at, i.item::text, i.note, i.note_by, \
     i.noted_at FROM received_items i JOIN received_records r ON r.record_id = i.id";

fn received_item(r: &PgRow) -> Result<ReceivedItem> {
    let item: String = r.try_get(9).map_err(db_err)?;
    let received = received(r)?;
    Ok(ReceivedItem {
        id: received.record_id,
        received,
        item: serde_json::from_str(&item).map_err(|_| corrupt("received item"))?,
        note: r.try_get(10).map_err(db_err)?,
        note_by: r.try_get(11).map_err(db_err)?,
        noted_at: r.try_get(12).map_err(db_err)?,
    })
}

#[async_trait::async_trait]
impl tocsin_store::Sharing for crate::PostgresStore {
    async fn received_items(&self, max_tlp: Tlp, limit: usize) -> Result<Vec<ReceivedItem>> {
        sqlx::query(&format!(
            "{ITEM_SELECT} WHERE i.tlp <= $1 ORDER BY r.received_at DESC, r.record_id LIMIT $2"
        ))
        .bind(max_tlp.rank())
        .bind(limit.min(10_000) as i64)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(received_item)
        .collect()
    }

    async fn received_item(&self, id: Uuid) -> Result<Option<ReceivedItem>> {
        let row = sqlx::query(&format!("{ITEM_SELECT} WHERE i.id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(received_item).transpose()
    }

    async fn shareable_actions(&self) -> Result<HashMap<Uuid, Tlp>> {
        let rows = sqlx::query("SELECT action_id, tlp FROM shareable_actions")
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get(0).map_err(db_err)?,
                    Tlp::from_rank(r.try_get::<i16, _>(1).map_err(db_err)?.into())
                        .ok_or_else(|| corrupt("TLP"))?,
                ))
            })
            .collect()
    }

    async fn received(&self, id: Uuid) -> Result<Option<Received>> {
        let row = sqlx::query(&format!(
            "SELECT {COLS} FROM received_records WHERE record_id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.as_ref().map(received).transpose()
    }

    async fn received_by_original(
        &self,
        origin: &str,
        original_ids: &[String],
    ) -> Result<HashMap<String, Received>> {
        let mut out = HashMap::new();
        if original_ids.is_empty() {
            return Ok(out);
        }
        if original_ids.len() > MAX_RECEIVED_LOOKUP {
            return Err(tocsin_domain::DomainError::invalid(
                "original_ids",
                format!("at most {MAX_RECEIVED_LOOKUP} at a time"),
            )
            .into());
        }
        let rows = sqlx::query(&format!(
            "SELECT {COLS} FROM received_records WHERE origin = $1 AND original_id = ANY($2)"
        ))
        .bind(origin)
        .bind(original_ids)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        for r in &rows {
            let r = received(r)?;
            out.insert(r.original_id.clone(), r);
        }
        Ok(out)
    }

    async fn instance_id(&self) -> Result<Uuid> {
        let v: Option<String> =
            sqlx::query_scalar("SELECT value FROM meta WHERE key = 'instance_id'")
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
        Uuid::parse_str(&v.ok_or_else(|| StoreError::Backend("no instance id".into()))?)
            .map_err(|_| StoreError::Backend("corrupt instance id".into()))
    }

    async fn partners(&self) -> Result<Vec<Partner>> {
        sqlx::query(&format!(
            "SELECT {PARTNER_COLS} FROM partners ORDER BY name"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(partner)
        .collect()
    }

    async fn partner(&self, name: &str) -> Result<Option<Partner>> {
        let row = sqlx::query(&format!(
            "SELECT {PARTNER_COLS} FROM partners WHERE name = $1"
        ))
        .bind(name)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.as_ref().map(partner).transpose()
    }

    async fn sent_to(&self, partner: &str) -> Result<HashMap<Uuid, SentRecord>> {
        let rows = sqlx::query(
            "SELECT record_id, modified, tlp, retracted_at, sent_at, kind FROM partner_sent \
             WHERE partner = $1",
        )
        .bind(partner)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| sent_record(partner, r).map(|s| (s.record_id, s)))
            .collect()
    }

    async fn sent_recent(&self, partner: &str, limit: usize) -> Result<Vec<SentRecord>> {
        sqlx::query(
            "SELECT record_id, modified, tlp, retracted_at, sent_at, kind FROM partner_sent \
             WHERE partner = $1 ORDER BY sent_at DESC, record_id LIMIT $2",
        )
        .bind(partner)
        .bind(limit.min(10_000) as i64)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| sent_record(partner, r))
        .collect()
    }

    async fn partner_activity(&self, name: &str) -> Result<PartnerActivity> {
        type Counts = (i64, i64, Option<chrono::DateTime<chrono::Utc>>);
        let sent: Counts = sqlx::query_as(
            "SELECT count(*), count(retracted_at), max(sent_at) FROM partner_sent \
             WHERE partner = $1",
        )
        .bind(name)
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        let got: Counts = sqlx::query_as(
            "SELECT count(*), count(retracted_at), max(received_at) FROM received_records \
             WHERE origin = $1",
        )
        .bind(name)
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(PartnerActivity {
            sent: sent.0 as u64,
            sent_retracted: sent.1 as u64,
            last_sent: sent.2,
            received: got.0 as u64,
            received_retracted: got.1 as u64,
            last_received: got.2,
        })
    }

    async fn partner_by_token(&self, hash: &str) -> Result<Option<Partner>> {
        let row = sqlx::query(&format!(
            "SELECT {PARTNER_COLS} FROM partners WHERE inbound_token_hash = $1"
        ))
        .bind(hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.as_ref().map(partner).transpose()
    }

    async fn partner_push_token(&self, name: &str) -> Result<Option<SealedContact>> {
        let v: Option<Option<Vec<u8>>> =
            sqlx::query_scalar("SELECT push_token FROM partners WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
        Ok(v.flatten().map(SealedContact))
    }

    async fn pull_cursor(&self, name: &str) -> Result<Option<tocsin_domain::SyncCursor>> {
        let v: Option<Option<String>> =
            sqlx::query_scalar("SELECT pull_cursor FROM partners WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
        v.flatten()
            .map(|c| {
                tocsin_domain::SyncCursor::parse(&c)
                    .map_err(|e| StoreError::Backend(format!("a stored pull cursor: {e}")))
            })
            .transpose()
    }

    async fn received_from(&self, origin: &str, limit: usize) -> Result<Vec<Received>> {
        sqlx::query(&format!(
            "SELECT {COLS} FROM received_records WHERE origin = $1 \
             ORDER BY received_at DESC, record_id LIMIT $2"
        ))
        .bind(origin)
        .bind(limit.min(10_000) as i64)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(received)
        .collect()
    }

    async fn sharing_groups(&self) -> Result<Vec<SharingGroup>> {
        let groups = sqlx::query("SELECT name, created_at FROM sharing_groups ORDER BY name")
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        let members = sqlx::query(
            "SELECT group_name, partner FROM sharing_group_members ORDER BY group_name, partner",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        let mut by_group: HashMap<String, Vec<String>> = HashMap::new();
        for r in &members {
            by_group.entry(r.get(0)).or_default().push(r.get(1));
        }
        groups
            .iter()
            .map(|r| {
                let name: String = r.get(0);
                Ok(SharingGroup {
                    members: by_group.remove(&name).unwrap_or_default(),
                    name,
                    created_at: r.get(1),
                })
            })
            .collect()
    }

    async fn share_with(&self, id: Uuid) -> Result<Vec<String>> {
        sqlx::query_scalar(
            "SELECT name FROM incident_share_with WHERE incident_id = $1 ORDER BY position",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)
    }

    async fn shares_with(&self) -> Result<HashMap<Uuid, Vec<String>>> {
        let rows = sqlx::query(
            "SELECT incident_id, name FROM incident_share_with ORDER BY incident_id, position",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        let mut out: HashMap<Uuid, Vec<String>> = HashMap::new();
        for r in &rows {
            out.entry(r.get(0)).or_default().push(r.get(1));
        }
        Ok(out)
    }

    async fn signing_key(&self) -> Result<Option<SealedContact>> {
        let v: Option<Vec<u8>> = sqlx::query_scalar("SELECT sealed FROM signing_key WHERE id = 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(v.map(SealedContact))
    }
}
