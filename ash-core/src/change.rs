//! Changes: the units of business logic an action runs before it writes.
//!
//! A change receives the [`Changeset`] and may set attributes, add filters and atomic
//! writes, or record errors. Builtins such as [`OptimisticLock`] implement the same
//! [`Change`] trait a user's change does, and the generated action code calls each change
//! directly (no boxing, no lookup by name).

use crate::action::ActionType;
use crate::changeset::Changeset;
use crate::data_layer::AtomicExpr;
use crate::resource::Resource;

/// A change an action runs.
///
/// Any `Fn(&mut Changeset<R>)` is a change, so a plain function works in the DSL:
///
/// ```ignore
/// fn upcase_state(changeset: &mut Changeset<Address>) {
///     if let Some(state) = &mut changeset.changes_mut().state {
///         *state = state.to_uppercase();
///     }
/// }
/// // #[actions(create(create, accept = [state], change = upcase_state))]
/// ```
pub trait Change<R: Resource>: Send + Sync {
    /// Applies the change to the changeset.
    fn change(&self, changeset: &mut Changeset<'_, R>);
}

impl<R, F> Change<R> for F
where
    R: Resource,
    F: for<'a, 'b> Fn(&'b mut Changeset<'a, R>) + Send + Sync,
{
    #[inline]
    fn change(&self, changeset: &mut Changeset<'_, R>) {
        self(changeset)
    }
}

/// The builtin `optimistic_lock(attribute)`.
///
/// - **update**: the stored record must still have the version the caller read
///   (`version == n`), and the version becomes `stored + 1`, in the same atomic step, also
///   when nothing else changes;
/// - **destroy**: the stored record must still have the version the caller read;
/// - **create**: nothing to compare; the version keeps its default. (Ash 3.32 stores
///   default + 1 when the lock applies to create; we keep the default.)
/// - **upsert** (a create with the lock applied to it): as in Ash 3.32, where the lock's
///   filter `version == <the new record's version>` becomes part of the upsert's
///   condition, the update half happens only when the stored version still equals the
///   default, else `StaleRecord`; the update half then writes `stored + 1` (Ash writes
///   default + 1, the same number once the filter held). A created record keeps the
///   default, as on any create.
///
/// A mismatch fails the action with `StaleRecord` and writes nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptimisticLock<R: Resource> {
    field: R::Field,
}

impl<R: Resource> OptimisticLock<R> {
    /// A lock on `field`, which must be a non-nilable integer attribute (the macro checks).
    pub const fn new(field: R::Field) -> Self {
        OptimisticLock { field }
    }
}

impl<R: Resource> Change<R> for OptimisticLock<R> {
    // Inlined so the generated call, with a constant field, reads the version directly.
    #[inline(always)]
    fn change(&self, changeset: &mut Changeset<'_, R>) {
        if changeset.data().is_none() {
            if changeset.action_type() == ActionType::Create && changeset.is_upsert() {
                changeset.lock_upsert(self.field);
            }
            return;
        }
        match changeset.action_type() {
            ActionType::Update => {
                changeset.add_lock(self.field);
                changeset.add_atomic(self.field, AtomicExpr::Add(1));
            }
            ActionType::Destroy => changeset.add_lock(self.field),
            ActionType::Create | ActionType::Read => {}
        }
    }
}
