use ash_rs::prelude::*;

#[resource]
pub enum Address {
    Home,
}

fn main() {}
