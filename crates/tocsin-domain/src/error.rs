//! The one error type of the domain.

/// Why the domain refused a value or an operation.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum DomainError {
    /// A field of untrusted input is invalid; `field` names it as the client wrote it.
    #[error("{field}: {message}")]
    Invalid {
        /// The offending field, e.g. `latitude`.
        field: String,
        /// What is wrong with it, for a person to read.
        message: String,
    },
    /// Sealing or opening encrypted contact details failed (wrong key or corrupt data).
    #[error("contact details could not be decrypted: wrong key or corrupt data")]
    Crypto,
    /// Hashing a password failed.
    #[error("password hashing failed: {0}")]
    Password(String),
}

impl DomainError {
    /// An `Invalid` error for `field`.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        DomainError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The field this error names, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            DomainError::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }
}
