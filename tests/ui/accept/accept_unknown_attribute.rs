use ash_rs::prelude::*;

#[resource(domain = Domain)]
#[actions(defaults(read, create = [state, countyy]))]
#[derive(Debug, Clone, PartialEq)]
pub struct Address {
    #[uuid_primary_key]
    pub id: Uuid,
    #[attribute(default = 1)]
    pub version: i64,
    pub state: String,
}

// The resource is listed in a domain and used: its mistake is the only error.
#[domain]
#[resources(Address(define(list_addresses, action = read)))]
pub struct Domain;

fn main() {
    let _ = Domain::new().list_addresses();
}
