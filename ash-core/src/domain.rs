//! What a `#[domain]` value provides: the data layer of each resource it lists.

use crate::resource::Resource;

/// A domain that lists resource `R`; implemented by `#[domain]`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not list the resource `{R}`",
    label = "`{R}` declares this domain",
    note = "add `{R}` to `#[resources(...)]` on `{Self}`, or remove `domain = ...` from `{R}`"
)]
pub trait HasResource<R: Resource> {
    /// The store of `R` in this domain value.
    fn data_layer(&self) -> &R::DataLayer;
}

/// A resource declared with `domain = D`; implemented by `#[resource]`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is listed in `{D}` but does not declare `domain = {D}`",
    label = "listed here",
    note = "write `#[resource(domain = {D}, ...)]` on `{Self}`"
)]
pub trait InDomain<D> {}
