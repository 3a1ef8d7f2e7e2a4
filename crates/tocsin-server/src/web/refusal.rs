//! A refused form, said the way the person filling it in reads it: the offending field named
//! by its label on the page ("Risk factor 9 (Triggering factors): rationale is required"), not
//! by its name in the API ("factors[8].rationale").

use super::i18n;
use crate::error::ApiError;
use tocsin_domain::Lang;

/// A field's name as a page shows it when the form gives it no label of its own: the part
/// before any index or subfield, in `lang` (the reason catalogue's `fields`), underscores as
/// spaces, capitalised (`event_date` → `Event date`).
pub fn default_label(lang: Lang, field: &str) -> String {
    let base = field.split(['[', '.']).next().unwrap_or(field);
    let base = i18n::field_name(lang, base).replace('_', " ");
    let mut c = base.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => base,
    }
}

/// The message of `e` in `lang` (see [`i18n::reason`]) with its field named by `label` (a
/// label in `lang`, falling back to [`default_label`]): `Label is required…` when the reason
/// reads as a predicate (`is …`, `must …`), else `Label: reason`. An error naming no field is
/// its message.
pub fn human(lang: Lang, e: &ApiError, label: impl Fn(&str) -> Option<String>) -> String {
    let Some(field) = e.field.as_deref() else {
        return i18n::reason(lang, &e.message);
    };
    let reason = e
        .message
        .strip_prefix(field)
        .and_then(|m| m.strip_prefix(": "))
        .unwrap_or(&e.message);
    let name = label(field).unwrap_or_else(|| default_label(lang, field));
    i18n::with_field(lang, &name, reason, &i18n::reason(lang, reason))
}

/// The template function `invalid("name")`: the attributes marking the form control `name`
/// as the refused one when it is the page's `invalid_field` (announced with the error, focused
/// first), else nothing.
pub fn invalid_attrs(state: &minijinja::State, name: &str) -> minijinja::Value {
    let refused = state
        .lookup("invalid_field")
        .is_some_and(|v| v.as_str() == Some(name));
    minijinja::Value::from_safe_string(if refused {
        r#" aria-invalid="true" aria-describedby="form-error" autofocus"#.to_string()
    } else {
        String::new()
    })
}

/// The index in `factors[3].rationale`-style names: `("factors", 3, "rationale")`.
pub fn indexed(field: &str) -> Option<(&str, usize, &str)> {
    let (list, rest) = field.split_once('[')?;
    let (i, rest) = rest.split_once(']')?;
    Some((list, i.parse().ok()?, rest.trim_start_matches('.')))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;

    #[test]
    fn fields_are_named_as_the_page_labels_them() {
        let e = ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            message: "factors[1].rationale: is required (say why this level)".into(),
            field: Some("factors[1].rationale".into()),
        };
        let named = human(Lang::En, &e, |f| {
            indexed(f).map(|(_, i, sub)| format!("Risk factor {}: {sub}", [3, 9][i]))
        });
        assert_eq!(
            named,
            "Risk factor 9: rationale is required (say why this level)"
        );
        let e = ApiError::field("event_date", "expected YYYY-MM-DD");
        assert_eq!(
            human(Lang::En, &e, |_| None),
            "Event date: expected YYYY-MM-DD"
        );
        // In French the field is named in French, and so is the reason.
        assert_eq!(
            human(Lang::Fr, &e, |_| None),
            "Date : attendu : AAAA-MM-JJ (YYYY-MM-DD)"
        );
        assert_eq!(indexed("risk_factors"), None);
    }
}
