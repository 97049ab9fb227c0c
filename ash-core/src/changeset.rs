//! The [`Changeset`]: what a running action builds before it reaches the data layer.

use crate::action::{ActionInfo, ActionType};
use crate::data_layer::{Atomic, AtomicExpr, Atomics};
use crate::error::{Error, ErrorKind};
use crate::filter::Filter;
use crate::resource::Resource;

/// The state of one action run: the record it acts on, the attribute writes, the filter
/// and atomic writes for the data layer, and the errors so far.
///
/// Changes and validations receive `&mut Changeset` / `&Changeset`.
#[derive(Debug)]
pub struct Changeset<'a, R: Resource> {
    action: &'static ActionInfo,
    data: Option<&'a R>,
    changes: R::Changes,
    filter: Option<Filter<R>>,
    atomics: Atomics<R>,
    errors: Vec<ErrorKind>,
}

impl<'a, R: Resource> Changeset<'a, R> {
    /// A changeset for `action`, acting on `data` (the caller's copy, for update and destroy).
    pub fn new(action: &'static ActionInfo, data: Option<&'a R>) -> Self {
        Changeset {
            action,
            data,
            changes: R::Changes::default(),
            filter: None,
            atomics: Atomics::new(),
            errors: Vec::new(),
        }
    }

    /// The running action.
    pub fn action(&self) -> &'static ActionInfo {
        self.action
    }

    /// The running action's type.
    pub fn action_type(&self) -> ActionType {
        self.action.kind
    }

    /// The record as the caller holds it (update and destroy); `None` on create.
    pub fn data(&self) -> Option<&'a R> {
        self.data
    }

    /// The attribute writes so far.
    pub fn changes(&self) -> &R::Changes {
        &self.changes
    }

    /// The attribute writes, to change them.
    pub fn changes_mut(&mut self) -> &mut R::Changes {
        &mut self.changes
    }

    /// Requires the stored record to match `filter` when the write happens (ANDed with any
    /// filter already added). A mismatch fails the action with `StaleRecord`.
    pub fn add_filter(&mut self, filter: Filter<R>) {
        self.filter = Some(match self.filter.take() {
            Some(existing) => existing.and(filter),
            None => filter,
        });
    }

    /// The filter the stored record must match.
    pub fn filter(&self) -> Option<&Filter<R>> {
        self.filter.as_ref()
    }

    /// Adds an atomic write, computed from the stored record by the data layer.
    pub fn add_atomic(&mut self, field: R::Field, expr: AtomicExpr) {
        self.atomics.push(Atomic { field, expr });
    }

    /// The atomic writes so far.
    pub fn atomics(&self) -> &[Atomic<R>] {
        &self.atomics
    }

    /// Records an error; the action will fail with every error recorded.
    pub fn add_error(&mut self, error: ErrorKind) {
        self.errors.push(error);
    }

    /// The errors so far.
    pub fn errors(&self) -> &[ErrorKind] {
        &self.errors
    }

    /// Whether no error has been recorded.
    pub fn is_valid(&self) -> bool {
        self.errors.is_empty()
    }

    /// Ends the build: the error class of every recorded error, or the parts the data layer
    /// needs.
    pub fn into_parts(self) -> Result<ChangesetParts<R>, Error> {
        if !self.errors.is_empty() {
            return Err(Error::from_errors(self.errors));
        }
        Ok(ChangesetParts {
            changes: self.changes,
            filter: self.filter,
            atomics: self.atomics,
        })
    }
}

/// The parts of a valid changeset that a data layer receives.
#[derive(Debug)]
pub struct ChangesetParts<R: Resource> {
    /// Attribute writes.
    pub changes: R::Changes,
    /// The filter the stored record must match.
    pub filter: Option<Filter<R>>,
    /// Atomic writes.
    pub atomics: Atomics<R>,
}
