//! Incidents: list, read, create, update and verify, at the caller's clearance.

use tocsin_domain::{
    Incident, IncidentFilter, IncidentInput, IncidentPatch, Page, PageRequest, Permission, User,
    VerificationStatus,
};
use tocsin_store::{StoreError, StoreExt};
use uuid::Uuid;

use crate::{may_label, reads, require, visible, App, AppError, Result};

/// Why a plain edit may not set the verification status.
pub const NOT_BY_EDIT: &str = "the verification status is changed only through \
     POST /api/v1/incidents/{id}/verification (or the incident page's verification panel), \
     with a state and a reason; a new incident starts unverified";

impl App<'_> {
    /// One page of the incidents matching `f` that `u` may see (the filter is capped at their
    /// clearance), each with only the linked reports they may read; the listing of restricted
    /// ones is audited.
    pub async fn list_incidents(
        &self,
        u: &User,
        mut f: IncidentFilter,
        page: PageRequest,
    ) -> Result<Page<Incident>> {
        require(u, Permission::IncidentRead)?;
        f.max_tlp = f.max_tlp.min(u.clearance);
        // Incidents of a situation above one's clearance: as of one that does not exist.
        if let Some(s) = f.situation_id {
            if !self.situation_seen(u, s).await? {
                return Ok(Page {
                    items: vec![],
                    next_cursor: None,
                });
            }
        }
        let mut page = self.incidents.list(self.store, &f, page).await?;
        reads::list(
            self.store,
            u,
            "incident",
            page.items.iter().map(|i| (i.id, i.tlp)),
        )
        .await?;
        for i in &mut page.items {
            self.links_seen(u, i).await?;
        }
        self.grade_incidents(u, &mut page.items).await?;
        Ok(page)
    }

    /// How many incidents matching `f` `u` may see (the filter is capped at their clearance;
    /// a situation above it has none).
    pub async fn count_incidents(&self, u: &User, mut f: IncidentFilter) -> Result<u64> {
        require(u, Permission::IncidentRead)?;
        f.max_tlp = f.max_tlp.min(u.clearance);
        if let Some(s) = f.situation_id {
            if !self.situation_seen(u, s).await? {
                return Ok(0);
            }
        }
        Ok(self.incidents.count(self.store, &f).await?)
    }

    /// An incident `u` may see, with only the linked reports they may read; the read of a
    /// restricted one is audited.
    pub async fn get_incident(&self, u: &User, id: Uuid) -> Result<Incident> {
        require(u, Permission::IncidentRead)?;
        let mut i = self.store.get_incident(id).await?;
        visible(u, i.tlp)?;
        reads::one(self.store, u, "incident", i.id, i.tlp).await?;
        self.links_seen(u, &mut i).await?;
        self.grade_incidents(u, std::slice::from_mut(&mut i))
            .await?;
        Ok(i)
    }

    /// An incident as `u` opens it to edit (they must be allowed to update incidents); the
    /// read is audited like any other.
    pub async fn incident_to_edit(&self, u: &User, id: Uuid) -> Result<Incident> {
        require(u, Permission::IncidentUpdate)?;
        let mut i = self.store.get_incident(id).await?;
        visible(u, i.tlp)?;
        reads::one(self.store, u, "incident", i.id, i.tlp).await?;
        self.links_seen(u, &mut i).await?;
        Ok(i)
    }

    /// Record an incident. Nobody labels one above their own clearance, nor links it to a
    /// situation or report they may not see (refused as one that does not exist). It starts
    /// unverified (a status is moved only through [`App::set_verification`], with a reason);
    /// reports from two or more independent sources corroborate it in the same write.
    pub async fn create_incident(&self, u: &User, input: IncidentInput) -> Result<Incident> {
        require(u, Permission::IncidentCreate)?;
        if input
            .verification_status
            .is_some_and(|v| v != VerificationStatus::Unverified)
        {
            return Err(AppError::invalid("verification_status", NOT_BY_EDIT));
        }
        let i = Incident::parse(input)?;
        may_label(u, i.tlp)?;
        self.may_link(u, i.situation_id, &i.report_ids).await?;
        let mut i = self.write_new_incident(u, i).await?;
        self.links_seen(u, &mut i).await?;
        self.grade_incidents(u, std::slice::from_mut(&mut i))
            .await?;
        Ok(i)
    }

    /// Change an incident `u` may see; a new label must be within their clearance, a new
    /// situation or linked report one they may see. The reports it names replace those `u`
    /// was shown; links to reports they may not see stay. Answers the incident as `u` sees it.
    pub async fn update_incident(
        &self,
        u: &User,
        id: Uuid,
        mut patch: IncidentPatch,
    ) -> Result<Incident> {
        require(u, Permission::IncidentUpdate)?;
        let mut current = self.store.get_incident(id).await?;
        visible(u, current.tlp)?;
        self.refuse_if_received(u, id).await?;
        // The status moves only through the state machine, by a named person with a reason;
        // sending the status it already has (an edit form sending all fields back) is no change.
        match patch.verification_status.take() {
            Some(v) if v != current.verification_status => {
                return Err(AppError::invalid("verification_status", NOT_BY_EDIT))
            }
            _ => {}
        }
        if let Some(t) = patch.tlp {
            may_label(u, t)?;
        }
        self.may_link(
            u,
            patch.situation_id,
            patch.report_ids.as_deref().unwrap_or_default(),
        )
        .await?;
        if let Some(ids) = &mut patch.report_ids {
            let mut shown = current.clone();
            self.linked_reports_seen(u, &mut shown).await?;
            for hidden in current
                .report_ids
                .iter()
                .filter(|r| !shown.report_ids.contains(r))
            {
                if !ids.contains(hidden) {
                    ids.push(*hidden);
                }
            }
        }
        let audit = tocsin_store::audit_for(
            &u.actor(),
            &tocsin_store::Op::UpdateIncident(id, Box::new(patch.clone())),
        )
        .expect("incident updates are audited");
        // Read, change in the domain and write guarded by the version read; a change that came
        // in between makes it read and apply the patch again (as the store's own update did).
        let mut tries = 0;
        let mut i = loop {
            let mut next = current.clone();
            next.apply(patch.clone())?;
            match self
                .write_incident_change(u, &current, next, audit.clone())
                .await
            {
                Err(AppError::Conflict(_)) if tries < 3 => {
                    tries += 1;
                    current = self.store.get_incident(id).await?;
                    visible(u, current.tlp)?;
                }
                r => break r?,
            }
        };
        self.links_seen(u, &mut i).await?;
        self.grade_incidents(u, std::slice::from_mut(&mut i))
            .await?;
        Ok(i)
    }

    /// Whether `u` may see the situation `id` (false for one that does not exist).
    async fn situation_seen(&self, u: &User, id: Uuid) -> Result<bool> {
        if !u.can(Permission::SituationRead) {
            return Ok(false);
        }
        match self.store.get_situation(id).await {
            Ok(s) => Ok(u.may_see(s.tlp)),
            Err(StoreError::NotFound) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Refuse links `u` may not make: a situation or a report they may not see answers as
    /// one that does not exist, naming the field.
    async fn may_link(&self, u: &User, situation: Option<Uuid>, reports: &[Uuid]) -> Result<()> {
        if let Some(s) = situation {
            if !self.situation_seen(u, s).await? {
                return Err(AppError::invalid("situation_id", "no such situation"));
            }
        }
        for id in reports {
            let seen = u.can(Permission::ReportRead)
                && match self.store.get_report(*id).await {
                    Ok(r) => u.may_see(r.tlp),
                    Err(StoreError::NotFound) => false,
                    Err(e) => return Err(e.into()),
                };
            if !seen {
                return Err(AppError::invalid("report_ids", "no such report"));
            }
        }
        Ok(())
    }

    /// What `u` is shown of an incident's links: the reports they may read
    /// ([`App::linked_reports_seen`]) and its situation only if they may see it (a situation's
    /// id is time-ordered: it would tell when one above their clearance was opened).
    pub async fn links_seen(&self, u: &User, i: &mut Incident) -> Result<()> {
        if let Some(s) = i.situation_id {
            if !self.situation_seen(u, s).await? {
                i.situation_id = None;
            }
        }
        self.linked_reports_seen(u, i).await
    }

    /// Keep only the linked reports `u` may read: none without the permission to read reports,
    /// else those at or below their clearance, so the count of links reveals no hidden report.
    pub async fn linked_reports_seen(&self, u: &User, i: &mut Incident) -> Result<()> {
        if !u.can(Permission::ReportRead) {
            i.report_ids.clear();
            return Ok(());
        }
        let mut seen = Vec::with_capacity(i.report_ids.len());
        for id in &i.report_ids {
            match self.store.get_report(*id).await {
                Ok(r) if u.may_see(r.tlp) => seen.push(*id),
                Ok(_) | Err(StoreError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
        i.report_ids = seen;
        Ok(())
    }

    /// Start an export for `u`: the filter capped at their clearance (a situation they may not
    /// see matches nothing), and the export recorded
    /// in the audit trail with `detail` (the query as asked).
    pub async fn start_export(
        &self,
        u: &User,
        mut f: IncidentFilter,
        detail: serde_json::Value,
    ) -> Result<IncidentFilter> {
        require(u, Permission::IncidentRead)?;
        f.max_tlp = f.max_tlp.min(u.clearance);
        // Incidents of a situation above one's clearance: as of one that does not exist (the
        // nil id, which no situation has).
        if let Some(s) = f.situation_id {
            if !self.situation_seen(u, s).await? {
                f.situation_id = Some(Uuid::nil());
            }
        }
        self.store
            .audit(
                tocsin_domain::AuditEvent::new(&u.actor(), "incident.export", "incident", None)
                    .with_detail(detail),
            )
            .await?;
        Ok(f)
    }
}
