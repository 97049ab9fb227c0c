//! Which changes run in which action, and the code that calls them.
//!
//! Order as in Ash: the action's own changes in declaration order, then the global
//! `#[changes(...)]` whose `on` includes the action's type, in declaration order.
//! `where = action_is([...])` is decided here, at compile time; other conditions are
//! validations checked at run time.

use super::{krate, pascal, Names};
use crate::resource::ast::{Action, ActionKind, ChangeKind, ChangeRef, Condition, Resource};
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

/// The statements of `run_changes` for `action`.
pub fn run_changes(res: &Resource, names: &Names, action: &Action) -> TokenStream {
    if action.kind == ActionKind::Read {
        return TokenStream::new();
    }
    let applicable = action.changes.iter().chain(
        res.global_changes
            .iter()
            .filter(|c| global_applies(c, action)),
    );
    let calls = applicable.map(|change| call(res, names, change));
    quote! { #( #calls )* }
}

/// Whether a global change applies to `action`: its `on` (default `[create, update]`)
/// includes the action's type, and every `action_is` names the action.
fn global_applies(change: &ChangeRef, action: &Action) -> bool {
    let on_matches = match &change.on {
        Some(on) => on.iter().any(|t| t == action.kind.name()),
        None => matches!(action.kind, ActionKind::Create | ActionKind::Update),
    };
    let action_is = change.conditions.iter().all(|c| match c {
        Condition::ActionIs(names) => names.contains(&action.name),
        Condition::Validation(_) => true,
    });
    on_matches && action_is
}

fn call(res: &Resource, names: &Names, change: &ChangeRef) -> TokenStream {
    let krate = krate();
    let ident = res.ident();
    let invoke = match &change.change {
        ChangeKind::OptimisticLock { attribute } => {
            let field = &names.field;
            let variant = format_ident!("{}", pascal(&attribute.to_string()));
            quote! {
                #krate::change::Change::<#ident>::change(
                    &#krate::change::OptimisticLock::<#ident>::new(#field::#variant),
                    changeset,
                );
            }
        }
        ChangeKind::Custom(expr) => quote_spanned! {expr.span()=>
            #krate::change::Change::<#ident>::change(&(#expr), changeset);
        },
    };
    let conditions: Vec<TokenStream> = change
        .conditions
        .iter()
        .filter_map(|c| match c {
            Condition::Validation(expr) => Some(quote_spanned! {expr.span()=>
                #krate::validation::Validation::<#ident>::validate(&(#expr), changeset).is_ok()
            }),
            Condition::ActionIs(_) => None,
        })
        .collect();
    if conditions.is_empty() {
        invoke
    } else {
        // A failing condition skips the change silently, as in Ash.
        quote! { if #( #conditions )&&* { #invoke } }
    }
}
