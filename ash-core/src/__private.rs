//! Items only generated code uses. Not part of the public API.

pub use regex_lite as regex;
pub use serde;
pub use serde_json;
pub use smallvec;
pub use uuid;

/// Resource `Self` has an attribute at position `K`; used by the code interface to name the
/// attribute's type from the domain's scope when the type as written may not resolve there
/// (implemented only for such attributes).
pub trait HasAttribute<const K: u128>: crate::resource::Resource {
    /// The attribute's type.
    type Type;
}

/// Action input `Self` takes an input (accepted attribute or argument) at position `K`
/// (accepted attributes first, then arguments). Implemented only for arguments whose type
/// the code interface cannot name as written (accepted attributes go through
/// [`HasAttribute`]).
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

use crate::error::{ErrorKind, FrameworkError, InputType, InvalidAttribute, NoSuchInput, Required};

/// The error `set_json` returns for an input the action does not take (one copy for every
/// action, instead of one iterator chain per generated input type).
#[cold]
#[inline(never)]
pub fn no_such_input(
    resource: &'static str,
    action: &str,
    input: &str,
    inputs: &[&str],
) -> ErrorKind {
    ErrorKind::NoSuchInput(NoSuchInput {
        resource,
        action: String::from(action),
        input: String::from(input),
        inputs: inputs.iter().map(|s| String::from(*s)).collect(),
    })
}

/// Attribute `field` could not be read back from its dynamic value (`Resource::from_values`).
#[cold]
#[inline(never)]
pub fn invalid_attribute(field: &str, message: String) -> ErrorKind {
    ErrorKind::InvalidAttribute(InvalidAttribute {
        field: String::from(field),
        message,
        value: None,
    })
}

/// `Resource::from_values` given the wrong number of values.
#[cold]
#[inline(never)]
pub fn wrong_value_count(resource: &str, expected: usize, got: usize) -> ErrorKind {
    ErrorKind::Framework(FrameworkError {
        message: format!("{resource} has {expected} attributes, got {got} values"),
    })
}

/// A required attribute missing from a create (`Resource::from_changes`).
#[cold]
#[inline(never)]
pub fn required_attribute(field: &str, resource: &'static str) -> ErrorKind {
    ErrorKind::Required(Required {
        field: String::from(field),
        r#type: InputType::Attribute,
        resource,
    })
}
