//! The connection pool: deadpool with a manager of our own, one statement cache per
//! connection, and the tokio runtime the connections live on.

use crate::error::{classify, framework_error, Failure};
use crate::secret::{redact_connection_string, scrub};
use crate::transaction::PgTransaction;
use ash_core::error::{Error, ErrorKind, FrameworkError, Unavailable};
use ash_core::transaction::Transaction;
use deadpool::managed::{self, Metrics, Object, PoolError, RecycleError, RecycleResult};
use pin_project_lite::pin_project;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;
use tokio::runtime::Handle;
use tokio::sync::oneshot;
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row, Statement};

/// Prepared statements kept per connection before the cache is emptied and refilled.
const STATEMENT_CACHE_LIMIT: usize = 512;

static NEXT_POOL_ID: AtomicU64 = AtomicU64::new(1);

/// One connection as the pool keeps it: the client and its prepared statements.
pub(crate) struct PgClient {
    pub(crate) client: tokio_postgres::Client,
    statements: HashMap<String, Statement, foldhash::fast::RandomState>,
    /// Lost its server: never handed out again.
    pub(crate) broken: bool,
    /// The pool's loss count when this connection was last known to be alive.
    checked: u64,
    losses: Arc<AtomicU64>,
}

impl PgClient {
    /// Prepares `sql` once per connection and returns the cached statement afterwards.
    pub(crate) async fn prepare_cached(
        &mut self,
        sql: &str,
    ) -> Result<Statement, tokio_postgres::Error> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        // Boxed: preparing is a large future, needed once per statement and connection;
        // inline, every action's future (hence every allocation and move of it) would
        // carry its size.
        let statement = Box::pin(self.client.prepare(sql)).await?;
        if self.statements.len() >= STATEMENT_CACHE_LIMIT {
            self.statements.clear();
        }
        self.statements.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }

    /// One prepared (cached) statement.
    pub(crate) async fn query(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, tokio_postgres::Error> {
        let statement = self.prepare_cached(sql).await?;
        self.client.query(&statement, params).await
    }

    /// Records a failure: a connection that lost its server is not reused (and the pool
    /// checks its other idle connections before their next use); statements the server
    /// no longer accepts leave the cache.
    pub(crate) fn note(&mut self, error: &tokio_postgres::Error) {
        let failure = classify(error);
        if failure == Failure::StaleStatement {
            self.statements.clear();
        }
        if (failure == Failure::ConnectionLost || self.client.is_closed()) && !self.broken {
            self.broken = true;
            self.losses.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Opens and checks the pool's connections.
pub(crate) struct Manager {
    config: tokio_postgres::Config,
    setup: String,
    /// Bumped whenever a connection is found dead: see `recycle`.
    losses: Arc<AtomicU64>,
    handle: Handle,
    /// How long a ping of a connection suspected dead may take.
    timeout: Duration,
}

impl managed::Manager for Manager {
    // Boxed: deadpool moves its objects through every checkout's future (several copies
    // of it live in that future's state); a pointer is cheaper to move than the client.
    type Type = Box<PgClient>;
    type Error = tokio_postgres::Error;

    async fn create(&self) -> Result<Box<PgClient>, tokio_postgres::Error> {
        // Boxed for the same reason as a statement's preparation: connecting is rare and
        // its future is large; every checkout's future would otherwise hold it inline.
        Box::pin(self.connect()).await
    }

    /// A connection that lost its server is dropped. Once a dead connection was found (a
    /// killed backend, a restarted server), every idle connection opened before is pinged
    /// before its next use and replaced if it is dead too, so one failure does not become
    /// one per pooled connection. Otherwise a checkout costs no round trip.
    async fn recycle(
        &self,
        conn: &mut Box<PgClient>,
        _metrics: &Metrics,
    ) -> RecycleResult<tokio_postgres::Error> {
        if conn.broken || conn.client.is_closed() {
            return Err(RecycleError::message("the connection is closed"));
        }
        let losses = self.losses.load(Ordering::Relaxed);
        if conn.checked != losses {
            conn.checked = losses;
            // Timed here, not by the pool: a pool-wide recycle timeout would arm a timer
            // on every checkout for a ping that is rare.
            match tokio::time::timeout(self.timeout, Box::pin(conn.client.simple_query(""))).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    conn.broken = true;
                    return Err(RecycleError::Backend(e));
                }
                Err(_) => {
                    conn.broken = true;
                    return Err(RecycleError::message(
                        "the connection did not answer a ping in time",
                    ));
                }
            }
        }
        Ok(())
    }
}

impl Manager {
    async fn connect(&self) -> Result<Box<PgClient>, tokio_postgres::Error> {
        let (client, connection) = self.config.connect(NoTls).await?;
        // The connection's I/O is a task of the pool's runtime, so the client keeps
        // working when it is used from another thread (`block_on`) while that runtime
        // runs. The task ends when the client is dropped or the server goes away.
        drop(self.handle.spawn(async move {
            let _ = connection.await;
        }));
        if !self.setup.is_empty() {
            client.batch_execute(&self.setup).await?;
        }
        Ok(Box::new(PgClient {
            client,
            statements: HashMap::default(),
            broken: false,
            checked: self.losses.load(Ordering::Relaxed),
            losses: self.losses.clone(),
        }))
    }
}

pub(crate) type Pooled = Object<Manager>;

/// Drops a pooled connection for good, closing it: the server rolls back whatever
/// transaction it had open. Used for a connection left in an unknown state.
pub(crate) fn discard(conn: Pooled) {
    drop(Object::take(conn));
}

/// Builds a [`Pool`]: `Pool::builder(url).schema("app").max_size(8).build().await?`.
#[derive(Clone)]
pub struct PoolBuilder {
    url: String,
    schema: Option<String>,
    max_size: usize,
    connection_timeout: Duration,
    statement_timeout: Option<Duration>,
    on_connect: Vec<String>,
    create_missing_tables: bool,
}

impl fmt::Debug for PoolBuilder {
    // The connection string without its password; `on_connect` SQL only counted (it is
    // yours and may hold anything).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoolBuilder")
            .field("url", &redact_connection_string(&self.url))
            .field("schema", &self.schema)
            .field("max_size", &self.max_size)
            .field("connection_timeout", &self.connection_timeout)
            .field("statement_timeout", &self.statement_timeout)
            .field("on_connect_statements", &self.on_connect.len())
            .field("create_missing_tables", &self.create_missing_tables)
            .finish()
    }
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
    pub fn max_size(mut self, max_size: usize) -> Self {
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
    ///
    /// Call it inside a tokio runtime: the pool's connections run on that runtime (its
    /// [`Handle`] is kept), wherever the pool is used from later. Without one, the error
    /// says so. No error message shows the connection string's password.
    pub async fn build(self) -> Result<Pool, Error> {
        let handle = Handle::try_current().map_err(|_| {
            framework(
                "PostgreSQL: `Pool::build` needs a tokio runtime (call it inside \
                 `#[tokio::main]` or `Runtime::block_on`); the pool's connections run on it",
            )
        })?;
        let target = redact_connection_string(&self.url);
        let mut config: tokio_postgres::Config = self.url.parse().map_err(|e| {
            framework(scrub(
                &format!("PostgreSQL: invalid connection string {target}: {e}"),
                &self.url,
            ))
        })?;
        config.connect_timeout(self.connection_timeout);
        let mut setup: Vec<String> = Vec::new();
        if let Some(t) = self.statement_timeout {
            setup.push(format!("SET statement_timeout = {}", t.as_millis().max(1)));
        }
        setup.extend(self.on_connect);
        let losses = Arc::new(AtomicU64::new(0));
        let manager = Manager {
            config,
            setup: setup.join(";\n"),
            losses,
            handle: handle.clone(),
            timeout: self.connection_timeout,
        };
        let timeout = Some(self.connection_timeout);
        let pool = managed::Pool::builder(manager)
            .max_size(self.max_size)
            .wait_timeout(timeout)
            .create_timeout(timeout)
            .recycle_timeout(None)
            // The connection returned last is handed out first: its socket buffers and
            // its server backend's caches are warm, and idle ones beyond the load stay idle.
            .queue_mode(managed::QueueMode::Lifo)
            .runtime(deadpool::Runtime::Tokio1)
            .build()
            .map_err(|e| framework(format!("PostgreSQL: building the pool: {e}")))?;
        // A task that lives as long as the pool, unless the runtime shuts down first: then
        // it is dropped, and calls on the pool fail with a typed error instead of a tokio
        // panic.
        let alive = Arc::new(AtomicBool::new(true));
        let sentinel = RuntimeSentinel(alive.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        drop(handle.spawn(async move {
            let _sentinel = sentinel;
            // Ends when the pool (the sender) is dropped.
            let _ = stopped.await;
        }));
        let pool = Pool {
            inner: Arc::new(PoolInner {
                id: NEXT_POOL_ID.fetch_add(1, Ordering::Relaxed),
                pool,
                schema: self.schema,
                create_missing_tables: self.create_missing_tables,
                target,
                url_for_scrub: self.url,
                handle,
                alive,
                _stop: stop,
                connection_timeout: self.connection_timeout,
                pending_foreign_keys: std::sync::Mutex::new(Vec::new()),
            }),
        };
        drop(pool.in_runtime(pool.checkout()).await?);
        Ok(pool)
    }
}

/// Marks the runtime gone when dropped (with the runtime's tasks).
struct RuntimeSentinel(Arc<AtomicBool>);

impl Drop for RuntimeSentinel {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

pub(crate) struct PoolInner {
    pub(crate) id: u64,
    pool: managed::Pool<Manager>,
    schema: Option<String>,
    create_missing_tables: bool,
    /// The connection string without its password, for messages.
    target: String,
    /// The connection string itself, only to scrub its password from driver messages.
    url_for_scrub: String,
    handle: Handle,
    alive: Arc<AtomicBool>,
    /// Dropped with the pool: ends the runtime sentinel's task.
    _stop: oneshot::Sender<()>,
    connection_timeout: Duration,
    /// With `create_missing_tables`: the foreign-key constraints of the tables this pool
    /// created whose referenced table did not exist yet (see `foreign_keys`).
    pub(crate) pending_foreign_keys: std::sync::Mutex<Vec<crate::foreign_keys::PendingKey>>,
}

/// A pool of connections to one PostgreSQL database: the configuration
/// `Domain::connect(&pool).await` takes. Clones share the connections.
///
/// Its connections run on the tokio runtime it was built in; it may be used from any
/// thread or task while that runtime runs (also through [`ash_core::future::block_on`]
/// from a thread outside the runtime). Dropping it anywhere is fine.
#[derive(Clone)]
pub struct Pool {
    pub(crate) inner: Arc<PoolInner>,
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("id", &self.inner.id)
            .field("target", &self.inner.target)
            .field("schema", &self.inner.schema)
            .field("status", &self.inner.pool.status())
            .finish()
    }
}

impl Pool {
    /// A pool with the default settings; see [`Pool::builder`].
    pub async fn connect(url: &str) -> Result<Pool, Error> {
        Pool::builder(url).build().await
    }

    /// A builder for a pool of connections to `url`: a URL
    /// (`postgres://user:password@host:port/database?sslmode=disable`) or a key-value
    /// string (`host=... user=... password=...`).
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

    /// This pool's id: transactions of this pool carry it
    /// ([`PgTransaction::pool_id`]).
    pub fn id(&self) -> u64 {
        self.inner.id
    }

    /// The runtime the pool's connections run on (the one `build` was called in).
    pub fn runtime(&self) -> &Handle {
        &self.inner.handle
    }

    pub(crate) fn create_missing_tables(&self) -> bool {
        self.inner.create_missing_tables
    }

    /// A connection from the pool, for statements of your own. It goes back to the pool
    /// when dropped (unless it lost its server).
    pub async fn get(&self) -> Result<Connection, Error> {
        let conn = self.in_runtime(self.checkout()).await?;
        Ok(Connection { conn })
    }

    /// Opens a transaction on one connection of the pool: run actions in it with
    /// `domain.with_transaction(&tx)` (or a [`Context`](ash_core::context::Context)
    /// holding it), then `tx.commit().await` or `tx.rollback().await`. Dropped without
    /// either, its connection is closed, so the server rolls it back. The same as
    /// `domain.begin()` for a domain whose first data layer is this pool's.
    pub async fn begin(&self) -> Result<Transaction, Error> {
        self.in_runtime(async {
            let tx = PgTransaction::begin(self).await?;
            Ok::<_, ErrorKind>(Transaction::new(tx))
        })
        .await
        .map_err(Error::from)
    }

    /// `future`, polled inside the pool's runtime (so that the pool's timers and new
    /// connections work when it is polled from elsewhere); a typed error once that
    /// runtime has shut down.
    pub(crate) fn in_runtime<F, T, E>(&self, future: F) -> InRuntime<'_, F>
    where
        F: Future<Output = Result<T, E>>,
        E: From<ErrorKind>,
    {
        InRuntime {
            inner: &self.inner,
            future,
        }
    }

    /// A connection from the pool, with a typed error.
    pub(crate) async fn checkout(&self) -> Result<Pooled, ErrorKind> {
        let inner = &self.inner;
        // An idle connection first, without arming the wait timer (deadpool takes a zero
        // wait as "do not wait"); only when none is free, the timed wait in line.
        let now = managed::Timeouts {
            wait: Some(Duration::ZERO),
            ..inner.pool.timeouts()
        };
        let got = match inner.pool.timeout_get(&now).await {
            Err(PoolError::Timeout(managed::TimeoutType::Wait)) => inner.pool.get().await,
            got => got,
        };
        got.map_err(|e| {
            let detail = match &e {
                PoolError::Timeout(_) => format!(
                    "no connection within {:?} (all {} in use, or the server is slow to answer)",
                    inner.connection_timeout,
                    inner.pool.status().max_size
                ),
                PoolError::Backend(e) => {
                    let mut text = match e.as_db_error() {
                        Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
                        None => e.to_string(),
                    };
                    if let Some(source) = std::error::Error::source(e) {
                        if e.as_db_error().is_none() {
                            text = format!("{text}: {source}");
                        }
                    }
                    text
                }
                other => other.to_string(),
            };
            let message = scrub(
                &format!("PostgreSQL: no connection to {}: {detail}", inner.target),
                &inner.url_for_scrub,
            );
            match e {
                // Out of capacity for now, not broken: a typed error a service can answer
                // with 503 and a retry.
                PoolError::Timeout(_) => ErrorKind::Unavailable(Unavailable { message }),
                _ => framework(message),
            }
        })
    }
}

pin_project! {
    /// A future polled inside the pool's runtime; see [`Pool::in_runtime`].
    pub(crate) struct InRuntime<'a, F> {
        inner: &'a PoolInner,
        #[pin]
        future: F,
    }
}

impl<F, T, E> Future for InRuntime<'_, F>
where
    F: Future<Output = Result<T, E>>,
    E: From<ErrorKind>,
{
    type Output = Result<T, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if !this.inner.alive.load(Ordering::Acquire) {
            return Poll::Ready(Err(E::from(framework(
                "PostgreSQL: the tokio runtime this pool was built in has shut down; \
                 build a new pool in a running runtime",
            ))));
        }
        let _entered = this.inner.handle.enter();
        this.future.poll(cx)
    }
}

/// A connection from the pool ([`Pool::get`]), for statements of your own. Statements
/// are prepared once per connection ([`Connection::prepare_cached`]). Failures are
/// `Framework` errors, as for actions, and a connection that lost its server is not
/// reused.
pub struct Connection {
    conn: Pooled,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("closed", &self.conn.client.is_closed())
            .field("prepared_statements", &self.conn.statements.len())
            .finish()
    }
}

impl Connection {
    /// The client, for anything the methods below do not cover. Its errors are
    /// `tokio_postgres` errors, not noted by the pool.
    pub fn client(&self) -> &tokio_postgres::Client {
        &self.conn.client
    }

    /// Prepares `sql` once per connection and returns the cached statement afterwards.
    pub async fn prepare_cached(&mut self, sql: &str) -> Result<Statement, Error> {
        let result = self.conn.prepare_cached(sql).await;
        self.checked(result, "preparing a statement")
    }

    /// Runs `sql` (one or more statements, no parameters) with the simple protocol.
    pub async fn batch_execute(&mut self, sql: &str) -> Result<(), Error> {
        let result = self.conn.client.batch_execute(sql).await;
        self.checked(result, "statement failed")
    }

    /// Runs `sql` (prepared once per connection) and returns its rows.
    pub async fn query(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, Error> {
        let result = self.conn.query(sql, params).await;
        self.checked(result, "statement failed")
    }

    /// Runs `sql` (prepared once per connection) and returns its one row.
    pub async fn query_one(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Row, Error> {
        let mut rows = self.query(sql, params).await?;
        match rows.len() {
            1 => Ok(rows.remove(0)),
            n => Err(framework(format!("PostgreSQL: expected one row, got {n}")).into()),
        }
    }

    /// Runs `sql` (prepared once per connection) and returns its row, if any.
    pub async fn query_opt(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, Error> {
        let mut rows = self.query(sql, params).await?;
        match rows.len() {
            0 => Ok(None),
            1 => Ok(Some(rows.remove(0))),
            n => Err(framework(format!("PostgreSQL: expected at most one row, got {n}")).into()),
        }
    }

    fn checked<T>(
        &mut self,
        result: Result<T, tokio_postgres::Error>,
        context: &str,
    ) -> Result<T, Error> {
        result.map_err(|e| {
            self.conn.note(&e);
            Error::from(framework_error(context, &e))
        })
    }
}

pub(crate) fn framework(message: impl Into<String>) -> ErrorKind {
    ErrorKind::Framework(FrameworkError {
        message: message.into(),
    })
}
