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
#[actions(defaults(read, create = [body]))]
#[derive(Debug, Clone, PartialEq)]
pub struct Comment {
    #[uuid_primary_key]
    pub id: Uuid,
    pub body: String,
    pub post_id: Option<i64>,
}

#[resource(domain = Domain)]
#[actions(defaults(read, create = [title]))]
#[relationships(has_many(comments, Comment))]
#[derive(Debug, Clone, PartialEq)]
pub struct Post {
    #[uuid_primary_key]
    pub id: Uuid,
    pub title: String,
}

#[domain]
#[resources(User, Comment, Post)]
pub struct Domain;

fn main() {}
