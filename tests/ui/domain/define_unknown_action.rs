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
    define(create_address, action = craete, args = [state]),
))]
pub struct Domain;

fn main() {}
