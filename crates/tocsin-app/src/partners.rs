//! Partner organisations (another organisation's Tocsin) and this installation's signing key.
//!
//! Admins add, list and remove partners ([`Permission::PartnerManage`]); every change is in the
//! audit trail. The signing key is made once, on first use, and kept only sealed with a key
//! derived from the contact key ([`SigningKey::seal`]); its public half is what partners add.

use tocsin_domain::{AuditEvent, Partner, PartnerInput, Permission, PublicKey, SigningKey};
use tocsin_store::{Op, ShareStep, Step};

use crate::{Acting, App, AppError, Result};

impl App<'_> {
    /// Add a partner for `who` (admins): checked ([`Partner::parse`]: never TLP:RED), refused
    /// as a conflict when one of that name exists.
    pub async fn add_partner(&self, who: Acting<'_>, input: PartnerInput) -> Result<Partner> {
        who.require(Permission::PartnerManage)?;
        let p = Partner::parse(input, tocsin_domain::time::now())?;
        let audit = AuditEvent::new(&who.actor(), "partner.add", "partner", None).with_detail(
            serde_json::json!({
                "name": p.name,
                "url": p.url,
                "public_key": p.public_key,
                "max_tlp": p.max_tlp.as_str(),
                "countries": p.countries,
            }),
        );
        self.store
            .write(
                &who.actor(),
                Op::All {
                    steps: vec![Step::Share(ShareStep::AddPartner(Box::new(p.clone())))],
                    audit: Box::new(audit),
                },
            )
            .await?;
        Ok(p)
    }

    /// The partners, by name (admins).
    pub async fn list_partners(&self, who: Acting<'_>) -> Result<Vec<Partner>> {
        who.require(Permission::PartnerManage)?;
        Ok(self.store.partners().await?)
    }

    /// Remove the partner `name` (admins), and what was remembered as sent to it. Records
    /// received from it stay, labelled with their origin.
    pub async fn remove_partner(&self, who: Acting<'_>, name: &str) -> Result<()> {
        who.require(Permission::PartnerManage)?;
        let audit = AuditEvent::new(&who.actor(), "partner.remove", "partner", None)
            .with_detail(serde_json::json!({ "name": name }));
        self.store
            .write(
                &who.actor(),
                Op::All {
                    steps: vec![Step::Share(ShareStep::RemovePartner(name.to_string()))],
                    audit: Box::new(audit),
                },
            )
            .await?;
        Ok(())
    }

    /// The partner `name`, for a use case that sends to or receives from it; a clear refusal
    /// when there is none.
    pub(crate) async fn partner_named(&self, name: &str) -> Result<Partner> {
        self.store
            .partner(name.trim())
            .await?
            .ok_or_else(|| AppError::BadField {
                field: "partner".into(),
                message: format!(
                    "no partner named {:?}: an admin adds it with `tocsin partner add`",
                    name.trim()
                ),
            })
    }

    /// This installation's signing key, made (and its making audited) on first use; needs the
    /// contact key, which seals it.
    pub async fn signing_key(&self, who: Acting<'_>) -> Result<SigningKey> {
        let ck = self.contact_key.ok_or_else(|| {
            AppError::Unavailable("no contact key is loaded to open the signing key".into())
        })?;
        if let Some(sealed) = self.store.signing_key().await? {
            return SigningKey::open(&sealed, ck).map_err(|_| {
                AppError::Internal(
                    "the signing key does not open with this contact key: is it the key this \
                     database was made with?"
                        .into(),
                )
            });
        }
        let key = SigningKey::generate();
        let audit = AuditEvent::new(&who.actor(), "share.key.create", "instance", None)
            .with_detail(serde_json::json!({ "public_key": key.public_key().to_string() }));
        self.store
            .write(
                &who.actor(),
                Op::All {
                    steps: vec![Step::Share(ShareStep::KeepSigningKey(key.seal(ck)))],
                    audit: Box::new(audit),
                },
            )
            .await?;
        // Another first run may have kept its own key first: use whichever was kept.
        let sealed = self
            .store
            .signing_key()
            .await?
            .ok_or_else(|| AppError::Internal("the signing key was not kept".into()))?;
        SigningKey::open(&sealed, ck)
            .map_err(|_| AppError::Internal("the signing key kept does not open".into()))
    }

    /// This installation's public signing key (what partners add), for anyone who shares or
    /// manages partners.
    pub async fn public_signing_key(&self, who: Acting<'_>) -> Result<PublicKey> {
        if who.require(Permission::ShareExport).is_err() {
            who.require(Permission::PartnerManage)?;
        }
        Ok(self.signing_key(who).await?.public_key())
    }
}
