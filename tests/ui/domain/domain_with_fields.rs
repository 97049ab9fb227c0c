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
#[resources(Address)]
pub struct Domain {
    pub name: String,
}

// Calls to the method compile quietly: the define's mistake is the only error.
fn call() {
    let _ = Domain::new();
}

fn main() {}
