//! Typed attribute handles for queries: `Address::STATE.eq("FL")`.

use super::{krate, Names};
use crate::resource::ast::Resource;
use proc_macro2::TokenStream;
use quote::quote;

pub fn expand(res: &Resource, names: &Names) -> TokenStream {
    let krate = krate();
    let ident = res.ident();
    let Names { field, value, .. } = names;
    let consts = res.attributes.iter().map(|a| {
        let konst = &a.konst;
        let variant = &a.variant;
        let doc = format!("The `{}` attribute, for filters and sorts.", a.name);
        // A nilable attribute's handle takes the inner type; nil is `is_nil()`.
        match option_inner(&a.ty).filter(|_| a.nilable) {
            Some(inner) => quote! {
                #[doc = #doc]
                pub const #konst: #krate::filter::Attr<#ident, #inner> = #krate::filter::Attr::new(#field::#variant, {
                    fn wrap(value: #inner) -> #value {
                        #value::#variant(::std::option::Option::Some(value))
                    }
                    wrap
                });
            },
            None => {
                let ty = &a.ty;
                quote! {
                    #[doc = #doc]
                    pub const #konst: #krate::filter::Attr<#ident, #ty> =
                        #krate::filter::Attr::new(#field::#variant, #value::#variant);
                }
            }
        }
    });
    quote! {
        #[allow(dead_code)]
        impl #ident {
            #( #consts )*
        }
    }
}

fn option_inner(ty: &syn::Type) -> Option<&syn::Type> {
    let syn::Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first()? {
        syn::GenericArgument::Type(inner) => Some(inner),
        _ => None,
    }
}
