use ash_rs::prelude::*;

#[derive(Debug, Clone)]
pub struct User {
    pub id: i64,
}

pub struct NotACheck;
#[resource(domain = Domain)]
#[actions(defaults(read, create = [title, author_id]), update(update, accept = [title]))]
#[policies(policy(always(), authorize_if(NotACheck)))]
#[derive(Debug, Clone, PartialEq)]
pub struct Post {
    #[uuid_primary_key]
    pub id: Uuid,
    pub title: String,
    pub author_id: i64,
}

#[domain]
#[resources(Post(define(posts, action = read)))]
pub struct Domain;

fn main() {
    let _ = Domain::new().posts();
}
