//! Reads of TLP:AMBER+STRICT and TLP:RED records leave an entry in the hash-chained audit
//! trail, so that who looked at the most restricted records can be answered later. One record
//! read (API or page): one `record.read` entry naming the record and its label. A list that
//! showed such records: one `records.list` entry per request, with how many and at most
//! [`LIST_IDS`] of their ids. The use cases that read call these; front ends never do.

use serde_json::json;
use tocsin_domain::{Actor, AuditEvent, Tlp, User};
use tocsin_store::{DynStore, StoreExt};
use uuid::Uuid;

use crate::Result;

/// Most ids one `records.list` entry names.
pub const LIST_IDS: usize = 20;

/// Whether reading a record of this label is audited.
pub fn audited(tlp: Tlp) -> bool {
    tlp >= Tlp::AmberStrict
}

/// `u` read the record `kind` `id` labelled `tlp`: audited if the label is.
pub async fn one(store: &DynStore, u: &User, kind: &str, id: Uuid, tlp: Tlp) -> Result<()> {
    one_by(store, &u.actor(), kind, id, tlp).await
}

/// As [`one`], for a reader named by an [`Actor`] (the operator at the command line).
pub async fn one_by(store: &DynStore, by: &Actor, kind: &str, id: Uuid, tlp: Tlp) -> Result<()> {
    if audited(tlp) {
        let e = AuditEvent::new(by, "record.read", kind, Some(id.to_string()))
            .with_detail(json!({"tlp": tlp.as_str()}));
        store.audit(e).await?;
    }
    Ok(())
}

/// `u` was shown a list of `kind` records (id and label of each): one entry if any of them
/// carries an audited label.
pub async fn list(
    store: &DynStore,
    u: &User,
    kind: &str,
    shown: impl IntoIterator<Item = (Uuid, Tlp)>,
) -> Result<()> {
    list_by(store, &u.actor(), kind, shown).await
}

/// As [`list`], for a reader named by an [`Actor`] (the operator at the command line).
pub async fn list_by(
    store: &DynStore,
    by: &Actor,
    kind: &str,
    shown: impl IntoIterator<Item = (Uuid, Tlp)>,
) -> Result<()> {
    let ids: Vec<Uuid> = shown
        .into_iter()
        .filter(|(_, t)| audited(*t))
        .map(|(id, _)| id)
        .collect();
    if ids.is_empty() {
        return Ok(());
    }
    let named: Vec<String> = ids.iter().take(LIST_IDS).map(Uuid::to_string).collect();
    let e = AuditEvent::new(by, "records.list", kind, None)
        .with_detail(json!({"count": ids.len(), "ids": named}));
    store.audit(e).await?;
    Ok(())
}

/// `by` exported incidents up to `max_tlp`: one `incident.export` entry with `detail` (the
/// query as asked) if that label is audited. The API records every export through
/// [`App::start_export`](crate::App::start_export); this is the operator's at the command line.
pub async fn export_by(
    store: &DynStore,
    by: &Actor,
    max_tlp: Tlp,
    detail: serde_json::Value,
) -> Result<()> {
    if audited(max_tlp) {
        let e = AuditEvent::new(by, "incident.export", "incident", None).with_detail(detail);
        store.audit(e).await?;
    }
    Ok(())
}
