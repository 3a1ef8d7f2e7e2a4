//! User and token administration over the JSON API (`/api/v1/users`, `/api/v1/tokens`) and
//! the views the admin page shares. Who may do what is [`tocsin_app::accounts`]'s; every
//! withdrawal clears this process's token cache at once.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tocsin_domain::{ApiToken, Role, Tlp, User};
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::input::JsonBody;
use crate::AppState;

/// Days a new API token works unless told otherwise (`[auth] token_expiry_days`).
pub const TOKEN_DAYS: i64 = 90;

/// A user as admins see it (never a password hash).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserView {
    /// Id.
    pub id: Uuid,
    /// Login name.
    pub username: String,
    /// Role.
    pub role: Role,
    /// Highest TLP label the user may see.
    #[schema(value_type = String)]
    pub clearance: Tlp,
    /// Disabled users cannot log in or use tokens.
    pub disabled: bool,
    /// Whether the user can log in with a password.
    pub has_password: bool,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Permissions granted beyond the role.
    pub grants: Vec<String>,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        UserView {
            id: u.id,
            username: u.username.clone(),
            role: u.role,
            clearance: u.clearance,
            disabled: u.disabled,
            has_password: u.password_hash.is_some(),
            created_at: u.created_at,
            grants: u.grants.iter().map(|g| g.as_str().to_string()).collect(),
        }
    }
}

/// An API token as admins see it (never the secret or its hash).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenView {
    /// Id (what `tocsin token revoke` takes).
    pub id: Uuid,
    /// Label.
    pub name: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// When it stops working; absent: never.
    pub expires_at: Option<DateTime<Utc>>,
    /// Revoked.
    pub revoked: bool,
    /// Works now (neither revoked nor expired).
    pub live: bool,
}

impl From<&ApiToken> for TokenView {
    fn from(t: &ApiToken) -> Self {
        TokenView {
            id: t.id,
            name: t.name.clone(),
            created_at: t.created_at,
            expires_at: t.expires_at,
            revoked: t.revoked,
            live: t.is_live(tocsin_domain::time::now()),
        }
    }
}

/// A token just issued: its record and the secret, shown this once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IssuedToken {
    /// The token.
    pub token: TokenView,
    /// The secret, for `Authorization: Bearer SECRET`. Not stored; shown once.
    pub secret: String,
}

/// A user just created, with their first token.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedUser {
    /// The user.
    pub user: UserView,
    /// Their first API token.
    pub token: IssuedToken,
}

/// `POST /api/v1/users`
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserInput {
    /// Login name: 1-64 letters, digits, '.', '_', '-', '@'.
    pub username: String,
    /// admin, analyst, desk_officer, monitor_coordinator or viewer.
    pub role: String,
    /// A password for browser login (at least 12 characters, not a common one); none for a
    /// token-only user.
    pub password: Option<String>,
    /// Lifetime of the first token: `90d`, `12h` or `never` (default: the server's).
    pub expires: Option<String>,
}

/// `POST /api/v1/users/{id}/password`
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordInput {
    /// The new password (at least 12 characters, not a common one).
    pub password: String,
}

/// `POST /api/v1/users/{id}/tokens`
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenInput {
    /// A label (default `api`).
    pub name: Option<String>,
    /// Lifetime: `90d`, `12h` or `never` (default: the server's).
    pub expires: Option<String>,
}

fn parse_id(s: &str) -> ApiResult<Uuid> {
    Uuid::parse_str(s).map_err(|_| ApiError::field("id", "not a valid id"))
}

impl From<tocsin_app::accounts::Issued> for IssuedToken {
    fn from(i: tocsin_app::accounts::Issued) -> Self {
        IssuedToken {
            token: (&i.token).into(),
            secret: i.secret,
        }
    }
}

/// `GET /api/v1/users`: every user, by name.
#[utoipa::path(get, path = "/api/v1/users", responses((status = 200, body = [UserView]), (status = 403)),
    security(("bearer" = [])))]
pub async fn list_users(
    State(st): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<Vec<UserView>>> {
    let users = st.app().list_users(&user.0).await?;
    Ok(Json(users.iter().map(UserView::from).collect()))
}

/// `POST /api/v1/users`: create a user and a first token (its secret shown once).
#[utoipa::path(post, path = "/api/v1/users", request_body = NewUserInput,
    responses((status = 201, body = CreatedUser), (status = 409), (status = 422)), security(("bearer" = [])))]
pub async fn create_user(
    State(st): State<AppState>,
    user: CurrentUser,
    JsonBody(b): JsonBody<NewUserInput>,
) -> ApiResult<(StatusCode, Json<CreatedUser>)> {
    let (u, token) = st
        .app()
        .create_user(
            &user.0,
            &b.username,
            &b.role,
            b.password,
            b.expires.as_deref(),
            "api",
        )
        .await?;
    let created = CreatedUser {
        user: (&u).into(),
        token: token.into(),
    };
    Ok((StatusCode::CREATED, Json(created)))
}

/// `POST /api/v1/users/{id}/disable`: the user's tokens and sessions stop working at once.
#[utoipa::path(post, path = "/api/v1/users/{id}/disable",
    responses((status = 200, body = UserView), (status = 404), (status = 409)), security(("bearer" = [])))]
pub async fn disable_user(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<UserView>> {
    let u = st
        .app()
        .set_user_disabled(&user.0, parse_id(&id)?, true)
        .await?;
    st.tokens.clear();
    Ok(Json((&u).into()))
}

/// `POST /api/v1/users/{id}/enable`: tokens work again; ended sessions stay ended.
#[utoipa::path(post, path = "/api/v1/users/{id}/enable",
    responses((status = 200, body = UserView), (status = 404)), security(("bearer" = [])))]
pub async fn enable_user(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<UserView>> {
    let u = st
        .app()
        .set_user_disabled(&user.0, parse_id(&id)?, false)
        .await?;
    st.tokens.clear();
    Ok(Json((&u).into()))
}

/// `POST /api/v1/users/{id}/password`: set a new password; the user's sessions end.
#[utoipa::path(post, path = "/api/v1/users/{id}/password", request_body = PasswordInput,
    responses((status = 204), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn reset_password(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<PasswordInput>,
) -> ApiResult<StatusCode> {
    st.app()
        .set_user_password(&user.0, parse_id(&id)?, b.password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/users/{id}/tokens`: the user's tokens (never a secret or hash).
#[utoipa::path(get, path = "/api/v1/users/{id}/tokens",
    responses((status = 200, body = [TokenView]), (status = 404)), security(("bearer" = [])))]
pub async fn list_tokens(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<TokenView>>> {
    let tokens = st.app().list_tokens(&user.0, parse_id(&id)?).await?;
    Ok(Json(tokens.iter().map(TokenView::from).collect()))
}

/// `POST /api/v1/users/{id}/tokens`: issue a token (its secret shown once).
#[utoipa::path(post, path = "/api/v1/users/{id}/tokens", request_body = TokenInput,
    responses((status = 201, body = IssuedToken), (status = 404), (status = 422)), security(("bearer" = [])))]
pub async fn issue_token(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<TokenInput>,
) -> ApiResult<(StatusCode, Json<IssuedToken>)> {
    let app = st.app();
    let name = tocsin_app::accounts::token_name(b.name.as_deref(), "api")?;
    let lifetime = app.token_lifetime(b.expires.as_deref())?;
    let t = app
        .issue_token(&user.0, parse_id(&id)?, &name, lifetime)
        .await?;
    Ok((StatusCode::CREATED, Json(t.into())))
}

/// `POST /api/v1/tokens/{id}/revoke`: the token stops working at once, for good.
#[utoipa::path(post, path = "/api/v1/tokens/{id}/revoke",
    responses((status = 204), (status = 404)), security(("bearer" = [])))]
pub async fn revoke_token(
    State(st): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    st.app().revoke_token(&user.0, parse_id(&id)?).await?;
    st.tokens.clear();
    Ok(StatusCode::NO_CONTENT)
}
