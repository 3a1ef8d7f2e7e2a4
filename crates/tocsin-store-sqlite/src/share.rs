//! Received records on SQLite (`received_records`) and the retraction of a received incident;
//! partners (`partners`), what was sent to them (`partner_sent`) and the sealed signing key.

use sqlx::sqlite::SqliteConnection;
use sqlx::{QueryBuilder, Row, Sqlite};
use std::collections::HashMap;
use tocsin_domain::time::format as ts;
use tocsin_domain::{
    Country, Partner, PartnerActivity, Received, ReceivedItem, SealedContact, SentRecord,
    SharingGroup, Tlp,
};
use tocsin_store::{Result, ShareStep, StoreError, MAX_RECEIVED_LOOKUP};
use uuid::Uuid;

use crate::db_err;
use crate::rows::{corrupt, parse_ts, parse_uuid};

const COLS: &str =
    "record_id, kind, origin, original_id, format, modified, tlp, received_at, retracted_at";

fn received(r: &sqlx::sqlite::SqliteRow) -> Result<Received> {
    let retracted: Option<String> = r.get(8);
    Ok(Received {
        record_id: parse_uuid(r.get(0))?,
        kind: r.get(1),
        origin: r.get(2),
        original_id: r.get(3),
        format: r.get(4),
        modified: parse_ts(r.get(5))?,
        tlp: Tlp::from_rank(r.get::<i64, _>(6)).ok_or_else(|| corrupt("TLP rank"))?,
        received_at: parse_ts(r.get(7))?,
        retracted_at: retracted.as_deref().map(parse_ts).transpose()?,
    })
}

/// Apply one step inside the op's savepoint.
pub(crate) async fn apply(conn: &mut SqliteConnection, step: &ShareStep) -> Result<()> {
    match step {
        ShareStep::Receive(r) => {
            sqlx::query(&format!(
                "INSERT INTO received_records ({COLS}) VALUES (?,?,?,?,?,?,?,?,?) \
                 ON CONFLICT (record_id) DO UPDATE SET modified = excluded.modified, \
                 tlp = excluded.tlp, retracted_at = excluded.retracted_at \
                 WHERE received_records.origin = excluded.origin \
                 AND received_records.original_id = excluded.original_id"
            ))
            .bind(r.record_id.to_string())
            .bind(&r.kind)
            .bind(&r.origin)
            .bind(&r.original_id)
            .bind(&r.format)
            .bind(ts(&r.modified))
            .bind(r.tlp.rank())
            .bind(ts(&r.received_at))
            .bind(r.retracted_at.as_ref().map(ts))
            .execute(&mut *conn)
            .await
            .map_err(|e| match e {
                sqlx::Error::Database(d) if d.message().contains("UNIQUE") => {
                    StoreError::Conflict("that record was received meanwhile".into())
                }
                e => db_err(e),
            })?;
            Ok(())
        }
        ShareStep::ReceiveAll(records) => {
            for chunk in records.chunks(500) {
                let mut qb = sqlx::QueryBuilder::<sqlx::Sqlite>::new(format!(
                    "INSERT INTO received_records ({COLS}) "
                ));
                qb.push_values(chunk, |mut b, r| {
                    b.push_bind(r.record_id.to_string())
                        .push_bind(&r.kind)
                        .push_bind(&r.origin)
                        .push_bind(&r.original_id)
                        .push_bind(&r.format)
                        .push_bind(ts(&r.modified))
                        .push_bind(r.tlp.rank())
                        .push_bind(ts(&r.received_at))
                        .push_bind(r.retracted_at.as_ref().map(ts));
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
                "UPDATE incidents SET retracted = 1, updated_at = ?, version = ? WHERE id = ?",
            )
            .bind(ts(at))
            .bind(version)
            .bind(incident_id.to_string())
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
                "INSERT INTO partners ({PARTNER_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?)"
            ))
            .bind(&p.name)
            .bind(&p.url)
            .bind(&p.public_key)
            .bind(p.max_tlp.rank())
            .bind(countries_text(&p.countries))
            .bind(ts(&p.added_at))
            .bind(redact_text(&p.redact))
            .bind(p.terms_changed_at.as_ref().map(ts))
            .bind(p.approved_at.as_ref().map(ts))
            .bind(p.kinds.join(","))
            .execute(&mut *conn)
            .await
            .map_err(|e| match e {
                sqlx::Error::Database(d) if d.message().contains("UNIQUE") => {
                    StoreError::Conflict(format!("a partner named {:?} exists", p.name))
                }
                e => db_err(e),
            })?;
            Ok(())
        }
        ShareStep::RemovePartner(name) => {
            let n = sqlx::query("DELETE FROM partners WHERE name = ?")
                .bind(name)
                .execute(&mut *conn)
                .await
                .map_err(db_err)?;
            if n.rows_affected() != 1 {
                return Err(StoreError::NotFound);
            }
            sqlx::query("DELETE FROM partner_sent WHERE partner = ?")
                .bind(name)
                .execute(&mut *conn)
                .await
                .map_err(db_err)?;
            for q in [
                "DELETE FROM sharing_group_members WHERE partner = ?",
                "DELETE FROM incident_share_with WHERE name = ?",
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
                "UPDATE partners SET redact = ?, terms_changed_at = ?, approved_at = NULL \
                 WHERE name = ?",
            )
            .bind(redact_text(redact))
            .bind(ts(at))
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
                "SELECT {PARTNER_COLS} FROM partners WHERE name = ?"
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
            sqlx::query("UPDATE partners SET approved_at = ? WHERE name = ?")
                .bind(ts(at))
                .bind(name)
                .execute(&mut *conn)
                .await
                .map_err(db_err)?;
            Ok(())
        }
        ShareStep::AddGroup(g) => {
            sqlx::query("INSERT INTO sharing_groups (name, created_at) VALUES (?, ?)")
                .bind(&g.name)
                .bind(ts(&g.created_at))
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
                    "INSERT INTO sharing_group_members (group_name, partner) VALUES (?, ?) \
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
            let n = sqlx::query("DELETE FROM sharing_groups WHERE name = ?")
                .bind(name)
                .execute(&mut *conn)
                .await
                .map_err(db_err)?;
            if n.rows_affected() != 1 {
                return Err(StoreError::NotFound);
            }
            for q in [
                "DELETE FROM sharing_group_members WHERE group_name = ?",
                "DELETE FROM incident_share_with WHERE name = ?",
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
                sqlx::query_scalar("SELECT name FROM sharing_groups WHERE name = ?")
                    .bind(name)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(db_err)?;
            if exists.is_none() {
                return Err(StoreError::NotFound);
            }
            sqlx::query("DELETE FROM sharing_group_members WHERE group_name = ?")
                .bind(name)
                .execute(&mut *conn)
                .await
                .map_err(db_err)?;
            for m in members {
                sqlx::query(
                    "INSERT INTO sharing_group_members (group_name, partner) VALUES (?, ?) \
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
            sqlx::query("DELETE FROM incident_share_with WHERE incident_id = ?")
                .bind(incident_id.to_string())
                .execute(&mut *conn)
                .await
                .map_err(db_err)?;
            for (pos, n) in names.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO incident_share_with (incident_id, name, position) \
                     VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                )
                .bind(incident_id.to_string())
                .bind(n)
                .bind(pos as i32)
                .execute(&mut *conn)
                .await
                .map_err(db_err)?;
            }
            Ok(())
        }
        ShareStep::PartnerInboundToken { name, hash } => {
            let n = sqlx::query("UPDATE partners SET inbound_token_hash = ? WHERE name = ?")
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
            let n = sqlx::query("UPDATE partners SET push_token = ? WHERE name = ?")
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
            let n = sqlx::query("UPDATE partners SET pull_cursor = ? WHERE name = ?")
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
                "INSERT INTO received_items (id, kind, tlp, item) VALUES (?,?,?,?) \
                 ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, tlp = excluded.tlp, \
                 item = excluded.item",
            )
            .bind(id.to_string())
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
                "UPDATE received_items SET note = ?, note_by = ?, noted_at = ? WHERE id = ?",
            )
            .bind(note)
            .bind(by)
            .bind(ts(at))
            .bind(id.to_string())
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
                     VALUES (?,?,?,?) ON CONFLICT (action_id) DO UPDATE SET tlp = excluded.tlp, \
                     marked_by = excluded.marked_by, marked_at = excluded.marked_at",
                )
                .bind(action_id.to_string())
                .bind(t.rank())
                .bind(by)
                .bind(ts(at)),
                None => sqlx::query("DELETE FROM shareable_actions WHERE action_id = ?")
                    .bind(action_id.to_string()),
            }
            .execute(&mut *conn)
            .await
            .map_err(|e| match e {
                sqlx::Error::Database(d) if d.message().contains("FOREIGN KEY") => {
                    StoreError::NotFound
                }
                e => db_err(e),
            })?;
            Ok(())
        }
        ShareStep::KeepSigningKey(sealed) => {
            sqlx::query("INSERT OR IGNORE INTO signing_key (id, sealed) VALUES (1, ?)")
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
            for chunk in rows.chunks(500) {
                let mut qb = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                    "INSERT INTO partner_sent (partner, record_id, modified, tlp, retracted_at, \
                     sent_at, kind) ",
                );
                qb.push_values(chunk, |mut b, r| {
                    b.push_bind(&r.partner)
                        .push_bind(r.record_id.to_string())
                        .push_bind(ts(&r.modified))
                        .push_bind(r.tlp.rank())
                        .push_bind(r.retracted_at.as_ref().map(ts))
                        .push_bind(ts(&r.sent_at))
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

fn partner(r: &sqlx::sqlite::SqliteRow) -> Result<Partner> {
    let countries: String = r.get(4);
    Ok(Partner {
        name: r.get(0),
        url: r.get(1),
        public_key: r.get(2),
        max_tlp: Tlp::from_rank(r.get::<i64, _>(3)).ok_or_else(|| corrupt("TLP rank"))?,
        countries: countries
            .split(',')
            .filter(|c| !c.is_empty())
            .map(|c| Country::parse(c).map_err(|_| corrupt("partner country")))
            .collect::<Result<_>>()?,
        added_at: parse_ts(r.get(5))?,
        redact: redact_rules(r.get(6))?,
        terms_changed_at: r
            .get::<Option<String>, _>(7)
            .as_deref()
            .map(parse_ts)
            .transpose()?,
        approved_at: r
            .get::<Option<String>, _>(8)
            .as_deref()
            .map(parse_ts)
            .transpose()?,
        kinds: kinds_of(r.get(9))?,
    })
}

fn sent_record(partner: &str, r: &sqlx::sqlite::SqliteRow) -> Result<SentRecord> {
    let retracted: Option<String> = r.get(3);
    Ok(SentRecord {
        partner: partner.to_string(),
        record_id: parse_uuid(r.get(0))?,
        modified: parse_ts(r.get(1))?,
        tlp: Tlp::from_rank(r.get::<i64, _>(2)).ok_or_else(|| corrupt("TLP rank"))?,
        retracted_at: retracted.as_deref().map(parse_ts).transpose()?,
        sent_at: parse_ts(r.get(4))?,
        kind: r.get(5),
    })
}

const ITEM_SELECT: &str = "SELECT r.record_id, r.kind, r.origin, r.original_id, r.format, \
     r.modified, r.tlp, r.received_at, r.retracted_at, i.item, i.note, i.note_by, i.noted_at \
     FROM received_items i JOIN received_records r ON r.record_id = i.id";

fn received_item(r: &sqlx::sqlite::SqliteRow) -> Result<ReceivedItem> {
    let item: String = r.get(9);
    let noted: Option<String> = r.get(12);
    let received = received(r)?;
    Ok(ReceivedItem {
        id: received.record_id,
        received,
        item: serde_json::from_str(&item).map_err(|_| corrupt("received item"))?,
        note: r.get(10),
        note_by: r.get(11),
        noted_at: noted.as_deref().map(parse_ts).transpose()?,
    })
}

#[async_trait::async_trait]
impl tocsin_store::Sharing for crate::SqliteStore {
    async fn received_items(&self, max_tlp: Tlp, limit: usize) -> Result<Vec<ReceivedItem>> {
        sqlx::query(&format!(
            "{ITEM_SELECT} WHERE i.tlp <= ? ORDER BY r.received_at DESC, r.record_id LIMIT ?"
        ))
        .bind(max_tlp.rank())
        .bind(limit.min(10_000) as i64)
        .fetch_all(&self.read)
        .await
        .map_err(db_err)?
        .iter()
        .map(received_item)
        .collect()
    }

    async fn received_item(&self, id: Uuid) -> Result<Option<ReceivedItem>> {
        let row = sqlx::query(&format!("{ITEM_SELECT} WHERE i.id = ?"))
            .bind(id.to_string())
            .fetch_optional(&self.read)
            .await
            .map_err(db_err)?;
        row.as_ref().map(received_item).transpose()
    }

    async fn shareable_actions(&self) -> Result<HashMap<Uuid, Tlp>> {
        let rows = sqlx::query("SELECT action_id, tlp FROM shareable_actions")
            .fetch_all(&self.read)
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok((
                    parse_uuid(r.get(0))?,
                    Tlp::from_rank(r.get::<i64, _>(1)).ok_or_else(|| corrupt("TLP rank"))?,
                ))
            })
            .collect()
    }

    async fn received(&self, id: Uuid) -> Result<Option<Received>> {
        let row = sqlx::query(&format!(
            "SELECT {COLS} FROM received_records WHERE record_id = ?"
        ))
        .bind(id.to_string())
        .fetch_optional(&self.read)
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
        let mut qb = QueryBuilder::<Sqlite>::new(format!(
            "SELECT {COLS} FROM received_records WHERE origin = "
        ));
        qb.push_bind(origin.to_string())
            .push(" AND original_id IN (");
        let mut sep = qb.separated(", ");
        for id in original_ids {
            sep.push_bind(id.clone());
        }
        qb.push(")");
        for r in qb.build().fetch_all(&self.read).await.map_err(db_err)? {
            let r = received(&r)?;
            out.insert(r.original_id.clone(), r);
        }
        Ok(out)
    }

    async fn instance_id(&self) -> Result<Uuid> {
        let v: Option<String> =
            sqlx::query_scalar("SELECT value FROM meta WHERE key = 'instance_id'")
                .fetch_optional(&self.read)
                .await
                .map_err(db_err)?;
        parse_uuid(&v.ok_or_else(|| corrupt("instance id"))?)
    }

    async fn partners(&self) -> Result<Vec<Partner>> {
        sqlx::query(&format!(
            "SELECT {PARTNER_COLS} FROM partners ORDER BY name"
        ))
        .fetch_all(&self.read)
        .await
        .map_err(db_err)?
        .iter()
        .map(partner)
        .collect()
    }

    async fn partner(&self, name: &str) -> Result<Option<Partner>> {
        let row = sqlx::query(&format!(
            "SELECT {PARTNER_COLS} FROM partners WHERE name = ?"
        ))
        .bind(name)
        .fetch_optional(&self.read)
        .await
        .map_err(db_err)?;
        row.as_ref().map(partner).transpose()
    }

    async fn sent_to(&self, partner: &str) -> Result<HashMap<Uuid, SentRecord>> {
        let rows = sqlx::query(
            "SELECT record_id, modified, tlp, retracted_at, sent_at, kind FROM partner_sent \
             WHERE partner = ?",
        )
        .bind(partner)
        .fetch_all(&self.read)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| sent_record(partner, r).map(|s| (s.record_id, s)))
            .collect()
    }

    async fn sent_recent(&self, partner: &str, limit: usize) -> Result<Vec<SentRecord>> {
        sqlx::query(
            "SELECT record_id, modified, tlp, retracted_at, sent_at, kind FROM partner_sent \
             WHERE partner = ? ORDER BY sent_at DESC, record_id LIMIT ?",
        )
        .bind(partner)
        .bind(limit.min(10_000) as i64)
        .fetch_all(&self.read)
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| sent_record(partner, r))
        .collect()
    }

    async fn partner_activity(&self, name: &str) -> Result<PartnerActivity> {
        let sent = sqlx::query(
            "SELECT count(*), count(retracted_at), max(sent_at) FROM partner_sent WHERE partner = ?",
        )
        .bind(name)
        .fetch_one(&self.read)
        .await
        .map_err(db_err)?;
        let got = sqlx::query(
            "SELECT count(*), count(retracted_at), max(received_at) FROM received_records \
             WHERE origin = ?",
        )
        .bind(name)
        .fetch_one(&self.read)
        .await
        .map_err(db_err)?;
        let when = |v: Option<String>| v.as_deref().map(parse_ts).transpose();
        Ok(PartnerActivity {
            sent: sent.get::<i64, _>(0) as u64,
            sent_retracted: sent.get::<i64, _>(1) as u64,
            last_sent: when(sent.get(2))?,
            received: got.get::<i64, _>(0) as u64,
            received_retracted: got.get::<i64, _>(1) as u64,
            last_received: when(got.get(2))?,
        })
    }

    async fn partner_by_token(&self, hash: &str) -> Result<Option<Partner>> {
        let row = sqlx::query(&format!(
            "SELECT {PARTNER_COLS} FROM partners WHERE inbound_token_hash = ?"
        ))
        .bind(hash)
        .fetch_optional(&self.read)
        .await
        .map_err(db_err)?;
        row.as_ref().map(partner).transpose()
    }

    async fn partner_push_token(&self, name: &str) -> Result<Option<SealedContact>> {
        let v: Option<Option<Vec<u8>>> =
            sqlx::query_scalar("SELECT push_token FROM partners WHERE name = ?")
                .bind(name)
                .fetch_optional(&self.read)
                .await
                .map_err(db_err)?;
        Ok(v.flatten().map(SealedContact))
    }

    async fn pull_cursor(&self, name: &str) -> Result<Option<tocsin_domain::SyncCursor>> {
        let v: Option<Option<String>> =
            sqlx::query_scalar("SELECT pull_cursor FROM partners WHERE name = ?")
                .bind(name)
                .fetch_optional(&self.read)
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
            "SELECT {COLS} FROM received_records WHERE origin = ? \
             ORDER BY received_at DESC, record_id LIMIT ?"
        ))
        .bind(origin)
        .bind(limit.min(10_000) as i64)
        .fetch_all(&self.read)
        .await
        .map_err(db_err)?
        .iter()
        .map(received)
        .collect()
    }

    async fn sharing_groups(&self) -> Result<Vec<SharingGroup>> {
        let groups = sqlx::query("SELECT name, created_at FROM sharing_groups ORDER BY name")
            .fetch_all(&self.read)
            .await
            .map_err(db_err)?;
        let members = sqlx::query(
            "SELECT group_name, partner FROM sharing_group_members ORDER BY group_name, partner",
        )
        .fetch_all(&self.read)
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
                    created_at: parse_ts(r.get(1))?,
                })
            })
            .collect()
    }

    async fn share_with(&self, id: Uuid) -> Result<Vec<String>> {
        sqlx::query_scalar(
            "SELECT name FROM incident_share_with WHERE incident_id = ? ORDER BY position",
        )
        .bind(id.to_string())
        .fetch_all(&self.read)
        .await
        .map_err(db_err)
    }

    async fn shares_with(&self) -> Result<HashMap<Uuid, Vec<String>>> {
        let rows = sqlx::query(
            "SELECT incident_id, name FROM incident_share_with ORDER BY incident_id, position",
        )
        .fetch_all(&self.read)
        .await
        .map_err(db_err)?;
        let mut out: HashMap<Uuid, Vec<String>> = HashMap::new();
        for r in &rows {
            out.entry(parse_uuid(r.get(0))?).or_default().push(r.get(1));
        }
        Ok(out)
    }

    async fn signing_key(&self) -> Result<Option<SealedContact>> {
        let v: Option<Vec<u8>> = sqlx::query_scalar("SELECT sealed FROM signing_key WHERE id = 1")
            .fetch_optional(&self.read)
            .await
            .map_err(db_err)?;
        Ok(v.map(SealedContact))
    }
}
