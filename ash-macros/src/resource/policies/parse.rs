//! Parsing `#[policies(...)]`. Each malformed piece records an error and is skipped.

use super::*;
use crate::ctxt::Ctxt;
use crate::meta::{self, Entry};
use crate::suggest;
use proc_macro2::{Delimiter, TokenTree};

/// The builtin checks, as the DSL names them.
pub const BUILTINS: [&str; 10] = [
    "always",
    "never",
    "actor_present",
    "actor_absent",
    "action",
    "action_type",
    "actor_attribute_equals",
    "attribute_equals_actor",
    "expr",
    "relates_to_actor_via",
];

/// `#[policies(actor = User, policy(...), bypass(...))]`, merged into `out` (a second
/// `#[policies]` adds its policies).
pub fn parse_policies(cx: &Ctxt, span: Span, tokens: TokenStream, out: &mut Option<PoliciesDef>) {
    let def = out.get_or_insert_with(|| PoliciesDef {
        span,
        actor: None,
        policies: Vec::new(),
    });
    for entry in meta::split_commas(tokens) {
        match meta::parse_entry(entry) {
            Ok(Entry::KeyValue(k, v)) if k == "actor" => match meta::parse::<Type>(v) {
                Ok(_) if def.actor.is_some() => {
                    cx.error_spanned_by(&k, "duplicate `actor` option in `#[policies(...)]`")
                }
                Ok(ty) => def.actor = Some(ty),
                Err(e) => cx.syn_error(e),
            },
            Ok(Entry::Call(kw, args)) if kw == "policy" || kw == "bypass" => {
                if let Some(policy) = parse_policy(cx, kw, args) {
                    def.policies.push(policy);
                }
            }
            Ok(other) => {
                let n = other.name().to_string();
                cx.error_at(
                    other.name().span(),
                    format!(
                        "unknown entry `{n}` in `#[policies(...)]`{}; write `actor = Type`, `policy(condition, authorize_if(check))` or `bypass(...)`",
                        suggest::hint(&n, ["actor", "policy", "bypass"])
                    ),
                );
            }
            Err(e) => cx.syn_error(e),
        }
    }
}

fn parse_policy(cx: &Ctxt, kw: Ident, args: TokenStream) -> Option<PolicyDef> {
    let mut policy = PolicyDef {
        bypass: kw == "bypass",
        kw,
        conditions: Vec::new(),
        checks: Vec::new(),
    };
    for tokens in meta::split_commas(args) {
        match call(&tokens) {
            Some((op_kw, inner)) if CheckOpDef::from_name(&op_kw.to_string()).is_some() => {
                let op = CheckOpDef::from_name(&op_kw.to_string())?;
                if let Some(check) = parse_check(cx, inner) {
                    policy.checks.push(CheckEntry { op, check });
                }
            }
            _ => {
                if !policy.checks.is_empty() {
                    cx.error_at(
                        meta::first_span(&tokens),
                        format!(
                            "a condition after the checks of a `{}`: write its conditions first, then `authorize_if(...)`, `forbid_if(...)`, `authorize_unless(...)` or `forbid_unless(...)`",
                            policy.kw
                        ),
                    );
                    continue;
                }
                if let Some(condition) = parse_check(cx, tokens) {
                    policy.conditions.push(condition);
                }
            }
        }
    }
    Some(policy)
}

/// `name(args)` as a name and its arguments.
fn call(tokens: &TokenStream) -> Option<(Ident, TokenStream)> {
    let mut iter = tokens.clone().into_iter();
    match (iter.next(), iter.next(), iter.next()) {
        (Some(TokenTree::Ident(name)), Some(TokenTree::Group(g)), None)
            if g.delimiter() == Delimiter::Parenthesis =>
        {
            Some((name, g.stream()))
        }
        _ => None,
    }
}

/// One check: a builtin call, else any expression (a custom check).
pub fn parse_check(cx: &Ctxt, tokens: TokenStream) -> Option<CheckDef> {
    let span = meta::first_span(&tokens);
    if tokens.is_empty() {
        cx.error_at(span, "expected a check, like `actor_present()`");
        return None;
    }
    let text = tidy(&tokens);
    let kind = match call(&tokens) {
        Some((name, args)) if BUILTINS.contains(&name.to_string().as_str()) => {
            parse_builtin(cx, &name, args)?
        }
        _ => match syn::parse2::<Expr>(tokens) {
            Ok(expr) => CheckKindDef::Custom(expr),
            Err(e) => {
                cx.syn_error(e);
                return None;
            }
        },
    };
    Some(CheckDef { kind, text, span })
}

fn no_args(cx: &Ctxt, name: &Ident, args: &TokenStream) {
    if !args.is_empty() {
        cx.error_spanned_by(args, format!("`{name}()` takes no arguments"));
    }
}

fn parse_builtin(cx: &Ctxt, name: &Ident, args: TokenStream) -> Option<CheckKindDef> {
    let n = name.to_string();
    Some(match n.as_str() {
        "always" => {
            no_args(cx, name, &args);
            CheckKindDef::Always
        }
        "never" => {
            no_args(cx, name, &args);
            CheckKindDef::Never
        }
        "actor_present" => {
            no_args(cx, name, &args);
            CheckKindDef::ActorPresent
        }
        "actor_absent" => {
            no_args(cx, name, &args);
            CheckKindDef::ActorAbsent
        }
        "action" | "action_type" => {
            let names = match meta::parse_ident_list(args) {
                Ok(names) if !names.is_empty() => names,
                Ok(_) => {
                    cx.error_spanned_by(name, format!("`{n}(...)` needs at least one name"));
                    return None;
                }
                Err(e) => {
                    cx.syn_error(e);
                    return None;
                }
            };
            if n == "action" {
                CheckKindDef::Action(names)
            } else {
                CheckKindDef::ActionType(names)
            }
        }
        "actor_attribute_equals" => {
            let mut parts = meta::split_commas(args).into_iter();
            let usage = "write `actor_attribute_equals(attribute, value)`, like `actor_attribute_equals(role, Role::Admin)`";
            let (Some(attribute), Some(value), None) = (parts.next(), parts.next(), parts.next())
            else {
                cx.error_spanned_by(
                    name,
                    format!("`actor_attribute_equals` takes two arguments: {usage}"),
                );
                return None;
            };
            let attribute = match meta::name(attribute) {
                Ok(a) => a,
                Err(e) => {
                    cx.error_at(e.span(), format!("expected the actor's attribute: {usage}"));
                    return None;
                }
            };
            match syn::parse2::<Expr>(value) {
                Ok(value) => CheckKindDef::ActorAttributeEquals { attribute, value },
                Err(e) => {
                    cx.syn_error(e);
                    return None;
                }
            }
        }
        "attribute_equals_actor" => {
            let mut parts = meta::split_commas(args).into_iter();
            let usage = "write `attribute_equals_actor(attribute, actor_attribute)`, like `attribute_equals_actor(author_id, id)`";
            let (Some(a), Some(b), None) = (parts.next(), parts.next(), parts.next()) else {
                cx.error_spanned_by(
                    name,
                    format!("`attribute_equals_actor` takes two names: {usage}"),
                );
                return None;
            };
            match (meta::name(a), meta::name(b)) {
                (Ok(attribute), Ok(actor_attribute)) => CheckKindDef::AttributeEqualsActor {
                    attribute,
                    actor_attribute,
                },
                (Err(e), _) | (_, Err(e)) => {
                    cx.error_at(e.span(), format!("expected a name: {usage}"));
                    return None;
                }
            }
        }
        "expr" => {
            let uses_actor = mentions(&args, "actor");
            match syn::parse2::<Expr>(args) {
                Ok(filter) => CheckKindDef::Expr { filter, uses_actor },
                Err(e) => {
                    cx.syn_error(e);
                    return None;
                }
            }
        }
        _ => match meta::parse_ident_list(args) {
            Ok(path) if !path.is_empty() => CheckKindDef::RelatesToActorVia(path),
            Ok(_) => {
                cx.error_spanned_by(
                    name,
                    "`relates_to_actor_via(...)` needs a relationship, like `relates_to_actor_via(author)` or `relates_to_actor_via([post, author])`",
                );
                return None;
            }
            Err(e) => {
                cx.error_at(
                    e.span(),
                    "expected a relationship or a path of them: `relates_to_actor_via(author)` or `relates_to_actor_via([post, author])`",
                );
                return None;
            }
        },
    })
}

/// Whether `tokens` hold the identifier `name` (not after a `.` or `::`: a field or path
/// segment of that name is not the variable).
fn mentions(tokens: &TokenStream, name: &str) -> bool {
    let mut previous_punct: Option<char> = None;
    for tt in tokens.clone() {
        match &tt {
            TokenTree::Ident(i) if i == name && !matches!(previous_punct, Some('.' | ':')) => {
                return true
            }
            TokenTree::Group(g) if mentions(&g.stream(), name) => return true,
            _ => {}
        }
        previous_punct = match &tt {
            TokenTree::Punct(p) => Some(p.as_char()),
            _ => None,
        };
    }
    false
}
