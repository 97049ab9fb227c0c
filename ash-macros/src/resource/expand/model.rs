//! The `Resource` impl and the typed `Field`, `Value` and `Changes` types.

use super::{krate, Names};
use crate::resource::ast::{Resource, Timestamp};
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

pub fn expand(res: &Resource, names: &Names) -> TokenStream {
    let krate = krate();
    let ident = res.ident();
    let vis = &res.item.vis;
    let Names {
        field,
        value,
        changes,
    } = names;
    let name = crate::name::unraw(ident);

    let attrs = &res.attributes;
    let idents: Vec<_> = attrs.iter().map(|a| &a.ident).collect();
    let tys: Vec<_> = attrs.iter().map(|a| &a.ty).collect();
    let variants: Vec<_> = attrs.iter().map(|a| &a.variant).collect();
    let strs: Vec<&str> = attrs.iter().map(|a| a.name.as_str()).collect();
    // `<T as AttributeValue>` spanned at the field's type: an unsupported type is reported
    // once, at the field.
    let as_attr: Vec<TokenStream> = attrs
        .iter()
        .map(|a| {
            let ty = &a.ty;
            quote_spanned!(ty.span()=> <#ty as #krate::attribute::AttributeValue>)
        })
        .collect();

    let Some(first) = attrs.first() else {
        return TokenStream::new();
    };
    // Without a primary key (an error reported already), `()` stands in for it so that
    // everything else still compiles and adds no error.
    let (pk_ty, pk_variant, pk_fns) = match res.primary_key() {
        Some(pk) => {
            let pk_ident = &pk.ident;
            let pk_ty = &pk.ty;
            let pk_variant = &pk.variant;
            let fns = quote! {
                #[inline]
                fn primary_key(&self) -> &#pk_ty {
                    &self.#pk_ident
                }

                #[inline]
                fn primary_key_value(key: &#pk_ty) -> #value {
                    #value::#pk_variant(::std::clone::Clone::clone(key))
                }

                #[inline]
                fn primary_key_of(value: &#value) -> ::std::option::Option<&#pk_ty> {
                    #[allow(unreachable_patterns)]
                    match value {
                        #value::#pk_variant(key) => ::std::option::Option::Some(key),
                        _ => ::std::option::Option::None,
                    }
                }
            };
            (quote!(#pk_ty), pk_variant, fns)
        }
        None => {
            let fns = quote! {
                fn primary_key(&self) -> &() {
                    &()
                }
                fn primary_key_value(_: &()) -> #value {
                    ::std::unreachable!()
                }
                fn primary_key_of(_: &#value) -> ::std::option::Option<&()> {
                    ::std::option::Option::None
                }
            };
            (quote!(()), &first.variant, fns)
        }
    };

    let infos = attrs.iter().map(|a| {
        let n = &a.name;
        let primary_key = a.primary_key.is_some();
        let allow_nil = a.nilable;
        let writable = a.writable;
        let has_default = a.default.is_some() || a.uuid_primary_key || a.timestamp.is_some();
        let ty = &a.ty;
        let kind = quote_spanned!(ty.span()=> <#ty as #krate::attribute::AttributeValue>::KIND);
        quote! {
            #krate::attribute::AttributeInfo {
                name: #n, primary_key: #primary_key, allow_nil: #allow_nil,
                writable: #writable, has_default: #has_default, kind: #kind,
            }
        }
    });

    let counters = counter_fields(res);
    let atomic_arms = counters.iter().filter_map(|(attr_ident, lock_span)| {
        let attr = res.attribute(attr_ident)?;
        let variant = &attr.variant;
        let n = &attr.name;
        // Spanned at the `optimistic_lock(version)` token: a non-integer version is
        // reported there, once.
        let add = quote_spanned! {*lock_span=>
            #krate::attribute::Counter::checked_add_i64(self.#attr_ident, by)
        };
        Some(quote! {
            (#field::#variant, #krate::data_layer::AtomicExpr::Add(by)) => {
                match #add {
                    ::std::option::Option::Some(v) => ::std::result::Result::Ok(#value::#variant(v)),
                    ::std::option::Option::None => ::std::result::Result::Err(
                        #krate::error::ErrorKind::Overflow(#krate::error::Overflow {
                            field: ::std::string::String::from(#n),
                            value: #krate::attribute::AttributeValue::to_value(&self.#attr_ident),
                            by,
                        }),
                    ),
                }
            }
        })
    });

    let create_defaults = attrs.iter().filter_map(|a| {
        let id = &a.ident;
        let ty = &a.ty;
        let default = if let Some(expr) = &a.default {
            quote_spanned!(expr.span()=> #expr)
        } else if a.uuid_primary_key {
            quote_spanned!(ty.span()=> #krate::__private::uuid::Uuid::new_v4())
        } else if a.timestamp.is_some() {
            quote_spanned!(ty.span()=> <#ty as #krate::attribute::Timestamp>::now())
        } else {
            return None;
        };
        Some(quote! {
            if changes.#id.is_none() {
                changes.#id = ::std::option::Option::Some(#default);
            }
        })
    });
    let update_defaults = attrs
        .iter()
        .filter(|a| a.timestamp == Some(Timestamp::Update))
        .map(|a| {
            let id = &a.ident;
            let ty = &a.ty;
            let now = quote_spanned!(ty.span()=> <#ty as #krate::attribute::Timestamp>::now());
            quote! {
                if changes.#id.is_none() {
                    changes.#id = ::std::option::Option::Some(#now);
                }
            }
        });

    let required: Vec<_> = attrs.iter().filter(|a| !a.nilable).collect();
    let required_idents: Vec<_> = required.iter().map(|a| &a.ident).collect();
    // Fresh names for the taken values: an attribute may be called `changes`.
    let required_vars: Vec<_> = (0..required.len())
        .map(|i| quote::format_ident!("__ash_required_{}", i))
        .collect();
    let required_checks = required.iter().zip(&required_vars).map(|(a, var)| {
        let n = &a.name;
        quote! {
            if #var.is_none() {
                __ash_missing.push(#krate::__private::required_attribute(#n, #name));
            }
        }
    });
    let nilable_idents: Vec<_> = attrs
        .iter()
        .filter(|a| a.nilable)
        .map(|a| &a.ident)
        .collect();

    let data_layer = match &res.data_layer {
        Some(dl) => {
            let path = &dl.path;
            quote!(#path)
        }
        None => quote!(#krate::ets::Ets),
    };
    let layer_options = res
        .data_layer
        .iter()
        .flat_map(|dl| dl.options.iter())
        .map(|(k, v)| {
            let k = crate::name::unraw(k);
            quote!((#k, #v))
        });
    let identity_items = super::identities::resource_items(res, names);
    let relationship_items = super::relationships::resource_items(res, names);
    let rel_idents: Vec<_> = res
        .relationships
        .iter()
        .map(|r| &r.name)
        .chain(res.aggregates.iter().map(|a| &a.name))
        .collect();
    let policy_items = super::policies::resource_items(res);
    let doc_field = format!("The attributes of [`{name}`].");
    let doc_value = format!("A typed value of one attribute of [`{name}`].");
    let doc_changes = format!("Attribute writes to a [`{name}`]: `Some` for each attribute set.");

    quote! {
        #[doc = #doc_field]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #vis enum #field {
            #( #[doc = #strs] #variants, )*
        }

        #[doc = #doc_value]
        #[derive(Debug, Clone, PartialEq)]
        // A word-sized tag keeps every payload word-aligned: a `Uuid` (alignment 1) would
        // otherwise sit at offset 1, and moving a filter holding one costs store-forwarding
        // stalls (a get through a read action was 1.5x slower in wall-clock time).
        #[repr(u64)]
        #vis enum #value {
            #( #[doc = #strs] #variants(#tys), )*
        }

        #[doc = #doc_changes]
        #[derive(Debug, Default)]
        #vis struct #changes {
            #( #[doc = #strs] pub #idents: ::std::option::Option<#tys>, )*
        }


        impl #krate::resource::Resource for #ident {
            const NAME: &'static str = #name;
            const ATTRIBUTES: &'static [#krate::attribute::AttributeInfo] = &[ #( #infos ),* ];
            const PRIMARY_KEY: #field = #field::#pk_variant;
            const DATA_LAYER_OPTIONS: &'static [(&'static str, &'static str)] = &[ #( #layer_options ),* ];

            type PrimaryKey = #pk_ty;
            type Field = #field;
            type Value = #value;
            type Changes = #changes;
            type DataLayer = <#data_layer as #krate::data_layer::DataLayerKind>::Layer<Self>;

            #pk_fns

            #identity_items
            #relationship_items
            #policy_items

            fn field_name(field: #field) -> &'static str {
                match field { #( #field::#variants => #strs, )* }
            }

            fn value_field(value: &#value) -> #field {
                match value { #( #value::#variants(_) => #field::#variants, )* }
            }

            fn value_to_dynamic(value: &#value) -> #krate::value::Value {
                match value {
                    #( #value::#variants(v) => #as_attr::to_value(v), )*
                }
            }

            #[inline]
            fn get(&self, field: #field) -> #value {
                match field {
                    #( #field::#variants => #value::#variants(::std::clone::Clone::clone(&self.#idents)), )*
                }
            }

            #[inline]
            fn set(&mut self, value: #value) {
                match value { #( #value::#variants(v) => self.#idents = v, )* }
            }

            #[inline]
            fn compare(&self, value: &#value) -> ::std::option::Option<::std::cmp::Ordering> {
                match value {
                    #( #value::#variants(v) => #as_attr::compare(&self.#idents, v), )*
                }
            }

            #[inline]
            fn is_nil(&self, field: #field) -> bool {
                match field {
                    #( #field::#variants => #as_attr::is_nil(&self.#idents), )*
                }
            }

            // Always: an optimistic lock's compare runs on every locked write.
            #[inline(always)]
            fn equals(&self, value: &#value) -> bool {
                match value {
                    #( #value::#variants(v) => #as_attr::equals(&self.#idents, v), )*
                }
            }

            #[inline]
            fn compare_field(&self, other: &Self, field: #field) -> ::std::option::Option<::std::cmp::Ordering> {
                match field {
                    #( #field::#variants => #as_attr::compare(&self.#idents, &other.#idents), )*
                }
            }

            fn contains(&self, value: &#value) -> bool {
                match value {
                    #( #value::#variants(v) => #as_attr::contains_value(&self.#idents, v), )*
                }
            }

            fn to_values(&self) -> ::std::vec::Vec<#krate::value::Value> {
                ::std::vec![ #( #as_attr::to_value(&self.#idents) ),* ]
            }

            fn from_source<S: #krate::attribute::FieldSource + ?::std::marker::Sized>(
                source: &mut S,
            ) -> ::std::result::Result<Self, #krate::error::ErrorKind> {
                // Fields are initialised in the order written: the source's order.
                ::std::result::Result::Ok(#ident {
                    #( #idents: match #as_attr::take_from(source) {
                        ::std::option::Option::Some(v) => v,
                        ::std::option::Option::None => match #as_attr::from_value(source.next_value()?) {
                            ::std::result::Result::Ok(v) => v,
                            ::std::result::Result::Err(message) => {
                                return ::std::result::Result::Err(#krate::__private::invalid_attribute(#strs, message));
                            }
                        },
                    }, )*
                    #( #rel_idents: ::std::default::Default::default(), )*
                })
            }

            fn changes_to_values(changes: &#changes) -> ::std::vec::Vec<(#field, #krate::value::Value)> {
                let mut out = ::std::vec::Vec::new();
                #( if let ::std::option::Option::Some(v) = &changes.#idents {
                    out.push((#field::#variants, #as_attr::to_value(v)));
                } )*
                out
            }

            #[inline]
            fn eval_atomic(
                &self,
                atomic: &#krate::data_layer::Atomic<Self>,
            ) -> ::std::result::Result<#value, #krate::error::ErrorKind> {
                #[allow(unreachable_patterns)]
                match (atomic.field, atomic.expr) {
                    #( #atomic_arms )*
                    (field, _) => ::std::result::Result::Err(#krate::error::ErrorKind::Framework(
                        #krate::error::FrameworkError {
                            message: ::std::format!(
                                "attribute `{}` of {} does not support atomic writes",
                                <Self as #krate::resource::Resource>::field_name(field),
                                #name,
                            ),
                        },
                    )),
                }
            }

            #[inline]
            fn apply_changes(&mut self, changes: &mut #changes) {
                #( if let ::std::option::Option::Some(v) = changes.#idents.take() { self.#idents = v; } )*
            }

            // Always, and only the attributes whose values own memory: a write's hot path
            // tests this once per call.
            #[inline(always)]
            fn changes_empty(changes: &#changes) -> bool {
                #( (!::std::mem::needs_drop::<#tys>() || changes.#idents.is_none()) )&&*
            }

            #[allow(unused_variables)]
            fn apply_create_defaults(changes: &mut #changes) {
                #( #create_defaults )*
            }

            #[allow(unused_variables)]
            fn apply_update_defaults(changes: &mut #changes) {
                #( #update_defaults )*
            }

            #[inline]
            fn from_changes(
                changes: &mut #changes,
            ) -> ::std::result::Result<Self, ::std::vec::Vec<#krate::error::ErrorKind>> {
                #[allow(unreachable_patterns)]
                match ( #( changes.#required_idents.take(), )* ) {
                    ( #( ::std::option::Option::Some(#required_vars), )* ) => ::std::result::Result::Ok(#ident {
                        #( #required_idents: #required_vars, )*
                        #( #nilable_idents: changes.#nilable_idents.take().flatten(), )*
                        #( #rel_idents: ::std::default::Default::default(), )*
                    }),
                    // Only a failed create names what is missing.
                    ( #( #required_vars, )* ) => {
                        let mut __ash_missing = ::std::vec::Vec::new();
                        #( #required_checks )*
                        ::std::result::Result::Err(__ash_missing)
                    }
                }
            }
        }
    }
}

/// Attributes that atomic increments apply to (`optimistic_lock`, `increment`), with the
/// span of the change naming them.
fn counter_fields(res: &Resource) -> Vec<(syn::Ident, proc_macro2::Span)> {
    use crate::resource::ast::ChangeKind;
    let mut out: Vec<(syn::Ident, proc_macro2::Span)> = Vec::new();
    let all = res
        .actions
        .iter()
        .flat_map(|a| a.changes())
        .chain(res.global_changes.iter());
    for change in all {
        if let ChangeKind::OptimisticLock { attribute } | ChangeKind::Increment { attribute, .. } =
            &change.change
        {
            if !out
                .iter()
                .any(|(i, _)| crate::name::unraw(i) == crate::name::unraw(attribute))
            {
                out.push((attribute.clone(), attribute.span()));
            }
        }
    }
    out
}
