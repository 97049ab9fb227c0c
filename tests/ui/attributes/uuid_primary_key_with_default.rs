use ash_rs::prelude::*;

#[resource()]
#[actions(defaults(read))]
#[derive(Debug, Clone, PartialEq)]
pub struct Address {
    #[uuid_primary_key]
    #[attribute(default = Uuid::nil())]
    pub id: Uuid,
}

fn main() {}
