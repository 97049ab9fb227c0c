//! `#[resource]`: parse -> check -> expand.

pub mod aggregates;
pub mod ast;
mod builtins;
pub(crate) mod check;
mod expand;
mod fallback;
pub(crate) mod manage;
pub mod parse;
pub mod policies;

pub use expand::is_primary;
pub use fallback::with_cfg;

use crate::ctxt::Ctxt;
use expand::Mode;
use proc_macro2::TokenStream;

/// Expands `#[resource(args)] item`. Never panics on user input: every problem is a
/// spanned `compile_error!`, and the user's struct is emitted even then, with everything
/// the errors do not concern (see [`fallback`]), so one mistake is one error.
pub fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let cx = Ctxt::new();
    let Some(mut resource) = parse::parse(&cx, args.clone(), item.clone()) else {
        let errors = cx.check().err().unwrap_or_default();
        return fallback::not_a_struct(item, errors);
    };
    check::check(&cx, &resource);
    match cx.check() {
        Ok(()) => expand::expand(&resource, args, item, Mode::Valid),
        Err(errors) => {
            let mode = fallback::sanitize(&mut resource);
            let mut out = expand::expand(&resource, args, item, mode);
            out.extend(errors);
            out
        }
    }
}

/// The model of a resource for the code interface, which reports only its own errors (the
/// resource reports its own): `None` when the resource's shape is unusable, else the model
/// with what its errors concern removed, and whether it had errors.
pub fn model(args: TokenStream, item: TokenStream) -> Option<(ast::Resource, bool)> {
    let cx = Ctxt::new();
    let resource = parse::parse(&cx, args, item);
    if let Some(resource) = &resource {
        check::check(&cx, resource);
    }
    let had_errors = cx.has_errors();
    drop(cx.into_errors());
    let mut resource = resource?;
    if had_errors && fallback::sanitize(&mut resource) == Mode::Stub {
        return None;
    }
    Some((resource, had_errors))
}
