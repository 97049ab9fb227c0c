//! Indexes by foreign key: for each attribute a load matches on, the primary keys of the
//! records holding each value. Indexed are [`Resource::INDEXED_FIELDS`] (the resource's
//! belongs_to foreign keys) and, when a domain is built, every attribute of the resource
//! that a relationship of the domain loads by (a has_one/has_many's destination attribute,
//! even without a matching belongs_to; a many_to_many's key on its join resource; see
//! `DataLayer::prepare_loads`). A load by primary key (a belongs_to, a many_to_many's
//! destination) needs no index.
//!
//! # Cost model of a load
//!
//! A load of `k` distinct parent keys finding `c` children costs `k` index lookups, then
//! `c` lookups by primary key (a clone each), then a sort of each parent's children when
//! the load is sorted (`O(c log(c/k))`): nothing proportional to the table's size, so a
//! load of 5,000 parents costs the same in a table of 1,000 or 1,000,000 children. Only
//! a load by an attribute no relationship of the domain names (a `LoadOp` built by hand)
//! scans the table, once per load (never once per parent).
//!
//! A bare `count` or `exists` aggregate (no field, filter or uniq) reads no record: one
//! lookup per parent, the size of its entry, written onto the parent as the parents are
//! walked (`DataLayer::immediate_counter`).
//!
//! Each index costs one map update per create and destroy, and per update that changes
//! the indexed attribute (the first record holding a value allocates its list).
//!
//! The indexes are kept in step with every write: a create adds the record's values, an
//! update that changes one moves it (under the record's entry guard, the same lock order
//! as the identity indexes: record, then index), a destroy removes them. A load checks
//! each record it finds against the key, so an entry a concurrent write has not yet
//! removed is never returned.

use crate::IndexHasher;
use ash_core::__private::uuid::Uuid;
use ash_core::relationship::{RelationshipInfo, RelationshipKind};
use ash_core::resource::Resource;
use ash_core::value::Value;
use dashmap::DashMap;
use std::hash::{Hash, Hasher};

/// A hashable copy of an attribute value, for the index. Floats, lists and nil are not
/// indexed (they never match a key). Integers and timestamps share one key space (`5u64`
/// and `5i64` are one key), as in filters.
///
/// Kept small (24 bytes) and hashed with one write per value: a count aggregate is one
/// index lookup per parent, so the key's size and hashing are most of its cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FkKey {
    Bool(bool),
    /// An integer or timestamp that fits `i64` (every one but large `u64`s).
    Int(i64),
    /// A `u64` above `i64::MAX` (never equal to an `Int`).
    UInt(u64),
    Str(Box<str>),
    Uuid(Uuid),
}

impl Hash for FkKey {
    // Equal keys are the same variant with the same value, so hashing the value alone
    // is consistent with `Eq` (variants that collide only share a bucket).
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            FkKey::Bool(b) => state.write_u8(u8::from(*b)),
            FkKey::Int(i) => state.write_i64(*i),
            FkKey::UInt(u) => state.write_u64(*u),
            FkKey::Str(s) => s.hash(state),
            FkKey::Uuid(u) => state.write_u128(u.as_u128()),
        }
    }
}

impl FkKey {
    #[inline]
    pub(crate) fn of(value: Value) -> Option<FkKey> {
        Some(match value {
            Value::Bool(b) => FkKey::Bool(b),
            Value::Int(i) | Value::Timestamp(i) => FkKey::Int(i),
            Value::UInt(u) => match i64::try_from(u) {
                Ok(i) => FkKey::Int(i),
                Err(_) => FkKey::UInt(u),
            },
            Value::String(s) => FkKey::Str(s.into_boxed_str()),
            Value::Uuid(u) => FkKey::Uuid(u),
            Value::Null | Value::Float(_) | Value::List(_) => return None,
        })
    }

    pub(crate) fn of_record<R: Resource>(record: &R, field: R::Field) -> Option<FkKey> {
        FkKey::of(R::value_to_dynamic(&record.get(field)))
    }
}

/// The primary keys holding one value. A plain `Vec`, not an inline small vector: a
/// bucket of the `Uuid` map (key and list) is 40 bytes, so a count's lookup mostly touches
/// one cache line (inline room for 4 keys made it 96 bytes, and a count of 10,000 parents
/// about 1.2x slower); the cost is one allocation per distinct value.
pub(crate) type Holders<R> = Vec<<R as Resource>::PrimaryKey>;

type Map<K, R> = DashMap<K, Holders<R>, IndexHasher>;

/// One index: an attribute's values to the records holding them, hashed with the
/// identity indexes' foldhash (see [`IndexHasher`]). `Uuid` values (most foreign keys)
/// have a map of their own, keyed by the bare 16 bytes; every other value is an [`FkKey`]
/// in the second map (a `Uuid` equals only a `Uuid`, so no key can be in both).
pub(crate) struct FkIndex<R: Resource> {
    pub(crate) field: R::Field,
    uuids: Map<Uuid, R>,
    others: Map<FkKey, R>,
}

/// Adds `pk` to `key`'s holders.
fn push<K: Hash + Eq, R: Resource>(map: &Map<K, R>, key: K, pk: R::PrimaryKey) {
    map.entry(key).or_default().push(pk);
}

/// Removes `pk` from `key`'s holders, and the entry once empty.
fn pull<K: Hash + Eq, R: Resource>(map: &Map<K, R>, key: &K, pk: &R::PrimaryKey) {
    let empty = match map.get_mut(key) {
        Some(mut holders) => {
            holders.retain(|h| h != pk);
            holders.is_empty()
        }
        None => false,
    };
    if empty {
        map.remove_if(key, |_, holders| holders.is_empty());
    }
}

impl<R: Resource> FkIndex<R> {
    pub(crate) fn new(field: R::Field) -> Self {
        FkIndex {
            field,
            uuids: DashMap::with_hasher(IndexHasher::default()),
            others: DashMap::with_hasher(IndexHasher::default()),
        }
    }

    /// Empties the index.
    pub(crate) fn clear(&self) {
        self.uuids.clear();
        self.others.clear();
    }

    /// How many records hold `key` (a bare count: the entry's size, no record read).
    #[inline]
    pub(crate) fn count(&self, key: &R::Value) -> usize {
        match R::value_to_dynamic(key) {
            Value::Uuid(u) => self.uuids.get(&u).map_or(0, |holders| holders.len()),
            other => match FkKey::of(other) {
                Some(key) => self.others.get(&key).map_or(0, |holders| holders.len()),
                None => 0,
            },
        }
    }

    /// Appends the primary keys holding `key` to `out` (copied out: no index guard is held
    /// while the caller reads the records); whether there was an entry.
    pub(crate) fn holders_into(&self, key: &FkKey, out: &mut Vec<R::PrimaryKey>) -> bool {
        let found = match key {
            FkKey::Uuid(u) => self.uuids.get(u).map(|h| out.extend_from_slice(h.value())),
            key => self
                .others
                .get(key)
                .map(|h| out.extend_from_slice(h.value())),
        };
        found.is_some()
    }

    fn insert(&self, key: FkKey, pk: R::PrimaryKey) {
        match key {
            FkKey::Uuid(u) => push::<_, R>(&self.uuids, u, pk),
            key => push::<_, R>(&self.others, key, pk),
        }
    }

    fn remove_key(&self, key: &FkKey, pk: &R::PrimaryKey) {
        match key {
            FkKey::Uuid(u) => pull::<_, R>(&self.uuids, u, pk),
            key => pull::<_, R>(&self.others, key, pk),
        }
    }

    pub(crate) fn add(&self, record: &R) {
        if let Some(key) = FkKey::of_record(record, self.field) {
            self.insert(key, record.primary_key().clone());
        }
    }

    pub(crate) fn remove(&self, record: &R) {
        if let Some(key) = FkKey::of_record(record, self.field) {
            self.remove_key(&key, record.primary_key());
        }
    }

    /// `before` became `after` (one record): moves it if its value changed.
    pub(crate) fn moved(&self, before: Option<FkKey>, after: &R) {
        let now = FkKey::of_record(after, self.field);
        if before == now {
            return;
        }
        if let Some(old) = before {
            self.remove_key(&old, after.primary_key());
        }
        if let Some(new) = now {
            self.insert(new, after.primary_key().clone());
        }
    }
}

/// The attributes of `R` that loads of `info` match on (by name): its destination
/// attribute when `R` is its destination, and its source attribute on the join resource
/// when `R` is a many_to_many's join resource.
pub(crate) fn loaded_attributes<R: Resource>(info: &RelationshipInfo) -> Vec<&'static str> {
    let mut names = Vec::new();
    if info.destination == R::NAME {
        names.push(info.destination_attribute);
    }
    if let (RelationshipKind::ManyToMany, Some(through)) = (info.kind, &info.through) {
        if through.resource == R::NAME {
            names.push(through.source_attribute_on_join_resource);
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    fn hash(key: &FkKey) -> u64 {
        // A fixed seed: equal keys must hash alike under any one hasher.
        foldhash::fast::FixedState::with_seed(7).hash_one(key)
    }

    #[test]
    fn integers_and_timestamps_share_one_key_space() {
        let five = FkKey::of(Value::Int(5));
        assert_eq!(FkKey::of(Value::UInt(5)), five);
        assert_eq!(FkKey::of(Value::Timestamp(5)), five);
        let big = FkKey::of(Value::UInt(u64::MAX));
        assert_eq!(big, Some(FkKey::UInt(u64::MAX)));
        assert_ne!(big, FkKey::of(Value::Int(-1)));
        assert_eq!(FkKey::of(Value::Int(-1)), Some(FkKey::Int(-1)));
    }

    #[test]
    fn equal_keys_hash_alike() {
        let values = [
            Value::Bool(true),
            Value::Int(-3),
            Value::UInt(u64::MAX),
            Value::UInt(3),
            Value::Timestamp(3),
            Value::String("a key".into()),
            Value::Uuid(Uuid::from_u128(42)),
        ];
        for value in values {
            let key = FkKey::of(value.clone()).expect("indexable");
            assert_eq!(key, key.clone());
            assert_eq!(hash(&key), hash(&key.clone()));
        }
        assert_eq!(
            hash(&FkKey::Int(3)),
            hash(&FkKey::of(Value::UInt(3)).unwrap())
        );
    }

    #[test]
    fn nil_floats_and_lists_are_not_indexed() {
        for value in [
            Value::Null,
            Value::Float(1.0),
            Value::List(vec![Value::Int(1)]),
        ] {
            assert_eq!(FkKey::of(value), None);
        }
    }

    #[test]
    fn the_key_stays_small() {
        // The buckets a count looks up: key and list (see `Holders`).
        assert!(std::mem::size_of::<FkKey>() <= 24);
        assert_eq!(std::mem::size_of::<(Uuid, Vec<u128>)>(), 40);
    }
}
