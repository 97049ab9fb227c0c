//! [`PgTable`]: the PostgreSQL store of one resource.

use crate::error::{classify, framework_error, ColumnProblem, Failure, SchemaError};
use crate::migrations::constant_defaults;
use crate::pool::{framework, Pool};
use crate::sql::{
    attribute, push_ident, quote_ident, render_filter, render_order, Params, Placeholder,
};
use crate::transaction::{begin, lease, Lease, Rows, Shape};
use crate::value::{
    column_type, information_schema_type, int_value, integer_range, Column, RowSource,
};
use ash_core::attribute::AttributeInfo;
use ash_core::context::Context;
use ash_core::data_layer::{
    Atomic, AtomicExpr, Connect, DataLayer, DestroyOp, Guard, UpdateOp, UpsertOp,
};
use ash_core::error::{AlreadyExists, Error, ErrorKind, Overflow, StaleRecord};
use ash_core::filter::Filter;
use ash_core::identity::{taken, IdentityInfo};
use ash_core::query::Query;
use ash_core::relationship::LoadOp;
use ash_core::resource::Resource;
use ash_core::transaction::Transaction;
use ash_core::value::Value;
use std::fmt::{self, Write};
use std::future::Future;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio_postgres::Row;

/// The options `#[resource(data_layer = Postgres(...))]` takes.
const OPTIONS: [&str; 2] = ["table", "schema"];

/// The table of `R`: `table = "..."` from its data-layer options, else the snake_case of
/// its name (`BlogPost` -> `blog_post`); `schema = "..."` there overrides the pool's.
pub(crate) fn table_of<R: Resource>(
    pool_schema: Option<&str>,
) -> Result<(Option<String>, String), SchemaError> {
    table_from(R::NAME, R::DATA_LAYER_OPTIONS, pool_schema)
}

/// The qualified table of the resource called `name` with data-layer `options` (for the
/// tables a relationship filter names).
pub(crate) fn table_named(
    name: &'static str,
    options: &[(&str, &str)],
    pool_schema: Option<&str>,
) -> Result<String, ErrorKind> {
    let (schema, table) = table_from(name, options, pool_schema).map_err(|e| {
        ErrorKind::Framework(ash_core::error::FrameworkError {
            message: e.to_string(),
        })
    })?;
    Ok(qualified(schema.as_deref(), &table))
}

pub(crate) fn table_from(
    name: &'static str,
    options: &[(&str, &str)],
    pool_schema: Option<&str>,
) -> Result<(Option<String>, String), SchemaError> {
    let mut table = None;
    let mut schema = pool_schema.map(str::to_owned);
    for (key, value) in options {
        match *key {
            "table" => table = Some((*value).to_owned()),
            "schema" => schema = Some((*value).to_owned()),
            other => {
                return Err(SchemaError::InvalidOptions {
                    resource: name,
                    message: format!(
                        "unknown option `{other}`; valid options: {}",
                        OPTIONS.join(", ")
                    ),
                })
            }
        }
    }
    let table = table.unwrap_or_else(|| snake_case(name));
    if table.is_empty() || schema.as_deref() == Some("") {
        return Err(SchemaError::InvalidOptions {
            resource: name,
            message: "table and schema names cannot be empty".into(),
        });
    }
    Ok((schema, table))
}

/// `BlogPost` -> `blog_post`, `HTTPRequest` -> `http_request`.
pub(crate) fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev = i.checked_sub(1).map(|p| chars[p]);
            let next = chars.get(i + 1);
            let boundary = match prev {
                Some(p) if p.is_lowercase() || p.is_ascii_digit() => true,
                Some(p) if p.is_uppercase() => next.is_some_and(|n| n.is_lowercase()),
                _ => false,
            };
            if boundary {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(*c);
        }
    }
    out
}

pub(crate) fn qualified(schema: Option<&str>, table: &str) -> String {
    match schema {
        Some(schema) => format!("{}.{}", quote_ident(schema), quote_ident(table)),
        None => quote_ident(table),
    }
}

fn primary_key_info<R: Resource>() -> &'static AttributeInfo {
    let name = R::field_name(R::PRIMARY_KEY);
    // `#[resource]` always lists the primary key among the attributes.
    R::ATTRIBUTES
        .iter()
        .find(|a| a.name == name)
        .unwrap_or(&R::ATTRIBUTES[0])
}

fn ddl<R: Resource>(qualified_table: &str) -> String {
    let mut sql = format!("CREATE TABLE IF NOT EXISTS {qualified_table} (\n");
    let defaults = constant_defaults::<R>();
    for info in R::ATTRIBUTES {
        let null = if info.allow_nil { "" } else { " NOT NULL" };
        let default = match defaults.iter().find(|(name, _)| *name == info.name) {
            Some((_, sql)) => format!(" DEFAULT {sql}"),
            None => String::new(),
        };
        let _ = writeln!(
            sql,
            "    {} {}{null}{default},",
            quote_ident(info.name),
            column_type(info.kind)
        );
    }
    let _ = write!(
        sql,
        "    PRIMARY KEY ({})\n)",
        quote_ident(primary_key_info::<R>().name)
    );
    sql
}

/// PostgreSQL's longest identifier, in bytes: longer names are truncated by the server.
const MAX_IDENTIFIER: usize = 63;

/// The unique index of an identity: Ash's (ash_postgres) `"{table}_{identity}_index"`,
/// cut to the length PostgreSQL keeps (at a character boundary), so that a violation's
/// constraint name matches it.
pub(crate) fn identity_index_name(table: &str, identity: &IdentityInfo) -> String {
    truncate_identifier(format!("{table}_{}_index", identity.name))
}

/// `name` cut to the length PostgreSQL keeps (at a character boundary).
pub(crate) fn truncate_identifier(mut name: String) -> String {
    if name.len() > MAX_IDENTIFIER {
        let mut end = MAX_IDENTIFIER;
        while !name.is_char_boundary(end) {
            end -= 1;
        }
        name.truncate(end);
    }
    name
}

/// `CREATE UNIQUE INDEX IF NOT EXISTS` for one identity; `NULLS NOT DISTINCT` (PostgreSQL
/// 15+) when the identity's `nils_distinct` is false.
fn identity_index_sql(qualified_table: &str, raw_table: &str, identity: &IdentityInfo) -> String {
    let columns: Vec<String> = identity.fields.iter().map(|f| quote_ident(f)).collect();
    format!(
        "CREATE UNIQUE INDEX IF NOT EXISTS {} ON {qualified_table} ({}){}",
        quote_ident(&identity_index_name(raw_table, identity)),
        columns.join(", "),
        if identity.nils_distinct {
            ""
        } else {
            " NULLS NOT DISTINCT"
        }
    )
}

/// The `CREATE TABLE IF NOT EXISTS` statement for `R`, for review or for your migrations.
/// `schema` is the pool's schema, if any (a `schema` data-layer option overrides it).
///
/// Columns follow `R::ATTRIBUTES` in order; see [`column_type`](crate::column_type) for
/// the types. Attributes that are not `Option<_>` are `NOT NULL`.
pub fn create_table_sql<R: Resource>(schema: Option<&str>) -> Result<String, SchemaError> {
    let (schema, table) = table_of::<R>(schema)?;
    Ok(ddl::<R>(&qualified(schema.as_deref(), &table)))
}

/// The `CREATE UNIQUE INDEX IF NOT EXISTS` statements of `R`'s identities, one per
/// identity, named `{table}_{identity}_index` (as ash_postgres names them).
pub fn create_index_sql<R: Resource>(schema: Option<&str>) -> Result<Vec<String>, SchemaError> {
    let (schema, table) = table_of::<R>(schema)?;
    let qualified_table = qualified(schema.as_deref(), &table);
    Ok(R::IDENTITIES
        .iter()
        .map(|identity| identity_index_sql(&qualified_table, &table, identity))
        .collect())
}

/// The PostgreSQL store of resource `R`: one statement per action.
///
/// - create: `INSERT ... RETURNING`; a taken primary key (SQLSTATE 23505) is
///   `AlreadyExists`;
/// - update: `UPDATE ... SET <changes>, "version" = "version" + $n WHERE <pk> AND <lock>
///   RETURNING ...`; when it matches no row, a read of the stored row on the same
///   connection tells a stale lock (`StaleRecord` with the lock's filter), a vanished row
///   (`StaleRecord` with the primary key) and an overflowing atomic (`Overflow`) apart;
/// - destroy: `DELETE ... WHERE <pk> AND <lock> RETURNING ...`, the same way;
/// - get: `SELECT ... WHERE <pk> = $1`; read: the query's filter, sort, limit and offset
///   rendered as SQL.
///
/// Every value is a bound parameter and every identifier is quoted. Each statement runs on
/// the connection of the call context's transaction when it is one of this table's pool
/// (see [`PgTransaction`](crate::PgTransaction)), else on a pooled connection.
pub struct PgTable<R: Resource> {
    pool: Pool,
    table: String,
    display_name: String,
    schema: Option<String>,
    raw_table: String,
    columns: String,
    primary_key: &'static AttributeInfo,
    insert_sql: String,
    get_sql: String,
    /// The unique index of each identity, in [`Resource::IDENTITIES`] order.
    identity_indexes: Vec<String>,
    statements: AtomicU64,
    /// The text of each update shape guarded by at most the lock.
    update_sql: UpdateSqlCache,
    _resource: PhantomData<fn() -> R>,
}

impl<R: Resource> fmt::Debug for PgTable<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgTable")
            .field("resource", &R::NAME)
            .field("table", &self.display_name)
            .finish()
    }
}

impl<R: Resource> Connect<Pool> for PgTable<R> {
    /// Checks the table against `R` (and creates it when missing if the pool was built
    /// with `create_missing_tables(true)`, with its unique indexes and, once the tables
    /// they refer to exist, the foreign keys of its belongs_to relationships).
    async fn connect(pool: &Pool) -> Result<Self, Error> {
        let table = PgTable::new(pool).await?;
        let mut created = false;
        match table.schema_problem().await? {
            None => {}
            Some(SchemaError::MissingTable { .. }) if pool.create_missing_tables() => {
                table.create_table().await?;
                created = true;
            }
            Some(problem) => return Err(problem.into()),
        }
        if pool.create_missing_tables() {
            table.create_indexes().await?;
            // The belongs_to foreign keys of a table created here, once the tables they
            // refer to exist (possibly only when a later resource of the domain connects).
            crate::foreign_keys::create_pending::<R>(pool, created).await?;
        } else if let Some(problem) = table.index_problem().await? {
            return Err(problem.into());
        }
        Ok(table)
    }
}

impl<R: Resource> PgTable<R> {
    /// The store of `R` in `pool`, without checking the table (see
    /// [`PgTable::check_table`]); `Domain::connect(&pool)` checks it. Fails only on
    /// invalid data-layer options; it talks to no server.
    pub async fn new(pool: &Pool) -> Result<Self, Error> {
        let (schema, raw_table) = table_of::<R>(pool.schema())?;
        let table = qualified(schema.as_deref(), &raw_table);
        let columns = R::ATTRIBUTES
            .iter()
            .map(|a| quote_ident(a.name))
            .collect::<Vec<_>>()
            .join(", ");
        let placeholders = (1..=R::ATTRIBUTES.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let primary_key = primary_key_info::<R>();
        Ok(PgTable {
            insert_sql: format!(
                "INSERT INTO {table} ({columns}) VALUES ({placeholders}) RETURNING {columns}"
            ),
            get_sql: format!(
                "SELECT {columns} FROM {table} WHERE {} = $1",
                quote_ident(primary_key.name)
            ),
            identity_indexes: R::IDENTITIES
                .iter()
                .map(|identity| identity_index_name(&raw_table, identity))
                .collect(),
            display_name: match &schema {
                Some(s) => format!("{s}.{raw_table}"),
                None => raw_table.clone(),
            },
            pool: pool.clone(),
            table,
            schema,
            raw_table,
            columns,
            primary_key,
            statements: AtomicU64::new(0),
            update_sql: UpdateSqlCache::default(),
            _resource: PhantomData,
        })
    }

    /// The pool this table runs its statements on.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// The table's name, schema-qualified when a schema is set (`app.address`).
    pub fn table_name(&self) -> &str {
        &self.display_name
    }

    /// How many statements this table has run for actions (each create, update, destroy,
    /// get and read is exactly one). Schema checks and transaction control
    /// (`BEGIN`/`COMMIT`) are not counted.
    pub fn statement_count(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// The `CREATE TABLE IF NOT EXISTS` statement for this table.
    pub fn create_table_sql(&self) -> String {
        ddl::<R>(&self.table)
    }

    /// Creates the schema (when one is set) and the table if they are missing, with a
    /// unique index per identity, then checks the table.
    pub async fn create_table(&self) -> Result<(), Error> {
        let mut sql = String::new();
        if let Some(schema) = &self.schema {
            let _ = writeln!(sql, "CREATE SCHEMA IF NOT EXISTS {};", quote_ident(schema));
        }
        sql.push_str(&self.create_table_sql());
        for index in self.create_index_sql() {
            let _ = write!(sql, ";\n{index}");
        }
        self.pool.get().await?.batch_execute(&sql).await?;
        self.check_table().await
    }

    /// The `CREATE UNIQUE INDEX IF NOT EXISTS` statement of each identity.
    pub fn create_index_sql(&self) -> Vec<String> {
        R::IDENTITIES
            .iter()
            .map(|identity| identity_index_sql(&self.table, &self.raw_table, identity))
            .collect()
    }

    /// Creates the identities' unique indexes that are missing (existing ones are kept as
    /// they are).
    pub async fn create_indexes(&self) -> Result<(), Error> {
        let sql = self.create_index_sql().join(";\n");
        if !sql.is_empty() {
            self.pool.get().await?.batch_execute(&sql).await?;
        }
        Ok(())
    }

    /// Whether every identity has its unique index (by name, through `pg_indexes`); the
    /// first missing one as a [`SchemaError::Mismatch`].
    pub async fn index_problem(&self) -> Result<Option<SchemaError>, Error> {
        if R::IDENTITIES.is_empty() {
            return Ok(None);
        }
        let rows = self
            .pool
            .get()
            .await?
            .query(
                "SELECT indexname::text FROM pg_indexes \
                 WHERE schemaname = COALESCE($1::text, current_schema()::text) AND tablename = $2::text",
                &[&self.schema, &self.raw_table],
            )
            .await?;
        let mut found = Vec::with_capacity(rows.len());
        for row in &rows {
            let name: String = row
                .try_get(0)
                .map_err(|e| Error::from(framework_error("reading the table's indexes", &e)))?;
            found.push(name);
        }
        let problems: Vec<ColumnProblem> = R::IDENTITIES
            .iter()
            .zip(&self.identity_indexes)
            .filter(|(_, index)| !found.contains(index))
            .map(|(identity, index)| ColumnProblem::MissingUniqueIndex {
                identity: identity.name,
                index: index.clone(),
                create_index_sql: identity_index_sql(&self.table, &self.raw_table, identity),
            })
            .collect();
        Ok((!problems.is_empty()).then(|| SchemaError::Mismatch {
            table: self.display_name.clone(),
            problems,
        }))
    }

    /// The identity whose unique index a violation names, as `IdentityTaken`.
    fn identity_violation(&self, error: &tokio_postgres::Error) -> Option<ErrorKind> {
        let constraint = error.as_db_error()?.constraint()?;
        let identity = self.identity_indexes.iter().position(|i| i == constraint)?;
        Some(taken::<R>(identity))
    }

    /// Checks that the table exists and fits `R`; see [`PgTable::schema_problem`].
    pub async fn check_table(&self) -> Result<(), Error> {
        match self.schema_problem().await? {
            None => Ok(()),
            Some(problem) => Err(problem.into()),
        }
    }

    /// Compares the table with `R` through `information_schema.columns`: every attribute
    /// needs a column of its type and nilability; other columns must be nullable or have
    /// a default. `Ok(None)` when the table fits.
    pub async fn schema_problem(&self) -> Result<Option<SchemaError>, Error> {
        let rows = self
            .pool
            .get()
            .await?
            .query(
                "SELECT column_name::text, data_type::text, is_nullable = 'YES', column_default IS NOT NULL \
                 FROM information_schema.columns \
                 WHERE table_schema = COALESCE($1::text, current_schema()::text) AND table_name = $2::text \
                 ORDER BY ordinal_position",
                &[&self.schema, &self.raw_table],
            )
            .await?;
        if rows.is_empty() {
            return Ok(Some(SchemaError::MissingTable {
                table: self.display_name.clone(),
                create_table_sql: self.create_table_sql(),
            }));
        }
        let mut found = Vec::with_capacity(rows.len());
        for row in &rows {
            let read = |e: tokio_postgres::Error| {
                Error::from(framework_error("reading the table's columns", &e))
            };
            let name: String = row.try_get(0).map_err(read)?;
            let data_type: String = row.try_get(1).map_err(read)?;
            let nullable: bool = row.try_get(2).map_err(read)?;
            let has_default: bool = row.try_get(3).map_err(read)?;
            found.push((name, data_type, nullable, has_default));
        }
        let mut problems = Vec::new();
        for info in R::ATTRIBUTES {
            let expected = information_schema_type(info.kind);
            match found.iter().find(|f| f.0 == info.name) {
                None => problems.push(ColumnProblem::Missing {
                    column: info.name.to_owned(),
                    expected_type: column_type(info.kind).to_owned(),
                }),
                Some((_, data_type, nullable, _)) => {
                    if data_type != expected {
                        problems.push(ColumnProblem::WrongType {
                            column: info.name.to_owned(),
                            expected: expected.to_owned(),
                            found: data_type.clone(),
                        });
                    }
                    if *nullable != info.allow_nil {
                        problems.push(ColumnProblem::Nullability {
                            column: info.name.to_owned(),
                            attribute_allows_nil: info.allow_nil,
                        });
                    }
                }
            }
        }
        for (name, _, nullable, has_default) in &found {
            if !nullable && !has_default && !R::ATTRIBUTES.iter().any(|a| a.name == name) {
                problems.push(ColumnProblem::UnwrittenRequired {
                    column: name.clone(),
                });
            }
        }
        Ok((!problems.is_empty()).then(|| SchemaError::Mismatch {
            table: self.display_name.clone(),
            problems,
        }))
    }

    /// Runs one statement (prepared once per connection) and counts it: on the
    /// connection of `ctx`'s transaction of this pool, else on a pooled one.
    async fn query(
        &self,
        ctx: &Context,
        sql: &str,
        params: &Params<'_>,
        shape: Shape,
    ) -> Result<Result<Rows, tokio_postgres::Error>, ErrorKind> {
        let mut lease = lease(ctx, &self.pool).await?;
        self.query_on(&mut lease, sql, params, shape).await
    }

    /// [`query`](Self::query) on a connection already leased.
    async fn query_on(
        &self,
        lease: &mut Lease<'_>,
        sql: &str,
        params: &Params<'_>,
        shape: Shape,
    ) -> Result<Result<Rows, tokio_postgres::Error>, ErrorKind> {
        lease
            .query(sql, &params.refs(), shape, &self.statements)
            .await
    }

    fn decode(row: &Row) -> Result<R, ErrorKind> {
        R::from_source(&mut RowSource::new(row, R::NAME))
    }

    fn key_param(
        &self,
        params: &mut Params,
        key: &R::PrimaryKey,
    ) -> Result<Placeholder, ErrorKind> {
        params.push(
            self.primary_key.name,
            R::value_to_dynamic(&R::primary_key_value(key)),
        )
    }

    /// A write's result: the row written, or, when the write matched no row, why. A
    /// guarded write (a filter such as an optimistic lock, an atomic guard) is explained
    /// by reading the stored row, on the same connection, so that a successful write is
    /// the plain statement. (Measured with pgbench: a single statement that also returns
    /// the stored row, `WITH s AS (SELECT ..), w AS (UPDATE .. RETURNING ..) SELECT ..`,
    /// costs the server a few percent more per success on spread records and 20-25% more
    /// on one contended record, where it also waits on the row lock.)
    async fn written_or_refused(
        &self,
        lease: &mut Lease<'_>,
        rows: Rows,
        key: &R::PrimaryKey,
        guard: Guard<'_, R>,
        atomics: &[Atomic<R>],
        operation: &'static str,
    ) -> Result<R, ErrorKind> {
        if let Some(row) = rows.first() {
            return Self::decode(row);
        }
        let guarded = !guard.is_empty() || !atomics.is_empty();
        let stored = if guarded {
            // Boxed: only a refusal needs this read, and every write's future would
            // otherwise hold a second statement's state.
            Box::pin(self.get_on(lease, key)).await?
        } else {
            None
        };
        Err(self.refusal(stored, key, guard, atomics, operation))
    }

    /// Why a write was refused, in the terms of the ETS layer.
    fn refusal(
        &self,
        stored: Option<R>,
        key: &R::PrimaryKey,
        guard: Guard<'_, R>,
        atomics: &[Atomic<R>],
        operation: &'static str,
    ) -> ErrorKind {
        let stale = |filter: &Filter<R>| StaleRecord::new(R::NAME, filter.to_dyn(), operation);
        let missing = || ErrorKind::StaleRecord(stale(&Filter::<R>::primary_key(key)));
        let Some(stored) = stored else {
            return missing();
        };
        if guard.matches(&stored) {
            for atomic in atomics {
                if let Err(e) = stored.eval_atomic(atomic) {
                    return e;
                }
            }
        }
        // The guard did not match the stored record, or it matched when the statement
        // began but a concurrent write changed or removed the row before ours could. The
        // record read goes with the error: a retry starts from it.
        match guard.to_filter() {
            Some(filter) => ErrorKind::StaleRecord(stale(&filter).with_stored(stored)),
            None => missing(),
        }
    }
}

/// ` AND <lock> AND <filter> AND <policy>`: a write's guard in its statement's `WHERE`. The
/// lock is one typed comparison, pushed as a parameter without a filter built.
fn push_guard<R: Resource>(
    guard: Guard<'_, R>,
    params: &mut Params,
    out: &mut String,
) -> Result<(), ErrorKind> {
    if let Some(lock) = guard.lock {
        let name = R::field_name(lock.field);
        out.push_str(" AND ");
        match R::value_to_dynamic(&lock.value()) {
            Value::Null => out.push_str("FALSE"),
            value => {
                let p = params.push(name, value)?;
                push_ident(out, name);
                out.push_str(" = ");
                p.write_to(out);
            }
        }
    }
    for filter in guard.filter.into_iter().chain(guard.policy) {
        out.push_str(" AND ");
        render_filter(&filter.to_dyn(), R::ATTRIBUTES, params, out)?;
    }
    Ok(())
}

/// What the text of an update guarded by at most the optimistic lock depends on (the
/// table aside): each attribute it writes, adds to or locks on, in the order its
/// parameters are pushed, as `attribute index * 8 + what`. Longer shapes are not cached.
#[derive(Default)]
struct UpdateKey {
    len: usize,
    entries: [u32; UPDATE_KEY_MAX],
    /// Too long, or an attribute not found: rendered on every call.
    uncached: bool,
}

const UPDATE_KEY_MAX: usize = 24;

impl UpdateKey {
    const WRITE: u32 = 1;
    const ADD_UP: u32 = 2;
    const ADD_DOWN: u32 = 3;
    const ADD_NEVER: u32 = 4;
    const LOCK: u32 = 5;
    const LOCK_NULL: u32 = 6;

    fn add<R: Resource>(&mut self, name: &str, what: u32) {
        let index = R::ATTRIBUTES
            .iter()
            .position(|a| std::ptr::eq(a.name, name) || a.name == name)
            .and_then(|i| u32::try_from(i).ok())
            .and_then(|i| i.checked_mul(8));
        match index {
            Some(index) if self.len < UPDATE_KEY_MAX => {
                self.entries[self.len] = index + what;
                self.len += 1;
            }
            _ => self.uncached = true,
        }
    }

    fn cacheable(&self) -> bool {
        !self.uncached
    }

    fn entries(&self) -> &[u32] {
        &self.entries[..self.len]
    }
}

/// The text of each update shape seen (see [`UpdateKey`]), up to a bound.
#[derive(Default)]
struct UpdateSqlCache(std::sync::RwLock<Vec<ShapeSql>>);

/// One update shape's key entries and its statement.
type ShapeSql = (Box<[u32]>, Arc<str>);

/// Update shapes kept per table; more are rendered on every call.
const UPDATE_SQL_CACHE_LIMIT: usize = 64;

impl UpdateSqlCache {
    fn find(&self, key: &UpdateKey) -> Option<Arc<str>> {
        let cache = self
            .0
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        cache
            .iter()
            .find(|(k, _)| **k == *key.entries())
            .map(|(_, sql)| sql.clone())
    }

    fn insert(&self, key: &UpdateKey, sql: &Arc<str>) {
        let mut cache = self
            .0
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if cache.len() < UPDATE_SQL_CACHE_LIMIT && !cache.iter().any(|(k, _)| **k == *key.entries())
        {
            cache.push((key.entries().into(), sql.clone()));
        }
    }
}

/// A `create_many` error: the position of the record refused, when known, and why.
struct ManyError(Option<usize>, ErrorKind);

impl From<ErrorKind> for ManyError {
    fn from(error: ErrorKind) -> Self {
        ManyError(None, error)
    }
}

/// The actions' statements; the [`DataLayer`] impl runs them inside the pool's runtime.
impl<R: Resource> PgTable<R> {
    async fn create_in(&self, ctx: &Context, record: R) -> Result<R, ErrorKind> {
        let mut params = Params::default();
        for (info, value) in R::ATTRIBUTES.iter().zip(record.to_values()) {
            params.push(info.name, value)?;
        }
        match self
            .query(ctx, &self.insert_sql, &params, Shape::WRITE_ONE)
            .await?
        {
            Ok(rows) => match rows.first() {
                Some(row) => Self::decode(row),
                None => Err(framework("INSERT returned no row")),
            },
            Err(e) if classify(&e) == Failure::UniqueViolation => {
                Err(self.identity_violation(&e).unwrap_or_else(|| {
                    ErrorKind::AlreadyExists(AlreadyExists {
                        resource: R::NAME,
                        filter: Filter::<R>::primary_key(record.primary_key()).to_dyn(),
                    })
                }))
            }
            Err(e) if classify(&e) == Failure::ForeignKeyViolation => Err(
                crate::foreign_keys::reference_not_found::<R>(&self.raw_table, &e)
                    .unwrap_or_else(|| framework_error(&format!("creating a {}", R::NAME), &e)),
            ),
            Err(e) => Err(framework_error(&format!("creating a {}", R::NAME), &e)),
        }
    }

    /// One multi-row `INSERT ... VALUES (..), (..) RETURNING ...` per chunk of at most
    /// 65535 parameters (PostgreSQL's limit), rows returned in the order given.
    async fn create_many_in(&self, ctx: &Context, records: Vec<R>) -> Result<Vec<R>, ManyError> {
        let columns = R::ATTRIBUTES.len().max(1);
        let per_statement = (u16::MAX as usize / columns).max(1);
        let mut stored = Vec::with_capacity(records.len());
        let mut offset = 0;
        let mut records = records.into_iter().peekable();
        while records.peek().is_some() {
            let chunk: Vec<R> = records.by_ref().take(per_statement).collect();
            let mut params = Params::default();
            let mut sql = format!("INSERT INTO {} ({}) VALUES ", self.table, self.columns);
            for (row, record) in chunk.iter().enumerate() {
                if row > 0 {
                    sql.push_str(", ");
                }
                sql.push('(');
                for (i, (info, value)) in R::ATTRIBUTES.iter().zip(record.to_values()).enumerate() {
                    let placeholder = params
                        .push(info.name, value)
                        .map_err(|e| ManyError(Some(offset + row), e))?;
                    if i > 0 {
                        sql.push_str(", ");
                    }
                    placeholder.write_to(&mut sql);
                }
                sql.push(')');
            }
            sql.push_str(" RETURNING ");
            sql.push_str(&self.columns);
            let shape = crate::transaction::Shape {
                write: true,
                one: false,
            };
            match self
                .query(ctx, &sql, &params, shape)
                .await
                .map_err(|e| ManyError(None, e))?
            {
                Ok(rows) if rows.len() == chunk.len() => {
                    for row in rows.iter() {
                        stored.push(Self::decode(row).map_err(|e| ManyError(None, e))?);
                    }
                }
                Ok(_) => {
                    return Err(ManyError(
                        None,
                        framework("INSERT returned fewer rows than it was given"),
                    ))
                }
                Err(e) if classify(&e) == Failure::UniqueViolation => {
                    let error = self.identity_violation(&e).unwrap_or_else(|| {
                        ErrorKind::AlreadyExists(AlreadyExists {
                            resource: R::NAME,
                            filter: Filter::<R>::primary_key(chunk[0].primary_key()).to_dyn(),
                        })
                    });
                    return Err(ManyError(None, error));
                }
                Err(e) => {
                    return Err(ManyError(
                        None,
                        framework_error(&format!("creating {} records", R::NAME), &e),
                    ))
                }
            }
            offset += chunk.len();
        }
        Ok(stored)
    }

    /// One `INSERT ... ON CONFLICT (<target>) DO UPDATE SET <fields>, <atomics> WHERE
    /// <filter> RETURNING ...`. No row back means the stored record did not match: then
    /// one `SELECT` of it tells a stale filter from an overflowing atomic.
    async fn upsert_in(&self, ctx: &Context, op: UpsertOp<'_, R>) -> Result<R, ErrorKind> {
        const ALIAS: &str = "\"__ash_t\"";
        let target: &[&str] = match op.identity {
            Some(identity) => match R::IDENTITIES.get(identity) {
                Some(info) => info.fields,
                None => return Err(framework(format!("no identity #{identity} on {}", R::NAME))),
            },
            None => std::slice::from_ref(&self.primary_key.name),
        };
        let mut params = Params::default();
        let mut placeholders = Vec::with_capacity(R::ATTRIBUTES.len());
        for (info, value) in R::ATTRIBUTES.iter().zip(op.record.to_values()) {
            placeholders.push(params.push(info.name, value)?.to_string());
        }
        let atomic_fields: Vec<&str> = op.atomics.iter().map(|a| R::field_name(a.field)).collect();
        let mut sets: Vec<String> = Vec::new();
        for &field in op.fields {
            let name = R::field_name(field);
            if field == R::PRIMARY_KEY || atomic_fields.contains(&name) {
                continue;
            }
            let column = quote_ident(name);
            sets.push(format!("{column} = EXCLUDED.{column}"));
        }
        let mut guards: Vec<String> = Vec::new();
        for atomic in op.atomics {
            let name = R::field_name(atomic.field);
            let column = quote_ident(name);
            match checked_add::<R>(atomic)? {
                Some((by, bound, cmp)) => {
                    let p = params.push(name, by)?;
                    sets.push(format!("{column} = {ALIAS}.{column} + {p}"));
                    let b = params.push(name, bound)?;
                    guards.push(format!("{ALIAS}.{column} {cmp} {b}"));
                }
                None => guards.push("FALSE".into()),
            }
        }
        if sets.is_empty() {
            // Nothing to write: a no-op update, so the stored row still comes back.
            let column = quote_ident(target[0]);
            sets.push(format!("{column} = {ALIAS}.{column}"));
        }
        let target_columns: Vec<String> = target.iter().map(|c| quote_ident(c)).collect();
        let mut sql = format!(
            "INSERT INTO {} AS {ALIAS} ({}) VALUES ({}) ON CONFLICT ({}) DO UPDATE SET {}",
            self.table,
            self.columns,
            placeholders
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            target_columns.join(", "),
            sets.join(", ")
        );
        let mut conditions = guards;
        if let Some(filter) = op.filter {
            // The filter's columns are the stored row's: evaluated on a copy of it, where
            // unqualified names cannot be confused with `EXCLUDED`.
            let mut rendered = String::new();
            render_filter(&filter.to_dyn(), R::ATTRIBUTES, &mut params, &mut rendered)?;
            conditions.push(format!(
                "EXISTS (SELECT 1 FROM (SELECT {ALIAS}.*) AS \"__ash_stored\" WHERE {rendered})"
            ));
        }
        if !conditions.is_empty() {
            let _ = write!(sql, " WHERE {}", conditions.join(" AND "));
        }
        let _ = write!(sql, " RETURNING {}", self.columns);
        // `ON CONFLICT` arbitrates only the target's index. Two upserts of one key racing
        // each other can still collide on another unique index (a second identity with the
        // same values, NULLs included when `nils_distinct = false`): the loser then sees a
        // violation of that index although, once the winner commits, its statement would
        // find the winner's row and update it. So such a violation is retried, a bounded
        // number of times; a genuine clash with another row fails again and is reported.
        // Inside a transaction the failed statement has aborted it: no retry there.
        let arbiter = op.identity.and_then(|i| self.identity_indexes.get(i));
        let mut attempts_left = if ctx.transaction().is_some() { 0 } else { 3 };
        let rows = loop {
            match self.query(ctx, &sql, &params, Shape::WRITE_ONE).await? {
                Ok(rows) => break rows,
                Err(e) if classify(&e) == Failure::UniqueViolation => {
                    let constraint = e.as_db_error().and_then(|d| d.constraint());
                    if attempts_left > 0
                        && constraint.is_some()
                        && constraint != arbiter.map(String::as_str)
                    {
                        attempts_left -= 1;
                        continue;
                    }
                    return Err(self.identity_violation(&e).unwrap_or_else(|| {
                        ErrorKind::AlreadyExists(AlreadyExists {
                            resource: R::NAME,
                            filter: Filter::<R>::primary_key(op.record.primary_key()).to_dyn(),
                        })
                    }));
                }
                Err(e) if classify(&e) == Failure::ForeignKeyViolation => {
                    return Err(
                        crate::foreign_keys::reference_not_found::<R>(&self.raw_table, &e)
                            .unwrap_or_else(|| {
                                framework_error(&format!("upserting a {}", R::NAME), &e)
                            }),
                    )
                }
                Err(e) => return Err(framework_error(&format!("upserting a {}", R::NAME), &e)),
            }
        };
        if let Some(row) = rows.first() {
            return Self::decode(row);
        }
        // Skipped: the stored record did not match, or an atomic would overflow.
        let key_filter = match op.identity {
            Some(identity) => op
                .record
                .identity_key(identity)
                .map(|key| R::identity_filter(&key)),
            None => Some(Filter::<R>::primary_key(op.record.primary_key())),
        };
        let stored = match &key_filter {
            Some(filter) => {
                self.read_in(ctx, &Query::new().filter(filter.clone()))
                    .await?
            }
            None => Vec::new(),
        };
        let stored = stored.into_iter().next();
        if let Some(stored) = &stored {
            if op.filter.is_none_or(|f| f.matches(stored)) {
                for atomic in op.atomics {
                    stored.eval_atomic(atomic)?;
                }
            }
        }
        Err(match op.filter {
            Some(filter) => {
                let refused = StaleRecord::new(R::NAME, filter.to_dyn(), "upsert");
                ErrorKind::StaleRecord(match stored {
                    Some(stored) => refused.with_stored(stored),
                    None => refused,
                })
            }
            None => framework(format!("an upsert of {} wrote no row", R::NAME)),
        })
    }

    /// Pushes the parameters of an update guarded by at most the lock, in the order
    /// [`render_update`](Self::render_update) pushes them, and returns the shape its text
    /// depends on.
    fn update_params(
        &self,
        params: &mut Params<'_>,
        op: &UpdateOp<'_, R>,
    ) -> Result<UpdateKey, ErrorKind> {
        let mut key = UpdateKey::default();
        self.key_param(params, op.primary_key)?;
        for (field, value) in R::changes_to_values(&*op.changes) {
            if op.atomics.iter().any(|a| a.field == field) {
                continue;
            }
            let name = R::field_name(field);
            params.push(name, value)?;
            key.add::<R>(name, UpdateKey::WRITE);
        }
        for atomic in op.atomics {
            let name = R::field_name(atomic.field);
            match checked_add::<R>(atomic)? {
                Some((by, bound, cmp)) => {
                    params.push(name, by)?;
                    params.push(name, bound)?;
                    let code = if cmp == "<=" {
                        UpdateKey::ADD_UP
                    } else {
                        UpdateKey::ADD_DOWN
                    };
                    key.add::<R>(name, code);
                }
                None => key.add::<R>(name, UpdateKey::ADD_NEVER),
            }
        }
        if let Some(lock) = op.guard.lock {
            let name = R::field_name(lock.field);
            match R::value_to_dynamic(&lock.value()) {
                Value::Null => key.add::<R>(name, UpdateKey::LOCK_NULL),
                value => {
                    params.push(name, value)?;
                    key.add::<R>(name, UpdateKey::LOCK);
                }
            }
        }
        Ok(key)
    }

    /// An update's statement, straight into one string, `UPDATE t SET .. WHERE pk = $1
    /// [AND filter] [AND guards] RETURNING ..`, its parameters pushed to `params` in the
    /// order [`update_params`](Self::update_params) pushes them.
    fn render_update(
        &self,
        params: &mut Params<'_>,
        op: &UpdateOp<'_, R>,
    ) -> Result<String, ErrorKind> {
        let pk = self.key_param(params, op.primary_key)?;
        let mut write = String::with_capacity(256);
        write.push_str("UPDATE ");
        write.push_str(&self.table);
        write.push_str(" SET ");
        let mut first = true;
        let mut separate = |write: &mut String| {
            if !std::mem::take(&mut first) {
                write.push_str(", ");
            }
        };
        for (field, value) in R::changes_to_values(&*op.changes) {
            if op.atomics.iter().any(|a| a.field == field) {
                // The atomic write wins, as in memory.
                continue;
            }
            let name = R::field_name(field);
            let p = params.push(name, value)?;
            separate(&mut write);
            push_ident(&mut write, name);
            write.push_str(" = ");
            p.write_to(&mut write);
        }
        let mut guards = String::new();
        for atomic in op.atomics {
            let name = R::field_name(atomic.field);
            match checked_add::<R>(atomic)? {
                Some((by, bound, cmp)) => {
                    let p = params.push(name, by)?;
                    separate(&mut write);
                    push_ident(&mut write, name);
                    write.push_str(" = ");
                    push_ident(&mut write, name);
                    write.push_str(" + ");
                    p.write_to(&mut write);
                    let b = params.push(name, bound)?;
                    guards.push_str(" AND ");
                    push_ident(&mut guards, name);
                    guards.push(' ');
                    guards.push_str(cmp);
                    guards.push(' ');
                    b.write_to(&mut guards);
                }
                None => guards.push_str(" AND FALSE"),
            }
        }
        if first {
            // Nothing to write: a no-op assignment, so that the statement still locks
            // and returns the row.
            push_ident(&mut write, self.primary_key.name);
            write.push_str(" = ");
            push_ident(&mut write, self.primary_key.name);
        }
        write.push_str(" WHERE ");
        push_ident(&mut write, self.primary_key.name);
        write.push_str(" = ");
        pk.write_to(&mut write);
        push_guard(op.guard, params, &mut write)?;
        write.push_str(&guards);
        write.push_str(" RETURNING ");
        write.push_str(&self.columns);
        Ok(write)
    }

    async fn update_in(&self, ctx: &Context, op: UpdateOp<'_, R>) -> Result<R, ErrorKind> {
        // Scoped: a policy's relationship filter joins the write as an `EXISTS` on this table.
        let mut params = Params::scoped(&self.table, self.schema.as_deref());
        // A statement guarded by at most the lock has a text that only its shape decides:
        // rendered once per shape. Filters and policies are rendered on every call.
        let key = if op.guard.filter.is_none() && op.guard.policy.is_none() {
            Some(self.update_params(&mut params, &op)?).filter(UpdateKey::cacheable)
        } else {
            None
        };
        let cached = key.as_ref().and_then(|key| self.update_sql.find(key));
        let write: Arc<str> = match cached {
            Some(sql) => sql,
            None => {
                // Rendering pushes the parameters again, in the same order.
                params = Params::scoped(&self.table, self.schema.as_deref());
                let sql: Arc<str> = self.render_update(&mut params, &op)?.into();
                if let Some(key) = &key {
                    self.update_sql.insert(key, &sql);
                }
                sql
            }
        };
        let mut lease = lease(ctx, &self.pool).await?;
        let rows = match self
            .query_on(&mut lease, &write, &params, Shape::WRITE_ONE)
            .await?
        {
            Ok(rows) => rows,
            Err(e) if classify(&e) == Failure::NumericOutOfRange => {
                let (field, by) = match op.atomics.first() {
                    Some(a) => match a.expr {
                        AtomicExpr::Add(by) => (R::field_name(a.field), by),
                    },
                    None => ("", 0),
                };
                return Err(ErrorKind::Overflow(Overflow {
                    field: field.to_owned(),
                    value: Value::Null,
                    by,
                }));
            }
            Err(e) if classify(&e) == Failure::UniqueViolation => {
                return Err(self
                    .identity_violation(&e)
                    .unwrap_or_else(|| framework_error(&format!("updating a {}", R::NAME), &e)))
            }
            Err(e) if classify(&e) == Failure::ForeignKeyViolation => {
                return Err(
                    crate::foreign_keys::reference_not_found::<R>(&self.raw_table, &e)
                        .unwrap_or_else(|| framework_error(&format!("updating a {}", R::NAME), &e)),
                )
            }
            Err(e) => return Err(framework_error(&format!("updating a {}", R::NAME), &e)),
        };
        self.written_or_refused(
            &mut lease,
            rows,
            op.primary_key,
            op.guard,
            op.atomics,
            "update",
        )
        .await
    }

    async fn destroy_in(&self, ctx: &Context, op: DestroyOp<'_, R>) -> Result<R, ErrorKind> {
        let mut params = Params::scoped(&self.table, self.schema.as_deref());
        let pk = self.key_param(&mut params, op.primary_key)?;
        let mut write = format!(
            "DELETE FROM {} WHERE {} = {pk}",
            self.table,
            quote_ident(self.primary_key.name)
        );
        push_guard(op.guard, &mut params, &mut write)?;
        write.push_str(" RETURNING ");
        write.push_str(&self.columns);
        let mut lease = lease(ctx, &self.pool).await?;
        let rows = self
            .query_on(&mut lease, &write, &params, Shape::WRITE_ONE)
            .await?
            .map_err(|e| {
                let fk = classify(&e) == Failure::ForeignKeyViolation;
                fk.then(|| crate::foreign_keys::still_referenced::<R>(ctx, self.pool.schema(), &e))
                    .flatten()
                    .unwrap_or_else(|| framework_error(&format!("destroying a {}", R::NAME), &e))
            })?;
        self.written_or_refused(&mut lease, rows, op.primary_key, op.guard, &[], "destroy")
            .await
    }

    async fn get_in(&self, ctx: &Context, key: &R::PrimaryKey) -> Result<Option<R>, ErrorKind> {
        let mut lease = lease(ctx, &self.pool).await?;
        self.get_on(&mut lease, key).await
    }

    async fn get_on(
        &self,
        lease: &mut Lease<'_>,
        key: &R::PrimaryKey,
    ) -> Result<Option<R>, ErrorKind> {
        let mut params = Params::default();
        self.key_param(&mut params, key)?;
        let rows = self
            .query_on(lease, &self.get_sql, &params, Shape::READ_ONE)
            .await?
            .map_err(|e| framework_error(&format!("reading a {}", R::NAME), &e))?;
        rows.first().map(|row| Self::decode(row)).transpose()
    }

    async fn read_in(&self, ctx: &Context, query: &Query<R>) -> Result<Vec<R>, ErrorKind> {
        let mut params = Params::scoped(&self.table, self.schema.as_deref());
        let aggregates: Vec<_> = query.loads.iter().filter_map(|l| l.aggregate()).collect();
        let mut sql = if aggregates.is_empty() {
            format!("SELECT {} FROM {}", self.columns, self.table)
        } else {
            let (selects, joins) =
                crate::aggregate::render_read(&aggregates, &self.table, &mut params)?;
            format!(
                "SELECT {}, {} FROM {}{joins}",
                self.columns,
                selects.join(", "),
                self.table
            )
        };
        if let Some(filter) = &query.filter {
            sql.push_str(" WHERE ");
            render_filter(&filter.to_dyn(), R::ATTRIBUTES, &mut params, &mut sql)?;
        }
        let mut sort = Vec::with_capacity(query.sort.len());
        for (field, order) in &query.sort {
            sort.push((attribute(R::ATTRIBUTES, R::field_name(*field))?, *order));
        }
        if query.aggregate_sort.is_empty() {
            render_order(&sort, self.primary_key, &mut sql);
        } else {
            crate::aggregate::render_order(
                &sort,
                &query.aggregate_sort,
                self.primary_key,
                &self.table,
                &mut params,
                &mut sql,
            )?;
        }
        if let Some(limit) = query.limit {
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let _ = write!(sql, " LIMIT {}", params.push("limit", Value::Int(limit))?);
        }
        if query.offset > 0 {
            let offset = i64::try_from(query.offset).unwrap_or(i64::MAX);
            let _ = write!(
                sql,
                " OFFSET {}",
                params.push("offset", Value::Int(offset))?
            );
        }
        let rows = self
            .query(ctx, &sql, &params, Shape::READ_ALL)
            .await?
            .map_err(|e| framework_error(&format!("reading {} records", R::NAME), &e))?;
        rows.iter()
            .map(|row| {
                let mut record = Self::decode(row)?;
                for (i, aggregate) in aggregates.iter().enumerate() {
                    let Column(value) = row
                        .try_get(R::ATTRIBUTES.len() + i)
                        .map_err(|e| framework_error("reading an aggregate", &e))?;
                    aggregate.set(&mut record, value)?;
                }
                Ok(record)
            })
            .collect()
    }

    /// `SELECT (<aggregate subquery>) FROM unnest($1::<key type>[]) WITH ORDINALITY`: one
    /// statement, one value per key in key order.
    async fn aggregate_in(
        &self,
        ctx: &Context,
        op: &ash_core::aggregate::AggregateOp<'_, R>,
    ) -> Result<Vec<Value>, ErrorKind> {
        let key = attribute(R::ATTRIBUTES, R::field_name(op.key_field))?;
        let mut params = Params::scoped("__ash_k", self.schema.as_deref());
        let keys = Value::List(op.keys.iter().map(R::value_to_dynamic).collect());
        let keys = params.push(key.name, keys)?;
        let filter = op.filter.map(Filter::to_dyn);
        let sort: Vec<_> = op
            .sort
            .iter()
            .map(|(f, o)| (R::field_name(*f), *o))
            .collect();
        let parts = crate::aggregate::Parts {
            info: op.info,
            filter: filter.as_ref(),
            through: &[],
            sort: &sort,
        };
        let mut sql = String::from("SELECT ");
        crate::aggregate::render_scalar(&parts, "__ash_k.k", &mut params, &mut sql)?;
        let _ = write!(
            sql,
            " FROM unnest({keys}::{}[]) WITH ORDINALITY AS __ash_k(k, n) ORDER BY __ash_k.n",
            column_type(key.kind)
        );
        let rows = self
            .query(ctx, &sql, &params, Shape::READ_ALL)
            .await?
            .map_err(|e| framework_error(&format!("aggregating {} records", R::NAME), &e))?;
        rows.iter()
            .map(|row| {
                let Column(value) = row
                    .try_get(0)
                    .map_err(|e| framework_error("reading an aggregate", &e))?;
                Ok(value)
            })
            .collect()
    }

    async fn count_in(&self, ctx: &Context, query: &Query<R>) -> Result<usize, ErrorKind> {
        let mut params = Params::scoped(&self.table, self.schema.as_deref());
        let mut sql = format!("SELECT count(*) FROM {}", self.table);
        if let Some(filter) = &query.filter {
            sql.push_str(" WHERE ");
            render_filter(&filter.to_dyn(), R::ATTRIBUTES, &mut params, &mut sql)?;
        }
        let rows = self
            .query(ctx, &sql, &params, Shape::READ_ONE)
            .await?
            .map_err(|e| framework_error(&format!("counting {} records", R::NAME), &e))?;
        let count: i64 = match rows.first() {
            Some(row) => row
                .try_get(0)
                .map_err(|e| framework_error("reading a count", &e))?,
            None => 0,
        };
        usize::try_from(count).map_err(|_| framework(format!("count {count} out of range")))
    }
}

/// Loads: one statement per relationship level.
impl<R: Resource> PgTable<R> {
    /// `SELECT ... WHERE "post_id" = ANY($1) AND <filter> ORDER BY ...`: one array
    /// parameter whatever the number of keys. A per-key limit or offset is a window,
    /// `row_number() OVER (PARTITION BY "post_id" ORDER BY ...)`, in the same statement.
    async fn load_in(&self, ctx: &Context, op: &LoadOp<'_, R>) -> Result<Vec<R>, ErrorKind> {
        let query = op.query;
        let field = attribute(R::ATTRIBUTES, R::field_name(op.field))?;
        let mut params = Params::scoped(&self.table, self.schema.as_deref());
        let keys = Value::List(op.keys.iter().map(R::value_to_dynamic).collect());
        let keys = params.push(field.name, keys)?;
        let mut filter = String::new();
        push_ident(&mut filter, field.name);
        let _ = write!(filter, " = ANY({keys})");
        if let Some(extra) = &query.filter {
            filter.push_str(" AND ");
            render_filter(&extra.to_dyn(), R::ATTRIBUTES, &mut params, &mut filter)?;
        }
        let mut sort = Vec::with_capacity(query.sort.len());
        for (f, order) in &query.sort {
            sort.push((attribute(R::ATTRIBUTES, R::field_name(*f))?, *order));
        }
        let mut order = String::new();
        render_order(&sort, self.primary_key, &mut order);
        let paged = query.limit.is_some() || query.offset > 0;
        if sort.is_empty() && !paged {
            // No order asked for: the server does not sort (sorting every child of every
            // parent costs more than the load); the caller orders each parent's few
            // children by primary key after grouping them.
            order.clear();
        }
        let sql = if !paged {
            format!(
                "SELECT {} FROM {} WHERE {filter}{order}",
                self.columns, self.table
            )
        } else {
            let offset = i64::try_from(query.offset).unwrap_or(i64::MAX);
            let from = params.push("offset", Value::Int(offset))?;
            let mut window = format!(
                "SELECT {} FROM (SELECT {}, row_number() OVER (PARTITION BY {}{order}) AS __ash_rn FROM {} WHERE {filter}) AS __ash_w WHERE __ash_rn > {from}",
                self.columns,
                self.columns,
                quote_ident(field.name),
                self.table
            );
            if let Some(limit) = query.limit {
                let until = i64::try_from(limit)
                    .unwrap_or(i64::MAX)
                    .saturating_add(offset);
                let until = params.push("limit", Value::Int(until))?;
                let _ = write!(window, " AND __ash_rn <= {until}");
            }
            window.push_str(" ORDER BY __ash_rn");
            window
        };
        let rows = self
            .query(ctx, &sql, &params, Shape::READ_ALL)
            .await?
            .map_err(|e| framework_error(&format!("loading {} records", R::NAME), &e))?;
        rows.iter().map(|row| Self::decode(row)).collect()
    }
}

/// An atomic `attribute + by` as SQL parts: the increment, the bound the stored value must
/// respect (checked like `checked_add`: it must leave room for `by`, else the row does not
/// match and the refusal reports the overflow) and its comparison; `None` when `by` cannot
/// fit the attribute's type at all (the write can never match).
fn checked_add<R: Resource>(
    atomic: &Atomic<R>,
) -> Result<Option<(Value, Value, &'static str)>, ErrorKind> {
    let name = R::field_name(atomic.field);
    let info = attribute(R::ATTRIBUTES, name)?;
    let Some((lo, hi)) = integer_range(info.kind) else {
        return Err(framework(format!(
            "attribute `{name}` of {} does not support atomic writes",
            R::NAME
        )));
    };
    match atomic.expr {
        AtomicExpr::Add(by) => {
            let by = i128::from(by);
            let (bound, cmp) = if by >= 0 {
                (hi - by, "<=")
            } else {
                (lo - by, ">=")
            };
            let fits = lo <= by && by <= hi && lo <= bound && bound <= hi;
            Ok(match (fits, int_value(by), int_value(bound)) {
                (true, Some(by), Some(bound)) => Some((by, bound, cmp)),
                _ => None,
            })
        }
    }
}

impl<R: Resource> DataLayer<R> for PgTable<R> {
    const NATIVE_RELATED_FILTERS: bool = true;
    const NATIVE_AGGREGATES: bool = true;

    fn aggregate(
        &self,
        ctx: &Context,
        op: &ash_core::aggregate::AggregateOp<'_, R>,
    ) -> impl Future<Output = Result<Vec<Value>, ErrorKind>> + Send {
        self.pool.in_runtime(self.aggregate_in(ctx, op))
    }

    fn load(
        &self,
        ctx: &Context,
        op: &LoadOp<'_, R>,
    ) -> impl Future<Output = Result<Vec<R>, ErrorKind>> + Send {
        self.pool.in_runtime(self.load_in(ctx, op))
    }

    fn create(
        &self,
        ctx: &Context,
        record: R,
    ) -> impl Future<Output = Result<R, ErrorKind>> + Send {
        self.pool.in_runtime(self.create_in(ctx, record))
    }

    /// One multi-row `INSERT ... RETURNING` (per 65535 parameters): all or none.
    fn create_many(
        &self,
        ctx: &Context,
        records: Vec<R>,
    ) -> impl Future<Output = Result<Vec<R>, (Option<usize>, ErrorKind)>> + Send {
        let done = self.pool.in_runtime(self.create_many_in(ctx, records));
        async move { done.await.map_err(|ManyError(index, error)| (index, error)) }
    }

    fn update(
        &self,
        ctx: &Context,
        op: UpdateOp<'_, R>,
    ) -> impl Future<Output = Result<R, ErrorKind>> + Send {
        self.pool.in_runtime(self.update_in(ctx, op))
    }

    fn destroy(
        &self,
        ctx: &Context,
        op: DestroyOp<'_, R>,
    ) -> impl Future<Output = Result<R, ErrorKind>> + Send {
        self.pool.in_runtime(self.destroy_in(ctx, op))
    }

    /// One `INSERT ... ON CONFLICT ... DO UPDATE ... RETURNING`.
    fn upsert(
        &self,
        ctx: &Context,
        op: UpsertOp<'_, R>,
    ) -> impl Future<Output = Result<R, ErrorKind>> + Send {
        self.pool.in_runtime(self.upsert_in(ctx, op))
    }

    fn get(
        &self,
        ctx: &Context,
        key: &R::PrimaryKey,
    ) -> impl Future<Output = Result<Option<R>, ErrorKind>> + Send {
        self.pool.in_runtime(self.get_in(ctx, key))
    }

    fn read(
        &self,
        ctx: &Context,
        query: &Query<R>,
    ) -> impl Future<Output = Result<Vec<R>, ErrorKind>> + Send {
        self.pool.in_runtime(self.read_in(ctx, query))
    }

    /// One `SELECT count(*) ... WHERE <filter>`; sort, limit and offset are ignored.
    fn count(
        &self,
        ctx: &Context,
        query: &Query<R>,
    ) -> impl Future<Output = Result<usize, ErrorKind>> + Send {
        self.pool.in_runtime(self.count_in(ctx, query))
    }

    /// A transaction on one connection of the pool, or a savepoint when `ctx` already
    /// holds one of this pool's; see [`PgTransaction`](crate::PgTransaction).
    fn begin(&self, ctx: &Context) -> impl Future<Output = Result<Transaction, ErrorKind>> + Send {
        self.pool.in_runtime(begin(ctx, &self.pool))
    }
}

#[cfg(test)]
mod tests {
    use super::snake_case;

    #[test]
    fn default_table_names_are_snake_case() {
        assert_eq!(snake_case("Address"), "address");
        assert_eq!(snake_case("BlogPost"), "blog_post");
        assert_eq!(snake_case("HTTPRequest"), "http_request");
        assert_eq!(snake_case("Item2Go"), "item2_go");
    }
}
