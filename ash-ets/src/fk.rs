//! Indexes by foreign key: for each attribute of [`Resource::INDEXED_FIELDS`] (a
//! belongs_to's foreign key, or an attribute another resource's has_one/has_many names),
//! the primary keys of the records holding each value.
//!
//! Cost model of a load of `k` parent keys finding `c` children: `k` index lookups, then
//! `c` lookups by primary key (a clone each), then a sort of each parent's children
//! (`O(c log(c/k))`): nothing proportional to the table's size. An attribute without an
//! index is loaded with one scan of the table per load (never one per parent).
//!
//! The indexes are kept in step with every write: a create adds the record's values, an
//! update that changes one moves it (under the record's entry guard, the same lock order
//! as the identity indexes: record, then index), a destroy removes them. A load checks
//! each record it finds against the key, so an entry a concurrent write has not yet
//! removed is never returned.

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
