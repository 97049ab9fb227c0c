use ash_rs::prelude::*;

#[resource()]
#[actions(defaults(read))]
#[derive(Debug, Clone, PartialEq)]
pub struct Address {
    #[uuid_primary_key]
    pub id: Uuid,
    #[primary_key]
    pub code: String,
}

fn main() {}
