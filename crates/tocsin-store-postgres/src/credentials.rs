//! Credentials on PostgreSQL: a user's disabled flag and password hash, their browser
//! sessions, and API tokens. What goes with what (disabling ends the sessions) is decided by
//! the application layer, which composes these in one [`tocsin_store::Op::All`].

use sqlx::postgres::PgConnection;
use sqlx::PgPool;
use tocsin_domain::ApiToken;
use tocsin_store::{Done, Result, StoreError};
use uuid::Uuid;

use crate::db_err;
use crate::rows::col;

/// End every browser session of a user.
pub(crate) async fn end_sessions(conn: &mut PgConnection, user_id: Uuid) -> Result<()> {
    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    Ok(())
}

fn one(rows: u64) -> Result<Done> {
    if rows == 1 {
        Ok(Done::Unit)
    } else {
        Err(StoreError::NotFound)
    }
}

/// Set a user's disabled flag; not found when there is no such user.
pub(crate) async fn set_disabled(
    conn: &mut PgConnection,
    user_id: Uuid,
    disabled: bool,
) -> Result<Done> {
    let r = sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2")
        .bind(disabled)
        .bind(user_id)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    one(r.rows_affected())
}

/// Set or clear a user's time zone; not found when there is no such user.
pub(crate) async fn set_time_zone(
    conn: &mut PgConnection,
    user_id: Uuid,
    zone: Option<&str>,
) -> Result<Done> {
    let r = sqlx::query("UPDATE users SET time_zone = $1 WHERE id = $2")
        .bind(zone)
        .bind(user_id)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    one(r.rows_affected())
}

/// Set or clear a user's language; not found when there is no such user.
pub(crate) async fn set_language(
    conn: &mut PgConnection,
    user_id: Uuid,
    language: Option<&str>,
) -> Result<Done> {
    let r = sqlx::query("UPDATE users SET language = $1 WHERE id = $2")
        .bind(language)
        .bind(user_id)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    one(r.rows_affected())
}

/// Replace a user's password hash; not found when there is no such user.
pub(crate) async fn set_password(
    conn: &mut PgConnection,
    user_id: Uuid,
    hash: &str,
) -> Result<Done> {
    let r = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(hash)
        .bind(user_id)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    one(r.rows_affected())
}

/// Revoke a token; not found when there is no such token.
pub(crate) async fn revoke_token(conn: &mut PgConnection, id: Uuid) -> Result<Done> {
    let r = sqlx::query("UPDATE api_tokens SET revoked = true WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    one(r.rows_affected())
}

/// A user's tokens, oldest first.
pub(crate) async fn list_tokens(pool: &PgPool, user_id: Uuid) -> Result<Vec<ApiToken>> {
    let rows = sqlx::query(
        "SELECT id, user_id, name, token_hash, created_at, expires_at, revoked FROM api_tokens \
         WHERE user_id = $1 ORDER BY created_at, id",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    rows.iter()
        .map(|r| {
            Ok(ApiToken {
                id: col(r, 0)?,
                user_id: col(r, 1)?,
                name: col(r, 2)?,
                token_hash: col(r, 3)?,
                created_at: col(r, 4)?,
                expires_at: col(r, 5)?,
                revoked: col(r, 6)?,
            })
        })
        .collect()
}
