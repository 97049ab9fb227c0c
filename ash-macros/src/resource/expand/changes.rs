//! What runs in each action before the write, and the code that calls it.
//!
//! Order as in Ash: the action's own `change` and `validate` entries in declaration order,
//! then the global `#[changes(...)]` whose `on` includes the action's type, then the global
//! `#[validations(...)]` likewise, each in declaration order. `where = action_is([...])` is
//! decided here, at compile time; other conditions are validations checked at run time.
//! Builtin changes expand to direct, typed code.

use super::validations::{getter, validation};
use super::{krate, Names};
use crate::resource::ast::*;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

/// The statements of `run_changes` for `action`.
pub fn run_changes(res: &Resource, names: &Names, action: &Action) -> TokenStream {
    if action.kind == ActionKind::Read {
        return TokenStream::new();
    }
    let own = action.entries.iter().map(|entry| match entry {
        Entry::Change(change) => change_call(res, names, Some(action), change),
        Entry::Validate(v) => validate_call(res, Some(action), v),
    });
    let global_changes = res
        .global_changes
        .iter()
        .filter(|c| applies(&c.options, action, false))
        .map(|c| change_call(res, names, None, c));
    let global_validations = res
        .global_validations
        .iter()
        .filter(|v| applies(&v.options, action, false))
        .map(|v| validate_call(res, None, v));
    quote! { #( #own )* #( #global_changes )* #( #global_validations )* }
}

/// Whether a change of `action` may add hooks: only a user's change can (builtins never
/// do, and validations see the changeset read-only). Without one, the pipeline runs the
/// action to its end at once on a data layer that never waits.
pub fn may_add_hooks(res: &Resource, action: &Action) -> bool {
    let own = action.entries.iter().any(|entry| {
        matches!(entry, Entry::Change(change) if matches!(change.change, ChangeKind::Custom(_) | ChangeKind::ManageRelationship(_)))
    });
    let global = res
        .global_changes
        .iter()
        .filter(|c| applies(&c.options, action, false))
        .any(|c| matches!(c.change, ChangeKind::Custom(_)));
    action.kind != ActionKind::Read && (own || global)
}

/// Whether a global entry applies to `action`: its `on` (default `[create, update]`)
/// includes the action's type, and every `action_is` names the action.
pub fn applies(options: &EntryOptions, action: &Action, _own: bool) -> bool {
    let on_matches = match &options.on {
        Some(on) => on.iter().any(|t| t == action.kind.name()),
        None => matches!(action.kind, ActionKind::Create | ActionKind::Update),
    };
    let action_is = options.conditions.iter().all(|c| match c {
        Condition::ActionIs(names) => names
            .iter()
            .any(|n| crate::name::unraw(n) == action.name_str),
        Condition::Validation(_) => true,
    });
    on_matches && action_is
}

/// Wraps `body` in the entry's run-time conditions.
fn guarded(
    res: &Resource,
    action: Option<&Action>,
    options: &EntryOptions,
    body: TokenStream,
) -> TokenStream {
    let krate = krate();
    let ident = res.ident();
    let mut conditions: Vec<TokenStream> = options
        .conditions
        .iter()
        .filter_map(|c| match c {
            // A failing condition skips the entry silently, as in Ash.
            Condition::Validation(kind) => {
                let v = validation(res, action, kind, None)?;
                Some(quote! {
                    #krate::validation::Validation::<#ident>::validate(&#v, changeset).is_ok()
                })
            }
            Condition::ActionIs(_) => None,
        })
        .collect();
    if options.only_when_valid {
        conditions.insert(0, quote!(changeset.is_valid()));
    }
    if conditions.is_empty() {
        body
    } else {
        quote! { if #( #conditions )&&* { #body } }
    }
}

fn validate_call(res: &Resource, action: Option<&Action>, v: &ValidateRef) -> TokenStream {
    let krate = krate();
    let ident = res.ident();
    let message = v.options.message.as_ref();
    let calls: Vec<TokenStream> = match &v.validation {
        // `present([a, b])` checks each field on its own, reporting each.
        ValidationKind::Present(fields) | ValidationKind::Absent(fields) if fields.len() > 1 => {
            fields
                .iter()
                .filter_map(|f| {
                    let single = match &v.validation {
                        ValidationKind::Present(_) => ValidationKind::Present(vec![f.clone()]),
                        _ => ValidationKind::Absent(vec![f.clone()]),
                    };
                    validation(res, action, &single, message)
                })
                .collect()
        }
        ValidationKind::Compare { field, bounds } if bounds.len() > 1 => bounds
            .iter()
            .filter_map(|b| {
                let single = ValidationKind::Compare {
                    field: field.clone(),
                    bounds: vec![b.clone()],
                };
                validation(res, action, &single, message)
            })
            .collect(),
        kind => validation(res, action, kind, message).into_iter().collect(),
    };
    let body = quote! {
        #( #krate::validation::run::<#ident, _>(&#calls, changeset); )*
    };
    guarded(res, action, &v.options, body)
}

fn change_call(
    res: &Resource,
    names: &Names,
    action: Option<&Action>,
    change: &ChangeRef,
) -> TokenStream {
    let krate = krate();
    let ident = res.ident();
    let field_enum = &names.field;
    let variant = |attr: &syn::Ident| res.attribute(attr).map(|a| &a.variant);
    let body = match &change.change {
        ChangeKind::OptimisticLock { attribute } => {
            let Some(v) = variant(attribute) else {
                return TokenStream::new();
            };
            quote! {
                #krate::change::Change::<#ident>::change(
                    &#krate::change::OptimisticLock::<#ident>::new(#field_enum::#v),
                    changeset,
                );
            }
        }
        ChangeKind::Increment { attribute, amount } => {
            let Some(v) = variant(attribute) else {
                return TokenStream::new();
            };
            let amount = quote_spanned!(amount.span()=> { let amount: i64 = #amount; amount });
            quote! {
                changeset.add_atomic(#field_enum::#v, #krate::data_layer::AtomicExpr::Add(#amount));
            }
        }
        ChangeKind::SetAttribute { attribute, value } => set(res, action, attribute, value, false),
        ChangeKind::SetNewAttribute { attribute, value } => {
            set(res, action, attribute, value, true)
        }
        ChangeKind::PreventChange { attribute } => quote! {
            changeset.changes_mut().#attribute = ::std::option::Option::None;
        },
        ChangeKind::ManageRelationship(def) => match action {
            Some(action) => super::manage::change(res, action, def),
            None => TokenStream::new(),
        },
        ChangeKind::Custom(expr) => quote_spanned! {expr.span()=>
            #krate::change::Change::<#ident>::change(&(#expr), changeset);
        },
    };
    guarded(res, action, &change.options, body)
}

/// `set_attribute` / `set_new_attribute`: the value converts into the attribute's type
/// (so string literals work); `arg(x)` reads the action's argument, and an absent argument
/// leaves the attribute as it is.
fn set(
    res: &Resource,
    action: Option<&Action>,
    attribute: &syn::Ident,
    value: &ValueRef,
    only_new: bool,
) -> TokenStream {
    let Some(attr) = res.attribute(attribute) else {
        return TokenStream::new();
    };
    let ty = &attr.ty;
    let guard = if only_new {
        quote!(if changeset.changes().#attribute.is_none())
    } else {
        quote!()
    };
    match value {
        ValueRef::Expr(expr) => {
            let value = super::convert(ty, quote!(#expr), expr.span());
            quote! {
                #guard {
                    changeset.changes_mut().#attribute = ::std::option::Option::Some(#value);
                }
            }
        }
        ValueRef::Arg(name) => {
            let Some(action) = action else {
                return TokenStream::new();
            };
            let input = &action.input;
            let get = getter(res, Some(action), name);
            // A wrong type is reported at `arg(name)`.
            let convert = super::convert(ty, quote_spanned!(name.span()=> value), name.span());
            quote! {
                #guard {
                    let value = (#get)(changeset).cloned();
                    if let ::std::option::Option::Some(value) = value {
                        changeset.changes_mut().#attribute = ::std::option::Option::Some(#convert);
                    }
                    let _ = ::std::marker::PhantomData::<#input>;
                }
            }
        }
    }
}
