use ash_rs::prelude::*;

#[resource(domain = Blog)]
#[actions(defaults(read, create = [title]))]
#[relationships(has_many(comments, Comment))]
#[aggregates(sum(score_total, comments, field = scor))]
#[derive(Debug, Clone, PartialEq)]
pub struct Post {
    #[uuid_primary_key]
    pub id: Uuid,
    pub title: String,
}

#[resource(domain = Blog)]
#[actions(defaults(read, create = [body, score, post_id]))]
#[relationships(belongs_to(post, Post))]
#[derive(Debug, Clone, PartialEq)]
pub struct Comment {
    #[uuid_primary_key]
    pub id: Uuid,
    pub body: String,
    pub score: i64,
}

#[domain]
#[resources(Post(define(posts, action = read)), Comment)]
pub struct Blog;

fn main() {
    let _ = Blog::new().posts();
}
