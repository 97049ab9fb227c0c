//! `change = manage_relationship(argument, relationship, type = .., on_* = ..)`: parsing and
//! the checks that need only this resource (the related resource's actions are checked by
//! rustc, through the traits the expansion names).

use super::ast::{Action, ActionKind, RelKind, Resource};
use crate::ctxt::Ctxt;
use crate::meta::{self, Entry};
use proc_macro2::{Span, TokenStream};
use syn::Ident;

pub const TYPES: [&str; 6] = [
    "append_and_remove",
    "append",
    "remove",
    "direct_control",
    "create",
    "replace",
];
const OPTIONS: [&str; 5] = ["type", "on_lookup", "on_no_match", "on_match", "on_missing"];
const USAGE: &str = "manage_relationship(lines, type = direct_control)";

/// One option value: `create`, or `create(action_name)`.
#[derive(Clone)]
pub struct OptionValue {
    pub value: Ident,
    pub action: Option<Ident>,
}

/// A parsed `manage_relationship(...)`.
pub struct ManageDef {
    pub argument: Ident,
    pub relationship: Ident,
    pub ty: Option<Ident>,
    pub on_lookup: Option<OptionValue>,
    pub on_no_match: Option<OptionValue>,
    pub on_match: Option<OptionValue>,
    pub on_missing: Option<OptionValue>,
    pub span: Span,
}

/// The four options, resolved: each a value name and its action, if it takes one.
pub struct Resolved {
    pub on_lookup: String,
    pub on_no_match: String,
    pub on_match: String,
    pub on_missing: String,
    /// The related resource's actions the options run: create, update (relate,
    /// unrelate and update share it) and destroy. `None`: the option names none, the
    /// related resource's primary action of that type runs; not needed: `needs_*` false.
    pub create: Option<Ident>,
    pub update: Option<Ident>,
    pub destroy: Option<Ident>,
    pub needs_create: bool,
    pub needs_update: bool,
    pub needs_destroy: bool,
}

pub fn parse(cx: &Ctxt, args: &[TokenStream], span: Span) -> Option<ManageDef> {
    let mut names = Vec::new();
    let mut def = ManageDef {
        argument: Ident::new("__missing", span),
        relationship: Ident::new("__missing", span),
        ty: None,
        on_lookup: None,
        on_no_match: None,
        on_match: None,
        on_missing: None,
        span,
    };
    for arg in args {
        match meta::parse_entry(arg.clone()) {
            Ok(Entry::Flag(name)) if names.len() < 2 => names.push(name),
            Ok(Entry::KeyValue(key, value)) => {
                let key_str = key.to_string();
                if key_str == "type" {
                    match meta::name(value.clone()) {
                        Ok(ty) => def.ty = Some(ty),
                        Err(_) => cx.error_spanned_by(
                            value,
                            format!("`type` takes one of {}", crate::suggest::list(TYPES)),
                        ),
                    }
                    continue;
                }
                let slot = match key_str.as_str() {
                    "on_lookup" => &mut def.on_lookup,
                    "on_no_match" => &mut def.on_no_match,
                    "on_match" => &mut def.on_match,
                    "on_missing" => &mut def.on_missing,
                    _ => {
                        cx.error_spanned_by(
                            &key,
                            format!(
                                "unknown `manage_relationship` option `{key_str}`{}; valid options: {}",
                                crate::suggest::hint(&key_str, OPTIONS),
                                crate::suggest::list(OPTIONS)
                            ),
                        );
                        continue;
                    }
                };
                match meta::parse_entry(value.clone()) {
                    Ok(Entry::Flag(value)) => {
                        *slot = Some(OptionValue {
                            value,
                            action: None,
                        })
                    }
                    Ok(Entry::Call(value, inner)) => match meta::name(inner.clone()) {
                        Ok(action) => {
                            *slot = Some(OptionValue {
                                value,
                                action: Some(action),
                            })
                        }
                        Err(_) => cx.error_spanned_by(
                            inner,
                            "expected the name of an action of the related resource: `create(create_line)`",
                        ),
                    },
                    _ => cx.error_spanned_by(
                        value,
                        format!("expected a value such as `create` or `create(action)` for `{key_str}`"),
                    ),
                }
            }
            _ => cx.error_spanned_by(
                arg,
                format!("`manage_relationship` takes an argument, an optional relationship, then options: `{USAGE}`"),
            ),
        }
    }
    let mut names = names.into_iter();
    let Some(argument) = names.next() else {
        cx.error_at(
            span,
            format!("`manage_relationship` needs the argument it reads: `{USAGE}`"),
        );
        return None;
    };
    def.relationship = names.next().unwrap_or_else(|| argument.clone());
    def.argument = argument;
    if def.ty.is_none() {
        cx.error_at(
            span,
            format!(
                "`manage_relationship` needs a `type`: one of {} (`{USAGE}`)",
                crate::suggest::list(TYPES)
            ),
        );
        return None;
    }
    Some(def)
}

/// The type's defaults (Ash's `manage_relationship_opts/1`), then the explicit options.
/// `many_to_many`: relate and unrelate write join records (the join resource's primary
/// actions), so only `on_match = update` runs the destination's update action.
pub fn resolve(def: &ManageDef, many_to_many: bool) -> Resolved {
    let ty = def.ty.as_ref().map(|t| t.to_string()).unwrap_or_default();
    let (lookup, no_match, on_match, missing) = match ty.as_str() {
        "append_and_remove" | "replace" => ("relate", "error", "ignore", "unrelate"),
        "append" => ("relate", "error", "ignore", "ignore"),
        "remove" => ("ignore", "error", "unrelate", "ignore"),
        "direct_control" => ("ignore", "create", "update", "destroy"),
        _ => ("ignore", "create", "ignore", "ignore"),
    };
    let pick = |given: &Option<OptionValue>, default: &str| match given {
        Some(v) => (v.value.to_string(), v.action.clone()),
        None => (default.to_owned(), None),
    };
    let (on_lookup, lookup_action) = pick(&def.on_lookup, lookup);
    let (on_no_match, create) = pick(&def.on_no_match, no_match);
    let (on_match, match_action) = pick(&def.on_match, on_match);
    let (on_missing, missing_action) = pick(&def.on_missing, missing);
    let needs_create = on_no_match == "create";
    let needs_update = if many_to_many {
        on_match == "update"
    } else {
        on_lookup == "relate"
            || matches!(on_match.as_str(), "update" | "unrelate")
            || on_missing == "unrelate"
    };
    let needs_destroy = on_missing == "destroy";
    let update = if many_to_many {
        match_action.clone().filter(|_| on_match == "update")
    } else {
        match_action
            .clone()
            .filter(|_| matches!(on_match.as_str(), "update" | "unrelate"))
            .or(lookup_action)
            .or_else(|| missing_action.clone().filter(|_| on_missing == "unrelate"))
    };
    let destroy = missing_action.filter(|_| on_missing == "destroy");
    Resolved {
        on_lookup,
        on_no_match,
        on_match,
        on_missing,
        create,
        update,
        destroy,
        needs_create,
        needs_update,
        needs_destroy,
    }
}

/// Whether `ty` is written `Vec<..>`: a list, which a to-one relationship cannot take.
fn is_vec(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::Path(p) => p.path.segments.last().is_some_and(|s| s.ident == "Vec"),
        _ => false,
    }
}

/// An option, its name, its valid values, and the values that run an action.
type OptionRule<'a> = (
    &'a Option<OptionValue>,
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
);

/// The checks: the argument is the action's, the relationship the resource's (and of a
/// kind this port manages), the action a create or update, each option's value valid, one
/// update action for relate, unrelate and update, and the resource has a domain (the
/// related actions run through it).
pub fn check(cx: &Ctxt, res: &Resource, action: Option<&Action>, def: &ManageDef) {
    let Some(action) = action else {
        cx.error_at(
            def.span,
            "`manage_relationship` reads an action's argument: write it in a create or update action, not in the global `#[changes(...)]`",
        );
        return;
    };
    if !matches!(action.kind, ActionKind::Create | ActionKind::Update) {
        cx.error_at(
            def.span,
            format!(
                "`manage_relationship` runs in create and update actions; `{}` is a {} action",
                action.name_str,
                action.kind.name()
            ),
        );
    }
    if action.argument(&def.argument).is_none() {
        let args: Vec<&str> = action.arguments.iter().map(|a| a.name.as_str()).collect();
        let name = crate::name::unraw(&def.argument);
        cx.error_spanned_by(
            &def.argument,
            format!(
                "`{name}` is not an argument of action `{}`{}; its arguments: {} (declare it: `argument({name}: Vec<Managed<..>>)`)",
                action.name_str,
                crate::suggest::hint(&name, args.iter().copied()),
                crate::suggest::list(args.iter().copied())
            ),
        );
    }
    let relationship_named = def.relationship != def.argument;
    match res.relationship(&def.relationship) {
        // `manage_relationship(x, ..)` names both: an unknown `x` is one error, above.
        None if !relationship_named && action.argument(&def.argument).is_none() => {}
        None => {
            let rels: Vec<&str> = res
                .relationships
                .iter()
                .map(|r| r.name_str.as_str())
                .collect();
            let name = crate::name::unraw(&def.relationship);
            cx.error_spanned_by(
                &def.relationship,
                format!(
                    "`{}` has no relationship `{name}`{}; its relationships: {}",
                    res.ident(),
                    crate::suggest::hint(&name, rels.iter().copied()),
                    crate::suggest::list(rels.iter().copied())
                ),
            );
        }
        Some(rel) if rel.kind == RelKind::ManyToMany => {
            // Relate and unrelate write join records through the join resource's
            // primary create and destroy actions: they take no action name.
            for given in [&def.on_lookup, &def.on_match, &def.on_missing]
                .into_iter()
                .flatten()
            {
                let v = given.value.to_string();
                if let (Some(action), "relate" | "unrelate") = (&given.action, v.as_str()) {
                    cx.error_spanned_by(
                        action,
                        format!(
                            "`{}` is a many_to_many: `{v}` writes its join records through the join resource's primary create and destroy actions; write `{v}` without an action",
                            rel.name_str
                        ),
                    );
                }
            }
        }
        Some(rel) if matches!(rel.kind, RelKind::HasOne | RelKind::BelongsTo) => {
            if let Some(arg) = action.argument(&def.argument) {
                if is_vec(&arg.ty) {
                    let kind = if rel.kind == RelKind::HasOne {
                        "has_one"
                    } else {
                        "belongs_to"
                    };
                    cx.error_spanned_by(
                        &arg.ty,
                        format!(
                            "`{}` is a {kind}: its argument takes one input, `Option<Managed<..>>` (`None` runs on_missing), not a list",
                            rel.name_str
                        ),
                    );
                }
            }
        }
        Some(_) => {}
    }
    if res.domain.is_none() {
        cx.error_at(
            def.span,
            format!(
                "`manage_relationship` runs the related resource's actions through the domain: declare it, `#[resource(domain = MyDomain, ...)]` on `{}`",
                res.ident()
            ),
        );
    }
    if let Some(ty) = &def.ty {
        let t = ty.to_string();
        if !TYPES.contains(&t.as_str()) {
            cx.error_spanned_by(
                ty,
                format!(
                    "unknown `manage_relationship` type `{t}`{}; valid types: {}",
                    crate::suggest::hint(&t, TYPES),
                    crate::suggest::list(TYPES)
                ),
            );
        }
    }
    let valid: [OptionRule<'_>; 4] = [
        (
            &def.on_lookup,
            "on_lookup",
            &["ignore", "relate"],
            &["relate"],
        ),
        (
            &def.on_no_match,
            "on_no_match",
            &["ignore", "create", "error"],
            &["create"],
        ),
        (
            &def.on_match,
            "on_match",
            &["ignore", "update", "unrelate", "error"],
            &["update", "unrelate"],
        ),
        (
            &def.on_missing,
            "on_missing",
            &["ignore", "destroy", "unrelate", "error"],
            &["destroy", "unrelate"],
        ),
    ];
    for (given, option, values, with_action) in valid {
        let Some(given) = given else { continue };
        let v = given.value.to_string();
        if !values.contains(&v.as_str()) {
            cx.error_spanned_by(
                &given.value,
                format!(
                    "`{option}` takes {}{}",
                    crate::suggest::list(values.iter().copied()),
                    crate::suggest::hint(&v, values.iter().copied())
                ),
            );
        } else if given.action.is_some() && !with_action.contains(&v.as_str()) {
            cx.error_spanned_by(
                &given.value,
                format!("`{option} = {v}` runs no action; write it without one"),
            );
        }
    }
    let updates: Vec<&Ident> = [&def.on_lookup, &def.on_match, &def.on_missing]
        .into_iter()
        .flatten()
        .filter(|v| {
            matches!(
                v.value.to_string().as_str(),
                "relate" | "update" | "unrelate"
            )
        })
        .filter_map(|v| v.action.as_ref())
        .collect();
    if let Some(first) = updates.first() {
        for other in &updates[1..] {
            if crate::name::unraw(other) != crate::name::unraw(first) {
                cx.error_spanned_by(
                    other,
                    format!(
                        "one `manage_relationship` relates, unrelates and updates through one update action; `{first}` is named already"
                    ),
                );
            }
        }
    }
}
