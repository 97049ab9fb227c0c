use ash_rs::prelude::*;

#[resource(domain = Domain)]
#[actions(
    defaults(read, create = [state]),
    update(update, accept = [state], change = optimistic_lock(version)),
)]
#[derive(Debug, Clone, PartialEq)]
pub struct Address {
    #[uuid_primary_key]
    pub id: Uuid,
    #[attribute(default = 1)]
    pub version: i64,
    pub state: String,
}

#[domain]
#[resources(Address(
    define(update_address, action = update, args = [version]),
))]
pub struct Domain;

// Calls to the method compile quietly: the define's mistake is the only error.
fn call(domain: &Domain, address: &Address) {
    let _ = domain.update_address(address, 2, AddressUpdateInput::new());
}

fn main() {}
