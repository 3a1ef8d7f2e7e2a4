//! The verification desk's pages: the incident page's verification panel (moves with a
//! reason, the checklist, history, linked reports with their grading, linking a report), a
//! report's credibility, and the sources (`/sources`, `/sources/{id}`: grade with a reason,
//! history, suggestion and track record). A refused form is shown again with the reason and
//! what was typed. Who may do what is `tocsin_app`'s; buttons are only hidden here.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::Router;
use minijinja::{context, Value};
use serde::Deserialize;
use tocsin_domain::{Permission, Reliability, Tagged};

use super::{next_url, page, path_id, CsrfForm, WebResult, WebUser};
use crate::api::PageQuery;
use crate::error::ApiError;
use crate::input::parse_query;
use crate::AppState;

/// The verification desk's page routes.
pub fn router() -> Router<AppState> {
    use axum::routing::{get, post};
    Router::new()
        .route("/incidents/{id}/verification", post(move_status))
        .route("/incidents/{id}/verification/tasks", post(tick))
        .route("/incidents/{id}/link", post(link))
        .route("/incidents/{id}/tags", post(set_incident_tags))
        .route("/incidents/{id}/share-with", post(set_share_with))
        .route("/reports/{id}/link", post(link_from_report))
        .route("/reports/{id}/credibility", post(credibility))
        .route("/sources", get(sources))
        .route("/sources/{id}", get(source))
        .route("/sources/{id}/reliability", post(grade))
        .route("/sources/{id}/contact", post(reveal_contact))
        .route("/sources/{id}/messages", post(message_source))
}

/// The most linked reports an incident page lists.
const LINKED_SHOWN: usize = 100;

/// The incident page (`GET /incidents/{id}` and every refused form of its panel), with
/// `extra` (an error, the typed values) merged in.
pub(crate) async fn incident_page(
    st: &AppState,
    wu: &WebUser,
    id: uuid::Uuid,
    status: StatusCode,
    extra: Value,
) -> WebResult {
    let app = st.app();
    let i = app.get_incident(&wu.user, id).await?;
    let verification = app.verification_view(&wu.user, id).await?;
    let mut reports = Vec::new();
    for r in i.report_ids.iter().take(LINKED_SHOWN) {
        match app.get_report(&wu.user, *r).await {
            Ok(r) => reports.push(r),
            Err(tocsin_app::AppError::NotFound) => {}
            Err(e) => return Err(ApiError::from(e).into()),
        }
    }
    // Received from another organisation: its origin shown, and read-only.
    let origin = app.incident_origin(&wu.user, id).await?;
    let can_edit = wu.user.can(Permission::IncidentUpdate) && origin.is_none();
    let tags = app.get_tags(&wu.user, Tagged::Incident, id).await?;
    // Who it is shared with, for analysts who share (a received incident is not shared on).
    let sharing = if wu.user.can(Permission::ShareExport) && origin.is_none() {
        let (partners, groups) = app.share_targets((&wu.user).into()).await?;
        let named = app.share_with((&wu.user).into(), id).await?;
        Some(context! { partners, groups, named })
    } else {
        None
    };
    Ok(page(
        st,
        wu,
        status,
        "incident.html",
        context! { i, can_edit, verification, reports, tags, origin, sharing, ..extra },
    ))
}

/// The tags form: comma-separated.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagsForm {
    #[serde(default)]
    tags: String,
}

/// `POST /incidents/{id}/tags`: replace an incident's tags (those who may update incidents,
/// within clearance); a refused tag is said on the page with what was typed.
pub async fn set_incident_tags(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<TagsForm>,
) -> WebResult {
    let id = path_id(&id)?;
    let tags: Vec<String> = form
        .tags
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect();
    match st
        .app()
        .set_tags(&wu.user, Tagged::Incident, id, &tags)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/incidents/{id}#tags")).into_response()),
        Err(e) => {
            let e = ApiError::from(e);
            refused(&st, &wu, id, e, context! { typed_tags => form.tags }).await
        }
    }
}

/// `POST /incidents/{id}/share-with`: name the partners and sharing groups the incident is
/// shared with (`share_with` once per ticked box; none: whoever its label allows), for analysts
/// who share; a refusal is said on the page.
pub async fn set_share_with(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> WebResult {
    let id = path_id(&id)?;
    if let Some((k, _)) = fields.iter().find(|(k, _)| k != "share_with") {
        let e = ApiError::field("share_with", format!("unexpected field {k:?}"));
        return refused(&st, &wu, id, e, context! {}).await;
    }
    let names: Vec<String> = fields.into_iter().map(|(_, v)| v).collect();
    match st.app().set_share_with((&wu.user).into(), id, &names).await {
        Ok(_) => Ok(Redirect::to(&format!("/incidents/{id}#shared-with")).into_response()),
        Err(e) => refused(&st, &wu, id, ApiError::from(e), context! {}).await,
    }
}

/// A move of the verification status.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoveForm {
    state: String,
    reason: String,
}

/// `POST /incidents/{id}/verification`
pub async fn move_status(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<MoveForm>,
) -> WebResult {
    let id = path_id(&id)?;
    match st
        .app()
        .set_verification(&wu.user, id, &form.state, &form.reason)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/incidents/{id}#verification")).into_response()),
        Err(e) => {
            let e = ApiError::from(e);
            refused(
                &st,
                &wu,
                id,
                e,
                context! { typed_state => form.state, typed_reason => form.reason },
            )
            .await
        }
    }
}

/// Show the incident page again with a refusal and what was typed; a refusal that means the
/// incident is not there for this user is that page's error.
async fn refused(
    st: &AppState,
    wu: &WebUser,
    id: uuid::Uuid,
    e: ApiError,
    typed: Value,
) -> WebResult {
    if e.status == StatusCode::NOT_FOUND || e.status == StatusCode::FORBIDDEN {
        return Err(e.into());
    }
    incident_page(
        st,
        wu,
        id,
        e.status,
        context! { error => wu.reason(&e.message), ..typed },
    )
    .await
}

/// A task of the checklist, done.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TickForm {
    task: String,
    #[serde(default)]
    note: String,
}

/// `POST /incidents/{id}/verification/tasks`
pub async fn tick(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<TickForm>,
) -> WebResult {
    let id = path_id(&id)?;
    match st
        .app()
        .tick_task(&wu.user, id, &form.task, &form.note)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/incidents/{id}#verification")).into_response()),
        Err(e) => {
            refused(
                &st,
                &wu,
                id,
                ApiError::from(e),
                context! { typed_task => form.task, typed_note => form.note },
            )
            .await
        }
    }
}

/// A report to link, by its id.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkForm {
    report_id: String,
}

/// The form on a report's page linking it to an incident.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkToIncidentForm {
    incident_id: String,
}

/// `POST /reports/{id}/link`: link this report to an incident (by id), from the report's
/// page; back to the report's page. A refusal is an error page naming the field.
pub async fn link_from_report(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<LinkToIncidentForm>,
) -> WebResult {
    let report = path_id(&id)?;
    let Ok(incident) = uuid::Uuid::parse_str(form.incident_id.trim()) else {
        return Err(ApiError::from(tocsin_app::AppError::invalid(
            "incident_id",
            "not an incident id",
        ))
        .into());
    };
    st.app()
        .link_report(&wu.user, report, incident)
        .await
        .map_err(ApiError::from)?;
    Ok(Redirect::to(&format!("/reports/{report}")).into_response())
}

/// `POST /incidents/{id}/link`: link a report (by id) to this incident.
pub async fn link(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<LinkForm>,
) -> WebResult {
    let id = path_id(&id)?;
    let result = match uuid::Uuid::parse_str(form.report_id.trim()) {
        Ok(r) => st
            .app()
            .link_report(&wu.user, r, id)
            .await
            .map_err(|e| match e {
                // A report that is not there (or above one's clearance) is a field's error
                // here, not the page's.
                tocsin_app::AppError::NotFound => {
                    tocsin_app::AppError::invalid("report_id", "no such report")
                }
                e => e,
            }),
        Err(_) => Err(tocsin_app::AppError::invalid(
            "report_id",
            "not a report id",
        )),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/incidents/{id}#reports")).into_response()),
        Err(e) => {
            refused(
                &st,
                &wu,
                id,
                ApiError::from(e),
                context! { typed_report => form.report_id },
            )
            .await
        }
    }
}

/// A report's credibility.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredibilityForm {
    credibility: String,
    /// Where to go back to (a path on this site).
    #[serde(default)]
    back: String,
}

/// `POST /reports/{id}/credibility`
pub async fn credibility(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<CredibilityForm>,
) -> WebResult {
    let id = path_id(&id)?;
    let c: i16 = form
        .credibility
        .trim()
        .parse()
        .map_err(|_| ApiError::field("credibility", "expected a number from 1 to 6"))?;
    st.app().set_report_credibility(&wu.user, id, c).await?;
    // Only a path of this site: never an open redirect.
    let back = if form.back.starts_with('/') && !form.back.starts_with("//") {
        form.back
    } else {
        "/reports".to_string()
    };
    Ok(Redirect::to(&back).into_response())
}

/// `GET /sources`
pub async fn sources(State(st): State<AppState>, wu: WebUser, RawQuery(q): RawQuery) -> WebResult {
    let q: PageQuery = parse_query(q.as_deref())?;
    let p = crate::api::page_req(&q.limit, &q.cursor).map_err(ApiError::from)?;
    let total = st.app().count_sources(&wu.user).await?;
    let listed = st.app().list_source_views(&wu.user, p).await?;
    let next = next_url("/sources", &q, &listed.next_cursor);
    Ok(page(
        &st,
        &wu,
        StatusCode::OK,
        "sources.html",
        context! { shown => listed.items.len(), items => listed.items, next_url => next, total },
    ))
}

async fn source_page(
    st: &AppState,
    wu: &WebUser,
    id: uuid::Uuid,
    status: StatusCode,
    extra: Value,
) -> WebResult {
    let s = st.app().source_page(&wu.user, id).await?;
    let can_grade = wu.user.can(Permission::SourceGrade);
    let can_reveal = wu.user.can(Permission::SourceContactRead);
    let can_message = wu.user.can(Permission::SourceMessage);
    // What was sent to the source and where it stands (never the number), for those who
    // may write to it.
    let messages = if can_message {
        st.app().source_messages(&wu.user, id).await?
    } else {
        Vec::new()
    };
    let messages: Vec<Value> = messages
        .iter()
        .map(|m| {
            context! { created_at => m.created_at, text => m.text.clone(),
            status => m.status, attempts => m.attempts }
        })
        .collect();
    let grades: Vec<&str> = Reliability::ALL.iter().map(|g| g.as_str()).collect();
    Ok(page(
        st,
        wu,
        status,
        "source.html",
        context! { s, can_grade, can_reveal, can_message, messages, grades, ..extra },
    ))
}

/// `GET /sources/{id}`
pub async fn source(State(st): State<AppState>, wu: WebUser, Path(id): Path<String>) -> WebResult {
    let id = path_id(&id)?;
    source_page(&st, &wu, id, StatusCode::OK, context! {}).await
}

/// `POST /sources/{id}/contact` (CSRF-checked): the source's contact details, shown on its
/// page this once after a deliberate click, for roles that may read them; the read is
/// recorded in the audit trail before the details are opened. Others get the 403 page.
pub async fn reveal_contact(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> WebResult {
    let id = path_id(&id)?;
    let (_, contact) = st.app().read_source_contact(&wu.user, id).await?;
    source_page(
        &st,
        &wu,
        id,
        StatusCode::OK,
        context! { contact, revealed => true },
    )
    .await
}

/// A message to a source, as the source page's form sends it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageForm {
    text: String,
}

/// `POST /sources/{id}/messages` (CSRF-checked): ask the source a question through the
/// gateway it wrote from (the sender never sees the number); a refused message is shown on
/// the page with the reason and what was typed.
pub async fn message_source(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<MessageForm>,
) -> WebResult {
    let id = path_id(&id)?;
    match st
        .app()
        .message_source(&wu.user, id, &form.text, st.reply_routes())
        .await
    {
        Ok(_) => {
            st.outbox_wake.notify_one();
            Ok(Redirect::to(&format!("/sources/{id}")).into_response())
        }
        Err(e) => {
            let e = ApiError::from(e);
            if e.status == StatusCode::NOT_FOUND || e.status == StatusCode::FORBIDDEN {
                return Err(e.into());
            }
            source_page(
                &st,
                &wu,
                id,
                e.status,
                context! { error => wu.reason(&e.message), typed_message => form.text },
            )
            .await
        }
    }
}

/// A source's new grade.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GradeForm {
    grade: String,
    reason: String,
}

/// `POST /sources/{id}/reliability`
pub async fn grade(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<GradeForm>,
) -> WebResult {
    let id = path_id(&id)?;
    match st
        .app()
        .set_source_reliability(&wu.user, id, &form.grade, &form.reason)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/sources/{id}")).into_response()),
        Err(e) => {
            let e = ApiError::from(e);
            if e.status == StatusCode::NOT_FOUND || e.status == StatusCode::FORBIDDEN {
                return Err(e.into());
            }
            source_page(
                &st,
                &wu,
                id,
                e.status,
                context! { error => wu.reason(&e.message), typed_grade => form.grade, typed_reason => form.reason },
            )
            .await
        }
    }
}
