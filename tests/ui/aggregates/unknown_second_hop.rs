use ash_rs::prelude::*;

#[resource(domain = Blog)]
#[actions(defaults(read, create = [name]))]
#[relationships(has_many(posts, Post, destination_attribute = author_id))]
#[aggregates(count(comment_count, [posts, coments]))]
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    #[uuid_primary_key]
    pub id: Uuid,
    pub name: String,
}

#[resource(domain = Blog)]
#[actions(defaults(read, create = [title, author_id]))]
#[relationships(belongs_to(author, User), has_many(comments, Comment))]
#[derive(Debug, Clone, PartialEq)]
pub struct Post {
    #[uuid_primary_key]
    pub id: Uuid,
    pub title: String,
}

#[resource(domain = Blog)]
#[actions(defaults(read, create = [body, post_id]))]
#[relationships(belongs_to(post, Post))]
#[derive(Debug, Clone, PartialEq)]
pub struct Comment {
    #[uuid_primary_key]
    pub id: Uuid,
    pub body: String,
}

#[domain]
#[resources(User(define(users, action = read)), Post, Comment)]
pub struct Blog;

fn main() {
    let _ = Blog::new().users();
}
