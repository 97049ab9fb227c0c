use ash_rs::prelude::*;

#[resource()]
#[actions(defaults(read))]
#[derive(Debug, Clone, PartialEq)]
pub struct Address {
    #[uuid_primary_key]
    pub id: Uuid,
    #[create_timestamp]
    pub inserted_at: i64,
}

fn main() {}
