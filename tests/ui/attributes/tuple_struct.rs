use ash_rs::prelude::*;

#[resource]
#[actions(defaults(read))]
pub struct Address(Uuid, String);

fn main() {}
