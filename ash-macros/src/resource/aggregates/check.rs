//! Rules over the aggregates, one function each; each records its errors and returns.
//! What needs types (the field exists on the destination, `sum` over a numeric field, a
//! `default` of the right type) is checked by rustc at the user's tokens (see
//! `expand/aggregates.rs`).

use super::{AggKind, AggregateDef};
use crate::ctxt::Ctxt;
use crate::resource::ast::Resource;
use crate::suggest;

pub fn check(cx: &Ctxt, res: &Resource) {
    for (i, agg) in res.aggregates.iter().enumerate() {
        check_name(cx, res, i, agg);
        check_path(cx, res, agg);
        check_field(cx, agg);
        check_uniq(cx, agg);
        check_sort(cx, agg);
    }
}

/// Whether aggregate `index` passes every check (for the fallback).
pub fn aggregate_ok(res: &Resource, index: usize) -> bool {
    let cx = Ctxt::new();
    let agg = &res.aggregates[index];
    check_name(&cx, res, index, agg);
    check_path(&cx, res, agg);
    check_field(&cx, agg);
    check_uniq(&cx, agg);
    check_sort(&cx, agg);
    let ok = !cx.has_errors();
    drop(cx.into_errors());
    ok
}

/// Names are unique and clash with no attribute or relationship (all are fields of the
/// struct), nor with another item's typed handle.
fn check_name(cx: &Ctxt, res: &Resource, index: usize, agg: &AggregateDef) {
    let clash = if res.attribute(&agg.name).is_some() {
        Some("an attribute")
    } else if res.relationship(&agg.name).is_some() {
        Some("a relationship")
    } else if res.aggregates[..index]
        .iter()
        .any(|o| o.name_str == agg.name_str)
    {
        Some("another aggregate")
    } else {
        None
    };
    if let Some(what) = clash {
        cx.error_at(
            agg.name.span(),
            format!(
                "aggregate `{}` has the name of {what} of `{}`; aggregate names must be unique",
                agg.name_str,
                res.ident()
            ),
        );
        return;
    }
    let konst_taken = res.attributes.iter().any(|a| a.konst == agg.konst)
        || res.relationships.iter().any(|r| r.konst == agg.konst)
        || res.identities.iter().any(|i| i.konst == agg.konst)
        || res.aggregates[..index].iter().any(|o| o.konst == agg.konst);
    if konst_taken {
        cx.error_at(
            agg.name.span(),
            format!(
                "aggregate `{}` would have the handle `{}::{}` of another item; rename it",
                agg.name_str,
                res.ident(),
                agg.konst
            ),
        );
    }
}

/// The path starts with a relationship of this resource (the names after it are
/// relationships of the previous destination: rustc checks those, at each name, through
/// `HasRelationship`).
fn check_path(cx: &Ctxt, res: &Resource, agg: &AggregateDef) {
    let Some(first) = agg.path.first() else {
        return;
    };
    if res.relationship(first).is_none() {
        let n = crate::name::unraw(first);
        cx.error_at(
            first.span(),
            format!(
                "aggregate `{}` is over `{n}`, which is not a relationship of `{}`{}",
                agg.name_str,
                res.ident(),
                suggest::hint(&n, res.relationships.iter().map(|r| r.name_str.as_str()))
            ),
        );
    }
}

/// `field` is given for the kinds that aggregate one (first, sum, list, max, min, avg) and
/// not for `exists` (as Ash requires).
fn check_field(cx: &Ctxt, agg: &AggregateDef) {
    let kw = &agg.kind_ident;
    match (&agg.field, agg.kind) {
        (None, kind) if kind.needs_field() => cx.error_at(
            kw.span(),
            format!(
                "`{kw}` aggregates a field: add `field = <attribute of the related resource>` to `{}`",
                agg.name_str
            ),
        ),
        (Some(field), AggKind::Exists) => cx.error_at(
            field.span(),
            "`exists` takes no `field`: it tells whether a related record matches its filter",
        ),
        _ => {}
    }
}

/// `uniq` applies to count and list only (Ash: "Only count and list are supported").
fn check_uniq(cx: &Ctxt, agg: &AggregateDef) {
    if let Some((_, span)) = agg.uniq {
        if !agg.kind.takes_uniq() {
            cx.error_at(
                span,
                format!(
                    "`uniq` applies to `count` and `list` aggregates only, not to `{}`",
                    agg.kind_ident
                ),
            );
        }
    }
}

/// `sort` applies to first and list only (Ash removes it from the others).
fn check_sort(cx: &Ctxt, agg: &AggregateDef) {
    if let (Some(sort), false) = (&agg.sort, agg.kind.takes_sort()) {
        cx.error_spanned_by(
            sort,
            format!(
                "`sort` applies to `first` and `list` aggregates only, not to `{}`",
                agg.kind_ident
            ),
        );
    }
}
