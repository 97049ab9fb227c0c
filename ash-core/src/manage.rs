//! `manage_relationship`: an action argument that creates, updates, relates, unrelates or
//! destroys the records of a has_many ([`has_many`]), has_one ([`has_one`]: at most one
//! input) or many_to_many ([`many_to_many`]: through join records) relationship after the
//! action's own write, or of a belongs_to before it ([`belongs_to`]), inside the action's
//! transaction (Ash's `change manage_relationship(:lines, type: :direct_control)`).
//!
//! ```ignore
//! #[actions(
//!     create(create, accept = [customer],
//!         argument(lines, Vec<Managed<OrderLine, OrderLineCreateInput, OrderLineUpdateInput>>),
//!         change = manage_relationship(lines, type = direct_control)),
//! )]
//! ```
//!
//! **Types** ([`ManageType`]) expand to the four options as in Ash 3
//! (`Ash.Changeset.manage_relationship_opts/1`); options written after the type override it:
//!
//! | type | on_lookup | on_no_match | on_match | on_missing |
//! |---|---|---|---|---|
//! | `append_and_remove` (`replace`) | relate | error | ignore | unrelate |
//! | `append` | relate | error | ignore | ignore |
//! | `remove` | ignore | error | unrelate | ignore |
//! | `direct_control` | ignore | create | update | destroy |
//! | `create` | ignore | create | ignore | ignore |
//!
//! **Inputs** are [`Managed`] values: `Create(input)` for a new record, `Update(record,
//! input)` for a related record the caller holds (its optimistic lock compares the
//! version the caller read), `Key(id)` for a record named by its primary key. A create
//! input or a key converts into a `Managed` (`.into()`).
//!
//! **Order of operations** (Ash's `manage_relationship/7`): the action writes its record;
//! then the records currently related are read (updates only: a created record has none);
//! `on_missing` runs first, on the current records no input names, in stored order; then
//! the inputs in order: a match runs `on_match`, a key not related runs `on_lookup`
//! (relate reads the record by primary key and sets its foreign key), anything else
//! `on_no_match`. Created records are built and validated together, after the other
//! inputs, and written with one [`DataLayer::create_many`] (one multi-row `INSERT` on
//! PostgreSQL) when the child's create action adds no hooks. The record the action returns
//! has the relationship loaded with the result, in input order.
//!
//! Every child write runs the child's own action (its changes, validations, policies and
//! optimistic lock); the foreign key is forced onto it before its changes run. An argument
//! that was not supplied does nothing; an explicit empty list runs `on_missing` on every
//! related record.
//!
//! **Errors** carry their path: an error of input 2 of `lines` is a
//! [`Nested`](crate::error::Nested) error at `lines[2]`, so a stale line in a
//! `direct_control` update fails the whole action with that line's `StaleRecord` at
//! `lines[2]` ([`Error::stale_record`] finds it).
//!
//! **Transactions.** On PostgreSQL the parent's write and every child write share the
//! action's transaction: any error rolls all of it back. The ETS layer has no
//! transactions, so a failure leaves exactly what was written before it: the parent's
//! write, the `on_missing` writes, the writes of the inputs before the failing one; the
//! created records are all validated before any is written, so a create that fails
//! validation leaves none of them (a create the table refuses, such as a duplicate key,
//! leaves the ones before it).

mod many_to_many;

pub use many_to_many::{many_to_many, ManyToManyPlan};

use crate::action::related::{self, Force};
use crate::action::{
    self, Action, ActionInfo, ActionType, CreateAction, DestroyAction, DomainRef, UpdateAction,
};
use crate::changeset::Changeset;
use crate::context::Context;
use crate::data_layer::DataLayer;
use crate::domain::HasResource;
use crate::error::{Error, ErrorKind, FrameworkError, NotFound, PathSegment};
use crate::filter::Filter;
use crate::query::Query;
use crate::relationship::{Direct, FromRelated, Loaded};
use crate::resource::Resource;
use std::collections::HashSet;
use std::fmt;
use std::hash::Hash;
use std::marker::PhantomData;

/// The `type` of a `manage_relationship`: a preset of the four options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManageType {
    /// Relate the inputs, unrelate the rest (`replace` is its old name, as in Ash).
    AppendAndRemove,
    /// Relate the inputs.
    Append,
    /// Unrelate the inputs.
    Remove,
    /// Create, update and destroy to make the related records the inputs.
    DirectControl,
    /// Create the inputs.
    Create,
}

/// What happens to an input naming a record that is not related yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnLookup {
    /// Nothing: `on_no_match` decides.
    Ignore,
    /// Read the record by primary key and relate it (sets its foreign key through the
    /// update action; for a many_to_many, creates a join record).
    Relate,
}

/// What happens to an input that matches no related record (and no lookup).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnNoMatch {
    /// Skip it.
    Ignore,
    /// Create it through the create action.
    Create,
    /// Fail (`NotFound` for a key, `InvalidArgument` for a new record).
    Error,
}

/// What happens to an input that matches a related record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnMatch {
    /// Leave it as stored.
    Ignore,
    /// Update it through the update action.
    Update,
    /// Set its foreign key to nil through the update action (a many_to_many: destroy
    /// the join record).
    Unrelate,
    /// Fail.
    Error,
}

/// What happens to a related record that no input names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnMissing {
    /// Leave it.
    Ignore,
    /// Destroy it through the destroy action.
    Destroy,
    /// Set its foreign key to nil through the update action.
    Unrelate,
    /// Fail.
    Error,
}

/// The four options of a `manage_relationship`, after its type's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ManageOptions {
    /// See [`OnLookup`].
    pub on_lookup: OnLookup,
    /// See [`OnNoMatch`].
    pub on_no_match: OnNoMatch,
    /// See [`OnMatch`].
    pub on_match: OnMatch,
    /// See [`OnMissing`].
    pub on_missing: OnMissing,
}

impl ManageType {
    /// The options the type sets (Ash's `manage_relationship_opts/1`).
    pub const fn options(self) -> ManageOptions {
        let (on_lookup, on_no_match, on_match, on_missing) = match self {
            ManageType::AppendAndRemove => (
                OnLookup::Relate,
                OnNoMatch::Error,
                OnMatch::Ignore,
                OnMissing::Unrelate,
            ),
            ManageType::Append => (
                OnLookup::Relate,
                OnNoMatch::Error,
                OnMatch::Ignore,
                OnMissing::Ignore,
            ),
            ManageType::Remove => (
                OnLookup::Ignore,
                OnNoMatch::Error,
                OnMatch::Unrelate,
                OnMissing::Ignore,
            ),
            ManageType::DirectControl => (
                OnLookup::Ignore,
                OnNoMatch::Create,
                OnMatch::Update,
                OnMissing::Destroy,
            ),
            ManageType::Create => (
                OnLookup::Ignore,
                OnNoMatch::Create,
                OnMatch::Ignore,
                OnMissing::Ignore,
            ),
        };
        ManageOptions {
            on_lookup,
            on_no_match,
            on_match,
            on_missing,
        }
    }
}

/// One input of a managed relationship to resource `R`: a record to create with the
/// create action's input `C`, a related record to update with the update action's input
/// `U`, or a record named by its primary key.
///
/// From JSON (an action's input read from a request body) an input is a create: the
/// object is read as `C`.
#[derive(Debug, Clone, PartialEq)]
pub enum Managed<R: Resource, C, U> {
    /// A new record.
    Create(C),
    /// A record the caller holds (its optimistic lock compares this copy), with the
    /// changes to make.
    Update(R, U),
    /// A record named by its primary key (relate, unrelate, keep).
    Key(R::PrimaryKey),
}

impl<R: Resource, C, U> Managed<R, C, U> {
    /// The primary key this input names, if any.
    pub fn key(&self) -> Option<&R::PrimaryKey> {
        match self {
            Managed::Create(_) => None,
            Managed::Update(record, _) => Some(record.primary_key()),
            Managed::Key(key) => Some(key),
        }
    }
}

impl<R: Resource, C, U> From<C> for Managed<R, C, U> {
    fn from(input: C) -> Self {
        Managed::Create(input)
    }
}

/// A primary key names a record (`append_and_remove`, `append`, `remove` take a list of
/// ids): `Managed::Key`. For a managed relationship that creates nothing.
impl<R: Resource<PrimaryKey = uuid::Uuid>, U> From<uuid::Uuid> for Managed<R, NoAction<R>, U> {
    fn from(key: uuid::Uuid) -> Self {
        Managed::Key(key)
    }
}

impl<'de, R: Resource, C: serde::Deserialize<'de>, U> serde::Deserialize<'de> for Managed<R, C, U> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        C::deserialize(deserializer).map(Managed::Create)
    }
}

/// The action of a managed relationship's option that names none: it is never run.
/// (`append_and_remove` creates nothing, so its inputs' create type is this.)
pub struct NoAction<R>(PhantomData<fn() -> R>, std::convert::Infallible);

impl<R> fmt::Debug for NoAction<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NoAction")
    }
}
impl<R> Clone for NoAction<R> {
    fn clone(&self) -> Self {
        match self.1 {}
    }
}
impl<R> PartialEq for NoAction<R> {
    fn eq(&self, _: &Self) -> bool {
        match self.1 {}
    }
}
impl<'de, R> serde::Deserialize<'de> for NoAction<R> {
    fn deserialize<D: serde::Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
        Err(serde::de::Error::custom(
            "this managed relationship does not create records",
        ))
    }
}

const NO_ACTION: ActionInfo = ActionInfo {
    name: "none",
    kind: ActionType::Create,
    primary: false,
};

impl<R: Resource> Action for NoAction<R> {
    type Resource = R;
    const INFO: &'static ActionInfo = &NO_ACTION;
    const INPUTS: &'static [&'static str] = &[];
    const MAY_ADD_HOOKS: bool = false;
    fn apply_input(&mut self, _: &mut Changeset<'_, R>) {
        match self.1 {}
    }
    fn run_changes(_: &mut Changeset<'_, R>) {}
    fn set_json(&mut self, _: &str, _: serde_json::Value) -> Result<(), ErrorKind> {
        match self.1 {}
    }
}
impl<R: Resource> CreateAction for NoAction<R> {}
impl<R: Resource> UpdateAction for NoAction<R> {}
impl<R: Resource> DestroyAction for NoAction<R> {}

/// What generated code passes for one `manage_relationship` of a has_many or has_one.
pub struct HasManyPlan<S: Resource, T: Resource, K, Lo, U, X> {
    /// The relationship.
    pub relationship: Direct<S, T, K, Lo>,
    /// The argument's name, for error paths.
    pub argument: &'static str,
    /// The options after the type's defaults.
    pub options: ManageOptions,
    /// Sets the related record's foreign key (`None`: nil); `false` when the attribute
    /// cannot be nil.
    pub set_key: fn(&mut T::Changes, Option<K>) -> bool,
    /// An empty input of the update action (relate, unrelate, a matched key), when the
    /// options name one.
    pub new_update: Option<fn() -> U>,
    /// An empty input of the destroy action (`on_missing` destroy), when the options
    /// name one.
    pub new_destroy: Option<fn() -> X>,
}

/// The error of an option whose action the plan lacks (the macro always gives it).
#[cold]
fn no_action(argument: &str, what: &str) -> Error {
    ErrorKind::Framework(FrameworkError {
        message: format!("manage_relationship({argument}) has no {what} action"),
    })
    .into()
}

/// Manages a has_many or has_one from the argument `items` (`None`: not supplied, nothing
/// happens): adds the hook that runs after the action's write, in its transaction. `Dm` is
/// the resource's domain, through which the related resource's data layer is reached; `C`,
/// `U` and `X` are the related resource's create, update and destroy actions.
pub fn has_many<'a, Dm, S, T, K, Lo, C, U, X>(
    changeset: &mut Changeset<'a, S>,
    items: Option<Vec<Managed<T, C, U>>>,
    plan: HasManyPlan<S, T, K, Lo, U, X>,
) where
    Dm: HasResource<T>,
    S: Resource,
    T: Resource,
    K: Clone + Eq + Hash + Send + Sync + 'static,
    Lo: FromRelated<T> + 'static,
    C: CreateAction<Resource = T>,
    U: UpdateAction<Resource = T>,
    X: DestroyAction<Resource = T>,
{
    to_many::<Dm, S, T, K, Lo, C, U, X>(changeset, items, plan, false);
}

/// Manages a has_one from the argument `item` (`None`: not supplied, nothing happens;
/// `Some(None)`: an explicit nil, which runs `on_missing` on the related record;
/// `Some(Some(input))`: the input, matched by primary key against the related record,
/// else `on_lookup`, else `on_no_match`). As a has_many with at most one input, after the
/// action's write, in its transaction; errors are at the argument's path, without an
/// index.
pub fn has_one<'a, Dm, S, T, K, C, U, X>(
    changeset: &mut Changeset<'a, S>,
    item: Option<Option<Managed<T, C, U>>>,
    plan: HasManyPlan<S, T, K, Option<T>, U, X>,
) where
    Dm: HasResource<T>,
    S: Resource,
    T: Resource,
    K: Clone + Eq + Hash + Send + Sync + 'static,
    C: CreateAction<Resource = T>,
    U: UpdateAction<Resource = T>,
    X: DestroyAction<Resource = T>,
{
    let items = item.map(|item| item.into_iter().collect());
    to_many::<Dm, S, T, K, Option<T>, C, U, X>(changeset, items, plan, true);
}

/// [`has_many`] and [`has_one`]: `single` drops the index from error paths.
fn to_many<'a, Dm, S, T, K, Lo, C, U, X>(
    changeset: &mut Changeset<'a, S>,
    items: Option<Vec<Managed<T, C, U>>>,
    plan: HasManyPlan<S, T, K, Lo, U, X>,
    single: bool,
) where
    Dm: HasResource<T>,
    S: Resource,
    T: Resource,
    K: Clone + Eq + Hash + Send + Sync + 'static,
    Lo: FromRelated<T> + 'static,
    C: CreateAction<Resource = T>,
    U: UpdateAction<Resource = T>,
    X: DestroyAction<Resource = T>,
{
    let Some(items) = items else { return };
    let Some(domain) = changeset.domain::<Dm>() else {
        changeset.add_error(no_domain(plan.argument));
        return;
    };
    let is_update = changeset.data().is_some();
    changeset.after_action_errors(move |record, ctx| async move {
        manage_after::<Dm, S, T, K, Lo, C, U, X>(
            domain, record, ctx, items, plan, is_update, single,
        )
        .await
    });
}

/// The error of a managed relationship called without its domain.
fn no_domain(argument: &str) -> ErrorKind {
    ErrorKind::Framework(FrameworkError {
        message: format!(
            "manage_relationship({argument}) runs related actions through the domain: call the action through its domain (a code interface or ash_rs::api)"
        ),
    })
}

async fn manage_after<Dm, S, T, K, Lo, C, U, X>(
    domain: &Dm,
    mut record: S,
    ctx: Context,
    items: Vec<Managed<T, C, U>>,
    plan: HasManyPlan<S, T, K, Lo, U, X>,
    is_update: bool,
    single: bool,
) -> Result<S, Error>
where
    Dm: HasResource<T>,
    S: Resource,
    T: Resource,
    K: Clone + Eq + Hash + Send + Sync + 'static,
    Lo: FromRelated<T> + 'static,
    C: CreateAction<Resource = T>,
    U: UpdateAction<Resource = T>,
    X: DestroyAction<Resource = T>,
{
    let HasManyPlan {
        relationship: rel,
        argument,
        options,
        set_key,
        new_update,
        new_destroy,
    } = plan;
    let new_update = || {
        new_update
            .map(|f| f())
            .ok_or_else(|| no_action(argument, "update"))
    };
    let new_destroy = || {
        new_destroy
            .map(|f| f())
            .ok_or_else(|| no_action(argument, "destroy"))
    };
    let path = |index: Option<usize>| {
        let mut path = vec![PathSegment::Name(argument)];
        if let Some(i) = index.filter(|_| !single) {
            path.push(PathSegment::Index(i));
        }
        path
    };
    let fail = |errors: Vec<(Option<usize>, ErrorKind)>| {
        Error::from_errors(
            errors
                .into_iter()
                .map(|(i, e)| e.at_path(path(i)))
                .collect(),
        )
    };
    let Some(parent_key) = (rel.source_key)(&record) else {
        return Err(fail(vec![(
            None,
            ErrorKind::Framework(FrameworkError {
                message: format!(
                    "{} has no value of `{}` to relate {} records by",
                    S::NAME,
                    rel.info.source_attribute,
                    T::NAME
                ),
            }),
        )]));
    };
    let layer = domain.data_layer();
    let dom: &DomainRef = domain;
    let relate_key = parent_key.clone();
    let relate = move |changes: &mut T::Changes| {
        set_key(changes, Some(relate_key.clone()));
    };
    let unrelate = move |changes: &mut T::Changes| {
        set_key(changes, None);
    };
    let unrelate_refused = || -> Error {
        ErrorKind::InvalidAttribute(crate::error::InvalidAttribute {
            field: rel.info.destination_attribute.to_owned(),
            message: format!(
                "cannot unrelate a {} from {}: the attribute cannot be nil (destroy it instead)",
                T::NAME,
                S::NAME
            ),
            value: None,
        })
        .into()
    };
    let can_unrelate = set_key(&mut T::Changes::default(), None);
    let new_unrelate = || {
        if can_unrelate {
            new_update()
        } else {
            Err(unrelate_refused())
        }
    };
    let relate: Force<'_, T> = &relate;
    let unrelate: Force<'_, T> = &unrelate;

    // The records related now: only an update has any. It reads them always: besides matching and on_missing, the record returned
    // lists the related records afterwards, which includes those kept as they were.
    let needs_current = is_update;
    // (`dest_value` is `None` only for keys of different types: a compile error.)
    let current_value = needs_current
        .then(|| (rel.dest_value)(parent_key.clone()))
        .flatten();
    let current: Vec<T> = match current_value {
        Some(value) => {
            let query = Query::new().filter(Filter::eq(value));
            layer
                .read(&ctx, &query)
                .await
                .map_err(|e| fail(vec![(None, e)]))?
        }
        None => Vec::new(),
    };
    let named: HashSet<&T::PrimaryKey> = items.iter().filter_map(Managed::key).collect();

    // on_missing first, as Ash's code does (its docs say last).
    let mut kept = Vec::new();
    for stored in &current {
        if named.contains(stored.primary_key()) {
            continue;
        }
        let result = match options.on_missing {
            OnMissing::Ignore => {
                kept.push(stored.clone());
                continue;
            }
            OnMissing::Destroy => match new_destroy() {
                Ok(input) => action::destroy_in(layer, &ctx, Some(dom), stored, input).await,
                Err(e) => Err(e),
            },
            OnMissing::Unrelate => match new_unrelate() {
                Ok(input) => {
                    related::update_one(layer, &ctx, Some(dom), stored, input, Some(unrelate)).await
                }
                Err(e) => Err(e),
            },
            OnMissing::Error => Err(refused(
                argument,
                format!(
                    "changes would destroy a record: {} {:?} is related and not in the input",
                    T::NAME,
                    stored.primary_key()
                ),
            )),
        };
        result.map_err(|e| fail(related::at(None, e)))?;
    }

    // The inputs, in order; creates are gathered and written together at the end.
    let mut results: Vec<Option<T>> = Vec::with_capacity(items.len());
    let mut creates: Vec<(usize, C)> = Vec::new();
    for (index, item) in items.into_iter().enumerate() {
        let matched = item
            .key()
            .and_then(|k| current.iter().find(|c| c.primary_key() == k));
        let outcome: Result<Option<T>, Error> = match (item, matched) {
            (Managed::Create(input), _) => match options.on_no_match {
                OnNoMatch::Create => {
                    creates.push((index, input));
                    Ok(None)
                }
                OnNoMatch::Ignore => Ok(None),
                OnNoMatch::Error => Err(refused(
                    argument,
                    format!(
                        "no new {} may be created here (on_no_match is error)",
                        T::NAME
                    ),
                )),
            },
            (item, Some(stored)) => match options.on_match {
                OnMatch::Ignore => Ok(Some(stored.clone())),
                OnMatch::Update => {
                    let pair = match item {
                        Managed::Update(copy, input) => Ok((copy, input)),
                        _ => new_update().map(|input| (stored.clone(), input)),
                    };
                    match pair {
                        Ok((copy, input)) => {
                            related::update_one(layer, &ctx, Some(dom), &copy, input, None)
                                .await
                                .map(Some)
                        }
                        Err(e) => Err(e),
                    }
                }
                OnMatch::Unrelate => match new_unrelate() {
                    Ok(input) => {
                        related::update_one(layer, &ctx, Some(dom), stored, input, Some(unrelate))
                            .await
                            .map(|_| None)
                    }
                    Err(e) => Err(e),
                },
                OnMatch::Error => Err(refused(
                    argument,
                    format!("{} {:?} is already related", T::NAME, stored.primary_key()),
                )),
            },
            (item, None) => {
                let key = item.key().cloned();
                let found = match (options.on_lookup, &key) {
                    (OnLookup::Relate, Some(key)) => layer
                        .get(&ctx, key)
                        .await
                        .map_err(|e| fail(vec![(Some(index), e)]))?,
                    _ => None,
                };
                match (found, options.on_no_match) {
                    (Some(found), _) => {
                        let pair = match item {
                            Managed::Update(copy, input) => Ok((copy, input)),
                            _ => new_update().map(|input| (found, input)),
                        };
                        match pair {
                            Ok((copy, input)) => related::update_one(
                                layer,
                                &ctx,
                                Some(dom),
                                &copy,
                                input,
                                Some(relate),
                            )
                            .await
                            .map(Some),
                            Err(e) => Err(e),
                        }
                    }
                    (None, OnNoMatch::Ignore) => Ok(None),
                    (None, _) => Err(ErrorKind::NotFound(NotFound {
                        resource: T::NAME,
                        filter: key.map(|k| Filter::<T>::primary_key(&k).to_dyn()),
                    })
                    .into()),
                }
            }
        };
        match outcome {
            Ok(done) => results.push(done),
            Err(e) => return Err(fail(related::at(Some(index), e))),
        }
    }
    if !creates.is_empty() {
        let positions: Vec<usize> = creates.iter().map(|(i, _)| *i).collect();
        let created = related::create_many(layer, &ctx, Some(dom), creates, relate)
            .await
            .map_err(fail)?;
        for (index, record) in positions.into_iter().zip(created) {
            if let Some(slot) = results.get_mut(index) {
                *slot = Some(record);
            }
        }
    }
    let mut final_records: Vec<T> = results.into_iter().flatten().collect();
    final_records.extend(kept);
    *(rel.slot)(&mut record) = Loaded::new(Lo::from_related(final_records));
    Ok(record)
}

/// A managed input refused by its options (`on_missing = error`, `on_no_match = error`,
/// `on_match = error`): an `InvalidArgument` on the argument.
pub(crate) fn refused(argument: &str, message: String) -> Error {
    ErrorKind::InvalidArgument(crate::error::InvalidArgument {
        field: argument.to_owned(),
        message,
        value: None,
    })
    .into()
}

/// Resource `Self` has an action whose name hashes to `K` (generated for every action):
/// how a `manage_relationship` names the related resource's actions
/// (`on_no_match = create(create_line)`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no action of the name this `manage_relationship` gives",
    label = "not an action of `{Self}`",
    note = "name one of `{Self}`'s actions, or leave the option without one to run its primary action of that type"
)]
pub trait NamedAction<const K: u128>: Resource {
    /// The action's input type.
    type Input: Action<Resource = Self>;
}

/// Resource `Self`'s primary action of type `K` (0 create, 1 update, 2 destroy): what a
/// `manage_relationship` option runs when it names no action.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no primary action of the type this `manage_relationship` runs",
    label = "`{Self}` needs one",
    note = "declare the action on `{Self}` (`defaults(create, update, destroy)`), or name one: `on_no_match = create(my_create)`",
    note = "a many_to_many's join records are written through the join resource's primary create action and removed through its primary destroy action"
)]
pub trait PrimaryAction<const K: u8>: Resource {
    /// The action's input type.
    type Input: Action<Resource = Self>;
}

/// A create action, as a `manage_relationship` option that creates needs (implemented by
/// `#[resource]` for each create action's input).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a create action",
    label = "this option runs a create action",
    note = "`on_no_match = create(..)` names a create action of the related resource"
)]
pub trait ManagedCreate {
    /// The action itself.
    type Action: CreateAction;
}

/// An update action, as a `manage_relationship` option that updates, relates or
/// unrelates needs (implemented by `#[resource]` for each update action's input).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an update action",
    label = "this option runs an update action",
    note = "`on_match = update(..)`, `on_lookup = relate(..)` and `unrelate(..)` name an update action of the related resource"
)]
pub trait ManagedUpdate {
    /// The action itself.
    type Action: UpdateAction + Default;
}

/// A destroy action, as `on_missing = destroy(..)` needs (implemented by `#[resource]`
/// for each destroy action's input).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a destroy action",
    label = "this option runs a destroy action",
    note = "`on_missing = destroy(..)` names a destroy action of the related resource"
)]
pub trait ManagedDestroy {
    /// The action itself.
    type Action: DestroyAction + Default;
}

/// A foreign key attribute's value from a key, or nil: `None` when the attribute cannot
/// take it (nil for a non-nilable attribute: unrelating through it is an error).
pub trait NilableKey<K>: Sized {
    /// The attribute's value.
    fn from_optional(key: Option<K>) -> Option<Self>;
}

impl<T: crate::relationship::RelationshipKey<Key = T>> NilableKey<T> for T {
    fn from_optional(key: Option<T>) -> Option<T> {
        key
    }
}

impl<T: crate::relationship::RelationshipKey<Key = T> + Eq + Hash + fmt::Debug> NilableKey<T>
    for Option<T>
{
    fn from_optional(key: Option<T>) -> Option<Option<T>> {
        Some(key)
    }
}

/// What generated code passes for one `manage_relationship` of a belongs_to.
pub struct BelongsToPlan<S: Resource, T: Resource, K, U, X> {
    /// The relationship.
    pub relationship: Direct<S, T, K, Option<T>>,
    /// The argument's name, for error paths.
    pub argument: &'static str,
    /// The options after the type's defaults.
    pub options: ManageOptions,
    /// Sets the action's own foreign key (`None`: nil); `false` when it cannot be nil.
    pub set_key: fn(&mut S::Changes, Option<K>) -> bool,
    /// An empty input of the update action, when the options name one.
    pub new_update: Option<fn() -> U>,
    /// An empty input of the destroy action, when the options name one.
    pub new_destroy: Option<fn() -> X>,
}

/// Manages a belongs_to from the argument `item` (`None`: not supplied, nothing happens;
/// `Some(None)`: an explicit nil, which runs `on_missing` on the related record). Unlike
/// the other kinds this runs **before** the action's write (Ash's
/// `setup_managed_belongs_to_relationships`), in its transaction, so that the foreign key
/// is written with the record: a created or related record's key is set on the changeset.
/// An `on_missing = destroy` of the previous record runs after the write (the record no
/// longer refers to it then). The returned record has the relationship loaded.
pub fn belongs_to<'a, Dm, S, T, K, C, U, X>(
    changeset: &mut Changeset<'a, S>,
    item: Option<Option<Managed<T, C, U>>>,
    plan: BelongsToPlan<S, T, K, U, X>,
) where
    Dm: HasResource<T>,
    S: Resource,
    T: Resource,
    K: Clone + Eq + Hash + Send + Sync + 'static,
    C: CreateAction<Resource = T>,
    U: UpdateAction<Resource = T>,
    X: DestroyAction<Resource = T>,
{
    let Some(item) = item else { return };
    let Some(domain) = changeset.domain::<Dm>() else {
        changeset.add_error(ErrorKind::Framework(FrameworkError {
            message: format!(
                "manage_relationship({}) runs related actions through the domain: call the action through its domain (a code interface or ash_rs::api)",
                plan.argument
            ),
        }));
        return;
    };
    changeset.before_action_async(move |mut changeset| async move {
        if let Err(error) = manage_before(domain, &mut changeset, item, plan).await {
            changeset.extend_errors(error.into_errors());
        }
        changeset
    });
}

async fn manage_before<'a, Dm, S, T, K, C, U, X>(
    domain: &'a Dm,
    changeset: &mut Changeset<'a, S>,
    item: Option<Managed<T, C, U>>,
    plan: BelongsToPlan<S, T, K, U, X>,
) -> Result<(), Error>
where
    Dm: HasResource<T>,
    S: Resource,
    T: Resource,
    K: Clone + Eq + Hash + Send + Sync + 'static,
    C: CreateAction<Resource = T>,
    U: UpdateAction<Resource = T>,
    X: DestroyAction<Resource = T>,
{
    let BelongsToPlan {
        relationship: rel,
        argument,
        options,
        set_key,
        new_update,
        new_destroy,
    } = plan;
    let fail = move |error: Error| {
        Error::from_errors(
            error
                .into_errors()
                .into_iter()
                .map(|e| e.at_path(vec![PathSegment::Name(argument)]))
                .collect(),
        )
    };
    let ctx = changeset.context().clone();
    let layer = domain.data_layer();
    let dom: &DomainRef = domain;
    // The record related now (an update whose record has the key set): one read.
    let current_key = changeset.data().and_then(|data| (rel.source_key)(data));
    let current: Option<T> = match current_key.clone().and_then(rel.dest_value) {
        Some(value) => {
            let query = Query::new().filter(Filter::eq(value));
            layer
                .read(&ctx, &query)
                .await
                .map_err(|e| fail(e.into()))?
                .into_iter()
                .next()
        }
        None => None,
    };
    let named = item.as_ref().and_then(Managed::key);
    let matched = match (&current, named) {
        (Some(stored), Some(key)) => stored.primary_key() == key,
        _ => false,
    };
    let mut related: Option<T> = None;
    let mut destroy_after: Option<T> = None;
    // on_missing first: the current record, when the input does not name it.
    if let (Some(stored), false) = (&current, matched) {
        match options.on_missing {
            OnMissing::Ignore => {}
            OnMissing::Unrelate => {
                if !set_key(changeset.changes_mut(), None) {
                    return Err(fail(unrelate_refused::<S, T>(rel.info.source_attribute)));
                }
            }
            OnMissing::Destroy => destroy_after = Some(stored.clone()),
            OnMissing::Error => {
                return Err(fail(refused(
                    argument,
                    format!(
                        "changes would destroy a record: the related {} is not in the input",
                        T::NAME
                    ),
                )))
            }
        }
    }
    let matched_record = if matched { current.clone() } else { None };
    match (item, matched_record) {
        (None, _) => {}
        (Some(item), Some(stored)) => {
            related = match options.on_match {
                OnMatch::Ignore => Some(stored),
                OnMatch::Update => {
                    let (copy, input) = match item {
                        Managed::Update(copy, input) => (copy, input),
                        _ => match new_update.map(|f| f()) {
                            Some(input) => (stored, input),
                            None => return Err(fail(no_action(argument, "update"))),
                        },
                    };
                    Some(
                        crate::action::update_in(layer, &ctx, Some(dom), &copy, input)
                            .await
                            .map_err(fail)?,
                    )
                }
                OnMatch::Unrelate => {
                    if !set_key(changeset.changes_mut(), None) {
                        return Err(fail(unrelate_refused::<S, T>(rel.info.source_attribute)));
                    }
                    None
                }
                OnMatch::Error => {
                    return Err(fail(refused(
                        argument,
                        format!("the {} is already related", T::NAME),
                    )))
                }
            };
        }
        (Some(Managed::Create(input)), None) => match options.on_no_match {
            OnNoMatch::Create => {
                let no_key = |_: &mut T::Changes| {};
                related = Some(
                    related::create_one(layer, &ctx, Some(dom), input, &no_key)
                        .await
                        .map_err(fail)?,
                );
            }
            OnNoMatch::Ignore => {}
            OnNoMatch::Error => {
                return Err(fail(refused(
                    argument,
                    format!(
                        "no new {} may be created here (on_no_match is error)",
                        T::NAME
                    ),
                )))
            }
        },
        (Some(item), None) => {
            let key = item.key().cloned();
            let found = match (options.on_lookup, &key) {
                (OnLookup::Relate, Some(key)) => {
                    layer.get(&ctx, key).await.map_err(|e| fail(e.into()))?
                }
                _ => None,
            };
            match (found, options.on_no_match) {
                (Some(found), _) => related = Some(found),
                (None, OnNoMatch::Ignore) => {}
                (None, _) => {
                    return Err(fail(
                        ErrorKind::NotFound(NotFound {
                            resource: T::NAME,
                            filter: key.map(|k| Filter::<T>::primary_key(&k).to_dyn()),
                        })
                        .into(),
                    ))
                }
            }
        }
    }
    if let Some(record) = &related {
        if !set_key(changeset.changes_mut(), (rel.dest_key)(record)) {
            return Err(fail(unrelate_refused::<S, T>(rel.info.source_attribute)));
        }
    }
    let slot = rel.slot;
    changeset.after_action_errors(move |mut record, ctx| async move {
        if let Some(old) = destroy_after {
            let input = new_destroy
                .map(|f| f())
                .ok_or_else(|| fail(no_action(argument, "destroy")))?;
            crate::action::destroy_in(layer, &ctx, Some(dom), &old, input)
                .await
                .map_err(fail)?;
        }
        *slot(&mut record) = Loaded::new(related);
        Ok(record)
    });
    Ok(())
}

/// Unrelating through a key that cannot be nil.
fn unrelate_refused<S: Resource, T: Resource>(attribute: &str) -> Error {
    ErrorKind::InvalidAttribute(crate::error::InvalidAttribute {
        field: attribute.to_owned(),
        message: format!(
            "cannot unrelate the {} of a {}: the attribute cannot be nil",
            T::NAME,
            S::NAME
        ),
        value: None,
    })
    .into()
}
