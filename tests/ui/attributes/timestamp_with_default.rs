use ash_rs::prelude::*;

#[resource()]
#[actions(defaults(read))]
#[derive(Debug, Clone, PartialEq)]
pub struct Address {
    #[uuid_primary_key]
    pub id: Uuid,
    #[update_timestamp]
    #[attribute(default = std::time::SystemTime::UNIX_EPOCH)]
    pub updated_at: std::time::SystemTime,
}

fn main() {}
