//! Relationships on a small blog: users, posts, comments and tags.
//!
//! It declares the four kinds of relationship (with a relationship `filter` and `sort`),
//! loads them (nested, with a per-load query, through a `define` with `load = [..]`, onto
//! records already read), and filters across them (`exists`, a path).
//!
//! Run it on ETS (the default):
//!
//! ```text
//! cargo run --example blog
//! ```
//!
//! and on PostgreSQL, where it also prints the statements each load issued (one per
//! relationship level, whatever the number of parents):
//!
//! ```text
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo run --features postgres --example blog
//! ```
//!
//! On PostgreSQL it works in a schema of its own and drops it at the end.

/// The resources and the domain, for one data layer.
macro_rules! blog {
    ($($data_layer:tt)*) => {
        use ash_rs::prelude::*;

        #[resource(domain = Blog, data_layer = $($data_layer)*)]
        #[actions(defaults(read, create = [name]))]
        #[relationships(has_many(posts, Post, destination_attribute = author_id))]
        #[derive(Debug, Clone, PartialEq)]
        pub struct User {
            #[uuid_primary_key]
            pub id: Uuid,
            pub name: String,
        }

        #[resource(domain = Blog, data_layer = $($data_layer)*)]
        #[actions(defaults(read, create = [title, author_id]))]
        #[relationships(
            belongs_to(author, User),
            has_many(comments, Comment),
            // Only the comments worth showing, best first (a per-load sort replaces it).
            has_many(top_comments, Comment, filter = Comment::SCORE.gte(3), sort = [Comment::SCORE.desc()]),
            many_to_many(tags, Tag, through = PostTag),
        )]
        #[derive(Debug, Clone, PartialEq)]
        pub struct Post {
            #[uuid_primary_key]
            pub id: Uuid,
            pub title: String,
        }

        #[resource(domain = Blog, data_layer = $($data_layer)*)]
        #[actions(defaults(read, create = [body, score, post_id, author_id]))]
        #[relationships(belongs_to(post, Post, allow_nil = false), belongs_to(author, User))]
        #[derive(Debug, Clone, PartialEq)]
        pub struct Comment {
            #[uuid_primary_key]
            pub id: Uuid,
            pub body: String,
            pub score: i64,
        }

        #[resource(domain = Blog, data_layer = $($data_layer)*)]
        #[actions(defaults(read, create = [label]))]
        #[relationships(many_to_many(posts, Post, through = PostTag))]
        #[derive(Debug, Clone, PartialEq)]
        pub struct Tag {
            #[uuid_primary_key]
            pub id: Uuid,
            pub label: String,
        }

        #[resource(domain = Blog, data_layer = $($data_layer)*)]
        #[actions(defaults(read, create = [post_id, tag_id]))]
        #[relationships(belongs_to(post, Post, allow_nil = false), belongs_to(tag, Tag, allow_nil = false))]
        #[derive(Debug, Clone, PartialEq)]
        pub struct PostTag {
            #[uuid_primary_key]
            pub id: Uuid,
        }

        #[domain]
        #[resources(
            User(define(create_user, action = create, args = [name]), define(users, action = read)),
            Post(
                define(create_post, action = create, args = [title, author_id]),
                define(posts, action = read),
                // The interface returns the post with its comments and author loaded.
                define(get_post, action = read, get_by = [id], load = [comments, author]),
            ),
            Comment(define(create_comment, action = create, args = [body, score, post_id, author_id])),
            Tag(define(create_tag, action = create, args = [label])),
            PostTag(define(tag_post, action = create, args = [post_id, tag_id])),
        )]
        pub struct Blog;

        /// Statements run so far, on PostgreSQL; `None` on ETS.
        pub type Counter = fn(&Blog) -> Option<u64>;

        /// Seeds the blog and shows loading and filtering; `statements` counts what each
        /// step ran.
        pub async fn run(blog: &Blog, statements: Counter) -> Result<(), Error> {
            let ann = blog.create_user("ann").await?;
            let bob = blog.create_user("bob").await?;
            let rust = blog.create_tag("rust").await?;
            let elixir = blog.create_tag("elixir").await?;
            for i in 0..20 {
                let author = if i % 2 == 0 { &ann } else { &bob };
                let post = blog.create_post(format!("post {i:02}"), Some(author.id)).await?;
                for (n, score) in [1i64, 4, 2, 5].into_iter().enumerate().take(i % 5) {
                    let by = if n % 2 == 0 { &bob } else { &ann };
                    blog.create_comment(format!("comment {n} on post {i}"), score, post.id, Some(by.id)).await?;
                }
                blog.tag_post(post.id, rust.id).await?;
                if i % 3 == 0 {
                    blog.tag_post(post.id, elixir.id).await?;
                }
            }
            let show = |what: &str, before: Option<u64>| {
                match (statements(blog), before) {
                    (Some(now), Some(before)) => println!("  ({what}: {} statement(s))", now - before),
                    _ => {}
                }
            };

            println!("## Loading, nested, with a per-load query");
            let before = statements(blog);
            let best_two = Query::new().sort_by(Comment::SCORE.desc()).limit(2);
            let query = Query::new()
                .sort_by(Post::TITLE.asc())
                .offset(2)
                .limit(4)
                .load(Post::AUTHOR)
                .load(Post::COMMENTS.query(best_two).load(Comment::AUTHOR))
                .load(Post::TAGS);
            let posts = ash_rs::api::read(blog, PostReadInput::new(), query).await?;
            show("the posts, then one per relationship level: author, comments, comment authors, tags (2)", before);
            for post in &posts {
                let author = post.author.get()?.as_ref().map_or("-", |u| u.name.as_str());
                let tags: Vec<&str> = post.tags.get()?.iter().map(|t| t.label.as_str()).collect();
                println!("{} by {author}, tagged {tags:?}", post.title);
                for comment in post.comments.get()? {
                    let by = comment.author.get()?.as_ref().map_or("-", |u| u.name.as_str());
                    println!("    {} (score {}) by {by}", comment.body, comment.score);
                }
            }

            println!("\n## A relationship's own filter and sort: Post::TOP_COMMENTS (score >= 3, best first)");
            let before = statements(blog);
            let posts = blog.load(&posts, Post::TOP_COMMENTS).await?;
            show("one load of the relationship", before);
            for post in &posts {
                let scores: Vec<i64> = post.top_comments.get()?.iter().map(|c| c.score).collect();
                println!("{}: top scores {scores:?}", post.title);
            }

            println!("\n## A define with `load = [comments, author]`");
            let before = statements(blog);
            let post = blog.get_post(posts[2].id).await?;
            show("the get, then comments, then author", before);
            println!(
                "{}: {} comment(s), author {:?}, tags loaded: {}",
                post.title,
                post.comments.get()?.len(),
                post.author.get()?.as_ref().map(|u| &u.name),
                post.tags.is_loaded(),
            );
            // Reading a relationship that was not loaded is an error, never an empty list.
            println!("post.tags.get() => {:?}", post.tags.get().map(|t| t.len()));

            println!("\n## Filtering across relationships");
            let before = statements(blog);
            let query = Query::new().filter(exists(Post::COMMENTS, Comment::SCORE.gte(5)));
            let liked = ash_rs::api::read(blog, PostReadInput::new(), query).await?;
            show("exists: part of the one statement", before);
            println!("posts with a comment scored 5 or more: {}", liked.len());
            let before = statements(blog);
            let query = Query::new().filter(Post::AUTHOR.then(User::NAME).eq("bob"));
            let bobs = ash_rs::api::read(blog, PostReadInput::new(), query).await?;
            show("a path through belongs_to", before);
            println!("posts by bob: {}", bobs.len());
            let query = Query::new()
                .filter(exists(Post::TAGS, Tag::LABEL.eq("elixir")))
                .filter(!exists(Post::TOP_COMMENTS, Comment::SCORE.gt(0)));
            let quiet = ash_rs::api::read(blog, PostReadInput::new(), query).await?;
            println!("elixir posts without a top comment: {}", quiet.len());

            println!("\n## Loading the other way, onto records already read");
            let users = blog.users().await?;
            let before = statements(blog);
            let users = blog.load(&users, User::POSTS.load(Post::COMMENTS)).await?;
            show("posts, then their comments", before);
            for user in &users {
                let posts = user.posts.get()?;
                let comments: usize = posts.iter().map(|p| p.comments.get().map_or(0, |c| c.len())).sum();
                println!("{}: {} posts, {} comments on them", user.name, posts.len(), comments);
            }
            Ok(())
        }

    };
}

mod ets {
    blog!(Ets);
}

#[cfg(feature = "postgres")]
mod pg {
    blog!(ash_rs::postgres::Postgres);

    /// Statements the blog's tables have run (each table counts its own).
    pub fn statements(blog: &Blog) -> Option<u64> {
        use ash_rs::domain::HasResource;
        Some(
            HasResource::<User>::data_layer(blog).statement_count()
                + HasResource::<Post>::data_layer(blog).statement_count()
                + HasResource::<Comment>::data_layer(blog).statement_count()
                + HasResource::<Tag>::data_layer(blog).statement_count()
                + HasResource::<PostTag>::data_layer(blog).statement_count(),
        )
    }
}

#[tokio::main]
async fn main() -> Result<(), ash_rs::Error> {
    match std::env::var("DATABASE_URL") {
        Ok(url) => on_postgres(&url).await,
        Err(_) => {
            println!("# ETS (set DATABASE_URL to run on PostgreSQL)\n");
            let blog = ets::Blog::new();
            ets::run(&blog, |_| None).await
        }
    }
}

#[cfg(feature = "postgres")]
async fn on_postgres(url: &str) -> Result<(), ash_rs::Error> {
    use ash_rs::postgres::Pool;
    let schema = format!("ash_rs_blog_{}", std::process::id());
    let pool = match Pool::builder(url)
        .schema(schema.clone())
        .create_missing_tables(true)
        .connection_timeout(std::time::Duration::from_secs(3))
        .build()
        .await
    {
        Ok(pool) => pool,
        Err(err) => {
            println!("No PostgreSQL server is reachable at {url} ({err}).");
            return Ok(());
        }
    };
    println!("# PostgreSQL, schema {schema}\n");
    let blog = pg::Blog::connect(&pool).await?;
    let result = pg::run(&blog, pg::statements).await;
    pool.get()
        .await?
        .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
        .await?;
    result
}

#[cfg(not(feature = "postgres"))]
async fn on_postgres(_url: &str) -> Result<(), ash_rs::Error> {
    println!("DATABASE_URL is set, but this build has no PostgreSQL layer: run it with `--features postgres`.");
    Ok(())
}
