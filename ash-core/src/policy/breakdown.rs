//! The `Forbidden` error's breakdown: which policy refused, and which check decided.

use serde::Serialize;
use std::fmt;

/// `Ash.Error.Forbidden.Policy`: the policies refused the request.
///
/// It names the policies and checks as declared and says how each went; it holds no value
/// of any record (the filters of filter checks are not shown), so it tells the actor
/// nothing about records it may not see.
///
/// As JSON (inside an error, with `"code": "forbidden"`):
/// `{"code":"forbidden","resource":"Post","action":"update","policy":"policy(action_type(update))",
/// "check":"forbid_unless(actor_present())","policies":[...]}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Forbidden {
    /// The resource's name.
    pub resource: &'static str,
    /// The action's name.
    pub action: &'static str,
    /// The policy responsible (Ash's `responsible_for_forbidden`): the first applicable
    /// policy that forbade, else the first in which no check decided; `None` when no
    /// policy applied.
    pub policy: Option<&'static str>,
    /// The check that decided in that policy (`None` when none did).
    pub check: Option<&'static str>,
    /// Every policy, in declaration order.
    pub policies: Vec<PolicyOutcome>,
}

/// How one policy went.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicyOutcome {
    /// The policy as declared, `policy(action_type(update))`.
    pub policy: &'static str,
    /// Whether it is a bypass.
    pub bypass: bool,
    /// Whether its conditions held; `None` when they depend on a record's values.
    pub applies: Option<bool>,
    /// Its result.
    pub result: PolicyResult,
    /// The check that decided it, as declared (`forbid_if(actor_absent())`).
    pub decided_by: Option<&'static str>,
}

/// The result of one policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyResult {
    /// Its conditions did not hold.
    NotApplicable,
    /// A check authorized.
    Authorized,
    /// A check forbade.
    Forbidden,
    /// No check decided: the policy forbids.
    NoCheckDecided,
    /// A filter check decides, by the records' values.
    DependsOnRecord,
}

impl fmt::Display for Forbidden {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "forbidden: {}.{}", self.resource, self.action)?;
        match (self.policy, self.check) {
            (None, _) => f.write_str(": no policy applies"),
            (Some(policy), Some(check)) => write!(f, ": {policy} decided by {check}"),
            (Some(policy), None) => write!(f, ": no check decided in {policy}"),
        }
    }
}

impl std::error::Error for Forbidden {}
