//! `define(name, action = .., args = [..], get_by = [..], get = true, not_found_error = false)`.

use crate::ctxt::Ctxt;
use crate::meta::{self, Entry};
use crate::suggest;
use proc_macro2::TokenStream;
use syn::Ident;

const DEFINE_OPTIONS: [&str; 7] = [
    "action",
    "args",
    "get_by",
    "get_by_identity",
    "get",
    "not_found_error",
    "load",
];

pub struct Define {
    pub name: Ident,
    /// Doc comments written before the define, for its method.
    pub docs: Vec<syn::Attribute>,
    /// `action = x`; the action defaults to the define's name.
    pub action: Option<Ident>,
    pub args: Vec<Ident>,
    pub get_by: Vec<Ident>,
    /// `get_by_identity = name`: `get_by` the identity's attributes (resolved before
    /// expansion), looked up in the identity's index.
    pub get_by_identity: Option<Ident>,
    pub get: Option<(Ident, bool)>,
    pub not_found_error: Option<(Ident, bool)>,
    /// `load = [comments, author]`: relationships the interface loads on what it returns
    /// (read actions), with the `load` keyword for spans.
    pub load: Option<(Ident, Vec<Ident>)>,
}

impl Define {
    pub fn action_ident(&self) -> &Ident {
        self.action.as_ref().unwrap_or(&self.name)
    }

    /// The name of the action it runs, without `r#`.
    pub fn action_name(&self) -> String {
        crate::name::unraw(self.action_ident())
    }

    /// Whether the interface returns one record (`get_by`, or `get = true`).
    pub fn is_get(&self) -> bool {
        !self.get_by.is_empty()
            || self.get_by_identity.is_some()
            || self.get.as_ref().is_some_and(|(_, g)| *g)
    }

    pub fn not_found_error(&self) -> bool {
        self.not_found_error.as_ref().is_none_or(|(_, b)| *b)
    }
}

pub fn parse(cx: &Ctxt, tokens: TokenStream) -> Vec<Define> {
    let mut defines = Vec::new();
    for tokens in meta::split_commas(tokens) {
        let (docs, entry) = match meta::parse_documented_entry(tokens) {
            Ok(e) => e,
            Err(e) => {
                cx.syn_error(e);
                continue;
            }
        };
        match entry {
            Entry::Call(kw, args) if kw == "define" => {
                if let Some(mut d) = parse_define(cx, &kw, args) {
                    d.docs = docs;
                    defines.push(d);
                }
            }
            other => {
                let n = other.name().to_string();
                cx.error_at(
                    other.name().span(),
                    format!(
                        "unknown resource option `{n}`{}; expected `define(name, action = ...)`",
                        suggest::hint(&n, ["define"])
                    ),
                );
            }
        }
    }
    defines
}

fn parse_define(cx: &Ctxt, kw: &Ident, args: TokenStream) -> Option<Define> {
    let mut entries = meta::split_commas(args).into_iter();
    let Some(first) = entries.next() else {
        cx.error_at(
            kw.span(),
            "a define needs a name: `define(create_address, action = create)`",
        );
        return None;
    };
    let Ok(name) = meta::name(first.clone()) else {
        cx.error_spanned_by(
            first,
            "expected the interface's name first: `define(create_address, ...)`",
        );
        return None;
    };
    let mut define = Define {
        name,
        docs: Vec::new(),
        action: None,
        args: Vec::new(),
        get_by: Vec::new(),
        get_by_identity: None,
        get: None,
        not_found_error: None,
        load: None,
    };
    for tokens in entries {
        let entry = match meta::parse_entry(tokens) {
            Ok(e) => e,
            Err(e) => {
                cx.syn_error(e);
                continue;
            }
        };
        let key = entry.name().to_string();
        let result = match (key.as_str(), entry) {
            ("action", Entry::KeyValue(_, v)) => meta::name(v).map(|i| define.action = Some(i)),
            ("args", Entry::KeyValue(_, v)) => meta::parse_ident_list(v).map(|l| define.args = l),
            ("get_by", Entry::KeyValue(_, v)) => {
                meta::parse_ident_list(v).map(|l| define.get_by = l)
            }
            ("get_by_identity", Entry::KeyValue(_, v)) => {
                meta::name(v).map(|i| define.get_by_identity = Some(i))
            }
            ("get", Entry::KeyValue(i, v)) => {
                meta::parse_bool(v).map(|b| define.get = Some((i, b)))
            }
            ("load", Entry::KeyValue(i, v)) => {
                meta::parse_ident_list(v).map(|l| define.load = Some((i, l)))
            }
            ("not_found_error", Entry::KeyValue(i, v)) => {
                meta::parse_bool(v).map(|b| define.not_found_error = Some((i, b)))
            }
            (_, entry) => {
                let n = entry.name().to_string();
                Err(syn::Error::new(
                    entry.name().span(),
                    format!(
                        "unknown define option `{n}`{}; expected one of {}",
                        suggest::hint(&n, DEFINE_OPTIONS),
                        suggest::list(DEFINE_OPTIONS)
                    ),
                ))
            }
        };
        if let Err(e) = result {
            cx.syn_error(e);
        }
    }
    Some(define)
}
