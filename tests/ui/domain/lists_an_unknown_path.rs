use ash_rs::prelude::*;

// A typo in the listed path: rustc's two "did you mean" errors, nothing more.
#[resource]
#[actions(defaults(read))]
#[derive(Debug, Clone, PartialEq)]
pub struct Address {
    #[uuid_primary_key]
    pub id: Uuid,
}

#[domain]
#[resources(Adress(define(list_addresses, action = read)))]
pub struct Domain;

fn main() {
    let _ = Domain::new();
}
