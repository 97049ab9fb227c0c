//! Aggregates over relationships, one suite expanded for ETS and for PostgreSQL
//! (`aggregates!` below): every kind with its empty value, `filter`, `field`, `default`,
//! `uniq`, `sort`, loading (in the read, onto records already read, nested in a
//! relationship load), filtering on an aggregate, and statement counts on PostgreSQL.

#[cfg(feature = "postgres")]
#[path = "pg_support/mod.rs"]
mod pg_support;

macro_rules! aggregates {
    (data_layer = [$($data_layer:tt)*] $(,)?) => {
        use ash_rs::prelude::*;
        use ash_rs::relationship::NotLoaded;

        #[resource(domain = Blog, data_layer = $($data_layer)*)]
        #[actions(defaults(read, destroy, create = [name]))]
        #[relationships(has_many(posts, Post, destination_attribute = author_id))]
        #[aggregates(count(post_count, posts))]
        #[derive(Debug, Clone, PartialEq)]
        pub struct User {
            #[uuid_primary_key]
            pub id: Uuid,
            pub name: String,
        }

        #[resource(domain = Blog, data_layer = $($data_layer)*)]
        #[actions(defaults(read, destroy, create = [title, author_id]))]
        #[relationships(belongs_to(author, User), has_many(comments, Comment))]
        #[aggregates(
            count(comment_count, comments),
            count(high_count, comments, filter = Comment::SCORE.gt(3)),
            count(distinct_scores, comments, field = score, uniq = true),
            count(rated_count, comments, field = rating),
            exists(has_comments, comments),
            exists(has_high, comments, filter = Comment::SCORE.gt(3)),
            sum(score_total, comments, field = score, default = 0),
            sum(score_sum, comments, field = score),
            min(min_score, comments, field = score),
            max(max_score, comments, field = score),
            max(max_rating, comments, field = rating),
            avg(avg_score, comments, field = score),
            first(top_body, comments, field = body, sort = [Comment::SCORE.desc()]),
            first(first_rating, comments, field = rating, sort = Comment::BODY.asc()),
            list(bodies, comments, field = body, sort = [Comment::BODY.asc()]),
            list(scores, comments, field = score, uniq = true, sort = [Comment::SCORE.asc()]),
            count(author_count, author),
        )]
        #[derive(Debug, Clone, PartialEq)]
        pub struct Post {
            #[uuid_primary_key]
            pub id: Uuid,
            pub title: String,
        }

        #[resource(domain = Blog, data_layer = $($data_layer)*)]
        #[actions(defaults(read, destroy, create = [body, score, rating, post_id]))]
        #[relationships(belongs_to(post, Post))]
        #[aggregates(first(post_title, post, field = title))]
        #[derive(Debug, Clone, PartialEq)]
        pub struct Comment {
            #[uuid_primary_key]
            pub id: Uuid,
            pub body: String,
            pub score: i64,
            pub rating: Option<i64>,
        }

        #[domain]
        #[resources(
            User(define(create_user, action = create, args = [name])),
            Post(
                define(create_post, action = create, args = [title, author_id]),
                define(get_post_with_counts, action = read, get_by = [id], load = [comment_count, score_total, comments]),
            ),
            Comment(define(create_comment, action = create, args = [body, score, rating, post_id])),
        )]
        pub struct Blog;

        struct Seed {
            first: Post,
        }

        /// `first`: comments scored 1, 5, 3, 5 (ratings nil, 2, nil, 7); `second`: one
        /// scored 4; `orphan`: none.
        async fn seed(blog: &Blog) -> Seed {
            let ann = blog.create_user("ann").await.unwrap();
            let first = blog.create_post("first", Some(ann.id)).await.unwrap();
            let second = blog.create_post("second", Some(ann.id)).await.unwrap();
            blog.create_post("orphan", None).await.unwrap();
            for (body, score, rating) in [("b", 1i64, None), ("d", 5, Some(2i64)), ("a", 3, None), ("c", 5, Some(7))] {
                blog.create_comment(body, score, rating, Some(first.id)).await.unwrap();
            }
            blog.create_comment("z", 4i64, None, Some(second.id)).await.unwrap();
            Seed { first }
        }

        #[tokio::test]
        async fn a_define_loads_the_aggregates_it_names() {
            let Some(blog) = connect().await else { return };
            let s = seed(&blog).await;
            let post = blog.get_post_with_counts(s.first.id).await.unwrap();
            assert_eq!(post.comment_count.get().copied().unwrap(), 4);
            assert_eq!(post.score_total.get().copied().unwrap(), 14);
            assert_eq!(post.comments.get().unwrap().len(), 4);
            // Only what the define names.
            assert!(post.high_count.get().is_err());
        }

        fn by_title(posts: &[Post], title: &str) -> Post {
            posts.iter().find(|p| p.title == title).cloned().unwrap()
        }

        fn titles(posts: &[Post]) -> Vec<String> {
            let mut t: Vec<String> = posts.iter().map(|p| p.title.clone()).collect();
            t.sort();
            t
        }

        async fn read_posts(blog: &Blog, query: Query<Post>) -> Vec<Post> {
            ash_rs::api::read(blog, PostReadInput::new(), query).await.unwrap()
        }

        fn all_loads(query: Query<Post>) -> Query<Post> {
            query
                .load(Post::COMMENT_COUNT)
                .load(Post::HIGH_COUNT)
                .load(Post::DISTINCT_SCORES)
                .load(Post::RATED_COUNT)
                .load(Post::HAS_COMMENTS)
                .load(Post::HAS_HIGH)
                .load(Post::SCORE_TOTAL)
                .load(Post::SCORE_SUM)
                .load(Post::MIN_SCORE)
                .load(Post::MAX_SCORE)
                .load(Post::MAX_RATING)
                .load(Post::AVG_SCORE)
                .load(Post::TOP_BODY)
                .load(Post::FIRST_RATING)
                .load(Post::BODIES)
                .load(Post::SCORES)
                .load(Post::AUTHOR_COUNT)
        }

        #[tokio::test]
        async fn unloaded_is_not_loaded() {
            let Some(blog) = connect().await else { return };
            seed(&blog).await;
            let posts = read_posts(&blog, Query::new()).await;
            assert_eq!(posts[0].comment_count.get(), Err(NotLoaded));
            assert!(!posts[0].score_total.is_loaded());
        }

        #[tokio::test]
        async fn every_kind_over_has_many() {
            let Some(blog) = connect().await else { return };
            seed(&blog).await;
            let posts = read_posts(&blog, all_loads(Query::new())).await;
            let first = by_title(&posts, "first");
            assert_eq!(first.comment_count.get(), Ok(&4));
            assert_eq!(first.high_count.get(), Ok(&2));
            assert_eq!(first.distinct_scores.get(), Ok(&3));
            assert_eq!(first.rated_count.get(), Ok(&2));
            assert_eq!(first.has_comments.get(), Ok(&true));
            assert_eq!(first.has_high.get(), Ok(&true));
            assert_eq!(first.score_total.get(), Ok(&14));
            assert_eq!(first.score_sum.get(), Ok(&Some(14)));
            assert_eq!(first.min_score.get(), Ok(&Some(1)));
            assert_eq!(first.max_score.get(), Ok(&Some(5)));
            assert_eq!(first.max_rating.get(), Ok(&Some(7)));
            assert_eq!(first.avg_score.get(), Ok(&Some(3.5)));
            // Score 5 twice: the tie is broken by primary key; either 5 is "c" or "d".
            let top = first.top_body.get().unwrap().clone().unwrap();
            assert!(top == "c" || top == "d", "{top}");
            // Sorted by body: a (nil), b (nil), c (7): nils are skipped.
            assert_eq!(first.first_rating.get(), Ok(&Some(7)));
            assert_eq!(first.bodies.get().unwrap(), &vec!["a".to_string(), "b".into(), "c".into(), "d".into()]);
            assert_eq!(first.scores.get().unwrap(), &vec![1i64, 3, 5]);
            assert_eq!(first.author_count.get(), Ok(&1));
            let second = by_title(&posts, "second");
            assert_eq!(second.comment_count.get(), Ok(&1));
            assert_eq!(second.has_high.get(), Ok(&true));
            assert_eq!(second.avg_score.get(), Ok(&Some(4.0)));
            assert_eq!(second.max_rating.get(), Ok(&None));
            assert_eq!(second.rated_count.get(), Ok(&0));
        }

        #[tokio::test]
        async fn empty_values_are_ashs() {
            let Some(blog) = connect().await else { return };
            seed(&blog).await;
            let posts = read_posts(&blog, all_loads(Query::new())).await;
            let orphan = by_title(&posts, "orphan");
            assert_eq!(orphan.comment_count.get(), Ok(&0));
            assert_eq!(orphan.high_count.get(), Ok(&0));
            assert_eq!(orphan.distinct_scores.get(), Ok(&0));
            assert_eq!(orphan.has_comments.get(), Ok(&false));
            assert_eq!(orphan.has_high.get(), Ok(&false));
            // `default = 0` replaces nil; without it, nil.
            assert_eq!(orphan.score_total.get(), Ok(&0));
            assert_eq!(orphan.score_sum.get(), Ok(&None));
            assert_eq!(orphan.min_score.get(), Ok(&None));
            assert_eq!(orphan.max_score.get(), Ok(&None));
            assert_eq!(orphan.avg_score.get(), Ok(&None));
            assert_eq!(orphan.top_body.get(), Ok(&None));
            assert_eq!(orphan.bodies.get().unwrap(), &Vec::<String>::new());
            assert_eq!(orphan.scores.get().unwrap(), &Vec::<i64>::new());
            // A nil belongs_to key: nothing related.
            assert_eq!(orphan.author_count.get(), Ok(&0));
        }

        #[tokio::test]
        async fn filter_on_an_aggregate() {
            let Some(blog) = connect().await else { return };
            seed(&blog).await;
            let q = |f| Query::new().filter(f);
            assert_eq!(titles(&read_posts(&blog, q(Post::COMMENT_COUNT.gt(3))).await), ["first"]);
            assert_eq!(titles(&read_posts(&blog, q(Post::COMMENT_COUNT.eq(0))).await), ["orphan"]);
            // The default takes part: the orphan's total is 0, not nil.
            assert_eq!(titles(&read_posts(&blog, q(Post::SCORE_TOTAL.lt(5))).await), ["orphan", "second"]);
            // Nil matches no comparison.
            assert_eq!(titles(&read_posts(&blog, q(Post::SCORE_SUM.lt(100))).await), ["first", "second"]);
            assert_eq!(titles(&read_posts(&blog, q(Post::HAS_HIGH.eq(false))).await), ["orphan"]);
            assert_eq!(titles(&read_posts(&blog, q(Post::AVG_SCORE.gte(3.5))).await), ["first", "second"]);
            assert_eq!(titles(&read_posts(&blog, q(!Post::HIGH_COUNT.gte(2))).await), ["orphan", "second"]);
            assert_eq!(
                titles(&read_posts(&blog, q(Post::COMMENT_COUNT.gt(0) & Post::TITLE.eq("second"))).await),
                ["second"]
            );
        }

        #[tokio::test]
        async fn filter_and_load_together_with_limit() {
            let Some(blog) = connect().await else { return };
            seed(&blog).await;
            let query = Query::new()
                .filter(Post::COMMENT_COUNT.gt(0))
                .sort_by(Post::TITLE.asc())
                .limit(1)
                .load(Post::COMMENT_COUNT)
                .load(Post::SCORE_TOTAL);
            let posts = read_posts(&blog, query).await;
            assert_eq!(posts.len(), 1);
            assert_eq!(posts[0].title, "first");
            assert_eq!(posts[0].comment_count.get(), Ok(&4));
            assert_eq!(posts[0].score_total.get(), Ok(&14));
        }

        #[tokio::test]
        async fn sort_by_an_aggregate() {
            let Some(blog) = connect().await else { return };
            seed(&blog).await;
            let by = |q: Query<Post>| async { read_posts(&blog, q).await.into_iter().map(|p| p.title).collect::<Vec<_>>() };
            assert_eq!(by(Query::new().sort_by(Post::COMMENT_COUNT.desc())).await, ["first", "second", "orphan"]);
            assert_eq!(by(Query::new().sort_by(Post::COMMENT_COUNT.asc())).await, ["orphan", "second", "first"]);
            // Nil last ascending, first descending; the default takes part.
            assert_eq!(by(Query::new().sort_by(Post::MAX_SCORE.asc())).await, ["second", "first", "orphan"]);
            assert_eq!(by(Query::new().sort_by(Post::MAX_SCORE.desc())).await, ["orphan", "first", "second"]);
            assert_eq!(by(Query::new().sort_by(Post::SCORE_TOTAL.asc())).await, ["orphan", "second", "first"]);
            // Placed among attribute keys, then paged after the sort.
            assert_eq!(
                by(Query::new().sort_by(Post::HAS_COMMENTS.desc()).sort_by(Post::TITLE.desc())).await,
                ["second", "first", "orphan"]
            );
            assert_eq!(
                by(Query::new().sort_by(Post::COMMENT_COUNT.desc()).offset(1).limit(1)).await,
                ["second"]
            );
            let loaded = read_posts(&blog, Query::new().sort_by(Post::SCORE_TOTAL.desc()).limit(1).load(Post::SCORE_TOTAL)).await;
            assert_eq!(loaded[0].score_total.get(), Ok(&14));
        }

        #[tokio::test]
        async fn load_onto_records_already_read() {
            let Some(blog) = connect().await else { return };
            seed(&blog).await;
            let posts = read_posts(&blog, Query::new()).await;
            let posts = blog.load(&posts, Post::SCORE_TOTAL).await.unwrap();
            let posts = blog.load(&posts, Post::BODIES).await.unwrap();
            let posts = blog.load(&posts, Post::HAS_HIGH).await.unwrap();
            let first = by_title(&posts, "first");
            assert_eq!(first.score_total.get(), Ok(&14));
            assert_eq!(first.bodies.get().unwrap().len(), 4);
            assert_eq!(by_title(&posts, "orphan").score_total.get(), Ok(&0));
            assert_eq!(by_title(&posts, "orphan").has_high.get(), Ok(&false));
        }

        #[tokio::test]
        async fn nested_in_a_relationship_load() {
            let Some(blog) = connect().await else { return };
            seed(&blog).await;
            let users = ash_rs::api::read(
                &blog,
                UserReadInput::new(),
                Query::new()
                    .load(User::POST_COUNT)
                    .load(User::POSTS.load(Post::COMMENT_COUNT)),
            )
            .await
            .unwrap();
            assert_eq!(users[0].post_count.get(), Ok(&2));
            let mut counts: Vec<i64> = users[0]
                .posts
                .get()
                .unwrap()
                .iter()
                .map(|p| *p.comment_count.get().unwrap())
                .collect();
            counts.sort();
            assert_eq!(counts, [1, 4]);
        }

        #[tokio::test]
        async fn over_belongs_to() {
            let Some(blog) = connect().await else { return };
            let seeded = seed(&blog).await;
            let comments = ash_rs::api::read(
                &blog,
                CommentReadInput::new(),
                Query::new().load(Comment::POST_TITLE).filter(Comment::POST_TITLE.eq("second")),
            )
            .await
            .unwrap();
            assert_eq!(comments.len(), 1);
            assert_eq!(comments[0].post_title.get(), Ok(&Some("second".to_string())));
            let _ = seeded.first;
        }

        #[tokio::test]
        async fn shared_and_repeated_keys() {
            let Some(blog) = connect().await else { return };
            let seeded = seed(&blog).await;
            // Four comments share one post: each gets its title.
            let comments = ash_rs::api::read(
                &blog,
                CommentReadInput::new(),
                Query::new().load(Comment::POST_TITLE),
            )
            .await
            .unwrap();
            let firsts = comments
                .iter()
                .filter(|c| c.post_title.get() == Ok(&Some("first".to_string())))
                .count();
            assert_eq!(firsts, 4);
            // The same record twice among the parents: both get the value.
            let twice = vec![seeded.first.clone(), seeded.first.clone()];
            let loaded = blog.load(&twice, Post::COMMENT_COUNT).await.unwrap();
            assert_eq!(loaded[0].comment_count.get(), Ok(&4));
            assert_eq!(loaded[1].comment_count.get(), Ok(&4));
            let loaded = blog.load(&twice, Post::SCORE_TOTAL).await.unwrap();
            assert_eq!(loaded[1].score_total.get(), Ok(&14));
        }

        #[tokio::test]
        async fn writes_show_in_the_next_read() {
            let Some(blog) = connect().await else { return };
            let seeded = seed(&blog).await;
            blog.create_comment("e", 10i64, None, Some(seeded.first.id)).await.unwrap();
            let posts = read_posts(&blog, Query::new().load(Post::COMMENT_COUNT).load(Post::MAX_SCORE)).await;
            let first = by_title(&posts, "first");
            assert_eq!(first.comment_count.get(), Ok(&5));
            assert_eq!(first.max_score.get(), Ok(&Some(10)));
        }

        /// The bare count and exists (on ETS, counted from the foreign-key index as the
        /// parents are walked) follow destroys, also for a key several parents share.
        #[tokio::test]
        async fn bare_counts_follow_destroys() {
            let Some(blog) = connect().await else { return };
            let seeded = seed(&blog).await;
            let comments = ash_rs::api::read(&blog, CommentReadInput::new(), Query::new())
                .await
                .unwrap();
            for comment in comments.iter().filter(|c| c.score == 5 || c.score == 4) {
                ash_rs::api::destroy(&blog, comment, CommentDestroyInput::new()).await.unwrap();
            }
            let posts = read_posts(&blog, Query::new()).await;
            let mut parents = vec![
                by_title(&posts, "first"),
                by_title(&posts, "second"),
                by_title(&posts, "orphan"),
                by_title(&posts, "first"),
            ];
            blog.load_into(&mut parents, Post::COMMENT_COUNT).await.unwrap();
            blog.load_into(&mut parents, Post::HAS_COMMENTS).await.unwrap();
            blog.load_into(&mut parents, Post::AUTHOR_COUNT).await.unwrap();
            let counts: Vec<(i64, bool, i64)> = parents
                .iter()
                .map(|p| {
                    (
                        *p.comment_count.get().unwrap(),
                        *p.has_comments.get().unwrap(),
                        *p.author_count.get().unwrap(),
                    )
                })
                .collect();
            assert_eq!(counts, [(2, true, 1), (0, false, 1), (0, false, 0), (2, true, 1)]);
            let _ = seeded.first;
        }

        #[tokio::test]
        async fn descriptors_are_static_facts() {
            let info = Post::SCORE_TOTAL.info();
            assert_eq!(info.name, "score_total");
            assert_eq!(info.kind, ash_rs::aggregate::AggregateKind::Sum);
            assert_eq!(info.relationship.name, "comments");
            assert_eq!(info.field, Some("score"));
            assert!(Post::SCORES.info().uniq);
        }
    };
}

mod ets {
    aggregates!(data_layer = [Ets]);

    async fn connect() -> Option<Blog> {
        Some(Blog::new())
    }
}

#[cfg(feature = "postgres")]
pub(crate) mod postgres {
    use crate::pg_support::TestDb;
    aggregates!(data_layer = [ash_rs::postgres::Postgres]);

    pub(crate) async fn connect() -> Option<Blog> {
        let db = TestDb::new().await?;
        let blog = Blog::connect(&db.pool).await.unwrap();
        std::mem::forget(db);
        Some(blog)
    }

    pub(crate) fn all_loads_pub(query: Query<Post>) -> Query<Post> {
        all_loads(query)
    }
}

/// Statement counts: an aggregate is part of the read's one statement.
#[cfg(feature = "postgres")]
mod statement_counts {
    use super::postgres::*;
    use ash_rs::domain::HasResource;
    use ash_rs::prelude::*;

    fn statements(blog: &Blog) -> u64 {
        HasResource::<User>::data_layer(blog).statement_count()
            + HasResource::<Post>::data_layer(blog).statement_count()
            + HasResource::<Comment>::data_layer(blog).statement_count()
    }

    async fn posts(blog: &Blog, n: usize) {
        for i in 0..n {
            let post = blog.create_post(format!("p{i}"), None).await.unwrap();
            if i % 10 == 0 {
                blog.create_comment("c", 2i64, None, Some(post.id))
                    .await
                    .unwrap();
            }
        }
    }

    #[tokio::test]
    async fn count_and_sum_for_1000_posts_is_one_statement() {
        let Some(blog) = connect().await else { return };
        posts(&blog, 1000).await;
        let before = statements(&blog);
        let read = ash_rs::api::read(
            &blog,
            PostReadInput::new(),
            Query::new()
                .load(Post::COMMENT_COUNT)
                .load(Post::SCORE_TOTAL),
        )
        .await
        .unwrap();
        assert_eq!(statements(&blog) - before, 1);
        assert_eq!(read.len(), 1000);
        let total: i64 = read.iter().map(|p| *p.score_total.get().unwrap()).sum();
        assert_eq!(total, 200);
        let count: i64 = read.iter().map(|p| *p.comment_count.get().unwrap()).sum();
        assert_eq!(count, 100);
    }

    #[tokio::test]
    async fn every_kind_and_a_filter_is_one_statement() {
        let Some(blog) = connect().await else { return };
        posts(&blog, 30).await;
        let before = statements(&blog);
        let read = ash_rs::api::read(
            &blog,
            PostReadInput::new(),
            super::postgres::all_loads_pub(Query::new().filter(Post::COMMENT_COUNT.gt(0))),
        )
        .await
        .unwrap();
        assert_eq!(read.len(), 3);
        assert_eq!(statements(&blog) - before, 1);
    }

    #[tokio::test]
    async fn load_onto_records_is_one_statement() {
        let Some(blog) = connect().await else { return };
        posts(&blog, 30).await;
        let read = ash_rs::api::read(&blog, PostReadInput::new(), Query::new())
            .await
            .unwrap();
        let before = statements(&blog);
        let loaded = blog.load(&read, Post::BODIES).await.unwrap();
        assert_eq!(statements(&blog) - before, 1);
        assert_eq!(
            loaded
                .iter()
                .filter(|p| !p.bodies.get().unwrap().is_empty())
                .count(),
            3
        );
    }
}

/// Aggregates over a many_to_many and over paths through several relationships
/// (`count(comment_count, [posts, comments])`), each relationship's own filter applied,
/// on both layers.
macro_rules! paths {
    (data_layer = [$($data_layer:tt)*] $(,)?) => {
        use ash_rs::prelude::*;

        #[resource(domain = Shelf, data_layer = $($data_layer)*)]
        #[actions(
            defaults(read, create = [name]),
            read(paged, pagination(offset, keyset, default_limit = 2, countable)),
        )]
        #[relationships(
            has_many(posts, Post),
            has_many(visible_posts, Post, filter = Post::HIDDEN.eq(false)),
        )]
        #[aggregates(
            count(comment_count, [posts, comments]),
            sum(score_total, [posts, comments], field = score, default = 0),
            count(high_count, [posts, comments], filter = Comment::SCORE.gt(3)),
            max(best, [posts, comments], field = score),
            avg(avg_score, [posts, comments], field = score),
            exists(has_comments, [posts, comments]),
            first(top_body, [posts, comments], field = body, sort = [Comment::SCORE.desc(), Comment::BODY.asc()]),
            list(bodies, [posts, comments], field = body, sort = [Comment::BODY.asc()]),
            count(tag_count, [posts, tags]),
            list(tag_names, [posts, tags], field = name, uniq = true, sort = [Tag::NAME.asc()]),
            count(rust_count, [posts, rust_tags]),
            count(visible_comment_count, [visible_posts, comments]),
            count(approved_count, [posts, approved_comments]),
            count(tagged_post_count, [posts, tags, posts]),
            list(tag_times, [posts, tags], field = at, uniq = true, sort = [Tag::AT.desc()]),
        )]
        #[derive(Debug, Clone, PartialEq)]
        pub struct Author {
            #[uuid_primary_key]
            pub id: Uuid,
            pub name: String,
        }

        #[resource(domain = Shelf, data_layer = $($data_layer)*)]
        #[actions(defaults(read, create = [title, hidden, author_id]))]
        #[relationships(
            belongs_to(author, Author),
            has_many(comments, Comment),
            has_many(approved_comments, Comment, filter = Comment::SCORE.gte(2)),
            many_to_many(tags, Tag, through = PostTag),
            many_to_many(rust_tags, Tag, through = PostTag, filter = Tag::NAME.eq("rust")),
        )]
        #[aggregates(
            count(tag_count, tags),
            list(tag_names, tags, field = name, sort = [Tag::NAME.asc()]),
            count(approved_count, approved_comments),
            first(author_name, author, field = name),
            list(tag_ids, tags, field = id, sort = [Tag::NAME.asc()]),
            list(tag_times, tags, field = at, sort = [Tag::AT.asc()]),
            max(last_tagged, tags, field = at),
        )]
        #[derive(Debug, Clone, PartialEq)]
        pub struct Post {
            #[uuid_primary_key]
            pub id: Uuid,
            pub title: String,
            pub hidden: bool,
        }

        #[resource(domain = Shelf, data_layer = $($data_layer)*)]
        #[actions(defaults(read, create = [body, score, post_id]))]
        #[relationships(belongs_to(post, Post))]
        #[aggregates(first(author_name, [post, author], field = name))]
        #[derive(Debug, Clone, PartialEq)]
        pub struct Comment {
            #[uuid_primary_key]
            pub id: Uuid,
            pub body: String,
            pub score: i64,
        }

        #[resource(domain = Shelf, data_layer = $($data_layer)*)]
        #[actions(defaults(read, create = [name, at]))]
        #[relationships(many_to_many(posts, Post, through = PostTag))]
        #[aggregates(list(authors, [posts, author], field = name, uniq = true, sort = [Author::NAME.asc()]))]
        #[derive(Debug, Clone, PartialEq)]
        pub struct Tag {
            #[uuid_primary_key]
            pub id: Uuid,
            pub name: String,
            pub at: std::time::SystemTime,
        }

        #[resource(domain = Shelf, data_layer = $($data_layer)*)]
        #[actions(defaults(read, create = [post_id, tag_id]))]
        #[relationships(belongs_to(post, Post, allow_nil = false), belongs_to(tag, Tag, allow_nil = false))]
        #[derive(Debug, Clone, PartialEq)]
        pub struct PostTag {
            #[uuid_primary_key]
            pub id: Uuid,
        }

        #[domain]
        #[resources(
            Author(define(create_author, action = create, args = [name])),
            Post(define(create_post, action = create, args = [title, hidden, author_id])),
            Comment(define(create_comment, action = create, args = [body, score, post_id])),
            Tag(define(create_tag, action = create, args = [name, at])),
            PostTag(define(tag_post, action = create, args = [post_id, tag_id])),
        )]
        pub struct Shelf;

        /// ann: `p1` (comments a 1, c 5, b 4; tags rust, elixir) and hidden `p2`
        /// (comments d 2, e 5; tag rust); bob: `p3` (no comment; tag db); cat: nothing.
        async fn seed(shelf: &Shelf) {
            let ann = shelf.create_author("ann").await.unwrap();
            let bob = shelf.create_author("bob").await.unwrap();
            shelf.create_author("cat").await.unwrap();
            let p1 = shelf.create_post("p1", false, Some(ann.id)).await.unwrap();
            let p2 = shelf.create_post("p2", true, Some(ann.id)).await.unwrap();
            let p3 = shelf.create_post("p3", false, Some(bob.id)).await.unwrap();
            for (body, score, post) in [("a", 1i64, &p1), ("c", 5, &p1), ("b", 4, &p1), ("d", 2, &p2), ("e", 5, &p2)] {
                shelf.create_comment(body, score, Some(post.id)).await.unwrap();
            }
            let rust = shelf.create_tag("rust", at(3)).await.unwrap();
            let elixir = shelf.create_tag("elixir", at(1)).await.unwrap();
            let db = shelf.create_tag("db", at(2)).await.unwrap();
            for (post, tag) in [(&p1, &rust), (&p1, &elixir), (&p2, &rust), (&p3, &db)] {
                shelf.tag_post(post.id, tag.id).await.unwrap();
            }
        }

        /// A timestamp `days` days and a few microseconds after the epoch (PostgreSQL keeps
        /// microseconds).
        fn at(days: u64) -> std::time::SystemTime {
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(days * 86_400) + std::time::Duration::from_micros(days)
        }

        fn all_loads(query: Query<Author>) -> Query<Author> {
            query
                .load(Author::TAG_TIMES)
                .load(Author::COMMENT_COUNT)
                .load(Author::SCORE_TOTAL)
                .load(Author::HIGH_COUNT)
                .load(Author::BEST)
                .load(Author::AVG_SCORE)
                .load(Author::HAS_COMMENTS)
                .load(Author::TOP_BODY)
                .load(Author::BODIES)
                .load(Author::TAG_COUNT)
                .load(Author::TAG_NAMES)
                .load(Author::RUST_COUNT)
                .load(Author::VISIBLE_COMMENT_COUNT)
                .load(Author::APPROVED_COUNT)
                .load(Author::TAGGED_POST_COUNT)
        }

        async fn authors(shelf: &Shelf, query: Query<Author>) -> Vec<Author> {
            ash_rs::api::read(shelf, AuthorReadInput::new(), query).await.unwrap()
        }

        fn named<'a>(authors: &'a [Author], name: &str) -> &'a Author {
            authors.iter().find(|a| a.name == name).unwrap()
        }

        fn names(authors: &[Author]) -> Vec<String> {
            authors.iter().map(|a| a.name.clone()).collect()
        }

        fn strings(s: &[&str]) -> Vec<String> {
            s.iter().map(|s| s.to_string()).collect()
        }

        #[tokio::test]
        async fn every_kind_through_two_relationships() {
            let Some(shelf) = connect().await else { return };
            seed(&shelf).await;
            let all = authors(&shelf, all_loads(Query::new())).await;
            let ann = named(&all, "ann");
            assert_eq!(ann.comment_count.get(), Ok(&5));
            assert_eq!(ann.score_total.get(), Ok(&17));
            assert_eq!(ann.high_count.get(), Ok(&3));
            assert_eq!(ann.best.get(), Ok(&Some(5)));
            assert_eq!(ann.avg_score.get(), Ok(&Some(3.4)));
            assert_eq!(ann.has_comments.get(), Ok(&true));
            // Scores 5 (c, e), then body ascending: across both posts.
            assert_eq!(ann.top_body.get(), Ok(&Some("c".to_string())));
            assert_eq!(ann.bodies.get().unwrap(), &strings(&["a", "b", "c", "d", "e"]));
            // rust through p1 and p2 counts twice (a join); `uniq` lists it once.
            assert_eq!(ann.tag_count.get(), Ok(&3));
            assert_eq!(ann.tag_names.get().unwrap(), &strings(&["elixir", "rust"]));
            // Each relationship's own filter: the last's (rust_tags, approved_comments)
            // and one before the last (visible_posts leaves out hidden p2).
            assert_eq!(ann.rust_count.get(), Ok(&2));
            assert_eq!(ann.approved_count.get(), Ok(&4));
            assert_eq!(ann.visible_comment_count.get(), Ok(&3));
            // Three hops: p1 -> rust, elixir -> (p1, p2), p1; p2 -> rust -> p1, p2.
            assert_eq!(ann.tagged_post_count.get(), Ok(&5));
            // Timestamps: rust (3) through two posts, once with `uniq`, latest first.
            assert_eq!(ann.tag_times.get().unwrap(), &vec![at(3), at(1)]);
            let bob = named(&all, "bob");
            assert_eq!(bob.comment_count.get(), Ok(&0));
            assert_eq!(bob.score_total.get(), Ok(&0));
            assert_eq!(bob.best.get(), Ok(&None));
            assert_eq!(bob.avg_score.get(), Ok(&None));
            assert_eq!(bob.has_comments.get(), Ok(&false));
            assert_eq!(bob.top_body.get(), Ok(&None));
            assert_eq!(bob.tag_count.get(), Ok(&1));
            assert_eq!(bob.tag_names.get().unwrap(), &strings(&["db"]));
            assert_eq!(bob.rust_count.get(), Ok(&0));
            assert_eq!(bob.tagged_post_count.get(), Ok(&1));
            let cat = named(&all, "cat");
            assert_eq!(cat.comment_count.get(), Ok(&0));
            assert_eq!(cat.tag_count.get(), Ok(&0));
            assert_eq!(cat.bodies.get().unwrap(), &Vec::<String>::new());
            assert_eq!(cat.tag_names.get().unwrap(), &Vec::<String>::new());
        }

        #[tokio::test]
        async fn over_a_many_to_many_and_a_filtered_relationship() {
            let Some(shelf) = connect().await else { return };
            seed(&shelf).await;
            let posts = ash_rs::api::read(
                &shelf,
                PostReadInput::new(),
                Query::new()
                    .load(Post::TAG_COUNT)
                    .load(Post::TAG_NAMES)
                    .load(Post::APPROVED_COUNT)
                    .sort_by(Post::TITLE.asc()),
            )
            .await
            .unwrap();
            let counts: Vec<(i64, i64)> = posts
                .iter()
                .map(|p| (*p.tag_count.get().unwrap(), *p.approved_count.get().unwrap()))
                .collect();
            assert_eq!(counts, [(2, 2), (1, 2), (1, 0)]);
            assert_eq!(posts[0].tag_names.get().unwrap(), &strings(&["elixir", "rust"]));
            // Lists of UUIDs and of timestamps, and a max of timestamps.
            let tags = ash_rs::api::read(&shelf, TagReadInput::new(), Query::new().sort_by(Tag::NAME.asc())).await.unwrap();
            let id = |name: &str| tags.iter().find(|t| t.name == name).unwrap().id;
            let p1 = ash_rs::api::read(
                &shelf,
                PostReadInput::new(),
                Query::new()
                    .filter(Post::TITLE.eq("p1"))
                    .load(Post::TAG_IDS)
                    .load(Post::TAG_TIMES)
                    .load(Post::LAST_TAGGED),
            )
            .await
            .unwrap();
            assert_eq!(p1[0].tag_ids.get().unwrap(), &vec![id("elixir"), id("rust")]);
            assert_eq!(p1[0].tag_times.get().unwrap(), &vec![at(1), at(3)]);
            assert_eq!(p1[0].last_tagged.get(), Ok(&Some(at(3))));
            let loaded = shelf.load(&posts, Post::TAG_TIMES).await.unwrap();
            assert_eq!(loaded[2].tag_times.get().unwrap(), &vec![at(2)]);
            let tags = ash_rs::api::read(
                &shelf,
                TagReadInput::new(),
                Query::new().load(Tag::AUTHORS).sort_by(Tag::NAME.asc()),
            )
            .await
            .unwrap();
            let authors: Vec<Vec<String>> = tags.iter().map(|t| t.authors.get().unwrap().clone()).collect();
            assert_eq!(authors, [strings(&["bob"]), strings(&["ann"]), strings(&["ann"])]);
        }

        #[tokio::test]
        async fn to_one_path() {
            let Some(shelf) = connect().await else { return };
            seed(&shelf).await;
            let comments = ash_rs::api::read(
                &shelf,
                CommentReadInput::new(),
                Query::new()
                    .load(Comment::AUTHOR_NAME)
                    .filter(Comment::AUTHOR_NAME.eq("ann")),
            )
            .await
            .unwrap();
            assert_eq!(comments.len(), 5);
            assert!(comments.iter().all(|c| c.author_name.get() == Ok(&Some("ann".to_string()))));
        }

        #[tokio::test]
        async fn filter_and_sort_on_a_path_aggregate() {
            let Some(shelf) = connect().await else { return };
            seed(&shelf).await;
            let q = |f| Query::new().filter(f).sort_by(Author::NAME.asc());
            assert_eq!(names(&authors(&shelf, q(Author::COMMENT_COUNT.gt(0))).await), ["ann"]);
            assert_eq!(names(&authors(&shelf, q(Author::TAG_COUNT.eq(1))).await), ["bob"]);
            // The default takes part: bob's and cat's totals are 0.
            assert_eq!(names(&authors(&shelf, q(Author::SCORE_TOTAL.lt(1))).await), ["bob", "cat"]);
            assert_eq!(names(&authors(&shelf, q(Author::VISIBLE_COMMENT_COUNT.eq(3))).await), ["ann"]);
            let sorted = authors(
                &shelf,
                Query::new()
                    .sort_by(Author::TAG_COUNT.desc())
                    .sort_by(Author::NAME.asc())
                    .load(Author::TAG_COUNT),
            )
            .await;
            assert_eq!(names(&sorted), ["ann", "bob", "cat"]);
            let page = authors(&shelf, Query::new().sort_by(Author::BEST.asc()).sort_by(Author::NAME.desc()).limit(2)).await;
            // best: ann 5, bob and cat nil (last ascending, then name descending).
            assert_eq!(names(&page), ["ann", "cat"]);
        }

        #[tokio::test]
        async fn load_onto_records_already_read() {
            let Some(shelf) = connect().await else { return };
            seed(&shelf).await;
            let all = authors(&shelf, Query::new().sort_by(Author::NAME.asc())).await;
            let all = shelf.load(&all, Author::TAG_NAMES).await.unwrap();
            let all = shelf.load(&all, Author::SCORE_TOTAL).await.unwrap();
            assert_eq!(all[0].tag_names.get().unwrap(), &strings(&["elixir", "rust"]));
            assert_eq!(all[0].score_total.get(), Ok(&17));
            assert_eq!(all[2].score_total.get(), Ok(&0));
            // The same record twice among the parents: both get the value.
            let twice = vec![all[0].clone(), all[0].clone()];
            let twice = shelf.load(&twice, Author::COMMENT_COUNT).await.unwrap();
            assert_eq!(twice[1].comment_count.get(), Ok(&5));
            // Nested in a relationship load.
            let nested = authors(&shelf, Query::new().load(Author::POSTS.load(Post::TAG_COUNT)).filter(Author::NAME.eq("ann"))).await;
            let mut counts: Vec<i64> = nested[0].posts.get().unwrap().iter().map(|p| *p.tag_count.get().unwrap()).collect();
            counts.sort();
            assert_eq!(counts, [1, 2]);
        }

        #[tokio::test]
        async fn an_offset_page_sorted_by_an_aggregate() {
            let Some(shelf) = connect().await else { return };
            seed(&shelf).await;
            let page = |n: usize| {
                let shelf = shelf.clone();
                async move {
                    ash_rs::api::read_page(
                        &shelf,
                        AuthorPagedInput::new(),
                        Query::new()
                            .sort_by(Author::SCORE_TOTAL.asc())
                            .sort_by(Author::NAME.desc())
                            .load(Author::SCORE_TOTAL),
                        PageRequest::offset(n).count(),
                    )
                    .await
                    .unwrap()
                }
            };
            // score_total: cat 0, bob 0 (name descending between them), ann 17.
            let first = page(0).await;
            assert_eq!(names(&first.results), ["cat", "bob"]);
            assert_eq!(first.count, Some(3));
            assert!(first.more);
            assert_eq!(first.results[0].score_total.get(), Ok(&0));
            let second = page(2).await;
            assert_eq!(names(&second.results), ["ann"]);
            assert_eq!(second.results[0].score_total.get(), Ok(&17));
            assert!(!second.more);
            // Filtered, then paged.
            let filtered = ash_rs::api::read_page(
                &shelf,
                AuthorPagedInput::new(),
                Query::new().filter(Author::TAG_COUNT.gt(0)).sort_by(Author::TAG_COUNT.desc()),
                PageRequest::offset(0).limit(1),
            )
            .await
            .unwrap();
            assert_eq!(names(&filtered.results), ["ann"]);
            assert!(filtered.more);
            // A keyset holds attribute values: a keyset page sorted by an aggregate is refused.
            let keyset = ash_rs::api::read_page(
                &shelf,
                AuthorPagedInput::new(),
                Query::new().sort_by(Author::SCORE_TOTAL.asc()),
                PageRequest::first(),
            )
            .await;
            let message = keyset.unwrap_err().to_string();
            assert!(message.contains("keyset page cannot sort by an aggregate"), "{message}");
        }

        #[tokio::test]
        async fn path_descriptors_are_static_facts() {
            let info = Author::TAGGED_POST_COUNT.info();
            let path: Vec<&str> = info.path.iter().map(|r| r.name).collect();
            assert_eq!(path, ["posts", "tags", "posts"]);
            assert_eq!(info.relationship.name, "posts");
            assert_eq!(info.destination().destination, "Post");
        }
    };
}

mod ets_paths {
    paths!(data_layer = [Ets]);

    async fn connect() -> Option<Shelf> {
        Some(Shelf::new())
    }
}

#[cfg(feature = "postgres")]
mod postgres_paths {
    use crate::pg_support::TestDb;
    use ash_rs::domain::HasResource;
    paths!(data_layer = [ash_rs::postgres::Postgres]);

    async fn connect() -> Option<Shelf> {
        let db = TestDb::new().await?;
        let shelf = Shelf::connect(&db.pool).await.unwrap();
        std::mem::forget(db);
        Some(shelf)
    }

    fn statements(shelf: &Shelf) -> u64 {
        HasResource::<Author>::data_layer(shelf).statement_count()
            + HasResource::<Post>::data_layer(shelf).statement_count()
            + HasResource::<Comment>::data_layer(shelf).statement_count()
            + HasResource::<Tag>::data_layer(shelf).statement_count()
            + HasResource::<PostTag>::data_layer(shelf).statement_count()
    }

    #[tokio::test]
    async fn a_read_with_path_aggregates_is_one_statement() {
        let Some(shelf) = connect().await else { return };
        seed(&shelf).await;
        let before = statements(&shelf);
        let read = authors(
            &shelf,
            all_loads(
                Query::new()
                    .filter(Author::COMMENT_COUNT.gte(0) & Author::TAG_COUNT.gt(0))
                    .sort_by(Author::SCORE_TOTAL.desc()),
            ),
        )
        .await;
        assert_eq!(statements(&shelf) - before, 1);
        assert_eq!(names(&read), ["ann", "bob"]);
        let plain = authors(&shelf, Query::new().sort_by(Author::NAME.asc())).await;
        let before = statements(&shelf);
        let loaded = shelf.load(&plain, Author::TAG_NAMES).await.unwrap();
        assert_eq!(statements(&shelf) - before, 1);
        assert_eq!(loaded[1].tag_names.get().unwrap(), &strings(&["db"]));
    }
}
