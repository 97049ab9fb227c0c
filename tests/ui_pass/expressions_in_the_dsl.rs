// Values in the DSL are Rust expressions, whatever commas, generics or groups they hold.
use ash_rs::prelude::*;
use std::collections::BTreeMap;

fn pick<A: From<u8>, B>(a: u8, _b: B) -> A {
    A::from(a)
}

struct Suffix<'a, T>(&'a str, std::marker::PhantomData<T>);

impl<T: Send + Sync> Change<Post> for Suffix<'_, T> {
    fn change(&self, changeset: &mut Changeset<'_, Post>) {
        if let Some(title) = &mut changeset.changes_mut().title {
            title.push_str(self.0);
        }
    }
}

#[resource(domain = Blog)]
#[actions(
    defaults(read),
    create(
        create,
        accept = [title],
        argument(tags: BTreeMap<String, (i64, u8)>, default = BTreeMap::<String, (i64, u8)>::new()),
        change = |changeset: &mut Changeset<'_, Post>| {
            let n = changeset.arguments::<PostCreateInput>().map_or(0, |i| i.tags.as_ref().map_or(0, |t| t.len()));
            changeset.changes_mut().tag_count = Some(n as i64);
        },
        change = Suffix::<'static, (u8, u16)>("!", std::marker::PhantomData),
        validate = string_length(title, min = [1, 2][0], max = { let max = 10; max * 10 }),
    ),
)]
#[derive(Debug, Clone, PartialEq)]
pub struct Post {
    #[uuid_primary_key]
    pub id: Uuid,
    pub title: String,
    #[attribute(default = pick::<i64, u8>(3, 4))]
    pub score: i64,
    #[attribute(default = if 1 < 2 { 5 } else { 6 })]
    pub rank: i64,
    #[attribute(default = 0)]
    pub tag_count: i64,
}

#[domain]
#[resources(Post(define(create_post, action = create, args = [title, tags])))]
pub struct Blog;

fn main() {
    let blog = Blog::new();
    let tags = BTreeMap::from([("a".to_owned(), (1, 2)), ("b".to_owned(), (3, 4))]);
    let post = ash_rs::block_on(blog.create_post("hi", tags)).unwrap();
    assert_eq!(
        (post.title.as_str(), post.score, post.rank, post.tag_count),
        ("hi!", 3, 5, 2)
    );
}
