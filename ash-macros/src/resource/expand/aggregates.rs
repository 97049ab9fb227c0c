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

/// `tokens` with every span set to `span`.
fn respan(tokens: TokenStream, span: proc_macro2::Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tt| {
            if let proc_macro2::TokenTree::Group(g) = &tt {
                let mut group = proc_macro2::Group::new(g.delimiter(), respan(g.stream(), span));
                group.set_span(span);
                tt = proc_macro2::TokenTree::Group(group);
            } else {
                tt.set_span(span);
            }
            tt
        })
        .collect()
}

fn key_of(name: &syn::Ident) -> Literal {
    Literal::u128_suffixed(name_key(&crate::name::unraw(name)))
}

/// The name of the module holding a resource's attribute types and fields.
fn module_name(ident: &syn::Ident) -> syn::Ident {
    quote::format_ident!("__ash_fields_{}", crate::name::unraw(ident))
}

/// `dest`'s module of attributes: the path of `dest` with its last segment replaced.
fn module_of(dest: &syn::Path) -> Option<syn::Path> {
    let mut path = dest.clone();
    let last = path.segments.last_mut()?;
    last.ident = module_name(&last.ident);
    last.arguments = syn::PathArguments::None;
    Some(path)
}

/// Beside every resource: a module with one type alias (the attribute's type) and one
/// constant (its `Field` variant) per attribute, under the attribute's name. An aggregate
/// names `Comment`'s attribute `score` as `__ash_fields_Comment::score`, so a name that is
/// not an attribute is one "cannot find" error at the user's token, and nothing else.
pub fn field_module(res: &Resource, names: &super::Names) -> TokenStream {
    let module = module_name(res.ident());
    let vis = &res.item.vis;
    let field = &names.field;
    let items = res.attributes.iter().map(|a| {
        let id = &a.ident;
        let ty = &a.ty;
        let v = &a.variant;
        quote! {
            pub type #id = #ty;
            pub const #id: super::#field = super::#field::#v;
        }
    });
    quote! {
        #[doc(hidden)]
        #[allow(non_camel_case_types, non_snake_case, non_upper_case_globals, unused_imports, dead_code, clippy::all)]
        #vis mod #module {
            use super::*;
            #( #items )*
        }
    }
}

/// The aggregated attribute's type on the related resource, spanned at `field = ..`.
fn field_type(res: &Resource, agg: &AggregateDef) -> Option<TokenStream> {
    let rel = res.relationship(agg.path.first()?)?;
    let module = module_of(&rel.destination)?;
    let field = agg.field.as_ref()?;
    Some(quote_spanned!(field.span()=> #module::#field))
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

/// The value type, through the aggregate's `AggregateValueType` impl.
fn value_type(res: &Resource, agg: &AggregateDef) -> TokenStream {
    let krate = krate();
    let ident = res.ident();
    let k = key_of(&agg.name);
    quote!(<#ident as #krate::aggregate::AggregateValueType<#k>>::Value)
}

/// The struct's fields for its aggregates.
pub fn fields(res: &Resource) -> Vec<syn::Field> {
    let krate = krate();
    res.aggregates
        .iter()
        .filter_map(|agg| {
            let ident = &agg.name;
            let ty = value_type(res, agg);
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
            let (ty_def, cmp_def) = types(res, agg);
            let ka = key_of(&agg.name);
            checks.push(quote! {
                impl #krate::aggregate::AggregateValueType<#ka> for #ident {
                    type Value = #ty_def;
                    type Compare = #cmp_def;
                }
            });
            let ty = quote!(<#ident as #krate::aggregate::AggregateValueType<#ka>>::Value);
            let cmp = quote!(<#ident as #krate::aggregate::AggregateValueType<#ka>>::Compare);
            let konst = &agg.konst;
            let name = &agg.name_str;
            let slot = &agg.name;
            let variant = syn::Ident::new(agg.kind.variant(), agg.kind_ident.span());
            let uniq = agg.uniq.is_some_and(|(u, _)| u);
            let (field_name, field) = match &agg.field {
                Some(f) => {
                    let module = module_of(dest)?;
                    let s = crate::name::unraw(f);
                    let ft = field_type(res, agg);
                    if matches!(agg.kind, AggKind::Sum | AggKind::Avg) {
                        // Every token at the field, so rustc reports the bound there.
                        let call = respan(
                            quote!(#krate::aggregate::assert_summable::<#ft>()),
                            f.span(),
                        );
                        checks.push(quote_spanned! {f.span()=> const _: () = #call; });
                    }
                    (
                        quote!(::std::option::Option::Some(#s)),
                        quote_spanned!(f.span()=> ::std::option::Option::Some(#module::#f)),
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
