//! Reports: list and read (at the caller's clearance, audited), create through the API.

use tocsin_domain::{
    Channel, NewReport, Page, PageRequest, Permission, Report, ReportFilter, ReportInput, User,
};
use tocsin_store::{Op, Step, StoreError};
use uuid::Uuid;

use crate::{reads, require, visible, App, AppError, Result};

impl App<'_> {
    /// One page of the reports matching `f` that `u` may see (the filter is capped at their
    /// clearance); the listing of restricted ones is audited.
    pub async fn list_reports(
        &self,
        u: &User,
        mut f: ReportFilter,
        page: PageRequest,
    ) -> Result<Page<Report>> {
        require(u, Permission::ReportRead)?;
        f.max_tlp = f.max_tlp.min(u.clearance);
        let mut page = self.store.list_reports(&f, page).await?;
        reads::list(
            self.store,
            u,
            "report",
            page.items.iter().map(|r| (r.id, r.tlp)),
        )
        .await?;
        let mut seen = std::collections::HashMap::new();
        for r in &mut page.items {
            self.source_seen(u, r, &mut seen).await?;
        }
        self.grade_reports(u, &mut page.items).await?;
        Ok(page)
    }

    /// A report `u` may see; the read of a restricted one is audited.
    pub async fn get_report(&self, u: &User, id: Uuid) -> Result<Report> {
        require(u, Permission::ReportRead)?;
        let mut r = self.store.get_report(id).await?;
        visible(u, r.tlp)?;
        reads::one(self.store, u, "report", r.id, r.tlp).await?;
        self.source_seen(u, &mut r, &mut Default::default()).await?;
        self.grade_reports(u, std::slice::from_mut(&mut r)).await?;
        Ok(r)
    }

    /// Name a report's source only to one who may see the source: a handle ties together every
    /// report of one warner, so a report labelled below its source shows none above the
    /// reader's clearance. `seen` remembers the handles already looked up.
    async fn source_seen(
        &self,
        u: &User,
        r: &mut Report,
        seen: &mut std::collections::HashMap<String, bool>,
    ) -> Result<()> {
        let Some(h) = r.source.clone() else {
            return Ok(());
        };
        let shown = match seen.get(&h) {
            Some(s) => *s,
            None => {
                let s = match self.store.get_source_by_handle(&h).await {
                    Ok(s) => u.may_see(s.tlp),
                    Err(StoreError::NotFound) => false,
                    Err(e) => return Err(e.into()),
                };
                seen.insert(h, s);
                s
            }
        };
        if !shown {
            r.source = None;
        }
        Ok(())
    }

    /// Record a report sent in by `u` over `channel`, with its dangerous-speech flags in the
    /// same write. A source handle above their clearance is refused as one that does not exist.
    pub async fn create_report(
        &self,
        u: &User,
        input: ReportInput,
        channel: Channel,
    ) -> Result<Report> {
        require(u, Permission::ReportCreate)?;
        let handle = input
            .source
            .as_deref()
            .map(str::trim)
            .filter(|h| !h.is_empty());
        let source_id = match handle {
            Some(h) => match self.store.get_source_by_handle(h).await {
                Ok(s) if u.may_see(s.tlp) => Some(s.id),
                Ok(_) | Err(StoreError::NotFound) => {
                    return Err(AppError::invalid("source", "no source has this handle"))
                }
                Err(e) => return Err(e.into()),
            },
            None => None,
        };
        let r = NewReport::parse(input, channel, source_id)?;
        // The report and its dangerous-speech flags in one write, audited as a report's creation.
        let actor = u.actor();
        let audit = tocsin_store::audit_for(&actor, &Op::CreateReport(r.clone()))
            .ok_or_else(|| AppError::Internal("a report's creation has no audit entry".into()))?;
        let mut steps = vec![Step::CreateReport {
            report: Box::new(r.clone()),
            unless_text_since: None,
        }];
        steps.extend(crate::flags::scan_steps(&**self.store, &r).await?);
        self.store
            .write(
                &actor,
                Op::All {
                    steps,
                    audit: Box::new(audit),
                },
            )
            .await?;
        let mut r = self.store.get_report(r.id).await?;
        self.grade_reports(u, std::slice::from_mut(&mut r)).await?;
        Ok(r)
    }
}
