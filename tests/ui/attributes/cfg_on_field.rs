use ash_rs::prelude::*;

#[resource(domain = Domain)]
#[actions(defaults(read, create = [state]))]
#[derive(Debug, Clone, PartialEq)]
pub struct Address {
    #[uuid_primary_key]
    pub id: Uuid,
    #[cfg(feature = "county")]
    pub county: String,
    pub state: String,
}

#[domain]
#[resources(Address(define(list_addresses, action = read)))]
pub struct Domain;

fn main() {
    let _ = Domain::new().list_addresses();
}
