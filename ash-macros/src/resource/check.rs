//! Rules over the whole resource, one function each. Each records errors and returns, so
//! every broken rule is reported in the same build.

use super::ast::*;
use crate::ctxt::Ctxt;
use crate::suggest;
use std::collections::HashSet;

pub fn check(cx: &Ctxt, res: &Resource) {
    check_no_generics(cx, res);
    check_primary_key(cx, res);
    check_attribute_options(cx, res);
    check_unique_actions(cx, res);
    check_primary_actions(cx, res);
    check_accept(cx, res);
    check_changes(cx, res);
}

/// Generated code names `Address` without parameters; generic resources are not supported.
fn check_no_generics(cx: &Ctxt, res: &Resource) {
    if !res.item.generics.params.is_empty() {
        cx.error_spanned_by(
            &res.item.generics,
            "a resource cannot have generic parameters",
        );
    }
}

/// Every write and every lookup goes through the primary key, so there must be exactly one,
/// and it can never be nil (Ash: "Primary keys must not be allowed to be nil.").
fn check_primary_key(cx: &Ctxt, res: &Resource) {
    let keys: Vec<&Attribute> = res
        .attributes
        .iter()
        .filter(|a| a.primary_key.is_some())
        .collect();
    match keys.as_slice() {
        [] => cx.error_spanned_by(
            res.ident(),
            format!(
                "resource `{}` has no primary key; mark one field `#[uuid_primary_key]` (a `Uuid`) or `#[primary_key]`",
                res.ident()
            ),
        ),
        [key] => {
            if key.nilable {
                cx.error_spanned_by(
                    &key.ty,
                    "primary keys must not be allowed to be nil; use the inner type instead of `Option<_>`",
                );
            }
        }
        [_, rest @ ..] => {
            for key in rest {
                cx.error_at(
                    key.primary_key.unwrap_or_else(|| key.ident.span()),
                    "a resource has one primary key; composite primary keys are not supported yet",
                );
            }
        }
    }
}

/// Options that contradict each other on one attribute.
fn check_attribute_options(cx: &Ctxt, res: &Resource) {
    for attr in &res.attributes {
        if attr.timestamp.is_some() && attr.default.is_some() {
            cx.error_spanned_by(
                attr.default.as_ref(),
                "a timestamp attribute defaults to the current time; remove `default`",
            );
        }
        if attr.uuid_primary_key && attr.default.is_some() {
            cx.error_spanned_by(
                attr.default.as_ref(),
                "`#[uuid_primary_key]` defaults to a random v4 UUID; remove `default` or use `#[primary_key]`",
            );
        }
    }
}

/// Ash: "Multiple actions with the name `x` defined." Input types are named after actions.
fn check_unique_actions(cx: &Ctxt, res: &Resource) {
    let mut seen = HashSet::new();
    for action in &res.actions {
        if !seen.insert(action.name.to_string()) {
            cx.error_spanned_by(
                &action.name,
                format!(
                    "duplicate action `{}`; action names must be unique",
                    action.name
                ),
            );
        }
    }
}

/// At most one primary action per type, as Ash's `SetPrimaryActions` requires.
fn check_primary_actions(cx: &Ctxt, res: &Resource) {
    for kind in [
        ActionKind::Create,
        ActionKind::Read,
        ActionKind::Update,
        ActionKind::Destroy,
    ] {
        let primaries: Vec<&Action> = res
            .actions
            .iter()
            .filter(|a| a.kind == kind && a.primary == Some(true))
            .collect();
        for extra in primaries.iter().skip(1) {
            cx.error_spanned_by(
                &extra.name,
                format!(
                    "more than one primary {} action; mark only one `primary = true`",
                    kind.name()
                ),
            );
        }
    }
}

/// Ash's `ValidateAccept`: accepted names must be writable attributes.
fn check_accept(cx: &Ctxt, res: &Resource) {
    let names: Vec<String> = res.attributes.iter().map(|a| a.ident.to_string()).collect();
    for action in &res.actions {
        let mut seen = HashSet::new();
        for name in &action.accept {
            if !seen.insert(name.to_string()) {
                cx.error_spanned_by(name, format!("`{name}` is accepted twice"));
                continue;
            }
            match res.attribute(name) {
                None => cx.error_spanned_by(
                    name,
                    format!(
                        "cannot accept `{name}`: `{}` has no attribute `{name}`{}",
                        res.ident(),
                        suggest::hint(&name.to_string(), names.iter().map(String::as_str))
                    ),
                ),
                Some(attr) if !attr.writable => cx.error_spanned_by(
                    name,
                    format!("cannot accept `{name}` because it is not writable"),
                ),
                Some(_) => {}
            }
        }
    }
}

/// Changes must name real attributes and actions; Ash checks none of this, and a typo
/// there silently disables the lock.
fn check_changes(cx: &Ctxt, res: &Resource) {
    let attribute_names: Vec<String> = res.attributes.iter().map(|a| a.ident.to_string()).collect();
    let action_names: Vec<String> = res.actions.iter().map(|a| a.name.to_string()).collect();
    let all = res
        .actions
        .iter()
        .flat_map(|a| a.changes.iter())
        .chain(res.global_changes.iter());
    for change in all {
        if let ChangeKind::OptimisticLock { attribute } = &change.change {
            match res.attribute(attribute) {
                None => cx.error_spanned_by(
                    attribute,
                    format!(
                        "`optimistic_lock` needs an attribute of `{}`; there is no attribute `{attribute}`{}",
                        res.ident(),
                        suggest::hint(&attribute.to_string(), attribute_names.iter().map(String::as_str))
                    ),
                ),
                Some(attr) if attr.nilable => cx.error_spanned_by(
                    attribute,
                    format!(
                        "the version attribute `{attribute}` must not be nilable; declare it as an integer such as `i64` with `#[attribute(default = 1)]`, not `Option<_>`"
                    ),
                ),
                Some(attr) if attr.primary_key.is_some() => cx.error_spanned_by(
                    attribute,
                    "the primary key cannot be the optimistic lock's version",
                ),
                Some(_) => {}
            }
        }
        for on in change.on.iter().flatten() {
            let name = on.to_string();
            if !matches!(name.as_str(), "create" | "update" | "destroy") {
                cx.error_spanned_by(
                    on,
                    format!(
                        "`on` takes action types `create`, `update` and `destroy`; `{name}` is not one{}",
                        if name == "read" { " (reads run no changes)" } else { "" }
                    ),
                );
            }
        }
        for condition in &change.conditions {
            if let Condition::ActionIs(names) = condition {
                for name in names {
                    if res.action(&name.to_string()).is_none() {
                        cx.error_spanned_by(
                            name,
                            format!(
                                "`action_is` names an unknown action `{name}`{}; actions of `{}`: {}",
                                suggest::hint(&name.to_string(), action_names.iter().map(String::as_str)),
                                res.ident(),
                                suggest::list(action_names.iter().map(String::as_str))
                            ),
                        );
                    }
                }
            }
        }
    }
}
