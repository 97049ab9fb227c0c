//! Transactions as values: [`PgTransaction`], the driver behind the
//! [`Transaction`](ash_core::transaction::Transaction) handles this crate gives out, and
//! the lease through which a statement gets its connection.

use crate::error::{classify, framework_error, Failure};
use crate::pool::{discard, framework, Pool, Pooled};
use ash_core::context::Context;
use ash_core::error::ErrorKind;
use ash_core::future::BoxFuture;
use ash_core::transaction::{finished_error, Transaction, TransactionDriver};
use std::any::Any;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex as StdMutex};
use tokio::sync::{Mutex, MutexGuard};
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

/// The state one transaction's handles share (the top level and its savepoints).
struct Shared {
    pool: Pool,
    pool_id: u64,
    conn: Mutex<TxState>,
    /// The lowest savepoint dropped without commit or rollback, with the failure state to
    /// restore: rolled back to before the next statement (a `Drop` cannot wait for the
    /// server).
    dropped: StdMutex<Option<(u32, Option<String>)>>,
}

struct TxState {
    /// `None` once the transaction has ended.
    conn: Option<Pooled>,
    /// How many levels are open: 1 for the transaction itself, one more per savepoint.
    open: u32,
    /// The first failed statement: PostgreSQL has aborted the transaction (until a
    /// savepoint opened before it is rolled back to).
    failed: Option<String>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        // Every handle is gone and the transaction never ended: close its connection so
        // the server rolls it back, rather than hand it out mid-transaction.
        if let Some(conn) = self.conn.get_mut().conn.take() {
            discard(conn);
        }
    }
}

/// An open PostgreSQL transaction (level 0) or savepoint (level 1, 2, ...) on one pooled
/// connection: what `PgTable::begin`, `Pool::begin` and `domain.begin()` return, inside a
/// [`Transaction`] handle.
///
/// - Every action whose context holds it (`domain.with_transaction(&tx)`, the context an
///   `after_action_async` hook receives) runs its statement on its connection, if it
///   belongs to the same pool ([`PgTransaction::pool_id`]); other pools use their own
///   connections.
/// - `begin` while a context holds one gives a savepoint: its commit is
///   `RELEASE SAVEPOINT`, its rollback `ROLLBACK TO SAVEPOINT`.
/// - PostgreSQL aborts a transaction at its first failed statement: committing it then
///   rolls back and reports that statement (wrap an expected failure in a savepoint to
///   go on after it). A write cancelled mid-flight (its future dropped) counts as failed.
/// - A statement on a transaction that has ended gets
///   [`finished_error`](ash_core::transaction::finished_error).
/// - Dropped without commit or rollback (a panic, a cancelled future), the transaction's
///   connection is closed instead of going back to the pool: the server rolls it back.
///   A savepoint dropped that way is rolled back to before the transaction's next
///   statement.
pub struct PgTransaction {
    shared: Arc<Shared>,
    level: u32,
    finished: AtomicBool,
    /// For a savepoint: the transaction's failure state when it was opened.
    failed_before: Option<String>,
}

impl fmt::Debug for PgTransaction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgTransaction")
            .field("pool_id", &self.shared.pool_id)
            .field("depth", &self.level)
            .field("finished", &self.is_finished())
            .finish()
    }
}

fn savepoint_name(level: u32) -> String {
    format!("ash_savepoint_{level}")
}

/// A connection kept from the pool until `keep` or dropped: a connection whose state is
/// unknown (a cancelled BEGIN, COMMIT or ROLLBACK) is closed rather than reused.
struct Guarded(Option<Pooled>);

impl Guarded {
    fn conn(&mut self) -> Result<&mut Pooled, ErrorKind> {
        self.0.as_mut().ok_or_else(finished_error)
    }

    fn keep(mut self) -> Option<Pooled> {
        self.0.take()
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        if let Some(conn) = self.0.take() {
            discard(conn);
        }
    }
}

impl PgTransaction {
    /// BEGIN on a connection of `pool`.
    pub(crate) async fn begin(pool: &Pool) -> Result<PgTransaction, ErrorKind> {
        // Guarded before BEGIN is sent: a future dropped while it waits closes the
        // connection instead of returning it to the pool inside a transaction.
        let mut conn = Guarded(Some(pool.checkout().await?));
        let result = conn.conn()?.client.batch_execute("BEGIN").await;
        if let Err(e) = result {
            conn.conn()?.note(&e);
            return Err(framework_error("BEGIN failed", &e));
        }
        Ok(PgTransaction {
            shared: Arc::new(Shared {
                pool: pool.clone(),
                pool_id: pool.id(),
                conn: Mutex::new(TxState {
                    conn: conn.keep(),
                    open: 1,
                    failed: None,
                }),
                dropped: StdMutex::new(None),
            }),
            level: 0,
            finished: AtomicBool::new(false),
            failed_before: None,
        })
    }

    /// The id of the pool whose connection this transaction holds ([`Pool::id`]).
    pub fn pool_id(&self) -> u64 {
        self.shared.pool_id
    }

    /// 0 for a transaction, 1 for a savepoint inside it, 2 for one inside that, ...
    pub fn depth(&self) -> u32 {
        self.level
    }

    /// Whether this transaction (or savepoint) has been committed or rolled back.
    pub fn is_finished(&self) -> bool {
        self.finished.load(Ordering::Acquire)
    }

    /// The transaction of `pool` that `ctx` holds, if any.
    pub(crate) fn of<'c>(ctx: &'c Context, pool: &Pool) -> Option<&'c PgTransaction> {
        ctx.transaction()
            .and_then(|t| t.driver::<PgTransaction>())
            .filter(|t| t.shared.pool_id == pool.id())
    }

    /// The connection, for one statement: locked, with savepoints dropped meanwhile
    /// rolled back to. Fails when this level has ended.
    pub(crate) async fn lease(&self) -> Result<TxLease<'_>, ErrorKind> {
        let mut lease = TxLease {
            state: self.shared.conn.lock().await,
            writing: false,
        };
        self.settle(&mut lease).await?;
        if self.is_finished() || self.level >= lease.state.open || lease.state.conn.is_none() {
            return Err(finished_error());
        }
        Ok(lease)
    }

    /// Rolls back to the lowest savepoint dropped without commit or rollback.
    async fn settle(&self, lease: &mut TxLease<'_>) -> Result<(), ErrorKind> {
        let dropped = match self.shared.dropped.lock() {
            Ok(mut dropped) => dropped.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        let Some((level, failed_before)) = dropped else {
            return Ok(());
        };
        if level >= lease.state.open || lease.state.conn.is_none() {
            return Ok(());
        }
        let name = savepoint_name(level);
        lease.state.open = level;
        lease
            .batch(
                &format!("ROLLBACK TO SAVEPOINT {name}; RELEASE SAVEPOINT {name}"),
                "rolling back a dropped savepoint",
            )
            .await?;
        lease.state.failed = failed_before;
        Ok(())
    }

    /// A savepoint inside this transaction.
    pub(crate) async fn savepoint(&self) -> Result<PgTransaction, ErrorKind> {
        let mut lease = self.lease().await?;
        let level = lease.state.open;
        if let Some(reason) = &lease.state.failed {
            return Err(aborted(reason));
        }
        lease
            .batch(
                &format!("SAVEPOINT {}", savepoint_name(level)),
                "SAVEPOINT failed",
            )
            .await?;
        lease.state.open = level + 1;
        Ok(PgTransaction {
            shared: self.shared.clone(),
            level,
            finished: AtomicBool::new(false),
            failed_before: lease.state.failed.clone(),
        })
    }

    async fn end(&self, commit: bool) -> Result<(), ErrorKind> {
        if self.level == 0 {
            self.end_transaction(commit).await
        } else {
            self.end_savepoint(commit).await
        }
    }

    async fn end_transaction(&self, commit: bool) -> Result<(), ErrorKind> {
        let mut lease = self.lease().await?;
        self.finished.store(true, Ordering::Release);
        lease.state.open = 0;
        let failed = lease.state.failed.take();
        let mut conn = Guarded(lease.state.conn.take());
        drop(lease);
        let sql = if commit && failed.is_none() {
            "COMMIT"
        } else {
            "ROLLBACK"
        };
        let result = conn.conn()?.client.batch_execute(sql).await;
        match result {
            Ok(()) => {
                // Back to the pool, outside any transaction.
                drop(conn.keep());
                match failed {
                    Some(reason) if commit => Err(aborted(&reason)),
                    _ => Ok(()),
                }
            }
            Err(e) => {
                conn.conn()?.note(&e);
                // Dropped: closed, since its state is unknown (the server rolls back).
                if let (true, Some(reason)) = (commit, &failed) {
                    return Err(aborted(reason));
                }
                Err(framework_error(
                    if commit {
                        "COMMIT failed (the transaction's writes may not be stored)"
                    } else {
                        "ROLLBACK failed (the connection is closed, which rolls back)"
                    },
                    &e,
                ))
            }
        }
    }

    async fn end_savepoint(&self, commit: bool) -> Result<(), ErrorKind> {
        let mut lease = self.lease().await?;
        self.finished.store(true, Ordering::Release);
        let name = savepoint_name(self.level);
        lease.state.open = self.level;
        let failed_inside = self.failed_before.is_none() && lease.state.failed.is_some();
        if commit && !failed_inside {
            return lease
                .batch(
                    &format!("RELEASE SAVEPOINT {name}"),
                    "RELEASE SAVEPOINT failed",
                )
                .await;
        }
        let reason = lease.state.failed.clone();
        lease
            .batch(
                &format!("ROLLBACK TO SAVEPOINT {name}; RELEASE SAVEPOINT {name}"),
                "ROLLBACK TO SAVEPOINT failed",
            )
            .await?;
        lease.state.failed = self.failed_before.clone();
        match reason {
            Some(reason) if commit => Err(framework(format!(
                "PostgreSQL: the savepoint was rolled back because a statement inside it failed: {reason}"
            ))),
            _ => Ok(()),
        }
    }
}

fn aborted(reason: &str) -> ErrorKind {
    framework(format!(
        "PostgreSQL: the transaction was rolled back because a statement inside it failed: {reason}; \
         wrap an expected failure in a nested transaction (a savepoint) to go on after it"
    ))
}

impl Drop for PgTransaction {
    fn drop(&mut self) {
        if self.is_finished() {
            return;
        }
        if self.level == 0 {
            // Close the connection now if no statement holds it; otherwise the last
            // handle's drop (`Shared`) does.
            if let Ok(mut state) = self.shared.conn.try_lock() {
                state.open = 0;
                if let Some(conn) = state.conn.take() {
                    discard(conn);
                }
            }
        } else {
            let mut dropped = match self.shared.dropped.lock() {
                Ok(dropped) => dropped,
                Err(poisoned) => poisoned.into_inner(),
            };
            if dropped
                .as_ref()
                .is_none_or(|(level, _)| self.level < *level)
            {
                *dropped = Some((self.level, self.failed_before.clone()));
            }
        }
    }
}

impl TransactionDriver for PgTransaction {
    fn commit(&self) -> BoxFuture<'_, Result<(), ErrorKind>> {
        Box::pin(self.shared.pool.in_runtime(self.end(true)))
    }

    fn rollback(&self) -> BoxFuture<'_, Result<(), ErrorKind>> {
        Box::pin(self.shared.pool.in_runtime(self.end(false)))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn describe(&self) -> String {
        let kind = if self.level == 0 {
            "transaction".to_owned()
        } else {
            format!("savepoint {}", self.level)
        };
        let state = if self.is_finished() { ", finished" } else { "" };
        format!("PostgreSQL {kind} of pool {}{state}", self.shared.pool_id)
    }
}

/// A transaction's connection, locked for one statement.
pub(crate) struct TxLease<'a> {
    state: MutexGuard<'a, TxState>,
    /// A write is in flight: if the future is dropped now, its effect is unknown.
    writing: bool,
}

impl Drop for TxLease<'_> {
    fn drop(&mut self) {
        if self.writing && self.state.failed.is_none() {
            self.state.failed = Some("a write was cancelled before it finished".into());
        }
    }
}

impl TxLease<'_> {
    /// A control statement (savepoints): a failure is recorded like any other.
    async fn batch(&mut self, sql: &str, context: &str) -> Result<(), ErrorKind> {
        let state = &mut *self.state;
        let Some(conn) = state.conn.as_mut() else {
            return Err(finished_error());
        };
        self.writing = true;
        let result = conn.client.batch_execute(sql).await;
        self.writing = false;
        result.map_err(|e| {
            conn.note(&e);
            record(&mut state.failed, &e);
            framework_error(context, &e)
        })
    }
}

/// Notes the first failed statement of a transaction. Only a failure the server saw (or
/// a lost connection) aborts it: a parameter that could not be encoded was never sent.
fn record(failed: &mut Option<String>, error: &tokio_postgres::Error) {
    if error.as_db_error().is_none() && classify(error) != Failure::ConnectionLost {
        return;
    }
    if failed.is_none() {
        *failed = Some(match error.as_db_error() {
            Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
            None => error.to_string(),
        });
    }
}

/// Where a data-layer statement runs: a pooled connection, or the connection of the
/// context's transaction.
// The pooled variant holds deadpool's object inline: boxing it would cost an allocation
// per statement, for a value that lives only while one statement runs.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Lease<'a> {
    /// A connection of the pool, back to it when dropped.
    Pooled(Pooled),
    /// The context's transaction.
    Tx(TxLease<'a>),
}

/// What a data-layer statement does and returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Shape {
    /// It changes data (a write cancelled mid-flight makes the transaction fail at
    /// commit).
    pub(crate) write: bool,
    /// It returns at most one row (by primary key, a count): fetched without collecting
    /// a stream.
    pub(crate) one: bool,
}

impl Shape {
    pub(crate) const WRITE_ONE: Shape = Shape {
        write: true,
        one: true,
    };
    pub(crate) const READ_ONE: Shape = Shape {
        write: false,
        one: true,
    };
    pub(crate) const READ_ALL: Shape = Shape {
        write: false,
        one: false,
    };
}

/// A statement's rows: a single-row shape's row without a vector around it, else all.
#[derive(Debug)]
pub(crate) enum Rows {
    One(Option<Row>),
    All(Vec<Row>),
}

impl std::ops::Deref for Rows {
    type Target = [Row];

    fn deref(&self) -> &[Row] {
        match self {
            Rows::One(row) => row.as_slice(),
            Rows::All(rows) => rows,
        }
    }
}

/// Runs `statement` as `shape` says.
async fn run(
    client: &tokio_postgres::Client,
    statement: &tokio_postgres::Statement,
    params: &[&(dyn ToSql + Sync)],
    shape: Shape,
) -> Result<Rows, tokio_postgres::Error> {
    if shape.one {
        Ok(Rows::One(client.query_opt(statement, params).await?))
    } else {
        Ok(Rows::All(client.query(statement, params).await?))
    }
}

impl Lease<'_> {
    /// Runs one prepared (cached) statement.
    pub(crate) async fn query(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
        shape: Shape,
        counter: &std::sync::atomic::AtomicU64,
    ) -> Result<Result<Rows, tokio_postgres::Error>, ErrorKind> {
        match self {
            Lease::Pooled(conn) => {
                let result = match conn.prepare_cached(sql).await {
                    Ok(statement) => {
                        counter.fetch_add(1, Ordering::Relaxed);
                        run(&conn.client, &statement, params, shape).await
                    }
                    Err(e) => Err(e),
                };
                if let Err(e) = &result {
                    conn.note(e);
                }
                Ok(result)
            }
            Lease::Tx(lease) => {
                let TxLease { state, writing } = lease;
                let TxState { conn, failed, .. } = &mut **state;
                let Some(conn) = conn.as_mut() else {
                    return Err(finished_error());
                };
                if let Some(reason) = failed {
                    // PostgreSQL would refuse it (25P02); say why.
                    return Err(framework(format!(
                        "PostgreSQL: the transaction is aborted by an earlier failed statement \
                         ({reason}); roll it back"
                    )));
                }
                *writing = shape.write;
                let result = match conn.prepare_cached(sql).await {
                    Ok(statement) => {
                        counter.fetch_add(1, Ordering::Relaxed);
                        run(&conn.client, &statement, params, shape).await
                    }
                    Err(e) => Err(e),
                };
                *writing = false;
                if let Err(e) = &result {
                    conn.note(e);
                    record(failed, e);
                }
                Ok(result)
            }
        }
    }
}

/// The connection for a statement of `pool` run with `ctx`.
pub(crate) async fn lease<'c>(ctx: &'c Context, pool: &Pool) -> Result<Lease<'c>, ErrorKind> {
    match PgTransaction::of(ctx, pool) {
        // Boxed: a transaction's lease may roll back a dropped savepoint first, a future
        // every pooled statement would otherwise carry inline.
        Some(tx) => Ok(Lease::Tx(Box::pin(tx.lease()).await?)),
        None => Ok(Lease::Pooled(pool.checkout().await?)),
    }
}

/// `begin` of a table of `pool` with `ctx`: a savepoint inside `ctx`'s transaction of
/// this pool, else a new transaction.
pub(crate) async fn begin(ctx: &Context, pool: &Pool) -> Result<Transaction, ErrorKind> {
    let tx = match PgTransaction::of(ctx, pool) {
        Some(parent) => parent.savepoint().await?,
        None => PgTransaction::begin(pool).await?,
    };
    Ok(Transaction::new(tx))
}
