//! Sharing with other organisations: what may cross (one rule, [`may_cross`], for every way
//! out), exports of it, and what is received from elsewhere (read-only incidents labelled with
//! their origin).
//!
//! **What crosses.** Verified incidents only, never one received from elsewhere, projected as
//! [`SharedIncident`] (the Admiralty grade of their best source, never a source, a report or a
//! warner's words, nor an evidence file), at most at the label the caller asks for, capped by
//! their clearance. TLP:RED never leaves. A record may name the partners and sharing groups
//! it is shared with ([`App::set_share_with`]): it then goes only to those partners, never into
//! a STIX bundle. TLP:AMBER+STRICT leaves only this way, for a partner organisation named on
//! the record ([`Audience::Partner`]). A partner also gets only the countries it is limited
//! to ([`ShareScope::countries`]), and what it was sent before that no longer crosses is sent
//! as a retraction ([`App::start_partner_share`], [`App::record_partner_send`]). Records other
//! than incidents (assessments, alerts, rumours, actions) are decided in
//! [`crate::share_items`], under the same scope.
//!
//! **What is received.** Incidents of another organisation's bundle, stored as incidents
//! labelled as their marking says, with where they came from ([`Received`]): once per origin
//! and original id; a later version time supersedes, an earlier or equal one changes nothing;
//! a retraction hides the incident from every view and its page says so. Received incidents
//! are read-only ([`App::refuse_if_received`]).

use std::collections::HashMap;

use tocsin_domain::share::{origin_name, Refusal, RECEIVED_DATASET_PREFIX};
use tocsin_domain::{
    AuditEvent, Country, Incident, IncidentFilter, IncomingIncident, Partner, Permission, Received,
    SentRecord, ShareWith, SharedIncident, Tlp, User, VerificationStatus,
};
use tocsin_store::{
    Op, ShareStep, Step, StoreError, StoreExt, VerificationStep, MAX_RECEIVED_LOOKUP,
};
use uuid::Uuid;

use crate::{require, visible, Acting, App, AppError, Result};

/// Who a share goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience<'a> {
    /// Anyone holding the file: a STIX bundle. Never above TLP:AMBER.
    Stix,
    /// A named partner organisation (Tocsin-to-Tocsin exchange): TLP:AMBER+STRICT records
    /// cross only when the record names this partner.
    Partner(&'a str),
}

impl Audience<'_> {
    /// The highest label this audience may ever receive.
    pub fn ceiling(self) -> Tlp {
        match self {
            Audience::Stix => Tlp::Amber,
            Audience::Partner(_) => Tlp::AmberStrict,
        }
    }
}

/// Whether incident `i`, naming `names` (its "shared with"), may cross to `audience` under
/// `scope`: verified, made here (not received), never TLP:RED; a record naming anyone goes
/// only to the partners it names (itself or through a group in [`ShareScope::groups`]), never
/// into a STIX bundle; TLP:AMBER+STRICT only to a partner so named, cleared at least for
/// TLP:AMBER, and when the exporter's clearance reaches it; any other label at most
/// [`ShareScope::max_tlp`].
pub fn may_cross(
    i: &Incident,
    names: &ShareWith,
    audience: Audience<'_>,
    scope: &ShareScope,
) -> bool {
    let received = i
        .dataset
        .as_deref()
        .is_some_and(|d| d.starts_with(RECEIVED_DATASET_PREFIX));
    let named = match audience {
        Audience::Stix => false,
        Audience::Partner(p) => names.names(p, &scope.groups),
    };
    if !names.is_empty() && !named {
        return false;
    }
    let label_ok = match i.tlp {
        Tlp::Red => false,
        Tlp::AmberStrict => {
            named && scope.clearance >= Tlp::AmberStrict && scope.max_tlp >= Tlp::Amber
        }
        t => t <= scope.max_tlp.min(audience.ceiling()),
    };
    label_ok && !received && i.verification_status == VerificationStatus::Verified
}

/// What an export asks for: the label ceiling and the incidents' filters.
#[derive(Debug, Clone)]
pub struct ShareScope {
    /// The countries a partner is limited to (empty: every one).
    pub countries: Vec<Country>,
    /// The highest label exported (capped by clearance and the audience).
    pub max_tlp: Tlp,
    /// The exporter's clearance (sources' grades are read at it).
    pub clearance: Tlp,
    /// The store's filter: verified incidents at most at `max_tlp` (for a partner, also
    /// TLP:AMBER+STRICT when the clearance reaches it: those naming the partner cross), with
    /// the caller's filters.
    pub filter: IncidentFilter,
    /// The sharing groups the partner is in (empty for a STIX bundle).
    pub groups: Vec<String>,
    /// The partners and groups each incident naming any is shared with.
    pub shares_with: std::sync::Arc<HashMap<Uuid, Vec<String>>>,
    /// The partner it goes to, whose redaction rules apply (none for a STIX bundle).
    pub partner: Option<Box<Partner>>,
}

/// An export to a partner under way: its scope, the partner, and what was sent to it before
/// (by record id).
#[derive(Debug, Clone)]
pub struct PartnerShare {
    /// What is read and how far.
    pub scope: ShareScope,
    /// To whom.
    pub partner: Partner,
    /// What it was sent before.
    pub sent: HashMap<Uuid, SentRecord>,
}

/// How a received bundle went.
#[derive(
    Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
pub struct ReceiveSummary {
    /// New records stored (incidents, and assessments, alerts, rumours and actions).
    pub created: u64,
    /// Records replaced by a later version.
    pub updated: u64,
    /// Records retracted by their origin (hidden from now on).
    pub retracted: u64,
    /// Objects already held at this version (or older), or retractions of what was never
    /// held: nothing changed.
    pub unchanged: u64,
    /// Objects of kinds Tocsin does not take (identities, indicators…).
    pub ignored: u64,
    /// Objects refused, each with its reason.
    pub refused: Vec<Refusal>,
}

/// What one batch of received records changed: counts, and the original ids it changed.
pub(crate) struct Counts {
    pub(crate) created: u64,
    pub(crate) updated: u64,
    pub(crate) retracted: u64,
    pub(crate) records: Vec<String>,
}

/// Why a received record labelled `tlp` is refused, if it is: above the clearance of whoever
/// imports it, or TLP:RED in a partner's bundle (`format` `tocsin`: TLP:RED never leaves its
/// organisation, so one arriving is the sender's mistake). A retraction is never refused.
pub(crate) fn refusal(revoked: bool, tlp: Tlp, clearance: Tlp, format: &str) -> Option<String> {
    if revoked {
        None
    } else if format == "tocsin" && tlp == Tlp::Red {
        Some("labelled TLP:RED, which never leaves its organisation".into())
    } else if tlp > clearance {
        Some(format!(
            "labelled {tlp}, above the clearance of whoever imports it ({clearance})"
        ))
    } else {
        None
    }
}

/// Incoming incidents handled per write.
const RECEIVE_BATCH: usize = 500;

impl App<'_> {
    /// Start an export for `who` to `audience`: the permission, the ceiling (`requested`,
    /// capped by their clearance and the audience), the filter (verified incidents only), and
    /// the export in the audit trail with `detail`.
    pub async fn start_share(
        &self,
        who: Acting<'_>,
        audience: Audience<'_>,
        requested: Tlp,
        mut filter: IncidentFilter,
        detail: serde_json::Value,
    ) -> Result<ShareScope> {
        who.require(Permission::ShareExport)?;
        let clearance = who.clearance();
        let max_tlp = requested.min(clearance).min(audience.ceiling());
        filter.max_tlp = match audience {
            Audience::Partner(_) if max_tlp >= Tlp::Amber => clearance.min(Tlp::AmberStrict),
            _ => max_tlp,
        };
        filter.verification_status = Some(VerificationStatus::Verified);
        filter.situation_id = None;
        let mut detail = detail;
        if let Some(m) = detail.as_object_mut() {
            m.insert("max_tlp".into(), max_tlp.as_str().into());
            m.insert(
                "audience".into(),
                match audience {
                    Audience::Stix => "stix".into(),
                    Audience::Partner(p) => format!("partner:{p}").into(),
                },
            );
        }
        self.store
            .audit(
                AuditEvent::new(&who.actor(), "share.export", "incident", None).with_detail(detail),
            )
            .await?;
        Ok(ShareScope {
            countries: Vec::new(),
            max_tlp,
            clearance,
            filter,
            groups: Vec::new(),
            shares_with: std::sync::Arc::new(self.store.shares_with().await?),
            partner: None,
        })
    }

    /// Start an export for `who` to the partner `name`: the partner's terms (its ceiling,
    /// capped by the caller's clearance; its countries), what was sent to it before (so what
    /// no longer crosses is sent as retracted), and the export in the audit trail.
    pub async fn start_partner_share(&self, who: Acting<'_>, name: &str) -> Result<PartnerShare> {
        self.start_partner_share_for(who, name, false).await
    }

    /// [`App::start_partner_share`]; `preview`: only to show an admin what would cross (the
    /// audit entry says so, nothing is sent).
    pub(crate) async fn start_partner_share_for(
        &self,
        who: Acting<'_>,
        name: &str,
        preview: bool,
    ) -> Result<PartnerShare> {
        who.require(Permission::ShareExport)?;
        let partner = self.partner_named(name).await?;
        let detail = serde_json::json!({ "partner": partner.name, "preview": preview });
        let mut scope = self
            .start_share(
                who,
                Audience::Partner(&partner.name),
                partner.max_tlp,
                IncidentFilter::default(),
                detail,
            )
            .await?;
        scope.countries = partner.countries.clone();
        scope.partner = Some(Box::new(partner.clone()));
        scope.groups = self
            .store
            .sharing_groups()
            .await?
            .into_iter()
            .filter(|g| g.members.contains(&partner.name))
            .map(|g| g.name)
            .collect();
        let sent = self.store.sent_to(&partner.name).await?;
        Ok(PartnerShare {
            scope,
            partner,
            sent,
        })
    }

    /// Remember what a bundle for a partner carried (so a later one retracts what no longer
    /// crosses) and put every record of it in the audit trail (`share.send`, in batches) with
    /// the partner, the bundle's SHA-256 and its signature.
    pub async fn record_partner_send(
        &self,
        who: Acting<'_>,
        partner: &Partner,
        records: Vec<SentRecord>,
        bundle_sha256: &str,
        signature: &str,
    ) -> Result<()> {
        who.require(Permission::ShareExport)?;
        if records.is_empty() {
            let audit = AuditEvent::new(&who.actor(), "share.send", "incident", None).with_detail(
                serde_json::json!({
                    "partner": partner.name,
                    "bundle_sha256": bundle_sha256,
                    "signature": signature,
                    "records": [],
                    "retracted": [],
                }),
            );
            self.store.audit(audit).await?;
            return Ok(());
        }
        for batch in records.chunks(RECEIVE_BATCH) {
            let ids = |retracted: bool| -> Vec<String> {
                batch
                    .iter()
                    .filter(|r| r.retracted_at.is_some() == retracted)
                    .map(|r| r.record_id.to_string())
                    .collect()
            };
            let audit = AuditEvent::new(&who.actor(), "share.send", "incident", None).with_detail(
                serde_json::json!({
                    "partner": partner.name,
                    "bundle_sha256": bundle_sha256,
                    "signature": signature,
                    "records": ids(false),
                    "retracted": ids(true),
                }),
            );
            self.store
                .write(
                    &who.actor(),
                    Op::All {
                        steps: vec![Step::Share(ShareStep::Sent(batch.to_vec()))],
                        audit: Box::new(audit),
                    },
                )
                .await?;
        }
        Ok(())
    }

    /// The partner `name` for receiving its bundle as `who` (who needs to import).
    pub async fn partner_for_import(&self, who: Acting<'_>, name: &str) -> Result<Partner> {
        who.require(Permission::ShareImport)?;
        self.partner_named(name).await
    }

    /// The part of a chunk of incidents (read with [`ShareScope::filter`]) that crosses,
    /// graded (the Admiralty grade of each one's best source at the exporter's clearance) and
    /// projected: nothing else of a record leaves.
    pub async fn share_chunk(
        &self,
        scope: &ShareScope,
        audience: Audience<'_>,
        chunk: Vec<Incident>,
    ) -> Result<Vec<SharedIncident>> {
        let mut keep: Vec<Incident> = chunk
            .into_iter()
            .filter(|i| {
                let names = ShareWith(scope.shares_with.get(&i.id).cloned().unwrap_or_default());
                may_cross(i, &names, audience, scope)
            })
            .filter(|i| scope.countries.is_empty() || scope.countries.contains(&i.country))
            .filter(|_| scope.partner.as_ref().is_none_or(|p| p.takes("incident")))
            .collect();
        self.grade_at(scope.clearance, &mut keep).await?;
        // Projected, then what the partner's rules withhold taken out.
        Ok(keep
            .iter()
            .map(SharedIncident::of)
            .map(|i| match &scope.partner {
                Some(p) => p.redacted(i),
                None => i,
            })
            .collect())
    }

    /// Store the incidents of another organisation's bundle, read by `who` from `origin`
    /// (`format` says how, e.g. `stix`). Each object is stored once per origin and original
    /// id; a later version time replaces it, an earlier or equal one changes nothing; a
    /// retraction hides it. Nobody receives a record above their own clearance (refused, named
    /// in the summary). Written in batches, each one write with its audit entry
    /// (`share.receive`, naming the origin and the counts): a failure leaves the earlier
    /// batches, and receiving the bundle again completes it.
    pub async fn receive_incidents(
        &self,
        who: Acting<'_>,
        origin: &str,
        format: &str,
        incoming: Vec<IncomingIncident>,
        summary: ReceiveSummary,
    ) -> Result<ReceiveSummary> {
        self.receive_incidents_from(
            who,
            origin,
            format,
            incoming,
            summary,
            serde_json::Value::Null,
        )
        .await
    }

    /// [`App::receive_incidents`], each batch's audit entry also carrying `provenance` (a
    /// partner bundle's hash and signature).
    pub async fn receive_incidents_from(
        &self,
        who: Acting<'_>,
        origin: &str,
        format: &str,
        incoming: Vec<IncomingIncident>,
        mut summary: ReceiveSummary,
        provenance: serde_json::Value,
    ) -> Result<ReceiveSummary> {
        who.require(Permission::ShareImport)?;
        let origin = origin_name(origin)?;
        let clearance = who.clearance();
        let mut incoming = incoming.into_iter();
        loop {
            let batch: Vec<IncomingIncident> = incoming
                .by_ref()
                .take(RECEIVE_BATCH.min(MAX_RECEIVED_LOOKUP))
                .collect();
            if batch.is_empty() {
                break;
            }
            self.receive_batch(
                who,
                clearance,
                (&origin, format, &provenance),
                batch,
                &mut summary,
            )
            .await?;
        }
        Ok(summary)
    }

    /// [`App::receive_incidents_from`] for a partner's bundle, already checked whole (signed by
    /// the partner's key, made for this installation): its incidents stored with the partner's
    /// name as origin, except any labelled TLP:RED, which is refused with the reason (TLP:RED
    /// never leaves its organisation, so one arriving is the sender's mistake).
    pub async fn receive_partner_incidents(
        &self,
        who: Acting<'_>,
        partner: &str,
        incoming: Vec<IncomingIncident>,
        summary: ReceiveSummary,
        provenance: serde_json::Value,
    ) -> Result<ReceiveSummary> {
        self.receive_incidents_from(who, partner, "tocsin", incoming, summary, provenance)
            .await
    }

    async fn receive_batch(
        &self,
        who: Acting<'_>,
        clearance: Tlp,
        (origin, format, provenance): (&str, &str, &serde_json::Value),
        batch: Vec<IncomingIncident>,
        summary: &mut ReceiveSummary,
    ) -> Result<()> {
        let mut records: Vec<String> = Vec::new();
        let ids: Vec<String> = batch.iter().map(|b| b.original_id.clone()).collect();
        let held: HashMap<String, Received> = self.store.received_by_original(origin, &ids).await?;
        let now = tocsin_domain::time::now();
        let mut steps = Vec::new();
        // New records are written together, in multi-row inserts.
        let (mut new_incidents, mut new_records) = (Vec::new(), Vec::new());
        let (mut created, mut updated, mut retracted) = (0u64, 0u64, 0u64);
        for inc in batch {
            if let Some(reason) = refusal(inc.revoked, inc.incident.tlp, clearance, format) {
                summary.refused.push(Refusal {
                    id: inc.original_id,
                    reason,
                });
                continue;
            }
            let record = |id: Uuid, tlp: Tlp, received_at, retracted_at| Received {
                record_id: id,
                kind: "incident".into(),
                origin: origin.to_string(),
                original_id: inc.original_id.clone(),
                format: format.to_string(),
                modified: inc.modified,
                tlp,
                received_at,
                retracted_at,
            };
            match held.get(&inc.original_id) {
                None if inc.revoked => summary.unchanged += 1,
                None => {
                    let mut i = inc.incident.clone();
                    i.id = tocsin_domain::new_id();
                    i.dataset = Some(format!("{RECEIVED_DATASET_PREFIX}{origin}"));
                    i.external_id = Some(inc.original_id.clone());
                    i.verification_status = VerificationStatus::Unverified;
                    i.version = 1;
                    new_records.push(record(i.id, i.tlp, now, None));
                    new_incidents.push(i);
                    records.push(inc.original_id.clone());
                    created += 1;
                }
                Some(r) if r.retracted_at.is_some() => summary.unchanged += 1,
                Some(r) if inc.revoked => {
                    let current = self.store.get_incident(r.record_id).await?;
                    steps.push(Step::Share(ShareStep::Retract {
                        incident_id: r.record_id,
                        at: now,
                        version: current.version + 1,
                    }));
                    let mut rec = record(r.record_id, r.tlp, r.received_at, Some(now));
                    rec.modified = inc.modified.max(r.modified);
                    steps.push(Step::Share(ShareStep::Receive(Box::new(rec))));
                    records.push(inc.original_id.clone());
                    retracted += 1;
                }
                Some(r) if inc.modified <= r.modified => summary.unchanged += 1,
                Some(r) => {
                    let current = self.store.get_incident(r.record_id).await?;
                    let mut i = inc.incident.clone();
                    i.id = current.id;
                    i.dataset = current.dataset.clone();
                    i.external_id = current.external_id.clone();
                    i.verification_status = current.verification_status;
                    i.created_at = current.created_at;
                    i.updated_at = now;
                    i.version = current.version + 1;
                    steps.push(Step::Verification(VerificationStep::ReplaceIncident {
                        incident: Box::new(i.clone()),
                        expected_version: current.version,
                    }));
                    steps.push(Step::Share(ShareStep::Receive(Box::new(record(
                        i.id,
                        i.tlp,
                        r.received_at,
                        None,
                    )))));
                    records.push(inc.original_id.clone());
                    updated += 1;
                }
            }
        }
        if !new_incidents.is_empty() {
            steps.insert(0, Step::Share(ShareStep::ReceiveAll(new_records)));
            steps.insert(
                0,
                Step::Verification(VerificationStep::CreateIncidents(new_incidents)),
            );
        }
        let counts = Counts {
            created,
            updated,
            retracted,
            records,
        };
        self.write_received(
            who,
            "incident",
            (origin, format, provenance),
            steps,
            counts,
            summary,
        )
        .await
    }

    /// Write one batch of received records (`target`: `incident` or `item`) in one write with
    /// its `share.receive` audit entry (origin, format, counts, the original ids it changed,
    /// and `provenance`: a partner bundle's hash and signature), then add its counts to
    /// `summary`. Nothing to write, nothing written.
    pub(crate) async fn write_received(
        &self,
        who: Acting<'_>,
        target: &str,
        (origin, format, provenance): (&str, &str, &serde_json::Value),
        steps: Vec<Step>,
        counts: Counts,
        summary: &mut ReceiveSummary,
    ) -> Result<()> {
        if steps.is_empty() {
            return Ok(());
        }
        let mut detail = serde_json::json!({
            "origin": origin,
            "format": format,
            "created": counts.created,
            "updated": counts.updated,
            "retracted": counts.retracted,
            "records": counts.records,
        });
        if let (Some(d), Some(p)) = (detail.as_object_mut(), provenance.as_object()) {
            d.extend(p.clone());
        }
        let audit =
            AuditEvent::new(&who.actor(), "share.receive", target, None).with_detail(detail);
        self.store
            .write(
                &who.actor(),
                Op::All {
                    steps,
                    audit: Box::new(audit),
                },
            )
            .await?;
        summary.created += counts.created;
        summary.updated += counts.updated;
        summary.retracted += counts.retracted;
        Ok(())
    }

    /// Where the incident `id` came from, for `u` who may see it (`None`: made here).
    pub async fn incident_origin(&self, u: &User, id: Uuid) -> Result<Option<Received>> {
        require(u, Permission::IncidentRead)?;
        match self.store.received(id).await? {
            Some(r) => {
                visible(u, r.tlp)?;
                Ok(Some(r))
            }
            None => Ok(None),
        }
    }

    /// Refuse `u` a change to an incident received from another organisation: it is theirs,
    /// and read-only here. (One above their clearance is left to the caller's "not found".)
    pub async fn refuse_if_received(&self, u: &User, id: Uuid) -> Result<()> {
        match self.store.received(id).await {
            Ok(Some(r)) if u.may_see(r.tlp) => Err(AppError::refused(format!(
                "this incident was received from {} ({}); it is read-only here",
                r.origin, r.original_id
            ))),
            Ok(_) | Err(StoreError::NotFound) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tocsin_domain::IncidentInput;

    fn incident(tlp: Tlp, status: VerificationStatus) -> Incident {
        let mut i = Incident::parse(IncidentInput {
            event_date: "2025-03-01".into(),
            event_type: "Violence against civilians".into(),
            sub_event_type: "Attack".into(),
            country: "CAF".into(),
            latitude: 6.1,
            longitude: 20.9,
            fatalities: 3,
            description: "Village attacked".into(),
            tlp,
            ..Default::default()
        })
        .unwrap();
        i.verification_status = status;
        i
    }

    fn scope(max: Tlp, clearance: Tlp, groups: &[&str]) -> ShareScope {
        ShareScope {
            countries: Vec::new(),
            max_tlp: max,
            clearance,
            filter: IncidentFilter::default(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            shares_with: Default::default(),
            partner: None,
        }
    }

    #[test]
    fn what_may_cross() {
        use VerificationStatus::*;
        let stix = Audience::Stix;
        let partner = Audience::Partner("UN office");
        let none = ShareWith::default();
        let at = |max| scope(max, Tlp::Red, &[]);
        for t in [Tlp::Clear, Tlp::Green, Tlp::Amber] {
            assert!(
                may_cross(&incident(t, Verified), &none, stix, &at(Tlp::Amber)),
                "{t}"
            );
            assert!(
                may_cross(
                    &incident(t, Verified),
                    &none,
                    partner,
                    &at(Tlp::AmberStrict)
                ),
                "{t}"
            );
        }
        // Never RED; AMBER+STRICT never in STIX, nor to a partner the record does not name.
        for a in [stix, partner] {
            assert!(!may_cross(
                &incident(Tlp::Red, Verified),
                &none,
                a,
                &at(Tlp::Red)
            ));
            assert!(!may_cross(
                &incident(Tlp::AmberStrict, Verified),
                &none,
                a,
                &at(Tlp::Red)
            ));
        }
        // The ceiling.
        assert!(!may_cross(
            &incident(Tlp::Amber, Verified),
            &none,
            stix,
            &at(Tlp::Green)
        ));
        // Only verified incidents.
        for s in [Unverified, Corroborated, Disputed, Refuted] {
            assert!(
                !may_cross(&incident(Tlp::Clear, s), &none, stix, &at(Tlp::Amber)),
                "{s:?}"
            );
        }
        // Never one received from elsewhere.
        let mut r = incident(Tlp::Clear, Verified);
        r.dataset = Some(format!("{RECEIVED_DATASET_PREFIX}Partner"));
        assert!(!may_cross(&r, &none, stix, &at(Tlp::Amber)));
        assert_eq!(stix.ceiling(), Tlp::Amber);
    }

    #[test]
    fn a_record_naming_partners_goes_only_to_them() {
        use VerificationStatus::Verified;
        let (un, ngo) = (Audience::Partner("UN office"), Audience::Partner("NGO"));
        let strict = incident(Tlp::AmberStrict, Verified);
        let green = incident(Tlp::Green, Verified);
        let names_un = ShareWith(vec!["UN office".into()]);
        let names_group = ShareWith(vec!["Focal points".into()]);
        let amber = scope(Tlp::Amber, Tlp::Red, &[]);
        // AMBER+STRICT naming the partner reaches it (cleared for AMBER), not another.
        assert!(may_cross(&strict, &names_un, un, &amber));
        assert!(!may_cross(&strict, &names_un, ngo, &amber));
        // Through a group the partner is in.
        assert!(may_cross(
            &strict,
            &names_group,
            un,
            &scope(Tlp::Amber, Tlp::Red, &["Focal points"])
        ));
        assert!(!may_cross(&strict, &names_group, un, &amber));
        // Not to a partner cleared below AMBER, nor by an exporter cleared below AMBER+STRICT.
        assert!(!may_cross(
            &strict,
            &names_un,
            un,
            &scope(Tlp::Green, Tlp::Red, &[])
        ));
        assert!(!may_cross(
            &strict,
            &names_un,
            un,
            &scope(Tlp::Amber, Tlp::Amber, &[])
        ));
        // A GREEN record naming a partner: only to it, and never into STIX.
        assert!(may_cross(&green, &names_un, un, &amber));
        assert!(!may_cross(&green, &names_un, ngo, &amber));
        assert!(!may_cross(&green, &names_un, Audience::Stix, &amber));
        // RED never, named or not.
        assert!(!may_cross(
            &incident(Tlp::Red, Verified),
            &names_un,
            un,
            &scope(Tlp::AmberStrict, Tlp::Red, &[])
        ));
    }
}
