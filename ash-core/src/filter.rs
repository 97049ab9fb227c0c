//! Declarative filters.
//!
//! A [`Filter`] is data, not a closure: the ETS layer evaluates it in memory, a SQL layer
//! renders it as a `WHERE` clause. The optimistic lock's `version == 1` and a `get_by`
//! lookup are both filters.

use crate::resource::Resource;
use crate::value::Value;
use serde::Serialize;
use std::cmp::Ordering;
use std::fmt;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
// Word-sized, so a comparison filter has no padding: copies of one that mix byte and word
// moves stalled store forwarding (a get through a read action ran 1.3x slower).
#[repr(u64)]
pub enum CmpOp {
    /// `==`
    Eq,
    /// `!=`
    NotEq,
    /// `<`
    Lt,
    /// `<=`
    Lte,
    /// `>`
    Gt,
    /// `>=`
    Gte,
}

impl CmpOp {
    /// The operator as Ash's expression syntax writes it.
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::NotEq => "!=",
            CmpOp::Lt => "<",
            CmpOp::Lte => "<=",
            CmpOp::Gt => ">",
            CmpOp::Gte => ">=",
        }
    }

    /// Whether `ordering` (of attribute against value) satisfies the operator. Nil or
    /// incomparable values satisfy nothing, as in Ash.
    #[inline]
    pub fn holds(self, ordering: Option<Ordering>) -> bool {
        let Some(o) = ordering else { return false };
        match self {
            CmpOp::Eq => o == Ordering::Equal,
            CmpOp::NotEq => o != Ordering::Equal,
            CmpOp::Lt => o == Ordering::Less,
            CmpOp::Lte => o != Ordering::Greater,
            CmpOp::Gt => o == Ordering::Greater,
            CmpOp::Gte => o != Ordering::Less,
        }
    }
}

/// A typed filter over the attributes of `R`.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter<R: Resource> {
    /// `attribute <op> value`; the attribute is the one `value` belongs to.
    Cmp(CmpOp, R::Value),
    /// `is_nil(attribute)`.
    IsNil(R::Field),
    /// `attribute in [values]`.
    In(R::Field, Vec<R::Value>),
    /// `contains(attribute, value)`: substring for strings.
    Contains(R::Value),
    /// All of the filters.
    And(Vec<Filter<R>>),
    /// Any of the filters.
    Or(Vec<Filter<R>>),
    /// Not the filter.
    Not(Box<Filter<R>>),
    /// `exists(relationship, filter)`: some related record matches (see
    /// [`crate::relationship::RelationshipExt::exists`]). In memory it matches nothing
    /// until resolved against the related table ([`crate::relationship::resolve_filter`]).
    Related(crate::relationship::RelatedFilter<R>),
    /// A comparison on an aggregate (`Post::COMMENT_COUNT.gt(3)`, see
    /// [`crate::aggregate`]). In memory it matches nothing until resolved against the
    /// related table ([`crate::relationship::resolve_filter`]).
    Aggregate(crate::aggregate::AggregateFilter<R>),
}

impl<R: Resource> Filter<R> {
    /// Whether the filter goes through a relationship anywhere.
    pub fn has_related(&self) -> bool {
        match self {
            Filter::Related(_) | Filter::Aggregate(_) => true,
            Filter::And(all) | Filter::Or(all) => all.iter().any(Filter::has_related),
            Filter::Not(inner) => inner.has_related(),
            _ => false,
        }
    }

    /// `attribute == value`.
    #[inline]
    pub fn eq(value: R::Value) -> Self {
        Filter::Cmp(CmpOp::Eq, value)
    }

    /// The filter that matches only the record with this primary key.
    #[inline]
    pub fn primary_key(key: &R::PrimaryKey) -> Self {
        Filter::eq(R::primary_key_value(key))
    }

    /// Both filters.
    pub fn and(self, other: Filter<R>) -> Self {
        match self {
            Filter::And(mut all) => {
                all.push(other);
                Filter::And(all)
            }
            first => Filter::And(vec![first, other]),
        }
    }

    /// Whether `record` matches.
    // Inlined at the call site with the common shapes walked in place: a single comparison
    // (the lock's `version == n`, a `get_by`) and a conjunction of comparisons (the usual
    // query), so a scan pays no call per record. `or` and `not` go out of line.
    #[inline(always)]
    pub fn matches(&self, record: &R) -> bool {
        match self {
            Filter::And(all) => {
                // A plain loop: `Iterator::all` was left out of line here.
                for f in all {
                    if !f.matches_one(record) {
                        return false;
                    }
                }
                true
            }
            other => other.matches_one(record),
        }
    }

    /// A leaf in place, anything else through [`Filter::matches_combined`].
    #[inline(always)]
    fn matches_one(&self, record: &R) -> bool {
        match self.leaf(record) {
            Some(matched) => matched,
            None => self.matches_combined(record),
        }
    }

    /// [`Filter::matches`] for `and`, `or` and `not`.
    #[inline(never)]
    fn matches_combined(&self, record: &R) -> bool {
        match self {
            Filter::And(all) => all.iter().all(|f| f.matches_one(record)),
            Filter::Or(any) => any.iter().any(|f| f.matches_one(record)),
            Filter::Not(inner) => !inner.matches(record),
            leaf => leaf.leaf(record).unwrap_or(false),
        }
    }

    /// A comparison evaluated in place (no recursive call for the common leaves of an
    /// `and`/`or`); `None` for the combinators.
    #[inline(always)]
    fn leaf(&self, record: &R) -> Option<bool> {
        Some(match self {
            Filter::Cmp(CmpOp::Eq, value) => record.equals(value),
            Filter::Cmp(op, value) => op.holds(record.compare(value)),
            Filter::IsNil(field) => record.is_nil(*field),
            Filter::In(_, values) => values.iter().any(|v| record.equals(v)),
            Filter::Contains(value) => record.contains(value),
            Filter::And(_)
            | Filter::Or(_)
            | Filter::Not(_)
            | Filter::Related(_)
            | Filter::Aggregate(_) => return None,
        })
    }

    /// The primary key, when the filter is exactly primary-key equality: a data layer can
    /// then go straight to the record instead of scanning.
    #[inline]
    pub fn as_primary_key(&self) -> Option<&R::PrimaryKey> {
        match self {
            Filter::Cmp(CmpOp::Eq, value) => R::primary_key_of(value),
            Filter::And(all) if all.len() == 1 => all[0].as_primary_key(),
            _ => None,
        }
    }

    /// The filter with dynamic values, for errors and for rendering (e.g. SQL).
    pub fn to_dyn(&self) -> DynFilter {
        match self {
            Filter::Cmp(op, value) => DynFilter::Cmp {
                field: R::field_name(R::value_field(value)),
                op: *op,
                value: R::value_to_dynamic(value),
            },
            Filter::IsNil(field) => DynFilter::IsNil {
                field: R::field_name(*field),
            },
            Filter::In(field, values) => DynFilter::In {
                field: R::field_name(*field),
                values: values.iter().map(R::value_to_dynamic).collect(),
            },
            Filter::Contains(value) => DynFilter::Contains {
                field: R::field_name(R::value_field(value)),
                value: R::value_to_dynamic(value),
            },
            Filter::And(all) => DynFilter::And(all.iter().map(Filter::to_dyn).collect()),
            Filter::Or(any) => DynFilter::Or(any.iter().map(Filter::to_dyn).collect()),
            Filter::Not(inner) => DynFilter::Not(Box::new(inner.to_dyn())),
            Filter::Related(related) => DynFilter::Exists {
                relationship: related.info().name,
                info: related.info(),
                filter: Box::new(related.inner().clone()),
            },
            Filter::Aggregate(aggregate) => aggregate.to_dyn(),
        }
    }
}

/// A filter with dynamic values: how filters appear in errors and in SQL.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DynFilter {
    /// `field <op> value`.
    Cmp {
        /// The attribute's name.
        field: &'static str,
        /// The operator.
        op: CmpOp,
        /// The value compared with.
        value: Value,
    },
    /// `is_nil(field)`.
    IsNil {
        /// The attribute's name.
        field: &'static str,
    },
    /// `field in [values]`.
    In {
        /// The attribute's name.
        field: &'static str,
        /// The values.
        values: Vec<Value>,
    },
    /// `contains(field, value)`.
    Contains {
        /// The attribute's name.
        field: &'static str,
        /// The value looked for.
        value: Value,
    },
    /// All of the filters.
    And(Vec<DynFilter>),
    /// Any of the filters.
    Or(Vec<DynFilter>),
    /// Not the filter.
    Not(Box<DynFilter>),
    /// `exists(relationship, filter)`.
    Exists {
        /// The relationship's name.
        relationship: &'static str,
        /// Its static facts (for SQL).
        #[serde(skip)]
        info: &'static crate::relationship::RelationshipInfo,
        /// The filter on the related records.
        filter: Box<DynFilter>,
    },
    /// `aggregate <op> value` (see [`crate::aggregate`]); boxed, so that filters (held
    /// by every `StaleRecord`) stay small.
    Aggregate(Box<crate::aggregate::DynAggregateFilter>),
}

impl DynFilter {
    /// The value `field` is compared equal with, if the filter is an equality (or a
    /// conjunction containing one) on `field`: `stale.filter.get("version") == Some(&1)`.
    pub fn get(&self, field: &str) -> Option<&Value> {
        match self {
            DynFilter::Cmp {
                field: f,
                op: CmpOp::Eq,
                value,
            } if *f == field => Some(value),
            DynFilter::And(all) => all.iter().find_map(|f| f.get(field)),
            _ => None,
        }
    }
}

impl fmt::Display for DynFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DynFilter::Cmp { field, op, value } => write!(f, "{field} {} {value}", op.symbol()),
            DynFilter::IsNil { field } => write!(f, "is_nil({field})"),
            DynFilter::In { field, values } => {
                write!(f, "{field} in {}", Value::List(values.clone()))
            }
            DynFilter::Contains { field, value } => write!(f, "contains({field}, {value})"),
            DynFilter::And(all) => join(f, all, " and "),
            DynFilter::Or(any) => join(f, any, " or "),
            DynFilter::Not(inner) => write!(f, "not({inner})"),
            DynFilter::Exists {
                relationship,
                filter,
                ..
            } => write!(f, "exists({relationship}, {filter})"),
            DynFilter::Aggregate(a) => write!(f, "{} {} {}", a.aggregate, a.op.symbol(), a.value),
        }
    }
}

fn join(f: &mut fmt::Formatter<'_>, parts: &[DynFilter], sep: &str) -> fmt::Result {
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        let nested = matches!(part, DynFilter::And(_) | DynFilter::Or(_));
        if nested {
            write!(f, "({part})")?;
        } else {
            write!(f, "{part}")?;
        }
    }
    Ok(())
}

impl<R: Resource> Filter<R> {
    /// Drops the filter, the common case (one comparison, such as a primary key or an
    /// optimistic lock's `version == n`) without the enum's recursive drop, which the
    /// compiler cannot inline into the actions' hot paths.
    #[inline(always)]
    pub(crate) fn discard(self) {
        match self {
            Filter::Cmp(_, value) => drop(value),
            other => drop(other),
        }
    }

    /// Either filter.
    pub fn or(self, other: Filter<R>) -> Self {
        match self {
            Filter::Or(mut any) => {
                any.push(other);
                Filter::Or(any)
            }
            first => Filter::Or(vec![first, other]),
        }
    }

    /// The negation.
    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Self {
        Filter::Not(Box::new(self))
    }
}

/// `a & b` is `a.and(b)`.
impl<R: Resource> std::ops::BitAnd for Filter<R> {
    type Output = Filter<R>;
    fn bitand(self, rhs: Filter<R>) -> Filter<R> {
        self.and(rhs)
    }
}

/// `a | b` is `a.or(b)`.
impl<R: Resource> std::ops::BitOr for Filter<R> {
    type Output = Filter<R>;
    fn bitor(self, rhs: Filter<R>) -> Filter<R> {
        self.or(rhs)
    }
}

/// `!a` is `a.not()`.
impl<R: Resource> std::ops::Not for Filter<R> {
    type Output = Filter<R>;
    fn not(self) -> Filter<R> {
        Filter::Not(Box::new(self))
    }
}

/// A typed handle on one attribute, generated as an associated constant of the resource
/// (`Address::STATE`). Filters built from it can only name attributes the resource has,
/// with values of the attribute's type:
///
/// ```ignore
/// let query = Query::new()
///     .filter(Address::STATE.eq("FL") & Address::VERSION.gt(1))
///     .sort_by(Address::COUNTY.desc())
///     .limit(10);
/// ```
///
/// For a nilable attribute (`Option<T>`) the handle takes `T`; use [`Attr::is_nil`] for nil.
pub struct Attr<R: Resource, T> {
    field: R::Field,
    value: fn(T) -> R::Value,
}

impl<R: Resource, T> Clone for Attr<R, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<R: Resource, T> Copy for Attr<R, T> {}

impl<R: Resource, T> std::fmt::Debug for Attr<R, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Attr({})", R::field_name(self.field))
    }
}

impl<R: Resource, T> Attr<R, T> {
    /// A handle on `field`, whose values `value` wraps. Used by generated code.
    pub const fn new(field: R::Field, value: fn(T) -> R::Value) -> Self {
        Attr { field, value }
    }

    /// The attribute.
    pub fn field(self) -> R::Field {
        self.field
    }

    fn cmp(self, op: CmpOp, value: impl Into<T>) -> Filter<R> {
        Filter::Cmp(op, (self.value)(value.into()))
    }

    /// `attribute == value`.
    pub fn eq(self, value: impl Into<T>) -> Filter<R> {
        self.cmp(CmpOp::Eq, value)
    }

    /// `attribute != value` (nil matches neither `==` nor `!=`, as in Ash).
    pub fn not_eq(self, value: impl Into<T>) -> Filter<R> {
        self.cmp(CmpOp::NotEq, value)
    }

    /// `attribute < value`.
    pub fn lt(self, value: impl Into<T>) -> Filter<R> {
        self.cmp(CmpOp::Lt, value)
    }

    /// `attribute <= value`.
    pub fn lte(self, value: impl Into<T>) -> Filter<R> {
        self.cmp(CmpOp::Lte, value)
    }

    /// `attribute > value`.
    pub fn gt(self, value: impl Into<T>) -> Filter<R> {
        self.cmp(CmpOp::Gt, value)
    }

    /// `attribute >= value`.
    pub fn gte(self, value: impl Into<T>) -> Filter<R> {
        self.cmp(CmpOp::Gte, value)
    }

    /// `attribute in [values]`.
    pub fn is_in<V: Into<T>>(self, values: impl IntoIterator<Item = V>) -> Filter<R> {
        Filter::In(
            self.field,
            values.into_iter().map(|v| (self.value)(v.into())).collect(),
        )
    }

    /// `contains(attribute, value)`: substring for strings, element for lists.
    pub fn contains(self, value: impl Into<T>) -> Filter<R> {
        Filter::Contains((self.value)(value.into()))
    }

    /// `is_nil(attribute)`.
    pub fn is_nil(self) -> Filter<R> {
        Filter::IsNil(self.field)
    }

    /// Ascending sort on this attribute (nils last).
    pub fn asc(self) -> (R::Field, crate::query::SortOrder) {
        (self.field, crate::query::SortOrder::Asc)
    }

    /// Descending sort on this attribute (nils first).
    pub fn desc(self) -> (R::Field, crate::query::SortOrder) {
        (self.field, crate::query::SortOrder::Desc)
    }
}
