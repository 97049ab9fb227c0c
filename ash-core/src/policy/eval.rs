//! Deciding a request: Ash's policy expression (`Ash.Policy.Policy.expression/2`), built
//! and simplified with the facts known now, in one pass.

use super::breakdown::{Forbidden, PolicyOutcome, PolicyResult};
use super::{CheckInfo, CheckKind, CheckOp, Decision, PolicyInfo, Request};
use crate::resource::Resource;

/// The decider of the checks that need typed code (the resource's generated
/// [`policy_check`](crate::resource::Resource::policy_check)).
pub type Leaf<R> = fn(u16, &Request<'_>) -> Decision<R>;

/// One check's decision.
#[inline(always)]
pub(super) fn decide<R: Resource>(
    check: &CheckInfo,
    request: &Request<'_>,
    leaf: Leaf<R>,
) -> Decision<R> {
    match check.kind {
        CheckKind::Always => Decision::True,
        CheckKind::Never => Decision::False,
        CheckKind::ActorPresent => Decision::from_bool(request.context.has_actor()),
        CheckKind::ActorAbsent => Decision::from_bool(!request.context.has_actor()),
        CheckKind::ActionType(types) => Decision::from_bool(types.contains(&request.action.kind)),
        CheckKind::Action(names) => Decision::from_bool(names.contains(&request.action.name)),
        CheckKind::Generated(id) => leaf(id, request),
    }
}

/// A policy's conditions, all of which must hold (none: always).
#[inline(always)]
fn conditions<R: Resource>(
    policy: &PolicyInfo,
    request: &Request<'_>,
    leaf: Leaf<R>,
) -> Decision<R> {
    let mut all = Decision::True;
    for condition in policy.conditions {
        all = all.and(|| decide(condition, request, leaf));
        if matches!(all, Decision::False) {
            break;
        }
    }
    all
}

/// A policy's checks, folded as Ash does (R5.1): `authorize_if c` is `c or rest`,
/// `authorize_unless c` is `not c or rest`, `forbid_if c` is `not c and rest`,
/// `forbid_unless c` is `c and rest`, and the end is `false`: the first check that decides
/// wins, and a policy in which none decides forbids.
#[inline]
fn checks<R: Resource>(
    checks: &[(CheckOp, CheckInfo)],
    request: &Request<'_>,
    leaf: Leaf<R>,
) -> Decision<R> {
    let Some(((op, check), rest)) = checks.split_first() else {
        return Decision::False;
    };
    let holds = decide(check, request, leaf);
    let holds = if op.negated() { holds.not() } else { holds };
    if op.authorizes() {
        holds.or(|| self::checks(rest, request, leaf))
    } else {
        holds.not().and(|| self::checks(rest, request, leaf))
    }
}

/// Decides a request against `policies` (R5.3): every policy that applies must pass, a
/// passing bypass authorizes regardless of the policies after it, a failing bypass is
/// ignored, and when no policy applies the request is forbidden. The result is a constant
/// or the filter of the records the request is authorized for.
#[inline]
pub fn evaluate<R: Resource>(
    policies: &[PolicyInfo],
    request: &Request<'_>,
    leaf: Leaf<R>,
) -> Decision<R> {
    // A right fold in declaration order: `all` and `any` of the policies after this one.
    let mut all = Decision::True;
    let mut any = Decision::False;
    for policy in policies.iter().rev() {
        let applies = conditions(policy, request, leaf);
        if matches!(applies, Decision::False) {
            // (false -> x) is true; a bypass that does not apply is false: neither changes
            // `all` or `any`.
            continue;
        }
        let rest_all = std::mem::replace(&mut all, Decision::True);
        let rest_any = std::mem::replace(&mut any, Decision::False);
        if policy.bypass {
            let complete = applies.and(|| checks(policy.checks, request, leaf));
            all = complete.clone().or(|| rest_all);
            any = complete.or(|| rest_any);
        } else {
            // cond -> (cond and checks) is (not cond) or checks.
            let pass = applies
                .clone()
                .not()
                .or(|| checks(policy.checks, request, leaf));
            all = pass.and(|| rest_all);
            any = applies.or(|| rest_any);
        }
    }
    any.and(|| all)
}

/// A decision as known: for one record when given, else `None` for a filter.
fn known<R: Resource>(decision: &Decision<R>, record: Option<&R>) -> Option<bool> {
    match (decision, record) {
        (Decision::True, _) => Some(true),
        (Decision::False, _) => Some(false),
        (Decision::Filter(filter), Some(record)) => Some(filter.matches(record)),
        (Decision::Filter(_), None) => None,
    }
}

/// The breakdown of a request (cold: only for a refusal): each policy, whether it
/// applied, its result and the check that decided it, and the policy responsible (R5.15:
/// bypasses skipped, the first applicable policy that forbade, else the first in which no
/// check decided). Filter checks are resolved on `record` when given (the stored record a
/// write was refused on).
pub fn explain<R: Resource>(
    policies: &'static [PolicyInfo],
    request: &Request<'_>,
    leaf: Leaf<R>,
    record: Option<&R>,
) -> Forbidden {
    let mut outcomes = Vec::with_capacity(policies.len());
    for policy in policies {
        let applies = known(&conditions(policy, request, leaf), record);
        let mut outcome = PolicyOutcome {
            policy: policy.description,
            bypass: policy.bypass,
            applies,
            result: PolicyResult::NotApplicable,
            decided_by: None,
        };
        if applies != Some(false) {
            outcome.result = PolicyResult::NoCheckDecided;
            for (op, check) in policy.checks {
                let holds = known(&decide(check, request, leaf), record);
                let Some(holds) = holds else {
                    outcome.result = PolicyResult::DependsOnRecord;
                    outcome.decided_by = Some(check.description);
                    break;
                };
                if holds != op.negated() {
                    outcome.result = if op.authorizes() {
                        PolicyResult::Authorized
                    } else {
                        PolicyResult::Forbidden
                    };
                    outcome.decided_by = Some(check.description);
                    break;
                }
            }
        }
        outcomes.push(outcome);
    }
    let responsible = |result: PolicyResult| {
        outcomes
            .iter()
            .position(|o| !o.bypass && o.applies != Some(false) && o.result == result)
    };
    let policy = responsible(PolicyResult::Forbidden)
        .or_else(|| responsible(PolicyResult::NoCheckDecided))
        .or_else(|| responsible(PolicyResult::DependsOnRecord));
    Forbidden {
        resource: R::NAME,
        action: request.action.name,
        policy: policy.map(|i| outcomes[i].policy),
        check: policy.and_then(|i| outcomes[i].decided_by),
        policies: outcomes,
    }
}
