//! Ash's how-to "Prevent concurrent writes", section by section, in Rust.
//!
//! Run it with `cargo run --example prevent_concurrent_writes`.

use ash_rs::error::ErrorKind;
use ash_rs::prelude::*;

// ## Add Optimistic Locking
//
// 1. A `version` attribute: an integer with a default of 1, not nilable (not `Option`).
// 2. `optimistic_lock(version)` where the lock should apply:
//    - on specific actions: `change = optimistic_lock(version)` in those actions (below);
//    - on all action types:
//      `#[changes(optimistic_lock(version, on = [create, update, destroy]))]`;
//    - on many but not all actions:
//      `#[changes(optimistic_lock(version, where = action_is([update, publish])))]`.

#[resource(domain = Domain, data_layer = Ets)]
#[actions(
    defaults(read, create = [state, county]),
    update(update, accept = [state, county], change = optimistic_lock(version)),
)]
// apply to all actions:
// #[changes(optimistic_lock(version, on = [create, update, destroy]))]
// apply to a list of actions:
// #[changes(optimistic_lock(version, where = action_is([update])))]
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
    let domain = Domain::new();

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
    println!("  stored record is unchanged by the failed update: {stored:?}\n");

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
            // In a web app you would not just refetch and resubmit: you would show the
            // user the error and have them submit the form again.
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
