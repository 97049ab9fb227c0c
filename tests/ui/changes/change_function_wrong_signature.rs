use ash_rs::prelude::*;

fn shout(state: &mut String) {
    state.make_ascii_uppercase();
}

#[resource()]
#[actions(defaults(read), create(create, accept = [state], change = shout))]
#[derive(Debug, Clone, PartialEq)]
pub struct Address {
    #[uuid_primary_key]
    pub id: Uuid,
    #[attribute(default = 1)]
    pub version: i64,
    pub state: String,
}

fn main() {}
