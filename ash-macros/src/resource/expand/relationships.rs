//! Relationships: the `Loaded` fields, the typed handles (`Post::COMMENTS`), the static
//! descriptors ([`Resource::RELATIONSHIPS`]) and the `HasField` impls through which other
//! resources' relationships name this one's attributes.

use super::{krate, Names};
use crate::keys::name_key;
use crate::resource::ast::{RelKind, RelationshipDef, Resource};
use proc_macro2::{Literal, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

fn key_of(name: &syn::Ident) -> Literal {
    Literal::u128_suffixed(name_key(&crate::name::unraw(name)))
}

/// The type of a relationship's field.
pub fn field_type(rel: &RelationshipDef) -> TokenStream {
    let krate = krate();
    let dest = &rel.destination;
    if rel.kind.to_one() {
        quote!(#krate::relationship::Loaded<::std::option::Option<#dest>>)
    } else {
        quote!(#krate::relationship::Loaded<::std::vec::Vec<#dest>>)
    }
}

/// The struct's fields for its relationships.
pub fn fields(res: &Resource) -> Vec<syn::Field> {
    res.relationships
        .iter()
        .filter_map(|rel| {
            let ident = &rel.name;
            let ty = field_type(rel);
            let doc = format!(
                "The `{}` relationship: `Err(NotLoaded)` until loaded (`.load({}::{})`).",
                rel.name_str,
                res.ident(),
                rel.konst
            );
            let tokens = quote!(#[doc = #doc] pub #ident: #ty);
            syn::parse::Parser::parse2(syn::Field::parse_named, tokens).ok()
        })
        .collect()
}

/// `HasField` for every attribute.
pub fn has_field(res: &Resource, names: &Names) -> TokenStream {
    let krate = krate();
    let ident = res.ident();
    let Names { field, value, .. } = names;
    let impls = res.attributes.iter().map(|a| {
        let key = Literal::u128_suffixed(name_key(&a.name));
        let ty = &a.ty;
        let id = &a.ident;
        let variant = &a.variant;
        quote! {
            impl #krate::relationship::HasField<#key> for #ident {
                type Type = #ty;
                const FIELD: #field = #field::#variant;
                #[inline]
                fn get(&self) -> &#ty {
                    &self.#id
                }
                #[inline]
                fn wrap(value: #ty) -> #value {
                    #value::#variant(value)
                }
            }
        }
    });
    quote!( #( #impls )* )
}

/// The `FIELDS`, `RELATIONSHIPS`, `REFERENCES` and `INDEXED_FIELDS` items of the `Resource` impl.
pub fn resource_items(res: &Resource, names: &Names) -> TokenStream {
    let field = &names.field;
    let all = res.attributes.iter().map(|a| {
        let v = &a.variant;
        quote!(#field::#v)
    });
    let fields = quote! {
        const FIELDS: &'static [#field] = &[ #( #all ),* ];
    };
    if res.relationships.is_empty() {
        return fields;
    }
    let krate = krate();
    let infos = res.relationships.iter().map(|rel| info(res, rel));
    let indexed = res
        .relationships
        .iter()
        .filter(|r| r.kind == RelKind::BelongsTo)
        .filter_map(|r| res.attribute(&r.source_attribute))
        .map(|a| {
            let v = &a.variant;
            quote!(#field::#v)
        });
    let ident = res.ident();
    let references = res
        .relationships
        .iter()
        .filter(|r| r.kind == RelKind::BelongsTo)
        .map(|r| {
            let konst = &r.konst;
            quote!(&#ident::#konst)
        });
    quote! {
        #fields
        const RELATIONSHIPS: &'static [#krate::relationship::RelationshipInfo] = &[ #( #infos ),* ];
        const REFERENCES: &'static [&'static dyn #krate::reference::Reference<Self>] = &[ #( #references ),* ];
        const INDEXED_FIELDS: &'static [#field] = &[ #( #indexed ),* ];
    }
}

fn info(res: &Resource, rel: &RelationshipDef) -> TokenStream {
    let krate = krate();
    let dest = &rel.destination;
    let name = &rel.name_str;
    let source = crate::name::unraw(res.ident());
    let kind = match rel.kind {
        RelKind::BelongsTo => quote!(BelongsTo),
        RelKind::HasOne => quote!(HasOne),
        RelKind::HasMany => quote!(HasMany),
        RelKind::ManyToMany => quote!(ManyToMany),
    };
    let src_attr = crate::name::unraw(&rel.source_attribute);
    let dst_attr = crate::name::unraw(&rel.destination_attribute);
    let through = match &rel.through {
        Some(j) => {
            let s = crate::name::unraw(&rel.source_on_join);
            let d = crate::name::unraw(&rel.destination_on_join);
            quote! {
                ::std::option::Option::Some(#krate::relationship::ThroughInfo {
                    resource: <#j as #krate::resource::Resource>::NAME,
                    source_attribute_on_join_resource: #s,
                    destination_attribute_on_join_resource: #d,
                    attributes: <#j as #krate::resource::Resource>::ATTRIBUTES,
                    data_layer_options: <#j as #krate::resource::Resource>::DATA_LAYER_OPTIONS,
                })
            }
        }
        None => quote!(::std::option::Option::None),
    };
    let allow_nil = rel.allow_nil;
    let on_delete = match rel.on_delete.to_string().as_str() {
        "cascade" => quote!(Cascade),
        "nilify" => quote!(Nilify),
        _ => quote!(Restrict),
    };
    quote_spanned! {dest.span()=>
        #krate::relationship::RelationshipInfo {
            name: #name,
            kind: #krate::relationship::RelationshipKind::#kind,
            source: #source,
            destination: <#dest as #krate::resource::Resource>::NAME,
            source_attribute: #src_attr,
            destination_attribute: #dst_attr,
            through: #through,
            destination_attributes: <#dest as #krate::resource::Resource>::ATTRIBUTES,
            destination_data_layer_options: <#dest as #krate::resource::Resource>::DATA_LAYER_OPTIONS,
            allow_nil: #allow_nil,
            on_delete: #krate::relationship::OnDelete::#on_delete,
        }
    }
}

/// `tokens` with every token at `span`: each mention of another resource's attribute
/// (`<Comment as HasField<K>>`) is then at the resource's name, so a missing attribute is
/// one error there, not one per mention.
fn at(tokens: TokenStream, span: proc_macro2::Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut t| {
            if let proc_macro2::TokenTree::Group(g) = &t {
                let mut group = proc_macro2::Group::new(g.delimiter(), at(g.stream(), span));
                group.set_span(span);
                t = proc_macro2::TokenTree::Group(group);
            } else {
                t.set_span(span);
            }
            t
        })
        .collect()
}

/// The handle's `filter` and `sort` fields: functions building the relationship's own
/// filter and default sort, spanned at the user's expressions so a type error (a filter of
/// another resource) points there.
fn filter_and_sort(rel: &RelationshipDef) -> (TokenStream, TokenStream) {
    let krate = krate();
    let dest = &rel.destination;
    let filter = match &rel.filter {
        Some(expr) => quote_spanned! {expr.span()=>
            ::std::option::Option::Some(|| -> #krate::filter::Filter<#dest> { #expr })
        },
        None => quote!(::std::option::Option::None),
    };
    let sort = match &rel.sort {
        Some(array) => {
            let keys = array.elems.iter();
            quote_spanned! {array.span()=>
                ::std::option::Option::Some(|| -> ::std::vec::Vec<(<#dest as #krate::resource::Resource>::Field, #krate::query::SortOrder)> {
                    ::std::vec![ #( #keys ),* ]
                })
            }
        }
        None => quote!(::std::option::Option::None),
    };
    (filter, sort)
}

/// The handles and compile-time checks, beside the struct.
pub fn items(res: &Resource) -> TokenStream {
    if res.relationships.is_empty() {
        return TokenStream::new();
    }
    let krate = krate();
    let ident = res.ident();
    let rk = quote!(#krate::relationship::RelationshipKey);
    let hf = quote!(#krate::relationship::HasField);
    let mut checks = Vec::new();
    let mut has_rel = Vec::new();
    let mut has_relationship = |rel: &RelationshipDef, ty: &TokenStream, index: usize| {
        let k = key_of(&rel.name);
        let konst = &rel.konst;
        let dest = &rel.destination;
        has_rel.push(quote! {
            impl #krate::relationship::HasRelationship<#k> for #ident {
                type Handle = #ty;
                type Destination = #dest;
                const HANDLE: Self::Handle = #ident::#konst;
                const INFO: &'static #krate::relationship::RelationshipInfo =
                    &<#ident as #krate::resource::Resource>::RELATIONSHIPS[#index];
            }
        });
    };
    let handles: Vec<TokenStream> = res
        .relationships
        .iter()
        .enumerate()
        .map(|(index, rel)| {
            let konst = &rel.konst;
            let dest = &rel.destination;
            let field = &rel.name;
            let ks = key_of(&rel.source_attribute);
            let kd = key_of(&rel.destination_attribute);
            let kd_span = rel.destination_attribute.span();
            let dest_hf = at(quote!(<#dest as #hf<#kd>>), dest.span());
            // Every mention of the destination's attribute at the destination's name.
            let dest_side = at(
                quote! {
                    dest_key: |d| #krate::relationship::key_as(#dest_hf::get(d)),
                    dest_field: #dest_hf::FIELD,
                    dest_value: |k| match #krate::relationship::from_key_as(k) { ::std::option::Option::Some(v) => ::std::option::Option::Some(#dest_hf::wrap(v)), ::std::option::Option::None => ::std::option::Option::None },
                },
                dest.span(),
            );
            let src_hf = quote!(<#ident as #hf<#ks>>);
            let loaded = if rel.kind.to_one() {
                quote!(::std::option::Option<#dest>)
            } else {
                quote!(::std::vec::Vec<#dest>)
            };
            let key = quote!(<<#ident as #hf<#ks>>::Type as #rk>::Key);
            let doc = format!(
                "The `{}` relationship, to load (`Query::new().load({}::{})`) and filter through.",
                rel.name_str, ident, konst
            );
            let info = quote!(&<#ident as #krate::resource::Resource>::RELATIONSHIPS[#index]);
            let (filter, sort) = filter_and_sort(rel);
            if let Some(domain) = &res.domain {
                checks.push(quote_spanned! {dest.span()=>
                    const _: () = #krate::__private::assert_listed::<#domain, #dest>();
                });
            }
            match &rel.through {
                None => {
                    checks.push(quote_spanned! {kd_span=>
                        const _: () = #krate::relationship::assert_same_key::<
                            <#ident as #hf<#ks>>::Type,
                            #dest_hf::Type,
                        >();
                    });
                    let ty = quote!(#krate::relationship::Direct<#ident, #dest, #key, #loaded>);
                    has_relationship(rel, &ty, index);
                    quote! {
                        #[doc = #doc]
                        pub const #konst: #ty =
                            #krate::relationship::Direct {
                                info: #info,
                                source_key: |s| #rk::key(#src_hf::get(s)),
                                source_field: #src_hf::FIELD,
                                source_value: |k| #src_hf::wrap(#rk::from_key(k)),
                                #dest_side
                                slot: |s| &mut s.#field,
                                get: |s| &s.#field,
                                filter: #filter,
                                sort: #sort,
                            };
                    }
                }
                Some(join) => {
                    let kjs = key_of(&rel.source_on_join);
                    let kjd = key_of(&rel.destination_on_join);
                    let js = at(quote!(<#join as #hf<#kjs>>), join.span());
                    let jd = at(quote!(<#join as #hf<#kjd>>), join.span());
                    let key2 = at(quote!(<#jd::Type as #rk>::Key), join.span());
                    let join_side = at(
                        quote! {
                            join_source_key: |j| #krate::relationship::key_as(#js::get(j)),
                            join_source_field: #js::FIELD,
                            join_source_value: |k| match #krate::relationship::from_key_as(k) { ::std::option::Option::Some(v) => ::std::option::Option::Some(#js::wrap(v)), ::std::option::Option::None => ::std::option::Option::None },
                            join_dest_key: |j| #rk::key(#jd::get(j)),
                            join_dest_field: #jd::FIELD,
                            join_dest_value: |k| match #krate::relationship::from_key_as(k) { ::std::option::Option::Some(v) => ::std::option::Option::Some(#jd::wrap(v)), ::std::option::Option::None => ::std::option::Option::None },
                        },
                        join.span(),
                    );
                    checks.push(quote_spanned! {rel.source_on_join.span()=>
                        const _: () = #krate::relationship::assert_same_key::<<#ident as #hf<#ks>>::Type, #js::Type>();
                    });
                    checks.push(quote_spanned! {kd_span=>
                        const _: () = #krate::relationship::assert_same_key::<#jd::Type, #dest_hf::Type>();
                    });
                    if let Some(domain) = &res.domain {
                        checks.push(quote_spanned! {join.span()=>
                            const _: () = #krate::__private::assert_listed::<#domain, #join>();
                        });
                    }
                    let ty = quote!(#krate::relationship::ManyToMany<#ident, #join, #dest, #key, #key2>);
                    has_relationship(rel, &ty, index);
                    quote! {
                        #[doc = #doc]
                        pub const #konst: #ty =
                            #krate::relationship::ManyToMany {
                                info: #info,
                                source_key: |s| #rk::key(#src_hf::get(s)),
                                source_field: #src_hf::FIELD,
                                source_value: |k| #src_hf::wrap(#rk::from_key(k)),
                                #join_side
                                #dest_side
                                slot: |s| &mut s.#field,
                                get: |s| &s.#field,
                                filter: #filter,
                                sort: #sort,
                            };
                    }
                }
            }
        })
        .collect();
    quote! {
        #[allow(dead_code)]
        impl #ident {
            #( #handles )*
        }
        #( #checks )*
        #( #has_rel )*
    }
}
