//! Read queries: a filter, a sort, a limit and an offset.

use crate::filter::Filter;
use crate::resource::Resource;
use std::cmp::Ordering;

/// Sort direction; nils sort last ascending and first descending, as in Ash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SortOrder {
    /// Smallest first.
    Asc,
    /// Largest first.
    Desc,
}

/// A read query over `R`.
#[derive(Debug, Clone, PartialEq)]
pub struct Query<R: Resource> {
    /// Only records matching this are read.
    pub filter: Option<Filter<R>>,
    /// Sort keys, most significant first.
    pub sort: Vec<(R::Field, SortOrder)>,
    /// At most this many records.
    pub limit: Option<usize>,
    /// Skip this many records first.
    pub offset: usize,
    /// Relationships to load on the records read (see [`crate::relationship`]); data
    /// layers ignore them, the read pipeline runs them after the read.
    pub loads: Vec<crate::relationship::Load<R>>,
    /// Sort keys on aggregates (`.sort_by(Post::COMMENT_COUNT.desc())`), each placed
    /// among [`sort`](Query::sort) at its position (see [`crate::aggregate`]).
    pub aggregate_sort: Vec<crate::aggregate::AggregateSortKey<R>>,
}

impl<R: Resource> Default for Query<R> {
    fn default() -> Self {
        Query {
            filter: None,
            sort: Vec::new(),
            limit: None,
            offset: 0,
            loads: Vec::new(),
            aggregate_sort: Vec::new(),
        }
    }
}

impl<R: Resource> Query<R> {
    /// A query reading every record.
    #[inline]
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the query reads every record, unsorted and unpaged.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.filter.is_none()
            && self.sort.is_empty()
            && self.limit.is_none()
            && self.offset == 0
            && self.aggregate_sort.is_empty()
    }

    /// Adds a filter (ANDed with any existing one).
    #[inline]
    pub fn filter(mut self, filter: Filter<R>) -> Self {
        self.filter = Some(match self.filter.take() {
            Some(existing) => existing.and(filter),
            None => filter,
        });
        self
    }

    /// Adds a sort key.
    pub fn sort(mut self, field: R::Field, order: SortOrder) -> Self {
        self.sort.push((field, order));
        self
    }

    /// Adds a sort key built from a typed attribute, `.sort_by(Address::STATE.desc())`, or
    /// from an aggregate, `.sort_by(Post::COMMENT_COUNT.desc())`.
    pub fn sort_by(mut self, key: impl crate::aggregate::IntoSortKey<R>) -> Self {
        match key.into_sort_key() {
            crate::aggregate::SortKey::Field(field, order) => self.sort.push((field, order)),
            crate::aggregate::SortKey::Aggregate(aggregate, order) => {
                self.aggregate_sort
                    .push(crate::aggregate::AggregateSortKey {
                        position: self.sort.len(),
                        aggregate,
                        order,
                    })
            }
        }
        self
    }

    /// Loads a relationship on the records read: `Query::new().load(Post::COMMENTS)`, or
    /// nested, `Query::new().load(Post::COMMENTS.load(Comment::AUTHOR))`.
    pub fn load(mut self, load: impl crate::relationship::IntoLoad<R>) -> Self {
        self.loads.push(load.into_load());
        self
    }

    /// Limits the number of records.
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Skips records.
    pub fn offset(mut self, offset: usize) -> Self {
        self.offset = offset;
        self
    }

    /// Whether `record` passes the filter.
    #[inline(always)]
    pub fn matches(&self, record: &R) -> bool {
        self.filter.as_ref().is_none_or(|f| f.matches(record))
    }

    /// Sorts, then applies offset and limit, in memory: what a data layer without native
    /// querying does after filtering. Records equal on every sort key are ordered by
    /// primary key, so pages are deterministic.
    pub fn finish_in_memory(&self, mut records: Vec<R>) -> Vec<R> {
        if records.len() > 1 {
            if self.sort.is_empty() {
                // Primary keys are unique: an unstable sort gives the same order.
                records.sort_unstable_by(|a, b| a.primary_key().cmp(b.primary_key()));
            } else {
                records.sort_by(|a, b| {
                    self.compare(a, b)
                        .then_with(|| a.primary_key().cmp(b.primary_key()))
                });
            }
        }
        let start = self.offset.min(records.len());
        let end = match self.limit {
            Some(limit) => start.saturating_add(limit).min(records.len()),
            None => records.len(),
        };
        records.truncate(end);
        records.drain(..start);
        records
    }

    pub(crate) fn compare(&self, a: &R, b: &R) -> Ordering {
        for (field, order) in &self.sort {
            let ordering = match (a.is_nil(*field), b.is_nil(*field)) {
                (true, true) => Ordering::Equal,
                // nils last ascending, first descending
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => a.compare_field(b, *field).unwrap_or(Ordering::Equal),
            };
            let ordering = match order {
                SortOrder::Asc => ordering,
                SortOrder::Desc => ordering.reverse(),
            };
            if ordering != Ordering::Equal {
                return ordering;
            }
        }
        Ordering::Equal
    }
}

/// How a read action pages, declared with `pagination(...)` in the DSL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pagination {
    /// Offset pages are allowed.
    pub offset: bool,
    /// Keyset pages are allowed.
    pub keyset: bool,
    /// The page size when the request gives none.
    pub default_limit: Option<usize>,
    /// Larger requested page sizes are reduced to this.
    pub max_page_size: Option<usize>,
    /// A page may carry the total count.
    pub countable: bool,
}

/// A request for one page of a paginated read action.
#[derive(Debug, Clone, PartialEq)]
pub enum PageRequest<R: Resource> {
    /// Skip `offset` records.
    Offset {
        /// Records to skip.
        offset: usize,
        /// Page size; the action's `default_limit` when `None`.
        limit: Option<usize>,
        /// Also count every matching record.
        count: bool,
    },
    /// The records after a keyset (the first page when `None`): stable under inserts.
    Keyset {
        /// Where the previous page ended ([`Page::next`]).
        after: Option<Keyset<R>>,
        /// Page size; the action's `default_limit` when `None`.
        limit: Option<usize>,
        /// Also count every matching record.
        count: bool,
    },
}

impl<R: Resource> PageRequest<R> {
    /// An offset page starting at `offset`.
    pub fn offset(offset: usize) -> Self {
        PageRequest::Offset {
            offset,
            limit: None,
            count: false,
        }
    }

    /// The first keyset page.
    pub fn first() -> Self {
        PageRequest::Keyset {
            after: None,
            limit: None,
            count: false,
        }
    }

    /// The keyset page after `keyset`.
    pub fn after(keyset: Keyset<R>) -> Self {
        PageRequest::Keyset {
            after: Some(keyset),
            limit: None,
            count: false,
        }
    }

    /// Sets the page size.
    pub fn limit(mut self, n: usize) -> Self {
        match &mut self {
            PageRequest::Offset { limit, .. } | PageRequest::Keyset { limit, .. } => {
                *limit = Some(n)
            }
        }
        self
    }

    /// Asks for the total count of matching records.
    pub fn count(mut self) -> Self {
        match &mut self {
            PageRequest::Offset { count, .. } | PageRequest::Keyset { count, .. } => *count = true,
        }
        self
    }

    pub(crate) fn requested_limit(&self) -> Option<usize> {
        match self {
            PageRequest::Offset { limit, .. } | PageRequest::Keyset { limit, .. } => *limit,
        }
    }

    pub(crate) fn wants_count(&self) -> bool {
        match self {
            PageRequest::Offset { count, .. } | PageRequest::Keyset { count, .. } => *count,
        }
    }
}

/// Where a keyset page ended: the sort values and primary key of its last record.
#[derive(Debug, Clone, PartialEq)]
pub struct Keyset<R: Resource> {
    pub(crate) values: Vec<R::Value>,
}

impl<R: Resource> Keyset<R> {
    /// The keyset of `record` under `sort` (which ends with the primary key).
    pub(crate) fn of(record: &R, sort: &[(R::Field, SortOrder)]) -> Self {
        Keyset {
            values: sort.iter().map(|(field, _)| record.get(*field)).collect(),
        }
    }

    /// The filter for records strictly after this keyset under `sort`:
    /// `k0 > v0 or (k0 == v0 and k1 > v1) or ...` (`<` for descending keys).
    pub(crate) fn after_filter(&self, sort: &[(R::Field, SortOrder)]) -> Filter<R> {
        let mut any = Vec::with_capacity(self.values.len());
        for (i, ((_, order), value)) in sort.iter().zip(&self.values).enumerate() {
            let op = match order {
                SortOrder::Asc => crate::filter::CmpOp::Gt,
                SortOrder::Desc => crate::filter::CmpOp::Lt,
            };
            let mut all: Vec<Filter<R>> =
                self.values[..i].iter().cloned().map(Filter::eq).collect();
            all.push(Filter::Cmp(op, value.clone()));
            any.push(Filter::And(all));
        }
        Filter::Or(any)
    }
}

/// One page of records.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<R: Resource> {
    /// The records of this page.
    pub results: Vec<R>,
    /// The page size used.
    pub limit: usize,
    /// The offset (offset pages).
    pub offset: Option<usize>,
    /// The total count of matching records, when asked for.
    pub count: Option<usize>,
    /// Whether more records follow.
    pub more: bool,
    /// The keyset to ask for the next page with (keyset pages with more records).
    pub next: Option<Keyset<R>>,
}
