//! Scaling: create, get and update cost at 1,000 to 1,000,000 stored records, and the cost
//! of a filtered read per record scanned, generated code against hand-written `dashmap`
//! code in the same run. A manual timing loop: each size is built afresh `REPS` times
//! (outside the timing), both sides in turn, and the medians are reported.
//!
//! The generated calls are awaited with `ash_rs::block_on`, one per call.
//!
//! Run it with `cargo bench --bench scaling`; `ASH_SCALING_MAX=100000` drops the larger
//! sizes.

use std::hint::black_box;
use std::time::Instant;

use ash_rs::block_on;
use ash_rs::prelude::*;

mod common;

use common::seed::*;

/// The hand-written filtered read: `state == "FL" and version > 1`.
fn read_fl_updated(table: &HandTable) -> Vec<HandAddress> {
    let state = black_box("FL");
    table
        .rows
        .iter()
        .filter(|r| r.state == state && r.version > 1)
        .map(|r| r.value().clone())
        .collect()
}

const SIZES: [usize; 4] = [1_000, 10_000, 100_000, 1_000_000];
const REPS: usize = 5;
const STATES: [&str; 5] = ["FL", "NC", "CA", "NY", "TX"];
/// Gets and updates timed per repetition, at random records.
const OPS: usize = 10_000;

/// Creates timed per repetition: a tenth of the size (so the table grows by 10% at most),
/// at most `OPS`.
fn create_ops(n: usize) -> usize {
    (n / 10).clamp(100, OPS)
}

/// Filtered reads timed per repetition: about 100,000 records scanned in all.
fn read_ops(n: usize) -> usize {
    (100_000 / n).max(1)
}

/// Random indices below `n`, from a xorshift (no dependency, the same on both sides).
fn indices(n: usize, count: usize, seed: u64) -> Vec<usize> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..count)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % n as u64) as usize
        })
        .collect()
}

/// Nanoseconds per operation (or per record scanned, for `read`) of one repetition.
#[derive(Default, Clone, Copy)]
struct Sample {
    create: f64,
    get: f64,
    update: f64,
    read: f64,
}

fn per_op(start: Instant, ops: usize) -> f64 {
    start.elapsed().as_nanos() as f64 / ops as f64
}

fn ash_rep(n: usize, seed: u64) -> Sample {
    let domain = Domain::new();
    let mut records: Vec<Address> = (0..n)
        .map(|i| block_on(domain.create_address(STATES[i % STATES.len()], "Pinellas")).unwrap())
        .collect();
    let picks = indices(n, OPS, seed);
    let mut sample = Sample::default();

    let start = Instant::now();
    for &i in &picks {
        black_box(block_on(domain.get_address(black_box(records[i].id))).unwrap());
    }
    sample.get = per_op(start, OPS);

    let start = Instant::now();
    for &i in &picks {
        records[i] = block_on(domain.update_address(
            black_box(&records[i]),
            AddressUpdateInput::new().county(black_box("Guilford")),
        ))
        .unwrap();
    }
    sample.update = per_op(start, OPS);

    let reads = read_ops(n);
    let start = Instant::now();
    let mut found = 0;
    for _ in 0..reads {
        found = block_on(ash_rs::api::read(
            &domain,
            AddressReadInput::new(),
            Query::new().filter(Address::STATE.eq(black_box("FL")) & Address::VERSION.gt(1)),
        ))
        .unwrap()
        .len();
    }
    sample.read = per_op(start, reads * n);
    let expected = records
        .iter()
        .filter(|r| r.state == "FL" && r.version > 1)
        .count();
    assert_eq!(found, expected);

    let creates = create_ops(n);
    let start = Instant::now();
    for _ in 0..creates {
        black_box(block_on(domain.create_address(black_box("FL"), black_box("Pinellas"))).unwrap());
    }
    sample.create = per_op(start, creates);
    sample
}

fn hand_rep(n: usize, seed: u64) -> Sample {
    let table = HandTable::default();
    let mut records: Vec<HandAddress> = (0..n)
        .map(|i| table.create(STATES[i % STATES.len()], "Pinellas").unwrap())
        .collect();
    let picks = indices(n, OPS, seed);
    let mut sample = Sample::default();

    let start = Instant::now();
    for &i in &picks {
        black_box(table.get(black_box(records[i].id)).unwrap());
    }
    sample.get = per_op(start, OPS);

    let start = Instant::now();
    for &i in &picks {
        records[i] = table
            .update(black_box(&records[i]), None, Some(black_box("Guilford")))
            .unwrap();
    }
    sample.update = per_op(start, OPS);

    let reads = read_ops(n);
    let start = Instant::now();
    let mut found = 0;
    for _ in 0..reads {
        found = read_fl_updated(&table).len();
    }
    sample.read = per_op(start, reads * n);
    let expected = records
        .iter()
        .filter(|r| r.state == "FL" && r.version > 1)
        .count();
    assert_eq!(found, expected);

    let creates = create_ops(n);
    let start = Instant::now();
    for _ in 0..creates {
        black_box(
            table
                .create(black_box("FL"), black_box("Pinellas"))
                .unwrap(),
        );
    }
    sample.create = per_op(start, creates);
    sample
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let max: usize = std::env::var("ASH_SCALING_MAX")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(usize::MAX);
    let mut rows = Vec::new();
    for n in SIZES.into_iter().filter(|&n| n <= max) {
        let (mut ash, mut hand) = (Vec::new(), Vec::new());
        for rep in 0..REPS {
            // Alternate which side goes first, so drift on the machine hits both alike.
            if rep % 2 == 0 {
                ash.push(ash_rep(n, rep as u64 + 1));
                hand.push(hand_rep(n, rep as u64 + 1));
            } else {
                hand.push(hand_rep(n, rep as u64 + 1));
                ash.push(ash_rep(n, rep as u64 + 1));
            }
        }
        let pick = |samples: &[Sample], f: fn(&Sample) -> f64| {
            median(samples.iter().map(f).collect::<Vec<_>>())
        };
        let fields: [fn(&Sample) -> f64; 4] = [|s| s.create, |s| s.get, |s| s.update, |s| s.read];
        let medians: Vec<(f64, f64)> = fields
            .iter()
            .map(|&f| (pick(&ash, f), pick(&hand, f)))
            .collect();
        println!(
            "{n:>9}: create {:.1}/{:.1} get {:.1}/{:.1} update {:.1}/{:.1} read/rec {:.2}/{:.2} (ash/hand ns)",
            medians[0].0, medians[0].1, medians[1].0, medians[1].1, medians[2].0, medians[2].1,
            medians[3].0, medians[3].1
        );
        rows.push((n, medians));
    }

    let mut markdown = format!(
        "### Scaling (`cargo bench --bench scaling`)\n\n\
         Each size is built afresh {REPS} times (untimed), both sides in turn; medians of \
         the repetitions. Per repetition: {OPS} gets, then {OPS} updates (each with the \
         latest record), at random records; then filtered reads (`state == \"FL\" and \
         version > 1`) scanning about 100,000 records in all; then N/10 creates (100 to \
         {OPS}), which grow the table.\n\n\
         | records | create ash | create hand | ratio | get ash | get hand | ratio | update ash | update hand | ratio |\n\
         |---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    );
    for (n, m) in &rows {
        markdown.push_str(&format!("| {n} |"));
        for (a, h) in &m[..3] {
            markdown.push_str(&format!(" {a:.1} | {h:.1} | {:.2}x |", a / h));
        }
        markdown.push('\n');
    }
    markdown.push_str(
        "\n(ns per operation)\n\n\
         | records | read ash (ns/record) | read hand (ns/record) | ratio |\n\
         |---:|---:|---:|---:|\n",
    );
    for (n, m) in &rows {
        let (a, h) = m[3];
        markdown.push_str(&format!("| {n} | {a:.2} | {h:.2} | {:.2}x |\n", a / h));
    }
    markdown.push_str(
        "\nA flat ns/record column means the filtered read is linear in the records \
         scanned.\n\n",
    );
    common::append_report(&markdown);
}
