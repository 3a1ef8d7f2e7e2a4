//! Users, roles, permissions, passwords and API tokens.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine;
use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use uuid::Uuid;

use crate::{DomainError, Tlp};

/// What a role may do. Checked by the server before any store call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Submit reports.
    ReportCreate,
    /// Read raw reports.
    ReportRead,
    /// Read incidents.
    IncidentRead,
    /// Create incidents.
    IncidentCreate,
    /// Change incidents.
    IncidentUpdate,
    /// Read source records (handles, grades).
    SourceRead,
    /// Read source contact details (each read is audited).
    SourceContactRead,
    /// Send a source a message (through the gateway, without seeing the number).
    SourceMessage,
    /// Read situations.
    SituationRead,
    /// Create situations.
    SituationWrite,
    /// Create users and tokens.
    UserManage,
    /// Read the audit trail.
    AuditRead,
    /// Write and edit draft assessments, decide evidence suggestions.
    AssessmentWrite,
    /// Review another analyst's draft assessment.
    AssessmentReview,
    /// Publish a reviewed assessment (or send it back).
    AssessmentPublish,
    /// Record a legal qualification (genocide, crimes against humanity, war crimes). No role
    /// holds it: it is granted to named analysts (`tocsin user grant NAME legal_qualify`).
    LegalQualify,
    /// Record and change actions of a situation's plan (admins, analysts, desk officers).
    ActionWrite,
    /// Read alerts, desks and alert rules (within clearance).
    AlertRead,
    /// Raise an alert by hand.
    AlertRaise,
    /// Acknowledge, escalate, decide and close the alerts of one's own desk.
    AlertRespond,
    /// Edit desks, escalation policies and alert rules.
    AlertConfigure,
    /// Triage incoming reports: reject, mark duplicate, assign, ask the source a follow-up.
    ReportTriage,
    /// Read rumours (within clearance; sightings' reports only with `ReportRead`).
    RumourRead,
    /// Record and change rumours and mark reports as their sightings (analysts, monitor
    /// coordinators).
    RumourWrite,
    /// Release the sealed original of an evidence file (each release audited in its custody
    /// log, with a reason). No role holds it: it is granted to named analysts
    /// (`tocsin user grant NAME evidence_original`).
    EvidenceOriginal,
    /// Set a source's Admiralty reliability grade, with a reason (analysts, who judge what
    /// sources report, and monitor coordinators, who know the monitors).
    SourceGrade,
    /// Register community-alert subscribers on someone's behalf (admins, monitor
    /// coordinators); the number is sealed at once and never shown again.
    SubscriberRegister,
    /// Read how many subscribers live in each area (counts only, never who): admins, analysts
    /// and monitor coordinators.
    SubscriberCount,
    /// Read broadcasts and their counts (never who received them).
    BroadcastRead,
    /// Write a broadcast, and prepare a correction of a sent one (analysts, monitor
    /// coordinators).
    BroadcastCompose,
    /// Approve or cancel a broadcast someone else wrote (never one's own, whatever the role).
    BroadcastApprove,
    /// Turn the global stop switch of broadcasting on and off (admins; audited).
    BroadcastStop,
    /// Import, evaluate, enable and disable dangerous-speech lexicons (admins, analysts).
    LexiconManage,
    /// Confirm or dismiss dangerous-speech flags, annotating them along the Dangerous Speech
    /// Project's framework (analysts).
    FlagReview,
    /// Export verified incidents for other organisations (STIX 2.1), within clearance and
    /// never above TLP:AMBER (admins, analysts).
    ShareExport,
    /// Import other organisations' bundles as read-only incidents (analysts).
    ShareImport,
    /// Add and remove the partner organisations this one shares with, and read their terms
    /// (admins).
    PartnerManage,
}

impl Permission {
    /// Permissions no role holds, granted to a user by name.
    pub const GRANTABLE: [Permission; 2] = [Permission::LegalQualify, Permission::EvidenceOriginal];

    /// The stored name of a grantable permission.
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::LegalQualify => "legal_qualify",
            Permission::EvidenceOriginal => "evidence_original",
            _ => "other",
        }
    }

    /// Parse the name of a grantable permission.
    pub fn parse_grant(s: &str) -> Result<Permission, DomainError> {
        Permission::GRANTABLE
            .into_iter()
            .find(|p| p.as_str() == s.trim())
            .ok_or_else(|| {
                DomainError::invalid("permission", "expected legal_qualify or evidence_original")
            })
    }
}

/// A user's role. Each has the least privilege its work needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Manages users and reads the audit trail; reads records but writes no analysis and
    /// never sees source contacts.
    Admin,
    /// Verifies reports, builds incidents, assesses risk.
    Analyst,
    /// Receives alerts for their countries; reads incidents and situations.
    DeskOfficer,
    /// Looks after field monitors: submits reports, and may read their contact details.
    MonitorCoordinator,
    /// Reads incidents and situations up to TLP:GREEN.
    Viewer,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Analyst,
        Role::DeskOfficer,
        Role::MonitorCoordinator,
        Role::Viewer,
    ];

    /// The stored name, e.g. `desk_officer`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Analyst => "analyst",
            Role::DeskOfficer => "desk_officer",
            Role::MonitorCoordinator => "monitor_coordinator",
            Role::Viewer => "viewer",
        }
    }

    /// Parse a role name (`desk-officer` and `desk_officer` both work).
    pub fn parse(s: &str) -> Result<Role, DomainError> {
        let s = s.trim().to_ascii_lowercase().replace('-', "_");
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                DomainError::invalid(
                    "role",
                    "expected admin, analyst, desk_officer, monitor_coordinator or viewer",
                )
            })
    }

    /// The clearance a new user of this role gets.
    pub fn default_clearance(self) -> Tlp {
        match self {
            Role::Admin | Role::Analyst => Tlp::Red,
            Role::MonitorCoordinator => Tlp::AmberStrict,
            Role::DeskOfficer => Tlp::Amber,
            Role::Viewer => Tlp::Green,
        }
    }

    /// Whether this role holds `p`.
    pub fn can(self, p: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Admin => matches!(
                p,
                ReportRead
                    | IncidentRead
                    | SourceRead
                    | SituationRead
                    | UserManage
                    | AuditRead
                    | ActionWrite
                    | AlertRead
                    | AlertConfigure
                    | RumourRead
                    | SubscriberRegister
                    | SubscriberCount
                    | BroadcastRead
                    | BroadcastApprove
                    | BroadcastStop
                    | LexiconManage
                    | ShareExport
                    | PartnerManage
            ),
            Role::Analyst => matches!(
                p,
                ReportCreate
                    | ReportRead
                    | IncidentRead
                    | IncidentCreate
                    | IncidentUpdate
                    | SourceRead
                    | SourceMessage
                    | SituationRead
                    | SituationWrite
                    | AssessmentWrite
                    | AssessmentReview
                    | AssessmentPublish
                    | ActionWrite
                    | AlertRead
                    | AlertRaise
                    | ReportTriage
                    | RumourRead
                    | RumourWrite
                    | SourceGrade
                    | SubscriberCount
                    | BroadcastRead
                    | BroadcastCompose
                    | BroadcastApprove
                    | LexiconManage
                    | FlagReview
                    | ShareExport
                    | ShareImport
            ),
            Role::DeskOfficer => matches!(
                p,
                ReportRead
                    | IncidentRead
                    | SituationRead
                    | ActionWrite
                    | AlertRead
                    | AlertRespond
                    | RumourRead
                    | BroadcastRead
            ),
            Role::MonitorCoordinator => matches!(
                p,
                ReportCreate
                    | ReportRead
                    | IncidentRead
                    | SourceRead
                    | SourceContactRead
                    | SituationRead
                    | AlertRead
                    | RumourRead
                    | RumourWrite
                    | SourceGrade
                    | SubscriberRegister
                    | SubscriberCount
                    | BroadcastRead
                    | BroadcastCompose
                    | BroadcastApprove
            ),
            Role::Viewer => matches!(p, IncidentRead | SituationRead | AlertRead | RumourRead),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored user. `password_hash` is an Argon2id PHC string.
#[derive(Clone, PartialEq)]
pub struct User {
    /// Its id.
    pub id: Uuid,
    /// Login name.
    pub username: String,
    /// Role.
    pub role: Role,
    /// Highest TLP label the user may see.
    pub clearance: Tlp,
    /// Argon2id hash, or `None` for token-only users.
    pub password_hash: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Disabled users cannot log in or use tokens.
    pub disabled: bool,
    /// Permissions granted beyond the role (see [`Permission::GRANTABLE`]).
    pub grants: Vec<Permission>,
    /// The IANA time zone the web pages show times in (`None`: UTC), as
    /// [`crate::time::parse_zone`] accepts it.
    pub time_zone: Option<String>,
    /// The language the web pages speak to them in (`None`: their browser's).
    pub language: Option<crate::Lang>,
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("role", &self.role)
            .field("clearance", &self.clearance)
            .field(
                "password_hash",
                &self.password_hash.as_ref().map(|_| "<redacted>"),
            )
            .field("disabled", &self.disabled)
            .field("grants", &self.grants)
            .field("time_zone", &self.time_zone)
            .field("language", &self.language)
            .finish()
    }
}

impl User {
    /// Whether the user holds `p`, through their role or a grant.
    pub fn can(&self, p: Permission) -> bool {
        !self.disabled && (self.role.can(p) || self.grants.contains(&p))
    }

    /// Grant (or take back) a grantable permission. Only analysts may qualify legally.
    pub fn set_grant(&mut self, p: Permission, on: bool) -> Result<(), DomainError> {
        if !Permission::GRANTABLE.contains(&p) {
            return Err(DomainError::invalid(
                "permission",
                "not a grantable permission",
            ));
        }
        if on && p == Permission::LegalQualify && self.role != Role::Analyst {
            return Err(DomainError::invalid(
                "permission",
                "legal_qualify is granted to analysts only",
            ));
        }
        if on && p == Permission::EvidenceOriginal && self.role != Role::Analyst {
            return Err(DomainError::invalid(
                "permission",
                "evidence_original is granted to analysts only",
            ));
        }
        self.grants.retain(|g| *g != p);
        if on {
            self.grants.push(p);
        }
        Ok(())
    }

    /// Grants as stored: names joined by commas.
    pub fn grants_text(&self) -> String {
        self.grants
            .iter()
            .map(|p| p.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Parse stored grants; unknown names are ignored.
    pub fn parse_grants(s: &str) -> Vec<Permission> {
        s.split(',')
            .filter_map(|g| Permission::parse_grant(g).ok())
            .collect()
    }

    /// Whether the user may see a record labelled `tlp`.
    pub fn may_see(&self, tlp: Tlp) -> bool {
        tlp <= self.clearance
    }

    /// Check a password against the stored hash (constant time inside argon2). A token-only
    /// user (no hash) is checked against [`dummy_hash`], so the answer takes as long as for
    /// anyone else and does not tell which accounts are token-only.
    pub fn check_password(&self, password: &str) -> bool {
        match &self.password_hash {
            Some(h) => verify_hash(h, password),
            None => {
                let _ = verify_hash(dummy_hash(), password);
                false
            }
        }
    }

    /// Who this user is in the audit trail.
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: (!self.id.is_nil()).then_some(self.id),
            name: self.username.clone(),
        }
    }

    /// A reader standing for the operator at the command line, for a use case computed as a
    /// user sees it (a brief, at its audience's clearance): no account (the nil id), a
    /// viewer's role plus `grants`, at `clearance`, named `system:NAME` in the audit trail as
    /// [`Actor::system`] names it.
    pub fn operator(name: &str, clearance: Tlp, grants: Vec<Permission>) -> User {
        User {
            id: Uuid::nil(),
            username: Actor::system(name).name,
            role: Role::Viewer,
            clearance,
            password_hash: None,
            created_at: DateTime::<Utc>::UNIX_EPOCH,
            disabled: false,
            grants,
            time_zone: None,
            language: None,
        }
    }
}

/// A user to create.
pub struct NewUser;

impl NewUser {
    /// Validate a username and build the user, hashing `password` with Argon2id if given.
    pub fn build(username: &str, role: Role, password: Option<&str>) -> Result<User, DomainError> {
        let username = username.trim();
        if username.is_empty()
            || username.len() > 64
            || !username
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c))
        {
            return Err(DomainError::invalid(
                "username",
                "1-64 characters: letters, digits, '.', '_', '-', '@'",
            ));
        }
        let password_hash = password.map(hash_password).transpose()?;
        Ok(User {
            id: crate::new_id(),
            username: username.to_string(),
            role,
            clearance: role.default_clearance(),
            password_hash,
            created_at: crate::time::now(),
            disabled: false,
            grants: vec![],
            time_zone: None,
            language: None,
        })
    }
}

/// Hash a password with Argon2id and a random salt, once it passes [`check_password_policy`].
pub fn hash_password(password: &str) -> Result<String, DomainError> {
    check_password_policy(password)?;
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| DomainError::Password(e.to_string()))
}

/// The fewest characters a password may have.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// The most bytes a password may have.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Common passwords of 12 characters or more, lowercased, one a line: derived from Django's
/// list by `scripts/derive-common-passwords.sh` (see `data/LICENCES.md`).
const COMMON_PASSWORDS: &str = include_str!("../data/common-passwords.txt");

/// The password policy: at least [`MIN_PASSWORD_CHARS`] characters, at most
/// [`MAX_PASSWORD_BYTES`] bytes, and not a common password (compared case-insensitively).
pub fn check_password_policy(password: &str) -> Result<(), DomainError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(DomainError::invalid(
            "password",
            format!("at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(DomainError::invalid(
            "password",
            format!("at most {MAX_PASSWORD_BYTES} bytes"),
        ));
    }
    let lower = password.to_lowercase();
    if COMMON_PASSWORDS.lines().any(|c| c == lower) {
        return Err(DomainError::invalid(
            "password",
            "this is one of the most common passwords; choose another",
        ));
    }
    Ok(())
}

fn verify_hash(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// An Argon2id hash with the same parameters as real ones, of a random secret nobody knows,
/// made once per process. Checks for unknown and token-only users verify against it, so they
/// take as long as a real check.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        let mut secret = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut secret);
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        Argon2::default()
            .hash_password(&secret, &salt)
            .map(|h| h.to_string())
            .expect("argon2 hashes 32 bytes with default parameters")
    })
}

/// A login check that takes the same time whoever asks: the password is verified against
/// the user's hash, or against [`dummy_hash`] for an unknown or token-only user, and a
/// disabled user is refused only after the check.
pub fn verify_login(user: Option<&User>, password: &str) -> bool {
    match user {
        Some(u) => u.check_password(password) && !u.disabled,
        None => {
            let _ = verify_hash(dummy_hash(), password);
            false
        }
    }
}

/// Who did something, as the audit trail records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The user, or `None` for the system (CLI, jobs, anonymous webhooks).
    pub user_id: Option<Uuid>,
    /// Their name, e.g. `alice` or `system:cli`.
    pub name: String,
}

impl Actor {
    /// A non-user actor such as `system:cli`.
    pub fn system(name: &str) -> Actor {
        Actor {
            user_id: None,
            name: format!("system:{name}"),
        }
    }
}

/// A stored API token: only its SHA-256 is kept.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiToken {
    /// Its id.
    pub id: Uuid,
    /// The user it acts for.
    pub user_id: Uuid,
    /// A label, e.g. `cli`.
    pub name: String,
    /// SHA-256 (hex) of the secret.
    pub token_hash: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// When it stops working, or `None` for never.
    pub expires_at: Option<DateTime<Utc>>,
    /// Revoked tokens never work again.
    pub revoked: bool,
}

impl ApiToken {
    /// A fresh token for `user_id` that works for `lifetime` (`None`: until revoked): the
    /// stored record and the secret, shown once.
    pub fn generate(
        user_id: Uuid,
        name: &str,
        lifetime: Option<chrono::Duration>,
    ) -> (ApiToken, String) {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let now = crate::time::now();
        let secret = format!(
            "tsn_{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
        );
        (
            ApiToken {
                id: crate::new_id(),
                user_id,
                name: name.to_string(),
                token_hash: token_hash(&secret),
                created_at: now,
                expires_at: lifetime.map(|l| now + l),
                revoked: false,
            },
            secret,
        )
    }

    /// Whether the token works at `now`: not revoked and not expired.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        !self.revoked && self.expires_at.is_none_or(|e| e > now)
    }
}

/// The longest token lifetime accepted (ten years).
pub const MAX_TOKEN_DAYS: i64 = 3650;

/// Parse a token lifetime: `90d` (days), `12h` (hours) or `never` (`None`).
pub fn parse_lifetime(s: &str) -> Result<Option<chrono::Duration>, DomainError> {
    let s = s.trim().to_ascii_lowercase();
    if s == "never" {
        return Ok(None);
    }
    let bad = || DomainError::invalid("expires", "expected e.g. 90d, 12h or never");
    let hours = if let Some(n) = s.strip_suffix('d') {
        n.parse::<i64>().ok().and_then(|n| n.checked_mul(24))
    } else if let Some(n) = s.strip_suffix('h') {
        n.parse::<i64>().ok()
    } else {
        None
    }
    .ok_or_else(bad)?;
    if !(1..=MAX_TOKEN_DAYS * 24).contains(&hours) {
        return Err(DomainError::invalid(
            "expires",
            format!("between 1h and {MAX_TOKEN_DAYS}d, or never"),
        ));
    }
    Ok(Some(chrono::Duration::hours(hours)))
}

/// The stored hash of a token secret (tokens are 256 random bits, so a plain hash suffices).
pub fn token_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_least_privilege() {
        assert!(!Role::Admin.can(Permission::SourceContactRead));
        assert!(Role::MonitorCoordinator.can(Permission::SourceContactRead));
        assert!(!Role::Viewer.can(Permission::ReportRead));
        assert!(!Role::DeskOfficer.can(Permission::IncidentUpdate));
        assert!(Role::Analyst.can(Permission::IncidentUpdate));
        assert_eq!(Role::parse("desk-officer").unwrap(), Role::DeskOfficer);
        assert!(Role::parse("root").is_err());
    }

    #[test]
    fn passwords_and_tokens() {
        let u = NewUser::build("alice", Role::Analyst, Some("correct horse")).unwrap();
        assert!(u.check_password("correct horse"));
        assert!(!u.check_password("wrong horse"));
        assert!(!format!("{u:?}").contains("argon2"));
        assert!(NewUser::build("bad name", Role::Viewer, None).is_err());
        let (t, secret) = ApiToken::generate(u.id, "cli", None);
        assert_eq!(t.token_hash, token_hash(&secret));
        assert_ne!(t.token_hash, secret);
    }

    #[test]
    fn password_policy_refuses_short_and_common_passwords() {
        // Short: refused by length (11 characters), also in non-ASCII characters.
        assert!(NewUser::build("a", Role::Viewer, Some("tocsin-demo")).is_err());
        assert!(hash_password("ééééééééééé").is_err());
        assert!(hash_password("éééééééééééé").is_ok());
        // Common, in any case.
        assert!(hash_password("qwerty123456").is_err());
        assert!(hash_password("QWERTY123456").is_err());
        assert!(hash_password("1q2w3e4r5t6y").is_err());
        assert!(hash_password(&"x".repeat(MAX_PASSWORD_BYTES + 1)).is_err());
        assert!(hash_password("quiet river at dawn").is_ok());
    }

    #[test]
    fn token_only_and_unknown_users_are_checked_against_a_real_hash() {
        let t = NewUser::build("t", Role::Viewer, None).unwrap();
        assert!(!t.check_password(""));
        assert!(!verify_login(None, "anything at all"));
        // The dummy hash has the real hashes' parameters.
        let real = hash_password("quiet river at dawn").unwrap();
        let params = |h: &str| h.rsplitn(3, '$').nth(2).unwrap().to_string();
        assert_eq!(params(dummy_hash()), params(&real));
        let mut d = NewUser::build("d", Role::Viewer, Some("quiet river at dawn")).unwrap();
        assert!(verify_login(Some(&d), "quiet river at dawn"));
        d.disabled = true;
        assert!(!verify_login(Some(&d), "quiet river at dawn"));
    }

    #[test]
    fn token_lifetimes() {
        assert_eq!(parse_lifetime("never").unwrap(), None);
        assert_eq!(
            parse_lifetime("90d").unwrap(),
            Some(chrono::Duration::days(90))
        );
        assert_eq!(
            parse_lifetime("12h").unwrap(),
            Some(chrono::Duration::hours(12))
        );
        for bad in [
            "",
            "d",
            "0d",
            "-1d",
            "90",
            "5y",
            "9é",
            "99999d",
            "9999999999999999999d",
        ] {
            assert!(parse_lifetime(bad).is_err(), "{bad}");
        }
        let (t, _) = ApiToken::generate(Uuid::nil(), "x", Some(chrono::Duration::hours(1)));
        assert!(t.is_live(t.created_at));
        assert!(!t.is_live(t.created_at + chrono::Duration::hours(2)));
        let (mut t, _) = ApiToken::generate(Uuid::nil(), "x", None);
        assert!(t.is_live(t.created_at + chrono::Duration::days(10_000)));
        t.revoked = true;
        assert!(!t.is_live(t.created_at));
    }
}
