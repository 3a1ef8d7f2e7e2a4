//! Records received from other organisations: where each came from (origin, original id,
//! version time, label); the partner organisations this one shares with, what was sent to
//! each, and this installation's sealed signing key; and the writes the application layer composes into an
//! [`Op::All`](crate::Op::All) (as [`Step::Share`](crate::Step::Share)) beside the incident's
//! own ([`VerificationStep::CreateIncident`](crate::VerificationStep::CreateIncident) and
//! `ReplaceIncident`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use tocsin_domain::{
    Partner, PartnerActivity, Received, ReceivedItem, SealedContact, SentRecord, SharingGroup,
    SyncCursor, Tlp,
};
use uuid::Uuid;

use crate::Result;

/// The most original ids one [`Sharing::received_by_original`] call takes.
pub const MAX_RECEIVED_LOOKUP: usize = 1_000;

/// A primitive write of sharing.
#[derive(Debug, Clone)]
pub enum ShareStep {
    /// Record (or replace) where a received record came from, keyed by its origin and original
    /// id; conflict when another local record already holds that origin and original id.
    Receive(Box<Received>),
    /// [`ShareStep::Receive`] for many records at once (multi-row inserts).
    ReceiveAll(Vec<Received>),
    /// Retract a received incident: hidden from every view from now on (its row stays, so
    /// its page can say so), its version moved on to `version` at `at`. Not found when there
    /// is no such incident.
    Retract {
        /// The local incident.
        incident_id: Uuid,
        /// When.
        at: DateTime<Utc>,
        /// Its next version.
        version: i64,
    },
    /// Add a partner; conflict when one of that name exists.
    AddPartner(Box<Partner>),
    /// Remove the partner of this name, what was remembered as sent to it, and its name from
    /// every sharing group and record; not found when there is none.
    RemovePartner(String),
    /// Set the redaction rules of the partner `name`, changed at `at`; its terms are then
    /// unapproved. Not found when there is no such partner.
    PartnerRedaction {
        /// The partner.
        name: String,
        /// What is withheld from every record sent to it.
        redact: Vec<tocsin_domain::Redact>,
        /// When.
        at: DateTime<Utc>,
    },
    /// Record that an admin approved the terms of the partner `name` at `at`, when they are
    /// still those whose digest is `digest`; a conflict when they changed meanwhile, not found
    /// when there is no such partner.
    ApprovePartner {
        /// The partner.
        name: String,
        /// The digest of the terms previewed ([`tocsin_domain::Partner::terms_digest`]).
        digest: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// Add a sharing group; conflict when one of that name exists.
    AddGroup(Box<SharingGroup>),
    /// Remove the sharing group of this name and its name from every record; not found when
    /// there is none.
    RemoveGroup(String),
    /// Replace the members of the sharing group `name`; not found when there is none.
    GroupMembers {
        /// The group.
        name: String,
        /// Its members from now on, partners by name.
        members: Vec<String>,
    },
    /// Set the partners and groups the incident `incident_id` is shared with (replacing what
    /// it named; empty: none).
    ShareWith {
        /// The incident.
        incident_id: Uuid,
        /// Partners and groups, by name, in order.
        names: Vec<String>,
    },
    /// Remember records as sent to a partner (replacing what was remembered of each).
    Sent(Vec<SentRecord>),
    /// Set the SHA-256 (hex) of the token the partner `name` pushes bundles here with
    /// (replacing any earlier one); not found when there is no such partner.
    PartnerInboundToken {
        /// The partner.
        name: String,
        /// The token's hash.
        hash: String,
    },
    /// Keep the token this installation pushes bundles to the partner `name` with, sealed;
    /// not found when there is no such partner.
    PartnerPushToken {
        /// The partner.
        name: String,
        /// The token, sealed.
        sealed: SealedContact,
    },
    /// Keep where the last pull from the partner `name` got to (`None`: start again from the
    /// beginning); not found when there is no such partner.
    PullCursor {
        /// The partner.
        name: String,
        /// The cursor of the last page stored.
        cursor: Option<SyncCursor>,
    },
    /// Keep what a received item (an assessment, alert, rumour or action of another
    /// organisation) carries, under its local id (replacing what was kept); where it came from
    /// is a [`ShareStep::Receive`] of the same id.
    ReceiveItem {
        /// Its local id.
        id: Uuid,
        /// What its origin sent.
        item: Box<tocsin_domain::SharedItem>,
    },
    /// Set this organisation's note on the received item `id` (`None`: clear it); not found
    /// when there is no such item.
    ItemNote {
        /// The item.
        id: Uuid,
        /// The note.
        note: Option<String>,
        /// Who wrote it.
        by: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// Mark the action `action_id` shareable under `tlp` (`None`: no longer shareable).
    ActionShare {
        /// The action.
        action_id: Uuid,
        /// The label it crosses under (at most TLP:AMBER).
        tlp: Option<Tlp>,
        /// Who marked it.
        by: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// Keep this sealed key as this installation's signing key, unless one is kept already
    /// (two first runs at once then agree on the first).
    KeepSigningKey(SealedContact),
}

/// Reads of received records.
#[async_trait]
pub trait Sharing: Send + Sync {
    /// Where the local record `id` came from; `None` for one made here.
    async fn received(&self, id: Uuid) -> Result<Option<Received>>;
    /// The received records of `origin` with these original ids (at most
    /// [`MAX_RECEIVED_LOOKUP`]), by original id.
    async fn received_by_original(
        &self,
        origin: &str,
        original_ids: &[String],
    ) -> Result<HashMap<String, Received>>;
    /// This installation's id: made once when the database was created, never changed; the
    /// seed of the ids its exports give records, so a re-export updates rather than duplicates.
    async fn instance_id(&self) -> Result<Uuid>;
    /// The partners, by name.
    async fn partners(&self) -> Result<Vec<Partner>>;
    /// The partner of this name.
    async fn partner(&self, name: &str) -> Result<Option<Partner>>;
    /// What was sent to `partner`, by record id.
    async fn sent_to(&self, partner: &str) -> Result<HashMap<Uuid, SentRecord>>;
    /// The last `limit` records sent to `partner`, the most recently sent first.
    async fn sent_recent(&self, partner: &str, limit: usize) -> Result<Vec<SentRecord>>;
    /// What was exchanged with the partner `name` (sent to it, received from it).
    async fn partner_activity(&self, name: &str) -> Result<PartnerActivity>;
    /// The partner whose inbound token has this SHA-256 (hex).
    async fn partner_by_token(&self, hash: &str) -> Result<Option<Partner>>;
    /// The sealed token this installation pushes to the partner `name` with, if one was set.
    async fn partner_push_token(&self, name: &str) -> Result<Option<SealedContact>>;
    /// Where the last pull from the partner `name` got to (`None`: from the start, or no such
    /// partner).
    async fn pull_cursor(&self, name: &str) -> Result<Option<SyncCursor>>;
    /// This installation's signing key as sealed, if one was made.
    async fn signing_key(&self) -> Result<Option<SealedContact>>;
    /// The last `limit` records received from `origin`, the newest first.
    async fn received_from(&self, origin: &str, limit: usize) -> Result<Vec<Received>>;
    /// The sharing groups, by name, each with its members by name.
    async fn sharing_groups(&self) -> Result<Vec<SharingGroup>>;
    /// The partners and groups the incident `id` names, in the order set (empty: none).
    async fn share_with(&self, id: Uuid) -> Result<Vec<String>>;
    /// Every incident that names partners or groups, with the names (those naming none are
    /// absent).
    async fn shares_with(&self) -> Result<HashMap<Uuid, Vec<String>>>;
    /// The items received from other organisations labelled at most `max_tlp`, retracted
    /// ones too, the most recently received first, at most `limit`.
    async fn received_items(&self, max_tlp: Tlp, limit: usize) -> Result<Vec<ReceivedItem>>;
    /// The received item `id` (whatever its label).
    async fn received_item(&self, id: Uuid) -> Result<Option<ReceivedItem>>;
    /// The actions marked shareable, each with the label it crosses under.
    async fn shareable_actions(&self) -> Result<HashMap<Uuid, Tlp>>;
}
