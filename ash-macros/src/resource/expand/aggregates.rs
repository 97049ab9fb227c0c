//! Aggregates: the `Loaded` fields, the typed handles (`Post::COMMENT_COUNT`) and the
//! compile-time checks that need types (the field is an attribute of the related resource,
//! `sum`/`avg` take a numeric one, `default` has the aggregate's type), spanned at the
//! user's tokens.

use super::krate;
use crate::keys::name_key;
use crate::resource::aggregates::{AggKind, AggregateDef};
use crate::resource::ast::Resource;
use proc_macro2::{Literal, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

fn key_of(name: &syn::Ident) -> Literal {
    Literal::u128_suffixed(name_key(&crate::name::unraw(name)))
}

/// The aggregated attribute's type on the related resource, spanned at `field = ..`.
fn field_type(res: &Resource, agg: &AggregateDef) -> Option<TokenStream> {
    let krate = krate();
    let rel = res.relationship(agg.path.first()?)?;
    let dest = &rel.destination;
    let field = agg.field.as_ref()?;
    let k = key_of(field);
    Some(quote_spanned!(field.span()=> <#dest as #krate::relationship::HasField<#k>>::Type))
}

/// The aggregate's value type and the type it is compared with.
fn types(res: &Resource, agg: &AggregateDef) -> (TokenStream, TokenStream) {
    let krate = krate();
    let inner = field_type(res, agg)
        .map(|ft| quote!(<#ft as #krate::aggregate::AggregateField>::Inner))
        .unwrap_or_else(|| quote!(i64));
    let opt = |t: TokenStream| {
        if agg.default.is_some() {
            t
        } else {
            quote!(::std::option::Option<#t>)
        }
    };
    match agg.kind {
        AggKind::Count => (quote!(i64), quote!(i64)),
        AggKind::Exists => (quote!(bool), quote!(bool)),
        AggKind::Avg => (opt(quote!(f64)), quote!(f64)),
        AggKind::List => (
            quote!(::std::vec::Vec<#inner>),
            quote!(::std::vec::Vec<#inner>),
        ),
        AggKind::Sum | AggKind::Min | AggKind::Max | AggKind::First => (opt(inner.clone()), inner),
    }
}

/// The struct's fields for its aggregates.
pub fn fields(res: &Resource) -> Vec<syn::Field> {
    let krate = krate();
    res.aggregates
        .iter()
        .filter_map(|agg| {
            let ident = &agg.name;
            let (ty, _) = types(res, agg);
            let doc = format!(
                "The `{}` aggregate: `Err(NotLoaded)` until loaded (`.load({}::{})`).",
                agg.name_str,
                res.ident(),
                agg.konst
            );
            let tokens = quote!(#[doc = #doc] pub #ident: #krate::relationship::Loaded<#ty>);
            syn::parse::Parser::parse2(syn::Field::parse_named, tokens).ok()
        })
        .collect()
}

/// The handles and checks, beside the struct.
pub fn items(res: &Resource) -> TokenStream {
    if res.aggregates.is_empty() {
        return TokenStream::new();
    }
    let krate = krate();
    let ident = res.ident();
    let mut checks = Vec::new();
    let handles: Vec<TokenStream> = res
        .aggregates
        .iter()
        .filter_map(|agg| {
            let first = agg.path.first()?;
            let rel_index = res
                .relationships
                .iter()
                .position(|r| r.name_str == crate::name::unraw(first))?;
            let rel = &res.relationships[rel_index];
            let dest = &rel.destination;
            let kr = key_of(&rel.name);
            let handle = quote!(<#ident as #krate::relationship::HasRelationship<#kr>>);
            let (ty, cmp) = types(res, agg);
            let konst = &agg.konst;
            let name = &agg.name_str;
            let slot = &agg.name;
            let variant = syn::Ident::new(agg.kind.variant(), agg.kind_ident.span());
            let uniq = agg.uniq.is_some_and(|(u, _)| u);
            let (field_name, field) = match &agg.field {
                Some(f) => {
                    let k = key_of(f);
                    let s = crate::name::unraw(f);
                    let ft = field_type(res, agg);
                    checks.push(quote_spanned! {f.span()=>
                        const _: () = {
                            fn __ash_aggregate_field<T: #krate::aggregate::AggregateField>() {}
                            let _ = __ash_aggregate_field::<#ft>;
                        };
                    });
                    if matches!(agg.kind, AggKind::Sum | AggKind::Avg) {
                        checks.push(quote_spanned! {f.span()=>
                            const _: () = #krate::aggregate::assert_summable::<#ft>();
                        });
                    }
                    (
                        quote!(::std::option::Option::Some(#s)),
                        quote_spanned!(f.span()=> ::std::option::Option::Some(<#dest as #krate::relationship::HasField<#k>>::FIELD)),
                    )
                }
                None => (
                    quote!(::std::option::Option::None),
                    quote!(::std::option::Option::None),
                ),
            };
            let filter = match &agg.filter {
                Some(f) => quote_spanned!(f.span()=> || {
                    let filter: #krate::filter::Filter<#dest> = #f;
                    ::std::option::Option::Some(filter)
                }),
                None => quote!(|| ::std::option::Option::None),
            };
            let sort = match &agg.sort {
                Some(syn::Expr::Array(items)) => {
                    let items = items.elems.iter();
                    quote!(|| ::std::vec![ #( #items ),* ])
                }
                Some(one) => quote!(|| ::std::vec![ #one ]),
                None => quote!(|| ::std::vec::Vec::new()),
            };
            let default = match &agg.default {
                Some(d) => quote_spanned!(d.span()=> || {
                    let value: #ty = #d;
                    #krate::attribute::AttributeValue::to_value(&value)
                }),
                None => quote!(|| #krate::value::Value::Null),
            };
            let doc = format!(
                "The `{name}` aggregate ({} over `{}`), to load (`Query::new().load({ident}::{konst})`) and filter on (`{ident}::{konst}.gt(..)`).",
                agg.kind_ident, rel.name_str
            );
            Some(quote! {
                #[doc = #doc]
                pub const #konst: #krate::aggregate::Aggregate<#handle::Handle, #ty, #cmp> =
                    #krate::aggregate::Aggregate {
                        info: &#krate::aggregate::AggregateInfo {
                            name: #name,
                            kind: #krate::aggregate::AggregateKind::#variant,
                            relationship: &<#ident as #krate::resource::Resource>::RELATIONSHIPS[#rel_index],
                            field: #field_name,
                            uniq: #uniq,
                        },
                        relationship: #handle::HANDLE,
                        field: #field,
                        filter: #filter,
                        sort: #sort,
                        default: #default,
                        decode: |v| <#ty as #krate::attribute::AttributeValue>::from_value(v),
                        encode: |c| <#cmp as #krate::attribute::AttributeValue>::to_value(&c),
                        slot: |s| &mut s.#slot,
                        get: |s| &s.#slot,
                    };
            })
        })
        .collect();
    quote! {
        #[allow(dead_code)]
        impl #ident {
            #( #handles )*
        }
        #( #checks )*
    }
}
