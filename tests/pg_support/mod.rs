//! PostgreSQL for the tests: the server from `ASH_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`), one fresh schema per test, dropped at the
//! end, so tests run in parallel. Without a server the tests print one line and pass,
//! unless `CI` is set: then they fail.
#![allow(dead_code)]

use ash_rs::postgres::postgres::{Client, NoTls};
use ash_rs::postgres::{Pool, PoolBuilder};
use std::sync::Once;
use std::time::Duration;

/// The server the tests use when `ASH_POSTGRES_URL` is not set.
pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The server's URL.
pub fn url() -> String {
    std::env::var("ASH_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

/// A direct connection, outside any pool (for checks and for disturbing the tests'
/// connections).
pub fn admin() -> Result<Client, ash_rs::postgres::postgres::Error> {
    let mut config: ash_rs::postgres::postgres::Config = url().parse()?;
    config.connect_timeout(Duration::from_secs(3));
    config.connect(NoTls)
}

static SKIP_NOTICE: Once = Once::new();

/// A schema of its own for one test; dropped when this is dropped.
pub struct TestDb {
    /// A pool whose tables live in the schema (created on connect).
    pub pool: Pool,
    /// The schema's name.
    pub schema: String,
}

impl TestDb {
    /// A fresh schema and a pool on it, or `None` (after one notice) without a server.
    pub fn new() -> Option<TestDb> {
        TestDb::with(|b| b)
    }

    /// [`TestDb::new`] with extra pool settings.
    pub fn with(configure: impl FnOnce(PoolBuilder) -> PoolBuilder) -> Option<TestDb> {
        let mut admin = match admin() {
            Ok(client) => client,
            Err(e) => {
                let url = url();
                if std::env::var_os("CI").is_some() {
                    panic!("no PostgreSQL server at {url} and CI is set: {e}");
                }
                SKIP_NOTICE.call_once(|| {
                    eprintln!("skipping PostgreSQL tests: no server at {url} ({e})");
                });
                return None;
            }
        };
        let schema = format!("ash_test_{}", uuid::Uuid::new_v4().simple());
        admin
            .batch_execute(&format!("CREATE SCHEMA \"{schema}\""))
            .expect("create the test schema");
        let pool = configure(
            Pool::builder(&url())
                .schema(schema.clone())
                .create_missing_tables(true),
        )
        .build()
        .expect("a pool on the test server");
        Some(TestDb { pool, schema })
    }

    /// Another pool on the same schema.
    pub fn another_pool(&self, configure: impl FnOnce(PoolBuilder) -> PoolBuilder) -> Pool {
        configure(Pool::builder(&url()).schema(self.schema.clone()))
            .build()
            .expect("a second pool")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Ok(mut admin) = admin() {
            let _ = admin.batch_execute(&format!(
                "DROP SCHEMA IF EXISTS \"{}\" CASCADE",
                self.schema
            ));
        }
    }
}
