//! Ash's how-to "Prevent concurrent writes", on PostgreSQL.
//!
//! The same resource and domain as `prevent_concurrent_writes.rs`; only the data layer
//! differs. Each update is one statement,
//! `UPDATE "addresses" SET ..., "version" = "version" + $n WHERE "id" = $1 AND "version" = $2`,
//! so the lock holds across tasks, pools and processes. The API is async: the example
//! runs on `#[tokio::main]`, and `Pool::build` must be called inside a tokio runtime.
//!
//! Run it with `cargo run --example prevent_concurrent_writes_postgres`. It uses
//! `ASH_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`), works in a
//! schema of its own and drops it at the end. Without a server it says so and exits 0.

use ash_rs::error::ErrorKind;
use ash_rs::postgres::{Pool, Postgres};
use ash_rs::prelude::*;
use std::time::Duration;

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

#[domain]
#[resources(Address(
    define(get_address, action = read, get_by = [id]),
    define(create_address, action = create, args = [state, county]),
    define(update_address, action = update),
))]
pub struct Domain;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let url = std::env::var("ASH_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let schema = format!("ash_rs_example_{}", std::process::id());
    let pool = match Pool::builder(&url)
        .schema(schema.clone())
        .create_missing_tables(true)
        .connection_timeout(Duration::from_secs(3))
        .build()
        .await
    {
        Ok(pool) => pool,
        Err(err) => {
            println!("No PostgreSQL server is reachable at {url}, so there is nothing to show.");
            println!("Start one, or set ASH_POSTGRES_URL. ({err})");
            return Ok(());
        }
    };
    println!(
        "-- the table, as `ash_rs::postgres::create_table_sql` prints it:\n{};\n",
        ash_rs::postgres::create_table_sql::<Address>(Some(&schema)).map_err(Error::from)?
    );
    let domain = Domain::connect(&pool).await?;
    let result = run(&domain).await;
    pool.get()
        .await?
        .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
        .await?;
    result
}

async fn run(domain: &Domain) -> Result<(), Error> {
    println!("## Triggering a StaleRecord error\n");
    let address = domain.create_address("FL", "Pinellas").await?;
    println!("create_address(\"FL\", \"Pinellas\")\n  => {address:?}");
    let updated = domain
        .update_address(
            &address,
            AddressUpdateInput::new().state("NC").county("Guilford"),
        )
        .await?;
    println!("update_address(address, state: \"NC\", county: \"Guilford\")\n  => {updated:?}");

    // `address` still has a version of 1, so our optimistic lock should catch it!
    let result = domain
        .update_address(&address, AddressUpdateInput::new().county("Miami-Dade"))
        .await;
    match &result {
        Err(Error::Invalid { errors }) => match errors.as_slice() {
            [ErrorKind::StaleRecord(stale)] => println!(
                "update_address(address, county: \"Miami-Dade\")\n  => Error::Invalid {{ errors: [StaleRecord {{ resource: {:?}, filter: {} }}] }}\n  message: {stale}",
                stale.resource, stale.filter
            ),
            other => println!("unexpected errors: {other:?}"),
        },
        other => println!("unexpected: {other:?}"),
    }
    let stored = domain.get_address(address.id).await?;
    println!("  stored row is unchanged by the failed update: {stored:?}\n");

    println!("## Refetching a record to get the latest version\n");
    let address = domain.create_address("FL", "Pinellas").await?;
    domain
        .update_address(
            &address,
            AddressUpdateInput::new().state("NC").county("Guilford"),
        )
        .await?;
    let address = match domain
        .update_address(&address, AddressUpdateInput::new().county("Miami-Dade"))
        .await
    {
        Err(err) if err.is_stale() => {
            // In a web app you would show the user the error and have them submit the
            // form again, rather than refetch and resubmit.
            let address = domain.get_address(address.id).await?;
            domain
                .update_address(&address, AddressUpdateInput::new().county("Miami-Dade"))
                .await?
        }
        Err(other) => return Err(other),
        Ok(address) => address,
    };
    println!("{address:#?}");
    assert_eq!(address.version, 3);
    Ok(())
}
