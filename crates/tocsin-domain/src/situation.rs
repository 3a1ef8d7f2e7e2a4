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
    /// The first-level administrative areas it covers, as written when it was opened or
    /// edited (none: the whole country).
    pub admin1: Vec<String>,
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
    /// First-level areas it covers: one name or a list (none: the whole country).
    #[schema(value_type = Option<Vec<String>>)]
    pub admin1: Option<Areas>,
    /// `watch` (default), `active` or `closed`.
    pub status: Option<String>,
    /// Summary.
    pub description: Option<String>,
    /// Label; `TLP:AMBER` by default.
    pub tlp: Option<Tlp>,
}

/// Admin-1 areas as a client sends them: one name (`"Ouaka"`) or a list.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Areas {
    /// One area.
    One(String),
    /// Several.
    Many(Vec<String>),
}

impl Areas {
    /// The names given, in order.
    pub fn into_vec(self) -> Vec<String> {
        match self {
            Areas::One(a) => vec![a],
            Areas::Many(v) => v,
        }
    }
}

impl From<&str> for Areas {
    fn from(a: &str) -> Areas {
        Areas::One(a.to_string())
    }
}

impl From<String> for Areas {
    fn from(a: String) -> Areas {
        Areas::One(a)
    }
}

impl From<Vec<String>> for Areas {
    fn from(v: Vec<String>) -> Areas {
        Areas::Many(v)
    }
}

/// The most admin-1 areas one situation lists.
pub const MAX_AREAS: usize = 50;

/// Trimmed, blank ones dropped, repeats (ignoring case) dropped, checked: at most
/// [`MAX_AREAS`], each 1–200 bytes without NUL. Errors name `admin1`.
pub fn parse_areas(v: Vec<String>) -> Result<Vec<String>, DomainError> {
    let mut out: Vec<String> = vec![];
    for a in v {
        let a = a.trim();
        if a.is_empty() {
            continue;
        }
        if a.contains('\0') {
            return Err(DomainError::invalid(
                "admin1",
                "must not contain NUL characters",
            ));
        }
        if a.len() > 200 {
            return Err(DomainError::invalid(
                "admin1",
                "an area name is longer than 200 bytes",
            ));
        }
        if !out.iter().any(|x| x.to_lowercase() == a.to_lowercase()) {
            out.push(a.to_string());
        }
    }
    if out.len() > MAX_AREAS {
        return Err(DomainError::invalid(
            "admin1",
            format!("at most {MAX_AREAS} areas"),
        ));
    }
    Ok(out)
}

/// A change to a situation (fields left out stay as they are). Its country, label and id
/// never change.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SituationEdit {
    /// New name.
    pub name: Option<String>,
    /// The admin-1 areas it covers now (an empty list: the whole country).
    #[schema(value_type = Option<Vec<String>>)]
    pub admin1: Option<Areas>,
    /// `watch`, `active` or `closed`.
    pub status: Option<String>,
    /// Summary.
    pub description: Option<String>,
}

impl Situation {
    /// Whether an incident in `country` and first-level area `admin1` lies in the situation's
    /// area: its country, and one of its areas when it lists any (names compared ignoring
    /// case).
    pub fn covers(&self, country: &Country, admin1: Option<&str>) -> bool {
        *country == self.country
            && (self.admin1.is_empty()
                || admin1.is_some_and(|a| {
                    let a = a.trim();
                    self.admin1.iter().any(|x| x.eq_ignore_ascii_case(a))
                }))
    }

    /// This situation with `e` applied, checked as a new one is.
    pub fn edit(&self, e: SituationEdit) -> Result<Situation, DomainError> {
        let mut n = Situation::parse(NewSituation {
            name: e.name.unwrap_or_else(|| self.name.clone()),
            country: self.country.code().to_string(),
            admin1: Some(e.admin1.unwrap_or_else(|| Areas::Many(self.admin1.clone()))),
            status: Some(e.status.unwrap_or_else(|| self.status.clone())),
            description: Some(e.description.unwrap_or_else(|| self.description.clone())),
            tlp: Some(self.tlp),
        })?;
        n.id = self.id;
        n.created_at = self.created_at;
        Ok(n)
    }

    /// Validate a new situation.
    pub fn parse(n: NewSituation) -> Result<Situation, DomainError> {
        let name = n.name.trim().to_string();
        if name.is_empty() || name.len() > 200 {
            return Err(DomainError::invalid("name", "1-200 bytes"));
        }
        for (field, v) in [
            ("name", Some(&n.name)),
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
            admin1: parse_areas(n.admin1.map(Areas::into_vec).unwrap_or_default())?,
            status,
            description: n.description.unwrap_or_default(),
            tlp: n.tlp.unwrap_or(Tlp::Amber),
            created_at: crate::time::now(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(admin1: Option<Areas>) -> NewSituation {
        NewSituation {
            name: "CAR: centre".into(),
            country: "CAF".into(),
            admin1,
            status: None,
            description: None,
            tlp: None,
        }
    }

    #[test]
    fn one_area_or_several_are_kept_in_order_without_repeats() {
        let s = Situation::parse(new(Some("Ouaka".into()))).unwrap();
        assert_eq!(s.admin1, vec!["Ouaka"]);
        let s = Situation::parse(new(Some(Areas::Many(vec![
            " Ouaka ".into(),
            "Haute-Kotto".into(),
            "ouaka".into(),
            "".into(),
        ]))))
        .unwrap();
        assert_eq!(s.admin1, vec!["Ouaka", "Haute-Kotto"]);
        let s = Situation::parse(new(None)).unwrap();
        assert!(s.admin1.is_empty());
    }

    #[test]
    fn areas_come_as_a_string_or_a_list_in_json() {
        let one: NewSituation =
            serde_json::from_str(r#"{"name":"x","country":"CAF","admin1":"Ouaka"}"#).unwrap();
        assert_eq!(one.admin1, Some(Areas::One("Ouaka".into())));
        let many: NewSituation =
            serde_json::from_str(r#"{"name":"x","country":"CAF","admin1":["Ouaka","Vakaga"]}"#)
                .unwrap();
        assert_eq!(
            Situation::parse(many).unwrap().admin1,
            vec!["Ouaka", "Vakaga"]
        );
    }

    #[test]
    fn bad_areas_are_refused_naming_admin1() {
        let too_many: Vec<String> = (0..=MAX_AREAS).map(|i| format!("Area {i}")).collect();
        for bad in [vec!["a\0b".to_string()], vec!["x".repeat(201)], too_many] {
            match Situation::parse(new(Some(Areas::Many(bad)))) {
                Err(DomainError::Invalid { field, .. }) => assert_eq!(field, "admin1"),
                other => panic!("expected a refusal naming admin1, got {other:?}"),
            }
        }
    }

    #[test]
    fn covers_its_country_and_listed_areas_only() {
        let s = Situation::parse(new(Some(Areas::Many(vec![
            "Ouaka".into(),
            "Vakaga".into(),
        ]))))
        .unwrap();
        let caf = Country::parse("CAF").unwrap();
        let tcd = Country::parse("TCD").unwrap();
        assert!(s.covers(&caf, Some("ouaka")));
        assert!(s.covers(&caf, Some("Vakaga")));
        assert!(!s.covers(&caf, Some("Bangui")));
        assert!(!s.covers(&caf, None));
        assert!(!s.covers(&tcd, Some("Ouaka")));
        let whole = Situation::parse(new(None)).unwrap();
        assert!(whole.covers(&caf, None));
        assert!(!whole.covers(&tcd, None));
    }

    #[test]
    fn an_edit_keeps_id_country_label_and_what_it_leaves_out() {
        let s = Situation::parse(new(Some("Ouaka".into()))).unwrap();
        let e = s
            .edit(SituationEdit {
                admin1: Some(Areas::Many(vec!["Ouaka".into(), "Haute-Kotto".into()])),
                status: Some("active".into()),
                ..Default::default()
            })
            .unwrap();
        assert_eq!((e.id, e.created_at, e.tlp), (s.id, s.created_at, s.tlp));
        assert_eq!(e.name, s.name);
        assert_eq!(e.admin1, vec!["Ouaka", "Haute-Kotto"]);
        assert_eq!(e.status, "active");
        assert!(s
            .edit(SituationEdit {
                status: Some("over".into()),
                ..Default::default()
            })
            .is_err());
    }
}
