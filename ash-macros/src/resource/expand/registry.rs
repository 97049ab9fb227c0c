//! What other macros need to see of this resource: typed names for the code interface
//! (`HasAttribute<K>`, `HasAction<K>`), the domain cross-checks, and the companion macro
//! through which a `#[domain]` generates its code interface.
//!
//! The companion is a `macro_rules!` re-exported under the struct's own name (macros and
//! types live in different namespaces), so wherever `Address` is in scope, `Address!{..}`
//! is too. It hands the resource's own tokens and the domain's `define`s to
//! `ash_rs::__private::interface!`, which sees both at once.

use super::{input_ident, krate, pascal};
use crate::keys::key_lit;
use crate::resource::ast::Resource;
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

pub fn expand(
    res: &Resource,
    args: TokenStream,
    original: TokenStream,
    valid: bool,
) -> TokenStream {
    let companion = companion(res, &args, &original, valid);
    if !valid {
        return companion;
    }
    let krate = krate();
    let ident = res.ident();
    let value = format_ident!("{}Value", ident);
    let attributes = res.attributes.iter().map(|a| {
        let key = key_lit(&a.ident.to_string());
        let ty = &a.ty;
        let variant = format_ident!("{}", pascal(&a.ident.to_string()));
        quote! {
            impl #krate::__private::HasAttribute<#key> for #ident {
                type Type = #ty;
                #[inline]
                fn value(value: #ty) -> #value {
                    #value::#variant(value)
                }
            }
        }
    });
    let actions = res.actions.iter().map(|a| {
        let key = key_lit(&a.name.to_string());
        let input = input_ident(res, &a.name);
        let accepted = a
            .accept
            .iter()
            .filter_map(|n| res.attribute(n))
            .map(|attr| (&attr.ident, &attr.ty));
        let arguments = a.arguments.iter().map(|arg| (&arg.ident, &arg.ty));
        let inputs = accepted.chain(arguments).map(|(name, ty)| {
            let key = key_lit(&name.to_string());
            quote! {
                impl #krate::__private::HasInput<#key> for #input {
                    type Type = #ty;
                }
            }
        });
        quote! {
            impl #krate::__private::HasAction<#key> for #ident {
                type Input = #input;
            }
            #( #inputs )*
        }
    });
    let domain = res.domain.as_ref().map(|domain| {
        let check = quote_spanned! {domain.span()=>
            const _: () = #krate::__private::assert_listed::<#domain, #ident>();
        };
        quote! {
            impl #krate::domain::InDomain<#domain> for #ident {}
            #check
        }
    });
    quote! {
        #( #attributes )*
        #( #actions )*
        #domain
        #companion
    }
}

fn companion(
    res: &Resource,
    args: &TokenStream,
    original: &TokenStream,
    valid: bool,
) -> TokenStream {
    let ident = res.ident();
    let name = format_ident!(
        "__ash_resource_{}_{:x}",
        ident,
        crate::keys::name_key(&original.to_string()) as u64
    );
    let body = if valid {
        quote! {
            ::ash_rs::__private::interface! { { #args } { #original } $($interface)* }
        }
    } else {
        // The resource already reported its errors; generate no interface rather than a
        // second wave of errors about it.
        TokenStream::new()
    };
    quote! {
        #[doc(hidden)]
        #[allow(unused_macros)]
        macro_rules! #name {
            ($($interface:tt)*) => { #body };
        }
        #[doc(hidden)]
        #[allow(unused_imports)]
        pub(crate) use #name as #ident;
    }
}
