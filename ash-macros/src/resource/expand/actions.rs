//! One input type per action, which also identifies the action (`impl Action`).

use super::{changes, krate, Names};
use crate::resource::ast::{Action, ActionKind, Resource};
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

pub fn expand(res: &Resource, names: &Names) -> TokenStream {
    res.actions
        .iter()
        .map(|a| expand_action(res, names, a))
        .collect()
}

/// Ash makes a default action primary unless another of its type is; an action alone of
/// its type is primary too, so `get_by` on update and destroy can find a read.
pub fn is_primary(res: &Resource, action: &Action) -> bool {
    if let Some(p) = action.primary {
        return p;
    }
    let same_kind: Vec<&Action> = res
        .actions
        .iter()
        .filter(|a| a.kind == action.kind)
        .collect();
    let explicit = same_kind.iter().any(|a| a.primary == Some(true));
    !explicit
        && same_kind
            .first()
            .is_some_and(|first| std::ptr::eq(*first, action))
}

/// `impl CreateAction`, with the action's upsert options.
fn create_impl(res: &Resource, names: &Names, action: &Action) -> TokenStream {
    let krate = krate();
    let ident = res.ident();
    let input = &action.input;
    let field = &names.field;
    let up = &action.upsert;
    // What the update half writes: `upsert_fields`, else everything the action accepts;
    // plus every `update_timestamp` (Ash touches update defaults on upsert).
    let listed: Vec<&syn::Ident> = match &up.fields {
        Some(fields) => fields.iter().collect(),
        None => action.accept.iter().collect(),
    };
    let mut written: Vec<&syn::Ident> = Vec::new();
    for name in listed {
        if let Some(attr) = res.attribute(name) {
            if !written.contains(&&attr.variant) {
                written.push(&attr.variant);
            }
        }
    }
    for attr in &res.attributes {
        if attr.timestamp == Some(crate::resource::ast::Timestamp::Update)
            && !written.contains(&&attr.variant)
        {
            written.push(&attr.variant);
        }
    }
    let upsert = up.upsert;
    let identity = match up.identity.as_ref().and_then(|i| res.identity(i)) {
        Some(id) => {
            let konst = &id.konst;
            quote!(::std::option::Option::Some(#ident::#konst))
        }
        None => quote!(::std::option::Option::None),
    };
    let condition = match &up.condition {
        Some(condition) => {
            let condition = quote_spanned!(condition.span()=> {
                let condition: #krate::filter::Filter<#ident> = #condition;
                condition
            });
            quote!(::std::option::Option::Some(#condition))
        }
        None => quote!(::std::option::Option::None),
    };
    let upsert_fn = (up.identity.is_some() || up.condition.is_some()).then(|| {
        quote! {
            #[allow(unused_variables)]
            fn upsert(&self) -> #krate::identity::Upsert<#ident> {
                let args = self;
                #krate::identity::Upsert {
                    identity: #identity,
                    fields: #krate::identity::UpsertFields::Action,
                    condition: #condition,
                }
            }
        }
    });
    quote! {
        impl #krate::action::CreateAction for #input {
            const UPSERT: bool = #upsert;
            const UPSERT_FIELDS: &'static [#field] = &[ #( #field::#written ),* ];
            #upsert_fn
        }
    }
}

fn expand_action(res: &Resource, names: &Names, action: &Action) -> TokenStream {
    let krate = krate();
    let ident = res.ident();
    let vis = &res.item.vis;
    let input = &action.input;
    let action_name = &action.name_str;
    let primary = is_primary(res, action);
    let kind = match action.kind {
        ActionKind::Create => quote!(Create),
        ActionKind::Read => quote!(Read),
        ActionKind::Update => quote!(Update),
        ActionKind::Destroy => quote!(Destroy),
    };
    let kind_trait = match action.kind {
        ActionKind::Create => quote!(CreateAction),
        ActionKind::Read => quote!(ReadAction),
        ActionKind::Update => quote!(UpdateAction),
        ActionKind::Destroy => quote!(DestroyAction),
    };

    let accepted: Vec<_> = action
        .accept
        .iter()
        .filter_map(|n| res.attribute(n))
        .collect();
    let args = &action.arguments;
    // Accepted attributes and arguments are the inputs: one field and one setter each.
    let inputs: Vec<(&syn::Ident, &str, &syn::Type, &str)> = accepted
        .iter()
        .map(|a| (&a.ident, a.name.as_str(), &a.ty, "attribute"))
        .chain(
            args.iter()
                .map(|a| (&a.ident, a.name.as_str(), &a.ty, "argument")),
        )
        .collect();
    let fields = inputs.iter().map(|(id, name, ty, what)| {
        // For a nilable input `Some(None)` sets it to nil.
        let doc = format!("The `{name}` {what}; `None` when not given.");
        quote! {
            #[doc = #doc]
            pub #id: ::std::option::Option<#ty>,
        }
    });
    // `new` is reserved (an error already); its setter would clash with `new()`.
    let setters =
        inputs
            .iter()
            .filter(|(_, name, ..)| *name != "new")
            .map(|(id, name, ty, what)| {
                let doc = format!("Sets the `{name}` {what}.");
                quote! {
                    #[doc = #doc]
                    #[must_use]
                    #[inline]
                    pub fn #id(mut self, value: impl ::std::convert::Into<#ty>) -> Self {
                        self.#id = ::std::option::Option::Some(value.into());
                        self
                    }
                }
            });
    let idents: Vec<_> = accepted.iter().map(|a| &a.ident).collect();
    let attr_strs: Vec<&str> = accepted.iter().map(|a| a.name.as_str()).collect();
    let arg_idents: Vec<_> = args.iter().map(|a| &a.ident).collect();
    let arg_strs: Vec<&str> = args.iter().map(|a| a.name.as_str()).collect();
    let strs: Vec<&str> = attr_strs.iter().chain(arg_strs.iter()).copied().collect();
    let arg_defaults = args.iter().filter_map(|a| {
        let id = &a.ident;
        let expr = a.default.as_ref()?;
        let ty = &a.ty;
        let value = super::convert(ty, quote!(#expr), expr.span());
        Some(quote! {
            if self.#id.is_none() {
                self.#id = ::std::option::Option::Some(#value);
            }
        })
    });
    let arg_required = args
        .iter()
        .filter(|a| !a.allow_nil && a.default.is_none())
        .map(|a| {
            let id = &a.ident;
            let n = &a.name;
            quote! {
                if self.#id.is_none() {
                    errors.push(#krate::error::ErrorKind::Required(#krate::error::Required {
                        field: ::std::string::String::from(#n),
                        r#type: #krate::error::InputType::Argument,
                        resource: <#ident as #krate::resource::Resource>::NAME,
                    }));
                }
            }
        });
    let prepare_arguments = (!args.is_empty()).then(|| {
        quote! {
            fn prepare_arguments(&mut self) -> ::std::vec::Vec<#krate::error::ErrorKind> {
                #( #arg_defaults )*
                let mut errors = ::std::vec::Vec::new();
                #( #arg_required )*
                errors
            }
        }
    });
    let run_changes = changes::run_changes(res, names, action);
    let may_add_hooks = changes::may_add_hooks(res, action);
    let doc = format!(
        "Input of the `{action_name}` action of [`{ident}`]; choosing this type chooses the action."
    );
    let docs = &action.docs;
    let read_impl = (action.kind == ActionKind::Read).then(|| {
        let pagination = match &action.pagination {
            Some(p) => {
                let (offset, keyset, countable) = (p.offset, p.keyset, p.countable);
                let opt = |n: &Option<syn::LitInt>| match n {
                    Some(n) => quote!(::std::option::Option::Some(#n)),
                    None => quote!(::std::option::Option::None),
                };
                let (default_limit, max_page_size) = (opt(&p.default_limit), opt(&p.max_page_size));
                quote! {
                    const PAGINATION: ::std::option::Option<#krate::query::Pagination> =
                        ::std::option::Option::Some(#krate::query::Pagination {
                            offset: #offset,
                            keyset: #keyset,
                            default_limit: #default_limit,
                            max_page_size: #max_page_size,
                            countable: #countable,
                        });
                }
            }
            None => quote!(),
        };
        // The filter sees the action's input as `args` (`args.name` is an `Option`).
        let base_query = action.filter.as_ref().map(|filter| {
            let filter = quote_spanned!(filter.span()=> {
                let filter: #krate::filter::Filter<#ident> = #filter;
                filter
            });
            quote! {
                const HAS_BASE_QUERY: bool = true;

                #[allow(unused_variables)]
                fn base_query(&self) -> #krate::query::Query<#ident> {
                    let args = self;
                    #krate::query::Query::new().filter(#filter)
                }
            }
        });
        quote! {
            impl #krate::action::ReadAction for #input {
                #pagination
                #base_query
            }
        }
    });
    let other_impl = match action.kind {
        ActionKind::Read => None,
        ActionKind::Create => Some(create_impl(res, names, action)),
        _ => Some(quote! { impl #krate::action::#kind_trait for #input {} }),
    };

    // The user's doc comments first, then what the type is.
    let blank = (!docs.is_empty()).then(|| quote!(#[doc = ""]));
    quote! {
        #( #docs )*
        #blank
        #[doc = #doc]
        #[derive(Debug, Clone, Default, PartialEq)]
        #vis struct #input {
            #( #fields )*
        }

        impl #input {
            /// An empty input: nothing set.
            #[must_use]
            #[inline]
            pub fn new() -> Self {
                ::std::default::Default::default()
            }
            #( #setters )*
        }

        /// Reads the input from any self-describing format (a JSON body, say); unknown
        /// inputs are rejected, and every bad key is reported.
        impl<'de> #krate::__private::serde::Deserialize<'de> for #input {
            fn deserialize<D>(deserializer: D) -> ::std::result::Result<Self, D::Error>
            where
                D: #krate::__private::serde::Deserializer<'de>,
            {
                #krate::input::deserialize(deserializer)
            }
        }

        impl #krate::action::Action for #input {
            #prepare_arguments

            type Resource = #ident;
            const INFO: &'static #krate::action::ActionInfo = &#krate::action::ActionInfo {
                name: #action_name,
                kind: #krate::action::ActionType::#kind,
                primary: #primary,
            };
            const INPUTS: &'static [&'static str] = &[ #( #strs ),* ];
            const MAY_ADD_HOOKS: bool = #may_add_hooks;

            #[inline]
            #[allow(unused_variables)]
            fn apply_input(&mut self, changeset: &mut #krate::changeset::Changeset<'_, #ident>) {
                let changes = changeset.changes_mut();
                #( if self.#idents.is_some() { changes.#idents = self.#idents.take(); } )*
            }

            #[inline]
            #[allow(unused_variables)]
            fn run_changes(changeset: &mut #krate::changeset::Changeset<'_, #ident>) {
                #run_changes
            }

            fn set_json(
                &mut self,
                input: &str,
                value: #krate::__private::serde_json::Value,
            ) -> ::std::result::Result<(), #krate::error::ErrorKind> {
                match input {
                    #( #attr_strs => {
                        self.#idents = ::std::option::Option::Some(#krate::input::decode(#attr_strs, value)?);
                        ::std::result::Result::Ok(())
                    } )*
                    #( #arg_strs => {
                        self.#arg_idents = ::std::option::Option::Some(#krate::input::decode_argument(#arg_strs, value)?);
                        ::std::result::Result::Ok(())
                    } )*
                    other => ::std::result::Result::Err(#krate::__private::no_such_input(
                        <#ident as #krate::resource::Resource>::NAME,
                        #action_name,
                        other,
                        <Self as #krate::action::Action>::INPUTS,
                    )),
                }
            }
        }

        #read_impl
        #other_impl
    }
}
