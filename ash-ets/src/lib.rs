//! The in-memory data layer of `ash-rs`: one concurrent [`DashMap`] per resource per
//! domain value, the counterpart of Ash's `Ash.DataLayer.Ets`.
//!
//! Unlike Ash's ETS layer, which reads, checks and writes in separate calls, every update
//! and destroy here compares and writes under **one entry guard**: N writers holding the
//! same version give exactly one success and N-1 `StaleRecord`s, and no write is lost. A
//! create refuses a primary key that is already stored instead of overwriting it.
//!
//! There are no transactions: a write is one atomic step, nothing more.
#![warn(missing_docs)]

use ash_core::context::Context;
use ash_core::data_layer::{Connect, DataLayer, DataLayerKind, DestroyOp, UpdateOp};
use ash_core::error::{AlreadyExists, Error, ErrorKind, StaleRecord};
use ash_core::filter::Filter;
use ash_core::query::Query;
use ash_core::resource::Resource;
use dashmap::mapref::entry::Entry;
use dashmap::DashMap;
use smallvec_like::Values;
use std::future::{ready, Future, Ready};

/// The ETS data layer, as named in `#[resource(data_layer = Ets)]`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ets;

impl DataLayerKind for Ets {
    type Layer<R: Resource> = EtsTable<R>;
}

/// The table of one resource.
pub struct EtsTable<R: Resource> {
    rows: DashMap<R::PrimaryKey, R>,
}

impl<R: Resource> Default for EtsTable<R> {
    fn default() -> Self {
        EtsTable {
            rows: DashMap::new(),
        }
    }
}

impl<R: Resource, C: ?Sized + Sync> Connect<C> for EtsTable<R> {
    /// An empty table; the configuration is for other data layers.
    fn connect(_config: &C) -> impl Future<Output = Result<Self, Error>> + Send {
        ready(Ok(Self::default()))
    }
}

impl<R: Resource> std::fmt::Debug for EtsTable<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EtsTable")
            .field("resource", &R::NAME)
            .field("len", &self.rows.len())
            .finish()
    }
}

impl<R: Resource> EtsTable<R> {
    /// How many records are stored.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether no record is stored.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Removes every record.
    pub fn clear(&self) {
        self.rows.clear()
    }
}

fn stale<R: Resource>(filter: &Filter<R>, operation: &'static str) -> ErrorKind {
    ErrorKind::StaleRecord(StaleRecord {
        resource: R::NAME,
        filter: filter.to_dyn(),
        operation,
    })
}

fn missing<R: Resource>(key: &R::PrimaryKey, operation: &'static str) -> ErrorKind {
    stale(&Filter::<R>::primary_key(key), operation)
}

/// The operations, done at once: the futures of the [`DataLayer`] impl are ready when made.
impl<R: Resource> EtsTable<R> {
    #[inline]
    fn create_now(&self, record: R) -> Result<R, ErrorKind> {
        match self.rows.entry(record.primary_key().clone()) {
            Entry::Occupied(_) => Err(ErrorKind::AlreadyExists(AlreadyExists {
                resource: R::NAME,
                filter: Filter::<R>::primary_key(record.primary_key()).to_dyn(),
            })),
            Entry::Vacant(slot) => {
                slot.insert(record.clone());
                Ok(record)
            }
        }
    }

    #[inline]
    fn update_now(&self, op: UpdateOp<'_, R>) -> Result<R, ErrorKind> {
        // The compare and the write happen under this one guard: nothing can interleave.
        let Some(mut stored) = self.rows.get_mut(op.primary_key) else {
            return Err(missing::<R>(op.primary_key, "update"));
        };
        if let Some(filter) = op.filter {
            if !filter.matches(&stored) {
                // The error is built after the entry is released: under contention, other
                // writers are waiting for it.
                drop(stored);
                return Err(stale(filter, "update"));
            }
        }
        // Evaluate every atomic against the stored record before writing anything, so an
        // overflow leaves the record untouched. One atomic (the lock's `version + 1`) is the
        // common case and needs no buffer.
        match op.atomics {
            [atomic] => {
                let value = stored.eval_atomic(atomic)?;
                stored.apply_changes(op.changes);
                stored.set(value);
            }
            atomics => {
                let mut computed = Values::<R>::new();
                for atomic in atomics {
                    computed.push(stored.eval_atomic(atomic)?);
                }
                stored.apply_changes(op.changes);
                for value in computed {
                    stored.set(value);
                }
            }
        }
        Ok(stored.clone())
    }

    #[inline]
    fn destroy_now(&self, op: DestroyOp<'_, R>) -> Result<R, ErrorKind> {
        let filter = op.filter;
        let removed = self.rows.remove_if(op.primary_key, |_, stored| {
            filter.is_none_or(|f| f.matches(stored))
        });
        match removed {
            Some((_, record)) => Ok(record),
            None => match (filter, self.rows.contains_key(op.primary_key)) {
                // The record is there but did not match: report the lock's filter. (Between
                // the two calls it may have gone; reporting the filter is still true.)
                (Some(filter), true) => Err(stale(filter, "destroy")),
                _ => Err(missing::<R>(op.primary_key, "destroy")),
            },
        }
    }

    // Inlined: returning the record through the layers of `Result`/`Option` otherwise
    // costs store-forwarding stalls (a 72-byte record copied between differently aligned
    // wrappers).
    #[inline(always)]
    fn get_now(&self, key: &R::PrimaryKey) -> Option<R> {
        self.rows.get(key).map(|r| r.value().clone())
    }

    fn count_now(&self, query: &Query<R>) -> usize {
        let mut count = 0;
        for entry in self.rows.iter() {
            if query.matches(entry.value()) {
                count += 1;
            }
        }
        count
    }

    fn read_now(&self, query: &Query<R>) -> Vec<R> {
        if let Some(key) = query.filter.as_ref().and_then(Filter::as_primary_key) {
            let one: Vec<R> = self.get_now(key).into_iter().collect();
            return query.finish_in_memory(one);
        }
        // A plain loop: the filter is evaluated inline, with no call per record.
        let mut matching = Vec::new();
        for entry in self.rows.iter() {
            if query.matches(entry.value()) {
                matching.push(entry.value().clone());
            }
        }
        query.finish_in_memory(matching)
    }
}

/// Every future is ready when returned: an ETS call never suspends, so it costs an
/// `.await` nothing and [`ash_core::future::block_on`] runs it without a runtime. The
/// context is not needed: ETS has no transactions and no tenants yet.
// The `Ready` return types are the promise, made public on purpose.
#[allow(refining_impl_trait)]
impl<R: Resource> DataLayer<R> for EtsTable<R> {
    const IMMEDIATE: bool = true;

    #[inline]
    fn create(&self, _ctx: &Context, record: R) -> Ready<Result<R, ErrorKind>> {
        ready(self.create_now(record))
    }

    #[inline]
    fn update(&self, _ctx: &Context, op: UpdateOp<'_, R>) -> Ready<Result<R, ErrorKind>> {
        ready(self.update_now(op))
    }

    #[inline]
    fn destroy(&self, _ctx: &Context, op: DestroyOp<'_, R>) -> Ready<Result<R, ErrorKind>> {
        ready(self.destroy_now(op))
    }

    #[inline(always)]
    fn get(&self, _ctx: &Context, key: &R::PrimaryKey) -> Ready<Result<Option<R>, ErrorKind>> {
        ready(Ok(self.get_now(key)))
    }

    fn count(&self, _ctx: &Context, query: &Query<R>) -> Ready<Result<usize, ErrorKind>> {
        ready(Ok(self.count_now(query)))
    }

    fn read(&self, _ctx: &Context, query: &Query<R>) -> Ready<Result<Vec<R>, ErrorKind>> {
        ready(Ok(self.read_now(query)))
    }

    #[inline(always)]
    fn immediate_create(&self, _ctx: &Context, record: R) -> Result<Result<R, ErrorKind>, R> {
        Ok(self.create_now(record))
    }

    #[inline(always)]
    fn immediate_update<'o>(
        &self,
        _ctx: &Context,
        op: UpdateOp<'o, R>,
    ) -> Result<Result<R, ErrorKind>, UpdateOp<'o, R>> {
        Ok(self.update_now(op))
    }

    #[inline(always)]
    fn immediate_destroy<'o>(
        &self,
        _ctx: &Context,
        op: DestroyOp<'o, R>,
    ) -> Result<Result<R, ErrorKind>, DestroyOp<'o, R>> {
        Ok(self.destroy_now(op))
    }

    #[inline(always)]
    fn immediate_get(
        &self,
        _ctx: &Context,
        key: &R::PrimaryKey,
    ) -> Option<Result<Option<R>, ErrorKind>> {
        Some(Ok(self.get_now(key)))
    }

    #[inline(always)]
    fn immediate_read(
        &self,
        _ctx: &Context,
        query: &Query<R>,
    ) -> Option<Result<Vec<R>, ErrorKind>> {
        Some(Ok(self.read_now(query)))
    }

    #[inline(always)]
    fn immediate_count(
        &self,
        _ctx: &Context,
        query: &Query<R>,
    ) -> Option<Result<usize, ErrorKind>> {
        Some(Ok(self.count_now(query)))
    }
}

mod smallvec_like {
    /// Computed atomic values: almost always one, kept inline.
    pub type Values<R> =
        ash_core::__private::smallvec::SmallVec<[<R as ash_core::resource::Resource>::Value; 2]>;
}
