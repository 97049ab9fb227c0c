use ash_rs::prelude::*;

#[resource()]
#[actions(defaults(read), create(create, accept = [state], filter = Address::STATE.eq("x")))]
#[derive(Debug, Clone, PartialEq)]
pub struct Address {
    #[uuid_primary_key]
    pub id: Uuid,
    #[attribute(default = 1)]
    pub version: i64,
    pub state: String,
}

fn main() {}
