//! Parsing `#[aggregates(count(name, relationship, option = ..), ...)]`.

use super::{AggKind, AggregateDef, KINDS};
use crate::ctxt::Ctxt;
use crate::meta::{self, Entry};
use crate::suggest;
use proc_macro2::{Delimiter, TokenStream, TokenTree};
use syn::Ident;

/// The options an aggregate takes.
pub const OPTIONS: [&str; 5] = ["field", "filter", "sort", "default", "uniq"];

/// Parses the entries of one `#[aggregates(...)]` into `out`, reporting malformed ones.
pub fn parse_aggregates(cx: &Ctxt, tokens: TokenStream, out: &mut Vec<AggregateDef>) {
    for entry in meta::parse_entries(cx, tokens) {
        let kind_name = entry.name().to_string();
        match (AggKind::from_name(&kind_name), entry) {
            (Some(kind), Entry::Call(kw, args)) => {
                if let Some(agg) = parse_aggregate(cx, kind, &kw, args) {
                    out.push(agg);
                }
            }
            (_, other) => {
                let n = other.name().to_string();
                cx.error_at(
                    other.name().span(),
                    format!(
                        "unknown entry `{n}` in `#[aggregates(...)]`{}; write `count(name, relationship)`, or one of {}",
                        suggest::hint(&n, KINDS),
                        suggest::list(KINDS)
                    ),
                );
            }
        }
    }
}

/// `relationship` or `[relationship, next, ...]`.
fn parse_path(tokens: TokenStream) -> syn::Result<Vec<Ident>> {
    let mut iter = tokens.clone().into_iter();
    match (iter.next(), iter.next()) {
        (Some(TokenTree::Group(g)), None) if g.delimiter() == Delimiter::Bracket => {
            let names = meta::parse_ident_list(tokens)?;
            if names.is_empty() {
                return Err(syn::Error::new(
                    g.span(),
                    "an aggregate's relationship path names at least one relationship",
                ));
            }
            Ok(names)
        }
        _ => Ok(vec![meta::name(tokens)?]),
    }
}

fn parse_aggregate(
    cx: &Ctxt,
    kind: AggKind,
    kw: &Ident,
    args: TokenStream,
) -> Option<AggregateDef> {
    let usage =
        format!("write `{kw}(name, relationship, ...)`, like `{kw}(comment_count, comments)`");
    let mut entries = meta::split_commas(args).into_iter();
    let (Some(first), Some(second)) = (entries.next(), entries.next()) else {
        cx.error_at(
            kw.span(),
            format!("an aggregate needs a name and a relationship: {usage}"),
        );
        return None;
    };
    let Ok(name) = meta::name(first.clone()) else {
        cx.error_spanned_by(
            first,
            format!("expected the aggregate's name first: {usage}"),
        );
        return None;
    };
    let path = match parse_path(second) {
        Ok(p) => p,
        Err(e) => {
            cx.syn_error(e);
            return None;
        }
    };
    let name_str = crate::name::unraw(&name);
    let konst = crate::name::constant(&name_str, name.span(), "AGGREGATE");
    let mut agg = AggregateDef {
        kind,
        kind_ident: kw.clone(),
        name,
        name_str,
        konst,
        path,
        field: None,
        filter: None,
        sort: None,
        default: None,
        uniq: None,
    };
    for tokens in entries {
        match meta::parse_entry(tokens) {
            Ok(Entry::KeyValue(k, v)) => {
                let result = match k.to_string().as_str() {
                    "field" => meta::name(v).map(|i| agg.field = Some(i)),
                    "filter" => meta::parse(v).map(|e| agg.filter = Some(e)),
                    "sort" => meta::parse(v).map(|e| agg.sort = Some(e)),
                    "default" => meta::parse(v).map(|e| agg.default = Some(e)),
                    "uniq" => meta::parse_bool(v).map(|b| agg.uniq = Some((b, k.span()))),
                    _ => {
                        unknown(cx, &k);
                        Ok(())
                    }
                };
                if let Err(e) = result {
                    cx.syn_error(e);
                }
            }
            Ok(other) => unknown(cx, other.name()),
            Err(e) => cx.syn_error(e),
        }
    }
    Some(agg)
}

fn unknown(cx: &Ctxt, name: &Ident) {
    let n = name.to_string();
    cx.error_at(
        name.span(),
        format!(
            "unknown aggregate option `{n}`{}; expected one of {}",
            suggest::hint(&n, OPTIONS),
            suggest::list(OPTIONS)
        ),
    );
}
