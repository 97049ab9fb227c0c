//! The shape every DSL list shares: comma-separated entries, each a flag (`read`), a
//! key-value (`accept = [a, b]`) or a call (`update(update, accept = [..])`).
//!
//! Entries are split first and parsed one by one, so one malformed entry is one error and
//! the others are still checked. Values are Rust expressions: a comma inside one (generic
//! arguments `pick::<i64, u8>(3, 4)`, closure parameters `|a, b| ..`) stays in its entry,
//! because the split asks `syn` where an expression (or a type) ends.

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream, Parser};
use syn::{Ident, Token};

/// One entry of a DSL list.
pub enum Entry {
    /// `name`
    Flag(Ident),
    /// `name = value`
    KeyValue(Ident, TokenStream),
    /// `name(args)`
    Call(Ident, TokenStream),
}

impl Entry {
    pub fn name(&self) -> &Ident {
        match self {
            Entry::Flag(i) | Entry::KeyValue(i, _) | Entry::Call(i, _) => i,
        }
    }
}

fn is_comma(tt: &TokenTree) -> bool {
    matches!(tt, TokenTree::Punct(p) if p.as_char() == ',')
}

/// Splits `tokens` into entries at the commas that separate them; empty entries (trailing
/// commas) are dropped.
pub fn split_commas(tokens: TokenStream) -> Vec<TokenStream> {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let mut entries = Vec::new();
    let mut start = 0;
    while start < trees.len() {
        if is_comma(&trees[start]) {
            start += 1;
            continue;
        }
        let rest = &trees[start..];
        let naive = rest.iter().position(is_comma).unwrap_or(rest.len());
        // A comma can only belong to an expression or type between `<` and `>` (generic
        // arguments) or `|` and `|` (closure parameters): only then ask the parser.
        let may_continue = naive < rest.len()
            && rest[..naive]
                .iter()
                .any(|t| matches!(t, TokenTree::Punct(p) if matches!(p.as_char(), '<' | '|')));
        let len = match may_continue.then(|| syntactic_len(rest)).flatten() {
            Some(n) if n > naive => n,
            _ => naive,
        };
        entries.push(rest[..len].iter().cloned().collect());
        start += len;
    }
    entries
}

/// How many token trees of `trees` the entry at its start spans, read as
/// `[#[attrs]] [key =] <expression or type>` followed by `,` or the end; `None` when it is
/// not of that shape (the caller then splits at the next comma and reports what is wrong).
fn syntactic_len(trees: &[TokenTree]) -> Option<usize> {
    let total = trees.len();
    let parser = |input: ParseStream| -> syn::Result<usize> {
        syn::Attribute::parse_outer(input)?;
        if input.peek(Ident::peek_any)
            && input.peek2(Token![=])
            && !input.peek2(Token![==])
            && !input.peek2(Token![=>])
        {
            input.call(Ident::parse_any)?;
            input.parse::<Token![=]>()?;
        }
        // The longer of an expression and a type (`Layer<A, B>` is both `Layer < A` and a
        // type), each ending at `,` or the end.
        let remaining = |fork: &syn::parse::ParseBuffer| -> Option<usize> {
            if fork.is_empty() || fork.peek(Token![,]) {
                let rest: TokenStream = fork.parse().ok()?;
                Some(rest.into_iter().count())
            } else {
                None
            }
        };
        let expr = input.fork();
        let expr = expr
            .parse::<syn::Expr>()
            .ok()
            .and_then(|_| remaining(&expr));
        let ty = input.fork();
        let ty = ty.parse::<syn::Type>().ok().and_then(|_| remaining(&ty));
        let rest = match (expr, ty) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => return Err(input.error("not an expression")),
        };
        let _: TokenStream = input.parse()?;
        Ok(total - rest)
    };
    parser.parse2(trees.iter().cloned().collect()).ok()
}

/// Parses one entry. Doc comments before it are allowed (and ignored); other attributes
/// are an error.
pub fn parse_entry(tokens: TokenStream) -> syn::Result<Entry> {
    parse_documented_entry(tokens).map(|(_, entry)| entry)
}

/// The doc comments (`#[doc = ".."]`) before an entry, and the entry; any other attribute
/// there is an error.
pub fn take_docs(tokens: TokenStream) -> syn::Result<(Vec<syn::Attribute>, TokenStream)> {
    (|input: ParseStream| {
        let attrs = input.call(parse_docs)?;
        Ok((attrs, input.parse()?))
    })
    .parse2(tokens)
}

fn parse_docs(input: ParseStream) -> syn::Result<Vec<syn::Attribute>> {
    let attrs = input.call(syn::Attribute::parse_outer)?;
    for attr in &attrs {
        if !attr.path().is_ident("doc") {
            return Err(syn::Error::new_spanned(
                attr,
                "only doc comments can be written before a DSL entry",
            ));
        }
    }
    Ok(attrs)
}

/// Parses one entry and the doc comments (`#[doc = ".."]`) written before it.
pub fn parse_documented_entry(tokens: TokenStream) -> syn::Result<(Vec<syn::Attribute>, Entry)> {
    (|input: ParseStream| {
        let attrs = input.call(parse_docs)?;
        let name = input.call(Ident::parse_any)?;
        if input.is_empty() {
            return Ok((attrs, Entry::Flag(name)));
        }
        if input.peek(Token![=]) && !input.peek(Token![==]) {
            input.parse::<Token![=]>()?;
            let value: TokenStream = input.parse()?;
            if value.is_empty() {
                return Err(syn::Error::new(
                    name.span(),
                    format!("`{name} =` needs a value"),
                ));
            }
            return Ok((attrs, Entry::KeyValue(name, value)));
        }
        if input.peek(syn::token::Paren) {
            let content;
            syn::parenthesized!(content in input);
            let args: TokenStream = content.parse()?;
            if !input.is_empty() {
                return Err(input.error("unexpected tokens after `)`; separate entries with `,`"));
            }
            return Ok((attrs, Entry::Call(name, args)));
        }
        Err(input.error(format!("expected `,`, `= value` or `(...)` after `{name}`")))
    })
    .parse2(tokens)
}

/// Parses every entry of a list, reporting malformed ones to `cx`.
pub fn parse_entries(cx: &crate::ctxt::Ctxt, tokens: TokenStream) -> Vec<Entry> {
    split_commas(tokens)
        .into_iter()
        .filter_map(|t| match parse_entry(t) {
            Ok(e) => Some(e),
            Err(e) => {
                cx.syn_error(e);
                None
            }
        })
        .collect()
}

/// A name the DSL refers to (an attribute, argument or action), keywords too (`type`), in
/// the canonical form of [`crate::name::canonical`].
pub fn parse_name(input: ParseStream) -> syn::Result<Ident> {
    let ident = input.call(Ident::parse_any)?;
    Ok(crate::name::canonical(&ident))
}

/// `tokens` as exactly one name.
pub fn name(tokens: TokenStream) -> syn::Result<Ident> {
    parse_name.parse2(tokens)
}

/// `[a, b, c]` or a single `a`: a list of names.
pub fn parse_ident_list(value: TokenStream) -> syn::Result<Vec<Ident>> {
    let mut iter = value.clone().into_iter();
    match (iter.next(), iter.next()) {
        (Some(TokenTree::Group(g)), None) if g.delimiter() == Delimiter::Bracket => {
            let parser = |input: ParseStream| {
                syn::punctuated::Punctuated::<Ident, Token![,]>::parse_terminated_with(
                    input, parse_name,
                )
            };
            Ok(parser.parse2(g.stream())?.into_iter().collect())
        }
        (Some(TokenTree::Ident(i)), None) => Ok(vec![crate::name::canonical(&i)]),
        _ => Err(syn::Error::new_spanned(
            value,
            "expected a list of names, like `[state, county]`",
        )),
    }
}

/// `true` or `false`.
pub fn parse_bool(value: TokenStream) -> syn::Result<bool> {
    match syn::parse2::<syn::LitBool>(value.clone()) {
        Ok(lit) => Ok(lit.value),
        Err(_) => Err(syn::Error::new_spanned(value, "expected `true` or `false`")),
    }
}

/// The span of a token stream's first token, or the call site.
pub fn first_span(tokens: &TokenStream) -> Span {
    tokens
        .clone()
        .into_iter()
        .next()
        .map(|t| t.span())
        .unwrap_or_else(Span::call_site)
}

/// Parses anything `Parse` from a token stream.
pub fn parse<T: Parse>(tokens: TokenStream) -> syn::Result<T> {
    syn::parse2(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn split(tokens: TokenStream) -> Vec<String> {
        split_commas(tokens)
            .into_iter()
            .map(|t| t.to_string())
            .collect()
    }

    #[test]
    fn commas_inside_expressions_stay() {
        assert_eq!(
            split(quote!(default = pick::<i64, u8>(3, 4), writable = false)),
            ["default = pick :: < i64 , u8 > (3 , 4)", "writable = false"]
        );
        assert_eq!(
            split(quote!(change = |a: Changeset<'_, Post>, b| a, x)),
            ["change = | a : Changeset < '_ , Post > , b | a", "x"]
        );
        assert_eq!(split(quote!(default = a < b, c)), ["default = a < b", "c"]);
        assert_eq!(
            split(quote!(data_layer = Layer<A, B>, domain = D)),
            ["data_layer = Layer < A , B >", "domain = D"]
        );
        // Not an expression: split at the comma, the entry's parser reports it.
        assert_eq!(split(quote!(a = < b, c)), ["a = < b", "c"]);
        assert_eq!(split(quote!(,, read,)), ["read"]);
    }
}
