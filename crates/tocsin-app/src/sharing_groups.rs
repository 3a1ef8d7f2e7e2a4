//! Sharing groups (several partners under one name) and who a record is shared with.
//!
//! Admins make groups, change their members and remove them ([`Permission::PartnerManage`]); a group's members are
//! partners, and a group cannot take a partner's name (nor a partner a group's), so a name on
//! a record means one thing. Analysts who share ([`Permission::ShareExport`]) name, on an
//! incident made here that they can see, the partners and groups it is shared with
//! ([`App::set_share_with`]): it then crosses only to those partners, never into a STIX
//! bundle, and TLP:AMBER+STRICT crosses only this way ([`crate::share::may_cross`]). Removing
//! a partner or a group removes its name from every group and record, so a partner added later
//! under the same name is not sent what named the earlier one. Every change is audited.

use tocsin_domain::{AuditEvent, Permission, SharingGroup, SharingGroupInput, Tlp};
use tocsin_store::{Op, ShareStep, Step};
use uuid::Uuid;

use crate::{Acting, App, AppError, Result};

impl App<'_> {
    /// Make a sharing group for `who` (admins): its members must be partners, its name must be
    /// no partner's; a conflict when a group of that name exists.
    pub async fn add_sharing_group(
        &self,
        who: Acting<'_>,
        input: SharingGroupInput,
    ) -> Result<SharingGroup> {
        who.require(Permission::PartnerManage)?;
        let g = SharingGroup::parse(input, tocsin_domain::time::now())?;
        let partners = self.store.partners().await?;
        if partners.iter().any(|p| p.name == g.name) {
            return Err(AppError::bad_field(
                "name",
                format!("{:?} is a partner's name: give the group another", g.name),
            ));
        }
        if let Some(m) = g
            .members
            .iter()
            .find(|m| !partners.iter().any(|p| &p.name == *m))
        {
            return Err(AppError::bad_field(
                "members",
                format!("no partner named {m:?}: add the partner first"),
            ));
        }
        let audit = AuditEvent::new(&who.actor(), "sharing_group.add", "sharing_group", None)
            .with_detail(serde_json::json!({ "name": g.name, "members": g.members }));
        self.store
            .write(
                &who.actor(),
                Op::All {
                    steps: vec![Step::Share(ShareStep::AddGroup(Box::new(g.clone())))],
                    audit: Box::new(audit),
                },
            )
            .await?;
        Ok(g)
    }

    /// Replace the members of the sharing group `name` (admins): at least one, each a partner.
    /// Audited with the members before and after.
    pub async fn set_sharing_group_members(
        &self,
        who: Acting<'_>,
        name: &str,
        members: &[String],
    ) -> Result<SharingGroup> {
        who.require(Permission::PartnerManage)?;
        let groups = self.store.sharing_groups().await?;
        let before = groups
            .iter()
            .find(|g| g.name == name.trim())
            .ok_or(AppError::NotFound)?;
        let g = SharingGroup::parse(
            SharingGroupInput {
                name: before.name.clone(),
                members: members.to_vec(),
            },
            before.created_at,
        )?;
        let partners = self.store.partners().await?;
        if let Some(m) = g
            .members
            .iter()
            .find(|m| !partners.iter().any(|p| &p.name == *m))
        {
            return Err(AppError::bad_field(
                "members",
                format!("no partner named {m:?}: add the partner first"),
            ));
        }
        let audit = AuditEvent::new(&who.actor(), "sharing_group.members", "sharing_group", None)
            .with_detail(serde_json::json!({
                "name": g.name, "before": before.members, "after": g.members,
            }));
        self.store
            .write(
                &who.actor(),
                Op::All {
                    steps: vec![Step::Share(ShareStep::GroupMembers {
                        name: g.name.clone(),
                        members: g.members.clone(),
                    })],
                    audit: Box::new(audit),
                },
            )
            .await?;
        Ok(g)
    }

    /// The sharing groups, by name, for admins and for analysts who share (who pick them on
    /// a record).
    pub async fn sharing_groups(&self, who: Acting<'_>) -> Result<Vec<SharingGroup>> {
        if who.require(Permission::ShareExport).is_err() {
            who.require(Permission::PartnerManage)?;
        }
        Ok(self.store.sharing_groups().await?)
    }

    /// Remove the sharing group `name` (admins), and its name from every record.
    pub async fn remove_sharing_group(&self, who: Acting<'_>, name: &str) -> Result<()> {
        who.require(Permission::PartnerManage)?;
        let audit = AuditEvent::new(&who.actor(), "sharing_group.remove", "sharing_group", None)
            .with_detail(serde_json::json!({ "name": name.trim() }));
        self.store
            .write(
                &who.actor(),
                Op::All {
                    steps: vec![Step::Share(ShareStep::RemoveGroup(name.trim().to_string()))],
                    audit: Box::new(audit),
                },
            )
            .await?;
        Ok(())
    }

    /// The incident `id` as `who` may name partners on: they share, they can see it, and it was
    /// made here (a received one is read-only).
    async fn incident_to_share(
        &self,
        who: Acting<'_>,
        id: Uuid,
    ) -> Result<tocsin_domain::Incident> {
        who.require(Permission::ShareExport)?;
        let clearance = match who {
            Acting::User(u) => u.clearance,
            Acting::Operator(_) => Tlp::Red,
        };
        let i = self.store.get_incident(id).await?;
        if i.tlp > clearance {
            // Not "forbidden": that would say a record exists above their clearance.
            return Err(AppError::NotFound);
        }
        if let Acting::User(u) = who {
            self.refuse_if_received(u, id).await?;
        } else if self.store.received(id).await?.is_some() {
            return Err(AppError::bad_field(
                "incident",
                "this incident was received from a partner; it is read-only here",
            ));
        }
        Ok(i)
    }

    /// The names a record can be shared with, for analysts who share: the partners' and the
    /// sharing groups', each by name.
    pub async fn share_targets(&self, who: Acting<'_>) -> Result<(Vec<String>, Vec<String>)> {
        who.require(Permission::ShareExport)?;
        let partners = self
            .store
            .partners()
            .await?
            .into_iter()
            .map(|p| p.name)
            .collect();
        let groups = self
            .store
            .sharing_groups()
            .await?
            .into_iter()
            .map(|g| g.name)
            .collect();
        Ok((partners, groups))
    }

    /// The partners and groups the incident `id` is shared with (empty: whoever its label
    /// allows), for analysts who share and can see it.
    pub async fn share_with(&self, who: Acting<'_>, id: Uuid) -> Result<Vec<String>> {
        self.incident_to_share(who, id).await?;
        Ok(self.store.share_with(id).await?)
    }

    /// Name the partners and groups the incident `id` is shared with (replacing what it named;
    /// none: whoever its label allows), for analysts who share and can see it. Each name must
    /// be a partner's or a group's. Audited with the names before and after.
    pub async fn set_share_with(
        &self,
        who: Acting<'_>,
        id: Uuid,
        names: &[String],
    ) -> Result<Vec<String>> {
        self.incident_to_share(who, id).await?;
        let names = tocsin_domain::share::share_names(names, "share_with")?;
        let partners = self.store.partners().await?;
        let groups = self.store.sharing_groups().await?;
        if let Some(n) = names.iter().find(|n| {
            !partners.iter().any(|p| &p.name == *n) && !groups.iter().any(|g| &g.name == *n)
        }) {
            return Err(AppError::bad_field(
                "share_with",
                format!("no partner nor sharing group named {n:?}"),
            ));
        }
        let before = self.store.share_with(id).await?;
        let audit = AuditEvent::new(
            &who.actor(),
            "incident.share_with",
            "incident",
            Some(id.to_string()),
        )
        .with_detail(serde_json::json!({ "before": before, "after": names }));
        self.store
            .write(
                &who.actor(),
                Op::All {
                    steps: vec![Step::Share(ShareStep::ShareWith {
                        incident_id: id,
                        names: names.clone(),
                    })],
                    audit: Box::new(audit),
                },
            )
            .await?;
        Ok(names)
    }
}
