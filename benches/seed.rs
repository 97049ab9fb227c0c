//! The seed's code interface against hand-written `dashmap` code doing the same work.
//!
//! Each group holds an `ash` variant (the generated `create_address`, `update_address`,
//! `get_address`) and a `hand_written` variant: a plain copy of `Address` in a
//! `DashMap<Uuid, HandAddress>`, cloned in and out, with the same optimistic-lock check.
//! After the criterion runs, `report()` prints each group's medians and their ratio.
//!
//! The code interface is async. `ash` awaits each call with `ash_rs::block_on`, as sync
//! code does (the ETS futures are ready at once, so this is the cheapest executor);
//! `ash_async` (in `create`, `update` and `get`) awaits the calls one after another inside
//! one future, as an async caller does, with one `block_on` around the whole timed loop.
//!
//! Two groups compare generated code with generated code:
//! - `update_validated`: the locked update plus two validations (`string_length`,
//!   `present`) against the bare locked update (issue 3: at most 1.3x), with a
//!   hand-written validated update for reference;
//! - `get_via_read`: a get by primary key through the read action and a typed query
//!   (`ash_rs::api::get`) against the `get_address` code interface (issue 4: within 1.2x).
//!
//! Run it with `cargo bench --bench seed`. With `ASH_BENCH_REPORT=<file>` set, the ratio
//! table is also appended to that file as Markdown (`scripts/bench.sh` does this).

use std::hint::black_box;
use std::time::{Duration, Instant};

use ash_rs::block_on;
use ash_rs::prelude::*;
use common::{append_report, criterion_dir, median_ns, verdict};
use criterion::{criterion_group, Criterion};

mod common;

use common::seed::*;

// ---------------------------------------------------------------------------------------
// Benchmarks.

/// Records in the table the `get` benchmarks read from.
const GET_TABLE_SIZE: usize = 1_000;
/// Threads and increments per thread of one contention iteration.
const THREADS: usize = 2;
const INCREMENTS_PER_THREAD: usize = 1_000;

/// Creates: a fresh, empty table per sample (built and dropped outside the timing), so
/// memory stays bounded by one sample's iterations and both sides grow their map the same.
fn bench_create(c: &mut Criterion) {
    let mut group = c.benchmark_group("create");
    group.bench_function("ash", |b| {
        b.iter_custom(|iters| {
            let domain = Domain::new();
            let start = Instant::now();
            for _ in 0..iters {
                black_box(
                    block_on(domain.create_address(black_box("FL"), black_box("Pinellas")))
                        .unwrap(),
                );
            }
            let elapsed = start.elapsed();
            drop(domain);
            elapsed
        })
    });
    group.bench_function("ash_async", |b| {
        b.iter_custom(|iters| {
            let domain = Domain::new();
            let elapsed = block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    black_box(
                        domain
                            .create_address(black_box("FL"), black_box("Pinellas"))
                            .await
                            .unwrap(),
                    );
                }
                start.elapsed()
            });
            drop(domain);
            elapsed
        })
    });
    group.bench_function("hand_written", |b| {
        b.iter_custom(|iters| {
            let table = HandTable::default();
            let start = Instant::now();
            for _ in 0..iters {
                black_box(
                    table
                        .create(black_box("FL"), black_box("Pinellas"))
                        .unwrap(),
                );
            }
            let elapsed = start.elapsed();
            drop(table);
            elapsed
        })
    });
    group.finish();
}

/// Updates through the optimistic lock, always with the latest record (so every update
/// succeeds); the record returned is the one passed next time.
fn update_address_latest(b: &mut criterion::Bencher) {
    let domain = Domain::new();
    let mut latest = block_on(domain.create_address("FL", "Pinellas")).unwrap();
    b.iter(|| {
        latest = block_on(
            domain.update_address(
                black_box(&latest),
                AddressUpdateInput::new()
                    .state(black_box("NC"))
                    .county(black_box("Guilford")),
            ),
        )
        .unwrap();
    });
    assert!(latest.version > 1);
}

/// [`update_address_latest`] awaited in one async loop per sample.
fn update_address_latest_async(b: &mut criterion::Bencher) {
    let domain = Domain::new();
    let mut latest = block_on(domain.create_address("FL", "Pinellas")).unwrap();
    b.iter_custom(|iters| {
        block_on(async {
            let start = Instant::now();
            for _ in 0..iters {
                latest = domain
                    .update_address(
                        black_box(&latest),
                        AddressUpdateInput::new()
                            .state(black_box("NC"))
                            .county(black_box("Guilford")),
                    )
                    .await
                    .unwrap();
            }
            start.elapsed()
        })
    });
    assert!(latest.version > 1);
}

/// The locked update against the hand-written one.
fn bench_update(c: &mut Criterion) {
    let mut group = c.benchmark_group("update");
    group.bench_function("ash", update_address_latest);
    group.bench_function("ash_async", update_address_latest_async);
    group.bench_function("hand_written", |b| {
        let table = HandTable::default();
        let mut latest = table.create("FL", "Pinellas").unwrap();
        b.iter(|| {
            latest = table
                .update(
                    black_box(&latest),
                    Some(black_box("NC")),
                    Some(black_box("Guilford")),
                )
                .unwrap();
        });
        assert!(latest.version > 1);
    });
    group.finish();
}

/// Gets by primary key from a table of `GET_TABLE_SIZE` records, cycling through the ids.
fn bench_get(c: &mut Criterion) {
    let mut group = c.benchmark_group("get");
    let domain = Domain::new();
    let ids: Vec<Uuid> = (0..GET_TABLE_SIZE)
        .map(|_| {
            block_on(domain.create_address("FL", "Pinellas"))
                .unwrap()
                .id
        })
        .collect();
    group.bench_function("ash", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % ids.len();
            black_box(block_on(domain.get_address(black_box(ids[i]))).unwrap())
        });
    });
    group.bench_function("ash_async", |b| {
        let mut i = 0;
        b.iter_custom(|iters| {
            block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    i = (i + 1) % ids.len();
                    black_box(domain.get_address(black_box(ids[i])).await.unwrap());
                }
                start.elapsed()
            })
        });
    });
    group.bench_function("hand_written", |b| {
        let table = HandTable::default();
        let ids: Vec<Uuid> = (0..GET_TABLE_SIZE)
            .map(|_| table.create("FL", "Pinellas").unwrap().id)
            .collect();
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % ids.len();
            black_box(table.get(black_box(ids[i])).unwrap())
        });
    });
    group.finish();
}

/// `THREADS` threads each make `INCREMENTS_PER_THREAD` read-modify-write increments of one
/// record, retrying on a stale version. One criterion iteration is one such run on a fresh
/// record; the thread spawns and joins are timed on both sides alike.
fn bench_contention(c: &mut Criterion) {
    let mut group = c.benchmark_group("contention");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(5));
    let total = (THREADS * INCREMENTS_PER_THREAD) as i64;

    group.bench_function("ash", |b| {
        let domain = Domain::new();
        b.iter_custom(|iters| {
            let mut elapsed = Duration::ZERO;
            for _ in 0..iters {
                let id = block_on(domain.create_address("FL", "Pinellas"))
                    .unwrap()
                    .id;
                let start = Instant::now();
                std::thread::scope(|s| {
                    for _ in 0..THREADS {
                        s.spawn(|| {
                            for _ in 0..INCREMENTS_PER_THREAD {
                                loop {
                                    let current = block_on(domain.get_address(id)).unwrap();
                                    match block_on(domain.update_address(
                                        &current,
                                        AddressUpdateInput::new().state("NC"),
                                    )) {
                                        Ok(_) => break,
                                        Err(err) if err.is_stale() => continue,
                                        Err(err) => panic!("unexpected error: {err}"),
                                    }
                                }
                            }
                        });
                    }
                });
                elapsed += start.elapsed();
                let last = block_on(domain.get_address(id)).unwrap();
                assert_eq!(last.version, 1 + total, "an update was lost");
            }
            elapsed
        })
    });
    group.bench_function("hand_written", |b| {
        let table = HandTable::default();
        b.iter_custom(|iters| {
            let mut elapsed = Duration::ZERO;
            for _ in 0..iters {
                let id = table.create("FL", "Pinellas").unwrap().id;
                let start = Instant::now();
                std::thread::scope(|s| {
                    for _ in 0..THREADS {
                        s.spawn(|| {
                            for _ in 0..INCREMENTS_PER_THREAD {
                                loop {
                                    let current = table.get(id).unwrap();
                                    match table.update(&current, Some("NC"), None) {
                                        Ok(_) => break,
                                        Err(HandError::Stale) => continue,
                                        Err(err) => panic!("unexpected error: {err:?}"),
                                    }
                                }
                            }
                        });
                    }
                });
                elapsed += start.elapsed();
                let last = table.get(id).unwrap();
                assert_eq!(last.version, 1 + total, "an update was lost");
            }
            elapsed
        })
    });
    group.finish();
}

/// The locked update with two validations against the bare locked update, both generated,
/// always with the latest record; and the hand-written update doing the same checks.
fn bench_update_validated(c: &mut Criterion) {
    let mut group = c.benchmark_group("update_validated");
    group.bench_function("validated", |b| {
        let domain = Domain::new();
        let mut latest = block_on(domain.create_address("FL", "Pinellas")).unwrap();
        b.iter(|| {
            latest = block_on(
                domain.update_address_validated(
                    black_box(&latest),
                    AddressUpdateValidatedInput::new()
                        .state(black_box("NC"))
                        .county(black_box("Guilford")),
                ),
            )
            .unwrap();
        });
        assert!(latest.version > 1);
    });
    group.bench_function("bare", update_address_latest);
    group.bench_function("hand_written", |b| {
        let table = HandTable::default();
        let mut latest = table.create("FL", "Pinellas").unwrap();
        b.iter(|| {
            latest = table
                .update_validated(
                    black_box(&latest),
                    Some(black_box("NC")),
                    Some(black_box("Guilford")),
                )
                .unwrap();
        });
        assert!(latest.version > 1);
    });
    group.finish();
}

/// A get by primary key through the read action and a typed query
/// (`ash_rs::api::get(.., Query::new().filter(Address::ID.eq(id)))`) against the
/// `get_address` code interface and the hand-written get, from `GET_TABLE_SIZE` records.
fn bench_get_via_read(c: &mut Criterion) {
    let mut group = c.benchmark_group("get_via_read");
    let domain = Domain::new();
    let ids: Vec<Uuid> = (0..GET_TABLE_SIZE)
        .map(|_| {
            block_on(domain.create_address("FL", "Pinellas"))
                .unwrap()
                .id
        })
        .collect();
    group.bench_function("read_action", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % ids.len();
            black_box(
                block_on(ash_rs::api::get(
                    &domain,
                    AddressReadInput::new(),
                    Query::new().filter(Address::ID.eq(black_box(ids[i]))),
                ))
                .unwrap(),
            )
        });
    });
    group.bench_function("get_address", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % ids.len();
            black_box(block_on(domain.get_address(black_box(ids[i]))).unwrap())
        });
    });
    group.bench_function("hand_written", |b| {
        let table = HandTable::default();
        let ids: Vec<Uuid> = (0..GET_TABLE_SIZE)
            .map(|_| table.create("FL", "Pinellas").unwrap().id)
            .collect();
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % ids.len();
            black_box(table.get(black_box(ids[i])).unwrap())
        });
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(50)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_create, bench_update, bench_get, bench_contention, bench_update_validated, bench_get_via_read
}

// ---------------------------------------------------------------------------------------
// The ratio table.

/// One row of the ratio table: `numerator / denominator`, both medians of `group`.
struct Row {
    label: &'static str,
    group: &'static str,
    numerator: &'static str,
    denominator: &'static str,
    bar: &'static str,
    /// The bar as a number, if there is one.
    limit: Option<f64>,
}

const ROWS: &[Row] = &[
    Row {
        label: "create",
        group: "create",
        numerator: "ash",
        denominator: "hand_written",
        bar: "1.1x (issue 7; issue 2: 2x)",
        limit: Some(1.1),
    },
    Row {
        label: "update",
        group: "update",
        numerator: "ash",
        denominator: "hand_written",
        bar: "1.25x (issue 7; issue 2: 2x)",
        limit: Some(1.25),
    },
    Row {
        label: "get",
        group: "get",
        numerator: "ash",
        denominator: "hand_written",
        bar: "1.25x (issue 7; issue 2: 2x)",
        limit: Some(1.25),
    },
    Row {
        label: "create, async loop",
        group: "create",
        numerator: "ash_async",
        denominator: "hand_written",
        bar: "1.1x (issue 7; issue 2: 2x)",
        limit: Some(1.1),
    },
    Row {
        label: "update, async loop",
        group: "update",
        numerator: "ash_async",
        denominator: "hand_written",
        bar: "1.25x (issue 7; issue 2: 2x)",
        limit: Some(1.25),
    },
    Row {
        label: "get, async loop",
        group: "get",
        numerator: "ash_async",
        denominator: "hand_written",
        bar: "1.25x (issue 7; issue 2: 2x)",
        limit: Some(1.25),
    },
    Row {
        label: "contention (2 threads, 1 record)",
        group: "contention",
        numerator: "ash",
        denominator: "hand_written",
        bar: "2x",
        limit: Some(2.0),
    },
    Row {
        label: "update_validated: validated / bare",
        group: "update_validated",
        numerator: "validated",
        denominator: "bare",
        bar: "1.3x (issue 3)",
        limit: Some(1.3),
    },
    Row {
        label: "update_validated: validated / hand",
        group: "update_validated",
        numerator: "validated",
        denominator: "hand_written",
        bar: "1.5x (issue 7)",
        limit: Some(1.5),
    },
    Row {
        label: "get_via_read: read action / get_address",
        group: "get_via_read",
        numerator: "read_action",
        denominator: "get_address",
        bar: "1.2x (issue 4)",
        limit: Some(1.2),
    },
    Row {
        label: "get_via_read: read action / hand",
        group: "get_via_read",
        numerator: "read_action",
        denominator: "hand_written",
        bar: "-",
        limit: None,
    },
];

fn report() {
    let dir = criterion_dir();
    let mut markdown = String::from(
        "### Code interface (`cargo bench --bench seed`)\n\n\
         | comparison | numerator (ns) | denominator (ns) | ratio | bar |\n\
         |---|---:|---:|---:|---|\n",
    );
    println!();
    println!("Medians from {}", dir.display());
    println!(
        "{:<42} {:>14} {:>14} {:>8}",
        "comparison", "num (ns)", "den (ns)", "ratio"
    );
    for row in ROWS {
        let (Some(num), Some(den)) = (
            median_ns(&dir, row.group, row.numerator),
            median_ns(&dir, row.group, row.denominator),
        ) else {
            continue;
        };
        println!(
            "{:<42} {:>14.1} {:>14.1} {:>7.2}x",
            row.label,
            num,
            den,
            num / den
        );
        markdown.push_str(&format!(
            "| {} | {:.1} | {:.1} | {:.2}x | {}{} |\n",
            row.label,
            num,
            den,
            num / den,
            row.bar,
            row.limit
                .map(|limit| format!(": **{}**", verdict(num / den, limit)))
                .unwrap_or_default()
        ));
    }
    println!(
        "(contention: one iteration = {THREADS} threads x {INCREMENTS_PER_THREAD} increments)"
    );
    markdown.push_str(&format!(
        "\nMedians per call; `contention` is one run of {THREADS} threads x \
         {INCREMENTS_PER_THREAD} increments of one record. `get` and `get_via_read` read \
         from {GET_TABLE_SIZE} records. The code interface is async: the plain rows await \
         each call with `ash_rs::block_on` (the sync caller's way), the async-loop rows \
         await the calls one after another inside one future.\n\n"
    ));
    append_report(&markdown);
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    report();
}
