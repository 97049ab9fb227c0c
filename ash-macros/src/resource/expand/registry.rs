//! What other macros need to see of this resource: typed names for the code interface
//! (`HasAttribute<K>`, `HasAction<K>`), the domain cross-checks, and the companion macro
//! through which a `#[domain]` generates its code interface.
//!
//! The companion is a `#[macro_export]` `macro_rules!` with a hidden name unique to this
//! resource (its tokens and where it is written, hashed), re-exported next to the struct
//! under the struct's own name with the struct's visibility (macros and types live in
//! different namespaces). So wherever `Address` can be named, in this crate or another,
//! `Address!{..}` can be too, and two resources called `Address` in different modules do
//! not collide. It hands the resource's own tokens, `$crate` and the domain's `define`s to
//! `ash_rs::__private::interface!`, which sees both at once; two more arms name the
//! resource's data layer type and open a transaction on it, so a domain mentions a listed
//! resource only through its companion (a plain struct listed in a domain is then one
//! "cannot find macro" error instead of one error per use).

use super::{krate, Mode};
use crate::keys::key;
use crate::resource::ast::Resource;
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

pub fn expand(res: &Resource, args: TokenStream, original: TokenStream, mode: Mode) -> TokenStream {
    let krate = krate();
    let ident = res.ident();
    let companion = companion(res.ident(), &res.item.vis, &args, &original);
    let domain = in_domain(res);
    if mode == Mode::Stub {
        return quote! {
            #domain
            #companion
        };
    }
    // Only for what the code interface cannot name as written (see `portable`): it names
    // every other type directly, and reaches values through `<R as Resource>::Value`.
    let no_crate = TokenStream::new();
    let is_portable = |ty: &syn::Type| crate::interface::portable(ty, &no_crate).is_some();
    let attributes = res
        .attributes
        .iter()
        .enumerate()
        .filter(|(_, a)| !is_portable(&a.ty))
        .map(|(i, a)| {
            let key = key(i);
            let ty = &a.ty;
            quote! {
                impl #krate::__private::HasAttribute<#key> for #ident {
                    type Type = #ty;
                }
            }
        });
    let actions = res.actions.iter().enumerate().map(|(i, a)| {
        let action_key = key(i);
        let input = &a.input;
        // Accepted attributes are named through `HasAttribute`; only arguments need these.
        let inputs = a
            .inputs(res)
            .into_iter()
            .enumerate()
            .filter(|(_, (ident, _, ty))| !a.accepts(ident) && !is_portable(ty))
            .map(|(j, (_, _, ty))| {
                let key = key(j);
                quote! {
                    impl #krate::__private::HasInput<#key> for #input {
                        type Type = #ty;
                    }
                }
            });
        quote! {
            impl #krate::__private::HasAction<#action_key> for #ident {
                type Input = #input;
            }
            #( #inputs )*
        }
    });
    quote! {
        #( #attributes )*
        #( #actions )*
        #domain
        #companion
    }
}

/// `domain = D`: the resource belongs to `D`, which must list it (and no other domain may).
/// Without it, any domain may list the resource, in this crate or another.
fn in_domain(res: &Resource) -> TokenStream {
    let krate = krate();
    let ident = res.ident();
    // A generic resource is an error; nothing can name it without its parameters.
    if !res.item.generics.params.is_empty() {
        return TokenStream::new();
    }
    match &res.domain {
        Some(domain) => {
            let check = quote_spanned! {domain.span()=>
                const _: () = #krate::__private::assert_listed::<#domain, #ident>();
            };
            quote! {
                impl #krate::domain::InDomain<#domain> for #ident {}
                #check
            }
        }
        None => quote! {
            impl<__AshDomain> #krate::domain::InDomain<__AshDomain> for #ident {}
        },
    }
}

/// The companion macro of the resource `ident`, re-exported with visibility `vis`.
pub fn companion(
    ident: &syn::Ident,
    vis: &syn::Visibility,
    args: &TokenStream,
    original: &TokenStream,
) -> TokenStream {
    let krate = krate();
    // Unique in the crate, where `#[macro_export]` puts every companion: the resource's
    // tokens, and where they are written (the span, with its macro expansion, tells apart
    // two expansions of one `macro_rules!` that writes a resource).
    let salt = format!(
        "{original}|{args}|{:?}|{:?}",
        ident.span(),
        proc_macro2::Span::call_site()
    );
    let name = format_ident!(
        "__ash_resource_{}_{:016x}",
        ident,
        crate::keys::name_key(&salt) as u64
    );
    quote! {
        #[doc(hidden)]
        #[macro_export]
        // The resource's own tokens, where `crate::` means the resource's crate: the
        // interface reads them as such (a `crate::` type becomes a `$crate::` one).
        #[allow(clippy::crate_in_macro_def)]
        macro_rules! #name {
            (@layer $p:path) => { <$p as #krate::resource::Resource>::DataLayer };
            (@visit $p:path, $visitor:expr) => {
                #krate::domain::ResourceVisitor::visit::<$p>($visitor)
            };
            (@relationships $p:path) => { <$p as #krate::resource::Resource>::RELATIONSHIPS };
            (@prepare $p:path, $layer:expr, $all:expr) => {
                <<$p as #krate::resource::Resource>::DataLayer as #krate::data_layer::DataLayer<$p>>::prepare_loads($layer, $all)
            };
            (@begin $p:path, $layer:expr, $ctx:expr) => {
                <<$p as #krate::resource::Resource>::DataLayer as #krate::data_layer::DataLayer<$p>>::begin($layer, $ctx)
            };
            ($($interface:tt)*) => {
                #krate::__private::interface! { { $crate } { #args } { #original } $($interface)* }
            };
        }
        #[doc(hidden)]
        #[allow(unused_imports)]
        #vis use #name as #ident;
    }
}
