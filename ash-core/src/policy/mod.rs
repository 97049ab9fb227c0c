//! Policies: authorization with an actor (Ash's `Ash.Policy.Authorizer`).
//!
//! A resource declares its policies with `#[policies(actor = User, ...)]`; `#[resource]`
//! lists them in [`Resource::POLICIES`] as static
//! descriptions ([`PolicyInfo`]) and generates
//! [`Resource::policy_check`], which decides the
//! checks that need typed code (an actor's attribute, a filter over the resource, a custom
//! check). The pipeline authorizes every action after its changes and validations and
//! before the data layer:
//!
//! - every policy whose condition holds must pass; a bypass that passes authorizes and
//!   skips the policies after it; a failing bypass is ignored; when no policy applies the
//!   action is forbidden ([`evaluate`], Ash's `Ash.Policy.Policy.expression/2`);
//! - within a policy the checks run in order and the first that decides wins; a policy in
//!   which no check decides forbids;
//! - a check is decided now ([`Decision::True`], [`Decision::False`]) or is a *filter
//!   check* ([`Decision::Filter`]): a description of the records it allows. The whole
//!   authorization then is a filter, which joins the read's query (records the actor may
//!   not see are absent, in the one statement PostgreSQL runs) or the update's or
//!   destroy's write filter (the check and the write are one atomic step: a record whose
//!   owner changed since it was read is never written for the wrong actor).
//!
//! A refused action fails with [`Error::Forbidden`](crate::error::Error::Forbidden) holding a
//! [`Forbidden`] breakdown: each policy, whether it applied, which check decided. It names
//! policies and checks as declared, never a record's values.
//!
//! `relates_to_actor_via(author)` (Ash's check over a relationship path) is a filter check
//! like any other: for a belongs_to, `author_id == actor.id` (no relationship filter); for
//! a path (`relates_to_actor_via([post, author])`) or a to-many relationship,
//! `exists(...)` through the path ending at the actor's primary key ([`relates_to_actor`]).
//! Nil actor: false. The same on every data layer, with this difference in what is one
//! atomic step:
//!
//! - PostgreSQL renders the `exists` as SQL `EXISTS`: in the read's one statement, and in
//!   the `WHERE` of the update's or destroy's one statement, where the path is evaluated
//!   together with the write;
//! - ETS resolves the path to keys first, reading each related resource through the
//!   domain's tables ([`Context::tables`](crate::context::Context::tables)): a read returns
//!   only records among the keys; an update or destroy checks the record against the keys
//!   under the entry lock, together with the write's guard (optimistic lock, filters). The
//!   resolution happens *before* that lock: a concurrent change to an intermediate record
//!   (an article changing author while a reply is written) is not seen by the write, which
//!   authorizes against the path as it was just before. The record written itself is
//!   always checked atomically (a reply moved to another article is refused).

mod breakdown;
mod eval;

pub use breakdown::{Forbidden, PolicyOutcome, PolicyResult};
pub use eval::{evaluate, explain};

use crate::action::{ActionInfo, ActionType};
use crate::context::Context;
use crate::filter::Filter;
use crate::resource::Resource;
use std::any::Any;

/// What one check says about a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision<R: Resource> {
    /// The check holds.
    True,
    /// The check does not hold.
    False,
    /// The check holds for the records matching the filter (a filter check): decided by
    /// the data layer, with the read or the write.
    Filter(Filter<R>),
}

impl<R: Resource> Decision<R> {
    /// `True` or `False`.
    #[inline]
    pub fn from_bool(holds: bool) -> Self {
        if holds {
            Decision::True
        } else {
            Decision::False
        }
    }

    /// Both decisions (`and`), simplified: a constant decides or drops out.
    #[inline]
    pub fn and(self, other: impl FnOnce() -> Decision<R>) -> Self {
        match self {
            Decision::False => Decision::False,
            Decision::True => other(),
            Decision::Filter(a) => match other() {
                Decision::False => Decision::False,
                Decision::True => Decision::Filter(a),
                Decision::Filter(b) => Decision::Filter(a.and(b)),
            },
        }
    }

    /// Either decision (`or`), simplified.
    #[inline]
    pub fn or(self, other: impl FnOnce() -> Decision<R>) -> Self {
        match self {
            Decision::True => Decision::True,
            Decision::False => other(),
            Decision::Filter(a) => match other() {
                Decision::True => Decision::True,
                Decision::False => Decision::Filter(a),
                Decision::Filter(b) => Decision::Filter(a.or(b)),
            },
        }
    }

    /// The negation.
    #[inline]
    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Self {
        match self {
            Decision::True => Decision::False,
            Decision::False => Decision::True,
            Decision::Filter(f) => Decision::Filter(f.not()),
        }
    }

    /// The decision for one record: a filter is evaluated on it.
    #[inline]
    pub fn on(&self, record: &R) -> bool {
        match self {
            Decision::True => true,
            Decision::False => false,
            Decision::Filter(f) => f.matches(record),
        }
    }
}

/// How a check's result counts in its policy (Ash's four check entries).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckOp {
    /// `authorize_if(c)`: authorizes when `c` holds, else the next check decides.
    AuthorizeIf,
    /// `forbid_if(c)`: forbids when `c` holds, else the next check decides.
    ForbidIf,
    /// `authorize_unless(c)`: authorizes when `c` does not hold.
    AuthorizeUnless,
    /// `forbid_unless(c)`: forbids when `c` does not hold.
    ForbidUnless,
}

impl CheckOp {
    /// Whether the check authorizes when it decides (else it forbids).
    pub fn authorizes(self) -> bool {
        matches!(self, CheckOp::AuthorizeIf | CheckOp::AuthorizeUnless)
    }

    /// Whether it decides when its check does *not* hold (`_unless`).
    pub fn negated(self) -> bool {
        matches!(self, CheckOp::AuthorizeUnless | CheckOp::ForbidUnless)
    }

    /// The DSL's spelling.
    pub fn name(self) -> &'static str {
        match self {
            CheckOp::AuthorizeIf => "authorize_if",
            CheckOp::ForbidIf => "forbid_if",
            CheckOp::AuthorizeUnless => "authorize_unless",
            CheckOp::ForbidUnless => "forbid_unless",
        }
    }
}

/// A check, described. The builtins that need no typed code are decided by [`evaluate`];
/// the others by the resource's generated
/// [`policy_check`](crate::resource::Resource::policy_check).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckKind {
    /// `always()`.
    Always,
    /// `never()`.
    Never,
    /// `actor_present()`: the call has an actor.
    ActorPresent,
    /// `actor_absent()`: the call has no actor.
    ActorAbsent,
    /// `action(a)` / `action([a, b])`: the action is one of these.
    Action(&'static [&'static str]),
    /// `action_type(t)` / `action_type([t, u])`: the action is of one of these types.
    ActionType(&'static [ActionType]),
    /// Decided by the resource's `policy_check` with this number: `actor_attribute_equals`,
    /// filter checks (`expr(...)`, `attribute_equals_actor`) and custom checks.
    Generated(u16),
}

/// A check as declared: its kind and its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckInfo {
    /// The check as written, `actor_attribute_equals(role, Role::Admin)`.
    pub description: &'static str,
    /// How it is decided.
    pub kind: CheckKind,
}

/// A policy as declared: `policy(conditions..., checks...)` or `bypass(...)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PolicyInfo {
    /// The policy's conditions as written, `policy(action_type(update))`.
    pub description: &'static str,
    /// `bypass(...)`: when it passes it authorizes and the policies after it are skipped.
    pub bypass: bool,
    /// Its conditions, all of which must hold for it to apply (none: always).
    pub conditions: &'static [CheckInfo],
    /// Its checks, in order.
    pub checks: &'static [(CheckOp, CheckInfo)],
}

/// What a check sees: the action and the call's context (its actor).
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The running action.
    pub action: &'static ActionInfo,
    /// The call's context.
    pub context: &'a Context,
}

/// A custom check, written as `authorize_if(IsModerator)` (any expression whose value
/// implements `Check<R>`), as custom changes and validations are.
///
/// A simple check returns [`Decision::True`] or [`Decision::False`]; a filter check
/// returns [`Decision::Filter`], a description the data layer applies.
///
/// ```
/// use ash_core::policy::{Check, Decision, Request};
/// # use ash_core::resource::Resource;
/// struct User { moderator: bool }
/// struct IsModerator;
///
/// impl<R: Resource> Check<R> for IsModerator {
///     type Actor = User;
///     fn describe(&self) -> String {
///         "is a moderator".into()
///     }
///     fn check(&self, actor: Option<&User>, _request: &Request<'_>) -> Decision<R> {
///         Decision::from_bool(actor.is_some_and(|u| u.moderator))
///     }
/// }
/// ```
pub trait Check<R: Resource>: Send + Sync {
    /// The actor type the check reads (`Option::None` when the call has no actor of it).
    type Actor: Any;
    /// What the check verifies, for messages.
    fn describe(&self) -> String;
    /// Decides the check for one request.
    fn check(&self, actor: Option<&Self::Actor>, request: &Request<'_>) -> Decision<R>;
}

/// Runs a custom check with the call's actor (used by generated code).
#[inline]
pub fn run_check<R: Resource, C: Check<R>>(check: &C, request: &Request<'_>) -> Decision<R> {
    check.check(request.context.actor::<C::Actor>(), request)
}

/// The authorization of one request: what the pipeline does with it.
#[derive(Debug, Clone, PartialEq)]
pub enum Authorization<R: Resource> {
    /// Authorized as is.
    Authorized,
    /// Authorized for the records matching the filter: it joins the read's query or the
    /// write's filter.
    Filter(Filter<R>),
    /// Forbidden, whatever the records.
    Forbidden,
}

/// Authorizes a request against `R`'s policies; without policies, always authorized.
#[inline]
pub fn authorize<R: Resource>(action: &'static ActionInfo, ctx: &Context) -> Authorization<R> {
    if R::POLICIES.is_empty() {
        return Authorization::Authorized;
    }
    let request = Request {
        action,
        context: ctx,
    };
    let decision = match const { single_check(R::POLICIES) } {
        // One policy that always applies, with one `authorize_if`: its check decides.
        Some(check) => eval::decide(check, &request, R::policy_check),
        None => evaluate::<R>(R::POLICIES, &request, R::policy_check),
    };
    match decision {
        Decision::True => Authorization::Authorized,
        Decision::False => Authorization::Forbidden,
        Decision::Filter(filter) => Authorization::Filter(filter),
    }
}

/// The check of `policies` when they are one policy that always applies (no conditions,
/// or only `always()`) with one `authorize_if`: the whole authorization is that check
/// (`true -> (c or false)` is `c`). Decided at compile time from the declaration.
const fn single_check(policies: &'static [PolicyInfo]) -> Option<&'static CheckInfo> {
    let [policy] = policies else {
        return None;
    };
    if policy.bypass {
        return None;
    }
    let mut i = 0;
    while i < policy.conditions.len() {
        if !matches!(policy.conditions[i].kind, CheckKind::Always) {
            return None;
        }
        i += 1;
    }
    match policy.checks {
        [(CheckOp::AuthorizeIf, check)] => Some(check),
        _ => None,
    }
}

/// The `Forbidden` error of a refused request; `record`, when given (the stored record a
/// write was refused on), resolves the filter checks on it for the breakdown.
#[cold]
#[inline(never)]
pub fn forbidden<R: Resource>(
    action: &'static ActionInfo,
    ctx: &Context,
    record: Option<&R>,
) -> crate::error::Error {
    let request = Request {
        action,
        context: ctx,
    };
    let breakdown = explain::<R>(R::POLICIES, &request, R::policy_check, record);
    crate::error::ErrorKind::Forbidden(breakdown).into()
}

/// The actor type of a `relates_to_actor_via` path is the resource at its end: the actor
/// *is* a record of `D` (generated code's check).
#[diagnostic::on_unimplemented(
    message = "the actor type `{Self}` is not `{D}`, the resource this `relates_to_actor_via` path ends at",
    label = "the path ends at `{D}`",
    note = "through a path or a to-many relationship the actor must be a record of the last resource (`#[policies(actor = {D}, ...)]`); a single belongs_to only reads the actor's field of its destination attribute"
)]
pub trait ActorRecord<D: Resource> {
    /// The actor as a record of `D`.
    fn as_record(&self) -> &D;
}

impl<D: Resource> ActorRecord<D> for D {
    #[inline]
    fn as_record(&self) -> &D {
        self
    }
}

/// The filter on `Rel`'s source matching the records related to `actor` through `rel`
/// (the last hop of a `relates_to_actor_via` path; see
/// [`Relationship::related_to`](crate::relationship::Relationship::related_to)).
#[inline]
pub fn relates_to_actor<Rel, A>(rel: Rel, actor: &A) -> Filter<Rel::Source>
where
    Rel: crate::relationship::Relationship,
    A: ActorRecord<Rel::Destination> + ?Sized,
{
    rel.related_to(actor.as_record())
}
