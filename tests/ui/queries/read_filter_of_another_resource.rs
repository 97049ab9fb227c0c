use ash_rs::prelude::*;

#[resource]
#[actions(defaults(read))]
#[derive(Debug, Clone, PartialEq)]
pub struct Other {
    #[uuid_primary_key]
    pub id: Uuid,
}

#[resource()]
#[actions(defaults(create = [state]), read(read, filter = Other::ID.is_nil()))]
#[derive(Debug, Clone, PartialEq)]
pub struct Address {
    #[uuid_primary_key]
    pub id: Uuid,
    #[attribute(default = 1)]
    pub version: i64,
    pub state: String,
}

fn main() {}
