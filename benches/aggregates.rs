//! Aggregates against hand-written code doing the same work, in the same run:
//!
//! - `pg_read_1000_posts_count_sum`: a read of 1,000 posts with a comment count and a score
//!   sum (`Query::new().load(Post::COMMENT_COUNT).load(Post::SCORE_TOTAL)`: one statement)
//!   against the hand-written `SELECT p.*, l.count, l.sum FROM posts p LEFT JOIN LATERAL
//!   (SELECT count(*), sum(score) FROM comments WHERE post_id = p.id) l ON TRUE ORDER BY
//!   p.id`, prepared once, decoded into the same struct;
//! - `ets_count_10000_parents`: the comment count loaded onto 10,000 posts with 10 comments
//!   each (`domain.load_into(&mut posts, Post::COMMENT_COUNT)` on a fresh copy of the posts)
//!   against a hand-written `DashMap<post id, Vec<comment id>>` index, one lookup and `len()`
//!   per post written into the same struct (also on a fresh copy).
//!
//! Run with `cargo bench --bench aggregates`. After criterion it prints paired ratios
//! (median over rounds of back-to-back batches, alternating which side goes first). The
//! PostgreSQL half uses `ASH_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`) in a schema of its own, dropped at the end,
//! and is skipped without a server.

use std::hint::black_box;
use std::time::{Duration, Instant};

use ash_rs::domain::HasResource;
use ash_rs::postgres::{Pool, Postgres};
use ash_rs::prelude::*;
use criterion::Criterion;
use dashmap::DashMap;

mod pg {
    use super::*;

    #[resource(domain = PgBlog, data_layer = Postgres(table = "posts"))]
    #[actions(defaults(read, create = [title]))]
    #[relationships(has_many(comments, Comment))]
    #[aggregates(
        count(comment_count, comments),
        sum(score_total, comments, field = score, default = 0),
    )]
    #[derive(Debug, Clone, PartialEq)]
    pub struct Post {
        #[uuid_primary_key]
        pub id: Uuid,
        pub title: String,
    }

    #[resource(domain = PgBlog, data_layer = Postgres(table = "comments"))]
    #[actions(defaults(read, create = [score, post_id]))]
    #[relationships(belongs_to(post, Post))]
    #[derive(Debug, Clone, PartialEq)]
    pub struct Comment {
        #[uuid_primary_key]
        pub id: Uuid,
        pub score: i64,
    }

    #[domain]
    #[resources(Post, Comment)]
    pub struct PgBlog;
}

mod ets {
    use super::*;

    #[resource(domain = Blog)]
    #[actions(defaults(read, create = [title]))]
    #[relationships(has_many(comments, Comment))]
    #[aggregates(count(comment_count, comments))]
    #[derive(Debug, Clone, PartialEq)]
    pub struct Post {
        #[uuid_primary_key]
        pub id: Uuid,
        pub title: String,
    }

    #[resource(domain = Blog)]
    #[actions(defaults(read, create = [score, post_id]))]
    #[relationships(belongs_to(post, Post))]
    #[derive(Debug, Clone, PartialEq)]
    pub struct Comment {
        #[uuid_primary_key]
        pub id: Uuid,
        pub score: i64,
    }

    #[domain]
    #[resources(
        Post(define(create_post, action = create, args = [title]), define(posts, action = read)),
        Comment(define(create_comment, action = create, args = [score, post_id])),
    )]
    pub struct Blog;
}

/// What the hand-written PostgreSQL read decodes into.
#[derive(Debug, Clone, PartialEq)]
pub struct HandPost {
    pub id: Uuid,
    pub title: String,
    pub comment_count: i64,
    pub score_total: i64,
}

// 31 rounds: on a loaded machine the median of 15 moved by 0.2x between runs.
const ROUNDS: usize = 31;

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Median per-call times of `a` and `b` and of their per-round ratio, over `ROUNDS`
/// rounds of `batch` calls per side, back to back, alternating which goes first.
fn paired(batch: u32, mut a: impl FnMut(), mut b: impl FnMut()) -> (f64, f64, f64) {
    let (mut at, mut bt, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let mut times = [Duration::ZERO; 2];
        for step in 0..2 {
            let side = (round + step) % 2;
            let start = Instant::now();
            for _ in 0..batch {
                if side == 0 {
                    a()
                } else {
                    b()
                }
            }
            times[side] = start.elapsed() / batch;
        }
        at.push(times[0].as_nanos() as f64);
        bt.push(times[1].as_nanos() as f64);
        ratios.push(times[0].as_secs_f64() / times[1].as_secs_f64());
    }
    (median(at), median(bt), median(ratios))
}

fn bench_ets(c: &mut Criterion) -> (f64, f64, f64) {
    use ets::*;
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let blog = Blog::new();
    // The hand-written side: its own index, post id -> comment ids.
    let index: DashMap<Uuid, Vec<Uuid>> = DashMap::new();
    rt.block_on(async {
        for i in 0..10_000 {
            let post = blog.create_post(format!("p{i}")).await.unwrap();
            for s in 0..10i64 {
                let comment = blog.create_comment(s, Some(post.id)).await.unwrap();
                index.entry(post.id).or_default().push(comment.id);
            }
        }
    });
    let posts: Vec<Post> = rt.block_on(blog.posts()).unwrap();
    assert_eq!(posts.len(), 10_000);
    let ash = || {
        let mut fresh = posts.clone();
        ash_rs::block_on(blog.load_into(&mut fresh, Post::COMMENT_COUNT)).unwrap();
        black_box(fresh);
    };
    let hand = || {
        let mut fresh = posts.clone();
        for post in fresh.iter_mut() {
            let n = index.get(&post.id).map_or(0, |ids| ids.len());
            post.comment_count = Loaded::new(n as i64);
        }
        black_box(fresh);
    };
    // Both give the same counts.
    let mut check = posts.clone();
    ash_rs::block_on(blog.load_into(&mut check, Post::COMMENT_COUNT)).unwrap();
    assert!(check.iter().all(|p| p.comment_count.get() == Ok(&10)));
    let mut group = c.benchmark_group("ets_count_10000_parents");
    group.bench_function("ash", |b| b.iter(ash));
    group.bench_function("hand_written", |b| b.iter(hand));
    group.finish();
    let _ = HasResource::<Comment>::data_layer(&blog).len();
    paired(20, ash, hand)
}

fn bench_pg(c: &mut Criterion) -> Option<(f64, f64, f64)> {
    use pg::*;
    let url = std::env::var("ASH_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let schema = format!("ash_rs_bench_agg_{}", std::process::id());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let pool = match rt.block_on(
        Pool::builder(&url)
            .schema(schema.clone())
            .create_missing_tables(true)
            .connection_timeout(Duration::from_secs(3))
            .build(),
    ) {
        Ok(pool) => pool,
        Err(err) => {
            println!("skipping the PostgreSQL aggregates benchmark: no server at {url} ({err})");
            return None;
        }
    };
    let blog = rt.block_on(PgBlog::connect(&pool)).expect("the tables");
    let posts = format!("\"{schema}\".\"posts\"");
    let comments = format!("\"{schema}\".\"comments\"");
    rt.block_on(async {
        let mut c = pool.get().await.unwrap();
        // 1,000 posts with 0..9 comments each (4,500 in all), and the foreign key's index
        // (both sides use it).
        c.batch_execute(&format!(
            "INSERT INTO {posts} (id, title) SELECT md5(i::text)::uuid, 'p' || i FROM generate_series(1, 1000) AS i;
             INSERT INTO {comments} (id, score, post_id)
               SELECT md5('c' || i || '-' || j)::uuid, j, md5(i::text)::uuid
               FROM generate_series(1, 1000) AS i, generate_series(0, 9) AS j WHERE j < i % 10;
             CREATE INDEX ON {comments} (post_id); ANALYZE {posts}; ANALYZE {comments};"
        ))
        .await
        .unwrap();
    });
    let hand_sql = format!(
        "SELECT p.\"id\", p.\"title\", l.n, l.s FROM {posts} AS p LEFT JOIN LATERAL \
         (SELECT count(*) AS n, COALESCE(sum(c.\"score\"), 0)::bigint AS s FROM {comments} AS c \
         WHERE c.\"post_id\" = p.\"id\") AS l ON TRUE ORDER BY p.\"id\""
    );
    let ash = || {
        let read = rt
            .block_on(ash_rs::api::read(
                &blog,
                PostReadInput::new(),
                Query::new()
                    .load(Post::COMMENT_COUNT)
                    .load(Post::SCORE_TOTAL),
            ))
            .unwrap();
        black_box(read);
    };
    let hand = || {
        let read: Vec<HandPost> = rt.block_on(async {
            let mut c = pool.get().await.unwrap();
            let statement = c.prepare_cached(&hand_sql).await.unwrap();
            c.client()
                .query(&statement, &[])
                .await
                .unwrap()
                .iter()
                .map(|row| HandPost {
                    id: row.get(0),
                    title: row.get(1),
                    comment_count: row.get(2),
                    score_total: row.get(3),
                })
                .collect()
        });
        black_box(read);
    };
    // One statement, and the same figures as the hand-written SQL.
    let before = HasResource::<Post>::data_layer(&blog).statement_count()
        + HasResource::<Comment>::data_layer(&blog).statement_count();
    let read = rt
        .block_on(ash_rs::api::read(
            &blog,
            PostReadInput::new(),
            Query::new()
                .load(Post::COMMENT_COUNT)
                .load(Post::SCORE_TOTAL),
        ))
        .unwrap();
    let after = HasResource::<Post>::data_layer(&blog).statement_count()
        + HasResource::<Comment>::data_layer(&blog).statement_count();
    assert_eq!(after - before, 1, "one statement");
    assert_eq!(read.len(), 1000);
    assert_eq!(
        read.iter()
            .map(|p| *p.comment_count.get().unwrap())
            .sum::<i64>(),
        4500
    );
    let mut group = c.benchmark_group("pg_read_1000_posts_count_sum");
    group.bench_function("ash", |b| b.iter(ash));
    group.bench_function("hand_written", |b| b.iter(hand));
    group.finish();
    let result = paired(10, ash, hand);
    let _ = rt.block_on(async {
        pool.get()
            .await?
            .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
            .await
    });
    Some(result)
}

fn main() {
    let mut criterion = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    let ets = bench_ets(&mut criterion);
    let pg = bench_pg(&mut criterion);
    criterion.final_summary();
    println!();
    println!(
        "{:<32} {:>14} {:>14} {:>11}",
        "paired (median of rounds)", "ash (us)", "hand (us)", "ash / hand"
    );
    let line = |name: &str, (a, h, r): (f64, f64, f64)| {
        println!(
            "{name:<32} {:>14.1} {:>14.1} {:>10.2}x",
            a / 1e3,
            h / 1e3,
            r
        );
    };
    line("ets_count_10000_parents", ets);
    if let Some(pg) = pg {
        line("pg_read_1000_posts_count_sum", pg);
    }
}
