use ash_rs::prelude::*;

#[resource()]
#[actions(defaults(read, create = [new]))]
#[derive(Debug, Clone, PartialEq)]
pub struct Address {
    #[uuid_primary_key]
    pub id: Uuid,
    pub new: bool,
}

fn main() {}
