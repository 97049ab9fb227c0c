//! Items only generated code uses. Not part of the public API.

pub use regex_lite as regex;
pub use serde;
pub use serde_json;
pub use smallvec;
pub use uuid;

/// Resource `Self` has an attribute at position `K`; used by the code interface to name the
/// attribute's type from the domain's scope when the type as written may not resolve there.
pub trait HasAttribute<const K: u128>: crate::resource::Resource {
    /// The attribute's type.
    type Type;
    /// The typed value of this attribute.
    fn value(value: Self::Type) -> Self::Value;
}

/// Action input `Self` takes an input (accepted attribute or argument) at position `K`
/// (accepted attributes first, then arguments).
pub trait HasInput<const K: u128> {
    /// The input's type.
    type Type;
}

/// Resource `Self` has an action at position `K`.
pub trait HasAction<const K: u128> {
    /// The action's input type.
    type Input;
}

/// Checks that a resource declaring `domain = D` is listed in `D`.
pub const fn assert_listed<D: crate::domain::HasResource<R>, R: crate::resource::Resource>() {}

/// Checks that a resource listed in domain `D` declares `domain = D`.
pub const fn assert_in_domain<R: crate::domain::InDomain<D>, D>() {}
