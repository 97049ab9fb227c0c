use ash_rs::prelude::*;

// `a_b` and `a__b` are both `AB` in `AddressField` (and `Address::A_B` is not `A__B`, but
// the variants clash); action inputs clash the same way.
#[resource(domain = Domain)]
#[actions(defaults(read), update(set_a, accept = [a_b]), update(set__a, accept = [a__b]))]
#[derive(Debug, Clone, PartialEq)]
pub struct Address {
    #[uuid_primary_key]
    pub id: Uuid,
    pub a_b: i64,
    pub a__b: i64,
}

#[domain]
#[resources(Address(define(list_addresses, action = read)))]
pub struct Domain;

fn main() {
    let _ = Domain::new().list_addresses();
}
