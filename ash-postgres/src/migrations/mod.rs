//! Migrations: PostgreSQL schema changes generated from the resources, checked in CI and
//! applied, like AshPostgres's `mix ash.codegen` and `mix ash.migrate`.
//!
//! Your resources are compiled into your crate, so the command is a small binary (or
//! example) of yours:
//!
//! ```ignore
//! #[tokio::main]
//! async fn main() -> std::process::ExitCode {
//!     ash_rs::postgres::migrations::cli(&[ash_rs::postgres::migrations::domain::<Domain>()]).await
//! }
//! ```
//!
//! ```text
//! cargo run --bin migrations -- generate --dir priv     # new migration + snapshots
//! cargo run --bin migrations -- check --dir priv        # exit 1 when they are behind
//! DATABASE_URL=postgres://... cargo run --bin migrations -- migrate --dir priv
//! DATABASE_URL=postgres://... cargo run --bin migrations -- rollback --dir priv
//! ```
//!
//! - **Snapshots**: `DIR/snapshots/<table>.json` (`<schema>.<table>.json` with a
//!   `schema` option), one per table: a [`Table`] (columns with type, nullability and
//!   default, primary key, identities as unique indexes, foreign keys) as pretty JSON,
//!   lists in declaration order. Commit them: they are what the next `generate` compares
//!   the resources with, and their diffs review a schema change like code.
//! - **Migrations**: `DIR/migrations/NNNN_<name>.up.sql` and `.down.sql`, plain SQL,
//!   numbered from `0001`. `generate` writes one pair and the snapshots when something
//!   changed, and nothing at all when nothing did. The name is `--name`, or made from the
//!   first changes (`0002_add_items_note`). Edit a migration freely before it is applied.
//! - **Refusals** instead of guesses: a table or column that disappears is never a silent
//!   drop. When another one appears, it looks like a rename and `generate` says so: pass
//!   `--rename-table old=new` or `--rename-column table.old=new`; `--allow-drop` drops
//!   instead (with the data). A column that becomes required (or is added required) on
//!   a table that may have rows is filled from the attribute's constant default
//!   (`UPDATE ... SET col = <default> WHERE col IS NULL`), else `--fill table.col=<SQL>`
//!   says how, else `generate` refuses. Every refusal is listed at once.
//! - **Applying**: `migrate` runs the pending migrations by number, each in a transaction
//!   together with its row in [`MIGRATIONS_TABLE`]; all of it under
//!   `pg_advisory_lock`, so two processes migrating at once apply each migration once.
//!   `rollback` runs the last applied one's `.down.sql`. `--schema NAME` applies them in
//!   that schema (created if missing, and the `search_path` of the run). The database is
//!   `DATABASE_URL`; no message shows its password.
//!
//! Like ash_postgres, the generator never reads the database's schema: the first
//! snapshot assumes an empty one. Tables made earlier by
//! [`PoolBuilder::create_missing_tables`](crate::PoolBuilder::create_missing_tables) are
//! what the first migration creates (the same columns, defaults and indexes), so adopt
//! them by recording it as applied (`INSERT INTO ash_schema_migrations (version, name)
//! VALUES (1, '...')`).

mod apply;
mod cli;
mod diff;
mod files;
mod model;

pub use apply::{Target, MIGRATIONS_TABLE};
pub use cli::{cli, run, Outcome};
pub use diff::{differences, plan, Fill, Options, Plan, Rename, SchemaChange};
pub use files::{read_migrations, read_snapshots, snapshot_json, MigrationFile};
pub use model::{domain, Column, DomainTables, ForeignKey, Table, UniqueIndex};

pub(crate) use model::constant_defaults;

use std::fmt::Write as _;
use std::path::Path;

/// Why a migration command failed. The messages are meant for the terminal; none shows
/// a password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MigrationError {
    /// The command line is wrong.
    #[error("{0}")]
    Usage(String),
    /// `migrate` and `rollback` need `DATABASE_URL`.
    #[error("DATABASE_URL is not set: it names the database to migrate (postgres://user@host/db)")]
    MissingDatabaseUrl,
    /// A file could not be read or written.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: String,
        /// What failed.
        message: String,
    },
    /// A snapshot file does not parse or does not fit its name.
    #[error("snapshot {path}: {message}")]
    Snapshot {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A migration file is misnamed or lacks its down migration.
    #[error("migration {path}: {message}")]
    MigrationFiles {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A resource's data-layer options are invalid.
    #[error("{0}")]
    DataLayerOptions(String),
    /// Two resources store different things in one table.
    #[error("resources {first} and {second} both use table `{table}` but need different columns, keys or indexes")]
    TableConflict {
        /// The table.
        table: String,
        /// One resource.
        first: String,
        /// The other.
        second: String,
    },
    /// `generate` will not guess: the reasons, each with the option that resolves it.
    #[error("nothing was generated:\n{}", bullets(problems))]
    Refused {
        /// One line per reason.
        problems: Vec<String>,
    },
    /// The database refused or could not be reached.
    #[error("{0}")]
    Database(String),
    /// A migration failed; its transaction was rolled back.
    #[error("migration {migration} failed and was rolled back: {message}")]
    Apply {
        /// `0002_add_items_note`.
        migration: String,
        /// The server's message.
        message: String,
    },
    /// `rollback`: the last applied migration has no file any more.
    #[error(
        "migration {version} is applied but its files are missing, so it cannot be rolled back"
    )]
    MissingMigration {
        /// Its number.
        version: i64,
    },
}

fn bullets(lines: &[String]) -> String {
    lines
        .iter()
        .map(|l| format!("  * {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl From<ash_core::error::Error> for MigrationError {
    fn from(e: ash_core::error::Error) -> Self {
        // Pool errors are redacted where they are made.
        MigrationError::Database(
            e.to_string()
                .trim_start_matches("Framework Error\n\n* ")
                .to_owned(),
        )
    }
}

/// Every domain's tables, one per table name: resources sharing a table must agree on it.
pub fn collect(domains: &[DomainTables]) -> Result<Vec<Table>, MigrationError> {
    let mut tables: Vec<(&str, Table)> = Vec::new();
    for domain in domains {
        let entries = domain
            .tables()
            .map_err(|e| MigrationError::DataLayerOptions(e.to_string()))?;
        for (resource, table) in entries {
            match tables
                .iter()
                .find(|(_, t)| t.display_name() == table.display_name())
            {
                Some((_, t)) if t == table => {}
                Some((first, _)) => {
                    return Err(MigrationError::TableConflict {
                        table: table.display_name(),
                        first: (*first).to_owned(),
                        second: (*resource).to_owned(),
                    })
                }
                None => tables.push((resource, table.clone())),
            }
        }
    }
    Ok(tables.into_iter().map(|(_, t)| t).collect())
}

/// What `generate` wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    /// The migration's files.
    pub migration: MigrationFile,
    /// What it changes.
    pub changes: Vec<SchemaChange>,
}

/// `generate`: compares `tables` with the snapshots in `DIR/snapshots`; when they differ,
/// writes the next `DIR/migrations/NNNN_<name>.{up,down}.sql` and the new snapshots.
/// Writes nothing and gives `None` when nothing changed. `name` defaults to one made
/// from the changes.
pub fn generate(
    dir: &Path,
    tables: &[Table],
    options: &Options,
    name: Option<&str>,
) -> Result<Option<Generated>, MigrationError> {
    let old = read_snapshots(dir)?;
    let plan = plan(&old, tables, options)?;
    if plan.is_empty() {
        return Ok(None);
    }
    let existing = read_migrations(dir)?;
    let version = existing.last().map_or(1, |m| m.version + 1);
    let name = match name {
        Some(name) => {
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(MigrationError::Usage(format!(
                    "--name `{name}`: use letters, digits, `_` and `-`"
                )));
            }
            name.to_owned()
        }
        None => derived_name(&plan.changes),
    };
    let stem = format!("{version:04}_{name}");
    let migrations = files::migrations_dir(dir);
    std::fs::create_dir_all(&migrations).map_err(|e| files::io(&migrations, e))?;
    let up = migrations.join(format!("{stem}.up.sql"));
    let down = migrations.join(format!("{stem}.down.sql"));
    files::write(&up, &sql_file(&stem, "up", &plan.changes, &plan.up))?;
    files::write(&down, &sql_file(&stem, "down", &plan.changes, &plan.down))?;
    files::write_snapshots(dir, tables)?;
    Ok(Some(Generated {
        migration: MigrationFile {
            version,
            name,
            up,
            down,
        },
        changes: plan.changes,
    }))
}

/// `check`: the changes between the snapshots in `DIR/snapshots` and `tables`; empty when
/// they match (so `generate` would write nothing).
pub fn check(dir: &Path, tables: &[Table]) -> Result<Vec<SchemaChange>, MigrationError> {
    Ok(differences(&read_snapshots(dir)?, tables))
}

fn derived_name(changes: &[SchemaChange]) -> String {
    let mut name = changes
        .first()
        .map_or_else(|| "migration".to_owned(), SchemaChange::slug);
    if changes.len() > 1 {
        name.push_str("_and_more");
    }
    let mut end = name.len().min(60);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    name.truncate(end);
    name
}

fn sql_file(
    stem: &str,
    direction: &str,
    changes: &[SchemaChange],
    statements: &[String],
) -> String {
    let mut out = format!(
        "-- {stem} ({direction}): generated by ash-rs from the resources; review before applying.\n"
    );
    if direction == "up" {
        out.push_str("--\n");
        for change in changes {
            let _ = writeln!(out, "-- * {change}");
        }
    }
    out.push('\n');
    for statement in statements {
        out.push_str(statement);
        out.push_str(";\n");
    }
    out
}

#[cfg(test)]
mod tests;
