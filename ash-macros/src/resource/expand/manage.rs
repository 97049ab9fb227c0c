//! `manage_relationship`: the call in the action's changes, and the impls through which
//! another resource's `manage_relationship` names this resource's actions.

use super::krate;
use crate::keys::name_key;
use crate::resource::ast::{Action, ActionKind, Argument, RelKind, RelationshipDef, Resource};
use crate::resource::manage::{resolve, ManageDef};
use proc_macro2::{Literal, Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::Ident;

/// `NamedAction<K>` for every action and `PrimaryAction<K>` for each primary write action.
pub fn action_names(res: &Resource) -> TokenStream {
    if !res.item.generics.params.is_empty() {
        return TokenStream::new();
    }
    let krate = krate();
    let ident = res.ident();
    // One primary per type (two is an error reported already; the first stands).
    let mut primaries = Vec::new();
    let impls = res.actions.iter().map(|action| {
        let key = Literal::u128_suffixed(name_key(&action.name_str));
        let input = &action.input;
        let primary = match action.kind {
            ActionKind::Create => Some(0u8),
            ActionKind::Update => Some(1),
            ActionKind::Destroy => Some(2),
            ActionKind::Read => None,
        }
        .filter(|kind| super::is_primary(res, action) && !primaries.contains(kind))
        .map(|kind| {
            primaries.push(kind);
            let kind = Literal::u8_suffixed(kind);
            quote! {
                impl #krate::manage::PrimaryAction<#kind> for #ident {
                    type Input = #input;
                }
            }
        });
        let check = match action.kind {
            ActionKind::Create => Some(quote!(ManagedCreate)),
            ActionKind::Update => Some(quote!(ManagedUpdate)),
            ActionKind::Destroy => Some(quote!(ManagedDestroy)),
            ActionKind::Read => None,
        }
        .map(|check| {
            quote! {
                impl #krate::manage::#check for #input {
                    type Action = Self;
                }
            }
        });
        quote! {
            impl #krate::manage::NamedAction<#key> for #ident {
                type Input = #input;
            }
            #primary
            #check
        }
    });
    quote!( #( #impls )* )
}

/// `tokens` with every span set to `span`: a type the expansion projects through is
/// reported at the user's token that chose it.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
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

/// The related resource's action an option runs: the one it names, or the primary one,
/// projected through the check of its type (`ManagedCreate`, ...), all spanned at the
/// name: a wrong or unknown action is one error there, and nothing else follows from it.
fn action_type(
    dest: &syn::Path,
    named: Option<&Ident>,
    kind: u8,
    span: Span,
    check: &str,
) -> TokenStream {
    let krate = krate();
    let span = named.map_or(span, Ident::span);
    let check = Ident::new(check, span);
    let chosen = match named {
        Some(name) => {
            let key = Literal::u128_suffixed(name_key(&crate::name::unraw(name)));
            quote!(<#dest as #krate::manage::NamedAction<#key>>::Input)
        }
        None => {
            let kind = Literal::u8_suffixed(kind);
            quote!(<#dest as #krate::manage::PrimaryAction<#kind>>::Input)
        }
    };
    respan(quote!(<#chosen as #krate::manage::#check>::Action), span)
}

/// The statements of one `manage_relationship` in `action`'s `run_changes`.
pub fn change(res: &Resource, action: &Action, def: &ManageDef) -> TokenStream {
    let krate = krate();
    let ident = res.ident();
    let (Some(rel), Some(argument), Some(domain)) = (
        res.relationship(&def.relationship),
        action.argument(&def.argument),
        res.domain.as_ref(),
    ) else {
        return TokenStream::new();
    };
    if rel.kind == RelKind::BelongsTo {
        return belongs_to(res, action, def, rel, argument, domain);
    }
    if rel.kind == RelKind::ManyToMany {
        return many_to_many(res, action, def, rel, argument, domain);
    }
    let dest = &rel.destination;
    let konst = &rel.konst;
    let dest_attr = &rel.destination_attribute;
    let input = &action.input;
    let arg = &argument.ident;
    let arg_str = &argument.name;
    let Parts {
        create,
        update,
        destroy,
        new_update,
        new_destroy,
        options,
    } = parts(def, dest, false);
    // An argument whose elements do not convert is one error, at the argument's name.
    let items = quote_spanned! {def.argument.span()=>
        changeset
            .arguments::<#input>()
            .and_then(|input| input.#arg.as_ref())
            .map(|items| {
                items
                    .iter()
                    .cloned()
                    .map(::std::convert::Into::<#krate::manage::Managed<#dest, #create, #update>>::into)
                    .collect::<::std::vec::Vec<_>>()
            })
    };
    // A has_one reads one input as a belongs_to does: `Managed<..>` or
    // `Option<Managed<..>>` (an explicit nil runs on_missing).
    let (items, call) = if rel.kind == RelKind::HasOne {
        let item = quote_spanned! {def.argument.span()=>
            changeset
                .arguments::<#input>()
                .and_then(|input| input.#arg.as_ref())
                .map(|item| {
                    ::std::convert::Into::<::std::option::Option<#krate::manage::Managed<#dest, #create, #update>>>::into(
                        ::std::clone::Clone::clone(item),
                    )
                })
        };
        (
            item,
            quote!(#krate::manage::has_one::<#domain, #ident, #dest, _, #create, #update, #destroy>),
        )
    } else {
        (
            items,
            quote!(#krate::manage::has_many::<#domain, #ident, #dest, _, _, #create, #update, #destroy>),
        )
    };
    quote! {
        {
            // A `Managed` argument converts into itself.
            #[allow(clippy::useless_conversion)]
            let items = #items;
            #call(
                changeset,
                items,
                #krate::manage::HasManyPlan {
                    relationship: #ident::#konst,
                    argument: #arg_str,
                    options: #options,
                    set_key: |changes, key| match #krate::manage::NilableKey::from_optional(key) {
                        ::std::option::Option::Some(value) => {
                            changes.#dest_attr = ::std::option::Option::Some(value);
                            true
                        }
                        ::std::option::Option::None => false,
                    },
                    new_update: #new_update,
                    new_destroy: #new_destroy,
                },
            );
        }
    }
}

/// The option variants and the related actions' types of `def`.
struct Parts {
    create: TokenStream,
    update: TokenStream,
    destroy: TokenStream,
    new_update: TokenStream,
    new_destroy: TokenStream,
    options: TokenStream,
}

fn parts(def: &ManageDef, dest: &syn::Path, many_to_many: bool) -> Parts {
    let krate = krate();
    let resolved = resolve(def, many_to_many);
    let span = def.span;
    let no_action = quote!(#krate::manage::NoAction<#dest>);
    let pick = |needed: bool, named: Option<&Ident>, kind: u8, check: &str| {
        if !needed {
            return no_action.clone();
        }
        action_type(dest, named, kind, span, check)
    };
    let create = pick(
        resolved.needs_create,
        resolved.create.as_ref(),
        0,
        "ManagedCreate",
    );
    let update = pick(
        resolved.needs_update,
        resolved.update.as_ref(),
        1,
        "ManagedUpdate",
    );
    let destroy = pick(
        resolved.needs_destroy,
        resolved.destroy.as_ref(),
        2,
        "ManagedDestroy",
    );
    let new_update = if resolved.needs_update {
        quote!(::std::option::Option::Some(<#update as ::std::default::Default>::default))
    } else {
        quote!(::std::option::Option::None)
    };
    let new_destroy = if resolved.needs_destroy {
        quote!(::std::option::Option::Some(<#destroy as ::std::default::Default>::default))
    } else {
        quote!(::std::option::Option::None)
    };
    let variant = |v: &str| Ident::new(&to_camel(v), Span::call_site());
    let on_lookup = variant(&resolved.on_lookup);
    let on_no_match = variant(&resolved.on_no_match);
    let on_match = variant(&resolved.on_match);
    let on_missing = variant(&resolved.on_missing);
    let options = quote! {
        #krate::manage::ManageOptions {
            on_lookup: #krate::manage::OnLookup::#on_lookup,
            on_no_match: #krate::manage::OnNoMatch::#on_no_match,
            on_match: #krate::manage::OnMatch::#on_match,
            on_missing: #krate::manage::OnMissing::#on_missing,
        }
    };
    Parts {
        create,
        update,
        destroy,
        new_update,
        new_destroy,
        options,
    }
}

/// A belongs_to: managed before the write, its key set on the action's own changes.
fn belongs_to(
    res: &Resource,
    action: &Action,
    def: &ManageDef,
    rel: &RelationshipDef,
    argument: &Argument,
    domain: &syn::Path,
) -> TokenStream {
    let krate = krate();
    let ident = res.ident();
    let dest = &rel.destination;
    let konst = &rel.konst;
    let source_attr = &rel.source_attribute;
    let input = &action.input;
    let arg = &argument.ident;
    let arg_str = &argument.name;
    let Parts {
        create,
        update,
        destroy,
        new_update,
        new_destroy,
        options,
    } = parts(def, dest, false);
    // `Managed<..>` or `Option<Managed<..>>` (an explicit nil), reported at the argument.
    let item = quote_spanned! {def.argument.span()=>
        changeset
            .arguments::<#input>()
            .and_then(|input| input.#arg.as_ref())
            .map(|item| {
                ::std::convert::Into::<::std::option::Option<#krate::manage::Managed<#dest, #create, #update>>>::into(
                    ::std::clone::Clone::clone(item),
                )
            })
    };
    quote! {
        {
            #[allow(clippy::useless_conversion)]
            let item = #item;
            #krate::manage::belongs_to::<#domain, #ident, #dest, _, #create, #update, #destroy>(
                changeset,
                item,
                #krate::manage::BelongsToPlan {
                    relationship: #ident::#konst,
                    argument: #arg_str,
                    options: #options,
                    set_key: |changes, key| match #krate::manage::NilableKey::from_optional(key) {
                        ::std::option::Option::Some(value) => {
                            changes.#source_attr = ::std::option::Option::Some(value);
                            true
                        }
                        ::std::option::Option::None => false,
                    },
                    new_update: #new_update,
                    new_destroy: #new_destroy,
                },
            );
        }
    }
}

/// A many_to_many: managed after the write; join records through the join resource's
/// primary create and destroy actions.
fn many_to_many(
    res: &Resource,
    action: &Action,
    def: &ManageDef,
    rel: &RelationshipDef,
    argument: &Argument,
    domain: &syn::Path,
) -> TokenStream {
    let krate = krate();
    let ident = res.ident();
    let dest = &rel.destination;
    let Some(join) = rel.through.as_ref() else {
        return TokenStream::new();
    };
    let konst = &rel.konst;
    let source_on_join = &rel.source_on_join;
    let destination_on_join = &rel.destination_on_join;
    let input = &action.input;
    let arg = &argument.ident;
    let arg_str = &argument.name;
    let Parts {
        create,
        update,
        destroy,
        new_update,
        new_destroy,
        options,
    } = parts(def, dest, true);
    let resolved = resolve(def, true);
    let joins = resolved.on_lookup == "relate" || resolved.needs_create;
    let unjoins = matches!(resolved.on_missing.as_str(), "unrelate" | "destroy")
        || resolved.on_match == "unrelate";
    let span = def.span;
    let (join_create, new_join) = if joins {
        let ty = action_type(join, None, 0, span, "ManagedCreate");
        let new = quote!(::std::option::Option::Some(<#ty as ::std::default::Default>::default));
        (ty, new)
    } else {
        (
            quote!(#krate::manage::NoAction<#join>),
            quote!(::std::option::Option::None),
        )
    };
    let (join_destroy, new_unjoin) = if unjoins {
        let ty = action_type(join, None, 2, span, "ManagedDestroy");
        let new = quote!(::std::option::Option::Some(<#ty as ::std::default::Default>::default));
        (ty, new)
    } else {
        (
            quote!(#krate::manage::NoAction<#join>),
            quote!(::std::option::Option::None),
        )
    };
    let items = quote_spanned! {def.argument.span()=>
        changeset
            .arguments::<#input>()
            .and_then(|input| input.#arg.as_ref())
            .map(|items| {
                items
                    .iter()
                    .cloned()
                    .map(::std::convert::Into::<#krate::manage::Managed<#dest, #create, #update>>::into)
                    .collect::<::std::vec::Vec<_>>()
            })
    };
    quote! {
        {
            #[allow(clippy::useless_conversion)]
            let items = #items;
            #krate::manage::many_to_many::<#domain, #ident, #join, #dest, _, _, #create, #update, #destroy, #join_create, #join_destroy>(
                changeset,
                items,
                #krate::manage::ManyToManyPlan {
                    relationship: #ident::#konst,
                    argument: #arg_str,
                    options: #options,
                    set_join_keys: |changes, source, destination| {
                        if let ::std::option::Option::Some(value) = #krate::manage::NilableKey::from_optional(::std::option::Option::Some(source)) {
                            changes.#source_on_join = ::std::option::Option::Some(value);
                        }
                        if let ::std::option::Option::Some(value) = #krate::manage::NilableKey::from_optional(::std::option::Option::Some(destination)) {
                            changes.#destination_on_join = ::std::option::Option::Some(value);
                        }
                    },
                    new_update: #new_update,
                    new_destroy: #new_destroy,
                    new_join: #new_join,
                    new_unjoin: #new_unjoin,
                },
            );
        }
    }
}

fn to_camel(s: &str) -> String {
    s.split('_')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect(),
                None => String::new(),
            }
        })
        .collect()
}
