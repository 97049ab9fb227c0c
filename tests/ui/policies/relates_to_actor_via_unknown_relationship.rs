use ash_rs::prelude::*;

#[resource(domain = Domain)]
#[actions(defaults(read, create = [name]))]
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    #[uuid_primary_key]
    pub id: Uuid,
    pub name: String,
}

#[resource(domain = Domain)]
#[actions(defaults(read, create = [title, author_id]), update(update, accept = [title]))]
#[relationships(belongs_to(author, User))]
#[policies(actor = User, policy(always(), authorize_if(relates_to_actor_via(auther))))]
#[derive(Debug, Clone, PartialEq)]
pub struct Post {
    #[uuid_primary_key]
    pub id: Uuid,
    pub title: String,
}

#[domain]
#[resources(User, Post(define(posts, action = read)))]
pub struct Domain;

fn main() {
    let _ = Domain::new().posts();
}
