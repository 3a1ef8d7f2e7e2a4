//! The one error of the application layer. Each front end translates it: the API to a status
//! and a JSON error, the web pages to a friendly page, the CLI to a message and an exit code.

use tocsin_domain::{DomainError, Permission};
use tocsin_store::StoreError;

/// Why a use case refused or failed.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum AppError {
    /// The acting user may not do this: their role lacks `needed`, or what they ask would put
    /// a record beyond their own clearance.
    #[error("{message}")]
    Forbidden {
        /// The permission the use case needs, when a missing one is the reason.
        needed: Option<Permission>,
        /// What to tell them.
        message: String,
    },
    /// No such record, or one above the acting user's clearance (answered alike, so a label
    /// is never revealed by the answer).
    #[error("not found")]
    NotFound,
    /// A value breaks a rule of the domain (a factor out of range, a label below its
    /// situation's); `field` names it as the caller wrote it.
    #[error("{field}: {message}")]
    Invalid {
        /// The offending field.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// The request names something this use case cannot act on (an indicator its framework
    /// lacks, a risk factor beyond the framework's): a malformed request rather than a broken
    /// rule.
    #[error("{field}: {message}")]
    BadField {
        /// The offending field.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// The record moved on or the operation clashes with its state (a stale version, a name
    /// taken, a published assessment).
    #[error("{0}")]
    Conflict(String),
    /// Storage failed; nothing was written.
    #[error("storage is unavailable; nothing was written")]
    Unavailable(String),
    /// Something that should not fail did (sealed contact details that do not open, a
    /// password hash that cannot be made).
    #[error("{0}")]
    Internal(String),
}

/// Result of a use case.
pub type Result<T> = std::result::Result<T, AppError>;

/// The message of a refusal for want of a permission.
pub const ROLE_MAY_NOT: &str = "your role may not do this";

impl AppError {
    /// Refused: the role does not hold `p`.
    pub fn forbidden(p: Permission) -> Self {
        AppError::Forbidden {
            needed: Some(p),
            message: ROLE_MAY_NOT.into(),
        }
    }

    /// Refused for a reason other than a missing permission.
    pub fn refused(message: impl Into<String>) -> Self {
        AppError::Forbidden {
            needed: None,
            message: message.into(),
        }
    }

    /// An [`AppError::Invalid`] for `field`.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    /// An [`AppError::BadField`] for `field`.
    pub fn bad_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::BadField {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The field this error names, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            AppError::Invalid { field, .. } | AppError::BadField { field, .. } => Some(field),
            _ => None,
        }
    }
}

impl From<DomainError> for AppError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Invalid { field, message } => AppError::Invalid { field, message },
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Conflict(m) => AppError::Conflict(m),
            StoreError::Domain(d) => d.into(),
            StoreError::Backend(m) => {
                tracing::error!(error = %m, "storage failure");
                AppError::Unavailable(m)
            }
        }
    }
}
