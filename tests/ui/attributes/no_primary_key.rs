use ash_rs::prelude::*;

#[resource()]
#[actions(defaults(read, create = [state]))]
#[derive(Debug, Clone, PartialEq)]
pub struct Address {
    #[attribute(default = 1)]
    pub version: i64,
    pub state: String,
}

fn main() {}
