//! How staff are reached, over the JSON API: a user's contact details and channel
//! preferences (`GET`, `PATCH /api/v1/users/{name}`) and one's own inbox (`/api/v1/inbox`).
//! Who may read or change what, and how details are masked, is [`tocsin_app::notify`]'s.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tocsin_app::notify::{ContactsPatch, ContactsView};
use tocsin_domain::InboxItem;
use uuid::Uuid;

use crate::accounts::UserView;
use crate::api::{page_req, PageQuery};
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::input::{parse_query, JsonBody};
use crate::AppState;

/// `GET /api/v1/users/{name}`: a user, their contact details (in full for themself and
/// admins, masked for others) and whether a working channel reaches them.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserProfile {
    /// The user.
    pub user: UserView,
    /// Contact details and channel preferences.
    pub contacts: ContactsView,
    /// Whether e-mail or SMS reaches them (the inbox alone pages nobody).
    pub reachable: bool,
}

/// `PATCH /api/v1/users/{name}`: each field given replaces the stored one.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactsInput {
    /// E-mail address (`""` removes it).
    pub email: Option<String>,
    /// Phone number, with its country code or in the deployment's default region (`""`
    /// removes it).
    pub phone: Option<String>,
    /// Channels per severity: `{"critical": ["sms", "email", "inbox"], "low": []}`.
    pub channels: Option<BTreeMap<String, Vec<String>>>,
}

/// One page of one's inbox, with the unread count.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InboxPage {
    /// Unread items first, newest first.
    pub items: Vec<InboxItem>,
    /// Where the next page starts.
    pub next_cursor: Option<String>,
    /// How many items are unread.
    pub unread: u64,
}

/// `GET /api/v1/users/{name}`
#[utoipa::path(get, path = "/api/v1/users/{name}",
    responses((status = 200, body = UserProfile), (status = 404)), security(("bearer" = [])))]
pub async fn get_user(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(name): Path<String>,
) -> ApiResult<Json<UserProfile>> {
    let p = st.app().user_profile(&user.0, &name).await?;
    Ok(Json(UserProfile {
        user: (&p.user).into(),
        contacts: p.contacts,
        reachable: p.reachable,
    }))
}

/// `PATCH /api/v1/users/{name}`: the user themself or an admin.
#[utoipa::path(patch, path = "/api/v1/users/{name}", request_body = ContactsInput,
    responses((status = 200, body = ContactsView), (status = 403), (status = 404), (status = 422)),
    security(("bearer" = [])))]
pub async fn patch_user(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(name): Path<String>,
    JsonBody(b): JsonBody<ContactsInput>,
) -> ApiResult<Json<ContactsView>> {
    let patch = ContactsPatch {
        email: b.email,
        phone: b.phone,
        channels: b.channels,
    };
    Ok(Json(st.app().set_contacts_of(&user.0, &name, patch).await?))
}

/// `GET /api/v1/inbox`: one's own inbox.
#[utoipa::path(get, path = "/api/v1/inbox", params(PageQuery),
    responses((status = 200, body = InboxPage)), security(("bearer" = [])))]
pub async fn list_inbox(
    State(st): State<AppState>,
    user: CurrentUser,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<InboxPage>> {
    let q: PageQuery = parse_query(q.as_deref())?;
    let p = page_req(&q.limit, &q.cursor)?;
    let app = st.app();
    let page = app.list_inbox(&user.0, p).await?;
    let unread = app.inbox_unread(&user.0).await?;
    Ok(Json(InboxPage {
        items: page.items,
        next_cursor: page.next_cursor,
        unread,
    }))
}

/// `POST /api/v1/inbox/{id}/read`: mark an item of one's own inbox read.
#[utoipa::path(post, path = "/api/v1/inbox/{id}/read",
    responses((status = 204), (status = 404)), security(("bearer" = [])))]
pub async fn mark_read(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::field("id", "not a valid id"))?;
    st.app().mark_inbox_read(&user.0, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
