//! Aggregates over relationships (Ash's `aggregates` section).
//!
//! A resource declares them with
//! `#[aggregates(count(comment_count, comments), sum(score_total, comments, field = score, default = 0))]`;
//! `#[resource]` adds one [`Loaded`] field per aggregate to the struct and gives each a
//! typed handle ([`Aggregate`], `Post::COMMENT_COUNT`) that can be loaded
//! (`Query::new().load(Post::COMMENT_COUNT)`), filtered on
//! (`.filter(Post::COMMENT_COUNT.gt(3))`) and loaded onto records already read
//! (`domain.load(&posts, Post::COMMENT_COUNT)`).
//!
//! # Kinds, types and empty values (as Ash gives them)
//!
//! | kind | field | value type | nothing related |
//! |---|---|---|---|
//! | `count` | optional (counts the non-nil values) | `i64` | `0` |
//! | `exists` | none | `bool` | `false` |
//! | `sum`, `min`, `max`, `first` | required | the field's type, `Option` of it without `default` | nil |
//! | `avg` | required (numeric) | `f64`, `Option<f64>` without `default` | nil |
//! | `list` | required | `Vec` of the field's type | `[]` |
//!
//! Nil field values are skipped by every kind (`first` gives the first non-nil value, in
//! the aggregate's `sort`). `uniq = true` (count and list only) counts or lists each value
//! once. A `default` replaces a nil result. `filter` restricts the related records.
//!
//! # Computing (a description, not code)
//!
//! An aggregate crosses the data-layer boundary as data: the relationship's static facts,
//! the kind, the field, the filter and sort, [`AggregateOp`]. PostgreSQL renders it inside
//! the one read statement (`LEFT JOIN LATERAL (SELECT count(*), sum(..) ...) ON TRUE` per
//! group of aggregates over one relationship and filter; `EXISTS`, `first` and `list` as
//! their own subqueries); ETS computes it from the relationship's foreign-key index
//! ([`DataLayer::aggregate`]), a lookup per parent, never a scan of the child table. A bare
//! `count` or `exists` (no field, filter or `uniq`) loaded on ETS goes further: the
//! layer's [`DataLayer::immediate_counter`] is asked once, then each parent's count is
//! looked up and written onto it as the parents are walked, with no list of keys or
//! values in between ([`AggregatePath::immediate_counts`]).
//!
//! # Paths
//!
//! An aggregate is over one relationship or a path through several
//! (`count(comment_count, [posts, comments])`, [`Then`]), many_to_many included
//! ([`AggregatePath`]). Each relationship's own filter applies; the aggregate's `filter` is
//! on the last relationship's records. A record reached along two paths counts twice, as a
//! join (and Ash) gives it. PostgreSQL renders a path inside the same subquery (a derived
//! table of the keys each relationship reaches, [`AggregateInfo::path`],
//! [`AggregateRef::through`]); other layers load each relationship once for all the
//! parents of that hop ([`AggregatePath::reach`]; on ETS, lookups in that hop's
//! foreign-key index) and aggregate in memory.

use crate::data_layer::DataLayer;
use crate::error::{ErrorKind, FrameworkError};
use crate::filter::{CmpOp, DynFilter, Filter};
use crate::future::BoxFuture;
use crate::query::{Query, SortOrder};
use crate::relationship::{layer, Direct, Loaded, RelationshipInfo, Tables};
use crate::resource::Resource;
use crate::value::Value;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::sync::Arc;

mod path;
pub use path::{Reached, Then};

/// The kinds of aggregate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AggregateKind {
    /// How many related records (with a field: how many non-nil values).
    Count,
    /// Whether there is a related record.
    Exists,
    /// The sum of the field's non-nil values.
    Sum,
    /// The smallest non-nil value.
    Min,
    /// The largest non-nil value.
    Max,
    /// The mean of the non-nil values, as `f64`.
    Avg,
    /// The first non-nil value in the aggregate's sort.
    First,
    /// Every non-nil value, in the aggregate's sort.
    List,
}

impl AggregateKind {
    /// The kind's name in the DSL.
    pub fn name(self) -> &'static str {
        match self {
            AggregateKind::Count => "count",
            AggregateKind::Exists => "exists",
            AggregateKind::Sum => "sum",
            AggregateKind::Min => "min",
            AggregateKind::Max => "max",
            AggregateKind::Avg => "avg",
            AggregateKind::First => "first",
            AggregateKind::List => "list",
        }
    }

    /// The value over no related record, before any `default` (Ash's
    /// `default_value/1`, with `false` for exists as the data layers give it).
    pub fn empty(self) -> Value {
        match self {
            AggregateKind::Count => Value::Int(0),
            AggregateKind::Exists => Value::Bool(false),
            AggregateKind::List => Value::List(Vec::new()),
            _ => Value::Null,
        }
    }

    /// A `count` or `exists` of `n` related records (`None` for the other kinds): what a
    /// bare one (no field, filter or `uniq`) is, whatever the data layer.
    pub fn of_count(self, n: usize) -> Option<Value> {
        match self {
            AggregateKind::Count => Some(Value::Int(i64::try_from(n).unwrap_or(i64::MAX))),
            AggregateKind::Exists => Some(Value::Bool(n > 0)),
            _ => None,
        }
    }

    /// Whether the kind can be computed with others over one scan of the related records
    /// (a SQL `GROUP BY` group): count, sum, min, max and avg.
    pub fn groupable(self) -> bool {
        matches!(
            self,
            AggregateKind::Count
                | AggregateKind::Sum
                | AggregateKind::Min
                | AggregateKind::Max
                | AggregateKind::Avg
        )
    }
}

/// Static facts about one aggregate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AggregateInfo {
    /// Its name, `comment_count`.
    pub name: &'static str,
    /// Its kind.
    pub kind: AggregateKind,
    /// The relationship it aggregates over: the first of its path.
    pub relationship: &'static RelationshipInfo,
    /// Its relationship path, first to last (`[posts, comments]`); one relationship for
    /// most aggregates.
    pub path: &'static [&'static RelationshipInfo],
    /// The destination's attribute aggregated, if any.
    pub field: Option<&'static str>,
    /// `uniq = true` (count and list).
    pub uniq: bool,
}

impl AggregateInfo {
    /// The last relationship of its path: the one whose destination is aggregated.
    pub fn destination(&self) -> &'static RelationshipInfo {
        self.path.last().copied().unwrap_or(self.relationship)
    }
}

/// An aggregate for the data layer of the related resource `D`: for each of `keys`, the
/// records whose attribute `key_field` holds it and that match `filter`, in `sort` order,
/// aggregated. The answer holds one value per key, in `keys` order.
#[derive(Debug)]
pub struct AggregateOp<'a, D: Resource> {
    /// Its static facts.
    pub info: &'static AggregateInfo,
    /// The attribute matched with the parents' keys (a has_many's `post_id`).
    pub key_field: D::Field,
    /// The parents' keys, none nil (a key may repeat: each occurrence gets its value).
    pub keys: &'a [D::Value],
    /// The attribute aggregated (`None`: the records themselves).
    pub field: Option<D::Field>,
    /// Only these related records count.
    pub filter: Option<&'a Filter<D>>,
    /// Their order (first, list).
    pub sort: &'a [(D::Field, SortOrder)],
}

impl<D: Resource> AggregateOp<'_, D> {
    /// The related records as a load would read them: `key_field in keys` and the filter,
    /// sorted.
    pub fn as_query(&self) -> Query<D> {
        let mut query = Query {
            filter: Some(Filter::In(self.key_field, self.keys.to_vec())),
            sort: self.sort.to_vec(),
            ..Query::default()
        };
        if let Some(filter) = self.filter {
            query = query.filter(filter.clone());
        }
        query
    }

    /// The value of one record for the aggregate (`Bool(true)` when there is no field).
    pub fn value_of(&self, record: &D) -> Value {
        match self.field {
            Some(field) => D::value_to_dynamic(&record.get(field)),
            None => Value::Bool(true),
        }
    }

    /// Aggregates `records` (already read, filtered and sorted) in memory: one value per
    /// key, in `keys` order. What data layers without a better way answer with.
    pub fn compute_grouped(&self, records: &[D]) -> Vec<Value> {
        let mut position: HashMap<HashKey, usize> = HashMap::with_capacity(self.keys.len());
        for (i, key) in self.keys.iter().enumerate() {
            if let Some(k) = HashKey::of(&D::value_to_dynamic(key)) {
                position.entry(k).or_insert(i);
            }
        }
        let mut groups: Vec<Vec<Value>> = vec![Vec::new(); self.keys.len()];
        for record in records {
            let key = D::value_to_dynamic(&record.get(self.key_field));
            if let Some(&i) = HashKey::of(&key).and_then(|k| position.get(&k)) {
                groups[i].push(self.value_of(record));
            }
        }
        let mut out: Vec<Value> = groups
            .into_iter()
            .map(|values| compute(self.info.kind, self.info.uniq, values))
            .collect();
        // A repeated key: the value computed at its first occurrence.
        for (i, key) in self.keys.iter().enumerate() {
            if let Some(&first) =
                HashKey::of(&D::value_to_dynamic(key)).and_then(|k| position.get(&k))
            {
                if first != i {
                    out[i] = out[first].clone();
                }
            }
        }
        out
    }
}

/// A hashable copy of a key value (to group related records by parent).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum HashKey {
    Bool(bool),
    Int(i128),
    Str(String),
    Uuid(uuid::Uuid),
}

impl HashKey {
    fn of(value: &Value) -> Option<HashKey> {
        Some(match value {
            Value::Bool(b) => HashKey::Bool(*b),
            Value::Int(i) => HashKey::Int((*i).into()),
            Value::UInt(u) => HashKey::Int((*u).into()),
            Value::Timestamp(t) => HashKey::Int((*t).into()),
            Value::String(s) => HashKey::Str(s.clone()),
            Value::Uuid(u) => HashKey::Uuid(*u),
            Value::Null | Value::Float(_) | Value::List(_) => return None,
        })
    }
}

/// Orders two dynamic values of one type (integers and floats together); `None` for nil
/// or values that do not compare.
pub fn compare_values(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Null, _) | (_, Value::Null) => None,
        (Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
        (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
        (Value::Uuid(a), Value::Uuid(b)) => Some(a.cmp(b)),
        (Value::Timestamp(a), Value::Timestamp(b)) => Some(a.cmp(b)),
        (Value::List(a), Value::List(b)) => {
            for (x, y) in a.iter().zip(b) {
                match compare_values(x, y)? {
                    Ordering::Equal => continue,
                    o => return Some(o),
                }
            }
            Some(a.len().cmp(&b.len()))
        }
        (Value::Float(a), Value::Float(b)) => a.partial_cmp(b),
        _ => match (as_i128(a), as_i128(b)) {
            (Some(x), Some(y)) => Some(x.cmp(&y)),
            _ => as_f64(a)?.partial_cmp(&as_f64(b)?),
        },
    }
}

fn as_i128(v: &Value) -> Option<i128> {
    match v {
        Value::Int(i) => Some((*i).into()),
        Value::UInt(u) => Some((*u).into()),
        _ => None,
    }
}

fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::UInt(u) => Some(*u as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    }
}

/// Aggregates the values of one parent's related records (in order), by Ash's rules:
/// nils are skipped, `uniq` keeps the first of equal values; nothing left gives
/// [`AggregateKind::empty`].
pub fn compute(kind: AggregateKind, uniq: bool, values: Vec<Value>) -> Value {
    let mut values: Vec<Value> = values.into_iter().filter(|v| *v != Value::Null).collect();
    if uniq {
        let mut kept: Vec<Value> = Vec::with_capacity(values.len());
        for v in values {
            if !kept.contains(&v) {
                kept.push(v);
            }
        }
        values = kept;
    }
    match kind {
        AggregateKind::Count | AggregateKind::Exists => {
            kind.of_count(values.len()).unwrap_or_else(|| kind.empty())
        }
        AggregateKind::List => Value::List(values),
        AggregateKind::First => values.into_iter().next().unwrap_or(Value::Null),
        AggregateKind::Min | AggregateKind::Max => {
            let want = if kind == AggregateKind::Min {
                Ordering::Less
            } else {
                Ordering::Greater
            };
            let mut best: Option<Value> = None;
            for v in values {
                best = match best {
                    Some(b) if compare_values(&v, &b) != Some(want) => Some(b),
                    _ => Some(v),
                };
            }
            best.unwrap_or(Value::Null)
        }
        AggregateKind::Sum => sum(&values).unwrap_or(Value::Null),
        AggregateKind::Avg => {
            if values.is_empty() {
                return Value::Null;
            }
            let total: f64 = values.iter().filter_map(as_f64).sum();
            Value::Float(total / values.len() as f64)
        }
    }
}

/// The sum of numeric values: an integer while every value is one (checked: an overflow
/// of `i64` gives a float), else a float; `None` for no values.
fn sum(values: &[Value]) -> Option<Value> {
    if values.is_empty() {
        return None;
    }
    if values.iter().all(|v| as_i128(v).is_some()) {
        let total: Option<i128> = values
            .iter()
            .try_fold(0i128, |acc, v| acc.checked_add(as_i128(v)?));
        if let Some(total) = total {
            if let Ok(i) = i64::try_from(total) {
                return Some(Value::Int(i));
            }
            if let Ok(u) = u64::try_from(total) {
                return Some(Value::UInt(u));
            }
        }
    }
    Some(Value::Float(values.iter().filter_map(as_f64).sum()))
}

/// The type of the values an attribute of type `Self` gives an aggregate: `T` for `T` and
/// `Option<T>` (nils are skipped).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be aggregated",
    label = "not an attribute type aggregates support",
    note = "aggregate an attribute of a built-in type (integers, floats, bool, String, Uuid, SystemTime), or an `Option` of one"
)]
pub trait AggregateField {
    /// The type without `Option`.
    type Inner: crate::attribute::AttributeValue;
}

macro_rules! aggregate_fields {
    ($($t:ty),*) => {$(
        impl AggregateField for $t {
            type Inner = $t;
        }
    )*};
}
aggregate_fields!(
    i8,
    i16,
    i32,
    i64,
    u8,
    u16,
    u32,
    u64,
    usize,
    isize,
    f32,
    f64,
    bool,
    String,
    uuid::Uuid,
    std::time::SystemTime
);

impl<T: AggregateField + crate::attribute::AttributeValue> AggregateField for Option<T> {
    type Inner = T::Inner;
}

/// A numeric attribute type: what `sum` and `avg` take.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not numeric: `sum` and `avg` need a numeric field",
    label = "not a numeric attribute",
    note = "aggregate an integer or float attribute (or an `Option` of one) with `sum`/`avg`; use `min`, `max`, `first` or `list` for other types"
)]
pub trait Summable {}

macro_rules! summable {
    ($($t:ty),*) => {$( impl Summable for $t {} )*};
}
summable!(i8, i16, i32, i64, u8, u16, u32, u64, usize, isize, f32, f64);
impl<T: Summable> Summable for Option<T> {}

/// The value type of the aggregate whose name hashes to `K`, on its resource (generated
/// per aggregate): the struct's field and the handle name it, so that a mistake in the
/// declaration is reported once, where it is made.
#[doc(hidden)]
pub trait AggregateValueType<const K: u128> {
    /// The value type (`i64` for a count).
    type Value;
    /// The type compared with in filters.
    type Compare;
}

/// Generated code's check of [`Summable`].
#[doc(hidden)]
pub const fn assert_summable<T: Summable>() {}

/// What [`AggregatePath::immediate_counts`] hands each parent's count to.
pub type CountSink<'a, S> = dyn FnMut(&mut S, usize) -> Result<(), ErrorKind> + 'a;

/// The relationship path of an aggregate: one relationship ([`Direct`], [`ManyToMany`]) or
/// several ([`Then`]), generated by `#[aggregates(...)]`. How the aggregate is computed
/// for data layers that do not render it in their read.
///
/// [`ManyToMany`]: crate::relationship::ManyToMany
pub trait AggregatePath: Copy + Send + Sync + 'static {
    /// The resource declaring the aggregate.
    type Source: Resource;
    /// The resource aggregated (the last relationship's destination).
    type Destination: Resource;

    /// The last relationship's own filter (`has_many(.., filter = ..)`): the aggregate
    /// sees only the destination records matching it.
    fn destination_filter(&self) -> Option<Filter<Self::Destination>>;

    /// The own filters of the relationships before the last, as data, first to last
    /// (what a SQL layer renders at each hop; `None` for a relationship without one).
    fn through_filters(&self, out: &mut Vec<Option<DynFilter>>);

    /// Whether the path is one belongs_to, has_one or has_many (computed by one
    /// [`DataLayer::aggregate`]).
    fn is_direct(&self) -> bool {
        false
    }

    /// The destination records each of `parents` reaches through the path (the last
    /// relationship's records matching `query`'s filter, which holds its own filter
    /// already; the relationships before apply theirs): one load per relationship for all
    /// the parents. A record reached along two paths is reached twice, as a join gives it.
    fn reach<'a>(
        &'a self,
        tables: &'a dyn Tables,
        parents: &'a [Self::Source],
        query: &'a Query<Self::Destination>,
    ) -> BoxFuture<'a, Result<path::Reached<Self::Destination>, ErrorKind>>;

    /// The aggregate's value for each of `parents` (in order), with nothing related giving
    /// [`AggregateKind::empty`]. `spec.filter` holds the last relationship's own filter.
    fn aggregate_values<'a>(
        &'a self,
        tables: &'a dyn Tables,
        parents: &'a [Self::Source],
        spec: &'a AggregateSpec<Self::Destination>,
    ) -> BoxFuture<'a, Result<Vec<Value>, ErrorKind>> {
        path::by_reaching(*self, tables, parents, spec)
    }

    /// A bare `count` or `exists` (no field, filter or `uniq`) counted at once, when the
    /// path and the related layer can ([`DataLayer::immediate_counter`]): each parent's
    /// number of related records handed to `each`, in order, with no list of keys or values
    /// in between. `None` when they cannot (nothing is handed; the default):
    /// [`aggregate_values`](Self::aggregate_values) computes it then.
    fn immediate_counts(
        &self,
        tables: &dyn Tables,
        parents: &mut [Self::Source],
        each: &mut CountSink<'_, Self::Source>,
    ) -> Option<Result<(), ErrorKind>> {
        let _ = (tables, parents, each);
        None
    }
}

/// The destination side of an aggregate: what the data layer gets (see [`AggregateOp`]).
pub struct AggregateSpec<D: Resource> {
    /// Its static facts.
    pub info: &'static AggregateInfo,
    /// The attribute aggregated.
    pub field: Option<D::Field>,
    /// The filter on the related records: the aggregate's and the last relationship's.
    pub filter: Option<Filter<D>>,
    /// Their order.
    pub sort: Vec<(D::Field, SortOrder)>,
}

impl<S, D, K, T> AggregatePath for Direct<S, D, K, T>
where
    S: Resource,
    D: Resource,
    K: Clone + Eq + Hash + Send + Sync + 'static,
    T: crate::relationship::FromRelated<D> + 'static,
{
    type Source = S;
    type Destination = D;

    fn destination_filter(&self) -> Option<Filter<D>> {
        self.filter.map(|f| f())
    }

    fn through_filters(&self, _out: &mut Vec<Option<DynFilter>>) {}

    fn is_direct(&self) -> bool {
        true
    }

    fn reach<'a>(
        &'a self,
        tables: &'a dyn Tables,
        parents: &'a [S],
        query: &'a Query<D>,
    ) -> BoxFuture<'a, Result<path::Reached<D>, ErrorKind>> {
        path::reach_direct(self, tables, parents, query)
    }

    fn aggregate_values<'a>(
        &'a self,
        tables: &'a dyn Tables,
        parents: &'a [S],
        spec: &'a AggregateSpec<D>,
    ) -> BoxFuture<'a, Result<Vec<Value>, ErrorKind>> {
        Box::pin(async move {
            // Each parent's position in `keys`. Keys by primary key (a has_many's `id`) are
            // distinct already: no hashing then; others (a belongs_to's foreign key, shared
            // by many parents) are deduplicated.
            let unique = S::field_name(S::PRIMARY_KEY) == self.info.source_attribute;
            let mut slots: Vec<Option<usize>> = Vec::with_capacity(parents.len());
            let mut keys: Vec<D::Value> = Vec::with_capacity(parents.len());
            let mut index: HashMap<K, usize> = HashMap::new();
            for parent in parents {
                // `dest_value` is `None` only for keys of different types, which
                // `SameKey` refuses at compile time.
                let slot = (self.source_key)(parent).and_then(|k| {
                    if unique {
                        keys.push((self.dest_value)(k)?);
                        return Some(keys.len() - 1);
                    }
                    if let Some(&i) = index.get(&k) {
                        return Some(i);
                    }
                    keys.push((self.dest_value)(k.clone())?);
                    index.insert(k, keys.len() - 1);
                    Some(keys.len() - 1)
                });
                slots.push(slot);
            }
            let found = if keys.is_empty() {
                Vec::new()
            } else {
                let filter = match &spec.filter {
                    Some(f) => Some(crate::relationship::resolve_filter(tables, f).await?),
                    None => None,
                };
                let op = AggregateOp {
                    info: spec.info,
                    key_field: self.dest_field,
                    keys: &keys,
                    field: spec.field,
                    filter: filter.as_ref(),
                    sort: &spec.sort,
                };
                let ctx = tables.tables_context();
                layer::<D>(tables)?.aggregate(ctx, &op).await?
            };
            Ok(slots
                .into_iter()
                .map(|slot| {
                    slot.and_then(|i| found.get(i).cloned())
                        .unwrap_or_else(|| spec.info.kind.empty())
                })
                .collect())
        })
    }

    /// One counter lookup per parent, written as it goes: parents sharing a key (a
    /// belongs_to's) are each looked up, which costs less than deduplicating them.
    fn immediate_counts(
        &self,
        tables: &dyn Tables,
        parents: &mut [S],
        each: &mut CountSink<'_, S>,
    ) -> Option<Result<(), ErrorKind>> {
        // The relationship's own filter decides which records count: not a bare count.
        if self.filter.is_some() {
            return None;
        }
        // A missing table is reported by the general path.
        let layer = layer::<D>(tables).ok()?;
        let count = layer.immediate_counter(tables.tables_context(), self.dest_field)?;
        for parent in parents.iter_mut() {
            let n = (self.source_key)(parent)
                .and_then(self.dest_value)
                .map_or(0, |key| count(&key));
            if let Err(err) = each(parent, n) {
                return Some(Err(err));
            }
        }
        Some(Ok(()))
    }
}

/// The sort of an aggregate's related records (first, list).
pub type AggregateSortKeys<D> = Vec<(<D as Resource>::Field, SortOrder)>;

/// A typed aggregate handle (`Post::COMMENT_COUNT`), generated by
/// `#[aggregates(...)]`: load it, filter on it. `P` is its relationship path, `T` its
/// value type, `C` the type it is compared with (`T` without `Option`). The fields are for
/// generated code.
pub struct Aggregate<P: AggregatePath, T, C> {
    #[doc(hidden)]
    pub info: &'static AggregateInfo,
    #[doc(hidden)]
    pub path: P,
    #[doc(hidden)]
    pub field: Option<<P::Destination as Resource>::Field>,
    #[doc(hidden)]
    pub filter: fn() -> Option<Filter<P::Destination>>,
    #[doc(hidden)]
    pub sort: fn() -> AggregateSortKeys<P::Destination>,
    #[doc(hidden)]
    pub default: fn() -> Value,
    #[doc(hidden)]
    pub decode: fn(Value) -> Result<T, String>,
    #[doc(hidden)]
    pub value: fn(&T) -> Value,
    #[doc(hidden)]
    pub encode: fn(C) -> Value,
    #[doc(hidden)]
    pub slot: fn(&mut P::Source) -> &mut Loaded<T>,
    #[doc(hidden)]
    pub get: fn(&P::Source) -> &Loaded<T>,
}

impl<P: AggregatePath, T, C> Clone for Aggregate<P, T, C> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<P: AggregatePath, T, C> Copy for Aggregate<P, T, C> {}

impl<P: AggregatePath, T, C> fmt::Debug for Aggregate<P, T, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Aggregate({}.{})",
            <P::Source as Resource>::NAME,
            self.info.name
        )
    }
}

impl<P, T, C> Aggregate<P, T, C>
where
    P: AggregatePath,
    T: Send + Sync + 'static,
    C: 'static,
{
    /// Its static facts.
    pub fn info(&self) -> &'static AggregateInfo {
        self.info
    }

    /// The filter on the destination records: the aggregate's `filter` and the last
    /// relationship's own filter.
    fn full_filter(&self) -> Option<Filter<P::Destination>> {
        match (self.path.destination_filter(), (self.filter)()) {
            (Some(own), Some(given)) => Some(own.and(given)),
            (own, given) => own.or(given),
        }
    }

    /// The aggregate as a description: for loads, filters and data layers.
    pub fn to_ref(self) -> AggregateRef<P::Source> {
        let filter = self.full_filter().map(|f| f.to_dyn());
        let sort = (self.sort)()
            .into_iter()
            .map(|(f, o)| (<P::Destination as Resource>::field_name(f), o))
            .collect();
        let mut through = Vec::new();
        self.path.through_filters(&mut through);
        AggregateRef {
            info: self.info,
            filter,
            through,
            sort,
            default: (self.default)(),
            node: Arc::new(self),
        }
    }

    fn compare(self, op: CmpOp, value: C) -> Filter<P::Source> {
        let value = (self.encode)(value);
        Filter::Aggregate(AggregateFilter {
            aggregate: self.to_ref(),
            op,
            value,
        })
    }

    /// `aggregate == value`.
    pub fn eq(self, value: impl Into<C>) -> Filter<P::Source> {
        self.compare(CmpOp::Eq, value.into())
    }
    /// `aggregate != value` (a nil aggregate matches neither `==` nor `!=`).
    pub fn not_eq(self, value: impl Into<C>) -> Filter<P::Source> {
        self.compare(CmpOp::NotEq, value.into())
    }
    /// `aggregate < value`.
    pub fn lt(self, value: impl Into<C>) -> Filter<P::Source> {
        self.compare(CmpOp::Lt, value.into())
    }
    /// `aggregate <= value`.
    pub fn lte(self, value: impl Into<C>) -> Filter<P::Source> {
        self.compare(CmpOp::Lte, value.into())
    }
    /// `aggregate > value`.
    pub fn gt(self, value: impl Into<C>) -> Filter<P::Source> {
        self.compare(CmpOp::Gt, value.into())
    }
    /// `aggregate >= value`.
    pub fn gte(self, value: impl Into<C>) -> Filter<P::Source> {
        self.compare(CmpOp::Gte, value.into())
    }
}

/// An aggregate of `S`, type-erased: its description (what a SQL layer renders) and how
/// to compute it and set it on records.
pub struct AggregateRef<S: Resource> {
    /// Its static facts.
    pub info: &'static AggregateInfo,
    /// The filter on the related records (the aggregate's and the last relationship's
    /// own), as data.
    pub filter: Option<DynFilter>,
    /// The own filters of the path's relationships before the last, first to last
    /// (empty for a path of one relationship).
    pub through: Vec<Option<DynFilter>>,
    /// Their order (first, list), as attribute names.
    pub sort: Vec<(&'static str, SortOrder)>,
    /// The value that replaces a nil result (`Null` when none is declared;
    /// [`AggregateKind::empty`] otherwise applies).
    pub default: Value,
    node: Arc<dyn AggregateNode<S>>,
}

impl<S: Resource> Clone for AggregateRef<S> {
    fn clone(&self) -> Self {
        AggregateRef {
            info: self.info,
            filter: self.filter.clone(),
            through: self.through.clone(),
            sort: self.sort.clone(),
            default: self.default.clone(),
            node: self.node.clone(),
        }
    }
}

impl<S: Resource> PartialEq for AggregateRef<S> {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.info, other.info)
            && self.filter == other.filter
            && self.through == other.through
    }
}

impl<S: Resource> fmt::Debug for AggregateRef<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.info.kind.name(), self.info.name)
    }
}

impl<S: Resource> AggregateRef<S> {
    /// `value` with the default applied to a nil.
    pub fn with_default(&self, value: Value) -> Value {
        if value == Value::Null {
            self.default.clone()
        } else {
            value
        }
    }

    /// Sets the aggregate on `record` from a value a data layer computed (nil: the
    /// default).
    pub fn set(&self, record: &mut S, value: Value) -> Result<(), ErrorKind> {
        self.node.set(record, self.with_default(value))
    }

    /// Whether it is loaded on `record`.
    pub fn is_loaded(&self, record: &S) -> bool {
        self.node.is_loaded(record)
    }

    /// Its values for `parents` (defaults applied), computed through the related
    /// resource's data layer.
    pub fn values<'a>(
        &'a self,
        tables: &'a dyn Tables,
        parents: &'a [S],
    ) -> BoxFuture<'a, Result<Vec<Value>, ErrorKind>> {
        Box::pin(async move {
            let values = self.node.values(tables, parents).await?;
            Ok(values.into_iter().map(|v| self.with_default(v)).collect())
        })
    }
}

trait AggregateNode<S: Resource>: Send + Sync + 'static {
    fn set(&self, record: &mut S, value: Value) -> Result<(), ErrorKind>;
    fn is_loaded(&self, record: &S) -> bool;
    fn values<'a>(
        &'a self,
        tables: &'a dyn Tables,
        parents: &'a [S],
    ) -> BoxFuture<'a, Result<Vec<Value>, ErrorKind>>;
    /// Sets a bare count or exists on every parent at once (see
    /// [`AggregatePath::immediate_counts`]); `None` when it cannot.
    fn load_immediate(
        &self,
        tables: &dyn Tables,
        parents: &mut [S],
    ) -> Option<Result<(), ErrorKind>>;
}

impl<P, T, C> AggregateNode<P::Source> for Aggregate<P, T, C>
where
    P: AggregatePath,
    T: Send + Sync + 'static,
    C: 'static,
{
    fn set(&self, record: &mut P::Source, value: Value) -> Result<(), ErrorKind> {
        let typed = (self.decode)(value).map_err(|message| {
            ErrorKind::Framework(FrameworkError {
                message: format!(
                    "aggregate {}.{}: {message}",
                    <P::Source as Resource>::NAME,
                    self.info.name
                ),
            })
        })?;
        *(self.slot)(record) = Loaded::new(typed);
        Ok(())
    }

    fn is_loaded(&self, record: &P::Source) -> bool {
        (self.get)(record).is_loaded()
    }

    fn values<'a>(
        &'a self,
        tables: &'a dyn Tables,
        parents: &'a [P::Source],
    ) -> BoxFuture<'a, Result<Vec<Value>, ErrorKind>> {
        Box::pin(async move {
            // A layer that computes aggregates in its read computes a path there too: one
            // read of the parents by primary key (one statement on PostgreSQL).
            if !self.path.is_direct()
                && <<P::Source as Resource>::DataLayer as DataLayer<P::Source>>::NATIVE_AGGREGATES
            {
                return path::by_reading(self, tables, parents).await;
            }
            let spec = AggregateSpec {
                info: self.info,
                field: self.field,
                filter: self.full_filter(),
                sort: (self.sort)(),
            };
            self.path.aggregate_values(tables, parents, &spec).await
        })
    }

    fn load_immediate(
        &self,
        tables: &dyn Tables,
        parents: &mut [P::Source],
    ) -> Option<Result<(), ErrorKind>> {
        let kind = self.info.kind;
        // Bare: the number of related records is the answer (the caller checked there is
        // no filter). A count or exists is never nil, so no default applies.
        if !matches!(kind, AggregateKind::Count | AggregateKind::Exists)
            || self.field.is_some()
            || self.info.uniq
        {
            return None;
        }
        let mut each = |record: &mut P::Source, n: usize| {
            // Count and exists have these value types: written as they are (the type test
            // is static), with no dynamic value decoded per parent.
            let slot: &mut dyn std::any::Any = (self.slot)(record);
            if kind == AggregateKind::Count {
                if let Some(slot) = slot.downcast_mut::<Loaded<i64>>() {
                    *slot = Loaded::new(i64::try_from(n).unwrap_or(i64::MAX));
                    return Ok(());
                }
            } else if let Some(slot) = slot.downcast_mut::<Loaded<bool>>() {
                *slot = Loaded::new(n > 0);
                return Ok(());
            }
            match kind.of_count(n) {
                Some(value) => self.set(record, value),
                None => Ok(()),
            }
        };
        self.path.immediate_counts(tables, parents, &mut each)
    }
}

/// Loads the aggregate on `parents` (those where it is not loaded yet, unless `force`).
pub(crate) fn load_onto<'a, S: Resource>(
    aggregate: &'a AggregateRef<S>,
    tables: &'a dyn Tables,
    parents: &'a mut [S],
) -> BoxFuture<'a, Result<(), ErrorKind>> {
    Box::pin(async move {
        if parents.iter().all(|p| aggregate.is_loaded(p)) {
            return Ok(());
        }
        if aggregate.filter.is_none() {
            if let Some(done) = aggregate.node.load_immediate(tables, parents) {
                return done;
            }
        }
        let values = aggregate.node.values(tables, parents).await?;
        for (parent, value) in parents.iter_mut().zip(values) {
            aggregate.set(parent, value)?;
        }
        Ok(())
    })
}

/// An aggregate among a query's loads.
struct AggregateLoad<S: Resource>(AggregateRef<S>);

impl<S: Resource> crate::relationship::LoadNode<S> for AggregateLoad<S> {
    fn name(&self) -> &'static str {
        self.0.info.name
    }

    fn run<'a>(
        &'a self,
        tables: &'a dyn Tables,
        parents: &'a mut [S],
    ) -> BoxFuture<'a, Result<(), ErrorKind>> {
        load_onto(&self.0, tables, parents)
    }

    fn aggregate(&self) -> Option<&AggregateRef<S>> {
        Some(&self.0)
    }
}

impl<P, T, C> crate::relationship::IntoLoad<P::Source> for Aggregate<P, T, C>
where
    P: AggregatePath,
    T: Send + Sync + 'static,
    C: 'static,
{
    fn into_load(self) -> crate::relationship::Load<P::Source> {
        crate::relationship::Load(Arc::new(AggregateLoad(self.to_ref())))
    }
}

/// A comparison on an aggregate as data ([`DynFilter::Aggregate`]): what a SQL layer
/// renders and errors show.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DynAggregateFilter {
    /// The aggregate's name.
    pub aggregate: &'static str,
    /// Its static facts (for SQL).
    #[serde(skip)]
    pub info: &'static AggregateInfo,
    /// Its filter on the related records.
    #[serde(skip)]
    pub filter: Option<DynFilter>,
    /// The own filters of its path's relationships before the last.
    #[serde(skip)]
    pub through: Vec<Option<DynFilter>>,
    /// The value replacing a nil result (`Null`: none).
    #[serde(skip)]
    pub default: Value,
    /// The comparison.
    pub op: CmpOp,
    /// The value compared with.
    pub value: Value,
}

/// A comparison on an aggregate: `Post::COMMENT_COUNT.gt(3)`.
#[derive(Clone, PartialEq)]
pub struct AggregateFilter<S: Resource> {
    /// The aggregate.
    pub aggregate: AggregateRef<S>,
    /// The comparison.
    pub op: CmpOp,
    /// The value compared with.
    pub value: Value,
}

impl<S: Resource> fmt::Debug for AggregateFilter<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {}",
            self.aggregate.info.name,
            self.op.symbol(),
            self.value
        )
    }
}

impl<S: Resource> AggregateFilter<S> {
    /// Whether an aggregate value (default applied) satisfies the comparison; nil
    /// satisfies nothing, as in Ash.
    pub fn holds(&self, value: &Value) -> bool {
        self.op.holds(compare_values(value, &self.value))
    }

    /// The filter as data (for SQL and errors).
    pub fn to_dyn(&self) -> DynFilter {
        DynFilter::Aggregate(Box::new(DynAggregateFilter {
            aggregate: self.aggregate.info.name,
            info: self.aggregate.info,
            filter: self.aggregate.filter.clone(),
            through: self.aggregate.through.clone(),
            default: self.aggregate.default.clone(),
            op: self.op,
            value: self.value.clone(),
        }))
    }

    /// The key filter it comes to for data layers that do not render it: every record of
    /// `S` read, the aggregate computed for all of them from the related layer, the
    /// primary keys of those that match.
    pub(crate) fn resolve<'a>(
        &'a self,
        tables: &'a dyn Tables,
    ) -> BoxFuture<'a, Result<Filter<S>, ErrorKind>> {
        Box::pin(async move {
            let ctx = tables.tables_context();
            let all = layer::<S>(tables)?.read(ctx, &Query::new()).await?;
            let values = self.aggregate.values(tables, &all).await?;
            let keys = all
                .iter()
                .zip(values)
                .filter(|(_, v)| self.holds(v))
                .map(|(r, _)| S::primary_key_value(r.primary_key()))
                .collect();
            Ok(Filter::In(S::PRIMARY_KEY, keys))
        })
    }
}

/// Computes an aggregate from the related records read through [`DataLayer::load`]: the
/// default of [`DataLayer::aggregate`].
pub(crate) async fn by_loading<D: Resource, L: DataLayer<D> + ?Sized>(
    layer: &L,
    ctx: &crate::context::Context,
    op: &AggregateOp<'_, D>,
) -> Result<Vec<Value>, ErrorKind> {
    let query = Query {
        filter: op.filter.cloned(),
        sort: op.sort.to_vec(),
        ..Query::default()
    };
    let load = crate::relationship::LoadOp {
        field: op.key_field,
        keys: op.keys,
        query: &query,
    };
    let records = layer.load(ctx, &load).await?;
    Ok(op.compute_grouped(&records))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_values_follow_ash() {
        assert_eq!(compute(AggregateKind::Count, false, vec![]), Value::Int(0));
        assert_eq!(
            compute(AggregateKind::Exists, false, vec![]),
            Value::Bool(false)
        );
        assert_eq!(
            compute(AggregateKind::List, false, vec![]),
            Value::List(vec![])
        );
        for kind in [
            AggregateKind::Sum,
            AggregateKind::Min,
            AggregateKind::Max,
            AggregateKind::Avg,
            AggregateKind::First,
        ] {
            assert_eq!(compute(kind, false, vec![Value::Null]), Value::Null);
        }
    }

    #[test]
    fn nils_are_skipped_and_uniq_keeps_first() {
        let v = vec![Value::Int(3), Value::Null, Value::Int(1), Value::Int(3)];
        assert_eq!(
            compute(AggregateKind::Count, false, v.clone()),
            Value::Int(3)
        );
        assert_eq!(
            compute(AggregateKind::Count, true, v.clone()),
            Value::Int(2)
        );
        assert_eq!(compute(AggregateKind::Sum, false, v.clone()), Value::Int(7));
        assert_eq!(compute(AggregateKind::Min, false, v.clone()), Value::Int(1));
        assert_eq!(compute(AggregateKind::Max, false, v.clone()), Value::Int(3));
        assert_eq!(
            compute(AggregateKind::First, false, v.clone()),
            Value::Int(3)
        );
        assert_eq!(
            compute(AggregateKind::List, true, v.clone()),
            Value::List(vec![Value::Int(3), Value::Int(1)])
        );
        assert_eq!(
            compute(AggregateKind::Avg, false, v),
            Value::Float(7.0 / 3.0)
        );
    }

    #[test]
    fn sum_overflowing_i64_does_not_wrap() {
        let v = vec![Value::Int(i64::MAX), Value::Int(1)];
        assert_eq!(
            compute(AggregateKind::Sum, false, v),
            Value::UInt(i64::MAX as u64 + 1)
        );
    }
}

/// A sort key of a query: an attribute's (`Post::TITLE.asc()`) or an aggregate's
/// (`Post::COMMENT_COUNT.desc()`); what [`Query::sort_by`] takes.
pub enum SortKey<R: Resource> {
    /// An attribute.
    Field(R::Field, SortOrder),
    /// An aggregate.
    Aggregate(AggregateRef<R>, SortOrder),
}

/// What [`Query::sort_by`] takes: an attribute's sort key (`Post::TITLE.asc()`) or an
/// aggregate's (`Post::COMMENT_COUNT.desc()`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a sort key",
    label = "not a sort key",
    note = "sort by an attribute (`Address::STATE.asc()`) or by an aggregate (`Post::COMMENT_COUNT.desc()`)"
)]
pub trait IntoSortKey<R: Resource> {
    /// The sort key.
    fn into_sort_key(self) -> SortKey<R>;
}

impl<R: Resource> IntoSortKey<R> for (R::Field, SortOrder) {
    fn into_sort_key(self) -> SortKey<R> {
        SortKey::Field(self.0, self.1)
    }
}

impl<R: Resource> IntoSortKey<R> for SortKey<R> {
    fn into_sort_key(self) -> SortKey<R> {
        self
    }
}

/// A sort key on an aggregate, placed among the query's attribute sort keys: it comes
/// before `sort[position]` (after all of them when `position == sort.len()`).
#[derive(Debug, Clone, PartialEq)]
pub struct AggregateSortKey<R: Resource> {
    /// How many attribute sort keys come before it.
    pub position: usize,
    /// The aggregate (its default applied, nil last ascending and first descending).
    pub aggregate: AggregateRef<R>,
    /// The direction.
    pub order: SortOrder,
}

impl<P, T, C> Aggregate<P, T, C>
where
    P: AggregatePath,
    T: Send + Sync + 'static,
    C: 'static,
{
    /// Ascending sort on the aggregate (nils last): `.sort_by(Post::COMMENT_COUNT.asc())`.
    pub fn asc(self) -> SortKey<P::Source> {
        SortKey::Aggregate(self.to_ref(), SortOrder::Asc)
    }

    /// Descending sort on the aggregate (nils first).
    pub fn desc(self) -> SortKey<P::Source> {
        SortKey::Aggregate(self.to_ref(), SortOrder::Desc)
    }
}

/// Sorting by aggregates in memory, for data layers that do not compute them in their
/// read: the read is unsorted and unpaged, then the aggregates of the sort are computed
/// for every record read (one operation on the related layer each), then the records are
/// sorted and paged.
pub(crate) struct InMemorySort<R: Resource> {
    keys: Vec<AggregateSortKey<R>>,
    query: Query<R>,
}

impl<R: Resource> InMemorySort<R> {
    /// Takes the sort, limit and offset out of `query` when the data layer cannot sort by
    /// its aggregates.
    pub(crate) fn take(query: &mut Query<R>) -> Option<Self> {
        if query.aggregate_sort.is_empty() || <R::DataLayer as DataLayer<R>>::NATIVE_AGGREGATES {
            return None;
        }
        let keys = std::mem::take(&mut query.aggregate_sort);
        let paging = Query {
            sort: std::mem::take(&mut query.sort),
            limit: query.limit.take(),
            offset: std::mem::take(&mut query.offset),
            ..Query::default()
        };
        Some(InMemorySort {
            keys,
            query: paging,
        })
    }

    /// Pages the sorted records: `offset` more skipped (after the query's own), at most
    /// `limit` kept.
    pub(crate) fn page(&mut self, offset: usize, limit: usize) {
        self.query.offset = self.query.offset.saturating_add(offset);
        self.query.limit = Some(limit);
    }

    /// Sorts and pages `records`.
    pub(crate) async fn apply(
        self,
        tables: &dyn Tables,
        records: Vec<R>,
    ) -> Result<Vec<R>, ErrorKind> {
        let mut values = Vec::with_capacity(self.keys.len());
        for key in &self.keys {
            values.push(key.aggregate.values(tables, &records).await?);
        }
        let nils = |a: &Value, b: &Value| match (a == &Value::Null, b == &Value::Null) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => compare_values(a, b).unwrap_or(Ordering::Equal),
        };
        let directed = |o: Ordering, order: SortOrder| match order {
            SortOrder::Asc => o,
            SortOrder::Desc => o.reverse(),
        };
        let mut order: Vec<usize> = (0..records.len()).collect();
        order.sort_by(|&i, &j| {
            let (a, b) = (&records[i], &records[j]);
            for position in 0..=self.query.sort.len() {
                for (k, key) in self.keys.iter().enumerate() {
                    if key.position == position {
                        let o = directed(nils(&values[k][i], &values[k][j]), key.order);
                        if o != Ordering::Equal {
                            return o;
                        }
                    }
                }
                if let Some((field, dir)) = self.query.sort.get(position) {
                    let o = match (a.is_nil(*field), b.is_nil(*field)) {
                        (true, true) => Ordering::Equal,
                        (true, false) => Ordering::Greater,
                        (false, true) => Ordering::Less,
                        (false, false) => a.compare_field(b, *field).unwrap_or(Ordering::Equal),
                    };
                    let o = directed(o, *dir);
                    if o != Ordering::Equal {
                        return o;
                    }
                }
            }
            a.primary_key().cmp(b.primary_key())
        });
        let mut slots: Vec<Option<R>> = records.into_iter().map(Some).collect();
        let limit = self.query.limit.unwrap_or(usize::MAX);
        Ok(order
            .into_iter()
            .skip(self.query.offset)
            .take(limit)
            .filter_map(|i| slots[i].take())
            .collect())
    }
}
