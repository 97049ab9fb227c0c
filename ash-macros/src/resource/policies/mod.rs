//! `#[policies(...)]`: the model, its parser and its checks (the expansion is in
//! `expand/policies.rs`), kept apart from the other sections so each concern is one file.
//!
//! ```text
//! #[policies(
//!     actor = User,
//!     bypass(actor_attribute_equals(role, Role::Admin), authorize_if(always())),
//!     policy(action_type(read), authorize_if(expr(Post::PUBLISHED.eq(true))),
//!            authorize_if(attribute_equals_actor(author_id, id))),
//!     policy(action_type([update, destroy]), authorize_if(attribute_equals_actor(author_id, id))),
//!     policy(action(publish), forbid_unless(actor_present()), authorize_if(IsEditor)),
//!     policy(action(review), authorize_if(relates_to_actor_via([blog, owner]))),
//! )]
//! ```

pub mod check;
pub mod parse;

use proc_macro2::{Span, TokenStream};
use syn::{Expr, Ident, Type};

/// The `#[policies(...)]` section.
pub struct PoliciesDef {
    /// The span of `policies` in `#[policies(...)]`.
    pub span: Span,
    /// `actor = User`: the actor type typed checks read.
    pub actor: Option<Type>,
    pub policies: Vec<PolicyDef>,
}

/// `policy(conditions..., checks...)` or `bypass(...)`.
pub struct PolicyDef {
    /// `policy` or `bypass`.
    pub kw: Ident,
    pub bypass: bool,
    /// Conditions, all of which must hold (none: always).
    pub conditions: Vec<CheckDef>,
    /// Checks, in order.
    pub checks: Vec<CheckEntry>,
}

/// `authorize_if(check)` and its three siblings.
pub struct CheckEntry {
    pub op: CheckOpDef,
    pub check: CheckDef,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum CheckOpDef {
    AuthorizeIf,
    ForbidIf,
    AuthorizeUnless,
    ForbidUnless,
}

impl CheckOpDef {
    pub const ALL: [&'static str; 4] = [
        "authorize_if",
        "forbid_if",
        "authorize_unless",
        "forbid_unless",
    ];

    pub fn from_name(name: &str) -> Option<CheckOpDef> {
        Some(match name {
            "authorize_if" => CheckOpDef::AuthorizeIf,
            "forbid_if" => CheckOpDef::ForbidIf,
            "authorize_unless" => CheckOpDef::AuthorizeUnless,
            "forbid_unless" => CheckOpDef::ForbidUnless,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        Self::ALL[self as usize]
    }

    pub fn authorizes(self) -> bool {
        matches!(self, CheckOpDef::AuthorizeIf | CheckOpDef::AuthorizeUnless)
    }
}

/// One check (or condition), with its text for the breakdown.
pub struct CheckDef {
    pub kind: CheckKindDef,
    /// The check as written, tidied: `actor_attribute_equals(role, Role::Admin)`.
    pub text: String,
    /// Where it is written.
    pub span: Span,
}

pub enum CheckKindDef {
    Always,
    Never,
    ActorPresent,
    ActorAbsent,
    /// `action(a)` / `action([a, b])`.
    Action(Vec<Ident>),
    /// `action_type(t)` / `action_type([t, u])`.
    ActionType(Vec<Ident>),
    /// `actor_attribute_equals(attr, value)`: the actor's `attr` equals `value`.
    ActorAttributeEquals {
        attribute: Ident,
        value: Expr,
    },
    /// `attribute_equals_actor(attr, actor_attr)`: a filter, the record's `attr` equals
    /// the actor's `actor_attr`.
    AttributeEqualsActor {
        attribute: Ident,
        actor_attribute: Ident,
    },
    /// `expr(<Filter>)`: a filter check; `uses_actor` when it names `actor`.
    Expr {
        filter: Expr,
        uses_actor: bool,
    },
    /// `relates_to_actor_via(rel)` / `relates_to_actor_via([rel, rel2])`: a filter, the
    /// record is related to the actor through the path.
    RelatesToActorVia(Vec<Ident>),
    /// Any expression whose value implements `Check<R>`.
    Custom(Expr),
}

impl CheckKindDef {
    /// Whether the check reads the actor's type (needs `actor = T`).
    pub fn needs_actor_type(&self) -> bool {
        matches!(
            self,
            CheckKindDef::ActorAttributeEquals { .. }
                | CheckKindDef::AttributeEqualsActor { .. }
                | CheckKindDef::RelatesToActorVia(_)
                | CheckKindDef::Expr {
                    uses_actor: true,
                    ..
                }
        )
    }

    /// Whether it is decided by generated code (not by the runtime's builtins).
    pub fn is_generated(&self) -> bool {
        matches!(
            self,
            CheckKindDef::ActorAttributeEquals { .. }
                | CheckKindDef::AttributeEqualsActor { .. }
                | CheckKindDef::RelatesToActorVia(_)
                | CheckKindDef::Expr { .. }
                | CheckKindDef::Custom(_)
        )
    }
}

/// Every check of the section in order (conditions first within a policy), numbered as
/// the generated `policy_check` numbers them.
pub fn generated_checks(def: &PoliciesDef) -> Vec<&CheckDef> {
    let mut out = Vec::new();
    for policy in &def.policies {
        for c in &policy.conditions {
            if c.kind.is_generated() {
                out.push(c);
            }
        }
        for e in &policy.checks {
            if e.check.kind.is_generated() {
                out.push(&e.check);
            }
        }
    }
    out
}

/// Token text made readable: `Role :: Admin` is `Role::Admin`, `f (a , b)` is `f(a, b)`.
pub fn tidy(tokens: &TokenStream) -> String {
    let mut s = tokens.to_string();
    for (from, to) in [
        (" :: ", "::"),
        (":: ", "::"),
        (" ::", "::"),
        (" (", "("),
        ("( ", "("),
        (" )", ")"),
        (" [", "["),
        ("[ ", "["),
        (" ]", "]"),
        (" ,", ","),
        (" . ", "."),
        (" .", "."),
    ] {
        while s.contains(from) {
            s = s.replace(from, to);
        }
    }
    s
}
