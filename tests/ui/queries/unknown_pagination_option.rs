use ash_rs::prelude::*;

#[resource()]
#[actions(defaults(create = [state]), read(read, pagination(offset, default_limit = 10, max = 20)))]
#[derive(Debug, Clone, PartialEq)]
pub struct Address {
    #[uuid_primary_key]
    pub id: Uuid,
    #[attribute(default = 1)]
    pub version: i64,
    pub state: String,
}

fn main() {}
