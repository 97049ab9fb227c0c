//! Identities: the typed key enum, the handles (`User::UNIQUE_EMAIL`) and the `Resource`
//! items that extract, index and filter identity values.

use super::{krate, Names};
use crate::resource::ast::{Attribute, IdentityDef, Resource};
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};

/// The key enum's name, `UserIdentityKey`.
fn key_type(res: &Resource) -> syn::Ident {
    format_ident!("{}IdentityKey", res.ident())
}

/// Each identity with its attributes (identities naming unknown attributes were removed
/// on error).
fn resolved(res: &Resource) -> Vec<(&IdentityDef, Vec<&Attribute>)> {
    res.identities
        .iter()
        .map(|id| {
            let attrs = id.fields.iter().filter_map(|f| res.attribute(f)).collect();
            (id, attrs)
        })
        .collect()
}

/// The items beside the resource: the key enum and the handles.
pub fn items(res: &Resource) -> TokenStream {
    if res.identities.is_empty() {
        return TokenStream::new();
    }
    let krate = krate();
    let ident = res.ident();
    let vis = &res.item.vis;
    let key = key_type(res);
    let name = crate::name::unraw(ident);
    let variants = resolved(res).into_iter().map(|(id, attrs)| {
        let variant = &id.variant;
        let doc = format!("A value of identity `{}`.", id.name_str);
        // Spanned at the identity's attribute: a type that cannot be a key (no `Hash`,
        // such as `f64`) is reported there.
        let tys = id.fields.iter().zip(&attrs).map(|(field, attr)| {
            let ty = &attr.ty;
            quote_spanned!(field.span()=> #ty)
        });
        quote! {
            #[doc = #doc]
            #variant( #( #tys ),* )
        }
    });
    let handles = res.identities.iter().enumerate().map(|(index, id)| {
        let konst = &id.konst;
        let fields: Vec<String> = id.fields.iter().map(crate::name::unraw).collect();
        let doc = format!(
            "The identity `{}` (unique {}): a conflict target for upserts.",
            id.name_str,
            fields.join(", ")
        );
        quote! {
            #[doc = #doc]
            pub const #konst: #krate::identity::Identity<#ident> = #krate::identity::Identity::new(#index);
        }
    });
    let doc = format!("A value of one identity of [`{name}`]: what its unique indexes hold.");
    quote! {
        #[doc = #doc]
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        // Identity names usually share a prefix (`unique_email`, `unique_slug`).
        #[allow(clippy::enum_variant_names)]
        #vis enum #key {
            #( #variants, )*
        }

        impl #ident {
            #( #handles )*
        }
    }
}

/// The `Resource` items about identities.
pub fn resource_items(res: &Resource, names: &Names) -> TokenStream {
    let krate = krate();
    let Names { field, value, .. } = names;
    let changes_pk = match res.primary_key() {
        Some(pk) => {
            let id = &pk.ident;
            quote!(changes.#id.is_some())
        }
        None => quote!(false),
    };
    let changes_pk = quote! {
        #[inline(always)]
        #[allow(unused_variables)]
        fn changes_primary_key(changes: &Self::Changes) -> bool {
            #changes_pk
        }
    };
    if res.identities.is_empty() {
        return quote! {
            const IDENTITIES: &'static [#krate::identity::IdentityInfo] = &[];
            type IdentityKey = ();
            #[inline(always)]
            fn identity_key(&self, _: usize) -> ::std::option::Option<()> {
                ::std::option::Option::None
            }
            fn identity_of_key(_: &()) -> usize {
                0
            }
            fn identity_key_is_indexed(_: &()) -> bool {
                false
            }
            fn identity_filter(_: &()) -> #krate::filter::Filter<Self> {
                #krate::filter::Filter::Or(::std::vec::Vec::new())
            }
            #[inline(always)]
            fn changes_touch_identity(_: &Self::Changes, _: usize) -> bool {
                false
            }
            #changes_pk
        };
    }
    let key = key_type(res);
    let resolved = resolved(res);
    let infos = resolved.iter().map(|(id, attrs)| {
        let n = &id.name_str;
        let fields = attrs.iter().map(|a| a.name.as_str());
        let nils_distinct = id.nils_distinct;
        let message = match &id.message {
            Some(m) => quote!(::std::option::Option::Some(#m)),
            None => quote!(::std::option::Option::None),
        };
        quote! {
            #krate::identity::IdentityInfo {
                name: #n,
                fields: &[ #( #fields ),* ],
                nils_distinct: #nils_distinct,
                message: #message,
            }
        }
    });
    let as_attr = |a: &Attribute| {
        let ty = &a.ty;
        quote!(<#ty as #krate::attribute::AttributeValue>)
    };
    let vars =
        |n: usize| -> Vec<syn::Ident> { (0..n).map(|i| format_ident!("__ash_k{}", i)).collect() };

    let key_arms = resolved.iter().enumerate().map(|(index, (id, attrs))| {
        let variant = &id.variant;
        let idents = attrs.iter().map(|a| &a.ident);
        let nil_check = if id.nils_distinct {
            let nils = attrs.iter().map(|a| {
                let id = &a.ident;
                let t = as_attr(a);
                quote!(#t::is_nil(&self.#id))
            });
            quote! {
                if false #( || #nils )* {
                    return ::std::option::Option::None;
                }
            }
        } else {
            quote!()
        };
        quote! {
            #index => {
                #nil_check
                ::std::option::Option::Some(#key::#variant( #( ::std::clone::Clone::clone(&self.#idents) ),* ))
            }
        }
    });
    let of_key_arms = resolved.iter().enumerate().map(|(index, (id, attrs))| {
        let variant = &id.variant;
        let blanks = attrs.iter().map(|_| quote!(_));
        quote!(#key::#variant( #( #blanks ),* ) => #index,)
    });
    let indexed_arms = resolved.iter().map(|(id, attrs)| {
        let variant = &id.variant;
        let vs = vars(attrs.len());
        let body = if id.nils_distinct {
            let nils = attrs.iter().zip(&vs).map(|(a, v)| {
                let t = as_attr(a);
                quote!(#t::is_nil(#v))
            });
            quote!(!(false #( || #nils )*))
        } else {
            quote!(true)
        };
        quote! {
            #[allow(unused_variables)]
            #key::#variant( #( #vs ),* ) => #body,
        }
    });
    let filter_arms = resolved.iter().map(|(id, attrs)| {
        let variant = &id.variant;
        let vs = vars(attrs.len());
        let parts: Vec<TokenStream> = attrs
            .iter()
            .zip(&vs)
            .map(|(a, v)| {
                let t = as_attr(a);
                let av = &a.variant;
                quote! {
                    if #t::is_nil(#v) {
                        #krate::filter::Filter::IsNil(#field::#av)
                    } else {
                        #krate::filter::Filter::eq(#value::#av(::std::clone::Clone::clone(#v)))
                    }
                }
            })
            .collect();
        let body = match parts.as_slice() {
            [one] => quote!(#one),
            many => quote!(#krate::filter::Filter::And(::std::vec![ #( #many ),* ])),
        };
        quote!(#key::#variant( #( #vs ),* ) => #body,)
    });
    let touch_arms = resolved.iter().enumerate().map(|(index, (_, attrs))| {
        let idents = attrs.iter().map(|a| &a.ident);
        quote!(#index => false #( || changes.#idents.is_some() )*,)
    });
    quote! {
        const IDENTITIES: &'static [#krate::identity::IdentityInfo] = &[ #( #infos ),* ];
        type IdentityKey = #key;

        #[inline]
        fn identity_key(&self, identity: usize) -> ::std::option::Option<#key> {
            match identity {
                #( #key_arms )*
                _ => ::std::option::Option::None,
            }
        }

        #[inline]
        fn identity_of_key(key: &#key) -> usize {
            match key {
                #( #of_key_arms )*
            }
        }

        #[inline]
        fn identity_key_is_indexed(key: &#key) -> bool {
            match key {
                #( #indexed_arms )*
            }
        }

        fn identity_filter(key: &#key) -> #krate::filter::Filter<Self> {
            match key {
                #( #filter_arms )*
            }
        }

        #[inline]
        fn changes_touch_identity(changes: &Self::Changes, identity: usize) -> bool {
            match identity {
                #( #touch_arms )*
                _ => false,
            }
        }

        #changes_pk
    }
}
