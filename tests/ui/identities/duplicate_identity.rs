use ash_rs::prelude::*;

#[resource(domain = Domain)]
#[actions(defaults(read, create = [email, name]))]
#[identities(identity(unique_email, [email]), identity(unique_email, [name]))]
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    #[uuid_primary_key]
    pub id: Uuid,
    pub email: String,
    pub name: String,
}

#[domain]
#[resources(User(define(create_user, action = create, args = [email, name])))]
pub struct Domain;

fn main() {
    let _ = Domain::new().create_user("a@example.com", "Ann");
    let _ = User::UNIQUE_EMAIL;
}
