//! Situations: countries or areas under watch.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Country, DomainError, Tlp};

/// A situation under watch.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Situation {
    /// Its id.
    pub id: Uuid,
    /// e.g. `Central African Republic: north-west`.
    pub name: String,
    /// ISO 3166-1 alpha-3.
    #[schema(value_type = String)]
    pub country: Country,
    /// Sub-national area, if any.
    pub admin1: Option<String>,
    /// `watch`, `active` or `closed`.
    pub status: String,
    /// Summary.
    pub description: String,
    /// Its label.
    pub tlp: Tlp,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// A situation as a client sends it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSituation {
    /// Name.
    pub name: String,
    /// ISO alpha-3.
    pub country: String,
    /// Sub-national area.
    pub admin1: Option<String>,
    /// `watch` (default), `active` or `closed`.
    pub status: Option<String>,
    /// Summary.
    pub description: Option<String>,
    /// Label; `TLP:AMBER` by default.
    pub tlp: Option<Tlp>,
}

impl Situation {
    /// Validate a new situation.
    pub fn parse(n: NewSituation) -> Result<Situation, DomainError> {
        let name = n.name.trim().to_string();
        if name.is_empty() || name.len() > 200 {
            return Err(DomainError::invalid("name", "1-200 bytes"));
        }
        for (field, v) in [
            ("name", Some(&n.name)),
            ("admin1", n.admin1.as_ref()),
            ("description", n.description.as_ref()),
        ] {
            if v.is_some_and(|v| v.contains('\0')) {
                return Err(DomainError::invalid(
                    field,
                    "must not contain NUL characters",
                ));
            }
        }
        if n.description.as_ref().is_some_and(|d| d.len() > 20_000) {
            return Err(DomainError::invalid(
                "description",
                "longer than 20000 bytes",
            ));
        }
        let status = n.status.unwrap_or_else(|| "watch".into());
        if !["watch", "active", "closed"].contains(&status.as_str()) {
            return Err(DomainError::invalid(
                "status",
                "expected watch, active or closed",
            ));
        }
        Ok(Situation {
            id: crate::new_id(),
            name,
            country: Country::parse(&n.country)?,
            admin1: n.admin1.filter(|a| !a.trim().is_empty()),
            status,
            description: n.description.unwrap_or_default(),
            tlp: n.tlp.unwrap_or(Tlp::Amber),
            created_at: crate::time::now(),
        })
    }
}
