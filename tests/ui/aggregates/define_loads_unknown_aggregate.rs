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
#[aggregates(count(author_count, author))]
#[derive(Debug, Clone, PartialEq)]
pub struct Post {
    #[uuid_primary_key]
    pub id: Uuid,
    pub title: String,
}

#[domain]
#[resources(User, Post(define(get_post, action = read, get_by = [id], load = [author_cnt])))]
pub struct Domain;

fn main() {}
