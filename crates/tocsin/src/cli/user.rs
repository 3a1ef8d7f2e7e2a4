//! `tocsin user` (users, their passwords, tokens and grants) and `tocsin token revoke`.

use anyhow::{anyhow, Context, Result};
use clap::Subcommand;
use std::process::ExitCode;
use tocsin_domain::{Actor, ApiToken, Permission};
use tocsin_store::{DynStore, Op, StoreError};

use super::common::{contact_key, open_store, settle, Refused};
use super::Global;
use crate::config::Overrides;

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create a user; prints a new API token as the last line.
    Add {
        /// Login name.
        name: String,
        /// admin, analyst, desk_officer, monitor_coordinator or viewer.
        #[arg(long)]
        role: String,
        /// Read a password for browser login from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        /// How long the API token works: e.g. 90d, 12h or never (default `[auth]
        /// token_expiry_days`, 90 days).
        #[arg(long)]
        expires: Option<String>,
        /// E-mail address notifications go to.
        #[arg(long)]
        email: Option<String>,
        /// Phone number for SMS notifications (sealed; national numbers in `[sms]
        /// default_region`).
        #[arg(long)]
        phone: Option<String>,
    },
    /// Set a user's contact details and notification channels (shown back masked).
    Set {
        /// Login name.
        name: String,
        /// E-mail address ("" removes it).
        #[arg(long)]
        email: Option<String>,
        /// Phone number ("" removes it).
        #[arg(long)]
        phone: Option<String>,
        /// Channels per severity, e.g. `critical=sms+email+inbox,high=email+inbox,low=none`.
        #[arg(long)]
        channels: Option<String>,
    },
    /// Issue another API token for an existing user; prints it as the last line.
    Token {
        /// Login name.
        name: String,
        /// How long it works: e.g. 90d, 12h or never (default `[auth] token_expiry_days`).
        #[arg(long)]
        expires: Option<String>,
    },
    /// List users.
    List,
    /// Grant a permission no role holds (`legal_qualify`, `evidence_original`; analysts only).
    Grant {
        /// Login name.
        name: String,
        /// The permission: legal_qualify or evidence_original.
        permission: String,
    },
    /// Take back a granted permission.
    RevokeGrant {
        /// Login name.
        name: String,
        /// The permission: legal_qualify or evidence_original.
        permission: String,
    },
    /// Disable a user: their tokens stop working and their browser sessions end at once.
    Disable {
        /// Login name.
        name: String,
    },
    /// Enable a disabled user (their ended sessions stay ended).
    Enable {
        /// Login name.
        name: String,
    },
    /// Set a user's password (read from standard input) and end their browser sessions.
    Password {
        /// Login name.
        name: String,
        /// Read the password from the first line of standard input (required).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// List a user's API tokens: id, name, created, expires, state (never a secret).
    Tokens {
        /// Login name.
        name: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Revoke an API token (ids from `tocsin user tokens NAME`): it stops working at once.
    Revoke {
        /// The token's id.
        id: String,
    },
}

/// The user of that login name, or a clear error.
async fn user_named(store: &DynStore, name: &str) -> Result<tocsin_domain::User> {
    store
        .get_user_by_name(name)
        .await
        .with_context(|| format!("no user named {name:?}"))
}

/// Disable or enable the user of that login name.
async fn set_disabled(app: &tocsin_app::App<'_>, name: &str, disabled: bool) -> Result<()> {
    let user = user_named(app.store, name).await?;
    app.set_user_disabled(OPERATOR, user.id, disabled)
        .await
        .map_err(operator_refused)?;
    Ok(())
}

/// A user's contacts as the CLI shows them: masked, whoever runs it (a terminal's scrollback
/// is not the place for a colleague's number).
fn print_contacts(v: &tocsin_app::notify::ContactsView) {
    let email = v.email.as_deref().map(tocsin_domain::contact::mask_email);
    let phone = v.phone.as_deref().map(tocsin_domain::contact::mask_phone);
    println!("email: {}", email.as_deref().unwrap_or("none"));
    println!("phone: {}", phone.as_deref().unwrap_or("none"));
    for (severity, list) in &v.channels {
        let list = if list.is_empty() {
            "none".to_string()
        } else {
            list.join("+")
        };
        println!("{severity}: {list}");
    }
}

/// A password from the first line of standard input.
fn read_password_stdin() -> Result<String> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// "expires 2026-…" or "no expiry".
fn expiry_text(t: &ApiToken) -> String {
    t.expires_at.map_or("no expiry".into(), |e| {
        format!("expires {}", tocsin_domain::time::format(&e))
    })
}

/// Run a `tocsin user` subcommand.
pub async fn user(g: &Global, command: UserCommand) -> Result<ExitCode> {
    let cfg = settle(g, Overrides::default())?;
    let store = open_store(&cfg).await?;
    let frameworks = tocsin_framework::Frameworks::shipped();
    let mut app = tocsin_app::App::new(&store, &frameworks);
    let channels = cfg.channels();
    app.channels = &channels;
    // The contact key seals (and opens) a phone number; loaded only where one may be involved.
    let needs_key = matches!(
        &command,
        UserCommand::Add { phone: Some(_), .. } | UserCommand::Set { .. }
    );
    let key = if needs_key {
        Some(contact_key(&cfg, &store).await?)
    } else {
        None
    };
    app.contact_key = key.as_ref();
    match command {
        UserCommand::Add {
            name,
            role,
            password_stdin,
            expires,
            email,
            phone,
        } => {
            let contacts = tocsin_app::notify::ContactsPatch {
                email,
                phone,
                channels: None,
            };
            let wants_contacts = contacts.email.is_some() || contacts.phone.is_some();
            if wants_contacts {
                // Checked before the user is created, so a bad address writes nothing.
                app.check_contacts(&contacts).map_err(operator_refused)?;
            }
            let password = if password_stdin {
                Some(read_password_stdin()?)
            } else {
                None
            };
            // The lifetime asked for, else the configured default.
            app.token_lifetime = cfg.token_lifetime_or(expires.as_deref())?;
            let (user, issued) = app
                .create_user(OPERATOR, &name, &role, password, None, "cli")
                .await
                .map_err(operator_refused)?;
            println!(
                "created user {} ({}, clearance {})",
                user.username, user.role, user.clearance
            );
            if wants_contacts {
                let view = app
                    .set_user_contacts(OPERATOR, user.id, contacts)
                    .await
                    .map_err(operator_refused)?;
                print_contacts(&view);
            }
            let (token, secret) = (issued.token, issued.secret);
            println!(
                "API token {} ({}; shown once; use as Authorization: Bearer TOKEN):",
                token.id,
                expiry_text(&token)
            );
            println!("{secret}");
        }
        UserCommand::Set {
            name,
            email,
            phone,
            channels,
        } => {
            let user = user_named(&store, &name).await?;
            let channels = channels
                .map(|spec| tocsin_domain::contact::channel_spec(&spec))
                .transpose()
                .map_err(|e| operator_refused(e.into()))?;
            let view = app
                .set_user_contacts(
                    OPERATOR,
                    user.id,
                    tocsin_app::notify::ContactsPatch {
                        email,
                        phone,
                        channels,
                    },
                )
                .await
                .map_err(operator_refused)?;
            println!("contacts of {} set", user.username);
            print_contacts(&view);
        }
        UserCommand::Token { name, expires } => {
            let lifetime = cfg.token_lifetime_or(expires.as_deref())?;
            let user = user_named(&store, &name).await?;
            let issued = app
                .issue_token(OPERATOR, user.id, "cli", lifetime)
                .await
                .map_err(operator_refused)?;
            let (token, secret) = (issued.token, issued.secret);
            eprintln!("API token {} ({})", token.id, expiry_text(&token));
            println!("{secret}");
        }
        UserCommand::List => {
            for u in app.list_users(OPERATOR).await.map_err(operator_refused)? {
                println!(
                    "{}\t{}\t{}{}{}",
                    u.username,
                    u.role,
                    u.clearance,
                    if u.disabled { "\tdisabled" } else { "" },
                    if u.grants.is_empty() {
                        String::new()
                    } else {
                        format!("\tgrants: {}", u.grants_text())
                    }
                );
            }
        }
        UserCommand::Grant { name, permission } => {
            print!("{}", grant(&store, &name, &permission, true).await?);
        }
        UserCommand::RevokeGrant { name, permission } => {
            print!("{}", grant(&store, &name, &permission, false).await?);
        }
        UserCommand::Disable { name } => {
            set_disabled(&app, &name, true).await?;
            println!("{name} disabled: tokens refused, browser sessions ended");
        }
        UserCommand::Enable { name } => {
            set_disabled(&app, &name, false).await?;
            println!("{name} enabled");
        }
        UserCommand::Password { name, .. } => {
            let user = user_named(&store, &name).await?;
            app.set_user_password(OPERATOR, user.id, read_password_stdin()?)
                .await
                .map_err(operator_refused)?;
            println!("password set for {}; browser sessions ended", user.username);
        }
        UserCommand::Tokens { name } => {
            let user = user_named(&store, &name).await?;
            let now = tocsin_domain::time::now();
            println!("id\tname\tcreated\texpires\tstate");
            for t in app
                .list_tokens(OPERATOR, user.id)
                .await
                .map_err(operator_refused)?
            {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    t.id,
                    t.name,
                    tocsin_domain::time::format(&t.created_at),
                    t.expires_at
                        .map_or("never".into(), |e| tocsin_domain::time::format(&e)),
                    if t.revoked {
                        "revoked"
                    } else if !t.is_live(now) {
                        "expired"
                    } else {
                        "live"
                    }
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `tocsin token revoke ID`.
pub async fn token(g: &Global, command: TokenCommand) -> Result<ExitCode> {
    let TokenCommand::Revoke { id } = command;
    let cfg = settle(g, Overrides::default())?;
    let store = open_store(&cfg).await?;
    let id = uuid::Uuid::parse_str(id.trim())
        .map_err(|_| anyhow::anyhow!("{id:?} is not a token id (see `tocsin user tokens NAME`)"))?;
    let frameworks = tocsin_framework::Frameworks::shipped();
    tocsin_app::App::new(&store, &frameworks)
        .revoke_token(OPERATOR, id)
        .await
        .map_err(|e| match e {
            tocsin_app::AppError::NotFound => Refused {
                error: e,
                message: format!("no token with id {id}"),
            }
            .into(),
            e => operator_refused(e),
        })?;
    println!("token {id} revoked");
    Ok(ExitCode::SUCCESS)
}

/// `tocsin user grant|revoke-grant NAME PERMISSION`.
async fn grant(store: &DynStore, name: &str, permission: &str, on: bool) -> Result<String> {
    let p = Permission::parse_grant(permission)?;
    let mut u = store.get_user_by_name(name).await.map_err(|e| match e {
        StoreError::NotFound => anyhow!("no user named {name:?}"),
        e => e.into(),
    })?;
    // The domain's rule, checked before writing (the store checks it again).
    u.set_grant(p, on)?;
    store
        .write(
            &Actor::system("cli"),
            Op::GrantPermission {
                user_id: u.id,
                permission: p,
                on,
            },
        )
        .await?;
    Ok(if on {
        format!("granted {} to {name}\n", p.as_str())
    } else {
        format!("took back {} from {name}\n", p.as_str())
    })
}

/// The command line administers accounts as the operator: whoever holds the data directory.
const OPERATOR: tocsin_app::Acting<'static> = tocsin_app::Acting::Operator("cli");

/// A refusal of the application layer, told as the CLI tells it (with its exit code).
fn operator_refused(e: tocsin_app::AppError) -> anyhow::Error {
    let message = e.to_string();
    Refused { error: e, message }.into()
}
