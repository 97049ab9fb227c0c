use ash_rs::prelude::*;

#[resource(domain = Domain)]
pub enum Address {
    Home,
}

// Listed in a domain: the domain reports nothing more.
#[domain]
#[resources(Address)]
pub struct Domain;

fn main() {
    let _ = Domain::new();
    let _ = Address::Home;
}
