use ash_rs::prelude::*;

#[resource(domain = Domain)]
#[actions(
    defaults(read, create = [state]),
    update(update, accept = [state], change = optimistic_lock(version)),
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
#[resources(Address(
    define(create_address, action = create, args = [state]),
))]
pub struct Domain;

// The call as a user writes it, awaited: one error, at the argument. (The method returns
// a named future type; an opaque `impl Future` capturing the `impl Into` parameter had the
// error reported again at the call and at `.await`.)
async fn call(domain: &Domain) {
    let _ = domain.create_address(42).await;
}

fn main() {}
