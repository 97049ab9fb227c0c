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
#[actions(defaults(read, create = [title, author_id]))]
#[relationships(belongs_to(author, User))]
#[derive(Debug, Clone, PartialEq)]
pub struct Post {
    #[uuid_primary_key]
    pub id: Uuid,
    pub title: String,
}

#[resource(domain = Domain)]
#[actions(defaults(read, create = [body, post_id]))]
#[relationships(belongs_to(post, Post))]
#[policies(actor = User, policy(always(), authorize_if(relates_to_actor_via([post, author]))))]
#[derive(Debug, Clone, PartialEq)]
pub struct Comment {
    #[uuid_primary_key]
    pub id: Uuid,
    pub body: String,
}

#[domain]
#[resources(User, Post, Comment(define(comments, action = read)))]
pub struct Domain;

fn main() {
    let _ = Domain::new().comments();
}
