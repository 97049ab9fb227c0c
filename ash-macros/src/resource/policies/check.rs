//! Rules over `#[policies(...)]`, one function each (Ash's policy verifiers and R5.2).

use super::*;
use crate::ctxt::Ctxt;
use crate::name::unraw;
use crate::resource::ast::{Action, ActionKind, Resource};
use crate::suggest;

pub fn check(cx: &Ctxt, res: &Resource) {
    let Some(def) = &res.policies else { return };
    check_has_actions(cx, res, def);
    for policy in &def.policies {
        check_has_checks(cx, policy);
        check_bypass_can_authorize(cx, policy);
        for check in policy
            .conditions
            .iter()
            .chain(policy.checks.iter().map(|e| &e.check))
        {
            check_names(cx, res, check);
            check_actor_type(cx, def, check);
            check_relationship_path(cx, res, check);
        }
        if !res.actions.is_empty() {
            check_applies_somewhere(cx, res, policy);
        }
    }
}

/// Policies guard actions: a resource without any has nothing to apply them to.
fn check_has_actions(cx: &Ctxt, res: &Resource, def: &PoliciesDef) {
    if res.actions.is_empty() {
        cx.error_at(
            def.span,
            format!(
                "`#[policies(...)]` on `{}`, which has no actions for them to apply to; declare actions with `#[actions(...)]`",
                res.ident()
            ),
        );
    }
}

/// R5.2: "Policies must have at least one check."
fn check_has_checks(cx: &Ctxt, policy: &PolicyDef) {
    if policy.checks.is_empty() {
        cx.error_spanned_by(
            &policy.kw,
            format!(
                "a `{}` must have at least one check: add `authorize_if(...)`, `forbid_if(...)`, `authorize_unless(...)` or `forbid_unless(...)`",
                policy.kw
            ),
        );
    }
}

/// R5.2: a bypass of forbid checks only can never authorize.
fn check_bypass_can_authorize(cx: &Ctxt, policy: &PolicyDef) {
    if policy.bypass
        && !policy.checks.is_empty()
        && policy.checks.iter().all(|e| !e.op.authorizes())
    {
        cx.error_spanned_by(
            &policy.kw,
            "a `bypass` with only `forbid_if`/`forbid_unless` checks can never authorize; use `authorize_if(...)` in it, or make it a `policy`",
        );
    }
}

/// Actions, action types and attributes named by checks exist.
fn check_names(cx: &Ctxt, res: &Resource, check: &CheckDef) {
    match &check.kind {
        CheckKindDef::Action(names) => {
            for name in names {
                let n = unraw(name);
                if res.action(&n).is_none() {
                    cx.error_spanned_by(
                        name,
                        format!(
                            "unknown action `{n}` of `{}`{}; its actions: {}",
                            res.ident(),
                            suggest::hint(&n, res.actions.iter().map(|a| a.name_str.as_str())),
                            suggest::list(res.actions.iter().map(|a| a.name_str.as_str()))
                        ),
                    );
                }
            }
        }
        CheckKindDef::ActionType(names) => {
            for name in names {
                let n = unraw(name);
                if ActionKind::from_name(&n).is_none() {
                    cx.error_spanned_by(
                        name,
                        format!(
                            "unknown action type `{n}`{}; action types: {}",
                            suggest::hint(&n, ActionKind::ALL),
                            suggest::list(ActionKind::ALL)
                        ),
                    );
                }
            }
        }
        CheckKindDef::AttributeEqualsActor { attribute, .. }
            if res.attribute(attribute).is_none() =>
        {
            let n = unraw(attribute);
            cx.error_spanned_by(
                attribute,
                format!(
                    "unknown attribute `{n}` of `{}`{}",
                    res.ident(),
                    suggest::hint(&n, res.attributes.iter().map(|a| a.name.as_str()))
                ),
            );
        }
        _ => {}
    }
}

/// A check reading the actor's attributes needs the actor's type.
fn check_actor_type(cx: &Ctxt, def: &PoliciesDef, check: &CheckDef) {
    if def.actor.is_none() && check.kind.needs_actor_type() {
        cx.error_at(
            check.span,
            format!(
                "`{}` reads the actor: declare its type first, `#[policies(actor = User, ...)]`",
                check.text
            ),
        );
    }
}

/// The first relationship of a `relates_to_actor_via` path is one of the resource's (the
/// later ones are checked by the compiler, through `HasRelationship`).
fn check_relationship_path(cx: &Ctxt, res: &Resource, check: &CheckDef) {
    let CheckKindDef::RelatesToActorVia(path) = &check.kind else {
        return;
    };
    let Some(first) = path.first() else { return };
    let n = unraw(first);
    if res.relationship(first).is_some() {
        return;
    }
    let names = res.relationships.iter().map(|r| r.name_str.as_str());
    let known = if res.relationships.is_empty() {
        "; it has no relationships: declare them with `#[relationships(belongs_to(author, User), ...)]`".to_owned()
    } else {
        format!(
            "{}; its relationships: {}",
            suggest::hint(&n, names.clone()),
            suggest::list(names)
        )
    };
    cx.error_spanned_by(
        first,
        format!("unknown relationship `{n}` of `{}`{known}", res.ident()),
    );
}

/// Whether a condition can hold for `action`, as far as the macro knows (`None`: it
/// depends on the call).
fn holds_for(check: &CheckDef, action: &Action) -> Option<bool> {
    match &check.kind {
        CheckKindDef::Never => Some(false),
        CheckKindDef::Always => Some(true),
        CheckKindDef::Action(names) => Some(names.iter().any(|n| unraw(n) == action.name_str)),
        CheckKindDef::ActionType(types) => {
            Some(types.iter().any(|t| unraw(t) == action.kind.name()))
        }
        _ => None,
    }
}

/// A policy whose conditions hold for none of the resource's actions is a mistake (a
/// policy on `destroy` of a resource without destroy actions).
fn check_applies_somewhere(cx: &Ctxt, res: &Resource, policy: &PolicyDef) {
    let applies = res.actions.iter().any(|action| {
        policy
            .conditions
            .iter()
            .all(|c| holds_for(c, action) != Some(false))
    });
    if applies {
        return;
    }
    let Some(condition) = policy.conditions.iter().find(|c| {
        matches!(
            c.kind,
            CheckKindDef::ActionType(_) | CheckKindDef::Action(_) | CheckKindDef::Never
        )
    }) else {
        return;
    };
    // Names that do not exist are reported by `check_names` already.
    let named_unknown = match &condition.kind {
        CheckKindDef::Action(names) => names.iter().any(|n| res.action(&unraw(n)).is_none()),
        CheckKindDef::ActionType(names) => names
            .iter()
            .any(|n| ActionKind::from_name(&unraw(n)).is_none()),
        _ => false,
    };
    if named_unknown {
        return;
    }
    let kinds: Vec<&str> = {
        let mut kinds: Vec<&str> = res.actions.iter().map(|a| a.kind.name()).collect();
        kinds.dedup();
        kinds
    };
    cx.error_at(
        condition.span,
        format!(
            "this `{}` applies to no action of `{}` (its actions: {}; their types: {})",
            policy.kw,
            res.ident(),
            suggest::list(res.actions.iter().map(|a| a.name_str.as_str())),
            suggest::list(kinds)
        ),
    );
}
