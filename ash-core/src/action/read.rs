//! Reads, gets and pages.
//!
//! A get by primary key, the code interface's hot read, completes when called on a data
//! layer that never waits ([`get_by`]); the other reads are futures that use the data
//! layer's immediate operations where it has them.

use super::authorize::authorized_query;
use super::{not_immediate, not_immediate_kind, prepare_read, ActionFuture, ReadAction};
use crate::context::Context;
use crate::data_layer::DataLayer;
use crate::error::{Error, ErrorKind, InvalidArgument, MultipleResults, NotFound};
use crate::filter::Filter;
use crate::query::{Keyset, Page, PageRequest, Query, SortOrder};
use crate::resource::Resource;

/// Runs a read action with an extra `query` on top of the action's own.
#[inline]
pub fn read<'a, A, L>(
    layer: &'a L,
    ctx: &'a Context,
    input: A,
    query: Query<A::Resource>,
) -> ActionFuture<'a, Result<Vec<A::Resource>, Error>>
where
    A: ReadAction,
    L: DataLayer<A::Resource> + ?Sized,
{
    ActionFuture::settle(
        read_running(layer, ctx, input, query),
        L::IMMEDIATE,
        not_immediate::<A::Resource>,
    )
}

async fn read_running<A, L>(
    layer: &L,
    ctx: &Context,
    input: A,
    query: Query<A::Resource>,
) -> Result<Vec<A::Resource>, Error>
where
    A: ReadAction,
    L: DataLayer<A::Resource> + ?Sized,
{
    let mut input = input;
    prepare_read(&mut input)?;
    let query = authorized_query(A::INFO, ctx, merge(input.base_query(), query))?;
    layer.read(ctx, &query).await.map_err(Error::from)
}

/// Runs a read action expecting at most one record (`get?` in Ash): none gives `Ok(None)`,
/// more than one gives `MultipleResults`. A filter that is exactly primary-key equality
/// goes straight to the record.
#[inline]
pub fn read_one<'a, A, L>(
    layer: &'a L,
    ctx: &'a Context,
    input: A,
    query: Query<A::Resource>,
) -> ActionFuture<'a, Result<Option<A::Resource>, Error>>
where
    A: ReadAction,
    L: DataLayer<A::Resource> + ?Sized,
{
    ActionFuture::settle(
        read_one_running(layer, ctx, input, query),
        L::IMMEDIATE,
        not_immediate::<A::Resource>,
    )
}

async fn read_one_running<A, L>(
    layer: &L,
    ctx: &Context,
    input: A,
    query: Query<A::Resource>,
) -> Result<Option<A::Resource>, Error>
where
    A: ReadAction,
    L: DataLayer<A::Resource> + ?Sized,
{
    let mut input = input;
    prepare_read(&mut input)?;
    let query = authorized_query(A::INFO, ctx, merge(input.base_query(), query))?;
    find_one(layer, ctx, &query).await
}

/// [`read_one`], with `NotFound` (naming the filter) when nothing matches.
#[inline]
pub fn get<'a, A, L>(
    layer: &'a L,
    ctx: &'a Context,
    input: A,
    query: Query<A::Resource>,
) -> ActionFuture<'a, Result<A::Resource, Error>>
where
    A: ReadAction,
    L: DataLayer<A::Resource> + ?Sized,
{
    ActionFuture::settle(
        get_running(layer, ctx, input, query),
        L::IMMEDIATE,
        not_immediate::<A::Resource>,
    )
}

async fn get_running<A, L>(
    layer: &L,
    ctx: &Context,
    input: A,
    query: Query<A::Resource>,
) -> Result<A::Resource, Error>
where
    A: ReadAction,
    L: DataLayer<A::Resource> + ?Sized,
{
    // A filter and nothing else (a get by key, usually) takes the short path.
    let query = match query {
        Query {
            filter: Some(filter),
            sort,
            limit: None,
            offset: 0,
            loads,
            aggregate_sort,
        } if sort.is_empty() && loads.is_empty() && aggregate_sort.is_empty() => {
            return get_by(layer, ctx, input, filter).await
        }
        other => other,
    };
    let mut input = input;
    prepare_read(&mut input)?;
    let query = authorized_query(A::INFO, ctx, merge(input.base_query(), query))?;
    match find_one(layer, ctx, &query).await? {
        Some(record) => Ok(record),
        None => Err(not_found(query.filter.as_ref())),
    }
}

/// [`get`] with a filter and no other query: what a `define` with `get_by` runs. When the
/// filter is exactly the primary key and the action has no filter of its own, the record
/// is read straight from the data layer, with no query built.
#[inline]
pub fn get_by<'a, A, L>(
    layer: &'a L,
    ctx: &'a Context,
    input: A,
    filter: Filter<A::Resource>,
) -> ActionFuture<'a, Result<A::Resource, Error>>
where
    A: ReadAction,
    L: DataLayer<A::Resource> + ?Sized,
{
    if L::IMMEDIATE {
        return ActionFuture::ready(get_by_now(layer, ctx, input, filter));
    }
    ActionFuture::running(get_by_running(layer, ctx, input, filter))
}

#[inline(always)]
fn get_by_now<A, L>(
    layer: &L,
    ctx: &Context,
    mut input: A,
    filter: Filter<A::Resource>,
) -> Result<A::Resource, Error>
where
    A: ReadAction,
    L: DataLayer<A::Resource> + ?Sized,
{
    prepare_read(&mut input)?;
    // Without an action filter, no query is built for a get by primary key.
    // (Under policies the query is authorized first: the general path below.)
    if !A::HAS_BASE_QUERY && A::Resource::POLICIES.is_empty() {
        if let Some(key) = filter.as_primary_key() {
            // One match over the nested layers: the record is moved once, not rewrapped
            // at each layer.
            let result = match layer.immediate_get(ctx, key) {
                Some(Ok(Some(record))) => Ok(record),
                Some(Ok(None)) => Err(not_found(Some(&filter))),
                Some(Err(e)) => Err(Error::from(e)),
                None => Err(not_immediate::<A::Resource>()),
            };
            filter.discard();
            return result;
        }
    }
    let base = authorized_query(A::INFO, ctx, input.base_query())?;
    if base.is_empty() {
        if let Some(key) = filter.as_primary_key() {
            return match layer.immediate_get(ctx, key) {
                Some(found) => match found.map_err(Error::from)? {
                    Some(record) => Ok(record),
                    None => Err(not_found(Some(&filter))),
                },
                None => Err(not_immediate::<A::Resource>()),
            };
        }
    }
    let query = base.filter(filter);
    match find_one_now(layer, ctx, &query)? {
        Some(record) => Ok(record),
        None => Err(not_found(query.filter.as_ref())),
    }
}

async fn get_by_running<A, L>(
    layer: &L,
    ctx: &Context,
    mut input: A,
    filter: Filter<A::Resource>,
) -> Result<A::Resource, Error>
where
    A: ReadAction,
    L: DataLayer<A::Resource> + ?Sized,
{
    prepare_read(&mut input)?;
    let base = authorized_query(A::INFO, ctx, input.base_query())?;
    if base.is_empty() {
        if let Some(key) = filter.as_primary_key() {
            return match layer.get(ctx, key).await.map_err(Error::from)? {
                Some(record) => Ok(record),
                None => Err(not_found(Some(&filter))),
            };
        }
    }
    let query = base.filter(filter);
    match find_one(layer, ctx, &query).await? {
        Some(record) => Ok(record),
        None => Err(not_found(query.filter.as_ref())),
    }
}

/// A get by identity: the record holding `key`, a value of one of the resource's
/// identities (a `define` with `get_by_identity`, or a `get_by` naming exactly an
/// identity's fields). When the read action has no filter of its own, the data layer looks
/// the key up ([`DataLayer::get_by_identity`]: the ETS layer's unique index), with no scan
/// and no query built; `NotFound` (naming the key's filter) when no record holds it.
#[inline]
pub fn get_by_identity<'a, A, L>(
    layer: &'a L,
    ctx: &'a Context,
    input: A,
    key: <A::Resource as Resource>::IdentityKey,
) -> ActionFuture<'a, Result<A::Resource, Error>>
where
    A: ReadAction,
    L: DataLayer<A::Resource> + ?Sized,
{
    if L::IMMEDIATE {
        let found = by_identity_now(layer, ctx, input, &key);
        return ActionFuture::ready(
            found.and_then(|found| found.ok_or_else(|| identity_not_found::<A::Resource>(&key))),
        );
    }
    ActionFuture::running(async move {
        by_identity_running(layer, ctx, input, &key)
            .await?
            .ok_or_else(|| identity_not_found::<A::Resource>(&key))
    })
}

/// [`get_by_identity`] giving `None` when no record holds the key
/// (`not_found_error = false`).
#[inline]
pub fn read_one_by_identity<'a, A, L>(
    layer: &'a L,
    ctx: &'a Context,
    input: A,
    key: <A::Resource as Resource>::IdentityKey,
) -> ActionFuture<'a, Result<Option<A::Resource>, Error>>
where
    A: ReadAction,
    L: DataLayer<A::Resource> + ?Sized,
{
    if L::IMMEDIATE {
        return ActionFuture::ready(by_identity_now(layer, ctx, input, &key));
    }
    ActionFuture::running(async move { by_identity_running(layer, ctx, input, &key).await })
}

#[cold]
fn identity_not_found<R: Resource>(key: &R::IdentityKey) -> Error {
    not_found(Some(&R::identity_filter(key)))
}

#[inline(always)]
fn by_identity_now<A, L>(
    layer: &L,
    ctx: &Context,
    mut input: A,
    key: &<A::Resource as Resource>::IdentityKey,
) -> Result<Option<A::Resource>, Error>
where
    A: ReadAction,
    L: DataLayer<A::Resource> + ?Sized,
{
    prepare_read(&mut input)?;
    let base = authorized_query(A::INFO, ctx, input.base_query())?;
    if base.is_empty() && <A::Resource as Resource>::identity_key_is_indexed(key) {
        return match layer.immediate_get_by_identity(ctx, key) {
            Some(found) => found.map_err(Error::from),
            None => Err(not_immediate::<A::Resource>()),
        };
    }
    let query = base.filter(<A::Resource as Resource>::identity_filter(key));
    find_one_now(layer, ctx, &query)
}

async fn by_identity_running<A, L>(
    layer: &L,
    ctx: &Context,
    mut input: A,
    key: &<A::Resource as Resource>::IdentityKey,
) -> Result<Option<A::Resource>, Error>
where
    A: ReadAction,
    L: DataLayer<A::Resource> + ?Sized,
{
    prepare_read(&mut input)?;
    let base = authorized_query(A::INFO, ctx, input.base_query())?;
    if base.is_empty() && <A::Resource as Resource>::identity_key_is_indexed(key) {
        if let Some(found) = layer.immediate_get_by_identity(ctx, key) {
            return found.map_err(Error::from);
        }
        return layer.get_by_identity(ctx, key).await.map_err(Error::from);
    }
    let query = base.filter(<A::Resource as Resource>::identity_filter(key));
    find_one(layer, ctx, &query).await
}

/// `NotFound`, naming the filter; rendered only when nothing is found.
#[cold]
fn not_found<R: Resource>(filter: Option<&Filter<R>>) -> Error {
    ErrorKind::NotFound(NotFound {
        resource: R::NAME,
        filter: filter.map(Filter::to_dyn),
    })
    .into()
}

/// How to find the one record a query asks for.
enum Find<'q, R: Resource> {
    /// Exactly the key: the record found is the answer.
    Key(&'q R::PrimaryKey),
    /// Straight to the record by key; the rest of the filter is checked on it.
    KeyThen(&'q R::PrimaryKey, &'q Filter<R>),
    /// Read and count.
    Scan,
}

#[inline]
fn plan<R: Resource>(query: &Query<R>) -> Find<'_, R> {
    // Paging past the one record (an offset, a limit of 0) is left to the data layer.
    let pages_away = query.offset > 0 || query.limit == Some(0);
    match (&query.filter, pages_away) {
        (Some(filter), false) => match (filter.as_primary_key(), primary_key_in(filter)) {
            (Some(key), _) => Find::Key(key),
            // The rest is checked in memory: not a relationship filter, which only the
            // data layer evaluates (PostgreSQL's `EXISTS`).
            (None, Some(key)) if !filter.has_related() => Find::KeyThen(key, filter),
            (None, Some(_)) => Find::Scan,
            (None, None) => Find::Scan,
        },
        _ => Find::Scan,
    }
}

/// The one record of `records`, `MultipleResults` if there are more.
fn only<R: Resource>(mut records: Vec<R>) -> Result<Option<R>, Error> {
    match records.len() {
        0 => Ok(None),
        1 => Ok(records.pop()),
        count => Err(ErrorKind::MultipleResults(MultipleResults {
            resource: R::NAME,
            count,
        })
        .into()),
    }
}

/// The one record matching `query`, if any.
async fn find_one<R, L>(layer: &L, ctx: &Context, query: &Query<R>) -> Result<Option<R>, Error>
where
    R: Resource,
    L: DataLayer<R> + ?Sized,
{
    match plan(query) {
        Find::Key(key) => layer.get(ctx, key).await.map_err(Error::from),
        Find::KeyThen(key, filter) => {
            let record = layer.get(ctx, key).await.map_err(Error::from)?;
            Ok(record.filter(|r| filter.matches(r)))
        }
        Find::Scan => only(layer.read(ctx, query).await.map_err(Error::from)?),
    }
}

/// [`find_one`] on a data layer that never waits.
fn find_one_now<R, L>(layer: &L, ctx: &Context, query: &Query<R>) -> Result<Option<R>, Error>
where
    R: Resource,
    L: DataLayer<R> + ?Sized,
{
    let get = |key| {
        layer
            .immediate_get(ctx, key)
            .unwrap_or_else(|| Err(not_immediate_kind::<R>()))
            .map_err(Error::from)
    };
    match plan(query) {
        Find::Key(key) => get(key),
        Find::KeyThen(key, filter) => Ok(get(key)?.filter(|r| filter.matches(r))),
        Find::Scan => match layer.immediate_read(ctx, query) {
            Some(records) => only(records.map_err(Error::from)?),
            None => Err(not_immediate::<R>()),
        },
    }
}

/// The primary key, when the filter is primary-key equality or a conjunction holding one.
#[inline]
fn primary_key_in<R: Resource>(filter: &Filter<R>) -> Option<&R::PrimaryKey> {
    match filter {
        Filter::And(all) => all.iter().find_map(primary_key_in),
        other => other.as_primary_key(),
    }
}

/// Runs a paginated read action, returning one page.
pub fn read_page<'a, A, L>(
    layer: &'a L,
    ctx: &'a Context,
    input: A,
    query: Query<A::Resource>,
    page: PageRequest<A::Resource>,
) -> ActionFuture<'a, Result<Page<A::Resource>, Error>>
where
    A: ReadAction,
    L: DataLayer<A::Resource> + ?Sized,
{
    ActionFuture::settle(
        read_page_running(layer, ctx, input, query, page),
        L::IMMEDIATE,
        not_immediate::<A::Resource>,
    )
}

fn invalid_page(message: String) -> Error {
    ErrorKind::InvalidArgument(InvalidArgument {
        field: "page".into(),
        message,
        value: None,
    })
    .into()
}

/// The page size `page` gets from action `A`, after the checks of its pagination: the
/// action paginates, that way, and is countable when the page asks for a count.
pub(crate) fn page_limit<A: ReadAction>(page: &PageRequest<A::Resource>) -> Result<usize, Error> {
    let invalid = invalid_page;
    let Some(pagination) = A::PAGINATION else {
        return Err(invalid(format!(
            "action {} does not paginate",
            A::INFO.name
        )));
    };
    let limit = page
        .requested_limit()
        .or(pagination.default_limit)
        .ok_or_else(|| invalid("a page needs a limit (the action has no default_limit)".into()))?;
    let limit = pagination.max_page_size.map_or(limit, |max| limit.min(max));
    if page.wants_count() && !pagination.countable {
        return Err(invalid(format!("action {} is not countable", A::INFO.name)));
    }
    match page {
        PageRequest::Offset { .. } if !pagination.offset => Err(invalid(format!(
            "action {} has no offset pagination",
            A::INFO.name
        ))),
        PageRequest::Keyset { .. } if !pagination.keyset => Err(invalid(format!(
            "action {} has no keyset pagination",
            A::INFO.name
        ))),
        _ => Ok(limit),
    }
}

async fn read_page_running<A, L>(
    layer: &L,
    ctx: &Context,
    input: A,
    query: Query<A::Resource>,
    page: PageRequest<A::Resource>,
) -> Result<Page<A::Resource>, Error>
where
    A: ReadAction,
    L: DataLayer<A::Resource> + ?Sized,
{
    let invalid = invalid_page;
    if A::PAGINATION.is_none() {
        return Err(invalid(format!(
            "action {} does not paginate",
            A::INFO.name
        )));
    }
    let mut input = input;
    prepare_read(&mut input)?;
    let mut query = authorized_query(A::INFO, ctx, merge(input.base_query(), query))?;
    let limit = page_limit::<A>(&page)?;
    let count = if page.wants_count() {
        Some(layer.count(ctx, &query).await.map_err(Error::from)?)
    } else {
        None
    };
    match page {
        PageRequest::Offset { offset, .. } => {
            query.offset = query
                .offset
                .checked_add(offset)
                .ok_or_else(|| invalid(format!("offset {offset} is too large")))?;
            query.limit = Some(limit.saturating_add(1));
            let mut results = layer.read(ctx, &query).await.map_err(Error::from)?;
            let more = results.len() > limit;
            results.truncate(limit);
            Ok(Page {
                results,
                limit,
                offset: Some(offset),
                count,
                more,
                next: None,
            })
        }
        PageRequest::Keyset { after, .. } => {
            let pk = <A::Resource as Resource>::PRIMARY_KEY;
            if !query.sort.iter().any(|(f, _)| *f == pk) {
                query.sort.push((pk, SortOrder::Asc));
            }
            if let Some(after) = &after {
                if after.values.len() != query.sort.len() {
                    return Err(invalid(
                        "the keyset does not belong to this query's sort".into(),
                    ));
                }
                let after_filter = after.after_filter(&query.sort);
                query = query.filter(after_filter);
            }
            query.limit = Some(limit.saturating_add(1));
            let mut results = layer.read(ctx, &query).await.map_err(Error::from)?;
            let more = results.len() > limit;
            results.truncate(limit);
            let next = if more {
                results.last().map(|r| Keyset::of(r, &query.sort))
            } else {
                None
            };
            Ok(Page {
                results,
                limit,
                offset: None,
                count,
                more,
                next,
            })
        }
    }
}

#[inline(always)]
fn merge<R: Resource>(base: Query<R>, extra: Query<R>) -> Query<R> {
    // Most read actions have no query of their own.
    if base.is_empty() {
        return extra;
    }
    let mut merged = match extra.filter {
        Some(filter) => base.filter(filter),
        None => base,
    };
    let shift = merged.sort.len();
    merged.sort.extend(extra.sort);
    merged
        .aggregate_sort
        .extend(extra.aggregate_sort.into_iter().map(|mut key| {
            key.position += shift;
            key
        }));
    merged.limit = extra.limit.or(merged.limit);
    // Offsets add up; past usize::MAX nothing could be returned anyway.
    merged.offset = merged.offset.saturating_add(extra.offset);
    merged.loads.extend(extra.loads);
    merged
}
