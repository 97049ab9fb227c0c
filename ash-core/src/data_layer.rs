//! The data-layer contract.
//!
//! An action hands its data layer a *description* of the write: the primary key, a
//! [`Guard`] the stored record must match (the optimistic lock's `version == 1`, typed, and
//! the filters of changes and policies), the attribute writes, and [`Atomic`] expressions
//! evaluated against the stored record (`version + 1`). A data layer applies the whole description as one atomic step: the ETS
//! layer under one entry guard, a SQL layer as one `UPDATE ... WHERE ... RETURNING`.
//! Nothing that only an in-memory store could run (such as a closure) crosses this line.

use crate::context::Context;
use crate::error::{Error, ErrorKind};
use crate::filter::Filter;
use crate::query::Query;
use crate::resource::Resource;
use crate::transaction::Transaction;
use smallvec::SmallVec;
use std::future::Future;

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

/// What the stored record must match for an update or destroy to happen, or the write
/// fails with `StaleRecord` and writes nothing. Three slots, each optional, all required:
/// the optimistic lock's `attribute == value` (typed: checking it builds no [`Filter`]), the
/// filters changes added ([`Changeset::add_filter`](crate::changeset::Changeset::add_filter))
/// and the filter the actor's policies authorize the write under. A data layer checks them
/// in the same atomic step as the write (ETS: under the record's entry; SQL: in the
/// `UPDATE`'s `WHERE`).
#[derive(Debug)]
pub struct Guard<'a, R: Resource> {
    /// The optimistic lock's `version == n`.
    pub lock: Option<Lock<'a, R>>,
    /// The filters changes added.
    pub filter: Option<&'a Filter<R>>,
    /// The policies' filter checks.
    pub policy: Option<&'a Filter<R>>,
}

/// The optimistic lock's precondition, typed: the stored record's `field` must equal the
/// caller's copy's (`version == n`, `n` read from `record`). Building it copies nothing.
#[derive(Debug)]
pub struct Lock<'a, R: Resource> {
    /// The locked attribute.
    pub field: R::Field,
    /// The caller's copy of the record, holding the expected value.
    pub record: &'a R,
}

impl<R: Resource> Clone for Lock<'_, R> {
    #[inline(always)]
    fn clone(&self) -> Self {
        *self
    }
}

impl<R: Resource> Copy for Lock<'_, R> {}

impl<R: Resource> Lock<'_, R> {
    /// The value the stored record must hold.
    #[inline]
    pub fn value(&self) -> R::Value {
        self.record.get(self.field)
    }

    /// Whether `stored` holds it.
    #[inline(always)]
    pub fn holds(&self, stored: &R) -> bool {
        stored.equals(&self.record.get(self.field))
    }
}

impl<R: Resource> Clone for Guard<'_, R> {
    #[inline(always)]
    fn clone(&self) -> Self {
        *self
    }
}

impl<R: Resource> Copy for Guard<'_, R> {}

impl<'a, R: Resource> Guard<'a, R> {
    /// No precondition.
    pub const NONE: Self = Guard {
        lock: None,
        filter: None,
        policy: None,
    };

    /// A guard of one filter.
    #[inline]
    pub fn filter(filter: Option<&'a Filter<R>>) -> Self {
        Guard {
            filter,
            ..Self::NONE
        }
    }

    /// Whether there is nothing to check.
    #[inline(always)]
    pub fn is_empty(&self) -> bool {
        self.lock.is_none() && self.filter.is_none() && self.policy.is_none()
    }

    /// Whether the stored record matches every slot.
    // Inlined: the lock is one typed comparison in the write's hot path.
    #[inline(always)]
    pub fn matches(&self, stored: &R) -> bool {
        if let Some(lock) = self.lock {
            if !lock.holds(stored) {
                return false;
            }
        }
        if let Some(filter) = self.filter {
            if !filter.matches(stored) {
                return false;
            }
        }
        match self.policy {
            Some(policy) => policy.matches(stored),
            None => true,
        }
    }

    /// The slots as one filter (lock, then changes' filters, then policies'), for errors
    /// and for data layers that render one condition; `None` when empty.
    #[cold]
    pub fn to_filter(&self) -> Option<Filter<R>> {
        let mut all: Vec<Filter<R>> = Vec::new();
        if let Some(lock) = self.lock {
            all.push(Filter::eq(lock.value()));
        }
        all.extend(self.filter.cloned());
        all.extend(self.policy.cloned());
        match all.len() {
            0 => None,
            1 => all.pop(),
            _ => Some(Filter::And(all)),
        }
    }
}

/// An update, described. It borrows from the running action's changeset, so handing it to
/// the data layer copies nothing.
#[derive(Debug)]
pub struct UpdateOp<'a, R: Resource> {
    /// The record to update.
    pub primary_key: &'a R::PrimaryKey,
    /// The stored record must match this, or the update fails with `StaleRecord`.
    pub guard: Guard<'a, R>,
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
    pub guard: Guard<'a, R>,
}

/// An upsert, described: a create that, when its conflict target's value is taken,
/// updates the record holding it instead, in one atomic step.
#[derive(Debug)]
pub struct UpsertOp<'a, R: Resource> {
    /// The record to create.
    pub record: R,
    /// The conflict target: an identity (an index into [`Resource::IDENTITIES`]), or
    /// `None` for the primary key.
    pub identity: Option<usize>,
    /// On conflict, the attributes copied from `record` onto the stored record.
    pub fields: &'a [R::Field],
    /// On conflict, the stored record must match this (the `upsert_condition`, the
    /// optimistic lock's `version == n`), or the upsert fails with `StaleRecord`
    /// (operation `"upsert"`) and nothing is written.
    pub filter: Option<&'a Filter<R>>,
    /// On conflict, writes computed from the stored record, after `fields` (the lock's
    /// `version + 1`). Not applied when the record is created.
    pub atomics: &'a [Atomic<R>],
}

/// A store of records of one resource.
///
/// Every method returns a `Send` future and receives the call's [`Context`]: its open
/// transaction (a data layer uses it when it is one of its own), its tenant and actor.
/// A data layer that never waits (ETS) returns futures that are ready at once.
///
/// Contract, checked by the conformance tests:
/// - `create` refuses a primary key that is already stored (`AlreadyExists`), writing
///   nothing;
/// - `update` and `destroy` compare and write in one atomic step; a stored record that
///   does not match the guard gives `StaleRecord` with the guard as one filter
///   ([`Guard::to_filter`]) carrying that stored record
///   ([`StaleRecord::with_stored`](crate::error::StaleRecord::with_stored)), a missing
///   record gives `StaleRecord` with the primary key as filter; either way nothing is
///   written;
/// - atomics are evaluated against the stored record; an error (overflow) writes nothing;
/// - `get` reads by primary key without a scan;
/// - every identity of [`Resource::IDENTITIES`] is unique: a create, update or upsert
///   that would give a second record an identity's value fails with `IdentityTaken`,
///   atomically with the write (N racing creates of one value: one success), writing
///   nothing; a destroy frees the value; `get_by_identity` is a lookup, not a scan;
/// - `upsert` creates the record, or on conflict (the conflict target's value taken)
///   checks the filter and writes the fields and atomics onto the stored record, in one
///   atomic step; a stored record not matching the filter gives `StaleRecord` with the
///   filter and operation `"upsert"`, carrying the stored record.
pub trait DataLayer<R: Resource>: Send + Sync + 'static {
    /// Whether every `immediate_*` operation completes at once (ETS): the pipeline then
    /// runs an action to its end when it is called, and its future is ready at once.
    const IMMEDIATE: bool = false;
    /// Whether [`Filter::Related`] (`exists` through a relationship) is evaluated by the
    /// layer itself (a SQL `EXISTS`); otherwise the pipeline resolves it first into a key
    /// filter by reading the related layer.
    const NATIVE_RELATED_FILTERS: bool = false;
    /// Whether [`read`](DataLayer::read) computes the aggregates among the query's loads
    /// ([`Load::aggregate`](crate::relationship::Load::aggregate)) itself, setting them on
    /// the records it returns (SQL: inside the one statement); otherwise the pipeline
    /// computes them after the read with [`aggregate`](DataLayer::aggregate) on the
    /// related layer.
    const NATIVE_AGGREGATES: bool = false;

    /// Answers an aggregate over the records of this resource related to some parents
    /// ([`AggregateOp`](crate::aggregate::AggregateOp)): one value per key, in key order;
    /// one operation for all the parents. The default loads the related records and
    /// aggregates them in memory.
    fn aggregate(
        &self,
        ctx: &Context,
        op: &crate::aggregate::AggregateOp<'_, R>,
    ) -> impl Future<Output = Result<Vec<crate::value::Value>, ErrorKind>> + Send {
        crate::aggregate::by_loading(self, ctx, op)
    }

    /// Answers a relationship load ([`LoadOp`](crate::relationship::LoadOp)): the records
    /// whose `op.field` is one of `op.keys`, matching the query's filter, in its sort
    /// order, with its limit and offset applied per key. One operation for all the
    /// parents. The default reads `field in keys` and pages per key in memory.
    fn load(
        &self,
        ctx: &Context,
        op: &crate::relationship::LoadOp<'_, R>,
    ) -> impl Future<Output = Result<Vec<R>, ErrorKind>> + Send {
        let query = op.as_query();
        async move { Ok(op.page_per_key(self.read(ctx, &query).await?)) }
    }

    /// Prepares the layer, once, for the loads the domain's relationships make of `R`,
    /// before the domain shares it: `relationships` holds the relationships of every
    /// resource the domain lists. The default does nothing; ETS adds an index by each
    /// attribute of `R` a load matches on (a has_many's `post_id` even when `R` declares
    /// no belongs_to), so no load scans the table.
    fn prepare_loads(
        &mut self,
        relationships: &[&'static [crate::relationship::RelationshipInfo]],
    ) {
        let _ = relationships;
    }

    /// Stores a new record; returns it as stored.
    fn create(&self, ctx: &Context, record: R)
        -> impl Future<Output = Result<R, ErrorKind>> + Send;
    /// Stores several new records (the created children of a `manage_relationship`);
    /// returns them as stored, in order. On an error, `Err((index, error))` names the
    /// record refused when the layer knows it. The default creates them one by one, in
    /// order, so on a layer without transactions the records before the refused one stay
    /// stored; a SQL layer writes them in one statement, all or none.
    fn create_many(
        &self,
        ctx: &Context,
        records: Vec<R>,
    ) -> impl Future<Output = Result<Vec<R>, (Option<usize>, ErrorKind)>> + Send {
        async move {
            let mut stored = Vec::with_capacity(records.len());
            for (index, record) in records.into_iter().enumerate() {
                let result = match self.immediate_create(ctx, record) {
                    Ok(done) => done,
                    Err(record) => self.create(ctx, record).await,
                };
                stored.push(result.map_err(|e| (Some(index), e))?);
            }
            Ok(stored)
        }
    }

    /// Applies an update; returns the record as stored afterwards.
    fn update(
        &self,
        ctx: &Context,
        op: UpdateOp<'_, R>,
    ) -> impl Future<Output = Result<R, ErrorKind>> + Send;
    /// Applies a destroy; returns the record as it was stored.
    fn destroy(
        &self,
        ctx: &Context,
        op: DestroyOp<'_, R>,
    ) -> impl Future<Output = Result<R, ErrorKind>> + Send;
    /// The record with this primary key, if stored.
    fn get(
        &self,
        ctx: &Context,
        key: &R::PrimaryKey,
    ) -> impl Future<Output = Result<Option<R>, ErrorKind>> + Send;
    /// The records matching the query, sorted and paged.
    fn read(
        &self,
        ctx: &Context,
        query: &Query<R>,
    ) -> impl Future<Output = Result<Vec<R>, ErrorKind>> + Send;

    /// Creates a record, or updates the one holding its conflict target's value; see
    /// [`UpsertOp`]. Returns the record as stored. The default refuses: "Upsert is not
    /// supported by the data layer" (as Ash says).
    fn upsert(
        &self,
        ctx: &Context,
        op: UpsertOp<'_, R>,
    ) -> impl Future<Output = Result<R, ErrorKind>> + Send {
        let _ = (ctx, op);
        std::future::ready(Err(ErrorKind::Framework(crate::error::FrameworkError {
            message: format!(
                "Upsert is not supported by the data layer for resource {}",
                R::NAME
            ),
        })))
    }

    /// The record holding `key`, a value of one of its identities, if any. The default
    /// reads with [`Resource::identity_filter`]; data layers override it with a lookup.
    /// Several records can hold a key only when it is not indexed (a nil field of an
    /// identity with `nils_distinct`): `MultipleResults` then.
    fn get_by_identity(
        &self,
        ctx: &Context,
        key: &R::IdentityKey,
    ) -> impl Future<Output = Result<Option<R>, ErrorKind>> + Send {
        let query = Query::new().filter(R::identity_filter(key));
        async move { one_of(self.read(ctx, &query).await?) }
    }

    /// How many records match the query's filter (sort, limit and offset ignored). The
    /// default reads them; data layers override it with a cheaper count.
    fn count(
        &self,
        ctx: &Context,
        query: &Query<R>,
    ) -> impl Future<Output = Result<usize, ErrorKind>> + Send {
        let unpaged = Query {
            filter: query.filter.clone(),
            ..Query::default()
        };
        async move { Ok(self.read(ctx, &unpaged).await?.len()) }
    }

    /// A create done at once, for a data layer that never waits (ETS), or the record back
    /// for [`DataLayer::create`]. With it the pipeline's hot path completes in its first
    /// poll without awaiting; the default hands every call to the future.
    #[inline(always)]
    fn immediate_create(&self, ctx: &Context, record: R) -> Result<Result<R, ErrorKind>, R> {
        let _ = ctx;
        Err(record)
    }

    /// An update done at once, or the description back for [`DataLayer::update`]; see
    /// [`DataLayer::immediate_create`].
    #[inline(always)]
    fn immediate_update<'o>(
        &self,
        ctx: &Context,
        op: UpdateOp<'o, R>,
    ) -> Result<Result<R, ErrorKind>, UpdateOp<'o, R>> {
        let _ = ctx;
        Err(op)
    }

    /// A destroy done at once, or the description back for [`DataLayer::destroy`]; see
    /// [`DataLayer::immediate_create`].
    #[inline(always)]
    fn immediate_destroy<'o>(
        &self,
        ctx: &Context,
        op: DestroyOp<'o, R>,
    ) -> Result<Result<R, ErrorKind>, DestroyOp<'o, R>> {
        let _ = ctx;
        Err(op)
    }

    /// An upsert done at once, or the description back for [`DataLayer::upsert`]; see
    /// [`DataLayer::immediate_create`].
    #[inline(always)]
    fn immediate_upsert<'o>(
        &self,
        ctx: &Context,
        op: UpsertOp<'o, R>,
    ) -> Result<Result<R, ErrorKind>, UpsertOp<'o, R>> {
        let _ = ctx;
        Err(op)
    }

    /// Writes `value` into the stored record `key` at once, with no filter, check or
    /// action: a referential action's nilify (`on_delete = nilify`) on a data layer without
    /// foreign keys (see [`crate::reference`]). A missing record is `StaleRecord`. `None`
    /// when the layer does not do it (the default; PostgreSQL's constraints nilify).
    #[inline(always)]
    fn immediate_write_value(
        &self,
        ctx: &Context,
        key: &R::PrimaryKey,
        value: R::Value,
    ) -> Option<Result<(), ErrorKind>> {
        let _ = (ctx, key, value);
        None
    }

    /// A lookup by identity done at once, or `None` for [`DataLayer::get_by_identity`].
    #[inline(always)]
    fn immediate_get_by_identity(
        &self,
        ctx: &Context,
        key: &R::IdentityKey,
    ) -> Option<Result<Option<R>, ErrorKind>> {
        let _ = (ctx, key);
        None
    }

    /// A get done at once, or `None` for [`DataLayer::get`]; see
    /// [`DataLayer::immediate_create`].
    #[inline(always)]
    fn immediate_get(
        &self,
        ctx: &Context,
        key: &R::PrimaryKey,
    ) -> Option<Result<Option<R>, ErrorKind>> {
        let _ = (ctx, key);
        None
    }

    /// A read done at once, or `None` for [`DataLayer::read`].
    #[inline(always)]
    fn immediate_read(&self, ctx: &Context, query: &Query<R>) -> Option<Result<Vec<R>, ErrorKind>> {
        let _ = (ctx, query);
        None
    }

    /// A count done at once, or `None` for [`DataLayer::count`].
    #[inline(always)]
    fn immediate_count(&self, ctx: &Context, query: &Query<R>) -> Option<Result<usize, ErrorKind>> {
        let _ = (ctx, query);
        None
    }

    /// A counter of related records that answers at once, for a bare `count` or `exists`
    /// aggregate (no field, filter or `uniq`) matching parents on attribute `field`: given
    /// a key, how many records hold it in `field` (nil and unindexable keys: 0). `None`
    /// when the layer has none for `field` (the default): the pipeline then uses
    /// [`aggregate`](DataLayer::aggregate). With one, a load writes each parent's count as
    /// it goes, with no list of keys or values in between. The answer for one `field` must
    /// not depend on the keys (it is asked once per load).
    #[inline(always)]
    fn immediate_counter(
        &self,
        ctx: &Context,
        field: R::Field,
    ) -> Option<impl Fn(&R::Value) -> usize + '_> {
        let _ = (ctx, field);
        None::<fn(&R::Value) -> usize>
    }

    /// Opens a transaction (a savepoint when `ctx` already holds one of this data
    /// layer's). The pipeline opens one around an action with hooks, so that the hooks and
    /// the write share it. The default, for data layers without transactions (ETS), gives
    /// [`Transaction::none`]: each write is atomic on its own, and a write made before an
    /// error stays.
    fn begin(&self, ctx: &Context) -> impl Future<Output = Result<Transaction, ErrorKind>> + Send {
        let _ = ctx;
        std::future::ready(Ok(Transaction::none()))
    }
}

/// The one record of `records`, `MultipleResults` if there are more.
pub(crate) fn one_of<R: Resource>(mut records: Vec<R>) -> Result<Option<R>, ErrorKind> {
    match records.len() {
        0 => Ok(None),
        1 => Ok(records.pop()),
        count => Err(ErrorKind::MultipleResults(crate::error::MultipleResults {
            resource: R::NAME,
            count,
        })),
    }
}

/// Building a data layer from a configuration: `Domain::connect(&config)` builds every
/// resource's layer this way. The ETS layer accepts any configuration and ignores it.
///
/// It is async because a data layer may check its storage on connect (PostgreSQL checks or
/// creates its table).
pub trait Connect<C: ?Sized + Sync>: Sized + Send {
    /// Builds the layer.
    fn connect(config: &C) -> impl Future<Output = Result<Self, Error>> + Send;
}

/// A kind of data layer, as named in `#[resource(data_layer = ...)]`: it picks the
/// concrete store for each resource.
pub trait DataLayerKind {
    /// The store for resource `R`.
    type Layer<R: Resource>: DataLayer<R>;
}
