use ash_rs::prelude::*;

pub struct Address {
    pub id: Uuid,
}

#[domain]
#[resources(Address)]
pub struct Domain;

fn main() {}
