//! Withdrawing credentials on SQLite: disabling users, replacing passwords, revoking tokens.

use sqlx::sqlite::SqliteConnection;
use sqlx::{Row, SqlitePool};
use tocsin_domain::ApiToken;
use tocsin_store::{Done, Op, Result, StoreError};
use uuid::Uuid;

use crate::db_err;
use crate::rows::{parse_ts, parse_uuid};

async fn end_sessions(conn: &mut SqliteConnection, user_id: Uuid) -> Result<()> {
    sqlx::query("DELETE FROM sessions WHERE user_id = ?")
        .bind(user_id.to_string())
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

async fn set_disabled(conn: &mut SqliteConnection, user_id: Uuid, disabled: bool) -> Result<Done> {
    let r = sqlx::query("UPDATE users SET disabled = ? WHERE id = ?")
        .bind(disabled)
        .bind(user_id.to_string())
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    if disabled {
        end_sessions(conn, user_id).await?;
    }
    one(r.rows_affected())
}

async fn set_password(conn: &mut SqliteConnection, user_id: Uuid, hash: &str) -> Result<Done> {
    let r = sqlx::query("UPDATE users SET password_hash = ? WHERE id = ?")
        .bind(hash)
        .bind(user_id.to_string())
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    end_sessions(conn, user_id).await?;
    one(r.rows_affected())
}

/// Apply a credential op, or `None` if `op` is not one.
pub(crate) async fn apply(conn: &mut SqliteConnection, op: &Op) -> Option<Result<Done>> {
    Some(match op {
        Op::SetUserDisabled { user_id, disabled } => set_disabled(conn, *user_id, *disabled).await,
        Op::SetPassword {
            user_id,
            password_hash,
        } => set_password(conn, *user_id, &password_hash.0).await,
        Op::RevokeToken(id) => sqlx::query("UPDATE api_tokens SET revoked = 1 WHERE id = ?")
            .bind(id.to_string())
            .execute(&mut *conn)
            .await
            .map_err(db_err)
            .and_then(|r| one(r.rows_affected())),
        _ => return None,
    })
}

/// A user's tokens, oldest first.
pub(crate) async fn list_tokens(pool: &SqlitePool, user_id: Uuid) -> Result<Vec<ApiToken>> {
    let rows = sqlx::query(
        "SELECT id, user_id, name, token_hash, created_at, expires_at, revoked FROM api_tokens \
         WHERE user_id = ? ORDER BY created_at, id",
    )
    .bind(user_id.to_string())
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    rows.iter()
        .map(|r| {
            Ok(ApiToken {
                id: parse_uuid(r.get(0))?,
                user_id: parse_uuid(r.get(1))?,
                name: r.get(2),
                token_hash: r.get(3),
                created_at: parse_ts(r.get(4))?,
                expires_at: r.get::<Option<&str>, _>(5).map(parse_ts).transpose()?,
                revoked: r.get(6),
            })
        })
        .collect()
}
