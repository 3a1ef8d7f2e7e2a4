//! The conformance story for Tocsin's storage backends.
//!
//! The story lives in `tests/`: backend-agnostic checks (`story.rs` for the core records,
//! `analysis.rs` for risk-analysis records), each run by [`story!`] against a fresh SQLite file
//! and a fresh PostgreSQL database. This library is the harness they share: [`Db`] opens a
//! fresh database, [`Raw`] reaches under the store.
//!
//! ```text
//! cargo test -p tocsin-store-tests                                   # SQLite only
//! TOCSIN_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!     cargo test -p tocsin-store-tests                               # both backends
//! ```
//!
//! With `TOCSIN_TEST_POSTGRES_URL` unset (or the server unreachable) the PostgreSQL half is
//! skipped with a message on stderr; set `TOCSIN_REQUIRE_POSTGRES=1` (as CI should) to make
//! that a failure instead. The URL's role must be allowed to `CREATE DATABASE`: each test gets
//! its own `tocsin_test_<uuid>` database, dropped when the test ends.

use sqlx::{Connection, Executor, PgConnection, SqliteConnection};
use std::io::Write;
use std::str::FromStr;
use std::sync::{Arc, Once};
use tocsin_store::DynStore;
use tocsin_store_postgres::PostgresStore;
use tocsin_store_sqlite::SqliteStore;
use uuid::Uuid;

/// Write straight to the test's stderr: libtest captures `eprintln!` of passing tests, and a
/// skipped backend must be visible.
pub fn say(msg: &str) {
    let _ = writeln!(std::io::stderr(), "{msg}");
}

fn require_postgres() -> bool {
    std::env::var("TOCSIN_REQUIRE_POSTGRES").is_ok_and(|v| v == "1")
}

/// Skip the PostgreSQL half (saying so once), or fail if PostgreSQL is required.
fn skip_postgres(why: &str) {
    if require_postgres() {
        panic!("TOCSIN_REQUIRE_POSTGRES=1 but {why}");
    }
    static ONCE: Once = Once::new();
    ONCE.call_once(|| say(&format!("skipping PostgreSQL: {why}")));
}

/// `url` with its database name replaced by `db` (query parameters kept).
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let start = base.find("://").map_or(0, |i| i + 3);
    let end = base[start..].find('/').map_or(base.len(), |i| start + i);
    let mut out = format!("{}/{db}", &base[..end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// Drops its PostgreSQL database when the test ends, passed or panicked.
struct PgDatabase {
    admin_url: String,
    name: String,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop may run inside the test's runtime (or while it unwinds): use a runtime of our own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                match PgConnection::connect(&admin_url).await {
                    Ok(mut c) => {
                        let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                        if let Err(e) = c.execute(sql.as_str()).await {
                            say(&format!("could not drop test database {name}: {e}"));
                        }
                        let _ = c.close().await;
                    }
                    Err(e) => say(&format!("could not drop test database {name}: {e}")),
                }
            })
        })
        .join();
    }
}

enum Location {
    Sqlite {
        url: String,
        _dir: tempfile::TempDir,
    },
    Postgres {
        url: String,
        _db: PgDatabase,
    },
}

/// One fresh database and the store under test on it.
pub struct Db {
    /// The store under test.
    pub store: DynStore,
    location: Location,
}

/// A connection to the same database that bypasses the store, to try what a person with
/// database access could do.
pub enum Raw {
    /// On SQLite.
    Sqlite(SqliteConnection),
    /// On PostgreSQL.
    Postgres(PgConnection),
}

impl Raw {
    /// Run one statement; the rows it changed, or the database's refusal.
    pub async fn exec(&mut self, sql: &str) -> Result<u64, String> {
        let r = match self {
            Raw::Sqlite(c) => c.execute(sql).await.map(|r| r.rows_affected()),
            Raw::Postgres(c) => c.execute(sql).await.map(|r| r.rows_affected()),
        };
        r.map_err(|e| e.to_string())
    }

    /// Drop a trigger (to show what it was guarding).
    pub async fn drop_trigger(&mut self, trigger: &str, table: &str) {
        let sql = match self {
            Raw::Sqlite(_) => format!("DROP TRIGGER {trigger}"),
            Raw::Postgres(_) => format!("DROP TRIGGER {trigger} ON {table}"),
        };
        self.exec(&sql).await.expect("drop trigger");
    }
}

impl Db {
    /// A fresh SQLite file in a tempdir.
    pub async fn sqlite() -> Db {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("tocsin.db").display());
        let store = SqliteStore::open(&url).await.expect("open SQLite store");
        Db {
            store: Arc::new(store),
            location: Location::Sqlite { url, _dir: dir },
        }
    }

    /// A fresh database on the server named by `TOCSIN_TEST_POSTGRES_URL`, or `None` to skip.
    pub async fn postgres() -> Option<Db> {
        let admin_url = match std::env::var("TOCSIN_TEST_POSTGRES_URL") {
            Ok(u) if !u.trim().is_empty() => u,
            _ => {
                skip_postgres("TOCSIN_TEST_POSTGRES_URL is not set");
                return None;
            }
        };
        let connect = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            PgConnection::connect(&admin_url),
        )
        .await;
        let mut admin = match connect {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => {
                skip_postgres(&format!("cannot connect to TOCSIN_TEST_POSTGRES_URL: {e}"));
                return None;
            }
            Err(_) => {
                skip_postgres("cannot connect to TOCSIN_TEST_POSTGRES_URL: timed out");
                return None;
            }
        };
        let name = format!("tocsin_test_{}", Uuid::now_v7().simple());
        // Prefer a linguistic collation (as most production servers have) so that any query
        // relying on bytewise text order, as SQLite's, shows up; fall back to the server default
        // where ICU is missing (or the server predates PostgreSQL 15).
        let icu = format!(
            "CREATE DATABASE {name} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'"
        );
        if admin.execute(icu.as_str()).await.is_err() {
            admin
                .execute(format!("CREATE DATABASE {name}").as_str())
                .await
                .expect("CREATE DATABASE (the test role needs CREATEDB)");
        }
        let _ = admin.close().await;
        let guard = PgDatabase {
            admin_url: admin_url.clone(),
            name: name.clone(),
        };
        let url = with_database(&admin_url, &name);
        let store = PostgresStore::open(&url)
            .await
            .expect("open PostgreSQL store");
        Some(Db {
            store: Arc::new(store),
            location: Location::Postgres { url, _db: guard },
        })
    }

    /// The SQLite database file (`None` on PostgreSQL), to look at its bytes.
    pub fn sqlite_file(&self) -> Option<std::path::PathBuf> {
        match &self.location {
            Location::Sqlite { _dir, .. } => Some(_dir.path().join("tocsin.db")),
            Location::Postgres { .. } => None,
        }
    }

    /// Another store on the same database, as a second process would open it.
    pub async fn open_another(&self) -> DynStore {
        match &self.location {
            Location::Sqlite { url, .. } => Arc::new(SqliteStore::open(url).await.expect("reopen")),
            Location::Postgres { url, .. } => {
                Arc::new(PostgresStore::open(url).await.expect("reopen"))
            }
        }
    }

    /// A raw connection to the same database (see [`Raw`]).
    pub async fn raw(&self) -> Raw {
        match &self.location {
            Location::Sqlite { url, .. } => {
                let opts = sqlx::sqlite::SqliteConnectOptions::from_str(url)
                    .expect("url")
                    .busy_timeout(std::time::Duration::from_secs(10));
                Raw::Sqlite(
                    SqliteConnection::connect_with(&opts)
                        .await
                        .expect("raw SQLite"),
                )
            }
            Location::Postgres { url, .. } => {
                Raw::Postgres(PgConnection::connect(url).await.expect("raw PostgreSQL"))
            }
        }
    }
}

/// Run each named check against both backends: `sqlite::<check>` and `postgres::<check>`.
/// Each check is an `async fn(&dyn Store, &Db)` in the module that invokes the macro.
#[macro_export]
macro_rules! story {
    ($($check:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    let db = $crate::Db::sqlite().await;
                    super::$check(&*db.store.clone(), &db).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    let Some(db) = $crate::Db::postgres().await else { return };
                    super::$check(&*db.store.clone(), &db).await;
                }
            )*
        }
    };
}
