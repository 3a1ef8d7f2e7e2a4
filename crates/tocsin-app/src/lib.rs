//! Tocsin's application layer: one function per use case (create a report, verify an
//! incident, edit, review and publish an assessment, record a legal qualification, message a
//! source, administer users…), each taking the acting [`User`] and answering with a typed
//! [`AppError`].
//!
//! **Invariant:** permissions (role, grants), TLP clearance and workflow rules are decided
//! here and only here. The JSON API, the web pages and the CLI parse their input, call a use
//! case and translate its answer; none of them decides who may do what. The store below only
//! stores and fetches; the domain below checks values.
//!
//! A record above the acting user's clearance answers [`AppError::NotFound`], as if absent.

pub mod accounts;
pub mod actions;
pub mod alerts;
pub mod assessments;
pub mod brief;
pub mod broadcasts;
pub mod bundles;
pub mod cap;
pub mod channel_status;
pub mod charts;
pub mod dashboard;
pub mod desks;
pub mod engine;
mod error;
mod evidence;
pub mod files;
pub mod flags;
pub mod flow;
pub mod home;
pub mod incidents;
pub mod lexicon_terms;
pub mod matching;
pub mod monitor;
pub mod notify;
pub mod overview;
pub mod partners;
pub mod policy;
pub mod reads;
pub mod reports;
pub mod rules;
pub mod rumours;
pub mod share;
pub mod share_items;
pub mod sharing_groups;
pub mod signals;
pub mod situations;
pub mod sms;
pub mod sources;
pub mod speech;
pub mod subscribers;
pub mod suggestions;
pub mod tags;
pub mod triage;
pub mod verification;
pub mod words;

pub use error::{AppError, Result, ROLE_MAY_NOT};

use async_trait::async_trait;
use tocsin_domain::{
    ContactKey, Incident, IncidentFilter, Page, PageRequest, Permission, Tlp, User,
};
use tocsin_framework::Frameworks;
use tocsin_store::{DynStore, StoreError};

/// How incident lists are answered: the server keeps an in-memory index for them, a one-off
/// command reads the store.
#[async_trait]
pub trait IncidentLists: Send + Sync {
    /// One page of the incidents matching `f`, newest first.
    async fn list(
        &self,
        store: &DynStore,
        f: &IncidentFilter,
        page: PageRequest,
    ) -> std::result::Result<Page<Incident>, StoreError>;

    /// The incidents that may be about a new report (report matching's candidates), newest
    /// event date first, never above `q.max_tlp`. By default the store's query
    /// ([`tocsin_store::Matching::incidents_near`]); the server answers from its index.
    async fn near(
        &self,
        store: &DynStore,
        q: &tocsin_store::IncidentNear,
    ) -> std::result::Result<Vec<Incident>, StoreError> {
        store.incidents_near(q).await
    }

    /// How many incidents match `f` (never above `f.max_tlp`). By default the store's pages
    /// are counted through; the server answers from its index.
    async fn count(
        &self,
        store: &DynStore,
        f: &IncidentFilter,
    ) -> std::result::Result<u64, StoreError> {
        let mut n = 0u64;
        let mut page = PageRequest {
            after: None,
            limit: 500,
        };
        loop {
            let p = self.list(store, f, page).await?;
            n += p.items.len() as u64;
            match p.next_cursor {
                Some(c) => page.after = Some(tocsin_domain::Cursor::decode(&c)?),
                None => return Ok(n),
            }
        }
    }

    /// A situation dashboard's trend: the incidents of `q` grouped by day, country, admin-1
    /// area and membership of the situation. By default the store's query
    /// ([`tocsin_store::Incidents::incident_days`]); the server answers from its index.
    async fn days(
        &self,
        store: &DynStore,
        q: &tocsin_store::DaysQuery,
    ) -> std::result::Result<Vec<tocsin_store::DayGroup>, StoreError> {
        store.incident_days(q).await
    }
}

/// Incident lists read from the store itself ([`tocsin_store::Store::list_incidents`]).
pub struct StoreLists;

#[async_trait]
impl IncidentLists for StoreLists {
    async fn list(
        &self,
        store: &DynStore,
        f: &IncidentFilter,
        page: PageRequest,
    ) -> std::result::Result<Page<Incident>, StoreError> {
        store.list_incidents(f, page).await
    }
}

/// Hashes a new password (after the policy check). The server does it on blocking threads
/// behind a semaphore; a command does it in place.
#[async_trait]
pub trait PasswordHasher: Send + Sync {
    /// The stored form of `password`, or why it is refused.
    async fn hash(
        &self,
        password: String,
    ) -> std::result::Result<String, tocsin_domain::DomainError>;
}

/// Hashes in place ([`tocsin_domain::user::hash_password`]).
pub struct InPlaceHasher;

#[async_trait]
impl PasswordHasher for InPlaceHasher {
    async fn hash(
        &self,
        password: String,
    ) -> std::result::Result<String, tocsin_domain::DomainError> {
        tocsin_domain::user::hash_password(&password)
    }
}

/// What the use cases work with: the store, the analysis frameworks loaded, how incident
/// lists are answered, and the deployment's settings. Cheap to build for each call.
#[derive(Clone, Copy)]
pub struct App<'a> {
    /// The store (any backend).
    pub store: &'a DynStore,
    /// The frameworks loaded; new assessments use the default unless they name another.
    pub frameworks: &'a Frameworks,
    /// Incident lists.
    pub incidents: &'a dyn IncidentLists,
    /// The key that opens source contact details (absent where none is loaded).
    pub contact_key: Option<&'a ContactKey>,
    /// How long new API tokens work unless told otherwise (`None`: until revoked).
    pub token_lifetime: Option<chrono::Duration>,
    /// Hashes new passwords.
    pub hasher: &'a dyn PasswordHasher,
    /// The channels staff can be paged through ([`notify::NO_CHANNELS`] where none are).
    pub channels: &'a notify::Channels,
    /// Departments and acknowledgement defaults (`[organisation]`, `[alerts]`).
    pub alerting: &'a alerts::AlertSettings,
    /// The verification checklist (`[verification]`).
    pub verification: &'a verification::VerificationSettings,
    /// Test phones and gateway paces of broadcasts (`[broadcasts]`).
    pub broadcasting: &'a broadcasts::BroadcastSettings,
    /// Who CAP messages of alerts shared with partners are from (`[cap]`; none: the default
    /// site, `tocsin@localhost`).
    pub cap_site: Option<&'a tocsin_cap::Site>,
}

impl<'a> App<'a> {
    /// Use cases over `store` with `frameworks`, incident lists from the store, no contact
    /// key, tokens until revoked and passwords hashed in place (what a command needs).
    pub fn new(store: &'a DynStore, frameworks: &'a Frameworks) -> App<'a> {
        App {
            store,
            frameworks,
            incidents: &StoreLists,
            contact_key: None,
            token_lifetime: None,
            hasher: &InPlaceHasher,
            channels: &notify::NO_CHANNELS,
            alerting: &alerts::DEFAULT_SETTINGS,
            verification: &verification::DEFAULT_SETTINGS,
            broadcasting: &broadcasts::DEFAULT_SETTINGS,
            cap_site: None,
        }
    }
}

/// Who acts: a user (API, web pages, the CLI's `--user NAME`), or the operator at the command
/// line, who holds the data directory and so may do what the command offers (`tocsin user`,
/// `tocsin situation add` without `--user`), recorded in the audit trail under a system name.
/// Only administrative use cases take an operator; records are always read and written by
/// users, at their clearance.
#[derive(Debug, Clone, Copy)]
pub enum Acting<'a> {
    /// A user; they need the use case's permission.
    User(&'a User),
    /// The operator at the command line, recorded under this name.
    Operator(&'a str),
}

impl<'a> From<&'a User> for Acting<'a> {
    fn from(u: &'a User) -> Self {
        Acting::User(u)
    }
}

impl Acting<'_> {
    /// The highest label they may read: a user's clearance; the operator holds the data
    /// directory, so every label.
    pub fn clearance(&self) -> Tlp {
        match self {
            Acting::User(u) => u.clearance,
            Acting::Operator(_) => Tlp::Red,
        }
    }

    /// Who the audit trail names.
    pub fn actor(&self) -> tocsin_domain::Actor {
        match self {
            Acting::User(u) => u.actor(),
            Acting::Operator(name) => tocsin_domain::Actor::system(name),
        }
    }

    /// Refuse a user who does not hold `p`; the operator may.
    pub fn require(&self, p: Permission) -> Result<()> {
        match self {
            Acting::User(u) => require(u, p),
            Acting::Operator(_) => Ok(()),
        }
    }

    /// Whether this is the user `id`.
    pub fn is(&self, id: uuid::Uuid) -> bool {
        matches!(self, Acting::User(u) if u.id == id)
    }
}

/// Refuse unless `u` holds `p`.
pub fn require(u: &User, p: Permission) -> Result<()> {
    if u.can(p) {
        Ok(())
    } else {
        Err(AppError::forbidden(p))
    }
}

/// A record labelled `tlp` exists for `u` only at or below their clearance.
pub fn visible(u: &User, tlp: Tlp) -> Result<()> {
    if u.may_see(tlp) {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// Nobody labels a record above their own clearance: they could no longer see what they made.
pub fn may_label(u: &User, tlp: Tlp) -> Result<()> {
    if u.may_see(tlp) {
        Ok(())
    } else {
        Err(AppError::refused(format!(
            "tlp: {tlp} is above your own clearance ({})",
            u.clearance
        )))
    }
}
