//! One method on the domain per `define`, in Ash's positional order: the record
//! (update/destroy), then `get_by` keys, then `args`, then the input (only when the action
//! takes inputs the args do not cover).
//!
//! The domain may be in another module or crate than the resource, where the resource's
//! field types need not be in scope. A parameter shows the type as the resource writes it
//! when that path names the same type anywhere ([`portable`]: `impl Into<String>`, `i64`,
//! `crate::` paths through `$crate`); any other type is named through the resource
//! (`<Address as HasAttribute<2>>::Type`), as are action inputs (`<Address as
//! HasAction<2>>::Input`: `AddressUpdateInput` may not be in scope, and a path beside the
//! resource's may not exist when the resource is re-exported alone).

use super::ast::Define;
use crate::keys::{action_key, attribute_key, input_key};
use crate::name::unraw;
use crate::resource::ast::{Action, ActionKind, Resource};
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, Path, Type};

/// Where the interface is generated: the domain, the resource's path as the domain wrote
/// it, its slot in the domain's tables, and `$crate` of the resource's crate.
pub struct Site<'a> {
    pub domain: &'a Path,
    pub path: &'a Path,
    pub slot: &'a TokenStream,
    pub krate: &'a TokenStream,
}

/// What the domain needs of any resource it lists, even one whose shape the macro could
/// not use: its data layer in the domain value, and the check that it may be listed.
pub fn listing(site: &Site) -> TokenStream {
    let krate = quote!(::ash_rs);
    let Site {
        domain, path, slot, ..
    } = site;
    let check = quote_spanned! {path.span()=>
        const _: () = #krate::__private::assert_in_domain::<#path, #domain>();
    };
    quote! {
        impl #krate::domain::HasResource<#path> for #domain {
            #[inline]
            fn data_layer(&self) -> &<#path as #krate::resource::Resource>::DataLayer {
                &self.tables.#slot
            }
        }
        #check
    }
}

/// The methods of `defines`, each with whether it passed its checks. One that did not (its
/// error is reported) still gets a method with the parameters it names, so calls to it
/// report nothing more; its body never runs.
pub fn expand(res: &Resource, site: &Site, defines: &[(Define, bool)]) -> TokenStream {
    let domain = site.domain;
    let methods = defines.iter().filter_map(|(d, ok)| {
        let action = res.action(&d.action_name())?;
        Some(method(res, site, d, action, *ok))
    });
    quote! {
        impl #domain {
            #( #methods )*
        }
    }
}

/// The attribute's type as the resource writes it, when that names the same type wherever
/// the domain is (another module, another crate): primitives, `String`, `Vec`, `Option`
/// and `Box` of such, `Uuid`, `std::`/`core::`/`alloc::` paths, and `crate::` paths (through
/// the resource crate's `$crate`). `None` for a type that may only resolve in the
/// resource's module; the interface then names it through the resource.
pub fn portable(ty: &Type, krate: &TokenStream) -> Option<TokenStream> {
    match ty {
        Type::Group(g) => portable(&g.elem, krate),
        Type::Paren(p) => portable(&p.elem, krate),
        Type::Tuple(t) => {
            let elems = t
                .elems
                .iter()
                .map(|e| portable(e, krate))
                .collect::<Option<Vec<_>>>()?;
            Some(quote!(( #( #elems, )* )))
        }
        Type::Array(a) => {
            let elem = portable(&a.elem, krate)?;
            let syn::Expr::Lit(len) = &a.len else {
                return None;
            };
            Some(quote!([#elem; #len]))
        }
        Type::Path(p) if p.qself.is_none() => portable_path(&p.path, krate),
        _ => None,
    }
}

const PRIMITIVES: [&str; 17] = [
    "bool", "char", "str", "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64",
    "u128", "usize", "f32", "f64",
];
const ROOTS: [&str; 4] = ["std", "core", "alloc", "ash_rs"];

fn portable_path(path: &Path, krate: &TokenStream) -> Option<TokenStream> {
    let args = |segment: &syn::PathSegment| -> Option<(TokenStream, usize)> {
        match &segment.arguments {
            syn::PathArguments::None => Some((TokenStream::new(), 0)),
            syn::PathArguments::AngleBracketed(a) => {
                let types = a
                    .args
                    .iter()
                    .map(|arg| match arg {
                        syn::GenericArgument::Type(t) => portable(t, krate),
                        _ => None,
                    })
                    .collect::<Option<Vec<_>>>()?;
                Some((quote!(< #( #types ),* >), types.len()))
            }
            syn::PathArguments::Parenthesized(_) => None,
        }
    };
    let segments = |from: usize| -> Option<Vec<TokenStream>> {
        path.segments
            .iter()
            .skip(from)
            .map(|s| {
                let ident = &s.ident;
                let (args, _) = args(s)?;
                Some(quote!(#ident #args))
            })
            .collect()
    };
    let first = path.segments.first()?;
    let root = first.ident.to_string();
    if ROOTS.contains(&root.as_str()) && (path.leading_colon.is_some() || path.segments.len() > 1) {
        let segments = segments(0)?;
        return Some(quote!(:: #( #segments )::*));
    }
    if path.leading_colon.is_some() || path.segments.len() > 1 {
        if root == "crate" && path.leading_colon.is_none() {
            let segments = segments(1)?;
            return Some(quote!(#krate #( :: #segments )*));
        }
        return None;
    }
    let (generics, count) = args(first)?;
    Some(match (root.as_str(), count) {
        (p, 0) if PRIMITIVES.contains(&p) => {
            let ident = &first.ident;
            quote!(#ident)
        }
        ("String", 0) => quote!(::std::string::String),
        ("Uuid", 0) => quote!(::ash_rs::prelude::Uuid),
        ("Vec", 1) => quote!(::std::vec::Vec #generics),
        ("Option", 1) => quote!(::std::option::Option #generics),
        ("Box", 1) => quote!(::std::boxed::Box #generics),
        _ => return None,
    })
}

fn method(res: &Resource, site: &Site, define: &Define, action: &Action, ok: bool) -> TokenStream {
    let krate = quote!(::ash_rs);
    let path = site.path;
    let name = &define.name;
    let layer = quote! {
        <Self as #krate::domain::HasResource<#path>>::data_layer(self),
        <Self as #krate::domain::Domain>::context(self)
    };
    let action_k = action_key(res, action);
    let input_ty = quote!(<#path as #krate::__private::HasAction<#action_k>>::Input);
    // The type of an attribute, or `None` when there is no such attribute (an error).
    let attr_ty = |ident: &Ident| -> Option<TokenStream> {
        let attr = res.attribute(ident)?;
        let key = attribute_key(res, ident)?;
        Some(
            portable(&attr.ty, site.krate)
                .unwrap_or_else(|| quote!(<#path as #krate::__private::HasAttribute<#key>>::Type)),
        )
    };
    // The type of an input of the action: an accepted attribute or an argument.
    let input_of = |ident: &Ident| -> Option<TokenStream> {
        if action.accepts(ident) {
            return attr_ty(ident);
        }
        let argument = action.argument(ident)?;
        let key = input_key(res, action, ident)?;
        Some(
            portable(&argument.ty, site.krate)
                .unwrap_or_else(|| quote!(<#input_ty as #krate::__private::HasInput<#key>>::Type)),
        )
    };
    // A parameter converting into `ty`; one whose type is unknown takes anything (its
    // define reported an error and the method never runs).
    let param = |ident: &Ident, ty: Option<TokenStream>| match ty {
        Some(ty) => quote!(#ident: impl ::std::convert::Into<#ty>),
        None => quote!(#ident: impl ::std::marker::Sized),
    };

    let key_params: Vec<TokenStream> = define.get_by.iter().map(|k| param(k, attr_ty(k))).collect();
    let arg_params: Vec<TokenStream> = define.args.iter().map(|a| param(a, input_of(a))).collect();
    let arg_sets = define
        .args
        .iter()
        .filter(|a| input_of(a).is_some())
        .map(|a| {
            let field = action
                .argument(a)
                .map(|arg| &arg.ident)
                .or_else(|| res.attribute(a).map(|attr| &attr.ident))
                .unwrap_or(a);
            quote!(input.#field = ::std::option::Option::Some(::std::convert::Into::into(#a));)
        });
    let takes_input = action
        .accept
        .iter()
        .chain(action.arguments.iter().map(|a| &a.ident))
        .any(|a| !define.args.iter().any(|d| unraw(d) == unraw(a)));
    let (input_param, input_init) = if takes_input {
        (
            Some(quote!(input: #input_ty,)),
            quote!(let mut input = input;),
        )
    } else {
        (
            None,
            quote!(let mut input = <#input_ty as ::std::default::Default>::default();),
        )
    };
    let doc = doc(res, define, action, takes_input);
    let docs = &define.docs;
    // Every conversion happens when the method is called; the future it returns holds
    // only typed values, so a wrong argument is one error at the argument.
    let prepare_input = quote! { #input_init #( #arg_sets )* };
    let built_input = quote!({ #prepare_input input });
    let key_filter = key_filter(res, path, &define.get_by);
    // A named future type: an opaque `impl Future` would capture the `impl Into<_>`
    // parameters, and a wrong argument would be reported again at every `.await`.
    let fut = |ret: TokenStream| quote!(#krate::action::ActionFuture<'ash, ::std::result::Result<#ret, #krate::error::Error>>);
    // A define with errors: its signature, and a body that never runs.
    let never = (!ok).then(|| quote!({ ::std::unreachable!() }));
    let allow_never = (!ok).then(|| quote!(#[allow(unused_variables)]));
    let blank = (!docs.is_empty()).then(|| quote!(#[doc = ""]));
    let attrs = quote! {
        #( #docs )*
        #blank
        #[doc = #doc]
        #[allow(unused_mut)]
        #allow_never
        #[inline]
    };

    match action.kind {
        ActionKind::Create => {
            let ret = fut(quote!(#path));
            let body = never.unwrap_or_else(|| {
                quote!({
                    #prepare_input
                    #krate::api::create(self, input)
                })
            });
            quote! {
                #attrs
                pub fn #name<'ash>(&'ash self, #( #key_params, )* #( #arg_params, )* #input_param) -> #ret
                #body
            }
        }
        ActionKind::Update | ActionKind::Destroy => {
            let is_update = action.kind == ActionKind::Update;
            let ret = fut(if is_update { quote!(#path) } else { quote!(()) });
            let unit = (!is_update).then(|| quote!(.map(|result| result.map(|_| ()))));
            if define.get_by.is_empty() {
                let call = if is_update {
                    quote!(#krate::api::update(self, record, input))
                } else {
                    quote!(#krate::api::destroy(self, record, input))
                };
                let body = never.unwrap_or_else(|| {
                    quote!({
                        #prepare_input
                        #call #unit
                    })
                });
                quote! {
                    #attrs
                    pub fn #name<'ash>(&'ash self, record: &'ash #path, #( #arg_params, )* #input_param) -> #ret
                    #body
                }
            } else {
                let read = primary_read(res);
                let body = match (never, read) {
                    (Some(never), _) => never,
                    // No read action to find the record: an error of the define.
                    (None, None) => quote!({ ::std::unreachable!() }),
                    (None, Some(read)) => {
                        let read_key = action_key(res, read);
                        let read_ty =
                            quote!(<#path as #krate::__private::HasAction<#read_key>>::Input);
                        let by = if is_update {
                            quote!(#krate::action::update_by)
                        } else {
                            quote!(#krate::action::destroy_by)
                        };
                        quote!({
                            let filter = #key_filter;
                            #prepare_input
                            #by(
                                #layer,
                                ::std::option::Option::Some(self as &#krate::action::DomainRef),
                                <#read_ty as ::std::default::Default>::default(),
                                filter,
                                input,
                            ) #unit
                        })
                    }
                };
                quote! {
                    #attrs
                    pub fn #name<'ash>(&'ash self, #( #key_params, )* #( #arg_params, )* #input_param) -> #ret
                    #body
                }
            }
        }
        ActionKind::Read => {
            let (ret, body) = if define.is_get() || action.get {
                if let Some(key) = identity_key(res, path, &define.get_by) {
                    if define.not_found_error() {
                        (
                            quote!(#path),
                            quote! {
                                let key = #key;
                                #krate::action::get_by_identity(#layer, #built_input, key)
                            },
                        )
                    } else {
                        (
                            quote!(::std::option::Option<#path>),
                            quote! {
                                let key = #key;
                                #krate::action::read_one_by_identity(#layer, #built_input, key)
                            },
                        )
                    }
                } else if define.not_found_error() {
                    let call = if define.get_by.is_empty() {
                        quote!(#krate::action::get(#layer, #built_input, #krate::query::Query::<#path>::new()))
                    } else {
                        quote! {
                            let filter = #key_filter;
                            #krate::action::get_by(#layer, #built_input, filter)
                        }
                    };
                    (quote!(#path), call)
                } else {
                    let key_filters = key_filters(res, path, &define.get_by);
                    (
                        quote!(::std::option::Option<#path>),
                        quote! {
                            let query = #krate::query::Query::<#path>::new() #( .filter(#key_filters) )*;
                            #krate::action::read_one(#layer, #built_input, query)
                        },
                    )
                }
            } else if action.pagination.is_some() {
                let ret = quote!(#krate::query::Page<#path>);
                let ret = fut(ret);
                let body = never.unwrap_or_else(|| {
                    with_loads(res, path, define, quote!({
                        #krate::action::read_page(#layer, #built_input, #krate::query::Query::new(), page)
                    }))
                });
                return quote! {
                    #attrs
                    pub fn #name<'ash>(
                        &'ash self,
                        #( #key_params, )*
                        #( #arg_params, )*
                        #input_param
                        page: #krate::query::PageRequest<#path>,
                    ) -> #ret
                    #body
                };
            } else {
                (
                    quote!(::std::vec::Vec<#path>),
                    quote!(#krate::action::read(#layer, #built_input, #krate::query::Query::new())),
                )
            };
            let ret = fut(ret);
            let body = never.unwrap_or_else(|| with_loads(res, path, define, quote!({ #body })));
            quote! {
                #attrs
                pub fn #name<'ash>(&'ash self, #( #key_params, )* #( #arg_params, )* #input_param) -> #ret
                #body
            }
        }
    }
}

/// `body` (a block giving the read's future), followed by the define's `load = [...]`
/// on what it returns: one load operation per relationship, after the read.
fn with_loads(res: &Resource, path: &Path, define: &Define, body: TokenStream) -> TokenStream {
    let krate = quote!(::ash_rs);
    let Some((_, names)) = &define.load else {
        return body;
    };
    let handles = names.iter().filter_map(|n| {
        let konst = super::check::load_handle(res, n)?;
        Some(quote!(.load(<#path>::#konst)))
    });
    quote!({
        let loads = #krate::query::Query::<#path>::new() #( #handles )*;
        #krate::relationship::with_loads(self, #body, loads)
    })
}

/// The identity whose attributes are exactly `keys` (in any order), if there is one.
fn identity_of<'r>(
    res: &'r Resource,
    keys: &[Ident],
) -> Option<&'r crate::resource::ast::IdentityDef> {
    if keys.is_empty() {
        return None;
    }
    let mut wanted: Vec<String> = keys.iter().map(unraw).collect();
    wanted.sort();
    res.identities.iter().find(|id| {
        let mut fields: Vec<String> = id.fields.iter().map(unraw).collect();
        fields.sort();
        fields == wanted
    })
}

/// The identity value built from the parameters named like its attributes, when `keys`
/// are exactly an identity's attributes: a `get_by` on it is a lookup in its index.
fn identity_key(res: &Resource, path: &Path, keys: &[Ident]) -> Option<TokenStream> {
    let krate = quote!(::ash_rs);
    let identity = identity_of(res, keys)?;
    let variant = &identity.variant;
    let values = identity.fields.iter().map(|field| {
        // The parameter as the define spells it.
        let param = keys
            .iter()
            .find(|k| unraw(k) == unraw(field))
            .unwrap_or(field);
        quote!(::std::convert::Into::into(#param))
    });
    Some(quote! {
        <#path as #krate::resource::Resource>::IdentityKey::#variant( #( #values ),* )
    })
}

/// The conjunction of the keys' equalities, `()` when there are no keys.
fn key_filter(res: &Resource, path: &Path, keys: &[Ident]) -> TokenStream {
    let filters = key_filters(res, path, keys);
    match filters.split_first() {
        Some((first, rest)) => quote!(#first #( .and(#rest) )*),
        None => quote!(()),
    }
}

/// `key == value` for each key, the value taken from the parameter of the same name.
fn key_filters(res: &Resource, path: &Path, keys: &[Ident]) -> Vec<TokenStream> {
    let krate = quote!(::ash_rs);
    keys.iter()
        .filter_map(|k| {
            let variant = &res.attribute(k)?.variant;
            Some(quote! {
                #krate::filter::Filter::<#path>::eq(
                    <#path as #krate::resource::Resource>::Value::#variant(::std::convert::Into::into(#k)),
                )
            })
        })
        .collect()
}

fn primary_read(res: &Resource) -> Option<&Action> {
    let mut reads = res.actions.iter().filter(|a| a.kind == ActionKind::Read);
    let first = reads.clone().next();
    reads
        .find(|a| crate::resource::is_primary(res, a))
        .or(first)
}

fn doc(res: &Resource, define: &Define, action: &Action, takes_input: bool) -> String {
    let mut doc = format!(
        "Runs the `{}` {} action of `{}`.",
        action.name_str,
        action.kind.name(),
        res.ident()
    );
    if !define.get_by.is_empty() {
        let keys: Vec<String> = define
            .get_by
            .iter()
            .map(|k| format!("`{}`", unraw(k)))
            .collect();
        doc.push_str(&format!(" Finds the record by {}.", keys.join(", ")));
    }
    if takes_input {
        doc.push_str(&format!(" `input` is an `{}`.", action.input));
    }
    doc
}
