//! Actions and the one pipeline they all run through.
//!
//! Every action, whatever its type: build the changeset from the typed input, run the
//! action's changes and validations then the global ones (generated code, static calls),
//! fail with every recorded error, check required attributes, hand the data layer one
//! declarative write, return the stored record. A failed action writes nothing.

use crate::changeset::{Changeset, ChangesetParts};
use crate::data_layer::{DataLayer, DestroyOp, UpdateOp};
use crate::error::{Error, ErrorKind, MultipleResults, NotFound};
use crate::filter::Filter;
use crate::query::Query;
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
pub trait Action: Sized + Send + 'static {
    /// The resource the action belongs to.
    type Resource: Resource;
    /// The action's static facts.
    const INFO: &'static ActionInfo;
    /// The names of the inputs the action takes (accepted attributes, arguments).
    const INPUTS: &'static [&'static str];

    /// Moves the input's attribute values into the changeset, fills argument defaults, and
    /// records a `Required` error for each missing required argument. The arguments stay
    /// in the input, which the pipeline then shows to changes and validations.
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
    /// The action's own filter, if it has one.
    fn base_query(&self) -> Query<Self::Resource> {
        Query::new()
    }
}

/// Runs a create action.
pub fn create<A, L>(layer: &L, input: A) -> Result<A::Resource, Error>
where
    A: CreateAction,
    L: DataLayer<A::Resource> + ?Sized,
{
    let mut input = input;
    let mut changeset = Changeset::new(A::INFO, None);
    input.apply_input(&mut changeset);
    changeset.set_arguments(&input);
    <A::Resource as Resource>::apply_create_defaults(changeset.changes_mut());
    A::run_changes(&mut changeset);
    write(layer, changeset, |parts| {
        let record =
            <A::Resource as Resource>::from_changes(parts.changes).map_err(Error::from_errors)?;
        layer.create(record).map_err(Error::from)
    })
}

/// The end of every write: fail with every recorded error, or run the hooks and the write
/// (in the data layer's transaction when there are hooks).
fn write<R, L, F>(layer: &L, mut changeset: Changeset<'_, R>, write: F) -> Result<R, Error>
where
    R: Resource,
    L: DataLayer<R> + ?Sized,
    F: FnOnce(ChangesetParts<R>) -> Result<R, Error>,
{
    if !changeset.is_valid() || !changeset.has_hooks() {
        return write(changeset.into_parts()?);
    }
    layer.transaction(move || {
        changeset.run_before_action();
        let after = changeset.take_after_action();
        let mut record = write(changeset.into_parts()?)?;
        for hook in after {
            hook(&mut record).map_err(Error::from)?;
        }
        Ok(record)
    })
}

/// Runs an update action on `record` (the caller's copy).
pub fn update<A, L>(layer: &L, record: &A::Resource, input: A) -> Result<A::Resource, Error>
where
    A: UpdateAction,
    L: DataLayer<A::Resource> + ?Sized,
{
    let mut input = input;
    let mut changeset = Changeset::new(A::INFO, Some(record));
    input.apply_input(&mut changeset);
    changeset.set_arguments(&input);
    <A::Resource as Resource>::apply_update_defaults(changeset.changes_mut());
    A::run_changes(&mut changeset);
    write(layer, changeset, |parts| {
        layer
            .update(UpdateOp {
                primary_key: record.primary_key().clone(),
                filter: parts.filter,
                changes: parts.changes,
                atomics: parts.atomics,
            })
            .map_err(Error::from)
    })
}

/// Runs a destroy action on `record` (the caller's copy); returns the destroyed record.
pub fn destroy<A, L>(layer: &L, record: &A::Resource, input: A) -> Result<A::Resource, Error>
where
    A: DestroyAction,
    L: DataLayer<A::Resource> + ?Sized,
{
    let mut input = input;
    let mut changeset = Changeset::new(A::INFO, Some(record));
    input.apply_input(&mut changeset);
    changeset.set_arguments(&input);
    A::run_changes(&mut changeset);
    write(layer, changeset, |parts| {
        layer
            .destroy(DestroyOp {
                primary_key: record.primary_key().clone(),
                filter: parts.filter,
            })
            .map_err(Error::from)
    })
}

/// Runs a read action with an extra `query` on top of the action's own.
pub fn read<A, L>(layer: &L, input: A, query: Query<A::Resource>) -> Result<Vec<A::Resource>, Error>
where
    A: ReadAction,
    L: DataLayer<A::Resource> + ?Sized,
{
    let query = merge(input.base_query(), query);
    layer.read(&query).map_err(Error::from)
}

/// Runs a read action expecting at most one record (`get?` in Ash): none gives `Ok(None)`,
/// more than one gives `MultipleResults`. A filter that is exactly primary-key equality
/// goes straight to the record.
pub fn read_one<A, L>(
    layer: &L,
    input: A,
    query: Query<A::Resource>,
) -> Result<Option<A::Resource>, Error>
where
    A: ReadAction,
    L: DataLayer<A::Resource> + ?Sized,
{
    let query = merge(input.base_query(), query);
    if let Some(key) = query.filter.as_ref().and_then(Filter::as_primary_key) {
        return layer.get(key).map_err(Error::from);
    }
    let mut records = layer.read(&query).map_err(Error::from)?;
    match records.len() {
        0 => Ok(None),
        1 => Ok(records.pop()),
        count => Err(ErrorKind::MultipleResults(MultipleResults {
            resource: <A::Resource as Resource>::NAME.to_owned(),
            count,
        })
        .into()),
    }
}

/// [`read_one`], with `NotFound` (naming the filter) when nothing matches.
pub fn get<A, L>(layer: &L, input: A, query: Query<A::Resource>) -> Result<A::Resource, Error>
where
    A: ReadAction,
    L: DataLayer<A::Resource> + ?Sized,
{
    let filter = query.filter.as_ref().map(Filter::to_dyn);
    read_one(layer, input, query)?.ok_or_else(|| {
        ErrorKind::NotFound(NotFound {
            resource: <A::Resource as Resource>::NAME.to_owned(),
            filter,
        })
        .into()
    })
}

fn merge<R: Resource>(base: Query<R>, extra: Query<R>) -> Query<R> {
    let mut merged = match extra.filter {
        Some(filter) => base.filter(filter),
        None => base,
    };
    merged.sort.extend(extra.sort);
    merged.limit = extra.limit.or(merged.limit);
    merged.offset += extra.offset;
    merged
}
