use ash_rs::prelude::*;

#[resource()]
#[actions(defaults(read, create = [state]), update(update, accept = [state], change = optimistic_lock(version)))]
#[derive(Debug, Clone, PartialEq)]
pub struct Address {
    #[uuid_primary_key]
    pub id: Uuid,
    #[attribute(default = Some(1))]
    pub version: Option<i64>,
    pub state: String,
}

fn main() {}
