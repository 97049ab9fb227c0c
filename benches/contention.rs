//! Contention (issue 7): 2, 4 and 8 threads make read-modify-write increments with a retry
//! on `StaleRecord`, on one record and on 1,000 records (each thread picks records at
//! random), generated code against the hand-written retry loop, in the same run.
//!
//! One criterion iteration is one run of `TOTAL_INCREMENTS` increments split over the
//! threads, on fresh records (created outside the timing; the thread spawns and joins are
//! timed on both sides alike). After every run each record is checked: `counter ==
//! version - 1`, and the counters add up to the increments made (no lost update).
//!
//! The generated side awaits each call with `ash_rs::block_on` on its thread (the sync
//! caller's way; ETS futures are ready at once).
//!
//! Run it with `cargo bench --bench contention`.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ash_rs::block_on;
use ash_rs::prelude::*;
use common::{append_report, criterion_dir, median_ns, verdict};
use criterion::{criterion_group, BenchmarkId, Criterion};
use dashmap::DashMap;

mod common;

#[resource(domain = Domain, data_layer = Ets)]
#[actions(
    defaults(read, create = [state, county]),
    update(increment, accept = [counter], change = optimistic_lock(version)),
)]
#[derive(Debug, Clone, PartialEq)]
pub struct Address {
    #[uuid_primary_key]
    pub id: Uuid,
    #[attribute(default = 1)]
    pub version: i64,
    pub state: String,
    pub county: String,
    #[attribute(default = 0)]
    pub counter: i64,
}

#[domain]
#[resources(Address(
    define(get_address, action = read, get_by = [id]),
    define(create_address, action = create, args = [state, county]),
    define(increment_address, action = increment),
))]
pub struct Domain;

#[derive(Debug, Clone, PartialEq)]
pub struct HandAddress {
    pub id: Uuid,
    pub version: i64,
    pub state: String,
    pub county: String,
    pub counter: i64,
}

/// Increments per run, split evenly over the threads.
const TOTAL_INCREMENTS: usize = 8_000;
const THREAD_COUNTS: [usize; 3] = [2, 4, 8];
const RECORD_COUNTS: [usize; 2] = [1, 1_000];

/// Retries and increments per benchmark id, over every run (warm-up included).
static RETRIES: Mutex<BTreeMap<String, (u64, u64)>> = Mutex::new(BTreeMap::new());

fn note_retries(id: &str, retries: u64, increments: u64) {
    let mut map = RETRIES.lock().unwrap();
    let entry = map.entry(id.to_owned()).or_default();
    entry.0 += retries;
    entry.1 += increments;
}

/// A small xorshift, so each thread picks records at random without a dependency.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// One timed run of the generated code; returns the time and the retries.
fn run_ash(records: usize, threads: usize, seed: u64) -> (Duration, u64) {
    let domain = Domain::new();
    let ids: Vec<Uuid> = (0..records)
        .map(|_| {
            block_on(domain.create_address("FL", "Pinellas"))
                .unwrap()
                .id
        })
        .collect();
    let retries = AtomicU64::new(0);
    let per_thread = TOTAL_INCREMENTS / threads;
    let start = Instant::now();
    std::thread::scope(|s| {
        for t in 0..threads {
            let (domain, ids, retries) = (&domain, &ids, &retries);
            s.spawn(move || {
                let mut rng = Rng::new(seed * 64 + t as u64);
                let mut mine = 0;
                for _ in 0..per_thread {
                    let id = ids[rng.below(ids.len())];
                    loop {
                        let current = block_on(domain.get_address(id)).unwrap();
                        let input = AddressIncrementInput::new().counter(current.counter + 1);
                        match block_on(domain.increment_address(&current, input)) {
                            Ok(_) => break,
                            Err(err) if err.is_stale() => mine += 1,
                            Err(err) => panic!("unexpected error: {err}"),
                        }
                    }
                }
                retries.fetch_add(mine, Ordering::Relaxed);
            });
        }
    });
    let elapsed = start.elapsed();
    // No lost update: every record's counter matches its version, and they add up.
    let all = block_on(ash_rs::api::read(
        &domain,
        AddressReadInput::new(),
        Query::new(),
    ))
    .unwrap();
    assert_eq!(all.len(), records);
    let mut sum = 0;
    for record in &all {
        assert_eq!(record.counter, record.version - 1, "an update was lost");
        sum += record.counter;
    }
    assert_eq!(sum as usize, per_thread * threads, "an update was lost");
    (elapsed, retries.into_inner())
}

#[derive(Debug)]
enum HandError {
    NotFound,
    Stale,
}

/// The hand-written table: read a clone; under `get_mut`, compare the version and write
/// version + 1 and counter + 1.
#[derive(Default)]
struct HandTable {
    rows: DashMap<Uuid, HandAddress>,
}

impl HandTable {
    fn create(&self) -> Uuid {
        let record = HandAddress {
            id: Uuid::new_v4(),
            version: 1,
            state: "FL".to_owned(),
            county: "Pinellas".to_owned(),
            counter: 0,
        };
        let id = record.id;
        self.rows.insert(id, record);
        id
    }

    fn get(&self, id: Uuid) -> Option<HandAddress> {
        self.rows.get(&id).map(|r| r.clone())
    }

    fn increment(&self, current: &HandAddress) -> Result<HandAddress, HandError> {
        let mut stored = self.rows.get_mut(&current.id).ok_or(HandError::NotFound)?;
        if stored.version != current.version {
            return Err(HandError::Stale);
        }
        stored.version = current.version + 1;
        stored.counter = current.counter + 1;
        Ok(stored.clone())
    }
}

fn run_hand(records: usize, threads: usize, seed: u64) -> (Duration, u64) {
    let table = HandTable::default();
    let ids: Vec<Uuid> = (0..records).map(|_| table.create()).collect();
    let retries = AtomicU64::new(0);
    let per_thread = TOTAL_INCREMENTS / threads;
    let start = Instant::now();
    std::thread::scope(|s| {
        for t in 0..threads {
            let (table, ids, retries) = (&table, &ids, &retries);
            s.spawn(move || {
                let mut rng = Rng::new(seed * 64 + t as u64);
                let mut mine = 0;
                for _ in 0..per_thread {
                    let id = ids[rng.below(ids.len())];
                    loop {
                        let current = table.get(id).unwrap();
                        match table.increment(&current) {
                            Ok(updated) => {
                                black_box(updated);
                                break;
                            }
                            Err(HandError::Stale) => mine += 1,
                            Err(err) => panic!("unexpected error: {err:?}"),
                        }
                    }
                }
                retries.fetch_add(mine, Ordering::Relaxed);
            });
        }
    });
    let elapsed = start.elapsed();
    assert_eq!(table.rows.len(), records);
    let mut sum = 0;
    for record in table.rows.iter() {
        assert_eq!(record.counter, record.version - 1, "an update was lost");
        sum += record.counter;
    }
    assert_eq!(sum as usize, per_thread * threads, "an update was lost");
    (elapsed, retries.into_inner())
}

fn group_name(records: usize) -> String {
    if records == 1 {
        "contention_1_record".to_owned()
    } else {
        format!("contention_{records}_records")
    }
}

fn bench_contention(c: &mut Criterion) {
    for records in RECORD_COUNTS {
        let mut group = c.benchmark_group(group_name(records));
        for threads in THREAD_COUNTS {
            type Run = fn(usize, usize, u64) -> (Duration, u64);
            for (side, run) in [("ash", run_ash as Run), ("hand_written", run_hand as Run)] {
                let key = format!("{}/{side}/{threads}", group_name(records));
                group.bench_function(BenchmarkId::new(side, threads), |b| {
                    let mut seed = 0;
                    b.iter_custom(|iters| {
                        let mut elapsed = Duration::ZERO;
                        for _ in 0..iters {
                            seed += 1;
                            let (time, retries) = run(records, threads, seed);
                            elapsed += time;
                            note_retries(&key, retries, TOTAL_INCREMENTS as u64);
                        }
                        elapsed
                    })
                });
            }
        }
        group.finish();
    }
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_contention
}

fn report() {
    let dir = criterion_dir();
    let retries = RETRIES.lock().unwrap();
    let retry_rate = |key: String| {
        retries
            .get(&key)
            .map(|(r, n)| *r as f64 / *n as f64)
            .unwrap_or(f64::NAN)
    };
    let mut markdown = format!(
        "### Contention (`cargo bench --bench contention`)\n\n\
         {TOTAL_INCREMENTS} read-modify-write increments per run, split over the threads, \
         each retried on a stale version; records picked at random. Throughput in million \
         increments per second (from the median run time); the ratio is hand / ash \
         throughput (= ash / hand time). Retries are per successful increment.\n\n\
         | records | threads | ash (M inc/s) | hand (M inc/s) | hand / ash | ash retries | hand retries | bar |\n\
         |---:|---:|---:|---:|---:|---:|---:|---|\n"
    );
    println!();
    println!(
        "{:>7} {:>7} {:>12} {:>12} {:>8} {:>10} {:>10}",
        "records", "threads", "ash Minc/s", "hand Minc/s", "ratio", "ash retry", "hand retry"
    );
    for records in RECORD_COUNTS {
        let group = group_name(records);
        for threads in THREAD_COUNTS {
            let (Some(ash), Some(hand)) = (
                median_ns(&dir, &group, &format!("ash/{threads}")),
                median_ns(&dir, &group, &format!("hand_written/{threads}")),
            ) else {
                continue;
            };
            let per_sec = |ns: f64| TOTAL_INCREMENTS as f64 / ns * 1e3;
            let (ash_rate, hand_rate) = (per_sec(ash), per_sec(hand));
            let ash_retry = retry_rate(format!("{group}/ash/{threads}"));
            let hand_retry = retry_rate(format!("{group}/hand_written/{threads}"));
            println!(
                "{records:>7} {threads:>7} {ash_rate:>12.2} {hand_rate:>12.2} {:>7.2}x {ash_retry:>10.3} {hand_retry:>10.3}",
                ash / hand
            );
            markdown.push_str(&format!(
                "| {records} | {threads} | {ash_rate:.2} | {hand_rate:.2} | {:.2}x | {ash_retry:.3} | {hand_retry:.3} | 1.5x: **{}** |\n",
                ash / hand,
                verdict(ash / hand, 1.5)
            ));
        }
    }
    markdown.push_str(
        "\nEvery run ends with a walk over every record: `counter == version - 1` and the \
         counters sum to the increments made (no lost update); all runs passed.\n\n",
    );
    append_report(&markdown);
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    report();
}
