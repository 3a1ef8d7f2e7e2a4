//! Sources: list and read (never their contact details), read the contact details (audited,
//! for roles with the permission), and message a source through the outbox.

use tocsin_domain::{OutboundMessage, Page, PageRequest, Permission, Source, SourceContact, User};

/// How messages to sources can leave this server (its configuration, as the caller knows it).
pub trait ReplyRoutes: Send + Sync {
    /// The SMS gateway to answer a source on, given the one it was last answered through
    /// (`None`: no SMS gateway is configured).
    fn sms_gateway(&self, last_used: Option<&str>) -> Option<String>;
    /// Whether replies through this messaging app (`telegram`, `whatsapp`) are configured.
    fn app_replies(&self, channel: &str) -> bool;
}
use tocsin_store::{Op, StoreExt};
use uuid::Uuid;

use crate::{reads, require, visible, App, AppError, Result};

/// The most characters of a message to a source.
pub const MESSAGE_CHARS: usize = 1000;

impl App<'_> {
    /// One page of the sources `u` may see; the listing of restricted ones is audited.
    pub async fn list_sources(&self, u: &User, page: PageRequest) -> Result<Page<Source>> {
        require(u, Permission::SourceRead)?;
        let page = self.store.list_sources(u.clearance, page).await?;
        reads::list(
            self.store,
            u,
            "source",
            page.items.iter().map(|s| (s.id, s.tlp)),
        )
        .await?;
        Ok(page)
    }

    /// How many sources `u` may see (those within their clearance), counted through the
    /// store's pages.
    pub async fn count_sources(&self, u: &User) -> Result<u64> {
        require(u, Permission::SourceRead)?;
        let mut n = 0u64;
        let mut page = PageRequest {
            after: None,
            limit: 500,
        };
        loop {
            let p = self.store.list_sources(u.clearance, page).await?;
            n += p.items.len() as u64;
            match p.next_cursor {
                Some(c) => page.after = Some(tocsin_domain::Cursor::decode(&c)?),
                None => return Ok(n),
            }
        }
    }

    /// A source (handle and grade, never contact details) `u` may see; audited if restricted.
    pub async fn get_source(&self, u: &User, id: Uuid) -> Result<Source> {
        require(u, Permission::SourceRead)?;
        let s = self.store.get_source(id).await?;
        visible(u, s.tlp)?;
        reads::one(self.store, u, "source", s.id, s.tlp).await?;
        Ok(s)
    }

    /// A source's contact details, for roles with the permission; the read is recorded in the
    /// audit trail before the details are opened.
    pub async fn read_source_contact(
        &self,
        u: &User,
        id: Uuid,
    ) -> Result<(Source, Option<SourceContact>)> {
        require(u, Permission::SourceContactRead)?;
        let s = self.store.get_source(id).await?;
        visible(u, s.tlp)?;
        let key = self
            .contact_key
            .ok_or_else(|| AppError::Internal("no contact key is loaded".into()))?;
        let sealed = self.store.read_source_contact(&u.actor(), id).await?;
        let contact = sealed
            .map(|c| SourceContact::open(&c, key, s.id))
            .transpose()?;
        Ok((s, contact))
    }

    /// Queue a follow-up message to a source `u` may see. It leaves the way [`App::reply_route`]
    /// says (the messaging app the source wrote through, else an SMS gateway); `u` never sees
    /// the number or chat.
    pub async fn message_source(
        &self,
        u: &User,
        id: Uuid,
        text: &str,
        routes: &dyn ReplyRoutes,
    ) -> Result<OutboundMessage> {
        require(u, Permission::SourceMessage)?;
        let source = self.store.get_source(id).await?;
        visible(u, source.tlp)?;
        let text = text.trim().to_string();
        if text.is_empty() || text.chars().count() > MESSAGE_CHARS || text.contains('\0') {
            return Err(AppError::invalid("text", "1 to 1,000 characters"));
        }
        if !source.has_contact {
            return Err(AppError::invalid(
                "id",
                "this source has no contact details",
            ));
        }
        let (gateway, sender) = self.reply_route(&source, routes).await?;
        let mut m = OutboundMessage::new(
            format!("msg:{}", tocsin_domain::random_id()),
            &gateway,
            source.id,
            None,
            text,
        );
        m.sender = sender;
        self.store
            .write(&u.actor(), Op::EnqueueSms(Box::new(m.clone())))
            .await?;
        Ok(m)
    }

    /// The channel a message to `source` (which holds contact details) leaves by, and the
    /// number it is sent from: a source that wrote through a messaging app (its sealed contact
    /// holds a chat such as `telegram:123`) is answered over that app only, never by SMS, and
    /// over WhatsApp only inside the 24-hour window its last message opened (refused with
    /// [`tocsin_delivery::whatsapp::WINDOW_CLOSED`] otherwise); any other source through the
    /// SMS gateway it was last answered through (from the same number).
    pub async fn reply_route(
        &self,
        source: &Source,
        routes: &dyn ReplyRoutes,
    ) -> Result<(String, Option<String>)> {
        use tocsin_delivery::{telegram, whatsapp};
        let key = self
            .contact_key
            .ok_or_else(|| AppError::Internal("no contact key is loaded".into()))?;
        // Opened only to route, never shown (the delivery opens it again to send).
        let chat = match self.store.get_source_contact(source.id).await? {
            Some(sealed) => SourceContact::open(&sealed, key, source.id)?.chat,
            None => None,
        };
        let recent = self.store.list_outbound(Some(source.id), 200).await?;
        match chat.as_deref() {
            Some(c) if c.starts_with(telegram::CHAT_PREFIX) => {
                if !routes.app_replies("telegram") {
                    return Err(AppError::Conflict(
                        "not sent: this source wrote through Telegram and is answered only there, but Telegram replies are not configured".into(),
                    ));
                }
                Ok(("telegram".into(), None))
            }
            Some(c) if c.starts_with(whatsapp::CHAT_PREFIX) => {
                if !routes.app_replies("whatsapp") {
                    return Err(AppError::Conflict(
                        "not sent: this source wrote through WhatsApp and is answered only there, but WhatsApp replies are not configured".into(),
                    ));
                }
                // Each of the source's messages opened a window, and queued an acknowledgement
                // when it was received (refused then if its window had already closed): open
                // while one of those leaves enough of its window.
                let now = tocsin_domain::time::now();
                let open = recent.iter().any(|m| {
                    m.gateway == "whatsapp"
                        && m.idempotency_key.starts_with("ack:")
                        && m.last_error.as_deref() != Some(whatsapp::WINDOW_CLOSED)
                        && (m.created_at + chrono::Duration::seconds(whatsapp::WINDOW_SECS) - now)
                            .num_seconds()
                            >= whatsapp::REPLY_MARGIN_SECS
                });
                if !open {
                    return Err(AppError::Conflict(whatsapp::WINDOW_CLOSED.into()));
                }
                Ok(("whatsapp".into(), None))
            }
            Some(_) => Err(AppError::Conflict(
                "not sent: this source wrote through a channel Tocsin cannot answer on".into(),
            )),
            None => {
                // Acknowledgements go back the way the report came.
                let last = recent.into_iter().next();
                let gateway = routes
                    .sms_gateway(last.as_ref().map(|m| m.gateway.as_str()))
                    .ok_or_else(|| {
                        AppError::Conflict("no SMS gateway is configured to send with".into())
                    })?;
                let sender = last.filter(|l| l.gateway == gateway).and_then(|l| l.sender);
                Ok((gateway, sender))
            }
        }
    }

    /// The acknowledgement of report `report` to its source and where it stands (sent,
    /// failed with its reason, e.g. a messaging app's reply window had closed), for those who
    /// may message sources and see the report's source; `None` otherwise or when none was
    /// queued.
    pub async fn report_acknowledgement(
        &self,
        u: &User,
        report: &tocsin_domain::Report,
    ) -> Result<Option<OutboundMessage>> {
        let Some(handle) = report.source.as_deref() else {
            return Ok(None);
        };
        if !u.can(Permission::SourceMessage) {
            return Ok(None);
        }
        let source = self.store.get_source_by_handle(handle).await?;
        if visible(u, source.tlp).is_err() {
            return Ok(None);
        }
        let source_id = source.id;
        let key = format!("ack:{}", report.id);
        Ok(self
            .store
            .list_outbound(Some(source_id), 200)
            .await?
            .into_iter()
            .find(|m| m.idempotency_key == key))
    }

    /// What was sent to a source `u` may see and where each message stands.
    pub async fn source_messages(&self, u: &User, id: Uuid) -> Result<Vec<OutboundMessage>> {
        require(u, Permission::SourceMessage)?;
        let source = self.store.get_source(id).await?;
        visible(u, source.tlp)?;
        Ok(self.store.list_outbound(Some(source.id), 200).await?)
    }
}
