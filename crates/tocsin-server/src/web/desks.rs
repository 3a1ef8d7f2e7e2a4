//! Admin pages for desks: create (`/admin/desks/new`) and edit (`/admin/desks/{id}`) a desk's
//! name, department, members, countries, situations, escalation steps, repeats and duty rota
//! in one plain form. Lists are typed as text (names separated by commas or spaces, one
//! escalation step or shift a line); a refusal is shown next to the field it names, with the
//! typed values kept. The rules (who may, what is valid) are [`tocsin_app::desks`]'s.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::Router;
use minijinja::context;

use super::i18n;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tocsin_app::desks::DeskPatch;
use tocsin_app::AppError;
use tocsin_domain::{Desk, NewDesk, Permission, Target};
use uuid::Uuid;

use super::{page, path_id, CsrfForm, WebError, WebResult, WebUser};
use crate::error::ApiError;
use crate::AppState;

/// `/admin/desks/new`, `/admin/desks/{id}`.
pub fn router() -> Router<AppState> {
    use axum::routing::get;
    Router::new()
        .route("/admin/desks/new", get(new_page).post(create))
        .route("/admin/desks/{id}", get(edit_page).post(save))
}

fn now() -> chrono::DateTime<chrono::Utc> {
    tocsin_domain::time::now()
}

/// The desk form as typed.
#[derive(Deserialize, Serialize, Default, Clone)]
pub struct DeskForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    department: String,
    /// Usernames, separated by commas or spaces.
    #[serde(default)]
    members: String,
    /// ISO alpha-3 codes, separated by commas or spaces.
    #[serde(default)]
    countries: String,
    /// Situation ids, separated by commas or spaces.
    #[serde(default)]
    situations: String,
    /// One step a line: `15m user alice`, `1h desk ID`, `2h on_duty ID`.
    #[serde(default)]
    escalation: String,
    #[serde(default)]
    repeat: String,
    /// One shift a line: `alice 2026-01-05T08:00:00Z 2026-01-05T20:00:00Z`.
    #[serde(default)]
    rota: String,
}

fn words(s: &str) -> Vec<String> {
    s.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

fn lines(s: &str) -> impl Iterator<Item = (usize, Vec<&str>)> + '_ {
    s.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|w| !w.is_empty())
        .enumerate()
}

impl DeskForm {
    /// The form of an existing desk.
    fn of(d: &Desk) -> DeskForm {
        DeskForm {
            name: d.name.clone(),
            department: d.department.name().to_string(),
            members: d.members.join(", "),
            countries: d
                .countries
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            situations: d
                .situations
                .iter()
                .map(Uuid::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            escalation: d
                .escalation
                .steps()
                .iter()
                .map(|s| {
                    let (kind, who) = match &s.notify {
                        Target::Desk(id) => ("desk", id.to_string()),
                        Target::User(u) => ("user", u.clone()),
                        Target::OnDuty(id) => ("on_duty", id.to_string()),
                    };
                    format!("{} {kind} {who}", s.after)
                })
                .collect::<Vec<_>>()
                .join("\n"),
            repeat: d.escalation.repeat().to_string(),
            rota: d
                .rota
                .iter()
                .map(|s| {
                    format!(
                        "{} {} {}",
                        s.user,
                        s.from.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                        s.until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                    )
                })
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }

    /// The desk as the API would receive it; a value that cannot be read is refused naming
    /// its field.
    fn parse(&self) -> Result<NewDesk, AppError> {
        let mut steps = Vec::new();
        for (i, w) in lines(&self.escalation) {
            let field = format!("escalation[{i}]");
            let [after, kind, who] = w[..] else {
                return Err(AppError::bad_field(
                    field,
                    "write a step as: 15m user alice, 1h desk ID or 2h on_duty ID",
                ));
            };
            tocsin_domain::TextDuration::parse_positive(&format!("{field}.after"), after)?;
            let notify = match kind {
                "user" => json!({"user": who}),
                "desk" | "on_duty" => {
                    Uuid::parse_str(who).map_err(|_| {
                        AppError::bad_field(format!("{field}.notify"), "not a valid desk id")
                    })?;
                    json!({ kind: who })
                }
                _ => {
                    return Err(AppError::bad_field(
                        format!("{field}.notify"),
                        "notify a user, a desk or on_duty",
                    ))
                }
            };
            steps.push(json!({"after": after, "notify": notify}));
        }
        let mut rota = Vec::new();
        for (i, w) in lines(&self.rota) {
            let [user, from, until] = w[..] else {
                return Err(AppError::bad_field(
                    format!("rota[{i}]"),
                    "write a shift as: alice 2026-01-05T08:00:00Z 2026-01-05T20:00:00Z",
                ));
            };
            for (name, t) in [("from", from), ("until", until)] {
                chrono::DateTime::parse_from_rfc3339(t).map_err(|_| {
                    AppError::bad_field(
                        format!("rota[{i}].{name}"),
                        "expected a time like 2026-01-05T08:00:00Z",
                    )
                })?;
            }
            rota.push(json!({"user": user, "from": from, "until": until}));
        }
        let repeat: u8 = match self.repeat.trim() {
            "" => 0,
            r => r
                .parse()
                .map_err(|_| AppError::bad_field("repeat", "a whole number from 0 to 255"))?,
        };
        let situations = words(&self.situations);
        for w in &situations {
            Uuid::parse_str(w).map_err(|_| {
                AppError::bad_field("situations", format!("{w:?} is not a situation id"))
            })?;
        }
        let v = json!({
            "name": self.name, "department": self.department,
            "members": words(&self.members), "countries": words(&self.countries),
            "situations": situations, "escalation": steps,
            "repeat": repeat, "rota": rota,
        });
        serde_json::from_value::<NewDesk>(v)
            .map_err(|e| AppError::bad_field("escalation", e.to_string()))
    }
}

/// The form's field a refusal names: `escalation[1].notify` is the escalation field.
fn base_field(f: &str) -> String {
    f.split(['[', '.']).next().unwrap_or(f).to_string()
}

async fn form_page(
    st: &AppState,
    wu: &WebUser,
    status: StatusCode,
    id: Option<Uuid>,
    f: DeskForm,
    error: Option<(String, String)>,
) -> WebResult {
    Ok(page(
        st,
        wu,
        status,
        "desk_form.html",
        context! {
            id => id.map(|i| i.to_string()),
            f,
            field_error => error.as_ref().map(|e| base_field(&e.0)),
            field => error.as_ref().map(|e| e.0.clone()),
            message => error.map(|e| e.1),
            departments => st.alerting.departments.iter().map(|d| d.name().to_string()).collect::<Vec<_>>(),
            can_configure => wu.user.can(Permission::AlertConfigure),
        },
    ))
}

/// A refusal kept on the form (client errors other than 404 and 403); others are error pages.
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

/// `GET /admin/desks/new`
pub async fn new_page(State(st): State<AppState>, wu: WebUser) -> WebResult {
    form_page(&st, &wu, StatusCode::OK, None, DeskForm::default(), None).await
}

/// `POST /admin/desks/new`: create the desk, then the desks' list.
pub async fn create(
    State(st): State<AppState>,
    wu: WebUser,
    CsrfForm(f): CsrfForm<DeskForm>,
) -> WebResult {
    let done = match f.parse() {
        Ok(n) => st.app().create_desk(&wu.user, n, now()).await,
        Err(e) => Err(e),
    };
    match done {
        Ok(_) => Ok(Redirect::to("/admin/desks").into_response()),
        Err(e) => {
            let (status, field, msg) = on_form(&wu, e)?;
            form_page(&st, &wu, status, None, f, Some((field, msg))).await
        }
    }
}

/// `GET /admin/desks/{id}`: the desk's form.
pub async fn edit_page(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
) -> WebResult {
    let id = path_id(&id)?;
    let d = st.app().desk(&wu.user, id).await?;
    form_page(&st, &wu, StatusCode::OK, Some(id), DeskForm::of(&d), None).await
}

/// `POST /admin/desks/{id}`: save the whole desk, then the desks' list.
pub async fn save(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<DeskForm>,
) -> WebResult {
    let id = path_id(&id)?;
    let done = match f.parse() {
        Ok(n) => {
            let p = DeskPatch {
                name: Some(n.name),
                department: Some(n.department),
                members: Some(n.members),
                countries: Some(n.countries),
                situations: Some(n.situations),
                escalation: Some(n.escalation),
                repeat: Some(n.repeat),
                rota: Some(n.rota),
            };
            st.app().update_desk(&wu.user, id, p, now()).await
        }
        Err(e) => Err(e),
    };
    match done {
        Ok(_) => Ok(Redirect::to("/admin/desks").into_response()),
        Err(e) => {
            let (status, field, msg) = on_form(&wu, e)?;
            form_page(&st, &wu, status, Some(id), f, Some((field, msg))).await
        }
    }
}
