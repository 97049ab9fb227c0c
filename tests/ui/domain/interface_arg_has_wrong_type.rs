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
    define(create_address, action = create, args = [state]),
))]
pub struct Domain;

// The call alone, not awaited (see interface_arg_has_wrong_type_awaited.rs for the call a
// user writes).
fn call(domain: &Domain) {
    let _ = domain.create_address(42);
}

fn main() {}
