//! `manage_relationship` on PostgreSQL: creating an order with 100 lines through
//! `type = direct_control` against hand-written `tokio-postgres` doing the same in one
//! transaction (`BEGIN`, the order's `INSERT ... RETURNING`, one prepared multi-row
//! `INSERT` of the 100 lines `RETURNING` them, `COMMIT`, rows decoded into structs), through
//! the same pool, on one current-thread runtime, in the same run.
//!
//! The ash side runs the order's create action and, in its transaction, the line
//! resource's create action for each line (defaults, a validation, the forced foreign
//! key), written with one multi-row `INSERT`: 2 statements, as the hand-written side
//! (`tests/manage_relationship.rs` asserts the count).
//!
//! After criterion it prints the medians and their ratio, and a paired ratio (rounds
//! alternating the two sides, median of the per-round ratios), the figure that holds on a
//! loaded machine; target: within 1.5x. Run it with `cargo bench --bench
//! manage_relationship`; it uses `ASH_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`) and a schema of its own, dropped at the end,
//! and does nothing (exit 0) without a server. Sessions run with `synchronous_commit =
//! off` on both sides.

use std::hint::black_box;
use std::time::{Duration, Instant};

use ash_rs::postgres::{Pool, Postgres};
use ash_rs::prelude::*;
use criterion::Criterion;
use tokio::runtime::Runtime;

type LineInput = Managed<OrderLine, OrderLineCreateInput, OrderLineUpdateInput>;

#[resource(domain = Shop, data_layer = Postgres(table = "orders"))]
#[actions(
    defaults(read),
    create(create, accept = [customer],
        argument(lines: Vec<LineInput>, allow_nil = true),
        change = manage_relationship(lines, type = direct_control)),
)]
#[relationships(has_many(lines, OrderLine, destination_attribute = order_id))]
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    #[uuid_primary_key]
    pub id: Uuid,
    pub customer: String,
}

#[resource(domain = Shop, data_layer = Postgres(table = "order_lines"))]
#[actions(
    defaults(read, destroy),
    create(create, accept = [product, qty], validate = compare(qty, greater_than = 0)),
    update(update, accept = [product, qty], change = optimistic_lock(version)),
)]
#[relationships(belongs_to(order, Order))]
#[derive(Debug, Clone, PartialEq)]
pub struct OrderLine {
    #[uuid_primary_key]
    pub id: Uuid,
    pub product: String,
    pub qty: i64,
    #[attribute(default = 1)]
    pub version: i64,
}

#[domain]
#[resources(Order, OrderLine)]
pub struct Shop;

const LINES: usize = 100;

/// The hand-written records.
#[derive(Debug, Clone, PartialEq)]
pub struct HandOrder {
    pub id: Uuid,
    pub customer: String,
    pub lines: Vec<HandLine>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HandLine {
    pub id: Uuid,
    pub product: String,
    pub qty: i64,
    pub version: i64,
    pub order_id: Option<Uuid>,
}

struct Hand {
    pool: Pool,
    insert_order: String,
    insert_lines: String,
}

impl Hand {
    fn new(pool: Pool, schema: &str) -> Hand {
        let values: Vec<String> = (0..LINES)
            .map(|i| {
                let p = i * 4;
                format!("(${}, ${}, ${}, 1, ${})", p + 1, p + 2, p + 3, p + 4)
            })
            .collect();
        Hand {
            insert_order: format!(
                "INSERT INTO \"{schema}\".\"orders\" (\"id\", \"customer\") VALUES ($1, $2) RETURNING \"id\", \"customer\""
            ),
            insert_lines: format!(
                "INSERT INTO \"{schema}\".\"order_lines\" (\"id\", \"product\", \"qty\", \"version\", \"order_id\") VALUES {} \
                 RETURNING \"id\", \"product\", \"qty\", \"version\", \"order_id\"",
                values.join(", ")
            ),
            pool,
        }
    }

    async fn create(&self, customer: &str, lines: &[(String, i64)]) -> HandOrder {
        let mut c = self.pool.get().await.unwrap();
        c.batch_execute("BEGIN").await.unwrap();
        let id = Uuid::new_v4();
        let row = c
            .query_one(&self.insert_order, &[&id, &customer])
            .await
            .unwrap();
        let mut order = HandOrder {
            id: row.get(0),
            customer: row.get(1),
            lines: Vec::with_capacity(lines.len()),
        };
        let ids: Vec<Uuid> = lines.iter().map(|_| Uuid::new_v4()).collect();
        let order_id = Some(order.id);
        let mut params: Vec<&(dyn ash_rs::postgres::tokio_postgres::types::ToSql + Sync)> =
            Vec::with_capacity(lines.len() * 4);
        for (i, (product, qty)) in lines.iter().enumerate() {
            params.push(&ids[i]);
            params.push(product);
            params.push(qty);
            params.push(&order_id);
        }
        for row in c.query(&self.insert_lines, &params).await.unwrap() {
            order.lines.push(HandLine {
                id: row.get(0),
                product: row.get(1),
                qty: row.get(2),
                version: row.get(3),
                order_id: row.get(4),
            });
        }
        c.batch_execute("COMMIT").await.unwrap();
        order
    }
}

fn ash_lines() -> Vec<LineInput> {
    (0..LINES)
        .map(|i| {
            Managed::Create(
                OrderLineCreateInput::new()
                    .product(format!("p{i}"))
                    .qty(1 + i as i64),
            )
        })
        .collect()
}

fn hand_lines() -> Vec<(String, i64)> {
    (0..LINES)
        .map(|i| (format!("p{i}"), 1 + i as i64))
        .collect()
}

async fn ash_create(shop: &Shop) -> Order {
    let order = ash_rs::api::create(
        shop,
        OrderCreateInput::new()
            .customer(black_box("ann"))
            .lines(ash_lines()),
    )
    .await
    .unwrap();
    assert_eq!(order.lines.get().map(Vec::len), Ok(LINES));
    order
}

async fn hand_create(hand: &Hand) -> HandOrder {
    let order = hand.create(black_box("ann"), &hand_lines()).await;
    assert_eq!(order.lines.len(), LINES);
    order
}

fn bench(c: &mut Criterion, rt: &Runtime, shop: &Shop, hand: &Hand) {
    let mut group = c.benchmark_group("manage_direct_control_100");
    group.bench_function("ash", |b| {
        b.iter(|| black_box(rt.block_on(ash_create(shop))))
    });
    group.bench_function("hand_written", |b| {
        b.iter(|| black_box(rt.block_on(hand_create(hand))))
    });
    group.finish();
}

const ROUNDS: usize = 21;
const BATCH: u32 = 10;

async fn paired(shop: &Shop, hand: &Hand) -> (f64, f64, f64) {
    let (mut ratios, mut ash_times, mut hand_times) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let (mut a, mut h) = (Duration::ZERO, Duration::ZERO);
        for side in [round % 2, 1 - round % 2] {
            let start = Instant::now();
            for _ in 0..BATCH {
                if side == 0 {
                    black_box(ash_create(shop).await);
                } else {
                    black_box(hand_create(hand).await);
                }
            }
            let each = start.elapsed() / BATCH;
            if side == 0 {
                a = each;
            } else {
                h = each;
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

fn main() {
    let url = std::env::var("ASH_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let schema = format!("ash_rs_bench_manage_{}", std::process::id());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let built = rt.block_on(
        Pool::builder(&url)
            .schema(schema.clone())
            .create_missing_tables(true)
            .on_connect("SET synchronous_commit = off")
            .connection_timeout(Duration::from_secs(3))
            .build(),
    );
    let pool = match built {
        Ok(pool) => pool,
        Err(err) => {
            println!("skipping the manage_relationship benchmark: no server at {url} ({err})");
            return;
        }
    };
    let shop = rt.block_on(Shop::connect(&pool)).expect("the tables");
    let hand = Hand::new(pool.clone(), &schema);
    let mut criterion = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .configure_from_args();
    bench(&mut criterion, &rt, &shop, &hand);
    criterion.final_summary();
    let (ash, hand_ns, ratio) = rt.block_on(paired(&shop, &hand));
    let statements = || {
        use ash_rs::domain::HasResource;
        HasResource::<Order>::data_layer(&shop).statement_count()
            + HasResource::<OrderLine>::data_layer(&shop).statement_count()
    };
    let before = statements();
    rt.block_on(ash_create(&shop));
    let ash_statements = statements() - before;
    let _ = rt.block_on(async {
        pool.get()
            .await?
            .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
            .await
    });
    println!();
    println!(
        "{:<28} {:>14} {:>14} {:>11}",
        "operation", "ash (us)", "hand (us)", "ash / hand"
    );
    println!(
        "{:<28} {:>14.1} {:>14.1} {:>10.2}x   (paired: median of {ROUNDS} rounds x {BATCH} orders per side)",
        "create order + 100 lines",
        ash / 1000.0,
        hand_ns / 1000.0,
        ratio
    );
    println!(
        "statements per order: ash {ash_statements} (the order's INSERT, one multi-row INSERT of the lines), \
         hand-written 2, each side inside BEGIN/COMMIT"
    );
}
