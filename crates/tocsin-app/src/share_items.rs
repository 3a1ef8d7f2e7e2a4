//! Records other than incidents shared with partner organisations (issue 20): published
//! assessments' summaries and risk levels, alerts with their CAP form, rumours' status, and
//! preventive actions an analyst marked shareable.
//!
//! **What crosses** ([`App::shared_items`]): under the same ceiling as incidents (the
//! partner's, capped by the exporter's clearance) and never above TLP:AMBER (no record but an
//! incident names partners, so none crosses as TLP:AMBER+STRICT), never TLP:RED; for a partner
//! limited to countries, only records about one of them. An assessment is labelled the higher
//! of its own label and its situation's (its title names the situation); an action likewise,
//! from the label it was marked shareable under. What leaves is [`SharedItem`]: never an
//! author, a lead, a factor's rationale or evidence, a rumour's sightings or findings; its
//! times (and an alert's CAP `sent` times) only to the hour.
//!
//! **What is received** ([`App::receive_items`]): kept read-only beside where it came from
//! (once per origin and original id; a later version supersedes; a retraction hides it from
//! the list and says so), with a note this organisation may keep on it
//! ([`App::note_received_item`]), never sent anywhere.

use std::collections::HashMap;

use tocsin_domain::share::Refusal;
use tocsin_domain::shared_item::item_note;
use tocsin_domain::{
    AssessmentStatus, AuditEvent, IncomingItem, Permission, Received, ReceivedItem, SharedFactor,
    SharedItem, SharedKind, Situation, Tlp, User,
};
use tocsin_store::{
    AlertFilter, Op, RumourFilter, ShareStep, Step, StoreError, MAX_RECEIVED_LOOKUP,
};
use uuid::Uuid;

use crate::flow::next;
use crate::share::{refusal, Counts, ReceiveSummary, ShareScope};
use crate::{require, visible, Acting, App, AppError, Result};
use tocsin_domain::page::MAX_PAGE_SIZE;
use tocsin_domain::PageRequest;

/// The most received items a list shows.
pub const MAX_RECEIVED_ITEMS: usize = 1_000;

/// The most assessments read for sharing.
const MAX_ASSESSMENTS: u32 = 10_000;

/// The highest label a record other than an incident crosses under.
pub const ITEM_CEILING: Tlp = Tlp::Amber;

/// The labels `u` may mark an action shareable under: TLP:CLEAR to [`ITEM_CEILING`], within
/// their clearance ([`App::set_action_sharing`] refuses any other).
pub fn action_share_labels(u: &User) -> Vec<Tlp> {
    [Tlp::Clear, Tlp::Green, Tlp::Amber]
        .into_iter()
        .filter(|t| *t <= ITEM_CEILING && u.may_see(*t))
        .collect()
}

fn cut(s: &str, chars: usize) -> String {
    match s.char_indices().nth(chars) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

impl App<'_> {
    /// The records other than incidents that may cross under `scope` (see the module's
    /// documentation), in version time then id order. An alert carries its CAP message as
    /// [`App::cap_site`] signs it.
    pub async fn shared_items(&self, scope: &ShareScope) -> Result<Vec<SharedItem>> {
        let ceiling = scope.max_tlp.min(ITEM_CEILING).min(scope.clearance);
        let covers = |c: &Option<tocsin_domain::Country>| {
            scope.countries.is_empty() || c.as_ref().is_some_and(|c| scope.countries.contains(c))
        };
        let mut out = Vec::new();
        let mut situations: HashMap<Uuid, Option<Situation>> = HashMap::new();
        let mut situation = async |id: Uuid| -> Result<Option<Situation>> {
            if let Some(s) = situations.get(&id) {
                return Ok(s.clone());
            }
            let s = match self.store.get_situation(id).await {
                Ok(s) => Some(s),
                Err(StoreError::NotFound) => None,
                Err(e) => return Err(e.into()),
            };
            situations.insert(id, s.clone());
            Ok(s)
        };
        // Published assessments: summary and risk levels.
        for a in self.store.list_assessments(None, MAX_ASSESSMENTS).await? {
            if a.status != AssessmentStatus::Published {
                continue;
            }
            let Some(s) = situation(a.situation_id).await? else {
                continue;
            };
            let tlp = a.tlp.max(s.tlp);
            if tlp > ceiling || !covers(&Some(s.country.clone())) {
                continue;
            }
            out.push(SharedItem {
                kind: SharedKind::Assessment,
                id: a.id,
                title: cut(
                    &format!("Risk assessment: {}, as of {}", s.name, a.as_of),
                    280,
                ),
                summary: a.summary.clone(),
                status: a.status.as_str().into(),
                level: a
                    .factors
                    .iter()
                    .map(|f| f.level)
                    .max()
                    .map(|l| l.as_str().into()),
                country: Some(s.country.clone()),
                factors: a
                    .factors
                    .iter()
                    .map(|f| SharedFactor {
                        factor: f.factor,
                        level: f.level.as_str().into(),
                        confidence: f.confidence.as_str().into(),
                    })
                    .collect(),
                cap: None,
                tlp,
                created_at: a.created_at,
                updated_at: a.updated_at,
                version: a.version,
            });
        }
        // Alerts, with their CAP form.
        let default_site;
        let site = match self.cap_site {
            Some(s) => s,
            None => {
                default_site = tocsin_cap::Site::new("tocsin@localhost", "http://localhost")
                    .map_err(|e| AppError::Internal(e.to_string()))?;
                &default_site
            }
        };
        let f = AlertFilter::up_to(ceiling);
        let mut page = Some(PageRequest::first(MAX_PAGE_SIZE));
        while let Some(p) = page {
            let got = self.store.list_alerts(&f, p).await?;
            for a in got.items {
                if a.tlp > ceiling || !covers(&a.country) {
                    continue;
                }
                let cap = self.cap_message(&a, site, true).await?;
                out.push(SharedItem {
                    kind: SharedKind::Alert,
                    id: a.id,
                    title: a.title.clone(),
                    summary: String::new(),
                    status: a.status.as_str().into(),
                    level: Some(a.severity.as_str().into()),
                    country: a.country.clone(),
                    factors: Vec::new(),
                    cap: Some(cap),
                    tlp: a.tlp,
                    created_at: a.opened_at,
                    updated_at: a.opened_at.max(
                        [a.acknowledged_at, a.action_decided_at, a.closed_at]
                            .into_iter()
                            .flatten()
                            .max()
                            .unwrap_or(a.opened_at),
                    ),
                    version: a.version,
                });
            }
            page = next(got.next_cursor, MAX_PAGE_SIZE)?;
        }
        // Rumours and their status.
        let f = RumourFilter::within(ceiling);
        let mut page = Some(PageRequest::first(MAX_PAGE_SIZE));
        while let Some(p) = page {
            let got = self.store.list_rumours(&f, p).await?;
            for r in got.items {
                let country = Some(r.country.clone());
                if r.tlp > ceiling || !covers(&country) {
                    continue;
                }
                out.push(SharedItem {
                    kind: SharedKind::Rumour,
                    id: r.id,
                    title: cut(r.claim.lines().next().unwrap_or_default(), 120),
                    summary: r.claim.clone(),
                    status: r.status.as_str().into(),
                    level: None,
                    country,
                    factors: Vec::new(),
                    cap: None,
                    tlp: r.tlp,
                    created_at: r.created_at,
                    updated_at: r.updated_at,
                    version: r.version,
                });
            }
            page = next(got.next_cursor, MAX_PAGE_SIZE)?;
        }
        // Actions marked shareable.
        let marked = self.store.shareable_actions().await?;
        let toolbox = tocsin_toolbox::Toolbox::shipped();
        let mut ids: Vec<(&Uuid, &Tlp)> = marked.iter().collect();
        ids.sort();
        for (id, label) in ids {
            let a = match self.store.get_action(*id).await {
                Ok(a) => a,
                Err(StoreError::NotFound) => continue,
                Err(e) => return Err(e.into()),
            };
            let Some(s) = situation(a.situation_id).await? else {
                continue;
            };
            let tlp = (*label).max(s.tlp);
            if tlp > ceiling || !covers(&Some(s.country.clone())) {
                continue;
            }
            let measure = toolbox
                .measure(&a.measure_id)
                .map_or_else(|| a.measure_id.clone(), |m| m.name.clone());
            out.push(SharedItem {
                kind: SharedKind::Action,
                id: a.id,
                title: cut(&measure, 280),
                summary: a.outcome.clone().unwrap_or_default(),
                status: a.status.as_str().into(),
                level: None,
                country: Some(s.country.clone()),
                factors: Vec::new(),
                cap: None,
                tlp,
                created_at: a.created_at,
                updated_at: a.updated_at,
                version: a.version,
            });
        }
        // A STIX export's filters: its country, its dates (of the record's version), its
        // exact label; a filter only incidents have (a box, an event type) leaves none.
        let f = &scope.filter;
        if f.bbox.is_some() || f.event_type.is_some() {
            out.clear();
        }
        out.retain(|i| {
            let day = i.updated_at.max(i.created_at).date_naive();
            f.country
                .as_ref()
                .is_none_or(|c| i.country.as_ref() == Some(c))
                && f.from.is_none_or(|d| day >= d)
                && f.to.is_none_or(|d| day <= d)
                && f.tlp.is_none_or(|t| i.tlp == t)
        });
        // Times to the hour, so no record carries the second something was raised from a
        // warner's message (an alert opened by a rule on reports, a rumour recorded from one):
        // created at the start of its hour, its version time that hour plus its version in
        // seconds (still later for every later version within the hour).
        for i in &mut out {
            i.created_at = tocsin_cap::hour_of(i.created_at);
            let at = tocsin_cap::hour_of(i.updated_at);
            i.updated_at = at + chrono::Duration::seconds(i.version.clamp(0, 3599));
        }
        if let Some(p) = &scope.partner {
            out = out
                .into_iter()
                .filter(|i| p.takes(i.kind.as_str()))
                .map(|i| p.redacted_item(i))
                .collect();
        }
        out.sort_by_key(|i| (i.updated_at.max(i.created_at), i.id));
        Ok(out)
    }

    /// Store the records other than incidents of another organisation's bundle, read by `who`
    /// from `origin` (`format`: `tocsin` for a partner's bundle, `stix`), adding to `summary`:
    /// once per origin and original id, a later version supersedes, a retraction hides; one
    /// above the importer's clearance, or labelled TLP:RED from a partner, is refused with
    /// the reason. Written in batches, each one write with its audit entry (`share.receive`).
    pub async fn receive_items(
        &self,
        who: Acting<'_>,
        origin: &str,
        format: &str,
        incoming: Vec<IncomingItem>,
        summary: &mut ReceiveSummary,
        provenance: &serde_json::Value,
    ) -> Result<()> {
        who.require(Permission::ShareImport)?;
        let origin = tocsin_domain::share::origin_name(origin)?;
        let clearance = who.clearance();
        for batch in incoming.chunks(500.min(MAX_RECEIVED_LOOKUP)) {
            let ids: Vec<String> = batch.iter().map(|b| b.original_id.clone()).collect();
            let held = self.store.received_by_original(&origin, &ids).await?;
            let now = tocsin_domain::time::now();
            let mut steps = Vec::new();
            let mut records = Vec::new();
            let (mut created, mut updated, mut retracted) = (0u64, 0u64, 0u64);
            for inc in batch {
                let tlp = inc.item.tlp;
                if let Some(reason) = refusal(inc.revoked, tlp, clearance, format) {
                    summary.refused.push(Refusal {
                        id: inc.original_id.clone(),
                        reason,
                    });
                    continue;
                }
                let record = |id: Uuid, received_at, retracted_at| Received {
                    record_id: id,
                    kind: inc.item.kind.as_str().into(),
                    origin: origin.clone(),
                    original_id: inc.original_id.clone(),
                    format: format.to_string(),
                    modified: inc.modified,
                    tlp,
                    received_at,
                    retracted_at,
                };
                match held.get(&inc.original_id) {
                    Some(r) if r.kind != inc.item.kind.as_str() => {
                        summary.refused.push(Refusal {
                            id: inc.original_id.clone(),
                            reason: format!("already received as a {}", r.kind),
                        });
                        continue;
                    }
                    None if inc.revoked => summary.unchanged += 1,
                    None => {
                        let id = tocsin_domain::new_id();
                        let mut item = inc.item.clone();
                        item.id = id;
                        steps.push(Step::Share(ShareStep::Receive(Box::new(record(
                            id, now, None,
                        )))));
                        steps.push(Step::Share(ShareStep::ReceiveItem {
                            id,
                            item: Box::new(item),
                        }));
                        records.push(inc.original_id.clone());
                        created += 1;
                    }
                    Some(r) if r.retracted_at.is_some() => summary.unchanged += 1,
                    Some(r) if inc.revoked => {
                        let mut rec = record(r.record_id, r.received_at, Some(now));
                        rec.modified = inc.modified.max(r.modified);
                        rec.tlp = r.tlp;
                        steps.push(Step::Share(ShareStep::Receive(Box::new(rec))));
                        records.push(inc.original_id.clone());
                        retracted += 1;
                    }
                    Some(r) if inc.modified <= r.modified => summary.unchanged += 1,
                    Some(r) => {
                        let mut item = inc.item.clone();
                        item.id = r.record_id;
                        steps.push(Step::Share(ShareStep::Receive(Box::new(record(
                            r.record_id,
                            r.received_at,
                            None,
                        )))));
                        steps.push(Step::Share(ShareStep::ReceiveItem {
                            id: r.record_id,
                            item: Box::new(item),
                        }));
                        records.push(inc.original_id.clone());
                        updated += 1;
                    }
                }
            }
            let counts = Counts {
                created,
                updated,
                retracted,
                records,
            };
            self.write_received(
                who,
                "item",
                (&origin, format, provenance),
                steps,
                counts,
                summary,
            )
            .await?;
        }
        Ok(())
    }

    /// The records other than incidents received from other organisations that `u` may see
    /// (their label within `u`'s clearance), retracted ones too (marked), the most recently
    /// received first, at most [`MAX_RECEIVED_ITEMS`].
    pub async fn received_items(&self, u: &User) -> Result<Vec<ReceivedItem>> {
        require(u, Permission::IncidentRead)?;
        Ok(self
            .store
            .received_items(u.clearance, MAX_RECEIVED_ITEMS)
            .await?
            .into_iter()
            .filter(|i| u.may_see(i.item.tlp))
            .collect())
    }

    /// Set this organisation's note on the received item `id` as `u` (analysts: who may
    /// import); empty clears it. The item itself stays as its origin sent it. Audited.
    pub async fn note_received_item(&self, u: &User, id: Uuid, note: &str) -> Result<ReceivedItem> {
        require(u, Permission::ShareImport)?;
        let item = self
            .store
            .received_item(id)
            .await?
            .ok_or(AppError::NotFound)?;
        visible(u, item.item.tlp)?;
        let note = item_note(note)?;
        let at = tocsin_domain::time::now();
        let audit = AuditEvent::new(&u.actor(), "share.item_note", "item", Some(id.to_string()))
            .with_detail(serde_json::json!({ "before": item.note, "after": note }));
        self.store
            .write(
                &u.actor(),
                Op::All {
                    steps: vec![Step::Share(ShareStep::ItemNote {
                        id,
                        note,
                        by: u.username.clone(),
                        at,
                    })],
                    audit: Box::new(audit),
                },
            )
            .await?;
        self.store
            .received_item(id)
            .await?
            .ok_or(AppError::NotFound)
    }

    /// The actions marked shareable and their labels, for `u` who reads action plans (each
    /// page shows only the actions it lists).
    pub async fn shared_actions(&self, u: &User) -> Result<HashMap<Uuid, Tlp>> {
        require(u, Permission::SituationRead)?;
        Ok(self.store.shareable_actions().await?)
    }

    /// The label the action `id` is shared with partners under (`None`: not shared), for `u`
    /// who may see it.
    pub async fn action_sharing(&self, u: &User, id: Uuid) -> Result<Option<Tlp>> {
        require(u, Permission::SituationRead)?;
        let a = self.store.get_action(id).await?;
        self.situation_for(u, a.situation_id).await?;
        Ok(self.store.shareable_actions().await?.get(&id).copied())
    }

    /// Mark the action `id` shareable with partners under `tlp`, or no longer (`None`), as `u`
    /// (who may share: admins, analysts). The label is at most TLP:AMBER and within `u`'s
    /// clearance; it crosses under the higher of it and its situation's. Audited
    /// (`action.share`).
    pub async fn set_action_sharing(&self, u: &User, id: Uuid, tlp: Option<Tlp>) -> Result<()> {
        require(u, Permission::ShareExport)?;
        let a = self.store.get_action(id).await?;
        self.situation_for(u, a.situation_id).await?;
        if let Some(t) = tlp {
            if t > ITEM_CEILING {
                return Err(AppError::invalid(
                    "tlp",
                    "an action is shared at most as TLP:AMBER",
                ));
            }
            visible(u, t)?;
        }
        let before = self.store.shareable_actions().await?.get(&id).copied();
        let audit = AuditEvent::new(&u.actor(), "action.share", "action", Some(id.to_string()))
            .with_detail(serde_json::json!({
                "before": before.map(Tlp::as_str),
                "after": tlp.map(Tlp::as_str),
            }));
        self.store
            .write(
                &u.actor(),
                Op::All {
                    steps: vec![Step::Share(ShareStep::ActionShare {
                        action_id: id,
                        tlp,
                        by: u.username.clone(),
                        at: tocsin_domain::time::now(),
                    })],
                    audit: Box::new(audit),
                },
            )
            .await?;
        Ok(())
    }
}
