use ash_rs::prelude::*;

#[resource(domain = Domain)]
#[actions(defaults(read, create = [name]))]
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    #[uuid_primary_key]
    pub id: Uuid,
    pub name: String,
}

#[resource(domain = Other)]
#[actions(defaults(read, create = [label]))]
#[derive(Debug, Clone, PartialEq)]
pub struct Tag {
    #[uuid_primary_key]
    pub id: Uuid,
    pub label: String,
}

#[resource(domain = Domain)]
#[actions(defaults(read, create = [title]))]
#[relationships(belongs_to(tag, Tag))]
#[derive(Debug, Clone, PartialEq)]
pub struct Post {
    #[uuid_primary_key]
    pub id: Uuid,
    pub title: String,
}

#[domain]
#[resources(User, Post)]
pub struct Domain;

#[domain]
#[resources(Tag)]
pub struct Other;

fn main() {}
