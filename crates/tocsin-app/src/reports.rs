//! Reports: list and read (at the caller's clearance, audited), create through the API.

use tocsin_domain::{
    Channel, NewReport, Page, PageRequest, Permission, Report, ReportFilter, ReportInput, User,
};
use tocsin_store::{StoreError, StoreExt};
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
        let page = self.store.list_reports(&f, page).await?;
        reads::list(
            self.store,
            u,
            "report",
            page.items.iter().map(|r| (r.id, r.tlp)),
        )
        .await?;
        Ok(page)
    }

    /// A report `u` may see; the read of a restricted one is audited.
    pub async fn get_report(&self, u: &User, id: Uuid) -> Result<Report> {
        require(u, Permission::ReportRead)?;
        let r = self.store.get_report(id).await?;
        visible(u, r.tlp)?;
        reads::one(self.store, u, "report", r.id, r.tlp).await?;
        Ok(r)
    }

    /// Record a report sent in by `u` over `channel`. A source handle above their clearance
    /// is refused as one that does not exist.
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
        Ok(self.store.create_report(&u.actor(), r).await?)
    }
}
