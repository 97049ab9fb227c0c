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
//! Each index costs one map update per create and destroy, and per update that changes
//! the indexed attribute.
//!
//! The indexes are kept in step with every write: a create adds the record's values, an
//! update that changes one moves it (under the record's entry guard, the same lock order
//! as the identity indexes: record, then index), a destroy removes them. A load checks
//! each record it finds against the key, so an entry a concurrent write has not yet
//! removed is never returned.

use ash_core::relationship::{RelationshipInfo, RelationshipKind};
use ash_core::resource::Resource;
use ash_core::value::Value;
use dashmap::DashMap;

/// A hashable copy of an attribute value, for the index. Floats, lists and nil are not
/// indexed (they never match a key).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum FkKey {
    Bool(bool),
    Int(i128),
    Str(Box<str>),
    Uuid(ash_core::__private::uuid::Uuid),
}

impl FkKey {
    pub(crate) fn of(value: Value) -> Option<FkKey> {
        Some(match value {
            Value::Bool(b) => FkKey::Bool(b),
            Value::Int(i) => FkKey::Int(i.into()),
            Value::UInt(u) => FkKey::Int(u.into()),
            Value::Timestamp(t) => FkKey::Int(t.into()),
            Value::String(s) => FkKey::Str(s.into_boxed_str()),
            Value::Uuid(u) => FkKey::Uuid(u),
            Value::Null | Value::Float(_) | Value::List(_) => return None,
        })
    }

    pub(crate) fn of_record<R: Resource>(record: &R, field: R::Field) -> Option<FkKey> {
        FkKey::of(R::value_to_dynamic(&record.get(field)))
    }
}

/// The primary keys holding one value: usually a few, kept inline.
pub(crate) type Holders<R> =
    ash_core::__private::smallvec::SmallVec<[<R as Resource>::PrimaryKey; 4]>;

/// One index: an attribute's values to the records holding them.
pub(crate) struct FkIndex<R: Resource> {
    pub(crate) field: R::Field,
    pub(crate) map: DashMap<FkKey, Holders<R>>,
}

impl<R: Resource> FkIndex<R> {
    pub(crate) fn new(field: R::Field) -> Self {
        FkIndex {
            field,
            map: DashMap::new(),
        }
    }

    pub(crate) fn add(&self, record: &R) {
        if let Some(key) = FkKey::of_record(record, self.field) {
            self.map
                .entry(key)
                .or_default()
                .push(record.primary_key().clone());
        }
    }

    pub(crate) fn remove(&self, record: &R) {
        if let Some(key) = FkKey::of_record(record, self.field) {
            self.remove_key(&key, record.primary_key());
        }
    }

    fn remove_key(&self, key: &FkKey, pk: &R::PrimaryKey) {
        let empty = match self.map.get_mut(key) {
            Some(mut holders) => {
                holders.retain(|h| h != pk);
                holders.is_empty()
            }
            None => false,
        };
        if empty {
            self.map.remove_if(key, |_, holders| holders.is_empty());
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
            self.map
                .entry(new)
                .or_default()
                .push(after.primary_key().clone());
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
