//! The PostgreSQL data layer of `ash-rs`: the counterpart of `AshPostgres`, async, on
//! [`tokio_postgres`].
//!
//! ```ignore
//! use ash_rs::prelude::*;
//! use ash_rs::postgres::{Pool, Postgres};
//!
//! #[resource(domain = Domain, data_layer = Postgres(table = "addresses"))]
//! # /* ... actions and attributes as with ETS ... */
//! pub struct Address { /* ... */ }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Error> {
//!     let pool = Pool::builder("postgres://postgres@127.0.0.1:5432/app")
//!         .create_missing_tables(true)
//!         .build()
//!         .await?;
//!     let domain = Domain::connect(&pool).await?;
//!     let address = domain.create_address("FL", "Pinellas").await?;
//!
//!     // Several actions in one transaction:
//!     let tx = domain.begin().await?;
//!     let d = domain.with_transaction(&tx);
//!     d.update_address(&address, AddressUpdateInput::new().county("Pasco")).await?;
//!     d.create_address("NC", "Guilford").await?;
//!     tx.commit().await?;
//!     Ok(())
//! }
//! ```
//!
//! Every action is **one statement** (a refused write adds a read of the stored row, to
//! say why): create is an `INSERT ... RETURNING`, update an
//! `UPDATE ... SET ..., "version" = "version" + $n WHERE "id" = $1 AND "version" = $2
//! RETURNING ...`, destroy a `DELETE ... RETURNING`, get a `SELECT ... WHERE "id" = $1`,
//! and a read renders the query's filter, sort, limit and offset as SQL. The optimistic
//! lock is part of the `WHERE` clause, so N writers holding the same version give exactly
//! one success and N-1 `StaleRecord`s, across tasks, pools and processes.
//!
//! Values are bound parameters and identifiers are quoted: no user data is ever part of
//! the SQL text. Statements are prepared once per pooled connection (up to 512 per
//! connection, then the cache starts over).
//!
//! - **Pool**: [`Pool::builder`]`(url)...build().await` (or [`Pool::connect`]) opens one
//!   connection, so an unreachable server is reported there. It must be called inside a
//!   tokio runtime, whose [`Handle`](tokio::runtime::Handle) the pool keeps: its
//!   connections run there, so the pool also works from other threads (for example
//!   `ash_rs::block_on(domain.get_address(id))` on a plain thread while that runtime
//!   runs). Without a runtime, `build` fails with a `Framework` error saying so; once the
//!   runtime has shut down, every call does.
//!   The pool is [`deadpool`]'s, with a manager of our own rather than `deadpool-postgres`:
//!   it spawns connections on the captured runtime, bounds the statement cache and runs
//!   the setup SQL, and refuses connections that lost their server.
//! - **Tables**: a resource's table is `table = "..."` from its data-layer options, or the
//!   snake_case of its name; `schema = "..."` there or [`PoolBuilder::schema`] qualifies
//!   it. [`create_table_sql`] prints the DDL; `Domain::connect(&pool).await` checks every
//!   table against its resource and fails with a [`SchemaError`] (inside a `Framework`
//!   error) when one does not fit, or creates missing ones with
//!   [`PoolBuilder::create_missing_tables`].
//! - **Transactions** are values, never thread-local state: `domain.begin().await`,
//!   [`Pool::begin`] or [`DataLayer::begin`](ash_core::data_layer::DataLayer::begin) (which
//!   the action pipeline uses around an action with hooks) check out a connection and run
//!   `BEGIN`; every action whose context holds the transaction runs on that connection; a
//!   nested `begin` is a savepoint. An error in a hook rolls back the write and every
//!   action run with the hook's context. A transaction dropped unfinished (a panic, a
//!   cancelled future) closes its connection, so the server rolls it back and the pool
//!   never hands out a connection inside a transaction. See [`PgTransaction`].
//! - **Failures**: a lost connection, a restarted server or a statement timeout is a
//!   `Framework` error, never a panic; a broken connection is dropped from the pool and
//!   the next action gets a fresh one (after a loss, idle connections are pinged before
//!   their next use). A taken primary key is `AlreadyExists`.
//! - **Secrets**: no error message, `Debug` output or log line shows the connection
//!   string's password, in any of its forms (see [`redact_connection_string`]).
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

mod aggregate;
mod error;
mod foreign_keys;
pub mod migrations;
mod pool;
mod secret;
mod sql;
mod table;
mod transaction;
mod value;

use ash_core::data_layer::DataLayerKind;
use ash_core::resource::Resource;

pub use error::{ColumnProblem, SchemaError};
pub use foreign_keys::create_foreign_key_sql;
pub use pool::{Connection, Pool, PoolBuilder};
pub use secret::redact_connection_string;
pub use sql::quote_ident;
pub use table::{create_index_sql, create_table_sql, PgTable};
pub use tokio_postgres;
pub use transaction::PgTransaction;
pub use value::column_type;

/// The PostgreSQL data layer, as named in
/// `#[resource(data_layer = Postgres(table = "addresses", schema = "app"))]`. Both options
/// are optional.
#[derive(Debug, Clone, Copy, Default)]
pub struct Postgres;

impl DataLayerKind for Postgres {
    type Layer<R: Resource> = PgTable<R>;
}
