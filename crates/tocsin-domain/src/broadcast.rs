//! Community broadcasts: a text per language sent by SMS to the subscribers of an area (live)
//! or to the staff test phones (test), under a two-person rule.
//!
//! A broadcast moves `pending` (written, waiting for a second person) → `approved` (recipients
//! fixed, waiting for its time) → `sending` → `sent`; it can be `cancelled` before it is sent,
//! also while sending. Each move is a [`BroadcastEvent`] naming who and when. The one rule the
//! domain cannot see alone — that the approver is not the author, for every role — is checked
//! here too ([`Broadcast::approve`]) and the application layer calls it on the server.
//!
//! Texts are measured as SMS ([`SmsLength`]): GSM 03.38 7-bit with its extension table when
//! every character fits, UCS-2 otherwise, split into segments (160/153 septets, 70/67 UTF-16
//! units), refused above [`MAX_SEGMENTS`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

use crate::DomainError;

/// The most segments a broadcast text may take (each is billed and each can arrive late).
pub const MAX_SEGMENTS: u32 = 6;
/// Languages a broadcast may be written in (the four of the SMS keyword syntax).
pub const LANGUAGES: [&str; 4] = ["en", "fr", "sw", "ar"];

/// Length of `text` in GSM 03.38 7-bit septets (characters of the extension table,
/// `^{}\[~]|€` and form feed, count two), or `None` if some character is outside the GSM
/// alphabet and the text must be sent as UCS-2 (then its length is
/// `text.encode_utf16().count()`, 70 per single SMS). A single GSM-7 SMS holds 160 septets.
///
/// ```
/// assert_eq!(tocsin_domain::broadcast::gsm7_septets("Référence à Bria"), Some(16));
/// assert_eq!(tocsin_domain::broadcast::gsm7_septets("€5"), Some(3));
/// assert_eq!(tocsin_domain::broadcast::gsm7_septets("reçu"), None);
/// ```
pub fn gsm7_septets(text: &str) -> Option<usize> {
    const BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
                         ¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
    const EXTENSION: &str = "\u{000C}^{}\\[~]|€";
    text.chars().try_fold(0usize, |n, c| {
        if BASIC.contains(c) {
            Some(n + 1)
        } else if EXTENSION.contains(c) {
            Some(n + 2)
        } else {
            None
        }
    })
}

/// How a text travels as SMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SmsEncoding {
    /// GSM 03.38 7-bit (with its extension table).
    Gsm7,
    /// UCS-2 (any other character: Arabic, ç, emoji…).
    Ucs2,
}

/// A text measured as SMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SmsLength {
    /// The encoding the text needs.
    pub encoding: SmsEncoding,
    /// Its length in that encoding's units (septets, or UTF-16 units).
    pub units: u32,
    /// How many SMS it takes.
    pub segments: u32,
}

impl SmsLength {
    /// Measure `text`: one segment holds 160 septets or 70 UTF-16 units; a longer text is
    /// split into segments of 153 or 67 (the rest carries the concatenation header).
    pub fn of(text: &str) -> SmsLength {
        let (encoding, units, single, part) = match gsm7_septets(text) {
            Some(n) => (SmsEncoding::Gsm7, n as u32, 160, 153),
            None => (
                SmsEncoding::Ucs2,
                text.encode_utf16().count() as u32,
                70,
                67,
            ),
        };
        let segments = if units <= single {
            1
        } else {
            units.div_ceil(part)
        };
        SmsLength {
            encoding,
            units,
            segments,
        }
    }
}

/// Test (only the configured staff test phones) or live (the area's subscribers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BroadcastMode {
    /// Only the staff test phones of the configuration.
    Test,
    /// The subscribers of the area.
    Live,
}

impl BroadcastMode {
    /// `test` or `live`.
    pub fn as_str(self) -> &'static str {
        match self {
            BroadcastMode::Test => "test",
            BroadcastMode::Live => "live",
        }
    }

    /// Parse `test` or `live`, naming the field `mode`.
    pub fn parse(s: &str) -> Result<BroadcastMode, DomainError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "test" => Ok(BroadcastMode::Test),
            "live" => Ok(BroadcastMode::Live),
            _ => Err(DomainError::invalid("mode", "expected test or live")),
        }
    }
}

/// Where a broadcast stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BroadcastState {
    /// Written, waiting for a second person's approval.
    Pending,
    /// Approved, recipients fixed; waiting for its time (or the sender).
    Approved,
    /// Being sent.
    Sending,
    /// Every recipient handled.
    Sent,
    /// Stopped before it was sent to everyone (final).
    Cancelled,
}

impl BroadcastState {
    /// Every state.
    pub const ALL: [BroadcastState; 5] = [
        BroadcastState::Pending,
        BroadcastState::Approved,
        BroadcastState::Sending,
        BroadcastState::Sent,
        BroadcastState::Cancelled,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            BroadcastState::Pending => "pending",
            BroadcastState::Approved => "approved",
            BroadcastState::Sending => "sending",
            BroadcastState::Sent => "sent",
            BroadcastState::Cancelled => "cancelled",
        }
    }

    /// Parse a stored name.
    pub fn parse(s: &str) -> Result<BroadcastState, DomainError> {
        BroadcastState::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| {
                DomainError::invalid(
                    "state",
                    "expected pending, approved, sending, sent or cancelled",
                )
            })
    }

    /// Whether a broadcast in this state may move to `to`.
    pub fn may_become(self, to: BroadcastState) -> bool {
        use BroadcastState::*;
        matches!(
            (self, to),
            (Pending, Approved)
                | (Approved, Sending)
                | (Sending, Sent)
                | (Pending | Approved | Sending, Cancelled)
        )
    }
}

impl std::fmt::Display for BroadcastState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a counter-message answers: a rumour, a risk factor of a framework, or dangerous speech
/// an analyst confirmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum BroadcastAnswers {
    /// A rumour (its id).
    Rumour(Uuid),
    /// A risk factor (its number in the default framework, e.g. `7`).
    RiskFactor(u32),
    /// A dangerous-speech flag an analyst confirmed (its id).
    SpeechFlag(Uuid),
}

/// One move of a broadcast: who made it and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BroadcastEvent {
    /// The state it moved to.
    pub state: BroadcastState,
    /// Who (the user's id; `None` for the sender job).
    pub by: Option<Uuid>,
    /// Their name (`system:broadcasts` for the sender job).
    pub by_name: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Why, when given (a cancellation's reason).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A broadcast.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Broadcast {
    /// Its id (random).
    pub id: Uuid,
    /// Test or live.
    pub mode: BroadcastMode,
    /// Text per language (`en`, `fr`, `sw`, `ar`); each recipient gets theirs, else the
    /// first given.
    pub texts: BTreeMap<String, String>,
    /// The target area as given (a `BroadcastArea`'s JSON form).
    #[schema(value_type = Object)]
    pub area: serde_json::Value,
    /// Send no earlier than this (immediately once approved when absent).
    pub send_at: Option<DateTime<Utc>>,
    /// What it answers (a counter-message).
    pub answers: Option<BroadcastAnswers>,
    /// The broadcast this corrects or cancels (sent to the same recipients).
    pub correction_of: Option<Uuid>,
    /// Where it stands.
    pub state: BroadcastState,
    /// Who wrote it (user id).
    pub author: Uuid,
    /// Their name.
    pub author_name: String,
    /// When it was written.
    pub created_at: DateTime<Utc>,
    /// How many recipients it has (an estimate until approved, then the rows queued).
    pub recipients: u64,
    /// Its moves, oldest first (the first is its writing).
    pub events: Vec<BroadcastEvent>,
    /// Grows with each change (guards concurrent moves).
    pub version: i64,
}

/// Why a broadcast was refused or a move not allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BroadcastError {
    /// A field is invalid (naming it).
    #[error(transparent)]
    Invalid(#[from] DomainError),
    /// The move is not allowed from where the broadcast stands.
    #[error("state: a broadcast that is {from} cannot become {to}")]
    Illegal {
        /// Where it stands.
        from: BroadcastState,
        /// What was asked.
        to: BroadcastState,
    },
    /// The approver wrote it: a second person must approve, whatever their role.
    #[error("approval: the author of a broadcast cannot approve it; a second person must")]
    OwnApproval,
}

/// A broadcast's texts, checked: at least one, languages known, none empty, none longer than
/// [`MAX_SEGMENTS`] segments. Errors name `texts.LANG`.
pub fn check_texts(texts: &BTreeMap<String, String>) -> Result<(), DomainError> {
    if texts.is_empty() {
        return Err(DomainError::invalid(
            "texts",
            "give at least one text, e.g. {\"en\": \"...\"}",
        ));
    }
    for (lang, text) in texts {
        let field = format!("texts.{lang}");
        if !LANGUAGES.contains(&lang.as_str()) {
            return Err(DomainError::invalid(field, "expected en, fr, sw or ar"));
        }
        if text.trim().is_empty() {
            return Err(DomainError::invalid(field, "must not be empty"));
        }
        if text.contains('\0') {
            return Err(DomainError::invalid(
                field,
                "must not contain NUL characters",
            ));
        }
        let len = SmsLength::of(text);
        if len.segments > MAX_SEGMENTS {
            let (enc, per) = match len.encoding {
                SmsEncoding::Gsm7 => ("GSM 7-bit", 153),
                SmsEncoding::Ucs2 => ("UCS-2", 67),
            };
            return Err(DomainError::invalid(
                field,
                format!(
                    "takes {} SMS ({} {enc} units); at most {MAX_SEGMENTS} ({} units)",
                    len.segments,
                    len.units,
                    MAX_SEGMENTS * per
                ),
            ));
        }
    }
    Ok(())
}

/// A new broadcast, before it is written.
#[derive(Debug, Clone)]
pub struct NewBroadcast {
    /// Test or live.
    pub mode: BroadcastMode,
    /// Text per language.
    pub texts: BTreeMap<String, String>,
    /// The area's JSON form.
    pub area: serde_json::Value,
    /// When to send.
    pub send_at: Option<DateTime<Utc>>,
    /// What it answers.
    pub answers: Option<BroadcastAnswers>,
    /// What it corrects.
    pub correction_of: Option<Uuid>,
}

impl Broadcast {
    /// A pending broadcast written by `author` at `at` (texts checked).
    pub fn new(
        n: NewBroadcast,
        author: Uuid,
        author_name: &str,
        recipients: u64,
        at: DateTime<Utc>,
    ) -> Result<Broadcast, BroadcastError> {
        check_texts(&n.texts)?;
        Ok(Broadcast {
            id: crate::random_id(),
            mode: n.mode,
            texts: n.texts,
            area: n.area,
            send_at: n.send_at,
            answers: n.answers,
            correction_of: n.correction_of,
            state: BroadcastState::Pending,
            author,
            author_name: author_name.to_string(),
            created_at: at,
            recipients,
            events: vec![BroadcastEvent {
                state: BroadcastState::Pending,
                by: Some(author),
                by_name: author_name.to_string(),
                at,
                note: None,
            }],
            version: 1,
        })
    }

    /// The text for a recipient speaking `lang`: theirs, else English, else the first.
    pub fn text_for(&self, lang: &str) -> &str {
        self.texts
            .get(lang)
            .or_else(|| self.texts.get("en"))
            .or_else(|| self.texts.values().next())
            .map_or("", String::as_str)
    }

    /// Each text measured as SMS.
    pub fn lengths(&self) -> BTreeMap<String, SmsLength> {
        self.texts
            .iter()
            .map(|(l, t)| (l.clone(), SmsLength::of(t)))
            .collect()
    }

    fn moved(
        &self,
        to: BroadcastState,
        by: Option<Uuid>,
        by_name: &str,
        at: DateTime<Utc>,
        note: Option<String>,
    ) -> Result<Broadcast, BroadcastError> {
        if !self.state.may_become(to) {
            return Err(BroadcastError::Illegal {
                from: self.state,
                to,
            });
        }
        let mut b = self.clone();
        b.state = to;
        b.version += 1;
        b.events.push(BroadcastEvent {
            state: to,
            by,
            by_name: by_name.to_string(),
            at,
            note,
        });
        Ok(b)
    }

    /// Approved by `by` (never its author), with `recipients` fixed.
    pub fn approve(
        &self,
        by: Uuid,
        by_name: &str,
        recipients: u64,
        at: DateTime<Utc>,
    ) -> Result<Broadcast, BroadcastError> {
        if by == self.author {
            return Err(BroadcastError::OwnApproval);
        }
        let mut b = self.moved(BroadcastState::Approved, Some(by), by_name, at, None)?;
        b.recipients = recipients;
        Ok(b)
    }

    /// Whether an approved broadcast is due at `now`.
    pub fn is_due(&self, now: DateTime<Utc>) -> bool {
        self.state == BroadcastState::Approved && self.send_at.is_none_or(|t| t <= now)
    }

    /// Sending starts (the sender job).
    pub fn start(&self, at: DateTime<Utc>) -> Result<Broadcast, BroadcastError> {
        self.moved(BroadcastState::Sending, None, SENDER, at, None)
    }

    /// Every recipient handled (the sender job).
    pub fn finish(&self, at: DateTime<Utc>) -> Result<Broadcast, BroadcastError> {
        self.moved(BroadcastState::Sent, None, SENDER, at, None)
    }

    /// Cancelled by `by`, with an optional reason.
    pub fn cancel(
        &self,
        by: Uuid,
        by_name: &str,
        note: Option<String>,
        at: DateTime<Utc>,
    ) -> Result<Broadcast, BroadcastError> {
        self.moved(BroadcastState::Cancelled, Some(by), by_name, at, note)
    }

    /// Who approved it, if anyone.
    pub fn approved_by(&self) -> Option<&BroadcastEvent> {
        self.events
            .iter()
            .find(|e| e.state == BroadcastState::Approved)
    }

    /// When it moved to `state`, if it did.
    pub fn at(&self, state: BroadcastState) -> Option<DateTime<Utc>> {
        self.events.iter().find(|e| e.state == state).map(|e| e.at)
    }
}

/// The name the sender job's moves are recorded under.
pub const SENDER: &str = "system:broadcasts";

/// Where one recipient's message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecipientState {
    /// Waiting to be sent.
    Queued,
    /// Claimed by a sender; handed to the gateway or about to be.
    Sending,
    /// Accepted by the gateway.
    Sent,
    /// Delivered to the handset (delivery report).
    Delivered,
    /// Not sent or not delivered (a lasting failure, a delivery report).
    Failed,
    /// Not sent: the subscriber stopped, or the broadcast was cancelled first.
    Skipped,
}

impl RecipientState {
    /// Every state.
    pub const ALL: [RecipientState; 6] = [
        RecipientState::Queued,
        RecipientState::Sending,
        RecipientState::Sent,
        RecipientState::Delivered,
        RecipientState::Failed,
        RecipientState::Skipped,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            RecipientState::Queued => "queued",
            RecipientState::Sending => "sending",
            RecipientState::Sent => "sent",
            RecipientState::Delivered => "delivered",
            RecipientState::Failed => "failed",
            RecipientState::Skipped => "skipped",
        }
    }

    /// Parse a stored name.
    pub fn parse(s: &str) -> Option<RecipientState> {
        RecipientState::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// How many recipients of a broadcast stand where: counts only, never who.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RecipientCounts {
    /// Waiting.
    pub queued: u64,
    /// Being handed over.
    pub sending: u64,
    /// Accepted by a gateway.
    pub sent: u64,
    /// Delivered.
    pub delivered: u64,
    /// Failed.
    pub failed: u64,
    /// Not sent (stopped subscribers, cancellation).
    pub skipped: u64,
}

impl RecipientCounts {
    /// All of them.
    pub fn total(&self) -> u64 {
        self.queued + self.sending + self.sent + self.delivered + self.failed + self.skipped
    }

    /// Add `n` in `state`.
    pub fn add(&mut self, state: RecipientState, n: u64) {
        match state {
            RecipientState::Queued => self.queued += n,
            RecipientState::Sending => self.sending += n,
            RecipientState::Sent => self.sent += n,
            RecipientState::Delivered => self.delivered += n,
            RecipientState::Failed => self.failed += n,
            RecipientState::Skipped => self.skipped += n,
        }
    }

    /// None still waiting or being handed over.
    pub fn done(&self) -> bool {
        self.queued == 0 && self.sending == 0
    }
}

/// The global stop switch: while on, no broadcast message leaves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StopSwitch {
    /// On (nothing leaves) or off.
    pub on: bool,
    /// Who set it last.
    pub by_name: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Why.
    pub reason: Option<String>,
}

/// A staff test phone sealed on its recipient row, bound to the row's id (copied onto another
/// row, it does not open).
pub fn seal_test_phone(key: &crate::ContactKey, row: Uuid, phone: &str) -> crate::SealedContact {
    key.seal_bound(phone.as_bytes(), &test_binding(row))
}

/// Open a test phone sealed by [`seal_test_phone`].
pub fn open_test_phone(
    key: &crate::ContactKey,
    row: Uuid,
    sealed: &crate::SealedContact,
) -> Result<String, DomainError> {
    let plain = key.open_bound(sealed, &test_binding(row))?;
    String::from_utf8(plain).map_err(|_| DomainError::Crypto)
}

fn test_binding(row: Uuid) -> Vec<u8> {
    let mut b = b"tocsin-broadcast-test-v1:".to_vec();
    b.extend_from_slice(row.as_bytes());
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(l, t)| (l.to_string(), t.to_string()))
            .collect()
    }

    fn pending(author: Uuid) -> Broadcast {
        Broadcast::new(
            NewBroadcast {
                mode: BroadcastMode::Live,
                texts: texts(&[("en", "Armed men near Bria. Stay indoors.")]),
                area: serde_json::json!({"countries": ["CAF"]}),
                send_at: None,
                answers: None,
                correction_of: None,
            },
            author,
            "ana",
            10,
            crate::time::now(),
        )
        .unwrap()
    }

    #[test]
    fn lengths_follow_gsm_and_ucs2_rules() {
        let l = SmsLength::of(&"a".repeat(160));
        assert_eq!(
            (l.encoding, l.units, l.segments),
            (SmsEncoding::Gsm7, 160, 1)
        );
        assert_eq!(SmsLength::of(&"a".repeat(161)).segments, 2);
        assert_eq!(SmsLength::of(&"a".repeat(306)).segments, 2);
        assert_eq!(SmsLength::of(&"a".repeat(307)).segments, 3);
        // The extension table counts two.
        let l = SmsLength::of(&"€".repeat(80));
        assert_eq!(
            (l.encoding, l.units, l.segments),
            (SmsEncoding::Gsm7, 160, 1)
        );
        assert_eq!(SmsLength::of(&"€".repeat(81)).segments, 2);
        // ç is not GSM: UCS-2.
        let l = SmsLength::of("reçu");
        assert_eq!((l.encoding, l.units, l.segments), (SmsEncoding::Ucs2, 4, 1));
        assert_eq!(SmsLength::of(&"ب".repeat(70)).segments, 1);
        assert_eq!(SmsLength::of(&"ب".repeat(71)).segments, 2);
        // An emoji is two UTF-16 units.
        assert_eq!(SmsLength::of("🙂").units, 2);
    }

    #[test]
    fn texts_are_checked_naming_the_language() {
        assert!(check_texts(&texts(&[("en", "ok"), ("ar", "حسنا")])).is_ok());
        let field = |t| match check_texts(&t) {
            Err(DomainError::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(texts(&[])), "texts");
        assert_eq!(field(texts(&[("de", "hallo")])), "texts.de");
        assert_eq!(field(texts(&[("fr", "  ")])), "texts.fr");
        assert!(check_texts(&texts(&[("en", &"a".repeat(153 * 6))])).is_ok());
        assert_eq!(
            field(texts(&[("sw", &"a".repeat(153 * 6 + 1))])),
            "texts.sw"
        );
        assert_eq!(field(texts(&[("ar", &"ب".repeat(67 * 6 + 1))])), "texts.ar");
        assert!(check_texts(&texts(&[("ar", &"ب".repeat(67 * 6))])).is_ok());
    }

    #[test]
    fn nobody_approves_their_own() {
        let author = crate::random_id();
        let b = pending(author);
        assert_eq!(
            b.approve(author, "ana", 10, crate::time::now()),
            Err(BroadcastError::OwnApproval)
        );
        let other = crate::random_id();
        let a = b.approve(other, "bob", 12, crate::time::now()).unwrap();
        assert_eq!(a.state, BroadcastState::Approved);
        assert_eq!(a.recipients, 12);
        assert_eq!(a.approved_by().unwrap().by, Some(other));
        assert_eq!(a.version, 2);
    }

    #[test]
    fn every_move_is_allowed_or_refused_as_the_table_says() {
        use BroadcastState::*;
        let allowed = [
            (Pending, Approved),
            (Approved, Sending),
            (Sending, Sent),
            (Pending, Cancelled),
            (Approved, Cancelled),
            (Sending, Cancelled),
        ];
        for from in BroadcastState::ALL {
            for to in BroadcastState::ALL {
                assert_eq!(
                    from.may_become(to),
                    allowed.contains(&(from, to)),
                    "{from} -> {to}"
                );
            }
        }
        // Walk each path through the methods, each move recorded with who and when.
        let author = crate::random_id();
        let other = crate::random_id();
        let now = crate::time::now();
        let b = pending(author);
        let a = b.approve(other, "bob", 1, now).unwrap();
        assert!(a.is_due(now));
        let s = a.start(now).unwrap();
        let done = s.finish(now).unwrap();
        assert_eq!(done.state, Sent);
        assert_eq!(
            done.events.iter().map(|e| e.state).collect::<Vec<_>>(),
            vec![Pending, Approved, Sending, Sent]
        );
        assert_eq!(done.events[2].by_name, SENDER);
        for st in [&b, &a, &s] {
            let c = st
                .cancel(other, "bob", Some("wrong area".into()), now)
                .unwrap();
            assert_eq!(c.state, Cancelled);
            assert_eq!(c.events.last().unwrap().note.as_deref(), Some("wrong area"));
        }
        let refused = |r: Result<Broadcast, BroadcastError>| {
            assert!(matches!(r, Err(BroadcastError::Illegal { .. })), "{r:?}")
        };
        refused(done.cancel(other, "bob", None, now));
        refused(done.start(now));
        refused(b.start(now));
        refused(b.finish(now));
        refused(a.approve(crate::random_id(), "eve", 1, now));
        refused(a.finish(now));
        let c = a.cancel(other, "bob", None, now).unwrap();
        refused(c.start(now));
        refused(c.approve(crate::random_id(), "eve", 1, now));
        assert!(!c.is_due(now));
    }

    #[test]
    fn scheduled_broadcasts_wait_for_their_time() {
        let author = crate::random_id();
        let now = crate::time::now();
        let mut b = pending(author);
        b.send_at = Some(now + chrono::Duration::minutes(10));
        let a = b.approve(crate::random_id(), "bob", 1, now).unwrap();
        assert!(!a.is_due(now));
        assert!(a.is_due(now + chrono::Duration::minutes(10)));
    }

    #[test]
    fn each_recipient_gets_their_language_else_english_else_the_first() {
        let mut b = pending(crate::random_id());
        b.texts = texts(&[("en", "E"), ("fr", "F")]);
        assert_eq!(b.text_for("fr"), "F");
        assert_eq!(b.text_for("sw"), "E");
        b.texts = texts(&[("fr", "F"), ("sw", "S")]);
        assert_eq!(b.text_for("ar"), "F");
    }
}
