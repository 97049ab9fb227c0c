//! The connection pool, prepared-statement caching and the thread's current transaction.

use crate::error::{classify, Failure};
use ash_core::error::{Error, ErrorKind, FrameworkError};
use postgres::{Client, NoTls, Statement};
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Prepared statements kept per connection before the cache is emptied and refilled.
const STATEMENT_CACHE_LIMIT: usize = 512;

static NEXT_POOL_ID: AtomicU64 = AtomicU64::new(1);

/// One pooled connection: a [`postgres::Client`] and its prepared statements.
pub struct Connection {
    client: Client,
    statements: HashMap<String, Statement>,
    broken: bool,
    /// The first failed statement of the open transaction: PostgreSQL has aborted it.
    failed: Option<String>,
    /// The pool's loss count when this connection was last known to be alive.
    checked: u64,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("closed", &self.client.is_closed())
            .field("prepared_statements", &self.statements.len())
            .finish()
    }
}

impl Connection {
    /// The client, for statements of your own.
    pub fn client(&mut self) -> &mut Client {
        &mut self.client
    }

    /// Prepares `sql` once per connection and returns the cached statement afterwards.
    pub fn prepare_cached(&mut self, sql: &str) -> Result<Statement, postgres::Error> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql)?;
        if self.statements.len() >= STATEMENT_CACHE_LIMIT {
            self.statements.clear();
        }
        self.statements.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }

    /// Records a failure: a connection that lost its server is not reused.
    pub(crate) fn note(&mut self, error: &postgres::Error) {
        if matches!(classify(error), Failure::ConnectionLost) || self.client.is_closed() {
            self.broken = true;
        }
        if let Some(db) = error.as_db_error() {
            if self.failed.is_none() {
                self.failed = Some(format!("{} (SQLSTATE {})", db.message(), db.code().code()));
            }
        }
    }
}

struct Manager {
    config: postgres::Config,
    setup: String,
    /// Bumped whenever a connection is found dead: see [`Pool::checkout`].
    losses: Arc<AtomicU64>,
}

impl r2d2::ManageConnection for Manager {
    type Connection = Connection;
    type Error = postgres::Error;

    fn connect(&self) -> Result<Connection, postgres::Error> {
        let mut client = self.config.connect(NoTls)?;
        if !self.setup.is_empty() {
            client.batch_execute(&self.setup)?;
        }
        Ok(Connection {
            client,
            statements: HashMap::new(),
            broken: false,
            failed: None,
            checked: self.losses.load(Ordering::Relaxed),
        })
    }

    fn is_valid(&self, conn: &mut Connection) -> Result<(), postgres::Error> {
        conn.client.simple_query("").map(|_| ())
    }

    fn has_broken(&self, conn: &mut Connection) -> bool {
        conn.broken || conn.client.is_closed()
    }
}

/// Builds a [`Pool`]: `Pool::builder(url).schema("app").max_size(8).build()?`.
#[derive(Debug, Clone)]
pub struct PoolBuilder {
    url: String,
    schema: Option<String>,
    max_size: u32,
    connection_timeout: Duration,
    statement_timeout: Option<Duration>,
    on_connect: Vec<String>,
    create_missing_tables: bool,
}

impl PoolBuilder {
    /// SQL run on every new connection, after its settings (for example
    /// `SET application_name = 'billing'`). Given by you, never by user input.
    pub fn on_connect(mut self, sql: impl Into<String>) -> Self {
        self.on_connect.push(sql.into());
        self
    }

    /// The schema tables live in (table names are qualified with it); by default the
    /// connection's `search_path` decides (normally `public`).
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = Some(schema.into());
        self
    }

    /// The most connections the pool opens (default 10). Connections are opened on
    /// demand.
    pub fn max_size(mut self, max_size: u32) -> Self {
        self.max_size = max_size.max(1);
        self
    }

    /// How long to wait for a connection, from the pool or the server (default 5 s).
    pub fn connection_timeout(mut self, timeout: Duration) -> Self {
        self.connection_timeout = timeout;
        self
    }

    /// The server cancels statements running longer than this (`statement_timeout`); a
    /// cancelled action fails with a `Framework` error and writes nothing.
    pub fn statement_timeout(mut self, timeout: Duration) -> Self {
        self.statement_timeout = Some(timeout);
        self
    }

    /// When `true`, `Domain::connect` creates the schema and any missing table (`CREATE
    /// TABLE IF NOT EXISTS`, see [`crate::create_table_sql`]). Off by default: a missing
    /// table is then an error carrying the SQL to run. Existing tables are checked
    /// against the resource either way.
    pub fn create_missing_tables(mut self, create: bool) -> Self {
        self.create_missing_tables = create;
        self
    }

    /// Opens the pool and one connection, so an unreachable server is reported here.
    pub fn build(self) -> Result<Pool, Error> {
        let mut config: postgres::Config = self
            .url
            .parse()
            .map_err(|e| framework(format!("invalid PostgreSQL URL: {e}")))?;
        config.connect_timeout(self.connection_timeout);
        let mut setup: Vec<String> = Vec::new();
        if let Some(t) = self.statement_timeout {
            setup.push(format!("SET statement_timeout = {}", t.as_millis().max(1)));
        }
        setup.extend(self.on_connect);
        let setup = setup.join(";\n");
        let losses = Arc::new(AtomicU64::new(0));
        let pool = r2d2::Pool::builder()
            .max_size(self.max_size)
            .min_idle(Some(0))
            // A dead connection is found by its first statement, which fails with a
            // `Framework` error; the pool then drops it. Testing every checkout would cost
            // a round trip per action.
            .test_on_check_out(false)
            .connection_timeout(self.connection_timeout)
            .error_handler(Box::new(r2d2::NopErrorHandler))
            .build_unchecked(Manager {
                config,
                setup,
                losses: losses.clone(),
            });
        let pool = Pool {
            inner: Arc::new(PoolInner {
                id: NEXT_POOL_ID.fetch_add(1, Ordering::Relaxed),
                pool,
                schema: self.schema,
                create_missing_tables: self.create_missing_tables,
                target: redact(&self.url),
                losses,
            }),
        };
        pool.with_connection(|c| c.client().simple_query("").map(|_| ()))?;
        Ok(pool)
    }
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme + 3],
                    &userinfo[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

struct PoolInner {
    id: u64,
    pool: r2d2::Pool<Manager>,
    schema: Option<String>,
    create_missing_tables: bool,
    target: String,
    losses: Arc<AtomicU64>,
}

/// A pool of connections to one PostgreSQL database: the configuration
/// `Domain::connect(&pool)` takes. Clones share the connections.
#[derive(Clone)]
pub struct Pool {
    inner: Arc<PoolInner>,
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("target", &self.inner.target)
            .field("schema", &self.inner.schema)
            .field("state", &self.inner.pool.state())
            .finish()
    }
}

impl Pool {
    /// A pool with the default settings; see [`Pool::builder`].
    pub fn connect(url: &str) -> Result<Pool, Error> {
        Pool::builder(url).build()
    }

    /// A builder for a pool of connections to `url`
    /// (`postgres://user:password@host:port/database`).
    pub fn builder(url: &str) -> PoolBuilder {
        PoolBuilder {
            url: url.to_owned(),
            schema: None,
            max_size: 10,
            connection_timeout: Duration::from_secs(5),
            statement_timeout: None,
            on_connect: Vec::new(),
            create_missing_tables: false,
        }
    }

    /// The schema tables are qualified with, if one was set.
    pub fn schema(&self) -> Option<&str> {
        self.inner.schema.as_deref()
    }

    pub(crate) fn create_missing_tables(&self) -> bool {
        self.inner.create_missing_tables
    }

    /// Runs `f` on a connection: the thread's transaction connection inside
    /// [`DataLayer::transaction`](ash_core::data_layer::DataLayer::transaction), else one
    /// from the pool. A failure is a `Framework` error; a connection that lost its server
    /// is dropped from the pool.
    pub fn with_connection<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, postgres::Error>,
    ) -> Result<T, Error> {
        self.run(|c| {
            f(c).map_err(|e| {
                c.note(&e);
                crate::error::framework_error("statement failed", &e)
            })
        })
        .map_err(Error::from)
    }

    /// Runs `f` on the transaction connection of this thread, or a pooled one.
    pub(crate) fn run<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, ErrorKind>,
    ) -> Result<T, ErrorKind> {
        let pool_id = self.inner.id;
        match slot_lookup(pool_id, |slot| slot.conn.take()) {
            None => {
                let mut conn = self.checkout()?;
                let result = f(&mut conn);
                self.note_loss(&conn);
                result
            }
            Some(taken) => {
                let mut back = PutBack {
                    pool_id,
                    conn: taken,
                };
                match back.conn.as_mut() {
                    Some(conn) => f(conn),
                    None => Err(framework(
                        "the transaction's connection is busy with another statement",
                    )),
                }
            }
        }
    }

    /// A connection from the pool. Once a dead connection was found (a killed backend, a
    /// restarted server), every idle connection opened before is pinged before its next
    /// use and replaced if it is dead too, so one failure does not become one per pooled
    /// connection. Otherwise checkouts cost no round trip.
    fn checkout(&self) -> Result<r2d2::PooledConnection<Manager>, ErrorKind> {
        let max_tries = self.inner.pool.max_size() + 1;
        let mut tries = 0;
        loop {
            let mut conn = self.inner.pool.get().map_err(|e| {
                ErrorKind::Framework(FrameworkError {
                    message: format!("no PostgreSQL connection to {}: {e}", self.inner.target),
                })
            })?;
            let losses = self.inner.losses.load(Ordering::Relaxed);
            if conn.checked == losses {
                return Ok(conn);
            }
            conn.checked = losses;
            match conn.client.simple_query("") {
                Ok(_) => return Ok(conn),
                Err(_) if tries < max_tries => {
                    conn.broken = true;
                    tries += 1;
                }
                Err(e) => {
                    conn.broken = true;
                    return Err(crate::error::framework_error("checking a connection", &e));
                }
            }
        }
    }

    fn note_loss(&self, conn: &Connection) {
        if conn.broken {
            self.inner.losses.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Runs `f` in a transaction on one connection: every statement any table of this
    /// pool runs on this thread while `f` runs uses it. An error or a panic rolls back.
    /// A nested call uses a savepoint.
    pub fn transaction<T>(&self, f: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
        let id = self.inner.id;
        let depth = TRANSACTIONS.with(|tx| {
            tx.borrow()
                .iter()
                .find(|slot| slot.pool_id == id)
                .map(|slot| slot.depth)
        });
        match depth {
            Some(depth) => self.savepoint(depth, f),
            None => self.top_level(f),
        }
    }

    fn top_level<T>(&self, f: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
        let mut conn = self.checkout()?;
        if let Err(e) = conn.client.batch_execute("BEGIN") {
            conn.note(&e);
            self.note_loss(&conn);
            return Err(crate::error::framework_error("BEGIN failed", &e).into());
        }
        conn.failed = None;
        let id = self.inner.id;
        TRANSACTIONS.with(|tx| {
            tx.borrow_mut().push(Slot {
                pool_id: id,
                conn: Some(conn),
                depth: 0,
            })
        });
        let mut guard = TopLevelGuard {
            pool_id: id,
            done: false,
        };
        let result = f();
        guard.done = true;
        let Some(mut conn) = pop_slot(id) else {
            return Err(framework("the transaction's connection was lost").into());
        };
        let outcome = match (result, conn.failed.take()) {
            (Ok(_), Some(reason)) => {
                // PostgreSQL answers COMMIT of an aborted transaction with a silent ROLLBACK:
                // report it rather than pretend the writes were stored.
                if conn.client.batch_execute("ROLLBACK").is_err() {
                    conn.broken = true;
                }
                Err(framework(format!(
                    "PostgreSQL: the transaction was rolled back because a statement inside it failed: {reason}; \
                     wrap an expected failure in a nested transaction (a savepoint) to go on after it"
                ))
                .into())
            }
            (Ok(value), None) => match conn.client.batch_execute("COMMIT") {
                Ok(()) => Ok(value),
                Err(e) => {
                    conn.note(&e);
                    Err(crate::error::framework_error(
                        "COMMIT failed (the transaction's writes may not be stored)",
                        &e,
                    )
                    .into())
                }
            },
            (Err(error), _) => {
                if let Err(e) = conn.client.batch_execute("ROLLBACK") {
                    conn.note(&e);
                    conn.broken = true;
                }
                Err(error)
            }
        };
        self.note_loss(&conn);
        outcome
    }

    fn savepoint<T>(&self, depth: u32, f: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
        let name = format!("ash_savepoint_{}", depth + 1);
        let exec = |sql: String| {
            self.run(|c| {
                c.client.batch_execute(&sql).map_err(|e| {
                    c.note(&e);
                    crate::error::framework_error("savepoint failed", &e)
                })
            })
        };
        exec(format!("SAVEPOINT {name}"))?;
        let failed_before = self.run(|c| Ok(c.failed.clone()))?;
        set_depth(self.inner.id, depth + 1);
        let result = f();
        set_depth(self.inner.id, depth);
        match result {
            Ok(value) => {
                exec(format!("RELEASE SAVEPOINT {name}"))?;
                Ok(value)
            }
            Err(error) => {
                // If this fails too, the outer transaction fails at its end.
                if exec(format!("ROLLBACK TO SAVEPOINT {name}")).is_ok() {
                    let _ = self.run(|c| {
                        c.failed = failed_before;
                        Ok(())
                    });
                }
                Err(error)
            }
        }
    }
}

pub(crate) fn framework(message: impl Into<String>) -> ErrorKind {
    ErrorKind::Framework(FrameworkError {
        message: message.into(),
    })
}

// ---------------------------------------------------------------------------------------
// The thread's transactions, one per pool at most (like Ecto's process-scoped one).

struct Slot {
    pool_id: u64,
    /// `None` while a statement runs on it.
    conn: Option<r2d2::PooledConnection<Manager>>,
    /// How many savepoints are open.
    depth: u32,
}

thread_local! {
    static TRANSACTIONS: RefCell<Vec<Slot>> = const { RefCell::new(Vec::new()) };
}

fn slot_lookup<T>(pool_id: u64, f: impl FnOnce(&mut Slot) -> T) -> Option<T> {
    TRANSACTIONS
        .try_with(|tx| {
            let mut tx = tx.borrow_mut();
            tx.iter_mut().find(|slot| slot.pool_id == pool_id).map(f)
        })
        .ok()
        .flatten()
}

fn set_depth(pool_id: u64, depth: u32) {
    slot_lookup(pool_id, |slot| slot.depth = depth);
}

fn pop_slot(pool_id: u64) -> Option<r2d2::PooledConnection<Manager>> {
    TRANSACTIONS
        .try_with(|tx| {
            let mut tx = tx.borrow_mut();
            let index = tx.iter().position(|slot| slot.pool_id == pool_id)?;
            tx.remove(index).conn
        })
        .ok()
        .flatten()
}

/// The transaction connection, taken out of its slot while a statement runs; put back when
/// dropped, also on unwind.
struct PutBack {
    pool_id: u64,
    conn: Option<r2d2::PooledConnection<Manager>>,
}

impl Drop for PutBack {
    fn drop(&mut self) {
        let mut conn = self.conn.take();
        slot_lookup(self.pool_id, |slot| slot.conn = conn.take());
        if let Some(mut orphan) = conn {
            // Its transaction is gone: never hand it out again mid-transaction.
            orphan.broken = true;
        }
    }
}

/// Rolls a top-level transaction back when `f` panics.
struct TopLevelGuard {
    pool_id: u64,
    done: bool,
}

impl Drop for TopLevelGuard {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        if let Some(mut conn) = pop_slot(self.pool_id) {
            if conn.client.batch_execute("ROLLBACK").is_err() {
                conn.broken = true;
            }
        }
    }
}
