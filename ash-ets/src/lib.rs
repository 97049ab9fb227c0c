//! The in-memory data layer of `ash-rs`: one concurrent [`DashMap`] per resource per
//! domain value, the counterpart of Ash's `Ash.DataLayer.Ets`.
//!
//! Unlike Ash's ETS layer, which reads, checks and writes in separate calls, every update
//! and destroy here compares and writes under **one entry guard**: N writers holding the
//! same version give exactly one success and N-1 `StaleRecord`s, and no write is lost. A
//! create refuses a primary key that is already stored instead of overwriting it.
//!
//! Identities are unique indexes: one `DashMap` per identity from the identity's value
//! (a typed [`Resource::IdentityKey`]) to the primary key of the record holding it. A write
//! takes the record's entry first, then claims its identity values in the indexes while
//! holding it, and releases a claim if anything fails (a drop guard, so a panic releases
//! it too). So N racing creates of one value give one success and N-1 `IdentityTaken`s, and
//! a lookup through an index always finds the record it names. Locks are always taken in
//! that order (record, then index), never the other way round, so writers cannot deadlock.
//!
//! There are no transactions: a write is one atomic step, nothing more.
//!
//! # Foreign keys
//!
//! A belongs_to's foreign key is checked and its `on_delete` applied here (see
//! [`ash_core::reference`]) for the writes that come through a domain, which hands the
//! other resources' tables over in the call's context:
//!
//! - a create, update or upsert that sets a foreign key looks the destination record up
//!   and refuses a missing one (`ReferenceNotFound`), then writes;
//! - a destroy of a record other resources refer to works out every referring record
//!   first (through every level of `cascade`), refusing the whole destroy when one with
//!   `on_delete = restrict` would remain (`StillReferenced`, nothing written); then it
//!   nilifies, destroys the record (its optimistic lock checked as usual) and destroys the
//!   cascaded records, deepest level first.
//!
//! Check and write are atomic against each other through one **reference gate**, a
//! process-wide reader-writer lock: the checked writes hold it shared, the destroys of
//! referenced records exclusively. So a child created concurrently with the destroy of its
//! parent is either refused (`ReferenceNotFound`) or created before the destroy, which then
//! sees it (restricted, cascaded or nilified): no child is ever left referring to a record
//! that is gone. Writes that set no foreign key and destroys of records nothing refers to
//! never touch the gate. Inside the gate no two records' entries are held at once, so it
//! adds no lock-order constraint.
//!
//! There are no transactions, so what a destroy leaves behind when a step after the check
//! fails is: a nilify that fails (it would give a record an identity value another holds:
//! `IdentityTaken`) stops the destroy with the record and everything else in place, and
//! the records nilified before it (nilifies run by resource, then primary key) stay nil; the record's optimistic lock failing at that
//! point (an update since the check) stops it the same way. Cascaded destroys come last
//! and cannot fail (a record already gone is skipped). A referential action runs no
//! action of the referring resource (no changes, validations, policies or hooks), like
//! PostgreSQL's `ON DELETE CASCADE`/`SET NULL`.
#![warn(missing_docs)]

use ash_core::context::Context;
use ash_core::data_layer::{
    Connect, DataLayer, DataLayerKind, DestroyOp, Guard, UpdateOp, UpsertOp,
};
use ash_core::error::{AlreadyExists, Error, ErrorKind, StaleRecord};
use ash_core::filter::Filter;
use ash_core::identity::taken;
use ash_core::query::Query;
use ash_core::relationship::{LoadOp, RelationshipInfo};
use ash_core::resource::Resource;
use dashmap::mapref::entry::Entry;
use dashmap::DashMap;
use smallvec_like::Values;
use std::future::{ready, Future, Ready};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

mod aggregate;
mod fk;
use fk::{FkIndex, FkKey};

/// The ETS data layer, as named in `#[resource(data_layer = Ets)]`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ets;

impl DataLayerKind for Ets {
    type Layer<R: Resource> = EtsTable<R>;
}

/// The table of one resource.
pub struct EtsTable<R: Resource> {
    rows: DashMap<R::PrimaryKey, R>,
    /// One unique index per identity of `R`, in [`Resource::IDENTITIES`] order: the
    /// identity's value to the primary key of the record holding it.
    indexes: Box<[Index<R>]>,
    /// One index per attribute of [`Resource::INDEXED_FIELDS`], for loads (see `fk`).
    fks: Box<[FkIndex<R>]>,
}

impl<R: Resource> Default for EtsTable<R> {
    fn default() -> Self {
        EtsTable {
            rows: DashMap::new(),
            indexes: (0..R::IDENTITIES.len())
                .map(|_| DashMap::with_hasher(IndexHasher::default()))
                .collect(),
            fks: R::INDEXED_FIELDS.iter().map(|f| FkIndex::new(*f)).collect(),
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
        // Record shards first, then the indexes: the lock order of every write.
        self.rows.clear();
        for index in self.indexes.iter() {
            index.clear();
        }
        for index in self.fks.iter() {
            index.clear();
        }
    }

    /// The attributes this table keeps an index by for loads (see the `fk` module): its
    /// belongs_to foreign keys and the attributes the domain's relationships load by.
    pub fn indexed_attributes(&self) -> Vec<&'static str> {
        self.fks.iter().map(|i| R::field_name(i.field)).collect()
    }

    /// How many values identity `identity` holds (its index's size): for tests that check
    /// a failed write left no claim behind.
    pub fn identity_len(&self, identity: usize) -> usize {
        self.indexes.get(identity).map_or(0, DashMap::len)
    }
}

/// The hasher of the identity indexes: foldhash (hashbrown's default), its quality
/// variant, seeded per map, at a fraction of SipHash's cost on short keys. It is only
/// minimally resistant to chosen colliding keys (an attacker would have to infer the seed
/// from the program's behaviour); the rows themselves keep std's SipHash.
type IndexHasher = foldhash::quality::RandomState;

/// One identity's unique index: its value to the primary key of the record holding it.
type Index<R> = DashMap<<R as Resource>::IdentityKey, <R as Resource>::PrimaryKey, IndexHasher>;

/// Identity values claimed for one record: released when dropped unless the write
/// completed ([`Claims::keep`]), so an error or a panic between the claim and the write
/// leaves no value taken.
struct Claims<'t, R: Resource> {
    table: &'t EtsTable<R>,
    record: &'t R,
    key: &'t R::PrimaryKey,
    claimed: ash_core::__private::smallvec::SmallVec<[usize; 4]>,
}

impl<'t, R: Resource> Claims<'t, R> {
    fn new(table: &'t EtsTable<R>, record: &'t R, key: &'t R::PrimaryKey) -> Self {
        Claims {
            table,
            record,
            key,
            claimed: Default::default(),
        }
    }

    /// Claims `value` of identity `identity` for the record, or fails with
    /// `IdentityTaken` if another record holds it.
    fn claim(&mut self, identity: usize, value: R::IdentityKey) -> Result<(), ErrorKind> {
        match self.table.indexes[identity].entry(value) {
            Entry::Occupied(holder) if holder.get() == self.key => Ok(()),
            Entry::Occupied(_) => Err(taken::<R>(identity)),
            Entry::Vacant(slot) => {
                slot.insert(self.key.clone());
                self.claimed.push(identity);
                Ok(())
            }
        }
    }

    /// The write completed: the claims stay.
    fn keep(mut self) {
        self.claimed.clear();
    }
}

impl<R: Resource> Drop for Claims<'_, R> {
    fn drop(&mut self) {
        for &identity in &self.claimed {
            if let Some(value) = self.record.identity_key(identity) {
                self.table.release(identity, &value, self.key);
            }
        }
    }
}

/// The identity index work of each write.
impl<R: Resource> EtsTable<R> {
    /// Releases `value` of `identity` if `key` holds it.
    fn release(&self, identity: usize, value: &R::IdentityKey, key: &R::PrimaryKey) {
        self.indexes[identity].remove_if(value, |_, holder| holder == key);
    }

    /// Stores `record` in its vacant entry, claiming its identity values first (the
    /// entry's shard lock is held throughout, so no reader sees a claim without the row).
    fn insert_claimed(
        &self,
        slot: dashmap::mapref::entry::VacantEntry<'_, R::PrimaryKey, R>,
        record: R,
    ) -> Result<R, ErrorKind> {
        {
            let key = slot.key();
            let mut claims = Claims::new(self, &record, key);
            for identity in 0..R::IDENTITIES.len() {
                if let Some(value) = record.identity_key(identity) {
                    claims.claim(identity, value)?;
                }
            }
            claims.keep();
        }
        // Under the entry's shard lock: record, then index.
        for index in self.fks.iter() {
            index.add(&record);
        }
        slot.insert(record.clone());
        Ok(record)
    }

    /// Replaces the stored record (whose entry the caller holds) with `next`, moving the
    /// identity values that change: the new ones claimed first (a taken one fails the
    /// write, nothing changed), then the old ones released.
    fn replace_claimed(&self, stored: &mut R, next: R) -> Result<(), ErrorKind> {
        let key = stored.primary_key().clone();
        let mut moved = ash_core::__private::smallvec::SmallVec::<[usize; 4]>::new();
        {
            let mut claims = Claims::new(self, &next, &key);
            for identity in 0..R::IDENTITIES.len() {
                let new = next.identity_key(identity);
                if new == stored.identity_key(identity) {
                    continue;
                }
                moved.push(identity);
                if let Some(value) = new {
                    claims.claim(identity, value)?;
                }
            }
            claims.keep();
        }
        for identity in moved {
            if let Some(old) = stored.identity_key(identity) {
                self.release(identity, &old, &key);
            }
        }
        let before = self.fk_keys(stored);
        *stored = next;
        self.fk_moved(before, stored);
        Ok(())
    }

    /// The record's values of each indexed attribute, before a write.
    fn fk_keys(&self, record: &R) -> ash_core::__private::smallvec::SmallVec<[Option<FkKey>; 2]> {
        self.fks
            .iter()
            .map(|index| FkKey::of_record(record, index.field))
            .collect()
    }

    /// Moves the record in each index whose attribute the write changed.
    fn fk_moved(
        &self,
        before: ash_core::__private::smallvec::SmallVec<[Option<FkKey>; 2]>,
        after: &R,
    ) {
        for (index, before) in self.fks.iter().zip(before) {
            index.moved(before, after);
        }
    }

    /// Releases every identity value of `record` (being destroyed; the caller holds its
    /// entry).
    fn release_all(&self, record: &R) {
        for identity in 0..R::IDENTITIES.len() {
            if let Some(value) = record.identity_key(identity) {
                self.release(identity, &value, record.primary_key());
            }
        }
    }

    /// Whether an update may change an identity's value: it writes one of its attributes.
    fn touches_identity(op: &UpdateOp<'_, R>) -> bool {
        (0..R::IDENTITIES.len()).any(|identity| {
            R::changes_touch_identity(op.changes, identity)
                || op.atomics.iter().any(|a| {
                    R::IDENTITIES[identity]
                        .fields
                        .contains(&R::field_name(a.field))
                })
        })
    }

    /// Every atomic evaluated against the stored record, before anything is written.
    fn eval_atomics(
        stored: &R,
        atomics: &[ash_core::data_layer::Atomic<R>],
    ) -> Result<Values<R>, ErrorKind> {
        let mut computed = Values::<R>::new();
        for atomic in atomics {
            computed.push(stored.eval_atomic(atomic)?);
        }
        Ok(computed)
    }

    /// The update half of an upsert, on the stored record (whose entry the caller holds).
    fn upsert_existing(&self, stored: &mut R, op: &UpsertOp<'_, R>) -> Result<R, ErrorKind> {
        if let Some(filter) = op.filter {
            if !filter.matches(stored) {
                let refused = stale(filter, "upsert").with_stored(stored.clone());
                return Err(ErrorKind::StaleRecord(refused));
            }
        }
        let computed = Self::eval_atomics(stored, op.atomics)?;
        let mut next = stored.clone();
        for &field in op.fields {
            // The conflict was found through the key: it never moves.
            if field != R::PRIMARY_KEY {
                next.set(op.record.get(field));
            }
        }
        for value in computed {
            next.set(value);
        }
        if R::IDENTITIES.is_empty() {
            let before = self.fk_keys(stored);
            *stored = next;
            self.fk_moved(before, stored);
        } else {
            self.replace_claimed(stored, next)?;
        }
        Ok(stored.clone())
    }

    fn upsert_now(&self, op: UpsertOp<'_, R>) -> Result<R, ErrorKind> {
        let Some(identity) = op.identity else {
            return match self.rows.entry(op.record.primary_key().clone()) {
                Entry::Occupied(mut stored) => self.upsert_existing(stored.get_mut(), &op),
                Entry::Vacant(slot) => self.insert_claimed(slot, op.record),
            };
        };
        let (Some(index), Some(value)) =
            (self.indexes.get(identity), op.record.identity_key(identity))
        else {
            // A nil field of an identity with `nils_distinct`: nothing to conflict with,
            // a plain create (as Ash's ETS layer does).
            return self.create_now(op.record);
        };
        // The holder can change between the lookup and taking its entry (a concurrent
        // create, update or destroy): look again until both agree.
        for _ in 0..10_000 {
            let holder = index.get(&value).map(|h| h.value().clone());
            match holder {
                None => match self.create_now(op.record.clone()) {
                    Err(ErrorKind::IdentityTaken(t))
                        if t.identity == R::IDENTITIES[identity].name => {}
                    done => return done,
                },
                Some(key) => {
                    if let Some(mut stored) = self.rows.get_mut(&key) {
                        if stored.identity_key(identity).as_ref() == Some(&value) {
                            return self.upsert_existing(&mut stored, &op);
                        }
                    }
                }
            }
            std::thread::yield_now();
        }
        Err(ErrorKind::Framework(ash_core::error::FrameworkError {
            message: format!(
                "an upsert of {} on {} kept racing with other writers",
                R::NAME,
                R::IDENTITIES[identity].name
            ),
        }))
    }

    #[inline]
    fn get_by_identity_now(&self, value: &R::IdentityKey) -> Option<R> {
        let index = self.indexes.get(R::identity_of_key(value))?;
        let key = index.get(value).map(|h| h.value().clone())?;
        self.get_now(&key)
    }
}

/// The reference gate (see the crate's "Foreign keys"): shared by the writes that check a
/// foreign key, exclusive for the destroys of referenced records.
static REFERENCE_GATE: RwLock<()> = RwLock::new(());

fn gate_shared() -> RwLockReadGuard<'static, ()> {
    // The gate guards no data: a panic while it was held leaves nothing to repair.
    REFERENCE_GATE
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn gate_exclusive() -> RwLockWriteGuard<'static, ()> {
    REFERENCE_GATE
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The writes that involve a belongs_to: checked and applied under the reference gate.
impl<R: Resource> EtsTable<R> {
    fn create_checked(&self, ctx: &Context, record: R) -> Result<R, ErrorKind> {
        let Some(links) = ctx.references() else {
            return self.create_now(record);
        };
        let _gate = gate_shared();
        ash_core::reference::check_written::<R>(links, ctx, |field| {
            Some(R::value_to_dynamic(&record.get(field)))
        })?;
        self.create_now(record)
    }

    fn upsert_checked(&self, ctx: &Context, op: UpsertOp<'_, R>) -> Result<R, ErrorKind> {
        let Some(links) = ctx.references() else {
            return self.upsert_now(op);
        };
        let _gate = gate_shared();
        ash_core::reference::check_written::<R>(links, ctx, |field| {
            Some(R::value_to_dynamic(&op.record.get(field)))
        })?;
        self.upsert_now(op)
    }

    fn update_checked(&self, ctx: &Context, op: UpdateOp<'_, R>) -> Result<R, ErrorKind> {
        // One call of the (always inlined) write, the gate held across it when taken.
        let _gate = match ctx.references() {
            Some(links) => Self::check_update_references(links, ctx, &op)?,
            None => None,
        };
        self.update_now(op)
    }

    /// The foreign keys an update writes, checked under the reference gate, which is
    /// returned to be held across the write; `None` when it writes none.
    fn check_update_references(
        links: &dyn ash_core::reference::Links,
        ctx: &Context,
        op: &UpdateOp<'_, R>,
    ) -> Result<Option<RwLockReadGuard<'static, ()>>, ErrorKind> {
        let written = R::changes_to_values(op.changes);
        if !R::REFERENCES
            .iter()
            .any(|r| written.iter().any(|(field, _)| *field == r.source_field()))
        {
            return Ok(None);
        }
        let gate = gate_shared();
        ash_core::reference::check_written::<R>(links, ctx, |field| {
            written
                .iter()
                .find(|(f, _)| *f == field)
                .map(|(_, value)| value.clone())
        })?;
        Ok(Some(gate))
    }

    fn destroy_checked(&self, ctx: &Context, op: DestroyOp<'_, R>) -> Result<R, ErrorKind> {
        let Some(links) = ctx.references().filter(|l| l.is_referenced(R::NAME)) else {
            return self.destroy_now(op);
        };
        let _gate = gate_exclusive();
        let Some(stored) = self.get_now(op.primary_key) else {
            return Err(missing::<R>(op.primary_key, "destroy"));
        };
        if !op.guard.matches(&stored) {
            return Err(refused(op.guard, stored, "destroy"));
        }
        let key = format!("{:?}", op.primary_key);
        let plan = ash_core::reference::plan_destroy(links, ctx, R::NAME, key, Box::new(stored))?;
        let (nilify, cascade) = plan.split();
        nilify.apply(links, ctx)?;
        let destroyed = self.destroy_now(op)?;
        cascade.apply(links, ctx)?;
        Ok(destroyed)
    }

    /// Writes one attribute of a stored record (a nilify), keeping its indexes in step.
    fn write_value_now(&self, key: &R::PrimaryKey, value: R::Value) -> Result<(), ErrorKind> {
        let Some(mut stored) = self.rows.get_mut(key) else {
            return Err(missing::<R>(key, "update"));
        };
        if R::IDENTITIES.is_empty() {
            let before = self.fk_keys(&stored);
            stored.set(value);
            self.fk_moved(before, &stored);
            Ok(())
        } else {
            let mut next = stored.clone();
            next.set(value);
            self.replace_claimed(&mut stored, next)
        }
    }
}

fn stale<R: Resource>(filter: &Filter<R>, operation: &'static str) -> StaleRecord {
    StaleRecord::new(R::NAME, filter.to_dyn(), operation)
}

/// A stored record that did not match the write's guard: `StaleRecord` with the guard as
/// one filter, carrying the record (a retry starts from it without a get).
#[cold]
#[inline(never)]
fn refused<R: Resource>(guard: Guard<'_, R>, stored: R, operation: &'static str) -> ErrorKind {
    match guard.to_filter() {
        Some(filter) => ErrorKind::StaleRecord(stale(&filter, operation).with_stored(stored)),
        None => missing::<R>(stored.primary_key(), operation),
    }
}

fn missing<R: Resource>(key: &R::PrimaryKey, operation: &'static str) -> ErrorKind {
    ErrorKind::StaleRecord(stale(&Filter::<R>::primary_key(key), operation))
}

/// The writes as the [`DataLayer`] impl runs them: through the reference gate when the
/// resource has a belongs_to (decided at compile time) or the call carries the domain's
/// links (a destroy of a possibly referenced record), else straight to the `*_now` step.
impl<R: Resource> EtsTable<R> {
    #[inline(always)]
    fn create_in(&self, ctx: &Context, record: R) -> Result<R, ErrorKind> {
        if R::REFERENCES.is_empty() {
            self.create_now(record)
        } else {
            self.create_checked(ctx, record)
        }
    }

    #[inline(always)]
    fn update_in(&self, ctx: &Context, op: UpdateOp<'_, R>) -> Result<R, ErrorKind> {
        if R::REFERENCES.is_empty() {
            self.update_now(op)
        } else {
            self.update_checked(ctx, op)
        }
    }

    #[inline(always)]
    fn upsert_in(&self, ctx: &Context, op: UpsertOp<'_, R>) -> Result<R, ErrorKind> {
        if R::REFERENCES.is_empty() {
            self.upsert_now(op)
        } else {
            self.upsert_checked(ctx, op)
        }
    }

    #[inline(always)]
    fn destroy_in(&self, ctx: &Context, op: DestroyOp<'_, R>) -> Result<R, ErrorKind> {
        if ctx.references().is_none() {
            self.destroy_now(op)
        } else {
            self.destroy_checked(ctx, op)
        }
    }
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
            Entry::Vacant(slot) if R::IDENTITIES.is_empty() && self.fks.is_empty() => {
                slot.insert(record.clone());
                Ok(record)
            }
            Entry::Vacant(slot) => self.insert_claimed(slot, record),
        }
    }

    // Always: inlined into the action's pipeline, the lock's field and the atomic are
    // constants and the record is built in place (an update was 6% fewer instructions).
    #[inline(always)]
    fn update_now(&self, op: UpdateOp<'_, R>) -> Result<R, ErrorKind> {
        // The compare and the write happen under this one guard: nothing can interleave.
        let Some(mut stored) = self.rows.get_mut(op.primary_key) else {
            return Err(missing::<R>(op.primary_key, "update"));
        };
        if !op.guard.matches(&stored) {
            // The error is built after the entry is released: under contention, other
            // writers are waiting for it. The copy is taken under it, as the one the
            // guard refused.
            let seen = stored.clone();
            drop(stored);
            return Err(refused(op.guard, seen, "update"));
        }
        if !R::IDENTITIES.is_empty() && Self::touches_identity(&op) {
            // An identity may move: build the new record, then claim its values.
            let computed = Self::eval_atomics(&stored, op.atomics)?;
            let mut next = stored.clone();
            next.apply_changes(op.changes);
            for value in computed {
                next.set(value);
            }
            self.replace_claimed(&mut stored, next)?;
            return Ok(stored.clone());
        }
        let before = (!self.fks.is_empty()).then(|| self.fk_keys(&stored));
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
        if let Some(before) = before {
            self.fk_moved(before, &stored);
        }
        Ok(stored.clone())
    }

    #[inline]
    fn destroy_now(&self, op: DestroyOp<'_, R>) -> Result<R, ErrorKind> {
        let guard = op.guard;
        let removed = self.rows.remove_if(op.primary_key, |_, stored| {
            let matches = guard.matches(stored);
            if matches && !R::IDENTITIES.is_empty() {
                // Under the record's entry: the values are free once it is gone.
                self.release_all(stored);
            }
            if matches {
                for index in self.fks.iter() {
                    index.remove(stored);
                }
            }
            matches
        });
        match removed {
            Some((_, record)) => Ok(record),
            None if guard.is_empty() => Err(missing::<R>(op.primary_key, "destroy")),
            // The record is there but did not match: report the guard, with the record as
            // read now. (Between the two calls it may have gone: then it is missing.)
            None => match self.get_now(op.primary_key) {
                Some(stored) => Err(refused(guard, stored, "destroy")),
                None => Err(missing::<R>(op.primary_key, "destroy")),
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

    /// A load: by primary key, or through the attribute's index (no scan); else (an
    /// attribute no relationship of the domain names, loaded by hand) one scan of the
    /// table. Each key's records sorted and paged on their own.
    fn load_now(&self, op: &LoadOp<'_, R>) -> Vec<R> {
        let query = op.query;
        let mut out = Vec::new();
        // Unsorted and unpaged: in any order (the caller orders each parent's records).
        let ordered = !query.sort.is_empty() || query.offset > 0 || query.limit.is_some();
        let finish = |group: Vec<R>, out: &mut Vec<R>| {
            if ordered && (group.len() > 1 || query.offset > 0 || query.limit.is_some()) {
                out.extend(query.finish_in_memory(group));
            } else {
                out.extend(group);
            }
        };
        if op.field == R::PRIMARY_KEY {
            // A belongs_to or a many_to_many's destination: one lookup per key.
            for key_value in op.keys {
                let Some(pk) = R::primary_key_of(key_value) else {
                    continue;
                };
                if let Some(row) = self.rows.get(pk) {
                    if query.matches(row.value()) {
                        finish(vec![row.value().clone()], &mut out);
                    }
                }
            }
            return out;
        }
        if let Some(index) = self.fks.iter().find(|i| i.field == op.field) {
            // The holders are copied out of the index before the records are read (the
            // index guard is never held while taking a record's: writers lock record,
            // then index), into one buffer reused across keys.
            let mut holders: Vec<R::PrimaryKey> = Vec::new();
            for key_value in op.keys {
                let Some(key) = FkKey::of(R::value_to_dynamic(key_value)) else {
                    continue;
                };
                holders.clear();
                if !index.holders_into(&key, &mut holders) {
                    continue;
                }
                let mut group = Vec::with_capacity(holders.len());
                for pk in &holders {
                    if let Some(row) = self.rows.get(pk) {
                        let record = row.value();
                        if record.equals(key_value) && query.matches(record) {
                            group.push(record.clone());
                        }
                    }
                }
                finish(group, &mut out);
            }
            return out;
        }
        let keys: std::collections::HashSet<FkKey> = op
            .keys
            .iter()
            .filter_map(|k| FkKey::of(R::value_to_dynamic(k)))
            .collect();
        let mut groups: std::collections::HashMap<FkKey, Vec<R>> = Default::default();
        for entry in self.rows.iter() {
            let record = entry.value();
            if let Some(key) = FkKey::of_record(record, op.field) {
                if keys.contains(&key) && query.matches(record) {
                    groups.entry(key).or_default().push(record.clone());
                }
            }
        }
        for (_, group) in groups {
            finish(group, &mut out);
        }
        out
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
    fn create(&self, ctx: &Context, record: R) -> Ready<Result<R, ErrorKind>> {
        ready(self.create_in(ctx, record))
    }

    #[inline]
    fn update(&self, ctx: &Context, op: UpdateOp<'_, R>) -> Ready<Result<R, ErrorKind>> {
        ready(self.update_in(ctx, op))
    }

    #[inline]
    fn destroy(&self, ctx: &Context, op: DestroyOp<'_, R>) -> Ready<Result<R, ErrorKind>> {
        ready(self.destroy_in(ctx, op))
    }

    fn upsert(&self, ctx: &Context, op: UpsertOp<'_, R>) -> Ready<Result<R, ErrorKind>> {
        ready(self.upsert_in(ctx, op))
    }

    /// A lookup in the identity's unique index, then by primary key: no scan.
    fn get_by_identity(
        &self,
        _ctx: &Context,
        key: &R::IdentityKey,
    ) -> Ready<Result<Option<R>, ErrorKind>> {
        ready(Ok(self.get_by_identity_now(key)))
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

    /// From the foreign-key index, a lookup per parent (see the `aggregate` module).
    fn aggregate(
        &self,
        _ctx: &Context,
        op: &ash_core::aggregate::AggregateOp<'_, R>,
    ) -> Ready<Result<Vec<ash_core::value::Value>, ErrorKind>> {
        ready(Ok(self.aggregate_now(op)))
    }

    /// The size of the key's entry in the attribute's foreign-key index (or whether the
    /// record exists, by primary key): one lookup, no record read.
    #[inline]
    fn immediate_counter(
        &self,
        _ctx: &Context,
        field: R::Field,
    ) -> Option<impl Fn(&R::Value) -> usize + '_> {
        self.counter(field)
    }

    /// Adds an index by each attribute of `R` that a relationship of the domain loads by
    /// (a has_one/has_many's destination attribute, a belongs_to's destination attribute
    /// other than the primary key, a many_to_many's attribute on its join resource), so
    /// that no load scans the table. Runs before the domain shares the table.
    fn prepare_loads(&mut self, relationships: &[&'static [RelationshipInfo]]) {
        let mut fields: Vec<R::Field> = self.fks.iter().map(|i| i.field).collect();
        for info in relationships.iter().flat_map(|list| list.iter()) {
            for name in fk::loaded_attributes::<R>(info) {
                let found = R::FIELDS
                    .iter()
                    .copied()
                    .find(|f| R::field_name(*f) == name);
                if let Some(field) = found {
                    if field != R::PRIMARY_KEY && !fields.contains(&field) {
                        fields.push(field);
                    }
                }
            }
        }
        if fields.len() == self.fks.len() {
            return;
        }
        let fks: Box<[FkIndex<R>]> = fields.into_iter().map(FkIndex::new).collect();
        for entry in self.rows.iter() {
            for index in fks.iter() {
                index.add(entry.value());
            }
        }
        self.fks = fks;
    }

    /// Through the attribute's index by foreign key (see the `fk` module's cost model).
    fn load(&self, _ctx: &Context, op: &LoadOp<'_, R>) -> Ready<Result<Vec<R>, ErrorKind>> {
        ready(Ok(self.load_now(op)))
    }

    #[inline(always)]
    fn immediate_create(&self, ctx: &Context, record: R) -> Result<Result<R, ErrorKind>, R> {
        Ok(self.create_in(ctx, record))
    }

    #[inline(always)]
    fn immediate_update<'o>(
        &self,
        ctx: &Context,
        op: UpdateOp<'o, R>,
    ) -> Result<Result<R, ErrorKind>, UpdateOp<'o, R>> {
        Ok(self.update_in(ctx, op))
    }

    #[inline(always)]
    fn immediate_destroy<'o>(
        &self,
        ctx: &Context,
        op: DestroyOp<'o, R>,
    ) -> Result<Result<R, ErrorKind>, DestroyOp<'o, R>> {
        Ok(self.destroy_in(ctx, op))
    }

    fn immediate_write_value(
        &self,
        _ctx: &Context,
        key: &R::PrimaryKey,
        value: R::Value,
    ) -> Option<Result<(), ErrorKind>> {
        Some(self.write_value_now(key, value))
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
    fn immediate_upsert<'o>(
        &self,
        ctx: &Context,
        op: UpsertOp<'o, R>,
    ) -> Result<Result<R, ErrorKind>, UpsertOp<'o, R>> {
        Ok(self.upsert_in(ctx, op))
    }

    #[inline(always)]
    fn immediate_get_by_identity(
        &self,
        _ctx: &Context,
        key: &R::IdentityKey,
    ) -> Option<Result<Option<R>, ErrorKind>> {
        Some(Ok(self.get_by_identity_now(key)))
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
