//! `impl HasResources for Domain`: the listed resources, visited by type (what tools such
//! as the migration generator enumerate).

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, Path};

/// The impl visiting each of `paths` in order, through each resource's companion macro
/// (`Address!(@visit Address, visitor)`) spanned at the listed path, as the domain's other
/// mentions: a listed struct that is no resource stays one error.
pub(super) fn has_resources(krate: &TokenStream, ident: &Ident, paths: &[&Path]) -> TokenStream {
    let visits = paths.iter().map(|path| {
        quote_spanned! {path.span()=>
            #path!(@visit #path, visitor);
        }
    });
    quote! {
        impl #krate::domain::HasResources for #ident {
            fn visit_resources<V: #krate::domain::ResourceVisitor>(visitor: &mut V) {
                #( #visits )*
            }
        }
    }
}
