use ash_rs::prelude::*;

#[resource()]
#[actions(defaults(read, create = [code]))]
#[derive(Debug, Clone, PartialEq)]
pub struct Address {
    #[primary_key]
    pub code: Option<String>,
    pub state: String,
}

fn main() {}
