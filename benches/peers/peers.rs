//! ash-rs on PostgreSQL against its peers, single task, in one run: create, locked update
//! and get by id of the seed's `addresses(id uuid pk, version bigint, state text, county
//! text)`, done by
//!
//! - **hand**: hand-written `tokio-postgres` on the ash pool (`pool.get()` per call, the
//!   statements prepared once per connection), as in `benches/postgres.rs`;
//! - **ash**: the code interface of ash-rs (`domain.create_address`, `update_address` with
//!   `optimistic_lock(version)`, `get_address`);
//! - **sqlx** 0.9 (`runtime-tokio`, `postgres`): `query_as` into a tuple, the
//!   connection's statement cache;
//! - **SeaORM** 2.0 (on sqlx 0.9): `ActiveModel::insert`, `Entity::update(active_model)` with
//!   `.filter(version.eq(read))` (its idiomatic optimistic lock: `RecordNotUpdated` when
//!   refused) and `Entity::find_by_id(id).one`;
//! - **Diesel** 2.4 through `diesel-async` 0.10 (`AsyncPgConnection`, its `deadpool`
//!   pool): `insert_into(..).returning(..)`, `update(t.filter(id).filter(version))
//!   .set((.., version.eq(version + 1))).returning(..)`, `t.find(id)`.
//!
//! Every update is `UPDATE .. SET state, county, version (+1) WHERE id = $1 AND version = $2
//! RETURNING ..` (one statement, one round trip) and succeeds. Every pool has 16
//! connections; every session runs with `synchronous_commit = off` (the connection
//! string's `options`), so the figures show client and server work rather than the WAL's
//! disk flush. Pools that test each connection on every checkout by default (sqlx and
//! SeaORM's `test_before_acquire`, diesel-async's `RecyclingMethod::Verified`) are set not
//! to, as ash's pool does not: otherwise each call would pay one more round trip.
//!
//! One current-thread tokio runtime drives everything (`ASH_PEERS_RUNTIME=multi`: the
//! multi-thread one, everything still from one task). sqlx (hence SeaORM) pings every
//! connection as it goes back to its pool (`return_to_pool`, in a task of its own; not a
//! setting), a round trip that on one thread delays the next call. Each round runs a batch of each
//! operation on each side back to back (the order of the sides rotates per round) and
//! takes the time per call; the report gives, per operation and side, the median time
//! per call and the median of the per-round ratios side / hand. Run it with
//!
//! ```text
//! cargo bench --manifest-path benches/peers/Cargo.toml
//! ```
//!
//! It uses `ASH_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`) and a
//! schema `ash_rs_peers_bench` that it creates and drops; without a server it prints one
//! line and exits 0. `ASH_PEERS_ROUNDS` (default 31) and `ASH_PEERS_BATCH` (default 100)
//! size the run.

use std::future::Future;
use std::hint::black_box;
use std::time::{Duration, Instant};

use ash_rs::postgres::tokio_postgres::Row;
use ash_rs::postgres::{Pool, Postgres};
use ash_rs::prelude::*;

const SCHEMA: &str = "ash_rs_peers_bench";
const POOL_SIZE: u32 = 16;

// ---------------------------------------------------------------------------------------
// ash-rs

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

/// What every side returns: the record as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub id: Uuid,
    pub version: i64,
    pub state: String,
    pub county: String,
}

impl From<Address> for Record {
    fn from(a: Address) -> Record {
        Record {
            id: a.id,
            version: a.version,
            state: a.state,
            county: a.county,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Hand-written tokio-postgres

struct Hand {
    pool: Pool,
    insert: String,
    update: String,
    get: String,
}

fn hand_row(row: &Row) -> Record {
    Record {
        id: row.get(0),
        version: row.get(1),
        state: row.get(2),
        county: row.get(3),
    }
}

const COLUMNS: &str = "\"id\", \"version\", \"state\", \"county\"";

impl Hand {
    fn new(pool: Pool) -> Hand {
        let table = format!("\"{SCHEMA}\".\"addresses\"");
        Hand {
            insert: format!(
                "INSERT INTO {table} ({COLUMNS}) VALUES ($1, 1, $2, $3) RETURNING {COLUMNS}"
            ),
            update: format!(
                "UPDATE {table} SET \"state\" = $3, \"county\" = $4, \"version\" = \"version\" + 1 \
                 WHERE \"id\" = $1 AND \"version\" = $2 RETURNING {COLUMNS}"
            ),
            get: format!("SELECT {COLUMNS} FROM {table} WHERE \"id\" = $1"),
            pool,
        }
    }
}

// ---------------------------------------------------------------------------------------
// SeaORM

mod sea {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(schema_name = "ash_rs_peers_bench", table_name = "addresses")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub version: i64,
        pub state: String,
        pub county: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

// ---------------------------------------------------------------------------------------
// Diesel

mod dsl {
    diesel::table! {
        ash_rs_peers_bench.addresses (id) {
            id -> Uuid,
            version -> Int8,
            state -> Text,
            county -> Text,
        }
    }
}

#[derive(diesel::Queryable, diesel::Selectable, diesel::Insertable)]
#[diesel(table_name = dsl::addresses)]
#[diesel(check_for_backend(diesel::pg::Pg))]
struct DieselAddress {
    id: Uuid,
    version: i64,
    state: String,
    county: String,
}

impl From<DieselAddress> for Record {
    fn from(a: DieselAddress) -> Record {
        Record {
            id: a.id,
            version: a.version,
            state: a.state,
            county: a.county,
        }
    }
}

type DieselPool = diesel_async::pooled_connection::deadpool::Pool<diesel_async::AsyncPgConnection>;

// ---------------------------------------------------------------------------------------
// The sides

struct Sides {
    domain: Domain,
    hand: Hand,
    sqlx: sqlx::PgPool,
    /// The hand-written statements, for sqlx (which takes `&'static str` as SQL it
    /// trusts).
    sqlx_sql: (&'static str, &'static str, &'static str),
    sea: sea_orm::DatabaseConnection,
    diesel: DieselPool,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Side {
    Hand,
    Ash,
    Sqlx,
    SeaOrm,
    Diesel,
}

const SIDES: [Side; 5] = [
    Side::Hand,
    Side::Ash,
    Side::Sqlx,
    Side::SeaOrm,
    Side::Diesel,
];

impl Side {
    fn label(self) -> &'static str {
        match self {
            Side::Hand => "hand-written",
            Side::Ash => "ash-rs",
            Side::Sqlx => "sqlx",
            Side::SeaOrm => "SeaORM",
            Side::Diesel => "Diesel",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Op {
    Create,
    Update,
    Get,
}

const OPS: [Op; 3] = [Op::Create, Op::Update, Op::Get];

impl Op {
    fn label(self) -> &'static str {
        match self {
            Op::Create => "create",
            Op::Update => "locked update",
            Op::Get => "get by id",
        }
    }
}

type Failure = Box<dyn std::error::Error + Send + Sync>;

impl Sides {
    async fn create(&self, side: Side, state: &str, county: &str) -> Result<Record, Failure> {
        Ok(match side {
            Side::Hand => {
                let id = Uuid::new_v4();
                let mut c = self.hand.pool.get().await?;
                hand_row(
                    &c.query_one(&self.hand.insert, &[&id, &state, &county])
                        .await?,
                )
            }
            Side::Ash => self.domain.create_address(state, county).await?.into(),
            Side::Sqlx => {
                let (id, version, state, county): (Uuid, i64, String, String) =
                    sqlx::query_as(self.sqlx_sql.0)
                        .bind(Uuid::new_v4())
                        .bind(state)
                        .bind(county)
                        .fetch_one(&self.sqlx)
                        .await?;
                Record {
                    id,
                    version,
                    state,
                    county,
                }
            }
            Side::SeaOrm => {
                use sea_orm::{ActiveModelTrait, Set};
                let m = sea::ActiveModel {
                    id: Set(Uuid::new_v4()),
                    version: Set(1),
                    state: Set(state.to_owned()),
                    county: Set(county.to_owned()),
                }
                .insert(&self.sea)
                .await?;
                Record {
                    id: m.id,
                    version: m.version,
                    state: m.state,
                    county: m.county,
                }
            }
            Side::Diesel => {
                use diesel::prelude::*;
                use diesel_async::RunQueryDsl;
                let mut c = self.diesel.get().await?;
                diesel::insert_into(dsl::addresses::table)
                    .values(DieselAddress {
                        id: Uuid::new_v4(),
                        version: 1,
                        state: state.to_owned(),
                        county: county.to_owned(),
                    })
                    .returning(DieselAddress::as_returning())
                    .get_result::<DieselAddress>(&mut c)
                    .await?
                    .into()
            }
        })
    }

    /// The locked update; `Ok(None)` when refused (none is, in this benchmark).
    async fn update(
        &self,
        side: Side,
        read: &Record,
        state: &str,
        county: &str,
    ) -> Result<Option<Record>, Failure> {
        Ok(match side {
            Side::Hand => {
                let mut c = self.hand.pool.get().await?;
                c.query_opt(
                    &self.hand.update,
                    &[&read.id, &read.version, &state, &county],
                )
                .await?
                .map(|row| hand_row(&row))
            }
            Side::Ash => {
                let record = Address {
                    id: read.id,
                    version: read.version,
                    state: read.state.clone(),
                    county: read.county.clone(),
                };
                match self
                    .domain
                    .update_address(
                        &record,
                        AddressUpdateInput::new().state(state).county(county),
                    )
                    .await
                {
                    Ok(a) => Some(a.into()),
                    Err(e) if e.is_stale() => None,
                    Err(e) => return Err(e.into()),
                }
            }
            Side::Sqlx => sqlx::query_as::<_, (Uuid, i64, String, String)>(self.sqlx_sql.1)
                .bind(read.id)
                .bind(read.version)
                .bind(state)
                .bind(county)
                .fetch_optional(&self.sqlx)
                .await?
                .map(|(id, version, state, county)| Record {
                    id,
                    version,
                    state,
                    county,
                }),
            Side::SeaOrm => {
                use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, Set, Unchanged};
                let am = sea::ActiveModel {
                    id: Unchanged(read.id),
                    version: Set(read.version + 1),
                    state: Set(state.to_owned()),
                    county: Set(county.to_owned()),
                };
                match sea::Entity::update(am)
                    .validate()?
                    .filter(sea::Column::Version.eq(read.version))
                    .exec(&self.sea)
                    .await
                {
                    Ok(m) => Some(Record {
                        id: m.id,
                        version: m.version,
                        state: m.state,
                        county: m.county,
                    }),
                    Err(DbErr::RecordNotUpdated) => None,
                    Err(e) => return Err(e.into()),
                }
            }
            Side::Diesel => {
                use diesel::prelude::*;
                use diesel_async::RunQueryDsl;
                use dsl::addresses::dsl as t;
                let mut c = self.diesel.get().await?;
                diesel::update(
                    t::addresses
                        .filter(t::id.eq(read.id))
                        .filter(t::version.eq(read.version)),
                )
                .set((
                    t::state.eq(state),
                    t::county.eq(county),
                    t::version.eq(t::version + 1),
                ))
                .returning(DieselAddress::as_returning())
                .get_result::<DieselAddress>(&mut c)
                .await
                .optional()?
                .map(Record::from)
            }
        })
    }

    async fn get(&self, side: Side, id: Uuid) -> Result<Option<Record>, Failure> {
        Ok(match side {
            Side::Hand => {
                let mut c = self.hand.pool.get().await?;
                c.query_opt(&self.hand.get, &[&id])
                    .await?
                    .map(|row| hand_row(&row))
            }
            Side::Ash => Some(self.domain.get_address(id).await?.into()),
            Side::Sqlx => sqlx::query_as::<_, (Uuid, i64, String, String)>(self.sqlx_sql.2)
                .bind(id)
                .fetch_optional(&self.sqlx)
                .await?
                .map(|(id, version, state, county)| Record {
                    id,
                    version,
                    state,
                    county,
                }),
            Side::SeaOrm => {
                use sea_orm::EntityTrait;
                sea::Entity::find_by_id(id)
                    .one(&self.sea)
                    .await?
                    .map(|m| Record {
                        id: m.id,
                        version: m.version,
                        state: m.state,
                        county: m.county,
                    })
            }
            Side::Diesel => {
                use diesel::prelude::*;
                use diesel_async::RunQueryDsl;
                let mut c = self.diesel.get().await?;
                dsl::addresses::table
                    .find(id)
                    .select(DieselAddress::as_select())
                    .first::<DieselAddress>(&mut c)
                    .await
                    .optional()?
                    .map(Record::from)
            }
        })
    }
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    count: i64,
}

#[derive(diesel::QueryableByName)]
struct Setting {
    #[diesel(sql_type = diesel::sql_types::Text)]
    synchronous_commit: String,
}

impl Sides {
    /// `SHOW synchronous_commit` as a session of `side` answers it.
    async fn synchronous_commit(&self, side: Side) -> Result<String, Failure> {
        const SHOW: &str = "SHOW synchronous_commit";
        Ok(match side {
            Side::Hand | Side::Ash => self
                .hand
                .pool
                .get()
                .await?
                .query_one(SHOW, &[])
                .await?
                .get(0),
            Side::Sqlx => {
                sqlx::query_scalar::<_, String>(SHOW)
                    .fetch_one(&self.sqlx)
                    .await?
            }
            Side::SeaOrm => {
                use sea_orm::ConnectionTrait;
                let row = self
                    .sea
                    .query_one_raw(sea_orm::Statement::from_string(
                        sea_orm::DbBackend::Postgres,
                        SHOW,
                    ))
                    .await?
                    .ok_or("no row")?;
                row.try_get::<String>("", "synchronous_commit")?
            }
            Side::Diesel => {
                use diesel_async::RunQueryDsl;
                let mut c = self.diesel.get().await?;
                diesel::sql_query(SHOW)
                    .get_result::<Setting>(&mut c)
                    .await?
                    .synchronous_commit
            }
        })
    }
}

impl Sides {
    /// How many named prepared statements one of `side`'s sessions holds (a library that
    /// caches its statements holds the benchmark's three).
    async fn prepared(&self, side: Side) -> Result<i64, Failure> {
        const COUNT: &str = "SELECT count(*) AS count FROM pg_prepared_statements";
        Ok(match side {
            Side::Hand | Side::Ash => self
                .hand
                .pool
                .get()
                .await?
                .query_one(COUNT, &[])
                .await?
                .get(0),
            Side::Sqlx => {
                sqlx::query_scalar::<_, i64>(COUNT)
                    .fetch_one(&self.sqlx)
                    .await?
            }
            Side::SeaOrm => {
                use sea_orm::ConnectionTrait;
                let row = self
                    .sea
                    .query_one_raw(sea_orm::Statement::from_string(
                        sea_orm::DbBackend::Postgres,
                        COUNT,
                    ))
                    .await?
                    .ok_or("no row")?;
                row.try_get::<i64>("", "count")?
            }
            Side::Diesel => {
                use diesel_async::RunQueryDsl;
                let mut c = self.diesel.get().await?;
                diesel::sql_query(COUNT)
                    .get_result::<Count>(&mut c)
                    .await?
                    .count
            }
        })
    }
}

// ---------------------------------------------------------------------------------------
// The measurement

/// Times `batch` calls of `call`, returns the time per call.
async fn time_batch<F, Fut>(batch: u32, mut call: F) -> Duration
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = ()>,
{
    let start = Instant::now();
    for i in 0..batch {
        call(i).await;
    }
    start.elapsed() / batch
}

async fn one_batch(
    sides: &Sides,
    side: Side,
    op: Op,
    batch: u32,
    state: &mut SideState,
) -> Duration {
    match op {
        Op::Create => {
            time_batch(batch, |_| async {
                black_box(
                    sides
                        .create(side, black_box("FL"), black_box("Pinellas"))
                        .await
                        .expect("create"),
                );
            })
            .await
        }
        Op::Update => {
            let start = Instant::now();
            for i in 0..batch {
                let county = if i % 2 == 0 { "Guilford" } else { "Wake" };
                let updated = sides
                    .update(
                        side,
                        black_box(&state.latest),
                        black_box("NC"),
                        black_box(county),
                    )
                    .await
                    .expect("update")
                    .expect("an update with the version just read is not refused");
                state.latest = updated;
            }
            start.elapsed() / batch
        }
        Op::Get => {
            let ids = &state.ids;
            time_batch(batch, |i| async move {
                let id = ids[i as usize % ids.len()];
                black_box(
                    sides
                        .get(side, black_box(id))
                        .await
                        .expect("get")
                        .expect("found"),
                );
            })
            .await
        }
    }
}

struct SideState {
    latest: Record,
    ids: Vec<Uuid>,
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn env_num(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
        .max(1)
}

async fn setup(url: &str) -> Result<Sides, Failure> {
    let pool = Pool::builder(url)
        .schema(SCHEMA)
        .max_size(POOL_SIZE as usize)
        .create_missing_tables(true)
        .connection_timeout(Duration::from_secs(3))
        .build()
        .await?;
    pool.get()
        .await?
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS \"{SCHEMA}\" CASCADE; CREATE SCHEMA \"{SCHEMA}\""
        ))
        .await?;
    let domain = Domain::connect(&pool).await?;
    let hand = Hand::new(pool.clone());
    // Leaked once: three strings for the life of the benchmark.
    let leak = |sql: &String| -> &'static str { Box::leak(sql.clone().into_boxed_str()) };
    let sqlx_sql = (leak(&hand.insert), leak(&hand.update), leak(&hand.get));
    let sqlx = sqlx::postgres::PgPoolOptions::new()
        .max_connections(POOL_SIZE)
        .test_before_acquire(false)
        .connect(url)
        .await?;
    let mut sea_options = sea_orm::ConnectOptions::new(url.to_owned());
    sea_options
        .max_connections(POOL_SIZE)
        .test_before_acquire(false)
        .sqlx_logging(false);
    let sea = sea_orm::Database::connect(sea_options).await?;
    let mut diesel_config = diesel_async::pooled_connection::ManagerConfig::default();
    diesel_config.recycling_method = diesel_async::pooled_connection::RecyclingMethod::Fast;
    let manager = diesel_async::pooled_connection::AsyncDieselConnectionManager::<
        diesel_async::AsyncPgConnection,
    >::new_with_config(url, diesel_config);
    let diesel = DieselPool::builder(manager)
        .max_size(POOL_SIZE as usize)
        .build()?;
    Ok(Sides {
        domain,
        hand,
        sqlx,
        sqlx_sql,
        sea,
        diesel,
    })
}

/// `url` with `synchronous_commit = off` for every session it opens.
fn with_session_options(url: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}options=-c%20synchronous_commit%3Doff")
}

fn main() {
    let base = std::env::var("ASH_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let url = with_session_options(&base);
    let rounds = env_num("ASH_PEERS_ROUNDS", 31) as usize;
    let batch = env_num("ASH_PEERS_BATCH", 100);
    let rt = if std::env::var("ASH_PEERS_RUNTIME").as_deref() == Ok("multi") {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    }
    .enable_all()
    .build()
    .expect("a tokio runtime");
    rt.block_on(async {
        let sides = match setup(&url).await {
            Ok(sides) => sides,
            Err(e) => {
                println!("skipping the peers benchmark: no server at {base} ({e})");
                return;
            }
        };
        // Check: every side reads what every other side wrote, and sees the same record.
        let mut states = Vec::new();
        for side in SIDES {
            let setting = sides.synchronous_commit(side).await.expect("SHOW");
            assert_eq!(
                setting, "off",
                "{side:?}'s sessions run with synchronous_commit = off"
            );
            let created = sides.create(side, "FL", "Pinellas").await.expect("create");
            for reader in SIDES {
                let got = sides.get(reader, created.id).await.expect("get");
                assert_eq!(
                    got.as_ref(),
                    Some(&created),
                    "{reader:?} reads {side:?}'s record"
                );
            }
            let stale = Record {
                version: created.version + 1,
                ..created.clone()
            };
            assert_eq!(
                sides
                    .update(side, &stale, "NC", "Wake")
                    .await
                    .expect("update"),
                None,
                "{side:?} refuses a stale version"
            );
            let mut ids = Vec::new();
            for _ in 0..200 {
                ids.push(
                    sides
                        .create(side, "FL", "Pinellas")
                        .await
                        .expect("create")
                        .id,
                );
            }
            states.push(SideState {
                latest: created,
                ids,
            });
        }
        // Warm-up: one unmeasured round.
        for op in OPS {
            for (s, side) in SIDES.into_iter().enumerate() {
                one_batch(&sides, side, op, batch, &mut states[s]).await;
            }
        }
        // times[op][side] per round.
        let mut times = vec![vec![Vec::new(); SIDES.len()]; OPS.len()];
        let mut ratios = vec![vec![Vec::new(); SIDES.len()]; OPS.len()];
        for round in 0..rounds {
            for (o, op) in OPS.into_iter().enumerate() {
                let mut per_call = [Duration::ZERO; SIDES.len()];
                for k in 0..SIDES.len() {
                    let s = (round + k) % SIDES.len();
                    per_call[s] = one_batch(&sides, SIDES[s], op, batch, &mut states[s]).await;
                }
                for s in 0..SIDES.len() {
                    times[o][s].push(per_call[s].as_nanos() as f64);
                    ratios[o][s].push(per_call[s].as_secs_f64() / per_call[0].as_secs_f64());
                }
            }
        }
        for (s, state) in states.iter().enumerate() {
            assert!(state.latest.version > 1, "{:?} updated", SIDES[s]);
        }
        let mut prepared = Vec::new();
        for side in SIDES {
            let n = sides
                .prepared(side)
                .await
                .map_or_else(|e| format!("? ({e})"), |n| n.to_string());
            prepared.push(format!("{} {n}", side.label()));
        }
        if let Ok(mut c) = sides.hand.pool.get().await {
            let _ = c
                .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{SCHEMA}\" CASCADE"))
                .await;
        }
        println!();
        println!(
            "PostgreSQL vs peers: single task, pools of {POOL_SIZE}, synchronous_commit = off; \
             medians of {rounds} rounds x {batch} calls per side"
        );
        println!(
            "{:<14} {:<13} {:>12} {:>14}",
            "operation", "side", "us / call", "side / hand"
        );
        for (o, op) in OPS.into_iter().enumerate() {
            for (s, side) in SIDES.into_iter().enumerate() {
                println!(
                    "{:<14} {:<13} {:>12.1} {:>13.2}x",
                    op.label(),
                    side.label(),
                    median(times[o][s].clone()) / 1e3,
                    median(ratios[o][s].clone()),
                );
            }
        }
        println!(
            "named prepared statements held by the session of the last call: {}",
            prepared.join(", ")
        );
    });
}
