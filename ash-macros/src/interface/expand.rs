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
    let doc = doc(res, define, action);
    // Every conversion happens when the method is called; the future it returns holds
    // only typed values, so a wrong argument is one error at the argument.
    let prepare_input = quote! { #input_init #( #arg_sets )* };
    let built_input = quote!({ #prepare_input input });
    let key_filter = key_filter(path, &define.get_by);
    // A named future type: an opaque `impl Future` would capture the `impl Into<_>`
    // parameters, and a wrong argument would be reported again at every `.await`.
    let fut = |ret: TokenStream| quote!(#krate::action::ActionFuture<'ash, ::std::result::Result<#ret, #krate::error::Error>>);
    let attrs = quote! {
        #[doc = #doc]
        #[allow(unused_mut)]
        #[inline]
    };

    match action.kind {
        ActionKind::Create => {
            let ret = fut(quote!(#path));
            quote! {
                #attrs
                pub fn #name<'ash>(&'ash self, #( #arg_params, )* #input_param) -> #ret {
                    #prepare_input
                    #krate::api::create(self, input)
                }
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
                quote! {
                    #attrs
                    pub fn #name<'ash>(&'ash self, record: &'ash #path, #( #arg_params, )* #input_param) -> #ret {
                        #prepare_input
                        #call #unit
                    }
                }
            } else {
                let Some(read) = primary_read(res) else {
                    return quote!(::std::compile_error!("`get_by` needs a read action"););
                };
                let read_key = key_lit(&read.name.to_string());
                let read_ty = quote!(<#path as #krate::__private::HasAction<#read_key>>::Input);
                let by = if is_update {
                    quote!(#krate::action::update_by)
                } else {
                    quote!(#krate::action::destroy_by)
                };
                quote! {
                    #attrs
                    pub fn #name<'ash>(&'ash self, #( #key_params, )* #( #arg_params, )* #input_param) -> #ret {
                        let filter = #key_filter;
                        #prepare_input
                        #by(
                            #layer,
                            ::std::option::Option::Some(self as &#krate::action::DomainRef),
                            <#read_ty as ::std::default::Default>::default(),
                            filter,
                            input,
                        ) #unit
                    }
                }
            }
        }
        ActionKind::Read => {
            let (ret, body) = if define.is_get() || action.get {
                if define.not_found_error() {
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
                    let key_filters = key_filters(path, &define.get_by);
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
                return quote! {
                    #attrs
                    pub fn #name<'ash>(
                        &'ash self,
                        #( #arg_params, )*
                        #input_param
                        page: #krate::query::PageRequest<#path>,
                    ) -> #ret {
                        #krate::action::read_page(#layer, #built_input, #krate::query::Query::new(), page)
                    }
                };
            } else {
                (
                    quote!(::std::vec::Vec<#path>),
                    quote!(#krate::action::read(#layer, #built_input, #krate::query::Query::new())),
                )
            };
            let ret = fut(ret);
            quote! {
                #attrs
                pub fn #name<'ash>(&'ash self, #( #key_params, )* #( #arg_params, )* #input_param) -> #ret {
                    #body
                }
            }
        }
    }
}

/// The conjunction of the keys' equalities, `()` when there are no keys.
fn key_filter(path: &Path, keys: &[Ident]) -> TokenStream {
    let filters = key_filters(path, keys);
    match filters.split_first() {
        Some((first, rest)) => quote!(#first #( .and(#rest) )*),
        None => quote!(()),
    }
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
