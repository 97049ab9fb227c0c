//! The code interface: a domain's `define`s, expanded where the resource's model and the
//! domain's tokens meet (the resource's companion macro calls this, in the domain's module
//! and crate).
//!
//! Input: `{$crate} {resource args} {resource item} {domain} {resource path} {slot}
//! {defines}`, where `$crate` is the resource's crate and `slot` the resource's place in the
//! domain's tables.

mod ast;
mod check;
mod expand;

pub use expand::portable;

use crate::ctxt::Ctxt;
use proc_macro2::{Delimiter, TokenStream, TokenTree};
use quote::quote;

pub fn expand(input: TokenStream) -> TokenStream {
    let groups: Vec<TokenStream> = input
        .into_iter()
        .filter_map(|t| match t {
            TokenTree::Group(g) if g.delimiter() == Delimiter::Brace => Some(g.stream()),
            _ => None,
        })
        .collect();
    let [krate, args, item, domain, path, slot, defines] =
        <[TokenStream; 7]>::try_from(groups).unwrap_or_default();
    let (Ok(domain), Ok(path)) = (
        syn::parse2::<syn::Path>(domain),
        syn::parse2::<syn::Path>(path),
    ) else {
        let cx = Ctxt::new();
        cx.error_at(
            proc_macro2::Span::call_site(),
            "malformed code interface invocation",
        );
        return cx.check().err().unwrap_or_default();
    };
    let site = expand::Site {
        domain: &domain,
        path: &path,
        slot: &slot,
        krate: &krate,
    };
    let listing = expand::listing(&site);
    let Some((resource, resource_errors)) = crate::resource::model(args, item) else {
        // The resource reports its own errors.
        return listing;
    };
    let cx = Ctxt::new();
    let defines: Vec<(ast::Define, bool)> = ast::parse(&cx, defines)
        .into_iter()
        .map(|mut define| {
            let own = Ctxt::new();
            check::check_define(&own, &resource, &define);
            let errors = own.into_errors();
            let ok = errors.is_empty();
            for error in errors {
                cx.syn_error(error);
            }
            // `get_by_identity = name` is `get_by` its attributes, which expansion then
            // recognizes as the identity.
            if let Some(identity) = define
                .get_by_identity
                .as_ref()
                .and_then(|i| resource.identity(i))
            {
                if define.get_by.is_empty() {
                    define.get_by = identity.fields.clone();
                }
            }
            (define, ok)
        })
        .collect();
    // A resource with errors reports them itself; what its defines say about it may follow
    // from those errors, so they report nothing (their methods are still generated).
    let errors = if resource_errors {
        drop(cx.into_errors());
        TokenStream::new()
    } else {
        cx.check().err().unwrap_or_default()
    };
    let methods = expand::expand(&resource, &site, &defines);
    quote! {
        #listing
        #methods
        #errors
    }
}
