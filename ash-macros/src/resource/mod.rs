//! `#[resource]`: parse -> check -> expand.

pub mod ast;
mod builtins;
pub(crate) mod check;
mod expand;
pub mod parse;

pub use expand::is_primary;

use crate::ctxt::Ctxt;
use proc_macro2::TokenStream;

/// Expands `#[resource(args)] item`. Never panics on user input: every problem is a
/// spanned `compile_error!`, and the user's struct is emitted even then.
pub fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let cx = Ctxt::new();
    let Some(resource) = parse::parse(&cx, args.clone(), item.clone()) else {
        return cx.check().err().unwrap_or_default();
    };
    check::check(&cx, &resource);
    match cx.check() {
        Ok(()) => expand::expand(&resource, args, item),
        Err(errors) => expand::fallback(&resource, errors),
    }
}

/// Parses and checks a resource without expanding it, for the code interface, which needs
/// the model but reports only its own errors (the resource reports its own).
pub fn model(args: TokenStream, item: TokenStream) -> Option<ast::Resource> {
    let cx = Ctxt::new();
    let resource = parse::parse(&cx, args, item);
    if let Some(resource) = &resource {
        check::check(&cx, resource);
    }
    let ok = !cx.has_errors();
    drop(cx.into_errors());
    resource.filter(|_| ok)
}
