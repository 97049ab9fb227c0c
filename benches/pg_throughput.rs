//! Throughput of the seed's read-then-locked-update loop on PostgreSQL under concurrency:
//! the code interface against hand-written `tokio-postgres` code doing the same work.
//!
//! Each run starts 16 tokio tasks (the default multi-thread runtime) on 16 connections per
//! side. A task repeats one *increment*: read a record by id, then update it under its
//! optimistic lock (`version` must still be the one read; it becomes `version + 1`); a
//! refused update (ash: `StaleRecord`; hand: `UPDATE` matched 0 rows) is retried from the
//! read. Tasks run for a fixed time (`ASH_PG_BENCH_SECS`, default 3 s; an attempt under
//! way when it ends finishes, none starts after), and the run reports successful
//! increments per second.
//!
//! - **random**: 1,000 records, each increment on a record drawn at random;
//! - **hot**: one record that all 16 tasks increment (most attempts are refused).
//!
//! A refused update tells ash's caller why (`StaleRecord` with the lock's filter when the
//! record changed, with its primary key when it is gone, `Overflow` when the increment
//! would overflow): the data layer reads the stored row on the same connection, a third
//! statement per refused attempt. The hand-written side does not find out why; the hot
//! scenario also runs **hand + reason read**, the hand-written loop that reads the row
//! after a refusal as ash does (`SELECT .. WHERE id = $1`, to tell a stale version from a
//! deleted record), and reports ash against both.
//!
//! That read is not lost: the refusal carries the stored row (`Error::stored_record`), so
//! a caller can retry from it without a get of its own. Both scenarios also run **ash,
//! retry from refusal**, the same loop doing that: every attempt is still a read then a
//! locked update, the read after a refusal being the one the refusal made, so it sends as
//! many statements per attempt as the hand-written loop.
//!
//! ash: `domain.get_address(id)` then `domain.update_address(&rec, input.county(..))` on an
//! `ash_rs::postgres::Pool` of 16 connections. hand: 16 plain `tokio_postgres` clients, one
//! owned by each task, with the statements prepared once:
//! `SELECT id, version, state, county FROM t WHERE id = $1` and
//! `UPDATE t SET county = $3, version = version + 1 WHERE id = $1 AND version = $2
//! RETURNING id, version, state, county`. Each side has its own table of the same shape,
//! emptied and refilled before every run. After every run the final version of each record
//! must be 1 + the increments counted on it and their sum the run's successes (0 lost
//! updates), or the benchmark panics.
//!
//! The sides alternate (which goes first alternates too) over `ASH_PG_BENCH_ROUNDS` rounds
//! (default 3); the report gives each round and the median of the per-round ratios ash /
//! hand (throughput; the bar is >= 0.9x), with the CPU time per increment of this process
//! (the client) and of the side's 16 server backends (from /proc). Both scenarios also run
//! **hand on ash's pool**: the hand-written loop checking a connection out of the ash pool
//! for each statement (`pool.get()`, statements prepared once per connection), the
//! baseline "on the same pool", which leaves out only what ash adds above its pool. Each
//! round also runs two diagnostic variants on the random scenario (`ASH_PG_BENCH_DIAG=0`
//! skips them), which split the gap further: the hand-written loop through the ash pool
//! sending ash's statements on ash's table (everything but the code interface), and plain
//! clients with the SQL ash sends. Then: ash's update statement as the server saw it, the cost of a
//! checkout and of a statement-cache hit next to one round trip, and the number of
//! statements prepared. `ASH_PG_BENCH_PROFILE=<side>[-hot]` (ash, ash-from-refusal, hand,
//! pool, pool-ash-sql, ash-sql, hand-reason) runs one side only, for a profiler (`ASH_PG_BENCH_WARMUP=0`:
//! without the warm-up). `ASH_PG_BENCH_SINGLE=<side>[-refused]` (ash, hand, hand-reason;
//! `pool`, never refused: the hand-written loop sending ash's statements on the ash pool)
//! runs `ASH_PG_BENCH_OPS` increments (default 1,000) of one record from one task on a
//! current-thread runtime, for callgrind: two runs with different `ASH_PG_BENCH_OPS`, the
//! difference of their totals over that of the counts is one increment's client
//! instructions (`-refused`: each increment's update is first sent with an older version).
//!
//! `cargo bench --bench pg_throughput` runs it in full (about 100 s on 2 cores); without
//! `--bench` (as under `cargo test --benches`) it runs one short round without diagnostics.
//! It uses `ASH_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`) and a
//! fresh schema that it drops at the end; without a server it prints one line and exits 0.
//! Every session of both sides runs with `synchronous_commit = off`, so a commit's WAL flush
//! does not dominate the figures.

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ash_rs::domain::HasResource;
use ash_rs::postgres::tokio_postgres::{self, Client, Config, NoTls, Row, Statement};
use ash_rs::postgres::{quote_ident, Pool, Postgres};
use ash_rs::prelude::*;
use tokio::sync::Barrier;

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
    define(update_address, action = update),
))]
pub struct Domain;

/// The hand-written side's record: the same fields, decoded from every row it reads.
#[derive(Debug, Clone, PartialEq)]
pub struct HandAddress {
    pub id: Uuid,
    pub version: i64,
    pub state: String,
    pub county: String,
}

fn hand_row(row: &Row, offset: usize) -> HandAddress {
    HandAddress {
        id: row.get(offset),
        version: row.get(offset + 1),
        state: row.get(offset + 2),
        county: row.get(offset + 3),
    }
}

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
const TASKS: usize = 16;
const CONNECTIONS: usize = 16;
const RECORDS: usize = 1_000;
const SESSION_SETUP: &str = "SET synchronous_commit = off";
/// The values the updates write (picked at random; the same on both sides).
const COUNTIES: [&str; 4] = ["Pinellas", "Pasco", "Guilford", "Wake"];

struct Settings {
    full: bool,
    rounds: usize,
    run: Duration,
    warm_up: Duration,
}

impl Settings {
    fn from_env() -> Settings {
        // `cargo bench` passes `--bench`; `cargo test --benches` does not.
        let full = std::env::args().any(|a| a == "--bench");
        let env_num = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<f64>().ok());
        if full {
            Settings {
                full,
                rounds: env_num("ASH_PG_BENCH_ROUNDS").map_or(3, |r| r.max(1.0) as usize),
                run: Duration::from_secs_f64(env_num("ASH_PG_BENCH_SECS").unwrap_or(3.0).max(0.1)),
                warm_up: Duration::from_millis(500),
            }
        } else {
            Settings {
                full,
                rounds: 1,
                run: Duration::from_millis(300),
                warm_up: Duration::from_millis(100),
            }
        }
    }
}

/// A small deterministic generator (splitmix64), one per task.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// What one task did.
struct Tally {
    successes: u64,
    /// Refused updates (each followed by a re-read).
    retries: u64,
    /// Statements sent (counted by hand; for ash, from the table's own counter).
    statements: u64,
    /// Successful increments per record index.
    per_record: Vec<u64>,
}

impl Tally {
    fn new(records: usize) -> Tally {
        Tally {
            successes: 0,
            retries: 0,
            statements: 0,
            per_record: vec![0; records],
        }
    }
}

/// One run's totals.
struct RunResult {
    successes: u64,
    retries: u64,
    statements: u64,
    elapsed: Duration,
    /// sum(version - 1) over the table, checked equal to `successes`.
    stored_increments: i64,
    /// CPU time of this process (the client side) during the run, if /proc has it.
    client_cpu: Option<Duration>,
    /// CPU time of the side's 16 server backends during the run, if /proc has them.
    server_cpu: Option<Duration>,
}

impl RunResult {
    fn rate(&self) -> f64 {
        self.successes as f64 / self.elapsed.as_secs_f64()
    }

    fn describe(&self) -> String {
        let per_inc = |cpu: Option<Duration>| match cpu {
            Some(cpu) => format!(
                "{:>5.1}",
                cpu.as_secs_f64() * 1e6 / self.successes.max(1) as f64
            ),
            None => "    -".to_owned(),
        };
        format!(
            "{:>8.0} inc/s  ({:>6} ok, {:>6} retries, {:.2} stmt/inc, lost 0; \
             cpu/inc: client {} us, server {} us)",
            self.rate(),
            self.successes,
            self.retries,
            self.statements as f64 / self.successes.max(1) as f64,
            per_inc(self.client_cpu),
            per_inc(self.server_cpu),
        )
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Scenario {
    Random,
    Hot,
}

impl Scenario {
    fn records(self) -> usize {
        match self {
            Scenario::Random => RECORDS,
            Scenario::Hot => 1,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Scenario::Random => "random",
            Scenario::Hot => "hot",
        }
    }
}

/// Which code drives the loop.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Side {
    /// The code interface.
    Ash,
    /// The code interface, retrying a refused update from the record the refusal brought
    /// (`Error::stored_record`) instead of a get: still a read then a locked update per
    /// attempt, the read being the one the refusal made.
    AshFromRefusal,
    /// Plain clients, hand-written SQL.
    Hand,
    /// The hand-written loop on the ash pool: `pool.get()` per statement, hand-written
    /// SQL (the baseline "on the same pool").
    AshPoolHandSql,
    /// Diagnostic: `pool.get()` of the ash pool per statement, the SQL ash sends, on
    /// ash's table: every statement as ash sends it, without the code interface.
    AshPoolAshSql,
    /// Diagnostic: plain clients sending the statement ash sends for the update.
    HandAshSql,
    /// Plain clients, hand-written SQL, and a read of the row after each refused update
    /// (why it was refused), as ash does.
    HandReason,
}

impl Side {
    fn label(self) -> &'static str {
        match self {
            Side::Ash => "ash",
            Side::AshFromRefusal => "ash, retry from refusal",
            Side::Hand => "hand",
            Side::AshPoolHandSql => "hand on ash's pool",
            Side::AshPoolAshSql => "ash pool + ash's SQL",
            Side::HandAshSql => "plain + ash's SQL",
            Side::HandReason => "hand + reason read",
        }
    }

    fn uses_ash_pool(self) -> bool {
        matches!(
            self,
            Side::Ash | Side::AshFromRefusal | Side::AshPoolHandSql | Side::AshPoolAshSql
        )
    }
}

/// The SQL of one table.
struct Sql {
    table: String,
    get: String,
    update: String,
    /// The locked update as `PgTable::update_in` renders it for `county` + the lock.
    ash_update: String,
}

impl Sql {
    fn new(schema: &str, table: &str) -> Sql {
        let table = format!("{}.{}", quote_ident(schema), quote_ident(table));
        let columns = "\"id\", \"version\", \"state\", \"county\"";
        Sql {
            get: format!("SELECT {columns} FROM {table} WHERE \"id\" = $1"),
            update: format!(
                "UPDATE {table} SET \"county\" = $3, \"version\" = \"version\" + 1 \
                 WHERE \"id\" = $1 AND \"version\" = $2 RETURNING {columns}"
            ),
            // $1 key, $2 county, $3 the lock's increment, $4 its overflow bound, $5 the
            // version read (see `update_in` in ash-postgres/src/table.rs).
            ash_update: format!(
                "UPDATE {table} SET \"county\" = $2, \"version\" = \"version\" + $3 \
                 WHERE \"id\" = $1 AND \"version\" = $5 AND \"version\" <= $4 RETURNING {columns}"
            ),
            table,
        }
    }
}

/// A hand-side connection: one client, its statements prepared once.
struct HandConn {
    client: Client,
    get: Statement,
    update: Statement,
    ash_update: Statement,
}

async fn connect(url: &str) -> Result<Client, tokio_postgres::Error> {
    let mut config: Config = url.parse()?;
    config.connect_timeout(Duration::from_secs(3));
    let (client, connection) = config.connect(NoTls).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client.batch_execute(SESSION_SETUP).await?;
    Ok(client)
}

async fn hand_conn(url: &str, sql: &Sql) -> Result<HandConn, tokio_postgres::Error> {
    let client = connect(url).await?;
    Ok(HandConn {
        get: client.prepare(&sql.get).await?,
        update: client.prepare(&sql.update).await?,
        ash_update: client.prepare(&sql.ash_update).await?,
        client,
    })
}

// ---------------------------------------------------------------------------------------
// The tasks.

async fn ash_task(
    domain: Arc<Domain>,
    ids: Arc<Vec<Uuid>>,
    stop: Arc<AtomicBool>,
    start: Arc<Barrier>,
    mut rng: Rng,
    from_refusal: bool,
) -> Tally {
    let mut tally = Tally::new(ids.len());
    start.wait().await;
    'work: while !stop.load(Ordering::Relaxed) {
        let i = rng.below(ids.len());
        let county = COUNTIES[rng.below(COUNTIES.len())];
        let mut record = domain.get_address(ids[i]).await.expect("ash: get");
        loop {
            match domain
                .update_address(&record, AddressUpdateInput::new().county(county))
                .await
            {
                Ok(updated) => {
                    black_box(updated);
                    tally.successes += 1;
                    tally.per_record[i] += 1;
                    break;
                }
                Err(e) if e.is_stale() => {
                    tally.retries += 1;
                    if stop.load(Ordering::Relaxed) {
                        break 'work;
                    }
                    record = match e.stored_record::<Address>() {
                        Some(stored) if from_refusal => stored.clone(),
                        _ => domain.get_address(ids[i]).await.expect("ash: get"),
                    };
                }
                Err(e) => panic!("ash: update failed: {e}"),
            }
        }
    }
    tally
}

async fn hand_task(
    conn: HandConn,
    ids: Arc<Vec<Uuid>>,
    stop: Arc<AtomicBool>,
    start: Arc<Barrier>,
    mut rng: Rng,
    ash_sql: bool,
    read_reason: bool,
) -> (HandConn, Tally) {
    let mut tally = Tally::new(ids.len());
    start.wait().await;
    'work: while !stop.load(Ordering::Relaxed) {
        let i = rng.below(ids.len());
        let county = COUNTIES[rng.below(COUNTIES.len())];
        loop {
            let row = conn
                .client
                .query_opt(&conn.get, &[&ids[i]])
                .await
                .expect("hand: get");
            let record = hand_row(&row.expect("hand: the record exists"), 0);
            tally.statements += 1;
            let updated = if ash_sql {
                let rows = conn
                    .client
                    .query(
                        &conn.ash_update,
                        &[&record.id, &county, &1i64, &(i64::MAX - 1), &record.version],
                    )
                    .await
                    .expect("hand (ash SQL): update");
                rows.first().map(|row| hand_row(row, 0))
            } else {
                conn.client
                    .query_opt(&conn.update, &[&record.id, &record.version, &county])
                    .await
                    .expect("hand: update")
                    .map(|row| hand_row(&row, 0))
            };
            tally.statements += 1;
            match updated {
                Some(updated) => {
                    black_box(updated);
                    tally.successes += 1;
                    tally.per_record[i] += 1;
                    break;
                }
                None => {
                    if read_reason {
                        // Why: a newer version (retry) or no record at all (give up).
                        let stored = conn
                            .client
                            .query_opt(&conn.get, &[&record.id])
                            .await
                            .expect("hand: reason read");
                        tally.statements += 1;
                        let stored = hand_row(&stored.expect("hand: the record exists"), 0);
                        assert_ne!(stored.version, record.version, "hand: refused, not stale");
                    }
                    tally.retries += 1;
                    if stop.load(Ordering::Relaxed) {
                        break 'work;
                    }
                }
            }
        }
    }
    (conn, tally)
}

/// The hand-written get on a connection checked out of the ash pool for it.
async fn pool_get(pool: &Pool, sql: &Sql, id: &Uuid) -> HandAddress {
    let mut c = pool.get().await.expect("pool: checkout");
    let row = c.query_opt(&sql.get, &[id]).await.expect("pool: get");
    hand_row(&row.expect("pool: the record exists"), 0)
}

/// The hand-written locked update (`ash_sql`: the statement ash sends for it) on a
/// connection checked out of the ash pool for it; `None` when refused.
async fn pool_update(
    pool: &Pool,
    sql: &Sql,
    record: &HandAddress,
    county: &str,
    ash_sql: bool,
) -> Option<HandAddress> {
    let mut c = pool.get().await.expect("pool: checkout");
    let row = if ash_sql {
        c.query_opt(
            &sql.ash_update,
            &[&record.id, &county, &1i64, &(i64::MAX - 1), &record.version],
        )
        .await
    } else {
        c.query_opt(&sql.update, &[&record.id, &record.version, &county])
            .await
    };
    row.expect("pool: update").map(|row| hand_row(&row, 0))
}

/// The hand-written get and update (or ash's update statement), each on a connection
/// checked out of the ash pool for that statement (as the data layer does).
async fn pool_task(
    pool: Pool,
    sql: Arc<Sql>,
    ids: Arc<Vec<Uuid>>,
    stop: Arc<AtomicBool>,
    start: Arc<Barrier>,
    mut rng: Rng,
    ash_sql: bool,
) -> Tally {
    let mut tally = Tally::new(ids.len());
    start.wait().await;
    'work: while !stop.load(Ordering::Relaxed) {
        let i = rng.below(ids.len());
        let county = COUNTIES[rng.below(COUNTIES.len())];
        loop {
            let record = pool_get(&pool, &sql, &ids[i]).await;
            tally.statements += 1;
            let updated = pool_update(&pool, &sql, &record, county, ash_sql).await;
            tally.statements += 1;
            match updated {
                Some(updated) => {
                    black_box(updated);
                    tally.successes += 1;
                    tally.per_record[i] += 1;
                    break;
                }
                None => {
                    tally.retries += 1;
                    if stop.load(Ordering::Relaxed) {
                        break 'work;
                    }
                }
            }
        }
    }
    tally
}

// ---------------------------------------------------------------------------------------
// Runs.

struct Bench {
    admin: Client,
    pool: Pool,
    domain: Arc<Domain>,
    /// `None` only while a run has the connections.
    hand: Option<Vec<HandConn>>,
    ash_sql: Arc<Sql>,
    hand_sql: Arc<Sql>,
    seed: u64,
    /// The server processes of the ash pool's and of the hand side's connections.
    ash_backends: Vec<u32>,
    hand_backends: Vec<u32>,
    /// Statements the loops executed, all runs and sides.
    executed: u64,
}

impl Bench {
    fn ash_statements(&self) -> u64 {
        HasResource::<Address>::data_layer(&*self.domain).statement_count()
    }

    /// Empties `table` and fills it with `n` records at version 1; returns their ids.
    async fn reset(&self, sql: &Sql, n: usize) -> Vec<Uuid> {
        let ids: Vec<Uuid> = (0..n).map(|_| Uuid::new_v4()).collect();
        let table = &sql.table;
        self.admin
            .batch_execute(&format!("TRUNCATE {table}"))
            .await
            .expect("truncate");
        self.admin
            .execute(
                &format!(
                    "INSERT INTO {table} (\"id\", \"version\", \"state\", \"county\") \
                     SELECT id, 1, 'FL', 'Pinellas' FROM unnest($1::uuid[]) AS id"
                ),
                &[&ids],
            )
            .await
            .expect("seed the records");
        self.admin
            .batch_execute(&format!("ANALYZE {table}"))
            .await
            .expect("analyze");
        ids
    }

    /// Checks that every successful increment is in the table, and none more.
    async fn verify(&self, sql: &Sql, ids: &[Uuid], tallies: &[Tally], label: &str) -> i64 {
        let rows = self
            .admin
            .query(
                &format!("SELECT \"id\", \"version\" FROM {}", sql.table),
                &[],
            )
            .await
            .expect("read the final versions");
        assert_eq!(
            rows.len(),
            ids.len(),
            "{label}: records appeared or vanished"
        );
        let stored: std::collections::HashMap<Uuid, i64> =
            rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        let mut sum = 0;
        for (i, id) in ids.iter().enumerate() {
            let counted: u64 = tallies.iter().map(|t| t.per_record[i]).sum();
            let version = stored[id];
            assert_eq!(
                version,
                1 + counted as i64,
                "{label}: record {id} has version {version} after {counted} successful \
                 increments: {} lost updates",
                1 + counted as i64 - version
            );
            sum += version - 1;
        }
        let total: u64 = tallies.iter().map(|t| t.successes).sum();
        assert_eq!(sum, total as i64, "{label}: stored increments != successes");
        sum
    }

    async fn run(&mut self, side: Side, scenario: Scenario, duration: Duration) -> RunResult {
        let sql_for_side: &Sql = match side {
            Side::Ash | Side::AshFromRefusal | Side::AshPoolAshSql => &self.ash_sql,
            _ => &self.hand_sql,
        };
        let ids = Arc::new(self.reset(sql_for_side, scenario.records()).await);
        let stop = Arc::new(AtomicBool::new(false));
        let start = Arc::new(Barrier::new(TASKS + 1));
        self.seed += 1;
        let rng = |task: usize| Rng::new(self.seed * 1_000 + task as u64);
        let statements_before = self.ash_statements();
        let backends = if side.uses_ash_pool() {
            self.ash_backends.clone()
        } else {
            self.hand_backends.clone()
        };
        let cpu_before: (Option<Duration>, Option<Duration>);
        let (tallies, elapsed) = match side {
            Side::Ash | Side::AshFromRefusal | Side::AshPoolHandSql | Side::AshPoolAshSql => {
                let handles: Vec<_> = (0..TASKS)
                    .map(|t| {
                        let (ids, stop, start) = (ids.clone(), stop.clone(), start.clone());
                        if matches!(side, Side::Ash | Side::AshFromRefusal) {
                            tokio::spawn(ash_task(
                                self.domain.clone(),
                                ids,
                                stop,
                                start,
                                rng(t),
                                side == Side::AshFromRefusal,
                            ))
                        } else {
                            tokio::spawn(pool_task(
                                self.pool.clone(),
                                if side == Side::AshPoolAshSql {
                                    self.ash_sql.clone()
                                } else {
                                    self.hand_sql.clone()
                                },
                                ids,
                                stop,
                                start,
                                rng(t),
                                side == Side::AshPoolAshSql,
                            ))
                        }
                    })
                    .collect();
                start.wait().await;
                cpu_before = (cpu_time(std::process::id()), cpu_total(&backends));
                let began = Instant::now();
                tokio::time::sleep(duration).await;
                stop.store(true, Ordering::Relaxed);
                let mut tallies = Vec::with_capacity(TASKS);
                for h in handles {
                    tallies.push(h.await.expect("a task panicked"));
                }
                (tallies, began.elapsed())
            }
            Side::Hand | Side::HandAshSql | Side::HandReason => {
                let conns = self.hand.take().expect("the hand connections");
                let handles: Vec<_> = conns
                    .into_iter()
                    .enumerate()
                    .map(|(t, conn)| {
                        tokio::spawn(hand_task(
                            conn,
                            ids.clone(),
                            stop.clone(),
                            start.clone(),
                            rng(t),
                            side == Side::HandAshSql,
                            side == Side::HandReason,
                        ))
                    })
                    .collect();
                start.wait().await;
                cpu_before = (cpu_time(std::process::id()), cpu_total(&backends));
                let began = Instant::now();
                tokio::time::sleep(duration).await;
                stop.store(true, Ordering::Relaxed);
                let mut conns = Vec::with_capacity(TASKS);
                let mut tallies = Vec::with_capacity(TASKS);
                for h in handles {
                    let (conn, tally) = h.await.expect("a task panicked");
                    conns.push(conn);
                    tallies.push(tally);
                }
                self.hand = Some(conns);
                (tallies, began.elapsed())
            }
        };
        let cpu_after = (cpu_time(std::process::id()), cpu_total(&backends));
        let delta = |a: Option<Duration>, b: Option<Duration>| Some(a?.saturating_sub(b?));
        let client_cpu = delta(cpu_after.0, cpu_before.0);
        let server_cpu = delta(cpu_after.1, cpu_before.1);
        let statements = match side {
            Side::Ash | Side::AshFromRefusal => self.ash_statements() - statements_before,
            _ => tallies.iter().map(|t| t.statements).sum(),
        };
        self.executed += statements;
        let label = format!("{side:?} {}", scenario.name());
        let stored_increments = self.verify(sql_for_side, &ids, &tallies, &label).await;
        RunResult {
            successes: tallies.iter().map(|t| t.successes).sum(),
            retries: tallies.iter().map(|t| t.retries).sum(),
            statements,
            elapsed,
            stored_increments,
            client_cpu,
            server_cpu,
        }
    }
}

/// User + system CPU time of process `pid` (Linux `/proc`; 100 ticks per second).
fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command name, which is in parentheses: state is field 3,
    // utime field 14 and stime field 15.
    let rest = stat.get(stat.rfind(')')? + 1..)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

fn cpu_total(pids: &[u32]) -> Option<Duration> {
    if pids.is_empty() {
        return None;
    }
    pids.iter().map(|&pid| cpu_time(pid)).sum()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// Drops the schema when dropped (also on a failed assertion), from a thread and runtime
/// of its own.
struct SchemaGuard {
    url: String,
    schema: String,
}

impl Drop for SchemaGuard {
    fn drop(&mut self) {
        let url = self.url.clone();
        let sql = format!(
            "SET lock_timeout = '5s'; DROP SCHEMA IF EXISTS {} CASCADE",
            quote_ident(&self.schema)
        );
        let cleanup = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                if let Ok(client) = connect(&url).await {
                    let _ = client.batch_execute(&sql).await;
                }
            });
        });
        let _ = cleanup.join();
    }
}

// ---------------------------------------------------------------------------------------
// Diagnostics: what one checkout and one statement-cache hit cost, next to a round trip.

/// The lowest mean cost of one call over `batches` batches of `n` calls.
async fn per_call_ns<F, Fut>(batches: u32, n: u32, mut f: F) -> f64
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut best = f64::INFINITY;
    for _ in 0..batches {
        let began = Instant::now();
        for _ in 0..n {
            f().await;
        }
        best = best.min(began.elapsed().as_nanos() as f64 / f64::from(n));
    }
    best
}

async fn micro_costs(bench: &Bench) {
    let pool = &bench.pool;
    let checkout = per_call_ns(5, 4_000, move || async move {
        black_box(pool.get().await.expect("checkout"));
    })
    .await;
    let mut hits = Vec::new();
    for sql in [&bench.ash_sql.get, &bench.ash_sql.ash_update] {
        let mut conn = pool.get().await.expect("checkout");
        conn.prepare_cached(sql).await.expect("prepare");
        let mut best = f64::INFINITY;
        for _ in 0..5 {
            let began = Instant::now();
            for _ in 0..4_000 {
                black_box(
                    conn.prepare_cached(black_box(sql))
                        .await
                        .expect("cache hit"),
                );
            }
            best = best.min(began.elapsed().as_nanos() as f64 / 4_000.0);
        }
        hits.push((sql.len(), best));
    }
    let hand = bench.hand.as_ref().expect("the hand connections");
    let client = &hand[0].client;
    let round_trip = per_call_ns(5, 400, move || async move {
        client.simple_query("").await.expect("ping");
    })
    .await;
    println!(
        "  one ash pool checkout + return, no statement (best of 5 x 4000): {checkout:>7.0} ns"
    );
    for (len, ns) in hits {
        println!(
            "  one statement-cache hit, {len:>3}-byte SQL (best of 5 x 4000):     {ns:>7.0} ns"
        );
    }
    println!(
        "  one empty round trip to the server, 1 client (best of 5 x 400): {round_trip:>7.0} ns"
    );

    // tokio-postgres names every statement it prepares `s<N>` from one process-wide
    // counter: the newest name counts the prepares this process made.
    let names = client
        .query(
            "SELECT max(substr(name, 2)::bigint) FROM pg_prepared_statements WHERE name ~ '^s[0-9]+$'",
            &[],
        )
        .await
        .expect("pg_prepared_statements");
    let prepared: Option<i64> = names.first().and_then(|r| r.get(0));
    let mut conn = pool.get().await.expect("checkout");
    let cached = conn
        .query_one("SELECT count(*) FROM pg_prepared_statements", &[])
        .await
        .expect("pg_prepared_statements");
    println!(
        "  statements prepared by this process in all: {} (incl. setup and the per-run seeding \
         and checks), for {} statements executed by the loops; one pooled ash connection holds \
         {} prepared statements",
        prepared.map_or_else(|| "?".to_owned(), |n| (n + 1).to_string()),
        bench.executed,
        cached.get::<_, i64>(0),
    );
}

/// The last statement text of the pool's idle sessions that starts like ash's update, to
/// check that the diagnostic `HandAshSql` sends the same statement.
async fn captured_ash_update(bench: &Bench) -> Option<String> {
    let rows = bench
        .admin
        .query(
            "SELECT query FROM pg_stat_activity \
             WHERE query LIKE 'UPDATE %' AND position($1 in query) > 0 LIMIT 1",
            &[&bench.ash_sql.table],
        )
        .await
        .ok()?;
    rows.first().map(|r| r.get(0))
}

// ---------------------------------------------------------------------------------------

async fn bench_main(settings: Settings) {
    let url = std::env::var("ASH_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let schema = format!("ash_rs_pg_throughput_{}_{nanos}", std::process::id());
    let built = Pool::builder(&url)
        .schema(schema.clone())
        .max_size(CONNECTIONS)
        .create_missing_tables(true)
        .on_connect(SESSION_SETUP)
        .connection_timeout(Duration::from_secs(3))
        .build()
        .await;
    let pool = match built {
        Ok(pool) => pool,
        Err(err) => {
            println!("skipping the PostgreSQL throughput benchmark: no server at {url} ({err})");
            return;
        }
    };
    let _guard = SchemaGuard {
        url: url.clone(),
        schema: schema.clone(),
    };
    let domain = Arc::new(Domain::connect(&pool).await.expect("the addresses table"));
    let admin = connect(&url).await.expect("an admin connection");
    let ash_sql = Arc::new(Sql::new(&schema, "addresses"));
    let hand_sql = Arc::new(Sql::new(&schema, "hand_addresses"));
    admin
        .batch_execute(&format!(
            "CREATE TABLE {} (LIKE {} INCLUDING ALL)",
            hand_sql.table, ash_sql.table
        ))
        .await
        .expect("the hand-written side's table");
    let mut hand = Vec::with_capacity(CONNECTIONS);
    for _ in 0..CONNECTIONS {
        hand.push(hand_conn(&url, &hand_sql).await.expect("a hand connection"));
    }
    // All 16 pool connections open before anything is timed; their server processes and
    // the hand side's, for the CPU figures.
    let backend_pid = "SELECT pg_backend_pid()";
    let mut ash_backends = Vec::with_capacity(CONNECTIONS);
    {
        let mut held = Vec::with_capacity(CONNECTIONS);
        for _ in 0..CONNECTIONS {
            let mut conn = pool.get().await.expect("a pool connection");
            let row = conn
                .query_one(backend_pid, &[])
                .await
                .expect("a backend pid");
            ash_backends.push(row.get::<_, i32>(0) as u32);
            held.push(conn);
        }
    }
    let mut hand_backends = Vec::with_capacity(CONNECTIONS);
    for conn in &hand {
        let row = conn
            .client
            .query_one(backend_pid, &[])
            .await
            .expect("a backend pid");
        hand_backends.push(row.get::<_, i32>(0) as u32);
    }
    let mut bench = Bench {
        admin,
        pool,
        domain,
        hand: Some(hand),
        ash_sql,
        hand_sql,
        seed: 0,
        ash_backends,
        hand_backends,
        executed: 0,
    };

    println!(
        "pg_throughput ({} mode): {TASKS} tasks, {CONNECTIONS} connections per side, \
         {} worker threads, {:.1} s per run, {} round(s), synchronous_commit = off",
        if settings.full { "full" } else { "quick" },
        tokio::runtime::Handle::current().metrics().num_workers(),
        settings.run.as_secs_f64(),
        settings.rounds,
    );
    println!("  random: {RECORDS} records; hot: 1 record; inc = get by id + locked update (retried from the get when refused)");

    // `ASH_PG_BENCH_SINGLE=<side>`: one task, `ASH_PG_BENCH_OPS` increments, for an
    // instruction count (callgrind) per increment.
    if let Ok(only) = std::env::var("ASH_PG_BENCH_SINGLE") {
        let ops = std::env::var("ASH_PG_BENCH_OPS")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(1_000);
        single_task(&mut bench, &only, ops).await;
        return;
    }

    // `ASH_PG_BENCH_PROFILE=<side>[-hot]` (see the header for the sides): a
    // warm-up and one run of only that side and scenario, for a profiler attached to this
    // process.
    if let Ok(only) = std::env::var("ASH_PG_BENCH_PROFILE") {
        let scenario = if only.ends_with("-hot") {
            Scenario::Hot
        } else {
            Scenario::Random
        };
        let side = match only.trim_end_matches("-hot") {
            "ash" => Side::Ash,
            "ash-from-refusal" => Side::AshFromRefusal,
            "pool" => Side::AshPoolHandSql,
            "pool-ash-sql" => Side::AshPoolAshSql,
            "ash-sql" => Side::HandAshSql,
            "hand-reason" => Side::HandReason,
            _ => Side::Hand,
        };
        // `ASH_PG_BENCH_WARMUP=0` skips the warm-up, so that a profile's totals divide
        // by the increments reported.
        if std::env::var("ASH_PG_BENCH_WARMUP").as_deref() != Ok("0") {
            bench.run(side, scenario, settings.warm_up).await;
        }
        println!("  profiling {} {} from now", side.label(), scenario.name());
        let result = bench.run(side, scenario, settings.run).await;
        println!(
            "  {:<6} {} {}",
            scenario.name(),
            side.label(),
            result.describe()
        );
        return;
    }

    let diagnostics = settings.full && std::env::var("ASH_PG_BENCH_DIAG").as_deref() != Ok("0");
    const DIAGNOSTIC_SIDES: [Side; 2] = [Side::AshPoolAshSql, Side::HandAshSql];

    // Warm-up: every connection prepares its statements; nothing is reported.
    for side in [
        Side::Ash,
        Side::AshFromRefusal,
        Side::Hand,
        Side::AshPoolHandSql,
    ] {
        for scenario in [Scenario::Random, Scenario::Hot] {
            bench.run(side, scenario, settings.warm_up).await;
        }
    }
    bench
        .run(Side::HandReason, Scenario::Hot, settings.warm_up)
        .await;
    if diagnostics {
        for side in DIAGNOSTIC_SIDES {
            bench.run(side, Scenario::Random, settings.warm_up).await;
        }
    }

    let mut results: Vec<(usize, Side, Scenario, RunResult)> = Vec::new();
    let mut captured_sql = None;
    for round in 0..settings.rounds {
        println!("round {}", round + 1);
        for scenario in [Scenario::Random, Scenario::Hot] {
            // The two ash loops share a table, and so do the hand-written ones: the order
            // alternates the tables, so that no run starts on the table the previous run
            // just wrote to (a precaution: the effect was not separable from the noise).
            let mut order = vec![
                Side::Ash,
                Side::Hand,
                Side::AshFromRefusal,
                Side::AshPoolHandSql,
            ];
            if scenario == Scenario::Hot {
                order.push(Side::HandReason);
            }
            // Who goes first rotates.
            let sides = order.len();
            order.rotate_left(round % sides);
            for side in order {
                let result = bench.run(side, scenario, settings.run).await;
                results.push((round, side, scenario, result));
            }
            let find = |side: Side| {
                results
                    .iter()
                    .find(|r| r.0 == round && r.1 == side && r.2 == scenario)
                    .map(|r| &r.3)
                    .expect("the run")
            };
            let (ash, hand, pooled) = (
                find(Side::Ash),
                find(Side::Hand),
                find(Side::AshPoolHandSql),
            );
            println!("  {:<6} ash  {}", scenario.name(), ash.describe());
            println!("  {:<6} hand {}", "", hand.describe());
            println!("  {:<6} hand on ash's pool {}", "", pooled.describe());
            println!(
                "  {:<6} ash/hand {:.3}x   stored increments (sum of version - 1): \
                 ash {} = {} ok, hand {} = {} ok",
                "",
                ash.rate() / hand.rate(),
                ash.stored_increments,
                ash.successes,
                hand.stored_increments,
                hand.successes
            );
            println!(
                "  {:<6} ash/(hand on ash's pool) {:.3}x",
                "",
                ash.rate() / pooled.rate()
            );
            let from_refusal = find(Side::AshFromRefusal);
            println!(
                "  {:<6} ash, retry from refusal {}",
                "",
                from_refusal.describe()
            );
            println!(
                "  {:<6} (ash, retry from refusal)/hand {:.3}x",
                "",
                from_refusal.rate() / hand.rate()
            );
            if scenario == Scenario::Hot {
                let reason = find(Side::HandReason);
                println!("  {:<6} hand + reason read {}", "", reason.describe());
                println!(
                    "  {:<6} ash/(hand + reason read) {:.3}x",
                    "",
                    ash.rate() / reason.rate()
                );
            }
        }
        if round == 0 && diagnostics {
            // The pool's sessions last ran ash's own statements: read one back.
            captured_sql = Some(captured_ash_update(&bench).await);
        }
        if diagnostics {
            for k in 0..DIAGNOSTIC_SIDES.len() {
                let side = DIAGNOSTIC_SIDES[(k + round) % DIAGNOSTIC_SIDES.len()];
                let result = bench.run(side, Scenario::Random, settings.run).await;
                println!("  diag   {:<21} {}", side.label(), result.describe());
                results.push((round, side, Scenario::Random, result));
            }
        }
    }

    println!(
        "summary: medians over {} round(s); \"x hand\" is the median of the per-round ratios",
        settings.rounds
    );
    println!(
        "  {:<7}{:<22}{:>10}{:>9}{:>16}{:>16}",
        "", "variant", "inc/s", "x hand", "client us/inc", "server us/inc"
    );
    // The median over rounds of `side`'s throughput over `other`'s, in one scenario.
    let median_ratio = |side: Side, other: Side, scenario: Scenario| {
        median(
            results
                .iter()
                .filter(|r| r.1 == side && r.2 == scenario)
                .filter_map(|r| {
                    let o = results
                        .iter()
                        .find(|h| h.0 == r.0 && h.1 == other && h.2 == scenario)?;
                    Some(r.3.rate() / o.3.rate())
                })
                .collect(),
        )
    };
    let mut below_bar = Vec::new();
    for scenario in [Scenario::Random, Scenario::Hot] {
        let mut sides = vec![
            Side::Hand,
            Side::Ash,
            Side::AshFromRefusal,
            Side::AshPoolHandSql,
        ];
        if diagnostics && scenario == Scenario::Random {
            sides.extend(DIAGNOSTIC_SIDES);
        }
        if scenario == Scenario::Hot {
            sides.push(Side::HandReason);
        }
        for side in sides {
            let runs: Vec<&(usize, Side, Scenario, RunResult)> = results
                .iter()
                .filter(|r| r.1 == side && r.2 == scenario)
                .collect();
            let ratio = median_ratio(side, Side::Hand, scenario);
            let per_inc = |cpu: fn(&RunResult) -> Option<Duration>| {
                let values: Option<Vec<f64>> = runs
                    .iter()
                    .map(|r| Some(cpu(&r.3)?.as_secs_f64() * 1e6 / r.3.successes.max(1) as f64))
                    .collect();
                values.map_or_else(|| "-".to_owned(), |v| format!("{:.1}", median(v)))
            };
            println!(
                "  {:<7}{:<22}{:>10.0}{:>8.3}x{:>16}{:>16}",
                scenario.name(),
                side.label(),
                median(runs.iter().map(|r| r.3.rate()).collect()),
                ratio,
                per_inc(|r| r.client_cpu),
                per_inc(|r| r.server_cpu),
            );
            if matches!(side, Side::Ash | Side::AshFromRefusal) && ratio < 0.9 {
                below_bar.push(format!("{} ({})", scenario.name(), side.label()));
            }
        }
    }
    println!("  lost updates: 0 in every run, every variant (each record's final version = 1 + its counted increments)");
    for scenario in [Scenario::Random, Scenario::Hot] {
        for side in [Side::Ash, Side::AshFromRefusal] {
            let ratio = median_ratio(side, Side::Hand, scenario);
            println!(
                "  {:<6} median ({})/hand {ratio:.3}x: {} the 0.9x bar",
                scenario.name(),
                side.label(),
                if ratio >= 0.9 { "meets" } else { "BELOW" }
            );
        }
    }
    for scenario in [Scenario::Random, Scenario::Hot] {
        println!(
            "  {:<6} median ash/(hand on ash's pool) {:.3}x (the hand-written loop checking \
             a connection out of the same 16-connection pool per statement)",
            scenario.name(),
            median_ratio(Side::Ash, Side::AshPoolHandSql, scenario)
        );
    }
    println!(
        "  hot    median ash/(hand + reason read) {:.3}x (like for like: both read the row \
         after a refused update)",
        median_ratio(Side::Ash, Side::HandReason, Scenario::Hot)
    );

    if diagnostics {
        println!("diagnostics");
        match captured_sql.flatten() {
            Some(text) if text == bench.ash_sql.ash_update => {
                println!(
                    "  ash's update statement, read back from pg_stat_activity, is the one the \
                     \"ash's SQL\" variants send:"
                );
                println!("    {text}");
            }
            Some(text) => {
                println!("  NOTE: ash's update statement differs from the diagnostic's text:");
                println!("    ash:        {text}");
                println!("    diagnostic: {}", bench.ash_sql.ash_update);
            }
            None => println!("  (ash's update statement was not found in pg_stat_activity)"),
        }
        micro_costs(&bench).await;
    }
    if !below_bar.is_empty() {
        println!("ash is below the 0.9x bar on: {}", below_bar.join(", "));
    }
    drop(bench);
}

/// One task, `ops` increments of one record on `side` (`ash`, `hand`, `hand-reason`,
/// `pool`), with
/// a warm-up of 100 first; a side ending in `-refused` first sends each increment's update
/// with the version before the one read (refused: ash reads the row to say why, as does
/// `hand-reason`), then the right one. Run it twice under callgrind with different `ops`:
/// the difference of the totals over the difference of `ops` is one increment's client
/// instructions.
async fn single_task(bench: &mut Bench, side: &str, ops: u64) {
    let refused = side.ends_with("-refused");
    let side = side.trim_end_matches("-refused");
    let is_ash = side == "ash";
    let sql: &Sql = if is_ash || side == "pool" {
        &bench.ash_sql
    } else {
        &bench.hand_sql
    };
    let ids = bench.reset(sql, 1).await;
    let id = ids[0];
    let hand = bench.hand.as_ref().expect("the hand connections");
    let conn = &hand[0];
    let mut done = 0u64;
    for n in 0..ops + 100 {
        let county = COUNTIES[(n % 4) as usize];
        if is_ash {
            let record = bench.domain.get_address(id).await.expect("ash: get");
            if refused {
                let mut stale = record.clone();
                stale.version -= 1;
                let e = bench
                    .domain
                    .update_address(&stale, AddressUpdateInput::new().county(county))
                    .await
                    .expect_err("ash: a stale update is refused");
                assert!(e.is_stale());
            }
            black_box(
                bench
                    .domain
                    .update_address(&record, AddressUpdateInput::new().county(county))
                    .await
                    .expect("ash: update"),
            );
        } else if side == "pool" {
            // The pool and its statement cache under the hand-written loop: what ash's
            // update statement costs without the code interface around it.
            let record = pool_get(&bench.pool, sql, &id).await;
            let updated = pool_update(&bench.pool, sql, &record, county, true).await;
            black_box(updated.expect("pool: updated"));
        } else {
            let row = conn
                .client
                .query_opt(&conn.get, &[&id])
                .await
                .expect("hand: get");
            let record = hand_row(&row.expect("hand: the record exists"), 0);
            if refused {
                let stale = conn
                    .client
                    .query_opt(&conn.update, &[&record.id, &(record.version - 1), &county])
                    .await
                    .expect("hand: update");
                assert!(stale.is_none());
                if side == "hand-reason" {
                    let stored = conn
                        .client
                        .query_opt(&conn.get, &[&record.id])
                        .await
                        .expect("hand: reason read");
                    let stored = hand_row(&stored.expect("hand: the record exists"), 0);
                    assert_ne!(stored.version, record.version - 1);
                }
            }
            let updated = conn
                .client
                .query_opt(&conn.update, &[&record.id, &record.version, &county])
                .await
                .expect("hand: update")
                .map(|row| hand_row(&row, 0));
            black_box(updated.expect("hand: updated"));
        }
        done += 1;
    }
    println!(
        "  single task {side}{}: {done} increments",
        if refused { " (refused first)" } else { "" }
    );
}

fn main() {
    let settings = Settings::from_env();
    // The default multi-thread runtime: one worker per core (a current-thread one for the
    // single-task instruction counts, `ASH_PG_BENCH_SINGLE`).
    let runtime = if std::env::var("ASH_PG_BENCH_SINGLE").is_ok() {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime")
    } else {
        tokio::runtime::Runtime::new().expect("a tokio runtime")
    };
    runtime.block_on(bench_main(settings));
}
