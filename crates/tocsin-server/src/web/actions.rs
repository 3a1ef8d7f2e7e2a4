//! Web pages of action plans: a situation's action plan (its actions, each with a form to
//! change it, and the measures its risk picture suggests, each with a form to record an action
//! from it) and its whole-of-government view (departments × risk factors, gaps named in
//! words). Plain forms with CSRF tokens; no script. The rules are the application layer's
//! ([`tocsin_app::actions`]).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Router;
use minijinja::context;
use serde::Deserialize;
use tocsin_domain::{ActionPatch, ActionStatus, NewAction, Permission};
use tocsin_toolbox::Toolbox;
use uuid::Uuid;

use super::{page, path_id, CsrfForm, WebError, WebResult, WebUser};
use crate::error::ApiError;
use crate::AppState;

/// `/situations/{id}/actions`, `/situations/{id}/response`, `/actions/{id}`.
pub fn router() -> Router<AppState> {
    use axum::routing::{get, post};
    Router::new()
        .route("/situations/{id}/actions", get(plan).post(create))
        .route("/situations/{id}/response", get(response))
        .route("/actions/{id}", post(change))
        .route("/actions/{id}/share", post(share))
}

async fn plan_page(
    st: &AppState,
    wu: &WebUser,
    id: Uuid,
    status: StatusCode,
    error: Option<String>,
    typed: minijinja::Value,
) -> WebResult {
    let app = st.app();
    let situation = app.get_situation(&wu.user, id).await?;
    let actions = app.actions_of(&wu.user, id).await?;
    let suggestions = app.suggested_measures(&wu.user, id).await?;
    let today = tocsin_domain::time::now().date_naive();
    let can_share = wu.user.can(Permission::ShareExport);
    let shared = app.shared_actions(&wu.user).await?;
    let rows: Vec<_> = actions
        .iter()
        .map(|a| {
            let measure = Toolbox::shipped()
                .measure(&a.measure_id)
                .map(|m| m.name.clone())
                .unwrap_or_default();
            context! {
                a, measure,
                shared => shared.get(&a.id).map(|t| t.as_str()),
                overdue => a.is_overdue(today),
                is_final => a.status.is_final(),
                factors => a.risk_factors.iter().map(u32::to_string).collect::<Vec<_>>().join(", "),
            }
        })
        .collect();
    let suggested: Vec<_> = suggestions
        .measures
        .iter()
        .map(|m| {
            context! {
                m,
                factor_list => m.factors.iter().map(|f| f.factor.to_string()).collect::<Vec<_>>().join(","),
            }
        })
        .collect();
    Ok(page(
        st,
        wu,
        status,
        "actions.html",
        context! {
            s => situation,
            rows,
            suggestions,
            suggested,
            error,
            can_act => wu.user.can(Permission::ActionWrite),
            can_share,
            share_labels => tocsin_app::share_items::action_share_labels(&wu.user)
                .into_iter().map(|t| t.as_str()).collect::<Vec<_>>(),
            departments => st.alerting.departments.iter().map(|d| d.name().to_string()).collect::<Vec<_>>(),
            statuses => ActionStatus::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            measures => Toolbox::shipped().measures.iter().map(|m| (m.id.clone(), m.name.clone())).collect::<Vec<_>>(),
            default_due => (today + chrono::Duration::days(30)).to_string(),
            ..typed
        },
    ))
}

/// A refusal shown on the plan page (client errors other than 404; others are error pages),
/// its field named as the action forms label it, and the refused control.
fn refused(
    wu: &WebUser,
    e: tocsin_app::AppError,
) -> Result<(StatusCode, String, Option<String>), WebError> {
    let e = ApiError::from(e);
    if !e.status.is_client_error() || e.status == StatusCode::NOT_FOUND {
        return Err(e.into());
    }
    let base = e
        .field
        .as_deref()
        .map(|f| f.split(['[', '.']).next().unwrap_or(f).to_string());
    let msg = super::refusal::human(wu.lang, &e, |f| {
        Some(wu.t(
            match f.split(['[', '.']).next().unwrap_or(f) {
                "risk_factors" => "actions.factors_addressed",
                "desk_id" => "actions.desk_id",
                "due_date" => "col.due",
                "next_review" => "actions.next_review",
                "measure_id" => "col.measure",
                "department" => "col.department",
                "lead" => "col.lead",
                "status" => "col.status",
                "outcome" => "toolbox.outcome",
                _ => return None,
            },
            &[],
        ))
    });
    Ok((e.status, msg, base))
}

/// `GET /situations/{id}/actions`: the action plan.
pub async fn plan(State(st): State<AppState>, wu: WebUser, Path(id): Path<String>) -> WebResult {
    plan_page(&st, &wu, path_id(&id)?, StatusCode::OK, None, context! {}).await
}

/// The form recording an action.
#[derive(Deserialize, serde::Serialize)]
pub struct CreateForm {
    measure_id: String,
    department: String,
    lead: String,
    due_date: String,
    #[serde(default)]
    risk_factors: String,
    #[serde(default)]
    desk_id: String,
    #[serde(default)]
    next_review: String,
    #[serde(default)]
    notes: String,
}

fn date(field: &str, v: &str) -> Result<Option<chrono::NaiveDate>, tocsin_app::AppError> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| tocsin_app::AppError::bad_field(field, "expected YYYY-MM-DD"))
}

impl CreateForm {
    fn parse(self, situation_id: Uuid) -> Result<NewAction, tocsin_app::AppError> {
        use tocsin_app::AppError;
        let risk_factors = if self.risk_factors.trim().is_empty() {
            None
        } else {
            Some(
                self.risk_factors
                    .split(',')
                    .map(|f| {
                        f.trim().parse::<u32>().map_err(|_| {
                            AppError::bad_field(
                                "risk_factors",
                                "expected numbers separated by commas",
                            )
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            )
        };
        let desk_id = match self.desk_id.trim() {
            "" => None,
            d => Some(
                Uuid::parse_str(d).map_err(|_| AppError::bad_field("desk_id", "not a valid id"))?,
            ),
        };
        Ok(NewAction {
            measure_id: self.measure_id,
            situation_id: Some(situation_id),
            alert_ids: vec![],
            risk_factors,
            department: Some(self.department).filter(|d| !d.trim().is_empty()),
            desk_id,
            lead: self.lead,
            due_date: date("due_date", &self.due_date)?
                .ok_or_else(|| AppError::bad_field("due_date", "a due date is needed"))?,
            status: None,
            next_review: date("next_review", &self.next_review)?,
            notes: Some(self.notes).filter(|n| !n.trim().is_empty()),
        })
    }
}

/// `POST /situations/{id}/actions`: record an action, then back to the plan.
pub async fn create(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<CreateForm>,
) -> WebResult {
    let id = path_id(&id)?;
    let typed = minijinja::Value::from_serialize(&f);
    let done = match f.parse(id) {
        Ok(n) => st.app().create_action(&wu.user, n).await,
        Err(e) => Err(e),
    };
    match done {
        Ok(_) => Ok(Redirect::to(&format!("/situations/{id}/actions")).into_response()),
        Err(e) => {
            let (status, msg, invalid) = refused(&wu, e)?;
            // The "Record another action" form shows what was typed.
            plan_page(
                &st,
                &wu,
                id,
                status,
                Some(msg),
                context! { new => typed, invalid_field => invalid },
            )
            .await
        }
    }
}

/// The form changing an action.
#[derive(Deserialize, serde::Serialize)]
pub struct ChangeForm {
    expected_version: i64,
    #[serde(default)]
    status: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    due_date: String,
    #[serde(default)]
    next_review: String,
    #[serde(default)]
    lead: String,
}

/// `POST /actions/{id}`: change an action's status, outcome, dates or lead, then back to its
/// situation's plan.
pub async fn change(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<ChangeForm>,
) -> WebResult {
    let id = path_id(&id)?;
    let current = st.app().get_action(&wu.user, id).await?.action;
    let typed = minijinja::Value::from_serialize(&f);
    let blank = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let patch = (|| {
        Ok::<_, tocsin_app::AppError>(ActionPatch {
            expected_version: Some(f.expected_version),
            status: blank(&f.status).filter(|s| s != current.status.as_str()),
            outcome: blank(&f.outcome).filter(|o| Some(o) != current.outcome.as_ref()),
            due_date: date("due_date", &f.due_date)?.filter(|d| *d != current.due_date),
            next_review: date("next_review", &f.next_review)?
                .filter(|d| Some(*d) != current.next_review),
            lead: blank(&f.lead).filter(|l| *l != current.lead),
            ..Default::default()
        })
    })();
    let done = match patch {
        Ok(p) => st.app().patch_action(&wu.user, id, p).await,
        Err(e) => Err(e),
    };
    match done {
        Ok(a) => {
            Ok(Redirect::to(&format!("/situations/{}/actions", a.situation_id)).into_response())
        }
        Err(e) => {
            let (status, msg, invalid) = refused(&wu, e)?;
            // The action's own form shows what was typed.
            let extra =
                context! { changed => id.to_string(), change => typed, invalid_field => invalid };
            plan_page(&st, &wu, current.situation_id, status, Some(msg), extra).await
        }
    }
}

/// `GET /situations/{id}/response`: the whole-of-government view.
pub async fn response(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let id = path_id(&id)?;
    let situation = st.app().situation_for(&wu.user, id).await?;
    let v = st.app().response_view(&wu.user, id).await?;
    Ok(page(
        &st,
        &wu,
        StatusCode::OK,
        "response.html",
        context! { s => situation, v },
    ))
}

/// The form sharing an action with partners: a label, or empty (no longer shared).
#[derive(Deserialize)]
pub struct ShareForm {
    #[serde(default)]
    tlp: String,
}

/// `POST /actions/{id}/share`: mark an action shareable with partner organisations under a
/// label, or no longer (admins, analysts), then back to its situation's plan.
pub async fn share(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<ShareForm>,
) -> WebResult {
    let id = path_id(&id)?;
    let situation = st.app().get_action(&wu.user, id).await?.action.situation_id;
    let tlp = match f.tlp.trim() {
        "" => Ok(None),
        t => t.parse::<tocsin_domain::Tlp>().map(Some).map_err(|_| {
            tocsin_app::AppError::bad_field("tlp", "expected a TLP label, e.g. TLP:GREEN")
        }),
    };
    let done = match tlp {
        Ok(t) => st.app().set_action_sharing(&wu.user, id, t).await,
        Err(e) => Err(e),
    };
    match done {
        Ok(()) => Ok(
            Redirect::to(&format!("/situations/{situation}/actions#action-{id}")).into_response(),
        ),
        Err(e) => {
            let (status, msg, _) = refused(&wu, e)?;
            plan_page(&st, &wu, situation, status, Some(msg), context! {}).await
        }
    }
}
