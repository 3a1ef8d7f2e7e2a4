//! The dangerous-speech flag pages: the list (`/speech/flags`, filters state, lexicon,
//! category), a flag's page (`/speech/flags/{id}`: the report's text with the hits marked in
//! the original script, the terms, the latest review) and its review form (analysts: confirm
//! or dismiss, the Dangerous Speech Project's five elements and its hallmarks). Who may see
//! and do what is the application layer's ([`tocsin_app::flags`]).

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::Router;
use minijinja::context;
use tocsin_app::flags::highlight;
use tocsin_domain::{FlagReviewInput, FlagState, Hallmark, Permission};
use uuid::Uuid;

use super::{next_url, page, path_id, CsrfForm, WebError, WebResult, WebUser};
use crate::error::ApiError;
use crate::flags::FlagListQuery;
use crate::input::parse_query;
use crate::AppState;

/// `/speech/flags`, `/speech/flags/{id}` and its review form.
pub fn router() -> Router<AppState> {
    use axum::routing::{get, post};
    Router::new()
        .route("/speech/flags", get(flags_page))
        .route("/speech/flags/{id}", get(flag_page))
        .route("/speech/flags/{id}/review", post(review))
}

/// `GET /speech/flags`
pub async fn flags_page(
    State(st): State<AppState>,
    wu: WebUser,
    RawQuery(q): RawQuery,
) -> WebResult {
    let q: FlagListQuery = parse_query(q.as_deref())?;
    let (fq, p) = q.to_query()?;
    let listed = st.app().list_flags(&wu.user, fq, p).await?;
    let next = next_url("/speech/flags", &q, &listed.next_cursor);
    let items: Vec<_> = listed
        .items
        .iter()
        .map(|f| {
            context! {
                f, categories => f.categories(), severity => f.max_severity()
            }
        })
        .collect();
    Ok(page(
        &st,
        &wu,
        StatusCode::OK,
        "flags.html",
        context! {
            items, q, next_url => next,
            states => FlagState::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            categories => tocsin_app::flags::categories(),
        },
    ))
}

/// `GET /speech/flags/{id}`
pub async fn flag_page(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
) -> WebResult {
    flag_view(&st, &wu, path_id(&id)?, StatusCode::OK, context! {}).await
}

/// A flag's page, with `extra` (a refusal and what was typed) when its review was refused.
async fn flag_view(
    st: &AppState,
    wu: &WebUser,
    id: Uuid,
    status: StatusCode,
    extra: minijinja::Value,
) -> WebResult {
    let app = st.app();
    let f = app.get_flag(&wu.user, id).await?;
    // The report's own read: permission, clearance and its audit entry are the use case's.
    let report = match f.report_id {
        Some(r) => Some(app.get_report(&wu.user, r).await?),
        None => None,
    };
    // Or the monitored item's (its read audited by the use case too).
    let item = match (f.report_id, f.item_id) {
        (None, Some(i)) => Some(app.get_item(&wu.user, i).await?.0),
        _ => None,
    };
    let text = report
        .as_ref()
        .map(|r| r.text.as_str())
        .or(item.as_ref().map(|i| i.text.as_str()));
    let pieces = text.map(|t| highlight(t, f.terms.iter().map(|t| (t.start, t.end))));
    let can_review = wu.user.can(Permission::FlagReview);
    // Confirmed dangerous speech can be answered by a counter-message (a broadcast, which a
    // second person approves before it leaves).
    let can_answer =
        f.state == tocsin_domain::FlagState::Confirmed && wu.user.can(Permission::BroadcastCompose);
    let review = f.review.clone();
    Ok(page(
        st,
        wu,
        status,
        "flag.html",
        context! {
            f, pieces, review, can_review, can_answer,
            report_tlp => report.as_ref().map(|r| r.tlp.as_str()),
            hallmarks => Hallmark::ALL.iter().map(|h| h.as_str()).collect::<Vec<_>>(),
            ..extra
        },
    ))
}

/// What the review form sent, as typed (shown again when refused).
#[derive(Debug, Default, serde::Serialize)]
struct Typed {
    decision: String,
    message: String,
    audience: String,
    context: String,
    speaker: String,
    medium: String,
    hallmarks: Vec<String>,
}

/// The review form's fields: `decision`, the five elements, `hallmarks` once per ticked box,
/// `expected_version`; any other field is refused.
fn read_form(fields: Vec<(String, String)>) -> WebResult<(FlagReviewInput, Typed)> {
    let mut input = FlagReviewInput::default();
    let mut typed = Typed::default();
    for (k, v) in fields {
        match k.as_str() {
            "decision" => {
                input.decision = v.clone();
                typed.decision = v;
            }
            "message" => {
                input.message = Some(v.clone());
                typed.message = v;
            }
            "audience" => {
                input.audience = Some(v.clone());
                typed.audience = v;
            }
            "context" => {
                input.context = Some(v.clone());
                typed.context = v;
            }
            "speaker" => {
                input.speaker = Some(v.clone());
                typed.speaker = v;
            }
            "medium" => {
                input.medium = Some(v.clone());
                typed.medium = v;
            }
            "hallmarks" => {
                input.hallmarks.push(v.clone());
                typed.hallmarks.push(v);
            }
            "expected_version" => {
                input.expected_version = Some(v.trim().parse().map_err(|_| {
                    WebError::from(ApiError::field("expected_version", "not a number"))
                })?);
            }
            other => {
                return Err(ApiError::field(other, "unknown field").into());
            }
        }
    }
    Ok((input, typed))
}

/// `POST /speech/flags/{id}/review`
pub async fn review(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> WebResult {
    let id = path_id(&id)?;
    let (input, typed) = read_form(fields)?;
    match st.app().review_flag(&wu.user, id, input).await {
        Ok(_) => Ok(Redirect::to(&format!("/speech/flags/{id}")).into_response()),
        // Refused (no reason given, an unknown hallmark, too long…): the page again, as typed.
        Err(e) => {
            let e = ApiError::from(e);
            if !e.status.is_client_error()
                || matches!(e.status, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN)
            {
                return Err(e.into());
            }
            let field = e.field.clone();
            let error = super::refusal::human(wu.lang, &e, |f| {
                let key = match f {
                    "decision" => "flags.decision",
                    "hallmarks" => "flags.hallmarks",
                    "message" => "flags.el_message",
                    "audience" => "flags.el_audience",
                    "context" => "flags.el_context",
                    "speaker" => "flags.el_speaker",
                    "medium" => "flags.el_medium",
                    _ => return None,
                };
                Some(wu.t(key, &[]))
            });
            let extra = context! { error, typed, invalid_field => field };
            flag_view(&st, &wu, id, e.status, extra).await
        }
    }
}
