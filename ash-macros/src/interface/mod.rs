//! The code interface: a domain's `define`s, expanded where the resource's model and the
//! domain's tokens meet (the resource's companion macro calls this).
//!
//! Input: `{resource args} {resource item} {domain} {resource path} {defines}`.

mod ast;
mod check;
mod expand;

use crate::ctxt::Ctxt;
use proc_macro2::{Delimiter, TokenStream, TokenTree};

pub fn expand(input: TokenStream) -> TokenStream {
    let groups: Vec<TokenStream> = input
        .into_iter()
        .filter_map(|t| match t {
            TokenTree::Group(g) if g.delimiter() == Delimiter::Brace => Some(g.stream()),
            _ => None,
        })
        .collect();
    let [args, item, domain, path, defines] =
        <[TokenStream; 5]>::try_from(groups).unwrap_or_default();
    let Some(resource) = crate::resource::model(args, item) else {
        // The resource reports its own errors.
        return TokenStream::new();
    };
    let cx = Ctxt::new();
    let (Ok(domain), Ok(path)) = (
        syn::parse2::<syn::Path>(domain),
        syn::parse2::<syn::Path>(path),
    ) else {
        cx.error_at(
            proc_macro2::Span::call_site(),
            "malformed code interface invocation",
        );
        return cx.check().err().unwrap_or_default();
    };
    let defines = ast::parse(&cx, defines);
    check::check(&cx, &resource, &defines);
    match cx.check() {
        Ok(()) => expand::expand(&resource, &domain, &path, &defines),
        Err(errors) => errors,
    }
}
