//! A read under a filter policy against the same read with the filter written by hand in
//! the query (issue 16), over 100,000 records, on ETS and on PostgreSQL, in the same run.
//!
//! Each layer has two resources with the same attributes and the same records: `*Owned`
//! with `policy(action_type(read), authorize_if(attribute_equals_actor(owner_id, id)))`
//! (and creates allowed, to fill the table), read with
//! an actor and no filter (the policy's filter joins the query), and `*Open` without
//! policies, read with `owner_id == 7` in the query. One record in ten matches. The ratio
//! printed is policy / hand-written filter (bar: within 1.1x).
//!
//! Run it with `cargo bench --bench policies`. The PostgreSQL half uses `ASH_POSTGRES_URL`
//! (default `postgres://postgres@127.0.0.1:5432/test`) and a schema of its own, dropped at
//! the end; without a server it is skipped with a message.

use std::hint::black_box;
use std::time::Duration;

use ash_rs::block_on;
use ash_rs::postgres::{Pool, Postgres};
use ash_rs::prelude::*;
use common::{append_report, criterion_dir, median_ns, verdict};
use criterion::Criterion;
use tokio::runtime::Runtime;

mod common;

/// Records in each table.
const RECORDS: usize = 100_000;
/// Owners, in turn: one record in `OWNERS` is the actor's.
const OWNERS: i64 = 10;
/// The actor's id.
const ACTOR: i64 = 7;
/// Issue 16's bar: the policy's read within this of the hand-written filter's.
const BAR: f64 = 1.1;

/// The actor.
#[derive(Debug, Clone)]
pub struct Owner {
    pub id: i64,
}

/// ETS, under a filter policy.
#[resource(domain = EtsDomain)]
#[actions(defaults(read, create = [state, owner_id]))]
#[policies(
    actor = Owner,
    policy(action_type(read), authorize_if(attribute_equals_actor(owner_id, id))),
    policy(action_type(create), authorize_if(always())),
)]
#[derive(Debug, Clone, PartialEq)]
pub struct EtsOwned {
    #[uuid_primary_key]
    pub id: Uuid,
    pub state: String,
    pub owner_id: i64,
}

/// ETS, without policies.
#[resource(domain = EtsDomain)]
#[actions(defaults(read, create = [state, owner_id]))]
#[derive(Debug, Clone, PartialEq)]
pub struct EtsOpen {
    #[uuid_primary_key]
    pub id: Uuid,
    pub state: String,
    pub owner_id: i64,
}

#[domain]
#[resources(
    EtsOwned(define(create_owned, action = create, args = [state, owner_id])),
    EtsOpen(define(create_open, action = create, args = [state, owner_id])),
)]
pub struct EtsDomain;

/// PostgreSQL, under a filter policy.
#[resource(domain = PgDomain, data_layer = Postgres(table = "owned"))]
#[actions(defaults(read, create = [state, owner_id]))]
#[policies(
    actor = Owner,
    policy(action_type(read), authorize_if(attribute_equals_actor(owner_id, id))),
    policy(action_type(create), authorize_if(always())),
)]
#[derive(Debug, Clone, PartialEq)]
pub struct PgOwned {
    #[uuid_primary_key]
    pub id: Uuid,
    pub state: String,
    pub owner_id: i64,
}

/// PostgreSQL, without policies.
#[resource(domain = PgDomain, data_layer = Postgres(table = "open"))]
#[actions(defaults(read, create = [state, owner_id]))]
#[derive(Debug, Clone, PartialEq)]
pub struct PgOpen {
    #[uuid_primary_key]
    pub id: Uuid,
    pub state: String,
    pub owner_id: i64,
}

#[domain]
#[resources(PgOwned, PgOpen)]
pub struct PgDomain;

fn owner_of(i: usize) -> i64 {
    i as i64 % OWNERS
}

fn bench_ets(c: &mut Criterion) {
    let domain = EtsDomain::new();
    for i in 0..RECORDS {
        block_on(domain.create_owned("FL", owner_of(i))).unwrap();
        block_on(domain.create_open("FL", owner_of(i))).unwrap();
    }
    let actor = domain.with_actor(&Owner { id: ACTOR });
    let policy = || {
        block_on(ash_rs::api::read(
            &actor,
            EtsOwnedReadInput::new(),
            Query::new(),
        ))
        .unwrap()
    };
    let hand = || {
        block_on(ash_rs::api::read(
            &actor,
            EtsOpenReadInput::new(),
            Query::new().filter(EtsOpen::OWNER_ID.eq(black_box(ACTOR))),
        ))
        .unwrap()
    };
    // Both find the actor's records, and only them.
    let (p, h) = (policy(), hand());
    assert_eq!(p.len(), RECORDS / OWNERS as usize);
    assert_eq!(p.len(), h.len());
    assert!(p.iter().all(|r| r.owner_id == ACTOR));

    let mut group = c.benchmark_group("policy_read_ets");
    group.bench_function("policy", |b| b.iter(|| black_box(policy())));
    group.bench_function("hand_filter", |b| b.iter(|| black_box(hand())));
    group.finish();
}

/// Fills both tables in one statement each (the records are the same as on ETS).
async fn fill_pg(pool: &Pool, schema: &str) -> Result<(), String> {
    let mut client = pool.get().await.map_err(|e| e.to_string())?;
    for table in ["owned", "open"] {
        client
            .batch_execute(&format!(
                "INSERT INTO \"{schema}\".\"{table}\" (\"id\", \"state\", \"owner_id\") \
                 SELECT gen_random_uuid(), 'FL', i % {OWNERS} FROM generate_series(0, {}) AS i",
                RECORDS - 1
            ))
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn bench_pg(c: &mut Criterion, rt: &Runtime, domain: &PgDomain) {
    let actor = domain.with_actor(&Owner { id: ACTOR });
    let policy = || {
        rt.block_on(ash_rs::api::read(
            &actor,
            PgOwnedReadInput::new(),
            Query::new(),
        ))
        .unwrap()
    };
    let hand = || {
        rt.block_on(ash_rs::api::read(
            &actor,
            PgOpenReadInput::new(),
            Query::new().filter(PgOpen::OWNER_ID.eq(black_box(ACTOR))),
        ))
        .unwrap()
    };
    let (p, h) = (policy(), hand());
    assert_eq!(p.len(), RECORDS / OWNERS as usize);
    assert_eq!(p.len(), h.len());
    assert!(p.iter().all(|r| r.owner_id == ACTOR));

    let mut group = c.benchmark_group("policy_read_pg");
    group.bench_function("policy", |b| b.iter(|| black_box(policy())));
    group.bench_function("hand_filter", |b| b.iter(|| black_box(hand())));
    group.finish();
}

fn report(pg: bool) {
    let dir = criterion_dir();
    let mut markdown = format!(
        "### Read under a filter policy over {RECORDS} records (`cargo bench --bench policies`)\n\n\
         `attribute_equals_actor(owner_id, id)` against the same read with `owner_id == {ACTOR}`\n\
         written in the query, on a resource without policies; one record in {OWNERS} matches.\n\n\
         | data layer | policy (ms/read) | hand-written filter (ms/read) | policy / hand | bar |\n\
         |---|---:|---:|---:|---|\n"
    );
    println!();
    println!(
        "{:<12} {:>16} {:>16} {:>8}",
        "layer", "policy ms", "hand filter ms", "ratio"
    );
    let layers: &[(&str, &str)] = if pg {
        &[("ETS", "policy_read_ets"), ("PostgreSQL", "policy_read_pg")]
    } else {
        &[("ETS", "policy_read_ets")]
    };
    for (label, group) in layers {
        let (Some(p), Some(h)) = (
            median_ns(&dir, group, "policy"),
            median_ns(&dir, group, "hand_filter"),
        ) else {
            continue;
        };
        let (p, h) = (p / 1e6, h / 1e6);
        let ratio = p / h;
        println!("{label:<12} {p:>16.3} {h:>16.3} {ratio:>7.2}x");
        markdown.push_str(&format!(
            "| {label} | {p:.3} | {h:.3} | {ratio:.2}x | {BAR}x: **{}** |\n",
            verdict(ratio, BAR)
        ));
    }
    if !pg {
        markdown.push_str("\n(PostgreSQL skipped: no server.)\n");
    }
    markdown.push('\n');
    append_report(&markdown);
}

fn main() {
    let mut criterion = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    bench_ets(&mut criterion);

    let url = std::env::var("ASH_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let schema = format!("ash_rs_bench_policies_{}", std::process::id());
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
    let pg = match built {
        Ok(pool) => {
            let domain = rt.block_on(PgDomain::connect(&pool)).expect("the tables");
            rt.block_on(fill_pg(&pool, &schema)).expect("the records");
            bench_pg(&mut criterion, &rt, &domain);
            let _ = rt.block_on(async {
                let mut client = pool.get().await.map_err(|e| e.to_string())?;
                client
                    .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
                    .await
                    .map_err(|e| e.to_string())
            });
            true
        }
        Err(err) => {
            println!("skipping the PostgreSQL half: no server at {url} ({err})");
            false
        }
    };
    criterion.final_summary();
    report(pg);
}
