use ash_rs::prelude::*;

#[resource(domain = Domain)]
#[actions(defaults(read))]
#[derive(Debug, Clone, PartialEq)]
pub struct Other {
    #[uuid_primary_key]
    pub id: Uuid,
}

#[resource(domain = Domain)]
#[actions(defaults(create = [state]), read(read, filter = Other::ID.is_nil()))]
#[derive(Debug, Clone, PartialEq)]
pub struct Address {
    #[uuid_primary_key]
    pub id: Uuid,
    #[attribute(default = 1)]
    pub version: i64,
    pub state: String,
}

// The resources are listed in a domain and used: the mistake is the only error.
#[domain]
#[resources(Other, Address(define(list_addresses, action = read)))]
pub struct Domain;

fn main() {
    let _ = Domain::new().list_addresses();
}
