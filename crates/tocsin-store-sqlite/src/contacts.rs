//! How staff are reached on SQLite: user contact details and preferences, the in-app inbox,
//! and the idempotent enqueue notifications use. Stores what it is given.

use sqlx::sqlite::{SqliteConnection, SqlitePool, SqliteRow};
use sqlx::{QueryBuilder, Row, Sqlite};
use tocsin_domain::time::format as ts;
use tocsin_domain::{
    ChannelPrefs, InboxAfter, InboxItem, OutboundMessage, Page, PageRequest, SealedContact,
    UserContacts,
};
use tocsin_store::{Result, StoreError};
use uuid::Uuid;

use crate::db_err;
use crate::rows::{parse_ts, parse_uuid};

async fn user_exists(conn: &mut SqliteConnection, user_id: Uuid) -> Result<()> {
    let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM users WHERE id = ?")
        .bind(user_id.to_string())
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)?;
    found.map(|_| ()).ok_or(StoreError::NotFound)
}

/// Replace a user's contact details and preferences.
pub(crate) async fn set_contacts(conn: &mut SqliteConnection, c: &UserContacts) -> Result<()> {
    user_exists(conn, c.user_id).await?;
    sqlx::query(
        "INSERT INTO user_contacts (user_id, email, phone, channels, updated_at) VALUES (?,?,?,?,?) \
         ON CONFLICT (user_id) DO UPDATE SET email = excluded.email, phone = excluded.phone, \
         channels = excluded.channels, updated_at = excluded.updated_at",
    )
    .bind(c.user_id.to_string())
    .bind(&c.email)
    .bind(c.phone.as_ref().map(|p| p.0.clone()))
    .bind(c.channels.to_json())
    .bind(ts(&c.updated_at))
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

/// Put an item in an inbox unless its key is there already.
pub(crate) async fn add_inbox_item(conn: &mut SqliteConnection, i: &InboxItem) -> Result<()> {
    user_exists(conn, i.user_id).await?;
    sqlx::query(
        "INSERT INTO inbox_items (id, user_id, alert_id, idempotency_key, subject, link, created_at, read_at) \
         VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (idempotency_key) DO NOTHING",
    )
    .bind(i.id.to_string())
    .bind(i.user_id.to_string())
    .bind(i.alert_id.map(|a| a.to_string()))
    .bind(&i.idempotency_key)
    .bind(&i.subject)
    .bind(&i.link)
    .bind(ts(&i.created_at))
    .bind(i.read_at.as_ref().map(ts))
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

/// Mark an item of a user's inbox read.
pub(crate) async fn mark_read(
    conn: &mut SqliteConnection,
    user_id: Uuid,
    id: Uuid,
    at: &chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    let n = sqlx::query(
        "UPDATE inbox_items SET read_at = COALESCE(read_at, ?) WHERE id = ? AND user_id = ?",
    )
    .bind(ts(at))
    .bind(id.to_string())
    .bind(user_id.to_string())
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    if n.rows_affected() == 1 {
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
}

/// Queue a delivery unless its idempotency key is taken.
pub(crate) async fn enqueue_once(conn: &mut SqliteConnection, m: &OutboundMessage) -> Result<()> {
    let taken: Option<i64> = sqlx::query_scalar("SELECT 1 FROM outbox WHERE idempotency_key = ?")
        .bind(&m.idempotency_key)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)?;
    if taken.is_some() {
        return Ok(());
    }
    crate::insert_outbound(conn, m).await
}

/// A user's contacts, or the defaults.
pub(crate) async fn get_contacts(pool: &SqlitePool, user_id: Uuid) -> Result<UserContacts> {
    let user: Option<i64> = sqlx::query_scalar("SELECT 1 FROM users WHERE id = ?")
        .bind(user_id.to_string())
        .fetch_optional(pool)
        .await
        .map_err(db_err)?;
    user.ok_or(StoreError::NotFound)?;
    let row = sqlx::query(
        "SELECT email, phone, channels, updated_at FROM user_contacts WHERE user_id = ?",
    )
    .bind(user_id.to_string())
    .fetch_optional(pool)
    .await
    .map_err(db_err)?;
    let Some(row) = row else {
        return Ok(UserContacts::empty(user_id));
    };
    Ok(UserContacts {
        user_id,
        email: row.get(0),
        phone: row.get::<Option<Vec<u8>>, _>(1).map(SealedContact),
        channels: ChannelPrefs::from_json(row.get(2))?,
        updated_at: parse_ts(row.get(3))?,
    })
}

const INBOX_COLS: &str =
    "id, user_id, alert_id, idempotency_key, subject, link, created_at, read_at";

fn inbox_from_row(row: &SqliteRow) -> Result<InboxItem> {
    Ok(InboxItem {
        id: parse_uuid(row.get(0))?,
        user_id: parse_uuid(row.get(1))?,
        alert_id: row.get::<Option<&str>, _>(2).map(parse_uuid).transpose()?,
        idempotency_key: row.get(3),
        subject: row.get(4),
        link: row.get(5),
        created_at: parse_ts(row.get(6))?,
        read_at: row.get::<Option<&str>, _>(7).map(parse_ts).transpose()?,
    })
}

/// A page of a user's inbox: unread first, newest first.
pub(crate) async fn list_inbox(
    pool: &SqlitePool,
    user_id: Uuid,
    page: PageRequest,
) -> Result<Page<InboxItem>> {
    let mut qb = QueryBuilder::<Sqlite>::new(format!(
        "SELECT {INBOX_COLS} FROM inbox_items WHERE user_id = "
    ));
    qb.push_bind(user_id.to_string());
    if let Some(c) = &page.after {
        let after = InboxAfter::from_cursor(c)?;
        let (at, id) = (ts(&after.created_at), after.id.to_string());
        if after.unread {
            qb.push(" AND (read_at IS NOT NULL OR created_at < ");
            qb.push_bind(at.clone());
            qb.push(" OR (created_at = ");
            qb.push_bind(at);
            qb.push(" AND id < ");
            qb.push_bind(id);
            qb.push("))");
        } else {
            qb.push(" AND read_at IS NOT NULL AND (created_at < ");
            qb.push_bind(at.clone());
            qb.push(" OR (created_at = ");
            qb.push_bind(at);
            qb.push(" AND id < ");
            qb.push_bind(id);
            qb.push("))");
        }
    }
    qb.push(" ORDER BY (read_at IS NULL) DESC, created_at DESC, id DESC LIMIT ");
    qb.push_bind(i64::from(page.limit) + 1);
    let rows = qb.build().fetch_all(pool).await.map_err(db_err)?;
    let items = rows
        .iter()
        .map(inbox_from_row)
        .collect::<Result<Vec<_>>>()?;
    Ok(Page::from_rows(items, page.limit, InboxItem::cursor))
}

/// How many unread items a user has.
pub(crate) async fn inbox_unread(pool: &SqlitePool, user_id: Uuid) -> Result<u64> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM inbox_items WHERE user_id = ? AND read_at IS NULL",
    )
    .bind(user_id.to_string())
    .fetch_one(pool)
    .await
    .map_err(db_err)?;
    Ok(n as u64)
}
