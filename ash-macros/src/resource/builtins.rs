//! Parsing changes and validations: builtins by name, anything else as a Rust expression.
//!
//! Every entry has the shape `head(arguments..., options...)`, where the options are
//! `on = [..]`, `where = ..`, `only_when_valid = true` and `message = ".."`, written after
//! the entry's own arguments, as in Ash's `change optimistic_lock(:version), on: [...]`.

use super::ast::*;
use crate::ctxt::Ctxt;
use crate::meta::{self, Entry as MetaEntry};
use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use quote::quote;
use syn::{Expr, Ident};

const CHANGE_BUILTINS: [&str; 6] = [
    "optimistic_lock",
    "set_attribute",
    "set_new_attribute",
    "increment",
    "prevent_change",
    "manage_relationship",
];
const VALIDATION_BUILTINS: [&str; 9] = [
    "present",
    "absent",
    "compare",
    "one_of",
    "string_length",
    "match",
    "attribute_equals",
    "changing",
    "confirm",
];
const ENTRY_OPTIONS: [&str; 4] = ["on", "where", "only_when_valid", "message"];
const COMPARE_BOUNDS: [&str; 4] = [
    "greater_than",
    "greater_than_or_equal_to",
    "less_than",
    "less_than_or_equal_to",
];

/// `head(args..., options...)`, split.
struct Call {
    head: TokenStream,
    args: Vec<TokenStream>,
    options: EntryOptions,
    /// The whole entry without its options, as an expression for custom entries.
    expr_tokens: TokenStream,
    span: Span,
}

impl Call {
    /// The head as a single name, when it is one (`optimistic_lock`, `match`).
    fn name(&self) -> Option<String> {
        let mut iter = self.head.clone().into_iter();
        match (iter.next(), iter.next()) {
            (Some(TokenTree::Ident(i)), None) => Some(i.to_string()),
            _ => None,
        }
    }
}

fn parse_call(cx: &Ctxt, tokens: TokenStream, global: bool) -> Call {
    // Doc comments before an entry document nothing generated; they are allowed.
    let tokens = match meta::take_docs(tokens.clone()) {
        Ok((_, rest)) => rest,
        Err(e) => {
            cx.syn_error(e);
            tokens
        }
    };
    let span = meta::first_span(&tokens);
    let mut toks: Vec<TokenTree> = tokens.clone().into_iter().collect();
    let group = match toks.last() {
        Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis && toks.len() > 1 => {
            let g = g.clone();
            toks.pop();
            Some(g)
        }
        _ => None,
    };
    let head: TokenStream = toks.into_iter().collect();
    let mut args = Vec::new();
    let mut options = EntryOptions::default();
    if let Some(group) = &group {
        for arg in meta::split_commas(group.stream()) {
            match meta::parse_entry(arg.clone()) {
                Ok(MetaEntry::KeyValue(key, value))
                    if ENTRY_OPTIONS.contains(&key.to_string().as_str()) =>
                {
                    parse_option(cx, &mut options, key, value, global)
                }
                _ => args.push(arg),
            }
        }
    }
    let expr_tokens = match &group {
        Some(g) if !args.is_empty() || g.stream().is_empty() => {
            let mut inner = TokenStream::new();
            for (i, a) in args.iter().enumerate() {
                if i > 0 {
                    inner.extend(quote!(,));
                }
                inner.extend(a.clone());
            }
            let mut rebuilt = proc_macro2::Group::new(Delimiter::Parenthesis, inner);
            rebuilt.set_span(g.span());
            let mut t = head.clone();
            t.extend([TokenTree::Group(rebuilt)]);
            t
        }
        _ => head.clone(),
    };
    Call {
        head,
        args,
        options,
        expr_tokens,
        span,
    }
}

fn parse_option(
    cx: &Ctxt,
    options: &mut EntryOptions,
    key: Ident,
    value: TokenStream,
    global: bool,
) {
    match key.to_string().as_str() {
        "on" => {
            if !global {
                cx.error_at(
                    key.span(),
                    "`on` is only allowed in the global `#[changes(...)]` and `#[validations(...)]`: an entry inside an action applies to that action",
                );
            }
            match meta::parse_ident_list(value) {
                Ok(list) => options.on = Some(list),
                Err(e) => cx.syn_error(e),
            }
        }
        "where" => options.conditions.extend(parse_conditions(cx, value)),
        "only_when_valid" => match meta::parse_bool(value) {
            Ok(b) => options.only_when_valid = b,
            Err(e) => cx.syn_error(e),
        },
        _ => match syn::parse2::<syn::LitStr>(value) {
            Ok(lit) => options.message = Some(lit),
            Err(e) => cx.syn_error(syn::Error::new(e.span(), "`message` takes a string")),
        },
    }
}

/// Parses one change entry.
pub fn parse_change(cx: &Ctxt, tokens: TokenStream, global: bool) -> Option<ChangeRef> {
    let call = parse_call(cx, tokens, global);
    if let Some(message) = &call.options.message {
        cx.error_spanned_by(message, "`message` applies to validations, not changes");
    }
    let change = match call.name().as_deref() {
        Some("optimistic_lock") => ChangeKind::OptimisticLock {
            attribute: one_name(cx, &call, "optimistic_lock", "optimistic_lock(version)")?,
        },
        Some(name @ ("set_attribute" | "set_new_attribute")) => {
            let [attr, value] = exact::<2>(cx, &call, name, &format!("{name}(status, \"draft\")"))?;
            let attribute = ident(cx, attr, name)?;
            let value = value_ref(cx, value)?;
            if name == "set_attribute" {
                ChangeKind::SetAttribute { attribute, value }
            } else {
                ChangeKind::SetNewAttribute { attribute, value }
            }
        }
        Some("increment") => {
            let usage = "increment(count) or increment(count, amount = 2)";
            match call.args.as_slice() {
                [attr] => ChangeKind::Increment {
                    attribute: ident(cx, attr.clone(), "increment")?,
                    amount: syn::parse_quote!(1),
                },
                [attr, amount] => {
                    let attribute = ident(cx, attr.clone(), "increment")?;
                    match meta::parse_entry(amount.clone()) {
                        Ok(MetaEntry::KeyValue(k, v)) if k == "amount" => ChangeKind::Increment {
                            attribute,
                            amount: expr(cx, v)?,
                        },
                        _ => {
                            cx.error_spanned_by(
                                amount,
                                format!("expected `amount = n`: `{usage}`"),
                            );
                            return None;
                        }
                    }
                }
                _ => {
                    cx.error_at(
                        call.span,
                        format!("`increment` takes an attribute and an optional amount: `{usage}`"),
                    );
                    return None;
                }
            }
        }
        Some("manage_relationship") => ChangeKind::ManageRelationship(Box::new(
            super::manage::parse(cx, &call.args, call.span)?,
        )),
        Some("prevent_change") => ChangeKind::PreventChange {
            attribute: one_name(cx, &call, "prevent_change", "prevent_change(status)")?,
        },
        _ => {
            misspelt_builtin(cx, &call, &CHANGE_BUILTINS, "change")?;
            ChangeKind::Custom(expr(cx, call.expr_tokens.clone())?)
        }
    };
    Some(ChangeRef {
        change,
        options: call.options,
    })
}

/// Parses one validation entry.
pub fn parse_validation(cx: &Ctxt, tokens: TokenStream, global: bool) -> Option<ValidateRef> {
    let call = parse_call(cx, tokens, global);
    let validation = validation_kind(cx, &call)?;
    if call.options.message.is_some() && matches!(validation, ValidationKind::Custom(_)) {
        if let Some(message) = &call.options.message {
            cx.error_spanned_by(message, "`message` applies to builtin validations; a custom validation returns its own error");
        }
    }
    Some(ValidateRef {
        validation,
        options: call.options,
    })
}

fn validation_kind(cx: &Ctxt, call: &Call) -> Option<ValidationKind> {
    Some(match call.name().as_deref() {
        Some(name @ ("present" | "absent")) => {
            let [fields] = exact::<1>(
                cx,
                call,
                name,
                &format!("{name}(title) or {name}([title, body])"),
            )?;
            let fields = match meta::parse_ident_list(fields) {
                Ok(f) => f,
                Err(e) => {
                    cx.syn_error(e);
                    return None;
                }
            };
            if name == "present" {
                ValidationKind::Present(fields)
            } else {
                ValidationKind::Absent(fields)
            }
        }
        Some("compare") => {
            let usage = "compare(age, greater_than = 0, less_than = 150)";
            let Some((first, rest)) = call.args.split_first() else {
                cx.error_at(
                    call.span,
                    format!("`compare` takes an attribute and bounds: `{usage}`"),
                );
                return None;
            };
            let field = ident(cx, first.clone(), "compare")?;
            let mut bounds = Vec::new();
            for bound in rest {
                match meta::parse_entry(bound.clone()) {
                    Ok(MetaEntry::KeyValue(k, v))
                        if COMPARE_BOUNDS.contains(&k.to_string().as_str()) =>
                    {
                        bounds.push((k, expr(cx, v)?));
                    }
                    _ => {
                        cx.error_spanned_by(
                            bound,
                            format!(
                                "expected a bound: {} (e.g. `{usage}`)",
                                crate::suggest::list(COMPARE_BOUNDS)
                            ),
                        );
                        return None;
                    }
                }
            }
            if bounds.is_empty() {
                cx.error_at(
                    call.span,
                    format!("`compare` needs at least one bound: `{usage}`"),
                );
                return None;
            }
            ValidationKind::Compare { field, bounds }
        }
        Some("one_of") => {
            let [field, values] = exact::<2>(
                cx,
                call,
                "one_of",
                "one_of(status, [\"draft\", \"published\"])",
            )?;
            ValidationKind::OneOf {
                field: ident(cx, field, "one_of")?,
                values: expr(cx, values)?,
            }
        }
        Some("string_length") => {
            let usage = "string_length(title, min = 1, max = 100)";
            let Some((first, rest)) = call.args.split_first() else {
                cx.error_at(
                    call.span,
                    format!("`string_length` takes an attribute and limits: `{usage}`"),
                );
                return None;
            };
            let field = ident(cx, first.clone(), "string_length")?;
            let (mut min, mut max, mut exact) = (None, None, None);
            for limit in rest {
                match meta::parse_entry(limit.clone()) {
                    Ok(MetaEntry::KeyValue(k, v)) if k == "min" => min = Some(expr(cx, v)?),
                    Ok(MetaEntry::KeyValue(k, v)) if k == "max" => max = Some(expr(cx, v)?),
                    Ok(MetaEntry::KeyValue(k, v)) if k == "exact" => exact = Some(expr(cx, v)?),
                    _ => {
                        cx.error_spanned_by(
                            limit,
                            format!("expected `min = n`, `max = n` or `exact = n`: `{usage}`"),
                        );
                        return None;
                    }
                }
            }
            if min.is_none() && max.is_none() && exact.is_none() {
                cx.error_at(
                    call.span,
                    format!("`string_length` needs `min`, `max` or `exact`: `{usage}`"),
                );
                return None;
            }
            ValidationKind::StringLength {
                field,
                min,
                max,
                exact,
            }
        }
        Some("match") => {
            let [field, pattern] =
                exact::<2>(cx, call, "match", "match(email, \"^[^@]+@[^@]+$\")")?;
            let field = ident(cx, field, "match")?;
            let pattern: syn::LitStr = match syn::parse2(pattern) {
                Ok(p) => p,
                Err(e) => {
                    cx.syn_error(syn::Error::new(
                        e.span(),
                        "`match` takes a regular expression as a string literal",
                    ));
                    return None;
                }
            };
            if let Err(e) = regex_lite::Regex::new(&pattern.value()) {
                cx.error_spanned_by(&pattern, format!("invalid regular expression: {e}"));
                return None;
            }
            ValidationKind::Match { field, pattern }
        }
        Some("attribute_equals") => {
            let [field, value] = exact::<2>(
                cx,
                call,
                "attribute_equals",
                "attribute_equals(status, \"draft\")",
            )?;
            ValidationKind::AttributeEquals {
                field: ident(cx, field, "attribute_equals")?,
                value: expr(cx, value)?,
            }
        }
        Some("changing") => {
            ValidationKind::Changing(one_name(cx, call, "changing", "changing(status)")?)
        }
        Some("confirm") => {
            let [field, confirmation] = exact::<2>(
                cx,
                call,
                "confirm",
                "confirm(password, password_confirmation)",
            )?;
            ValidationKind::Confirm {
                field: ident(cx, field, "confirm")?,
                confirmation: ident(cx, confirmation, "confirm")?,
            }
        }
        _ => {
            misspelt_builtin(cx, call, &VALIDATION_BUILTINS, "validation")?;
            ValidationKind::Custom(expr(cx, call.expr_tokens.clone())?)
        }
    })
}

/// A bare name one or two letters off a builtin (`optimistic_locks(version)`) is almost
/// surely a typo; rustc would report its arguments as unknown values first.
fn misspelt_builtin(cx: &Ctxt, call: &Call, builtins: &[&str], what: &str) -> Option<()> {
    let Some(name) = call.name() else {
        return Some(());
    };
    if builtins.contains(&name.as_str()) {
        return Some(());
    }
    let close = builtins
        .iter()
        .copied()
        .find(|b| crate::suggest::did_you_mean(&name, [*b]).is_some() && name.len() > 3);
    match close {
        Some(builtin) => {
            cx.error_at(
                call.span,
                format!(
                    "unknown builtin {what} `{name}` (did you mean `{builtin}`?); builtins: {}",
                    crate::suggest::list(builtins.iter().copied())
                ),
            );
            None
        }
        None => Some(()),
    }
}

/// `action_is([a, b])`, a validation, or a list of them.
fn parse_conditions(cx: &Ctxt, value: TokenStream) -> Vec<Condition> {
    let mut iter = value.clone().into_iter();
    let items = match (iter.next(), iter.next()) {
        (Some(TokenTree::Group(g)), None) if g.delimiter() == Delimiter::Bracket => {
            meta::split_commas(g.stream())
        }
        _ => vec![value],
    };
    let mut conditions = Vec::new();
    for item in items {
        match meta::parse_entry(item.clone()) {
            Ok(MetaEntry::Call(name, args)) if name == "action_is" => {
                match meta::parse_ident_list(args) {
                    Ok(list) => conditions.push(Condition::ActionIs(list)),
                    Err(e) => cx.syn_error(e),
                }
            }
            _ => {
                let call = parse_call(cx, item, false);
                if let Some(kind) = validation_kind(cx, &call) {
                    conditions.push(Condition::Validation(kind));
                }
            }
        }
    }
    conditions
}

fn exact<const N: usize>(
    cx: &Ctxt,
    call: &Call,
    name: &str,
    usage: &str,
) -> Option<[TokenStream; N]> {
    match <[TokenStream; N]>::try_from(call.args.clone()) {
        Ok(args) => Some(args),
        Err(args) => {
            cx.error_at(
                call.span,
                format!(
                    "`{name}` takes {N} argument{}, got {}: `{usage}`",
                    if N == 1 { "" } else { "s" },
                    args.len()
                ),
            );
            None
        }
    }
}

fn one_name(cx: &Ctxt, call: &Call, name: &str, usage: &str) -> Option<Ident> {
    let [arg] = exact::<1>(cx, call, name, usage)?;
    ident(cx, arg, name)
}

fn ident(cx: &Ctxt, tokens: TokenStream, builtin: &str) -> Option<Ident> {
    match meta::name(tokens.clone()) {
        Ok(i) => Some(i),
        Err(_) => {
            cx.error_spanned_by(
                tokens,
                format!("`{builtin}` expects an attribute name here"),
            );
            None
        }
    }
}

fn expr(cx: &Ctxt, tokens: TokenStream) -> Option<Expr> {
    match syn::parse2::<Expr>(tokens) {
        Ok(e) => Some(e),
        Err(e) => {
            cx.syn_error(e);
            None
        }
    }
}

fn value_ref(cx: &Ctxt, tokens: TokenStream) -> Option<ValueRef> {
    if let Ok(MetaEntry::Call(name, args)) = meta::parse_entry(tokens.clone()) {
        if name == "arg" {
            return match meta::name(args) {
                Ok(i) => Some(ValueRef::Arg(i)),
                Err(e) => {
                    cx.syn_error(syn::Error::new(
                        e.span(),
                        "`arg` takes an argument name: `arg(title)`",
                    ));
                    None
                }
            };
        }
    }
    expr(cx, tokens).map(ValueRef::Expr)
}
