//! The data-layer contract.
//!
//! An action hands its data layer a *description* of the write: the primary key, a
//! [`Filter`] the stored record must match (the optimistic lock's `version == 1`), the
//! attribute writes, and [`Atomic`] expressions evaluated against the stored record
//! (`version + 1`). A data layer applies the whole description as one atomic step: the ETS
//! layer under one entry guard, a SQL layer as one `UPDATE ... WHERE ... RETURNING`.
//! Nothing that only an in-memory store could run (such as a closure) crosses this line.

use crate::error::{Error, ErrorKind};
use crate::filter::Filter;
use crate::query::Query;
use crate::resource::Resource;
use smallvec::SmallVec;

/// An atomic expression: a write computed from the *stored* value, not the caller's copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AtomicExpr {
    /// `attribute + n`, with overflow checked.
    Add(i64),
}

/// An atomic write of one attribute.
#[derive(Debug, Clone, PartialEq)]
pub struct Atomic<R: Resource> {
    /// The attribute written.
    pub field: R::Field,
    /// How its new value is computed from the stored one.
    pub expr: AtomicExpr,
}

/// The atomic writes of one action; most actions have at most two, kept inline.
pub type Atomics<R> = SmallVec<[Atomic<R>; 2]>;

/// An update, described. It borrows from the running action's changeset, so handing it to
/// the data layer copies nothing.
#[derive(Debug)]
pub struct UpdateOp<'a, R: Resource> {
    /// The record to update.
    pub primary_key: &'a R::PrimaryKey,
    /// The stored record must match this, or the update fails with `StaleRecord`.
    pub filter: Option<&'a Filter<R>>,
    /// Attribute writes. A data layer may move the values out
    /// ([`Resource::apply_changes`]) once it has decided to write.
    pub changes: &'a mut R::Changes,
    /// Writes computed from the stored record, after `changes`.
    pub atomics: &'a [Atomic<R>],
}

/// A destroy, described.
#[derive(Debug)]
pub struct DestroyOp<'a, R: Resource> {
    /// The record to destroy.
    pub primary_key: &'a R::PrimaryKey,
    /// The stored record must match this, or the destroy fails with `StaleRecord`.
    pub filter: Option<&'a Filter<R>>,
}

/// A store of records of one resource.
///
/// Contract, checked by the conformance tests:
/// - `create` refuses a primary key that is already stored (`AlreadyExists`), writing
///   nothing;
/// - `update` and `destroy` compare and write in one atomic step; a stored record that
///   does not match the filter gives `StaleRecord` with that filter, a missing record gives
///   `StaleRecord` with the primary key as filter; either way nothing is written;
/// - atomics are evaluated against the stored record; an error (overflow) writes nothing;
/// - `get` reads by primary key without a scan.
pub trait DataLayer<R: Resource>: Send + Sync + 'static {
    /// Stores a new record; returns it as stored.
    fn create(&self, record: R) -> Result<R, ErrorKind>;
    /// Applies an update; returns the record as stored afterwards.
    fn update(&self, op: UpdateOp<'_, R>) -> Result<R, ErrorKind>;
    /// Applies a destroy; returns the record as it was stored.
    fn destroy(&self, op: DestroyOp<'_, R>) -> Result<R, ErrorKind>;
    /// The record with this primary key, if stored.
    fn get(&self, key: &R::PrimaryKey) -> Result<Option<R>, ErrorKind>;
    /// The records matching the query, sorted and paged.
    fn read(&self, query: &Query<R>) -> Result<Vec<R>, ErrorKind>;

    /// How many records match the query's filter (sort, limit and offset ignored). The
    /// default reads them; data layers override it with a cheaper count.
    fn count(&self, query: &Query<R>) -> Result<usize, ErrorKind> {
        let unpaged = Query {
            filter: query.filter.clone(),
            ..Query::default()
        };
        Ok(self.read(&unpaged)?.len())
    }

    /// Runs `f` (an action's hooks and its write) in a transaction where the data layer
    /// has them: an error from `f` undoes the writes made inside it. The default, for data
    /// layers without transactions (ETS), just runs `f`: each write is atomic on its own,
    /// and a write made before an error stays.
    fn transaction<T, F>(&self, f: F) -> Result<T, Error>
    where
        F: FnOnce() -> Result<T, Error>,
    {
        f()
    }
}

/// Building a data layer from a configuration: `Domain::connect(&config)` builds every
/// resource's layer this way. The ETS layer accepts any configuration and ignores it.
pub trait Connect<C: ?Sized>: Sized {
    /// Builds the layer.
    fn connect(config: &C) -> Result<Self, Error>;
}

/// A kind of data layer, as named in `#[resource(data_layer = ...)]`: it picks the
/// concrete store for each resource.
pub trait DataLayerKind {
    /// The store for resource `R`.
    type Layer<R: Resource>: DataLayer<R>;
}
