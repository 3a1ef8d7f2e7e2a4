//! The admin page `/admin/users`: users with role, clearance, state and tokens; create a
//! user, disable or enable, set a password, issue a token (its secret shown once) and revoke
//! one. Who may do it is the application layer's ([`tocsin_app::accounts`]), as for the API.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::Router;
use minijinja::context;
use serde::Deserialize;
use tocsin_domain::Role;
use uuid::Uuid;

use super::records::Sort;
use super::{page, CsrfForm, WebResult, WebUser};
use crate::accounts::{TokenView, UserView};
use crate::error::ApiError;
use crate::AppState;

/// `/admin/users`.
pub fn router() -> Router<AppState> {
    Router::new().route("/admin/users", axum::routing::get(users).post(act))
}

/// What the page shows after an action.
#[derive(Default)]
struct Outcome {
    notice: Option<String>,
    error: Option<String>,
    /// A token secret just issued, shown this once.
    secret: Option<String>,
}

/// The users list's order (`?sort=username|role|clearance|state|created&dir=asc|desc`).
#[derive(Debug, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct UsersQuery {
    sort: Option<String>,
    dir: Option<String>,
}

const USER_KEYS: [&str; 5] = ["username", "role", "clearance", "state", "created"];

async fn users_page(st: &AppState, wu: &WebUser, status: StatusCode, o: Outcome) -> WebResult {
    users_sorted(st, wu, status, o, &UsersQuery::default()).await
}

async fn users_sorted(
    st: &AppState,
    wu: &WebUser,
    status: StatusCode,
    o: Outcome,
    q: &UsersQuery,
) -> WebResult {
    let sort = Sort::parse(&q.sort, &q.dir, &USER_KEYS, ("username", false))?;
    let app = st.app();
    let mut users = app.list_users(&wu.user).await?;
    sort.apply(&mut users, |k, a, b| match k {
        "role" => a.role.as_str().cmp(b.role.as_str()),
        "clearance" => a.clearance.cmp(&b.clearance),
        "state" => a.disabled.cmp(&b.disabled),
        "created" => a.created_at.cmp(&b.created_at),
        _ => a.username.cmp(&b.username),
    });
    let links = sort.links("/admin/users", q, &USER_KEYS);
    let mut rows = Vec::with_capacity(users.len());
    for u in &users {
        let tokens = app.list_tokens(&wu.user, u.id).await?;
        let tokens: Vec<TokenView> = tokens.iter().map(TokenView::from).collect();
        rows.push(context! { user => UserView::from(u), tokens, is_me => u.id == wu.user.id });
    }
    // How replies to warners stand, so that a gateway refusing every message is noticed.
    // Shown to those the application layer lets read it.
    let outbox = match app.outbox_summary(&wu.user).await {
        Ok(o) => Some(o),
        Err(tocsin_app::AppError::Forbidden { .. }) => None,
        Err(e) => return Err(e.into()),
    };
    Ok(page(
        st,
        wu,
        status,
        "users.html",
        context! {
            total => rows.len(),
            disabled => users.iter().filter(|u| u.disabled).count(),
            links,
            users => rows,
            roles => Role::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
            notice => o.notice, error => o.error, secret => o.secret, outbox,
        },
    ))
}

/// `GET /admin/users`
pub async fn users(State(st): State<AppState>, wu: WebUser, RawQuery(q): RawQuery) -> WebResult {
    let q: UsersQuery = crate::input::parse_query(q.as_deref())?;
    users_sorted(&st, &wu, StatusCode::OK, Outcome::default(), &q).await
}

/// One action of the page's forms.
#[derive(Deserialize)]
pub struct ActForm {
    action: String,
    user_id: Option<String>,
    token_id: Option<String>,
    username: Option<String>,
    role: Option<String>,
    password: Option<String>,
    name: Option<String>,
    expires: Option<String>,
}

fn id(v: &Option<String>, field: &str) -> Result<Uuid, ApiError> {
    v.as_deref()
        .and_then(|s| Uuid::parse_str(s.trim()).ok())
        .ok_or_else(|| ApiError::field(field, "not a valid id"))
}

async fn act_on(st: &AppState, wu: &WebUser, f: ActForm) -> Result<Outcome, ApiError> {
    let (app, by) = (st.app(), &wu.user);
    let done = |n: String| Outcome {
        notice: Some(n),
        ..Outcome::default()
    };
    let password = f.password.filter(|p| !p.is_empty());
    Ok(match f.action.as_str() {
        "create" => {
            let (u, token) = app
                .create_user(
                    by,
                    f.username.as_deref().unwrap_or(""),
                    f.role.as_deref().unwrap_or(""),
                    password,
                    f.expires.as_deref(),
                    "api",
                )
                .await?;
            Outcome {
                notice: Some(wu.t(
                    "users.created_notice",
                    &[
                        ("name", u.username.clone()),
                        ("role", wu.t(&format!("role.{}", u.role.as_str()), &[])),
                    ],
                )),
                secret: Some(token.secret),
                ..Outcome::default()
            }
        }
        "disable" | "enable" => {
            let off = f.action == "disable";
            let u = app
                .set_user_disabled(by, id(&f.user_id, "user_id")?, off)
                .await?;
            st.tokens.clear();
            let key = if off {
                "users.now_disabled"
            } else {
                "users.now_enabled"
            };
            done(wu.t(key, &[("name", u.username.clone())]))
        }
        "password" => {
            let Some(p) = password else {
                return Err(ApiError::field("password", "type the new password"));
            };
            app.set_user_password(by, id(&f.user_id, "user_id")?, p)
                .await?;
            done(wu.t("users.password_set", &[]))
        }
        "token" => {
            let name = tocsin_app::accounts::token_name(f.name.as_deref(), "web")?;
            let lifetime = app.token_lifetime(f.expires.as_deref())?;
            let t = app
                .issue_token(by, id(&f.user_id, "user_id")?, &name, lifetime)
                .await?;
            Outcome {
                notice: Some(wu.t("users.token_issued", &[("id", t.token.id.to_string())])),
                secret: Some(t.secret),
                ..Outcome::default()
            }
        }
        "revoke" => {
            let tid = id(&f.token_id, "token_id")?;
            app.revoke_token(by, tid).await?;
            st.tokens.clear();
            done(wu.t("users.token_revoked", &[("id", tid.to_string())]))
        }
        _ => return Err(ApiError::field("action", "unknown action")),
    })
}

/// `POST /admin/users`: one action of the page's forms (CSRF-checked). A refused action shows
/// the page again with the reason; one by someone who may not manage users is refused.
pub async fn act(
    State(st): State<AppState>,
    wu: WebUser,
    CsrfForm(f): CsrfForm<ActForm>,
) -> WebResult {
    tocsin_app::policy::administer_accounts(&wu.user)?;
    match act_on(&st, &wu, f).await {
        Ok(o) => users_page(&st, &wu, StatusCode::OK, o).await,
        Err(e) if e.status.is_client_error() => {
            let o = Outcome {
                error: Some(wu.reason(&e.message)),
                ..Outcome::default()
            };
            users_page(&st, &wu, e.status, o).await
        }
        Err(e) => Err(e.into()),
    }
}
