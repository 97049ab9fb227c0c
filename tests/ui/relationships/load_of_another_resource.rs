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
#[actions(defaults(read, create = [title]))]
#[relationships(belongs_to(author, User))]
#[derive(Debug, Clone, PartialEq)]
pub struct Post {
    #[uuid_primary_key]
    pub id: Uuid,
    pub title: String,
}

#[resource(domain = Domain)]
#[actions(defaults(read, create = [body]))]
#[relationships(belongs_to(post, Post))]
#[derive(Debug, Clone, PartialEq)]
pub struct Comment {
    #[uuid_primary_key]
    pub id: Uuid,
    pub body: String,
}

#[domain]
#[resources(User, Post, Comment)]
pub struct Domain;

fn main() {
    let _query = Query::<Post>::new().load(Comment::POST);
}
