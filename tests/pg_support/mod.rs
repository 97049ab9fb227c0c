//! PostgreSQL for the tests: the server from `ASH_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`), one fresh schema per test, dropped at the
//! end, so tests run in parallel. Without a server the tests print one line and pass,
//! unless `CI` is set: then they fail.
//!
//! Everything here is async and needs a tokio runtime (`#[tokio::test]`); dropping a
//! [`TestDb`] works inside or outside one.
#![allow(dead_code)]

use ash_rs::postgres::tokio_postgres::{Client, Config, NoTls};
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
/// connections). Its I/O runs as a task of the current runtime.
pub async fn admin() -> Result<Client, ash_rs::postgres::tokio_postgres::Error> {
    let mut config: Config = url().parse()?;
    config.connect_timeout(Duration::from_secs(3));
    let (client, connection) = config.connect(NoTls).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

static SKIP_NOTICE: Once = Once::new();

/// A schema of its own for one test; dropped when this is dropped.
pub struct TestDb {
    /// A pool whose tables live in the schema (created on connect).
    pub pool: Pool,
    /// The schema's name.
    pub schema: String,
}

impl std::fmt::Debug for TestDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDb")
            .field("schema", &self.schema)
            .finish()
    }
}

impl TestDb {
    /// A fresh schema and a pool on it, or `None` (after one notice) without a server.
    pub async fn new() -> Option<TestDb> {
        TestDb::with(|b| b).await
    }

    /// [`TestDb::new`] with extra pool settings.
    pub async fn with(configure: impl FnOnce(PoolBuilder) -> PoolBuilder) -> Option<TestDb> {
        let admin = match admin().await {
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
            .await
            .expect("create the test schema");
        let pool = configure(
            Pool::builder(&url())
                .schema(schema.clone())
                .create_missing_tables(true),
        )
        .build()
        .await
        .expect("a pool on the test server");
        Some(TestDb { pool, schema })
    }

    /// Another pool on the same schema.
    pub async fn another_pool(&self, configure: impl FnOnce(PoolBuilder) -> PoolBuilder) -> Pool {
        configure(Pool::builder(&url()).schema(self.schema.clone()))
            .build()
            .await
            .expect("a second pool")
    }

    /// A direct connection (see [`admin`]), panicking when there is none.
    pub async fn admin(&self) -> Client {
        admin().await.expect("an admin connection")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Drop may run inside a runtime (which must not be blocked on) or outside any:
        // the cleanup gets a thread and a small runtime of its own.
        let sql = format!(
            "SET lock_timeout = '5s'; DROP SCHEMA IF EXISTS \"{}\" CASCADE",
            self.schema
        );
        let cleanup = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                if let Ok(admin) = admin().await {
                    let _ = admin.batch_execute(&sql).await;
                }
            });
        });
        let _ = cleanup.join();
    }
}
