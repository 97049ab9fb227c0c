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
