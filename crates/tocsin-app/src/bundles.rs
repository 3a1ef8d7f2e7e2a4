//! Signed bundles exchanged with partner organisations (issue 20), and STIX bundles read from
//! anyone: the use cases `tocsin share`, the `/share` page and `/api/v1/share/…` call.
//!
//! - [`App::make_partner_bundle`] reads what may cross to a partner ([`crate::share::may_cross`]
//!   at the partner's ceiling and countries), adds a retraction for each record sent before that
//!   no longer crosses, and signs it ([`tocsin_exchange::bundle`]);
//!   [`App::record_partner_bundle`] remembers it as sent once it was handed over.
//! - [`App::receive_partner_bundle`] checks a partner's bundle whole (made for this
//!   installation, signed with that partner's key, unchanged) before anything of it is stored.
//! - [`App::push_partner_bundle`] and [`App::pull_partner_bundle`] move bundles over HTTPS
//!   through the delivery layer ([`tocsin_delivery::partner`]) with the token the partner
//!   issued.
//! - [`read_stix`] and [`App::receive_stix`]: a STIX 2.1 bundle from anyone.

use sha2::{Digest, Sha256};
use std::collections::HashSet;
use tocsin_delivery::partner::{fetch_bundle, post_bundle, TransferError};
use tocsin_domain::{
    AuditEvent, Country, Partner, SentRecord, SharedIncident, SharedItem, SharedKind, SyncCursor,
    Tlp,
};
use tocsin_exchange::bundle::{open_bundle, write_bundle, BundleHeader, BundleMeta, BundlePage};
use tocsin_exchange::stix::{read_bundle, StixError, StixImport, StixLimits, StixOrg, StixWriter};
use tocsin_exchange::{Geo, Reverse};
use tocsin_store::{Op, ShareStep, Step, StoreExt};
use uuid::Uuid;

use crate::share::{Audience, PartnerShare, ReceiveSummary};
use crate::{Acting, App, AppError};

/// The largest bundle a partner's push or pull carries.
pub const MAX_TRANSFER_BYTES: usize = 256 * 1024 * 1024;

/// Place names and codes for bundles read here (the gazetteer).
pub struct Places;

impl Geo for Places {
    fn country(&self, s: &str) -> Option<Country> {
        tocsin_geo::country_code(s).and_then(|c| Country::parse(c).ok())
    }
    fn country_gw(&self, _code: &str) -> Option<Country> {
        None
    }
    fn reverse(&self, lat: f64, lon: f64) -> Option<Reverse> {
        let p = tocsin_geo::reverse(lat, lon)?;
        Some(Reverse {
            country: Country::parse(p.country).ok()?,
            admin1: p.admin1.map(str::to_string),
            admin2: p.admin2.map(str::to_string),
            place: Some(p.nearest.name.to_string()),
        })
    }
}

/// A place named `name` in `country`, by the gazetteer (its best candidate).
pub fn locate(name: &str, country: &Country) -> Option<(f64, f64)> {
    tocsin_geo::lookup(name, Some(country.code()))
        .into_iter()
        .find(|c| c.country == country.code())
        .map(|c| (c.lat, c.lon))
}

/// Read a STIX bundle of at most `max_bytes` (see [`read_bundle`]).
pub fn read_stix(bytes: &[u8], max_bytes: usize) -> Result<StixImport, StixError> {
    let limits = StixLimits {
        max_bytes,
        max_objects: (max_bytes / 64).max(1000),
    };
    read_bundle(bytes, limits, &Places, &locate)
}

/// A bundle made for a partner, not yet handed over: its bytes, its header, and what it
/// carries (recorded by [`App::record_partner_bundle`] once the bundle is written out).
pub struct MadeBundle {
    /// The whole file.
    pub bytes: Vec<u8>,
    /// Its header.
    pub header: BundleHeader,
    /// The partner.
    pub partner: Partner,
    /// The records it carries (retractions with their time).
    pub records: Vec<SentRecord>,
}

impl MadeBundle {
    /// How many incidents it carries.
    pub fn incidents(&self) -> usize {
        self.records
            .iter()
            .filter(|r| r.retracted_at.is_none() && r.kind == "incident")
            .count()
    }

    /// How many records other than incidents (assessments, alerts, rumours, actions) it
    /// carries.
    pub fn items(&self) -> usize {
        self.records
            .iter()
            .filter(|r| r.retracted_at.is_none() && r.kind != "incident")
            .count()
    }

    /// How many retractions it carries.
    pub fn retractions(&self) -> usize {
        self.records
            .iter()
            .filter(|r| r.retracted_at.is_some())
            .count()
    }

    /// SHA-256 of the whole file (hex).
    pub fn sha256(&self) -> String {
        hex::encode(Sha256::digest(&self.bytes))
    }
}

/// Why a bundle was not made, received, pushed or pulled.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// A use case refused (no such partner, a role that may not share) or storage failed.
    #[error(transparent)]
    App(#[from] AppError),
    /// The bundle was refused whole before anything was stored (bad signature, not for this
    /// installation, changed, not a bundle).
    #[error("nothing was stored: {0}")]
    Refused(String),
    /// The partner could not be reached or refused the transfer.
    #[error(transparent)]
    Transfer(#[from] TransferError),
}

fn io(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(format!("the bundle could not be made: {e}"))
}

/// What may cross to a partner now, read once: the export under way, the records that cross
/// (projected, in version time then id order) and what was sent before that no longer crosses
/// (by record id).
struct Crossing {
    share: PartnerShare,
    incidents: Vec<SharedIncident>,
    items: Vec<SharedItem>,
    gone: Vec<SentRecord>,
}

/// A shared item's version time.
fn item_modified(i: &SharedItem) -> chrono::DateTime<chrono::Utc> {
    i.updated_at.max(i.created_at)
}

/// Whether `sent` (what a partner was sent) lacks this version of a record.
fn unsent(
    sent: &std::collections::HashMap<Uuid, SentRecord>,
    id: Uuid,
    at: chrono::DateTime<chrono::Utc>,
) -> bool {
    sent.get(&id)
        .is_none_or(|s| s.retracted_at.is_some() || s.modified != at)
}

/// A shared incident's version time (what a later version supersedes by).
fn modified(i: &SharedIncident) -> chrono::DateTime<chrono::Utc> {
    i.updated_at.max(i.created_at)
}

fn key(i: &SharedIncident) -> SyncCursor {
    SyncCursor::after(modified(i), i.id)
}

/// The most pages one pull takes from a partner (a guard against a partner that never says
/// it is done).
pub const MAX_PULL_PAGES: usize = 10_000;

/// The records per page of a transfer over HTTPS unless told otherwise.
pub const DEFAULT_PAGE_RECORDS: usize = 10_000;

/// The most records a page may be asked for.
pub const MAX_PAGE_RECORDS: usize = 100_000;

/// How a push in pages went.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct PushReport {
    /// Pages the partner took.
    pub pages: u32,
    /// Incidents sent.
    pub sent: u64,
    /// Records other than incidents sent (assessments, alerts, rumours, actions).
    pub items: u64,
    /// Retractions sent.
    pub retractions: u64,
    /// Incidents not sent because the partner already holds this version of them.
    pub already_there: u64,
    /// The SHA-256 of each page the partner took, in order.
    pub bundles: Vec<String>,
    /// What the partner stored, all pages together.
    pub stored: ReceiveSummary,
}

/// The most records a partner preview shows as they would be sent.
pub const PREVIEW_RECORDS: usize = 20;

/// What would cross to a partner under its terms ([`App::preview_partner`]).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PartnerPreview {
    /// The partner, with its terms.
    pub partner: Partner,
    /// The digest of those terms: what an approval names.
    pub digest: String,
    /// Incidents that would cross.
    pub incidents: u64,
    /// Of them, how many at each label.
    pub by_tlp: Vec<(Tlp, u64)>,
    /// Retractions of what was sent before and no longer crosses.
    pub retractions: u64,
    /// The first of them, as the partner would receive them.
    pub sample: Vec<SharedIncident>,
    /// Records other than incidents that would cross, how many of each kind.
    pub items_by_kind: Vec<(SharedKind, u64)>,
    /// The first of them, as the partner would receive them.
    pub item_sample: Vec<SharedItem>,
}

/// How a pull in pages went.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct PullReport {
    /// Pages stored.
    pub pages: u32,
    /// Where the pull got to (what the next one starts after).
    pub cursor: Option<SyncCursor>,
    /// What was stored, all pages together.
    pub stored: ReceiveSummary,
}

/// How the exchange with one partner went ([`App::sync_partners`]).
#[derive(Debug, Clone, PartialEq)]
pub struct SyncOutcome {
    /// The partner.
    pub partner: String,
    /// The push, or why it failed.
    pub push: Result<PushReport, String>,
    /// The pull, or why it failed.
    pub pull: Result<PullReport, String>,
}

fn add(total: &mut ReceiveSummary, s: ReceiveSummary) {
    total.created += s.created;
    total.updated += s.updated;
    total.retracted += s.retracted;
    total.unchanged += s.unchanged;
    total.ignored += s.ignored;
    total.refused.extend(s.refused);
}

impl App<'_> {
    /// Read what may cross to the partner `name` now, as `who` (the export is audited).
    async fn crossing(&self, who: Acting<'_>, name: &str) -> crate::Result<Crossing> {
        let c = self.crossing_unapproved(who, name, false).await?;
        if c.share.partner.approved_at.is_none() {
            return Err(AppError::BadField {
                field: "partner".into(),
                message: format!(
                    "nothing is sent to {:?} before an admin previews what would cross and \
                     approves its terms (its page under /partners, or `tocsin partner preview` \
                     then `tocsin partner approve`)",
                    c.share.partner.name
                ),
            });
        }
        Ok(c)
    }

    /// What may cross to the partner `name` now, approved terms or not (for the preview).
    async fn crossing_unapproved(
        &self,
        who: Acting<'_>,
        name: &str,
        preview: bool,
    ) -> crate::Result<Crossing> {
        let share = self.start_partner_share_for(who, name, preview).await?;
        let (tx, mut rx) = tokio::sync::mpsc::channel(4);
        let (reader, filter) = (self.store.clone(), share.scope.filter.clone());
        let scan = tokio::spawn(async move { reader.scan_incidents(&filter, tx).await });
        let mut incidents = Vec::new();
        while let Some(chunk) = rx.recv().await {
            incidents.extend(
                self.share_chunk(&share.scope, Audience::Partner(&share.partner.name), chunk)
                    .await?,
            );
        }
        scan.await.map_err(io)??;
        incidents.sort_by_key(key);
        let items = self.shared_items(&share.scope).await?;
        let crossing: HashSet<Uuid> = incidents
            .iter()
            .map(|i| i.id)
            .chain(items.iter().map(|i| i.id))
            .collect();
        let mut gone: Vec<SentRecord> = share
            .sent
            .values()
            .filter(|s| !crossing.contains(&s.record_id))
            .cloned()
            .collect();
        gone.sort_by_key(|s| s.record_id);
        Ok(Crossing {
            share,
            incidents,
            items,
            gone,
        })
    }

    /// What would cross to the partner `name` under its terms as they stand (admins), before
    /// they are approved: how many incidents at each label, how many retractions, and the first
    /// [`PREVIEW_RECORDS`] as the partner would receive them (redacted). Audited
    /// (`partner.preview`, with the terms' digest an approval must name).
    pub async fn preview_partner(
        &self,
        who: Acting<'_>,
        name: &str,
    ) -> crate::Result<PartnerPreview> {
        who.require(tocsin_domain::Permission::PartnerManage)?;
        let c = self.crossing_unapproved(who, name, true).await?;
        let digest = c.share.partner.terms_digest();
        let mut by_tlp: Vec<(Tlp, u64)> = Vec::new();
        for i in &c.incidents {
            match by_tlp.iter_mut().find(|(t, _)| *t == i.tlp) {
                Some((_, n)) => *n += 1,
                None => by_tlp.push((i.tlp, 1)),
            }
        }
        by_tlp.sort();
        let mut items_by_kind: Vec<(SharedKind, u64)> = Vec::new();
        for i in &c.items {
            match items_by_kind.iter_mut().find(|(k, _)| *k == i.kind) {
                Some((_, n)) => *n += 1,
                None => items_by_kind.push((i.kind, 1)),
            }
        }
        items_by_kind.sort();
        let audit = AuditEvent::new(&who.actor(), "partner.preview", "partner", None).with_detail(
            serde_json::json!({
                "name": c.share.partner.name,
                "terms": digest,
                "incidents": c.incidents.len(),
                "items": c.items.len(),
                "retractions": c.gone.len(),
            }),
        );
        self.store.audit(audit).await?;
        Ok(PartnerPreview {
            digest,
            incidents: c.incidents.len() as u64,
            by_tlp,
            retractions: c.gone.len() as u64,
            sample: c.incidents.into_iter().take(PREVIEW_RECORDS).collect(),
            items_by_kind,
            item_sample: c.items.into_iter().take(PREVIEW_RECORDS).collect(),
            partner: c.share.partner,
        })
    }

    /// Sign a bundle for `share`'s partner carrying `incidents`, `items` and retractions of
    /// `gone`.
    #[allow(clippy::too_many_arguments)]
    async fn sign_bundle(
        &self,
        who: Acting<'_>,
        share: &PartnerShare,
        org: StixOrg,
        incidents: &[&SharedIncident],
        items: &[&SharedItem],
        gone: &[&SentRecord],
        page: Option<BundlePage>,
    ) -> crate::Result<MadeBundle> {
        let key = self.signing_key(who).await?;
        let meta = BundleMeta {
            origin: org.name.clone(),
            origin_instance: org.instance_id,
            partner: share.partner.name.clone(),
            partner_key: share.partner.key()?,
            created_at: tocsin_domain::time::now(),
            page,
        };
        // The markings of every label carried (AMBER+STRICT records naming the partner go
        // above its ceiling of AMBER).
        let top = incidents
            .iter()
            .map(|i| i.tlp)
            .chain(gone.iter().map(|g| g.tlp))
            .fold(share.scope.max_tlp, Tlp::max);
        let mut w = StixWriter::new(Vec::new(), org, top).map_err(io)?;
        let mut records = Vec::with_capacity(incidents.len() + gone.len());
        for i in incidents {
            w.write(i).map_err(io)?;
            records.push(SentRecord {
                partner: share.partner.name.clone(),
                record_id: i.id,
                kind: "incident".into(),
                modified: modified(i),
                tlp: i.tlp,
                retracted_at: None,
                sent_at: meta.created_at,
            });
        }
        for i in items {
            w.write_item(i).map_err(io)?;
            records.push(SentRecord {
                partner: share.partner.name.clone(),
                record_id: i.id,
                kind: i.kind.as_str().into(),
                modified: item_modified(i),
                tlp: i.tlp,
                retracted_at: None,
                sent_at: meta.created_at,
            });
        }
        // What was sent before and no longer crosses (refuted, relabelled, out of the
        // partner's terms now): a retraction, with the time it was first sent as one.
        for s in gone {
            let at = s.retracted_at.unwrap_or(meta.created_at);
            w.write_revoked(&s.kind, s.record_id, &s.modified, &at, s.tlp)
                .map_err(io)?;
            records.push(SentRecord {
                retracted_at: Some(at),
                sent_at: meta.created_at,
                ..(*s).clone()
            });
        }
        let payload = w.finish().map_err(io)?;
        let mut bytes = Vec::with_capacity(payload.len() + 1024);
        let header = write_bundle(&mut bytes, &meta, &payload, &key).map_err(io)?;
        Ok(MadeBundle {
            bytes,
            header,
            partner: share.partner.clone(),
            records,
        })
    }

    /// Make the signed bundle of everything that may cross to the partner `name` now (the
    /// whole state, as a file carries it), as `who` from `org`: every record that crosses and
    /// a retraction of each one sent before that no longer does.
    pub async fn make_partner_bundle(
        &self,
        who: Acting<'_>,
        name: &str,
        org: StixOrg,
    ) -> crate::Result<MadeBundle> {
        let c = self.crossing(who, name).await?;
        let incidents: Vec<&SharedIncident> = c.incidents.iter().collect();
        let items: Vec<&SharedItem> = c.items.iter().collect();
        let gone: Vec<&SentRecord> = c.gone.iter().collect();
        self.sign_bundle(who, &c.share, org, &incidents, &items, &gone, None)
            .await
    }

    /// Make the page of the partner `name`'s transfer that starts after `after` (`None`: the
    /// first), of at most `limit` records, as `who` from `org`: what crosses in version time
    /// then id order after the cursor. The last page (no more after it) also carries what
    /// crosses from before the cursor that the partner was not sent at this version (a record
    /// that came into its terms without changing), and the retractions of what no longer
    /// crosses. What a partner pulls (`GET /api/v1/share/bundles?after=…`).
    pub async fn make_partner_page(
        &self,
        who: Acting<'_>,
        name: &str,
        org: StixOrg,
        after: Option<SyncCursor>,
        limit: usize,
    ) -> crate::Result<MadeBundle> {
        let limit = limit.clamp(1, MAX_PAGE_RECORDS);
        let c = self.crossing(who, name).await?;
        let start = after.map_or(0, |a| {
            c.incidents
                .partition_point(|i| !a.precedes(modified(i), i.id))
        });
        let rest = &c.incidents[start..];
        let more = rest.len() > limit;
        let mut incidents: Vec<&SharedIncident> = rest.iter().take(limit).collect();
        let next = incidents.last().map(|i| key(i)).or(after);
        let mut gone = Vec::new();
        let mut items: Vec<&SharedItem> = Vec::new();
        if !more {
            let sent = &c.share.sent;
            incidents.extend(
                c.incidents[..start]
                    .iter()
                    .filter(|i| unsent(sent, i.id, modified(i))),
            );
            // Records other than incidents travel whole on the last page: all of them from
            // the start, else those not sent at this version.
            items.extend(
                c.items
                    .iter()
                    .filter(|i| after.is_none() || unsent(sent, i.id, item_modified(i))),
            );
            gone.extend(
                c.gone
                    .iter()
                    .filter(|s| after.is_none() || s.retracted_at.is_none()),
            );
        }
        let page = BundlePage { after, next, more };
        self.sign_bundle(who, &c.share, org, &incidents, &items, &gone, Some(page))
            .await
    }

    /// Remember what `made` carried as sent, and audit every record of it with the partner,
    /// the bundle's SHA-256 and its signature: once the bundle is handed over (written out).
    pub async fn record_partner_bundle(
        &self,
        who: Acting<'_>,
        made: MadeBundle,
    ) -> crate::Result<()> {
        let sha = made.sha256();
        self.record_partner_send(
            who,
            &made.partner,
            made.records,
            &sha,
            &made.header.signature,
        )
        .await
    }

    /// Receive the bundle `bytes` from the partner `name` as `who`: checked whole first (made
    /// for this installation, signed by that partner's key, not changed since; see
    /// [`open_bundle`]), then its incidents stored labelled with the partner's name
    /// ([`App::receive_partner_incidents`]: once per original id, a later version supersedes,
    /// a retraction hides, TLP:RED refused), each batch audited with the bundle's SHA-256 and
    /// signature.
    pub async fn receive_partner_bundle(
        &self,
        who: Acting<'_>,
        name: &str,
        bytes: Vec<u8>,
        max_bytes: usize,
    ) -> Result<ReceiveSummary, BundleError> {
        Ok(self.receive_checked(who, name, bytes, max_bytes).await?.1)
    }

    /// [`App::receive_partner_bundle`], answering the bundle's header too.
    async fn receive_checked(
        &self,
        who: Acting<'_>,
        name: &str,
        bytes: Vec<u8>,
        max_bytes: usize,
    ) -> Result<(BundleHeader, ReceiveSummary), BundleError> {
        let partner = self.partner_for_import(who, name).await?;
        let signer = partner.key().map_err(AppError::from)?;
        let me = self.signing_key(who).await?.public_key();
        let sha = hex::encode(Sha256::digest(&bytes));
        let (header, stix) = tokio::task::spawn_blocking(move || {
            let (header, payload) =
                open_bundle(&bytes, &partner.name, &signer, &me).map_err(|e| e.to_string())?;
            let stix = read_stix(payload, max_bytes).map_err(|e| e.to_string())?;
            Ok::<_, String>((header, stix))
        })
        .await
        .map_err(io)?
        .map_err(BundleError::Refused)?;
        let summary = ReceiveSummary {
            ignored: stix.ignored,
            refused: stix.refused,
            ..Default::default()
        };
        let provenance = serde_json::json!({
            "partner": name.trim(),
            "bundle_sha256": sha,
            "signature": header.signature,
            "bundle_origin": header.origin,
            "bundle_created_at": header.created_at,
        });
        let mut summary = self
            .receive_partner_incidents(
                who,
                name.trim(),
                stix.incidents,
                summary,
                provenance.clone(),
            )
            .await?;
        self.receive_items(
            who,
            name.trim(),
            "tocsin",
            stix.items,
            &mut summary,
            &provenance,
        )
        .await?;
        Ok((header, summary))
    }

    /// Push `made` to its partner (`POST {url}/api/v1/share/bundles`, through the delivery
    /// layer) with the token that partner issued; answers what the partner stored. Only after
    /// the partner took it is the bundle recorded as sent ([`App::record_partner_bundle`]).
    pub async fn push_partner_bundle(
        &self,
        who: Acting<'_>,
        made: MadeBundle,
    ) -> Result<ReceiveSummary, BundleError> {
        let token = self.partner_push_token(who, &made.partner).await?;
        let answer = post_bundle(&made.partner.url, &token, made.bytes.clone()).await?;
        let summary: ReceiveSummary = serde_json::from_slice(&answer).map_err(|e| {
            TransferError::Network(format!(
                "the partner's answer is not a receive summary: {e}"
            ))
        })?;
        self.record_partner_bundle(who, made).await?;
        Ok(summary)
    }

    /// Push to the partner `name` what it does not hold yet, in signed pages of at most
    /// `page_records` records, as `who` from `org`: the records that cross and were not sent
    /// to it at this version (all of them with `full`), in version time then id order, and
    /// the retractions of what no longer crosses (the last page). Each page is recorded as
    /// sent once the partner took it, so a push cut midway (a crash, a dropped connection)
    /// resumes after the last page taken, and nothing is sent twice.
    pub async fn push_to_partner(
        &self,
        who: Acting<'_>,
        name: &str,
        org: StixOrg,
        page_records: usize,
        full: bool,
    ) -> Result<PushReport, BundleError> {
        let limit = page_records.clamp(1, MAX_PAGE_RECORDS);
        let c = self.crossing(who, name).await?;
        let token = self.partner_push_token(who, &c.share.partner).await?;
        let sent = &c.share.sent;
        let todo: Vec<&SharedIncident> = c
            .incidents
            .iter()
            .filter(|i| full || unsent(sent, i.id, modified(i)))
            .collect();
        let items: Vec<&SharedItem> = c
            .items
            .iter()
            .filter(|i| full || unsent(sent, i.id, item_modified(i)))
            .collect();
        let gone: Vec<&SentRecord> = c
            .gone
            .iter()
            .filter(|s| full || s.retracted_at.is_none())
            .collect();
        let mut report = PushReport {
            already_there: (c.incidents.len() - todo.len()) as u64,
            ..Default::default()
        };
        if todo.is_empty() && items.is_empty() && gone.is_empty() {
            return Ok(report);
        }
        let pages: Vec<&[&SharedIncident]> = if todo.is_empty() {
            vec![&[]]
        } else {
            todo.chunks(limit).collect()
        };
        let mut after = None;
        for (n, page) in pages.iter().enumerate() {
            let last = n + 1 == pages.len();
            let next = page.last().map(|i| key(i)).or(after);
            let info = BundlePage {
                after,
                next,
                more: !last,
            };
            let retract: &[&SentRecord] = if last { &gone } else { &[] };
            let with: &[&SharedItem] = if last { &items } else { &[] };
            let made = self
                .sign_bundle(who, &c.share, org.clone(), page, with, retract, Some(info))
                .await?;
            let answer = post_bundle(&made.partner.url, &token, made.bytes.clone()).await?;
            let stored: ReceiveSummary = serde_json::from_slice(&answer).map_err(|e| {
                TransferError::Network(format!(
                    "the partner's answer is not a receive summary: {e}"
                ))
            })?;
            report.bundles.push(made.sha256());
            self.record_partner_bundle(who, made).await?;
            report.pages += 1;
            report.sent += page.len() as u64;
            report.items += with.len() as u64;
            report.retractions += retract.len() as u64;
            add(&mut report.stored, stored);
            after = next;
        }
        Ok(report)
    }

    /// Pull from the partner `name` what it made for this installation, page after page
    /// (`GET {url}/api/v1/share/bundles?after=…`, through the delivery layer, with the token it
    /// issued), each checked whole and stored as a file is; the cursor of each page stored is
    /// kept, so a pull cut midway resumes after it and the next pull brings only what changed
    /// since. `from_start` forgets the cursor first (everything again; what is held already
    /// changes nothing).
    pub async fn pull_from_partner(
        &self,
        who: Acting<'_>,
        name: &str,
        page_records: usize,
        from_start: bool,
    ) -> Result<PullReport, BundleError> {
        let partner = self.partner_for_import(who, name).await?;
        let token = self.partner_push_token(who, &partner).await?;
        let mut cursor = if from_start {
            None
        } else {
            self.store
                .pull_cursor(&partner.name)
                .await
                .map_err(AppError::from)?
        };
        let mut report = PullReport {
            cursor,
            ..Default::default()
        };
        let limit = page_records.clamp(1, MAX_PAGE_RECORDS);
        for _ in 0..MAX_PULL_PAGES {
            let mut query = format!("limit={limit}");
            if let Some(c) = cursor {
                query.push_str(&format!("&after={c}"));
            }
            let bytes = fetch_bundle(&partner.url, &token, &query).await?;
            let (header, stored) = self
                .receive_checked(who, &partner.name, bytes, MAX_TRANSFER_BYTES)
                .await?;
            let page = header.page.ok_or_else(|| {
                BundleError::Refused("the partner answered a bundle that is not a page".into())
            })?;
            if page.after != cursor {
                return Err(BundleError::Refused(format!(
                    "the partner answered the page after {}, not the one asked for",
                    page.after.map_or("the start".into(), |c| c.to_string())
                )));
            }
            add(&mut report.stored, stored);
            report.pages += 1;
            if page.next != cursor {
                self.keep_pull_cursor(who, &partner.name, page.next).await?;
                cursor = page.next;
                report.cursor = cursor;
            }
            if !page.more {
                return Ok(report);
            }
        }
        Err(BundleError::Refused(format!(
            "the partner sent more than {MAX_PULL_PAGES} pages without an end"
        )))
    }

    /// Keep where the pull from `partner` got to (audited).
    async fn keep_pull_cursor(
        &self,
        who: Acting<'_>,
        partner: &str,
        cursor: Option<SyncCursor>,
    ) -> crate::Result<()> {
        let audit = AuditEvent::new(&who.actor(), "share.pull", "partner", None).with_detail(
            serde_json::json!({ "partner": partner, "cursor": cursor.map(|c| c.to_string()) }),
        );
        self.store
            .write(
                &who.actor(),
                Op::All {
                    steps: vec![Step::Share(ShareStep::PullCursor {
                        name: partner.to_string(),
                        cursor,
                    })],
                    audit: Box::new(audit),
                },
            )
            .await?;
        Ok(())
    }

    /// Pull the bundle the partner `name` made for this installation: every page of it (see
    /// [`App::pull_from_partner`]), starting where the last pull stopped.
    pub async fn pull_partner_bundle(
        &self,
        who: Acting<'_>,
        name: &str,
    ) -> Result<ReceiveSummary, BundleError> {
        Ok(self
            .pull_from_partner(who, name, DEFAULT_PAGE_RECORDS, false)
            .await?
            .stored)
    }

    /// Exchange with every partner this installation holds a token for (the one it issued
    /// here): push what it does not hold yet, then pull what it made for us, each as
    /// [`App::push_to_partner`] and [`App::pull_from_partner`] do. A partner without a token is
    /// left out; one that fails does not stop the others. What the schedule of `tocsin serve`
    /// runs (`[share] sync_minutes`) and the `/share` page's "exchange now".
    pub async fn sync_partners(
        &self,
        who: Acting<'_>,
        org: StixOrg,
    ) -> crate::Result<Vec<SyncOutcome>> {
        who.require(tocsin_domain::Permission::ShareExport)?;
        who.require(tocsin_domain::Permission::ShareImport)?;
        let mut out = Vec::new();
        for p in self.store.partners().await? {
            if self.store.partner_push_token(&p.name).await?.is_none() {
                continue;
            }
            let push = self
                .push_to_partner(who, &p.name, org.clone(), DEFAULT_PAGE_RECORDS, false)
                .await
                .map_err(|e| e.to_string());
            let pull = self
                .pull_from_partner(who, &p.name, DEFAULT_PAGE_RECORDS, false)
                .await
                .map_err(|e| e.to_string());
            out.push(SyncOutcome {
                partner: p.name,
                push,
                pull,
            });
        }
        Ok(out)
    }

    /// Receive a STIX bundle read by [`read_stix`] from `origin`, as `who`.
    pub async fn receive_stix(
        &self,
        who: Acting<'_>,
        origin: &str,
        bundle: StixImport,
    ) -> crate::Result<ReceiveSummary> {
        let summary = ReceiveSummary {
            ignored: bundle.ignored,
            refused: bundle.refused,
            ..Default::default()
        };
        let mut summary = self
            .receive_incidents(who, origin, "stix", bundle.incidents, summary)
            .await?;
        self.receive_items(
            who,
            origin,
            "stix",
            bundle.items,
            &mut summary,
            &serde_json::Value::Null,
        )
        .await?;
        Ok(summary)
    }
}
