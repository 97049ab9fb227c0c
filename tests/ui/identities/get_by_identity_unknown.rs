use ash_rs::prelude::*;

#[resource(domain = Domain)]
#[actions(defaults(read, create = [email]))]
#[identities(identity(unique_email, [email]))]
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    #[uuid_primary_key]
    pub id: Uuid,
    pub email: String,
}

#[domain]
#[resources(User(define(user_by_email, action = read, get_by_identity = unique_mail)))]
pub struct Domain;

fn main() {}
