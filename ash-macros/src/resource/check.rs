//! Rules over the whole resource, one function each. Each records errors and returns, so
//! every broken rule is reported in the same build.

use super::ast::*;
use crate::ctxt::Ctxt;
use crate::suggest;
use std::collections::HashSet;
use syn::Ident;

pub fn check(cx: &Ctxt, res: &Resource) {
    check_no_generics(cx, res);
    check_reserved_names(cx, res);
    check_primary_key(cx, res);
    check_attribute_options(cx, res);
    check_unique_actions(cx, res);
    check_primary_actions(cx, res);
    check_accept(cx, res);
    check_arguments(cx, res);
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

/// Names the generated code already uses: each action input has `new()` and a setter per
/// input, so an input named `new` would collide (Ash has reserved names for the same
/// reason).
fn check_reserved_names(cx: &Ctxt, res: &Resource) {
    const RESERVED: [&str; 1] = ["new"];
    let attributes = res.attributes.iter().map(|a| &a.ident);
    let arguments = res
        .actions
        .iter()
        .flat_map(|a| a.arguments.iter().map(|arg| &arg.ident));
    for name in attributes.chain(arguments) {
        if RESERVED.contains(&name.to_string().as_str()) {
            cx.error_spanned_by(
                name,
                format!("`{name}` is a reserved name: every action input has `{name}()`; rename the field"),
            );
        }
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

/// Arguments are inputs next to attributes: their names must be unique in the action and
/// must not shadow an accepted attribute.
fn check_arguments(cx: &Ctxt, res: &Resource) {
    for action in &res.actions {
        let mut seen = HashSet::new();
        for argument in &action.arguments {
            let name = argument.ident.to_string();
            if !seen.insert(name.clone()) {
                cx.error_spanned_by(&argument.ident, format!("duplicate argument `{name}`"));
            } else if action.accept.contains(&argument.ident) {
                cx.error_spanned_by(
                    &argument.ident,
                    format!("argument `{name}` has the name of an accepted attribute; rename it or remove `{name}` from `accept`"),
                );
            }
        }
    }
}

/// Changes and validations must name real attributes, arguments and actions; Ash checks
/// none of this, and a typo there silently disables the lock.
fn check_changes(cx: &Ctxt, res: &Resource) {
    for action in &res.actions {
        for entry in &action.entries {
            match entry {
                Entry::Change(change) => check_change(cx, res, Some(action), change),
                Entry::Validate(validation) => check_validation(cx, res, Some(action), validation),
            }
        }
    }
    for change in &res.global_changes {
        check_change(cx, res, None, change);
    }
    for validation in &res.global_validations {
        check_validation(cx, res, None, validation);
    }
}

fn check_change(cx: &Ctxt, res: &Resource, action: Option<&Action>, change: &ChangeRef) {
    check_options(cx, res, action, &change.options);
    match &change.change {
        ChangeKind::OptimisticLock { attribute } => {
            check_counter(cx, res, attribute, "optimistic_lock", true)
        }
        ChangeKind::Increment { attribute, .. } => {
            check_counter(cx, res, attribute, "increment", false)
        }
        ChangeKind::SetAttribute { attribute, value }
        | ChangeKind::SetNewAttribute { attribute, value } => {
            check_attribute_target(cx, res, attribute, "set_attribute");
            if let ValueRef::Arg(name) = value {
                check_arg(cx, action, name);
            }
        }
        ChangeKind::PreventChange { attribute } => {
            check_attribute_target(cx, res, attribute, "prevent_change")
        }
        ChangeKind::Custom(_) => {}
    }
}

fn check_validation(cx: &Ctxt, res: &Resource, action: Option<&Action>, validation: &ValidateRef) {
    check_options(cx, res, action, &validation.options);
    check_validation_kind(cx, res, action, &validation.validation);
}

fn check_validation_kind(
    cx: &Ctxt,
    res: &Resource,
    action: Option<&Action>,
    kind: &ValidationKind,
) {
    let names: Vec<&Ident> = match kind {
        ValidationKind::Present(fields) | ValidationKind::Absent(fields) => fields.iter().collect(),
        ValidationKind::Compare { field, .. }
        | ValidationKind::OneOf { field, .. }
        | ValidationKind::StringLength { field, .. }
        | ValidationKind::Match { field, .. }
        | ValidationKind::AttributeEquals { field, .. } => vec![field],
        ValidationKind::Changing(field) => {
            check_attribute_target(cx, res, field, "changing");
            vec![]
        }
        ValidationKind::Confirm {
            field,
            confirmation,
        } => vec![field, confirmation],
        ValidationKind::Custom(_) => vec![],
    };
    for name in names {
        if res.resolve(action, name).is_none() {
            let known = res.known_names(action);
            let scope = match action {
                Some(a) => format!(
                    "an attribute of `{}` or an argument of action `{}`",
                    res.ident(),
                    a.name
                ),
                None => format!(
                    "an attribute of `{}` (global validations see attributes only)",
                    res.ident()
                ),
            };
            cx.error_spanned_by(
                name,
                format!(
                    "`{name}` is not {scope}{}",
                    suggest::hint(&name.to_string(), known.iter().map(String::as_str))
                ),
            );
        }
    }
}

/// `on` and `where` of a change or validation.
fn check_options(cx: &Ctxt, res: &Resource, action: Option<&Action>, options: &EntryOptions) {
    for on in options.on.iter().flatten() {
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
    let action_names: Vec<String> = res.actions.iter().map(|a| a.name.to_string()).collect();
    for condition in &options.conditions {
        match condition {
            Condition::ActionIs(names) => {
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
            Condition::Validation(kind) => check_validation_kind(cx, res, action, kind),
        }
    }
}

/// The attribute of `optimistic_lock` or `increment`: it exists and is a non-nilable
/// integer (the integer part is checked by rustc at the attribute's token).
fn check_counter(cx: &Ctxt, res: &Resource, attribute: &Ident, builtin: &str, is_lock: bool) {
    let names: Vec<String> = res.attributes.iter().map(|a| a.ident.to_string()).collect();
    match res.attribute(attribute) {
        None => cx.error_spanned_by(
            attribute,
            format!(
                "`{builtin}` needs an attribute of `{}`; there is no attribute `{attribute}`{}",
                res.ident(),
                suggest::hint(&attribute.to_string(), names.iter().map(String::as_str))
            ),
        ),
        Some(attr) if attr.nilable => cx.error_spanned_by(
            attribute,
            if is_lock {
                format!("the version attribute `{attribute}` must not be nilable; declare it as an integer such as `i64` with `#[attribute(default = 1)]`, not `Option<_>`")
            } else {
                format!("`increment` needs a non-nilable integer attribute; `{attribute}` is `Option<_>`")
            },
        ),
        Some(attr) if attr.primary_key.is_some() => cx.error_spanned_by(
            attribute,
            format!("the primary key cannot be written by `{builtin}`"),
        ),
        Some(_) => {}
    }
}

/// Builtins that write an attribute need an attribute (not an argument).
fn check_attribute_target(cx: &Ctxt, res: &Resource, attribute: &Ident, builtin: &str) {
    if res.attribute(attribute).is_none() {
        let names: Vec<String> = res.attributes.iter().map(|a| a.ident.to_string()).collect();
        cx.error_spanned_by(
            attribute,
            format!(
                "`{builtin}` needs an attribute of `{}`; there is no attribute `{attribute}`{}",
                res.ident(),
                suggest::hint(&attribute.to_string(), names.iter().map(String::as_str))
            ),
        );
    }
}

/// `arg(name)` reads an argument of the running action.
fn check_arg(cx: &Ctxt, action: Option<&Action>, name: &Ident) {
    match action {
        None => cx.error_spanned_by(
            name,
            "`arg(...)` in a global change: arguments belong to actions; use the change inside the action",
        ),
        Some(action) if action.argument(name).is_none() => {
            let names: Vec<String> = action.arguments.iter().map(|a| a.ident.to_string()).collect();
            cx.error_spanned_by(
                name,
                format!(
                    "action `{}` has no argument `{name}`{}; its arguments: {}",
                    action.name,
                    suggest::hint(&name.to_string(), names.iter().map(String::as_str)),
                    suggest::list(names.iter().map(String::as_str))
                ),
            );
        }
        Some(_) => {}
    }
}
