//! Relationships, one suite expanded for ETS and for PostgreSQL (`relationships!` below):
//! the four kinds, batched and nested loads (with statement counts on PostgreSQL), per-load
//! queries, loading onto records already read, filters across relationships, dangling and
//! nil foreign keys, and referential integrity (a dangling belongs_to refused on create and
//! update, `on_delete` restrict, cascade through two levels and nilify, the race between
//! creating a child and destroying its parent).

#[cfg(feature = "postgres")]
#[path = "pg_support/mod.rs"]
mod pg_support;

macro_rules! relationships {
    (data_layer = [$($data_layer:tt)*] $(,)?) => {
        use ash_rs::prelude::*;
        use ash_rs::relationship::NotLoaded;

        #[resource(domain = Blog, data_layer = $($data_layer)*)]
        #[actions(defaults(read, destroy, create = [name]))]
        #[relationships(has_many(posts, Post, destination_attribute = author_id), has_one(profile, Profile))]
        #[derive(Debug, Clone, PartialEq)]
        pub struct User {
            #[uuid_primary_key]
            pub id: Uuid,
            pub name: String,
        }

        #[resource(domain = Blog, data_layer = $($data_layer)*)]
        #[actions(defaults(read, destroy, create = [bio, user_id]))]
        #[relationships(belongs_to(user, User))]
        #[derive(Debug, Clone, PartialEq)]
        pub struct Profile {
            #[uuid_primary_key]
            pub id: Uuid,
            pub bio: String,
        }

        #[resource(domain = Blog, data_layer = $($data_layer)*)]
        #[actions(defaults(read, destroy, create = [title, author_id], update = [title, author_id]))]
        #[relationships(
            belongs_to(author, User),
            has_many(comments, Comment),
            many_to_many(tags, Tag, through = PostTag),
            has_many(top_comments, Comment, filter = Comment::SCORE.gt(2), sort = [Comment::SCORE.desc()]),
            many_to_many(rust_tags, Tag, through = PostTag, filter = Tag::LABEL.eq("rust")),
            has_many(notes, Note),
        )]
        #[derive(Debug, Clone, PartialEq)]
        pub struct Post {
            #[uuid_primary_key]
            pub id: Uuid,
            pub title: String,
        }

        #[resource(domain = Blog, data_layer = $($data_layer)*)]
        #[actions(defaults(read, destroy, create = [body, score, post_id, author_id]))]
        #[relationships(belongs_to(post, Post), belongs_to(author, User))]
        #[derive(Debug, Clone, PartialEq)]
        pub struct Comment {
            #[uuid_primary_key]
            pub id: Uuid,
            pub body: String,
            pub score: i64,
        }

        #[resource(domain = Blog, data_layer = $($data_layer)*)]
        #[actions(defaults(read, destroy, create = [label]))]
        #[relationships(many_to_many(posts, Post, through = PostTag))]
        #[derive(Debug, Clone, PartialEq)]
        pub struct Tag {
            #[uuid_primary_key]
            pub id: Uuid,
            pub label: String,
        }

        #[resource(domain = Blog, data_layer = $($data_layer)*)]
        #[actions(defaults(read, destroy, create = [post_id, tag_id]))]
        #[relationships(belongs_to(post, Post, allow_nil = false), belongs_to(tag, Tag, allow_nil = false))]
        #[derive(Debug, Clone, PartialEq)]
        pub struct PostTag {
            #[uuid_primary_key]
            pub id: Uuid,
        }

        // Referential actions: a forum's threads go with it, a thread's replies go with
        // it, a thread's bookmarks lose it, and a pinned reply holds everything above it.
        #[resource(domain = Blog, data_layer = $($data_layer)*)]
        #[actions(defaults(read, destroy, create = [name]))]
        #[derive(Debug, Clone, PartialEq)]
        pub struct Forum {
            #[uuid_primary_key]
            pub id: Uuid,
            pub name: String,
        }

        #[resource(domain = Blog, data_layer = $($data_layer)*)]
        #[actions(defaults(read, destroy, create = [title, forum_id]))]
        #[relationships(belongs_to(forum, Forum, on_delete = cascade))]
        #[derive(Debug, Clone, PartialEq)]
        pub struct Thread {
            #[uuid_primary_key]
            pub id: Uuid,
            pub title: String,
        }

        #[resource(domain = Blog, data_layer = $($data_layer)*)]
        #[actions(defaults(read, destroy, create = [body, thread_id]))]
        #[relationships(belongs_to(thread, Thread, on_delete = cascade))]
        #[derive(Debug, Clone, PartialEq)]
        pub struct Reply {
            #[uuid_primary_key]
            pub id: Uuid,
            pub body: String,
        }

        #[resource(domain = Blog, data_layer = $($data_layer)*)]
        #[actions(defaults(read, destroy, create = [note, thread_id]))]
        #[relationships(belongs_to(thread, Thread, on_delete = nilify))]
        #[derive(Debug, Clone, PartialEq)]
        pub struct Bookmark {
            #[uuid_primary_key]
            pub id: Uuid,
            pub note: String,
        }

        #[resource(domain = Blog, data_layer = $($data_layer)*)]
        #[actions(defaults(read, destroy, create = [reply_id]))]
        #[relationships(belongs_to(reply, Reply, allow_nil = false))]
        #[derive(Debug, Clone, PartialEq)]
        pub struct Pin {
            #[uuid_primary_key]
            pub id: Uuid,
        }

        /// A tree: a node's children go with it, at every depth (one relationship, one
        /// table, one foreign key referring to its own table).
        #[resource(domain = Blog, data_layer = $($data_layer)*)]
        #[actions(defaults(read, destroy, create = [text, parent_id]))]
        #[relationships(belongs_to(parent, Node, on_delete = cascade))]
        #[derive(Debug, Clone, PartialEq)]
        pub struct Node {
            #[uuid_primary_key]
            pub id: Uuid,
            pub text: String,
        }

        /// A child with no belongs_to back to `Post`: `Post::NOTES` loads it by `post_id`.
        #[resource(domain = Blog, data_layer = $($data_layer)*)]
        #[actions(defaults(read, create = [text, post_id], update = [post_id]))]
        #[derive(Debug, Clone, PartialEq)]
        pub struct Note {
            #[uuid_primary_key]
            pub id: Uuid,
            pub text: String,
            pub post_id: Option<Uuid>,
        }

        /// A review's post is set once, by a change, never by an action's input.
        #[resource(domain = Blog, data_layer = $($data_layer)*)]
        #[actions(defaults(read, create = [stars]))]
        #[relationships(belongs_to(post, Post, writable = false))]
        #[derive(Debug, Clone, PartialEq)]
        pub struct Review {
            #[uuid_primary_key]
            pub id: Uuid,
            pub stars: i64,
        }

        #[domain]
        #[resources(
            User(define(create_user, action = create, args = [name]), define(users, action = read)),
            Profile(define(create_profile, action = create, args = [bio, user_id])),
            Post(
                define(create_post, action = create, args = [title, author_id]),
                define(posts, action = read),
                define(update_post, action = update),
                define(get_post, action = read, get_by = [id], load = [comments, author]),
                define(posts_with_comments, action = read, load = [comments]),
                define(find_post, action = read, get_by = [title], not_found_error = false, load = [author]),
            ),
            Note(
                define(create_note, action = create, args = [text, post_id]),
                define(update_note, action = update),
            ),
            Review(),
            Comment(define(create_comment, action = create, args = [body, score, post_id, author_id])),
            Tag(define(create_tag, action = create, args = [label])),
            PostTag(define(tag_post, action = create, args = [post_id, tag_id])),
            Forum(define(create_forum, action = create, args = [name])),
            Thread(define(create_thread, action = create, args = [title, forum_id])),
            Reply(define(create_reply, action = create, args = [body, thread_id])),
            Bookmark(define(create_bookmark, action = create, args = [note, thread_id])),
            Pin(define(create_pin, action = create, args = [reply_id])),
            Node(define(create_node, action = create, args = [text, parent_id])),
        )]
        pub struct Blog;

        struct Seed {
            ann: User,
            bob: User,
            first: Post,
            second: Post,
            orphan: Post,
            rust: Tag,
            elixir: Tag,
        }

        async fn seed(blog: &Blog) -> Seed {
            let ann = blog.create_user("ann").await.unwrap();
            let bob = blog.create_user("bob").await.unwrap();
            blog.create_profile("ann's bio", Some(ann.id)).await.unwrap();
            let first = blog.create_post("first", Some(ann.id)).await.unwrap();
            let second = blog.create_post("second", Some(bob.id)).await.unwrap();
            let orphan = blog.create_post("orphan", None).await.unwrap();
            for (i, score) in [1i64, 5, 3].into_iter().enumerate() {
                blog.create_comment(format!("c{i}"), score, Some(first.id), Some(bob.id))
                    .await
                    .unwrap();
            }
            blog.create_comment("on second", 4i64, Some(second.id), Some(ann.id))
                .await
                .unwrap();
            let rust = blog.create_tag("rust").await.unwrap();
            let elixir = blog.create_tag("elixir").await.unwrap();
            blog.tag_post(first.id, rust.id).await.unwrap();
            blog.tag_post(first.id, elixir.id).await.unwrap();
            blog.tag_post(second.id, rust.id).await.unwrap();
            Seed { ann, bob, first, second, orphan, rust, elixir }
        }

        fn by_title(posts: &[Post], title: &str) -> Post {
            posts.iter().find(|p| p.title == title).cloned().unwrap()
        }

        async fn read_posts(blog: &Blog, query: Query<Post>) -> Vec<Post> {
            ash_rs::api::read(blog, PostReadInput::new(), query).await.unwrap()
        }

        #[tokio::test]
        async fn unloaded_is_not_loaded_not_empty() {
            let Some(blog) = connect().await else { return };
            seed(&blog).await;
            let posts = blog.posts().await.unwrap();
            assert_eq!(posts[0].comments.get(), Err(NotLoaded));
            assert!(!posts[0].author.is_loaded());
        }

        #[tokio::test]
        async fn has_many_loads_each_parents_children() {
            let Some(blog) = connect().await else { return };
            let s = seed(&blog).await;
            let posts = read_posts(&blog, Query::new().load(Post::COMMENTS)).await;
            let first = by_title(&posts, "first");
            let mut bodies: Vec<_> = first.comments.get().unwrap().iter().map(|c| c.body.clone()).collect();
            bodies.sort();
            assert_eq!(bodies, ["c0", "c1", "c2"]);
            assert_eq!(by_title(&posts, "second").comments.get().unwrap().len(), 1);
            assert_eq!(by_title(&posts, "orphan").comments.get().unwrap(), &Vec::<Comment>::new());
            let _ = s.orphan;
        }

        #[tokio::test]
        async fn belongs_to_loads_the_parent_and_nil_is_none() {
            let Some(blog) = connect().await else { return };
            let s = seed(&blog).await;
            let posts = read_posts(&blog, Query::new().load(Post::AUTHOR)).await;
            assert_eq!(by_title(&posts, "first").author.get().unwrap().as_ref().map(|u| u.id), Some(s.ann.id));
            assert_eq!(by_title(&posts, "second").author.get().unwrap().as_ref().map(|u| u.id), Some(s.bob.id));
            assert_eq!(by_title(&posts, "orphan").author.get().unwrap(), &None);
        }

        #[tokio::test]
        async fn has_one_loads_one_or_none() {
            let Some(blog) = connect().await else { return };
            seed(&blog).await;
            let users = ash_rs::api::read(&blog, UserReadInput::new(), Query::new().load(User::PROFILE)).await.unwrap();
            let ann = users.iter().find(|u| u.name == "ann").unwrap();
            let bob = users.iter().find(|u| u.name == "bob").unwrap();
            assert_eq!(ann.profile.get().unwrap().as_ref().map(|p| p.bio.as_str()), Some("ann's bio"));
            assert_eq!(bob.profile.get().unwrap(), &None);
        }

        #[tokio::test]
        async fn many_to_many_loads_through_the_join() {
            let Some(blog) = connect().await else { return };
            let s = seed(&blog).await;
            let posts = read_posts(&blog, Query::new().load(Post::TAGS.query(Query::new().sort_by(Tag::LABEL.asc())))).await;
            let labels = |p: &Post| p.tags.get().unwrap().iter().map(|t| t.label.clone()).collect::<Vec<_>>();
            assert_eq!(labels(&by_title(&posts, "first")), ["elixir", "rust"]);
            assert_eq!(labels(&by_title(&posts, "second")), ["rust"]);
            assert!(labels(&by_title(&posts, "orphan")).is_empty());
            let tags = ash_rs::api::read(&blog, TagReadInput::new(), Query::new().load(Tag::POSTS)).await.unwrap();
            let rust = tags.iter().find(|t| t.id == s.rust.id).unwrap();
            assert_eq!(rust.posts.get().unwrap().len(), 2);
            let elixir = tags.iter().find(|t| t.id == s.elixir.id).unwrap();
            assert_eq!(elixir.posts.get().unwrap().len(), 1);
        }

        #[tokio::test]
        async fn nested_loads_three_levels() {
            let Some(blog) = connect().await else { return };
            let s = seed(&blog).await;
            let query = Query::new().load(Post::COMMENTS.load(Comment::AUTHOR.load(User::PROFILE)));
            let posts = read_posts(&blog, query).await;
            let second = by_title(&posts, "second");
            let comment = &second.comments.get().unwrap()[0];
            let author = comment.author.get().unwrap().as_ref().unwrap();
            assert_eq!(author.id, s.ann.id);
            assert_eq!(author.profile.get().unwrap().as_ref().unwrap().bio, "ann's bio");
        }

        #[tokio::test]
        async fn per_load_query_filters_sorts_and_limits_per_parent() {
            let Some(blog) = connect().await else { return };
            seed(&blog).await;
            let top = Query::new().filter(Comment::SCORE.gt(1)).sort_by(Comment::SCORE.desc()).limit(1);
            let posts = read_posts(&blog, Query::new().load(Post::COMMENTS.query(top))).await;
            let first = by_title(&posts, "first");
            let scores: Vec<i64> = first.comments.get().unwrap().iter().map(|c| c.score).collect();
            assert_eq!(scores, [5]);
            let second = by_title(&posts, "second");
            assert_eq!(second.comments.get().unwrap().len(), 1);
        }

        #[tokio::test]
        async fn offset_per_parent() {
            let Some(blog) = connect().await else { return };
            seed(&blog).await;
            let q = Query::new().sort_by(Comment::SCORE.asc()).offset(1).limit(5);
            let posts = read_posts(&blog, Query::new().load(Post::COMMENTS.query(q))).await;
            let scores: Vec<i64> = by_title(&posts, "first").comments.get().unwrap().iter().map(|c| c.score).collect();
            assert_eq!(scores, [3, 5]);
            assert!(by_title(&posts, "second").comments.get().unwrap().is_empty());
        }

        #[tokio::test]
        async fn load_onto_records_already_read() {
            let Some(blog) = connect().await else { return };
            seed(&blog).await;
            let posts = blog.posts().await.unwrap();
            let loaded = blog.load(&posts, Post::COMMENTS).await.unwrap();
            assert_eq!(by_title(&loaded, "first").comments.get().unwrap().len(), 3);
            let mut posts = posts;
            blog.load_into(&mut posts, Post::AUTHOR).await.unwrap();
            assert!(posts.iter().all(|p| p.author.is_loaded()));
        }

        #[tokio::test]
        async fn loading_many_relationships_at_once() {
            let Some(blog) = connect().await else { return };
            seed(&blog).await;
            let posts = read_posts(&blog, Query::new().load(Post::AUTHOR).load(Post::COMMENTS).load(Post::TAGS)).await;
            let first = by_title(&posts, "first");
            assert!(first.author.is_loaded() && first.comments.is_loaded() && first.tags.is_loaded());
        }

        #[tokio::test]
        async fn exists_filters_through_has_many() {
            let Some(blog) = connect().await else { return };
            seed(&blog).await;
            let posts = read_posts(&blog, Query::new().filter(exists(Post::COMMENTS, Comment::SCORE.gt(4)))).await;
            let titles: Vec<_> = posts.iter().map(|p| p.title.as_str()).collect();
            assert_eq!(titles, ["first"]);
            let posts = read_posts(&blog, Query::new().filter(exists(Post::COMMENTS, Comment::SCORE.gt(3)))).await;
            assert_eq!(posts.len(), 2);
        }

        #[tokio::test]
        async fn path_through_belongs_to() {
            let Some(blog) = connect().await else { return };
            seed(&blog).await;
            let posts = read_posts(&blog, Query::new().filter(Post::AUTHOR.then(User::NAME).eq("ann"))).await;
            let titles: Vec<_> = posts.iter().map(|p| p.title.as_str()).collect();
            assert_eq!(titles, ["first"]);
        }

        #[tokio::test]
        async fn nil_in_the_middle_of_a_path_matches_nothing() {
            let Some(blog) = connect().await else { return };
            seed(&blog).await;
            let posts = read_posts(&blog, Query::new().filter(Post::AUTHOR.then(User::NAME).not_eq("nobody"))).await;
            assert!(posts.iter().all(|p| p.title != "orphan"));
            assert_eq!(posts.len(), 2);
        }

        #[tokio::test]
        async fn negated_exists() {
            let Some(blog) = connect().await else { return };
            seed(&blog).await;
            let posts = read_posts(&blog, Query::new().filter(!exists(Post::COMMENTS, Comment::SCORE.gt(0)))).await;
            let titles: Vec<_> = posts.iter().map(|p| p.title.as_str()).collect();
            assert_eq!(titles, ["orphan"]);
        }

        #[tokio::test]
        async fn exists_through_many_to_many() {
            let Some(blog) = connect().await else { return };
            seed(&blog).await;
            let posts = read_posts(&blog, Query::new().filter(exists(Post::TAGS, Tag::LABEL.eq("elixir")))).await;
            let titles: Vec<_> = posts.iter().map(|p| p.title.as_str()).collect();
            assert_eq!(titles, ["first"]);
        }

        #[tokio::test]
        async fn nested_path_two_levels() {
            let Some(blog) = connect().await else { return };
            seed(&blog).await;
            // Posts with a comment by a user whose profile says "ann's bio".
            let filter = exists(Post::COMMENTS, exists(Comment::AUTHOR, exists(User::PROFILE, Profile::BIO.eq("ann's bio"))));
            let posts = read_posts(&blog, Query::new().filter(filter)).await;
            let titles: Vec<_> = posts.iter().map(|p| p.title.as_str()).collect();
            assert_eq!(titles, ["second"]);
        }

        #[tokio::test]
        async fn filter_and_load_together() {
            let Some(blog) = connect().await else { return };
            seed(&blog).await;
            let query = Query::new().filter(Post::AUTHOR.then(User::NAME).eq("bob")).load(Post::AUTHOR);
            let posts = read_posts(&blog, query).await;
            assert_eq!(posts.len(), 1);
            assert_eq!(posts[0].author.get().unwrap().as_ref().unwrap().name, "bob");
        }

        #[tokio::test]
        async fn foreign_key_update_moves_the_child() {
            let Some(blog) = connect().await else { return };
            let s = seed(&blog).await;
            blog.update_post(&s.second, PostUpdateInput::new().author_id(Some(s.ann.id))).await.unwrap();
            let users = ash_rs::api::read(&blog, UserReadInput::new(), Query::new().load(User::POSTS)).await.unwrap();
            let ann = users.iter().find(|u| u.id == s.ann.id).unwrap();
            let bob = users.iter().find(|u| u.id == s.bob.id).unwrap();
            assert_eq!(ann.posts.get().unwrap().len(), 2);
            assert!(bob.posts.get().unwrap().is_empty());
        }

        #[tokio::test]
        async fn destroyed_child_leaves_the_load() {
            let Some(blog) = connect().await else { return };
            seed(&blog).await;
            let posts = read_posts(&blog, Query::new().load(Post::COMMENTS)).await;
            let second = by_title(&posts, "second");
            let comment = second.comments.get().unwrap()[0].clone();
            ash_rs::api::destroy(&blog, &comment, CommentDestroyInput::new()).await.unwrap();
            // Already loaded: not loaded again (0 operations) ...
            let same = blog.load(std::slice::from_ref(&second), Post::COMMENTS).await.unwrap();
            assert_eq!(same[0].comments.get().unwrap().len(), 1);
            // ... until it is reset.
            let mut fresh = second;
            fresh.comments = Loaded::not_loaded();
            let again = blog.load(&[fresh], Post::COMMENTS).await.unwrap();
            assert!(again[0].comments.get().unwrap().is_empty());
        }

        #[tokio::test]
        async fn the_same_relationship_both_ways() {
            let Some(blog) = connect().await else { return };
            let s = seed(&blog).await;
            let users = ash_rs::api::read(&blog, UserReadInput::new(), Query::new().load(User::POSTS.load(Post::AUTHOR))).await.unwrap();
            let ann = users.iter().find(|u| u.id == s.ann.id).unwrap();
            let post = &ann.posts.get().unwrap()[0];
            assert_eq!(post.id, s.first.id);
            assert_eq!(post.author.get().unwrap().as_ref().unwrap().id, s.ann.id);
        }

        #[tokio::test]
        async fn empty_parents_load_nothing() {
            let Some(blog) = connect().await else { return };
            let loaded = blog.load(&Vec::<Post>::new(), Post::COMMENTS).await.unwrap();
            assert!(loaded.is_empty());
        }

        #[tokio::test]
        async fn descriptors_are_static_facts() {
            use ash_rs::relationship::{RelationshipKind, Relationship};
            let info = Post::COMMENTS.info();
            assert_eq!((info.kind, info.source_attribute, info.destination_attribute), (RelationshipKind::HasMany, "id", "post_id"));
            let info = Post::AUTHOR.info();
            assert_eq!((info.kind, info.source_attribute, info.destination_attribute), (RelationshipKind::BelongsTo, "author_id", "id"));
            let tags = Post::TAGS.info().through.unwrap();
            assert_eq!((tags.source_attribute_on_join_resource, tags.destination_attribute_on_join_resource), ("post_id", "tag_id"));
            assert_eq!(<Post as Resource>::RELATIONSHIPS.len(), 6);
            let _ = second_of(&Seed::default_names());
        }

        impl Seed {
            fn default_names() -> [&'static str; 2] { ["first", "second"] }
        }
        fn second_of(names: &[&'static str; 2]) -> &'static str { names[1] }


        // ---- referential integrity -------------------------------------------------

        async fn all<R, A>(blog: &Blog, input: A) -> Vec<R>
        where
            R: Resource,
            A: ash_rs::action::ReadAction<Resource = R>,
            Blog: ash_rs::domain::HasResource<R>,
        {
            ash_rs::api::read(blog, input, Query::new()).await.unwrap()
        }

        fn only(error: &ash_rs::error::Error) -> &ErrorKind {
            assert_eq!(error.class(), ash_rs::error::ErrorClass::Invalid, "{error}");
            assert_eq!(error.errors().len(), 1, "{error}");
            &error.errors()[0]
        }

        fn missing_author() -> ErrorKind {
            ErrorKind::ReferenceNotFound(ash_rs::error::ReferenceNotFound {
                resource: "Post",
                relationship: "author",
                field: "author_id",
                destination: "User",
                destination_attribute: "id",
            })
        }

        fn still(resource: &'static str, referencing: &str, relationship: &str, field: &str) -> ErrorKind {
            ErrorKind::StillReferenced(ash_rs::error::StillReferenced {
                resource,
                referencing: referencing.into(),
                relationship: relationship.into(),
                field: field.into(),
            })
        }

        #[tokio::test]
        async fn a_dangling_belongs_to_on_create_is_refused_and_nothing_is_written() {
            let Some(blog) = connect().await else { return };
            let err = blog.create_post("lost", Some(Uuid::new_v4())).await.unwrap_err();
            assert_eq!(only(&err), &missing_author());
            assert_eq!(only(&err).field(), Some("author_id"));
            assert_eq!(
                err.to_string(),
                "Invalid Error\n\n* author_id: no User with this id exists (relationship `author` of Post)"
            );
            assert!(blog.posts().await.unwrap().is_empty());
            // Not nilable (`allow_nil = false`) and dangling: refused the same way.
            let err = blog.tag_post(Uuid::new_v4(), Uuid::new_v4()).await.unwrap_err();
            assert!(matches!(only(&err), ErrorKind::ReferenceNotFound(r) if r.resource == "PostTag" && r.field == "post_id"));
            assert!(all(&blog, PostTagReadInput::new()).await.is_empty());
        }

        #[tokio::test]
        async fn a_dangling_belongs_to_on_update_is_refused_and_nothing_is_written() {
            let Some(blog) = connect().await else { return };
            let s = seed(&blog).await;
            let err = blog
                .update_post(&s.first, PostUpdateInput::new().title("moved").author_id(Some(Uuid::new_v4())))
                .await
                .unwrap_err();
            assert_eq!(only(&err), &missing_author());
            let stored = by_title(&blog.posts().await.unwrap(), "first");
            assert_eq!(stored.author_id, Some(s.ann.id));
            // An update that leaves the key alone is not checked again; one to an existing
            // record or to nil is accepted.
            blog.update_post(&s.first, PostUpdateInput::new().title("renamed")).await.unwrap();
            let moved = blog.update_post(&s.second, PostUpdateInput::new().author_id(Some(s.ann.id))).await.unwrap();
            assert_eq!(moved.author_id, Some(s.ann.id));
            let cleared = blog.update_post(&moved, PostUpdateInput::new().author_id(None)).await.unwrap();
            assert_eq!(cleared.author_id, None);
        }

        #[tokio::test]
        async fn a_dangling_belongs_to_on_upsert_is_refused_and_nothing_is_written() {
            let Some(blog) = connect().await else { return };
            let input = PostCreateInput::new().title("u").author_id(Some(Uuid::new_v4()));
            let err = ash_rs::api::upsert(&blog, input, ash_rs::identity::Upsert::primary_key())
                .await
                .unwrap_err();
            assert_eq!(only(&err), &missing_author());
            assert!(blog.posts().await.unwrap().is_empty());
        }

        #[tokio::test]
        async fn a_nil_foreign_key_refers_to_nothing_and_is_accepted() {
            let Some(blog) = connect().await else { return };
            let post = blog.create_post("alone", None).await.unwrap();
            assert_eq!(post.author_id, None);
            let forum_less = blog.create_thread("t", None).await.unwrap();
            assert_eq!(forum_less.forum_id, None);
        }

        #[tokio::test]
        async fn destroying_a_referenced_record_is_restricted_and_destroys_nothing() {
            let Some(blog) = connect().await else { return };
            let s = seed(&blog).await;
            // `rust` is tagged on two posts (PostTag.tag, on_delete restrict by default).
            let err = ash_rs::api::destroy(&blog, &s.rust, TagDestroyInput::new()).await.unwrap_err();
            assert_eq!(only(&err), &still("Tag", "PostTag", "tag", "tag_id"));
            assert!(err.to_string().contains("cannot destroy this Tag: PostTag records refer to it through `tag` (tag_id)"), "{err}");
            assert_eq!(all(&blog, TagReadInput::new()).await.len(), 2);
            assert_eq!(all(&blog, PostTagReadInput::new()).await.len(), 3);
            // Once nothing refers to it, it goes.
            for join in all(&blog, PostTagReadInput::new()).await.into_iter().filter(|j| j.tag_id == s.rust.id) {
                ash_rs::api::destroy(&blog, &join, PostTagDestroyInput::new()).await.unwrap();
            }
            ash_rs::api::destroy(&blog, &s.rust, TagDestroyInput::new()).await.unwrap();
            assert_eq!(all(&blog, TagReadInput::new()).await.len(), 1);
        }

        #[tokio::test]
        async fn on_delete_cascade_destroys_the_children() {
            let Some(blog) = connect().await else { return };
            let f = blog.create_forum("f").await.unwrap();
            let g = blog.create_forum("g").await.unwrap();
            for t in ["a", "b"] {
                blog.create_thread(t, Some(f.id)).await.unwrap();
            }
            let kept = blog.create_thread("c", Some(g.id)).await.unwrap();
            ash_rs::api::destroy(&blog, &f, ForumDestroyInput::new()).await.unwrap();
            let threads: Vec<Thread> = all(&blog, ThreadReadInput::new()).await;
            assert_eq!(threads, vec![kept]);
            assert_eq!(all::<Forum, _>(&blog, ForumReadInput::new()).await, vec![g]);
        }

        #[tokio::test]
        async fn on_delete_cascade_through_two_levels() {
            let Some(blog) = connect().await else { return };
            let f = blog.create_forum("f").await.unwrap();
            let g = blog.create_forum("g").await.unwrap();
            let t = blog.create_thread("t", Some(f.id)).await.unwrap();
            let u = blog.create_thread("u", Some(g.id)).await.unwrap();
            for body in ["r1", "r2"] {
                blog.create_reply(body, Some(t.id)).await.unwrap();
            }
            let kept = blog.create_reply("other", Some(u.id)).await.unwrap();
            ash_rs::api::destroy(&blog, &f, ForumDestroyInput::new()).await.unwrap();
            assert_eq!(all::<Thread, _>(&blog, ThreadReadInput::new()).await, vec![u]);
            assert_eq!(all::<Reply, _>(&blog, ReplyReadInput::new()).await, vec![kept]);
        }

        #[tokio::test]
        async fn on_delete_nilify_sets_the_foreign_key_to_nil() {
            let Some(blog) = connect().await else { return };
            let f = blog.create_forum("f").await.unwrap();
            let t = blog.create_thread("t", Some(f.id)).await.unwrap();
            let u = blog.create_thread("u", Some(f.id)).await.unwrap();
            let on_t = blog.create_bookmark("on t", Some(t.id)).await.unwrap();
            let on_u = blog.create_bookmark("on u", Some(u.id)).await.unwrap();
            ash_rs::api::destroy(&blog, &t, ThreadDestroyInput::new()).await.unwrap();
            let mut marks: Vec<Bookmark> = all(&blog, BookmarkReadInput::new()).await;
            marks.sort_by(|a, b| a.note.cmp(&b.note));
            assert_eq!(marks, vec![Bookmark { thread_id: None, ..on_t }, on_u.clone()]);
            // Through a cascade too: the forum takes `u` with it, whose bookmark stays, nil.
            ash_rs::api::destroy(&blog, &f, ForumDestroyInput::new()).await.unwrap();
            let marks: Vec<Bookmark> = all(&blog, BookmarkReadInput::new()).await;
            assert_eq!(marks.len(), 2);
            assert!(marks.iter().all(|m| m.thread_id.is_none()));
            assert!(all::<Thread, _>(&blog, ThreadReadInput::new()).await.is_empty());
        }

        #[tokio::test]
        async fn a_restrict_below_a_cascade_refuses_the_whole_destroy() {
            let Some(blog) = connect().await else { return };
            let f = blog.create_forum("f").await.unwrap();
            let t = blog.create_thread("t", Some(f.id)).await.unwrap();
            let r = blog.create_reply("r", Some(t.id)).await.unwrap();
            blog.create_reply("r2", Some(t.id)).await.unwrap();
            let mark = blog.create_bookmark("m", Some(t.id)).await.unwrap();
            blog.create_pin(r.id).await.unwrap();
            let err = ash_rs::api::destroy(&blog, &f, ForumDestroyInput::new()).await.unwrap_err();
            assert_eq!(only(&err), &still("Reply", "Pin", "reply", "reply_id"));
            // Nothing was destroyed or nilified, at any level.
            assert_eq!(all::<Forum, _>(&blog, ForumReadInput::new()).await, vec![f]);
            assert_eq!(all::<Thread, _>(&blog, ThreadReadInput::new()).await, vec![t]);
            assert_eq!(all::<Reply, _>(&blog, ReplyReadInput::new()).await.len(), 2);
            assert_eq!(all::<Pin, _>(&blog, PinReadInput::new()).await.len(), 1);
            assert_eq!(all::<Bookmark, _>(&blog, BookmarkReadInput::new()).await, vec![mark]);
        }

        #[tokio::test]
        async fn a_self_referential_cascade_takes_the_whole_subtree() {
            let Some(blog) = connect().await else { return };
            let root = blog.create_node("root", None).await.unwrap();
            let mut parent = root.id;
            for text in ["a", "b", "c"] {
                parent = blog.create_node(text, Some(parent)).await.unwrap().id;
            }
            blog.create_node("a2", Some(root.id)).await.unwrap();
            let other = blog.create_node("other", None).await.unwrap();
            let kept = blog.create_node("d", Some(other.id)).await.unwrap();
            ash_rs::api::destroy(&blog, &root, NodeDestroyInput::new()).await.unwrap();
            let mut left: Vec<Node> = all(&blog, NodeReadInput::new()).await;
            left.sort_by(|a, b| a.text.cmp(&b.text));
            assert_eq!(left, vec![kept, other]);
            let err = blog.create_node("late", Some(parent)).await.unwrap_err();
            assert!(matches!(only(&err), ErrorKind::ReferenceNotFound(r) if r.resource == "Node" && r.field == "parent_id"));
        }

        #[tokio::test]
        async fn reference_errors_serialize_with_their_code_and_fields() {
            let Some(blog) = connect().await else { return };
            let err = blog.create_post("lost", Some(Uuid::new_v4())).await.unwrap_err();
            assert_eq!(
                serde_json::to_value(&err).unwrap(),
                serde_json::json!({"class": "invalid", "errors": [{
                    "code": "reference_not_found", "resource": "Post", "relationship": "author",
                    "field": "author_id", "destination": "User", "destination_attribute": "id",
                }]})
            );
            let s = seed(&blog).await;
            let err = ash_rs::api::destroy(&blog, &s.elixir, TagDestroyInput::new()).await.unwrap_err();
            assert_eq!(
                serde_json::to_value(&err).unwrap(),
                serde_json::json!({"class": "invalid", "errors": [{
                    "code": "still_referenced", "resource": "Tag", "referencing": "PostTag",
                    "relationship": "tag", "field": "tag_id",
                }]})
            );
        }

        /// Creating threads in a forum while the forum is destroyed (cascade), on several
        /// threads released together: every create either lands before the destroy (and is
        /// cascaded) or is refused; no thread is ever left referring to the destroyed forum.
        /// (`RACE_ROUNDS` is per layer: many on ETS, whose check and write are two steps
        /// that only the reference gate keeps together; without it this test fails.)
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn creating_children_races_destroying_their_parent_and_none_dangles() {
            let Some(blog) = connect().await else { return };
            const CREATORS: usize = 6;
            let mut refused_total = 0;
            for round in 0..RACE_ROUNDS {
                let forum = blog.create_forum(format!("f{round}")).await.unwrap();
                let start = std::sync::Arc::new(tokio::sync::Barrier::new(CREATORS + 1));
                let mut tasks = Vec::new();
                for i in 0..CREATORS {
                    let (blog, start) = (blog.clone(), start.clone());
                    tasks.push(tokio::spawn(async move {
                        start.wait().await;
                        blog.create_thread(format!("t{i}"), Some(forum.id)).await
                    }));
                }
                let destroyer = {
                    let (blog, forum, start) = (blog.clone(), forum.clone(), start.clone());
                    tokio::spawn(async move {
                        start.wait().await;
                        ash_rs::api::destroy(&blog, &forum, ForumDestroyInput::new()).await
                    })
                };
                let mut created = 0;
                let mut refused = 0;
                for task in tasks {
                    match task.await.unwrap() {
                        Ok(_) => created += 1,
                        Err(e) => {
                            assert!(matches!(only(&e), ErrorKind::ReferenceNotFound(r) if r.resource == "Thread"), "{e}");
                            refused += 1;
                        }
                    }
                }
                destroyer.await.unwrap().unwrap();
                assert_eq!(created + refused, CREATORS);
                let left: Vec<Thread> = ash_rs::api::read(
                    &blog,
                    ThreadReadInput::new(),
                    Query::new().filter(Thread::FORUM_ID.eq(forum.id)),
                )
                .await
                .unwrap();
                assert_eq!(left.len(), 0, "round {round}: {created} created, {refused} refused, {} left", left.len());
                refused_total += refused;
            }
            eprintln!("{refused_total} of {} creates refused", RACE_ROUNDS * CREATORS);
            assert!(all::<Thread, _>(&blog, ThreadReadInput::new()).await.is_empty());
            let gone = blog.create_forum("x").await.unwrap();
            ash_rs::api::destroy(&blog, &gone, ForumDestroyInput::new()).await.unwrap();
            let err = blog.create_thread("late", Some(gone.id)).await.unwrap_err();
            assert!(matches!(only(&err), ErrorKind::ReferenceNotFound(_)));
        }

        fn scores(post: &Post) -> Vec<i64> {
            post.top_comments.get().unwrap().iter().map(|c| c.score).collect()
        }

        #[tokio::test]
        async fn relationship_filter_and_sort_shape_every_load() {
            let Some(blog) = connect().await else { return };
            seed(&blog).await;
            let posts = read_posts(&blog, Query::new().load(Post::TOP_COMMENTS)).await;
            // Scores 1, 5, 3: the filter keeps > 2, the sort puts them high first.
            assert_eq!(scores(&by_title(&posts, "first")), [5, 3]);
            assert_eq!(scores(&by_title(&posts, "second")), [4]);
            assert!(scores(&by_title(&posts, "orphan")).is_empty());
            // Loading onto records already read sees the same.
            let plain = blog.posts().await.unwrap();
            let loaded = blog.load(&plain, Post::TOP_COMMENTS).await.unwrap();
            assert_eq!(scores(&by_title(&loaded, "first")), [5, 3]);
        }

        #[tokio::test]
        async fn per_load_query_ands_its_filter_and_replaces_the_sort() {
            let Some(blog) = connect().await else { return };
            seed(&blog).await;
            let asc = Query::new().sort_by(Comment::SCORE.asc());
            let posts = read_posts(&blog, Query::new().load(Post::TOP_COMMENTS.query(asc))).await;
            assert_eq!(scores(&by_title(&posts, "first")), [3, 5]);
            // The per-load filter narrows the relationship's; it cannot widen it.
            let low = Query::new().filter(Comment::SCORE.lt(5));
            let posts = read_posts(&blog, Query::new().load(Post::TOP_COMMENTS.query(low))).await;
            assert_eq!(scores(&by_title(&posts, "first")), [3]);
            // A per-parent limit takes the first of the relationship's order.
            let one = Query::new().limit(1);
            let posts = read_posts(&blog, Query::new().load(Post::TOP_COMMENTS.query(one))).await;
            assert_eq!(scores(&by_title(&posts, "first")), [5]);
        }

        #[tokio::test]
        async fn relationship_filter_applies_to_exists_and_paths() {
            let Some(blog) = connect().await else { return };
            seed(&blog).await;
            // Score 1 is a comment of "first", but not a top comment.
            let all = read_posts(&blog, Query::new().filter(exists(Post::COMMENTS, Comment::SCORE.lt(2)))).await;
            assert_eq!(all.len(), 1);
            let top = read_posts(&blog, Query::new().filter(exists(Post::TOP_COMMENTS, Comment::SCORE.lt(2)))).await;
            assert!(top.is_empty());
            let path = read_posts(&blog, Query::new().filter(Post::TOP_COMMENTS.then(Comment::BODY).eq("c0"))).await;
            assert!(path.is_empty());
            let path = read_posts(&blog, Query::new().filter(Post::TOP_COMMENTS.then(Comment::BODY).eq("c1"))).await;
            assert_eq!(path.len(), 1);
            // Negated: posts with no top comment at all.
            let none = read_posts(&blog, Query::new().filter(!exists(Post::TOP_COMMENTS, Comment::SCORE.gt(0)))).await;
            let titles: Vec<_> = none.iter().map(|p| p.title.as_str()).collect();
            assert_eq!(titles, ["orphan"]);
        }

        #[tokio::test]
        async fn many_to_many_filter_limits_loads_and_exists() {
            let Some(blog) = connect().await else { return };
            seed(&blog).await;
            let posts = read_posts(&blog, Query::new().load(Post::RUST_TAGS)).await;
            let labels = |p: &Post| p.rust_tags.get().unwrap().iter().map(|t| t.label.clone()).collect::<Vec<_>>();
            assert_eq!(labels(&by_title(&posts, "first")), ["rust"]);
            assert_eq!(labels(&by_title(&posts, "second")), ["rust"]);
            let elixir = read_posts(&blog, Query::new().filter(exists(Post::RUST_TAGS, Tag::LABEL.eq("elixir")))).await;
            assert!(elixir.is_empty());
        }

        #[tokio::test]
        async fn define_loads_what_it_names() {
            let Some(blog) = connect().await else { return };
            let s = seed(&blog).await;
            let post = blog.get_post(s.first.id).await.unwrap();
            assert_eq!(post.comments.get().unwrap().len(), 3);
            assert_eq!(post.author.get().unwrap().as_ref().map(|u| u.id), Some(s.ann.id));
            assert!(!post.tags.is_loaded());
            let posts = blog.posts_with_comments().await.unwrap();
            assert_eq!(posts.len(), 3);
            assert!(posts.iter().all(|p| p.comments.is_loaded() && !p.author.is_loaded()));
            assert_eq!(by_title(&posts, "second").comments.get().unwrap().len(), 1);
            let found = blog.find_post("second").await.unwrap().unwrap();
            assert_eq!(found.author.get().unwrap().as_ref().map(|u| u.id), Some(s.bob.id));
            assert!(blog.find_post("nope").await.unwrap().is_none());
            // A get that finds nothing is still NotFound.
            assert!(blog.get_post(Uuid::new_v4()).await.is_err());
        }

        #[tokio::test]
        async fn has_many_without_belongs_to_follows_writes() {
            let Some(blog) = connect().await else { return };
            let s = seed(&blog).await;
            let a = blog.create_note("a", Some(s.first.id)).await.unwrap();
            let b = blog.create_note("b", Some(s.first.id)).await.unwrap();
            blog.create_note("loose", None).await.unwrap();
            let texts = |p: &Post| {
                let mut t: Vec<_> = p.notes.get().unwrap().iter().map(|n| n.text.clone()).collect();
                t.sort();
                t
            };
            let posts = read_posts(&blog, Query::new().load(Post::NOTES)).await;
            assert_eq!(texts(&by_title(&posts, "first")), ["a", "b"]);
            assert!(texts(&by_title(&posts, "second")).is_empty());
            // Move one note to another post, detach the other.
            blog.update_note(&a, NoteUpdateInput::new().post_id(Some(s.second.id))).await.unwrap();
            blog.update_note(&b, NoteUpdateInput::new().post_id(None)).await.unwrap();
            let posts = read_posts(&blog, Query::new().load(Post::NOTES)).await;
            assert!(texts(&by_title(&posts, "first")).is_empty());
            assert_eq!(texts(&by_title(&posts, "second")), ["a"]);
            // And back.
            blog.update_note(&b, NoteUpdateInput::new().post_id(Some(s.first.id))).await.unwrap();
            let posts = read_posts(&blog, Query::new().load(Post::NOTES)).await;
            assert_eq!(texts(&by_title(&posts, "first")), ["b"]);
            assert_eq!(texts(&by_title(&posts, "second")), ["a"]);
        }

        #[tokio::test]
        async fn writable_false_makes_the_foreign_key_unwritable() {
            let info = <Review as Resource>::ATTRIBUTES.iter().find(|a| a.name == "post_id").unwrap();
            assert!(!info.writable);
            let info = <Comment as Resource>::ATTRIBUTES.iter().find(|a| a.name == "post_id").unwrap();
            assert!(info.writable);
        }

        #[tokio::test]
        async fn hundred_thousand_parent_keys_in_one_load() {
            let Some(blog) = connect().await else { return };
            let s = seed(&blog).await;
            let mut posts: Vec<Post> = (0..100_000).map(|_| {
                let mut p = s.second.clone();
                p.id = Uuid::new_v4();
                p
            }).collect();
            posts.push(s.first.clone());
            blog.load_into(&mut posts, Post::COMMENTS).await.unwrap();
            assert_eq!(posts.last().unwrap().comments.get().unwrap().len(), 3);
            assert!(posts[0].comments.get().unwrap().is_empty());
        }
    };
}

mod ets {
    relationships!(data_layer = [Ets]);

    const RACE_ROUNDS: usize = 2000;

    async fn connect() -> Option<Blog> {
        Some(Blog::new())
    }

    #[test]
    fn ets_indexes_every_attribute_a_load_matches_on() {
        use ash_rs::domain::HasResource;
        let blog = Blog::new();
        // `Note` declares no belongs_to: the index comes from `Post::NOTES`.
        assert_eq!(
            HasResource::<Note>::data_layer(&blog).indexed_attributes(),
            ["post_id"]
        );
        let mut comment = HasResource::<Comment>::data_layer(&blog).indexed_attributes();
        comment.sort();
        assert_eq!(comment, ["author_id", "post_id"]);
        // Loads by primary key (belongs_to) need none.
        assert!(HasResource::<User>::data_layer(&blog)
            .indexed_attributes()
            .is_empty());
    }

    /// An action run on the bare table (not through the domain) carries no links to the
    /// other tables: ETS checks no foreign key then, and a dangling one loads as none.
    #[tokio::test]
    async fn ets_dangling_foreign_key_loads_as_none() {
        let blog = Blog::new();
        let table = <Blog as ash_rs::domain::HasResource<Post>>::data_layer(&blog);
        let input = PostCreateInput::new()
            .title("lost")
            .author_id(Some(Uuid::new_v4()));
        let post = ash_rs::action::create(table, blog.context(), input)
            .await
            .unwrap();
        let loaded = blog.load(&[post], Post::AUTHOR).await.unwrap();
        assert_eq!(loaded[0].author.get().unwrap(), &None);
    }
}

/// ETS has no transactions: what a destroy leaves behind when one of its nilifies fails
/// (here it would give a record an identity value another record holds).
mod ets_halfway {
    use ash_rs::prelude::*;

    #[resource(domain = Desk, data_layer = Ets)]
    #[actions(defaults(read, destroy, create = [name]))]
    #[derive(Debug, Clone, PartialEq)]
    pub struct Owner {
        #[uuid_primary_key]
        pub id: Uuid,
        pub name: String,
    }

    #[resource(domain = Desk, data_layer = Ets)]
    #[actions(defaults(read, destroy, create = [label, owner_id]))]
    #[relationships(belongs_to(owner, Owner, on_delete = nilify))]
    #[identities(identity(unique_label, [owner_id, label], nils_distinct = false))]
    #[derive(Debug, Clone, PartialEq)]
    pub struct Slot {
        #[uuid_primary_key]
        pub id: Uuid,
        pub label: String,
    }

    #[domain]
    #[resources(
        Owner(define(create_owner, action = create, args = [name])),
        Slot(define(create_slot, action = create, args = [label, owner_id]), define(slots, action = read)),
    )]
    pub struct Desk;

    fn free_x_again(slots: &[Slot]) -> Slot {
        slots
            .iter()
            .find(|s| s.label == "x" && s.owner_id.is_none())
            .cloned()
            .unwrap()
    }

    #[tokio::test]
    async fn a_nilify_that_fails_stops_the_destroy_and_keeps_the_earlier_nilifies() {
        let desk = Desk::new();
        let free_x = desk.create_slot("x", None).await.unwrap();
        let owner = desk.create_owner("o").await.unwrap();
        let a = desk.create_slot("a", Some(owner.id)).await.unwrap();
        let x = desk.create_slot("x", Some(owner.id)).await.unwrap();
        let err = ash_rs::api::destroy(&desk, &owner, OwnerDestroyInput::new())
            .await
            .unwrap_err();
        assert!(err.identity_taken().is_some(), "{err}");
        // The owner stays; `x`, whose nilify failed, and the free `x` are untouched; `a` is
        // nil when its nilify ran first (nilifies run in primary-key order), else untouched.
        // No record refers to a record that is gone.
        let owners = ash_rs::api::read(&desk, OwnerReadInput::new(), Query::new())
            .await
            .unwrap();
        assert_eq!(owners, vec![owner.clone()]);
        let mut slots = desk.slots().await.unwrap();
        slots.sort_by_key(|s| (s.label.clone(), s.owner_id.is_some()));
        let a_first = format!("{:?}", a.id) < format!("{:?}", x.id);
        let a_after = if a_first {
            Slot {
                owner_id: None,
                ..a
            }
        } else {
            a
        };
        assert_eq!(slots, vec![a_after, free_x, x]);
        // Once the clash is gone, the destroy completes.
        ash_rs::api::destroy(&desk, &free_x_again(&slots), SlotDestroyInput::new())
            .await
            .unwrap();
        ash_rs::api::destroy(&desk, &owner, OwnerDestroyInput::new())
            .await
            .unwrap();
        assert_eq!(desk.slots().await.unwrap().len(), 2);
        assert!(desk
            .slots()
            .await
            .unwrap()
            .iter()
            .all(|s| s.owner_id.is_none()));
    }
}

#[cfg(feature = "postgres")]
pub(crate) mod postgres {
    use crate::pg_support::TestDb;
    relationships!(data_layer = [ash_rs::postgres::Postgres]);

    const RACE_ROUNDS: usize = 30;

    pub(crate) async fn connect() -> Option<Blog> {
        let db = TestDb::new().await?;
        let blog = Blog::connect(&db.pool).await.unwrap();
        // The schema is dropped with `db`: keep it for the test's lifetime.
        std::mem::forget(db);
        Some(blog)
    }
}

/// Statement counts: one statement per relationship level.
#[cfg(feature = "postgres")]
mod statement_counts {
    use super::postgres::*;
    use ash_rs::domain::HasResource;
    use ash_rs::prelude::*;

    fn statements(blog: &Blog) -> u64 {
        HasResource::<User>::data_layer(blog).statement_count()
            + HasResource::<Profile>::data_layer(blog).statement_count()
            + HasResource::<Post>::data_layer(blog).statement_count()
            + HasResource::<Comment>::data_layer(blog).statement_count()
            + HasResource::<Tag>::data_layer(blog).statement_count()
            + HasResource::<PostTag>::data_layer(blog).statement_count()
            + HasResource::<Note>::data_layer(blog).statement_count()
            + HasResource::<Review>::data_layer(blog).statement_count()
    }

    #[tokio::test]
    async fn filtered_sorted_load_is_one_statement() {
        let Some(blog) = connect().await else { return };
        posts_with_comments(&blog, 30).await;
        let before = statements(&blog);
        let query = Query::new().load(Post::TOP_COMMENTS.query(Query::new().limit(2)));
        ash_rs::api::read(&blog, PostReadInput::new(), query)
            .await
            .unwrap();
        assert_eq!(statements(&blog) - before, 2);
        let before = statements(&blog);
        let query = Query::new().filter(exists(Post::TOP_COMMENTS, Comment::BODY.eq("c")));
        ash_rs::api::read(&blog, PostReadInput::new(), query)
            .await
            .unwrap();
        assert_eq!(statements(&blog) - before, 1);
    }

    #[tokio::test]
    async fn define_with_loads_is_one_statement_per_relationship() {
        let Some(blog) = connect().await else { return };
        posts_with_comments(&blog, 5).await;
        let post = blog.posts().await.unwrap().remove(0);
        let before = statements(&blog);
        let got = blog.get_post(post.id).await.unwrap();
        assert!(got.comments.is_loaded() && got.author.is_loaded());
        assert_eq!(statements(&blog) - before, 3);
    }

    #[tokio::test]
    async fn has_many_without_belongs_to_is_one_statement() {
        let Some(blog) = connect().await else { return };
        posts_with_comments(&blog, 10).await;
        let before = statements(&blog);
        ash_rs::api::read(&blog, PostReadInput::new(), Query::new().load(Post::NOTES))
            .await
            .unwrap();
        assert_eq!(statements(&blog) - before, 2);
    }

    async fn posts_with_comments(blog: &Blog, n: usize) {
        let ann = blog.create_user("ann").await.unwrap();
        for i in 0..n {
            let post = blog
                .create_post(format!("p{i}"), Some(ann.id))
                .await
                .unwrap();
            if i % 10 == 0 {
                blog.create_comment("c", 1i64, Some(post.id), Some(ann.id))
                    .await
                    .unwrap();
            }
        }
    }

    #[tokio::test]
    async fn has_many_for_1000_parents_is_2_statements() {
        let Some(blog) = connect().await else { return };
        posts_with_comments(&blog, 1000).await;
        let before = statements(&blog);
        let posts = ash_rs::api::read(
            &blog,
            PostReadInput::new(),
            Query::new().load(Post::COMMENTS),
        )
        .await
        .unwrap();
        assert_eq!(posts.len(), 1000);
        assert_eq!(statements(&blog) - before, 2);
    }

    #[tokio::test]
    async fn three_level_nested_load_is_4_statements() {
        let Some(blog) = connect().await else { return };
        posts_with_comments(&blog, 50).await;
        let before = statements(&blog);
        let query = Query::new().load(Post::COMMENTS.load(Comment::AUTHOR.load(User::PROFILE)));
        ash_rs::api::read(&blog, PostReadInput::new(), query)
            .await
            .unwrap();
        assert_eq!(statements(&blog) - before, 4);
    }

    #[tokio::test]
    async fn many_to_many_is_at_most_3_statements() {
        let Some(blog) = connect().await else { return };
        let post = blog.create_post("p", None).await.unwrap();
        let tag = blog.create_tag("t").await.unwrap();
        blog.tag_post(post.id, tag.id).await.unwrap();
        let before = statements(&blog);
        let posts = ash_rs::api::read(&blog, PostReadInput::new(), Query::new().load(Post::TAGS))
            .await
            .unwrap();
        assert_eq!(posts[0].tags.get().unwrap().len(), 1);
        assert!(statements(&blog) - before <= 3);
    }

    #[tokio::test]
    async fn already_loaded_is_0_statements() {
        let Some(blog) = connect().await else { return };
        posts_with_comments(&blog, 20).await;
        let posts = ash_rs::api::read(
            &blog,
            PostReadInput::new(),
            Query::new().load(Post::COMMENTS),
        )
        .await
        .unwrap();
        let before = statements(&blog);
        let again = blog.load(&posts, Post::COMMENTS).await.unwrap();
        assert_eq!(again, posts);
        assert_eq!(statements(&blog) - before, 0);
    }

    #[tokio::test]
    async fn exists_filter_is_part_of_the_one_statement() {
        let Some(blog) = connect().await else { return };
        posts_with_comments(&blog, 20).await;
        let before = statements(&blog);
        let posts = ash_rs::api::read(
            &blog,
            PostReadInput::new(),
            Query::new().filter(exists(Post::COMMENTS, Comment::SCORE.eq(1))),
        )
        .await
        .unwrap();
        assert_eq!(posts.len(), 2);
        assert_eq!(statements(&blog) - before, 1);
    }
}
