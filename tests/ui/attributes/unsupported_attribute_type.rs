use ash_rs::prelude::*;

#[derive(Debug, Clone, PartialEq)]
pub struct Color(u8, u8, u8);

#[resource()]
#[actions(defaults(read))]
#[derive(Debug, Clone, PartialEq)]
pub struct Address {
    #[uuid_primary_key]
    pub id: Uuid,
    pub color: Color,
}

fn main() {}
