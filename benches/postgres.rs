//! The seed's code interface on PostgreSQL against hand-written SQL doing the same work
//! through the same client library (`tokio-postgres`) and the same pool, both driven by
//! one current-thread tokio runtime (`runtime.block_on` per iteration, on both sides).
//!
//! - `pg_update`: `domain.update_address(&latest, input)` against a hand-written
//!   `UPDATE ... SET "state" = $3, "county" = $4, "version" = "version" + 1
//!   WHERE "id" = $1 AND "version" = $2 RETURNING ...`, prepared once per connection;
//! - `pg_get`: `domain.get_address(id)` against `SELECT ... WHERE "id" = $1`;
//! - `pg_create`: `domain.create_address(..)` against `INSERT ... RETURNING ...`.
//!
//! After the criterion runs it prints each group's medians and their ratio (target for
//! update: within 1.1x). Run it with `cargo bench --bench postgres`; it uses
//! `ASH_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`), a schema of its
//! own that it drops at the end, and does nothing (exit 0) without a server. Its sessions
//! run with `synchronous_commit = off` (both sides alike), so a commit's disk flush does
//! not drown the difference being measured; `ASH_BENCH_SYNCHRONOUS_COMMIT=on` measures
//! with durable commits instead.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use ash_rs::postgres::tokio_postgres::Row;
use ash_rs::postgres::{Pool, Postgres};
use ash_rs::prelude::*;
use criterion::Criterion;
use tokio::runtime::Runtime;

#[resource(domain = Domain, data_layer = Postgres(table = "addresses"))]
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

/// The hand-written counterpart: the same struct, the same table, the same statements.
#[derive(Debug, Clone, PartialEq)]
pub struct HandAddress {
    pub id: Uuid,
    pub version: i64,
    pub state: String,
    pub county: String,
}

#[derive(Debug)]
pub enum HandError {
    Stale,
    Db(ash_rs::Error),
}

struct Hand {
    pool: Pool,
    insert: String,
    update: String,
    get: String,
}

fn hand_row(row: &Row) -> HandAddress {
    HandAddress {
        id: row.get(0),
        version: row.get(1),
        state: row.get(2),
        county: row.get(3),
    }
}

impl Hand {
    fn new(pool: Pool, schema: &str) -> Hand {
        let table = format!("\"{schema}\".\"addresses\"");
        let columns = "\"id\", \"version\", \"state\", \"county\"";
        Hand {
            insert: format!(
                "INSERT INTO {table} ({columns}) VALUES ($1, 1, $2, $3) RETURNING {columns}"
            ),
            update: format!(
                "UPDATE {table} SET \"state\" = $3, \"county\" = $4, \"version\" = \"version\" + 1 \
                 WHERE \"id\" = $1 AND \"version\" = $2 RETURNING {columns}"
            ),
            get: format!("SELECT {columns} FROM {table} WHERE \"id\" = $1"),
            pool,
        }
    }

    async fn create(&self, state: &str, county: &str) -> Result<HandAddress, HandError> {
        let id = Uuid::new_v4();
        let mut c = self.pool.get().await.map_err(HandError::Db)?;
        let row = c
            .query_one(&self.insert, &[&id, &state, &county])
            .await
            .map_err(HandError::Db)?;
        Ok(hand_row(&row))
    }

    async fn update(
        &self,
        record: &HandAddress,
        state: &str,
        county: &str,
    ) -> Result<HandAddress, HandError> {
        let mut c = self.pool.get().await.map_err(HandError::Db)?;
        let row = c
            .query_opt(
                &self.update,
                &[&record.id, &record.version, &state, &county],
            )
            .await
            .map_err(HandError::Db)?;
        row.map(|row| hand_row(&row)).ok_or(HandError::Stale)
    }

    async fn get(&self, id: Uuid) -> Result<Option<HandAddress>, HandError> {
        let mut c = self.pool.get().await.map_err(HandError::Db)?;
        let row = c
            .query_opt(&self.get, &[&id])
            .await
            .map_err(HandError::Db)?;
        Ok(row.map(|row| hand_row(&row)))
    }
}

fn bench_update(c: &mut Criterion, rt: &Runtime, domain: &Domain, hand: &Hand) {
    let mut group = c.benchmark_group("pg_update");
    group.bench_function("ash", |b| {
        let mut latest = rt
            .block_on(domain.create_address("FL", "Pinellas"))
            .unwrap();
        b.iter(|| {
            latest = rt
                .block_on(
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
    });
    group.bench_function("hand_written", |b| {
        let mut latest = rt.block_on(hand.create("FL", "Pinellas")).unwrap();
        b.iter(|| {
            latest = rt
                .block_on(hand.update(black_box(&latest), black_box("NC"), black_box("Guilford")))
                .unwrap();
        });
        assert!(latest.version > 1);
    });
    group.finish();
}

fn bench_get(c: &mut Criterion, rt: &Runtime, domain: &Domain, hand: &Hand) {
    let mut group = c.benchmark_group("pg_get");
    let ids: Vec<Uuid> = (0..200)
        .map(|_| {
            rt.block_on(domain.create_address("FL", "Pinellas"))
                .unwrap()
                .id
        })
        .collect();
    group.bench_function("ash", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % ids.len();
            black_box(rt.block_on(domain.get_address(black_box(ids[i]))).unwrap())
        });
    });
    group.bench_function("hand_written", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % ids.len();
            black_box(rt.block_on(hand.get(black_box(ids[i]))).unwrap().unwrap())
        });
    });
    group.finish();
}

fn bench_create(c: &mut Criterion, rt: &Runtime, domain: &Domain, hand: &Hand) {
    let mut group = c.benchmark_group("pg_create");
    group.bench_function("ash", |b| {
        b.iter(|| {
            black_box(
                rt.block_on(domain.create_address(black_box("FL"), black_box("Pinellas")))
                    .unwrap(),
            )
        })
    });
    group.bench_function("hand_written", |b| {
        b.iter(|| {
            black_box(
                rt.block_on(hand.create(black_box("FL"), black_box("Pinellas")))
                    .unwrap(),
            )
        })
    });
    group.finish();
}

/// Rounds of the paired measurement, and updates per side per round.
const PAIRED_ROUNDS: usize = 41;
const PAIRED_BATCH: u32 = 100;

/// The update ratio measured in pairs: each round times a batch of updates on each side
/// back to back (alternating which goes first), and the median of the per-round ratios is
/// reported. Background load on a shared machine then slows both sides of a pair alike,
/// where criterion's one-function-after-the-other runs can catch it on one side only.
async fn paired_update_ratio(domain: &Domain, hand: &Hand) -> (f64, f64, f64) {
    let mut ash_latest = domain.create_address("FL", "Pinellas").await.unwrap();
    let mut hand_latest = hand.create("FL", "Pinellas").await.unwrap();
    let (mut ratios, mut ash_times, mut hand_times) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..PAIRED_ROUNDS {
        let mut a = Duration::ZERO;
        let mut h = Duration::ZERO;
        for side in [round % 2, 1 - round % 2] {
            let start = Instant::now();
            for _ in 0..PAIRED_BATCH {
                if side == 0 {
                    ash_latest = domain
                        .update_address(
                            black_box(&ash_latest),
                            AddressUpdateInput::new()
                                .state(black_box("NC"))
                                .county(black_box("Guilford")),
                        )
                        .await
                        .unwrap();
                } else {
                    hand_latest = hand
                        .update(
                            black_box(&hand_latest),
                            black_box("NC"),
                            black_box("Guilford"),
                        )
                        .await
                        .unwrap();
                }
            }
            let per_update = start.elapsed() / PAIRED_BATCH;
            if side == 0 {
                a = per_update;
            } else {
                h = per_update;
            }
        }
        ash_times.push(a.as_nanos() as f64);
        hand_times.push(h.as_nanos() as f64);
        ratios.push(a.as_secs_f64() / h.as_secs_f64());
    }
    (median(ash_times), median(hand_times), median(ratios))
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

// ---------------------------------------------------------------------------------------
// The ratio table (as in benches/seed.rs).

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

fn report(paired: (f64, f64, f64)) {
    let dir = criterion_dir();
    println!();
    println!("Medians from {}", dir.display());
    println!(
        "{:<12} {:>16} {:>16} {:>12}",
        "operation", "ash (ns)", "hand (ns)", "ash / hand"
    );
    for group in ["pg_update", "pg_get", "pg_create"] {
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
    let (ash, hand, ratio) = paired;
    println!(
        "{:<12} {:>16.1} {:>16.1} {:>11.2}x   (paired: median of {PAIRED_ROUNDS} rounds x {PAIRED_BATCH} updates per side)",
        "pg_update", ash, hand, ratio
    );
}

fn main() {
    let url = std::env::var("ASH_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let schema = format!("ash_rs_bench_{}", std::process::id());
    // `ASH_BENCH_SYNCHRONOUS_COMMIT=on` measures with the server's durable default.
    let synchronous_commit = match std::env::var("ASH_BENCH_SYNCHRONOUS_COMMIT").as_deref() {
        Ok("on") => "on",
        _ => "off",
    };
    // One thread: the connections' I/O and the calls share it, as in a latency-bound
    // service; both sides alike.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let built = rt.block_on(
        Pool::builder(&url)
            .schema(schema.clone())
            .create_missing_tables(true)
            // Both sides share the pool: without waiting for the WAL flush of each commit,
            // the timings show the client and server work rather than the disk's noise.
            .on_connect(format!("SET synchronous_commit = {synchronous_commit}"))
            .connection_timeout(Duration::from_secs(3))
            .build(),
    );
    let pool = match built {
        Ok(pool) => pool,
        Err(err) => {
            println!("skipping the PostgreSQL benchmark: no server at {url} ({err})");
            return;
        }
    };
    let domain = rt
        .block_on(Domain::connect(&pool))
        .expect("the addresses table");
    let hand = Hand::new(pool.clone(), &schema);
    let mut criterion = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .configure_from_args();
    bench_update(&mut criterion, &rt, &domain, &hand);
    bench_get(&mut criterion, &rt, &domain, &hand);
    bench_create(&mut criterion, &rt, &domain, &hand);
    criterion.final_summary();
    let paired = rt.block_on(paired_update_ratio(&domain, &hand));
    let _ = rt.block_on(async {
        pool.get()
            .await?
            .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
            .await
    });
    report(paired);
}
