//! One's own account page (`/account`: contact details and which channels page one for each
//! alert severity) and in-app inbox (`/inbox`, with mark-read). Both are the signed-in user's
//! own; `/admin/users/{id}/contacts` is the same form for an admin setting another user's.
//! The rules are [`tocsin_app::notify`]'s.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::Router;
use minijinja::context;
use std::collections::BTreeMap;
use tocsin_app::notify::ContactsPatch;
use tocsin_domain::{NotifyChannel, Severity};

use super::{next_url, page, path_id, CsrfForm, WebResult, WebUser};
use crate::api::{page_req, PageQuery};
use crate::input::parse_query;
use crate::AppState;

/// `/account`, `/inbox`, `/inbox/{id}/read`.
pub fn router() -> Router<AppState> {
    use axum::routing::{get, post};
    Router::new()
        .route("/account", get(account).post(save_account))
        .route("/account/time-zone", post(save_time_zone))
        .route("/account/language", post(save_language))
        .route(
            "/admin/users/{id}/contacts",
            get(user_contacts).post(save_user_contacts),
        )
        .route("/inbox", get(inbox))
        .route("/inbox/{id}/read", post(mark_read))
}

/// Whose contact details a page edits: one's own (`/account`) or, for an admin, another
/// user's (`/admin/users/{id}/contacts`).
enum Whose {
    Own,
    Other(String),
}

impl Whose {
    fn action(&self) -> String {
        match self {
            Whose::Own => "/account".into(),
            Whose::Other(id) => format!("/admin/users/{id}/contacts"),
        }
    }
}

async fn account_page(
    st: &AppState,
    wu: &WebUser,
    whose: &Whose,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
) -> WebResult {
    let p = match whose {
        Whose::Own => {
            st.app()
                .editable_profile(&wu.user, &wu.user.id.to_string())
                .await?
        }
        Whose::Other(id) => st.app().editable_profile(&wu.user, id).await?,
    };
    let severities: Vec<_> = Severity::ALL
        .iter()
        .rev()
        .map(|s| {
            let chosen = p
                .contacts
                .channels
                .get(s.as_str())
                .cloned()
                .unwrap_or_default();
            context! {
                name => s.as_str(),
                channels => NotifyChannel::ALL.iter().map(|c| context! {
                    name => c.as_str(),
                    on => chosen.iter().any(|x| x == c.as_str()),
                }).collect::<Vec<_>>(),
            }
        })
        .collect();
    Ok(page(
        st,
        wu,
        status,
        "account.html",
        context! {
            target => context! {
                username => p.user.username.clone(),
                role => p.user.role.to_string(),
                clearance => p.user.clearance.to_string(),
            },
            own => matches!(whose, Whose::Own) || p.user.id == wu.user.id,
            action => whose.action(),
            contacts => p.contacts,
            reachable => p.reachable,
            severities,
            zones => tocsin_domain::time::zone_names().collect::<Vec<_>>(),
            current_zone => wu.user.time_zone.clone(),
            current_language => wu.user.language.map(|l| l.code()),
            languages => super::i18n::menu(),
            notice, error,
        },
    ))
}

/// `GET /account`
pub async fn account(State(st): State<AppState>, wu: WebUser) -> WebResult {
    account_page(&st, &wu, &Whose::Own, StatusCode::OK, None, None).await
}

/// `POST /account` (CSRF-checked): `email`, `phone`, and `channel` = `SEVERITY:CHANNEL` for
/// every box ticked (a severity with none ticked pages nobody).
pub async fn save_account(
    State(st): State<AppState>,
    wu: WebUser,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> WebResult {
    save(&st, &wu, Whose::Own, fields).await
}

/// One's time zone as the account page's form sends it (empty: UTC).
#[derive(serde::Deserialize)]
pub struct ZoneForm {
    time_zone: String,
}

/// One's language as the account page's form sends it (empty: the browser's).
#[derive(serde::Deserialize)]
pub struct LanguageForm {
    language: String,
}

/// `POST /account/language` (CSRF-checked): the language the signed-in user reads the pages
/// in; the page that answers is already in it. A language the UI lacks is refused on the page.
pub async fn save_language(
    State(st): State<AppState>,
    headers: axum::http::HeaderMap,
    mut wu: WebUser,
    CsrfForm(f): CsrfForm<LanguageForm>,
) -> WebResult {
    match st.app().set_own_language(&wu.user, &f.language).await {
        Ok(language) => {
            wu.user.language = language;
            wu.lang = super::staff_lang(&wu.user, &headers);
            let notice = wu.t("account.language_saved", &[]);
            account_page(&st, &wu, &Whose::Own, StatusCode::OK, Some(notice), None).await
        }
        Err(e) => {
            let e = crate::error::ApiError::from(e);
            if !e.status.is_client_error() {
                return Err(e.into());
            }
            account_page(
                &st,
                &wu,
                &Whose::Own,
                e.status,
                None,
                Some(wu.reason(&e.message)),
            )
            .await
        }
    }
}

/// `POST /account/time-zone` (CSRF-checked): the zone the signed-in user reads times in; an
/// unknown name is refused on the page with the reason.
pub async fn save_time_zone(
    State(st): State<AppState>,
    mut wu: WebUser,
    CsrfForm(f): CsrfForm<ZoneForm>,
) -> WebResult {
    match st.app().set_own_time_zone(&wu.user, &f.time_zone).await {
        Ok(zone) => {
            wu.user.time_zone = zone.clone();
            let notice = wu.t(
                "account.zone_saved",
                &[("zone", zone.clone().unwrap_or_else(|| "UTC".into()))],
            );
            account_page(&st, &wu, &Whose::Own, StatusCode::OK, Some(notice), None).await
        }
        Err(e) => {
            let e = crate::error::ApiError::from(e);
            if !e.status.is_client_error() {
                return Err(e.into());
            }
            account_page(
                &st,
                &wu,
                &Whose::Own,
                e.status,
                None,
                Some(wu.reason(&e.message)),
            )
            .await
        }
    }
}

/// `GET /admin/users/{id}/contacts`: another user's contact details and channels, for an
/// admin to set (the same form as `/account`).
pub async fn user_contacts(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
) -> WebResult {
    let id = path_id(&id)?;
    account_page(
        &st,
        &wu,
        &Whose::Other(id.to_string()),
        StatusCode::OK,
        None,
        None,
    )
    .await
}

/// `POST /admin/users/{id}/contacts` (CSRF-checked): as `POST /account`, for that user.
pub async fn save_user_contacts(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> WebResult {
    let id = path_id(&id)?;
    save(&st, &wu, Whose::Other(id.to_string()), fields).await
}

async fn save(
    st: &AppState,
    wu: &WebUser,
    whose: Whose,
    fields: Vec<(String, String)>,
) -> WebResult {
    let mut channels: BTreeMap<String, Vec<String>> = Severity::ALL
        .iter()
        .map(|s| (s.as_str().to_string(), Vec::new()))
        .collect();
    let (mut email, mut phone) = (None, None);
    for (k, v) in fields {
        match k.as_str() {
            "email" => email = Some(v),
            "phone" => phone = Some(v),
            "channel" => {
                let (sev, ch) = v.split_once(':').unwrap_or((v.as_str(), ""));
                channels
                    .entry(sev.to_string())
                    .or_default()
                    .push(ch.to_string());
            }
            _ => {}
        }
    }
    let patch = ContactsPatch {
        email,
        phone,
        channels: Some(channels),
    };
    let target = match &whose {
        Whose::Own => wu.user.id.to_string(),
        Whose::Other(id) => id.clone(),
    };
    match st.app().set_contacts_of(&wu.user, &target, patch).await {
        Ok(_) => {
            let notice = wu.t("common.saved", &[]);
            account_page(st, wu, &whose, StatusCode::OK, Some(notice), None).await
        }
        Err(e) => {
            let e = crate::error::ApiError::from(e);
            if e.status.is_client_error() && e.status != StatusCode::FORBIDDEN {
                account_page(st, wu, &whose, e.status, None, Some(wu.reason(&e.message))).await
            } else {
                Err(e.into())
            }
        }
    }
}

/// `GET /inbox`: one's own items, unread first.
pub async fn inbox(State(st): State<AppState>, wu: WebUser, RawQuery(q): RawQuery) -> WebResult {
    let q: PageQuery = parse_query(q.as_deref())?;
    let p = page_req(&q.limit, &q.cursor)?;
    let items = st.app().list_inbox(&wu.user, p).await?;
    let next = next_url(
        "/inbox",
        serde_json::json!({"limit": q.limit}),
        &items.next_cursor,
    );
    Ok(page(
        &st,
        &wu,
        StatusCode::OK,
        "inbox.html",
        context! { items => items.items, next },
    ))
}

/// `POST /inbox/{id}/read` (CSRF-checked): mark one's own item read, back to the inbox.
pub async fn mark_read(
    State(st): State<AppState>,
    wu: WebUser,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<BTreeMap<String, String>>,
) -> WebResult {
    st.app().mark_inbox_read(&wu.user, path_id(&id)?).await?;
    Ok(Redirect::to("/inbox").into_response())
}
