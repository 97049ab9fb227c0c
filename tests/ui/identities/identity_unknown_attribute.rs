use ash_rs::prelude::*;

#[resource(domain = Domain)]
#[actions(defaults(read, create = [email]))]
#[identities(identity(unique_email, [emial]))]
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    #[uuid_primary_key]
    pub id: Uuid,
    pub email: String,
}

// The resource is listed in a domain and used: its mistake is the only error.
#[domain]
#[resources(User(define(create_user, action = create, args = [email])))]
pub struct Domain;

fn main() {
    let _ = Domain::new().create_user("a@example.com");
}
