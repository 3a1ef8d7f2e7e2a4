//! Tags on incidents and reports (what evidence suggestions are drawn from).

use tocsin_domain::evidence::normalize_tags;
use tocsin_domain::{Permission, Tagged, User};
use tocsin_store::Op;
use uuid::Uuid;

use crate::{require, visible, App, AppError, Result};

impl App<'_> {
    async fn tagged_tlp(&self, kind: Tagged, id: Uuid) -> Result<tocsin_domain::Tlp> {
        Ok(match kind {
            Tagged::Incident => self.store.get_incident(id).await?.tlp,
            Tagged::Report => self.store.get_report(id).await?.tlp,
        })
    }

    /// Replace the tags of an incident (needs to update incidents) or a report (needs to
    /// create incidents from reports) `u` may see; returns the tags as stored.
    pub async fn set_tags(
        &self,
        u: &User,
        kind: Tagged,
        id: Uuid,
        tags: &[String],
    ) -> Result<Vec<String>> {
        require(
            u,
            match kind {
                Tagged::Incident => Permission::IncidentUpdate,
                Tagged::Report => Permission::IncidentCreate,
            },
        )?;
        visible(u, self.tagged_tlp(kind, id).await?)?;
        let tags = normalize_tags(tags)?;
        self.store
            .write(
                &u.actor(),
                Op::SetTags {
                    kind,
                    id,
                    tags: tags.clone(),
                },
            )
            .await?;
        Ok(tags)
    }

    /// The tags of an incident or report `u` may read.
    pub async fn get_tags(&self, u: &User, kind: Tagged, id: Uuid) -> Result<Vec<String>> {
        let need = match kind {
            Tagged::Incident => Permission::IncidentRead,
            Tagged::Report => Permission::ReportRead,
        };
        if !u.can(need) {
            return Err(AppError::forbidden(need));
        }
        visible(u, self.tagged_tlp(kind, id).await?)?;
        let mut m = self.store.get_tags(kind, &[id]).await?;
        Ok(m.remove(&id).unwrap_or_default())
    }
}
