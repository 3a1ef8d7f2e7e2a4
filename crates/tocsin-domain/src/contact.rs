//! How staff are reached: a user's contact details and which channels they want per alert
//! severity ([`UserContacts`]), and the in-app inbox ([`InboxItem`]).
//!
//! Contact details are kept apart from [`crate::User`]. The phone number is sealed with the
//! contact key, bound to the user's id (like a source's contact), and opened only to queue a
//! delivery or to show it to the user themself or an admin; elsewhere it is masked.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use uuid::Uuid;

use crate::{ContactKey, Cursor, DomainError, SealedContact, Severity};

/// A way of reaching a user.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum NotifyChannel {
    /// E-mail over SMTP (`[notify.smtp]`).
    Email,
    /// A text message through the configured SMS gateways.
    Sms,
    /// The in-app inbox.
    Inbox,
}

impl NotifyChannel {
    /// Every channel.
    pub const ALL: [NotifyChannel; 3] = [
        NotifyChannel::Email,
        NotifyChannel::Sms,
        NotifyChannel::Inbox,
    ];

    /// The name as written in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyChannel::Email => "email",
            NotifyChannel::Sms => "sms",
            NotifyChannel::Inbox => "inbox",
        }
    }

    /// Parse a channel name; an error names `field`.
    pub fn parse(s: &str, field: &str) -> Result<NotifyChannel, DomainError> {
        NotifyChannel::ALL
            .into_iter()
            .find(|c| c.as_str() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| {
                DomainError::invalid(field, format!("{s:?}: expected email, sms or inbox"))
            })
    }
}

impl fmt::Display for NotifyChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which channels a user wants for an alert of each severity. Every severity has an entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelPrefs(BTreeMap<Severity, Vec<NotifyChannel>>);

impl Default for ChannelPrefs {
    /// The inbox always; e-mail from moderate up; SMS for critical.
    fn default() -> Self {
        use NotifyChannel::*;
        let mut m = BTreeMap::new();
        m.insert(Severity::Low, vec![Inbox]);
        m.insert(Severity::Moderate, vec![Email, Inbox]);
        m.insert(Severity::High, vec![Email, Inbox]);
        m.insert(Severity::Critical, vec![Email, Sms, Inbox]);
        ChannelPrefs(m)
    }
}

impl ChannelPrefs {
    /// The channels chosen for `severity` (sorted, without repeats).
    pub fn for_severity(&self, severity: Severity) -> &[NotifyChannel] {
        self.0.get(&severity).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Replace the channels of some severities (`{"critical": ["sms", "email"], …}`, as
    /// written in the API); the others keep theirs. Refuses an unknown severity or channel,
    /// naming `channels.SEVERITY`.
    pub fn merge(
        &self,
        given: &BTreeMap<String, Vec<String>>,
    ) -> Result<ChannelPrefs, DomainError> {
        let mut out = self.clone();
        for (sev, list) in given {
            let severity = Severity::parse(sev.trim()).map_err(|_| {
                DomainError::invalid(
                    "channels",
                    format!("{sev:?}: expected low, moderate, high or critical"),
                )
            })?;
            let field = format!("channels.{}", severity.as_str());
            if list.len() > NotifyChannel::ALL.len() * 2 {
                return Err(DomainError::invalid(field, "too many channels"));
            }
            let mut chosen = list
                .iter()
                .map(|c| NotifyChannel::parse(c, &field))
                .collect::<Result<Vec<_>, _>>()?;
            chosen.sort();
            chosen.dedup();
            out.0.insert(severity, chosen);
        }
        Ok(out)
    }

    /// Apply the CLI's form `critical=sms+email+inbox,high=email` ([`channel_spec`]).
    pub fn parse_spec(&self, spec: &str) -> Result<ChannelPrefs, DomainError> {
        self.merge(&channel_spec(spec)?)
    }

    /// As written in the API: severity → channel names.
    pub fn to_map(&self) -> BTreeMap<String, Vec<String>> {
        Severity::ALL
            .iter()
            .map(|s| {
                (
                    s.as_str().to_string(),
                    self.for_severity(*s)
                        .iter()
                        .map(|c| c.as_str().to_string())
                        .collect(),
                )
            })
            .collect()
    }

    /// The stored JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.to_map()).expect("channel preferences serialise")
    }

    /// Read the stored JSON (severities missing from it take their defaults).
    pub fn from_json(s: &str) -> Result<ChannelPrefs, DomainError> {
        let given: BTreeMap<String, Vec<String>> = serde_json::from_str(s).map_err(|e| {
            DomainError::invalid("channels", format!("stored value unreadable: {e}"))
        })?;
        ChannelPrefs::default().merge(&given)
    }
}

/// Read the CLI's form `critical=sms+email+inbox,high=email,low=none` into severity →
/// channel names (checked by [`ChannelPrefs::merge`]).
pub fn channel_spec(spec: &str) -> Result<BTreeMap<String, Vec<String>>, DomainError> {
    let mut given = BTreeMap::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (sev, list) = part.split_once('=').ok_or_else(|| {
            DomainError::invalid(
                "channels",
                format!("{part:?}: expected SEVERITY=CHANNEL+CHANNEL, e.g. critical=sms+email"),
            )
        })?;
        let list: Vec<String> = list
            .split('+')
            .map(str::trim)
            .filter(|c| !c.is_empty() && *c != "none")
            .map(str::to_string)
            .collect();
        given.insert(sev.trim().to_string(), list);
    }
    Ok(given)
}

/// The longest e-mail address accepted.
pub const MAX_EMAIL_CHARS: usize = 254;

/// Check an e-mail address (`name@example.org`): one `@`, a non-empty local part of at most
/// 64 characters, a domain with a dot, no spaces, quotes, angle brackets or control
/// characters. Answers it trimmed, the domain lower-cased.
pub fn parse_email(s: &str) -> Result<String, DomainError> {
    let bad = |m: &str| DomainError::invalid("email", m.to_string());
    let s = s.trim();
    if s.is_empty() || s.chars().count() > MAX_EMAIL_CHARS {
        return Err(bad("expected an e-mail address of at most 254 characters"));
    }
    if s.chars()
        .any(|c| c.is_control() || c.is_whitespace() || "<>\"(),;:[]\\".contains(c))
    {
        return Err(bad(
            "an e-mail address has no spaces, quotes, brackets or commas",
        ));
    }
    let (local, domain) = s
        .split_once('@')
        .ok_or_else(|| bad("expected an e-mail address like name@example.org"))?;
    let labels_ok = domain.split('.').all(|l| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_alphanumeric() || c == '-')
    });
    if local.is_empty()
        || local.len() > 64
        || local.starts_with('.')
        || local.ends_with('.')
        || local.contains("..")
        || !domain.contains('.')
        || !labels_ok
    {
        return Err(bad("expected an e-mail address like name@example.org"));
    }
    Ok(format!("{local}@{}", domain.to_lowercase()))
}

/// `a•••@example.org`: enough to recognise one's own address, not to write to it.
pub fn mask_email(s: &str) -> String {
    match s.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}•••@{domain}")
        }
        None => "•••".into(),
    }
}

/// `+•••••••••12`: the last two digits only.
pub fn mask_phone(s: &str) -> String {
    let digits: Vec<char> = s.chars().filter(char::is_ascii_digit).collect();
    let tail: String = digits[digits.len().saturating_sub(2)..].iter().collect();
    format!("+{}{tail}", "•".repeat(digits.len().saturating_sub(2)))
}

/// A user's contact details and channel preferences, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct UserContacts {
    /// Whose.
    pub user_id: Uuid,
    /// Their e-mail address (checked by [`parse_email`]).
    pub email: Option<String>,
    /// Their phone number (E.164), sealed for this user ([`UserContacts::seal_phone`]).
    pub phone: Option<SealedContact>,
    /// Channels per severity.
    pub channels: ChannelPrefs,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl UserContacts {
    /// What a user who never set anything has: no address, no phone, the default channels.
    pub fn empty(user_id: Uuid) -> UserContacts {
        UserContacts {
            user_id,
            email: None,
            phone: None,
            channels: ChannelPrefs::default(),
            updated_at: DateTime::<Utc>::UNIX_EPOCH,
        }
    }

    /// Seal an E.164 number as the phone of user `user_id` (bound to it: copied onto another
    /// user's record, it does not open).
    pub fn seal_phone(key: &ContactKey, user_id: Uuid, e164: &str) -> SealedContact {
        key.seal_bound(e164.as_bytes(), &binding(user_id))
    }

    /// Open the phone number (to queue a delivery, or to show it to its owner or an admin).
    pub fn open_phone(&self, key: &ContactKey) -> Result<Option<String>, DomainError> {
        self.phone
            .as_ref()
            .map(|p| {
                key.open_bound(p, &binding(self.user_id))
                    .and_then(|b| String::from_utf8(b).map_err(|_| DomainError::Crypto))
            })
            .transpose()
    }
}

fn binding(user_id: Uuid) -> Vec<u8> {
    let mut b = b"tocsin-user-phone-v1:".to_vec();
    b.extend_from_slice(user_id.as_bytes());
    b
}

/// The longest inbox subject kept.
pub const MAX_SUBJECT_CHARS: usize = 300;

/// One item of a user's in-app inbox.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct InboxItem {
    /// Its id (random).
    pub id: Uuid,
    /// Whose inbox.
    pub user_id: Uuid,
    /// The alert it is about, if any.
    pub alert_id: Option<Uuid>,
    /// What it says (only what the recipient may read).
    pub subject: String,
    /// Where to look (a path in the web UI, e.g. `/alerts/ID`).
    pub link: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// When its owner marked it read.
    pub read_at: Option<DateTime<Utc>>,
    /// One item per key: the same notification is never put in twice.
    #[serde(skip)]
    pub idempotency_key: String,
}

/// Read items sort after every unread one: their cursors are this far in the past.
const READ_SHIFT_YEARS: i64 = 10_000;

impl InboxItem {
    /// A new unread item (the subject cut to [`MAX_SUBJECT_CHARS`]).
    pub fn new(
        user_id: Uuid,
        alert_id: Option<Uuid>,
        subject: &str,
        link: &str,
        idempotency_key: String,
        now: DateTime<Utc>,
    ) -> InboxItem {
        InboxItem {
            id: crate::random_id(),
            user_id,
            alert_id,
            subject: subject.chars().take(MAX_SUBJECT_CHARS).collect(),
            link: link.to_string(),
            created_at: now,
            read_at: None,
            idempotency_key,
        }
    }

    /// The list's cursor after this item: unread items first, newest first, then read ones.
    pub fn cursor(&self) -> Cursor {
        let at = if self.read_at.is_none() {
            self.created_at
        } else {
            self.created_at - chrono::Duration::days(365 * READ_SHIFT_YEARS)
        };
        Cursor::by_time(at, self.id)
    }
}

/// Where an inbox page starts, decoded from a cursor of [`InboxItem::cursor`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InboxAfter {
    /// Still among the unread items (else among the read ones).
    pub unread: bool,
    /// The last item's creation time.
    pub created_at: DateTime<Utc>,
    /// The last item's id.
    pub id: Uuid,
}

impl InboxAfter {
    /// Decode a cursor; an error names the cursor when it belongs to another list.
    pub fn from_cursor(c: &Cursor) -> Result<InboxAfter, DomainError> {
        let at = c.require_time()?;
        let threshold = DateTime::<Utc>::UNIX_EPOCH - chrono::Duration::days(365 * 2_000);
        Ok(if at < threshold {
            InboxAfter {
                unread: false,
                created_at: at + chrono::Duration::days(365 * READ_SHIFT_YEARS),
                id: c.id,
            }
        } else {
            InboxAfter {
                unread: true,
                created_at: at,
                id: c.id,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_page_more_as_severity_grows() {
        let p = ChannelPrefs::default();
        assert_eq!(p.for_severity(Severity::Low), &[NotifyChannel::Inbox]);
        assert!(p
            .for_severity(Severity::Moderate)
            .contains(&NotifyChannel::Email));
        assert!(!p.for_severity(Severity::High).contains(&NotifyChannel::Sms));
        assert!(p
            .for_severity(Severity::Critical)
            .contains(&NotifyChannel::Sms));
        assert_eq!(ChannelPrefs::from_json(&p.to_json()).unwrap(), p);
    }

    #[test]
    fn preferences_merge_and_refuse_naming_the_field() {
        let p = ChannelPrefs::default()
            .parse_spec("critical=sms+inbox+sms, low=none")
            .unwrap();
        assert_eq!(
            p.for_severity(Severity::Critical),
            &[NotifyChannel::Sms, NotifyChannel::Inbox]
        );
        assert!(p.for_severity(Severity::Low).is_empty());
        let e = ChannelPrefs::default()
            .parse_spec("critical=pager")
            .unwrap_err();
        assert!(e.to_string().contains("channels.critical"), "{e}");
        let e = ChannelPrefs::default()
            .parse_spec("urgent=sms")
            .unwrap_err();
        assert!(e.to_string().contains("channels"), "{e}");
    }

    #[test]
    fn emails_are_checked_and_masked() {
        assert_eq!(parse_email(" Ana@Example.ORG ").unwrap(), "Ana@example.org");
        for bad in [
            "",
            "ana",
            "ana@",
            "@x.org",
            "ana@org",
            "a b@x.org",
            "<a@x.org>",
            "a@x..org",
            "a@x.org, b@y.org",
        ] {
            let e = parse_email(bad).unwrap_err();
            assert!(e.to_string().contains("email"), "{bad}: {e}");
        }
        assert_eq!(mask_email("ana@example.org"), "a•••@example.org");
        assert_eq!(mask_phone("+254700123456"), "+••••••••••56");
    }

    #[test]
    fn a_phone_opens_only_for_its_user() {
        let k = ContactKey::generate();
        let a = Uuid::new_v4();
        let mut c = UserContacts::empty(a);
        c.phone = Some(UserContacts::seal_phone(&k, a, "+254700123456"));
        assert!(!c
            .phone
            .as_ref()
            .unwrap()
            .0
            .windows(6)
            .any(|w| w == b"700123"));
        assert_eq!(c.open_phone(&k).unwrap().as_deref(), Some("+254700123456"));
        c.user_id = Uuid::new_v4();
        assert!(c.open_phone(&k).is_err());
    }

    #[test]
    fn unread_items_page_before_read_ones() {
        let now = Utc::now();
        let mut item = InboxItem::new(Uuid::new_v4(), None, "x", "/inbox", "k".into(), now);
        let after =
            InboxAfter::from_cursor(&Cursor::decode(&item.cursor().encode()).unwrap()).unwrap();
        assert!(after.unread);
        assert_eq!(after.created_at.timestamp_micros(), now.timestamp_micros());
        item.read_at = Some(now);
        let after =
            InboxAfter::from_cursor(&Cursor::decode(&item.cursor().encode()).unwrap()).unwrap();
        assert!(!after.unread);
        assert_eq!(after.created_at.timestamp_micros(), now.timestamp_micros());
    }
}
