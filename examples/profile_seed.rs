//! A driver for instruction-count profiles of the seed's code interface against
//! hand-written `dashmap` code: `valgrind --tool=callgrind` counts instructions, which stay
//! stable on a shared, noisy machine where wall-clock time does not.
//!
//! ```sh
//! cargo build --release --example profile_seed
//! valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.out target/release/examples/profile_seed update ash 100000
//! ```
//!
//! Arguments: `create|update|get|update_validated|get_read|read`, `ash|ash_async|hand|table`
//! (or `identity` as the side, with the operations `create_plain|create_unique|get_pk|
//! get_identity`: a create of the same record without and with a unique identity, and a
//! get by primary key against a `get_by_identity` on the identity resource; or `policy`,
//! with `update_plain|update_simple|update_filter`: the locked update without policies,
//! under a simple policy and under a filter policy),
//! (`table` is the criterion benches' `HandTable`, create/update/get only),
//! and the number of operations. `update_validated` is the locked update with two
//! validations; `get_read` a get by primary key through the read action and a typed query;
//! `read` a filtered read (`state == "FL" and version > 1`) over `READ_RECORDS` records,
//! one operation being one whole read. `scripts/bench.sh` subtracts a run with 0
//! operations and divides by the operations.
//!
//! The code interface is async; the two `ash` sides await it the two ways a caller does:
//! `ash` with one `ash_rs::block_on` per call (sync code), `ash_async` inside one future
//! that awaits the N calls one after another, run by one `block_on` (async code; the ETS
//! futures never suspend, so no runtime is needed to count its instructions). The setup
//! (the first record, the table of `read`) is the same on both, so a 0-operation run
//! subtracts it alike.

use ash_rs::block_on;
use ash_rs::prelude::*;
use dashmap::DashMap;
use std::hint::black_box;

// The benchmarks' seed resource and domain, so both measure the same declaration.
#[path = "../benches/common/seed.rs"]
mod seed;
use seed::*;

#[derive(Debug, Clone)]
struct Hand {
    id: Uuid,
    version: i64,
    state: String,
    county: String,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let op = args.get(1).map(String::as_str).unwrap_or("update");
    let side = args.get(2).map(String::as_str).unwrap_or("ash");
    let n: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    if op == "sizes" {
        sizes();
        return;
    }
    match side {
        "identity" => identity(op, n),
        "policy" => policy(op, n),
        "ash" => ash(op, n),
        "ash_async" => block_on(ash_async(op, n)),
        "table" => table(op, n),
        _ => hand(op, n),
    }
}

/// The criterion benchmarks' hand-written baseline (`HandTable`: one function per
/// operation, not inlined into the loop), for create, update and get.
fn table(op: &str, n: usize) {
    let table = HandTable::default();
    let mut record = table.create("FL", "Pinellas").expect("create");
    for _ in 0..n {
        match op {
            "create" => {
                black_box(
                    table
                        .create(black_box("FL"), black_box("Pinellas"))
                        .expect("create"),
                );
            }
            "get" | "get_read" => {
                black_box(table.get(black_box(record.id)));
            }
            _ => {
                record = table
                    .update(&record, Some(black_box("NC")), Some(black_box("Guilford")))
                    .expect("update");
            }
        }
    }
}

/// The seed's record with a serial number, without an identity...
#[resource(domain = Serials)]
#[actions(defaults(read, create = [state, county, serial]))]
#[derive(Debug, Clone, PartialEq)]
pub struct Plain {
    #[uuid_primary_key]
    pub id: Uuid,
    #[attribute(default = 1)]
    pub version: i64,
    pub state: String,
    pub county: String,
    pub serial: i64,
}

/// ... and with the serial number unique.
#[resource(domain = Serials)]
#[actions(defaults(read, create = [state, county, serial]))]
#[identities(identity(unique_serial, [serial]))]
#[derive(Debug, Clone, PartialEq)]
pub struct Unique {
    #[uuid_primary_key]
    pub id: Uuid,
    #[attribute(default = 1)]
    pub version: i64,
    pub state: String,
    pub county: String,
    pub serial: i64,
}

#[domain]
#[resources(
    Plain(define(create_plain, action = create, args = [state, county, serial])),
    Unique(
        define(create_unique, action = create, args = [state, county, serial]),
        define(get_unique, action = read, get_by = [id]),
        define(get_unique_by_serial, action = read, get_by_identity = unique_serial),
    ),
)]
pub struct Serials;

/// Identities (issue 13): the cost of a unique index on create and of a lookup through it.
fn identity(op: &str, n: usize) {
    let domain = Serials::new();
    let first = block_on(domain.create_unique("FL", "Pinellas", -1)).expect("create");
    block_on(domain.create_plain("FL", "Pinellas", -1)).expect("create");
    for i in 0..n {
        let serial = i as i64;
        match op {
            "create_plain" => {
                black_box(
                    block_on(domain.create_plain("FL", "Pinellas", black_box(serial)))
                        .expect("create"),
                );
            }
            "create_unique" => {
                black_box(
                    block_on(domain.create_unique("FL", "Pinellas", black_box(serial)))
                        .expect("create"),
                );
            }
            "get_pk" => {
                black_box(block_on(domain.get_unique(black_box(first.id))).expect("get"));
            }
            _ => {
                black_box(block_on(domain.get_unique_by_serial(black_box(-1))).expect("get"));
            }
        }
    }
}

/// Records in the table of the `read` operation.
const READ_RECORDS: usize = 100_000;
const STATES: [&str; 5] = ["FL", "NC", "CA", "NY", "TX"];

/// The domain, its first record, and for `read` the table to scan: the same for both ash
/// sides.
fn ash_setup(op: &str) -> (Domain, Address) {
    let domain = Domain::new();
    let record = block_on(domain.create_address("FL", "Pinellas")).expect("create");
    if op == "read" {
        for i in 0..READ_RECORDS {
            let created = block_on(domain.create_address(STATES[i % STATES.len()], "Pinellas"))
                .expect("create");
            if i % 3 == 0 {
                let input = AddressUpdateInput::new().county("Guilford");
                block_on(domain.update_address(&created, input)).expect("update");
            }
        }
    }
    (domain, record)
}

/// Sync callers: one `block_on` per call.
fn ash(op: &str, n: usize) {
    let (domain, mut record) = ash_setup(op);
    for _ in 0..n {
        match op {
            "create" => {
                black_box(block_on(domain.create_address("FL", "Pinellas")).expect("create"));
            }
            "get" => {
                black_box(block_on(domain.get_address(record.id)).expect("get"));
            }
            "get_read" => {
                let query = Query::new().filter(Address::ID.eq(record.id));
                black_box(
                    block_on(ash_rs::api::get(&domain, AddressReadInput::new(), query))
                        .expect("get"),
                );
            }
            "read" => {
                let query = Query::new().filter(Address::STATE.eq("FL") & Address::VERSION.gt(1));
                black_box(
                    block_on(ash_rs::api::read(&domain, AddressReadInput::new(), query))
                        .expect("read"),
                );
            }
            "update_validated" => {
                let input = AddressUpdateValidatedInput::new()
                    .state("NC")
                    .county("Guilford");
                record = block_on(domain.update_address_validated(&record, input)).expect("update");
            }
            _ => {
                let input = AddressUpdateInput::new().state("NC").county("Guilford");
                record = block_on(domain.update_address(&record, input)).expect("update");
            }
        }
    }
    black_box(record);
}

/// Async callers: the N calls awaited one after another inside one future.
async fn ash_async(op: &str, n: usize) {
    let (domain, mut record) = ash_setup(op);
    for _ in 0..n {
        match op {
            "create" => {
                black_box(
                    domain
                        .create_address("FL", "Pinellas")
                        .await
                        .expect("create"),
                );
            }
            "get" => {
                black_box(domain.get_address(record.id).await.expect("get"));
            }
            "get_read" => {
                let query = Query::new().filter(Address::ID.eq(record.id));
                black_box(
                    ash_rs::api::get(&domain, AddressReadInput::new(), query)
                        .await
                        .expect("get"),
                );
            }
            "read" => {
                let query = Query::new().filter(Address::STATE.eq("FL") & Address::VERSION.gt(1));
                black_box(
                    ash_rs::api::read(&domain, AddressReadInput::new(), query)
                        .await
                        .expect("read"),
                );
            }
            "update_validated" => {
                let input = AddressUpdateValidatedInput::new()
                    .state("NC")
                    .county("Guilford");
                record = domain
                    .update_address_validated(&record, input)
                    .await
                    .expect("update");
            }
            _ => {
                let input = AddressUpdateInput::new().state("NC").county("Guilford");
                record = domain.update_address(&record, input).await.expect("update");
            }
        }
    }
    black_box(record);
}

fn hand(op: &str, n: usize) {
    let map: DashMap<Uuid, Hand> = DashMap::new();
    let mut record = Hand {
        id: Uuid::new_v4(),
        version: 1,
        state: "FL".into(),
        county: "Pinellas".into(),
    };
    map.insert(record.id, record.clone());
    if op == "read" {
        for i in 0..READ_RECORDS {
            let new = Hand {
                id: Uuid::new_v4(),
                version: if i % 3 == 0 { 2 } else { 1 },
                state: STATES[i % STATES.len()].into(),
                county: if i % 3 == 0 { "Guilford" } else { "Pinellas" }.into(),
            };
            map.insert(new.id, new);
        }
    }
    for _ in 0..n {
        match op {
            "create" => {
                let new = Hand {
                    id: Uuid::new_v4(),
                    version: 1,
                    state: "FL".into(),
                    county: "Pinellas".into(),
                };
                if let dashmap::mapref::entry::Entry::Vacant(slot) = map.entry(new.id) {
                    slot.insert(new.clone());
                }
                black_box(new);
            }
            "get" | "get_read" => {
                black_box(map.get(&record.id).map(|r| r.value().clone()));
            }
            "read" => {
                let state = black_box("FL");
                black_box(
                    map.iter()
                        .filter(|r| r.state == state && r.version > 1)
                        .map(|r| r.value().clone())
                        .collect::<Vec<_>>(),
                );
            }
            _ => {
                let (state, county) = (String::from("NC"), String::from("Guilford"));
                if op == "update_validated" {
                    let len = state.chars().count();
                    assert!((1..=40).contains(&len) && !county.is_empty());
                }
                let mut stored = map.get_mut(&record.id).expect("stored");
                assert_eq!(stored.version, record.version);
                stored.version = stored.version.checked_add(1).expect("overflow");
                stored.state = state;
                stored.county = county;
                record = stored.clone();
            }
        }
    }
    black_box(record);
}

#[allow(dead_code)]
fn sizes() {
    use ash_rs::changeset::Changeset;
    eprintln!(
        "changeset {} update_op {} filter {} query {} value {} changes {} error {} kind {} result {}",
        std::mem::size_of::<Changeset<Address>>(),
        std::mem::size_of::<ash_rs::data_layer::UpdateOp<Address>>(),
        std::mem::size_of::<Filter<Address>>(),
        std::mem::size_of::<Query<Address>>(),
        std::mem::size_of::<AddressValue>(),
        std::mem::size_of::<AddressChanges>(),
        std::mem::size_of::<Error>(),
        std::mem::size_of::<ErrorKind>(),
        std::mem::size_of::<Result<Address, Error>>(),
    );
    // The futures the code interface returns: what an async caller's own future holds
    // across each `.await`.
    let domain = Domain::new();
    let record = block_on(domain.create_address("FL", "Pinellas")).expect("create");
    eprintln!(
        "futures: create_address {} update_address {} update_address_validated {} get_address {} api::read {}",
        std::mem::size_of_val(&domain.create_address("FL", "Pinellas")),
        std::mem::size_of_val(&domain.update_address(&record, AddressUpdateInput::new())),
        std::mem::size_of_val(
            &domain.update_address_validated(&record, AddressUpdateValidatedInput::new())
        ),
        std::mem::size_of_val(&domain.get_address(record.id)),
        std::mem::size_of_val(&ash_rs::api::read(
            &domain,
            AddressReadInput::new(),
            Query::new()
        )),
    );
}

/// The actor of the policy side.
#[derive(Debug, Clone)]
pub struct Owner {
    pub id: i64,
}

/// The seed's locked update, without policies...
#[resource(domain = Guarded)]
#[actions(
    defaults(read, create = [state, county, owner_id]),
    update(update, accept = [state, county], change = optimistic_lock(version)),
)]
#[derive(Debug, Clone, PartialEq)]
pub struct Open {
    #[uuid_primary_key]
    pub id: Uuid,
    #[attribute(default = 1)]
    pub version: i64,
    pub state: String,
    pub county: String,
    pub owner_id: i64,
}

/// ... under a simple policy (an actor is present) ...
#[resource(domain = Guarded)]
#[actions(
    defaults(read, create = [state, county, owner_id]),
    update(update, accept = [state, county], change = optimistic_lock(version)),
)]
#[policies(policy(always(), authorize_if(actor_present())))]
#[derive(Debug, Clone, PartialEq)]
pub struct Simple {
    #[uuid_primary_key]
    pub id: Uuid,
    #[attribute(default = 1)]
    pub version: i64,
    pub state: String,
    pub county: String,
    pub owner_id: i64,
}

/// ... and under a filter policy (the record is the actor's), which joins the write's
/// filter.
#[resource(domain = Guarded)]
#[actions(
    defaults(read, create = [state, county, owner_id]),
    update(update, accept = [state, county], change = optimistic_lock(version)),
)]
#[policies(actor = Owner, policy(always(), authorize_if(attribute_equals_actor(owner_id, id))))]
#[derive(Debug, Clone, PartialEq)]
pub struct Owned {
    #[uuid_primary_key]
    pub id: Uuid,
    #[attribute(default = 1)]
    pub version: i64,
    pub state: String,
    pub county: String,
    pub owner_id: i64,
}

#[domain]
#[resources(
    Open(define(create_open, action = create, args = [state, county, owner_id]), define(update_open, action = update)),
    Simple(define(create_simple, action = create, args = [state, county, owner_id]), define(update_simple, action = update)),
    Owned(define(create_owned, action = create, args = [state, county, owner_id]), define(update_owned, action = update)),
)]
pub struct Guarded;

/// Policies (issue 16): the seed's locked update without policies, under a simple policy
/// and under a filter policy, all with an actor.
fn policy(op: &str, n: usize) {
    let domain = Guarded::new().with_actor(&Owner { id: 7 });
    let mut open = block_on(domain.create_open("FL", "Pinellas", 7)).expect("create");
    let mut simple = block_on(domain.create_simple("FL", "Pinellas", 7)).expect("create");
    let mut owned = block_on(domain.create_owned("FL", "Pinellas", 7)).expect("create");
    for _ in 0..n {
        match op {
            "update_simple" => {
                let input = SimpleUpdateInput::new()
                    .state(black_box("NC"))
                    .county(black_box("Guilford"));
                simple = block_on(domain.update_simple(&simple, input)).expect("update");
            }
            "update_filter" => {
                let input = OwnedUpdateInput::new()
                    .state(black_box("NC"))
                    .county(black_box("Guilford"));
                owned = block_on(domain.update_owned(&owned, input)).expect("update");
            }
            _ => {
                let input = OpenUpdateInput::new()
                    .state(black_box("NC"))
                    .county(black_box("Guilford"));
                open = block_on(domain.update_open(&open, input)).expect("update");
            }
        }
    }
    black_box((open, simple, owned));
}
