//! Aggregates from the foreign-key index: for each parent key, one index lookup gives the
//! primary keys of its related records. A `count` or `exists` with neither field nor
//! filter is the size of that entry (no record is read); the other aggregates read those
//! records by primary key, filter and sort them, and aggregate their values. Nothing
//! scans the table, unless the attribute has no index (then one scan for all the keys).
//!
//! A load of a bare count or exists does not come here: it asks [`EtsTable::counter`]
//! (`DataLayer::immediate_counter`) once and looks up each parent's key as it goes.

use crate::fk::FkKey;
use crate::EtsTable;
use ash_core::aggregate::{compute, AggregateKind, AggregateOp};
use ash_core::resource::Resource;
use ash_core::value::Value;

impl<R: Resource> EtsTable<R> {
    /// How many records hold a key in `field`: the size of its entry in the attribute's
    /// index, or by primary key whether the record is stored. `None` for an attribute
    /// without an index.
    pub(crate) fn counter(&self, field: R::Field) -> Option<impl Fn(&R::Value) -> usize + '_> {
        let index = if field == R::PRIMARY_KEY {
            None
        } else {
            Some(self.fks.iter().find(|i| i.field == field)?)
        };
        Some(move |key: &R::Value| match index {
            Some(index) => index.count(key),
            None => R::primary_key_of(key).map_or(0, |pk| usize::from(self.rows.contains_key(pk))),
        })
    }

    pub(crate) fn aggregate_now(&self, op: &AggregateOp<'_, R>) -> Vec<Value> {
        let Some(index) = self.fks.iter().find(|i| i.field == op.key_field) else {
            return op.compute_grouped(&self.read_now(&op.as_query()));
        };
        let kind = op.info.kind;
        let bare = op.filter.is_none() && op.field.is_none() && !op.info.uniq;
        let mut out = Vec::with_capacity(op.keys.len());
        // One buffer for every key's holders, copied out of the index (no index guard is
        // held while a record is read: writers lock record, then index).
        let mut holders: Vec<R::PrimaryKey> = Vec::new();
        for key_value in op.keys {
            if bare && matches!(kind, AggregateKind::Count | AggregateKind::Exists) {
                out.push(
                    kind.of_count(index.count(key_value))
                        .unwrap_or_else(|| kind.empty()),
                );
                continue;
            }
            holders.clear();
            let found = FkKey::of(R::value_to_dynamic(key_value))
                .is_some_and(|key| index.holders_into(&key, &mut holders));
            if !found {
                out.push(kind.empty());
                continue;
            }
            let mut group = Vec::with_capacity(holders.len());
            for pk in &holders {
                if let Some(row) = self.rows.get(pk) {
                    let record = row.value();
                    if record.equals(key_value) && op.filter.is_none_or(|f| f.matches(record)) {
                        group.push(record.clone());
                    }
                }
            }
            if !op.sort.is_empty() && group.len() > 1 {
                let query = ash_core::query::Query {
                    sort: op.sort.to_vec(),
                    ..Default::default()
                };
                group = query.finish_in_memory(group);
            }
            let values = group.iter().map(|r| op.value_of(r)).collect();
            out.push(compute(kind, op.info.uniq, values));
        }
        out
    }
}
