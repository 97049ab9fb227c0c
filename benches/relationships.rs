//! Relationship loads against hand-written code doing the same work, in the same run: the
//! shape of Ash issue #1565 (loading the children of many parents) at this machine's
//! scale, 5,000 posts with 10 comments each.
//!
//! - `pg_load`: `domain.load(&posts, Post::COMMENTS)` on PostgreSQL against a hand-written
//!   `SELECT .. FROM comments WHERE post_id = ANY($1)` (prepared) plus grouping the rows
//!   into a `HashMap<post_id, Vec<Comment>>` (target: within 1.5x);
//! - `ets_load`: the same load on ETS against a hand-written dashmap index join, a
//!   `DashMap<post_id, Vec<comment_id>>` plus a `DashMap<id, Comment>` (target: within
//!   1.3x);
//! - `ets_table_size`: the ETS load of 100 posts (10 comments each) from a comments table
//!   of 1,000 and of 1,000,000 records: the load reads an index, so its time does not grow
//!   with the table.
//!
//! Each group is timed by criterion, then measured again in pairs (both sides back to
//! back per round, alternating which goes first; the median of the per-round ratios is
//! printed), as `benches/postgres.rs` does. Both sides copy the parents and the children
//! they return. Run it with `cargo bench -p ash-rs-benches --bench relationships`; it uses
//! `ASH_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`) in a schema of
//! its own, dropped at the end, and skips the PostgreSQL group without a server.

use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use ash_rs::block_on;
use criterion::Criterion;
use dashmap::DashMap;
use uuid::Uuid;

const POSTS: usize = 5_000;
const PER_POST: usize = 10;

macro_rules! blog {
    ($($data_layer:tt)*) => {
        use ash_rs::prelude::*;

        #[resource(domain = Blog, data_layer = $($data_layer)*)]
        #[actions(defaults(read, create = [title]))]
        #[relationships(has_many(comments, Comment))]
        #[derive(Debug, Clone, PartialEq)]
        pub struct Post {
            #[uuid_primary_key]
            pub id: Uuid,
            pub title: String,
        }

        #[resource(domain = Blog, data_layer = $($data_layer)*)]
        #[actions(defaults(read, create = [post_id, body, score]))]
        #[relationships(belongs_to(post, Post, allow_nil = false))]
        #[derive(Debug, Clone, PartialEq)]
        pub struct Comment {
            #[uuid_primary_key]
            pub id: Uuid,
            pub body: String,
            pub score: i64,
        }

        #[domain]
        #[resources(
            Post(define(create_post, action = create, args = [title]), define(posts, action = read)),
            Comment(define(create_comment, action = create, args = [post_id, body, score])),
        )]
        pub struct Blog;
    };
}

mod ets {
    blog!(Ets);
}

mod pg {
    blog!(ash_rs::postgres::Postgres);
}

/// The hand-written comment: the same fields.
#[derive(Debug, Clone, PartialEq)]
pub struct HandComment {
    pub id: Uuid,
    pub post_id: Uuid,
    pub body: String,
    pub score: i64,
}

/// The hand-written post.
#[derive(Debug, Clone, PartialEq)]
pub struct HandPost {
    pub id: Uuid,
    pub title: String,
}

/// The hand-written ETS side: comments by id, and an index of comment ids by post id,
/// kept in step by `insert`.
#[derive(Default)]
struct HandEts {
    comments: DashMap<Uuid, HandComment>,
    by_post: DashMap<Uuid, Vec<Uuid>>,
}

impl HandEts {
    fn insert(&self, comment: HandComment) {
        self.by_post
            .entry(comment.post_id)
            .or_default()
            .push(comment.id);
        self.comments.insert(comment.id, comment);
    }

    /// Each post with its comments (copies of both), through the index.
    fn load(&self, posts: &[HandPost]) -> Vec<(HandPost, Vec<HandComment>)> {
        posts
            .iter()
            .map(|post| {
                let children = match self.by_post.get(&post.id) {
                    Some(ids) => ids
                        .iter()
                        .filter_map(|id| self.comments.get(id).map(|c| c.value().clone()))
                        .collect(),
                    None => Vec::new(),
                };
                (post.clone(), children)
            })
            .collect()
    }
}

/// Median of `values`.
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Times `ash` and `hand` in pairs over `rounds` rounds of `batch` calls each; returns
/// the median time per call of each side (ns) and the median of the per-round ratios.
fn paired(
    rounds: usize,
    batch: u32,
    mut ash: impl FnMut(),
    mut hand: impl FnMut(),
) -> (f64, f64, f64) {
    let (mut a_times, mut h_times, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let (mut a, mut h) = (Duration::ZERO, Duration::ZERO);
        for side in [round % 2, 1 - round % 2] {
            let start = Instant::now();
            for _ in 0..batch {
                if side == 0 {
                    ash();
                } else {
                    hand();
                }
            }
            let per = start.elapsed() / batch;
            if side == 0 {
                a = per;
            } else {
                h = per;
            }
        }
        a_times.push(a.as_nanos() as f64);
        h_times.push(h.as_nanos() as f64);
        ratios.push(a.as_secs_f64() / h.as_secs_f64());
    }
    (median(a_times), median(h_times), median(ratios))
}

/// One row of the final table.
struct Row {
    name: String,
    ash: f64,
    hand: f64,
    ratio: f64,
    target: &'static str,
}

/// The ETS side: `POSTS` posts with `PER_POST` comments each, in the generated tables
/// and in the hand-written maps.
fn ets_seed(posts: usize, filler: usize) -> (ets::Blog, Vec<ets::Post>, HandEts, Vec<HandPost>) {
    let blog = ets::Blog::new();
    let hand = HandEts::default();
    let mut ash_posts = Vec::with_capacity(posts);
    let mut hand_posts = Vec::with_capacity(posts);
    for i in 0..posts {
        let post = block_on(blog.create_post(format!("post {i}"))).expect("a post");
        for n in 0..PER_POST {
            let body = format!("comment {n}");
            let comment =
                block_on(blog.create_comment(post.id, body.clone(), n as i64)).expect("a comment");
            hand.insert(HandComment {
                id: comment.id,
                post_id: post.id,
                body,
                score: n as i64,
            });
        }
        hand_posts.push(HandPost {
            id: post.id,
            title: post.title.clone(),
        });
        ash_posts.push(post);
    }
    // Children of posts not loaded: they only make the table bigger.
    let mut made = 0;
    while made < filler {
        let other = block_on(blog.create_post("filler")).expect("a post");
        let other_id = other.id;
        for n in 0..PER_POST.min(filler - made) {
            let comment =
                block_on(blog.create_comment(other_id, "filler", n as i64)).expect("a comment");
            hand.insert(HandComment {
                id: comment.id,
                post_id: other_id,
                body: "filler".into(),
                score: n as i64,
            });
            made += 1;
        }
    }
    (blog, ash_posts, hand, hand_posts)
}

fn ets_group(c: &mut Criterion, rows: &mut Vec<Row>) {
    let (blog, posts, hand, hand_posts) = ets_seed(POSTS, 0);
    let check = block_on(blog.load(&posts, ets::Post::COMMENTS)).expect("a load");
    assert!(check
        .iter()
        .all(|p| p.comments.get().map(Vec::len) == Ok(PER_POST)));
    assert!(hand
        .load(&hand_posts)
        .iter()
        .all(|(_, c)| c.len() == PER_POST));
    let mut group = c.benchmark_group("ets_load");
    group.sample_size(20);
    group.bench_function("ash", |b| {
        b.iter(|| black_box(block_on(blog.load(black_box(&posts), ets::Post::COMMENTS)).unwrap()))
    });
    group.bench_function("hand_written", |b| {
        b.iter(|| black_box(hand.load(black_box(&hand_posts))))
    });
    group.finish();
    let (ash, hand_ns, ratio) = paired(
        21,
        5,
        || {
            black_box(block_on(blog.load(black_box(&posts), ets::Post::COMMENTS)).unwrap());
        },
        || {
            black_box(hand.load(black_box(&hand_posts)));
        },
    );
    rows.push(Row {
        name: format!("ets_load {POSTS}x{PER_POST}"),
        ash,
        hand: hand_ns,
        ratio,
        target: "1.3x",
    });
}

/// The load of 100 posts from a table of `total` comments: does not grow with `total`.
fn ets_table_size(c: &mut Criterion, rows: &mut Vec<Row>) {
    let mut group = c.benchmark_group("ets_table_size");
    group.sample_size(30);
    for total in [1_000usize, 1_000_000] {
        let parents = 100;
        let (blog, posts, hand, hand_posts) = ets_seed(parents, total - parents * PER_POST);
        assert_eq!(hand.comments.len(), total);
        group.bench_function(format!("ash_{total}"), |b| {
            b.iter(|| {
                black_box(block_on(blog.load(black_box(&posts), ets::Post::COMMENTS)).unwrap())
            })
        });
        group.bench_function(format!("hand_written_{total}"), |b| {
            b.iter(|| black_box(hand.load(black_box(&hand_posts))))
        });
        let (ash, hand_ns, ratio) = paired(
            21,
            50,
            || {
                black_box(block_on(blog.load(black_box(&posts), ets::Post::COMMENTS)).unwrap());
            },
            || {
                black_box(hand.load(black_box(&hand_posts)));
            },
        );
        rows.push(Row {
            name: format!("ets_load 100x{PER_POST} of {total}"),
            ash,
            hand: hand_ns,
            ratio,
            target: "flat",
        });
    }
    group.finish();
}

fn pg_group(c: &mut Criterion, rows: &mut Vec<Row>) {
    use ash_rs::domain::HasResource;
    use ash_rs::postgres::Pool;
    let url = std::env::var("ASH_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let schema = format!("ash_rs_rel_bench_{}", std::process::id());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let built = rt.block_on(
        Pool::builder(&url)
            .schema(schema.clone())
            .create_missing_tables(true)
            .connection_timeout(Duration::from_secs(3))
            .build(),
    );
    let pool = match built {
        Ok(pool) => pool,
        Err(err) => {
            println!("skipping the PostgreSQL group: no server at {url} ({err})");
            return;
        }
    };
    let blog = rt.block_on(pg::Blog::connect(&pool)).expect("the tables");
    let quoted = |name: &str| -> String {
        name.split('.')
            .map(|part| format!("\"{part}\""))
            .collect::<Vec<_>>()
            .join(".")
    };
    let posts_table = quoted(HasResource::<pg::Post>::data_layer(&blog).table_name());
    let comments_table = quoted(HasResource::<pg::Comment>::data_layer(&blog).table_name());
    rt.block_on(async {
        let mut client = pool.get().await?;
        client
            .batch_execute(&format!(
                "INSERT INTO {posts_table} (\"id\", \"title\") \
                 SELECT gen_random_uuid(), 'post ' || g FROM generate_series(1, {POSTS}) g; \
                 INSERT INTO {comments_table} (\"id\", \"post_id\", \"body\", \"score\") \
                 SELECT gen_random_uuid(), p.\"id\", 'comment ' || g, g \
                 FROM {posts_table} p, generate_series(1, {PER_POST}) g; \
                 CREATE INDEX ON {comments_table} (\"post_id\"); \
                 ANALYZE {posts_table}; ANALYZE {comments_table};"
            ))
            .await
    })
    .expect("the seed");
    let posts = rt.block_on(blog.posts()).expect("the posts");
    assert_eq!(posts.len(), POSTS);
    let hand_posts: Vec<HandPost> = posts
        .iter()
        .map(|p| HandPost {
            id: p.id,
            title: p.title.clone(),
        })
        .collect();
    let select = format!(
        "SELECT \"id\", \"post_id\", \"body\", \"score\" FROM {comments_table} WHERE \"post_id\" = ANY($1)"
    );
    let hand_load = |posts: &[HandPost]| {
        let pool = pool.clone();
        let select = select.clone();
        let ids: Vec<Uuid> = posts.iter().map(|p| p.id).collect();
        let posts = posts.to_vec();
        async move {
            let mut client = pool.get().await.unwrap();
            let rows = client.query(&select, &[&ids]).await.unwrap();
            let mut groups: HashMap<Uuid, Vec<HandComment>> = HashMap::with_capacity(ids.len());
            for row in rows {
                let comment = HandComment {
                    id: row.get(0),
                    post_id: row.get(1),
                    body: row.get(2),
                    score: row.get(3),
                };
                groups.entry(comment.post_id).or_default().push(comment);
            }
            (posts, groups)
        }
    };
    let check = rt
        .block_on(blog.load(&posts, pg::Post::COMMENTS))
        .expect("a load");
    assert!(check
        .iter()
        .all(|p| p.comments.get().map(Vec::len) == Ok(PER_POST)));
    let (_, groups) = rt.block_on(hand_load(&hand_posts));
    assert!(groups.values().all(|g| g.len() == PER_POST) && groups.len() == POSTS);
    let mut group = c.benchmark_group("pg_load");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    group.bench_function("ash", |b| {
        b.iter(|| {
            black_box(
                rt.block_on(blog.load(black_box(&posts), pg::Post::COMMENTS))
                    .unwrap(),
            )
        })
    });
    group.bench_function("hand_written", |b| {
        b.iter(|| black_box(rt.block_on(hand_load(black_box(&hand_posts)))))
    });
    group.finish();
    let (ash, hand_ns, ratio) = paired(
        11,
        2,
        || {
            black_box(
                rt.block_on(blog.load(black_box(&posts), pg::Post::COMMENTS))
                    .unwrap(),
            );
        },
        || {
            black_box(rt.block_on(hand_load(black_box(&hand_posts))));
        },
    );
    rows.push(Row {
        name: format!("pg_load {POSTS}x{PER_POST}"),
        ash,
        hand: hand_ns,
        ratio,
        target: "1.5x",
    });
    let _ = rt.block_on(async {
        pool.get()
            .await?
            .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
            .await
    });
}

fn main() {
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    let mut rows = Vec::new();
    let only = std::env::var("ASH_REL_BENCH").unwrap_or_default();
    if only.is_empty() || only.contains("ets") {
        ets_group(&mut criterion, &mut rows);
    }
    if only.is_empty() || only.contains("size") {
        ets_table_size(&mut criterion, &mut rows);
    }
    if only.is_empty() || only.contains("pg") {
        pg_group(&mut criterion, &mut rows);
    }
    criterion.final_summary();
    println!();
    println!("Paired medians (both sides back to back per round):");
    println!(
        "{:<28} {:>14} {:>14} {:>11} {:>7}",
        "load", "ash (ns)", "hand (ns)", "ash / hand", "target"
    );
    for row in rows {
        println!(
            "{:<28} {:>14.0} {:>14.0} {:>10.2}x {:>7}",
            row.name, row.ash, row.hand, row.ratio, row.target
        );
    }
}
