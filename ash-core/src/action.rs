//! Actions and the one pipeline they all run through.
//!
//! Every action, whatever its type: build the changeset from the typed input, run the
//! action's changes and validations then the global ones (generated code, static calls),
//! fail with every recorded error, check required attributes, hand the data layer one
//! declarative write, return the stored record. A failed action writes nothing.

use crate::changeset::Changeset;
use crate::context::Context;
use crate::data_layer::DataLayer;
use crate::error::{Error, ErrorKind, InvalidArgument, MultipleResults, NotFound};
use crate::filter::Filter;
use crate::query::{Keyset, Page, PageRequest, Pagination, Query, SortOrder};
use crate::resource::Resource;
use serde::Serialize;
use std::fmt;

/// The four action types of Ash that this crate implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionType {
    /// Stores a new record.
    Create,
    /// Reads records.
    Read,
    /// Changes a stored record.
    Update,
    /// Removes a stored record.
    Destroy,
}

impl fmt::Display for ActionType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ActionType::Create => "create",
            ActionType::Read => "read",
            ActionType::Update => "update",
            ActionType::Destroy => "destroy",
        })
    }
}

/// Static facts about an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActionInfo {
    /// The action's name.
    pub name: &'static str,
    /// The action's type.
    pub kind: ActionType,
    /// Whether it is the primary action of its type.
    pub primary: bool,
}

/// An action, identified by its generated input type (`AddressUpdateInput` is the
/// `update` action of `Address`): choosing the input type chooses the action at compile
/// time.
pub trait Action: Sized + Send + Sync + 'static {
    /// The resource the action belongs to.
    type Resource: Resource;
    /// The action's static facts.
    const INFO: &'static ActionInfo;
    /// The names of the inputs the action takes (accepted attributes, arguments).
    const INPUTS: &'static [&'static str];

    /// Fills argument defaults and returns a `Required` error for each missing required
    /// argument. Every action type runs it first.
    fn prepare_arguments(&mut self) -> Vec<ErrorKind> {
        Vec::new()
    }

    /// Moves the input's attribute values into the changeset. The arguments stay in the
    /// input, which the pipeline then shows to changes and validations.
    fn apply_input(&mut self, changeset: &mut Changeset<'_, Self::Resource>);

    /// Runs the action's changes and validations in declaration order, then the global
    /// changes that apply to it.
    fn run_changes(changeset: &mut Changeset<'_, Self::Resource>);

    /// Sets one input from JSON (see [`crate::input`]).
    fn set_json(&mut self, input: &str, value: serde_json::Value) -> Result<(), ErrorKind>;
}

/// A create action.
pub trait CreateAction: Action {}
/// An update action.
pub trait UpdateAction: Action {}
/// A destroy action.
pub trait DestroyAction: Action {}
/// A read action.
pub trait ReadAction: Action {
    /// How the action pages, if it does (`pagination(...)` in the DSL).
    const PAGINATION: Option<Pagination> = None;

    /// The action's own query: its `filter`, if it has one.
    fn base_query(&self) -> Query<Self::Resource> {
        Query::new()
    }
}

/// The start of every write: arguments prepared, attribute inputs moved into a new
/// changeset, the input (its arguments) shown to changes and validations.
// Always inlined: returning the changeset by value would otherwise copy it on every call.
#[inline(always)]
fn start<'a, A: Action>(
    input: &'a mut A,
    data: Option<&'a A::Resource>,
    ctx: &'a Context,
    domain: Option<&'a DomainRef>,
) -> Changeset<'a, A::Resource> {
    let mut changeset = Changeset::new(A::INFO, data, ctx);
    if let Some(domain) = domain {
        changeset.set_domain(domain);
    }
    let errors = input.prepare_arguments();
    if !errors.is_empty() {
        changeset.extend_errors(errors);
    }
    input.apply_input(&mut changeset);
    let input: &'a A = input;
    changeset.set_arguments(input);
    changeset
}

/// Read actions have no changeset: missing arguments fail the read directly.
#[inline]
fn prepare_read<A: ReadAction>(input: &mut A) -> Result<(), Error> {
    let errors = input.prepare_arguments();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::from_errors(errors))
    }
}

/// A domain value, as changes and hooks see it (`changeset.domain::<Blog>()`).
pub type DomainRef = dyn std::any::Any + Send + Sync;

/// Runs a create action.
#[inline]
pub async fn create<A, L>(layer: &L, ctx: &Context, input: A) -> Result<A::Resource, Error>
where
    A: CreateAction,
    L: DataLayer<A::Resource> + ?Sized,
{
    create_in(layer, ctx, None, input).await
}

/// [`create`], showing `domain` to changes and hooks.
#[inline]
pub async fn create_in<A, L>(
    layer: &L,
    ctx: &Context,
    domain: Option<&DomainRef>,
    input: A,
) -> Result<A::Resource, Error>
where
    A: CreateAction,
    L: DataLayer<A::Resource> + ?Sized,
{
    let mut input = input;
    let mut changeset = start(&mut input, None, ctx, domain);
    <A::Resource as Resource>::apply_create_defaults(changeset.changes_mut());
    A::run_changes(&mut changeset);
    write(layer, &mut changeset, Write::Create).await
}

/// Runs an update action on `record` (the caller's copy).
#[inline]
pub async fn update<A, L>(
    layer: &L,
    ctx: &Context,
    record: &A::Resource,
    input: A,
) -> Result<A::Resource, Error>
where
    A: UpdateAction,
    L: DataLayer<A::Resource> + ?Sized,
{
    update_in(layer, ctx, None, record, input).await
}

/// [`update`], showing `domain` to changes and hooks.
#[inline]
pub async fn update_in<A, L>(
    layer: &L,
    ctx: &Context,
    domain: Option<&DomainRef>,
    record: &A::Resource,
    input: A,
) -> Result<A::Resource, Error>
where
    A: UpdateAction,
    L: DataLayer<A::Resource> + ?Sized,
{
    let mut input = input;
    let mut changeset = start(&mut input, Some(record), ctx, domain);
    <A::Resource as Resource>::apply_update_defaults(changeset.changes_mut());
    A::run_changes(&mut changeset);
    write(layer, &mut changeset, Write::Update(record.primary_key())).await
}

/// Runs a destroy action on `record` (the caller's copy); returns the destroyed record.
#[inline]
pub async fn destroy<A, L>(
    layer: &L,
    ctx: &Context,
    record: &A::Resource,
    input: A,
) -> Result<A::Resource, Error>
where
    A: DestroyAction,
    L: DataLayer<A::Resource> + ?Sized,
{
    destroy_in(layer, ctx, None, record, input).await
}

/// [`destroy`], showing `domain` to changes and hooks.
#[inline]
pub async fn destroy_in<A, L>(
    layer: &L,
    ctx: &Context,
    domain: Option<&DomainRef>,
    record: &A::Resource,
    input: A,
) -> Result<A::Resource, Error>
where
    A: DestroyAction,
    L: DataLayer<A::Resource> + ?Sized,
{
    let mut input = input;
    let mut changeset = start(&mut input, Some(record), ctx, domain);
    A::run_changes(&mut changeset);
    write(layer, &mut changeset, Write::Destroy(record.primary_key())).await
}

/// Which write the changeset becomes.
enum Write<'k, R: Resource> {
    Create,
    Update(&'k R::PrimaryKey),
    Destroy(&'k R::PrimaryKey),
}

impl<R: Resource> Clone for Write<'_, R> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<R: Resource> Copy for Write<'_, R> {}

/// The end of every write: fail with every recorded error, or run the hooks and the write
/// (in a transaction of the data layer when there are hooks).
#[inline]
async fn write<R, L>(
    layer: &L,
    changeset: &mut Changeset<'_, R>,
    write: Write<'_, R>,
) -> Result<R, Error>
where
    R: Resource,
    L: DataLayer<R> + ?Sized,
{
    changeset.check()?;
    if !changeset.has_hooks() {
        let ctx = changeset.context_ref();
        return perform(layer, ctx, changeset, write).await;
    }
    // Boxed: the hook path's state stays out of every action's future.
    Box::pin(write_with_hooks(layer, changeset, write)).await
}

/// The hooks and the write, sharing one transaction: an error from any of them (or a
/// panic, or the future being dropped) rolls back where the data layer has transactions.
async fn write_with_hooks<R, L>(
    layer: &L,
    changeset: &mut Changeset<'_, R>,
    write: Write<'_, R>,
) -> Result<R, Error>
where
    R: Resource,
    L: DataLayer<R> + ?Sized,
{
    let tx = layer.begin(changeset.context()).await?;
    let ctx = if tx.is_real() {
        changeset.context().clone().with_transaction(&tx)
    } else {
        changeset.context().clone()
    };
    changeset.set_hook_context(ctx.clone());
    let result = async {
        changeset.run_before_action().await;
        changeset.check()?;
        let after = changeset.take_after_action();
        let mut record = perform(layer, &ctx, changeset, write).await?;
        for hook in after {
            record = hook(record, ctx.clone()).await?;
        }
        Ok(record)
    }
    .await;
    tx.finish(result).await
}

/// Hands the data layer the write the changeset describes.
#[inline(always)]
async fn perform<R, L>(
    layer: &L,
    ctx: &Context,
    changeset: &mut Changeset<'_, R>,
    write: Write<'_, R>,
) -> Result<R, Error>
where
    R: Resource,
    L: DataLayer<R> + ?Sized,
{
    match write {
        Write::Create => {
            let record = R::from_changes(changeset.changes_mut()).map_err(Error::from_errors)?;
            layer.create(ctx, record).await.map_err(Error::from)
        }
        Write::Update(key) => layer
            .update(ctx, changeset.update_op(key))
            .await
            .map_err(Error::from),
        Write::Destroy(key) => layer
            .destroy(ctx, changeset.destroy_op(key))
            .await
            .map_err(Error::from),
    }
}

/// Runs a read action with an extra `query` on top of the action's own.
#[inline]
pub async fn read<A, L>(
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
    let query = merge(input.base_query(), query);
    layer.read(ctx, &query).await.map_err(Error::from)
}

/// Runs a read action expecting at most one record (`get?` in Ash): none gives `Ok(None)`,
/// more than one gives `MultipleResults`. A filter that is exactly primary-key equality
/// goes straight to the record.
#[inline]
pub async fn read_one<A, L>(
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
    let query = merge(input.base_query(), query);
    find_one(layer, ctx, &query).await
}

/// [`read_one`], with `NotFound` (naming the filter) when nothing matches.
#[inline]
pub async fn get<A, L>(
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
        } if sort.is_empty() => return get_by(layer, ctx, input, filter).await,
        other => other,
    };
    let mut input = input;
    prepare_read(&mut input)?;
    let query = merge(input.base_query(), query);
    match find_one(layer, ctx, &query).await? {
        Some(record) => Ok(record),
        None => Err(not_found(query.filter.as_ref())),
    }
}

/// [`get`] with a filter and no other query: what a `define` with `get_by` runs. When the
/// filter is exactly the primary key and the action has no filter of its own, the record
/// is read straight from the data layer, with no query built.
// Always inlined: a copy of the returned record costs store-forwarding stalls.
#[inline(always)]
pub async fn get_by<A, L>(
    layer: &L,
    ctx: &Context,
    input: A,
    filter: Filter<A::Resource>,
) -> Result<A::Resource, Error>
where
    A: ReadAction,
    L: DataLayer<A::Resource> + ?Sized,
{
    let mut input = input;
    prepare_read(&mut input)?;
    let base = input.base_query();
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

/// `NotFound`, naming the filter; rendered only when nothing is found.
#[cold]
fn not_found<R: Resource>(filter: Option<&Filter<R>>) -> Error {
    ErrorKind::NotFound(NotFound {
        resource: R::NAME,
        filter: filter.map(Filter::to_dyn),
    })
    .into()
}

/// The one record matching `query`, if any.
#[inline]
async fn find_one<R, L>(layer: &L, ctx: &Context, query: &Query<R>) -> Result<Option<R>, Error>
where
    R: Resource,
    L: DataLayer<R> + ?Sized,
{
    // Paging past the one record (an offset, a limit of 0) is left to the data layer.
    let pages_away = query.offset > 0 || query.limit == Some(0);
    if let (Some(filter), false) = (&query.filter, pages_away) {
        if let Some(key) = filter.as_primary_key() {
            // Exactly the key: the record found is the answer.
            return layer.get(ctx, key).await.map_err(Error::from);
        }
        if let Some(key) = primary_key_in(filter) {
            // Straight to the record; the rest of the filter is checked on it.
            let record = layer.get(ctx, key).await.map_err(Error::from)?;
            return Ok(record.filter(|r| filter.matches(r)));
        }
    }
    let mut records = layer.read(ctx, query).await.map_err(Error::from)?;
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

/// The primary key, when the filter is primary-key equality or a conjunction holding one.
#[inline]
fn primary_key_in<R: Resource>(filter: &Filter<R>) -> Option<&R::PrimaryKey> {
    match filter {
        Filter::And(all) => all.iter().find_map(primary_key_in),
        other => other.as_primary_key(),
    }
}

/// Runs a paginated read action, returning one page.
pub async fn read_page<A, L>(
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
    let invalid = |message: String| -> Error {
        ErrorKind::InvalidArgument(InvalidArgument {
            field: "page".into(),
            message,
            value: None,
        })
        .into()
    };
    let Some(pagination) = A::PAGINATION else {
        return Err(invalid(format!(
            "action {} does not paginate",
            A::INFO.name
        )));
    };
    let mut input = input;
    prepare_read(&mut input)?;
    let mut query = merge(input.base_query(), query);
    let limit = page
        .requested_limit()
        .or(pagination.default_limit)
        .ok_or_else(|| invalid("a page needs a limit (the action has no default_limit)".into()))?;
    let limit = pagination.max_page_size.map_or(limit, |max| limit.min(max));
    let count = if page.wants_count() {
        if !pagination.countable {
            return Err(invalid(format!("action {} is not countable", A::INFO.name)));
        }
        Some(layer.count(ctx, &query).await.map_err(Error::from)?)
    } else {
        None
    };
    match page {
        PageRequest::Offset { offset, .. } => {
            if !pagination.offset {
                return Err(invalid(format!(
                    "action {} has no offset pagination",
                    A::INFO.name
                )));
            }
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
            if !pagination.keyset {
                return Err(invalid(format!(
                    "action {} has no keyset pagination",
                    A::INFO.name
                )));
            }
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
    merged.sort.extend(extra.sort);
    merged.limit = extra.limit.or(merged.limit);
    // Offsets add up; past usize::MAX nothing could be returned anyway.
    merged.offset = merged.offset.saturating_add(extra.offset);
    merged
}
