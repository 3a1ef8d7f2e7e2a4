//! How staff are reached: what an alert's notification to each recipient is ([`notifications_for`]),
//! whether anyone can page a user at all ([`reaches`]), a user's contact details and channel
//! preferences (set by themself, an admin or the operator) and their in-app inbox.
//!
//! **Content rule.** A notification carries nothing above its recipient's clearance: to one
//! cleared for the alert's label it gives the title, severity, label and country; to anyone
//! else only "Tocsin: an alert needs your attention" and the link (sent as `TLP:CLEAR`).
//! No notification carries a source's handle or contact: the text is made here from the
//! alert's own fields only. Contact details are never logged; a phone number is opened only
//! to queue a delivery or to show it to its owner or an admin.

use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use tocsin_domain::contact::{mask_email, parse_email};
use tocsin_domain::{
    Alert, AuditEvent, InboxItem, NotifyChannel, OutboundMessage, Page, PageRequest, Permission,
    SourceContact, Tlp, User, UserContacts,
};
use tocsin_store::{Op, Step, StoreError};
use uuid::Uuid;

use crate::{Acting, App, AppError, Result};

/// Which channels this deployment can page staff through (what the server configured).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Channels {
    /// E-mail over SMTP is configured (`[notify.smtp]`).
    pub email: bool,
    /// The SMS gateway staff texts go through, if one is configured.
    pub sms_gateway: Option<String>,
    /// Region of numbers written without a country code (`[sms] default_region`).
    pub default_region: Option<String>,
    /// This server's address as browsers reach it, for links (else links are paths).
    pub public_url: Option<String>,
    /// The signed webhook endpoints (`[[notify.webhooks]]`): names and limits only, never
    /// their URLs or secrets (those stay with the delivery layer's channel).
    pub webhooks: Vec<WebhookTarget>,
}

/// One configured webhook endpoint as the application sees it: what it wants and may carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookTarget {
    /// The endpoint's name (what its deliveries address).
    pub name: String,
    /// The highest label its body may carry; above it the body is only the id and link.
    pub max_tlp: Tlp,
    /// The least severe alert it wants.
    pub min_severity: tocsin_domain::Severity,
}

impl WebhookTarget {
    /// The target of a configured endpoint (its URL and secret left behind).
    pub fn of(c: &tocsin_delivery::webhook::WebhookConfig) -> WebhookTarget {
        WebhookTarget {
            name: c.name.clone(),
            max_tlp: c.max_tlp,
            min_severity: c.min_severity,
        }
    }
}

/// No channel: what a command without a server has.
pub static NO_CHANNELS: Channels = Channels {
    email: false,
    sms_gateway: None,
    default_region: None,
    public_url: None,
    webhooks: Vec::new(),
};

/// What a recipient cleared below an alert's label is told, and nothing more (with the link).
pub const RESTRICTED_SUBJECT: &str = "Tocsin: an alert needs your attention";

/// The longest SMS a notification makes.
const SMS_CHARS: usize = 300;

/// Staff texts about an alert resting on a warner's report leave after a random delay in
/// this range (seconds), drawn per text: someone holding the telephone company's records
/// sees a warner's message reach the gateway and, without it, a text leave for a staff
/// phone seconds later, telling them that this warner's message was urgent (it fired a
/// report rule). E-mail, the inbox and webhooks are not delayed.
pub const REPORT_SMS_DELAY_SECS: std::ops::RangeInclusive<i64> = 30..=120;

/// The link to an alert's page.
pub fn alert_link(app: &App<'_>, alert_id: Uuid) -> String {
    let base = app
        .channels
        .public_url
        .as_deref()
        .map(|u| u.trim_end_matches('/'))
        .unwrap_or("");
    format!("{base}/alerts/{alert_id}")
}

fn content_for(alert: &Alert, user: &User, link: &str) -> Content {
    if !user.may_see(alert.tlp) {
        return Content::restricted(RESTRICTED_SUBJECT, link);
    }
    let country = alert
        .country
        .as_ref()
        .map(|c| format!(" · {} ({})", c.name(), c.code()))
        .unwrap_or_default();
    let subject = format!("Tocsin [{}]: {}", alert.severity, alert.title);
    let body = format!(
        "{subject}\n\nSeverity: {} · {}{country}\nStatus: {}\n\n{link}\n",
        alert.severity,
        alert.tlp.as_str(),
        alert.status,
    );
    let sms = format!(
        "Tocsin {} {}: {} {link}",
        alert.severity.as_str().to_uppercase(),
        alert.tlp.as_str(),
        alert.title
    );
    Content {
        subject,
        body,
        sms,
        tlp: alert.tlp,
    }
}

/// The steps that notify `recipients` of `alert` (for the reason `why`, e.g. `opened` or
/// `escalation:2`, part of each idempotency key): for each enabled recipient and each channel
/// their preferences choose for the alert's severity, an inbox item, an e-mail through the
/// SMTP channel (when configured and they have an address) or a text through the SMS gateway
/// (when configured and they have a phone). Each has the key (alert, why, user, channel) and
/// is stored only once however often it is written. The caller writes them in its own
/// [`Op::All`]. Content follows the module's content rule.
pub async fn notifications_for(
    app: &App<'_>,
    alert: &Alert,
    recipients: &[User],
    why: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Step>> {
    let link = alert_link(app, alert.id);
    let rests_on_a_report = alert
        .evidence
        .iter()
        .any(|e| matches!(e, tocsin_domain::AlertEvidence::Report(_)));
    let mut steps = notices_for(
        app,
        recipients,
        alert.severity,
        Some(alert.id),
        &format!("notify:{}:{why}", alert.id),
        |user| content_for(alert, user, &link),
        &link,
        now,
    )
    .await?;
    if rests_on_a_report {
        delay_texts(app, &mut steps);
    }
    steps.extend(webhooks_for(app, alert, why, now)?);
    Ok(steps)
}

/// Hold each staff text among `steps` back by a random delay in [`REPORT_SMS_DELAY_SECS`].
fn delay_texts(app: &App<'_>, steps: &mut [Step]) {
    use rand::Rng;
    let Some(gateway) = app.channels.sms_gateway.as_deref() else {
        return;
    };
    let mut rng = rand::thread_rng();
    for step in steps {
        if let Step::EnqueueOnce(m) = step {
            if m.gateway == gateway {
                m.next_attempt_at +=
                    chrono::Duration::seconds(rng.gen_range(REPORT_SMS_DELAY_SECS));
            }
        }
    }
}

/// What one recipient of a notice is told: the subject (also the inbox item's), the e-mail
/// body, the SMS text and the label of that content. Made by the caller, per recipient, from
/// what that recipient may see.
pub struct Content {
    /// The inbox item's and the e-mail's subject.
    pub subject: String,
    /// The e-mail body.
    pub body: String,
    /// The SMS text (at most 300 characters are sent).
    pub sms: String,
    /// The label of this content.
    pub tlp: Tlp,
}

impl Content {
    /// Content that says only `subject` and the link: what a recipient cleared below the
    /// record's label is told, sent as `TLP:CLEAR`.
    pub fn restricted(subject: &str, link: &str) -> Content {
        Content {
            subject: subject.into(),
            body: format!("{subject}\n\n{link}\n"),
            sms: format!("{subject} {link}"),
            tlp: Tlp::Clear,
        }
    }
}

/// The steps that give each enabled recipient a notice, on each channel their preferences
/// choose for `severity`: an inbox item (linking `alert_id` when there is one), an e-mail
/// through the SMTP channel (when configured and they have an address) or a text through the
/// SMS gateway (when configured and they have a phone). `content` makes what each recipient
/// is told (the caller applies the content rule); each step is keyed
/// `{key}:{user}:{channel}` and stored only once however often it is written. The caller
/// writes them in its own [`Op::All`].
#[allow(clippy::too_many_arguments)]
pub async fn notices_for(
    app: &App<'_>,
    recipients: &[User],
    severity: tocsin_domain::Severity,
    alert_id: Option<Uuid>,
    key: &str,
    content: impl Fn(&User) -> Content,
    link: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Step>> {
    let mut steps = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for user in recipients {
        if user.disabled || !seen.insert(user.id) {
            continue;
        }
        let contacts = match app.store.get_user_contacts(user.id).await {
            Ok(c) => c,
            Err(StoreError::NotFound) => continue,
            Err(e) => return Err(e.into()),
        };
        let content = content(user);
        let sms: String = content.sms.chars().take(SMS_CHARS).collect();
        let key = |channel: NotifyChannel| format!("{key}:{}:{}", user.id, channel.as_str());
        for &channel in contacts.channels.for_severity(severity) {
            match channel {
                NotifyChannel::Inbox => {
                    steps.push(Step::AddInboxItem(Box::new(InboxItem::new(
                        user.id,
                        alert_id,
                        &content.subject,
                        link,
                        key(channel),
                        now,
                    ))));
                }
                NotifyChannel::Email => {
                    let Some(email) = contacts.email.as_ref().filter(|_| app.channels.email) else {
                        continue;
                    };
                    let address = SourceContact {
                        chat: None,
                        name: None,
                        phone: None,
                        email: Some(email.clone()),
                    };
                    steps.push(enqueue(
                        app,
                        key(channel),
                        "smtp",
                        user,
                        &address,
                        &content.body,
                        content.tlp,
                        now,
                    )?);
                }
                NotifyChannel::Sms => {
                    let (Some(gateway), Some(_)) = (&app.channels.sms_gateway, &contacts.phone)
                    else {
                        continue;
                    };
                    let phone = open_phone(app, &contacts)?;
                    let address = SourceContact {
                        chat: None,
                        name: None,
                        phone,
                        email: None,
                    };
                    steps.push(enqueue(
                        app,
                        key(channel),
                        gateway,
                        user,
                        &address,
                        &sms,
                        content.tlp,
                        now,
                    )?);
                }
            }
        }
    }
    Ok(steps)
}

/// The steps that tell the configured webhook endpoints of `alert` (called by
/// [`notifications_for`], so at the same places: when an alert opens, `why` = `opened`, event
/// `alert.opened`; at each escalation step, automatic or by hand, `why` = `escalation:N`,
/// event `alert.escalated`): one signed delivery per endpoint whose `min_severity` the alert
/// meets, its body made by [`tocsin_delivery::webhook::alert_body`] (above the endpoint's
/// `max_tlp`: only the id and the link, sent as `TLP:CLEAR`), from the alert's own fields
/// only (never a source or who acted). Keyed (alert, why, endpoint): stored once however often
/// written. Acknowledgement and closing send nothing (nobody is paged after acknowledgement).
pub fn webhooks_for(
    app: &App<'_>,
    alert: &Alert,
    why: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Step>> {
    use tocsin_delivery::webhook;
    let event = if why == "opened" {
        "alert.opened"
    } else {
        "alert.escalated"
    };
    let link = alert_link(app, alert.id);
    let mut steps = Vec::new();
    for hook in &app.channels.webhooks {
        if alert.severity < hook.min_severity {
            continue;
        }
        let (body, tlp) = webhook::alert_body(alert, event, &link, hook.max_tlp);
        let contact_key = app.contact_key.ok_or_else(|| {
            AppError::Internal("no contact key is loaded to seal the address".into())
        })?;
        let mut m = OutboundMessage::to_address(
            format!("webhook:{}:{why}:{}", alert.id, hook.name),
            webhook::CHANNEL,
            None,
            &webhook::address(&hook.name),
            contact_key,
            body,
            tlp,
        );
        m.created_at = now;
        m.updated_at = now;
        m.next_attempt_at = now;
        steps.push(Step::EnqueueOnce(Box::new(m)));
    }
    Ok(steps)
}

/// The step queueing one notification to `user` at `address` (sealed), keyed `key`.
#[allow(clippy::too_many_arguments)]
fn enqueue(
    app: &App<'_>,
    key: String,
    gateway: &str,
    user: &User,
    address: &SourceContact,
    text: &str,
    tlp: Tlp,
    now: DateTime<Utc>,
) -> Result<Step> {
    let contact_key = app
        .contact_key
        .ok_or_else(|| AppError::Internal("no contact key is loaded to seal the address".into()))?;
    let mut m = OutboundMessage::to_address(
        key,
        gateway,
        Some(user.id),
        address,
        contact_key,
        text.to_string(),
        tlp,
    );
    m.created_at = now;
    m.updated_at = now;
    m.next_attempt_at = now;
    Ok(Step::EnqueueOnce(Box::new(m)))
}

/// A user's phone, opened to queue a delivery.
fn open_phone(app: &App<'_>, c: &UserContacts) -> Result<Option<String>> {
    // No number, nothing to open: no key needed (`tocsin user add --email` loads none).
    if c.phone.is_none() {
        return Ok(None);
    }
    let key = app
        .contact_key
        .ok_or_else(|| AppError::Internal("no contact key is loaded to open the phone".into()))?;
    c.open_phone(key)
        .map_err(|_| AppError::Internal("a stored phone number does not open".into()))
}

/// Whether anyone can page `user`: they are enabled and a working channel reaches them (the
/// e-mail channel is configured and they have an address, or an SMS gateway is configured and
/// they have a phone). The inbox alone pages nobody.
pub async fn reaches(app: &App<'_>, user: &User) -> bool {
    if user.disabled {
        return false;
    }
    let Ok(c) = app.store.get_user_contacts(user.id).await else {
        return false;
    };
    (app.channels.email && c.email.is_some())
        || (app.channels.sms_gateway.is_some() && c.phone.is_some())
}

/// A change to a user's contact details and preferences: each field given replaces the
/// stored one; an empty `email` or `phone` removes it.
#[derive(Debug, Clone, Default)]
pub struct ContactsPatch {
    /// New e-mail address (empty: none).
    pub email: Option<String>,
    /// New phone number, in any common writing (empty: none).
    pub phone: Option<String>,
    /// Channels per severity to replace (`{"critical": ["sms", "inbox"]}`).
    pub channels: Option<BTreeMap<String, Vec<String>>>,
}

/// A user's contact details as one reader may see them: in full for the user themself and
/// admins, masked for everyone else.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct ContactsView {
    /// The e-mail address (masked unless shown in full).
    pub email: Option<String>,
    /// The phone number (masked unless shown in full).
    pub phone: Option<String>,
    /// Channels per severity.
    pub channels: BTreeMap<String, Vec<String>>,
    /// Whether the details are shown in full.
    pub full: bool,
}

impl App<'_> {
    fn contacts_view(&self, c: &UserContacts, full: bool) -> Result<ContactsView> {
        let (email, phone) = if full && (c.phone.is_none() || self.contact_key.is_some()) {
            (c.email.clone(), open_phone(self, c)?)
        } else {
            (
                c.email.as_deref().map(mask_email),
                // Masked without opening: the last digits are not kept apart, so a reader
                // who may not see the number learns only that there is one.
                c.phone.as_ref().map(|_| "+•••••••••".to_string()),
            )
        };
        let full = full && (c.phone.is_none() || self.contact_key.is_some());
        Ok(ContactsView {
            email,
            phone,
            channels: c.channels.to_map(),
            full,
        })
    }

    /// A user's contact details, in full for themself and admins, masked for any other user.
    pub async fn user_contacts(&self, by: &User, user_id: Uuid) -> Result<ContactsView> {
        if by.disabled {
            return Err(AppError::forbidden(Permission::UserManage));
        }
        let c = self.store.get_user_contacts(user_id).await?;
        let full = by.id == user_id || by.can(Permission::UserManage);
        self.contacts_view(&c, full)
    }

    /// Set a user's contact details and preferences: the user themself, an admin or the
    /// operator. The address is checked, the number read by the numbering plan (the
    /// deployment's default region for national numbers) and sealed for that user. The audit
    /// entry names the fields changed, never their values. Answers the details in full.
    pub async fn set_user_contacts(
        &self,
        by: impl Into<Acting<'_>>,
        user_id: Uuid,
        patch: ContactsPatch,
    ) -> Result<ContactsView> {
        let by = by.into();
        if !by.is(user_id) {
            by.require(Permission::UserManage)?;
        } else if let Acting::User(u) = by {
            if u.disabled {
                return Err(AppError::forbidden(Permission::UserManage));
            }
        }
        let mut c = self.store.get_user_contacts(user_id).await?;
        let fields = self.apply_patch(&mut c, &patch)?;
        c.updated_at = tocsin_domain::time::now();
        let actor = by.actor();
        let op = Op::All {
            steps: vec![Step::SetUserContacts(Box::new(c.clone()))],
            audit: Box::new(
                AuditEvent::new(&actor, "user.contacts", "user", Some(user_id.to_string()))
                    .with_detail(serde_json::json!({ "fields": fields })),
            ),
        };
        self.store.write(&actor, op).await?;
        self.contacts_view(&c, true)
    }

    /// Check a change without storing it (what `tocsin user add` does before creating the
    /// user, so that a bad address writes nothing).
    pub fn check_contacts(&self, patch: &ContactsPatch) -> Result<()> {
        self.apply_patch(&mut UserContacts::empty(Uuid::nil()), patch)
            .map(|_| ())
    }

    /// Apply a change to stored details; the names of the fields changed.
    fn apply_patch(
        &self,
        c: &mut UserContacts,
        patch: &ContactsPatch,
    ) -> Result<Vec<&'static str>> {
        let mut fields = Vec::new();
        if let Some(e) = &patch.email {
            c.email = match e.trim() {
                "" => None,
                e => Some(parse_email(e)?),
            };
            fields.push("email");
        }
        if let Some(p) = &patch.phone {
            c.phone = match p.trim() {
                "" => None,
                p => {
                    let e164 =
                        tocsin_sms::normalize_phone(p, self.channels.default_region.as_deref())
                            .map_err(|e| AppError::invalid("phone", e.to_string()))?;
                    let key = self.contact_key.ok_or_else(|| {
                        AppError::Unavailable("no contact key is loaded to seal the number".into())
                    })?;
                    Some(UserContacts::seal_phone(key, c.user_id, &e164))
                }
            };
            fields.push("phone");
        }
        if let Some(ch) = &patch.channels {
            c.channels = c.channels.merge(ch)?;
            fields.push("channels");
        }
        Ok(fields)
    }

    /// One's own inbox: unread first, newest first.
    pub async fn list_inbox(&self, by: &User, page: PageRequest) -> Result<Page<InboxItem>> {
        own(by)?;
        Ok(self.store.list_inbox(by.id, page).await?)
    }

    /// How many items of one's own inbox are unread.
    pub async fn inbox_unread(&self, by: &User) -> Result<u64> {
        own(by)?;
        Ok(self.store.inbox_unread(by.id).await?)
    }

    /// Mark an item of one's own inbox read (another's answers not found).
    pub async fn mark_inbox_read(&self, by: &User, id: Uuid) -> Result<()> {
        own(by)?;
        let op = Op::All {
            steps: vec![Step::MarkInboxRead {
                user_id: by.id,
                id,
                at: tocsin_domain::time::now(),
            }],
            audit: Box::new(AuditEvent::new(
                &by.actor(),
                "inbox.read",
                "inbox_item",
                Some(id.to_string()),
            )),
        };
        self.store.write(&by.actor(), op).await?;
        Ok(())
    }
}

/// Anyone enabled has an inbox of their own.
fn own(by: &User) -> Result<()> {
    if by.disabled {
        Err(AppError::refused("this account is disabled"))
    } else {
        Ok(())
    }
}

/// A user as another user may read them: their record, their contact details (masked unless
/// the reader is the user or an admin) and whether anyone can page them.
#[derive(Debug, Clone)]
pub struct Profile {
    /// The user.
    pub user: User,
    /// Their contact details as the reader may see them.
    pub contacts: ContactsView,
    /// Whether a working channel reaches them ([`reaches`]).
    pub reachable: bool,
}

impl App<'_> {
    /// The user with this login name (or id).
    async fn user_named(&self, name: &str) -> Result<User> {
        let name = name.trim();
        if let Ok(id) = Uuid::parse_str(name) {
            match self.store.get_user(id).await {
                Ok(u) => return Ok(u),
                Err(StoreError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(self.store.get_user_by_name(name).await?)
    }

    /// A user by name, with their contact details as `by` may see them.
    pub async fn user_profile(&self, by: &User, name: &str) -> Result<Profile> {
        let user = self.user_named(name).await?;
        let contacts = self.user_contacts(by, user.id).await?;
        let reachable = reaches(self, &user).await;
        Ok(Profile {
            user,
            contacts,
            reachable,
        })
    }

    /// A user's profile to edit their contact details: their own, or anyone's for an admin
    /// (`Forbidden` for others, who learn nothing about who exists).
    pub async fn editable_profile(&self, by: &User, name: &str) -> Result<Profile> {
        if by.disabled {
            return Err(AppError::forbidden(Permission::UserManage));
        }
        let user = match self.user_named(name).await {
            Ok(u) if u.id == by.id || by.can(Permission::UserManage) => u,
            Err(AppError::NotFound) if by.can(Permission::UserManage) => {
                return Err(AppError::NotFound)
            }
            Ok(_) | Err(AppError::NotFound) => {
                return Err(AppError::forbidden(Permission::UserManage))
            }
            Err(e) => return Err(e),
        };
        let contacts = self.user_contacts(by, user.id).await?;
        let reachable = reaches(self, &user).await;
        Ok(Profile {
            user,
            contacts,
            reachable,
        })
    }

    /// [`App::set_user_contacts`] for the user with this login name (or id).
    pub async fn set_contacts_of(
        &self,
        by: impl Into<Acting<'_>>,
        name: &str,
        patch: ContactsPatch,
    ) -> Result<ContactsView> {
        let by = by.into();
        let user = match self.user_named(name).await {
            // One who may not change others learns nothing about who exists.
            Err(AppError::NotFound) if matches!(by, Acting::User(u) if !u.can(Permission::UserManage)) => {
                return Err(AppError::forbidden(Permission::UserManage))
            }
            r => r?,
        };
        self.set_user_contacts(by, user.id, patch).await
    }
}
