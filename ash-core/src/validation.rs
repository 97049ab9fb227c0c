//! Validations: checks an action runs on its changeset before it writes.

use crate::changeset::Changeset;
use crate::error::ErrorKind;
use crate::resource::Resource;

/// A validation an action runs. A failing validation records its error; the action then
/// fails with every error recorded, and nothing is written.
///
/// Any `Fn(&Changeset<R>) -> Result<(), ErrorKind>` is a validation.
pub trait Validation<R: Resource>: Send + Sync {
    /// Checks the changeset.
    fn validate(&self, changeset: &Changeset<'_, R>) -> Result<(), ErrorKind>;
}

impl<R, F> Validation<R> for F
where
    R: Resource,
    F: for<'a, 'b> Fn(&'b Changeset<'a, R>) -> Result<(), ErrorKind> + Send + Sync,
{
    fn validate(&self, changeset: &Changeset<'_, R>) -> Result<(), ErrorKind> {
        self(changeset)
    }
}

/// Runs `validation` and records its error on the changeset, if any.
pub fn run<R: Resource, V: Validation<R> + ?Sized>(
    validation: &V,
    changeset: &mut Changeset<'_, R>,
) {
    if let Err(error) = validation.validate(changeset) {
        changeset.add_error(error);
    }
}
