//! What only the PostgreSQL layer has: one statement per action, transactions around
//! hooks, failures of the connection and the server, the schema check, value types on the
//! wire, NUL bytes, and writers racing from two pools and from two processes.
//!
//! The shared behaviour (the DESIGN.md table, reads, races in one pool) is in
//! `conformance.rs`, run on both layers.

// Hooks return `Result<(), ErrorKind>`, as the API defines them.
#![allow(clippy::result_large_err)]

#[path = "pg_support/mod.rs"]
mod pg_support;

use ash_rs::data_layer::DataLayer;
use ash_rs::domain::HasResource;
use ash_rs::error::ErrorKind;
use ash_rs::postgres::{create_table_sql, ColumnProblem, PgTable, Postgres, SchemaError};
use ash_rs::prelude::*;
use ash_rs::value::Value;
use pg_support::TestDb;
use std::sync::{Arc, Barrier};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn failing_after_hook(changeset: &mut Changeset<Account>) {
    changeset.after_action(|_| Err(ErrorKind::unknown("after hook failed")));
}

fn renaming_after_hook(changeset: &mut Changeset<Account>) {
    changeset.after_action(|record| {
        record.name.push_str(" (seen by the hook)");
        Ok(())
    });
}

fn panicking_after_hook(changeset: &mut Changeset<Account>) {
    changeset.after_action(|_| panic!("an after hook panicked"));
}

#[resource(domain = Bank, data_layer = Postgres(table = "accounts"))]
#[actions(
    defaults(read, create = [name, balance], destroy),
    update(update, accept = [name, balance], change = optimistic_lock(version)),
    update(audited, accept = [name], change = optimistic_lock(version), change = failing_after_hook),
    update(hooked, accept = [name], change = optimistic_lock(version), change = renaming_after_hook),
    update(exploding, accept = [name], change = optimistic_lock(version), change = panicking_after_hook),
)]
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    #[uuid_primary_key]
    pub id: Uuid,
    #[attribute(default = 1)]
    pub version: i64,
    #[attribute(default = 0)]
    pub balance: i64,
    pub name: String,
}

/// One attribute of each kind.
#[resource(domain = Bank, data_layer = Postgres)]
#[actions(
    defaults(read, create = [code, small, big, tiny, ratio, weight, flag, at, maybe, list, note]),
    update(bump, change = increment(big), change = increment(small)),
)]
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    #[primary_key]
    pub code: String,
    pub small: i32,
    pub big: u64,
    pub tiny: u8,
    pub ratio: f64,
    pub weight: f32,
    pub flag: bool,
    pub at: SystemTime,
    pub maybe: Option<Uuid>,
    pub list: Vec<i64>,
    pub note: Option<String>,
}

/// An in-memory resource in the same domain: `Bank::connect(&pool)` gives it ETS tables.
#[resource(domain = Bank, data_layer = Ets)]
#[actions(defaults(read, create = [key]))]
#[derive(Debug, Clone, PartialEq)]
pub struct Cached {
    #[primary_key]
    pub key: String,
}

#[domain]
#[resources(
    Account(
        define(open_account, action = create, args = [name]),
        define(get_account, action = read, get_by = [id]),
        define(list_accounts, action = read),
        define(update_account, action = update),
        define(audited_update, action = audited, args = [name]),
        define(hooked_update, action = hooked, args = [name]),
        define(exploding_update, action = exploding, args = [name]),
        define(close_account, action = destroy),
    ),
    Sample(
        define(create_sample, action = create),
        define(get_sample, action = read, get_by = [code]),
        define(bump_sample, action = bump),
    ),
    Cached(
        define(cache, action = create, args = [key]),
        define(cached, action = read, get_by = [key], not_found_error = false),
    ),
)]
pub struct Bank;

fn setup() -> Option<(Bank, TestDb)> {
    let db = TestDb::new()?;
    let bank = Bank::connect(&db.pool).expect("connect the domain");
    Some((bank, db))
}

fn accounts(bank: &Bank) -> &PgTable<Account> {
    HasResource::<Account>::data_layer(bank)
}

fn assert_framework(err: &Error, needle: &str) {
    assert!(
        matches!(err, Error::Framework { .. }),
        "expected Framework, got {err:?}"
    );
    assert!(
        matches!(err.errors(), [ErrorKind::Framework(f)] if f.message.as_str().contains(needle)),
        "expected a message with {needle:?}, got {err:?}"
    );
}

// ---------------------------------------------------------------------------------------
// One statement per action.

#[test]
fn every_action_is_exactly_one_statement() {
    let Some((bank, _db)) = setup() else { return };
    let table = accounts(&bank);
    let count = || table.statement_count();
    let before = count();
    let account = bank.open_account("a", AccountCreateInput::new()).unwrap();
    assert_eq!(count() - before, 1, "create");
    let before = count();
    let account = bank
        .update_account(&account, AccountUpdateInput::new().balance(5))
        .unwrap();
    assert_eq!(count() - before, 1, "update");
    let before = count();
    assert!(bank
        .update_account(
            &Account {
                version: 1,
                ..account.clone()
            },
            AccountUpdateInput::new()
        )
        .unwrap_err()
        .is_stale());
    assert_eq!(count() - before, 1, "a refused update, with its reason");
    let before = count();
    assert_eq!(bank.get_account(account.id).unwrap(), account);
    assert_eq!(count() - before, 1, "get");
    let before = count();
    assert_eq!(bank.list_accounts().unwrap().len(), 1);
    assert_eq!(count() - before, 1, "read");
    let before = count();
    assert_eq!(table.count(&Query::new()).unwrap(), 1);
    assert_eq!(count() - before, 1, "count");
    let before = count();
    bank.close_account(&account).unwrap();
    assert_eq!(count() - before, 1, "destroy");
    let before = count();
    assert!(bank.close_account(&account).unwrap_err().is_stale());
    assert_eq!(count() - before, 1, "a refused destroy");
}

// ---------------------------------------------------------------------------------------
// Transactions.

#[test]
fn an_after_hook_error_rolls_the_write_back() {
    let Some((bank, _db)) = setup() else { return };
    let account = bank
        .open_account("before", AccountCreateInput::new())
        .unwrap();
    let err = bank.audited_update(&account, "after").unwrap_err();
    assert!(
        matches!(err.errors(), [ErrorKind::Unknown(u)] if u.message == "after hook failed"),
        "{err:?}"
    );
    assert_eq!(
        bank.get_account(account.id).unwrap(),
        account,
        "rolled back"
    );
    // The same snapshot still holds the current version: nothing was written.
    let updated = bank
        .update_account(&account, AccountUpdateInput::new().name("x"))
        .unwrap();
    assert_eq!(updated.version, 2);
}

#[test]
fn a_succeeding_after_hook_commits() {
    let Some((bank, _db)) = setup() else { return };
    let account = bank.open_account("a", AccountCreateInput::new()).unwrap();
    let returned = bank.hooked_update(&account, "b").unwrap();
    assert_eq!(returned.name, "b (seen by the hook)");
    let stored = bank.get_account(account.id).unwrap();
    assert_eq!((stored.name.as_str(), stored.version), ("b", 2));
}

#[test]
fn a_panicking_after_hook_rolls_back_and_the_pool_recovers() {
    let Some((bank, _db)) = setup() else { return };
    let account = bank.open_account("a", AccountCreateInput::new()).unwrap();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        bank.exploding_update(&account, "b")
    }));
    assert!(result.is_err(), "the panic propagates");
    assert_eq!(
        bank.get_account(account.id).unwrap(),
        account,
        "rolled back"
    );
    let updated = bank
        .update_account(&account, AccountUpdateInput::new().name("c"))
        .unwrap();
    assert_eq!((updated.name.as_str(), updated.version), ("c", 2));
}

#[test]
fn transactions_span_tables_and_nest_with_savepoints() {
    let Some((bank, _db)) = setup() else { return };
    let table = accounts(&bank);
    // An error after two writes undoes both.
    let result: Result<(), Error> = table.transaction(|| {
        bank.open_account("one", AccountCreateInput::new())?;
        bank.create_sample(sample("s1"))?;
        Err(ErrorKind::unknown("changed my mind").into())
    });
    assert!(result.is_err());
    assert!(bank.list_accounts().unwrap().is_empty());
    assert!(bank.get_sample("s1").unwrap_err().is_not_found());

    // A failed inner transaction rolls back to its savepoint; the outer one commits.
    let kept = table
        .transaction(|| {
            let kept = bank.open_account("kept", AccountCreateInput::new())?;
            let inner: Result<(), Error> = table.pool().transaction(|| {
                bank.open_account("dropped", AccountCreateInput::new())?;
                Err(ErrorKind::unknown("inner failure").into())
            });
            assert!(inner.is_err());
            // A duplicate key inside the transaction is an ordinary error too.
            let dup = bank
                .create_sample(sample("s2"))
                .and_then(|_| bank.create_sample(sample("s2")));
            assert!(matches!(
                dup.unwrap_err().errors(),
                [ErrorKind::AlreadyExists(_)]
            ));
            Ok(kept)
        })
        .unwrap_err();
    // The duplicate key aborted the transaction (PostgreSQL semantics): it is rolled back
    // and reported, although the closure returned `Ok`.
    assert_framework(&kept, "rolled back because a statement inside it failed");
    assert!(bank.list_accounts().unwrap().is_empty());

    let kept = table
        .transaction(|| {
            let kept = bank.open_account("kept", AccountCreateInput::new())?;
            let inner: Result<(), Error> = table.transaction(|| {
                bank.open_account("dropped", AccountCreateInput::new())?;
                Err(ErrorKind::unknown("inner failure").into())
            });
            assert!(inner.is_err());
            Ok(kept)
        })
        .unwrap();
    let names: Vec<String> = bank
        .list_accounts()
        .unwrap()
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(names, ["kept"]);
    assert_eq!(bank.get_account(kept.id).unwrap(), kept);
}

#[test]
fn other_threads_do_not_see_an_open_transaction() {
    let Some((bank, _db)) = setup() else { return };
    let table = accounts(&bank);
    table
        .transaction(|| {
            let inside = bank.open_account("pending", AccountCreateInput::new())?;
            assert_eq!(bank.get_account(inside.id)?, inside, "visible inside");
            let outside = std::thread::scope(|s| s.spawn(|| bank.list_accounts()).join());
            assert_eq!(
                outside.unwrap().unwrap().len(),
                0,
                "invisible outside until COMMIT"
            );
            Ok(())
        })
        .unwrap();
    assert_eq!(bank.list_accounts().unwrap().len(), 1);
}

// ---------------------------------------------------------------------------------------
// Failures: typed errors, never panics, and the pool recovers.

fn backend_pid(db: &TestDb) -> i32 {
    db.pool
        .with_connection(|c| c.client().query_one("SELECT pg_backend_pid()", &[]))
        .unwrap()
        .get(0)
}

fn terminate(pid: i32) {
    let mut admin = pg_support::admin().unwrap();
    let row = admin
        .query_one("SELECT pg_terminate_backend($1)", &[&pid])
        .unwrap();
    assert!(row.get::<_, bool>(0), "terminated");
    for _ in 0..200 {
        let alive = admin
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = $1",
                &[&pid],
            )
            .unwrap()
            .get::<_, i64>(0);
        if alive == 0 {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("backend {pid} did not exit");
}

#[test]
fn a_killed_connection_is_a_typed_error_and_the_next_call_works() {
    let Some(db) = TestDb::with(|b| b.max_size(1)) else {
        return;
    };
    let bank = Bank::connect(&db.pool).unwrap();
    let account = bank.open_account("a", AccountCreateInput::new()).unwrap();
    for round in 0..3 {
        terminate(backend_pid(&db));
        let err = bank.get_account(account.id).unwrap_err();
        assert_framework(&err, "PostgreSQL");
        // The broken connection was dropped; the next call opens a fresh one.
        let fresh = bank.get_account(account.id).unwrap();
        assert_eq!(fresh.version, 1 + round);
        bank.update_account(&fresh, AccountUpdateInput::new())
            .unwrap();
    }
    // A write on a killed connection fails the same way and writes nothing.
    let current = bank.get_account(account.id).unwrap();
    terminate(backend_pid(&db));
    assert_framework(
        &bank
            .update_account(&current, AccountUpdateInput::new().name("lost"))
            .unwrap_err(),
        "PostgreSQL",
    );
    assert_eq!(bank.get_account(account.id).unwrap(), current);
    // And inside a transaction.
    terminate(backend_pid(&db));
    let err = accounts(&bank)
        .transaction(|| bank.update_account(&current, AccountUpdateInput::new()))
        .unwrap_err();
    assert_framework(&err, "PostgreSQL");
    assert_eq!(bank.get_account(account.id).unwrap(), current);
}

#[test]
fn after_a_server_restart_one_call_fails_and_the_pool_recovers() {
    let Some(db) = TestDb::with(|b| b.max_size(4)) else {
        return;
    };
    let bank = Bank::connect(&db.pool).unwrap();
    let account = bank.open_account("a", AccountCreateInput::new()).unwrap();
    // Three connections open at once, then idle in the pool.
    let barrier = Arc::new(Barrier::new(3));
    let handles: Vec<_> = (0..3)
        .map(|_| {
            let (pool, barrier) = (db.pool.clone(), barrier.clone());
            std::thread::spawn(move || {
                pool.with_connection(|c| {
                    barrier.wait();
                    c.client().query_one("SELECT pg_backend_pid()", &[])
                })
                .unwrap()
                .get::<_, i32>(0)
            })
        })
        .collect();
    let pids: Vec<i32> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(pids.len(), 3);
    // What a restart does to them: every backend is gone.
    for pid in pids {
        terminate(pid);
    }
    let err = bank.get_account(account.id).unwrap_err();
    assert_framework(&err, "PostgreSQL");
    // The other dead connections are checked before use and replaced: no second failure.
    for _ in 0..6 {
        assert_eq!(bank.get_account(account.id).unwrap(), account);
    }
}

#[test]
fn a_statement_timeout_is_a_typed_error_that_writes_nothing() {
    let Some(db) = TestDb::with(|b| b.statement_timeout(Duration::from_millis(300))) else {
        return;
    };
    let bank = Bank::connect(&db.pool).unwrap();
    let account = bank.open_account("a", AccountCreateInput::new()).unwrap();
    // Another connection holds the row lock, so the update waits until it is cancelled.
    let mut admin = pg_support::admin().unwrap();
    let mut blocker = admin.transaction().unwrap();
    blocker
        .execute(
            &format!(
                "SELECT 1 FROM \"{}\".\"accounts\" WHERE id = $1 FOR UPDATE",
                db.schema
            ),
            &[&account.id],
        )
        .unwrap();
    let err = bank
        .update_account(&account, AccountUpdateInput::new().name("slow"))
        .unwrap_err();
    assert_framework(&err, "statement_timeout");
    blocker.rollback().unwrap();
    assert_eq!(bank.get_account(account.id).unwrap(), account);
    assert_eq!(
        bank.update_account(&account, AccountUpdateInput::new().name("fast"))
            .unwrap()
            .version,
        2
    );
    // A slow statement of your own, through the same pool, fails the same way.
    let err = db
        .pool
        .with_connection(|c| c.client().batch_execute("SELECT pg_sleep(2)"))
        .unwrap_err();
    assert_framework(&err, "57014");
}

#[test]
fn an_unreachable_server_is_a_typed_error() {
    let err = ash_rs::postgres::Pool::builder("postgres://postgres@127.0.0.1:1/none")
        .connection_timeout(Duration::from_millis(500))
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::Framework { .. }), "{err:?}");
    let err = ash_rs::postgres::Pool::connect("not a url").unwrap_err();
    assert!(matches!(err, Error::Framework { .. }), "{err:?}");
}

// ---------------------------------------------------------------------------------------
// Schema.

#[test]
fn the_ddl_is_printable_for_review() {
    assert_eq!(
        create_table_sql::<Account>(Some("app")).unwrap(),
        "CREATE TABLE IF NOT EXISTS \"app\".\"accounts\" (\n    \"id\" uuid NOT NULL,\n    \"version\" bigint NOT NULL,\n    \"balance\" bigint NOT NULL,\n    \"name\" text NOT NULL,\n    PRIMARY KEY (\"id\")\n)"
    );
    let sample = create_table_sql::<Sample>(None).unwrap();
    assert!(
        sample.starts_with("CREATE TABLE IF NOT EXISTS \"sample\" ("),
        "{sample}"
    );
    for column in [
        "\"small\" integer NOT NULL",
        "\"big\" numeric(20, 0) NOT NULL",
        "\"ratio\" double precision NOT NULL",
        "\"weight\" real NOT NULL",
        "\"flag\" boolean NOT NULL",
        "\"at\" timestamp with time zone NOT NULL",
        "\"maybe\" uuid,",
        "\"list\" jsonb NOT NULL",
        "\"note\" text,",
        "PRIMARY KEY (\"code\")",
    ] {
        assert!(sample.as_str().contains(column), "{column} in {sample}");
    }
}

#[test]
fn a_missing_table_is_reported_with_its_ddl_unless_creation_is_asked() {
    let Some(db) = TestDb::with(|b| b.create_missing_tables(false)) else {
        return;
    };
    let err = Bank::connect(&db.pool).unwrap_err();
    assert!(matches!(err, Error::Framework { .. }));
    let message = err.errors()[0].to_string();
    assert!(
        message
            .as_str()
            .contains("does not exist; create it with:\nCREATE TABLE IF NOT EXISTS"),
        "{message}"
    );
    let table = PgTable::<Account>::new(&db.pool).unwrap();
    assert!(matches!(
        table.schema_problem().unwrap(),
        Some(SchemaError::MissingTable { .. })
    ));
    table.create_table().unwrap();
    assert_eq!(table.schema_problem().unwrap(), None);
    assert_eq!(table.table_name(), format!("{}.accounts", db.schema));
}

#[test]
fn a_table_that_does_not_fit_is_a_typed_error() {
    let Some(db) = TestDb::with(|b| b.create_missing_tables(false)) else {
        return;
    };
    let mut admin = pg_support::admin().unwrap();
    admin
        .batch_execute(&format!(
            "CREATE TABLE \"{}\".\"accounts\" (id uuid PRIMARY KEY, balance integer NOT NULL, \
             name text, owner text NOT NULL, comment text)",
            db.schema
        ))
        .unwrap();
    let table = PgTable::<Account>::new(&db.pool).unwrap();
    let Some(SchemaError::Mismatch {
        table: name,
        problems,
    }) = table.schema_problem().unwrap()
    else {
        panic!("expected a mismatch")
    };
    assert_eq!(name, format!("{}.accounts", db.schema));
    assert_eq!(
        problems,
        [
            ColumnProblem::Missing {
                column: "version".into(),
                expected_type: "bigint".into()
            },
            ColumnProblem::WrongType {
                column: "balance".into(),
                expected: "bigint".into(),
                found: "integer".into()
            },
            ColumnProblem::Nullability {
                column: "name".into(),
                attribute_allows_nil: false
            },
            ColumnProblem::UnwrittenRequired {
                column: "owner".into()
            },
        ]
    );
    let err = Bank::connect(&db.pool).unwrap_err();
    let message = err.errors()[0].to_string();
    assert!(
        message.as_str().contains("does not match its resource"),
        "{message}"
    );
    assert!(
        message
            .as_str()
            .contains("column \"version\" (bigint) is missing"),
        "{message}"
    );
}

// ---------------------------------------------------------------------------------------
// Values on the wire.

fn sample(code: &str) -> SampleCreateInput {
    SampleCreateInput::new()
        .code(code)
        .small(-7)
        .big(12u64)
        .tiny(255u8)
        .ratio(-0.125)
        .weight(1.5f32)
        .flag(true)
        .at(UNIX_EPOCH + Duration::from_micros(1_700_000_000_123_456))
        .list(vec![i64::MIN, 0, i64::MAX])
}

#[test]
fn every_kind_of_value_round_trips() {
    let Some((bank, _db)) = setup() else { return };
    let id = Uuid::new_v4();
    let max = bank
        .create_sample(
            sample("max")
                .big(u64::MAX)
                .small(i32::MIN)
                .maybe(Some(id))
                .note(Some("n".to_string()))
                .at(UNIX_EPOCH - Duration::from_micros(86_400_000_001)),
        )
        .unwrap();
    assert_eq!(max.big, u64::MAX);
    assert_eq!(max.small, i32::MIN);
    assert_eq!(max.maybe, Some(id));
    assert_eq!(max.at, UNIX_EPOCH - Duration::from_micros(86_400_000_001));
    assert_eq!(bank.get_sample("max").unwrap(), max);
    let plain = bank.create_sample(sample("plain")).unwrap();
    assert_eq!(
        (
            plain.tiny,
            plain.ratio,
            plain.weight,
            plain.flag,
            plain.maybe,
            plain.note.clone()
        ),
        (255, -0.125, 1.5, true, None, None)
    );
    assert_eq!(plain.list, [i64::MIN, 0, i64::MAX]);
    assert_eq!(bank.get_sample("plain").unwrap(), plain);
}

#[test]
fn atomic_adds_are_checked_at_every_integer_width() {
    let Some((bank, _db)) = setup() else { return };
    let s = bank.create_sample(sample("s")).unwrap();
    let bumped = bank.bump_sample(&s).unwrap();
    assert_eq!((bumped.big, bumped.small), (13, -6));
    // numeric(20, 0) holding u64::MAX: the add is refused, not widened.
    let max = bank.create_sample(sample("u").big(u64::MAX)).unwrap();
    let err = bank.bump_sample(&max).unwrap_err();
    assert!(
        matches!(err.errors(), [ErrorKind::Overflow(o)] if o.field == "big" && o.value == Value::UInt(u64::MAX) && o.by == 1),
        "{err:?}"
    );
    assert_eq!(bank.get_sample("u").unwrap(), max);
    // integer holding i32::MAX.
    let max = bank.create_sample(sample("i").small(i32::MAX)).unwrap();
    let err = bank.bump_sample(&max).unwrap_err();
    assert!(
        matches!(err.errors(), [ErrorKind::Overflow(o)] if o.field == "small" && o.value == Value::Int(i32::MAX.into())),
        "{err:?}"
    );
    assert_eq!(bank.get_sample("i").unwrap(), max);
}

#[test]
fn a_nul_byte_is_a_typed_error_and_stores_nothing() {
    let Some((bank, _db)) = setup() else { return };
    let err = bank
        .open_account("nul\0byte", AccountCreateInput::new())
        .unwrap_err();
    assert!(matches!(err, Error::Invalid { .. }), "{err:?}");
    assert!(
        matches!(err.errors(), [ErrorKind::InvalidAttribute(e)] if e.field == "name"),
        "{err:?}"
    );
    assert!(bank.list_accounts().unwrap().is_empty());
    let account = bank.open_account("ok", AccountCreateInput::new()).unwrap();
    let err = bank
        .update_account(&account, AccountUpdateInput::new().name("\0"))
        .unwrap_err();
    assert!(matches!(err.errors(), [ErrorKind::InvalidAttribute(e)] if e.field == "name"));
    assert_eq!(bank.get_account(account.id).unwrap(), account);
    let err = bank
        .create_sample(sample("nul").list(vec![1]).note(Some("a\0".to_string())))
        .unwrap_err();
    assert!(matches!(err.errors(), [ErrorKind::InvalidAttribute(e)] if e.field == "note"));
    let query = Query::new().filter(Filter::eq(AccountValue::Name("\0".into())));
    let err =
        ash_rs::action::read(accounts(&bank), AccountReadInput::default(), query).unwrap_err();
    assert!(matches!(err.errors(), [ErrorKind::InvalidAttribute(e)] if e.field == "name"));
}

#[test]
fn an_ets_resource_lives_beside_postgres_ones_in_one_domain() {
    let Some((bank, _db)) = setup() else { return };
    bank.cache("k").unwrap();
    assert_eq!(bank.cached("k").unwrap(), Some(Cached { key: "k".into() }));
    bank.open_account("a", AccountCreateInput::new()).unwrap();
    assert_eq!(bank.list_accounts().unwrap().len(), 1);
}

// ---------------------------------------------------------------------------------------
// Across pools and processes.

#[test]
fn two_pools_race_on_one_row() {
    let Some((first, db)) = setup() else { return };
    let second = Bank::connect(&db.another_pool(|b| b.max_size(4))).unwrap();
    for _round in 0..5 {
        let snapshot = first
            .open_account("race", AccountCreateInput::new())
            .unwrap();
        let barrier = Arc::new(Barrier::new(8));
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let bank = if i % 2 == 0 {
                    first.clone()
                } else {
                    second.clone()
                };
                let (snapshot, barrier) = (snapshot.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    bank.update_account(&snapshot, AccountUpdateInput::new().balance(i))
                })
            })
            .collect();
        let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let won: Vec<&Account> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(won.len(), 1, "{results:?}");
        assert_eq!(
            results
                .iter()
                .filter(|r| r.as_ref().is_err_and(Error::is_stale))
                .count(),
            7
        );
        assert_eq!(&second.get_account(snapshot.id).unwrap(), won[0]);
    }

    // Retrying increments from both pools: nothing lost.
    const PER_THREAD: i64 = 100;
    let id = first
        .open_account("counter", AccountCreateInput::new())
        .unwrap()
        .id;
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let bank = if i % 2 == 0 {
                first.clone()
            } else {
                second.clone()
            };
            std::thread::spawn(move || {
                for _ in 0..PER_THREAD {
                    loop {
                        let current = bank.get_account(id).unwrap();
                        let next = AccountUpdateInput::new().balance(current.balance + 1);
                        match bank.update_account(&current, next) {
                            Ok(_) => break,
                            Err(e) if e.is_stale() => continue,
                            Err(e) => panic!("{e}"),
                        }
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let stored = first.get_account(id).unwrap();
    assert_eq!(
        (stored.balance, stored.version),
        (4 * PER_THREAD, 1 + 4 * PER_THREAD)
    );
}

const CHILD: &str = "ASH_POSTGRES_RACE_CHILD";
const CHILD_INCREMENTS: i64 = 150;

/// The child side of `two_processes_race_on_one_row`: read the snapshot, wait for the
/// common start, write with it once, then make retrying increments.
fn race_child(spec: &str) {
    let parts: Vec<&str> = spec.split('|').collect();
    let [schema, id, start] = parts[..] else {
        panic!("bad child spec {spec:?}")
    };
    let id: Uuid = id.parse().unwrap();
    let start = UNIX_EPOCH + Duration::from_millis(start.parse().unwrap());
    let pool = ash_rs::postgres::Pool::builder(&pg_support::url())
        .schema(schema)
        .build()
        .unwrap();
    let bank = Bank::connect(&pool).unwrap();
    let snapshot = bank.get_account(id).unwrap();
    let late = SystemTime::now() > start;
    if let Ok(wait) = start.duration_since(SystemTime::now()) {
        std::thread::sleep(wait);
    }
    let first = match bank.update_account(&snapshot, AccountUpdateInput::new().name("first")) {
        Ok(_) => "won",
        Err(e) if e.is_stale() => "stale",
        Err(e) => panic!("{e}"),
    };
    let mut retries = 0;
    for _ in 0..CHILD_INCREMENTS {
        loop {
            let current = bank.get_account(id).unwrap();
            let next = AccountUpdateInput::new().balance(current.balance + 1);
            match bank.update_account(&current, next) {
                Ok(_) => break,
                Err(e) if e.is_stale() => retries += 1,
                Err(e) => panic!("{e}"),
            }
        }
    }
    println!("RACE_RESULT first={first} late={late} retries={retries}");
}

#[test]
fn two_processes_race_on_one_row() {
    if let Ok(spec) = std::env::var(CHILD) {
        race_child(&spec);
        return;
    }
    let Some((bank, db)) = setup() else { return };
    let account = bank
        .open_account("shared", AccountCreateInput::new())
        .unwrap();
    let start = SystemTime::now().duration_since(UNIX_EPOCH).unwrap() + Duration::from_secs(3);
    let spec = format!("{}|{}|{}", db.schema, account.id, start.as_millis());
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..2)
        .map(|_| {
            std::process::Command::new(&exe)
                .args([
                    "two_processes_race_on_one_row",
                    "--exact",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(CHILD, &spec)
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut firsts = Vec::new();
    for child in children {
        let output = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "child failed:\n{stdout}");
        let line = stdout
            .lines()
            .find_map(|l| l.find("RACE_RESULT").map(|at| &l[at..]))
            .unwrap_or_else(|| panic!("no result in:\n{stdout}"));
        assert!(line.contains("late=false"), "a child started late: {line}");
        firsts.push(line.split_whitespace().nth(1).unwrap().to_owned());
    }
    firsts.sort();
    assert_eq!(
        firsts,
        ["first=stale", "first=won"],
        "exactly one process wins the snapshot"
    );
    let stored = bank.get_account(account.id).unwrap();
    assert_eq!(stored.balance, 2 * CHILD_INCREMENTS, "no increment lost");
    assert_eq!(stored.version, 1 + 1 + 2 * CHILD_INCREMENTS);
    assert_eq!(stored.name, "first");
}
