//! Aggregates: the `Loaded` fields, the typed handles (`Post::COMMENT_COUNT`) and the
//! compile-time checks that need types (the field is an attribute of the related resource,
//! `sum`/`avg` take a numeric one, `default` has the aggregate's type), spanned at the
//! user's tokens.

use super::krate;
use crate::keys::name_key;
use crate::resource::aggregates::{AggKind, AggregateDef};
use crate::resource::ast::Resource;
use proc_macro2::{Literal, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;

/// `tokens` with each placeholder ident of `parts` replaced by its tokens.
fn substitute(tokens: TokenStream, parts: &[(&str, TokenStream)]) -> TokenStream {
    tokens
        .into_iter()
        .flat_map(|tt| match &tt {
            proc_macro2::TokenTree::Group(g) => {
                let mut group =
                    proc_macro2::Group::new(g.delimiter(), substitute(g.stream(), parts));
                group.set_span(g.span());
                proc_macro2::TokenTree::Group(group).into_token_stream()
            }
            proc_macro2::TokenTree::Ident(i) => parts
                .iter()
                .find(|(name, _)| i == name)
                .map_or_else(|| tt.clone().into_token_stream(), |(_, t)| t.clone()),
            _ => tt.into_token_stream(),
        })
        .collect()
}

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

/// The tokens of an aggregate's relationship path.
struct PathTokens {
    /// The path's handle (`Then(User::POSTS, Then(..))` for several relationships).
    value: TokenStream,
    /// Its type.
    ty: TokenStream,
    /// Where errors about the path's type are reported.
    span: proc_macro2::Span,
    /// The destination resource: its path for one relationship, else a type.
    dest: TokenStream,
    /// The destination's path as written, for one relationship (its attribute module).
    dest_path: Option<syn::Path>,
    /// Each relationship's static facts, first to last.
    infos: Vec<TokenStream>,
}

/// The path's tokens. The relationships after the first are named through
/// `HasRelationship` on the previous destination, every token at the user's name, so an
/// unknown one is one error there.
fn path_tokens(res: &Resource, agg: &AggregateDef, rel_index: usize) -> Option<PathTokens> {
    let krate = krate();
    let ident = res.ident();
    let first = agg.path.first()?;
    let rel = res.relationships.get(rel_index)?;
    let hr = quote!(#krate::relationship::HasRelationship);
    let k0 = key_of(first);
    let mut hops = vec![(
        quote!(<#ident as #hr<#k0>>::HANDLE),
        quote!(<#ident as #hr<#k0>>::Handle),
    )];
    let mut infos =
        vec![quote!(&<#ident as #krate::resource::Resource>::RELATIONSHIPS[#rel_index])];
    let first_dest = &rel.destination;
    let mut dest = quote!(#first_dest);
    for hop in &agg.path[1..] {
        let k = key_of(hop);
        let at = |t: TokenStream| respan(t, hop.span());
        let handle_ty = at(quote!(<#dest as #hr<#k>>::Handle));
        hops.push((at(quote!(<#dest as #hr<#k>>::HANDLE)), handle_ty.clone()));
        infos.push(at(quote!(<#dest as #hr<#k>>::INFO)));
        dest = at(quote!(<#dest as #hr<#k>>::Destination));
    }
    // `Then` at the second name (the first the compiler checks): a bound an unknown
    // name fails is reported there, as one error with the name's own.
    let span = agg.path.get(1).map_or(first.span(), |hop| hop.span());
    let (mut value, mut ty) = hops.pop()?;
    while let Some((v, t)) = hops.pop() {
        value = respan(quote!(#krate::aggregate::Then(#v, #value)), span);
        ty = respan(quote!(#krate::aggregate::Then<#t, #ty>), span);
    }
    Some(PathTokens {
        value,
        ty,
        span,
        dest,
        dest_path: (agg.path.len() == 1).then(|| first_dest.clone()),
        infos,
    })
}

/// The aggregated attribute's type on the destination, spanned at `field = ..`; and the
/// attribute (its `Field` variant).
fn field_tokens(path: &PathTokens, agg: &AggregateDef) -> Option<(TokenStream, TokenStream)> {
    let field = agg.field.as_ref()?;
    if let Some(dest) = &path.dest_path {
        let module = module_of(dest)?;
        return Some((
            quote_spanned!(field.span()=> #module::#field),
            quote_spanned!(field.span()=> #module::#field),
        ));
    }
    let krate = krate();
    let dest = &path.dest;
    let k = key_of(field);
    let hf = respan(
        quote!(<#dest as #krate::relationship::HasField<#k>>),
        field.span(),
    );
    Some((quote!(#hf::Type), quote!(#hf::FIELD)))
}

/// The aggregate's value type and the type it is compared with.
fn types(path: &PathTokens, agg: &AggregateDef) -> (TokenStream, TokenStream) {
    let krate = krate();
    let inner = field_tokens(path, agg)
        .map(|(ft, _)| quote!(<#ft as #krate::aggregate::AggregateField>::Inner))
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
            let path = path_tokens(res, agg, rel_index)?;
            let dest = &path.dest;
            let (ty_def, cmp_def) = types(&path, agg);
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
            // Through several relationships, the generated tokens that name the path's
            // types are at the path, so that an unknown name there is one error.
            let at_path = |t: TokenStream| {
                if agg.path.len() > 1 {
                    respan(t, path.span)
                } else {
                    t
                }
            };
            let (field_name, field) = match (&agg.field, field_tokens(&path, agg)) {
                (Some(f), Some((ft, fconst))) => {
                    let s = crate::name::unraw(f);
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
                        quote_spanned!(f.span()=> ::std::option::Option::Some(#fconst)),
                    )
                }
                _ => (
                    quote!(::std::option::Option::None),
                    at_path(quote!(::std::option::Option::None)),
                ),
            };
            let filter = match &agg.filter {
                Some(f) => quote_spanned!(f.span()=> || {
                    let filter: #krate::filter::Filter<#dest> = #f;
                    ::std::option::Option::Some(filter)
                }),
                None => at_path(quote!(|| ::std::option::Option::None)),
            };
            let sort = match &agg.sort {
                Some(syn::Expr::Array(items)) => {
                    let items = items.elems.iter();
                    let open = at_path(quote!(|| ::std::vec!));
                    quote!(#open [ #( #items ),* ])
                }
                Some(one) => {
                    let open = at_path(quote!(|| ::std::vec!));
                    quote!(#open [ #one ])
                }
                None => at_path(quote!(|| ::std::vec::Vec::new())),
            };
            let default = match &agg.default {
                Some(d) => quote_spanned!(d.span()=> || {
                    let value: #ty = #d;
                    #krate::attribute::AttributeValue::to_value(&value)
                }),
                None => at_path(quote!(|| #krate::value::Value::Null)),
            };
            let over = agg
                .path
                .iter()
                .map(crate::name::unraw)
                .collect::<Vec<_>>()
                .join(".");
            let doc = format!(
                "The `{name}` aggregate ({} over `{over}`), to load (`Query::new().load({ident}::{konst})`) and filter on (`{ident}::{konst}.gt(..)`).",
                agg.kind_ident
            );
            let path_ty = &path.ty;
            let path_value = &path.value;
            let infos = &path.infos;
            // Through several relationships, the whole item at the path (an unknown name
            // is then one error), the user's expressions keeping their own spans.
            let user = [
                ("__ash_field", field),
                ("__ash_filter", filter),
                ("__ash_sort", sort),
                ("__ash_default", default),
            ];
            let (field, filter, sort, default) = if agg.path.len() > 1 {
                let p = |n: &str| syn::Ident::new(n, path.span).into_token_stream();
                (p(user[0].0), p(user[1].0), p(user[2].0), p(user[3].0))
            } else {
                let [f, fi, so, de] = user.clone().map(|(_, t)| t);
                (f, fi, so, de)
            };
            let item = quote! {
                #[doc = #doc]
                pub const #konst: #krate::aggregate::Aggregate<#path_ty, #ty, #cmp> =
                    #krate::aggregate::Aggregate {
                        info: &#krate::aggregate::AggregateInfo {
                            name: #name,
                            kind: #krate::aggregate::AggregateKind::#variant,
                            relationship: &<#ident as #krate::resource::Resource>::RELATIONSHIPS[#rel_index],
                            path: &[ #( #infos ),* ],
                            field: #field_name,
                            uniq: #uniq,
                        },
                        path: #path_value,
                        field: #field,
                        filter: #filter,
                        sort: #sort,
                        default: #default,
                        decode: |v| <#ty as #krate::attribute::AttributeValue>::from_value(v),
                        value: |v| <#ty as #krate::attribute::AttributeValue>::to_value(v),
                        encode: |c| <#cmp as #krate::attribute::AttributeValue>::to_value(&c),
                        slot: |s| &mut s.#slot,
                        get: |s| &s.#slot,
                    };
            };
            if agg.path.len() > 1 {
                Some(substitute(at_path(item), &user))
            } else {
                Some(item)
            }
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
