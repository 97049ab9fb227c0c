use ash_rs::prelude::*;

#[resource(domain = Shop)]
#[actions(
    defaults(read),
    update(tag, argument(tag_ids: Vec<Uuid>),
        change = manage_relationship(tag_ids, tags, type = append_and_remove)),
)]
#[relationships(many_to_many(tags, Tag, through = OrderTag))]
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    #[uuid_primary_key]
    pub id: Uuid,
}

#[resource(domain = Shop)]
#[actions(defaults(read, create = [label], update = [label]))]
#[derive(Debug, Clone, PartialEq)]
pub struct Tag {
    #[uuid_primary_key]
    pub id: Uuid,
    pub label: String,
}

#[resource(domain = Shop)]
#[actions(defaults(read, destroy))]
#[relationships(belongs_to(order, Order, allow_nil = false), belongs_to(tag, Tag, allow_nil = false))]
#[derive(Debug, Clone, PartialEq)]
pub struct OrderTag {
    #[uuid_primary_key]
    pub id: Uuid,
}

// The resources are listed in a domain and used: the join resource lacks a create action: one error, at the call.
#[domain]
#[resources(Order(define(orders, action = read)), Tag, OrderTag)]
pub struct Shop;

fn main() {
    let _ = Shop::new().orders();
}
