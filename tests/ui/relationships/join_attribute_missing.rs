use ash_rs::prelude::*;

#[resource(domain = Domain)]
#[actions(defaults(read, create = [label]))]
#[derive(Debug, Clone, PartialEq)]
pub struct Tag {
    #[uuid_primary_key]
    pub id: Uuid,
    pub label: String,
}

#[resource(domain = Domain)]
#[actions(defaults(read, create = [post_id, tag_id]))]
#[relationships(belongs_to(post, Post), belongs_to(tag, Tag))]
#[derive(Debug, Clone, PartialEq)]
pub struct PostTag {
    #[uuid_primary_key]
    pub id: Uuid,
}

#[resource(domain = Domain)]
#[actions(defaults(read, create = [title]))]
#[relationships(many_to_many(tags, Tag, through = PostTag, source_attribute_on_join_resource = article_id))]
#[derive(Debug, Clone, PartialEq)]
pub struct Post {
    #[uuid_primary_key]
    pub id: Uuid,
    pub title: String,
}

#[domain]
#[resources(Tag, PostTag, Post)]
pub struct Domain;

fn main() {}
