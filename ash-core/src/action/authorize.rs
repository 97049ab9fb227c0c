//! The pipeline's authorize step: a resource's policies ([`crate::policy`]) for one
//! action call. Every helper starts with `R::POLICIES.is_empty()`, a constant: a resource
//! without policies runs exactly the code it ran before policies existed.

use super::ActionInfo;
use crate::context::Context;
use crate::data_layer::DataLayer;
use crate::error::{Error, ErrorKind};
use crate::filter::Filter;
use crate::policy::{self, Authorization};
use crate::query::Query;
use crate::resource::Resource;
use std::future::Future;

/// Whether `R` has policies (a constant).
#[inline(always)]
pub(crate) const fn has_policies<R: Resource>() -> bool {
    !R::POLICIES.is_empty()
}

/// The filter a write (or read) is authorized under: `None` when authorized as is,
/// `Some(filter)` for filter checks, `Forbidden` when refused.
#[inline]
pub(crate) fn authorize<R: Resource>(
    info: &'static ActionInfo,
    ctx: &Context,
) -> Result<Option<Filter<R>>, Error> {
    if !has_policies::<R>() {
        return Ok(None);
    }
    match policy::authorize::<R>(info, ctx) {
        Authorization::Authorized => Ok(None),
        Authorization::Filter(filter) if R::POLICY_RELATED_FILTERS => {
            Ok(Some(resolved(ctx, filter)?))
        }
        Authorization::Filter(filter) => Ok(Some(filter)),
        Authorization::Forbidden => Err(policy::forbidden::<R>(info, ctx, None)),
    }
}

/// A policy filter as the data layer of `R` can apply it: on a data layer that does not
/// render relationship filters (ETS), a filter through a relationship (a
/// `relates_to_actor_via` path) is resolved to keys now, by reading the related resources
/// through the domain's tables ([`Context::tables`]). A constant test first: a resource
/// whose policies give no relationship filter, or a data layer rendering them
/// (PostgreSQL: `EXISTS` in the one statement), runs no code here.
///
/// Not atomic with the write: the keys are read before the write's entry guard, so a
/// change to an intermediate record after this point is not seen by the write.
#[inline(always)]
pub(crate) fn resolved<R: Resource>(ctx: &Context, filter: Filter<R>) -> Result<Filter<R>, Error> {
    if !R::POLICY_RELATED_FILTERS
        || <R::DataLayer as DataLayer<R>>::NATIVE_RELATED_FILTERS
        || !filter.has_related()
    {
        return Ok(filter);
    }
    resolve_now(ctx, &filter)
}

/// [`resolved`]'s work: the relationship filters of `filter` read into key filters, with
/// the related data layers' immediate reads (one poll: a related data layer that waits
/// cannot be read here, an error).
#[cold]
#[inline(never)]
fn resolve_now<R: Resource>(ctx: &Context, filter: &Filter<R>) -> Result<Filter<R>, Error> {
    let framework = |message: String| -> Error {
        ErrorKind::Framework(crate::error::FrameworkError { message }).into()
    };
    let Some(tables) = ctx.tables() else {
        return Err(framework(format!(
            "a policy of {} filters through a relationship, which the data layer resolves through the domain's tables: run the action through its domain",
            R::NAME
        )));
    };
    let future = std::pin::pin!(crate::relationship::resolve_filter(&tables, filter));
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match future.poll(&mut cx) {
        std::task::Poll::Ready(resolved) => resolved.map_err(Error::from),
        std::task::Poll::Pending => Err(framework(format!(
            "a policy of {} filters through a relationship whose data layer does not answer at once: such a path must stay on data layers that never wait (ETS) or that render relationship filters (PostgreSQL)",
            R::NAME
        ))),
    }
}

/// A read's query with its authorization: filter checks join its filter, so the records
/// the actor may not see are absent (one statement on a SQL layer).
#[inline(always)]
pub(crate) fn authorized_query<R: Resource>(
    info: &'static ActionInfo,
    ctx: &Context,
    query: Query<R>,
) -> Result<Query<R>, Error> {
    if !has_policies::<R>() {
        return Ok(query);
    }
    Ok(match authorize::<R>(info, ctx)? {
        Some(filter) => query.filter(filter),
        None => query,
    })
}

/// A create's record against the filter checks it is authorized under (ETS has no
/// transaction to insert and check in, so the record about to be stored is checked).
#[inline(always)]
pub(crate) fn check_created<R: Resource>(
    info: &'static ActionInfo,
    ctx: &Context,
    filter: Option<&Filter<R>>,
    record: &R,
) -> Result<(), Error> {
    match filter {
        Some(filter) if !filter.matches(record) => {
            Err(policy::forbidden::<R>(info, ctx, Some(record)))
        }
        _ => Ok(()),
    }
}

/// Whether a refused update or destroy was refused by its policy filter (which joined
/// the write's filter): the stored record is missing or does not match the filter. The
/// filter is built again (it depends only on the action and the context).
fn refused_by_policy<R: Resource>(
    info: &'static ActionInfo,
    ctx: &Context,
    stored: Option<&R>,
) -> bool {
    match policy::authorize::<R>(info, ctx) {
        Authorization::Filter(filter) => match resolved(ctx, filter) {
            Ok(filter) => stored.is_none_or(|r| !filter.matches(r)),
            Err(_) => false,
        },
        Authorization::Forbidden => true,
        Authorization::Authorized => false,
    }
}

/// An update's or destroy's error from the data layer, on a data layer that never waits:
/// a `StaleRecord` caused by the policy filter is `Forbidden` (breakdown resolved on the
/// stored record), anything else stays.
#[cold]
#[inline(never)]
pub(crate) fn write_refused_now<R, L>(
    layer: &L,
    info: &'static ActionInfo,
    ctx: &Context,
    key: &R::PrimaryKey,
    error: ErrorKind,
) -> Error
where
    R: Resource,
    L: DataLayer<R> + ?Sized,
{
    if !has_policies::<R>() || !matches!(error, ErrorKind::StaleRecord(_)) {
        return error.into();
    }
    match layer.immediate_get(ctx, key) {
        Some(Ok(stored)) => classify(info, ctx, stored.as_ref(), error),
        _ => error.into(),
    }
}

/// [`write_refused_now`] on any data layer.
#[cold]
pub(crate) async fn write_refused<R, L>(
    layer: &L,
    info: &'static ActionInfo,
    ctx: &Context,
    key: &R::PrimaryKey,
    error: ErrorKind,
) -> Error
where
    R: Resource,
    L: DataLayer<R> + ?Sized,
{
    if !has_policies::<R>() || !matches!(error, ErrorKind::StaleRecord(_)) {
        return error.into();
    }
    match layer.get(ctx, key).await {
        Ok(stored) => classify(info, ctx, stored.as_ref(), error),
        Err(_) => error.into(),
    }
}

fn classify<R: Resource>(
    info: &'static ActionInfo,
    ctx: &Context,
    stored: Option<&R>,
    error: ErrorKind,
) -> Error {
    if refused_by_policy(info, ctx, stored) {
        policy::forbidden::<R>(info, ctx, stored)
    } else {
        error.into()
    }
}
