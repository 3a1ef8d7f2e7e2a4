//! Monitored items on PostgreSQL: the item's JSON in `monitored_items.body` beside the columns
//! lists filter on, unique by origin and key; feed poll states in `feed_states`.

use sqlx::postgres::{PgConnection, Postgres};
use sqlx::QueryBuilder;
use tocsin_domain::{Cursor, FeedState, MonitoredItem, Page, PageRequest, SpeechFlag};
use tocsin_store::speech::{from_body, to_body};
use tocsin_store::{Done, ItemFilter, ItemWrite, Result, SpeechStep};
use uuid::Uuid;

use crate::db_err;

/// Apply [`tocsin_store::Op::StoreItems`] inside the op's transaction.
pub(crate) async fn store_items(
    conn: &mut PgConnection,
    items: &[ItemWrite],
    feed: Option<&FeedState>,
) -> Result<Done> {
    let mut new = 0u64;
    let mut flagged = 0u64;
    for w in items {
        let i = &w.item;
        let done = sqlx::query(
            "INSERT INTO monitored_items (id, origin, kind, key, tlp, flagged, fetched_at, body) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8::jsonb) ON CONFLICT (origin, key) DO NOTHING",
        )
        .bind(i.id)
        .bind(&i.origin)
        .bind(i.kind.as_str())
        .bind(&i.key)
        .bind(i.tlp.rank())
        .bind(!w.flags.is_empty())
        .bind(i.fetched_at)
        .bind(to_body(i)?)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 {
            continue;
        }
        new += 1;
        if !w.flags.is_empty() {
            flagged += 1;
        }
        for f in &w.flags {
            crate::speech::apply(conn, &SpeechStep::CreateFlag(Box::new(f.clone()))).await?;
        }
    }
    if let Some(f) = feed {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM monitored_items WHERE origin = $1")
            .bind(&f.name)
            .fetch_one(&mut *conn)
            .await
            .map_err(db_err)?;
        let mut f = f.clone();
        f.items = n as u64;
        sqlx::query(
            "INSERT INTO feed_states (name, body) VALUES ($1, $2::jsonb) \
             ON CONFLICT (name) DO UPDATE SET body = excluded.body",
        )
        .bind(&f.name)
        .bind(to_body(&f)?)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    }
    Ok(Done::Items {
        stored: new,
        flagged,
    })
}

#[async_trait::async_trait]
impl tocsin_store::Monitor for crate::PostgresStore {
    async fn get_item(&self, id: Uuid) -> Result<MonitoredItem> {
        let b: String = sqlx::query_scalar("SELECT body::text FROM monitored_items WHERE id = $1")
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        from_body("monitored item", &b)
    }

    async fn list_items(&self, f: &ItemFilter, page: PageRequest) -> Result<Page<MonitoredItem>> {
        let mut qb = QueryBuilder::<Postgres>::new(
            "SELECT body::text FROM monitored_items m WHERE m.tlp <= ",
        );
        qb.push_bind(f.max_tlp.rank());
        if let Some(o) = &f.origin {
            qb.push(" AND m.origin = ").push_bind(o.clone());
        }
        if let Some(fl) = f.flagged {
            qb.push(" AND m.flagged = ").push_bind(fl);
        }
        crate::push_time_page(&mut qb, "m.fetched_at", "m.id", page)?;
        let rows: Vec<String> = qb
            .build_query_scalar()
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        let items = rows
            .iter()
            .map(|b| from_body("monitored item", b))
            .collect::<Result<Vec<MonitoredItem>>>()?;
        Ok(Page::from_rows(items, page.limit, |x| {
            Cursor::by_time(x.fetched_at, x.id)
        }))
    }

    async fn flags_of_items(&self, items: &[Uuid]) -> Result<Vec<SpeechFlag>> {
        let mut out = Vec::new();
        for chunk in items.chunks(500) {
            let mut qb = QueryBuilder::<Postgres>::new(
                "SELECT body::text FROM speech_flags WHERE item_id IN (",
            );
            let mut sep = qb.separated(", ");
            for id in chunk {
                sep.push_bind(*id);
            }
            qb.push(") ORDER BY created_at DESC, id DESC");
            let rows: Vec<String> = qb
                .build_query_scalar()
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
            for b in &rows {
                out.push(from_body("speech flag", b)?);
            }
        }
        Ok(out)
    }

    async fn feed_states(&self) -> Result<Vec<FeedState>> {
        let rows: Vec<String> =
            sqlx::query_scalar("SELECT body::text FROM feed_states ORDER BY name")
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
        rows.iter().map(|b| from_body("feed state", b)).collect()
    }

    async fn feed_state(&self, name: &str) -> Result<Option<FeedState>> {
        let b: Option<String> =
            sqlx::query_scalar("SELECT body::text FROM feed_states WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
        b.map(|b| from_body("feed state", &b)).transpose()
    }

    async fn item_origins(&self) -> Result<Vec<(String, u64)>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT origin, count(*)::bigint FROM monitored_items GROUP BY origin ORDER BY origin",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(rows.into_iter().map(|(o, n)| (o, n as u64)).collect())
    }
}
