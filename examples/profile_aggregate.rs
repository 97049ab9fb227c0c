//! A driver for instruction-count profiles of the ETS `count` aggregate against a
//! hand-written `dashmap` index (the `ets_count_10000_parents` case of
//! `benches/aggregates.rs`): `valgrind --tool=callgrind` counts instructions, which stay
//! stable on a shared, noisy machine where wall-clock time does not.
//!
//! ```sh
//! cargo build --release --example profile_aggregate
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/examples/profile_aggregate ash 10
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/examples/profile_aggregate ash 0
//! ```
//!
//! Arguments: `ash|hand` (or `time`: a quick wall-clock ratio; `lookup`: the same without
//! the copy of the posts) and the number of rounds. A round is what one benchmark
//! iteration does: a fresh copy of the 10,000 posts, then their comment count (10 comments
//! each) loaded onto them: `domain.load_into(&mut posts, Post::COMMENT_COUNT)` on the
//! `ash` side, one lookup in a `DashMap<post id, Vec<comment id>>` and `len()` per post on
//! the `hand` side. The setup is the same on both sides, so subtracting a 0-round run and
//! dividing by `rounds * 10,000` gives the instructions per parent.

use ash_rs::prelude::*;
use dashmap::DashMap;
use std::hint::black_box;

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

const PARENTS: usize = 10_000;

/// The ash side: the count loaded onto every post.
fn ash_counts(blog: &Blog, posts: &mut [Post]) {
    ash_rs::block_on(blog.load_into(posts, Post::COMMENT_COUNT)).expect("the counts");
}

/// The hand side: one index lookup and `len()` per post.
fn hand_counts(index: &DashMap<Uuid, Vec<Uuid>>, posts: &mut [Post]) {
    for post in posts.iter_mut() {
        let n = index.get(&post.id).map_or(0, |ids| ids.len());
        post.comment_count = Loaded::new(n as i64);
    }
}

/// Prints the median over `rounds` of ash's time over hand's: each round times 20
/// back-to-back `run(0)` (ash) and `run(1)` (hand), which side goes first alternating.
fn print_median_ratio(rounds: usize, mut run: impl FnMut(usize)) {
    let mut ratios = Vec::new();
    for round in 0..rounds.max(1) {
        let mut times = [0f64; 2];
        for step in 0..2 {
            let side = (round + step) % 2;
            let start = std::time::Instant::now();
            for _ in 0..20 {
                run(side);
            }
            times[side] = start.elapsed().as_secs_f64() / 20.0;
        }
        ratios.push((times[0] / times[1], times[0], times[1]));
    }
    ratios.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (r, a, h) = ratios[ratios.len() / 2];
    println!(
        "ash {:.1} us, hand {:.1} us, ratio {r:.2}x",
        a * 1e6,
        h * 1e6
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let side = args.get(1).map(String::as_str).unwrap_or("ash");
    let rounds: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(10);
    let blog = Blog::new();
    let index: DashMap<Uuid, Vec<Uuid>> = DashMap::new();
    ash_rs::block_on(async {
        for i in 0..PARENTS {
            let post = blog.create_post(format!("p{i}")).await.expect("a post");
            for s in 0..10i64 {
                let comment = blog
                    .create_comment(s, Some(post.id))
                    .await
                    .expect("a comment");
                index.entry(post.id).or_default().push(comment.id);
            }
        }
    });
    let posts: Vec<Post> = ash_rs::block_on(blog.posts()).expect("the posts");
    assert_eq!(posts.len(), PARENTS);
    match side {
        "ash" | "hand" => {
            for _ in 0..rounds {
                let mut fresh = posts.clone();
                if side == "ash" {
                    ash_counts(&blog, &mut fresh);
                } else {
                    hand_counts(&index, &mut fresh);
                }
                assert_eq!(fresh[0].comment_count.get(), Ok(&10));
                black_box(fresh);
            }
        }
        "lookup" => {
            // The lookups alone: one copy of the posts, their counts reset between calls
            // (the same work on both sides).
            let mut work = posts.clone();
            print_median_ratio(rounds, |side| {
                for post in work.iter_mut() {
                    post.comment_count = Loaded::not_loaded();
                }
                if side == 0 {
                    ash_counts(&blog, &mut work);
                } else {
                    hand_counts(&index, &mut work);
                }
                black_box(&work);
            });
        }
        "time" => {
            // A quick wall-clock check (the benchmark is the reference), a fresh copy of
            // the posts per call as in a round.
            print_median_ratio(rounds, |side| {
                let mut fresh = posts.clone();
                if side == 0 {
                    ash_counts(&blog, &mut fresh);
                } else {
                    hand_counts(&index, &mut fresh);
                }
                black_box(fresh);
            });
        }
        other => panic!("unknown side {other}: ash|hand|lookup|time"),
    }
}
