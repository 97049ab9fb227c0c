//! One method on the domain per `define`, in Ash's positional order: the record
//! (update/destroy), then `get_by` keys, then `args`, then the input (only when the action
//! takes inputs the args do not cover).
//!
//! Types are named through the resource (`<Address as HasAttribute<K>>::Type`), because
//! the resource's field types need not be in scope where the domain is.

use super::ast::Define;
use crate::keys::key_lit;
use crate::resource::ast::{Action, ActionKind, Resource};
use proc_macro2::TokenStream;
use quote::quote;
use syn::{Ident, Path};

pub fn expand(res: &Resource, domain: &Path, path: &Path, defines: &[Define]) -> TokenStream {
    let methods = defines.iter().filter_map(|d| {
        let action = res.action(&d.action_ident().to_string())?;
        Some(method(res, path, d, action))
    });
    quote! {
        impl #domain {
            #( #methods )*
        }
    }
}

fn method(res: &Resource, path: &Path, define: &Define, action: &Action) -> TokenStream {
    let krate = quote!(::ash_rs);
    let name = &define.name;
    let layer = quote! {
        <Self as #krate::domain::HasResource<#path>>::data_layer(self),
        <Self as #krate::domain::Domain>::context(self)
    };
    let action_key = key_lit(&action.name.to_string());
    let input_ty = quote!(<#path as #krate::__private::HasAction<#action_key>>::Input);
    let attr_ty = |ident: &Ident| {
        let key = key_lit(&ident.to_string());
        quote!(<#path as #krate::__private::HasAttribute<#key>>::Type)
    };

    let key_params: Vec<TokenStream> = define
        .get_by
        .iter()
        .map(|k| {
            let ty = attr_ty(k);
            quote!(#k: impl ::std::convert::Into<#ty>)
        })
        .collect();
    let arg_params: Vec<TokenStream> = define
        .args
        .iter()
        .map(|a| {
            let key = key_lit(&a.to_string());
            let ty = quote!(<#input_ty as #krate::__private::HasInput<#key>>::Type);
            quote!(#a: impl ::std::convert::Into<#ty>)
        })
        .collect();
    let arg_sets = define
        .args
        .iter()
        .map(|a| quote!(input.#a = ::std::option::Option::Some(::std::convert::Into::into(#a));));
    let takes_input = action
        .accept
        .iter()
        .chain(action.arguments.iter().map(|a| &a.ident))
        .any(|a| !define.args.contains(a));
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
    let key_filter = key_query(path, &define.get_by);
    let doc = doc(res, define, action);

    match action.kind {
        ActionKind::Create => quote! {
            #[doc = #doc]
            #[allow(unused_mut)]
            #[inline]
            pub async fn #name(&self, #( #arg_params, )* #input_param) -> ::std::result::Result<#path, #krate::error::Error> {
                #input_init
                #( #arg_sets )*
                #krate::api::create(self, input).await
            }
        },
        ActionKind::Update | ActionKind::Destroy => {
            let run = if action.kind == ActionKind::Update {
                quote!(#krate::api::update(self, record, input).await)
            } else {
                quote!(#krate::api::destroy(self, record, input).await.map(|_| ()))
            };
            let ret = if action.kind == ActionKind::Update {
                quote!(#path)
            } else {
                quote!(())
            };
            if define.get_by.is_empty() {
                quote! {
                    #[doc = #doc]
                    #[allow(unused_mut)]
                    #[inline]
                    pub async fn #name(&self, record: &#path, #( #arg_params, )* #input_param) -> ::std::result::Result<#ret, #krate::error::Error> {
                        #input_init
                        #( #arg_sets )*
                        #run
                    }
                }
            } else {
                let Some(read) = primary_read(res) else {
                    return quote!(::std::compile_error!("`get_by` needs a read action"););
                };
                let read_key = key_lit(&read.name.to_string());
                let read_ty = quote!(<#path as #krate::__private::HasAction<#read_key>>::Input);
                let find = get_call(
                    path,
                    &layer,
                    &define.get_by,
                    quote!(<#read_ty as ::std::default::Default>::default()),
                );
                quote! {
                    #[doc = #doc]
                    #[allow(unused_mut)]
                    #[inline]
                    pub async fn #name(&self, #( #key_params, )* #( #arg_params, )* #input_param) -> ::std::result::Result<#ret, #krate::error::Error> {
                        let found = #find.await?;
                        let record = &found;
                        #input_init
                        #( #arg_sets )*
                        #run
                    }
                }
            }
        }
        ActionKind::Read => {
            let input = quote!({
                #input_init
                #( #arg_sets )*
                input
            });
            if define.is_get() || action.get {
                let (ret, run) = if define.not_found_error() {
                    (quote!(#path), {
                        let call = get_call(path, &layer, &define.get_by, input);
                        quote!(#call.await)
                    })
                } else {
                    (
                        quote!(::std::option::Option<#path>),
                        quote!(#krate::action::read_one(#layer, #input, #key_filter).await),
                    )
                };
                quote! {
                    #[doc = #doc]
                    #[allow(unused_mut)]
                    #[inline]
                    pub async fn #name(&self, #( #key_params, )* #( #arg_params, )* #input_param) -> ::std::result::Result<#ret, #krate::error::Error> {
                        #run
                    }
                }
            } else if action.pagination.is_some() {
                quote! {
                    #[doc = #doc]
                    #[allow(unused_mut)]
                    #[inline]
                    pub async fn #name(
                        &self,
                        #( #arg_params, )*
                        #input_param
                        page: #krate::query::PageRequest<#path>,
                    ) -> ::std::result::Result<#krate::query::Page<#path>, #krate::error::Error> {
                        #krate::action::read_page(#layer, #input, #krate::query::Query::new(), page).await
                    }
                }
            } else {
                quote! {
                    #[doc = #doc]
                    #[allow(unused_mut)]
                    #[inline]
                    pub async fn #name(&self, #( #arg_params, )* #input_param) -> ::std::result::Result<::std::vec::Vec<#path>, #krate::error::Error> {
                        #krate::action::read(#layer, #input, #krate::query::Query::new()).await
                    }
                }
            }
        }
    }
}

/// The get of a `define`: `get_by` with the keys' filter (no query built), or `get` with an
/// empty query when there are no keys.
fn get_call(path: &Path, layer: &TokenStream, keys: &[Ident], input: TokenStream) -> TokenStream {
    let krate = quote!(::ash_rs);
    let filters = key_filters(path, keys);
    match filters.split_first() {
        Some((first, rest)) => {
            quote!(#krate::action::get_by(#layer, #input, #first #( .and(#rest) )*))
        }
        None => quote!(#krate::action::get(#layer, #input, #krate::query::Query::<#path>::new())),
    }
}

/// `Query::new().filter(key1 == v1).filter(key2 == v2)`.
fn key_query(path: &Path, keys: &[Ident]) -> TokenStream {
    let filters = key_filters(path, keys);
    quote!(::ash_rs::query::Query::<#path>::new() #( .filter(#filters) )*)
}

/// `key == value` for each key, the value taken from the parameter of the same name.
fn key_filters(path: &Path, keys: &[Ident]) -> Vec<TokenStream> {
    let krate = quote!(::ash_rs);
    keys.iter()
        .map(|k| {
            let key = key_lit(&k.to_string());
            quote! {
                #krate::filter::Filter::eq(
                    <#path as #krate::__private::HasAttribute<#key>>::value(::std::convert::Into::into(#k)),
                )
            }
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

fn doc(res: &Resource, define: &Define, action: &Action) -> String {
    let mut doc = format!(
        "Runs the `{}` {} action of `{}`.",
        action.name,
        action.kind.name(),
        res.ident()
    );
    if !define.get_by.is_empty() {
        let keys: Vec<String> = define.get_by.iter().map(|k| format!("`{k}`")).collect();
        doc.push_str(&format!(" Finds the record by {}.", keys.join(", ")));
    }
    doc
}
