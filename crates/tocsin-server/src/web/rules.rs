//! Admin pages for alert rules: the list with each rule's enabled state and a button to enable
//! or disable it (`/admin/rules`), and one form to create (`/admin/rules/new`) or edit
//! (`/admin/rules/{id}`) a rule of any kind: the common fields and every kind's own, blanks
//! left out. A refusal is shown next to the field it names, with the typed values kept. The
//! rules of rules are [`tocsin_app::rules`]'.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::Router;
use minijinja::context;

use super::i18n;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use tocsin_app::AppError;
use tocsin_domain::{NewAlertRule, Severity, Tlp};
use uuid::Uuid;

use super::{page, path_id, CsrfForm, WebError, WebResult, WebUser};
use crate::error::ApiError;
use crate::AppState;

/// `/admin/rules`, `/admin/rules/new`, `/admin/rules/{id}`, `/admin/rules/{id}/enabled`.
pub fn router() -> Router<AppState> {
    use axum::routing::{get, post};
    Router::new()
        .route("/admin/rules", get(list))
        .route("/admin/rules/new", get(new_page).post(create))
        .route("/admin/rules/{id}", get(edit_page).post(save))
        .route("/admin/rules/{id}/enabled", post(enable))
}

/// The form's fields: name, how it is read, which kinds use it (empty: every kind).
const FIELDS: &[(&str, Kind, &[&str])] = &[
    ("name", Kind::Text, &[]),
    ("severity", Kind::Text, &[]),
    ("ack_within", Kind::Text, &[]),
    ("tlp", Kind::Text, &[]),
    ("desk", Kind::Text, &[]),
    ("kind", Kind::Text, &[]),
    (
        "country",
        Kind::Text,
        &["incidents", "signal", "report", "forecast"],
    ),
    ("admin1", Kind::Text, &["incidents", "signal"]),
    ("latitude", Kind::Number, &["incidents"]),
    ("longitude", Kind::Number, &["incidents"]),
    ("radius_km", Kind::Number, &["incidents"]),
    ("situation", Kind::Text, &["incidents", "assessment"]),
    ("window", Kind::Text, &["incidents"]),
    ("min_incidents", Kind::Number, &["incidents"]),
    ("min_fatalities", Kind::Number, &["incidents"]),
    ("event_types", Kind::List, &["incidents"]),
    ("civilian_targeting", Kind::Bool, &["incidents"]),
    ("min_severity", Kind::Text, &["signal"]),
    ("factor", Kind::Text, &["assessment"]),
    ("min_level", Kind::Text, &["assessment"]),
    ("top", Kind::Number, &["forecast"]),
    ("categories", Kind::List, &["report"]),
];

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Text,
    Number,
    List,
    Bool,
}

/// The typed form as JSON fields: blanks are `null`, numbers, lists (comma-separated) and
/// yes/no read; a value that cannot be read is refused naming its field.
fn to_json(f: &BTreeMap<String, String>) -> Result<Map<String, Value>, AppError> {
    let mut m = Map::new();
    for (name, kind, _) in FIELDS {
        let v = f.get(*name).map(|s| s.trim()).unwrap_or("");
        let j = if v.is_empty() {
            Value::Null
        } else {
            match kind {
                Kind::Text => Value::String(v.to_string()),
                Kind::Number => {
                    let n: f64 = v
                        .parse()
                        .map_err(|_| AppError::bad_field(*name, "expected a number"))?;
                    if name == &"latitude" || name == &"longitude" || name == &"radius_km" {
                        serde_json::json!(n)
                    } else if n.fract() == 0.0 && n >= 0.0 {
                        serde_json::json!(n as u64)
                    } else {
                        return Err(AppError::bad_field(*name, "expected a whole number"));
                    }
                }
                Kind::List => Value::Array(
                    v.split(',')
                        .map(|s| s.trim())
                        .filter(|s| !s.is_empty())
                        .map(|s| Value::String(s.to_string()))
                        .collect(),
                ),
                Kind::Bool => Value::Bool(v == "yes" || v == "true"),
            }
        };
        m.insert(name.to_string(), j);
    }
    Ok(m)
}

/// A stored rule as the form shows it.
fn of(rule: &Value) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (name, kind, _) in FIELDS {
        let v = match rule.get(*name) {
            None | Some(Value::Null) => continue,
            Some(Value::String(s)) => s.clone(),
            Some(Value::Array(a)) => a
                .iter()
                .map(|x| {
                    x.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| x.to_string())
                })
                .collect::<Vec<_>>()
                .join(", "),
            Some(Value::Bool(b)) if *kind == Kind::Bool => (if *b { "yes" } else { "no" }).into(),
            Some(x) => x.to_string(),
        };
        out.insert(name.to_string(), v);
    }
    out
}

async fn form_page(
    st: &AppState,
    wu: &WebUser,
    status: StatusCode,
    id: Option<Uuid>,
    f: BTreeMap<String, String>,
    error: Option<(String, String)>,
) -> WebResult {
    let fields: Vec<_> = FIELDS
        .iter()
        .skip(6)
        .map(|(name, kind, kinds)| {
            context! {
                name, kinds => kinds.join(", "),
                yesno => *kind == Kind::Bool,
                value => f.get(*name).cloned().unwrap_or_default(),
            }
        })
        .collect();
    let desks: Vec<_> = st
        .app()
        .desks(&wu.user)
        .await?
        .into_iter()
        .map(|d| (d.id.to_string(), d.name))
        .collect();
    Ok(page(
        st,
        wu,
        status,
        "rule_form.html",
        context! {
            id => id.map(|i| i.to_string()),
            f, fields, desks,
            field_error => error.as_ref().map(|e| e.0.split(['[', '.']).next().unwrap_or("").to_string()),
            field => error.as_ref().map(|e| e.0.clone()),
            message => error.map(|e| e.1),
            severities => Severity::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            kinds => ["incidents", "signal", "assessment", "forecast", "report"],
            rule_tlps => Tlp::ALL.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
        },
    ))
}

/// A refusal kept on the form (client errors naming a field, and conflicts); others are
/// error pages.
fn on_form(wu: &WebUser, e: AppError) -> Result<(StatusCode, String, String), WebError> {
    let field = e.field().map(str::to_string);
    let e = ApiError::from(e);
    match field {
        Some(f) if e.status.is_client_error() => {
            let english = e
                .message
                .strip_prefix(&format!("{f}: "))
                .unwrap_or(&e.message);
            let sep = if wu.lang == tocsin_domain::Lang::Fr {
                " : "
            } else {
                ": "
            };
            let name = i18n::field_name(wu.lang, &f);
            let msg = format!("{name}{sep}{}", wu.reason(english));
            Ok((e.status, f, msg))
        }
        _ if e.status == StatusCode::CONFLICT => {
            Ok((e.status, "name".into(), wu.reason(&e.message)))
        }
        _ => Err(e.into()),
    }
}

/// `GET /admin/rules`: every rule with its state.
pub async fn list(State(st): State<AppState>, wu: WebUser) -> WebResult {
    let rules = st.app().rules(&wu.user, false).await?;
    let rows: Vec<_> = rules
        .iter()
        .map(|r| context! { r, kind => r.condition.kind() })
        .collect();
    Ok(page(
        &st,
        &wu,
        StatusCode::OK,
        "rules.html",
        context! { rows },
    ))
}

/// `GET /admin/rules/new`
pub async fn new_page(State(st): State<AppState>, wu: WebUser) -> WebResult {
    let mut f = BTreeMap::new();
    f.insert("kind".to_string(), "incidents".to_string());
    f.insert("ack_within".to_string(), "4h".to_string());
    form_page(&st, &wu, StatusCode::OK, None, f, None).await
}

/// `POST /admin/rules/new`: create the rule, then the list.
pub async fn create(
    State(st): State<AppState>,
    wu: WebUser,
    CsrfForm(f): CsrfForm<BTreeMap<String, String>>,
) -> WebResult {
    let done = async {
        let mut m = to_json(&f)?;
        m.retain(|_, v| !v.is_null());
        let n: NewAlertRule = serde_json::from_value(Value::Object(m))
            .map_err(|e| AppError::bad_field("kind", e.to_string()))?;
        st.app().create_rule(&wu.user, n).await
    }
    .await;
    match done {
        Ok(_) => Ok(Redirect::to("/admin/rules").into_response()),
        Err(e) => {
            let (status, field, msg) = on_form(&wu, e)?;
            form_page(&st, &wu, status, None, f, Some((field, msg))).await
        }
    }
}

/// `GET /admin/rules/{id}`: the rule's form.
pub async fn edit_page(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
) -> WebResult {
    let id = path_id(&id)?;
    let r = st.app().rule(&wu.user, id).await?;
    let v = serde_json::to_value(&r).map_err(|e| AppError::Internal(e.to_string()))?;
    form_page(&st, &wu, StatusCode::OK, Some(id), of(&v), None).await
}

/// `POST /admin/rules/{id}`: save the whole rule (blanks remove optional fields), then the
/// list.
pub async fn save(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<BTreeMap<String, String>>,
) -> WebResult {
    let id = path_id(&id)?;
    let done = async {
        let mut m = to_json(&f)?;
        for required in ["name", "severity", "ack_within", "kind"] {
            if m.get(required).is_some_and(Value::is_null) {
                m.remove(required);
            }
        }
        st.app().update_rule(&wu.user, id, m).await
    }
    .await;
    match done {
        Ok(_) => Ok(Redirect::to("/admin/rules").into_response()),
        Err(e) => {
            let (status, field, msg) = on_form(&wu, e)?;
            form_page(&st, &wu, status, Some(id), f, Some((field, msg))).await
        }
    }
}

/// `POST /admin/rules/{id}/enabled` with `enabled` = `yes` or `no`, then the list.
pub async fn enable(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<BTreeMap<String, String>>,
) -> WebResult {
    let id = path_id(&id)?;
    let on = f.get("enabled").map(String::as_str) == Some("yes");
    st.app().set_rule_enabled(&wu.user, id, on).await?;
    Ok(Redirect::to("/admin/rules").into_response())
}
