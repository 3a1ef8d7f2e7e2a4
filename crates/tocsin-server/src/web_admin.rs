//! The admin page `/admin/users`: users with role, clearance, state and tokens; create a
//! user, disable or enable, set a password, issue a token (its secret shown once) and revoke
//! one. The decisions are [`crate::accounts`]'s, shared with the JSON API.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;
use serde::Deserialize;
use tocsin_domain::{Permission, Role};
use uuid::Uuid;

use crate::accounts::{self, TokenView, UserView};
use crate::error::{ApiError, ApiResult};
use crate::web::{error_page, page, WebUser};
use crate::web_analysis::form;
use crate::AppState;

/// What the page shows after an action.
#[derive(Default)]
struct Outcome {
    notice: Option<String>,
    error: Option<String>,
    /// A token secret just issued, shown this once.
    secret: Option<String>,
}

async fn users_page(st: &AppState, wu: &WebUser, status: StatusCode, o: Outcome) -> Response {
    let users = match st.store.list_users().await {
        Ok(u) => u,
        Err(e) => return error_page(st, wu, e.into()),
    };
    let mut rows = Vec::with_capacity(users.len());
    for u in &users {
        let tokens = match st.store.list_tokens(u.id).await {
            Ok(t) => t,
            Err(e) => return error_page(st, wu, e.into()),
        };
        let tokens: Vec<TokenView> = tokens.iter().map(TokenView::from).collect();
        rows.push(context! { user => UserView::from(u), tokens, is_me => u.id == wu.user.id });
    }
    // How replies to warners stand, so that a gateway refusing every message is noticed.
    let outbox = if wu.user.can(tocsin_domain::Permission::AuditRead) {
        match st.store.outbox_summary().await {
            Ok(o) => Some(o),
            Err(e) => return error_page(st, wu, e.into()),
        }
    } else {
        None
    };
    page(
        st,
        wu,
        status,
        "users.html",
        context! {
            users => rows,
            roles => Role::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
            notice => o.notice, error => o.error, secret => o.secret, outbox,
        },
    )
}

/// `GET /admin/users`
pub async fn users(State(st): State<AppState>, wu: WebUser) -> Response {
    if !wu.user.can(Permission::UserManage) {
        return error_page(&st, &wu, ApiError::forbidden());
    }
    users_page(&st, &wu, StatusCode::OK, Outcome::default()).await
}

#[derive(Deserialize)]
struct ActForm {
    #[allow(dead_code)]
    csrf: String,
    action: String,
    user_id: Option<String>,
    token_id: Option<String>,
    username: Option<String>,
    role: Option<String>,
    password: Option<String>,
    name: Option<String>,
    expires: Option<String>,
}

fn id(v: &Option<String>, field: &str) -> ApiResult<Uuid> {
    v.as_deref()
        .and_then(|s| Uuid::parse_str(s.trim()).ok())
        .ok_or_else(|| ApiError::field(field, "not a valid id"))
}

async fn act_on(st: &AppState, wu: &WebUser, f: ActForm) -> ApiResult<Outcome> {
    let by = &wu.user;
    let done = |n: String| Outcome {
        notice: Some(n),
        ..Outcome::default()
    };
    let password = f.password.filter(|p| !p.is_empty());
    Ok(match f.action.as_str() {
        "create" => {
            let c = accounts::create(
                st,
                by,
                f.username.as_deref().unwrap_or(""),
                f.role.as_deref().unwrap_or(""),
                password,
                f.expires.as_deref(),
            )
            .await?;
            Outcome {
                notice: Some(format!(
                    "Created {} ({}). Their API token is below: copy it now, it is not shown again.",
                    c.user.username,
                    c.user.role.as_str()
                )),
                secret: Some(c.token.secret),
                ..Outcome::default()
            }
        }
        "disable" | "enable" => {
            let off = f.action == "disable";
            let u = accounts::set_disabled(st, by, id(&f.user_id, "user_id")?, off).await?;
            done(format!(
                "{} is now {}.",
                u.username,
                if off { "disabled" } else { "enabled" }
            ))
        }
        "password" => {
            let Some(p) = password else {
                return Err(ApiError::field("password", "type the new password"));
            };
            accounts::set_password(st, by, id(&f.user_id, "user_id")?, p).await?;
            done("Password set; the user's browser sessions have ended.".into())
        }
        "token" => {
            let name = accounts::token_name(f.name.as_deref(), "web")?;
            let lifetime = accounts::lifetime(st, f.expires.as_deref())?;
            let t = accounts::issue(st, by, id(&f.user_id, "user_id")?, &name, lifetime).await?;
            Outcome {
                notice: Some(format!(
                    "Token {} issued. Copy it now: it is not shown again.",
                    t.token.id
                )),
                secret: Some(t.secret),
                ..Outcome::default()
            }
        }
        "revoke" => {
            let tid = id(&f.token_id, "token_id")?;
            accounts::revoke(st, by, tid).await?;
            done(format!("Token {tid} revoked."))
        }
        _ => return Err(ApiError::field("action", "unknown action")),
    })
}

/// `POST /admin/users`: one action of the page's forms (CSRF-checked).
pub async fn act(State(st): State<AppState>, wu: WebUser, body: Bytes) -> Response {
    if !wu.user.can(Permission::UserManage) {
        return error_page(&st, &wu, ApiError::forbidden());
    }
    let (f, _) = match form::<ActForm>(&st, &wu, &body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    match act_on(&st, &wu, f).await {
        Ok(o) => users_page(&st, &wu, StatusCode::OK, o).await,
        Err(e) if e.status.is_client_error() => {
            let o = Outcome {
                error: Some(e.message),
                ..Outcome::default()
            };
            users_page(&st, &wu, e.status, o).await
        }
        Err(e) => error_page(&st, &wu, e),
    }
}
