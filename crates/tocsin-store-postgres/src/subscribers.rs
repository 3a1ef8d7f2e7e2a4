//! Subscribers on PostgreSQL: one row per number (by its keyed hash), area queries on the two
//! covering partial indexes of active subscribers (`subscribers_active_area`,
//! `subscribers_active_point`), offered places in `subscriber_offers`.

use chrono::{DateTime, Utc};
use sqlx::postgres::PgConnection;
use sqlx::{Postgres, QueryBuilder, Row};
use tocsin_domain::{
    BroadcastArea, Country, Lang, SealedContact, Subscriber, SubscriberPlace, SubscriberStatus,
};
use tocsin_store::{AreaCount, PlaceOffer, Result, StoreError, SubscriberRow, SubscriberStep};
use uuid::Uuid;

use crate::db_err;

fn corrupt(what: &str) -> StoreError {
    StoreError::Backend(format!("corrupt {what} in database"))
}

pub(crate) fn lang(s: &str) -> Result<Lang> {
    Lang::parse(s).ok_or_else(|| corrupt("language"))
}

pub(crate) fn country(s: &str) -> Result<Country> {
    Country::parse(s).map_err(|_| corrupt("country"))
}

/// Apply one subscriber step inside the op's transaction.
pub(crate) async fn apply(conn: &mut PgConnection, step: &SubscriberStep) -> Result<()> {
    match step {
        SubscriberStep::Subscribe(n) => {
            let s = &n.subscriber;
            sqlx::query(
                "INSERT INTO subscribers (id, phone_hash, contact, country, admin1, place_name, \
                 lat, lon, language, status, created_at, updated_at) \
                 VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12) \
                 ON CONFLICT (phone_hash) DO UPDATE SET country = excluded.country, \
                 admin1 = excluded.admin1, place_name = excluded.place_name, lat = excluded.lat, \
                 lon = excluded.lon, language = excluded.language, status = 'active', \
                 updated_at = excluded.updated_at",
            )
            .bind(s.id)
            .bind(&n.phone_hash)
            .bind(&n.contact.0)
            .bind(s.place.country.code())
            .bind(s.place.admin1.as_deref())
            .bind(&s.place.name)
            .bind(s.place.lat)
            .bind(s.place.lon)
            .bind(s.language.code())
            .bind(SubscriberStatus::Active.as_str())
            .bind(s.created_at)
            .bind(s.updated_at)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            Ok(())
        }
        SubscriberStep::Stop { phone_hash, at } => {
            sqlx::query(
                "UPDATE subscribers SET status = 'stopped', updated_at = $1 \
                 WHERE phone_hash = $2 AND status = 'active'",
            )
            .bind(at)
            .bind(phone_hash)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            clear_offer(conn, phone_hash).await
        }
        SubscriberStep::Offer(o) => {
            let places =
                serde_json::to_string(&o.places).map_err(|e| StoreError::Backend(e.to_string()))?;
            sqlx::query(
                "INSERT INTO subscriber_offers (phone_hash, language, places, expires_at) \
                 VALUES ($1,$2,$3::jsonb,$4) ON CONFLICT (phone_hash) DO UPDATE SET \
                 language = excluded.language, places = excluded.places, \
                 expires_at = excluded.expires_at",
            )
            .bind(&o.phone_hash)
            .bind(o.language.code())
            .bind(places)
            .bind(o.expires_at)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            Ok(())
        }
        SubscriberStep::ClearOffer(h) => clear_offer(conn, h).await,
    }
}

async fn clear_offer(conn: &mut PgConnection, phone_hash: &str) -> Result<()> {
    sqlx::query("DELETE FROM subscriber_offers WHERE phone_hash = $1")
        .bind(phone_hash)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    Ok(())
}

const COLUMNS: &str =
    "id, country, admin1, place_name, lat, lon, language, status, created_at, updated_at";

fn subscriber(r: &sqlx::postgres::PgRow) -> Result<Subscriber> {
    let status: String = r.get("status");
    Ok(Subscriber {
        id: r.get("id"),
        place: SubscriberPlace {
            country: country(r.get("country"))?,
            admin1: r.get("admin1"),
            name: r.get("place_name"),
            lat: r.get("lat"),
            lon: r.get("lon"),
        },
        language: lang(r.get("language"))?,
        status: SubscriberStatus::parse(&status).map_err(|_| corrupt("status"))?,
        created_at: r.get("created_at"),
        updated_at: r.get("updated_at"),
    })
}

#[async_trait::async_trait]
impl tocsin_store::Subscribers for crate::PostgresStore {
    async fn get_subscriber(&self, id: Uuid) -> Result<Subscriber> {
        let r = sqlx::query(&format!("SELECT {COLUMNS} FROM subscribers WHERE id = $1"))
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        subscriber(&r)
    }

    async fn subscriber_by_phone_hash(&self, phone_hash: &str) -> Result<Option<Subscriber>> {
        let r = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM subscribers WHERE phone_hash = $1"
        ))
        .bind(phone_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        r.as_ref().map(subscriber).transpose()
    }

    async fn subscriber_contact(&self, id: Uuid) -> Result<SealedContact> {
        let b: Vec<u8> = sqlx::query_scalar("SELECT contact FROM subscribers WHERE id = $1")
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(SealedContact(b))
    }

    async fn place_offer(
        &self,
        phone_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<PlaceOffer>> {
        let r = sqlx::query(
            "SELECT language, places::text AS places, expires_at FROM subscriber_offers \
             WHERE phone_hash = $1 AND expires_at >= $2",
        )
        .bind(phone_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        let Some(r) = r else { return Ok(None) };
        Ok(Some(PlaceOffer {
            phone_hash: phone_hash.to_string(),
            language: lang(r.get("language"))?,
            places: serde_json::from_str(r.get("places")).map_err(|_| corrupt("offer"))?,
            expires_at: r.get("expires_at"),
        }))
    }

    async fn subscriber_candidates(&self, area: &BroadcastArea) -> Result<Vec<SubscriberRow>> {
        let mut qb = QueryBuilder::<Postgres>::new(
            "SELECT id, language, country, admin1, lat, lon FROM subscribers ",
        );
        match (area, area.bbox()) {
            (BroadcastArea::Countries(cs), _) => {
                qb.push("WHERE status = 'active' AND country IN (");
                let mut sep = qb.separated(", ");
                for c in cs {
                    sep.push_bind(c.code().to_string());
                }
                qb.push(")");
            }
            (BroadcastArea::Admin1(refs), _) => {
                qb.push("WHERE status = 'active' AND (");
                let mut sep = qb.separated(" OR ");
                for r in refs {
                    sep.push("(country = ")
                        .push_bind_unseparated(r.country.code().to_string())
                        .push_unseparated(" AND admin1 = ")
                        .push_bind_unseparated(r.name.clone())
                        .push_unseparated(")");
                }
                qb.push(")");
            }
            (_, Some(b)) => {
                qb.push(
                    "WHERE status = 'active' \
                     AND lat BETWEEN ",
                )
                .push_bind(b.min_lat)
                .push(" AND ")
                .push_bind(b.max_lat)
                .push(" AND lon BETWEEN ")
                .push_bind(b.min_lon)
                .push(" AND ")
                .push_bind(b.max_lon);
            }
            (_, None) => return Ok(Vec::new()),
        }
        let rows = qb.build().fetch_all(&self.pool).await.map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(SubscriberRow {
                    id: r.get(0),
                    language: lang(r.get(1))?,
                    country: country(r.get(2))?,
                    admin1: r.get(3),
                    lat: r.get(4),
                    lon: r.get(5),
                })
            })
            .collect()
    }

    async fn subscriber_counts_everywhere(&self) -> Result<Vec<AreaCount>> {
        let rows = sqlx::query(
            "SELECT country, admin1, COUNT(*) FROM subscribers \
             WHERE status = 'active' GROUP BY country, admin1 ORDER BY country, admin1 NULLS FIRST",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(AreaCount {
                    country: country(r.get(0))?,
                    admin1: r.get(1),
                    count: r.get::<i64, _>(2) as u64,
                })
            })
            .collect()
    }
}
