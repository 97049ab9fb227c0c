//! The seed's code interface against hand-written `dashmap` code doing the same work.
//!
//! Each group holds an `ash` variant (the generated `create_address`, `update_address`,
//! `get_address`) and a `hand_written` variant: a plain copy of `Address` in a
//! `DashMap<Uuid, HandAddress>`, cloned in and out, with the same optimistic-lock check.
//! After the criterion runs, `report()` prints each group's medians and their ratio.
//!
//! Run it with `cargo bench --bench seed`.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use ash_rs::prelude::*;
use criterion::{criterion_group, Criterion};
use dashmap::mapref::entry::Entry;
use dashmap::DashMap;

// ---------------------------------------------------------------------------------------
// The seed: the resource and domain of examples/prevent_concurrent_writes.rs.

#[resource(domain = Domain, data_layer = Ets)]
#[actions(
    defaults(read, create = [state, county]),
    update(update, accept = [state, county], change = optimistic_lock(version)),
)]
#[derive(Debug, Clone, PartialEq)]
pub struct Address {
    #[uuid_primary_key]
    pub id: Uuid,
    #[attribute(default = 1)]
    pub version: i64,
    pub state: String,
    pub county: String,
}

#[domain]
#[resources(Address(
    define(get_address, action = read, get_by = [id]),
    define(create_address, action = create, args = [state, county]),
    define(update_address, action = update),
))]
pub struct Domain;

// ---------------------------------------------------------------------------------------
// The hand-written counterpart: the same struct, the same map, the same work.

#[derive(Debug, Clone, PartialEq)]
pub struct HandAddress {
    pub id: Uuid,
    pub version: i64,
    pub state: String,
    pub county: String,
}

#[derive(Debug, PartialEq)]
pub enum HandError {
    AlreadyExists,
    NotFound,
    Stale,
    Overflow,
}

#[derive(Default)]
pub struct HandTable {
    rows: DashMap<Uuid, HandAddress>,
}

impl HandTable {
    pub fn create(&self, state: &str, county: &str) -> Result<HandAddress, HandError> {
        let record = HandAddress {
            id: Uuid::new_v4(),
            version: 1,
            state: state.to_owned(),
            county: county.to_owned(),
        };
        match self.rows.entry(record.id) {
            Entry::Occupied(_) => Err(HandError::AlreadyExists),
            Entry::Vacant(slot) => {
                slot.insert(record.clone());
                Ok(record)
            }
        }
    }

    pub fn update(
        &self,
        record: &HandAddress,
        state: Option<&str>,
        county: Option<&str>,
    ) -> Result<HandAddress, HandError> {
        let state = state.map(str::to_owned);
        let county = county.map(str::to_owned);
        let mut stored = self.rows.get_mut(&record.id).ok_or(HandError::NotFound)?;
        if stored.version != record.version {
            return Err(HandError::Stale);
        }
        let version = stored.version.checked_add(1).ok_or(HandError::Overflow)?;
        if let Some(state) = state {
            stored.state = state;
        }
        if let Some(county) = county {
            stored.county = county;
        }
        stored.version = version;
        Ok(stored.clone())
    }

    pub fn get(&self, id: Uuid) -> Option<HandAddress> {
        self.rows.get(&id).map(|r| r.clone())
    }
}

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
                    domain
                        .create_address(black_box("FL"), black_box("Pinellas"))
                        .unwrap(),
                );
            }
            let elapsed = start.elapsed();
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
fn bench_update(c: &mut Criterion) {
    let mut group = c.benchmark_group("update");
    group.bench_function("ash", |b| {
        let domain = Domain::new();
        let mut latest = domain.create_address("FL", "Pinellas").unwrap();
        b.iter(|| {
            latest = domain
                .update_address(
                    black_box(&latest),
                    AddressUpdateInput::new()
                        .state(black_box("NC"))
                        .county(black_box("Guilford")),
                )
                .unwrap();
        });
        assert!(latest.version > 1);
    });
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
    group.bench_function("ash", |b| {
        let domain = Domain::new();
        let ids: Vec<Uuid> = (0..GET_TABLE_SIZE)
            .map(|_| domain.create_address("FL", "Pinellas").unwrap().id)
            .collect();
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % ids.len();
            black_box(domain.get_address(black_box(ids[i])).unwrap())
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
                let id = domain.create_address("FL", "Pinellas").unwrap().id;
                let start = Instant::now();
                std::thread::scope(|s| {
                    for _ in 0..THREADS {
                        s.spawn(|| {
                            for _ in 0..INCREMENTS_PER_THREAD {
                                loop {
                                    let current = domain.get_address(id).unwrap();
                                    match domain.update_address(
                                        &current,
                                        AddressUpdateInput::new().state("NC"),
                                    ) {
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
                let last = domain.get_address(id).unwrap();
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

fn config() -> Criterion {
    Criterion::default()
        .sample_size(50)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_create, bench_update, bench_get, bench_contention
}

// ---------------------------------------------------------------------------------------
// The ratio table.

/// Where criterion writes its results, found the way criterion finds it.
fn criterion_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(target).join("criterion");
    }
    let from_metadata = std::env::var_os("CARGO").and_then(|cargo| {
        let output = std::process::Command::new(cargo)
            .args(["metadata", "--format-version", "1", "--no-deps"])
            .output()
            .ok()?;
        let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).ok()?;
        Some(PathBuf::from(metadata["target_directory"].as_str()?).join("criterion"))
    });
    from_metadata.unwrap_or_else(|| PathBuf::from("target/criterion"))
}

/// The median point estimate, in nanoseconds, of one benchmark's latest run.
fn median_ns(dir: &std::path::Path, group: &str, function: &str) -> Option<f64> {
    let path = dir
        .join(group)
        .join(function)
        .join("new")
        .join("estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let estimates: serde_json::Value = serde_json::from_str(&text).ok()?;
    estimates["median"]["point_estimate"].as_f64()
}

fn report() {
    let dir = criterion_dir();
    println!();
    println!("Medians from {}", dir.display());
    println!(
        "{:<12} {:>16} {:>16} {:>12}",
        "operation", "ash (ns)", "hand (ns)", "ash / hand"
    );
    for group in ["create", "update", "get", "contention"] {
        let (Some(ash), Some(hand)) = (
            median_ns(&dir, group, "ash"),
            median_ns(&dir, group, "hand_written"),
        ) else {
            continue;
        };
        println!(
            "{:<12} {:>16.1} {:>16.1} {:>11.2}x",
            group,
            ash,
            hand,
            ash / hand
        );
    }
    println!(
        "(contention: one iteration = {THREADS} threads x {INCREMENTS_PER_THREAD} increments)"
    );
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    report();
}
