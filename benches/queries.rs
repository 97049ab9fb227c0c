//! A filtered read over 100,000 records: the generated read action with a typed query
//! against a hand-written `DashMap` scan (`iter().filter(..).map(clone).collect()`) over
//! the same data, in the same run. Reported as nanoseconds per record scanned.
//!
//! The read is awaited with `ash_rs::block_on`.
//!
//! Run it with `cargo bench --bench queries`.

use std::hint::black_box;
use std::time::Duration;

use ash_rs::block_on;
use ash_rs::prelude::*;
use common::{append_report, criterion_dir, median_ns, verdict};
use criterion::{criterion_group, Criterion};
use dashmap::DashMap;

mod common;

use common::seed::*;

/// Records in both tables.
const RECORDS: usize = 100_000;
const STATES: [&str; 5] = ["FL", "NC", "CA", "NY", "TX"];

/// The same records on both sides: states in turn, every third record updated once (so
/// version 2). `state == "FL" and version > 1` then matches one record in 15.
fn fill() -> (Domain, DashMap<Uuid, HandAddress>) {
    let domain = Domain::new();
    let hand = DashMap::new();
    for i in 0..RECORDS {
        let mut record =
            block_on(domain.create_address(STATES[i % STATES.len()], "Pinellas")).unwrap();
        if i % 3 == 0 {
            record = block_on(
                domain.update_address(&record, AddressUpdateInput::new().county("Guilford")),
            )
            .unwrap();
        }
        hand.insert(
            record.id,
            HandAddress {
                id: record.id,
                version: record.version,
                state: record.state,
                county: record.county,
            },
        );
    }
    (domain, hand)
}

fn bench_filtered_read(c: &mut Criterion) {
    let (domain, hand) = fill();
    let mut group = c.benchmark_group("filtered_read_100k");

    let ash_read = |domain: &Domain| {
        block_on(ash_rs::api::read(
            domain,
            AddressReadInput::new(),
            Query::new().filter(Address::STATE.eq(black_box("FL")) & Address::VERSION.gt(1)),
        ))
        .unwrap()
    };
    let hand_read = |hand: &DashMap<Uuid, HandAddress>| {
        let state = black_box("FL");
        hand.iter()
            .filter(|r| r.state == state && r.version > 1)
            .map(|r| r.value().clone())
            .collect::<Vec<_>>()
    };
    // Both sides find the same records.
    let (ash, hand_rows) = (ash_read(&domain), hand_read(&hand));
    assert_eq!(ash.len(), hand_rows.len());
    assert!(ash.len() > RECORDS / 20);

    group.bench_function("ash", |b| b.iter(|| black_box(ash_read(&domain))));
    group.bench_function("hand_written", |b| b.iter(|| black_box(hand_read(&hand))));
    // For reference: the ETS read orders its result by primary key (stable pages); the
    // hand-written scan doing the same.
    group.bench_function("hand_sorted", |b| {
        b.iter(|| {
            let mut rows = hand_read(&hand);
            rows.sort_by_key(|a| a.id);
            black_box(rows)
        })
    });

    // The scan alone: a filter nothing matches, so nothing is cloned.
    group.bench_function("ash_no_match", |b| {
        b.iter(|| {
            black_box(
                block_on(ash_rs::api::read(
                    &domain,
                    AddressReadInput::new(),
                    Query::new().filter(Address::STATE.eq(black_box("ZZ"))),
                ))
                .unwrap(),
            )
        })
    });
    group.bench_function("hand_no_match", |b| {
        b.iter(|| {
            let state = black_box("ZZ");
            black_box(
                hand.iter()
                    .filter(|r| r.state == state)
                    .map(|r| r.value().clone())
                    .collect::<Vec<_>>(),
            )
        })
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_filtered_read
}

fn report() {
    let dir = criterion_dir();
    let group = "filtered_read_100k";
    let mut markdown = format!(
        "### Filtered read over {RECORDS} records (`cargo bench --bench queries`)\n\n\
         | filter | ash (ns/record) | hand (ns/record) | ash / hand | bar |\n\
         |---|---:|---:|---:|---|\n"
    );
    println!();
    println!(
        "{:<36} {:>12} {:>12} {:>8}",
        "filter", "ash ns/rec", "hand ns/rec", "ratio"
    );
    for (label, ash, hand, bar) in [
        (
            "state == \"FL\" and version > 1 (1 in 15)",
            "ash",
            "hand_written",
            Some(1.5),
        ),
        (
            "same, hand-written result sorted by id",
            "ash",
            "hand_sorted",
            None,
        ),
        (
            "state == \"ZZ\" (scan only)",
            "ash_no_match",
            "hand_no_match",
            None,
        ),
    ] {
        let (Some(a), Some(h)) = (median_ns(&dir, group, ash), median_ns(&dir, group, hand)) else {
            continue;
        };
        let (a, h) = (a / RECORDS as f64, h / RECORDS as f64);
        println!("{label:<36} {a:>12.2} {h:>12.2} {:>7.2}x", a / h);
        markdown.push_str(&format!(
            "| `{label}` | {a:.2} | {h:.2} | {:.2}x | {} |\n",
            a / h,
            bar.map(|limit| format!("{limit}x: **{}**", verdict(a / h, limit)))
                .unwrap_or_else(|| "-".to_owned())
        ));
    }
    markdown.push_str("\nMedian time of one read divided by the records scanned.\n\n");
    append_report(&markdown);
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    report();
}
