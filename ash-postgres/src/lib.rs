//! The PostgreSQL data layer of `ash-rs`: the counterpart of `AshPostgres`.
//!
//! ```ignore
//! use ash_rs::prelude::*;
//! use ash_rs::postgres::{Pool, Postgres};
//!
//! #[resource(domain = Domain, data_layer = Postgres(table = "addresses"))]
//! # /* ... actions and attributes as with ETS ... */
//! pub struct Address { /* ... */ }
//!
//! let pool = Pool::builder("postgres://postgres@127.0.0.1:5432/app")
//!     .create_missing_tables(true)
//!     .build()?;
//! let domain = Domain::connect(&pool)?;
//! ```
//!
//! Every action is **one statement**: create is an `INSERT ... RETURNING`, update an
//! `UPDATE ... SET ..., "version" = "version" + $n WHERE "id" = $1 AND "version" = $2
//! RETURNING ...`, destroy a `DELETE ... RETURNING`, get a `SELECT ... WHERE "id" = $1`,
//! and a read renders the query's filter, sort, limit and offset as SQL. The optimistic
//! lock is part of the `WHERE` clause, so N writers holding the same version give exactly
//! one success and N-1 `StaleRecord`s, across threads, pools and processes.
//!
//! Values are bound parameters and identifiers are quoted: no user data is ever part of
//! the SQL text. Statements are prepared once per pooled connection.
//!
//! - **Tables**: a resource's table is `table = "..."` from its data-layer options, or the
//!   snake_case of its name; `schema = "..."` there or [`PoolBuilder::schema`] qualifies
//!   it. [`create_table_sql`] prints the DDL; `Domain::connect` checks every table against
//!   its resource and fails with a [`SchemaError`] (inside a `Framework` error) when one
//!   does not fit, or creates missing ones with [`PoolBuilder::create_missing_tables`].
//! - **Transactions**: [`DataLayer::transaction`](ash_core::data_layer::DataLayer::transaction)
//!   (used by the action pipeline around hooks) and [`Pool::transaction`] run a closure
//!   in `BEGIN`/`COMMIT` on one connection; every table of the pool uses that connection
//!   on this thread meanwhile; an error or a panic rolls back.
//! - **Failures**: a lost connection, a restarted server or a statement timeout is a
//!   `Framework` error, never a panic; a broken connection is dropped from the pool and
//!   the next action gets a fresh one.
//! - **Values**: see [`column_type`]. A NUL character in a string cannot be stored in
//!   PostgreSQL text and is an `InvalidAttribute` error.
//!
//! Differences from the ETS layer, by nature of SQL: atomic adds are range checked at the
//! column type (`integer`, `bigint`, `numeric(20, 0)`), so a `u8` or `i16` counter that
//! passes its Rust range fails when read back instead of with `Overflow`; lists are
//! `jsonb`, whose ordering (`<`, `>`) differs from `Vec`'s; a list of `SystemTime` does
//! not round-trip (timestamps inside JSON come back as integers).
#![warn(missing_docs)]
// The data-layer contract returns `ErrorKind` by value; internal helpers do the same.
#![allow(clippy::result_large_err)]

mod error;
mod pool;
mod sql;
mod table;
mod value;

use ash_core::data_layer::DataLayerKind;
use ash_core::resource::Resource;

pub use error::{ColumnProblem, SchemaError};
pub use pool::{Connection, Pool, PoolBuilder};
pub use postgres;
pub use sql::quote_ident;
pub use table::{create_table_sql, PgTable};
pub use value::column_type;

/// The PostgreSQL data layer, as named in
/// `#[resource(data_layer = Postgres(table = "addresses", schema = "app"))]`. Both options
/// are optional.
#[derive(Debug, Clone, Copy, Default)]
pub struct Postgres;

impl DataLayerKind for Postgres {
    type Layer<R: Resource> = PgTable<R>;
}
