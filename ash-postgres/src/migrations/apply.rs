//! Applying migrations: `migrate` and `rollback`, under an advisory lock, each migration
//! in a transaction and recorded in `ash_schema_migrations`.

use super::files::{io, read_migrations, MigrationFile};
use super::MigrationError;
use crate::pool::{Connection, Pool};
use crate::sql::quote_ident;
use std::path::Path;

/// The table recording applied migrations (in the `--schema`, else the connection's).
pub const MIGRATIONS_TABLE: &str = "ash_schema_migrations";

/// Where `migrate` and `rollback` apply migrations.
#[derive(Debug, Clone)]
pub struct Target {
    url: String,
    schema: Option<String>,
}

impl Target {
    /// The database at `url` (`DATABASE_URL`), in the connection's schema.
    pub fn new(url: impl Into<String>) -> Self {
        Target {
            url: url.into(),
            schema: None,
        }
    }

    /// Applies migrations in `schema` (created if missing): it becomes the `search_path`,
    /// so the migrations' unqualified tables and the record of applied migrations live
    /// there.
    #[must_use]
    pub fn schema(mut self, schema: Option<String>) -> Self {
        self.schema = schema;
        self
    }

    async fn connect(&self) -> Result<Connection, MigrationError> {
        let mut builder = Pool::builder(&self.url).max_size(1);
        if let Some(schema) = &self.schema {
            builder = builder.on_connect(format!("SET search_path TO {}", quote_ident(schema)));
        }
        let pool = builder.build().await?;
        Ok(pool.get().await?)
    }

    fn table(&self) -> String {
        match &self.schema {
            Some(schema) => format!("{}.{}", quote_ident(schema), quote_ident(MIGRATIONS_TABLE)),
            None => quote_ident(MIGRATIONS_TABLE),
        }
    }

    /// Runs `work` holding the advisory lock of this target's schema, creating the
    /// schema and the record table first; unlocks whatever `work` gives.
    async fn locked<T>(
        &self,
        work: impl AsyncFnOnce(&mut Connection, &str) -> Result<T, MigrationError>,
    ) -> Result<T, MigrationError> {
        let mut conn = self.connect().await?;
        let key = self.schema.clone().unwrap_or_default();
        conn.query(
            "SELECT pg_advisory_lock(hashtext('ash_schema_migrations'), hashtext($1::text))",
            &[&key],
        )
        .await?;
        let table = self.table();
        let result = async {
            if let Some(schema) = &self.schema {
                conn.batch_execute(&format!(
                    "CREATE SCHEMA IF NOT EXISTS {}",
                    quote_ident(schema)
                ))
                .await?;
            }
            conn.batch_execute(&format!(
                "CREATE TABLE IF NOT EXISTS {table} (\
                 version bigint PRIMARY KEY, \
                 name text NOT NULL, \
                 applied_at timestamp with time zone NOT NULL DEFAULT now())"
            ))
            .await?;
            work(&mut conn, &table).await
        }
        .await;
        let unlocked = conn
            .query(
                "SELECT pg_advisory_unlock(hashtext('ash_schema_migrations'), hashtext($1::text))",
                &[&key],
            )
            .await;
        let value = result?;
        unlocked?;
        Ok(value)
    }

    /// The versions recorded as applied, ascending.
    pub async fn applied(&self) -> Result<Vec<i64>, MigrationError> {
        self.locked(async |conn, table| applied(conn, table).await)
            .await
    }

    /// Applies every migration under `DIR/migrations` not yet recorded, by number, each
    /// in its own transaction with its record; stops at the first that fails (which
    /// leaves nothing of itself). Two runs at once apply each migration once: the second
    /// waits for the first's advisory lock, then finds them recorded. Returns the
    /// migrations applied.
    pub async fn migrate(&self, dir: &Path) -> Result<Vec<MigrationFile>, MigrationError> {
        let files = read_migrations(dir)?;
        self.locked(async |conn, table| {
            let done = applied(conn, table).await?;
            let mut ran = Vec::new();
            for file in files.into_iter().filter(|f| !done.contains(&f.version)) {
                let sql = std::fs::read_to_string(&file.up).map_err(|e| io(&file.up, e))?;
                transaction(conn, &file, &sql, async |conn| {
                    conn.query(
                        &format!("INSERT INTO {table} (version, name) VALUES ($1, $2)"),
                        &[&file.version, &file.name],
                    )
                    .await
                    .map(drop)
                })
                .await?;
                ran.push(file);
            }
            Ok(ran)
        })
        .await
    }

    /// Undoes the last applied migration (its `.down.sql`, in a transaction with the
    /// removal of its record); `None` when none is applied.
    pub async fn rollback(&self, dir: &Path) -> Result<Option<MigrationFile>, MigrationError> {
        let files = read_migrations(dir)?;
        self.locked(async |conn, table| {
            let Some(last) = applied(conn, table).await?.pop() else {
                return Ok(None);
            };
            let file = files
                .into_iter()
                .find(|f| f.version == last)
                .ok_or(MigrationError::MissingMigration { version: last })?;
            let sql = std::fs::read_to_string(&file.down).map_err(|e| io(&file.down, e))?;
            transaction(conn, &file, &sql, async |conn| {
                conn.query(
                    &format!("DELETE FROM {table} WHERE version = $1"),
                    &[&file.version],
                )
                .await
                .map(drop)
            })
            .await?;
            Ok(Some(file))
        })
        .await
    }
}

async fn applied(conn: &mut Connection, table: &str) -> Result<Vec<i64>, MigrationError> {
    let rows = conn
        .query(
            &format!("SELECT version FROM {table} ORDER BY version"),
            &[],
        )
        .await?;
    let mut versions = Vec::with_capacity(rows.len());
    for row in rows {
        versions.push(
            row.try_get::<_, i64>(0)
                .map_err(|e| MigrationError::Database(e.to_string()))?,
        );
    }
    Ok(versions)
}

/// `sql` and `record` in one transaction; rolled back when either fails.
async fn transaction(
    conn: &mut Connection,
    file: &MigrationFile,
    sql: &str,
    record: impl AsyncFnOnce(&mut Connection) -> Result<(), ash_core::error::Error>,
) -> Result<(), MigrationError> {
    conn.batch_execute("BEGIN").await?;
    let result = match conn.batch_execute(sql).await {
        Ok(()) => record(conn).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(conn.batch_execute("COMMIT").await?),
        Err(e) => {
            let _ = conn.batch_execute("ROLLBACK").await;
            Err(MigrationError::Apply {
                migration: file.id(),
                message: e.to_string(),
            })
        }
    }
}
