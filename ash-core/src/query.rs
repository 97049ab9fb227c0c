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
}

impl<R: Resource> Default for Query<R> {
    fn default() -> Self {
        Query {
            filter: None,
            sort: Vec::new(),
            limit: None,
            offset: 0,
        }
    }
}

impl<R: Resource> Query<R> {
    /// A query reading every record.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a filter (ANDed with any existing one).
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
    pub fn matches(&self, record: &R) -> bool {
        self.filter.as_ref().is_none_or(|f| f.matches(record))
    }

    /// Sorts, then applies offset and limit, in memory: what a data layer without native
    /// querying does after filtering. Records equal on every sort key are ordered by
    /// primary key, so pages are deterministic.
    pub fn finish_in_memory(&self, mut records: Vec<R>) -> Vec<R> {
        if records.len() > 1 {
            records.sort_by(|a, b| {
                self.compare(a, b)
                    .then_with(|| a.compare(&b.get(R::PRIMARY_KEY)).unwrap_or(Ordering::Equal))
            });
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

    fn compare(&self, a: &R, b: &R) -> Ordering {
        for (field, order) in &self.sort {
            let ordering = match (a.is_nil(*field), b.is_nil(*field)) {
                (true, true) => Ordering::Equal,
                // nils last ascending, first descending
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => a.compare(&b.get(*field)).unwrap_or(Ordering::Equal),
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
