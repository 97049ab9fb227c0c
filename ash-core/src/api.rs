//! Running any action of a domain's resources without a `define`: the input type picks
//! the action at compile time. The call carries the domain value's context
//! (`domain.with_actor(&user)`). Each function returns the action's `Send` future,
//! an [`ActionFuture`].
//!
//! Writes of a resource that has a belongs_to, and destroys of one that is the destination
//! of a belongs_to, carry the domain to the data layer ([`crate::reference`]), which checks
//! and applies the foreign keys.
//!
//! ```ignore
//! let fl = ash_rs::api::read(&domain, AddressReadInput::new(), Query::new().filter(Address::STATE.eq("FL"))).await?;
//! ```

use crate::action::{self, ActionFuture, CreateAction, DestroyAction, ReadAction, UpdateAction};
use crate::context::Context;
use crate::domain::{HasResource, HasResources};
use crate::error::Error;
use crate::query::{Page, PageRequest, Query};
use crate::reference::{is_referenced, Linked};
use crate::relationship::Tables;
use crate::resource::Resource;
use std::sync::Arc;

/// The domain's context carrying the domain itself as [`Links`](crate::reference::Links),
/// for a write the data layer may have to check foreign keys for (ETS) or map their
/// violations of (PostgreSQL): the resource has a belongs_to, or (a destroy) is the
/// destination of one. `None` for every other write, which keeps its plain path.
fn linked<D, R>(domain: &D, destroy: bool) -> Option<Context>
where
    D: HasResources + Tables + crate::domain::Domain,
    R: Resource,
{
    let involved = if destroy {
        is_referenced::<D, R>()
    } else {
        !R::REFERENCES.is_empty()
    };
    involved.then(|| {
        domain
            .context()
            .clone()
            .with_references(Arc::new(Linked(domain.clone())))
    })
}

/// Runs a create action.
#[inline]
pub fn create<D, A>(domain: &D, input: A) -> ActionFuture<'_, Result<A::Resource, Error>>
where
    A: CreateAction,
    D: HasResource<A::Resource> + HasResources + Tables,
{
    // As in `update`: the linked path out of line.
    if !A::Resource::REFERENCES.is_empty() {
        return create_linked(domain, input);
    }
    action::create_in(domain.data_layer(), domain.context(), Some(domain), input)
}

/// [`create`] of a resource with a belongs_to: the context carries the domain.
#[inline(never)]
fn create_linked<D, A>(domain: &D, input: A) -> ActionFuture<'_, Result<A::Resource, Error>>
where
    A: CreateAction,
    D: HasResource<A::Resource> + HasResources + Tables,
{
    let ctx = domain
        .context()
        .clone()
        .with_references(Arc::new(Linked(domain.clone())));
    ActionFuture::running(async move {
        action::create_in(domain.data_layer(), &ctx, Some(domain), input).await
    })
}

/// Runs a create action as an upsert, chosen for this call: on a conflict with the
/// upsert's target (an identity, or the primary key) the stored record is updated instead;
/// see [`Upsert`](crate::identity::Upsert).
///
/// ```ignore
/// let user = ash_rs::api::upsert(&domain, input, Upsert::on(User::UNIQUE_EMAIL)).await?;
/// ```
#[inline]
pub fn upsert<D, A>(
    domain: &D,
    input: A,
    upsert: crate::identity::Upsert<A::Resource>,
) -> ActionFuture<'_, Result<A::Resource, Error>>
where
    A: CreateAction,
    D: HasResource<A::Resource> + HasResources + Tables,
{
    match linked::<D, A::Resource>(domain, false) {
        None => action::upsert_in(
            domain.data_layer(),
            domain.context(),
            Some(domain),
            input,
            Some(upsert),
        ),
        Some(ctx) => ActionFuture::running(async move {
            action::upsert_in(domain.data_layer(), &ctx, Some(domain), input, Some(upsert)).await
        }),
    }
}

/// Runs an update action on `record`.
// Always: the action's result is returned by value, and a call would copy it once more.
#[inline(always)]
pub fn update<'a, D, A>(
    domain: &'a D,
    record: &'a A::Resource,
    input: A,
) -> ActionFuture<'a, Result<A::Resource, Error>>
where
    A: UpdateAction,
    D: HasResource<A::Resource> + HasResources + Tables,
{
    // A constant test: a resource without a belongs_to keeps the one inlined path, and
    // the linked one stays out of line so it does not grow every caller.
    if !A::Resource::REFERENCES.is_empty() {
        return update_linked(domain, record, input);
    }
    action::update_in(
        domain.data_layer(),
        domain.context(),
        Some(domain),
        record,
        input,
    )
}

/// [`update`] of a resource with a belongs_to: the context carries the domain.
#[inline(never)]
fn update_linked<'a, D, A>(
    domain: &'a D,
    record: &'a A::Resource,
    input: A,
) -> ActionFuture<'a, Result<A::Resource, Error>>
where
    A: UpdateAction,
    D: HasResource<A::Resource> + HasResources + Tables,
{
    let ctx = domain
        .context()
        .clone()
        .with_references(Arc::new(Linked(domain.clone())));
    ActionFuture::running(async move {
        action::update_in(domain.data_layer(), &ctx, Some(domain), record, input).await
    })
}

/// Runs a destroy action on `record`; returns the destroyed record.
#[inline]
pub fn destroy<'a, D, A>(
    domain: &'a D,
    record: &'a A::Resource,
    input: A,
) -> ActionFuture<'a, Result<A::Resource, Error>>
where
    A: DestroyAction,
    D: HasResource<A::Resource> + HasResources + Tables,
{
    match linked::<D, A::Resource>(domain, true) {
        None => action::destroy_in(
            domain.data_layer(),
            domain.context(),
            Some(domain),
            record,
            input,
        ),
        Some(ctx) => ActionFuture::running(async move {
            action::destroy_in(domain.data_layer(), &ctx, Some(domain), record, input).await
        }),
    }
}

/// Runs a read action with `query` on top of its own.
#[inline]
pub fn read<D, A>(
    domain: &D,
    input: A,
    query: Query<A::Resource>,
) -> ActionFuture<'_, Result<Vec<A::Resource>, Error>>
where
    A: ReadAction,
    D: HasResource<A::Resource> + Tables,
{
    if query.loads.is_empty()
        && query.aggregate_sort.is_empty()
        && !query.filter.as_ref().is_some_and(|f| f.has_related())
    {
        return action::read(domain.data_layer(), domain.context(), input, query);
    }
    ActionFuture::running(async move {
        let (mut own, loads) = prepared(domain, query).await?;
        let sorting = crate::aggregate::InMemorySort::take(&mut own);
        let mut records = action::read(domain.data_layer(), domain.context(), input, own).await?;
        if let Some(sorting) = sorting {
            records = sorting.apply(domain, records).await?;
        }
        crate::relationship::run_loads(domain, &mut records, &loads).await?;
        Ok(records)
    })
}

/// The query with its relationship filters resolved (for data layers that need it) and its
/// loads taken out (run after the read).
async fn prepared<D, R>(domain: &D, query: Query<R>) -> Result<(Query<R>, Query<R>), Error>
where
    D: Tables,
    R: crate::resource::Resource,
{
    let mut own = query;
    let loads = Query {
        loads: std::mem::take(&mut own.loads),
        ..Query::default()
    };
    if let Some(filter) = &own.filter {
        own.filter = Some(crate::relationship::resolve_filter(domain, filter).await?);
    }
    if <R::DataLayer as crate::data_layer::DataLayer<R>>::NATIVE_AGGREGATES {
        // Computed by the read itself; their loads then find them loaded.
        own.loads = loads
            .loads
            .iter()
            .filter(|l| l.aggregate().is_some())
            .cloned()
            .collect();
    }
    Ok((own, loads))
}

/// Runs a read action expecting at most one record.
#[inline]
pub fn read_one<D, A>(
    domain: &D,
    input: A,
    query: Query<A::Resource>,
) -> ActionFuture<'_, Result<Option<A::Resource>, Error>>
where
    A: ReadAction,
    D: HasResource<A::Resource> + Tables,
{
    if query.loads.is_empty()
        && query.aggregate_sort.is_empty()
        && !query.filter.as_ref().is_some_and(|f| f.has_related())
    {
        return action::read_one(domain.data_layer(), domain.context(), input, query);
    }
    ActionFuture::running(async move {
        let (own, loads) = prepared(domain, query).await?;
        let found = action::read_one(domain.data_layer(), domain.context(), input, own).await?;
        let mut records: Vec<_> = found.into_iter().collect();
        crate::relationship::run_loads(domain, &mut records, &loads).await?;
        Ok(records.pop())
    })
}

/// Runs a read action expecting exactly one record (`NotFound` otherwise).
#[inline]
pub fn get<D, A>(
    domain: &D,
    input: A,
    query: Query<A::Resource>,
) -> ActionFuture<'_, Result<A::Resource, Error>>
where
    A: ReadAction,
    D: HasResource<A::Resource> + Tables,
{
    if query.loads.is_empty()
        && query.aggregate_sort.is_empty()
        && !query.filter.as_ref().is_some_and(|f| f.has_related())
    {
        return action::get(domain.data_layer(), domain.context(), input, query);
    }
    ActionFuture::running(async move {
        let (own, loads) = prepared(domain, query).await?;
        let found = action::get(domain.data_layer(), domain.context(), input, own).await?;
        let mut records = vec![found];
        crate::relationship::run_loads(domain, &mut records, &loads).await?;
        records
            .pop()
            .ok_or_else(|| Error::from(crate::error::ErrorKind::unknown("a get lost its record")))
    })
}

/// An offset page sorted by aggregates on a data layer that does not compute them in its
/// read: every matching record read (the action's filter and authorization applied), the
/// aggregates of the sort computed for all of them, then sorted and paged in memory, as
/// [`read`] does; the count is the number read.
async fn offset_page_sorted_in_memory<D, A>(
    domain: &D,
    input: A,
    query: Query<A::Resource>,
    page: PageRequest<A::Resource>,
) -> Result<Page<A::Resource>, Error>
where
    A: ReadAction,
    D: HasResource<A::Resource> + Tables,
{
    let limit = action::page_limit::<A>(&page)?;
    let PageRequest::Offset { offset, .. } = page else {
        return Err(Error::from(crate::error::ErrorKind::unknown(
            "a keyset page reached the offset path",
        )));
    };
    let (mut own, loads) = prepared(domain, query).await?;
    let Some(mut sorting) = crate::aggregate::InMemorySort::take(&mut own) else {
        return Err(Error::from(crate::error::ErrorKind::unknown(
            "an aggregate sort was lost",
        )));
    };
    sorting.page(offset, limit.saturating_add(1));
    let records = action::read(domain.data_layer(), domain.context(), input, own).await?;
    let count = page.wants_count().then_some(records.len());
    let mut results = sorting.apply(domain, records).await?;
    let more = results.len() > limit;
    results.truncate(limit);
    crate::relationship::run_loads(domain, &mut results, &loads).await?;
    Ok(Page {
        results,
        limit,
        offset: Some(offset),
        count,
        more,
        next: None,
    })
}

/// Runs a paginated read action, returning one page.
pub fn read_page<D, A>(
    domain: &D,
    input: A,
    query: Query<A::Resource>,
    page: PageRequest<A::Resource>,
) -> ActionFuture<'_, Result<Page<A::Resource>, Error>>
where
    A: ReadAction,
    D: HasResource<A::Resource> + Tables,
{
    if query.loads.is_empty()
        && query.aggregate_sort.is_empty()
        && !query.filter.as_ref().is_some_and(|f| f.has_related())
    {
        return action::read_page(domain.data_layer(), domain.context(), input, query, page);
    }
    ActionFuture::running(async move {
        if !query.aggregate_sort.is_empty() {
            if let PageRequest::Keyset { .. } = page {
                return Err(Error::from(crate::error::ErrorKind::InvalidArgument(
                    crate::error::InvalidArgument {
                        field: "sort".into(),
                        message: "a keyset page cannot sort by an aggregate (a keyset holds attribute values); page by offset".into(),
                        value: None,
                    },
                )));
            }
            if !<<A::Resource as Resource>::DataLayer as crate::data_layer::DataLayer<
                A::Resource,
            >>::NATIVE_AGGREGATES
            {
                return offset_page_sorted_in_memory(domain, input, query, page).await;
            }
        }
        let (own, loads) = prepared(domain, query).await?;
        let mut found =
            action::read_page(domain.data_layer(), domain.context(), input, own, page).await?;
        crate::relationship::run_loads(domain, &mut found.results, &loads).await?;
        Ok(found)
    })
}
