//! The conformance story for Tocsin's storage backends.
//!
//! Nothing lives in this library: the story is `tests/story.rs`, a set of backend-agnostic
//! checks, each run against a fresh SQLite file and a fresh PostgreSQL database.
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
