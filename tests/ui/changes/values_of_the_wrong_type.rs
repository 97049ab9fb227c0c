use ash_rs::prelude::*;

// A value of the wrong type is one error at the value, whatever takes it (before, some were
// reported at the attribute's type, and two such mistakes showed as one error there).
#[resource(domain = Domain)]
#[actions(
    defaults(read, create = [state]),
    update(a, accept = [state], validate = compare(version, greater_than = "x")),
    update(b, accept = [state], validate = attribute_equals(version, "y")),
    update(c, argument(note: i64, default = "z")),
    update(d, argument(note: String), change = set_attribute(version, arg(note))),
)]
#[derive(Debug, Clone, PartialEq)]
pub struct Address {
    #[uuid_primary_key]
    pub id: Uuid,
    #[attribute(default = 1)]
    pub version: i64,
    pub state: String,
}

#[domain]
#[resources(Address(define(list_addresses, action = read)))]
pub struct Domain;

fn main() {
    let _ = Domain::new().list_addresses();
}
