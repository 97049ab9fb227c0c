use ash_rs::prelude::*;

#[resource(domain = Domain)]
#[actions(defaults(read, create = [price]))]
#[identities(identity(unique_price, [price]))]
#[derive(Debug, Clone, PartialEq)]
pub struct Product {
    #[uuid_primary_key]
    pub id: Uuid,
    pub price: f64,
}

#[domain]
#[resources(Product(define(products, action = read)))]
pub struct Domain;

fn main() {}
