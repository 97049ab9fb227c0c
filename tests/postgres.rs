//! What only the PostgreSQL layer has: one statement per action, transactions (around
//! hooks, explicit, nested, dropped, cancelled), failures of the connection and the
//! server, the schema check, value types on the wire, NUL bytes, secrets in messages, the
//! runtime the pool lives on, and writers racing from two pools and from two processes.
//!
//! The shared behaviour (the DESIGN.md table, reads, races in one pool) is in
//! `conformance.rs`, run on both layers.

// Hooks return `Result<(), ErrorKind>`, as the API defines them.
#![allow(clippy::result_large_err)]

#[path = "pg_support/mod.rs"]
mod pg_support;

use ash_rs::context::Context;
use ash_rs::data_layer::DataLayer;
use ash_rs::domain::HasResource;
use ash_rs::error::ErrorKind;
use ash_rs::postgres::{
    create_table_sql, ColumnProblem, PgTable, PgTransaction, Pool, Postgres, SchemaError,
};
use ash_rs::prelude::*;
use ash_rs::value::Value;
use pg_support::TestDb;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::Barrier;

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

fn sleeping_after_hook(changeset: &mut Changeset<Account>) {
    changeset.after_action_async(|record, _ctx| async move {
        tokio::time::sleep(Duration::from_secs(30)).await;
        Ok(record)
    });
}

/// Writes an `Entry` with the hook's context (so inside the action's transaction), then
/// refuses a name of "fail".
fn logging_after_hook(changeset: &mut Changeset<Account>) {
    let bank = changeset.domain::<Bank>().cloned();
    changeset.after_action_async(|record, ctx| async move {
        let Some(bank) = bank else {
            return Err(ErrorKind::unknown("no domain"));
        };
        bank.with_context(ctx)
            .log_entry(record.id, record.name.clone())
            .await
            .map_err(|e| e.into_errors().remove(0))?;
        if record.name == "fail" {
            return Err(ErrorKind::unknown("audit refused"));
        }
        Ok(record)
    });
}

fn tagging_after_hook(changeset: &mut Changeset<Entry>) {
    changeset.after_action(|entry| {
        entry.note.push_str(" (logged)");
        Ok(())
    });
}

#[resource(domain = Bank, data_layer = Postgres(table = "accounts"))]
#[actions(
    defaults(read, create = [name, balance], destroy),
    update(update, accept = [name, balance], change = optimistic_lock(version)),
    update(audited, accept = [name], change = optimistic_lock(version), change = failing_after_hook),
    update(hooked, accept = [name], change = optimistic_lock(version), change = renaming_after_hook),
    update(exploding, accept = [name], change = optimistic_lock(version), change = panicking_after_hook),
    update(slow, accept = [name], change = optimistic_lock(version), change = sleeping_after_hook),
    update(logged, accept = [name], change = optimistic_lock(version), change = logging_after_hook),
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

/// What the logging hook writes; its create has a hook of its own, so inside the
/// account's transaction it runs in a savepoint.
#[resource(domain = Bank, data_layer = Postgres(table = "entries"))]
#[actions(defaults(read, create = [account, note]), create(tagged, accept = [account, note], change = tagging_after_hook))]
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    #[uuid_primary_key]
    pub id: Uuid,
    pub account: Uuid,
    pub note: String,
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
        define(slow_update, action = slow, args = [name]),
        define(logged_update, action = logged, args = [name]),
        define(close_account, action = destroy),
    ),
    Entry(
        define(log_entry, action = tagged, args = [account, note]),
        define(list_entries, action = read),
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

async fn setup() -> Option<(Bank, TestDb)> {
    let db = TestDb::new().await?;
    let bank = Bank::connect(&db.pool).await.expect("connect the domain");
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

/// A fresh `application_name`, to find a pool's backends in `pg_stat_activity`.
fn app_name() -> String {
    format!("ash_test_{}", Uuid::new_v4().simple())
}

fn named(app: &str) -> impl FnOnce(ash_rs::postgres::PoolBuilder) -> ash_rs::postgres::PoolBuilder {
    let sql = format!("SET application_name = '{app}'");
    move |b| b.on_connect(sql)
}

/// Backends of `app` in a state matching `state` (a LIKE pattern).
async fn backends(app: &str, state: &str) -> Vec<i32> {
    let admin = pg_support::admin().await.unwrap();
    admin
        .query(
            "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND state LIKE $2",
            &[&app, &state],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect()
}

/// Waits (up to 10 s) until `app` has no backend inside a transaction.
async fn assert_no_backend_in_a_transaction(app: &str) {
    for _ in 0..200 {
        if backends(app, "idle in transaction%").await.is_empty()
            && backends(app, "active").await.is_empty()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "backends of {app} left inside a transaction: {:?}",
        backends(app, "idle in transaction%").await
    );
}

// ---------------------------------------------------------------------------------------
// One statement per action; a refused write reads the stored row to say why.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_action_is_one_statement_and_a_refusal_two() {
    let Some((bank, _db)) = setup().await else {
        return;
    };
    let table = accounts(&bank);
    let count = || table.statement_count();
    let before = count();
    let account = bank
        .open_account("a", AccountCreateInput::new())
        .await
        .unwrap();
    assert_eq!(count() - before, 1, "create");
    let before = count();
    let account = bank
        .update_account(&account, AccountUpdateInput::new().balance(5))
        .await
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
        .await
        .unwrap_err()
        .is_stale());
    assert_eq!(
        count() - before,
        2,
        "a refused update: the write, then a read of the stored row for its reason"
    );
    let before = count();
    assert_eq!(bank.get_account(account.id).await.unwrap(), account);
    assert_eq!(count() - before, 1, "get");
    let before = count();
    assert_eq!(bank.list_accounts().await.unwrap().len(), 1);
    assert_eq!(count() - before, 1, "read");
    let before = count();
    assert_eq!(
        table.count(&Context::new(), &Query::new()).await.unwrap(),
        1
    );
    assert_eq!(count() - before, 1, "count");
    let before = count();
    bank.close_account(&account).await.unwrap();
    assert_eq!(count() - before, 1, "destroy");
    let before = count();
    assert!(bank.close_account(&account).await.unwrap_err().is_stale());
    assert_eq!(
        count() - before,
        1,
        "a refused destroy without a lock: the row is gone"
    );
    // Inside a transaction too (BEGIN and COMMIT are not counted).
    let tx = bank.begin().await.unwrap();
    let before = count();
    bank.with_transaction(&tx)
        .open_account("b", AccountCreateInput::new())
        .await
        .unwrap();
    assert_eq!(count() - before, 1, "create in a transaction");
    tx.commit().await.unwrap();
    assert_eq!(count() - before, 1, "commit is not an action statement");
}

/// Updates of different shapes alternating on one table (each shape's statement is
/// rendered once, then reused): each writes exactly its own fields, and the refusals keep
/// their reasons (a stale version: the lock's filter; a deleted record: its primary key).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_shapes_alternate_on_one_table() {
    let Some((bank, _db)) = setup().await else {
        return;
    };
    let account = bank
        .open_account("a", AccountCreateInput::new())
        .await
        .unwrap();
    let mut expected = account.clone();
    for round in 0..3i64 {
        for shape in 0..4 {
            let input = match shape {
                0 => AccountUpdateInput::new().balance(round),
                1 => AccountUpdateInput::new().name(format!("n{round}")),
                2 => AccountUpdateInput::new()
                    .name(format!("m{round}"))
                    .balance(round + 10),
                _ => AccountUpdateInput::new(),
            };
            match shape {
                0 => expected.balance = round,
                1 => expected.name = format!("n{round}"),
                2 => (expected.name, expected.balance) = (format!("m{round}"), round + 10),
                _ => {}
            }
            expected.version += 1;
            let stale = Account {
                version: expected.version - 2,
                ..expected.clone()
            };
            let updated = bank
                .update_account(
                    &Account {
                        version: expected.version - 1,
                        ..expected.clone()
                    },
                    input,
                )
                .await
                .unwrap();
            assert_eq!(updated, expected, "round {round}, shape {shape}");
            assert_eq!(bank.get_account(account.id).await.unwrap(), expected);
            let err = bank
                .update_account(&stale, AccountUpdateInput::new().balance(-1))
                .await
                .unwrap_err();
            let s = err.stale_record().unwrap();
            assert_eq!(
                s.to_string(),
                format!(
                    "Attempted to update stale record of Account with filter: version == {}",
                    stale.version
                )
            );
            assert_eq!(bank.get_account(account.id).await.unwrap(), expected);
        }
    }
    bank.close_account(&expected).await.unwrap();
    let err = bank
        .update_account(&expected, AccountUpdateInput::new().name("gone"))
        .await
        .unwrap_err();
    assert_eq!(
        err.stale_record().unwrap().to_string(),
        format!(
            "Attempted to update stale record of Account with filter: id == \"{}\"",
            account.id
        )
    );
}

// ---------------------------------------------------------------------------------------
// Transactions around hooks.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_after_hook_error_rolls_the_write_back() {
    let Some((bank, _db)) = setup().await else {
        return;
    };
    let account = bank
        .open_account("before", AccountCreateInput::new())
        .await
        .unwrap();
    let err = bank.audited_update(&account, "after").await.unwrap_err();
    assert!(
        matches!(err.errors(), [ErrorKind::Unknown(u)] if u.message == "after hook failed"),
        "{err:?}"
    );
    assert_eq!(
        bank.get_account(account.id).await.unwrap(),
        account,
        "rolled back"
    );
    // The same snapshot still holds the current version: nothing was written.
    let updated = bank
        .update_account(&account, AccountUpdateInput::new().name("x"))
        .await
        .unwrap();
    assert_eq!(updated.version, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_succeeding_after_hook_commits() {
    let Some((bank, _db)) = setup().await else {
        return;
    };
    let account = bank
        .open_account("a", AccountCreateInput::new())
        .await
        .unwrap();
    let returned = bank.hooked_update(&account, "b").await.unwrap();
    assert_eq!(returned.name, "b (seen by the hook)");
    let stored = bank.get_account(account.id).await.unwrap();
    assert_eq!((stored.name.as_str(), stored.version), ("b", 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_after_hook_rolls_back_and_the_pool_recovers() {
    let app = app_name();
    // One connection: a connection returned to the pool inside the panicked transaction
    // would serve the next calls, and they would see the write.
    let Some(db) = TestDb::with(|b| named(&app)(b.max_size(1))).await else {
        return;
    };
    let bank = Bank::connect(&db.pool).await.unwrap();
    let account = bank
        .open_account("a", AccountCreateInput::new())
        .await
        .unwrap();
    let task = tokio::spawn({
        let (bank, account) = (bank.clone(), account.clone());
        async move { bank.exploding_update(&account, "b").await }
    });
    let joined = task.await;
    assert!(
        joined.as_ref().is_err_and(|e| e.is_panic()),
        "the panic propagates: {joined:?}"
    );
    assert_eq!(
        bank.get_account(account.id).await.unwrap(),
        account,
        "rolled back"
    );
    let updated = bank
        .update_account(&account, AccountUpdateInput::new().name("c"))
        .await
        .unwrap();
    assert_eq!((updated.name.as_str(), updated.version), ("c", 2));
    assert_no_backend_in_a_transaction(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_async_hook_error_rolls_back_the_write_and_the_actions_run_with_its_context() {
    let Some((bank, _db)) = setup().await else {
        return;
    };
    let account = bank
        .open_account("a", AccountCreateInput::new())
        .await
        .unwrap();
    // The hook logs an entry (a nested action, with a hook of its own: a savepoint), then
    // fails: the update and the entry are both rolled back.
    let err = bank.logged_update(&account, "fail").await.unwrap_err();
    assert!(
        matches!(err.errors(), [ErrorKind::Unknown(u)] if u.message == "audit refused"),
        "{err:?}"
    );
    assert!(
        bank.list_entries().await.unwrap().is_empty(),
        "entry rolled back"
    );
    assert_eq!(bank.get_account(account.id).await.unwrap(), account);
    // Succeeding, both are committed.
    let updated = bank.logged_update(&account, "fine").await.unwrap();
    assert_eq!((updated.name.as_str(), updated.version), ("fine", 2));
    let entries = bank.list_entries().await.unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(
        (entries[0].account, entries[0].note.as_str()),
        (account.id, "fine")
    );
    // Inside a transaction of the caller's: the hook's actions join it too.
    let tx = bank.begin().await.unwrap();
    bank.with_transaction(&tx)
        .logged_update(&updated, "inside")
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(bank.list_entries().await.unwrap().len(), 1);
    assert_eq!(bank.get_account(account.id).await.unwrap(), updated);
}

// ---------------------------------------------------------------------------------------
// Transactions of your own.

fn driver(tx: &Transaction) -> &PgTransaction {
    tx.driver::<PgTransaction>()
        .expect("a PostgreSQL transaction")
}

async fn names(bank: &Bank) -> Vec<String> {
    let mut names: Vec<String> = bank
        .list_accounts()
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.name)
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_transaction_commits_or_rolls_back_across_tables() {
    let Some((bank, db)) = setup().await else {
        return;
    };
    // Rolled back: both writes undone.
    let tx = bank.begin().await.unwrap();
    assert_eq!(driver(&tx).depth(), 0);
    assert_eq!(driver(&tx).pool_id(), db.pool.id());
    let d = bank.with_transaction(&tx);
    d.open_account("one", AccountCreateInput::new())
        .await
        .unwrap();
    d.create_sample(sample("s1")).await.unwrap();
    assert_eq!(d.list_accounts().await.unwrap().len(), 1, "visible inside");
    tx.rollback().await.unwrap();
    assert!(bank.list_accounts().await.unwrap().is_empty());
    assert!(bank.get_sample("s1").await.unwrap_err().is_not_found());

    // Committed: both stored.
    let tx = db.pool.begin().await.unwrap();
    let d = bank.with_transaction(&tx);
    d.open_account("two", AccountCreateInput::new())
        .await
        .unwrap();
    d.create_sample(sample("s2")).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(names(&bank).await, ["two"]);
    assert!(bank.get_sample("s2").await.is_ok());

    // An ended transaction refuses statements, and a second commit.
    assert!(driver(&tx).is_finished());
    let err = d
        .open_account("late", AccountCreateInput::new())
        .await
        .unwrap_err();
    assert_eq!(err.errors(), [ash_rs::transaction::finished_error()]);
    assert_eq!(
        tx.commit().await.unwrap_err().errors(),
        [ash_rs::transaction::finished_error()]
    );
    assert_eq!(names(&bank).await, ["two"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_transactions_are_savepoints() {
    let Some((bank, _db)) = setup().await else {
        return;
    };
    let tx = bank.begin().await.unwrap();
    let d = bank.with_transaction(&tx);
    d.open_account("kept", AccountCreateInput::new())
        .await
        .unwrap();
    // A savepoint rolled back: only its write is undone.
    let inner = d.begin().await.unwrap();
    assert_eq!(driver(&inner).depth(), 1);
    let di = d.with_transaction(&inner);
    di.open_account("dropped", AccountCreateInput::new())
        .await
        .unwrap();
    inner.rollback().await.unwrap();
    // A savepoint released: its write stays in the transaction.
    let inner = d.begin().await.unwrap();
    let di = d.with_transaction(&inner);
    di.open_account("released", AccountCreateInput::new())
        .await
        .unwrap();
    // Two levels deep.
    let deeper = di.begin().await.unwrap();
    assert_eq!(driver(&deeper).depth(), 2);
    di.with_transaction(&deeper)
        .open_account("deep", AccountCreateInput::new())
        .await
        .unwrap();
    deeper.commit().await.unwrap();
    inner.commit().await.unwrap();
    // A duplicate key inside a savepoint aborts it; committing it then reports the
    // failure and rolls back to it, and the transaction goes on.
    let inner = d.begin().await.unwrap();
    let di = d.with_transaction(&inner);
    di.open_account("lost with the savepoint", AccountCreateInput::new())
        .await
        .unwrap();
    di.create_sample(sample("dup")).await.unwrap();
    let dup = di.create_sample(sample("dup")).await.unwrap_err();
    assert!(
        matches!(dup.errors(), [ErrorKind::AlreadyExists(_)]),
        "{dup:?}"
    );
    assert_framework(
        &inner.commit().await.unwrap_err(),
        "savepoint was rolled back because a statement inside it failed",
    );
    assert_eq!(
        d.list_accounts().await.unwrap().len(),
        3,
        "the transaction goes on"
    );
    tx.commit().await.unwrap();
    assert_eq!(names(&bank).await, ["deep", "kept", "released"]);
    assert!(bank.get_sample("dup").await.unwrap_err().is_not_found());

    // A failed statement outside any savepoint aborts the whole transaction: the next
    // statement is refused with the reason, and the commit rolls back and says so.
    let tx = bank.begin().await.unwrap();
    let d = bank.with_transaction(&tx);
    d.open_account("lost", AccountCreateInput::new())
        .await
        .unwrap();
    d.create_sample(sample("dup2")).await.unwrap();
    assert!(matches!(
        d.create_sample(sample("dup2")).await.unwrap_err().errors(),
        [ErrorKind::AlreadyExists(_)]
    ));
    assert_framework(&d.list_accounts().await.unwrap_err(), "aborted");
    assert_framework(
        &tx.commit().await.unwrap_err(),
        "rolled back because a statement inside it failed",
    );
    assert_eq!(names(&bank).await, ["deep", "kept", "released"]);

    // A savepoint dropped unfinished is rolled back before the next statement.
    let tx = bank.begin().await.unwrap();
    let d = bank.with_transaction(&tx);
    {
        let inner = d.begin().await.unwrap();
        d.with_transaction(&inner)
            .open_account("forgotten", AccountCreateInput::new())
            .await
            .unwrap();
    }
    d.open_account("after", AccountCreateInput::new())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(names(&bank).await, ["after", "deep", "kept", "released"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_tasks_do_not_see_an_open_transaction() {
    let Some((bank, _db)) = setup().await else {
        return;
    };
    let tx = bank.begin().await.unwrap();
    let d = bank.with_transaction(&tx);
    let inside = d
        .open_account("pending", AccountCreateInput::new())
        .await
        .unwrap();
    assert_eq!(
        d.get_account(inside.id).await.unwrap(),
        inside,
        "visible inside"
    );
    let outside = tokio::spawn({
        let bank = bank.clone();
        async move { bank.list_accounts().await }
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(outside.len(), 0, "invisible outside until COMMIT");
    // The same transaction from another task: its statements join it.
    let joined = tokio::spawn({
        let d = d.clone();
        async move { d.list_accounts().await }
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(joined, [inside]);
    tx.commit().await.unwrap();
    assert_eq!(bank.list_accounts().await.unwrap().len(), 1);
}

/// Polls `future` at most `polls` times: `None` when it was dropped before finishing.
async fn poll_at_most<F: Future>(polls: usize, future: F) -> Option<F::Output> {
    let mut future = Box::pin(future);
    let mut left = polls;
    std::future::poll_fn(move |cx| {
        if left == 0 {
            return Poll::Ready(None);
        }
        left -= 1;
        match Pin::new(&mut future).poll(cx) {
            Poll::Ready(output) => Poll::Ready(Some(output)),
            Poll::Pending => Poll::Pending,
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_transaction_writes_nothing_and_the_pool_stays_usable() {
    let app = app_name();
    let Some(db) = TestDb::with(|b| named(&app)(b.max_size(1))).await else {
        return;
    };
    let bank = Bank::connect(&db.pool).await.unwrap();
    let account = bank
        .open_account("a", AccountCreateInput::new())
        .await
        .unwrap();
    let at_once = Duration::from_secs(10);

    // Dropped after a write that holds the row's lock.
    {
        let tx = bank.begin().await.unwrap();
        bank.with_transaction(&tx)
            .update_account(&account, AccountUpdateInput::new().name("dropped"))
            .await
            .unwrap();
    }
    // Nothing stored, the lock is gone, and the one connection is free again.
    let account = tokio::time::timeout(
        at_once,
        bank.update_account(&account, AccountUpdateInput::new().name("b")),
    )
    .await
    .expect("the row is not locked")
    .unwrap();
    assert_eq!(account.version, 2);

    // An action cancelled while its hook waits, inside the action's transaction.
    let cancelled = tokio::time::timeout(
        Duration::from_millis(300),
        bank.slow_update(&account, "slow"),
    )
    .await;
    assert!(cancelled.is_err(), "timed out");
    let stored = tokio::time::timeout(at_once, bank.get_account(account.id))
        .await
        .expect("the pool is usable")
        .unwrap();
    assert_eq!(stored, account, "the cancelled write is not stored");

    // Cancelled at every await point in turn: each time the record is either as before
    // or as committed, and the pool goes on.
    let mut current = account;
    let mut finished = false;
    for polls in 1..200 {
        let outcome = poll_at_most(polls, bank.hooked_update(&current, "polled")).await;
        let stored = tokio::time::timeout(at_once, bank.get_account(current.id))
            .await
            .expect("the pool is usable")
            .unwrap();
        match outcome {
            Some(result) => {
                let updated = result.unwrap();
                assert_eq!(stored.version, updated.version);
                finished = true;
                break;
            }
            None => {
                // Dropped mid-COMMIT, the write may have been stored; otherwise not.
                assert!(
                    stored == current
                        || (stored.version == current.version + 1 && stored.name == "polled"),
                    "{stored:?} after {polls} polls"
                );
                current = stored;
            }
        }
    }
    assert!(finished, "the action completes given enough polls");
    assert_no_backend_in_a_transaction(&app).await;
}

// ---------------------------------------------------------------------------------------
// Failures: typed errors, never panics, and the pool recovers.

async fn backend_pid(pool: &Pool) -> i32 {
    pool.get()
        .await
        .unwrap()
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0)
}

async fn terminate(pid: i32) {
    let admin = pg_support::admin().await.unwrap();
    let row = admin
        .query_one("SELECT pg_terminate_backend($1)", &[&pid])
        .await
        .unwrap();
    assert!(row.get::<_, bool>(0), "terminated");
    for _ in 0..200 {
        let alive = admin
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = $1",
                &[&pid],
            )
            .await
            .unwrap()
            .get::<_, i64>(0);
        if alive == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("backend {pid} did not exit");
}

/// Waits until backend `pid` waits for a lock.
async fn wait_for_lock_wait(pid: i32) {
    let admin = pg_support::admin().await.unwrap();
    for _ in 0..500 {
        let waiting = admin
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'",
                &[&pid],
            )
            .await
            .unwrap()
            .get::<_, i64>(0);
        if waiting == 1 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("backend {pid} never waited for the lock");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_connection_is_a_typed_error_and_the_next_call_works() {
    let app = app_name();
    let Some(db) = TestDb::with(|b| named(&app)(b.max_size(1))).await else {
        return;
    };
    let bank = Bank::connect(&db.pool).await.unwrap();
    let account = bank
        .open_account("a", AccountCreateInput::new())
        .await
        .unwrap();
    let lock_sql = format!(
        "SELECT 1 FROM \"{}\".\"accounts\" WHERE id = $1 FOR UPDATE",
        db.schema
    );
    for round in 0..3 {
        // A write waiting for a row lock when its backend is killed.
        let current = bank.get_account(account.id).await.unwrap();
        assert_eq!(current.version, 1 + round);
        let pid = backend_pid(&db.pool).await;
        let mut admin = db.admin().await;
        let blocker = admin.transaction().await.unwrap();
        blocker.execute(&lock_sql, &[&account.id]).await.unwrap();
        let write = tokio::spawn({
            let (bank, current) = (bank.clone(), current.clone());
            async move {
                bank.update_account(&current, AccountUpdateInput::new().name("lost"))
                    .await
            }
        });
        wait_for_lock_wait(pid).await;
        terminate(pid).await;
        let err = write.await.unwrap().unwrap_err();
        assert_framework(&err, "PostgreSQL");
        blocker.rollback().await.unwrap();
        // The broken connection was dropped; the next call opens a fresh one.
        let fresh = bank.get_account(account.id).await.unwrap();
        assert_eq!(fresh, current, "nothing written");
        bank.update_account(&fresh, AccountUpdateInput::new())
            .await
            .unwrap();
    }
    // An idle connection killed: the next call fails with a typed error or, when the
    // pool noticed the loss first, works; the one after works either way.
    terminate(backend_pid(&db.pool).await).await;
    if let Err(e) = bank.get_account(account.id).await {
        assert_framework(&e, "PostgreSQL");
    }
    let current = bank.get_account(account.id).await.unwrap();
    // Inside a transaction: its connection dies between two statements.
    let tx = bank.begin().await.unwrap();
    let d = bank.with_transaction(&tx);
    assert_eq!(d.get_account(account.id).await.unwrap(), current);
    let in_tx = backends(&app, "idle in transaction%").await;
    assert_eq!(in_tx.len(), 1, "{in_tx:?}");
    terminate(in_tx[0]).await;
    assert_framework(
        &d.update_account(&current, AccountUpdateInput::new())
            .await
            .unwrap_err(),
        "PostgreSQL",
    );
    assert_framework(&tx.commit().await.unwrap_err(), "PostgreSQL");
    assert_eq!(bank.get_account(account.id).await.unwrap(), current);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_server_restart_at_most_one_call_fails_and_the_pool_recovers() {
    let Some(db) = TestDb::with(|b| b.max_size(4)).await else {
        return;
    };
    let bank = Bank::connect(&db.pool).await.unwrap();
    let account = bank
        .open_account("a", AccountCreateInput::new())
        .await
        .unwrap();
    // Three connections open at once, then idle in the pool.
    let mut held = Vec::new();
    let mut pids = Vec::new();
    for _ in 0..3 {
        let conn = db.pool.get().await.unwrap();
        let pid: i32 = conn
            .client()
            .query_one("SELECT pg_backend_pid()", &[])
            .await
            .unwrap()
            .get(0);
        pids.push(pid);
        held.push(conn);
    }
    drop(held);
    // What a restart does to them: every backend is gone.
    for pid in pids {
        terminate(pid).await;
    }
    let mut failures = 0;
    for _ in 0..7 {
        match bank.get_account(account.id).await {
            Ok(found) => assert_eq!(found, account),
            Err(e) => {
                assert_framework(&e, "PostgreSQL");
                failures += 1;
            }
        }
    }
    assert!(failures <= 1, "{failures} calls failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_timeout_is_a_typed_error_that_writes_nothing() {
    let Some(db) = TestDb::with(|b| b.statement_timeout(Duration::from_millis(300))).await else {
        return;
    };
    let bank = Bank::connect(&db.pool).await.unwrap();
    let account = bank
        .open_account("a", AccountCreateInput::new())
        .await
        .unwrap();
    // Another connection holds the row lock, so the update waits until it is cancelled.
    let mut admin = db.admin().await;
    let blocker = admin.transaction().await.unwrap();
    blocker
        .execute(
            &format!(
                "SELECT 1 FROM \"{}\".\"accounts\" WHERE id = $1 FOR UPDATE",
                db.schema
            ),
            &[&account.id],
        )
        .await
        .unwrap();
    let err = bank
        .update_account(&account, AccountUpdateInput::new().name("slow"))
        .await
        .unwrap_err();
    assert_framework(&err, "statement_timeout");
    blocker.rollback().await.unwrap();
    assert_eq!(bank.get_account(account.id).await.unwrap(), account);
    assert_eq!(
        bank.update_account(&account, AccountUpdateInput::new().name("fast"))
            .await
            .unwrap()
            .version,
        2
    );
    // A slow statement of your own, through the same pool, fails the same way.
    let err = db
        .pool
        .get()
        .await
        .unwrap()
        .batch_execute("SELECT pg_sleep(2)")
        .await
        .unwrap_err();
    assert_framework(&err, "57014");
}

#[tokio::test]
async fn an_unreachable_server_is_a_typed_error() {
    let err = Pool::builder("postgres://postgres@127.0.0.1:1/none")
        .connection_timeout(Duration::from_millis(500))
        .build()
        .await
        .unwrap_err();
    assert_framework(
        &err,
        "no connection to postgres://postgres@127.0.0.1:1/none",
    );
    let err = Pool::connect("not a url").await.unwrap_err();
    assert_framework(&err, "invalid connection string");
}

// ---------------------------------------------------------------------------------------
// The runtime: building, calling and dropping from anywhere.

#[test]
fn building_a_pool_without_a_tokio_runtime_is_a_typed_error() {
    let err = ash_rs::block_on(Pool::builder(&pg_support::url()).build()).unwrap_err();
    assert_framework(&err, "needs a tokio runtime");
}

#[tokio::test]
async fn a_call_finding_every_connection_busy_is_unavailable_and_writes_nothing() {
    let Some(db) =
        TestDb::with(|b| b.max_size(1).connection_timeout(Duration::from_millis(300))).await
    else {
        return;
    };
    let bank = Bank::connect(&db.pool).await.unwrap();
    let account = bank
        .open_account("a", AccountCreateInput::new())
        .await
        .unwrap();
    let held = db.pool.get().await.unwrap();
    let err = bank
        .update_account(&account, AccountUpdateInput::new().balance(5))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Framework { .. }), "{err:?}");
    match err.errors() {
        [ErrorKind::Unavailable(u)] => {
            assert!(u.message.contains("within 300ms"), "{}", u.message);
        }
        other => panic!("expected one Unavailable, got {other:?}"),
    }
    drop(held);
    // Nothing was written, and the pool serves again once a connection is free.
    let stored = bank.get_account(account.id).await.unwrap();
    assert_eq!(
        (stored.version, stored.balance),
        (account.version, account.balance)
    );
    bank.update_account(&stored, AccountUpdateInput::new().balance(5))
        .await
        .unwrap();
}

#[test]
fn block_on_from_a_plain_thread_uses_the_pools_runtime() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let Some(db) = runtime.block_on(TestDb::with(|b| b.max_size(3))) else {
        return;
    };
    let bank = runtime.block_on(Bank::connect(&db.pool)).unwrap();
    let account = runtime
        .block_on(bank.open_account("a", AccountCreateInput::new()))
        .unwrap();
    // A thread outside the runtime: no reactor, no timer of its own.
    let thread = std::thread::spawn({
        let (bank, pool, id) = (bank.clone(), db.pool.clone(), account.id);
        move || {
            let got = ash_rs::block_on(bank.get_account(id)).unwrap();
            // New connections (TCP connect, timeouts) opened from here.
            let held: Vec<_> = (0..3)
                .map(|_| ash_rs::block_on(pool.get()).unwrap())
                .collect();
            drop(held);
            // A transaction, and an action whose hook runs in one.
            let tx = ash_rs::block_on(bank.begin()).unwrap();
            ash_rs::block_on(
                bank.with_transaction(&tx)
                    .update_account(&got, AccountUpdateInput::new().balance(1)),
            )
            .unwrap();
            ash_rs::block_on(tx.commit()).unwrap();
            let got = ash_rs::block_on(bank.get_account(id)).unwrap();
            ash_rs::block_on(bank.hooked_update(&got, "b")).unwrap()
        }
    });
    let updated = thread.join().unwrap();
    assert_eq!(updated.version, 3);
    let stored = runtime.block_on(bank.get_account(account.id)).unwrap();
    assert_eq!((stored.name.as_str(), stored.version), ("b", 3));
    // Dropped outside the runtime, while it still runs.
    drop(bank);
    drop(db);
}

#[test]
fn a_pool_whose_runtime_has_shut_down_gives_typed_errors_and_drops_quietly() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let Some((bank, db)) = runtime.block_on(setup()) else {
        return;
    };
    let account = runtime
        .block_on(bank.open_account("a", AccountCreateInput::new()))
        .unwrap();
    let tx = runtime.block_on(bank.begin()).unwrap();
    drop(runtime);
    let err = ash_rs::block_on(bank.get_account(account.id)).unwrap_err();
    assert_framework(&err, "runtime this pool was built in has shut down");
    let err = ash_rs::block_on(tx.commit()).unwrap_err();
    assert_framework(&err, "has shut down");
    drop(tx);
    drop(bank);
    drop(db);
}

#[tokio::test]
async fn dropping_the_last_domain_or_transaction_inside_async_code_does_not_panic() {
    let Some((bank, db)) = setup().await else {
        return;
    };
    bank.open_account("a", AccountCreateInput::new())
        .await
        .unwrap();
    // The last clone of a domain, dropped in a task.
    let other = Bank::connect(&db.another_pool(|b| b).await).await.unwrap();
    tokio::spawn(async move {
        assert_eq!(other.list_accounts().await.unwrap().len(), 1);
        drop(other);
    })
    .await
    .unwrap();
    // An open transaction's last handle, dropped in a task.
    let tx = bank.begin().await.unwrap();
    bank.with_transaction(&tx)
        .open_account("never", AccountCreateInput::new())
        .await
        .unwrap();
    tokio::spawn(async move { drop(tx) }).await.unwrap();
    assert_eq!(names(&bank).await, ["a"]);
    // The domain and the pool, dropped here, inside the runtime.
    drop(bank);
    drop(db);
}

// ---------------------------------------------------------------------------------------
// Secrets.

#[tokio::test]
async fn no_password_shows_in_debug_output_or_errors() {
    const SECRET: &str = "hunter2-s3cr3t";
    let unreachable = [
        format!("postgres://postgres:{SECRET}@127.0.0.1:1/test"),
        format!("postgres://postgres@127.0.0.1:1/test?password={SECRET}"),
        format!("postgres://postgres@127.0.0.1:1/test?connect_timeout=1&password={SECRET}"),
        format!("host=127.0.0.1 port=1 user=postgres password={SECRET} dbname=test"),
        format!("host=127.0.0.1 port=1 user=postgres password='{SECRET} x' dbname=test"),
    ];
    for url in &unreachable {
        let builder = Pool::builder(url).connection_timeout(Duration::from_millis(500));
        let debug = format!("{builder:?}");
        assert!(!debug.contains(SECRET), "{debug}");
        assert!(
            debug.contains("127.0.0.1"),
            "the target is still shown: {debug}"
        );
        let err = builder.build().await.unwrap_err();
        for text in [err.to_string(), format!("{err:?}")] {
            assert!(!text.contains(SECRET), "{text}");
        }
        assert_framework(&err, "no connection to");
        // An invalid string (a bad option after the password) is refused the same way.
        let invalid = if url.contains('?') {
            format!("{url}&sslmode=bogus")
        } else if url.contains("://") {
            format!("{url}?sslmode=bogus")
        } else {
            format!("{url} sslmode=bogus")
        };
        let err = Pool::connect(&invalid).await.unwrap_err();
        for text in [err.to_string(), format!("{err:?}")] {
            assert!(!text.contains(SECRET), "{text}");
        }
        assert_framework(&err, "invalid connection string");
    }
    // A server that accepts the connection (trust authentication ignores the password).
    let Some(db) = TestDb::new().await else {
        return;
    };
    let url = pg_support::url().replacen(
        "postgres://postgres@",
        &format!("postgres://postgres:{SECRET}@"),
        1,
    );
    if url == pg_support::url() {
        return; // ASH_POSTGRES_URL of another shape: the unreachable cases above suffice.
    }
    let pool = Pool::builder(&url)
        .schema(db.schema.clone())
        .create_missing_tables(true)
        .build()
        .await
        .unwrap();
    let bank = Bank::connect(&pool).await.unwrap();
    let err = pool
        .get()
        .await
        .unwrap()
        .batch_execute("SELECT * FROM no_such_table")
        .await
        .unwrap_err();
    for text in [
        format!("{pool:?}"),
        format!("{bank:?}"),
        format!("{:?}", bank.begin().await.unwrap()),
        err.to_string(),
        format!("{err:?}"),
    ] {
        assert!(!text.contains(SECRET), "{text}");
    }
}

// ---------------------------------------------------------------------------------------
// Schema.

#[test]
fn the_ddl_is_printable_for_review() {
    assert_eq!(
        create_table_sql::<Account>(Some("app")).unwrap(),
        "CREATE TABLE IF NOT EXISTS \"app\".\"accounts\" (\n    \"id\" uuid NOT NULL,\n    \"version\" bigint NOT NULL DEFAULT 1,\n    \"balance\" bigint NOT NULL DEFAULT 0,\n    \"name\" text NOT NULL,\n    PRIMARY KEY (\"id\")\n)"
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

#[tokio::test]
async fn a_missing_table_is_reported_with_its_ddl_unless_creation_is_asked() {
    let Some(db) = TestDb::with(|b| b.create_missing_tables(false)).await else {
        return;
    };
    let err = Bank::connect(&db.pool).await.unwrap_err();
    assert!(matches!(err, Error::Framework { .. }));
    let message = err.errors()[0].to_string();
    assert!(
        message
            .as_str()
            .contains("does not exist; create it with:\nCREATE TABLE IF NOT EXISTS"),
        "{message}"
    );
    let table = PgTable::<Account>::new(&db.pool).await.unwrap();
    assert!(matches!(
        table.schema_problem().await.unwrap(),
        Some(SchemaError::MissingTable { .. })
    ));
    table.create_table().await.unwrap();
    assert_eq!(table.schema_problem().await.unwrap(), None);
    assert_eq!(table.table_name(), format!("{}.accounts", db.schema));
}

#[tokio::test]
async fn a_table_that_does_not_fit_is_a_typed_error() {
    let Some(db) = TestDb::with(|b| b.create_missing_tables(false)).await else {
        return;
    };
    db.admin()
        .await
        .batch_execute(&format!(
            "CREATE TABLE \"{}\".\"accounts\" (id uuid PRIMARY KEY, balance integer NOT NULL, \
             name text, owner text NOT NULL, comment text)",
            db.schema
        ))
        .await
        .unwrap();
    let table = PgTable::<Account>::new(&db.pool).await.unwrap();
    let Some(SchemaError::Mismatch {
        table: name,
        problems,
    }) = table.schema_problem().await.unwrap()
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
    let err = Bank::connect(&db.pool).await.unwrap_err();
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

#[tokio::test]
async fn every_kind_of_value_round_trips() {
    let Some((bank, _db)) = setup().await else {
        return;
    };
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
        .await
        .unwrap();
    assert_eq!(max.big, u64::MAX);
    assert_eq!(max.small, i32::MIN);
    assert_eq!(max.maybe, Some(id));
    assert_eq!(max.at, UNIX_EPOCH - Duration::from_micros(86_400_000_001));
    assert_eq!(bank.get_sample("max").await.unwrap(), max);
    let plain = bank.create_sample(sample("plain")).await.unwrap();
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
    assert_eq!(bank.get_sample("plain").await.unwrap(), plain);
}

#[tokio::test]
async fn atomic_adds_are_checked_at_every_integer_width() {
    let Some((bank, _db)) = setup().await else {
        return;
    };
    let s = bank.create_sample(sample("s")).await.unwrap();
    let bumped = bank.bump_sample(&s).await.unwrap();
    assert_eq!((bumped.big, bumped.small), (13, -6));
    // numeric(20, 0) holding u64::MAX: the add is refused, not widened.
    let max = bank.create_sample(sample("u").big(u64::MAX)).await.unwrap();
    let err = bank.bump_sample(&max).await.unwrap_err();
    assert!(
        matches!(err.errors(), [ErrorKind::Overflow(o)] if o.field == "big" && o.value == Value::UInt(u64::MAX) && o.by == 1),
        "{err:?}"
    );
    assert_eq!(bank.get_sample("u").await.unwrap(), max);
    // integer holding i32::MAX.
    let max = bank
        .create_sample(sample("i").small(i32::MAX))
        .await
        .unwrap();
    let err = bank.bump_sample(&max).await.unwrap_err();
    assert!(
        matches!(err.errors(), [ErrorKind::Overflow(o)] if o.field == "small" && o.value == Value::Int(i32::MAX.into())),
        "{err:?}"
    );
    assert_eq!(bank.get_sample("i").await.unwrap(), max);
}

#[tokio::test]
async fn a_nul_byte_is_a_typed_error_and_stores_nothing() {
    let Some((bank, _db)) = setup().await else {
        return;
    };
    let err = bank
        .open_account("nul\0byte", AccountCreateInput::new())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Invalid { .. }), "{err:?}");
    assert!(
        matches!(err.errors(), [ErrorKind::InvalidAttribute(e)] if e.field == "name"),
        "{err:?}"
    );
    assert!(bank.list_accounts().await.unwrap().is_empty());
    let account = bank
        .open_account("ok", AccountCreateInput::new())
        .await
        .unwrap();
    let err = bank
        .update_account(&account, AccountUpdateInput::new().name("\0"))
        .await
        .unwrap_err();
    assert!(matches!(err.errors(), [ErrorKind::InvalidAttribute(e)] if e.field == "name"));
    assert_eq!(bank.get_account(account.id).await.unwrap(), account);
    let err = bank
        .create_sample(sample("nul").list(vec![1]).note(Some("a\0".to_string())))
        .await
        .unwrap_err();
    assert!(matches!(err.errors(), [ErrorKind::InvalidAttribute(e)] if e.field == "note"));
    let query = Query::new().filter(Filter::eq(AccountValue::Name("\0".into())));
    let err = ash_rs::action::read(
        accounts(&bank),
        &Context::new(),
        AccountReadInput::default(),
        query,
    )
    .await
    .unwrap_err();
    assert!(matches!(err.errors(), [ErrorKind::InvalidAttribute(e)] if e.field == "name"));
    // Inside a transaction, a NUL byte is refused before any statement: the transaction
    // is not aborted.
    let tx = bank.begin().await.unwrap();
    let d = bank.with_transaction(&tx);
    assert!(d
        .open_account("\0", AccountCreateInput::new())
        .await
        .is_err());
    d.open_account("fine", AccountCreateInput::new())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(names(&bank).await, ["fine", "ok"]);
}

#[tokio::test]
async fn an_ets_resource_lives_beside_postgres_ones_in_one_domain() {
    let Some((bank, _db)) = setup().await else {
        return;
    };
    bank.cache("k").await.unwrap();
    assert_eq!(
        bank.cached("k").await.unwrap(),
        Some(Cached { key: "k".into() })
    );
    bank.open_account("a", AccountCreateInput::new())
        .await
        .unwrap();
    assert_eq!(bank.list_accounts().await.unwrap().len(), 1);
}

// ---------------------------------------------------------------------------------------
// Across pools and processes.

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_pools_race_on_one_row() {
    let Some((first, db)) = setup().await else {
        return;
    };
    let second = Bank::connect(&db.another_pool(|b| b.max_size(4)).await)
        .await
        .unwrap();
    for _round in 0..5 {
        let snapshot = first
            .open_account("race", AccountCreateInput::new())
            .await
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
                tokio::spawn(async move {
                    barrier.wait().await;
                    bank.update_account(&snapshot, AccountUpdateInput::new().balance(i))
                        .await
                })
            })
            .collect();
        let mut results = Vec::new();
        for h in handles {
            results.push(h.await.unwrap());
        }
        let won: Vec<&Account> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(won.len(), 1, "{results:?}");
        assert_eq!(
            results
                .iter()
                .filter(|r| r.as_ref().is_err_and(Error::is_stale))
                .count(),
            7
        );
        assert_eq!(&second.get_account(snapshot.id).await.unwrap(), won[0]);
    }

    // Retrying increments from both pools: nothing lost.
    const PER_TASK: i64 = 100;
    let id = first
        .open_account("counter", AccountCreateInput::new())
        .await
        .unwrap()
        .id;
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let bank = if i % 2 == 0 {
                first.clone()
            } else {
                second.clone()
            };
            tokio::spawn(async move {
                for _ in 0..PER_TASK {
                    loop {
                        let current = bank.get_account(id).await.unwrap();
                        let next = AccountUpdateInput::new().balance(current.balance + 1);
                        match bank.update_account(&current, next).await {
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
        h.await.unwrap();
    }
    let stored = first.get_account(id).await.unwrap();
    assert_eq!(
        (stored.balance, stored.version),
        (4 * PER_TASK, 1 + 4 * PER_TASK)
    );
}

const CHILD: &str = "ASH_POSTGRES_RACE_CHILD";
const CHILD_INCREMENTS: i64 = 150;

/// The child side of `two_processes_race_on_one_row`: read the snapshot, wait for the
/// common start, write with it once, then make retrying increments.
async fn race_child(spec: &str) {
    let parts: Vec<&str> = spec.split('|').collect();
    let [schema, id, start] = parts[..] else {
        panic!("bad child spec {spec:?}")
    };
    let id: Uuid = id.parse().unwrap();
    let start = UNIX_EPOCH + Duration::from_millis(start.parse().unwrap());
    let pool = Pool::builder(&pg_support::url())
        .schema(schema)
        .build()
        .await
        .unwrap();
    let bank = Bank::connect(&pool).await.unwrap();
    let snapshot = bank.get_account(id).await.unwrap();
    let late = SystemTime::now() > start;
    if let Ok(wait) = start.duration_since(SystemTime::now()) {
        tokio::time::sleep(wait).await;
    }
    let first = match bank
        .update_account(&snapshot, AccountUpdateInput::new().name("first"))
        .await
    {
        Ok(_) => "won",
        Err(e) if e.is_stale() => "stale",
        Err(e) => panic!("{e}"),
    };
    let mut retries = 0;
    for _ in 0..CHILD_INCREMENTS {
        loop {
            let current = bank.get_account(id).await.unwrap();
            let next = AccountUpdateInput::new().balance(current.balance + 1);
            match bank.update_account(&current, next).await {
                Ok(_) => break,
                Err(e) if e.is_stale() => retries += 1,
                Err(e) => panic!("{e}"),
            }
        }
    }
    println!("RACE_RESULT first={first} late={late} retries={retries}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_race_on_one_row() {
    if let Ok(spec) = std::env::var(CHILD) {
        race_child(&spec).await;
        return;
    }
    let Some((bank, db)) = setup().await else {
        return;
    };
    let account = bank
        .open_account("shared", AccountCreateInput::new())
        .await
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
        let output = tokio::task::spawn_blocking(move || child.wait_with_output())
            .await
            .unwrap()
            .unwrap();
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
    let stored = bank.get_account(account.id).await.unwrap();
    assert_eq!(stored.balance, 2 * CHILD_INCREMENTS, "no increment lost");
    assert_eq!(stored.version, 1 + 1 + 2 * CHILD_INCREMENTS);
    assert_eq!(stored.name, "first");
}
