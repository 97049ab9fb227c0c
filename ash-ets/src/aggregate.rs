//! Aggregates from the foreign-key index: for each parent key, one index lookup gives the
//! primary keys of its related records. A `count` or `exists` with neither field nor
//! filter is the size of that entry (no record is read); the other aggregates read those
//! records by primary key, filter and sort them, and aggregate their values. Nothing
//! scans the table, unless the attribute has no index (then one scan for all the keys).

use crate::fk::FkKey;
use crate::EtsTable;
use ash_core::aggregate::{compute, AggregateKind, AggregateOp};
use ash_core::resource::Resource;
use ash_core::value::Value;

impl<R: Resource> EtsTable<R> {
    pub(crate) fn aggregate_now(&self, op: &AggregateOp<'_, R>) -> Vec<Value> {
        let Some(index) = self.fks.iter().find(|i| i.field == op.key_field) else {
            return op.compute_grouped(&self.read_now(&op.as_query()));
        };
        let kind = op.info.kind;
        let bare = op.filter.is_none() && op.field.is_none() && !op.info.uniq;
        let mut out = Vec::with_capacity(op.keys.len());
        for key_value in op.keys {
            let Some(key) = FkKey::of(R::value_to_dynamic(key_value)) else {
                out.push(kind.empty());
                continue;
            };
            let Some(holders) = index.map.get(&key) else {
                out.push(kind.empty());
                continue;
            };
            if bare && kind == AggregateKind::Count {
                out.push(Value::Int(i64::try_from(holders.len()).unwrap_or(i64::MAX)));
                continue;
            }
            if bare && kind == AggregateKind::Exists {
                out.push(Value::Bool(!holders.is_empty()));
                continue;
            }
            let holders = holders.value().clone();
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
