//! User and token administration, for those who manage users (`Permission::UserManage`) and
//! the operator at the command line ([`Acting::Operator`]).
//! Admins can do what `tocsin user` does and no more: roles are set at creation (with the
//! role's default clearance), grants stay with the CLI, and nobody can disable themselves.
//! Withdrawing a credential here is stored at once; the server clears its token cache after.

use tocsin_domain::{Actor, ApiToken, AuditEvent, Lang, NewUser, Permission, Role, User};
use tocsin_store::{Op, Redacted, Step, StoreError, StoreExt};
use uuid::Uuid;

use crate::{Acting, App, AppError, Result};

/// A token just issued: its record and the secret, shown this once.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The token.
    pub token: ApiToken,
    /// The secret (`Authorization: Bearer SECRET`); only its hash is stored.
    pub secret: String,
}

/// The most characters of a token's label.
pub const TOKEN_NAME_CHARS: usize = 64;

/// A token label: `default` when empty, else at most [`TOKEN_NAME_CHARS`] printable
/// characters.
pub fn token_name(name: Option<&str>, default: &str) -> Result<String> {
    let name = name
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or(default);
    if name.chars().count() > TOKEN_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(AppError::bad_field(
            "name",
            "at most 64 printable characters",
        ));
    }
    Ok(name.to_string())
}

/// The write that disables (true) or enables a user. Disabling also ends the user's browser
/// sessions, in the same write; enabling does not bring them back. Not found when there is
/// no such user.
pub fn set_disabled_op(actor: &Actor, user_id: Uuid, disabled: bool) -> Op {
    let action = if disabled {
        "user.disable"
    } else {
        "user.enable"
    };
    let mut steps = vec![Step::SetUserDisabled { user_id, disabled }];
    if disabled {
        steps.push(Step::EndSessions(user_id));
    }
    Op::All {
        steps,
        audit: Box::new(AuditEvent::new(
            actor,
            action,
            "user",
            Some(user_id.to_string()),
        )),
    }
}

/// The write that replaces a user's password hash (made by
/// `tocsin_domain::user::hash_password`, which checks the policy) and ends the user's browser
/// sessions, together. The hash is not audited. Not found when there is no such user.
pub fn set_password_op(actor: &Actor, user_id: Uuid, password_hash: Redacted) -> Op {
    Op::All {
        steps: vec![
            Step::SetPasswordHash {
                user_id,
                password_hash,
            },
            Step::EndSessions(user_id),
        ],
        audit: Box::new(AuditEvent::new(
            actor,
            "user.password",
            "user",
            Some(user_id.to_string()),
        )),
    }
}

impl App<'_> {
    /// The lifetime asked for (`90d`, `12h`, `never`), or the deployment's default.
    pub fn token_lifetime(&self, expires: Option<&str>) -> Result<Option<chrono::Duration>> {
        match expires.map(str::trim).filter(|e| !e.is_empty()) {
            Some(e) => Ok(tocsin_domain::user::parse_lifetime(e)?),
            None => Ok(self.token_lifetime),
        }
    }

    /// Every user, by name.
    pub async fn list_users(&self, by: impl Into<Acting<'_>>) -> Result<Vec<User>> {
        let by = by.into();
        by.require(Permission::UserManage)?;
        Ok(self.store.list_users().await?)
    }

    /// A user's tokens (never a secret).
    pub async fn list_tokens(
        &self,
        by: impl Into<Acting<'_>>,
        user_id: Uuid,
    ) -> Result<Vec<ApiToken>> {
        let by = by.into();
        by.require(Permission::UserManage)?;
        let u = self.store.get_user(user_id).await?;
        Ok(self.store.list_tokens(u.id).await?)
    }

    /// Create a user (the role's default clearance), with a password for browser login if
    /// given, and a first API token named `token_name`.
    pub async fn create_user(
        &self,
        by: impl Into<Acting<'_>>,
        username: &str,
        role: &str,
        password: Option<String>,
        expires: Option<&str>,
        token_name: &str,
    ) -> Result<(User, Issued)> {
        let by = by.into();
        by.require(Permission::UserManage)?;
        let role = Role::parse(role)?;
        let lifetime = self.token_lifetime(expires)?;
        let mut user = NewUser::build(username, role, None)?;
        if let Some(p) = password {
            user.password_hash = Some(self.hasher.hash(p).await?);
        }
        let user = self
            .store
            .create_user(&by.actor(), user)
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => {
                    AppError::Conflict(format!("a user named {:?} already exists", username.trim()))
                }
                e => e.into(),
            })?;
        let token = self.issue_token(by, user.id, token_name, lifetime).await?;
        Ok((user, token))
    }

    /// Issue an API token for a user.
    pub async fn issue_token(
        &self,
        by: impl Into<Acting<'_>>,
        user_id: Uuid,
        name: &str,
        lifetime: Option<chrono::Duration>,
    ) -> Result<Issued> {
        let by = by.into();
        by.require(Permission::UserManage)?;
        self.store.get_user(user_id).await?;
        let (token, secret) = ApiToken::generate(user_id, name, lifetime);
        self.store
            .write(&by.actor(), Op::CreateToken(token.clone()))
            .await?;
        Ok(Issued { token, secret })
    }

    /// Disable or enable a user; nobody can disable themselves. A disabled user's tokens and
    /// browser sessions stop working.
    pub async fn set_user_disabled(
        &self,
        by: impl Into<Acting<'_>>,
        id: Uuid,
        disabled: bool,
    ) -> Result<User> {
        let by = by.into();
        by.require(Permission::UserManage)?;
        if disabled && by.is(id) {
            return Err(AppError::Conflict(
                "you cannot disable yourself; ask another admin".into(),
            ));
        }
        self.store
            .write(&by.actor(), set_disabled_op(&by.actor(), id, disabled))
            .await?;
        Ok(self.store.get_user(id).await?)
    }

    /// Replace a user's password (after the policy check); their browser sessions end.
    pub async fn set_user_password(
        &self,
        by: impl Into<Acting<'_>>,
        id: Uuid,
        password: String,
    ) -> Result<()> {
        let by = by.into();
        by.require(Permission::UserManage)?;
        let hash = self.hasher.hash(password).await?;
        self.store
            .write(
                &by.actor(),
                set_password_op(&by.actor(), id, Redacted(hash)),
            )
            .await?;
        Ok(())
    }

    /// Set the time zone `u` reads times in (an IANA name; empty: UTC). Anyone may set their
    /// own; the change is audited. Answers the zone now stored.
    pub async fn set_own_time_zone(&self, u: &User, zone: &str) -> Result<Option<String>> {
        let zone = match zone.trim() {
            "" => None,
            z => Some(tocsin_domain::time::parse_zone(z)?.name().to_string()),
        };
        self.store
            .write(
                &u.actor(),
                Op::All {
                    steps: vec![Step::SetUserTimeZone {
                        user_id: u.id,
                        time_zone: zone.clone(),
                    }],
                    audit: Box::new(
                        AuditEvent::new(
                            &u.actor(),
                            "user.time_zone",
                            "user",
                            Some(u.id.to_string()),
                        )
                        .with_detail(serde_json::json!({ "time_zone": zone })),
                    ),
                },
            )
            .await?;
        Ok(zone)
    }

    /// Set the language `u` reads the web pages in (a code such as `fr`; empty: their
    /// browser's). Anyone may set their own; the change is audited. Answers the language now
    /// stored; one the UI does not speak is refused.
    pub async fn set_own_language(&self, u: &User, code: &str) -> Result<Option<Lang>> {
        let language = match code.trim() {
            "" => None,
            c => Some(Lang::parse(c).ok_or_else(|| {
                AppError::bad_field("language", format!("no such language: {c}"))
            })?),
        };
        self.store
            .write(
                &u.actor(),
                Op::All {
                    steps: vec![Step::SetUserLanguage {
                        user_id: u.id,
                        language,
                    }],
                    audit: Box::new(
                        AuditEvent::new(
                            &u.actor(),
                            "user.language",
                            "user",
                            Some(u.id.to_string()),
                        )
                        .with_detail(serde_json::json!({ "language": language.map(|l| l.code()) })),
                    ),
                },
            )
            .await?;
        Ok(language)
    }

    /// Revoke a token: it stops working for good.
    pub async fn revoke_token(&self, by: impl Into<Acting<'_>>, token_id: Uuid) -> Result<()> {
        let by = by.into();
        by.require(Permission::UserManage)?;
        self.store
            .write(&by.actor(), Op::RevokeToken(token_id))
            .await?;
        Ok(())
    }
}
