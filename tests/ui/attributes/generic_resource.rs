use ash_rs::prelude::*;

#[resource]
#[actions(defaults(read))]
#[derive(Debug, Clone, PartialEq)]
pub struct Address<T> {
    #[uuid_primary_key]
    pub id: Uuid,
    pub value: T,
}

fn main() {}
