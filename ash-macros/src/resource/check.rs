//! Rules over the whole resource, one function each. Each records errors and returns, so
//! every broken rule is reported in the same build.

use super::ast::*;
use crate::ctxt::Ctxt;
use crate::name::unraw;
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
    check_identities(cx, res);
    check_upserts(cx, res);
    check_primary_key_writes(cx, res);
    check_relationships(cx, res);
    super::aggregates::check::check(cx, res);
    super::policies::check::check(cx, res);
}

/// Relationship names are unique and clash with no attribute (they are fields of the
/// struct); their source attributes exist.
fn check_relationships(cx: &Ctxt, res: &Resource) {
    let names: Vec<String> = res.attributes.iter().map(|a| a.name.clone()).collect();
    for (i, rel) in res.relationships.iter().enumerate() {
        if res.attribute(&rel.name).is_some() {
            cx.error_spanned_by(
                &rel.name,
                format!(
                    "relationship `{}` has the name of an attribute of `{}`; rename one",
                    rel.name_str,
                    res.ident()
                ),
            );
        } else if res.relationships[..i]
            .iter()
            .any(|o| o.name_str == rel.name_str || o.konst == rel.konst)
        {
            cx.error_spanned_by(
                &rel.name,
                format!(
                    "duplicate relationship `{}`; relationship names must be unique",
                    rel.name_str
                ),
            );
        } else if res.attributes.iter().any(|a| a.konst == rel.konst)
            || res.identities.iter().any(|id| id.konst == rel.konst)
        {
            cx.error_spanned_by(
                &rel.name,
                format!(
                    "relationship `{}` would have the handle `{}::{}` of another item; rename it",
                    rel.name_str,
                    res.ident(),
                    rel.konst
                ),
            );
        }
        if let Some(key) = res.attribute(&rel.source_attribute) {
            if rel.kind == RelKind::BelongsTo && rel.on_delete == "nilify" && !key.nilable {
                cx.error_spanned_by(
                    &rel.on_delete,
                    format!(
                        "`on_delete = nilify` sets `{}` to nil, but `{}` of `{}` cannot be nil; make it an `Option` (drop `allow_nil = false`) or use `on_delete = cascade` or `restrict`",
                        key.name, key.name, res.ident()
                    ),
                );
            }
        } else {
            let name = unraw(&rel.source_attribute);
            cx.error_spanned_by(
                &rel.source_attribute,
                format!(
                    "relationship `{}` uses `{name}` of `{}` as its source attribute, but there is no such attribute{}",
                    rel.name_str,
                    res.ident(),
                    suggest::hint(&name, names.iter().map(String::as_str))
                ),
            );
        }
    }
}

/// Whether a relationship passes [`check_relationships`] (for the fallback).
pub fn relationship_ok(res: &Resource, index: usize) -> bool {
    let rel = &res.relationships[index];
    res.attribute(&rel.name).is_none()
        && res.attribute(&rel.source_attribute).is_some()
        && !res.relationships[..index]
            .iter()
            .any(|o| o.name_str == rel.name_str || o.konst == rel.konst)
        && !res.attributes.iter().any(|a| a.konst == rel.konst)
        && !res.identities.iter().any(|id| id.konst == rel.konst)
}

/// Identities name attributes, each once, and have unique names that do not clash with an
/// attribute's typed handle (`User::EMAIL`); Ash's `VerifyIdentityFields` and the
/// uniqueness of DSL entity names.
fn check_identities(cx: &Ctxt, res: &Resource) {
    for (i, identity) in res.identities.iter().enumerate() {
        if res.identities[..i]
            .iter()
            .any(|other| other.name_str == identity.name_str)
        {
            cx.error_spanned_by(
                &identity.name,
                format!(
                    "duplicate identity `{}`; identity names must be unique",
                    identity.name_str
                ),
            );
        } else if let Some(attr) = res.attributes.iter().find(|a| a.konst == identity.konst) {
            cx.error_spanned_by(
                &identity.name,
                format!(
                    "identity `{}` would have the handle `{}::{}` of attribute `{}`; rename the identity (e.g. `unique_{}`)",
                    identity.name_str, res.ident(), identity.konst, attr.name, attr.name
                ),
            );
        } else if let Some(other) = res.identities[..i]
            .iter()
            .find(|o| o.variant == identity.variant || o.konst == identity.konst)
        {
            cx.error_spanned_by(
                &identity.name,
                format!(
                    "identities `{}` and `{}` would have one generated name; rename one",
                    other.name_str, identity.name_str
                ),
            );
        }
        check_identity_fields(cx, res, identity);
    }
}

/// The attributes of one identity.
pub fn check_identity_fields(cx: &Ctxt, res: &Resource, identity: &IdentityDef) {
    if identity.fields.is_empty() {
        cx.error_spanned_by(
            &identity.name,
            format!(
                "identity `{}` names no attribute; list at least one: `identity({}, [email])`",
                identity.name_str, identity.name_str
            ),
        );
    }
    let names: Vec<String> = res.attributes.iter().map(|a| a.name.clone()).collect();
    let mut seen = HashSet::new();
    for field in &identity.fields {
        let name = unraw(field);
        if !seen.insert(name.clone()) {
            cx.error_spanned_by(
                field,
                format!(
                    "`{name}` is listed twice in identity `{}`",
                    identity.name_str
                ),
            );
        } else if res.attribute(field).is_some_and(|a| holds_float(&a.ty)) {
            cx.error_spanned_by(
                field,
                format!(
                    "`{name}` cannot be part of identity `{}`: it holds a float, and identity values are hashed and compared for equality (`Hash + Eq`); use an integer or a string",
                    identity.name_str
                ),
            );
        } else if res.attribute(field).is_none() {
            cx.error_spanned_by(
                field,
                format!(
                    "identity `{}` names `{name}`, which is not an attribute of `{}`{}; identity keys must be attributes",
                    identity.name_str,
                    res.ident(),
                    suggest::hint(&name, names.iter().map(String::as_str))
                ),
            );
        }
    }
}

/// Whether a type is or contains `f32`/`f64` (written so): not `Hash + Eq`. Other such types
/// are reported by rustc at the attribute's type.
fn holds_float(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::Path(p) => p.path.segments.iter().any(|s| {
            s.ident == "f32"
                || s.ident == "f64"
                || match &s.arguments {
                    syn::PathArguments::AngleBracketed(a) => a
                        .args
                        .iter()
                        .any(|arg| matches!(arg, syn::GenericArgument::Type(t) if holds_float(t))),
                    _ => false,
                }
        }),
        syn::Type::Tuple(t) => t.elems.iter().any(holds_float),
        syn::Type::Array(a) => holds_float(&a.elem),
        syn::Type::Group(g) => holds_float(&g.elem),
        syn::Type::Paren(p) => holds_float(&p.elem),
        _ => false,
    }
}

/// `upsert_identity` names an identity; `upsert_fields` are attributes the action accepts
/// (what an upsert writes on conflict comes from the input, as in Ash's `{:replace, ..}`).
fn check_upserts(cx: &Ctxt, res: &Resource) {
    for action in &res.actions {
        check_upsert(cx, res, action);
    }
}

pub fn check_upsert(cx: &Ctxt, res: &Resource, action: &Action) {
    if let Some(identity) = &action.upsert.identity {
        if res.identity(identity).is_none() {
            let name = unraw(identity);
            let names: Vec<&str> = res.identities.iter().map(|i| i.name_str.as_str()).collect();
            let known = if names.is_empty() {
                format!("`{}` has no identities; declare one with `#[identities(identity({name}, [attribute]))]`", res.ident())
            } else {
                format!("its identities: {}", suggest::list(names.iter().copied()))
            };
            cx.error_spanned_by(
                identity,
                format!(
                    "`upsert_identity` names `{name}`, which is not an identity of `{}`{}; {known}",
                    res.ident(),
                    suggest::hint(&name, names.iter().copied())
                ),
            );
        }
    }
    for field in action.upsert.fields.iter().flatten() {
        let name = unraw(field);
        if !action.accepts(field) {
            let accepted: Vec<String> = action.accept.iter().map(unraw).collect();
            let what = if res.attribute(field).is_some() {
                format!(
                    "the attribute `{name}` is not accepted by action `{}`",
                    action.name_str
                )
            } else {
                format!("`{}` has no attribute `{name}`", res.ident())
            };
            cx.error_spanned_by(
                field,
                format!(
                    "{what}; `upsert_fields` writes accepted attributes on conflict{}; it accepts {}",
                    suggest::hint(&name, accepted.iter().map(String::as_str)),
                    suggest::list(accepted.iter().map(String::as_str))
                ),
            );
        }
    }
}

/// An update never writes the primary key: the record would have to move to another key
/// (the ETS table would keep it under the old one). Moving a record is a destroy and a
/// create; both data layers refuse it the same way, here at compile time, and at run time
/// for a change that sets it.
fn check_primary_key_writes(cx: &Ctxt, res: &Resource) {
    let Some(pk) = res.primary_key() else { return };
    for action in res.actions.iter().filter(|a| a.kind == ActionKind::Update) {
        for ident in &action.accept {
            if unraw(ident) == pk.name {
                cx.error_spanned_by(
                    ident,
                    format!(
                        "update action `{}` cannot accept `{}`: it is the primary key, which an update cannot change; accept it in a create action (to move a record, destroy it and create it with the new key)",
                        action.name_str, pk.name
                    ),
                );
            }
        }
        for change in action.changes() {
            check_no_primary_key_set(
                cx,
                pk,
                change,
                &format!("update action `{}`", action.name_str),
            );
        }
    }
    for change in &res.global_changes {
        if effective_on(&change.options).contains(&ActionKind::Update) {
            check_no_primary_key_set(cx, pk, change, "a global change that runs on updates");
        }
    }
}

fn check_no_primary_key_set(cx: &Ctxt, pk: &Attribute, change: &ChangeRef, place: &str) {
    if let ChangeKind::SetAttribute { attribute, .. }
    | ChangeKind::SetNewAttribute { attribute, .. } = &change.change
    {
        if unraw(attribute) == pk.name {
            cx.error_spanned_by(
                attribute,
                format!(
                    "{place} cannot set `{}`: it is the primary key, which an update cannot change",
                    pk.name
                ),
            );
        }
    }
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
    for ident in attributes.chain(arguments) {
        let name = unraw(ident);
        if RESERVED.contains(&name.as_str()) {
            cx.error_spanned_by(
                ident,
                format!("`{name}` is a reserved name: every action input has `{name}()`; rename the field"),
            );
        }
    }
}

/// Every write and every lookup goes through the primary key, so there must be exactly one,
/// and it can never be nil (Ash: "Primary keys must not be allowed to be nil.").
fn check_primary_key(cx: &Ctxt, res: &Resource) {
    // A struct without named fields has no attributes at all (an error of its own).
    if !matches!(res.item.fields, syn::Fields::Named(_)) {
        return;
    }
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

/// Ash: "Multiple actions with the name `x` defined." Input types are named after actions,
/// so two names giving one input type (`a_b` and `a__b`) clash too.
fn check_unique_actions(cx: &Ctxt, res: &Resource) {
    for (i, action) in res.actions.iter().enumerate() {
        let earlier = &res.actions[..i];
        if earlier.iter().any(|a| a.name_str == action.name_str) {
            cx.error_spanned_by(
                &action.name,
                format!(
                    "duplicate action `{}`; action names must be unique",
                    action.name_str
                ),
            );
        } else if let Some(other) = earlier.iter().find(|a| a.input == action.input) {
            cx.error_spanned_by(
                &action.name,
                format!(
                    "actions `{}` and `{}` would both have the input type `{}`; rename one",
                    other.name_str, action.name_str, action.input
                ),
            );
        }
    }
}

/// Whether `action` is the first of its name and input type (the one kept on errors).
pub fn is_unique_action(res: &Resource, index: usize) -> bool {
    let action = &res.actions[index];
    !res.actions[..index]
        .iter()
        .any(|a| a.name_str == action.name_str || a.input == action.input)
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
    let names: Vec<String> = res.attributes.iter().map(|a| a.name.clone()).collect();
    for action in &res.actions {
        let mut seen = HashSet::new();
        for ident in &action.accept {
            let name = unraw(ident);
            if !seen.insert(name.clone()) {
                cx.error_spanned_by(ident, format!("`{name}` is accepted twice"));
                continue;
            }
            match res.attribute(ident) {
                None => cx.error_spanned_by(
                    ident,
                    format!(
                        "cannot accept `{name}`: `{}` has no attribute `{name}`{}",
                        res.ident(),
                        suggest::hint(&name, names.iter().map(String::as_str))
                    ),
                ),
                Some(attr) if !attr.writable => {
                    let by = res.relationships.iter().find(|r| {
                        r.writable.as_ref().is_some_and(|w| !w.value)
                            && unraw(&r.source_attribute) == name
                    });
                    let why = match by {
                        Some(rel) => format!(
                            " (it is the foreign key of `{}`, declared with `writable = false`)",
                            rel.name_str
                        ),
                        None => String::new(),
                    };
                    cx.error_spanned_by(
                        ident,
                        format!("cannot accept `{name}` because it is not writable{why}"),
                    )
                }
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
            let name = argument.name.clone();
            if !seen.insert(name.clone()) {
                cx.error_spanned_by(&argument.ident, format!("duplicate argument `{name}`"));
            } else if action.accepts(&argument.ident) {
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

pub fn check_change(cx: &Ctxt, res: &Resource, action: Option<&Action>, change: &ChangeRef) {
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
        ChangeKind::ManageRelationship(def) => super::manage::check(cx, res, action, def),
        ChangeKind::Custom(_) => {}
    }
}

pub fn check_validation(
    cx: &Ctxt,
    res: &Resource,
    action: Option<&Action>,
    validation: &ValidateRef,
) {
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
    for ident in names {
        if res.resolve(action, ident).is_none() {
            let name = unraw(ident);
            let known = res.known_names(action);
            let scope = match action {
                Some(a) => format!(
                    "an attribute of `{}` or an argument of action `{}`",
                    res.ident(),
                    a.name_str
                ),
                None => format!(
                    "an attribute of `{}` (global validations see attributes only)",
                    res.ident()
                ),
            };
            cx.error_spanned_by(
                ident,
                format!(
                    "`{name}` is not {scope}{}",
                    suggest::hint(&name, known.iter().map(String::as_str))
                ),
            );
        }
    }
}

/// `on` and `where` of a change or validation.
fn check_options(cx: &Ctxt, res: &Resource, action: Option<&Action>, options: &EntryOptions) {
    for on in options.on.iter().flatten() {
        let name = unraw(on);
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
    let action_names: Vec<String> = res.actions.iter().map(|a| a.name_str.clone()).collect();
    for condition in &options.conditions {
        match condition {
            Condition::ActionIs(names) => {
                for ident in names {
                    let name = unraw(ident);
                    match res.action(&name) {
                        None => cx.error_spanned_by(
                            ident,
                            format!(
                                "`action_is` names an unknown action `{name}`{}; actions of `{}`: {}",
                                suggest::hint(&name, action_names.iter().map(String::as_str)),
                                res.ident(),
                                suggest::list(action_names.iter().map(String::as_str))
                            ),
                        ),
                        Some(named) if action.is_none() => {
                            check_action_is_kind(cx, ident, named, options)
                        }
                        Some(_) => {}
                    }
                }
                if let Some(action) = action {
                    check_action_is_in_action(cx, action, names);
                }
            }
            Condition::Validation(kind) => check_validation_kind(cx, res, action, kind),
        }
    }
}

/// The action types a global entry runs on: its `on`, or `create` and `update`.
pub fn effective_on(options: &EntryOptions) -> Vec<ActionKind> {
    match &options.on {
        Some(on) => on
            .iter()
            .filter_map(|t| ActionKind::from_name(&unraw(t)))
            .filter(|k| *k != ActionKind::Read)
            .collect(),
        None => vec![ActionKind::Create, ActionKind::Update],
    }
}

/// A global entry runs for the actions its `on` includes and its `action_is` names, so an
/// `action_is` naming an action of another type never runs for it (silently, in Ash).
fn check_action_is_kind(cx: &Ctxt, ident: &Ident, named: &Action, options: &EntryOptions) {
    let name = &named.name_str;
    let kind = named.kind.name();
    let article = if named.kind == ActionKind::Update {
        "an"
    } else {
        "a"
    };
    if named.kind == ActionKind::Read {
        cx.error_spanned_by(
            ident,
            format!("`action_is` names `{name}`, a read action; changes and validations do not run on reads"),
        );
    } else if !effective_on(options).contains(&named.kind) {
        let on = match &options.on {
            Some(_) => "its `on`".to_owned(),
            None => "the default `on = [create, update]`".to_owned(),
        };
        cx.error_spanned_by(
            ident,
            format!(
                "`action_is` names `{name}`, {article} {kind} action, but {on} does not include `{kind}`, so this never runs for `{name}`; add `{kind}` to `on`"
            ),
        );
    }
}

/// An entry inside an action runs for that action only: an `action_is` there that does
/// not name it would never hold.
fn check_action_is_in_action(cx: &Ctxt, action: &Action, names: &[Ident]) {
    if names.iter().any(|n| unraw(n) == action.name_str) {
        return;
    }
    if let Some(first) = names.first() {
        cx.error_spanned_by(
            first,
            format!(
                "this entry is inside action `{0}`, which `action_is` does not name, so it never runs; an entry inside an action runs for that action only (use `action_is` in `#[changes(...)]` or `#[validations(...)]`)",
                action.name_str
            ),
        );
    }
}

/// The attribute of `optimistic_lock` or `increment`: it exists and is a non-nilable
/// integer (the integer part is checked by rustc at the attribute's token).
fn check_counter(cx: &Ctxt, res: &Resource, attribute: &Ident, builtin: &str, is_lock: bool) {
    let names: Vec<String> = res.attributes.iter().map(|a| a.name.clone()).collect();
    let name = unraw(attribute);
    match res.attribute(attribute) {
        None => cx.error_spanned_by(
            attribute,
            format!(
                "`{builtin}` needs an attribute of `{}`; there is no attribute `{name}`{}",
                res.ident(),
                suggest::hint(&name, names.iter().map(String::as_str))
            ),
        ),
        Some(attr) if attr.nilable => cx.error_spanned_by(
            attribute,
            if is_lock {
                format!("the version attribute `{name}` must not be nilable; declare it as an integer such as `i64` with `#[attribute(default = 1)]`, not `Option<_>`")
            } else {
                format!("`increment` needs a non-nilable integer attribute; `{name}` is `Option<_>`")
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
        let names: Vec<String> = res.attributes.iter().map(|a| a.name.clone()).collect();
        let name = unraw(attribute);
        cx.error_spanned_by(
            attribute,
            format!(
                "`{builtin}` needs an attribute of `{}`; there is no attribute `{name}`{}",
                res.ident(),
                suggest::hint(&name, names.iter().map(String::as_str))
            ),
        );
    }
}

/// `arg(name)` reads an argument of the running action.
fn check_arg(cx: &Ctxt, action: Option<&Action>, ident: &Ident) {
    match action {
        None => cx.error_spanned_by(
            ident,
            "`arg(...)` in a global change: arguments belong to actions; use the change inside the action",
        ),
        Some(action) if action.argument(ident).is_none() => {
            let name = unraw(ident);
            let names: Vec<String> = action.arguments.iter().map(|a| a.name.clone()).collect();
            cx.error_spanned_by(
                ident,
                format!(
                    "action `{}` has no argument `{name}`{}; its arguments: {}",
                    action.name_str,
                    suggest::hint(&name, names.iter().map(String::as_str)),
                    suggest::list(names.iter().map(String::as_str))
                ),
            );
        }
        Some(_) => {}
    }
}
