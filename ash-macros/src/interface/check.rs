//! Rules for `define`s, one function each: everything a define names must exist in the
//! resource, so a typo is a compile error at the define, not a runtime surprise.

use super::ast::Define;
use crate::ctxt::Ctxt;
use crate::name::unraw;
use crate::resource::ast::{ActionKind, Resource};
use crate::suggest;
use std::collections::HashSet;

/// Checks one define.
pub fn check_define(cx: &Ctxt, res: &Resource, define: &Define) {
    let Some(action) = check_action_exists(cx, res, define) else {
        return;
    };
    let inputs: Vec<syn::Ident> = action
        .accept
        .iter()
        .cloned()
        .chain(action.arguments.iter().map(|a| a.ident.clone()))
        .collect();
    check_args(cx, res, define, action.kind, &inputs);
    check_get_by(cx, res, define, action.kind);
    check_get_by_identity(cx, res, define, action.kind);
    check_get_options(cx, define, action);
    check_loads(cx, res, define, action.kind);
}

/// `load = [...]` names relationships or aggregates of the resource, each once, on a read
/// define.
fn check_loads(cx: &Ctxt, res: &Resource, define: &Define, kind: ActionKind) {
    let Some((kw, names)) = &define.load else {
        return;
    };
    if kind != ActionKind::Read {
        cx.error_spanned_by(
            kw,
            format!(
                "`load` loads relationships on the records a read returns; it does not apply to {} actions (load them after with `domain.load(..)`)",
                kind.name()
            ),
        );
        return;
    }
    let known: Vec<&str> = res
        .relationships
        .iter()
        .map(|r| r.name_str.as_str())
        .chain(res.aggregates.iter().map(|a| a.name_str.as_str()))
        .collect();
    // The wording names aggregates only to a resource that has some.
    let (noun, listed) = if res.aggregates.is_empty() {
        ("relationship", "relationships")
    } else {
        ("relationship or aggregate", "relationships and aggregates")
    };
    let mut seen = HashSet::new();
    for name in names {
        let n = unraw(name);
        if load_handle(res, name).is_none() {
            let list = if known.is_empty() {
                format!("`{}` declares no relationships", res.ident())
            } else {
                format!("its {listed}: {}", suggest::list(known.iter().copied()))
            };
            cx.error_spanned_by(
                name,
                format!(
                    "`{}` has no {noun} `{n}`{}; {list}",
                    res.ident(),
                    suggest::hint(&n, known.iter().copied())
                ),
            );
        } else if !seen.insert(n.clone()) {
            cx.error_spanned_by(name, format!("`{n}` is loaded twice"));
        }
    }
}

/// The typed handle (`Post::COMMENTS`, `Post::COMMENT_COUNT`) a define's `load` entry
/// names: a relationship or an aggregate of the resource.
pub(crate) fn load_handle<'r>(res: &'r Resource, name: &syn::Ident) -> Option<&'r syn::Ident> {
    if let Some(rel) = res.relationship(name) {
        return Some(&rel.konst);
    }
    let n = unraw(name);
    res.aggregates
        .iter()
        .find(|a| a.name_str == n)
        .map(|a| &a.konst)
}

/// `get_by_identity` names an identity of the resource, instead of `get_by`.
fn check_get_by_identity(cx: &Ctxt, res: &Resource, define: &Define, kind: ActionKind) {
    let Some(identity) = &define.get_by_identity else {
        return;
    };
    let name = unraw(identity);
    if kind == ActionKind::Create {
        cx.error_spanned_by(
            identity,
            "`get_by_identity` finds an existing record; it does not apply to create actions",
        );
    } else if !define.get_by.is_empty() {
        cx.error_spanned_by(identity, "give `get_by` or `get_by_identity`, not both");
    } else if res.identity(identity).is_none() {
        let names: Vec<&str> = res.identities.iter().map(|i| i.name_str.as_str()).collect();
        cx.error_spanned_by(
            identity,
            format!(
                "`get_by_identity` names `{name}`, which is not an identity of `{}`{}; its identities: {}",
                res.ident(),
                suggest::hint(&name, names.iter().copied()),
                suggest::list(names.iter().copied())
            ),
        );
    } else if kind != ActionKind::Read && !res.actions.iter().any(|a| a.kind == ActionKind::Read) {
        cx.error_spanned_by(
            identity,
            format!("`get_by_identity` on a {} action reads the record first, but `{}` has no read action; add `defaults(read)`", kind.name(), res.ident()),
        );
    }
}

/// Ash: "The interface of R refers to a non-existent action a".
fn check_action_exists<'r>(
    cx: &Ctxt,
    res: &'r Resource,
    define: &Define,
) -> Option<&'r crate::resource::ast::Action> {
    let ident = define.action_ident();
    let name = unraw(ident);
    let found = res.action(&name);
    if found.is_none() {
        let names: Vec<String> = res.actions.iter().map(|a| a.name_str.clone()).collect();
        let implicit = if define.action.is_none() {
            " (a define without `action = ...` runs the action named like it)".to_string()
        } else {
            String::new()
        };
        cx.error_spanned_by(
            ident,
            format!(
                "`{}` has no action `{name}`{}{implicit}; its actions: {}",
                res.ident(),
                suggest::hint(&name, names.iter().map(String::as_str)),
                suggest::list(names.iter().map(String::as_str))
            ),
        );
    }
    found
}

/// Positional args set inputs, so each must be an input the action takes, an accepted
/// attribute or an argument (Ash: interface args not accepted).
fn check_args(cx: &Ctxt, res: &Resource, define: &Define, kind: ActionKind, accept: &[syn::Ident]) {
    let mut seen = HashSet::new();
    let accepted: Vec<String> = accept.iter().map(unraw).collect();
    let action = define.action_name();
    for arg in &define.args {
        let n = unraw(arg);
        if !seen.insert(n.clone()) {
            cx.error_spanned_by(
                arg,
                format!("`{n}` is given twice in `args`; arguments must be unique"),
            );
            continue;
        }
        if accept.is_empty() {
            cx.error_spanned_by(
                arg,
                format!(
                    "this {} action takes no inputs, so `args` cannot name `{n}`",
                    kind.name()
                ),
            );
            continue;
        }
        if !accepted.contains(&n) {
            let what = if res.attribute(arg).is_some() {
                format!("the attribute `{n}` is not accepted by action `{action}`")
            } else {
                format!("action `{action}` has no input `{n}`")
            };
            cx.error_spanned_by(
                arg,
                format!(
                    "{what}{}; it accepts {}",
                    suggest::hint(&n, accepted.iter().map(String::as_str)),
                    suggest::list(accepted.iter().map(String::as_str))
                ),
            );
        }
    }
}

/// `get_by` keys filter records, so each must be an attribute; creates have no record.
fn check_get_by(cx: &Ctxt, res: &Resource, define: &Define, kind: ActionKind) {
    if kind == ActionKind::Create {
        if let Some(first) = define.get_by.first() {
            cx.error_spanned_by(
                first,
                "`get_by` finds an existing record; it does not apply to create actions",
            );
        }
        return;
    }
    let names: Vec<String> = res.attributes.iter().map(|a| a.name.clone()).collect();
    let mut seen = HashSet::new();
    for key in &define.get_by {
        let n = unraw(key);
        if !seen.insert(n.clone()) {
            cx.error_spanned_by(key, format!("`{n}` is given twice in `get_by`"));
        } else if res.attribute(key).is_none() {
            cx.error_spanned_by(
                key,
                format!(
                    "`get_by` names `{n}`, which is not an attribute of `{}`{}",
                    res.ident(),
                    suggest::hint(&n, names.iter().map(String::as_str))
                ),
            );
        }
    }
    if kind != ActionKind::Read
        && !define.get_by.is_empty()
        && !res.actions.iter().any(|a| a.kind == ActionKind::Read)
    {
        cx.error_spanned_by(
            &define.get_by[0],
            format!("`get_by` on a {} action reads the record first, but `{}` has no read action; add `defaults(read)`", kind.name(), res.ident()),
        );
    }
}

/// `get` and `not_found_error` shape a read's result.
fn check_get_options(cx: &Ctxt, define: &Define, action: &crate::resource::ast::Action) {
    let kind = action.kind;
    if let Some((kw, _)) = &define.get {
        if kind != ActionKind::Read {
            cx.error_spanned_by(kw, "`get` applies to read actions only");
        }
    }
    if let Some((kw, _)) = &define.not_found_error {
        if !(define.is_get() || action.get) || kind != ActionKind::Read {
            cx.error_spanned_by(
                kw,
                "`not_found_error` applies to read interfaces that return one record (`get_by = [..]` or `get = true`)",
            );
        }
    }
}
