use ash_rs::manage::Managed;
use ash_rs::prelude::*;

type LineInput = Managed<OrderLine, OrderLineCreateInput, OrderLineUpdateInput>;

#[resource(domain = Shop)]
#[actions(
    defaults(read),
    create(create, accept = [customer], argument(line: Vec<LineInput>),
        change = manage_relationship(line, type = direct_control)),
)]
#[relationships(has_one(line, OrderLine, destination_attribute = order_id))]
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    #[uuid_primary_key]
    pub id: Uuid,
    pub customer: String,
}

#[resource(domain = Shop)]
#[actions(
    defaults(read, destroy),
    create(create, accept = [product]),
    update(update, accept = [product]),
)]
#[relationships(belongs_to(order, Order))]
#[derive(Debug, Clone, PartialEq)]
pub struct OrderLine {
    #[uuid_primary_key]
    pub id: Uuid,
    pub product: String,
}

// The resources are listed in a domain and used: the mistake is the only error.
#[domain]
#[resources(Order(define(orders, action = read)), OrderLine)]
pub struct Shop;

fn main() {
    let _ = Shop::new().orders();
    let _ = std::marker::PhantomData::<LineInput>;
}
