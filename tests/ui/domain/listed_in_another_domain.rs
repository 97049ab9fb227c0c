use ash_rs::prelude::*;

// A resource that names its domain belongs to it: no other domain may list it. (A
// resource that names no domain may be listed in any domain, in any crate.)
#[resource(domain = Other)]
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
pub struct Other;

#[domain]
#[resources(Address)]
pub struct Domain;

fn main() {}
