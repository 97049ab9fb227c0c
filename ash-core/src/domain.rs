//! What a `#[domain]` value provides: the data layer of each resource it lists, and the
//! call [`Context`] its calls carry.

use crate::context::Context;
use crate::resource::Resource;

/// A domain value: shared data layers plus the context of the calls made through it.
/// Implemented by `#[domain]`, which also gives the domain inherent `with_actor`,
/// `with_tenant`, `with_transaction` and `with_context` methods.
pub trait Domain: Clone + Send + Sync + 'static {
    /// The context every call through this value carries.
    fn context(&self) -> &Context;
    /// This domain value (sharing its data layers) with another context.
    #[must_use]
    fn with_context(&self, ctx: Context) -> Self;
}

/// A domain that lists resource `R`; implemented by `#[domain]`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not list the resource `{R}`",
    label = "`{R}` declares this domain",
    note = "add `{R}` to `#[resources(...)]` on `{Self}`, or remove `domain = ...` from `{R}`"
)]
pub trait HasResource<R: Resource>: Domain {
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

/// Something that visits resources by type: what [`HasResources::visit_resources`] calls
/// once per resource a domain lists (for tools that need every resource's static facts,
/// such as the PostgreSQL migration generator).
pub trait ResourceVisitor {
    /// Called with each resource, in the order the domain lists them.
    fn visit<R: Resource>(&mut self);
}

/// A domain whose resources can be enumerated; implemented by `#[domain]`.
pub trait HasResources {
    /// Calls `visitor.visit::<R>()` for each resource `R` listed in `#[resources(...)]`,
    /// in that order.
    fn visit_resources<V: ResourceVisitor>(visitor: &mut V);
}
