//! Migrations for the seed's domain: the command `mix ash.codegen` and `mix ash.migrate`
//! are in AshPostgres, as a program of your own crate (your resources are compiled into
//! it). This one is the whole program:
//!
//! ```text
//! cargo run --features postgres --example migrations -- generate --dir priv
//! cargo run --features postgres --example migrations -- check --dir priv
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
//!     cargo run --features postgres --example migrations -- migrate --dir priv
//! DATABASE_URL=... cargo run --features postgres --example migrations -- rollback --dir priv
//! ```
//!
//! `generate` writes `priv/migrations/0001_create_addresses_and_more.{up,down}.sql` and
//! `priv/snapshots/{addresses,users}.json` the first time, and nothing after that until a
//! resource changes. Add an attribute to `User`, run `generate` again: the next migration
//! is one `ALTER TABLE "users" ADD COLUMN ...`. `check` exits with status 1 while the
//! resources and the snapshots differ (for CI); `migrate` applies what is pending, once,
//! even when two deploys run it at the same time. `--schema NAME` migrates that schema.
//!
//! The domain: the seed's `Address` and a `User` with an identity (a unique index,
//! `users_unique_email_index`) and a relationship: `belongs_to(address, Address, on_delete
//! = nilify)` is the column `address_id` and the foreign key `users_address_id_fkey`
//! (`REFERENCES "addresses" ("id") ON DELETE SET NULL`), in the snapshot and in the
//! migration, after both tables are created.

use ash_rs::postgres::migrations;
use ash_rs::postgres::Postgres;
use ash_rs::prelude::*;

#[resource(domain = Domain, data_layer = Postgres(table = "addresses"))]
#[actions(
    defaults(read, create = [state, county]),
    update(update, accept = [state, county], change = optimistic_lock(version)),
)]
#[derive(Debug, Clone, PartialEq)]
pub struct Address {
    #[uuid_primary_key]
    pub id: Uuid,
    #[attribute(default = 1)]
    pub version: i64,
    pub state: String,
    pub county: String,
}

#[resource(domain = Domain, data_layer = Postgres(table = "users"))]
#[actions(defaults(read, create = [email, name, address_id]))]
#[identities(identity(unique_email, [email]))]
#[relationships(belongs_to(address, Address, on_delete = nilify))]
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    #[uuid_primary_key]
    pub id: Uuid,
    pub email: String,
    pub name: Option<String>,
}

#[domain]
#[resources(
    Address(
        define(get_address, action = read, get_by = [id]),
        define(create_address, action = create, args = [state, county]),
        define(update_address, action = update),
    ),
    User(define(create_user, action = create, args = [email])),
)]
pub struct Domain;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    migrations::cli(&[migrations::domain::<Domain>()]).await
}
