use ash_rs::prelude::*;

#[resource(domain = Domain)]
#[actions(
    defaults(read),
    create(register, accept = [email, name], upsert = true, upsert_identity = unique_mail),
)]
#[identities(identity(unique_email, [email]))]
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    #[uuid_primary_key]
    pub id: Uuid,
    pub email: String,
    pub name: String,
}

#[domain]
#[resources(User(define(register, args = [email, name])))]
pub struct Domain;

fn main() {
    let _ = Domain::new().register("a@example.com", "Ann");
}
