use ash_rs::prelude::*;

#[resource()]
#[actions(defaults(read, create = [state]))]
#[derive(Debug, Clone, PartialEq)]
pub struct Address {
    #[uuid_primary_key]
    pub id: Uuid,
    #[attribute(default = 1)]
    pub version: i64,
    pub state: String,
}

fn query() -> Query<Address> {
    Query::new().filter(Address::COUNTY.eq("Pinellas"))
}

fn main() {}
