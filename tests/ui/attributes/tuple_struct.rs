use ash_rs::prelude::*;

#[resource(domain = Domain)]
#[actions(defaults(read))]
pub struct Address(Uuid, String);

// Listed in a domain: the domain reports nothing more.
#[domain]
#[resources(Address)]
pub struct Domain;

fn main() {
    let _ = Domain::new();
}
