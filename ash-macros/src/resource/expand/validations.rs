//! Builtin validations, built with a typed accessor for what they check.

use super::krate;
use crate::resource::ast::*;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::Ident;

/// A `fn(&Changeset) -> Option<&T>` reading `name`: the argument of `action`, or the
/// attribute (its change if set, else the record's value).
pub fn getter(res: &Resource, action: Option<&Action>, name: &Ident) -> TokenStream {
    let krate = krate();
    let ident = res.ident();
    match res.resolve(action, name) {
        Some(Target::Argument(arg)) => {
            let ty = &arg.ty;
            let field = &arg.ident;
            let input = action.map(|a| &a.input);
            quote! {{
                fn get<'c, 'a>(changeset: &'c #krate::changeset::Changeset<'a, #ident>) -> ::std::option::Option<&'c #ty> {
                    changeset.arguments::<#input>().and_then(|input| input.#field.as_ref())
                }
                get
            }}
        }
        Some(Target::Attribute(attr)) => {
            let ty = &attr.ty;
            let field = &attr.ident;
            quote! {{
                fn get<'c, 'a>(changeset: &'c #krate::changeset::Changeset<'a, #ident>) -> ::std::option::Option<&'c #ty> {
                    match &changeset.changes().#field {
                        ::std::option::Option::Some(value) => ::std::option::Option::Some(value),
                        ::std::option::Option::None => changeset.data().map(|record| &record.#field),
                    }
                }
                get
            }}
        }
        None => quote!(::std::compile_error!("unknown field")),
    }
}

fn target(
    res: &Resource,
    action: Option<&Action>,
    name: &Ident,
    message: Option<&syn::LitStr>,
) -> Option<(TokenStream, TokenStream)> {
    let krate = krate();
    let resolved = res.resolve(action, name)?;
    let ty = resolved.ty().clone();
    let input = match resolved {
        Target::Argument(_) => quote!(#krate::error::InputType::Argument),
        Target::Attribute(_) => quote!(#krate::error::InputType::Attribute),
    };
    let field = crate::name::unraw(name);
    let get = getter(res, action, name);
    let message = match message {
        Some(m) => quote!(::std::option::Option::Some(#m)),
        None => quote!(::std::option::Option::None),
    };
    Some((
        quote! {
            #krate::validation::builtins::Target {
                field: #field,
                input: #input,
                get: #get,
                message: #message,
            }
        },
        quote!(#ty),
    ))
}

/// A `static` holding `expr` converted into `ty`, built once: builtin parameters cost
/// nothing per call.
fn once(ty: &TokenStream, expr: &syn::Expr) -> TokenStream {
    let value = super::convert(ty, quote!(#expr), expr.span());
    quote! {{
        static VALUE: ::std::sync::LazyLock<#ty> = ::std::sync::LazyLock::new(|| #value);
        &*VALUE
    }}
}

/// The expression building a builtin validation (or the user's expression).
pub fn validation(
    res: &Resource,
    action: Option<&Action>,
    kind: &ValidationKind,
    message: Option<&syn::LitStr>,
) -> Option<TokenStream> {
    let krate = krate();
    let b = quote!(#krate::validation::builtins);
    Some(match kind {
        ValidationKind::Present(fields) => {
            let (target, _) = target(res, action, fields.first()?, message)?;
            quote!(#b::Present(#target))
        }
        ValidationKind::Absent(fields) => {
            let (target, _) = target(res, action, fields.first()?, message)?;
            quote!(#b::Absent(#target))
        }
        ValidationKind::Compare { field, bounds } => {
            let (target, ty) = target(res, action, field, message)?;
            let (op, bound) = bounds.first()?;
            let op = match op.to_string().as_str() {
                "greater_than" => quote!(Gt),
                "greater_than_or_equal_to" => quote!(Gte),
                "less_than" => quote!(Lt),
                _ => quote!(Lte),
            };
            let bound = once(&ty, bound);
            quote!(#b::Compare { target: #target, op: #krate::filter::CmpOp::#op, bound: #bound })
        }
        ValidationKind::OneOf { field, values } => {
            let (target, ty) = target(res, action, field, message)?;
            let values = quote_spanned! {values.span()=>
                ::std::iter::IntoIterator::into_iter(#values)
                    .map(|value| -> #ty { ::std::convert::Into::into(value) })
                    .collect::<::std::vec::Vec<#ty>>()
            };
            quote! {
                #b::OneOf {
                    target: #target,
                    values: {
                        static VALUES: ::std::sync::LazyLock<::std::vec::Vec<#ty>> =
                            ::std::sync::LazyLock::new(|| #values);
                        ::std::vec::Vec::as_slice(&*VALUES)
                    },
                }
            }
        }
        ValidationKind::StringLength {
            field,
            min,
            max,
            exact,
        } => {
            let (target, _) = target(res, action, field, message)?;
            let limit = |e: &Option<syn::Expr>| match e {
                Some(e) => {
                    quote_spanned!(e.span()=> ::std::option::Option::Some({ let n: usize = #e; n }))
                }
                None => quote!(::std::option::Option::None),
            };
            let (min, max, exact) = (limit(min), limit(max), limit(exact));
            quote!(#b::StringLength { target: #target, min: #min, max: #max, exact: #exact })
        }
        ValidationKind::Match { field, pattern } => {
            let (target, _) = target(res, action, field, message)?;
            quote! {
                #b::Match {
                    target: #target,
                    regex: {
                        static REGEX: ::std::sync::LazyLock<
                            ::std::result::Result<#krate::__private::regex::Regex, #krate::__private::regex::Error>,
                        > = ::std::sync::LazyLock::new(|| #krate::__private::regex::Regex::new(#pattern));
                        &REGEX
                    },
                }
            }
        }
        ValidationKind::AttributeEquals { field, value } => {
            let (target, ty) = target(res, action, field, message)?;
            let value = once(&ty, value);
            quote!(#b::AttributeEquals { target: #target, value: #value })
        }
        ValidationKind::Changing(field) => {
            let attr = res.attribute(field)?;
            let ty = &attr.ty;
            let ident = res.ident();
            let name = &attr.name;
            let field = &attr.ident;
            let message = match message {
                Some(m) => quote!(::std::option::Option::Some(#m)),
                None => quote!(::std::option::Option::None),
            };
            quote! {
                #b::Changing {
                    target: #b::Target {
                        field: #name,
                        input: #krate::error::InputType::Attribute,
                        get: {
                            fn get<'c, 'a>(changeset: &'c #krate::changeset::Changeset<'a, #ident>) -> ::std::option::Option<&'c #ty> {
                                changeset.changes().#field.as_ref()
                            }
                            get
                        },
                        message: #message,
                    },
                    original: {
                        fn original(record: &#ident) -> &#ty {
                            &record.#field
                        }
                        original
                    },
                }
            }
        }
        ValidationKind::Confirm {
            field,
            confirmation,
        } => {
            let (value, _) = target(res, action, field, None)?;
            let (confirmation, _) = target(res, action, confirmation, message)?;
            quote!(#b::Confirm { target: #value, confirmation: #confirmation })
        }
        ValidationKind::Custom(expr) => quote_spanned!(expr.span()=> (#expr)),
    })
}
