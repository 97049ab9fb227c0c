use ash_rs::prelude::*;

// `on` defaults to `[create, update]`: a global change naming a destroy action in
// `action_is` would never run for it.
#[resource(domain = Domain)]
#[actions(defaults(read, create = [state], update = [state]), destroy(archive))]
#[changes(optimistic_lock(version, where = action_is([update, archive])))]
#[validations(present(state, on = [create], where = action_is([update])))]
#[changes(optimistic_lock(version, on = [create, update, destroy], where = action_is([read])))]
#[derive(Debug, Clone, PartialEq)]
pub struct Address {
    #[uuid_primary_key]
    pub id: Uuid,
    #[attribute(default = 1)]
    pub version: i64,
    pub state: String,
}

#[domain]
#[resources(Address(define(archive_address, action = archive)))]
pub struct Domain;

fn main() {}
