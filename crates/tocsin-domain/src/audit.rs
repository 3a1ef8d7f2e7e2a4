//! The audit trail: an append-only, hash-chained log of who saw and changed what.
//!
//! Each entry's hash covers its fields and the previous entry's hash, so changing, removing
//! or reordering any stored entry breaks the chain from that point on.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::Actor;

/// The hash that precedes the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Something to record.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    /// Who.
    pub actor: Actor,
    /// What, e.g. `report.create`, `login.failure`, `source.contact.read`.
    pub action: String,
    /// Kind of record, e.g. `report`.
    pub record_type: String,
    /// Which record.
    pub record_id: Option<String>,
    /// Extra facts (never secrets or contact details).
    pub detail: serde_json::Value,
}

impl AuditEvent {
    /// An event about one record.
    pub fn new(actor: &Actor, action: &str, record_type: &str, record_id: Option<String>) -> Self {
        AuditEvent {
            actor: actor.clone(),
            action: action.to_string(),
            record_type: record_type.to_string(),
            record_id,
            detail: serde_json::Value::Null,
        }
    }

    /// Attach details.
    pub fn with_detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = detail;
        self
    }

    /// Seal this event as entry number `seq` after `prev_hash`.
    pub fn into_entry(self, seq: i64, prev_hash: &str, at: DateTime<Utc>) -> AuditEntry {
        let mut e = AuditEntry {
            seq,
            at,
            actor_id: self.actor.user_id,
            actor_name: self.actor.name,
            action: self.action,
            record_type: self.record_type,
            record_id: self.record_id,
            detail: self.detail.to_string(),
            prev_hash: prev_hash.to_string(),
            hash: String::new(),
        };
        e.hash = e.compute_hash();
        e
    }
}

/// A stored audit entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// Who (user id), if a user.
    pub actor_id: Option<Uuid>,
    /// Who (name).
    pub actor_name: String,
    /// What.
    pub action: String,
    /// Kind of record.
    pub record_type: String,
    /// Which record.
    pub record_id: Option<String>,
    /// Extra facts, as JSON text (kept byte-exact for hashing).
    pub detail: String,
    /// Hash of the entry before.
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

impl AuditEntry {
    /// The hash this entry should carry.
    pub fn compute_hash(&self) -> String {
        let mut h = Sha256::new();
        for part in [
            self.seq.to_string(),
            crate::time::format(&self.at),
            self.actor_id.map(|u| u.to_string()).unwrap_or_default(),
            self.actor_name.clone(),
            self.action.clone(),
            self.record_type.clone(),
            self.record_id.clone().unwrap_or_default(),
            self.detail.clone(),
            self.prev_hash.clone(),
        ] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part.as_bytes());
        }
        hex::encode(h.finalize())
    }
}

/// Where and why a chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit chain broken at entry {seq}: {reason}")]
pub struct ChainBreak {
    /// The first entry that does not verify.
    pub seq: i64,
    /// Why.
    pub reason: String,
}

/// Checks entries in order; feed it every entry from seq 1.
#[derive(Debug)]
pub struct ChainVerifier {
    prev_hash: String,
    next_seq: i64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier {
            prev_hash: GENESIS_HASH.to_string(),
            next_seq: 1,
        }
    }
}

impl ChainVerifier {
    /// Check the next entry.
    pub fn check(&mut self, e: &AuditEntry) -> Result<(), ChainBreak> {
        let brk = |reason: String| ChainBreak { seq: e.seq, reason };
        if e.seq != self.next_seq {
            return Err(ChainBreak {
                seq: self.next_seq,
                reason: format!("entry {} is missing (found {} next)", self.next_seq, e.seq),
            });
        }
        if e.prev_hash != self.prev_hash {
            return Err(brk(
                "its previous-hash does not match the entry before it".into()
            ));
        }
        if e.compute_hash() != e.hash {
            return Err(brk("its contents do not match its hash (edited?)".into()));
        }
        self.prev_hash = e.hash.clone();
        self.next_seq += 1;
        Ok(())
    }

    /// How many entries verified so far.
    pub fn verified(&self) -> i64 {
        self.next_seq - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<AuditEntry> {
        let mut prev = GENESIS_HASH.to_string();
        (1..=n)
            .map(|seq| {
                let e = AuditEvent::new(
                    &Actor::system("test"),
                    "report.create",
                    "report",
                    Some(seq.to_string()),
                )
                .into_entry(seq, &prev, crate::time::now());
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    #[test]
    fn detects_edit_removal_and_reorder() {
        let c = chain(5);
        let mut v = ChainVerifier::default();
        c.iter().for_each(|e| v.check(e).unwrap());
        assert_eq!(v.verified(), 5);

        let mut edited = c.clone();
        edited[2].actor_name = "mallory".into();
        let mut v = ChainVerifier::default();
        let err = edited.iter().try_for_each(|e| v.check(e)).unwrap_err();
        assert_eq!(err.seq, 3);

        let mut removed = c.clone();
        removed.remove(1);
        let mut v = ChainVerifier::default();
        assert_eq!(
            removed.iter().try_for_each(|e| v.check(e)).unwrap_err().seq,
            2
        );
    }
}
