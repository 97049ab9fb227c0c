use ash_rs::prelude::*;

#[resource(domain = Domain)]
#[actions(defaults(read, create = [code, name]), update(update, accept = [code, name]))]
#[derive(Debug, Clone, PartialEq)]
pub struct Country {
    #[primary_key]
    pub code: String,
    pub name: String,
}

#[domain]
#[resources(Country(
    define(create_country, action = create, args = [code, name]),
    define(update_country, action = update),
))]
pub struct Domain;

fn main() {
    let d = Domain::new();
    let _ = d.create_country("FR", "France");
}
