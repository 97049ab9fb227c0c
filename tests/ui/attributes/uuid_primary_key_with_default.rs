use ash_rs::prelude::*;

#[resource(domain = Domain)]
#[actions(defaults(read))]
#[derive(Debug, Clone, PartialEq)]
pub struct Address {
    #[uuid_primary_key]
    #[attribute(default = Uuid::nil())]
    pub id: Uuid,
}

// The resource is listed in a domain and used: its mistake is the only error.
#[domain]
#[resources(Address(define(list_addresses, action = read)))]
pub struct Domain;

fn main() {
    let _ = Domain::new().list_addresses();
}
