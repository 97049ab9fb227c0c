use ash_rs::prelude::*;

// An entry inside an action runs for that action only.
#[resource(domain = Domain)]
#[actions(
    defaults(read, create = [state]),
    update(update, accept = [state], change = optimistic_lock(version, where = action_is([publish]))),
    update(publish, accept = [state]),
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
#[resources(Address(define(update_address, action = update)))]
pub struct Domain;

fn call(domain: &Domain, address: &Address) {
    let _ = domain.update_address(address, AddressUpdateInput::new());
}

fn main() {}
