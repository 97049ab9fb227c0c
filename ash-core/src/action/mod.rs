//! Actions and the one pipeline they all run through.
//!
//! Every action, whatever its type: build the changeset from the typed input, run the
//! action's changes and validations then the global ones (generated code, static calls),
//! fail with every recorded error, check required attributes, hand the data layer one
//! declarative write, return the stored record. A failed action writes nothing.
//!
//! Every action returns a `Send` future ([`ActionFuture`] for the hot ones). On a data
//! layer that never waits (ETS, [`DataLayer::IMMEDIATE`](crate::data_layer::DataLayer::IMMEDIATE)) an action without hooks runs to
//! its end when called and its future is ready at once; otherwise the future runs the
//! same pipeline with `.await`s at the data layer.
//!
//! - [`write`]: create, update, destroy, and the hooks' transaction;
//! - [`read`]: reads, gets and pages.

mod authorize;
mod future;
mod read;
pub(crate) mod related;
mod write;

pub use future::ActionFuture;
pub(crate) use read::page_limit;
pub use read::{get, get_by, get_by_identity, read, read_one, read_one_by_identity, read_page};
pub use write::{
    create, create_in, destroy, destroy_by, destroy_in, update, update_by, update_in, upsert_in,
};

use crate::changeset::Changeset;
use crate::context::Context;
use crate::error::{Error, ErrorKind, FrameworkError};
use crate::query::{Pagination, Query};
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
    /// Whether the action runs a change that may add hooks (a user's change). Without
    /// one, on a data layer that never waits, the action completes when called.
    const MAY_ADD_HOOKS: bool = true;

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
pub trait CreateAction: Action {
    /// Whether the action upserts (`upsert = true` in the DSL): every call of it is an
    /// upsert with [`CreateAction::upsert`].
    const UPSERT: bool = false;
    /// The attributes its upserts write on conflict: its `upsert_fields`, by default the
    /// attributes it accepts, plus every `update_timestamp`.
    const UPSERT_FIELDS: &'static [<Self::Resource as Resource>::Field] = &[];

    /// The action's upsert: its `upsert_identity` (else the primary key) and
    /// `upsert_condition`, which may read the input as `args`.
    fn upsert(&self) -> crate::identity::Upsert<Self::Resource> {
        crate::identity::Upsert::primary_key()
    }
}
/// An update action.
pub trait UpdateAction: Action {}
/// A destroy action.
pub trait DestroyAction: Action {}
/// A read action.
pub trait ReadAction: Action {
    /// How the action pages, if it does (`pagination(...)` in the DSL).
    const PAGINATION: Option<Pagination> = None;

    /// Whether [`base_query`](Self::base_query) is overridden (the action has a
    /// `filter`): without one, a get by primary key builds no query at all.
    const HAS_BASE_QUERY: bool = false;

    /// The action's own query: its `filter`, if it has one.
    fn base_query(&self) -> Query<Self::Resource> {
        Query::new()
    }
}

/// The start of every write: arguments prepared, attribute inputs moved into a new
/// changeset, the input (its arguments) shown to changes and validations.
// Always inlined: returning the changeset by value would otherwise copy it on every call.
#[inline(always)]
pub(crate) fn start<'a, A: Action>(
    input: &'a mut A,
    data: Option<&'a A::Resource>,
    ctx: &'a Context,
    domain: Option<&'a DomainRef>,
) -> Changeset<'a, A::Resource> {
    let mut changeset = Changeset::new(A::INFO, data, ctx);
    changeset.domain = domain;
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
pub(crate) fn prepare_read<A: ReadAction>(input: &mut A) -> Result<(), Error> {
    let errors = input.prepare_arguments();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::from_errors(errors))
    }
}

/// A domain value, as changes and hooks see it (`changeset.domain::<Blog>()`).
pub type DomainRef = dyn std::any::Any + Send + Sync;

/// The error of a data layer that declares [`DataLayer::IMMEDIATE`](crate::data_layer::DataLayer::IMMEDIATE) but deferred an
/// operation: a bug in that data layer, reported rather than panicking.
#[cold]
pub(crate) fn not_immediate<R: Resource>() -> Error {
    not_immediate_kind::<R>().into()
}

#[cold]
pub(crate) fn not_immediate_kind<R: Resource>() -> ErrorKind {
    ErrorKind::Framework(FrameworkError {
        message: format!(
            "the data layer of {} declares IMMEDIATE but deferred an operation",
            R::NAME
        ),
    })
}
