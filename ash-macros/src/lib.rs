//! Procedural macros of `ash-rs`. Use them through the `ash-rs` facade.
//!
//! Every macro runs parse -> check -> expand: the DSL is parsed into a small model that
//! keeps the user's spans, rules run one function each and collect every error, and code
//! is generated from a model that passed, or, on errors, from the model without what the
//! errors concern (so one mistake is one error, and the domain and the code using the
//! resource report nothing more). A wrong DSL is a spanned compile error, never a panic.

// The DSL's model lives only while a macro expands; boxing its variants would buy nothing.
#![allow(clippy::large_enum_variant)]

mod ctxt;
mod domain;
mod interface;
mod keys;
mod meta;
mod name;
mod resource;
mod suggest;

#[cfg(test)]
mod tests;

use proc_macro::TokenStream;

/// Declares a resource. See the `ash-rs` crate documentation for the DSL.
#[proc_macro_attribute]
pub fn resource(args: TokenStream, item: TokenStream) -> TokenStream {
    resource::expand(args.into(), item.into()).into()
}

/// Declares a domain and its code interface. See the `ash-rs` crate documentation.
#[proc_macro_attribute]
pub fn domain(args: TokenStream, item: TokenStream) -> TokenStream {
    domain::expand(args.into(), item.into()).into()
}

#[doc(hidden)]
#[proc_macro]
pub fn __interface(input: TokenStream) -> TokenStream {
    interface::expand(input.into()).into()
}
