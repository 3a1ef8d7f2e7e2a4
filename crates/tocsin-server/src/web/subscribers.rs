//! The Subscribers page (`/subscribers`): active subscribers counted per country and
//! first-level area (optionally one country), and the form staff register someone with. Counts
//! only; a refused registration is shown on the form with the typed values except the number,
//! which no page ever shows. The rules are the application layer's
//! ([`tocsin_app::subscribers`]).

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Router;
use minijinja::context;
use serde::Deserialize;
use tocsin_app::subscribers::RegisterSubscriber;
use tocsin_domain::{BroadcastArea, Lang, Permission};

use super::{page, CsrfForm, WebResult, WebUser};
use crate::error::ApiError;
use crate::input::{non_empty, parse_query};
use crate::AppState;

/// `/subscribers`.
pub fn router() -> Router<AppState> {
    use axum::routing::get;
    Router::new().route("/subscribers", get(show).post(register))
}

/// The page's query: one country, or everywhere.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    country: Option<String>,
    registered: Option<String>,
}

/// The register form as typed (the number is never shown back).
#[derive(Default, Deserialize, serde::Serialize)]
pub struct RegisterForm {
    #[serde(default, skip_serializing)]
    phone: String,
    #[serde(default)]
    place: String,
    #[serde(default)]
    country: String,
    #[serde(default)]
    admin1: String,
    #[serde(default)]
    language: String,
}

const LANGUAGES: [(&str, &str); 4] = [
    ("en", "English"),
    ("fr", "Français"),
    ("sw", "Kiswahili"),
    ("ar", "العربية"),
];

async fn render(
    st: &AppState,
    wu: &WebUser,
    status: StatusCode,
    country: Option<&str>,
    form: &RegisterForm,
    error: Option<String>,
    notice: Option<&str>,
) -> WebResult {
    let can_count = wu.user.can(Permission::SubscriberCount);
    let (total, areas) = if can_count {
        let area = match country {
            Some(c) => Some(
                BroadcastArea::parse(&serde_json::json!({ "countries": [c] }))
                    .map_err(ApiError::from)?,
            ),
            None => None,
        };
        let counts = st.app().subscriber_counts(&wu.user, area.as_ref()).await?;
        (counts.total, counts.areas)
    } else {
        (0, Vec::new())
    };
    Ok(page(
        st,
        wu,
        status,
        "subscribers.html",
        context! {
            can_count,
            can_register => wu.user.can(Permission::SubscriberRegister),
            total, areas, country, form, error, notice,
            languages => LANGUAGES,
        },
    ))
}

/// `GET /subscribers`: the counts, and the register form for those who may register.
pub async fn show(State(st): State<AppState>, wu: WebUser, RawQuery(q): RawQuery) -> WebResult {
    let q: PageQuery = parse_query(q.as_deref())?;
    if !wu.user.can(Permission::SubscriberCount) && !wu.user.can(Permission::SubscriberRegister) {
        return Err(
            ApiError::from(tocsin_app::AppError::forbidden(Permission::SubscriberCount)).into(),
        );
    }
    let form = RegisterForm {
        language: Lang::En.code().into(),
        ..Default::default()
    };
    let registered = wu.t("subscribers.registered", &[]);
    let notice = non_empty(&q.registered).map(|_| registered.as_str());
    render(
        &st,
        &wu,
        StatusCode::OK,
        non_empty(&q.country),
        &form,
        None,
        notice,
    )
    .await
}

/// `POST /subscribers`: register someone; then back to the page (a refusal: the form again).
pub async fn register(
    State(st): State<AppState>,
    wu: WebUser,
    CsrfForm(f): CsrfForm<RegisterForm>,
) -> WebResult {
    let opt = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let r = RegisterSubscriber {
        phone: f.phone.clone(),
        place: f.place.clone(),
        country: opt(&f.country),
        admin1: opt(&f.admin1),
        language: f.language.clone(),
    };
    match st
        .app()
        .register_subscriber(&wu.user, r, st.sms.country_hint.as_deref())
        .await
    {
        Ok(_) => Ok(axum::response::Redirect::to("/subscribers?registered=1").into_response()),
        Err(e) => {
            let e = ApiError::from(e);
            if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND {
                render(
                    &st,
                    &wu,
                    e.status,
                    None,
                    &f,
                    Some(wu.reason(&e.message)),
                    None,
                )
                .await
            } else {
                Err(e.into())
            }
        }
    }
}
