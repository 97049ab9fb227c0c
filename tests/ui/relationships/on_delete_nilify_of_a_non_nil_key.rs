use ash_rs::prelude::*;

#[resource(domain = Blog, data_layer = Ets)]
#[actions(defaults(read, create = [name]))]
#[derive(Debug, Clone)]
pub struct User {
    #[uuid_primary_key]
    pub id: Uuid,
    pub name: String,
}

#[resource(domain = Blog, data_layer = Ets)]
#[actions(defaults(read, create = [title, author_id]))]
#[relationships(belongs_to(author, User, allow_nil = false, on_delete = nilify))]
#[derive(Debug, Clone)]
pub struct Post {
    #[uuid_primary_key]
    pub id: Uuid,
    pub title: String,
}

#[domain]
#[resources(User, Post)]
pub struct Blog;

fn main() {}
