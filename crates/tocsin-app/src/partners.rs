//! Partner organisations (another organisation's Tocsin) and this installation's signing key.
//!
//! Admins add, list and remove partners ([`Permission::PartnerManage`]); every change is in the
//! audit trail. The signing key is made once, on first use, and kept only sealed with a key
//! derived from the contact key ([`SigningKey::seal`]); its public half is what partners add.
//!
//! For pushes over HTTPS each side holds a token per partner: the one this installation gives
//! a partner ([`App::issue_partner_token`]: shown once, only its SHA-256 kept), which its
//! pushes here carry, and the one the partner gave this installation
//! ([`App::set_partner_push_token`]: kept sealed like the signing key), which pushes there
//! carry. A token only says which partner is calling; what is stored is decided by the
//! bundle's signature, checked with that partner's key.

use tocsin_domain::{
    AuditEvent, ContactKey, Partner, PartnerInput, Permission, PublicKey, Redact, SealedContact,
    SigningKey,
};
use tocsin_store::{Op, ShareStep, Step};

use crate::{Acting, App, AppError, Result};

impl App<'_> {
    /// Add a partner for `who` (admins): checked ([`Partner::parse`]: never TLP:RED), refused
    /// as a conflict when one of that name exists.
    pub async fn add_partner(&self, who: Acting<'_>, input: PartnerInput) -> Result<Partner> {
        who.require(Permission::PartnerManage)?;
        let p = Partner::parse(input, tocsin_domain::time::now())?;
        if self
            .store
            .sharing_groups()
            .await?
            .iter()
            .any(|g| g.name == p.name)
        {
            return Err(AppError::bad_field(
                "name",
                format!(
                    "{:?} is a sharing group's name: give the partner another",
                    p.name
                ),
            ));
        }
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

    /// What was exchanged with the partner `name` (admins): sent to it, received from it.
    pub async fn partner_activity(
        &self,
        who: Acting<'_>,
        name: &str,
    ) -> Result<tocsin_domain::PartnerActivity> {
        who.require(Permission::PartnerManage)?;
        Ok(self.store.partner_activity(name).await?)
    }

    /// Remove the partner `name` (admins), what was remembered as sent to it, and its name from
    /// every sharing group and record. Records received from it stay, labelled with their
    /// origin.
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

    /// The partner `name` with its terms (admins).
    pub async fn partner(&self, who: Acting<'_>, name: &str) -> Result<Partner> {
        who.require(Permission::PartnerManage)?;
        self.store
            .partner(name.trim())
            .await?
            .ok_or(AppError::NotFound)
    }

    /// Set what is withheld from every record sent to the partner `name` (admins; rule names,
    /// [`Redact`]; none: nothing beyond what never leaves). Its terms are then unapproved:
    /// nothing more is sent before an admin previews and approves them again, and what was
    /// sent before is sent again under the new rules. Audited with the rules before and after.
    pub async fn set_partner_redaction<S: AsRef<str>>(
        &self,
        who: Acting<'_>,
        name: &str,
        rules: &[S],
    ) -> Result<Partner> {
        who.require(Permission::PartnerManage)?;
        let partner = self.partner_named(name).await?;
        let redact = Redact::parse_all(rules)?;
        let audit = AuditEvent::new(&who.actor(), "partner.redaction", "partner", None)
            .with_detail(serde_json::json!({
                "name": partner.name,
                "before": partner.redact.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
                "after": redact.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
            }));
        self.store
            .write(
                &who.actor(),
                Op::All {
                    steps: vec![Step::Share(ShareStep::PartnerRedaction {
                        name: partner.name.clone(),
                        redact,
                        at: tocsin_domain::time::now(),
                    })],
                    audit: Box::new(audit),
                },
            )
            .await?;
        self.partner_named(&partner.name).await
    }

    /// Approve the terms of the partner `name` (admins) as previewed: `digest` is the one the
    /// preview gave ([`App::preview_partner`]); a conflict when its terms changed since.
    /// Records are sent to it from then on. Audited.
    pub async fn approve_partner(
        &self,
        who: Acting<'_>,
        name: &str,
        digest: &str,
    ) -> Result<Partner> {
        who.require(Permission::PartnerManage)?;
        let partner = self.partner_named(name).await?;
        let digest = digest.trim();
        if digest.is_empty() {
            return Err(AppError::bad_field(
                "terms",
                "name the terms previewed (the digest the preview gave)",
            ));
        }
        let audit = AuditEvent::new(&who.actor(), "partner.approve", "partner", None)
            .with_detail(serde_json::json!({ "name": partner.name, "terms": digest }));
        self.store
            .write(
                &who.actor(),
                Op::All {
                    steps: vec![Step::Share(ShareStep::ApprovePartner {
                        name: partner.name.clone(),
                        digest: digest.to_string(),
                        at: tocsin_domain::time::now(),
                    })],
                    audit: Box::new(audit),
                },
            )
            .await?;
        self.partner_named(&partner.name).await
    }

    /// What was exchanged with the partner `name`, record by record (admins): the last
    /// `limit` records sent to it and received from it, newest first.
    pub async fn partner_history(
        &self,
        who: Acting<'_>,
        name: &str,
        limit: usize,
    ) -> Result<(Vec<tocsin_domain::SentRecord>, Vec<tocsin_domain::Received>)> {
        who.require(Permission::PartnerManage)?;
        let partner = self.partner_named(name).await?;
        let sent = self.store.sent_recent(&partner.name, limit).await?;
        let received = self.store.received_from(&partner.name, limit).await?;
        Ok((sent, received))
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

    /// A new token for the partner `name` to push bundles here with (admins): shown this once,
    /// only its SHA-256 kept; it replaces the one issued before.
    pub async fn issue_partner_token(&self, who: Acting<'_>, name: &str) -> Result<String> {
        who.require(Permission::PartnerManage)?;
        let partner = self.partner_named(name).await?;
        let mut bytes = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
        let token = format!("tsp_{}", hex_lower(&bytes));
        let audit = AuditEvent::new(&who.actor(), "partner.token", "partner", None)
            .with_detail(serde_json::json!({ "name": partner.name, "direction": "inbound" }));
        self.store
            .write(
                &who.actor(),
                Op::All {
                    steps: vec![Step::Share(ShareStep::PartnerInboundToken {
                        name: partner.name,
                        hash: tocsin_domain::user::token_hash(&token),
                    })],
                    audit: Box::new(audit),
                },
            )
            .await?;
        Ok(token)
    }

    /// Keep the token the partner `name` gave this installation to push bundles to it with
    /// (admins), sealed; it replaces any earlier one.
    pub async fn set_partner_push_token(
        &self,
        who: Acting<'_>,
        name: &str,
        token: &str,
    ) -> Result<()> {
        who.require(Permission::PartnerManage)?;
        let partner = self.partner_named(name).await?;
        let token = token.trim();
        if token.is_empty() || token.len() > 200 || token.chars().any(|c| !c.is_ascii_graphic()) {
            return Err(AppError::BadField {
                field: "token".into(),
                message: "expected the token the partner issued (tocsin partner token)".into(),
            });
        }
        let sealed = push_key(self.key()?).seal_bound(token.as_bytes(), partner.name.as_bytes());
        let audit = AuditEvent::new(&who.actor(), "partner.token", "partner", None)
            .with_detail(serde_json::json!({ "name": partner.name, "direction": "push" }));
        self.store
            .write(
                &who.actor(),
                Op::All {
                    steps: vec![Step::Share(ShareStep::PartnerPushToken {
                        name: partner.name,
                        sealed,
                    })],
                    audit: Box::new(audit),
                },
            )
            .await?;
        Ok(())
    }

    /// The token to push to `partner` with, for `who` who shares; a clear refusal when none
    /// was set.
    pub async fn partner_push_token(&self, who: Acting<'_>, partner: &Partner) -> Result<String> {
        who.require(Permission::ShareExport)?;
        let sealed: SealedContact = self
            .store
            .partner_push_token(&partner.name)
            .await?
            .ok_or_else(|| AppError::BadField {
                field: "partner".into(),
                message: format!(
                    "no token to push to {:?}: an admin sets the one it issued with `tocsin \
                     partner push-token`",
                    partner.name
                ),
            })?;
        let plain = push_key(self.key()?)
            .open_bound(&sealed, partner.name.as_bytes())
            .map_err(|_| AppError::Internal("the push token does not open".into()))?;
        String::from_utf8(plain).map_err(|_| AppError::Internal("the push token is corrupt".into()))
    }

    /// The partner a push comes from, by the token it carries (`None`: no partner holds it).
    pub async fn partner_by_token(&self, token: &str) -> Result<Option<Partner>> {
        Ok(self
            .store
            .partner_by_token(&tocsin_domain::user::token_hash(token.trim()))
            .await?)
    }

    fn key(&self) -> Result<&ContactKey> {
        self.contact_key.ok_or_else(|| {
            AppError::Unavailable("no contact key is loaded to open the partner's token".into())
        })
    }
}

/// The key push tokens are sealed with (derived from the contact key).
fn push_key(k: &ContactKey) -> ContactKey {
    k.derive("tocsin-partner-push-token-v1")
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
