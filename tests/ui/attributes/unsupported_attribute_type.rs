use ash_rs::prelude::*;

#[derive(Debug, Clone, PartialEq)]
pub struct Color(u8, u8, u8);

#[resource(domain = Domain)]
#[actions(defaults(read))]
#[derive(Debug, Clone, PartialEq)]
pub struct Address {
    #[uuid_primary_key]
    pub id: Uuid,
    pub color: Color,
}

// The resource is listed in a domain and used: its mistake is the only error.
#[domain]
#[resources(Address(define(list_addresses, action = read)))]
pub struct Domain;

fn main() {
    let _ = Domain::new().list_addresses();
}
